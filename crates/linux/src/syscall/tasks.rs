//! Process and thread calls: `exit`, `exit_group`, `clone`, `set_tid_address`,
//! `set_robust_list`, `uname`, `prctl` (`execve` is [`super::exec`]).
//!
//! - `clone` with `CLONE_VM` and without `CLONE_VFORK` makes a guest thread: one host
//!   thread per guest thread ([`crate::threads`]). The flags glibc's `pthread_create`
//!   and Go's runtime use are supported (`CLONE_THREAD`, `CLONE_SIGHAND`, `CLONE_FS`,
//!   `CLONE_FILES`, `CLONE_SYSVSEM`, `CLONE_SETTLS`, `CLONE_PARENT_SETTID`,
//!   `CLONE_CHILD_SETTID`, `CLONE_CHILD_CLEARTID`); a missing `CLONE_FS` or
//!   `CLONE_FILES` becomes an `unshare` in the new thread. Invalid combinations get
//!   the kernel's `-EINVAL`; `CLONE_VM` without `CLONE_THREAD` (a second process
//!   sharing memory) and namespace, ptrace or pidfd flags on a thread get `-ENOSYS`
//!   and a log line.
//! - The fork-like form (no `CLONE_VM`) is a real host fork whose child continues
//!   the guest with X0 = 0: the C library's `fork` for a plain one, so that no lock of
//!   another host thread (the allocator's above all) stays held in the child, with every
//!   lock of the process held across it ([`crate::process::GuestProcess::fork`]). `CLONE_VM | CLONE_VFORK` (vfork, posix_spawn) is run as a
//!   fork too: the parent does not wait for the child's exec, and the child's writes
//!   do not reach the parent, which vfork users must not rely on anyway.
//! - `clone3` is exactly `-ENOSYS` (see the table): glibc then uses `clone`.
//! - `exit` ends the calling thread, `exit_group` the process.

use super::{errno, host_syscall, ret, ret_or_fault, Args, Outcome, SyscallContext};
use crate::guest_memory;
use crate::threads::{self, NewThread};

const CLONE_VM: u64 = libc::CLONE_VM as u64;
const CLONE_FS: u64 = libc::CLONE_FS as u64;
const CLONE_FILES: u64 = libc::CLONE_FILES as u64;
const CLONE_SIGHAND: u64 = libc::CLONE_SIGHAND as u64;
const CLONE_VFORK: u64 = libc::CLONE_VFORK as u64;
const CLONE_THREAD: u64 = libc::CLONE_THREAD as u64;
const CLONE_SYSVSEM: u64 = libc::CLONE_SYSVSEM as u64;
const CLONE_SETTLS: u64 = libc::CLONE_SETTLS as u64;
const CLONE_PARENT_SETTID: u64 = libc::CLONE_PARENT_SETTID as u64;
const CLONE_CHILD_CLEARTID: u64 = libc::CLONE_CHILD_CLEARTID as u64;
const CLONE_DETACHED: u64 = libc::CLONE_DETACHED as u64;
const CLONE_CHILD_SETTID: u64 = libc::CLONE_CHILD_SETTID as u64;
/// The low byte of `clone`'s flags: the signal sent to the parent at exit.
const EXIT_SIGNAL_MASK: u64 = 0xff;
/// Flags a guest thread may carry (`CLONE_DETACHED` is ignored by the kernel).
const THREAD_FLAGS: u64 = CLONE_VM
    | CLONE_FS
    | CLONE_FILES
    | CLONE_SIGHAND
    | CLONE_THREAD
    | CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_DETACHED
    | CLONE_CHILD_SETTID;

/// `exit(status)`: the end of the calling thread.
pub fn exit(_: &mut SyscallContext, a: &Args) -> Outcome {
    Outcome::ExitThread((a[0] & 0xff) as i32)
}

/// `exit_group(status)`.
pub fn exit_group(_: &mut SyscallContext, a: &Args) -> Outcome {
    Outcome::Exit((a[0] & 0xff) as i32)
}

