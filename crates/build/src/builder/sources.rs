//! Where a step reads files from: the build context, a named local context
//! (`--build-context NAME=DIR`), another stage's root (`COPY --from=build`), or an image's
//! root (`COPY --from=alpine`, `RUN --mount=from=alpine`, or a named image context);
//! what identifies each for the step cache; and `FROM` of a named local context, whose
//! files become the stage's first layer.
//!
//! Images are resolved once per build and platform (a moved tag is seen by the next
//! build, never half-way through one); a root is unpacked only when a step that missed
//! the cache reads it, into the build's scratch directory.

use crate::builder::base::{pull, BaseImage};
use crate::builder::layers::write_layer;
use crate::builder::root::materialize;
use crate::builder::stage::{StageResult, StageStart};
use crate::builder::{now, BuildError, Shared};
use crate::cache::{tree_digest, CachedLayer, CachedStep, KeyBuilder};
use crate::context::{Context, Ignore, Source};
use crate::copy::{copy_sources, CopyOptions};
use crate::diff::Snapshot;
use crate::image_config::ImageConfig;
use crate::named_contexts::NamedContext;
use crate::plan::From;
use archway_arch::Platform;
use oci_spec::image::Descriptor;
use std::path::{Path, PathBuf};

/// A tree a step reads.
pub enum StepSource<'a> {
    /// The build context or a named local one: the files a step reads are digested for
    /// its cache key.
    Directory(&'a Context),
    Stage(&'a StageResult),
    Image(Box<BaseImage>),
}

impl StepSource<'_> {
    /// What identifies the whole tree in a cache key; `None` for a directory, whose
    /// files read must be digested.
    pub fn identity(&self) -> Option<String> {
        match self {
            StepSource::Directory(_) => None,
            StepSource::Stage(result) => Some(format!("stage {}", result.key)),
            StepSource::Image(image) => Some(format!("image {}", image.manifest_digest)),
        }
    }

    /// The tree's directory (unpacked on first use) and its ignore rules.
    pub fn tree(&self, shared: &Shared) -> Result<(PathBuf, Ignore), String> {
        match self {
            StepSource::Directory(context) => Ok((context.root().to_path_buf(), context.ignore().clone())),
            StepSource::Stage(result) => match &result.root {
                Some(root) => Ok((root.clone(), Ignore::default())),
                None => {
                    Ok((unpacked(shared, &format!("from-{}", &result.key[..16]), &result.layers)?, Ignore::default()))
                }
            },
            StepSource::Image(image) => {
                let name =
                    format!("image-{}", image.manifest_digest.trim_start_matches("sha256:").get(..16).unwrap_or("x"));
                Ok((unpacked(shared, &name, &image.layers)?, Ignore::default()))
            }
        }
    }
}

/// The tree `from` names (the build context when `None`), for a stage on `platform`.
pub fn step_source<'a>(
    shared: &'a Shared,
    from: Option<&From>,
    earlier: &'a [Option<StageResult>],
    platform: &Platform,
) -> Result<StepSource<'a>, String> {
    match from {
        None => Ok(StepSource::Directory(shared.context)),
        Some(From::Stage(index)) => {
            earlier[*index].as_ref().map(StepSource::Stage).ok_or_else(|| "the --from stage was not built".to_owned())
        }
        Some(From::Image(name)) => match shared.named.get(name) {
            Some(NamedContext::Directory(context)) => Ok(StepSource::Directory(context)),
            _ => {
                image(shared, name, platform).map(|image| StepSource::Image(Box::new(image))).map_err(|e| e.to_string())
            }
        },
    }
}

/// Transports a `FROM` may name explicitly (`FROM oci:DIR:TAG`).
const EXPLICIT_TRANSPORTS: [&str; 3] = ["oci:", "oci-archive:", "docker-archive:"];

