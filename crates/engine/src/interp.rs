//! The interpreter engine: translated, optimised IR run by the reference interpreter.
//!
//! Slow but simple and independent of any host back end: `--engine interp` and
//! `ARCHWAY_ENGINE=interp` use it, and tests compare the JIT against it.

use crate::engine::{Engine, Exit};
use crate::invalidation::{CatchUp, InvalidationLog, LogCursor};
use archway_ir::interp::{run_block_with, BlockExit};
use archway_ir::{Block, Frontend, StateHeader};
use core::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

/// Runs guest code block by block through [`archway_ir::interp`]. Each guest thread
/// has its own; they share invalidations as the JIT's engines do.
pub struct InterpEngine {
    frontend: Arc<dyn Frontend>,
    blocks: HashMap<u64, Block>,
    invalidations: LogCursor,
}

impl InterpEngine {
    /// The engine of a single-threaded guest (its own invalidation log).
    pub fn new(frontend: Arc<dyn Frontend>) -> Self {
        InterpEngine::with_log(frontend, LogCursor::new(Arc::new(InvalidationLog::default())))
    }

    /// An engine that shares the invalidations behind `invalidations`.
    pub fn with_log(frontend: Arc<dyn Frontend>, invalidations: LogCursor) -> Self {
        InterpEngine { frontend, blocks: HashMap::new(), invalidations }
    }

    fn invalidate_here(&mut self, start: u64, end: u64) {
        let bytes = self.frontend.insn_bytes().max(1);
        self.blocks.retain(|_, b| {
            let (lo, hi) = b.guest_range(bytes);
            hi <= start || lo >= end
        });
    }
}

/// Run `block` in the reference interpreter; a host fault in one of its guest memory
/// accesses becomes a trap at that guest instruction (see [`crate::fault`]).
///
/// # Safety
/// As [`archway_ir::interp::run_block`].
pub unsafe fn run_interpreted(block: &Block, state: *mut u8) -> BlockExit {
    // SAFETY: the caller's contract is run_block's: a live state of the front end's layout, guest memory mapped as the guest expects.
    unsafe {
        thread_local! {
            /// The values of the block being interpreted, one allocation per thread.
            static VALUES: Cell<Vec<u64>> = const { Cell::new(Vec::new()) };
        }
        let mut values = VALUES.take();
        let outcome = crate::fault::catching(|| run_block_with(block, state, &mut values));
        VALUES.set(values);
        match outcome {
            Some(exit) => exit,
            None => {
                let pc = archway_ir::interp::faulting_pc(block, state);
                let signal = crate::fault::peek_signal().unwrap_or(libc::SIGSEGV);
                (*(state as *mut archway_ir::StateHeader)).pc = pc;
                BlockExit::Trap { signal, pc }
            }
        }
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
        // SAFETY: Engine::run's contract: a live state of the front end's layout, guest memory as the guest expects.
        unsafe {
            let header = state as *mut StateHeader;
            loop {
                if (*header).exit_request != 0 {
                    return Exit::Interrupted;
                }
                if let Some((start, end)) = (*header).take_code_dirty() {
                    self.invalidate(start, end);
                }
                match self.invalidations.catch_up() {
                    None => {}
                    Some(CatchUp::Everything) => self.blocks.clear(),
                    Some(CatchUp::Ranges(ranges)) => {
                        ranges.into_iter().for_each(|(lo, hi)| self.invalidate_here(lo, hi))
                    }
                }
                let pc = (*header).pc;
                let frontend = &self.frontend;
                let block = self.blocks.entry(pc).or_insert_with(|| prepare_block(frontend.as_ref(), pc));
                match run_interpreted(block, state) {
                    BlockExit::Jump(_) => {}
                    BlockExit::Syscall { .. } => return Exit::Syscall,
                    BlockExit::Trap { signal, pc } => return Exit::Trap { signal, pc },
                }
            }
        }
    }

    fn invalidate(&mut self, start: u64, end: u64) {
        self.invalidate_here(start, end);
        self.invalidations.publish(start, end);
    }

    fn new_thread_engine(&self) -> Box<dyn Engine> {
        Box::new(InterpEngine::with_log(self.frontend.clone(), LogCursor::new(self.invalidations.log().clone())))
    }
}
