//! Native payloads: machine code that package managers bring into an image beside its
//! programs, and which architectures it is built for. Pure functions over bytes and
//! names; the caller reads the files (a few bytes of each: the ELF header is 20).
//!
//! - Python ([`python`]): extension modules (`_x.cpython-311-x86_64-linux-gnu.so`,
//!   `_x.abi3.so`, `_x.so`), whose ELF header decides; wheel tags from a
//!   `*.dist-info/WHEEL` file (`Tag: cp311-cp311-manylinux_2_17_aarch64`); `.whl`
//!   archives (their tags and the extension modules inside).
//! - Node ([`node_addon`]): `*.node` addons, ELF shared objects.
//! - Java ([`java`]): the JNI libraries (`.so` entries) inside a jar, and inside the jars
//!   it nests (Spring Boot's `BOOT-INF/lib/`, a war's `WEB-INF/lib/`).
//!
//! Every answer is a [`Payload`]: where it is, what it is, and what it is [`Built`] for,
//! each claim with its [`Evidence`] (an ELF header, a wheel tag, or a path when the
//! bytes are not ELF), ready to become a finding of the check. Zip archives are read
//! from memory, bounded, by `archive`.

mod archive;
pub mod java;
pub mod python;

pub use archive::ArchiveError;
pub use java::{jar, Jar};
pub use python::{python_extension, wheel_archive, wheel_tags, ExtensionName, Wheel};

use archway_arch::{Arch, Header};

/// What kind of payload a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A Python extension module (a shared object Python imports).
    PythonExtension(ExtensionName),
    /// The tags of a Python wheel (installed `*.dist-info/WHEEL`, or a `.whl` file's).
    PythonWheel,
    /// A Node.js addon (`*.node`).
    NodeAddon,
    /// A JNI library inside a jar.
    JavaNativeLibrary,
}

/// The machine a payload's code is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An architecture of archway's table.
    Arch(&'static Arch),
    /// No machine code: pure Python (an `any` wheel), at home on every architecture.
    AnyArch,
    /// A machine the table does not know, as the evidence names it (`ELF machine 2`,
    /// `sparc64`, `universal`).
    Unknown(String),
}

/// The operating system a payload is for, when something says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Os {
    /// Linux: a `manylinux`/`musllinux`/`linux` wheel tag, ELF OS ABI GNU/Linux, a
    /// `linux` directory in a jar.
    Linux,
    /// Nothing says (ELF OS ABI `SYSV`, the usual value on Linux; `any` wheels).
    Unstated,
    /// Another system, as named: `FreeBSD`, `macosx_11_0_arm64`, `Windows`. Such code
    /// runs on no Linux image.
    Other(String),
}

/// Where a claim about a payload's machine comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// The ELF header: `e_machine` (with class and byte order) and `EI_OSABI`.
    ElfHeader { machine: u16, os_abi: u8 },
    /// A wheel tag's platform part (`manylinux_2_17_aarch64`).
    WheelTag(String),
    /// Only a path component names it (`linux-x86_64`): the bytes are not ELF.
    PathName(String),
}

/// One machine and system a payload is built for, and what says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub target: Target,
    pub os: Os,
    pub evidence: Evidence,
}

impl Built {
    /// Whether this code runs on Linux on `arch`: built for `arch` (or for any
    /// architecture) and not for another system.
    pub fn runs_on_linux(&self, arch: &Arch) -> bool {
        let machine = match self.target {
            Target::Arch(built) => built == arch,
            Target::AnyArch => true,
            Target::Unknown(_) => false,
        };
        machine && !matches!(self.os, Os::Other(_))
    }

    /// What an ELF header says.
    fn from_elf_header(header: &Header) -> Built {
        let target = match header.arch() {
            Some(arch) => Target::Arch(arch),
            None => Target::Unknown(format!("ELF machine {}", header.machine)),
        };
        Built {
            target,
            os: os_of_elf_abi(header.os_abi),
            evidence: Evidence::ElfHeader { machine: header.machine, os_abi: header.os_abi },
        }
    }
}

/// A native payload: where it is, what it is, and what it is built for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The file's path as the caller named it, or `ARCHIVE!/ENTRY` inside an archive.
    pub path: String,
    pub kind: Kind,
    /// Every machine it is built for (one for an ELF file; one per platform tag for a
    /// wheel). Empty when nothing could be read: see `problem`.
    pub built_for: Vec<Built>,
    /// What was wrong with its bytes (not ELF, truncated), when something was.
    pub problem: Option<String>,
}

impl Payload {
    /// The architectures whose Linux it runs on, in the table's order, each once. An
    /// `any` wheel names none: see [`Payload::is_pure`].
    pub fn linux_architectures(&self) -> Vec<&'static Arch> {
        linux_architectures(&self.built_for)
    }

    /// Whether it carries no machine code at all (a pure Python wheel).
    pub fn is_pure(&self) -> bool {
        self.built_for.iter().any(|b| b.target == Target::AnyArch)
    }

    /// Whether it runs on Linux on `arch`.
    pub fn runs_on_linux(&self, arch: &Arch) -> bool {
        self.built_for.iter().any(|b| b.runs_on_linux(arch))
    }

    /// A payload whose machine its first bytes (`prefix`, at least the 20 of the ELF
    /// header) tell.
    fn from_elf_prefix(path: &str, kind: Kind, prefix: &[u8]) -> Payload {
        match Header::parse(prefix) {
            Ok(header) => Payload {
                path: path.to_string(),
                kind,
                built_for: vec![Built::from_elf_header(&header)],
                problem: None,
            },
            Err(error) => {
                Payload { path: path.to_string(), kind, built_for: Vec::new(), problem: Some(error.to_string()) }
            }
        }
    }
}

/// The Linux architectures of `built`, in the table's order, each once.
fn linux_architectures<'a>(built: impl IntoIterator<Item = &'a Built>) -> Vec<&'static Arch> {
    let built: Vec<&Built> = built.into_iter().filter(|b| matches!(b.target, Target::Arch(_))).collect();
    archway_arch::ARCHES.iter().filter(|arch| built.iter().any(|b| b.runs_on_linux(arch))).collect()
}

/// A Node.js addon: `path` ends in `.node`, `prefix` is the file's first bytes. `None`
/// for any other name.
pub fn node_addon(path: &str, prefix: &[u8]) -> Option<Payload> {
    path.ends_with(".node").then(|| Payload::from_elf_prefix(path, Kind::NodeAddon, prefix))
}

/// The system an ELF header's `EI_OSABI` names.
fn os_of_elf_abi(os_abi: u8) -> Os {
    const NAMED: [(u8, &str); 7] = [
        (1, "HP-UX"),
        (2, "NetBSD"),
        (6, "Solaris"),
        (7, "AIX"),
        (9, "FreeBSD"),
        (12, "OpenBSD"),
        (97, "ARM standalone"),
    ];
    match os_abi {
        0 => Os::Unstated,
        3 => Os::Linux,
        other => Os::Other(match NAMED.iter().find(|(value, _)| *value == other) {
            Some((_, name)) => (*name).to_string(),
            None => format!("ELF OS ABI {other}"),
        }),
    }
}

#[cfg(test)]
mod tests;
