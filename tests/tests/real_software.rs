//! Real aarch64 software nobody here wrote runs under archway (issue 3's acceptance):
//! a Go program (goroutines, channels, asynchronous preemption, GC, os/exec, HTTP on
//! 127.0.0.1) 20 runs in a row; Debian's arm64 LuaJIT compiling hot loops (`-jv`); a Rust
//! crate's own `cargo test` for aarch64 with archway as the runner; and a Debian bookworm
//! arm64 root: debootstrap's second stage in a chroot with archway as the only aarch64
//! handler, then ldconfig, dpkg, bash, perl, coreutils and `apt-get install python3-minimal`
//! inside it, Python cases of issue 9, and Python's own regression tests for 39 modules,
//! which must pass under archway wherever they pass natively.
//!
//! Each test runs one check of scripts/real-software.sh (which installs its tools with
//! scripts/install-real-software.sh and documents every step), so a failure is reproduced
//! by the same command outside the test harness. The debootstrap test needs root and
//! network access to Debian's mirror, and the static interpreter: `$ARCHWAY_STATIC_BIN`
//! (scripts/test.sh builds it with scripts/build-static.sh) or built here.

use archway_tests::{run_with_limit, sibling_bin, workspace, Ending};
use std::process::Command;
use std::time::Duration;

/// Run `scripts/real-software.sh CHECK` with the interpreter under test; its output is
/// shown when it fails.
fn real_software(check: &str, limit: Duration) {
    let mut cmd = Command::new("timeout");
    cmd.arg("-k").arg("10").arg(limit.as_secs().to_string());
    cmd.arg("bash").arg(workspace().join("scripts/real-software.sh")).arg(check);
    cmd.env("ARCHWAY_AARCH64", sibling_bin("archway-aarch64")).env_remove("ARCHWAY_ENGINE").env_remove("ARCHWAY_LOG");
    let outcome = run_with_limit(&mut cmd, limit + Duration::from_secs(30));
    assert_eq!(
        outcome.ending,
        Ending::Exited(0),
        "scripts/real-software.sh {check} failed\n--- stdout\n{}\n--- stderr\n{}",
        outcome.stdout_text(),
        outcome.stderr_text()
    );
}

#[test]
fn go_program_passes_twenty_runs_in_a_row() {
    real_software("go", Duration::from_secs(900));
}

#[test]
fn luajit_compiles_hot_loops_and_gets_them_right() {
    real_software("luajit", Duration::from_secs(300));
}

#[test]
fn rust_crate_passes_its_own_cargo_test_under_archway() {
    real_software("rust", Duration::from_secs(900));
}

#[test]
fn debootstrap_second_stage_then_everyday_tools_in_the_root() {
    real_software("debootstrap", Duration::from_secs(1800));
}
