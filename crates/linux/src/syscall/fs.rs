//! File calls whose flags or answers differ between aarch64 and x86_64.
//!
//! - Open flags: arm64 defines four `O_*` bits differently from x86_64 (which uses
//!   the generic values): `O_DIRECTORY`, `O_NOFOLLOW`, `O_DIRECT`, `O_LARGEFILE`
//!   (`arch/arm64/include/uapi/asm/fcntl.h`). They are converted to the host's values
//!   (the identity on an arm64 host) in `openat`, `pipe2` (`O_DIRECT` means packet
//!   mode there) and `fcntl(F_GETFL/F_SETFL)`. Every other flag has the same value on
//!   both.
//! - `/proc` files that describe the process are the guest's ([`crate::proc_files`]):
//!   `readlinkat` and `openat` of `/proc/self/exe` give the guest program; `openat`
//!   of `maps`, `auxv`, `cmdline` and `/proc/cpuinfo` gives generated contents.
//! - Absolute paths resolve under the guest root ([`super::paths`]).

use super::{errno, host_syscall, paths, ret, Args, Outcome, SyscallContext};
use crate::guest_memory;
use crate::guest_root;
use crate::proc_files::{self, ProcFile};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

/// `(aarch64 value, host value)` of the open flags that differ between arm64 and x86_64.
const OPEN_FLAGS_THAT_DIFFER: [(u64, u64); 4] = [
    (0o040000, libc::O_DIRECTORY as u64),
    (0o100000, libc::O_NOFOLLOW as u64),
    (0o200000, libc::O_DIRECT as u64),
    (0o400000, crate::host::O_LARGEFILE),
];

/// aarch64 open flags as host flags.
pub fn open_flags_to_host(guest: u64) -> u64 {
    remap_open_flags(guest, |&(g, _)| g, |&(_, h)| h)
}

/// Host open flags as aarch64 flags.
pub fn open_flags_to_guest(host: u64) -> u64 {
    remap_open_flags(host, |&(_, h)| h, |&(g, _)| g)
}

/// Replace each differing flag `from(pair)` present in `value` by `to(pair)`.
fn remap_open_flags(value: u64, from: fn(&(u64, u64)) -> u64, to: fn(&(u64, u64)) -> u64) -> u64 {
    OPEN_FLAGS_THAT_DIFFER.iter().fold(value, |out, pair| out & !from(pair))
        | OPEN_FLAGS_THAT_DIFFER.iter().filter(|pair| value & from(pair) != 0).fold(0, |out, pair| out | to(pair))
}

/// `openat(dirfd, path, flags, mode)`.
pub fn openat(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let flags = open_flags_to_host(a[2] & 0xffff_ffff);
    if let Ok(path) = guest_memory::read_c_string(a[1], libc::PATH_MAX as usize) {
        if let Some(file) = proc_files::classify(&path) {
            return ret(open_proc_file(ctx, file, flags, a[3]));
        }
    }
    ret(paths::with_resolved(ctx, a, &[1], |a| host_syscall(libc::SYS_openat, &[a[0], a[1], flags, a[3], 0, 0])))
}

/// Open one of the guest's `/proc` files with host open `flags`.
fn open_proc_file(ctx: &mut SyscallContext, file: ProcFile, flags: u64, mode: u64) -> i64 {
    let cloexec = flags & libc::O_CLOEXEC as u64;
    if file == ProcFile::Exe {
        let Ok(exe) = CString::new(ctx.process.exe_path.as_os_str().as_bytes()) else {
            return errno(libc::ENOENT);
        };
        let at_fdcwd = libc::AT_FDCWD as i64 as u64;
        return host_syscall(libc::SYS_openat, &[at_fdcwd, exe.as_ptr() as u64, flags, mode, 0, 0]);
    }
    if flags & libc::O_ACCMODE as u64 != libc::O_RDONLY as u64 {
        return errno(libc::EACCES);
    }
    match proc_files::contents(file, ctx.process) {
        Ok(bytes) => read_only_snapshot(&bytes, cloexec != 0),
        Err(e) => -i64::from(e.raw_os_error().unwrap_or(libc::EIO)),
    }
}

