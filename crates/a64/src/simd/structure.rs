//! SIMD structure loads and stores: LD1-LD4/ST1-ST4 of multiple structures (LD1/ST1
//! with one to four registers), of a single structure to or from one lane, and the
//! replicating loads LD1R-LD4R.
//!
//! The base address is X`n` or SP (`n` = 31). Guest memory is host memory: elements
//! are read and written in place, each as one unaligned access of its size. The
//! post-index forms add the transfer size (`Rm` = 31) or X`m` to the base.
//! Registers `Vt..Vt+3` wrap at 31.

use super::lanes::{bit, bits, by_size, clear_from, get, helpers, read, set, write, Bytes, Lane, Unsigned};
use crate::state::CpuState;

/// How a structure access is laid out: `registers` consecutive registers, each
/// `selem` of them holding one member of interleaved structures (LD2-LD4), or
/// `rpt` blocks of a single register each (LD1/ST1 with several registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub rpt: usize,
    pub selem: usize,
}

/// The layout of a multiple-structures word by its `opcode` field (bits 15..12), or
/// `None` when unallocated.
pub const fn multiple_layout(opcode: u32) -> Option<Layout> {
    let (rpt, selem) = match opcode {
        0b0000 => (1, 4),
        0b0010 => (4, 1),
        0b0100 => (1, 3),
        0b0110 => (3, 1),
        0b0111 => (1, 1),
        0b1000 => (1, 2),
        0b1010 => (2, 1),
        _ => return None,
    };
    Some(Layout { rpt, selem })
}

/// Which element a single-structure word accesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SingleTarget {
    /// One lane: element size as log2 bytes and lane index.
    Lane { size: u32, index: usize },
    /// LDnR: every lane, element size as log2 bytes.
    Replicate { size: u32 },
}

/// The number of structure members (1..=4) of a single-structure word.
pub const fn single_selem(insn: u32) -> usize {
    ((bits(insn, 13, 13) << 1 | bits(insn, 21, 21)) + 1) as usize
}

/// Decode the element of a single-structure word, or `None` when unallocated.
pub const fn single_target(insn: u32) -> Option<SingleTarget> {
    let q = bits(insn, 30, 30);
    let s = bits(insn, 12, 12);
    let size = bits(insn, 11, 10);
    let load = bit(insn, 22);
    match bits(insn, 15, 14) {
        0b00 => Some(SingleTarget::Lane { size: 0, index: (q << 3 | s << 2 | size) as usize }),
        0b01 if size & 1 == 0 => Some(SingleTarget::Lane { size: 1, index: (q << 2 | s << 1 | size >> 1) as usize }),
        0b10 if size == 0 => Some(SingleTarget::Lane { size: 2, index: (q << 1 | s) as usize }),
        0b10 if size == 1 && s == 0 => Some(SingleTarget::Lane { size: 3, index: q as usize }),
        0b11 if load && s == 0 => Some(SingleTarget::Replicate { size }),
        _ => None,
    }
}

/// The base register's value (X`n`, or SP for 31).
#[inline(always)]
fn base(s: &CpuState, n: usize) -> u64 {
    if n == 31 {
        s.sp
    } else {
        s.x[n]
    }
}

/// Post-index writeback when bit 23 is set: add `transferred` (`Rm` = 31) or X`m`.
#[inline(always)]
fn write_back(s: &mut CpuState, insn: u32, address: u64, transferred: u64) {
    if !bit(insn, 23) {
        return;
    }
    let m = bits(insn, 20, 16) as usize;
    let offset = if m == 31 { transferred } else { s.x[m] };
    let n = bits(insn, 9, 5) as usize;
    let new = address.wrapping_add(offset);
    if n == 31 {
        s.sp = new;
    } else {
        s.x[n] = new;
    }
}

/// Read one element of `1 << size` bytes at guest address `address`.
///
/// # Safety
/// The address must be readable (guest memory is host memory; a fault is the guest's).
#[inline(always)]
unsafe fn read_element(address: u64, size: u32) -> u64 {
    let p = address as *const u8;
    match size {
        0 => p.read() as u64,
        1 => (p as *const u16).read_unaligned() as u64,
        2 => (p as *const u32).read_unaligned() as u64,
        _ => (p as *const u64).read_unaligned(),
    }
}

/// Write one element of `1 << size` bytes at guest address `address`.
///
/// # Safety
/// The address must be writable.
#[inline(always)]
unsafe fn write_element(address: u64, size: u32, value: u64) {
    let p = address as *mut u8;
    match size {
        0 => p.write(value as u8),
        1 => (p as *mut u16).write_unaligned(value as u16),
        2 => (p as *mut u32).write_unaligned(value as u32),
        _ => (p as *mut u64).write_unaligned(value),
    }
}

