//! Every case of containerd's platform tests (tests/data/containerd-platform-cases.json):
//! parse then format, invalid specifiers, and normalisation, against [`Platform`].

use archway_arch::Platform;
use serde_json::Value;

fn cases() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/containerd-platform-cases.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the case file")).expect("JSON")
}

fn list<'a>(cases: &'a Value, key: &str) -> &'a Vec<Value> {
    cases[key].as_array().unwrap_or_else(|| panic!("{key} is a list"))
}

#[test]
fn parse_then_format_as_containerd() {
    let cases = cases();
    let pairs = list(&cases, "parse_then_format");
    assert_eq!(pairs.len(), 21);
    for pair in pairs {
        let (input, expected) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        // The cases were made on an amd64 host (tests/data/README.md): an OS alone takes
        // the host's architecture.
        let expected = match input {
            "linux" | "macOS" => expected.replace("amd64", &Platform::host().architecture),
            _ => expected.to_string(),
        };
        let parsed = Platform::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(parsed.to_string(), expected, "Format(Parse({input:?}))");
    }
}

#[test]
fn invalid_specifiers_are_refused() {
    let cases = cases();
    let invalid = list(&cases, "parse_invalid");
    assert_eq!(invalid.len(), 9);
    for input in invalid {
        let input = input.as_str().unwrap();
        assert!(Platform::parse(input).is_err(), "{input:?} must not parse");
    }
}

#[test]
fn normalize_as_containerd() {
    let cases = cases();
    let pairs = list(&cases, "normalize");
    assert_eq!(pairs.len(), 7);
    for pair in pairs {
        let field = |v: &Value, k: &str| v[k].as_str().unwrap().to_string();
        let input = Platform {
            os: "linux".into(),
            architecture: field(&pair[0], "architecture"),
            variant: field(&pair[0], "variant"),
        };
        let normal = input.normalize();
        assert_eq!(
            (normal.architecture.as_str(), normal.variant.as_str()),
            (field(&pair[1], "architecture").as_str(), field(&pair[1], "variant").as_str()),
            "Normalize({input:?})"
        );
    }
}
