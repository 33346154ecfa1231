//! Build steps on real programs: Debian's busybox-static for amd64 and arm64 in tiny
//! writable roots, archway's static interpreter for arm64.
//!
//! Needs `bash scripts/fetch-busybox.sh` (busybox in `.cache/busybox/`), `bash
//! scripts/build-static.sh` (the static `archway-aarch64`, or `$ARCHWAY_STATIC_BIN`),
//! a kernel with user namespaces and a binfmt_misc per user namespace (6.7+), root
//! (the tests switch to `nobody` and look at every process), and for the rootless
//! subordinate-id leg `newuidmap`/`newgidmap` (Debian's uidmap,
//! scripts/install-image-tools.sh).
//!
//! Tests that must run as another user or in another mount namespace run this test
//! binary again there (`--exact NAME`) with `ARCHWAY_TEST_INNER` set: the test
//! function then does the inner part. Every test checks that the host's mount table
//! is as it was.

use archway_arch::Platform;
use archway_sandbox::{run, BindMount, Cancel, Ending, Extent, Network, Outcome, OutputStream, Request};
use archway_tests::sandboxed::{
    busybox_root as bare_busybox_root, inner, processes_with, rerun, static_interpreter, Scratch,
    AS_NOBODY_WITH_SUBORDINATE_IDS, INNER,
};
use std::collections::BTreeSet;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `nobody`'s uid and gid.
const NOBODY: u32 = 65534;

/// The scratch directory of the outer test run, in an inner one.
fn inherited_scratch() -> PathBuf {
    PathBuf::from(std::env::var_os("SCRATCH").expect("SCRATCH"))
}

/// The host's mount table, to compare at the end of a test.
struct HostMounts(String);

impl HostMounts {
    fn now() -> HostMounts {
        HostMounts(std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo"))
    }

    fn assert_unchanged(&self) {
        assert_eq!(HostMounts::now().0, self.0, "the host's mount table changed");
    }
}

/// A root in `dir/root` for `arch`: busybox as /bin/busybox with applets, /tmp (1777),
/// /etc/passwd and /etc/group with root and `builder` (1000:1000, also in `extra`,
/// 2000).
fn busybox_root(dir: &Path, arch: &str) -> PathBuf {
    let applets = ["sh", "echo", "cat", "uname", "sleep", "id", "ls", "stat", "touch", "mkdir", "pwd", "kill", "ps"];
    let root = bare_busybox_root(dir, arch, &applets);
    std::fs::create_dir(root.join("tmp")).expect("root/tmp");
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).expect("chmod /tmp");
    std::fs::create_dir(root.join("etc")).expect("root/etc");
    let passwd = "root:x:0:0:root:/root:/bin/sh\nbuilder:x:1000:1000::/home/builder:/bin/sh\n";
    std::fs::write(root.join("etc/passwd"), passwd).expect("passwd");
    std::fs::write(root.join("etc/group"), "root:x:0:\nbuilder:x:1000:\nextra:x:2000:builder\n").expect("group");
    root
}

fn step(root: &Path, platform: &str, script: &str) -> Request {
    let mut request = Request::new(root, Platform::parse(platform).expect("platform"), &["sh", "-c", script]);
    request.timeout = Some(Duration::from_secs(60));
    if platform == "linux/arm64" {
        request.interpreter = Some(static_interpreter());
    }
    request
}

/// Run `request`; the outcome and everything it printed on stdout, as streamed.
fn run_streaming(request: &Request) -> (Outcome, String) {
    let mut streamed = Vec::new();
    let outcome = run(request, &mut |stream, bytes| {
        if stream == OutputStream::Stdout {
            streamed.extend_from_slice(bytes);
        }
    });
    (outcome, String::from_utf8(streamed).expect("UTF-8 output"))
}

/// The stdout of a step that must exit 0.
fn expect_output(request: &Request) -> String {
    let (outcome, streamed) = run_streaming(request);
    assert_eq!(outcome.ending, Ending::Exited(0), "{outcome:#?}");
    assert_eq!(streamed, outcome.stdout.text, "streamed output and excerpt differ");
    streamed
}

/// Every path below `root` (symbolic links not followed), relative, with a `/`.
fn tree(root: &Path) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            paths.insert(format!("/{}", path.strip_prefix(root).unwrap().display()));
            if entry.file_type().expect("file type").is_dir() {
                pending.push(path);
            }
        }
    }
    paths
}

