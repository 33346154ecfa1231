//! Loading an aarch64 ELF executable into memory, as the kernel's `binfmt_elf` does.
//!
//! Where a program goes:
//! - **non-PIE** (`ET_EXEC`): segments go at their fixed addresses. The whole span is
//!   reserved first with `MAP_FIXED_NOREPLACE`, so a program that would overlap memory
//!   already mapped (archway itself, its heap) is refused with a clear error instead of
//!   silently replacing it.
//! - **PIE with an interpreter** (`ET_DYN` with `PT_INTERP`): at [`PIE_BASE`], the
//!   counterpart of the kernel's `ELF_ET_DYN_BASE`; anywhere (as below) if that is
//!   taken.
//! - **static-pie** (`ET_DYN` without `PT_INTERP`), and the **interpreter** itself: a
//!   base is chosen by reserving the whole span with `mmap(NULL)`, aligned to the
//!   largest `p_align`, as the kernel puts them in the mmap area; segments are then
//!   mapped `MAP_FIXED` inside that reservation.
//!
//! A dynamically linked program ([`load_executable`]) is the program plus its
//! `PT_INTERP` interpreter (`/lib/ld-linux-aarch64.so.1`), looked up under the guest
//! root first ([`crate::guest_root`]) and mapped at a base of its own: execution starts
//! at the interpreter's entry, with `AT_BASE` = the interpreter's base and `AT_PHDR`,
//! `AT_ENTRY` those of the program ([`Executable`]).
//!
//! Segments are mapped from the file with their own protections; executable ones are
//! also readable, because the translator reads guest code through host memory. Guest
//! segments are often aligned to 64 KiB while the host page is 4 KiB: everything here
//! works modulo the host page. The tail of the last file page of a segment is zeroed
//! (the start of `.bss`) and the rest of `.bss` is anonymous memory.
//!
//! The region right after the main program is reserved (`PROT_NONE`) for the guest's
//! `brk` heap, so that later host mappings do not land where `brk` must grow; see
//! [`crate::process::Brk`]. The interpreter gets no such reservation.
//!
//! Every malformed input is an error ([`LoadError`]), never a panic. The submodule
//! `elf` reads and validates the headers; this module maps the segments.

mod elf;

use elf::{ElfImage, Layout, Segment, PHDR_SIZE};
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// First address the guest may not use: the x86_64 host's user address space ends here.
pub const GUEST_ADDRESS_LIMIT: u64 = 0x7fff_ffff_f000;
/// Address space reserved after the program for the guest's `brk` heap.
pub const BRK_RESERVATION: u64 = 1 << 30;
/// Where a PIE program with an interpreter is put (before aligning down to its
/// segments' alignment). The arm64 kernel uses 2/3 of its address space
/// (`ELF_ET_DYN_BASE`); on an x86_64 host 2/3 of the range is where the host kernel put
/// archway itself, so guests go at 1/3: far from archway and its heap, from the host's
/// mmap area (top-down below the stack) and from non-PIE programs (low addresses).
/// Not randomised, so runs are reproducible.
pub const PIE_BASE: u64 = GUEST_ADDRESS_LIMIT / 3;

/// Where a program (or an interpreter) was put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedProgram {
    /// Entry point (`AT_ENTRY`, the first guest PC).
    pub entry: u64,
    /// Address of the program headers in memory (`AT_PHDR`).
    pub phdr: u64,
    /// Size of one program header (`AT_PHENT`).
    pub phent: u64,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: u64,
    /// Load bias: 0 for non-PIE, the chosen base for PIE.
    pub base: u64,
    /// Lowest address of the program's memory (page-aligned).
    pub start: u64,
    /// Page-aligned end of the program: where the guest's `brk` heap starts.
    pub brk_start: u64,
    /// End of the address space reserved for the `brk` heap (equal to `brk_start`
    /// when nothing could be reserved).
    pub brk_limit: u64,
    /// The `PT_INTERP` path, for a dynamically linked program.
    pub interp: Option<PathBuf>,
}

/// A program ready to run: the program and, if it is dynamically linked, its
/// interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executable {
    pub program: LoadedProgram,
    pub interpreter: Option<LoadedProgram>,
}

impl Executable {
    /// The first guest PC: the interpreter's entry, or the program's.
    pub fn start_pc(&self) -> u64 {
        self.interpreter.as_ref().map_or(self.program.entry, |i| i.entry)
    }

