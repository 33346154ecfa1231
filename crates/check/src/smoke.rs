//! The emulated smoke test: run an image's command inside its unpacked root, for a
//! platform, and see whether it starts.
//!
//! The host's platform runs natively; a foreign one runs under archway's static
//! interpreter (`archway-aarch64`, which the caller names). A command still running at
//! the timeout counts as started (servers do not exit), and is then killed with every
//! process it made.
//!
//! The run is archway-sandbox's (see that crate for the mechanism and its limits), with
//! what makes it a test of the image and nothing else:
//!
//! - the root is the lower layer of an overlay: the command's writes go to a tmpfs and
//!   vanish, the unpacked root is never written;
//! - the user namespace's own, empty binfmt_misc: a program of the wrong architecture
//!   never runs, since natively the kernel finds no handler (a qemu or archway
//!   registration of the host, or of an enclosing namespace, does not apply) and under
//!   the translator the sandbox's plan refuses an ELF of another architecture;
//! - a network namespace with only loopback; hostname `archway-check`;
//! - the command as root of the namespace (uid 0, the image's `USER` is not applied).

pub use archway_sandbox::{Ending, Excerpt, Outcome as SmokeOutcome};

use archway_arch::Platform;
use archway_sandbox::{Network, Request, RootMode};
use std::path::PathBuf;
use std::time::Duration;

/// The hostname inside the smoke test.
const HOSTNAME: &str = "archway-check";

/// What to run, where, for which platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeRequest {
    /// The image's unpacked root directory. Never written: the command sees it through
    /// an overlay.
    pub root: PathBuf,
    /// The command: the image's entrypoint and cmd joined. `argv[0]` is looked up in
    /// `PATH` inside the root unless it holds a `/`.
    pub argv: Vec<String>,
    /// `NAME=value` entries (the image config's `Env`); [`archway_sandbox::DEFAULT_PATH`] is added when
    /// no `PATH` is set.
    pub env: Vec<String>,
    /// The working directory inside the root (the config's `WorkingDir`; `/` when
    /// empty), created in the overlay if the root lacks it.
    pub workdir: String,
    /// The platform tested: the host's runs natively, another under `interpreter`.
    pub platform: Platform,
    /// archway's static interpreter for the platform's architecture
    /// (`archway-aarch64`, built by `scripts/build-static.sh`): needed for a foreign
    /// platform, unused for the host's.
    pub interpreter: Option<PathBuf>,
    /// How long the command may run; still running then counts as started.
    pub timeout: Duration,
}

/// Run the smoke test. Never panics on its input: every failure is an [`Ending`].
pub fn run(request: &SmokeRequest) -> SmokeOutcome {
    let sandboxed = Request {
        root_mode: RootMode::Overlay,
        argv: request.argv.clone(),
        env: request.env.clone(),
        workdir: request.workdir.clone(),
        interpreter: request.interpreter.clone(),
        network: Network::None,
        hostname: HOSTNAME.to_string(),
        private_binfmt_misc: true,
        timeout: Some(request.timeout),
        ..Request::new(&request.root, request.platform.clone(), &[])
    };
    archway_sandbox::run(&sandboxed, &mut |_, _| {})
}
