//! The registry transport against Debian's docker-registry (the CNCF distribution
//! registry), each test's own, started on 127.0.0.1 by scripts/registry.sh and stopped
//! by its pid when the test ends, passing or failing ([`Registry`]'s `Drop`). Images are
//! made without a daemon: umoci builds an OCI layout (a one-file layer the test makes, on
//! an arm64 and an amd64 config), the test writes a two-platform index into it, and skopeo pushes
//! them. scripts/install-image-tools.sh installs the three tools.
//!
//! Credentials are never looked up in the real user's files: the first thing every test
//! does is point `HOME`, `XDG_RUNTIME_DIR`, `DOCKER_CONFIG` and `REGISTRY_AUTH_FILE` into
//! a directory that does not exist ([`isolated_environment`]).

use archway_image::{Digest, Document, Error, RegistryOptions, RegistryRef, RegistryStore, Store};
use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use archway_tests::registry::{isolated_environment, Registry};
use archway_tests::sandboxed::Scratch;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn run(program: &str, args: &[&str]) {
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
}

/// A tar with one file, `arch.txt`, holding `text`.
fn layer_tar(text: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, "arch.txt", text.as_bytes()).unwrap();
    builder.into_inner().unwrap()
}

/// An OCI layout made by umoci: tags `arm64` and `amd64` (one layer with one file that
/// names the architecture) and `multi`, an index of the two with their platforms.
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn build(dir: &Path) -> Layout {
        let layout = dir.join("layout");
        let layout_arg = layout.to_str().unwrap();
        run("umoci", &["init", "--layout", layout_arg]);
        for arch in ["arm64", "amd64"] {
            let image = format!("{layout_arg}:{arch}");
            let layer = dir.join(format!("{arch}.tar"));
            std::fs::write(&layer, layer_tar(&format!("built for {arch}\n"))).unwrap();
            run("umoci", &["new", "--image", &image]);
            // umoci compresses it (gzip); `umoci insert` would write a tar without its padding.
            run("umoci", &["raw", "add-layer", "--image", &image, layer.to_str().unwrap()]);
            run(
                "umoci",
                &[
                    "config",
                    "--image",
                    &image,
                    "--os",
                    "linux",
                    "--architecture",
                    arch,
                    "--config.entrypoint",
                    "/arch.txt",
                ],
            );
        }
        let layout = Layout { dir: layout };
        layout.add_index("multi");
        layout
    }

    fn index(&self) -> ImageIndex {
        ImageIndex::from_file(self.dir.join("index.json")).unwrap()
    }

    /// The descriptor index.json gives the tag.
    fn tagged(&self, tag: &str) -> Descriptor {
        let tagged = |d: &&Descriptor| {
            d.annotations().as_ref().and_then(|a| a.get("org.opencontainers.image.ref.name")).map(String::as_str)
                == Some(tag)
        };
        self.index().manifests().iter().find(tagged).unwrap().clone()
    }

    fn blob(&self, digest: &str) -> Vec<u8> {
        std::fs::read(self.dir.join("blobs/sha256").join(digest.trim_start_matches("sha256:"))).unwrap()
    }

    /// Writes an index of the `arm64` and `amd64` images (with platforms) as a blob and
    /// tags it `tag` in index.json.
    fn add_index(&self, tag: &str) {
        let manifests: Vec<serde_json::Value> = ["arm64", "amd64"]
            .iter()
            .map(|arch| {
                let d = self.tagged(arch);
                serde_json::json!({
                    "mediaType": OCI_MANIFEST, "digest": d.digest().to_string(), "size": d.size(),
                    "platform": {"architecture": arch, "os": "linux"}
                })
            })
            .collect();
        let index = serde_json::to_vec(
            &serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}),
        )
        .unwrap();
        let digest = Digest::of(&index);
        std::fs::write(self.dir.join("blobs/sha256").join(digest.hex()), &index).unwrap();
        let path = self.dir.join("index.json");
        let mut top: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        top["manifests"].as_array_mut().unwrap().push(serde_json::json!({
            "mediaType": OCI_INDEX, "digest": digest.to_string(), "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag}
        }));
        std::fs::write(&path, serde_json::to_vec(&top).unwrap()).unwrap();
    }

    /// `skopeo copy [--all] oci:LAYOUT:TAG docker://DESTINATION` over plain HTTP.
    fn push(&self, tag: &str, destination: &str, extra: &[&str]) {
        let source = format!("oci:{}:{tag}", self.dir.display());
        let destination = format!("docker://{destination}");
        let mut args = vec!["copy", "--quiet", "--dest-tls-verify=false"];
        args.extend(extra);
        args.extend([source.as_str(), destination.as_str()]);
        run("skopeo", &args);
    }
}

