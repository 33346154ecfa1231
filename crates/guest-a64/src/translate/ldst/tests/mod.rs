//! Tests of the load/store translation: A64 words are translated with
//! [`translate_block`], verified, and run by the IR reference interpreter on a
//! [`CpuState`] whose registers point into a 16-byte-aligned buffer. One module per
//! family: `single`, `pair`, `exclusive`, `atomic`.

mod atomic;
mod exclusive;
mod pair;
mod single;

use super::TABLE;
use crate::state::CpuState;
use crate::translate::{translate_block, Ctx, Flow, SIGILL};
use archway_ir::interp::{run_block, BlockExit};
use archway_ir::verify::verify;
use archway_ir::{BlockBuilder, Terminal};

/// Size of the data buffer in bytes.
const MEM_BYTES: usize = 512;

/// A guest thread's registers and a data buffer for it to load from and store to.
struct Guest {
    cpu: Box<CpuState>,
    mem: Vec<u128>,
}

impl Guest {
    /// Registers cleared, the buffer filled with a byte pattern with no repeats
    /// nearby, so every load reads something distinctive.
    fn new() -> Guest {
        let mut g = Guest { cpu: Box::default(), mem: vec![0; MEM_BYTES / 16] };
        for (i, byte) in g.bytes().iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        g
    }

    /// The host (= guest) address of byte `offset` of the buffer.
    fn at(&self, offset: usize) -> u64 {
        self.mem.as_ptr() as u64 + offset as u64
    }

    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the Vec<u128> owns MEM_BYTES initialised bytes.
        unsafe { core::slice::from_raw_parts_mut(self.mem.as_mut_ptr().cast(), MEM_BYTES) }
    }

    /// The `n`-byte little-endian value at `offset` (n <= 16).
    fn read(&mut self, offset: usize, n: usize) -> u128 {
        self.bytes()[offset..offset + n].iter().rev().fold(0, |acc, &b| (acc << 8) | u128::from(b))
    }

    /// Store the low `n` bytes of `value` at `offset`, little-endian.
    fn write(&mut self, offset: usize, n: usize, value: u128) {
        for (i, byte) in self.bytes()[offset..offset + n].iter_mut().enumerate() {
            *byte = (value >> (8 * i)) as u8;
        }
    }

    /// Translate `code`, laid out in memory followed by the data words `pool` (for
    /// PC-relative literals), and run it once.
    fn run_with_pool(&mut self, code: &[u32], pool: &[u32]) -> BlockExit {
        let image: Vec<u32> = code.iter().chain(pool).copied().collect();
        let start = image.as_ptr() as u64;
        let end = start + 4 * code.len() as u64;
        let fetch = |pc: u64| (start..end).contains(&pc).then(|| image[((pc - start) / 4) as usize]);
        let block = translate_block(start, &fetch);
        verify(&block).unwrap();
        // SAFETY: the block addresses `self.cpu` by CpuState offsets and memory in
        // `self.mem`, `image` or nothing (the tests choose the addresses).
        unsafe { run_block(&block, self.cpu.as_mut_ptr()) }
    }

    /// Run `code`, which must fall through to its end.
    fn run(&mut self, code: &[u32]) {
        let exit = self.run_with_pool(code, &[]);
        assert!(matches!(exit, BlockExit::Jump(_)), "{exit:?}");
    }
}

/// `word` alone is an undefined instruction.
fn assert_undefined(word: u32) {
    let exit = Guest::new().run_with_pool(&[word], &[]);
    assert!(matches!(exit, BlockExit::Trap { signal: SIGILL, .. }), "{word:#010x}: {exit:?}");
}

#[test]
fn no_two_entries_match_one_word() {
    for (i, a) in TABLE.iter().enumerate() {
        for b in &TABLE[i + 1..] {
            let common = a.pattern.mask & b.pattern.mask;
            assert_ne!(a.pattern.value & common, b.pattern.value & common, "{} overlaps {}", a.name, b.name);
        }
    }
}

/// Every entry, with random operand bits, translates to verified IR or `Undefined`
/// and never panics.
#[test]
fn random_operands_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for entry in TABLE {
        for _ in 0..4096 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let word = entry.pattern.value | (seed as u32 & !entry.pattern.mask);
            let mut ctx = Ctx { b: BlockBuilder::new(0x1000), pc: 0x1000 };
            ctx.b.begin_guest_insn(0x1000, word);
            match entry.translate(&mut ctx, word) {
                Flow::Continue => {
                    let block = ctx.b.finish(Terminal::Link(0x1004));
                    if let Err(e) = verify(&block) {
                        panic!("{} {word:#010x}: {e}", entry.name);
                    }
                }
                Flow::Undefined => {}
                Flow::End(t) => panic!("{} {word:#010x} ended the block with {t:?}", entry.name),
            }
        }
    }
}

#[test]
fn unallocated_forms_are_undefined() {
    for word in [
        0xb9c0_0000, // LDRS* with size=10, opc=11 (unsigned offset)
        0xf9c0_0000, // size=11, opc=11
        0xf880_0c00, // PRFM encoding, pre-indexed
        0x7dc0_0000, // LDR (SIMD&FP) size=01 with opc=11
        0xdc00_0000, // LDR (literal, SIMD&FP) opc=11
        0x3c40_0800, // LDTR of a SIMD&FP register
        0xf862_1801, // register offset with option=000
        0xd980_0000, // LDAPUR* size=11, opc=10
        0xe940_0000, // LDP with opc=11
        0x6840_0000, // LDNP with opc=01 (no non-temporal LDPSW)
        0x6900_0000, // STGP (memory tagging)
        0xed40_0000, // LDP (SIMD&FP) with opc=11
        0x4821_7c04, // CASP with odd Rs
        0x4822_7c05, // CASP with odd Rt
    ] {
        assert_undefined(word);
    }
}
