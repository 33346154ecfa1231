//! Copying an image, or an index with all its images, from any [`Store`] into the blobs
//! of a layout, byte for byte: every document and blob keeps its digest, so what was
//! signed, pinned or pushed elsewhere stays the same. Children are stored before the
//! documents that list them (a layout never refers to a blob that is not there yet), and
//! blobs the layout already has are not fetched again. Everything read is verified
//! against its descriptor as it streams (the stores do, and the blob store again).
//!
//! Index entries that are neither indexes nor manifests (artifacts) are copied as
//! blobs; a manifest's `subject` is a reference to another image, not part of this one,
//! and is not followed.

use super::blobs::{descriptor, BlobStore};
use crate::error::Error;
use crate::layout::own_media_type;
use crate::resolve::media;
use crate::store::{descriptor_digest, Document, Store};
use oci_spec::image::Descriptor;
use serde_json::Value;
use std::collections::HashSet;

/// Nested indexes deeper than this are refused, as when resolving.
const MAX_DEPTH: usize = 8;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Index,
    Manifest,
    Other,
}

/// The kind of a document with media type `media_type` (its own `mediaType`, or its
/// fields, when the descriptor has none).
fn kind(media_type: &str, value: &Value) -> Kind {
    let declared = if media_type.is_empty() {
        value.get("mediaType").and_then(Value::as_str).unwrap_or_default()
    } else {
        media_type
    };
    match declared {
        media::OCI_INDEX | media::DOCKER_LIST => Kind::Index,
        media::OCI_MANIFEST | media::DOCKER_MANIFEST => Kind::Manifest,
        "" if value.get("manifests").is_some() => Kind::Index,
        "" if value.get("layers").is_some() => Kind::Manifest,
        _ => Kind::Other,
    }
}

/// A descriptor's media type may be a document archway walks.
fn is_document(media_type: &str) -> bool {
    [media::OCI_INDEX, media::DOCKER_LIST, media::OCI_MANIFEST, media::DOCKER_MANIFEST].contains(&media_type)
}

/// Copy `root` (an image manifest or index of `from`) and everything it refers to into
/// `to`; the descriptor of `root` in `to` (to tag it).
pub fn copy_image(from: &mut dyn Store, root: &Document, to: &BlobStore) -> Result<Descriptor, Error> {
    let media_type = if root.media_type.is_empty() { own_media_type(&root.bytes) } else { root.media_type.clone() };
    let value: Value =
        serde_json::from_slice(&root.bytes).map_err(|e| Error::invalid(format!("document {}", root.digest), e))?;
    if kind(&media_type, &value) == Kind::Other {
        return Err(Error::invalid(
            format!("document {}", root.digest),
            format!("media type {media_type:?}: neither an image manifest nor an index"),
        ));
    }
    Copy { from, to, done: HashSet::new() }.document(root, &media_type, 0)?;
    Ok(descriptor(&media_type, &root.digest, root.bytes.len() as u64))
}

struct Copy<'a> {
    from: &'a mut dyn Store,
    to: &'a BlobStore,
    /// Digests already copied in this call.
    done: HashSet<String>,
}

impl Copy<'_> {
    /// Copy a document: what it refers to first, then itself.
    fn document(&mut self, document: &Document, media_type: &str, depth: usize) -> Result<(), Error> {
        let what = || format!("document {}", document.digest);
        if depth > MAX_DEPTH {
            return Err(Error::invalid(what(), format!("indexes nested deeper than {MAX_DEPTH}")));
        }
        let value: Value = serde_json::from_slice(&document.bytes).map_err(|e| Error::invalid(what(), e))?;
        let kind = kind(media_type, &value);
        let children: Vec<&Value> = match kind {
            Kind::Index => value.get("manifests").and_then(Value::as_array).into_iter().flatten().collect(),
            Kind::Manifest => value
                .get("config")
                .into_iter()
                .chain(value.get("layers").and_then(Value::as_array).into_iter().flatten())
                .collect(),
            Kind::Other => Vec::new(),
        };
        for child in children {
            let child: Descriptor = serde_json::from_value(child.clone())
                .map_err(|e| Error::invalid(what(), format!("a descriptor that is not one: {e}")))?;
            if kind == Kind::Index && is_document(child.media_type().as_ref()) {
                self.child_document(&child, depth + 1)?;
            } else {
                self.blob(&child)?;
            }
        }
        let own = descriptor(media_type, &document.digest, document.bytes.len() as u64);
        if !self.to.contains(&document.digest, own.size()) {
            self.to.put_stream(&own, &document.bytes[..])?;
        }
        Ok(())
    }

    fn child_document(&mut self, child: &Descriptor, depth: usize) -> Result<(), Error> {
        if !self.done.insert(child.digest().to_string()) {
            return Ok(());
        }
        let document = self.from.fetch(child)?;
        self.document(&document, child.media_type().as_ref(), depth)
    }

    fn blob(&mut self, child: &Descriptor) -> Result<(), Error> {
        let digest = descriptor_digest(child)?;
        if !self.done.insert(child.digest().to_string()) || self.to.contains(&digest, child.size()) {
            return Ok(());
        }
        let reader = self.from.open(child)?;
        self.to.put_stream(child, reader)
    }
}
