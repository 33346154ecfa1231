//! `archway-aarch64 PROG [ARGS...]`: the aarch64 interpreter binary, the name
//! binfmt_misc registrations use. Arguments after PROG go to the guest unchanged;
//! under binfmt_misc's P flag the kernel's extra argv[0] is recognised through
//! `AT_FLAGS` ([`archway_cli::interpreter`]). The engine and guest root come from
//! `ARCHWAY_ENGINE` and `ARCHWAY_ROOT`.

use archway_cli::{interpreter, launch, logging};
use std::path::PathBuf;

fn main() {
    logging::init();
    launch::relaunch_if_asked();
    let args: Vec<_> = std::env::args_os().collect();
    let Some(invocation) = interpreter::parse(&args, interpreter::Start::current()) else {
        eprintln!("usage: archway-aarch64 PROG [ARGS...]");
        std::process::exit(2);
    };
    let engine = match launch::engine_from_env() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("archway: ARCHWAY_ENGINE: {e}");
            std::process::exit(2);
        }
    };
    let root = std::env::var_os("ARCHWAY_ROOT").map(PathBuf::from);
    let status = launch::launch(launch::Launch { program: invocation.program, argv: invocation.argv, engine, root });
    std::process::exit(status);
}
