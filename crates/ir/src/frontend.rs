//! The interface between a guest front end and the execution engines.

use crate::block::Block;

/// A guest architecture's translator, as the engines see it.
pub trait Frontend: Sync + Send {
    /// Translate the guest basic block starting at `pc`. Guest memory is host memory:
    /// the front end reads instruction bytes directly. A PC that cannot be read must
    /// be checked by the caller (the engine) before calling this.
    fn translate(&self, pc: u64) -> Block;

    /// Size in bytes of a guest instruction, or 0 for variable-length ISAs.
    fn insn_bytes(&self) -> u64;

    /// Human-readable disassembly of the guest instruction `word` at `pc` (for logs).
    fn disassemble(&self, pc: u64, word: u32) -> String;

    /// Size of the guest state struct the blocks address.
    fn state_size(&self) -> usize;

    /// The name of the guest state field at byte `offset` (`X1`, `NZCV`, `V3`) for IR
    /// dumps ([`Block::named`]); `None` for a field without one, which prints as its
    /// offset (`+56`).
    fn state_field_name(&self, offset: u32) -> Option<String> {
        let _ = offset;
        None
    }
}
