//! LSE atomics: LD<op>, ST<op>, SWP, CAS and CASP.

use super::Guest;

/// A guest whose x0 points at the 8-byte value `value`, with x1 = `operand`.
fn guest(value: u64, operand: u64) -> Guest {
    let mut g = Guest::new();
    g.write(64, 8, value.into());
    g.cpu.x[0] = g.at(64);
    g.cpu.x[1] = operand;
    g
}

/// Run one atomic on memory `value` with x1 = `operand`; (x2 afterwards, memory after).
fn run_one(word: u32, value: u64, operand: u64) -> (u64, u64) {
    let mut g = guest(value, operand);
    g.cpu.x[2] = 0xdead_dead_dead_dead;
    g.run(&[word]);
    (g.cpu.x[2], g.read(64, 8) as u64)
}

#[test]
fn ldadd_returns_the_old_value() {
    assert_eq!(run_one(0xf821_0002, 10, 3), (10, 13)); // ldadd x1, x2, [x0]
}

#[test]
fn narrow_atomics_touch_only_their_bytes() {
    let top = 0x1234_5678_0000_0000u64;
    // ldaddalh w1, w2, [x0]: 0xffff + 1 wraps within the halfword
    assert_eq!(run_one(0x78e1_0002, top | 0xffff, 1), (0xffff, top));
    // ldsetlb w1, w2, [x0]
    assert_eq!(run_one(0x3861_3002, top | 0x0102, 0x80), (0x02, top | 0x0182));
    // lduminb w1, w2, [x0]
    assert_eq!(run_one(0x3821_7002, top | 0x90, 0x7f), (0x90, top | 0x7f));
    // swpb w1, w2, [x0]
    assert_eq!(run_one(0x3821_8002, top | 0x55, 0xaa), (0x55, top | 0xaa));
}

#[test]
fn every_rmw_operation() {
    let neg5 = -5i64 as u64;
    // ldclr x1, x2, [x0]
    assert_eq!(run_one(0xf821_1002, 0xff, 0x0f), (0xff, 0xf0));
    // ldeora w1, w2, [x0]
    assert_eq!(run_one(0xb8a1_2002, 0xff, 0x0f), (0xff, 0xf0));
    // ldsmax x1, x2, [x0]
    assert_eq!(run_one(0xf821_4002, neg5, 3), (neg5, 3));
    // ldsminh w1, w2, [x0]: -32768 stays the minimum
    assert_eq!(run_one(0x7821_5002, 0x8000, 1), (0x8000, 0x8000));
    // ldsmaxb w1, w2, [x0]: 0x7f beats -128
    assert_eq!(run_one(0x3821_4002, 0x7f, 0x80), (0x7f, 0x7f));
    // ldumax w1, w2, [x0]
    assert_eq!(run_one(0xb821_6002, 0x8000_0000, 7), (0x8000_0000, 0x8000_0000));
    // swpal x1, x2, [x0]
    assert_eq!(run_one(0xf8e1_8002, 1, 2), (1, 2));
}

#[test]
fn st_alias_discards_the_old_value() {
    let mut g = guest(10, 3);
    let before = g.cpu.x;
    g.run(&[
        0xf821_001f, // stadd x1, [x0]
    ]);
    assert_eq!(g.read(64, 8), 13);
    assert_eq!(g.cpu.x, before);
}

#[test]
fn cas_success_and_failure() {
    let mut g = guest(5, 5);
    g.cpu.x[2] = 7;
    let cas = 0xc8a1_7c02; // cas x1, x2, [x0]
    g.run(&[cas]);
    assert_eq!((g.read(64, 8), g.cpu.x[1]), (7, 5));
    g.cpu.x[1] = 5;
    g.cpu.x[2] = 9;
    g.run(&[cas]);
    assert_eq!((g.read(64, 8), g.cpu.x[1]), (7, 7));
}

#[test]
fn narrow_cas_compares_only_its_width() {
    let top = 0x1234_5678_0000_0000u128;
    let mut g = guest(0x1234_5678_8765_4321, 0xffff_ffff_8765_4321);
    g.cpu.x[2] = 0xffff_ffff_0000_0001;
    g.run(&[
        0x88e1_fc02, // casal w1, w2, [x0]
    ]);
    assert_eq!((g.read(64, 8), g.cpu.x[1]), (top | 1, 0x8765_4321));
    g.cpu.x[1] = 0x01;
    g.cpu.x[2] = 0xab;
    g.run(&[
        0x08e1_7c02, // casab w1, w2, [x0]
    ]);
    assert_eq!((g.read(64, 8), g.cpu.x[1]), (top | 0xab, 0x01));
    g.cpu.x[1] = 0xff;
    g.cpu.x[2] = 0xcdef;
    g.run(&[
        0x48a1_fc02, // caslh w1, w2, [x0]
    ]);
    assert_eq!((g.read(64, 8), g.cpu.x[1]), (top | 0xab, 0xab));
}

#[test]
fn casp_of_x_registers() {
    let mut g = guest(0, 0);
    g.write(64, 16, 0xbbbb_0000_0000_0000_aaaa);
    g.cpu.x[2..6].copy_from_slice(&[0xaaaa, 0xbbbb, 0xcccc, 0xdddd]);
    let casp = 0x4822_7c04; // casp x2, x3, x4, x5, [x0]
    g.run(&[casp]);
    assert_eq!(g.read(64, 16), 0xdddd_0000_0000_0000_cccc);
    assert_eq!(g.cpu.x[2..4], [0xaaaa, 0xbbbb]);
    g.cpu.x[4] = 1;
    g.run(&[casp]);
    assert_eq!(g.read(64, 16), 0xdddd_0000_0000_0000_cccc);
    assert_eq!(g.cpu.x[2..4], [0xcccc, 0xdddd]);
}

#[test]
fn casp_of_w_registers() {
    let mut g = guest(0x2222_0000_1111, 0);
    g.cpu.x[2..6].copy_from_slice(&[0xffff_0000_0000_1111, 0x2222, 0x3333, 0x4444]);
    let caspal = 0x0862_fc04; // caspal w2, w3, w4, w5, [x0]
    g.run(&[caspal]);
    assert_eq!(g.read(64, 8), 0x4444_0000_3333);
    assert_eq!(g.cpu.x[2..4], [0x1111, 0x2222]);
    g.run(&[caspal]);
    assert_eq!(g.read(64, 8), 0x4444_0000_3333);
    assert_eq!(g.cpu.x[2..4], [0x3333, 0x4444]);
}
