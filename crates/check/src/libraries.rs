//! Where the dynamic loader of the image would find a needed library, worked out from
//! the image's own files only, in the loader's order:
//!
//! - glibc (`ld.so`): `DT_RPATH` of the object (only when it has no `DT_RUNPATH`),
//!   `LD_LIBRARY_PATH`, `DT_RUNPATH`, the directories of `/etc/ld.so.conf` and the files
//!   it includes (what `ldconfig` puts in the cache), then the default directories: the
//!   multiarch ones (`/lib/<triplet>`, `/usr/lib/<triplet>`), `/lib64` and `/usr/lib64`
//!   for 64-bit objects, `/lib` and `/usr/lib`. `$ORIGIN` is the object's directory.
//! - musl (`ld-musl-*.so.1`): `LD_LIBRARY_PATH`, then `/etc/ld-musl-<arch>.path` (or
//!   `/lib:/usr/local/lib:/usr/lib` without it).
//!
//! A candidate of another class or machine is skipped, as the loader skips it; if no
//! candidate fits but one of another architecture exists, that is what the check
//! reports.

use crate::facts::FileFacts;
use archway_arch::elf::{Elf, Header};
use archway_arch::Arch;
use archway_image::tree::{parent, NodeKind, Tree};

/// Where a needed library was looked for and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The library that fits, at this path (symlinks resolved).
    Fits(String),
    /// Only files of another architecture (path, its architecture name).
    Foreign(String, String),
    Missing,
}

/// The search path of one image for one loader.
#[derive(Debug, Clone)]
pub struct SearchPath {
    /// `LD_LIBRARY_PATH` from the image's environment.
    env: Vec<String>,
    /// The cache's and the default directories, in order.
    system: Vec<String>,
    musl: bool,
}

impl SearchPath {
    /// The search path of an image whose programs use `loader` on `arch`, with the
    /// environment `env` (`KEY=value` strings).
    pub fn new(tree: &Tree<FileFacts>, arch: &Arch, loader: Option<&str>, env: &[String]) -> SearchPath {
        let env_dirs = env
            .iter()
            .find_map(|e| e.strip_prefix("LD_LIBRARY_PATH="))
            .map(|v| v.split([':', ';']).filter(|d| !d.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        let musl = loader.is_some_and(|l| l.contains("ld-musl-"));
        let system = if musl { musl_dirs(tree, loader.unwrap_or_default()) } else { glibc_dirs(tree, arch) };
        SearchPath { env: env_dirs, system, musl }
    }

    /// Look for `name` (a `DT_NEEDED` entry) needed by `object` at `object_path`.
    pub fn find(&self, tree: &Tree<FileFacts>, name: &str, object: &Elf, object_path: &str) -> Found {
        if name.contains('/') {
            return judge(tree, &[name.to_string()], &object.header);
        }
        let origin = format!("/{}", parent(object_path));
        let expand = |dirs: &[String]| -> Vec<String> {
            dirs.iter().map(|d| d.replace("${ORIGIN}", &origin).replace("$ORIGIN", &origin)).collect()
        };
        let mut dirs = Vec::new();
        if !self.musl && object.runpath.is_empty() {
            dirs.extend(expand(&object.rpath));
        }
        dirs.extend(self.env.iter().cloned());
        if !self.musl {
            dirs.extend(expand(&object.runpath));
        }
        dirs.extend(self.system.iter().cloned());
        let candidates: Vec<String> = dirs.iter().map(|d| format!("{}/{name}", d.trim_end_matches('/'))).collect();
        judge(tree, &candidates, &object.header)
    }
}

/// The first candidate that exists and fits `wanted`'s class and machine.
fn judge(tree: &Tree<FileFacts>, candidates: &[String], wanted: &Header) -> Found {
    let mut foreign = None;
    for candidate in candidates {
        let Ok((path, node)) = tree.resolve(candidate) else { continue };
        let NodeKind::File(facts) = &node.kind else { continue };
        let Some(header) = facts.elf_header() else { continue };
        if header.machine == wanted.machine && header.class == wanted.class && header.byte_order == wanted.byte_order {
            return Found::Fits(path);
        }
        foreign.get_or_insert_with(|| {
            (path, header.arch().map_or_else(|| format!("machine {}", header.machine), |a| a.platform.to_string()))
        });
    }
    match foreign {
        Some((path, arch)) => Found::Foreign(path, arch),
        None => Found::Missing,
    }
}

/// The text of a kept file, if the tree has it.
fn text<'a>(tree: &'a Tree<FileFacts>, path: &str) -> Option<&'a [u8]> {
    match tree.resolve(path).ok().map(|(_, n)| &n.kind) {
        Some(NodeKind::File(FileFacts::Text(bytes))) => Some(bytes),
        _ => None,
    }
}

