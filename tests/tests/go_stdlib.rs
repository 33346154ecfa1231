//! The Go standard library's own tests as a third-party check of the Linux personality
//! (issue 9): os, os/exec, os/signal, syscall, time and sync in full, net (loopback
//! only) and runtime in short mode, run natively and for arm64 under archway in one
//! run; every test that passes natively must pass under archway, except the ones
//! tests/third-party/go-stdlib-differences.txt lists with their reason.
//!
//! The test runs scripts/go-stdlib-tests.sh (which installs Go and documents every
//! step), so a failure is reproduced by the same command outside the harness; it needs
//! root only for the first installation, and runs in a private user and mount
//! namespace with archway registered in that namespace's own binfmt_misc.

use archway_tests::{run_with_limit, sibling_bin, workspace, Ending};
use std::process::Command;
use std::time::Duration;

#[test]
fn go_standard_library_tests_pass_under_archway_as_they_do_natively() {
    let limit = Duration::from_secs(1500);
    let mut cmd = Command::new("timeout");
    cmd.arg("-k").arg("10").arg(limit.as_secs().to_string());
    cmd.arg("bash").arg(workspace().join("scripts/go-stdlib-tests.sh"));
    cmd.env("ARCHWAY_AARCH64", sibling_bin("archway-aarch64")).env_remove("ARCHWAY_ENGINE").env_remove("ARCHWAY_LOG");
    let outcome = run_with_limit(&mut cmd, limit + Duration::from_secs(30));
    println!("{}", outcome.stdout_text());
    assert_eq!(
        outcome.ending,
        Ending::Exited(0),
        "scripts/go-stdlib-tests.sh failed\n--- stdout\n{}\n--- stderr\n{}",
        outcome.stdout_text(),
        outcome.stderr_text()
    );
    let verdict = outcome.stdout_text();
    assert!(verdict.contains(" 0 unexplained"), "{verdict}");
}
