//! Single-register loads and stores of general and SIMD&FP registers: `LDR`/`STR`,
//! `LDRB`/`LDRH`/`LDRSB`/`LDRSH`/`LDRSW`, `STRB`/`STRH`, `PRFM`, with unsigned scaled
//! offset, pre-index, post-index, unscaled (`LDUR`/`STUR`/`PRFUM`), unprivileged
//! (`LDTR`/`STTR`: at EL0 an ordinary access), register offset and PC-relative literal;
//! and the RCpc unscaled forms `LDAPUR*`/`STLUR*`.

use super::access::{transfer, Access, Extend, VecWidth};
use super::address::{base_plus_imm, base_plus_register, literal, Address, Index};
use crate::decode::{inst, Entry, Fields};
use crate::translate::{Ctx, Flow};
use archway_ir::{MemOrder, Type};

pub(super) const TABLE: &[Entry] = &[
    inst("LDST_uimm", "zz111v01ooiiiiiiiiiiiinnnnnttttt", unsigned_offset),
    inst("LDST_pre", "zz111v00oo0iiiiiiiii11nnnnnttttt", pre_index),
    inst("LDST_post", "zz111v00oo0iiiiiiiii01nnnnnttttt", post_index),
    inst("LDUR_STUR", "zz111v00oo0iiiiiiiii00nnnnnttttt", unscaled),
    inst("LDTR_STTR", "zz111v00oo0iiiiiiiii10nnnnnttttt", unprivileged),
    inst("LDST_regoff", "zz111v00oo1mmmmmxxxS10nnnnnttttt", register_offset),
    inst("LDR_literal", "oo011v00iiiiiiiiiiiiiiiiiiittttt", load_literal),
    inst("LDAPUR_STLUR", "zz011001oo0iiiiiiiii00nnnnnttttt", rcpc_unscaled),
];

/// The access selected by `size`, `V` and `opc` of a single-register form.
fn decode_access(f: Fields, prefetch: bool) -> Option<Access> {
    Access::single(f.get('z'), f.bit('v'), f.get('o'), prefetch)
}

/// Do `access` for Rt at `address`, then the writeback and the register write.
fn perform(ctx: &mut Ctx, rt: u32, access: Access, address: Address, order: MemOrder) -> Flow {
    let loaded = transfer(ctx, access, rt, address.addr, order);
    address.finish(ctx, [loaded]);
    Flow::Continue
}

/// `[Xn|SP, #imm9]`, pre- or post-indexed or unscaled, of a plain access.
fn imm9_form(ctx: &mut Ctx, f: Fields, index: Index, prefetch: bool) -> Flow {
    let Some(access) = decode_access(f, prefetch) else { return Flow::Undefined };
    let address = base_plus_imm(ctx, f.reg('n'), f.signed('i'), index);
    perform(ctx, f.reg('t'), access, address, MemOrder::Plain)
}

/// `[Xn|SP{, #imm12 * size}]`
fn unsigned_offset(ctx: &mut Ctx, f: Fields) -> Flow {
    let Some(access) = decode_access(f, true) else { return Flow::Undefined };
    let offset = i64::from(f.get('i')) << access.scale();
    let address = base_plus_imm(ctx, f.reg('n'), offset, Index::Offset);
    perform(ctx, f.reg('t'), access, address, MemOrder::Plain)
}

/// `[Xn|SP, #simm9]!`
fn pre_index(ctx: &mut Ctx, f: Fields) -> Flow {
    imm9_form(ctx, f, Index::Pre, false)
}

/// `[Xn|SP], #simm9`
fn post_index(ctx: &mut Ctx, f: Fields) -> Flow {
    imm9_form(ctx, f, Index::Post, false)
}

/// `LDUR`/`STUR`/`PRFUM` `[Xn|SP{, #simm9}]`
fn unscaled(ctx: &mut Ctx, f: Fields) -> Flow {
    imm9_form(ctx, f, Index::Offset, true)
}

/// `LDTR`/`STTR` and friends: general registers only; at EL0 an ordinary access.
fn unprivileged(ctx: &mut Ctx, f: Fields) -> Flow {
    if f.bit('v') {
        return Flow::Undefined;
    }
    imm9_form(ctx, f, Index::Offset, false)
}

/// `[Xn|SP, (Wm|Xm){, extend {#amount}}]`: the shift is log2(size) when S is set.
fn register_offset(ctx: &mut Ctx, f: Fields) -> Flow {
    let Some(access) = decode_access(f, true) else { return Flow::Undefined };
    let shift = if f.bit('S') { access.scale() } else { 0 };
    let Some(address) = base_plus_register(ctx, f.reg('n'), f.reg('m'), f.get('x'), shift) else {
        return Flow::Undefined;
    };
    perform(ctx, f.reg('t'), access, address, MemOrder::Plain)
}

/// `LDR (literal)` of W, X, S, D, Q; `LDRSW (literal)`; `PRFM (literal)`.
fn load_literal(ctx: &mut Ctx, f: Fields) -> Flow {
    let access = match (f.bit('v'), f.get('o')) {
        (false, 0b00) => Access::LoadGpr { mem: Type::I32, extend: Extend::Zero },
        (false, 0b01) => Access::LoadGpr { mem: Type::I64, extend: Extend::Zero },
        (false, 0b10) => Access::LoadGpr { mem: Type::I32, extend: Extend::SignTo(Type::I64) },
        (false, _) => Access::Prefetch,
        (true, 0b00) => Access::LoadVec(VecWidth::Scalar(Type::I32)),
        (true, 0b01) => Access::LoadVec(VecWidth::Scalar(Type::I64)),
        (true, 0b10) => Access::LoadVec(VecWidth::Quad),
        (true, _) => return Flow::Undefined,
    };
    let address = literal(ctx, f.signed('i'));
    perform(ctx, f.reg('t'), access, address, MemOrder::Plain)
}

/// `LDAPUR*` (load-acquire, RCpc) and `STLUR*` (store-release) `[Xn|SP{, #simm9}]`.
fn rcpc_unscaled(ctx: &mut Ctx, f: Fields) -> Flow {
    // General registers only: the row fixes V at 0.
    let Some(access) = Access::single(f.get('z'), false, f.get('o'), false) else { return Flow::Undefined };
    let order = if matches!(access, Access::StoreGpr { .. }) { MemOrder::Release } else { MemOrder::Acquire };
    let address = base_plus_imm(ctx, f.reg('n'), f.signed('i'), Index::Offset);
    perform(ctx, f.reg('t'), access, address, order)
}
