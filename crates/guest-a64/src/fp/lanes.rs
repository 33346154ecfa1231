//! The operations of the FP instructions, on one lane in software and over the lanes
//! of 128-bit registers, where add, subtract, multiply, divide, square root and fused
//! multiply-add try the [`host`] fast path first; and the lane layout of a register
//! (lane 0 in the low bits).

use super::arith::{self, add, div, mul, mul_add, step_fused};
use super::compare::{compare_cond, max_min, max_min_num, Condition};
use super::convert::{from_fixed, round_int, to_fixed};
use super::env::{Env, Rounding};
use super::estimate::{recip_estimate, recip_exponent, rsqrt_estimate};
use super::format::Fmt;
use super::host::{self, HostOp};

/// Lane `i` of a 128-bit register viewed as lanes of `fmt`.
#[inline]
pub fn lane(fmt: Fmt, v: u128, i: u32) -> u64 {
    (v >> (i * fmt.width())) as u64 & fmt.mask()
}

/// A register of `lanes` lanes of `fmt` made by `f(i)`; the other bits are zero.
#[inline]
pub fn from_lanes(fmt: Fmt, lanes: u32, mut f: impl FnMut(u32) -> u64) -> u128 {
    (0..lanes).fold(0, |v, i| v | ((f(i) & fmt.mask()) as u128) << (i * fmt.width()))
}

/// `value` in every lane of `fmt`.
#[inline]
pub fn replicate(fmt: Fmt, value: u64) -> u128 {
    let mut v = (value & fmt.mask()) as u128;
    let mut width = fmt.width();
    while width < 128 {
        v |= v << width;
        width *= 2;
    }
    v
}

/// Mask of the low `lanes` lanes of `fmt`.
#[inline]
pub fn lanes_mask(fmt: Fmt, lanes: u32) -> u128 {
    u128::MAX >> (128 - lanes * fmt.width())
}

/// Two-operand lane operations.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    /// FNMUL: the product negated (NaNs included).
    NegMul,
    /// FABD: the absolute difference (NaNs included).
    AbsDiff,
    /// FMULX: infinity times zero is two.
    MulX,
    Max,
    Min,
    MaxNum,
    MinNum,
    /// FRECPS: `2 - a * b`.
    RecipStep,
    /// FRSQRTS: `(3 - a * b) / 2`.
    RSqrtStep,
    /// FCMEQ, FCMGE, FCMGT: all ones when `a cond b`, else zero.
    Compare(Condition),
    /// FACGE, FACGT: the compare on absolute values.
    CompareAbs(Condition),
}

/// What to do to the sign of a host result to finish a [`Binary`] operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SignFix {
    Keep,
    Flip,
    Clear,
}

impl Binary {
    /// The host operation that computes it, if any.
    fn host(self) -> Option<(HostOp, SignFix)> {
        Some(match self {
            Binary::Add => (HostOp::Add, SignFix::Keep),
            Binary::Sub => (HostOp::Sub, SignFix::Keep),
            Binary::Mul | Binary::MulX => (HostOp::Mul, SignFix::Keep),
            Binary::Div => (HostOp::Div, SignFix::Keep),
            Binary::NegMul => (HostOp::Mul, SignFix::Flip),
            Binary::AbsDiff => (HostOp::Sub, SignFix::Clear),
            _ => return None,
        })
    }
}

/// All ones of `fmt`'s width when `cond`, else zero.
fn lane_mask(fmt: Fmt, cond: bool) -> u64 {
    if cond {
        fmt.mask()
    } else {
        0
    }
}

/// One lane of `op` in software.
pub fn binary(op: Binary, fmt: Fmt, a: u64, b: u64, env: &mut Env) -> u64 {
    match op {
        Binary::Add => add(fmt, a, b, false, env),
        Binary::Sub => add(fmt, a, b, true, env),
        Binary::Mul => mul(fmt, a, b, false, env),
        Binary::MulX => mul(fmt, a, b, true, env),
        Binary::Div => div(fmt, a, b, env),
        Binary::NegMul => mul(fmt, a, b, false, env) ^ fmt.sign_bit(),
        Binary::AbsDiff => fmt.magnitude(add(fmt, a, b, true, env)),
        Binary::Max => max_min(fmt, a, b, true, env),
        Binary::Min => max_min(fmt, a, b, false, env),
        Binary::MaxNum => max_min_num(fmt, a, b, true, env),
        Binary::MinNum => max_min_num(fmt, a, b, false, env),
        Binary::RecipStep => step_fused(fmt, a, b, false, env),
        Binary::RSqrtStep => step_fused(fmt, a, b, true, env),
        Binary::Compare(cond) => lane_mask(fmt, compare_cond(fmt, cond, a, b, env)),
        Binary::CompareAbs(cond) => lane_mask(fmt, compare_cond(fmt, cond, fmt.magnitude(a), fmt.magnitude(b), env)),
    }
}

