//! The [`Backend`] trait: what the host-neutral JIT engine ([`crate::jit::JitEngine`])
//! needs from a host back end, the part that knows one host's machine code.
//!
//! The engine owns the code region and its layout ([`crate::code_region`]), the block
//! map, link bookkeeping, the indirect-branch table, the fault map and invalidation. A
//! back end supplies:
//! - the region's fixed routines ([`Backend::assemble_routines`]): the entry
//!   trampoline and one exit routine per [`archway_ir::ExitReason`];
//! - blocks ([`Backend::compile`]): an IR block's machine code, with the side table
//!   from host code offsets to guest PCs and the sites of its direct branches;
//! - re-aiming a direct branch at its target's code ([`Backend::patch_link`]);
//! - listings of its code for logs and golden tests ([`Backend::listing`]);
//! - the host features its code may use ([`Backend::detect_features`]);
//! - moving a thread that faulted in translated code to the trap exit
//!   ([`Backend::redirect_fault`]), which needs the back end's register conventions.
//!
//! A back end is a type without values: the engine is generic over it
//! (`JitEngine<B>`), so every call into it is a direct, inlinable call.

use archway_ir::Block;
use core::fmt::Debug;

/// Host addresses of the shared routines and tables emitted code jumps to. Each exit
/// routine stores a PC (and for a trap the signal), passed in registers the back end
/// chooses, and its [`archway_ir::ExitReason`] into the state header, then returns
/// from the entry trampoline.
#[derive(Debug, Clone, Copy)]
pub struct CodeEnv {
    /// Exit with `ExitReason::Lookup` and the target PC.
    pub exit_lookup: usize,
    /// Exit with `ExitReason::Syscall` and the PC after the system call.
    pub exit_syscall: usize,
    /// Exit with `ExitReason::Requested` and the PC to continue at.
    pub exit_requested: usize,
    /// Exit with `ExitReason::Trap`, the PC of the trapping instruction and the signal.
    pub exit_trap: usize,
    /// Exit with `ExitReason::Synchronize` and the next PC.
    pub exit_synchronize: usize,
    /// The indirect-branch table (see [`crate::code_region::IndirectEntry`]).
    pub indirect_table: usize,
}

/// A code region's fixed routines, assembled for the address they are placed at.
#[derive(Debug)]
pub struct Routines {
    /// Their machine code, at most [`crate::code_region::ROUTINES_BYTES`] long.
    pub code: Vec<u8>,
    /// Offset in `code` of the entry trampoline, an
    /// `unsafe extern "C" fn(state: *mut u8, code: usize, frame_sp: *mut usize)` that
    /// saves what the host ABI makes it save, stores the stack pointer translated code
    /// runs with at `frame_sp`, and jumps to `code` with the state pointer pinned; the
    /// exit routines return from it.
    pub enter: usize,
    /// Where the exits are, and the indirect table the back end was given.
    pub env: CodeEnv,
}

/// A direct branch to another guest block: the field at offset `field` of the block's
/// code first aims at a stub that exits with `Lookup`; the engine has the back end
/// re-aim it ([`Backend::patch_link`]) once the target is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkSite {
    /// Offset of the branch's target field in the block's code.
    pub field: usize,
    /// The guest PC it branches to.
    pub target: u64,
}

/// The host code of one block, assembled for a fixed base address.
#[derive(Debug)]
pub struct CompiledBlock {
    /// Instructions, then the constant pool.
    pub code: Vec<u8>,
    /// Where the constant pool starts in `code` (`code.len()` when there is none).
    pub data_offset: usize,
    /// The block's direct branches to other guest blocks.
    pub link_sites: Vec<LinkSite>,
    /// Where each guest instruction's code starts: (offset in `code`, guest PC), in
    /// order. A host fault at an offset belongs to the last entry at or before it.
    pub guest_pcs: Vec<(u32, u64)>,
}

