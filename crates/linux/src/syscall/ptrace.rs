//! `ptrace`: the requests whose meaning does not depend on the architecture go to the
//! host; the rest answer `-EIO`, the kernel's answer to a request it does not know.
//!
//! Passed through: `PTRACE_TRACEME` (a child about to exec, as Go's
//! `SysProcAttr.Ptrace` and debuggers' launchers do), attaching, seizing, interrupting
//! and detaching, continuing and killing, options and event messages, siginfo and
//! signal masks (`siginfo_t` and the 64-bit sigset are the same on both), and reading and
//! writing words of the tracee's memory (guest memory is host memory, so a word at a
//! guest address is the same word for a tracee run by archway). Refused: everything
//! that reads or writes registers or the user area (`PEEKUSER`, `GETREGSET`...),
//! single-stepping and syscall stops, whose host answers would describe x86_64
//! registers, instructions and system calls of the translator rather than the arm64
//! program.

use super::{errno, host_syscall, ret, Args, Outcome, SyscallContext};

/// The requests passed to the host unchanged (`linux/ptrace.h`, generic numbers).
const ARCHITECTURE_NEUTRAL: [u64; 18] = [
    0,      // PTRACE_TRACEME
    1,      // PTRACE_PEEKTEXT
    2,      // PTRACE_PEEKDATA
    4,      // PTRACE_POKETEXT
    5,      // PTRACE_POKEDATA
    7,      // PTRACE_CONT
    8,      // PTRACE_KILL
    16,     // PTRACE_ATTACH
    17,     // PTRACE_DETACH
    0x4200, // PTRACE_SETOPTIONS
    0x4201, // PTRACE_GETEVENTMSG
    0x4202, // PTRACE_GETSIGINFO
    0x4203, // PTRACE_SETSIGINFO
    0x4206, // PTRACE_SEIZE
    0x4207, // PTRACE_INTERRUPT
    0x4208, // PTRACE_LISTEN
    0x420a, // PTRACE_GETSIGMASK
    0x420b, // PTRACE_SETSIGMASK
];

/// `ptrace(request, pid, addr, data)`.
pub fn ptrace(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let request = a[0] & 0xffff_ffff;
    if ARCHITECTURE_NEUTRAL.contains(&request) {
        return ret(host_syscall(libc::SYS_ptrace, a));
    }
    if ctx.process.first_time("ptrace", request) {
        tracing::warn!("ptrace request {request:#x} reads or changes registers or steps: -EIO");
    }
    ret(errno(libc::EIO))
}
