//! Differential tests: the JIT must agree with the reference interpreter.
//!
//! Every IR op is run over each integer type with operands from a seeded xorshift
//! generator biased towards boundaries (0, 1, -1, MIN, MAX, shift amounts around the
//! width...), as registers, spill slots and immediates; then random well-typed blocks
//! mix everything. The interpreter runs the same blocks through a minimal dispatcher
//! of its own, so the IR passes are not involved: both engines see identical IR.
//! State (PC and guest area) and the memory buffer the blocks touch must match.
//! Vector ops, which work on 16-byte state fields, have their own module ([`lane_ops`]).
//!
//! x86_64 hosts only: the JIT's code runs there alone (other hosts build this crate,
//! and its golden listings, but use the interpreter).
#![cfg(target_arch = "x86_64")]

use archway_engine::jit::{JitEngine, JitOptions};
use archway_engine::{Engine, Exit};
use archway_host_x64::{host_listing, HostFeatures, X64Backend};
use archway_ir::interp::{run_block, BlockExit};
use archway_ir::{
    BinOp, Block, BlockBuilder, CmpOp, FenceKind, Frontend, Helper, MemOrder, RmwOp, StateHeader, Terminal, Type, UnOp,
    Value,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

mod lane_ops;

// ---------------------------------------------------------------------------------
// Guest state, memory and a front end serving prepared blocks.

const REGS: usize = 192;

#[repr(C)]
#[derive(Clone, PartialEq, Debug)]
struct State {
    header: StateHeader,
    regs: [u64; REGS],
}

impl State {
    /// A zeroed state about to run the block at 0x1000.
    fn new() -> Box<State> {
        let header = StateHeader { pc: 0x1000, ..StateHeader::default() };
        Box::new(State { header, regs: [0; REGS] })
    }
}

/// Byte offset of guest register `k`.
fn reg(k: usize) -> u32 {
    (core::mem::size_of::<StateHeader>() + 8 * k) as u32
}

/// Registers 0..64 hold inputs, 64.. results.
const OUT: usize = 64;
/// Register holding the address of the memory buffer.
const MEM_REG: usize = 63;
const MEM_WORDS: usize = 64;

struct Blocks(Mutex<HashMap<u64, Block>>);

impl Frontend for Blocks {
    fn translate(&self, pc: u64) -> Block {
        self.0
            .lock()
            .unwrap()
            .get(&pc)
            .cloned()
            .unwrap_or_else(|| BlockBuilder::new(pc).finish(Terminal::Trap { signal: 4, pc }))
    }
    fn insn_bytes(&self) -> u64 {
        4
    }
    fn disassemble(&self, _pc: u64, word: u32) -> String {
        format!(".word {word:#x}")
    }
    fn state_size(&self) -> usize {
        core::mem::size_of::<State>()
    }
}

/// Run `blocks` from `state.header.pc` in the interpreter, block by block.
fn run_interp(blocks: &HashMap<u64, Block>, state: &mut State) -> Exit {
    for _ in 0..100_000 {
        let pc = state.header.pc;
        let Some(block) = blocks.get(&pc) else {
            return Exit::Trap { signal: 4, pc };
        };
        // SAFETY: the state is a live State of the layout the test blocks use.
        match unsafe { run_block(block, state as *mut State as *mut u8) } {
            BlockExit::Jump(_) => {}
            BlockExit::Syscall { .. } => return Exit::Syscall,
            BlockExit::Trap { signal, pc } => return Exit::Trap { signal, pc },
        }
    }
    panic!("interpreter did not finish");
}

fn jit(blocks: &HashMap<u64, Block>, features: HostFeatures) -> (JitEngine<X64Backend>, Arc<Blocks>) {
    let frontend = Arc::new(Blocks(Mutex::new(blocks.clone())));
    let options = JitOptions { optimize: false, features, code_bytes: 1 << 20 };
    (JitEngine::new(frontend.clone(), options).expect("code region"), frontend)
}

/// Feature sets to compare under: every fallback, and whatever this CPU has.
fn feature_sets() -> [HostFeatures; 2] {
    [HostFeatures::NONE, HostFeatures::detect()]
}

/// Run `blocks` from `init` (and memory `mem_init`) in both engines; they must agree.
fn check(blocks: &HashMap<u64, Block>, init: &State, mem: &mut [u64], mem_init: &[u64], features: HostFeatures) {
    let mut want = Box::new(init.clone());
    mem.copy_from_slice(mem_init);
    let want_exit = run_interp(blocks, &mut want);
    let want_mem = mem.to_vec();
    assert!(blocks.contains_key(&init.header.pc), "the test does not start at one of its blocks");

    let mut got = Box::new(init.clone());
    mem.copy_from_slice(mem_init);
    let (mut engine, _) = jit(blocks, features);
    // SAFETY: the state is a live State of the layout the test blocks use.
    let got_exit = unsafe { engine.run(&mut *got as *mut State as *mut u8) };

    let same = want_exit == got_exit && want.header.pc == got.header.pc && want.regs == got.regs && want_mem == mem;
    if !same {
        let mut report = format!("JIT disagrees with the interpreter ({features:?})\n");
        report += &format!("exit: interp {want_exit:?}, jit {got_exit:?}\n");
        report += &format!("pc: interp {:#x}, jit {:#x}\n", want.header.pc, got.header.pc);
        for k in 0..REGS {
            if init.regs[k] != 0 || want.regs[k] != got.regs[k] {
                let mark = if want.regs[k] != got.regs[k] { "  <-- differs" } else { "" };
                report +=
                    &format!("r{k}: in {:#x} interp {:#x} jit {:#x}{mark}\n", init.regs[k], want.regs[k], got.regs[k]);
            }
        }
        if want_mem != mem {
            report += &format!("memory: interp {want_mem:x?}\n        jit    {mem:x?}\n");
        }
        let mut pcs: Vec<_> = blocks.keys().collect();
        pcs.sort();
        for pc in pcs {
            report += &format!("{}--\n{}", blocks[pc], host_listing(&blocks[pc], features));
        }
        panic!("{report}");
    }
}

fn single(block: Block) -> HashMap<u64, Block> {
    HashMap::from([(block.guest_pc, block)])
}

// ---------------------------------------------------------------------------------
// Operands.

/// xorshift64*: tiny, seeded, good enough for test operands.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// A value of type `ty`: half the time a boundary value.
    fn value(&mut self, ty: Type) -> u64 {
        let bits = ty.bits() as u64;
        let m = ty.mask();
        let min = 1u64 << (bits - 1);
        let boundaries = [
            0,
            1,
            2,
            m,
            m - 1,
            min,
            min - 1,
            min + 1,
            bits - 1,
            bits,
            bits + 1,
            63,
            64,
            100,
            0x7f,
            0x80,
            0xff,
            0x8000,
            0xffff_ffff,
            0x8000_0000,
        ];
        match self.below(4) {
            0 | 1 => self.pick(&boundaries) & m,
            2 => self.next() & m,
            _ => (self.next() >> self.below(64)) & m,
        }
    }
}

