//! An exact unpack (a build's stage root): two layers applied to a tree, written to disk,
//! and given their owners, modes, FIFOs and devices, extended attributes and times; a
//! whiteout in the upper layer removes a file of the lower one.

use archway_image::tree::Tree;
use archway_image::{layer, unpack, Digest};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// The value of extended attribute `name` of `path`, if it has one.
fn xattr_of(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let name = std::ffi::CString::new(name).unwrap();
    let mut buffer = [0u8; 64];
    // SAFETY: valid C strings and a buffer of the length given.
    let n = unsafe { libc::lgetxattr(path.as_ptr(), name.as_ptr(), buffer.as_mut_ptr().cast(), buffer.len()) };
    (n >= 0).then(|| buffer[..n as usize].to_vec())
}

fn header(kind: tar::EntryType, mode: u32, uid: u64, size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(uid);
    header.set_gid(uid);
    header.set_size(size);
    header.set_mtime(1_000_000_000 + uid);
    header
}

/// One PAX record, `LEN key=value\n`, its length counting its own digits.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut length = body.len();
    while length.to_string().len() + body.len() != length {
        length = length.to_string().len() + body.len();
    }
    format!("{length}{body}").into_bytes()
}

fn lower_layer() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_data(&mut header(tar::EntryType::Directory, 0o1777, 0, 0), "tmp", &[][..]).unwrap();
    tar.append_data(&mut header(tar::EntryType::Directory, 0o700, 42, 0), "var/cache/partial", &[][..]).unwrap();
    tar.append_data(&mut header(tar::EntryType::Regular, 0o4755, 0, 4), "usr/bin/su", &b"\x7fELF"[..]).unwrap();
    let pax = pax_record("SCHILY.xattr.user.archway", "kept");
    let mut pax_header = header(tar::EntryType::XHeader, 0o644, 0, pax.len() as u64);
    tar.append_data(&mut pax_header, "PaxHeaders/capable", &pax[..]).unwrap();
    tar.append_data(&mut header(tar::EntryType::Regular, 0o644, 1000, 5), "home/user/notes", &b"hello"[..]).unwrap();
    tar.append_data(&mut header(tar::EntryType::Regular, 0o644, 0, 3), "etc/old", &b"old"[..]).unwrap();
    tar.append_data(&mut header(tar::EntryType::Fifo, 0o600, 0, 0), "run/fifo", &[][..]).unwrap();
    let mut null = header(tar::EntryType::Char, 0o666, 0, 0);
    null.set_device_major(1).unwrap();
    null.set_device_minor(3).unwrap();
    tar.append_data(&mut null, "dev/null", &[][..]).unwrap();
    tar.into_inner().unwrap()
}

fn upper_layer() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_data(&mut header(tar::EntryType::Regular, 0o644, 0, 0), "etc/.wh.old", &[][..]).unwrap();
    let mut link = header(tar::EntryType::Link, 0o644, 1000, 0);
    tar.append_link(&mut link, "home/user/same", "home/user/notes").unwrap();
    tar.into_inner().unwrap()
}

#[test]
fn an_exact_unpack_keeps_owners_modes_specials_xattrs_and_times() {
    let layers = [lower_layer(), upper_layer()];
    let digests: Vec<Digest> = layers.iter().map(|l| Digest::of(l)).collect();
    let mut tree: Tree<()> = Tree::default();
    for (index, bytes) in layers.iter().enumerate() {
        layer::apply(&mut tree, index, &digests[index], &bytes[..], &mut |_| Ok(())).unwrap();
    }
    let dest = std::env::temp_dir().join(format!("archway-unpack-exact-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir(&dest).unwrap();
    unpack::skeleton(&tree, &dest).unwrap();
    for (index, bytes) in layers.iter().enumerate() {
        unpack::layer_files(&tree, &dest, index, &digests[index], &bytes[..]).unwrap();
    }
    let skipped = unpack::attributes(&tree, &dest, true).unwrap();
    let meta = |path: &str| std::fs::symlink_metadata(dest.join(path)).unwrap();
    assert_eq!(meta("tmp").mode() & 0o7777, 0o1777);
    assert_eq!((meta("var/cache/partial").uid(), meta("var/cache/partial").mode() & 0o7777), (42, 0o700));
    assert_eq!(meta("usr/bin/su").mode() & 0o7777, 0o4755);
    assert_eq!((meta("home/user/notes").uid(), meta("home/user/notes").mtime()), (1000, 1_000_001_000));
    assert_eq!(meta("home/user/same").ino(), meta("home/user/notes").ino(), "a hard link stays one file");
    assert!(!dest.join("etc/old").exists(), "the upper layer's whiteout removed it");
    assert!(meta("run/fifo").file_type().is_fifo());
    let null = meta("dev/null");
    if skipped.devices.is_empty() {
        assert!(null.file_type().is_char_device() && null.rdev() == libc::makedev(1, 3));
    } else {
        assert_eq!(skipped.devices, ["dev/null"], "only the device node may be refused (in a user namespace)");
    }
    assert_eq!(meta("tmp").mtime(), 1_000_000_000);
    let xattr = xattr_of(&dest.join("home/user/notes"), "user.archway");
    assert!(xattr.as_deref() == Some(&b"kept"[..]) || skipped.xattrs.iter().any(|x| x.contains("user.archway")));
    std::fs::remove_dir_all(&dest).unwrap();
}
