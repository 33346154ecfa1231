//! Tar archives of image files (OCI and Docker archives): written to a temporary file
//! next to the destination and renamed onto it when complete, so the destination is
//! either the old file or the whole new archive. Members are owned by root, dated 1970,
//! mode 0644 (directories 0755), so the same content gives the same archive.
//!
//! A member whose size is not known in advance (a layer being decompressed) is streamed:
//! its header is written with size 0, the data follows, and the header is overwritten
//! with the real size (headers have the same length whatever the size, see
//! [`super::tar_entry`]).

use super::atomic::TempPath;
use super::tar_entry::{padding, EntryHeader, EntryKind, BLOCK};
use crate::digest::Digest;
use crate::error::Error;
use sha2::{Digest as _, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// An archive being written.
pub struct ArchiveWriter {
    temp: TempPath,
    out: BufWriter<File>,
    dest: PathBuf,
}

impl ArchiveWriter {
    /// A new archive that will replace file `dest` (which must not be a directory).
    pub fn create(dest: &Path) -> Result<ArchiveWriter, Error> {
        if std::fs::symlink_metadata(dest).is_ok_and(|m| m.is_dir()) {
            return Err(Error::invalid(dest.display().to_string(), "is a directory; an archive is written as a file"));
        }
        let (temp, file) = TempPath::file_next_to(dest)?;
        Ok(ArchiveWriter { temp, out: BufWriter::with_capacity(256 << 10, file), dest: dest.to_path_buf() })
    }

    fn failed(&self, e: io::Error) -> Error {
        Error::io(self.temp.path(), e)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.out.write_all(bytes).map_err(|e| self.failed(e))
    }

    /// A directory member (`name` without a trailing `/`).
    pub fn add_dir(&mut self, name: &str) -> Result<(), Error> {
        self.put(&EntryHeader::new(name.as_bytes(), EntryKind::Dir, 0o755).encode())
    }

    /// A symbolic link member.
    pub fn add_symlink(&mut self, name: &str, target: &str) -> Result<(), Error> {
        let header =
            EntryHeader { link: target.as_bytes(), ..EntryHeader::new(name.as_bytes(), EntryKind::Symlink, 0o777) };
        self.put(&header.encode())
    }

    /// A file member holding `bytes`.
    pub fn add_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        let header =
            EntryHeader { size: bytes.len() as u64, ..EntryHeader::new(name.as_bytes(), EntryKind::File, 0o644) };
        self.put(&header.encode())?;
        self.put(bytes)?;
        self.put(&[0; BLOCK][..padding(bytes.len() as u64)])
    }

    /// A file member holding what `reader` gives until its end; its size and digest. A
    /// read error is reported through `read_error`.
    pub fn add_stream(
        &mut self,
        name: &str,
        reader: &mut dyn Read,
        read_error: impl Fn(io::Error) -> Error,
    ) -> Result<(u64, Digest), Error> {
        let start = self.out.stream_position().map_err(|e| self.failed(e))?;
        let mut header = EntryHeader::new(name.as_bytes(), EntryKind::File, 0o644);
        self.put(&header.encode())?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buffer = vec![0u8; 256 << 10];
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e)),
            };
            hasher.update(&buffer[..n]);
            size += n as u64;
            self.put(&buffer[..n])?;
        }
        self.put(&[0; BLOCK][..padding(size)])?;
        let end = self.out.stream_position().map_err(|e| self.failed(e))?;
        header.size = size;
        let bytes = header.encode();
        self.out.seek(SeekFrom::Start(start)).map_err(|e| self.failed(e))?;
        self.put(&bytes)?;
        self.out.seek(SeekFrom::Start(end)).map_err(|e| self.failed(e))?;
        Ok((size, Digest::from_hasher(hasher)))
    }

    /// End the archive and put it at its destination.
    pub fn finish(mut self) -> Result<(), Error> {
        self.put(&[0; 2 * BLOCK])?;
        let ArchiveWriter { temp, out, dest } = self;
        let file = out.into_inner().map_err(|e| Error::io(temp.path(), e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(temp.path(), e))?;
        temp.rename_to(&dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_members_get_their_size_afterwards() {
        let dir = std::env::temp_dir().join(format!("archway-archive-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("a.tar");
        let mut archive = ArchiveWriter::create(&dest).unwrap();
        archive.add_dir("d").unwrap();
        archive.add_bytes("d/small", b"abc").unwrap();
        let data = vec![7u8; 1000];
        let (size, digest) = archive.add_stream("d/streamed", &mut &data[..], |e| Error::io("source", e)).unwrap();
        assert_eq!((size, digest), (1000, Digest::of(&data)));
        archive.add_symlink("d/link", "small").unwrap();
        assert!(!dest.exists(), "nothing at the destination before finish");
        archive.finish().unwrap();
        let bytes = std::fs::read(&dest).unwrap();
        let mut read = tar::Archive::new(&bytes[..]);
        let members: Vec<(String, u64, u32)> = read
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().display().to_string(), e.size(), e.header().mode().unwrap())
            })
            .collect();
        assert_eq!(
            members,
            [
                ("d/".into(), 0, 0o755),
                ("d/small".into(), 3, 0o644),
                ("d/streamed".into(), 1000, 0o644),
                ("d/link".into(), 0, 0o777)
            ]
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left");
        assert!(ArchiveWriter::create(&dir).err().unwrap().to_string().contains("is a directory"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
