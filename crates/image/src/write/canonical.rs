//! The JSON archway writes for documents that get digested (configs, manifests,
//! indexes) and for the layout and archive files beside them: serde_json's compact
//! output with the keys of every object sorted (bytewise, as Go sorts map keys), so the
//! same value always gives the same bytes, whatever map types it was built from
//! (oci-spec keeps annotations and labels in `HashMap`s, whose order changes from run
//! to run) and whichever serde_json features the build unified.

use serde::Serialize;
use serde_json::Value;

/// `value` as canonical JSON bytes.
pub fn to_canonical_json(value: &impl Serialize) -> Result<Vec<u8>, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    let mut out = Vec::new();
    write_value(&mut out, &value)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), serde_json::Error> {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key)?;
                out.push(b':');
                write_value(out, item)?;
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn keys_are_sorted_at_every_level_and_output_is_compact() {
        let labels: HashMap<&str, &str> = (0..20).map(|i| (["b", "a", "c", "é", "Z"][i % 5], "v")).collect();
        let value = serde_json::json!({"z": [ {"y": 1, "x": "\"q\""} ], "a": labels, "m": null});
        let bytes = to_canonical_json(&value).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"a":{"Z":"v","a":"v","b":"v","c":"v","é":"v"},"m":null,"z":[{"x":"\"q\"","y":1}]}"#
        );
    }
}