/// `clone(flags, stack, parent_tid, tls, child_tid)`, in arm64's argument order
/// (x86_64 takes `child_tid` before `tls`).
pub fn clone(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let [flags, stack, parent_tid, tls, child_tid, _] = *a;
    // The kernel's own consistency checks.
    if (flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0)
        || (flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0)
    {
        return ret(errno(libc::EINVAL));
    }
    if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
        return ret(clone_thread(ctx, flags, stack, parent_tid, tls, child_tid));
    }
    // The host thread pointer stays archway's: the child's TLS is the guest's TPIDR.
    let host_flags = flags & !(CLONE_VM | CLONE_VFORK | CLONE_SETTLS);
    let pid = ctx.process.fork(ctx.cpu, || fork_process(host_flags, parent_tid, child_tid));
    if pid == 0 {
        ctx.thread.tid = threads::gettid();
        ctx.thread.robust_list = 0;
        if flags & CLONE_CHILD_CLEARTID != 0 {
            ctx.thread.clear_child_tid = child_tid;
        }
        if stack != 0 {
            ctx.cpu.sp = stack;
        }
        if flags & CLONE_SETTLS != 0 {
            ctx.cpu.tpidr = tls;
        }
    }
    ret(pid)
}

/// The TID words a plain fork may ask for; archway writes them itself.
const TID_WORDS: u64 = CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;

/// A new process for the fork-like `clone` with host `flags`: the child's PID in the
/// parent, 0 in the child, or `-errno`.
///
/// A plain fork (SIGCHLD at exit, at most the TID words) goes through the C library's
/// `fork`, which takes the allocator's and stdio's locks around the system call: other
/// host threads may be inside `malloc` (translating, answering a call) at that moment,
/// and a raw `clone` would leave the child, which has none of those threads, with their
/// locks held for ever. Anything else (namespaces, another exit signal, `CLONE_PARENT`)
/// is a raw `clone`, with that risk.
fn fork_process(flags: u64, parent_tid: u64, child_tid: u64) -> i64 {
    if flags & !TID_WORDS != libc::SIGCHLD as u64 {
        return host_syscall(libc::SYS_clone, &crate::host::raw_clone_args(flags, 0, parent_tid, child_tid, 0));
    }
    // SAFETY: fork in a multithreaded process; the child only runs archway's code for
    // the forking thread, with the C library's locks reset by fork itself.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EAGAIN));
    }
    // As the kernel does: the parent's word in the parent, the child's in the child (a bad
    // address is ignored).
    let tid = if pid == 0 { threads::gettid() } else { pid };
    let word = if pid == 0 {
        (flags & CLONE_CHILD_SETTID != 0).then_some(child_tid)
    } else {
        (flags & CLONE_PARENT_SETTID != 0).then_some(parent_tid)
    };
    if let Some(word) = word {
        let _ = guest_memory::write(word, &tid.to_le_bytes());
    }
    i64::from(pid)
}

/// `clone` of a thread: its TID or `-errno`.
fn clone_thread(ctx: &mut SyscallContext, flags: u64, stack: u64, parent_tid: u64, tls: u64, child_tid: u64) -> i64 {
    let unsupported = flags & !(THREAD_FLAGS | EXIT_SIGNAL_MASK);
    if flags & CLONE_THREAD == 0 || unsupported != 0 {
        if ctx.process.first_time("clone", flags) {
            tracing::warn!(
                "clone({flags:#x}): only threads (CLONE_THREAD) share memory, without flags {unsupported:#x}: -ENOSYS"
            );
        }
        return errno(libc::ENOSYS);
    }
    let given = |flag: u64, value: u64| (flags & flag != 0).then_some(value);
    let new = NewThread {
        stack,
        tls: given(CLONE_SETTLS, tls),
        parent_tid: given(CLONE_PARENT_SETTID, parent_tid),
        child_tid: given(CLONE_CHILD_SETTID, child_tid),
        clear_child_tid: given(CLONE_CHILD_CLEARTID, child_tid).unwrap_or(0),
        unshare: !flags & (CLONE_FS | CLONE_FILES),
    };
    threads::spawn(ctx, new)
}

