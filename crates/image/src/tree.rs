//! The merged view of an image's layers: one node per path, as a container would see
//! the root file system, with what a caller chose to keep of each regular file (its
//! "facts": an ELF summary, a first line, small contents) instead of the contents.
//!
//! Paths are relative to the root, `/`-separated, without a leading `/` (`usr/bin/env`);
//! the root itself is `""`. Symbolic links are resolved inside the image root only, as a
//! chroot would ([`Tree::resolve`]): an absolute target starts again at the image root,
//! `..` at the root stays there, the host's files are never looked at.

use std::collections::BTreeMap;

/// What a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind<F> {
    /// A regular file, with what the caller kept of it.
    File(F),
    Dir,
    /// A symbolic link and its target as stored.
    Symlink(String),
    /// A device, FIFO or socket.
    Special(Special),
}

/// What kind of special file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Fifo,
    Char { major: u32, minor: u32 },
    Block { major: u32, minor: u32 },
    Socket,
}

/// One path of the merged view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node<F> {
    pub kind: NodeKind<F>,
    /// Permission bits and set-id bits.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// The layer (0 = base) whose entry this is.
    pub layer: usize,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Extended attributes the layer carries (`security.capability`, `user.*`...).
    pub xattrs: Vec<(String, Vec<u8>)>,
}

/// A path a layer's whiteout removed, with the layer that removed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub path: String,
    pub layer: usize,
}

/// Why a path does not resolve inside the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// `missing` does not exist (reached through the symlinks in `through`).
    Missing { missing: String, through: Vec<String> },
    /// `file` is not a directory but the path goes on below it.
    NotADirectory { file: String },
    /// More than 40 symbolic links (the kernel's `ELOOP` limit).
    Loop { at: String },
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Missing { missing, through } if through.is_empty() => write!(f, "/{missing} does not exist"),
            ResolveError::Missing { missing, through } => {
                write!(f, "/{missing} does not exist (reached through the symbolic link /{})", through.join(", /"))
            }
            ResolveError::NotADirectory { file } => write!(f, "/{file} is not a directory"),
            ResolveError::Loop { at } => write!(f, "too many symbolic links at /{at}"),
        }
    }
}

/// The kernel's limit on symbolic links followed in one lookup.
const MAX_LINKS: usize = 40;

/// The merged view.
#[derive(Debug, Clone)]
pub struct Tree<F> {
    nodes: BTreeMap<String, Node<F>>,
    /// Paths whiteouts removed, in layer order.
    pub removed: Vec<Removed>,
}

impl<F> Default for Tree<F> {
    fn default() -> Tree<F> {
        Tree { nodes: BTreeMap::new(), removed: Vec::new() }
    }
}

/// `parent/name`, or `name` at the root.
pub fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// The directory part of a path (`""` for a name at the root).
pub fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

impl<F> Tree<F> {
    /// The node at exactly `path` (no symlink followed).
    pub fn get(&self, path: &str) -> Option<&Node<F>> {
        self.nodes.get(path)
    }

    /// Every path and node, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node<F>)> {
        self.nodes.iter().map(|(p, n)| (p.as_str(), n))
    }

    /// The number of paths.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The paths directly inside directory `dir`.
    pub fn children<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = (&'a str, &'a Node<F>)> + 'a {
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        self.below(dir).filter(move |(p, _)| !p[prefix.len()..].contains('/'))
    }

    /// Every path below directory `dir` (not `dir` itself).
    fn below<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = (&'a str, &'a Node<F>)> + 'a {
        let (start, end) = subtree_bounds(dir);
        self.nodes.range(start..end).map(|(p, n)| (p.as_str(), n)).filter(move |(p, _)| dir.is_empty() || *p != dir)
    }

    pub(crate) fn insert(&mut self, path: String, node: Node<F>) {
        self.nodes.insert(path, node);
    }

    /// Remove `path` and everything below it; whether anything was there.
    pub(crate) fn remove_subtree(&mut self, path: &str) -> bool {
        let existed = self.nodes.remove(path).is_some();
        let (start, end) = subtree_bounds(path);
        let below: Vec<String> = self.nodes.range(start..end).map(|(p, _)| p.clone()).collect();
        for p in &below {
            self.nodes.remove(p);
        }
        existed || !below.is_empty()
    }

    /// Remove what lies below directory `dir` and came from layers before `layer` (an
    /// opaque directory); the paths removed.
    pub(crate) fn remove_lower_children(&mut self, dir: &str, layer: usize) -> Vec<String> {
        let lower: Vec<String> = self.below(dir).filter(|(_, n)| n.layer < layer).map(|(p, _)| p.to_string()).collect();
        for p in &lower {
            self.nodes.remove(p);
        }
        lower
    }

    /// Follow `path` (absolute or relative to the root) through symbolic links inside
    /// the image, as the kernel does in a chroot at the image root; the final path and
    /// its node. The last component is followed too if it is a link.
    pub fn resolve(&self, path: &str) -> Result<(String, &Node<F>), ResolveError> {
        let mut pending: Vec<String> = components(path).rev().map(str::to_string).collect();
        let mut current = String::new();
        let mut through = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    current = parent(&current).to_string();
                    continue;
                }
                _ => {}
            }
            let next = join(&current, &part);
            let Some(node) = self.nodes.get(&next) else {
                return Err(ResolveError::Missing { missing: next, through });
            };
            match &node.kind {
                NodeKind::Symlink(target) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(ResolveError::Loop { at: next });
                    }
                    through.push(next);
                    if target.starts_with('/') {
                        current.clear();
                    }
                    pending.extend(components(target).rev().map(str::to_string));
                }
                NodeKind::Dir => current = next,
                _ if pending.iter().any(|p| p != ".") => return Err(ResolveError::NotADirectory { file: next }),
                _ => current = next,
            }
        }
        if current.is_empty() {
            return Err(ResolveError::Missing { missing: String::new(), through });
        }
        let node = self.nodes.get(&current).ok_or(ResolveError::Missing { missing: current.clone(), through })?;
        Ok((current, node))
    }
}

