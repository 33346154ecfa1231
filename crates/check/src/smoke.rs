//! The emulated smoke test: run an image's command inside its unpacked root, for a
//! platform, and see whether it starts.
//!
//! The host's platform runs natively; a foreign one runs under archway's static
//! interpreter (`archway-aarch64`, which the caller names). A command still running at
//! the timeout counts as started (servers do not exit), and is then killed with every
//! process it made.
//!
//! # Mechanism
//!
//! [`run`] resolves the program inside the root first (`PATH` lookup with
//! `openat2(RESOLVE_IN_ROOT)`), decides what to `execve` (module `plan`), then
//! makes one child with `clone3` in new user, mount, pid, uts, ipc, network and cgroup
//! namespaces. The caller becomes root in the user namespace (every id maps to itself
//! when the caller is root, else only the caller's own ids, as `unshare
//! --map-root-user`), so no privilege is needed beyond unprivileged user namespaces.
//! The child mounts an overlay of the root (its writes go to a tmpfs and vanish), the
//! namespace's own empty binfmt_misc, a fresh `/proc`, a small `/dev`, and for a
//! foreign platform the interpreter read-only at `/.archway/archway-ARCH`; then it
//! `pivot_root`s into the overlay and detaches the host's tree. That child is pid 1 of
//! its pid namespace, a minimal init as with `docker run --init`: it starts the command
//! as pid 2, reaps orphans, and reports the command's exact wait status (a command
//! running as pid 1 could not die by a signal it raises itself, and archway ends a
//! guest killed by a signal that way). Module `sandbox` lists every step. The parent drains stdout
//! and stderr and waits on the init's pidfd until the timeout (module `supervise`); the
//! command's end ends the init, and with it the namespace.
//!
//! Why in-process (`clone3` + system calls) rather than util-linux's `unshare` and
//! `chroot` run as child processes: no dependence on the host's tools or their
//! versions; each step's failure is reported exactly (which mount, which `errno`), with
//! `ENOEXEC` from the command's own `execve` told apart from a setup failure (util-linux
//! `chroot` runs `execvp`, which retries an `ENOEXEC` program with `/bin/sh`); the
//! interpreter's read-only bind and the empty binfmt_misc need mounts `unshare` has no
//! options for; and the pidfd makes the timeout's kill race-free.
//!
//! # What can and cannot pass
//!
//! - A program of the wrong architecture never runs: natively the kernel executes it
//!   with no binfmt_misc handler to fall back on (the namespace's table is empty, so a
//!   qemu or archway registration of the host, or of an enclosing namespace, does not
//!   apply); under the translator the plan refuses an ELF of another architecture
//!   before archway could run it natively.
//! - Nothing of the host changes: mounts live and die in the namespace, the root is
//!   only the overlay's read-only lower layer, the host devices and the interpreter are
//!   bound read-only, `/proc/sys` and `/proc/sysrq-trigger` are read-only, the network
//!   namespace has only loopback.
//! - Nothing is left running: when the init (pid 1) ends, at the command's end or
//!   killed at the timeout, the kernel kills the rest of the namespace and reports the
//!   init's end only after they are gone; the init dies with the calling thread
//!   (`PR_SET_PDEATHSIG`).
//!
//! # Limits
//!
//! - Linux 6.7 or later (a binfmt_misc of the user namespace's own); earlier kernels
//!   get [`Ending::CouldNotRun`] rather than a test that the host's table could fool.
//! - Without root, only the caller's own ids exist in the namespace: a command that
//!   switches to another user, or calls `setgroups`, fails as in a rootless container
//!   without subordinate ids. The command always runs as root of the namespace.
//! - No `/sys`, no network beyond loopback, no resource limits beyond the timeout.
//! - Only the host's own architecture runs natively (not 32-bit x86 on x86_64).
//! - The root's path must not be `/` (the sandbox covers it with its staging tmpfs).

mod lookup;
mod plan;
mod report;
mod sandbox;
mod supervise;

pub use plan::{DEFAULT_PATH, INTERPRETER_DIR};
pub use supervise::EXCERPT_BYTES;

use archway_arch::{Arch, Elf, Platform};
use lookup::{FileKind, Root};
use plan::{Exec, Runner};
use report::Report;
use sandbox::{ChildFds, Setup};
use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use supervise::Status;

/// Longest the sandbox's setup may take before the command starts.
const SETUP_LIMIT: Duration = Duration::from_secs(30);