    /// `AT_BASE`: the interpreter's load bias, 0 without one.
    pub fn interp_base(&self) -> u64 {
        self.interpreter.as_ref().map_or(0, |i| i.base)
    }
}

/// A program that cannot be loaded, and why. The message is the problem alone (one
/// line); callers name the program, and `path` says which file was tried (under the
/// guest root, it differs from the name the user gave).
#[derive(Debug, thiserror::Error)]
#[error("{problem}")]
pub struct LoadError {
    pub path: PathBuf,
    pub problem: LoadProblem,
}

/// What is wrong with a program.
#[derive(Debug, thiserror::Error)]
pub enum LoadProblem {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("is a directory")]
    Directory,
    #[error("not a regular file")]
    NotRegularFile,
    #[error("empty file")]
    Empty,
    #[error("not an ELF file")]
    NotElf,
    #[error("truncated ELF: {0} past the end of the file")]
    Truncated(&'static str),
    #[error("32-bit ELF (ELFCLASS32); aarch64 programs are ELFCLASS64")]
    Class32,
    #[error("big-endian ELF is not supported")]
    BigEndian,
    #[error("not an aarch64 ELF (machine: {0})")]
    WrongMachine(String),
    #[error("not an executable (ELF type: {0})")]
    NotExecutable(&'static str),
    #[error("interpreter {}: {problem}", path.display())]
    Interpreter { path: PathBuf, problem: Box<LoadProblem> },
    #[error("malformed ELF: {0}")]
    Malformed(String),
    #[error("program at {start:#x}..{end:#x} would overlap memory already mapped")]
    Overlap { start: u64, end: u64 },
    #[error("cannot map {start:#x}..{end:#x}: {source}")]
    Map { start: u64, end: u64, source: io::Error },
}

/// Load the aarch64 program at `path` and, if it names one, its interpreter
/// (looked up under `root` first: [`crate::guest_root::resolve`]). `opened` is the
/// same program already open (binfmt_misc hands the interpreter the file it checked as
/// `AT_EXECFD`): its bytes are loaded instead of opening `path` again, and it is closed
/// when loading ends.
pub fn load_executable(path: &Path, opened: Option<File>, root: Option<&Path>) -> Result<Executable, LoadError> {
    let program =
        load_image(path, opened, Role::Program).map_err(|problem| LoadError { path: path.to_path_buf(), problem })?;
    let Some(interp) = &program.interp else {
        return Ok(Executable { program, interpreter: None });
    };
    let interp_problem = |problem| LoadProblem::Interpreter { path: interp.clone(), problem: Box::new(problem) };
    let interp_file = crate::guest_root::resolve(interp, root);
    let interpreter = load_image(&interp_file, None, Role::Interpreter)
        .map_err(|problem| LoadError { path: path.to_path_buf(), problem: interp_problem(problem) })?;
    Ok(Executable { program, interpreter: Some(interpreter) })
}

/// Load the aarch64 program at `path` by itself (its interpreter, if any, is
/// named in [`LoadedProgram::interp`] but not loaded).
pub fn load(path: &Path) -> Result<LoadedProgram, LoadError> {
    load_image(path, None, Role::Program).map_err(|problem| LoadError { path: path.to_path_buf(), problem })
}

/// What an ELF file is being loaded as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The main program: placed by its type, with a `brk` reservation after it.
    Program,
    /// A `PT_INTERP` interpreter: anywhere, no `brk`.
    Interpreter,
}

/// Where the reservation for a program goes.
#[derive(Clone, Copy)]
enum Placement {
    /// At the program's own addresses (non-PIE).
    Fixed,
    /// At this base if it is free, else anywhere.
    Preferred(u64),
    /// Wherever the host's `mmap` puts it.
    Anywhere,
}

