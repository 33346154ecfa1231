//! Host-neutral execution of guest code.
//!
//! An [`Engine`] runs guest code, starting at the PC in the guest state's
//! [`archway_ir::StateHeader`], until something needs the Linux layer: a system call,
//! a synchronous signal, or an exit request. Two engines share one interface:
//!
//! - [`interp::InterpEngine`]: translates blocks to IR, optimises them, and runs
//!   them in the reference interpreter (`--engine interp`). Every host has it.
//! - [`jit::JitEngine`]: compiles IR to host code with a host back end (a
//!   [`Backend`], e.g. `archway_host_x64::X64Backend`), with a code cache, direct
//!   block chaining and an inline indirect-branch lookup.
//!
//! Modules:
//! - [`backend`]: the [`Backend`] trait a host back end implements, and what it
//!   exchanges with the engine (compiled blocks, link sites, routines).
//! - [`jit`]: the JIT engine: dispatcher, block map, block linking.
//! - [`code_region`]: the executable region: routines, indirect-branch table, blocks.
//! - `fault_map`: host PC -> guest PC, for faults in translated code.
//! - [`fault`]: host faults in guest code turned into precise guest signals.
//! - [`invalidation`]: invalidations shared by the engines of one process.
//! - [`interp`]: the interpreter engine.
//! - [`listing`]: listings of a block's host code, for golden tests.
//! - [`host`]: per host architecture, the catch routine and `ucontext_t` access.
//!
//! Which back end the JIT uses is chosen above this crate (the Linux layer picks the
//! host's, [`new_engine`] takes it as a type parameter); a host without one runs the
//! interpreter ([`new_engine_without_jit`]).
//!
//! Threads: each guest thread runs its own engine ([`Engine::new_thread_engine`]),
//! with its own code cache; the engines of one process share an
//! [`invalidation::InvalidationLog`], so an invalidation in one thread reaches the
//! caches of all (see that module for how running code is stopped). A code cache
//! shared between threads is a later step.

pub mod backend;
pub mod code_region;
pub mod fault;
mod fault_map;
pub mod host;
pub mod interp;
pub mod invalidation;
pub mod jit;
pub mod listing;

pub use backend::Backend;
pub use listing::host_listing;

use archway_ir::Frontend;
use invalidation::{InvalidationLog, LogCursor};
use jit::{JitEngine, JitOptions};
use std::sync::Arc;

/// Why an engine stopped running guest code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A system call; the state's PC is the instruction after it.
    Syscall,
    /// A synchronous signal raised by guest code at `pc` (e.g. SIGILL).
    Trap {
        /// The guest signal number.
        signal: i32,
        /// The guest PC of the instruction that raised it.
        pc: u64,
    },
    /// `exit_request` was set; the state's PC is where to continue.
    Interrupted,
}

/// Something that runs guest code, on one guest thread at a time.
pub trait Engine: Send {
    /// Run from `state.header.pc` until an [`Exit`].
    ///
    /// # Safety
    /// `state` must point to a live guest state struct of the front end's layout, and
    /// guest memory must be mapped as the guest expects (guest memory is host memory).
    unsafe fn run(&mut self, state: *mut u8) -> Exit;

    /// Forget translations overlapping guest addresses `[start, end)`
    /// (code modified or unmapped).
    /// In every engine of the process, including the ones of other threads (which
    /// apply it before they next enter translated code).
    fn invalidate(&mut self, start: u64, end: u64);

    /// An engine of the same kind for a new thread of the same guest process: an
    /// empty code cache that shares this engine's invalidations.
    fn new_thread_engine(&self) -> Box<dyn Engine>;
}

/// Which engine to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// Translated host code (hosts with a back end: x86_64, for now).
    Jit,
    /// The reference interpreter (every host).
    Interp,
}

impl EngineKind {
    /// Whether this host has a JIT back end (only x86_64 so far: `archway-host-x64`;
    /// the crate that picks the back end, above this one, must agree).
    pub const JIT_ON_THIS_HOST: bool = cfg!(target_arch = "x86_64");

    /// The engine used when none is named: the JIT where this host has one.
    pub const HOST_DEFAULT: EngineKind = if Self::JIT_ON_THIS_HOST { EngineKind::Jit } else { EngineKind::Interp };

    /// The name `--engine` and `ARCHWAY_ENGINE` take.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Jit => "jit",
            EngineKind::Interp => "interp",
        }
    }
}

impl std::str::FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jit" if Self::JIT_ON_THIS_HOST => Ok(EngineKind::Jit),
            "jit" => Err(format!("no JIT back end for {} hosts yet (use 'interp')", host::NAME)),
            "interp" => Ok(EngineKind::Interp),
            other => Err(format!("unknown engine '{other}' (expected 'jit' or 'interp')")),
        }
    }
}

/// The first engine of a guest process: one of `kind` for guest front end
/// `frontend`, with back end `B` for the JIT. A JIT that cannot map its code region
/// falls back to the interpreter, with a warning.
pub fn new_engine<B: Backend>(kind: EngineKind, frontend: Arc<dyn Frontend>) -> Box<dyn Engine> {
    let options = JitOptions::with_features(B::detect_features());
    engine_in_process::<B>(kind, frontend, options, Arc::default())
}

/// The first engine of a guest process on a host without a JIT back end: the
/// interpreter, also for [`EngineKind::Jit`] (with a warning; `"jit".parse()` refuses
/// it there already).
pub fn new_engine_without_jit(kind: EngineKind, frontend: Arc<dyn Frontend>) -> Box<dyn Engine> {
    if kind == EngineKind::Jit {
        tracing::warn!("no JIT back end for {} hosts; using the interpreter", host::NAME);
    }
    Box::new(interp::InterpEngine::new(frontend))
}

/// An engine of `kind` that follows the invalidations in `log` (a falling-back JIT
/// keeps following it as an interpreter).
pub(crate) fn engine_in_process<B: Backend>(
    kind: EngineKind,
    frontend: Arc<dyn Frontend>,
    options: JitOptions<B::Features>,
    log: Arc<InvalidationLog>,
) -> Box<dyn Engine> {
    let cursor = LogCursor::new(log);
    match kind {
        EngineKind::Interp => Box::new(interp::InterpEngine::with_log(frontend, cursor)),
        EngineKind::Jit => match JitEngine::<B>::with_log(frontend.clone(), options, cursor) {
            Ok(jit) => Box::new(jit),
            Err((e, cursor)) => {
                tracing::warn!("cannot map JIT code memory ({e}); using the interpreter");
                Box::new(interp::InterpEngine::with_log(frontend, cursor))
            }
        },
    }
}
