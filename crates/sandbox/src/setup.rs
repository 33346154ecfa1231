//! The sandbox's plan: every system call its child makes, listed beforehand as
//! [`Action`]s ([`Setup`]), so that the child, a copy of a possibly multi-threaded
//! process, only makes system calls. A failure names a step by its number.
//!
//! The init's steps (pid 1 of the new pid namespace):
//! 1. reset signal dispositions (the caller's handlers must not run in this copy), die
//!    with the parent (`PR_SET_PDEATHSIG`), close every descriptor but its own, wait
//!    until the parent has written the id maps;
//! 2. make every mount private; while the host's tree is still in view, clone what will
//!    be shown inside: a writable root, the host's devices (null, zero, full, random,
//!    urandom, tty), the interpreter, `/etc/resolv.conf` and `/etc/hosts`, the bind
//!    sources; all read-only but the root and writable binds;
//! 3. cover the root's path with a tmpfs (in this mount namespace only) as staging, and
//!    there: a fresh `/proc` for the new pid namespace with docker's read-only paths
//!    (`/proc/sys`, `/proc/sysrq-trigger`...), cloned for later, since proc may be
//!    mounted in a user namespace only while a full `/proc` is in view; the namespace's
//!    own binfmt_misc (the first mount in a user namespace gives it its own, empty table:
//!    Linux 6.7; a kernel that cannot fails the run rather than trust the host's table;
//!    one without binfmt_misc, `ENODEV`, has no table to fear); the root, bound, or as
//!    the lower layer of an overlay whose upper layer is in the tmpfs;
//! 4. the hostname, loopback up (in a network namespace of its own);
//! 5. `pivot_root` into the root and detach the host's tree: from here on every path,
//!    symbolic links included, resolves inside the root;
//! 6. mount points (created when missing: [`Setup::mount_points`]) and on them a small
//!    `/dev` (a tmpfs with the devices bound, a private devpts, `/dev/shm`, the usual
//!    links), the interpreter at `/.archway/archway-ARCH`, `resolv.conf` and `hosts`,
//!    the binds, and last `/proc`;
//! 7. create and enter the working directory.
//!
//! Then the command's process (pid 2): stdin from `/dev/null`, stdout and stderr to the
//! parent's pipes, a new session, default signal dispositions and an empty mask, every
//! other descriptor closed on exec, the user's groups and ids, then `execve`.

use crate::actions::{c_string, Action, NullTerminated};
use crate::plan::{Exec, INTERPRETER_DIR};
use crate::request::{Network, RootMode};
use crate::users::User;
use std::ffi::{c_int, c_uint, c_ulong};
use std::os::fd::RawFd;
use std::path::Path;

/// Devices bound from the host's `/dev`.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

/// `/proc` entries made read-only, as docker does.
const READ_ONLY_PROC: [&str; 5] = ["sys", "sysrq-trigger", "irq", "bus", "fs"];

/// The host's files shown inside with the host's network.
const HOST_NETWORK_FILES: [&str; 2] = ["/etc/resolv.conf", "/etc/hosts"];

/// Directories of the staging tmpfs that covers the root's path.
const UPPER: &str = "upper";
const WORK: &str = "work";
const MERGED: &str = "merged";
const PROC: &str = "proc";
const BINFMT_MISC: &str = "binfmt_misc";

/// Flags of the staging tmpfs.
const STAGING: c_ulong = libc::MS_NOSUID | libc::MS_NODEV;
/// `nosuid,nodev,noexec`.
const NO_DEVICES_NO_EXEC: c_ulong = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

/// What starting the command's process is called in messages.
const START_COMMAND: &str = "start the command's process";

/// A step: what it does, for messages, and the `errno` values that mean "fine".
pub(crate) struct Step {
    description: String,
    pub action: Action,
    pub tolerated: &'static [c_int],
}

/// A path inside the root the sandbox mounts on, created when missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountPoint {
    pub path: String,
    pub directory: bool,
}

/// What the sandbox shows, for [`Setup::new`]. Paths on the host are canonical.
pub(crate) struct Layout<'a> {
    pub root_path: &'a Path,
    pub root_mode: RootMode,
    pub exec: &'a Exec,
    /// The interpreter on the host (a foreign platform), shown at `exec.path`.
    pub interpreter: Option<&'a Path>,
    pub network: Network,
    pub binds: &'a [Bind<'a>],
    pub hostname: &'a str,
    pub private_binfmt_misc: bool,
    pub user: &'a User,
    /// Whether the namespace may call `setgroups`.
    pub setgroups: bool,
}

