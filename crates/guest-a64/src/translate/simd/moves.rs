//! Advanced SIMD element copies and immediates as plain state reads and writes:
//! DUP (general, and the scalar `MOV Bd, Vn.B[i]`), INS (general, element), UMOV,
//! SMOV and MOVI/MVNI/ORR/BIC (immediate). A lane is a state field of its own width,
//! so the IR passes forward and drop lane writes as they do general registers.
//! Each function emits the instruction of its row's fields (already checked as
//! allocated) and returns true.

use crate::decode::Fields;
use crate::simd::copy::{element_of, expand_immediate};
use crate::simd::lanes::bits;
use crate::state::off;
use crate::translate::Ctx;
use archway_ir::{BinOp, Type, Value};

/// The lane type of element size `size` (log2 bytes).
const LANE: [Type; 4] = [Type::I8, Type::I16, Type::I32, Type::I64];

/// A lane of `size` copied to every lane of 64 bits: the multiplier of its zero extension.
const REPLICATE: [u64; 4] = [0x0101_0101_0101_0101, 0x0001_0001_0001_0001, 0x0000_0001_0000_0001, 1];

/// Offset of element `index` (of size `size`) of V`n`.
fn element(n: u32, size: u32, index: usize) -> u32 {
    off::v_lo(n) + ((index as u32 % (16 >> size)) << size)
}

/// Write V`d`: `lo`, and `hi` or zero.
fn set_vector(ctx: &mut Ctx, d: u32, lo: Value, hi: Option<Value>) {
    ctx.b.set_state(off::v_lo(d), lo);
    let hi = hi.unwrap_or_else(|| ctx.k64(0));
    ctx.b.set_state(off::v_hi(d), hi);
}

/// DUP (general): the low bits of X`n` in every lane.
pub(super) fn dup_general(ctx: &mut Ctx, f: Fields) -> bool {
    let (size, _) = element_of(f.get('i'));
    let x = ctx.x(f.reg('n'));
    let lane = ctx.b.zext_or_trunc(LANE[size as usize], x);
    let lane = ctx.b.zext_or_trunc(Type::I64, lane);
    let k = ctx.k64(REPLICATE[size as usize]);
    let v = ctx.b.bin(BinOp::Mul, lane, k);
    set_vector(ctx, f.reg('d'), v, f.bit('Q').then_some(v));
    true
}

/// INS (general): the low bits of X`n` to one element of V`d`.
pub(super) fn ins_general(ctx: &mut Ctx, f: Fields) -> bool {
    let (size, index) = element_of(f.get('i'));
    let x = ctx.x(f.reg('n'));
    let lane = ctx.b.zext_or_trunc(LANE[size as usize], x);
    ctx.b.set_state(element(f.reg('d'), size, index), lane);
    true
}

/// INS (element): one element of V`n` to one element of V`d`.
pub(super) fn ins_element(ctx: &mut Ctx, f: Fields) -> bool {
    let (size, index) = element_of(f.get('i'));
    let source = (f.get('j') >> size) as usize;
    let lane = ctx.b.get_state(LANE[size as usize], element(f.reg('n'), size, source));
    ctx.b.set_state(element(f.reg('d'), size, index), lane);
    true
}

/// UMOV: an element zero-extended to W`d`/X`d`.
pub(super) fn umov(ctx: &mut Ctx, f: Fields) -> bool {
    let (size, index) = element_of(f.get('i'));
    let lane = ctx.b.get_state(LANE[size as usize], element(f.reg('n'), size, index));
    ctx.set_x(f.reg('d'), lane);
    true
}

/// SMOV: an element sign-extended to W`d` (Q clear; the upper word zeroed) or X`d`.
pub(super) fn smov(ctx: &mut Ctx, f: Fields) -> bool {
    let (size, index) = element_of(f.get('i'));
    let lane = ctx.b.get_state(LANE[size as usize], element(f.reg('n'), size, index));
    let wide = ctx.b.sext_or_trunc(if f.bit('Q') { Type::I64 } else { Type::I32 }, lane);
    ctx.set_x(f.reg('d'), wide);
    true
}

/// DUP (element), scalar: one element of V`n` to V`d`, every other bit cleared.
pub(super) fn dup_scalar(ctx: &mut Ctx, f: Fields) -> bool {
    let (size, index) = element_of(f.get('i'));
    let lane = ctx.b.get_state(LANE[size as usize], element(f.reg('n'), size, index));
    let lo = ctx.b.zext_or_trunc(Type::I64, lane);
    set_vector(ctx, f.reg('d'), lo, None);
    true
}

/// MOVI, MVNI (a constant), ORR, BIC (immediate) (the halves of V`d` or-ed with it or
/// cleared where it is set); 64-bit vectors clear the upper half.
pub(super) fn modified_immediate(ctx: &mut Ctx, f: Fields) -> bool {
    // `cmode` is split between the row's fixed bits and `c`: read from the word, as
    // the helper's `expand_immediate` does.
    let (op, cmode, q, d) = (f.bit('o'), bits(f.insn(), 15, 12), f.bit('Q'), f.reg('d'));
    let imm = expand_immediate(f.insn());
    if cmode & 1 == 1 && cmode < 0b1100 {
        let binop = if op { BinOp::AndNot } else { BinOp::Or };
        let mut half = |offset| {
            let v = ctx.b.get_state(Type::I64, offset);
            let k = ctx.k64(imm);
            ctx.b.bin(binop, v, k)
        };
        let lo = half(off::v_lo(d));
        let hi = q.then(|| half(off::v_hi(d)));
        set_vector(ctx, d, lo, hi);
    } else {
        let k = if op && cmode != 0b1110 { !imm } else { imm };
        let k = ctx.k64(k);
        set_vector(ctx, d, k, q.then_some(k));
    }
    true
}
