//! The sandbox: one child process made with `clone3` in new user, mount, pid, uts, ipc,
//! network and cgroup namespaces, pid 1 of its pid namespace: its init, which sets up
//! the view of the image and starts the command as pid 2 ([`init`]).
//!
//! The init is a copy of a possibly multi-threaded process, so until the command's
//! `execve` it and the command's process may only make system calls: they run lists of
//! [`Step`]s built beforehand (every path and argument already a `CString`), allocating
//! nothing. The init tells the parent, on a close-on-exec pipe ([`Report`]), the first
//! failing step that is not tolerated (its number and `errno`), or that the command
//! started, and later its wait status.
//!
//! The init's steps:
//! 1. die with the parent (`PR_SET_PDEATHSIG`), wait until the parent has written the
//!    id maps (the caller is root in the namespace; [`write_id_maps`]);
//! 2. make every mount private, cover the root's path with a tmpfs (in this mount
//!    namespace only) and work in it: an overlay of the root (lower, read-only) and a
//!    tmpfs upper layer, so nothing the program writes reaches the root;
//! 3. mount binfmt_misc: the first mount in a user namespace (Linux 6.7) gives it its
//!    own, empty table, so no registration of the host or of an enclosing namespace
//!    (qemu, archway) can run a foreign program. A kernel that cannot (older than 6.7)
//!    makes the smoke test fail to run rather than trust the host's table; a kernel
//!    without binfmt_misc (`ENODEV`) has no table to fear;
//! 4. a fresh `/proc` for the new pid namespace (foreign children re-execute archway
//!    through `/proc/self/exe`), with docker's read-only paths (`/proc/sys`,
//!    `/proc/sysrq-trigger`...); a small `/dev` (null, zero, full, random, urandom, tty
//!    bound read-only from the host, a private devpts, a tmpfs `/dev/shm`);
//! 5. for a foreign platform, archway's static interpreter bound read-only at
//!    `/.archway/archway-ARCH` (in the upper layer: the root is not written);
//! 6. hostname `archway-check`, loopback up (the network namespace has nothing else);
//! 7. `pivot_root` into the overlay and detach the old root: no path leads back to the
//!    host; create and enter the working directory;
//!
//! Then the command's process (pid 2): stdin from `/dev/null`, stdout and stderr to the
//! parent's pipes, a new session, default signal dispositions and an empty mask, every
//! other descriptor closed on exec, then `execve`.

use super::plan::{Exec, INTERPRETER_DIR};
use super::report::Report;
use std::ffi::{c_char, c_int, c_ulong, CString};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The hostname inside the sandbox.
const HOSTNAME: &str = "archway-check";

/// Devices bound from the host's `/dev`.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

/// `/proc` entries made read-only, as docker does.
const READ_ONLY_PROC: [&str; 5] = ["sys", "sysrq-trigger", "irq", "bus", "fs"];

/// Directories of the staging tmpfs that covers the root's path.
const UPPER: &str = "upper";
const WORK: &str = "work";
const MERGED: &str = "merged";
const BINFMT_MISC: &str = "binfmt_misc";

/// One system call of the child's setup.
enum Action {
    /// `prctl(PR_SET_PDEATHSIG, SIGKILL)`.
    DieWithParent,
    /// Read one byte from the pipe the parent writes once the id maps are in place.
    AwaitIdMaps {
        fd: RawFd,
    },
    /// Open `path` (`O_PATH`) in this mount namespace in place of descriptor `fd`: a
    /// mount takes its source only from the caller's own mount namespace, and the
    /// parent's descriptors belong to the parent's.
    Reopen {
        path: CString,
        fd: RawFd,
    },
    Mount {
        source: Option<CString>,
        target: CString,
        fstype: Option<CString>,
        flags: c_ulong,
        data: Option<CString>,
    },
    /// Remount a bind mount read-only, keeping the flags the kernel locks
    /// (`nosuid`, `nodev`, `noexec`, atime) as they are.
    RemountReadOnly {
        target: CString,
    },
    MakeDir {
        path: CString,
        mode: libc::mode_t,
    },
    /// Create an empty file (a mount point for a bound file).
    MakeFile {
        path: CString,
    },
    Symlink {
        target: CString,
        link: CString,
    },
    ChangeDir {
        path: CString,
    },
    /// `pivot_root` into the current directory and detach the old root.
    PivotRoot,
    SetHostname {
        name: CString,
    },
    LoopbackUp,
    Stdio {
        stdin: RawFd,
        stdout: RawFd,
        stderr: RawFd,
    },
    NewSession,
    DefaultSignals,
    /// Mark every descriptor above 2 close-on-exec.
    CloseInherited,
    Exec {
        path: CString,
        argv: NullTerminated,
        env: NullTerminated,
    },
}

