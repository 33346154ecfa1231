//! Single-register loads and stores of general and SIMD&FP registers: `LDR`/`STR`,
//! `LDRB`/`LDRH`/`LDRSB`/`LDRSH`/`LDRSW`, `STRB`/`STRH`, `PRFM`, with unsigned scaled
//! offset, pre-index, post-index, unscaled (`LDUR`/`STUR`/`PRFUM`), unprivileged
//! (`LDTR`/`STTR`: at EL0 an ordinary access), register offset and PC-relative literal;
//! and the RCpc unscaled forms `LDAPUR*`/`STLUR*`.

use super::access::{transfer, Access, Extend, VecWidth};
use super::address::{base_plus_imm, base_plus_register, literal, Address, Index};
use crate::decode::{inst, Entry, Fields};
use crate::translate::field::{bit, bits, rn, rt, sext};
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
fn decode_access(insn: u32, prefetch: bool) -> Option<Access> {
    Access::single(bits(insn, 31, 30), bit(insn, 26), bits(insn, 23, 22), prefetch)
}

/// The signed 9-bit immediate (bits 20..12) of the unscaled and indexed forms.
fn imm9(insn: u32) -> i64 {
    sext(bits(insn, 20, 12).into(), 9)
}

/// Do `access` for Rt at `address`, then the writeback and the register write.
fn perform(ctx: &mut Ctx, insn: u32, access: Access, address: Address, order: MemOrder) -> Flow {
    let loaded = transfer(ctx, access, rt(insn), address.addr, order);
    address.finish(ctx, [loaded]);
    Flow::Continue
}

/// `[Xn|SP, #imm9]`, pre- or post-indexed or unscaled, of a plain access.
fn imm9_form(ctx: &mut Ctx, insn: u32, index: Index, prefetch: bool) -> Flow {
    let Some(access) = decode_access(insn, prefetch) else { return Flow::Undefined };
    let address = base_plus_imm(ctx, rn(insn), imm9(insn), index);
    perform(ctx, insn, access, address, MemOrder::Plain)
}

/// `[Xn|SP{, #imm12 * size}]`
fn unsigned_offset(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    let Some(access) = decode_access(insn, true) else { return Flow::Undefined };
    let offset = i64::from(bits(insn, 21, 10)) << access.scale();
    let address = base_plus_imm(ctx, rn(insn), offset, Index::Offset);
    perform(ctx, insn, access, address, MemOrder::Plain)
}

/// `[Xn|SP, #simm9]!`
fn pre_index(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    imm9_form(ctx, insn, Index::Pre, false)
}

/// `[Xn|SP], #simm9`
fn post_index(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    imm9_form(ctx, insn, Index::Post, false)
}

/// `LDUR`/`STUR`/`PRFUM` `[Xn|SP{, #simm9}]`
fn unscaled(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    imm9_form(ctx, insn, Index::Offset, true)
}

/// `LDTR`/`STTR` and friends: general registers only; at EL0 an ordinary access.
fn unprivileged(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    if bit(insn, 26) {
        return Flow::Undefined;
    }
    imm9_form(ctx, insn, Index::Offset, false)
}

/// `[Xn|SP, (Wm|Xm){, extend {#amount}}]`: the shift is log2(size) when S is set.
fn register_offset(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    let Some(access) = decode_access(insn, true) else { return Flow::Undefined };
    let shift = if bit(insn, 12) { access.scale() } else { 0 };
    let option = bits(insn, 15, 13);
    let Some(address) = base_plus_register(ctx, rn(insn), bits(insn, 20, 16), option, shift) else {
        return Flow::Undefined;
    };
    perform(ctx, insn, access, address, MemOrder::Plain)
}

/// `LDR (literal)` of W, X, S, D, Q; `LDRSW (literal)`; `PRFM (literal)`.
fn load_literal(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    let access = match (bit(insn, 26), bits(insn, 31, 30)) {
        (false, 0b00) => Access::LoadGpr { mem: Type::I32, extend: Extend::Zero },
        (false, 0b01) => Access::LoadGpr { mem: Type::I64, extend: Extend::Zero },
        (false, 0b10) => Access::LoadGpr { mem: Type::I32, extend: Extend::SignTo(Type::I64) },
        (false, _) => Access::Prefetch,
        (true, 0b00) => Access::LoadVec(VecWidth::Scalar(Type::I32)),
        (true, 0b01) => Access::LoadVec(VecWidth::Scalar(Type::I64)),
        (true, 0b10) => Access::LoadVec(VecWidth::Quad),
        (true, _) => return Flow::Undefined,
    };
    let address = literal(ctx, insn);
    perform(ctx, insn, access, address, MemOrder::Plain)
}

/// `LDAPUR*` (load-acquire, RCpc) and `STLUR*` (store-release) `[Xn|SP{, #simm9}]`.
fn rcpc_unscaled(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    let Some(access) = decode_access(insn, false) else { return Flow::Undefined };
    let order = if matches!(access, Access::StoreGpr { .. }) { MemOrder::Release } else { MemOrder::Acquire };
    let address = base_plus_imm(ctx, rn(insn), imm9(insn), Index::Offset);
    perform(ctx, insn, access, address, order)
}