const INT_TYPES: [Type; 4] = [Type::I8, Type::I16, Type::I32, Type::I64];

/// How an operand reaches an op: read from the state (a register, or a spill slot
/// when many are live), or a constant (an immediate).
#[derive(Clone, Copy, PartialEq)]
enum Form {
    State,
    Const,
}

/// `v` with random bits above the width of `ty` (where a state read of `ty` does not
/// look, except that an I1 read takes the whole byte, as the interpreter does).
fn with_garbage(rng: &mut Rng, ty: Type, v: u64) -> u64 {
    match ty {
        Type::I64 => v,
        _ => v | (rng.next() << ty.bits()),
    }
}

/// Make an operand of type `ty` with value `v`: a state read of input register `k`
/// (setting it in `init`) or a constant.
fn operand(
    rng: &mut Rng,
    b: &mut BlockBuilder,
    init: &mut State,
    k: &mut usize,
    ty: Type,
    v: u64,
    form: Form,
) -> Value {
    match form {
        Form::Const => b.konst(ty, v),
        Form::State => {
            init.regs[*k] = with_garbage(rng, ty, v);
            let x = b.get_state(ty, reg(*k));
            *k += 1;
            x
        }
    }
}

/// Run `rounds` blocks, each with `per_block` instances of an op built by `make`
/// from operands of the given types; every result is stored to an output register.
fn op_test(
    seed: u64,
    rounds: usize,
    per_block: usize,
    operand_types: &[Type],
    allow_consts: bool,
    mut make: impl FnMut(&mut BlockBuilder, &[Value]) -> Value,
) {
    let mut rng = Rng(seed);
    let mut mem = vec![0u64; MEM_WORDS];
    for features in feature_sets() {
        for _ in 0..rounds {
            let mut b = BlockBuilder::new(0x1000);
            let mut init = State::new();
            let mut k = 0;
            let mut results = Vec::new();
            // Keep every operand of the block live to the end half of the time, so
            // that some of them spill.
            let keep_live = rng.chance(2);
            let mut kept = Vec::new();
            for _ in 0..per_block {
                let ops: Vec<Value> = operand_types
                    .iter()
                    .map(|&ty| {
                        let form = if allow_consts && rng.chance(3) { Form::Const } else { Form::State };
                        let v = rng.value(ty);
                        operand(&mut rng, &mut b, &mut init, &mut k, ty, v, form)
                    })
                    .collect();
                results.push(make(&mut b, &ops));
                if keep_live {
                    kept.extend(ops);
                }
            }
            // Store in a random order, so that results as well as operands spill.
            let mut outputs: Vec<(usize, Value)> = results.iter().chain(kept.iter()).copied().enumerate().collect();
            for n in (1..outputs.len()).rev() {
                outputs.swap(n, rng.below(n as u64 + 1) as usize);
            }
            for (n, r) in outputs {
                b.set_state(reg(OUT + n), r);
            }
            let block = b.finish(Terminal::Syscall { next_pc: 0x1004 });
            archway_ir::verify::verify(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
            check(&single(block), &init, &mut mem, &vec![0; MEM_WORDS], features);
        }
    }
}

// ---------------------------------------------------------------------------------
// Every op over every type.

#[test]
fn binary_ops() {
    let ops = BinOp::ANY_WIDTH;
    for (n, op) in ops.into_iter().enumerate() {
        for ty in INT_TYPES {
            op_test(n as u64 * 31 + ty.bits() as u64, 12, 8, &[ty, ty], true, |b, v| b.bin(op, v[0], v[1]));
        }
    }
    for op in [BinOp::UMulHi, BinOp::SMulHi] {
        op_test(7, 12, 8, &[Type::I64, Type::I64], true, |b, v| b.bin(op, v[0], v[1]));
    }
}

#[test]
fn same_operand_twice() {
    for op in [BinOp::Sub, BinOp::Xor, BinOp::AndNot, BinOp::Mul, BinOp::SDiv, BinOp::Shl, BinOp::RotR] {
        for ty in INT_TYPES {
            op_test(99 + ty.bits() as u64, 4, 4, &[ty], false, |b, v| b.bin(op, v[0], v[0]));
        }
    }
}

#[test]
fn unary_ops() {
    let ops = [UnOp::Not, UnOp::Neg, UnOp::Clz, UnOp::Cls, UnOp::Rbit, UnOp::Bswap, UnOp::Popcnt];
    for (n, op) in ops.into_iter().enumerate() {
        for ty in INT_TYPES {
            op_test(1000 + n as u64 * 7 + ty.bits() as u64, 12, 8, &[ty], true, |b, v| b.un(op, v[0]));
        }
    }
}

#[test]
fn comparisons_and_select() {
    let ops = [CmpOp::Eq, CmpOp::Ne, CmpOp::Ult, CmpOp::Ule, CmpOp::Slt, CmpOp::Sle];
    for (n, op) in ops.into_iter().enumerate() {
        for ty in INT_TYPES {
            let seed = 2000 + n as u64 * 7 + ty.bits() as u64;
            // The comparison as a value.
            op_test(seed, 8, 8, &[ty, ty], true, |b, v| b.cmp(op, v[0], v[1]));
            // Fused into the select right after it.
            op_test(seed + 1, 8, 8, &[ty, ty], true, |b, v| {
                let c = b.cmp(op, v[0], v[1]);
                b.select(c, v[1], v[0])
            });
        }
    }
    // A condition read from the state: any byte, only bit 0 counts.
    for ty in INT_TYPES {
        op_test(2100 + ty.bits() as u64, 8, 8, &[Type::I1, ty, ty], true, |b, v| b.select(v[0], v[1], v[2]));
        op_test(2200 + ty.bits() as u64, 8, 8, &[Type::I8, ty, ty], false, |b, v| {
            let c = b.zext_or_trunc(Type::I1, v[0]);
            b.select(c, v[1], v[2])
        });
    }
}

#[test]
fn extensions_and_truncations() {
    let types = [Type::I1, Type::I8, Type::I16, Type::I32, Type::I64];
    for from in types {
        for to in types {
            if from.bits() < to.bits() && to != Type::I1 {
                op_test(3000 + from.bits() as u64 * 3 + to.bits() as u64, 6, 8, &[from], true, |b, v| {
                    b.push(to, archway_ir::Op::ZExt(v[0]))
                });
                op_test(3100 + from.bits() as u64 * 3 + to.bits() as u64, 6, 8, &[from], true, |b, v| {
                    b.push(to, archway_ir::Op::SExt(v[0]))
                });
            }
            if from.bits() > to.bits() {
                op_test(3200 + from.bits() as u64 * 3 + to.bits() as u64, 6, 8, &[from], true, |b, v| {
                    b.push(to, archway_ir::Op::Trunc(v[0]))
                });
            }
        }
    }
}

#[test]
fn flag_ops() {
    for ty in [Type::I32, Type::I64] {
        let seed = 4000 + ty.bits() as u64;
        op_test(seed, 12, 8, &[ty, ty, Type::I1], true, |b, v| b.add_flags(v[0], v[1], v[2]));
        op_test(seed + 1, 12, 8, &[ty, ty], true, |b, v| b.sub_flags(v[0], v[1]));
        op_test(seed + 2, 12, 8, &[ty], true, |b, v| b.logic_flags(v[0]));
    }
    for cond in 0..16u8 {
        // Packed flags as flag ops make them, and arbitrary 32-bit words.
        op_test(4100 + cond as u64, 6, 8, &[Type::I64, Type::I64], false, |b, v| {
            let nzcv = b.sub_flags(v[0], v[1]);
            b.cond_holds(cond, nzcv)
        });
        op_test(4200 + cond as u64, 6, 8, &[Type::I32], true, |b, v| b.cond_holds(cond, v[0]));
        op_test(4300 + cond as u64, 6, 8, &[Type::I32, Type::I64, Type::I64], true, |b, v| {
            let c = b.cond_holds(cond, v[0]);
            b.select(c, v[1], v[2])
        });
    }
}

/// A block that reads the buffer address, then runs `body` on it.
fn memory_test(seed: u64, rounds: usize, mut body: impl FnMut(&mut Rng, &mut BlockBuilder, Value, &mut State)) {
    let mut rng = Rng(seed);
    let mut mem = vec![0u64; MEM_WORDS];
    for features in feature_sets() {
        for _ in 0..rounds {
            let mut b = BlockBuilder::new(0x1000);
            b.begin_guest_insn(0x1000, 0);
            let mut init = State::new();
            init.regs[MEM_REG] = mem.as_mut_ptr() as u64;
            let base = b.get_state(Type::I64, reg(MEM_REG));
            body(&mut rng, &mut b, base, &mut init);
            let block = b.finish(Terminal::Syscall { next_pc: 0x1004 });
            archway_ir::verify::verify(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
            let mem_init: Vec<u64> = (0..MEM_WORDS).map(|_| rng.value(Type::I64)).collect();
            check(&single(block), &init, &mut mem, &mem_init, features);
        }
    }
}

/// `base + offset` as an I64 value (offset as an immediate or a register).
fn address(rng: &mut Rng, b: &mut BlockBuilder, base: Value, offset: u64) -> Value {
    let off = if rng.chance(2) {
        b.konst(Type::I64, offset)
    } else {
        let k = b.konst(Type::I64, offset);
        let zero = b.konst(Type::I64, 0);
        let sum = b.bin(BinOp::Add, k, zero);
        b.bin(BinOp::Or, sum, zero)
    };
    b.bin(BinOp::Add, base, off)
}

#[test]
fn loads_and_stores() {
    for ty in INT_TYPES {
        for order in [MemOrder::Plain, MemOrder::Acquire, MemOrder::Release, MemOrder::AcqRel] {
            memory_test(5000 + ty.bits() as u64, 6, |rng, b, base, init| {
                for n in 0..6 {
                    // Unaligned offsets too: plain accesses allow them.
                    let off = rng.below((MEM_WORDS * 8 - 8) as u64);
                    let a = address(rng, b, base, off);
                    let v = b.load(ty, a, order);
                    b.set_state(reg(OUT + n), v);
                    let off = rng.below((MEM_WORDS * 8 - 8) as u64);
                    let a = address(rng, b, base, off);
                    let value = if rng.chance(2) {
                        b.konst(ty, rng.value(ty))
                    } else {
                        init.regs[n] = rng.value(ty);
                        b.get_state(ty, reg(n))
                    };
                    b.store(a, value, order);
                }
            });
        }
    }
}

#[test]
fn atomics() {
    let ops = [
        RmwOp::Add,
        RmwOp::AndNot,
        RmwOp::Xor,
        RmwOp::Or,
        RmwOp::Smax,
        RmwOp::Smin,
        RmwOp::Umax,
        RmwOp::Umin,
        RmwOp::Swap,
    ];
    for (n, op) in ops.into_iter().enumerate() {
        for ty in INT_TYPES {
            memory_test(6000 + n as u64 * 5 + ty.bits() as u64, 8, |rng, b, base, init| {
                for k in 0..4 {
                    let off =
                        rng.below(MEM_WORDS as u64 - 1) * 8 + rng.below(8 / ty.bytes() as u64) * ty.bytes() as u64;
                    let a = address(rng, b, base, off);
                    init.regs[k] = rng.value(ty);
                    let v = if rng.chance(3) { b.konst(ty, init.regs[k]) } else { b.get_state(ty, reg(k)) };
                    let old = b.atomic_rmw(op, a, v, MemOrder::AcqRel);
                    b.set_state(reg(OUT + k), old);
                }
            });
            memory_test(6500 + n as u64 * 5 + ty.bits() as u64, 4, |rng, b, base, init| {
                let off = rng.below(MEM_WORDS as u64 - 1) * 8 + rng.below(8 / ty.bytes() as u64) * ty.bytes() as u64;
                let a = address(rng, b, base, off);
                let k = b.load(ty, a, MemOrder::Plain);
                // Expect the current value half the time, so the exchange happens.
                let expected = if rng.chance(2) {
                    k
                } else {
                    init.regs[0] = rng.value(ty);
                    b.get_state(ty, reg(0))
                };
                init.regs[1] = rng.value(ty);
                let new = b.get_state(ty, reg(1));
                let old = b.cmpxchg(a, expected, new, MemOrder::AcqRel);
                b.set_state(reg(OUT), old);
            });
        }
    }
}

#[test]
fn misaligned_atomics_raise_sigbus() {
    for ty in [Type::I16, Type::I32, Type::I64] {
        memory_test(7000 + ty.bits() as u64, 4, |rng, b, base, init| {
            init.regs[0] = 5;
            let one = b.get_state(ty, reg(0));
            b.set_state(reg(OUT), one);
            let a = address(rng, b, base, 17);
            if rng.chance(2) {
                b.atomic_rmw(RmwOp::Add, a, one, MemOrder::Plain);
            } else {
                b.cmpxchg(a, one, one, MemOrder::Plain);
            }
            b.set_state(reg(OUT + 1), one);
        });
    }
}

unsafe extern "C" fn mix(state: *mut u8, a0: u64, a1: u64, a2: u64, a3: u64) -> u64 {
    // SAFETY: blocks call this helper with the live test state.
    let st = unsafe { &mut *(state as *mut State) };
    st.regs[OUT + 100] = st.regs[OUT + 100].wrapping_add(1);
    a0.wrapping_mul(3) ^ a1.rotate_left(7) ^ a2.wrapping_sub(a3)
}

static MIX: Helper = Helper { name: "mix", func: mix, reads_state: true, writes_state: true };

#[test]
fn helper_calls() {
    // Arguments in every form, values live across calls (more than the callee-saved
    // registers), and a void call.
    memory_test(8000, 16, |rng, b, _, init| {
        let live: Vec<Value> = (0..8)
            .map(|k| {
                init.regs[k] = rng.value(Type::I64);
                b.get_state(Type::I64, reg(k))
            })
            .collect();
        let nargs = rng.below(5) as usize;
        let args: Vec<Value> = (0..nargs)
            .map(|k| if rng.chance(3) { b.konst(Type::I64, rng.value(Type::I64)) } else { live[(k * 3) % 8] })
            .collect();
        let r = b.call(&MIX, &args);
        b.call_void(&MIX, &args[..nargs.min(2)]);
        let r2 = b.call(&MIX, &[r, live[1], live[2], r]);
        b.set_state(reg(OUT), r);
        b.set_state(reg(OUT + 1), r2);
        for (k, &v) in live.iter().enumerate() {
            b.set_state(reg(OUT + 2 + k), v);
        }
    });
}

#[test]
fn fences() {
    for kind in [FenceKind::Full, FenceKind::Load, FenceKind::Store] {
        op_test(9000, 2, 2, &[Type::I64], false, |b, v| {
            b.fence(kind);
            v[0]
        });
    }
}

// ---------------------------------------------------------------------------------
// Control flow: terminals, linking, the indirect table, exit requests, invalidation.

/// `x[1]` counts down; `pc` loops while it is non-zero, adding to `x[2]`.
fn countdown_loop(pc: u64, exit_pc: u64) -> Block {
    let mut b = BlockBuilder::new(pc);
    let n = b.get_state(Type::I64, reg(1));
    let one = b.konst(Type::I64, 1);
    let n1 = b.bin(BinOp::Sub, n, one);
    b.set_state(reg(1), n1);
    let acc = b.get_state(Type::I64, reg(2));
    let acc1 = b.bin(BinOp::Add, acc, n);
    b.set_state(reg(2), acc1);
    let zero = b.konst(Type::I64, 0);
    let more = b.cmp(CmpOp::Ne, n1, zero);
    b.finish(Terminal::If { cond: more, then_pc: pc, else_pc: exit_pc })
}

fn syscall_block(pc: u64) -> Block {
    BlockBuilder::new(pc).finish(Terminal::Syscall { next_pc: pc + 4 })
}

#[test]
fn chained_loops_and_terminals() {
    let mut blocks = HashMap::new();
    // 0x1000 -> 0x1100 (loop) -> 0x1200 (two-block loop 0x1200 <-> 0x1300) -> 0x1400
    // (indirect via x[3]) -> 0x1500 (return via x[4]) -> 0x1600 syscall.
    blocks.insert(0x1000, BlockBuilder::new(0x1000).finish(Terminal::Link(0x1100)));
    blocks.insert(0x1100, countdown_loop(0x1100, 0x1200));
    let mut b = BlockBuilder::new(0x1200);
    let v = b.get_state(Type::I64, reg(5));
    let one = b.konst(Type::I64, 1);
    let v1 = b.bin(BinOp::Add, v, one);
    b.set_state(reg(5), v1);
    let limit = b.konst(Type::I64, 50);
    let done = b.cmp(CmpOp::Ult, limit, v1);
    blocks.insert(0x1200, b.finish(Terminal::If { cond: done, then_pc: 0x1400, else_pc: 0x1300 }));
    blocks.insert(0x1300, BlockBuilder::new(0x1300).finish(Terminal::Link(0x1200)));
    let mut b = BlockBuilder::new(0x1400);
    let t = b.get_state(Type::I64, reg(3));
    blocks.insert(0x1400, b.finish(Terminal::Indirect(t)));
    let mut b = BlockBuilder::new(0x1500);
    let t = b.get_state(Type::I64, reg(4));
    blocks.insert(0x1500, b.finish(Terminal::Return(t)));
    blocks.insert(0x1600, syscall_block(0x1600));
    let mut init = State::new();
    init.header.pc = 0x1000;
    init.regs[1] = 1000;
    init.regs[3] = 0x1500;
    init.regs[4] = 0x1600;
    let mut mem = vec![0; MEM_WORDS];
    for features in feature_sets() {
        check(&blocks, &init, &mut mem, &vec![0; MEM_WORDS], features);
    }
}

#[test]
fn indirect_branches_hit_the_table_after_the_first_lookup() {
    // A loop through an indirect jump: 0x1000 counts down and jumps to x[3] (0x2000),
    // which links back; the second time round the table must send it straight on.
    let mut blocks = HashMap::new();
    let mut b = BlockBuilder::new(0x1000);
    let n = b.get_state(Type::I64, reg(1));
    let one = b.konst(Type::I64, 1);
    let n1 = b.bin(BinOp::Sub, n, one);
    b.set_state(reg(1), n1);
    let zero = b.konst(Type::I64, 0);
    let done = b.cmp(CmpOp::Eq, n1, zero);
    let out = b.konst(Type::I64, 0x3000);
    let next = b.get_state(Type::I64, reg(3));
    let target = b.select(done, out, next);
    blocks.insert(0x1000, b.finish(Terminal::Indirect(target)));
    blocks.insert(0x2000, BlockBuilder::new(0x2000).finish(Terminal::Link(0x1000)));
    blocks.insert(0x3000, syscall_block(0x3000));
    let mut init = State::new();
    init.header.pc = 0x1000;
    init.regs[1] = 500;
    init.regs[3] = 0x2000;
    let mut mem = vec![0; MEM_WORDS];
    check(&blocks, &init, &mut mem, &vec![0; MEM_WORDS], HostFeatures::detect());
}

#[test]
fn traps_and_syscalls_report_their_pc() {
    let mut blocks = HashMap::new();
    blocks.insert(0x1000, BlockBuilder::new(0x1000).finish(Terminal::Link(0x1004)));
    blocks.insert(0x1004, BlockBuilder::new(0x1004).finish(Terminal::Trap { signal: 4, pc: 0x1004 }));
    let mut init = State::new();
    init.header.pc = 0x1000;
    let (mut engine, _) = jit(&blocks, HostFeatures::detect());
    let mut st = init.clone();
    // SAFETY: the state is a live State of the layout the test blocks use.
    let exit = unsafe { engine.run(&mut *st as *mut State as *mut u8) };
    assert_eq!(exit, Exit::Trap { signal: 4, pc: 0x1004 });
    assert_eq!(st.header.pc, 0x1004);

    blocks.insert(0x1004, syscall_block(0x1004));
    let (mut engine, _) = jit(&blocks, HostFeatures::detect());
    let mut st = init.clone();
    // SAFETY: the state is a live State of the layout the test blocks use.
    assert_eq!(unsafe { engine.run(&mut *st as *mut State as *mut u8) }, Exit::Syscall);
    assert_eq!(st.header.pc, 0x1008);
}

#[test]
fn exit_request_stops_a_chained_loop() {
    // An endless self-loop: only exit_request gets out.
    let mut blocks = HashMap::new();
    let mut b = BlockBuilder::new(0x1000);
    let n = b.get_state(Type::I64, reg(1));
    let one = b.konst(Type::I64, 1);
    let n1 = b.bin(BinOp::Add, n, one);
    b.set_state(reg(1), n1);
    blocks.insert(0x1000, b.finish(Terminal::Link(0x1000)));
    let (mut engine, _) = jit(&blocks, HostFeatures::detect());
    let mut st = State::new();
    st.header.pc = 0x1000;
    let state = &mut *st as *mut State as usize;
    let request = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let header = state as *mut StateHeader;
        // SAFETY: the state outlives the run; an aligned u32 store, read by the JIT
        // thread's plain loads (x86 stores become visible without a barrier).
        unsafe { core::ptr::addr_of_mut!((*header).exit_request).write_volatile(1) };
    });
    // SAFETY: the state is a live State of the layout the test blocks use.
    let exit = unsafe { engine.run(state as *mut u8) };
    request.join().unwrap();
    assert_eq!(exit, Exit::Interrupted);
    assert_eq!(st.header.pc, 0x1000);
    assert!(st.regs[1] > 0);
    // Entering with the request still set stops before running anything.
    let before = st.regs[1];
    // SAFETY: the state is a live State of the layout the test blocks use.
    assert_eq!(unsafe { engine.run(state as *mut u8) }, Exit::Interrupted);
    assert_eq!(st.regs[1], before);
}

