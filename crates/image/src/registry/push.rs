//! Pushing an image or an index into a registry repository (the OCI distribution API's
//! push endpoints): every blob and every child manifest first, the document itself last,
//! each sent exactly as the source [`Store`] holds it, so that every digest stays what
//! it was. No document is ever re-serialised.
//!
//! Order: an index's entries one after another (nested indexes too, at most
//! [`MAX_DEPTH`] deep), each manifest's config and layers before the manifest, the root
//! last; a blob or manifest met twice is handled once.
//!
//! - A blob: `HEAD /v2/NAME/blobs/DIGEST`; one the repository has is not sent
//!   ([`PushStage::Exists`]). Else `POST /v2/NAME/blobs/uploads/`, with
//!   `?mount=DIGEST&from=REPO` when [`Pusher::mount_from`] named another repository of
//!   the same registry (`201`: mounted, nothing sent; `202`: the registry opened an
//!   ordinary upload instead). The `Location` of the `202` (absolute, or relative to the
//!   request; it may carry a query of its own) gets `digest=DIGEST` appended and the blob
//!   goes in one monolithic `PUT`, streamed from the store with its `Content-Length` and
//!   verified as it streams ([`crate::Verified`]): a source that is not what its
//!   descriptor says fails the push, and the registry, checking the digest itself,
//!   refuses the bytes. Non-distributable layers (OCI's deprecated `nondistributable`
//!   types, Docker's `foreign` layers) are not pushed, as both specs ask.
//! - A manifest or index: an index's entries by digest (`HEAD /v2/NAME/manifests/DIGEST`
//!   first, one the repository has is not sent again), the root by the destination's
//!   tag, or by its digest when it names only a digest (a digest it names must be the
//!   root's). `PUT /v2/NAME/manifests/REFERENCE` with the document's media type as
//!   `Content-Type`: the store's, else the document's own `mediaType`, else OCI's by its
//!   shape; one of [`super::MANIFEST_MEDIA_TYPES`], and the one the document gives
//!   itself if it gives one.
//! - Every `Docker-Content-Digest` the registry answers with must be what was sent.
//!
//! Credentials are looked up and challenges answered as for reading (see [`super`]),
//! with the scope `repository:NAME:pull,push` (and `repository:FROM:pull` when
//! mounting). The request that opens an upload authenticates; the streamed `PUT` is sent
//! once, with `Authorization` only when the upload stays on the registry's own origin.
//! Every failure is an [`Error`] naming the registry, the repository, the blob or
//! manifest, and the step: a refusal with the registry's own words and, for `401` and
//! `403`, which credentials were sent; a connection lost with how many bytes had gone;
//! a source that cannot be read.
//!
//! Not done: chunked uploads (`PATCH`), resuming an upload, cancelling (`DELETE`) the
//! upload session of a failed push (registries expire them), the referrers API.

use super::auth_file::Lookup;
use super::client::{Client, Parts};
use super::failure::{push_refusal_error, Refusal, Subject};
use super::{credentials, own_media_type, RegistryOptions, MANIFEST_MEDIA_TYPES};
use crate::digest::{Digest, DigestError};
use crate::error::Error;
use crate::reference::RegistryRef;
use crate::resolve::{media, MAX_DEPTH};
use crate::store::{descriptor_digest, media_type, Document, Store};
use oci_spec::image::Descriptor;
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::io::{self, Read};
use url::Url;

/// Layer media types that are never pushed: the blob stays where its `urls` say.
const NON_DISTRIBUTABLE: [&str; 4] = [
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
];

/// The `Content-Type` of a blob upload.
const BLOB_CONTENT_TYPE: &str = "application/octet-stream";

/// Whether an item is a blob (config, layer) or a manifest or index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushKind {
    Blob,
    Manifest,
}

/// A blob, manifest or index a push handles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushItem {
    pub kind: PushKind,
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
}

