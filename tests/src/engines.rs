//! Container engines for the end-to-end tests, installed by
//! scripts/install-container-engines.sh and started and stopped by the tests themselves
//! (machine.md, "Container engines"):
//! - [`Dockerd`]: Debian's dockerd on a private unix socket with its own data and exec
//!   roots, and no networking of its own (no bridge, no iptables rules, no IP forwarding):
//!   nothing outside its directory and loopback changes. It is stopped by its pid.
//! - [`Podman`]: podman and buildah with private storage (`--root`, `--runroot`) and a
//!   containers.conf of ours (runc, cgroupfs, containers without a network namespace of
//!   their own unless asked).

use crate::{run_with_limit, Ending, Outcome};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Debian package's docker client (another `docker` may come first in PATH).
pub const DOCKER: &str = "/usr/bin/docker";

/// A running dockerd, stopped when dropped.
pub struct Dockerd {
    child: Child,
    dir: PathBuf,
    host: String,
}

impl Dockerd {
    /// Start dockerd with everything under `dir` (a short path: containerd's sockets live
    /// in it) and wait until it answers.
    pub fn start(dir: &Path) -> Dockerd {
        std::fs::create_dir_all(dir).expect("dockerd directory");
        let log = std::fs::File::create(dir.join("dockerd.log")).expect("dockerd log");
        let host = format!("unix://{}", dir.join("docker.sock").display());
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            .args(["-H", &host, "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dockerd (scripts/install-container-engines.sh): {e}"));
        let daemon = Dockerd { child, dir: dir.to_path_buf(), host };
        let start = Instant::now();
        loop {
            let mut info = daemon.docker();
            info.args(["info", "--format", "{{.ServerVersion}}"]);
            if run_with_limit(&mut info, Duration::from_secs(10)).ending == Ending::Exited(0) {
                return daemon;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "dockerd did not answer in 60 s:\n{}",
                daemon.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A `docker` command talking to this daemon.
    pub fn docker(&self) -> Command {
        let mut cmd = Command::new(DOCKER);
        cmd.env("DOCKER_HOST", &self.host).env("DOCKER_BUILDKIT", "1");
        cmd
    }

    /// The end of dockerd's log.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Dockerd {
    /// SIGTERM by pid (dockerd stops its containerd), SIGKILL after 30 s; then the
    /// directory goes, with any mount left in it.
    fn drop(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill has no memory-safety preconditions; the pid is our child's.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        remove_tree(&self.dir);
    }
}

/// Capability names by number (`include/uapi/linux/capability.h`), as engines spell them.
const CAPABILITIES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// `docker run` options for a privileged container. `--privileged` asks the runtime for
/// every capability, which fails ("unable to apply caps") where our own bounding set
/// lacks some (root on these machines has no CAP_SYS_RESOURCE); there the same container
/// is described in parts: every capability we have, no seccomp or AppArmor profile, and
/// `/proc/sys` writable.
pub fn privileged_options() -> Vec<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let bounding = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    let missing: Vec<&str> =
        CAPABILITIES.iter().enumerate().filter(|(bit, _)| bounding & (1 << bit) == 0).map(|(_, name)| *name).collect();
    if missing.is_empty() {
        return vec!["--privileged".into()];
    }
    let mut options: Vec<String> = ["--cap-add", "ALL"].map(String::from).to_vec();
    for name in missing {
        options.extend(["--cap-drop".into(), name.into()]);
    }
    for opt in ["seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"] {
        options.extend(["--security-opt".into(), opt.into()]);
    }
    options
}

/// Private storage and configuration for podman and buildah.
pub struct Podman {
    dir: PathBuf,
}

impl Podman {
    /// Storage under `dir`, and its containers.conf.
    pub fn new(dir: &Path) -> Podman {
        std::fs::create_dir_all(dir).expect("podman directory");
        // Hybrid cgroups and a root without CAP_SYS_RESOURCE need these (machine.md);
        // `netns = "none"`: `podman run` leaves the host's network alone.
        let conf = "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n\
                    netns = \"none\"\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n\
                    events_logger = \"file\"\n";
        std::fs::write(dir.join("containers.conf"), conf).expect("containers.conf");
        Podman { dir: dir.to_path_buf() }
    }

    fn tool(&self, name: &str) -> Command {
        let mut cmd = Command::new(name);
        cmd.env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .arg("--root")
            .arg(self.dir.join("storage"))
            .arg("--runroot")
            .arg(self.dir.join("run"));
        cmd
    }

    /// `podman --root ... --runroot ...`.
    pub fn podman(&self) -> Command {
        self.tool("podman")
    }

    /// `buildah --root ... --runroot ...` (the same storage as podman).
    pub fn buildah(&self) -> Command {
        self.tool("buildah")
    }
}

impl Drop for Podman {
    /// Everything in the storage goes (`podman system reset` unmounts its layers).
    fn drop(&mut self) {
        let mut reset = self.podman();
        reset.args(["system", "reset", "--force"]);
        let _ = run_with_limit(&mut reset, Duration::from_secs(120));
        remove_tree(&self.dir);
    }
}

/// Remove `dir`, unmounting whatever is still mounted under it first.
pub fn remove_tree(dir: &Path) {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mut under: Vec<&str> =
        mounts.lines().filter_map(|l| l.split_whitespace().nth(1)).filter(|m| Path::new(m).starts_with(dir)).collect();
    under.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for mount in under {
        let _ = Command::new("umount").args(["-l", mount]).status();
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Run `cmd` (at most `limit`) and insist on success; its outcome.
pub fn must(what: &str, cmd: &mut Command, limit: Duration) -> Outcome {
    let start = Instant::now();
    let out = run_with_limit(cmd, limit);
    eprintln!("containers: {what}: {:?} in {:.1} s", out.ending, start.elapsed().as_secs_f64());
    assert_eq!(
        out.ending,
        Ending::Exited(0),
        "{what} failed: {cmd:?}\nstdout:\n{}\nstderr:\n{}",
        tail(&out.stdout_text()),
        tail(&out.stderr_text())
    );
    out
}

/// The last 60 lines of `text`.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
