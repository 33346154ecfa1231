//! The x86_64 host: the safe-syscall routine and the restorer in assembly, and the
//! kernel ABI facts that differ from arm64's.

/// The x86_64 kernel's `O_LARGEFILE` (glibc's and the `libc` crate's is 0: it is
/// implied on 64-bit hosts, but the kernel reports it in `F_GETFL`).
pub const O_LARGEFILE: u64 = 0o100000;

/// Size of the per-thread alternate signal stack: the x86_64 signal frame with the
/// largest XSAVE area (AVX-512) is under 4 KiB.
pub fn alt_stack_bytes() -> usize {
    64 << 10
}

/// The raw `clone` arguments in x86_64's order: flags, stack, parent TID, child TID, TLS.
pub fn raw_clone_args(flags: u64, stack: u64, parent_tid: u64, child_tid: u64, tls: u64) -> [u64; 6] {
    [flags, stack, parent_tid, child_tid, tls, 0]
}

/// The first engine of a guest process: `kind`'s, the JIT with the x86_64 back end.
pub fn new_engine(
    kind: archway_engine::EngineKind,
    frontend: std::sync::Arc<dyn archway_ir::Frontend>,
) -> Box<dyn archway_engine::Engine> {
    archway_engine::new_engine::<archway_host_x64::X64Backend>(kind, frontend)
}

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
    ".globl archway_signal_restorer",
    "archway_signal_restorer:",
    "mov eax, 15", // rt_sigreturn
    "syscall",
    "ud2",
);
