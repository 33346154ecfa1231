//! Every fixture program gives byte-identical stdout and the same ending (exit status
//! or signal) under `archway run` (JIT), `archway run --engine interp` and
//! qemu-aarch64-static (with a binfmt_misc of its own for the programs that execute
//! aarch64 programs), and matches the expected output in fixtures/expected/.
//!
//! And on an emulated arm64 host: archway built for arm64 hosts (its interpreter
//! engine, its aarch64 host personality) runs every fixture under qemu-aarch64-static
//! and under archway itself (x86_64 `archway run` running the arm64 `archway-aarch64`,
//! which runs the fixture).

use archway_tests::fixtures::{load, Fixture};
use archway_tests::qemu_binfmt::QemuWithBinfmt;
use archway_tests::{archway_bin, arm64_host_bin, run_with_limit, Outcome};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// How to start a guest program.
#[derive(Clone, Copy, Debug)]
enum Runner {
    Jit,
    Interp,
    Qemu,
    /// The arm64 build of archway-aarch64, under qemu-aarch64-static.
    Arm64HostOnQemu,
    /// The arm64 build of archway-aarch64, under x86_64 `archway run`.
    Arm64HostOnArchway,
}

impl Runner {
    /// Whether qemu-user runs the fixture program itself or the archway that runs it
    /// (then the `no-qemu` fixtures' outputs are qemu's, not the kernel's).
    fn under_qemu(self) -> bool {
        matches!(self, Runner::Qemu | Runner::Arm64HostOnQemu)
    }

    /// How long one fixture may take. On the emulated arm64 host the fixtures run in
    /// archway's interpreter, itself emulated: `strings` takes about 15 s in the
    /// interpreter on this host, 80 s under archway and 190 s under qemu.
    fn time_limit(self) -> Duration {
        match self {
            Runner::Jit | Runner::Interp | Runner::Qemu => Duration::from_secs(120),
            Runner::Arm64HostOnQemu | Runner::Arm64HostOnArchway => Duration::from_secs(600),
        }
    }
}

fn run_fixture(runner: Runner, f: &Fixture) -> Outcome {
    let tmp = std::env::temp_dir().join(format!("archway-fixture-{}-{:?}-{}", f.name, runner, std::process::id()));
    let qemu_binfmt = QemuWithBinfmt::new(&format!("{}-{runner:?}", f.name));
    let mut cmd = match runner {
        Runner::Jit => {
            let mut c = Command::new(archway_bin());
            c.args(["run", "--engine", "jit"]);
            c
        }
        Runner::Interp => {
            let mut c = Command::new(archway_bin());
            c.args(["run", "--engine", "interp"]);
            c
        }
        Runner::Qemu => qemu_binfmt.command(),
        Runner::Arm64HostOnQemu => {
            let mut c = qemu_binfmt.command();
            c.arg(arm64_host_bin());
            c
        }
        Runner::Arm64HostOnArchway => {
            let mut c = Command::new(archway_bin());
            c.args(["run", "--engine", "jit"]).arg(arm64_host_bin());
            c
        }
    };
    cmd.arg(f.binary());
    for a in &f.args {
        if a == b"{tmpdir}" {
            std::fs::create_dir_all(&tmp).unwrap();
            cmd.arg(&tmp);
        } else {
            cmd.arg(OsStr::from_bytes(a));
        }
    }
    cmd.env_remove("ARCHWAY_ENGINE");
    for (k, v) in &f.env {
        cmd.env(OsStr::from_bytes(k), OsStr::from_bytes(v));
    }
    let out = run_with_limit(&mut cmd, runner.time_limit());
    let _ = std::fs::remove_dir_all(&tmp);
    out
}

/// The first line where `got` and `want` part, shown both ways, or nothing when they agree.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    let (got, want) = (String::from_utf8_lossy(got), String::from_utf8_lossy(want));
    let mut got_lines = got.lines();
    let mut want_lines = want.lines();
    for number in 1.. {
        match (got_lines.next(), want_lines.next()) {
            (None, None) => return String::new(),
            (g, w) if g == w => continue,
            (g, w) => return format!("\n  line {number}: got  {g:?}\n  line {number}: want {w:?}"),
        }
    }
    unreachable!("the loop returns when both run out")
}

fn check_all(runner: Runner) {
    let fixtures = load();
    assert!(fixtures.len() >= 12, "the manifest lists the fixtures");
    let chosen: Vec<&Fixture> = fixtures.iter().filter(|f| f.qemu || !runner.under_qemu()).collect();
    let mut failures = Vec::new();
    for f in &chosen {
        assert!(Path::new(&f.binary()).is_file(), "{} missing: run fixtures/build.sh", f.binary().display());
        let out = run_fixture(runner, f);
        let expected = f.expected_stdout();
        if out.ending != f.expect || out.stdout != expected {
            failures.push(format!(
                "{} under {runner:?}: ending {:?} (want {:?}), stdout {} ({} bytes vs {} expected){}\n  stderr: {}",
                f.name,
                out.ending,
                f.expect,
                if out.stdout == expected { "matches" } else { "DIFFERS" },
                out.stdout.len(),
                expected.len(),
                first_difference(&out.stdout, &expected),
                out.stderr_text().lines().take(5).collect::<Vec<_>>().join("\n  ")
            ));
        }
    }
    println!(
        "{} fixtures under {runner:?}: {} passed, {} failed",
        chosen.len(),
        chosen.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "fixture failures:\n{}", failures.join("\n"));
}

#[test]
fn fixtures_under_jit() {
    check_all(Runner::Jit);
}

#[test]
fn fixtures_under_interpreter() {
    check_all(Runner::Interp);
}

#[test]
fn fixtures_under_qemu_oracle() {
    check_all(Runner::Qemu);
}

#[test]
fn fixtures_on_an_arm64_host_under_qemu() {
    check_all(Runner::Arm64HostOnQemu);
}

#[test]
fn fixtures_on_an_arm64_host_under_archway() {
    check_all(Runner::Arm64HostOnArchway);
}
