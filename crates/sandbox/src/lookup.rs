//! Finding files inside the root, as a process chrooted there would find them, but from
//! outside: every path is resolved by `openat2(RESOLVE_IN_ROOT)` against the root's
//! descriptor, so `..` and absolute symbolic links stay inside the root exactly as they
//! would after `chroot`, and nothing of the host is reached. The command's program is
//! looked up as `execvp` would look it up; `/etc/passwd` and the like are read; mount
//! points left in a writable root are found and removed.
//!
//! What a program file is, for the plan ([`crate::plan`]): an ELF file (its header), a
//! `#!` script (its interpreter line, read as the kernel's `binfmt_script` reads it), or
//! something else.

use archway_arch::elf::HEADER_PREFIX;
use archway_arch::Header;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// The kernel reads this much of a file to find a `#!` line (`BINPRM_BUF_SIZE`).
const SCRIPT_HEAD: usize = 256;

/// The image root, open.
pub(crate) struct Root {
    fd: OwnedFd,
}

/// What a program file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileKind {
    Elf(Header),
    /// A `#!` script: its interpreter and the optional single argument after it.
    Script {
        interpreter: String,
        argument: Option<String>,
    },
    /// Neither, or unreadable.
    Other,
}

/// A program file found in the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProgramFile {
    /// Its path inside the root, as it will be executed there.
    pub path: String,
    pub kind: FileKind,
}

/// Why no program was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Missing {
    /// No file by that name in any directory searched; the paths tried.
    NotFound(Vec<String>),
    /// A file exists but is not an executable regular file (`execvp`'s `EACCES`).
    NotExecutable { path: String, reason: String },
}

impl Root {
    /// Open the root directory.
    pub(crate) fn open(path: &Path) -> io::Result<Root> {
        let file = File::options().read(true).custom_flags(libc::O_DIRECTORY | libc::O_PATH).open(path)?;
        Ok(Root { fd: file.into() })
    }

    /// Open `path` as if the root were `/`.
    fn open_inside(&self, path: &str, flags: libc::c_int) -> io::Result<OwnedFd> {
        self.open_resolved(path, flags, 0)
    }

    /// Open `path` as if the root were `/`, following no symbolic link at all.
    pub(crate) fn open_without_links(&self, path: &str, flags: libc::c_int) -> io::Result<OwnedFd> {
        self.open_resolved(path, flags | libc::O_NOFOLLOW, libc::RESOLVE_NO_SYMLINKS)
    }

    /// Open `path` as if the root were `/`, with `resolve` flags beyond `RESOLVE_IN_ROOT`.
    fn open_resolved(&self, path: &str, flags: libc::c_int, resolve: u64) -> io::Result<OwnedFd> {
        let name = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::ENOENT))?;
        // SAFETY: open_how is plain data; all-zero is its empty value.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = (flags | libc::O_CLOEXEC) as u64;
        how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS | resolve;
        // SAFETY: openat2 reads the NUL-terminated name and `how` (of the size passed)
        // and returns a new descriptor or -1.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                self.fd.as_raw_fd(),
                name.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this descriptor to us alone.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }

    /// Whether anything, a dangling symbolic link included, is at `path`. An error
    /// other than "no such file" counts as something.
    pub(crate) fn exists(&self, path: &str) -> bool {
        match self.open_inside(path, libc::O_PATH | libc::O_NOFOLLOW) {
            Ok(_) => true,
            Err(e) => !matches!(e.raw_os_error(), Some(libc::ENOENT)),
        }
    }

    /// The regular file at `path`, if there is one, up to `limit` bytes (more is an
    /// error).
    pub(crate) fn read_file(&self, path: &str, limit: u64) -> io::Result<Option<Vec<u8>>> {
        let file = match self.open_inside(path, libc::O_RDONLY | libc::O_NONBLOCK) {
            Ok(fd) => File::from(fd),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !file.metadata()?.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > limit {
            return Err(io::Error::other(format!("larger than {limit} bytes")));
        }
        Ok(Some(bytes))
    }

    /// The program `name` names, run from `workdir` with `search_path` (`PATH`'s value):
    /// a name with a `/` is that file (relative to `workdir`); any other is looked up in
    /// each directory of `search_path` in turn (an empty entry is `workdir`), the first
    /// executable regular file winning, as `execvp` does.
    pub(crate) fn find_program(&self, name: &str, search_path: &str, workdir: &str) -> Result<ProgramFile, Missing> {
        let candidates: Vec<String> = if name.contains('/') {
            vec![name.to_string()]
        } else {
            search_path.split(':').map(|dir| if dir.is_empty() { name.to_string() } else { join(dir, name) }).collect()
        };
        let mut not_executable = None;
        for candidate in &candidates {
            match self.program_file(candidate, workdir) {
                Ok(found) => return Ok(found),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR | libc::ELOOP)) => {}
                Err(e) => {
                    not_executable
                        .get_or_insert(Missing::NotExecutable { path: candidate.clone(), reason: e.to_string() });
                }
            }
        }
        Err(not_executable.unwrap_or(Missing::NotFound(candidates)))
    }

    /// The executable regular file at `path` (relative paths from `workdir`), and
    /// what it holds.
    pub(crate) fn program_file(&self, path: &str, workdir: &str) -> io::Result<ProgramFile> {
        let inside = if path.starts_with('/') { path.to_string() } else { join(workdir, path) };
        let file = File::from(self.open_inside(&inside, libc::O_PATH)?);
        let metadata = file.metadata()?;
        if metadata.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::EISDIR));
        }
        if !metadata.is_file() || metadata.mode() & 0o111 == 0 {
            return Err(io::Error::from_raw_os_error(libc::EACCES));
        }
        // A file only its owner may read (or executable but unreadable) is still a
        // program: it is only not sniffed.
        let kind = self.open_inside(&inside, libc::O_RDONLY | libc::O_NONBLOCK).map_or(FileKind::Other, |fd| {
            let mut head = Vec::with_capacity(SCRIPT_HEAD);
            match File::from(fd).take(SCRIPT_HEAD as u64).read_to_end(&mut head) {
                Ok(_) => file_kind(&head),
                Err(_) => FileKind::Other,
            }
        });
        Ok(ProgramFile { path: path.to_string(), kind })
    }
}

