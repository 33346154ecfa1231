//! Layers: decompressed by what their first bytes are (gzip, zstd or a plain tar,
//! whatever the media type claims), read once as a stream, and applied to a [`Tree`]
//! with the image spec's rules (`layer.md`): later layers replace earlier paths, a
//! `.wh.NAME` entry removes `NAME` from the layers below, `.wh..wh..opq` empties its
//! directory of what the layers below put there.
//!
//! Every entry is checked before it is applied; each of these stops the read with an
//! [`Error::Layer`] naming the layer and the entry, and nothing of the image is trusted:
//! a name that climbs out (`..`; an absolute name is read from the image root, as
//! containerd and GNU tar read it), a write through a symbolic link (an
//! entry below a path that is a link), a hard link to a path that does not exist, an
//! entry type that has no place in a layer. A truncated or non-tar stream is an error
//! too.

use crate::digest::Digest;
use crate::error::Error;
use crate::files::clean_name;
use crate::tree::{join, parent, Node, NodeKind, Removed, Special, Tree};
use std::io::{self, BufRead, BufReader, Read};

/// The whiteout prefix, and the opaque-directory marker.
pub const WHITEOUT: &str = ".wh.";
pub const OPAQUE: &str = ".wh..wh..opq";

/// How a layer's bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The compression of a stream whose first bytes are `prefix`.
pub fn compression(prefix: &[u8]) -> Compression {
    if prefix.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// The uncompressed tar stream of a layer.
pub fn decompressed<'a>(reader: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut buffered = BufReader::with_capacity(256 << 10, reader);
    let kind = compression(buffered.fill_buf()?);
    Ok(match kind {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
    })
}

/// A regular file of a layer, as the caller's capture function sees it.
pub struct FileEntry<'a> {
    /// Its path in the image (no leading `/`).
    pub path: &'a str,
    pub size: u64,
    pub mode: u32,
    /// Its contents; what the capture does not read is skipped.
    pub contents: &'a mut dyn Read,
}

/// Apply layer number `layer` (digest `digest`, compressed or not) to `tree`, calling
/// `capture` for every regular file to decide what the tree keeps of it.
pub fn apply<F: Clone>(
    tree: &mut Tree<F>,
    layer: usize,
    digest: &Digest,
    reader: impl Read,
    capture: &mut dyn FnMut(FileEntry) -> io::Result<F>,
) -> Result<(), Error> {
    let fail = |entry: &str, reason: String| Error::Layer { layer: digest.clone(), entry: entry.to_string(), reason };
    let stream = decompressed(reader).map_err(|e| fail("(start)", format!("cannot read the layer: {e}")))?;
    let mut archive = tar::Archive::new(stream);
    let mut last = String::from("(start)");
    for entry in archive.entries().map_err(|e| fail("(start)", format!("not a tar stream: {e}")))? {
        let mut entry = entry.map_err(|e| fail(&format!("after {last}"), format!("broken tar stream: {e}")))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        last.clone_from(&raw);
        let header = entry.header();
        let kind = header.entry_type();
        if matches!(kind, tar::EntryType::XGlobalHeader | tar::EntryType::XHeader) {
            continue;
        }
        let path = entry_name(&raw).ok_or_else(|| fail(&raw, "the name leaves the root (..)".into()))?;
        if path.is_empty() {
            continue; // the root directory itself
        }
        let mode = header.mode().unwrap_or(0o644);
        let (uid, gid) = (header.uid().unwrap_or(0), header.gid().unwrap_or(0));
        let mtime = header.mtime().map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX));
        let device =
            (header.device_major().ok().flatten().unwrap_or(0), header.device_minor().ok().flatten().unwrap_or(0));
        let size = entry.size();
        let xattrs = xattrs(&mut entry).map_err(|e| fail(&raw, format!("broken PAX header: {e}")))?;
        check_parents(tree, &path, layer).map_err(|reason| fail(&raw, reason))?;
        let name = path.rsplit('/').next().unwrap_or(&path);
        if name == OPAQUE {
            for removed in tree.remove_lower_children(parent(&path), layer) {
                tree.removed.push(Removed { path: removed, layer });
            }
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT) {
            let target = join(parent(&path), hidden);
            if tree.remove_subtree(&target) {
                tree.removed.push(Removed { path: target, layer });
            }
            continue;
        }
        let node_kind = match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let facts = capture(FileEntry { path: &path, size, mode, contents: &mut entry })
                    .map_err(|e| fail(&raw, format!("cannot read it: {e}")))?;
                NodeKind::File(facts)
            }
            tar::EntryType::Directory => {
                if matches!(tree.get(&path).map(|n| &n.kind), Some(NodeKind::Dir)) {
                    // An existing directory keeps its contents; only its attributes change.
                    tree.insert(path, Node { kind: NodeKind::Dir, mode, uid, gid, size: 0, layer, mtime, xattrs });
                    continue;
                }
                NodeKind::Dir
            }
            tar::EntryType::Symlink => {
                let target = entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned());
                NodeKind::Symlink(target.ok_or_else(|| fail(&raw, "a symbolic link without a target".into()))?)
            }
            tar::EntryType::Link => {
                let target =
                    entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned()).unwrap_or_default();
                let target = entry_name(&target)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| fail(&raw, format!("a hard link to {target:?}, outside the root")))?;
                match tree.get(&target) {
                    Some(node) if matches!(node.kind, NodeKind::File(_)) => node.kind.clone(),
                    Some(_) => {
                        return Err(fail(&raw, format!("a hard link to /{target}, which is not a regular file")))
                    }
                    None => return Err(fail(&raw, format!("a hard link to /{target}, which does not exist"))),
                }
            }
            tar::EntryType::Char => NodeKind::Special(Special::Char { major: device.0, minor: device.1 }),
            tar::EntryType::Block => NodeKind::Special(Special::Block { major: device.0, minor: device.1 }),
            tar::EntryType::Fifo => NodeKind::Special(Special::Fifo),
            other => return Err(fail(&raw, format!("an entry of type {other:?} has no place in a layer"))),
        };
        // A new entry replaces whatever was at its path, a directory with all below it.
        tree.remove_subtree(&path);
        tree.insert(path, Node { kind: node_kind, mode, uid, gid, size, layer, mtime, xattrs });
    }
    // The tar stream ends before the blob does (end-of-archive blocks, padding, the
    // compressor's trailer): read it all, so the decompressor checks its trailer and the
    // verified reader below it checks the blob's size and digest.
    io::copy(&mut archive.into_inner(), &mut io::sink())
        .map_err(|e| fail(&format!("after {last}"), format!("the layer's end does not check: {e}")))?;
    Ok(())
}