/// A `char *const[]` for `execve`, with the strings it points into.
struct NullTerminated {
    _strings: Vec<CString>,
    pointers: Vec<*const c_char>,
}

impl NullTerminated {
    fn new(strings: &[String]) -> Result<NullTerminated, String> {
        let strings = strings.iter().map(|s| c_string(s)).collect::<Result<Vec<_>, _>>()?;
        let mut pointers: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        pointers.push(std::ptr::null());
        Ok(NullTerminated { _strings: strings, pointers })
    }
}

/// A step: what it does, for messages, and the `errno` values that mean "fine".
struct Step {
    description: String,
    action: Action,
    tolerated: &'static [c_int],
}

/// Everything the sandbox does, in order: the steps of its init, then starting the
/// command's process, then that process's steps (ending in `execve`). A failure names a
/// step by its number in that order.
pub(crate) struct Setup {
    init: Vec<Step>,
    command: Vec<Step>,
}

/// What starting the command's process is called in messages.
const START_COMMAND: &str = "start the command's process";

/// Descriptors the parent hands the child; `root` and `interpreter` are opened again in
/// the child's mount namespace under the same numbers.
pub(crate) struct ChildFds {
    pub root: RawFd,
    /// The interpreter's path and a descriptor number for it.
    pub interpreter: Option<(PathBuf, RawFd)>,
    pub id_maps_ready: RawFd,
    pub stdin: RawFd,
    pub stdout: RawFd,
    pub stderr: RawFd,
}

fn c_string(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{s:?} contains a NUL byte"))
}

impl Setup {
    /// The steps that show the root at `root_path` as `/` and execute `exec` there; the
    /// interpreter of `fds`, when given (a foreign platform), is shown at `exec.path`.
    pub(crate) fn new(root_path: &Path, exec: &Exec, fds: &ChildFds) -> Result<Setup, String> {
        let root_path = root_path.to_str().ok_or_else(|| format!("{} is not UTF-8", root_path.display()))?;
        let mut steps = Builder { steps: Vec::new() };
        steps.push("die with the parent", Action::DieWithParent, &[]);
        steps.push("wait for the id maps", Action::AwaitIdMaps { fd: fds.id_maps_ready }, &[]);
        let private = Action::Mount {
            source: None,
            target: c_string("/")?,
            fstype: None,
            flags: libc::MS_REC | libc::MS_PRIVATE,
            data: None,
        };
        steps.push("make every mount private", private, &[]);
        steps.push("open the root", Action::Reopen { path: c_string(root_path)?, fd: fds.root }, &[]);
        if let Some((path, fd)) = &fds.interpreter {
            let path = path.to_str().ok_or_else(|| format!("{} is not UTF-8", path.display()))?;
            steps.push("open the interpreter", Action::Reopen { path: c_string(path)?, fd: *fd }, &[]);
        }
        steps.mount(&format!("cover {root_path} with a tmpfs"), "tmpfs", root_path, STAGING, "mode=0755", &[])?;
        steps.push("enter the tmpfs", Action::ChangeDir { path: c_string(root_path)? }, &[]);
        for dir in [UPPER, WORK, MERGED, BINFMT_MISC] {
            steps.make_dir(dir, 0o755)?;
        }
        let layers = format!("lowerdir=/proc/self/fd/{},upperdir={UPPER},workdir={WORK},userxattr", fds.root);
        steps.mount("mount the overlay of the root", "overlay", MERGED, 0, &layers, &[])?;
        let binfmt = "mount the namespace's own binfmt_misc (needs Linux 6.7)";
        steps.mount(binfmt, "binfmt_misc", BINFMT_MISC, NO_DEVICES_NO_EXEC, "", &[libc::ENODEV])?;
        steps.proc()?;
        steps.dev()?;
        if let Some((_, fd)) = fds.interpreter {
            steps.interpreter(fd, &exec.path)?;
        }
        steps.push("set the hostname", Action::SetHostname { name: c_string(HOSTNAME)? }, &[]);
        steps.push("bring the loopback interface up", Action::LoopbackUp, &[]);
        steps.push("enter the overlay", Action::ChangeDir { path: c_string(MERGED)? }, &[]);
        steps.push("pivot_root into the overlay", Action::PivotRoot, &[]);
        steps.workdir(&exec.workdir)?;
        let init = std::mem::take(&mut steps.steps);
        let stdio = Action::Stdio { stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr };
        steps.push("connect stdin, stdout and stderr", stdio, &[]);
        steps.push("start a new session", Action::NewSession, &[]);
        steps.push("reset signal dispositions", Action::DefaultSignals, &[]);
        steps.push("close inherited descriptors", Action::CloseInherited, &[]);
        let execute = Action::Exec {
            path: c_string(&exec.path)?,
            argv: NullTerminated::new(&exec.argv)?,
            env: NullTerminated::new(&exec.env)?,
        };
        steps.push(&format!("execute {}", exec.path), execute, &[]);
        Ok(Setup { init, command: steps.steps })
    }

