//! `fstat` and `newfstatat`: arm64 uses the generic 128-byte `struct stat`
//! (`asm-generic/stat.h`), x86_64 its own 144-byte one, so the host's answer is
//! re-encoded field by field.
//!
//! The aarch64 layout:
//!
//! | offset | field | | offset | field |
//! | --- | --- | --- | --- | --- |
//! | 0 | `st_dev` u64 | | 56 | `st_blksize` i32 (+4 pad) |
//! | 8 | `st_ino` u64 | | 64 | `st_blocks` i64 |
//! | 16 | `st_mode` u32 | | 72 | `st_atime` i64 |
//! | 20 | `st_nlink` u32 | | 80 | `st_atime_nsec` u64 |
//! | 24 | `st_uid` u32 | | 88 | `st_mtime` i64 |
//! | 28 | `st_gid` u32 | | 96 | `st_mtime_nsec` u64 |
//! | 32 | `st_rdev` u64 | | 104 | `st_ctime` i64 |
//! | 40 | pad u64 | | 112 | `st_ctime_nsec` u64 |
//! | 48 | `st_size` i64 | | 120 | 2 × u32 unused |

use super::{host_syscall, paths, ret, ret_or_fault, Args, Outcome, SyscallContext};
use crate::guest_memory;
use std::mem::MaybeUninit;

/// Size of the aarch64 `struct stat`.
pub const GUEST_STAT_SIZE: usize = 128;

/// Byte offsets of the aarch64 `struct stat` fields.
pub mod offset {
    pub const DEV: usize = 0;
    pub const INO: usize = 8;
    pub const MODE: usize = 16;
    pub const NLINK: usize = 20;
    pub const UID: usize = 24;
    pub const GID: usize = 28;
    pub const RDEV: usize = 32;
    pub const SIZE: usize = 48;
    pub const BLKSIZE: usize = 56;
    pub const BLOCKS: usize = 64;
    pub const ATIME: usize = 72;
    pub const ATIME_NSEC: usize = 80;
    pub const MTIME: usize = 88;
    pub const MTIME_NSEC: usize = 96;
    pub const CTIME: usize = 104;
    pub const CTIME_NSEC: usize = 112;
}

/// The host's `struct stat` in the aarch64 layout. `st_nlink` is 32 bits there, as
/// the arm64 kernel stores it. (The casts narrow x86_64 host fields; on an arm64 host
/// they are the same types.)
#[allow(clippy::unnecessary_cast)]
pub fn encode_stat(host: &libc::stat) -> [u8; GUEST_STAT_SIZE] {
    let mut out = [0u8; GUEST_STAT_SIZE];
    let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
    put(offset::DEV, &host.st_dev.to_le_bytes());
    put(offset::INO, &host.st_ino.to_le_bytes());
    put(offset::MODE, &host.st_mode.to_le_bytes());
    put(offset::NLINK, &(host.st_nlink as u32).to_le_bytes());
    put(offset::UID, &host.st_uid.to_le_bytes());
    put(offset::GID, &host.st_gid.to_le_bytes());
    put(offset::RDEV, &host.st_rdev.to_le_bytes());
    put(offset::SIZE, &host.st_size.to_le_bytes());
    put(offset::BLKSIZE, &(host.st_blksize as i32).to_le_bytes());
    put(offset::BLOCKS, &host.st_blocks.to_le_bytes());
    put(offset::ATIME, &host.st_atime.to_le_bytes());
    put(offset::ATIME_NSEC, &(host.st_atime_nsec as u64).to_le_bytes());
    put(offset::MTIME, &host.st_mtime.to_le_bytes());
    put(offset::MTIME_NSEC, &(host.st_mtime_nsec as u64).to_le_bytes());
    put(offset::CTIME, &host.st_ctime.to_le_bytes());
    put(offset::CTIME_NSEC, &(host.st_ctime_nsec as u64).to_le_bytes());
    out
}

/// `fstat(fd, statbuf)`.
pub fn fstat(_: &mut SyscallContext, a: &Args) -> Outcome {
    stat_into_guest(a[1], |host| host_syscall(libc::SYS_fstat, &[a[0], host, 0, 0, 0, 0]))
}

