//! What the Linux personality needs from the host CPU and its kernel ABI, one file per
//! host architecture; the rest of the crate is host-neutral. (Reading and rewriting a
//! signal handler's interrupted context is the engine's: [`archway_engine::host`].)
//!
//! - `x86_64`, `aarch64`: the safe-syscall routine ([`crate::signal::safe_syscall`])
//!   and the host handler's `rt_sigreturn` restorer in assembly, the raw `clone`
//!   argument order, the host kernel's `O_LARGEFILE`, the size of the alternate
//!   signal stack, and the engine the host runs guests with ([`new_engine`]: the JIT
//!   with the host's back end, `archway_host_x64` on x86_64; the interpreter on
//!   aarch64 until it has one).
//!
//! Host structure layouts that differ from the guest's (`epoll_event`, `semid64_ds`,
//! `stat`) come from the `libc` crate's definitions for the host, so their converters
//! need nothing here.

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "aarch64")]
pub use aarch64::{alt_stack_bytes, new_engine, raw_clone_args, O_LARGEFILE};
#[cfg(target_arch = "x86_64")]
pub use x86_64::{alt_stack_bytes, new_engine, raw_clone_args, O_LARGEFILE};

extern "C" {
    /// System call `nr` with six arguments, unless `*flag` is non-zero when checked (then
    /// `NOT_STARTED` without entering the kernel). Labels inside it:
    /// [`archway_safe_syscall_check`] (the check) up to [`archway_safe_syscall_insn`] (the
    /// system call instruction itself), and [`archway_safe_syscall_not_started`].
    pub fn archway_safe_syscall(flag: *const u32, nr: i64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64)
        -> i64;
    /// The first instruction of the flag check in [`archway_safe_syscall`].
    pub fn archway_safe_syscall_check();
    /// The system call instruction of [`archway_safe_syscall`].
    pub fn archway_safe_syscall_insn();
    /// The path of [`archway_safe_syscall`] that returns `NOT_STARTED`.
    pub fn archway_safe_syscall_not_started();
    /// `rt_sigreturn`, the restorer the host handler is installed with.
    pub fn archway_signal_restorer();
}
