//! `COPY` and `ADD` of local files into a stage's root directory, with Docker's rules:
//!
//! - A directory source copies its contents, not itself (with `--parents`, its path
//!   under the context is kept); a file source lands at the destination, or inside it
//!   when the destination ends in `/` or is an existing directory.
//! - Several sources, or a wildcard, need a destination directory written with a
//!   trailing `/`.
//! - Files keep their modes and modification times (`--chmod` replaces the mode), and
//!   belong to root, or to `--chown`'s ids; so do the directories created on the way.
//!   Symbolic links inside a copied directory are copied as links; a source that is
//!   itself a link was already resolved to its target.
//! - The destination is resolved inside the root as in a chroot: symbolic links on the
//!   way are followed inside it, and a link at the final name is replaced, never
//!   written through, so nothing outside the root is ever written.

use crate::confined::resolve_in_root;
use crate::context::{Ignore, Source};
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// How to copy.
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    /// `--chown`, resolved to ids; root's when not given.
    pub owner: Option<(u32, u32)>,
    /// `--chmod`, the mode bits to set on every file and directory copied.
    pub mode: Option<u32>,
    /// `--parents`: keep each source's path under the tree.
    pub parents: bool,
    /// The words were wildcards or several: the destination must be a directory.
    pub several: bool,
    /// `--exclude` patterns, matched as BuildKit matches them: against paths below each
    /// copied directory, relative to it (a source named on the command line is copied).
    pub exclude: Ignore,
}

/// Why a copy failed.
#[derive(Debug)]
pub enum CopyError {
    /// Several sources to a destination not written as a directory.
    NotADirectory(String),
    /// A symbolic link loop on the way to the destination.
    LinkLoop(String),
    Io(PathBuf, io::Error),
}

impl fmt::Display for CopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyError::NotADirectory(destination) => write!(
                f,
                "When using COPY with more than one source file, the destination must be a directory and end with a / (not {destination})"
            ),
            CopyError::LinkLoop(destination) => write!(f, "{destination}: too many levels of symbolic links"),
            CopyError::Io(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

impl std::error::Error for CopyError {}

/// Parse `--chmod`: octal digits only.
pub fn parse_chmod(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|mode| *mode <= 0o7777)
        .ok_or_else(|| format!("invalid chmod parameter {text:?}: only octal modes such as 0755 are supported"))
}

/// Copy `sources` (from a tree whose `.dockerignore` is `ignore`) to `destination`
/// (absolute in the stage, already joined with `WORKDIR`) under `root`.
pub fn copy_sources(
    root: &Path,
    sources: &[Source],
    destination: &str,
    ignore: &Ignore,
    options: &CopyOptions,
) -> Result<(), CopyError> {
    let into_directory = destination.ends_with('/');
    if (options.several || sources.len() > 1) && !into_directory {
        return Err(CopyError::NotADirectory(destination.to_owned()));
    }
    let destination_path = inside(root, destination)?;
    let destination_is_dir = into_directory || is_directory(&destination_path);
    for source in sources {
        let metadata = fs::metadata(&source.path).map_err(|e| CopyError::Io(source.path.clone(), e))?;
        let mut target = destination_path.clone();
        if options.parents {
            target = inside(root, &format!("{}/{}", destination.trim_end_matches('/'), source.relative))?;
        } else if !metadata.is_dir() && destination_is_dir {
            let name = Path::new(&source.relative).file_name().map(PathBuf::from).unwrap_or_default();
            target = target.join(name);
        }
        make_parents(root, &target, options)?;
        if metadata.is_dir() {
            copy_tree(&source.path, (&source.relative, ""), &target, ignore, options)?;
        } else {
            copy_entry(&source.path, &target, options)?;
        }
    }
    Ok(())
}

/// Write a heredoc's content as a file (`COPY <<EOF /dest`), mode 0644 unless `--chmod`.
pub fn write_inline(
    root: &Path,
    destination: &str,
    name: &str,
    data: &str,
    options: &CopyOptions,
) -> Result<(), CopyError> {
    let mut target = inside(root, destination)?;
    if destination.ends_with('/') || is_directory(&target) {
        target = target.join(name);
    }
    make_parents(root, &target, options)?;
    replace_link(&target)?;
    fs::write(&target, data).map_err(|e| CopyError::Io(target.clone(), e))?;
    finish(&target, options.mode.unwrap_or(0o644), options)
}