/// What to run, where, for which platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeRequest {
    /// The image's unpacked root directory. Never written: the command sees it through
    /// an overlay.
    pub root: PathBuf,
    /// The command: the image's entrypoint and cmd joined. `argv[0]` is looked up in
    /// `PATH` inside the root unless it holds a `/`.
    pub argv: Vec<String>,
    /// `NAME=value` entries (the image config's `Env`); [`DEFAULT_PATH`] is added when
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

/// How the smoke test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The command exited by itself with this status.
    Exited(i32),
    /// The command was killed by a signal (`SIGILL` for an instruction the machine or
    /// the translator does not have, `SIGSEGV`...).
    Signaled { signal: i32, core_dumped: bool },
    /// The command was still running at the timeout (it was then killed, with every
    /// process of its namespace). Counts as started.
    TimedOut,
    /// The program is not in the image: the paths searched, inside the root.
    NotFound { program: String, searched: Vec<String> },
    /// The program is in the image but cannot be executed for this platform: `exec
    /// format error` (another architecture), a missing loader or `#!` interpreter, not
    /// executable.
    NotExecuted { path: String, reason: String },
    /// The smoke test could not be set up (no interpreter for a foreign platform,
    /// namespaces refused, a kernel without its own binfmt_misc per namespace): says
    /// nothing about the image.
    CouldNotRun(String),
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Exited(status) => write!(f, "exited with status {status}"),
            Ending::Signaled { signal, core_dumped } => {
                write!(f, "killed by signal {signal}{}", if *core_dumped { " (core dumped)" } else { "" })
            }
            Ending::TimedOut => write!(f, "still running at the timeout"),
            Ending::NotFound { program, searched } => {
                write!(f, "{program}: not found in the image (searched {})", searched.join(", "))
            }
            Ending::NotExecuted { path, reason } => write!(f, "{path}: cannot be executed: {reason}"),
            Ending::CouldNotRun(reason) => write!(f, "the smoke test could not run: {reason}"),
        }
    }
}

/// The end of one output stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Excerpt {
    /// The last [`EXCERPT_BYTES`] bytes written (invalid UTF-8 replaced).
    pub text: String,
    /// How many bytes were written in all.
    pub total_bytes: u64,
}

impl Excerpt {
    /// Whether earlier output was left out.
    pub fn is_truncated(&self) -> bool {
        self.total_bytes > EXCERPT_BYTES as u64
    }
}

/// What the smoke test saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeOutcome {
    pub ending: Ending,
    /// The argv executed inside the root (the interpreter's first for a foreign
    /// platform); empty when nothing got that far.
    pub command: Vec<String>,
    /// From the command's start to its end (zero when it did not start).
    pub elapsed: Duration,
    pub stdout: Excerpt,
    pub stderr: Excerpt,
}

impl SmokeOutcome {
    /// Whether the command started: it was executed and was still running at the
    /// timeout or exited with status 0.
    pub fn started(&self) -> bool {
        matches!(self.ending, Ending::TimedOut | Ending::Exited(0))
    }

    /// An outcome that ended before anything ran.
    fn before_start(ending: Ending, command: Vec<String>) -> SmokeOutcome {
        SmokeOutcome {
            ending,
            command,
            elapsed: Duration::ZERO,
            stdout: Excerpt::default(),
            stderr: Excerpt::default(),
        }
    }
}

/// Run the smoke test. Never panics on its input: every failure is an [`Ending`].
pub fn run(request: &SmokeRequest) -> SmokeOutcome {
    match prepare(request) {
        Ok(sandboxed) => sandboxed.run(request.timeout),
        Err(ending) => SmokeOutcome::before_start(ending, Vec::new()),
    }
}

/// Check the request, open the root and the interpreter, and plan the command.
fn prepare(request: &SmokeRequest) -> Result<Sandboxed, Ending> {
    let (runner, interpreter) = runner(request).map_err(Ending::CouldNotRun)?;
    let unusable_root = |e: io::Error| Ending::CouldNotRun(format!("the image root {}: {e}", request.root.display()));
    let root_path = std::fs::canonicalize(&request.root).map_err(unusable_root)?;
    if root_path.parent().is_none() {
        return Err(Ending::CouldNotRun("the image root must not be the host's /".to_string()));
    }
    let root = Root::open(&root_path).map_err(unusable_root)?;
    let exec = plan::plan(&root, &request.argv, &request.env, &request.workdir, runner)?;
    Ok(Sandboxed { root_path, root, interpreter, exec, runner })
}

