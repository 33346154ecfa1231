//! Who is who inside: the user namespace's id maps, chosen before the run and written
//! by the parent while the child waits.
//!
//! - The caller is root (euid 0): every id it has (the extents of its own
//!   `/proc/self/uid_map` and `gid_map`: all of them on a host) maps to itself, so the
//!   files a step gives to `_apt` or `postgres` carry the same numbers on the host.
//! - Anyone else: their own uid and gid become 0. When `newuidmap` and `newgidmap` are
//!   installed and `/etc/subuid` and `/etc/subgid` give the caller subordinate ranges
//!   (by login name or uid), those ranges become ids 1, 2, ... in file order, as podman
//!   and buildah map them; the helpers (privileged) write the maps and check the ranges
//!   themselves. Otherwise only id 0 exists, `setgroups` is denied (the kernel requires
//!   it of an unprivileged gid map), and the map's note says that a step that switches
//!   users fails.
//!
//! A map a helper refuses to write falls back to the single id, with a note saying
//! why. Files a step creates as inside id N are owned on the host by
//! [`IdMap::host_uid`]`(N)`; the builder turns host owners back into image owners with
//! [`IdMap::container_uid`].

use std::ffi::{c_char, CStr};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

/// A range of ids: `count` ids from `inside` in the namespace are those from `outside`
/// on the host (one line of `uid_map`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// The namespace's uid and gid maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMap {
    pub uids: Vec<Extent>,
    pub gids: Vec<Extent>,
    /// Whether the namespace may call `setgroups` (denied with an unprivileged map of
    /// a single gid).
    pub setgroups: bool,
    /// Why fewer ids than usual are mapped, and what fails for it; `None` when the
    /// caller is root or has subordinate ids.
    pub note: Option<String>,
}

/// What a step fails at with only id 0.
const SINGLE_ID_CONSEQUENCE: &str = "only id 0 exists in the sandbox, so a step that switches to another user or \
     group fails (apt-get's _apt sandbox user: pass -o APT::Sandbox::User=root)";

/// The kernel's limit of lines in a map.
const MAX_EXTENTS: usize = 340;

/// Where uids and gids differ.
struct IdKind {
    /// `uid` or `gid`, for messages.
    what: &'static str,
    /// The map file under `/proc/PID/`.
    map_file: &'static str,
    /// The caller's own map.
    own_map: &'static str,
    /// The subordinate ranges.
    subordinate: &'static str,
    /// The privileged helper that writes a map with subordinate ranges.
    helper: &'static str,
}

const UIDS: IdKind = IdKind {
    what: "uid",
    map_file: "uid_map",
    own_map: "/proc/self/uid_map",
    subordinate: "/etc/subuid",
    helper: "newuidmap",
};

const GIDS: IdKind = IdKind {
    what: "gid",
    map_file: "gid_map",
    own_map: "/proc/self/gid_map",
    subordinate: "/etc/subgid",
    helper: "newgidmap",
};

/// One kind's planned map and how it is written.
#[derive(Debug, Clone)]
struct KindPlan {
    extents: Vec<Extent>,
    /// The helper to run, when the map has subordinate ranges.
    helper: Option<PathBuf>,
    /// Why only the caller's own id is mapped (for a caller who is not root).
    single_because: Option<String>,
}

/// The maps a run will get, and how they are written.
#[derive(Debug, Clone)]
pub(crate) struct IdPlan {
    uids: KindPlan,
    gids: KindPlan,
    root: bool,
}

impl IdMap {
    /// The maps a run started by this process gets (unless a helper then refuses).
    pub fn for_caller() -> IdMap {
        IdPlan::for_caller().map()
    }

    /// The host uid of the namespace's uid `inside`, if mapped.
    pub fn host_uid(&self, inside: u32) -> Option<u32> {
        to_outside(&self.uids, inside)
    }

    /// The host gid of the namespace's gid `inside`, if mapped.
    pub fn host_gid(&self, inside: u32) -> Option<u32> {
        to_outside(&self.gids, inside)
    }

    /// The namespace's uid for the host uid `outside`, if mapped.
    pub fn container_uid(&self, outside: u32) -> Option<u32> {
        to_inside(&self.uids, outside)
    }

    /// The namespace's gid for the host gid `outside`, if mapped.
    pub fn container_gid(&self, outside: u32) -> Option<u32> {
        to_inside(&self.gids, outside)
    }
}

fn to_outside(extents: &[Extent], id: u32) -> Option<u32> {
    extents.iter().find(|e| id >= e.inside && id - e.inside < e.count).map(|e| e.outside + (id - e.inside))
}

