//! From the document a reference names to the images it holds, one per platform:
//! indexes and Docker manifest lists are walked (nested ones too), attestation and
//! other non-image manifests are recognised and set aside (never counted as an
//! `unknown/unknown` platform), platforms are selected as containerd matches them, and
//! each image's manifest and config are fetched and verified.
//!
//! What each platform image records is what the check compares: the platform the index
//! claims, the platform the config claims, and the layers that hold the binaries.

use crate::digest::Digest;
use crate::error::Error;
use crate::layout::own_media_type;
use crate::store::{descriptor_digest, Document, Store};
use archway_arch::Platform;
use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};

/// Media types of the documents archway walks.
pub mod media {
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const DOCKER_SCHEMA1: &[&str] = &[
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ];
}

/// The annotation BuildKit puts on attestation manifests in an index.
pub const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// Nested indexes deeper than this are refused (a loop cannot be built from digests,
/// but a deep chain is no image); pushing refuses them too.
pub(crate) const MAX_DEPTH: usize = 8;

/// One platform's image.
#[derive(Debug, Clone)]
pub struct PlatformImage {
    /// What the index says this image is for (`None` when the reference named a
    /// manifest directly).
    pub index_platform: Option<Platform>,
    pub manifest: Document,
    /// What the config says (`architecture`, `os`, `variant`).
    pub config_platform: Platform,
    pub config: ImageConfiguration,
    pub config_digest: Digest,
    /// The layers, base first.
    pub layers: Vec<Descriptor>,
}

/// An index entry that is not an image to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub digest: Digest,
    /// Why: "attestation manifest", "artifact (config type ...)"...
    pub reason: String,
}

/// Everything a reference resolved to.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The document the reference named.
    pub top: Document,
    pub images: Vec<PlatformImage>,
    pub set_aside: Vec<SetAside>,
    /// Every image platform the index offers (before selection), as it says them.
    pub available: Vec<Platform>,
}

/// What kind of document bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Index,
    Manifest,
}

fn kind_of(document: &Document) -> Result<Kind, Error> {
    let declared =
        if document.media_type.is_empty() { own_media_type(&document.bytes) } else { document.media_type.clone() };
    match declared.as_str() {
        media::OCI_INDEX | media::DOCKER_LIST => Ok(Kind::Index),
        media::OCI_MANIFEST | media::DOCKER_MANIFEST => Ok(Kind::Manifest),
        t if media::DOCKER_SCHEMA1.contains(&t) => Err(Error::invalid(
            format!("manifest {}", document.digest),
            "Docker schema 1 manifests are not supported (deprecated since 2017; re-push the image)",
        )),
        "" => {
            // No media type anywhere: an index has `manifests`, a manifest `layers`.
            let value: serde_json::Value = serde_json::from_slice(&document.bytes)
                .map_err(|e| Error::invalid(format!("document {}", document.digest), e))?;
            if value.get("manifests").is_some() {
                Ok(Kind::Index)
            } else if value.get("layers").is_some() {
                Ok(Kind::Manifest)
            } else {
                Err(Error::invalid(format!("document {}", document.digest), "neither an index nor a manifest"))
            }
        }
        other => {
            Err(Error::invalid(format!("document {}", document.digest), format!("media type {other} is not an image")))
        }
    }
}

/// The platform of an index entry, as it says it (`None` when it has none).
pub(crate) fn entry_platform(descriptor: &Descriptor) -> Option<Platform> {
    let p = descriptor.platform().as_ref()?;
    Some(Platform {
        os: p.os().to_string(),
        architecture: p.architecture().to_string(),
        variant: p.variant().clone().unwrap_or_default(),
    })
}

/// Why an index entry is not an image, if it is not.
fn not_an_image(descriptor: &Descriptor) -> Option<String> {
    let annotation = descriptor.annotations().as_ref().and_then(|a| a.get(REFERENCE_TYPE));
    if let Some(kind) = annotation {
        return Some(format!("{kind} (BuildKit's {REFERENCE_TYPE})"));
    }
    match entry_platform(descriptor) {
        Some(p) if p.os == "unknown" && p.architecture == "unknown" => Some("platform unknown/unknown".into()),
        _ => None,
    }
}

