//! The [`Engine`] trait, why an engine returns ([`Exit`]), and the kinds of engine
//! ([`EngineKind`]).

use crate::host;

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
