//! Pass tests: each checks the transformation and that meaning is unchanged.

use super::optimize;
use crate::block::BlockBuilder;
use crate::interp::run_block;
use crate::lane_ops::{VecInst, VecOp};
use crate::op::{BinOp, Op, Terminal};
use crate::state::StateHeader;
use crate::types::Type;
use crate::verify::verify;

#[repr(C)]
#[derive(Default, Clone, PartialEq, Debug)]
struct S {
    header: StateHeader,
    r: [u64; 4],
    flags: u32,
}
const R0: u32 = core::mem::offset_of!(S, r) as u32;
const FLAGS: u32 = core::mem::offset_of!(S, flags) as u32;

fn run(block: &crate::Block, mut st: S) -> S {
    // SAFETY: `st` is a live state of the layout the test blocks use.
    unsafe { run_block(block, &mut st as *mut S as *mut u8) };
    st
}

#[test]
fn forwards_state_and_drops_dead_flags() {
    let mut b = BlockBuilder::new(0);
    b.begin_guest_insn(0, 0);
    let x = b.get_state(Type::I64, R0);
    let y = b.get_state(Type::I64, R0 + 8);
    let f1 = b.sub_flags(x, y);
    b.set_state(FLAGS, f1);
    b.begin_guest_insn(4, 0);
    let x2 = b.get_state(Type::I64, R0);
    let sum = b.bin(BinOp::Add, x2, y);
    b.set_state(R0 + 16, sum);
    let f2 = b.logic_flags(sum);
    b.set_state(FLAGS, f2);
    let mut block = b.finish(Terminal::Link(8));
    let before = block.clone();
    optimize(&mut block);
    verify(&block).unwrap();
    let get_states = block.insts.iter().filter(|i| matches!(i.op, Op::GetState { .. })).count();
    assert_eq!(get_states, 2, "X0 is read once");
    assert!(!block.insts.iter().any(|i| matches!(i.op, Op::SubFlags { .. })), "dead flags removed");
    let st = S { r: [5, 7, 0, 0], ..Default::default() };
    assert_eq!(run(&before, st.clone()), run(&block, st));
}

#[test]
fn folds_constants_and_branches() {
    let mut b = BlockBuilder::new(0);
    let two = b.konst(Type::I32, 2);
    let three = b.konst(Type::I32, 3);
    let f = b.sub_flags(two, three);
    let lt = b.cond_holds(11, f);
    let mut block = b.finish(Terminal::If { cond: lt, then_pc: 0x10, else_pc: 0x20 });
    optimize(&mut block);
    verify(&block).unwrap();
    assert_eq!(block.terminal, Terminal::Link(0x10));
    assert!(block.insts.is_empty());
}

#[test]
fn identities_keep_meaning() {
    let mut b = BlockBuilder::new(0);
    let x = b.get_state(Type::I64, R0);
    let zero = b.konst(Type::I64, 0);
    let ones = b.konst(Type::I64, u64::MAX);
    let a = b.bin(BinOp::Add, x, zero);
    let m = b.bin(BinOp::And, a, ones);
    let s = b.bin(BinOp::Shl, m, zero);
    let z = b.bin(BinOp::Mul, s, zero);
    b.set_state(R0 + 8, s);
    b.set_state(R0 + 16, z);
    let mut block = b.finish(Terminal::Link(4));
    let before = block.clone();
    optimize(&mut block);
    verify(&block).unwrap();
    assert!(!block.insts.iter().any(|i| matches!(i.op, Op::Bin { .. })));
    let st = S { r: [0xdead, 1, 1, 0], ..Default::default() };
    assert_eq!(run(&before, st.clone()), run(&block, st));
}

#[test]
fn helper_calls_are_barriers() {
    unsafe extern "C" fn bump(state: *mut u8, _: u64, _: u64, _: u64, _: u64) -> u64 {
        // SAFETY: the interpreter passes the live test state, which holds R0.
        unsafe { *(state.add(R0 as usize) as *mut u64) += 1 };
        0
    }
    static BUMP: crate::Helper = crate::Helper { name: "bump", func: bump, reads_state: true, writes_state: true };
    let mut b = BlockBuilder::new(0);
    let x = b.get_state(Type::I64, R0);
    b.set_state(R0, x);
    b.call_void(&BUMP, &[]);
    let x2 = b.get_state(Type::I64, R0);
    b.set_state(R0 + 8, x2);
    let ten = b.konst(Type::I64, 10);
    b.set_state(R0, ten);
    let mut block = b.finish(Terminal::Link(4));
    let before = block.clone();
    optimize(&mut block);
    verify(&block).unwrap();
    let st = S { r: [1, 0, 0, 0], ..Default::default() };
    let after = run(&block, st.clone());
    assert_eq!(run(&before, st), after);
    assert_eq!(after.r[..2], [10, 2]);
}

#[test]
fn vector_ops_read_and_write_their_fields() {
    // Two 16-byte fields: r0:r1 at R0 and r2:r3 at R0 + 16.
    let (lo, hi) = (R0, R0 + 16);
    let vec = |op, a, b| Op::Vec(VecInst { op, esize: 8, full: true, dst: lo, a, b, imm: 0 });
    let mut b = BlockBuilder::new(0);
    let x = b.get_state(Type::I64, R0);
    let five = b.konst(Type::I64, 5);
    b.set_state(hi, five); // read by the next op: stays
    b.push(Type::Void, vec(VecOp::Orr, hi, lo));
    let y = b.get_state(Type::I64, R0); // written by the vector op: not forwarded from x
    b.set_state(hi + 8, y);
    b.push(Type::Void, vec(VecOp::Eor, hi, hi)); // overwritten next, unread: dead
    b.push(Type::Void, vec(VecOp::Not, hi, 0));
    let sum = b.bin(BinOp::Add, x, y);
    let sum = b.zext_or_trunc(Type::I32, sum);
    b.set_state(FLAGS, sum);
    let mut block = b.finish(Terminal::Link(4));
    let before = block.clone();
    optimize(&mut block);
    verify(&block).unwrap();
    let count = |f: fn(&Op) -> bool| block.insts.iter().filter(|i| f(&i.op)).count();
    assert_eq!(count(|op| matches!(op, Op::GetState { .. })), 2);
    assert_eq!(count(|op| matches!(op, Op::SetState { .. })), 3);
    assert_eq!(count(|op| matches!(op, Op::Vec(_))), 2, "{block}");
    let st = S { r: [0x10, 0x20, 0x30, 0x40], ..Default::default() };
    let after = run(&block, st.clone());
    assert_eq!(run(&before, st), after);
    assert_eq!(after.r, [!5, !0x15, 5, 0x15]);
}
