use super::*;
use crate::layer::{apply, decompressed};
use crate::tree::{NodeKind, Tree};
use std::time::{Duration, SystemTime};

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archway-write-layer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn set_mtime(path: &Path, seconds: u64) {
    File::open(path).unwrap().set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)).unwrap();
}

/// A small tree: `a/`, `a/b/`, `a/z`, `a.b`, `hard1` and `hard2` (one file), `link`.
fn tree(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    std::fs::write(root.join("a/z"), "zzz").unwrap();
    std::fs::write(root.join("a.b"), "dot").unwrap();
    std::fs::write(root.join("hard1"), "shared").unwrap();
    std::fs::hard_link(root.join("hard1"), root.join("hard2")).unwrap();
    std::os::unix::fs::symlink("a/z", root.join("link")).unwrap();
    for (path, time) in [("a/z", 2000), ("a.b", 4000), ("hard1", 1000), ("a/b", 1000), ("a", 1000)] {
        set_mtime(&root.join(path), time);
    }
    (dir, root)
}

const PATHS: [&str; 7] = ["a", "a/b", "a/z", "a.b", "hard1", "hard2", "link"];

/// Write a layer of `paths` (in this order) plus a whiteout of `a/gone` and `a` opaque.
fn write(blobs: &BlobStore, root: &Path, paths: &[&str], options: LayerOptions) -> LayerBlob {
    let mut writer = LayerWriter::new(blobs, options);
    writer.add_opaque(Path::new("a")).unwrap();
    for path in paths {
        writer.add_path(root, Path::new(path)).unwrap();
    }
    writer.add_whiteout(Path::new("a/gone")).unwrap();
    writer.finish().unwrap()
}

/// (path, type, link, size, mtime, uid) of every entry of a layer blob.
fn entries(blobs: &BlobStore, layer: &LayerBlob) -> Vec<(String, char, String, u64, u64, u64)> {
    let digest = Digest::parse(layer.descriptor.digest().as_ref()).unwrap();
    let bytes = std::fs::read(blobs.path(&digest)).unwrap();
    assert_eq!(Digest::of(&bytes), digest);
    assert_eq!(bytes.len() as u64, layer.descriptor.size());
    let mut tar = Vec::new();
    decompressed(&bytes[..]).unwrap().read_to_end(&mut tar).unwrap();
    assert_eq!(Digest::of(&tar), layer.diff_id);
    let mut archive = tar::Archive::new(&tar[..]);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                String::from_utf8(e.path_bytes().to_vec()).unwrap(),
                h.entry_type().as_byte() as char,
                e.link_name_bytes().map(|l| String::from_utf8(l.to_vec()).unwrap()).unwrap_or_default(),
                h.size().unwrap(),
                h.mtime().unwrap(),
                h.uid().unwrap(),
            )
        })
        .collect()
}

