//! Start a guest program: pick the engine and guest root, run it, and turn its end
//! into our exit status (the guest's own status, or death by the guest's signal).

use archway_jit::EngineKind;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

/// What to run and how.
pub struct Launch {
    pub program: PathBuf,
    /// The guest's argv, argv[0] included.
    pub argv: Vec<OsString>,
    pub engine: EngineKind,
    pub root: Option<PathBuf>,
}

/// Run the guest; returns only on failure to start it (the guest's exit ends the
/// process), with the status to exit with.
pub fn launch(l: Launch) -> i32 {
    let frontend = Arc::new(archway_a64::A64Frontend);
    let opts = archway_linux::RunOptions { program: l.program.clone(), argv: l.argv, root: l.root, engine: l.engine };
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
/// exit; otherwise return.
pub fn relaunch_if_asked() {
    let args: Vec<OsString> = std::env::args_os().collect();
    match archway_linux::relaunch::parse(&args) {
        None => {}
        Some(Ok(r)) => {
            std::process::exit(launch(Launch { program: r.program, argv: r.argv, engine: r.engine, root: r.root }))
        }
        Some(Err(e)) => {
            eprintln!("archway: {e}");
            std::process::exit(2)
        }
    }
}

/// The engine named by `ARCHWAY_ENGINE`, or the JIT.
pub fn engine_from_env() -> Result<EngineKind, String> {
    match std::env::var("ARCHWAY_ENGINE") {
        Ok(name) => name.parse(),
        Err(_) => Ok(EngineKind::Jit),
    }
}
