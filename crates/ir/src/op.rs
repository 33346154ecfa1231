//! IR operations and block terminals.
//!
//! Semantics (the reference interpreter in [`crate::interp`] is the definition):
//! - Integer values are held zero-extended; an op of type `T` computes modulo 2^bits(T).
//! - Shift and rotate amounts are taken modulo the operand width (as AArch64 `LSLV`
//!   and x86 `SHL` do for 32/64-bit operands).
//! - `UDiv`/`SDiv` follow AArch64: division by zero gives 0, `MIN / -1` gives `MIN`.
//! - Flag ops produce an `I32` whose bits 31..28 are N, Z, C, V (AArch64 `NZCV`
//!   layout); all other bits are zero.

use crate::helper::Helper;
use crate::lane_ops::VecInst;
use crate::op_macro::{ir_ops, need};
use crate::types::Type::{Void, I1, I32, I64};
use crate::types::Value;

/// Two-operand integer operations; both operands and the result have the same type.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum BinOp {
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Wrapping multiplication (the low half).
    Mul,
    /// High half of the unsigned double-width product (I64 only).
    UMulHi,
    /// High half of the signed double-width product (I64 only).
    SMulHi,
    /// Unsigned division (AArch64 rules: by zero gives 0).
    UDiv,
    /// Signed division (AArch64 rules: by zero gives 0, `MIN / -1` gives `MIN`).
    SDiv,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise exclusive or.
    Xor,
    /// `a & !b`
    AndNot,
    /// Shift left (amount modulo the width).
    Shl,
    /// Logical shift right (amount modulo the width).
    LShr,
    /// Arithmetic shift right (amount modulo the width).
    AShr,
    /// Rotate right (amount modulo the width).
    RotR,
}

impl BinOp {
    /// The operations defined at every integer width.
    pub const ANY_WIDTH: [BinOp; 13] = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::UDiv,
        BinOp::SDiv,
        BinOp::And,
        BinOp::Or,
        BinOp::Xor,
        BinOp::AndNot,
        BinOp::Shl,
        BinOp::LShr,
        BinOp::AShr,
        BinOp::RotR,
    ];
    /// The high-half multiplies, defined for I64 only.
    pub const I64_ONLY: [BinOp; 2] = [BinOp::UMulHi, BinOp::SMulHi];
}

/// One-operand integer operations; the result has the operand's type.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum UnOp {
    /// Bitwise not.
    Not,
    /// Two's complement negation.
    Neg,
    /// Count leading zeros (width for 0).
    Clz,
    /// Count leading sign bits, not counting the sign bit itself (AArch64 `CLS`).
    Cls,
    /// Reverse the bit order.
    Rbit,
    /// Reverse the byte order.
    Bswap,
    /// Number of set bits.
    Popcnt,
}

/// Integer comparisons; the result is `I1`.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum CmpOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Unsigned less than.
    Ult,
    /// Unsigned less than or equal.
    Ule,
    /// Signed less than.
    Slt,
    /// Signed less than or equal.
    Sle,
}

/// Ordering of a memory access.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum MemOrder {
    /// No ordering beyond single-copy atomicity of aligned accesses.
    Plain,
    /// Load-acquire (later accesses stay after it).
    Acquire,
    /// Store-release (earlier accesses stay before it).
    Release,
    /// Acquire and release, and sequentially consistent with other AcqRel/Release
    /// accesses (AArch64 `LDAR` after `STLR` must not be reordered).
    AcqRel,
}

/// Read-modify-write operations of [`Op::AtomicRmw`]; the op returns the old value.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum RmwOp {
    /// `old + value` (AArch64 `LDADD`).
    Add,
    /// `old & !value` (AArch64 `LDCLR`).
    AndNot,
    /// `old ^ value` (AArch64 `LDEOR`).
    Xor,
    /// `old | value` (AArch64 `LDSET`).
    Or,
    /// Signed maximum (AArch64 `LDSMAX`).
    Smax,
    /// Signed minimum (AArch64 `LDSMIN`).
    Smin,
    /// Unsigned maximum (AArch64 `LDUMAX`).
    Umax,
    /// Unsigned minimum (AArch64 `LDUMIN`).
    Umin,
    /// `value` (AArch64 `SWP`).
    Swap,
}

/// Memory barriers.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum FenceKind {
    /// Full barrier (`DMB ISH`, `DSB`): store-load order too.
    Full,
    /// Orders loads against later loads and stores (`DMB ISHLD`).
    Load,
    /// Orders stores against later stores (`DMB ISHST`).
    Store,
}

