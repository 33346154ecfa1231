//! Test images, built the way users build them without a daemon: a root directory made
//! from Debian packages (`apt-get download` + `dpkg-deb -x`), busybox-static and
//! cross-compiled programs, packed into an OCI layout by umoci (one layer, config by
//! `umoci config`), copied to other formats by skopeo. Multi-platform indexes, and the
//! broken images the error tests need, are written here by hand (and validated against
//! the image-spec schemas by the tests).
//!
//! Packages are downloaded once into `.cache/debs/` (the project's cache of .debs).

use crate::workspace;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Run `cmd`, panicking with its stderr when it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/install-image-tools.sh installs umoci and skopeo)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The .deb of Debian package `spec` (`libc6:arm64`), downloaded into `.cache/debs/`
/// once.
pub fn deb(spec: &str) -> PathBuf {
    let (name, arch) = spec.split_once(':').unwrap_or((spec, "amd64"));
    let dir = workspace().join(".cache/debs");
    std::fs::create_dir_all(&dir).unwrap();
    let find = || {
        std::fs::read_dir(&dir).ok()?.flatten().map(|e| e.path()).find(|p| {
            let file = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            file.starts_with(&format!("{name}_")) && file.ends_with(&format!("_{arch}.deb"))
        })
    };
    if let Some(found) = find() {
        return found;
    }
    run(Command::new("apt-get")
        .args(["download", "-qq", "-o", "APT::Sandbox::User=root", &format!("{name}:{arch}")])
        .current_dir(&dir));
    find().unwrap_or_else(|| panic!("apt-get download {spec} left no .deb in {}", dir.display()))
}

/// What a file of a test image is made from.
pub enum Content {
    /// A copy of a host file.
    Copy(PathBuf),
    Bytes(Vec<u8>),
    Symlink(&'static str),
    /// Everything a .deb unpacks ([`Image::package`]).
    Deb(PathBuf),
}

/// A test image.
pub struct Image {
    pub tag: &'static str,
    /// The config's architecture.
    pub arch: &'static str,
    pub entrypoint: Vec<&'static str>,
    pub cmd: Vec<&'static str>,
    pub env: Vec<&'static str>,
    /// (path in the image, content, mode).
    pub files: Vec<(&'static str, Content, u32)>,
}

impl Image {
    pub fn new(tag: &'static str, arch: &'static str) -> Image {
        Image { tag, arch, entrypoint: Vec::new(), cmd: Vec::new(), env: Vec::new(), files: Vec::new() }
    }

    /// Add a file.
    pub fn file(mut self, path: &'static str, content: Content, mode: u32) -> Image {
        self.files.push((path, content, mode));
        self
    }

    /// Everything Debian package `spec` (`libc6:arm64`) unpacks.
    pub fn package(mut self, spec: &str) -> Image {
        self.files.push(("", Content::Deb(deb(spec)), 0));
        self
    }

    /// busybox-static of `arch` at /bin/busybox with /bin/sh.
    pub fn busybox(self, arch: &str) -> Image {
        let binary = workspace().join(".cache/busybox").join(arch).join("bin/busybox");
        assert!(binary.is_file(), "{} missing: run scripts/fetch-busybox.sh", binary.display());
        self.file("bin/busybox", Content::Copy(binary), 0o755).file("bin/sh", Content::Symlink("busybox"), 0o777)
    }

    pub fn entrypoint(mut self, argv: &[&'static str]) -> Image {
        self.entrypoint = argv.to_vec();
        self
    }

    /// Build into OCI layout `layout` (made if missing) as tag `self.tag`.
    pub fn build(&self, layout: &Path) {
        if !layout.join("oci-layout").exists() {
            run(Command::new("umoci").arg("init").arg("--layout").arg(layout));
        }
        let image = format!("{}:{}", layout.display(), self.tag);
        run(Command::new("umoci").args(["new", "--image", &image]));
        let bundle = layout.with_file_name(format!("bundle-{}-{}", self.tag, std::process::id()));
        let _ = std::fs::remove_dir_all(&bundle);
        run(Command::new("umoci").args(["unpack", "--rootless", "--image", &image]).arg(&bundle));
        let root = bundle.join("rootfs");
        for (path, content, mode) in &self.files {
            let target = root.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            match content {
                Content::Copy(source) => {
                    std::fs::copy(source, &target).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
                }
                Content::Bytes(bytes) => std::fs::write(&target, bytes).unwrap(),
                Content::Symlink(link) => std::os::unix::fs::symlink(link, &target).unwrap(),
                Content::Deb(deb) => {
                    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&root));
                    continue;
                }
            }
            if !matches!(content, Content::Symlink(_)) {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(*mode)).unwrap();
            }
        }
        run(Command::new("umoci").args(["repack", "--image", &image]).arg(&bundle));
        let _ = std::fs::remove_dir_all(&bundle);
        let mut config = Command::new("umoci");
        config.args(["config", "--image", &image, "--os", "linux", "--architecture", self.arch]);
        for word in &self.entrypoint {
            config.args(["--config.entrypoint", word]);
        }
        for word in &self.cmd {
            config.args(["--config.cmd", word]);
        }
        for var in &self.env {
            config.args(["--config.env", var]);
        }
        run(&mut config);
    }
}

/// Read a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Write `bytes` as a blob of `layout`; its descriptor.
pub fn put_blob(layout: &Path, media_type: &str, bytes: &[u8]) -> serde_json::Value {
    use sha2::Digest as _;
    let hex = format!("{:x}", sha2::Sha256::digest(bytes));
    std::fs::write(layout.join("blobs/sha256").join(&hex), bytes).unwrap();
    serde_json::json!({"mediaType": media_type, "digest": format!("sha256:{hex}"), "size": bytes.len()})
}

/// The `index.json` descriptor of tag `tag`.
pub fn tagged(layout: &Path, tag: &str) -> serde_json::Value {
    read_json(&layout.join("index.json"))["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no tag {tag} in {}", layout.display()))
        .clone()
}

/// Add an index tagged `tag` over the images tagged `entries[i].0`, each listed with
/// platform `entries[i].1` (`{"architecture": ..., "os": ...}`).
pub fn add_index(layout: &Path, tag: &str, entries: &[(&str, serde_json::Value)]) {
    let manifests: Vec<serde_json::Value> = entries
        .iter()
        .map(|(image, platform)| {
            let mut d = tagged(layout, image);
            d.as_object_mut().unwrap().remove("annotations");
            d["platform"] = platform.clone();
            d
        })
        .collect();
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    let mut top =
        put_blob(layout, "application/vnd.oci.image.index.v1+json", &serde_json::to_vec_pretty(&index).unwrap());
    top["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
    let mut index_json = read_json(&layout.join("index.json"));
    index_json["manifests"].as_array_mut().unwrap().push(top);
    std::fs::write(layout.join("index.json"), serde_json::to_vec_pretty(&index_json).unwrap()).unwrap();
}
