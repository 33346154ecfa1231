//! Layers built here as tar streams (plain, gzip, zstd), applied to a tree: the image
//! spec's whiteout rules, and every hostile or broken entry refused with its name.

use super::*;
use std::io::Write;

/// An entry of a test layer.
enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Link(&'a str, &'a str),
    Hard(&'a str, &'a str),
    /// A raw name written into the header as is (the tar crate refuses `..`).
    Raw(&'a [u8]),
}

fn layer(entries: &[E]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o755);
        match e {
            E::File(path, data) => {
                h.set_size(data.len() as u64);
                h.set_entry_type(tar::EntryType::Regular);
                h.set_cksum();
                builder.append_data(&mut h, path, *data).unwrap();
            }
            E::Dir(path) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_cksum();
                builder.append_data(&mut h, path, &[][..]).unwrap();
            }
            E::Link(path, target) | E::Hard(path, target) => {
                h.set_entry_type(if matches!(e, E::Link(..)) { tar::EntryType::Symlink } else { tar::EntryType::Link });
                h.set_size(0);
                builder.append_link(&mut h, path, target).unwrap();
            }
            E::Raw(name) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(1);
                h.as_old_mut().name[..name.len()].copy_from_slice(name);
                h.set_cksum();
                builder.append(&h, &b"x"[..]).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

/// Apply layers in order, keeping each file's contents as its facts.
fn merged(layers: &[Vec<u8>]) -> Result<Tree<Vec<u8>>, Error> {
    let mut tree = Tree::default();
    for (i, bytes) in layers.iter().enumerate() {
        let digest = Digest::of(bytes);
        apply(&mut tree, i, &digest, &bytes[..], &mut |f: FileEntry| {
            let mut v = Vec::new();
            f.contents.read_to_end(&mut v)?;
            Ok(v)
        })?;
    }
    Ok(tree)
}

fn file(tree: &Tree<Vec<u8>>, path: &str) -> Option<Vec<u8>> {
    match tree.get(path).map(|n| &n.kind) {
        Some(NodeKind::File(bytes)) => Some(bytes.clone()),
        _ => None,
    }
}

#[test]
fn compressions_by_their_first_bytes() {
    let tar = layer(&[E::File("etc/hostname", b"guest\n")]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&tar[..], 3).unwrap();
    assert_eq!(
        (compression(&tar), compression(&gz), compression(&zst)),
        (Compression::None, Compression::Gzip, Compression::Zstd)
    );
    for bytes in [tar, gz, zst] {
        let tree = merged(&[bytes]).unwrap();
        assert_eq!(file(&tree, "etc/hostname").as_deref(), Some(&b"guest\n"[..]));
        assert!(matches!(tree.get("etc").unwrap().kind, NodeKind::Dir), "parents are made");
    }
}

#[test]
fn whiteouts_and_opaque_directories() {
    let base = layer(&[
        E::Dir("etc"),
        E::File("etc/a", b"a"),
        E::File("etc/b", b"b"),
        E::Dir("var/cache"),
        E::File("var/cache/x", b"x"),
        E::File("var/cache/y", b"y"),
    ]);
    let upper = layer(&[
        E::File("etc/.wh.a", b""),
        E::File("var/cache/.wh..wh..opq", b""),
        E::File("var/cache/z", b"z"),
        E::File("etc/b", b"B"),
    ]);
    let tree = merged(&[base, upper]).unwrap();
    assert_eq!(file(&tree, "etc/a"), None);
    assert_eq!(file(&tree, "etc/b").as_deref(), Some(&b"B"[..]), "a later layer replaces");
    assert_eq!((file(&tree, "var/cache/x"), file(&tree, "var/cache/y")), (None, None));
    assert_eq!(file(&tree, "var/cache/z").as_deref(), Some(&b"z"[..]), "the opaque layer's own entries stay");
    let removed: Vec<&str> = tree.removed.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(removed, ["etc/a", "var/cache/x", "var/cache/y"]);
    assert!(tree.get("etc/.wh.a").is_none(), "whiteouts are not files");
}

#[test]
fn a_file_replaces_a_directory_and_hard_links_share_contents() {
    let base = layer(&[E::Dir("opt/app"), E::File("opt/app/bin", b"1"), E::File("usr/bin/python3.11", b"elf")]);
    let upper = layer(&[E::File("opt/app", b"now a file"), E::Hard("usr/bin/python3", "usr/bin/python3.11")]);
    let tree = merged(&[base, upper]).unwrap();
    assert_eq!(file(&tree, "opt/app").as_deref(), Some(&b"now a file"[..]));
    assert!(tree.get("opt/app/bin").is_none());
    assert_eq!(file(&tree, "usr/bin/python3").as_deref(), Some(&b"elf"[..]));
}

#[test]
fn absolute_names_are_read_from_the_image_root_as_containerd_reads_them() {
    let tree = merged(&[layer(&[E::Raw(b"/etc/passwd")])]).unwrap();
    assert!(tree.get("etc/passwd").is_some());
}

fn refused(layers: &[Vec<u8>], entry_contains: &str, reason_contains: &str) {
    match merged(layers) {
        Err(Error::Layer { entry, reason, .. }) => {
            assert!(entry.contains(entry_contains), "entry {entry:?}, want {entry_contains:?}");
            assert!(reason.contains(reason_contains), "reason {reason:?}, want {reason_contains:?}");
        }
        other => panic!("want a layer error about {entry_contains}, got {other:?}"),
    }
}

#[test]
fn hostile_entries_are_refused_by_name() {
    refused(&[layer(&[E::Raw(b"../../etc/passwd")])], "../../etc/passwd", "leaves the root");
    refused(&[layer(&[E::Raw(b"/../etc/passwd")])], "/../etc/passwd", "leaves the root");
    refused(
        &[layer(&[E::Link("etc", "/tmp/host-etc"), E::File("etc/passwd", b"root::0:0")])],
        "etc/passwd",
        "through the symbolic link /etc",
    );
    refused(
        &[layer(&[E::Link("lib", "/usr/lib")]), layer(&[E::File("lib/x.so", b"")])],
        "lib/x.so",
        "symbolic link /lib",
    );
    refused(&[layer(&[E::Hard("bin/sh", "bin/busybox")])], "bin/sh", "does not exist");
    refused(&[layer(&[E::Hard("bin/sh", "../../host/file")])], "bin/sh", "outside the root");
}

#[test]
fn broken_streams_are_errors() {
    let good = layer(&[E::File("a", &[7u8; 5000])]);
    refused(&[good[..1024].to_vec()], "after a", "broken tar stream");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&good).unwrap();
    let gz = gz.finish().unwrap();
    assert!(merged(&[gz[..gz.len() / 2].to_vec()]).is_err(), "a truncated gzip layer");
    assert!(merged(&[b"this is not a tar stream at all, just text".repeat(20)]).is_err());
}

#[test]
fn the_whole_blob_is_verified_even_past_the_tar_end() {
    // A tar read to its end-of-archive blocks still checks the blob's digest: the bytes
    // after the last entry are read too.
    let bytes = layer(&[E::File("a", b"a")]);
    let mut tree: Tree<()> = Tree::default();
    let wrong = crate::digest::Verified::new(&bytes[..], Digest::of(b"something else"), bytes.len() as u64);
    let error = apply(&mut tree, 0, &Digest::of(&bytes), wrong, &mut |_| Ok(())).unwrap_err();
    assert!(error.to_string().contains("content has digest"), "{error}");
}
