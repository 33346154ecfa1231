//! Support for the tests that run programs in archway-sandbox (archway-check's smoke
//! test, archway-sandbox's own steps): Debian's busybox-static and tiny roots made of
//! it, the static interpreter, scratch directories, re-running a test as another user
//! or in another namespace, and finding the processes a run may have left.

use crate::workspace;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set in a re-executed test binary: do the inner part ([`rerun`]).
pub const INNER: &str = "ARCHWAY_TEST_INNER";

/// Debian's busybox-static for `arch` (`arm64`, `amd64`), fetched by
/// scripts/fetch-busybox.sh.
pub fn busybox(arch: &str) -> PathBuf {
    let path = workspace().join(format!(".cache/busybox/{arch}/bin/busybox"));
    assert!(path.is_file(), "{} missing: run scripts/fetch-busybox.sh", path.display());
    path
}

/// The static `archway-aarch64`: `$ARCHWAY_STATIC_BIN`, else the one
/// scripts/build-static.sh builds.
pub fn static_interpreter() -> PathBuf {
    let path = std::env::var_os("ARCHWAY_STATIC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/x86_64-unknown-linux-gnu/release/archway-aarch64"));
    assert!(path.is_file(), "{} missing: run scripts/build-static.sh", path.display());
    path
}

/// The directory of the static interpreter (`--interpreter-dir` of check and build).
pub fn interpreter_dir() -> PathBuf {
    static_interpreter().parent().expect("the interpreter is in a directory").to_path_buf()
}

/// A shell script that runs its arguments as `nobody` with the subordinate ranges
/// `$RANGES` (`nobody:START:COUNT`) in /etc/subuid and /etc/subgid, seen only in the
/// private mount namespace it is run in (`unshare --mount --propagation private sh -ec
/// SCRIPT sh COMMAND...`): the host's files are bound over when they exist, else a copy
/// of /etc with them added; `$SCRATCH` holds the files.
pub const AS_NOBODY_WITH_SUBORDINATE_IDS: &str = r#"
for name in subuid subgid; do printf '%s' "$RANGES" > "$SCRATCH/$name"; done
if [ -e /etc/subuid ] && [ -e /etc/subgid ]; then
  mount --bind "$SCRATCH/subuid" /etc/subuid
  mount --bind "$SCRATCH/subgid" /etc/subgid
else
  cp -a /etc "$SCRATCH/etc"
  cp "$SCRATCH/subuid" "$SCRATCH/subgid" "$SCRATCH/etc/"
  mount --bind "$SCRATCH/etc" /etc
fi
exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@""#;

/// A root in `dir/root` holding busybox for `arch` as /bin/busybox, and `applets` as
/// links to it in /bin.
pub fn busybox_root(dir: &Path, arch: &str, applets: &[&str]) -> PathBuf {
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("bin")).expect("root/bin");
    std::fs::copy(busybox(arch), root.join("bin/busybox")).expect("copy busybox");
    for applet in applets {
        symlink("busybox", root.join("bin").join(applet)).expect("applet link");
    }
    root
}

/// A scratch directory in the temporary directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// `archway-NAME-PID`, empty.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("archway-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run this test binary's test `name` again under `wrapper` (a command line whose last
/// argument the test binary follows), with [`INNER`] and `envs` set; its output if it
/// passed.
pub fn rerun(name: &str, wrapper: &[&str], envs: &[(&str, &Path)]) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let mut command = Command::new(wrapper[0]);
    command.args(&wrapper[1..]).arg(exe).args(["--exact", name, "--nocapture", "--test-threads=1"]).env(INNER, "1");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().expect("run the test binary again");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "inner {name} failed:\n{text}");
    assert!(text.contains("1 passed"), "inner {name} ran no test:\n{text}");
    text
}

/// Whether this is a test binary run again by [`rerun`].
pub fn inner() -> bool {
    std::env::var_os(INNER).is_some()
}

/// The processes of this machine whose environment holds `marker` (`NAME=value`).
pub fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ.split(|&b| b == 0).any(|variable| variable == marker.as_bytes()) {
            found.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    found
}
