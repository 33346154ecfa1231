//! The exclusive monitor behind `LDXR`/`STXR` and friends.
//!
//! Model: **value-based**, one monitor per guest thread, kept in [`CpuState`]
//! (`excl_addr`, `excl_value`, `excl_size`). A load-exclusive records the address, the
//! size and the value(s) it read. A store-exclusive succeeds (status 0) exactly when
//! its address and size equal the record and a host compare-and-swap from the recorded
//! value(s) to the new value(s) succeeds; the record is cleared either way (status 1 on
//! failure). This is how QEMU's user mode does it too.
//!
//! What the model gives up against the address-based monitor of the hardware:
//! - **ABA**: another thread may change the location and change it back (or store the
//!   value it already held) between the load- and store-exclusive; hardware fails the
//!   store-exclusive, here it succeeds. Compiler-generated LL/SC loops (atomic RMW and
//!   compare-and-swap) only depend on the value and are unaffected; an algorithm that
//!   relies on LL/SC to notice *any* intervening write (e.g. an ABA-immune lock-free
//!   stack) loses that guarantee.
//! - **Granule**: the reservation covers exactly the bytes loaded, not a 64-byte
//!   reservation granule, and a store-exclusive of another size or address fails
//!   (both permitted outcomes on hardware).
//! - **Alignment**: a misaligned exclusive access is an alignment fault on hardware;
//!   here the store-exclusive fails without storing, and a misaligned 128-bit
//!   load-exclusive reads its two halves separately.
//! - The 128-bit load-exclusive uses `CMPXCHG16B` to read atomically, which needs a
//!   writable page (the pair is about to be stored anyway).
//!
//! Anything that clears the monitor on hardware (`CLREX`, taking a signal) must set
//! `excl_addr` to [`NO_EXCLUSIVE`]; those live with the system instructions and the
//! signal code.

use super::host_cas::{compare_exchange, compare_exchange_128};
use crate::state::{off, CpuState, NO_EXCLUSIVE};
use crate::translate::Ctx;
use archway_ir::{Helper, Value};

/// Store-exclusive status for success.
const STORED: u64 = 0;
/// Store-exclusive status for failure.
const NOT_STORED: u64 = 1;

/// Emit the IR that records a load-exclusive of `bytes` bytes at `addr` that read
/// `value` (I64; a 32-bit pair is recorded as one 8-byte value).
pub(super) fn reserve(ctx: &mut Ctx, addr: Value, value: Value, bytes: u32) {
    let size = ctx.k64(bytes.into());
    ctx.b.set_state(off::EXCL_ADDR, addr);
    ctx.b.set_state(off::EXCL_VALUE, value);
    ctx.b.set_state(off::EXCL_SIZE, size);
}

/// `store_exclusive(addr, value_lo, value_hi, size) -> status`: the store half of the
/// monitor. `size` is 1, 2, 4 or 8 (the value in `value_lo`) or 16 (an X pair).
pub(super) static STORE_EXCLUSIVE: Helper =
    Helper { name: "store_exclusive", func: store_exclusive, reads_state: true, writes_state: true };

/// `load_exclusive_pair(addr)`: a 128-bit load-exclusive (`LDXP`/`LDAXP` of X
/// registers); the two halves are left in `excl_value` for the IR to read.
pub(super) static LOAD_EXCLUSIVE_PAIR: Helper =
    Helper { name: "load_exclusive_pair", func: load_exclusive_pair, reads_state: true, writes_state: true };

unsafe extern "C" fn store_exclusive(state: *mut u8, addr: u64, value_lo: u64, value_hi: u64, size: u64) -> u64 {
    // SAFETY: the engines pass the running thread's CpuState.
    let cpu = unsafe { CpuState::from_ptr(state) };
    let reserved = cpu.excl_addr == addr && cpu.excl_size == size;
    cpu.excl_addr = NO_EXCLUSIVE;
    let aligned = size.is_power_of_two() && addr & (size - 1) == 0;
    if !(reserved && aligned) {
        return NOT_STORED;
    }
    let [expected_lo, expected_hi] = cpu.excl_value;
    // SAFETY: guest memory is host memory; the address is aligned to the size. A bad
    // address faults like the guest's own store would.
    let stored = unsafe {
        if size == 16 {
            let expected = u128::from(expected_lo) | (u128::from(expected_hi) << 64);
            let new = u128::from(value_lo) | (u128::from(value_hi) << 64);
            compare_exchange_128(addr, expected, new) == expected
        } else {
            compare_exchange(addr, size, expected_lo, value_lo)
        }
    };
    if stored {
        STORED
    } else {
        NOT_STORED
    }
}

unsafe extern "C" fn load_exclusive_pair(state: *mut u8, addr: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: guest memory is host memory; a bad address faults like the guest's load.
    let value = unsafe {
        if addr & 15 == 0 {
            compare_exchange_128(addr, 0, 0)
        } else {
            core::ptr::read_unaligned(addr as *const u128)
        }
    };
    // SAFETY: the engines pass the running thread's CpuState.
    let cpu = unsafe { CpuState::from_ptr(state) };
    cpu.excl_addr = addr;
    cpu.excl_value = [value as u64, (value >> 64) as u64];
    cpu.excl_size = 16;
    0
}