/// glibc's directories: ld.so.conf (with includes), then the defaults.
fn glibc_dirs(tree: &Tree<FileFacts>, arch: &Arch) -> Vec<String> {
    let mut dirs = Vec::new();
    ld_so_conf(tree, "/etc/ld.so.conf", 0, &mut dirs);
    let triplet = arch.multiarch;
    dirs.extend([format!("/lib/{triplet}"), format!("/usr/lib/{triplet}")]);
    if arch.class == archway_arch::table::Class::Elf64 {
        dirs.extend(["/lib64".to_string(), "/usr/lib64".to_string()]);
    }
    dirs.extend(["/lib".to_string(), "/usr/lib".to_string()]);
    dirs
}

/// The directories of one ld.so.conf file, following `include` lines (depth-limited).
fn ld_so_conf(tree: &Tree<FileFacts>, path: &str, depth: usize, dirs: &mut Vec<String>) {
    let Some(bytes) = text(tree, path) else { return };
    if depth > 8 {
        return;
    }
    for line in String::from_utf8_lossy(bytes).lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(pattern) = line.strip_prefix("include") {
            for pattern in pattern.split_whitespace() {
                let pattern = if pattern.starts_with('/') {
                    pattern.to_string()
                } else {
                    format!("{}/{pattern}", parent_of(path))
                };
                for included in glob(tree, &pattern) {
                    ld_so_conf(tree, &included, depth + 1, dirs);
                }
            }
        } else if !line.is_empty() && !line.starts_with("hwcap") {
            dirs.extend(line.split([' ', '\t', ':', ',']).filter(|d| d.starts_with('/')).map(str::to_string));
        }
    }
}

fn parent_of(path: &str) -> String {
    format!("/{}", parent(path.trim_start_matches('/')))
}

/// The files matching `pattern` whose last component may hold `*` and `?`, sorted.
fn glob(tree: &Tree<FileFacts>, pattern: &str) -> Vec<String> {
    let (dir, name) = pattern.rsplit_once('/').unwrap_or(("", pattern));
    let Ok((dir_path, _)) = tree.resolve(if dir.is_empty() { "/" } else { dir }) else { return Vec::new() };
    let mut out: Vec<String> = tree
        .children(&dir_path)
        .filter(|(p, _)| fnmatch(name, p.rsplit('/').next().unwrap_or(p)))
        .map(|(p, _)| format!("/{p}"))
        .collect();
    out.sort();
    out
}

/// Shell-style matching of `*` and `?`.
fn fnmatch(pattern: &str, name: &str) -> bool {
    match (pattern.as_bytes().first(), name.as_bytes().first()) {
        (None, None) => true,
        (Some(b'*'), _) => fnmatch(&pattern[1..], name) || (!name.is_empty() && fnmatch(pattern, &name[1..])),
        (Some(b'?'), Some(_)) => fnmatch(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => fnmatch(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// musl's directories: `/etc/ld-musl-<arch>.path` or its default.
fn musl_dirs(tree: &Tree<FileFacts>, loader: &str) -> Vec<String> {
    let name = loader.rsplit('/').next().unwrap_or_default();
    let arch = name.strip_prefix("ld-musl-").and_then(|n| n.strip_suffix(".so.1")).unwrap_or_default();
    match text(tree, &format!("/etc/ld-musl-{arch}.path")) {
        Some(bytes) => String::from_utf8_lossy(bytes)
            .split(['\n', ':'])
            .map(str::trim)
            .filter(|d| d.starts_with('/'))
            .map(str::to_string)
            .collect(),
        None => vec!["/lib".into(), "/usr/local/lib".into(), "/usr/lib".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_patterns() {
        assert!(fnmatch("*.conf", "libc.conf"));
        assert!(fnmatch("x86_64-linux-gnu.conf", "x86_64-linux-gnu.conf"));
        assert!(!fnmatch("*.conf", "libc.conf.bak"));
        assert!(fnmatch("lib?.so", "libz.so"));
        assert!(fnmatch("*", ""));
    }
}
