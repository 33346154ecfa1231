//! `archway check` on images built here from Debian packages, busybox-static and
//! cross-compiled C (tests/src/images.rs), as OCI layouts, OCI and Docker archives and
//! in a real registry (Debian's docker-registry on 127.0.0.1, started and stopped by
//! scripts/registry.sh): every kind of image the issue names gets its verdict and exit
//! code, with the finding that explains it. The smoke tests of foreign platforms run
//! under the static interpreter (`$ARCHWAY_STATIC_BIN`, scripts/build-static.sh).
//!
//! The images themselves are first validated against the OCI image-spec and read back by
//! `skopeo inspect`, so a verdict is never about a malformed test image.
//!
//! One test builds every image once and checks them all, then cleans up (unless
//! `ARCHWAY_KEEP_CHECK_IMAGES` is set); the failures of all cases are reported together.

use archway_tests::image_spec::validate_layout;
use archway_tests::images::{add_index, put_blob, read_json, run, tagged, Content, Image};
use archway_tests::registry::Registry;
use archway_tests::sandboxed::interpreter_dir;
use archway_tests::{archway_bin, run_with_limit, workspace, Ending, Outcome};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn check(args: &[&str]) -> Outcome {
    let mut cmd = Command::new(archway_bin());
    cmd.arg("check").args(args).arg("--interpreter-dir").arg(interpreter_dir()).arg("--quiet");
    run_with_limit(&mut cmd, Duration::from_secs(180))
}

/// Compile `source` (C) with `compiler` and `flags` into `output`.
fn compile(compiler: &str, source: &str, flags: &[&str], output: &Path) {
    let c = output.with_extension("c");
    std::fs::write(&c, source).unwrap();
    run(Command::new(compiler).arg("-O2").arg("-o").arg(output).arg(&c).args(flags));
}

/// One case: the image, the options, the exit code, and kinds of findings that must be
/// there (and, for `ready`, none of blocker or warning severity).
struct Case {
    name: &'static str,
    image: String,
    extra: Vec<&'static str>,
    exit: i32,
    verdict: &'static str,
    kinds: Vec<&'static str>,
}

