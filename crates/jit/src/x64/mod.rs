//! The x86_64 host back end and the JIT engine.
//!
//! - [`features`]: optional host instructions, detected with CPUID.
//! - [`regs`]: host register roles and the spill frame.
//! - [`regalloc`]: linear-scan register allocation over a block's SSA values.
//! - [`emit`]: IR -> machine code with dynasmrt, one module per op family.
//! - [`code`]: the executable region: entry/exit routines, indirect table, blocks.
//! - [`engine`]: [`JitEngine`], the dispatcher, code cache and block linking.
//! - [`disasm`]: capstone listings for logs and golden tests.
//!
//! Translated code runs with the guest state pointer pinned in `r15`; guest state
//! fields are `[r15 + offset]`, guest memory is host memory. Blocks chain to each other
//! with patched direct jumps and an inline indirect-branch table, so hot loops stay in
//! host code; they check `StateHeader::exit_request` at every block entry.

pub mod code;
pub mod disasm;
pub mod emit;
pub mod engine;
pub mod features;
pub mod regalloc;
pub mod regs;

pub use engine::{JitEngine, JitOptions};
pub use features::HostFeatures;

use archway_ir::Block;

/// The host code `block` compiles to, as a capstone listing (for golden tests and
/// reading). The code is assembled for fixed illustrative addresses: the block at
/// `0x10_0000`, the exit routines at `0x1000`.. and the indirect table at `0x2000`.
/// Helper addresses, which change from run to run, are shown as `<name>`.
pub fn host_listing(block: &Block, features: HostFeatures) -> String {
    const BASE: usize = 0x10_0000;
    let env = emit::CodeEnv {
        exit_lookup: 0x1000,
        exit_syscall: 0x1100,
        exit_requested: 0x1200,
        exit_trap: 0x1300,
        exit_synchronize: 0x1400,
        indirect_table: 0x2000,
    };
    match emit::assemble(block, BASE, &env, features) {
        Ok(assembled) => name_helpers(block, disasm::listing(&assembled.code, assembled.data_offset, BASE as u64)),
        Err(e) => format!("<not compiled: {e:?}>\n"),
    }
}

/// Replace the addresses of the helpers `block` calls by their names.
fn name_helpers(block: &Block, listing: String) -> String {
    let vector = format!("{:#x}", archway_ir::vector::exec_packed as *const () as usize);
    block.insts.iter().fold(listing, |text, inst| match &inst.op {
        archway_ir::Op::Call { helper, .. } => {
            text.replace(&format!("{:#x}", helper.func as usize), &format!("<{}>", helper.name))
        }
        archway_ir::Op::Vec(_) => text.replace(&vector, "<vector::exec_packed>"),
        _ => text,
    })
}
