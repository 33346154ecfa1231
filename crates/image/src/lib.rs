//! Images as archway reads and writes them: OCI image layouts, OCI and Docker archives,
//! registries (OCI distribution API: pulled from and pushed to) and unpacked root
//! directories.
//!
//! - [`reference`]: the transport syntax of skopeo and podman (`oci:DIR:TAG`,
//!   `docker://HOST/REPO:TAG`...), normalised as docker does.
//! - [`digest`]: `sha256` digests and readers that verify a blob's size and digest as it
//!   streams by: no byte of an image is used unverified.
//! - [`store`]: where documents and blobs come from, one [`Store`] per transport, which
//!   [`transport::open`] picks for a reference: [`layout`] (OCI layouts in directories
//!   and archives, over [`files`]), [`docker_archive`] (`docker save`), [`registry`]
//!   (`docker://`: the OCI distribution API over ureq, with registry tokens, Basic
//!   credentials and auth files), which also pushes what any store holds, byte for byte
//!   ([`registry::push_image`]).
//! - [`resolve`]: from a reference's document to one image per platform: nested indexes,
//!   attestations set aside, platforms matched as containerd does, configs verified.
//! - [`listing`]: an index's entries with their platforms, attestations shown as such.
//! - [`layer`] and [`tree`]: layers streamed once, decompressed by their bytes, checked
//!   entry by entry, and merged with whiteouts into one view of the root file system;
//!   [`rootfs`] gives the same view of an unpacked directory; [`unpack`] writes a view
//!   to disk when programs of the image must run.
//! - [`write`]: the other direction, for `archway build` and `archway manifest`:
//!   deterministic layer blobs, OCI layouts with tags, OCI and Docker archives, and
//!   images copied between stores with their digests.
//! - [`error`]: every failure names its file, blob, entry or registry.
//!
//! Never the translator: this crate depends on archway-arch only.

pub mod digest;
pub mod docker_archive;
pub mod error;
pub mod files;
pub mod layer;
pub mod layout;
pub mod listing;
pub mod reference;
pub mod registry;
pub mod resolve;
pub mod rootfs;
pub mod store;
pub mod transport;
pub mod tree;
pub mod unpack;
pub mod write;

pub use digest::{Digest, DigestError, Verified};
pub use error::Error;
pub use reference::{ImageRef, ReferenceError, RegistryRef, Selector};
pub use registry::{push_image, PushEvent, PushItem, PushKind, PushStage, Pusher, RegistryOptions, RegistryStore};
pub use store::{Document, Store};
pub use transport::open;
