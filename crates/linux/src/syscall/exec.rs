//! `execve` and `execveat`: a foreign child runs under archway again, a native one
//! natively, whether or not binfmt_misc knows aarch64.
//!
//! The file is found as the kernel finds it (the current directory or `dirfd` for a
//! relative path, `AT_EMPTY_PATH` for the descriptor itself), except that an
//! absolute path with a guest root must exist inside the root, or be the guest's own
//! program ([`guest_root::resolve_exec`]), and `/proc/self/exe` is the guest program. Then, like the kernel's `search_binary_handler`:
//! - not a regular file, or no execute permission: `EACCES` (from `access(X_OK)`);
//! - an aarch64 ELF executable: archway replaces itself with a fresh archway running
//!   it ([`crate::relaunch`]: the guest's argv, `argv[0]` included, and envp are kept,
//!   and so are the engine and the guest root). archway is executed through
//!   `/proc/self/exe`, which reaches it in containers that do not hold it, else by its
//!   path; where neither exists the kernel's binfmt_misc handler gets the program. A
//!   setuid or setgid one (with no guest root) goes to the host's `execve` first: only
//!   the kernel can raise privileges, which it does through a binfmt_misc entry with
//!   the C flag; with no handler registered (`ENOEXEC`) it is relaunched,
//!   unprivileged, as qemu-user without C runs it;
//! - `#!`: the kernel's script rules (`fs/binfmt_script.c`): the first line, at most
//!   256 bytes, names the interpreter and at most one argument (the rest of the line,
//!   blanks trimmed); the new argv is `interpreter [argument] script args...` (the
//!   script's own `argv[0]` is dropped), and the interpreter is looked at again, up
//!   to 4 levels (then `ELOOP`). A foreign interpreter runs under archway, a native
//!   one natively;
//! - anything else (an x86_64 ELF, a file the host has a binfmt handler for, garbage)
//!   goes to the host's real `execve`, which runs it or answers `ENOEXEC`.
//!
//! Arguments: `NULL` argv or envp count as empty, as Linux allows; strings longer
//! than 128 KiB or more than 2 MiB of strings and pointers in all are `E2BIG`.
//! On success nothing returns; every failure is the guest's `-errno`.
//!
//! Limit: a script whose interpreter is native, run under a guest root, gets the
//! script's guest path as argument, which the native interpreter opens on the host.

use super::{errno, ret, Args, Outcome, SyscallContext};
use crate::proc_files::{self, ProcFile};
use crate::relaunch::Launcher;
use crate::{guest_memory, guest_root, signal, stack};
use archway_arch::{Header, ARM64};
use std::ffi::{CString, OsStr, OsString};
use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// `execveat` flags (the same on both architectures).
const AT_EMPTY_PATH: u64 = libc::AT_EMPTY_PATH as u64;
const AT_SYMLINK_NOFOLLOW: u64 = libc::AT_SYMLINK_NOFOLLOW as u64;
/// How much of the file the kernel looks at to decide its format.
const HEADER_SIZE: usize = 256;
/// Nested interpreters allowed (the kernel's `BINPRM_MAX_RECURSION`).
const MAX_INTERPRETER_DEPTH: usize = 4;
/// Longest single argument or environment string (`MAX_ARG_STRLEN`).
const MAX_ARG_STRLEN: usize = 32 * 4096;
/// The setuid and setgid mode bits.
const SET_ID: u32 = libc::S_ISUID | libc::S_ISGID;

/// `execve(path, argv, envp)`.
pub fn execve(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    ret(exec(ctx, libc::AT_FDCWD, a[0], a[1], a[2], 0))
}

/// `execveat(dirfd, path, argv, envp, flags)`.
pub fn execveat(ctx: &mut SyscallContext, a: &Args) -> Outcome {
    ret(exec(ctx, a[0] as i32, a[1], a[2], a[3], a[4]))
}

/// Carry out an exec; returns only on failure, with `-errno`.
fn exec(ctx: &mut SyscallContext, dirfd: i32, path: u64, argv: u64, envp: u64, flags: u64) -> i64 {
    let plan = match plan(ctx, dirfd, path, argv, envp, flags) {
        Ok(plan) => plan,
        Err(e) => return e,
    };
    // The new program inherits the guest's mask and pending signals, not archway's.
    signal::prepare_exec(ctx.thread.signal_mask);
    let failed = plan.run(ctx.process.image.launcher.as_ref(), ctx.process.image.root.as_deref());
    signal::set_guest_mask(ctx.thread.signal_mask);
    failed
}

