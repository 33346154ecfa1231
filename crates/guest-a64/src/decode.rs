//! The A64 decoder table and the fields its patterns name.
//!
//! Each encoding-class module in [`crate::translate`] lists its instructions as
//! bit patterns in the style of the Arm ARM (and Dynarmic's `a64.inc`), most
//! significant bit first: `'0'`/`'1'` are fixed bits, and every other character is a
//! letter of [`LEGEND`] naming the operand field the bit belongs to.
//! [`Pattern::new`] turns a pattern into a mask/value pair and one mask per letter at
//! compile time. [`lookup`] finds the first entry whose fixed bits match, searching
//! only the entries of the instruction's major class (bits 28..25), most specific
//! first; the handler then reads its operands by letter through [`Fields`].
//!
//! A field's value is its bits gathered in order, most significant first, so a field
//! may be split across the word (TBZ's `b5:b40` is one `b`, FMADD's `o1:o0` one `o`).

use crate::translate::{Ctx, Flow};
use std::sync::OnceLock;

/// The letters patterns may use, each with the field it names. Lower-case letters are
/// multi-bit fields (or the Arm ARM's lower-case one-bit fields); upper-case letters
/// are the Arm ARM's one-bit fields of that name, with their meaning in the
/// instruction's encoding class. Every row of every table uses this legend.
pub const LEGEND: &[(u8, &str)] = &[
    (b'f', "sf: 64-bit (1) or 32-bit (0) general-register operation"),
    (b'd', "Rd / Vd: destination register"),
    (b'n', "Rn / Vn: first source or base register"),
    (b'm', "Rm / Vm: second source or offset register"),
    (b't', "Rt / Vt: transfer register of a load or store (or the register of MRS, MSR, SYS)"),
    (b'a', "Ra / Rt2: third source register, or the second transfer register of a pair"),
    (b's', "Rs: status or compare register of exclusives, atomics and CAS"),
    (b'z', "size / sz: element or access size"),
    (b'p', "ftype: floating-point precision (00 single, 01 double, 11 half)"),
    (b'v', "V: the transfer register is a SIMD&FP register"),
    (b'o', "op / opc / opcode (o1:o0, op:o2, a:opcode ...): the operation within the row"),
    (b'k', "rmode: rounding mode of a floating-point to integer conversion"),
    (b'i', "imm: the row's immediate (imm12, imm19, scale, a:b:c:d:e:f:g:h, TBL's len, CRm ...)"),
    (b'j', "second immediate: ADR's immlo, SIMD copy's imm4"),
    (b'r', "immr: rotate amount of a bitmask or bitfield"),
    (b'w', "imms: top bit (width) of a bitmask or bitfield"),
    (b'b', "b5:b40: bit number tested by TBZ, TBNZ; immb: low bits of a SIMD shift"),
    (b'h', "shift / sh / hw / immh: shift type or amount, SIMD shift's high bits"),
    (b'x', "option: register extend type"),
    (b'c', "cond / cmode: condition code, or SIMD modified-immediate mode"),
    (b'y', "o0:op1:CRn:CRm:op2: system register or operation"),
    (b'F', "nzcv: the flags of a conditional compare"),
    (b'S', "S: set flags (data processing), scaled offset (loads and stores), index bit (SIMD structures)"),
    (b'N', "N: inverted operand (logical), bitmask element-size bit (bitfield, logical immediate)"),
    (b'U', "U: unsigned"),
    (b'Q', "Q: 128-bit vector"),
    (b'L', "L: load (loads and stores) or element index bit (by-element operations)"),
    (b'M', "M: element index bit or Rm<4> (by-element operations)"),
    (b'H', "H: element index bit (by-element operations)"),
    (b'A', "A / o0 of a load: acquire"),
    (b'R', "R / o0 of a store: release; R of SIMD single-structure loads and stores: register count"),
    (b'E', "E: signalling floating-point compare (FCMPE, FCCMPE)"),
    (b'Z', "compare with zero (FCMP #0.0)"),
    (b'I', "immediate form of a conditional compare"),
    (b'C', "C: CRC32C (Castagnoli polynomial)"),
];

