//! Blocks and the builder front ends use to make them.

use crate::helper::Helper;
use crate::op::{BinOp, CmpOp, FenceKind, MemOrder, Op, RmwOp, Terminal, UnOp};
use crate::types::{Type, Value};

/// One IR instruction: an op and the type of the value it produces.
#[derive(Clone, PartialEq, Debug)]
pub struct Inst {
    pub ty: Type,
    pub op: Op,
}

/// A guest instruction covered by a block, kept for logs and invalidation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GuestInsn {
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
    pub insts: Vec<Inst>,
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

    pub fn konst(&mut self, ty: Type, value: u64) -> Value {
        self.push(ty, Op::Const(value & ty.mask()))
    }

    pub fn get_state(&mut self, ty: Type, offset: u32) -> Value {
        self.push(ty, Op::GetState { offset })
    }

    pub fn set_state(&mut self, offset: u32, value: Value) {
        self.push(Type::Void, Op::SetState { offset, value });
    }

    pub fn bin(&mut self, op: BinOp, a: Value, b: Value) -> Value {
        let ty = self.ty(a);
        self.push(ty, Op::Bin { op, a, b })
    }

    pub fn un(&mut self, op: UnOp, a: Value) -> Value {
        let ty = self.ty(a);
        self.push(ty, Op::Un { op, a })
    }

    pub fn cmp(&mut self, op: CmpOp, a: Value, b: Value) -> Value {
        self.push(Type::I1, Op::Cmp { op, a, b })
    }

    pub fn select(&mut self, cond: Value, a: Value, b: Value) -> Value {
        let ty = self.ty(a);
        self.push(ty, Op::Select { cond, a, b })
    }

    /// Zero-extend or truncate `a` to `ty` (no-op when the types match).
    pub fn zext_or_trunc(&mut self, ty: Type, a: Value) -> Value {
        let from = self.ty(a);
        match from.bits().cmp(&ty.bits()) {
            core::cmp::Ordering::Equal => a,
            core::cmp::Ordering::Less => self.push(ty, Op::ZExt(a)),
            core::cmp::Ordering::Greater => self.push(ty, Op::Trunc(a)),
        }
    }

    /// Sign-extend or truncate `a` to `ty` (no-op when the types match).
    pub fn sext_or_trunc(&mut self, ty: Type, a: Value) -> Value {
        let from = self.ty(a);
        match from.bits().cmp(&ty.bits()) {
            core::cmp::Ordering::Equal => a,
            core::cmp::Ordering::Less => self.push(ty, Op::SExt(a)),
            core::cmp::Ordering::Greater => self.push(ty, Op::Trunc(a)),
        }
    }

    pub fn add_flags(&mut self, a: Value, b: Value, carry: Value) -> Value {
        self.push(Type::I32, Op::AddFlags { a, b, carry })
    }

    pub fn sub_flags(&mut self, a: Value, b: Value) -> Value {
        self.push(Type::I32, Op::SubFlags { a, b })
    }

    pub fn logic_flags(&mut self, a: Value) -> Value {
        self.push(Type::I32, Op::LogicFlags { a })
    }

    pub fn cond_holds(&mut self, cond: u8, nzcv: Value) -> Value {
        self.push(Type::I1, Op::CondHolds { cond, nzcv })
    }

    pub fn load(&mut self, ty: Type, addr: Value, order: MemOrder) -> Value {
        self.push(ty, Op::Load { addr, order })
    }

    pub fn store(&mut self, addr: Value, value: Value, order: MemOrder) {
        self.push(Type::Void, Op::Store { addr, value, order });
    }

    pub fn atomic_rmw(&mut self, op: RmwOp, addr: Value, value: Value, order: MemOrder) -> Value {
        let ty = self.ty(value);
        self.push(ty, Op::AtomicRmw { op, addr, value, order })
    }

    pub fn cmpxchg(&mut self, addr: Value, expected: Value, new: Value, order: MemOrder) -> Value {
        let ty = self.ty(new);
        self.push(ty, Op::CmpXchg { addr, expected, new, order })
    }

    pub fn fence(&mut self, kind: FenceKind) {
        self.push(Type::Void, Op::Fence(kind));
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
