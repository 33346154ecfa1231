//! [`JitEngine`]: the dispatcher around the code cache.
//!
//! `run` looks the guest PC up in the cache (translating, optimising and compiling on
//! a miss), enters the host code, and reads why it came back:
//! - `Lookup`: the next block was not linked (first execution of a direct branch, or an
//!   indirect-table miss): look it up, refresh its indirect-table slot, and go on;
//! - `Syscall`, `Trap`, `Requested`: return to the caller as [`Exit`].
//!
//! Linking: a compiled block's direct branches to compiled blocks are patched at once;
//! branches to blocks not compiled yet are remembered per target and patched when that
//! target is compiled. Invalidation and a full code region both flush the whole cache
//! (blocks, links, the indirect table) — simple and always correct; finer-grained
//! invalidation (per page, with unlinking) is a later step.
//!
//! Threads: one engine per guest thread, each with its own code region and cache
//! (nothing in a region is shared: routines, indirect table and blocks are per
//! region). Invalidations reach the other threads' engines through the process's
//! [`InvalidationLog`]: [`JitEngine::run`] catches up with it before every entry
//! into translated code; a range one engine must forget flushes its whole cache if
//! any of its blocks overlaps it, as a local invalidation does.
//!
//! A block the back end cannot compile (more simultaneous spills than the frame holds)
//! runs in the reference interpreter instead, so no verified IR stops the engine.

use super::code::CodeRegion;
use super::disasm::listing;
use super::emit::{assemble, AssembledBlock, CompileError};
use super::features::HostFeatures;
use crate::interp::prepare_block;
use crate::invalidation::{CatchUp, InvalidationLog, LogCursor};
use crate::{engine_in_process, Engine, EngineKind, Exit};
use archway_ir::interp::BlockExit;
use archway_ir::{Block, ExitReason, Frontend, StateHeader};
use std::collections::HashMap;
use std::io;
use std::sync::Arc;

/// Knobs of the JIT engine.
#[derive(Debug, Clone, Copy)]
pub struct JitOptions {
    /// Run the IR optimisation passes before compiling (tests of the back end turn
    /// this off to see their IR compiled as written).
    pub optimize: bool,
    /// Optional host instructions the emitted code may use.
    pub features: HostFeatures,
    /// Size of the code region in bytes.
    pub code_bytes: usize,
}

impl Default for JitOptions {
    fn default() -> Self {
        JitOptions { optimize: true, features: HostFeatures::detect(), code_bytes: 64 << 20 }
    }
}

/// A compiled block in the cache.
struct HostBlock {
    addr: usize,
    guest_range: (u64, u64),
}

/// Compiles guest blocks to x86_64 and runs them chained in host code.
pub struct JitEngine {
    frontend: Arc<dyn Frontend>,
    options: JitOptions,
    code: CodeRegion,
    blocks: HashMap<u64, HostBlock>,
    /// Blocks the back end could not compile, run by the interpreter.
    interpreted: HashMap<u64, Block>,
    /// Link sites waiting for their target: guest PC -> host addresses of `rel32` fields.
    pending_links: HashMap<u64, Vec<usize>>,
    /// Invalidations made by the engines of the process's other threads.
    invalidations: LogCursor,
    /// Placed blocks by host address (bump-allocated, so in address order).
    host_ranges: Vec<HostRange>,
    /// The `rsp` translated code runs with (written by the entry trampoline).
    frame_sp: usize,
}

/// A placed block's host code and where its guest instructions start in it (for
/// faults, [`crate::fault`]).
struct HostRange {
    start: usize,
    end: usize,
    guest_pcs: Box<[(u32, u64)]>,
}

/// What to run for a guest PC.
enum Runnable {
    Host(usize),
    Interpreted,
}

impl JitEngine {
    /// The engine of a single-threaded guest (its own invalidation log).
    pub fn new(frontend: Arc<dyn Frontend>, options: JitOptions) -> io::Result<JitEngine> {
        let cursor = LogCursor::new(Arc::new(InvalidationLog::default()));
        JitEngine::with_log(frontend, options, cursor).map_err(|(e, _)| e)
    }

