//! One run from start to end: the request checked, the program planned and the user
//! resolved inside the root, the sandbox started, its id maps written, its reports
//! read, the command supervised, the mount points of a writable root removed, the
//! outcome assembled.

use crate::ids::{IdMap, IdPlan};
use crate::init::{self, Child};
use crate::lookup::{FileKind, Root};
use crate::outcome::{Ending, Outcome, OutputStream};
use crate::plan::{self, Exec, Runner};
use crate::report::Report;
use crate::request::{Request, RootMode};
use crate::setup::{Bind, ChildFds, Layout, Setup};
use crate::stubs::Stubs;
use crate::supervise::{self, Limits, Sink, Status};
use crate::users::{self, User};
use archway_arch::{Arch, Elf};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Longest the sandbox's setup may take before the command starts.
const SETUP_LIMIT: Duration = Duration::from_secs(30);

/// Run `request`, handing the command's output to `output` as it comes. Never panics
/// on its input: every failure is an [`Ending`].
pub fn run(request: &Request, output: &mut dyn FnMut(OutputStream, &[u8])) -> Outcome {
    if request.cancel.as_ref().is_some_and(|cancel| cancel.is_cancelled()) {
        return Outcome::before_start(Ending::Cancelled, Vec::new());
    }
    match prepare(request) {
        Ok(prepared) => prepared.run(request, output),
        Err(ending) => Outcome::before_start(ending, Vec::new()),
    }
}

/// A request checked and planned, about to run.
struct Prepared {
    root_path: PathBuf,
    root: Root,
    /// The interpreter's canonical path, for a foreign platform.
    interpreter: Option<PathBuf>,
    exec: Exec,
    runner: Runner,
    user: User,
    ids: IdPlan,
    /// Each bind's canonical source and whether it is a directory.
    bind_sources: Vec<(PathBuf, bool)>,
}