/// Map the ELF at `path`, or in `opened` when given.
fn load_image(path: &Path, opened: Option<File>, role: Role) -> Result<LoadedProgram, LoadProblem> {
    let file = match opened {
        Some(file) => file,
        None => {
            // Checked before opening: opening a FIFO would block.
            check_kind(&std::fs::metadata(path)?)?;
            File::open(path)?
        }
    };
    let metadata = file.metadata()?;
    check_kind(&metadata)?;
    let image = ElfImage::read(&file, metadata.len())?;
    let layout = image.layout();
    let placement = match (image.is_pie, role, &image.interp) {
        (false, _, _) => Placement::Fixed,
        (true, Role::Program, Some(_)) => Placement::Preferred(PIE_BASE),
        (true, _, _) => Placement::Anywhere,
    };
    let brk_wanted = if role == Role::Program { BRK_RESERVATION } else { 0 };
    let mut reservation = Reservation::new(&layout, placement, brk_wanted)?;
    let bias = reservation.bias;
    for segment in &layout.segments {
        map_segment(&file, segment, bias)?;
    }
    reservation.release_gaps(&layout);
    let brk_start = layout.end.wrapping_add(bias);
    let brk_limit = brk_start + reservation.brk_len;
    reservation.keep();
    let phdr = image.phdr_vaddr().wrapping_add(bias);
    let interp = match (role, image.interp) {
        (Role::Program, Some(bytes)) => Some(PathBuf::from(std::ffi::OsString::from_vec(bytes))),
        _ => None,
    };
    Ok(LoadedProgram {
        entry: image.entry.wrapping_add(bias),
        phdr,
        phent: u64::from(PHDR_SIZE),
        phnum: image.phdrs.len() as u64,
        base: bias,
        start: reservation.start,
        brk_start,
        brk_limit,
        interp,
    })
}

/// A program must be a non-empty regular file.
fn check_kind(metadata: &std::fs::Metadata) -> Result<(), LoadProblem> {
    if metadata.is_dir() {
        return Err(LoadProblem::Directory);
    }
    if !metadata.is_file() {
        return Err(LoadProblem::NotRegularFile);
    }
    if metadata.len() == 0 {
        return Err(LoadProblem::Empty);
    }
    Ok(())
}

/// Address space reserved `PROT_NONE` for the program and its `brk` heap; unmapped
/// again on drop unless kept (so a failed load leaves nothing behind).
struct Reservation {
    start: u64,
    len: u64,
    /// What to add to the program's addresses (0 unless PIE).
    bias: u64,
    brk_len: u64,
    kept: bool,
}