/// `newfstatat(dirfd, path, statbuf, flags)`; the path under the guest root.
pub fn newfstatat(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    stat_into_guest(a[2], |host| {
        paths::with_resolved(ctx, a, &[1], |a| host_syscall(libc::SYS_newfstatat, &[a[0], a[1], host, a[3], 0, 0]))
    })
}

/// Run a host stat call into a local buffer, then copy the converted result to the
/// guest's `statbuf`.
fn stat_into_guest(statbuf: u64, call: impl FnOnce(u64) -> i64) -> Outcome {
    let mut host = MaybeUninit::<libc::stat>::zeroed();
    let result = call(host.as_mut_ptr() as u64);
    if result < 0 {
        return ret(result);
    }
    // SAFETY: zero-initialised, then filled by the kernel on success.
    let host = unsafe { host.assume_init() };
    ret_or_fault(guest_memory::write(statbuf, &encode_stat(&host)), result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn every_field_lands_at_its_aarch64_offset() {
        // SAFETY: libc::stat is plain integers.
        let mut host: libc::stat = unsafe { std::mem::zeroed() };
        host.st_dev = 0x0102;
        host.st_ino = 0x1122_3344_5566;
        host.st_mode = 0o100644;
        host.st_nlink = 3;
        host.st_uid = 1000;
        host.st_gid = 100;
        host.st_rdev = 0x0807;
        host.st_size = 123_456_789;
        host.st_blksize = 4096;
        host.st_blocks = 241_128;
        host.st_atime = 1_700_000_001;
        host.st_atime_nsec = 11;
        host.st_mtime = 1_700_000_002;
        host.st_mtime_nsec = 22;
        host.st_ctime = 1_700_000_003;
        host.st_ctime_nsec = 33;
        let b = encode_stat(&host);
        assert_eq!(b.len(), 128);
        assert_eq!(u64_at(&b, 0), 0x0102);
        assert_eq!(u64_at(&b, 8), 0x1122_3344_5566);
        assert_eq!(u32_at(&b, 16), 0o100644);
        assert_eq!(u32_at(&b, 20), 3);
        assert_eq!(u32_at(&b, 24), 1000);
        assert_eq!(u32_at(&b, 28), 100);
        assert_eq!(u64_at(&b, 32), 0x0807);
        assert_eq!(u64_at(&b, 40), 0, "__pad1");
        assert_eq!(u64_at(&b, 48), 123_456_789, "st_size");
        assert_eq!(u32_at(&b, 56), 4096, "st_blksize");
        assert_eq!(u32_at(&b, 60), 0, "__pad2");
        assert_eq!(u64_at(&b, 64), 241_128, "st_blocks");
        assert_eq!(u64_at(&b, 72), 1_700_000_001, "st_atime");
        assert_eq!(u64_at(&b, 80), 11);
        assert_eq!(u64_at(&b, 88), 1_700_000_002);
        assert_eq!(u64_at(&b, 96), 22);
        assert_eq!(u64_at(&b, 104), 1_700_000_003);
        assert_eq!(u64_at(&b, 112), 33);
        assert_eq!(u64_at(&b, 120), 0, "unused");
    }

    #[test]
    fn fstat_of_a_real_file_matches_the_host() {
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let meta = file.metadata().unwrap();
        let mut guest = [0u8; GUEST_STAT_SIZE];
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        let fd = file.as_raw_fd() as u64;
        let outcome =
            stat_into_guest(guest.as_mut_ptr() as u64, |host| host_syscall(libc::SYS_fstat, &[fd, host, 0, 0, 0, 0]));
        assert_eq!(outcome, Outcome::Return(0));
        assert_eq!(u64_at(&guest, offset::SIZE), meta.size());
        assert_eq!(u64_at(&guest, offset::INO), meta.ino());
        assert_eq!(u32_at(&guest, offset::MODE), meta.mode());
        let bad = stat_into_guest(8, |host| host_syscall(libc::SYS_fstat, &[fd, host, 0, 0, 0, 0]));
        assert_eq!(bad, Outcome::Return(guest_memory::EFAULT));
    }
}
