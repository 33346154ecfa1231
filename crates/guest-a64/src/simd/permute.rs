//! Byte and lane rearrangements: ZIP1/ZIP2, UZP1/UZP2, TRN1/TRN2, EXT, TBL/TBX
//! (one to four table registers) and REV16/REV32/REV64.

use super::lanes::{
    bit, bits, by_size, clear_from, cpu, get, helpers, read, set, write, Bytes, Fields, Lane, Unsigned,
};
use crate::state::CpuState;
use archway_ir::Helper;

/// The permutes, by the class's `opcode` field (bits 14..12).
pub mod kind {
    pub const UZP1: u32 = 0b001;
    pub const TRN1: u32 = 0b010;
    pub const ZIP1: u32 = 0b011;
    pub const UZP2: u32 = 0b101;
    pub const TRN2: u32 = 0b110;
    pub const ZIP2: u32 = 0b111;
}

/// Where lane `i` of a `lanes`-lane permute result comes from: (`Vm` rather than
/// `Vn`, lane index).
#[inline(always)]
fn source_lane<const KIND: u32>(i: usize, lanes: usize) -> (bool, usize) {
    let half = lanes / 2;
    let odd = i & 1 == 1;
    match KIND {
        // UZP: the even (odd) lanes of the pair Vm:Vn.
        kind::UZP1 | kind::UZP2 => {
            let j = 2 * i + (KIND == kind::UZP2) as usize;
            (j >= lanes, j % lanes)
        }
        kind::TRN1 => (odd, i & !1),
        kind::TRN2 => (odd, i | 1),
        kind::ZIP1 => (odd, i / 2),
        _ => (odd, half + i / 2),
    }
}

/// A helper for the permute `KIND` (a [`kind`] constant).
pub const fn permute<const KIND: u32>(name: &'static str) -> Helper {
    Helper { name, func: permute_entry::<KIND>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn permute_entry<const KIND: u32>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    by_size!(f.size, Unsigned, permute_lanes::<{ KIND }>(s, f));
    0
}

#[inline(always)]
fn permute_lanes<T: Lane, const KIND: u32>(s: &mut CpuState, f: Fields) {
    let (n, m) = (get::<T>(s, f.n), get::<T>(s, f.m));
    let lanes = f.active_bytes(16) / T::BYTES;
    let mut r = n;
    for (i, lane) in r.as_mut().iter_mut().enumerate() {
        let (from_m, j) = source_lane::<KIND>(i, lanes);
        *lane = if from_m { m.as_ref()[j % T::LANES] } else { n.as_ref()[j % T::LANES] };
    }
    set::<T>(s, f.d, r);
    clear_from(s, f.d, f.active_bytes(16));
}

pub static UZP1: Helper = permute::<{ kind::UZP1 }>("UZP1");
pub static UZP2: Helper = permute::<{ kind::UZP2 }>("UZP2");
pub static TRN1: Helper = permute::<{ kind::TRN1 }>("TRN1");
pub static TRN2: Helper = permute::<{ kind::TRN2 }>("TRN2");
pub static ZIP1: Helper = permute::<{ kind::ZIP1 }>("ZIP1");
pub static ZIP2: Helper = permute::<{ kind::ZIP2 }>("ZIP2");

/// A helper reversing the order of the elements (of `size`) in every `CONTAINER`-byte
/// container: REV16 (2), REV32 (4), REV64 (8).
pub const fn reverse<const CONTAINER: usize>(name: &'static str) -> Helper {
    Helper { name, func: reverse_entry::<CONTAINER>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn reverse_entry<const CONTAINER: usize>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    let n = read(s, f.n);
    let esize = (1usize << f.size).min(CONTAINER);
    let mut r: Bytes = [0; 16];
    for (j, byte) in r.iter_mut().enumerate() {
        let within = j % CONTAINER;
        let mirrored = CONTAINER - esize - (within - within % esize) + within % esize;
        *byte = n[j - within + mirrored];
    }
    write(s, f.d, r);
    clear_from(s, f.d, f.active_bytes(16));
    0
}

pub static REV16: Helper = reverse::<2>("REV16");
pub static REV32: Helper = reverse::<4>("REV32");
pub static REV64: Helper = reverse::<8>("REV64");

helpers! {
    /// EXT: bytes `imm4..` of the pair `Vm:Vn` (of their low halves for 64-bit vectors).
    EXT = "EXT", fn ext(s, insn) {
        let f = Fields::of(insn as u64);
        let bytes = f.active_bytes(16);
        let start = bits(insn, 14, 11) as usize;
        let (n, m) = (read(s, f.n), read(s, f.m));
        let mut r: Bytes = [0; 16];
        for (i, byte) in r.iter_mut().enumerate().take(bytes) {
            let j = (start + i) % (2 * bytes);
            *byte = if j < bytes { n[j] } else { m[j - bytes] };
        }
        write(s, f.d, r);
    }

    /// TBL and TBX: bytes of the table `Vn..Vn+len` (registers wrap at 31) chosen by
    /// the bytes of `Vm`; an index past the table gives 0 (TBL) or keeps `Vd` (TBX).
    TABLE_LOOKUP = "TBL/TBX", fn table_lookup(s, insn) {
        let f = Fields::of(insn as u64);
        let registers = bits(insn, 14, 13) as usize + 1;
        let extend = bit(insn, 12);
        let mut table = [0u8; 64];
        for r in 0..registers {
            table[16 * r..16 * (r + 1)].copy_from_slice(&read(s, (f.n + r) % 32));
        }
        let indices = read(s, f.m);
        let d = read(s, f.d);
        let mut r: Bytes = [0; 16];
        for i in 0..f.active_bytes(16) {
            let index = indices[i] as usize;
            r[i] = if index < 16 * registers {
                table[index & 63]
            } else if extend {
                d[i]
            } else {
                0
            };
        }
        write(s, f.d, r);
    }
}
