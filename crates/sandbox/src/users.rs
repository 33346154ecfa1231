//! `USER name[:group]` resolved against the root's own `/etc/passwd` and `/etc/group`
//! (read with the root as `/`), as runc resolves it for docker, podman and BuildKit:
//!
//! - the user: the first passwd entry with that name, or with that uid when it is a
//!   number; a number passwd lacks is that uid with gid 0 and home `/`; a name it lacks
//!   is an error;
//! - the group, when given: the first group entry with that name, or that gid when it
//!   is a number; a number `/etc/group` lacks is that gid; a name it lacks is an error;
//!   there are no supplementary groups then;
//! - without a group: the passwd entry's gid, and as supplementary groups every group
//!   that lists the user's name among its members.
//!
//! An empty `USER` is uid 0. Ids above 2^31 - 1 are refused, as runc refuses them.

use crate::lookup::Root;
use std::path::Path;

/// A resolved user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// The home directory (`HOME` when the environment sets none).
    pub home: String,
}

/// The largest id runc accepts.
const MAX_ID: u32 = i32::MAX as u32;

/// The largest `/etc/passwd` or `/etc/group` read.
const MAX_FILE: u64 = 16 << 20;

/// One line of `/etc/passwd`.
struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

/// One line of `/etc/group`.
struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

impl User {
    /// Resolve `spec` (`USER`'s argument) in the root directory `root`.
    pub fn resolve(root: &Path, spec: &str) -> Result<User, String> {
        let root = Root::open(root).map_err(|e| format!("{}: {e}", root.display()))?;
        resolve(&root, spec)
    }
}

/// Resolve `spec` in `root`.
pub(crate) fn resolve(root: &Root, spec: &str) -> Result<User, String> {
    let (user_arg, group_arg) = spec.split_once(':').unwrap_or((spec, ""));
    let user_arg = if user_arg.is_empty() { "0" } else { user_arg };
    let passwd = read(root, "/etc/passwd")?;
    let user_number = number(user_arg)?;
    let matched = passwd.lines().filter_map(passwd_entry).find(|entry| match user_number {
        Some(uid) => entry.uid == uid,
        None => entry.name == user_arg,
    });
    let mut user = match (&matched, user_number) {
        (Some(entry), _) => User { uid: entry.uid, gid: entry.gid, groups: Vec::new(), home: entry.home.to_string() },
        (None, Some(uid)) => User { uid, gid: 0, groups: Vec::new(), home: "/".to_string() },
        (None, None) => return Err(format!("unable to find user {user_arg}: no matching entries in passwd file")),
    };
    if group_arg.is_empty() && matched.is_none() {
        return Ok(user);
    }
    let group = read(root, "/etc/group")?;
    let groups = group.lines().filter_map(group_entry);
    if group_arg.is_empty() {
        let name = matched.map_or("", |entry| entry.name);
        user.groups = groups.filter(|g| g.gid != user.gid && g.members.contains(&name)).map(|g| g.gid).collect();
        return Ok(user);
    }
    let group_number = number(group_arg)?;
    let found = groups
        .into_iter()
        .find(|entry| match group_number {
            Some(gid) => entry.gid == gid,
            None => entry.name == group_arg,
        })
        .map(|entry| entry.gid);
    user.gid = found
        .or(group_number)
        .ok_or_else(|| format!("unable to find group {group_arg}: no matching entries in group file"))?;
    Ok(user)
}

/// `Some(id)` for a decimal id in range, `None` for a name, an error for a number out of
/// range.
fn number(arg: &str) -> Result<Option<u32>, String> {
    if arg.is_empty() || !arg.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    match arg.parse::<u32>() {
        Ok(id) if id <= MAX_ID => Ok(Some(id)),
        _ => Err(format!("{arg} is out of range (ids go up to {MAX_ID})")),
    }
}

/// A file of the root, empty when it does not exist.
fn read(root: &Root, path: &str) -> Result<String, String> {
    match root.read_file(path, MAX_FILE) {
        Ok(Some(bytes)) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Ok(None) => Ok(String::new()),
        Err(e) => Err(format!("{path}: {e}")),
    }
}

fn passwd_entry(line: &str) -> Option<PasswdEntry<'_>> {
    let fields: Vec<&str> = line.split(':').collect();
    let [name, _, uid, gid, _, home, ..] = fields[..] else { return None };
    Some(PasswdEntry { name, uid: uid.parse().ok()?, gid: gid.parse().ok()?, home })
}

fn group_entry(line: &str) -> Option<GroupEntry<'_>> {
    let fields: Vec<&str> = line.split(':').collect();
    let [name, _, gid, members, ..] = fields[..] else { return None };
    Some(GroupEntry { name, gid: gid.parse().ok()?, members: members.split(',').map(str::trim).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use archway_tests::sandboxed::Scratch;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n\
builder:x:1000:1000:,,,:/home/builder:/bin/sh\nbroken:x:nope:1::/:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nbuilder:x:1000:\nextra:x:2000:someone, builder\nwheel:x:10:root\n";

    fn root_with(passwd: Option<&str>, group: Option<&str>) -> (Scratch, Root) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = Scratch::new(&format!("users-{n}"));
        std::fs::create_dir(dir.0.join("etc")).unwrap();
        for (name, text) in [("passwd", passwd), ("group", group)] {
            if let Some(text) = text {
                std::fs::write(dir.0.join("etc").join(name), text).unwrap();
            }
        }
        let root = Root::open(&dir.0).unwrap();
        (dir, root)
    }

    fn user(uid: u32, gid: u32, groups: &[u32], home: &str) -> User {
        User { uid, gid, groups: groups.to_vec(), home: home.to_string() }
    }

    #[test]
    fn users_and_groups_as_runc_resolves_them() {
        let (_dir, root) = root_with(Some(PASSWD), Some(GROUP));
        assert_eq!(resolve(&root, ""), Ok(user(0, 0, &[10], "/root")));
        assert_eq!(resolve(&root, "builder"), Ok(user(1000, 1000, &[2000], "/home/builder")));
        assert_eq!(resolve(&root, "1000"), Ok(user(1000, 1000, &[2000], "/home/builder")), "numeric: by uid");
        assert_eq!(resolve(&root, "_apt"), Ok(user(42, 65534, &[], "/nonexistent")));
        assert_eq!(resolve(&root, "builder:extra"), Ok(user(1000, 2000, &[], "/home/builder")));
        assert_eq!(resolve(&root, "builder:0"), Ok(user(1000, 0, &[], "/home/builder")));
        assert_eq!(resolve(&root, "1234"), Ok(user(1234, 0, &[], "/")), "a uid passwd lacks");
        assert_eq!(resolve(&root, "1234:5678"), Ok(user(1234, 5678, &[], "/")), "a gid group lacks");
        assert_eq!(resolve(&root, "builder:"), Ok(user(1000, 1000, &[2000], "/home/builder")));
        assert!(resolve(&root, "nobody").unwrap_err().contains("unable to find user nobody"));
        assert!(resolve(&root, "builder:nogroup").unwrap_err().contains("unable to find group nogroup"));
        assert!(resolve(&root, "4294967295").unwrap_err().contains("out of range"));
    }

    #[test]
    fn a_root_without_passwd_or_group_knows_only_numbers() {
        let (_dir, root) = root_with(None, None);
        assert_eq!(resolve(&root, ""), Ok(user(0, 0, &[], "/")));
        assert_eq!(resolve(&root, "1000:1000"), Ok(user(1000, 1000, &[], "/")));
        assert!(resolve(&root, "builder").is_err());
        assert!(resolve(&root, "0:staff").is_err());
    }
}
