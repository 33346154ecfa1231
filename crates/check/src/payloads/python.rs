//! Python's native payloads: extension modules and wheels.
//!
//! An extension module's name may carry a tag (PEP 3149): `_x.cpython-311-x86_64-linux-gnu.so`
//! (CPython 3.11 on x86_64 glibc), `_x.pypy39-pp73-aarch64-linux-gnu.so`, `_x.abi3.so`
//! (the stable ABI, any architecture by name), or none (`_x.so`). The name is only a
//! claim: the ELF header decides, and [`ExtensionName::named_arch`] lets a caller see
//! when the two disagree.
//!
//! A wheel's `*.dist-info/WHEEL` file lists its tags (PEP 425), one `Tag:` line each,
//! `python-abi-platform`, where each part may join several values with `.`
//! (`cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64`). The platform part says
//! the system and machine: `any` is pure Python; `manylinux*`, `musllinux*` and `linux_*`
//! are Linux on the architecture at their end (`x86_64`, `aarch64`, `i686`, `armv7l`,
//! `ppc64le`, `s390x`, `riscv64`); `macosx_*`, `win_*`, `ios_*`... are other systems
//! (`universal2` is macOS's arm64 + x86_64).

use super::archive::{Archive, ArchiveError};
use super::{Built, Evidence, Kind, Os, Payload, Target};
use archway_arch::elf::HEADER_PREFIX;
use archway_arch::Arch;

/// What an extension module's file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionName {
    /// The module (`_sqlite3` of `_sqlite3.cpython-311-x86_64-linux-gnu.so`).
    pub module: String,
    /// The tag between the module and `.so` (`cpython-311-x86_64-linux-gnu`, `abi3`).
    pub tag: Option<String>,
    /// The architecture the tag's platform triplet names, if it names one.
    pub named_arch: Option<&'static Arch>,
}

/// GNU triplets' machine names that archway's table spells otherwise.
const GNU_MACHINES: [(&str, &str); 4] =
    [("powerpc64le", "ppc64le"), ("powerpc64", "ppc64"), ("mips64el", "mips64le"), ("mipsel", "mipsle")];

impl ExtensionName {
    /// Read a file name (`_x.cpython-311-x86_64-linux-gnu.so`); `None` unless it ends
    /// in `.so`. Any path before the name is ignored.
    pub fn parse(file_name: &str) -> Option<ExtensionName> {
        let name = file_name.rsplit('/').next().unwrap_or(file_name);
        let stem = name.strip_suffix(".so").filter(|stem| !stem.is_empty())?;
        let Some((module, tag)) = stem.rsplit_once('.') else {
            return Some(ExtensionName { module: stem.to_string(), tag: None, named_arch: None });
        };
        // `IMPLEMENTATION-VERSION-TRIPLET`: the triplet starts after the second `-`.
        let named_arch = tag.splitn(3, '-').nth(2).and_then(|triplet| triplet.split('-').next()).and_then(|machine| {
            let machine = GNU_MACHINES.iter().find(|(gnu, _)| *gnu == machine).map_or(machine, |(_, ours)| ours);
            Arch::find(machine)
        });
        Some(ExtensionName { module: module.to_string(), tag: Some(tag.to_string()), named_arch })
    }
}

/// A Python extension module: `path` ends in `.so`, `prefix` is the file's first bytes
/// (at least the 20 of the ELF header). `None` for any other name. The caller knows
/// the file lies where Python imports from (`site-packages`, `lib-dynload`...).
pub fn python_extension(path: &str, prefix: &[u8]) -> Option<Payload> {
    let name = ExtensionName::parse(path)?;
    Some(Payload::from_elf_prefix(path, Kind::PythonExtension(name), prefix))
}

