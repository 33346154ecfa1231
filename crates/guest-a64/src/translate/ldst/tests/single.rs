//! Single-register loads and stores: every addressing form, sign extension,
//! SIMD&FP widths, literals, prefetches and writeback conflicts.

use super::Guest;

const ONES: u64 = u64::MAX;

#[test]
fn unsigned_offset_general_registers() {
    let mut g = Guest::new();
    g.cpu.x[0] = g.at(0);
    g.cpu.x[1] = 0x1122_3344_5566_7788;
    g.cpu.x[3..6].fill(ONES);
    g.run(&[
        0xf900_0401, // str x1, [x0, #8]
        0xf940_0402, // ldr x2, [x0, #8]
        0x3900_4401, // strb w1, [x0, #17]
        0x3940_4403, // ldrb w3, [x0, #17]
        0x7900_2401, // strh w1, [x0, #18]
        0x7940_2404, // ldrh w4, [x0, #18]
        0xb900_1401, // str w1, [x0, #20]
        0xb940_1405, // ldr w5, [x0, #20]
    ]);
    assert_eq!(g.read(8, 8), 0x1122_3344_5566_7788);
    assert_eq!(g.cpu.x[2], 0x1122_3344_5566_7788);
    assert_eq!(g.read(16, 8), (g.read(16, 1)) | 0x5566_7788_7788_8800);
    assert_eq!(g.cpu.x[3..6], [0x88, 0x7788, 0x5566_7788]);
}

#[test]
fn loads_sign_and_zero_extend() {
    let mut g = Guest::new();
    g.write(0, 8, 0x8000_0002_8001_7f80);
    g.cpu.x[0] = g.at(0);
    g.cpu.x[1..7].fill(ONES);
    g.run(&[
        0x3980_0001, // ldrsb x1, [x0]
        0x39c0_0002, // ldrsb w2, [x0]
        0x7980_0403, // ldrsh x3, [x0, #2]
        0x79c0_0404, // ldrsh w4, [x0, #2]
        0xb980_0405, // ldrsw x5, [x0, #4]
        0xb940_0406, // ldr w6, [x0, #4]
    ]);
    assert_eq!(
        g.cpu.x[1..7],
        [0xffff_ffff_ffff_ff80, 0xffff_ff80, 0xffff_ffff_ffff_8001, 0xffff_8001, 0xffff_ffff_8000_0002, 0x8000_0002]
    );
}

#[test]
fn pre_and_post_index_write_back() {
    let mut g = Guest::new();
    g.write(64, 3, 0x90_8011);
    let at72 = g.read(72, 8) as u64;
    g.cpu.x[0] = g.at(64);
    g.cpu.x[2] = 0xabcd;
    g.run(&[
        0xf840_8c01, // ldr x1, [x0, #8]!
        0xf81f_8402, // str x2, [x0], #-8
        0x3840_1c03, // ldrb w3, [x0, #1]!
        0x78c0_3404, // ldrsh w4, [x0], #3
    ]);
    assert_eq!(g.cpu.x[1], at72);
    assert_eq!(g.read(72, 8), 0xabcd);
    assert_eq!(g.cpu.x[3], 0x80);
    assert_eq!(g.cpu.x[4], 0xffff_9080);
    assert_eq!(g.cpu.x[0], g.at(68));
}

#[test]
fn stack_pointer_is_base_register_31() {
    let mut g = Guest::new();
    g.cpu.sp = g.at(128);
    g.cpu.x[1] = 0x5555_6666;
    g.run(&[
        0xf81f_0fe1, // str x1, [sp, #-16]!
    ]);
    assert_eq!(g.cpu.sp, g.at(112));
    assert_eq!(g.read(112, 8), 0x5555_6666);
    g.run(&[
        0xf841_07e2, // ldr x2, [sp], #16
    ]);
    assert_eq!(g.cpu.sp, g.at(128));
    assert_eq!(g.cpu.x[2], 0x5555_6666);
}

#[test]
fn unscaled_and_unprivileged() {
    let mut g = Guest::new();
    g.write(68, 4, 0x8765_4321);
    let expected_x1 = g.read(63, 8) as u64;
    let expected_w4 = g.read(62, 1) as u64;
    let expected_x5 = g.read(72, 8) as u64;
    g.cpu.x[0] = g.at(64);
    g.cpu.x[2] = 0x0102_0304;
    g.cpu.x[6] = 0xbeef;
    g.run(&[
        0xf85f_f001, // ldur x1, [x0, #-1]
        0xb880_4003, // ldursw x3, [x0, #4]
        0xb800_3002, // stur w2, [x0, #3]
        0x385f_e004, // ldurb w4, [x0, #-2]
        0xf840_8805, // ldtr x5, [x0, #8]
        0x7800_a806, // sttrh w6, [x0, #10]
    ]);
    assert_eq!(g.cpu.x[1], expected_x1);
    assert_eq!(g.cpu.x[3], 0xffff_ffff_8765_4321);
    assert_eq!(g.read(67, 4), 0x0102_0304);
    assert_eq!(g.cpu.x[4], expected_w4);
    assert_eq!(g.cpu.x[5], expected_x5);
    assert_eq!(g.read(74, 2), 0xbeef);
}

