//! `archway-aarch64 PROG [ARGS...]`: the aarch64 interpreter binary, the name
//! binfmt_misc registrations use. Arguments after PROG go to the guest unchanged;
//! the engine and guest root come from `ARCHWAY_ENGINE` and `ARCHWAY_ROOT`.

use archway_cli::{launch, logging};
use std::path::PathBuf;

fn main() {
    logging::init();
    launch::relaunch_if_asked();
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
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
    let mut argv = vec![program.clone()];
    argv.extend(args);
    let root = std::env::var_os("ARCHWAY_ROOT").map(PathBuf::from);
    let status = launch::launch(launch::Launch { program: PathBuf::from(program), argv, engine, root });
    std::process::exit(status);
}
