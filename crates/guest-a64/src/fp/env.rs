//! The floating-point environment of one instruction: the FPCR controls it reads
//! (rounding mode, flush-to-zero, default NaN, alternative half precision) and the
//! FPSR cumulative exception flags it raises.

/// FPSR cumulative exception flag bits.
pub mod flag {
    /// Invalid operation.
    pub const IOC: u32 = 1 << 0;
    /// Division by zero.
    pub const DZC: u32 = 1 << 1;
    /// Overflow.
    pub const OFC: u32 = 1 << 2;
    /// Underflow.
    pub const UFC: u32 = 1 << 3;
    /// Inexact.
    pub const IXC: u32 = 1 << 4;
    /// Input denormal (flushed to zero).
    pub const IDC: u32 = 1 << 7;
}

/// FPCR bits this implementation honours.
mod fpcr {
    /// Alternative half-precision format.
    pub const AHP: u32 = 1 << 26;
    /// Default NaN.
    pub const DN: u32 = 1 << 25;
    /// Flush to zero (single and double precision).
    pub const FZ: u32 = 1 << 24;
    /// Rounding mode, bits 23:22.
    pub const RMODE_SHIFT: u32 = 22;
}

/// How a result is rounded (the Arm ARM's `FPRounding`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Rounding {
    /// To nearest, ties to even (RN).
    TieEven,
    /// Towards plus infinity (RP).
    PosInf,
    /// Towards minus infinity (RM).
    NegInf,
    /// Towards zero (RZ).
    Zero,
    /// To nearest, ties away from zero (FCVTA*, FRINTA).
    TieAway,
    /// To odd (FCVTXN).
    Odd,
}

impl Rounding {
    /// The mode a two-bit `rmode` field encodes, as FPCR.RMode and the conversion
    /// instructions use it: 0 nearest, 1 plus infinity, 2 minus infinity, 3 zero.
    pub const fn from_rmode(rmode: u32) -> Rounding {
        match rmode & 3 {
            0 => Rounding::TieEven,
            1 => Rounding::PosInf,
            2 => Rounding::NegInf,
            _ => Rounding::Zero,
        }
    }
}

/// FPCR as one instruction sees it, and the FPSR flags it raised so far.
#[derive(Clone, Copy, Debug)]
pub struct Env {
    fpcr: u32,
    /// FPSR cumulative flags raised ([`flag`] bits); the helper ORs them into FPSR.
    pub flags: u32,
}

impl Env {
    pub const fn new(fpcr: u32) -> Env {
        Env { fpcr, flags: 0 }
    }

    /// FPCR.RMode (0 RN, 1 RP, 2 RM, 3 RZ).
    pub const fn rmode(&self) -> u32 {
        (self.fpcr >> fpcr::RMODE_SHIFT) & 3
    }

    /// The rounding mode FPCR selects.
    pub const fn rounding(&self) -> Rounding {
        Rounding::from_rmode(self.rmode())
    }

    /// FPCR.FZ: single and double denormals are flushed to zero on input and output.
    pub const fn flush_to_zero(&self) -> bool {
        self.fpcr & fpcr::FZ != 0
    }

    /// FPCR.DN: every NaN result is the default NaN.
    pub const fn default_nan(&self) -> bool {
        self.fpcr & fpcr::DN != 0
    }

    /// FPCR.AHP: half precision uses the alternative format (no infinities or NaNs).
    pub const fn alt_half(&self) -> bool {
        self.fpcr & fpcr::AHP != 0
    }

    /// Raise FPSR cumulative flags.
    pub fn raise(&mut self, flags: u32) {
        self.flags |= flags;
    }
}
