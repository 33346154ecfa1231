//! Java's native payloads: the JNI libraries a jar carries, by the architectures they
//! are built for.
//!
//! Libraries that bundle native code put one `.so` per platform somewhere in the jar,
//! each project its own way: `META-INF/native/linux-x86_64/libnetty_transport_native_epoll.so`,
//! `org/sqlite/native/Linux/aarch64/libsqlitejdbc.so`, `com/sun/jna/linux-x86-64/libjnidispatch.so`,
//! `lib/x86_64/libfoo.so`. The path is only a claim: each entry's ELF header decides
//! its machine (and `EI_OSABI` its system: FreeBSD libraries say so). The path speaks
//! only when the bytes are not ELF, and the [`Evidence::PathName`] and the payload's
//! `problem` then say so. The path also names the system when the header does not
//! (`Linux-Android`, `Mac`, `Windows`, `FreeBSD` directories): such libraries are listed
//! but serve no Linux image.
//!
//! Jars nested in the jar (`BOOT-INF/lib/*.jar` of a Spring Boot application,
//! `WEB-INF/lib/*.jar` of a war) are read too, two levels deep, each up to
//! [`NESTED_JAR_LIMIT`] bytes; their libraries' paths read `OUTER!/INNER.jar!/ENTRY`.

use super::archive::{Archive, ArchiveError};
use super::{linux_architectures, Built, Evidence, Kind, Os, Payload, Target};
use archway_arch::elf::HEADER_PREFIX;
use archway_arch::{Arch, Header};

/// Largest nested jar read (it is held in memory while read).
pub const NESTED_JAR_LIMIT: u64 = 64 * 1024 * 1024;

/// How many levels of jars inside jars are read.
const NESTING_DEPTH: usize = 2;

/// The native libraries of one jar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jar {
    /// The jar's path as the caller named it.
    pub path: String,
    /// Every `.so` entry, in the jar and in the jars it nests.
    pub libraries: Vec<Payload>,
    /// Entries that could not be read (corrupt, or a nested jar too large or not a zip).
    pub problems: Vec<ArchiveError>,
}

impl Jar {
    /// The architectures whose Linux its libraries serve, in the table's order.
    pub fn linux_architectures(&self) -> Vec<&'static Arch> {
        linux_architectures(self.libraries.iter().flat_map(|library| &library.built_for))
    }

    /// Whether it runs on Linux on `arch`: it carries no library for Linux (pure Java,
    /// as far as native code goes), or one for `arch`. A jar with both arm64 and amd64
    /// libraries serves both.
    pub fn runs_on_linux(&self, arch: &Arch) -> bool {
        let linux = self.linux_architectures();
        linux.is_empty() || linux.contains(&arch)
    }
}

/// Read a jar's native libraries. `Err` only when the jar itself is not a readable zip;
/// a bad entry or nested jar is one of [`Jar::problems`].
pub fn jar(path: &str, bytes: &[u8]) -> Result<Jar, ArchiveError> {
    let mut jar = Jar { path: path.to_string(), libraries: Vec::new(), problems: Vec::new() };
    read_jar(path, bytes, NESTING_DEPTH, &mut jar)?;
    Ok(jar)
}

/// Add the libraries of the jar `bytes` (named `path`) to `jar`, and those of the jars
/// it nests while `depth` allows.
fn read_jar(path: &str, bytes: &[u8], depth: usize, jar: &mut Jar) -> Result<(), ArchiveError> {
    let mut archive = Archive::open(bytes)?;
    for (index, name) in archive.files() {
        let inner = format!("{path}!/{name}");
        if is_shared_library(&name) {
            match archive.prefix(index, HEADER_PREFIX) {
                Ok(prefix) => jar.libraries.push(library(&inner, &name, &prefix)),
                Err(e) => jar.problems.push(e),
            }
        } else if depth > 0 && (name.ends_with(".jar") || name.ends_with(".war")) {
            let nested =
                archive.whole(index, NESTED_JAR_LIMIT).and_then(|bytes| read_jar(&inner, &bytes, depth - 1, jar));
            if let Err(e) = nested {
                jar.problems.push(ArchiveError { message: format!("{inner}: {e}") });
            }
        }
    }
    Ok(())
}

