//! The smoke test as part of the check: the image's merged view is unpacked into a
//! scratch directory (removed afterwards, whatever happens), the entrypoint or the
//! `--smoke-cmd` runs there through [`crate::smoke`], and its ending becomes a finding:
//!
//! - not found, not executable, exec format error, a missing loader, `127`/`126`
//!   from a shell, or a crash by `SIGILL`, `SIGSEGV`, `SIGBUS` or `SIGABRT`: a
//!   **blocker** (the program does not start on the platform);
//! - another non-zero exit: a **warning** (it started, then failed: read its output);
//! - exit 0 or still running at the timeout: fine;
//! - the test could not be set up (no static interpreter, no namespaces): a
//!   **warning** that says nothing about the image.

use crate::chain::Command;
use crate::facts::FileFacts;
use crate::finding::{Finding, Severity};
use crate::inspect::Options;
use crate::smoke::{self, Ending, SmokeOutcome, SmokeRequest};
use archway_arch::{Arch, Platform};
use archway_image::resolve::PlatformImage;
use archway_image::tree::Tree;
use archway_image::{unpack, Digest, Error, Store};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What to run as the smoke test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmokeMode {
    Off,
    /// The config's ENTRYPOINT and CMD.
    Entrypoint,
    /// This argv instead (`--smoke-cmd`).
    Command(Vec<String>),
}

/// The smoke test's result, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SmokeReport {
    /// The argv run inside the image (the translator's first for a foreign platform).
    pub command: Vec<String>,
    /// `exited`, `signaled`, `timed-out`, `not-found`, `not-executed`, `invalid-user` or
    /// `could-not-run`.
    pub ending: &'static str,
    /// The ending in words.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Whether it counts as started (exit 0, or still running at the timeout).
    pub started: bool,
    pub seconds: f64,
    /// The ends of its output.
    pub stdout: String,
    pub stderr: String,
}

impl SmokeReport {
    fn of(outcome: &SmokeOutcome) -> SmokeReport {
        let (ending, status, signal) = match &outcome.ending {
            Ending::Exited(s) => ("exited", Some(*s), None),
            Ending::Signaled { signal, .. } => ("signaled", None, Some(*signal)),
            Ending::TimedOut => ("timed-out", None, None),
            Ending::NotFound { .. } => ("not-found", None, None),
            Ending::NotExecuted { .. } => ("not-executed", None, None),
            Ending::InvalidUser { .. } => ("invalid-user", None, None),
            Ending::CouldNotRun(_) | Ending::Cancelled => ("could-not-run", None, None),
        };
        let detail = match &outcome.ending {
            Ending::CouldNotRun(reason) => format!("the smoke test could not run: {reason}"),
            Ending::Cancelled => "the smoke test was cancelled".to_string(),
            other => other.to_string(),
        };
        SmokeReport {
            command: outcome.command.clone(),
            ending,
            detail,
            status,
            signal,
            started: outcome.started(),
            seconds: outcome.elapsed.as_secs_f64(),
            stdout: outcome.stdout.text.clone(),
            stderr: outcome.stderr.text.clone(),
        }
    }

    /// One line for the human report.
    pub fn summary(&self) -> String {
        if self.command.is_empty() {
            return self.detail.clone();
        }
        format!("{}: {} after {:.1} s", self.command.join(" "), self.detail, self.seconds)
    }
}

/// Signals that mean the program could not run at all on this platform.
const FATAL_SIGNALS: [i32; 4] = [libc::SIGILL, libc::SIGSEGV, libc::SIGBUS, libc::SIGABRT];

/// The finding a smoke test's ending gives, if any.
pub fn findings(report: &SmokeReport, arch: &Arch) -> Vec<Finding> {
    let output =
        [report.stderr.trim(), report.stdout.trim()].into_iter().find(|s| !s.is_empty()).unwrap_or("(no output)");
    let last_line = output.lines().last().unwrap_or(output);
    let blocker = |message: String| {
        vec![Finding::new(
            Severity::Blocker,
            "smoke-failed",
            message,
            format!("run it yourself: docker run --platform linux/{} IMAGE", arch.platform),
        )]
    };
    match report.ending {
        "timed-out" => Vec::new(),
        "exited" if report.status == Some(0) => Vec::new(),
        "exited" if matches!(report.status, Some(126 | 127)) => {
            blocker(format!("the smoke test did not start its program: {} ({last_line})", report.detail))
        }
        "exited" => vec![Finding::new(
            Severity::Warning,
            "smoke-exited",
            format!("the smoke test started, then {} ({last_line})", report.detail),
            "a program that needs arguments, a service or a volume may fail so; use --smoke-cmd to test something simpler",
        )],
        "signaled" if report.signal.is_some_and(|s| FATAL_SIGNALS.contains(&s)) => {
            blocker(format!("the smoke test crashed: {} ({last_line})", report.detail))
        }
        "signaled" => vec![Finding::new(Severity::Warning, "smoke-exited", format!("the smoke test {}", report.detail), "check its output")],
        "could-not-run" => vec![Finding::new(
            Severity::Warning,
            "smoke-not-run",
            report.detail.clone(),
            "this says nothing about the image; --no-smoke skips the test",
        )],
        _ => blocker(format!("the smoke test: {}", report.detail)),
    }
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, Error> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("archway-check-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Directories without write permission (kept from the image) block removal.
        let _ = std::process::Command::new("chmod").arg("-R").arg("u+rwx").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The argv of the smoke test, if there is one to run.
fn argv(mode: &SmokeMode, command: &Command) -> Option<Vec<String>> {
    match mode {
        SmokeMode::Off => None,
        SmokeMode::Entrypoint => Some(command.argv()).filter(|a| !a.is_empty()),
        SmokeMode::Command(argv) => Some(argv.clone()),
    }
}

fn request(root: &Path, argv: Vec<String>, arch: &Arch, command: &Command, options: &Options) -> SmokeRequest {
    SmokeRequest {
        root: root.to_path_buf(),
        argv,
        env: command.env.clone(),
        workdir: command.working_dir.clone(),
        platform: Platform::linux(arch.platform),
        interpreter: if arch.is_host() {
            None
        } else {
            options.interpreter_dir.as_ref().map(|dir| dir.join(arch.interpreter_name()))
        },
        timeout: options.timeout,
    }
}

/// Unpack `image` (whose merged view is `tree`) and run its smoke test.
pub fn run(
    store: &mut dyn Store,
    image: &PlatformImage,
    tree: &Tree<FileFacts>,
    arch: &Arch,
    command: &Command,
    options: &Options,
) -> Result<Option<SmokeReport>, Error> {
    let Some(argv) = argv(&options.smoke, command) else { return Ok(None) };
    let scratch = Scratch::new()?;
    unpack::skeleton(tree, &scratch.0)?;
    for (index, descriptor) in image.layers.iter().enumerate() {
        let digest = Digest::parse(descriptor.digest().as_ref())?;
        unpack::layer_files(tree, &scratch.0, index, &digest, store.open(descriptor)?)?;
    }
    unpack::modes(tree, &scratch.0)?;
    let outcome = smoke::run(&request(&scratch.0, argv, arch, command, options));
    Ok(Some(SmokeReport::of(&outcome)))
}

/// Run the smoke test on an unpacked root the user gave (`dir:`; seen through an
/// overlay, so it is not written).
pub fn run_in_dir(dir: &Path, arch: &Arch, command: &Command, options: &Options) -> Option<SmokeReport> {
    let argv = argv(&options.smoke, command)?;
    Some(SmokeReport::of(&smoke::run(&request(dir, argv, arch, command, options))))
}
