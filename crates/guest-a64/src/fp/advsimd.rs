//! Helpers for the Advanced SIMD floating-point classes, vector and scalar forms:
//! three same, two-register miscellaneous, by element, pairwise and across lanes, and
//! the fixed-point conversions of the shift-by-immediate class.
//!
//! The scalar forms are the vector operation on one lane; every result is written
//! whole, so scalar forms zero the rest of the register and 64-bit vectors (Q = 0)
//! the top half. Each helper takes the instruction's decoded [`Operands`]; the
//! `decode_*` functions are shared with the translator, which makes the operands
//! they reject undefined.

use super::compare::Condition;
use super::convert::convert;
use super::env::{Env, Rounding};
use super::format::Fmt;
use super::lanes::{
    binary, binary_lanes, from_lanes, lane, lanes_mask, mul_add_lanes, replicate, unary_lanes, Binary, Unary,
};
use super::operands::Operands;
use crate::state::CpuState;

/// Element format (`sz`, `size`) and lane count (`Q`; one lane for the scalar
/// forms). Doubles need Q = 1.
pub fn shape(ops: &Operands) -> Option<(Fmt, u32)> {
    let double = ops.size != 0;
    if ops.scalar {
        let fmt = if double { Fmt::D } else { Fmt::S };
        return Some((fmt, 1));
    }
    vector_shape(ops.q, double)
}

/// The format and lane count of a vector of doubles (`double`, from `sz`) or singles
/// in 128 (`q`) or 64 bits; `None` for the unallocated 1D.
pub fn vector_shape(q: bool, double: bool) -> Option<(Fmt, u32)> {
    match (q, double) {
        (false, true) => None,
        (q, double) => {
            let fmt = if double { Fmt::D } else { Fmt::S };
            Some((fmt, vector_lanes(q, fmt)))
        }
    }
}

/// Lanes of `fmt` in a 128-bit (`q`) or 64-bit vector.
fn vector_lanes(q: bool, fmt: Fmt) -> u32 {
    let bits = if q { 128 } else { 64 };
    bits / fmt.width()
}

/// Sign bits of the low `lanes` lanes.
fn signs(fmt: Fmt, lanes: u32) -> u128 {
    replicate(fmt, fmt.sign_bit()) & lanes_mask(fmt, lanes)
}

/// The operations of the three-same and by-element classes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VectorOp {
    /// Lane by lane.
    Lanes(Binary),
    /// On adjacent pairs of the concatenation `Vm:Vn` (FADDP, FMAXP...).
    Pairwise(Binary),
    /// FMLA (`Vd + Vn*Vm`) or, negating `Vn`, FMLS.
    MulAdd { negate: bool },
}

/// Three same, by `opcode` = `U:a:opcode<2:0>` (the FP opcodes are 11xxx): FMAXNM,
/// FMLA, FADD, FMULX, FCMEQ, -, FMAX, FRECPS; FMINNM, FMLS, FSUB, -, -, -, FMIN,
/// FRSQRTS; FMAXNMP, -, FADDP, FMUL, FCMGE, FACGE, FMAXP, FDIV; FMINNMP, -, FABD, -,
/// FCMGT, FACGT, FMINP, -.
const THREE_SAME: [Option<VectorOp>; 32] = {
    use Binary::*;
    use VectorOp::{Lanes as L, MulAdd, Pairwise as P};
    [
        Some(L(MaxNum)),
        Some(MulAdd { negate: false }),
        Some(L(Add)),
        Some(L(MulX)),
        Some(L(Compare(Condition::Eq))),
        None,
        Some(L(Max)),
        Some(L(RecipStep)),
        Some(L(MinNum)),
        Some(MulAdd { negate: true }),
        Some(L(Sub)),
        None,
        None,
        None,
        Some(L(Min)),
        Some(L(RSqrtStep)),
        Some(P(MaxNum)),
        None,
        Some(P(Add)),
        Some(L(Mul)),
        Some(L(Compare(Condition::Ge))),
        Some(L(CompareAbs(Condition::Ge))),
        Some(P(Max)),
        Some(L(Div)),
        Some(P(MinNum)),
        None,
        Some(L(AbsDiff)),
        None,
        Some(L(Compare(Condition::Gt))),
        Some(L(CompareAbs(Condition::Gt))),
        Some(P(Min)),
        None,
    ]
};

