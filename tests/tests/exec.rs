//! What qemu-user cannot do without a binfmt_misc registration, so the fixture
//! manifest cannot compare with it: a guest `execve`s foreign programs (static,
//! dynamic, a `#!` script whose interpreter is arm64 busybox), a guest root (`-L`)
//! keeps a guest's children inside it, and `/proc/cpuinfo` describes the advertised
//! arm64 CPU. Runs under the JIT and the interpreter; needs no binfmt entry (and
//! works the same with one).

use archway_tests::{archway_bin, run_with_limit, workspace, Ending, Outcome};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const ENGINES: [&str; 2] = ["jit", "interp"];

fn busybox() -> PathBuf {
    let p = workspace().join(".cache/busybox/arm64/bin/busybox");
    assert!(p.is_file(), "{} missing: run scripts/fetch-busybox.sh", p.display());
    p
}

fn fixture(name: &str) -> PathBuf {
    workspace().join("fixtures/bin").join(name)
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archway-exec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_executable(path: &Path, contents: &[u8]) {
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn archway(engine: &str, args: &[&std::ffi::OsStr]) -> Outcome {
    let mut cmd = Command::new(archway_bin());
    cmd.args(["run", "--engine", engine]).args(args).env_remove("ARCHWAY_ENGINE").env_remove("ARCHWAY_ROOT");
    run_with_limit(&mut cmd, Duration::from_secs(120))
}

#[test]
fn a_guest_runs_foreign_children_and_scripts_under_archway() {
    let dir = scratch("children");
    let script = dir.join("script.sh");
    let interpreter_line = format!("#!{} sh\n", busybox().display());
    write_executable(&script, format!("{interpreter_line}echo \"script: ${{0##*/}} $*\"\nuname -m\n").as_bytes());
    let garbage = dir.join("garbage");
    write_executable(&garbage, b"not a program\n");
    let programs = [fixture("hello"), fixture("hello_dynamic"), fixture("proc_self"), script, garbage];
    let expected = format!(
        "Hello, world!\nprintf works: 42 forty-two 3.250\nchild hello: exit 0\n\
         Hello, world!\nprintf works: 42 forty-two 3.250\nchild hello_dynamic: exit 0\n{}child proc_self: exit 0\n\
         script: script.sh from-parent\naarch64\nchild script.sh: exit 0\n\
         exec garbage: Exec format error\nchild garbage: exit 127\n",
        // proc_self sees the argv the parent gave it.
        std::fs::read_to_string(workspace().join("fixtures/expected/proc_self.out"))
            .unwrap()
            .replace("exe is argv[0]: yes", "exe is argv[0]: no")
            .replace("cmdline: 3 strings, argc 3", "cmdline: 2 strings, argc 2")
    );
    for engine in ENGINES {
        let fork_exec = fixture("fork_exec");
        let mut args = vec![fork_exec.as_os_str()];
        args.extend(programs.iter().map(|p| p.as_os_str()));
        let out = archway(engine, &args);
        assert_eq!(out.ending, Ending::Exited(0), "{engine}: {}", out.stderr_text());
        assert_eq!(out.stdout_text(), expected, "{engine}: stderr {}", out.stderr_text());
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_guest_root_keeps_children_inside_it() {
    let root = scratch("root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::copy(busybox(), root.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    std::fs::write(root.join("etc/greeting"), "hello from the guest root\n").unwrap();
    // /bin/true exists on the host but not in the root: it must not run.
    let script = "readlink /proc/self/exe; cat /etc/greeting; /bin/true; echo \"true: $?\"; /bin/sh -c 'echo nested'";
    for engine in ENGINES {
        let root_arg = root.as_os_str();
        let args: Vec<&std::ffi::OsStr> =
            vec!["-L".as_ref(), root_arg, "/bin/sh".as_ref(), "-c".as_ref(), script.as_ref()];
        let out = archway(engine, &args);
        assert_eq!(out.ending, Ending::Exited(0), "{engine}: {}", out.stderr_text());
        assert_eq!(
            out.stdout_text(),
            "/bin/busybox\nhello from the guest root\ntrue: 127\nnested\n",
            "{engine}: stderr {}",
            out.stderr_text()
        );
    }
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn proc_cpuinfo_describes_the_advertised_cpu() {
    let out = archway("jit", &[busybox().as_os_str(), "cat".as_ref(), "/proc/cpuinfo".as_ref()]);
    assert_eq!(out.ending, Ending::Exited(0), "{}", out.stderr_text());
    let text = out.stdout_text();
    let features = format!("Features\t: {}\n", archway_guest_a64::features::CPUINFO_FEATURES);
    assert!(text.starts_with("processor\t: 0\n"), "{text}");
    assert!(text.contains(&features), "{text}");
    assert!(text.contains("CPU implementer\t: 0x41\nCPU architecture: 8\n"), "{text}");
}

#[test]
fn a_program_started_by_a_host_path_runs_that_path_again_under_a_guest_root() {
    // What `sys.executable` gives a Python started as `archway run -L ROOT ROOT/usr/bin/python3`:
    // the host path the program was started by. Its exec must run the program again,
    // from inside the root and from outside it; any other host path stays out of reach.
    let root = scratch("own-path");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy(busybox(), root.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    let inside = root.join("bin/busybox");
    let outside = busybox();
    for engine in ENGINES {
        for program in [&inside, &outside] {
            let script = format!(
                "{0} echo again; readlink /proc/self/exe; /bin/true; echo \"true: $?\"; {0} sh -c '{0} echo twice'",
                program.display()
            );
            let args: Vec<&std::ffi::OsStr> = vec![
                "-L".as_ref(),
                root.as_os_str(),
                program.as_os_str(),
                "sh".as_ref(),
                "-c".as_ref(),
                script.as_ref(),
            ];
            let out = archway(engine, &args);
            assert_eq!(out.ending, Ending::Exited(0), "{engine} {}: {}", program.display(), out.stderr_text());
            let exe = if program == &inside { "/bin/busybox".to_string() } else { outside.display().to_string() };
            assert_eq!(
                out.stdout_text(),
                format!("again\n{exe}\ntrue: 127\ntwice\n"),
                "{engine} {}: stderr {}",
                program.display(),
                out.stderr_text()
            );
        }
    }
    std::fs::remove_dir_all(root).unwrap();
}
