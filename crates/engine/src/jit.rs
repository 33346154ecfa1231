//! [`JitEngine`]: the dispatcher around the code cache, over a host back end
//! ([`Backend`]).
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
//! A block the back end cannot compile (more simultaneous spills than its frame holds,
//! say) runs in the reference interpreter instead, so no verified IR stops the engine.
//!
//! The engine is generic over its back end, not a trait object: each back end gets its
//! own monomorphised engine, with direct calls into it.

use crate::backend::{Backend, CompiledBlock};
use crate::code_region::CodeRegion;
use crate::engine::{Engine, Exit};
use crate::fault_map::FaultMap;
use crate::interp::{prepare_block, InterpEngine};
use crate::invalidation::{CatchUp, InvalidationLog, LogCursor};
use archway_ir::interp::BlockExit;
use archway_ir::{Block, ExitReason, Frontend, StateHeader};
use core::marker::PhantomData;
use std::collections::HashMap;
use std::io;
use std::sync::Arc;

/// Knobs of the JIT engine; `F` is the back end's [`Backend::Features`].
#[derive(Debug, Clone, Copy)]
pub struct JitOptions<F> {
    /// Run the IR optimisation passes before compiling (tests of the back end turn
    /// this off to see their IR compiled as written).
    pub optimize: bool,
    /// Optional host instructions the emitted code may use.
    pub features: F,
    /// Size of the code region in bytes.
    pub code_bytes: usize,
}

impl<F> JitOptions<F> {
    /// The options of a running guest: optimised IR, a 64 MiB region, and `features`.
    pub fn with_features(features: F) -> Self {
        JitOptions { optimize: true, features, code_bytes: 64 << 20 }
    }
}

/// A compiled block in the cache.
struct HostBlock {
    addr: usize,
    guest_range: (u64, u64),
}

/// Compiles guest blocks with back end `B` and runs them chained in host code.
pub struct JitEngine<B: Backend> {
    frontend: Arc<dyn Frontend>,
    options: JitOptions<B::Features>,
    code: CodeRegion,
    blocks: HashMap<u64, HostBlock>,
    /// Blocks the back end could not compile, run by the interpreter.
    interpreted: HashMap<u64, Block>,
    /// Link sites waiting for their target: guest PC -> host addresses of link fields.
    pending_links: HashMap<u64, Vec<usize>>,
    /// Invalidations made by the engines of the process's other threads.
    invalidations: LogCursor,
    /// Host PC -> guest PC, for faults ([`crate::fault`]).
    fault_map: FaultMap,
    /// The stack pointer translated code runs with (written by the entry trampoline).
    frame_sp: usize,
    backend: PhantomData<fn() -> B>,
}

/// What to run for a guest PC.
enum Runnable {
    Host(usize),
    Interpreted,
}

/// Why a block was not compiled.
#[derive(Debug)]
enum NotCompiled<E> {
    /// The back end refused it.
    Backend(E),
    /// Its code does not fit even in an empty code region.
    TooLarge,
}

impl<B: Backend> JitEngine<B> {
    /// The engine of a single-threaded guest (its own invalidation log).
    pub fn new(frontend: Arc<dyn Frontend>, options: JitOptions<B::Features>) -> io::Result<JitEngine<B>> {
        let cursor = LogCursor::new(Arc::new(InvalidationLog::default()));
        JitEngine::with_log(frontend, options, cursor).map_err(|(e, _)| e)
    }