/// `op` on the low `lanes` lanes of `a` and `b`; the other bits of the result are zero.
#[inline]
pub fn binary_lanes(op: Binary, fmt: Fmt, a: u128, b: u128, lanes: u32, env: &mut Env) -> u128 {
    if let Some((host_op, fix)) = op.host() {
        if let Some(result) = host::packed(host_op, fmt, a, b, 0, lanes, env) {
            let signs = || replicate(fmt, fmt.sign_bit()) & lanes_mask(fmt, lanes);
            return match fix {
                SignFix::Keep => result,
                SignFix::Flip => result ^ signs(),
                SignFix::Clear => result & !signs(),
            };
        }
    }
    from_lanes(fmt, lanes, |i| binary(op, fmt, lane(fmt, a, i), lane(fmt, b, i), env))
}

/// `acc + a * b` (FMLA, FMADD...) on the low `lanes` lanes, rounded once.
#[inline]
pub fn mul_add_lanes(fmt: Fmt, acc: u128, a: u128, b: u128, lanes: u32, env: &mut Env) -> u128 {
    if let Some(result) = host::packed(HostOp::MulAdd, fmt, a, b, acc, lanes, env) {
        return result;
    }
    from_lanes(fmt, lanes, |i| mul_add(fmt, lane(fmt, acc, i), lane(fmt, a, i), lane(fmt, b, i), env))
}

/// One-operand lane operations (the result has the operand's width).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unary {
    Sqrt,
    /// FRINT*: `None` rounds as FPCR says; `exact` raises Inexact (FRINTX).
    RoundInt {
        rounding: Option<Rounding>,
        exact: bool,
    },
    RecipEstimate,
    RSqrtEstimate,
    /// FRECPX.
    RecipExponent,
    /// FCVT[NPMZA][SU]: to a same-width integer with `fbits` fraction bits.
    ToFixed {
        rounding: Rounding,
        unsigned: bool,
        fbits: u32,
    },
    /// SCVTF/UCVTF: from a same-width integer with `fbits` fraction bits.
    FromFixed {
        unsigned: bool,
        fbits: u32,
    },
    /// FCMxx against zero: `a cond 0`, or `0 cond a` when `swapped` (FCMLT, FCMLE).
    CompareZero {
        cond: Condition,
        swapped: bool,
    },
}

/// One lane of `op` in software.
pub fn unary(op: Unary, fmt: Fmt, a: u64, env: &mut Env) -> u64 {
    match op {
        Unary::Sqrt => arith::sqrt(fmt, a, env),
        Unary::RoundInt { rounding, exact } => round_int(fmt, a, rounding.unwrap_or(env.rounding()), exact, env),
        Unary::RecipEstimate => recip_estimate(fmt, a, env),
        Unary::RSqrtEstimate => rsqrt_estimate(fmt, a, env),
        Unary::RecipExponent => recip_exponent(fmt, a, env),
        Unary::ToFixed { rounding, unsigned, fbits } => to_fixed(fmt, a, fbits, unsigned, fmt.width(), rounding, env),
        Unary::FromFixed { unsigned, fbits } => from_fixed(fmt, a, fmt.width(), !unsigned, fbits, env.rounding(), env),
        Unary::CompareZero { cond, swapped } => {
            let (x, y) = if swapped { (0, a) } else { (a, 0) };
            lane_mask(fmt, compare_cond(fmt, cond, x, y, env))
        }
    }
}

/// `op` on the low `lanes` lanes of `a`; the other bits of the result are zero.
#[inline]
pub fn unary_lanes(op: Unary, fmt: Fmt, a: u128, lanes: u32, env: &mut Env) -> u128 {
    if op == Unary::Sqrt {
        if let Some(result) = host::packed(HostOp::Sqrt, fmt, a, a, 0, lanes, env) {
            return result;
        }
    }
    from_lanes(fmt, lanes, |i| unary(op, fmt, lane(fmt, a, i), env))
}
