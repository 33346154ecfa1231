//! Response bodies: documents read whole but never past a limit, and blob streams whose
//! read errors say which blob broke off where.

use std::io::{self, Read};

/// Why a document's body could not be read whole.
#[derive(Debug)]
pub enum BodyError {
    /// The registry announced (`Content-Length`) or sent more than `limit` bytes.
    TooLarge { limit: u64 },
    /// The connection failed after `read` bytes.
    Read { read: usize, error: io::Error },
}

/// The whole body of `response`, refused without reading it if `Content-Length` says it
/// is longer than `limit`, and cut off (as [`BodyError::TooLarge`]) at `limit + 1` bytes.
pub fn read_limited(response: ureq::Response, limit: u64) -> Result<Vec<u8>, BodyError> {
    let announced = response.header("Content-Length").and_then(|length| length.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let capacity = announced.unwrap_or(0).min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    match response.into_reader().take(limit.saturating_add(1)).read_to_end(&mut bytes) {
        Ok(_) if bytes.len() as u64 > limit => Err(BodyError::TooLarge { limit }),
        Ok(_) => Ok(bytes),
        Err(error) => Err(BodyError::Read { read: bytes.len(), error }),
    }
}

/// A blob's byte stream whose read errors (a connection reset or closed before the end)
/// keep their kind and say what broke off: `LABEL: connection lost after N of SIZE
/// bytes: ...`.
pub struct BlobStream<R> {
    inner: R,
    label: String,
    size: u64,
    read: u64,
}

impl<R: Read> BlobStream<R> {
    /// `label` names the blob and where it comes from (`HOST/REPO: blob sha256:...`).
    pub fn new(inner: R, label: String, size: u64) -> BlobStream<R> {
        BlobStream { inner, label, size, read: 0 }
    }
}

impl<R: Read> Read for BlobStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.read += n as u64;
                Ok(n)
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Err(error),
            Err(error) => Err(io::Error::new(
                error.kind(),
                format!("{}: connection lost after {} of {} bytes: {error}", self.label, self.read, self.size),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives `data`, then fails as a reset connection does.
    struct BreaksOff<'a>(&'a [u8]);

    impl Read for BreaksOff<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer"));
            }
            let n = self.0.read(buf)?;
            Ok(n)
        }
    }

    #[test]
    fn blob_stream_names_where_it_broke_off() {
        let mut stream = BlobStream::new(BreaksOff(b"12345"), "r/x: blob sha256:ab".into(), 9);
        let mut out = Vec::new();
        let error = stream.read_to_end(&mut out).unwrap_err();
        assert_eq!(out, b"12345");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(error.to_string(), "r/x: blob sha256:ab: connection lost after 5 of 9 bytes: reset by peer");
    }
}
