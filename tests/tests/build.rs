//! `archway build` end to end, with real consumers of what it writes:
//!
//! - Debian bookworm base images for amd64 and arm64 made here (scripts/
//!   debian-base-images.sh: debootstrap, umoci) and pushed to a real registry (Debian's
//!   docker-registry on 127.0.0.1, started and stopped by scripts/registry.sh), then
//!   `archway manifest create/annotate/inspect/push/rm` making `debian:bookworm`, a
//!   two-platform index of them, in the registry;
//! - tests/build/multistage built for linux/amd64 and linux/arm64 in one run: a stage on
//!   the build platform preparing files for the target (BUILDPLATFORM/TARGETARCH), then
//!   per platform `apt-get install gcc` and a C program compiled and run (arm64 under the
//!   translator, no binfmt_misc entry), output as an OCI layout, an OCI archive and
//!   pushed to the registry;
//! - the layout validates against the OCI image-spec, `skopeo inspect --raw` reads the
//!   index's exact bytes from the layout and from the registry, each platform's image
//!   unpacks with `umoci unpack` and holds a program for its architecture, `skopeo copy
//!   --all` pulls back byte-identical blobs, a one-platform docker archive loads into
//!   podman;
//! - a rebuild with nothing changed runs no step and gives the same image (with or
//!   without SOURCE_DATE_EPOCH); two builds of tests/build/small in
//!   separate state directories with the same SOURCE_DATE_EPOCH give the same digest;
//! - a syntax error, a failing step and a source outside the context fail with their
//!   Dockerfile line, and nothing is written at the destination;
//! - `--build-context` images and directories read by `FROM`, `COPY --from` and
//!   `RUN --mount` (bind, read-only and writable, from stages too; tmpfs), cached by
//!   what they hold; `--secret` and `--ssh` seen by the steps only;
//! - platforms build at the same time, and the first failure stops the others.
//! - `--progress`: the live view on a terminal (`script` makes one), BuildKit's plain
//!   lines elsewhere, `BUILDKIT_PROGRESS`.

use archway_tests::debian_bases;
use archway_tests::image_spec::validate_layout;
use archway_tests::images::{read_json, run};
use archway_tests::registry::Registry;
use archway_tests::sandboxed::{interpreter_dir, AS_NOBODY_WITH_SUBORDINATE_IDS};
use archway_tests::{archway_bin, run_with_limit, workspace, Ending, Outcome};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(900);

/// `archway build ARGS` with the interpreter directory and a state directory.
fn build(state: &Path, args: &[&str]) -> Outcome {
    let mut cmd = Command::new(archway_bin());
    cmd.arg("build").arg("--interpreter-dir").arg(interpreter_dir()).arg("--state-dir").arg(state).args(args);
    run_with_limit(&mut cmd, LIMIT)
}

fn must_build(what: &str, state: &Path, args: &[&str]) -> (String, String) {
    let out = build(state, args);
    assert_eq!(out.ending, Ending::Exited(0), "{what}: {:?}\n{}", out.ending, out.stderr_text());
    (out.stdout_text().trim().to_owned(), out.stderr_text())
}

