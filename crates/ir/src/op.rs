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
use crate::types::Value;
use crate::vector::VecInst;

/// Two-operand integer operations; both operands and the result have the same type.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// High half of the unsigned double-width product (I64 only).
    UMulHi,
    /// High half of the signed double-width product (I64 only).
    SMulHi,
    UDiv,
    SDiv,
    And,
    Or,
    Xor,
    /// `a & !b`
    AndNot,
    Shl,
    LShr,
    AShr,
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
    Not,
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
    Eq,
    Ne,
    Ult,
    Ule,
    Slt,
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
    Add,
    /// `old & !value` (AArch64 `LDCLR`).
    AndNot,
    Xor,
    Or,
    Smax,
    Smin,
    Umax,
    Umin,
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

/// An IR operation. The result type is kept in [`crate::Inst::ty`].
#[derive(Clone, PartialEq, Debug)]
pub enum Op {
    /// A constant (zero-extended to 64 bits).
    Const(u64),
    /// Read the guest state field at `offset` (type from the instruction).
    GetState {
        offset: u32,
    },
    /// Write `value` to the guest state field at `offset`.
    SetState {
        offset: u32,
        value: Value,
    },
    Bin {
        op: BinOp,
        a: Value,
        b: Value,
    },
    Un {
        op: UnOp,
        a: Value,
    },
    Cmp {
        op: CmpOp,
        a: Value,
        b: Value,
    },
    /// `cond ? a : b`
    Select {
        cond: Value,
        a: Value,
        b: Value,
    },
    /// Zero-extend to the instruction's type.
    ZExt(Value),
    /// Sign-extend to the instruction's type.
    SExt(Value),
    /// Keep the low bits of a wider value.
    Trunc(Value),
    /// NZCV of `a + b + carry` (`carry` is I1); `a`, `b` are I32 or I64.
    AddFlags {
        a: Value,
        b: Value,
        carry: Value,
    },
    /// NZCV of `a - b` (C set when no borrow, as AArch64 `SUBS`).
    SubFlags {
        a: Value,
        b: Value,
    },
    /// NZCV with N and Z from `a`, C and V clear (AArch64 `ANDS`).
    LogicFlags {
        a: Value,
    },
    /// Whether AArch64 condition `cond` (0..15) holds for the NZCV value `nzcv`.
    CondHolds {
        cond: u8,
        nzcv: Value,
    },
    /// Load from host address `addr` (I64).
    Load {
        addr: Value,
        order: MemOrder,
    },
    /// Store `value` to host address `addr`.
    Store {
        addr: Value,
        value: Value,
        order: MemOrder,
    },
    /// Atomic read-modify-write; returns the old value. Always at least acquire/release
    /// as `order` says; on x86_64 hosts every RMW is sequentially consistent anyway.
    AtomicRmw {
        op: RmwOp,
        addr: Value,
        value: Value,
        order: MemOrder,
    },
    /// Atomic compare-and-swap; returns the old value.
    CmpXchg {
        addr: Value,
        expected: Value,
        new: Value,
        order: MemOrder,
    },
    Fence(FenceKind),
    /// Call a helper with up to four I64 arguments; the result is I64 (or Void).
    Call {
        helper: &'static Helper,
        args: Vec<Value>,
    },
    /// A 128-bit vector operation from state fields to a state field (Void; see
    /// [`crate::vector`]).
    Vec(VecInst),
}

