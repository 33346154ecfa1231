//! Debian's busybox-static for arm64 runs under archway and gives the same bytes as
//! the amd64 busybox on a generated multi-megabyte file: sha256sum, md5sum, gzip and
//! gunzip, bzip2 and bunzip2, sort, awk, sed, wc.
//!
//! scripts/fetch-busybox.sh (run by scripts/test.sh) downloads both packages into
//! .cache/busybox/{arm64,amd64}/bin/busybox.

use archway_tests::{archway_bin, run_with_input, workspace, Ending, Outcome};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

fn busybox(arch: &str) -> PathBuf {
    let p = workspace().join(".cache/busybox").join(arch).join("bin/busybox");
    assert!(p.is_file(), "{} missing: run scripts/fetch-busybox.sh", p.display());
    p
}

/// A deterministic ~4 MiB text file of words and numbers, made once per test run.
fn input_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("archway-busybox-input-{}.txt", std::process::id()));
        let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut text = String::with_capacity(4 << 20);
        while text.len() < 4 << 20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let w = words[(x % 10) as usize];
            text.push_str(&format!("{w} {} {:x} {}\n", x % 1000, x >> 40, words[((x >> 8) % 10) as usize]));
        }
        std::fs::write(&path, text).expect("write input");
        path
    })
}

fn run(arch: &str, args: &[&str], stdin: &Path) -> Outcome {
    let mut cmd = if arch == "arm64" {
        let mut c = Command::new(archway_bin());
        c.arg("run").arg(busybox("arm64"));
        c
    } else {
        Command::new(busybox("amd64"))
    };
    cmd.args(args).env_remove("ARCHWAY_ENGINE");
    run_with_input(&mut cmd, Some(stdin), Duration::from_secs(300))
}

/// The applet gives identical stdout and exit status on both architectures.
fn same_as_amd64(args: &[&str]) -> Vec<u8> {
    let native = run("amd64", args, input_file());
    let guest = run("arm64", args, input_file());
    assert_eq!(native.ending, Ending::Exited(0), "amd64 busybox {args:?}: {}", native.stderr_text());
    assert_eq!(guest.ending, native.ending, "arm64 busybox {args:?} under archway: {}", guest.stderr_text());
    assert!(guest.stdout == native.stdout, "arm64 busybox {args:?}: output differs from amd64 busybox");
    guest.stdout
}

#[test]
fn sha256sum() {
    same_as_amd64(&["sha256sum"]);
}

#[test]
fn md5sum() {
    same_as_amd64(&["md5sum"]);
}

#[test]
fn gzip_round_trip() {
    let compressed = same_as_amd64(&["gzip", "-c", "-6"]);
    let gz = std::env::temp_dir().join(format!("archway-busybox-{}.gz", std::process::id()));
    std::fs::write(&gz, &compressed).unwrap();
    let back = run("arm64", &["gzip", "-dc"], &gz);
    let _ = std::fs::remove_file(&gz);
    assert_eq!(back.ending, Ending::Exited(0), "{}", back.stderr_text());
    assert!(back.stdout == std::fs::read(input_file()).unwrap(), "gzip -dc did not give the input back");
}

#[test]
fn bzip2_round_trip() {
    let compressed = same_as_amd64(&["bzip2", "-c"]);
    let bz = std::env::temp_dir().join(format!("archway-busybox-{}.bz2", std::process::id()));
    std::fs::write(&bz, &compressed).unwrap();
    let back = run("arm64", &["bzip2", "-dc"], &bz);
    let _ = std::fs::remove_file(&bz);
    assert_eq!(back.ending, Ending::Exited(0), "{}", back.stderr_text());
    assert!(back.stdout == std::fs::read(input_file()).unwrap(), "bzip2 -dc did not give the input back");
}

#[test]
fn sort() {
    same_as_amd64(&["sort"]);
    same_as_amd64(&["sort", "-n", "-k", "2"]);
}

#[test]
fn awk() {
    same_as_amd64(&["awk", "{ n[$1] += $2; t += $2 } END { for (k in n) print k, n[k]; print t, NR }"]);
}

#[test]
fn sed() {
    same_as_amd64(&["sed", "-e", "s/a\\(l\\|e\\)/<&>/g", "-e", "/theta/d"]);
}

#[test]
fn wc() {
    same_as_amd64(&["wc"]);
}
