//! The x86_64 host back end of the JIT: [`X64Backend`], an
//! [`archway_engine::Backend`].
//!
//! - [`features`]: optional host instructions, detected with CPUID.
//! - [`regs`]: host register roles and the spill frame.
//! - [`regalloc`]: linear-scan register allocation over a block's SSA values.
//! - [`emit`]: IR -> machine code with dynasmrt, one module per op family.
//! - [`routines`]: the entry trampoline and exit routines, and link patching.
//! - [`fault`]: a fault in translated code moved to the trap exit.
//! - [`disasm`]: capstone listings for logs and golden tests.
//!
//! Translated code runs with the guest state pointer pinned in `r15`; guest state
//! fields are `[r15 + offset]`, guest memory is host memory. Blocks chain to each other
//! with patched direct jumps and an inline indirect-branch table, so hot loops stay in
//! host code; they check `StateHeader::exit_request` at every block entry. The code
//! cache, the dispatcher and linking bookkeeping are the engine's
//! ([`archway_engine::jit::JitEngine`]).
//!
//! The crate builds on every host (code generation and listings are plain Rust, so its
//! golden tests run anywhere); only x86_64 hosts run the code.

pub mod disasm;
pub mod emit;
pub mod fault;
pub mod features;
pub mod regalloc;
pub mod regs;
pub mod routines;

pub use emit::CompileError;
pub use features::HostFeatures;

use archway_engine::backend::{Backend, CodeEnv, CompiledBlock, Routines, TranslatedCode};
use archway_ir::Block;

/// The x86_64 back end.
#[derive(Debug, Clone, Copy)]
pub struct X64Backend;

impl Backend for X64Backend {
    type Features = HostFeatures;
    type Error = CompileError;

    fn detect_features() -> HostFeatures {
        HostFeatures::detect()
    }

    fn assemble_routines(base: usize, indirect_table: usize) -> Result<Routines, CompileError> {
        routines::assemble_routines(base, indirect_table)
    }

    fn compile(
        block: &Block,
        base: usize,
        env: &CodeEnv,
        features: HostFeatures,
    ) -> Result<CompiledBlock, CompileError> {
        emit::assemble(block, base, env, features)
    }

    unsafe fn patch_link(field: usize, target: usize) {
        // SAFETY: the engine's contract for `patch_link` is `patch_rel32`'s.
        unsafe { routines::patch_rel32(field, target) }
    }

    fn listing(code: &[u8], data_offset: usize, addr: u64) -> String {
        disasm::listing(code, data_offset, addr)
    }

    unsafe fn redirect_fault(uc: *mut libc::ucontext_t, code: &TranslatedCode, signal: i32) -> bool {
        // SAFETY: the engine's contract for `redirect_fault` is the function's.
        unsafe { fault::redirect_to_trap_exit(uc, code, signal) }
    }
}

/// The host code `block` compiles to with `features`, as a capstone listing (see
/// [`archway_engine::host_listing`] for the illustrative addresses).
pub fn host_listing(block: &Block, features: HostFeatures) -> String {
    archway_engine::host_listing::<X64Backend>(block, features)
}
