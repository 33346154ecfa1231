//! How the kernel starts `archway-aarch64` under binfmt_misc, and what to run.
//!
//! Without the P flag the kernel runs `interp /full/path/prog args...` (the original
//! argv[0] is lost); with P it runs `interp /full/path/prog argv0 args...` and sets bit 0
//! of `AT_FLAGS` in the interpreter's auxv. With O (and C) it also passes the open
//! binary as `AT_EXECFD`: the program is loaded from that descriptor (so an
//! execute-only program runs, and a setuid one under C is exactly the file the kernel
//! checked, not whatever the path names a moment later). Run by hand,
//! `archway-aarch64 prog args...` is the layout without P.

use std::ffi::OsString;
use std::fs::File;
use std::os::fd::{FromRawFd, RawFd};
use std::path::PathBuf;

/// `AT_FLAGS_PRESERVE_ARGV0` (include/uapi/linux/binfmts.h).
const AT_FLAGS_PRESERVE_ARGV0: u64 = 1;

/// The guest program and its argv.
#[derive(Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The program as the kernel named it.
    pub program: PathBuf,
    pub argv: Vec<OsString>,
    /// The program opened by the kernel (`AT_EXECFD`, O flag).
    pub exec_fd: Option<RawFd>,
}

impl Invocation {
    /// The program file the kernel opened for us, if it did; the descriptor then
    /// belongs to the returned file (closed when it is dropped).
    pub fn take_program_file(&mut self) -> Option<File> {
        // SAFETY: AT_EXECFD is a descriptor the kernel opened for this process and
        // nothing else in it uses; `take` hands it out at most once.
        self.exec_fd.take().map(|fd| unsafe { File::from_raw_fd(fd) })
    }
}

/// What our auxv says about how we were started.
#[derive(Debug, Clone, Copy, Default)]
pub struct Start {
    pub at_flags: u64,
    /// `AT_EXECFD`, 0 when absent.
    pub exec_fd: u64,
}

impl Start {
    /// This process's `AT_FLAGS` and `AT_EXECFD`.
    pub fn current() -> Start {
        // SAFETY: getauxval only reads the auxiliary vector; 0 means absent.
        unsafe { Start { at_flags: libc::getauxval(libc::AT_FLAGS), exec_fd: libc::getauxval(libc::AT_EXECFD) } }
    }

    /// Whether the kernel started us through binfmt_misc with the P or O flag (the
    /// starts that leave a mark in the auxv). Our argv then comes from the kernel and
    /// the user, never from archway's own relaunch.
    pub fn by_binfmt(self) -> bool {
        self.at_flags & AT_FLAGS_PRESERVE_ARGV0 != 0 || self.exec_fd != 0
    }
}

/// The guest to run from our own argv (`args[0]` is the interpreter), or `None` when
/// no program is named.
pub fn parse(args: &[OsString], start: Start) -> Option<Invocation> {
    let path = args.get(1)?.clone();
    let rest = args.get(2..).unwrap_or_default();
    let (argv0, rest) = match rest.split_first() {
        Some((argv0, rest)) if start.at_flags & AT_FLAGS_PRESERVE_ARGV0 != 0 => (argv0.clone(), rest),
        _ => (path.clone(), rest),
    };
    let mut argv = vec![argv0];
    argv.extend_from_slice(rest);
    let exec_fd = RawFd::try_from(start.exec_fd).ok().filter(|&fd| fd > 0);
    Some(Invocation { program: PathBuf::from(path), argv, exec_fd })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn both_layouts() {
        let plain = parse(&args(&["interp", "/bin/echo", "a"]), Start::default()).unwrap();
        assert_eq!(plain.argv, args(&["/bin/echo", "a"]));
        let p = Start { at_flags: 1, exec_fd: 0 };
        let kept = parse(&args(&["interp", "/bin/busybox", "echo", "a"]), p).unwrap();
        assert_eq!((kept.program, kept.argv), (PathBuf::from("/bin/busybox"), args(&["echo", "a"])));
        let empty = parse(&args(&["interp", "/bin/x"]), p).unwrap();
        assert_eq!(empty.argv, args(&["/bin/x"]));
        assert!(parse(&args(&["interp"]), p).is_none());
    }

    #[test]
    fn exec_fd_is_kept_with_the_name() {
        let o = Start { at_flags: 0, exec_fd: 3 };
        let with_fd = parse(&args(&["i", "/bin/x"]), o).unwrap();
        assert_eq!((with_fd.program, with_fd.exec_fd), (PathBuf::from("/bin/x"), Some(3)));
        assert_eq!(parse(&args(&["i", "/bin/x"]), Start::default()).unwrap().exec_fd, None);
        assert!(o.by_binfmt() && Start { at_flags: 1, exec_fd: 0 }.by_binfmt() && !Start::default().by_binfmt());
    }
}
