//! What a layer records of a path on disk, read with `lstat` (links are never followed):
//! its kind, permission, set-id and sticky bits, numeric owner, modification time in
//! whole seconds, and the extended attributes images carry: `security.capability` (file
//! capabilities, as containerd keeps them) and the `user.*` and `trusted.*` ones, except
//! overlayfs's own (`*.overlay.*`: whiteout and opaque markers of an upper directory,
//! which say nothing about the file). Attributes the caller may not read (`trusted.*`
//! without CAP_SYS_ADMIN) are left out, as are attributes on a file system without them.

use crate::error::Error;
use std::ffi::CString;
use std::fs::Metadata;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// Which extended attributes a layer keeps, by name prefix: the first prefix that
/// matches decides; names matching none are left out.
const XATTR_RULES: [(&[u8], bool); 5] = [
    (b"trusted.overlay.", false),
    (b"user.overlay.", false),
    (b"security.capability", true),
    (b"user.", true),
    (b"trusted.", true),
];

/// What a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskKind {
    /// A regular file: its size, and its identity for finding hard links.
    File {
        size: u64,
        dev: u64,
        ino: u64,
        links: u64,
    },
    Dir,
    Symlink(Vec<u8>),
    Char {
        major: u32,
        minor: u32,
    },
    Block {
        major: u32,
        minor: u32,
    },
    Fifo,
}

/// A path's metadata as a layer records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskEntry {
    pub kind: DiskKind,
    /// Permission, set-id and sticky bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Seconds since the epoch (fractions dropped).
    pub mtime: i64,
    /// Kept extended attributes, sorted by name.
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The metadata of `path`; `None` for a socket, which has no place in a layer.
pub fn inspect(path: &Path) -> Result<Option<DiskEntry>, Error> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    let Some(kind) = kind(path, &meta)? else { return Ok(None) };
    Ok(Some(DiskEntry {
        kind,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        mtime: meta.mtime(),
        xattrs: xattrs(path).map_err(|e| Error::io(path, e))?,
    }))
}

fn kind(path: &Path, meta: &Metadata) -> Result<Option<DiskKind>, Error> {
    let file_type = meta.file_type();
    let device = || {
        let rdev = meta.rdev() as libc::dev_t;
        (libc::major(rdev), libc::minor(rdev))
    };
    Ok(Some(if file_type.is_file() {
        DiskKind::File { size: meta.len(), dev: meta.dev(), ino: meta.ino(), links: meta.nlink() }
    } else if file_type.is_dir() {
        DiskKind::Dir
    } else if file_type.is_symlink() {
        let target = std::fs::read_link(path).map_err(|e| Error::io(path, e))?;
        DiskKind::Symlink(target.as_os_str().as_bytes().to_vec())
    } else if file_type.is_char_device() {
        let (major, minor) = device();
        DiskKind::Char { major, minor }
    } else if file_type.is_block_device() {
        let (major, minor) = device();
        DiskKind::Block { major, minor }
    } else if file_type.is_fifo() {
        DiskKind::Fifo
    } else {
        return Ok(None); // a socket
    }))
}

fn kept(name: &[u8]) -> bool {
    XATTR_RULES.iter().find(|(prefix, _)| name.starts_with(prefix)).is_some_and(|(_, keep)| *keep)
}

/// The kept extended attributes of `path` (not following a link), sorted by name.
fn xattrs(path: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in the path"))?;
    // SAFETY: read_sized hands a buffer of its own with its length; the path is a C string.
    let names = match read_sized(|buf, len| unsafe { libc::llistxattr(c_path.as_ptr(), buf, len) }) {
        Ok(names) => names,
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty() && kept(n)) {
        let c_name = CString::new(name).expect("split at NUL bytes");
        // SAFETY: read_sized hands a buffer of its own with its length; path and name are C strings.
        match read_sized(|buf, len| unsafe { libc::lgetxattr(c_path.as_ptr(), c_name.as_ptr(), buf.cast(), len) }) {
            Ok(value) => out.push((name.to_vec(), value)),
            // Not readable by this caller, or removed since it was listed.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES | libc::ENODATA)) => {}
            Err(e) => return Err(e),
        }
    }
    out.sort();
    Ok(out)
}

/// The bytes a `listxattr`/`getxattr`-style call gives: asked for its size first, then
/// read, again if it grew in between.
fn read_sized(call: impl Fn(*mut libc::c_char, usize) -> libc::ssize_t) -> io::Result<Vec<u8>> {
    loop {
        let size = call(std::ptr::null_mut(), 0);
        if size < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buffer = vec![0u8; size as usize];
        let got = call(buffer.as_mut_ptr().cast(), buffer.len());
        if got >= 0 {
            buffer.truncate(got as usize);
            return Ok(buffer);
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::ERANGE) {
            return Err(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xattr_rules() {
        for (name, keep) in [
            ("security.capability", true),
            ("security.selinux", false),
            ("user.test", true),
            ("user.overlay.opaque", false),
            ("trusted.overlay.opaque", false),
            ("trusted.md5", true),
            ("system.posix_acl_access", false),
        ] {
            assert_eq!(kept(name.as_bytes()), keep, "{name}");
        }
    }

    #[test]
    fn files_links_and_sockets() {
        let dir = std::env::temp_dir().join(format!("archway-disk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("f"), "abc").unwrap();
        std::os::unix::fs::symlink("f", dir.join("l")).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(dir.join("s")).unwrap();
        let file = inspect(&dir.join("f")).unwrap().unwrap();
        assert!(matches!(file.kind, DiskKind::File { size: 3, links: 1, .. }));
        assert_eq!(inspect(&dir.join("l")).unwrap().unwrap().kind, DiskKind::Symlink(b"f".to_vec()));
        assert_eq!(inspect(&dir.join("s")).unwrap(), None);
        assert!(inspect(&dir.join("missing")).unwrap_err().to_string().contains("missing"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
