//! The sandbox's child: made by `clone3` in new namespaces, pid 1 of its pid namespace,
//! its init. It performs the [`Setup`]'s steps, starts the command as pid 2, and tells
//! the parent on a close-on-exec pipe ([`Report`]) the first failing step that is not
//! tolerated (its number and `errno`), or that the command started, and later its wait
//! status.

use crate::actions::errno;
use crate::report::Report;
use crate::setup::{Setup, Step};
use std::ffi::{c_int, c_ulong};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The sandbox's init process, as the parent holds it.
pub(crate) struct Child {
    pub pid: libc::pid_t,
    pub pidfd: OwnedFd,
}

/// Start the sandbox's init, which performs `setup` and sends its [`Report`]s on
/// `report` (the write end of a close-on-exec pipe). `Err` when the kernel refuses the
/// namespaces.
pub(crate) fn spawn(setup: &Setup, report: RawFd) -> io::Result<Child> {
    let mut pidfd: c_int = -1;
    // SAFETY: clone_args is plain data; all-zero is "no options".
    let mut args: libc::clone_args = unsafe { std::mem::zeroed() };
    args.flags = (setup.namespaces | libc::CLONE_PIDFD) as u64;
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
