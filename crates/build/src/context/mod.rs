//! The build context: the directory `COPY` and `ADD` read from, less what `.dockerignore`
//! excludes ([`ignore`]), and the sources of a `COPY` resolved inside it ([`sources`]):
//! wildcards matched per path component as Go's `filepath.Match` does ([`glob`]), and
//! nothing outside the context ever reached, through `..` or through a symbolic link.

pub mod glob;
pub mod ignore;
pub mod sources;

pub(crate) use ignore::clean as clean_path;
pub use ignore::Ignore;
pub use sources::{ContextError, Source};

use std::path::{Path, PathBuf};

/// A build context directory and its ignore rules.
#[derive(Debug, Clone)]
pub struct Context {
    root: PathBuf,
    ignore: Ignore,
}

impl Context {
    /// The context at `root`, with the `.dockerignore` found there (or `ignore_file`,
    /// as `Dockerfile.dockerignore` next to a Dockerfile overrides it).
    pub fn open(root: &Path, ignore_file: Option<&Path>) -> Result<Context, ContextError> {
        let root = root.canonicalize().map_err(|e| ContextError::Io(root.to_path_buf(), e.to_string()))?;
        let ignore_path = ignore_file.map(Path::to_path_buf).unwrap_or_else(|| root.join(".dockerignore"));
        let ignore = match std::fs::read_to_string(&ignore_path) {
            Ok(text) => Ignore::parse(&text).map_err(|e| ContextError::Ignore(ignore_path.clone(), e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ignore::default(),
            Err(e) => return Err(ContextError::Io(ignore_path, e.to_string())),
        };
        Ok(Context { root, ignore })
    }

    /// The context's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The ignore rules.
    pub fn ignore(&self) -> &Ignore {
        &self.ignore
    }
}
