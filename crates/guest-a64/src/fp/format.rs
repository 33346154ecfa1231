//! IEEE binary16/32/64 encodings as AArch64 uses them, and `FPUnpack`.
//!
//! Values travel as raw bits in a `u64` (the low `width` bits). [`unpack`] classifies
//! an operand the way the Arm ARM's `FPUnpack` does, flushing input denormals when
//! FPCR.FZ says so and reading half precision as FPCR.AHP says.

use super::env::{flag, Env};

/// A floating-point format: exponent and fraction widths.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fmt {
    pub exp_bits: u32,
    pub frac_bits: u32,
}

impl Fmt {
    /// Half precision.
    pub const H: Fmt = Fmt { exp_bits: 5, frac_bits: 10 };
    /// Single precision.
    pub const S: Fmt = Fmt { exp_bits: 8, frac_bits: 23 };
    /// Double precision.
    pub const D: Fmt = Fmt { exp_bits: 11, frac_bits: 52 };

    /// Total width in bits.
    pub const fn width(self) -> u32 {
        1 + self.exp_bits + self.frac_bits
    }

    /// Mask of the bits a value occupies.
    pub const fn mask(self) -> u64 {
        u64::MAX >> (64 - self.width())
    }

    pub const fn sign_bit(self) -> u64 {
        1 << (self.width() - 1)
    }

    pub const fn frac_mask(self) -> u64 {
        (1 << self.frac_bits) - 1
    }

    /// The all-ones exponent field value.
    pub const fn exp_max(self) -> u64 {
        (1 << self.exp_bits) - 1
    }

    pub const fn bias(self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }

    /// The quiet bit of a NaN (top fraction bit).
    pub const fn quiet_bit(self) -> u64 {
        1 << (self.frac_bits - 1)
    }

    /// Biased exponent field of `bits`.
    pub const fn exp_field(self, bits: u64) -> u64 {
        (bits >> self.frac_bits) & self.exp_max()
    }

    /// `bits` with the sign cleared.
    pub const fn magnitude(self, bits: u64) -> u64 {
        bits & (self.mask() >> 1)
    }

    pub const fn is_negative(self, bits: u64) -> bool {
        bits & self.sign_bit() != 0
    }

    /// A NaN of either kind (IEEE view: ignores FPCR.AHP).
    pub const fn is_nan(self, bits: u64) -> bool {
        self.magnitude(bits) > self.exp_max() << self.frac_bits
    }

    pub const fn is_quiet_nan(self, bits: u64) -> bool {
        self.is_nan(bits) && bits & self.quiet_bit() != 0
    }

    const fn signed(self, sign: bool, magnitude: u64) -> u64 {
        if sign {
            self.sign_bit() | magnitude
        } else {
            magnitude
        }
    }

    /// `FPDefaultNaN`: positive, quiet, empty payload.
    pub const fn default_nan(self) -> u64 {
        (self.exp_max() << self.frac_bits) | self.quiet_bit()
    }

    pub const fn infinity(self, sign: bool) -> u64 {
        self.signed(sign, self.exp_max() << self.frac_bits)
    }

    pub const fn zero(self, sign: bool) -> u64 {
        self.signed(sign, 0)
    }

    pub const fn max_normal(self, sign: bool) -> u64 {
        self.signed(sign, ((self.exp_max() - 1) << self.frac_bits) | self.frac_mask())
    }

    /// The smallest normal magnitude.
    pub const fn min_normal(self) -> u64 {
        1 << self.frac_bits
    }

    /// `2^exp` with `sign` (`exp` must be in the normal range): `FPTwo`, `FPOnePointFive`...
    pub const fn power_of_two(self, sign: bool, exp: i32, frac: u64) -> u64 {
        self.signed(sign, (((exp + self.bias()) as u64) << self.frac_bits) | frac)
    }

    /// A canonical one, the padding of unused host lanes.
    pub const fn one(self) -> u64 {
        self.power_of_two(false, 0, 0)
    }
}

/// What kind of value an operand is (`FPType`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Zero,
    /// Normal or denormal: the value is `mant * 2^exp`.
    Finite,
    Infinity,
    QNaN,
    SNaN,
}

/// An unpacked operand.
#[derive(Clone, Copy, Debug)]
pub struct Unpacked {
    pub kind: Kind,
    pub sign: bool,
    /// For [`Kind::Finite`], the value is `mant * 2^exp`; zero otherwise.
    pub exp: i32,
    pub mant: u64,
    /// The operand's bits, with a flushed input denormal replaced by a signed zero.
    pub bits: u64,
}

impl Unpacked {
    pub const fn is_nan(&self) -> bool {
        matches!(self.kind, Kind::QNaN | Kind::SNaN)
    }

    pub const fn is_zero(&self) -> bool {
        matches!(self.kind, Kind::Zero)
    }

    pub const fn is_infinity(&self) -> bool {
        matches!(self.kind, Kind::Infinity)
    }
}

/// `FPUnpack`: classify `bits`. Single and double denormals are flushed to zero (raising
/// IDC) under FPCR.FZ; half precision is never flushed (FPCR.FZ16 is not implemented,
/// and conversions ignore it anyway) and has no infinities or NaNs under FPCR.AHP.
#[inline]
pub fn unpack(fmt: Fmt, bits: u64, env: &mut Env) -> Unpacked {
    let bits = bits & fmt.mask();
    let sign = fmt.is_negative(bits);
    let exp = fmt.exp_field(bits);
    let frac = bits & fmt.frac_mask();
    let special = |kind| Unpacked { kind, sign, exp: 0, mant: 0, bits };
    let min_exp = 1 - fmt.bias() - fmt.frac_bits as i32;
    if exp == 0 {
        if frac == 0 {
            special(Kind::Zero)
        } else if env.flush_to_zero() && fmt != Fmt::H {
            env.raise(flag::IDC);
            Unpacked { bits: fmt.zero(sign), ..special(Kind::Zero) }
        } else {
            Unpacked { kind: Kind::Finite, sign, exp: min_exp, mant: frac, bits }
        }
    } else if exp == fmt.exp_max() && !(fmt == Fmt::H && env.alt_half()) {
        if frac == 0 {
            special(Kind::Infinity)
        } else if frac & fmt.quiet_bit() != 0 {
            special(Kind::QNaN)
        } else {
            special(Kind::SNaN)
        }
    } else {
        let mant = frac | (1 << fmt.frac_bits);
        Unpacked { kind: Kind::Finite, sign, exp: min_exp + exp as i32 - 1, mant, bits }
    }
}