/// A read-only descriptor positioned at the start of a copy of `bytes`.
fn read_only_snapshot(bytes: &[u8], cloexec: bool) -> i64 {
    use std::io::Write;
    use std::os::unix::io::{AsRawFd, FromRawFd};
    // SAFETY: a fresh memfd; the name is a valid C string.
    let fd = unsafe { libc::memfd_create(c"archway-proc".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EMFILE));
    }
    // SAFETY: `fd` was just created and is owned here.
    let mut memfd = unsafe { std::fs::File::from_raw_fd(fd) };
    if let Err(e) = memfd.write_all(bytes) {
        return -i64::from(e.raw_os_error().unwrap_or(libc::EIO));
    }
    let reopen = CString::new(format!("/proc/self/fd/{}", memfd.as_raw_fd())).unwrap_or_default();
    let flags = libc::O_RDONLY | if cloexec { libc::O_CLOEXEC } else { 0 };
    let at_fdcwd = libc::AT_FDCWD as i64 as u64;
    host_syscall(libc::SYS_openat, &[at_fdcwd, reopen.as_ptr() as u64, flags as u64, 0, 0, 0])
}

/// `pipe2(fds, flags)`.
pub fn pipe2(_: &mut SyscallContext, a: &Args) -> Outcome {
    let flags = open_flags_to_host(a[1] & 0xffff_ffff);
    ret(host_syscall(libc::SYS_pipe2, &[a[0], flags, 0, 0, 0, 0]))
}

/// `fcntl(fd, cmd, arg)`: file status flags are converted both ways.
pub fn fcntl(_: &mut SyscallContext, a: &Args) -> Outcome {
    let cmd = a[1] as u32 as i32;
    match cmd {
        libc::F_GETFL => {
            let flags = host_syscall(libc::SYS_fcntl, a);
            ret(if flags < 0 { flags } else { open_flags_to_guest(flags as u64) as i64 })
        }
        libc::F_SETFL => ret(host_syscall(libc::SYS_fcntl, &[a[0], a[1], open_flags_to_host(a[2]), 0, 0, 0])),
        _ => ret(host_syscall(libc::SYS_fcntl, a)),
    }
}

/// `readlinkat(dirfd, path, buf, size)`: the guest's own `/proc/self/exe` is the
/// guest program (as the guest names it, inside its root).
pub fn readlinkat(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let names_exe = guest_memory::read_c_string(a[1], libc::PATH_MAX as usize)
        .is_ok_and(|p| proc_files::classify(&p) == Some(ProcFile::Exe));
    if !names_exe {
        return ret(paths::with_resolved(ctx, a, &[1], |a| host_syscall(libc::SYS_readlinkat, a)));
    }
    let size = a[3] as u32 as i32;
    if size <= 0 {
        return ret(super::errno(libc::EINVAL));
    }
    let target = guest_root::guest_view(&ctx.process.exe_path, ctx.process.image.root.as_deref());
    let target = target.as_os_str().as_bytes();
    let len = target.len().min(size as usize);
    super::ret_or_fault(guest_memory::write(a[2], &target[..len]), len as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags_convert_both_ways() {
        const GUEST_O_DIRECTORY: u64 = 0o040000;
        const HOST_O_DIRECTORY: u64 = libc::O_DIRECTORY as u64;
        let guest = GUEST_O_DIRECTORY | libc::O_CLOEXEC as u64 | libc::O_RDONLY as u64;
        assert_eq!(open_flags_to_host(guest), HOST_O_DIRECTORY | libc::O_CLOEXEC as u64);
        // The host kernel's O_LARGEFILE (which F_GETFL reports; glibc defines it as 0) is
        // arm64's 0o400000 (on an x86_64 host its value is arm64's O_NOFOLLOW).
        assert_eq!(open_flags_to_guest(crate::host::O_LARGEFILE | libc::O_RDWR as u64), 0o400000 | 2);
        for bit in 0..32 {
            let flag = 1u64 << bit;
            assert_eq!(open_flags_to_guest(open_flags_to_host(flag)), flag, "bit {bit}");
        }
        assert_eq!(
            open_flags_to_host(libc::O_NONBLOCK as u64 | libc::O_CREAT as u64),
            libc::O_NONBLOCK as u64 | libc::O_CREAT as u64
        );
    }
}
