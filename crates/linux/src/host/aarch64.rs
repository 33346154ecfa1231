//! The aarch64 host: the safe-syscall routine and the restorer in assembly, and the
//! kernel ABI facts that differ from x86_64's.
//!
//! Limits: the guest address space is the x86_64 host's (`GUEST_ADDRESS_LIMIT`), which
//! arm64 kernels with 48-bit virtual addresses (the usual 4 KiB-page configuration, and
//! qemu-user) have too; 39-bit kernels and 16/64 KiB-page kernels are not supported.

/// The arm64 kernel's `O_LARGEFILE`.
pub const O_LARGEFILE: u64 = 0o400000;

/// Size of the per-thread alternate signal stack: the kernel's minimum for this CPU
/// (`AT_MINSIGSTKSZ`, which grows with SVE and SME state) plus 64 KiB for the handler.
pub fn alt_stack_bytes() -> usize {
    // SAFETY: getauxval only reads the auxiliary vector.
    let kernel_minimum = unsafe { libc::getauxval(libc::AT_MINSIGSTKSZ) } as usize;
    (kernel_minimum + (64 << 10)).next_multiple_of(4096)
}

/// The raw `clone` arguments in arm64's order: flags, stack, parent TID, TLS, child TID.
pub fn raw_clone_args(flags: u64, stack: u64, parent_tid: u64, child_tid: u64, tls: u64) -> [u64; 6] {
    [flags, stack, parent_tid, tls, child_tid, 0]
}

/// The first engine of a guest process: the interpreter (no JIT back end for arm64
/// hosts yet; `EngineKind::Jit` gets the interpreter with a warning).
pub fn new_engine(
    kind: archway_engine::EngineKind,
    frontend: std::sync::Arc<dyn archway_ir::Frontend>,
) -> Box<dyn archway_engine::Engine> {
    archway_engine::new_engine_without_jit(kind, frontend)
}

core::arch::global_asm!(
    ".text",
    ".globl archway_safe_syscall",
    // x0 = flag, x1 = nr, x2..x7 = arguments 0..5.
    "archway_safe_syscall:",
    "mov x9, x0",
    "mov x8, x1",
    "mov x0, x2",
    "mov x1, x3",
    "mov x2, x4",
    "mov x3, x5",
    "mov x4, x6",
    "mov x5, x7",
    ".globl archway_safe_syscall_check",
    "archway_safe_syscall_check:",
    "ldr w10, [x9]",
    "cbnz w10, archway_safe_syscall_not_started",
    ".globl archway_safe_syscall_insn",
    "archway_safe_syscall_insn:",
    "svc #0",
    "ret",
    ".globl archway_safe_syscall_not_started",
    "archway_safe_syscall_not_started:",
    "mov x0, #-513",
    "ret",
    ".globl archway_signal_restorer",
    "archway_signal_restorer:",
    "mov x8, #139", // rt_sigreturn
    "svc #0",
    "brk #0",
);
