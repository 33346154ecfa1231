//! Giving a signal to the guest: dispositions, the frame, the mask, restarts.
//!
//! - [`pending`]: the run loop calls it between blocks; every held signal the guest
//!   does not block is delivered, lowest number first (each further frame goes on top
//!   of the previous, as the kernel does when several are pending).
//! - [`synchronous`]: a trap or fault of the guest instruction at the state's PC. As
//!   the kernel's forced signals, one that is blocked or not caught kills the process
//!   by that signal (core dump where the default says so).
//! - [`syscall_result`]: what an interrupted system call returns, or whether it runs
//!   again after the handler (the kernel's rules: with a handler, only with
//!   `SA_RESTART` and never for the calls `signal(7)` lists; a call a signal
//!   interrupted before it started always runs again).
//!
//! A handler starts with x0 = signal, x1 = &siginfo, x2 = &ucontext, x29 = the frame
//! record, x30 = the restorer (`SA_RESTORER`, or a two-instruction `rt_sigreturn`
//! page archway maps, as the kernel's vDSO provides), SP = the frame, on the
//! alternate stack for `SA_ONSTACK`. The mask then adds `sa_mask` and the signal
//! (unless `SA_NODEFER`); `SA_RESETHAND` restores the default.

use super::frame::{self, FrameInfo};
use super::{bit, safe_syscall, set_guest_mask, with_signals, SIGINFO_SIZE};
use crate::process::{lock, GuestProcess};
use crate::run::die_by_signal;
use crate::syscall::signal::{AltStack, GuestSigaction};
use crate::threads::GuestThread;
use archway_engine::fault::GuestFault;
use archway_guest_a64::CpuState;
use std::sync::OnceLock;

const SA_NODEFER: u64 = 0x4000_0000;
const SA_RESETHAND: u64 = 0x8000_0000;
const SA_RESTART: u64 = 0x1000_0000;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTORER: u64 = 0x0400_0000;
/// `si_code` of a fault on a mapped page without the access right.
const SEGV_ACCERR: i32 = 2;
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;

/// Signals whose default action is to ignore them.
const DEFAULT_IGNORE: u64 = bit(libc::SIGCHLD) | bit(libc::SIGCONT) | bit(libc::SIGURG) | bit(libc::SIGWINCH);
/// Signals whose default action is to stop.
const DEFAULT_STOP: u64 = bit(libc::SIGTSTP) | bit(libc::SIGTTIN) | bit(libc::SIGTTOU);

/// aarch64 system calls that an interrupting handler never restarts (`signal(7)`):
/// epoll_pwait, pselect6, ppoll, nanosleep, clock_nanosleep, rt_sigsuspend,
/// rt_sigtimedwait, msgrcv, msgsnd, semtimedop, semop, epoll_pwait2.
const NEVER_RESTARTED: [u64; 12] = [22, 72, 73, 101, 115, 133, 137, 188, 189, 192, 193, 441];

/// A guest fault's ESR: data abort from EL0 (EC 0x24), 32-bit instruction, WnR, and
/// a level-3 translation (unmapped) or permission fault status.
fn data_abort_esr(fault: &GuestFault) -> u64 {
    let status = if fault.code == SEGV_ACCERR { 0x0f } else { 0x07 };
    (0x24 << 26) | (1 << 25) | (u64::from(fault.write) << 6) | status
}

/// A siginfo with signo, code and address.
fn siginfo(signal: i32, code: i32, addr: u64) -> [u8; SIGINFO_SIZE] {
    let mut info = [0u8; SIGINFO_SIZE];
    info[0..4].copy_from_slice(&signal.to_le_bytes());
    info[8..12].copy_from_slice(&code.to_le_bytes());
    info[16..24].copy_from_slice(&addr.to_le_bytes());
    info
}

/// Deliver the held signals the guest does not block.
pub fn pending(process: &GuestProcess, thread: &mut GuestThread, cpu: &mut CpuState) {
    loop {
        let ready = with_signals(|s| s.held()) & !thread.signal_mask;
        if ready == 0 {
            break;
        }
        let sig = ready.trailing_zeros() as i32 + 1;
        let Some(info) = with_signals(|s| s.take(sig)) else { break };
        let action = lock(&process.signal_actions)[sig as usize - 1];
        match action.handler {
            SIG_IGN => {}
            SIG_DFL => default_action(sig),
            _ => setup(process, thread, cpu, sig, &action, &info, None),
        }
    }
    set_guest_mask(thread.signal_mask);
}

/// The default action of `sig`, for a signal caught on the host whose guest
/// disposition has since gone back to the default.
fn default_action(sig: i32) {
    if DEFAULT_IGNORE & bit(sig) != 0 {
        return;
    }
    if DEFAULT_STOP & bit(sig) != 0 {
        // SAFETY: stops this process, as the kernel would.
        unsafe { libc::kill(libc::getpid(), libc::SIGSTOP) };
        return;
    }
    die_by_signal(sig)
}

