//! How a run ended and what it printed: [`Outcome`], [`Ending`], [`Excerpt`].

use crate::ids::IdMap;
use std::fmt;
use std::time::Duration;

/// How much of the end of stdout and of stderr an [`Outcome`] keeps.
pub const EXCERPT_BYTES: usize = 2048;

/// How the run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The command exited by itself with this status.
    Exited(i32),
    /// The command was killed by a signal (`SIGILL` for an instruction the machine or
    /// the translator does not have, `SIGSEGV`...).
    Signaled { signal: i32, core_dumped: bool },
    /// The command was still running at the timeout (it was then killed, with every
    /// process of its namespace).
    TimedOut,
    /// The run was cancelled ([`crate::Cancel`]) and killed, with every process of its
    /// namespace.
    Cancelled,
    /// The program is not in the root: the paths searched, inside the root.
    NotFound { program: String, searched: Vec<String> },
    /// The program is in the root but cannot be executed for this platform: `exec
    /// format error` (another architecture), a missing loader or `#!` interpreter, not
    /// executable.
    NotExecuted { path: String, reason: String },
    /// The `USER` names a user or group the root's `/etc/passwd` or `/etc/group` does
    /// not have, or an id out of range.
    InvalidUser { user: String, reason: String },
    /// The sandbox could not be set up (no interpreter for a foreign platform,
    /// namespaces refused, a kernel without its own binfmt_misc per namespace, a user
    /// the id maps do not have): says nothing about the root.
    CouldNotRun(String),
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Exited(status) => write!(f, "exited with status {status}"),
            Ending::Signaled { signal, core_dumped } => {
                write!(f, "killed by signal {signal}{}", if *core_dumped { " (core dumped)" } else { "" })
            }
            Ending::TimedOut => write!(f, "still running at the timeout"),
            Ending::Cancelled => write!(f, "cancelled"),
            Ending::NotFound { program, searched } => {
                write!(f, "{program}: not found in the image (searched {})", searched.join(", "))
            }
            Ending::NotExecuted { path, reason } => write!(f, "{path}: cannot be executed: {reason}"),
            Ending::InvalidUser { user, reason } => write!(f, "user {user:?}: {reason}"),
            Ending::CouldNotRun(reason) => write!(f, "could not run: {reason}"),
        }
    }
}

/// The end of one output stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Excerpt {
    /// The last [`EXCERPT_BYTES`] bytes written (invalid UTF-8 replaced).
    pub text: String,
    /// How many bytes were written in all.
    pub total_bytes: u64,
}

impl Excerpt {
    /// Whether earlier output was left out.
    pub fn is_truncated(&self) -> bool {
        self.total_bytes > EXCERPT_BYTES as u64
    }
}

/// Which output stream bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// What the run saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ending: Ending,
    /// The argv executed inside the root (the interpreter's first for a foreign
    /// platform); empty when nothing got that far.
    pub command: Vec<String>,
    /// From the command's start to its end (zero when it did not start).
    pub elapsed: Duration,
    pub stdout: Excerpt,
    pub stderr: Excerpt,
    /// The user namespace's id maps, once they were written.
    pub ids: Option<IdMap>,
    /// What the caller should know beyond the ending: the id maps' limits, mount
    /// points that could not be removed from a writable root.
    pub notes: Vec<String>,
}

impl Outcome {
    /// Whether the command started and did not fail: it exited with status 0, or was
    /// still running at the timeout (what a server does; the smoke test's measure).
    pub fn started(&self) -> bool {
        matches!(self.ending, Ending::TimedOut | Ending::Exited(0))
    }

    /// An outcome that ended before anything ran.
    pub(crate) fn before_start(ending: Ending, command: Vec<String>) -> Outcome {
        Outcome {
            ending,
            command,
            elapsed: Duration::ZERO,
            stdout: Excerpt::default(),
            stderr: Excerpt::default(),
            ids: None,
            notes: Vec::new(),
        }
    }
}
