//! Host code listings with capstone, for debug logs and golden tests.

use capstone::arch::x86::{ArchMode, ArchSyntax};
use capstone::arch::{BuildsCapstone, BuildsCapstoneSyntax};
use capstone::Capstone;

/// Intel-syntax disassembly of `code` placed at `addr`, one instruction per line as
/// `offset: mnemonic operands` (offsets from `addr`, so listings do not depend on
/// where the code was placed). Bytes from `data_offset` on are the constant pool,
/// shown as 16-byte hex words.
pub fn listing(code: &[u8], data_offset: usize, addr: u64) -> String {
    let (code, data) = code.split_at(data_offset.min(code.len()));
    let cs = match Capstone::new().x86().mode(ArchMode::Mode64).syntax(ArchSyntax::Intel).build() {
        Ok(cs) => cs,
        Err(e) => return format!("<capstone unavailable: {e}>\n"),
    };
    let insns = match cs.disasm_all(code, addr) {
        Ok(insns) => insns,
        Err(e) => return format!("<disassembly failed: {e}>\n"),
    };
    let mut out = String::new();
    for insn in insns.iter() {
        let text = format!("{} {}", insn.mnemonic().unwrap_or("?"), insn.op_str().unwrap_or(""));
        out.push_str(&format!("{:5x}: {}\n", insn.address() - addr, text.trim_end()));
    }
    for (k, chunk) in data.chunks(16).enumerate() {
        let word: String = chunk.iter().rev().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!("{:5x}: .octa 0x{word}\n", data_offset + 16 * k));
    }
    out
}