fn store(reference: &str, options: &RegistryOptions) -> RegistryStore {
    RegistryStore::new(&RegistryRef::parse(reference).unwrap(), options).unwrap()
}

fn plain_http() -> RegistryOptions {
    RegistryOptions { tls_verify: false, ..RegistryOptions::default() }
}

fn manifest_of(document: &Document) -> ImageManifest {
    serde_json::from_slice(&document.bytes).unwrap()
}

/// The layer of a one-layer image, streamed, with the one file it holds.
fn layer_file(store: &mut RegistryStore, manifest: &ImageManifest) -> (Vec<u8>, String) {
    let layer = &manifest.layers()[0];
    let mut bytes = Vec::new();
    store.open(layer).unwrap().read_to_end(&mut bytes).unwrap();
    let mut archive = tar::Archive::new(flate2::read::MultiGzDecoder::new(&bytes[..]));
    let mut text = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().ends_with("arch.txt") {
            entry.read_to_string(&mut text).unwrap();
        }
    }
    (bytes, text)
}

#[test]
fn images_and_indexes_from_a_registry() {
    isolated_environment();
    let dir = Scratch::new("registry-images");
    let layout = Layout::build(&dir.0);
    let registry = Registry::start(&dir.0.join("registry"), None);
    let host = registry.host();
    layout.push("arm64", &format!("{host}/test/app:t"), &[]);
    layout.push("multi", &format!("{host}/test/app:multi"), &["--all"]);

    // A manifest by tag: media type, digest and bytes as in the layout.
    let mut app = store(&format!("{host}/test/app:t"), &plain_http());
    let top = app.top().unwrap();
    let pushed = layout.tagged("arm64");
    assert_eq!(top.media_type, OCI_MANIFEST);
    assert_eq!(top.digest.to_string(), pushed.digest().to_string());
    assert_eq!(top.bytes, layout.blob(pushed.digest().as_ref()));
    let manifest = manifest_of(&top);
    let config = app.fetch(manifest.config()).unwrap();
    assert_eq!(config.bytes, layout.blob(manifest.config().digest().as_ref()));
    let config: ImageConfiguration = serde_json::from_slice(&config.bytes).unwrap();
    assert_eq!(config.architecture().to_string(), "arm64");
    let (layer, text) = layer_file(&mut app, &manifest);
    assert_eq!(Digest::of(&layer).to_string(), manifest.layers()[0].digest().to_string());
    assert_eq!(text, "built for arm64\n");

    // The index by tag, then each manifest by digest from /manifests/.
    let mut multi = store(&format!("{host}/test/app:multi"), &plain_http());
    let top = multi.top().unwrap();
    assert_eq!(top.media_type, OCI_INDEX);
    assert_eq!(top.digest.to_string(), layout.tagged("multi").digest().to_string());
    let index: ImageIndex = serde_json::from_slice(&top.bytes).unwrap();
    for (descriptor, arch) in index.manifests().iter().zip(["arm64", "amd64"]) {
        assert_eq!(descriptor.platform().as_ref().unwrap().architecture().to_string(), arch);
        let document = multi.fetch(descriptor).unwrap();
        assert_eq!(
            (document.media_type.as_str(), document.digest.to_string()),
            (OCI_MANIFEST, descriptor.digest().to_string())
        );
        let manifest = manifest_of(&document);
        assert_eq!(layer_file(&mut multi, &manifest).1, format!("built for {arch}\n"));
    }
    // A digest reference reads the same index, verified against the reference.
    let by_digest = format!("{host}/test/app@{}", top.digest);
    assert_eq!(store(&by_digest, &plain_http()).top().unwrap().bytes, top.bytes);

    // What the registry does not have.
    let absent = Digest::of(b"absent");
    let error = store(&format!("{host}/test/app@{absent}"), &plain_http()).top().unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("docker://{host}/test/app@{absent}: manifest unknown to the registry (404 Not Found: MANIFEST_UNKNOWN: manifest unknown)")
    );
    let error = store(&format!("{host}/test/app:nope"), &plain_http()).top().unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }) && error.to_string().contains("test/app:nope"), "{error}");
    let mut wrong_layer = manifest.layers()[0].clone();
    wrong_layer.set_digest(absent.to_string().parse().unwrap());
    let error = multi.open(&wrong_layer).err().unwrap();
    assert!(matches!(error, Error::Blob { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("blob {absent}: unknown to {host}/test/app (404 Not Found: BLOB_UNKNOWN: blob unknown to registry)")
    );

    // Verified TLS against a plain-HTTP registry.
    let error = store(&format!("{host}/test/app:t"), &RegistryOptions::default()).top().unwrap_err();
    assert!(matches!(error, Error::Registry { .. }), "{error:?}");
    assert!(
        error.to_string().starts_with(&format!("{host}: manifest test/app:t: TLS handshake with {host} failed ("))
            && error.to_string().ends_with("for a registry that serves plain HTTP, use --tls-verify=false"),
        "{error}"
    );

    // A stopped registry: connection refused, over https and http.
    drop(registry);
    let error = app.top().unwrap_err();
    assert!(matches!(error, Error::Registry { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "{host}: manifest test/app:t: connection refused by {host}: is the registry running and listening there?"
        )
    );
    let error = store(&format!("{host}/test/app:t"), &plain_http()).top().unwrap_err();
    assert!(
        error.to_string().ends_with("is the registry running and listening there? (tried https and http)"),
        "{error}"
    );
}

#[test]
fn basic_auth_with_htpasswd() {
    isolated_environment();
    let dir = Scratch::new("registry-basic");
    let layout = Layout::build(&dir.0);
    let htpasswd = dir.0.join("htpasswd");
    let output =
        Command::new("htpasswd").args(["-Bbn", "alice", "s3cret"]).output().expect("htpasswd (apache2-utils) runs");
    std::fs::write(&htpasswd, &output.stdout).unwrap();
    let registry = Registry::start(&dir.0.join("registry"), Some(&htpasswd));
    let host = registry.host();
    layout.push("amd64", &format!("{host}/private/app:1"), &["--dest-creds", "alice:s3cret"]);
    let reference = format!("{host}/private/app:1");

    let alice = RegistryOptions { credentials: Some(("alice".into(), "s3cret".into())), ..plain_http() };
    let mut private = store(&reference, &alice);
    let manifest = manifest_of(&private.top().unwrap());
    assert_eq!(layer_file(&mut private, &manifest).1, "built for amd64\n");

    let error = store(&reference, &plain_http()).top().unwrap_err().to_string();
    assert!(
        error.starts_with(&format!(
            "{host}: manifest private/app:1: access refused (401 Unauthorized: UNAUTHORIZED: authentication required); \
             archway asked anonymously: no credentials for {host} in --creds or in "
        )),
        "{error}"
    );
    let wrong = RegistryOptions { credentials: Some(("alice".into(), "wrong".into())), ..plain_http() };
    let error = store(&reference, &wrong).top().unwrap_err().to_string();
    assert!(error.ends_with("archway asked with the credentials of user \"alice\" from --creds"), "{error}");

    // Credentials from an auth file, as podman login writes them.
    let auth_file = dir.0.join("auth.json");
    let write_auth = |password: &str| {
        use base64::Engine as _;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("alice:{password}"));
        std::fs::write(&auth_file, format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#)).unwrap();
    };
    let from_file = RegistryOptions { auth_file: Some(auth_file.clone()), ..plain_http() };
    write_auth("s3cret");
    assert_eq!(
        store(&reference, &from_file).top().unwrap().digest.to_string(),
        layout.tagged("amd64").digest().to_string()
    );
    write_auth("wrong");
    let error = store(&reference, &from_file).top().unwrap_err().to_string();
    assert!(error.ends_with(&format!("from auth file {}", auth_file.display())), "{error}");
}
