//! Pairwise and across-lanes operations: ADDP, SMAXP, UMAXP, SMINP, UMINP (vector),
//! ADDP (scalar), ADDV, SMAXV, UMAXV, SMINV, UMINV, SADDLV and UADDLV.

use super::arith::{Add, Max, Min};
use super::lanes::{by_size, cpu, low_bits, Bytes, Family, Fields, Lane, Signed, Unsigned};
use super::lanewise::LaneOp;
use archway_ir::Helper;

/// A helper for a pairwise vector operation: the result's low lanes combine adjacent
/// lanes of `Vn`, its high lanes those of `Vm`.
pub const fn pairwise<O: LaneOp, F: Family>(name: &'static str) -> Helper {
    Helper { name, func: pairwise_entry::<O, F>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn pairwise_entry<O: LaneOp, F: Family>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    let s = cpu(state);
    let f = Fields::of(insn);
    let (n, m) = (s.vreg(f.n), s.vreg(f.m));
    let result = if f.q {
        let low = by_size!(f.size, F, pairs::<O>(n));
        let high = by_size!(f.size, F, pairs::<O>(m));
        low as u128 | (high as u128) << 64
    } else {
        // The halves of a 64-bit vector pair up as one 128-bit vector `Vm:Vn`.
        let joined = (n & u64::MAX as u128) | m << 64;
        by_size!(f.size, F, pairs::<O>(joined)) as u128
    };
    s.set_vreg(f.d, result);
    0
}

/// `O` over the adjacent lane pairs of `v`: a 64-bit vector of half as many lanes.
#[inline(always)]
fn pairs<T: Lane, O: LaneOp>(v: u128) -> u64 {
    let v: Bytes = v.to_le_bytes();
    let mut r: Bytes = [0; 16];
    let mut unused = false;
    for i in 0..8 / T::BYTES {
        O::lane(T::default(), T::load(&v, 2 * i), T::load(&v, 2 * i + 1), &mut unused).store(&mut r, i);
    }
    u128::from_le_bytes(r) as u64
}

pub static ADDP: Helper = pairwise::<Add, Unsigned>("ADDP");
pub static SMAXP: Helper = pairwise::<Max, Signed>("SMAXP");
pub static UMAXP: Helper = pairwise::<Max, Unsigned>("UMAXP");
pub static SMINP: Helper = pairwise::<Min, Signed>("SMINP");
pub static UMINP: Helper = pairwise::<Min, Unsigned>("UMINP");

/// ADDP (scalar): `Dd = Vn.D[0] + Vn.D[1]`.
pub static ADDP_SCALAR: Helper =
    Helper { name: "ADDP (scalar)", func: addp_scalar, reads_state: true, writes_state: true };

unsafe extern "C" fn addp_scalar(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    let s = cpu(state);
    let f = Fields::of(insn);
    let [low, high] = s.v[f.n];
    s.set_vreg(f.d, low.wrapping_add(high) as u128);
    0
}

/// How an across-lanes operation folds the lanes (values widened to `i128`).
pub trait Reduction {
    /// The result is twice as wide as the lanes (SADDLV, UADDLV).
    const LONG: bool;
    fn combine(a: i128, b: i128) -> i128;
}

/// ADDV, SADDLV, UADDLV.
pub struct Sum<const LONG: bool>;
impl<const LONG: bool> Reduction for Sum<LONG> {
    const LONG: bool = LONG;
    #[inline(always)]
    fn combine(a: i128, b: i128) -> i128 {
        a + b
    }
}

/// SMAXV, UMAXV.
pub struct Maximum;
impl Reduction for Maximum {
    const LONG: bool = false;
    #[inline(always)]
    fn combine(a: i128, b: i128) -> i128 {
        a.max(b)
    }
}

/// SMINV, UMINV.
pub struct Minimum;
impl Reduction for Minimum {
    const LONG: bool = false;
    #[inline(always)]
    fn combine(a: i128, b: i128) -> i128 {
        a.min(b)
    }
}

/// A helper that folds the lanes of `Vn` with `R` into a scalar in `Vd`.
pub const fn across<R: Reduction, F: Family>(name: &'static str) -> Helper {
    Helper { name, func: across_entry::<R, F>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn across_entry<R: Reduction, F: Family>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    let s = cpu(state);
    let f = Fields::of(insn);
    let result = by_size!(f.size, F, fold::<R>(f, s.vreg(f.n)));
    s.set_vreg(f.d, result);
    0
}

#[inline(always)]
fn fold<T: Lane, R: Reduction>(f: Fields, n: u128) -> u128 {
    let n: Bytes = n.to_le_bytes();
    let lanes = f.active_bytes(T::BYTES) / T::BYTES;
    let mut acc = T::load(&n, 0).wide();
    for i in 1..lanes {
        acc = R::combine(acc, T::load(&n, i).wide());
    }
    let width = if R::LONG { 2 * T::BITS } else { T::BITS };
    acc as u128 & low_bits(width)
}

pub static ADDV: Helper = across::<Sum<false>, Unsigned>("ADDV");
pub static SADDLV: Helper = across::<Sum<true>, Signed>("SADDLV");
pub static UADDLV: Helper = across::<Sum<true>, Unsigned>("UADDLV");
pub static SMAXV: Helper = across::<Maximum, Signed>("SMAXV");
pub static UMAXV: Helper = across::<Maximum, Unsigned>("UMAXV");
pub static SMINV: Helper = across::<Minimum, Signed>("SMINV");
pub static UMINV: Helper = across::<Minimum, Unsigned>("UMINV");
