//! Exclusive loads and stores: `LDXR`/`LDAXR` and `STXR`/`STLXR` of B, H, W and X,
//! and the pairs `LDXP`/`LDAXP`, `STXP`/`STLXP` of W and X registers. The monitor
//! model and what it gives up are described in [`super::monitor`].
//!
//! Constrained-unpredictable choices: a store-exclusive whose status register Ws is
//! also Rt, Rt2 or Rn stores the registers' old values and then writes the status; a
//! load pair with Rt == Rt2 leaves the second value.
//!
//! Ordering: store-exclusives are host compare-and-swaps, sequentially consistent, so
//! the release of `STLXR`/`STLXP` comes for free. `LDAXR` is an RCsc acquire load; the
//! 128-bit `LDAXP` reads with a locked instruction, a full barrier.

use super::monitor::{reserve, LOAD_EXCLUSIVE_PAIR, STORE_EXCLUSIVE};
use super::{mem_type, RCSC_ACQUIRE};
use crate::decode::{inst, Entry, Fields};
use crate::state::off;
use crate::translate::{Ctx, Flow};
use archway_ir::{BinOp, MemOrder, Type};

pub(super) const TABLE: &[Entry] = &[
    inst("STXR_STLXR", "zz001000000sssssRaaaaannnnnttttt", store_exclusive),
    inst("LDXR_LDAXR", "zz001000010sssssAaaaaannnnnttttt", load_exclusive),
    inst("STXP_STLXP", "1z001000001sssssRaaaaannnnnttttt", store_exclusive_pair),
    inst("LDXP_LDAXP", "1z001000011sssssAaaaaannnnnttttt", load_exclusive_pair),
];

/// The load ordering of a load-exclusive: `LDAXR`/`LDAXP` have o0 (field `A`) set.
fn load_order(acquire: bool) -> MemOrder {
    if acquire {
        RCSC_ACQUIRE
    } else {
        MemOrder::Plain
    }
}

/// `LDXR`/`LDAXR` `Rt, [Xn|SP]`
fn load_exclusive(ctx: &mut Ctx, f: Fields) -> Flow {
    let ty = mem_type(f.get('z'));
    let addr = ctx.x_or_sp(f.reg('n'));
    let raw = ctx.b.load(ty, addr, load_order(f.bit('A')));
    let value = ctx.b.zext_or_trunc(Type::I64, raw);
    reserve(ctx, addr, value, ty.bytes());
    ctx.set_x(f.reg('t'), value);
    Flow::Continue
}

/// `LDXP`/`LDAXP` `Rt, Rt2, [Xn|SP]`: W pairs as one 8-byte access, X pairs through
/// [`LOAD_EXCLUSIVE_PAIR`] (16 bytes, single-copy atomic when aligned).
fn load_exclusive_pair(ctx: &mut Ctx, f: Fields) -> Flow {
    let addr = ctx.x_or_sp(f.reg('n'));
    if f.bit('z') {
        ctx.b.call_void(&LOAD_EXCLUSIVE_PAIR, &[addr]);
        let first = ctx.b.get_state(Type::I64, off::EXCL_VALUE);
        let second = ctx.b.get_state(Type::I64, off::EXCL_VALUE + 8);
        ctx.set_x(f.reg('t'), first);
        ctx.set_x(f.reg('a'), second);
    } else {
        let both = ctx.b.load(Type::I64, addr, load_order(f.bit('A')));
        reserve(ctx, addr, both, 8);
        let first = ctx.b.zext_or_trunc(Type::I32, both);
        let thirty_two = ctx.k64(32);
        let high = ctx.b.bin(BinOp::LShr, both, thirty_two);
        ctx.set_x(f.reg('t'), first);
        ctx.set_x(f.reg('a'), high);
    }
    Flow::Continue
}

/// `STXR`/`STLXR` `Ws, Rt, [Xn|SP]`
fn store_exclusive(ctx: &mut Ctx, f: Fields) -> Flow {
    let addr = ctx.x_or_sp(f.reg('n'));
    let value = ctx.x(f.reg('t'));
    let unused_high = ctx.k64(0);
    let size = ctx.k64(mem_type(f.get('z')).bytes().into());
    let status = ctx.b.call(&STORE_EXCLUSIVE, &[addr, value, unused_high, size]);
    ctx.set_x(f.reg('s'), status);
    Flow::Continue
}

/// `STXP`/`STLXP` `Ws, Rt, Rt2, [Xn|SP]`: W pairs as one 8-byte value (Rt at the lower
/// address), X pairs as 16 bytes.
fn store_exclusive_pair(ctx: &mut Ctx, f: Fields) -> Flow {
    let addr = ctx.x_or_sp(f.reg('n'));
    let (lo, hi, size) = if f.bit('z') {
        (ctx.x(f.reg('t')), ctx.x(f.reg('a')), 16)
    } else {
        let first = ctx.w(f.reg('t'));
        let first = ctx.b.zext_or_trunc(Type::I64, first);
        let second = ctx.x(f.reg('a'));
        let thirty_two = ctx.k64(32);
        let second = ctx.b.bin(BinOp::Shl, second, thirty_two);
        let both = ctx.b.bin(BinOp::Or, first, second);
        (both, ctx.k64(0), 8)
    };
    let size = ctx.k64(size);
    let status = ctx.b.call(&STORE_EXCLUSIVE, &[addr, lo, hi, size]);
    ctx.set_x(f.reg('s'), status);
    Flow::Continue
}
