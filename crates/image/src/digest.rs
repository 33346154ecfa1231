//! Content digests (`sha256:<64 hex>`) and readers that check a blob as it streams by.
//!
//! Every blob archway reads is verified: [`Verified`] counts and hashes the bytes as
//! they are read and fails the read that reaches the end (or goes past the declared
//! size) if they are not what the descriptor promised. A caller that reads a blob to
//! its end therefore cannot act on unverified bytes without also seeing the error.

use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{self, Read};

/// A `sha256:` digest (the only algorithm images use in practice; others are refused
/// by name so the error says what was met).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    /// 64 lowercase hex digits.
    hex: String,
}

/// Why a string is not a digest archway can check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("{0:?} is not a digest (expected sha256:<64 hex digits>)")]
    Malformed(String),
    #[error("{0:?}: only sha256 digests are supported")]
    Algorithm(String),
}

impl Digest {
    /// Parse `sha256:<64 lowercase hex>`.
    pub fn parse(text: &str) -> Result<Digest, DigestError> {
        let (algorithm, hex) = text.split_once(':').ok_or_else(|| DigestError::Malformed(text.to_string()))?;
        if algorithm != "sha256" {
            return Err(if algorithm.is_empty() || hex.is_empty() {
                DigestError::Malformed(text.to_string())
            } else {
                DigestError::Algorithm(text.to_string())
            });
        }
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(DigestError::Malformed(text.to_string()));
        }
        Ok(Digest { hex: hex.to_string() })
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest::from_hasher(Sha256::new_with_prefix(bytes))
    }

    /// The digest a hasher has computed.
    pub(crate) fn from_hasher(hasher: Sha256) -> Digest {
        Digest { hex: format!("{:x}", hasher.finalize()) }
    }

    /// The hex part: the file name under `blobs/sha256/`.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex digits, as `docker images` shows them.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl std::str::FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Digest, DigestError> {
        Digest::parse(s)
    }
}

/// A reader over a blob that must be exactly `size` bytes with digest `digest`: the read
/// that reaches the end returns an error of kind `InvalidData` if either is wrong, and so
/// does a read past `size`.
pub struct Verified<R> {
    inner: R,
    digest: Digest,
    size: u64,
    seen: u64,
    hasher: Sha256,
    checked: bool,
}

impl<R: Read> Verified<R> {
    pub fn new(inner: R, digest: Digest, size: u64) -> Verified<R> {
        Verified { inner, digest, size, seen: 0, hasher: Sha256::new(), checked: false }
    }

    /// Read everything left and check it; the whole content.
    pub fn read_all(mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.size.min(64 << 20) as usize);
        self.read_to_end(&mut out)?;
        Ok(out)
    }

    fn mismatch(&self, what: String) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, format!("blob {}: {what}", self.digest))
    }
}

impl<R: Read> Read for Verified<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.checked {
            return Ok(0);
        }
        // Ask for one byte more than the declared size allows, to notice a longer blob.
        let room = (self.size - self.seen).saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.seen += n as u64;
        if self.seen > self.size {
            return Err(self.mismatch(format!("longer than its declared {} bytes", self.size)));
        }
        self.hasher.update(&buf[..n]);
        if n == 0 {
            if self.seen != self.size {
                return Err(self.mismatch(format!("{} bytes, but the descriptor says {}", self.seen, self.size)));
            }
            let actual = Digest::from_hasher(std::mem::take(&mut self.hasher));
            if actual != self.digest {
                return Err(self.mismatch(format!("content has digest {actual}")));
            }
            self.checked = true;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parse_and_display() {
        let d = Digest::parse(EMPTY).unwrap();
        assert_eq!(d.to_string(), EMPTY);
        assert_eq!(d, Digest::of(b""));
        assert_eq!(d.short(), "e3b0c44298fc");
        assert!(matches!(Digest::parse("sha512:abcd"), Err(DigestError::Algorithm(_))));
        for bad in ["", "sha256:", "sha256:E3B0", ":abc", "e3b0c44298fc", &EMPTY.replace('e', "E")] {
            assert!(matches!(Digest::parse(bad), Err(DigestError::Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn verified_reads_check_size_and_digest() {
        let data = b"hello, blob".to_vec();
        let good = Verified::new(&data[..], Digest::of(&data), data.len() as u64);
        assert_eq!(good.read_all().unwrap(), data);
        let wrong_digest = Verified::new(&data[..], Digest::of(b"other"), data.len() as u64);
        assert!(wrong_digest.read_all().unwrap_err().to_string().contains("content has digest"));
        let short = Verified::new(&data[..], Digest::of(&data), data.len() as u64 + 1);
        assert!(short.read_all().unwrap_err().to_string().contains("bytes, but the descriptor says"));
        let long = Verified::new(&data[..], Digest::of(&data[..4]), 4);
        assert!(long.read_all().unwrap_err().to_string().contains("longer than"));
    }
}
