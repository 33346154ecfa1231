//! Dead state-store elimination: a state write that a later write of the same field
//! fully overwrites, with no possible read in between, is removed.
//!
//! Writes are `SetState` and vector ops ([`Op::Vec`] writes its 16-byte destination and
//! does nothing else, so a dead one goes entirely). Reads are `GetState` of an
//! overlapping field, the fields a vector op reads, and helpers that read state.
//! Guest memory accesses count as reads of the whole state: one may fault, and the
//! guest's signal handler must then see every register written before it (precise
//! synchronous signals).

use crate::block::Block;
use crate::op::Op;
use crate::types::Type;

/// Remove the dead state writes of `block` (see the module docs).
pub fn run(block: &mut Block) {
    // Fields written later with no read after the write: (offset, bytes).
    let mut overwritten: Vec<(u32, u32)> = Vec::new();
    let mut dead = vec![false; block.insts.len()];
    for (i, inst) in block.insts.iter().enumerate().rev() {
        match &inst.op {
            Op::SetState { offset, value } => {
                dead[i] = !write(&mut overwritten, *offset, size(block.insts[value.index()].ty));
            }
            Op::GetState { offset } => read(&mut overwritten, *offset, size(inst.ty)),
            Op::Vec(v) => {
                dead[i] = !write(&mut overwritten, v.dst, 16);
                if !dead[i] {
                    v.reads().for_each(|offset| read(&mut overwritten, offset, 16));
                }
            }
            Op::Call { helper, .. } if helper.reads_state => overwritten.clear(),
            Op::Load { .. } | Op::Store { .. } | Op::AtomicRmw { .. } | Op::CmpXchg { .. } => overwritten.clear(),
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

/// A write of `[offset, offset + bytes)`, walking backwards: false when a later write
/// already covers it (the write is dead), else it now covers the field.
fn write(overwritten: &mut Vec<(u32, u32)>, offset: u32, bytes: u32) -> bool {
    let covered = overwritten.iter().any(|&(o, n)| o <= offset && offset + bytes <= o + n);
    if !covered {
        overwritten.push((offset, bytes));
    }
    !covered
}

/// A read of `[offset, offset + bytes)`: earlier writes of it are live.
fn read(overwritten: &mut Vec<(u32, u32)>, offset: u32, bytes: u32) {
    let end = offset + bytes;
    overwritten.retain(|&(o, n)| o + n <= offset || o >= end);
}

/// After `retain` removed the instructions marked in `removed` (none of which had
/// uses), fix operand indices and guest instruction starts.
pub(crate) fn renumber_after_removal(block: &mut Block, removed: &[bool]) {
    if !removed.contains(&true) {
        return;
    }
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
