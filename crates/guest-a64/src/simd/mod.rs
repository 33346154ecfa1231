//! Helpers for the Advanced SIMD integer instructions.
//!
//! The IR has no vector types: [`crate::translate::simd`] turns every Advanced SIMD
//! integer, permute and structure load/store instruction into one helper call whose
//! only argument is the instruction word. The helper re-reads its fields (registers,
//! `size`, Q, immediates) and works on [`crate::CpuState`] directly: `V` registers as
//! lane arrays (`[u8; 16]`, `[u16; 8]`...), FPSR.QC for saturation, X registers for
//! UMOV/SMOV/DUP/INS and structure addressing, and guest (= host) memory for
//! structure loads and stores.
//!
//! Helpers are named statics (`arith::ADD`, `reduce::UMAXP`...) so IR dumps name the
//! instruction. They trust the translator to call them only with allocated
//! encodings, and never panic on any word.
//!
//! Conventions, as the architecture has them: a 64-bit vector operation (Q clear)
//! zeroes bits 127..64 of the destination; a scalar result zeroes every bit above it;
//! a saturating operation that clamps any lane sets FPSR.QC (bit 27).
//!
//! - [`lanes`]: lane types, arrangement fields, saturation.
//! - [`lanewise`]: the lane-by-lane shape shared by most instructions.
//! - [`arith`]: three-same arithmetic and comparisons (and by element).
//! - [`unary`]: one-register lane operations (ABS, NEG, compares with zero, CLZ,
//!   URECPE...).
//! - [`shift`]: shifts by register and by immediate.
//! - [`bitwise`]: AND, ORR, EOR, BSL/BIT/BIF, NOT, RBIT, CNT.
//! - [`reduce`]: pairwise and across-lanes operations.
//! - [`widen`]: long, wide and narrowing operations.
//! - [`copy`]: DUP, INS, UMOV, SMOV and the modified immediates.
//! - [`permute`]: ZIP, UZP, TRN, EXT, TBL/TBX, REV.
//! - [`structure`]: LD1-LD4/ST1-ST4 structure loads and stores, LDnR.

pub mod lanes;
pub mod lanewise;

pub mod arith;
pub mod bitwise;
pub mod copy;
pub mod permute;
pub mod reduce;
pub mod shift;
pub mod structure;
pub mod unary;
pub mod widen;

#[cfg(test)]
pub(crate) mod tests;
