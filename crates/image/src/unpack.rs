//! Writing a merged view to disk, for the programs of an image to run (the check's
//! smoke test). The layers have already been read once and checked into a [`Tree`];
//! unpacking reads them again and writes only what survived in the tree, each file from
//! the layer the tree says it comes from. Directories and symbolic links come from the
//! tree itself, so every file is created below real directories of the destination and
//! never through a link; devices are not made. Ownership is not kept (the files belong
//! to the caller, which maps itself to root in the namespace that runs them).

use crate::digest::Digest;
use crate::error::Error;
use crate::files::clean_name;
use crate::layer::decompressed;
use crate::tree::{NodeKind, Tree};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Create the directories and symbolic links of `tree` under `dest` (an empty
/// directory the caller owns).
pub fn skeleton<F>(tree: &Tree<F>, dest: &Path) -> Result<(), Error> {
    for (path, node) in tree.iter() {
        let target = dest.join(path);
        match &node.kind {
            NodeKind::Dir => fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?,
            NodeKind::Symlink(link) => std::os::unix::fs::symlink(link, &target).map_err(|e| Error::io(&target, e))?,
            _ => {}
        }
    }
    Ok(())
}

/// Write the regular files of layer `layer` (digest `digest`, bytes from `reader`) that
/// the tree keeps from that layer.
pub fn layer_files<F>(
    tree: &Tree<F>,
    dest: &Path,
    layer: usize,
    digest: &Digest,
    reader: impl Read,
) -> Result<(), Error> {
    let fail = |entry: &str, reason: String| Error::Layer { layer: digest.clone(), entry: entry.to_string(), reason };
    let mut archive = tar::Archive::new(decompressed(reader).map_err(|e| fail("(start)", e.to_string()))?);
    for entry in archive.entries().map_err(|e| fail("(start)", e.to_string()))? {
        let mut entry = entry.map_err(|e| fail("(entry)", e.to_string()))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = clean_name(&raw) else { continue };
        let Some(node) = tree.get(&path) else { continue };
        if node.layer != layer || !matches!(node.kind, NodeKind::File(_)) {
            continue;
        }
        let target = dest.join(&path);
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::Link {
            let source = entry.link_name_bytes().and_then(|t| clean_name(&String::from_utf8_lossy(&t)));
            if let Some(source) = source {
                if fs::hard_link(dest.join(&source), &target).is_err() {
                    fs::copy(dest.join(&source), &target).map_err(|e| Error::io(&target, e))?;
                }
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let _ = fs::remove_file(&target);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o600)
            .open(&target)
            .map_err(|e| Error::io(&target, e))?;
        io::copy(&mut entry, &mut file).map_err(|e| fail(&raw, e.to_string()))?;
    }
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(|e| fail("(end)", e.to_string()))?;
    Ok(())
}

/// Give every file and directory its mode from the tree (directories stay writable by
/// the owner until this last step).
pub fn modes<F>(tree: &Tree<F>, dest: &Path) -> Result<(), Error> {
    for (path, node) in tree.iter() {
        if matches!(node.kind, NodeKind::File(_) | NodeKind::Dir) {
            let target = dest.join(path);
            let mode = node.mode & 0o7777 | if matches!(node.kind, NodeKind::Dir) { 0o700 } else { 0 };
            if let Err(e) = fs::set_permissions(&target, fs::Permissions::from_mode(mode)) {
                if e.kind() != io::ErrorKind::NotFound {
                    return Err(Error::io(&target, e));
                }
            }
        }
    }
    Ok(())
}

/// Whether `dest` may receive an unpacked root: an existing empty directory.
pub fn check_destination(dest: &Path) -> Result<(), Error> {
    let mut entries = fs::read_dir(dest).map_err(|e| Error::io(dest, e))?;
    if entries.next().is_some() {
        return Err(Error::invalid(dest.display().to_string(), "not empty: refusing to unpack over files"));
    }
    File::open(dest).map_err(|e| Error::io(dest, e))?;
    Ok(())
}
