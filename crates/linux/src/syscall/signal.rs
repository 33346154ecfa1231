//! Signal system calls: `rt_sigaction`, `rt_sigprocmask`, `sigaltstack`,
//! `rt_sigreturn`, `rt_sigpending`, `rt_sigsuspend`, `rt_sigtimedwait`.
//!
//! Dispositions belong to the process ([`crate::process::GuestProcess`]); the mask
//! and the alternate stack to each thread ([`crate::threads::GuestThread`]). Every
//! change is mirrored on the host (disposition, mask), which is how delivery works:
//! see [`crate::signal`]. `kill`, `tgkill`, `rt_sigqueueinfo`, `signalfd4`, timers and
//! itimers pass straight to the host: the siginfo and sigevent layouts are the same.
//!
//! Layouts (arm64): `struct sigaction` is `{ handler, flags, restorer, mask }`, four
//! u64s; `stack_t` is `{ ss_sp u64, ss_flags i32, pad, ss_size u64 }`; the kernel
//! sigset is 64 bits. Signal numbers and `SA_*` flags are the generic ones on both
//! architectures.

use super::{errno, ret, ret_or_fault, Args, Outcome, SyscallContext};
use crate::guest_memory;
use crate::process::lock;
use crate::signal::{self as delivery, frame, safe_syscall, set_guest_mask, with_signals, UNBLOCKABLE};
use crate::stack::MIN_SIGNAL_STACK_SIZE;

/// Number of signals (1..=64).
pub const SIGNAL_COUNT: usize = 64;
/// Size of the kernel's `sigset_t`.
const SIGSET_SIZE: u64 = 8;
const SIG_IGN: u64 = 1;
const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;

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

    pub fn enabled(&self) -> bool {
        self.flags & SS_DISABLE == 0
    }

    /// Whether `sp` is on this stack.
    pub fn on_stack(&self, sp: u64) -> bool {
        self.enabled() && sp.wrapping_sub(self.sp) < self.size
    }

    pub fn autodisarm(&self) -> bool {
        self.flags & SS_AUTODISARM != 0
    }

    /// As `sigaltstack` reports it while running on it.
    pub fn with_onstack_flag(&self) -> AltStack {
        AltStack { flags: self.flags | SS_ONSTACK, ..*self }
    }

    fn decode(bytes: &[u8; Self::SIZE]) -> AltStack {
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or_default());
        let flags = i32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
        AltStack { sp: u64_at(0), flags, size: u64_at(16) }
    }

    pub fn encode(&self) -> [u8; Self::SIZE] {
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

use crate::signal::bit;

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
        delivery::mirror(sig, &new);
    }
    if oldact != 0 {
        if let Err(e) = guest_memory::write(oldact, &old.encode()) {
            return ret(e);
        }
    }
    ret(0)
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
        set_guest_mask(ctx.thread.signal_mask);
    }
    if oldset != 0 {
        if let Err(e) = guest_memory::write_u64(oldset, old) {
            return ret(e);
        }
    }
    ret(0)
}

/// `sigaltstack(ss, old_ss)`.
pub fn sigaltstack(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [ss, old_ss, ..] = *a;
    let current = ctx.thread.alt_stack;
    let on_stack = current.on_stack(ctx.cpu.sp);
    let old = if on_stack { current.with_onstack_flag() } else { current };
    if ss != 0 {
        if on_stack {
            return ret(errno(libc::EPERM));
        }
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

/// `rt_sigreturn()`: back from a handler, with the frame at SP.
pub fn rt_sigreturn(ctx: &mut SyscallContext, _: &Args) -> Outcome {
    let Some(restored) = frame::restore(ctx.cpu, ctx.cpu.sp) else {
        tracing::info!("bad signal frame at {:#x} in rt_sigreturn", ctx.cpu.sp);
        crate::run::die_by_signal(libc::SIGSEGV)
    };
    ctx.thread.signal_mask = restored.mask & !UNBLOCKABLE;
    set_guest_mask(ctx.thread.signal_mask);
    let stack = AltStack::decode(&restored.alt_stack);
    if stack.flags & SS_DISABLE != 0 {
        ctx.thread.alt_stack = AltStack::DISABLED;
    } else if stack.size >= MIN_SIGNAL_STACK_SIZE {
        ctx.thread.alt_stack = AltStack { flags: stack.flags & SS_AUTODISARM, ..stack };
    }
    Outcome::Resume
}

/// Pending signals of this thread and process, held by archway or by the host kernel.
fn all_pending() -> u64 {
    let mut host = 0u64;
    // SAFETY: an 8-byte kernel sigset on our stack.
    unsafe { libc::syscall(libc::SYS_rt_sigpending, &mut host as *mut u64, SIGSET_SIZE) };
    host | with_signals(|s| s.held())
}

/// `rt_sigpending(set, sigsetsize)`: pending and blocked.
pub fn rt_sigpending(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    if a[1] != SIGSET_SIZE {
        return ret(errno(libc::EINVAL));
    }
    ret_or_fault(guest_memory::write_u64(a[0], all_pending() & ctx.thread.signal_mask), 0)
}

/// `rt_sigsuspend(mask, sigsetsize)`: wait with `mask` until a signal is delivered;
/// the handler's frame records the mask from before the call.
pub fn rt_sigsuspend(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    if a[1] != SIGSET_SIZE {
        return ret(errno(libc::EINVAL));
    }
    let mask = match guest_memory::read_u64(a[0]) {
        Ok(m) => m & !UNBLOCKABLE,
        Err(e) => return ret(e),
    };
    ctx.thread.saved_mask = Some(ctx.thread.signal_mask);
    ctx.thread.signal_mask = mask;
    set_guest_mask(mask);
    while with_signals(|s| s.held()) & !mask == 0 {
        // ppoll with no descriptors and no timeout: pause(2), which arm64 does not have.
        safe_syscall::call(libc::SYS_ppoll, &[0; 6]);
    }
    ret(errno(libc::EINTR))
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: a signal archway holds first,
/// else the host's wait (the guest blocks the set, so the host does too).
pub fn rt_sigtimedwait(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [set, info, timeout, sigsetsize, ..] = *a;
    if sigsetsize != SIGSET_SIZE {
        return ret(errno(libc::EINVAL));
    }
    let wanted = match guest_memory::read_u64(set) {
        Ok(m) => m & !UNBLOCKABLE,
        Err(e) => return ret(e),
    };
    loop {
        let held = with_signals(|s| s.held()) & wanted;
        if held != 0 {
            let sig = held.trailing_zeros() as i32 + 1;
            if let Some(siginfo) = with_signals(|s| s.take(sig)) {
                set_guest_mask(ctx.thread.signal_mask);
                if info != 0 {
                    if let Err(e) = guest_memory::write(info, &siginfo) {
                        return ret(e);
                    }
                }
                return ret(i64::from(sig));
            }
        }
        let result = safe_syscall::call(libc::SYS_rt_sigtimedwait, &[set, info, timeout, sigsetsize, 0, 0]);
        let interrupted = result == safe_syscall::NOT_STARTED || result == errno(libc::EINTR);
        if !interrupted || with_signals(|s| s.held()) & wanted == 0 {
            return ret(if interrupted { errno(libc::EINTR) } else { result });
        }
    }
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
