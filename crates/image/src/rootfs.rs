//! An unpacked root directory (`dir:ROOTFS`) as a merged view: the directory is walked
//! without following symbolic links (they are recorded as links, to be resolved inside
//! the root like any image's), and each regular file is shown to the same capture
//! function the layers use. Everything counts as layer 0.

use crate::error::Error;
use crate::layer::FileEntry;
use crate::tree::{join, Node, NodeKind, Special, Tree};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// The merged view of directory `root`.
pub fn tree_of<F>(root: &Path, capture: &mut dyn FnMut(FileEntry) -> io::Result<F>) -> Result<Tree<F>, Error> {
    let metadata = fs::symlink_metadata(root).map_err(|e| Error::io(root, e))?;
    if !metadata.is_dir() {
        return Err(Error::invalid(root.display().to_string(), "not a directory"));
    }
    let mut tree = Tree::default();
    let mut pending = vec![String::new()];
    while let Some(dir) = pending.pop() {
        let host_dir = root.join(&dir);
        let mut entries: Vec<_> = fs::read_dir(&host_dir)
            .map_err(|e| Error::io(&host_dir, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| Error::io(&host_dir, e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = String::from_utf8_lossy(entry.file_name().as_bytes()).into_owned();
            let path = join(&dir, &name);
            let host = entry.path();
            let metadata = fs::symlink_metadata(&host).map_err(|e| Error::io(&host, e))?;
            let kind = metadata.file_type();
            let node_kind = if kind.is_dir() {
                pending.push(path.clone());
                NodeKind::Dir
            } else if kind.is_symlink() {
                let target = fs::read_link(&host).map_err(|e| Error::io(&host, e))?;
                NodeKind::Symlink(String::from_utf8_lossy(target.as_os_str().as_bytes()).into_owned())
            } else if kind.is_file() {
                let mut file = match fs::File::open(&host) {
                    Ok(file) => file,
                    // An unreadable file is still there; the caller sees it empty.
                    Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                        tree.insert(path, node(NodeKind::Special(special(&metadata)), &metadata));
                        continue;
                    }
                    Err(e) => return Err(Error::io(&host, e)),
                };
                let entry = FileEntry { path: &path, size: metadata.len(), mode: metadata.mode(), contents: &mut file };
                NodeKind::File(capture(entry).map_err(|e| Error::io(&host, e))?)
            } else if kind.is_char_device() || kind.is_block_device() || kind.is_fifo() || kind.is_socket() {
                NodeKind::Special(special(&metadata))
            } else {
                continue;
            };
            tree.insert(path, node(node_kind, &metadata));
        }
    }
    Ok(tree)
}

fn node<F>(kind: NodeKind<F>, metadata: &fs::Metadata) -> Node<F> {
    Node {
        kind,
        mode: metadata.mode() & 0o7777,
        uid: u64::from(metadata.uid()),
        gid: u64::from(metadata.gid()),
        size: metadata.len(),
        layer: 0,
        mtime: metadata.mtime(),
        xattrs: Vec::new(),
    }
}

/// What kind of special file `metadata` describes (an unreadable file counts as a FIFO:
/// nothing can be read from it).
fn special(metadata: &fs::Metadata) -> Special {
    let kind = metadata.file_type();
    let (major, minor) = (libc::major(metadata.rdev()), libc::minor(metadata.rdev()));
    if kind.is_char_device() {
        Special::Char { major, minor }
    } else if kind.is_block_device() {
        Special::Block { major, minor }
    } else if kind.is_socket() {
        Special::Socket
    } else {
        Special::Fifo
    }
}
