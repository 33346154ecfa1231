//! arm64 containers and image builds on this x86_64 host with archway registered in the
//! host's binfmt_misc: the job of `docker run --privileged multiarch/qemu-user-static
//! --reset -p yes`, done by archway and checked with real engines (Debian's dockerd,
//! podman and buildah; scripts/install-container-engines.sh installs them).
//!
//! Containers run in the host's user namespace, whose binfmt_misc table is the host's:
//! this is the one test that registers there. It captures the table first and puts it
//! back exactly at the end, failing or not ([`HostTableGuard`]); the engines are private
//! (own storage, a dockerd on its own socket, no networks of their own) and stopped
//! before the test ends. Steps, in order:
//!
//! 1. Every entry is removed: with no handler, `docker run --platform linux/arm64` and
//!    `podman run` of an arm64 image (Debian's arm64 busybox-static) fail with
//!    `exec format error`.
//! 2. `binfmt/install.sh` installs the static binaries into a private prefix and runs
//!    `archway binfmt --reset -p yes`; then `docker run ... uname -m` prints `aarch64`
//!    and `podman run ... sh -c 'echo x | cat'` prints `x`.
//! 3. A Debian bookworm arm64 base: `debootstrap --arch=arm64` (the second stage's arm64
//!    dpkg, perl and shell run through binfmt_misc), imported into both engines.
//! 4. `DOCKER_BUILDKIT=1 docker build --platform linux/arm64` of tests/containers/debian
//!    (apt-get install, a pipeline, tcc compiling a program, a cross-compiled one), and
//!    the image it made runs.
//! 5. `buildah bud --platform linux/arm64` and `podman build --platform
//!    linux/amd64,linux/arm64 --manifest M` of tests/containers/multiarch; `podman
//!    manifest inspect M` lists both platforms and each image says what it was built on;
//!    `archway build` of the same Dockerfile for each platform, loaded into podman from
//!    docker archives, runs there and says the same.
//!
//!    5c. tests/build/multistage, the multi-stage build of tests/tests/build.rs (issue
//!    11): the Debian bookworm bases in a private registry on 127.0.0.1 and `archway
//!    manifest create/push` making them a two-platform `debian:bookworm`; `archway build`
//!    of each platform (one state directory for both) into a docker archive, which
//!    `podman load` and `docker load` both accept; `podman run` and `docker run` of each
//!    image print `compiled in the build, running on aarch64` (or `x86_64`), and its
//!    `describe` script, made by the BUILDPLATFORM stage, names its target.
//! 6. binfmt/Dockerfile, the image that replaces multiarch/qemu-user-static: `docker run
//!    --privileged IMG --uninstall 'archway-*'` brings `exec format error` back, and
//!    `docker run --privileged IMG` (`--reset -p yes`) makes arm64 run again
//!    (`--privileged` spelled out in parts where our bounding set lacks a capability:
//!    [`privileged_options`]).
//!
//! Builds pass `--network none` (podman/buildah) or `--network host` (docker, for apt), so
//! no engine creates bridges or firewall rules on the host.

use archway_tests::debian_bases;
use archway_tests::engines::{must, privileged_options, tail, Dockerd, Podman};
use archway_tests::host_binfmt::HostTableGuard;
use archway_tests::registry::Registry;
use archway_tests::{archway_bin, run_with_limit, workspace, Ending};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MINUTE: Duration = Duration::from_secs(60);
const BUSYBOX_IMAGE: &str = "localhost/archway-test/busybox:arm64";
const DEBIAN_IMAGE: &str = "localhost/archway-test/debian:arm64";
/// Applets linked in the busybox image.
const APPLETS: [&str; 12] = ["sh", "cat", "echo", "uname", "ls", "id", "wc", "tr", "head", "sort", "seq", "mkdir"];

/// Debian's busybox-static for `arch` (scripts/fetch-busybox.sh).
fn busybox(arch: &str) -> PathBuf {
    let path = workspace().join(".cache/busybox").join(arch).join("bin/busybox");
    assert!(path.is_file(), "{} missing: run scripts/fetch-busybox.sh", path.display());
    path
}

