//! Get/set elimination: a state read after a read or write of the same field (same
//! offset and type, nothing overlapping written in between) reuses that value.

use super::substitute;
use crate::block::Block;
use crate::op::Op;
use crate::types::{Type, Value};

pub fn run(block: &mut Block) {
    // Field offset -> (type, current value). A handful of entries: a Vec is enough.
    let mut known: Vec<(u32, Type, Value)> = Vec::new();
    let mut subst = vec![None; block.insts.len()];
    for (i, inst) in block.insts.iter().enumerate() {
        match &inst.op {
            Op::GetState { offset } => match known.iter().find(|(o, t, _)| *o == *offset && *t == inst.ty) {
                Some(&(_, _, v)) => subst[i] = Some(v),
                None => {
                    forget_overlapping(&mut known, *offset, inst.ty);
                    known.push((*offset, inst.ty, Value(i as u32)));
                }
            },
            Op::SetState { offset, value } => {
                let ty = block.insts[value.index()].ty;
                forget_overlapping(&mut known, *offset, ty);
                let value = resolve(&subst, *value);
                known.push((*offset, ty, value));
            }
            Op::Call { helper, .. } if helper.writes_state => known.clear(),
            _ => {}
        }
    }
    substitute(block, &subst);
}

fn resolve(subst: &[Option<Value>], mut v: Value) -> Value {
    while let Some(s) = subst[v.index()] {
        v = s;
    }
    v
}

/// Forget fields overlapping `[offset, offset + size of ty)`.
fn forget_overlapping(known: &mut Vec<(u32, Type, Value)>, offset: u32, ty: Type) {
    let end = offset + ty.bytes().max(1);
    known.retain(|(o, t, _)| o + t.bytes().max(1) <= offset || *o >= end);
}
