//! Vector ops: every [`VecOp`] at every lane size and width it is defined for, with
//! random lanes biased towards boundaries, every valid lane and byte index and the
//! shift amounts around the lane width, destinations that alias sources; and vector ops
//! that call out (on hosts without SSE4) between many live values.

use super::*;
use archway_ir::{Op, VecInst, VecOp};

/// 16-byte state field `k` (registers `2k`, `2k + 1`).
fn field(k: usize) -> u32 {
    reg(2 * k)
}

/// Input fields are 0..IN_FIELDS; outputs start at field OUT / 2.
const IN_FIELDS: usize = 6;

/// A register value of `esize`-bit lanes, each a boundary value half the time.
fn lanes(rng: &mut Rng, esize: u8) -> u128 {
    let ty = Type::from_bytes(u32::from(esize / 8)).unwrap_or(Type::I64);
    let e = u32::from(esize);
    (0..128 / e).fold(0, |v, i| v | u128::from(rng.value(ty)) << (e * i))
}

fn set_field(init: &mut State, k: usize, value: u128) {
    init.regs[2 * k] = value as u64;
    init.regs[2 * k + 1] = (value >> 64) as u64;
}

/// The immediates worth testing for `proto`: every valid one of lane and byte
/// indices, the shift amounts at the ends of the range and a few between.
fn immediates(rng: &mut Rng, proto: VecInst) -> Vec<u32> {
    let e = u32::from(proto.esize);
    let mut candidates: Vec<u32> = if proto.op.has_imm() { (0..=16).collect() } else { vec![0] };
    candidates.extend([e / 2 - 1, e / 2 + 1, e - 1, e, e + 1, rng.below(u64::from(e)) as u32]);
    candidates.sort_unstable();
    candidates.dedup();
    candidates.retain(|&imm| VecInst { imm, ..proto }.check().is_ok());
    candidates
}

#[test]
fn every_vector_op_at_every_arrangement() {
    let mut rng = Rng(0x5ec7_0a11_0fe5);
    let mut mem = vec![0u64; MEM_WORDS];
    let mut tested = 0;
    for op in VecOp::ALL {
        for esize in [8, 16, 32, 64] {
            for full in [false, true] {
                let b_field = if op.reads_b() { field(1) } else { 0 };
                let proto = VecInst { op, esize, full, dst: field(OUT / 2), a: field(0), b: b_field, imm: 0 };
                let imms = immediates(&mut rng, proto);
                if imms.is_empty() {
                    continue;
                }
                tested += 1;
                for features in feature_sets() {
                    for _ in 0..4 {
                        let mut init = State::new();
                        for k in (0..IN_FIELDS).chain(OUT / 2..OUT / 2 + imms.len()) {
                            set_field(&mut init, k, lanes(&mut rng, esize));
                        }
                        let mut b = BlockBuilder::new(0x1000);
                        for (n, &imm) in imms.iter().enumerate() {
                            let pick = |rng: &mut Rng| field(rng.below(IN_FIELDS as u64) as usize);
                            let a = pick(&mut rng);
                            let src_b = if op.reads_b() { pick(&mut rng) } else { 0 };
                            // Now and then the destination is a source (later ops see it changed).
                            let dst = if rng.chance(4) { a } else { field(OUT / 2 + n) };
                            b.push(Type::Void, Op::Vec(VecInst { dst, a, b: src_b, imm, ..proto }));
                        }
                        let block = b.finish(Terminal::Syscall { next_pc: 0x1004 });
                        archway_ir::verify::verify(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
                        check(&single(block), &init, &mut mem, &vec![0; MEM_WORDS], features);
                    }
                }
            }
        }
    }
    assert!(tested > 250, "only {tested} arrangements");
}

#[test]
fn vector_ops_between_live_values() {
    // Ops with SSE code on every host and ops that need SSE4 (calls without it),
    // with more values live across them than there are callee-saved registers.
    let vec_ops = [
        VecInst { op: VecOp::Mul, esize: 32, full: true, dst: field(40), a: field(0), b: field(1), imm: 0 },
        VecInst { op: VecOp::Add, esize: 8, full: false, dst: field(41), a: field(1), b: field(2), imm: 0 },
        VecInst { op: VecOp::CmGt, esize: 64, full: true, dst: field(2), a: field(0), b: field(2), imm: 0 },
        VecInst { op: VecOp::UShll, esize: 16, full: true, dst: field(42), a: field(2), b: 0, imm: 3 },
    ];
    let mut rng = Rng(0x11fe);
    let mut mem = vec![0u64; MEM_WORDS];
    for features in feature_sets() {
        for _ in 0..20 {
            let mut init = State::new();
            for k in 0..IN_FIELDS {
                set_field(&mut init, k, lanes(&mut rng, 32));
            }
            let mut b = BlockBuilder::new(0x1000);
            let live: Vec<Value> = (0..14).map(|k| b.get_state(Type::I64, reg(16 + k))).collect();
            for k in 0..14 {
                init.regs[16 + k] = rng.value(Type::I64);
            }
            for (n, v) in vec_ops.iter().enumerate() {
                b.push(Type::Void, Op::Vec(*v));
                let x = b.bin(BinOp::Add, live[n], live[13 - n]);
                b.set_state(reg(OUT + n), x);
            }
            for (n, &v) in live.iter().enumerate() {
                b.set_state(reg(OUT + 8 + n), v);
            }
            let block = b.finish(Terminal::Syscall { next_pc: 0x1004 });
            check(&single(block), &init, &mut mem, &vec![0; MEM_WORDS], features);
        }
    }
}