/// `archway-build-NAME-PID` in the temporary directory, empty; a test removes it when
/// it passes and leaves it to look at when it fails.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archway-build-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The blob `digest` of the layout at `dir`.
fn blob(dir: &Path, digest: &str) -> Vec<u8> {
    std::fs::read(dir.join("blobs/sha256").join(digest.trim_start_matches("sha256:"))).unwrap()
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    let out = Command::new("skopeo").args(args).output().expect("skopeo runs");
    assert!(out.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn a_multi_platform_multi_stage_build_read_back_by_real_consumers() {
    let dir = fresh_dir("test");
    let registry = Registry::start(&dir.join("registry"), None);
    let host = registry.host();
    debian_bases::push_to(&host);
    manifest_round_trip(&dir, &host);
    let state = dir.join("state");
    let out = dir.join("out");
    let archive = dir.join("out.tar");
    let context = workspace().join("tests/build/multistage");
    let pushed = format!("{host}/archway-test/app:1");
    let common = [
        "--platform",
        "linux/amd64,linux/arm64",
        "--build-arg",
        &format!("REGISTRY={host}"),
        "--build-arg",
        "SOURCE_DATE_EPOCH=1700000000",
        "--tls-verify=false",
        "-t",
        &pushed,
    ];
    let outputs = [
        "-o".to_owned(),
        format!("type=oci,dest={}", out.display()),
        "-o".to_owned(),
        format!("type=oci,dest={}", archive.display()),
        "-o".to_owned(),
        "type=registry".to_owned(),
    ];
    let mut args: Vec<&str> = common.to_vec();
    args.extend(outputs.iter().map(String::as_str));
    args.push(context.to_str().unwrap());
    let (digest, log) = must_build("the multi-stage build", &state, &args);
    assert!(log.contains("compiled in the build, running on x86_64"), "{log}");
    assert!(log.contains("compiled in the build, running on aarch64"), "{log}");

    // The layout: valid, read by skopeo exactly, one image per platform.
    let report =
        validate_layout(&out).unwrap_or_else(|e| panic!("{} breaks the image-spec:\n{}", out.display(), e.join("\n")));
    assert_eq!((report.indexes, report.manifests), (2, 2), "{report:?}");
    let index_bytes = blob(&out, &digest);
    assert_eq!(skopeo(&["inspect", "--raw", &format!("oci:{}:1", out.display())]), index_bytes);
    let index: serde_json::Value = serde_json::from_slice(&index_bytes).unwrap();
    let platforms: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!("{}/{}", m["platform"]["os"].as_str().unwrap(), m["platform"]["architecture"].as_str().unwrap())
        })
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    for (arch, machine) in [("amd64", 62u16), ("arm64", 183u16)] {
        let single = dir.join(format!("single-{arch}"));
        skopeo(&[
            "copy",
            "-q",
            "--override-arch",
            arch,
            &format!("oci:{}:1", out.display()),
            &format!("oci:{}:{arch}", single.display()),
        ]);
        let bundle = dir.join(format!("bundle-{arch}"));
        run(Command::new("umoci")
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:{arch}", single.display()))
            .arg(&bundle));
        let hello = std::fs::read(bundle.join("rootfs/usr/local/bin/hello")).unwrap();
        assert_eq!(u16::from_le_bytes([hello[18], hello[19]]), machine, "{arch}: hello's ELF machine");
        let prepared = std::fs::read_to_string(bundle.join("rootfs/etc/prepared.txt")).unwrap();
        assert_eq!(prepared, format!("prepared on x86_64 for linux/{arch}\n"));
        let config = read_json(&bundle.join("config.json"));
        assert_eq!(config["process"]["args"], serde_json::json!(["hello"]));
    }
    // The archive and the registry hold the same index.
    assert_eq!(skopeo(&["inspect", "--raw", &format!("oci-archive:{}", archive.display())]), index_bytes);
    assert_eq!(skopeo(&["inspect", "--raw", "--tls-verify=false", &format!("docker://{pushed}")]), index_bytes);
    let pulled = dir.join("pulled");
    skopeo(&[
        "copy",
        "-q",
        "--all",
        "--src-tls-verify=false",
        &format!("docker://{pushed}"),
        &format!("oci:{}:1", pulled.display()),
    ]);
    for entry in std::fs::read_dir(pulled.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        assert_eq!(
            std::fs::read(entry.path()).unwrap(),
            std::fs::read(out.join("blobs/sha256").join(entry.file_name())).unwrap(),
            "blob {:?} differs after the round trip",
            entry.file_name()
        );
    }

    // Nothing changed: every step from the cache, the same digest.
    let (again, log) = must_build("the rebuild", &state, &args);
    assert_eq!(again, digest, "the rebuild gives the same index");
    assert_eq!(log.lines().filter(|l| l.ends_with(" CACHED")).count(), 14, "every step cached:\n{log}");

    // One platform as a docker archive, loaded by podman.
    let docker_archive = dir.join("arm64.tar");
    let mut one: Vec<&str> = vec!["--platform", "linux/arm64"];
    one.extend(&common[2..]);
    let docker_output = format!("type=docker,dest={}", docker_archive.display());
    one.extend(["-o", &docker_output, context.to_str().unwrap()]);
    must_build("the arm64 docker archive", &state, &one);
    let podman = archway_tests::engines::Podman::new(&dir.join("podman"));
    let loaded = run_with_limit(podman.podman().arg("load").arg("-i").arg(&docker_archive), LIMIT);
    assert_eq!(loaded.ending, Ending::Exited(0), "podman load: {}", loaded.stderr_text());
    let inspect =
        run_with_limit(podman.podman().args(["image", "inspect", "--format", "{{.Architecture}}", &pushed]), LIMIT);
    assert_eq!(inspect.stdout_text().trim(), "arm64", "{}", inspect.stderr_text());
    drop(podman);
    drop(registry);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `archway manifest` against the registry: a list of the two per-platform base images
/// (nothing copied first), an entry annotated, nonsense refused, the list inspected and
/// pushed as `debian:bookworm` with its images, read back exactly by skopeo.
fn manifest_round_trip(dir: &Path, host: &str) {
    let manifest = |args: &[&str]| {
        let mut cmd = Command::new(archway_bin());
        cmd.arg("manifest").args(args).env("ARCHWAY_MANIFESTS", dir.join("lists"));
        run_with_limit(&mut cmd, LIMIT)
    };
    let must = |args: &[&str]| {
        let out = manifest(args);
        assert_eq!(out.ending, Ending::Exited(0), "archway manifest {args:?}: {}", out.stderr_text());
        out.stdout_text()
    };
    let amd64 = format!("docker://{host}/debian:bookworm-amd64");
    let arm64 = format!("docker://{host}/debian:bookworm-arm64");
    must(&["create", "debian-list", &amd64, &arm64, "--tls-verify=false"]);
    let again = manifest(&["create", "debian-list", &amd64, "--tls-verify=false"]);
    assert!(again.ending == Ending::Exited(1) && again.stderr_text().contains("--amend"), "{}", again.stderr_text());
    let listed: serde_json::Value = serde_json::from_str(&must(&["inspect", "debian-list", "--json"])).unwrap();
    let entries = listed["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[0]["platform"].as_str(), entries[1]["platform"].as_str()),
        (Some("linux/amd64"), Some("linux/arm64"))
    );
    let arm64_digest = entries[1]["digest"].as_str().unwrap().to_owned();
    must(&["annotate", "debian-list", &arm64_digest, "--variant", "v8", "--os-features", "archway"]);
    let nonsense = manifest(&["annotate", "debian-list", &arm64_digest, "--arch", "arm 64"]);
    assert_eq!(nonsense.ending, Ending::Exited(1), "{}", nonsense.stderr_text());
    let raw = must(&["inspect", "debian-list", "--raw"]);
    let index: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        index["manifests"][1]["platform"],
        serde_json::json!({"os": "linux", "architecture": "arm64", "os.features": ["archway"]})
    );
    let pushed = format!("docker://{host}/debian:bookworm");
    must(&["push", "debian-list", &pushed, "--tls-verify=false"]);
    assert_eq!(skopeo(&["inspect", "--raw", "--tls-verify=false", &pushed]), raw.as_bytes());
    let remote: serde_json::Value =
        serde_json::from_str(&must(&["inspect", &pushed, "--json", "--tls-verify=false"])).unwrap();
    assert_eq!(remote["manifests"].as_array().map(Vec::len), Some(2));
    must(&["rm", "debian-list"]);
    assert_eq!(manifest(&["rm", "debian-list"]).ending, Ending::Exited(1));
}

