//! Signal bookkeeping: `rt_sigaction`, `rt_sigprocmask`, `sigaltstack`.
//!
//! Signal delivery to guest handlers is the next issue. Until then these calls keep
//! the guest's dispositions, mask and alternate stack, validate like the kernel and
//! answer what it would; no host handler is installed and the host mask is left
//! alone. One thing is mirrored on the host: a guest "ignore" (`SIG_IGN`) and a
//! return to `SIG_DFL`, for the asynchronous signals, so that `SIGPIPE` ignored by the
//! guest gives `EPIPE` and an ignored `SIGCHLD` reaps children, as the guest expects.
//! A signal the guest catches with a handler keeps the host default action for now.
//! Dispositions belong to the process ([`crate::process::GuestProcess`]); the mask
//! and the alternate stack to each thread ([`crate::threads::GuestThread`]).
//!
//! Layouts (arm64): `struct sigaction` is `{ handler, flags, restorer, mask }`, four
//! u64s; `stack_t` is `{ ss_sp u64, ss_flags i32, pad, ss_size u64 }`; the kernel
//! sigset is 64 bits. Signal numbers and `SA_*` flags are the generic ones on both
//! architectures.

use super::{errno, ret, Args, Outcome, SyscallContext};
use crate::guest_memory;
use crate::process::lock;
use crate::stack::MIN_SIGNAL_STACK_SIZE;

/// Number of signals (1..=64).
pub const SIGNAL_COUNT: usize = 64;
/// Size of the kernel's `sigset_t`.
const SIGSET_SIZE: u64 = 8;
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;
const SA_NOCLDWAIT: u64 = 2;
const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;
/// Signals whose host disposition archway keeps for itself: the synchronous ones
/// (faults it turns into guest signals) and glibc's two internal ones.
const HOST_OWNED_SIGNALS: [i32; 8] =
    [libc::SIGILL, libc::SIGTRAP, libc::SIGBUS, libc::SIGFPE, libc::SIGSEGV, libc::SIGSYS, 32, 33];

/// One signal's disposition, as the guest set it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuestSigaction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

impl GuestSigaction {
    /// Size of arm64's `struct sigaction` (kernel view).
    pub const SIZE: usize = 32;

    pub fn decode(bytes: &[u8; Self::SIZE]) -> GuestSigaction {
        let word = |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap_or_default());
        GuestSigaction { handler: word(0), flags: word(1), restorer: word(2), mask: word(3) }
    }

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        for (i, word) in [self.handler, self.flags, self.restorer, self.mask].iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
        }
        out
    }
}

/// The guest's alternate signal stack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u64,
    pub flags: i32,
    pub size: u64,
}

impl AltStack {
    /// No alternate stack (a new program's, and a new thread's).
    pub const DISABLED: AltStack = AltStack { sp: 0, flags: SS_DISABLE, size: 0 };
    /// Size of arm64's `stack_t`.
    pub const SIZE: usize = 24;

    fn decode(bytes: &[u8; Self::SIZE]) -> AltStack {
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or_default());
        let flags = i32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
        AltStack { sp: u64_at(0), flags, size: u64_at(16) }
    }

    fn encode(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        out[0..8].copy_from_slice(&self.sp.to_le_bytes());
        out[8..12].copy_from_slice(&self.flags.to_le_bytes());
        out[16..24].copy_from_slice(&self.size.to_le_bytes());
        out
    }
}

/// The dispositions a new program starts with: default, except the signals the host
/// process already ignores (ignored signals stay ignored across exec).
pub fn initial_actions() -> [GuestSigaction; SIGNAL_COUNT] {
    let mut actions = [GuestSigaction::default(); SIGNAL_COUNT];
    for (index, action) in actions.iter_mut().enumerate() {
        let mut current = [0u64; 4];
        let sig = index as libc::c_long + 1;
        // SAFETY: a query only (no new action); `current` is a kernel sigaction.
        let queried = unsafe { libc::syscall(libc::SYS_rt_sigaction, sig, 0usize, current.as_mut_ptr(), SIGSET_SIZE) };
        if queried == 0 && current[0] == SIG_IGN {
            action.handler = SIG_IGN;
        }
    }
    actions
}

/// Put the host's `SIGPIPE` back to its default action. Rust's runtime ignores
/// `SIGPIPE` at the start of every Rust program, archway included, so an ignored
/// `SIGPIPE` here says nothing about what archway's parent wanted; the guest starts
/// as a program started by a shell does, with `SIGPIPE` at its default.
/// Call before [`initial_actions`].
pub fn undo_runtime_sigpipe_ignore() {
    let default_action = [SIG_DFL, 0, 0, 0];
    // SAFETY: installs SIG_DFL; `default_action` is a kernel sigaction.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            libc::SIGPIPE as libc::c_long,
            default_action.as_ptr(),
            0usize,
            SIGSET_SIZE,
        )
    };
}

fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// SIGKILL and SIGSTOP can be neither caught, blocked nor ignored.
const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

/// `rt_sigaction(sig, act, oldact, sigsetsize)`.
pub fn rt_sigaction(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [sig, act, oldact, sigsetsize, ..] = *a;
    let sig = sig as u32 as i32;
    if sigsetsize != SIGSET_SIZE || !(1..=SIGNAL_COUNT as i32).contains(&sig) {
        return ret(errno(libc::EINVAL));
    }
    let new = if act != 0 {
        let mut bytes = [0u8; GuestSigaction::SIZE];
        if let Err(e) = guest_memory::read(act, &mut bytes) {
            return ret(e);
        }
        if bit(sig) & UNBLOCKABLE != 0 {
            return ret(errno(libc::EINVAL));
        }
        let mut new = GuestSigaction::decode(&bytes);
        new.mask &= !UNBLOCKABLE;
        Some(new)
    } else {
        None
    };
    let mut actions = lock(&ctx.process.signal_actions);
    let slot = &mut actions[sig as usize - 1];
    let old = *slot;
    if let Some(new) = new {
        *slot = new;
        mirror_on_host(sig, &new);
    }
    if oldact != 0 {
        if let Err(e) = guest_memory::write(oldact, &old.encode()) {
            return ret(e);
        }
    }
    ret(0)
}

/// Give the host the guest's "ignore" or "default" for an asynchronous signal.
fn mirror_on_host(sig: i32, action: &GuestSigaction) {
    if HOST_OWNED_SIGNALS.contains(&sig) {
        return;
    }
    let handler = if action.handler == SIG_IGN { SIG_IGN } else { SIG_DFL };
    let host_action: [u64; 4] = [handler, action.flags & SA_NOCLDWAIT, 0, 0];
    // SAFETY: installs SIG_IGN or SIG_DFL only; `host_action` is a kernel sigaction.
    let result = unsafe {
        libc::syscall(libc::SYS_rt_sigaction, sig as libc::c_long, host_action.as_ptr(), 0usize, SIGSET_SIZE)
    };
    if result != 0 {
        tracing::debug!("mirroring the guest's disposition of signal {sig} on the host failed");
    }
}

/// `rt_sigprocmask(how, set, oldset, sigsetsize)`.
pub fn rt_sigprocmask(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [how, set, oldset, sigsetsize, ..] = *a;
    if sigsetsize != SIGSET_SIZE {
        return ret(errno(libc::EINVAL));
    }
    let old = ctx.thread.signal_mask;
    if set != 0 {
        let requested = match guest_memory::read_u64(set) {
            Ok(v) => v & !UNBLOCKABLE,
            Err(e) => return ret(e),
        };
        ctx.thread.signal_mask = match how as u32 as i32 {
            libc::SIG_BLOCK => old | requested,
            libc::SIG_UNBLOCK => old & !requested,
            libc::SIG_SETMASK => requested,
            _ => return ret(errno(libc::EINVAL)),
        };
    }
    if oldset != 0 {
        if let Err(e) = guest_memory::write_u64(oldset, old) {
            return ret(e);
        }
    }
    ret(0)
}

/// `sigaltstack(ss, old_ss)`. Signals are not delivered yet, so the guest is never
/// running on its alternate stack.
pub fn sigaltstack(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [ss, old_ss, ..] = *a;
    let old = ctx.thread.alt_stack;
    if ss != 0 {
        let mut bytes = [0u8; AltStack::SIZE];
        if let Err(e) = guest_memory::read(ss, &mut bytes) {
            return ret(e);
        }
        let mut new = AltStack::decode(&bytes);
        let mode = new.flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return ret(errno(libc::EINVAL));
        }
        if mode == SS_DISABLE {
            new = AltStack::DISABLED;
        } else if new.size < MIN_SIGNAL_STACK_SIZE {
            return ret(errno(libc::ENOMEM));
        } else {
            new.flags &= SS_AUTODISARM;
        }
        ctx.thread.alt_stack = new;
    }
    if old_ss != 0 {
        if let Err(e) = guest_memory::write(old_ss, &old.encode()) {
            return ret(e);
        }
    }
    ret(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigaction_layout_round_trips() {
        let action = GuestSigaction { handler: 0x4005d0, flags: 0x0400_0004, restorer: 0x400600, mask: 1 << 9 };
        let bytes = action.encode();
        assert_eq!(u64::from_le_bytes(bytes[8..16].try_into().unwrap()), 0x0400_0004);
        assert_eq!(GuestSigaction::decode(&bytes), action);
    }

    #[test]
    fn alt_stack_layout() {
        let stack = AltStack { sp: 0x1000, flags: SS_DISABLE, size: 8192 };
        let bytes = stack.encode();
        assert_eq!(i32::from_le_bytes(bytes[8..12].try_into().unwrap()), SS_DISABLE);
        assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), 8192);
        assert_eq!(AltStack::decode(&bytes), stack);
    }
}
