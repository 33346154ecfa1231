//! Operations whose result lanes are wider or narrower than their sources.
//!
//! - Long (three different): `Vd.2T[i] = op(Vd, Vn.T[i], Vm.T[i])` from the low half
//!   of the sources, or the high half for the `2` forms (Q set): SADDL, UADDW,
//!   SABAL, SMLAL, SMULL, SQDMLAL, PMULL... and their by-element forms.
//! - Pairwise long: SADDLP, UADDLP, SADALP, UADALP.
//! - Widening shifts: SSHLL, USHLL (so SXTL, UXTL) and SHLL.
//! - Narrowing: XTN, SQXTN, UQXTN, SQXTUN and the shift-right-narrow family (SHRN,
//!   RSHRN, SQSHRN, UQSHRN, SQRSHRN, UQRSHRN, SQSHRUN, SQRSHRUN), and the high-half
//!   narrowing adds ADDHN, RADDHN, SUBHN, RSUBHN. A narrow result fills the low half
//!   of `Vd` (upper half zeroed) or, for the `2` forms, the high half (low half kept).

use super::arith::polynomial_mul;
use super::lanes::{
    bit, broadcast, clear_from, cpu, from_halves, get, halves, record_qc, saturate_to, set, signed, unsigned_max,
    Family, Fields, Lane, Signed, Unsigned,
};
use super::lanewise::indexed_element;
use super::shift::{immediate, immediate_size};
use crate::state::CpuState;
use archway_ir::Helper;

/// What one lane of a long operation computes, on values widened to `i128` (`d` is
/// the wide destination lane, `n` and `m` the source lanes); `wide_bits` is the
/// result lane width, for saturation.
pub trait LongOp {
    /// `Vn` has wide lanes (the `W` forms: SADDW, UADDW, SSUBW, USUBW).
    const WIDE_N: bool = false;
    fn lane(d: i128, n: i128, m: i128, wide_bits: u32, qc: &mut bool) -> i128;
}

macro_rules! long_ops {
    ($($(#[$doc:meta])* $name:ident $(, wide $wide:literal)? ($d:pat, $n:pat, $m:pat, $bits:pat, $qc:pat) => $body:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl LongOp for $name {
            $(const WIDE_N: bool = $wide;)?
            #[inline(always)]
            fn lane($d: i128, $n: i128, $m: i128, $bits: u32, $qc: &mut bool) -> i128 {
                $body
            }
        }
    )*};
}

/// `x` saturated to the signed range of `bits` bits.
#[inline(always)]
fn saturate_signed(x: i128, bits: u32, qc: &mut bool) -> i128 {
    let max = (1i128 << (bits - 1)) - 1;
    let clamped = x.clamp(-max - 1, max);
    *qc |= clamped != x;
    clamped
}

long_ops! {
    /// SADDL/UADDL
    AddLong(_, n, m, _, _) => n + m;
    /// SADDW/UADDW
    AddWide, wide true(_, n, m, _, _) => n + m;
    /// SSUBL/USUBL
    SubLong(_, n, m, _, _) => n - m;
    /// SSUBW/USUBW
    SubWide, wide true(_, n, m, _, _) => n - m;
    /// SABDL/UABDL
    AbsDiffLong(_, n, m, _, _) => (n - m).abs();
    /// SABAL/UABAL
    AbsDiffAccumulateLong(d, n, m, _, _) => d + (n - m).abs();
    /// SMULL/UMULL
    MulLong(_, n, m, _, _) => n * m;
    /// SMLAL/UMLAL
    MulAddLong(d, n, m, _, _) => d + n * m;
    /// SMLSL/UMLSL
    MulSubLong(d, n, m, _, _) => d - n * m;
    /// SQDMULL
    DoublingMulLong(_, n, m, bits, qc) => saturate_signed(2 * n * m, bits, qc);
    /// SQDMLAL: the doubled product saturates, then the sum.
    DoublingMulAddLong(d, n, m, bits, qc) => {
        let product = saturate_signed(2 * n * m, bits, qc);
        saturate_signed(d + product, bits, qc)
    };
    /// SQDMLSL
    DoublingMulSubLong(d, n, m, bits, qc) => {
        let product = saturate_signed(2 * n * m, bits, qc);
        saturate_signed(d - product, bits, qc)
    };
    /// PMULL (8-bit lanes)
    PolynomialMulLong(_, n, m, _, _) => polynomial_mul(n as u64, m as u64) as i128;
}