#[test]
fn invalidation_retranslates() {
    let mut blocks = HashMap::new();
    let mut b = BlockBuilder::new(0x1000);
    b.begin_guest_insn(0x1000, 0);
    let k = b.konst(Type::I64, 1);
    b.set_state(reg(0), k);
    blocks.insert(0x1000, b.finish(Terminal::Link(0x1004)));
    blocks.insert(0x1004, syscall_block(0x1004));
    let (mut engine, frontend) = jit(&blocks, HostFeatures::detect());
    let mut st = State::new();
    st.header.pc = 0x1000;
    // SAFETY: the state is a live State of the layout the test blocks use.
    assert_eq!(unsafe { engine.run(&mut *st as *mut State as *mut u8) }, Exit::Syscall);
    assert_eq!(st.regs[0], 1);

    let mut b = BlockBuilder::new(0x1000);
    b.begin_guest_insn(0x1000, 0);
    let k = b.konst(Type::I64, 2);
    b.set_state(reg(0), k);
    frontend.0.lock().unwrap().insert(0x1000, b.finish(Terminal::Link(0x1004)));
    // Outside the block: the old translation stays.
    engine.invalidate(0x2000, 0x3000);
    st.header.pc = 0x1000;
    // SAFETY: the state is a live State of the layout the test blocks use.
    unsafe { engine.run(&mut *st as *mut State as *mut u8) };
    assert_eq!(st.regs[0], 1);
    // Overlapping it: retranslated.
    engine.invalidate(0x1000, 0x1004);
    st.header.pc = 0x1000;
    // SAFETY: the state is a live State of the layout the test blocks use.
    unsafe { engine.run(&mut *st as *mut State as *mut u8) };
    assert_eq!(st.regs[0], 2);
}

