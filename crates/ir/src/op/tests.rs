//! Tests of what the op table generates: operand order and rewriting, side effects,
//! the text form, the builder methods' result types and the typing rules.

use super::*;
use crate::block::BlockBuilder;
use crate::types::Type;
use crate::verify::verify;

unsafe extern "C" fn add(_state: *mut u8, a: u64, b: u64, _: u64, _: u64) -> u64 {
    a.wrapping_add(b)
}

static ADD: Helper = Helper { name: "add", func: add, reads_state: false, writes_state: false };

#[test]
fn operands_are_the_value_fields_in_order_then_the_variadic_ones() {
    let (a, b, c) = (Value(1), Value(2), Value(3));
    let cmpxchg = Op::CmpXchg { addr: a, expected: b, new: c, order: MemOrder::AcqRel };
    assert_eq!(cmpxchg.operands().collect::<Vec<_>>(), [a, b, c]);
    let rmw = Op::AtomicRmw { op: RmwOp::Swap, addr: b, value: a, order: MemOrder::Plain };
    assert_eq!(rmw.operands().collect::<Vec<_>>(), [b, a]);
    let call = Op::Call { helper: &ADD, args: vec![c, a] };
    assert_eq!(call.operands().collect::<Vec<_>>(), [c, a]);
    assert_eq!(Op::Fence(FenceKind::Full).operands().count(), 0);
    assert_eq!(Op::Trunc(b).operands().collect::<Vec<_>>(), [b]);
}

#[test]
fn map_operands_rewrites_every_operand_and_no_data() {
    let later = |v: Value| Value(v.0 + 10);
    let mut store = Op::Store { addr: Value(1), value: Value(2), order: MemOrder::Release };
    store.map_operands(later);
    assert_eq!(store, Op::Store { addr: Value(11), value: Value(12), order: MemOrder::Release });
    let mut call = Op::Call { helper: &ADD, args: vec![Value(3), Value(4)] };
    call.map_operands(later);
    assert_eq!(call, Op::Call { helper: &ADD, args: vec![Value(13), Value(14)] });
    let mut holds = Op::CondHolds { cond: 3, nzcv: Value(5) };
    holds.map_operands(later);
    assert_eq!(holds, Op::CondHolds { cond: 3, nzcv: Value(15) });
}

#[test]
fn side_effects_are_those_of_the_table() {
    let v = Value(0);
    assert!(!Op::Const(1).has_side_effects());
    assert!(!Op::Bin { op: BinOp::Add, a: v, b: v }.has_side_effects());
    assert!(Op::Load { addr: v, order: MemOrder::Plain }.has_side_effects());
    assert!(Op::SetState { offset: 8, value: v }.has_side_effects());
    assert!(Op::Call { helper: &ADD, args: vec![] }.has_side_effects());
}

#[test]
fn builders_give_the_table_result_types_and_the_text_form() {
    let mut b = BlockBuilder::new(0x1000);
    let x = b.get_state(Type::I64, 32);
    let k = b.konst(Type::I32, 0x1_0000_0005);
    let narrow = b.trunc(Type::I32, x);
    let sum = b.bin(BinOp::Add, narrow, k);
    let flags = b.sub_flags(sum, k);
    let holds = b.cond_holds(1, flags);
    let wide = b.zext(Type::I64, sum);
    let picked = b.select(holds, x, wide);
    let old = b.atomic_rmw(RmwOp::Add, x, picked, MemOrder::AcqRel);
    let loaded = b.load(Type::I16, old, MemOrder::Acquire);
    b.store(x, loaded, MemOrder::Plain);
    b.fence(FenceKind::Store);
    let r = b.call(&ADD, &[x, old]);
    b.call_void(&ADD, &[]);
    b.set_state(40, r);
    let block = b.finish(Terminal::Link(0x1004));
    verify(&block).unwrap();
    assert_eq!(
        block.to_string(),
        "block 0x1000:\n  v0:i64 = get_state +32\n  v1:i32 = const 0x5\n  v2:i32 = trunc v0\n  \
         v3:i32 = Add v2, v1\n  v4:i32 = sub_flags v3, v1\n  v5:i1 = cond_holds 1, v4\n  v6:i64 = zext v3\n  \
         v7:i64 = select v5, v0, v6\n  v8:i64 = atomic.Add.AcqRel v0, v7\n  v9:i16 = load.Acquire [v8]\n  \
         store.Plain v0, v9\n  fence.Store\n  v12:i64 = call add(v0, v8)\n  call add()\n  set_state +40, v12\n  \
         -> link 0x1004\n"
    );
}

#[test]
fn typing_rules_say_why_an_op_is_ill_typed() {
    let why = |build: &dyn Fn(&mut BlockBuilder)| {
        let mut b = BlockBuilder::new(0);
        build(&mut b);
        verify(&b.finish(Terminal::Link(4))).unwrap_err().message
    };
    assert_eq!(
        why(&|b| {
            let x = b.konst(Type::I32, 1);
            b.push(Type::I64, Op::Bin { op: BinOp::Add, a: x, b: x });
        }),
        "binary op operands must match the result type"
    );
    assert_eq!(
        why(&|b| {
            let x = b.konst(Type::I32, 1);
            b.push(Type::I32, Op::Bin { op: BinOp::UMulHi, a: x, b: x });
        }),
        "high multiply is I64 only"
    );
    assert_eq!(
        why(&|b| {
            let x = b.konst(Type::I64, 1);
            b.push(Type::I64, Op::Store { addr: x, value: x, order: MemOrder::Plain });
        }),
        "op has no result"
    );
    assert_eq!(
        why(&|b| {
            let x = b.konst(Type::I64, 1);
            let y = b.konst(Type::I32, 1);
            b.call(&ADD, &[x, y]);
        }),
        "helper arguments are I64"
    );
    assert_eq!(
        why(&|b| {
            let x = b.konst(Type::I64, 1);
            b.call(&ADD, &[x; 5]);
        }),
        "helpers take at most four arguments"
    );
    assert_eq!(
        why(&|b| {
            b.push(Type::I8, Op::Const(0x100));
        }),
        "constant out of range for its type"
    );
}
