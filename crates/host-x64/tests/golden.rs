//! Golden listings: the host code IR blocks compile to, disassembled with capstone.
//!
//! Each file in `tests/golden/` holds a family of cases: the IR as text, then the
//! listing. A change in generated code shows up as a diff here, to be reviewed.
//! `UPDATE_GOLDEN=1 cargo test -p archway-host-x64 --test golden` rewrites the files.
//!
//! Listings use fixed illustrative addresses (see `archway_engine::host_listing`)
//! and a fixed host feature set, so they do not depend on the machine.

use archway_host_x64::{host_listing, HostFeatures};
use archway_ir::{
    BinOp, Block, BlockBuilder, CmpOp, FenceKind, Helper, MemOrder, Op, RmwOp, Terminal, Type, UnOp, Value, VecInst,
    VecOp,
};
use std::fmt::Write;
use support::check_golden;

mod support;

const X0: u32 = 32;
const NZCV: u32 = 32 + 8 * 31;
const INT_TYPES: [Type; 4] = [Type::I8, Type::I16, Type::I32, Type::I64];

/// Guest register `n` of the (illustrative) state layout.
fn x(n: u32) -> u32 {
    X0 + 8 * n
}

/// A block over two state operands: `f(builder, a, b)` makes the value stored back.
fn binary(ty: Type, f: impl FnOnce(&mut BlockBuilder, Value, Value) -> Value) -> Block {
    let mut b = BlockBuilder::new(0x1000);
    let l = b.get_state(ty, x(1));
    let r = b.get_state(ty, x(2));
    let v = f(&mut b, l, r);
    b.set_state(x(0), v);
    b.finish(Terminal::Link(0x1004))
}

fn unary(ty: Type, f: impl FnOnce(&mut BlockBuilder, Value) -> Value) -> Block {
    binary(ty, |b, l, _| f(b, l))
}

unsafe extern "C" fn golden_helper(_state: *mut u8, a0: u64, a1: u64, _a2: u64, _a3: u64) -> u64 {
    a0.wrapping_add(a1)
}

static HELPER: Helper = Helper { name: "golden", func: golden_helper, reads_state: false, writes_state: false };

fn alu_cases() -> Vec<(String, Block)> {
    let mut cases = Vec::new();
    let ops = BinOp::ANY_WIDTH;
    for op in ops {
        for ty in [Type::I32, Type::I64] {
            cases.push((format!("{op:?} {ty}"), binary(ty, |b, l, r| b.bin(op, l, r))));
        }
        cases.push((format!("{op:?} i8"), binary(Type::I8, |b, l, r| b.bin(op, l, r))));
    }
    for op in [BinOp::UMulHi, BinOp::SMulHi] {
        cases.push((format!("{op:?} i64"), binary(Type::I64, |b, l, r| b.bin(op, l, r))));
    }
    for (name, c) in [("imm32", 0x1234u64), ("imm64", 0x1234_5678_9abc)] {
        cases.push((
            format!("Add i64 {name}"),
            unary(Type::I64, |b, l| {
                let k = b.konst(Type::I64, c);
                b.bin(BinOp::Add, l, k)
            }),
        ));
    }
    for op in [BinOp::Shl, BinOp::AShr, BinOp::RotR] {
        cases.push((
            format!("{op:?} i64 by 3"),
            unary(Type::I64, |b, l| {
                let k = b.konst(Type::I64, 3);
                b.bin(op, l, k)
            }),
        ));
    }
    cases.push(("Sub i64 into the second operand".into(), binary(Type::I64, |b, l, r| b.bin(BinOp::Sub, r, l))));
    for op in [BinOp::Sub, BinOp::AndNot, BinOp::Shl] {
        cases.push((
            format!("{op:?} i64 from a constant"),
            unary(Type::I64, |b, l| {
                let k = b.konst(Type::I64, 5);
                b.bin(op, k, l)
            }),
        ));
    }
    let uns = [UnOp::Not, UnOp::Neg, UnOp::Clz, UnOp::Cls, UnOp::Rbit, UnOp::Bswap, UnOp::Popcnt];
    for op in uns {
        for ty in INT_TYPES {
            cases.push((format!("{op:?} {ty}"), unary(ty, |b, l| b.un(op, l))));
        }
    }
    for (from, to) in [(Type::I8, Type::I64), (Type::I16, Type::I32), (Type::I32, Type::I64)] {
        cases.push((
            format!("ZExt {from} -> {to}"),
            unary(from, |b, l| {
                let v = b.zext_or_trunc(to, l);
                b.zext_or_trunc(from, v)
            }),
        ));
        cases.push((
            format!("SExt {from} -> {to}, Trunc back"),
            unary(from, |b, l| {
                let v = b.sext_or_trunc(to, l);
                b.zext_or_trunc(from, v)
            }),
        ));
    }
    cases
}

