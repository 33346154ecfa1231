//! The IR verifier: every operand defined before use, every type as its op requires
//! (each op's typing rule is the `valid` column of its row in the op table, [`crate::op`]).
//!
//! Passes and front ends keep blocks verified; the JIT may assume it.

use crate::block::Block;
use crate::op::Terminal;
use crate::types::{Type, Value};

/// A verifier complaint: the instruction index (or `None` for the terminal) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("IR verify error at {}: {message}", .inst.map_or("terminal".to_string(), |i| format!("v{i}")))]
pub struct VerifyError {
    /// The index of the instruction (`vN`), or `None` for the terminal.
    pub inst: Option<usize>,
    /// What is wrong.
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
        inst.op.check_types(inst.ty, |v| block.insts[v.index()].ty).map_err(|why| fail(why.to_string()))?;
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
    use crate::op::{BinOp, Op};

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
        use crate::lane_ops::{VecInst, VecOp};
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
