//! The smoke test on real programs: Debian's busybox-static for amd64 and arm64 in a
//! tiny root, archway's static interpreter for arm64.
//!
//! Needs `bash scripts/fetch-busybox.sh` (busybox in `.cache/busybox/`) and `bash
//! scripts/build-static.sh` (the static `archway-aarch64` and `archway`, or
//! `$ARCHWAY_STATIC_BIN`), a kernel with user namespaces and binfmt_misc per user
//! namespace (6.7+), and root for the tests that register in binfmt_misc or look at
//! every process.
//!
//! Tests that must run in another namespace or as another user run this test binary
//! again there (`--exact NAME`) with `ARCHWAY_TEST_INNER` set: the test function then
//! does the inner part.

use archway_arch::Platform;
use archway_check::smoke::{run, Ending, SmokeOutcome, SmokeRequest};
use archway_tests::sandboxed::{
    busybox_root as bare_busybox_root, inner, processes_with, rerun, static_interpreter, Scratch,
};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A root in `dir/root` holding busybox for `arch` as /bin/busybox, /bin/sh and a few
/// applets, and a `#!` script /bin/greet.
fn busybox_root(dir: &Path, arch: &str) -> PathBuf {
    let root = bare_busybox_root(dir, arch, &["sh", "echo", "cat", "uname", "sleep", "id", "ls"]);
    std::fs::write(root.join("bin/greet"), "#!/bin/sh -e\necho \"greetings from $0 to $1\"\n").expect("script");
    std::fs::set_permissions(root.join("bin/greet"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    root
}

fn request(root: &Path, platform: &str, argv: &[&str]) -> SmokeRequest {
    SmokeRequest {
        root: root.to_path_buf(),
        argv: argv.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
        workdir: "/".to_string(),
        platform: Platform::parse(platform).expect("platform"),
        interpreter: None,
        timeout: Duration::from_secs(60),
    }
}

fn arm64_request(root: &Path, argv: &[&str]) -> SmokeRequest {
    SmokeRequest { interpreter: Some(static_interpreter()), ..request(root, "linux/arm64", argv) }
}

/// The outcome, its stdout, and that it exited 0.
fn expect_output(outcome: &SmokeOutcome) -> &str {
    assert_eq!(outcome.ending, Ending::Exited(0), "{outcome:#?}");
    assert!(outcome.started());
    &outcome.stdout.text
}

#[test]
fn amd64_busybox_runs_natively_as_root_of_its_own_namespaces() {
    let scratch = Scratch::new("smoke-native");
    let root = busybox_root(&scratch.0, "amd64");
    let outcome = run(&request(&root, "linux/amd64", &["busybox", "echo", "hi"]));
    assert_eq!(expect_output(&outcome), "hi\n");
    assert_eq!(outcome.command, ["busybox", "echo", "hi"], "executed as given, found through PATH");

    // pid 2: the sandbox's init is pid 1, as with `docker run --init`.
    let script = "echo pid $$; id -u; uname -m; uname -n; ls /.archway 2>&1; echo written > /written; cat /written";
    let outcome = run(&request(&root, "linux/amd64", &["sh", "-c", script]));
    assert_eq!(
        expect_output(&outcome).lines().collect::<Vec<_>>(),
        ["pid 2", "0", "x86_64", "archway-check", "ls: /.archway: No such file or directory", "written"]
    );
    assert!(!root.join("written").exists(), "the command's writes must not reach the root");
}

#[test]
fn arm64_busybox_runs_under_the_interpreter() {
    let scratch = Scratch::new("smoke-arm64");
    let root = busybox_root(&scratch.0, "arm64");
    let outcome = run(&arm64_request(&root, &["busybox", "echo", "hi"]));
    assert_eq!(expect_output(&outcome), "hi\n");
    assert_eq!(outcome.command, ["/.archway/archway-aarch64", "/bin/busybox", "echo", "hi"]);

    let outcome = run(&arm64_request(&root, &["uname", "-m"]));
    assert_eq!(expect_output(&outcome), "aarch64\n");

    // Foreign children (a pipeline) re-execute archway through /proc/self/exe.
    let outcome = run(&arm64_request(&root, &["sh", "-c", "echo piped | cat; uname -m | cat"]));
    assert_eq!(expect_output(&outcome), "piped\naarch64\n");

    // A #! script runs with its interpreter under archway, as the kernel would run it.
    let outcome = run(&arm64_request(&root, &["greet", "you"]));
    assert_eq!(expect_output(&outcome), "greetings from /bin/greet to you\n");
    assert_eq!(outcome.command, ["/.archway/archway-aarch64", "/bin/sh", "-e", "/bin/greet", "you"]);
}

#[test]
fn arm64_busybox_checked_as_amd64_does_not_start() {
    let scratch = Scratch::new("smoke-wrong-arch");
    let root = busybox_root(&scratch.0, "arm64");
    let outcome = run(&request(&root, "linux/amd64", &["busybox", "echo", "hi"]));
    assert_exec_format_error(&outcome);
}

/// `outcome` is /bin/busybox refused by the kernel with ENOEXEC.
fn assert_exec_format_error(outcome: &SmokeOutcome) {
    assert!(!outcome.started(), "{outcome:#?}");
    match &outcome.ending {
        Ending::NotExecuted { path, reason } => {
            assert_eq!(path, "/bin/busybox");
            assert!(reason.contains("Exec format error") && reason.contains("arm64"), "{reason}");
        }
        other => panic!("expected exec format error, got {other:?}"),
    }
    assert_eq!(outcome.stdout.text, "");
}

/// An arm64 binfmt_misc registration (archway's static interpreter, F flag: it works in
/// any chroot) in an enclosing user namespace does not reach the smoke test's
/// namespace. The outer namespace (`unshare --user --map-root-user --mount`) stands for
/// the host, whose own table a test must not touch.
#[test]
fn a_binfmt_registration_outside_does_not_leak_into_the_smoke_namespace() {
    let scratch_name = "smoke-binfmt";
    if !inner() {
        let scratch = Scratch::new(scratch_name);
        let interpreter = static_interpreter();
        let interpreter_dir = interpreter.parent().expect("a directory");
        let script = r#"mkdir "$SCRATCH/binfmt_misc"
mount -t binfmt_misc binfmt_misc "$SCRATCH/binfmt_misc"
"$INTERPRETER_DIR/archway" binfmt --install arm64 --flags F --interpreter-dir "$INTERPRETER_DIR" --mount "$SCRATCH/binfmt_misc" >&2
exec "$@""#;
        let wrapper = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-ec", script, "sh"];
        let text = rerun(
            "a_binfmt_registration_outside_does_not_leak_into_the_smoke_namespace",
            &wrapper,
            &[("SCRATCH", &scratch.0), ("INTERPRETER_DIR", interpreter_dir)],
        );
        assert!(text.contains("archway-aarch64"), "the registration:\n{text}");
        return;
    }
    let scratch = PathBuf::from(std::env::var_os("SCRATCH").expect("SCRATCH"));
    let root = busybox_root(&scratch, "arm64");
    // The registration works here, inside a chroot of the same root too.
    let direct = Command::new(root.join("bin/busybox")).args(["echo", "hi"]).output().expect("busybox");
    assert_eq!(String::from_utf8_lossy(&direct.stdout), "hi\n", "the outer registration does not run arm64 programs");
    let chrooted = Command::new("chroot").arg(&root).args(["/bin/busybox", "echo", "hi"]).output().expect("chroot");
    assert_eq!(String::from_utf8_lossy(&chrooted.stdout), "hi\n", "{chrooted:?}");
    // But not in the smoke test's namespace: checked as amd64, it must not start.
    let outcome = run(&request(&root, "linux/amd64", &["busybox", "echo", "hi"]));
    assert_exec_format_error(&outcome);
    // The interpreter still works from here.
    assert_eq!(expect_output(&run(&arm64_request(&root, &["uname", "-m"]))), "aarch64\n");
}

#[test]
fn a_command_still_running_at_the_timeout_started_and_leaves_nothing_behind() {
    let scratch = Scratch::new("smoke-timeout");
    let root = busybox_root(&scratch.0, "arm64");
    let marker = format!("ARCHWAY_SMOKE_MARKER={}", std::process::id());
    let mut request = arm64_request(&root, &["sh", "-c", "sleep 100 & sleep 100"]);
    request.env = vec![marker.clone()];
    request.timeout = Duration::from_secs(2);
    let outcome = run(&request);
    assert_eq!(outcome.ending, Ending::TimedOut, "{outcome:#?}");
    assert!(outcome.started());
    assert!(outcome.elapsed >= Duration::from_secs(2) && outcome.elapsed < Duration::from_secs(20), "{outcome:?}");
    assert_eq!(processes_with(&marker), Vec::<String>::new(), "processes of the sandbox left running");
}

#[test]
fn a_missing_command_is_not_found_in_the_image() {
    let scratch = Scratch::new("smoke-missing");
    let root = busybox_root(&scratch.0, "arm64");
    let outcome = run(&arm64_request(&root, &["nginx", "-g", "daemon off;"]));
    assert!(!outcome.started());
    match &outcome.ending {
        Ending::NotFound { program, searched } => {
            assert_eq!(program, "nginx");
            assert_eq!(searched.first().map(String::as_str), Some("/usr/local/sbin/nginx"));
            assert_eq!(searched.len(), 6, "{searched:?}");
        }
        other => panic!("{other:?}"),
    }
    let outcome = run(&arm64_request(&root, &["/opt/app/run"]));
    assert!(
        matches!(&outcome.ending, Ending::NotFound { searched, .. } if searched == &["/opt/app/run"]),
        "{outcome:?}"
    );
}

#[test]
fn an_amd64_program_in_an_arm64_image_does_not_pass() {
    let scratch = Scratch::new("smoke-amd64-in-arm64");
    let root = busybox_root(&scratch.0, "amd64");
    let outcome = run(&arm64_request(&root, &["busybox", "echo", "hi"]));
    assert!(!outcome.started());
    match &outcome.ending {
        Ending::NotExecuted { path, reason } => {
            assert_eq!(path, "/bin/busybox");
            assert!(reason.contains("amd64, not arm64"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn exit_statuses_signals_output_and_environment() {
    let scratch = Scratch::new("smoke-statuses");
    let root = busybox_root(&scratch.0, "arm64");
    let outcome = run(&arm64_request(&root, &["sh", "-c", "echo out; echo err >&2; exit 3"]));
    assert_eq!(outcome.ending, Ending::Exited(3));
    assert!(!outcome.started());
    assert_eq!((outcome.stdout.text.as_str(), outcome.stderr.text.as_str()), ("out\n", "err\n"));

    let outcome = run(&arm64_request(&root, &["sh", "-c", "kill -SEGV $$"]));
    assert_eq!(outcome.ending, Ending::Signaled { signal: libc::SIGSEGV, core_dumped: false }, "{outcome:?}");

    let mut request = arm64_request(&root, &["sh", "-c", "echo $GREETING from $(pwd) with PATH=$PATH"]);
    request.env = vec!["GREETING=hello".to_string()];
    request.workdir = "/srv/app".to_string();
    assert_eq!(
        expect_output(&run(&request)),
        "hello from /srv/app with PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
    );

    let outcome = run(&arm64_request(&root, &["sh", "-c", "yes 0123456789 | head -c 100000"]));
    assert_eq!(outcome.stdout.total_bytes, 100_000);
    assert!(outcome.stdout.is_truncated() && outcome.stdout.text.len() == 2048);
}

#[test]
fn the_smoke_test_cannot_run_without_what_it_needs() {
    let scratch = Scratch::new("smoke-cannot");
    let root = busybox_root(&scratch.0, "arm64");
    let without_interpreter = request(&root, "linux/arm64", &["uname"]);
    assert!(
        matches!(run(&without_interpreter).ending, Ending::CouldNotRun(reason) if reason.contains("no interpreter"))
    );
    let dynamic_interpreter =
        SmokeRequest { interpreter: Some(std::env::current_exe().unwrap()), ..without_interpreter };
    assert!(
        matches!(run(&dynamic_interpreter).ending, Ending::CouldNotRun(ref reason) if reason.contains("not static")),
        "{:?}",
        run(&dynamic_interpreter)
    );
    let missing_root = request(&scratch.0.join("nowhere"), "linux/amd64", &["uname"]);
    assert!(matches!(run(&missing_root).ending, Ending::CouldNotRun(_)));
    let windows = request(&root, "windows/amd64", &["uname"]);
    assert!(matches!(run(&windows).ending, Ending::CouldNotRun(reason) if reason.contains("not a Linux platform")));
    let empty = request(&root, "linux/amd64", &[]);
    assert!(matches!(run(&empty).ending, Ending::CouldNotRun(_)));
}

/// `nobody`'s uid and gid.
const NOBODY: u32 = 65534;

/// What an unprivileged user can do: the same smoke tests as `nobody` (user namespaces
/// for everyone, which this kernel allows).
#[test]
fn an_unprivileged_user_runs_the_smoke_test() {
    if !inner() {
        // SAFETY: no preconditions.
        assert_eq!(unsafe { libc::geteuid() }, 0, "this test switches to nobody: run it as root");
        let scratch = Scratch::new("smoke-unprivileged");
        std::os::unix::fs::chown(&scratch.0, Some(NOBODY), Some(NOBODY)).expect("chown the scratch directory");
        let wrapper = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"];
        let interpreter = static_interpreter();
        rerun(
            "an_unprivileged_user_runs_the_smoke_test",
            &wrapper,
            &[("SCRATCH", &scratch.0), ("ARCHWAY_STATIC_BIN", &interpreter)],
        );
        return;
    }
    let scratch = PathBuf::from(std::env::var_os("SCRATCH").expect("SCRATCH"));
    let dir = scratch.join("nobody");
    std::fs::create_dir(&dir).expect("a directory of nobody's");
    let root = busybox_root(&dir, "arm64");
    assert_eq!(expect_output(&run(&arm64_request(&root, &["sh", "-c", "id -u; uname -m"]))), "0\naarch64\n");
    let amd64_root = busybox_root(&dir.join("amd64"), "amd64");
    assert_eq!(expect_output(&run(&request(&amd64_root, "linux/amd64", &["echo", "hi"]))), "hi\n");
}
