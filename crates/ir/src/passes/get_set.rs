//! Get/set elimination: a state read after a read or write of the same field (same
//! offset and type, nothing overlapping written in between) reuses that value.

use super::substitute;
use crate::block::Block;
use crate::op::Op;
use crate::types::{Type, Value};

/// Forward state values within `block` (see the module docs).
pub fn run(block: &mut Block) {
    // Field offset -> (type, current value). A handful of entries: a Vec is enough.
    let mut known: Vec<(u32, Type, Value)> = Vec::with_capacity(32);
    let mut subst = vec![None; block.insts.len()];
    for (i, inst) in block.insts.iter().enumerate() {
        match &inst.op {
            Op::GetState { offset } => match known.iter().find(|(o, t, _)| *o == *offset && *t == inst.ty) {
                Some(&(_, _, v)) => subst[i] = Some(v),
                None => {
                    forget_overlapping(&mut known, *offset, size(inst.ty));
                    known.push((*offset, inst.ty, Value(i as u32)));
                }
            },
            Op::SetState { offset, value } => {
                let ty = block.insts[value.index()].ty;
                forget_overlapping(&mut known, *offset, size(ty));
                let value = resolve(&subst, *value);
                known.push((*offset, ty, value));
            }
            Op::Vec(v) => forget_overlapping(&mut known, v.dst, 16),
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

/// Bytes a state field of type `ty` occupies.
fn size(ty: Type) -> u32 {
    ty.bytes().max(1)
}

/// Forget fields overlapping `[offset, offset + bytes)`.
fn forget_overlapping(known: &mut Vec<(u32, Type, Value)>, offset: u32, bytes: u32) {
    let end = offset + bytes;
    known.retain(|(o, t, _)| o + size(*t) <= offset || *o >= end);
}
