//! The generator: random instruction sequences per encoding class, and their
//! random initial state.
//!
//! The classes are the decoder's tables ([`archway_guest_a64::decode::tables`]) plus
//! `mixed`, whose sequences draw every instruction from any class. A word is made by
//! filling an entry's operand bits at random and applying [`crate::rules`]; words the
//! rules exclude, that stop matching the entry, or that archway's translator rejects
//! (SIGILL) are drawn again. Before a run, every entry is probed with a fixed seed to
//! find the ones the generator can make words for (*viable*): a sequence depends on
//! its own seed and the tables only, which is what makes a seed replay it.

use crate::record::Regs;
use crate::rng::Rng;
use crate::rules::{
    self, reg, Context, ALIGNED_BASE_OFFSET, BASE_OFFSET, INDEX_MAX, MAX_SEQUENCE, QEMU_ONLY_FP_BITS, SCRATCH_BYTES,
};
use archway_guest_a64::decode::{self, Entry};
use archway_guest_a64::translate::{translate_block, SIGILL};
use archway_ir::Terminal;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Name of the pseudo-class whose sequences mix all classes.
pub const MIXED: &str = "mixed";

/// Words tried per entry when probing viability, and per instruction when generating.
const PROBES: u32 = 256;
const ATTEMPTS: u32 = 64;
/// Seed of the viability probe (fixed: viability must not depend on the run's seed).
const PROBE_SEED: u64 = 0x0ddb_a11c_a7ca_11ed;
/// Where the probe pretends the instruction is (any address the translator accepts).
const PROBE_PC: u64 = 0x10_0000;

/// A decoder entry and the class it belongs to.
pub struct CatalogEntry {
    pub class: usize,
    pub entry: &'static Entry,
    /// Why the generator cannot make words for it (`None`: viable).
    pub unviable: Option<String>,
}

/// An encoding class: a decoder table, or [`MIXED`].
pub struct Class {
    pub name: &'static str,
    /// Indices into [`Catalog::entries`].
    pub entries: Vec<usize>,
    pub viable: Vec<usize>,
}

/// Every entry of the decoder tables, grouped by class, with what probing found.
pub struct Catalog {
    pub entries: Vec<CatalogEntry>,
    /// The decoder's classes, then [`MIXED`].
    pub classes: Vec<Class>,
    /// Words whose translation panicked (archway bugs, reported as failures).
    pub panics: Vec<u32>,
    by_key: HashMap<(&'static str, u32, u32), usize>,
}

/// Why a drawn word was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Reject {
    Excluded(&'static str),
    /// The rules changed bits the entry fixes.
    Conflict,
    /// archway's translator turns it into SIGILL.
    Undefined,
    /// archway's translator panicked.
    Panicked(u32),
}

impl Catalog {
    /// Read the decoder tables and probe every entry.
    pub fn new() -> Catalog {
        let mut catalog =
            Catalog { entries: Vec::new(), classes: Vec::new(), panics: Vec::new(), by_key: HashMap::new() };
        for (class, (name, table)) in decode::tables().into_iter().enumerate() {
            let mut members = Vec::new();
            for entry in table {
                let id = catalog.entries.len();
                catalog.by_key.insert(key(entry), id);
                catalog.entries.push(CatalogEntry { class, entry, unviable: None });
                members.push(id);
            }
            catalog.classes.push(Class { name, entries: members, viable: Vec::new() });
        }
        for id in 0..catalog.entries.len() {
            catalog.probe(id);
        }
        let mut all = Class { name: MIXED, entries: Vec::new(), viable: Vec::new() };
        for class in &mut catalog.classes {
            class.viable = class.entries.iter().copied().filter(|&e| catalog.entries[e].unviable.is_none()).collect();
            all.entries.extend(&class.entries);
            all.viable.extend(&class.viable);
        }
        catalog.classes.push(all);
        catalog
    }

