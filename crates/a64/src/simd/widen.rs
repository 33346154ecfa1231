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
    bit, broadcast, cpu, low_bits, record_qc, saturate_to, signed, unsigned_max, Bytes, Family, Fields, Lane, Signed,
    Unsigned,
};
use super::lanewise::indexed_element;
use super::shift::{immediate, immediate_size};
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
    let s = cpu(state);
    let f = Fields::of(insn);
    let m = if BY_ELEMENT {
        let (m, element) = indexed_element(insn as u32);
        broadcast(s.vreg(m), 1 << f.size, element)
    } else {
        s.vreg(f.m)
    };
    let (d, n) = (s.vreg(f.d), s.vreg(f.n));
    let mut qc = false;
    let result = match f.size {
        0 => long_lanes::<F::B, F::H, O>(f, d, n, m, &mut qc),
        1 => long_lanes::<F::H, F::S, O>(f, d, n, m, &mut qc),
        _ => long_lanes::<F::S, F::D, O>(f, d, n, m, &mut qc),
    };
    s.set_vreg(f.d, result);
    record_qc(s, qc);
    0
}

/// The source half of a long operation: the high half for the vector `2` forms.
#[inline(always)]
fn source_half(f: Fields, v: u128) -> u128 {
    if f.q && !f.scalar {
        v >> 64
    } else {
        v & u64::MAX as u128
    }
}

#[inline(always)]
fn long_lanes<T: Lane, W: Lane, O: LongOp>(f: Fields, d: u128, n: u128, m: u128, qc: &mut bool) -> u128 {
    let (narrow, wide) = if f.scalar { (low_bits(T::BITS), low_bits(W::BITS)) } else { (u128::MAX, u128::MAX) };
    let d: Bytes = (d & wide).to_le_bytes();
    let n: Bytes = if O::WIDE_N { n & wide } else { source_half(f, n) & narrow }.to_le_bytes();
    let m: Bytes = (source_half(f, m) & narrow).to_le_bytes();
    let mut r: Bytes = [0; 16];
    for i in 0..16 / W::BYTES {
        let n = if O::WIDE_N { W::load(&n, i).wide() } else { T::load(&n, i).wide() };
        let lane = O::lane(W::load(&d, i).wide(), n, T::load(&m, i).wide(), W::BITS, qc);
        W::wrap(lane).store(&mut r, i);
    }
    u128::from_le_bytes(r) & wide
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
    let s = cpu(state);
    let f = Fields::of(insn);
    let (d, n) = (s.vreg(f.d), s.vreg(f.n));
    let result = match f.size {
        0 => pairwise_long_lanes::<F::B, F::H, ACCUMULATE>(f, d, n),
        1 => pairwise_long_lanes::<F::H, F::S, ACCUMULATE>(f, d, n),
        _ => pairwise_long_lanes::<F::S, F::D, ACCUMULATE>(f, d, n),
    };
    s.set_vreg(f.d, result);
    0
}

#[inline(always)]
fn pairwise_long_lanes<T: Lane, W: Lane, const ACCUMULATE: bool>(f: Fields, d: u128, n: u128) -> u128 {
    let active = f.active(T::BYTES);
    let d: Bytes = d.to_le_bytes();
    let n: Bytes = (n & active).to_le_bytes();
    let mut r: Bytes = [0; 16];
    for i in 0..16 / W::BYTES {
        let sum = T::load(&n, 2 * i).wide() + T::load(&n, 2 * i + 1).wide();
        let acc = if ACCUMULATE { W::load(&d, i).wide() } else { 0 };
        W::wrap(acc + sum).store(&mut r, i);
    }
    u128::from_le_bytes(r) & active
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
    let s = cpu(state);
    let f = Fields::of(insn);
    let word = insn as u32;
    let (size, shift) = if is_shift_by_immediate(word) {
        let size = immediate_size(word);
        (size, immediate(word).wrapping_sub(8 << size) & 63)
    } else {
        (f.size, 8 << f.size)
    };
    let n = source_half(f, s.vreg(f.n));
    let result = match size {
        0 => widen_lanes::<F::B, F::H>(n, shift),
        1 => widen_lanes::<F::H, F::S>(n, shift),
        _ => widen_lanes::<F::S, F::D>(n, shift),
    };
    s.set_vreg(f.d, result);
    0
}