/// What happened to an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushStage {
    /// The repository already has it: not sent.
    Exists,
    /// Mounted from this repository of the same registry: not sent.
    Mounted { from: String },
    /// A non-distributable layer: not pushed.
    NotDistributable,
    /// Sending begins.
    Started,
    /// This many bytes of a blob have been sent so far.
    Sent(u64),
    /// The registry has it, with the digest it was sent with.
    Done,
}

/// One step of a push, for progress displays: per blob `Exists`, `Mounted` or
/// `NotDistributable`, else `Started`, `Sent`... and `Done`; per manifest `Exists`, or
/// `Started` and `Done`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent<'a> {
    pub item: &'a PushItem,
    pub stage: PushStage,
}

/// Pushes into one repository of a registry; its client (and tokens) serve every push
/// it makes.
pub struct Pusher {
    destination: RegistryRef,
    /// `repository:NAME:pull,push`, with `repository:FROM:pull` when mounting.
    scope: String,
    client: Client,
    /// The repository of the same registry blobs are mounted from.
    mount_from: Option<String>,
}

/// Push `root` (a manifest or an index) and everything it names from `source` to
/// `destination`, reporting each step to `progress`; the root's digest. See
/// [`Pusher::push`].
pub fn push_image(
    source: &mut dyn Store,
    root: &Document,
    destination: &RegistryRef,
    options: &RegistryOptions,
    progress: &mut dyn FnMut(PushEvent<'_>),
) -> Result<Digest, Error> {
    Pusher::new(destination, options)?.push(source, root, progress)
}

impl Pusher {
    /// A pusher to `destination` (its repository, and its tag or digest for the root).
    /// Nothing is sent yet; credentials are looked up now.
    pub fn new(destination: &RegistryRef, options: &RegistryOptions) -> Result<Pusher, Error> {
        Pusher::with_credentials(destination, options.tls_verify, credentials(destination, options)?)
    }

    /// A pusher with credentials already looked up.
    pub(super) fn with_credentials(
        destination: &RegistryRef,
        tls_verify: bool,
        credentials: Lookup,
    ) -> Result<Pusher, Error> {
        Ok(Pusher {
            destination: destination.clone(),
            scope: format!("repository:{}:pull,push", destination.repository),
            client: Client::new(&destination.registry, tls_verify, credentials)?,
            mount_from: None,
        })
    }

    /// Offer the blobs the destination lacks from `source`'s repository by
    /// cross-repository mount when `source` is another repository of the same registry
    /// (the blobs then need not travel); any other `source` changes nothing.
    pub fn mount_from(mut self, source: &RegistryRef) -> Pusher {
        if source.registry == self.destination.registry && source.repository != self.destination.repository {
            self.scope =
                format!("repository:{}:pull,push repository:{}:pull", self.destination.repository, source.repository);
            self.mount_from = Some(source.repository.clone());
        }
        self
    }

    /// Push `root` (a manifest or an index, as a [`Store`] gives it) and everything it
    /// names from `source`, then tag it (see the module doc); its digest.
    pub fn push(
        &mut self,
        source: &mut dyn Store,
        root: &Document,
        progress: &mut dyn FnMut(PushEvent<'_>),
    ) -> Result<Digest, Error> {
        let destination = self.destination.clone();
        let digest = Digest::of(&root.bytes);
        if digest != root.digest {
            return Err(Error::invalid(
                format!("document {}", root.digest),
                format!("its bytes have digest {digest}: it cannot be pushed as {}", root.digest),
            ));
        }
        if let Some(wanted) = destination.digest.as_ref().filter(|wanted| **wanted != digest) {
            return Err(Error::invalid(
                format!("docker://{destination}"),
                format!("the document to push has digest {digest}, not the reference's {wanted}"),
            ));
        }
        let reference = destination.tag.clone().unwrap_or_else(|| digest.to_string());
        let mut session = Session { pusher: self, source, progress, handled: HashSet::new() };
        session.document(root, Subject::Reference(&destination), Some(&reference), 0)?;
        Ok(digest)
    }
}

/// One push: the source, the progress report, and what it has handled so far.
struct Session<'a> {
    pusher: &'a mut Pusher,
    source: &'a mut dyn Store,
    progress: &'a mut dyn FnMut(PushEvent<'_>),
    handled: HashSet<Digest>,
}

