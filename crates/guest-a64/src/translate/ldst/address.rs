//! Address computation of the load/store addressing modes: base plus immediate
//! (offset, pre-index, post-index), base plus extended register, and PC-relative
//! literal. Address arithmetic is 64-bit and wraps; the base register 31 is SP.

use super::access::{offset_by, Loaded};
use crate::translate::Ctx;
use archway_ir::{BinOp, Type, Value};

/// How an immediate-offset access uses its offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Index {
    /// Access `base + offset`; the base is unchanged.
    Offset,
    /// Access `base + offset` and write it back to the base register.
    Pre,
    /// Access `base`, then write `base + offset` back to the base register.
    Post,
}

/// The address of an access and, for pre/post-index, the base register's new value.
pub(super) struct Address {
    pub addr: Value,
    /// `(Rn, new value)` to write back after the access.
    pub writeback: Option<(u32, Value)>,
}

impl Address {
    /// Finish an access at this address: write the base back, then the loaded
    /// registers in order (so a loaded value wins over the writeback of the same
    /// register, and a later load over an earlier one).
    pub(super) fn finish(self, ctx: &mut Ctx, loaded: impl IntoIterator<Item = Loaded>) {
        if let Some((rn, value)) = self.writeback {
            ctx.set_x_or_sp(rn, value);
        }
        for l in loaded {
            l.commit(ctx);
        }
    }
}

/// `X[rn]|SP + offset` with the indexing `index`.
pub(super) fn base_plus_imm(ctx: &mut Ctx, rn: u32, offset: i64, index: Index) -> Address {
    let base = ctx.x_or_sp(rn);
    let moved = offset_by(ctx, base, offset);
    match index {
        Index::Offset => Address { addr: moved, writeback: None },
        Index::Pre => Address { addr: moved, writeback: Some((rn, moved)) },
        Index::Post => Address { addr: base, writeback: Some((rn, moved)) },
    }
}

/// `X[rn]|SP + (extend(R[rm], option) << shift)` of the register-offset forms;
/// `None` for the unallocated `option` values (bit 1 clear).
pub(super) fn base_plus_register(ctx: &mut Ctx, rn: u32, rm: u32, option: u32, shift: u32) -> Option<Address> {
    let base = ctx.x_or_sp(rn);
    let index = match option {
        // UXTW
        0b010 => {
            let w = ctx.w(rm);
            ctx.b.zext_or_trunc(Type::I64, w)
        }
        // SXTW
        0b110 => {
            let w = ctx.w(rm);
            ctx.b.sext_or_trunc(Type::I64, w)
        }
        // LSL (UXTX) and SXTX: the whole register
        0b011 | 0b111 => ctx.x(rm),
        _ => return None,
    };
    let scaled = if shift == 0 {
        index
    } else {
        let amount = ctx.k64(shift.into());
        ctx.b.bin(BinOp::Shl, index, amount)
    };
    let addr = ctx.b.bin(BinOp::Add, base, scaled);
    Some(Address { addr, writeback: None })
}

/// The address of a PC-relative literal: `pc + imm19 * 4`.
pub(super) fn literal(ctx: &mut Ctx, imm19: i64) -> Address {
    let offset = imm19 * 4;
    let addr = ctx.k64(ctx.pc.wrapping_add(offset as u64));
    Address { addr, writeback: None }
}
