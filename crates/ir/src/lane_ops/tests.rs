//! The reference semantics against results worked out by hand from the AArch64
//! pseudocode (the instruction each case models is named beside it).

use super::*;

/// A register value from lanes of `e` bits, lane 0 first.
fn v(e: u32, lanes: &[u64]) -> u128 {
    from_lanes(e, lanes.len(), |i| lanes[i])
}

/// The bytes `start, start + 1, ...`.
fn iota(start: u8) -> u128 {
    u128::from_le_bytes(core::array::from_fn(|i| start.wrapping_add(i as u8)))
}

fn inst(op: VecOp, esize: u8, full: bool, imm: u32) -> VecInst {
    let b = if op.reads_b() { 48 } else { 0 };
    VecInst { op, esize, full, dst: 32, a: 64, b, imm }
}

/// `op` with destination `d`; panics if the instruction does not check.
fn run(op: VecOp, esize: u8, full: bool, imm: u32, a: u128, b: u128, d: u128) -> u128 {
    let i = inst(op, esize, full, imm);
    assert_eq!(i.check(), Ok(()), "{i:?}");
    eval(&i, a, b, d)
}

fn run2(op: VecOp, esize: u8, full: bool, a: u128, b: u128) -> u128 {
    run(op, esize, full, 0, a, b, !0)
}

fn run1(op: VecOp, esize: u8, full: bool, imm: u32, a: u128) -> u128 {
    run(op, esize, full, imm, a, 0, !0)
}

const GARBAGE: u128 = 0xdead_beef_0bad_f00d << 64;

#[test]
fn arithmetic_wraps_and_half_vectors_clear_the_top() {
    // add v0.4s, v1.4s, v2.4s
    assert_eq!(run2(Add, 32, true, v(32, &[1, 2, 0xffff_ffff, 4]), v(32, &[1; 4])), v(32, &[2, 3, 0, 5]));
    // add v0.2s: the top half of the inputs is ignored and of the result cleared
    assert_eq!(run2(Add, 32, false, v(32, &[1, 2]) | GARBAGE, v(32, &[3, 4]) | GARBAGE), v(32, &[4, 6]));
    // sub d0, d1, d2 (a 64-bit vector of one 64-bit lane)
    assert_eq!(run2(Sub, 64, false, 1 | GARBAGE, 2), u64::MAX as u128);
    // mul v0.8h; mul v0.16b
    assert_eq!(run2(Mul, 16, true, v(16, &[0x0101, 0x8000]), v(16, &[0x0101, 2])), v(16, &[0x0201, 0]));
    assert_eq!(run2(Mul, 8, true, v(8, &[0x10, 0xff]), v(8, &[0x10, 0xff])), v(8, &[0, 1]));
    // neg v0.2d; abs v0.16b (the most negative value stays)
    assert_eq!(run1(Neg, 64, true, 0, v(64, &[1, 0])), v(64, &[u64::MAX, 0]));
    assert_eq!(run1(Abs, 8, true, 0, v(8, &[0x80, 0xff, 0x7f, 0])), v(8, &[0x80, 1, 0x7f, 0]));
    // umax/smin v0.4s
    assert_eq!(run2(UMax, 32, true, v(32, &[0x8000_0000, 1]), v(32, &[1, 2])), v(32, &[0x8000_0000, 2]));
    assert_eq!(run2(SMin, 32, true, v(32, &[0x8000_0000, 1]), v(32, &[1, 2])), v(32, &[0x8000_0000, 1]));
}

#[test]
fn bitwise_ops_and_selects() {
    let (a, b, d) = (0xff00_ff00u128, 0xf0f0_f0f0u128, 0xcccc_ccccu128);
    assert_eq!(run2(And, 8, true, a, b), 0xf000_f000);
    assert_eq!(run2(Bic, 8, true, a, b), 0x0f00_0f00);
    assert_eq!(run2(Orn, 8, false, a, b), (u64::MAX as u128) & !0xf0f0_f0f0 | 0xff00_ff00);
    assert_eq!(run2(Eor, 8, true, a, b), 0x0ff0_0ff0);
    assert_eq!(run1(Not, 8, false, 0, a), (u64::MAX ^ 0xff00_ff00) as u128);
    // bsl: d picks a where set, b where clear; bit: a where b set; bif: a where b clear
    assert_eq!(run(Bsl, 8, true, 0, a, b, d), (d & a) | (!d & b));
    assert_eq!(run(Bsl, 8, true, 0, a, b, d) & 0xffff_ffff, 0xfc30_fc30);
    assert_eq!(run(Bit, 8, true, 0, a, b, d) & 0xffff_ffff, 0xfc0c_fc0c);
    assert_eq!(run(Bif, 8, true, 0, a, b, d) & 0xffff_ffff, 0xcfc0_cfc0);
    assert_eq!(run(Bif, 8, false, 0, a, b, !0) >> 64, 0);
}

