//! `archway build --print-ast` against BuildKit's parser test data (the copy in
//! crates/build/tests/buildkit): the command prints BuildKit's AST dump of each of the
//! 33 testfiles, rejects the 4 negative ones with `FILE:LINE: message` and exit 1, and
//! a build without a context says so with exit 2.

use archway_tests::{archway_bin, workspace};
use std::process::Command;

#[test]
fn print_ast_prints_buildkits_dump_for_every_testfile() {
    let dir = workspace().join("crates/build/tests/buildkit/testfiles");
    let mut cases: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    let mut wrong = Vec::new();
    for case in &cases {
        let out =
            Command::new(archway_bin()).arg("build").arg("--print-ast").arg(case.join("Dockerfile")).output().unwrap();
        let expected = std::fs::read_to_string(case.join("result")).unwrap();
        if !out.status.success() || String::from_utf8_lossy(&out.stdout) != expected {
            wrong.push(format!("{}: {} {}", case.display(), out.status, String::from_utf8_lossy(&out.stderr)));
        }
    }
    assert_eq!(cases.len(), 33);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let case = workspace().join("crates/build/tests/buildkit/testfiles-negative/env_no_value/Dockerfile");
    let out = Command::new(archway_bin()).arg("build").arg("--print-ast").arg(&case).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("archway build: {}:3: ENV must have two arguments\n", case.display())
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_build_without_a_context_says_what_is_missing() {
    let out = Command::new(archway_bin()).arg("build").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a build context is needed"));
}
