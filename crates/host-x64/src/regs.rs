//! Host registers and the stack frame translated code runs in.
//!
//! - `r15` always holds the guest state pointer ([`STATE`]).
//! - `rax`, `rcx`, `rdx` are scratch registers of the emitter: never allocated to IR
//!   values, so ops that need fixed registers (`div`, `cl` shift counts, `cmpxchg`,
//!   `lahf`) and operand fix-ups always have them free.
//! - The other eleven general registers hold IR values ([`ALLOCATABLE`]).
//! - `rsp` points at the spill frame the entry trampoline reserved: slot `i` is
//!   `[rsp + 8*i]`. Blocks never move `rsp`, so chained blocks share the frame and
//!   `rsp` is 16-byte aligned at every helper call.

/// A host general-purpose register (dynasm's register numbering; `Rq(r)`, `Rd(r)`,
/// `Rw(r)`, `Rb(r)` name its 64/32/16/8-bit parts in `dynasm!`).
pub type Reg = dynasmrt::x64::Rq;

pub const RAX: Reg = Reg::RAX;
pub const RCX: Reg = Reg::RCX;
pub const RDX: Reg = Reg::RDX;
pub const RBX: Reg = Reg::RBX;
pub const RSP: Reg = Reg::RSP;
pub const RBP: Reg = Reg::RBP;
pub const RSI: Reg = Reg::RSI;
pub const RDI: Reg = Reg::RDI;
pub const R8: Reg = Reg::R8;
pub const R9: Reg = Reg::R9;
pub const R10: Reg = Reg::R10;
pub const R11: Reg = Reg::R11;
pub const R12: Reg = Reg::R12;
pub const R13: Reg = Reg::R13;
pub const R14: Reg = Reg::R14;
/// The pinned guest state pointer.
pub const STATE: Reg = Reg::R15;

/// Registers the allocator hands out, in order of preference: caller-saved first,
/// so the callee-saved ones stay free for values that live across helper calls.
pub const ALLOCATABLE: [Reg; 11] = [RSI, RDI, R8, R9, R10, R11, RBX, RBP, R12, R13, R14];

/// Whether a helper call (SysV ABI) preserves `r`.
pub fn is_callee_saved(r: Reg) -> bool {
    matches!(r, RBX | RBP | R12 | R13 | R14 | STATE)
}

/// Registers carrying helper arguments after the state pointer in `rdi` (SysV ABI).
pub const ARG_REGS: [Reg; 4] = [RSI, RDX, RCX, R8];

/// Number of 8-byte spill slots in the frame the trampoline reserves. A block that
/// needs more simultaneous spills than this is not compiled (it runs in the
/// interpreter instead).
pub const SPILL_SLOTS: u32 = 2048;

/// Bytes `enter` subtracts from `rsp`: the slots plus 8, so that after the return
/// address and six saved registers `rsp` is 16-byte aligned in translated code.
pub const FRAME_BYTES: i32 = SPILL_SLOTS as i32 * 8 + 8;

/// Callee-saved registers `enter` saves (in push order) and `exit` restores.
pub const SAVED_BY_TRAMPOLINE: [Reg; 6] = [RBX, RBP, R12, R13, R14, STATE];

/// Displacement of spill slot `slot` from `rsp`.
pub const fn slot_offset(slot: u32) -> i32 {
    slot as i32 * 8
}