/// Load (`LOAD`) or store `registers` registers from `t` of `register_bytes` bytes,
/// holding `selem`-member structures of `T` elements, at `address`.
///
/// # Safety
/// The guest memory accessed must be valid.
#[inline(always)]
unsafe fn transfer_structures<T: Lane>(
    s: &mut CpuState,
    load: bool,
    t: usize,
    selem: usize,
    register_bytes: usize,
    address: u64,
) {
    // Element e of member j lives at structure e, slot j of the memory block.
    let total = selem * register_bytes;
    let elements = register_bytes / T::BYTES;
    let mut memory = [0u8; 64];
    let mut vectors: [Bytes; 4] = [[0; 16]; 4];
    if load {
        core::ptr::copy_nonoverlapping(address as *const u8, memory.as_mut_ptr(), total);
        for e in 0..elements {
            for (j, v) in vectors.iter_mut().enumerate().take(selem) {
                let element = T::load(&memory, e * selem + j);
                element.store(v, e);
            }
        }
        for (j, v) in vectors.iter().enumerate().take(selem) {
            write(s, (t + j) % 32, *v);
        }
    } else {
        for (j, v) in vectors.iter_mut().enumerate().take(selem) {
            *v = read(s, (t + j) % 32);
        }
        for e in 0..elements {
            for (j, v) in vectors.iter().enumerate().take(selem) {
                T::load(v, e).store(&mut memory, e * selem + j);
            }
        }
        core::ptr::copy_nonoverlapping(memory.as_ptr(), address as *mut u8, total);
    }
}

/// LDnR: `value` to every lane of V`v` (of its low half unless `q`, upper half zeroed).
#[inline(always)]
fn replicate_lanes<T: Lane>(s: &mut CpuState, v: usize, value: u64, q: bool) {
    let mut lanes = get::<T>(s, v);
    lanes.as_mut().fill(T::wrap(value as i128));
    set::<T>(s, v, lanes);
    clear_from(s, v, if q { 16 } else { 8 });
}

helpers! {
    /// LD1-LD4 and ST1-ST4 (multiple structures), with and without post-index.
    MULTIPLE_STRUCTURES = "LD1-LD4/ST1-ST4 (multiple structures)", fn multiple_structures(s, insn) {
        let Some(Layout { rpt, selem }) = multiple_layout(bits(insn, 15, 12)) else {
            return 0;
        };
        let t = bits(insn, 4, 0) as usize;
        let load = bit(insn, 22);
        let q = bit(insn, 30);
        let register_bytes = if q { 16 } else { 8 };
        let address = base(s, bits(insn, 9, 5) as usize);
        if selem == 1 {
            // LD1/ST1: each register is one contiguous block.
            for r in 0..rpt {
                let at = address.wrapping_add((r * register_bytes) as u64);
                let v = (t + r) % 32;
                match (load, q) {
                    (true, true) => s.v[v] = (at as *const [u64; 2]).read_unaligned(),
                    (true, false) => s.v[v] = [(at as *const u64).read_unaligned(), 0],
                    (false, true) => (at as *mut [u64; 2]).write_unaligned(s.v[v]),
                    (false, false) => (at as *mut u64).write_unaligned(s.v[v][0]),
                }
            }
        } else {
            by_size!(bits(insn, 11, 10), Unsigned, transfer_structures(s, load, t, selem, register_bytes, address));
        }
        write_back(s, insn, address, (rpt * selem * register_bytes) as u64);
    }

    /// LD1-LD4 and ST1-ST4 (single structure), LD1R-LD4R, with and without post-index.
    SINGLE_STRUCTURE = "LD1-LD4/ST1-ST4 (single structure), LD1R-LD4R", fn single_structure(s, insn) {
        let Some(target) = single_target(insn) else {
            return 0;
        };
        let t = bits(insn, 4, 0) as usize;
        let selem = single_selem(insn);
        let load = bit(insn, 22);
        let address = base(s, bits(insn, 9, 5) as usize);
        let size = match target {
            SingleTarget::Lane { size, .. } | SingleTarget::Replicate { size } => size,
        };
        let lane_bytes = 1usize << size;
        for j in 0..selem {
            let at = address.wrapping_add((j * lane_bytes) as u64);
            let v = (t + j) % 32;
            match target {
                SingleTarget::Replicate { .. } => {
                    let value = read_element(at, size);
                    by_size!(size, Unsigned, replicate_lanes(s, v, value, bit(insn, 30)));
                }
                SingleTarget::Lane { index, .. } => {
                    let mut bytes = read(s, v);
                    let lane = &mut bytes[(index * lane_bytes) & 15..][..lane_bytes];
                    if load {
                        lane.copy_from_slice(&read_element(at, size).to_le_bytes()[..lane_bytes]);
                        write(s, v, bytes);
                    } else {
                        let mut value = [0u8; 8];
                        value[..lane_bytes].copy_from_slice(lane);
                        write_element(at, size, u64::from_le_bytes(value));
                    }
                }
            }
        }
        write_back(s, insn, address, (selem * lane_bytes) as u64);
    }
}
