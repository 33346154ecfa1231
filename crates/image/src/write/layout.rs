//! Writing OCI image layouts (`image-layout.md`): blobs by digest, documents as canonical
//! JSON ([`super::canonical`]), `oci-layout`, and `index.json` with its tags (the
//! `org.opencontainers.image.ref.name` annotation).
//!
//! Two ways to write, and neither leaves a half-written image where a reader looks:
//! - [`LayoutWriter::open`] adds to an existing layout: blobs are written in place (each
//!   complete under its digest name before anything refers to it), and
//!   [`LayoutWriter::commit`] rewrites `index.json` through a temporary file and a rename,
//!   holding an exclusive `flock` on the layout directory while it reads, changes and
//!   writes it, so two archway processes adding tags at once both keep theirs. A failure
//!   before that leaves `index.json` as it was (and perhaps unreferenced blobs).
//! - [`LayoutWriter::create`] makes a new layout: everything is written in a temporary
//!   directory next to the destination, which [`LayoutWriter::commit`] renames onto it
//!   (an existing layout there is replaced whole; anything else there is refused). A
//!   failure, or dropping the writer without committing, removes the temporary directory.
//!
//! Tagging a name replaces the entry that had it; other entries are kept.

use super::atomic::{split_destination, TempPath};
use super::blobs::BlobStore;
use super::canonical::to_canonical_json;
use crate::error::Error;
use crate::files::Files;
use crate::layout::{LayoutStore, REF_NAME};
use crate::reference::Selector;
use crate::resolve::media::OCI_INDEX;
use crate::store::DOCUMENT_LIMIT;
use oci_spec::image::Descriptor;
use serde_json::Value;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The `oci-layout` file's content.
const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// A change to `index.json`, applied at commit.
#[derive(Debug, Clone)]
enum IndexChange {
    /// Give `descriptor` tag `tag`, taking the tag from any entry that had it.
    Tag(String, Descriptor),
    /// Remove the entries tagged `tag`.
    Untag(String),
    /// List `descriptor` without a tag (once).
    Add(Descriptor),
}

/// Where the writer writes.
enum Target {
    /// In place, in an existing layout.
    Existing,
    /// In a temporary directory that becomes the destination at commit.
    New(TempPath),
}

/// A layout being written; nothing of `index.json` changes before [`LayoutWriter::commit`].
pub struct LayoutWriter {
    destination: PathBuf,
    target: Target,
    blobs: BlobStore,
    changes: Vec<IndexChange>,
}

/// Whether `tag` is a valid `org.opencontainers.image.ref.name` (`image-layout.md`):
/// components of letters and digits joined by one of `-._:@+` (or `--`), separated by `/`.
pub fn valid_tag(tag: &str) -> bool {
    let separator = |c: char| "-._:@+".contains(c);
    !tag.is_empty()
        && tag.split('/').all(|component| {
            let chars: Vec<char> = component.chars().collect();
            let alnum = |c: &char| c.is_ascii_alphanumeric();
            chars.first().is_some_and(alnum)
                && chars.last().is_some_and(alnum)
                && chars.iter().all(|c| alnum(c) || separator(*c))
                && chars
                    .windows(2)
                    .all(|pair| !(separator(pair[0]) && separator(pair[1])) || (pair[0] == '-' && pair[1] == '-'))
        })
}

/// The tag of an `index.json` entry.
fn tag_of(entry: &Value) -> Option<&str> {
    entry.get("annotations")?.get(REF_NAME)?.as_str()
}

impl LayoutWriter {
    /// Add to the existing layout in `dir` (its `oci-layout` must say 1.0.0).
    pub fn open(dir: &Path) -> Result<LayoutWriter, Error> {
        LayoutStore::new(Files::dir(dir)?, Selector::Default)?;
        Ok(LayoutWriter {
            destination: dir.to_path_buf(),
            target: Target::Existing,
            blobs: BlobStore::new(dir)?,
            changes: Vec::new(),
        })
    }

