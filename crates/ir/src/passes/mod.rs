//! Optimisation passes. Each keeps the block verified and its meaning unchanged.
//!
//! - [`get_set`]: forward state reads from earlier reads and writes of the same field.
//! - [`dead_state`]: drop state writes overwritten later in the block with no read
//!   between; this is what removes dead flag computations (an `NZCV` write followed
//!   by another) once DCE deletes the flag op that fed it.
//! - [`const_fold`]: evaluate ops on constants and simplify identities; a constant
//!   `If` becomes a `Link`.
//! - [`dce`]: delete pure instructions whose values are unused, and renumber.
//!
//! Guest state written by a block is always in memory when the block ends, so
//! passes never look across blocks. Memory accesses are not barriers for state
//! forwarding: a fault in the middle of a block sees the state as of the last
//! surviving write (precise signal state is recovered by the engine, not kept here).

pub mod const_fold;
pub mod dce;
pub mod dead_state;
pub mod get_set;

use crate::block::Block;
use crate::types::Value;

/// Run the standard pipeline.
pub fn optimize(block: &mut Block) {
    get_set::run(block);
    const_fold::run(block);
    dead_state::run(block);
    dce::run(block);
}

/// Replace uses: `subst[i] = Some(v)` means "uses of value i now use v". Values are
/// resolved transitively; `v` must be defined before every use of `i`.
pub(crate) fn substitute(block: &mut Block, subst: &[Option<Value>]) {
    if subst.iter().all(Option::is_none) {
        return;
    }
    let resolve = |mut v: Value| {
        while let Some(s) = subst[v.index()] {
            v = s;
        }
        v
    };
    for inst in &mut block.insts {
        inst.op.map_operands(resolve);
    }
    block.terminal.map_operands(resolve);
}

#[cfg(test)]
mod tests;