/// The host path of `path` (absolute in the stage) with symbolic links among its parent
/// components followed inside `root`; the last component is left as it is.
pub fn inside(root: &Path, path: &str) -> Result<PathBuf, CopyError> {
    let relative = resolve_in_root(root, path, false).map_err(|_| CopyError::LinkLoop(path.to_owned()))?;
    Ok(root.join(relative))
}

/// Create the missing directories above `target` (inside `root`), owned as the copy.
fn make_parents(root: &Path, target: &Path, options: &CopyOptions) -> Result<(), CopyError> {
    let Some(parent) = target.parent() else { return Ok(()) };
    let mut missing = Vec::new();
    let mut dir = parent;
    while dir.starts_with(root) && dir != root && fs::symlink_metadata(dir).is_err() {
        missing.push(dir);
        dir = dir.parent().unwrap_or(root);
    }
    for dir in missing.into_iter().rev() {
        fs::create_dir(dir).map_err(|e| CopyError::Io(dir.to_path_buf(), e))?;
        finish(dir, options.mode.unwrap_or(0o755), options)?;
    }
    Ok(())
}

/// Copy the contents of directory `from` into `to`; `relative` is its path in its tree
/// (for `.dockerignore`) and below the copied source (for `--exclude`).
fn copy_tree(
    from: &Path,
    relative: (&str, &str),
    to: &Path,
    ignore: &Ignore,
    options: &CopyOptions,
) -> Result<(), CopyError> {
    let (in_tree, in_source) = relative;
    if !is_directory(to) {
        replace_link(to)?;
        fs::create_dir(to).map_err(|e| CopyError::Io(to.to_path_buf(), e))?;
        let mode = fs::metadata(from).map_err(|e| CopyError::Io(from.to_path_buf(), e))?.mode() & 0o7777;
        finish(to, options.mode.unwrap_or(mode), options)?;
    }
    let mut entries: Vec<_> = fs::read_dir(from)
        .map_err(|e| CopyError::Io(from.to_path_buf(), e))?
        .collect::<Result<_, _>>()
        .map_err(|e| CopyError::Io(from.to_path_buf(), e))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name();
        let join = |parent: &str| {
            if parent.is_empty() {
                name.to_string_lossy().into_owned()
            } else {
                format!("{parent}/{}", name.to_string_lossy())
            }
        };
        let (child_in_tree, child_in_source) = (join(in_tree), join(in_source));
        let excluded = ignore.excludes(&child_in_tree) || options.exclude.excludes(&child_in_source);
        if excluded && !ignore.has_exceptions() && !options.exclude.has_exceptions() {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        let file_type = entry.file_type().map_err(|e| CopyError::Io(source.clone(), e))?;
        if file_type.is_dir() {
            copy_tree(&source, (&child_in_tree, &child_in_source), &target, ignore, options)?;
        } else if !excluded {
            copy_entry(&source, &target, options)?;
        }
    }
    Ok(())
}

/// Copy one non-directory: a file's bytes, a link as a link, a FIFO or device as one.
fn copy_entry(from: &Path, to: &Path, options: &CopyOptions) -> Result<(), CopyError> {
    let io = |e| CopyError::Io(from.to_path_buf(), e);
    let metadata = fs::symlink_metadata(from).map_err(io)?;
    replace_link(to)?;
    if metadata.file_type().is_symlink() {
        let target = fs::read_link(from).map_err(io)?;
        let _ = fs::remove_file(to);
        std::os::unix::fs::symlink(&target, to).map_err(|e| CopyError::Io(to.to_path_buf(), e))?;
        return own(to, options);
    }
    if metadata.is_file() {
        fs::copy(from, to).map_err(|e| CopyError::Io(to.to_path_buf(), e))?;
    } else {
        // FIFOs and device nodes: recreated (devices only where the kernel allows it).
        let path = std::ffi::CString::new(to.as_os_str().as_encoded_bytes()).map_err(|_| {
            CopyError::Io(to.to_path_buf(), io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the path"))
        })?;
        let _ = fs::remove_file(to);
        // SAFETY: `path` is a valid C string; mknod has no other preconditions.
        if unsafe { libc::mknod(path.as_ptr(), metadata.mode(), metadata.rdev()) } != 0 {
            return Err(CopyError::Io(to.to_path_buf(), io::Error::last_os_error()));
        }
    }
    finish(to, options.mode.unwrap_or(metadata.mode() & 0o7777), options)?;
    let mtime = filetime(metadata.mtime(), metadata.mtime_nsec());
    set_mtime(to, mtime)
}

/// Whether `path` is a directory itself (not a link to one).
fn is_directory(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|metadata| metadata.is_dir())
}