/// Wait up to `limit` for `done`.
fn eventually(limit: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

fn as_root() {
    // SAFETY: no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "run these tests as root (they switch users and see every process)");
}

#[test]
fn an_amd64_step_writes_the_root_and_leaves_nothing_else() {
    let mounts = HostMounts::now();
    let scratch = Scratch::new("sandbox-amd64");
    let root = busybox_root(&scratch.0, "amd64");
    let before = tree(&root);
    let etc_mtime = std::fs::metadata(root.join("etc")).unwrap().mtime_nsec();
    let mut request = step(
        &root,
        "linux/amd64",
        "echo written > /written; mkdir -p /srv/data; echo kept > /srv/data/file; stat -c %u:%g /written; pwd; \
         ls /.archway 2>&1; uname -n; test -c /dev/null && test -c /dev/urandom && test -d /dev/pts && echo dev",
    );
    request.workdir = "/work/dir".to_string();
    request.hostname = "builder-host".to_string();
    assert_eq!(
        expect_output(&request),
        "0:0\n/work/dir\nls: /.archway: No such file or directory\nbuilder-host\ndev\n",
        "as root of the namespace, in the working directory, no interpreter for a native step"
    );
    assert_eq!(std::fs::read_to_string(root.join("written")).unwrap(), "written\n");
    assert_eq!(std::fs::read_to_string(root.join("srv/data/file")).unwrap(), "kept\n");
    let added: BTreeSet<String> = tree(&root).difference(&before).cloned().collect();
    let expected = ["/srv", "/srv/data", "/srv/data/file", "/work", "/work/dir", "/written"];
    assert_eq!(added, expected.iter().map(|p| p.to_string()).collect(), "only the step's files are added");
    assert!(before.is_subset(&tree(&root)));
    assert_eq!(std::fs::metadata(root.join("etc")).unwrap().mtime_nsec(), etc_mtime, "/etc's time restored");

    let outcome = run(&request, &mut |_, _| {});
    let ids = outcome.ids.expect("the id maps");
    let owner = std::fs::metadata(root.join("written")).unwrap();
    assert_eq!((Some(owner.uid()), Some(owner.gid())), (ids.host_uid(0), ids.host_gid(0)), "owned by mapped root");
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    mounts.assert_unchanged();
}

#[test]
fn an_arm64_step_runs_under_the_translator_and_its_children_too() {
    let mounts = HostMounts::now();
    let scratch = Scratch::new("sandbox-arm64");
    let root = busybox_root(&scratch.0, "arm64");
    let before = tree(&root);
    let request = step(&root, "linux/arm64", "uname -m; echo x > /out; echo piped | cat; uname -m | cat");
    let (outcome, streamed) = run_streaming(&request);
    assert_eq!(outcome.ending, Ending::Exited(0), "{outcome:#?}");
    assert_eq!(streamed, "aarch64\npiped\naarch64\n");
    assert_eq!(outcome.command[..3], ["/.archway/archway-aarch64", "/bin/sh", "-c"], "{:?}", outcome.command);
    assert_eq!(std::fs::read_to_string(root.join("out")).unwrap(), "x\n");
    let added: BTreeSet<String> = tree(&root).difference(&before).cloned().collect();
    assert_eq!(added, BTreeSet::from(["/out".to_string()]), "no /.archway, /proc or /dev left in the root");

    // The arm64 root is not runnable natively: no binfmt_misc handler of the host's
    // reaches the sandbox.
    let native = run(&step(&root, "linux/amd64", "true"), &mut |_, _| {});
    assert!(
        matches!(&native.ending, Ending::NotExecuted { path, reason } if path == "/bin/sh" && reason.contains("arm64")),
        "{native:?}"
    );
    mounts.assert_unchanged();
}

/// The user of `USER`, as root: every id maps to itself.
#[test]
fn a_step_runs_as_its_user_with_ids_mapped_to_themselves_as_root() {
    as_root();
    let mounts = HostMounts::now();
    let scratch = Scratch::new("sandbox-user");
    for arch in ["amd64", "arm64"] {
        let root = busybox_root(&scratch.0.join(arch), arch);
        let platform = format!("linux/{arch}");
        check_user_steps(&root, &platform, &|inside| inside);
    }
    mounts.assert_unchanged();
}

/// `USER 1000:1000` creates a file with those ids inside and the mapped ids outside;
/// `USER builder` gets its groups and home; an unknown user is refused.
fn check_user_steps(root: &Path, platform: &str, host_id: &dyn Fn(u32) -> u32) {
    let mut request = step(root, platform, "id -u; id -g; echo hi > /tmp/by-user; stat -c %u:%g /tmp/by-user");
    request.user = "1000:1000".to_string();
    assert_eq!(expect_output(&request), "1000\n1000\n1000:1000\n");
    let owner = std::fs::metadata(root.join("tmp/by-user")).expect("the user's file");
    assert_eq!((owner.uid(), owner.gid()), (host_id(1000), host_id(1000)), "owned by the mapped ids on the host");

    let mut request = step(root, platform, "id -un; id -G; echo $HOME");
    request.user = "builder".to_string();
    assert_eq!(expect_output(&request), "builder\n1000 2000\n/home/builder\n");

    let mut request = step(root, platform, "true");
    request.user = "nosuchuser".to_string();
    let outcome = run(&request, &mut |_, _| {});
    assert!(
        matches!(&outcome.ending, Ending::InvalidUser { user, reason } if user == "nosuchuser" && reason.contains("unable to find user")),
        "{outcome:?}"
    );
    std::fs::remove_file(root.join("tmp/by-user")).expect("remove the user's file");
}

/// The names of the network interfaces in a `/proc/net/dev`.
fn interfaces(proc_net_dev: &str) -> BTreeSet<String> {
    proc_net_dev
        .lines()
        .skip(2)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, _)| name.trim().to_string())
        .collect()
}

