//! SIMD structure loads and stores: LD1-LD4/ST1-ST4 of multiple structures (LD1/ST1
//! with one to four registers), of a single structure to or from one lane, and the
//! replicating loads LD1R-LD4R.
//!
//! The base address is X`n` or SP (`n` = 31). Guest memory is host memory: LD1/ST1
//! move each register with one unaligned access, single-structure forms each element,
//! and LD2-LD4/ST2-ST4 copy their whole block at once (so, unlike on hardware, their
//! elements are not each single-copy atomic). The post-index forms add the transfer
//! size (`Rm` = 31) or X`m` to the base. Registers `Vt..Vt+3` wrap at 31.

use super::lanes::{bit, bits, by_size, clear_from, from_halves, get, helpers, set, Lane, Unsigned};
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
    single_element(bits(insn, 15, 14), bit(insn, 22), bits(insn, 30, 30), bits(insn, 12, 12), bits(insn, 11, 10))
}

/// The element of a single-structure access from its fields: `opcode<2:1>`, L, Q, S
/// and `size`; `None` when unallocated.
pub const fn single_element(opcode_high: u32, load: bool, q: u32, s: u32, size: u32) -> Option<SingleTarget> {
    match opcode_high {
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

/// Load (`load`) or store the `SELEM` registers from V`t` (`register_bytes` bytes
/// each) as interleaved structures of `T` elements at `address`: element `e` of
/// register `j` is element `e * SELEM + j` of memory.
///
/// # Safety
/// The guest memory accessed must be valid.
#[inline(always)]
unsafe fn transfer_structures<T: Lane, const SELEM: usize>(
    s: &mut CpuState,
    load: bool,
    t: usize,
    register_bytes: usize,
    address: u64,
) {
    // SAFETY: guest memory is host memory: the guest's addresses, a bad one faults as the guest's own access would.
    unsafe {
        let total = SELEM * register_bytes;
        let elements = register_bytes / T::BYTES;
        let zero = from_halves::<T>([0, 0]);
        // The memory block as up to four registers' worth of elements.
        let mut memory = [zero; 4];
        let mut registers = [zero; 4];
        let slot = |k: usize| (k / T::LANES, k % T::LANES);
        if load {
            core::ptr::copy_nonoverlapping(address as *const u8, memory.as_mut_ptr() as *mut u8, total);
            for e in 0..elements {
                for (j, register) in registers.iter_mut().enumerate().take(SELEM) {
                    let (v, lane) = slot(e * SELEM + j);
                    register.as_mut()[e] = memory[v].as_ref()[lane];
                }
            }
            for (j, register) in registers.iter().enumerate().take(SELEM) {
                set::<T>(s, (t + j) % 32, *register);
            }
        } else {
            for (j, register) in registers.iter_mut().enumerate().take(SELEM) {
                *register = get::<T>(s, (t + j) % 32);
            }
            for e in 0..elements {
                for (j, register) in registers.iter().enumerate().take(SELEM) {
                    let (v, lane) = slot(e * SELEM + j);
                    memory[v].as_mut()[lane] = register.as_ref()[e];
                }
            }
            core::ptr::copy_nonoverlapping(memory.as_ptr() as *const u8, address as *mut u8, total);
        }
    }
}

/// LDnR: the element at `address` to every lane of V`v` (of its low half unless
/// `q`, upper half zeroed).
///
/// # Safety
/// The address must be readable.
#[inline(always)]
unsafe fn replicate_lane<T: Lane>(s: &mut CpuState, v: usize, address: u64, q: bool) {
    // SAFETY: guest memory is host memory: the guest's address, a bad one faults as the guest's own access would.
    unsafe {
        let mut lanes = get::<T>(s, v);
        lanes.as_mut().fill((address as *const T).read_unaligned());
        set::<T>(s, v, lanes);
        clear_from(s, v, if q { 16 } else { 8 });
    }
}

/// Load (`load`) or store lane `index` of V`v` at `address`; other lanes are kept.
///
/// # Safety
/// The address must be readable or writable.
#[inline(always)]
unsafe fn transfer_lane<T: Lane>(s: &mut CpuState, v: usize, index: usize, address: u64, load: bool) {
    // SAFETY: guest memory is host memory: the guest's address, a bad one faults as the guest's own access would.
    unsafe {
        let mut lanes = get::<T>(s, v);
        let lane = &mut lanes.as_mut()[index % T::LANES];
        if load {
            *lane = (address as *const T).read_unaligned();
            set::<T>(s, v, lanes);
        } else {
            (address as *mut T).write_unaligned(*lane);
        }
    }
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
            let size = bits(insn, 11, 10);
            match selem {
                2 => by_size!(size, Unsigned, transfer_structures::<2>(s, load, t, register_bytes, address)),
                3 => by_size!(size, Unsigned, transfer_structures::<3>(s, load, t, register_bytes, address)),
                _ => by_size!(size, Unsigned, transfer_structures::<4>(s, load, t, register_bytes, address)),
            }
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
                    by_size!(size, Unsigned, replicate_lane(s, v, at, bit(insn, 30)));
                }
                SingleTarget::Lane { index, .. } => {
                    by_size!(size, Unsigned, transfer_lane(s, v, index, at, load));
                }
            }
        }
        write_back(s, insn, address, (selem * lane_bytes) as u64);
    }
}
