//! What to run, where, and how isolated: the [`Request`] the caller fills in.

use crate::cancel::Cancel;
use archway_arch::Platform;
use std::path::PathBuf;
use std::time::Duration;

/// What the command may do to its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootMode {
    /// The command writes the root itself (a `RUN` step: the builder diffs the
    /// directory afterwards). Mount points the sandbox had to create are removed again.
    Writable,
    /// The root is the lower layer of an overlay whose upper layer is a tmpfs: the
    /// command may write, and nothing reaches the root (the smoke test).
    Overlay,
}

/// The command's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// A network namespace of its own with only loopback, up (`RUN --network=none`).
    None,
    /// The host's network, with the host's `/etc/resolv.conf` and `/etc/hosts` bound
    /// read-only into the root (`--network=host`; what buildah's chroot isolation gives
    /// `--network=default` too).
    Host,
}

/// A host directory or file shown inside the root (`RUN --mount=type=cache`,
/// `type=bind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    /// The host's directory or file, with everything below it.
    pub source: PathBuf,
    /// Where it appears, an absolute path inside the root; created (with its missing
    /// parents) when the root lacks it, and removed again from a writable root.
    pub target: String,
    /// Whether the command may not write it.
    pub read_only: bool,
}

/// Everything about one run.
#[derive(Debug, Clone)]
pub struct Request {
    /// The root directory, shown as `/`. Not the host's `/`.
    pub root: PathBuf,
    pub root_mode: RootMode,
    /// The command. `argv[0]` is looked up in `PATH` inside the root unless it holds a
    /// `/`.
    pub argv: Vec<String>,
    /// `NAME=value` entries; [`crate::DEFAULT_PATH`] is added when no `PATH` is set,
    /// and the user's home directory as `HOME` when no `HOME` is (as runc does).
    pub env: Vec<String>,
    /// The working directory inside the root (`/` when empty), created when missing.
    pub workdir: String,
    /// `USER`'s argument: `name`, `uid`, `name:group`, `uid:gid`..., resolved from the
    /// root's `/etc/passwd` and `/etc/group` as runc does ([`crate::User`]); empty for
    /// root.
    pub user: String,
    /// The host's runs natively, another under `interpreter`.
    pub platform: Platform,
    /// archway's static interpreter for the platform's architecture (`archway-aarch64`,
    /// built by `scripts/build-static.sh`): needed for a foreign platform, unused for
    /// the host's.
    pub interpreter: Option<PathBuf>,
    pub network: Network,
    /// Extra binds, made in order after the sandbox's own mounts.
    pub mounts: Vec<BindMount>,
    /// The hostname inside.
    pub hostname: String,
    /// Mount the user namespace's own, empty binfmt_misc (Linux 6.7), so that no
    /// registration of the host (qemu, archway) runs a foreign program natively; a
    /// kernel that cannot makes the run fail rather than trust the host's table.
    pub private_binfmt_misc: bool,
    /// How long the command may run before it is killed ([`crate::Ending::TimedOut`]).
    pub timeout: Option<Duration>,
    /// Stops the run from elsewhere ([`crate::Ending::Cancelled`]).
    pub cancel: Option<Cancel>,
}

impl Request {
    /// `argv` run in the writable `root` for `platform`, as root, in `/`, with the
    /// host's network, a private binfmt_misc, hostname `archway`, no extra mounts and
    /// no time limit.
    pub fn new(root: impl Into<PathBuf>, platform: Platform, argv: &[&str]) -> Request {
        Request {
            root: root.into(),
            root_mode: RootMode::Writable,
            argv: argv.iter().map(|arg| arg.to_string()).collect(),
            env: Vec::new(),
            workdir: "/".to_string(),
            user: String::new(),
            platform,
            interpreter: None,
            network: Network::Host,
            mounts: Vec::new(),
            hostname: "archway".to_string(),
            private_binfmt_misc: true,
            timeout: None,
            cancel: None,
        }
    }
}
