//! `FPRoundBase`: rounding an exact real result to a format, with the AArch64 rules
//! for flush-to-zero, underflow (tininess is detected *before* rounding), overflow,
//! round-to-odd and the alternative half-precision format.

use super::env::{flag, Env, Rounding};
use super::format::Fmt;

/// What the bits a rounding drops amount to, compared with half a unit in the last
/// place that is kept.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Rest {
    Zero,
    BelowHalf,
    Half,
    AboveHalf,
}

/// Split `mant` into its part above the low `k` bits and what those bits amount to.
#[inline]
pub fn split(mant: u128, k: u32) -> (u128, Rest) {
    if k == 0 {
        return (mant, Rest::Zero);
    }
    if k > 128 {
        return (0, if mant == 0 { Rest::Zero } else { Rest::BelowHalf });
    }
    let half = 1u128 << (k - 1);
    let (kept, dropped) = if k == 128 { (0, mant) } else { (mant >> k, mant & ((half << 1) - 1)) };
    let rest = if dropped == 0 {
        Rest::Zero
    } else {
        match dropped.cmp(&half) {
            core::cmp::Ordering::Less => Rest::BelowHalf,
            core::cmp::Ordering::Equal => Rest::Half,
            core::cmp::Ordering::Greater => Rest::AboveHalf,
        }
    };
    (kept, rest)
}

/// Whether a magnitude whose kept part is `odd` (lowest bit) and whose dropped part is
/// `rest` is rounded up (away from zero) under `rounding`, for a result of sign `negative`.
#[inline]
pub fn rounds_up(rounding: Rounding, negative: bool, odd: bool, rest: Rest) -> bool {
    match rounding {
        Rounding::TieEven => rest == Rest::AboveHalf || (rest == Rest::Half && odd),
        Rounding::TieAway => rest >= Rest::Half,
        Rounding::PosInf => rest != Rest::Zero && !negative,
        Rounding::NegInf => rest != Rest::Zero && negative,
        Rounding::Zero | Rounding::Odd => false,
    }
}

/// Round the exact nonzero value `(-1)^sign * mant * 2^exp` to `fmt` (`FPRoundBase`).
///
/// Bit 0 of `mant` may stand for a nonzero remainder below it (a "sticky" bit) as
/// long as `mant` then has at least `frac_bits + 3` significant bits, so the rounding
/// point lies two or more bits above it.
pub fn round(fmt: Fmt, sign: bool, exp: i32, mant: u128, rounding: Rounding, env: &mut Env) -> u64 {
    debug_assert!(mant != 0);
    let frac_bits = fmt.frac_bits as i32;
    let min_exp = 1 - fmt.bias();
    // The value lies in [2^top, 2^(top+1)).
    let top = exp + 127 - mant.leading_zeros() as i32;
    if top < min_exp && env.flush_to_zero() && fmt != Fmt::H {
        env.raise(flag::UFC);
        return fmt.zero(sign);
    }
    // Weight of the result's last place, and how many bits of `mant` lie below it.
    let ulp = top.max(min_exp) - frac_bits;
    let (mut int_mant, rest) = if ulp <= exp {
        ((mant << (exp - ulp)) as u64, Rest::Zero)
    } else {
        let (kept, rest) = split(mant, (ulp - exp) as u32);
        (kept as u64, rest)
    };
    let mut biased_exp = (top + fmt.bias()).max(0);
    let inexact = rest != Rest::Zero;
    if biased_exp == 0 && inexact {
        env.raise(flag::UFC);
    }
    if rounds_up(rounding, sign, int_mant & 1 != 0, rest) {
        int_mant += 1;
        if int_mant == 1 << frac_bits {
            // A denormal rounded up to the smallest normal.
            biased_exp = 1;
        }
        if int_mant == 2 << frac_bits {
            biased_exp += 1;
            int_mant >>= 1;
        }
    }
    if inexact && rounding == Rounding::Odd {
        int_mant |= 1;
    }
    let sign_bits = fmt.zero(sign);
    if fmt == Fmt::H && env.alt_half() {
        if biased_exp > fmt.exp_max() as i32 {
            env.raise(flag::IOC);
            return sign_bits | (fmt.mask() >> 1);
        }
    } else if biased_exp >= fmt.exp_max() as i32 {
        env.raise(flag::OFC | flag::IXC);
        let to_infinity = match rounding {
            Rounding::TieEven | Rounding::TieAway => true,
            Rounding::PosInf => !sign,
            Rounding::NegInf => sign,
            Rounding::Zero | Rounding::Odd => false,
        };
        return if to_infinity { fmt.infinity(sign) } else { fmt.max_normal(sign) };
    }
    if inexact {
        env.raise(flag::IXC);
    }
    sign_bits | ((biased_exp as u64) << frac_bits) | (int_mant & fmt.frac_mask())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_s(exp: i32, mant: u128, rounding: Rounding, fpcr: u32) -> (u64, u32) {
        let mut env = Env::new(fpcr);
        let r = round(Fmt::S, false, exp, mant, rounding, &mut env);
        (r, env.flags)
    }

    #[test]
    fn exact_values_keep_their_bits() {
        assert_eq!(round_s(0, 1, Rounding::TieEven, 0), (0x3f80_0000, 0));
        assert_eq!(round_s(-149, 1, Rounding::TieEven, 0), (1, 0)); // smallest denormal, exact
    }

    #[test]
    fn ties_and_directed_modes() {
        // 1 + 2^-24 is halfway between 1 and the next single.
        let (e, m) = (-24, (1u128 << 24) + 1);
        assert_eq!(round_s(e, m, Rounding::TieEven, 0), (0x3f80_0000, flag::IXC));
        assert_eq!(round_s(e, m, Rounding::TieAway, 0), (0x3f80_0001, flag::IXC));
        assert_eq!(round_s(e, m, Rounding::PosInf, 0), (0x3f80_0001, flag::IXC));
        assert_eq!(round_s(e, m, Rounding::Zero, 0), (0x3f80_0000, flag::IXC));
        assert_eq!(round_s(e, m, Rounding::Odd, 0), (0x3f80_0001, flag::IXC));
    }

    #[test]
    fn tininess_is_detected_before_rounding() {
        // Just below the smallest normal, rounding up to it: still underflow.
        let (e, m) = (-126 - 25, (1u128 << 25) - 1);
        assert_eq!(round_s(e, m, Rounding::TieEven, 0), (0x0080_0000, flag::UFC | flag::IXC));
        // With FZ it is flushed, and only UFC is raised.
        assert_eq!(round_s(e, m, Rounding::TieEven, 1 << 24), (0, flag::UFC));
    }

    #[test]
    fn overflow_respects_the_rounding_direction() {
        assert_eq!(round_s(128, 1, Rounding::TieEven, 0), (0x7f80_0000, flag::OFC | flag::IXC));
        assert_eq!(round_s(128, 1, Rounding::Zero, 0), (0x7f7f_ffff, flag::OFC | flag::IXC));
    }
}