/// Deliver synchronous `signal` raised at the state's PC (`fault`: a host fault).
pub fn synchronous(
    process: &GuestProcess,
    thread: &mut GuestThread,
    cpu: &mut CpuState,
    signal: i32,
    fault: Option<GuestFault>,
) {
    let (info, fault_regs) = match fault {
        Some(f) => (siginfo(signal, f.code, f.addr), Some((f.addr, data_abort_esr(&f)))),
        // ILL_ILLOPC, TRAP_BRKPT and BUS_ADRALN are all 1; si_addr is the instruction.
        None => (siginfo(signal, 1, cpu.header.pc), None),
    };
    let action = lock(&process.signal_actions)[signal as usize - 1];
    if thread.signal_mask & bit(signal) != 0 || action.handler == SIG_DFL || action.handler == SIG_IGN {
        tracing::info!("guest signal {signal} at pc {:#x} in thread {}", cpu.header.pc, thread.tid);
        die_by_signal(signal)
    }
    setup(process, thread, cpu, signal, &action, &info, fault_regs);
    set_guest_mask(thread.signal_mask);
}

/// Build the frame and enter the handler of `action` for `sig`.
fn setup(
    process: &GuestProcess,
    thread: &mut GuestThread,
    cpu: &mut CpuState,
    sig: i32,
    action: &GuestSigaction,
    info: &[u8; SIGINFO_SIZE],
    fault: Option<(u64, u64)>,
) {
    let alt = thread.alt_stack;
    let on_alt = alt.on_stack(cpu.sp);
    let use_alt = action.flags & SA_ONSTACK != 0 && alt.enabled() && !on_alt;
    let sp_top = if use_alt { alt.sp + alt.size } else { cpu.sp };
    let (frame_addr, record) = frame::placement(sp_top);
    let reported = if on_alt { alt.with_onstack_flag() } else { alt };
    let mask = thread.saved_mask.take().unwrap_or(thread.signal_mask);
    let frame_info = FrameInfo { siginfo: info, mask, alt_stack: reported.encode(), fault };
    if frame::write(cpu, &frame_info, frame_addr, record).is_err() {
        tracing::info!("cannot write the frame of signal {sig} at {frame_addr:#x}");
        die_by_signal(libc::SIGSEGV)
    }
    if use_alt && alt.autodisarm() {
        thread.alt_stack = AltStack::DISABLED;
    }
    cpu.x[0] = sig as u64;
    cpu.x[1] = frame_addr;
    cpu.x[2] = frame_addr + frame::UCONTEXT;
    cpu.x[29] = record;
    cpu.x[30] = if action.flags & SA_RESTORER != 0 { action.restorer } else { sigreturn_trampoline() };
    cpu.sp = frame_addr;
    cpu.header.pc = action.handler;
    thread.signal_mask |= action.mask;
    if action.flags & SA_NODEFER == 0 {
        thread.signal_mask |= bit(sig);
    }
    thread.signal_mask &= !super::UNBLOCKABLE;
    if action.flags & SA_RESETHAND != 0 {
        let default = GuestSigaction::default();
        lock(&process.signal_actions)[sig as usize - 1] = default;
        super::mirror(sig, &default);
    }
}

/// A guest page holding `mov x8, #139; svc #0` (rt_sigreturn), for handlers
/// installed without `SA_RESTORER` (0 if it cannot be mapped: the return then faults).
fn sigreturn_trampoline() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: a fresh anonymous mapping that only this code writes.
        unsafe {
            let p = libc::mmap(
                core::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if p == libc::MAP_FAILED {
                return 0;
            }
            let code: [u32; 2] = [0xd280_1168, 0xd400_0001];
            core::ptr::copy_nonoverlapping(code.as_ptr() as *const u8, p as *mut u8, 8);
            libc::mprotect(p, 4096, libc::PROT_READ | libc::PROT_EXEC);
            p as u64
        }
    })
}

/// What system call `nr` that returned `result` leaves for the guest: `Some(x0)`, or
/// `None` when it runs again after the handler (the PC then points back at the `svc`).
pub fn syscall_result(
    process: &GuestProcess,
    thread: &GuestThread,
    cpu: &mut CpuState,
    nr: u64,
    result: i64,
) -> Option<i64> {
    let again = match result {
        safe_syscall::NOT_STARTED => true,
        r if r == -i64::from(libc::EINTR) => {
            let ready = with_signals(|s| s.held()) & !thread.signal_mask;
            ready != 0 && {
                let sig = ready.trailing_zeros() as usize;
                let action = lock(&process.signal_actions)[sig];
                let has_handler = action.handler != SIG_DFL && action.handler != SIG_IGN;
                !has_handler || (action.flags & SA_RESTART != 0 && !NEVER_RESTARTED.contains(&nr))
            }
        }
        _ => false,
    };
    if again {
        cpu.header.pc -= 4;
        None
    } else {
        Some(result)
    }
}