/// The non-empty components of a path.
fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|p| !p.is_empty())
}

/// Key bounds of everything strictly below `dir` (`dir/` up to `dir0`: `0` follows `/`).
fn subtree_bounds(dir: &str) -> (String, String) {
    if dir.is_empty() {
        (String::new(), "\u{10ffff}".to_string())
    } else {
        (format!("{dir}/"), format!("{dir}0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(kind: NodeKind<()>) -> Node<()> {
        Node { kind, mode: 0o755, uid: 0, gid: 0, size: 0, layer: 0, mtime: 0, xattrs: Vec::new() }
    }

    fn sample() -> Tree<()> {
        let mut t = Tree::default();
        for dir in ["usr", "usr/bin", "usr/lib", "etc"] {
            t.insert(dir.into(), node(NodeKind::Dir));
        }
        t.insert("usr/bin/python3.11".into(), node(NodeKind::File(())));
        t.insert("usr/bin/python3".into(), node(NodeKind::Symlink("python3.11".into())));
        t.insert("bin".into(), node(NodeKind::Symlink("usr/bin".into())));
        t.insert("lib".into(), node(NodeKind::Symlink("/usr/lib".into())));
        t.insert("etc/escape".into(), node(NodeKind::Symlink("../../../../usr/bin/python3".into())));
        t.insert("etc/loop".into(), node(NodeKind::Symlink("loop".into())));
        t.insert("etc/dangling".into(), node(NodeKind::Symlink("/opt/nothing".into())));
        t
    }

    #[test]
    fn symlinks_resolve_inside_the_image_root() {
        let t = sample();
        assert_eq!(t.resolve("/bin/python3").unwrap().0, "usr/bin/python3.11");
        assert_eq!(t.resolve("usr/bin/python3").unwrap().0, "usr/bin/python3.11");
        assert_eq!(t.resolve("/etc/escape").unwrap().0, "usr/bin/python3.11", ".. stops at the image root");
        assert_eq!(t.resolve("/lib/../bin/python3").unwrap().0, "usr/bin/python3.11");
        assert_eq!(t.resolve("/lib").unwrap().0, "usr/lib");
        assert!(matches!(t.resolve("/etc/loop"), Err(ResolveError::Loop { .. })));
        let dangling = t.resolve("/etc/dangling").unwrap_err();
        assert_eq!(dangling, ResolveError::Missing { missing: "opt".into(), through: vec!["etc/dangling".into()] });
        assert_eq!(dangling.to_string(), "/opt does not exist (reached through the symbolic link /etc/dangling)");
        assert!(matches!(t.resolve("/usr/bin/python3.11/x"), Err(ResolveError::NotADirectory { .. })));
    }

    #[test]
    fn subtrees_and_children() {
        let mut t = sample();
        assert_eq!(t.children("usr").map(|(p, _)| p).collect::<Vec<_>>(), ["usr/bin", "usr/lib"]);
        assert_eq!(t.children("").count(), 4);
        assert!(t.remove_subtree("usr"));
        assert!(t.get("usr/bin/python3").is_none() && t.get("usr").is_none());
        assert!(t.get("etc").is_some(), "usr0-like neighbours stay");
        assert!(!t.remove_subtree("usr"));
    }
}