/// Run `cmd`; it must fail, saying `exec format error`.
fn exec_format_error(what: &str, cmd: &mut Command) {
    let out = run_with_limit(cmd, MINUTE);
    let all = format!("{}{}", out.stdout_text(), out.stderr_text());
    assert!(
        out.ending != Ending::Exited(0) && all.contains("exec format error"),
        "{what}: want a failure with `exec format error`, got {:?}:\n{}",
        out.ending,
        tail(&all)
    );
    eprintln!("containers: {what}: exec format error, as wanted");
}

/// `docker run --platform linux/arm64 BUSYBOX_IMAGE uname -m`.
fn arm64_uname(docker: &Dockerd) -> Command {
    let mut cmd = docker.docker();
    cmd.args(["run", "--rm", "--platform", "linux/arm64", BUSYBOX_IMAGE, "uname", "-m"]);
    cmd
}

/// `docker load` of an image that podman has: through a docker-archive.
fn podman_to_docker(podman: &Podman, docker: &Dockerd, image: &str, work: &Path) {
    let archive = work.join("transfer.tar");
    must(
        &format!("podman save {image}"),
        podman.podman().args(["save", "--format", "docker-archive", "-o"]).arg(&archive).arg(image),
        MINUTE,
    );
    must(&format!("docker load {image}"), docker.docker().arg("load").arg("-i").arg(&archive), MINUTE);
    let _ = std::fs::remove_file(&archive);
}

/// Import the directory `rootfs` as the arm64 image `name` into podman (and so buildah)
/// and docker.
fn import_rootfs(podman: &Podman, docker: &Dockerd, rootfs: &Path, name: &str, work: &Path) {
    let tar = work.join("rootfs.tar");
    must("tar the root", Command::new("tar").arg("-C").arg(rootfs).arg("-cf").arg(&tar).arg("."), 5 * MINUTE);
    must(
        &format!("podman import {name}"),
        podman
            .podman()
            .args(["import", "--arch", "arm64", "--os", "linux"])
            .args(["-c", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
            .arg(&tar)
            .arg(name),
        MINUTE,
    );
    let _ = std::fs::remove_file(&tar);
    podman_to_docker(podman, docker, name, work);
}

/// A root holding only Debian's arm64 busybox-static and links to a few applets.
fn busybox_rootfs(dir: &Path) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("rootfs");
    std::fs::copy(busybox("arm64"), bin.join("busybox")).expect("copy busybox");
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).expect("applet link");
    }
}

/// A build context: `source` (a directory of tests/containers) plus `extra` files.
fn context(work: &Path, source: &str, extra: &[(&Path, &str)]) -> PathBuf {
    let dir = work.join(format!("context-{source}"));
    std::fs::create_dir_all(&dir).expect("context");
    for file in std::fs::read_dir(workspace().join("tests/containers").join(source)).expect("context source").flatten()
    {
        std::fs::copy(file.path(), dir.join(file.file_name())).expect("copy context");
    }
    for (from, name) in extra {
        std::fs::copy(from, dir.join(name)).expect("copy into context");
    }
    dir
}

fn stdout_of(what: &str, cmd: &mut Command) -> String {
    must(what, cmd, 2 * MINUTE).stdout_text()
}

/// archway's `binfmt --json` status line.
fn status(archway: &Path) -> String {
    stdout_of("archway binfmt --json", Command::new(archway).args(["binfmt", "--json"]))
}

#[test]
fn arm64_containers_and_builds_with_archway_registered() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "containers and the host's binfmt_misc need root");
    let table = HostTableGuard::capture();
    eprintln!("containers: host binfmt_misc before: {:?}", table.saved().names());
    // Short: containerd's socket paths live under it.
    let work = PathBuf::from(format!("/tmp/archway-ct-{}", std::process::id()));
    archway_tests::engines::remove_tree(&work);
    std::fs::create_dir_all(&work).expect("work directory");
    let docker = Dockerd::start(&work.join("docker"));
    let podman = Podman::new(&work.join("podman"));
    let network = host_network();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| steps(&work, &docker, &podman)));
    drop(docker);
    drop(podman);
    archway_tests::engines::remove_tree(&work);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    table.finish().unwrap_or_else(|e| panic!("the host's binfmt_misc was not left as found: {e}"));
    assert_eq!(host_network(), network, "an engine changed the host's network (interfaces, forwarding)");
}

/// The host's network interfaces and IP forwarding, which no engine may change.
fn host_network() -> (Vec<String>, String) {
    let mut links: Vec<String> = std::fs::read_dir("/sys/class/net")
        .expect("/sys/class/net")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    links.sort();
    (links, std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap_or_default())
}

