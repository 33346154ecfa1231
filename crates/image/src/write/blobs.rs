//! The blobs of a layout being written, `blobs/sha256/<hex>`: each one is written to a
//! temporary file in the layout's directory, hashed as it goes, synced, and renamed to
//! its digest at the end, so a blob name always holds its whole content. Writing a blob
//! that is already there is harmless (the same bytes replace the same bytes), and a
//! failed write leaves no blob and no temporary file.

use super::atomic::TempPath;
use crate::digest::Digest;
use crate::error::Error;
use crate::store::descriptor_digest;
use oci_spec::image::{Descriptor, MediaType};
use sha2::{Digest as _, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The blob directory of a layout (its `blobs/sha256/`).
#[derive(Debug, Clone)]
pub struct BlobStore {
    /// The layout's directory: temporary files go there, blobs below it.
    root: PathBuf,
}

/// A descriptor of `size` bytes with digest `digest` and media type `media_type`.
pub fn descriptor(media_type: &str, digest: &Digest, size: u64) -> Descriptor {
    let digest: oci_spec::image::Digest =
        digest.to_string().parse().expect("a sha256 digest of archway's is a valid oci-spec digest");
    Descriptor::new(MediaType::from(media_type), size, digest)
}

impl BlobStore {
    /// The blobs of the layout in directory `root`; `blobs/sha256` is made if missing.
    pub fn new(root: &Path) -> Result<BlobStore, Error> {
        let dir = root.join("blobs/sha256");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(BlobStore { root: root.to_path_buf() })
    }

    /// The layout directory these blobs belong to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where blob `digest` is.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    /// Whether blob `digest` is present with `size` bytes (its content is checked by
    /// whoever reads it).
    pub fn contains(&self, digest: &Digest, size: u64) -> bool {
        std::fs::symlink_metadata(self.path(digest)).is_ok_and(|m| m.is_file() && m.len() == size)
    }

    /// A writer for a new blob, named when it is finished.
    pub fn writer(&self) -> Result<BlobWriter, Error> {
        let (temp, file) = TempPath::file_in(&self.root, "blob")?;
        Ok(BlobWriter {
            temp,
            out: BufWriter::with_capacity(256 << 10, file),
            hasher: Sha256::new(),
            size: 0,
            store: self.clone(),
        })
    }

    /// Store `bytes`; their descriptor with media type `media_type`.
    pub fn put_bytes(&self, media_type: &str, bytes: &[u8]) -> Result<Descriptor, Error> {
        let mut writer = self.writer()?;
        writer.write_all(bytes).map_err(|e| Error::io(writer.temp.path(), e))?;
        let (digest, size) = writer.finish()?;
        Ok(descriptor(media_type, &digest, size))
    }

    /// Give this store blob `descriptor` of `source` (another store, whose blobs were
    /// checked when they were written): a hard link where both are on one file system
    /// (blobs are never written in place, so sharing the file is safe, and a link
    /// appears whole or not at all), else a checked copy. Nothing when it is here already.
    pub fn link_from(&self, source: &BlobStore, descriptor: &Descriptor) -> Result<(), Error> {
        let digest = descriptor_digest(descriptor)?;
        if self.contains(&digest, descriptor.size()) {
            return Ok(());
        }
        let from = source.path(&digest);
        if source.contains(&digest, descriptor.size()) && std::fs::hard_link(&from, self.path(&digest)).is_ok() {
            return Ok(());
        }
        let file = File::open(&from).map_err(|e| Error::io(&from, e))?;
        self.put_stream(descriptor, file)
    }

    /// Store the blob `descriptor` names, read from `reader`, checking that the bytes are
    /// the ones it names (nothing is stored otherwise).
    pub fn put_stream(&self, descriptor: &Descriptor, mut reader: impl Read) -> Result<(), Error> {
        let expected = descriptor_digest(descriptor)?;
        let mut writer = self.writer()?;
        let mut buffer = vec![0u8; 256 << 10];
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Blob { digest: expected, reason: format!("cannot read it: {e}") }),
            };
            writer.write_all(&buffer[..n]).map_err(|e| Error::io(writer.temp.path(), e))?;
        }
        if writer.size != descriptor.size() || Digest::from_hasher(writer.hasher.clone()) != expected {
            return Err(Error::Blob {
                digest: expected,
                reason: format!(
                    "the source gave {} bytes with digest {}, not the {} bytes the descriptor names",
                    writer.size,
                    Digest::from_hasher(writer.hasher.clone()),
                    descriptor.size()
                ),
            });
        }
        writer.finish()?;
        Ok(())
    }
}

/// A blob being written: hashed and counted as it goes.
pub struct BlobWriter {
    temp: TempPath,
    out: BufWriter<File>,
    hasher: Sha256,
    size: u64,
    store: BlobStore,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl BlobWriter {
    /// The temporary file being written, for messages.
    pub fn location(&self) -> &Path {
        self.temp.path()
    }

    /// Sync the blob and name it by its digest; its digest and size.
    pub fn finish(self) -> Result<(Digest, u64), Error> {
        let BlobWriter { temp, out, hasher, size, store } = self;
        let file = out.into_inner().map_err(|e| Error::io(temp.path(), e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(temp.path(), e))?;
        let digest = Digest::from_hasher(hasher);
        temp.rename_to(&store.path(&digest))?;
        Ok((digest, size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_linked_from_another_store() {
        let dir = std::env::temp_dir().join(format!("archway-blob-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (a, b) = (BlobStore::new(&dir.join("a")).unwrap(), BlobStore::new(&dir.join("b")).unwrap());
        let stored = a.put_bytes("application/octet-stream", b"shared bytes").unwrap();
        b.link_from(&a, &stored).unwrap();
        b.link_from(&a, &stored).unwrap();
        let digest = descriptor_digest(&stored).unwrap();
        use std::os::unix::fs::MetadataExt;
        let (from, to) = (std::fs::metadata(a.path(&digest)).unwrap(), std::fs::metadata(b.path(&digest)).unwrap());
        assert_eq!((from.ino(), std::fs::read(b.path(&digest)).unwrap()), (to.ino(), b"shared bytes".to_vec()));
        let missing = descriptor("application/octet-stream", &Digest::of(b"absent"), 6);
        assert!(b.link_from(&a, &missing).is_err(), "a blob the source lacks is an error");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn blobs_are_named_by_digest_and_checked() {
        let root = std::env::temp_dir().join(format!("archway-blobs-{}", std::process::id()));
        let store = BlobStore::new(&root).unwrap();
        let d = store.put_bytes("application/octet-stream", b"hello").unwrap();
        assert_eq!(d.digest().to_string(), Digest::of(b"hello").to_string());
        assert_eq!(d.size(), 5);
        assert_eq!(std::fs::read(store.path(&Digest::of(b"hello"))).unwrap(), b"hello");
        assert!(store.contains(&Digest::of(b"hello"), 5));
        assert!(!store.contains(&Digest::of(b"hello"), 4));
        // Again: the same blob, nothing else.
        store.put_bytes("application/octet-stream", b"hello").unwrap();
        store.put_stream(&d, &b"hello"[..]).unwrap();
        let wrong = store.put_stream(&d, &b"hellO"[..]).unwrap_err().to_string();
        assert!(wrong.contains("not the 5 bytes the descriptor names"), "{wrong}");
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1, "only blobs/: no temporary file left");
        assert_eq!(std::fs::read_dir(root.join("blobs/sha256")).unwrap().count(), 1);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