/// `libfoo.so`, `libfoo.so.1.2`.
fn is_shared_library(entry: &str) -> bool {
    let name = entry.rsplit('/').next().unwrap_or(entry);
    let Some((stem, version)) = name.split_once(".so") else { return false };
    let version_number = |v: &str| v.split('.').all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    !stem.is_empty() && (version.is_empty() || version.strip_prefix('.').is_some_and(version_number))
}

/// One library entry: its ELF header, else what its path names.
fn library(path: &str, entry: &str, prefix: &[u8]) -> Payload {
    let path_os = os_named_in_path(entry);
    let (built_for, problem) = match Header::parse(prefix) {
        Ok(header) => {
            let mut built = Built::from_elf_header(&header);
            if built.os == Os::Unstated {
                built.os = path_os.unwrap_or(Os::Unstated);
            }
            (vec![built], None)
        }
        Err(error) => match arch_named_in_path(entry) {
            Some((arch, component)) => {
                let os = path_os.unwrap_or(Os::Unstated);
                let built = Built { target: Target::Arch(arch), os, evidence: Evidence::PathName(component) };
                (vec![built], Some(format!("{error}: the architecture is the one its path names")))
            }
            None => (Vec::new(), Some(error.to_string())),
        },
    };
    Payload { path: path.to_string(), kind: Kind::JavaNativeLibrary, built_for, problem }
}

/// Systems other than Linux that jar directories name, by a lower-case word of the
/// directory (`Linux-Android` -> `android`, `darwin-aarch64` -> `darwin`).
const OTHER_SYSTEMS: [(&str, &str); 16] = [
    ("android", "Android"),
    ("freebsd", "FreeBSD"),
    ("openbsd", "OpenBSD"),
    ("netbsd", "NetBSD"),
    ("dragonfly", "DragonFly BSD"),
    ("mac", "macOS"),
    ("macos", "macOS"),
    ("osx", "macOS"),
    ("darwin", "macOS"),
    ("windows", "Windows"),
    ("win", "Windows"),
    ("win32", "Windows"),
    ("win64", "Windows"),
    ("sunos", "Solaris"),
    ("solaris", "Solaris"),
    ("aix", "AIX"),
];

/// The directories of a jar entry, deepest first.
fn directories(entry: &str) -> impl Iterator<Item = &str> {
    let mut parts: Vec<&str> = entry.split('/').collect();
    parts.pop();
    parts.into_iter().rev().filter(|part| !part.is_empty())
}

/// The system the deepest directory that names one names.
fn os_named_in_path(entry: &str) -> Option<Os> {
    directories(entry).find_map(|directory| {
        let lower = directory.to_ascii_lowercase();
        let words: Vec<&str> = lower.split(['-', '_', '.']).collect();
        let other = OTHER_SYSTEMS.iter().find(|(word, _)| words.contains(word));
        match other {
            Some((_, system)) => Some(Os::Other(system.to_string())),
            None => words.contains(&"linux").then_some(Os::Linux),
        }
    })
}

/// The architecture the deepest directory that names one names, and that directory:
/// the whole name (`x86_64`, `aarch64`), or a part of it split at `-` or `_`: the
/// longest after a separator first (`linux-x86-64`, `linux_aarch64`), then the longest
/// before one (`x86_64-linux-gnu`).
fn arch_named_in_path(entry: &str) -> Option<(&'static Arch, String)> {
    directories(entry).find_map(|directory| {
        let separators: Vec<usize> =
            directory.char_indices().filter(|&(_, c)| c == '-' || c == '_').map(|(at, _)| at).collect();
        let tails = separators.iter().map(|&at| &directory[at + 1..]);
        let heads = separators.iter().rev().map(|&at| &directory[..at]);
        std::iter::once(directory)
            .chain(tails)
            .chain(heads)
            .find_map(Arch::find)
            .map(|arch| (arch, directory.to_string()))
    })
}
