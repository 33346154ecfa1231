//! Whole OCI image layout directories (`image-layout.md`): the `oci-layout` file and
//! `index.json` against their schemas, then every descriptor reachable from the index,
//! through nested indexes and manifests to configs and layers: the blob exists under
//! `blobs/<algorithm>/<encoded>`, has the descriptor's size and digest, and, if it is a
//! JSON document of a kind image-spec has a schema for, is valid as that kind.

use super::beyond_schemas::{descriptors, Algorithm, Digest};
use super::{violations, Schema};
use serde_json::Value;
use sha2::{Digest as _, Sha256, Sha512};
use std::collections::HashSet;
use std::path::Path;

/// What a valid layout holds, and what it does that the spec only advises against.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LayoutReport {
    /// Indexes reached, `index.json` included.
    pub indexes: usize,
    /// Image manifests reached.
    pub manifests: usize,
    /// Image configurations reached.
    pub configs: usize,
    /// Other blobs (layers, attestations) whose digest and size were checked.
    pub other_blobs: usize,
    /// SHOULD-level findings, such as a manifest without layers (`manifest.md` says
    /// layers SHOULD have at least one entry; the schema's `minItems: 1` is not applied).
    pub warnings: Vec<String>,
}

/// Validate the image layout at `dir`: `Err` holds every problem found, each naming the
/// file and JSON pointer it is about.
pub fn validate_layout(dir: &Path) -> Result<LayoutReport, Vec<String>> {
    let mut walk = Walk { dir, report: LayoutReport::default(), problems: Vec::new(), visited: HashSet::new() };
    walk.document_file("oci-layout", Schema::Layout);
    if let Some(index) = walk.document_file("index.json", Schema::Index) {
        walk.report.indexes += 1;
        walk.children("index.json", Schema::Index, &index);
    }
    if walk.problems.is_empty() {
        Ok(walk.report)
    } else {
        Err(walk.problems)
    }
}

/// The JSON media types image-spec has a schema for.
const DOCUMENT_MEDIA_TYPES: [(&str, Schema); 3] = [
    ("application/vnd.oci.image.index.v1+json", Schema::Index),
    ("application/vnd.oci.image.manifest.v1+json", Schema::Manifest),
    ("application/vnd.oci.image.config.v1+json", Schema::Config),
];

struct Walk<'a> {
    dir: &'a Path,
    report: LayoutReport,
    problems: Vec<String>,
    /// Blobs already checked (a config or layer shared by several manifests).
    visited: HashSet<String>,
}

impl Walk<'_> {
    /// Read, parse and validate the document at `name` (relative to the layout).
    fn document_file(&mut self, name: &str, schema: Schema) -> Option<Value> {
        let bytes = match std::fs::read(self.dir.join(name)) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.problems.push(format!("{name}: {e}"));
                return None;
            }
        };
        self.document(name, schema, &bytes)
    }

    /// Parse and validate `bytes` as a `schema` document called `name`.
    fn document(&mut self, name: &str, schema: Schema, bytes: &[u8]) -> Option<Value> {
        let document: Value = match serde_json::from_slice(bytes) {
            Ok(document) => document,
            Err(e) => {
                self.problems.push(format!("{name}: not JSON: {e}"));
                return None;
            }
        };
        for violation in violations(schema, &document) {
            if violation.is_empty_layers() {
                self.report.warnings.push(format!("{name}: a manifest without layers"));
            } else {
                self.problems.push(format!("{name}: {violation}"));
            }
        }
        Some(document)
    }

    /// Check every descriptor of `document` (called `name`) and what it points to.
    fn children(&mut self, name: &str, schema: Schema, document: &Value) {
        for (pointer, descriptor) in descriptors(schema, document) {
            if pointer == "/subject" {
                // A referrer's subject need not be in the same layout.
                continue;
            }
            self.descriptor(&format!("{name}{pointer}"), descriptor);
        }
    }

    /// Check the blob `descriptor` (at `place`) names, and descend into it.
    fn descriptor(&mut self, place: &str, descriptor: &Value) {
        let digest = descriptor.get("digest").and_then(Value::as_str).unwrap_or_default();
        let Digest::Registered { algorithm, encoded } = Digest::parse(digest) else {
            // The schema checks already reported a digest that is not a registered one.
            return;
        };
        if !self.visited.insert(digest.to_owned()) {
            return;
        }
        let path = format!("blobs/{}/{encoded}", algorithm.name());
        let bytes = match std::fs::read(self.dir.join(&path)) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.problems.push(format!("{place}: blob {path}: {e}"));
                return;
            }
        };
        let size = descriptor.get("size").and_then(Value::as_u64);
        if size != Some(bytes.len() as u64) {
            self.problems.push(format!("{place}: size {size:?}, but {path} has {} bytes", bytes.len()));
        }
        let actual = match algorithm {
            Algorithm::Sha256 => format!("{:x}", Sha256::digest(&bytes)),
            Algorithm::Sha512 => format!("{:x}", Sha512::digest(&bytes)),
        };
        if actual != encoded {
            self.problems.push(format!("{place}: {path} hashes to {}:{actual}", algorithm.name()));
        }
        let media_type = descriptor.get("mediaType").and_then(Value::as_str).unwrap_or_default();
        let Some(&(_, schema)) = DOCUMENT_MEDIA_TYPES.iter().find(|(known, _)| *known == media_type) else {
            self.report.other_blobs += 1;
            return;
        };
        let Some(document) = self.document(&path, schema, &bytes) else { return };
        match schema {
            Schema::Index => self.report.indexes += 1,
            Schema::Manifest => self.report.manifests += 1,
            _ => self.report.configs += 1,
        }
        self.children(&path, schema, &document);
    }
}
