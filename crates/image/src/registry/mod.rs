//! The `docker://` transport: an image in a registry, read over the OCI distribution
//! API: `GET /v2/REPOSITORY/manifests/REFERENCE` for manifests and indexes,
//! `GET /v2/REPOSITORY/blobs/DIGEST` for configs and layers; and images and indexes
//! pushed into one ([`push_image`], [`Pusher`]: blobs, child manifests, then the
//! document, byte for byte; see `push.rs`).
//!
//! HTTP is ureq's (version 2): a small blocking client with rustls for TLS. archway
//! reads one image at a time, one request after another, from a command line: an async
//! runtime and its thread pool would add weight and nothing else.
//!
//! - [`RegistryStore::top`] asks for the reference's manifest with `Accept` listing OCI
//!   index, OCI manifest, Docker manifest list and Docker manifest v2 schema 2. The media
//!   type is the answer's `Content-Type`, or the document's own `mediaType` when the
//!   registry says only `application/json`, `text/plain` or nothing. A digest reference
//!   must be the bytes' digest, and so must a `Docker-Content-Digest` header (one with
//!   another algorithm than sha256 cannot be checked and is ignored).
//! - [`RegistryStore::fetch`] reads manifests and indexes (by media type) from
//!   `/manifests/DIGEST` and everything else from `/blobs/DIGEST`, whole but never more
//!   than the descriptor's size (at most [`DOCUMENT_LIMIT`]), and checks size and digest.
//! - [`RegistryStore::open`] streams `/blobs/DIGEST`, following redirects to blob
//!   storage, through [`Verified`]; a read error says which blob broke off after how
//!   many bytes. `Authorization` follows a redirect only to the same host name over
//!   the same or a safer scheme (as Go's HTTP client does), never to another host.
//!
//! Scheme: https, always, when `tls_verify` is on; an https failure is an error (for a
//! failed TLS handshake, one that suggests `--tls-verify=false`). With `tls_verify` off
//! certificates are not checked, and the first request tries https, then plain http if
//! the https attempt failed its TLS handshake (a plain-HTTP server answering the TLS
//! hello) or could not reach a loopback host (`localhost`, 127.0.0.0/8, `::1`) at all;
//! the scheme that worked is kept for every later request.
//!
//! Authentication (`auth.rs`, `auth_file.rs`): every request goes first as it is (no
//! credentials, or what earlier challenges asked for). On a `401`, a `Bearer`
//! challenge gets a token from its realm (sending Basic credentials when archway has
//! them), cached for the store's life under the request's scope
//! (`repository:REPO:pull`, `repository:REPO:pull,push` for a push, with the scopes the
//! challenge asks for besides merged in) and the request is retried with it; a `Basic` challenge is
//! answered with Basic credentials, from then on sent with every request. A request is
//! retried once: a second refusal is the error, saying which credentials were sent and
//! where they came from, or why there were none. Credentials are
//! [`RegistryOptions::credentials`], else the first auth file with an entry for the
//! registry: `--authfile`, `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
//! `$HOME/.config/containers/auth.json`, then `$DOCKER_CONFIG/config.json` or
//! `$HOME/.docker/config.json`. Docker credential helpers are not run: a `credHelpers` or
//! `credsStore` entry for the registry is named in the refusal, if the registry refuses.
//! With `tls_verify` on, credentials never go to a token realm over plain http.
//!
//! Not done: proxies (`HTTPS_PROXY`), `/etc/containers/certs.d` client certificates and
//! extra CAs, `registries.conf` mirrors and short-name aliases.
//!
//! One job per module: `push.rs` pushing, `client.rs` the requests (scheme, challenges,
//! tokens), `auth.rs` credentials and `WWW-Authenticate`, `auth_file.rs` the auth files,
//! `tls.rs` the unverified TLS configuration and telling TLS failures apart, `body.rs`
//! bounded and labelled bodies, `failure.rs` the error texts. Tests: `scripted.rs` a
//! scripted HTTP server on 127.0.0.1, `push_tests.rs` pushes against it.

mod auth;
mod auth_file;
mod body;
mod client;
mod failure;
mod push;
mod tls;