/// Most distinct letters one pattern may use.
const MAX_FIELDS: usize = 12;

/// Whether `letter` is in [`LEGEND`].
pub const fn in_legend(letter: u8) -> bool {
    let mut i = 0;
    while i < LEGEND.len() {
        if LEGEND[i].0 == letter {
            return true;
        }
        i += 1;
    }
    false
}

/// A parsed 32-character pattern: the fixed bits' mask and value, and the mask of
/// each letter's bits.
#[derive(Clone, Copy, Debug)]
pub struct Pattern {
    /// The pattern as written.
    pub text: &'static str,
    /// Bits fixed by `'0'`/`'1'`.
    pub mask: u32,
    /// Their values.
    pub value: u32,
    /// The letters used, in order of first use, and each letter's bit mask.
    fields: [(u8, u32); MAX_FIELDS],
    field_count: usize,
}

impl Pattern {
    /// Parse a pattern written most significant bit first. Fails at compile time when
    /// the pattern is not 32 characters of `'0'`, `'1'` and [`LEGEND`] letters.
    pub const fn new(text: &'static str) -> Pattern {
        let bytes = text.as_bytes();
        assert!(bytes.len() == 32, "A64 pattern must have 32 characters");
        let mut pattern = Pattern { text, mask: 0, value: 0, fields: [(0, 0); MAX_FIELDS], field_count: 0 };
        let mut i = 0;
        while i < 32 {
            let bit = 1u32 << (31 - i);
            match bytes[i] {
                b'0' => pattern.mask |= bit,
                b'1' => {
                    pattern.mask |= bit;
                    pattern.value |= bit;
                }
                letter => {
                    assert!(in_legend(letter), "A64 pattern letter not in decode::LEGEND");
                    let mut slot = 0;
                    while slot < pattern.field_count && pattern.fields[slot].0 != letter {
                        slot += 1;
                    }
                    if slot == pattern.field_count {
                        assert!(slot < MAX_FIELDS, "too many fields in one A64 pattern");
                        pattern.fields[slot].0 = letter;
                        pattern.field_count += 1;
                    }
                    pattern.fields[slot].1 |= bit;
                }
            }
            i += 1;
        }
        pattern
    }

    /// Whether `insn`'s fixed bits are this pattern's.
    pub const fn matches(&self, insn: u32) -> bool {
        insn & self.mask == self.value
    }

    /// The bit mask of field `letter`, or `None` when the pattern does not use it.
    pub fn field_mask(&self, letter: char) -> Option<u32> {
        self.fields[..self.field_count].iter().find(|(l, _)| char::from(*l) == letter).map(|&(_, mask)| mask)
    }
}

/// The operand fields of one instruction word, read by the letters of the pattern it
/// matched. Asking for a letter the row's pattern does not use is a bug in the
/// handler and panics (in release builds too: the tests run them).
#[derive(Clone, Copy)]
pub struct Fields {
    insn: u32,
    entry: &'static Entry,
}

impl Fields {
    /// The fields of `insn`, which matched `entry`.
    pub fn new(insn: u32, entry: &'static Entry) -> Fields {
        Fields { insn, entry }
    }

    /// The bit mask of field `letter` in this row's pattern.
    fn mask(self, letter: char) -> u32 {
        let Some(mask) = self.entry.pattern.field_mask(letter) else {
            panic!("decoder row {} ({}) has no field '{letter}'", self.entry.name, self.entry.pattern.text);
        };
        mask
    }

    /// Field `letter`: its bits gathered most significant first.
    pub fn get(self, letter: char) -> u32 {
        gather(self.insn, self.mask(letter))
    }

    /// One-bit field `letter` as a flag.
    pub fn bit(self, letter: char) -> bool {
        let mask = self.mask(letter);
        assert_eq!(mask.count_ones(), 1, "field '{letter}' of {} is not one bit", self.entry.name);
        self.insn & mask != 0
    }

    /// Register-number field `letter` (0..=31; what 31 means is the handler's).
    pub fn reg(self, letter: char) -> u32 {
        self.get(letter)
    }

