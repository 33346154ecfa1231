//! `archway`: run foreign-architecture Linux programs.

use archway_cli::{binfmt, build, check, launch, logging, manifest};
use archway_engine::EngineKind;
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "archway",
    version,
    about = "Run aarch64 Linux programs on x86_64 hosts with a JIT translator, and check images for a platform",
    long_about = "archway translates aarch64 Linux programs to x86_64 code as they run.\n\n\
        Examples:\n  archway run ./hello-arm64\n  archway run --engine interp ./prog arg1 arg2\n  \
        ARCHWAY_LOG=debug archway run ./prog   # show each translated block\n  \
        sudo archway binfmt --reset -p yes     # register with binfmt_misc: ./prog just runs\n  \
        archway check oci:./layout:app --platform linux/arm64   # is the image ready for arm64?\n\n\
        Environment: ARCHWAY_ENGINE (jit|interp), ARCHWAY_ROOT (guest root), ARCHWAY_LOG (log filter)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an aarch64 program under the translator; the exit status is the guest's.
    Run {
        /// Execution engine: the JIT, or the reference interpreter (slow, for checking).
        /// Default: the JIT on x86_64 hosts, the interpreter on aarch64 hosts (no JIT
        /// back end there yet).
        #[arg(long, env = "ARCHWAY_ENGINE", default_value = EngineKind::HOST_DEFAULT.name(), value_parser = parse_engine)]
        engine: EngineKind,
        /// Guest root directory: absolute paths the guest uses resolve inside it first
        /// (like qemu's -L).
        #[arg(short = 'L', long = "root", env = "ARCHWAY_ROOT", value_name = "ROOT")]
        root: Option<PathBuf>,
        /// The program to run.
        program: PathBuf,
        /// Arguments passed to the program unchanged.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Register archway with the kernel's binfmt_misc so foreign programs run directly
    /// (`./prog`, chroots, `docker run --platform linux/arm64`).
    #[command(after_help = binfmt::EXAMPLES)]
    Binfmt(binfmt::BinfmtArgs),
    /// Is an image really ready for a platform? Reads every layer (ELF census, platform
    /// claims, entrypoint chain, native payloads), runs the entrypoint under archway, and
    /// gives a verdict with an exit code for CI.
    #[command(after_help = check::EXAMPLES)]
    Check(check::CheckArgs),
    /// Build images from a Dockerfile for one or more platforms, without a daemon
    /// (foreign RUN steps under the translator).
    #[command(after_help = build::EXAMPLES)]
    Build(Box<build::BuildArgs>),
    /// Manifest lists (image indexes): create, annotate, inspect, push, rm.
    #[command(after_help = manifest::EXAMPLES)]
    Manifest(manifest::ManifestArgs),
}

fn parse_engine(s: &str) -> Result<EngineKind, String> {
    s.parse()
}

fn main() {
    logging::init();
    launch::relaunch_if_asked();
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run { engine, root, program, args } => {
            let mut argv = vec![program.clone().into_os_string()];
            argv.extend(args);
            launch::launch(launch::Launch { program, program_file: None, argv, engine, root })
        }
        Command::Binfmt(args) => binfmt::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Manifest(args) => manifest::run(&args),
    };
    std::process::exit(status);
}