/// How `request`'s platform runs here, and the interpreter (its canonical path, open)
/// for a foreign one.
fn runner(request: &SmokeRequest) -> Result<(Runner, Option<(PathBuf, File)>), String> {
    let platform = request.platform.normalize();
    if platform.os != "linux" {
        return Err(format!("{platform} is not a Linux platform"));
    }
    let arch = platform.arch().ok_or_else(|| format!("{platform}: an architecture archway does not know"))?;
    if arch.is_host() {
        return Ok((Runner::Native, None));
    }
    let host = Arch::host().platform;
    let Some(path) = &request.interpreter else {
        let name = arch.interpreter_name();
        return Err(format!("{platform} is foreign to this {host} host and no interpreter ({name}) was given"));
    };
    let unusable = |why: String| format!("the interpreter {}: {why}", path.display());
    let bytes = std::fs::read(path).map_err(|e| unusable(e.to_string()))?;
    let elf = Elf::parse(&bytes).map_err(|e| unusable(e.to_string()))?;
    if elf.arch() != Some(Arch::host()) {
        return Err(unusable(format!("not a program for this {host} host")));
    }
    if let Some(loader) = elf.interpreter {
        return Err(unusable(format!("not static (it needs {loader}, which the image root does not have)")));
    }
    let canonical = std::fs::canonicalize(path).map_err(|e| unusable(e.to_string()))?;
    let file =
        File::options().read(true).custom_flags(libc::O_PATH).open(&canonical).map_err(|e| unusable(e.to_string()))?;
    Ok((Runner::Translator(arch), Some((canonical, file))))
}

/// A planned command about to run in the sandbox.
struct Sandboxed {
    root_path: PathBuf,
    root: Root,
    /// The interpreter's canonical path, and the file open (holding a descriptor number).
    interpreter: Option<(PathBuf, File)>,
    exec: Exec,
    runner: Runner,
}

/// A pipe: (read end, write end), both close-on-exec.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two descriptors, ours alone.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The pipes between the parent and the sandbox.
struct Pipes {
    report: (OwnedFd, OwnedFd),
    id_maps_ready: (OwnedFd, OwnedFd),
    stdout: (OwnedFd, OwnedFd),
    stderr: (OwnedFd, OwnedFd),
    stdin: OwnedFd,
}

impl Pipes {
    fn new() -> io::Result<Pipes> {
        let stdin = File::open("/dev/null")?.into();
        Ok(Pipes { report: pipe()?, id_maps_ready: pipe()?, stdout: pipe()?, stderr: pipe()?, stdin })
    }
}

