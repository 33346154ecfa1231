//! Docker archives of one image (`docker-archive:FILE`, what `docker save` and skopeo
//! write and `docker load` and `podman load` read), in the layout skopeo writes:
//! - `manifest.json`: `[{"Config": "<hex>.json", "RepoTags": [...], "Layers": [...]}]`;
//! - `<config hex>.json`: the config, byte for byte (its digest is the image ID);
//! - `<diff_id hex>.tar`: each layer **uncompressed**, which every loader accepts (the
//!   format began with uncompressed `layer.tar`s; docker before 1.10 and archway's own
//!   reader, which names classic members by their diff_id, need them so), and which
//!   makes a member's digest its diff_id, so loaders verify layers against the config.
//!   Compressed layers are decompressed on the way in, and checked against the config's
//!   `rootfs.diff_ids`;
//! - the legacy `<id>/{VERSION,json,layer.tar}` directories (`layer.tar` a link to the
//!   layer) and `repositories` (`{"NAME": {"TAG": "<top layer id>"}}`) that loaders
//!   before manifest.json read, with IDs computed as skopeo computes them.

use super::archive::ArchiveWriter;
use super::canonical::to_canonical_json;
use crate::digest::Digest;
use crate::error::Error;
use crate::layer::decompressed;
use crate::reference::RegistryRef;
use crate::store::{descriptor_digest, Document, Store};
use oci_spec::image::Descriptor;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::Path;

/// The config fields skopeo copies into the top legacy layer's `json`.
const LEGACY_CONFIG_KEYS: [&str; 7] =
    ["architecture", "config", "container", "container_config", "created", "docker_version", "os"];

/// Write the image of `manifest` (an image manifest of `from`, OCI or Docker) as a Docker
/// archive at `dest` (replaced whole, or not at all on an error), tagged `repo_tags`
/// (`NAME[:TAG]` each, written `NAME:TAG`, as `docker load` will tag it).
pub fn write_docker_archive(
    from: &mut dyn Store,
    manifest: &Document,
    repo_tags: &[String],
    dest: &Path,
) -> Result<(), Error> {
    let what = || format!("manifest {}", manifest.digest);
    let value: Value = serde_json::from_slice(&manifest.bytes).map_err(|e| Error::invalid(what(), e))?;
    if value.get("manifests").is_some() {
        return Err(Error::invalid(what(), "an index: a Docker archive holds one platform's image manifest"));
    }
    let descriptor = |v: &Value| -> Result<Descriptor, Error> {
        serde_json::from_value(v.clone())
            .map_err(|e| Error::invalid(what(), format!("a descriptor that is not one: {e}")))
    };
    let config = descriptor(value.get("config").ok_or_else(|| Error::invalid(what(), "no config"))?)?;
    let layers = value
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid(what(), "no layers list"))?
        .iter()
        .map(descriptor)
        .collect::<Result<Vec<_>, _>>()?;
    let config = from.fetch(&config)?;
    let diff_ids = diff_ids(&config)?;
    if diff_ids.len() != layers.len() {
        return Err(Error::invalid(
            format!("config {}", config.digest),
            format!("{} diff_ids for the manifest's {} layers", diff_ids.len(), layers.len()),
        ));
    }
    let tags = repo_tags.iter().map(|t| split_tag(t)).collect::<Result<Vec<_>, _>>()?;
    let repo_tags: Vec<String> = tags.iter().map(|(name, tag)| format!("{name}:{tag}")).collect();

    let mut archive = ArchiveWriter::create(dest)?;
    let config_name = format!("{}.json", config.digest.hex());
    archive.add_bytes(&config_name, &config.bytes)?;
    let mut layer_names = Vec::new();
    let mut written = HashSet::new();
    for (layer, diff_id) in layers.iter().zip(&diff_ids) {
        let name = format!("{}.tar", diff_id.hex());
        if written.insert(name.clone()) {
            let digest = descriptor_digest(layer)?;
            let blob_error = |e: io::Error| Error::Blob { digest: digest.clone(), reason: e.to_string() };
            let mut reader = decompressed(from.open(layer)?).map_err(blob_error)?;
            let (_, actual) = archive.add_stream(&name, &mut reader, blob_error)?;
            if actual != *diff_id {
                return Err(Error::Blob {
                    digest,
                    reason: format!("uncompressed it has digest {actual}, not the config's diff_id {diff_id}"),
                });
            }
        }
        layer_names.push(name);
    }
    let top = legacy_layers(&mut archive, &config, &diff_ids, &layer_names)?;

    let entry = serde_json::json!([{
        "Config": config_name,
        "RepoTags": repo_tags,
        "Layers": layer_names,
    }]);
    let json_error = |e: serde_json::Error| Error::invalid(dest.display().to_string(), e);
    archive.add_bytes("manifest.json", &to_canonical_json(&entry).map_err(json_error)?)?;
    let mut repositories: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    if let Some(top) = &top {
        for (name, tag) in &tags {
            repositories.entry(name.as_str()).or_default().insert(tag.as_str(), top.as_str());
        }
    }
    archive.add_bytes("repositories", &to_canonical_json(&repositories).map_err(json_error)?)?;
    archive.finish()
}

