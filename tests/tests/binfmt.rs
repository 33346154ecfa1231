//! `archway binfmt` against private binfmt_misc tables: every test runs in its own
//! user+mount namespace (`unshare --user --map-root-user --mount`), mounts binfmt_misc
//! there and registers into that namespace's table, so the host's table is never
//! touched (machine.md, "Private tables").
//!
//! The O and C tests need `nobody` and root-owned setuid files inside the namespace,
//! so they map host ids 0..65535 to themselves, which only real root may do
//! ([`in_namespace_with_users`]).
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

/// Run `cmd` with a fresh scratch directory and an empty binfmt_misc mount point in it,
/// and the variables the test scripts use: `$A` archway, `$M` the mount point, `$S` the
/// static interpreter's directory, `$W` the workspace, `$T` the scratch directory (which
/// `nobody` may enter).
fn run_script(name: &str, mut cmd: Command) -> Outcome {
    let dir = scratch(name);
    let mount = dir.join("binfmt_misc");
    std::fs::create_dir_all(&mount).expect("mount point");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    cmd.env("A", archway_bin())
        .env("M", &mount)
        .env("S", static_dir())
        .env("W", workspace())
        .env("T", &dir)
        .env_remove("ARCHWAY_ENGINE");
    let out = run_with_limit(&mut cmd, Duration::from_secs(120));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// Run `script` with `sh -e` in a new user+mount namespace whose binfmt_misc is mounted
/// at `$M` (the variables of [`run_script`]).
fn in_namespace(name: &str, script: &str) -> Outcome {
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-root-user", "--mount", "sh", "-ec"])
        .arg(format!("mount -t binfmt_misc binfmt_misc \"$M\"\n{script}"));
    run_script(name, cmd)
}

/// The namespace script succeeded; its stdout.
fn ok(name: &str, script: &str) -> String {
    expect_success(name, in_namespace(name, script))
}

fn expect_success(name: &str, out: Outcome) -> String {
    assert_eq!(out.ending, Ending::Exited(0), "{name}: stdout:\n{}\nstderr:\n{}", out.stdout_text(), out.stderr_text());
    out.stdout_text()
}

/// Like [`in_namespace`], but the namespace maps host uids and gids 0..65535 to
/// themselves, so `nobody` (65534) exists in it and root-owned setuid files keep their
/// owner: tests of O (a binary only its owner can read) and C (setuid guests). Only
/// real root may write such a map, which it does from outside for the namespace's
/// first process (`unshare` then waits on a FIFO until the maps are in place).
/// `$NOBODY` runs a command as uid/gid 65534.
fn in_namespace_with_users(name: &str, script: &str) -> Outcome {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "O and C tests need real root (scripts/test.sh runs as root)");
    let outer = r#"
mkfifo "$T/go"
unshare --user --mount sh -ec 'read go < "$T/go"; mount -t binfmt_misc binfmt_misc "$M"; eval "$INNER"' &
child=$!
while [ "$(readlink /proc/$child/ns/user)" = "$(readlink /proc/self/ns/user)" ]; do sleep 0.01; done
echo '0 0 65536' > /proc/$child/uid_map
echo '0 0 65536' > /proc/$child/gid_map
echo go > "$T/go"
wait $child
"#;
    let mut cmd = Command::new("sh");
    cmd.args(["-ec", outer]).env("INNER", script).env("NOBODY", "setpriv --reuid=65534 --regid=65534 --clear-groups");
    run_script(name, cmd)
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
        ("--flags ''", "flags: "),
        ("--flags P", "flags: P"),
        ("--flags F", "flags: F"),
        ("--flags O", "flags: O"),
        ("--flags C", "flags: OC"),
        ("--flags POCF", "flags: POCF"),
        ("", "flags: P"),
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

/// F: the kernel opened the interpreter at registration, so a chroot that holds only the
/// guest program runs it; without F the interpreter's path does not exist in there.
#[test]
fn f_runs_in_a_chroot_without_archway() {
    let out = ok(
        "chroot",
        "mkdir \"$T/jail\"\ncp \"$W/fixtures/bin/hello\" \"$T/jail/hello\"\n\
         \"$A\" binfmt --install arm64 --interpreter-dir \"$S\" --mount \"$M\" >/dev/null\n\
         chroot \"$T/jail\" /hello 2>&1 && echo unexpected || echo \"without F: $?\"\n\
         \"$A\" binfmt --reset -p yes --interpreter-dir \"$S\" --mount \"$M\" >/dev/null\n\
         ls \"$T/jail\"\nchroot \"$T/jail\" /hello",
    );
    // Without F the kernel looks for the interpreter inside the chroot: ENOENT.
    assert!(out.contains("No such file or directory\nwithout F: 127\n"), "{out}");
    assert!(out.contains("\nhello\nHello, world!\n"), "the jail holds only the guest, which runs:\n{out}");
}

/// O: an execute-only guest (mode 0711, owned by root) run by nobody: the kernel hands
/// archway the open file; without O archway cannot read it.
#[test]
fn o_runs_an_execute_only_binary_for_an_unprivileged_user() {
    let out = expect_success(
        "execonly",
        in_namespace_with_users(
            "execonly",
            "install -m 0711 \"$W/fixtures/bin/hello\" \"$T/hello\"\n\
             \"$A\" binfmt --install arm64 -p yes --interpreter-dir \"$S\" --mount \"$M\" >/dev/null\n\
             $NOBODY \"$T/hello\" 2>&1 && echo unexpected || echo \"without O: $?\"\n\
             $NOBODY cat \"$T/hello\" >/dev/null 2>&1 || echo 'nobody cannot read it'\n\
             \"$A\" binfmt --reset --flags O --interpreter-dir \"$S\" --mount \"$M\" >/dev/null\n\
             grep '^flags' \"$M/archway-aarch64\"\n$NOBODY \"$T/hello\"",
        ),
    );
    assert!(out.contains("without O: 126"), "want archway's 126 without O:\n{out}");
    assert!(out.contains("nobody cannot read it"), "{out}");
    assert!(out.contains("flags: O\nHello, world!\n"), "{out}");
}

/// C: a setuid-root guest run by nobody gets euid 0 and AT_SECURE=1, archway ignores
/// ARCHWAY_* then (an unknown engine would otherwise stop it), and a program named like
/// archway's private relaunch marker cannot choose another program to run as root. An
/// unprivileged guest that executes the setuid one reaches the kernel's credentials too.
#[test]
fn c_gives_a_setuid_guest_its_credentials_and_at_secure() {
    let busybox = workspace().join(".cache/busybox/arm64/bin/busybox");
    assert!(busybox.is_file(), "{} missing: run scripts/fetch-busybox.sh", busybox.display());
    let script = format!(
        "install -m 4755 \"$W/fixtures/bin/credentials\" \"$T/suid\"\n\
         install -m 0755 \"$W/fixtures/bin/credentials\" \"$T/plain\"\n\
         install -m 0755 {busybox} \"$T/busybox\"\n\
         \"$A\" binfmt --install arm64 --flags C --interpreter-dir \"$S\" --mount \"$M\" >/dev/null\n\
         echo \"suid: $($NOBODY \"$T/suid\")\"\n\
         echo \"plain: $($NOBODY \"$T/plain\")\"\n\
         echo \"env: $(ARCHWAY_ENGINE=bogus ARCHWAY_ROOT=/nonexistent ARCHWAY_LOG=trace $NOBODY \"$T/suid\" 2>&1)\"\n\
         echo \"env plain: $(ARCHWAY_ENGINE=bogus $NOBODY \"$T/plain\" 2>&1)\"\n\
         echo \"child: $($NOBODY \"$T/busybox\" sh -c \"$T/suid\")\"\n\
         ln -s suid \"$T/--archway-exec\"\n\
         echo \"marker: $(cd \"$T\" && $NOBODY /usr/bin/python3 -c 'import os, sys; os.execv(\"--archway-exec\", [\"jit\", \"\", \"x\", sys.argv[1]])' \"$W/fixtures/bin/hello\")\"\n\
         \"$A\" binfmt --reset -p yes --interpreter-dir \"$S\" --mount \"$M\" >/dev/null\n\
         echo \"without C: $($NOBODY \"$T/suid\")\"",
        busybox = busybox.display()
    );
    let out = expect_success("setuid", in_namespace_with_users("setuid", &script));
    let nobody = "uid=65534 euid=65534 gid=65534 egid=65534 secure=0";
    let elevated = "uid=65534 euid=0 gid=65534 egid=65534 secure=1";
    for want in [
        format!("suid: {elevated}"),
        format!("plain: {nobody}"),
        format!("env: {elevated}"),
        "env plain: archway: ARCHWAY_ENGINE: unknown engine".to_string(),
        format!("child: {elevated}"),
        format!("marker: {elevated}"),
        format!("without C: {nobody}"),
    ] {
        assert!(out.lines().any(|l| l.starts_with(&want)), "want a line starting {want:?} in:\n{out}");
    }
}

/// binfmt/archway-aarch64.conf (for systemd-binfmt) is what `archway binfmt --print`
/// says, and the kernel takes its line as it is: registered with the interpreter moved to
/// this build, an aarch64 program runs.
#[test]
fn the_binfmt_d_file_is_what_print_says_and_registers() {
    let conf = workspace().join("binfmt/archway-aarch64.conf");
    let committed = std::fs::read_to_string(&conf).unwrap_or_else(|e| panic!("{}: {e}", conf.display()));
    let mut print = Command::new(archway_bin());
    print.args(["binfmt", "--install", "arm64", "-p", "yes", "-c", "yes", "--interpreter-dir", "/usr/local/bin"]);
    let printed = run_with_limit(print.arg("--print"), Duration::from_secs(30));
    assert_eq!(printed.ending, Ending::Exited(0), "{}", printed.stderr_text());
    assert_eq!(printed.stdout_text(), committed, "regenerate {} with `archway binfmt ... --print`", conf.display());
    let out = ok(
        "binfmt-d",
        &format!(
            "sed \"s|/usr/local/bin/|$S/|\" {} > \"$M/register\"\ngrep '^flags' \"$M/archway-aarch64\"\n\
             \"$W/fixtures/bin/hello\"",
            conf.display()
        ),
    );
    assert!(out.starts_with("flags: POCF\nHello, world!\n"), "{out}");
}

/// The host's own family is never registered: `--install amd64,arm64` on x86_64 adds only
/// archway-aarch64 and says why amd64 was skipped.
#[test]
fn the_host_family_is_skipped() {
    let out =
        ok("skip", "\"$A\" binfmt --install amd64,aarch64 --interpreter-dir \"$S\" --mount \"$M\" 2>&1\nls \"$M\"");
    assert!(out.contains("amd64: skipped, this host runs it natively"), "{out}");
    let names: Vec<&str> = out.lines().filter(|l| !l.contains(' ')).collect();
    assert_eq!(names, ["archway-aarch64", "register", "status"], "{out}");
}

#[test]
fn a_blocked_mask_and_a_pending_signal_survive_the_kernels_exec() {
    // A native parent (Python's multiprocessing resource tracker, a shell, a supervisor)
    // blocks SIGINT and SIGTERM, has a SIGINT pending, ignores SIGUSR2 and SIGPIPE, and
    // execs an arm64 program, which binfmt_misc hands to archway. SIGHUP is set to its
    // default first: the test's own caller may ignore it (nohup).
    let parent = "import os, signal\n\
                  signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})\n\
                  signal.signal(signal.SIGUSR2, signal.SIG_IGN)\n\
                  signal.signal(signal.SIGPIPE, signal.SIG_IGN)\n\
                  signal.signal(signal.SIGHUP, signal.SIG_DFL)\n\
                  os.umask(0o027)\n\
                  os.kill(os.getpid(), signal.SIGINT)\n\
                  os.execv(os.environ['W'] + '/fixtures/bin/exec_inherits', ['exec_inherits', 'child'])";
    let out = ok(
        "mask",
        &format!("\"$A\" binfmt --install arm64 --interpreter-dir \"$S\" --mount \"$M\" >/dev/null\n/usr/bin/python3 -c \"{parent}\""),
    );
    let child =
        "blocked: INT 1 TERM 1 USR1 0\npending: INT 1 TERM 0 USR2 0 WINCH 0\nstatus SigBlk:\t0000000000004002\n\
                 USR2 ignored, PIPE ignored, HUP default\naltstack disabled: 1\numask 027\n";
    assert!(out.starts_with(child), "want it to start with:\n{child}\ngot:\n{out}");
    assert!(out.ends_with("SIGINT taken after unblocking: 1\n"), "{out}");
}