/// A helper for the long operation `O` on `Vd`, `Vn`, `Vm` with source lanes of `F`.
pub const fn long<O: LongOp, F: Family>(name: &'static str) -> Helper {
    Helper { name, func: long_entry::<O, F, false>, reads_state: true, writes_state: true }
}

/// The by-element form of a long operation: `Vm` is one element of the register.
pub const fn long_by_element<O: LongOp, F: Family>(name: &'static str) -> Helper {
    Helper { name, func: long_entry::<O, F, true>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn long_entry<O: LongOp, F: Family, const BY_ELEMENT: bool>(
    state: *mut u8,
    insn: u64,
    _: u64,
    _: u64,
    _: u64,
) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    let element = if BY_ELEMENT { Some(indexed_element(insn as u32)) } else { None };
    match f.size {
        0 => long_lanes::<F::B, F::H, O>(s, f, element),
        1 => long_lanes::<F::H, F::S, O>(s, f, element),
        _ => long_lanes::<F::S, F::D, O>(s, f, element),
    }
    0
}

/// The source half of a long or widening operation as the low half of a vector:
/// the high half of V`n` for the vector `2` forms, else its low half.
#[inline(always)]
fn source_half<T: Lane>(s: &CpuState, f: Fields, n: usize) -> T::Vector {
    let [low, high] = s.v[n];
    from_halves::<T>([if f.q && !f.scalar { high } else { low }, 0])
}

/// `Vd.W[i] = O(Vd.W[i], Vn[i], Vm[i])` over the source half; `Vm` is one element
/// everywhere when `element` gives its register and index.
#[inline(always)]
fn long_lanes<T: Lane, W: Lane, O: LongOp>(s: &mut CpuState, f: Fields, element: Option<(usize, usize)>) {
    // A scalar reads lane 0 of each source and writes one wide lane.
    let active = if f.scalar { 1 } else { W::LANES };
    let m = match element {
        // A broadcast element is the same in either half.
        Some((m, index)) => broadcast::<T>(s, m, index),
        None => source_half::<T>(s, f, f.m),
    };
    let (d, n_narrow, n_wide) = (get::<W>(s, f.d), source_half::<T>(s, f, f.n), get::<W>(s, f.n));
    let mut r = d;
    let mut saturated = false;
    for (i, lane) in r.as_mut().iter_mut().enumerate() {
        let n = if O::WIDE_N { n_wide.as_ref()[i].wide() } else { n_narrow.as_ref()[i].wide() };
        let mut lane_saturated = false;
        let value = O::lane(d.as_ref()[i].wide(), n, m.as_ref()[i].wide(), W::BITS, &mut lane_saturated);
        saturated |= lane_saturated && i < active;
        *lane = W::wrap(value);
    }
    set::<W>(s, f.d, r);
    clear_from(s, f.d, active * W::BYTES);
    record_qc(s, saturated);
}

pub static SADDL: Helper = long::<AddLong, Signed>("SADDL");
pub static UADDL: Helper = long::<AddLong, Unsigned>("UADDL");
pub static SADDW: Helper = long::<AddWide, Signed>("SADDW");
pub static UADDW: Helper = long::<AddWide, Unsigned>("UADDW");
pub static SSUBL: Helper = long::<SubLong, Signed>("SSUBL");
pub static USUBL: Helper = long::<SubLong, Unsigned>("USUBL");
pub static SSUBW: Helper = long::<SubWide, Signed>("SSUBW");
pub static USUBW: Helper = long::<SubWide, Unsigned>("USUBW");
pub static SABDL: Helper = long::<AbsDiffLong, Signed>("SABDL");
pub static UABDL: Helper = long::<AbsDiffLong, Unsigned>("UABDL");
pub static SABAL: Helper = long::<AbsDiffAccumulateLong, Signed>("SABAL");
pub static UABAL: Helper = long::<AbsDiffAccumulateLong, Unsigned>("UABAL");
pub static SMULL: Helper = long::<MulLong, Signed>("SMULL");
pub static UMULL: Helper = long::<MulLong, Unsigned>("UMULL");
pub static SMLAL: Helper = long::<MulAddLong, Signed>("SMLAL");
pub static UMLAL: Helper = long::<MulAddLong, Unsigned>("UMLAL");
pub static SMLSL: Helper = long::<MulSubLong, Signed>("SMLSL");
pub static UMLSL: Helper = long::<MulSubLong, Unsigned>("UMLSL");
pub static SQDMULL: Helper = long::<DoublingMulLong, Signed>("SQDMULL");
pub static SQDMLAL: Helper = long::<DoublingMulAddLong, Signed>("SQDMLAL");
pub static SQDMLSL: Helper = long::<DoublingMulSubLong, Signed>("SQDMLSL");
pub static PMULL: Helper = long::<PolynomialMulLong, Unsigned>("PMULL");

pub static SMULL_ELEMENT: Helper = long_by_element::<MulLong, Signed>("SMULL (element)");
pub static UMULL_ELEMENT: Helper = long_by_element::<MulLong, Unsigned>("UMULL (element)");
pub static SMLAL_ELEMENT: Helper = long_by_element::<MulAddLong, Signed>("SMLAL (element)");
pub static UMLAL_ELEMENT: Helper = long_by_element::<MulAddLong, Unsigned>("UMLAL (element)");
pub static SMLSL_ELEMENT: Helper = long_by_element::<MulSubLong, Signed>("SMLSL (element)");
pub static UMLSL_ELEMENT: Helper = long_by_element::<MulSubLong, Unsigned>("UMLSL (element)");
pub static SQDMULL_ELEMENT: Helper = long_by_element::<DoublingMulLong, Signed>("SQDMULL (element)");
pub static SQDMLAL_ELEMENT: Helper = long_by_element::<DoublingMulAddLong, Signed>("SQDMLAL (element)");
pub static SQDMLSL_ELEMENT: Helper = long_by_element::<DoublingMulSubLong, Signed>("SQDMLSL (element)");

/// A helper adding adjacent lane pairs of `Vn` into lanes twice as wide (plus `Vd`'s
/// lanes when `ACCUMULATE`): SADDLP, UADDLP, SADALP, UADALP.
pub const fn pairwise_long<F: Family, const ACCUMULATE: bool>(name: &'static str) -> Helper {
    Helper { name, func: pairwise_long_entry::<F, ACCUMULATE>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn pairwise_long_entry<F: Family, const ACCUMULATE: bool>(
    state: *mut u8,
    insn: u64,
    _: u64,
    _: u64,
    _: u64,
) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    match f.size {
        0 => pairwise_long_lanes::<F::B, F::H, ACCUMULATE>(s, f),
        1 => pairwise_long_lanes::<F::H, F::S, ACCUMULATE>(s, f),
        _ => pairwise_long_lanes::<F::S, F::D, ACCUMULATE>(s, f),
    }
    0
}

#[inline(always)]
fn pairwise_long_lanes<T: Lane, W: Lane, const ACCUMULATE: bool>(s: &mut CpuState, f: Fields) {
    let (d, n) = (get::<W>(s, f.d), get::<T>(s, f.n));
    let mut r = d;
    for (i, lane) in r.as_mut().iter_mut().enumerate() {
        let sum = n.as_ref()[2 * i].wide() + n.as_ref()[2 * i + 1].wide();
        let acc = if ACCUMULATE { d.as_ref()[i].wide() } else { 0 };
        *lane = W::wrap(acc + sum);
    }
    set::<W>(s, f.d, r);
    clear_from(s, f.d, f.active_bytes(16));
}

pub static SADDLP: Helper = pairwise_long::<Signed, false>("SADDLP");
pub static UADDLP: Helper = pairwise_long::<Unsigned, false>("UADDLP");
pub static SADALP: Helper = pairwise_long::<Signed, true>("SADALP");
pub static UADALP: Helper = pairwise_long::<Unsigned, true>("UADALP");

/// Whether an Advanced SIMD data-processing word is in the shift-by-immediate class
/// (bit 24 set) rather than the two-register miscellaneous class.
#[inline(always)]
fn is_shift_by_immediate(insn: u32) -> bool {
    bit(insn, 24)
}

/// A helper widening the lanes of one half of `Vn` (lanes of `F`) and shifting them
/// left: by `immh:immb - esize` for SSHLL/USHLL, by the element size for SHLL.
pub const fn widen<F: Family>(name: &'static str) -> Helper {
    Helper { name, func: widen_entry::<F>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn widen_entry<F: Family>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    let word = insn as u32;
    let (size, shift) = if is_shift_by_immediate(word) {
        let size = immediate_size(word);
        (size, immediate(word).wrapping_sub(8 << size) & 63)
    } else {
        (f.size, 8 << f.size)
    };
    match size {
        0 => widen_lanes::<F::B, F::H>(s, f, shift),
        1 => widen_lanes::<F::H, F::S>(s, f, shift),
        _ => widen_lanes::<F::S, F::D>(s, f, shift),
    }
    0
}

#[inline(always)]
fn widen_lanes<T: Lane, W: Lane>(s: &mut CpuState, f: Fields, shift: u32) {
    let n = source_half::<T>(s, f, f.n);
    let mut r = get::<W>(s, f.d);
    for (i, lane) in r.as_mut().iter_mut().enumerate() {
        *lane = W::truncate(n.as_ref()[i].extend() << shift);
    }
    set::<W>(s, f.d, r);
}

pub static SSHLL: Helper = widen::<Signed>("SSHLL");
pub static USHLL: Helper = widen::<Unsigned>("USHLL");
pub static SHLL: Helper = widen::<Unsigned>("SHLL");

/// How a narrowing operation reads its wide source lanes and writes its results.
pub trait Narrowing {
    const SOURCE_SIGNED: bool;
    const RESULT_SIGNED: bool;
    /// Saturate to the result range (else keep the low bits).
    const SATURATE: bool;
    /// Round the right shift to nearest.
    const ROUND: bool;
}

/// A [`Narrowing`] given by its four properties.
pub struct Narrow<const SOURCE_SIGNED: bool, const RESULT_SIGNED: bool, const SATURATE: bool, const ROUND: bool>;

impl<const SOURCE_SIGNED: bool, const RESULT_SIGNED: bool, const SATURATE: bool, const ROUND: bool> Narrowing
    for Narrow<SOURCE_SIGNED, RESULT_SIGNED, SATURATE, ROUND>
{
    const SOURCE_SIGNED: bool = SOURCE_SIGNED;
    const RESULT_SIGNED: bool = RESULT_SIGNED;
    const SATURATE: bool = SATURATE;
    const ROUND: bool = ROUND;
}

/// XTN, SHRN
type Truncate = Narrow<false, false, false, false>;
/// RSHRN
type RoundTruncate = Narrow<false, false, false, true>;
/// SQXTN, SQSHRN
type SignedSaturate = Narrow<true, true, true, false>;
/// SQRSHRN
type SignedRoundSaturate = Narrow<true, true, true, true>;
/// UQXTN, UQSHRN
type UnsignedSaturate = Narrow<false, false, true, false>;
/// UQRSHRN
type UnsignedRoundSaturate = Narrow<false, false, true, true>;
/// SQXTUN, SQSHRUN
type SignedToUnsignedSaturate = Narrow<true, false, true, false>;
/// SQRSHRUN
type SignedToUnsignedRoundSaturate = Narrow<true, false, true, true>;

/// A helper narrowing the lanes of `Vn`, shifted right by `2 * esize - immh:immb` in
/// the shift-by-immediate class (not at all in the miscellaneous class).
pub const fn narrow<N: Narrowing>(name: &'static str) -> Helper {
    Helper { name, func: narrow_entry::<N>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn narrow_entry<N: Narrowing>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    let word = insn as u32;
    let (size, shift) = if is_shift_by_immediate(word) {
        let size = immediate_size(word);
        (size, (16 << size) - immediate(word).min(16 << size))
    } else {
        (f.size, 0)
    };
    match size {
        0 => narrow_lanes::<u16, u8, N>(s, f, shift),
        1 => narrow_lanes::<u32, u16, N>(s, f, shift),
        _ => narrow_lanes::<u64, u32, N>(s, f, shift),
    }
    0
}

/// Narrow the lanes of `Vn` (raw bits in `W`) into lanes `T` of `Vd`: lane 0 of a
/// scalar or the low half of a 64-bit vector (the rest zeroed), or the high half for
/// the `2` forms (low half kept).
#[inline(always)]
fn narrow_lanes<W: Lane, T: Lane, N: Narrowing>(s: &mut CpuState, f: Fields, shift: u32) {
    let n = get::<W>(s, f.n);
    let (lo, hi) = if N::RESULT_SIGNED {
        (-(1i128 << (T::BITS - 1)), (1i128 << (T::BITS - 1)) - 1)
    } else {
        (0, unsigned_max(T::BITS))
    };
    let active = if f.scalar { 1 } else { W::LANES };
    let bias = if N::ROUND && shift > 0 { 1 << (shift - 1) } else { 0 };
    let mut half = get::<T>(s, f.d);
    let mut saturated = false;
    for (i, &lane) in n.as_ref().iter().enumerate() {
        half.as_mut()[i] = if N::SATURATE {
            let x = if N::SOURCE_SIGNED { signed(lane.bits(), W::BITS) } else { lane.bits() as i128 };
            let mut lane_saturated = false;
            let narrowed = saturate_to(x.wrapping_add(bias as i128) >> shift, lo, hi, &mut lane_saturated);
            saturated |= lane_saturated && i < active;
            narrowed
        } else {
            // The result bits (below `shift + T::BITS` <= `W::BITS`) never see a
            // carry out of the lane, so the sum may wrap.
            T::truncate(lane.wrapping_add(W::truncate(bias)).shift_right(shift).bits())
        };
    }
    place_narrow::<T>(s, f, half);
    record_qc(s, saturated);
}

/// Write a narrowed result (in the low half of `half`) to `Vd`: lane 0 of a scalar
/// or the low half of a 64-bit vector (the rest zeroed), or the high half for the
/// `2` forms (low half kept).
#[inline(always)]
fn place_narrow<T: Lane>(s: &mut CpuState, f: Fields, half: T::Vector) {
    let [result, _] = halves::<T>(half);
    let [low, _] = s.v[f.d];
    s.v[f.d] = if f.q && !f.scalar { [low, result] } else { [result, 0] };
    if f.scalar {
        clear_from(s, f.d, T::BYTES);
    }
}

pub static XTN: Helper = narrow::<Truncate>("XTN");
pub static SQXTN: Helper = narrow::<SignedSaturate>("SQXTN");
pub static UQXTN: Helper = narrow::<UnsignedSaturate>("UQXTN");
pub static SQXTUN: Helper = narrow::<SignedToUnsignedSaturate>("SQXTUN");
pub static SHRN: Helper = narrow::<Truncate>("SHRN");
pub static RSHRN: Helper = narrow::<RoundTruncate>("RSHRN");
pub static SQSHRN: Helper = narrow::<SignedSaturate>("SQSHRN");
pub static SQRSHRN: Helper = narrow::<SignedRoundSaturate>("SQRSHRN");
pub static UQSHRN: Helper = narrow::<UnsignedSaturate>("UQSHRN");
pub static UQRSHRN: Helper = narrow::<UnsignedRoundSaturate>("UQRSHRN");
pub static SQSHRUN: Helper = narrow::<SignedToUnsignedSaturate>("SQSHRUN");
pub static SQRSHRUN: Helper = narrow::<SignedToUnsignedRoundSaturate>("SQRSHRUN");

/// A helper for the high-half narrowing adds: `(Vn ± Vm [+ rounding]) >> esize`.
pub const fn add_narrow_high<const SUBTRACT: bool, const ROUND: bool>(name: &'static str) -> Helper {
    Helper { name, func: add_narrow_high_entry::<SUBTRACT, ROUND>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn add_narrow_high_entry<const SUBTRACT: bool, const ROUND: bool>(
    state: *mut u8,
    insn: u64,
    _: u64,
    _: u64,
    _: u64,
) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    match f.size {
        0 => add_narrow_high_lanes::<u16, u8, SUBTRACT, ROUND>(s, f),
        1 => add_narrow_high_lanes::<u32, u16, SUBTRACT, ROUND>(s, f),
        _ => add_narrow_high_lanes::<u64, u32, SUBTRACT, ROUND>(s, f),
    }
    0
}

#[inline(always)]
fn add_narrow_high_lanes<W: Lane, T: Lane, const SUBTRACT: bool, const ROUND: bool>(s: &mut CpuState, f: Fields) {
    let (n, m) = (get::<W>(s, f.n), get::<W>(s, f.m));
    let mut half = get::<T>(s, f.d);
    let bias = if ROUND { 1 << (T::BITS - 1) } else { 0 };
    for i in 0..W::LANES {
        let (a, b) = (n.as_ref()[i], m.as_ref()[i]);
        let sum = if SUBTRACT { a.wrapping_sub(b) } else { a.wrapping_add(b) };
        half.as_mut()[i] = T::truncate(sum.wrapping_add(W::truncate(bias)).shift_right(T::BITS).bits());
    }
    place_narrow::<T>(s, f, half);
}

pub static ADDHN: Helper = add_narrow_high::<false, false>("ADDHN");
pub static RADDHN: Helper = add_narrow_high::<false, true>("RADDHN");
pub static SUBHN: Helper = add_narrow_high::<true, false>("SUBHN");
pub static RSUBHN: Helper = add_narrow_high::<true, true>("RSUBHN");