fn to_inside(extents: &[Extent], id: u32) -> Option<u32> {
    extents.iter().find(|e| id >= e.outside && id - e.outside < e.count).map(|e| e.inside + (id - e.outside))
}

impl IdPlan {
    pub(crate) fn for_caller() -> IdPlan {
        // SAFETY: no preconditions.
        let (uid, gid, real_uid) = unsafe { (libc::geteuid(), libc::getegid(), libc::getuid()) };
        let root = uid == 0;
        // The helpers find the caller's ranges by the login name or the uid of its
        // real uid.
        let owners: Vec<String> = user_name(real_uid).into_iter().chain([real_uid.to_string()]).collect();
        IdPlan { uids: plan_kind(&UIDS, uid, root, &owners), gids: plan_kind(&GIDS, gid, root, &owners), root }
    }

    /// The maps as planned.
    pub(crate) fn map(&self) -> IdMap {
        IdMap {
            uids: self.uids.extents.clone(),
            gids: self.gids.extents.clone(),
            setgroups: self.root || self.gids.helper.is_some(),
            note: single_id_note(&[&self.uids.single_because, &self.gids.single_because]),
        }
    }

    /// Write the maps of the user namespace of process `pid`; the maps written (a
    /// refused helper falls back to the single id).
    pub(crate) fn apply(&self, pid: libc::pid_t) -> io::Result<IdMap> {
        let proc = format!("/proc/{pid}");
        let uids = apply_kind(&UIDS, &self.uids, &proc, self.root)?;
        let gids = apply_kind(&GIDS, &self.gids, &proc, self.root)?;
        Ok(IdMap {
            setgroups: self.root || gids.helper.is_some(),
            note: single_id_note(&[&uids.single_because, &gids.single_because]),
            uids: uids.extents,
            gids: gids.extents,
        })
    }
}

/// The note for single-id maps, if any kind is one.
fn single_id_note(reasons: &[&Option<String>]) -> Option<String> {
    let reasons: Vec<&str> = reasons.iter().filter_map(|reason| reason.as_deref()).collect();
    (!reasons.is_empty()).then(|| format!("{}: {SINGLE_ID_CONSEQUENCE}", reasons.join("; ")))
}

fn plan_kind(kind: &IdKind, own: u32, root: bool, owners: &[String]) -> KindPlan {
    if root {
        let extents = std::fs::read_to_string(kind.own_map).map(|text| identity(&text)).unwrap_or_default();
        let extents = if extents.is_empty() { vec![Extent { inside: 0, outside: 0, count: 1 }] } else { extents };
        return KindPlan { extents, helper: None, single_because: None };
    }
    let own_extent = Extent { inside: 0, outside: own, count: 1 };
    let single = |why: String| KindPlan { extents: vec![own_extent], helper: None, single_because: Some(why) };
    let ranges = match std::fs::read_to_string(kind.subordinate) {
        Ok(text) => subordinate_ranges(&text, owners),
        Err(e) => return single(format!("{}: {e}", kind.subordinate)),
    };
    if ranges.is_empty() {
        return single(format!("{} has no range for {}", kind.subordinate, owners.join(" or ")));
    }
    let Some(helper) = find_program(kind.helper) else {
        return single(format!("{} is not installed (Debian's uidmap package)", kind.helper));
    };
    let mut extents = vec![own_extent];
    let mut next: u32 = 1;
    for (start, count) in ranges.into_iter().take(MAX_EXTENTS - 1) {
        let Some(after) = next.checked_add(count) else { break };
        extents.push(Extent { inside: next, outside: start, count });
        next = after;
    }
    KindPlan { extents, helper: Some(helper), single_because: None }
}

/// Every extent of a map file (`inside outside count` lines), as an identity map of
/// its inside ids.
fn identity(map_file: &str) -> Vec<Extent> {
    map_file
        .lines()
        .filter_map(|line| {
            let numbers: Vec<u32> = line.split_whitespace().filter_map(|n| n.parse().ok()).collect();
            match numbers[..] {
                [inside, _, count] if count > 0 => Some(Extent { inside, outside: inside, count }),
                _ => None,
            }
        })
        .collect()
}

/// The `start:count` ranges of `/etc/subuid` (or `subgid`) lines whose owner is one of
/// `owners` (a login name or a uid), in file order.
fn subordinate_ranges(text: &str, owners: &[String]) -> Vec<(u32, u32)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.trim().split(':');
            let (owner, start, count) = (fields.next()?, fields.next()?, fields.next()?);
            let (start, count) = (start.parse::<u32>().ok()?, count.parse::<u32>().ok()?);
            (fields.next().is_none() && count > 0 && owners.iter().any(|o| o == owner)).then_some((start, count))
        })
        .collect()
}