ir_ops! {
    /// An IR operation. The result type is kept in [`crate::Inst::ty`].
    ///
    /// Each variant is one row of the op table: its fields (`Value` fields are operands),
    /// its text form, whether it has side effects, its `BlockBuilder` method and the type
    /// that method gives it, and the verifier's typing rule. The columns are explained on
    /// the `ir_ops!` macro in `op_macro.rs`; `ADDING_AN_OP.md` lists what to write by hand.
    #[derive(Clone, PartialEq, Debug)]
    pub enum Op {
        /// A constant (zero-extended to 64 bits).
        Const(value: u64) => {
            text: "const {value:#x}",
            side_effects: false,
            valid: |ty| need(ty != Void && value & !ty.mask() == 0, "constant out of range for its type"),
        },
        /// Read the guest state field at `offset` (type from the instruction).
        GetState { offset: u32 } => {
            text: "get_state +{offset}",
            side_effects: false,
            builder: get_state -> given,
            valid: |ty| need(ty != Void, "GetState needs a value type"),
        },
        /// Write `value` to the guest state field at `offset`.
        SetState { offset: u32, value: Value } => {
            text: "set_state +{offset}, {value}",
            side_effects: true,
            builder: set_state -> none,
            valid: |ty| need(ty == Void, "op has no result"),
        },
        /// A two-operand integer operation ([`BinOp`]).
        Bin { op: BinOp, a: Value, b: Value } => {
            text: "{op:?} {a}, {b}",
            side_effects: false,
            builder: bin -> type_of(a),
            valid: |ty| {
                need(ty.is_int() && a == ty && b == ty, "binary op operands must match the result type")?;
                need(ty == I64 || !BinOp::I64_ONLY.contains(&op), "high multiply is I64 only")
            },
        },
        /// A one-operand integer operation ([`UnOp`]).
        Un { op: UnOp, a: Value } => {
            text: "{op:?} {a}",
            side_effects: false,
            builder: un -> type_of(a),
            valid: |ty| need(ty.is_int() && a == ty, "unary op operand must match the result type"),
        },
        /// An integer comparison ([`CmpOp`]); the result is `I1`.
        Cmp { op: CmpOp, a: Value, b: Value } => {
            text: "cmp.{op:?} {a}, {b}",
            side_effects: false,
            builder: cmp -> I1,
            valid: |ty| need(ty == I1 && a.is_int() && a == b, "comparison of mismatched types"),
        },
        /// `cond ? a : b`
        Select { cond: Value, a: Value, b: Value } => {
            text: "select {cond}, {a}, {b}",
            side_effects: false,
            builder: select -> type_of(a),
            valid: |ty| need(
                cond == I1 && a == ty && b == ty,
                "select needs an I1 condition and operands of the result type",
            ),
        },
        /// Zero-extend to the instruction's type.
        ZExt(a: Value) => {
            text: "zext {a}",
            side_effects: false,
            builder: zext -> given,
            valid: |ty| need(ty.is_int() && a.bits() < ty.bits(), "extension must widen"),
        },
        /// Sign-extend to the instruction's type.
        SExt(a: Value) => {
            text: "sext {a}",
            side_effects: false,
            builder: sext -> given,
            valid: |ty| need(ty.is_int() && a.bits() < ty.bits(), "extension must widen"),
        },
        /// Keep the low bits of a wider value.
        Trunc(a: Value) => {
            text: "trunc {a}",
            side_effects: false,
            builder: trunc -> given,
            valid: |ty| need(ty != Void && a.bits() > ty.bits(), "truncation must narrow"),
        },
        /// NZCV of `a + b + carry` (`carry` is I1); `a`, `b` are I32 or I64.
        AddFlags { a: Value, b: Value, carry: Value } => {
            text: "add_flags {a}, {b}, {carry}",
            side_effects: false,
            builder: add_flags -> I32,
            valid: |ty| need(
                ty == I32 && matches!(a, I32 | I64) && a == b && carry == I1,
                "AddFlags takes two I32/I64 operands and an I1 carry, gives I32",
            ),
        },
        /// NZCV of `a - b` (C set when no borrow, as AArch64 `SUBS`).
        SubFlags { a: Value, b: Value } => {
            text: "sub_flags {a}, {b}",
            side_effects: false,
            builder: sub_flags -> I32,
            valid: |ty| need(
                ty == I32 && matches!(a, I32 | I64) && a == b,
                "SubFlags takes two I32/I64 operands, gives I32",
            ),
        },
        /// NZCV with N and Z from `a`, C and V clear (AArch64 `ANDS`).
        LogicFlags { a: Value } => {
            text: "logic_flags {a}",
            side_effects: false,
            builder: logic_flags -> I32,
            valid: |ty| need(ty == I32 && matches!(a, I32 | I64), "LogicFlags takes I32/I64"),
        },
        /// Whether AArch64 condition `cond` (0..15) holds for the NZCV value `nzcv`.
        CondHolds { cond: u8, nzcv: Value } => {
            text: "cond_holds {cond}, {nzcv}",
            side_effects: false,
            builder: cond_holds -> I1,
            valid: |ty| need(ty == I1 && cond < 16 && nzcv == I32, "CondHolds takes an I32 NZCV"),
        },
        /// Load from host address `addr` (I64).
        Load { addr: Value, order: MemOrder } => {
            text: "load.{order:?} [{addr}]",
            side_effects: true,
            builder: load -> given,
            valid: |ty| need(ty.is_int() && addr == I64, "load needs an I64 address and an integer type"),
        },
        /// Store `value` to host address `addr`.
        Store { addr: Value, value: Value, order: MemOrder } => {
            text: "store.{order:?} {addr}, {value}",
            side_effects: true,
            builder: store -> none,
            valid: |ty| {
                need(ty == Void, "op has no result")?;
                need(addr == I64 && value.is_int(), "store needs an I64 address and an integer value")
            },
        },
        /// Atomic read-modify-write; returns the old value. Always at least acquire/release
        /// as `order` says; on x86_64 hosts every RMW is sequentially consistent anyway.
        AtomicRmw { op: RmwOp, addr: Value, value: Value, order: MemOrder } => {
            text: "atomic.{op:?}.{order:?} {addr}, {value}",
            side_effects: true,
            builder: atomic_rmw -> type_of(value),
            valid: |ty| need(
                ty.is_int() && addr == I64 && value == ty,
                "atomic RMW needs an I64 address and a value of the result type",
            ),
        },
        /// Atomic compare-and-swap; returns the old value.
        CmpXchg { addr: Value, expected: Value, new: Value, order: MemOrder } => {
            text: "cmpxchg.{order:?} {addr}, {expected}, {new}",
            side_effects: true,
            builder: cmpxchg -> type_of(new),
            valid: |ty| need(
                ty.is_int() && addr == I64 && expected == ty && new == ty,
                "cmpxchg needs an I64 address and values of the result type",
            ),
        },
        /// A memory barrier ([`FenceKind`]).
        Fence(kind: FenceKind) => {
            text: "fence.{kind:?}",
            side_effects: true,
            builder: fence -> none,
            valid: |ty| need(ty == Void, "op has no result"),
        },
        /// Call a helper with up to four I64 arguments; the result is I64 (or Void).
        Call { helper: &'static Helper, args: Vec<Value> } => {
            text: "call {helper}({args})",
            side_effects: true,
            valid: |ty| {
                need(args.len() <= 4, "helpers take at most four arguments")?;
                need(matches!(ty, I64 | Void), "helpers return I64 or nothing")?;
                need(args.all(|arg| arg == I64), "helper arguments are I64")
            },
        },
        /// A 128-bit vector operation from state fields to a state field (Void; see
        /// [`crate::lane_ops`]).
        Vec(inst: VecInst) => {
            text: "{inst}",
            side_effects: true,
            valid: |ty| {
                need(ty == Void, "op has no result")?;
                inst.check()
            },
        },
    }
}

