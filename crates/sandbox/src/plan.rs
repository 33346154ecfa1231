//! What exactly runs inside the root: the command's program found by its `PATH`, and
//! the file and argv given to `execve`.
//!
//! - Native (the host's platform): `execve(PROGRAM, ARGV)`. The kernel alone decides,
//!   `#!` lines included; in the sandbox's empty binfmt_misc a program of another
//!   architecture fails with `ENOEXEC`.
//! - Translated (a foreign platform): `execve(/.archway/archway-ARCH, [that, PROGRAM,
//!   ARGS...])`. archway's interpreter loads only ELF programs and would run a program
//!   of the host's own architecture natively, so the plan reads `#!` lines as the kernel
//!   would (up to [`SCRIPT_DEPTH`] of them) and hands archway the last interpreter, and
//!   refuses an ELF that is not of the platform's architecture: such an image would not
//!   run on a machine of that platform, so it must not pass here.

use crate::lookup::{FileKind, Missing, ProgramFile, Root};
use crate::outcome::Ending;
use archway_arch::Arch;

/// `PATH` when the image's environment sets none (what docker and runc give).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How many `#!` lines lead to a program (the kernel allows 4 nested interpreters).
const SCRIPT_DEPTH: usize = 4;

/// Where the sandbox shows archway's interpreter inside the root: a directory no image
/// uses, created for the run when missing (and removed again from a writable root).
pub const INTERPRETER_DIR: &str = "/.archway";

/// How the command's program is run.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Runner {
    /// By the kernel, on the host's platform.
    Native,
    /// By archway's static interpreter for this (foreign) architecture.
    Translator(&'static Arch),
}

/// The path inside the root where the sandbox shows the interpreter for `arch`.
pub(crate) fn interpreter_path(arch: &Arch) -> String {
    format!("{INTERPRETER_DIR}/{}", arch.interpreter_name())
}

/// The `execve` the sandbox ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exec {
    /// The file executed, a path inside the root.
    pub path: String,
    pub argv: Vec<String>,
    pub env: Vec<String>,
    /// The working directory inside the root, absolute.
    pub workdir: String,
    /// The program (the last `#!` interpreter, for a translated script): for messages.
    pub program: ProgramFile,
}

/// The environment with `PATH` set (to [`DEFAULT_PATH`] when `env` has none), and its value.
pub(crate) fn environment(env: &[String]) -> (Vec<String>, String) {
    let mut env = env.to_vec();
    let path = match env.iter().find_map(|entry| entry.strip_prefix("PATH=")) {
        Some(path) => path.to_string(),
        None => {
            env.push(format!("PATH={DEFAULT_PATH}"));
            DEFAULT_PATH.to_string()
        }
    };
    (env, path)
}

/// The working directory as an absolute path (`/` when empty).
pub(crate) fn absolute_workdir(workdir: &str) -> String {
    if workdir.starts_with('/') {
        workdir.to_string()
    } else {
        format!("/{workdir}")
    }
}

/// Find the program of `argv` in `root` and say what to execute, or why nothing can be.
pub(crate) fn plan(
    root: &Root,
    argv: &[String],
    env: &[String],
    workdir: &str,
    runner: Runner,
) -> Result<Exec, Ending> {
    let Some(name) = argv.first() else {
        return Err(Ending::CouldNotRun("the command is empty".to_string()));
    };
    let (env, search_path) = environment(env);
    let workdir = absolute_workdir(workdir);
    let program = root.find_program(name, &search_path, &workdir).map_err(|missing| match missing {
        Missing::NotFound(searched) => Ending::NotFound { program: name.clone(), searched },
        Missing::NotExecutable { path, reason } => Ending::NotExecuted { path, reason },
    })?;
    let arch = match runner {
        Runner::Native => return Ok(Exec { path: program.path.clone(), argv: argv.to_vec(), env, workdir, program }),
        Runner::Translator(arch) => arch,
    };
    let (program, guest_argv) = follow_scripts(root, program, argv, &workdir)?;
    match &program.kind {
        FileKind::Elf(header) if header.arch() == Some(arch) => {}
        FileKind::Elf(header) => {
            let found =
                header.arch().map_or_else(|| format!("ELF machine {}", header.machine), |a| a.platform.to_string());
            let reason = format!("it is an ELF program for {found}, not {}", arch.platform);
            return Err(Ending::NotExecuted { path: program.path, reason });
        }
        FileKind::Script { .. } => {
            let reason = format!("more than {SCRIPT_DEPTH} #! interpreters in a row");
            return Err(Ending::NotExecuted { path: program.path, reason });
        }
        FileKind::Other => {
            let reason = "exec format error: neither an ELF program nor a #! script".to_string();
            return Err(Ending::NotExecuted { path: program.path, reason });
        }
    }
    let interpreter = interpreter_path(arch);
    let mut exec_argv = vec![interpreter.clone(), program.path.clone()];
    exec_argv.extend(guest_argv.into_iter().skip(1));
    Ok(Exec { path: interpreter, argv: exec_argv, env, workdir, program })
}

/// Follow `#!` lines from `program` as the kernel does: each script becomes
/// `INTERPRETER [ARGUMENT] SCRIPT ARGS...`. Returns the last file and the argv it gets
/// (its `argv[0]` is the interpreter as the line names it).
fn follow_scripts(
    root: &Root,
    mut program: ProgramFile,
    argv: &[String],
    workdir: &str,
) -> Result<(ProgramFile, Vec<String>), Ending> {
    let mut argv = argv.to_vec();
    for _ in 0..SCRIPT_DEPTH {
        let FileKind::Script { interpreter, argument } = &program.kind else { break };
        let mut next_argv = vec![interpreter.clone()];
        next_argv.extend(argument.clone());
        next_argv.push(program.path.clone());
        next_argv.extend(argv.iter().skip(1).cloned());
        let next = root.program_file(interpreter, workdir).map_err(|e| Ending::NotExecuted {
            path: program.path.clone(),
            reason: format!("its #! interpreter {interpreter}: {e}"),
        })?;
        (program, argv) = (next, next_argv);
    }
    Ok((program, argv))
}
