//! Golden listings per guest instruction: for a list of A64 instructions (and a few
//! short sequences), the optimised IR they translate to and the x86_64 code the JIT
//! makes of it, disassembled with capstone. A change in the front end, the passes or
//! the back end shows up as a diff in `tests/golden/a64.txt`, to be reviewed.
//! `UPDATE_GOLDEN=1 cargo test -p archway-host-x64 --test a64_golden` rewrites it.

use archway_guest_a64::translate::translate_block;
use archway_guest_a64::A64Frontend;
use archway_host_x64::{host_listing, HostFeatures};
use archway_ir::Frontend;
use std::fmt::Write;
use support::check_golden;

mod support;

/// Guest code at this address; listings do not depend on it beyond PC-relative values.
const PC: u64 = 0x40_0000;

/// (words, assembly as binutils prints it). Multi-word cases show how instructions
/// combine (e.g. compare and branch).
const CASES: &[(&[u32], &str)] = &[
    (&[0x8b020020], "add x0, x1, x2"),
    (&[0x31000420], "adds w0, w1, #0x1"),
    (&[0xcb050c83], "sub x3, x4, x5, lsl #3"),
    (&[0xeb01001f], "cmp x0, x1"),
    (&[0xeb01001f, 0x54000041], "cmp x0, x1; b.ne .+8"),
    (&[0x9a82b020], "csel x0, x1, x2, lt"),
    (&[0xd3442c20], "ubfx x0, x1, #4, #8"),
    (&[0x531d7020], "lsl w0, w1, #3"),
    (&[0x9b020c20], "madd x0, x1, x2, x3"),
    (&[0x1ac20820], "udiv w0, w1, w2"),
    (&[0xdac01020], "clz x0, x1"),
    (&[0xdac00c20], "rev x0, x1"),
    (&[0xf9400420], "ldr x0, [x1, #8]"),
    (&[0x38626820], "ldrb w0, [x1, x2]"),
    (&[0xb8004420], "str w0, [x1], #4"),
    (&[0xa8c17bfd], "ldp x29, x30, [sp], #16"),
    (&[0xa9bf7bfd], "stp x29, x30, [sp, #-16]!"),
    (&[0xc85f7c20], "ldxr x0, [x1]"),
    (&[0xc8027c20], "stxr w2, x0, [x1]"),
    (&[0xf8200041], "ldadd x0, x1, [x2]"),
    (&[0x88dffc20], "ldar w0, [x1]"),
    (&[0x889ffc20], "stlr w0, [x1]"),
    (&[0xd53bd040], "mrs x0, tpidr_el0"),
    (&[0x1e622820], "fadd d0, d1, d2"),
    (&[0x4ea28420], "add v0.4s, v1.4s, v2.4s"),
    (&[0x6f08a4a2], "uxtl2 v2.8h, v5.16b"),
    (&[0x2e2138c3], "shll v3.8h, v6.8b, #8"),
    (&[0x2f2d0422], "ushr v2.2s, v1.2s, #19"),
    (&[0x4e209822, 0x6e22a442], "cmeq v2.16b, v1.16b, #0; umaxp v2.16b, v2.16b, v2.16b"),
    (&[0x0f0c8420], "shrn v0.8b, v1.8h, #4"),
    (&[0x6ea21c20], "bit v0.16b, v1.16b, v2.16b"),
    (&[0x4e0c1ca0], "mov v0.s[1], w5"),
    (&[0x6e140423], "mov v3.s[2], v1.s[0]"),
    (&[0x5e1c0627], "mov s7, v17.s[3]"),
    (&[0x0e073c20], "umov w0, v1.b[3]"),
    (&[0x4e010c20], "dup v0.16b, w1"),
    (&[0x4f02e400], "movi v0.16b, #0x40"),
    (&[0x6e220c20], "uqadd v0.16b, v1.16b, v2.16b"),
    (&[0x3dc00020], "ldr q0, [x1]"),
    (&[0xd503201f], "nop"),
    (&[0x94000010], "bl .+64"),
    (&[0xd65f03c0], "ret"),
    (&[0xd4000001], "svc #0"),
    (&[0x00000000], "udf #0"),
];

fn render() -> String {
    let frontend = A64Frontend;
    let mut out = String::new();
    for (words, asm) in CASES {
        let fetch = |pc: u64| {
            let i = pc.checked_sub(PC)? / 4;
            words.get(i as usize).copied()
        };
        let mut block = translate_block(PC, &fetch);
        archway_ir::passes::optimize(&mut block);
        archway_ir::verify::verify(&block).unwrap_or_else(|e| panic!("{asm}: {e}"));
        writeln!(out, "== {asm} ==").unwrap();
        for (i, w) in words.iter().enumerate() {
            let pc = PC + 4 * i as u64;
            writeln!(out, "  {w:08x}  {}", frontend.disassemble(pc, *w).trim_end()).unwrap();
        }
        write!(out, "{}--\n{}\n", block.named(&frontend), host_listing(&block, HostFeatures::BASELINE)).unwrap();
    }
    out
}

#[test]
fn a64_instructions() {
    check_golden("a64.txt", &render());
}
