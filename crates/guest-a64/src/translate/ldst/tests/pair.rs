//! Register pairs: LDP/STP of general and SIMD&FP registers, LDPSW, LDNP/STNP.

use super::Guest;

#[test]
fn stp_ldp_pre_and_post_index_on_sp() {
    let mut g = Guest::new();
    g.cpu.sp = g.at(128);
    g.cpu.x[1] = 0x1111;
    g.cpu.x[2] = 0x2222;
    g.run(&[
        0xa9bf_0be1, // stp x1, x2, [sp, #-16]!
    ]);
    assert_eq!(g.cpu.sp, g.at(112));
    assert_eq!([g.read(112, 8), g.read(120, 8)], [0x1111, 0x2222]);
    g.run(&[
        0xa8c1_13e3, // ldp x3, x4, [sp], #16
    ]);
    assert_eq!(g.cpu.sp, g.at(128));
    assert_eq!(g.cpu.x[3..5], [0x1111, 0x2222]);
}

#[test]
fn w_pairs_ldpsw_and_non_temporal() {
    let mut g = Guest::new();
    g.write(64, 8, 0x7fff_ffff_8000_0001);
    let (w5, w6) = (g.read(72, 4) as u64, g.read(76, 4) as u64);
    g.cpu.x[0] = g.at(64);
    g.cpu.x[1] = 0xffff_ffff_0000_0011;
    g.cpu.x[2] = 0x22;
    g.cpu.x[5..7].fill(u64::MAX);
    g.run(&[
        0x2941_1805, // ldp w5, w6, [x0, #8]
        0x6940_2007, // ldpsw x7, x8, [x0]
        0xa802_0801, // stnp x1, x2, [x0, #32]
        0xa842_2809, // ldnp x9, x10, [x0, #32]
        0x2900_8801, // stp w1, w2, [x0, #4]
    ]);
    assert_eq!(g.cpu.x[5..9], [w5, w6, 0xffff_ffff_8000_0001, 0x7fff_ffff]);
    assert_eq!(g.cpu.x[9..11], [0xffff_ffff_0000_0011, 0x22]);
    assert_eq!(g.read(96, 16), 0x22_ffff_ffff_0000_0011);
    assert_eq!(g.read(68, 8), 0x22_0000_0011);
}

#[test]
fn simd_fp_pairs() {
    let mut g = Guest::new();
    let (d2, d3, s4, s5) = (g.read(64, 8), g.read(72, 8), g.read(68, 4), g.read(72, 4));
    let (q0, q1) = (0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128, u128::MAX / 3);
    g.cpu.set_vreg(0, q0);
    g.cpu.set_vreg(1, q1);
    for n in 2..6 {
        g.cpu.set_vreg(n, u128::MAX);
    }
    g.cpu.x[0] = g.at(64);
    g.run(&[
        0xad81_0400, // stp q0, q1, [x0, #32]!
        0x6d7e_0c02, // ldp d2, d3, [x0, #-32]
        0x2d7c_9404, // ldp s4, s5, [x0, #-28]
        0xacff_1c06, // ldp q6, q7, [x0], #-32
    ]);
    assert_eq!([g.read(96, 16), g.read(112, 16)], [q0, q1]);
    assert_eq!([2, 3, 4, 5].map(|n| g.cpu.vreg(n)), [d2, d3, s4, s5]);
    assert_eq!([g.cpu.vreg(6), g.cpu.vreg(7)], [q0, q1]);
    assert_eq!(g.cpu.x[0], g.at(64));
}

#[test]
fn load_pair_into_one_register_keeps_the_second() {
    let mut g = Guest::new();
    let second = g.read(8, 8) as u64;
    g.cpu.x[0] = g.at(0);
    g.run(&[
        0xa940_0401, // ldp x1, x1, [x0]
    ]);
    assert_eq!(g.cpu.x[1], second);
}
