//! Runs one command in a chroot over a root directory, inside private user, mount,
//! pid, ipc, uts and cgroup namespaces (and a network namespace of its own for
//! [`Network::None`]): the emulated smoke test of `archway check` and the `RUN` steps
//! of `archway build`. No privilege is needed beyond unprivileged user namespaces, as
//! with buildah's chroot isolation; root gets every id it has.
//!
//! The host's platform runs natively; a foreign one runs under archway's static
//! interpreter (`archway-aarch64`, which the caller names), shown read-only inside the
//! root at `/.archway/archway-ARCH` and started as `[/.archway/archway-ARCH, PROGRAM,
//! ARGS...]`. Its children (a shell's commands, apt-get's dpkg) stay under it: archway
//! re-executes itself (`/proc/self/exe`) for a foreign `execve`, and finds the guest's
//! files through the chroot, so neither a binfmt_misc entry nor `-L` is needed.
//!
//! # Use
//!
//! Fill a [`Request`] ([`Request::new`] gives the defaults) and call [`run`], which
//! returns an [`Outcome`]: how the command ended ([`Ending`]: exit status, signal,
//! timeout, cancel, not found, not executable, a bad `USER`, or a setup failure), the
//! ends of its output, and the id mapping it ran with ([`IdMap`]). Output is also
//! handed to the caller as it comes.
//!
//! # Mechanism
//!
//! [`run`] resolves the program inside the root first (`PATH` lookup with
//! `openat2(RESOLVE_IN_ROOT)`, module `lookup`), decides what to `execve` (module
//! `plan`), resolves the user (module `users`) and the id maps (module `ids`), lists
//! every system call of the setup beforehand (module `setup`, actions in module
//! `actions`), then makes one child with `clone3` in the new namespaces (module `init`).
//! The parent writes the child's id maps (directly, or through `newuidmap` and
//! `newgidmap` for subordinate ids), then lets it go. The child, pid 1 of its pid
//! namespace, clones the host's files it will show (devices, the interpreter,
//! `/etc/resolv.conf`, bind sources) and mounts a fresh `/proc` while the host's tree is
//! still visible, mounts the root (a bind of the directory, or an overlay with a tmpfs
//! upper layer) on a staging tmpfs, `pivot_root`s into it and detaches the host's
//! tree, and only then creates mount points and attaches the cloned trees: every path
//! inside the root is resolved with the root as `/`, so a hostile symbolic link cannot
//! lead a mount or a new file out to the host. It then starts the command as pid 2
//! and reaps orphans as a minimal init (as `docker run --init`), and reports the
//! command's exact wait status on a pipe (module `report`). The parent drains stdout
//! and stderr and waits on the init's pidfd until the command ends, the timeout or a
//! [`Cancel`] (module `supervise`); the command's end ends the init, and with it the
//! namespace. In a writable root, the mount points the sandbox had to create are then
//! removed (module `stubs`), so the root holds only what the command did.
//!
//! Why in-process (`clone3` + system calls) rather than util-linux's `unshare` and
//! `chroot` run as child processes: no dependence on the host's tools or their
//! versions; each step's failure is reported exactly (which mount, which `errno`), with
//! `ENOEXEC` from the command's own `execve` told apart from a setup failure (util-linux
//! `chroot` runs `execvp`, which retries an `ENOEXEC` program with `/bin/sh`); the
//! interpreter's read-only bind and the empty binfmt_misc need mounts `unshare` has no
//! options for; and the pidfd makes the timeout's kill race-free.
//!
//! # What holds
//!
//! - Nothing of the host changes but what the request asks for: mounts live and die in
//!   the namespace; the host's devices, the interpreter, `resolv.conf` and `hosts` are
//!   bound read-only; `/proc/sys` and `/proc/sysrq-trigger` are read-only; only a
//!   [`RootMode::Writable`] root and writable [`BindMount`]s are written.
//! - Nothing is left running: when the init (pid 1) ends — at the command's end, killed
//!   at the timeout or a cancel, or with the calling thread (`PR_SET_PDEATHSIG`) when
//!   the caller dies, by Ctrl-C for instance — the kernel kills the rest of the pid
//!   namespace and reports the init's end only after they are gone.
//! - With a private binfmt_misc ([`Request::private_binfmt_misc`]), a program of the
//!   wrong architecture never runs: natively the kernel finds no handler (the user
//!   namespace's table is empty), and under the translator the plan refuses an ELF of
//!   another architecture.
//!
//! # Limits
//!
//! - Linux 5.12 or later (`open_tree`, `move_mount`, `mount_setattr`); 6.7 for a
//!   private binfmt_misc (earlier kernels get [`Ending::CouldNotRun`]).
//! - Without root, and without `newuidmap`/`newgidmap` or subordinate ids for the
//!   caller, only id 0 exists inside: a step that switches users fails (the outcome's
//!   [`IdMap::note`] says so).
//! - No `/sys`, no network but loopback or the host's, no resource limits beyond the
//!   timeout. Only the host's own architecture runs natively (not 32-bit x86 on x86_64).
//! - The root's path must not be `/` (the sandbox covers it with its staging tmpfs).

mod actions;
mod cancel;
mod ids;
mod init;
mod lookup;
mod outcome;
mod plan;
mod report;
mod request;
mod run;
mod setup;
mod stubs;
mod supervise;
mod users;

pub use cancel::Cancel;
pub use ids::{Extent, IdMap};
pub use outcome::{Ending, Excerpt, Outcome, OutputStream, EXCERPT_BYTES};
pub use plan::{DEFAULT_PATH, INTERPRETER_DIR};
pub use request::{BindMount, Network, Request, RootMode};
pub use run::run;
pub use users::User;
