//! Dead code elimination: pure instructions whose values nobody uses are removed.

use super::dead_state::renumber_after_removal;
use crate::block::Block;

/// Remove the instructions of `block` whose values nothing uses and that have no side effects.
pub fn run(block: &mut Block) {
    let n = block.insts.len();
    let mut used = vec![false; n];
    if let Some(v) = block.terminal.operand() {
        used[v.index()] = true;
    }
    let mut removed = vec![false; n];
    for i in (0..n).rev() {
        let inst = &block.insts[i];
        if !used[i] && !inst.op.has_side_effects() {
            removed[i] = true;
            continue;
        }
        for v in inst.op.operands() {
            used[v.index()] = true;
        }
    }
    let mut i = 0;
    block.insts.retain(|_| {
        i += 1;
        !removed[i - 1]
    });
    renumber_after_removal(block, &removed);
}
