//! Advanced SIMD instructions that need no helper: the common integer operations as
//! IR vector ops ([`archway_ir::Op::Vec`], SSE code in the JIT), lane copies and
//! immediates as plain state reads and writes ([`super::moves`]).
//!
//! [`LOWERINGS`] maps a helper to what replaces its call: the rows of [`super`] name
//! the helper and check the arrangement as before, and [`lower`] builds the
//! replacement from the row's fields. A helper not in the table (saturating,
//! rounding, long and wide operations, table lookups, structure loads...) is called.

use super::{moves, Form};
use crate::decode::Fields;
use crate::simd::copy::element_of;
use crate::simd::{arith, bitwise, copy, permute, reduce, shift, unary, widen};
use crate::state::off;
use crate::translate::Ctx;
use archway_ir::{Helper, Op, Type, VecInst, VecOp};

/// How a row's fields give a [`VecInst`].
#[derive(Clone, Copy)]
enum Operands {
    /// `Vd`, `Vn`, `Vm`, lanes by `size` (three same, permutes); a scalar word is the
    /// one-lane 64-bit form.
    Same,
    /// As `Same` with byte lanes (`size` is part of the opcode: logical ops).
    Bytes,
    /// `Vd`, `Vn`, lanes by `size` (two-register miscellaneous, across lanes, XTN).
    Unary,
    /// SHLL: widened and shifted by the lane size.
    ShiftByLaneSize,
    /// Shift by immediate, right by `2 * esize - immh:immb` (SSHR, SHRN...).
    ShiftRight,
    /// Shift by immediate, left by `immh:immb - esize` (SHL, USHLL...).
    ShiftLeft,
    /// EXT: byte index in bits 14..11.
    Extract,
}

/// What replaces a helper call.
#[derive(Clone, Copy)]
enum Lowering {
    Vec(VecOp, Operands),
    /// Reads and writes of state, emitted by the function from the row's fields
    /// (false: it emitted nothing, call the helper).
    Moves(fn(&mut Ctx, Fields) -> bool),
}

use Lowering::{Moves, Vec};
use Operands::*;
use VecOp::*;

static LOWERINGS: &[(&Helper, Lowering)] = &[
    (&arith::ADD, Vec(Add, Same)),
    (&arith::SUB, Vec(Sub, Same)),
    (&arith::MUL, Vec(Mul, Same)),
    (&arith::CMEQ, Vec(CmEq, Same)),
    (&arith::CMGT, Vec(CmGt, Same)),
    (&arith::CMGE, Vec(CmGe, Same)),
    (&arith::CMHI, Vec(CmHi, Same)),
    (&arith::CMHS, Vec(CmHs, Same)),
    (&arith::CMTST, Vec(CmTst, Same)),
    (&arith::UMAX, Vec(UMax, Same)),
    (&arith::UMIN, Vec(UMin, Same)),
    (&arith::SMAX, Vec(SMax, Same)),
    (&arith::SMIN, Vec(SMin, Same)),
    (&bitwise::AND, Vec(And, Bytes)),
    (&bitwise::ORR, Vec(Orr, Bytes)),
    (&bitwise::EOR, Vec(Eor, Bytes)),
    (&bitwise::BIC, Vec(Bic, Bytes)),
    (&bitwise::ORN, Vec(Orn, Bytes)),
    (&bitwise::BSL, Vec(Bsl, Bytes)),
    (&bitwise::BIT, Vec(Bit, Bytes)),
    (&bitwise::BIF, Vec(Bif, Bytes)),
    (&unary::NEG, Vec(Neg, Unary)),
    (&unary::ABS, Vec(Abs, Unary)),
    (&unary::CMEQ_ZERO, Vec(CmEq0, Unary)),
    (&unary::CMGT_ZERO, Vec(CmGt0, Unary)),
    (&unary::CMGE_ZERO, Vec(CmGe0, Unary)),
    (&unary::CMLE_ZERO, Vec(CmLe0, Unary)),
    (&unary::CMLT_ZERO, Vec(CmLt0, Unary)),
    (&shift::SHL, Vec(Shl, ShiftLeft)),
    (&shift::USHR, Vec(UShr, ShiftRight)),
    (&shift::SSHR, Vec(SShr, ShiftRight)),
    (&shift::USRA, Vec(USra, ShiftRight)),
    (&shift::SSRA, Vec(SSra, ShiftRight)),
    (&widen::USHLL, Vec(UShll, ShiftLeft)),
    (&widen::SSHLL, Vec(SShll, ShiftLeft)),
    (&widen::SHLL, Vec(UShll, ShiftByLaneSize)),
    (&widen::XTN, Vec(ShrN, Unary)),
    (&widen::SHRN, Vec(ShrN, ShiftRight)),
    (&permute::ZIP1, Vec(Zip1, Same)),
    (&permute::ZIP2, Vec(Zip2, Same)),
    (&permute::UZP1, Vec(Uzp1, Same)),
    (&permute::UZP2, Vec(Uzp2, Same)),
    (&permute::TRN1, Vec(Trn1, Same)),
    (&permute::TRN2, Vec(Trn2, Same)),
    (&permute::EXT, Vec(Ext, Extract)),
    (&reduce::ADDP, Vec(Addp, Same)),
    (&reduce::UMAXP, Vec(UMaxp, Same)),
    (&reduce::UMINP, Vec(UMinp, Same)),
    (&reduce::SMAXP, Vec(SMaxp, Same)),
    (&reduce::SMINP, Vec(SMinp, Same)),
    (&reduce::ADDV, Vec(AddV, Unary)),
    (&reduce::UMAXV, Vec(UMaxV, Unary)),
    (&reduce::UMINV, Vec(UMinV, Unary)),
    (&reduce::SMAXV, Vec(SMaxV, Unary)),
    (&reduce::SMINV, Vec(SMinV, Unary)),
    (&copy::DUP_ELEMENT, Moves(dup_element)),
    (&copy::DUP_GENERAL, Moves(moves::dup_general)),
    (&copy::INS_GENERAL, Moves(moves::ins_general)),
    (&copy::INS_ELEMENT, Moves(moves::ins_element)),
    (&copy::UMOV, Moves(moves::umov)),
    (&copy::SMOV, Moves(moves::smov)),
    (&copy::MODIFIED_IMMEDIATE, Moves(moves::modified_immediate)),
];