#[test]
fn the_network_is_loopback_only_or_the_hosts() {
    let mounts = HostMounts::now();
    let scratch = Scratch::new("sandbox-network");
    let root = busybox_root(&scratch.0, "amd64");
    let mut request = step(&root, "linux/amd64", "cat /proc/net/dev; test -e /etc/resolv.conf || echo no-resolv");
    request.network = Network::None;
    let output = expect_output(&request);
    assert_eq!(interfaces(&output), BTreeSet::from(["lo".to_string()]), "{output}");
    assert!(output.ends_with("no-resolv\n"), "no resolv.conf without a network: {output}");

    let host_interfaces = interfaces(&std::fs::read_to_string("/proc/net/dev").unwrap());
    let mut request = step(&root, "linux/amd64", "cat /proc/net/dev");
    request.network = Network::Host;
    assert_eq!(interfaces(&expect_output(&request)), host_interfaces);
    for file in ["/etc/resolv.conf", "/etc/hosts"] {
        let Ok(host) = std::fs::read_to_string(file) else { continue };
        let mut request = step(&root, "linux/amd64", &format!("cat {file}; echo changed >> {file} || echo read-only"));
        request.network = Network::Host;
        assert_eq!(expect_output(&request), format!("{host}read-only\n"), "the host's {file}, read-only");
        assert_eq!(std::fs::read_to_string(file).unwrap(), host);
    }
    assert!(!root.join("etc/resolv.conf").exists() && !root.join("etc/hosts").exists(), "mount points removed");
    mounts.assert_unchanged();
}

#[test]
fn the_step_sees_only_its_own_processes_and_leaves_none_behind() {
    let mounts = HostMounts::now();
    let scratch = Scratch::new("sandbox-pids");
    for arch in ["amd64", "arm64"] {
        let root = busybox_root(&scratch.0.join(arch), arch);
        let platform = format!("linux/{arch}");
        // The init is 1, the shell 2 (which expands the pattern).
        let output = expect_output(&step(&root, &platform, "echo $$; echo /proc/[0-9]*"));
        assert_eq!(output, "2\n/proc/1 /proc/2\n", "{arch}");

        let marker = format!("ARCHWAY_SANDBOX_MARKER={}-{arch}", std::process::id());
        let mut request = step(&root, &platform, "sleep 1000 & echo started");
        request.env = vec![marker.clone()];
        let started = Instant::now();
        assert_eq!(expect_output(&request), "started\n");
        assert!(started.elapsed() < Duration::from_secs(30), "the step waited for its background process");
        assert_eq!(processes_with(&marker), Vec::<String>::new(), "{arch}: the background sleep survived the step");
    }
    mounts.assert_unchanged();
}

