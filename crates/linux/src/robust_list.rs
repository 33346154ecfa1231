//! The robust futex list of a guest thread that ends.
//!
//! glibc registers each thread's list of held robust mutexes with
//! `set_robust_list`; when a thread dies, the kernel marks every futex on it that the
//! thread still owns `FUTEX_OWNER_DIED` and wakes one waiter. The guest's
//! registration is passed to the host, so the kernel does this when the whole
//! process dies. But a guest thread that ends with `exit` is not the end of its host
//! thread: by the time the host thread exits, the guest may already have freed the
//! memory the list lives in (its stack and TLS). So [`release`] walks the list as
//! the kernel would (`exit_robust_list` in `kernel/futex/core.c`), at the guest
//! thread's end, and then unregisters it from the host.
//!
//! The layout is the same on arm64 and x86_64: `struct robust_list_head { next,
//! futex_offset (long), list_op_pending }`, each entry starting with its `next`
//! pointer; bit 0 of a pointer marks a PI futex. PI futexes are marked like the
//! others but not woken here: their waiters belong to the host kernel's PI state of
//! the host thread, which it hands over when that thread exits.

use crate::guest_memory;
use crate::syscall::host_syscall;
use std::sync::atomic::{AtomicU32, Ordering};

/// `sizeof(struct robust_list_head)`.
pub const HEAD_BYTES: u64 = 24;
/// The kernel's bound on the entries it walks (`ROBUST_LIST_LIMIT`).
const LIMIT: usize = 2048;
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// Release the robust futexes thread `tid` still holds on the list at `head`, and
/// unregister the list from the host thread (a null head: the kernel then skips it).
pub fn release(head: u64, tid: i32) {
    walk(head, tid);
    host_syscall(libc::SYS_set_robust_list, &[0, HEAD_BYTES, 0, 0, 0, 0]);
}

/// Mark and wake the futexes of the list at `head` owned by `tid`.
fn walk(head: u64, tid: i32) {
    let (Ok(first), Ok(offset), Ok(pending)) =
        (guest_memory::read_u64(head), guest_memory::read_u64(head + 8), guest_memory::read_u64(head + 16))
    else {
        return;
    };
    let mut entry = first;
    for _ in 0..LIMIT {
        if entry & !1 == head {
            break;
        }
        let Ok(next) = guest_memory::read_u64(entry & !1) else {
            return;
        };
        if entry & !1 != pending & !1 {
            futex_death((entry & !1).wrapping_add(offset), tid, entry & 1 != 0);
        }
        entry = next;
    }
    if pending & !1 != 0 {
        futex_death((pending & !1).wrapping_add(offset), tid, pending & 1 != 0);
    }
}

/// The kernel's `handle_futex_death`: if `tid` owns the futex at `addr`, mark its
/// owner dead (keeping the waiters bit) and wake one waiter.
fn futex_death(addr: u64, tid: i32, pi: bool) {
    let mut current = [0u8; 4];
    if !addr.is_multiple_of(4) || guest_memory::read(addr, &mut current).is_err() {
        return;
    }
    // SAFETY: an aligned, readable guest word (guest memory is host memory); robust
    // futexes live in the guest's writable memory, which glibc has been updating.
    let word = unsafe { AtomicU32::from_ptr(addr as *mut u32) };
    let mut value = word.load(Ordering::Acquire);
    loop {
        if value & FUTEX_TID_MASK != tid as u32 {
            return;
        }
        let dead = (value & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        match word.compare_exchange(value, dead, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(now) => value = now,
        }
    }
    if !pi && value & FUTEX_WAITERS != 0 {
        host_syscall(libc::SYS_futex, &[addr, libc::FUTEX_WAKE as u64, 1, 0, 0, 0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_futexes_are_marked_dead_and_others_left_alone() {
        let tid = 1234;
        // Words 0..3: the head (futex_offset 8); 3..5 and 5..7: two entries, each
        // { next, futex word }; the first is held by `tid`, the second by another.
        let mut memory = [0u64; 7];
        let at = |word: usize| memory.as_ptr() as u64 + 8 * word as u64;
        let (head, owned, foreign) = (at(0), at(3), at(5));
        memory.copy_from_slice(&[owned, 8, 0, foreign, u64::from(tid as u32 | FUTEX_WAITERS), head, 999]);
        walk(head, tid);
        assert_eq!(memory[4] as u32, FUTEX_WAITERS | FUTEX_OWNER_DIED);
        assert_eq!(memory[6], 999);
    }
}
