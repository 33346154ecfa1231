//! The interpreter engine: translated, optimised IR run by the reference interpreter.
//!
//! Slow but simple and independent of any host back end: `--engine interp` and
//! `ARCHWAY_ENGINE=interp` use it, and tests compare the JIT against it.

use crate::{Engine, Exit};
use archway_ir::interp::{run_block, BlockExit};
use archway_ir::{Block, Frontend, StateHeader};
use std::collections::HashMap;
use std::sync::Arc;

/// Runs guest code block by block through [`archway_ir::interp`].
pub struct InterpEngine {
    frontend: Arc<dyn Frontend>,
    blocks: HashMap<u64, Block>,
}

impl InterpEngine {
    pub fn new(frontend: Arc<dyn Frontend>) -> Self {
        InterpEngine { frontend, blocks: HashMap::new() }
    }
}

/// Translate and optimise the block at `pc` (shared by both engines).
pub fn prepare_block(frontend: &dyn Frontend, pc: u64) -> Block {
    let mut block = frontend.translate(pc);
    archway_ir::passes::optimize(&mut block);
    debug_assert_eq!(archway_ir::verify::verify(&block), Ok(()), "{block}");
    block
}

impl Engine for InterpEngine {
    unsafe fn run(&mut self, state: *mut u8) -> Exit {
        let header = state as *mut StateHeader;
        loop {
            if (*header).exit_request != 0 {
                return Exit::Interrupted;
            }
            let pc = (*header).pc;
            let frontend = &self.frontend;
            let block = self.blocks.entry(pc).or_insert_with(|| prepare_block(frontend.as_ref(), pc));
            match run_block(block, state) {
                BlockExit::Jump(_) => {}
                BlockExit::Syscall { .. } => return Exit::Syscall,
                BlockExit::Trap { signal, pc } => return Exit::Trap { signal, pc },
            }
        }
    }

    fn invalidate(&mut self, start: u64, end: u64) {
        let bytes = self.frontend.insn_bytes().max(1);
        self.blocks.retain(|_, b| {
            let (lo, hi) = b.guest_range(bytes);
            hi <= start || lo >= end
        });
    }
}