/// The config's `rootfs.diff_ids`.
fn diff_ids(config: &Document) -> Result<Vec<Digest>, Error> {
    let what = || format!("config {}", config.digest);
    let value: Value = serde_json::from_slice(&config.bytes).map_err(|e| Error::invalid(what(), e))?;
    value
        .pointer("/rootfs/diff_ids")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid(what(), "no rootfs.diff_ids"))?
        .iter()
        .map(|d| Ok(Digest::parse(d.as_str().unwrap_or_default())?))
        .collect()
}

/// `NAME[:TAG]` as (NAME, TAG), TAG `latest` if not given (as docker tags it); an error
/// unless it is a valid reference without a digest.
fn split_tag(text: &str) -> Result<(String, String), Error> {
    if RegistryRef::parse(text)?.digest.is_some() {
        return Err(Error::invalid(format!("tag {text:?}"), "a Docker archive's tags are NAME:TAG (no digest)"));
    }
    // The tag is after the last ':' that follows the last '/' (a port is before a '/').
    let last_slash = text.rfind('/').map_or(0, |i| i + 1);
    Ok(match text[last_slash..].rfind(':') {
        Some(i) => (text[..last_slash + i].to_string(), text[last_slash + i + 1..].to_string()),
        None => (text.to_string(), "latest".to_string()),
    })
}

/// Write the legacy layer directories; the top layer's ID (`None` without layers).
/// A layer's ID is the digest of its `json` with `layer_id` (the chain ID) in place of
/// `id`; the `json` names its parent, and the top one carries the image's config fields.
fn legacy_layers(
    archive: &mut ArchiveWriter,
    config: &Document,
    diff_ids: &[Digest],
    layer_files: &[String],
) -> Result<Option<String>, Error> {
    let what = || format!("config {}", config.digest);
    let image: Map<String, Value> = serde_json::from_slice(&config.bytes).map_err(|e| Error::invalid(what(), e))?;
    let json = |map: &Map<String, Value>| to_canonical_json(map).map_err(|e| Error::invalid(what(), e));
    let mut parent: Option<String> = None;
    let mut chain: Option<Digest> = None;
    for (position, (diff_id, file)) in diff_ids.iter().zip(layer_files).enumerate() {
        let chain_id = match &chain {
            None => diff_id.clone(),
            Some(below) => Digest::of(format!("{below} {diff_id}").as_bytes()),
        };
        let mut layer = Map::new();
        if let Some(parent) = &parent {
            layer.insert("parent".into(), Value::String(parent.clone()));
        }
        if position + 1 == diff_ids.len() {
            for key in LEGACY_CONFIG_KEYS {
                if let Some(value) = image.get(key) {
                    layer.insert(key.into(), value.clone());
                }
            }
        }
        layer.insert("layer_id".into(), Value::String(chain_id.to_string()));
        let id = Digest::of(&json(&layer)?).hex().to_string();
        layer.remove("layer_id");
        layer.insert("id".into(), Value::String(id.clone()));
        archive.add_dir(&id)?;
        archive.add_bytes(&format!("{id}/VERSION"), b"1.0")?;
        archive.add_bytes(&format!("{id}/json"), &json(&layer)?)?;
        archive.add_symlink(&format!("{id}/layer.tar"), &format!("../{file}"))?;
        parent = Some(id);
        chain = Some(chain_id);
    }
    Ok(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_name_colon_tag() {
        let split = |text: &str| split_tag(text).map(|(n, t)| format!("{n} {t}")).unwrap();
        assert_eq!(split("app:1"), "app 1");
        assert_eq!(split("app"), "app latest");
        assert_eq!(split("localhost:5000/team/app:v2"), "localhost:5000/team/app v2");
        assert_eq!(split("localhost:5000/app"), "localhost:5000/app latest");
        for bad in ["app@sha256:".to_string() + &"a".repeat(64), "App:1".into(), "app:".into()] {
            assert!(split_tag(&bad).is_err(), "{bad}");
        }
    }
}