/// `set_tid_address(tidptr)`: the word to zero and wake when the thread ends (kept
/// by archway, see [`crate::threads`]); returns the caller's TID.
pub fn set_tid_address(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    ctx.thread.clear_child_tid = a[0];
    ret(i64::from(ctx.thread.tid))
}

/// `set_robust_list(head, len)`: passed to the host (so the kernel handles the list
/// if the process dies), and remembered, because archway walks it itself when the
/// guest thread ends ([`crate::robust_list`]).
pub fn set_robust_list(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let result = host_syscall(libc::SYS_set_robust_list, a);
    if result == 0 {
        ctx.thread.robust_list = a[0];
    }
    ret(result)
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
    // The machine field as arm64 Linux reports it.
    for (dst, &src) in name.machine.iter_mut().zip(archway_arch::ARM64.kernel.as_bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: utsname is six arrays of bytes, the same layout on both architectures.
    let bytes = unsafe {
        std::slice::from_raw_parts(&name as *const libc::utsname as *const u8, std::mem::size_of::<libc::utsname>())
    };
    ret_or_fault(guest_memory::write(a[0], bytes), 0)
}

/// `prctl` options whose host answer would describe archway or the x86_64 host.
mod prctl_option {
    pub const GET_TSC: u64 = 25;
    pub const SET_TSC: u64 = 26;
    pub const SET_SECCOMP: u64 = 22;
    pub const GET_TID_ADDRESS: u64 = 40;
    pub const GET_AUXV: u64 = 0x4155_5856;
}

/// Size of arm64's `mm->saved_auxv`: `AT_VECTOR_SIZE` = 2 * (2 + 22 + 1) words.
const SAVED_AUXV_BYTES: usize = 2 * (2 + 22 + 1) * 8;

/// `prctl(option, ...)`: passed through (the host thread is the guest thread, so
/// per-thread values such as the name, the death signal or `no_new_privs` stay per
/// thread), except:
/// - `PR_SET_SECCOMP`: refused (`EINVAL`): a guest filter would judge archway's own
///   x86_64 calls by aarch64 rules;
/// - `PR_GET_TSC`/`PR_SET_TSC`: x86 only, `EINVAL` on arm64 (the host would make
///   archway's own timer reads fault);
/// - `PR_GET_TID_ADDRESS`: the guest's clear-TID word, which archway keeps (the host's
///   is the C library's);
/// - `PR_GET_AUXV`: the guest's auxiliary vector, not archway's.
pub fn prctl(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    match a[0] & 0xffff_ffff {
        prctl_option::SET_SECCOMP | prctl_option::GET_TSC | prctl_option::SET_TSC => ret(errno(libc::EINVAL)),
        prctl_option::GET_TID_ADDRESS => ret_or_fault(guest_memory::write_u64(a[1], ctx.thread.clear_child_tid), 0),
        prctl_option::GET_AUXV => {
            if a[3] != 0 || a[4] != 0 {
                return ret(errno(libc::EINVAL));
            }
            let mut bytes = ctx.process.image.auxv_bytes();
            // The kernel copies from, and reports the size of, its fixed `saved_auxv`.
            bytes.resize(bytes.len().max(SAVED_AUXV_BYTES), 0);
            let copied = bytes.len().min(a[2] as usize);
            ret_or_fault(guest_memory::write(a[1], &bytes[..copied]), bytes.len() as i64)
        }
        _ => ret(host_syscall(libc::SYS_prctl, a)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utsname_is_the_same_size_on_both_architectures() {
        // struct new_utsname: six fields of __NEW_UTS_LEN + 1 = 65 bytes.
        assert_eq!(std::mem::size_of::<libc::utsname>(), 6 * 65);
    }
}
