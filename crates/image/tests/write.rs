//! The write side end to end, judged by other tools: layers made from a real directory
//! tree with every kind of file, a two-platform image written into an OCI layout, then
//! read by the image-spec validator, umoci (unpacked and compared with the tree), skopeo
//! (the layout, skopeo's own archive of it, and archway's OCI and Docker archives) and
//! podman (`podman load` of the Docker archive, in a private storage). Two builds of the
//! same tree give the same digests; copies keep digests; a full disk leaves nothing.
//! Needs umoci, skopeo and podman (scripts/install-image-tools.sh); run as root (devices,
//! owners, tmpfs).

use archway_image::docker_archive::DockerArchiveStore;
use archway_image::files::Files;
use archway_image::layer::Compression;
use archway_image::layout::LayoutStore;
use archway_image::resolve::{media, resolve};
use archway_image::store::Store;
use archway_image::write::{
    copy_image, write_docker_archive, write_oci_archive, LayerBlob, LayerOptions, LayerWriter, LayoutWriter,
};
use archway_image::{Digest, Selector};
use archway_tests::image_spec::validate_layout;
use archway_tests::images::{run, Content, Image};
use oci_spec::image::Descriptor;
use serde_json::{json, Value};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// The SOURCE_DATE_EPOCH of these builds: 2023-11-14T22:13:20Z.
const EPOCH: i64 = 1_700_000_000;

/// A fresh scratch directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archway-write-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A path longer than 100 bytes (ustar's name field) and one longer than 255 (its name
/// and prefix fields together).
fn long_paths() -> [String; 2] {
    [
        format!("deep/{}/{}/file.txt", "d".repeat(60), "e".repeat(60)),
        format!("deep/{}/{}", "f".repeat(150), "g".repeat(150)),
    ]
}

/// The long symbolic link target.
fn long_target() -> String {
    format!("../{}/target", "t".repeat(120))
}

/// The base layer's tree: files the top layer removes.
fn base_tree(root: &Path) {
    for dir in ["etc", "var/cache"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(root.join("etc/hostname"), "old\n").unwrap();
    std::fs::write(root.join("etc/gone"), "removed by the top layer\n").unwrap();
    std::fs::write(root.join("var/cache/old"), "hidden by the opaque directory\n").unwrap();
}

/// The top layer's tree: every kind of file. Whether `user.test` could be set (the
/// file system may not have user xattrs).
fn full_tree(root: &Path) -> bool {
    for dir in ["etc", "bin", "tmp", "data", "dev", "var/cache", "run"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(root.join("etc/hostname"), "archway\n").unwrap();
    std::fs::write(root.join("bin/tool"), "#!/bin/sh\necho tool\n").unwrap();
    chmod(&root.join("bin/tool"), 0o4755);
    std::fs::write(root.join("bin/group-tool"), "#!/bin/sh\n").unwrap();
    chmod(&root.join("bin/group-tool"), 0o2755);
    chmod(&root.join("tmp"), 0o1777);
    std::fs::write(root.join("data/hard-a"), "one file, two names\n").unwrap();
    std::fs::hard_link(root.join("data/hard-a"), root.join("data/hard-b")).unwrap();
    std::os::unix::fs::symlink("hard-a", root.join("data/link")).unwrap();
    std::os::unix::fs::symlink(long_target(), root.join("data/long-link")).unwrap();
    // SAFETY: mkfifo with a C string path.
    assert_eq!(unsafe { libc::mkfifo(c_path(&root.join("data/fifo")).as_ptr(), 0o644) }, 0);
    std::fs::write(root.join("var/cache/new"), "made after the opaque marker\n").unwrap();
    let _ = std::os::unix::net::UnixListener::bind(root.join("run/socket")).unwrap();
    for long in long_paths() {
        let path = root.join(long);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "far down\n").unwrap();
    }
    if is_root() {
        let device = libc::makedev(1, 3);
        let node = c_path(&root.join("dev/null"));
        // SAFETY: mknod with a C string path.
        assert_eq!(unsafe { libc::mknod(node.as_ptr(), libc::S_IFCHR | 0o666, device) }, 0);
        std::fs::write(root.join("data/owned"), "by 1234:5678\n").unwrap();
        std::os::unix::fs::chown(root.join("data/owned"), Some(1234), Some(5678)).unwrap();
    }
    let (name, value) = (CString::new("user.test").unwrap(), b"xattr value");
    // SAFETY: setxattr with C strings and a value buffer with its length.
    let set = unsafe {
        libc::setxattr(
            c_path(&root.join("etc/hostname")).as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    set == 0
}

/// Every path below `root` (not `root` itself), in no particular order.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(root.join(&dir)).unwrap() {
            let entry = entry.unwrap();
            let relative = dir.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                pending.push(relative.clone());
            }
            out.push(relative);
        }
    }
    out
}

