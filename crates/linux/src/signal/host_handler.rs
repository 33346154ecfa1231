//! The host signal handler: one function for every signal archway handles.
//!
//! Installed with `SA_SIGINFO | SA_ONSTACK` (on the per-thread stack of
//! [`super::init_thread`]) and a full `sa_mask`, without `SA_RESTART`, so that a
//! blocking host system call returns `EINTR` and the run loop applies the guest's
//! restart rules. Async-signal-safe: it touches thread-locals, atomics and the
//! interrupted context only.
//!
//! - A fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP with a kernel `si_code`) in
//!   guest code is redirected to the engine ([`archway_engine::fault::on_host_fault`]);
//!   anywhere else it is archway's bug: a message on stderr, then the default action
//!   when the instruction faults again (core dump).
//! - Anything else is recorded for the guest ([`super::ThreadSignals`]) and stays
//!   blocked on the host until the guest has it; a blocking call between the pending
//!   check and its `syscall` instruction is made to return "not started"
//!   ([`super::safe_syscall`]).

use super::{bit, safe_syscall, with_signals, FAULT_SIGNALS, SIGINFO_SIZE};
use crate::host::archway_signal_restorer;
use archway_engine::fault::{on_host_fault, GuestFault};
use archway_engine::host::{fault_was_write, interrupted_pc};

/// Offset of `si_code` in a siginfo.
const SI_CODE: usize = 8;
/// Offset of `si_addr` in a siginfo.
const SI_ADDR: usize = 16;

/// The restorer the host handler is installed with.
pub fn restorer_address() -> usize {
    archway_signal_restorer as *const () as usize
}

/// The handler's address, for `sigaction`.
pub fn handler_address() -> usize {
    handler as *const () as usize
}

extern "C" fn handler(sig: i32, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    let uc = uc as *mut libc::ucontext_t;
    // SAFETY: the kernel hands a valid siginfo and ucontext to an SA_SIGINFO handler.
    unsafe {
        let raw = &*(info as *const [u8; SIGINFO_SIZE]);
        let code = i32::from_le_bytes(raw[SI_CODE..SI_CODE + 4].try_into().unwrap_or_default());
        if FAULT_SIGNALS.contains(&sig) && code > 0 {
            let addr = u64::from_le_bytes(raw[SI_ADDR..SI_ADDR + 8].try_into().unwrap_or_default());
            let write = fault_was_write(uc);
            if !on_host_fault(GuestFault { signal: sig, code, addr, write }, uc) {
                archway_fault(sig, addr, interrupted_pc(uc));
            }
            return;
        }
        if with_signals(|s| s.record(sig, raw)) {
            // Keep `sig` blocked after the handler: the guest has not taken it yet.
            let mask = &mut (*uc).uc_sigmask as *mut libc::sigset_t as *mut u64;
            *mask |= bit(sig);
            safe_syscall::interrupted(uc);
        }
    }
}

/// A fault outside guest code: say so and let it happen again with the default action.
fn archway_fault(sig: i32, addr: u64, pc: u64) {
    let mut message = *b"archway: internal fault: signal 00 at pc 0x0000000000000000 addr 0x0000000000000000\n";
    message[32] = b'0' + (sig / 10) as u8;
    message[33] = b'0' + (sig % 10) as u8;
    put_hex(&mut message[43..59], pc);
    put_hex(&mut message[67..83], addr);
    // SAFETY: write(2) and rt_sigaction(2) with valid buffers are async-signal-safe.
    unsafe {
        libc::write(2, message.as_ptr() as *const libc::c_void, message.len());
        let default_action = [0u64; 4];
        libc::syscall(libc::SYS_rt_sigaction, sig as libc::c_long, default_action.as_ptr(), 0usize, 8usize);
    }
}

fn put_hex(out: &mut [u8], value: u64) {
    for (i, byte) in out.iter_mut().enumerate() {
        let nibble = (value >> (4 * (15 - i))) & 0xf;
        *byte = b"0123456789abcdef"[nibble as usize];
    }
}
