//! The guest run loop: load the program, build its stack, set up the CPU state, and
//! run the engine, answering system calls, until the guest exits.
//!
//! How a guest ends:
//! - `exit`/`exit_group`: [`run`] returns the guest's status; the caller should exit
//!   with it at once (archway writes nothing to stdout that could be left unflushed).
//! - a trap (an undecodable instruction is SIGILL): [`die_by_signal`] ends archway by
//!   that signal, so a shell sees 128 + signal (132 for SIGILL).
//! - a guest fault (e.g. a null dereference) faults the host process itself: it dies
//!   by SIGSEGV (139), which is correct; precise guest signals come with signal
//!   delivery in the next issue.
//!
//! A guest root (`-L ROOT` / `ARCHWAY_ROOT`) resolves the absolute path of the main
//! program only, for now: `ROOT/path` if it exists, else `path`, as `qemu -L` does.
//! Resolving file system calls under the root comes with dynamic linking.

use crate::host_maps::HostRegions;
use crate::loader::{self, LoadError, LoadProblem};
use crate::process::{Brk, GuestProcess};
use crate::stack::{self, StackError};
use crate::syscall::{self, signal, Outcome, SyscallContext};
use archway_a64::CpuState;
use archway_ir::Frontend;
use archway_jit::{new_engine, EngineKind, Exit};
use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to run a guest program. The guest gets archway's own environment.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The program as the user named it (`AT_EXECFN`).
    pub program: PathBuf,
    /// The guest's argv, `argv[0]` included.
    pub argv: Vec<OsString>,
    /// Guest root directory (`-L ROOT` / `ARCHWAY_ROOT`).
    pub root: Option<PathBuf>,
    pub engine: EngineKind,
}

/// `NAME=value` strings of archway's environment, for the guest.
fn environment() -> Vec<OsString> {
    std::env::vars_os()
        .map(|(mut entry, value)| {
            entry.push("=");
            entry.push(value);
            entry
        })
        .collect()
}

/// Why a guest could not be started. Messages do not repeat the program's name:
/// callers print it first.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("cannot read archway's own memory map: {0}")]
    HostMaps(std::io::Error),
}

impl Error {
    /// The exit status a shell gives for the same failure: 127 when the program does
    /// not exist, 126 when it exists but cannot be run.
    pub fn exit_status(&self) -> i32 {
        match self {
            Error::Load(LoadError { problem: LoadProblem::Io(e), .. }) if e.kind() == ErrorKind::NotFound => 127,
            _ => 126,
        }
    }
}

/// Run the guest program described by `opts` with the front end `frontend`; the
/// guest's exit status when it calls `exit_group`.
pub fn run(opts: RunOptions, frontend: Arc<dyn Frontend>) -> Result<i32, Error> {
    // Before anything of the guest's exists: everything mapped now is archway's.
    let host_regions = HostRegions::snapshot().map_err(Error::HostMaps)?;
    let path = resolve_program(&opts.program, opts.root.as_deref());
    let program = loader::load(&path)?;
    let stack = stack::build(&program, &opts.argv, &environment(), opts.program.as_os_str())?;
    tracing::debug!(
        "loaded {} at bias {:#x}, entry {:#x}, sp {:#x}",
        path.display(),
        program.base,
        program.entry,
        stack.sp
    );

    let mut cpu = Box::new(CpuState::default());
    cpu.header.pc = program.entry;
    cpu.sp = stack.sp;
    let exe_path = std::fs::canonicalize(&path).unwrap_or(path);
    signal::undo_runtime_sigpipe_ignore();
    let mut process = GuestProcess::new(exe_path, Brk::new(program.brk_start, program.brk_limit), host_regions);
    let mut engine = new_engine(opts.engine, frontend);
    loop {
        // SAFETY: `cpu` is a live aarch64 state, and the guest's memory is mapped.
        let exit = unsafe { engine.run(cpu.as_mut_ptr()) };
        match exit {
            Exit::Syscall => {
                let nr = cpu.x[8];
                let args = [cpu.x[0], cpu.x[1], cpu.x[2], cpu.x[3], cpu.x[4], cpu.x[5]];
                let mut ctx = SyscallContext { process: &mut process, cpu: &mut cpu, engine: engine.as_mut() };
                match syscall::dispatch(&mut ctx, nr, &args) {
                    Outcome::Return(value) => cpu.x[0] = value as u64,
                    Outcome::Exit(status) => return Ok(status),
                }
            }
            Exit::Trap { signal, pc } => {
                tracing::info!("guest signal {signal} at pc {pc:#x}");
                die_by_signal(signal)
            }
            Exit::Interrupted => {}
        }
    }
}

/// The file to load for `program`: under `root` if it is absolute and exists there.
pub fn resolve_program(program: &Path, root: Option<&Path>) -> PathBuf {
    if let (Some(root), Ok(relative)) = (root, program.strip_prefix("/")) {
        let inside = root.join(relative);
        if inside.exists() {
            return inside;
        }
    }
    program.to_path_buf()
}

/// End archway by `signal`, as the guest would have died: default disposition,
/// unblocked, raised at ourselves; `exit(128 + signal)` if that somehow returns.
///
/// Raw system calls throughout: after a guest `fork` (a raw `clone`), the C library's
/// cached thread id belongs to the parent, so `raise` would signal the wrong process.
pub fn die_by_signal(signal: i32) -> ! {
    let default_action = [0u64; 4];
    let set: u64 = 1u64.checked_shl(signal.wrapping_sub(1) as u32).unwrap_or(0);
    // SAFETY: resets a disposition to SIG_DFL, unblocks one signal, and sends it to
    // this thread; all arguments are valid kernel structures.
    unsafe {
        libc::syscall(libc::SYS_rt_sigaction, signal as libc::c_long, default_action.as_ptr(), 0usize, 8usize);
        libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_UNBLOCK as libc::c_long, &set as *const u64, 0usize, 8usize);
        let pid = libc::syscall(libc::SYS_getpid);
        let tid = libc::syscall(libc::SYS_gettid);
        libc::syscall(libc::SYS_tgkill, pid, tid, signal as libc::c_long);
        libc::_exit(128 + signal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_resolves_absolute_programs_that_exist_under_it() {
        let root = std::env::temp_dir().join(format!("archway-root-{}", std::process::id()));
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::write(root.join("bin/prog"), b"").unwrap();
        assert_eq!(resolve_program(Path::new("/bin/prog"), Some(&root)), root.join("bin/prog"));
        assert_eq!(resolve_program(Path::new("/bin/other"), Some(&root)), PathBuf::from("/bin/other"));
        assert_eq!(resolve_program(Path::new("bin/prog"), Some(&root)), PathBuf::from("bin/prog"));
        assert_eq!(resolve_program(Path::new("/bin/prog"), None), PathBuf::from("/bin/prog"));
        std::fs::remove_dir_all(root).unwrap();
    }
}
