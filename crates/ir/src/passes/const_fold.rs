//! Constant folding and algebraic identities.
//!
//! Ops whose operands are all constants become constants (evaluated by
//! [`crate::eval`], the same code the interpreter uses); identities such as
//! `x + 0`, `x & all-ones`, shifts by 0 and selects on a constant forward their
//! operand; a constant `If` terminal becomes a `Link`.

use super::substitute;
use crate::block::Block;
use crate::eval;
use crate::op::{BinOp, Op, Terminal};
use crate::types::Value;

/// Fold the constants of `block` in place.
pub fn run(block: &mut Block) {
    let n = block.insts.len();
    let mut konst: Vec<Option<u64>> = vec![None; n];
    let mut subst: Vec<Option<Value>> = vec![None; n];
    for i in 0..n {
        let resolve = |v: Value| {
            let mut v = v;
            while let Some(s) = subst[v.index()] {
                v = s;
            }
            v
        };
        block.insts[i].op.map_operands(resolve);
        let inst = &block.insts[i];
        let ty = inst.ty;
        let c = |v: &Value| konst[v.index()];
        let folded = match &inst.op {
            Op::Const(x) => Some(*x),
            Op::Bin { op, a, b } => match (c(a), c(b)) {
                (Some(x), Some(y)) => Some(eval::bin(*op, ty, x, y)),
                (ka, kb) => {
                    if let Some(v) = identity(*op, *a, *b, ka, kb, ty.mask()) {
                        subst[i] = Some(v);
                    }
                    zero_result(*op, ka, kb)
                }
            },
            Op::Un { op, a } => c(a).map(|x| eval::un(*op, ty, x)),
            Op::Cmp { op, a, b } => match (c(a), c(b)) {
                (Some(x), Some(y)) => Some(eval::cmp(*op, block.ty(*a), x, y)),
                _ => None,
            },
            Op::Select { cond, a, b } => {
                match c(cond) {
                    Some(k) => subst[i] = Some(if k & 1 != 0 { *a } else { *b }),
                    None if a == b => subst[i] = Some(*a),
                    None => {}
                }
                None
            }
            Op::ZExt(a) => c(a),
            Op::SExt(a) => c(a).map(|x| eval::sext(block.ty(*a), x) as u64 & ty.mask()),
            Op::Trunc(a) => c(a).map(|x| x & ty.mask()),
            Op::AddFlags { a, b, carry } => match (c(a), c(b), c(carry)) {
                (Some(x), Some(y), Some(z)) => Some(eval::add_flags(block.ty(*a), x, y, z)),
                _ => None,
            },
            Op::SubFlags { a, b } => match (c(a), c(b)) {
                (Some(x), Some(y)) => Some(eval::sub_flags(block.ty(*a), x, y)),
                _ => None,
            },
            Op::LogicFlags { a } => c(a).map(|x| eval::logic_flags(block.ty(*a), x)),
            Op::CondHolds { cond, nzcv } => match (*cond >> 1 == 7, c(nzcv)) {
                (true, _) => Some(1),
                (false, Some(f)) => Some(eval::cond_holds(*cond, f)),
                _ => None,
            },
            _ => None,
        };
        if let Some(x) = folded {
            if subst[i].is_none() {
                block.insts[i].op = Op::Const(x & ty.mask());
                konst[i] = Some(x & ty.mask());
            }
        }
    }
    substitute(block, &subst);
    if let Terminal::If { cond, then_pc, else_pc } = block.terminal {
        if let Some(k) = konst[cond.index()] {
            block.terminal = Terminal::Link(if k & 1 != 0 { then_pc } else { else_pc });
        }
    }
}

/// `a op b` is just one of its operands.
fn identity(op: BinOp, a: Value, b: Value, ka: Option<u64>, kb: Option<u64>, mask: u64) -> Option<Value> {
    use BinOp::*;
    match (op, ka, kb) {
        (Add | Or | Xor, Some(0), _) => Some(b),
        (Add | Sub | Or | Xor | Shl | LShr | AShr | RotR | AndNot, _, Some(0)) => Some(a),
        (Mul, Some(1), _) => Some(b),
        (Mul | UDiv | SDiv, _, Some(1)) => Some(a),
        (And, Some(m), _) if m == mask => Some(b),
        (And, _, Some(m)) if m == mask => Some(a),
        (And | Or, _, _) if a == b => Some(a),
        _ => None,
    }
}

/// `a op b` is zero whatever the other operand is.
fn zero_result(op: BinOp, ka: Option<u64>, kb: Option<u64>) -> Option<u64> {
    use BinOp::*;
    match (op, ka, kb) {
        (And | Mul, Some(0), _) | (And | Mul, _, Some(0)) => Some(0),
        (Shl | LShr | UDiv | SDiv | AndNot, Some(0), _) => Some(0),
        _ => None,
    }
}
