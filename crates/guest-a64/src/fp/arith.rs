//! Arithmetic in software, exactly as the Arm ARM pseudocode defines it: `FPAdd`,
//! `FPSub`, `FPMul`, `FPMulX`, `FPDiv`, `FPSqrt`, `FPMulAdd`, `FPRecipStepFused`,
//! `FPRSqrtStepFused`, and the NaN rules they share (`FPProcessNaN(s)`).
//!
//! Each operation computes the exact real result as an integer mantissa and a binary
//! exponent (with a sticky bit where a quotient or an alignment drops bits) and
//! rounds it once with [`round`].

use super::env::{flag, Env, Rounding};
use super::format::{unpack, Fmt, Kind, Unpacked};
use super::round::round;

/// `FPProcessNaN`: a signalling NaN is quietened and raises Invalid; under FPCR.DN the
/// result is the default NaN.
pub fn process_nan(fmt: Fmt, op: &Unpacked, env: &mut Env) -> u64 {
    let mut result = op.bits;
    if op.kind == Kind::SNaN {
        result |= fmt.quiet_bit();
        env.raise(flag::IOC);
    }
    if env.default_nan() {
        fmt.default_nan()
    } else {
        result
    }
}

/// `FPProcessNaNs`/`FPProcessNaNs3`: the first signalling NaN in operand order, else
/// the first quiet NaN, processed; `None` when no operand is a NaN.
pub fn process_nans(fmt: Fmt, ops: &[Unpacked], env: &mut Env) -> Option<u64> {
    let nan = ops.iter().find(|op| op.kind == Kind::SNaN).or_else(|| ops.iter().find(|op| op.kind == Kind::QNaN))?;
    Some(process_nan(fmt, nan, env))
}

/// The default NaN of an invalid operation (raises Invalid).
pub fn invalid(fmt: Fmt, env: &mut Env) -> u64 {
    env.raise(flag::IOC);
    fmt.default_nan()
}

/// An exact real `(-1)^sign * mant * 2^exp`; bit 0 of `mant` may be sticky (see [`round`]).
#[derive(Clone, Copy, Debug)]
pub struct Exact {
    pub sign: bool,
    pub exp: i32,
    pub mant: u128,
}

impl Exact {
    /// The value of a finite or zero operand.
    pub const fn of(op: &Unpacked) -> Exact {
        Exact { sign: op.sign, exp: op.exp, mant: op.mant as u128 }
    }

    /// The exact product of two finite or zero operands.
    pub const fn product(a: &Unpacked, b: &Unpacked) -> Exact {
        Exact { sign: a.sign ^ b.sign, exp: a.exp + b.exp, mant: a.mant as u128 * b.mant as u128 }
    }

    /// Round to `fmt`; an exact zero gets the sign IEEE gives a sum of opposite
    /// operands (negative only when rounding towards minus infinity).
    pub fn round(self, fmt: Fmt, rounding: Rounding, env: &mut Env) -> u64 {
        if self.mant == 0 {
            fmt.zero(rounding == Rounding::NegInf)
        } else {
            round(fmt, self.sign, self.exp, self.mant, rounding, env)
        }
    }
}

/// `mant` (at most 126 bits) shifted so its top bit is bit 125, with the exponent adjusted.
fn normalise(x: Exact) -> Exact {
    let shift = x.mant.leading_zeros() as i32 - 2;
    Exact { mant: x.mant << shift, exp: x.exp - shift, ..x }
}

/// `mant >> k`, with any bits shifted out ORed into bit 0.
fn shift_right_sticky(mant: u128, k: u32) -> u128 {
    if k >= 128 {
        (mant != 0) as u128
    } else {
        (mant >> k) | ((mant & ((1 << k) - 1)) != 0) as u128
    }
}