use self::auth::{CredentialSource, Credentials};
use self::auth_file::{candidate_files, lookup, Lookup};
use self::body::{read_limited, BlobStream, BodyError};
use self::client::Client;
use self::failure::Subject;
use crate::digest::{Digest, DigestError, Verified};
use crate::error::Error;
use crate::reference::RegistryRef;
use crate::store::{descriptor_digest, media_type, Document, Store, DOCUMENT_LIMIT};
use oci_spec::image::Descriptor;
use serde::Deserialize;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;

pub use self::push::{push_image, PushEvent, PushItem, PushKind, PushStage, Pusher};

/// The document media types a registry serves from `/manifests/`, in the order `Accept`
/// lists them.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// `Content-Type`s that say nothing about which document it is.
const GENERIC_CONTENT_TYPES: [&str; 3] = ["application/json", "text/plain", "application/octet-stream"];

/// How to reach a registry: skopeo's `--tls-verify`, `--creds` and `--authfile`.
#[derive(Clone)]
pub struct RegistryOptions {
    /// Check certificates and use https only (`true`, the default); see the module doc
    /// for what `false` allows.
    pub tls_verify: bool,
    /// User name and password; when given, no auth file is read.
    pub credentials: Option<(String, String)>,
    /// The auth file to look in first; it must exist.
    pub auth_file: Option<PathBuf>,
}

impl Default for RegistryOptions {
    fn default() -> RegistryOptions {
        RegistryOptions { tls_verify: true, credentials: None, auth_file: None }
    }
}

/// Never prints the password.
impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("tls_verify", &self.tls_verify)
            .field("credentials", &self.credentials.as_ref().map(|(username, _)| (username, "…")))
            .field("auth_file", &self.auth_file)
            .finish()
    }
}

/// One image (or index) in a registry, as a [`Store`].
pub struct RegistryStore {
    reference: RegistryRef,
    /// `repository:REPO:pull`, what every request of this store needs.
    scope: String,
    client: Client,
}

impl RegistryStore {
    /// A store for `reference`. Nothing is sent yet; credentials are looked up now, so a
    /// broken auth file is an error here.
    pub fn new(reference: &RegistryRef, options: &RegistryOptions) -> Result<RegistryStore, Error> {
        RegistryStore::with_credentials(reference, options.tls_verify, credentials(reference, options)?)
    }

    /// A store with credentials already looked up.
    fn with_credentials(
        reference: &RegistryRef,
        tls_verify: bool,
        credentials: Lookup,
    ) -> Result<RegistryStore, Error> {
        Ok(RegistryStore {
            reference: reference.clone(),
            scope: format!("repository:{}:pull", reference.repository),
            client: Client::new(&reference.registry, tls_verify, credentials)?,
        })
    }

    fn error(&self, subject: &Subject, reason: impl fmt::Display) -> Error {
        Error::Registry { registry: self.client.registry().to_string(), reason: format!("{subject}: {reason}") }
    }
}

impl Store for RegistryStore {
    fn top(&mut self) -> Result<Document, Error> {
        let reference = self.reference.clone();
        let subject = Subject::Reference(&reference);
        let path = format!("{}/manifests/{}", reference.repository, reference.reference());
        let response = self.client.get(&path, Some(&MANIFEST_MEDIA_TYPES.join(", ")), &self.scope, &subject)?;
        let content_type = response.header("Content-Type").map(|value| value.split(';').next().unwrap_or("").trim());
        let content_type =
            content_type.filter(|t| !t.is_empty() && !GENERIC_CONTENT_TYPES.contains(t)).map(str::to_string);
        let sent_digest = response.header("Docker-Content-Digest").map(|value| value.trim().to_string());
        let bytes = match read_limited(response, DOCUMENT_LIMIT) {
            Ok(bytes) => bytes,
            Err(BodyError::TooLarge { limit }) => {
                return Err(self.error(&subject, format_args!("larger than the {limit} bytes a document may have")))
            }
            Err(BodyError::Read { read, error }) => {
                return Err(self.error(&subject, format_args!("connection lost after {read} bytes: {error}")))
            }
        };
        let digest = Digest::of(&bytes);
        if let Some(expected) = reference.digest.as_ref().filter(|expected| **expected != digest) {
            return Err(self.error(
                &subject,
                format_args!("the registry sent a document whose digest is {digest}, not {expected}"),
            ));
        }
        match sent_digest.as_deref().map(Digest::parse) {
            Some(Ok(sent)) if sent != digest => {
                return Err(self.error(
                    &subject,
                    format_args!("Docker-Content-Digest says {sent}, but the document's digest is {digest}"),
                ))
            }
            Some(Err(DigestError::Malformed(sent))) => {
                return Err(self.error(&subject, format_args!("malformed Docker-Content-Digest {sent:?}")))
            }
            _ => {}
        }
        let media_type = content_type.or_else(|| own_media_type(&bytes)).ok_or_else(|| {
            self.error(&subject, "neither the registry's Content-Type nor the document says its media type")
        })?;
        Ok(Document { media_type, bytes, digest })
    }

