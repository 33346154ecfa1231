//! The x86_64 host: the catch routine in the SysV ABI, and `ucontext_t` through
//! glibc's `gregs`.

use super::CatchBuf;

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