#[test]
fn comparisons_give_lane_masks() {
    let a = v(8, &[0x80, 1, 5, 0]);
    let b = v(8, &[0x01, 1, 6, 0]);
    assert_eq!(run2(CmEq, 8, false, a, b), v(8, &[0, 0xff, 0, 0xff, 0xff, 0xff, 0xff, 0xff]));
    assert_eq!(run2(CmGt, 8, false, a, b), v(8, &[0, 0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(run2(CmGe, 8, false, a, b), v(8, &[0, 0xff, 0, 0xff, 0xff, 0xff, 0xff, 0xff]));
    assert_eq!(run2(CmHi, 8, false, a, b), v(8, &[0xff, 0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(run2(CmHs, 8, false, a, b), v(8, &[0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff, 0xff]));
    assert_eq!(run2(CmTst, 8, false, a, b), v(8, &[0, 0xff, 0xff, 0, 0, 0, 0, 0]));
    // cmgt d0, d1, d2 with -1 > -2
    assert_eq!(run2(CmGt, 64, false, u64::MAX as u128, (u64::MAX - 1) as u128), u64::MAX as u128);
    let z = v(16, &[0, 1, 0x8000, 0x7fff, 0xffff, 0, 0, 0]);
    assert_eq!(run1(CmEq0, 16, true, 0, z), v(16, &[0xffff, 0, 0, 0, 0, 0xffff, 0xffff, 0xffff]));
    assert_eq!(run1(CmGt0, 16, true, 0, z), v(16, &[0, 0xffff, 0, 0xffff, 0, 0, 0, 0]));
    assert_eq!(run1(CmGe0, 16, true, 0, z), v(16, &[0xffff, 0xffff, 0, 0xffff, 0, 0xffff, 0xffff, 0xffff]));
    assert_eq!(run1(CmLe0, 16, true, 0, z), v(16, &[0xffff, 0, 0xffff, 0, 0xffff, 0xffff, 0xffff, 0xffff]));
    assert_eq!(run1(CmLt0, 16, true, 0, z), v(16, &[0, 0, 0xffff, 0, 0xffff, 0, 0, 0]));
}

#[test]
fn shifts_by_immediate_include_the_lane_width() {
    let a = v(8, &[0x80, 0x7f, 0x03, 0xff]);
    // sshr v0.8b, #8 fills with the sign; ushr #8 gives 0; shl #7
    assert_eq!(run1(SShr, 8, false, 8, a), v(8, &[0xff, 0, 0, 0xff]));
    assert_eq!(run1(UShr, 8, false, 8, a), 0);
    assert_eq!(run1(UShr, 8, false, 1, a), v(8, &[0x40, 0x3f, 0x01, 0x7f]));
    assert_eq!(run1(Shl, 8, false, 7, a), v(8, &[0, 0x80, 0x80, 0x80]));
    // sshr d0, d1, #2; ushr d0, d1, #64; shl v0.2d, #63
    assert_eq!(run1(SShr, 64, false, 2, (-8i64) as u64 as u128), (-2i64) as u64 as u128);
    assert_eq!(run1(UShr, 64, false, 64, u64::MAX as u128), 0);
    assert_eq!(run1(Shl, 64, true, 63, v(64, &[1, 2])), v(64, &[1 << 63, 0]));
    // usra v0.16b, v1.16b, #7; ssra v0.4s, v1.4s, #32
    assert_eq!(run(USra, 8, true, 7, v(8, &[0x80, 0x7f]), 0, v(8, &[1, 1])), v(8, &[2, 1]));
    assert_eq!(run(SSra, 32, true, 32, v(32, &[0x8000_0000, 5]), 0, v(32, &[1, 1])), v(32, &[0, 1]));
}

#[test]
fn widening_and_narrowing() {
    // uxtl2 v0.8h, v1.16b: the high bytes, zero-extended
    assert_eq!(run1(UShll, 8, true, 0, iota(0xf8)), v(16, &[0, 1, 2, 3, 4, 5, 6, 7]));
    assert_eq!(run1(UShll, 8, false, 0, iota(0xf8)), v(16, &[0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff]));
    // sxtl v0.4s, v1.4h; shll v0.4s, v1.4h, #16; sshll2 v0.2d, v1.4s, #1
    assert_eq!(run1(SShll, 16, false, 0, v(16, &[0x8000, 1, 0xffff, 2])), v(32, &[0xffff_8000, 1, 0xffff_ffff, 2]));
    assert_eq!(run1(UShll, 16, false, 16, v(16, &[0x1234, 0xffff])), v(32, &[0x1234_0000, 0xffff_0000]));
    assert_eq!(run1(SShll, 32, true, 1, v(32, &[0, 0, 0x8000_0000, 3])), v(64, &[0xffff_ffff_0000_0000, 6]));
    // xtn v0.8b, v1.8h; shrn v0.8b, v1.8h, #4; xtn2 v0.16b keeps the low half of v0
    let wide = v(16, &[0x1234, 0xabcd, 0xff00, 0x00ff, 1, 2, 3, 4]);
    assert_eq!(run1(ShrN, 8, false, 0, wide), v(8, &[0x34, 0xcd, 0x00, 0xff, 1, 2, 3, 4]));
    assert_eq!(run1(ShrN, 8, false, 4, wide), v(8, &[0x23, 0xbc, 0xf0, 0x0f, 0, 0, 0, 0]));
    let d = v(64, &[0x1111, 0x2222]);
    assert_eq!(run(ShrN, 32, true, 0, v(64, &[0x5_0000_0006, 7]), 0, d), v(32, &[0x1111, 0, 6, 7]));
}

#[test]
fn permutes() {
    let (a, b) = (iota(0), iota(0x10));
    // zip1 v0.16b; zip2 v0.8b
    assert_eq!(
        run2(Zip1, 8, true, a, b),
        v(8, &[0, 0x10, 1, 0x11, 2, 0x12, 3, 0x13, 4, 0x14, 5, 0x15, 6, 0x16, 7, 0x17])
    );
    assert_eq!(run2(Zip2, 8, false, a, b), v(8, &[4, 0x14, 5, 0x15, 6, 0x16, 7, 0x17]));
    // uzp1/uzp2 v0.4s; uzp1 v0.2s
    let (a4, b4) = (v(32, &[0, 1, 2, 3]), v(32, &[4, 5, 6, 7]));
    assert_eq!(run2(Uzp1, 32, true, a4, b4), v(32, &[0, 2, 4, 6]));
    assert_eq!(run2(Uzp2, 32, true, a4, b4), v(32, &[1, 3, 5, 7]));
    assert_eq!(run2(Uzp1, 32, false, a4, b4), v(32, &[0, 4]));
    // trn1/trn2 v0.8h
    let (a8, b8) = (v(16, &[0, 1, 2, 3, 4, 5, 6, 7]), v(16, &[10, 11, 12, 13, 14, 15, 16, 17]));
    assert_eq!(run2(Trn1, 16, true, a8, b8), v(16, &[0, 10, 2, 12, 4, 14, 6, 16]));
    assert_eq!(run2(Trn2, 16, true, a8, b8), v(16, &[1, 11, 3, 13, 5, 15, 7, 17]));
    assert_eq!(run2(Trn2, 64, true, v(64, &[1, 2]), v(64, &[3, 4])), v(64, &[2, 4]));
    // ext v0.16b, #3; ext v0.8b, #7
    let ext16: Vec<u64> = (3..19).collect();
    assert_eq!(run(Ext, 8, true, 3, a, b, 0), v(8, &ext16));
    assert_eq!(run(Ext, 8, false, 7, a, b, 0), v(8, &[7, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16]));
    // dup v0.4s, v1.s[3]; dup v0.8b, v1.b[15]
    assert_eq!(run1(Dup, 32, true, 3, a4), v(32, &[3; 4]));
    assert_eq!(run1(Dup, 8, false, 15, a), v(8, &[15; 8]));
}

#[test]
fn pairwise_and_across_lanes() {
    // addp v0.4s; addp v0.8b; addp v0.2d
    let (a, b) = (v(32, &[1, 2, 3, 4]), v(32, &[10, 20, 30, 40]));
    assert_eq!(run2(Addp, 32, true, a, b), v(32, &[3, 7, 30, 70]));
    assert_eq!(run2(Addp, 8, false, iota(1), iota(0x81)), v(8, &[3, 7, 11, 15, 3, 7, 11, 15]));
    assert_eq!(run2(Addp, 64, true, v(64, &[1, 2]), v(64, &[u64::MAX, 2])), v(64, &[3, 1]));
    // smaxp v0.4h
    assert_eq!(run2(SMaxp, 16, false, v(16, &[0x8000, 1, 5, 0xffff]), v(16, &[7, 8])), v(16, &[1, 5, 8, 0]));
    // the strlen test: cmeq v2.16b, v1.16b, #0 then umaxp v2.16b, v2.16b, v2.16b
    let mut text = *b"hello, world!!!!";
    text[9] = 0;
    let eq = run1(CmEq0, 8, true, 0, u128::from_le_bytes(text));
    assert_eq!(lane(run2(UMaxp, 8, true, eq, eq), 64, 0), 0xff << 32);
    // addv b0, v1.16b wraps; umaxv b0, v1.16b; sminv s0, v1.4s; addv h0, v1.4h
    assert_eq!(run1(AddV, 8, true, 0, !0), 0xf0);
    assert_eq!(run1(UMaxV, 8, true, 0, iota(0x70)), 0x7f);
    assert_eq!(run1(SMinV, 32, true, 0, v(32, &[5, 0x8000_0000, 7, 0xffff_ffff])), 0x8000_0000);
    assert_eq!(run1(AddV, 16, false, 0, v(16, &[1, 2, 3, 0xffff]) | GARBAGE), 5);
}

#[test]
fn check_rejects_what_the_architecture_does_not_have() {
    let bad = [
        inst(And, 16, true, 0),
        inst(Zip1, 64, false, 0),
        inst(AddV, 32, false, 0),
        inst(Mul, 64, true, 0),
        inst(Shl, 8, true, 9),
        inst(Dup, 32, true, 4),
        inst(Ext, 8, false, 8),
        inst(Add, 8, true, 1),
        VecInst { b: 16, ..inst(Neg, 8, true, 0) },
        VecInst { esize: 7, ..inst(Add, 8, true, 0) },
    ];
    for i in bad {
        assert!(i.check().is_err(), "{i:?}");
        assert_eq!(eval(&i, 1, 2, 3), 3, "an invalid instruction leaves dst");
    }
    assert_eq!(inst(Ext, 8, true, 15).check(), Ok(()));
    assert_eq!(inst(SShr, 64, false, 64).check(), Ok(()));
}

#[test]
fn packing_round_trips_every_op() {
    for (k, op) in VecOp::ALL.into_iter().enumerate() {
        assert_eq!(op as usize, k);
        let i = inst(op, 8, true, 0);
        assert_eq!(VecInst::unpack(i.pack()), Some(i));
    }
    assert_eq!(VecInst::unpack([0xff, 0, 0, 0]), None);
    assert_eq!(VecInst::unpack([Add as u64 | 8 << 8, 1 << 40, 0, 0]), None);
}

#[test]
fn exec_reads_inputs_before_writing() {
    let mut state = [0u8; 96];
    state[32..48].copy_from_slice(&v(32, &[1, 2, 3, 4]).to_le_bytes());
    // dst = a = b: v2 = v2 + v2
    let i = VecInst { op: Add, esize: 32, full: true, dst: 32, a: 32, b: 32, imm: 0 };
    // SAFETY: `state` holds every field the test instructions name.
    unsafe { exec(state.as_mut_ptr(), &i) };
    assert_eq!(u128::from_le_bytes(state[32..48].try_into().unwrap()), v(32, &[2, 4, 6, 8]));
}