fn flag_cases() -> Vec<(String, Block)> {
    let mut cases = Vec::new();
    for ty in [Type::I32, Type::I64] {
        cases.push((
            format!("AddFlags {ty} carry-in"),
            binary(ty, |b, l, r| {
                let c = b.get_state(Type::I1, x(3));
                b.add_flags(l, r, c)
            }),
        ));
        cases.push((
            format!("AddFlags {ty} no carry"),
            binary(ty, |b, l, r| {
                let c = b.konst(Type::I1, 0);
                b.add_flags(l, r, c)
            }),
        ));
        cases.push((format!("SubFlags {ty}"), binary(ty, |b, l, r| b.sub_flags(l, r))));
        cases.push((format!("LogicFlags {ty}"), unary(ty, |b, l| b.logic_flags(l))));
    }
    for op in [CmpOp::Eq, CmpOp::Ne, CmpOp::Ult, CmpOp::Ule, CmpOp::Slt, CmpOp::Sle] {
        for ty in [Type::I8, Type::I64] {
            cases.push((
                format!("Cmp {op:?} {ty}"),
                binary(ty, |b, l, r| {
                    let c = b.cmp(op, l, r);
                    b.zext_or_trunc(ty, c)
                }),
            ));
        }
    }
    for cond in 0..16 {
        cases.push((
            format!("CondHolds {cond}"),
            unary(Type::I32, |b, l| {
                let c = b.cond_holds(cond, l);
                b.zext_or_trunc(Type::I32, c)
            }),
        ));
    }
    cases.push((
        "Select on a fused compare".into(),
        binary(Type::I64, |b, l, r| {
            let c = b.cmp(CmpOp::Slt, l, r);
            b.select(c, l, r)
        }),
    ));
    cases.push((
        "Select on a state bit".into(),
        binary(Type::I64, |b, l, r| {
            let c = b.get_state(Type::I1, x(3));
            b.select(c, l, r)
        }),
    ));
    cases
}

fn memory_cases() -> Vec<(String, Block)> {
    let mut cases = Vec::new();
    for ty in INT_TYPES {
        for order in [MemOrder::Plain, MemOrder::Acquire] {
            cases.push((
                format!("Load {ty} {order:?}"),
                unary(Type::I64, |b, a| {
                    let v = b.load(ty, a, order);
                    b.zext_or_trunc(Type::I64, v)
                }),
            ));
        }
        for order in [MemOrder::Plain, MemOrder::Release] {
            let mut b = BlockBuilder::new(0x1000);
            let a = b.get_state(Type::I64, x(1));
            let v = b.get_state(ty, x(2));
            b.store(a, v, order);
            cases.push((format!("Store {ty} {order:?}"), b.finish(Terminal::Link(0x1004))));
        }
    }
    let mut b = BlockBuilder::new(0x1000);
    let a = b.get_state(Type::I64, x(1));
    let k = b.konst(Type::I32, 7);
    b.store(a, k, MemOrder::Plain);
    cases.push(("Store i32 immediate".into(), b.finish(Terminal::Link(0x1004))));
    for op in [RmwOp::Add, RmwOp::Swap, RmwOp::AndNot, RmwOp::Or, RmwOp::Xor, RmwOp::Smax, RmwOp::Umin] {
        for ty in [Type::I8, Type::I64] {
            let mut b = BlockBuilder::new(0x1000);
            b.begin_guest_insn(0x1000, 0);
            let a = b.get_state(Type::I64, x(1));
            let v = b.get_state(ty, x(2));
            let old = b.atomic_rmw(op, a, v, MemOrder::AcqRel);
            b.set_state(x(0), old);
            cases.push((format!("AtomicRmw {op:?} {ty}"), b.finish(Terminal::Link(0x1004))));
        }
    }
    let mut b = BlockBuilder::new(0x1000);
    b.begin_guest_insn(0x1000, 0);
    let a = b.get_state(Type::I64, x(1));
    let e = b.get_state(Type::I32, x(2));
    let n = b.get_state(Type::I32, x(3));
    let old = b.cmpxchg(a, e, n, MemOrder::AcqRel);
    b.set_state(x(0), old);
    cases.push(("CmpXchg i32".into(), b.finish(Terminal::Link(0x1004))));
    for kind in [FenceKind::Full, FenceKind::Load, FenceKind::Store] {
        let mut b = BlockBuilder::new(0x1000);
        b.fence(kind);
        cases.push((format!("Fence {kind:?}"), b.finish(Terminal::Link(0x1004))));
    }
    let mut b = BlockBuilder::new(0x1000);
    let a0 = b.get_state(Type::I64, x(1));
    let a1 = b.get_state(Type::I64, x(2));
    let live = b.get_state(Type::I64, x(3));
    let r = b.call(&HELPER, &[a0, a1]);
    let s = b.bin(BinOp::Add, r, live);
    b.set_state(x(0), s);
    cases.push(("Call with a value live across it".into(), b.finish(Terminal::Link(0x1004))));
    cases
}

