//! The step cache: for each step of each platform, a content-addressed key (the parent
//! step's key, the instruction as it will run, the build arguments and environment it
//! sees, the platform, and the digest of every context file it reads) mapped to the
//! layer the step made. A rebuild with nothing changed finds every key and runs no step;
//! a change to one step's inputs changes its key and every key after it, and nothing
//! before. Entries are small JSON files written atomically; the layers themselves live in
//! the build's blob store. Every platform keeps its own entries (a cache that only
//! remembers the last platform built is what users of buildx's registry cache hit).

use archway_image::write::atomic::TempPath;
use archway_image::write::blobs::descriptor;
use archway_image::write::{BlobStore, LayerBlob};
use oci_spec::image::Descriptor;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A step key under construction: every input is fed with a label, so two different
/// sequences of inputs never hash alike.
#[derive(Clone)]
pub struct KeyBuilder {
    hasher: Sha256,
}

impl KeyBuilder {
    /// Start a key from the parent's key (or the base image's digest and platform).
    pub fn new(parent: &str) -> KeyBuilder {
        let mut builder = KeyBuilder { hasher: Sha256::new() };
        builder.field("parent", parent.as_bytes());
        builder
    }

    /// Feed one labelled input.
    pub fn field(&mut self, label: &str, value: &[u8]) -> &mut KeyBuilder {
        for part in [label.as_bytes(), value] {
            self.hasher.update((part.len() as u64).to_le_bytes());
            self.hasher.update(part);
        }
        self
    }

    /// Feed `NAME=value` pairs (build arguments, environment), in order.
    pub fn pairs(&mut self, label: &str, pairs: &[(String, String)]) -> &mut KeyBuilder {
        self.field(label, &(pairs.len() as u64).to_le_bytes());
        for (name, value) in pairs {
            self.field("name", name.as_bytes());
            self.field("value", value.as_bytes());
        }
        self
    }

    /// The key, as 64 hex digits.
    pub fn finish(self) -> String {
        format!("{:x}", self.hasher.finalize())
    }
}