#[test]
fn reproducible_digests_the_cache_and_failures_with_their_lines() {
    let dir = fresh_dir("small");
    let base = format!("BASE=oci:{}:bookworm-arm64", debian_bases::layout().display());
    let context = workspace().join("tests/build/small");
    let small = |state: &str, out: &Path, extra: &[&str]| {
        let output = format!("type=oci,dest={}", out.display());
        let mut args = vec!["--platform", "linux/arm64", "--build-arg", &base, "-o", &output, "-t", "small:1"];
        args.extend(extra);
        args.push(context.to_str().unwrap());
        build(&dir.join(state), &args)
    };
    let epoch = ["--build-arg", "SOURCE_DATE_EPOCH=1700000000"];
    let first = small("state-a", &dir.join("a"), &epoch);
    assert_eq!(first.ending, Ending::Exited(0), "{}", first.stderr_text());
    assert!(first.stderr_text().contains("hello from aarch64 (arm64)"), "{}", first.stderr_text());
    let second = small("state-b", &dir.join("b"), &epoch);
    assert_eq!(second.stdout_text(), first.stdout_text(), "same inputs, same SOURCE_DATE_EPOCH: same digest");
    let cached = small("state-a", &dir.join("c"), &epoch);
    assert_eq!(cached.stdout_text(), first.stdout_text());
    assert_eq!(cached.stderr_text().matches("CACHED").count(), 4, "{}", cached.stderr_text());
    // Without SOURCE_DATE_EPOCH the image is dated by when its steps first ran: built
    // again from the cache, it is the same image.
    let undated = small("state-c", &dir.join("d"), &[]);
    assert_eq!(small("state-c", &dir.join("e"), &[]).stdout_text(), undated.stdout_text());

    // A failing step: its line and platform, exit 1, nothing at the destination.
    let failed = small("state-a", &dir.join("failed"), &["--build-arg", "FAIL=yes"]);
    assert_eq!(failed.ending, Ending::Exited(1));
    let stderr = failed.stderr_text();
    assert!(
        stderr.contains("failing as asked")
            && stderr.contains("Dockerfile:11: [linux/arm64]")
            && stderr.contains("exit code: 3"),
        "{stderr}"
    );
    assert!(!dir.join("failed").exists(), "nothing written after a failed step");

    // A syntax error and a source outside the context.
    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    for (dockerfile, expected) in [
        ("FROM scratch\nENV PATH\n", "Dockerfile:2: ENV must have two arguments"),
        (
            "FROM scratch\nCOPY ../secret /\n",
            "Dockerfile:2: [linux/arm64] ../secret: forbidden path outside the build context",
        ),
    ] {
        std::fs::write(broken.join("Dockerfile"), dockerfile).unwrap();
        let output = format!("type=oci,dest={}", dir.join("never").display());
        let out = build(&dir.join("state-a"), &["--platform", "linux/arm64", "-o", &output, broken.to_str().unwrap()]);
        assert_eq!(out.ending, Ending::Exited(1), "{dockerfile}: {}", out.stderr_text());
        assert!(out.stderr_text().contains(expected), "{dockerfile}: {}", out.stderr_text());
        assert!(!dir.join("never").exists());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A rootless build: `nobody`, with subordinate ids in /etc/subuid and /etc/subgid (bound
/// over the host's files in a private mount namespace, so the host's stay as they are),
/// builds tests/build/small for arm64; the build runs as root of a user namespace of its
/// own (nobody mapped to 0, the subordinate ids to 1 and up) and the files of its layers
/// belong to root, not to nobody's host ids.
#[test]
fn a_rootless_build_as_nobody() {
    let dir = fresh_dir("rootless");
    // nobody's own copies of the base image and the context.
    let bases = dir.join("bases");
    run(Command::new("cp").arg("-r").arg(debian_bases::layout()).arg(&bases));
    let base = format!("BASE=oci:{}:bookworm-arm64", bases.display());
    let context = dir.join("context");
    run(Command::new("cp").arg("-r").arg(workspace().join("tests/build/small")).arg(&context));
    run(Command::new("chown").arg("-R").arg("65534:65534").arg(&dir));
    let script = AS_NOBODY_WITH_SUBORDINATE_IDS;
    let out = dir.join("out");
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-ec", script, "sh"])
        .arg(archway_bin())
        .args(["build", "--platform", "linux/arm64", "--build-arg", &base, "-t", "small:1", "-o"])
        .arg(format!("type=oci,dest={}", out.display()))
        .arg("--interpreter-dir")
        .arg(interpreter_dir())
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg(&context)
        .env("SCRATCH", &dir)
        .env("RANGES", "nobody:200000:65536\n")
        .env("HOME", &dir);
    let built = run_with_limit(&mut cmd, LIMIT);
    assert_eq!(built.ending, Ending::Exited(0), "{}", built.stderr_text());
    assert!(built.stderr_text().contains("hello from aarch64 (arm64)"), "{}", built.stderr_text());
    validate_layout(&out).unwrap_or_else(|e| panic!("{}", e.join("\n")));
    let bundle = dir.join("bundle");
    run(Command::new("umoci").arg("unpack").arg("--image").arg(format!("{}:1", out.display())).arg(&bundle));
    use std::os::unix::fs::MetadataExt;
    let copied = std::fs::metadata(bundle.join("rootfs/app/greeting.txt")).unwrap();
    assert_eq!((copied.uid(), copied.gid()), (0, 0), "COPY's files belong to root in the image");
    let made = std::fs::metadata(bundle.join("rootfs/app/out.txt")).unwrap();
    assert_eq!((made.uid(), made.gid()), (0, 0), "a RUN step's files belong to root in the image, not to nobody");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ADD`: a local tar.gz extracted into the destination, a URL (served here over HTTP on
/// 127.0.0.1) downloaded with mode 0600, a gzip file that holds no tar copied as it is.
#[test]
fn add_extracts_archives_and_downloads_urls() {
    use std::io::{Read, Write};
    let dir = fresh_dir("add");
    let context = dir.join("context");
    std::fs::create_dir_all(context.join("tools")).unwrap();
    std::fs::write(context.join("tools/version"), "tools 1.2\n").unwrap();
    run(Command::new("tar").arg("-czf").arg(context.join("tools.tar.gz")).arg("-C").arg(&context).arg("tools"));
    run(Command::new("sh").arg("-c").arg(format!("echo not a tar | gzip > {}/plain.gz", context.display())));
    std::fs::write(
        context.join("Dockerfile"),
        "ARG BASE\nFROM ${BASE}\nARG URL\nADD tools.tar.gz /opt/\nADD ${URL} /downloads/\nADD plain.gz /keep/\n\
         RUN cat /opt/tools/version /downloads/served.txt && stat -c '%a %n' /downloads/served.txt\n",
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let body = "served over http\n";
            let _ = write!(stream, "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        }
    });
    let base = format!("BASE=oci:{}:bookworm-arm64", debian_bases::layout().display());
    let url = format!("URL=http://127.0.0.1:{port}/files/served.txt");
    let out = dir.join("out");
    let output = format!("type=oci,dest={}", out.display());
    let result = build(
        &dir.join("state"),
        &[
            "--platform",
            "linux/arm64",
            "--build-arg",
            &base,
            "--build-arg",
            &url,
            "-o",
            &output,
            "-t",
            "add:1",
            context.to_str().unwrap(),
        ],
    );
    assert_eq!(result.ending, Ending::Exited(0), "{}", result.stderr_text());
    let log = result.stderr_text();
    assert!(
        log.contains("tools 1.2") && log.contains("served over http") && log.contains("600 /downloads/served.txt"),
        "{log}"
    );
    let bundle = dir.join("bundle");
    run(Command::new("umoci").arg("unpack").arg("--image").arg(format!("{}:1", out.display())).arg(&bundle));
    let kept = std::fs::read(bundle.join("rootfs/keep/plain.gz")).unwrap();
    assert_eq!(&kept[..2], &[0x1f, 0x8b], "a gzip file without a tar inside is copied as it is");
    // --checksum: a download that does not match fails the step.
    let wrong = format!("sha256:{}", "0".repeat(64));
    std::fs::write(
        context.join("Dockerfile.checksum"),
        format!("FROM scratch\nARG URL\nADD --checksum={wrong} ${{URL}} /x\n"),
    )
    .unwrap();
    let dockerfile = context.join("Dockerfile.checksum");
    let checked = build(
        &dir.join("state"),
        &[
            "--platform",
            "linux/arm64",
            "--build-arg",
            &url,
            "-f",
            dockerfile.to_str().unwrap(),
            context.to_str().unwrap(),
        ],
    );
    assert_eq!(checked.ending, Ending::Exited(1), "{}", checked.stderr_text());
    assert!(checked.stderr_text().contains(&format!("not --checksum={wrong}")), "{}", checked.stderr_text());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ctrl-C during a `RUN`: the step's processes die with its namespace, the build exits
/// 130 saying it was interrupted, its scratch directory is gone, nothing is written.
#[test]
fn ctrl_c_stops_the_running_step_and_cleans_up() {
    let dir = fresh_dir("interrupt");
    let context = dir.join("context");
    std::fs::create_dir_all(&context).unwrap();
    // The step's processes carry this variable (processes_with finds them by it).
    let marker = format!("ARCHWAY_INTERRUPT_TEST={}", std::process::id());
    std::fs::write(context.join("Dockerfile"), format!("ARG BASE\nFROM ${{BASE}}\nENV {marker}\nRUN sleep 1000\n"))
        .unwrap();
    let base = format!("BASE=oci:{}:bookworm-amd64", debian_bases::layout().display());
    let out = dir.join("out");
    let state = dir.join("state");
    let mut child = Command::new(archway_bin())
        .args(["build", "--platform", "linux/amd64", "--build-arg", &base, "-o"])
        .arg(format!("type=oci,dest={}", out.display()))
        .arg("--state-dir")
        .arg(&state)
        .arg(&context)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while archway_tests::sandboxed::processes_with(&marker).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(120), "the RUN step never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: kill has no preconditions; the pid is our child's.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(archway_tests::sandboxed::processes_with(&marker).is_empty(), "the step's processes are gone");
    assert!(!out.exists(), "nothing written");
    let leftovers: Vec<_> = std::fs::read_dir(state.join("tmp")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(leftovers.is_empty(), "the scratch directory is removed: {leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--build-context`: an image from an OCI layout as `FROM base` (and `COPY --from=base`),
/// a local directory (its `.dockerignore` applied) read by `COPY --from`, by a bind
/// mount (read-only, and writable with the writes discarded) and as the base of a stage;
/// a `tmpfs` mount; a bind mount of another stage. A changed file of the named directory
/// misses the cache of exactly the steps that read it.
#[test]
fn named_contexts_copy_from_images_and_bind_mounts() {
    let dir = fresh_dir("named");
    let (context, files) = (dir.join("context"), dir.join("files"));
    std::fs::create_dir_all(&context).unwrap();
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("data.txt"), "first\n").unwrap();
    std::fs::write(files.join("secret.txt"), "never copied\n").unwrap();
    std::fs::write(files.join(".dockerignore"), "secret.txt\n").unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM files AS plain\n\
         FROM base AS tools\n\
         RUN echo made in tools > /tools.txt\n\
         ONBUILD RUN echo triggered in $(pwd) > /trigger.txt\n\
         FROM tools AS triggered\n\
         WORKDIR /w\n\
         FROM base\n\
         COPY --from=triggered /trigger.txt /\n\
         COPY --from=files data.txt /from-dir/\n\
         COPY --from=files . /all/\n\
         COPY --from=docker.io/library/base:latest /etc/debian_version /from-image/\n\
         COPY --from=plain /data.txt /from-plain-stage.txt\n\
         RUN --mount=type=bind,from=files,target=/ctx cat /ctx/data.txt > /from-mount.txt\n\
         RUN --mount=type=bind,from=files,target=/ctx,rw echo changed > /ctx/data.txt && cat /ctx/data.txt > /rw.txt\n\
         RUN --mount=type=bind,from=tools,source=/tools.txt,target=/t.txt cp /t.txt /from-stage-mount.txt\n\
         RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && ls /scratch > /tmpfs.txt && test ! -e /scratch/x-left\n\
         ARG F=data.txt\n\
         RUN --mount=type=bind,from=files,source=$F,target=/d.txt cp /d.txt /from-expanded-mount.txt\n",
    )
    .unwrap();
    let base = format!("base=oci-layout://{}:bookworm-amd64", debian_bases::layout().display());
    let named = format!("files={}", files.display());
    let state = dir.join("state");
    let build_into = |out: &Path| {
        let output = format!("type=oci,dest={}", out.display());
        let args = ["--platform", "linux/amd64", "--build-context", &base, "--build-context", &named, "-t", "named:1"];
        let mut args = args.to_vec();
        args.extend(["-o", &output, context.to_str().unwrap()]);
        must_build("the build with named contexts", &state, &args).1
    };
    build_into(&dir.join("out"));
    let bundle = dir.join("bundle");
    run(Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!("{}:1", dir.join("out").display()))
        .arg(&bundle));
    let read = |path: &str| {
        std::fs::read_to_string(bundle.join("rootfs").join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    assert_eq!(read("from-dir/data.txt"), "first\n");
    assert!(!bundle.join("rootfs/all/secret.txt").exists(), "the named directory's .dockerignore applies");
    assert_eq!(read("all/data.txt"), "first\n");
    assert!(read("from-image/debian_version").starts_with("12."));
    assert_eq!(read("from-plain-stage.txt"), "first\n");
    assert_eq!(read("from-mount.txt"), "first\n");
    assert_eq!(read("rw.txt"), "changed\n");
    assert_eq!(
        std::fs::read_to_string(files.join("data.txt")).unwrap(),
        "first\n",
        "writes to a rw bind are discarded"
    );
    assert_eq!(read("from-stage-mount.txt"), "made in tools\n");
    assert_eq!(read("tmpfs.txt"), "x\n");
    assert_eq!(read("from-expanded-mount.txt"), "first\n", "a mount's source=$VAR is expanded, for its cache key too");
    assert_eq!(read("trigger.txt"), "triggered in /\n", "the base stage's ONBUILD ran first in the stage built on it");
    assert!(!bundle.join("rootfs/ctx").exists() && !bundle.join("rootfs/scratch").exists(), "mount points removed");

    // Unchanged: every step cached. One file changed: the steps that read the named
    // directory run again, the others stay cached.
    let again = build_into(&dir.join("again"));
    assert_eq!(again.matches("CACHED").count(), 13, "{again}");
    std::fs::write(files.join("data.txt"), "second\n").unwrap();
    let changed = build_into(&dir.join("changed"));
    assert_eq!(changed.matches("CACHED").count(), 4, "the steps before the first read of the directory: {changed}");
    let bundle = dir.join("bundle-changed");
    run(Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!("{}:1", dir.join("changed").display()))
        .arg(&bundle));
    for path in ["from-dir/data.txt", "from-plain-stage.txt", "from-mount.txt"] {
        assert_eq!(std::fs::read_to_string(bundle.join("rootfs").join(path)).unwrap(), "second\n", "{path}");
    }

    // Refusals: a git context, and a local context used where an image is needed.
    let out = build(&state, &["--build-context", "x=https://example.com/r.git", context.to_str().unwrap()]);
    assert_eq!(out.ending, Ending::Exited(2), "{}", out.stderr_text());
    assert!(out.stderr_text().contains("not supported yet"), "{}", out.stderr_text());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Platforms build at the same time, and the first to fail stops the others: amd64 fails
/// once arm64's step is running (it says so in a cache mount both see) and sleeping; the
/// build ends long before the sleep would, with amd64's error and line, and writes nothing.
#[test]
fn a_failing_platform_stops_the_others() {
    let dir = fresh_dir("cancel");
    let context = dir.join("context");
    std::fs::create_dir_all(&context).unwrap();
    for arch in ["amd64", "arm64"] {
        let busybox = workspace().join(".cache/busybox").join(arch).join("bin/busybox");
        std::fs::copy(&busybox, context.join(format!("busybox-{arch}"))).unwrap();
    }
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nARG TARGETARCH\nCOPY busybox-$TARGETARCH /bin/busybox\n\
         RUN --mount=type=cache,target=/shared [\"/bin/busybox\", \"sh\", \"-c\", \"if [ $(/bin/busybox uname -m) = aarch64 ]; \
         then /bin/busybox touch /shared/started; /bin/busybox sleep 300; \
         else i=0; while [ ! -e /shared/started ] && [ $i -lt 600 ]; do /bin/busybox sleep 0.1; i=$((i + 1)); done; exit 3; fi\"]\n",
    )
    .unwrap();
    let out = dir.join("out");
    let output = format!("type=oci,dest={}", out.display());
    let started = std::time::Instant::now();
    let failed =
        build(&dir.join("state"), &["--platform", "linux/amd64,linux/arm64", "-o", &output, context.to_str().unwrap()]);
    let stderr = failed.stderr_text();
    assert_eq!(failed.ending, Ending::Exited(1), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(120), "arm64's sleep was stopped: {stderr}");
    assert!(stderr.contains("Dockerfile:4: [linux/amd64]") && stderr.contains("exit code: 3"), "{stderr}");
    assert!(
        stderr.contains("[linux/arm64 stage-0 3/3] RUN") && stderr.contains("cancelled"),
        "arm64 ran at the same time and was stopped: {stderr}"
    );
    assert!(!out.exists(), "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--secret` and `--ssh`: a secret as a file (mode 0400, root's) and as a variable, an
/// agent socket with `SSH_AUTH_SOCK` pointing at it, an optional secret not given left
/// out; none of them in the image; a required one missing fails with its line.
#[test]
fn secrets_and_ssh_agents_reach_the_steps_only() {
    use std::io::Write;
    let dir = fresh_dir("secrets");
    let context = dir.join("context");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(dir.join("token"), "s3cret-value").unwrap();
    let socket = dir.join("agent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.write_all(b"the agent answers\n");
        }
    });
    std::fs::write(
        context.join("Dockerfile"),
        "FROM base\n\
         RUN --mount=type=secret,id=token { cat /run/secrets/token; echo; stat -c '%a %u' /run/secrets/token; } > /seen.txt\n\
         RUN --mount=type=secret,id=token,env=TOKEN echo \"$TOKEN\" > /env.txt && test ! -e /run/secrets/token\n\
         RUN --mount=type=secret,id=not-given true\n\
         RUN --mount=type=ssh perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Peer => $ENV{SSH_AUTH_SOCK}) or die \"connect: $!\"; print scalar <$s>' > /agent.txt\n\
         RUN ! env | grep -q s3cret\n",
    )
    .unwrap();
    let base = format!("base=oci-layout://{}:bookworm-amd64", debian_bases::layout().display());
    let secret = format!("id=token,src={}", dir.join("token").display());
    let agent = format!("default={}", socket.display());
    let out = dir.join("out");
    let output = format!("type=oci,dest={}", out.display());
    let state = dir.join("state");
    let common = ["--platform", "linux/amd64", "--build-context", &base, "--secret", &secret, "--ssh", &agent];
    let mut args = common.to_vec();
    args.extend(["-t", "s:1", "-o", &output, context.to_str().unwrap()]);
    must_build("the build with secrets", &state, &args);
    let bundle = dir.join("bundle");
    run(Command::new("umoci").arg("unpack").arg("--image").arg(format!("{}:1", out.display())).arg(&bundle));
    let read = |path: &str| std::fs::read_to_string(bundle.join("rootfs").join(path)).unwrap();
    assert_eq!(read("seen.txt"), "s3cret-value\n400 0\n");
    assert_eq!(read("env.txt"), "s3cret-value\n");
    assert_eq!(read("agent.txt"), "the agent answers\n");
    assert!(!bundle.join("rootfs/run/secrets/token").exists() && !bundle.join("rootfs/run/buildkit").exists());
    let config = std::fs::read_to_string(bundle.join("config.json")).unwrap();
    assert!(!config.contains("s3cret"), "the secret is not in the image's configuration");

    std::fs::write(context.join("Dockerfile"), "FROM base\nRUN --mount=type=secret,id=nope,required true\n").unwrap();
    let mut args = common.to_vec();
    args.push(context.to_str().unwrap());
    let failed = build(&state, &args);
    assert_eq!(failed.ending, Ending::Exited(1), "{}", failed.stderr_text());
    assert!(
        failed.stderr_text().contains("Dockerfile:2: [linux/amd64] secret nope: not found"),
        "{}",
        failed.stderr_text()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--progress`: on a terminal (`script` runs the build on a pseudo-terminal) the live view
/// is drawn and each step collapses to its line with `DONE` or `CACHED`; off a terminal
/// `auto` is BuildKit's plain lines without a control sequence, `--progress tty` is
/// refused, and `BUILDKIT_PROGRESS=quiet` leaves only the digest.
#[test]
fn progress_on_a_terminal_and_off_it() {
    let dir = fresh_dir("progress");
    let context = dir.join("context");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(context.join("Dockerfile"), "FROM scratch\nCOPY a.txt /a.txt\nCOPY b.txt /b/\n").unwrap();
    std::fs::write(context.join("a.txt"), "a\n").unwrap();
    std::fs::write(context.join("b.txt"), "b\n").unwrap();
    let state = dir.join("state");
    let archway = |progress: &str| {
        let mut cmd = Command::new(archway_bin());
        cmd.args(["build", "--progress", progress, "--platform", "linux/arm64", "--state-dir"])
            .arg(&state)
            .arg(&context)
            .env_remove("BUILDKIT_PROGRESS");
        cmd
    };
    let on_terminal = |what: &str| {
        let command = format!(
            "{} build --progress tty --platform linux/arm64 --state-dir {} {}",
            archway_bin().display(),
            state.display(),
            context.display()
        );
        let mut script = Command::new("script");
        script.args(["-qfec", &command, "/dev/null"]).env_remove("BUILDKIT_PROGRESS");
        let out = run_with_limit(&mut script, LIMIT);
        assert_eq!(out.ending, Ending::Exited(0), "{what}: {}{}", out.stdout_text(), out.stderr_text());
        out.stdout_text()
    };
    let first = on_terminal("the first build");
    assert!(first.contains("\x1b[") && first.contains(" [linux/arm64 stage-0 1/2] COPY a.txt /a.txt "), "{first}");
    for line in
        ["#1 [linux/arm64 stage-0 1/2] COPY a.txt /a.txt  DONE ", "#2 [linux/arm64 stage-0 2/2] COPY b.txt /b/  DONE "]
    {
        assert!(first.contains(line), "{line:?} in {first}");
    }
    let again = on_terminal("the cached build");
    assert!(again.contains("#2 [linux/arm64 stage-0 2/2] COPY b.txt /b/  CACHED"), "{again}");

    let plain = run_with_limit(&mut archway("auto"), LIMIT);
    assert_eq!(plain.ending, Ending::Exited(0), "{}", plain.stderr_text());
    let log = plain.stderr_text();
    assert!(log.contains("#1 [linux/arm64 stage-0 1/2] COPY a.txt /a.txt\n#1 CACHED\n"), "{log}");
    assert!(!log.contains('\x1b'), "no control sequence off a terminal: {log:?}");

    let refused = run_with_limit(&mut archway("tty"), LIMIT);
    assert_eq!(refused.ending, Ending::Exited(2));
    assert!(
        refused.stderr_text().contains("--progress=tty: standard error is not a terminal"),
        "{}",
        refused.stderr_text()
    );

    let quiet = run_with_limit(archway("auto").env("BUILDKIT_PROGRESS", "quiet"), LIMIT);
    assert_eq!(quiet.ending, Ending::Exited(0), "{}", quiet.stderr_text());
    assert!(!quiet.stderr_text().contains("COPY"), "{}", quiet.stderr_text());
    assert!(quiet.stdout_text().starts_with("sha256:"), "{}", quiet.stdout_text());
    let _ = std::fs::remove_dir_all(&dir);
}
