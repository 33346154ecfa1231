//! Vector lanes: the element types helpers compute on and the arrangement fields
//! every Advanced SIMD instruction word shares.
//!
//! A register is read straight from the state as an array of lanes
//! ([`Lane::Vector`], e.g. `[u16; 8]`) with [`get`] and written back with [`set`].
//! Loops over `T::LANES` lanes have a constant trip count per lane type, which the
//! compiler unrolls and vectorises. Operations that need more range than the lane
//! (saturation, halving, rounding, widening) compute on `i128` values from
//! [`Lane::wide`] and come back with [`Lane::wrap`] or [`saturate`].

use crate::state::CpuState;

/// The bytes of a vector register, lane 0 first.
pub type Bytes = [u8; 16];

/// FPSR.QC, the cumulative saturation flag.
pub const FPSR_QC: u32 = 1 << 27;

/// One element type of a vector (`u8`..`u64`, `i8`..`i64`).
pub trait Lane: Copy + Ord + Default {
    const BYTES: usize;
    const BITS: u32;
    /// Lanes in a register.
    const LANES: usize;
    /// The lanes of a register, lane 0 first (16 bytes).
    type Vector: Copy + AsRef<[Self]> + AsMut<[Self]>;
    /// The smallest and largest values, widened.
    const MIN: i128;
    const MAX: i128;
    /// The value, sign- or zero-extended as the type's signedness says.
    fn wide(self) -> i128;
    /// The low `BITS` bits of `x`.
    fn wrap(x: i128) -> Self;
    /// The raw bits, zero-extended.
    fn bits(self) -> u64;
    /// The value sign- or zero-extended to 64 bits (cheaper than [`Lane::wide`]).
    fn extend(self) -> u64;
    /// The low `BITS` bits of `bits`.
    fn truncate(bits: u64) -> Self;
    fn wrapping_add(self, other: Self) -> Self;
    fn wrapping_sub(self, other: Self) -> Self;
    fn wrapping_mul(self, other: Self) -> Self;
    /// `self >> amount` (arithmetic for signed types), `amount` < `BITS`.
    fn shift_right(self, amount: u32) -> Self;
}

macro_rules! impl_lane {
    ($($t:ty => $unsigned:ty),*) => {$(
        impl Lane for $t {
            const BYTES: usize = core::mem::size_of::<$t>();
            const BITS: u32 = <$t>::BITS;
            const LANES: usize = 16 / core::mem::size_of::<$t>();
            type Vector = [$t; 16 / core::mem::size_of::<$t>()];
            const MIN: i128 = <$t>::MIN as i128;
            const MAX: i128 = <$t>::MAX as i128;
            #[inline(always)]
            fn wide(self) -> i128 {
                self as i128
            }
            #[inline(always)]
            fn wrap(x: i128) -> Self {
                x as $t
            }
            #[inline(always)]
            fn bits(self) -> u64 {
                self as $unsigned as u64
            }
            #[inline(always)]
            fn extend(self) -> u64 {
                self as i64 as u64
            }
            #[inline(always)]
            fn truncate(bits: u64) -> Self {
                bits as $t
            }
            #[inline(always)]
            fn wrapping_add(self, other: Self) -> Self {
                <$t>::wrapping_add(self, other)
            }
            #[inline(always)]
            fn wrapping_sub(self, other: Self) -> Self {
                <$t>::wrapping_sub(self, other)
            }
            #[inline(always)]
            fn wrapping_mul(self, other: Self) -> Self {
                <$t>::wrapping_mul(self, other)
            }
            #[inline(always)]
            fn shift_right(self, amount: u32) -> Self {
                self.wrapping_shr(amount)
            }
        }
    )*};
}

impl_lane!(u8 => u8, u16 => u16, u32 => u32, u64 => u64, i8 => u8, i16 => u16, i32 => u32, i64 => u64);

/// The lane types of one signedness, by the `size` field (B, H, S, D).
pub trait Family {
    type B: Lane;
    type H: Lane;
    type S: Lane;
    type D: Lane;
}

/// Lanes read as unsigned integers (`U` = 1 forms, and sign-agnostic operations).
pub struct Unsigned;
/// Lanes read as two's-complement integers.
pub struct Signed;

impl Family for Unsigned {
    type B = u8;
    type H = u16;
    type S = u32;
    type D = u64;
}

impl Family for Signed {
    type B = i8;
    type H = i16;
    type S = i32;
    type D = i64;
}

