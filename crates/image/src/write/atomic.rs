//! Writing without leaving anything half-written: temporary files and directories made
//! next to where they will end up (on the same file system, so one `rename` puts them in
//! place), and removed when they are dropped without having been put in place, on an
//! error or a panic alike.

use crate::error::Error;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Makes temporary names unique within the process (the pid makes them unique between
/// processes).
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// `.archway-tmp-<label>-<pid>-<n>`: a hidden name that no image file has.
fn unique_name(label: &str) -> String {
    format!(".archway-tmp-{label}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The directory `dest` is in (which must exist), and its file name.
pub fn split_destination(dest: &Path) -> Result<(PathBuf, String), Error> {
    let name = dest.file_name().ok_or_else(|| {
        Error::invalid(dest.display().to_string(), "not a name a file or directory can be written at")
    })?;
    let parent = match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Error::invalid(
            dest.display().to_string(),
            format!("the directory it would be in, {}, does not exist", parent.display()),
        ));
    }
    Ok((parent, name.to_string_lossy().into_owned()))
}

/// A path that is removed (file or directory tree) when dropped, unless
/// [`TempPath::placed`] said it no longer exists under this name.
#[derive(Debug)]
pub struct TempPath {
    path: PathBuf,
    armed: bool,
}

impl TempPath {
    /// A new empty file in `dir`, created exclusively; the guard and the file.
    pub fn file_in(dir: &Path, label: &str) -> Result<(TempPath, File), Error> {
        let path = dir.join(unique_name(label));
        let file = OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .mode(0o644)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok((TempPath { path, armed: true }, file))
    }

    /// A new file next to `dest`, to be renamed onto it.
    pub fn file_next_to(dest: &Path) -> Result<(TempPath, File), Error> {
        let (parent, name) = split_destination(dest)?;
        TempPath::file_in(&parent, &name)
    }

    /// A new empty directory next to `dest`, to be renamed onto it.
    pub fn dir_next_to(dest: &Path) -> Result<TempPath, Error> {
        let (parent, name) = split_destination(dest)?;
        let path = parent.join(unique_name(&name));
        std::fs::create_dir(&path).map_err(|e| Error::io(&path, e))?;
        Ok(TempPath { path, armed: true })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stop guarding this path: it is kept; its name.
    pub fn keep(mut self) -> PathBuf {
        self.armed = false;
        std::mem::take(&mut self.path)
    }

    /// Rename this path to `dest` (replacing a file there, or an empty directory); from
    /// then on it is no longer removed.
    pub fn rename_to(mut self, dest: &Path) -> Result<(), Error> {
        std::fs::rename(&self.path, dest).map_err(|e| {
            Error::io(dest, std::io::Error::new(e.kind(), format!("cannot move {} here: {e}", self.path.display())))
        })?;
        self.armed = false;
        Ok(())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Best effort: a leftover temporary name is harmless, and a drop cannot report.
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if m.is_dir() => drop(std::fs::remove_dir_all(&self.path)),
            Ok(_) => drop(std::fs::remove_file(&self.path)),
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_temporaries_are_removed_and_placed_ones_kept() {
        let dir = std::env::temp_dir().join(format!("archway-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (file, _) = TempPath::file_in(&dir, "x").unwrap();
        let tree = TempPath::dir_next_to(&dir.join("tree")).unwrap();
        std::fs::write(tree.path().join("inside"), "1").unwrap();
        assert!(file.path().file_name().unwrap().to_string_lossy().starts_with(".archway-tmp-x-"));
        drop(file);
        drop(tree);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let (kept, _) = TempPath::file_next_to(&dir.join("kept")).unwrap();
        kept.rename_to(&dir.join("kept")).unwrap();
        assert!(dir.join("kept").is_file());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(split_destination(Path::new("/")).is_err());
        let missing = split_destination(&dir.join("missing/out.tar")).unwrap_err().to_string();
        assert!(missing.contains("missing, does not exist"), "{missing}");
        assert_eq!(split_destination(Path::new("out.tar")).unwrap(), (PathBuf::from("."), "out.tar".to_string()));
    }
}
