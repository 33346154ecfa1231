//! Blocks and the builder front ends use to make them.

use crate::helper::Helper;
use crate::op::{Op, Terminal};
use crate::types::{Type, Value};

/// One IR instruction: an op and the type of the value it produces.
#[derive(Clone, PartialEq, Debug)]
pub struct Inst {
    /// The type of the value it produces (`Void` for none).
    pub ty: Type,
    /// The operation.
    pub op: Op,
}

/// A guest instruction covered by a block, kept for logs and invalidation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GuestInsn {
    /// The guest address of the instruction.
    pub pc: u64,
    /// The instruction's bytes as a little-endian word (AArch64: the whole encoding).
    pub word: u32,
    /// Index of the first IR instruction this guest instruction produced.
    pub first_inst: u32,
}

/// A translated guest basic block: straight-line instructions and one terminal.
#[derive(Clone, PartialEq, Debug)]
pub struct Block {
    /// Guest PC of the first instruction.
    pub guest_pc: u64,
    /// Guest instructions in order.
    pub guest_insns: Vec<GuestInsn>,
    /// The instructions, in order; value `vN` is the result of `insts[N]`.
    pub insts: Vec<Inst>,
    /// How the block ends.
    pub terminal: Terminal,
}

impl Block {
    /// Type of a value.
    pub fn ty(&self, v: Value) -> Type {
        self.insts[v.index()].ty
    }

    /// Guest bytes covered, as `[start, end)`.
    pub fn guest_range(&self, insn_bytes: u64) -> (u64, u64) {
        let end = self.guest_insns.last().map_or(self.guest_pc, |g| g.pc + insn_bytes);
        (self.guest_pc, end)
    }
}

/// Builds a [`Block`] instruction by instruction, inferring result types.
///
/// Builder methods assume well-typed operands; [`crate::verify::verify`] checks them.
pub struct BlockBuilder {
    guest_pc: u64,
    guest_insns: Vec<GuestInsn>,
    insts: Vec<Inst>,
}

impl BlockBuilder {
    /// An empty block for the guest code at `guest_pc`.
    pub fn new(guest_pc: u64) -> Self {
        // Typical blocks hold a handful of guest instructions and a few dozen ops: one
        // allocation each instead of several doublings.
        BlockBuilder { guest_pc, guest_insns: Vec::with_capacity(16), insts: Vec::with_capacity(32) }
    }

    /// Mark the start of a guest instruction's IR.
    pub fn begin_guest_insn(&mut self, pc: u64, word: u32) {
        self.guest_insns.push(GuestInsn { pc, word, first_inst: self.insts.len() as u32 });
    }

    /// Number of guest instructions so far.
    pub fn guest_insn_count(&self) -> usize {
        self.guest_insns.len()
    }

    /// Drop the IR of the last guest instruction (used when an instruction turns out
    /// to end the block differently than it began, e.g. an undefined encoding).
    pub fn discard_last_guest_insn(&mut self) {
        if let Some(g) = self.guest_insns.pop() {
            self.insts.truncate(g.first_inst as usize);
        }
    }

    /// Type of a value made so far.
    pub fn ty(&self, v: Value) -> Type {
        self.insts[v.index()].ty
    }

    /// Append a raw instruction.
    pub fn push(&mut self, ty: Type, op: Op) -> Value {
        self.insts.push(Inst { ty, op });
        Value(self.insts.len() as u32 - 1)
    }

    /// Finish with a terminal.
    pub fn finish(self, terminal: Terminal) -> Block {
        Block { guest_pc: self.guest_pc, guest_insns: self.guest_insns, insts: self.insts, terminal }
    }

    /// Append [`Op::Const`] of type `ty`, keeping the bits of `value` that fit `ty`.
    /// (The builder methods of the other ops are generated from the op table, see
    /// [`crate::op`], except these few that do more than append one op.)
    pub fn konst(&mut self, ty: Type, value: u64) -> Value {
        self.push(ty, Op::Const(value & ty.mask()))
    }

    /// Zero-extend or truncate `a` to `ty` (no-op when the types match).
    pub fn zext_or_trunc(&mut self, ty: Type, a: Value) -> Value {
        let from = self.ty(a);
        match from.bits().cmp(&ty.bits()) {
            core::cmp::Ordering::Equal => a,
            core::cmp::Ordering::Less => self.zext(ty, a),
            core::cmp::Ordering::Greater => self.trunc(ty, a),
        }
    }

    /// Sign-extend or truncate `a` to `ty` (no-op when the types match).
    pub fn sext_or_trunc(&mut self, ty: Type, a: Value) -> Value {
        let from = self.ty(a);
        match from.bits().cmp(&ty.bits()) {
            core::cmp::Ordering::Equal => a,
            core::cmp::Ordering::Less => self.sext(ty, a),
            core::cmp::Ordering::Greater => self.trunc(ty, a),
        }
    }

    /// Call a helper whose result is used (I64).
    pub fn call(&mut self, helper: &'static Helper, args: &[Value]) -> Value {
        self.push(Type::I64, Op::Call { helper, args: args.to_vec() })
    }

    /// Call a helper for its effects only.
    pub fn call_void(&mut self, helper: &'static Helper, args: &[Value]) {
        self.push(Type::Void, Op::Call { helper, args: args.to_vec() });
    }
}
