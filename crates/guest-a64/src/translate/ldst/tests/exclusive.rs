//! Exclusive loads and stores through the value-based monitor.

use super::Guest;
use crate::state::NO_EXCLUSIVE;

const LDXR_X1: u32 = 0xc85f_7c01; // ldxr x1, [x0]
const STXR_W2_X3: u32 = 0xc802_7c03; // stxr w2, x3, [x0]

/// A guest whose x0 points at the 8-byte value 5 and whose x3 holds 9.
fn guest() -> Guest {
    let mut g = Guest::new();
    g.write(64, 8, 5);
    g.cpu.x[0] = g.at(64);
    g.cpu.x[3] = 9;
    g.cpu.x[2] = 0xdead;
    g
}

#[test]
fn store_exclusive_after_load_exclusive_succeeds() {
    let mut g = guest();
    g.run(&[LDXR_X1, STXR_W2_X3]);
    assert_eq!(g.cpu.x[1], 5);
    assert_eq!(g.cpu.x[2], 0);
    assert_eq!(g.read(64, 8), 9);
    assert_eq!(g.cpu.excl_addr, NO_EXCLUSIVE);
}

#[test]
fn monitor_survives_between_blocks() {
    let mut g = guest();
    g.run(&[LDXR_X1]);
    assert_eq!((g.cpu.excl_addr, g.cpu.excl_value[0], g.cpu.excl_size), (g.at(64), 5, 8));
    g.run(&[STXR_W2_X3]);
    assert_eq!(g.cpu.x[2], 0);
    assert_eq!(g.read(64, 8), 9);
}

#[test]
fn store_exclusive_without_load_exclusive_fails() {
    let mut g = guest();
    g.run(&[STXR_W2_X3]);
    assert_eq!(g.cpu.x[2], 1);
    assert_eq!(g.read(64, 8), 5);
}

#[test]
fn store_exclusive_to_another_address_fails_and_clears_the_monitor() {
    let mut g = guest();
    let other = g.read(72, 8);
    g.run(&[LDXR_X1]);
    g.cpu.x[1] = g.at(72);
    g.run(&[
        0xc802_7c23, // stxr w2, x3, [x1]
    ]);
    assert_eq!(g.cpu.x[2], 1);
    assert_eq!(g.read(72, 8), other);
    g.run(&[STXR_W2_X3]);
    assert_eq!(g.cpu.x[2], 1);
    assert_eq!(g.read(64, 8), 5);
}

#[test]
fn store_exclusive_fails_when_the_value_changed() {
    let mut g = guest();
    g.run(&[LDXR_X1]);
    g.write(64, 8, 6); // another thread's store
    g.run(&[STXR_W2_X3]);
    assert_eq!(g.cpu.x[2], 1);
    assert_eq!(g.read(64, 8), 6);
}

#[test]
fn store_exclusive_of_another_size_fails() {
    let mut g = guest();
    g.run(&[
        LDXR_X1,
        0x0802_7c03, // stxrb w2, w3, [x0]
    ]);
    assert_eq!(g.cpu.x[2], 1);
    assert_eq!(g.read(64, 8), 5);
}

#[test]
fn byte_half_and_word_exclusives_with_ordering() {
    let mut g = guest();
    let above = g.read(65, 7);
    g.cpu.x[3] = 0x1234_5678_9abc_def0;
    g.run(&[
        0x085f_7c01, // ldxrb w1, [x0]
        0x0802_7c03, // stxrb w2, w3, [x0]
    ]);
    assert_eq!((g.cpu.x[1], g.cpu.x[2]), (5, 0));
    assert_eq!(g.read(64, 8), above << 8 | 0xf0);
    g.run(&[
        0x485f_fc01, // ldaxrh w1, [x0]
        0x4802_fc03, // stlxrh w2, w3, [x0]
    ]);
    assert_eq!((g.cpu.x[1], g.cpu.x[2]), ((above as u64 & 0xff) << 8 | 0xf0, 0));
    assert_eq!(g.read(64, 2), 0xdef0);
    g.run(&[
        0x885f_fc01, // ldaxr w1, [x0]
        0x8802_fc03, // stlxr w2, w3, [x0]
    ]);
    assert_eq!(g.cpu.x[2], 0);
    assert_eq!(g.read(64, 8), (above >> 24) << 32 | 0x9abc_def0);
}

#[test]
fn x_pair_exclusives() {
    let mut g = guest();
    g.write(64, 16, 0x2222_0000_0000_0000_1111);
    g.cpu.x[7] = 0x7777;
    g.cpu.x[8] = 0x8888;
    g.run(&[
        0xc87f_1404, // ldxp x4, x5, [x0]
        0xc826_2007, // stxp w6, x7, x8, [x0]
    ]);
    assert_eq!(g.cpu.x[4..7], [0x1111, 0x2222, 0]);
    assert_eq!(g.read(64, 16), 0x8888_0000_0000_0000_7777);
    g.run(&[
        0xc826_2007, // stxp w6, x7, x8, [x0]: no reservation any more
    ]);
    assert_eq!(g.cpu.x[6], 1);
}

#[test]
fn x_pair_store_exclusive_fails_when_one_half_changed() {
    let mut g = guest();
    g.write(64, 16, 0x2222_0000_0000_0000_1111);
    g.run(&[
        0xc87f_1404, // ldxp x4, x5, [x0]
    ]);
    g.write(72, 8, 0x2223);
    g.run(&[
        0xc826_2007, // stxp w6, x7, x8, [x0]
    ]);
    assert_eq!(g.cpu.x[6], 1);
    assert_eq!(g.read(64, 16), 0x2223_0000_0000_0000_1111);
}

#[test]
fn w_pair_exclusives() {
    let mut g = guest();
    let above = g.read(72, 8);
    g.write(64, 8, 0x2222_0000_1111);
    g.cpu.x[7] = 0xffff_ffff_0000_7777;
    g.cpu.x[8] = 0x8888;
    g.run(&[
        0x887f_9404, // ldaxp w4, w5, [x0]
        0x8826_a007, // stlxp w6, w7, w8, [x0]
    ]);
    assert_eq!(g.cpu.x[4..7], [0x1111, 0x2222, 0]);
    assert_eq!(g.read(64, 8), 0x8888_0000_7777);
    assert_eq!(g.read(72, 8), above);
}
