//! A step's changes (from [`crate::diff`]) written as one layer blob: every changed path
//! with the directories above it (as other builders' layers carry them), deletions as
//! whiteouts; nothing when the step changed nothing.

use crate::builder::BuildError;
use crate::diff::Change;
use archway_image::write::{BlobStore, LayerBlob, LayerOptions, LayerWriter};
use std::collections::BTreeSet;
use std::path::Path;

/// Write `changes` of the tree at `root` as a layer, or `None` for no changes.
pub fn write_layer(
    root: &Path,
    changes: &[Change],
    blobs: &BlobStore,
    options: &LayerOptions,
) -> Result<Option<LayerBlob>, BuildError> {
    if changes.is_empty() {
        return Ok(None);
    }
    let failed = |e: &dyn std::fmt::Display| BuildError::Layer(e.to_string());
    let mut upserts = BTreeSet::new();
    let mut deletes = Vec::new();
    for change in changes {
        match change {
            Change::Upsert(path) => {
                let mut parent = path.as_str();
                while let Some((above, _)) = parent.rsplit_once('/') {
                    upserts.insert(above.to_owned());
                    parent = above;
                }
                upserts.insert(path.clone());
            }
            Change::Delete(path) => deletes.push(path.clone()),
        }
    }
    let mut writer = LayerWriter::new(blobs, options.clone());
    for path in &upserts {
        writer.add_path(root, Path::new(path)).map_err(|e| failed(&e))?;
    }
    for path in &deletes {
        writer.add_whiteout(Path::new(path)).map_err(|e| failed(&e))?;
    }
    writer.finish().map(Some).map_err(|e| failed(&e))
}
