//! Tests of the Advanced SIMD instructions, run through the decoder and translator:
//! each instruction word (assembled with `aarch64-linux-gnu-as`) is translated and its
//! IR (helper calls, vector ops, state moves) run by the reference interpreter on a
//! `CpuState` with known inputs.

use crate::decode;
use crate::state::CpuState;
use crate::translate::{Ctx, Flow};
use archway_ir::interp::run_block;
use archway_ir::{Block, BlockBuilder, Terminal};

/// Translate `word` and run its IR; false when undefined.
pub(crate) fn execute(state: &mut CpuState, word: u32) -> bool {
    let Some(entry) = decode::lookup(word) else {
        return false;
    };
    let mut ctx = Ctx { b: BlockBuilder::new(0x1000), pc: 0x1000 };
    if !matches!(entry.translate(&mut ctx, word), Flow::Continue) {
        return false;
    }
    run_ir(state, &ctx.b.finish(Terminal::Link(0x1004)));
    true
}

/// Run `block` (the IR of instructions that continue) on `state`.
pub(crate) fn run_ir(state: &mut CpuState, block: &Block) {
    archway_ir::verify::verify(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
    // SAFETY: the block addresses `CpuState` fields, and guest memory the test mapped.
    unsafe { run_block(block, state.as_mut_ptr()) };
}

fn run(state: &mut CpuState, word: u32) {
    assert!(execute(state, word), "{word:#010x} is undefined");
}

/// A u128 from its 16 bytes, lane 0 first.
fn bytes(b: [u8; 16]) -> u128 {
    u128::from_le_bytes(b)
}

fn iota(start: u8) -> u128 {
    bytes(core::array::from_fn(|i| start.wrapping_add(i as u8)))
}

#[test]
fn addv_sums_all_bytes() {
    let mut s = CpuState::default();
    s.set_vreg(1, iota(1)); // 1 + 2 + ... + 16 = 136
    s.set_vreg(0, u128::MAX);
    run(&mut s, 0x4e31b820); // addv b0, v1.16b
    assert_eq!(s.vreg(0), 136);
    s.set_vreg(1, bytes([0xff; 16]));
    run(&mut s, 0x4e31b820);
    assert_eq!(s.vreg(0), 0xf0, "the sum wraps at the lane width");
}

#[test]
fn umaxv_finds_the_largest_lane() {
    let mut s = CpuState::default();
    s.set_vreg(1, bytes([3, 9, 0xc8, 1, 0, 0, 0x7f, 2, 0, 0, 0, 0, 0, 0, 0xc7, 1]));
    run(&mut s, 0x6e30a820); // umaxv b0, v1.16b
    assert_eq!(s.vreg(0), 0xc8);
    s.set_vreg(1, 0x0000_0005_8000_0000_0000_0007_0000_0009);
    run(&mut s, 0x6eb0a820); // umaxv s0, v1.4s
    assert_eq!(s.vreg(0), 0x8000_0000);
}

#[test]
fn cmeq_zero_then_umaxp_is_the_strlen_test() {
    let mut s = CpuState::default();
    let mut text = *b"hello, world!!!!";
    s.set_vreg(1, bytes(text));
    run(&mut s, 0x4e209822); // cmeq v2.16b, v1.16b, #0
    assert_eq!(s.vreg(2), 0);
    run(&mut s, 0x6e22a443); // umaxp v3.16b, v2.16b, v2.16b
    assert_eq!(s.v[3][0], 0, "no NUL: the loop goes on");

    text[13] = 0;
    s.set_vreg(1, bytes(text));
    run(&mut s, 0x4e209822);
    assert_eq!(s.vreg(2), 0xff << (13 * 8));
    run(&mut s, 0x6e22a443);
    // Pairs (12, 13) of the low and high copies: byte 6 of each half.
    assert_eq!(s.v[3], [0xff << 48, 0xff << 48]);
}

#[test]
fn umaxp_of_64_bit_vectors_pairs_vn_then_vm() {
    let mut s = CpuState::default();
    s.set_vreg(2, 0xffff_ffff_ffff_ffff_0807_0605_0403_0201);
    s.set_vreg(4, 0xffff_ffff_ffff_ffff_1800_0000_0000_0011);
    s.set_vreg(3, u128::MAX);
    run(&mut s, 0x2e24a443); // umaxp v3.8b, v2.8b, v4.8b
    assert_eq!(s.vreg(3), 0x1800_0011_0806_0402);
}

#[test]
fn tbl_zeroes_out_of_range_indices_and_tbx_keeps_the_destination() {
    let mut s = CpuState::default();
    s.set_vreg(1, iota(0x40));
    s.set_vreg(2, iota(0x50));
    s.set_vreg(3, bytes([0, 17, 31, 32, 255, 5, 16, 15, 64, 1, 2, 3, 4, 5, 6, 7]));
    s.set_vreg(0, u128::MAX);
    run(&mut s, 0x4e032020); // tbl v0.16b, {v1.16b, v2.16b}, v3.16b
    assert_eq!(
        s.vreg(0).to_le_bytes(),
        [0x40, 0x51, 0x5f, 0, 0, 0x45, 0x50, 0x4f, 0, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47]
    );

    s.set_vreg(0, bytes([0xee; 16]));
    run(&mut s, 0x0e031020); // tbx v0.8b, {v1.16b}, v3.8b
    assert_eq!(s.vreg(0).to_le_bytes()[..8], [0x40, 0xee, 0xee, 0xee, 0xee, 0x45, 0xee, 0x4f]);
    assert_eq!(s.v[0][1], 0, "a 64-bit TBX zeroes the upper half");
}

#[test]
fn tbl_table_registers_wrap_from_v31_to_v0() {
    let mut s = CpuState::default();
    s.set_vreg(30, iota(0));
    s.set_vreg(31, iota(16));
    s.set_vreg(0, iota(32));
    s.set_vreg(1, iota(48));
    s.set_vreg(3, bytes([63, 47, 33, 16, 0, 64, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    run(&mut s, 0x4e0363c0); // tbl v0.16b, {v30.16b, v31.16b, v0.16b, v1.16b}, v3.16b
    assert_eq!(s.vreg(0).to_le_bytes(), [63, 47, 33, 16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
}

#[test]
fn ext_takes_bytes_across_the_register_pair() {
    let mut s = CpuState::default();
    s.set_vreg(1, iota(0));
    s.set_vreg(2, iota(0x10));
    run(&mut s, 0x6e021820); // ext v0.16b, v1.16b, v2.16b, #3
    assert_eq!(s.vreg(0), iota(3));
    run(&mut s, 0x2e022820); // ext v0.8b, v1.8b, v2.8b, #5
    assert_eq!(s.vreg(0).to_le_bytes()[..8], [5, 6, 7, 0x10, 0x11, 0x12, 0x13, 0x14]);
    assert_eq!(s.v[0][1], 0);
    assert!(!execute(&mut s, 0x2e024820), "a 64-bit EXT from byte 8 is unallocated");
}

#[test]
fn zip1_and_uzp2() {
    let mut s = CpuState::default();
    s.set_vreg(1, 0x0007_0006_0005_0004_0003_0002_0001_0000);
    s.set_vreg(2, 0x0017_0016_0015_0014_0013_0012_0011_0010);
    run(&mut s, 0x4e423820); // zip1 v0.8h, v1.8h, v2.8h
    assert_eq!(s.vreg(0), 0x0013_0003_0012_0002_0011_0001_0010_0000);
    s.set_vreg(1, iota(0));
    s.set_vreg(2, iota(16));
    run(&mut s, 0x4e025820); // uzp2 v0.16b, v1.16b, v2.16b
    assert_eq!(s.vreg(0).to_le_bytes(), core::array::from_fn(|i| 2 * i as u8 + 1));
}

#[test]
fn xtn_and_xtn2() {
    let mut s = CpuState::default();
    s.set_vreg(1, 0x1188_2277_3366_4455_5544_6633_7722_8811);
    s.set_vreg(0, u128::MAX);
    run(&mut s, 0x0e212820); // xtn v0.8b, v1.8h
    assert_eq!(s.vreg(0), 0x8877_6655_4433_2211);
    run(&mut s, 0x4e212820); // xtn2 v0.16b, v1.8h
    assert_eq!(s.vreg(0), 0x8877_6655_4433_2211_8877_6655_4433_2211, "XTN2 keeps the low half");
}

#[test]
fn shrn_packs_nibbles_as_glibc_does() {
    let mut s = CpuState::default();
    // CMEQ results: 0xff bytes at positions 1 and 14.
    s.set_vreg(1, 0xff << 8 | 0xff << 112);
    s.set_vreg(0, u128::MAX);
    run(&mut s, 0x0f0c8420); // shrn v0.8b, v1.8h, #4
    assert_eq!(s.vreg(0), 0x0f00_0000_0000_00f0);
}

#[test]
fn sqxtn_saturates_and_sets_qc() {
    let mut s = CpuState::default();
    let halves: [i16; 8] = [0, 127, 128, -128, -129, 300, -300, -1];
    s.set_vreg(1, u128::from_le_bytes(core::array::from_fn(|i| halves[i / 2].to_le_bytes()[i % 2])));
    run(&mut s, 0x0e214820); // sqxtn v0.8b, v1.8h
    assert_eq!(s.vreg(0).to_le_bytes()[..8], [0, 127, 127, 0x80, 0x80, 127, 0x80, 0xff]);
    assert_eq!(s.fpsr & (1 << 27), 1 << 27);

    s.fpsr = 0;
    s.set_vreg(1, 0x7fff_0064); // lane 0 = 100: no saturation in the scalar form
    run(&mut s, 0x5e214820); // sqxtn b0, h1
    assert_eq!(s.vreg(0), 100);
    assert_eq!(s.fpsr, 0, "lanes beyond a scalar's never saturate");
}

#[test]
fn sqadd_scalar_byte_saturates() {
    let mut s = CpuState::default();
    s.set_vreg(1, 0xaa00 | 100);
    s.set_vreg(2, 0xbb00 | 100);
    run(&mut s, 0x5e220c20); // sqadd b0, b1, b2
    assert_eq!(s.vreg(0), 127);
    assert_ne!(s.fpsr & (1 << 27), 0);
}

#[test]
fn ld1_four_registers_post_indexed_by_register() {
    let memory: [u8; 64] = core::array::from_fn(|i| i as u8);
    let mut s = CpuState::default();
    s.x[1] = memory.as_ptr() as u64;
    s.x[2] = 100;
    run(&mut s, 0x4cc22020); // ld1 {v0.16b-v3.16b}, [x1], x2
    for r in 0..4 {
        assert_eq!(s.vreg(r), iota(16 * r as u8));
    }
    assert_eq!(s.x[1], memory.as_ptr() as u64 + 100);
}

#[test]
fn ld1_from_sp() {
    let memory = iota(7).to_le_bytes();
    let mut s = CpuState { sp: memory.as_ptr() as u64, ..CpuState::default() };
    run(&mut s, 0x4c4073e0); // ld1 {v0.16b}, [sp]
    assert_eq!(s.vreg(0), iota(7));
    assert_eq!(s.sp, memory.as_ptr() as u64);
}

#[test]
fn ld2_deinterleaves_and_st2_interleaves_back() {
    let memory: [u8; 32] = core::array::from_fn(|i| (i * 3) as u8);
    let mut s = CpuState::default();
    s.x[1] = memory.as_ptr() as u64;
    run(&mut s, 0x4c408424); // ld2 {v4.8h, v5.8h}, [x1]
    let half = |v: u128, i: usize| (v >> (16 * i)) as u16;
    for i in 0..8 {
        assert_eq!(half(s.vreg(4), i), u16::from_le_bytes([memory[4 * i], memory[4 * i + 1]]));
        assert_eq!(half(s.vreg(5), i), u16::from_le_bytes([memory[4 * i + 2], memory[4 * i + 3]]));
    }
    let mut copy = [0u8; 32];
    s.x[3] = copy.as_mut_ptr() as u64;
    run(&mut s, 0x4c9f8464); // st2 {v4.8h, v5.8h}, [x3], #32
    assert_eq!(copy, memory);
    assert_eq!(s.x[3], copy.as_ptr() as u64 + 32);
}

#[test]
fn ld1r_replicates_one_element() {
    let memory = 0xdead_beef_u32.to_le_bytes();
    let mut s = CpuState::default();
    s.x[1] = memory.as_ptr() as u64;
    run(&mut s, 0x4d40c826); // ld1r {v6.4s}, [x1]
    assert_eq!(s.vreg(6), 0xdead_beef_dead_beef_dead_beef_dead_beef);
}

#[test]
fn ld1_single_lane_keeps_the_other_lanes() {
    let memory = 0x1234_5678_u32.to_le_bytes();
    let mut s = CpuState::default();
    s.x[1] = memory.as_ptr() as u64;
    s.set_vreg(7, u128::MAX);
    run(&mut s, 0x4ddf9027); // ld1 {v7.s}[3], [x1], #4
    assert_eq!(s.vreg(7), 0x1234_5678_ffff_ffff_ffff_ffff_ffff_ffff);
    assert_eq!(s.x[1], memory.as_ptr() as u64 + 4);
}

#[test]
fn umov_and_smov() {
    let mut s = CpuState::default();
    s.set_vreg(1, 0x8001_0203_0405_0607_f0e1_d2c3_b4a5_9687);
    s.x[0] = u64::MAX;
    run(&mut s, 0x0e163c20); // umov w0, v1.h[5]
    assert_eq!(s.x[0], 0x0405);
    run(&mut s, 0x4e183c20); // mov x0, v1.d[1]
    assert_eq!(s.x[0], 0x8001_0203_0405_0607);
    run(&mut s, 0x4e072c20); // smov x0, v1.b[3]
    assert_eq!(s.x[0], 0xffff_ffff_ffff_ffb4);
    run(&mut s, 0x0e0a2c20); // smov w0, v1.h[2]
    assert_eq!(s.x[0], 0x0000_0000_ffff_d2c3, "a W destination zeroes the upper word");
}

#[test]
fn dup_scalar_and_movi_bytemask() {
    let mut s = CpuState::default();
    s.set_vreg(1, iota(0x30));
    s.set_vreg(0, u128::MAX);
    run(&mut s, 0x5e0f0420); // mov b0, v1.b[7]
    assert_eq!(s.vreg(0), 0x37);
    run(&mut s, 0x6f05e520); // movi v0.2d, #0xff00ff00ff0000ff
    assert_eq!(s.vreg(0), 0xff00_ff00_ff00_00ff_ff00_ff00_ff00_00ff);
}

#[test]
fn vector_64_bit_results_zero_the_upper_half() {
    let mut s = CpuState::default();
    s.set_vreg(0, u128::MAX);
    s.set_vreg(1, iota(1));
    run(&mut s, 0x2e020820); // ext v0.8b, v1.8b, v2.8b, #1
    assert_eq!(s.v[0][1], 0);
    s.set_vreg(0, u128::MAX);
    run(&mut s, 0x0e221c20); // and v0.8b, v1.8b, v2.8b
    assert_eq!(s.vreg(0), 0);
}
