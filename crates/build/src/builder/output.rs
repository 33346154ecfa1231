//! The images a build made, written where `-o` says, as buildx's outputs do:
//! `type=oci,dest=DIR` (an OCI layout; `dest=FILE.tar` an OCI archive),
//! `type=docker,dest=FILE.tar` (for `docker load`/`podman load`, one platform),
//! `type=registry` (pushed to each `-t` reference). Every output is first assembled as
//! a complete OCI layout in the build's scratch directory and only then written to its
//! destination, atomically.

use crate::builder::BuildError;
use archway_image::reference::ImageRef;
use archway_image::write::{write_docker_archive, write_oci_archive, BlobStore, LayoutWriter};
use archway_image::{open, push_image, Document, RegistryOptions, RegistryRef, Selector};
use oci_spec::image::Descriptor;
use std::path::{Path, PathBuf};

/// Where a build's result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// An OCI layout directory.
    OciLayout(PathBuf),
    /// An OCI archive (a tar of a layout).
    OciArchive(PathBuf),
    /// A Docker archive (one platform).
    DockerArchive(PathBuf),
    /// Push to the `-t` references.
    Registry,
}

impl Output {
    /// Parse buildx's `-o` syntax: `type=oci,dest=PATH`, `type=docker,dest=FILE`,
    /// `type=registry`; a bare path means `type=oci,dest=PATH`.
    pub fn parse(text: &str) -> Result<Output, String> {
        if !text.contains('=') {
            return Ok(Output::OciLayout(PathBuf::from(text)));
        }
        let mut kind = None;
        let mut dest = None;
        for field in text.split(',') {
            match field.split_once('=') {
                Some(("type", value)) => kind = Some(value.to_owned()),
                Some(("dest", value)) => dest = Some(PathBuf::from(value)),
                Some(("name" | "push" | "tar" | "oci-mediatypes" | "compression", _)) => {}
                _ => return Err(format!("-o {text}: unknown field {field:?} (type=oci|docker|registry,dest=PATH)")),
            }
        }
        let tar_name = |dest: &Path| dest.extension().is_some_and(|e| e == "tar");
        match (kind.as_deref(), dest) {
            (Some("oci"), Some(dest)) if tar_name(&dest) => Ok(Output::OciArchive(dest)),
            (Some("oci"), Some(dest)) => Ok(Output::OciLayout(dest)),
            (Some("docker"), Some(dest)) => Ok(Output::DockerArchive(dest)),
            (Some("registry" | "image"), _) => Ok(Output::Registry),
            (Some("oci" | "docker"), None) => Err(format!("-o {text}: dest=PATH is needed")),
            (other, _) => Err(format!("-o {text}: type {other:?} is not supported (oci, docker, registry)")),
        }
    }
}

/// One platform's finished image in the build's blob store.
#[derive(Debug, Clone)]
pub struct PlatformResult {
    pub manifest: Descriptor,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// Write the results to every output; the top document's descriptor (the index for
/// several platforms, else the manifest).
pub fn write_outputs(
    results: &[PlatformResult],
    top: &Descriptor,
    blobs: &BlobStore,
    scratch: &Path,
    tags: &[String],
    outputs: &[Output],
    registry: &RegistryOptions,
) -> Result<(), BuildError> {
    let failed = |e: &dyn std::fmt::Display| BuildError::Output(e.to_string());
    let tag = tags.first().map(|t| tag_of(t)).unwrap_or_else(|| "latest".to_owned());
    // The complete result as a layout of its own.
    let assembled = scratch.join("result");
    let layout = LayoutWriter::create(&assembled).map_err(|e| failed(&e))?;
    let copy_blob = |descriptor: &Descriptor| layout.blobs().link_from(blobs, descriptor).map_err(|e| failed(&e));
    for result in results {
        for layer in &result.layers {
            copy_blob(layer)?;
        }
        copy_blob(&result.config)?;
        copy_blob(&result.manifest)?;
    }
    copy_blob(top)?;
    let mut layout = layout;
    layout.tag(&tag, top).map_err(|e| failed(&e))?;
    layout.commit().map_err(|e| failed(&e))?;
    for output in outputs {
        match output {
            Output::OciLayout(dest) => {
                let mut writer = LayoutWriter::open_or_create(dest).map_err(|e| failed(&e))?;
                let source = archway_image::write::BlobStore::new(&assembled).map_err(|e| failed(&e))?;
                for result in results {
                    for descriptor in result.layers.iter().chain([&result.config, &result.manifest]) {
                        writer.blobs().link_from(&source, descriptor).map_err(|e| failed(&e))?;
                    }
                }
                writer.blobs().link_from(&source, top).map_err(|e| failed(&e))?;
                writer.tag(&tag, top).map_err(|e| failed(&e))?;
                writer.commit().map_err(|e| failed(&e))?;
            }
            Output::OciArchive(dest) => write_oci_archive(&assembled, dest).map_err(|e| failed(&e))?,
            Output::DockerArchive(dest) => {
                if results.len() != 1 {
                    return Err(failed(&"type=docker holds one platform: build one --platform for it"));
                }
                let reference = ImageRef::OciLayout { dir: assembled.clone(), selector: Selector::Tag(tag.clone()) };
                let mut store = open(&reference, registry).map_err(|e| failed(&e))?;
                let manifest = store.fetch(&results[0].manifest).map_err(|e| failed(&e))?;
                let repo_tags: Vec<String> = tags.to_vec();
                write_docker_archive(store.as_mut(), &manifest, &repo_tags, dest).map_err(|e| failed(&e))?;
            }
            Output::Registry => {
                if tags.is_empty() {
                    return Err(failed(&"type=registry needs a -t reference to push to"));
                }
                let reference = ImageRef::OciLayout { dir: assembled.clone(), selector: Selector::Tag(tag.clone()) };
                let mut store = open(&reference, registry).map_err(|e| failed(&e))?;
                let root: Document = store.top().map_err(|e| failed(&e))?;
                for destination in tags {
                    let destination =
                        RegistryRef::parse(destination.trim_start_matches("docker://")).map_err(|e| failed(&e))?;
                    push_image(store.as_mut(), &root, &destination, registry, &mut |_| {}).map_err(|e| failed(&e))?;
                }
            }
        }
    }
    Ok(())
}

/// The tag of a `-t` reference (`app:1` -> `1`, `app` -> `latest`).
fn tag_of(reference: &str) -> String {
    let name = reference.rsplit('/').next().unwrap_or(reference);
    match name.split_once(':') {
        Some((_, tag)) if !tag.is_empty() => tag.to_owned(),
        _ => "latest".to_owned(),
    }
}
