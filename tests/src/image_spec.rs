//! OCI image-spec validation for the tests: JSON documents against the image-spec
//! schemas in `tests/image-spec/` ([`validate`]), and whole image layout directories
//! ([`validate_layout`]).
//!
//! The schemas are draft-04 and are compiled by the `jsonschema` crate with every `$ref`
//! resolved offline ([`schemas`]); the checks image-spec's Go validator makes beyond the
//! schemas are in [`beyond_schemas`]. Docker schema-2 documents are validated as OCI ones
//! after [`rename_docker_media_types`], as image-spec's own compatibility tests do.

mod beyond_schemas;
mod layout;
mod schemas;

pub use layout::{validate_layout, LayoutReport};

use serde_json::Value;
use std::fmt;

/// The image-spec schemas, one per kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schema {
    /// The `oci-layout` file (`image-layout-schema.json`).
    Layout,
    /// An image index, such as `index.json` (`image-index-schema.json`).
    Index,
    /// An image manifest (`image-manifest-schema.json`).
    Manifest,
    /// An image configuration (`config-schema.json`).
    Config,
    /// A content descriptor (`content-descriptor.json`).
    Descriptor,
}

/// Validate `document` against `schema` and the checks beyond it: `Err` holds every
/// problem, each starting with the JSON pointer of where it is (`(root)` for the
/// document itself).
pub fn validate(schema: Schema, document: &Value) -> Result<(), Vec<String>> {
    let violations = violations(schema, document);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations.iter().map(Violation::to_string).collect())
    }
}

/// The Docker schema-2 media types and the OCI ones image-spec treats them as (the
/// `compatMap` of its `schema/manifest_backwards_compatibility_test.go`).
const DOCKER_TO_OCI_MEDIA_TYPES: [(&str, &str); 4] = [
    ("application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.index.v1+json"),
    ("application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"),
    ("application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.oci.image.layer.v1.tar+gzip"),
    ("application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"),
];

/// `text` with every Docker schema-2 media type replaced by its OCI counterpart: a
/// plain text replacement, like image-spec's `convertFormats`.
pub fn rename_docker_media_types(text: &str) -> String {
    DOCKER_TO_OCI_MEDIA_TYPES.iter().fold(text.to_owned(), |text, (docker, oci)| text.replace(docker, oci))
}

/// One problem in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    /// JSON pointer to the offending value.
    pointer: String,
    /// The schema keyword that failed (`minItems`), or the name of a check beyond the
    /// schemas (`digest encoding`).
    rule: String,
    message: String,
}

impl Violation {
    /// The manifest schema's `layers.minItems: 1`, which `manifest.md` only makes a
    /// SHOULD (and which `umoci new` does not meet).
    fn is_empty_layers(&self) -> bool {
        self.pointer == "/layers" && self.rule == "minItems"
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() { "(root)" } else { &self.pointer };
        write!(f, "{at}: {}", self.message)
    }
}

/// Every violation of `schema` and of the checks beyond it in `document`.
fn violations(schema: Schema, document: &Value) -> Vec<Violation> {
    let mut found = schemas::violations(schema, document);
    found.extend(beyond_schemas::violations(schema, document));
    found
}