#[test]
fn entries_are_sorted_and_bytes_do_not_depend_on_the_order_of_adding() {
    let (dir, root) = tree("order");
    let blobs = BlobStore::new(&dir.join("layout")).unwrap();
    let forward = write(&blobs, &root, &PATHS, LayerOptions::default());
    let mut reversed = PATHS;
    reversed.reverse();
    let backward = write(&blobs, &root, &reversed, LayerOptions::default());
    assert_eq!(forward.descriptor, backward.descriptor);
    assert_eq!(forward.descriptor.media_type().to_string(), "application/vnd.oci.image.layer.v1.tar+gzip");
    let names: Vec<(String, char, String)> =
        entries(&blobs, &forward).into_iter().map(|(path, kind, link, ..)| (path, kind, link)).collect();
    let expected = [
        ("a/", '5', ""),
        ("a/.wh..wh..opq", '0', ""),
        ("a/.wh.gone", '0', ""),
        ("a/b/", '5', ""),
        ("a/z", '0', ""),
        ("a.b", '0', ""),
        ("hard1", '0', ""),
        ("hard2", '1', "hard1"),
        ("link", '2', "a/z"),
    ];
    let expected: Vec<(String, char, String)> =
        expected.iter().map(|(p, k, l)| (p.to_string(), *k, l.to_string())).collect();
    assert_eq!(names, expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_compression_has_the_same_diff_id() {
    let (dir, root) = tree("compression");
    let blobs = BlobStore::new(&dir.join("layout")).unwrap();
    let layers: Vec<LayerBlob> = [Compression::None, Compression::Gzip, Compression::Zstd]
        .into_iter()
        .map(|compression| write(&blobs, &root, &PATHS, LayerOptions { compression, ..LayerOptions::default() }))
        .collect();
    assert_eq!(layers[0].diff_id, layers[1].diff_id);
    assert_eq!(layers[0].diff_id, layers[2].diff_id);
    assert_eq!(layers[0].descriptor.digest().to_string(), layers[0].diff_id.to_string());
    assert_eq!(layers[2].descriptor.media_type().to_string(), "application/vnd.oci.image.layer.v1.tar+zstd");
    for layer in &layers {
        assert_eq!(entries(&blobs, layer).len(), 9);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn times_later_than_source_date_epoch_are_lowered_and_owners_mapped() {
    let (dir, root) = tree("epoch");
    let blobs = BlobStore::new(&dir.join("layout")).unwrap();
    let options = LayerOptions {
        source_date_epoch: Some(3000),
        id_map: Some(Arc::new(|uid, gid| (uid + 7, gid))),
        ..LayerOptions::default()
    };
    let layer = write(&blobs, &root, &PATHS, options);
    let uid = std::fs::metadata(&root).unwrap().uid() as u64 + 7;
    let times: Vec<(String, u64, u64)> =
        entries(&blobs, &layer).into_iter().map(|(path, _, _, _, mtime, uid)| (path, mtime, uid)).collect();
    for (path, mtime, owner) in times {
        match path.as_str() {
            "a/z" => assert_eq!(mtime, 2000, "earlier than the epoch: kept"),
            "a.b" => assert_eq!(mtime, 3000, "later: lowered"),
            "a/.wh.gone" | "a/.wh..wh..opq" => assert_eq!((mtime, owner), (0, 0), "markers"),
            "link" => assert!(mtime <= 3000),
            _ => {}
        }
        if !path.contains(".wh.") {
            assert_eq!(owner, uid, "{path}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn archways_reader_applies_the_layer() {
    let (dir, root) = tree("apply");
    let blobs = BlobStore::new(&dir.join("layout")).unwrap();
    let layer = write(&blobs, &root, &PATHS, LayerOptions::default());
    let digest = Digest::parse(layer.descriptor.digest().as_ref()).unwrap();
    let mut tree: Tree<Vec<u8>> = Tree::default();
    let bytes = std::fs::read(blobs.path(&digest)).unwrap();
    apply(&mut tree, 0, &digest, &bytes[..], &mut |f| {
        let mut contents = Vec::new();
        f.contents.read_to_end(&mut contents)?;
        Ok(contents)
    })
    .unwrap();
    assert_eq!(tree.get("hard2").unwrap().kind, NodeKind::File(b"shared".to_vec()));
    assert_eq!(tree.get("link").unwrap().kind, NodeKind::Symlink("a/z".into()));
    assert_eq!(tree.get("a/z").unwrap().kind, NodeKind::File(b"zzz".to_vec()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_paths_are_refused_by_name() {
    let (dir, root) = tree("refused");
    let blobs = BlobStore::new(&dir.join("layout")).unwrap();
    let mut writer = LayerWriter::new(&blobs, LayerOptions::default());
    let error = |result: Result<(), Error>| result.unwrap_err().to_string();
    assert!(error(writer.add_path(&root, Path::new("../etc/passwd"))).contains("not a relative path inside the root"));
    assert!(error(writer.add_path(&root, Path::new("/etc/passwd"))).contains("not a relative path inside the root"));
    assert!(error(writer.add_path(&root, Path::new("."))).contains("root directory itself"));
    std::fs::write(root.join(".wh.x"), "").unwrap();
    assert!(error(writer.add_path(&root, Path::new(".wh.x"))).contains("would read as a whiteout"));
    assert!(error(writer.add_whiteout(Path::new(".wh.x"))).contains("a whiteout of a whiteout"));
    // Through a symbolic link to a directory: refused, whatever is behind it.
    std::os::unix::fs::symlink("a", root.join("dirlink")).unwrap();
    assert!(error(writer.add_path(&root, Path::new("dirlink/z"))).contains("dirlink is not a directory"));
    writer.add_path(&root, Path::new("a/z")).unwrap();
    assert!(error(writer.add_path(&root, Path::new("./a/z"))).contains("a/z: added to the layer twice"));
    writer.add_whiteout(Path::new("a/gone")).unwrap();
    assert!(error(writer.add_whiteout(Path::new("a/gone"))).contains("twice"));
    // A socket is skipped.
    let _socket = std::os::unix::net::UnixListener::bind(root.join("socket")).unwrap();
    writer.add_path(&root, Path::new("socket")).unwrap();
    // A file that changes between adding and writing.
    std::fs::write(root.join("a/z"), "longer now").unwrap();
    let changed = writer.finish().unwrap_err().to_string();
    assert!(changed.contains("root/a/z: changed since it was added to the layer"), "{changed}");
    let layout_files: Vec<_> = std::fs::read_dir(dir.join("layout")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(layout_files, ["blobs"], "no temporary file left");
    assert_eq!(std::fs::read_dir(dir.join("layout/blobs/sha256")).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
