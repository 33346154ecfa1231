//! Mount points the sandbox had to create in a writable root, removed again once the
//! run is over, so that the root holds only what the command did (BuildKit cleans its
//! mount stubs the same way):
//!
//! - before the run, [`Stubs::plan`] notes which of the setup's mount points the root
//!   lacks, and the modification times of the directories that will hold them;
//! - after it (the namespace gone, and its mounts with it), [`Stubs::remove`] removes
//!   each, last first, if it is still an empty file or an empty directory reached
//!   without following a symbolic link, and gives those directories their times back.
//!   What it leaves (the command wrote into a mount point's directory, replaced it)
//!   is said in notes.

use crate::lookup::Root;
use crate::setup::MountPoint;
use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;

/// The mount points a run creates, and the times to restore.
pub(crate) struct Stubs {
    missing: Vec<MountPoint>,
    /// Directories of the root that get a new entry, with their modification time.
    parents: Vec<(String, libc::timespec)>,
}

impl Stubs {
    /// Nothing to remove (a root the run does not write).
    pub(crate) fn none() -> Stubs {
        Stubs { missing: Vec::new(), parents: Vec::new() }
    }

    /// Which of `points` the run will create in `root`.
    pub(crate) fn plan(root: &Root, points: &[MountPoint]) -> Stubs {
        let mut stubs = Stubs::none();
        for point in points {
            if stubs.missing.iter().any(|m| m.path == point.path) || root.exists(&point.path) {
                continue;
            }
            let parent = parent_of(&point.path);
            let known =
                stubs.missing.iter().any(|m| m.path == parent) || stubs.parents.iter().any(|(p, _)| p == parent);
            if !known {
                if let Ok(time) = modification_time(root, parent) {
                    stubs.parents.push((parent.to_string(), time));
                }
            }
            stubs.missing.push(point.clone());
        }
        stubs
    }

    /// Remove the mount points the run created; notes on what was left.
    pub(crate) fn remove(&self, root: &Root) -> Vec<String> {
        let mut notes = Vec::new();
        let mut left = Vec::new();
        for point in self.missing.iter().rev() {
            if let Err(why) = remove_one(root, point) {
                notes.push(format!("left the mount point {} in the root: {why}", point.path));
                left.push(point.path.as_str());
            }
        }
        for (parent, time) in &self.parents {
            if left.iter().any(|path| parent_of(path) == parent) {
                continue;
            }
            if let Err(e) = restore_modification_time(root, parent, time) {
                notes.push(format!("could not restore the modification time of {parent}: {e}"));
            }
        }
        notes
    }
}

/// The directory holding `path` (absolute, inside the root).
fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(slash) => &path[..slash],
    }
}

fn modification_time(root: &Root, dir: &str) -> io::Result<libc::timespec> {
    let fd = root.open_without_links(dir, libc::O_PATH | libc::O_DIRECTORY)?;
    let metadata = std::fs::File::from(fd).metadata()?;
    use std::os::unix::fs::MetadataExt;
    Ok(libc::timespec { tv_sec: metadata.mtime(), tv_nsec: metadata.mtime_nsec() })
}

fn restore_modification_time(root: &Root, dir: &str, time: &libc::timespec) -> io::Result<()> {
    let fd = root.open_without_links(dir, libc::O_RDONLY | libc::O_DIRECTORY)?;
    let times = [libc::timespec { tv_sec: 0, tv_nsec: libc::UTIME_OMIT }, *time];
    // SAFETY: futimens on our descriptor with our two-element array.
    if unsafe { libc::futimens(fd.as_raw_fd(), times.as_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Remove `point` if it is still what the sandbox made: an empty file or directory.
fn remove_one(root: &Root, point: &MountPoint) -> Result<(), String> {
    let parent = root.open_without_links(parent_of(&point.path), libc::O_PATH | libc::O_DIRECTORY);
    let parent = parent.map_err(|e| format!("its directory: {e}"))?;
    let name = point.path.rsplit('/').next().unwrap_or_default();
    let name = CString::new(name).map_err(|_| "a NUL byte in its name".to_string())?;
    // SAFETY: stat is plain data; fstatat fills it for a name in our directory.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstatat with an open directory descriptor, a C string and a stat buffer of ours.
    if unsafe { libc::fstatat(parent.as_raw_fd(), name.as_ptr(), &mut stat, libc::AT_SYMLINK_NOFOLLOW) } < 0 {
        let error = io::Error::last_os_error();
        return if error.raw_os_error() == Some(libc::ENOENT) { Ok(()) } else { Err(error.to_string()) };
    }
    let kind = stat.st_mode & libc::S_IFMT;
    let flags = match (point.directory, kind) {
        (true, libc::S_IFDIR) => libc::AT_REMOVEDIR,
        (false, libc::S_IFREG) if stat.st_size == 0 => 0,
        _ => return Err("it is no longer what the sandbox made".to_string()),
    };
    // SAFETY: unlinkat of a name in our directory.
    if unsafe { libc::unlinkat(parent.as_raw_fd(), name.as_ptr(), flags) } < 0 {
        return Err(io::Error::last_os_error().to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents() {
        assert_eq!(parent_of("/proc"), "/");
        assert_eq!(parent_of("/etc/resolv.conf"), "/etc");
        assert_eq!(parent_of("/a/b/c"), "/a/b");
    }
}