/// A bind of the host's `source` on `target` inside the root.
pub(crate) struct Bind<'a> {
    /// Canonical.
    pub source: &'a Path,
    pub directory: bool,
    pub target: &'a str,
    pub read_only: bool,
}

/// Descriptors of the parent's that the child uses.
pub(crate) struct ChildFds {
    pub report: RawFd,
    pub id_maps_ready: RawFd,
    pub stdin: RawFd,
    pub stdout: RawFd,
    pub stderr: RawFd,
}

/// Everything the sandbox does, in order: the steps of its init, then starting the
/// command's process, then that process's steps (ending in `execve`).
pub(crate) struct Setup {
    pub init: Vec<Step>,
    pub command: Vec<Step>,
    /// `CLONE_NEW*` flags of the child.
    pub namespaces: c_int,
    mount_points: Vec<MountPoint>,
}

/// The host's trees the child clones before it leaves the host's tree, by descriptor.
struct HostTrees<'a> {
    /// A bind of the root (writable), or the root open (the overlay's lower layer).
    root: RawFd,
    devices: Vec<(&'static str, RawFd)>,
    interpreter: Option<RawFd>,
    /// `resolv.conf` and `hosts`, with the host's network.
    files: Vec<(&'static str, RawFd)>,
    /// Each bind's target, whether it is a directory, and its tree.
    binds: Vec<(&'a str, bool, RawFd)>,
}

impl Setup {
    pub(crate) fn new(layout: &Layout, fds: &ChildFds) -> Result<Setup, String> {
        let mut steps = Builder::new(fds);
        steps.start(fds)?;
        let trees = steps.host_trees(layout)?;
        let proc = steps.staging(layout, &trees)?;
        steps.inside(layout, &trees, proc)?;
        let init = std::mem::take(&mut steps.steps);
        steps.command(layout, fds)?;
        let mut namespaces = libc::CLONE_NEWUSER
            | libc::CLONE_NEWNS
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWCGROUP;
        if layout.network == Network::None {
            namespaces |= libc::CLONE_NEWNET;
        }
        Ok(Setup { init, command: steps.steps, namespaces, mount_points: steps.mount_points })
    }

    /// What step number `index` does.
    pub(crate) fn describe(&self, index: usize) -> &str {
        let start = self.init.len();
        let step = match index.cmp(&start) {
            std::cmp::Ordering::Less => self.init.get(index),
            std::cmp::Ordering::Equal => return START_COMMAND,
            std::cmp::Ordering::Greater => self.command.get(index - start - 1),
        };
        step.map_or("an unknown step", |step| step.description.as_str())
    }

    /// Whether step number `index` is the final `execve`.
    pub(crate) fn is_exec(&self, index: usize) -> bool {
        index == self.init.len() + self.command.len()
    }

    /// The paths inside the root the sandbox mounts on, in the order it creates them
    /// when missing (a parent before its children).
    pub(crate) fn mount_points(&self) -> &[MountPoint] {
        &self.mount_points
    }
}

fn utf8(path: &Path) -> Result<&str, String> {
    path.to_str().ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

/// Builds the list of steps.
struct Builder {
    steps: Vec<Step>,
    mount_points: Vec<MountPoint>,
    /// The descriptors the init keeps, sorted.
    kept: Vec<RawFd>,
    /// The next free descriptor number once the others are closed.
    next_slot: RawFd,
}

impl Builder {
    fn new(fds: &ChildFds) -> Builder {
        let mut kept = vec![0, 1, 2, fds.report, fds.id_maps_ready, fds.stdin, fds.stdout, fds.stderr];
        kept.sort_unstable();
        kept.dedup();
        let next_slot = kept.last().map_or(3, |last| last + 1);
        Builder { steps: Vec::new(), mount_points: Vec::new(), kept, next_slot }
    }

    /// The descriptor ranges to close: everything but `kept`.
    fn closed(&self) -> Vec<(c_uint, c_uint)> {
        let mut ranges = Vec::new();
        for pair in self.kept.windows(2) {
            if pair[1] > pair[0] + 1 {
                ranges.push(((pair[0] + 1) as c_uint, (pair[1] - 1) as c_uint));
            }
        }
        ranges.push((self.next_slot as c_uint, c_uint::MAX));
        ranges
    }

    /// A free descriptor number for the child.
    fn slot(&mut self) -> RawFd {
        self.next_slot += 1;
        self.next_slot - 1
    }

    fn push(&mut self, description: &str, action: Action, tolerated: &'static [c_int]) {
        self.steps.push(Step { description: description.to_string(), action, tolerated });
    }

    /// Step 1: the init's own process state, and the wait for the id maps.
    fn start(&mut self, fds: &ChildFds) -> Result<(), String> {
        self.push("reset signal dispositions", Action::DefaultSignals, &[]);
        self.push("die with the parent", Action::DieWithParent, &[]);
        self.push("close the parent's other descriptors", Action::CloseRanges { ranges: self.closed() }, &[]);
        self.push("wait for the id maps", Action::AwaitIdMaps { fd: fds.id_maps_ready }, &[]);
        let private = Action::Mount {
            source: None,
            target: c_string("/")?,
            fstype: None,
            flags: libc::MS_REC | libc::MS_PRIVATE,
            data: None,
        };
        self.push("make every mount private", private, &[]);
        Ok(())
    }

    /// Step 2: the host's trees, cloned while the host's tree is in view.
    fn host_trees<'a>(&mut self, layout: &Layout<'a>) -> Result<HostTrees<'a>, String> {
        let root_path = utf8(layout.root_path)?;
        let root = match layout.root_mode {
            RootMode::Writable => self.clone_tree(root_path, true, false)?,
            RootMode::Overlay => {
                let fd = self.slot();
                self.push("open the root", Action::Reopen { path: c_string(root_path)?, fd }, &[]);
                fd
            }
        };
        let mut devices = Vec::new();
        for device in DEVICES {
            devices.push((device, self.clone_tree(&format!("/dev/{device}"), false, true)?));
        }
        let interpreter = match layout.interpreter {
            Some(path) => Some(self.clone_tree(utf8(path)?, false, true)?),
            None => None,
        };
        let mut files = Vec::new();
        if layout.network == Network::Host {
            for file in HOST_NETWORK_FILES.into_iter().filter(|file| Path::new(file).exists()) {
                files.push((file, self.clone_tree(file, false, true)?));
            }
        }
        let mut binds = Vec::new();
        for bind in layout.binds {
            binds.push((bind.target, bind.directory, self.clone_tree(utf8(bind.source)?, true, bind.read_only)?));
        }
        Ok(HostTrees { root, devices, interpreter, files, binds })
    }

    /// Steps 3 to 5: the staging tmpfs with `/proc` (its clone's descriptor returned),
    /// binfmt_misc and the root; the hostname and loopback; `pivot_root`.
    fn staging(&mut self, layout: &Layout, trees: &HostTrees) -> Result<RawFd, String> {
        let root_path = utf8(layout.root_path)?;
        self.mount(&format!("cover {root_path} with a tmpfs"), "tmpfs", root_path, STAGING, "mode=0755", &[])?;
        self.push("enter the tmpfs", Action::ChangeDir { path: c_string(root_path)? }, &[]);
        for dir in [MERGED, PROC, BINFMT_MISC] {
            self.make_dir(dir, 0o755)?;
        }
        let proc = self.proc()?;
        if layout.private_binfmt_misc {
            let binfmt = "mount the namespace's own binfmt_misc (needs Linux 6.7)";
            self.mount(binfmt, "binfmt_misc", BINFMT_MISC, NO_DEVICES_NO_EXEC, "", &[libc::ENODEV])?;
        }
        match layout.root_mode {
            RootMode::Writable => self.attach("bind the root", trees.root, MERGED)?,
            RootMode::Overlay => {
                for dir in [UPPER, WORK] {
                    self.make_dir(dir, 0o755)?;
                }
                let root = trees.root;
                let layers = format!("lowerdir=/proc/self/fd/{root},upperdir={UPPER},workdir={WORK},userxattr");
                self.mount("mount the overlay of the root", "overlay", MERGED, 0, &layers, &[])?;
                self.push("close the root", Action::Close { fd: root }, &[]);
            }
        }
        self.push("set the hostname", Action::SetHostname { name: c_string(layout.hostname)? }, &[]);
        if layout.network == Network::None {
            self.push("bring the loopback interface up", Action::LoopbackUp, &[]);
        }
        self.push("enter the root", Action::ChangeDir { path: c_string(MERGED)? }, &[]);
        self.push("pivot_root into the root", Action::PivotRoot, &[]);
        Ok(proc)
    }

    /// Steps 6 and 7, inside the root. `/proc` comes last, when every cloned tree is
    /// attached and its descriptor closed: no magic link `/proc/self/fd/N` leads back
    /// to the host while paths of the root are followed.
    fn inside(&mut self, layout: &Layout, trees: &HostTrees, proc: RawFd) -> Result<(), String> {
        self.dev(&trees.devices)?;
        if let Some(interpreter) = trees.interpreter {
            self.mount_point_dir(INTERPRETER_DIR, 0o755)?;
            self.mount_point_file(&layout.exec.path)?;
            self.attach("show the interpreter", interpreter, &layout.exec.path)?;
        }
        if !trees.files.is_empty() {
            self.mount_point_dir("/etc", 0o755)?;
        }
        for &(file, fd) in &trees.files {
            self.mount_point_file(file)?;
            self.attach(&format!("show the host's {file}"), fd, file)?;
        }
        for &(target, directory, fd) in &trees.binds {
            self.bind_target(target, directory)?;
            self.attach(&format!("bind {target}"), fd, target)?;
        }
        self.mount_point_dir("/proc", 0o555)?;
        self.attach("mount /proc", proc, "/proc")?;
        self.workdir(&layout.exec.workdir)
    }

    /// The command's process: its descriptors, session, signals, user, `execve`.
    fn command(&mut self, layout: &Layout, fds: &ChildFds) -> Result<(), String> {
        let stdio = Action::Stdio { stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr };
        self.push("connect stdin, stdout and stderr", stdio, &[]);
        self.push("start a new session", Action::NewSession, &[]);
        self.push("reset signal dispositions", Action::DefaultSignals, &[]);
        self.push("close inherited descriptors", Action::CloseInherited, &[]);
        let user = layout.user;
        if layout.setgroups {
            // A helper that refused the subordinate gids leaves `setgroups` denied;
            // then, as runc does, the groups of /etc/group are not set.
            let groups = Action::SetGroups { groups: user.groups.clone() };
            self.push(&format!("set the supplementary groups {:?}", user.groups), groups, &[libc::EPERM]);
        }
        let ids = Action::SetIds { uid: user.uid, gid: user.gid };
        self.push(&format!("switch to uid {} and gid {}", user.uid, user.gid), ids, &[]);
        let execute = Action::Exec {
            path: c_string(&layout.exec.path)?,
            argv: NullTerminated::new(&layout.exec.argv)?,
            env: NullTerminated::new(&layout.exec.env)?,
        };
        self.push(&format!("execute {}", layout.exec.path), execute, &[]);
        Ok(())
    }

    /// Mount a new file system of type `fstype` (its name is also the source) on
    /// `target` with `flags` and `data` (none when empty); `tolerated` errors are fine.
    fn mount(
        &mut self,
        what: &str,
        fstype: &str,
        target: &str,
        flags: c_ulong,
        data: &str,
        tolerated: &'static [c_int],
    ) -> Result<(), String> {
        let action = Action::Mount {
            source: Some(c_string(fstype)?),
            target: c_string(target)?,
            fstype: Some(c_string(fstype)?),
            flags,
            data: if data.is_empty() { None } else { Some(c_string(data)?) },
        };
        self.push(what, action, tolerated);
        Ok(())
    }

    /// A detached copy of the mount tree at the host's `path`; its descriptor.
    fn clone_tree(&mut self, path: &str, recursive: bool, read_only: bool) -> Result<RawFd, String> {
        let fd = self.slot();
        let what = format!("clone {path}{}", if read_only { " read-only" } else { "" });
        self.push(&what, Action::CloneTree { path: c_string(path)?, fd, recursive, read_only }, &[]);
        Ok(fd)
    }

    /// Attach the cloned tree `fd` on `target`.
    fn attach(&mut self, what: &str, fd: RawFd, target: &str) -> Result<(), String> {
        self.push(what, Action::AttachTree { fd, target: c_string(target)? }, &[]);
        Ok(())
    }

    /// `mkdir` that finds an existing directory fine.
    fn make_dir(&mut self, path: &str, mode: libc::mode_t) -> Result<(), String> {
        self.push(&format!("create {path}"), Action::MakeDir { path: c_string(path)?, mode }, &[libc::EEXIST]);
        Ok(())
    }

    /// A directory of the root to mount on.
    fn mount_point_dir(&mut self, path: &str, mode: libc::mode_t) -> Result<(), String> {
        self.make_dir(path, mode)?;
        self.mount_points.push(MountPoint { path: path.to_string(), directory: true });
        Ok(())
    }

    /// A file of the root to mount on.
    fn mount_point_file(&mut self, path: &str) -> Result<(), String> {
        self.push(&format!("create {path}"), Action::MakeFile { path: c_string(path)? }, &[]);
        self.mount_points.push(MountPoint { path: path.to_string(), directory: false });
        Ok(())
    }

    /// The mount point of a bind on `target`, with its missing parents.
    fn bind_target(&mut self, target: &str, directory: bool) -> Result<(), String> {
        let parts: Vec<&str> = target.split('/').filter(|p| !p.is_empty()).collect();
        let mut path = String::new();
        for (index, part) in parts.iter().enumerate() {
            path.push('/');
            path.push_str(part);
            if index + 1 < parts.len() || directory {
                self.mount_point_dir(&path, 0o755)?;
            } else {
                self.mount_point_file(&path)?;
            }
        }
        Ok(())
    }

    /// A fresh `/proc` in the staging tmpfs with docker's read-only paths, cloned for
    /// `/proc` inside; its descriptor.
    fn proc(&mut self) -> Result<RawFd, String> {
        self.mount("mount a fresh /proc", "proc", PROC, NO_DEVICES_NO_EXEC, "", &[])?;
        for entry in READ_ONLY_PROC {
            let path = format!("{PROC}/{entry}");
            self.push(
                &format!("make /proc/{entry} read-only"),
                Action::BindReadOnly { path: c_string(&path)? },
                &[libc::ENOENT],
            );
        }
        self.clone_tree(PROC, true, false)
    }

    /// A small `/dev` on a tmpfs: the host's harmless `devices` (cloned) bound read-only
    /// (they stay writable as devices; their inodes cannot be changed), a private
    /// devpts, `/dev/shm` and the usual symbolic links.
    fn dev(&mut self, devices: &[(&str, RawFd)]) -> Result<(), String> {
        self.mount_point_dir("/dev", 0o755)?;
        self.mount("mount a tmpfs on /dev", "tmpfs", "/dev", libc::MS_NOSUID | libc::MS_NOEXEC, "mode=0755", &[])?;
        for &(device, fd) in devices {
            let target = format!("/dev/{device}");
            self.push(&format!("create {target}"), Action::MakeFile { path: c_string(&target)? }, &[]);
            self.attach(&format!("bind the host's {target}"), fd, &target)?;
        }
        self.make_dir("/dev/pts", 0o755)?;
        let options = "newinstance,ptmxmode=0666,mode=0620";
        self.mount("mount a private devpts", "devpts", "/dev/pts", libc::MS_NOSUID | libc::MS_NOEXEC, options, &[])?;
        self.make_dir("/dev/shm", 0o1777)?;
        self.mount("mount /dev/shm", "tmpfs", "/dev/shm", NO_DEVICES_NO_EXEC, "mode=1777", &[])?;
        let links = [
            ("pts/ptmx", "ptmx"),
            ("/proc/self/fd", "fd"),
            ("/proc/self/fd/0", "stdin"),
            ("/proc/self/fd/1", "stdout"),
            ("/proc/self/fd/2", "stderr"),
        ];
        for (target, name) in links {
            let link = format!("/dev/{name}");
            let action = Action::Symlink { target: c_string(target)?, link: c_string(&link)? };
            self.push(&format!("link {link}"), action, &[]);
        }
        Ok(())
    }

    /// Create the working directory (each level: `mkdir -p`) and enter it.
    fn workdir(&mut self, workdir: &str) -> Result<(), String> {
        let mut prefix = String::new();
        for part in workdir.split('/').filter(|p| !p.is_empty()) {
            prefix.push('/');
            prefix.push_str(part);
            self.make_dir(&prefix, 0o755)?;
        }
        let enter = Action::ChangeDir { path: c_string(workdir)? };
        self.push(&format!("enter the working directory {workdir}"), enter, &[]);
        Ok(())
    }
}
