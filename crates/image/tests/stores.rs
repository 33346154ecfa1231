//! The local transports end to end, on images made by other tools: umoci builds OCI
//! layouts, skopeo turns them into docker and OCI archives; archway resolves each one
//! and merges its layers. Corrupted and incomplete layouts give errors naming the blob.
//! Needs umoci and skopeo (scripts/install-image-tools.sh).

use archway_arch::Platform;
use archway_image::docker_archive::DockerArchiveStore;
use archway_image::files::Files;
use archway_image::layer;
use archway_image::layout::LayoutStore;
use archway_image::resolve::{resolve, Resolved};
use archway_image::store::Store;
use archway_image::tree::{NodeKind, Tree};
use archway_image::{Digest, Error, Selector};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn busybox(arch: &str) -> PathBuf {
    let p = workspace().join(".cache/busybox").join(arch).join("bin/busybox");
    assert!(p.is_file(), "{} missing: run scripts/fetch-busybox.sh", p.display());
    p
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/install-image-tools.sh installs umoci and skopeo)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A fresh scratch directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archway-image-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Add image `tag` to layout `layout` (made if missing) with umoci: a busybox root for
/// `arch` ("arm64" or "amd64") whose config says `config_arch`.
fn umoci_image(layout: &Path, tag: &str, arch: &str, config_arch: &str) {
    if !layout.join("oci-layout").exists() {
        run(Command::new("umoci").arg("init").arg("--layout").arg(layout));
    }
    let image = format!("{}:{tag}", layout.display());
    run(Command::new("umoci").args(["new", "--image", &image]));
    let bundle = layout.with_extension(format!("bundle-{tag}"));
    run(Command::new("umoci").args(["unpack", "--rootless", "--image", &image]).arg(&bundle));
    let root = bundle.join("rootfs");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy(busybox(arch), root.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/removed-later"), "x").unwrap();
    run(Command::new("umoci").args(["repack", "--image", &image]).arg(&bundle));
    // A second layer that removes a file of the first: a whiteout.
    std::fs::remove_dir_all(&bundle).unwrap();
    run(Command::new("umoci").args(["unpack", "--rootless", "--image", &image]).arg(&bundle));
    std::fs::remove_file(root.join("etc/removed-later")).unwrap();
    run(Command::new("umoci").args(["repack", "--image", &image]).arg(&bundle));
    run(Command::new("umoci").args([
        "config",
        "--image",
        &image,
        "--config.entrypoint",
        "/bin/sh",
        "--os",
        "linux",
        "--architecture",
        config_arch,
    ]));
    std::fs::remove_dir_all(&bundle).unwrap();
}

/// A merged view that keeps the first 20 bytes of every file.
type Heads = Tree<Vec<u8>>;

/// Resolve and merge every image.
fn merge_all(store: &mut dyn Store, wanted: &[Platform]) -> Result<(Resolved, Vec<Heads>), Error> {
    let resolved = resolve(store, wanted)?;
    let mut trees = Vec::new();
    for image in &resolved.images {
        let mut tree = Tree::default();
        for (i, descriptor) in image.layers.iter().enumerate() {
            let digest = Digest::parse(descriptor.digest().as_ref())?;
            let reader = store.open(descriptor)?;
            layer::apply(&mut tree, i, &digest, reader, &mut |f| {
                let mut head = vec![0u8; 20];
                let n = f.contents.read(&mut head)?;
                head.truncate(n);
                Ok(head)
            })?;
        }
        trees.push(tree);
    }
    Ok((resolved, trees))
}

fn busybox_machine(tree: &Tree<Vec<u8>>) -> &'static str {
    let (path, node) = tree.resolve("/bin/sh").expect("/bin/sh resolves");
    assert_eq!(path, "bin/busybox");
    match &node.kind {
        NodeKind::File(head) => archway_arch::Header::parse(head).unwrap().arch().unwrap().platform,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_umoci_layout_and_skopeos_archives_of_it() {
    let dir = scratch("transports");
    let layout = dir.join("layout");
    umoci_image(&layout, "app", "arm64", "arm64");
    let oci = format!("oci:{}:app", layout.display());
    run(Command::new("skopeo").args([
        "copy",
        "-q",
        &oci,
        &format!("docker-archive:{}:app:1", dir.join("d.tar").display()),
    ]));
    run(Command::new("skopeo").args(["copy", "-q", &oci, &format!("oci-archive:{}:app", dir.join("o.tar").display())]));
    let stores: Vec<Box<dyn Store>> = vec![
        Box::new(LayoutStore::new(Files::dir(&layout).unwrap(), Selector::Tag("app".into())).unwrap()),
        Box::new(LayoutStore::new(Files::tar(&dir.join("o.tar")).unwrap(), Selector::Default).unwrap()),
        Box::new(
            DockerArchiveStore::new(Files::tar(&dir.join("d.tar")).unwrap(), Selector::Tag("app:1".into())).unwrap(),
        ),
    ];
    for mut store in stores {
        let (resolved, trees) = merge_all(store.as_mut(), &[]).unwrap();
        assert_eq!(resolved.images.len(), 1);
        let image = &resolved.images[0];
        assert_eq!(image.config_platform.to_string(), "linux/arm64");
        assert_eq!(image.index_platform, None, "a manifest named directly");
        assert_eq!(busybox_machine(&trees[0]), "arm64");
        assert!(trees[0].get("etc/removed-later").is_none());
        assert_eq!(trees[0].removed.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(), ["etc/removed-later"]);
        let wrong = resolve(store.as_mut(), &[Platform::parse("linux/amd64").unwrap()]).unwrap_err();
        assert!(wrong.to_string().contains("not linux/amd64"), "{wrong}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Write `bytes` as a blob of `layout`; its descriptor JSON.
fn put_blob(layout: &Path, media_type: &str, bytes: &[u8]) -> serde_json::Value {
    let digest = Digest::of(bytes);
    std::fs::write(layout.join("blobs/sha256").join(digest.hex()), bytes).unwrap();
    serde_json::json!({"mediaType": media_type, "digest": digest.to_string(), "size": bytes.len()})
}

/// The descriptor of tag `tag` in `layout`'s index.json.
fn tagged(layout: &Path, tag: &str) -> serde_json::Value {
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap()
        .clone()
}

/// A layout with an arm64 image, an amd64 image, and a two-platform index tagged
/// `multi` over them with an attestation manifest beside them.
fn multi_platform_layout(dir: &Path) -> PathBuf {
    let layout = dir.join("multi");
    umoci_image(&layout, "arm", "arm64", "arm64");
    umoci_image(&layout, "x86", "amd64", "amd64");
    let mut arm = tagged(&layout, "arm");
    let mut x86 = tagged(&layout, "x86");
    arm.as_object_mut().unwrap().remove("annotations");
    x86.as_object_mut().unwrap().remove("annotations");
    arm["platform"] = serde_json::json!({"architecture": "arm64", "os": "linux", "variant": "v8"});
    x86["platform"] = serde_json::json!({"architecture": "amd64", "os": "linux"});
    let empty = put_blob(&layout, "application/vnd.oci.empty.v1+json", b"{}");
    let attestation_manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": empty, "layers": [put_blob(&layout, "application/vnd.in-toto+json", b"{\"predicate\":{}}")]
    });
    let mut attestation = put_blob(
        &layout,
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&attestation_manifest).unwrap(),
    );
    attestation["platform"] = serde_json::json!({"architecture": "unknown", "os": "unknown"});
    attestation["annotations"] = serde_json::json!({"vnd.docker.reference.type": "attestation-manifest"});
    let index = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [attestation, x86, arm]
    });
    let mut top = put_blob(&layout, "application/vnd.oci.image.index.v1+json", &serde_json::to_vec(&index).unwrap());
    top["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "multi"});
    let mut index_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    index_json["manifests"].as_array_mut().unwrap().push(top);
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index_json).unwrap()).unwrap();
    layout
}

