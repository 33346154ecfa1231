//! The fixed routines of a code region in x86_64, and re-aiming a block's links.
//!
//! - `enter(state, code, frame_sp)` (SysV ABI: `rdi`, `rsi`, `rdx`) pushes the
//!   callee-saved registers, reserves the spill frame, stores its `rsp` at `frame_sp`
//!   (so a fault in a helper can find the block that called it, see [`crate::fault`]),
//!   pins `r15 = state` and jumps to `code`.
//! - `exit` undoes that and returns to Rust. Each exit routine first stores
//!   `pc = rax` and its `ExitReason` into the [`archway_ir::StateHeader`] (the trap
//!   routine also `exit_arg = rcx`, the signal), then jumps to `exit`.
//! - A link site is a `jmp`/`jcc rel32` whose 4-byte-aligned field is re-aimed with
//!   one aligned store ([`patch_rel32`]).

use crate::emit::CompileError;
use crate::regs::{FRAME_BYTES, SAVED_BY_TRAMPOLINE};
use archway_engine::backend::{CodeEnv, Routines};
use archway_ir::state::{EXIT_ARG_OFFSET, EXIT_REASON_OFFSET, PC_OFFSET};
use archway_ir::ExitReason;
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};

/// Assemble the routines for a region whose routine area is at `base` and whose
/// indirect-branch table is at `indirect_table`.
pub fn assemble_routines(base: usize, indirect_table: usize) -> Result<Routines, CompileError> {
    let mut ops = VecAssembler::<X64Relocation>::new(base);
    let exit = ops.new_dynamic_label();
    let pc = PC_OFFSET as i32;
    let reason = EXIT_REASON_OFFSET as i32;
    let arg = EXIT_ARG_OFFSET as i32;

    let enter = ops.offset().0;
    for &r in &SAVED_BY_TRAMPOLINE {
        dynasm!(ops; .arch x64; push Rq(r));
    }
    dynasm!(ops
        ; .arch x64
        ; sub rsp, FRAME_BYTES
        ; mov [rdx], rsp
        ; mov r15, rdi
        ; jmp rsi
        ; =>exit
        ; add rsp, FRAME_BYTES
    );
    for &r in SAVED_BY_TRAMPOLINE.iter().rev() {
        dynasm!(ops; .arch x64; pop Rq(r));
    }
    dynasm!(ops; .arch x64; ret);

    let mut exit_with = |why: ExitReason| {
        let at = base + ops.offset().0;
        dynasm!(ops
            ; .arch x64
            ; mov QWORD [r15 + pc], rax
            ; mov DWORD [r15 + reason], why as i32
            ; jmp =>exit
        );
        at
    };
    let exit_lookup = exit_with(ExitReason::Lookup);
    let exit_syscall = exit_with(ExitReason::Syscall);
    let exit_requested = exit_with(ExitReason::Requested);
    let exit_synchronize = exit_with(ExitReason::Synchronize);
    let exit_trap = base + ops.offset().0;
    dynasm!(ops
        ; .arch x64
        ; mov QWORD [r15 + pc], rax
        ; mov DWORD [r15 + reason], ExitReason::Trap as i32
        ; mov QWORD [r15 + arg], rcx
        ; jmp =>exit
    );
    let code = ops.finalize().map_err(CompileError::Assembler)?;
    let env = CodeEnv { exit_lookup, exit_syscall, exit_requested, exit_trap, exit_synchronize, indirect_table };
    Ok(Routines { code, enter, env })
}

/// Aim the `rel32` field at host address `field` at host address `target`.
///
/// # Safety
/// `field` must be the 4-byte-aligned `rel32` field of a placed block's link site,
/// within 2 GiB of `target`.
pub unsafe fn patch_rel32(field: usize, target: usize) {
    assert!(field.is_multiple_of(4), "link fields are 4-byte aligned");
    let rel = (target as i64 - (field as i64 + 4)) as i32;
    // SAFETY: the caller guarantees the field is placed code; the aligned 4-byte store
    // is atomic, so code running concurrently (a later shared cache) sees the old or
    // the new target, never a mix.
    unsafe { (field as *mut i32).write_volatile(rel) };
}
