//! Paths resolved inside a root directory as in a chroot: symbolic links among the
//! components are followed, an absolute target starts again at the root, `..` at the
//! root stays there, so nothing outside the root is ever reached. Used for `COPY`
//! sources (in the context or another stage's root) and destinations (in the stage's
//! root, where the last component is not followed: it is replaced, not written through).

use std::path::Path;

/// Symbolic links followed in one resolution before giving up (the kernel's `ELOOP`).
const MAX_LINKS: usize = 40;

/// More than [`MAX_LINKS`] symbolic links: a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkLoop;

/// `path` (relative to `root`, or absolute in it) with its symbolic links followed inside
/// `root`, as a relative `/`-separated path; the last component too when `follow_last`.
pub fn resolve_in_root(root: &Path, path: &str, follow_last: bool) -> Result<String, LinkLoop> {
    let mut pending: Vec<String> = path.split('/').filter(|c| !c.is_empty()).rev().map(str::to_owned).collect();
    let mut resolved: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(component) = pending.pop() {
        match component.as_str() {
            "." => continue,
            ".." => {
                resolved.pop();
                continue;
            }
            _ => {}
        }
        let is_last = pending.is_empty();
        let candidate = root.join(resolved.join("/")).join(&component);
        match std::fs::read_link(&candidate) {
            Ok(target) if follow_last || !is_last => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(LinkLoop);
                }
                let target = target.to_string_lossy().into_owned();
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(target.split('/').filter(|c| !c.is_empty()).rev().map(str::to_owned));
            }
            _ => resolved.push(component),
        }
    }
    Ok(resolved.join("/"))
}
