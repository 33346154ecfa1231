//! Pushing to Debian's docker-registry (the CNCF distribution registry), each test's own,
//! started on 127.0.0.1 by scripts/registry.sh and stopped by its pid when the test ends
//! ([`Registry`]'s `Drop`). The images are umoci's (`archway_tests::images`): an arm64
//! and an amd64 image in one OCI layout and a two-platform index over them, read with
//! archway's own layout store. What arrives is checked by other tools: `skopeo inspect
//! --raw` must give the source's bytes, `skopeo copy --all` must bring back the same
//! blobs into a layout that validates against the image-spec.
//!
//! Credentials are never looked up in the real user's files: every test first points
//! `HOME`, `XDG_RUNTIME_DIR`, `DOCKER_CONFIG` and `REGISTRY_AUTH_FILE` into a directory
//! that does not exist ([`isolated_environment`]).

use archway_image::resolve::media;
use archway_image::{
    push_image, Digest, Document, Error, ImageRef, PushEvent, PushKind, PushStage, Pusher, RegistryOptions,
    RegistryRef, RegistryStore, Store,
};
use archway_tests::image_spec::validate_layout;
use archway_tests::images::{add_index, tagged, Content, Image};
use archway_tests::registry::{isolated_environment, Registry};
use archway_tests::sandboxed::Scratch;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Run `program` with `args`; its stdout.
fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} cannot run ({e}): scripts/install-image-tools.sh installs it"));
    assert!(
        output.status.success(),
        "{program} {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// An OCI layout made by umoci: `arm64` and `amd64` (one layer with a file naming the
/// architecture), and `multi`, an index of the two.
fn build_layout(dir: &Path) -> PathBuf {
    let layout = dir.join("layout");
    for arch in ["arm64", "amd64"] {
        let text = format!("built for {arch}\n").into_bytes();
        Image::new(arch, arch).file("arch.txt", Content::Bytes(text), 0o644).entrypoint(&["/arch.txt"]).build(&layout);
    }
    let platform = |arch: &str| serde_json::json!({"architecture": arch, "os": "linux"});
    add_index(&layout, "multi", &[("arm64", platform("arm64")), ("amd64", platform("amd64"))]);
    layout
}

/// The layout's store for `tag`, and its document.
fn source(layout: &Path, tag: &str) -> (Box<dyn Store>, Document) {
    let reference = ImageRef::parse(&format!("oci:{}:{tag}", layout.display())).unwrap();
    let mut store = archway_image::open(&reference, &RegistryOptions::default()).unwrap();
    let top = store.top().unwrap();
    (store, top)
}

fn plain_http() -> RegistryOptions {
    RegistryOptions { tls_verify: false, ..RegistryOptions::default() }
}

fn destination(text: &str) -> RegistryRef {
    RegistryRef::parse(text).unwrap()
}

/// Every event of a push, as `(kind, digest, stage)`, without the `Sent` ones; and the
/// bytes the `Sent` events reached per blob.
#[derive(Default)]
struct Recorded {
    steps: Vec<(PushKind, Digest, PushStage)>,
    sent: BTreeMap<Digest, u64>,
}

impl Recorded {
    fn record(&mut self, event: PushEvent<'_>) {
        match event.stage {
            PushStage::Sent(n) => {
                self.sent.insert(event.item.digest.clone(), n);
            }
            stage => self.steps.push((event.item.kind, event.item.digest.clone(), stage)),
        }
    }

    /// How each blob ended (`Done`, `Exists`, `Mounted`...), in order.
    fn blob_outcomes(&self) -> Vec<&PushStage> {
        self.steps
            .iter()
            .filter(|(kind, _, stage)| *kind == PushKind::Blob && *stage != PushStage::Started)
            .map(|(_, _, stage)| stage)
            .collect()
    }
}

/// Push `document` from `store` to `to`.
fn push(
    store: &mut dyn Store,
    document: &Document,
    to: &str,
    options: &RegistryOptions,
) -> (Result<Digest, Error>, Recorded) {
    let mut recorded = Recorded::default();
    let result = push_image(store, document, &destination(to), options, &mut |event| recorded.record(event));
    (result, recorded)
}

/// `skopeo inspect --raw` of `reference` on a plain-HTTP registry.
fn skopeo_raw(reference: &str, extra: &[&str]) -> Vec<u8> {
    let target = format!("docker://{reference}");
    let mut args = vec!["inspect", "--raw", "--tls-verify=false"];
    args.extend(extra);
    args.push(&target);
    run("skopeo", &args)
}

/// The digests of a manifest's config and layers.
fn blobs_of(manifest: &[u8]) -> Vec<Digest> {
    let manifest: serde_json::Value = serde_json::from_slice(manifest).unwrap();
    std::iter::once(&manifest["config"])
        .chain(manifest["layers"].as_array().unwrap())
        .map(|d| Digest::parse(d["digest"].as_str().unwrap()).unwrap())
        .collect()
}

/// The digests of an index's entries.
fn entries_of(index: &[u8]) -> Vec<Digest> {
    let index: serde_json::Value = serde_json::from_slice(index).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| Digest::parse(d["digest"].as_str().unwrap()).unwrap())
        .collect()
}