fn steps(work: &Path, docker: &Dockerd, podman: &Podman) {
    // 1. No handler at all.
    let archway = archway_bin();
    must("remove every binfmt_misc entry", Command::new(&archway).args(["binfmt", "--uninstall", "*"]), MINUTE);
    let before = status(&archway);
    assert!(before.contains("\"emulators\": []") && !before.contains("linux/arm64"), "{before}");
    let rootfs = work.join("busybox-root");
    busybox_rootfs(&rootfs);
    import_rootfs(podman, docker, &rootfs, BUSYBOX_IMAGE, work);
    exec_format_error("docker run without a handler", &mut arm64_uname(docker));
    exec_format_error(
        "podman run without a handler",
        podman.podman().args(["run", "--rm", "--platform", "linux/arm64", BUSYBOX_IMAGE, "uname", "-m"]),
    );

    // 2. Install and register as a user would.
    let prefix = work.join("prefix");
    let installed = must(
        "binfmt/install.sh",
        Command::new("bash").arg(workspace().join("binfmt/install.sh")).arg("--prefix").arg(&prefix),
        5 * MINUTE,
    );
    assert!(installed.stdout_text().contains("registered archway-aarch64"), "{}", installed.stdout_text());
    let archway = prefix.join("bin/archway");
    let again =
        stdout_of("archway binfmt --reset -p yes", Command::new(&archway).args(["binfmt", "--reset", "-p", "yes"]));
    assert!(again.contains("removed archway-aarch64") && again.contains("(flags \"PF\")"), "{again}");
    let after = status(&archway);
    assert!(after.contains("\"linux/arm64\"") && after.contains("\"flags\": \"PF\""), "{after}");
    let arch = stdout_of("docker run --platform linux/arm64 uname -m", &mut arm64_uname(docker));
    assert_eq!(arch, "aarch64\n");
    let x = stdout_of(
        "podman run --platform linux/arm64 sh -c 'echo x | cat'",
        podman.podman().args(["run", "--rm", "--platform", "linux/arm64", BUSYBOX_IMAGE, "sh", "-c", "echo x | cat"]),
    );
    assert_eq!(x, "x\n");

    // 3. The Debian base, bootstrapped through binfmt_misc.
    let debian = work.join("debian-root");
    let debs = workspace().join(".cache/debootstrap-debs");
    std::fs::create_dir_all(&debs).expect("deb cache");
    let mirror = std::env::var("MIRROR").unwrap_or_else(|_| "http://deb.debian.org/debian".into());
    must(
        "debootstrap --arch=arm64 bookworm (second stage through binfmt_misc)",
        Command::new("flock")
            .arg(&debs)
            .args(["debootstrap", "--arch=arm64", "--variant=minbase"])
            .arg(format!("--cache-dir={}", debs.display()))
            .arg("bookworm")
            .arg(&debian)
            .arg(&mirror),
        15 * MINUTE,
    );
    archway_tests::engines::remove_tree(&debian.join("proc"));
    archway_tests::engines::remove_tree(&debian.join("sys"));
    std::fs::create_dir_all(debian.join("proc")).expect("proc");
    std::fs::create_dir_all(debian.join("sys")).expect("sys");
    import_rootfs(podman, docker, &debian, DEBIAN_IMAGE, work);
    archway_tests::engines::remove_tree(&debian);

    // 4. docker build with BuildKit, every RUN step aarch64.
    let sha256 = workspace().join("fixtures/bin/sha256");
    let debian_context = context(work, "debian", &[(&sha256, "sha256")]);
    let built = must(
        "DOCKER_BUILDKIT=1 docker build --platform linux/arm64 (debian)",
        docker
            .docker()
            .args(["build", "--progress", "plain", "--network", "host", "--platform", "linux/arm64"])
            .args(["-t", "localhost/archway-test/built:arm64"])
            .arg(&debian_context),
        15 * MINUTE,
    );
    let log = built.stderr_text();
    assert!(log.contains("Setting up tcc"), "apt-get did not install tcc:\n{}", tail(&log));
    let results = stdout_of(
        "docker run the built image",
        docker
            .docker()
            .args(["run", "--rm", "--platform", "linux/arm64", "localhost/archway-test/built:arm64"])
            .args(["cat", "/pipeline.txt", "/hello.txt", "/sha256.txt"]),
    );
    assert_eq!(
        results, "1000 999 998 compiled in the build, running on aarch64: 42\nknown vectors: all ok\n",
        "the RUN steps' results"
    );
    let cmd = stdout_of(
        "docker run the built image's CMD",
        docker.docker().args(["run", "--rm", "--platform", "linux/arm64", "localhost/archway-test/built:arm64"]),
    );
    assert_eq!(cmd, "compiled in the build, running on aarch64: 42\n");

    // 5. buildah and podman, one platform and two.
    let busyboxes = [(busybox("arm64"), "busybox-arm64"), (busybox("amd64"), "busybox-amd64")];
    let extra: Vec<(&Path, &str)> = busyboxes.iter().map(|(p, n)| (p.as_path(), *n)).collect();
    let multiarch = context(work, "multiarch", &extra);
    let bud = must(
        "buildah bud --platform linux/arm64",
        podman
            .buildah()
            .args(["bud", "--network", "none", "--platform", "linux/arm64", "-t", "localhost/archway-test/bud:arm64"])
            .arg(&multiarch),
        5 * MINUTE,
    );
    let text = bud.stdout_text();
    assert!(text.contains("\nbuilt for aarch64\n") && text.contains("\nabc"), "{}", tail(&text));
    let manifest = "localhost/archway-test/multi:latest";
    let both = must(
        "podman build --platform linux/amd64,linux/arm64 --manifest",
        podman
            .podman()
            .args(["build", "--network", "none", "--platform", "linux/amd64,linux/arm64", "--manifest", manifest])
            .arg(&multiarch),
        5 * MINUTE,
    );
    let text = both.stdout_text();
    assert!(text.contains("built for aarch64") && text.contains("built for x86_64"), "{}", tail(&text));
    let inspect = stdout_of("podman manifest inspect", podman.podman().args(["manifest", "inspect", manifest]));
    for arch in ["\"architecture\": \"amd64\"", "\"architecture\": \"arm64\""] {
        assert!(inspect.contains(arch), "want {arch} in the manifest list:\n{inspect}");
    }
    for (platform, machine) in [("linux/arm64", "aarch64"), ("linux/amd64", "x86_64")] {
        let said = stdout_of(
            &format!("podman run {platform} image of the manifest"),
            podman.podman().args(["run", "--rm", "--platform", platform, manifest]),
        );
        assert_eq!(said, format!("built for {machine}\n"));
    }
    // 5b. The same Dockerfile built by archway build (no engine, no binfmt_misc needed),
    // each platform's image loaded into podman from a docker archive and run there.
    for (platform, arch, machine) in [("linux/arm64", "arm64", "aarch64"), ("linux/amd64", "amd64", "x86_64")] {
        let archive = work.join(format!("archway-built-{arch}.tar"));
        let name = format!("localhost/archway-test/archway-built:{arch}");
        let built = must(
            &format!("archway build --platform {platform} -o type=docker"),
            Command::new(archway_bin())
                .args(["build", "--platform", platform, "-t", &name, "-o"])
                .arg(format!("type=docker,dest={}", archive.display()))
                .arg("--interpreter-dir")
                .arg(prefix.join("bin"))
                .arg("--state-dir")
                .arg(work.join("archway-build-state"))
                .arg(&multiarch),
            5 * MINUTE,
        );
        assert!(built.stderr_text().contains(&format!("built for {machine}")), "{}", tail(&built.stderr_text()));
        must("podman load the archway-built image", podman.podman().arg("load").arg("-i").arg(&archive), MINUTE);
        let said = stdout_of(&format!("podman run {name}"), podman.podman().args(["run", "--rm", &name]));
        assert_eq!(said, format!("built for {machine}\n"));
    }

    // 5c. tests/build/multistage from a private registry, run by podman and docker.
    multistage_images_run_by_both_engines(work, docker, podman, &prefix.join("bin"));

    // 6. Registration from a privileged container (binfmt/Dockerfile).
    let image = "localhost/archway-test/binfmt:latest";
    must(
        "docker build binfmt/Dockerfile",
        docker
            .docker()
            .args(["build", "--network", "none", "-t", image, "-f"])
            .arg(workspace().join("binfmt/Dockerfile"))
            .arg(prefix.join("bin")),
        5 * MINUTE,
    );
    let privileged = privileged_options();
    let removed = stdout_of(
        "docker run --privileged binfmt --uninstall 'archway-*'",
        docker.docker().args(["run", "--rm"]).args(&privileged).args([image, "--uninstall", "archway-*"]),
    );
    assert!(removed.contains("removed archway-aarch64"), "{removed}");
    exec_format_error("docker run after the container removed archway", &mut arm64_uname(docker));
    let registered = stdout_of(
        "docker run --privileged binfmt (--reset -p yes)",
        docker.docker().args(["run", "--rm"]).args(&privileged).arg(image),
    );
    assert!(registered.contains("registered archway-aarch64 -> /usr/local/bin/archway-aarch64"), "{registered}");
    let arch =
        stdout_of("docker run --platform linux/arm64 uname -m, registered from a container", &mut arm64_uname(docker));
    assert_eq!(arch, "aarch64\n");
    let seen = stdout_of(
        "docker run --privileged binfmt --json",
        docker.docker().args(["run", "--rm"]).args(&privileged).args([image, "--json"]),
    );
    assert!(seen.contains("\"supported\": [\"linux/arm64\", \"linux/amd64\"]"), "{seen}");
}

