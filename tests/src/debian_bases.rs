//! The Debian bookworm base images of the build tests (issue 11): an OCI layout tagged
//! `bookworm-amd64` and `bookworm-arm64`, made once by scripts/debian-base-images.sh
//! (debootstrap, umoci) and cached in `.cache/base-images/`, and their copies in a test
//! registry.

use crate::images::run;
use crate::workspace;
use std::path::PathBuf;
use std::process::Command;

/// The platforms of the base images, as their tags name them (`bookworm-ARCH`).
pub const ARCHES: [&str; 2] = ["amd64", "arm64"];

/// The base images' layout (made by the script the first time, then reused).
pub fn layout() -> PathBuf {
    let out = Command::new("bash").arg(workspace().join("scripts/debian-base-images.sh")).output().unwrap();
    assert!(out.status.success(), "scripts/debian-base-images.sh: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Copy both base images to the plain-HTTP registry at `host` (`127.0.0.1:PORT`) as
/// `debian:bookworm-amd64` and `debian:bookworm-arm64`.
pub fn push_to(host: &str) {
    let bases = layout();
    for arch in ARCHES {
        run(Command::new("skopeo").args([
            "copy",
            "-q",
            "--dest-tls-verify=false",
            &format!("oci:{}:bookworm-{arch}", bases.display()),
            &format!("docker://{host}/debian:bookworm-{arch}"),
        ]));
    }
}
