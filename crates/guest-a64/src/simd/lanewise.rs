//! The lane-by-lane shape: `Vd[i] = op(Vd[i], Vn[i], Vm[i])`.
//!
//! Three-same, two-register-miscellaneous and by-element instructions, vector and
//! scalar, share this shape: a [`LaneOp`] says what one lane computes, and
//! [`lanewise`] / [`by_element`] make the helper that applies it to a register
//! (the element size from `size`, signedness from the [`Family`]). Two-register forms
//! ignore `m`; accumulating forms read `d`.

use super::lanes::{broadcast, by_size, clear_from, cpu, get, record_qc, set, Family, Fields, Lane};
use crate::state::CpuState;
use archway_ir::Helper;

/// What one lane of an operation computes from the destination, first and second
/// operand lanes; sets `qc` when it saturates.
pub trait LaneOp {
    fn lane<T: Lane>(d: T, n: T, m: T, qc: &mut bool) -> T;
}

/// Define [`LaneOp`]s: `lane_ops! { Add(d, n, m, qc) => n.wrapping_add(m); }`.
macro_rules! lane_ops {
    ($($(#[$doc:meta])* $name:ident($d:pat, $n:pat, $m:pat, $qc:pat) => $body:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl $crate::simd::lanewise::LaneOp for $name {
            #[inline(always)]
            fn lane<T: $crate::simd::lanes::Lane>($d: T, $n: T, $m: T, $qc: &mut bool) -> T {
                $body
            }
        }
    )*};
}
pub(crate) use lane_ops;

/// A helper that applies `O` lane by lane to `Vd`, `Vn`, `Vm` with lanes of `F`.
pub const fn lanewise<O: LaneOp, F: Family>(name: &'static str) -> Helper {
    Helper { name, func: lanewise_entry::<O, F>, reads_state: true, writes_state: true }
}

/// A helper that applies `O` to `Vd`, `Vn` and one element of `Vm` (the by-element forms).
pub const fn by_element<O: LaneOp, F: Family>(name: &'static str) -> Helper {
    Helper { name, func: by_element_entry::<O, F>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn lanewise_entry<O: LaneOp, F: Family>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    by_size!(f.size, F, apply::<O>(s, f, None));
    0
}

unsafe extern "C" fn by_element_entry<O: LaneOp, F: Family>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    by_size!(f.size, F, apply::<O>(s, f, Some(indexed_element(insn as u32))));
    0
}

/// The `Vm` register and element index of a by-element word (H: `Rm` 0..15 and
/// index H:L:M; S: `Rm` M:Rm and index H:L; D: index H).
#[inline(always)]
pub fn indexed_element(insn: u32) -> (usize, usize) {
    let (h, l, m) = ((insn >> 11) & 1, (insn >> 21) & 1, (insn >> 20) & 1);
    let rm = ((insn >> 16) & 15) as usize;
    match (insn >> 22) & 3 {
        1 => (rm, (h << 2 | l << 1 | m) as usize),
        2 => (rm | (m as usize) << 4, (h << 1 | l) as usize),
        _ => (rm | (m as usize) << 4, h as usize),
    }
}

/// `Vd = O(Vd, Vn, Vm)` over the active lanes (inactive ones zeroed, and never
/// saturating); `Vm` is one element of a register everywhere when `element` gives
/// its register and index.
#[inline(always)]
pub fn apply<T: Lane, O: LaneOp>(s: &mut CpuState, f: Fields, element: Option<(usize, usize)>) {
    let active = f.active_bytes(T::BYTES) / T::BYTES;
    let m = match element {
        Some((m, index)) => broadcast::<T>(s, m, index),
        None => get::<T>(s, f.m),
    };
    let (d, n) = (get::<T>(s, f.d), get::<T>(s, f.n));
    let mut r = d;
    let mut saturated = false;
    for (i, lane) in r.as_mut().iter_mut().enumerate() {
        let mut lane_saturated = false;
        *lane = O::lane(d.as_ref()[i], n.as_ref()[i], m.as_ref()[i], &mut lane_saturated);
        saturated |= lane_saturated && i < active;
    }
    set::<T>(s, f.d, r);
    clear_from(s, f.d, f.active_bytes(T::BYTES));
    record_qc(s, saturated);
}
