//! The OCI image-spec test vectors (`tests/image-spec/cases`, transcribed from
//! image-spec's `schema/*_test.go`) against the tests' validator: every document the
//! spec's own tests accept is accepted, every one they reject is rejected. Docker
//! schema-2 documents (`compat`) are renamed to OCI media types first, as image-spec's
//! backwards-compatibility test does; before that they must hash to the digest stored
//! with them.

use archway_tests::image_spec::{rename_docker_media_types, validate, Schema};
use archway_tests::workspace;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The schema each case file's `field` names.
fn schema_named(field: &str) -> Schema {
    match field {
        "imageLayout" => Schema::Layout,
        "imageIndex" => Schema::Index,
        "manifest" => Schema::Manifest,
        "config" => Schema::Config,
        "descriptor" => Schema::Descriptor,
        other => panic!("a case for an unknown schema field {other:?}"),
    }
}

/// Whether `text` passes as a `schema` document: it parses, and validates.
fn accepted(schema: Schema, text: &str) -> Result<(), String> {
    let document: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    validate(schema, &document).map_err(|problems| problems.join("; "))
}

#[test]
fn image_spec_test_vectors_are_judged_as_image_spec_judges_them() {
    let cases_dir = workspace().join("tests/image-spec/cases");
    let mut judged = 0;
    let mut wrong = Vec::new();
    for file in ["manifest", "index", "config", "descriptor", "layout", "compat"] {
        let path = cases_dir.join(format!("{file}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let cases: Vec<Value> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (number, case) in cases.iter().enumerate() {
            let field = case["field"].as_str().expect("every case names its schema");
            let mut document = case["document"].as_str().expect("every case has a document").to_owned();
            if file == "compat" {
                if let Some(digest) = case.get("digest").and_then(Value::as_str) {
                    let actual = format!("sha256:{:x}", Sha256::digest(document.as_bytes()));
                    if actual != digest {
                        wrong.push(format!("{file} #{number}: the document hashes to {actual}, not {digest}"));
                    }
                }
                document = rename_docker_media_types(&document);
            }
            let should_fail = case["fail"].as_bool().expect("every case says whether it fails");
            let verdict = accepted(schema_named(field), &document);
            if verdict.is_err() != should_fail {
                wrong.push(format!(
                    "{file} #{number} ({}): expected {}, got {verdict:?}",
                    case["comment"].as_str().unwrap_or_default(),
                    if should_fail { "a rejection" } else { "acceptance" },
                ));
            }
            judged += 1;
        }
    }
    println!("{judged} image-spec vectors judged, {} wrongly", wrong.len());
    assert_eq!(judged, 71, "tests/image-spec/README.md counts 71 vectors");
    assert!(wrong.is_empty(), "vectors judged differently from image-spec:\n{}", wrong.join("\n"));
}