/// Remove a symbolic link at `path`, so that writing `path` never follows it.
fn replace_link(path: &Path) -> Result<(), CopyError> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            fs::remove_file(path).map_err(|e| CopyError::Io(path.to_path_buf(), e))
        }
        _ => Ok(()),
    }
}

/// Set the owner, then the mode (chown clears setuid bits).
fn finish(path: &Path, mode: u32, options: &CopyOptions) -> Result<(), CopyError> {
    own(path, options)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| CopyError::Io(path.to_path_buf(), e))
}

/// The copy's owner on `path` (not following a link).
fn own(path: &Path, options: &CopyOptions) -> Result<(), CopyError> {
    let (uid, gid) = options.owner.unwrap_or((0, 0));
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(|e| CopyError::Io(path.to_path_buf(), e))
}

fn filetime(seconds: i64, nanoseconds: i64) -> libc::timespec {
    libc::timespec { tv_sec: seconds as libc::time_t, tv_nsec: nanoseconds as libc::c_long }
}

/// Set the modification time (and access time to the same) without following links.
fn set_mtime(path: &Path, time: libc::timespec) -> Result<(), CopyError> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| {
        CopyError::Io(path.to_path_buf(), io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the path"))
    })?;
    let times = [time, time];
    // SAFETY: valid C string and a two-element timespec array, as utimensat requires.
    if unsafe { libc::utimensat(libc::AT_FDCWD, c_path.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) } != 0 {
        return Err(CopyError::Io(path.to_path_buf(), io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::sources::resolve;

    struct Dirs {
        base: PathBuf,
    }

    impl Drop for Dirs {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.base);
        }
    }

    fn setup(name: &str) -> (Dirs, PathBuf, PathBuf) {
        let base = std::env::temp_dir().join(format!("archway-copy-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let (context, root) = (base.join("context"), base.join("root"));
        fs::create_dir_all(context.join("dir/sub")).unwrap();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(context.join("a.txt"), "a").unwrap();
        fs::write(context.join("b.txt"), "b").unwrap();
        fs::write(context.join("dir/sub/c"), "c").unwrap();
        fs::write(context.join("dir/skip.log"), "log").unwrap();
        fs::set_permissions(context.join("a.txt"), fs::Permissions::from_mode(0o751)).unwrap();
        std::os::unix::fs::symlink("sub/c", context.join("dir/link")).unwrap();
        (Dirs { base }, context, root)
    }

    fn sources(context: &Path, word: &str) -> Vec<Source> {
        resolve(context, word, &Ignore::default()).unwrap()
    }

    #[test]
    fn files_directories_and_their_destinations() {
        let (_dirs, context, root) = setup("dest");
        let options = CopyOptions::default();
        copy_sources(&root, &sources(&context, "a.txt"), "/app/renamed", &Ignore::default(), &options).unwrap();
        assert_eq!(fs::read_to_string(root.join("app/renamed")).unwrap(), "a");
        assert_eq!(fs::metadata(root.join("app/renamed")).unwrap().mode() & 0o7777, 0o751);
        copy_sources(&root, &sources(&context, "a.txt"), "/app/", &Ignore::default(), &options).unwrap();
        assert!(root.join("app/a.txt").is_file());
        let ignore = Ignore::parse("dir/*.log\n").unwrap();
        copy_sources(&root, &sources(&context, "dir"), "/tree", &ignore, &options).unwrap();
        assert_eq!(fs::read_to_string(root.join("tree/sub/c")).unwrap(), "c");
        assert_eq!(fs::read_link(root.join("tree/link")).unwrap(), PathBuf::from("sub/c"));
        assert!(!root.join("tree/skip.log").exists(), ".dockerignore applies inside directories");
        let excluding = CopyOptions { exclude: Ignore::parse("sub\n*.log").unwrap(), ..CopyOptions::default() };
        copy_sources(&root, &sources(&context, "dir"), "/excluded", &Ignore::default(), &excluding).unwrap();
        assert!(root.join("excluded/link").is_symlink(), "--exclude: the rest is copied");
        assert!(!root.join("excluded/sub").exists(), "--exclude matches below the copied directory");
        assert!(!root.join("excluded/skip.log").exists());
        let log_only = CopyOptions { exclude: Ignore::parse("*.log").unwrap(), ..CopyOptions::default() };
        copy_sources(&root, &sources(&context, "dir/skip.log"), "/named.log", &Ignore::default(), &log_only).unwrap();
        assert!(root.join("named.log").is_file(), "a source named on the command line is copied, as BuildKit does");
        let several = CopyOptions { several: true, ..CopyOptions::default() };
        let error = copy_sources(&root, &sources(&context, "*.txt"), "/x", &Ignore::default(), &several).unwrap_err();
        assert!(error.to_string().contains("must be a directory and end with a /"));
        copy_sources(&root, &sources(&context, "*.txt"), "/many/", &Ignore::default(), &several).unwrap();
        assert!(root.join("many/a.txt").is_file() && root.join("many/b.txt").is_file());
        let parents = CopyOptions { parents: true, ..CopyOptions::default() };
        copy_sources(&root, &sources(&context, "dir/sub/c"), "/kept/", &Ignore::default(), &parents).unwrap();
        assert!(root.join("kept/dir/sub/c").is_file());
    }

    #[test]
    fn owners_and_modes() {
        let (_dirs, context, root) = setup("owner");
        let options = CopyOptions { owner: Some((1000, 1001)), mode: Some(0o600), ..CopyOptions::default() };
        copy_sources(&root, &sources(&context, "a.txt"), "/new/dir/", &Ignore::default(), &options).unwrap();
        let file = fs::metadata(root.join("new/dir/a.txt")).unwrap();
        assert_eq!((file.uid(), file.gid(), file.mode() & 0o7777), (1000, 1001, 0o600));
        assert_eq!(fs::metadata(root.join("new")).unwrap().uid(), 1000);
        assert_eq!(parse_chmod("0755"), Ok(0o755));
        assert!(parse_chmod("u+x").is_err());
        write_inline(&root, "/etc/app.conf", "EOF", "port=1\n", &CopyOptions::default()).unwrap();
        assert_eq!(fs::metadata(root.join("etc/app.conf")).unwrap().mode() & 0o7777, 0o644);
    }

    #[test]
    fn links_in_the_root_never_lead_out_of_it() {
        let (dirs, context, root) = setup("links");
        let outside = dirs.base.join("outside");
        fs::create_dir_all(&outside).unwrap();
        // /etc/escape -> an absolute host path, /var -> ../../..: both stay in the root.
        std::os::unix::fs::symlink(&outside, root.join("etc/escape")).unwrap();
        std::os::unix::fs::symlink("../../..", root.join("var")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("final")).unwrap();
        let options = CopyOptions::default();
        copy_sources(&root, &sources(&context, "a.txt"), "/etc/escape/x", &Ignore::default(), &options).unwrap();
        copy_sources(&root, &sources(&context, "a.txt"), "/var/y", &Ignore::default(), &options).unwrap();
        copy_sources(&root, &sources(&context, "a.txt"), "/final", &Ignore::default(), &options).unwrap();
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "nothing written outside the root");
        assert!(root.join(outside.strip_prefix("/").unwrap()).join("x").is_file());
        assert!(root.join("y").is_file());
        assert!(
            root.join("final").is_file() && !fs::symlink_metadata(root.join("final")).unwrap().file_type().is_symlink()
        );
    }
}