/// The parts of a manifest or an index a push follows.
#[derive(Deserialize)]
struct Children {
    manifests: Option<Vec<Descriptor>>,
    config: Option<Descriptor>,
    layers: Option<Vec<Descriptor>>,
}

/// How a blob upload began.
enum Upload {
    /// The registry mounted the blob from this other repository.
    Mounted(String),
    /// Send the blob here.
    At(Url),
}

impl Session<'_> {
    fn report(&mut self, item: &PushItem, stage: PushStage) {
        (self.progress)(PushEvent { item, stage });
    }

    fn registry_error(&self, subject: &Subject, reason: impl fmt::Display) -> Error {
        Error::Registry { registry: self.pusher.client.registry().to_string(), reason: format!("{subject}: {reason}") }
    }

    fn refusal(&self, response: ureq::Response, subject: &Subject, step: &str) -> Error {
        let identity = self.pusher.client.identity_for(&response);
        push_refusal_error(self.pusher.client.registry(), subject, step, &Refusal::read(response), &identity)
    }

    /// Push `document`'s blobs and children (each checked, so that every one is
    /// reported), then the document: at `tag` for the root, by digest (unless the
    /// repository has it) for an index entry.
    fn document(
        &mut self,
        document: &Document,
        subject: Subject,
        tag: Option<&str>,
        depth: usize,
    ) -> Result<(), Error> {
        let media_type = push_media_type(document)?;
        if tag.is_none() && !self.handled.insert(document.digest.clone()) {
            return Ok(());
        }
        let what = || format!("{} {}", if is_index(&media_type) { "index" } else { "manifest" }, document.digest);
        let children: Children = serde_json::from_slice(&document.bytes).map_err(|e| Error::invalid(what(), e))?;
        if is_index(&media_type) {
            let entries = children.manifests.ok_or_else(|| Error::invalid(what(), "it has no \"manifests\""))?;
            if depth >= MAX_DEPTH {
                return Err(Error::invalid(what(), "indexes nested too deep"));
            }
            for entry in &entries {
                let child = self.source.fetch(entry).map_err(|e| match e {
                    Error::Blob { digest, reason } => {
                        Error::Blob { digest, reason: format!("{reason} (listed in index {})", document.digest) }
                    }
                    other => other,
                })?;
                let repository = self.pusher.destination.repository.clone();
                let subject = Subject::Manifest { repository: &repository, digest: &child.digest };
                self.document(&child, subject, None, depth + 1)?;
            }
        } else {
            let config = children.config.ok_or_else(|| Error::invalid(what(), "it has no \"config\""))?;
            for blob in std::iter::once(&config).chain(children.layers.iter().flatten()) {
                self.blob(blob)?;
            }
        }
        let item = PushItem {
            kind: PushKind::Manifest,
            digest: document.digest.clone(),
            size: document.bytes.len() as u64,
            media_type: media_type.clone(),
        };
        if tag.is_none() && self.exists("manifests", &item, &subject)? {
            self.report(&item, PushStage::Exists);
            return Ok(());
        }
        self.report(&item, PushStage::Started);
        self.put_manifest(document, &media_type, tag.unwrap_or(&item.digest.to_string()), &subject)?;
        self.report(&item, PushStage::Done);
        Ok(())
    }

    /// Whether the repository has `item` (`HEAD /v2/NAME/{blobs|manifests}/DIGEST`).
    fn exists(&mut self, endpoint: &str, item: &PushItem, subject: &Subject) -> Result<bool, Error> {
        let path = format!("{}/{endpoint}/{}", self.pusher.destination.repository, item.digest);
        let accept = MANIFEST_MEDIA_TYPES.join(", ");
        let accept = (item.kind == PushKind::Manifest).then_some(accept.as_str());
        let parts = Parts { accept, ..Parts::default() };
        let response = self.pusher.client.exchange("HEAD", &path, parts, &self.pusher.scope, subject)?;
        match response.status() {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(self.refusal(response, subject, "checking whether the registry has it")),
        }
    }

    /// Push a config or layer unless the repository has it.
    fn blob(&mut self, descriptor: &Descriptor) -> Result<(), Error> {
        let digest = descriptor_digest(descriptor)?;
        if !self.handled.insert(digest.clone()) {
            return Ok(());
        }
        let item =
            PushItem { kind: PushKind::Blob, digest, size: descriptor.size(), media_type: media_type(descriptor) };
        if NON_DISTRIBUTABLE.contains(&item.media_type.as_str()) {
            self.report(&item, PushStage::NotDistributable);
            return Ok(());
        }
        let repository = self.pusher.destination.repository.clone();
        let subject = Subject::Blob { repository: &repository, digest: &item.digest };
        if self.exists("blobs", &item, &subject)? {
            self.report(&item, PushStage::Exists);
            return Ok(());
        }
        match self.start_upload(&item, &subject)? {
            Upload::Mounted(from) => self.report(&item, PushStage::Mounted { from }),
            Upload::At(url) => {
                self.report(&item, PushStage::Started);
                self.upload(descriptor, &item, url, &subject)?;
                self.report(&item, PushStage::Done);
            }
        }
        Ok(())
    }

    /// `POST /v2/NAME/blobs/uploads/` (offering a mount when there is a repository to
    /// mount from).
    fn start_upload(&mut self, item: &PushItem, subject: &Subject) -> Result<Upload, Error> {
        const STEP: &str = "starting its upload";
        let path = format!("{}/blobs/uploads/", self.pusher.destination.repository);
        let digest = item.digest.to_string();
        let mount = self.pusher.mount_from.clone();
        let query: Vec<(&str, &str)> = match &mount {
            Some(from) => vec![("mount", digest.as_str()), ("from", from.as_str())],
            None => Vec::new(),
        };
        let parts = Parts { query: &query, body: Some(&[]), ..Parts::default() };
        let response = self.pusher.client.exchange("POST", &path, parts, &self.pusher.scope, subject)?;
        match (response.status(), mount) {
            (201, Some(from)) => {
                self.check_digest_header(&response, &item.digest, subject)?;
                Ok(Upload::Mounted(from))
            }
            (202, _) => {
                let location = response.header("Location").ok_or_else(|| {
                    self.registry_error(subject, format_args!("{STEP}: the registry answered 202 without a Location"))
                })?;
                upload_url(response.get_url(), location, &item.digest)
                    .map(Upload::At)
                    .map_err(|e| self.registry_error(subject, format_args!("{STEP}: Location {location:?}: {e}")))
            }
            _ => Err(self.refusal(response, subject, STEP)),
        }
    }

    /// The monolithic `PUT` of a blob, streamed from the source and verified as it goes.
    fn upload(&mut self, descriptor: &Descriptor, item: &PushItem, url: Url, subject: &Subject) -> Result<(), Error> {
        let size = item.size;
        let reader = self.source.open(descriptor)?;
        let progress = &mut *self.progress;
        let mut outgoing = Outgoing {
            inner: reader,
            sent: 0,
            failure: None,
            report: &mut |sent| progress(PushEvent { item, stage: PushStage::Sent(sent) }),
        };
        let pusher = &*self.pusher;
        let result = pusher.client.put_stream(&url, BLOB_CONTENT_TYPE, &mut outgoing, size, &pusher.scope);
        let (sent, failure) = (outgoing.sent, outgoing.failure.take());
        drop(outgoing);
        if let Some(failure) = failure {
            let destination = format!("{}/{}", pusher.client.registry(), pusher.destination.repository);
            return Err(Error::Blob {
                digest: item.digest.clone(),
                reason: format!("reading it from the source to push it to {destination}: {failure}"),
            });
        }
        let response = result.map_err(|e| {
            let error = pusher.client.describe(&e);
            self.registry_error(
                subject,
                format_args!("uploading it: connection lost after sending {sent} of {size} bytes: {error}"),
            )
        })?;
        if !(200..300).contains(&response.status()) {
            return Err(self.refusal(response, subject, "uploading it"));
        }
        self.check_digest_header(&response, &item.digest, subject)
    }

    /// `PUT /v2/NAME/manifests/REFERENCE` with the document's bytes.
    fn put_manifest(
        &mut self,
        document: &Document,
        media_type: &str,
        reference: &str,
        subject: &Subject,
    ) -> Result<(), Error> {
        let path = format!("{}/manifests/{reference}", self.pusher.destination.repository);
        let parts = Parts { content_type: Some(media_type), body: Some(&document.bytes), ..Parts::default() };
        let response = self.pusher.client.exchange("PUT", &path, parts, &self.pusher.scope, subject)?;
        if !(200..300).contains(&response.status()) {
            return Err(self.refusal(response, subject, "putting it"));
        }
        self.check_digest_header(&response, &document.digest, subject)
    }

    /// A `Docker-Content-Digest` answer must be `sent` (one of another algorithm cannot
    /// be checked and is ignored).
    fn check_digest_header(&self, response: &ureq::Response, sent: &Digest, subject: &Subject) -> Result<(), Error> {
        match response.header("Docker-Content-Digest").map(|value| Digest::parse(value.trim())) {
            Some(Ok(stored)) if stored != *sent => Err(self.registry_error(
                subject,
                format_args!("the registry says it stored {stored}, not the {sent} archway sent"),
            )),
            Some(Err(DigestError::Malformed(value))) => {
                Err(self.registry_error(subject, format_args!("malformed Docker-Content-Digest {value:?}")))
            }
            _ => Ok(()),
        }
    }
}

