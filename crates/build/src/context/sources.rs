//! A `COPY`/`ADD` source word resolved to files of a directory tree (the build context,
//! or another stage's root): the path taken relative to the tree's root, wildcards
//! expanded component by component, symbolic links on the way followed inside the tree
//! (an absolute target restarts at the tree's root, as in a chroot), and `.dockerignore`
//! applied. A path that climbs above the root with `..` is an error, not a silent
//! rewrite; so is a source that matches nothing.

use super::glob;
use super::ignore::{clean, Ignore};
use crate::confined::resolve_in_root;
use std::fmt;
use std::path::{Path, PathBuf};

/// One resolved source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as the tree names it (`/`-separated, relative, symbolic links of
    /// intermediate components resolved).
    pub relative: String,
    /// The path on disk.
    pub path: PathBuf,
}

/// Why a source cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextError {
    /// The word climbs out of the tree (`../x`).
    Outside(String),
    /// Symbolic links that never end (a loop).
    LinkLoop(String),
    /// Nothing matched.
    NotFound(String),
    /// A malformed wildcard.
    Pattern(String, String),
    /// The `.dockerignore` does not parse.
    Ignore(PathBuf, String),
    Io(PathBuf, String),
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextError::Outside(word) => write!(f, "{word}: forbidden path outside the build context"),
            ContextError::LinkLoop(word) => write!(f, "{word}: too many levels of symbolic links"),
            ContextError::NotFound(word) => write!(f, "{word}: not found"),
            ContextError::Pattern(word, why) => write!(f, "{word}: {why}"),
            ContextError::Ignore(path, why) => write!(f, "{}: {why}", path.display()),
            ContextError::Io(path, why) => write!(f, "{}: {why}", path.display()),
        }
    }
}

impl std::error::Error for ContextError {}

/// Resolve `word` in the tree at `root`, skipping what `ignore` excludes.
pub fn resolve(root: &Path, word: &str, ignore: &Ignore) -> Result<Vec<Source>, ContextError> {
    let cleaned = clean(word.trim_start_matches('/'));
    if cleaned == ".." || cleaned.starts_with("../") {
        return Err(ContextError::Outside(word.to_owned()));
    }
    let components: Vec<&str> = if cleaned == "." { Vec::new() } else { cleaned.split('/').collect() };
    let mut found = vec![String::new()];
    for component in &components {
        let mut next = Vec::new();
        for parent in &found {
            let parent = resolve_in_root(root, parent, true).map_err(|_| ContextError::LinkLoop(word.to_owned()))?;
            if glob::has_wildcards(component) {
                glob::matches(component, "").map_err(|e| ContextError::Pattern(word.to_owned(), e))?;
                let dir = root.join(&parent);
                let Ok(entries) = std::fs::read_dir(&dir) else { continue };
                let mut names: Vec<String> =
                    entries.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).collect();
                names.sort();
                for name in names {
                    if glob::matches(component, &name).unwrap_or(false) {
                        next.push(join(&parent, &name));
                    }
                }
            } else if root.join(join(&parent, component)).symlink_metadata().is_ok() {
                next.push(join(&parent, component));
            }
        }
        found = next;
    }
    let mut sources = Vec::new();
    for relative in found {
        let relative = if relative.is_empty() {
            relative
        } else {
            resolve_in_root(root, &relative, true).map_err(|_| ContextError::LinkLoop(word.to_owned()))?
        };
        if !relative.is_empty() && ignore.excludes(&relative) {
            continue;
        }
        sources.push(Source { path: root.join(&relative), relative });
    }
    if sources.is_empty() {
        return Err(ContextError::NotFound(word.to_owned()));
    }
    Ok(sources)
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("archway-sources-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src/sub")).unwrap();
        for file in ["a.txt", "b.txt", "c.log", "src/main.c", "src/sub/x.c", "secret.key"] {
            std::fs::write(dir.join(file), file).unwrap();
        }
        std::os::unix::fs::symlink("/src", dir.join("abs-link")).unwrap();
        std::os::unix::fs::symlink("../../etc", dir.join("src/escape")).unwrap();
        std::os::unix::fs::symlink("loop", dir.join("loop")).unwrap();
        dir
    }

    fn names(sources: &[Source]) -> Vec<&str> {
        sources.iter().map(|s| s.relative.as_str()).collect()
    }

    #[test]
    fn words_to_sources() {
        let root = tree();
        let ignore = Ignore::parse("*.key\n").unwrap();
        assert_eq!(names(&resolve(&root, "*.txt", &ignore).unwrap()), ["a.txt", "b.txt"]);
        assert_eq!(names(&resolve(&root, "./src/../a.txt", &ignore).unwrap()), ["a.txt"]);
        assert_eq!(names(&resolve(&root, "/src/*/x.c", &ignore).unwrap()), ["src/sub/x.c"]);
        assert_eq!(names(&resolve(&root, ".", &ignore).unwrap()), [""]);
        assert_eq!(names(&resolve(&root, "abs-link/main.c", &ignore).unwrap()), ["src/main.c"]);
        // A link climbing out of the tree stays inside it, as in a chroot: /etc of the tree.
        assert_eq!(
            resolve(&root, "src/escape/passwd", &ignore),
            Err(ContextError::NotFound("src/escape/passwd".into()))
        );
        assert_eq!(resolve(&root, "../x", &ignore), Err(ContextError::Outside("../x".into())));
        assert_eq!(resolve(&root, "secret.key", &ignore), Err(ContextError::NotFound("secret.key".into())));
        assert_eq!(resolve(&root, "*.none", &ignore), Err(ContextError::NotFound("*.none".into())));
        assert_eq!(resolve(&root, "loop/x", &ignore), Err(ContextError::LinkLoop("loop/x".into())));
        assert!(matches!(resolve(&root, "[", &ignore), Err(ContextError::Pattern(..))));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
