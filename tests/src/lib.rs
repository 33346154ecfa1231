//! Support for archway's end-to-end tests: finding the binaries under test and the
//! oracle, the guest fixtures' manifest ([`fixtures`]), running programs with a time limit, and describing how they ended; container
//! engines ([`engines`]) and the host's binfmt_misc table ([`host_binfmt`]) for the
//! container tests; test images for the readiness check ([`images`]), the Debian base
//! images of the build tests ([`debian_bases`]), their validation against the OCI
//! image-spec ([`image_spec`]) and a real registry ([`registry`]);
//! busybox roots, scratch directories and re-runs as another user for the sandbox
//! tests ([`sandboxed`]); qemu with a binfmt_misc table of its own ([`qemu_binfmt`]).

pub mod debian_bases;
pub mod engines;
pub mod fixtures;
pub mod host_binfmt;
pub mod image_spec;
pub mod images;
pub mod qemu_binfmt;
pub mod registry;
pub mod sandboxed;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ lives in the workspace").to_path_buf()
}

/// The `archway` binary under test: `$ARCHWAY_BIN`, else the release build.
pub fn archway_bin() -> PathBuf {
    let path = std::env::var_os("ARCHWAY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/release/archway"));
    assert!(
        path.is_file(),
        "{} is missing: build it first (`cargo build --release --bins`, which scripts/test.sh does)",
        path.display()
    );
    path
}

/// `archway-aarch64` built for arm64 hosts (`scripts/cross-aarch64.sh build`, which
/// scripts/test.sh does): `$ARCHWAY_ARM64_HOST_BIN`, else the release build under
/// target/aarch64-unknown-linux-gnu/. It runs here under qemu-aarch64-static or under
/// archway itself, as if on an arm64 host.
pub fn arm64_host_bin() -> PathBuf {
    let path = std::env::var_os("ARCHWAY_ARM64_HOST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/aarch64-unknown-linux-gnu/release/archway-aarch64"));
    assert!(
        path.is_file(),
        "{} is missing: build it first (`bash scripts/cross-aarch64.sh build --release -p archway --bin archway-aarch64`, which scripts/test.sh does)",
        path.display()
    );
    path
}

/// A binary next to `archway` (e.g. `archway-aarch64`).
pub fn sibling_bin(name: &str) -> PathBuf {
    archway_bin().with_file_name(name)
}

/// The oracle: qemu-aarch64-static, installed by scripts/install-test-deps.sh.
pub fn qemu() -> PathBuf {
    let path = PathBuf::from("/usr/bin/qemu-aarch64-static");
    assert!(path.is_file(), "qemu-aarch64-static is missing: run scripts/install-test-deps.sh");
    path
}

/// Environment for qemu-aarch64-static running a multithreaded program that forks
/// (archway built for arm64 hosts, under qemu): qemu 7.2 holds two locks of its own
/// across a guest's fork unprotected, and a child forked while another thread held one
/// waits for ever. GLib's slice allocator (taken when qemu translates, and for its
/// `/proc/self/maps` emulation; fixed in qemu 8.0 and GLib 2.76) is avoided by plain
/// malloc, and the `-L` path-prefix lock (taken on every absolute path) by a prefix of
/// `/`, which changes nothing else here. scripts/test.sh uses the same for its runner.
pub const QEMU_FORK_SAFE_ENV: [(&str, &str); 2] = [("G_SLICE", "always-malloc"), ("QEMU_LD_PREFIX", "/")];

/// How a program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Signaled(i32),
    TimedOut,
}

/// Output and ending of a finished program.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub ending: Ending,
}

impl Outcome {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Run `cmd` with stdin closed, killing it after `limit`.
pub fn run_with_limit(cmd: &mut Command, limit: Duration) -> Outcome {
    run_with_input(cmd, None, limit)
}

/// Run `cmd` with stdin read from `input` (or closed), killing it after `limit`.
pub fn run_with_input(cmd: &mut Command, input: Option<&Path>, limit: Duration) -> Outcome {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let stdin = match input {
        Some(path) => Stdio::from(std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))),
        None => Stdio::null(),
    };
    let mut child = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let ending = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break match (status.code(), status.signal()) {
                (Some(code), _) => Ending::Exited(code),
                (None, Some(sig)) => Ending::Signaled(sig),
                _ => Ending::Exited(-1),
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break Ending::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome { stdout: out_reader.join().unwrap_or_default(), stderr: err_reader.join().unwrap_or_default(), ending }
}
