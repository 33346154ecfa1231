//! A stage's root directory, made when a step must run: the layers so far (the base
//! image's and the stage's own) applied in order from the blob store, exactly (owners,
//! modes, devices where allowed, extended attributes, times), into a fresh directory.
//! In a user namespace that maps a single id, owners are not kept (there is no other id).

use crate::builder::BuildError;
use archway_image::store::descriptor_digest;
use archway_image::tree::Tree;
use archway_image::write::BlobStore;
use archway_image::{layer, unpack, Verified};
use oci_spec::image::Descriptor;
use std::fs::File;
use std::path::Path;

/// Unpack `layers` (all in `blobs`) into the empty directory `dest`; the device nodes
/// the kernel refused (in a user namespace), for the progress output.
pub fn materialize(blobs: &BlobStore, layers: &[Descriptor], dest: &Path) -> Result<Vec<String>, BuildError> {
    let failed = |e: &dyn std::fmt::Display| BuildError::Root(dest.to_path_buf(), e.to_string());
    let open = |descriptor: &Descriptor| -> Result<_, BuildError> {
        let digest = descriptor_digest(descriptor).map_err(|e| failed(&e))?;
        let file = File::open(blobs.path(&digest)).map_err(|e| failed(&e))?;
        Ok((digest.clone(), Verified::new(file, digest, descriptor.size())))
    };
    let mut tree: Tree<()> = Tree::default();
    for (index, descriptor) in layers.iter().enumerate() {
        let (digest, reader) = open(descriptor)?;
        layer::apply(&mut tree, index, &digest, reader, &mut |_| Ok(())).map_err(|e| failed(&e))?;
    }
    unpack::check_destination(dest).map_err(|e| failed(&e))?;
    unpack::skeleton(&tree, dest).map_err(|e| failed(&e))?;
    for (index, descriptor) in layers.iter().enumerate() {
        let (digest, reader) = open(descriptor)?;
        unpack::layer_files(&tree, dest, index, &digest, reader).map_err(|e| failed(&e))?;
    }
    let skipped = unpack::attributes(&tree, dest, !single_id()).map_err(|e| failed(&e))?;
    Ok(skipped.devices)
}

/// Whether this process's user namespace maps one id only (a rootless build without
/// subordinate ids): owners other than that id cannot be kept.
fn single_id() -> bool {
    let Ok(map) = std::fs::read_to_string("/proc/self/uid_map") else { return false };
    let ids: u64 = map.lines().filter_map(|line| line.split_whitespace().nth(2)?.parse::<u64>().ok()).sum();
    ids == 1
}
