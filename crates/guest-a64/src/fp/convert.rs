//! Conversions: between formats (`FPConvert`, FCVT/FCVTL/FCVTN/FCVTXN), to and from
//! integers and fixed point (`FPToFixed`, `FixedToFP`), and to integral values in
//! floating point (`FPRoundInt`, FRINT*).

use super::arith::{process_nan, Exact};
use super::env::{flag, Env, Rounding};
use super::format::{unpack, Fmt, Kind};
use super::round::{rounds_up, split, Rest};

/// `FPConvertNaN`: the same NaN in another format (sign, quiet, payload top-aligned).
fn convert_nan(from: Fmt, to: Fmt, bits: u64) -> u64 {
    let payload = bits & (from.frac_mask() >> 1);
    let payload = if to.frac_bits >= from.frac_bits {
        payload << (to.frac_bits - from.frac_bits)
    } else {
        payload >> (from.frac_bits - to.frac_bits)
    };
    to.default_nan() | to.zero(from.is_negative(bits)) | payload
}

/// `FPConvert`: `bits` of format `from` rounded to format `to`. Under FPCR.AHP a
/// half-precision result has no NaN or infinity to give and raises Invalid instead.
pub fn convert(from: Fmt, to: Fmt, bits: u64, rounding: Rounding, env: &mut Env) -> u64 {
    let x = unpack(from, bits, env);
    let alt_half = to == Fmt::H && env.alt_half();
    match x.kind {
        Kind::QNaN | Kind::SNaN => {
            if x.kind == Kind::SNaN || alt_half {
                env.raise(flag::IOC);
            }
            if alt_half {
                to.zero(x.sign)
            } else if env.default_nan() {
                to.default_nan()
            } else {
                convert_nan(from, to, bits)
            }
        }
        Kind::Infinity if alt_half => {
            env.raise(flag::IOC);
            to.zero(x.sign) | (to.mask() >> 1)
        }
        Kind::Infinity => to.infinity(x.sign),
        Kind::Zero => to.zero(x.sign),
        Kind::Finite => Exact::of(&x).round(to, rounding, env),
    }
}

/// `FPToFixed`: `bits` times `2^fbits`, rounded to an integer of `width` bits (32 or
/// 64), signed or `unsigned`, saturating. NaNs give 0; NaNs and out-of-range values
/// raise Invalid (and not Inexact); other inexact results raise Inexact.
pub fn to_fixed(fmt: Fmt, bits: u64, fbits: u32, unsigned: bool, width: u32, rounding: Rounding, env: &mut Env) -> u64 {
    let x = unpack(fmt, bits, env);
    let (magnitude, rest) = match x.kind {
        Kind::QNaN | Kind::SNaN => {
            env.raise(flag::IOC);
            return 0;
        }
        Kind::Zero => return 0,
        // Far out of range: saturates below.
        Kind::Infinity => (u128::MAX, Rest::Zero),
        Kind::Finite => {
            let exp = x.exp + fbits as i32;
            if exp >= 0 {
                let too_big = exp > 64;
                (if too_big { u128::MAX } else { (x.mant as u128) << exp }, Rest::Zero)
            } else {
                let (kept, rest) = split(x.mant as u128, exp.unsigned_abs());
                (kept + rounds_up(rounding, x.sign, kept & 1 != 0, rest) as u128, rest)
            }
        }
    };
    let limit: u128 = match (unsigned, x.sign) {
        (true, false) => (1 << width) - 1,
        (true, true) => 0,
        (false, false) => (1 << (width - 1)) - 1,
        (false, true) => 1 << (width - 1),
    };
    let result = if magnitude > limit {
        env.raise(flag::IOC);
        limit
    } else {
        if rest != Rest::Zero {
            env.raise(flag::IXC);
        }
        magnitude
    };
    let value = if x.sign { (result as u64).wrapping_neg() } else { result as u64 };
    value & (u64::MAX >> (64 - width))
}

/// `FixedToFP`: the `width`-bit integer `value` (signed or not) divided by `2^fbits`,
/// rounded to `fmt`. Zero converts to +0.
pub fn from_fixed(
    fmt: Fmt,
    value: u64,
    width: u32,
    signed: bool,
    fbits: u32,
    rounding: Rounding,
    env: &mut Env,
) -> u64 {
    let value = value & (u64::MAX >> (64 - width));
    let negative = signed && value >> (width - 1) != 0;
    let magnitude = if negative { (value | !(u64::MAX >> (64 - width))).wrapping_neg() } else { value };
    if magnitude == 0 {
        return fmt.zero(false);
    }
    Exact { sign: negative, exp: -(fbits as i32), mant: magnitude as u128 }.round(fmt, rounding, env)
}

/// `FPRoundInt`: `bits` rounded to an integral value in the same format. Inexact is
/// raised only when `exact` (FRINTX); a zero result keeps the operand's sign.
pub fn round_int(fmt: Fmt, bits: u64, rounding: Rounding, exact: bool, env: &mut Env) -> u64 {
    let x = unpack(fmt, bits, env);
    match x.kind {
        Kind::QNaN | Kind::SNaN => process_nan(fmt, &x, env),
        Kind::Zero | Kind::Infinity => x.bits,
        // Already integral.
        Kind::Finite if x.exp >= 0 => x.bits,
        Kind::Finite => {
            let (kept, rest) = split(x.mant as u128, x.exp.unsigned_abs());
            let integer = kept + rounds_up(rounding, x.sign, kept & 1 != 0, rest) as u128;
            if rest != Rest::Zero && exact {
                env.raise(flag::IXC);
            }
            if integer == 0 {
                fmt.zero(x.sign)
            } else {
                // Representable, so rounding is exact and raises nothing.
                Exact { sign: x.sign, exp: 0, mant: integer }.round(fmt, Rounding::Zero, env)
            }
        }
    }
}