/// What to execute.
struct Plan {
    kind: Target,
    /// The program as it will be named: to the relaunched archway, or to the host.
    name: PathBuf,
    /// The host file.
    file: PathBuf,
    argv: Vec<OsString>,
    envp: Vec<OsString>,
}

#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// An aarch64 program: run under archway; `set_id` when its setuid/setgid bits ask
    /// the kernel for credentials.
    Foreign { set_id: bool },
    /// Anything else: the host's `execve`.
    Native,
}

/// What the first bytes of a file say it is.
#[derive(Debug, PartialEq, Eq)]
enum Format {
    Aarch64Elf,
    Script { interpreter: Vec<u8>, argument: Option<Vec<u8>> },
    Other,
}

fn plan(ctx: &SyscallContext, dirfd: i32, path: u64, argv: u64, envp: u64, flags: u64) -> Result<Plan, i64> {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(errno(libc::EINVAL));
    }
    let name = guest_memory::read_c_string(path, libc::PATH_MAX as usize)?;
    let mut budget = stack::MAX_STRINGS as usize;
    let mut argv = read_strings(argv, &mut budget)?;
    let envp = read_strings(envp, &mut budget)?;
    let root = ctx.process.image.root.as_deref();
    let (mut name, mut file) = if proc_files::classify(&name) == Some(ProcFile::Exe) {
        // Our own program again (busybox runs its applets so): the guest's, not archway.
        (guest_root::guest_view(&ctx.process.exe_path, root), ctx.process.exe_path.clone())
    } else {
        locate(&name, dirfd, flags, root, &ctx.process.exe_path)?
    };
    for _ in 0..=MAX_INTERPRETER_DEPTH {
        let (format, mode) = inspect(&file)?;
        let kind = match format {
            Format::Aarch64Elf => Target::Foreign { set_id: root.is_none() && mode & SET_ID != 0 },
            Format::Other => Target::Native,
            Format::Script { interpreter, argument } => {
                let mut script_argv = vec![OsString::from_vec(interpreter.clone())];
                script_argv.extend(argument.map(OsString::from_vec));
                script_argv.push(name.into_os_string());
                script_argv.extend(argv.into_iter().skip(1));
                argv = script_argv;
                (name, file) = locate(&interpreter, libc::AT_FDCWD, 0, root, &ctx.process.exe_path)?;
                continue;
            }
        };
        return Ok(Plan { kind, name, file, argv, envp });
    }
    Err(errno(libc::ELOOP))
}

impl Plan {
    /// Execute; returns only on failure, with `-errno`.
    fn run(self, launcher: Option<&Launcher>, root: Option<&Path>) -> i64 {
        match self.kind {
            Target::Native => host_execve(&self.file, &self.argv, &self.envp),
            Target::Foreign { set_id } => {
                if set_id {
                    let failed = host_execve(&self.file, &self.argv, &self.envp);
                    if failed != errno(libc::ENOEXEC) {
                        return failed;
                    }
                }
                if let Some(launcher) = launcher {
                    let line = launcher.command_line(root.map(Path::as_os_str), self.name.as_os_str(), &self.argv);
                    // Each failure means that path does not lead to archway here (no
                    // /proc, a /proc that is a symlink loop, not in this root).
                    for archway in launcher.binaries() {
                        let failed = host_execve(archway, &line, &self.envp);
                        tracing::debug!("execve({}) for a foreign child: {failed}", archway.display());
                    }
                }
                tracing::warn!(
                    "execve({}): archway's own binary is not reachable here: left to the kernel's binfmt_misc handler",
                    self.name.display()
                );
                host_execve(&self.file, &self.argv, &self.envp)
            }
        }
    }
}

/// The name to pass on and the host file for program `name` (relative to `dirfd`);
/// `own_program` is the guest's own program, which it may name by its host path.
fn locate(
    name: &[u8],
    dirfd: i32,
    flags: u64,
    root: Option<&Path>,
    own_program: &Path,
) -> Result<(PathBuf, PathBuf), i64> {
    let given = PathBuf::from(OsStr::from_bytes(name));
    let (name, file) = if name.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(errno(libc::ENOENT));
        }
        let file = descriptor_path(dirfd)?;
        (file.clone(), file)
    } else if given.is_absolute() {
        let file = guest_root::resolve_exec(&given, root, own_program).map_err(io_errno)?;
        (given, file)
    } else if dirfd == libc::AT_FDCWD {
        (given.clone(), given)
    } else {
        let file = descriptor_path(dirfd)?.join(&given);
        (file.clone(), file)
    };
    if flags & AT_SYMLINK_NOFOLLOW != 0 && file.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(errno(libc::ELOOP));
    }
    Ok((name, file))
}

