//! The source layout's rules that a compiler does not check: every module file is named
//! in its parent's doc comment (`//!`), so a reader finds every module from the top of
//! its crate.

use archway_tests::workspace;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules `source` declares in files of their own (`mod name;`), but not `tests`.
fn declared_modules(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix("pub(crate) ").or_else(|| line.strip_prefix("pub ")).unwrap_or(line);
            let name = rest.strip_prefix("mod ")?.strip_suffix(';')?;
            (name != "tests").then_some(name)
        })
        .collect()
}

/// Whether `doc` mentions `name` as a word.
fn mentions(doc: &str, name: &str) -> bool {
    doc.match_indices(name).any(|(at, _)| {
        let before = doc[..at].chars().next_back();
        let after = doc[at + name.len()..].chars().next();
        let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !is_word(before) && !is_word(after)
    })
}

#[test]
fn every_module_is_named_in_its_parents_doc() {
    let root = workspace();
    let mut files = Vec::new();
    for dir in ["crates", "tests/src", "benches/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut missing = Vec::new();
    for file in files.iter().filter(|f| f.components().any(|c| c.as_os_str() == "src")) {
        let source = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let doc: String =
            source.lines().filter_map(|l| l.trim_start().strip_prefix("//!")).collect::<Vec<_>>().join("\n");
        for name in declared_modules(&source) {
            if !mentions(&doc, name) {
                missing.push(format!("{}: `{name}`", file.strip_prefix(&root).unwrap_or(file).display()));
            }
        }
    }
    assert!(files.len() > 100, "the workspace's sources were found");
    assert!(missing.is_empty(), "modules not named in their parent's `//!` doc:\n{}", missing.join("\n"));
}

#[test]
fn the_checks_read_what_they_claim() {
    assert_eq!(declared_modules("pub mod a;\nmod b;\npub(crate) mod c;\nmod tests;\nmod d {\n"), ["a", "b", "c"]);
    assert!(mentions("see [`fault_map`] and", "fault_map"));
    assert!(!mentions("the fault_mapper", "fault_map"));
}
