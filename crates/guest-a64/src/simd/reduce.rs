//! Pairwise and across-lanes operations: ADDP, SMAXP, UMAXP, SMINP, UMINP (vector),
//! ADDP (scalar), ADDV, SMAXV, UMAXV, SMINV, UMINV, SADDLV and UADDLV.

use super::arith::{Add, Max, Min};
use super::lanes::{by_size, cpu, get, helpers, set, Family, Fields, Lane, Signed, Unsigned};
use super::lanewise::LaneOp;
use crate::state::CpuState;
use archway_ir::Helper;

/// A helper for a pairwise vector operation: the result's low lanes combine adjacent
/// lanes of `Vn`, its high lanes those of `Vm`.
pub const fn pairwise<O: LaneOp, F: Family>(name: &'static str) -> Helper {
    Helper { name, func: pairwise_entry::<O, F>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn pairwise_entry<O: LaneOp, F: Family>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    by_size!(f.size, F, pairs::<O>(s, f));
    0
}

/// `O` over adjacent lane pairs: of `Vn` into the low half of the result, of `Vm`
/// into the high half; a 64-bit vector pairs up `Vm:Vn`'s low halves instead.
#[inline(always)]
fn pairs<T: Lane, O: LaneOp>(s: &mut CpuState, f: Fields) {
    let (n, m) = (get::<T>(s, f.n), get::<T>(s, f.m));
    let half = T::LANES / 2;
    let (low, high) = if f.q {
        (n, m)
    } else {
        let mut joined = n;
        joined.as_mut()[half..].copy_from_slice(&m.as_ref()[..half]);
        let mut zero = n;
        zero.as_mut().fill(T::default());
        (joined, zero)
    };
    let mut r = n;
    let mut unused = false;
    for i in 0..half {
        let (low, high) = (low.as_ref(), high.as_ref());
        r.as_mut()[i] = O::lane(T::default(), low[2 * i], low[2 * i + 1], &mut unused);
        r.as_mut()[half + i] = O::lane(T::default(), high[2 * i], high[2 * i + 1], &mut unused);
    }
    set::<T>(s, f.d, r);
}

pub static ADDP: Helper = pairwise::<Add, Unsigned>("ADDP");
pub static SMAXP: Helper = pairwise::<Max, Signed>("SMAXP");
pub static UMAXP: Helper = pairwise::<Max, Unsigned>("UMAXP");
pub static SMINP: Helper = pairwise::<Min, Signed>("SMINP");
pub static UMINP: Helper = pairwise::<Min, Unsigned>("UMINP");

helpers! {
    /// ADDP (scalar): `Dd = Vn.D[0] + Vn.D[1]`.
    ADDP_SCALAR = "ADDP (scalar)", fn addp_scalar(s, insn) {
        let f = Fields::of(insn as u64);
        let [low, high] = s.v[f.n];
        s.v[f.d] = [low.wrapping_add(high), 0];
    }
}

/// How an across-lanes operation folds lanes into its scalar result (zero-extended).
pub trait Reduction {
    fn fold<T: Lane>(lanes: &[T]) -> u64;
}

/// ADDV: the sum, at the lane width.
pub struct Sum;
impl Reduction for Sum {
    #[inline(always)]
    fn fold<T: Lane>(lanes: &[T]) -> u64 {
        lanes.iter().fold(T::default(), |acc, &lane| acc.wrapping_add(lane)).bits()
    }
}

/// SADDLV, UADDLV: the sum at twice the lane width (B, H, S lanes).
pub struct LongSum;
impl Reduction for LongSum {
    #[inline(always)]
    fn fold<T: Lane>(lanes: &[T]) -> u64 {
        let sum = lanes.iter().fold(0u64, |acc, lane| acc.wrapping_add(lane.extend()));
        sum & (u64::MAX >> (64 - (2 * T::BITS).min(64)))
    }
}

/// SMAXV, UMAXV.
pub struct Maximum;
impl Reduction for Maximum {
    #[inline(always)]
    fn fold<T: Lane>(lanes: &[T]) -> u64 {
        lanes.iter().copied().max().unwrap_or_default().bits()
    }
}

/// SMINV, UMINV.
pub struct Minimum;
impl Reduction for Minimum {
    #[inline(always)]
    fn fold<T: Lane>(lanes: &[T]) -> u64 {
        lanes.iter().copied().min().unwrap_or_default().bits()
    }
}

/// A helper that folds the lanes of `Vn` with `R` into a scalar in `Vd`.
pub const fn across<R: Reduction, F: Family>(name: &'static str) -> Helper {
    Helper { name, func: across_entry::<R, F>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn across_entry<R: Reduction, F: Family>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    let result = by_size!(f.size, F, fold::<R>(s, f));
    s.v[f.d] = [result, 0];
    0
}

#[inline(always)]
fn fold<T: Lane, R: Reduction>(s: &CpuState, f: Fields) -> u64 {
    let n = get::<T>(s, f.n);
    if f.q {
        R::fold(n.as_ref())
    } else {
        R::fold(&n.as_ref()[..T::LANES / 2])
    }
}

pub static ADDV: Helper = across::<Sum, Unsigned>("ADDV");
pub static SADDLV: Helper = across::<LongSum, Signed>("SADDLV");
pub static UADDLV: Helper = across::<LongSum, Unsigned>("UADDLV");
pub static SMAXV: Helper = across::<Maximum, Signed>("SMAXV");
pub static UMAXV: Helper = across::<Maximum, Unsigned>("UMAXV");
pub static SMINV: Helper = across::<Minimum, Signed>("SMINV");
pub static UMINV: Helper = across::<Minimum, Unsigned>("UMINV");