/// A host back end of the JIT engine (see the module docs).
pub trait Backend: 'static {
    /// Optional host instructions the emitted code may use.
    type Features: Copy + Debug + Send + Sync + 'static;
    /// Why a block, or the routines, could not be assembled (a block that cannot be
    /// compiled runs in the reference interpreter).
    type Error: Debug;

    /// The features of the CPU archway runs on (on a host that cannot run this back
    /// end's code: the set its listings and tests assume).
    fn detect_features() -> Self::Features;

    /// The fixed routines of a code region whose routine area starts at host address
    /// `base`, for blocks that find the indirect-branch table at `indirect_table`.
    fn assemble_routines(base: usize, indirect_table: usize) -> Result<Routines, Self::Error>;

    /// Compile a verified `block` to host code that will live at address `base`,
    /// jumping to the routines and table of `env`, using only `features`.
    fn compile(
        block: &Block,
        base: usize,
        env: &CodeEnv,
        features: Self::Features,
    ) -> Result<CompiledBlock, Self::Error>;

    /// Aim the direct branch whose [`LinkSite::field`] is at host address `field` at
    /// host address `target`, in one store that code running concurrently sees whole.
    ///
    /// # Safety
    /// `field` must be the field of a link site of a block placed in a live code
    /// region (the engine checks that it lies in placed code), and `target` the entry
    /// of a block of the same region.
    unsafe fn patch_link(field: usize, target: usize);

    /// A disassembly of `code` placed at `addr`, one instruction per line with offsets
    /// from `addr`; bytes from `data_offset` on are data (the constant pool).
    fn listing(code: &[u8], data_offset: usize, addr: u64) -> String;

    /// A host fault interrupted `uc` while its thread ran `code`: if the faulting host
    /// PC (or, for a fault inside a helper that translated code called, the helper's
    /// return address) lies in a block, rewrite `uc` to resume at the trap exit with
    /// that guest instruction's PC and `signal`, as a `Trap` terminal would, and return
    /// true; false if the fault is not in translated code. Never called on a host that
    /// cannot run this back end's code.
    ///
    /// # Safety
    /// `uc` must be a signal handler's `ucontext_t`, interrupted while `code` described
    /// the thread's translated code. Must be async-signal-safe.
    unsafe fn redirect_fault(uc: *mut libc::ucontext_t, code: &TranslatedCode, signal: i32) -> bool;
}

/// The translated code a thread is running, as [`Backend::redirect_fault`] sees it
/// (made by [`crate::fault`] when the engine enters its code).
#[derive(Clone, Copy)]
pub struct TranslatedCode {
    /// Maps a host PC to a guest PC (the engine's fault map).
    pub(crate) lookup: unsafe fn(*const (), usize) -> Option<u64>,
    /// The running engine, `lookup`'s first argument.
    pub(crate) engine: *const (),
    /// Where the entry trampoline wrote the frame stack pointer.
    pub(crate) frame_sp: *const usize,
    pub(crate) state: *mut u8,
    pub(crate) exit_trap: usize,
}

impl TranslatedCode {
    /// The guest PC of the guest instruction whose host code contains `host_pc`;
    /// `None` if no block of the running engine holds it.
    ///
    /// # Safety
    /// Only while the thread runs the code this describes (in the fault handler).
    pub unsafe fn guest_pc_at(&self, host_pc: usize) -> Option<u64> {
        // SAFETY: the engine is alive and unchanged while its code runs.
        unsafe { (self.lookup)(self.engine, host_pc) }
    }

    /// The stack pointer translated code runs with, as the entry trampoline recorded it.
    ///
    /// # Safety
    /// Only while the thread runs the code this describes (in the fault handler).
    pub unsafe fn frame_sp(&self) -> usize {
        // SAFETY: the engine's field, written by the trampoline before any block ran.
        unsafe { *self.frame_sp }
    }

    /// The guest state the code runs on (the pinned state pointer).
    pub fn state(&self) -> *mut u8 {
        self.state
    }

    /// The region's trap exit routine ([`CodeEnv::exit_trap`]).
    pub fn exit_trap(&self) -> usize {
        self.exit_trap
    }
}