/// Write one kind's map, by the helper or directly.
fn apply_kind(kind: &IdKind, plan: &KindPlan, proc: &str, root: bool) -> io::Result<KindPlan> {
    let Some(helper) = &plan.helper else {
        write_directly(kind, &plan.extents, proc, root)?;
        return Ok(plan.clone());
    };
    let pid = proc.trim_start_matches("/proc/");
    let numbers = plan.extents.iter().flat_map(|e| [e.inside, e.outside, e.count]).map(|n| n.to_string());
    let refusal = match Command::new(helper).arg(pid).args(numbers).output() {
        Ok(output) if output.status.success() => return Ok(plan.clone()),
        Ok(output) => format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim()),
        Err(e) => e.to_string(),
    };
    let single = vec![plan.extents[0]];
    write_directly(kind, &single, proc, root)?;
    let why = format!("{} refused the subordinate {}s ({refusal})", helper.display(), kind.what);
    Ok(KindPlan { extents: single, helper: None, single_because: Some(why) })
}

/// Write `extents` to the map file; a caller that is not root denies `setgroups`
/// first, as the kernel requires for a gid map it writes itself.
fn write_directly(kind: &IdKind, extents: &[Extent], proc: &str, root: bool) -> io::Result<()> {
    if !root && kind.map_file == GIDS.map_file {
        std::fs::write(format!("{proc}/setgroups"), "deny")?;
    }
    let text: String = extents.iter().map(|e| format!("{} {} {}\n", e.inside, e.outside, e.count)).collect();
    std::fs::write(format!("{proc}/{}", kind.map_file), text)
}

/// The login name of `uid` on the host, if it has one.
fn user_name(uid: libc::uid_t) -> Option<String> {
    let mut buffer = vec![0 as c_char; 16 * 1024];
    // SAFETY: passwd is plain data; getpwuid_r fills it with pointers into `buffer`,
    // which outlives their use here.
    unsafe {
        let mut entry: libc::passwd = std::mem::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let status = libc::getpwuid_r(uid, &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found);
        if status != 0 || found.is_null() || entry.pw_name.is_null() {
            return None;
        }
        Some(CStr::from_ptr(entry.pw_name).to_string_lossy().into_owned())
    }
}

/// An executable file `name` in `PATH` or the usual system directories.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/sbin", "/bin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subordinate_ranges_by_name_or_uid_in_file_order() {
        let text = "# comment\nalice:100000:65536\nbob:200000:65536\n1000:300000:10\nalice:400000:5\nalice:x:5\n\n";
        let owners = ["alice".to_string(), "1000".to_string()];
        assert_eq!(subordinate_ranges(text, &owners), [(100000, 65536), (300000, 10), (400000, 5)]);
        assert!(subordinate_ranges(text, &["carol".to_string()]).is_empty());
    }

    #[test]
    fn a_host_map_becomes_an_identity_map() {
        assert_eq!(identity("         0          0 4294967295\n"), [Extent { inside: 0, outside: 0, count: u32::MAX }]);
        let nested = "0 1000 1\n1 100000 65536\n";
        assert_eq!(
            identity(nested),
            [Extent { inside: 0, outside: 0, count: 1 }, Extent { inside: 1, outside: 1, count: 65536 }]
        );
    }

    #[test]
    fn ids_translate_both_ways() {
        let map = IdMap {
            uids: vec![
                Extent { inside: 0, outside: 1000, count: 1 },
                Extent { inside: 1, outside: 100000, count: 65536 },
            ],
            gids: vec![Extent { inside: 0, outside: 1000, count: 1 }],
            setgroups: true,
            note: None,
        };
        assert_eq!(map.host_uid(0), Some(1000));
        assert_eq!(map.host_uid(1000), Some(100999));
        assert_eq!(map.host_uid(65537), None);
        assert_eq!(map.container_uid(100999), Some(1000));
        assert_eq!(map.container_uid(1000), Some(0));
        assert_eq!(map.container_uid(5), None);
        assert_eq!((map.host_gid(0), map.host_gid(1)), (Some(1000), None));
        assert_eq!(map.container_gid(1000), Some(0));
    }

    #[test]
    fn single_id_notes_say_why_and_what_fails() {
        let note = single_id_note(&[&Some("/etc/subuid has no range for nobody".to_string()), &None]).unwrap();
        assert!(note.starts_with("/etc/subuid has no range for nobody: only id 0"), "{note}");
        assert!(note.contains("APT::Sandbox::User=root"));
        assert_eq!(single_id_note(&[&None, &None]), None);
    }
}