impl Sandboxed {
    fn run(self, timeout: Duration) -> SmokeOutcome {
        let command = self.exec.argv.clone();
        let could_not_run = |reason: String| SmokeOutcome::before_start(Ending::CouldNotRun(reason), command.clone());
        let pipes = match Pipes::new() {
            Ok(pipes) => pipes,
            Err(e) => return could_not_run(format!("cannot make pipes: {e}")),
        };
        let fds = ChildFds {
            root: self.root.raw_fd(),
            interpreter: self.interpreter.as_ref().map(|(path, file)| (path.clone(), file.as_raw_fd())),
            id_maps_ready: pipes.id_maps_ready.0.as_raw_fd(),
            stdin: pipes.stdin.as_raw_fd(),
            stdout: pipes.stdout.1.as_raw_fd(),
            stderr: pipes.stderr.1.as_raw_fd(),
        };
        let setup = match Setup::new(&self.root_path, &self.exec, &fds) {
            Ok(setup) => setup,
            Err(reason) => return could_not_run(reason),
        };
        let child = match sandbox::spawn(&setup, pipes.report.1.as_raw_fd()) {
            Ok(child) => child,
            Err(e) => return could_not_run(namespaces_refused(&e)),
        };
        let Pipes { report, id_maps_ready, stdout, stderr, stdin } = pipes;
        drop((report.1, id_maps_ready.0, stdout.1, stderr.1, stdin));
        if let Err(e) = sandbox::write_id_maps(child.pid) {
            let _ = supervise::kill(&child).and_then(|()| supervise::reap(&child));
            return could_not_run(format!("cannot map ids in the user namespace: {e}"));
        }
        // SAFETY: writes one byte from our buffer to our own pipe.
        let sent = unsafe { libc::write(id_maps_ready.1.as_raw_fd(), b"g".as_ptr().cast(), 1) };
        drop(id_maps_ready.1);
        let first = if sent == 1 { first_report(&report.0) } else { Err(io::Error::last_os_error()) };
        let failure = match first {
            Ok(Report::Started) => {
                let finished = supervise::supervise(child, report.0, stdout.0, stderr.0, Instant::now(), timeout);
                let ending = match finished.status {
                    Ok(Status::Exited(code)) => Ending::Exited(code),
                    Ok(Status::Signaled { signal, core_dumped }) => Ending::Signaled { signal, core_dumped },
                    Ok(Status::TimedOut) => Ending::TimedOut,
                    Err(e) => Ending::CouldNotRun(format!("lost the command's status: {e}")),
                };
                return SmokeOutcome {
                    ending,
                    command,
                    elapsed: finished.elapsed,
                    stdout: finished.stdout,
                    stderr: finished.stderr,
                };
            }
            Ok(Report::StepFailed { index, errno }) => {
                let _ = supervise::reap(&child);
                let error = io::Error::from_raw_os_error(errno);
                match (setup.is_exec(index), self.runner) {
                    (true, Runner::Native) => Ending::NotExecuted {
                        path: self.exec.program.path.clone(),
                        reason: exec_failure(errno, &self.exec.program.kind),
                    },
                    _ => Ending::CouldNotRun(format!("{}: {error}", setup.describe(index))),
                }
            }
            Ok(ended @ Report::Ended { .. }) => {
                let _ = supervise::kill(&child).and_then(|()| supervise::reap(&child));
                Ending::CouldNotRun(format!("the sandbox's init reported {ended:?} before the command started"))
            }
            Err(e) => {
                let _ = supervise::kill(&child).and_then(|()| supervise::reap(&child));
                Ending::CouldNotRun(format!("the sandbox's setup: {e}"))
            }
        };
        SmokeOutcome::before_start(failure, command)
    }
}

/// The init's first report (at most [`SETUP_LIMIT`] away): the command started, or a
/// step failed.
fn first_report(report: &OwnedFd) -> io::Result<Report> {
    let mut fd = libc::pollfd { fd: report.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let deadline = Instant::now() + SETUP_LIMIT;
    while fd.revents == 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, format!("not done after {SETUP_LIMIT:?}")));
        }
        // SAFETY: polls one entry of ours; EINTR leaves revents 0 and we poll again.
        unsafe { libc::poll(&mut fd, 1, left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int) };
    }
    match Report::receive(report.as_raw_fd()) {
        Ok(Some(report)) => Ok(report),
        Ok(None) => Err(io::Error::other("the sandbox's init ended without a report")),
        Err(errno) => Err(io::Error::from_raw_os_error(errno)),
    }
}

/// Why `clone3` refused, with what usually causes it.
fn namespaces_refused(error: &io::Error) -> String {
    let hint = match error.raw_os_error() {
        Some(libc::EPERM) => " (user namespaces disabled, e.g. kernel.unprivileged_userns_clone=0 or an AppArmor policy, or the caller is in a chroot)",
        Some(libc::ENOSPC) => " (user.max_user_namespaces reached)",
        Some(libc::ENOSYS) => " (no clone3: a seccomp filter, or Linux older than 5.3)",
        _ => "",
    };
    format!("cannot create the namespaces: {error}{hint}")
}

/// Why the kernel refused to execute the program, in the image's terms.
fn exec_failure(errno: i32, kind: &FileKind) -> String {
    let error = io::Error::from_raw_os_error(errno);
    let host = Arch::host().platform;
    let detail = match (errno, kind) {
        (libc::ENOEXEC, FileKind::Elf(header)) if header.arch() != Some(Arch::host()) => {
            let arch =
                header.arch().map_or_else(|| format!("ELF machine {}", header.machine), |a| a.platform.to_string());
            format!("it is an ELF program for {arch}; this {host} host runs {host} programs and has no binfmt_misc handler here")
        }
        (libc::ENOEXEC, FileKind::Script { interpreter, .. }) => {
            format!("its #! interpreter {interpreter} is not a program for this {host} host")
        }
        (libc::ENOENT, FileKind::Elf(_)) => "its loader (PT_INTERP) is not in the image".to_string(),
        (libc::ENOENT, FileKind::Script { interpreter, .. }) => {
            format!("its #! interpreter {interpreter} is not in the image")
        }
        _ => return error.to_string(),
    };
    format!("{error}: {detail}")
}