/// `dir/name`, one `/` between them.
fn join(dir: &str, name: &str) -> String {
    format!("{}/{}", dir.trim_end_matches('/'), name)
}

/// What a file's first bytes (up to [`SCRIPT_HEAD`]) say it is.
pub(crate) fn file_kind(head: &[u8]) -> FileKind {
    if let Ok(header) = Header::parse(&head[..head.len().min(HEADER_PREFIX)]) {
        return FileKind::Elf(header);
    }
    script_line(head).unwrap_or(FileKind::Other)
}

/// The `#!` line as `binfmt_script` reads it: after `#!` and blanks, the interpreter
/// up to a blank or the end of the line, then the rest of the line, trimmed, as one
/// argument. The kernel reads [`SCRIPT_HEAD`] bytes, zeros past a shorter file's end,
/// and refuses an interpreter name that runs to the end of them (it may be cut). `None`
/// when it is not a script or names no interpreter.
fn script_line(head: &[u8]) -> Option<FileKind> {
    let mut buffer = [0u8; SCRIPT_HEAD];
    let len = head.len().min(SCRIPT_HEAD);
    buffer[..len].copy_from_slice(&head[..len]);
    let rest = buffer.strip_prefix(b"#!")?;
    let end = rest.iter().position(|&b| b == b'\n' || b == 0);
    let line = &rest[..end.unwrap_or(rest.len())];
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let line = &line[line.iter().position(|b| !blank(b)).unwrap_or(line.len())..];
    let name_end = line.iter().position(blank).unwrap_or(line.len());
    if name_end == 0 || (end.is_none() && name_end == line.len()) {
        return None;
    }
    let interpreter = String::from_utf8_lossy(&line[..name_end]).into_owned();
    let argument = String::from_utf8_lossy(&line[name_end..]).trim_matches([' ', '\t']).to_string();
    Some(FileKind::Script { interpreter, argument: (!argument.is_empty()).then_some(argument) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_lines_as_the_kernel_reads_them() {
        let script = |interpreter: &str, argument: Option<&str>| FileKind::Script {
            interpreter: interpreter.to_string(),
            argument: argument.map(str::to_string),
        };
        assert_eq!(file_kind(b"#!/bin/sh\necho"), script("/bin/sh", None));
        assert_eq!(file_kind(b"#! /usr/bin/env  python3 -u \nx"), script("/usr/bin/env", Some("python3 -u")));
        assert_eq!(file_kind(b"#!\t/bin/bash -e"), script("/bin/bash", Some("-e")));
        assert_eq!(file_kind(b"#!/bin/sh"), script("/bin/sh", None), "a short file ends in zeros");
        let long = [b"#!/".as_slice(), &[b'x'; SCRIPT_HEAD]].concat();
        assert_eq!(file_kind(&long), FileKind::Other, "a name that fills the head may be cut");
        assert_eq!(file_kind(b"#!\n"), FileKind::Other);
        assert_eq!(file_kind(b"echo hi\n"), FileKind::Other);
        assert_eq!(file_kind(b""), FileKind::Other);
    }

    #[test]
    fn elf_headers() {
        let own = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        match file_kind(&own[..SCRIPT_HEAD]) {
            FileKind::Elf(header) => assert_eq!(header.arch(), Some(archway_arch::Arch::host())),
            other => panic!("{other:?}"),
        }
    }
}
