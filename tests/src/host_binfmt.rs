//! The host's own binfmt_misc table, captured before the one test that must register
//! globally (containers run in the host's user namespace, which owns that table) and put
//! back exactly afterwards: the same entries with the same text (flags, interpreter,
//! enabled or not), the same global status, and mounted only if it was.

use archway_binfmt::table::{CONTROL_FILES, DEFAULT_MOUNT as MOUNT};
use archway_binfmt::Registered;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the host's table holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTable {
    mounted: bool,
    /// The global `status` file (`enabled` or `disabled`).
    status: String,
    /// Each entry's name and the kernel's text for it, sorted by name.
    entries: Vec<(String, String)>,
}

fn path(name: &str) -> PathBuf {
    Path::new(MOUNT).join(name)
}

/// One write to a control file.
fn write_control(name: &str, text: &str) -> Result<(), String> {
    std::fs::write(path(name), text).map_err(|e| format!("writing {text:?} to {}: {e}", path(name).display()))
}

impl HostTable {
    /// The table as it is now.
    pub fn capture() -> Result<HostTable, String> {
        let mounted = path("register").exists();
        let mut table = HostTable { mounted, status: String::new(), entries: Vec::new() };
        if !mounted {
            return Ok(table);
        }
        let read = |p: PathBuf| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()));
        table.status = read(path("status"))?;
        let names = std::fs::read_dir(MOUNT).map_err(|e| format!("{MOUNT}: {e}"))?;
        for name in names.flatten().filter_map(|d| d.file_name().into_string().ok()) {
            if !CONTROL_FILES.contains(&name.as_str()) {
                let text = read(path(&name))?;
                table.entries.push((name, text));
            }
        }
        table.entries.sort();
        Ok(table)
    }

    /// Names of the entries.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// Make the host's table this one again: remove what was added or changed,
    /// register again what was removed or changed, restore the global status, and
    /// unmount binfmt_misc if it was not mounted.
    pub fn restore(&self) -> Result<(), String> {
        let now = HostTable::capture()?;
        if now.mounted {
            for (name, text) in &now.entries {
                if !self.entries.iter().any(|(n, t)| n == name && t == text) {
                    write_control(name, "-1")?;
                }
            }
        } else if self.mounted {
            let status = Command::new("mount").args(["-t", "binfmt_misc", "binfmt_misc", MOUNT]).status();
            if !status.is_ok_and(|s| s.success()) {
                return Err(format!("cannot mount binfmt_misc at {MOUNT} again"));
            }
        }
        for (name, text) in &self.entries {
            if now.entries.iter().any(|(n, t)| n == name && t == text) {
                continue;
            }
            let entry = Registered::parse(name, text);
            let line = entry.register_line().ok_or_else(|| format!("cannot rebuild entry {name} from {text:?}"))?;
            write_control("register", &line)?;
            if !entry.enabled {
                write_control(name, "0")?;
            }
        }
        if self.mounted && now.mounted && self.status != now.status {
            write_control("status", if self.status.trim() == "enabled" { "1" } else { "0" })?;
        }
        if !self.mounted && path("register").exists() {
            let status = Command::new("umount").arg(MOUNT).status();
            if !status.is_ok_and(|s| s.success()) {
                return Err(format!("cannot unmount {MOUNT}"));
            }
        }
        let after = HostTable::capture()?;
        if &after != self {
            return Err(format!("binfmt_misc differs after restoring:\nwas   {self:?}\nnow   {after:?}"));
        }
        Ok(())
    }
}

/// Puts the captured table back when dropped (a failing test included); [`finish`]
/// does it at the end of a passing test and reports a difference as an error.
///
/// [`finish`]: HostTableGuard::finish
pub struct HostTableGuard {
    saved: Option<HostTable>,
}

impl HostTableGuard {
    /// Capture the table now.
    pub fn capture() -> HostTableGuard {
        let saved = HostTable::capture().unwrap_or_else(|e| panic!("reading the host's binfmt_misc: {e}"));
        HostTableGuard { saved: Some(saved) }
    }

    /// The table as captured.
    pub fn saved(&self) -> &HostTable {
        self.saved.as_ref().expect("not finished")
    }

    /// Restore the table; the error says what differs.
    pub fn finish(mut self) -> Result<(), String> {
        self.saved.take().expect("not finished").restore()
    }
}

impl Drop for HostTableGuard {
    fn drop(&mut self) {
        if let Some(saved) = self.saved.take() {
            if let Err(e) = saved.restore() {
                eprintln!("host_binfmt: restoring the host's binfmt_misc failed: {e}");
            }
        }
    }
}