/// One layer of everything below `root`, with `whiteouts` and `opaque` directories.
fn layer_of(
    layout: &LayoutWriter,
    root: &Path,
    whiteouts: &[&str],
    opaque: &[&str],
    compression: Compression,
) -> LayerBlob {
    let options = LayerOptions { compression, source_date_epoch: Some(EPOCH), id_map: None };
    let mut writer = LayerWriter::new(layout.blobs(), options);
    for path in walk(root) {
        writer.add_path(root, &path).unwrap();
    }
    for path in whiteouts {
        writer.add_whiteout(Path::new(path)).unwrap();
    }
    for dir in opaque {
        writer.add_opaque(Path::new(dir)).unwrap();
    }
    writer.finish().unwrap()
}

/// What one build wrote.
struct Built {
    index: Descriptor,
    manifests: Vec<Descriptor>,
    diff_ids: Vec<Vec<Digest>>,
    xattr: bool,
}

/// Build the trees under `work` and write the two-platform image into `layout`
/// (created): amd64 with gzip layers, arm64 with the same base and a zstd top layer;
/// tags `multi` (the index), `amd64` and `arm64`.
fn build(work: &Path, layout_dir: &Path) -> Built {
    let (base, top) = (work.join("base"), work.join("top"));
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(&top).unwrap();
    base_tree(&base);
    let xattr = full_tree(&top);
    let mut layout = LayoutWriter::create(layout_dir).unwrap();
    let base_layer = layer_of(&layout, &base, &[], &[], Compression::Gzip);
    let mut manifests = Vec::new();
    let mut diff_ids = Vec::new();
    let mut entries = Vec::new();
    for (arch, compression) in [("amd64", Compression::Gzip), ("arm64", Compression::Zstd)] {
        let top_layer = layer_of(&layout, &top, &["etc/gone"], &["var/cache"], compression);
        let ids = vec![base_layer.diff_id.clone(), top_layer.diff_id.clone()];
        let config = json!({
            "created": "2023-11-14T22:13:20Z",
            "architecture": arch,
            "os": "linux",
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/tool"], "Labels": {"b": "2", "a": "1"}},
            "rootfs": {"type": "layers", "diff_ids": ids.iter().map(Digest::to_string).collect::<Vec<_>>()},
            "history": [
                {"created": "2023-11-14T22:13:20Z", "created_by": "base"},
                {"created": "2023-11-14T22:13:20Z", "created_by": "RUN everything # buildkit"}
            ]
        });
        let config = layout.put_json(media::OCI_CONFIG, &config).unwrap();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "config": config,
            "layers": [base_layer.descriptor, top_layer.descriptor],
        });
        let manifest = layout.put_json(media::OCI_MANIFEST, &manifest).unwrap();
        layout.tag(arch, &manifest).unwrap();
        let mut entry = serde_json::to_value(&manifest).unwrap();
        entry["platform"] = json!({"architecture": arch, "os": "linux"});
        entries.push(entry);
        manifests.push(manifest);
        diff_ids.push(ids);
    }
    let index = json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": entries});
    let index = layout.put_json(media::OCI_INDEX, &index).unwrap();
    layout.tag("multi", &index).unwrap();
    assert!(!layout_dir.exists(), "nothing at the destination before commit");
    layout.commit().unwrap();
    Built { index, manifests, diff_ids, xattr }
}

