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

/// What [`call`] returns when it did not enter the kernel because a signal is waiting
/// (the kernel's internal ERESTARTNOINTR, never seen by user space).
pub const NOT_STARTED: i64 = -513;

core::arch::global_asm!(
    ".text",
    ".globl archway_safe_syscall",
    // rdi = flag, rsi = nr, rdx, rcx, r8, r9, [rsp+8], [rsp+16] = arguments 0..5.
    "archway_safe_syscall:",
    "mov r11, rdi",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "mov rdx, r8",
    "mov r10, r9",
    "mov r8, [rsp + 8]",
    "mov r9, [rsp + 16]",
    ".globl archway_safe_syscall_check",
    "archway_safe_syscall_check:",
    "cmp dword ptr [r11], 0",
    "jne archway_safe_syscall_not_started",
    ".globl archway_safe_syscall_insn",
    "archway_safe_syscall_insn:",
    "syscall",
    "ret",
    ".globl archway_safe_syscall_not_started",
    "archway_safe_syscall_not_started:",
    "mov rax, -513",
    "ret",
);

extern "C" {
    fn archway_safe_syscall(flag: *const u32, nr: i64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> i64;
    fn archway_safe_syscall_check();
    fn archway_safe_syscall_insn();
    fn archway_safe_syscall_not_started();
}

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
    let rip = &mut (*uc).uc_mcontext.gregs[libc::REG_RIP as usize];
    let start = archway_safe_syscall_check as *const () as i64;
    let insn = archway_safe_syscall_insn as *const () as i64;
    if (start..=insn).contains(rip) {
        *rip = archway_safe_syscall_not_started as *const () as i64;
    }
}