/// Resolve the store's reference to its images for the `wanted` platforms (all of them
/// when `wanted` is empty; for each wanted platform the first match in index order).
pub fn resolve(store: &mut dyn Store, wanted: &[Platform]) -> Result<Resolved, Error> {
    let top = store.top()?;
    let mut candidates = Vec::new();
    let mut set_aside = Vec::new();
    collect(store, &top, None, 0, &mut candidates, &mut set_aside)?;
    let available: Vec<Platform> = candidates.iter().filter_map(|(p, _)| p.clone()).collect();
    let chosen: Vec<(Option<Platform>, Document)> = if wanted.is_empty() {
        candidates
    } else {
        let mut chosen = Vec::new();
        for want in wanted {
            // A manifest named directly has no index platform: its config decides below.
            let position = candidates.iter().position(|(p, _)| p.as_ref().is_none_or(|p| p.matches(want)));
            match position {
                Some(i) => chosen.push(candidates[i].clone()),
                None => {
                    let offered: Vec<String> = available.iter().map(Platform::to_string).collect();
                    return Err(Error::NotFound {
                        reference: top.digest.to_string(),
                        reason: format!("no image for {want} (the index offers: {})", offered.join(", ")),
                    });
                }
            }
        }
        chosen.dedup_by(|a, b| a.1.digest == b.1.digest);
        chosen
    };
    let mut images = Vec::new();
    for (index_platform, manifest) in chosen {
        match image(store, index_platform, manifest)? {
            Ok(image) => {
                if index_platform_is_none_and_unwanted(&image, wanted) {
                    return Err(Error::NotFound {
                        reference: top.digest.to_string(),
                        reason: format!("the image is for {}, not {}", image.config_platform, list(wanted)),
                    });
                }
                images.push(image);
            }
            Err(aside) => set_aside.push(aside),
        }
    }
    if images.is_empty() {
        return Err(Error::NotFound {
            reference: top.digest.to_string(),
            reason: "no image in it (only attestations or artifacts)".into(),
        });
    }
    Ok(Resolved { top, images, set_aside, available })
}

fn list(platforms: &[Platform]) -> String {
    platforms.iter().map(Platform::to_string).collect::<Vec<_>>().join(", ")
}

/// A manifest named directly, checked for platforms it is not for.
fn index_platform_is_none_and_unwanted(image: &PlatformImage, wanted: &[Platform]) -> bool {
    image.index_platform.is_none() && !wanted.is_empty() && !wanted.iter().any(|w| image.config_platform.matches(w))
}

/// Walk `document`: an index adds its entries (recursively), a manifest is a candidate.
fn collect(
    store: &mut dyn Store,
    document: &Document,
    platform: Option<Platform>,
    depth: usize,
    candidates: &mut Vec<(Option<Platform>, Document)>,
    set_aside: &mut Vec<SetAside>,
) -> Result<(), Error> {
    match kind_of(document)? {
        Kind::Manifest => candidates.push((platform, document.clone())),
        Kind::Index => {
            if depth >= MAX_DEPTH {
                return Err(Error::invalid(format!("index {}", document.digest), "indexes nested too deep"));
            }
            let index: ImageIndex = serde_json::from_slice(&document.bytes)
                .map_err(|e| Error::invalid(format!("index {}", document.digest), e))?;
            for entry in index.manifests() {
                if let Some(reason) = not_an_image(entry) {
                    set_aside.push(SetAside { digest: descriptor_digest(entry)?, reason });
                    continue;
                }
                let child = store.fetch(entry).map_err(|e| match e {
                    Error::Blob { digest, reason } => {
                        Error::Blob { digest, reason: format!("{reason} (listed in index {})", document.digest) }
                    }
                    other => other,
                })?;
                collect(store, &child, entry_platform(entry).or(platform.clone()), depth + 1, candidates, set_aside)?;
            }
        }
    }
    Ok(())
}

/// The image of manifest `manifest`, or why it is not an image (an artifact).
fn image(
    store: &mut dyn Store,
    index_platform: Option<Platform>,
    manifest: Document,
) -> Result<Result<PlatformImage, SetAside>, Error> {
    let parsed: ImageManifest = serde_json::from_slice(&manifest.bytes)
        .map_err(|e| Error::invalid(format!("manifest {}", manifest.digest), e))?;
    let config_type = parsed.config().media_type().to_string();
    if config_type != media::OCI_CONFIG && config_type != media::DOCKER_CONFIG {
        return Ok(Err(SetAside { digest: manifest.digest, reason: format!("artifact (config type {config_type})") }));
    }
    let config_document = store.fetch(parsed.config())?;
    let config: ImageConfiguration = serde_json::from_slice(&config_document.bytes)
        .map_err(|e| Error::invalid(format!("config {} of manifest {}", config_document.digest, manifest.digest), e))?;
    let config_platform = Platform {
        os: config.os().to_string(),
        architecture: config.architecture().to_string(),
        variant: config.variant().clone().unwrap_or_default(),
    };
    Ok(Ok(PlatformImage {
        index_platform,
        config_platform,
        config,
        config_digest: config_document.digest,
        layers: parsed.layers().clone(),
        manifest,
    }))
}