    /// Field `letter` as a two's complement number of its width.
    pub fn signed(self, letter: char) -> i64 {
        let mask = self.mask(letter);
        let width = mask.count_ones();
        let value = u64::from(gather(self.insn, mask));
        ((value << (64 - width)) as i64) >> (64 - width)
    }

    /// The number of bits of field `letter`.
    pub fn width(self, letter: char) -> u32 {
        self.entry.pattern.field_mask(letter).map_or(0, u32::count_ones)
    }

    /// The whole instruction word, for the rare handler that needs more than its fields.
    pub fn insn(self) -> u32 {
        self.insn
    }
}

/// The bits of `insn` under `mask`, packed together most significant first: one shift
/// for a contiguous field (most are), a run at a time for a split one.
fn gather(insn: u32, mask: u32) -> u32 {
    let mut value = 0;
    let mut rest = mask;
    while rest != 0 {
        let top = 31 - rest.leading_zeros();
        // The run of ones that ends (from the top) at `top`.
        let run = (!(rest << (31 - top))).leading_zeros();
        let low = top + 1 - run;
        let run_mask = ((1u64 << run) - 1) as u32;
        value = (value << run) | ((insn >> low) & run_mask);
        rest &= !(run_mask << low);
    }
    value
}

/// Translates one instruction that matched an entry's pattern, given its fields.
pub type Handler = fn(&mut Ctx, Fields) -> Flow;

/// One row of the decoder table.
#[derive(Clone, Copy)]
pub struct Entry {
    pub name: &'static str,
    pub pattern: Pattern,
    pub handler: Handler,
}

impl Entry {
    /// Translate `insn` (which matches this entry) with the entry's handler.
    pub fn translate(&'static self, ctx: &mut Ctx, insn: u32) -> Flow {
        (self.handler)(ctx, Fields::new(insn, self))
    }
}

/// Make a table row: `inst("ADDSUB_imm", "foS100010hiiiiiiiiiiiinnnnnddddd", add_sub_imm)`.
pub const fn inst(name: &'static str, pattern: &'static str, handler: Handler) -> Entry {
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

/// One bucket row: an entry's fixed-bits mask and value next to it, so that a lookup
/// scans these compact triples rather than the entries with their field masks.
type Candidate = (u32, u32, &'static Entry);

/// The bits of an instruction that choose its bucket: 31..21, which hold the major class
/// (28..25) and most of what tells the rows of a class apart (size, Q, U, opc...).
const KEY_SHIFT: u32 = 21;
/// Number of buckets: one per value of the key bits.
const BUCKETS: usize = 1 << (32 - KEY_SHIFT);

/// Every entry, most specific first (stable: rows of equal specificity keep the
/// table's order).
fn by_specificity() -> &'static [&'static Entry] {
    static SORTED: OnceLock<Vec<&'static Entry>> = OnceLock::new();
    SORTED.get_or_init(|| {
        let mut entries: Vec<&'static Entry> = entries().collect();
        entries.sort_by_key(|entry| core::cmp::Reverse(entry.pattern.mask.count_ones()));
        entries
    })
}

/// The bucket of `key`: the entries that can match an instruction whose key bits are
/// `key` (their fixed bits among the key bits agree), most specific first. Made on first
/// use, so a short process pays only for the keys its code uses.
fn bucket(key: usize) -> &'static [Candidate] {
    static TABLE: [OnceLock<Box<[Candidate]>>; BUCKETS] = [const { OnceLock::new() }; BUCKETS];
    TABLE[key].get_or_init(|| {
        by_specificity()
            .iter()
            .filter(|entry| {
                (entry.pattern.mask & (entry.pattern.value ^ ((key as u32) << KEY_SHIFT))) >> KEY_SHIFT == 0
            })
            .map(|&entry| (entry.pattern.mask, entry.pattern.value, entry))
            .collect()
    })
}

/// The table entry for `insn`, or `None` when the encoding is not implemented
/// (the translator turns that into SIGILL).
pub fn lookup(insn: u32) -> Option<&'static Entry> {
    bucket((insn >> KEY_SHIFT) as usize)
        .iter()
        .find(|&&(mask, value, _)| insn & mask == value)
        .map(|&(_, _, entry)| entry)
}

