//! archway's own memory, which guest `mmap(MAP_FIXED)`, `munmap`, `mprotect` and
//! `mremap` must not touch.
//!
//! Guest memory is host memory, so nothing but a check stops a guest `MAP_FIXED` from
//! replacing archway's code or heap. The check here is deliberately simple: every
//! mapping present in `/proc/self/maps` before the guest is loaded belongs to archway
//! (its binary, its libraries, its stack, the vDSO), and so does the host `brk` heap up
//! to its current end. Requests touching those ranges are refused.
//!
//! Limits: mappings archway makes after the snapshot (large heap allocations served
//! by `mmap`, the JIT's code cache, thread stacks) are not protected; a guest that
//! maps `MAP_FIXED` over them blindly can still corrupt archway. Guest programs do not
//! do that in practice (they map fixed only over their own reservations).

use std::ops::Range;

/// The address ranges archway owns.
#[derive(Debug, Clone, Default)]
pub struct HostRegions {
    /// Mappings present before the guest was loaded, sorted by start.
    ranges: Vec<Range<u64>>,
    /// Start of the host `brk` heap; its end is read when checking.
    heap_start: u64,
}

impl HostRegions {
    /// Record archway's mappings as they are now. Call before loading the guest.
    pub fn snapshot() -> std::io::Result<HostRegions> {
        let maps = std::fs::read_to_string("/proc/self/maps")?;
        // SAFETY: sbrk(0) only reads the current program break.
        let heap_start = unsafe { libc::sbrk(0) } as u64;
        Ok(HostRegions::from_maps(&maps, heap_start))
    }

    /// Regions from the text of a `/proc/PID/maps` file.
    pub fn from_maps(maps: &str, heap_start: u64) -> HostRegions {
        let mut ranges: Vec<Range<u64>> = maps.lines().filter_map(parse_range).collect();
        ranges.sort_by_key(|r| r.start);
        let heap_start = maps
            .lines()
            .filter(|line| line.ends_with("[heap]"))
            .filter_map(parse_range)
            .map(|r| r.start)
            .fold(heap_start, u64::min);
        HostRegions { ranges, heap_start }
    }

    /// Whether `[addr, addr + len)` touches memory archway owns.
    pub fn overlaps(&self, addr: u64, len: u64) -> bool {
        let end = addr.saturating_add(len.max(1));
        let touches = |r: &Range<u64>| r.start < end && addr < r.end;
        if self.ranges.iter().any(touches) {
            return true;
        }
        // SAFETY: sbrk(0) only reads the current program break.
        let heap_end = unsafe { libc::sbrk(0) } as u64;
        self.heap_start < heap_end && touches(&(self.heap_start..heap_end))
    }
}

/// The address range of one line of `/proc/PID/maps` (`start-end perms ...`).
fn parse_range(line: &str) -> Option<Range<u64>> {
    let (range, _) = line.split_once(' ')?;
    let (start, end) = range.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    (start < end).then_some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
555555554000-555555556000 r--p 00000000 08:01 1234 /usr/bin/archway
555555556000-555555558000 r-xp 00002000 08:01 1234 /usr/bin/archway
555555559000-55555557a000 rw-p 00000000 00:00 0 [heap]
7ffff7fc1000-7ffff7fc5000 r--p 00000000 00:00 0 [vvar]
7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]
";

    #[test]
    fn snapshot_ranges_are_protected() {
        let regions = HostRegions::from_maps(MAPS, 0x5555_5557_a000);
        assert!(regions.overlaps(0x5555_5555_5000, 0x1000));
        assert!(regions.overlaps(0x5555_5555_0000, 0x10_0000));
        assert!(regions.overlaps(0x7fff_ffff_0000, 0x1000));
        assert!(!regions.overlaps(0x40_0000, 0x1000));
        assert!(!regions.overlaps(0x5555_5555_8000, 0x1000));
    }

    #[test]
    fn our_own_memory_is_protected() {
        let regions = HostRegions::snapshot().unwrap();
        let on_the_stack = 0u64;
        assert!(regions.overlaps(&on_the_stack as *const u64 as u64, 8));
        let code = our_own_memory_is_protected as fn() as usize as u64;
        assert!(regions.overlaps(code, 4));
    }
}
