//! The aarch64 front end as the engines see it ([`archway_ir::Frontend`]).

use crate::state::CpuState;
use crate::translate::{read_insn, translate_block};
use archway_ir::{Block, Frontend};
use capstone::prelude::*;

/// Translates A64 code read straight from guest (= host) memory.
#[derive(Debug, Default)]
pub struct A64Frontend;

impl Frontend for A64Frontend {
    fn translate(&self, pc: u64) -> Block {
        // SAFETY: the engine only translates PCs the guest jumped to; an unmapped PC
        // faults here exactly as the guest's instruction fetch would.
        translate_block(pc, &|addr| Some(unsafe { read_insn(addr) }))
    }

    fn insn_bytes(&self) -> u64 {
        4
    }

    fn disassemble(&self, pc: u64, word: u32) -> String {
        thread_local! {
            static CS: Option<Capstone> = Capstone::new()
                .arm64()
                .mode(arch::arm64::ArchMode::Arm)
                .build()
                .ok();
        }
        CS.with(|cs| {
            let text = cs.as_ref().and_then(|cs| {
                let insns = cs.disasm_count(&word.to_le_bytes(), pc, 1).ok()?;
                let insn = insns.iter().next()?;
                Some(format!("{} {}", insn.mnemonic().unwrap_or("?"), insn.op_str().unwrap_or("")))
            });
            text.unwrap_or_else(|| format!(".inst {word:#010x}"))
        })
    }

    fn state_size(&self) -> usize {
        core::mem::size_of::<CpuState>()
    }

    fn state_field_name(&self, offset: u32) -> Option<String> {
        crate::state::field_name(offset)
    }
}
