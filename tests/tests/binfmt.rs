//! `archway binfmt` against private binfmt_misc tables: every test runs in its own
//! user+mount namespace (`unshare --user --map-root-user --mount`), mounts binfmt_misc
//! there and registers into that namespace's table, so the host's table is never
//! touched (machine.md, "Private tables").
//!
//! The F flag needs the static interpreter: `$ARCHWAY_STATIC_BIN` (scripts/test.sh
//! builds it with scripts/build-static.sh) or the default path of that script.

use archway_tests::{archway_bin, run_with_limit, workspace, Ending, Outcome};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Directory of the static `archway-aarch64`.
fn static_dir() -> PathBuf {
    let bin = std::env::var_os("ARCHWAY_STATIC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/x86_64-unknown-linux-gnu/release/archway-aarch64"));
    assert!(bin.is_file(), "{} missing: run scripts/build-static.sh", bin.display());
    bin.parent().expect("a directory").to_path_buf()
}

/// A fresh empty directory for this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archway-binfmt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Run `script` with `sh -e` in a new user+mount namespace whose binfmt_misc is mounted
/// at `$M`; `$A` is archway, `$S` the static interpreter's directory, `$W` the workspace,
/// `$T` a scratch directory.
fn in_namespace(name: &str, script: &str) -> Outcome {
    let dir = scratch(name);
    let mount = dir.join("binfmt_misc");
    std::fs::create_dir_all(&mount).expect("mount point");
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-root-user", "--mount", "sh", "-ec"])
        .arg(format!("mount -t binfmt_misc binfmt_misc \"$M\"\n{script}"))
        .env("A", archway_bin())
        .env("M", &mount)
        .env("S", static_dir())
        .env("W", workspace())
        .env("T", &dir)
        .env_remove("ARCHWAY_ENGINE");
    let out = run_with_limit(&mut cmd, Duration::from_secs(120));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// The namespace script succeeded; its stdout.
fn ok(name: &str, script: &str) -> String {
    let out = in_namespace(name, script);
    assert_eq!(out.ending, Ending::Exited(0), "{name}: stdout:\n{}\nstderr:\n{}", out.stdout_text(), out.stderr_text());
    out.stdout_text()
}

/// A fake qemu entry and an unrelated one, registered by hand.
const FAKE_ENTRIES: &str = r#"
printf ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:' > "$M/register"
printf ':qemu-riscv64:M::RISCV::/usr/bin/qemu-riscv64-static:' > "$M/register"
printf ':other:E::xyz::/bin/cat:' > "$M/register"
"#;

#[test]
fn each_flag_set_registers_and_runs_a_program() {
    let sets = [
        ("--preserve-argv0 no", "flags: "),
        ("", "flags: P"),
        ("--preserve-argv0 no -p yes", "flags: F"),
        ("--preserve-argv0 no -c yes", "flags: OC"),
        ("-p yes -c yes", "flags: POCF"),
    ];
    for (options, line) in sets {
        let out = ok(
            "flags",
            &format!(
                "\"$A\" binfmt --install arm64 {options} --interpreter-dir \"$S\" --mount \"$M\"\n\
                 grep '^flags' \"$M/archway-aarch64\"\n\"$W/fixtures/bin/hello\""
            ),
        );
        assert!(out.lines().any(|l| l.trim_end() == line.trim_end()), "{options}: want {line:?} in:\n{out}");
        assert!(out.contains("Hello, world!"), "{options}: the aarch64 program did not run:\n{out}");
    }
}

#[test]
fn busybox_applets_through_symlinks_with_p() {
    let busybox = workspace().join(".cache/busybox/arm64/bin/busybox");
    assert!(busybox.is_file(), "{} missing: run scripts/fetch-busybox.sh", busybox.display());
    let out = ok(
        "busybox",
        &format!(
            "\"$A\" binfmt --install arm64 --interpreter-dir \"$S\" --mount \"$M\"\n\
             ln -s {} \"$T/echo\"\n\"$T/echo\" hello from an applet",
            busybox.display()
        ),
    );
    assert_eq!(out.lines().last(), Some("hello from an applet"), "{out}");
}

#[test]
fn reset_removes_qemu_and_archway_entries_only() {
    let out = ok(
        "reset",
        &format!(
            "{FAKE_ENTRIES}\"$A\" binfmt --install arm64 --interpreter-dir \"$S\" --mount \"$M\"\n\
             \"$A\" binfmt --reset -p yes --interpreter-dir \"$S\" --mount \"$M\"\nls \"$M\"\n\
             grep '^flags' \"$M/archway-aarch64\""
        ),
    );
    for removed in ["removed archway-aarch64", "removed qemu-aarch64", "removed qemu-riscv64"] {
        assert!(out.contains(removed), "want {removed:?} in:\n{out}");
    }
    let names: Vec<&str> = out.lines().filter(|l| !l.contains(' ')).collect();
    assert_eq!(names, ["archway-aarch64", "other", "register", "status"], "{out}");
    assert!(out.contains("flags: PF"), "{out}");
}

#[test]
fn uninstall_by_glob() {
    let out = ok("uninstall", &format!("{FAKE_ENTRIES}\"$A\" binfmt --uninstall 'qemu-*' --mount \"$M\"\nls \"$M\""));
    assert!(out.contains("removed qemu-aarch64") && out.contains("removed qemu-riscv64"), "{out}");
    let names: Vec<&str> = out.lines().filter(|l| !l.contains(' ')).collect();
    assert_eq!(names, ["other", "register", "status"], "{out}");
}

#[test]
fn registering_twice_is_a_no_op_and_a_different_entry_needs_reset() {
    let script = "\"$A\" binfmt --install arm64 --mount \"$M\"\n\"$A\" binfmt --install arm64 --mount \"$M\"\n\
                  \"$A\" binfmt --install arm64 -c yes --mount \"$M\" 2>&1 || echo refused\n\
                  grep '^flags' \"$M/archway-aarch64\"";
    let out = ok("twice", script);
    assert!(out.contains("already registered archway-aarch64"), "{out}");
    assert!(out.contains("pass --reset") && out.contains("refused"), "{out}");
    assert!(out.lines().any(|l| l == "flags: P"), "the entry changed:\n{out}");
}

#[test]
fn status_probes_what_runs() {
    let out = ok(
        "status",
        "\"$A\" binfmt --json --mount \"$M\"\n\"$A\" binfmt --install arm64 --mount \"$M\" >/dev/null\n\
         \"$A\" binfmt --json --mount \"$M\"",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].contains("\"supported\": [\"linux/amd64\"]") && lines[0].contains("\"emulators\": []"), "{out}");
    assert!(lines[1].contains("\"linux/arm64\"") && lines[1].contains("\"emulators\": [\"archway-aarch64\"]"), "{out}");
}

