//! The estimate instructions: `FPRecipEstimate` (FRECPE), `FPRSqrtEstimate` (FRSQRTE)
//! and `FPRecpX` (FRECPX), bit for bit as the Arm ARM defines them (8-bit estimates
//! from the `RecipEstimate`/`RecipSqrtEstimate` functions, tabulated at compile time).

use super::arith::{invalid, process_nan};
use super::env::{flag, Env, Rounding};
use super::format::{unpack, Fmt, Kind};

/// `RecipEstimate(a)` for `a` in 256..512, indexed by `a - 256`.
const RECIP_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let a = (i as u32 + 256) * 2 + 1;
        let b = (1 << 19) / a;
        table[i] = b.div_ceil(2) as u16;
        i += 1;
    }
    table
};

/// `RecipSqrtEstimate(a)` for `a` in 128..512, indexed by `a` (entries below 128 unused).
const RSQRT_TABLE: [u16; 512] = {
    let mut table = [0u16; 512];
    let mut i = 128;
    while i < 512 {
        // `a` in units of 1/512 (below 0.5) or 1/256, rounded to nearest.
        let a: u64 = if i < 256 { i * 2 + 1 } else { (((i >> 1) << 1) + 1) * 2 };
        // The smallest b >= 512 with a * (b + 1)^2 >= 2^28, by bisection (the Arm ARM
        // counts up to it).
        let (mut lo, mut hi) = (512u64, 1 << 14);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if a * (mid + 1) * (mid + 1) < 1 << 28 {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        table[i as usize] = lo.div_ceil(2) as u16;
        i += 1;
    }
    table
};

/// The fraction of `bits` widened to 52 bits, and its biased exponent.
fn fraction_and_exp(fmt: Fmt, bits: u64) -> (u64, i32) {
    ((bits & fmt.frac_mask()) << (52 - fmt.frac_bits), fmt.exp_field(bits) as i32)
}

const FRAC52: u64 = (1 << 52) - 1;

/// `FPRecipEstimate`.
pub fn recip_estimate(fmt: Fmt, bits: u64, env: &mut Env) -> u64 {
    let x = unpack(fmt, bits, env);
    let frac_bits = fmt.frac_bits;
    match x.kind {
        Kind::QNaN | Kind::SNaN => return process_nan(fmt, &x, env),
        Kind::Infinity => return fmt.zero(x.sign),
        Kind::Zero => {
            env.raise(flag::DZC);
            return fmt.infinity(x.sign);
        }
        Kind::Finite => {}
    }
    let exp_field = fmt.exp_field(bits);
    // |x| < 2^-(bias + 1): the reciprocal overflows.
    if exp_field == 0 && bits & fmt.frac_mask() < 1 << (frac_bits - 2) {
        env.raise(flag::OFC | flag::IXC);
        let to_infinity = match env.rounding() {
            Rounding::PosInf => !x.sign,
            Rounding::NegInf => x.sign,
            Rounding::Zero => false,
            _ => true,
        };
        return if to_infinity { fmt.infinity(x.sign) } else { fmt.max_normal(x.sign) };
    }
    // |x| >= 2^(bias - 1): the reciprocal is tiny and flushed under FZ.
    if env.flush_to_zero() && exp_field >= 2 * fmt.bias() as u64 - 1 {
        env.raise(flag::UFC);
        return fmt.zero(x.sign);
    }
    let (mut fraction, mut exp) = fraction_and_exp(fmt, bits);
    if exp == 0 {
        if fraction >> 51 == 0 {
            exp = -1;
            fraction = (fraction << 2) & FRAC52;
        } else {
            fraction = (fraction << 1) & FRAC52;
        }
    }
    let scaled = (fraction >> 44) as usize;
    let mut result_exp = 2 * fmt.bias() - 1 - exp;
    let estimate = RECIP_TABLE[scaled] as u64;
    let mut fraction = (estimate & 0xff) << 44;
    if result_exp == 0 {
        fraction = (1 << 51) | (fraction >> 1);
    } else if result_exp == -1 {
        fraction = (1 << 50) | (fraction >> 2);
        result_exp = 0;
    }
    fmt.zero(x.sign) | ((result_exp as u64) << frac_bits) | (fraction >> (52 - frac_bits))
}

/// `FPRSqrtEstimate`.
pub fn rsqrt_estimate(fmt: Fmt, bits: u64, env: &mut Env) -> u64 {
    let x = unpack(fmt, bits, env);
    match x.kind {
        Kind::QNaN | Kind::SNaN => return process_nan(fmt, &x, env),
        Kind::Zero => {
            env.raise(flag::DZC);
            return fmt.infinity(x.sign);
        }
        _ if x.sign => return invalid(fmt, env),
        Kind::Infinity => return fmt.zero(false),
        Kind::Finite => {}
    }
    let (mut fraction, mut exp) = fraction_and_exp(fmt, bits);
    if exp == 0 {
        while fraction >> 51 == 0 {
            fraction <<= 1;
            exp -= 1;
        }
        fraction = (fraction << 1) & FRAC52;
    }
    let scaled = if exp & 1 == 0 { 0x100 | (fraction >> 44) } else { 0x80 | (fraction >> 45) };
    let result_exp = (3 * fmt.bias() - 1 - exp) / 2;
    let estimate = RSQRT_TABLE[scaled as usize] as u64;
    ((result_exp as u64) << fmt.frac_bits) | ((estimate & 0xff) << (fmt.frac_bits - 8))
}

/// `FPRecpX`: the reciprocal exponent (sign kept, fraction zero).
pub fn recip_exponent(fmt: Fmt, bits: u64, env: &mut Env) -> u64 {
    let x = unpack(fmt, bits, env);
    if x.is_nan() {
        return process_nan(fmt, &x, env);
    }
    let exp = fmt.exp_field(bits);
    let result_exp = if exp == 0 { fmt.exp_max() - 1 } else { !exp & fmt.exp_max() };
    fmt.zero(x.sign) | (result_exp << fmt.frac_bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fp::env::flag::{DZC, IDC, IOC, IXC, OFC, UFC};

    const FZ: u32 = 1 << 24;

    fn est(f: fn(Fmt, u64, &mut Env) -> u64, fpcr: u32, bits: u64) -> (u64, u32) {
        let mut env = Env::new(fpcr);
        (f(Fmt::S, bits, &mut env), env.flags)
    }

    // Expected values from qemu-aarch64.
    #[test]
    fn reciprocal_estimates() {
        assert_eq!(est(recip_estimate, 0, 0x3f80_0000), (0x3f7f_8000, 0));
        assert_eq!(est(recip_estimate, 0, 0x4040_0000), (0x3eaa_8000, 0));
        assert_eq!(est(recip_estimate, 0, 0x3dcc_cccd), (0x4120_0000, 0));
        assert_eq!(est(recip_estimate, 0, 0x8080_0000), (0xfe7f_8000, 0));
        // Denormal operands: estimated, overflowing below 2^-128, flushed under FZ.
        assert_eq!(est(recip_estimate, 0, 0x0040_0000), (0x7eff_8000, 0));
        assert_eq!(est(recip_estimate, 0, 0x0010_0000), (0x7f80_0000, OFC | IXC));
        assert_eq!(est(recip_estimate, FZ, 0x0040_0000), (0x7f80_0000, DZC | IDC));
        // Huge operands: a denormal estimate, or zero under FZ.
        assert_eq!(est(recip_estimate, 0, 0x7f00_0000), (0x003f_e000, 0));
        assert_eq!(est(recip_estimate, FZ, 0x7f00_0000), (0, UFC));
        assert_eq!(est(recip_estimate, 0, 0x7f80_0001), (0x7fc0_0001, IOC));
    }

    #[test]
    fn reciprocal_square_root_estimates() {
        assert_eq!(est(rsqrt_estimate, 0, 0x3f80_0000), (0x3f7f_8000, 0));
        assert_eq!(est(rsqrt_estimate, 0, 0x4040_0000), (0x3f13_8000, 0));
        assert_eq!(est(rsqrt_estimate, 0, 0x3dcc_cccd), (0x404a_8000, 0));
        assert_eq!(est(rsqrt_estimate, 0, 0x0040_0000), (0x5f34_8000, 0));
        assert_eq!(est(rsqrt_estimate, 0, 0x0010_0000), (0x5fb4_8000, 0));
        assert_eq!(est(rsqrt_estimate, 0, 0x8080_0000), (0x7fc0_0000, IOC));
        assert_eq!(est(rsqrt_estimate, 0, 0x8000_0000), (0xff80_0000, DZC));
    }

    #[test]
    fn reciprocal_exponent() {
        assert_eq!(est(recip_exponent, 0, 0x4040_0000), (0x3f80_0000, 0));
        assert_eq!(est(recip_exponent, 0, 0x8000_0001), (0xff00_0000, 0));
        assert_eq!(est(recip_exponent, 0, 0xff80_0000), (0x8000_0000, 0));
    }
}