    /// What step number `index` does.
    pub(crate) fn describe(&self, index: usize) -> &str {
        let start = self.init.len();
        let step = match index.cmp(&start) {
            std::cmp::Ordering::Less => self.init.get(index),
            std::cmp::Ordering::Equal => return START_COMMAND,
            std::cmp::Ordering::Greater => self.command.get(index - start - 1),
        };
        step.map_or("an unknown step", |step| step.description.as_str())
    }

    /// Whether step number `index` is the final `execve`.
    pub(crate) fn is_exec(&self, index: usize) -> bool {
        index == self.init.len() + self.command.len()
    }
}

/// Flags of the staging tmpfs.
const STAGING: c_ulong = libc::MS_NOSUID | libc::MS_NODEV;
/// `nosuid,nodev,noexec`.
const NO_DEVICES_NO_EXEC: c_ulong = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

/// Builds the list of steps.
struct Builder {
    steps: Vec<Step>,
}

impl Builder {
    fn push(&mut self, description: &str, action: Action, tolerated: &'static [c_int]) {
        self.steps.push(Step { description: description.to_string(), action, tolerated });
    }

    /// Mount a new file system of type `fstype` (its name is also the source) on
    /// `target` with `flags` and `data` (none when empty); `tolerated` errors are fine.
    fn mount(
        &mut self,
        what: &str,
        fstype: &str,
        target: &str,
        flags: c_ulong,
        data: &str,
        tolerated: &'static [c_int],
    ) -> Result<(), String> {
        let action = Action::Mount {
            source: Some(c_string(fstype)?),
            target: c_string(target)?,
            fstype: Some(c_string(fstype)?),
            flags,
            data: if data.is_empty() { None } else { Some(c_string(data)?) },
        };
        self.push(what, action, tolerated);
        Ok(())
    }

    /// Bind `source` on `target` (and below it), then make it read-only; `tolerated`
    /// for both (a missing `/proc` entry).
    fn bind_read_only(&mut self, source: &str, target: &str, tolerated: &'static [c_int]) -> Result<(), String> {
        let bind = Action::Mount {
            source: Some(c_string(source)?),
            target: c_string(target)?,
            fstype: None,
            flags: libc::MS_BIND | libc::MS_REC,
            data: None,
        };
        self.push(&format!("bind {source} on {target}"), bind, tolerated);
        let read_only = Action::RemountReadOnly { target: c_string(target)? };
        self.push(&format!("make {target} read-only"), read_only, tolerated);
        Ok(())
    }

    /// `mkdir` that finds an existing directory fine.
    fn make_dir(&mut self, path: &str, mode: libc::mode_t) -> Result<(), String> {
        self.push(&format!("create {path}"), Action::MakeDir { path: c_string(path)?, mode }, &[libc::EEXIST]);
        Ok(())
    }

    /// A fresh `/proc` with docker's read-only paths.
    fn proc(&mut self) -> Result<(), String> {
        let proc = format!("{MERGED}/proc");
        self.make_dir(&proc, 0o555)?;
        self.mount("mount /proc", "proc", &proc, NO_DEVICES_NO_EXEC, "", &[])?;
        for entry in READ_ONLY_PROC {
            let path = format!("{proc}/{entry}");
            self.bind_read_only(&path, &path, &[libc::ENOENT])?;
        }
        Ok(())
    }