    /// Decide whether entry `id` is viable, remembering why not.
    fn probe(&mut self, id: usize) {
        let mut rng = Rng::new(PROBE_SEED.wrapping_add(id as u64));
        let mut rejects: HashMap<Reject, u32> = HashMap::new();
        for _ in 0..PROBES {
            let ctx = Context::random(&mut rng, MAX_SEQUENCE - 1);
            match self.try_word(id, &mut rng, &ctx) {
                Ok(_) => return,
                Err(Reject::Panicked(word)) => self.panics.push(word),
                Err(reject) => *rejects.entry(reject).or_default() += 1,
            }
        }
        let reason = match rejects.into_iter().max_by_key(|&(_, n)| n).map(|(r, _)| r) {
            Some(Reject::Excluded(why)) => format!("excluded: {why}"),
            Some(Reject::Conflict) => "the constraint rules conflict with its fixed bits".into(),
            Some(Reject::Undefined) => "archway's translator rejects its words (SIGILL)".into(),
            Some(Reject::Panicked(_)) | None => "archway's translator panics on its words".into(),
        };
        self.entries[id].unviable = Some(reason);
    }

    /// Draw one word for entry `id`: the word and the entry the decoder matches it to.
    fn try_word(&self, id: usize, rng: &mut Rng, ctx: &Context) -> Result<(u32, usize), Reject> {
        let pattern = self.entries[id].entry.pattern;
        let raw = pattern.value | (rng.next_u32() & !pattern.mask);
        let word = rules::apply(raw, rng, ctx).map_err(Reject::Excluded)?;
        if !pattern.matches(word) {
            return Err(Reject::Conflict);
        }
        let found = decode::lookup(word).ok_or(Reject::Undefined)?;
        let found = self.by_key[&key(found)];
        let block =
            catch_unwind(AssertUnwindSafe(|| translate_block(PROBE_PC, &|pc| (pc == PROBE_PC).then_some(word))))
                .map_err(|_| Reject::Panicked(word))?;
        match block.terminal {
            Terminal::Trap { signal: SIGILL, pc: PROBE_PC } => Err(Reject::Undefined),
            _ => Ok((word, found)),
        }
    }

    /// The name of entry `id`.
    pub fn name(&self, id: usize) -> &'static str {
        self.entries[id].entry.name
    }

    /// Class indices, one per sequence: `count` spread over the classes with viable
    /// entries in proportion to their table sizes (`mixed` gets an eighth), each at
    /// least a quarter of an even share; only `only` when given.
    pub fn schedule(&self, count: usize, only: Option<&str>) -> Result<Vec<usize>, String> {
        let weight = |class: &Class| match class.name {
            MIXED => self.entries.len().div_ceil(8),
            _ => class.entries.len(),
        };
        let active: Vec<usize> = (0..self.classes.len())
            .filter(|&c| !self.classes[c].viable.is_empty())
            .filter(|&c| only.is_none_or(|name| self.classes[c].name == name))
            .collect();
        if active.is_empty() {
            let names: Vec<&str> = self.classes.iter().map(|c| c.name).collect();
            return Err(format!("no class with viable entries matches {only:?} (classes: {names:?})"));
        }
        let total: usize = active.iter().map(|&c| weight(&self.classes[c])).sum();
        let minimum = (count / (4 * active.len())).max(1);
        let mut schedule = Vec::new();
        for &c in &active {
            let quota = (count * weight(&self.classes[c]) / total).max(minimum);
            schedule.extend(std::iter::repeat_n(c, quota));
        }
        Ok(schedule)
    }
}

fn key(entry: &Entry) -> (&'static str, u32, u32) {
    (entry.name, entry.pattern.mask, entry.pattern.value)
}

/// One generated instruction.
#[derive(Clone, Copy, Debug)]
pub struct Insn {
    pub word: u32,
    /// The catalog entry the decoder matches it to.
    pub entry: usize,
}

/// A random sequence and its initial state; a pure function of (class, seed).
#[derive(Clone, Debug)]
pub struct Sequence {
    pub seed: u64,
    pub class: usize,
    pub insns: Vec<Insn>,
    /// Initial registers. X26 and X28 hold offsets into the scratch buffer until the
    /// image places it ([`Sequence::initial_regs`]).
    init: Regs,
    /// Initial scratch memory ([`SCRATCH_BYTES`]).
    pub memory: Vec<u8>,
    /// Words whose translation panicked while generating (archway bugs).
    pub panics: Vec<u32>,
}

