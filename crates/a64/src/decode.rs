//! The A64 decoder table.
//!
//! Each encoding-class module in [`crate::translate`] lists its instructions as
//! bit patterns in the style of the Arm ARM (and Dynarmic's `a64.inc`):
//! `'0'`/`'1'` are fixed bits, any other character is an operand bit. The pattern
//! string is turned into a mask/value pair at compile time by [`Pattern::new`].
//! [`lookup`] finds the first entry whose fixed bits match, searching only the
//! entries of the instruction's major class (bits 28..25), most specific first.

use crate::translate::{Ctx, Flow};
use std::sync::OnceLock;

/// A fixed-bits mask and value parsed from a 32-character pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pattern {
    pub mask: u32,
    pub value: u32,
}

impl Pattern {
    /// Parse a pattern written most significant bit first. Panics at compile time
    /// when the pattern is not 32 characters long.
    pub const fn new(pattern: &str) -> Pattern {
        let bytes = pattern.as_bytes();
        assert!(bytes.len() == 32, "A64 pattern must have 32 characters");
        let mut mask = 0u32;
        let mut value = 0u32;
        let mut i = 0;
        while i < 32 {
            let bit = 31 - i as u32;
            match bytes[i] {
                b'0' => mask |= 1 << bit,
                b'1' => {
                    mask |= 1 << bit;
                    value |= 1 << bit;
                }
                _ => {}
            }
            i += 1;
        }
        Pattern { mask, value }
    }

    pub const fn matches(self, insn: u32) -> bool {
        insn & self.mask == self.value
    }
}

/// Translates one instruction that matched an entry's pattern.
pub type Handler = fn(&mut Ctx, u32) -> Flow;

/// One row of the decoder table.
#[derive(Clone, Copy)]
pub struct Entry {
    pub name: &'static str,
    pub pattern: Pattern,
    pub handler: Handler,
}

/// Make a table row: `inst("ADD_imm", "x0010001ssiiiiiiiiiiiinnnnnddddd", add_imm)`.
pub const fn inst(name: &'static str, pattern: &str, handler: Handler) -> Entry {
    Entry { name, pattern: Pattern::new(pattern), handler }
}

/// Every encoding-class table with its class name (the [`crate::translate`] module it
/// comes from), in no particular order. Tests use the names to report coverage.
pub fn tables() -> [(&'static str, &'static [Entry]); 6] {
    [
        ("dp_imm", crate::translate::dp_imm::TABLE),
        ("dp_reg", crate::translate::dp_reg::TABLE),
        ("branch", crate::translate::branch::TABLE),
        ("ldst", crate::translate::ldst::TABLE),
        ("fp", crate::translate::fp::TABLE),
        ("simd", crate::translate::simd::TABLE),
    ]
}

/// All encoding-class tables, in no particular order.
fn all_tables() -> [&'static [Entry]; 6] {
    tables().map(|(_, table)| table)
}

/// The table split by major class (bits 28..25), each bucket most specific first.
fn buckets() -> &'static [Vec<Entry>; 16] {
    static BUCKETS: OnceLock<[Vec<Entry>; 16]> = OnceLock::new();
    BUCKETS.get_or_init(|| {
        let mut buckets: [Vec<Entry>; 16] = Default::default();
        for entry in all_tables().into_iter().flatten() {
            for (op0, bucket) in buckets.iter_mut().enumerate() {
                let probe = Pattern { mask: 0xf << 25, value: (op0 as u32) << 25 };
                // The entry can match instructions of this class if its fixed bits in
                // 28..25 agree with op0.
                if entry.pattern.mask & probe.mask & (entry.pattern.value ^ probe.value) == 0 {
                    bucket.push(*entry);
                }
            }
        }
        for bucket in buckets.iter_mut() {
            bucket.sort_by_key(|e| core::cmp::Reverse(e.pattern.mask.count_ones()));
        }
        buckets
    })
}

/// The table entry for `insn`, or `None` when the encoding is not implemented
/// (the translator turns that into SIGILL).
pub fn lookup(insn: u32) -> Option<&'static Entry> {
    let op0 = ((insn >> 25) & 0xf) as usize;
    buckets()[op0].iter().find(|e| e.pattern.matches(insn))
}

/// Every entry, for tests that check the table (no overlaps hidden by order, names).
pub fn entries() -> impl Iterator<Item = &'static Entry> {
    all_tables().into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_parses_fixed_and_operand_bits() {
        let p = Pattern::new("x0010001ssiiiiiiiiiiiinnnnnddddd");
        assert_eq!(p.mask, 0x7f00_0000);
        assert_eq!(p.value, 0x1100_0000);
        assert!(p.matches(0x9100_0400)); // add x0, x0, #1
    }
}
