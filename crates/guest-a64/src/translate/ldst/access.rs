//! One register transfer of a load or store: which register file, how many bytes,
//! how a loaded value is extended, and the IR that moves it.
//!
//! Loads do not write their register at once: [`transfer`] returns a [`Loaded`] that
//! the caller commits after the base register's writeback, so that when a load's
//! destination is also its written-back base (CONSTRAINED UNPREDICTABLE) the loaded
//! value wins.

use crate::state::off;
use crate::translate::Ctx;
use archway_ir::{BinOp, MemOrder, Type, Value};

/// How a general-register load widens the value read from memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Extend {
    /// Zero-extend to 64 bits.
    Zero,
    /// Sign-extend to this type (I32 for a W destination, I64 for X), then
    /// zero-extend to 64 bits as every W write does.
    SignTo(Type),
}

/// How much of a SIMD&FP register an access moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VecWidth {
    /// B, H, S or D: the low bits of the register.
    Scalar(Type),
    /// Q: all 128 bits, as two 64-bit halves.
    Quad,
}

/// What one register of a load or store instruction transfers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Access {
    /// Load `mem` into X`t`/W`t`.
    LoadGpr { mem: Type, extend: Extend },
    /// Store the low bits of X`t` as `mem`.
    StoreGpr { mem: Type },
    /// Load into the low bits of V`t` and zero the rest.
    LoadVec(VecWidth),
    /// Store the low bits of V`t`.
    StoreVec(VecWidth),
    /// `PRFM`/`PRFUM`: a hint, no memory access and no fault.
    Prefetch,
}

impl Access {
    /// The access of the single-register forms from `size`, `V` and `opc`; `None`
    /// when unallocated. `prefetch` says whether `size`=11, `opc`=10 is `PRFM` in this
    /// form (it is unallocated in the others).
    pub(super) fn single(size: u32, vector: bool, opc: u32, prefetch: bool) -> Option<Access> {
        let mem = Type::from_bytes(1 << size)?;
        if vector {
            return match (size, opc) {
                (_, 0b00) => Some(Access::StoreVec(VecWidth::Scalar(mem))),
                (_, 0b01) => Some(Access::LoadVec(VecWidth::Scalar(mem))),
                (0b00, 0b10) => Some(Access::StoreVec(VecWidth::Quad)),
                (0b00, 0b11) => Some(Access::LoadVec(VecWidth::Quad)),
                _ => None,
            };
        }
        match (size, opc) {
            (_, 0b00) => Some(Access::StoreGpr { mem }),
            (_, 0b01) => Some(Access::LoadGpr { mem, extend: Extend::Zero }),
            (0b00..=0b10, 0b10) => Some(Access::LoadGpr { mem, extend: Extend::SignTo(Type::I64) }),
            (0b00 | 0b01, 0b11) => Some(Access::LoadGpr { mem, extend: Extend::SignTo(Type::I32) }),
            (0b11, 0b10) if prefetch => Some(Access::Prefetch),
            _ => None,
        }
    }

    /// Bytes of memory the access covers (a prefetch counts as 8: its offsets scale so).
    pub(super) fn bytes(self) -> u32 {
        match self {
            Access::LoadGpr { mem, .. } | Access::StoreGpr { mem } => mem.bytes(),
            Access::LoadVec(VecWidth::Scalar(ty)) | Access::StoreVec(VecWidth::Scalar(ty)) => ty.bytes(),
            Access::LoadVec(VecWidth::Quad) | Access::StoreVec(VecWidth::Quad) => 16,
            Access::Prefetch => 8,
        }
    }

    /// log2 of [`Access::bytes`], the shift that scales immediate and register offsets.
    pub(super) fn scale(self) -> u32 {
        self.bytes().trailing_zeros()
    }
}

/// A register write a load leaves pending until [`Loaded::commit`].
#[must_use]
pub(super) enum Loaded {
    /// A store or prefetch: nothing to write.
    Nothing,
    /// X`rt` (or W`rt`: narrower values are zero-extended) gets `value`.
    Gpr { rt: u32, value: Value },
    /// V`rt` gets the two 64-bit halves.
    Vec { rt: u32, lo: Value, hi: Value },
}

impl Loaded {
    /// Write the loaded value to its register.
    pub(super) fn commit(self, ctx: &mut Ctx) {
        match self {
            Loaded::Nothing => {}
            Loaded::Gpr { rt, value } => ctx.set_x(rt, value),
            Loaded::Vec { rt, lo, hi } => {
                ctx.b.set_state(off::v_lo(rt), lo);
                ctx.b.set_state(off::v_hi(rt), hi);
            }
        }
    }
}

/// Emit the memory access `access` makes for register `rt` at `addr`.
pub(super) fn transfer(ctx: &mut Ctx, access: Access, rt: u32, addr: Value, order: MemOrder) -> Loaded {
    match access {
        Access::LoadGpr { mem, extend } => {
            let raw = ctx.b.load(mem, addr, order);
            let value = match extend {
                Extend::Zero => raw,
                Extend::SignTo(ty) => ctx.b.sext_or_trunc(ty, raw),
            };
            Loaded::Gpr { rt, value }
        }
        Access::StoreGpr { mem } => {
            let x = ctx.x(rt);
            let value = ctx.b.zext_or_trunc(mem, x);
            ctx.b.store(addr, value, order);
            Loaded::Nothing
        }
        Access::LoadVec(VecWidth::Quad) => {
            let lo = ctx.b.load(Type::I64, addr, order);
            let hi_addr = offset_by(ctx, addr, 8);
            let hi = ctx.b.load(Type::I64, hi_addr, order);
            Loaded::Vec { rt, lo, hi }
        }
        Access::LoadVec(VecWidth::Scalar(ty)) => {
            let raw = ctx.b.load(ty, addr, order);
            let lo = ctx.b.zext_or_trunc(Type::I64, raw);
            let hi = ctx.k64(0);
            Loaded::Vec { rt, lo, hi }
        }
        Access::StoreVec(VecWidth::Quad) => {
            let lo = ctx.b.get_state(Type::I64, off::v_lo(rt));
            let hi = ctx.b.get_state(Type::I64, off::v_hi(rt));
            ctx.b.store(addr, lo, order);
            let hi_addr = offset_by(ctx, addr, 8);
            ctx.b.store(hi_addr, hi, order);
            Loaded::Nothing
        }
        Access::StoreVec(VecWidth::Scalar(ty)) => {
            let lo = ctx.b.get_state(Type::I64, off::v_lo(rt));
            let value = ctx.b.zext_or_trunc(ty, lo);
            ctx.b.store(addr, value, order);
            Loaded::Nothing
        }
        Access::Prefetch => Loaded::Nothing,
    }
}

/// `addr + offset` (I64, wrapping); `addr` itself when `offset` is 0.
pub(super) fn offset_by(ctx: &mut Ctx, addr: Value, offset: i64) -> Value {
    if offset == 0 {
        return addr;
    }
    let k = ctx.k64(offset as u64);
    ctx.b.bin(BinOp::Add, addr, k)
}
