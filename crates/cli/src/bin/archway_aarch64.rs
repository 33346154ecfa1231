//! `archway-aarch64 PROG [ARGS...]`: the aarch64 interpreter binary, the name
//! binfmt_misc registrations use. Arguments after PROG go to the guest unchanged;
//! under binfmt_misc's P flag the kernel's extra argv[0] is recognised through
//! `AT_FLAGS`, under O the program is loaded from `AT_EXECFD`
//! ([`archway_cli::interpreter`]). The engine and guest root come from
//! `ARCHWAY_ENGINE` and `ARCHWAY_ROOT`, except in secure mode (a setuid guest under C).

use archway_cli::{interpreter, launch, logging};

fn main() {
    logging::init();
    launch::relaunch_if_asked();
    let args: Vec<_> = std::env::args_os().collect();
    let Some(mut invocation) = interpreter::parse(&args, interpreter::Start::current()) else {
        eprintln!("usage: archway-aarch64 PROG [ARGS...]");
        std::process::exit(2);
    };
    let (engine, root) = match launch::settings_from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("archway: {e}");
            std::process::exit(2);
        }
    };
    let program_file = invocation.take_program_file();
    let status = launch::launch(launch::Launch {
        program: invocation.program,
        program_file,
        argv: invocation.argv,
        engine,
        root,
    });
    std::process::exit(status);
}
