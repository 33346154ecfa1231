//! Lane shifts: by register (SSHL, USHL, SRSHL, URSHL, SQSHL, UQSHL, SQRSHL, UQRSHL)
//! and by immediate (SSHR, USHR, SSRA, USRA, SRSHR, URSHR, SRSRA, URSRA, SHL, SLI,
//! SRI, SQSHL, UQSHL, SQSHLU), vector and scalar.
//!
//! The shift-by-immediate word encodes the element size as the highest set bit of
//! `immh` and the amount in `immh:immb`: left shifts by `immh:immb - esize`, right
//! shifts by `2 * esize - immh:immb`. Narrowing and widening shifts are in
//! [`super::widen`].

use super::lanes::{
    bits, by_size, clear_from, cpu, get, record_qc, saturate, saturate_to, set, unsigned_max, Family, Fields, Lane,
    Signed, Unsigned,
};
use super::lanewise::{lane_ops, lanewise};
use crate::state::CpuState;
use archway_ir::Helper;

/// The signed shift count in the low byte of a shift-by-register lane.
#[inline(always)]
fn count<T: Lane>(m: T) -> i32 {
    m.bits() as u8 as i8 as i32
}

/// `x` shifted left by `shift` (negative: right, rounded to nearest when `round`).
/// Left shifts keep the low 128 bits; right shifts by 128 or more leave the sign.
#[inline(always)]
fn shift(x: i128, shift: i32, round: bool) -> i128 {
    if shift >= 0 {
        x.wrapping_shl(shift as u32)
    } else {
        let right = shift.unsigned_abs().min(127);
        let bias = if round { 1i128 << (right - 1) } else { 0 };
        (x + bias) >> right
    }
}

/// `x` shifted as [`shift`] does, saturated to the range `[lo, hi]` of `T`'s width.
#[inline(always)]
fn saturating_shift<T: Lane>(x: i128, amount: i32, round: bool, lo: i128, hi: i128, qc: &mut bool) -> T {
    if amount >= T::BITS as i32 && x != 0 {
        // Every bit of a non-zero value leaves the lane: saturate by its sign.
        saturate_to(if x > 0 { i128::MAX } else { i128::MIN }, lo, hi, qc)
    } else {
        saturate_to(shift(x, amount, round), lo, hi, qc)
    }
}

lane_ops! {
    /// SSHL/USHL
    ShiftByRegister(_, n, m, _) => T::wrap(shift(n.wide(), count(m), false));
    /// SRSHL/URSHL
    RoundingShiftByRegister(_, n, m, _) => T::wrap(shift(n.wide(), count(m), true));
    /// SQSHL/UQSHL (register)
    SaturatingShiftByRegister(_, n, m, qc) => saturating_shift(n.wide(), count(m), false, T::MIN, T::MAX, qc);
    /// SQRSHL/UQRSHL
    SaturatingRoundingShiftByRegister(_, n, m, qc) =>
        saturating_shift(n.wide(), count(m), true, T::MIN, T::MAX, qc);
}

pub static SSHL: Helper = lanewise::<ShiftByRegister, Signed>("SSHL");
pub static USHL: Helper = lanewise::<ShiftByRegister, Unsigned>("USHL");
pub static SRSHL: Helper = lanewise::<RoundingShiftByRegister, Signed>("SRSHL");
pub static URSHL: Helper = lanewise::<RoundingShiftByRegister, Unsigned>("URSHL");
pub static SQSHL: Helper = lanewise::<SaturatingShiftByRegister, Signed>("SQSHL");
pub static UQSHL: Helper = lanewise::<SaturatingShiftByRegister, Unsigned>("UQSHL");
pub static SQRSHL: Helper = lanewise::<SaturatingRoundingShiftByRegister, Signed>("SQRSHL");
pub static UQRSHL: Helper = lanewise::<SaturatingRoundingShiftByRegister, Unsigned>("UQRSHL");

/// What one lane of a shift by immediate computes; `left` is `immh:immb - esize`
/// (0..esize), the right-shift amount is `esize - left` (1..=esize).
pub trait ShiftOp {
    fn lane<T: Lane>(d: T, n: T, left: u32, qc: &mut bool) -> T;
}

/// Element size (0..=3) of a shift-by-immediate word: the highest set bit of `immh`.
#[inline(always)]
pub fn immediate_size(insn: u32) -> u32 {
    size_of_immh(bits(insn, 22, 19)).unwrap_or(0)
}

/// Element size (0..=3) given by a 4-bit `immh`: its highest set bit; `None` for 0
/// (the modified-immediate class).
#[inline(always)]
pub fn size_of_immh(immh: u32) -> Option<u32> {
    immh.checked_ilog2()
}

/// `immh:immb` of a shift-by-immediate word.
#[inline(always)]
pub fn immediate(insn: u32) -> u32 {
    bits(insn, 22, 16)
}

macro_rules! shift_ops {
    ($($(#[$doc:meta])* $name:ident($d:pat, $n:pat, $left:ident, $qc:pat) => $body:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl ShiftOp for $name {
            #[inline(always)]
            fn lane<T: Lane>($d: T, $n: T, $left: u32, $qc: &mut bool) -> T {
                $body
            }
        }
    )*};
}