/// The path a descriptor refers to.
fn descriptor_path(fd: i32) -> Result<PathBuf, i64> {
    if fd < 0 {
        return Err(errno(libc::EBADF));
    }
    std::fs::read_link(format!("/proc/self/fd/{fd}")).map_err(|_| errno(libc::EBADF))
}

/// Check that `file` may be executed and read what format it has.
/// Returns the format and the file's mode bits.
fn inspect(file: &Path) -> Result<(Format, u32), i64> {
    let metadata = std::fs::metadata(file).map_err(io_errno)?;
    let kind = metadata.file_type();
    if !kind.is_file() || kind.is_fifo() {
        return Err(errno(libc::EACCES));
    }
    let c_file = c_string(file.as_os_str())?;
    // SAFETY: a valid C string.
    if unsafe { libc::access(c_file.as_ptr(), libc::X_OK) } != 0 || metadata.mode() & 0o111 == 0 {
        return Err(errno(libc::EACCES));
    }
    let mut header = Vec::with_capacity(HEADER_SIZE);
    match std::fs::File::open(file) {
        Ok(f) => f.take(HEADER_SIZE as u64).read_to_end(&mut header).map_err(io_errno)?,
        // Execute-only: only the host can run it.
        Err(_) => return Ok((Format::Other, metadata.mode())),
    };
    Ok((parse_header(&header)?, metadata.mode()))
}

/// The format of a file from its first bytes.
fn parse_header(header: &[u8]) -> Result<Format, i64> {
    if header.starts_with(b"#!") {
        // The kernel's buffer: the first 256 bytes, zero-filled after a short file.
        let mut buffer = header[..header.len().min(HEADER_SIZE)].to_vec();
        buffer.resize(HEADER_SIZE, 0);
        return parse_shebang(&buffer[2..]);
    }
    let is_aarch64 = Header::parse(header).is_ok_and(|h| h.is_executable_kind() && h.arch() == Some(ARM64));
    Ok(if is_aarch64 { Format::Aarch64Elf } else { Format::Other })
}

/// The interpreter and optional argument of a `#!` line (`line` follows the `#!`).
fn parse_shebang(line: &[u8]) -> Result<Format, i64> {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let end = line.iter().position(|&b| b == b'\n');
    let line = &line[..end.unwrap_or(line.len())];
    let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
    let line = &line[start..];
    let name_len = line.iter().position(|b| blank(b) || *b == 0).unwrap_or(line.len());
    // Without a newline in the first 256 bytes, the name must end before the buffer does.
    if name_len == 0 || (end.is_none() && name_len == line.len()) {
        return Err(errno(libc::ENOEXEC));
    }
    let interpreter = line[..name_len].to_vec();
    let rest = &line[name_len..];
    let rest = &rest[rest.iter().position(|b| !blank(b)).unwrap_or(rest.len())..];
    let rest = &rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())];
    let trimmed_len = rest.iter().rposition(|b| !blank(b)).map_or(0, |i| i + 1);
    let argument = (trimmed_len > 0).then(|| rest[..trimmed_len].to_vec());
    Ok(Format::Script { interpreter, argument })
}

/// A NULL-terminated array of strings in guest memory (`NULL` itself: none),
/// charging `budget` as the kernel does (the strings and their pointers).
fn read_strings(array: u64, budget: &mut usize) -> Result<Vec<OsString>, i64> {
    let mut out = Vec::new();
    if array == 0 {
        return Ok(out);
    }
    loop {
        let at = array.checked_add(8 * out.len() as u64).ok_or(errno(libc::EFAULT))?;
        let pointer = guest_memory::read_u64(at)?;
        if pointer == 0 {
            return Ok(out);
        }
        let string = guest_memory::read_c_string(pointer, MAX_ARG_STRLEN - 1).map_err(|e| {
            if e == errno(libc::ENAMETOOLONG) {
                errno(libc::E2BIG)
            } else {
                e
            }
        })?;
        *budget = budget.checked_sub(string.len() + 1 + 8).ok_or(errno(libc::E2BIG))?;
        out.push(OsString::from_vec(string));
    }
}