#[test]
fn exit_statuses_signals_timeouts_and_cancels_are_reported() {
    let mounts = HostMounts::now();
    let scratch = Scratch::new("sandbox-endings");
    let root = busybox_root(&scratch.0, "arm64");
    let outcome = run(&step(&root, "linux/arm64", "echo out; echo err >&2; exit 3"), &mut |_, _| {});
    assert_eq!(outcome.ending, Ending::Exited(3));
    assert_eq!((outcome.stdout.text.as_str(), outcome.stderr.text.as_str()), ("out\n", "err\n"));
    for (signal, name) in [(libc::SIGSEGV, "SEGV"), (libc::SIGKILL, "KILL"), (libc::SIGTERM, "TERM")] {
        let outcome = run(&step(&root, "linux/arm64", &format!("kill -{name} $$")), &mut |_, _| {});
        assert_eq!(outcome.ending, Ending::Signaled { signal, core_dumped: false }, "{outcome:?}");
    }

    let marker = format!("ARCHWAY_SANDBOX_MARKER={}-ends", std::process::id());
    let mut request = step(&root, "linux/arm64", "sleep 1000 & sleep 1000");
    request.env = vec![marker.clone()];
    request.timeout = Some(Duration::from_secs(1));
    let outcome = run(&request, &mut |_, _| {});
    assert_eq!(outcome.ending, Ending::TimedOut, "{outcome:?}");
    assert!(outcome.elapsed >= Duration::from_secs(1) && outcome.elapsed < Duration::from_secs(20));
    assert_eq!(processes_with(&marker), Vec::<String>::new(), "processes left after the timeout");

    let cancel = Cancel::new().expect("a cancel token");
    request.timeout = None;
    request.cancel = Some(cancel.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        cancel.cancel();
    });
    let outcome = run(&request, &mut |_, _| {});
    canceller.join().unwrap();
    assert_eq!(outcome.ending, Ending::Cancelled, "{outcome:?}");
    assert_eq!(processes_with(&marker), Vec::<String>::new(), "processes left after the cancel");
    let outcome = run(&request, &mut |_, _| {});
    assert_eq!((outcome.ending, outcome.command), (Ending::Cancelled, Vec::new()), "a cancelled token runs nothing");

    let mut missing = step(&root, "linux/arm64", "true");
    missing.argv = vec!["make".to_string()];
    let outcome = run(&missing, &mut |_, _| {});
    assert!(matches!(outcome.ending, Ending::NotFound { ref program, .. } if program == "make"), "{outcome:?}");
    mounts.assert_unchanged();
}

#[test]
fn bind_mounts_show_host_directories_writable_or_read_only() {
    let mounts = HostMounts::now();
    let scratch = Scratch::new("sandbox-binds");
    let root = busybox_root(&scratch.0, "amd64");
    let cache = scratch.0.join("cache");
    let context = scratch.0.join("context");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(context.join("source.c"), "int main(void) { return 0; }\n").unwrap();
    let before = tree(&root);
    let mut request = step(
        &root,
        "linux/amd64",
        "echo cached > /var/cache/apt/file; cat /src/source.c; echo no > /src/new 2>/dev/null || echo read-only",
    );
    request.mounts = vec![
        BindMount { source: cache.clone(), target: "/var/cache/apt".to_string(), read_only: false },
        BindMount { source: context.clone(), target: "/src".to_string(), read_only: true },
    ];
    assert_eq!(expect_output(&request), "int main(void) { return 0; }\nread-only\n");
    assert_eq!(std::fs::read_to_string(cache.join("file")).unwrap(), "cached\n", "written through the bind");
    assert!(!context.join("new").exists());
    assert_eq!(tree(&root), before, "the binds' mount points are removed from the root");
    mounts.assert_unchanged();
}

