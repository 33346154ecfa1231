//! What can go wrong reading an image, each error naming the file, blob, entry or
//! registry it is about. None of them is a panic; the check maps every one to its
//! `error` verdict (exit code 2).

use crate::digest::{Digest, DigestError};
use crate::reference::ReferenceError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Digest(#[from] DigestError),
    /// A file of a layout or archive cannot be read.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A document (index, manifest, config, layout file) is not what it must be.
    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },
    /// A blob is missing, unreadable, or not what its descriptor says.
    #[error("blob {digest}: {reason}")]
    Blob { digest: Digest, reason: String },
    /// A registry refused, failed or could not be reached.
    #[error("{registry}: {reason}")]
    Registry { registry: String, reason: String },
    /// A layer's tar stream is broken or holds an entry that would escape the root.
    #[error("layer {layer}: {entry}: {reason}")]
    Layer { layer: Digest, entry: String, reason: String },
    /// The reference names no image (tag or digest not found).
    #[error("{reference}: {reason}")]
    NotFound { reference: String, reason: String },
}

impl Error {
    /// An [`Error::Invalid`] about `what`.
    pub fn invalid(what: impl Into<String>, reason: impl std::fmt::Display) -> Error {
        Error::Invalid { what: what.into(), reason: reason.to_string() }
    }

    /// An [`Error::Io`] about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }
}
