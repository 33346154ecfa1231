//! Errors of registration, each saying what to do about it.

use std::path::PathBuf;

/// Why a binfmt_misc operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: permission denied: registering interpreters needs root (CAP_SYS_ADMIN), e.g. `sudo archway binfmt ...` or a privileged container")]
    NotRoot { path: PathBuf },
    #[error(
        "{path}: binfmt_misc is not available (kernel without CONFIG_BINFMT_MISC, or cannot mount it here): {source}"
    )]
    Missing { path: PathBuf, source: std::io::Error },
    #[error("{path}: the F (persistent) flag needs a static interpreter, and this one has a dynamic loader (PT_INTERP); build one with scripts/build-static.sh and pass its directory with --interpreter-dir")]
    NotStatic { path: PathBuf },
    #[error("{path}: not a readable ELF interpreter: {reason}")]
    BadInterpreter { path: PathBuf, reason: String },
    #[error("{name}: already registered with a different definition (interpreter {interpreter}, flags {flags:?}); pass --reset to replace it")]
    Conflict { name: String, interpreter: String, flags: String },
    #[error("unknown architecture `{0}` (known: arm64/aarch64, amd64/x86_64)")]
    UnknownArch(String),
    #[error("{name}: not a valid entry name (letters, digits, `-`, `_`, `.`; not `register` or `status`)")]
    BadName { name: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl Error {
    /// An I/O error on `path`, with permission errors turned into [`Error::NotRoot`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        let path = path.into();
        match source.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => Error::NotRoot { path },
            _ => Error::Io { path, source },
        }
    }
}
