//! The guest run loop: load the program, build its stack, set up the CPU state, and
//! run the engine, answering system calls, until the guest exits.
//!
//! How a guest ends:
//! - `exit_group`, or `exit` of the last thread: [`run`] returns the guest's status
//!   when the main thread ends it (the caller should exit with it at once: archway
//!   writes nothing to stdout that could be left unflushed); another thread ends the
//!   process itself ([`crate::threads`]).
//! - a signal the guest does not catch whose default is to terminate: the host kernel
//!   ends archway by it (same status for the parent); a trap or fault the guest does
//!   not catch (an undecodable instruction is SIGILL) goes through [`die_by_signal`],
//!   so a shell sees 128 + signal (132 for SIGILL, 139 for SIGSEGV).
//!
//! A guest root (`-L ROOT` / `ARCHWAY_ROOT`) resolves the main program, its
//! interpreter and the guest's absolute paths ([`crate::guest_root`]).

use crate::guest_root;
use crate::host::new_engine;
use crate::host_maps::HostRegions;
use crate::image::ProcessImage;
use crate::loader::{self, LoadError, LoadProblem};
use crate::process::{lock, Brk, GuestProcess};
use crate::relaunch::Launcher;
use crate::stack::{self, StackError};
use crate::threads::{self, GuestThread, ThreadEnd};
use archway_engine::{Engine, EngineKind};
use archway_guest_a64::CpuState;
use archway_ir::Frontend;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::Arc;

/// How to run a guest program. The guest gets archway's own environment.
#[derive(Debug)]
pub struct RunOptions {
    /// The program as the user named it (`AT_EXECFN`).
    pub program: PathBuf,
    /// The program already open (binfmt_misc's `AT_EXECFD`): loaded from this file
    /// instead of `program`, which then only names it; closed once loaded.
    pub program_file: Option<std::fs::File>,
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
            Error::Load(LoadError { problem: LoadProblem::Interpreter { problem, .. }, .. }) if matches!(&**problem, LoadProblem::Io(e) if e.kind() == ErrorKind::NotFound) => {
                127
            }
            _ => 126,
        }
    }
}

/// Run the guest program described by `opts` with the front end `frontend`; the
/// guest's exit status when it calls `exit_group`.
pub fn run(opts: RunOptions, frontend: Arc<dyn Frontend>) -> Result<i32, Error> {
    // Before anything of the guest's exists: everything mapped now is archway's.
    let host_regions = HostRegions::snapshot().map_err(Error::HostMaps)?;
    let launcher = Launcher::of_this_process(opts.engine);
    let path = match opts.program_file {
        Some(_) => opts.program.clone(),
        None => guest_root::resolve(&opts.program, opts.root.as_deref()),
    };
    let executable = loader::load_executable(&path, opts.program_file, opts.root.as_deref())?;
    let program = &executable.program;
    let stack = stack::build(&executable, &opts.argv, &environment(), opts.program.as_os_str())?;
    tracing::debug!(
        "loaded {} at bias {:#x}, interpreter at {:#x}, start {:#x}, sp {:#x}",
        path.display(),
        program.base,
        executable.interp_base(),
        executable.start_pc(),
        stack.sp
    );

    let mut cpu = Box::new(CpuState::default());
    cpu.header.pc = executable.start_pc();
    cpu.sp = stack.sp;
    name_this_process(&opts.program);
    let exe_path = std::fs::canonicalize(&path).unwrap_or(path);
    crate::inherited::restore();
    let mut process = GuestProcess::new(exe_path, Brk::new(program.brk_start, program.brk_limit), host_regions);
    process.image = ProcessImage::new(&executable, &stack, opts.argv, opts.root, Some(launcher));
    crate::signal::init_process(&lock(&process.signal_actions));
    let process = Arc::new(process);
    let mut engine = new_engine(opts.engine, frontend);
    Ok(run_main_thread(&process, cpu, engine.as_mut()))
}

/// Give the process the name the kernel gives a program it executes (the file name of
/// the path it was started by, at most 15 bytes): `comm` in `/proc/self/stat` and
/// `/proc/PID/comm`, and what `ps`, `top` and `pgrep` show. archway started by a user or
/// re-executed through `/proc/self/exe` would otherwise be called `archway` or `exe`.
fn name_this_process(program: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let Some(name) = program.file_name() else { return };
    let mut comm = [0u8; 16];
    let bytes = name.as_bytes();
    let len = bytes.len().min(15);
    comm[..len].copy_from_slice(&bytes[..len]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, comm.as_ptr()) };
}

/// Run the guest's main thread; the process's exit status. If the main thread ends
/// with `exit` while other threads run, its host thread ends there (as the thread
/// group leader does on Linux) and this does not return.
fn run_main_thread(process: &Arc<GuestProcess>, mut cpu: Box<CpuState>, engine: &mut dyn Engine) -> i32 {
    let mut thread = GuestThread::main();
    // SAFETY: `cpu` stays in place until the thread has left the registry (`finish`),
    // or for ever if this host thread ends first.
    unsafe { process.threads.enter(thread.tid, &mut *cpu) };
    match threads::run_thread(process, &mut thread, &mut cpu, engine) {
        ThreadEnd::Process(status) => status,
        ThreadEnd::Thread(status) if threads::finish(process, &thread) => status,
        ThreadEnd::Thread(status) => threads::exit_host_thread(status),
    }
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
