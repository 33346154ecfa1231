//! The guest root (`-L ROOT` / `ARCHWAY_ROOT`): where the guest's absolute paths
//! point.
//!
//! The rule, the one `qemu -L` applies:
//! - an **absolute** path `/P` names `ROOT/P` when that exists (`lstat` succeeds, so a
//!   dangling symlink inside the root counts), and the host's `/P` otherwise; `/`
//!   itself is `ROOT`. Used for the main program, its `PT_INTERP` interpreter and the
//!   path arguments of the file system calls listed in
//!   [`crate::syscall::paths`] (`openat`, the stat family, `readlinkat`, `faccessat`,
//!   xattrs, ...).
//! - a **relative** path is left alone (it is relative to the current directory or a
//!   directory descriptor, both of which are host paths already).
//! - **one exception** ([`resolve_exec`]): the program of an `execve` with an absolute
//!   path must exist inside the root; it never falls back to the host, so a guest's
//!   child cannot run the host's `/bin/sh` because the root lacks one (`ENOENT`, as in
//!   a chroot). The same holds for the interpreter of a `#!` script run by `execve`.
//!   The one host file an exec may still name by its host path is the guest's own
//!   program: a program started as `archway run -L ROOT ROOT/usr/bin/python3` (or from
//!   outside the root) knows itself by that path (`sys.executable`, `argv[0]`), and
//!   must be able to run it again, as it can on hardware and through binfmt_misc.
//!
//! Known limits of the rule (shared with qemu): the host kernel follows symlinks, so
//! an absolute symlink inside the root (`/etc/alternatives/awk` -> `/usr/bin/mawk`)
//! resolves against the host's `/`; a file created at a path that does not exist in
//! the root is created on the host; `getcwd` and `/proc/self/cwd` show host paths.

use std::io;
use std::path::{Path, PathBuf};

/// `ROOT/path` if `path` is absolute and exists under `root`, else `path`.
pub fn resolve(path: &Path, root: Option<&Path>) -> PathBuf {
    match inside(path, root) {
        Some(inside) if inside.symlink_metadata().is_ok() => inside,
        _ => path.to_path_buf(),
    }
}

/// The file an `execve` of `path` runs: under `root` only, for an absolute path
/// (`ENOENT` if it is not there, unless the host's `path` is `own_program`, the guest's
/// own program); `path` itself otherwise.
pub fn resolve_exec(path: &Path, root: Option<&Path>, own_program: &Path) -> io::Result<PathBuf> {
    match inside(path, root) {
        Some(inside) if inside.symlink_metadata().is_ok() => Ok(inside),
        Some(_) if same_file(path, own_program) => Ok(path.to_path_buf()),
        Some(_) => Err(io::Error::from_raw_os_error(libc::ENOENT)),
        None => Ok(path.to_path_buf()),
    }
}

/// Whether host paths `a` and `b` name the same file (symlinks followed).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (a.metadata(), b.metadata()) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// The guest's view of host path `path`: without the `root` prefix if it lies inside
/// the root (`/proc/self/exe`, names in `/proc/self/maps`).
pub fn guest_view(path: &Path, root: Option<&Path>) -> PathBuf {
    match root.and_then(|root| path.strip_prefix(root).ok()) {
        Some(relative) => Path::new("/").join(relative),
        None => path.to_path_buf(),
    }
}

/// `ROOT/path` for an absolute `path` when there is a root.
fn inside(path: &Path, root: Option<&Path>) -> Option<PathBuf> {
    let relative = path.strip_prefix("/").ok()?;
    Some(root?.join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_root(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("archway-root-{name}-{}", std::process::id()));
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::write(root.join("bin/prog"), b"").unwrap();
        root
    }

    #[test]
    fn absolute_paths_prefer_the_root_and_fall_back_to_the_host() {
        let root = scratch_root("lookup");
        assert_eq!(resolve(Path::new("/bin/prog"), Some(&root)), root.join("bin/prog"));
        assert_eq!(resolve(Path::new("/bin/other"), Some(&root)), PathBuf::from("/bin/other"));
        assert_eq!(resolve(Path::new("/"), Some(&root)), root.join(""));
        assert_eq!(resolve(Path::new("bin/prog"), Some(&root)), PathBuf::from("bin/prog"));
        assert_eq!(resolve(Path::new("/bin/prog"), None), PathBuf::from("/bin/prog"));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn exec_never_leaves_the_root_but_for_the_guests_own_program() {
        let root = scratch_root("exec");
        let own = root.join("bin/prog");
        assert_eq!(resolve_exec(Path::new("/bin/prog"), Some(&root), &own).unwrap(), root.join("bin/prog"));
        let missing = resolve_exec(Path::new("/bin/true"), Some(&root), &own).unwrap_err();
        assert_eq!(missing.raw_os_error(), Some(libc::ENOENT));
        assert_eq!(resolve_exec(Path::new("/bin/true"), None, &own).unwrap(), PathBuf::from("/bin/true"));
        assert_eq!(resolve_exec(Path::new("./x"), Some(&root), &own).unwrap(), PathBuf::from("./x"));
        // The host path the program was started by: itself, and nothing else of the host.
        assert_eq!(resolve_exec(&own, Some(&root), &own).unwrap(), own);
        let own_host = Path::new("/bin/true");
        assert_eq!(resolve_exec(own_host, Some(&root), own_host).unwrap(), PathBuf::from("/bin/true"));
        assert!(resolve_exec(Path::new("/bin/false"), Some(&root), own_host).is_err());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn guest_view_strips_the_root() {
        let root = Path::new("/srv/rootfs");
        assert_eq!(guest_view(Path::new("/srv/rootfs/bin/sh"), Some(root)), PathBuf::from("/bin/sh"));
        assert_eq!(guest_view(Path::new("/usr/bin/x"), Some(root)), PathBuf::from("/usr/bin/x"));
        assert_eq!(guest_view(Path::new("/usr/bin/x"), None), PathBuf::from("/usr/bin/x"));
    }
}
