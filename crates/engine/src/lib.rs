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
//! - `engine`: the [`Engine`] trait, [`Exit`] and [`EngineKind`].
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

// The lint gate of issue 12 (with the workspace's unsafe lints): the public API documented.
#![warn(missing_docs)]

pub mod backend;
pub mod code_region;
mod engine;
pub mod fault;
mod fault_map;
pub mod host;
pub mod interp;
pub mod invalidation;
pub mod jit;
pub mod listing;

pub use backend::Backend;
pub use engine::{Engine, EngineKind, Exit};
pub use listing::host_listing;

use archway_ir::Frontend;
use interp::InterpEngine;
use jit::JitOptions;
use std::sync::Arc;

/// The first engine of a guest process: one of `kind` for guest front end
/// `frontend`, with back end `B` for the JIT. A JIT that cannot map its code region
/// falls back to the interpreter, with a warning.
pub fn new_engine<B: Backend>(kind: EngineKind, frontend: Arc<dyn Frontend>) -> Box<dyn Engine> {
    match kind {
        EngineKind::Interp => Box::new(InterpEngine::new(frontend)),
        EngineKind::Jit => {
            let options = JitOptions::with_features(B::detect_features());
            jit::jit_or_interpreter::<B>(frontend, options, Arc::default())
        }
    }
}

/// The first engine of a guest process on a host without a JIT back end: the
/// interpreter, also for [`EngineKind::Jit`] (with a warning; `"jit".parse()` refuses
/// it there already).
pub fn new_engine_without_jit(kind: EngineKind, frontend: Arc<dyn Frontend>) -> Box<dyn Engine> {
    if kind == EngineKind::Jit {
        tracing::warn!("no JIT back end for {} hosts; using the interpreter", host::NAME);
    }
    Box::new(InterpEngine::new(frontend))
}