fn blob(layout: &Path, descriptor: &Descriptor) -> Vec<u8> {
    std::fs::read(layout.join("blobs/sha256").join(descriptor.digest().digest())).unwrap()
}

fn index_json(layout: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap()
}

fn tags(layout: &Path) -> Vec<String> {
    index_json(layout)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["annotations"]["org.opencontainers.image.ref.name"].as_str().unwrap_or("(none)").to_string())
        .collect()
}

/// The unpacked top layer, seen through umoci: contents, modes, links, owners, xattrs.
fn check_unpacked(rootfs: &Path, xattr: bool) {
    let read = |path: &str| std::fs::read_to_string(rootfs.join(path)).unwrap();
    let meta = |path: &str| std::fs::symlink_metadata(rootfs.join(path)).unwrap();
    assert_eq!(read("etc/hostname"), "archway\n", "the top layer's file replaces the base's");
    assert!(!rootfs.join("etc/gone").exists(), "whited out");
    assert!(!rootfs.join("var/cache/old").exists(), "hidden by the opaque directory");
    assert_eq!(read("var/cache/new"), "made after the opaque marker\n");
    assert_eq!(meta("bin/tool").mode() & 0o7777, 0o4755, "setuid");
    assert_eq!(meta("bin/group-tool").mode() & 0o7777, 0o2755, "setgid");
    assert_eq!(meta("tmp").mode() & 0o7777, 0o1777, "sticky");
    assert_eq!(meta("data/hard-a").ino(), meta("data/hard-b").ino(), "one file, two names");
    assert_eq!(meta("data/hard-a").nlink(), 2);
    assert_eq!(std::fs::read_link(rootfs.join("data/link")).unwrap(), Path::new("hard-a"));
    assert_eq!(std::fs::read_link(rootfs.join("data/long-link")).unwrap(), Path::new(&long_target()));
    assert!(meta("data/fifo").file_type().is_fifo());
    assert!(!rootfs.join("run/socket").exists(), "sockets are not stored");
    for long in long_paths() {
        assert_eq!(read(&long), "far down\n", "{long}");
    }
    if is_root() {
        let null = meta("dev/null");
        assert!(null.file_type().is_char_device());
        assert_eq!((libc::major(null.rdev()), libc::minor(null.rdev())), (1, 3));
        assert_eq!((meta("data/owned").uid(), meta("data/owned").gid()), (1234, 5678));
    }
    if xattr {
        let mut value = [0u8; 64];
        let name = CString::new("user.test").unwrap();
        // SAFETY: lgetxattr with C strings and a 64-byte buffer of ours.
        let n = unsafe {
            libc::lgetxattr(c_path(&rootfs.join("etc/hostname")).as_ptr(), name.as_ptr(), value.as_mut_ptr().cast(), 64)
        };
        assert_eq!(&value[..n.max(0) as usize], b"xattr value", "user.test survives");
    }
    let mtime = meta("bin/tool").mtime();
    assert_eq!(mtime, EPOCH, "times after SOURCE_DATE_EPOCH are lowered to it");
}

