//! Lane-by-lane integer arithmetic and comparisons: the three-same group (ADD, SUB,
//! MUL, MLA, MLS, PMUL, halving and saturating adds, compares, min/max, absolute
//! difference, SQDMULH/SQRDMULH), their scalar forms and the by-element forms.

use super::lanes::{mask_if, saturate, Signed, Unsigned};
use super::lanewise::{by_element, lane_ops, lanewise};
use archway_ir::Helper;

lane_ops! {
    /// SHADD/UHADD
    HalvingAdd(_, n, m, _) => T::wrap((n.wide() + m.wide()) >> 1);
    /// SRHADD/URHADD
    RoundingHalvingAdd(_, n, m, _) => T::wrap((n.wide() + m.wide() + 1) >> 1);
    /// SHSUB/UHSUB
    HalvingSub(_, n, m, _) => T::wrap((n.wide() - m.wide()) >> 1);
    /// SQADD/UQADD
    SaturatingAdd(_, n, m, qc) => saturate(n.wide() + m.wide(), qc);
    /// SQSUB/UQSUB
    SaturatingSub(_, n, m, qc) => saturate(n.wide() - m.wide(), qc);
    /// CMGT/CMHI
    Greater(_, n, m, _) => mask_if(n > m);
    /// CMGE/CMHS
    GreaterOrEqual(_, n, m, _) => mask_if(n >= m);
    /// CMEQ
    Equal(_, n, m, _) => mask_if(n == m);
    /// CMTST
    AnyBitsInCommon(_, n, m, _) => mask_if(n.bits() & m.bits() != 0);
    /// SMAX/UMAX (and the pairwise and across-lanes forms)
    Max(_, n, m, _) => n.max(m);
    /// SMIN/UMIN
    Min(_, n, m, _) => n.min(m);
    /// SABD/UABD
    AbsDiff(_, n, m, _) => T::wrap((n.wide() - m.wide()).abs());
    /// SABA/UABA
    AbsDiffAccumulate(d, n, m, _) => d.wrapping_add(T::wrap((n.wide() - m.wide()).abs()));
    /// ADD (and ADDP, ADDV)
    Add(_, n, m, _) => n.wrapping_add(m);
    /// SUB
    Sub(_, n, m, _) => n.wrapping_sub(m);
    /// MUL
    Mul(_, n, m, _) => n.wrapping_mul(m);
    /// MLA
    MulAdd(d, n, m, _) => d.wrapping_add(n.wrapping_mul(m));
    /// MLS
    MulSub(d, n, m, _) => d.wrapping_sub(n.wrapping_mul(m));
    /// PMUL: the low half of the carry-less product.
    PolynomialMul(_, n, m, _) => T::wrap(polynomial_mul(n.bits(), m.bits()) as i128);
    /// SQDMULH: the high half of twice the product.
    DoublingMulHigh(_, n, m, qc) => saturate(n.wide().wrapping_mul(m.wide()).wrapping_mul(2) >> T::BITS, qc);
    /// SQRDMULH: as SQDMULH, rounded.
    RoundingDoublingMulHigh(_, n, m, qc) => saturate(
        n.wide().wrapping_mul(m.wide()).wrapping_mul(2).wrapping_add(1 << (T::BITS - 1)) >> T::BITS,
        qc,
    );
}

/// Carry-less (polynomial over GF(2)) product of two 64-bit values.
pub fn polynomial_mul(a: u64, b: u64) -> u128 {
    let mut product = 0u128;
    for i in 0..64 {
        if (b >> i) & 1 != 0 {
            product ^= (a as u128) << i;
        }
    }
    product
}

pub static SHADD: Helper = lanewise::<HalvingAdd, Signed>("SHADD");
pub static UHADD: Helper = lanewise::<HalvingAdd, Unsigned>("UHADD");
pub static SRHADD: Helper = lanewise::<RoundingHalvingAdd, Signed>("SRHADD");
pub static URHADD: Helper = lanewise::<RoundingHalvingAdd, Unsigned>("URHADD");
pub static SHSUB: Helper = lanewise::<HalvingSub, Signed>("SHSUB");
pub static UHSUB: Helper = lanewise::<HalvingSub, Unsigned>("UHSUB");
pub static SQADD: Helper = lanewise::<SaturatingAdd, Signed>("SQADD");
pub static UQADD: Helper = lanewise::<SaturatingAdd, Unsigned>("UQADD");
pub static SQSUB: Helper = lanewise::<SaturatingSub, Signed>("SQSUB");
pub static UQSUB: Helper = lanewise::<SaturatingSub, Unsigned>("UQSUB");
pub static CMGT: Helper = lanewise::<Greater, Signed>("CMGT");
pub static CMHI: Helper = lanewise::<Greater, Unsigned>("CMHI");
pub static CMGE: Helper = lanewise::<GreaterOrEqual, Signed>("CMGE");
pub static CMHS: Helper = lanewise::<GreaterOrEqual, Unsigned>("CMHS");
pub static CMEQ: Helper = lanewise::<Equal, Unsigned>("CMEQ");
pub static CMTST: Helper = lanewise::<AnyBitsInCommon, Unsigned>("CMTST");
pub static SMAX: Helper = lanewise::<Max, Signed>("SMAX");
pub static UMAX: Helper = lanewise::<Max, Unsigned>("UMAX");
pub static SMIN: Helper = lanewise::<Min, Signed>("SMIN");
pub static UMIN: Helper = lanewise::<Min, Unsigned>("UMIN");
pub static SABD: Helper = lanewise::<AbsDiff, Signed>("SABD");
pub static UABD: Helper = lanewise::<AbsDiff, Unsigned>("UABD");
pub static SABA: Helper = lanewise::<AbsDiffAccumulate, Signed>("SABA");
pub static UABA: Helper = lanewise::<AbsDiffAccumulate, Unsigned>("UABA");
pub static ADD: Helper = lanewise::<Add, Unsigned>("ADD");
pub static SUB: Helper = lanewise::<Sub, Unsigned>("SUB");
pub static MUL: Helper = lanewise::<Mul, Unsigned>("MUL");
pub static MLA: Helper = lanewise::<MulAdd, Unsigned>("MLA");
pub static MLS: Helper = lanewise::<MulSub, Unsigned>("MLS");
pub static PMUL: Helper = lanewise::<PolynomialMul, Unsigned>("PMUL");
pub static SQDMULH: Helper = lanewise::<DoublingMulHigh, Signed>("SQDMULH");
pub static SQRDMULH: Helper = lanewise::<RoundingDoublingMulHigh, Signed>("SQRDMULH");

pub static MUL_ELEMENT: Helper = by_element::<Mul, Unsigned>("MUL (element)");
pub static MLA_ELEMENT: Helper = by_element::<MulAdd, Unsigned>("MLA (element)");
pub static MLS_ELEMENT: Helper = by_element::<MulSub, Unsigned>("MLS (element)");
pub static SQDMULH_ELEMENT: Helper = by_element::<DoublingMulHigh, Signed>("SQDMULH (element)");
pub static SQRDMULH_ELEMENT: Helper = by_element::<RoundingDoublingMulHigh, Signed>("SQRDMULH (element)");
