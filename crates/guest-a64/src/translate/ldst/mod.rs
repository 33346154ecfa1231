//! Loads and stores: the A64 "Loads and Stores" encoding group (op0 = x1x0), except
//! the Advanced SIMD structure forms (`LD1`..`LD4`, `ST1`..`ST4`), which live with SIMD.
//!
//! - [`access`]: what one register transfer does (register file, size, extension).
//! - [`address`]: addressing modes: immediate offset, pre/post-index, register
//!   offset, literal.
//! - [`single`]: single-register `LDR`/`STR` forms of general and SIMD&FP registers,
//!   `PRFM`, `LDAPUR`/`STLUR`.
//! - [`pair`]: register pairs, `LDP`/`STP`/`LDNP`/`STNP`/`LDPSW`.
//! - [`ordered`]: `LDAR`/`STLR`/`LDAPR` and the LORegion forms.
//! - [`exclusive`] and [`monitor`]: `LDXR`/`STXR` and friends, and the exclusive
//!   monitor model (value-based; what that gives up is written there).
//! - [`atomic`]: LSE atomics (`LD<op>`, `SWP`, `CAS`, `CASP`).
//! - [`host_cas`]: host compare-and-swap used by the helpers.
//!
//! Guest memory is host memory, so an access is one IR `Load`/`Store` at the guest
//! address. Nothing here panics on any instruction word: unallocated combinations
//! translate to [`Flow::Undefined`](crate::translate::Flow::Undefined).
//! CONSTRAINED UNPREDICTABLE cases get one fixed behaviour, documented where they arise
//! (chiefly: when a load's destination is its written-back base, the loaded value wins).

mod access;
mod address;
mod atomic;
mod exclusive;
mod host_cas;
mod monitor;
mod ordered;
mod pair;
mod single;
#[cfg(test)]
mod tests;

use crate::decode::Entry;
use archway_ir::{MemOrder, Type};

/// The submodules' tables.
const TABLES: [&[Entry]; 5] = [single::TABLE, pair::TABLE, ordered::TABLE, exclusive::TABLE, atomic::TABLE];

/// Every load/store entry: the submodules' tables one after another.
pub const TABLE: &[Entry] = &concat::<{ total_len(&TABLES) }>(&TABLES);

const fn total_len(tables: &[&[Entry]]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < tables.len() {
        len += tables[i].len();
        i += 1;
    }
    len
}

/// The entries of `tables` in one array of their total length `N`.
const fn concat<const N: usize>(tables: &[&[Entry]]) -> [Entry; N] {
    let mut out = [tables[0][0]; N];
    let mut k = 0;
    let mut i = 0;
    while i < tables.len() {
        let mut j = 0;
        while j < tables[i].len() {
            out[k] = tables[i][j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// The ordering of `LDAR`-like load-acquires. They are RCsc: not reordered with an
/// earlier store-release, which in the IR is what [`MemOrder::AcqRel`] says (plain
/// [`MemOrder::Acquire`] is the RCpc `LDAPR`).
const RCSC_ACQUIRE: MemOrder = MemOrder::AcqRel;

/// The access size given by the `size` field of the exclusive, ordered and atomic forms.
fn mem_type(size: u32) -> Type {
    match size {
        0b00 => Type::I8,
        0b01 => Type::I16,
        0b10 => Type::I32,
        _ => Type::I64,
    }
}