#[inline(always)]
fn widen_lanes<T: Lane, W: Lane>(n: u128, shift: u32) -> u128 {
    let n: Bytes = n.to_le_bytes();
    let mut r: Bytes = [0; 16];
    for i in 0..16 / W::BYTES {
        W::wrap(T::load(&n, i).wide() << shift).store(&mut r, i);
    }
    u128::from_le_bytes(r)
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
    let s = cpu(state);
    let f = Fields::of(insn);
    let word = insn as u32;
    let (size, shift) = if is_shift_by_immediate(word) {
        let size = immediate_size(word);
        (size, (16 << size) - immediate(word).min(16 << size))
    } else {
        (f.size, 0)
    };
    let mut qc = false;
    let n = s.vreg(f.n);
    let half = match size {
        0 => narrow_lanes::<u16, u8, N>(f, n, shift, &mut qc),
        1 => narrow_lanes::<u32, u16, N>(f, n, shift, &mut qc),
        _ => narrow_lanes::<u64, u32, N>(f, n, shift, &mut qc),
    };
    let result = place_narrow(f, s.vreg(f.d), half);
    s.set_vreg(f.d, result);
    record_qc(s, qc);
    0
}

/// Narrow the lanes of `n` (raw bits in `W`) into lanes `T`, as a 64-bit half.
#[inline(always)]
fn narrow_lanes<W: Lane, T: Lane, N: Narrowing>(f: Fields, n: u128, shift: u32, qc: &mut bool) -> u64 {
    let n = if f.scalar { n & low_bits(W::BITS) } else { n };
    let n: Bytes = n.to_le_bytes();
    let (lo, hi) = if N::RESULT_SIGNED {
        (-(1i128 << (T::BITS - 1)), (1i128 << (T::BITS - 1)) - 1)
    } else {
        (0, unsigned_max(T::BITS))
    };
    let mut r: Bytes = [0; 16];
    for i in 0..16 / W::BYTES {
        let raw = W::load(&n, i).bits();
        let x = if N::SOURCE_SIGNED { signed(raw, W::BITS) } else { raw as i128 };
        let x = if N::ROUND && shift > 0 { (x + (1 << (shift - 1))) >> shift } else { x >> shift };
        let lane: T = if N::SATURATE { saturate_to(x, lo, hi, qc) } else { T::wrap(x) };
        lane.store(&mut r, i);
    }
    u128::from_le_bytes(r) as u64
}

/// Where a narrowed half goes: lane 0 of a scalar, the low half of a 64-bit vector
/// (high half zeroed), or the high half for the `2` forms (low half kept).
#[inline(always)]
fn place_narrow(f: Fields, d: u128, half: u64) -> u128 {
    if f.scalar || !f.q {
        half as u128
    } else {
        (d & u64::MAX as u128) | (half as u128) << 64
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
    let s = cpu(state);
    let f = Fields::of(insn);
    let (n, m) = (s.vreg(f.n), s.vreg(f.m));
    let half = match f.size {
        0 => add_narrow_high_lanes::<u16, u8, SUBTRACT, ROUND>(n, m),
        1 => add_narrow_high_lanes::<u32, u16, SUBTRACT, ROUND>(n, m),
        _ => add_narrow_high_lanes::<u64, u32, SUBTRACT, ROUND>(n, m),
    };
    let result = place_narrow(f, s.vreg(f.d), half);
    s.set_vreg(f.d, result);
    0
}

#[inline(always)]
fn add_narrow_high_lanes<W: Lane, T: Lane, const SUBTRACT: bool, const ROUND: bool>(n: u128, m: u128) -> u64 {
    let (n, m): (Bytes, Bytes) = (n.to_le_bytes(), m.to_le_bytes());
    let mut r: Bytes = [0; 16];
    let bias = if ROUND { 1i128 << (T::BITS - 1) } else { 0 };
    for i in 0..16 / W::BYTES {
        let (a, b) = (W::load(&n, i).wide(), W::load(&m, i).wide());
        let sum = if SUBTRACT { a - b } else { a + b };
        T::wrap((sum + bias) >> T::BITS).store(&mut r, i);
    }
    u128::from_le_bytes(r) as u64
}

pub static ADDHN: Helper = add_narrow_high::<false, false>("ADDHN");
pub static RADDHN: Helper = add_narrow_high::<false, true>("RADDHN");
pub static SUBHN: Helper = add_narrow_high::<true, false>("SUBHN");
pub static RSUBHN: Helper = add_narrow_high::<true, true>("RSUBHN");
