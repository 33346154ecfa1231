//! The aarch64 host: the catch routine in AAPCS64, and `ucontext_t` through the
//! kernel's `sigcontext` (`arch/arm64/include/uapi/asm/sigcontext.h`).

use super::CatchBuf;

/// This host's architecture name, as Rust spells it.
pub const NAME: &str = "aarch64";

/// Offset of `__reserved` (the records: fpsimd, esr, sve...) in the kernel's
/// `struct sigcontext`: 8 + 31 * 8 + 3 * 8 = 280, aligned to 16.
const RESERVED_OFFSET: usize = 288;
/// Size of `__reserved`.
const RESERVED_SIZE: usize = 4096;
/// `ESR_MAGIC`: the record holding the fault's syndrome register.
const ESR_MAGIC: u32 = 0x4553_5201;
/// ESR exception classes of a data abort (from a lower / the same exception level).
const EC_DATA_ABORT: [u64; 2] = [0x24, 0x25];
/// ISS bit 6 of a data abort: WnR, the access was a write.
const ESR_WNR: u64 = 1 << 6;

// AAPCS64: x19-x28, x29 (frame), x30 (link) and d8-d15 are callee-saved, so all are
// restored when a fault abandons the frames in between.
core::arch::global_asm!(
    ".text",
    ".globl archway_catch_call",
    ".type archway_catch_call, %function",
    // x0 = &mut CatchBuf, x1 = fn(*mut u8), x2 = its argument; w0 = 0, or 1 after a fault.
    "archway_catch_call:",
    "stp x29, x30, [sp, #-160]!",
    "mov x29, sp",
    "stp x19, x20, [sp, #16]",
    "stp x21, x22, [sp, #32]",
    "stp x23, x24, [sp, #48]",
    "stp x25, x26, [sp, #64]",
    "stp x27, x28, [sp, #80]",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    "mov x9, sp",
    "str x9, [x0]",
    "mov x0, x2",
    "blr x1",
    "mov w0, #0",
    "b 2f",
    ".globl archway_catch_landing",
    "archway_catch_landing:",
    "mov w0, #1",
    "2:",
    "ldp x19, x20, [sp, #16]",
    "ldp x21, x22, [sp, #32]",
    "ldp x23, x24, [sp, #48]",
    "ldp x25, x26, [sp, #64]",
    "ldp x27, x28, [sp, #80]",
    "ldp d8, d9, [sp, #96]",
    "ldp d10, d11, [sp, #112]",
    "ldp d12, d13, [sp, #128]",
    "ldp d14, d15, [sp, #144]",
    "ldp x29, x30, [sp], #160",
    "ret",
    ".size archway_catch_call, . - archway_catch_call",
);

/// The PC the signal interrupted.
///
/// # Safety
/// `uc` must be a signal handler's `ucontext_t`.
pub unsafe fn interrupted_pc(uc: *const libc::ucontext_t) -> u64 {
    // SAFETY: the caller passes the handler's context.
    unsafe { (*uc).uc_mcontext.pc }
}

/// Resume the interrupted thread at `pc`.
///
/// # Safety
/// `uc` must be a signal handler's `ucontext_t`, and `pc` code that can run in the
/// interrupted frame.
pub unsafe fn set_interrupted_pc(uc: *mut libc::ucontext_t, pc: u64) {
    // SAFETY: the caller passes the handler's context.
    unsafe { (*uc).uc_mcontext.pc = pc };
}

/// Whether the fault that interrupted `uc` was a write: ISS.WnR of the data abort in
/// the frame's `esr_context` record. False when there is no such record (qemu-user
/// writes none) or the fault was not a data abort.
///
/// # Safety
/// `uc` must be the `ucontext_t` of a SIGSEGV or SIGBUS handler.
pub unsafe fn fault_was_write(uc: *const libc::ucontext_t) -> bool {
    // SAFETY: the kernel's sigcontext has RESERVED_SIZE bytes of records at
    // RESERVED_OFFSET; each record starts with (magic u32, size u32), and the walk stays
    // inside that area.
    unsafe {
        let records = (&raw const (*uc).uc_mcontext as *const u8).add(RESERVED_OFFSET);
        let mut offset = 0;
        while offset + 16 <= RESERVED_SIZE {
            let magic = (records.add(offset) as *const u32).read_unaligned();
            let size = (records.add(offset + 4) as *const u32).read_unaligned() as usize;
            if magic == 0 || size < 8 {
                return false;
            }
            if magic == ESR_MAGIC {
                let esr = (records.add(offset + 8) as *const u64).read_unaligned();
                return EC_DATA_ABORT.contains(&(esr >> 26)) && esr & ESR_WNR != 0;
            }
            offset += size;
        }
    }
    false
}

/// Resume at `archway_catch_landing` on the stack `catching` saved.
///
/// # Safety
/// `uc` must be a signal handler's `ucontext_t`, interrupted inside the `catching`
/// call that owns `buf`.
pub(crate) unsafe fn resume_at_catch_landing(uc: *mut libc::ucontext_t, buf: *const CatchBuf) {
    // SAFETY: the caller guarantees both pointers.
    unsafe {
        (*uc).uc_mcontext.sp = (*buf).sp as u64;
        (*uc).uc_mcontext.pc = super::archway_catch_landing as *const () as usize as u64;
    }
}
