//! The constraint policy: how random operand bits are fixed up so a sequence never
//! faults, never leaves itself, and never does something whose result legitimately
//! differs between qemu and archway.
//!
//! Rules are keyed by *architectural encoding* (Arm ARM bit patterns), not by decoder
//! entry names, so entries other workers add later are constrained without touching
//! this file, whatever they are called. Every rule whose pattern matches the word
//! (as fixed up so far) applies, in table order; a rule that excludes makes the
//! generator draw another word.
//!
//! Memory: each sequence owns a [`SCRATCH_BYTES`] scratch buffer. Loads and stores use
//! the base register [`reg::BASE`] (scratch + [`BASE_OFFSET`]); writeback may move it,
//! so immediates are limited to keep every access inside the buffer (the bound is
//! checked below). Accesses that must be aligned (exclusives, acquire/release, LSE
//! atomics) use [`reg::ALIGNED_BASE`], which nothing writes. Register-offset forms
//! index with [`reg::INDEX`], a small non-negative value.

use crate::rng::Rng;
use archway_guest_a64::decode::Pattern;
use archway_guest_a64::features::sys_reg;

/// Registers the harness gives fixed meanings; generated instructions never write them.
pub mod reg {
    /// Source of `MSR FPCR`/`MSR FPSR`: a random value without the bits only qemu keeps.
    pub const MSR_SOURCE: u32 = 25;
    /// Base of accesses that must be aligned: scratch + `ALIGNED_BASE_OFFSET`.
    pub const ALIGNED_BASE: u32 = 26;
    /// Index of register-offset forms: `0..=INDEX_MAX`.
    pub const INDEX: u32 = 27;
    /// Base of every other access: scratch + `BASE_OFFSET`.
    pub const BASE: u32 = 28;
}

/// Registers no generated instruction may write.
pub const RESERVED: [u32; 4] = [reg::MSR_SOURCE, reg::ALIGNED_BASE, reg::INDEX, reg::BASE];

/// Bytes of scratch memory per sequence.
pub const SCRATCH_BYTES: usize = 4096;
/// Initial [`reg::BASE`] relative to the scratch buffer.
pub const BASE_OFFSET: u64 = 2048;
/// [`reg::ALIGNED_BASE`] relative to the scratch buffer (16-byte aligned).
pub const ALIGNED_BASE_OFFSET: u64 = 1024;
/// Largest value [`reg::INDEX`] holds.
pub const INDEX_MAX: u64 = 15;
/// Longest generated sequence.
pub const MAX_SEQUENCE: u32 = 8;

/// Bits of FPCR and FPSR that qemu keeps but archway's AArch64-only CPU treats as RES0:
/// FPCR Len/Stride/FZ16 (21..16) and FPSR's AArch32 NZCV (31..28). `MSR` of FPCR/FPSR
/// therefore always reads [`reg::MSR_SOURCE`], which never has them set.
pub const QEMU_ONLY_FP_BITS: u64 = 0xf03f_0000;

/// Bits `lo..lo + len` of an instruction word.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    lo: u32,
    len: u32,
}

const fn f(lo: u32, len: u32) -> Field {
    Field { lo, len }
}

impl Field {
    fn mask(self) -> u32 {
        (((1u64 << self.len) - 1) as u32) << self.lo
    }
    fn get(self, word: u32) -> u32 {
        (word & self.mask()) >> self.lo
    }
    fn set(self, word: u32, value: u32) -> u32 {
        (word & !self.mask()) | ((value << self.lo) & self.mask())
    }
}

/// Register fields.
const RT: Field = f(0, 5);
const RN: Field = f(5, 5);
const RT2: Field = f(10, 5);
/// Rs of exclusives and atomics; Rm of register offsets, in the same place.
const RS: Field = f(16, 5);
const RM: Field = RS;
/// The size field of loads and stores.
const SIZE: Field = f(30, 2);
/// `op0:op1:CRn:CRm:op2` of MRS, MSR and SYS.
const SYSREG: Field = f(5, 16);

