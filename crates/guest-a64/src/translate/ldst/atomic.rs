//! LSE atomics: `LDADD`, `LDCLR`, `LDEOR`, `LDSET`, `LDSMAX`, `LDSMIN`, `LDUMAX`,
//! `LDUMIN`, `SWP` (IR `AtomicRmw`), `CAS` (IR `CmpXchg`) and `CASP`, in every size
//! and with every acquire/release suffix. The `ST<op>` aliases are the `LD<op>` forms
//! with Rt = XZR, so they come for free (the old value is read and discarded).
//!
//! The A (acquire) and L/R (release) bits map to [`MemOrder::Acquire`],
//! [`MemOrder::Release`] and, together, [`MemOrder::AcqRel`].

use super::host_cas::compare_exchange_128;
use super::mem_type;
use crate::decode::{inst, Entry, Fields};
use crate::state::CpuState;
use crate::translate::{Ctx, Flow};
use archway_ir::{BinOp, Helper, MemOrder, RmwOp, Type, Value};

pub(super) const TABLE: &[Entry] = &[
    inst("LDop", "zz111000AR1sssss0ooo00nnnnnttttt", load_op),
    inst("SWP", "zz111000AR1sssss100000nnnnnttttt", swap),
    inst("CAS", "zz0010001A1sssssR11111nnnnnttttt", compare_and_swap),
    inst("CASP", "0z0010000A1sssssR11111nnnnnttttt", compare_and_swap_pair),
];

/// The ordering the row's acquire (`A`) and release (`R`) bits give.
fn order(f: Fields) -> MemOrder {
    match (f.bit('A'), f.bit('R')) {
        (false, false) => MemOrder::Plain,
        (true, false) => MemOrder::Acquire,
        (false, true) => MemOrder::Release,
        (true, true) => MemOrder::AcqRel,
    }
}

/// `op` with value Rs at `[Xn|SP]`; Rt receives the old value.
fn rmw(ctx: &mut Ctx, f: Fields, op: RmwOp) -> Flow {
    let ty = mem_type(f.get('z'));
    let addr = ctx.x_or_sp(f.reg('n'));
    let rs = ctx.x(f.reg('s'));
    let value = ctx.b.zext_or_trunc(ty, rs);
    let old = ctx.b.atomic_rmw(op, addr, value, order(f));
    ctx.set_x(f.reg('t'), old);
    Flow::Continue
}

/// `LD<op>{A}{L}{B,H}` by opc (field `o`).
fn load_op(ctx: &mut Ctx, f: Fields) -> Flow {
    const OPS: [RmwOp; 8] =
        [RmwOp::Add, RmwOp::AndNot, RmwOp::Xor, RmwOp::Or, RmwOp::Smax, RmwOp::Smin, RmwOp::Umax, RmwOp::Umin];
    rmw(ctx, f, OPS[f.get('o') as usize])
}

/// `SWP{A}{L}{B,H}`
fn swap(ctx: &mut Ctx, f: Fields) -> Flow {
    rmw(ctx, f, RmwOp::Swap)
}

/// `CAS{A}{L}{B,H}` `Rs, Rt, [Xn|SP]`: Rs receives the old value.
fn compare_and_swap(ctx: &mut Ctx, f: Fields) -> Flow {
    let ty = mem_type(f.get('z'));
    let addr = ctx.x_or_sp(f.reg('n'));
    let rs = ctx.x(f.reg('s'));
    let expected = ctx.b.zext_or_trunc(ty, rs);
    let rt = ctx.x(f.reg('t'));
    let new = ctx.b.zext_or_trunc(ty, rt);
    let old = ctx.b.cmpxchg(addr, expected, new, order(f));
    ctx.set_x(f.reg('s'), old);
    Flow::Continue
}

/// `CASP{A}{L}` `Rs, Rs+1, Rt, Rt+1, [Xn|SP]` (Rs and Rt even): W pairs as one 8-byte
/// `CmpXchg` (Rs/Rt at the lower address), X pairs through [`COMPARE_AND_SWAP_PAIR`].
fn compare_and_swap_pair(ctx: &mut Ctx, f: Fields) -> Flow {
    let (rs, rt) = (f.reg('s'), f.reg('t'));
    if rs % 2 == 1 || rt % 2 == 1 {
        return Flow::Undefined;
    }
    let addr = ctx.x_or_sp(f.reg('n'));
    if f.bit('z') {
        let rs = ctx.k64(rs.into());
        let rt = ctx.k64(rt.into());
        ctx.b.call_void(&COMPARE_AND_SWAP_PAIR, &[addr, rs, rt]);
        return Flow::Continue;
    }
    let expected = w_pair(ctx, rs);
    let new = w_pair(ctx, rt);
    let old = ctx.b.cmpxchg(addr, expected, new, order(f));
    let first = ctx.b.zext_or_trunc(Type::I32, old);
    let thirty_two = ctx.k64(32);
    let second = ctx.b.bin(BinOp::LShr, old, thirty_two);
    ctx.set_x(rs, first);
    ctx.set_x(rs + 1, second);
    Flow::Continue
}

/// W`n` and W`n+1` as one I64, W`n` in the low half.
fn w_pair(ctx: &mut Ctx, n: u32) -> Value {
    let first = ctx.w(n);
    let first = ctx.b.zext_or_trunc(Type::I64, first);
    let second = ctx.x(n + 1);
    let thirty_two = ctx.k64(32);
    let second = ctx.b.bin(BinOp::Shl, second, thirty_two);
    ctx.b.bin(BinOp::Or, first, second)
}

/// `compare_and_swap_pair(addr, rs, rt)`: `CASP` of X registers, reading and writing
/// X`rs`, X`rs+1`, X`rt`, X`rt+1` in the state. Sequentially consistent whatever the
/// suffix. A misaligned address (an alignment fault on hardware) is compared and
/// swapped without atomicity.
static COMPARE_AND_SWAP_PAIR: Helper =
    Helper { name: "compare_and_swap_pair", func: compare_and_swap_pair_x, reads_state: true, writes_state: true };

unsafe extern "C" fn compare_and_swap_pair_x(state: *mut u8, addr: u64, rs: u64, rt: u64, _: u64) -> u64 {
    // SAFETY: the engines pass the running thread's CpuState.
    let cpu = unsafe { CpuState::from_ptr(state) };
    let reg = |cpu: &CpuState, n: u64| cpu.x.get(n as usize).copied().unwrap_or(0);
    let pair = |cpu: &CpuState, n: u64| u128::from(reg(cpu, n)) | (u128::from(reg(cpu, n + 1)) << 64);
    let expected = pair(cpu, rs);
    let new = pair(cpu, rt);
    // SAFETY: guest memory is host memory; a bad address faults like the guest's access.
    let old = unsafe {
        if addr & 15 == 0 {
            compare_exchange_128(addr, expected, new)
        } else {
            let p = addr as *mut u128;
            let old = p.read_unaligned();
            if old == expected {
                p.write_unaligned(new);
            }
            old
        }
    };
    for (n, half) in [(rs, old as u64), (rs + 1, (old >> 64) as u64)] {
        if let Some(x) = cpu.x.get_mut(n as usize) {
            *x = half;
        }
    }
    0
}
