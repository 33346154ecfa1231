//! The write side: what `archway build` and `archway manifest` produce.
//!
//! - [`layer`]: deterministic layer blobs from a change list ([`LayerWriter`]): sorted
//!   PAX entries read from disk with `lstat` ([`disk`], [`tar_entry`]), whiteouts and
//!   opaque markers, times clamped to `SOURCE_DATE_EPOCH`, gzip, zstd or none, written
//!   in one pass that gives the blob digest and the diff_id.
//! - [`blobs`] and [`layout`]: blobs by digest and OCI layouts with tags
//!   ([`LayoutWriter`]), added to in place or created whole; documents as canonical JSON
//!   ([`canonical`]).
//! - [`oci_archive`] and [`docker_archive`]: the layout as an `oci-archive:` tar, one
//!   image as a `docker-archive:` tar for `docker load` and `podman load` (over
//!   [`archive`]).
//! - [`copy`]: an image or index with all it refers to, from any [`crate::Store`] into a
//!   layout, digests unchanged.
//!
//! Nothing is ever half-written at a destination ([`atomic`]): files and directories are
//! written under temporary names next to it and renamed into place when complete.

pub mod archive;
pub mod atomic;
pub mod blobs;
pub mod canonical;
pub mod copy;
pub mod disk;
pub mod docker_archive;
pub mod layer;
pub mod layout;
pub mod oci_archive;
pub mod tar_entry;

pub use crate::layer::Compression;
pub use blobs::BlobStore;
pub use copy::copy_image;
pub use docker_archive::write_docker_archive;
pub use layer::{LayerBlob, LayerOptions, LayerWriter};
pub use layout::LayoutWriter;
pub use oci_archive::write_oci_archive;