#[test]
fn register_offset_extends_and_shifts() {
    let mut g = Guest::new();
    let expected = [g.read(80, 8), g.read(76, 4), g.read(56, 8), g.read(69, 1)];
    let expected_x9 = g.read(56, 2) as u16 as i16 as i64 as u64;
    let expected_q0 = g.read(96, 16);
    g.cpu.x[0] = g.at(64);
    g.cpu.x[2] = 2;
    g.cpu.x[4] = 0xffff_ffff_0000_0003; // UXTW ignores the top half
    g.cpu.x[6] = 0x0000_0000_ffff_fff8; // SXTW: -8
    g.cpu.x[8] = 5;
    g.cpu.x[10] = -4i64 as u64;
    g.cpu.x[11] = 0xdead_beef;
    g.cpu.x[12] = 100;
    g.cpu.x[13] = 0xffff_ffff_0000_0001;
    g.cpu.set_vreg(1, 0x1111_2222_3333_4444_5555_6666_7777_8888);
    g.run(&[
        0xf862_7801, // ldr x1, [x0, x2, lsl #3]
        0xb864_5803, // ldr w3, [x0, w4, uxtw #2]
        0xf866_c805, // ldr x5, [x0, w6, sxtw]
        0x3868_6807, // ldrb w7, [x0, x8]
        0x78aa_f809, // ldrsh x9, [x0, x10, sxtx #1]
        0xb82c_680b, // str w11, [x0, x12]
        0x3ce2_7800, // ldr q0, [x0, x2, lsl #4]
        0xfc2d_5801, // str d1, [x0, w13, uxtw #3]
    ]);
    let loaded = [g.cpu.x[1], g.cpu.x[3], g.cpu.x[5], g.cpu.x[7]].map(u128::from);
    assert_eq!(loaded, expected);
    assert_eq!(g.cpu.x[9], expected_x9);
    assert_eq!(g.read(164, 4), 0xdead_beef);
    assert_eq!(g.cpu.vreg(0), expected_q0);
    assert_eq!(g.read(72, 8), 0x5555_6666_7777_8888);
}

#[test]
fn simd_fp_loads_zero_the_rest_of_the_register() {
    let mut g = Guest::new();
    let q = g.read(64, 16);
    g.cpu.x[0] = g.at(64);
    for n in 0..5 {
        g.cpu.set_vreg(n, u128::MAX);
    }
    g.run(&[
        0x3dc0_0000, // ldr q0, [x0]
        0xfd40_0001, // ldr d1, [x0]
        0xbd40_0002, // ldr s2, [x0]
        0x7d40_0003, // ldr h3, [x0]
        0x3d40_0004, // ldr b4, [x0]
    ]);
    let low = |bytes: u32| q & ((1u128 << (8 * bytes)) - 1);
    assert_eq!(g.cpu.vreg(0), q);
    assert_eq!([1, 2, 3, 4].map(|n| g.cpu.vreg(n)), [low(8), low(4), low(2), low(1)]);
}

#[test]
fn simd_fp_stores_write_only_their_width() {
    let mut g = Guest::new();
    let v5 = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128;
    g.cpu.set_vreg(5, v5);
    g.cpu.x[0] = g.at(64);
    let untouched = g.read(96, 16);
    g.run(&[
        0x3d00_8005, // str b5, [x0, #32]
        0x7d00_4405, // str h5, [x0, #34]
        0xbd00_2405, // str s5, [x0, #36]
        0xfd00_1405, // str d5, [x0, #40]
        0x3d80_0c05, // str q5, [x0, #48]
    ]);
    assert_eq!(g.read(96, 1), 0x00);
    assert_eq!(g.read(97, 1), untouched >> 8 & 0xff);
    assert_eq!(g.read(98, 2), 0x0100);
    assert_eq!(g.read(100, 4), 0x0302_0100);
    assert_eq!(g.read(104, 8), 0x0706_0504_0302_0100);
    assert_eq!(g.read(112, 16), v5);
}

#[test]
fn simd_fp_indexed_unscaled_and_register_offset() {
    let mut g = Guest::new();
    let (q6, q8, d9) = (g.read(80, 16), g.read(89, 16), g.read(24, 8));
    g.cpu.x[0] = g.at(64);
    g.cpu.x[1] = g.at(8);
    g.cpu.x[2] = 2;
    g.cpu.set_vreg(7, 0xffff_0000_0000_0000_1234_5678_9abc_def0);
    g.cpu.set_vreg(9, u128::MAX);
    g.run(&[
        0x3cc1_0c06, // ldr q6, [x0, #16]!
        0xfc62_7829, // ldr d9, [x1, x2, lsl #3]
        0x3cc0_9008, // ldur q8, [x0, #9]
        0xfc00_8407, // str d7, [x0], #8
    ]);
    assert_eq!(g.cpu.vreg(6), q6);
    assert_eq!(g.cpu.vreg(8), q8);
    assert_eq!(g.cpu.vreg(9), d9);
    assert_eq!(g.read(80, 8), 0x1234_5678_9abc_def0);
    assert_eq!(g.cpu.x[0], g.at(88));
}

