//! Listings of the host code a block compiles to, for golden tests and reading.

use crate::backend::{Backend, CodeEnv};
use archway_ir::Block;

/// The host code back end `B` compiles `block` to, as `B`'s listing. The code is
/// assembled for fixed illustrative addresses: the block at `0x10_0000`, the exit
/// routines at `0x1000`.. and the indirect table at `0x2000`. Helper addresses, which
/// change from run to run, are shown as `<name>`.
pub fn host_listing<B: Backend>(block: &Block, features: B::Features) -> String {
    const BASE: usize = 0x10_0000;
    let env = CodeEnv {
        exit_lookup: 0x1000,
        exit_syscall: 0x1100,
        exit_requested: 0x1200,
        exit_trap: 0x1300,
        exit_synchronize: 0x1400,
        indirect_table: 0x2000,
    };
    match B::compile(block, BASE, &env, features) {
        Ok(compiled) => name_helpers(block, B::listing(&compiled.code, compiled.data_offset, BASE as u64)),
        Err(e) => format!("<not compiled: {e:?}>\n"),
    }
}

/// Replace the addresses of the helpers `block` calls by their names.
fn name_helpers(block: &Block, listing: String) -> String {
    let lane_ops = format!("{:#x}", archway_ir::lane_ops::exec_packed as *const () as usize);
    block.insts.iter().fold(listing, |text, inst| match &inst.op {
        archway_ir::Op::Call { helper, .. } => {
            text.replace(&format!("{:#x}", helper.func as usize), &format!("<{}>", helper.name))
        }
        archway_ir::Op::Vec(_) => text.replace(&lane_ops, "<lane_ops::exec_packed>"),
        _ => text,
    })
}