#[test]
fn a_full_code_region_is_flushed_and_refilled() {
    // Many distinct blocks through a small region: compiling must flush and go on.
    let mut blocks = HashMap::new();
    let count = 3000u64;
    for k in 0..count {
        let pc = 0x10_0000 + 4 * k;
        let mut b = BlockBuilder::new(pc);
        let v = b.get_state(Type::I64, reg(0));
        let one = b.konst(Type::I64, k);
        let s = b.bin(BinOp::Add, v, one);
        b.set_state(reg(0), s);
        let next = if k + 1 == count { 0x1000 } else { pc + 4 };
        blocks.insert(pc, b.finish(Terminal::Link(next)));
    }
    blocks.insert(0x1000, syscall_block(0x1000));
    let frontend = Arc::new(Blocks(Mutex::new(blocks)));
    let options = JitOptions { optimize: false, features: HostFeatures::detect(), code_bytes: 0 };
    let mut engine = JitEngine::<X64Backend>::new(frontend, options).unwrap();
    let mut st = State::new();
    st.header.pc = 0x10_0000;
    // SAFETY: the state is a live State of the layout the test blocks use.
    assert_eq!(unsafe { engine.run(&mut *st as *mut State as *mut u8) }, Exit::Syscall);
    assert_eq!(st.regs[0], count * (count - 1) / 2);
}

