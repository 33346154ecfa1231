//! The entries of an index or manifest list as `archway manifest inspect` shows them:
//! each child's digest, media type, size and platform, with attestation manifests
//! shown as what they are (the attestation of which image), never as an
//! `unknown/unknown` platform.

use crate::digest::Digest;
use crate::error::Error;
use crate::resolve::{entry_platform, REFERENCE_TYPE};
use crate::store::{descriptor_digest, media_type, Document};
use archway_arch::Platform;
use oci_spec::image::{Descriptor, ImageIndex};
use std::collections::BTreeMap;

/// The annotation naming the image an attestation manifest is about.
pub const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";

/// What an index entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// An image for a platform (or without one).
    Image,
    /// An attestation manifest (SBOM, provenance) about the image with this digest.
    Attestation { about: Option<String> },
    /// Something else BuildKit marked with `vnd.docker.reference.type`.
    Other(String),
}

/// One entry of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    pub platform: Option<Platform>,
    pub role: Role,
    pub annotations: BTreeMap<String, String>,
}

/// The entries of an index document, in order.
pub fn entries(document: &Document) -> Result<Vec<Entry>, Error> {
    let index: ImageIndex =
        serde_json::from_slice(&document.bytes).map_err(|e| Error::invalid(format!("index {}", document.digest), e))?;
    index.manifests().iter().map(entry).collect()
}

fn entry(descriptor: &Descriptor) -> Result<Entry, Error> {
    let annotations: BTreeMap<String, String> =
        descriptor.annotations().clone().unwrap_or_default().into_iter().collect();
    let role = match annotations.get(REFERENCE_TYPE).map(String::as_str) {
        None => Role::Image,
        Some("attestation-manifest") => Role::Attestation { about: annotations.get(REFERENCE_DIGEST).cloned() },
        Some(other) => Role::Other(other.to_owned()),
    };
    Ok(Entry {
        digest: descriptor_digest(descriptor)?,
        media_type: media_type(descriptor),
        size: descriptor.size(),
        platform: entry_platform(descriptor),
        role,
        annotations,
    })
}