/// How a block ends. Every terminal sets [`crate::StateHeader::pc`] to the next guest PC.
#[derive(Clone, PartialEq, Debug)]
pub enum Terminal {
    /// Continue at a known guest PC (direct branch, fall-through).
    Link(u64),
    /// Two-way branch on an I1 value.
    If {
        /// The I1 condition.
        cond: Value,
        /// Where to continue when it is 1.
        then_pc: u64,
        /// Where to continue when it is 0.
        else_pc: u64,
    },
    /// Continue at a computed guest PC (I64).
    Indirect(Value),
    /// Like `Indirect`, but the target is a function return address (a hint for
    /// return prediction).
    Return(Value),
    /// Make a system call, then continue at `next_pc`.
    Syscall {
        /// The guest PC after the system call instruction.
        next_pc: u64,
    },
    /// Raise synchronous signal `signal` at guest PC `pc` (undefined instruction: SIGILL).
    Trap {
        /// The signal number.
        signal: i32,
        /// The guest PC of the instruction that raised it.
        pc: u64,
    },
    /// Return to the dispatcher, which drops translations of the code the guest
    /// declared modified ([`crate::StateHeader::code_dirty_start`]), then continue at
    /// `next_pc` (AArch64 `ISB` after `IC IVAU`).
    Synchronize {
        /// The guest PC after the synchronising instruction.
        next_pc: u64,
    },
}

impl Terminal {
    /// The value this terminal reads, if any.
    pub fn operand(&self) -> Option<Value> {
        match self {
            Terminal::If { cond, .. } => Some(*cond),
            Terminal::Indirect(v) | Terminal::Return(v) => Some(*v),
            _ => None,
        }
    }

    /// Replace the value this terminal reads, if any, by `f(value)`.
    pub fn map_operands(&mut self, mut f: impl FnMut(Value) -> Value) {
        match self {
            Terminal::If { cond, .. } => *cond = f(*cond),
            Terminal::Indirect(v) | Terminal::Return(v) => *v = f(*v),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
