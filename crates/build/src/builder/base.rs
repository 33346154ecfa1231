//! `FROM` images: the reference resolved for the stage's platform, and the selected
//! image's config and layers copied into the build's blob store (blobs already there
//! are not fetched again), so that every later read is local and verified.

use crate::builder::BuildError;
use crate::image_config::ImageConfig;
use archway_arch::Platform;
use archway_image::resolve::resolve;
use archway_image::store::descriptor_digest;
use archway_image::write::BlobStore;
use archway_image::{open, ImageRef, RegistryOptions};
use oci_spec::image::Descriptor;

/// A base image, local.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// The manifest's digest: the start of the stage's cache keys.
    pub manifest_digest: String,
    pub config: ImageConfig,
    /// Its layers, base first, all in the blob store.
    pub layers: Vec<Descriptor>,
}

/// Read `reference` (skopeo's transport syntax, or a bare `debian:bookworm` meaning
/// docker.io) for `platform` and copy what the stage needs into `blobs`.
pub fn pull(
    reference: &str,
    platform: &Platform,
    registry: &RegistryOptions,
    blobs: &BlobStore,
) -> Result<BaseImage, BuildError> {
    let failed = |e: &dyn std::fmt::Display| BuildError::Base(reference.to_owned(), e.to_string());
    let image_ref = ImageRef::parse(reference).map_err(|e| failed(&e))?;
    let mut store = open(&image_ref, registry).map_err(|e| failed(&e))?;
    let resolved = resolve(store.as_mut(), std::slice::from_ref(platform)).map_err(|e| failed(&e))?;
    let Some(image) = resolved.images.into_iter().next() else {
        let available: Vec<String> = resolved.available.iter().map(ToString::to_string).collect();
        return Err(failed(&format!("no image for {platform} (the index has {})", available.join(", "))));
    };
    for layer in &image.layers {
        let digest = descriptor_digest(layer).map_err(|e| failed(&e))?;
        if !blobs.contains(&digest, layer.size()) {
            let reader = store.open(layer).map_err(|e| failed(&e))?;
            blobs.put_stream(layer, reader).map_err(|e| failed(&e))?;
        }
    }
    let config_bytes = serde_json::to_vec(&image.config).map_err(|e| failed(&e))?;
    let config: ImageConfig = serde_json::from_slice(&config_bytes).map_err(|e| failed(&e))?;
    Ok(BaseImage { manifest_digest: image.manifest.digest.to_string(), config, layers: image.layers })
}