#[test]
fn images_and_indexes_pushed_byte_for_byte() {
    isolated_environment();
    let dir = Scratch::new("push-images");
    let layout = build_layout(&dir.0);
    let registry = Registry::start(&dir.0.join("registry"), None);
    let host = registry.host();

    // One image: its blobs, then its manifest under the tag, as the layout has them.
    let (mut store, image) = source(&layout, "arm64");
    let (digest, recorded) = push(&mut *store, &image, &format!("{host}/test/app:single"), &plain_http());
    assert_eq!(digest.unwrap(), image.digest);
    assert_eq!(image.digest.to_string(), tagged(&layout, "arm64")["digest"]);
    let raw = skopeo_raw(&format!("{host}/test/app:single"), &[]);
    assert_eq!(raw, image.bytes);
    let blobs = blobs_of(&image.bytes);
    let mut expected = Vec::new();
    for blob in &blobs {
        expected.push((PushKind::Blob, blob.clone(), PushStage::Started));
        expected.push((PushKind::Blob, blob.clone(), PushStage::Done));
    }
    expected.push((PushKind::Manifest, image.digest.clone(), PushStage::Started));
    expected.push((PushKind::Manifest, image.digest.clone(), PushStage::Done));
    assert_eq!(recorded.steps, expected);
    for blob in &blobs {
        let size = std::fs::metadata(layout.join("blobs/sha256").join(blob.hex())).unwrap().len();
        assert_eq!(recorded.sent[blob], size, "Sent reaches the size of {blob}");
    }

    // The index: the amd64 image's blobs and both manifests go first; the arm64 blobs are there.
    let (mut store, index) = source(&layout, "multi");
    let (digest, recorded) = push(&mut *store, &index, &format!("{host}/test/app:multi"), &plain_http());
    assert_eq!(digest.unwrap(), index.digest);
    assert_eq!(skopeo_raw(&format!("{host}/test/app:multi"), &[]), index.bytes);
    let entries = entries_of(&index.bytes);
    for entry in &entries {
        let raw = skopeo_raw(&format!("{host}/test/app@{entry}"), &[]);
        assert_eq!(Digest::of(&raw), *entry);
    }
    let manifest_steps: Vec<(&Digest, &PushStage)> = recorded
        .steps
        .iter()
        .filter(|(kind, _, _)| *kind == PushKind::Manifest)
        .map(|(_, digest, stage)| (digest, stage))
        .collect();
    assert_eq!(
        manifest_steps,
        [
            (&entries[0], &PushStage::Exists),
            (&entries[1], &PushStage::Started),
            (&entries[1], &PushStage::Done),
            (&index.digest, &PushStage::Started),
            (&index.digest, &PushStage::Done),
        ]
    );

    // skopeo brings back the very same blobs, in a layout that validates.
    let copy = dir.0.join("copy");
    let copy_arg = format!("oci:{}:multi", copy.display());
    run(
        "skopeo",
        &["copy", "--quiet", "--all", "--src-tls-verify=false", &format!("docker://{host}/test/app:multi"), &copy_arg],
    );
    assert_eq!(tagged(&copy, "multi")["digest"], index.digest.to_string());
    let mut copied = 0;
    for entry in std::fs::read_dir(copy.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let original = layout.join("blobs/sha256").join(entry.file_name());
        assert_eq!(std::fs::read(entry.path()).unwrap(), std::fs::read(&original).unwrap(), "{}", original.display());
        copied += 1;
    }
    assert_eq!(copied, 2 * blobs.len() + 3, "two images' blobs and manifests and the index");
    if let Err(problems) = validate_layout(&copy) {
        panic!("skopeo's copy does not validate: {problems:#?}");
    }

    // Again: every blob and manifest is there; only the index is put again.
    let (mut store, index) = source(&layout, "multi");
    let (digest, recorded) = push(&mut *store, &index, &format!("{host}/test/app:multi"), &plain_http());
    assert_eq!(digest.unwrap(), index.digest);
    assert!(recorded.sent.is_empty(), "nothing sent: {:?}", recorded.sent);
    assert_eq!(recorded.blob_outcomes(), vec![&PushStage::Exists; 2 * blobs.len()]);
    let started: Vec<&Digest> =
        recorded.steps.iter().filter(|(_, _, stage)| *stage == PushStage::Started).map(|(_, d, _)| d).collect();
    assert_eq!(started, [&index.digest]);

    // From the registry to another repository of it: every blob mounted, none sent.
    let from = destination(&format!("{host}/test/app:multi"));
    let mut registry_source = RegistryStore::new(&from, &plain_http()).unwrap();
    let top = registry_source.top().unwrap();
    let mut pusher =
        Pusher::new(&destination(&format!("{host}/other/app:multi")), &plain_http()).unwrap().mount_from(&from);
    let mut recorded = Recorded::default();
    let digest = pusher.push(&mut registry_source, &top, &mut |event| recorded.record(event)).unwrap();
    assert_eq!(digest, index.digest);
    let mounted = PushStage::Mounted { from: "test/app".into() };
    assert_eq!(recorded.blob_outcomes(), vec![&mounted; 2 * blobs.len()]);
    assert!(recorded.sent.is_empty());
    assert_eq!(skopeo_raw(&format!("{host}/other/app:multi"), &[]), index.bytes);

    // Docker's media types: a manifest list over two schema 2 manifests skopeo made.
    for arch in ["arm64", "amd64"] {
        let from = format!("oci:{}:{arch}", layout.display());
        let to = format!("docker://{host}/docker/src:{arch}");
        run("skopeo", &["copy", "--quiet", "--format", "v2s2", "--dest-tls-verify=false", &from, &to]);
    }
    let mut docker_source =
        RegistryStore::new(&destination(&format!("{host}/docker/src:arm64")), &plain_http()).unwrap();
    let manifests: Vec<serde_json::Value> = ["arm64", "amd64"]
        .iter()
        .map(|arch| {
            let top = RegistryStore::new(&destination(&format!("{host}/docker/src:{arch}")), &plain_http())
                .unwrap()
                .top()
                .unwrap();
            assert_eq!(top.media_type, media::DOCKER_MANIFEST);
            serde_json::json!({"mediaType": top.media_type, "digest": top.digest.to_string(), "size": top.bytes.len(),
                "platform": {"architecture": arch, "os": "linux"}})
        })
        .collect();
    let list = serde_json::json!({"schemaVersion": 2, "mediaType": media::DOCKER_LIST, "manifests": manifests});
    let bytes = serde_json::to_vec_pretty(&list).unwrap();
    let list = Document { media_type: media::DOCKER_LIST.into(), digest: Digest::of(&bytes), bytes };
    let (digest, recorded) = push(&mut docker_source, &list, &format!("{host}/docker/list:multi"), &plain_http());
    assert_eq!(digest.unwrap(), list.digest);
    assert_eq!(recorded.blob_outcomes(), vec![&PushStage::Done; 2 * blobs.len()], "{:?}", recorded.steps);
    assert_eq!(skopeo_raw(&format!("{host}/docker/list:multi"), &[]), list.bytes);
    let pulled =
        RegistryStore::new(&destination(&format!("{host}/docker/list:multi")), &plain_http()).unwrap().top().unwrap();
    assert_eq!((pulled.media_type.as_str(), pulled.digest), (media::DOCKER_LIST, list.digest.clone()));

    // By digest: the reference's digest must be the document's.
    let (mut store, image) = source(&layout, "amd64");
    let by_digest = format!("{host}/test/bydigest@{}", image.digest);
    assert_eq!(push(&mut *store, &image, &by_digest, &plain_http()).0.unwrap(), image.digest);
    assert_eq!(skopeo_raw(&by_digest, &[]), image.bytes);
    let wrong = format!("{host}/test/bydigest@{}", index.digest);
    let error = push(&mut *store, &image, &wrong, &plain_http()).0.unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "docker://{wrong}: the document to push has digest {}, not the reference's {}",
            image.digest, index.digest
        )
    );

    // A stopped registry: connection refused, naming the first blob.
    drop(registry);
    let (mut store, image) = source(&layout, "arm64");
    let error = push(&mut *store, &image, &format!("{host}/test/app:single"), &plain_http()).0.unwrap_err();
    assert!(matches!(error, Error::Registry { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "{host}: blob {} of test/app: connection refused by {host}: is the registry running and listening there? \
             (tried https and http)",
            blobs[0]
        )
    );
}