    /// A small `/dev` on a tmpfs: the host's harmless devices bound read-only (they stay
    /// writable as devices; their inodes cannot be changed), a private devpts, `/dev/shm`
    /// and the usual symbolic links.
    fn dev(&mut self) -> Result<(), String> {
        let dev = format!("{MERGED}/dev");
        self.make_dir(&dev, 0o755)?;
        self.mount("mount a tmpfs on /dev", "tmpfs", &dev, libc::MS_NOSUID | libc::MS_NOEXEC, "mode=0755", &[])?;
        for device in DEVICES {
            let target = format!("{dev}/{device}");
            self.push(&format!("create {target}"), Action::MakeFile { path: c_string(&target)? }, &[]);
            self.bind_read_only(&format!("/dev/{device}"), &target, &[])?;
        }
        let pts = format!("{dev}/pts");
        self.make_dir(&pts, 0o755)?;
        let options = "newinstance,ptmxmode=0666,mode=0620";
        self.mount("mount a private devpts", "devpts", &pts, libc::MS_NOSUID | libc::MS_NOEXEC, options, &[])?;
        let shm = format!("{dev}/shm");
        self.make_dir(&shm, 0o1777)?;
        self.mount("mount /dev/shm", "tmpfs", &shm, NO_DEVICES_NO_EXEC, "mode=1777", &[])?;
        let links = [
            ("pts/ptmx", "ptmx"),
            ("/proc/self/fd", "fd"),
            ("/proc/self/fd/0", "stdin"),
            ("/proc/self/fd/1", "stdout"),
            ("/proc/self/fd/2", "stderr"),
        ];
        for (target, name) in links {
            let link = format!("{dev}/{name}");
            self.push(
                &format!("link {link}"),
                Action::Symlink { target: c_string(target)?, link: c_string(&link)? },
                &[],
            );
        }
        Ok(())
    }

    /// The interpreter (open as `fd`) bound read-only at `path` inside the root.
    fn interpreter(&mut self, fd: RawFd, path: &str) -> Result<(), String> {
        self.make_dir(&format!("{MERGED}{INTERPRETER_DIR}"), 0o755)?;
        let target = format!("{MERGED}{path}");
        self.push(&format!("create {target}"), Action::MakeFile { path: c_string(&target)? }, &[]);
        self.bind_read_only(&format!("/proc/self/fd/{fd}"), &target, &[])
    }

    /// Create the working directory (each level: `mkdir -p`) and enter it.
    fn workdir(&mut self, workdir: &str) -> Result<(), String> {
        let mut prefix = String::new();
        for part in workdir.split('/').filter(|p| !p.is_empty()) {
            prefix.push('/');
            prefix.push_str(part);
            self.make_dir(&prefix, 0o755)?;
        }
        self.push(
            &format!("enter the working directory {workdir}"),
            Action::ChangeDir { path: c_string(workdir)? },
            &[],
        );
        Ok(())
    }
}

