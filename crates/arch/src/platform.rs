//! OCI platforms (`os/architecture[/variant]`), exactly as containerd reads and writes
//! them (containerd/platforms: `Parse`, `Normalize`, `Format`), so that `linux/arm64`,
//! `linux/aarch64` and `linux/arm64/v8` name the same images here as in docker, buildx
//! and nerdctl. The cases of `containerd-platform-cases.json` are the tests.
//!
//! - [`Platform::parse`] reads a specifier: one part is an OS (with the host's
//!   architecture) or else an architecture (with Linux); two parts are `os/arch`; three
//!   add the variant. It keeps an explicit `arm64` variant and makes `linux/arm64/8`
//!   `v8`; it drops `arm`'s implied `v7`. Parts must match `[A-Za-z0-9_.-]+`; wildcards
//!   are refused.
//! - [`Platform::normalize`] is what comparisons use: `aarch64` -> `arm64` with `v8`
//!   dropped, `x86_64`/`x86-64` -> `amd64` with `v1` dropped, `armhf` -> `arm/v7`,
//!   `armel` -> `arm/v6`, `arm` -> `arm/v7`, `i386` -> `386`, `macos` -> `darwin`.
//! - [`Platform::matches`]: equal after normalisation; a wanted platform without a
//!   variant accepts every variant.

use std::fmt;

/// An OCI platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    /// Empty when none.
    pub variant: String,
}

/// Why a platform specifier is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformError {
    pub specifier: String,
    pub reason: &'static str,
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {} (expected OS/ARCH[/VARIANT], e.g. linux/arm64)", self.specifier, self.reason)
    }
}

impl std::error::Error for PlatformError {}

/// Operating systems Go (and so containerd) knows.
const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];

/// Architectures Go (and so containerd) knows.
const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

/// containerd's `normalizeOS`.
fn normalize_os(os: &str) -> String {
    let os = os.to_ascii_lowercase();
    if os == "macos" {
        "darwin".to_string()
    } else {
        os
    }
}

/// containerd's `normalizeArch`: the architecture and variant as OCI writes them.
fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.to_ascii_lowercase();
    let owned = |a: &str, v: &str| (a.to_string(), v.to_string());
    match arch.as_str() {
        "i386" => owned("386", ""),
        "x86_64" | "x86-64" | "amd64" => owned("amd64", if variant == "v1" { "" } else { &variant }),
        "aarch64" | "arm64" => match variant.as_str() {
            "8" | "v8" | "v8.0" => owned("arm64", ""),
            "9" | "9.0" | "v9.0" => owned("arm64", "v9"),
            _ => owned("arm64", &variant),
        },
        "armhf" => owned("arm", "v7"),
        "armel" => owned("arm", "v6"),
        "arm" => match variant.as_str() {
            "" | "7" => owned("arm", "v7"),
            "5" | "6" | "8" => ("arm".to_string(), format!("v{variant}")),
            _ => owned("arm", &variant),
        },
        _ => (arch, variant),
    }
}

/// A specifier part: `^[A-Za-z0-9_.-]+$`.
fn valid_part(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl Platform {
    /// `linux/ARCH` with no variant.
    pub fn linux(architecture: &str) -> Platform {
        Platform { os: "linux".into(), architecture: architecture.into(), variant: String::new() }
    }

    /// The platform this program runs on (Linux on the host's architecture).
    pub fn host() -> Platform {
        Platform::linux(crate::Arch::host().platform)
    }

    /// containerd's `Parse`.
    pub fn parse(specifier: &str) -> Result<Platform, PlatformError> {
        let error = |reason| Err(PlatformError { specifier: specifier.to_string(), reason });
        if specifier.contains('*') {
            return error("wildcards are not allowed");
        }
        let parts: Vec<&str> = specifier.split('/').collect();
        if !parts.iter().all(|p| valid_part(p)) {
            return error("each part must be letters, digits, '_', '.' or '-'");
        }
        match parts[..] {
            [single] => {
                let os = normalize_os(single);
                if KNOWN_OS.contains(&os.as_str()) {
                    let host = Platform::host();
                    return Ok(Platform { os, ..host });
                }
                let (architecture, variant) = normalize_arch(single, "");
                let variant = if architecture == "arm" && variant == "v7" { String::new() } else { variant };
                if KNOWN_ARCH.contains(&architecture.as_str()) {
                    return Ok(Platform { os: "linux".into(), architecture, variant });
                }
                error("unknown operating system or architecture")
            }
            [os, arch] => {
                let (architecture, variant) = normalize_arch(arch, "");
                let variant = if architecture == "arm" && variant == "v7" { String::new() } else { variant };
                Ok(Platform { os: normalize_os(os), architecture, variant })
            }
            [os, arch, variant] => {
                let (architecture, mut variant) = normalize_arch(arch, variant);
                if architecture == "arm64" && variant.is_empty() {
                    variant = "v8".into();
                }
                Ok(Platform { os: normalize_os(os), architecture, variant })
            }
            _ => error("too many parts"),
        }
    }

    /// containerd's `Normalize`: the form comparisons use.
    pub fn normalize(&self) -> Platform {
        let (architecture, variant) = normalize_arch(&self.architecture, &self.variant);
        Platform { os: normalize_os(&self.os), architecture, variant }
    }

    /// Whether an image for `self` serves someone who asked for `wanted`: the same
    /// after normalisation, any variant when `wanted` names none.
    pub fn matches(&self, wanted: &Platform) -> bool {
        let (have, want) = (self.normalize(), wanted.normalize());
        have.os == want.os
            && have.architecture == want.architecture
            && (wanted.variant.is_empty() || have.variant == want.variant)
    }

    /// The architecture's row, if archway knows it.
    pub fn arch(&self) -> Option<&'static crate::Arch> {
        crate::Arch::for_platform(&self.normalize().architecture)
    }
}

/// containerd's `Format`: `os/arch[/variant]`.
impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Platform, PlatformError> {
        Platform::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalize_format() {
        let p = Platform::parse("linux/aarch64").unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
        assert_eq!(Platform::parse("linux/arm64/8").unwrap().to_string(), "linux/arm64/v8");
        assert_eq!(Platform::parse("linux/arm64/v8").unwrap().normalize().to_string(), "linux/arm64");
        assert_eq!(Platform::parse("armhf").unwrap().to_string(), "linux/arm");
        assert_eq!(Platform::parse("armhf").unwrap().normalize().to_string(), "linux/arm/v7");
        assert!(Platform::parse("linux/arm/foo/bar").is_err());
        assert!(Platform::parse("*/arm64").is_err());
    }

    #[test]
    fn matching_after_normalisation() {
        let arm64 = Platform::parse("linux/arm64").unwrap();
        assert!(Platform::parse("linux/arm64/v8").unwrap().matches(&arm64));
        assert!(Platform::parse("linux/aarch64").unwrap().matches(&arm64));
        assert!(arm64.matches(&Platform::parse("linux/arm64/v8").unwrap()));
        assert!(!Platform::parse("linux/amd64").unwrap().matches(&arm64));
        let v7 = Platform::parse("linux/arm/v7").unwrap();
        assert!(!Platform::parse("linux/arm/v6").unwrap().matches(&v7));
        assert!(Platform::parse("linux/arm/v6").unwrap().matches(&Platform::parse("linux/arm").unwrap()));
        assert_eq!(Platform::parse("linux/arm64").unwrap().arch().map(|a| a.kernel), Some("aarch64"));
    }
}
