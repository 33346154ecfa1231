//! A binfmt_misc mount, given as a directory (the host's is
//! `/proc/sys/fs/binfmt_misc`; tests mount a private one in a user namespace).
//! Operations write the kernel's control files: `register`, `NAME` (`-1` removes).

use crate::{glob, Entry, Error, Registered};
use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The host's binfmt_misc mount point.
pub const DEFAULT_MOUNT: &str = "/proc/sys/fs/binfmt_misc";

/// Entry names `--reset` removes: archway's own and qemu-user's.
pub const RESET_PREFIXES: [&str; 2] = ["archway-", "qemu-"];

/// Control files in the mount that are not entries.
pub const CONTROL_FILES: [&str; 2] = ["register", "status"];

/// What [`Table::register`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Added,
    /// An identical entry was already there.
    Unchanged,
    /// A different entry of that name was removed first.
    Replaced,
}

/// A binfmt_misc mount.
#[derive(Debug, Clone)]
pub struct Table {
    dir: PathBuf,
}

impl Table {
    /// The mount at `dir`, mounting binfmt_misc there if `dir/register` is missing.
    /// Looking at the directory first triggers systemd's automount, as `tonistiigi/binfmt`
    /// does by touching it.
    pub fn open(dir: &Path) -> Result<Table, Error> {
        let table = Table { dir: dir.to_path_buf() };
        let _ = std::fs::metadata(dir).and_then(|_| std::fs::read_dir(dir).map(|_| ()));
        if !table.control("register").exists() {
            mount(dir)?;
        }
        Ok(table)
    }

    /// The mount directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn control(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Every entry, sorted by name.
    pub fn list(&self) -> Result<Vec<Registered>, Error> {
        let names = std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let mut entries = Vec::new();
        for name in names.flatten().filter_map(|d| d.file_name().into_string().ok()) {
            if !CONTROL_FILES.contains(&name.as_str()) {
                if let Some(entry) = self.get(&name)? {
                    entries.push(entry);
                }
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// The entry called `name`, if registered.
    pub fn get(&self, name: &str) -> Result<Option<Registered>, Error> {
        check_name(name)?;
        let path = self.control(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(Registered::parse(name, &text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Register `entry`. An identical entry is left alone; a different one of the same
    /// name is an error unless `replace`. The interpreter must exist, and be static
    /// when the entry has the F flag.
    pub fn register(&self, entry: &Entry, replace: bool) -> Result<Registration, Error> {
        check_name(&entry.name)?;
        entry.check_interpreter()?;
        let outcome = match self.get(&entry.name)? {
            Some(existing) if entry.same_as(&existing) => return Ok(Registration::Unchanged),
            Some(existing) if !replace => {
                return Err(Error::Conflict {
                    name: existing.name,
                    interpreter: existing.interpreter.display().to_string(),
                    flags: existing.flags.letters(),
                })
            }
            Some(_) => {
                self.remove(&entry.name)?;
                Registration::Replaced
            }
            None => Registration::Added,
        };
        write_control(&self.control("register"), &entry.render())?;
        Ok(outcome)
    }

    /// Remove the entry called `name`.
    pub fn remove(&self, name: &str) -> Result<(), Error> {
        check_name(name)?;
        write_control(&self.control(name), "-1")
    }

    /// Remove every entry whose name matches `pattern` (a name or a glob); returns the
    /// names removed.
    pub fn remove_matching(&self, pattern: &str) -> Result<Vec<String>, Error> {
        if !glob::is_pattern(pattern) {
            check_name(pattern)?;
        }
        self.remove_where(|name| glob::matches(pattern, name))
    }

    /// Remove every `archway-*` and `qemu-*` entry, returning their names; others stay.
    pub fn reset(&self) -> Result<Vec<String>, Error> {
        self.remove_where(|name| RESET_PREFIXES.iter().any(|p| name.starts_with(p)))
    }

    fn remove_where(&self, doomed: impl Fn(&str) -> bool) -> Result<Vec<String>, Error> {
        let mut removed = Vec::new();
        for entry in self.list()? {
            if doomed(&entry.name) {
                self.remove(&entry.name)?;
                removed.push(entry.name);
            }
        }
        Ok(removed)
    }
}

/// Entry names are single path components the kernel accepts.
fn check_name(name: &str) -> Result<(), Error> {
    let fine = !name.is_empty()
        && !CONTROL_FILES.contains(&name)
        && name != "."
        && name != ".."
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c));
    if fine {
        Ok(())
    } else {
        Err(Error::BadName { name: name.to_string() })
    }
}

/// One write of `text` to a control file (the kernel wants each command whole).
fn write_control(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io(path, e))
}

/// `mount -t binfmt_misc binfmt_misc DIR`.
fn mount(dir: &Path) -> Result<(), Error> {
    let missing = |source| Error::Missing { path: dir.to_path_buf(), source };
    let target = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| missing(std::io::Error::from(std::io::ErrorKind::InvalidInput)))?;
    let fs = c"binfmt_misc";
    // SAFETY: all strings are NUL-terminated and outlive the call; no data argument.
    let rc = unsafe { libc::mount(fs.as_ptr(), target.as_ptr(), fs.as_ptr(), 0, std::ptr::null()) };
    if rc == 0 {
        return Ok(());
    }
    match std::io::Error::last_os_error() {
        e if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES)) => Err(Error::NotRoot { path: dir.into() }),
        e => Err(missing(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for bad in ["", "register", "status", "..", "a/b", "x y"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name("qemu-aarch64").is_ok());
    }

    #[test]
    fn a_plain_directory_reads_as_a_table() {
        // Not a binfmt_misc mount: entries are plain files, which list and get still read.
        let dir = std::env::temp_dir().join(format!("archway-binfmt-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("register"), "").unwrap();
        std::fs::write(dir.join("status"), "enabled\n").unwrap();
        std::fs::write(dir.join("qemu-arm"), "enabled\ninterpreter /usr/bin/qemu-arm\nflags: F\n").unwrap();
        let table = Table::open(&dir).unwrap();
        let list = table.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].interpreter, Path::new("/usr/bin/qemu-arm"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
