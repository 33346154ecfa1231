//! A64 -> IR translation.
//!
//! [`translate_block`] decodes instructions from guest memory starting at a PC and
//! hands each to its decoder-table handler with a [`Ctx`], until a handler ends the
//! block (branch, system call, undefined instruction) or the block reaches
//! [`MAX_BLOCK_INSNS`].
//!
//! One module per encoding class, each exporting a `TABLE` of [`crate::decode::Entry`]:
//! - [`dp_imm`]: data processing with immediates (add/sub, logical, move wide, bitfield, extract, PC-relative).
//! - [`dp_reg`]: data processing on registers (shifted/extended add/sub, logical, ADC/SBC,
//!   conditional select/compare, multiply/divide, one- and two-source ops).
//! - [`branch`]: branches, exception generation and system instructions.
//! - [`ldst`]: loads and stores of general and FP/SIMD registers, exclusives, acquire/release, LSE atomics.
//! - [`fp`]: floating point, scalar and vector lanes (via helpers in [`crate::fp`]).
//! - [`simd`]: Advanced SIMD integer, permute and structure load/store instructions (IR
//!   vector ops and state moves for the common ones, helpers in [`crate::simd`] for the rest).

pub mod branch;
pub mod dp_imm;
pub mod dp_reg;
pub mod fp;
pub mod ldst;
pub mod simd;

use crate::decode;
use crate::state::off;
use archway_ir::{Block, BlockBuilder, Terminal, Type, Value};

/// Longest block the translator makes, in guest instructions.
pub const MAX_BLOCK_INSNS: usize = 64;

/// SIGILL, the signal an undefined instruction raises.
pub const SIGILL: i32 = 4;

/// What a handler tells the translator after emitting an instruction's IR.
#[derive(Debug)]
pub enum Flow {
    /// Go on with the next instruction.
    Continue,
    /// The block ends here with this terminal.
    End(Terminal),
    /// The encoding is unallocated or not implemented: the block ends with SIGILL
    /// at this instruction (its partial IR is discarded).
    Undefined,
}

/// Translation context handed to every handler: the block being built, the PC of
/// the instruction being translated, and accessors for guest registers.
pub struct Ctx {
    pub b: BlockBuilder,
    /// PC of the current instruction.
    pub pc: u64,
}

impl Ctx {
    /// X`n` as I64; register 31 reads as zero (XZR).
    pub fn x(&mut self, n: u32) -> Value {
        if n == 31 {
            self.b.konst(Type::I64, 0)
        } else {
            self.b.get_state(Type::I64, off::x(n))
        }
    }

    /// X`n` as I64; register 31 is SP.
    pub fn x_or_sp(&mut self, n: u32) -> Value {
        if n == 31 {
            self.b.get_state(Type::I64, off::SP)
        } else {
            self.b.get_state(Type::I64, off::x(n))
        }
    }

    /// W`n` (low 32 bits of X`n`) as I32; register 31 reads as zero.
    pub fn w(&mut self, n: u32) -> Value {
        let x = self.x(n);
        self.b.zext_or_trunc(Type::I32, x)
    }

    /// W`n` or WSP as I32.
    pub fn w_or_sp(&mut self, n: u32) -> Value {
        let x = self.x_or_sp(n);
        self.b.zext_or_trunc(Type::I32, x)
    }

    /// Register `n` of width 64 (`sf`) or 32 bits, XZR for 31.
    pub fn reg(&mut self, sf: bool, n: u32) -> Value {
        if sf {
            self.x(n)
        } else {
            self.w(n)
        }
    }

    /// Register `n` of width 64 or 32 bits, SP for 31.
    pub fn reg_or_sp(&mut self, sf: bool, n: u32) -> Value {
        if sf {
            self.x_or_sp(n)
        } else {
            self.w_or_sp(n)
        }
    }

    /// Write X`n` (I64, or narrower: zero-extended, as a W write does); 31 discards.
    pub fn set_x(&mut self, n: u32, v: Value) {
        if n != 31 {
            let v = self.b.zext_or_trunc(Type::I64, v);
            self.b.set_state(off::x(n), v);
        }
    }

    /// Write X`n` or SP for 31 (narrower values are zero-extended).
    pub fn set_x_or_sp(&mut self, n: u32, v: Value) {
        let v = self.b.zext_or_trunc(Type::I64, v);
        let offset = if n == 31 { off::SP } else { off::x(n) };
        self.b.set_state(offset, v);
    }

    /// Current NZCV (I32, flags in bits 31..28).
    pub fn nzcv(&mut self) -> Value {
        self.b.get_state(Type::I32, off::NZCV)
    }

    pub fn set_nzcv(&mut self, v: Value) {
        self.b.set_state(off::NZCV, v);
    }

    /// An I64 constant.
    pub fn k64(&mut self, v: u64) -> Value {
        self.b.konst(Type::I64, v)
    }

    /// A constant of the operation width (`sf`: 64 bits, else 32).
    pub fn k(&mut self, sf: bool, v: u64) -> Value {
        self.b.konst(if sf { Type::I64 } else { Type::I32 }, v)
    }

    /// The carry flag as I1.
    pub fn carry(&mut self) -> Value {
        let nzcv = self.nzcv();
        self.b.cond_holds(0b0010, nzcv) // HS/CS: C set
    }
}

/// Reads the instruction word at `pc` (guest memory is host memory).
///
/// # Safety
/// `pc` must be readable.
pub unsafe fn read_insn(pc: u64) -> u32 {
    // SAFETY: the caller guarantees pc is readable.
    unsafe { core::ptr::read_unaligned(pc as *const u32) }
}

/// Translate the block at `pc`, reading instructions through `fetch`
/// (which returns `None` for an unreadable address: the block then ends with a
/// jump there, and running that jump raises the fault).
pub fn translate_block(pc: u64, fetch: &dyn Fn(u64) -> Option<u32>) -> Block {
    let mut ctx = Ctx { b: BlockBuilder::new(pc), pc };
    loop {
        let Some(word) = fetch(ctx.pc) else {
            return ctx.b.finish(Terminal::Link(ctx.pc));
        };
        if ctx.b.guest_insn_count() >= MAX_BLOCK_INSNS {
            return ctx.b.finish(Terminal::Link(ctx.pc));
        }
        ctx.b.begin_guest_insn(ctx.pc, word);
        let flow = match decode::lookup(word) {
            Some(entry) => entry.translate(&mut ctx, word),
            None => Flow::Undefined,
        };
        match flow {
            Flow::Continue => ctx.pc += 4,
            Flow::End(terminal) => return ctx.b.finish(terminal),
            Flow::Undefined => {
                tracing::warn!(pc = format_args!("{:#x}", ctx.pc), "undefined instruction {word:#010x}");
                ctx.b.discard_last_guest_insn();
                ctx.b.begin_guest_insn(ctx.pc, word);
                return ctx.b.finish(Terminal::Trap { signal: SIGILL, pc: ctx.pc });
            }
        }
    }
}