/// A root whose `/etc` and `/.archway` are absolute symbolic links to directories of
/// the host: the sandbox follows them inside the root (as a chrooted process would),
/// never to the host, and leaves what it cannot remove without following a link.
#[test]
fn symbolic_links_in_the_root_never_lead_out_to_the_host() {
    let mounts = HostMounts::now();
    let scratch = Scratch::new("sandbox-links");
    let root = busybox_root(&scratch.0, "arm64");
    let host_etc = scratch.0.join("host-etc");
    let host_archway = scratch.0.join("host-archway");
    std::fs::create_dir_all(&host_etc).unwrap();
    std::fs::create_dir_all(&host_archway).unwrap();
    // The same paths inside the root, where the links really lead.
    let inside = |host: &Path| root.join(host.strip_prefix("/").unwrap());
    std::fs::create_dir_all(inside(&host_etc)).unwrap();
    std::fs::create_dir_all(inside(&host_archway)).unwrap();
    std::fs::rename(root.join("etc/passwd"), inside(&host_etc).join("passwd")).unwrap();
    std::fs::remove_dir_all(root.join("etc")).unwrap();
    symlink(&host_etc, root.join("etc")).unwrap();
    symlink(&host_archway, root.join(".archway")).unwrap();

    let mut request = step(&root, "linux/arm64", "uname -m; cat /etc/hosts > /dev/null && echo hosts");
    request.network = Network::Host;
    let (outcome, output) = run_streaming(&request);
    assert_eq!(outcome.ending, Ending::Exited(0), "{outcome:#?}");
    assert_eq!(output, "aarch64\nhosts\n");
    assert_eq!(std::fs::read_dir(&host_etc).unwrap().count(), 0, "a file was created on the host");
    assert_eq!(std::fs::read_dir(&host_archway).unwrap().count(), 0, "a file was created on the host");
    assert!(inside(&host_archway).join("archway-aarch64").exists(), "the mount point, inside the root");
    for left in ["/.archway/archway-aarch64", "/etc/hosts"] {
        assert!(outcome.notes.iter().any(|note| note.contains(left)), "{left} not noted: {:?}", outcome.notes);
    }
    mounts.assert_unchanged();
}

/// Ctrl-C kills the builder: the step's init dies with it (`PR_SET_PDEATHSIG`), and
/// the kernel kills the rest of the step's pid namespace.
#[test]
fn a_killed_caller_takes_every_process_of_the_step_with_it() {
    let step_marker = "ARCHWAY_STEP_MARKER";
    if inner() {
        let scratch = inherited_scratch();
        let root = busybox_root(&scratch, "arm64");
        let mut request = step(&root, "linux/arm64", "sleep 1000 & sleep 1000");
        request.env = vec![format!("{step_marker}={}", std::env::var("MARKER").expect("MARKER"))];
        run(&request, &mut |_, _| {});
        panic!("the step ended before the caller was interrupted");
    }
    let mounts = HostMounts::now();
    let scratch = Scratch::new("sandbox-interrupted");
    let marker_value = format!("{}", std::process::id());
    let exe = std::env::current_exe().unwrap();
    let mut caller = Command::new(exe)
        .args(["--exact", "a_killed_caller_takes_every_process_of_the_step_with_it", "--test-threads=1"])
        .env(INNER, "1")
        .env("SCRATCH", &scratch.0)
        .env("MARKER", &marker_value)
        .env("ARCHWAY_STATIC_BIN", static_interpreter())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the caller");
    let marker = format!("{step_marker}={marker_value}");
    assert!(eventually(Duration::from_secs(60), || processes_with(&marker).len() >= 2), "the step never started");
    // SAFETY: a signal to our own child.
    assert_eq!(unsafe { libc::kill(caller.id() as libc::pid_t, libc::SIGINT) }, 0);
    let status = caller.wait().expect("the caller's end");
    assert!(!status.success());
    assert!(
        eventually(Duration::from_secs(10), || processes_with(&marker).is_empty()),
        "processes of the step survived the caller: {:?}",
        processes_with(&marker)
    );
    mounts.assert_unchanged();
}

