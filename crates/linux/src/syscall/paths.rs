//! Path arguments under the guest root.
//!
//! With a guest root, every absolute path a file system call takes is resolved by
//! [`crate::guest_root::resolve`] (`ROOT/P` if it exists, else the host's `P`) before
//! the host sees it. The calls, with the argument positions of their paths, are the
//! table rows made with `host_paths` (xattrs, `*at` calls, `statfs`, `truncate`,
//! `chdir`, `chroot`, `statx`, `inotify_add_watch`...) plus the emulated `openat`,
//! `newfstatat` and `readlinkat`; `execve` has its own, stricter rule
//! ([`super::exec`]). Relative paths and `NULL` pointers pass unchanged. Without a
//! root nothing is read or copied.

use super::{host_syscall, Args, SyscallContext};
use crate::{guest_memory, guest_root};
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

/// Run `call` with the path arguments at `positions` of `args` resolved under the
/// guest root. A path that cannot be read is passed as is (the host then answers
/// `EFAULT` or `ENAMETOOLONG` itself).
pub fn with_resolved(ctx: &SyscallContext, args: &Args, positions: &[usize], call: impl FnOnce(&Args) -> i64) -> i64 {
    let Some(root) = ctx.process.image.root.as_deref() else {
        return call(args);
    };
    let mut resolved_args = *args;
    // Keeps the resolved strings alive until the call.
    let mut keep = Vec::with_capacity(positions.len());
    for &at in positions {
        if let Some(resolved) = resolve_pointer(args[at], root) {
            resolved_args[at] = resolved.as_ptr() as u64;
            keep.push(resolved);
        }
    }
    call(&resolved_args)
}

/// The host call `nr` with the paths at `positions` resolved.
pub fn host_with_paths(ctx: &SyscallContext, nr: libc::c_long, positions: &[usize], args: &Args) -> i64 {
    with_resolved(ctx, args, positions, |a| host_syscall(nr, a))
}

/// The resolved copy of the guest path at `ptr`, when it is absolute and resolves
/// somewhere else.
fn resolve_pointer(ptr: u64, root: &Path) -> Option<CString> {
    if ptr == 0 {
        return None;
    }
    let path = guest_memory::read_c_string(ptr, libc::PATH_MAX as usize).ok()?;
    if !path.starts_with(b"/") {
        return None;
    }
    let original = Path::new(OsStr::from_bytes(&path));
    let resolved = guest_root::resolve(original, Some(root));
    if resolved == original {
        return None;
    }
    CString::new(resolved.into_os_string().into_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_paths_that_exist_under_the_root_move() {
        let root = std::env::temp_dir().join(format!("archway-paths-{}", std::process::id()));
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/hostname"), b"guest\n").unwrap();
        let inside = resolve_pointer(c"/etc/hostname".as_ptr() as u64, &root).unwrap();
        assert_eq!(inside.as_bytes(), root.join("etc/hostname").as_os_str().as_bytes());
        assert_eq!(resolve_pointer(c"/etc/passwd".as_ptr() as u64, &root), None);
        assert_eq!(resolve_pointer(c"etc/hostname".as_ptr() as u64, &root), None);
        assert_eq!(resolve_pointer(0, &root), None);
        std::fs::remove_dir_all(root).unwrap();
    }
}
