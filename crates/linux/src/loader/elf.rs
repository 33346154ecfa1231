//! Reading and validating the ELF header and program headers of an aarch64
//! executable (or of its `PT_INTERP` interpreter), and the layout of its loadable
//! segments.

use super::{host_page_size, page_down, page_up, LoadProblem, GUEST_ADDRESS_LIMIT};
use goblin::container::{Container, Ctx, Endian};
use goblin::elf::header::{EM_AARCH64, ET_DYN, ET_EXEC};
use goblin::elf::program_header::{ProgramHeader, PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD, PT_PHDR};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Size of an ELF64 file header.
const EHDR_SIZE: usize = 64;
/// Size of an ELF64 program header.
pub(super) const PHDR_SIZE: u16 = 56;
/// The kernel refuses program header tables larger than this.
const MAX_PHDR_TABLE: u64 = 65536;
/// Longest `PT_INTERP` string read.
const MAX_INTERP_LEN: u64 = 4096;
/// Largest segment alignment honoured when choosing a static-pie base (larger
/// `p_align` values are absurd and would waste address space).
const MAX_BASE_ALIGN: u64 = 1 << 30;

/// The parts of a validated ELF file the loader needs.
pub(super) struct ElfImage {
    pub(super) entry: u64,
    pub(super) phoff: u64,
    pub(super) is_pie: bool,
    pub(super) phdrs: Vec<ProgramHeader>,
    /// The `PT_INTERP` path, for a dynamically linked program.
    pub(super) interp: Option<Vec<u8>>,
}

impl ElfImage {
    /// Read and validate the ELF header and program headers of `file`.
    pub(super) fn read(file: &File, file_len: u64) -> Result<ElfImage, LoadProblem> {
        let mut ident = [0u8; EHDR_SIZE];
        let got = read_at_most(file, &mut ident, 0)?;
        if got < 4 || &ident[..4] != b"\x7fELF" {
            return Err(LoadProblem::NotElf);
        }
        if got < 6 {
            return Err(LoadProblem::Truncated("ELF header"));
        }
        match ident[4] {
            goblin::elf::header::ELFCLASS64 => {}
            goblin::elf::header::ELFCLASS32 => return Err(LoadProblem::Class32),
            other => return Err(LoadProblem::Malformed(format!("unknown ELF class {other}"))),
        }
        match ident[5] {
            goblin::elf::header::ELFDATA2LSB => {}
            goblin::elf::header::ELFDATA2MSB => return Err(LoadProblem::BigEndian),
            other => return Err(LoadProblem::Malformed(format!("unknown ELF data encoding {other}"))),
        }
        if got < EHDR_SIZE {
            return Err(LoadProblem::Truncated("ELF header"));
        }
        let header = goblin::elf64::header::Header::parse(&ident).map_err(|e| LoadProblem::Malformed(e.to_string()))?;
        if header.e_machine != EM_AARCH64 {
            return Err(LoadProblem::WrongMachine(machine_name(header.e_machine)));
        }
        let is_pie = match header.e_type {
            ET_EXEC => false,
            ET_DYN => true,
            other => return Err(LoadProblem::NotExecutable(goblin::elf::header::et_to_str(other))),
        };
        if header.e_phentsize != PHDR_SIZE {
            return Err(LoadProblem::Malformed(format!(
                "program header size {} (expected {PHDR_SIZE})",
                header.e_phentsize
            )));
        }
        if header.e_phnum == 0 {
            return Err(LoadProblem::Malformed("no program headers".into()));
        }
        let table_len = u64::from(header.e_phnum) * u64::from(PHDR_SIZE);
        if table_len > MAX_PHDR_TABLE {
            return Err(LoadProblem::Malformed(format!("{} program headers", header.e_phnum)));
        }
        if header.e_phoff.checked_add(table_len).is_none_or(|end| end > file_len) {
            return Err(LoadProblem::Truncated("program headers"));
        }
        let mut table = vec![0u8; table_len as usize];
        if read_at_most(file, &mut table, header.e_phoff)? < table.len() {
            return Err(LoadProblem::Truncated("program headers"));
        }
        let phdrs =
            ProgramHeader::parse(&table, 0, usize::from(header.e_phnum), Ctx::new(Container::Big, Endian::Little))
                .map_err(|e| LoadProblem::Malformed(e.to_string()))?;
        let interp = match phdrs.iter().find(|p| p.p_type == PT_INTERP) {
            Some(p) => Some(read_interp(file, p, file_len)?),
            None => None,
        };
        let image = ElfImage { entry: header.e_entry, phoff: header.e_phoff, is_pie, phdrs, interp };
        image.validate_segments(file_len)?;
        Ok(image)
    }

    fn loads(&self) -> impl Iterator<Item = &ProgramHeader> {
        self.phdrs.iter().filter(|p| p.p_type == PT_LOAD && p.p_memsz > 0)
    }

