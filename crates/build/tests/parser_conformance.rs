//! BuildKit's own parser test data (`tests/buildkit`, copied from moby/buildkit with its
//! license): the 33 Dockerfiles whose AST dump must equal BuildKit's `result`, the 4 it
//! rejects, the line numbers of `testfile-line`, and the heredoc cases of
//! `parser_heredoc_test.go`.

use archway_build::dockerfile::{parse, parse_bytes, parse_heredoc_word, Heredoc};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/buildkit").join(path)
}

fn cases(dir: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(data(dir)).unwrap().map(|entry| entry.unwrap().path()).collect();
    cases.sort();
    cases
}

#[test]
fn every_testfile_dumps_as_buildkit_dumps_it() {
    let mut wrong = Vec::new();
    let cases = cases("testfiles");
    for case in &cases {
        let dockerfile = std::fs::read(case.join("Dockerfile")).unwrap();
        let expected = std::fs::read_to_string(case.join("result")).unwrap();
        match parse_bytes(&dockerfile) {
            Ok(parsed) if parsed.dump() == expected => {}
            Ok(parsed) => wrong.push(format!("{}:\n--- got\n{}--- want\n{expected}", case.display(), parsed.dump())),
            Err(e) => wrong.push(format!("{}: {e}", case.display())),
        }
    }
    println!("{} of {} testfiles dump as BuildKit's", cases.len() - wrong.len(), cases.len());
    assert_eq!(cases.len(), 33);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_negative_testfiles_fail_with_their_line() {
    let expected = [
        ("empty_dockerfile", 1, "file with no instructions"),
        ("env_no_value", 3, "ENV must have two arguments"),
        ("only_comments", 3, "file with no instructions"),
        ("shykes-nested-json", 1, "when using JSON array syntax, arrays must be comprised of strings only"),
    ];
    let cases = cases("testfiles-negative");
    assert_eq!(cases.len(), expected.len());
    for (case, (name, line, message)) in cases.iter().zip(expected) {
        assert!(case.ends_with(name), "{}", case.display());
        let error = parse_bytes(&std::fs::read(case.join("Dockerfile")).unwrap()).unwrap_err();
        assert_eq!((error.line, error.message.as_str()), (line, message), "{name}");
        assert_eq!(error.located("Dockerfile"), format!("Dockerfile:{line}: {message}"));
    }
}

#[test]
fn instructions_know_their_lines() {
    let parsed = parse_bytes(&std::fs::read(data("testfile-line/Dockerfile")).unwrap()).unwrap();
    let lines: Vec<(usize, usize)> = parsed.instructions.iter().map(|i| i.lines).collect();
    assert_eq!(lines, [(5, 5), (11, 12), (17, 31)]);
}

#[test]
fn heredocs_as_buildkit_extracts_them() {
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(data("heredoc_cases.json")).unwrap()).unwrap();
    let parsed = parse(cases["dockerfile"].as_str().unwrap()).unwrap();
    let expected = cases["instructions"].as_array().unwrap();
    assert_eq!(parsed.instructions.len(), expected.len() + 1, "FROM, then one per case");
    for (instruction, case) in parsed.instructions[1..].iter().zip(expected) {
        let want = case["heredocs"].as_array().unwrap();
        assert_eq!(instruction.heredocs.len(), want.len(), "{}", case["instruction"]);
        for (got, want) in instruction.heredocs.iter().zip(want) {
            let context = format!("{}: {got:?}", case["instruction"]);
            assert_eq!(got.name, want["name"].as_str().unwrap(), "{context}");
            assert_eq!(got.content, want["content"].as_str().unwrap(), "{context}");
            assert_eq!(got.expand, want["expand"].as_bool().unwrap(), "{context}");
            assert_eq!(got.descriptor, want.get("fd").and_then(Value::as_u64).unwrap_or(0), "{context}");
            assert_eq!(got.chomp, want.get("chomp").and_then(Value::as_bool).unwrap_or(false), "{context}");
            if let Some(effective) = want.get("effective_content").and_then(Value::as_str) {
                assert_eq!(got.effective_content(), effective, "{context}");
            }
        }
    }
    for json_form in cases["json_form_has_none"].as_array().unwrap() {
        let parsed = parse(&format!("FROM x\n{}\n", json_form.as_str().unwrap())).unwrap();
        assert!(parsed.instructions[1].heredocs.is_empty(), "{json_form}");
    }
    let words = &cases["parse_heredoc_word"];
    for word in words["valid_all_named_EOF"].as_array().unwrap() {
        let heredoc = parse_heredoc_word(word.as_str().unwrap()).unwrap().unwrap();
        assert_eq!(heredoc.name, "EOF", "{word}");
    }
    for word in words["invalid_error"].as_array().unwrap() {
        assert!(parse_heredoc_word(word.as_str().unwrap()).is_err(), "{word}");
    }
    for word in words["not_heredoc"].as_array().unwrap() {
        assert_eq!(parse_heredoc_word(word.as_str().unwrap()), Ok(None), "{word}");
    }
    let chomp = &cases["chomp_example"];
    let heredoc = Heredoc {
        name: "EOF".into(),
        descriptor: 0,
        expand: true,
        chomp: true,
        content: chomp["in"].as_str().unwrap().into(),
    };
    assert_eq!(heredoc.effective_content(), chomp["out"].as_str().unwrap());
}

#[test]
fn truncated_and_hostile_dockerfiles_are_errors_or_parses_never_panics() {
    let mut inputs: Vec<Vec<u8>> = cases("testfiles")
        .iter()
        .chain(&cases("testfiles-negative"))
        .map(|case| std::fs::read(case.join("Dockerfile")).unwrap())
        .collect();
    inputs.push(cases_text().into_bytes());
    inputs.extend(
        [
            "RUN <<",
            "RUN <<'",
            "RUN <<\"EOF",
            "RUN 99999999999999999999999<<EOF\nEOF\n",
            "ONBUILD",
            "ONBUILD ONBUILD RUN <<A\nA\n",
            "HEALTHCHECK \u{a0}CMD x",
            "# escape=\nFROM x",
            "\u{feff}FROM x",
            "\\",
            "FROM x\n\\\n",
            "CMD [\"\\ud800\"]",
            "COPY --chown=\u{e9}\u{e9} a b",
            "ENV a=\"",
            "LABEL \"",
            "ARG \\",
            "FROM x\r\nRUN a\\\r\n b\r\n",
        ]
        .map(|s| s.as_bytes().to_vec()),
    );
    inputs.push(vec![b'F', b'R', b'O', b'M', b' ', 0xff, b'\n']);
    for input in &inputs {
        for end in 0..=input.len() {
            let _ = parse_bytes(&input[..end]);
        }
    }
}

fn cases_text() -> String {
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(data("heredoc_cases.json")).unwrap()).unwrap();
    cases["dockerfile"].as_str().unwrap().to_owned()
}