#[test]
fn pc_relative_literals() {
    let mut g = Guest::new();
    for n in 0..3 {
        g.cpu.set_vreg(n, u128::MAX);
    }
    let exit = g.run_with_pool(
        &[
            0x5800_00e1, // ldr x1, .+28
            0x1800_0102, // ldr w2, .+32
            0x9800_0103, // ldrsw x3, .+32
            0x9c00_0100, // ldr q0, .+32
            0x5c00_0061, // ldr d1, .+12
            0x1c00_00a2, // ldr s2, .+20
            0xd8ff_8000, // prfm pldl1keep, .-4096 (never read)
        ],
        &[0x1111_2222, 0x3333_4444, 0x8765_4321, 0x9abc_def0, 0x0102_0304, 0x0506_0708, 0x090a_0b0c, 0x0d0e_0f10],
    );
    assert!(matches!(exit, archway_ir::interp::BlockExit::Jump(_)), "{exit:?}");
    assert_eq!(g.cpu.x[1..4], [0x3333_4444_1111_2222, 0x8765_4321, 0xffff_ffff_9abc_def0]);
    assert_eq!(g.cpu.vreg(0), 0x0d0e_0f10_090a_0b0c_0506_0708_0102_0304);
    assert_eq!(g.cpu.vreg(1), 0x3333_4444_1111_2222);
    assert_eq!(g.cpu.vreg(2), 0x9abc_def0);
}

#[test]
fn prefetches_touch_nothing() {
    let mut g = Guest::new();
    g.cpu.x[1] = 0x40;
    let before = g.cpu.x;
    g.run(&[
        0xf8a1_6800, // prfm pldl1keep, [x0, x1]  (x0 = 0: unmapped)
        0xf89f_f000, // prfum pldl1keep, [x0, #-1]
        0xf980_0400, // prfm pldl1keep, [x0, #8]
    ]);
    assert_eq!(g.cpu.x, before);
}

#[test]
fn loaded_value_wins_over_writeback_of_the_same_register() {
    let mut g = Guest::new();
    g.write(72, 8, 0x1234);
    g.write(80, 8, 0x5678);
    g.cpu.x[0] = g.at(64);
    g.cpu.x[1] = g.at(80);
    g.run(&[
        0xf840_8c00, // ldr x0, [x0, #8]!
        0xf840_8421, // ldr x1, [x1], #8
    ]);
    assert_eq!(g.cpu.x[..2], [0x1234, 0x5678]);
}

#[test]
fn load_to_zero_register_still_loads_and_discards() {
    let mut g = Guest::new();
    g.cpu.x[0] = g.at(0);
    let before = g.cpu.x;
    g.run(&[
        0xf940_001f, // ldr xzr, [x0]
    ]);
    assert_eq!(g.cpu.x, before);
}

#[test]
fn rcpc_and_ordered_single_register_forms() {
    let mut g = Guest::new();
    g.write(64, 8, 0x8000_0002_8001_7f80);
    g.cpu.x[0] = g.at(64);
    g.cpu.x[4] = 0x0102_0304_0506_0708;
    g.cpu.x[10] = 0xaabb_ccdd;
    g.run(&[
        0xc8df_fc01, // ldar x1, [x0]
        0x08df_fc02, // ldarb w2, [x0]
        0x48df_fc03, // ldarh w3, [x0]
        0xb8bf_c005, // ldapr w5, [x0]
        0x38bf_c006, // ldaprb w6, [x0]
        0x1940_1007, // ldapurb w7, [x0, #1]
        0x5980_2008, // ldapursh x8, [x0, #2]
        0x9980_4009, // ldapursw x9, [x0, #4]
        0x991f_c00a, // stlur w10, [x0, #-4]
        0x591f_a00a, // stlurh w10, [x0, #-6]
    ]);
    assert_eq!(g.cpu.x[1..4], [0x8000_0002_8001_7f80, 0x80, 0x7f80]);
    assert_eq!(g.cpu.x[5..10], [0x8001_7f80, 0x80, 0x7f, 0xffff_ffff_ffff_8001, 0xffff_ffff_8000_0002]);
    assert_eq!(g.read(58, 6), 0xaabb_ccdd_ccdd);
    g.run(&[
        0xc89f_fc04, // stlr x4, [x0]
        0x489f_fc04, // stlrh w4, [x0]  (no change: same bytes)
        0x089f_fc04, // stlrb w4, [x0, #0]
    ]);
    assert_eq!(g.read(64, 8), 0x0102_0304_0506_0708);
}