#[test]
fn a_block_beyond_the_spill_frame_runs_in_the_interpreter() {
    // More values live at once than the frame has slots for.
    let mut b = BlockBuilder::new(0x1000);
    let vals: Vec<Value> = (0..2200).map(|k| b.get_state(Type::I64, reg(k % 60))).collect();
    let mut acc = vals[vals.len() - 1];
    for &v in vals.iter().rev().skip(1) {
        acc = b.bin(BinOp::Xor, acc, v);
        acc = b.bin(BinOp::RotR, acc, v);
    }
    b.set_state(reg(OUT), acc);
    let blocks = single(b.finish(Terminal::Syscall { next_pc: 0x1004 }));
    let mut init = State::new();
    init.header.pc = 0x1000;
    let mut rng = Rng(77);
    for k in 0..60 {
        init.regs[k] = rng.next();
    }
    let mut mem = vec![0; MEM_WORDS];
    check(&blocks, &init, &mut mem, &vec![0; MEM_WORDS], HostFeatures::detect());
}

// ---------------------------------------------------------------------------------
// Random blocks.

/// Builds a random well-typed block over a pool of values.
struct RandomBlock<'a> {
    rng: &'a mut Rng,
    b: BlockBuilder,
    init: &'a mut State,
    pool: Vec<Value>,
    mem_base: Value,
    next_in: usize,
}

