//! The files of a layout or archive by name: a directory on disk, or a tar archive
//! indexed once (each member's offset and size) and then read by seeking, so an
//! archive's blobs are streamed from the archive itself, never unpacked.
//!
//! Names are relative, `/`-separated, without `./` (`blobs/sha256/<hex>`,
//! `manifest.json`). A tar member whose name would leave the archive (`..`, absolute) is
//! refused when the archive is indexed.

use crate::error::Error;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A set of named files.
pub enum Files {
    Dir(PathBuf),
    Tar { path: PathBuf, members: BTreeMap<String, Member> },
}

/// Where a regular file lies inside a tar archive.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    offset: u64,
    size: u64,
}

/// `name` without `./` prefixes and trailing `/`; `None` if it climbs out (`..`) or is
/// absolute.
pub fn clean_name(name: &str) -> Option<String> {
    if name.starts_with('/') {
        return None;
    }
    let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    if parts.contains(&"..") {
        return None;
    }
    Some(parts.join("/"))
}

impl Files {
    /// The files of directory `dir`.
    pub fn dir(dir: &Path) -> Result<Files, Error> {
        let metadata = std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
        if !metadata.is_dir() {
            return Err(Error::invalid(dir.display().to_string(), "not a directory"));
        }
        Ok(Files::Dir(dir.to_path_buf()))
    }

    /// The regular files of tar archive `path`, indexed by name.
    pub fn tar(path: &Path) -> Result<Files, Error> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut archive = tar::Archive::new(file);
        let mut members = BTreeMap::new();
        let broken =
            |e: std::io::Error| Error::invalid(path.display().to_string(), format!("not a readable tar archive: {e}"));
        for entry in archive.entries_with_seek().map_err(broken)? {
            let entry = entry.map_err(broken)?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = clean_name(&raw).ok_or_else(|| {
                Error::invalid(path.display().to_string(), format!("member {raw:?} would be outside the archive"))
            })?;
            if entry.header().entry_type().is_file() {
                members.insert(name, Member { offset: entry.raw_file_position(), size: entry.size() });
            }
        }
        Ok(Files::Tar { path: path.to_path_buf(), members })
    }

    /// Where these files are, for messages.
    pub fn location(&self) -> &Path {
        match self {
            Files::Dir(dir) => dir,
            Files::Tar { path, .. } => path,
        }
    }

    /// Whether `name` exists as a regular file.
    pub fn exists(&self, name: &str) -> bool {
        match self {
            Files::Dir(dir) => dir.join(name).is_file(),
            Files::Tar { members, .. } => members.contains_key(name),
        }
    }

    /// The size of file `name`.
    pub fn size(&self, name: &str) -> Result<u64, Error> {
        match self {
            Files::Dir(dir) => {
                let path = dir.join(name);
                Ok(std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len())
            }
            Files::Tar { path, members } => members
                .get(name)
                .map(|m| m.size)
                .ok_or_else(|| Error::io(path.join(name), std::io::ErrorKind::NotFound.into())),
        }
    }

    /// File `name` to read.
    pub fn open(&self, name: &str) -> Result<Box<dyn Read + Send>, Error> {
        match self {
            Files::Dir(dir) => {
                let path = dir.join(name);
                Ok(Box::new(File::open(&path).map_err(|e| Error::io(&path, e))?))
            }
            Files::Tar { path, members } => {
                let member = members.get(name).ok_or_else(|| {
                    Error::io(PathBuf::from(format!("{}:{name}", path.display())), std::io::ErrorKind::NotFound.into())
                })?;
                let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
                file.seek(SeekFrom::Start(member.offset)).map_err(|e| Error::io(path, e))?;
                Ok(Box::new(file.take(member.size)))
            }
        }
    }

    /// File `name` whole, refused above `limit` bytes.
    pub fn read(&self, name: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let size = self.size(name)?;
        if size > limit {
            return Err(Error::invalid(
                format!("{}: {name}", self.location().display()),
                format!("{size} bytes, more than the {limit} a document may have"),
            ));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        self.open(name)?.read_to_end(&mut bytes).map_err(|e| Error::io(self.location().join(name), e))?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_escapes_refused() {
        assert_eq!(clean_name("./blobs/sha256/ab").as_deref(), Some("blobs/sha256/ab"));
        assert_eq!(clean_name("index.json").as_deref(), Some("index.json"));
        assert_eq!(clean_name("dir/").as_deref(), Some("dir"));
        assert_eq!(clean_name("../etc/passwd"), None);
        assert_eq!(clean_name("a/../../b"), None);
        assert_eq!(clean_name("/etc/passwd"), None);
    }

    #[test]
    fn tar_members_are_read_in_place() {
        let dir = std::env::temp_dir().join(format!("archway-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.tar");
        let mut builder = tar::Builder::new(File::create(&path).unwrap());
        for (name, data) in [("./index.json", &b"{}"[..]), ("blobs/sha256/x", b"blob bytes")] {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, data).unwrap();
        }
        builder.finish().unwrap();
        drop(builder);
        let files = Files::tar(&path).unwrap();
        assert!(files.exists("index.json") && files.exists("blobs/sha256/x"));
        assert_eq!(files.read("blobs/sha256/x", 100).unwrap(), b"blob bytes");
        assert!(files.read("blobs/sha256/x", 3).is_err(), "over the limit");
        assert!(files.open("missing").is_err());
        std::fs::write(&path, b"not a tar at all, just some bytes that are too short").unwrap();
        assert!(Files::tar(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