/// The image `name` means (a named image context, or a registry reference) for
/// `platform`, pulled into the blob store once per build.
pub fn image(shared: &Shared, name: &str, platform: &Platform) -> Result<BaseImage, BuildError> {
    let reference = match shared.named.get(name) {
        Some(NamedContext::Image(reference)) => reference.clone(),
        Some(NamedContext::Directory(_)) => {
            return Err(BuildError::Base(name.to_owned(), "a local context is not an image".to_owned()))
        }
        // A name written in the Dockerfile is a registry reference; the explicit
        // transports (`oci:DIR:TAG`...) are taken as they are, but a bare name is never
        // a local path.
        None if name.contains("://") || EXPLICIT_TRANSPORTS.iter().any(|t| name.starts_with(t)) => name.to_owned(),
        None => format!("docker://{name}"),
    };
    let memo_key = format!("{reference} {platform}");
    let mut images = shared.images.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(image) = images.get(&memo_key) {
        return Ok(image.clone());
    }
    let image = pull(&reference, platform, shared.registry, shared.blobs).map_err(|e| match e {
        BuildError::Base(_, message) => BuildError::Base(name.to_owned(), message),
        other => other,
    })?;
    images.insert(memo_key, image.clone());
    Ok(image)
}

/// `FROM NAME` of a named local context: a stage whose first layer holds the
/// directory's files (owned by root, `.dockerignore` applied), cached by their digest.
pub fn directory_start(shared: &Shared, name: &str, context: &Context) -> Result<StageStart, BuildError> {
    let failed = |e: &dyn std::fmt::Display| BuildError::Io(context.root().to_path_buf(), e.to_string());
    let digest = tree_digest(context.root(), &[context.root().to_path_buf()]).map_err(|e| failed(&e))?;
    let mut key = KeyBuilder::new("named-context");
    key.field("files", digest.as_bytes());
    let key = key.finish();
    let cached = match shared.cache.get_usable(&key, shared.blobs) {
        Some(cached) => cached,
        None => {
            let dir = shared.scratch("context");
            std::fs::create_dir_all(&dir).map_err(|e| failed(&e))?;
            let before = Snapshot::take(&dir).map_err(|e| failed(&e))?;
            let contents = Source { relative: String::new(), path: context.root().to_path_buf() };
            let options = CopyOptions::default();
            copy_sources(&dir, &[contents], "/", context.ignore(), &options)
                .map_err(|e| BuildError::Base(name.to_owned(), e.to_string()))?;
            let after = Snapshot::take(&dir).map_err(|e| failed(&e))?;
            let blob = write_layer(&dir, &before.changes(&after), shared.blobs, &shared.layer_options)?;
            let _ = std::fs::remove_dir_all(&dir);
            let step = CachedStep { layer: blob.as_ref().map(CachedLayer::of), created: Some(now()) };
            shared.cache.put(&key, &step).map_err(|e| failed(&e))?;
            step
        }
    };
    let mut config = ImageConfig::default();
    let mut layers: Vec<Descriptor> = Vec::new();
    if let Some(layer) = &cached.layer {
        layers.push(layer.descriptor().map_err(|e| failed(&e))?);
        config.rootfs.diff_ids.push(layer.diff_id.clone());
    }
    Ok(StageStart { config, layers, key, created: cached.created })
}

/// `layers` unpacked into the scratch directory `name` (once: a finished tree is
/// renamed into place, so two platforms never see a half-made one).
fn unpacked(shared: &Shared, name: &str, layers: &[Descriptor]) -> Result<PathBuf, String> {
    let dir = shared.work.join(name);
    if dir.exists() {
        return Ok(dir);
    }
    let partial = shared.scratch(&format!("{name}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    materialize(shared.blobs, layers, &partial).map_err(|e| e.to_string())?;
    if std::fs::rename(&partial, &dir).is_err() && dir.exists() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    Ok(dir)
}

/// A copy of `source` (a file or directory) in the scratch directory, for a writable
/// bind mount whose writes BuildKit discards: the step writes the copy, never the
/// context or another stage.
pub fn writable_copy(shared: &Shared, source: &Path) -> Result<PathBuf, String> {
    let dir = shared.scratch("mount");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = if source.is_dir() { String::new() } else { "file".to_owned() };
    let options = CopyOptions::default();
    let contents = Source { relative: name.clone(), path: source.to_path_buf() };
    let destination = if name.is_empty() { "/".to_owned() } else { format!("/{name}") };
    copy_sources(&dir, &[contents], &destination, &Ignore::default(), &options).map_err(|e| e.to_string())?;
    Ok(if name.is_empty() { dir } else { dir.join(name) })
}
