//! Element copies and immediates: DUP (element, general, and the scalar `MOV Bd,
//! Vn.B[i]`), INS (element, general), UMOV, SMOV, and MOVI/MVNI/ORR/BIC (immediate).
//!
//! The copy class encodes the element size as the lowest set bit of `imm5` and the
//! element index in the bits above it.

use super::lanes::{bit, bits, broadcast, by_size, clear_from, get, helpers, set, Fields, Lane, Unsigned};
use crate::state::CpuState;

/// Element size (0..=3, as log2 bytes) and index from the `imm5` field (bits 20..16).
#[inline(always)]
pub fn element_of_imm5(insn: u32) -> (u32, usize) {
    element_of(bits(insn, 20, 16))
}

/// Element size (0..=3, as log2 bytes) and index given by an `imm5` field.
#[inline(always)]
pub fn element_of(imm5: u32) -> (u32, usize) {
    let size = imm5.trailing_zeros().min(3);
    (size, (imm5 >> (size + 1)) as usize)
}

/// Element `index` of V`n` (lanes `T`), zero-extended.
#[inline(always)]
fn element<T: Lane>(s: &CpuState, n: usize, index: usize) -> u64 {
    get::<T>(s, n).as_ref()[index % T::LANES].bits()
}

/// Replace element `index` of V`d` (lanes `T`) by the low bits of `value`.
#[inline(always)]
fn insert<T: Lane>(s: &mut CpuState, d: usize, index: usize, value: u64) {
    let mut lanes = get::<T>(s, d);
    lanes.as_mut()[index % T::LANES] = T::truncate(value);
    set::<T>(s, d, lanes);
}

/// DUP (element): lane `index` of `Vn` to the active lanes of `Vd`.
#[inline(always)]
fn dup_lanes<T: Lane>(s: &mut CpuState, f: Fields, index: usize) {
    let lanes = broadcast::<T>(s, f.n, index);
    set::<T>(s, f.d, lanes);
    clear_from(s, f.d, f.active_bytes(T::BYTES));
}

/// DUP (general): the low bits of `value` to the active lanes of `Vd`.
#[inline(always)]
fn fill_lanes<T: Lane>(s: &mut CpuState, f: Fields, value: u64) {
    let mut lanes = get::<T>(s, f.d);
    lanes.as_mut().fill(T::truncate(value));
    set::<T>(s, f.d, lanes);
    clear_from(s, f.d, f.active_bytes(T::BYTES));
}

/// X`n` as a source operand (31 reads as zero).
#[inline(always)]
fn x_or_zero(s: &CpuState, n: usize) -> u64 {
    if n < 31 {
        s.x[n]
    } else {
        0
    }
}

/// Write X`d` (31 discards).
#[inline(always)]
fn set_x(s: &mut CpuState, d: usize, value: u64) {
    if d < 31 {
        s.x[d] = value;
    }
}

helpers! {
    /// DUP (element), vector and scalar: element of `Vn` to every active lane of `Vd`.
    DUP_ELEMENT = "DUP (element)", fn dup_element(s, insn) {
        let f = Fields::of(insn as u64);
        let (size, index) = element_of_imm5(insn);
        by_size!(size, Unsigned, dup_lanes(s, f, index));
    }

    /// DUP (general): the low bits of X`n` to every lane of `Vd`.
    DUP_GENERAL = "DUP (general)", fn dup_general(s, insn) {
        let f = Fields::of(insn as u64);
        let (size, _) = element_of_imm5(insn);
        let value = x_or_zero(s, f.n);
        by_size!(size, Unsigned, fill_lanes(s, f, value));
    }

    /// INS (general): the low bits of X`n` to one element of `Vd`.
    INS_GENERAL = "INS (general)", fn ins_general(s, insn) {
        let f = Fields::of(insn as u64);
        let (size, index) = element_of_imm5(insn);
        let value = x_or_zero(s, f.n);
        by_size!(size, Unsigned, insert(s, f.d, index, value));
    }

    /// INS (element): one element of `Vn` to one element of `Vd`.
    INS_ELEMENT = "INS (element)", fn ins_element(s, insn) {
        let f = Fields::of(insn as u64);
        let (size, index) = element_of_imm5(insn);
        let source = (bits(insn, 14, 11) >> size) as usize;
        let value = by_size!(size, Unsigned, element(s, f.n, source));
        by_size!(size, Unsigned, insert(s, f.d, index, value));
    }

    /// UMOV: an element zero-extended to W`d`/X`d`.
    UMOV = "UMOV", fn umov(s, insn) {
        let f = Fields::of(insn as u64);
        let (size, index) = element_of_imm5(insn);
        let value = by_size!(size, Unsigned, element(s, f.n, index));
        set_x(s, f.d, value);
    }

    /// SMOV: an element sign-extended to W`d` (Q clear, upper word zeroed) or X`d`.
    SMOV = "SMOV", fn smov(s, insn) {
        let f = Fields::of(insn as u64);
        let (size, index) = element_of_imm5(insn);
        let unused = 64 - (8 << size);
        let value = ((by_size!(size, Unsigned, element(s, f.n, index)) << unused) as i64 >> unused) as u64;
        set_x(s, f.d, if f.q { value } else { value as u32 as u64 });
    }

    /// MOVI, MVNI, ORR (immediate), BIC (immediate), including the 64-bit byte mask.
    MODIFIED_IMMEDIATE = "MOVI/MVNI/ORR/BIC (immediate)", fn modified_immediate(s, insn) {
        let f = Fields::of(insn as u64);
        let op = bit(insn, 29);
        let cmode = bits(insn, 15, 12);
        let imm = expand_immediate(insn);
        let is_or_bic = cmode & 1 == 1 && cmode < 0b1100;
        let inverted = op && cmode != 0b1110;
        let lane = |d: u64| match (is_or_bic, op) {
            (true, false) => d | imm,
            (true, true) => d & !imm,
            (false, _) if inverted => !imm,
            (false, _) => imm,
        };
        let [low, high] = s.v[f.d];
        s.v[f.d] = [lane(low), if f.q { lane(high) } else { 0 }];
    }
}

/// The 64-bit immediate of a modified-immediate word (`AdvSIMDExpandImm` for the
/// integer `cmode` values; the caller inverts it for MVNI and BIC).
pub fn expand_immediate(insn: u32) -> u64 {
    let imm8 = (bits(insn, 18, 16) << 5 | bits(insn, 9, 5)) as u64;
    let cmode = bits(insn, 15, 12);
    let words = |w: u64| w | w << 32;
    let halves = |h: u64| words(h | h << 16);
    match cmode >> 1 {
        0b000 => words(imm8),
        0b001 => words(imm8 << 8),
        0b010 => words(imm8 << 16),
        0b011 => words(imm8 << 24),
        0b100 => halves(imm8),
        0b101 => halves(imm8 << 8),
        0b110 if cmode & 1 == 0 => words(imm8 << 8 | 0xff),
        0b110 => words(imm8 << 16 | 0xffff),
        _ if bit(insn, 29) => {
            // 64-bit byte mask: each bit of imm8 selects a whole byte.
            (0..8).fold(0, |acc, i| acc | if (imm8 >> i) & 1 != 0 { 0xff << (8 * i) } else { 0 })
        }
        _ => imm8 * 0x0101_0101_0101_0101,
    }
}