#[test]
fn basic_auth_with_htpasswd() {
    isolated_environment();
    let dir = Scratch::new("push-basic");
    let layout = build_layout(&dir.0);
    let htpasswd = dir.0.join("htpasswd");
    std::fs::write(&htpasswd, run("htpasswd", &["-Bbn", "alice", "s3cret"])).unwrap();
    let registry = Registry::start(&dir.0.join("registry"), Some(&htpasswd));
    let host = registry.host();
    let reference = format!("{host}/private/app:multi");
    let (mut store, index) = source(&layout, "multi");
    let blobs = blobs_of(&source(&layout, "arm64").1.bytes);

    // Without credentials, and with a wrong password: refused, saying how archway asked.
    let error = push(&mut *store, &index, &reference, &plain_http()).0.unwrap_err().to_string();
    let refused = format!(
        "{host}: blob {} of private/app: checking whether the registry has it: access refused (401 Unauthorized); \
         archway asked anonymously: no credentials for {host} in --creds or in ",
        blobs[0]
    );
    assert!(error.starts_with(&refused), "{error}");
    let wrong = RegistryOptions { credentials: Some(("alice".into(), "wrong".into())), ..plain_http() };
    let error = push(&mut *store, &index, &reference, &wrong).0.unwrap_err().to_string();
    assert!(error.ends_with("archway asked with the credentials of user \"alice\" from --creds"), "{error}");

    // With them: pushed, and skopeo with the same credentials reads the same bytes.
    let alice = RegistryOptions { credentials: Some(("alice".into(), "s3cret".into())), ..plain_http() };
    let (digest, recorded) = push(&mut *store, &index, &reference, &alice);
    assert_eq!(digest.unwrap(), index.digest);
    assert_eq!(recorded.blob_outcomes(), vec![&PushStage::Done; 2 * blobs.len()]);
    assert_eq!(skopeo_raw(&reference, &["--creds", "alice:s3cret"]), index.bytes);

    // Credentials from an auth file, as podman login writes them.
    let auth_file = dir.0.join("auth.json");
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    std::fs::write(&auth_file, format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#)).unwrap();
    let from_file = RegistryOptions { auth_file: Some(auth_file), ..plain_http() };
    let (digest, recorded) = push(&mut *store, &index, &format!("{host}/private/other:1"), &from_file);
    assert_eq!(digest.unwrap(), index.digest);
    assert_eq!(recorded.blob_outcomes(), vec![&PushStage::Done; 2 * blobs.len()]);
}
