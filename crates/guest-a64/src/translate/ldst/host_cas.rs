//! Compare-and-swap on host memory for the helpers behind store-exclusive, the
//! 128-bit load-exclusive and `CASP`: the IR has no conditional store and no 128-bit
//! values, so these run out of line. Every operation here is sequentially consistent
//! (x86_64: `LOCK CMPXCHG`/`LOCK CMPXCHG16B`, which are full barriers).

use core::sync::atomic::Ordering::SeqCst;
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8};

/// Atomically replace the `bytes`-byte value at `addr` (1, 2, 4 or 8 bytes, aligned)
/// with the low bits of `new` if it equals the low bits of `expected`; true when it did.
///
/// # Safety
/// `addr` must be valid for atomic access of `bytes` bytes and aligned to `bytes`.
pub(super) unsafe fn compare_exchange(addr: u64, bytes: u64, expected: u64, new: u64) -> bool {
    // SAFETY: the caller guarantees an aligned address valid for this size.
    unsafe {
        match bytes {
            1 => {
                AtomicU8::from_ptr(addr as *mut u8).compare_exchange(expected as u8, new as u8, SeqCst, SeqCst).is_ok()
            }
            2 => AtomicU16::from_ptr(addr as *mut u16)
                .compare_exchange(expected as u16, new as u16, SeqCst, SeqCst)
                .is_ok(),
            4 => AtomicU32::from_ptr(addr as *mut u32)
                .compare_exchange(expected as u32, new as u32, SeqCst, SeqCst)
                .is_ok(),
            8 => AtomicU64::from_ptr(addr as *mut u64).compare_exchange(expected, new, SeqCst, SeqCst).is_ok(),
            _ => false,
        }
    }
}

/// Atomically replace the 16 bytes at `addr` with `new` if they equal `expected`;
/// returns the value found (equal to `expected` exactly when the swap happened).
/// With `expected == new` this is a single-copy-atomic 128-bit read, though the host
/// still performs a write cycle (the page must be writable).
///
/// # Safety
/// `addr` must be valid for reads and writes of 16 bytes and aligned to 16.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn compare_exchange_128(addr: u64, expected: u128, new: u128) -> u128 {
    // SAFETY: the caller guarantees a 16-byte aligned address valid for reads and writes.
    unsafe {
        let mut lo = expected as u64;
        let mut hi = (expected >> 64) as u64;
        // RBX is reserved by LLVM, so the new low half goes in through another register
        // and is swapped into RBX around the instruction.
        core::arch::asm!(
            "xchg {new_lo}, rbx",
            "lock cmpxchg16b xmmword ptr [{addr}]",
            "mov rbx, {new_lo}",
            addr = in(reg) addr,
            new_lo = inout(reg) new as u64 => _,
            in("rcx") (new >> 64) as u64,
            inout("rax") lo,
            inout("rdx") hi,
            options(nostack),
        );
        u128::from(lo) | (u128::from(hi) << 64)
    }
}

/// See the x86_64 version. An exclusive pair loop: the store of the old value back on
/// a mismatch makes the read single-copy atomic.
///
/// # Safety
/// `addr` must be valid for reads and writes of 16 bytes and aligned to 16.
#[cfg(target_arch = "aarch64")]
pub(super) unsafe fn compare_exchange_128(addr: u64, expected: u128, new: u128) -> u128 {
    // SAFETY: the caller guarantees a 16-byte aligned address valid for reads and writes.
    unsafe {
        let lo: u64;
        let hi: u64;
        core::arch::asm!(
            "2:",
            "ldaxp {lo}, {hi}, [{addr}]",
            "cmp {lo}, {expected_lo}",
            "ccmp {hi}, {expected_hi}, #0, eq",
            "b.ne 3f",
            "stlxp {status:w}, {new_lo}, {new_hi}, [{addr}]",
            "cbnz {status:w}, 2b",
            "b 4f",
            "3:",
            "stlxp {status:w}, {lo}, {hi}, [{addr}]",
            "cbnz {status:w}, 2b",
            "4:",
            addr = in(reg) addr,
            expected_lo = in(reg) expected as u64,
            expected_hi = in(reg) (expected >> 64) as u64,
            new_lo = in(reg) new as u64,
            new_hi = in(reg) (new >> 64) as u64,
            lo = out(reg) lo,
            hi = out(reg) hi,
            status = out(reg) _,
            options(nostack),
        );
        u128::from(lo) | (u128::from(hi) << 64)
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("archway-guest-a64 needs a 128-bit compare-and-swap for this host architecture");
