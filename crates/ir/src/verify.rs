//! The IR verifier: every operand defined before use, every type as its op requires.
//!
//! Passes and front ends keep blocks verified; the JIT may assume it.

use crate::block::Block;
use crate::op::{BinOp, Op, Terminal};
use crate::types::{Type, Value};

/// A verifier complaint: the instruction index (or `None` for the terminal) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("IR verify error at {}: {message}", .inst.map_or("terminal".to_string(), |i| format!("v{i}")))]
pub struct VerifyError {
    pub inst: Option<usize>,
    pub message: String,
}

/// Check a block. Returns the first problem found.
pub fn verify(block: &Block) -> Result<(), VerifyError> {
    for (i, inst) in block.insts.iter().enumerate() {
        let fail = |message: String| VerifyError { inst: Some(i), message };
        let ty_of = |v: Value| -> Result<Type, VerifyError> {
            if v.index() >= i {
                return Err(fail(format!("operand v{} used before it is defined", v.0)));
            }
            let t = block.insts[v.index()].ty;
            if t == Type::Void {
                return Err(fail(format!("operand v{} has no value", v.0)));
            }
            Ok(t)
        };
        for v in inst.op.operands() {
            ty_of(v)?;
        }
        let ty = inst.ty;
        let want = |cond: bool, what: &str| if cond { Ok(()) } else { Err(fail(what.to_string())) };
        match &inst.op {
            Op::Const(c) => want(ty != Type::Void && c & !ty.mask() == 0, "constant out of range for its type")?,
            Op::GetState { .. } => want(ty != Type::Void, "GetState needs a value type")?,
            Op::SetState { .. } | Op::Store { .. } | Op::Fence(_) => want(ty == Type::Void, "op has no result")?,
            Op::Vec(v) => {
                want(ty == Type::Void, "op has no result")?;
                v.check().map_err(|why| fail(why.to_string()))?
            }
            Op::Bin { op, a, b } => {
                want(
                    ty.is_int() && ty_of(*a)? == ty && ty_of(*b)? == ty,
                    "binary op operands must match the result type",
                )?;
                if BinOp::I64_ONLY.contains(op) {
                    want(ty == Type::I64, "high multiply is I64 only")?;
                }
            }
            Op::Un { a, .. } => want(ty.is_int() && ty_of(*a)? == ty, "unary op operand must match the result type")?,
            Op::Cmp { a, b, .. } => want(
                ty == Type::I1 && ty_of(*a)?.is_int() && ty_of(*a)? == ty_of(*b)?,
                "comparison of mismatched types",
            )?,
            Op::Select { cond, a, b } => want(
                ty_of(*cond)? == Type::I1 && ty_of(*a)? == ty && ty_of(*b)? == ty,
                "select needs an I1 condition and operands of the result type",
            )?,
            Op::ZExt(a) | Op::SExt(a) => {
                let from = ty_of(*a)?;
                want(ty.is_int() && from.bits() < ty.bits(), "extension must widen")?
            }
            Op::Trunc(a) => {
                let from = ty_of(*a)?;
                want(ty != Type::Void && from.bits() > ty.bits(), "truncation must narrow")?
            }
            Op::AddFlags { a, b, carry } => want(
                ty == Type::I32
                    && matches!(ty_of(*a)?, Type::I32 | Type::I64)
                    && ty_of(*a)? == ty_of(*b)?
                    && ty_of(*carry)? == Type::I1,
                "AddFlags takes two I32/I64 operands and an I1 carry, gives I32",
            )?,
            Op::SubFlags { a, b } => want(
                ty == Type::I32 && matches!(ty_of(*a)?, Type::I32 | Type::I64) && ty_of(*a)? == ty_of(*b)?,
                "SubFlags takes two I32/I64 operands, gives I32",
            )?,
            Op::LogicFlags { a } => {
                want(ty == Type::I32 && matches!(ty_of(*a)?, Type::I32 | Type::I64), "LogicFlags takes I32/I64")?
            }
            Op::CondHolds { cond, nzcv } => {
                want(ty == Type::I1 && *cond < 16 && ty_of(*nzcv)? == Type::I32, "CondHolds takes an I32 NZCV")?
            }
            Op::Load { addr, .. } => {
                want(ty.is_int() && ty_of(*addr)? == Type::I64, "load needs an I64 address and an integer type")?
            }
            Op::AtomicRmw { addr, value, .. } => want(
                ty.is_int() && ty_of(*addr)? == Type::I64 && ty_of(*value)? == ty,
                "atomic RMW needs an I64 address and a value of the result type",
            )?,
            Op::CmpXchg { addr, expected, new, .. } => want(
                ty.is_int() && ty_of(*addr)? == Type::I64 && ty_of(*expected)? == ty && ty_of(*new)? == ty,
                "cmpxchg needs an I64 address and values of the result type",
            )?,
            Op::Call { args, .. } => {
                want(args.len() <= 4, "helpers take at most four arguments")?;
                want(matches!(ty, Type::I64 | Type::Void), "helpers return I64 or nothing")?;
                for a in args {
                    want(ty_of(*a)? == Type::I64, "helper arguments are I64")?;
                }
            }
        }
        if let Op::Store { addr, value, .. } = &inst.op {
            want(
                ty_of(*addr)? == Type::I64 && ty_of(*value)?.is_int(),
                "store needs an I64 address and an integer value",
            )?;
        }
    }
    let n = block.insts.len();
    let term_fail = |message: &str| VerifyError { inst: None, message: message.to_string() };
    if block.terminal.operand().is_some_and(|v| v.index() >= n) {
        return Err(term_fail("terminal uses an undefined value"));
    }
    match &block.terminal {
        Terminal::If { cond, .. } if block.ty(*cond) != Type::I1 => Err(term_fail("If needs an I1 condition")),
        Terminal::Indirect(v) | Terminal::Return(v) if block.ty(*v) != Type::I64 => {
            Err(term_fail("indirect target must be I64"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::BlockBuilder;

    #[test]
    fn accepts_good_and_rejects_mismatched_types() {
        let mut b = BlockBuilder::new(0);
        let x = b.konst(Type::I64, 1);
        let y = b.konst(Type::I32, 2);
        b.push(Type::I64, Op::Bin { op: BinOp::Add, a: x, b: y });
        let block = b.finish(Terminal::Link(4));
        assert!(verify(&block).is_err());

        let mut b = BlockBuilder::new(0);
        let x = b.konst(Type::I64, 1);
        let s = b.bin(BinOp::Add, x, x);
        b.set_state(32, s);
        assert_eq!(verify(&b.finish(Terminal::Indirect(s))), Ok(()));
    }

    #[test]
    fn checks_vector_ops() {
        use crate::vector::{VecInst, VecOp};
        let add = VecInst { op: VecOp::Add, esize: 32, full: true, dst: 32, a: 48, b: 64, imm: 0 };
        let with = |ty, v| {
            let mut b = BlockBuilder::new(0);
            b.push(ty, Op::Vec(v));
            verify(&b.finish(Terminal::Link(4)))
        };
        assert_eq!(with(Type::Void, add), Ok(()));
        assert!(with(Type::I64, add).is_err());
        assert!(with(Type::Void, VecInst { op: VecOp::Ext, esize: 32, ..add }).is_err());
    }

    #[test]
    fn rejects_use_before_definition() {
        let mut b = BlockBuilder::new(0);
        b.push(Type::I64, Op::Un { op: crate::op::UnOp::Not, a: Value(0) });
        assert!(verify(&b.finish(Terminal::Link(0))).is_err());
    }
}