impl RandomBlock<'_> {
    fn of_type(&mut self, ty: Type) -> Value {
        let candidates: Vec<Value> = self.pool.iter().copied().filter(|&v| self.b.ty(v) == ty).collect();
        if candidates.is_empty() || self.rng.chance(6) {
            let v = self.rng.value(ty);
            if self.rng.chance(2) || self.next_in >= OUT - 2 {
                let c = self.b.konst(ty, v);
                self.pool.push(c);
                return c;
            }
            let k = self.next_in;
            self.next_in += 1;
            self.init.regs[k] = with_garbage(self.rng, ty, v);
            let x = self.b.get_state(ty, reg(k));
            self.pool.push(x);
            return x;
        }
        self.rng.pick(&candidates)
    }

    fn int_type(&mut self) -> Type {
        self.rng.pick(&INT_TYPES)
    }

    fn aligned_address(&mut self, ty: Type) -> Value {
        let off = self.rng.below(MEM_WORDS as u64) * 8;
        let k = self.b.konst(Type::I64, off + self.rng.below(8 / ty.bytes() as u64) * ty.bytes() as u64);
        self.b.bin(BinOp::Add, self.mem_base, k)
    }

    fn step(&mut self) {
        let v = match self.rng.below(17) {
            0..=3 => {
                let ty = self.int_type();
                let ops = [BinOp::ANY_WIDTH.as_slice(), BinOp::I64_ONLY.as_slice()].concat();
                let op = self.rng.pick(&ops);
                let ty = if BinOp::I64_ONLY.contains(&op) { Type::I64 } else { ty };
                let (a, b) = (self.of_type(ty), self.of_type(ty));
                self.b.bin(op, a, b)
            }
            4 | 5 => {
                let ty = self.int_type();
                let ops = [UnOp::Not, UnOp::Neg, UnOp::Clz, UnOp::Cls, UnOp::Rbit, UnOp::Bswap, UnOp::Popcnt];
                let op = self.rng.pick(&ops);
                let a = self.of_type(ty);
                self.b.un(op, a)
            }
            6 => {
                let ty = self.int_type();
                let ops = [CmpOp::Eq, CmpOp::Ne, CmpOp::Ult, CmpOp::Ule, CmpOp::Slt, CmpOp::Sle];
                let op = self.rng.pick(&ops);
                let (a, b) = (self.of_type(ty), self.of_type(ty));
                self.b.cmp(op, a, b)
            }
            7 => {
                let ty = self.rng.pick(&[Type::I1, Type::I8, Type::I16, Type::I32, Type::I64]);
                let c = self.of_type(Type::I1);
                let (a, b) = (self.of_type(ty), self.of_type(ty));
                self.b.select(c, a, b)
            }
            8 => {
                let from = self.rng.pick(&[Type::I1, Type::I8, Type::I16, Type::I32, Type::I64]);
                let to = self.rng.pick(&[Type::I1, Type::I8, Type::I16, Type::I32, Type::I64]);
                let a = self.of_type(from);
                if from.bits() == to.bits() {
                    return;
                }
                if self.rng.chance(2) || to == Type::I1 {
                    self.b.zext_or_trunc(to, a)
                } else {
                    self.b.sext_or_trunc(to, a)
                }
            }
            9 | 10 => {
                let ty = self.rng.pick(&[Type::I32, Type::I64]);
                let (a, b) = (self.of_type(ty), self.of_type(ty));
                match self.rng.below(3) {
                    0 => {
                        let c = self.of_type(Type::I1);
                        self.b.add_flags(a, b, c)
                    }
                    1 => self.b.sub_flags(a, b),
                    _ => self.b.logic_flags(a),
                }
            }
            11 => {
                let nzcv = self.of_type(Type::I32);
                let cond = self.rng.below(16) as u8;
                self.b.cond_holds(cond, nzcv)
            }
            12 => {
                let ty = self.int_type();
                let a = self.aligned_address(ty);
                self.b.load(ty, a, MemOrder::Plain)
            }
            13 => {
                let ty = self.int_type();
                let a = self.aligned_address(ty);
                let v = self.of_type(ty);
                let order = self.rng.pick(&[MemOrder::Plain, MemOrder::Release]);
                self.b.store(a, v, order);
                return;
            }
            14 => {
                let ty = self.int_type();
                let a = self.aligned_address(ty);
                let ops = [RmwOp::Add, RmwOp::AndNot, RmwOp::Xor, RmwOp::Smax, RmwOp::Umin, RmwOp::Swap];
                let op = self.rng.pick(&ops);
                let v = self.of_type(ty);
                self.b.atomic_rmw(op, a, v, MemOrder::AcqRel)
            }
            15 => {
                let n = self.rng.below(5) as usize;
                let args: Vec<Value> = (0..n).map(|_| self.of_type(Type::I64)).collect();
                self.b.call(&MIX, &args)
            }
            _ => {
                let ty = self.rng.pick(&[Type::I1, Type::I8, Type::I16, Type::I32, Type::I64]);
                let v = self.of_type(ty);
                let k = self.rng.below(OUT as u64) as usize;
                self.b.set_state(reg(k), v);
                return;
            }
        };
        self.pool.push(v);
    }
}