/// Rootless, without subordinate ids: `nobody` runs steps as root of the namespace
/// only, and is told why other users fail.
#[test]
fn nobody_runs_steps_with_only_its_own_id() {
    if !inner() {
        as_root();
        let mounts = HostMounts::now();
        let scratch = Scratch::new("sandbox-nobody");
        std::os::unix::fs::chown(&scratch.0, Some(NOBODY), Some(NOBODY)).expect("chown the scratch directory");
        let wrapper = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"];
        rerun(
            "nobody_runs_steps_with_only_its_own_id",
            &wrapper,
            &[("SCRATCH", &scratch.0), ("ARCHWAY_STATIC_BIN", &static_interpreter())],
        );
        mounts.assert_unchanged();
        return;
    }
    // /etc/subuid has no range for nobody here (the outer test leaves the host's).
    let scratch = inherited_scratch();
    for arch in ["amd64", "arm64"] {
        let root = busybox_root(&scratch.join(arch), arch);
        let platform = format!("linux/{arch}");
        let before = tree(&root);
        let request = step(&root, &platform, "id -u; uname -m; echo x > /out; stat -c %u /out");
        let (outcome, output) = run_streaming(&request);
        assert_eq!(outcome.ending, Ending::Exited(0), "{outcome:#?}");
        let machine = if arch == "arm64" { "aarch64" } else { "x86_64" };
        assert_eq!(output, format!("0\n{machine}\n0\n"));
        let added: BTreeSet<String> = tree(&root).difference(&before).cloned().collect();
        assert_eq!(added, BTreeSet::from(["/out".to_string()]), "mount points removed by nobody too");
        assert_eq!(std::fs::metadata(root.join("out")).unwrap().uid(), NOBODY, "nobody's file on the host");
        let ids = outcome.ids.expect("id maps");
        assert_eq!(ids.uids, [Extent { inside: 0, outside: NOBODY, count: 1 }]);
        assert!(!ids.setgroups);
        let note = ids.note.expect("a note about the single id");
        assert!(note.contains("APT::Sandbox::User=root"), "{note}");
        assert!(outcome.notes.contains(&note));

        let mut request = step(&root, &platform, "true");
        request.user = "1000:1000".to_string();
        let outcome = run(&request, &mut |_, _| {});
        assert!(
            matches!(&outcome.ending, Ending::CouldNotRun(reason) if reason.contains("cannot have uid 1000, gid 1000")),
            "{outcome:?}"
        );
    }
}

/// The subordinate ranges the rootless test gives `nobody`.
const SUBORDINATE_START: u32 = 200_000;
const SUBORDINATE_COUNT: u32 = 65_536;

/// Rootless with subordinate ids (newuidmap and newgidmap, and `nobody`'s ranges in
/// /etc/subuid and /etc/subgid, bound over the host's files in a private mount
/// namespace): users of `USER` work, owned on the host by the subordinate ids.
#[test]
fn nobody_with_subordinate_ids_runs_steps_as_other_users() {
    if !inner() {
        as_root();
        for helper in ["newuidmap", "newgidmap"] {
            let found = Command::new("sh").args(["-c", &format!("command -v {helper}")]).output().unwrap();
            assert!(found.status.success(), "{helper} missing: install uidmap (scripts/install-image-tools.sh)");
        }
        let mounts = HostMounts::now();
        let scratch = Scratch::new("sandbox-subordinate");
        std::os::unix::fs::chown(&scratch.0, Some(NOBODY), Some(NOBODY)).expect("chown the scratch directory");
        let ranges = format!("nobody:{SUBORDINATE_START}:{SUBORDINATE_COUNT}\n");
        // Only in the mount namespace of the inner test: the host's files stay as they
        // are (bound over when they exist, or a copy of /etc with them added).
        let script = AS_NOBODY_WITH_SUBORDINATE_IDS;
        let wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-ec", script, "sh"];
        let ranges_path = PathBuf::from(&ranges);
        rerun(
            "nobody_with_subordinate_ids_runs_steps_as_other_users",
            &wrapper,
            &[("SCRATCH", &scratch.0), ("RANGES", &ranges_path), ("ARCHWAY_STATIC_BIN", &static_interpreter())],
        );
        mounts.assert_unchanged();
        return;
    }
    let scratch = inherited_scratch();
    let host_id = |inside: u32| if inside == 0 { NOBODY } else { SUBORDINATE_START + inside - 1 };
    for arch in ["amd64", "arm64"] {
        let root = busybox_root(&scratch.join(arch), arch);
        let platform = format!("linux/{arch}");
        let outcome = run(&step(&root, &platform, "true"), &mut |_, _| {});
        let ids = outcome.ids.expect("id maps");
        let expected = [
            Extent { inside: 0, outside: NOBODY, count: 1 },
            Extent { inside: 1, outside: SUBORDINATE_START, count: SUBORDINATE_COUNT },
        ];
        assert_eq!((ids.uids.as_slice(), ids.gids.as_slice()), (&expected[..], &expected[..]));
        assert!(ids.setgroups && ids.note.is_none(), "{ids:?}");
        check_user_steps(&root, &platform, &host_id);
    }
}
