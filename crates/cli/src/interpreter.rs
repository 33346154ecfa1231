//! How the kernel starts `archway-aarch64` under binfmt_misc, and what to run.
//!
//! Without the P flag the kernel runs `interp /full/path/prog args...` (the original
//! argv[0] is lost); with P it runs `interp /full/path/prog argv0 args...` and sets bit 0
//! of `AT_FLAGS` in the interpreter's auxv. With O (and C) it also passes the open
//! binary as `AT_EXECFD`, which lets an execute-only program be loaded. Run by hand,
//! `archway-aarch64 prog args...` is the layout without P.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// `AT_FLAGS_PRESERVE_ARGV0` (include/uapi/linux/binfmts.h).
const AT_FLAGS_PRESERVE_ARGV0: u64 = 1;

/// The guest program and its argv.
#[derive(Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The program as the kernel named it, or `/proc/self/fd/N` when the kernel handed
    /// us the binary (O) and we cannot read it by name (an execute-only program).
    pub program: PathBuf,
    pub argv: Vec<OsString>,
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
    let named = PathBuf::from(path);
    let program = if start.exec_fd != 0 && !readable(&named) {
        PathBuf::from(format!("/proc/self/fd/{}", start.exec_fd))
    } else {
        named
    };
    Some(Invocation { program, argv })
}

/// Whether we may read `path` (an execute-only binary is not readable).
fn readable(path: &std::path::Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else { return false };
    // SAFETY: `c` is a valid NUL-terminated string.
    unsafe { libc::access(c.as_ptr(), libc::R_OK) == 0 }
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
    fn exec_fd_only_when_unreadable() {
        let o = Start { at_flags: 0, exec_fd: 3 };
        assert_eq!(parse(&args(&["i", "/proc/self/exe"]), o).unwrap().program, PathBuf::from("/proc/self/exe"));
        assert_eq!(parse(&args(&["i", "/nonexistent/x"]), o).unwrap().program, PathBuf::from("/proc/self/fd/3"));
    }
}
