//! Bad programs given to `archway run` get a one-line error and a non-zero status,
//! never a panic: truncated ELF, another machine's ELF, a directory, a missing path,
//! an empty file, a text file.

use archway_tests::{archway_bin, run_with_limit, Ending};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn check_rejected(path: &Path, expect_in_message: &str) {
    let out = run_with_limit(Command::new(archway_bin()).arg("run").arg(path), Duration::from_secs(20));
    let stderr = out.stderr_text();
    match out.ending {
        Ending::Exited(code) => assert_ne!(code, 0, "{} must fail; stderr: {stderr}", path.display()),
        other => panic!("{} must fail with a status, got {other:?}; stderr: {stderr}", path.display()),
    }
    assert_eq!(stderr.trim_end().lines().count(), 1, "one-line error expected, got:\n{stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert!(
        stderr.to_lowercase().contains(expect_in_message),
        "error for {} should mention '{expect_in_message}': {stderr}",
        path.display()
    );
}

fn scratch() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("archway-cli-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn missing_path() {
    check_rejected(Path::new("/nonexistent/archway/prog"), "no such file");
}

#[test]
fn directory() {
    check_rejected(&std::env::temp_dir(), "directory");
}

#[test]
fn empty_file() {
    let p = scratch().join("empty");
    std::fs::write(&p, b"").unwrap();
    check_rejected(&p, "empty");
}

#[test]
fn not_an_elf() {
    let p = scratch().join("text");
    std::fs::write(&p, b"hello, I am not a program\n").unwrap();
    check_rejected(&p, "not an elf");
}

#[test]
fn elf_for_another_machine() {
    // The host's own /bin/true is an x86_64 ELF.
    check_rejected(Path::new("/bin/true"), "x86");
}

#[test]
fn truncated_elf() {
    let hello = archway_tests::workspace().join("fixtures/bin/hello");
    let bytes = std::fs::read(&hello).expect("fixtures/bin/hello");
    for len in [10, 64, 100, 4096, bytes.len() / 2] {
        let p = scratch().join(format!("truncated-{len}"));
        std::fs::write(&p, &bytes[..len]).unwrap();
        check_rejected(&p, "truncated");
    }
}
