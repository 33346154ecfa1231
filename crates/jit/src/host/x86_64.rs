//! The x86_64 host: the catch routine in the SysV ABI, and `ucontext_t` through
//! glibc's `gregs`.

use super::CatchBuf;
use crate::fault::{GuestFault, Translated};

/// This host's architecture name, as Rust spells it.
pub const NAME: &str = "x86_64";

/// x86 page-fault error code (`REG_ERR`): the access was a write.
const PF_WRITE: i64 = 2;

core::arch::global_asm!(
    ".text",
    ".globl archway_catch_call",
    ".type archway_catch_call, @function",
    // rdi = &mut CatchBuf, rsi = fn(*mut u8), rdx = its argument; eax = 0, or 1 after a fault.
    "archway_catch_call:",
    "push rbx",
    "push rbp",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov [rdi], rsp",
    "mov rdi, rdx",
    "call rsi",
    "xor eax, eax",
    "jmp 2f",
    ".globl archway_catch_landing",
    "archway_catch_landing:",
    "mov eax, 1",
    "2:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbp",
    "pop rbx",
    "ret",
    ".size archway_catch_call, . - archway_catch_call",
);

/// The PC the signal interrupted.
///
/// # Safety
/// `uc` must be a signal handler's `ucontext_t`.
pub unsafe fn interrupted_pc(uc: *const libc::ucontext_t) -> u64 {
    // SAFETY: the caller passes the handler's context.
    unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as u64 }
}

/// Resume the interrupted thread at `pc`.
///
/// # Safety
/// `uc` must be a signal handler's `ucontext_t`, and `pc` code that can run in the
/// interrupted frame.
pub unsafe fn set_interrupted_pc(uc: *mut libc::ucontext_t, pc: u64) {
    // SAFETY: the caller passes the handler's context.
    unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] = pc as i64 };
}

/// Whether the fault that interrupted `uc` was a write (the page-fault error code).
///
/// # Safety
/// `uc` must be the `ucontext_t` of a SIGSEGV or SIGBUS handler.
pub unsafe fn fault_was_write(uc: *const libc::ucontext_t) -> bool {
    // SAFETY: the caller passes the handler's context.
    unsafe { (*uc).uc_mcontext.gregs[libc::REG_ERR as usize] & PF_WRITE != 0 }
}

/// Resume at `archway_catch_landing` on the stack `catching` saved.
///
/// # Safety
/// `uc` must be a signal handler's `ucontext_t`, interrupted inside the `catching`
/// call that owns `buf`.
pub(crate) unsafe fn resume_at_catch_landing(uc: *mut libc::ucontext_t, buf: *const CatchBuf) {
    // SAFETY: the caller guarantees both pointers.
    unsafe {
        let gregs = &mut (*uc).uc_mcontext.gregs;
        gregs[libc::REG_RSP as usize] = (*buf).sp as i64;
        gregs[libc::REG_RIP as usize] = super::archway_catch_landing as *const () as usize as i64;
    }
}

/// A fault in translated code (or in a helper it called): resume at the region's trap
/// exit with `rax` = guest PC and `rcx` = signal, as a `Trap` terminal would; false if
/// the PC belongs to no block (the fault is not the guest's).
///
/// A helper's return address is just below the frame `rsp` the entry trampoline
/// recorded; then `rsp` and `r15` (the state) are put back too.
///
/// # Safety
/// `uc` must be a signal handler's `ucontext_t`, interrupted while `t` was the thread's
/// context.
pub(crate) unsafe fn redirect_translated(uc: *mut libc::ucontext_t, t: Translated, fault: GuestFault) -> bool {
    // SAFETY: the caller guarantees `uc`; `t`'s pointers are live while its code runs.
    unsafe {
        let gregs = &mut (*uc).uc_mcontext.gregs;
        let rip = gregs[libc::REG_RIP as usize] as usize;
        let (guest_pc, helper) = match (t.lookup)(t.engine, rip) {
            Some(pc) => (pc, false),
            None => {
                let frame_sp = *t.frame_sp;
                let ret = *((frame_sp - 8) as *const usize);
                match (t.lookup)(t.engine, ret.wrapping_sub(1)) {
                    Some(pc) => (pc, true),
                    None => return false,
                }
            }
        };
        if helper {
            gregs[libc::REG_RSP as usize] = *t.frame_sp as i64;
            gregs[libc::REG_R15 as usize] = t.state as i64;
        }
        gregs[libc::REG_RAX as usize] = guest_pc as i64;
        gregs[libc::REG_RCX as usize] = i64::from(fault.signal);
        gregs[libc::REG_RIP as usize] = t.exit_trap as i64;
    }
    true
}
