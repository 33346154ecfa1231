//! Load-acquire and store-release of one general register at `[Xn|SP]`: `LDAR*`,
//! `STLR*`, the LORegion forms `LDLAR*`/`STLLR*` (given the stronger `LDAR`/`STLR`
//! ordering: every address is in one region here), and the RCpc `LDAPR*`.

use super::access::{transfer, Access, Extend};
use super::address::{base_plus_imm, Index};
use super::{mem_type, RCSC_ACQUIRE};
use crate::decode::{inst, Entry, Fields};
use crate::translate::{Ctx, Flow};
use archway_ir::MemOrder;

pub(super) const TABLE: &[Entry] = &[
    inst("STLR_STLLR", "zz001000100sssssRaaaaannnnnttttt", store_release),
    // Rs must read 11111 here (binutils rejects other values; the Arm ARM makes them
    // CONSTRAINED UNPREDICTABLE, of which UNDEFINED is one choice).
    inst("LDAR_LDLAR", "zz00100011011111Aaaaaannnnnttttt", load_acquire),
    inst("LDAPR", "zz11100010111111110000nnnnnttttt", load_acquire_pc),
];

/// One ordered access of Rt at `[Xn|SP]`.
fn ordered(ctx: &mut Ctx, f: Fields, access: Access, order: MemOrder) -> Flow {
    let address = base_plus_imm(ctx, f.reg('n'), 0, Index::Offset);
    let loaded = transfer(ctx, access, f.reg('t'), address.addr, order);
    address.finish(ctx, [loaded]);
    Flow::Continue
}

/// `STLR`, `STLRB`, `STLRH`, `STLLR*`
fn store_release(ctx: &mut Ctx, f: Fields) -> Flow {
    ordered(ctx, f, Access::StoreGpr { mem: mem_type(f.get('z')) }, MemOrder::Release)
}

/// `LDAR`, `LDARB`, `LDARH`, `LDLAR*`: RCsc, ordered after earlier store-releases.
fn load_acquire(ctx: &mut Ctx, f: Fields) -> Flow {
    ordered(ctx, f, Access::LoadGpr { mem: mem_type(f.get('z')), extend: Extend::Zero }, RCSC_ACQUIRE)
}

/// `LDAPR`, `LDAPRB`, `LDAPRH`: RCpc, may pass earlier store-releases.
fn load_acquire_pc(ctx: &mut Ctx, f: Fields) -> Flow {
    ordered(ctx, f, Access::LoadGpr { mem: mem_type(f.get('z')), extend: Extend::Zero }, MemOrder::Acquire)
}
