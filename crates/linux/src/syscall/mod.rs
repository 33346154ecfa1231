//! System calls of aarch64 guests.
//!
//! aarch64 uses the kernel's generic numbering (`asm-generic/unistd.h`); the x86_64
//! host has its own. [`table::SYSCALLS`] maps each aarch64 number to a [`Handler`]:
//! most are [`Handler::Host`], the same call passed straight to the host under its
//! own number; the rest are emulated because a structure, a flag value or the
//! meaning differs between the two ABIs, or because the call concerns archway itself
//! (memory, signals, processes).
//!
//! Arguments come from X0..X5, the number from X8; the result goes to X0 raw
//! (a negative errno on failure), as the kernel returns it. A number not in the
//! table returns `-ENOSYS` and is logged once.
//!
//! Handler modules: [`fs`] (open flags, `/proc` views), [`stat`] (`struct stat`),
//! [`memory`] (`brk`, `mmap`...), [`tasks`] (exit, clone, uname, prctl,
//! `set_tid_address`), [`exec`] (`execve`, `execveat`),
//! [`signal`] (signal calls), [`ioctl`] (terminal ioctls), [`epoll`] (`epoll_event`),
//! [`ptrace`] (the architecture-neutral requests), [`sysv_ipc`] (`semid64_ds`);
//! [`paths`] resolves path arguments under the guest root.

pub mod epoll;
pub mod exec;
pub mod fs;
pub mod ioctl;
pub mod memory;
pub mod paths;
pub mod ptrace;
pub mod signal;
pub mod stat;
pub mod sysv_ipc;
pub mod table;
pub mod tasks;

use crate::process::GuestProcess;
use crate::threads::GuestThread;
use archway_engine::Engine;
use archway_guest_a64::CpuState;
use std::sync::Arc;

/// The six argument registers X0..X5.
pub type Args = [u64; 6];

/// What the handlers can reach: the process (shared by its threads), and the
/// calling thread's bookkeeping, CPU state and engine.
pub struct SyscallContext<'a> {
    pub process: &'a Arc<GuestProcess>,
    pub thread: &'a mut GuestThread,
    pub cpu: &'a mut CpuState,
    pub engine: &'a mut dyn Engine,
}

impl SyscallContext<'_> {
    /// Forget the translations of guest code in `[start, end)`, in every thread: the
    /// engines share invalidations, and the other threads leave the code they run.
    pub fn invalidate_code(&mut self, start: u64, end: u64) {
        self.engine.invalidate(start, end);
        self.process.threads.interrupt_others(self.thread.tid);
    }
}

/// What a system call does to the run loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Put this value in X0 and continue.
    Return(i64),
    /// The whole register state is already what the guest continues with
    /// (`rt_sigreturn`): no result to store, and never a restart, whatever X0 holds.
    Resume,
    /// The guest process ends with this exit status (`exit_group`).
    Exit(i32),
    /// The calling guest thread ends with this exit status (`exit`).
    ExitThread(i32),
}

/// An emulated system call.
pub type EmulatedFn = fn(&mut SyscallContext, &Args) -> Outcome;

/// How one aarch64 system call is carried out.
#[derive(Clone, Copy)]
pub enum Handler {
    /// The host system call with this (x86_64) number, same arguments, same result.
    Host(libc::c_long),
    /// The same, with the path arguments at these positions resolved under the guest
    /// root ([`paths`]).
    HostPaths(libc::c_long, &'static [usize]),
    /// A handler of ours.
    Emulated(EmulatedFn),
    /// Deliberately `-ENOSYS` without a warning: the guest's C library expects this
    /// answer from some kernels and falls back (see the table for why, per call).
    Enosys,
}

/// One row of the system call table.
#[derive(Clone, Copy)]
pub struct SyscallEntry {
    /// aarch64 system call number.
    pub nr: u64,
    /// Name as in `asm-generic/unistd.h` (`__NR_<name>`).
    pub name: &'static str,
    pub handler: Handler,
}

/// The table row for aarch64 system call `nr`.
pub fn lookup(nr: u64) -> Option<&'static SyscallEntry> {
    table::SYSCALLS.binary_search_by_key(&nr, |e| e.nr).ok().map(|i| &table::SYSCALLS[i])
}

/// Carry out system call `nr` with `args`.
pub fn dispatch(ctx: &mut SyscallContext, nr: u64, args: &Args) -> Outcome {
    let Some(entry) = lookup(nr) else {
        if ctx.process.first_time("syscall", nr) {
            tracing::warn!("unknown aarch64 system call {nr} (args {args:#x?}): returning -ENOSYS");
        }
        return Outcome::Return(errno(libc::ENOSYS));
    };
    let outcome = match entry.handler {
        // Any of these may block: a guest signal interrupts them (see `crate::signal`).
        Handler::Host(host_nr) => Outcome::Return(crate::signal::safe_syscall::call(host_nr, args)),
        Handler::HostPaths(host_nr, positions) => {
            Outcome::Return(paths::host_with_paths(ctx, host_nr, positions, args))
        }
        Handler::Emulated(handler) => handler(ctx, args),
        Handler::Enosys => Outcome::Return(errno(libc::ENOSYS)),
    };
    tracing::trace!(
        "{}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}) = {outcome:?}",
        entry.name,
        args[0],
        args[1],
        args[2],
        args[3],
        args[4],
        args[5]
    );
    outcome
}

/// Make host system call `nr`; the raw result (negative errno on failure).
pub fn host_syscall(nr: libc::c_long, args: &Args) -> i64 {
    // SAFETY: the table only names host calls whose arguments mean the same for the
    // guest; pointers are guest addresses, which are host addresses, and the kernel
    // checks them.
    let result = unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]) };
    if result == -1 {
        -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::ENOSYS))
    } else {
        result
    }
}

/// `-errno` as a system call result.
pub const fn errno(code: i32) -> i64 {
    -(code as i64)
}

/// A plain return value as an [`Outcome`].
fn ret(value: i64) -> Outcome {
    Outcome::Return(value)
}

/// The result of a checked guest-memory copy as a system call result.
fn ret_or_fault(result: Result<(), i64>, value: i64) -> Outcome {
    Outcome::Return(result.map_or_else(|e| e, |()| value))
}

#[cfg(test)]
mod tests;
