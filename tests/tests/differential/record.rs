//! The register record: the layout the harness code loads a sequence's initial state
//! from and dumps its final state to (little-endian, [`SIZE`] bytes).

/// Byte offsets inside a record. The harness code addresses them with LDP/STP
/// immediates, so they must stay small and aligned (checked below).
pub mod off {
    pub const X: usize = 0;
    pub const SP: usize = 248;
    pub const NZCV: usize = 256;
    pub const FPCR: usize = 264;
    pub const FPSR: usize = 272;
    /// TPIDR_EL0 (initial state only: the dump uses it as a temporary).
    pub const TPIDR: usize = 280;
    pub const V: usize = 288;
}

/// Size of one record.
pub const SIZE: usize = off::V + 32 * 16;

const _: () = assert!(off::X + 31 * 8 == off::SP && off::V.is_multiple_of(16) && off::V + 30 * 16 <= 63 * 16);

/// Architectural state of one sequence, before or after it runs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Regs {
    pub x: [u64; 31],
    pub sp: u64,
    pub nzcv: u64,
    pub fpcr: u64,
    pub fpsr: u64,
    pub tpidr: u64,
    pub v: [u128; 32],
}

impl Regs {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SIZE);
        for x in self.x {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for word in [self.sp, self.nzcv, self.fpcr, self.fpsr, self.tpidr] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        for v in self.v {
            out.extend_from_slice(&v.to_le_bytes());
        }
        debug_assert_eq!(out.len(), SIZE);
        out
    }

    /// Parse a record (`bytes.len() >= SIZE`).
    pub fn from_bytes(bytes: &[u8]) -> Regs {
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
        let u128_at = |o: usize| u128::from_le_bytes(bytes[o..o + 16].try_into().unwrap());
        Regs {
            x: core::array::from_fn(|i| u64_at(off::X + 8 * i)),
            sp: u64_at(off::SP),
            nzcv: u64_at(off::NZCV),
            fpcr: u64_at(off::FPCR),
            fpsr: u64_at(off::FPSR),
            tpidr: u64_at(off::TPIDR),
            v: core::array::from_fn(|i| u128_at(off::V + 16 * i)),
        }
    }

    /// Every field as (name, formatted value), in record order.
    pub fn fields(&self) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> =
            self.x.iter().enumerate().map(|(i, x)| (format!("x{i}"), format!("{x:#018x}"))).collect();
        fields.push(("sp".into(), format!("{:#018x}", self.sp)));
        fields.push(("nzcv".into(), format!("{:#010x}", self.nzcv)));
        fields.push(("fpcr".into(), format!("{:#010x}", self.fpcr)));
        fields.push(("fpsr".into(), format!("{:#010x}", self.fpsr)));
        fields.push(("tpidr".into(), format!("{:#018x}", self.tpidr)));
        fields.extend(self.v.iter().enumerate().map(|(i, v)| (format!("v{i}"), format!("{v:#034x}"))));
        fields
    }
}