/// Step 5c: tests/build/multistage built by `archway build` for each platform from a
/// two-platform `debian:bookworm` in a private registry, each docker archive loaded and
/// run by podman and by docker. `interpreters`: the installed static binaries.
fn multistage_images_run_by_both_engines(work: &Path, docker: &Dockerd, podman: &Podman, interpreters: &Path) {
    let started = Instant::now();
    let registry = Registry::start(&work.join("registry"), None);
    let host = registry.host();
    debian_bases::push_to(&host);
    let manifest = |args: &[&str]| {
        let mut cmd = Command::new(archway_bin());
        cmd.arg("manifest").args(args).arg("--tls-verify=false").env("ARCHWAY_MANIFESTS", work.join("manifests"));
        cmd
    };
    let bases: Vec<String> =
        debian_bases::ARCHES.iter().map(|arch| format!("docker://{host}/debian:bookworm-{arch}")).collect();
    let mut create = manifest(&["create", "debian"]);
    create.args(&bases);
    must("archway manifest create debian (both bases)", &mut create, MINUTE);
    let index = format!("docker://{host}/debian:bookworm");
    must("archway manifest push debian:bookworm", &mut manifest(&["push", "debian", &index]), MINUTE);

    let state = work.join("multistage-state");
    for (platform, arch, machine) in [("linux/arm64", "arm64", "aarch64"), ("linux/amd64", "amd64", "x86_64")] {
        let archive = work.join(format!("multistage-{arch}.tar"));
        let name = format!("localhost/archway-test/multistage:{arch}");
        let built = must(
            &format!("archway build --platform {platform} tests/build/multistage -o type=docker"),
            Command::new(archway_bin())
                .args(["build", "--platform", platform, "--build-arg", &format!("REGISTRY={host}")])
                .args(["--tls-verify=false", "-t", &name, "-o"])
                .arg(format!("type=docker,dest={}", archive.display()))
                .arg("--interpreter-dir")
                .arg(interpreters)
                .arg("--state-dir")
                .arg(&state)
                .arg(workspace().join("tests/build/multistage")),
            15 * MINUTE,
        );
        let hello = format!("compiled in the build, running on {machine}\n");
        assert!(built.stderr_text().contains(&hello), "{}", tail(&built.stderr_text()));
        must(&format!("podman load {name}"), podman.podman().arg("load").arg("-i").arg(&archive), MINUTE);
        must(&format!("docker load {name}"), docker.docker().arg("load").arg("-i").arg(&archive), MINUTE);
        let describe = format!("target {arch}: prepared on x86_64 for {platform}\n");
        for (command, expected) in [(None, &hello), (Some("describe"), &describe)] {
            for (engine, mut run) in [("podman", podman.podman()), ("docker", docker.docker())] {
                run.args(["run", "--rm", "--platform", platform, &name]).args(command);
                let what = format!("{engine} run --platform {platform} {name} {}", command.unwrap_or("(CMD)"));
                assert_eq!(&stdout_of(&what, &mut run), expected);
            }
        }
        let _ = std::fs::remove_file(&archive);
    }
    drop(registry);
    eprintln!("containers: step 5c (multistage, both engines) took {:.0} s", started.elapsed().as_secs_f64());
}