/// One fix-up applied to a matching word.
#[derive(Debug)]
pub enum Fix {
    /// The word is never generated.
    Exclude,
    Set(Field, u32),
    OneOf(Field, &'static [u32]),
    /// A register field that must not name a reserved register (redrawn if it does).
    NotReserved(Field),
    /// Unsigned field limited to `0..=max`.
    AtMost(Field, u32),
    /// Two's complement field limited to `-lim..lim`.
    Signed(Field, i32),
    /// A branch offset in words, forward, landing in the sequence or just after it.
    Forward(Field),
    /// A single-register exclusive: excluded in a pair sequence, else the sequence's size.
    ExclusiveSingle,
    /// A pair exclusive: excluded in a single-register sequence, else the sequence's size.
    ExclusivePair,
    /// Register fields redrawn to distinct, non-reserved registers.
    Distinct(&'static [Field]),
}

impl Fix {
    /// The fixed word, or `None` when excluded.
    fn apply(&self, word: u32, rng: &mut Rng, ctx: &Context) -> Option<u32> {
        Some(match *self {
            Fix::Exclude => return None,
            Fix::Set(field, value) => field.set(word, value),
            Fix::OneOf(field, values) => field.set(word, rng.pick(values)),
            Fix::NotReserved(field) if RESERVED.contains(&field.get(word)) => field.set(word, free_register(rng)),
            Fix::NotReserved(_) => word,
            Fix::AtMost(field, max) => field.set(word, field.get(word) % (max + 1)),
            Fix::Signed(field, lim) => {
                let value = rng.below(2 * lim as u64) as i32 - lim;
                field.set(word, value as u32)
            }
            Fix::Forward(field) => field.set(word, 1 + rng.below(ctx.remaining as u64 + 1) as u32),
            Fix::ExclusiveSingle if ctx.exclusive_pairs => return None,
            Fix::ExclusiveSingle => SIZE.set(word, ctx.exclusive_size),
            Fix::ExclusivePair if !ctx.exclusive_pairs => return None,
            Fix::ExclusivePair => SIZE.set(word, ctx.exclusive_size),
            Fix::Distinct(fields) => {
                let mut word = word;
                let mut taken = Vec::with_capacity(fields.len());
                for &field in fields {
                    let r = loop {
                        let r = free_register(rng);
                        if !taken.contains(&r) {
                            break r;
                        }
                    };
                    taken.push(r);
                    word = field.set(word, r);
                }
                word
            }
        })
    }
}

/// A random register number that is not reserved (31 included: XZR/WZR or SP).
fn free_register(rng: &mut Rng) -> u32 {
    loop {
        let r = rng.below(32) as u32;
        if !RESERVED.contains(&r) {
            return r;
        }
    }
}

/// Choices several instructions of one sequence must agree on, made once per sequence.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    /// Instructions after the one being made.
    pub remaining: u32,
    /// Whether the sequence's exclusives are pairs (LDXP/STXP) or single registers.
    exclusive_pairs: bool,
    /// The size field of the sequence's exclusives (2 or 3 for pairs).
    exclusive_size: u32,
}

impl Context {
    pub fn random(rng: &mut Rng, remaining: u32) -> Context {
        let exclusive_pairs = rng.chance(30);
        let exclusive_size = if exclusive_pairs { 2 + rng.below(2) } else { rng.below(4) } as u32;
        Context { remaining, exclusive_pairs, exclusive_size }
    }
}

/// Fix-ups for the words matching an architectural encoding pattern
/// (`0`/`1` fixed, `x` any).
pub struct Rule {
    pub pattern: Pattern,
    /// What the rule is for; reported when it excludes a word.
    pub why: &'static str,
    pub fixes: &'static [Fix],
}

const fn rule(pattern: &'static str, why: &'static str, fixes: &'static [Fix]) -> Rule {
    Rule { pattern: Pattern::new(pattern), why, fixes }
}

/// System registers MRS may read: state registers, and the two ID registers whose
/// values qemu's `neoverse-n1` model shares with archway. The rest of the ID space,
/// MIDR, CNTFRQ_EL0 and CNTVCT_EL0 legitimately differ.
const MRS_READABLE: &[u32] = &[
    sys_reg(3, 3, 4, 2, 0),  // NZCV
    sys_reg(3, 3, 4, 4, 0),  // FPCR
    sys_reg(3, 3, 4, 4, 1),  // FPSR
    sys_reg(3, 3, 13, 0, 2), // TPIDR_EL0 (the prologue sets it)
    sys_reg(3, 3, 0, 0, 1),  // CTR_EL0
    sys_reg(3, 3, 0, 0, 7),  // DCZID_EL0
];

/// System registers MSR may write. Not TPIDR_EL0: the dump code uses it as a temporary.
const MSR_WRITABLE: &[u32] = &[
    sys_reg(3, 3, 4, 2, 0), // NZCV
    sys_reg(3, 3, 4, 4, 0), // FPCR
    sys_reg(3, 3, 4, 4, 1), // FPSR
];

/// SYS operations: cache maintenance by address (the address is [`reg::BASE`]).
const SYS_OPS: &[u32] = &[
    sys_reg(1, 3, 7, 4, 1),  // DC ZVA
    sys_reg(1, 3, 7, 10, 1), // DC CVAC
    sys_reg(1, 3, 7, 11, 1), // DC CVAU
    sys_reg(1, 3, 7, 14, 1), // DC CIVAC
    sys_reg(1, 3, 7, 5, 1),  // IC IVAU
];

/// Even registers a CASP may write as a pair (Rs, Rs+1) without touching a reserved one.
const CASP_RESULT_PAIRS: &[u32] = &[0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 30];
/// Even registers a CASP may read as a pair.
const CASP_SOURCE_PAIRS: &[u32] = &[0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];
/// Post-index register of structure loads/stores: the index register, or 31 (the
/// immediate form: the transfer size).
const STRUCT_POST_INDEX: &[u32] = &[reg::INDEX, 31];

/// The policy table, applied in order.
pub const RULES: &[Rule] = &[
    rule("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "bits 4..0 name the destination in every class", &[Fix::NotReserved(RT)]),
    // Branches, exception generation, system.
    rule("11010100xxxxxxxxxxxxxxxxxxxxxxxx", "exception generation leaves the sequence", &[Fix::Exclude]),
    rule(
        "1101011xxxxxxxxxxxxxxxxxxxxxxxxx",
        "branch to a register: the target is not in the sequence",
        &[Fix::Exclude],
    ),
    rule("x00101xxxxxxxxxxxxxxxxxxxxxxxxxx", "B/BL forward within the sequence", &[Fix::Forward(f(0, 26))]),
    rule("x011010xxxxxxxxxxxxxxxxxxxxxxxxx", "CBZ/CBNZ forward within the sequence", &[Fix::Forward(f(5, 19))]),
    rule("x011011xxxxxxxxxxxxxxxxxxxxxxxxx", "TBZ/TBNZ forward within the sequence", &[Fix::Forward(f(5, 14))]),
    rule("0101010xxxxxxxxxxxxxxxxxxxxxxxxx", "B.cond forward within the sequence", &[Fix::Forward(f(5, 19))]),
    rule(
        "110101010011xxxxxxxxxxxxxxxxxxxx",
        "MRS of registers both sides agree on",
        &[Fix::OneOf(SYSREG, MRS_READABLE)],
    ),
    rule("110101010001xxxxxxxxxxxxxxxxxxxx", "MSR of NZCV, FPCR, FPSR", &[Fix::OneOf(SYSREG, MSR_WRITABLE)]),
    rule("110101010001101101000100000xxxxx", "MSR FPCR from the sanitised source", &[Fix::Set(RT, reg::MSR_SOURCE)]),
    rule("110101010001101101000100001xxxxx", "MSR FPSR from the sanitised source", &[Fix::Set(RT, reg::MSR_SOURCE)]),
    rule(
        "1101010100001xxxxxxxxxxxxxxxxxxx",
        "SYS: cache maintenance of the scratch buffer",
        &[Fix::OneOf(SYSREG, SYS_OPS), Fix::Set(RT, reg::BASE)],
    ),
    // Loads and stores (op0 = x1x0): base register.
    rule("xxxx1x0xxxxxxxxxxxxxxxxxxxxxxxxx", "loads and stores address the scratch buffer", &[Fix::Set(RN, reg::BASE)]),
    rule("xx011x00xxxxxxxxxxxxxxxxxxxxxxxx", "literal loads read the code that follows", &[Fix::AtMost(f(5, 19), 63)]),
    // Exclusives, acquire/release, CAS, CASP (bits 29..24 = 001000).
    rule(
        "xx001000xxxxxxxxxxxxxxxxxxxxxxxx",
        "exclusive and ordered accesses must be aligned",
        &[Fix::Set(RN, reg::ALIGNED_BASE)],
    ),
    // A store-exclusive of another size than the load-exclusive before it may succeed
    // or fail (CONSTRAINED UNPREDICTABLE; qemu compares values, archway sizes).
    rule("xx0010000x0xxxxxxxxxxxxxxxxxxxxx", "exclusives of one sequence share form and size", &[Fix::ExclusiveSingle]),
    rule("1x0010000x1xxxxxxxxxxxxxxxxxxxxx", "exclusives of one sequence share form and size", &[Fix::ExclusivePair]),
    rule(
        "xx001000000xxxxxxxxxxxxxxxxxxxxx",
        "STXR: Rt2 should be ones; status distinct from data",
        &[Fix::Set(RT2, 31), Fix::Distinct(&[RS, RT])],
    ),
    rule("xx001000010xxxxxxxxxxxxxxxxxxxxx", "LDXR: Rs and Rt2 should be ones", &[Fix::Set(RS, 31), Fix::Set(RT2, 31)]),
    rule("1x001000001xxxxxxxxxxxxxxxxxxxxx", "STXP: status distinct from data", &[Fix::Distinct(&[RS, RT, RT2])]),
    rule(
        "1x001000011xxxxxxxxxxxxxxxxxxxxx",
        "LDXP: Rs ones, distinct destinations",
        &[Fix::Set(RS, 31), Fix::Distinct(&[RT, RT2])],
    ),
    rule(
        "0x0010000x1xxxxxxxxxxxxxxxxxxxxx",
        "CASP: even register pairs",
        &[Fix::OneOf(RS, CASP_RESULT_PAIRS), Fix::OneOf(RT, CASP_SOURCE_PAIRS), Fix::Set(RT2, 31)],
    ),
    rule(
        "xx0010001x0xxxxxxxxxxxxxxxxxxxxx",
        "STLR/LDAR: Rs and Rt2 should be ones",
        &[Fix::Set(RS, 31), Fix::Set(RT2, 31)],
    ),
    rule("xx0010001x1xxxxxxxxxxxxxxxxxxxxx", "CAS: Rs is written", &[Fix::NotReserved(RS), Fix::Set(RT2, 31)]),
    rule(
        "xx011001xx0xxxxxxxxx00xxxxxxxxxx",
        "LDAPUR/STLUR are FEAT_LRCPC2 (Armv8.4): neither qemu's neoverse-n1 nor archway's feature set has it",
        &[Fix::Exclude],
    ),
    // Pairs (bits 29..27 = 101): offsets scaled by up to 16.
    rule(
        "xx101x0xxxxxxxxxxxxxxxxxxxxxxxxx",
        "pairs: Rt2 is written, offset in range",
        &[Fix::NotReserved(RT2), Fix::Signed(f(15, 7), 32)],
    ),
    rule("xx101x0x1xxxxxxxxxxxxxxxxxxxxxxx", "pairs with writeback: small steps", &[Fix::Signed(f(15, 7), 8)]),
    rule("xx101x0xx1xxxxxxxxxxxxxxxxxxxxxx", "load pairs: distinct destinations", &[Fix::Distinct(&[RT, RT2])]),
    // Single registers (bits 29..27 = 111).
    rule("xx111x00xx0xxxxxxxxxx1xxxxxxxxxx", "pre/post-index: small steps", &[Fix::Signed(f(12, 9), 64)]),
    rule("xx111x01xxxxxxxxxxxxxxxxxxxxxxxx", "unsigned offset in range", &[Fix::AtMost(f(10, 12), 31)]),
    rule("xx111x00xx1xxxxxxxxx10xxxxxxxxxx", "register offset: the index register", &[Fix::Set(RM, reg::INDEX)]),
    rule(
        "xx111x00xx1xxxxxxxxx00xxxxxxxxxx",
        "LSE atomics and LDAPR must be aligned",
        &[Fix::Set(RN, reg::ALIGNED_BASE)],
    ),
    // Advanced SIMD structure loads and stores (bits 29..24 = 00110x), post-index.
    rule(
        "0x00110x1xxxxxxxxxxxxxxxxxxxxxxx",
        "structure post-index by the index register or the size",
        &[Fix::OneOf(RM, STRUCT_POST_INDEX)],
    ),
];

/// The largest distance from the scratch buffer's start or end an access may reach
/// below/above the initial base, in bytes: eight writebacks of at most 128 bytes
/// (pair of Q registers, 8 x 16) and then the widest displacement: a pair at 32 x 16
/// bytes plus its 32-byte size.
const WORST_REACH: u64 = MAX_SEQUENCE as u64 * 8 * 16 + 32 * 16 + 32;
const _: () = assert!(WORST_REACH < BASE_OFFSET && BASE_OFFSET + WORST_REACH <= SCRATCH_BYTES as u64);
// Aligned accesses (at most a 16-byte pair) at the aligned base stay in the buffer.
const _: () = assert!(ALIGNED_BASE_OFFSET.is_multiple_of(16) && ALIGNED_BASE_OFFSET + 16 <= SCRATCH_BYTES as u64);

/// Apply every matching rule to `word`; `Err` names the rule that excluded it.
pub fn apply(mut word: u32, rng: &mut Rng, ctx: &Context) -> Result<u32, &'static str> {
    for rule in RULES {
        if rule.pattern.matches(word) {
            for fix in rule.fixes {
                word = fix.apply(word, rng, ctx).ok_or(rule.why)?;
            }
        }
    }
    Ok(word)
}
