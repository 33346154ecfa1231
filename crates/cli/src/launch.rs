//! Start a guest program: pick the engine and guest root, run it, and turn its end
//! into our exit status (the guest's own status, or death by the guest's signal).
//!
//! In secure-execution mode (a setuid guest under binfmt_misc's C flag:
//! [`archway_linux::credentials`]) nothing the invoking user controls changes what
//! runs: `ARCHWAY_ENGINE` and `ARCHWAY_ROOT` are not read, and the private relaunch
//! command line is never taken from an argv that binfmt_misc built.

use crate::interpreter;
use archway_engine::EngineKind;
use archway_linux::credentials::secure_execution;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

/// What to run and how.
pub struct Launch {
    pub program: PathBuf,
    /// The program already open (binfmt_misc's `AT_EXECFD`).
    pub program_file: Option<std::fs::File>,
    /// The guest's argv, argv[0] included.
    pub argv: Vec<OsString>,
    pub engine: EngineKind,
    pub root: Option<PathBuf>,
}

/// Run the guest; returns only on failure to start it (the guest's exit ends the
/// process), with the status to exit with.
pub fn launch(l: Launch) -> i32 {
    let frontend = Arc::new(archway_guest_a64::A64Frontend);
    let opts = archway_linux::RunOptions {
        program: l.program.clone(),
        program_file: l.program_file,
        argv: l.argv,
        root: l.root,
        engine: l.engine,
    };
    match archway_linux::run(opts, frontend) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("archway: {}: {e}", l.program.display());
            e.exit_status()
        }
    }
}

/// If our argv is the private form archway uses to run itself again for a guest's
/// `execve` of a foreign program ([`archway_linux::relaunch`]), run that guest and
/// exit; otherwise return. A start by binfmt_misc is never a relaunch: that argv is the
/// kernel's and the user's (a program named `--archway-exec` must not choose what runs).
pub fn relaunch_if_asked() {
    if interpreter::Start::current().by_binfmt() {
        return;
    }
    let args: Vec<OsString> = std::env::args_os().collect();
    match archway_linux::relaunch::parse(&args) {
        None => {}
        Some(Ok(r)) => {
            let (program, argv, engine, root) = (r.program, r.argv, r.engine, r.root);
            std::process::exit(launch(Launch { program, program_file: None, argv, engine, root }))
        }
        Some(Err(e)) => {
            eprintln!("archway: {e}");
            std::process::exit(2)
        }
    }
}

/// The engine named by `ARCHWAY_ENGINE` and the guest root `ARCHWAY_ROOT`; the host's
/// default engine and no root when they are unset, or in secure mode.
pub fn settings_from_env() -> Result<(EngineKind, Option<PathBuf>), String> {
    if secure_execution() {
        return Ok((EngineKind::HOST_DEFAULT, None));
    }
    let engine = match std::env::var("ARCHWAY_ENGINE") {
        Ok(name) => name.parse().map_err(|e| format!("ARCHWAY_ENGINE: {e}"))?,
        Err(_) => EngineKind::HOST_DEFAULT,
    };
    Ok((engine, std::env::var_os("ARCHWAY_ROOT").map(PathBuf::from)))
}