/// Build every test image into `dir`; the cases.
fn build_images(dir: &Path) -> Vec<Case> {
    let layout = dir.join("layout");
    let oci = |tag: &str| format!("oci:{}:{tag}", layout.display());
    // C programs for arm64 (dynamic, against a library of our own) and x86_64 objects.
    let build = dir.join("build");
    std::fs::create_dir_all(&build).unwrap();
    let libgreet_arm64 = build.join("libgreet.so");
    compile("aarch64-linux-gnu-gcc", "int greet(void) { return 0; }\n", &["-shared", "-fPIC"], &libgreet_arm64);
    let app = build.join("app");
    compile(
        "aarch64-linux-gnu-gcc",
        "int greet(void);\nint main(void) { return greet(); }\n",
        &["-L", build.to_str().unwrap(), "-lgreet"],
        &app,
    );
    let libgreet_amd64 = build.join("libgreet-amd64.so");
    compile("gcc", "int greet(void) { return 0; }\n", &["-shared", "-fPIC"], &libgreet_amd64);
    let extension_amd64 = build.join("ext-amd64.so");
    compile("gcc", "int PyInit_fastpath(void) { return 0; }\n", &["-shared", "-fPIC"], &extension_amd64);

    Image::new("arm64-ok", "arm64").busybox("arm64").entrypoint(&["/bin/sh", "-c", "echo ok"]).build(&layout);
    Image::new("amd64-ok", "amd64").busybox("amd64").entrypoint(&["/bin/sh", "-c", "echo ok"]).build(&layout);
    add_index(
        &layout,
        "multi",
        &[
            ("amd64-ok", serde_json::json!({"architecture": "amd64", "os": "linux"})),
            ("arm64-ok", serde_json::json!({"architecture": "arm64", "os": "linux", "variant": "v8"})),
        ],
    );
    Image::new("amd64-binaries", "amd64").busybox("amd64").entrypoint(&["/bin/sh", "-c", "echo ok"]).build(&layout);
    add_index(
        &layout,
        "index-says-arm64",
        &[("amd64-binaries", serde_json::json!({"architecture": "arm64", "os": "linux"}))],
    );
    Image::new("config-says-arm64", "arm64").busybox("amd64").entrypoint(&["/bin/sh", "-c", "echo ok"]).build(&layout);
    Image::new("python-foreign-extension", "arm64")
        .package("libc6:arm64")
        .package("libgcc-s1:arm64")
        .package("zlib1g:arm64")
        .package("libexpat1:arm64")
        .package("libssl3:arm64")
        .package("libpython3.11-minimal:arm64")
        .package("python3.11-minimal:arm64")
        .file(
            "usr/lib/python3/dist-packages/fastpath.cpython-311-x86_64-linux-gnu.so",
            Content::Copy(extension_amd64),
            0o644,
        )
        .entrypoint(&["/usr/bin/python3.11", "-c", "print('python runs')"])
        .build(&layout);
    Image::new("shebang-missing", "arm64")
        .busybox("arm64")
        .file("app/run.py", Content::Bytes(b"#!/usr/bin/python3\nprint('hello')\n".to_vec()), 0o755)
        .entrypoint(&["/app/run.py"])
        .build(&layout);
    Image::new("library-missing", "arm64")
        .package("libc6:arm64")
        .package("libgcc-s1:arm64")
        .file("usr/bin/app", Content::Copy(app.clone()), 0o755)
        .entrypoint(&["/usr/bin/app"])
        .build(&layout);
    Image::new("library-foreign", "arm64")
        .package("libc6:arm64")
        .package("libgcc-s1:arm64")
        .file("usr/bin/app", Content::Copy(app), 0o755)
        .file("usr/lib/aarch64-linux-gnu/libgreet.so", Content::Copy(libgreet_amd64.clone()), 0o755)
        .entrypoint(&["/usr/bin/app"])
        .build(&layout);
    Image::new("entrypoint-missing", "arm64")
        .busybox("arm64")
        .entrypoint(&["/app/server", "--port", "80"])
        .build(&layout);
    Image::new("jar-foreign-jni", "arm64")
        .busybox("arm64")
        .file(
            "app/app.jar",
            Content::Bytes(jar_with(&[(
                "META-INF/native/linux-x86_64/libnative.so",
                &std::fs::read(&libgreet_amd64).unwrap(),
            )])),
            0o644,
        )
        .entrypoint(&["/bin/sh", "-c", "echo ok"])
        .build(&layout);

    // Other formats of the good images.
    let docker_archive = dir.join("arm64-ok.docker.tar");
    let oci_archive = dir.join("multi.oci.tar");
    run(Command::new("skopeo").args([
        "copy",
        "-q",
        &oci("arm64-ok"),
        &format!("docker-archive:{}:app:1", docker_archive.display()),
    ]));
    run(Command::new("skopeo").args([
        "copy",
        "-q",
        "--all",
        &oci("multi"),
        &format!("oci-archive:{}:multi", oci_archive.display()),
    ]));
    // Broken images, in layouts of their own.
    let corrupt = broken_copy(dir, &layout, "arm64-ok", "corrupt");
    let hostile = hostile_layout(dir, &layout);

    let case = |name, image: String, exit, verdict, kinds: &[&'static str]| Case {
        name,
        image,
        extra: Vec::new(),
        exit,
        verdict,
        kinds: kinds.to_vec(),
    };
    vec![
        case("a correct arm64 image", oci("arm64-ok"), 0, "ready", &[]),
        case("a correct two-platform index", oci("multi"), 0, "ready", &[]),
        case(
            "the arm64 image as a docker archive",
            format!("docker-archive:{}", docker_archive.display()),
            0,
            "ready",
            &[],
        ),
        case("the index as an OCI archive", format!("oci-archive:{}", oci_archive.display()), 0, "ready", &[]),
        case(
            "index says arm64, binaries are amd64",
            oci("index-says-arm64"),
            1,
            "blocked",
            &["index-config-mismatch", "binaries-architecture", "entrypoint-foreign"],
        ),
        case(
            "config says arm64, binaries are amd64",
            oci("config-says-arm64"),
            1,
            "blocked",
            &["binaries-architecture", "entrypoint-foreign"],
        ),
        case(
            "a Python extension of the other architecture",
            oci("python-foreign-extension"),
            1,
            "blocked",
            &["payload-foreign"],
        ),
        case(
            "a shebang to an interpreter the image lacks",
            oci("shebang-missing"),
            1,
            "blocked",
            &["interpreter-missing"],
        ),
        case("a missing needed library", oci("library-missing"), 1, "blocked", &["library-missing"]),
        case("a foreign needed library", oci("library-foreign"), 1, "blocked", &["library-foreign"]),
        case("a missing entrypoint", oci("entrypoint-missing"), 1, "blocked", &["entrypoint-missing"]),
        case("a jar with only foreign JNI", oci("jar-foreign-jni"), 0, "warnings", &["payload-foreign"]),
        Case {
            extra: vec!["--strict"],
            ..case("a jar with only foreign JNI, --strict", oci("jar-foreign-jni"), 1, "warnings", &["payload-foreign"])
        },
        Case {
            extra: vec!["--platform", "linux/s390x,linux/arm64"],
            ..case("a platform the index lacks", oci("multi"), 1, "blocked", &["platform-missing"])
        },
        case("a corrupt blob", format!("oci:{}:arm64-ok", corrupt.display()), 2, "error", &[]),
        case("hostile tar entries", format!("oci:{}:hostile", hostile.display()), 2, "error", &[]),
    ]
}