#[test]
fn random_blocks() {
    let seed = std::env::var("RANDOM_BLOCKS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234_abcd);
    let rounds = std::env::var("RANDOM_BLOCKS").ok().and_then(|s| s.parse().ok()).unwrap_or(400);
    let mut rng = Rng(seed);
    let mut mem = vec![0u64; MEM_WORDS];
    for round in 0..rounds {
        let features = feature_sets()[round % 2];
        let mut init = State::new();
        init.header.pc = 0x1000;
        init.regs[MEM_REG] = mem.as_mut_ptr() as u64;
        let mut b = BlockBuilder::new(0x1000);
        b.begin_guest_insn(0x1000, 0);
        let mem_base = b.get_state(Type::I64, reg(MEM_REG));
        let mut gen = RandomBlock { rng: &mut rng, b, init: &mut init, pool: Vec::new(), mem_base, next_in: 0 };
        let len = 5 + gen.rng.below(60);
        for _ in 0..len {
            gen.step();
        }
        // Make the results observable.
        let pool = gen.pool.clone();
        for (n, &v) in pool.iter().enumerate().take(REGS - OUT - 1) {
            if gen.b.ty(v) != Type::Void {
                gen.b.set_state(reg(OUT + 1 + n), v);
            }
        }
        let terminal = match gen.rng.below(4) {
            0 => Terminal::Syscall { next_pc: 0x1004 },
            1 => {
                let c = gen.of_type(Type::I1);
                Terminal::If { cond: c, then_pc: 0x2000, else_pc: 0x3000 }
            }
            2 => {
                let c = gen.of_type(Type::I1);
                let t = gen.b.konst(Type::I64, 0x2000);
                let e = gen.b.konst(Type::I64, 0x3000);
                let target = gen.b.select(c, t, e);
                Terminal::Indirect(target)
            }
            _ => Terminal::Trap { signal: 4, pc: 0x1000 },
        };
        let block = gen.b.finish(terminal);
        archway_ir::verify::verify(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        let mut blocks = single(block);
        blocks.insert(0x2000, syscall_block(0x2000));
        blocks.insert(0x3000, syscall_block(0x3000));
        let mem_init: Vec<u64> = (0..MEM_WORDS).map(|_| rng.value(Type::I64)).collect();
        check(&blocks, &init, &mut mem, &mem_init, features);
    }
}