#[test]
fn a_two_platform_image_read_by_the_validator_umoci_skopeo_and_podman() {
    let dir = scratch("image");
    let layout = dir.join("layout");
    let built = build(&dir.join("work"), &layout);
    validate_layout(&layout).unwrap_or_else(|problems| panic!("{}", problems.join("\n")));
    assert_eq!(tags(&layout), ["amd64", "arm64", "multi"]);
    assert_eq!(std::fs::read(layout.join("oci-layout")).unwrap(), br#"{"imageLayoutVersion":"1.0.0"}"#);

    // skopeo reads the index, byte for byte, and each image.
    let oci = |tag: &str| format!("oci:{}:{tag}", layout.display());
    let raw = run(Command::new("skopeo").args(["inspect", "--raw", &oci("multi")]));
    assert_eq!(raw.as_bytes(), blob(&layout, &built.index));
    let inspect: Value = serde_json::from_str(&run(Command::new("skopeo").args(["inspect", &oci("arm64")]))).unwrap();
    assert_eq!(inspect["Architecture"], "arm64");
    assert_eq!(inspect["Labels"], json!({"a": "1", "b": "2"}));
    let copied = dir.join("skopeo.tar");
    run(Command::new("skopeo").args(["copy", "-q", &oci("multi"), &format!("oci-archive:{}", copied.display())]));
    assert!(copied.is_file());

    // umoci unpacks the amd64 image (gzip layers) with everything in place.
    let bundle = dir.join("bundle");
    let image = format!("{}:amd64", layout.display());
    run(Command::new("umoci").args(["unpack", "--image", &image]).arg(&bundle));
    check_unpacked(&bundle.join("rootfs"), built.xattr);

    // archway's OCI archive: skopeo and archway read it.
    let archive = dir.join("image.oci.tar");
    write_oci_archive(&layout, &archive).unwrap();
    let archived = format!("oci-archive:{}:multi", archive.display());
    assert_eq!(
        run(Command::new("skopeo").args(["inspect", "--raw", &archived])).as_bytes(),
        blob(&layout, &built.index)
    );
    let single = dir.join("single.oci.tar");
    let single_layout = dir.join("single-layout");
    let mut writer = LayoutWriter::create(&single_layout).unwrap();
    let mut source = LayoutStore::new(Files::dir(&layout).unwrap(), Selector::Tag("arm64".into())).unwrap();
    let top = source.top().unwrap();
    let copied_arm = copy_image(&mut source, &top, writer.blobs()).unwrap();
    writer.tag("arm64", &copied_arm).unwrap();
    writer.commit().unwrap();
    write_oci_archive(&single_layout, &single).unwrap();
    let plain: Value = serde_json::from_str(&run(
        Command::new("skopeo").args(["inspect", &format!("oci-archive:{}", single.display())])
    ))
    .unwrap();
    assert_eq!(plain["Digest"], built.manifests[1].digest().to_string());
    let mut store = LayoutStore::new(Files::tar(&archive).unwrap(), Selector::Tag("multi".into())).unwrap();
    let resolved = resolve(&mut store, &[]).unwrap();
    let platforms: Vec<String> = resolved.images.iter().map(|i| i.config_platform.to_string()).collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);

    // archway's Docker archive of the arm64 image (zstd top layer, stored uncompressed).
    let docker = dir.join("image.docker.tar");
    write_docker_archive(&mut source, &top, &["localhost/archway-write:arm64".into()], &docker).unwrap();
    let mut docker_store = DockerArchiveStore::new(Files::tar(&docker).unwrap(), Selector::Default).unwrap();
    let resolved = resolve(&mut docker_store, &[]).unwrap();
    let layers: Vec<String> = resolved.images[0].layers.iter().map(|l| l.digest().to_string()).collect();
    let expected: Vec<String> = built.diff_ids[1].iter().map(Digest::to_string).collect();
    assert_eq!(layers, expected, "archway reads the layers back by their diff_ids");
    let via_skopeo: Value = serde_json::from_str(&run(
        Command::new("skopeo").args(["inspect", &format!("docker-archive:{}", docker.display())])
    ))
    .unwrap();
    assert_eq!(via_skopeo["Architecture"], "arm64");

    // podman loads it into a private storage.
    let storage = dir.join("podman");
    let podman = |args: &[&str]| {
        let mut command = Command::new("podman");
        command
            .arg("--root")
            .arg(storage.join("root"))
            .arg("--runroot")
            .arg(storage.join("run"))
            .args(["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"])
            .args(args);
        run(&mut command)
    };
    let docker_path = docker.display().to_string();
    let loaded = podman(&["load", "-i", &docker_path]);
    assert!(loaded.contains("localhost/archway-write:arm64"), "{loaded}");
    let inspected: Value =
        serde_json::from_str(&podman(&["image", "inspect", "localhost/archway-write:arm64"])).unwrap();
    assert_eq!(inspected[0]["RootFS"]["Layers"], json!(expected));
    assert_eq!(inspected[0]["Architecture"], "arm64");
    let config_digest = resolved.images[0].config_digest.hex().to_string();
    assert_eq!(
        inspected[0]["Id"], config_digest,
        "the image ID is the config's digest: the config is kept byte for byte"
    );
    podman(&["rmi", "-a", "-f"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_builds_of_the_same_tree_give_the_same_digests() {
    let dir = scratch("reproducible");
    let first = build(&dir.join("work1"), &dir.join("layout1"));
    // Another tree made later: other inode numbers and times (all later than the epoch).
    std::thread::sleep(Duration::from_millis(1100));
    let second = build(&dir.join("work2"), &dir.join("layout2"));
    assert_eq!(first.index, second.index);
    assert_eq!(first.manifests, second.manifests);
    assert_eq!(first.diff_ids, second.diff_ids);
    assert_eq!(
        std::fs::read(dir.join("layout1/index.json")).unwrap(),
        std::fs::read(dir.join("layout2/index.json")).unwrap()
    );
    let oci = |n: u32| {
        let file = dir.join(format!("image{n}.tar"));
        write_oci_archive(&dir.join(format!("layout{n}")), &file).unwrap();
        std::fs::read(file).unwrap()
    };
    assert!(oci(1) == oci(2), "the OCI archives are byte-identical");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn copies_keep_every_digest() {
    let dir = scratch("copy");
    // A layout made by umoci.
    let umoci_layout = dir.join("umoci");
    Image::new("copied", "arm64")
        .file("etc/message", Content::Bytes(b"made by umoci\n".to_vec()), 0o644)
        .file("bin/sh", Content::Symlink("busybox"), 0o777)
        .build(&umoci_layout);
    let mut source = LayoutStore::new(Files::dir(&umoci_layout).unwrap(), Selector::Tag("copied".into())).unwrap();
    let top = source.top().unwrap();
    let copy = dir.join("copy");
    let mut writer = LayoutWriter::create(&copy).unwrap();
    let descriptor = copy_image(&mut source, &top, writer.blobs()).unwrap();
    assert_eq!(descriptor.digest().to_string(), top.digest.to_string());
    writer.tag("copied", &descriptor).unwrap();
    writer.commit().unwrap();
    validate_layout(&copy).unwrap_or_else(|problems| panic!("{}", problems.join("\n")));
    for entry in std::fs::read_dir(copy.join("blobs/sha256")).unwrap() {
        let name = entry.unwrap().file_name();
        let ours = std::fs::read(copy.join("blobs/sha256").join(&name)).unwrap();
        assert_eq!(ours, std::fs::read(umoci_layout.join("blobs/sha256").join(&name)).unwrap());
    }
    let skopeo = run(Command::new("skopeo").args(["inspect", "--raw", &format!("oci:{}:copied", copy.display())]));
    assert_eq!(skopeo.as_bytes(), top.bytes);

    // A whole two-platform index, into an existing layout (umoci's), beside its image.
    let ours = dir.join("ours");
    let built = build(&dir.join("work"), &ours);
    let mut source = LayoutStore::new(Files::dir(&ours).unwrap(), Selector::Tag("multi".into())).unwrap();
    let top = source.top().unwrap();
    let mut writer = LayoutWriter::open(&umoci_layout).unwrap();
    let descriptor = copy_image(&mut source, &top, writer.blobs()).unwrap();
    assert_eq!(descriptor, built.index);
    writer.tag("multi", &descriptor).unwrap();
    writer.commit().unwrap();
    assert_eq!(tags(&umoci_layout), ["copied", "multi"]);
    validate_layout(&umoci_layout).unwrap_or_else(|problems| panic!("{}", problems.join("\n")));
    let umoci_list = run(Command::new("umoci").args(["ls", "--layout"]).arg(&umoci_layout));
    assert_eq!(umoci_list.split_whitespace().collect::<Vec<_>>(), ["copied", "multi"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tags_are_replaced_and_kept_and_non_layouts_are_not_clobbered() {
    let dir = scratch("tags");
    let layout = dir.join("layout");
    let mut writer = LayoutWriter::create(&layout).unwrap();
    let one = writer.put_json(media::OCI_CONFIG, &json!({"architecture": "amd64", "os": "linux"})).unwrap();
    let two = writer.put_json(media::OCI_CONFIG, &json!({"architecture": "arm64", "os": "linux"})).unwrap();
    writer.tag("a", &one).unwrap();
    writer.tag("b", &one).unwrap();
    writer.add(&two);
    writer.add(&two);
    assert!(writer.tag("not a tag", &one).unwrap_err().to_string().contains("not a valid"));
    writer.commit().unwrap();
    assert_eq!(tags(&layout), ["a", "b", "(none)"]);
    // Re-tag "a" in place: the entry that had it is replaced, "b" kept.
    let mut writer = LayoutWriter::open(&layout).unwrap();
    writer.tag("a", &two).unwrap();
    writer.commit().unwrap();
    let index = index_json(&layout);
    assert_eq!(tags(&layout), ["a", "b", "(none)"]);
    assert_eq!(index["manifests"][0]["digest"], two.digest().to_string());
    assert_eq!(index["manifests"][1]["digest"], one.digest().to_string());
    let mut writer = LayoutWriter::open(&layout).unwrap();
    writer.untag("b");
    writer.commit().unwrap();
    assert_eq!(tags(&layout), ["a", "(none)"]);
    let mut writer = LayoutWriter::open(&layout).unwrap();
    writer.untag("b");
    assert!(writer.commit().unwrap_err().to_string().contains("no image tagged \"b\""));
    // Writers adding tags at once all keep theirs (index.json is changed under a lock).
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (layout, one) = (layout.clone(), one.clone());
            std::thread::spawn(move || {
                let mut writer = LayoutWriter::open(&layout).unwrap();
                writer.tag(&format!("t{i}"), &one).unwrap();
                writer.commit().unwrap();
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let mut all = tags(&layout);
    all.sort();
    assert_eq!(all, ["(none)", "a", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"]);
    // create replaces a layout whole...
    let mut writer = LayoutWriter::open_or_create(&dir.join("new")).unwrap();
    writer.tag("only", &one).unwrap();
    writer.commit().unwrap();
    let mut writer = LayoutWriter::create(&layout).unwrap();
    writer.tag("only", &one).unwrap();
    writer.commit().unwrap();
    assert_eq!(tags(&layout), ["only"]);
    assert_eq!(std::fs::read_dir(layout.join("blobs/sha256")).unwrap().count(), 0, "the old blobs went with it");
    // ...but nothing else.
    let precious = dir.join("precious");
    std::fs::create_dir_all(&precious).unwrap();
    std::fs::write(precious.join("notes.txt"), "mine").unwrap();
    let refused = LayoutWriter::create(&precious).err().unwrap().to_string();
    assert!(refused.contains("is not an OCI image layout") && refused.contains("precious"), "{refused}");
    assert!(LayoutWriter::open(&precious).err().unwrap().to_string().contains("oci-layout"));
    std::fs::write(dir.join("file"), "x").unwrap();
    assert!(LayoutWriter::create(&dir.join("file")).err().unwrap().to_string().contains("not a directory"));
    assert_eq!(std::fs::read(precious.join("notes.txt")).unwrap(), b"mine");
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".archway-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A tmpfs of 64 KiB at a directory, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        run(Command::new("mount").args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"]).arg(at));
        SmallDisk(at.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_leaves_nothing_half_written() {
    if !is_root() {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let dir = scratch("full");
    let disk = SmallDisk::mount(&dir.join("disk"));
    let big: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let listing = || {
        let mut names: Vec<String> =
            walk(&disk.0).iter().map(|p| p.display().to_string()).filter(|p| !p.starts_with("layout")).collect();
        names.sort();
        names
    };

    // A new layout: nothing at the destination, no temporary directory.
    let layout = disk.0.join("layout");
    let writer = LayoutWriter::create(&layout).unwrap();
    let error = writer.put_blob("application/octet-stream", &big).unwrap_err().to_string();
    assert!(error.contains("No space left on device"), "{error}");
    drop(writer);
    assert!(!layout.exists());
    assert_eq!(listing(), Vec::<String>::new());

    // An existing layout: index.json unchanged, no temporary file.
    let mut writer = LayoutWriter::create(&layout).unwrap();
    let small = writer.put_blob("application/octet-stream", b"small").unwrap();
    writer.tag("small", &small).unwrap();
    writer.commit().unwrap();
    let index_before = std::fs::read(layout.join("index.json")).unwrap();
    let mut writer = LayoutWriter::open(&layout).unwrap();
    let mut layer =
        LayerWriter::new(writer.blobs(), LayerOptions { compression: Compression::None, ..Default::default() });
    let source = dir.join("source");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("big"), &big).unwrap();
    layer.add_path(&source, Path::new("big")).unwrap();
    let error = layer.finish().unwrap_err().to_string();
    assert!(error.contains("No space left on device"), "{error}");
    writer.tag("big", &small).unwrap();
    drop(writer);
    assert_eq!(std::fs::read(layout.join("index.json")).unwrap(), index_before);
    let names: Vec<String> = walk(&layout).iter().map(|p| p.display().to_string()).collect();
    assert_eq!(names.len(), 5, "oci-layout, index.json, blobs, blobs/sha256, one blob: {names:?}");

    // An archive: nothing at the destination.
    let archive = disk.0.join("image.tar");
    let big_layout = dir.join("big-layout");
    let mut writer = LayoutWriter::create(&big_layout).unwrap();
    let blob = writer.put_blob("application/octet-stream", &big).unwrap();
    writer.tag("big", &blob).unwrap();
    writer.commit().unwrap();
    let error = write_oci_archive(&big_layout, &archive).unwrap_err().to_string();
    assert!(error.contains("No space left on device"), "{error}");
    assert!(!archive.exists());
    assert_eq!(listing(), Vec::<String>::new());
    drop(disk);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn layer_timestamps_survive_as_they_are_without_an_epoch() {
    let dir = scratch("times");
    std::fs::create_dir_all(dir.join("root")).unwrap();
    let file = dir.join("root/old");
    std::fs::write(&file, "x").unwrap();
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    std::fs::File::open(&file).unwrap().set_modified(old).unwrap();
    let layout = LayoutWriter::create(&dir.join("layout")).unwrap();
    let mut writer = LayerWriter::new(layout.blobs(), LayerOptions::default());
    writer.add_path(&dir.join("root"), Path::new("old")).unwrap();
    let layer = writer.finish().unwrap();
    let bytes =
        std::fs::read(layout.blobs().path(&Digest::parse(layer.descriptor.digest().as_ref()).unwrap())).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let entry = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.header().mtime().unwrap(), 1_000_000_000);
    assert_eq!(&bytes[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255], "gzip header: no name, time 0");
    std::fs::remove_dir_all(&dir).unwrap();
}