    fn fetch(&mut self, descriptor: &Descriptor) -> Result<Document, Error> {
        let digest = descriptor_digest(descriptor)?;
        let size = descriptor.size();
        let media_type = media_type(descriptor);
        let repository = self.reference.repository.clone();
        let is_manifest = MANIFEST_MEDIA_TYPES.contains(&media_type.as_str());
        let (subject, path) = if is_manifest {
            (Subject::Manifest { repository: &repository, digest: &digest }, format!("{repository}/manifests/{digest}"))
        } else {
            (Subject::Blob { repository: &repository, digest: &digest }, format!("{repository}/blobs/{digest}"))
        };
        if size > DOCUMENT_LIMIT {
            let reason = format!("{size} bytes, larger than the {DOCUMENT_LIMIT} bytes a document may have");
            return Err(Error::Blob { digest, reason });
        }
        let accept = is_manifest.then(|| MANIFEST_MEDIA_TYPES.join(", "));
        let response = self.client.get(&path, accept.as_deref(), &self.scope, &subject)?;
        let from = format!("{}/{repository}", self.client.registry());
        let bytes = match read_limited(response, size) {
            Ok(bytes) if bytes.len() as u64 == size => bytes,
            Ok(bytes) => {
                let reason = format!("{from} sent {} bytes, but the descriptor says {size}", bytes.len());
                return Err(Error::Blob { digest, reason });
            }
            Err(BodyError::TooLarge { .. }) => {
                let reason = format!("{from} sent more than the descriptor's {size} bytes");
                return Err(Error::Blob { digest, reason });
            }
            Err(BodyError::Read { read, error }) => {
                return Err(self.error(&subject, format_args!("connection lost after {read} of {size} bytes: {error}")))
            }
        };
        let actual = Digest::of(&bytes);
        if actual != digest {
            return Err(Error::Blob { digest, reason: format!("{from} sent content whose digest is {actual}") });
        }
        Ok(Document { media_type, bytes, digest })
    }

    fn open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, Error> {
        let digest = descriptor_digest(descriptor)?;
        let size = descriptor.size();
        let repository = &self.reference.repository;
        let subject = Subject::Blob { repository, digest: &digest };
        let response = self.client.get(&format!("{repository}/blobs/{digest}"), None, &self.scope, &subject)?;
        let label = format!("{}/{repository}: blob {digest}", self.client.registry());
        Ok(Box::new(Verified::new(BlobStream::new(response.into_reader(), label, size), digest, size)))
    }
}

/// The credentials for `reference`: [`RegistryOptions::credentials`], else what the auth
/// files hold for it.
fn credentials(reference: &RegistryRef, options: &RegistryOptions) -> Result<Lookup, Error> {
    Ok(match &options.credentials {
        Some((username, password)) => Lookup::Found(Credentials {
            username: username.clone(),
            password: password.clone(),
            source: CredentialSource::Options,
        }),
        None => {
            let files = candidate_files(options.auth_file.as_deref(), &|name| std::env::var_os(name));
            lookup(&reference.registry, &reference.repository, &files, options.auth_file.as_deref())?
        }
    })
}

/// The `mediaType` a document gives itself, if it is JSON and has one.
fn own_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct MediaTypeField {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
    }
    serde_json::from_slice::<MediaTypeField>(bytes).ok()?.media_type.filter(|t| !t.is_empty())
}

#[cfg(test)]
mod push_tests;
#[cfg(test)]
mod scripted;
#[cfg(test)]
mod tests;
