//! The system calls the sandbox's child makes, one [`Action`] each, with every argument
//! prepared beforehand: the child is a copy of a possibly multi-threaded process, so
//! until the command's `execve` it may only make system calls (no allocation, no lock,
//! and no C library call that acts for every thread, hence raw `setresuid` and
//! friends).

use std::ffi::{c_char, c_int, c_uint, c_ulong, CString};
use std::io;
use std::os::fd::RawFd;

/// One system call (or a few that belong together) of the child's setup.
pub(crate) enum Action {
    /// `prctl(PR_SET_PDEATHSIG, SIGKILL)`.
    DieWithParent,
    /// Close every descriptor in these inclusive ranges (all but the ones the child
    /// uses: the parent's other pipes must not stay open in the child).
    CloseRanges {
        ranges: Vec<(c_uint, c_uint)>,
    },
    /// Read one byte from the pipe the parent writes once the id maps are in place,
    /// then close it.
    AwaitIdMaps {
        fd: RawFd,
    },
    /// Open `path` (`O_PATH`) in this mount namespace as descriptor `fd`.
    Reopen {
        path: CString,
        fd: RawFd,
    },
    /// `open_tree(OPEN_TREE_CLONE)`: a detached copy of the mount at `path` (with the
    /// mounts below it when `recursive`), read-only when asked, as descriptor `fd`. A
    /// bind takes its source only from the caller's own mount namespace, so host files
    /// are cloned here, in the child's, before its view of the host is detached.
    CloneTree {
        path: CString,
        fd: RawFd,
        recursive: bool,
        read_only: bool,
    },
    /// `move_mount` the detached tree `fd` onto `target` (following a symbolic link
    /// there), then close `fd`.
    AttachTree {
        fd: RawFd,
        target: CString,
    },
    Close {
        fd: RawFd,
    },
    Mount {
        source: Option<CString>,
        target: CString,
        fstype: Option<CString>,
        flags: c_ulong,
        data: Option<CString>,
    },
    /// Bind `path` onto itself, with the mounts below it, and make that read-only.
    BindReadOnly {
        path: CString,
    },
    MakeDir {
        path: CString,
        mode: libc::mode_t,
    },
    /// Create an empty file (a mount point for a bound file); an existing one is fine.
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
    SetGroups {
        groups: Vec<libc::gid_t>,
    },
    /// `setresgid` then `setresuid`.
    SetIds {
        uid: libc::uid_t,
        gid: libc::gid_t,
    },
    Exec {
        path: CString,
        argv: NullTerminated,
        env: NullTerminated,
    },
}

/// A `char *const[]` for `execve`, with the strings it points into.
pub(crate) struct NullTerminated {
    _strings: Vec<CString>,
    pointers: Vec<*const c_char>,
}

impl NullTerminated {
    pub(crate) fn new(strings: &[String]) -> Result<NullTerminated, String> {
        let strings = strings.iter().map(|s| c_string(s)).collect::<Result<Vec<_>, _>>()?;
        let mut pointers: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        pointers.push(std::ptr::null());
        Ok(NullTerminated { _strings: strings, pointers })
    }
}

pub(crate) fn c_string(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{s:?} contains a NUL byte"))
}

