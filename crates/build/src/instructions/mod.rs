//! Parsed instructions to typed commands grouped in stages, as BuildKit's
//! `instructions.Parse` does: each keyword's flags checked ([`flags`]), its arguments
//! counted and read (`COPY`'s sources and destination with heredoc contents, `RUN`'s
//! mounts ([`mount`]) and network, `HEALTHCHECK`'s test and durations ([`duration`])),
//! `ARG`s before the first `FROM` kept as the file's global arguments, and every error
//! naming the instruction's line. Nothing is expanded here: variables are the build's
//! business, per platform ([`Command::expand`] says which words expand). The commands
//! and their parts are in `command`; `suggest` proposes the closest known name for a
//! misspelt one.

mod command;
mod duration;
mod flags;
mod keyword;
mod mount;
mod suggest;

pub use command::{
    Add, ArgDefinition, Command, CommandLine, Copy, Expand, Health, InlineContent, InlineFile, Network, Pair, Run,
    Sources,
};
pub use mount::{parse_mount, Mount, MountType, Sharing};

use crate::dockerfile::{Dockerfile, Instruction};
use std::fmt;
/// A Dockerfile as stages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stages {
    /// `ARG`s before the first `FROM`: they may be used in `FROM` lines, and in a stage
    /// after an `ARG NAME` without a value.
    pub global_args: Vec<Step<Vec<ArgDefinition>>>,
    pub stages: Vec<Stage>,
}

/// A stage: `FROM [--platform=P] BASE [AS NAME]` and the commands after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The base image or stage, as written (variables expanded at build time).
    pub base: String,
    /// The stage's name, in lower case.
    pub name: Option<String>,
    /// `--platform`, as written.
    pub platform: Option<String>,
    pub commands: Vec<Step<Command>>,
    /// The `FROM` line.
    pub line: usize,
    /// The `FROM` instruction as written.
    pub source: String,
}

/// A command and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<T> {
    pub command: T,
    /// The instruction's first line (1-based).
    pub line: usize,
    /// The instruction as written (continuations joined), for image history.
    pub original: String,
}

impl<T> Step<T> {
    fn of(command: T, instruction: &Instruction) -> Step<T> {
        Step { command, line: instruction.lines.0, original: instruction.original.trim().to_owned() }
    }
}

/// Why an instruction is wrong, and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstructionError {
    pub line: usize,
    pub message: String,
}

impl InstructionError {
    /// `FILE:LINE: message`.
    pub fn located(&self, file: &str) -> String {
        format!("{file}:{}: {}", self.line, self.message)
    }
}

impl fmt::Display for InstructionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for InstructionError {}

/// Group a parsed Dockerfile into stages of typed commands.
pub fn stages(dockerfile: &Dockerfile) -> Result<Stages, InstructionError> {
    let mut global_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for instruction in &dockerfile.instructions {
        let line = instruction.lines.0;
        let error = |message: String| InstructionError { line, message };
        if instruction.name() == "from" {
            stages.push(keyword::stage(instruction).map_err(error)?);
            continue;
        }
        let command = keyword::command(instruction).map_err(error)?;
        match (stages.last_mut(), command) {
            (None, Command::Arg(definitions)) => global_args.push(Step::of(definitions, instruction)),
            (None, _) => return Err(error("no build stage in current context".to_owned())),
            (Some(stage), command) => stage.commands.push(Step::of(command, instruction)),
        }
    }
    Ok(Stages { global_args, stages })
}
