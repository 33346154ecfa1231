//! Lane-by-lane operations of one register (the two-register miscellaneous group):
//! ABS, NEG, SQABS, SQNEG, compares against zero, CLS, CLZ, and the saturating
//! accumulates SUQADD/USQADD, vector and scalar; and the unsigned fixed-point
//! estimates URECPE and URSQRTE (32-bit lanes).

use super::lanes::{clear_from, get, helpers, mask_if, saturate, set, signed, Fields, Signed, Unsigned};
use super::lanewise::{lane_ops, lanewise};
use crate::state::CpuState;
use archway_ir::Helper;

lane_ops! {
    /// ABS
    Abs(_, n, _, _) => T::wrap(n.wide().abs());
    /// NEG
    Neg(_, n, _, _) => T::wrap(-n.wide());
    /// SQABS
    SaturatingAbs(_, n, _, qc) => saturate(n.wide().abs(), qc);
    /// SQNEG
    SaturatingNeg(_, n, _, qc) => saturate(-n.wide(), qc);
    /// CMGT #0
    GreaterThanZero(_, n, _, _) => mask_if(n.wide() > 0);
    /// CMGE #0
    GreaterOrEqualZero(_, n, _, _) => mask_if(n.wide() >= 0);
    /// CMEQ #0
    EqualZero(_, n, _, _) => mask_if(n.wide() == 0);
    /// CMLE #0
    LessOrEqualZero(_, n, _, _) => mask_if(n.wide() <= 0);
    /// CMLT #0
    LessThanZero(_, n, _, _) => mask_if(n.wide() < 0);
    /// CLZ
    CountLeadingZeros(_, n, _, _) => T::wrap((n.bits().leading_zeros() - (64 - T::BITS)) as i128);
    /// CLS: leading bits equal to the sign bit, not counting it.
    CountLeadingSignBits(_, n, _, _) => {
        let value = n.wide();
        let changes = ((value ^ (value >> 1)) as u64) << (64 - T::BITS);
        T::wrap(changes.leading_zeros().min(T::BITS) as i128 - 1)
    };
    /// SUQADD: an unsigned value added to a signed accumulator, signed saturation.
    SignedAccumulateUnsigned(d, n, _, qc) => saturate(d.wide() + n.bits() as i128, qc);
    /// USQADD: a signed value added to an unsigned accumulator, unsigned saturation.
    UnsignedAccumulateSigned(d, n, _, qc) => saturate(d.wide() + signed(n.bits(), T::BITS), qc);
}

pub static ABS: Helper = lanewise::<Abs, Signed>("ABS");
pub static NEG: Helper = lanewise::<Neg, Signed>("NEG");
pub static SQABS: Helper = lanewise::<SaturatingAbs, Signed>("SQABS");
pub static SQNEG: Helper = lanewise::<SaturatingNeg, Signed>("SQNEG");
pub static CMGT_ZERO: Helper = lanewise::<GreaterThanZero, Signed>("CMGT (zero)");
pub static CMGE_ZERO: Helper = lanewise::<GreaterOrEqualZero, Signed>("CMGE (zero)");
pub static CMEQ_ZERO: Helper = lanewise::<EqualZero, Signed>("CMEQ (zero)");
pub static CMLE_ZERO: Helper = lanewise::<LessOrEqualZero, Signed>("CMLE (zero)");
pub static CMLT_ZERO: Helper = lanewise::<LessThanZero, Signed>("CMLT (zero)");
pub static CLZ: Helper = lanewise::<CountLeadingZeros, Unsigned>("CLZ");
pub static CLS: Helper = lanewise::<CountLeadingSignBits, Signed>("CLS");
pub static SUQADD: Helper = lanewise::<SignedAccumulateUnsigned, Signed>("SUQADD");
pub static USQADD: Helper = lanewise::<UnsignedAccumulateSigned, Unsigned>("USQADD");

/// `Vd` = the 32-bit lanes of `Vn` (active ones only) mapped through `op`.
fn map_words(s: &mut CpuState, f: Fields, op: fn(u32) -> u32) {
    let mut r = get::<u32>(s, f.n);
    for lane in &mut r {
        *lane = op(*lane);
    }
    set::<u32>(s, f.d, r);
    clear_from(s, f.d, f.active_bytes(4));
}

/// URECPE of one lane: a 9-bit estimate of 1/x for x a fraction in [0.5, 1).
fn unsigned_reciprocal_estimate(x: u32) -> u32 {
    if x >> 31 == 0 {
        return u32::MAX;
    }
    // x's top nine bits as a in [256, 512): the estimate rounds 2^19 / (2a + 1).
    let a = x >> 23;
    let b = (1 << 19) / (2 * a + 1);
    b.div_ceil(2) << 23
}

/// URSQRTE of one lane: a 9-bit estimate of 1/sqrt(x) for x a fraction in [0.25, 1).
fn unsigned_reciprocal_sqrt_estimate(x: u32) -> u32 {
    if x >> 30 == 0 {
        return u32::MAX;
    }
    let a = (x >> 23) as u64;
    // Scale a (in [128, 512)) to an odd-rounded value in [256, 1024) units of 2^-10.
    let a = if a < 256 { 2 * a + 1 } else { ((a >> 1) << 1) * 2 + 2 };
    // The largest b with a * b^2 < 2^28, as hardware computes it.
    let mut b = 512u64;
    while a * (b + 1) * (b + 1) < 1 << 28 {
        b += 1;
    }
    (b.div_ceil(2) as u32) << 23
}

helpers! {
    /// URECPE (vector, 32-bit lanes).
    URECPE = "URECPE", fn urecpe(s, insn) {
        let f = Fields::of(insn as u64);
        map_words(s, f, unsigned_reciprocal_estimate);
    }

    /// URSQRTE (vector, 32-bit lanes).
    URSQRTE = "URSQRTE", fn ursqrte(s, insn) {
        let f = Fields::of(insn as u64);
        map_words(s, f, unsigned_reciprocal_sqrt_estimate);
    }
}