/// The right-shift amount of a lane shift whose left amount is `left`.
#[inline(always)]
fn right<T: Lane>(left: u32) -> u32 {
    T::BITS - left
}

/// `x >> amount`, rounded to nearest.
#[inline(always)]
fn rounding_shift_right(x: i128, amount: u32) -> i128 {
    (x + (1 << (amount - 1))) >> amount
}

shift_ops! {
    /// SSHR/USHR
    ShiftRight(_, n, left, _) => T::wrap(n.wide() >> right::<T>(left));
    /// SSRA/USRA
    ShiftRightAccumulate(d, n, left, _) => d.wrapping_add(T::wrap(n.wide() >> right::<T>(left)));
    /// SRSHR/URSHR
    RoundingShiftRight(_, n, left, _) => T::wrap(rounding_shift_right(n.wide(), right::<T>(left)));
    /// SRSRA/URSRA
    RoundingShiftRightAccumulate(d, n, left, _) =>
        d.wrapping_add(T::wrap(rounding_shift_right(n.wide(), right::<T>(left))));
    /// SHL
    ShiftLeft(_, n, left, _) => T::wrap(n.wide() << left);
    /// SLI: the shifted value over the destination's low `left` bits.
    ShiftLeftInsert(d, n, left, _) => {
        let kept = unsigned_max(left);
        T::wrap((n.wide() << left) & !kept | d.wide() & kept)
    };
    /// SRI: the shifted value under the destination's high bits.
    ShiftRightInsert(d, n, left, _) => {
        let amount = right::<T>(left);
        let written = unsigned_max(T::BITS) >> amount;
        T::wrap((n.bits() as i128 >> amount) & written | d.wide() & !written)
    };
    /// SQSHL/UQSHL (immediate)
    SaturatingShiftLeft(_, n, left, qc) => saturate(n.wide() << left, qc);
    /// SQSHLU: a signed value saturated to the unsigned range.
    SaturatingShiftLeftUnsigned(_, n, left, qc) => saturate_to(n.wide() << left, 0, unsigned_max(T::BITS), qc);
}

/// A helper that applies the shift-by-immediate `O` to `Vn` (and `Vd`), lanes of `F`.
pub const fn by_immediate<O: ShiftOp, F: Family>(name: &'static str) -> Helper {
    Helper { name, func: by_immediate_entry::<O, F>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn by_immediate_entry<O: ShiftOp, F: Family>(
    state: *mut u8,
    insn: u64,
    _: u64,
    _: u64,
    _: u64,
) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    let size = immediate_size(insn as u32);
    let left = immediate(insn as u32).wrapping_sub(8 << size) & 63;
    by_size!(size, F, shift_lanes::<O>(s, f, left));
    0
}

#[inline(always)]
fn shift_lanes<T: Lane, O: ShiftOp>(s: &mut CpuState, f: Fields, left: u32) {
    let active = f.active_bytes(T::BYTES) / T::BYTES;
    let (d, n) = (get::<T>(s, f.d), get::<T>(s, f.n));
    let left = left % T::BITS;
    let mut r = d;
    let mut saturated = false;
    for (i, lane) in r.as_mut().iter_mut().enumerate() {
        let mut lane_saturated = false;
        *lane = O::lane(d.as_ref()[i], n.as_ref()[i], left, &mut lane_saturated);
        saturated |= lane_saturated && i < active;
    }
    set::<T>(s, f.d, r);
    clear_from(s, f.d, f.active_bytes(T::BYTES));
    record_qc(s, saturated);
}

pub static SSHR: Helper = by_immediate::<ShiftRight, Signed>("SSHR");
pub static USHR: Helper = by_immediate::<ShiftRight, Unsigned>("USHR");
pub static SSRA: Helper = by_immediate::<ShiftRightAccumulate, Signed>("SSRA");
pub static USRA: Helper = by_immediate::<ShiftRightAccumulate, Unsigned>("USRA");
pub static SRSHR: Helper = by_immediate::<RoundingShiftRight, Signed>("SRSHR");
pub static URSHR: Helper = by_immediate::<RoundingShiftRight, Unsigned>("URSHR");
pub static SRSRA: Helper = by_immediate::<RoundingShiftRightAccumulate, Signed>("SRSRA");
pub static URSRA: Helper = by_immediate::<RoundingShiftRightAccumulate, Unsigned>("URSRA");
pub static SHL: Helper = by_immediate::<ShiftLeft, Unsigned>("SHL");
pub static SLI: Helper = by_immediate::<ShiftLeftInsert, Unsigned>("SLI");
pub static SRI: Helper = by_immediate::<ShiftRightInsert, Unsigned>("SRI");
pub static SQSHL_IMM: Helper = by_immediate::<SaturatingShiftLeft, Signed>("SQSHL (immediate)");
pub static UQSHL_IMM: Helper = by_immediate::<SaturatingShiftLeft, Unsigned>("UQSHL (immediate)");
pub static SQSHLU: Helper = by_immediate::<SaturatingShiftLeftUnsigned, Signed>("SQSHLU");
