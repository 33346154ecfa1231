//! Dead state-store elimination: a state write that a later write of the same field
//! fully overwrites, with no possible read in between, is removed.
//!
//! Reads are `GetState` of an overlapping field and helpers that read state.

use crate::block::Block;
use crate::op::Op;
use crate::types::Type;

pub fn run(block: &mut Block) {
    // Fields written later with no read after the write: (offset, bytes).
    let mut overwritten: Vec<(u32, u32)> = Vec::new();
    let mut dead = vec![false; block.insts.len()];
    for (i, inst) in block.insts.iter().enumerate().rev() {
        match &inst.op {
            Op::SetState { offset, value } => {
                let bytes = size(block.insts[value.index()].ty);
                let covered = overwritten.iter().any(|&(o, n)| o <= *offset && offset + bytes <= o + n);
                if covered {
                    dead[i] = true;
                } else {
                    overwritten.push((*offset, bytes));
                }
            }
            Op::GetState { offset } => {
                let end = offset + size(inst.ty);
                overwritten.retain(|&(o, n)| o + n <= *offset || o >= end);
            }
            Op::Call { helper, .. } if helper.reads_state => overwritten.clear(),
            _ => {}
        }
    }
    let mut i = 0;
    block.insts.retain(|_| {
        i += 1;
        !dead[i - 1]
    });
    // Removing Void instructions renumbers later values: remap operands.
    renumber_after_removal(block, &dead);
}

fn size(ty: Type) -> u32 {
    ty.bytes().max(1)
}

/// After `retain` removed the instructions marked in `removed` (none of which had
/// uses), fix operand indices and guest instruction starts.
pub(crate) fn renumber_after_removal(block: &mut Block, removed: &[bool]) {
    let mut new_index = Vec::with_capacity(removed.len() + 1);
    let mut next = 0u32;
    for &r in removed {
        new_index.push(next);
        if !r {
            next += 1;
        }
    }
    new_index.push(next);
    let map = |v: crate::types::Value| crate::types::Value(new_index[v.index()]);
    for inst in &mut block.insts {
        inst.op.map_operands(map);
    }
    block.terminal.map_operands(map);
    for g in &mut block.guest_insns {
        g.first_inst = new_index[g.first_inst as usize];
    }
}