#[test]
fn a_two_platform_index_with_an_attestation() {
    let dir = scratch("multi");
    let layout = multi_platform_layout(&dir);
    let mut store = LayoutStore::new(Files::dir(&layout).unwrap(), Selector::Tag("multi".into())).unwrap();
    let (resolved, trees) = merge_all(&mut store, &[]).unwrap();
    let platforms: Vec<String> =
        resolved.images.iter().map(|i| i.index_platform.clone().unwrap().to_string()).collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
    assert_eq!(resolved.set_aside.len(), 1);
    assert!(resolved.set_aside[0].reason.contains("attestation-manifest"), "{:?}", resolved.set_aside);
    assert_eq!(trees.iter().map(busybox_machine).collect::<Vec<_>>(), ["amd64", "arm64"]);
    let (only_arm, _) = merge_all(&mut store, &[Platform::parse("linux/arm64").unwrap()]).unwrap();
    assert_eq!(only_arm.images.len(), 1);
    assert_eq!(only_arm.images[0].config_platform.to_string(), "linux/arm64");
    let none = resolve(&mut store, &[Platform::parse("linux/s390x").unwrap()]).unwrap_err();
    assert!(none.to_string().contains("linux/amd64, linux/arm64/v8"), "{none}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_and_missing_blobs_name_the_blob() {
    let dir = scratch("corrupt");
    let layout = multi_platform_layout(&dir);
    let arm = tagged(&layout, "arm");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(layout.join("blobs/sha256").join(&arm["digest"].as_str().unwrap()[7..])).unwrap(),
    )
    .unwrap();
    let layer_hex = &manifest["layers"][0]["digest"].as_str().unwrap()[7..];
    // One flipped byte in the arm64 image's first layer.
    let layer_path = layout.join("blobs/sha256").join(layer_hex);
    let mut bytes = std::fs::read(&layer_path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&layer_path, &bytes).unwrap();
    let mut store = LayoutStore::new(Files::dir(&layout).unwrap(), Selector::Tag("arm".into())).unwrap();
    let error = merge_all(&mut store, &[]).unwrap_err().to_string();
    assert!(error.contains(layer_hex), "{error}");
    // The amd64 manifest's blob removed: the index that lists it is named.
    let x86 = tagged(&layout, "x86");
    std::fs::remove_file(layout.join("blobs/sha256").join(&x86["digest"].as_str().unwrap()[7..])).unwrap();
    let mut store = LayoutStore::new(Files::dir(&layout).unwrap(), Selector::Tag("multi".into())).unwrap();
    let error = resolve(&mut store, &[]).unwrap_err().to_string();
    assert!(error.contains(&x86["digest"].as_str().unwrap()[7..]) && error.contains("listed in index"), "{error}");
    assert!(LayoutStore::new(Files::dir(&dir).unwrap(), Selector::Default).is_err(), "no oci-layout file");
    std::fs::remove_dir_all(&dir).unwrap();
}