/// The tags of a wheel from its `WHEEL` file's text (`path` names the file). Every
/// platform tag becomes one [`Built`]; `problem` says when the text has no tag.
pub fn wheel_tags(path: &str, text: &str) -> Payload {
    let mut built_for: Vec<Built> = Vec::new();
    let tags = text.lines().filter_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case("Tag").then(|| value.trim())
    });
    for tag in tags {
        // `python-abi-platform`; a malformed tag counts as its last part.
        let platforms = tag.rsplit('-').next().unwrap_or(tag);
        for platform in platforms.split('.').filter(|p| !p.is_empty()) {
            for built in platform_tag(platform) {
                if !built_for.contains(&built) {
                    built_for.push(built);
                }
            }
        }
    }
    let problem = built_for.is_empty().then(|| "no Tag: line".to_string());
    Payload { path: path.to_string(), kind: Kind::PythonWheel, built_for, problem }
}

/// What one platform tag (`manylinux_2_17_aarch64`) says.
fn platform_tag(platform: &str) -> Vec<Built> {
    let evidence = Evidence::WheelTag(platform.to_string());
    let built = |target, os| Built { target, os, evidence: evidence.clone() };
    if platform == "any" {
        return vec![built(Target::AnyArch, Os::Unstated)];
    }
    let linux = ["manylinux", "musllinux", "linux_"].iter().any(|prefix| platform.starts_with(prefix));
    let os = if linux { Os::Linux } else { Os::Other(platform.to_string()) };
    // The machine is the shortest `_`-separated tail that names an architecture
    // (`x86_64`, not `64`), else the last part (`universal2`).
    let machine = platform.char_indices().filter(|&(_, c)| c == '_').map(|(at, _)| &platform[at + 1..]).rev();
    let named = machine.clone().find_map(Arch::find);
    if let Some(arch) = named {
        return vec![built(Target::Arch(arch), os)];
    }
    let last = machine.clone().next().unwrap_or(platform);
    let archs: &[&str] = match last {
        "universal2" => &["arm64", "amd64"],
        "universal" | "intel" => &["amd64", "386"],
        _ => &[],
    };
    if archs.is_empty() {
        return vec![built(Target::Unknown(last.to_string()), os)];
    }
    archs.iter().filter_map(|name| Arch::for_platform(name)).map(|arch| built(Target::Arch(arch), os.clone())).collect()
}

/// Largest `WHEEL` file read (they are a few hundred bytes).
const WHEEL_FILE_LIMIT: u64 = 64 * 1024;

/// A wheel archive (`.whl`): its tags and the extension modules it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wheel {
    /// The tags of its `*.dist-info/WHEEL`; `problem` set when it has none.
    pub tags: Payload,
    /// Its extension modules (`.so` entries), each judged by its ELF header.
    pub extensions: Vec<Payload>,
    /// Entries that could not be read.
    pub problems: Vec<ArchiveError>,
}

/// Read a wheel archive; `path` names it in the payloads' paths (`PATH!/ENTRY`).
pub fn wheel_archive(path: &str, bytes: &[u8]) -> Result<Wheel, ArchiveError> {
    let mut archive = Archive::open(bytes)?;
    let mut problems = Vec::new();
    let mut extensions = Vec::new();
    let mut tags = None;
    for (index, name) in archive.files() {
        let inner = format!("{path}!/{name}");
        let is_wheel_file =
            name.strip_suffix("/WHEEL").is_some_and(|dir| dir.ends_with(".dist-info") && !dir.contains('/'));
        if is_wheel_file {
            match archive.whole(index, WHEEL_FILE_LIMIT) {
                Ok(text) => tags = Some(wheel_tags(&inner, &String::from_utf8_lossy(&text))),
                Err(e) => problems.push(e),
            }
        } else if ExtensionName::parse(&name).is_some() {
            match archive.prefix(index, HEADER_PREFIX) {
                Ok(prefix) => extensions.extend(python_extension(&inner, &prefix)),
                Err(e) => problems.push(e),
            }
        }
    }
    let tags = tags.unwrap_or_else(|| Payload {
        path: path.to_string(),
        kind: Kind::PythonWheel,
        built_for: Vec::new(),
        problem: Some("no *.dist-info/WHEEL file".to_string()),
    });
    Ok(Wheel { tags, extensions, problems })
}
