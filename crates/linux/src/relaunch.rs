//! Running archway again for a foreign child: the private command line both
//! binaries (`archway` and `archway-aarch64`) accept before their own arguments.
//!
//! When the guest `execve`s an aarch64 program, archway replaces itself with a fresh
//! archway running that program ([`crate::syscall::exec`]). The new process must get
//! the guest's argv exactly (`argv[0]` included, which an ordinary command line
//! cannot carry) and keep the engine and guest root, so the argv of archway is:
//!
//! ```text
//! ARCHWAY --archway-exec ENGINE ROOT ARGV0 PROGRAM [ARGS...]
//! ```
//!
//! with fixed positions (nothing after the marker is parsed as an option): `ENGINE`
//! is `jit` or `interp`, `ROOT` the guest root or empty for none, `PROGRAM` the file
//! to run as the guest named it, `ARGV0` and `ARGS` the guest's argv. The guest's
//! environment is archway's environment. The marker is not meant for users.

use archway_engine::EngineKind;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The first argument that selects the private form.
pub const MARKER: &str = "--archway-exec";

/// The magic link through which the kernel executes our own binary again from any
/// mount namespace: a container or chroot that does not hold archway (binfmt_misc's F
/// flag opened it outside) reaches it as long as `/proc` is mounted there.
pub const OWN_BINARY: &str = "/proc/self/exe";

/// How to start archway again, and the engine it runs guests with. archway's binary is
/// executed as [`OWN_BINARY`], or where `/proc` is not mounted by its path: read from
/// `/proc/self/exe` before the guest runs, or the host program the kernel ran
/// (`AT_EXECFN`: a chroot that holds a copy of archway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launcher {
    /// archway's path, if it could be found when the guest started.
    pub archway: Option<PathBuf>,
    pub engine: EngineKind,
}

/// A guest program to run, as the private command line carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relaunch {
    pub engine: EngineKind,
    pub root: Option<PathBuf>,
    pub program: PathBuf,
    /// The guest's argv, `argv[0]` included.
    pub argv: Vec<OsString>,
}

impl Launcher {
    /// Our own binary and `engine`. Without `/proc` (a fresh chroot), the file the
    /// kernel executed (`AT_EXECFN`) if it is a program for this host (under binfmt_misc
    /// that path is the guest's, which is not).
    pub fn of_this_process(engine: EngineKind) -> Launcher {
        let archway = std::fs::read_link(OWN_BINARY).ok().or_else(executed_host_program);
        Launcher { archway, engine }
    }

    /// The files that may be archway, to try in order.
    pub fn binaries(&self) -> impl Iterator<Item = &Path> {
        std::iter::once(Path::new(OWN_BINARY)).chain(self.archway.as_deref())
    }

    /// The argv of archway running `program` with the guest's `argv` under `root`.
    pub fn command_line(&self, root: Option<&OsStr>, program: &OsStr, argv: &[OsString]) -> Vec<OsString> {
        let engine = self.engine.name();
        let argv0 = argv.first().cloned().unwrap_or_default();
        let name = self.archway.as_deref().unwrap_or(Path::new("archway"));
        let mut out: Vec<OsString> = vec![name.into(), MARKER.into(), engine.into()];
        out.push(root.unwrap_or_default().to_os_string());
        out.push(argv0);
        out.push(program.to_os_string());
        out.extend(argv.iter().skip(1).cloned());
        out
    }
}

/// The absolute path of the program the kernel executed (`AT_EXECFN`), if it is an ELF
/// file for this host's machine.
fn executed_host_program() -> Option<PathBuf> {
    // SAFETY: getauxval only reads the auxiliary vector; AT_EXECFN, when present, is a
    // NUL-terminated string on the initial stack that lives as long as the process.
    let name = unsafe {
        let p = libc::getauxval(libc::AT_EXECFN) as *const libc::c_char;
        if p.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(p)
    };
    let path = std::fs::canonicalize(std::os::unix::ffi::OsStrExt::from_bytes(name.to_bytes()) as &OsStr).ok()?;
    is_host_elf(&path).then_some(path)
}

/// Whether `path` is an ELF file whose machine is the host's.
fn is_host_elf(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; archway_arch::elf::HEADER_PREFIX];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header));
    read.is_ok() && archway_arch::Header::parse(&header).is_ok_and(|h| h.arch() == Some(archway_arch::Arch::host()))
}

/// The guest to run if `args` (our argv, `args[0]` included) is the private form;
/// `Err` with a message when it is malformed.
pub fn parse(args: &[OsString]) -> Option<Result<Relaunch, String>> {
    if args.get(1).map(OsString::as_os_str) != Some(OsStr::new(MARKER)) {
        return None;
    }
    let [_, _, engine, root, argv0, program, rest @ ..] = args else {
        return Some(Err(format!("{MARKER}: expected ENGINE ROOT ARGV0 PROGRAM [ARGS...]")));
    };
    let engine = match engine.to_str().map(str::parse::<EngineKind>) {
        Some(Ok(engine)) => engine,
        _ => return Some(Err(format!("{MARKER}: bad engine {}", engine.to_string_lossy()))),
    };
    let root = (!root.is_empty()).then(|| PathBuf::from(root));
    let mut argv = vec![argv0.clone()];
    argv.extend(rest.iter().cloned());
    Some(Ok(Relaunch { engine, root, program: PathBuf::from(program), argv }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn command_lines_round_trip() {
        let launcher = Launcher { archway: Some(PathBuf::from("/usr/bin/archway")), engine: EngineKind::Interp };
        let argv = os(&["busybox-name", "-c", "echo hi"]);
        let line = launcher.command_line(Some(OsStr::new("/srv/root")), OsStr::new("/bin/busybox"), &argv);
        assert_eq!(
            line,
            os(&["/usr/bin/archway", MARKER, "interp", "/srv/root", "busybox-name", "/bin/busybox", "-c", "echo hi"])
        );
        let parsed = parse(&line).unwrap().unwrap();
        assert_eq!(parsed.engine, EngineKind::Interp);
        assert_eq!(parsed.root, Some(PathBuf::from("/srv/root")));
        assert_eq!(parsed.program, PathBuf::from("/bin/busybox"));
        assert_eq!(parsed.argv, argv);

        let no_root = launcher.command_line(None, OsStr::new("./prog"), &[]);
        let parsed = parse(&no_root).unwrap().unwrap();
        assert_eq!((parsed.root, parsed.argv), (None, os(&[""])));
    }

    #[test]
    fn the_executed_program_is_a_host_program() {
        // The test binary itself: AT_EXECFN names it, and it is a host ELF.
        let executed = executed_host_program().expect("AT_EXECFN names a host program");
        assert_eq!(executed, std::fs::canonicalize(std::env::current_exe().unwrap()).unwrap());
        let guest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bin/hello");
        assert!(guest.is_file());
        assert_eq!(
            is_host_elf(&guest),
            cfg!(target_arch = "aarch64"),
            "an aarch64 program is the host's on arm64 only"
        );
        assert!(!is_host_elf(std::path::Path::new("/nonexistent")));
    }

    #[test]
    fn other_command_lines_are_not_ours() {
        assert!(parse(&os(&["archway", "run", "prog"])).is_none());
        assert!(parse(&os(&["archway"])).is_none());
        assert!(parse(&os(&["archway", MARKER, "jit"])).unwrap().is_err());
        assert!(parse(&os(&["archway", MARKER, "fast", "", "a", "p"])).unwrap().is_err());
    }
}
