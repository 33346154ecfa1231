//! What the Linux personality keeps about the guest process between system calls:
//! its program path, its `brk` heap, its signal bookkeeping, archway's own memory
//! (which the guest must not map over), and which warnings were already logged.

use crate::host_maps::HostRegions;
use crate::loader::{host_page_size, page_up};
use crate::syscall::signal::SignalState;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Per-process state of the guest.
#[derive(Debug)]
pub struct GuestProcess {
    /// Absolute path of the guest program (`/proc/self/exe`).
    pub exe_path: PathBuf,
    pub brk: Brk,
    pub signals: SignalState,
    pub host_regions: HostRegions,
    /// (kind, number) pairs already warned about, e.g. ("syscall", 999).
    warned: BTreeSet<(&'static str, u64)>,
}

impl GuestProcess {
    pub fn new(exe_path: PathBuf, brk: Brk, host_regions: HostRegions) -> GuestProcess {
        GuestProcess { exe_path, brk, signals: SignalState::from_host(), host_regions, warned: BTreeSet::new() }
    }

    /// True the first time it is asked about `(kind, number)`: log only then.
    pub fn first_time(&mut self, kind: &'static str, number: u64) -> bool {
        self.warned.insert((kind, number))
    }
}

/// The guest's `brk` heap: `[start, current)`, grown inside the address space the
/// loader reserved after the program (`[start, limit)`, kept `PROT_NONE` until used).
///
/// Growing makes reserved pages read-write; shrinking discards them and makes them
/// inaccessible again, so a later growth sees zeroes as it would from the kernel.
/// The host's own `brk` is never touched. Without a reservation (`limit == start`)
/// the heap cannot grow and `brk` fails as the kernel's does when memory is taken;
/// glibc's `malloc` then uses `mmap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brk {
    start: u64,
    current: u64,
    /// Page-aligned end of the accessible part.
    accessible_end: u64,
    limit: u64,
}

impl Brk {
    pub fn new(start: u64, limit: u64) -> Brk {
        Brk { start, current: start, accessible_end: start, limit }
    }

    /// The kernel's `brk(2)`: move the break to `requested` if possible, and return the
    /// break (the old one on failure, so `brk(0)` asks for the current value).
    pub fn set(&mut self, requested: u64) -> u64 {
        if requested < self.start || requested > self.limit {
            return self.current;
        }
        let new_end = page_up(requested, host_page_size());
        if new_end > self.accessible_end {
            let len = (new_end - self.accessible_end) as usize;
            let at = self.accessible_end as *mut libc::c_void;
            // SAFETY: [accessible_end, new_end) lies in the brk reservation, which holds
            // no host data.
            if unsafe { libc::mprotect(at, len, libc::PROT_READ | libc::PROT_WRITE) } != 0 {
                return self.current;
            }
        } else if new_end < self.accessible_end {
            let len = (self.accessible_end - new_end) as usize;
            let at = new_end as *mut libc::c_void;
            // SAFETY: as above; the guest gave these pages back.
            let released = unsafe {
                libc::madvise(at, len, libc::MADV_DONTNEED) == 0 && libc::mprotect(at, len, libc::PROT_NONE) == 0
            };
            if !released {
                return self.current;
            }
        }
        self.accessible_end = new_end;
        self.current = requested;
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PROT_NONE reservation like the loader's.
    fn reservation(len: usize) -> u64 {
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
        // SAFETY: a fresh mapping.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_NONE, flags, -1, 0) };
        assert_ne!(p, libc::MAP_FAILED);
        p as u64
    }

    #[test]
    fn brk_grows_shrinks_and_refuses() {
        let start = reservation(1 << 20);
        let mut brk = Brk::new(start, start + (1 << 20));
        assert_eq!(brk.set(0), start);
        assert_eq!(brk.set(start + 10_000), start + 10_000);
        // SAFETY: just made accessible by brk.
        unsafe {
            *((start + 9_999) as *mut u8) = 7;
        }
        assert_eq!(brk.set(start + 100), start + 100);
        assert_eq!(brk.set(start + 10_000), start + 10_000);
        // SAFETY: accessible again, and zeroed after the shrink.
        assert_eq!(unsafe { *((start + 9_999) as *const u8) }, 0);
        assert_eq!(brk.set(start + (2 << 20)), start + 10_000);
        assert_eq!(brk.set(start - 1), start + 10_000);
    }
}
