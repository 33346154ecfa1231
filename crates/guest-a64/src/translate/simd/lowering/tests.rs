//! The lowered IR against the helpers it replaces: random words of every vector class,
//! translated both ways and run on the same random states, must leave the same state.

use super::super::TABLE;
use crate::decode::Entry;
use crate::simd::tests::run_ir;
use crate::state::CpuState;
use crate::translate::{Ctx, Flow};
use archway_ir::{Block, BlockBuilder, Op, Terminal};
use core::cell::Cell;

thread_local! {
    /// Set by these tests to translate with helper calls only.
    pub(super) static HELPERS_ONLY: Cell<bool> = const { Cell::new(false) };
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A register value whose lanes are often 0, all ones or sign bits.
    fn vreg(&mut self) -> [u64; 2] {
        let pick = |r: &mut Rng| match r.next() % 6 {
            0 => 0,
            1 => u64::MAX,
            2 => 0x8080_8080_8080_8080 << (r.next() % 8),
            _ => r.next(),
        };
        [pick(self), pick(self)]
    }
}

/// The IR of `word` (which must continue), with or without lowering.
fn translate(word: u32, entry: &'static Entry, helpers_only: bool) -> Option<Block> {
    HELPERS_ONLY.with(|h| h.set(helpers_only));
    let mut ctx = Ctx { b: BlockBuilder::new(0), pc: 0 };
    let flow = entry.translate(&mut ctx, word);
    HELPERS_ONLY.with(|h| h.set(false));
    matches!(flow, Flow::Continue).then(|| ctx.b.finish(Terminal::Link(4)))
}

#[test]
fn lowered_instructions_do_what_their_helpers_do() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut lowered = 0;
    for entry in TABLE.iter().filter(|e| !e.name.starts_with("LD_ST")) {
        for _ in 0..4000 {
            let word = (rng.next() as u32 & !entry.pattern.mask) | entry.pattern.value;
            let (Some(fast), Some(slow)) = (translate(word, entry, false), translate(word, entry, true)) else {
                continue;
            };
            if fast == slow {
                continue;
            }
            assert!(!fast.insts.iter().any(|i| matches!(i.op, Op::Call { .. })), "{word:#010x}: {fast}");
            lowered += 1;
            let mut state = CpuState::default();
            for v in state.v.iter_mut() {
                *v = rng.vreg();
            }
            state.x.iter_mut().for_each(|x| *x = rng.next());
            let mut want = state.clone();
            run_ir(&mut want, &slow);
            run_ir(&mut state, &fast);
            let same = state.v == want.v && state.x == want.x && state.fpsr == want.fpsr;
            assert!(same, "{word:#010x} ({}):\n{fast}\nlowered {:x?}\nhelper  {:x?}", entry.name, state.v, want.v);
        }
    }
    assert!(lowered > 10_000, "only {lowered} words lowered");
}
