//! What the Linux personality keeps about the guest process between system calls:
//! its program path, its `brk` heap, its signal dispositions, archway's own memory
//! (which the guest must not map over), its threads, and which warnings were
//! already logged.
//!
//! Every guest thread sees the same [`GuestProcess`] (an `Arc`); what can change is
//! behind a mutex, held only for the bookkeeping itself, never across a blocking
//! host call. Per-thread state is in [`crate::threads::GuestThread`].

use crate::host_maps::HostRegions;
use crate::image::ProcessImage;
use crate::loader::{host_page_size, page_up};
use crate::syscall::signal::{self, GuestSigaction, SIGNAL_COUNT};
use crate::threads::ThreadRegistry;
use archway_guest_a64::CpuState;
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Per-process state of the guest.
#[derive(Debug)]
pub struct GuestProcess {
    /// Absolute path of the guest program (`/proc/self/exe`).
    pub exe_path: PathBuf,
    pub brk: Mutex<Brk>,
    /// Disposition of signal `n` at index `n - 1`.
    pub signal_actions: Mutex<[GuestSigaction; SIGNAL_COUNT]>,
    pub host_regions: HostRegions,
    pub threads: ThreadRegistry,
    /// What the guest was started as (`/proc` views, `execve`); set before the guest runs.
    pub image: ProcessImage,
    /// (kind, number) pairs already warned about, e.g. ("syscall", 999).
    warned: Mutex<BTreeSet<(&'static str, u64)>>,
}

impl GuestProcess {
    pub fn new(exe_path: PathBuf, brk: Brk, host_regions: HostRegions) -> GuestProcess {
        GuestProcess {
            exe_path,
            brk: Mutex::new(brk),
            signal_actions: Mutex::new(signal::initial_actions()),
            host_regions,
            threads: ThreadRegistry::default(),
            image: ProcessImage::default(),
            warned: Mutex::new(BTreeSet::new()),
        }
    }

    /// Run `fork` (a host fork: the result is 0 in the child) with every lock of the
    /// process held, so that the child, which has only the forking thread, finds none of
    /// them held by a thread it does not have; the forking thread runs on `cpu`.
    pub fn fork(&self, cpu: &mut CpuState, fork: impl FnOnce() -> i64) -> i64 {
        let _brk = lock(&self.brk);
        let _actions = lock(&self.signal_actions);
        let _mappings = lock(&self.image.mappings);
        let _warned = lock(&self.warned);
        self.threads.fork(cpu, fork)
    }

    /// True the first time it is asked about `(kind, number)`: log only then.
    pub fn first_time(&self, kind: &'static str, number: u64) -> bool {
        lock(&self.warned).insert((kind, number))
    }
}

/// Lock `mutex`, also after a panic elsewhere (the data are plain bookkeeping that
/// a panic cannot leave half-updated in a way worse than stopping the guest).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// The accessible part of the heap (`[heap]` in `/proc/self/maps`).
    pub fn heap(&self) -> Range<u64> {
        self.start..self.accessible_end
    }

    /// The whole address range reserved for the heap.
    pub fn reservation(&self) -> Range<u64> {
        self.start..self.limit
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
