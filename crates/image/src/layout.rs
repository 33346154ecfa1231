//! The OCI image layout (image-spec `image-layout.md`) as a [`Store`]: a directory
//! (`oci:DIR`, `oci-layout://DIR`) or a tar of one (`oci-archive:FILE`).
//!
//! `oci-layout` must say `imageLayoutVersion` 1.0.0; `index.json` is an image index whose
//! entries may carry a tag in `org.opencontainers.image.ref.name`; blobs are
//! `blobs/<algorithm>/<hex>`. The reference's selector picks the top document:
//! - a tag: the `index.json` entry with that tag;
//! - a digest: the `index.json` entry with that digest, or any blob (a platform's
//!   manifest inside an index);
//! - nothing: the only entry, else the entry tagged `latest`, else `index.json` itself
//!   (a layout whose index lists the platforms directly, as umoci and crane write them).

use crate::digest::{Digest, Verified};
use crate::error::Error;
use crate::files::Files;
use crate::reference::Selector;
use crate::store::{descriptor_digest, media_type, Document, Store, DOCUMENT_LIMIT};
use oci_spec::image::{Descriptor, ImageIndex};
use std::io::Read;

/// The annotation that tags an `index.json` entry.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The media type of an OCI index, for `index.json` itself.
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// An OCI layout, in a directory or an archive.
pub struct LayoutStore {
    files: Files,
    selector: Selector,
}

impl LayoutStore {
    /// The layout in directory `files` (or archive), checking its `oci-layout` file.
    pub fn new(files: Files, selector: Selector) -> Result<LayoutStore, Error> {
        let what = || format!("{}: oci-layout", files.location().display());
        if !files.exists("oci-layout") {
            return Err(Error::invalid(what(), "missing: this is not an OCI image layout"));
        }
        let bytes = files.read("oci-layout", 4096)?;
        let layout: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| Error::invalid(what(), e))?;
        match layout.get("imageLayoutVersion").and_then(|v| v.as_str()) {
            Some("1.0.0") => Ok(LayoutStore { files, selector }),
            other => Err(Error::invalid(what(), format!("imageLayoutVersion {other:?}, expected \"1.0.0\""))),
        }
    }

    fn index(&self) -> Result<(ImageIndex, Vec<u8>), Error> {
        let bytes = self.files.read("index.json", DOCUMENT_LIMIT)?;
        let index = serde_json::from_slice(&bytes)
            .map_err(|e| Error::invalid(format!("{}: index.json", self.files.location().display()), e))?;
        Ok((index, bytes))
    }

    fn blob_name(digest: &Digest) -> String {
        format!("blobs/sha256/{}", digest.hex())
    }

    fn not_found(&self, reason: String) -> Error {
        Error::NotFound { reference: self.files.location().display().to_string(), reason }
    }

    /// A document stored as blob `digest` with `size` bytes, verified.
    fn document(&self, digest: &Digest, size: u64, media_type: String) -> Result<Document, Error> {
        let name = LayoutStore::blob_name(digest);
        if !self.files.exists(&name) {
            return Err(Error::Blob {
                digest: digest.clone(),
                reason: format!("missing from {}", self.files.location().display()),
            });
        }
        if size > DOCUMENT_LIMIT {
            return Err(Error::Blob {
                digest: digest.clone(),
                reason: format!("{size} bytes is too large for a document"),
            });
        }
        let bytes = Verified::new(self.files.open(&name)?, digest.clone(), size)
            .read_all()
            .map_err(|e| Error::Blob { digest: digest.clone(), reason: e.to_string() })?;
        Ok(Document { media_type, bytes, digest: digest.clone() })
    }
}

impl Store for LayoutStore {
    fn top(&mut self) -> Result<Document, Error> {
        let (index, index_bytes) = self.index()?;
        let tag_of = |d: &Descriptor| d.annotations().as_ref().and_then(|a| a.get(REF_NAME)).cloned();
        let entry = match &self.selector {
            Selector::Tag(tag) => {
                Some(index.manifests().iter().find(|d| tag_of(d).as_deref() == Some(tag)).ok_or_else(|| {
                    let tags: Vec<String> = index.manifests().iter().filter_map(tag_of).collect();
                    self.not_found(format!("no image tagged {tag:?} (tags: {})", list_or_none(&tags)))
                })?)
            }
            Selector::Digest(digest) => {
                let wanted = digest.to_string();
                match index.manifests().iter().find(|d| d.digest().to_string() == wanted) {
                    Some(entry) => Some(entry),
                    None => {
                        let size = self
                            .files
                            .size(&LayoutStore::blob_name(digest))
                            .map_err(|_| self.not_found(format!("no manifest or index with digest {digest}")))?;
                        let mut document = self.document(digest, size, String::new())?;
                        document.media_type = own_media_type(&document.bytes);
                        return Ok(document);
                    }
                }
            }
            Selector::Index(_) => return Err(self.not_found("an image number selects only in a docker archive".into())),
            Selector::Default => match index.manifests().as_slice() {
                [] => return Err(self.not_found("index.json lists no image".into())),
                [only] => Some(only),
                entries => entries.iter().find(|d| tag_of(d).as_deref() == Some("latest")),
            },
        };
        match entry {
            Some(descriptor) => self.fetch(descriptor),
            None => Ok(Document { media_type: OCI_INDEX.into(), digest: Digest::of(&index_bytes), bytes: index_bytes }),
        }
    }

    fn fetch(&mut self, descriptor: &Descriptor) -> Result<Document, Error> {
        self.document(&descriptor_digest(descriptor)?, descriptor.size(), media_type(descriptor))
    }

    fn open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, Error> {
        let digest = descriptor_digest(descriptor)?;
        let name = LayoutStore::blob_name(&digest);
        if !self.files.exists(&name) {
            return Err(Error::Blob { digest, reason: format!("missing from {}", self.files.location().display()) });
        }
        Ok(Box::new(Verified::new(self.files.open(&name)?, digest, descriptor.size())))
    }
}

/// A document's own `mediaType` field (empty when it has none).
pub fn own_media_type(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("mediaType").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_default()
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}
