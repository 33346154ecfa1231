//! The image-spec schemas, compiled once, with every `$ref` resolved offline.
//!
//! The schema files are built into the test library. Their `$ref`s are relative
//! (`content-descriptor.json`, `defs-descriptor.json#/definitions/digest`) and resolve
//! against the schemas' `id`s to URLs such as
//! `https://opencontainers.org/schema/image/content-descriptor.json` or
//! `https://opencontainers.org/schema/defs.json` (the aliases image-spec's Go validator
//! registers). [`LocalSchemas`] answers every such URL with the schema file of the same
//! basename and refuses anything else, so nothing is ever fetched from the network.

use super::{Schema, Violation};
use jsonschema::{Draft, Retrieve, Uri, Validator};
use serde_json::Value;
use std::sync::LazyLock;

/// The schema files of `tests/image-spec/`, by basename.
const SCHEMA_FILES: [(&str, &str); 7] = [
    ("image-layout-schema.json", include_str!("../../image-spec/image-layout-schema.json")),
    ("image-index-schema.json", include_str!("../../image-spec/image-index-schema.json")),
    ("image-manifest-schema.json", include_str!("../../image-spec/image-manifest-schema.json")),
    ("config-schema.json", include_str!("../../image-spec/config-schema.json")),
    ("content-descriptor.json", include_str!("../../image-spec/content-descriptor.json")),
    ("defs-descriptor.json", include_str!("../../image-spec/defs-descriptor.json")),
    ("defs.json", include_str!("../../image-spec/defs.json")),
];

/// The file holding the root of `schema`.
fn root_file(schema: Schema) -> &'static str {
    match schema {
        Schema::Layout => "image-layout-schema.json",
        Schema::Index => "image-index-schema.json",
        Schema::Manifest => "image-manifest-schema.json",
        Schema::Config => "config-schema.json",
        Schema::Descriptor => "content-descriptor.json",
    }
}

/// The parsed schema file named `basename`.
fn schema_file(basename: &str) -> Result<Value, String> {
    let (_, text) = SCHEMA_FILES
        .iter()
        .find(|(name, _)| *name == basename)
        .ok_or_else(|| format!("no schema file named {basename:?} in tests/image-spec"))?;
    serde_json::from_str(text).map_err(|e| format!("tests/image-spec/{basename}: {e}"))
}

/// Resolves a schema URL to the local schema file with the same basename.
struct LocalSchemas;

impl Retrieve for LocalSchemas {
    fn retrieve(&self, uri: &Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let path = uri.path().as_str();
        let basename = path.rsplit('/').next().unwrap_or(path);
        Ok(schema_file(basename).map_err(|e| format!("{uri}: {e}"))?)
    }
}

/// Compile `schema` as draft-04, asserting `format`s (`uri` and `date-time` are used).
fn compile(schema: Schema) -> Result<Validator, String> {
    let root = schema_file(root_file(schema))?;
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(true)
        .with_retriever(LocalSchemas)
        .build(&root)
        .map_err(|e| format!("{} does not compile: {e}", root_file(schema)))
}

/// `schema`, compiled on first use.
fn compiled(schema: Schema) -> &'static Result<Validator, String> {
    type Compiled = LazyLock<Result<Validator, String>>;
    static LAYOUT: Compiled = LazyLock::new(|| compile(Schema::Layout));
    static INDEX: Compiled = LazyLock::new(|| compile(Schema::Index));
    static MANIFEST: Compiled = LazyLock::new(|| compile(Schema::Manifest));
    static CONFIG: Compiled = LazyLock::new(|| compile(Schema::Config));
    static DESCRIPTOR: Compiled = LazyLock::new(|| compile(Schema::Descriptor));
    match schema {
        Schema::Layout => &LAYOUT,
        Schema::Index => &INDEX,
        Schema::Manifest => &MANIFEST,
        Schema::Config => &CONFIG,
        Schema::Descriptor => &DESCRIPTOR,
    }
}

/// Every violation of `schema` in `document` (one, at the root, if the schema itself
/// does not compile).
pub(super) fn violations(schema: Schema, document: &Value) -> Vec<Violation> {
    match compiled(schema) {
        Ok(validator) => validator
            .iter_errors(document)
            .map(|error| Violation {
                pointer: error.instance_path().as_str().to_owned(),
                rule: error.kind().keyword().to_owned(),
                message: error.to_string(),
            })
            .collect(),
        Err(message) => {
            vec![Violation { pointer: String::new(), rule: "schema".to_owned(), message: message.clone() }]
        }
    }
}