    /// An engine that shares the invalidations behind `invalidations`; on failure
    /// the error and the cursor back.
    pub fn with_log(
        frontend: Arc<dyn Frontend>,
        options: JitOptions,
        invalidations: LogCursor,
    ) -> Result<JitEngine, (io::Error, LogCursor)> {
        let code = match CodeRegion::new(options.code_bytes) {
            Ok(code) => code,
            Err(e) => return Err((e, invalidations)),
        };
        Ok(JitEngine {
            frontend,
            options,
            code,
            blocks: HashMap::new(),
            interpreted: HashMap::new(),
            pending_links: HashMap::new(),
            invalidations,
            host_ranges: Vec::new(),
            frame_sp: 0,
        })
    }

    /// Apply the code changes this guest thread declared (`IC IVAU`), then the other
    /// engines' invalidations published since the last call.
    fn catch_up(&mut self, header: *mut StateHeader) {
        // SAFETY: `header` is the live state `run` was given.
        if let Some((start, end)) = unsafe { (*header).take_code_dirty() } {
            self.invalidate(start, end);
        }
        match self.invalidations.catch_up() {
            None => {}
            Some(CatchUp::Everything) => self.flush(),
            Some(CatchUp::Ranges(ranges)) => {
                for (start, end) in ranges {
                    self.invalidate_here(start, end);
                }
            }
        }
    }

    /// Forget this engine's translations overlapping `[start, end)`.
    fn invalidate_here(&mut self, start: u64, end: u64) {
        let overlaps = |(lo, hi): (u64, u64)| lo < end && start < hi;
        let insn_bytes = self.frontend.insn_bytes().max(1);
        let stale = self.blocks.values().any(|b| overlaps(b.guest_range))
            || self.interpreted.values().any(|b| overlaps(b.guest_range(insn_bytes)));
        if stale {
            self.flush();
        }
    }

    fn runnable(&mut self, pc: u64) -> Runnable {
        if let Some(b) = self.blocks.get(&pc) {
            let addr = b.addr;
            // A lookup of a compiled block is an indirect-table miss: refill its slot.
            self.code.set_indirect(pc, addr);
            return Runnable::Host(addr);
        }
        if self.interpreted.contains_key(&pc) {
            return Runnable::Interpreted;
        }
        self.translate(pc)
    }

    fn translate(&mut self, pc: u64) -> Runnable {
        let block = if self.options.optimize {
            prepare_block(self.frontend.as_ref(), pc)
        } else {
            let block = self.frontend.translate(pc);
            debug_assert_eq!(archway_ir::verify::verify(&block), Ok(()), "{block}");
            block
        };
        match self.compile(&block) {
            Ok(addr) => Runnable::Host(addr),
            Err(e) => {
                tracing::debug!(target: "archway::jit", "block {pc:#x} runs in the interpreter: {e:?}");
                self.interpreted.insert(pc, block);
                Runnable::Interpreted
            }
        }
    }

    /// Compile `block` into the code region (flushing it if full) and link it.
    fn compile(&mut self, block: &Block) -> Result<usize, CompileError> {
        let mut assembled = self.assemble_at_cursor(block)?;
        let addr = match self.code.place(&assembled.code) {
            Some(addr) => addr,
            None => {
                self.flush();
                assembled = self.assemble_at_cursor(block)?;
                self.code.place(&assembled.code).ok_or(CompileError::TooLarge)?
            }
        };
        Ok(self.install(block, addr, &assembled))
    }

    fn assemble_at_cursor(&self, block: &Block) -> Result<AssembledBlock, CompileError> {
        assemble(block, self.code.next_block_addr(), self.code.env(), self.options.features)
    }

    /// Register a placed block: cache entry, indirect slot, links in and out.
    fn install(&mut self, block: &Block, addr: usize, assembled: &AssembledBlock) -> usize {
        let pc = block.guest_pc;
        let insn_bytes = self.frontend.insn_bytes().max(1);
        self.blocks.insert(pc, HostBlock { addr, guest_range: block.guest_range(insn_bytes) });
        let guest_pcs = assembled.guest_pcs.clone().into_boxed_slice();
        self.host_ranges.push(HostRange { start: addr, end: addr + assembled.code.len(), guest_pcs });
        self.code.set_indirect(pc, addr);
        for field in self.pending_links.remove(&pc).unwrap_or_default() {
            self.code.patch_rel32(field, addr);
        }
        for site in &assembled.link_sites {
            let field = addr + site.field;
            match self.blocks.get(&site.target) {
                Some(target) => self.code.patch_rel32(field, target.addr),
                None => self.pending_links.entry(site.target).or_default().push(field),
            }
        }
        if tracing::enabled!(target: "archway::jit", tracing::Level::DEBUG) {
            self.log_block(block, addr, assembled);
        }
        addr
    }