/// Whether `media_type` is an index's.
fn is_index(media_type: &str) -> bool {
    media_type == media::OCI_INDEX || media_type == media::DOCKER_LIST
}

/// The `Content-Type` to push `document` with: the store's media type, else the one the
/// document gives itself, else OCI's index or manifest by its shape (`manifests`, or
/// `config`). It must be a manifest or index type the distribution API takes, and agree
/// with the one the document gives itself.
fn push_media_type(document: &Document) -> Result<String, Error> {
    let what = || format!("document {}", document.digest);
    let own = own_media_type(&document.bytes);
    let shape = || {
        let value: serde_json::Value = serde_json::from_slice(&document.bytes).ok()?;
        if value.get("manifests").is_some() {
            Some(media::OCI_INDEX.to_string())
        } else {
            value.get("config").map(|_| media::OCI_MANIFEST.to_string())
        }
    };
    let media_type = Some(document.media_type.clone())
        .filter(|t| !t.is_empty())
        .or_else(|| own.clone())
        .or_else(shape)
        .ok_or_else(|| Error::invalid(what(), "neither a media type nor the shape of a manifest or an index"))?;
    if !MANIFEST_MEDIA_TYPES.contains(&media_type.as_str()) {
        return Err(Error::invalid(
            what(),
            format!(
                "media type {media_type} is not one a registry takes as a manifest ({})",
                MANIFEST_MEDIA_TYPES.join(", ")
            ),
        ));
    }
    match own {
        Some(own) if own != media_type => Err(Error::invalid(
            what(),
            format!("it says its media type is {own}, but it is to be pushed as {media_type}"),
        )),
        _ => Ok(media_type),
    }
}

