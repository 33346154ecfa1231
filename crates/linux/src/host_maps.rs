//! archway's own memory, which guest `mmap(MAP_FIXED)`, `munmap`, `mprotect` and
//! `mremap` must not touch.
//!
//! Guest memory is host memory, so nothing but a check stops a guest `MAP_FIXED` from
//! replacing archway's code or heap. The check here is deliberately simple: every
//! mapping present in `/proc/self/maps` before the guest is loaded belongs to archway
//! (its binary, its libraries, its stack, the vDSO), and so does the host `brk` heap up
//! to its current end. Requests touching those ranges are refused.
//!
//! Without `/proc` (a fresh chroot, e.g. debootstrap's second stage before it mounts
//! `/proc`, or while it remounts it) the snapshot is rebuilt from what the process can
//! see for itself ([`HostRegions::probe`]): the segments of every loaded object
//! (`dl_iterate_phdr`: archway's binary and libraries), the vDSO and the pages around it
//! (`[vvar]`), and the main thread's stack, each extended page by page as far as
//! `mincore` finds pages mapped.
//!
//! Limits: mappings archway makes after the snapshot (large heap allocations served
//! by `mmap`, the JIT's code cache, thread stacks) are not protected, nor, without
//! `/proc`, anonymous mappings made before it; a guest that maps `MAP_FIXED` over them
//! blindly can still corrupt archway. Guest programs do not do that in practice (they
//! map fixed only over their own reservations).

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
    /// Record archway's mappings as they are now, from `/proc/self/maps`, or by
    /// [`HostRegions::probe`] when `/proc` is not mounted. Call before loading the guest.
    pub fn snapshot() -> std::io::Result<HostRegions> {
        // SAFETY: sbrk(0) only reads the current program break.
        let heap_start = unsafe { libc::sbrk(0) } as u64;
        match std::fs::read_to_string("/proc/self/maps") {
            Ok(maps) => Ok(HostRegions::from_maps(&maps, heap_start)),
            Err(e) => {
                tracing::debug!("/proc/self/maps: {e}; probing archway's own mappings instead");
                Ok(HostRegions::probe(heap_start))
            }
        }
    }

    /// Regions found without `/proc`: every loaded object's segments, the vDSO with its
    /// data pages, and the main thread's stack, each grown to the extent of the mapping
    /// that holds it.
    pub fn probe(heap_start: u64) -> HostRegions {
        let mut ranges = loaded_segments();
        // SAFETY: getauxval only reads the auxiliary vector.
        let vdso = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) };
        if vdso != 0 {
            ranges.push(mapped_extent(vdso));
        }
        let on_the_stack = 0u8;
        ranges.push(mapped_extent(std::ptr::addr_of!(on_the_stack) as u64));
        ranges.sort_by_key(|r| r.start);
        HostRegions { ranges, heap_start }
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

const PAGE: u64 = 4096;

/// Whether the page at `page` (page aligned) is mapped: `mincore` fails with `ENOMEM`
/// exactly on unmapped addresses.
fn page_is_mapped(page: u64) -> bool {
    let mut resident = 0u8;
    // SAFETY: mincore writes one byte per page of the one-page range into `resident`.
    let r = unsafe { libc::mincore(page as *mut libc::c_void, PAGE as usize, &mut resident) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ENOMEM)
}

/// The run of mapped pages around `addr` (which must be mapped): neighbouring mappings
/// (the vDSO and its `[vvar]` pages) are included, the unmapped gaps around them are not.
fn mapped_extent(addr: u64) -> Range<u64> {
    let mut start = addr & !(PAGE - 1);
    while start >= PAGE && page_is_mapped(start - PAGE) {
        start -= PAGE;
    }
    let mut end = (addr & !(PAGE - 1)) + PAGE;
    while end < u64::MAX - PAGE && page_is_mapped(end) {
        end += PAGE;
    }
    start..end
}

/// The `PT_LOAD` segments of every object loaded in this process (the main program,
/// with a dynamic build also its libraries), page aligned.
fn loaded_segments() -> Vec<Range<u64>> {
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes a valid info and our `data`, a Vec<Range<u64>>.
        let (info, out) = unsafe { (&*info, &mut *(data as *mut Vec<Range<u64>>)) };
        for i in 0..usize::from(info.dlpi_phnum) {
            // SAFETY: dlpi_phdr points at dlpi_phnum program headers.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type == libc::PT_LOAD && ph.p_memsz > 0 {
                let start = (info.dlpi_addr + ph.p_vaddr) & !(PAGE - 1);
                let end = (info.dlpi_addr + ph.p_vaddr + ph.p_memsz).next_multiple_of(PAGE);
                out.push(start..end);
            }
        }
        0
    }
    let mut out: Vec<Range<u64>> = Vec::new();
    // SAFETY: the callback only reads the headers and pushes into `out`.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut out as *mut Vec<Range<u64>> as *mut libc::c_void) };
    out
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

    /// Without `/proc`, the probe finds what `/proc/self/maps` names: the binary's
    /// segments, the vDSO and `[vvar]` pages, the stack; and nothing unmapped next to them.
    #[test]
    fn probing_finds_what_proc_maps_lists() {
        // Other tests map and unmap memory meanwhile (even between two identical reads
        // of the maps): a mapping that comes and goes makes one attempt fail, while a
        // probing bug fails every attempt. Require one attempt that passes throughout.
        let failures: Vec<String> = (0..100).map_while(|_| probe_agrees_with_maps().err()).collect();
        assert!(failures.len() < 100, "every attempt failed, e.g.: {}", failures[0]);
    }

    /// One comparison of a probe with `/proc/self/maps` read around it.
    fn probe_agrees_with_maps() -> Result<(), String> {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let probed = HostRegions::probe(0);
        if std::fs::read_to_string("/proc/self/maps").unwrap() != maps {
            return Err("the maps changed during the probe".into());
        }
        let exe = std::env::current_exe().unwrap();
        let named = |line: &&str| {
            line.ends_with("[vdso]")
                || line.ends_with("[vvar]")
                || line.ends_with("[vvar_vclock]")
                || line.ends_with(exe.to_str().unwrap())
        };
        for line in maps.lines().filter(named) {
            let range = parse_range(line).unwrap();
            if !(probed.overlaps(range.start, 1) && probed.overlaps(range.end - 1, 1)) {
                return Err(format!("{line} not probed"));
            }
        }
        let stack = 0u64;
        if !probed.overlaps(std::ptr::addr_of!(stack) as u64, 8) {
            return Err("the stack was not probed".into());
        }
        // Every probed page is mapped.
        let listed = HostRegions::from_maps(&maps, 0);
        match probed.ranges.iter().find(|r| !(listed.overlaps(r.start, 1) && listed.overlaps(r.end - 1, 1))) {
            Some(r) => Err(format!("{r:x?} is not mapped")),
            None => Ok(()),
        }
    }
}
