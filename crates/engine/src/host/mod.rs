//! What running guest code needs from the host CPU, one file per host architecture:
//! the setjmp-like routine behind [`crate::fault::catching`], and access to the context
//! a signal handler interrupted (its PC, whether a fault was a write, and the resumption
//! at the catch landing of [`crate::fault::on_host_fault`]).
//!
//! - `x86_64`: the SysV ABI and glibc's `gregs`.
//! - `aarch64`: AAPCS64 and the kernel's `sigcontext` (PC, SP, and the `esr_context`
//!   record for the write bit).
//!
//! Everything else in this crate is host-neutral. Redirecting a fault inside translated
//! code needs the back end's register conventions: [`crate::Backend::redirect_fault`].

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "aarch64")]
use aarch64 as this_host;
#[cfg(target_arch = "x86_64")]
use x86_64 as this_host;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("archway runs on x86_64 and aarch64 hosts only");

pub(crate) use this_host::resume_at_catch_landing;
pub use this_host::{fault_was_write, interrupted_pc, set_interrupted_pc, NAME};

/// Saved stack pointer of [`crate::fault::catching`]'s asm frame, written by
/// `archway_catch_call` before it calls the closure.
#[repr(C)]
pub(crate) struct CatchBuf {
    pub(crate) sp: usize,
}

extern "C" {
    /// Save the callee-saved registers and the stack pointer in `buf`, call `f(arg)`,
    /// and return 0; or return 1 when a fault handler resumed at `archway_catch_landing`
    /// with the saved stack pointer (the frames of `f` abandoned).
    pub(crate) fn archway_catch_call(buf: *mut CatchBuf, f: unsafe extern "C" fn(*mut u8), arg: *mut u8) -> u32;
    /// Where a fault inside [`archway_catch_call`] resumes (never called directly).
    pub(crate) fn archway_catch_landing();
}