/// Guest vector register `n` (16-byte fields after the illustrative registers).
fn v(n: u32) -> u32 {
    x(32) + 16 * n
}

/// A block of the one vector op `op.{arrangement}` v0, v1, v2 (#imm).
fn vector(op: VecOp, esize: u8, full: bool, imm: u32) -> (String, Block) {
    let inst = VecInst { op, esize, full, dst: v(0), a: v(1), b: if op.reads_b() { v(2) } else { 0 }, imm };
    let mut b = BlockBuilder::new(0x1000);
    b.push(Type::Void, Op::Vec(inst));
    (format!("{inst}"), b.finish(Terminal::Link(0x1004)))
}

fn vector_cases() -> Vec<(String, Block)> {
    use VecOp::*;
    let mut cases: Vec<_> = [
        (Add, 32, true, 0),
        (Bic, 8, true, 0),
        (Orn, 8, false, 0),
        (Mul, 8, true, 0),
        (Mul, 32, true, 0),
        (CmHi, 8, true, 0),
        (CmGe0, 64, true, 0),
        (CmTst, 16, false, 0),
        (UMax, 16, true, 0),
        (Bsl, 8, true, 0),
        (Abs, 64, true, 0),
        (Shl, 8, true, 3),
        (UShr, 32, false, 19),
        (SShr, 8, false, 3),
        (SShr, 64, true, 7),
        (USra, 32, true, 10),
        (UShll, 8, true, 0),
        (SShll, 16, false, 0),
        (ShrN, 16, false, 4),
        (ShrN, 8, true, 0),
        (Zip2, 8, false, 0),
        (Uzp1, 8, true, 0),
        (Trn1, 16, true, 0),
        (Ext, 8, true, 5),
        (Dup, 16, true, 5),
        (Addp, 8, true, 0),
        (UMaxp, 8, true, 0),
        (UMaxV, 16, true, 0),
        (AddV, 32, true, 0),
    ]
    .into_iter()
    .map(|(op, esize, full, imm)| vector(op, esize, full, imm))
    .collect();
    // A value live across a vector op that calls out where the host lacks SSE4.1.
    let mut b = BlockBuilder::new(0x1000);
    let live = b.get_state(Type::I64, x(1));
    b.push(Type::Void, Op::Vec(VecInst { op: Mul, esize: 32, full: true, dst: v(0), a: v(1), b: v(2), imm: 0 }));
    b.set_state(x(0), live);
    cases.push(("vec.Mul.4s with a value live across it".into(), b.finish(Terminal::Link(0x1004))));
    cases
}