/// The last `errno`.
pub(crate) fn errno() -> c_int {
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

/// `Ok` with the result when a raw system call returned 0 or more.
fn check_syscall(result: libc::c_long) -> Result<libc::c_long, c_int> {
    if result < 0 {
        Err(errno())
    } else {
        Ok(result)
    }
}

fn optional(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

impl Action {
    /// Make the system calls. Only system calls: this runs in the cloned child.
    pub(crate) fn perform(&self) -> Result<(), c_int> {
        // SAFETY: (the whole match) every pointer passed is a NUL-terminated string or
        // array owned by `self`, a structure on this stack, or null where the call
        // allows it; the calls allocate nothing in this process.
        unsafe {
            match self {
                Action::DieWithParent => check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as c_ulong)),
                Action::CloseRanges { ranges } => {
                    for &(first, last) in ranges {
                        check(libc::close_range(first, last, 0))?;
                    }
                    Ok(())
                }
                Action::AwaitIdMaps { fd } => {
                    let mut byte = 0u8;
                    let result = match libc::read(*fd, (&mut byte as *mut u8).cast(), 1) {
                        1 => Ok(()),
                        0 => Err(libc::ECANCELED),
                        _ => Err(errno()),
                    };
                    libc::close(*fd);
                    result
                }
                Action::Reopen { path, fd } => {
                    let opened = libc::open(path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
                    check(opened)?;
                    move_descriptor(opened, *fd)
                }
                Action::CloneTree { path, fd, recursive, read_only } => {
                    clone_tree(path, *fd, if *recursive { libc::AT_RECURSIVE as c_uint } else { 0 }, *read_only)
                }
                Action::AttachTree { fd, target } => {
                    let attached = check_syscall(libc::syscall(
                        libc::SYS_move_mount,
                        *fd,
                        c"".as_ptr(),
                        libc::AT_FDCWD,
                        target.as_ptr(),
                        libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_SYMLINKS,
                    ));
                    libc::close(*fd);
                    attached.map(drop)
                }
                Action::Close { fd } => check(libc::close(*fd)),
                Action::Mount { source, target, fstype, flags, data } => check(libc::mount(
                    optional(source),
                    target.as_ptr(),
                    optional(fstype),
                    *flags,
                    optional(data).cast(),
                )),
                Action::BindReadOnly { path } => {
                    let bind = libc::MS_BIND | libc::MS_REC;
                    check(libc::mount(path.as_ptr(), path.as_ptr(), std::ptr::null(), bind, std::ptr::null()))?;
                    set_read_only(libc::AT_FDCWD, path.as_ptr(), libc::AT_RECURSIVE as c_uint)
                }
                Action::MakeDir { path, mode } => check(libc::mkdir(path.as_ptr(), *mode)),
                Action::MakeFile { path } => {
                    let flags = libc::O_CREAT | libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
                    let fd = libc::open(path.as_ptr(), flags, 0o644);
                    check(fd)?;
                    check(libc::close(fd))
                }
                Action::Symlink { target, link } => check(libc::symlink(target.as_ptr(), link.as_ptr())),
                Action::ChangeDir { path } => check(libc::chdir(path.as_ptr())),
                Action::PivotRoot => {
                    let here = c".".as_ptr();
                    check_syscall(libc::syscall(libc::SYS_pivot_root, here, here))?;
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
                    check(libc::close_range(3, c_int::MAX as c_uint, libc::CLOSE_RANGE_CLOEXEC as c_int))
                }
                // Raw system calls: the C library's wrappers would try to change the
                // ids of the parent's other threads too, which this copy does not have.
                Action::SetGroups { groups } => {
                    check_syscall(libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr())).map(drop)
                }
                Action::SetIds { uid, gid } => {
                    check_syscall(libc::syscall(libc::SYS_setresgid, *gid, *gid, *gid))?;
                    check_syscall(libc::syscall(libc::SYS_setresuid, *uid, *uid, *uid)).map(drop)
                }
                Action::Exec { path, argv, env } => {
                    libc::execve(path.as_ptr(), argv.pointers.as_ptr(), env.pointers.as_ptr());
                    Err(errno())
                }
            }
        }
    }
}

/// Make `opened` descriptor number `fd` (close-on-exec), closing `opened`.
fn move_descriptor(opened: c_int, fd: RawFd) -> Result<(), c_int> {
    // SAFETY: descriptor operations on numbers this process owns.
    unsafe {
        let moved = check(libc::dup3(opened, fd, libc::O_CLOEXEC));
        libc::close(opened);
        moved
    }
}

/// `open_tree(path, OPEN_TREE_CLONE | flags)` as descriptor `fd`, made read-only when
/// asked (with the mounts below it when `flags` has `AT_RECURSIVE`).
fn clone_tree(path: &CString, fd: RawFd, flags: c_uint, read_only: bool) -> Result<(), c_int> {
    // SAFETY: open_tree reads the NUL-terminated path and returns a new descriptor.
    let tree = check_syscall(unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC | flags,
        )
    })? as c_int;
    if read_only {
        if let Err(error) = set_read_only(tree, c"".as_ptr(), libc::AT_EMPTY_PATH as c_uint | flags) {
            // SAFETY: closing the descriptor just made.
            unsafe { libc::close(tree) };
            return Err(error);
        }
    }
    move_descriptor(tree, fd)
}

/// `mount_setattr(MOUNT_ATTR_RDONLY)` on the mount at `dirfd` + `path`. Unlike a
/// read-only remount, it keeps the flags the kernel locks (`nosuid`, `nodev`, atime)
/// as they are.
fn set_read_only(dirfd: c_int, path: *const c_char, flags: c_uint) -> Result<(), c_int> {
    // SAFETY: mount_attr is plain data; mount_setattr reads it (of the size passed).
    let mut attr: libc::mount_attr = unsafe { std::mem::zeroed() };
    attr.attr_set = libc::MOUNT_ATTR_RDONLY;
    // SAFETY: as above; `path` is a NUL-terminated string of the caller's.
    let result = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dirfd,
            path,
            flags,
            &mut attr as *mut libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    check_syscall(result).map(drop)
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