/// A layer entry's name (or a hard link's target) relative to the image root: a leading
/// `/` means the image root (umoci writes such names, containerd accepts them); `None`
/// for a name that climbs out with `..`.
pub(crate) fn entry_name(raw: &str) -> Option<String> {
    clean_name(raw.trim_start_matches('/'))
}

/// The PAX prefix of extended attributes (`SCHILY.xattr.security.capability`).
const XATTR_PREFIX: &str = "SCHILY.xattr.";

/// The extended attributes an entry's PAX header carries.
fn xattrs<R: Read>(entry: &mut tar::Entry<R>) -> io::Result<Vec<(String, Vec<u8>)>> {
    let Some(extensions) = entry.pax_extensions()? else { return Ok(Vec::new()) };
    let mut found = Vec::new();
    for extension in extensions {
        let extension = extension?;
        if let Some(name) = extension.key().ok().and_then(|key| key.strip_prefix(XATTR_PREFIX)) {
            found.push((name.to_owned(), extension.value_bytes().to_vec()));
        }
    }
    Ok(found)
}

/// Every directory above `path` must be a directory or not exist yet (it is then made,
/// as part of layer `layer`): none may be a symbolic link (writing through it could land
/// anywhere) or a file.
fn check_parents<F>(tree: &mut Tree<F>, path: &str, layer: usize) -> Result<(), String> {
    let mut missing = Vec::new();
    let mut dir = parent(path);
    while !dir.is_empty() {
        match tree.get(dir).map(|n| &n.kind) {
            Some(NodeKind::Dir) => break,
            Some(NodeKind::Symlink(target)) => {
                return Err(format!("it would be written through the symbolic link /{dir} -> {target}"))
            }
            Some(_) => return Err(format!("/{dir} is not a directory")),
            None => missing.push(dir.to_string()),
        }
        dir = parent(dir);
    }
    for dir in missing {
        let node =
            Node { kind: NodeKind::Dir, mode: 0o755, uid: 0, gid: 0, size: 0, layer, mtime: 0, xattrs: Vec::new() };
        tree.insert(dir, node);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