impl Sequence {
    /// Generate the sequence of `class` for `seed`.
    pub fn generate(catalog: &Catalog, class: usize, seed: u64) -> Sequence {
        let mut rng = Rng::new(seed);
        let len = 1 + rng.below(MAX_SEQUENCE as u64) as u32;
        let mut ctx = Context::random(&mut rng, len - 1);
        let pool = &catalog.classes[class].viable;
        let mut insns = Vec::new();
        let mut panics = Vec::new();
        for i in 0..len {
            ctx.remaining = len - 1 - i;
            // A viable entry can still fail in a sequence (an exclusive of the other
            // form): then another entry is picked.
            for _ in 0..ATTEMPTS {
                let id = rng.pick(pool);
                let word = (0..ATTEMPTS).find_map(|_| match catalog.try_word(id, &mut rng, &ctx) {
                    Ok((word, found)) => Some(Insn { word, entry: found }),
                    Err(Reject::Panicked(word)) => {
                        panics.push(word);
                        None
                    }
                    Err(_) => None,
                });
                if let Some(insn) = word {
                    insns.push(insn);
                    break;
                }
            }
        }
        let init = random_regs(&mut rng);
        let memory = random_memory(&mut rng);
        Sequence { seed, class, insns, init, memory, panics }
    }

    /// A sequence of no instructions: the harness checks itself with it.
    pub fn empty(seed: u64) -> Sequence {
        let mut rng = Rng::new(seed);
        let init = random_regs(&mut rng);
        let memory = random_memory(&mut rng);
        Sequence { seed, class: 0, insns: Vec::new(), init, memory, panics: Vec::new() }
    }

    /// The initial registers once the scratch buffer is at `scratch`.
    pub fn initial_regs(&self, scratch: u64) -> Regs {
        let mut regs = self.init.clone();
        regs.x[reg::ALIGNED_BASE as usize] += scratch;
        regs.x[reg::BASE as usize] += scratch;
        regs
    }
}

/// General-register values worth trying.
const GPR_EDGES: &[u64] = &[
    0,
    1,
    u64::MAX,
    i64::MAX as u64,
    i64::MIN as u64,
    u32::MAX as u64,
    i32::MAX as u64,
    i32::MIN as u32 as u64,
    0xffff_ffff_8000_0000,
    0x8000,
    0xffff,
    0x1_0000_0000,
];

/// Single-precision values worth trying: zeros, ones, halves (rounding ties), the
/// infinities, quiet and signalling NaNs (with payloads and signs), denormals, the
/// normal extremes and the integer-conversion boundaries.
#[rustfmt::skip]
const F32_EDGES: &[u32] = &[
    0x0000_0000, 0x8000_0000, 0x3f80_0000, 0xbf80_0000, 0x3f00_0000, 0x4020_0000, 0xc060_0000, 0x7f80_0000,
    0xff80_0000, 0x7fc0_0000, 0xffc0_0000, 0x7f80_0001, 0xffa0_0000, 0x7fc1_2345, 0x0000_0001, 0x807f_ffff,
    0x0080_0000, 0x7f7f_ffff, 0x4f00_0000, 0xcf00_0000, 0x4f80_0000, 0x5f00_0000, 0x5f80_0000, 0x3dcc_cccd,
    0x4b00_0000, 0x3400_0000,
];

/// Double-precision values worth trying (as [`F32_EDGES`], plus single-precision
/// extremes for narrowing conversions).
#[rustfmt::skip]
const F64_EDGES: &[u64] = &[
    0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0x3ff0_0000_0000_0000, 0xbff0_0000_0000_0000,
    0x3fe0_0000_0000_0000, 0x4004_0000_0000_0000, 0xc00c_0000_0000_0000, 0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000, 0x7ff8_0000_0000_0000, 0xfff8_0000_0000_0000, 0x7ff0_0000_0000_0001,
    0xfff4_0000_0000_0000, 0x7ff8_0000_1234_5678, 0x0000_0000_0000_0001, 0x800f_ffff_ffff_ffff,
    0x0010_0000_0000_0000, 0x7fef_ffff_ffff_ffff, 0x41e0_0000_0000_0000, 0xc1e0_0000_0000_0000,
    0x41f0_0000_0000_0000, 0x43e0_0000_0000_0000, 0x43f0_0000_0000_0000, 0x3fb9_9999_9999_999a,
    0x4330_0000_0000_0000, 0x47ef_ffff_e000_0000, 0x3810_0000_0000_0000, 0x3800_0000_0000_0000,
];

