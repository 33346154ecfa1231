//! Images as archway reads them: OCI image layouts, OCI and Docker archives, registries
//! (OCI distribution API) and unpacked root directories.
//!
//! - [`reference`]: the transport syntax of skopeo and podman (`oci:DIR:TAG`,
//!   `docker://HOST/REPO:TAG`...), normalised as docker does.
//! - [`digest`]: `sha256` digests and readers that verify a blob's size and digest as it
//!   streams by: no byte of an image is used unverified.
//! - [`store`]: where documents and blobs come from, one [`Store`] per transport.
//! - [`registry`]: the `docker://` transport, [`RegistryStore`]: the OCI distribution API
//!   over ureq, with registry tokens, Basic credentials and auth files.
//! - [`error`]: every failure names its file, blob, entry or registry.
//!
//! Never the translator: this crate depends on archway-arch only.

pub mod digest;
pub mod error;
pub mod reference;
pub mod registry;
pub mod store;

pub use digest::{Digest, DigestError, Verified};
pub use error::Error;
pub use reference::{ImageRef, ReferenceError, RegistryRef, Selector};
pub use registry::{RegistryOptions, RegistryStore};
pub use store::{Document, Store};
