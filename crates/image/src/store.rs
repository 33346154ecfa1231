//! Where an image's documents and blobs come from: the [`Store`] trait, one
//! implementation per transport (OCI layout, OCI archive, Docker archive, registry).
//!
//! A store answers three questions: which document the reference names (an index or a
//! manifest: [`Store::top`]), the bytes of a small document by descriptor
//! ([`Store::fetch`]: manifests, indexes, configs, whole and verified), and a stream of a
//! blob by descriptor ([`Store::open`]: layers, verified as they stream, see
//! [`crate::Verified`]). Everything above (index walking, platform selection, layers)
//! is shared by all transports.

use crate::digest::Digest;
use crate::error::Error;
use oci_spec::image::Descriptor;
use std::io::Read;

/// The largest document (manifest, index, config) archway reads whole.
pub const DOCUMENT_LIMIT: u64 = 16 << 20;

/// A document as stored: its media type as the store reports it (a registry's
/// `Content-Type`, a descriptor's `mediaType`, or the document's own), its bytes and
/// their digest.
#[derive(Debug, Clone)]
pub struct Document {
    pub media_type: String,
    pub bytes: Vec<u8>,
    pub digest: Digest,
}

/// A source of one image's (or one index's) documents and blobs.
pub trait Store {
    /// The document the reference selects: an index or list, or a manifest.
    fn top(&mut self) -> Result<Document, Error>;

    /// A document named by `descriptor`, whole and verified; refused above
    /// [`DOCUMENT_LIMIT`].
    fn fetch(&mut self, descriptor: &Descriptor) -> Result<Document, Error>;

    /// A blob named by `descriptor` as a stream that fails its last read if the bytes are
    /// not the ones the descriptor names.
    fn open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, Error>;
}

/// The digest of a descriptor, as archway's own type.
pub fn descriptor_digest(descriptor: &Descriptor) -> Result<Digest, Error> {
    Ok(Digest::parse(descriptor.digest().as_ref())?)
}

/// The media type of a descriptor as a string (OCI and Docker types alike).
pub fn media_type(descriptor: &Descriptor) -> String {
    descriptor.media_type().to_string()
}