/// Emit the IR that replaces the call of `helper` for the instruction of `f` (a row
/// of `form`), if there is one; false when the helper must be called. The arrangement
/// is allocated (the caller checked).
pub(super) fn lower(ctx: &mut Ctx, helper: &'static Helper, f: Fields, form: Form) -> bool {
    #[cfg(test)]
    if tests::HELPERS_ONLY.with(core::cell::Cell::get) {
        return false;
    }
    let Some(&(_, lowering)) = LOWERINGS.iter().find(|(h, _)| core::ptr::eq(*h, helper)) else {
        return false;
    };
    match lowering {
        Vec(op, operands) => vec_inst(op, operands, f, form).map(|v| ctx.b.push(Type::Void, Op::Vec(v))).is_some(),
        Moves(emit) => emit(ctx, f),
    }
}

/// The vector instruction `op` of `f`, if its arrangement has one.
fn vec_inst(op: VecOp, operands: Operands, f: Fields, form: Form) -> Option<VecInst> {
    let scalar = form.scalar();
    let (_, size) = form.arrangement(f)?;
    let esize: u32 = 8 << size;
    let imm = match operands {
        Same | Bytes | Unary => 0,
        ShiftByLaneSize => esize,
        Extract => f.get('i'),
        ShiftRight => (2 * esize).checked_sub(shift_immediate(f))?,
        ShiftLeft => shift_immediate(f).checked_sub(esize)?,
    };
    let reads_b = matches!(operands, Same | Bytes | Extract);
    let v = VecInst {
        op,
        esize: esize as u8,
        // A scalar form is the 64-bit vector of one lane (the caller allows only D).
        full: !scalar && f.bit('Q'),
        dst: off::v_lo(f.reg('d')),
        a: off::v_lo(f.reg('n')),
        b: if reads_b { off::v_lo(f.reg('m')) } else { 0 },
        imm,
    };
    let one_lane = !scalar || (esize == 64 && !v.full);
    (one_lane && v.check().is_ok()).then_some(v)
}

/// `immh:immb` of a shift by immediate.
fn shift_immediate(f: Fields) -> u32 {
    (f.get('h') << f.width('b')) | f.get('b')
}

/// DUP (element): a vector op for the vector form, moves for the scalar one (whose
/// row has no `Q`).
fn dup_element(ctx: &mut Ctx, f: Fields) -> bool {
    if f.width('Q') == 0 {
        return moves::dup_scalar(ctx, f);
    }
    let (size, index) = element_of(f.get('i'));
    let v = VecInst {
        op: Dup,
        esize: 8 << size,
        full: f.bit('Q'),
        dst: off::v_lo(f.reg('d')),
        a: off::v_lo(f.reg('n')),
        b: 0,
        imm: index as u32,
    };
    if v.check().is_ok() {
        ctx.b.push(Type::Void, Op::Vec(v));
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests;