/// The digest of a tree of files as a step reads it: every path (relative to `base`,
/// in order), its kind and permission bits, and a file's bytes or a link's target. Owners
/// and times are left out: `COPY` sets its own owners, and a file touched without a
/// change must not miss the cache.
pub fn tree_digest(base: &Path, paths: &[PathBuf]) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut pending: Vec<PathBuf> = paths.to_vec();
    pending.sort();
    pending.reverse();
    while let Some(path) = pending.pop() {
        let metadata = fs::symlink_metadata(&path)?;
        let relative = path.strip_prefix(base).unwrap_or(&path);
        hasher.update(relative.as_os_str().as_encoded_bytes());
        hasher.update([0]);
        hasher.update((metadata.mode() & 0o177777).to_le_bytes());
        if metadata.file_type().is_symlink() {
            hasher.update(fs::read_link(&path)?.as_os_str().as_encoded_bytes());
        } else if metadata.is_file() {
            hasher.update(metadata.len().to_le_bytes());
            let mut file = fs::File::open(&path)?;
            let mut buffer = vec![0u8; 64 << 10];
            loop {
                let n = file.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
            }
        } else if metadata.is_dir() {
            let mut children: Vec<PathBuf> =
                fs::read_dir(&path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
            children.sort();
            pending.extend(children.into_iter().rev());
        }
        hasher.update([0xff]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// A layer a cached step made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedLayer {
    /// `sha256:...` of the compressed blob.
    pub digest: String,
    /// `sha256:...` of the uncompressed tar.
    pub diff_id: String,
    pub size: u64,
    pub media_type: String,
}

impl CachedLayer {
    /// The entry of a layer just written.
    pub fn of(blob: &LayerBlob) -> CachedLayer {
        CachedLayer {
            digest: blob.descriptor.digest().to_string(),
            diff_id: blob.diff_id.to_string(),
            size: blob.descriptor.size(),
            media_type: blob.descriptor.media_type().to_string(),
        }
    }

    /// The layer's descriptor in a manifest.
    pub fn descriptor(&self) -> Result<Descriptor, String> {
        let digest = archway_image::Digest::parse(&self.digest).map_err(|e| e.to_string())?;
        Ok(descriptor(&self.media_type, &digest, self.size))
    }
}

/// What a cached step produced: a layer, or nothing (the step changed no file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedStep {
    pub layer: Option<CachedLayer>,
    /// When the step ran (seconds since the epoch): a rebuild from the cache dates its
    /// image by it, so that nothing changed gives the same digest.
    #[serde(default)]
    pub created: Option<i64>,
}

/// The cache's entries in a directory.
#[derive(Debug, Clone)]
pub struct StepCache {
    dir: PathBuf,
}

impl StepCache {
    /// The cache in `dir` (created when first written).
    pub fn new(dir: &Path) -> StepCache {
        StepCache { dir: dir.to_path_buf() }
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.json"))
    }

    /// The step with `key`, if cached (an unreadable entry is a miss).
    pub fn get(&self, key: &str) -> Option<CachedStep> {
        let bytes = fs::read(self.entry(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The step with `key`, if cached and its layer (if any) is in `blobs`: only then
    /// can a build use it.
    pub fn get_usable(&self, key: &str, blobs: &BlobStore) -> Option<CachedStep> {
        self.get(key).filter(|step| {
            step.layer.as_ref().is_none_or(|layer| {
                archway_image::Digest::parse(&layer.digest).is_ok_and(|digest| blobs.contains(&digest, layer.size))
            })
        })
    }

    /// Record a step (written to a temporary file and renamed into place).
    pub fn put(&self, key: &str, step: &CachedStep) -> io::Result<()> {
        let path = self.entry(key);
        let dir = path.parent().expect("an entry has a directory");
        fs::create_dir_all(dir)?;
        // A temporary name of its own: two platforms may finish one step at once.
        let (temporary, mut file) = TempPath::file_next_to(&path).map_err(io::Error::other)?;
        file.write_all(&serde_json::to_vec(step).map_err(io::Error::other)?)?;
        temporary.rename_to(&path).map_err(io::Error::other)
    }

    /// Remove every entry; the number removed.
    pub fn prune(&self) -> io::Result<usize> {
        let mut removed = 0;
        let Ok(shards) = fs::read_dir(&self.dir) else { return Ok(0) };
        for shard in shards {
            let shard = shard?.path();
            if shard.is_dir() {
                removed += fs::read_dir(&shard)?.count();
                fs::remove_dir_all(&shard)?;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_their_inputs() {
        let key = |parent: &str, a: &str, b: &str| {
            let mut k = KeyBuilder::new(parent);
            k.field("x", a.as_bytes()).field("y", b.as_bytes());
            k.finish()
        };
        assert_eq!(key("p", "a", "b"), key("p", "a", "b"));
        assert_ne!(key("p", "ab", ""), key("p", "a", "b"));
        assert_ne!(key("p", "a", "b"), key("q", "a", "b"));
    }

    #[test]
    fn trees_by_content_not_times_and_entries_round_trip() {
        let dir = std::env::temp_dir().join(format!("archway-cache-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src/sub")).unwrap();
        fs::write(dir.join("src/a"), "a").unwrap();
        fs::write(dir.join("src/sub/b"), "b").unwrap();
        let digest = || tree_digest(&dir, &[dir.join("src")]).unwrap();
        let first = digest();
        let file = fs::File::options().write(true).open(dir.join("src/a")).unwrap();
        file.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(digest(), first, "a touched file does not change the digest");
        fs::write(dir.join("src/sub/b"), "B").unwrap();
        assert_ne!(digest(), first);
        let cache = StepCache::new(&dir.join("cache"));
        let step = CachedStep {
            layer: Some(CachedLayer {
                digest: "sha256:1".into(),
                diff_id: "sha256:2".into(),
                size: 3,
                media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            }),
            created: Some(1_700_000_000),
        };
        let key = KeyBuilder::new("base").finish();
        assert_eq!(cache.get(&key), None);
        cache.put(&key, &step).unwrap();
        assert_eq!(cache.get(&key), Some(step));
        assert_eq!(cache.prune().unwrap(), 1);
        assert_eq!(cache.get(&key), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}
