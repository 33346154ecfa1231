//! What `docker save` and `skopeo copy ... docker-archive:` write, as a [`Store`]
//! (`docker-archive:FILE[:REF|:@N]`).
//!
//! The archive's `manifest.json` lists images as `{Config, RepoTags, Layers}` with
//! member names: `<hex>.json` and `<id>/layer.tar` in the classic form, `blobs/sha256/<hex>`
//! since Docker 25 (which also adds an OCI layout beside it). Layers are uncompressed
//! tars. The archive has no manifest of its own, so [`Store::top`] gives a Docker v2
//! manifest made from the entry: the config's digest is computed from its bytes; a
//! layer's digest is its `blobs/sha256/<hex>` name, or in the classic form the config's
//! `rootfs.diff_ids` entry at the same position (for an uncompressed layer the two are
//! the same hash). Every blob is still verified against these as it is read.

use crate::digest::{Digest, Verified};
use crate::error::Error;
use crate::files::Files;
use crate::reference::Selector;
use crate::store::{descriptor_digest, Document, Store, DOCUMENT_LIMIT};
use oci_spec::image::Descriptor;
use std::collections::BTreeMap;
use std::io::Read;

/// Docker's manifest and config media types.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";

/// One entry of `manifest.json`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// A Docker archive.
pub struct DockerArchiveStore {
    files: Files,
    selector: Selector,
    /// Blob digest -> archive member, filled by [`Store::top`].
    members: BTreeMap<Digest, String>,
}

impl DockerArchiveStore {
    pub fn new(files: Files, selector: Selector) -> Result<DockerArchiveStore, Error> {
        if !files.exists("manifest.json") {
            return Err(Error::invalid(
                files.location().display().to_string(),
                "no manifest.json: not an archive written by docker save or skopeo (docker-archive:)",
            ));
        }
        Ok(DockerArchiveStore { files, selector, members: BTreeMap::new() })
    }

    fn what(&self, name: &str) -> String {
        format!("{}: {name}", self.files.location().display())
    }

    /// The `manifest.json` entry the selector picks.
    fn entry(&self) -> Result<Entry, Error> {
        let bytes = self.files.read("manifest.json", DOCUMENT_LIMIT)?;
        let mut entries: Vec<Entry> =
            serde_json::from_slice(&bytes).map_err(|e| Error::invalid(self.what("manifest.json"), e))?;
        let tags = |e: &Entry| e.repo_tags.clone().unwrap_or_default();
        let all_tags: Vec<String> = entries.iter().flat_map(tags).collect();
        let not_found =
            |reason: String| Error::NotFound { reference: self.files.location().display().to_string(), reason };
        let position = match &self.selector {
            Selector::Default if entries.len() == 1 => 0,
            Selector::Default if entries.is_empty() => return Err(not_found("manifest.json lists no image".into())),
            Selector::Default => {
                return Err(not_found(format!(
                    "{} images: name one with :REF or :@N (tags: {})",
                    entries.len(),
                    all_tags.join(", ")
                )))
            }
            Selector::Index(n) if *n < entries.len() => *n,
            Selector::Index(n) => return Err(not_found(format!("no image @{n}: the archive holds {}", entries.len()))),
            Selector::Tag(wanted) => entries
                .iter()
                .position(|e| tags(e).iter().any(|t| same_tag(t, wanted)))
                .ok_or_else(|| not_found(format!("no image tagged {wanted:?} (tags: {})", all_tags.join(", "))))?,
            Selector::Digest(_) => return Err(not_found("a digest cannot select an image in a docker archive".into())),
        };
        Ok(entries.swap_remove(position))
    }

    /// The digest a member's name gives (`blobs/sha256/<hex>`, `<hex>.json`), if any.
    fn digest_in_name(name: &str) -> Option<Digest> {
        let hex = name.strip_prefix("blobs/sha256/").or_else(|| name.strip_suffix(".json"))?;
        Digest::parse(&format!("sha256:{hex}")).ok()
    }
}

/// Whether `tag` (as in RepoTags) names `wanted`: exactly, or after docker's
/// normalisation (`app:1` is `docker.io/library/app:1`).
fn same_tag(tag: &str, wanted: &str) -> bool {
    use crate::reference::RegistryRef;
    tag == wanted || matches!((RegistryRef::parse(tag), RegistryRef::parse(wanted)), (Ok(a), Ok(b)) if a == b)
}

impl Store for DockerArchiveStore {
    fn top(&mut self) -> Result<Document, Error> {
        let entry = self.entry()?;
        let config_name = crate::files::clean_name(&entry.config).ok_or_else(|| {
            Error::invalid(self.what("manifest.json"), format!("config {:?} outside the archive", entry.config))
        })?;
        let config = self.files.read(&config_name, DOCUMENT_LIMIT)?;
        let config_digest = Digest::of(&config);
        if let Some(named) = DockerArchiveStore::digest_in_name(&config_name) {
            if named != config_digest {
                return Err(Error::Blob { digest: named, reason: format!("{config_name} has digest {config_digest}") });
            }
        }
        let diff_ids: Vec<String> = serde_json::from_slice::<serde_json::Value>(&config)
            .ok()
            .and_then(|c| c.pointer("/rootfs/diff_ids").cloned())
            .and_then(|d| serde_json::from_value(d).ok())
            .unwrap_or_default();
        self.members.insert(config_digest.clone(), config_name);
        let mut layers = Vec::new();
        for (position, layer) in entry.layers.iter().enumerate() {
            let name = crate::files::clean_name(layer).ok_or_else(|| {
                Error::invalid(self.what("manifest.json"), format!("layer {layer:?} outside the archive"))
            })?;
            let digest = match DockerArchiveStore::digest_in_name(&name) {
                Some(digest) => digest,
                None => {
                    Digest::parse(diff_ids.get(position).map(String::as_str).unwrap_or_default()).map_err(|_| {
                        Error::invalid(self.what(&name), "the config's rootfs.diff_ids has no digest for this layer")
                    })?
                }
            };
            let size = self.files.size(&name)?;
            layers.push(serde_json::json!({"mediaType": DOCKER_LAYER, "size": size, "digest": digest.to_string()}));
            self.members.insert(digest, name);
        }
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG, "size": config.len(), "digest": config_digest.to_string()},
            "layers": layers,
        });
        let bytes = serde_json::to_vec(&manifest).map_err(|e| Error::invalid(self.what("manifest.json"), e))?;
        Ok(Document { media_type: DOCKER_MANIFEST.into(), digest: Digest::of(&bytes), bytes })
    }

    fn fetch(&mut self, descriptor: &Descriptor) -> Result<Document, Error> {
        let digest = descriptor_digest(descriptor)?;
        if descriptor.size() > DOCUMENT_LIMIT {
            return Err(Error::Blob {
                digest,
                reason: format!("{} bytes is too large for a document", descriptor.size()),
            });
        }
        let mut bytes = Vec::new();
        self.open(descriptor)?
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Blob { digest: digest.clone(), reason: e.to_string() })?;
        Ok(Document { media_type: descriptor.media_type().to_string(), bytes, digest })
    }

    fn open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, Error> {
        let digest = descriptor_digest(descriptor)?;
        let name = self.members.get(&digest).cloned().ok_or_else(|| Error::Blob {
            digest: digest.clone(),
            reason: format!("not in {}", self.files.location().display()),
        })?;
        Ok(Box::new(Verified::new(self.files.open(&name)?, digest, descriptor.size())))
    }
}