/// Where to `PUT` a blob: `location` resolved against `request` (the URL that answered
/// with it), with `digest=DIGEST` appended to whatever query it has.
fn upload_url(request: &str, location: &str, digest: &Digest) -> Result<Url, url::ParseError> {
    let mut url = Url::parse(request)?.join(location)?;
    url.query_pairs_mut().append_pair("digest", &digest.to_string());
    Ok(url)
}

/// A blob on its way out: counts and reports the bytes ureq reads, and keeps the
/// source's read error (ureq would report it as a failed connection).
struct Outgoing<'a, R> {
    inner: R,
    sent: u64,
    failure: Option<io::Error>,
    report: &'a mut dyn FnMut(u64),
}

impl<R: Read> Read for Outgoing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                if n > 0 {
                    self.sent += n as u64;
                    (self.report)(self.sent);
                }
                Ok(n)
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Err(error),
            Err(error) => {
                let kept = io::Error::new(error.kind(), error.to_string());
                self.failure = Some(error);
                Err(kept)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_locations_absolute_relative_and_with_queries() {
        let digest = Digest::of(b"blob");
        let hex = digest.hex();
        let request = "http://127.0.0.1:5000/v2/test/app/blobs/uploads/";
        let cases = [
            (
                "http://127.0.0.1:5000/v2/test/app/blobs/uploads/u1?_state=a%2Bb",
                "http://127.0.0.1:5000/v2/test/app/blobs/uploads/u1?_state=a%2Bb&digest=sha256%3A",
            ),
            ("/v2/test/app/blobs/uploads/u2", "http://127.0.0.1:5000/v2/test/app/blobs/uploads/u2?digest=sha256%3A"),
            ("u3?x=1", "http://127.0.0.1:5000/v2/test/app/blobs/uploads/u3?x=1&digest=sha256%3A"),
            ("https://uploads.example/put/u4?sig=xyz", "https://uploads.example/put/u4?sig=xyz&digest=sha256%3A"),
            ("//other:8080/u5", "http://other:8080/u5?digest=sha256%3A"),
        ];
        for (location, expected) in cases {
            assert_eq!(
                upload_url(request, location, &digest).unwrap().as_str(),
                format!("{expected}{hex}"),
                "{location}"
            );
        }
        assert!(upload_url(request, "http://[bad", &digest).is_err());
    }

    fn document(media_type: &str, json: &str) -> Document {
        Document { media_type: media_type.into(), bytes: json.as_bytes().to_vec(), digest: Digest::of(json.as_bytes()) }
    }

    #[test]
    fn media_types_to_push_with() {
        let own = format!(r#"{{"mediaType":"{}","manifests":[]}}"#, media::DOCKER_LIST);
        assert_eq!(push_media_type(&document("", &own)).unwrap(), media::DOCKER_LIST);
        assert_eq!(push_media_type(&document(media::DOCKER_LIST, &own)).unwrap(), media::DOCKER_LIST);
        assert_eq!(push_media_type(&document("", r#"{"schemaVersion":2,"manifests":[]}"#)).unwrap(), media::OCI_INDEX);
        assert_eq!(push_media_type(&document("", r#"{"config":{},"layers":[]}"#)).unwrap(), media::OCI_MANIFEST);
        let error = push_media_type(&document(media::OCI_INDEX, &own)).unwrap_err().to_string();
        assert!(
            error.ends_with(&format!(
                "it says its media type is {}, but it is to be pushed as {}",
                media::DOCKER_LIST,
                media::OCI_INDEX
            )),
            "{error}"
        );
        let error =
            push_media_type(&document("application/vnd.oci.image.config.v1+json", "{}")).unwrap_err().to_string();
        assert!(error.contains("is not one a registry takes as a manifest"), "{error}");
        let error = push_media_type(&document("", "[1]")).unwrap_err().to_string();
        assert!(error.contains("neither a media type nor the shape"), "{error}");
    }

    #[test]
    fn outgoing_counts_reports_and_keeps_the_source_error() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::InvalidData, "blob sha256:x: content has digest sha256:y"))
            }
        }
        let mut reports = Vec::new();
        let mut report = |sent| reports.push(sent);
        let mut outgoing = Outgoing { inner: &b"0123456789"[..], sent: 0, failure: None, report: &mut report };
        let mut buf = [0u8; 4];
        while outgoing.read(&mut buf).unwrap() > 0 {}
        assert_eq!(outgoing.sent, 10);
        assert!(outgoing.failure.is_none());
        assert_eq!(reports, [4, 8, 10]);
        let mut ignore = |_| {};
        let mut failing = Outgoing { inner: Failing, sent: 0, failure: None, report: &mut ignore };
        assert_eq!(failing.read(&mut buf).unwrap_err().kind(), io::ErrorKind::InvalidData);
        assert_eq!(failing.failure.unwrap().to_string(), "blob sha256:x: content has digest sha256:y");
    }
}