    /// An engine that shares the invalidations behind `invalidations`; on failure
    /// the error and the cursor back.
    pub fn with_log(
        frontend: Arc<dyn Frontend>,
        options: JitOptions<B::Features>,
        invalidations: LogCursor,
    ) -> Result<JitEngine<B>, (io::Error, LogCursor)> {
        let code = match CodeRegion::new::<B>(options.code_bytes) {
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
            fault_map: FaultMap::default(),
            frame_sp: 0,
            backend: PhantomData,
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
    fn compile(&mut self, block: &Block) -> Result<usize, NotCompiled<B::Error>> {
        let mut compiled = self.compile_at_cursor(block)?;
        let addr = match self.code.place(&compiled.code) {
            Some(addr) => addr,
            None => {
                self.flush();
                compiled = self.compile_at_cursor(block)?;
                self.code.place(&compiled.code).ok_or(NotCompiled::TooLarge)?
            }
        };
        Ok(self.install(block, addr, &compiled))
    }

    fn compile_at_cursor(&self, block: &Block) -> Result<CompiledBlock, NotCompiled<B::Error>> {
        B::compile(block, self.code.next_block_addr(), self.code.env(), self.options.features)
            .map_err(NotCompiled::Backend)
    }

    /// Register a placed block: cache entry, indirect slot, links in and out.
    fn install(&mut self, block: &Block, addr: usize, compiled: &CompiledBlock) -> usize {
        let pc = block.guest_pc;
        let insn_bytes = self.frontend.insn_bytes().max(1);
        self.blocks.insert(pc, HostBlock { addr, guest_range: block.guest_range(insn_bytes) });
        self.fault_map.insert(addr, addr + compiled.code.len(), &compiled.guest_pcs);
        self.code.set_indirect(pc, addr);
        for field in self.pending_links.remove(&pc).unwrap_or_default() {
            self.code.patch_link::<B>(field, addr);
        }
        for site in &compiled.link_sites {
            let field = addr + site.field;
            match self.blocks.get(&site.target) {
                Some(target) => self.code.patch_link::<B>(field, target.addr),
                None => self.pending_links.entry(site.target).or_default().push(field),
            }
        }
        if tracing::enabled!(target: "archway::jit", tracing::Level::DEBUG) {
            self.log_block(block, addr, compiled);
        }
        addr
    }

    fn log_block(&self, block: &Block, addr: usize, compiled: &CompiledBlock) {
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
            compiled.code.len(),
            B::listing(&compiled.code, compiled.data_offset, addr as u64)
        );
    }

    /// Forget every translation.
    fn flush(&mut self) {
        tracing::debug!(target: "archway::jit", "flushing the code cache ({} blocks)", self.blocks.len());
        self.blocks.clear();
        self.interpreted.clear();
        self.pending_links.clear();
        self.fault_map.clear();
        self.code.flush_blocks();
    }

    /// The fault map's lookup for the fault handler.
    ///
    /// # Safety
    /// `engine` must point to a live `JitEngine<B>` that is not being modified.
    unsafe fn lookup_for_fault(engine: *const (), host_pc: usize) -> Option<u64> {
        // SAFETY: the fault context passes the engine it was set up with, alive while its code runs.
        unsafe { (*(engine as *const JitEngine<B>)).fault_map.guest_pc_at(host_pc) }
    }

    /// Run translated code at `addr` on `state` with fault recovery.
    unsafe fn enter(&mut self, state: *mut u8, addr: usize) {
        // SAFETY: the caller passes a live state and the address of a block placed in this engine's region.
        unsafe {
            let frame_sp = core::ptr::addr_of_mut!(self.frame_sp);
            let engine = self as *const JitEngine<B> as *const ();
            let exit_trap = self.code.env().exit_trap;
            let code = &self.code;
            crate::fault::in_translated_code::<B, _>(
                Self::lookup_for_fault,
                engine,
                frame_sp,
                state,
                exit_trap,
                || code.enter(state, addr, frame_sp),
            );
        }
    }
}

impl<B: Backend> Engine for JitEngine<B> {
    unsafe fn run(&mut self, state: *mut u8) -> Exit {
        // SAFETY: Engine::run's contract: a live state of the front end's layout, guest memory as the guest expects.
        unsafe {
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
    }

    fn invalidate(&mut self, start: u64, end: u64) {
        self.invalidate_here(start, end);
        self.invalidations.publish(start, end);
    }

    fn new_thread_engine(&self) -> Box<dyn Engine> {
        jit_or_interpreter::<B>(self.frontend.clone(), self.options, self.invalidations.log().clone())
    }
}

/// A JIT engine that follows the invalidations in `log`, or the interpreter (which
/// keeps following them) if the JIT's code region cannot be set up.
pub(crate) fn jit_or_interpreter<B: Backend>(
    frontend: Arc<dyn Frontend>,
    options: JitOptions<B::Features>,
    log: Arc<InvalidationLog>,
) -> Box<dyn Engine> {
    match JitEngine::<B>::with_log(frontend.clone(), options, LogCursor::new(log)) {
        Ok(jit) => Box::new(jit),
        Err((e, cursor)) => {
            tracing::warn!("cannot map JIT code memory ({e}); using the interpreter");
            Box::new(InterpEngine::with_log(frontend, cursor))
        }
    }
}
