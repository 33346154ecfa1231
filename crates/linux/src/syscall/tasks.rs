//! Process calls: `exit`, `exit_group`, `clone`, `execve`, `uname`, `prctl`.
//!
//! - `clone` creates processes, not threads, for now: the fork-like form (no
//!   `CLONE_VM`, no `CLONE_THREAD`) is a real host fork whose child continues the
//!   guest with X0 = 0. `CLONE_VM | CLONE_VFORK` (vfork, posix_spawn) is run as a
//!   fork too: the parent does not wait for the child's exec, and the child's writes
//!   do not reach the parent, which vfork users must not rely on anyway. Thread
//!   creation returns `-ENOSYS` and is logged: threads are the next issue.
//! - `execve` returns `-ENOSYS` and is logged: re-executing foreign programs under
//!   archway is the next issue.
//! - `exit` ends the process while there is a single guest thread.

use super::{errno, host_syscall, ret, ret_or_fault, Args, Outcome, SyscallContext};
use crate::guest_memory;

const CLONE_VM: u64 = libc::CLONE_VM as u64;
const CLONE_VFORK: u64 = libc::CLONE_VFORK as u64;
const CLONE_THREAD: u64 = libc::CLONE_THREAD as u64;
const CLONE_SETTLS: u64 = libc::CLONE_SETTLS as u64;
/// `PR_SET_SECCOMP`: a guest filter would judge archway's host system calls.
const PR_SET_SECCOMP: u64 = 22;
/// `uname` machine field as arm64 Linux reports it.
const MACHINE: &[u8] = b"aarch64";

/// `exit(status)`: with one guest thread, the end of the process.
pub fn exit(_: &mut SyscallContext, a: &Args) -> Outcome {
    Outcome::Exit((a[0] & 0xff) as i32)
}

/// `exit_group(status)`.
pub fn exit_group(_: &mut SyscallContext, a: &Args) -> Outcome {
    Outcome::Exit((a[0] & 0xff) as i32)
}

/// `clone(flags, stack, parent_tid, tls, child_tid)`, in arm64's argument order
/// (x86_64 takes `child_tid` before `tls`).
pub fn clone(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [flags, stack, parent_tid, tls, child_tid, _] = *a;
    let is_vfork = flags & (CLONE_VM | CLONE_VFORK) == CLONE_VM | CLONE_VFORK;
    if flags & CLONE_THREAD != 0 || (flags & CLONE_VM != 0 && !is_vfork) {
        if ctx.process.first_time("clone", CLONE_THREAD) {
            tracing::warn!("clone({flags:#x}): guest threads are not supported yet: -ENOSYS");
        }
        return ret(errno(libc::ENOSYS));
    }
    // The host thread pointer stays archway's: the child's TLS is the guest's TPIDR.
    let host_flags = flags & !(CLONE_VM | CLONE_VFORK | CLONE_SETTLS);
    let pid = host_syscall(libc::SYS_clone, &[host_flags, 0, parent_tid, child_tid, 0, 0]);
    if pid == 0 {
        if stack != 0 {
            ctx.cpu.sp = stack;
        }
        if flags & CLONE_SETTLS != 0 {
            ctx.cpu.tpidr = tls;
        }
    }
    ret(pid)
}

/// `execve(path, argv, envp)`.
pub fn execve(_: &mut SyscallContext, a: &Args) -> Outcome {
    unsupported_exec("execve", a[0])
}

/// `execveat(dirfd, path, argv, envp, flags)`.
pub fn execveat(_: &mut SyscallContext, a: &Args) -> Outcome {
    unsupported_exec("execveat", a[1])
}

fn unsupported_exec(call: &str, path: u64) -> Outcome {
    let path = guest_memory::read_c_string(path, libc::PATH_MAX as usize).unwrap_or_default();
    tracing::warn!(
        "{call}({}): not supported yet (running foreign programs again comes next): -ENOSYS",
        String::from_utf8_lossy(&path)
    );
    ret(errno(libc::ENOSYS))
}

/// `uname(buf)`: the host's answer with machine "aarch64".
pub fn uname(_: &mut SyscallContext, a: &Args) -> Outcome {
    // SAFETY: utsname is plain bytes; uname fills it.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is a valid utsname.
    if unsafe { libc::uname(&mut name) } != 0 {
        return ret(-i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EFAULT)));
    }
    name.machine = [0; 65];
    for (dst, &src) in name.machine.iter_mut().zip(MACHINE) {
        *dst = src as libc::c_char;
    }
    // SAFETY: utsname is six arrays of bytes, the same layout on both architectures.
    let bytes = unsafe {
        std::slice::from_raw_parts(&name as *const libc::utsname as *const u8, std::mem::size_of::<libc::utsname>())
    };
    ret_or_fault(guest_memory::write(a[0], bytes), 0)
}

/// `prctl(option, ...)`: passed through, except that a guest seccomp filter is
/// refused (it would filter archway's own x86_64 calls by aarch64 rules).
pub fn prctl(_: &mut SyscallContext, a: &Args) -> Outcome {
    if a[0] & 0xffff_ffff == PR_SET_SECCOMP {
        return ret(errno(libc::EINVAL));
    }
    ret(host_syscall(libc::SYS_prctl, a))
}

#[cfg(test)]
mod tests {
    #[test]
    fn utsname_is_the_same_size_on_both_architectures() {
        // struct new_utsname: six fields of __NEW_UTS_LEN + 1 = 65 bytes.
        assert_eq!(std::mem::size_of::<libc::utsname>(), 6 * 65);
    }
}