#[test]
fn f_needs_a_static_interpreter() {
    let out = in_namespace(
        "dynamic",
        "\"$A\" binfmt --reset -p yes --mount \"$M\" --interpreter-dir \"$(dirname \"$A\")\" || { ls \"$M\"; exit 3; }",
    );
    assert_eq!(out.ending, Ending::Exited(3), "{}", out.stderr_text());
    assert!(out.stderr_text().contains("needs a static interpreter"), "{}", out.stderr_text());
    assert_eq!(out.stdout_text(), "register\nstatus\n");
}

/// Unprivileged, outside any namespace: a root-only `register` is refused (EACCES), and
/// mounting binfmt_misc is refused (EPERM); neither touches the host's table.
#[test]
fn not_root_is_a_clear_error() {
    let dir = scratch("notroot");
    let table = dir.join("table");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&table).expect("dir");
    std::fs::create_dir_all(&empty).expect("dir");
    std::fs::write(table.join("register"), "").expect("register");
    std::fs::write(table.join("status"), "enabled\n").expect("status");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(table.join("register"), std::fs::Permissions::from_mode(0o200)).expect("chmod");
    for mount in [&table, &empty] {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(archway_bin())
            .args(["binfmt", "--install", "arm64", "--mount"])
            .arg(mount);
        let out = run_with_limit(&mut cmd, Duration::from_secs(30));
        assert_eq!(out.ending, Ending::Exited(1), "{}", out.stderr_text());
        assert!(out.stderr_text().contains("needs root"), "{}", out.stderr_text());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