/// The host's `execve`; returns only on failure, with `-errno`.
fn host_execve(file: &Path, argv: &[OsString], envp: &[OsString]) -> i64 {
    let (Ok(file), Ok(argv), Ok(envp)) = (c_string(file.as_os_str()), c_strings(argv), c_strings(envp)) else {
        return errno(libc::EINVAL);
    };
    let argv_pointers: Vec<*const libc::c_char> =
        argv.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    let envp_pointers: Vec<*const libc::c_char> =
        envp.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    // SAFETY: NUL-terminated strings and NULL-terminated pointer arrays that live
    // across the call.
    unsafe { libc::execve(file.as_ptr(), argv_pointers.as_ptr(), envp_pointers.as_ptr()) };
    -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::ENOEXEC))
}

fn c_string(s: &OsStr) -> Result<CString, i64> {
    CString::new(s.as_bytes()).map_err(|_| errno(libc::EINVAL))
}

fn c_strings(strings: &[OsString]) -> Result<Vec<CString>, i64> {
    strings.iter().map(|s| c_string(s)).collect()
}

fn io_errno(e: std::io::Error) -> i64 {
    -i64::from(e.raw_os_error().unwrap_or(libc::EIO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(interpreter: &str, argument: Option<&str>) -> Result<Format, i64> {
        Ok(Format::Script {
            interpreter: interpreter.as_bytes().to_vec(),
            argument: argument.map(|a| a.as_bytes().to_vec()),
        })
    }

    #[test]
    fn shebang_lines_follow_the_kernel() {
        assert_eq!(parse_header(b"#!/bin/sh\necho hi\n"), script("/bin/sh", None));
        assert_eq!(parse_header(b"#! \t/usr/bin/env  python3 -u  \t\nx"), script("/usr/bin/env", Some("python3 -u")));
        assert_eq!(parse_header(b"#!/bin/busybox sh"), script("/bin/busybox", Some("sh")));
        assert_eq!(parse_header(b"#!/bin/sh"), script("/bin/sh", None));
        assert_eq!(parse_header(b"#!\n"), Err(errno(libc::ENOEXEC)));
        assert_eq!(parse_header(b"#!   \n"), Err(errno(libc::ENOEXEC)));
        let long = [b"#!/".as_slice(), &[b'a'; 300]].concat();
        assert_eq!(parse_header(&long[..HEADER_SIZE]), Err(errno(libc::ENOEXEC)));
        let long_argument = [b"#!/bin/x ".as_slice(), &[b'a'; 300]].concat();
        assert!(matches!(parse_header(&long_argument[..HEADER_SIZE]), Ok(Format::Script { .. })));
    }

    #[test]
    fn elf_headers_by_machine() {
        let mut elf = vec![0u8; 64];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[16] = 2;
        elf[18..20].copy_from_slice(&ARM64.elf_machine.to_le_bytes());
        assert_eq!(parse_header(&elf), Ok(Format::Aarch64Elf));
        elf[18] = 62; // EM_X86_64
        assert_eq!(parse_header(&elf), Ok(Format::Other));
        assert_eq!(parse_header(b"plain text"), Ok(Format::Other));
        assert_eq!(parse_header(b""), Ok(Format::Other));
    }

    #[test]
    fn files_that_cannot_run_are_refused_like_the_kernel_does() {
        assert_eq!(inspect(Path::new("/nonexistent/prog")), Err(errno(libc::ENOENT)));
        assert_eq!(inspect(Path::new("/")), Err(errno(libc::EACCES)));
        let dir = std::env::temp_dir().join(format!("archway-exec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("not-executable");
        std::fs::write(&file, b"#!/bin/sh\n").unwrap();
        assert_eq!(inspect(&file), Err(errno(libc::EACCES)));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(inspect(&file).map(|(format, _)| format), script("/bin/sh", None));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn string_arrays_are_read_with_limits() {
        let strings = [c"a".as_ptr() as u64, c"bc".as_ptr() as u64, 0];
        let mut budget = 1000;
        let read = read_strings(strings.as_ptr() as u64, &mut budget).unwrap();
        assert_eq!(read, vec![OsString::from("a"), OsString::from("bc")]);
        assert_eq!(budget, 1000 - (2 + 8) - (3 + 8));
        assert_eq!(read_strings(0, &mut budget), Ok(vec![]));
        let mut small = 5;
        assert_eq!(read_strings(strings.as_ptr() as u64, &mut small), Err(errno(libc::E2BIG)));
        assert_eq!(read_strings(8, &mut budget), Err(guest_memory::EFAULT));
    }
}
