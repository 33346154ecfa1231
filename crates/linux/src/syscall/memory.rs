//! Memory calls: `brk`, `mmap`, `munmap`, `mprotect`, `mremap`, `madvise`.
//!
//! Guest addresses are host addresses, so these pass through to the host with three
//! additions:
//! - a request that would change archway's own memory (see [`crate::host_maps`]) is
//!   refused with `-ENOMEM`, as if those addresses were not the guest's to touch;
//! - flags that exist on only one architecture are handled: arm64's `PROT_BTI` is
//!   accepted and dropped (branch targets are not enforced; BTI is not advertised),
//!   x86_64's `MAP_32BIT`/`MAP_ABOVE4G` bit values mean nothing on arm64 and are
//!   ignored as the arm64 kernel ignores unknown flags;
//! - translations of code that is unmapped or mapped over are forgotten;
//! - what the guest maps is recorded for its `/proc/self/maps` ([`crate::guest_maps`]).
//!
//! `brk` is the guest's own heap ([`crate::process::Brk`]), never the host's.

use super::{errno, host_syscall, ret, Args, Outcome, SyscallContext};
use crate::loader::{host_page_size, page_up};
use crate::process::lock;

/// arm64 `PROT_BTI`: guarded pages for branch target identification.
const PROT_BTI: u64 = 0x10;
/// Bits x86_64 gives meaning to (`MAP_32BIT`, `MAP_ABOVE4G`) that arm64 leaves unused.
const X86_ONLY_MAP_FLAGS: u64 = 0x40 | 0x80;
const MAP_TYPE: u64 = 0x0f;
const MAP_SHARED_VALIDATE: u64 = 0x03;
const MAP_FIXED: u64 = libc::MAP_FIXED as u64;
const MAP_FIXED_NOREPLACE: u64 = libc::MAP_FIXED_NOREPLACE as u64;
const MREMAP_FIXED: u64 = libc::MREMAP_FIXED as u64;

/// `brk(addr)`.
pub fn brk(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    ret(lock(&ctx.process.brk).set(a[0]) as i64)
}

/// `mmap(addr, len, prot, flags, fd, offset)`.
pub fn mmap(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [addr, len, prot, flags, fd, offset] = *a;
    if flags & X86_ONLY_MAP_FLAGS != 0 && flags & MAP_TYPE == MAP_SHARED_VALIDATE {
        return ret(errno(libc::EOPNOTSUPP));
    }
    let replaces = flags & MAP_FIXED != 0 && flags & MAP_FIXED_NOREPLACE == 0;
    if replaces && ctx.process.host_regions.overlaps(addr, len) {
        return refuse(ctx, "mmap(MAP_FIXED)", addr, len);
    }
    let flags = flags & !X86_ONLY_MAP_FLAGS;
    let result = host_syscall(libc::SYS_mmap, &[addr, len, prot & !PROT_BTI, flags, fd, offset]);
    if result >= 0 {
        lock(&ctx.process.image.mappings).insert(result as u64, page_up(result as u64 + len, host_page_size()));
    }
    if result >= 0 && replaces {
        ctx.invalidate_code(addr, addr.saturating_add(len));
    }
    ret(result)
}

/// `munmap(addr, len)`.
pub fn munmap(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [addr, len, ..] = *a;
    if ctx.process.host_regions.overlaps(addr, len) {
        return refuse(ctx, "munmap", addr, len);
    }
    let result = host_syscall(libc::SYS_munmap, a);
    if result == 0 {
        lock(&ctx.process.image.mappings).remove(addr, page_up(addr.saturating_add(len), host_page_size()));
        ctx.invalidate_code(addr, addr.saturating_add(len));
    }
    ret(result)
}

/// `mprotect(addr, len, prot)`.
pub fn mprotect(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [addr, len, prot, ..] = *a;
    if ctx.process.host_regions.overlaps(addr, len) {
        return refuse(ctx, "mprotect", addr, len);
    }
    ret(host_syscall(libc::SYS_mprotect, &[addr, len, prot & !PROT_BTI, 0, 0, 0]))
}

/// `mremap(old_addr, old_len, new_len, flags, new_addr)`.
pub fn mremap(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [old_addr, old_len, new_len, flags, new_addr, _] = *a;
    if ctx.process.host_regions.overlaps(old_addr, old_len) {
        return refuse(ctx, "mremap", old_addr, old_len);
    }
    if flags & MREMAP_FIXED != 0 && ctx.process.host_regions.overlaps(new_addr, new_len) {
        return refuse(ctx, "mremap(MREMAP_FIXED)", new_addr, new_len);
    }
    let result = host_syscall(libc::SYS_mremap, a);
    if result >= 0 {
        let mut mappings = lock(&ctx.process.image.mappings);
        mappings.remove(old_addr, page_up(old_addr.saturating_add(old_len), host_page_size()));
        mappings.insert(result as u64, page_up(result as u64 + new_len, host_page_size()));
        drop(mappings);
        ctx.invalidate_code(old_addr, old_addr.saturating_add(old_len));
        if flags & MREMAP_FIXED != 0 {
            ctx.invalidate_code(new_addr, new_addr.saturating_add(new_len));
        }
    }
    ret(result)
}

/// `madvise(addr, len, advice)`: advice values are the generic ones on both.
pub fn madvise(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [addr, len, ..] = *a;
    if ctx.process.host_regions.overlaps(addr, len) {
        return refuse(ctx, "madvise", addr, len);
    }
    ret(host_syscall(libc::SYS_madvise, a))
}

/// Refuse a request touching archway's memory; logged once per call kind.
fn refuse(ctx: &SyscallContext, call: &'static str, addr: u64, len: u64) -> Outcome {
    if ctx.process.first_time(call, 0) {
        tracing::warn!(
            "{call} of {addr:#x}..{:#x} would change archway's own memory: -ENOMEM",
            addr.saturating_add(len)
        );
    }
    ret(errno(libc::ENOMEM))
}