    fn validate_segments(&self, file_len: u64) -> Result<(), LoadProblem> {
        if self.loads().next().is_none() {
            return Err(LoadProblem::Malformed("no loadable segments".into()));
        }
        let page = host_page_size();
        for p in self.loads() {
            let what = |reason: &str| LoadProblem::Malformed(format!("segment at {:#x}: {reason}", p.p_vaddr));
            if p.p_filesz > p.p_memsz {
                return Err(what("file size larger than memory size"));
            }
            if p.p_offset.checked_add(p.p_filesz).is_none_or(|end| end > file_len) {
                return Err(LoadProblem::Truncated("segment data"));
            }
            if p.p_vaddr.checked_add(p.p_memsz).is_none_or(|end| end > GUEST_ADDRESS_LIMIT) {
                return Err(what("beyond the user address space"));
            }
            if p.p_vaddr % page != p.p_offset % page {
                return Err(what("file offset and address disagree modulo the page size"));
            }
        }
        Ok(())
    }

    /// The segments to map and the page-aligned span they cover.
    pub(super) fn layout(&self) -> Layout {
        let page = host_page_size();
        let segments: Vec<Segment> = self
            .loads()
            .map(|p| Segment {
                vaddr: p.p_vaddr,
                memsz: p.p_memsz,
                filesz: p.p_filesz,
                offset: p.p_offset,
                prot: protection(p.p_flags),
            })
            .collect();
        let start = segments.iter().map(|s| page_down(s.vaddr, page)).min().unwrap_or(0);
        let end = segments.iter().map(|s| page_up(s.vaddr + s.memsz, page)).max().unwrap_or(0);
        let align = self
            .loads()
            .map(|p| p.p_align)
            .filter(|a| a.is_power_of_two() && *a <= MAX_BASE_ALIGN)
            .max()
            .unwrap_or(page)
            .max(page);
        Layout { segments, start, end, align }
    }

    /// Where the program headers are in memory, before the load bias: `PT_PHDR` if
    /// present, else inside the loaded segment holding them, else where the kernel
    /// would put them (first segment's base plus `e_phoff`).
    pub(super) fn phdr_vaddr(&self) -> u64 {
        if let Some(p) = self.phdrs.iter().find(|p| p.p_type == PT_PHDR) {
            return p.p_vaddr;
        }
        let table_len = self.phdrs.len() as u64 * u64::from(PHDR_SIZE);
        if let Some(p) =
            self.loads().find(|p| p.p_offset <= self.phoff && self.phoff + table_len <= p.p_offset + p.p_filesz)
        {
            return p.p_vaddr + (self.phoff - p.p_offset);
        }
        let first = self.loads().next().map_or(0, |p| p.p_vaddr.wrapping_sub(p.p_offset));
        first.wrapping_add(self.phoff)
    }
}

/// One `PT_LOAD` segment, validated.
pub(super) struct Segment {
    pub(super) vaddr: u64,
    pub(super) memsz: u64,
    pub(super) filesz: u64,
    pub(super) offset: u64,
    pub(super) prot: i32,
}

/// The segments of a program and the page-aligned span `[start, end)` they cover
/// (before the load bias), with the alignment a static-pie base needs.
pub(super) struct Layout {
    pub(super) segments: Vec<Segment>,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) align: u64,
}

/// Host protection for ELF segment flags. Executable segments are also readable:
/// the translator reads guest code through host memory.
fn protection(p_flags: u32) -> i32 {
    let mut prot = libc::PROT_NONE;
    if p_flags & (PF_R | PF_X) != 0 {
        prot |= libc::PROT_READ;
    }
    if p_flags & PF_W != 0 {
        prot |= libc::PROT_WRITE;
    }
    if p_flags & PF_X != 0 {
        prot |= libc::PROT_EXEC;
    }
    prot
}

/// The `PT_INTERP` string up to its NUL, as the kernel reads it.
fn read_interp(file: &File, interp: &ProgramHeader, file_len: u64) -> Result<Vec<u8>, LoadProblem> {
    if interp.p_filesz == 0 || interp.p_filesz > MAX_INTERP_LEN {
        return Err(LoadProblem::Malformed(format!("PT_INTERP of {} bytes", interp.p_filesz)));
    }
    if interp.p_offset.checked_add(interp.p_filesz).is_none_or(|end| end > file_len) {
        return Err(LoadProblem::Truncated("PT_INTERP"));
    }
    let mut bytes = vec![0u8; interp.p_filesz as usize];
    if read_at_most(file, &mut bytes, interp.p_offset)? < bytes.len() {
        return Err(LoadProblem::Truncated("PT_INTERP"));
    }
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    if len == 0 {
        return Err(LoadProblem::Malformed("empty PT_INTERP".into()));
    }
    bytes.truncate(len);
    Ok(bytes)
}

/// A readable name for an ELF machine, as `file(1)` would say it.
fn machine_name(machine: u16) -> String {
    use goblin::elf::header::*;
    let name = match machine {
        EM_X86_64 => "x86-64",
        EM_386 => "i386",
        EM_ARM => "arm",
        EM_RISCV => "riscv",
        EM_PPC64 => "ppc64",
        EM_PPC => "ppc",
        EM_S390 => "s390",
        EM_MIPS => "mips",
        EM_LOONGARCH => "loongarch",
        EM_SPARCV9 => "sparc64",
        EM_NONE => "none",
        other => return format!("{} ({other})", machine_to_str(other)),
    };
    name.to_string()
}

/// Read into `buf` from `offset` until it is full or the file ends; the count read.
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