/// Check the request, open the root, resolve the user, plan the id maps and the
/// command.
fn prepare(request: &Request) -> Result<Prepared, Ending> {
    let (runner, interpreter) = runner(request).map_err(Ending::CouldNotRun)?;
    let unusable_root = |e: io::Error| Ending::CouldNotRun(format!("the root {}: {e}", request.root.display()));
    let root_path = std::fs::canonicalize(&request.root).map_err(unusable_root)?;
    if root_path.parent().is_none() {
        return Err(Ending::CouldNotRun("the root must not be the host's /".to_string()));
    }
    let root = Root::open(&root_path).map_err(unusable_root)?;
    let user = users::resolve(&root, &request.user)
        .map_err(|reason| Ending::InvalidUser { user: request.user.clone(), reason })?;
    let ids = IdPlan::for_caller();
    check_mapped(&user, &ids.map()).map_err(Ending::CouldNotRun)?;
    let mut env = request.env.clone();
    if !env.iter().any(|entry| entry.starts_with("HOME=")) {
        env.push(format!("HOME={}", user.home));
    }
    let exec = plan::plan(&root, &request.argv, &env, &request.workdir, runner)?;
    let bind_sources = request
        .mounts
        .iter()
        .map(|bind| {
            if !bind.target.starts_with('/') {
                return Err(format!("the bind target {:?} is not an absolute path", bind.target));
            }
            let source = std::fs::canonicalize(&bind.source)
                .map_err(|e| format!("the bind source {}: {e}", bind.source.display()))?;
            let directory = source.is_dir();
            Ok((source, directory))
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(Ending::CouldNotRun)?;
    Ok(Prepared { root_path, root, interpreter, exec, runner, user, ids, bind_sources })
}

/// How `request`'s platform runs here, and the interpreter's canonical path for a
/// foreign one.
fn runner(request: &Request) -> Result<(Runner, Option<PathBuf>), String> {
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
        return Err(unusable(format!("not static (it needs {loader}, which the root does not have)")));
    }
    let canonical = std::fs::canonicalize(path).map_err(|e| unusable(e.to_string()))?;
    Ok((Runner::Translator(arch), Some(canonical)))
}

/// That the namespace will have `user`'s ids, with the reason when it will not. As
/// runc does, supplementary groups are not set where `setgroups` is denied (they come
/// from `/etc/group`; nobody asked for them explicitly).
fn check_mapped(user: &User, ids: &IdMap) -> Result<(), String> {
    let groups = if ids.setgroups { user.groups.as_slice() } else { &[] };
    let missing_uid = ids.host_uid(user.uid).is_none().then(|| format!("uid {}", user.uid));
    let gids = std::iter::once(&user.gid).chain(groups);
    let missing_gids = gids.filter(|gid| ids.host_gid(**gid).is_none()).map(|gid| format!("gid {gid}"));
    let missing: Vec<String> = missing_uid.into_iter().chain(missing_gids).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let why = ids.note.as_deref().unwrap_or("the caller's id maps lack them");
    Err(format!("the user namespace cannot have {}: {why}", missing.join(", ")))
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

    fn child_fds(&self) -> ChildFds {
        ChildFds {
            report: self.report.1.as_raw_fd(),
            id_maps_ready: self.id_maps_ready.0.as_raw_fd(),
            stdin: self.stdin.as_raw_fd(),
            stdout: self.stdout.1.as_raw_fd(),
            stderr: self.stderr.1.as_raw_fd(),
        }
    }
}

/// How far a started sandbox got.
struct Ran {
    ending: Ending,
    elapsed: Duration,
    stdout: crate::Excerpt,
    stderr: crate::Excerpt,
    ids: Option<IdMap>,
}

impl Prepared {
    fn run(self, request: &Request, output: &mut Sink<'_>) -> Outcome {
        let command = self.exec.argv.clone();
        let could_not_run = |reason: String| Outcome::before_start(Ending::CouldNotRun(reason), command.clone());
        let pipes = match Pipes::new() {
            Ok(pipes) => pipes,
            Err(e) => return could_not_run(format!("cannot make pipes: {e}")),
        };
        let binds: Vec<_> = request
            .mounts
            .iter()
            .zip(&self.bind_sources)
            .map(|(bind, (source, directory))| Bind {
                source,
                directory: *directory,
                target: &bind.target,
                read_only: bind.read_only,
            })
            .collect();
        let layout = Layout {
            root_path: &self.root_path,
            root_mode: request.root_mode,
            exec: &self.exec,
            interpreter: self.interpreter.as_deref(),
            network: request.network,
            binds: &binds,
            hostname: &request.hostname,
            private_binfmt_misc: request.private_binfmt_misc,
            user: &self.user,
            setgroups: self.ids.map().setgroups,
        };
        let setup = match Setup::new(&layout, &pipes.child_fds()) {
            Ok(setup) => setup,
            Err(reason) => return could_not_run(reason),
        };
        let stubs = match request.root_mode {
            RootMode::Writable => Stubs::plan(&self.root, setup.mount_points()),
            RootMode::Overlay => Stubs::none(),
        };
        let child = match init::spawn(&setup, pipes.report.1.as_raw_fd()) {
            Ok(child) => child,
            Err(e) => return could_not_run(namespaces_refused(&e)),
        };
        let ran = self.supervise(request, &setup, child, pipes, output);
        let mut notes: Vec<String> = ran.ids.iter().filter_map(|ids| ids.note.clone()).collect();
        notes.extend(stubs.remove(&self.root));
        Outcome {
            ending: ran.ending,
            command,
            elapsed: ran.elapsed,
            stdout: ran.stdout,
            stderr: ran.stderr,
            ids: ran.ids,
            notes,
        }
    }

    /// Write the started `child`'s id maps, let it go, and follow it to its end. When
    /// this returns, the sandbox is gone.
    fn supervise(&self, request: &Request, setup: &Setup, child: Child, pipes: Pipes, output: &mut Sink<'_>) -> Ran {
        let Pipes { report, id_maps_ready, stdout, stderr, stdin } = pipes;
        drop((report.1, id_maps_ready.0, stdout.1, stderr.1, stdin));
        let before_start = |ending: Ending, ids: Option<IdMap>| Ran {
            ending,
            elapsed: Duration::ZERO,
            stdout: Default::default(),
            stderr: Default::default(),
            ids,
        };
        let ids = match self.ids.apply(child.pid) {
            Ok(ids) => ids,
            Err(e) => {
                let _ = supervise::kill(&child).and_then(|()| supervise::reap(&child));
                return before_start(Ending::CouldNotRun(format!("cannot map ids in the user namespace: {e}")), None);
            }
        };
        // SAFETY: writes one byte from our buffer to our own pipe.
        let sent = unsafe { libc::write(id_maps_ready.1.as_raw_fd(), b"g".as_ptr().cast(), 1) };
        drop(id_maps_ready.1);
        let first = if sent == 1 { first_report(&report.0) } else { Err(io::Error::last_os_error()) };
        let failure = match first {
            Ok(Report::Started) => {
                let started = Instant::now();
                let limits = Limits {
                    deadline: request.timeout.map(|timeout| started + timeout),
                    cancel: request.cancel.as_ref(),
                };
                let finished = supervise::supervise(child, report.0, (stdout.0, stderr.0), started, limits, output);
                let ending = match finished.status {
                    Ok(Status::Exited(code)) => Ending::Exited(code),
                    Ok(Status::Signaled { signal, core_dumped }) => Ending::Signaled { signal, core_dumped },
                    Ok(Status::TimedOut) => Ending::TimedOut,
                    Ok(Status::Cancelled) => Ending::Cancelled,
                    Err(e) => Ending::CouldNotRun(format!("lost the command's status: {e}")),
                };
                let (elapsed, stdout, stderr) = (finished.elapsed, finished.stdout, finished.stderr);
                return Ran { ending, elapsed, stdout, stderr, ids: Some(ids) };
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
        before_start(failure, Some(ids))
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
