//! Manifest lists (image indexes) as `docker manifest`, `buildah manifest` and `buildx
//! imagetools` make them, for `archway manifest`:
//!
//! - a list lives in an OCI layout under a tag: `oci:DIR:TAG` names one in a layout of
//!   the user's (offline use), any other name one in archway's own layout of lists
//!   (`$XDG_DATA_HOME/archway/manifests`);
//! - `create` adds images by reference (from layouts, archives or registries; nothing
//!   needs pushing first): each image, or each entry of an index, is copied into the
//!   list's layout with its digest unchanged, and its platform read from its config;
//!   `--amend` adds to an existing list, without it an existing list is an error;
//! - `annotate` sets an entry's platform (normalised as containerd does; nonsense is
//!   refused) and OS version and features;
//! - `push` copies the list and every image it lists to a registry, byte for byte;
//! - the list is an OCI index when its children are OCI manifests, a Docker manifest
//!   list when they are all Docker schema 2 manifests (the children are never
//!   rewritten, so their digests stay).

use archway_arch::Platform;
use archway_image::listing::entries;
use archway_image::resolve::resolve;
use archway_image::write::{copy_image, LayoutWriter};
use archway_image::{open, push_image, Document, ImageRef, RegistryOptions, RegistryRef, Selector};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The media types of an index document.
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Where a list lives: a layout and the tag in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListName {
    pub layout: PathBuf,
    pub tag: String,
}

impl ListName {
    /// `oci:DIR:TAG` (or `oci-layout://DIR:TAG`), or a name in archway's layout of lists.
    pub fn parse(name: &str) -> Result<ListName, String> {
        if name.starts_with("oci:") || name.starts_with("oci-layout://") {
            return match ImageRef::parse(name).map_err(|e| e.to_string())? {
                ImageRef::OciLayout { dir, selector: Selector::Tag(tag) } => Ok(ListName { layout: dir, tag }),
                _ => Err(format!("{name}: a list in a layout needs a tag (oci:DIR:TAG)")),
            };
        }
        Ok(ListName { layout: lists_dir(), tag: name.to_owned() })
    }

    fn reference(&self) -> ImageRef {
        ImageRef::OciLayout { dir: self.layout.clone(), selector: Selector::Tag(self.tag.clone()) }
    }

    /// The list's index document, if it exists.
    pub fn read(&self, registry: &RegistryOptions) -> Option<Document> {
        if !self.layout.join("index.json").is_file() {
            return None;
        }
        let mut store = open(&self.reference(), registry).ok()?;
        store.top().ok()
    }
}

/// archway's own layout of lists: `$ARCHWAY_MANIFESTS`, else
/// `$XDG_DATA_HOME/archway/manifests`, else `~/.local/share/archway/manifests`.
pub fn lists_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ARCHWAY_MANIFESTS") {
        return PathBuf::from(dir);
    }
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"))
        .join("archway/manifests")
}

/// Create `list` from `images`, or add them to it with `amend`; the list's digest.
pub fn create(list: &ListName, images: &[String], amend: bool, registry: &RegistryOptions) -> Result<String, String> {
    let existing = list.read(registry);
    if existing.is_some() && !amend {
        return Err(format!("{}: the list exists (use --amend to add to it, or archway manifest rm)", list.tag));
    }
    let mut manifests: Vec<Value> = match &existing {
        Some(document) => index_entries(document)?,
        None => Vec::new(),
    };
    let writer = LayoutWriter::open_or_create(&list.layout).map_err(|e| e.to_string())?;
    for image in images {
        for entry in added_entries(image, &writer, registry)? {
            manifests.retain(|m| m["digest"] != entry["digest"]);
            manifests.push(entry);
        }
    }
    write_list(list, writer, manifests)
}

/// The index entries `image` contributes, its blobs copied into `writer`'s layout.
fn added_entries(image: &str, writer: &LayoutWriter, registry: &RegistryOptions) -> Result<Vec<Value>, String> {
    let failed = |e: &dyn std::fmt::Display| format!("{image}: {e}");
    let reference = ImageRef::parse(image).map_err(|e| failed(&e))?;
    let mut store = open(&reference, registry).map_err(|e| failed(&e))?;
    let top = store.top().map_err(|e| failed(&e))?;
    copy_image(store.as_mut(), &top, writer.blobs()).map_err(|e| failed(&e))?;
    if is_index(&top) {
        return index_entries(&top);
    }
    let resolved = resolve(store.as_mut(), &[]).map_err(|e| failed(&e))?;
    let platform = resolved.images.first().map(|i| i.config_platform.normalize()).ok_or_else(|| failed(&"no image"))?;
    Ok(vec![json!({
        "mediaType": media_type_of(&top),
        "digest": top.digest.to_string(),
        "size": top.bytes.len(),
        "platform": platform_json(&platform, None, &[]),
    })])
}

