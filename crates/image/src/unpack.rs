//! Writing a merged view to disk, for the programs of an image to run (the check's
//! smoke test). The layers have already been read once and checked into a [`Tree`];
//! unpacking reads them again and writes only what survived in the tree, each file from
//! the layer the tree says it comes from. Directories and symbolic links come from the
//! tree itself, so every file is created below real directories of the destination and
//! never through a link. [`modes`] finishes a root for the check's smoke test: ownership
//! is not kept (the files belong to the caller, which maps itself to root in the
//! namespace that runs them) and devices are not made. [`attributes`] finishes an exact
//! copy instead, for a build's stage root: owners, modes, FIFOs and devices (where the
//! kernel allows), extended attributes and modification times.

use crate::digest::Digest;
use crate::error::Error;
use crate::layer::{decompressed, entry_name};
use crate::tree::{NodeKind, Special, Tree};
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
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
        let Some(path) = entry_name(&raw) else { continue };
        let Some(node) = tree.get(&path) else { continue };
        if node.layer != layer || !matches!(node.kind, NodeKind::File(_)) {
            continue;
        }
        let target = dest.join(&path);
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::Link {
            let source = entry.link_name_bytes().and_then(|t| entry_name(&String::from_utf8_lossy(&t)));
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

/// What [`attributes`] could not reproduce (device nodes in a user namespace, extended
/// attributes a file system refuses), for the caller to report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    pub devices: Vec<String>,
    pub xattrs: Vec<String>,
}

/// Give every path its attributes from the tree, for an unpacked root that must be the
/// image's exactly (a build's stage root): FIFOs and device nodes made, owners (when
/// `owners`), exact modes, extended attributes, and modification times (directories
/// last, deepest first, so creating their entries does not move them again).
pub fn attributes<F>(tree: &Tree<F>, dest: &Path, owners: bool) -> Result<Skipped, Error> {
    let mut skipped = Skipped::default();
    for (path, node) in tree.iter() {
        let target = dest.join(path);
        if let NodeKind::Special(special) = node.kind {
            if !make_special(&target, special, node.mode)? {
                skipped.devices.push(path.to_owned());
                continue;
            }
        }
        if owners {
            let (uid, gid) = (node.uid as u32, node.gid as u32);
            std::os::unix::fs::lchown(&target, Some(uid), Some(gid)).map_err(|e| Error::io(&target, e))?;
        }
        if !matches!(node.kind, NodeKind::Symlink(_)) {
            fs::set_permissions(&target, fs::Permissions::from_mode(node.mode & 0o7777))
                .map_err(|e| Error::io(&target, e))?;
        }
        for (name, value) in &node.xattrs {
            if set_xattr(&target, name, value).is_err() {
                skipped.xattrs.push(format!("{path}: {name}"));
            }
        }
    }
    for (path, node) in tree.iter().collect::<Vec<_>>().into_iter().rev() {
        if matches!(node.kind, NodeKind::Special(_)) && skipped.devices.iter().any(|d| d == path) {
            continue;
        }
        set_mtime(&dest.join(path), node.mtime)?;
    }
    Ok(skipped)
}

/// Make a FIFO or device node; `false` if the kernel does not allow it here (devices in
/// a user namespace) or it is a socket (which only a listening program can make).
fn make_special(target: &Path, special: Special, mode: u32) -> Result<bool, Error> {
    let (kind, device) = match special {
        Special::Fifo => (libc::S_IFIFO, 0),
        Special::Char { major, minor } => (libc::S_IFCHR, libc::makedev(major, minor)),
        Special::Block { major, minor } => (libc::S_IFBLK, libc::makedev(major, minor)),
        Special::Socket => return Ok(false),
    };
    let path = c_path(target)?;
    // SAFETY: a valid C string; mknod has no other preconditions.
    if unsafe { libc::mknod(path.as_ptr(), kind | (mode & 0o7777), device) } == 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) if kind != libc::S_IFIFO => Ok(false),
        _ => Err(Error::io(target, error)),
    }
}

fn set_xattr(target: &Path, name: &str, value: &[u8]) -> io::Result<()> {
    let path = c_path(target).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let name = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: valid C strings and a buffer of `value.len()` bytes.
    let result = unsafe { libc::lsetxattr(path.as_ptr(), name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Set access and modification times to `mtime` without following a link.
fn set_mtime(target: &Path, mtime: i64) -> Result<(), Error> {
    let path = c_path(target)?;
    let time = libc::timespec { tv_sec: mtime as libc::time_t, tv_nsec: 0 };
    let times = [time, time];
    // SAFETY: a valid C string and two timespecs, as utimensat requires.
    if unsafe { libc::utimensat(libc::AT_FDCWD, path.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) } != 0 {
        return Err(Error::io(target, io::Error::last_os_error()));
    }
    Ok(())
}

fn c_path(path: &Path) -> Result<CString, Error> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::invalid(path.display().to_string(), "a NUL byte in the path"))
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
