//! The aarch64 guest CPU state, reached from IR by byte offset.

use archway_ir::StateHeader;
use core::mem::offset_of;

/// Architectural state of one aarch64 guest thread (`#[repr(C)]`: IR and the JIT
/// address fields by the offsets below).
#[repr(C, align(16))]
#[derive(Debug, Clone)]
pub struct CpuState {
    pub header: StateHeader,
    /// X0..X30.
    pub x: [u64; 31],
    pub sp: u64,
    /// NZCV in bits 31..28, as `MRS NZCV` reads it.
    pub nzcv: u32,
    pub fpcr: u32,
    /// Cumulative FP exception flags (IOC, DZC, OFC, UFC, IXC, IDC) and QC.
    pub fpsr: u32,
    pub _pad0: u32,
    /// TPIDR_EL0 (thread pointer).
    pub tpidr: u64,
    /// Exclusive monitor: address of the last load-exclusive, or `NO_EXCLUSIVE`.
    pub excl_addr: u64,
    /// Exclusive monitor: value(s) read by the last load-exclusive.
    pub excl_value: [u64; 2],
    /// Exclusive monitor: size in bytes of the last load-exclusive (pairs: total).
    pub excl_size: u64,
    /// Keeps `v` 16-byte aligned (checked by a test).
    pub _pad1: u64,
    /// V0..V31, each as two little-endian 64-bit halves (low, high).
    pub v: [[u64; 2]; 32],
}

/// `excl_addr` value meaning the monitor is open (no reservation).
pub const NO_EXCLUSIVE: u64 = u64::MAX;

impl Default for CpuState {
    fn default() -> Self {
        CpuState {
            header: StateHeader::default(),
            x: [0; 31],
            sp: 0,
            nzcv: 0,
            fpcr: 0,
            fpsr: 0,
            _pad0: 0,
            tpidr: 0,
            excl_addr: NO_EXCLUSIVE,
            excl_value: [0; 2],
            excl_size: 0,
            _pad1: 0,
            v: [[0; 2]; 32],
        }
    }
}

/// Byte offsets of the fields, for IR `GetState`/`SetState`.
pub mod off {
    use super::*;
    /// Offset of X`n` (n < 31).
    pub const fn x(n: u32) -> u32 {
        offset_of!(CpuState, x) as u32 + 8 * n
    }
    pub const SP: u32 = offset_of!(CpuState, sp) as u32;
    pub const NZCV: u32 = offset_of!(CpuState, nzcv) as u32;
    pub const FPCR: u32 = offset_of!(CpuState, fpcr) as u32;
    pub const FPSR: u32 = offset_of!(CpuState, fpsr) as u32;
    pub const TPIDR: u32 = offset_of!(CpuState, tpidr) as u32;
    pub const EXCL_ADDR: u32 = offset_of!(CpuState, excl_addr) as u32;
    pub const EXCL_VALUE: u32 = offset_of!(CpuState, excl_value) as u32;
    pub const EXCL_SIZE: u32 = offset_of!(CpuState, excl_size) as u32;
    /// Offset of the low 64 bits of V`n`.
    pub const fn v_lo(n: u32) -> u32 {
        offset_of!(CpuState, v) as u32 + 16 * n
    }
    /// Offset of the high 64 bits of V`n`.
    pub const fn v_hi(n: u32) -> u32 {
        v_lo(n) + 8
    }
}

/// The fields with one name each, for IR dumps.
const NAMED_FIELDS: [(u32, &str); 10] = [
    (off::SP, "SP"),
    (off::NZCV, "NZCV"),
    (off::FPCR, "FPCR"),
    (off::FPSR, "FPSR"),
    (off::TPIDR, "TPIDR_EL0"),
    (off::EXCL_ADDR, "EXCL_ADDR"),
    (off::EXCL_VALUE, "EXCL_VALUE0"),
    (off::EXCL_VALUE + 8, "EXCL_VALUE1"),
    (off::EXCL_SIZE, "EXCL_SIZE"),
    ((offset_of!(CpuState, header) + offset_of!(StateHeader, pc)) as u32, "PC"),
];

/// The architectural name of the field at byte `offset` (`X1`, `SP`, `NZCV`, `V3` for
/// a vector register or its low half, `V3.D[1]` for its high half), for IR dumps.
pub fn field_name(offset: u32) -> Option<String> {
    let x0 = off::x(0);
    let v0 = off::v_lo(0);
    if (x0..off::SP).contains(&offset) && (offset - x0) & 7 == 0 {
        return Some(format!("X{}", (offset - x0) / 8));
    }
    if (v0..v0 + 32 * 16).contains(&offset) && (offset - v0) & 7 == 0 {
        let n = (offset - v0) / 16;
        return Some(if (offset - v0) & 15 == 0 { format!("V{n}") } else { format!("V{n}.D[1]") });
    }
    NAMED_FIELDS.iter().find(|(at, _)| *at == offset).map(|(_, name)| name.to_string())
}

impl CpuState {
    /// A view of the state as the raw pointer IR and helpers take.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self as *mut CpuState as *mut u8
    }

    /// The state behind a raw pointer handed to a helper.
    ///
    /// # Safety
    /// `p` must point to a live `CpuState` not otherwise borrowed.
    pub unsafe fn from_ptr<'a>(p: *mut u8) -> &'a mut CpuState {
        // SAFETY: the caller guarantees a live CpuState not otherwise borrowed.
        unsafe { &mut *(p as *mut CpuState) }
    }

    /// V`n` as a u128.
    pub fn vreg(&self, n: usize) -> u128 {
        (self.v[n][0] as u128) | ((self.v[n][1] as u128) << 64)
    }

    /// Set V`n` from a u128.
    pub fn set_vreg(&mut self, n: usize, value: u128) {
        self.v[n] = [value as u64, (value >> 64) as u64];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_stable() {
        assert_eq!(off::x(0), archway_ir::state::HEADER_SIZE);
        assert_eq!(off::SP, off::x(0) + 31 * 8);
        assert_eq!(off::v_lo(0) % 16, 0);
    }

    #[test]
    fn fields_have_their_architectural_names() {
        assert_eq!(field_name(off::x(1)).as_deref(), Some("X1"));
        assert_eq!(field_name(off::x(30)).as_deref(), Some("X30"));
        assert_eq!(field_name(off::SP).as_deref(), Some("SP"));
        assert_eq!(field_name(off::NZCV).as_deref(), Some("NZCV"));
        assert_eq!(field_name(off::v_lo(31)).as_deref(), Some("V31"));
        assert_eq!(field_name(off::v_hi(2)).as_deref(), Some("V2.D[1]"));
        assert_eq!(field_name(off::x(1) + 4), None);
    }
}