/// The last `errno`.
fn errno() -> c_int {
    io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// `Ok` when a libc call returned 0 or more.
fn check(result: c_int) -> Result<(), c_int> {
    if result < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

fn optional(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

impl Action {
    /// Make the system calls. Only system calls: this runs in the cloned child.
    fn perform(&self) -> Result<(), c_int> {
        // SAFETY (the whole match): every pointer passed is a NUL-terminated string or
        // array owned by `self`, or null where the call allows it; the calls allocate
        // nothing in this process.
        unsafe {
            match self {
                Action::DieWithParent => check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as c_ulong)),
                Action::AwaitIdMaps { fd } => {
                    let mut byte = 0u8;
                    match libc::read(*fd, (&mut byte as *mut u8).cast(), 1) {
                        1 => Ok(()),
                        0 => Err(libc::ECANCELED),
                        _ => Err(errno()),
                    }
                }
                Action::Reopen { path, fd } => {
                    let opened = libc::open(path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
                    check(opened)?;
                    let moved = check(libc::dup3(opened, *fd, libc::O_CLOEXEC));
                    libc::close(opened);
                    moved
                }
                Action::Mount { source, target, fstype, flags, data } => check(libc::mount(
                    optional(source),
                    target.as_ptr(),
                    optional(fstype),
                    *flags,
                    optional(data).cast(),
                )),
                Action::RemountReadOnly { target } => {
                    // The kernel fills `f_flag` (it sets ST_VALID), so glibc reads no file.
                    let mut fs: libc::statvfs = std::mem::zeroed();
                    check(libc::statvfs(target.as_ptr(), &mut fs))?;
                    let flags = locked_mount_flags(fs.f_flag as c_ulong);
                    let remount = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | flags;
                    check(libc::mount(std::ptr::null(), target.as_ptr(), std::ptr::null(), remount, std::ptr::null()))
                }
                Action::MakeDir { path, mode } => check(libc::mkdir(path.as_ptr(), *mode)),
                Action::MakeFile { path } => {
                    let fd = libc::open(path.as_ptr(), libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC, 0o644);
                    check(fd)?;
                    check(libc::close(fd))
                }
                Action::Symlink { target, link } => check(libc::symlink(target.as_ptr(), link.as_ptr())),
                Action::ChangeDir { path } => check(libc::chdir(path.as_ptr())),
                Action::PivotRoot => {
                    let here = c".".as_ptr();
                    if libc::syscall(libc::SYS_pivot_root, here, here) < 0 {
                        return Err(errno());
                    }
                    check(libc::umount2(here, libc::MNT_DETACH))?;
                    check(libc::chdir(c"/".as_ptr()))
                }
                Action::SetHostname { name } => check(libc::sethostname(name.as_ptr(), name.as_bytes().len())),
                Action::LoopbackUp => loopback_up(),
                Action::Stdio { stdin, stdout, stderr } => {
                    check(libc::dup2(*stdin, 0))?;
                    check(libc::dup2(*stdout, 1))?;
                    check(libc::dup2(*stderr, 2))
                }
                Action::NewSession => check(libc::setsid()),
                Action::DefaultSignals => {
                    for signal in 1..=libc::SIGRTMAX() {
                        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
                            // Signals the C library keeps for itself refuse; that is fine.
                            libc::signal(signal, libc::SIG_DFL);
                        }
                    }
                    let mut empty: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut empty);
                    check(libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()))
                }
                Action::CloseInherited => {
                    check(libc::close_range(3, c_int::MAX as libc::c_uint, libc::CLOSE_RANGE_CLOEXEC as c_int))
                }
                Action::Exec { path, argv, env } => {
                    libc::execve(path.as_ptr(), argv.pointers.as_ptr(), env.pointers.as_ptr());
                    Err(errno())
                }
            }
        }
    }
}

/// The mount flags a remount must keep (`ST_*` of `statvfs` as `MS_*`).
fn locked_mount_flags(st_flags: c_ulong) -> c_ulong {
    const KEPT: [(c_ulong, c_ulong); 6] = [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ];
    KEPT.iter().filter(|(st, _)| st_flags & st != 0).fold(0, |flags, (_, ms)| flags | ms)
}

/// `ifconfig lo up`.
fn loopback_up() -> Result<(), c_int> {
    // SAFETY: a socket used for two ioctls on a zeroed ifreq naming "lo", then closed.
    unsafe {
        let socket = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        check(socket)?;
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo") {
            *slot = *byte as c_char;
        }
        let result = if libc::ioctl(socket, libc::SIOCGIFFLAGS, &mut request) < 0 {
            Err(errno())
        } else {
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            check(libc::ioctl(socket, libc::SIOCSIFFLAGS, &request))
        };
        libc::close(socket);
        result
    }
}

/// Run `steps` (numbered from `first`); on the first failure not tolerated, send it
/// on `report` and exit. Returns when all succeeded.
fn perform_all(steps: &[Step], first: usize, report: RawFd) {
    for (index, step) in steps.iter().enumerate() {
        if let Err(errno) = step.action.perform() {
            if !step.tolerated.contains(&errno) {
                fail(Report::StepFailed { index: first + index, errno }, report);
            }
        }
    }
}

/// Send `report` and end the process.
fn fail(report: Report, fd: RawFd) -> ! {
    report.send(fd);
    // SAFETY: ends the process without running anything of the parent's copy.
    unsafe { libc::_exit(127) }
}