/// The three-same FP instructions, vector and scalar (scalar: FMULX, FCMxx, FACxx,
/// FRECPS, FRSQRTS, FABD only).
pub fn decode_three_same(ops: &Operands) -> Option<(Fmt, u32, VectorOp)> {
    let op = (*THREE_SAME.get(ops.opcode as usize)?)?;
    let scalar_form = matches!(
        op,
        VectorOp::Lanes(
            Binary::MulX
                | Binary::Compare(_)
                | Binary::CompareAbs(_)
                | Binary::RecipStep
                | Binary::RSqrtStep
                | Binary::AbsDiff
        )
    );
    if ops.scalar && !scalar_form {
        return None;
    }
    let (fmt, lanes) = shape(ops)?;
    Some((fmt, lanes, op))
}

/// Run `op` with operands `a` (Vn) and `b` (Vm, or the broadcast element) into V`d`.
fn run(state: &mut CpuState, d: u32, fmt: Fmt, lanes: u32, op: VectorOp, a: u128, b: u128) {
    let mut env = Env::new(state.fpcr);
    let d = d as usize;
    let result = match op {
        VectorOp::Lanes(op) => binary_lanes(op, fmt, a, b, lanes, &mut env),
        VectorOp::Pairwise(op) => {
            // Pair i of Vm:Vn: the low half of the pairs come from Vn.
            let pair = |i: u32| {
                let src = if 2 * i < lanes { a } else { b };
                let j = (2 * i) % lanes;
                (lane(fmt, src, j), lane(fmt, src, j + 1))
            };
            let firsts = from_lanes(fmt, lanes, |i| pair(i).0);
            let seconds = from_lanes(fmt, lanes, |i| pair(i).1);
            binary_lanes(op, fmt, firsts, seconds, lanes, &mut env)
        }
        VectorOp::MulAdd { negate } => {
            let a = if negate { a ^ signs(fmt, lanes) } else { a };
            mul_add_lanes(fmt, state.vreg(d), a, b, lanes, &mut env)
        }
    };
    state.set_vreg(d, result);
    state.fpsr |= env.flags;
}

fn three_same(state: &mut CpuState, ops: Operands) {
    let Some((fmt, lanes, op)) = decode_three_same(&ops) else { return };
    let (a, b) = (state.vreg(ops.n as usize), state.vreg(ops.m as usize));
    run(state, ops.d, fmt, lanes, op, a, b);
}

operands_helper!(
    /// The three-same FP instructions (FADD, FMLA, FCMGE, FADDP... vector and scalar).
    FP_THREE_SAME = "fp_three_same",
    three_same
);

/// By element, by `opcode` = `U:opcode`: FMLA, FMLS, FMUL, FMULX; `imm` is `H:L`
/// and `m` is `M:Rm`. Returns the shape, the operation, Vm and the element index.
pub fn decode_by_element(ops: &Operands) -> Option<(Fmt, u32, VectorOp, u32, u32)> {
    let op = match ops.opcode {
        0b0_0001 => VectorOp::MulAdd { negate: false },
        0b0_0101 => VectorOp::MulAdd { negate: true },
        0b0_1001 => VectorOp::Lanes(Binary::Mul),
        0b1_1001 => VectorOp::Lanes(Binary::MulX),
        _ => return None,
    };
    let (fmt, lanes) = shape(ops)?;
    let (h, l) = (ops.imm >> 1, ops.imm & 1 != 0);
    let index = match fmt {
        Fmt::D if l => return None,
        Fmt::D => h,
        _ => h << 1 | l as u32,
    };
    Some((fmt, lanes, op, ops.m, index))
}

fn by_element(state: &mut CpuState, ops: Operands) {
    let Some((fmt, lanes, op, m, index)) = decode_by_element(&ops) else { return };
    let element = lane(fmt, state.vreg(m as usize), index);
    let a = state.vreg(ops.n as usize);
    run(state, ops.d, fmt, lanes, op, a, replicate(fmt, element) & lanes_mask(fmt, lanes));
}

operands_helper!(
    /// FMLA, FMLS, FMUL, FMULX by element (vector and scalar).
    FP_BY_ELEMENT = "fp_by_element",
    by_element
);

/// Two-register miscellaneous operations.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Misc {
    Lanes {
        fmt: Fmt,
        lanes: u32,
        op: Unary,
    },
    /// FCVTN, FCVTXN (`odd` rounding): `lanes` lanes of `from` to `to`, written to the
    /// low half of Vd (zeroing the top) or, for the `upper` forms, to the top half.
    Narrow {
        from: Fmt,
        to: Fmt,
        lanes: u32,
        odd: bool,
        upper: bool,
    },
    /// FCVTL: the low or `upper` half of Vn, lanes of `from`, widened to `to`.
    Widen {
        from: Fmt,
        to: Fmt,
        upper: bool,
    },
}