/// A zip (jar) holding `entries`, written by the zip crate.
fn jar_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A copy of `layout` in which the first layer of image `tag` has one byte flipped.
fn broken_copy(dir: &Path, layout: &Path, tag: &str, name: &str) -> PathBuf {
    let copy = dir.join(name);
    run(Command::new("cp").arg("-a").arg(layout).arg(&copy));
    let manifest = read_json(&copy.join("blobs/sha256").join(&tagged(&copy, tag)["digest"].as_str().unwrap()[7..]));
    let layer = copy.join("blobs/sha256").join(&manifest["layers"][0]["digest"].as_str().unwrap()[7..]);
    let mut bytes = std::fs::read(&layer).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&layer, bytes).unwrap();
    copy
}

/// A layout whose image `hostile` has a layer with a `../` entry.
fn hostile_layout(dir: &Path, layout: &Path) -> PathBuf {
    let copy = dir.join("hostile");
    run(Command::new("cp").arg("-a").arg(layout).arg(&copy));
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(5);
    header.set_mode(0o644);
    let name = b"../../escaped-from-the-root";
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_cksum();
    builder.append(&header, &b"owned"[..]).unwrap();
    let layer = builder.into_inner().unwrap();
    let base = tagged(&copy, "arm64-ok");
    let mut manifest = read_json(&copy.join("blobs/sha256").join(&base["digest"].as_str().unwrap()[7..]));
    let mut config = read_json(&copy.join("blobs/sha256").join(&manifest["config"]["digest"].as_str().unwrap()[7..]));
    let descriptor = put_blob(&copy, "application/vnd.oci.image.layer.v1.tar", &layer);
    config["rootfs"]["diff_ids"].as_array_mut().unwrap().push(descriptor["digest"].clone());
    manifest["layers"].as_array_mut().unwrap().push(descriptor);
    manifest["config"] =
        put_blob(&copy, "application/vnd.oci.image.config.v1+json", &serde_json::to_vec(&config).unwrap());
    let mut entry =
        put_blob(&copy, "application/vnd.oci.image.manifest.v1+json", &serde_json::to_vec(&manifest).unwrap());
    entry["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "hostile"});
    let mut index = read_json(&copy.join("index.json"));
    index["manifests"].as_array_mut().unwrap().push(entry);
    std::fs::write(copy.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    copy
}

/// What real consumers and the OCI image-spec say is wrong with the test images: the
/// layout validates (schemas, digests, sizes, every blob reachable from `index.json`),
/// `skopeo inspect` reads every tagged image (`--raw` for indexes), and the corrupt copy
/// is rejected (the validator can fail).
fn image_problems(layout: &Path, corrupt: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    match validate_layout(layout) {
        Ok(report) if report.manifests >= 10 && report.configs == report.manifests && report.warnings.is_empty() => {
            println!("{}: valid OCI layout, {report:?}", layout.display())
        }
        Ok(report) => problems.push(format!("{}: an unexpected census {report:?}", layout.display())),
        Err(errors) => problems.push(format!("{} breaks the image-spec:\n{}", layout.display(), errors.join("\n"))),
    }
    if validate_layout(corrupt).is_ok() {
        problems.push(format!("{}: the flipped layer byte went unnoticed by the validator", corrupt.display()));
    }
    let index = read_json(&layout.join("index.json"));
    let entries = index["manifests"].as_array().cloned().unwrap_or_default();
    println!("skopeo inspect on {} tags", entries.len());
    for entry in &entries {
        let tag = entry["annotations"]["org.opencontainers.image.ref.name"].as_str().unwrap_or_default();
        let is_index = entry["mediaType"] == "application/vnd.oci.image.index.v1+json";
        let reference = format!("oci:{}:{tag}", layout.display());
        let out = Command::new("skopeo")
            .arg("inspect")
            .args(is_index.then_some("--raw"))
            .arg(&reference)
            .output()
            .expect("skopeo runs");
        let inspected: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let read_back =
            if is_index { inspected["manifests"].is_array() } else { inspected["Architecture"].is_string() };
        if !out.status.success() || !read_back {
            problems.push(format!(
                "skopeo inspect {reference}: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    problems
}

/// What is wrong with one case's outcome, if anything.
fn judge(case: &Case, out: &Outcome) -> Option<String> {
    let problem = |what: String| {
        Some(format!("{}: {what}\nstdout:\n{}\nstderr:\n{}", case.name, out.stdout_text(), out.stderr_text()))
    };
    if out.ending != Ending::Exited(case.exit) {
        return problem(format!("ended {:?}, want exit {}", out.ending, case.exit));
    }
    let report: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(report) => report,
        Err(e) => return problem(format!("the --json report does not parse: {e}")),
    };
    if report["verdict"] != case.verdict {
        return problem(format!("verdict {}, want {}", report["verdict"], case.verdict));
    }
    let findings: Vec<&serde_json::Value> = report["platforms"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["findings"].as_array().into_iter().flatten())
        .collect();
    for kind in &case.kinds {
        if !findings.iter().any(|f| f["kind"] == *kind) {
            return problem(format!("no finding of kind {kind}"));
        }
    }
    if case.verdict == "error" && report["error"].as_str().is_none_or(str::is_empty) {
        return problem("an error verdict without the error".into());
    }
    None
}

#[test]
fn every_kind_of_image_gets_its_verdict_and_exit_code() {
    let dir = std::env::temp_dir().join(format!("archway-check-images-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cases = build_images(&dir);
    let mut failures = image_problems(&dir.join("layout"), &dir.join("corrupt"));
    for case in &cases {
        let mut args = vec![case.image.as_str(), "--json"];
        args.extend(&case.extra);
        let out = check(&args);
        failures.extend(judge(case, &out));
    }
    // An unpacked root: the platform from its binaries, the smoke command given.
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::copy(workspace().join(".cache/busybox/arm64/bin/busybox"), rootfs.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/sh")).unwrap();
    let out =
        check(&[&format!("dir:{}", rootfs.display()), "--json", "--smoke-cmd", "/bin/sh -c 'echo from the root'"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    if out.ending != Ending::Exited(0)
        || report["platforms"][0]["platform"] != "linux/arm64"
        || report["platforms"][0]["smoke"]["stdout"] != "from the root\n"
    {
        failures.push(format!("dir: {:?} {report}", out.ending));
    }
    // --layers: the census of each layer.
    let out = check(&[
        &format!("oci:{}:python-foreign-extension", dir.join("layout").display()),
        "--json",
        "--layers",
        "--no-smoke",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let layers = &report["platforms"][0]["layers"];
    if layers[0]["by_architecture"]["amd64"] != 1
        || layers[0]["elf_files"].as_u64().unwrap_or(0) < 100
        || !report["platforms"][0]["smoke"].is_null()
    {
        failures.push(format!("--layers --no-smoke: {}", report["platforms"][0]));
    }
    // The same images from a real registry (plain HTTP on 127.0.0.1).
    let registry = Registry::start(&dir.join("registry"), None);
    let host = registry.host();
    for (tag, pushed, exit, verdict) in
        [("multi", "multi:1", 0, "ready"), ("index-says-arm64", "lying:1", 1, "blocked")]
    {
        let source = format!("oci:{}:{tag}", dir.join("layout").display());
        run(Command::new("skopeo").args([
            "copy",
            "-q",
            "--all",
            "--dest-tls-verify=false",
            &source,
            &format!("docker://{host}/test/{pushed}"),
        ]));
        let case = Case {
            name: "from the registry",
            image: format!("docker://{host}/test/{pushed}"),
            extra: vec!["--tls-verify=false"],
            exit,
            verdict,
            kinds: Vec::new(),
        };
        let mut args = vec![case.image.as_str(), "--json"];
        args.extend(&case.extra);
        failures.extend(judge(&case, &check(&args)));
    }
    let missing = Case {
        name: "a tag the registry lacks",
        image: format!("docker://{host}/test/multi:nope"),
        extra: vec!["--tls-verify=false"],
        exit: 2,
        verdict: "error",
        kinds: Vec::new(),
    };
    failures.extend(judge(&missing, &check(&[&missing.image, "--json", "--tls-verify=false"])));
    drop(registry);
    // The smoke tests really ran: the arm64 image's entrypoint printed "ok" under the
    // translator, the Python one ran Python.
    let out = check(&[&format!("oci:{}:arm64-ok", dir.join("layout").display()), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let smoke = &report["platforms"][0]["smoke"];
    if smoke["stdout"] != "ok\n" || smoke["command"][0] != "/.archway/archway-aarch64" {
        failures.push(format!("arm64 smoke test: {smoke}"));
    }
    let out = check(&[&format!("oci:{}:python-foreign-extension", dir.join("layout").display()), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    if report["platforms"][0]["smoke"]["stdout"] != "python runs\n" {
        failures.push(format!("python smoke test: {}", report["platforms"][0]["smoke"]));
    }
    // ARCHWAY_KEEP_CHECK_IMAGES=1 keeps the images to look at (`oci:DIR/layout:TAG`).
    if std::env::var_os("ARCHWAY_KEEP_CHECK_IMAGES").is_some() {
        println!("test images kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(
        failures.is_empty(),
        "{} problems over {} cases and the checks of the images themselves:\n\n{}",
        failures.len(),
        cases.len() + 7,
        failures.join("\n\n")
    );
}
