//! What archway's process inherited across `execve` that Rust's runtime changes before
//! `main`, put back for the guest.
//!
//! Before `main`, Rust's runtime ignores `SIGPIPE` and opens `/dev/null` on any of the
//! descriptors 0, 1 and 2 that is closed. A guest must find both as its parent left
//! them: a program started with `SIGPIPE` ignored (`trap '' PIPE`, `nohup`) keeps it
//! ignored, and one started with stdin closed (`posix_spawn` with
//! `POSIX_SPAWN_CLOSE`, `cmd <&-`) sees `EBADF` on fd 0. [`RECORD`] runs from
//! `.init_array`, which the C library calls before `main`, and notes both; [`restore`]
//! undoes the runtime's changes just before the guest starts.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Whether `SIGPIPE` was ignored.
static SIGPIPE_IGNORED: AtomicBool = AtomicBool::new(false);
/// Bit `n`: descriptor `n` (0, 1 or 2) was closed.
static CLOSED_STANDARD_FDS: AtomicU8 = AtomicU8::new(0);

/// Runs before `main`, so before Rust's runtime.
#[used]
#[link_section = ".init_array"]
static RECORD: extern "C" fn() = record;

extern "C" fn record() {
    let mut action = [0u64; 4];
    // SAFETY: a query only; `action` is a kernel sigaction of 8-byte sigsets.
    let queried = unsafe {
        libc::syscall(libc::SYS_rt_sigaction, libc::SIGPIPE as libc::c_long, 0usize, action.as_mut_ptr(), 8usize)
    };
    SIGPIPE_IGNORED.store(queried == 0 && action[0] == libc::SIG_IGN as u64, Ordering::Relaxed);
    let mut closed = 0u8;
    for fd in 0..3 {
        // SAFETY: F_GETFD only reads the descriptor's flags.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            closed |= 1 << fd;
        }
    }
    CLOSED_STANDARD_FDS.store(closed, Ordering::Relaxed);
}

/// Give `SIGPIPE` the disposition archway inherited (call before the guest's initial
/// dispositions are read), and close again the standard descriptors that were closed.
pub fn restore() {
    // Keeps RECORD (and so its `.init_array` entry) in every binary that restores.
    std::hint::black_box(&RECORD);
    let handler = if SIGPIPE_IGNORED.load(Ordering::Relaxed) { libc::SIG_IGN } else { libc::SIG_DFL };
    let action = [handler as u64, 0, 0, 0];
    // SAFETY: installs SIG_DFL or SIG_IGN; `action` is a kernel sigaction.
    unsafe { libc::syscall(libc::SYS_rt_sigaction, libc::SIGPIPE as libc::c_long, action.as_ptr(), 0usize, 8usize) };
    let closed = CLOSED_STANDARD_FDS.load(Ordering::Relaxed);
    for fd in (0..3).filter(|fd| closed & (1 << fd) != 0) {
        // SAFETY: the runtime's /dev/null on a descriptor that was closed; nothing of
        // archway's uses it.
        unsafe { libc::close(fd) };
    }
}