    fn log_block(&self, block: &Block, addr: usize, assembled: &AssembledBlock) {
        let guest: String = block
            .guest_insns
            .iter()
            .map(|g| format!("  {:#x}: {}\n", g.pc, self.frontend.disassemble(g.pc, g.word)))
            .collect();
        tracing::debug!(
            target: "archway::jit",
            "compiled block {:#x} ({} guest instructions) at {addr:#x}, {} bytes\n{guest}{}",
            block.guest_pc,
            block.guest_insns.len(),
            assembled.code.len(),
            listing(&assembled.code, assembled.data_offset, addr as u64)
        );
    }

    /// Forget every translation.
    fn flush(&mut self) {
        tracing::debug!(target: "archway::jit", "flushing the code cache ({} blocks)", self.blocks.len());
        self.blocks.clear();
        self.interpreted.clear();
        self.pending_links.clear();
        self.host_ranges.clear();
        self.code.flush_blocks();
    }

    /// The guest PC of the guest instruction whose host code contains `host_pc`.
    fn guest_pc_at(&self, host_pc: usize) -> Option<u64> {
        let k = self.host_ranges.partition_point(|r| r.start <= host_pc).checked_sub(1)?;
        let range = &self.host_ranges[k];
        if host_pc >= range.end {
            return None;
        }
        let offset = (host_pc - range.start) as u32;
        let i = range.guest_pcs.partition_point(|&(o, _)| o <= offset).checked_sub(1)?;
        Some(range.guest_pcs[i].1)
    }

    /// [`Self::guest_pc_at`] for the fault handler.
    ///
    /// # Safety
    /// `engine` must point to a live `JitEngine` that is not being modified.
    unsafe fn lookup_for_fault(engine: *const (), host_pc: usize) -> Option<u64> {
        (*(engine as *const JitEngine)).guest_pc_at(host_pc)
    }

    /// Run translated code at `addr` on `state` with fault recovery.
    unsafe fn enter(&mut self, state: *mut u8, addr: usize) {
        let frame_sp = core::ptr::addr_of_mut!(self.frame_sp);
        let engine = self as *const JitEngine as *const ();
        let exit_trap = self.code.env().exit_trap;
        let code = &self.code;
        crate::fault::in_translated_code(Self::lookup_for_fault, engine, frame_sp, state, exit_trap, || {
            code.enter(state, addr, frame_sp)
        });
    }
}

impl Engine for JitEngine {
    unsafe fn run(&mut self, state: *mut u8) -> Exit {
        let header = state as *mut StateHeader;
        loop {
            self.catch_up(header);
            let pc = (*header).pc;
            match self.runnable(pc) {
                // SAFETY (caller's contract): `state` is a live guest state of the
                // front end's layout, which the block was compiled for.
                Runnable::Host(addr) => self.enter(state, addr),
                Runnable::Interpreted => {
                    if (*header).exit_request != 0 {
                        return Exit::Interrupted;
                    }
                    let block = &self.interpreted[&pc];
                    match crate::interp::run_interpreted(block, state) {
                        BlockExit::Jump(_) => continue,
                        BlockExit::Syscall { .. } => return Exit::Syscall,
                        BlockExit::Trap { signal, pc } => return Exit::Trap { signal, pc },
                    }
                }
            }
            match ExitReason::from_u32((*header).exit_reason) {
                Some(ExitReason::Lookup | ExitReason::Synchronize) => continue,
                Some(ExitReason::Syscall) => return Exit::Syscall,
                Some(ExitReason::Trap) => {
                    return Exit::Trap { signal: (*header).exit_arg as i32, pc: (*header).pc };
                }
                Some(ExitReason::Requested) | None => return Exit::Interrupted,
            }
        }
    }

    fn invalidate(&mut self, start: u64, end: u64) {
        self.invalidate_here(start, end);
        self.invalidations.publish(start, end);
    }

    fn new_thread_engine(&self) -> Box<dyn Engine> {
        engine_in_process(EngineKind::Jit, self.frontend.clone(), self.options, self.invalidations.log().clone())
    }
}