/// FRINTN, FRINTM, FRINTP, FRINTZ, FRINTA, FRINTX, -, FRINTI by `U`, `a`, opcode<0>.
const FRINT: [Option<Unary>; 8] = {
    const fn round(rounding: Option<Rounding>, exact: bool) -> Option<Unary> {
        Some(Unary::RoundInt { rounding, exact })
    }
    [
        round(Some(Rounding::TieEven), false),
        round(Some(Rounding::NegInf), false),
        round(Some(Rounding::PosInf), false),
        round(Some(Rounding::Zero), false),
        round(Some(Rounding::TieAway), false),
        round(None, true),
        None,
        round(None, false),
    ]
};

/// Rounding of FCVTNS, FCVTMS, FCVTAS (`a` clear) and FCVTPS, FCVTZS (`a` set) by
/// opcode - 0b11010.
const TO_INT_ROUNDING: [[Option<Rounding>; 3]; 2] = [
    [Some(Rounding::TieEven), Some(Rounding::NegInf), Some(Rounding::TieAway)],
    [Some(Rounding::PosInf), Some(Rounding::Zero), None],
];

/// The FP two-register miscellaneous instructions by `opcode` = `U:a:opcode`, vector
/// and scalar. FABS and FNEG (vector) are translated to
/// IR and not decoded here; URECPE and URSQRTE are integer instructions.
pub fn decode_misc(ops: &Operands) -> Option<Misc> {
    let scalar = ops.scalar;
    let (u, a, opcode) = (ops.opcode & 0b100_0000 != 0, ops.opcode & 0b10_0000 != 0, ops.opcode & 0b1_1111);
    let upper = !scalar && ops.q;
    let (narrow, wide) = if ops.size != 0 { (Fmt::S, Fmt::D) } else { (Fmt::H, Fmt::S) };
    match (u, a, opcode) {
        (false, false, 0b10110) if !scalar => {
            return Some(Misc::Narrow { from: wide, to: narrow, lanes: 64 / narrow.width(), odd: false, upper })
        }
        (false, false, 0b10111) if !scalar => return Some(Misc::Widen { from: narrow, to: wide, upper }),
        (true, false, 0b10110) if wide == Fmt::D => {
            let lanes = if scalar { 1 } else { 2 };
            return Some(Misc::Narrow { from: wide, to: narrow, lanes, odd: true, upper });
        }
        _ => {}
    }
    let op = match (u, a, opcode) {
        (_, _, 0b11000 | 0b11001) if !scalar => FRINT[(u as usize) << 2 | (a as usize) << 1 | (opcode & 1) as usize]?,
        (_, _, 0b11010..=0b11100) => {
            let rounding = TO_INT_ROUNDING[a as usize][(opcode - 0b11010) as usize]?;
            Unary::ToFixed { rounding, unsigned: u, fbits: 0 }
        }
        (_, false, 0b11101) => Unary::FromFixed { unsigned: u, fbits: 0 },
        (false, true, 0b11101) => Unary::RecipEstimate,
        (true, true, 0b11101) => Unary::RSqrtEstimate,
        (false, true, 0b11111) if scalar => Unary::RecipExponent,
        (true, true, 0b11111) if !scalar => Unary::Sqrt,
        (false, true, 0b01100) => Unary::CompareZero { cond: Condition::Gt, swapped: false },
        (false, true, 0b01101) => Unary::CompareZero { cond: Condition::Eq, swapped: false },
        (false, true, 0b01110) => Unary::CompareZero { cond: Condition::Gt, swapped: true },
        (true, true, 0b01100) => Unary::CompareZero { cond: Condition::Ge, swapped: false },
        (true, true, 0b01101) => Unary::CompareZero { cond: Condition::Ge, swapped: true },
        _ => return None,
    };
    let (fmt, lanes) = shape(ops)?;
    Some(Misc::Lanes { fmt, lanes, op })
}

fn misc(state: &mut CpuState, ops: Operands) {
    let Some(op) = decode_misc(&ops) else { return };
    let mut env = Env::new(state.fpcr);
    let (n, d) = (ops.n as usize, ops.d as usize);
    let src = state.vreg(n);
    let result = match op {
        Misc::Lanes { fmt, lanes, op } => unary_lanes(op, fmt, src, lanes, &mut env),
        Misc::Narrow { from, to, lanes, odd, upper } => {
            let rounding = if odd { Rounding::Odd } else { env.rounding() };
            let narrowed = from_lanes(to, lanes, |i| convert(from, to, lane(from, src, i), rounding, &mut env));
            if upper {
                narrowed << 64 | state.vreg(d) & u64::MAX as u128
            } else {
                narrowed
            }
        }
        Misc::Widen { from, to, upper } => {
            let half = if upper { src >> 64 } else { src };
            let rounding = env.rounding();
            from_lanes(to, 128 / to.width(), |i| convert(from, to, lane(from, half, i), rounding, &mut env))
        }
    };
    state.set_vreg(d, result);
    state.fpsr |= env.flags;
}