/// The exact sum of two exact values of at most 106 significant bits (mantissa 0 is
/// zero). The result keeps at least 124 significant bits unless it is exact.
pub fn sum(a: Exact, b: Exact) -> Exact {
    if a.mant == 0 {
        return b;
    }
    if b.mant == 0 {
        return a;
    }
    let (a, b) = (normalise(a), normalise(b));
    let (big, small) = if a.exp >= b.exp { (a, b) } else { (b, a) };
    // Operands are at most 106 bits wide, so their low 19 bits are zero after
    // normalising: a shift by less than 20 loses nothing, and a larger one leaves no
    // room for cancellation below bit 124.
    let small_mant = shift_right_sticky(small.mant, (big.exp - small.exp) as u32);
    if big.sign == small.sign {
        Exact { mant: big.mant + small_mant, ..big }
    } else if big.mant >= small_mant {
        Exact { mant: big.mant - small_mant, ..big }
    } else {
        Exact { sign: small.sign, mant: small_mant - big.mant, ..big }
    }
}

/// `FPAdd`, or `FPSub` when `subtract`.
pub fn add(fmt: Fmt, a: u64, b: u64, subtract: bool, env: &mut Env) -> u64 {
    let x = unpack(fmt, a, env);
    let y = unpack(fmt, b, env);
    if let Some(nan) = process_nans(fmt, &[x, y], env) {
        return nan;
    }
    let y_sign = y.sign ^ subtract;
    match (x.kind, y.kind) {
        (Kind::Infinity, Kind::Infinity) if x.sign != y_sign => invalid(fmt, env),
        (Kind::Infinity, _) => fmt.infinity(x.sign),
        (_, Kind::Infinity) => fmt.infinity(y_sign),
        (Kind::Zero, Kind::Zero) if x.sign == y_sign => fmt.zero(x.sign),
        _ => sum(Exact::of(&x), Exact { sign: y_sign, ..Exact::of(&y) }).round(fmt, env.rounding(), env),
    }
}

/// `FPMul`, or `FPMulX` when `mulx` (infinity times zero is two instead of invalid).
pub fn mul(fmt: Fmt, a: u64, b: u64, mulx: bool, env: &mut Env) -> u64 {
    let x = unpack(fmt, a, env);
    let y = unpack(fmt, b, env);
    if let Some(nan) = process_nans(fmt, &[x, y], env) {
        return nan;
    }
    let sign = x.sign ^ y.sign;
    if (x.is_infinity() && y.is_zero()) || (x.is_zero() && y.is_infinity()) {
        if mulx {
            fmt.power_of_two(sign, 1, 0)
        } else {
            invalid(fmt, env)
        }
    } else if x.is_infinity() || y.is_infinity() {
        fmt.infinity(sign)
    } else if x.is_zero() || y.is_zero() {
        fmt.zero(sign)
    } else {
        Exact::product(&x, &y).round(fmt, env.rounding(), env)
    }
}

/// `FPDiv`.
pub fn div(fmt: Fmt, a: u64, b: u64, env: &mut Env) -> u64 {
    let x = unpack(fmt, a, env);
    let y = unpack(fmt, b, env);
    if let Some(nan) = process_nans(fmt, &[x, y], env) {
        return nan;
    }
    let sign = x.sign ^ y.sign;
    if (x.is_infinity() && y.is_infinity()) || (x.is_zero() && y.is_zero()) {
        invalid(fmt, env)
    } else if x.is_infinity() || y.is_zero() {
        if !x.is_infinity() {
            env.raise(flag::DZC);
        }
        fmt.infinity(sign)
    } else if x.is_zero() || y.is_infinity() {
        fmt.zero(sign)
    } else {
        // Both mantissas normalised to 64 bits: the quotient has 64 or 65 bits.
        let (sx, sy) = (x.mant.leading_zeros(), y.mant.leading_zeros());
        let num = ((x.mant << sx) as u128) << 64;
        let den = (y.mant << sy) as u128;
        let mant = (num / den) | !num.is_multiple_of(den) as u128;
        let exp = x.exp - sx as i32 - 64 - (y.exp - sy as i32);
        round(fmt, sign, exp, mant, env.rounding(), env)
    }
}

