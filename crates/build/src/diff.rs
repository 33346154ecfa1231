//! What a step changed in a stage's root directory: a [`Snapshot`] of every path's
//! metadata before the step, compared with the tree after it ([`Snapshot::changes`]).
//!
//! A path is changed when its type, mode, owner, size, target, device, inode, or
//! modification or change time differ; the change time catches writes that restore the
//! modification time and changes of extended attributes, and cannot be set by the step.
//! A removed directory is one deletion (its contents go with it). Directories whose
//! entries changed show up as changed themselves (their times moved), so the layer
//! carries their metadata, as other builders' layers do. The walk never follows
//! symbolic links and stays on the root's file system.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The metadata a snapshot keeps of each path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: Kind,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    inode: u64,
    rdev: u64,
    target: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Directory,
    Link,
    /// FIFOs, devices and sockets.
    Other,
}

/// Every path under a root (relative, `/`-separated) and its metadata.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    entries: BTreeMap<String, Entry>,
}

/// One change, by path relative to the root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// New, or changed: the layer carries the path as it is now.
    Upsert(String),
    /// Gone: the layer carries a whiteout.
    Delete(String),
}

impl Snapshot {
    /// Walk the tree at `root`.
    pub fn take(root: &Path) -> io::Result<Snapshot> {
        let device = fs::symlink_metadata(root)?.dev();
        let mut snapshot = Snapshot::default();
        let mut pending = vec![(root.to_path_buf(), String::new())];
        while let Some((dir, relative)) = pending.pop() {
            for item in fs::read_dir(&dir)? {
                let item = item?;
                let name = item.file_name().to_string_lossy().into_owned();
                let path = item.path();
                let metadata = fs::symlink_metadata(&path)?;
                let child = if relative.is_empty() { name } else { format!("{relative}/{name}") };
                let entry = entry(&path, &metadata)?;
                if entry.kind == Kind::Directory && metadata.dev() == device {
                    pending.push((path, child.clone()));
                }
                snapshot.entries.insert(child, entry);
            }
        }
        Ok(snapshot)
    }

    /// The number of paths.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the tree was empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What changed from `self` (before) to `after`, in path order.
    pub fn changes(&self, after: &Snapshot) -> Vec<Change> {
        let mut changes = Vec::new();
        for (path, entry) in &after.entries {
            if self.entries.get(path) != Some(entry) {
                changes.push(Change::Upsert(path.clone()));
            }
        }
        let mut deleted_dir: Option<&str> = None;
        for path in self.entries.keys() {
            if after.entries.contains_key(path) {
                continue;
            }
            if deleted_dir.is_some_and(|dir| path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/')) {
                continue;
            }
            deleted_dir = Some(path);
            changes.push(Change::Delete(path.clone()));
        }
        changes.sort_by(|a, b| a.path().cmp(b.path()));
        changes
    }
}

impl Change {
    /// The path changed.
    pub fn path(&self) -> &str {
        match self {
            Change::Upsert(path) | Change::Delete(path) => path,
        }
    }
}

fn entry(path: &Path, metadata: &fs::Metadata) -> io::Result<Entry> {
    let file_type = metadata.file_type();
    let kind = if file_type.is_dir() {
        Kind::Directory
    } else if file_type.is_symlink() {
        Kind::Link
    } else if file_type.is_file() {
        Kind::File
    } else {
        Kind::Other
    };
    Ok(Entry {
        kind,
        mode: metadata.mode(),
        uid: metadata.uid(),
        gid: metadata.gid(),
        size: if kind == Kind::Directory { 0 } else { metadata.size() },
        mtime: (metadata.mtime(), metadata.mtime_nsec()),
        ctime: (metadata.ctime(), metadata.ctime_nsec()),
        inode: metadata.ino(),
        rdev: metadata.rdev(),
        target: if kind == Kind::Link { Some(fs::read_link(path)?) } else { None },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn additions_changes_and_deletions() {
        let root = std::env::temp_dir().join(format!("archway-diff-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("etc/old/deep")).unwrap();
        fs::create_dir_all(root.join("usr/bin")).unwrap();
        for file in ["etc/keep", "etc/edit", "etc/old/deep/x", "etc/old/y", "usr/bin/tool"] {
            fs::write(root.join(file), file).unwrap();
        }
        let before = Snapshot::take(&root).unwrap();
        assert_eq!(before.len(), 10);
        assert!(before.changes(&Snapshot::take(&root).unwrap()).is_empty(), "nothing changed, nothing reported");
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(root.join("etc/edit"), "edited").unwrap();
        fs::remove_dir_all(root.join("etc/old")).unwrap();
        fs::write(root.join("etc/new"), "new").unwrap();
        std::os::unix::fs::symlink("tool", root.join("usr/bin/alias")).unwrap();
        let same_size = root.join("usr/bin/tool");
        let mtime = fs::metadata(&same_size).unwrap().modified().unwrap();
        fs::write(&same_size, "usr/bin/TOOL").unwrap();
        fs::File::options().write(true).open(&same_size).unwrap().set_modified(mtime).unwrap();
        let changes = before.changes(&Snapshot::take(&root).unwrap());
        let expected = [
            Change::Upsert("etc".into()),
            Change::Upsert("etc/edit".into()),
            Change::Upsert("etc/new".into()),
            Change::Delete("etc/old".into()),
            Change::Upsert("usr/bin".into()),
            Change::Upsert("usr/bin/alias".into()),
            Change::Upsert("usr/bin/tool".into()),
        ];
        assert_eq!(changes, expected);
        fs::remove_dir_all(&root).unwrap();
    }
}