operands_helper!(
    /// The FP two-register miscellaneous instructions (FSQRT, FRINT*, FCVT*, SCVTF,
    /// FCMxx with zero, FRECPE, FRSQRTE, FRECPX, FCVTN, FCVTL, FCVTXN; vector and scalar).
    FP_MISC = "fp_misc",
    misc
);

/// FMAXNMP, FADDP, FMAXP, FMINNMP, FMINP (scalar pairwise: the two lanes of Vn
/// selected by `sz`) and FMAXNMV, FMAXV, FMINNMV, FMINV (across the four single
/// lanes of Vn), by `opcode` = `a:opcode<1:0>` (the opcodes are 011xx).
pub fn decode_reduce(ops: &Operands) -> Option<(Fmt, u32, Binary)> {
    let op = match ops.opcode {
        0b000 => Binary::MaxNum,
        0b001 if ops.scalar => Binary::Add,
        0b011 => Binary::Max,
        0b100 => Binary::MinNum,
        0b111 => Binary::Min,
        _ => return None,
    };
    if ops.scalar {
        let fmt = if ops.size != 0 { Fmt::D } else { Fmt::S };
        Some((fmt, 2, op))
    } else {
        (ops.q && ops.size == 0).then_some((Fmt::S, 4, op))
    }
}

/// `op` folded over lanes `first..first + count` of `v` as the Arm ARM's `Reduce` does:
/// the two halves reduced separately, then combined.
fn reduce_lanes(op: Binary, fmt: Fmt, v: u128, first: u32, count: u32, env: &mut Env) -> u64 {
    if count == 1 {
        return lane(fmt, v, first);
    }
    let half = count / 2;
    let low = reduce_lanes(op, fmt, v, first, half, env);
    let high = reduce_lanes(op, fmt, v, first + half, half, env);
    binary(op, fmt, low, high, env)
}

fn reduce(state: &mut CpuState, ops: Operands) {
    let Some((fmt, lanes, op)) = decode_reduce(&ops) else { return };
    let mut env = Env::new(state.fpcr);
    let result = reduce_lanes(op, fmt, state.vreg(ops.n as usize), 0, lanes, &mut env);
    state.set_vreg(ops.d as usize, result as u128);
    state.fpsr |= env.flags;
}

operands_helper!(
    /// Scalar pairwise (FADDP, FMAXP...) and across-lanes (FMAXV, FMINNMV...) FP reductions.
    FP_REDUCE = "fp_reduce",
    reduce
);

/// [`decode_fixed_point`]'s opcode of SCVTF, UCVTF: from fixed point.
pub const FROM_FIXED: u32 = 0;
/// [`decode_fixed_point`]'s opcode of FCVTZS, FCVTZU: to fixed point.
pub const TO_FIXED: u32 = 1;

/// SCVTF, UCVTF, FCVTZS, FCVTZU with fraction bits (shift by immediate class, vector
/// and scalar): doubles (`size` 1) or singles, `imm` fraction bits, the operation by
/// `opcode` ([`FROM_FIXED`], [`TO_FIXED`]) and `U`.
pub fn decode_fixed_point(ops: &Operands) -> Option<(Fmt, u32, Unary)> {
    let (fmt, fbits) = (if ops.size != 0 { Fmt::D } else { Fmt::S }, ops.imm);
    let unsigned = ops.unsigned;
    let op = match ops.opcode {
        FROM_FIXED => Unary::FromFixed { unsigned, fbits },
        TO_FIXED => Unary::ToFixed { rounding: Rounding::Zero, unsigned, fbits },
        _ => return None,
    };
    let lanes = match (ops.scalar, ops.q, fmt) {
        (true, _, _) => 1,
        (false, false, Fmt::D) => return None,
        (false, q, _) => vector_lanes(q, fmt),
    };
    Some((fmt, lanes, op))
}

fn fixed_point(state: &mut CpuState, ops: Operands) {
    let Some((fmt, lanes, op)) = decode_fixed_point(&ops) else { return };
    let mut env = Env::new(state.fpcr);
    let result = unary_lanes(op, fmt, state.vreg(ops.n as usize), lanes, &mut env);
    state.set_vreg(ops.d as usize, result);
    state.fpsr |= env.flags;
}

operands_helper!(
    /// SCVTF, UCVTF, FCVTZS, FCVTZU with fraction bits (vector and scalar).
    FP_FIXED_POINT = "fp_fixed_point",
    fixed_point
);