    /// Write a new layout that replaces `dir` at commit. `dir` may be missing, an empty
    /// directory or an OCI layout; anything else is refused.
    pub fn create(dir: &Path) -> Result<LayoutWriter, Error> {
        check_replaceable(dir)?;
        let staging = TempPath::dir_next_to(dir)?;
        let layout = staging.path().join("oci-layout");
        std::fs::write(&layout, OCI_LAYOUT).map_err(|e| Error::io(&layout, e))?;
        let blobs = BlobStore::new(staging.path())?;
        Ok(LayoutWriter { destination: dir.to_path_buf(), target: Target::New(staging), blobs, changes: Vec::new() })
    }

    /// [`LayoutWriter::open`] if `dir` is a layout, else [`LayoutWriter::create`].
    pub fn open_or_create(dir: &Path) -> Result<LayoutWriter, Error> {
        if dir.join("oci-layout").is_file() {
            LayoutWriter::open(dir)
        } else {
            LayoutWriter::create(dir)
        }
    }

    /// Where the layout will be.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    /// The blob store writes go to (for [`super::LayerWriter`] and [`super::copy_image`]).
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Store `bytes` as a blob; its descriptor.
    pub fn put_blob(&self, media_type: &str, bytes: &[u8]) -> Result<Descriptor, Error> {
        self.blobs.put_bytes(media_type, bytes)
    }

    /// Store `value` as canonical JSON (sorted keys, compact); its descriptor. The
    /// document's own `mediaType`, if it has one, should be `media_type`.
    pub fn put_json(&self, media_type: &str, value: &impl serde::Serialize) -> Result<Descriptor, Error> {
        let bytes = to_canonical_json(value).map_err(|e| Error::invalid(format!("a {media_type} document"), e))?;
        self.put_blob(media_type, &bytes)
    }

    /// Tag `descriptor` (an image manifest or index in this layout) as `tag`, replacing the
    /// entry that had the tag.
    pub fn tag(&mut self, tag: &str, descriptor: &Descriptor) -> Result<(), Error> {
        if !valid_tag(tag) {
            return Err(Error::invalid(
                format!("tag {tag:?}"),
                "not a valid org.opencontainers.image.ref.name (letters and digits joined by one of -._:@+, components separated by /)",
            ));
        }
        self.changes.push(IndexChange::Tag(tag.to_string(), descriptor.clone()));
        Ok(())
    }

    /// Remove tag `tag` (and its entry) from `index.json`; commit fails if no entry has it.
    pub fn untag(&mut self, tag: &str) {
        self.changes.push(IndexChange::Untag(tag.to_string()));
    }

    /// List `descriptor` in `index.json` without a tag (unless it already is).
    pub fn add(&mut self, descriptor: &Descriptor) {
        self.changes.push(IndexChange::Add(descriptor.clone()));
    }

    /// Write `index.json` and put the layout in place; the layout's directory.
    pub fn commit(self) -> Result<PathBuf, Error> {
        let LayoutWriter { destination, target, changes, .. } = self;
        match target {
            Target::Existing => {
                let _lock = lock(&destination)?;
                let index_path = destination.join("index.json");
                let bytes = Files::dir(&destination)?.read("index.json", DOCUMENT_LIMIT)?;
                let index: Value =
                    serde_json::from_slice(&bytes).map_err(|e| Error::invalid(index_path.display().to_string(), e))?;
                let index = apply(index, &changes, &index_path)?;
                write_file_atomically(&index_path, &index)?;
            }
            Target::New(staging) => {
                let empty = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []});
                let index_path = staging.path().join("index.json");
                let index = apply(empty, &changes, &index_path)?;
                write_file_synced(&index_path, &index)?;
                replace_directory(staging, &destination)?;
            }
        }
        Ok(destination)
    }
}