/// Set the platform fields of the entry for `image` (a digest, or a reference resolved
/// to one); the list's new digest.
#[allow(clippy::too_many_arguments)]
pub fn annotate(
    list: &ListName,
    image: &str,
    os: Option<&str>,
    arch: Option<&str>,
    variant: Option<&str>,
    os_version: Option<&str>,
    os_features: &[String],
    registry: &RegistryOptions,
) -> Result<String, String> {
    let document = list.read(registry).ok_or_else(|| format!("{}: no such list", list.tag))?;
    let mut manifests = index_entries(&document)?;
    let digest = if image.starts_with("sha256:") {
        image.to_owned()
    } else {
        let reference = ImageRef::parse(image).map_err(|e| format!("{image}: {e}"))?;
        let mut store = open(&reference, registry).map_err(|e| format!("{image}: {e}"))?;
        store.top().map_err(|e| format!("{image}: {e}"))?.digest.to_string()
    };
    let entry = manifests
        .iter_mut()
        .find(|m| m["digest"] == digest.as_str())
        .ok_or_else(|| format!("{}: has no entry {digest}", list.tag))?;
    let current = &entry["platform"];
    let field =
        |given: Option<&str>, key: &str| given.map(str::to_owned).or_else(|| current[key].as_str().map(str::to_owned));
    let os = field(os, "os").unwrap_or_else(|| "linux".to_owned());
    let arch = field(arch, "architecture").ok_or("--arch is needed: the entry has no architecture")?;
    let variant = field(variant, "variant");
    let spec = match &variant {
        Some(variant) if !variant.is_empty() => format!("{os}/{arch}/{variant}"),
        _ => format!("{os}/{arch}"),
    };
    let platform = Platform::parse(&spec).map_err(|e| e.to_string())?.normalize();
    let features: Vec<String> = if os_features.is_empty() {
        current["os.features"].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_owned)).collect()
    } else {
        os_features.to_vec()
    };
    let os_version = os_version.map(str::to_owned).or_else(|| current["os.version"].as_str().map(str::to_owned));
    entry["platform"] = platform_json(&platform, os_version.as_deref(), &features);
    let writer = LayoutWriter::open(&list.layout).map_err(|e| e.to_string())?;
    write_list(list, writer, manifests)
}

/// Push `list` and every image in it to `destination`; the digest pushed.
pub fn push(list: &ListName, destination: &str, registry: &RegistryOptions) -> Result<String, String> {
    let document = list.read(registry).ok_or_else(|| format!("{}: no such list", list.tag))?;
    let destination = RegistryRef::parse(destination.trim_start_matches("docker://")).map_err(|e| e.to_string())?;
    let mut store = open(&list.reference(), registry).map_err(|e| e.to_string())?;
    let digest =
        push_image(store.as_mut(), &document, &destination, registry, &mut |_| {}).map_err(|e| e.to_string())?;
    Ok(digest.to_string())
}

/// Remove `list` (its tag; the images stay in the layout).
pub fn remove(list: &ListName, registry: &RegistryOptions) -> Result<(), String> {
    list.read(registry).ok_or_else(|| format!("{}: no such list", list.tag))?;
    let mut writer = LayoutWriter::open(&list.layout).map_err(|e| e.to_string())?;
    writer.untag(&list.tag);
    writer.commit().map(|_| ()).map_err(|e| e.to_string())
}

/// Write the index over `manifests` and tag it as the list; its digest.
fn write_list(list: &ListName, mut writer: LayoutWriter, manifests: Vec<Value>) -> Result<String, String> {
    let all_docker = !manifests.is_empty() && manifests.iter().all(|m| m["mediaType"] == DOCKER_MANIFEST);
    let media_type = if all_docker { DOCKER_LIST } else { OCI_INDEX };
    let index = json!({"schemaVersion": 2, "mediaType": media_type, "manifests": manifests});
    let descriptor = writer.put_json(media_type, &index).map_err(|e| e.to_string())?;
    writer.tag(&list.tag, &descriptor).map_err(|e| e.to_string())?;
    writer.commit().map_err(|e| e.to_string())?;
    Ok(descriptor.digest().to_string())
}

/// The `manifests` of an index document, as JSON values (kept as they are).
fn index_entries(document: &Document) -> Result<Vec<Value>, String> {
    entries(document).map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_slice(&document.bytes).map_err(|e| e.to_string())?;
    Ok(value["manifests"].as_array().cloned().unwrap_or_default())
}

fn media_type_of(document: &Document) -> String {
    if document.media_type.is_empty() {
        archway_image::layout::own_media_type(&document.bytes)
    } else {
        document.media_type.clone()
    }
}

fn is_index(document: &Document) -> bool {
    matches!(media_type_of(document).as_str(), OCI_INDEX | DOCKER_LIST)
}

fn platform_json(platform: &Platform, os_version: Option<&str>, features: &[String]) -> Value {
    let mut value = json!({"os": platform.os, "architecture": platform.architecture});
    if !platform.variant.is_empty() {
        value["variant"] = json!(platform.variant);
    }
    if let Some(version) = os_version {
        value["os.version"] = json!(version);
    }
    if !features.is_empty() {
        value["os.features"] = json!(features);
    }
    value
}
