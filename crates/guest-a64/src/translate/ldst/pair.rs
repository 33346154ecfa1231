//! Register-pair loads and stores: `LDP`/`STP` of W, X, S, D and Q registers, `LDPSW`,
//! and the non-temporal `LDNP`/`STNP` (a hint only: an ordinary pair access here),
//! with signed scaled offset, pre-index and post-index.
//!
//! Constrained-unpredictable choices: a load pair with Rt == Rt2 leaves Rt2's value;
//! a load whose Rt or Rt2 is the written-back base leaves the loaded value.

use super::access::{offset_by, transfer, Access, Extend, VecWidth};
use super::address::{base_plus_imm, Index};
use crate::decode::{inst, Entry, Fields};
use crate::translate::{Ctx, Flow};
use archway_ir::{MemOrder, Type};

pub(super) const TABLE: &[Entry] = &[
    inst("LDNP_STNP", "oo101v000Liiiiiiiaaaaannnnnttttt", no_allocate),
    inst("LDP_STP_post", "oo101v001Liiiiiiiaaaaannnnnttttt", post_index),
    inst("LDP_STP_offset", "oo101v010Liiiiiiiaaaaannnnnttttt", signed_offset),
    inst("LDP_STP_pre", "oo101v011Liiiiiiiaaaaannnnnttttt", pre_index),
];

/// What each register of the pair transfers, from `opc`, `V` and `L`;
/// `None` when unallocated (`opc`=11, and `opc`=01 except `LDPSW`, which has no
/// non-temporal form; `STGP` of the memory tagging extension is not implemented).
fn element(opc: u32, vector: bool, load: bool, non_temporal: bool) -> Option<Access> {
    let gpr = |mem: Type| {
        if load {
            Access::LoadGpr { mem, extend: Extend::Zero }
        } else {
            Access::StoreGpr { mem }
        }
    };
    let vec = |width: VecWidth| if load { Access::LoadVec(width) } else { Access::StoreVec(width) };
    match (vector, opc) {
        (false, 0b00) => Some(gpr(Type::I32)),
        (false, 0b01) if load && !non_temporal => {
            Some(Access::LoadGpr { mem: Type::I32, extend: Extend::SignTo(Type::I64) })
        }
        (false, 0b10) => Some(gpr(Type::I64)),
        (true, 0b00) => Some(vec(VecWidth::Scalar(Type::I32))),
        (true, 0b01) => Some(vec(VecWidth::Scalar(Type::I64))),
        (true, 0b10) => Some(vec(VecWidth::Quad)),
        _ => None,
    }
}

/// A pair access with indexing `index`: Rt at the address, Rt2 right after it.
fn pair(ctx: &mut Ctx, f: Fields, index: Index, non_temporal: bool) -> Flow {
    let Some(access) = element(f.get('o'), f.bit('v'), f.bit('L'), non_temporal) else {
        return Flow::Undefined;
    };
    let offset = f.signed('i') << access.scale();
    let address = base_plus_imm(ctx, f.reg('n'), offset, index);
    let first = transfer(ctx, access, f.reg('t'), address.addr, MemOrder::Plain);
    let second_addr = offset_by(ctx, address.addr, access.bytes().into());
    let second = transfer(ctx, access, f.reg('a'), second_addr, MemOrder::Plain);
    address.finish(ctx, [first, second]);
    Flow::Continue
}

/// `LDNP`/`STNP` `[Xn|SP{, #imm}]`
fn no_allocate(ctx: &mut Ctx, f: Fields) -> Flow {
    pair(ctx, f, Index::Offset, true)
}

/// `[Xn|SP], #imm`
fn post_index(ctx: &mut Ctx, f: Fields) -> Flow {
    pair(ctx, f, Index::Post, false)
}

/// `[Xn|SP{, #imm}]`
fn signed_offset(ctx: &mut Ctx, f: Fields) -> Flow {
    pair(ctx, f, Index::Offset, false)
}

/// `[Xn|SP, #imm]!`
fn pre_index(ctx: &mut Ctx, f: Fields) -> Flow {
    pair(ctx, f, Index::Pre, false)
}