/// Half-precision values worth trying (for conversions).
#[rustfmt::skip]
const F16_EDGES: &[u16] =
    &[0x0000, 0x8000, 0x3c00, 0xbc00, 0x3800, 0x7c00, 0xfc00, 0x7e00, 0xfe00, 0x7c01, 0x0001, 0x0400, 0x7bff];

fn random_gpr(rng: &mut Rng) -> u64 {
    match rng.below(8) {
        0..=2 => rng.next_u64(),
        3 => rng.next_u32() as u64,
        4 => rng.below(64),
        5 => rng.below(64).wrapping_neg(),
        6 => rng.pick(GPR_EDGES),
        _ => rng.next_u64() >> rng.below(64),
    }
}

fn random_f32(rng: &mut Rng) -> u32 {
    if rng.chance(50) {
        return rng.pick(F32_EDGES);
    }
    // A normal number near 1 (exponent 2^-30..2^30), sometimes with a short mantissa.
    let exponent = (127 - 30 + rng.below(61)) as u32;
    let mantissa = rng.next_u32() & 0x7f_ffff & if rng.chance(50) { 0x7f_0000 } else { !0 };
    (rng.next_u32() & 0x8000_0000) | exponent << 23 | mantissa
}

fn random_f64(rng: &mut Rng) -> u64 {
    if rng.chance(50) {
        return rng.pick(F64_EDGES);
    }
    let exponent = 1023 - 60 + rng.below(121);
    let mantissa = rng.next_u64() & 0xf_ffff_ffff_ffff & if rng.chance(50) { 0xf_0000_0000_0000 } else { !0 };
    (rng.next_u64() & 1 << 63) | exponent << 52 | mantissa
}

fn random_vreg(rng: &mut Rng) -> u128 {
    let lanes = |rng: &mut Rng, bits: u32, lane: &dyn Fn(&mut Rng) -> u128| {
        (0..128 / bits).fold(0u128, |v, i| v | lane(rng) << (i * bits))
    };
    match rng.below(5) {
        0 => (rng.next_u64() as u128) << 64 | rng.next_u64() as u128,
        1 | 2 => lanes(rng, 32, &|rng| random_f32(rng) as u128),
        3 => lanes(rng, 64, &|rng| random_f64(rng) as u128),
        _ => lanes(rng, 16, &|rng| {
            if rng.chance(50) {
                rng.pick(F16_EDGES) as u128
            } else {
                rng.next_u32() as u16 as u128
            }
        }),
    }
}

/// Random architectural state, with the reserved registers set as the rules assume.
fn random_regs(rng: &mut Rng) -> Regs {
    let mut regs = Regs {
        x: core::array::from_fn(|_| random_gpr(rng)),
        sp: rng.next_u64(),
        nzcv: (rng.below(16) << 28),
        // RMode, and sometimes FZ, DN, AHP.
        fpcr: rng.below(4) << 22
            | (rng.chance(25) as u64) << 24
            | (rng.chance(25) as u64) << 25
            | (rng.chance(10) as u64) << 26,
        fpsr: if rng.chance(70) { 0 } else { rng.next_u64() & 0x0800_009f },
        tpidr: rng.next_u64(),
        v: core::array::from_fn(|_| random_vreg(rng)),
    };
    regs.x[reg::MSR_SOURCE as usize] &= !QEMU_ONLY_FP_BITS;
    regs.x[reg::ALIGNED_BASE as usize] = ALIGNED_BASE_OFFSET;
    regs.x[reg::INDEX as usize] = rng.below(INDEX_MAX + 1);
    regs.x[reg::BASE as usize] = BASE_OFFSET;
    regs
}

/// Random scratch memory: a quarter of the doublewords are interesting FP values.
fn random_memory(rng: &mut Rng) -> Vec<u8> {
    let mut memory = Vec::with_capacity(SCRATCH_BYTES);
    for _ in 0..SCRATCH_BYTES / 8 {
        let word = match rng.below(8) {
            0 => random_f64(rng),
            1 => (random_f32(rng) as u64) << 32 | random_f32(rng) as u64,
            _ => rng.next_u64(),
        };
        memory.extend_from_slice(&word.to_le_bytes());
    }
    memory
}