/// `index` with `changes` applied, as canonical JSON.
fn apply(mut index: Value, changes: &[IndexChange], index_path: &Path) -> Result<Vec<u8>, Error> {
    let what = || index_path.display().to_string();
    let entries = index
        .get_mut("manifests")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| Error::invalid(what(), "no manifests list"))?;
    for change in changes {
        match change {
            IndexChange::Tag(tag, descriptor) => {
                let mut entry = serde_json::to_value(descriptor).map_err(|e| Error::invalid(what(), e))?;
                entry
                    .as_object_mut()
                    .ok_or_else(|| Error::invalid(what(), "a descriptor that is not an object"))?
                    .entry("annotations")
                    .or_insert_with(|| Value::Object(Default::default()))
                    .as_object_mut()
                    .ok_or_else(|| Error::invalid(what(), "annotations that are not an object"))?
                    .insert(REF_NAME.into(), Value::String(tag.clone()));
                // The new entry takes the place of the first one that had the tag.
                let position = entries.iter().position(|e| tag_of(e) == Some(tag));
                entries.retain(|e| tag_of(e) != Some(tag));
                entries.insert(position.unwrap_or(entries.len()), entry);
            }
            IndexChange::Untag(tag) => {
                let before = entries.len();
                entries.retain(|e| tag_of(e) != Some(tag));
                if entries.len() == before {
                    return Err(Error::NotFound {
                        reference: index_path.display().to_string(),
                        reason: format!("no image tagged {tag:?}"),
                    });
                }
            }
            IndexChange::Add(descriptor) => {
                let entry = serde_json::to_value(descriptor).map_err(|e| Error::invalid(what(), e))?;
                let digest = descriptor.digest().to_string();
                if !entries
                    .iter()
                    .any(|e| tag_of(e).is_none() && e.get("digest").and_then(Value::as_str) == Some(&digest))
                {
                    entries.push(entry);
                }
            }
        }
    }
    to_canonical_json(&index).map_err(|e| Error::invalid(what(), e))
}

/// `dir` may be replaced by a new layout: missing, an empty directory, or a layout.
fn check_replaceable(dir: &Path) -> Result<(), Error> {
    let refuse = |reason: &str| Error::invalid(dir.display().to_string(), reason);
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dir, e)),
        Ok(meta) if !meta.is_dir() => {
            Err(refuse("exists and is not a directory; refusing to replace it with a layout"))
        }
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
            if entries.next().is_none() || dir.join("oci-layout").is_file() {
                Ok(())
            } else {
                Err(refuse(
                    "exists, is not empty and is not an OCI image layout (no oci-layout file); refusing to replace it",
                ))
            }
        }
    }
}

/// Put directory `staging` at `dest`: renamed onto it if it is missing or empty, else
/// (a layout, checked again) exchanged with it, the old one then removed.
fn replace_directory(staging: TempPath, dest: &Path) -> Result<(), Error> {
    check_replaceable(dest)?;
    let occupied = std::fs::read_dir(dest).is_ok_and(|mut entries| entries.next().is_some());
    if !occupied {
        return staging.rename_to(dest);
    }
    let (parent, name) = split_destination(dest)?;
    let old = TempPath::dir_next_to(&parent.join(format!("{name}.old")))?;
    std::fs::rename(dest, old.path()).map_err(|e| Error::io(dest, e))?;
    if let Err(error) = staging.rename_to(dest) {
        // Put the old layout back (the new one goes with its temporary directory); if
        // that fails too, keep it where it is and say where.
        let old_path = old.keep();
        return match std::fs::rename(&old_path, dest) {
            Ok(()) => Err(error),
            Err(_) => Err(Error::invalid(
                dest.display().to_string(),
                format!("{error}; the previous layout is now at {}", old_path.display()),
            )),
        };
    }
    drop(old); // removes the old layout
    Ok(())
}

/// An exclusive `flock` on directory `dir`, released when dropped.
fn lock(dir: &Path) -> Result<std::fs::File, Error> {
    let handle = std::fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
    // SAFETY: flock on a descriptor this function owns.
    if unsafe { libc::flock(handle.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(Error::io(dir, std::io::Error::last_os_error()));
    }
    Ok(handle)
}

/// Write `bytes` to `path` and sync them.
fn write_file_synced(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| Error::io(path, e))
}

/// Replace file `path` by `bytes` through a synced temporary file and a rename.
fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let (temp, mut file) = TempPath::file_next_to(path)?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| Error::io(temp.path(), e))?;
    temp.rename_to(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_grammar() {
        for good in ["latest", "v1.0", "a/b", "linux-arm64", "x--y", "app:1", "A_b+c@d"] {
            assert!(valid_tag(good), "{good}");
        }
        for bad in ["", "-a", "a-", "a..b", "a//b", "/a", "a b", "é", "a_-b"] {
            assert!(!valid_tag(bad), "{bad}");
        }
    }
}