/// Every entry, for tests that check the table (no overlaps hidden by order, names).
pub fn entries() -> impl Iterator<Item = &'static Entry> {
    all_tables().into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_packs_the_bits_of_any_mask_most_significant_first() {
        let naive = |insn: u32, mask: u32| {
            (0..32).rev().filter(|b| mask >> b & 1 != 0).fold(0, |value, b| (value << 1) | (insn >> b & 1))
        };
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..10_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let (insn, mask) = (state as u32, (state >> 32) as u32 & 0x7fff_ffff);
            assert_eq!(gather(insn, mask), naive(insn, mask), "{insn:#x} under {mask:#x}");
        }
        assert_eq!(gather(0xffff_ffff, 0x60ff_ffe0), (1 << 21) - 1);
        assert_eq!(gather(0x4000_0020, 0x60ff_ffe0), 0b10 << 19 | 1);
    }
    use archway_ir::BlockBuilder;

    fn no_op(_: &mut Ctx, _: Fields) -> Flow {
        Flow::Continue
    }

    #[test]
    fn pattern_parses_fixed_bits_and_field_masks() {
        let p = Pattern::new("f0010001hhiiiiiiiiiiiinnnnnddddd");
        assert_eq!(p.mask, 0x7f00_0000);
        assert_eq!(p.value, 0x1100_0000);
        assert!(p.matches(0x9100_0400)); // add x0, x0, #1
        assert_eq!(p.field_mask('i'), Some(0x003f_fc00));
        assert_eq!(p.field_mask('f'), Some(0x8000_0000));
        assert_eq!(p.field_mask('m'), None);
    }

    #[test]
    fn split_fields_gather_most_significant_first() {
        static TBZ: Entry = inst("TBZ", "b011011obbbbbiiiiiiiiiiiiiittttt", no_op);
        // tbnz x3, #33, . + 8
        let f = Fields::new(0xb708_0043, &TBZ);
        assert_eq!(f.get('b'), 33);
        assert!(f.bit('o'));
        assert_eq!(f.signed('i'), 2);
        assert_eq!(f.reg('t'), 3);
        assert_eq!(f.width('i'), 14);
    }

    #[test]
    #[should_panic(expected = "has no field 'm'")]
    fn asking_for_a_letter_the_row_lacks_panics() {
        static TBZ: Entry = inst("TBZ", "b011011obbbbbiiiiiiiiiiiiiittttt", no_op);
        Fields::new(0xb708_0043, &TBZ).get('m');
    }

    #[test]
    fn every_row_is_32_fixed_bits_or_legend_letters() {
        for (class, table) in tables() {
            for entry in table {
                let text = entry.pattern.text;
                assert_eq!(text.len(), 32, "{class} {}: {text}", entry.name);
                for letter in text.bytes().filter(|&c| c != b'0' && c != b'1') {
                    assert!(in_legend(letter), "{class} {}: '{}' is not in LEGEND", entry.name, letter as char);
                }
            }
        }
    }

    /// Every handler, given random operand bits of its row, reads only letters the row
    /// defines ([`Fields::get`] panics otherwise).
    #[test]
    fn every_handler_reads_only_its_rows_letters() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for entry in entries() {
            for _ in 0..256 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let word = entry.pattern.value | (seed as u32 & !entry.pattern.mask);
                let mut ctx = Ctx { b: BlockBuilder::new(0x1000), pc: 0x1000 };
                ctx.b.begin_guest_insn(0x1000, word);
                entry.translate(&mut ctx, word);
            }
        }
    }

    #[test]
    fn legend_letters_are_distinct_and_each_used_by_some_row() {
        for (i, (letter, _)) in LEGEND.iter().enumerate() {
            assert!(letter.is_ascii_alphabetic());
            assert!(LEGEND[i + 1..].iter().all(|(other, _)| other != letter), "{} twice", *letter as char);
            let used = entries().any(|e| e.pattern.text.as_bytes().contains(letter));
            assert!(used, "LEGEND letter '{}' is used by no row", *letter as char);
        }
    }
}