fn terminal_cases() -> Vec<(String, Block)> {
    let mut cases = Vec::new();
    let b = BlockBuilder::new(0x1000);
    cases.push(("Link".into(), b.finish(Terminal::Link(0x2000))));
    let b = BlockBuilder::new(0x1000);
    cases.push(("Link to itself".into(), b.finish(Terminal::Link(0x1000))));
    let mut b = BlockBuilder::new(0x1000);
    let n = b.get_state(Type::I32, NZCV);
    let c = b.cond_holds(1, n);
    cases.push(("If on NE (b.ne)".into(), b.finish(Terminal::If { cond: c, then_pc: 0x2000, else_pc: 0x1004 })));
    for cond in [0, 2, 8, 12] {
        let mut b = BlockBuilder::new(0x1000);
        let l = b.get_state(Type::I64, x(1));
        let r = b.get_state(Type::I64, x(2));
        let n = b.sub_flags(l, r);
        b.set_state(NZCV, n);
        let c = b.cond_holds(cond, n);
        let name = format!("If on condition {cond} of a compare (cmp + b.cond)");
        cases.push((name, b.finish(Terminal::If { cond: c, then_pc: 0x2000, else_pc: 0x1004 })));
    }
    let mut b = BlockBuilder::new(0x1000);
    let v = b.get_state(Type::I64, x(1));
    let zero = b.konst(Type::I64, 0);
    let c = b.cmp(CmpOp::Eq, v, zero);
    cases.push((
        "If on a fused compare (cbz)".into(),
        b.finish(Terminal::If { cond: c, then_pc: 0x2000, else_pc: 0x1004 }),
    ));
    let mut b = BlockBuilder::new(0x1000);
    let v = b.get_state(Type::I64, x(30));
    cases.push(("Indirect".into(), b.finish(Terminal::Indirect(v))));
    let mut b = BlockBuilder::new(0x1000);
    let v = b.get_state(Type::I64, x(30));
    cases.push(("Return".into(), b.finish(Terminal::Return(v))));
    let b = BlockBuilder::new(0x1000);
    cases.push(("Syscall".into(), b.finish(Terminal::Syscall { next_pc: 0x1004 })));
    let b = BlockBuilder::new(0x1000);
    cases.push(("Trap".into(), b.finish(Terminal::Trap { signal: 4, pc: 0x1000 })));
    cases
}

/// Many values live at once: the ones beyond the eleven registers spill.
fn regalloc_cases() -> Vec<(String, Block)> {
    let mut b = BlockBuilder::new(0x1000);
    let vals: Vec<Value> = (0..14).map(|k| b.get_state(Type::I64, x(k))).collect();
    let mut acc = vals[0];
    for &v in &vals[1..] {
        acc = b.bin(BinOp::Add, acc, v);
    }
    for (k, &v) in vals.iter().enumerate() {
        let s = b.bin(BinOp::Xor, v, acc);
        b.set_state(x(k as u32), s);
    }
    vec![("Fourteen live values".into(), b.finish(Terminal::Link(0x1004)))]
}

fn render(cases: &[(String, Block)], features: HostFeatures) -> String {
    let mut out = String::new();
    for (name, block) in cases {
        archway_ir::verify::verify(block).unwrap_or_else(|e| panic!("{name}: {e}\n{block}"));
        let listing = host_listing(block, features);
        writeln!(out, "== {name} ==\n{block}--\n{listing}").unwrap();
    }
    out
}

#[test]
fn alu() {
    check_golden("alu.txt", &render(&alu_cases(), HostFeatures::BASELINE));
}

#[test]
fn alu_with_optional_instructions() {
    let cases: Vec<_> = alu_cases()
        .into_iter()
        .filter(|(name, _)| name.starts_with("Clz") || name.starts_with("Cls") || name.starts_with("Popcnt"))
        .collect();
    check_golden("alu_features.txt", &render(&cases, HostFeatures::ALL));
}

#[test]
fn flags() {
    check_golden("flags.txt", &render(&flag_cases(), HostFeatures::BASELINE));
}

#[test]
fn flags_without_lahf() {
    let cases: Vec<_> = flag_cases().into_iter().filter(|(name, _)| name.contains("Flags")).collect();
    check_golden("flags_pushf.txt", &render(&cases, HostFeatures::NONE));
}

#[test]
fn memory() {
    check_golden("memory.txt", &render(&memory_cases(), HostFeatures::BASELINE));
}

#[test]
fn vectors() {
    check_golden("vector.txt", &render(&vector_cases(), HostFeatures::ALL));
}

#[test]
fn vectors_without_sse4() {
    let cases: Vec<_> = vector_cases()
        .into_iter()
        .filter(|(name, _)| ["Mul.4s", "CmGe0", "UMax.8h", "UShll", "SShll"].iter().any(|op| name.contains(op)))
        .collect();
    check_golden("vector_baseline.txt", &render(&cases, HostFeatures::BASELINE));
}

#[test]
fn terminals() {
    check_golden("terminals.txt", &render(&terminal_cases(), HostFeatures::BASELINE));
}

#[test]
fn regalloc() {
    check_golden("regalloc.txt", &render(&regalloc_cases(), HostFeatures::BASELINE));
}
