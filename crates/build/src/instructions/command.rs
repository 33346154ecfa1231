//! The typed commands of a stage and their parts, and which of their words are expanded
//! with the build's variables.

use std::time::Duration;

/// One command of a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Env(Vec<Pair>),
    Label(Vec<Pair>),
    Maintainer(String),
    Copy(Copy),
    Add(Add),
    Workdir(String),
    Run(Run),
    Cmd(CommandLine),
    Entrypoint(CommandLine),
    Healthcheck(Health),
    /// The ports, sorted as BuildKit sorts them.
    Expose(Vec<String>),
    User(String),
    Volume(Vec<String>),
    StopSignal(String),
    Arg(Vec<ArgDefinition>),
    /// `SHELL ["bash", "-c"]` (JSON form only).
    Shell(Vec<String>),
    /// `ONBUILD INSTRUCTION`: the trigger, stored as text in the image config.
    Onbuild(String),
}

/// `KEY=VALUE` of `ENV` or `LABEL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub key: String,
    pub value: String,
}

/// `ARG NAME[=DEFAULT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDefinition {
    pub name: String,
    pub default: Option<String>,
}

/// A command in exec form (`["a", "b"]`) or shell form (`a b`, run by the stage's shell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The exec-form words, or the shell-form text as one word.
    pub args: Vec<String>,
    /// Shell form: the stage's `SHELL` comes first.
    pub shell_form: bool,
    /// Heredoc files (`RUN <<EOF`).
    pub files: Vec<InlineFile>,
}

/// A heredoc of a `RUN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineFile {
    pub name: String,
    pub data: String,
    pub chomp: bool,
}

/// Sources and destination of `COPY` and `ADD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// Paths, globs or (for `ADD`) URLs.
    pub paths: Vec<String>,
    /// Heredoc files (`COPY <<EOF /dest`).
    pub contents: Vec<InlineContent>,
    pub destination: String,
}

/// A file given inline with a heredoc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineContent {
    pub name: String,
    /// The body (tabs already removed for `<<-`).
    pub data: String,
    /// Whether variables in it are expanded.
    pub expand: bool,
}

/// `COPY [--from=S] [--chown=U:G] [--chmod=M] [--link] [--parents] [--exclude=P] SRC... DEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub sources: Sources,
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub parents: bool,
    pub exclude: Vec<String>,
}

/// `ADD [--chown] [--chmod] [--link] [--checksum] [--keep-git-dir] [--unpack] [--exclude] SRC... DEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Add {
    pub sources: Sources,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub exclude: Vec<String>,
    pub keep_git_dir: Option<bool>,
    pub checksum: Option<String>,
    pub unpack: Option<bool>,
}

/// `RUN [--mount=...] [--network=...] [--security=...] [--device=...] COMMAND`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub command: CommandLine,
    /// The `--mount` values as written (parsed by [`parse_mount`] once expanded).
    pub mounts: Vec<String>,
    pub network: Network,
    /// `--security=insecure` (`sandbox` is the default).
    pub insecure: bool,
    pub devices: Vec<String>,
}

/// `RUN --network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Default,
    None,
    Host,
}

/// `HEALTHCHECK`: the test as the image config stores it (`["NONE"]`, `["CMD", ...]`,
/// `["CMD-SHELL", "..."]`) and its timings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub test: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub start_interval: Duration,
    pub retries: u32,
}

/// A word expander: a word in, the word with its variables expanded out.
pub type Expand<'a> = dyn FnMut(&str) -> Result<String, String> + 'a;

impl Command {
    /// Expand the words BuildKit expands before running this command: `ENV` and `LABEL`
    /// keys and values, `ARG` names and defaults, `COPY`/`ADD` sources, destination,
    /// `--chown`, `--chmod` (and `ADD`'s `--checksum`), `WORKDIR`, `USER`, `VOLUME` and
    /// `STOPSIGNAL`. `RUN`, `CMD`, `ENTRYPOINT` and `SHELL` are left to the shell;
    /// `RUN --mount` values are expanded when they are read ([`parse_mount`]).
    pub fn expand(&mut self, expand: &mut Expand) -> Result<(), String> {
        let mut one = |word: &mut String| -> Result<(), String> {
            *word = expand(word)?;
            Ok(())
        };
        match self {
            Command::Env(pairs) | Command::Label(pairs) => {
                for pair in pairs {
                    one(&mut pair.key)?;
                    one(&mut pair.value)?;
                }
            }
            Command::Arg(definitions) => {
                for definition in definitions {
                    one(&mut definition.name)?;
                    if let Some(default) = &mut definition.default {
                        one(default)?;
                    }
                }
            }
            Command::Copy(copy) => {
                copy.chown.iter_mut().chain(&mut copy.chmod).try_for_each(&mut one)?;
                copy.sources.paths.iter_mut().chain([&mut copy.sources.destination]).try_for_each(&mut one)?;
            }
            Command::Add(add) => {
                add.chown.iter_mut().chain(&mut add.chmod).chain(&mut add.checksum).try_for_each(&mut one)?;
                add.sources.paths.iter_mut().chain([&mut add.sources.destination]).try_for_each(&mut one)?;
            }
            Command::Workdir(word) | Command::User(word) | Command::StopSignal(word) => one(word)?,
            Command::Volume(volumes) => volumes.iter_mut().try_for_each(&mut one)?,
            Command::Maintainer(_)
            | Command::Run(_)
            | Command::Cmd(_)
            | Command::Entrypoint(_)
            | Command::Healthcheck(_)
            | Command::Expose(_)
            | Command::Shell(_)
            | Command::Onbuild(_) => {}
        }
        Ok(())
    }
}