/// Integer square root: `(floor(sqrt(n)), whether it is exact)`.
fn isqrt(n: u128) -> (u128, bool) {
    let mut rem = n;
    let mut root = 0u128;
    let mut bit = 1u128 << (126 - (n.leading_zeros() & !1).min(126));
    while bit != 0 {
        if rem >= root + bit {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    (root, rem == 0)
}

/// `FPSqrt`.
pub fn sqrt(fmt: Fmt, a: u64, env: &mut Env) -> u64 {
    let x = unpack(fmt, a, env);
    match x.kind {
        Kind::QNaN | Kind::SNaN => process_nan(fmt, &x, env),
        Kind::Zero => fmt.zero(x.sign),
        _ if x.sign => invalid(fmt, env),
        Kind::Infinity => fmt.infinity(false),
        Kind::Finite => {
            // Put the top bit at 125 or 124 so the exponent is even; the root then
            // has 63 significant bits.
            let mut shift = x.mant.leading_zeros() as i32 + 64 - 2;
            if (x.exp - shift) % 2 != 0 {
                shift -= 1;
            }
            let (root, exact) = isqrt((x.mant as u128) << shift);
            round(fmt, false, (x.exp - shift) / 2, root | !exact as u128, env.rounding(), env)
        }
    }
}

/// `FPMulAdd`: `addend + op1 * op2` with a single rounding.
pub fn mul_add(fmt: Fmt, addend: u64, op1: u64, op2: u64, env: &mut Env) -> u64 {
    let a = unpack(fmt, addend, env);
    let x = unpack(fmt, op1, env);
    let y = unpack(fmt, op2, env);
    let inf_times_zero = (x.is_infinity() && y.is_zero()) || (x.is_zero() && y.is_infinity());
    if let Some(nan) = process_nans(fmt, &[a, x, y], env) {
        // A quiet NaN addend does not hide the invalid product.
        return if a.kind == Kind::QNaN && inf_times_zero { invalid(fmt, env) } else { nan };
    }
    let product_sign = x.sign ^ y.sign;
    let product_infinite = x.is_infinity() || y.is_infinity();
    if inf_times_zero || (a.is_infinity() && product_infinite && a.sign != product_sign) {
        invalid(fmt, env)
    } else if a.is_infinity() {
        fmt.infinity(a.sign)
    } else if product_infinite {
        fmt.infinity(product_sign)
    } else if a.is_zero() && (x.is_zero() || y.is_zero()) && a.sign == product_sign {
        fmt.zero(a.sign)
    } else {
        sum(Exact::of(&a), Exact::product(&x, &y)).round(fmt, env.rounding(), env)
    }
}

/// The fused step of `FRECPS` (`2 - op1 * op2`, `halve == false`) and `FRSQRTS`
/// (`(3 - op1 * op2) / 2`): `FPRecipStepFused` and `FPRSqrtStepFused`.
pub fn step_fused(fmt: Fmt, op1: u64, op2: u64, rsqrt: bool, env: &mut Env) -> u64 {
    let x = unpack(fmt, op1 ^ fmt.sign_bit(), env);
    let y = unpack(fmt, op2, env);
    if let Some(nan) = process_nans(fmt, &[x, y], env) {
        return nan;
    }
    if (x.is_infinity() && y.is_zero()) || (x.is_zero() && y.is_infinity()) {
        // 2.0 or 1.5.
        if rsqrt {
            fmt.power_of_two(false, 0, fmt.quiet_bit())
        } else {
            fmt.power_of_two(false, 1, 0)
        }
    } else if x.is_infinity() || y.is_infinity() {
        fmt.infinity(x.sign ^ y.sign)
    } else {
        let (constant, halving) = if rsqrt { (3, 1) } else { (1, 0) };
        let mut exact = sum(Exact { sign: false, exp: 1 - rsqrt as i32, mant: constant }, Exact::product(&x, &y));
        exact.exp -= halving;
        exact.round(fmt, env.rounding(), env)
    }
}