/// Call the generic function `f` with the lane type of `family` that `size` (0..=3)
/// selects as its first type argument: `by_size!(size, F, lanewise::<O>(a, b))`.
macro_rules! by_size {
    ($size:expr, $family:ty, $f:ident $(::<$($g:tt),*>)? ($($arg:expr),* $(,)?)) => {
        match $size & 3 {
            0 => $f::<<$family as $crate::simd::lanes::Family>::B $($(, $g)*)?>($($arg),*),
            1 => $f::<<$family as $crate::simd::lanes::Family>::H $($(, $g)*)?>($($arg),*),
            2 => $f::<<$family as $crate::simd::lanes::Family>::S $($(, $g)*)?>($($arg),*),
            _ => $f::<<$family as $crate::simd::lanes::Family>::D $($(, $g)*)?>($($arg),*),
        }
    };
}
pub(crate) use by_size;

/// Define helpers whose whole body is written out: each gets the state as `$s` and
/// the instruction word (`u32`) as `$insn`.
/// `helpers! { /// doc
/// NAME = "MNEMONIC", fn entry(s, insn) { ... } }`
macro_rules! helpers {
    ($($(#[$doc:meta])* $name:ident = $label:literal, fn $func:ident($s:ident, $insn:ident) $body:block)*) => {$(
        $(#[$doc])*
        pub static $name: archway_ir::Helper =
            archway_ir::Helper { name: $label, func: $func, reads_state: true, writes_state: true };
        unsafe extern "C" fn $func(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
            // SAFETY: translated code calls helpers with its live guest state; guest
            // memory is host memory, so a bad guest address faults as the guest's would.
            unsafe {
                let $s = $crate::simd::lanes::cpu(state);
                let $insn = insn as u32;
                $body
            }
            0
        }
    )*};
}
pub(crate) use helpers;

/// `x` clamped to the range of `T`; sets `qc` when it had to clamp.
#[inline(always)]
pub fn saturate<T: Lane>(x: i128, qc: &mut bool) -> T {
    saturate_to::<T>(x, T::MIN, T::MAX, qc)
}

/// `x` clamped to `[lo, hi]` and stored in `T`'s bits; sets `qc` when it had to clamp.
#[inline(always)]
pub fn saturate_to<T: Lane>(x: i128, lo: i128, hi: i128, qc: &mut bool) -> T {
    let clamped = x.clamp(lo, hi);
    *qc |= clamped != x;
    T::wrap(clamped)
}

/// The largest value of the unsigned type as wide as `T`.
#[inline(always)]
pub const fn unsigned_max(bits: u32) -> i128 {
    (1i128 << bits) - 1
}

/// The element with all bits set when `cond` holds, else zero (comparison results).
#[inline(always)]
pub fn mask_if<T: Lane>(cond: bool) -> T {
    T::wrap(-(cond as i128))
}

/// `bits` (the low `width` bits of a value) read as a signed number.
#[inline(always)]
pub fn signed(bits: u64, width: u32) -> i128 {
    ((bits as i128) << (128 - width)) >> (128 - width)
}

/// Bit `n` of an instruction word.
#[inline(always)]
pub const fn bit(insn: u32, n: u32) -> bool {
    (insn >> n) & 1 != 0
}

/// Bits `hi..=lo` of an instruction word.
#[inline(always)]
pub const fn bits(insn: u32, hi: u32, lo: u32) -> u32 {
    (insn >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// The register fields and arrangement of an Advanced SIMD data-processing word.
#[derive(Clone, Copy)]
pub struct Fields {
    pub d: usize,
    pub n: usize,
    pub m: usize,
    /// The `size` field (bits 23..22).
    pub size: u32,
    /// Q: a 128-bit vector (bit 30).
    pub q: bool,
    /// A scalar form (bit 28): only lane 0 is computed and kept.
    pub scalar: bool,
}

impl Fields {
    #[inline(always)]
    pub fn of(insn: u64) -> Fields {
        let insn = insn as u32;
        Fields {
            d: (insn & 31) as usize,
            n: ((insn >> 5) & 31) as usize,
            m: ((insn >> 16) & 31) as usize,
            size: bits(insn, 23, 22),
            q: bit(insn, 30),
            scalar: bit(insn, 28),
        }
    }

    /// How many low bytes of the registers an operation with `lane_bytes`-byte
    /// elements works on: lane 0 for scalar forms, 8 for 64-bit vectors, else 16.
    /// Lanes outside are cleared in the result and never count as saturating.
    #[inline(always)]
    pub fn active_bytes(self, lane_bytes: usize) -> usize {
        if self.scalar {
            lane_bytes
        } else if self.q {
            16
        } else {
            8
        }
    }
}

/// The guest state behind a helper's state pointer.
///
/// # Safety
/// `state` must be the live `CpuState` the helper was called with.
#[inline(always)]
pub unsafe fn cpu<'a>(state: *mut u8) -> &'a mut CpuState {
    // SAFETY: the caller guarantees the live CpuState the helper was called with.
    unsafe { CpuState::from_ptr(state) }
}

/// The lanes of V`n`.
#[inline(always)]
pub fn get<T: Lane>(s: &CpuState, n: usize) -> T::Vector {
    // SAFETY: a `Vector` is 16 bytes of integers (any bit pattern is valid) aligned to
    // at most 8, and V`n` is 16 bytes aligned to 16. The host is little-endian (below),
    // so lane 0 comes first as in the architecture.
    unsafe { (s.v[n].as_ptr() as *const T::Vector).read() }
}

/// Set the lanes of V`d`.
#[inline(always)]
pub fn set<T: Lane>(s: &mut CpuState, d: usize, v: T::Vector) {
    // SAFETY: as in `get`.
    unsafe { (s.v[d].as_mut_ptr() as *mut T::Vector).write(v) }
}

/// Lanes from a register value given as its two 64-bit halves.
#[inline(always)]
pub fn from_halves<T: Lane>(halves: [u64; 2]) -> T::Vector {
    // SAFETY: both are 16 bytes of plain integers.
    unsafe { core::mem::transmute_copy(&halves) }
}

/// The two 64-bit halves of a register value given as lanes.
#[inline(always)]
pub fn halves<T: Lane>(v: T::Vector) -> [u64; 2] {
    // SAFETY: both are 16 bytes of plain integers.
    unsafe { core::mem::transmute_copy(&v) }
}

// `get`, `set` and the conversions rely on the host's byte order (x86_64 and aarch64 hosts).
const _: () = assert!(cfg!(target_endian = "little"));

/// The bytes of V`n`.
#[inline(always)]
pub fn read(s: &CpuState, n: usize) -> Bytes {
    get::<u8>(s, n)
}

/// Set the bytes of V`d`.
#[inline(always)]
pub fn write(s: &mut CpuState, d: usize, bytes: Bytes) {
    set::<u8>(s, d, bytes)
}

/// Clear every byte of V`d` from index `count` (1, 2, 4, 8 or 16) on: what an
/// operation does not write (see [`Fields::active_bytes`]).
#[inline(always)]
pub fn clear_from(s: &mut CpuState, d: usize, count: usize) {
    if count < 16 {
        let [low, _] = s.v[d];
        s.v[d] = [low & (u64::MAX >> (64 - 8 * count.min(8))), 0];
    }
}

/// Record saturation in FPSR.QC.
#[inline(always)]
pub fn record_qc(state: &mut CpuState, saturated: bool) {
    if saturated {
        state.fpsr |= FPSR_QC;
    }
}

/// V`n` with its lane `index` copied to every lane.
#[inline(always)]
pub fn broadcast<T: Lane>(s: &CpuState, n: usize, index: usize) -> T::Vector {
    let mut v = get::<T>(s, n);
    let lane = v.as_ref()[index % T::LANES];
    v.as_mut().fill(lane);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_of_a_register() {
        let mut s = CpuState::default();
        s.v[1] = [0x1111_2222_3333_4444, 0x5555_6666_7777_8888];
        assert_eq!(get::<u16>(&s, 1), [0x4444, 0x3333, 0x2222, 0x1111, 0x8888, 0x7777, 0x6666, 0x5555]);
        assert_eq!(broadcast::<u32>(&s, 1, 3), [0x5555_6666; 4]);
        set::<u8>(&mut s, 2, [0xff; 16]);
        clear_from(&mut s, 2, 2);
        assert_eq!(s.v[2], [0xffff, 0]);
    }

    #[test]
    fn saturation_sets_qc() {
        let mut qc = false;
        assert_eq!(saturate::<i8>(100, &mut qc), 100);
        assert!(!qc);
        assert_eq!(saturate::<i8>(200, &mut qc), 127);
        assert!(qc);
        assert_eq!(signed(0xff, 8), -1);
    }
}