/// The sandbox's init (pid 1): set up, start the command as pid 2, forward whether
/// its `execve` succeeded, reap every orphan until the command ends, report its wait
/// status and exit (the kernel then kills what is left of the namespace). As in `docker
/// run --init`: the command is not pid 1, so it dies by the signals it raises itself
/// (archway ends a guest that way) and its status is exact. Never returns.
fn init(setup: &Setup, report: RawFd) -> ! {
    perform_all(&setup.init, 0, report);
    let start = setup.init.len();
    let start_failed = |errno| Report::StepFailed { index: start, errno };
    let mut exec_pipe = [0; 2];
    // SAFETY: system calls on our own descriptors; the new process runs only the
    // command's steps and ends in `execve` or `_exit`.
    unsafe {
        if libc::pipe2(exec_pipe.as_mut_ptr(), libc::O_CLOEXEC) < 0 {
            fail(start_failed(errno()), report);
        }
        let [exec_read, exec_write] = exec_pipe;
        let pid = libc::syscall(libc::SYS_clone, libc::SIGCHLD as c_ulong, 0, 0, 0, 0);
        if pid < 0 {
            fail(start_failed(errno()), report);
        }
        if pid == 0 {
            libc::close(exec_read);
            perform_all(&setup.command, start + 1, exec_write);
            libc::_exit(127)
        }
        libc::close(exec_write);
        match Report::receive(exec_read) {
            Ok(None) => Report::Started.send(report),
            Ok(Some(failure)) => failure.send(report),
            Err(errno) => start_failed(errno).send(report),
        }
        let command_pid = pid as libc::pid_t;
        loop {
            let mut status = 0;
            let reaped = libc::waitpid(-1, &mut status, 0);
            if reaped == command_pid {
                Report::Ended { wait_status: status }.send(report);
                libc::_exit(0)
            }
            if reaped < 0 && errno() != libc::EINTR {
                libc::_exit(127)
            }
        }
    }
}

/// The sandbox's init process, as the parent holds it.
pub(crate) struct Child {
    pub pid: libc::pid_t,
    pub pidfd: OwnedFd,
}

/// Namespaces the child gets.
const NAMESPACES: c_int = libc::CLONE_NEWUSER
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP;

/// Start the sandbox's init, which performs `setup` and sends its [`Report`]s on
/// `report` (the write end of a close-on-exec pipe). `Err` when the kernel refuses the
/// namespaces.
pub(crate) fn spawn(setup: &Setup, report: RawFd) -> io::Result<Child> {
    let mut pidfd: c_int = -1;
    // SAFETY: clone_args is plain data; all-zero is "no options".
    let mut args: libc::clone_args = unsafe { std::mem::zeroed() };
    args.flags = (NAMESPACES | libc::CLONE_PIDFD) as u64;
    args.pidfd = &mut pidfd as *mut c_int as u64;
    args.exit_signal = libc::SIGCHLD as u64;
    // SAFETY: clone3 without a stack continues both processes here, as fork does; the
    // child only runs `init`, which makes system calls and never returns.
    let pid = unsafe {
        libc::syscall(libc::SYS_clone3, &mut args as *mut libc::clone_args, std::mem::size_of::<libc::clone_args>())
    };
    match pid {
        0 => init(setup, report),
        pid if pid < 0 => Err(io::Error::last_os_error()),
        // SAFETY: CLONE_PIDFD stored a new descriptor of the child, ours alone.
        pid => Ok(Child { pid: pid as libc::pid_t, pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) } }),
    }
}

/// Map the caller to root in the child's user namespace. Root (with `CAP_SETUID` and
/// `CAP_SETGID` where it stands) maps every id to itself, so programs that switch to
/// another user (`postgres`, `nginx` workers) can; anyone else maps only their own uid
/// and gid to 0 (and `setgroups` is denied, as the kernel requires), as `unshare
/// --map-root-user` does.
pub(crate) fn write_id_maps(pid: libc::pid_t) -> io::Result<()> {
    // SAFETY: no preconditions.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let proc = format!("/proc/{pid}");
    let all = "0 0 4294967295\n";
    let uid_mapped = uid == 0 && std::fs::write(format!("{proc}/uid_map"), all).is_ok();
    if !uid_mapped {
        std::fs::write(format!("{proc}/uid_map"), format!("0 {uid} 1\n"))?;
    }
    let gid_mapped = uid == 0 && std::fs::write(format!("{proc}/gid_map"), all).is_ok();
    if !gid_mapped {
        std::fs::write(format!("{proc}/setgroups"), "deny")?;
        std::fs::write(format!("{proc}/gid_map"), format!("0 {gid} 1\n"))?;
    }
    Ok(())
}