impl Reservation {
    /// Reserve the span of `layout` where `placement` says, plus `brk_wanted` bytes
    /// for `brk`; if the `brk` room cannot be had, the span alone.
    fn new(layout: &Layout, placement: Placement, brk_wanted: u64) -> Result<Reservation, LoadProblem> {
        // A PIE base must keep the segments' alignment: reserve from the aligned
        // address below the first segment.
        let link_start = match placement {
            Placement::Fixed => layout.start,
            _ => page_down(layout.start, layout.align),
        };
        let span = layout.end - link_start;
        let mut last_error = None;
        let brk_tries: &[u64] = if brk_wanted > 0 { &[brk_wanted, 0] } else { &[0] };
        for &brk_len in brk_tries {
            let len = span + brk_len;
            let attempt = match placement {
                Placement::Fixed => reserve_fixed(link_start, len),
                Placement::Preferred(base) => {
                    reserve_fixed(page_down(base, layout.align), len).or_else(|_| reserve_anywhere(len, layout.align))
                }
                Placement::Anywhere => reserve_anywhere(len, layout.align),
            };
            match attempt {
                Ok(start) => {
                    let bias = start.wrapping_sub(link_start);
                    return Ok(Reservation { start, len, bias, brk_len, kept: false });
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(match last_error {
            Some(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                LoadProblem::Overlap { start: layout.start, end: layout.end }
            }
            Some(e) => LoadProblem::Map { start: layout.start, end: layout.end, source: e },
            None => LoadProblem::Malformed("empty program".into()),
        })
    }

    /// Unmap the holes between segments, as the kernel leaves them.
    fn release_gaps(&self, layout: &Layout) {
        let page = host_page_size();
        let mut ranges: Vec<(u64, u64)> = layout
            .segments
            .iter()
            .map(|s| (page_down(s.vaddr, page) + self.bias, page_up(s.vaddr + s.memsz, page) + self.bias))
            .collect();
        ranges.sort_unstable();
        let mut covered_to = self.start;
        for (start, end) in ranges {
            if start > covered_to {
                unmap(covered_to, start - covered_to);
            }
            covered_to = covered_to.max(end);
        }
    }

    fn keep(&mut self) {
        self.kept = true;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.kept {
            unmap(self.start, self.len);
        }
    }
}

/// Reserve `len` bytes at exactly `start`, refusing to replace anything mapped there.
fn reserve_fixed(start: u64, len: u64) -> io::Result<u64> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE;
    let got = mmap(start, len, libc::PROT_NONE, flags, -1, 0)?;
    if got != start {
        // Kernels before 4.17 treat MAP_FIXED_NOREPLACE as a hint.
        unmap(got, len);
        return Err(io::Error::from_raw_os_error(libc::EEXIST));
    }
    Ok(start)
}

/// Reserve `len` bytes anywhere, starting at a multiple of `align`.
fn reserve_anywhere(len: u64, align: u64) -> io::Result<u64> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
    let got = mmap(0, len + align, libc::PROT_NONE, flags, -1, 0)?;
    let start = got.next_multiple_of(align);
    if start > got {
        unmap(got, start - got);
    }
    let slack_end = start + len;
    if got + len + align > slack_end {
        unmap(slack_end, got + len + align - slack_end);
    }
    Ok(start)
}

/// Map one segment (inside the program's reservation) at `vaddr + bias`.
fn map_segment(file: &File, segment: &Segment, bias: u64) -> Result<(), LoadProblem> {
    let page = host_page_size();
    let start = segment.vaddr + bias;
    let page_start = page_down(start, page);
    let file_end = start + segment.filesz;
    let mem_end = start + segment.memsz;
    let has_partial_bss_page = segment.memsz > segment.filesz && !file_end.is_multiple_of(page);
    let fail = |source| LoadProblem::Map { start: page_start, end: page_up(mem_end, page), source };
    let fixed = libc::MAP_PRIVATE | libc::MAP_FIXED;
    if segment.filesz > 0 {
        let len = page_up(file_end, page) - page_start;
        let file_offset = segment.offset - (start - page_start);
        let prot = if has_partial_bss_page { segment.prot | libc::PROT_WRITE } else { segment.prot };
        mmap(page_start, len, prot, fixed, file.as_raw_fd(), file_offset).map_err(fail)?;
        if has_partial_bss_page {
            let tail = page_up(file_end, page) - file_end;
            // SAFETY: [file_end, file_end + tail) lies in the writable private mapping
            // made just above, which belongs to the program being loaded.
            unsafe { std::ptr::write_bytes(file_end as *mut u8, 0, tail as usize) };
            protect(page_start, len, segment.prot).map_err(fail)?;
        }
    }
    let anon_start = if segment.filesz > 0 { page_up(file_end, page) } else { page_start };
    let anon_end = page_up(mem_end, page);
    if anon_end > anon_start {
        let flags = fixed | libc::MAP_ANONYMOUS;
        mmap(anon_start, anon_end - anon_start, segment.prot, flags, -1, 0).map_err(fail)?;
    }
    Ok(())
}

/// The host page size (4 KiB on x86_64).
pub fn host_page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

pub(crate) fn page_down(addr: u64, page: u64) -> u64 {
    addr & !(page - 1)
}

pub(crate) fn page_up(addr: u64, page: u64) -> u64 {
    addr.saturating_add(page - 1) & !(page - 1)
}

fn mmap(addr: u64, len: u64, prot: i32, flags: i32, fd: i32, offset: u64) -> io::Result<u64> {
    // SAFETY: callers only map over address space they own (their reservation) or
    // let the kernel choose; no Rust object lives there.
    let got = unsafe { libc::mmap(addr as *mut libc::c_void, len as usize, prot, flags, fd, offset as libc::off_t) };
    if got == libc::MAP_FAILED {
        Err(io::Error::last_os_error())
    } else {
        Ok(got as u64)
    }
}

fn protect(addr: u64, len: u64, prot: i32) -> io::Result<()> {
    // SAFETY: the range belongs to the program being loaded.
    if unsafe { libc::mprotect(addr as *mut libc::c_void, len as usize, prot) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn unmap(addr: u64, len: u64) {
    // SAFETY: the range belongs to a reservation this module made. Failure leaves a
    // harmless PROT_NONE range behind.
    unsafe { libc::munmap(addr as *mut libc::c_void, len as usize) };
}

#[cfg(test)]
mod tests;