impl Op {
    /// The values this op reads, in order (without allocating: the translator asks
    /// for every instruction's operands several times per block).
    pub fn operands(&self) -> impl Iterator<Item = Value> + '_ {
        let none = Value(0);
        let (fixed, count, args): ([Value; 3], usize, &[Value]) = match self {
            Op::Const(_) | Op::GetState { .. } | Op::Fence(_) | Op::Vec(_) => ([none; 3], 0, &[]),
            Op::SetState { value, .. } => ([*value, none, none], 1, &[]),
            Op::Bin { a, b, .. } | Op::Cmp { a, b, .. } | Op::SubFlags { a, b } => ([*a, *b, none], 2, &[]),
            Op::Un { a, .. } | Op::ZExt(a) | Op::SExt(a) | Op::Trunc(a) | Op::LogicFlags { a } => {
                ([*a, none, none], 1, &[])
            }
            Op::Select { cond, a, b } => ([*cond, *a, *b], 3, &[]),
            Op::AddFlags { a, b, carry } => ([*a, *b, *carry], 3, &[]),
            Op::CondHolds { nzcv, .. } => ([*nzcv, none, none], 1, &[]),
            Op::Load { addr, .. } => ([*addr, none, none], 1, &[]),
            Op::Store { addr, value, .. } | Op::AtomicRmw { addr, value, .. } => ([*addr, *value, none], 2, &[]),
            Op::CmpXchg { addr, expected, new, .. } => ([*addr, *expected, *new], 3, &[]),
            Op::Call { args, .. } => ([none; 3], 0, args.as_slice()),
        };
        fixed.into_iter().take(count).chain(args.iter().copied())
    }

    /// Rewrite every operand through `f` (used by passes that replace values).
    pub fn map_operands(&mut self, mut f: impl FnMut(Value) -> Value) {
        match self {
            Op::Const(_) | Op::GetState { .. } | Op::Fence(_) | Op::Vec(_) => {}
            Op::SetState { value, .. } => *value = f(*value),
            Op::Bin { a, b, .. } | Op::Cmp { a, b, .. } | Op::SubFlags { a, b } => {
                *a = f(*a);
                *b = f(*b);
            }
            Op::Un { a, .. } | Op::ZExt(a) | Op::SExt(a) | Op::Trunc(a) | Op::LogicFlags { a } => *a = f(*a),
            Op::Select { cond, a, b } => {
                *cond = f(*cond);
                *a = f(*a);
                *b = f(*b);
            }
            Op::AddFlags { a, b, carry } => {
                *a = f(*a);
                *b = f(*b);
                *carry = f(*carry);
            }
            Op::CondHolds { nzcv, .. } => *nzcv = f(*nzcv),
            Op::Load { addr, .. } => *addr = f(*addr),
            Op::Store { addr, value, .. } | Op::AtomicRmw { addr, value, .. } => {
                *addr = f(*addr);
                *value = f(*value);
            }
            Op::CmpXchg { addr, expected, new, .. } => {
                *addr = f(*addr);
                *expected = f(*expected);
                *new = f(*new);
            }
            Op::Call { args, .. } => args.iter_mut().for_each(|a| *a = f(*a)),
        }
    }

    /// True when the op does something besides producing its value (memory, state,
    /// helpers). Such ops are never removed by DCE. Loads count: a dead load to a bad
    /// address must still fault, as it does on hardware.
    pub fn has_side_effects(&self) -> bool {
        matches!(
            self,
            Op::SetState { .. }
                | Op::Load { .. }
                | Op::Store { .. }
                | Op::AtomicRmw { .. }
                | Op::CmpXchg { .. }
                | Op::Fence(_)
                | Op::Call { .. }
                | Op::Vec(_)
        )
    }
}

/// How a block ends. Every terminal sets [`crate::StateHeader::pc`] to the next guest PC.
#[derive(Clone, PartialEq, Debug)]
pub enum Terminal {
    /// Continue at a known guest PC (direct branch, fall-through).
    Link(u64),
    /// Two-way branch on an I1 value.
    If { cond: Value, then_pc: u64, else_pc: u64 },
    /// Continue at a computed guest PC (I64).
    Indirect(Value),
    /// Like `Indirect`, but the target is a function return address (a hint for
    /// return prediction).
    Return(Value),
    /// Make a system call, then continue at `next_pc`.
    Syscall { next_pc: u64 },
    /// Raise synchronous signal `signal` at guest PC `pc` (undefined instruction: SIGILL).
    Trap { signal: i32, pc: u64 },
    /// Return to the dispatcher, which drops translations of the code the guest
    /// declared modified ([`crate::StateHeader::code_dirty_start`]), then continue at
    /// `next_pc` (AArch64 `ISB` after `IC IVAU`).
    Synchronize { next_pc: u64 },
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

    pub fn map_operands(&mut self, mut f: impl FnMut(Value) -> Value) {
        match self {
            Terminal::If { cond, .. } => *cond = f(*cond),
            Terminal::Indirect(v) | Terminal::Return(v) => *v = f(*v),
            _ => {}
        }
    }
}
