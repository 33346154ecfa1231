//! What image-spec's Go validator (`schema/validator.go`) rejects beyond the JSON
//! schemas:
//! - a digest whose encoding does not fit its registered algorithm (`descriptor.md`:
//!   sha256 is 64 lowercase hex digits, sha512 128). Other algorithms are left alone, as
//!   the Go validator ignores the ones it does not support. It checks a descriptor
//!   document's own digest; the rule is the spec's for every descriptor, so this checks
//!   every descriptor of a document.
//! - a config `Env` entry not matching `^[^=]+=.*$`.
//! - a descriptor `data` that is not padded standard base64: Go fails to decode it into
//!   bytes while unmarshalling, whereas draft-04 ignores the schema's
//!   `media.binaryEncoding` hint.

use super::{Schema, Violation};
use serde_json::Value;

/// Every violation of the checks beyond the schemas in `document`, read as `schema`.
pub(super) fn violations(schema: Schema, document: &Value) -> Vec<Violation> {
    let mut found = Vec::new();
    for (pointer, descriptor) in descriptors(schema, document) {
        found.extend(digest_violation(&pointer, descriptor));
        found.extend(data_violation(&pointer, descriptor));
    }
    if schema == Schema::Config {
        found.extend(env_violations(document));
    }
    found
}

/// The descriptors of `document` (values at descriptor positions, whatever their shape)
/// with their JSON pointers.
pub(super) fn descriptors(schema: Schema, document: &Value) -> Vec<(String, &Value)> {
    let (single_fields, list_field) = match schema {
        Schema::Descriptor => return vec![(String::new(), document)],
        Schema::Manifest => (&["config", "subject"][..], "layers"),
        Schema::Index => (&["subject"][..], "manifests"),
        Schema::Config | Schema::Layout => return Vec::new(),
    };
    let singles = single_fields.iter().filter_map(|field| Some((format!("/{field}"), document.get(field)?)));
    let listed = document.get(list_field).and_then(Value::as_array).into_iter().flatten();
    singles.chain(listed.enumerate().map(|(i, descriptor)| (format!("/{list_field}/{i}"), descriptor))).collect()
}

/// A digest algorithm `descriptor.md` registers, with the encoding it fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The name digests and `blobs/` directories use.
    pub(super) fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_digits(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A digest string, as far as its algorithm is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Digest<'a> {
    /// A registered algorithm and its well-formed encoded part.
    Registered { algorithm: Algorithm, encoded: &'a str },
    /// A registered algorithm with an encoded part of the wrong form.
    Misencoded(Algorithm),
    /// Any other algorithm, or no `algorithm:encoded` at all.
    Unregistered,
}

impl<'a> Digest<'a> {
    pub(super) fn parse(digest: &'a str) -> Digest<'a> {
        let Some((name, encoded)) = digest.split_once(':') else { return Digest::Unregistered };
        let Some(algorithm) = [Algorithm::Sha256, Algorithm::Sha512].into_iter().find(|a| a.name() == name) else {
            return Digest::Unregistered;
        };
        let lower_hex = encoded.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if lower_hex && encoded.len() == algorithm.hex_digits() {
            Digest::Registered { algorithm, encoded }
        } else {
            Digest::Misencoded(algorithm)
        }
    }
}

fn digest_violation(pointer: &str, descriptor: &Value) -> Option<Violation> {
    let digest = descriptor.get("digest")?.as_str()?;
    let Digest::Misencoded(algorithm) = Digest::parse(digest) else { return None };
    Some(Violation {
        pointer: format!("{pointer}/digest"),
        rule: "digest encoding".to_owned(),
        message: format!(
            "{digest:?}: {} digests are {} lowercase hex digits",
            algorithm.name(),
            algorithm.hex_digits()
        ),
    })
}

fn data_violation(pointer: &str, descriptor: &Value) -> Option<Violation> {
    let data = descriptor.get("data")?.as_str()?;
    (!is_padded_base64(data)).then(|| Violation {
        pointer: format!("{pointer}/data"),
        rule: "base64".to_owned(),
        message: format!("{data:?} is not padded standard base64"),
    })
}

/// Whether Go's `base64.StdEncoding` decodes `text`: symbols of the standard alphabet in
/// whole groups of four, the last one padded with at most two `=`; line breaks skipped.
fn is_padded_base64(text: &str) -> bool {
    let symbols: Vec<u8> = text.bytes().filter(|b| !matches!(b, b'\r' | b'\n')).collect();
    let unpadded = symbols.strip_suffix(b"==").or_else(|| symbols.strip_suffix(b"=")).unwrap_or(&symbols);
    symbols.len().is_multiple_of(4) && unpadded.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
}

fn env_violations(config: &Value) -> Vec<Violation> {
    let entries = config.pointer("/config/Env").and_then(Value::as_array).into_iter().flatten();
    entries
        .enumerate()
        .filter_map(|(i, entry)| {
            let entry = entry.as_str()?;
            (!is_env_entry(entry)).then(|| Violation {
                pointer: format!("/config/Env/{i}"),
                rule: "Env entry".to_owned(),
                message: format!("{entry:?} is not NAME=VALUE"),
            })
        })
        .collect()
}

/// Whether `entry` matches `^[^=]+=.*$` as Go's regexp does: a name before the first
/// `=`, and no line break after it (`.` does not match one).
fn is_env_entry(entry: &str) -> bool {
    matches!(entry.split_once('='), Some((name, value)) if !name.is_empty() && !value.contains('\n'))
}
