//! `ioctl`: the terminal, file-descriptor and file-system requests, passed through.
//!
//! arm64 and x86_64 both take their tty ioctl numbers from `asm-generic/ioctls.h`
//! and their `termios`, `termios2` and `winsize` from `asm-generic/termbits.h`, so
//! these requests have the same numbers and argument layouts on both; so do the
//! `linux/fs.h` requests (their arguments are `long`, `int` or 64-bit-only structures
//! such as `file_clone_range` and `fiemap`; `cp` tries `FICLONE` on every copy, dpkg
//! asks for `FS_IOC_FIEMAP` to order its reads). They are listed here, and a test
//! checks the numbers against the host's. Any other request is answered `-ENOTTY`
//! ("inappropriate ioctl for device", what the kernel says for a request a file does
//! not support) and logged once per request number.

use super::{errno, host_syscall, ret, Args, Outcome, SyscallContext};

/// Requests that mean the same on both architectures: (number, name).
pub const PASSTHROUGH_REQUESTS: &[(u32, &str)] = &[
    (0x5401, "TCGETS"),
    (0x5402, "TCSETS"),
    (0x5403, "TCSETSW"),
    (0x5404, "TCSETSF"),
    (0x5409, "TCSBRK"),
    (0x540A, "TCXONC"),
    (0x540B, "TCFLSH"),
    (0x540C, "TIOCEXCL"),
    (0x540D, "TIOCNXCL"),
    (0x540E, "TIOCSCTTY"),
    (0x540F, "TIOCGPGRP"),
    (0x5410, "TIOCSPGRP"),
    (0x5411, "TIOCOUTQ"),
    (0x5412, "TIOCSTI"),
    (0x5413, "TIOCGWINSZ"),
    (0x5414, "TIOCSWINSZ"),
    (0x541B, "FIONREAD"),
    (0x5421, "FIONBIO"),
    (0x5422, "TIOCNOTTY"),
    (0x5424, "TIOCGETD"),
    (0x5425, "TCSBRKP"),
    (0x5429, "TIOCGSID"),
    (0x802C_542A, "TCGETS2"),
    (0x402C_542B, "TCSETS2"),
    (0x402C_542C, "TCSETSW2"),
    (0x402C_542D, "TCSETSF2"),
    (0x8004_5430, "TIOCGPTN"),
    (0x4004_5431, "TIOCSPTLCK"),
    (0x5441, "TIOCGPTPEER"),
    (0x5450, "FIONCLEX"),
    (0x5451, "FIOCLEX"),
    (0x5452, "FIOASYNC"),
    (0x5460, "FIOQSIZE"),
    (0x1268, "BLKSSZGET"),
    (0x8008_6601, "FS_IOC_GETFLAGS"),
    (0x4008_6602, "FS_IOC_SETFLAGS"),
    (0x8008_7601, "FS_IOC_GETVERSION"),
    (0x4008_7602, "FS_IOC_SETVERSION"),
    (0x4004_9409, "FICLONE"),
    (0x4020_940D, "FICLONERANGE"),
    (0xC020_660B, "FS_IOC_FIEMAP"),
];

/// `ioctl(fd, request, arg)`.
pub fn ioctl(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    let request = a[1] as u32;
    if PASSTHROUGH_REQUESTS.iter().any(|&(nr, _)| nr == request) {
        return ret(host_syscall(libc::SYS_ioctl, &[a[0], u64::from(request), a[2], 0, 0, 0]));
    }
    if ctx.process.first_time("ioctl", u64::from(request)) {
        tracing::warn!("ioctl request {request:#x} on fd {} is not translated: -ENOTTY", a[0] as i32);
    }
    ret(errno(libc::ENOTTY))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same requests by the host's (x86_64) numbers.
    #[test]
    fn numbers_agree_with_the_host() {
        let host: &[(u64, &str)] = &[
            (libc::TCGETS, "TCGETS"),
            (libc::TCSETS, "TCSETS"),
            (libc::TCSETSW, "TCSETSW"),
            (libc::TCSETSF, "TCSETSF"),
            (libc::TCSBRK, "TCSBRK"),
            (libc::TCXONC, "TCXONC"),
            (libc::TCFLSH, "TCFLSH"),
            (libc::TIOCEXCL, "TIOCEXCL"),
            (libc::TIOCNXCL, "TIOCNXCL"),
            (libc::TIOCSCTTY, "TIOCSCTTY"),
            (libc::TIOCGPGRP, "TIOCGPGRP"),
            (libc::TIOCSPGRP, "TIOCSPGRP"),
            (libc::TIOCOUTQ, "TIOCOUTQ"),
            (libc::TIOCSTI, "TIOCSTI"),
            (libc::TIOCGWINSZ, "TIOCGWINSZ"),
            (libc::TIOCSWINSZ, "TIOCSWINSZ"),
            (libc::FIONREAD, "FIONREAD"),
            (libc::FIONBIO, "FIONBIO"),
            (libc::TIOCNOTTY, "TIOCNOTTY"),
            (libc::TIOCGETD, "TIOCGETD"),
            (libc::TCSBRKP, "TCSBRKP"),
            (libc::TIOCGSID, "TIOCGSID"),
            (libc::TCGETS2, "TCGETS2"),
            (libc::TCSETS2, "TCSETS2"),
            (libc::TCSETSW2, "TCSETSW2"),
            (libc::TCSETSF2, "TCSETSF2"),
            (libc::TIOCGPTN, "TIOCGPTN"),
            (libc::TIOCSPTLCK, "TIOCSPTLCK"),
            (libc::TIOCGPTPEER, "TIOCGPTPEER"),
            (libc::FIONCLEX, "FIONCLEX"),
            (libc::FIOCLEX, "FIOCLEX"),
            (libc::FIOASYNC, "FIOASYNC"),
            (libc::FIOQSIZE, "FIOQSIZE"),
            (libc::BLKSSZGET, "BLKSSZGET"),
            (libc::FS_IOC_GETFLAGS, "FS_IOC_GETFLAGS"),
            (libc::FS_IOC_SETFLAGS, "FS_IOC_SETFLAGS"),
            (libc::FS_IOC_GETVERSION, "FS_IOC_GETVERSION"),
            (libc::FS_IOC_SETVERSION, "FS_IOC_SETVERSION"),
            (libc::FICLONE, "FICLONE"),
            (libc::FICLONERANGE, "FICLONERANGE"),
            // _IOWR('f', 11, struct fiemap): the libc crate has no constant for it.
            ((3 << 30) | (32 << 16) | (u64::from(b'f') << 8) | 11, "FS_IOC_FIEMAP"),
        ];
        assert_eq!(host.len(), PASSTHROUGH_REQUESTS.len());
        for (&(guest_nr, guest_name), &(host_nr, host_name)) in PASSTHROUGH_REQUESTS.iter().zip(host) {
            assert_eq!(guest_name, host_name);
            assert_eq!(u64::from(guest_nr), host_nr, "{guest_name}");
        }
    }

    #[test]
    fn termios_layouts_agree() {
        // asm-generic termbits: 4 tcflag_t, c_line, 19 c_cc; termios2 adds 2 speeds.
        assert_eq!(std::mem::size_of::<libc::termios2>(), 44);
        assert_eq!(std::mem::size_of::<libc::winsize>(), 8);
        // linux/fs.h: four 64-bit fields on both; struct fiemap is two u64 and four u32
        // followed by the fiemap_extent array (56 bytes each, u64 and u32 fields only).
        assert_eq!(std::mem::size_of::<libc::file_clone_range>(), 32);
    }
}
