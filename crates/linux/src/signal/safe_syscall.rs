//! Blocking host system calls without a lost wake-up.
//!
//! The race: the run loop finds no signal for the guest, a signal arrives, the host
//! handler records it, and only then the thread enters a blocking `read`: it sleeps
//! with a signal waiting. [`call`] is an asm routine that checks this thread's
//! "deliverable signal" flag and then executes `syscall`; if the host handler
//! interrupts it anywhere from the check up to the `syscall` instruction itself (not
//! yet executed), it moves the host PC to a path that returns [`NOT_STARTED`]. A signal
//! that arrives once the kernel is inside the call makes it return `-EINTR` (the host
//! handler has no `SA_RESTART`). Either way the run loop delivers the signal and
//! decides, with the kernel's rules, whether the guest sees `EINTR` or the call again.
//!
//! When the kernel restarts a call by itself (`ERESTARTNOINTR`, restart blocks) it
//! rewinds the PC to the system call instruction: a handler that then interrupts at
//! that instruction sees a call that did run, and still answers "not started", which
//! is right, since the run loop then restarts the guest's call. The routine itself is
//! per host (`crate::host`).

/// What [`call`] returns when it did not enter the kernel because a signal is waiting
/// (the kernel's internal ERESTARTNOINTR, never seen by user space).
pub const NOT_STARTED: i64 = -513;

use crate::host::{
    archway_safe_syscall, archway_safe_syscall_check, archway_safe_syscall_insn, archway_safe_syscall_not_started,
};
use archway_engine::host::{interrupted_pc, set_interrupted_pc};

/// Host system call `nr` that a deliverable guest signal interrupts: the raw result,
/// `-EINTR`, or [`NOT_STARTED`].
pub fn call(nr: libc::c_long, args: &[u64; 6]) -> i64 {
    let flag = super::with_signals(|s| s.deliverable_flag());
    // SAFETY: `flag` is this thread's (thread-locals outlive the call); the call's
    // arguments are the guest's, which the kernel checks (guest memory is host memory).
    unsafe { archway_safe_syscall(flag, nr, args[0], args[1], args[2], args[3], args[4], args[5]) }
}

/// Host handler: if `uc` was interrupted between the check and the `syscall`
/// instruction, make it return [`NOT_STARTED`].
///
/// # Safety
/// `uc` must be the handler's ucontext.
pub unsafe fn interrupted(uc: *mut libc::ucontext_t) {
    let start = archway_safe_syscall_check as *const () as u64;
    let insn = archway_safe_syscall_insn as *const () as u64;
    // SAFETY: the caller passes the handler's context.
    unsafe {
        if (start..=insn).contains(&interrupted_pc(uc)) {
            set_interrupted_pc(uc, archway_safe_syscall_not_started as *const () as u64);
        }
    }
}
