//! The ELF sniffer: what a file's bytes say about the program in it, for every crate
//! that asks (the translator's `execve`, binfmt_misc's static-interpreter check, the
//! readiness check's census). Class, byte order, type and machine come from the header;
//! the interpreter from `PT_INTERP`; needed libraries, `DT_RUNPATH`, `DT_RPATH` and
//! `DT_SONAME` from the dynamic section, whose string table is found through the
//! `PT_LOAD` segments as the loader finds it. 32- and 64-bit, both byte orders.
//!
//! Malformed input is an [`ElfError`], never a panic: every offset is checked against
//! the bytes at hand, and the walks are bounded by the counts in the file.

use crate::table::{Arch, ByteOrder, Class};
use std::fmt;

/// The ELF magic.
pub const MAGIC: &[u8; 4] = b"\x7fELF";

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_SONAME: u64 = 14;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;

/// `e_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ET_REL`: an object file.
    Relocatable,
    /// `ET_EXEC`: a program at a fixed address.
    Executable,
    /// `ET_DYN`: a shared object or a position-independent program.
    Shared,
    /// `ET_CORE`.
    Core,
    Other(u16),
}

/// What the first 20 bytes of an ELF file say: enough to know what runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub class: Class,
    pub byte_order: ByteOrder,
    /// `EI_OSABI`.
    pub os_abi: u8,
    pub kind: Kind,
    /// `e_machine`.
    pub machine: u16,
}

/// The size of the part of the ELF header that [`Header`] reads.
pub const HEADER_PREFIX: usize = 20;

impl Header {
    /// Read the identification, type and machine from a file's first bytes.
    pub fn parse(prefix: &[u8]) -> Result<Header, ElfError> {
        if !is_elf(prefix) {
            return Err(ElfError::NotElf);
        }
        let ident = prefix.get(..HEADER_PREFIX).ok_or(ElfError::Truncated("the ELF header"))?;
        let class = match ident[4] {
            1 => Class::Elf32,
            2 => Class::Elf64,
            _ => return Err(ElfError::Malformed("EI_CLASS is neither 32- nor 64-bit")),
        };
        let byte_order = match ident[5] {
            1 => ByteOrder::Little,
            2 => ByteOrder::Big,
            _ => return Err(ElfError::Malformed("EI_DATA is neither little- nor big-endian")),
        };
        let half = |at: usize| {
            let pair = [ident[at], ident[at + 1]];
            if byte_order == ByteOrder::Big {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        };
        let kind = match half(16) {
            1 => Kind::Relocatable,
            2 => Kind::Executable,
            3 => Kind::Shared,
            4 => Kind::Core,
            other => Kind::Other(other),
        };
        Ok(Header { class, byte_order, os_abi: ident[7], kind, machine: half(18) })
    }

    /// The architecture, if it is one the table knows.
    pub fn arch(&self) -> Option<&'static Arch> {
        Arch::for_elf(self.machine, self.class, self.byte_order)
    }

    /// Something the kernel can execute (`ET_EXEC`, or `ET_DYN`: a PIE program or a
    /// shared object; only the entry point and the rest of the file tell them apart).
    pub fn is_executable_kind(&self) -> bool {
        matches!(self.kind, Kind::Executable | Kind::Shared)
    }
}

/// What an ELF file says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elf {
    pub header: Header,
    /// `e_flags` (ARM's hard-float ABI lives here).
    pub flags: u32,
    /// `PT_INTERP`: the dynamic loader.
    pub interpreter: Option<String>,
    /// `DT_NEEDED`, in order.
    pub needed: Vec<String>,
    /// `DT_RUNPATH` directories.
    pub runpath: Vec<String>,
    /// `DT_RPATH` directories (ignored by the loader when `DT_RUNPATH` is present).
    pub rpath: Vec<String>,
    pub soname: Option<String>,
    /// Whether it has a dynamic section (`PT_DYNAMIC`): static-pie programs do.
    pub dynamic: bool,
}

/// Why bytes are not a readable ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfError {
    /// No ELF magic.
    NotElf,
    /// The bytes end before something the headers point at.
    Truncated(&'static str),
    /// A header field has a value no ELF file can have.
    Malformed(&'static str),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::NotElf => write!(f, "not an ELF file"),
            ElfError::Truncated(what) => write!(f, "truncated ELF file: {what} lies past its end"),
            ElfError::Malformed(what) => write!(f, "malformed ELF file: {what}"),
        }
    }
}

impl std::error::Error for ElfError {}

/// Whether `prefix` (the first bytes of a file) starts like an ELF file.
pub fn is_elf(prefix: &[u8]) -> bool {
    prefix.starts_with(MAGIC)
}

/// Reads fields of one byte order and class from the file's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    big: bool,
    wide: bool,
}

impl Reader<'_> {
    fn uint(&self, at: u64, len: usize, what: &'static str) -> Result<u64, ElfError> {
        let start = usize::try_from(at).map_err(|_| ElfError::Truncated(what))?;
        let field =
            start.checked_add(len).and_then(|end| self.bytes.get(start..end)).ok_or(ElfError::Truncated(what))?;
        let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
        Ok(if self.big { field.iter().fold(0, fold) } else { field.iter().rev().fold(0, fold) })
    }

    /// An address-sized field (4 or 8 bytes).
    fn word(&self, at: u64, what: &'static str) -> Result<u64, ElfError> {
        self.uint(at, if self.wide { 8 } else { 4 }, what)
    }

    /// A NUL-terminated string at `at`, at most `limit` bytes long.
    fn string(&self, at: u64, limit: u64, what: &'static str) -> Result<String, ElfError> {
        let start = usize::try_from(at).map_err(|_| ElfError::Truncated(what))?;
        let rest = self.bytes.get(start..).ok_or(ElfError::Truncated(what))?;
        let rest = &rest[..rest.len().min(usize::try_from(limit).unwrap_or(usize::MAX))];
        let end = rest.iter().position(|&b| b == 0).ok_or(ElfError::Truncated(what))?;
        Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
    }
}

/// One program header.
struct Segment {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

impl Elf {
    /// Read the ELF file whose bytes are `bytes` (the whole file: the dynamic section
    /// and string table may lie anywhere in it).
    pub fn parse(bytes: &[u8]) -> Result<Elf, ElfError> {
        let header = Header::parse(bytes)?;
        let wide = header.class == Class::Elf64;
        let r = Reader { bytes, big: header.byte_order == ByteOrder::Big, wide };
        // Offsets below are `saturating_add`ed: a field past the end reads as truncated.
        let (phoff_at, flags_at, phentsize_at) = if wide { (32, 48, 54) } else { (28, 36, 42) };
        let flags = r.uint(flags_at, 4, "the ELF header")? as u32;
        let phoff = r.word(phoff_at, "the ELF header")?;
        let phentsize = r.uint(phentsize_at, 2, "the ELF header")?;
        let phnum = r.uint(phentsize_at + 2, 2, "the ELF header")?;
        let mut elf = Elf {
            header,
            flags,
            interpreter: None,
            needed: Vec::new(),
            runpath: Vec::new(),
            rpath: Vec::new(),
            soname: None,
            dynamic: false,
        };
        if phnum == 0 {
            return Ok(elf);
        }
        let min_entry = if wide { 56 } else { 32 };
        if phentsize < min_entry {
            return Err(ElfError::Malformed("program headers smaller than the ELF class needs"));
        }
        let mut segments = Vec::with_capacity(phnum as usize);
        for i in 0..phnum {
            let at = phoff.checked_add(i * phentsize).ok_or(ElfError::Malformed("program header offset overflows"))?;
            let what = "a program header";
            segments.push(if wide {
                Segment {
                    kind: r.uint(at, 4, what)? as u32,
                    offset: r.word(at.saturating_add(8), what)?,
                    vaddr: r.word(at.saturating_add(16), what)?,
                    filesz: r.word(at.saturating_add(32), what)?,
                }
            } else {
                Segment {
                    kind: r.uint(at, 4, what)? as u32,
                    offset: r.word(at.saturating_add(4), what)?,
                    vaddr: r.word(at.saturating_add(8), what)?,
                    filesz: r.word(at.saturating_add(16), what)?,
                }
            });
        }
        if let Some(interp) = segments.iter().find(|s| s.kind == PT_INTERP) {
            elf.interpreter = Some(r.string(interp.offset, interp.filesz, "the PT_INTERP string")?);
        }
        if let Some(dynamic) = segments.iter().find(|s| s.kind == PT_DYNAMIC) {
            elf.dynamic = true;
            elf.read_dynamic(&r, dynamic, &segments)?;
        }
        Ok(elf)
    }

    /// The dynamic section's entries and the strings they name.
    fn read_dynamic(&mut self, r: &Reader, dynamic: &Segment, segments: &[Segment]) -> Result<(), ElfError> {
        let entry = if r.wide { 16 } else { 8 };
        let mut entries = Vec::new();
        for i in 0..dynamic.filesz / entry {
            let at =
                dynamic.offset.checked_add(i * entry).ok_or(ElfError::Malformed("dynamic entry offset overflows"))?;
            let tag = r.word(at, "the dynamic section")?;
            if tag == DT_NULL {
                break;
            }
            entries.push((tag, r.word(at.saturating_add(entry / 2), "the dynamic section")?));
        }
        let find = |tag| entries.iter().find(|(t, _)| *t == tag).map(|&(_, v)| v);
        let Some(strtab_addr) = find(DT_STRTAB) else {
            return if entries.iter().any(|(t, _)| matches!(*t, DT_NEEDED | DT_SONAME | DT_RPATH | DT_RUNPATH)) {
                Err(ElfError::Malformed("dynamic strings without DT_STRTAB"))
            } else {
                Ok(())
            };
        };
        let strtab = segments
            .iter()
            .filter(|s| s.kind == PT_LOAD)
            .find(|s| strtab_addr >= s.vaddr && strtab_addr - s.vaddr < s.filesz)
            .and_then(|s| s.offset.checked_add(strtab_addr - s.vaddr))
            .ok_or(ElfError::Malformed("DT_STRTAB outside every loaded segment"))?;
        let strsz = find(DT_STRSZ).unwrap_or(u64::MAX);
        let string = |offset: u64| {
            if offset >= strsz {
                return Err(ElfError::Malformed("a dynamic string offset past DT_STRSZ"));
            }
            let at = strtab.checked_add(offset).ok_or(ElfError::Malformed("dynamic string offset overflows"))?;
            r.string(at, strsz - offset, "a dynamic string")
        };
        let paths = |value: String| value.split(':').filter(|p| !p.is_empty()).map(str::to_string).collect::<Vec<_>>();
        for &(tag, value) in &entries {
            match tag {
                DT_NEEDED => self.needed.push(string(value)?),
                DT_SONAME => self.soname = Some(string(value)?),
                DT_RPATH => self.rpath.extend(paths(string(value)?)),
                DT_RUNPATH => self.runpath.extend(paths(string(value)?)),
                _ => {}
            }
        }
        Ok(())
    }

    /// The architecture, if it is one the table knows.
    pub fn arch(&self) -> Option<&'static Arch> {
        self.header.arch()
    }

    /// A program or library that needs no loader and no library (static, static-pie).
    pub fn is_static(&self) -> bool {
        self.interpreter.is_none() && self.needed.is_empty()
    }

    /// The search path for needed libraries in the loader's order of precedence:
    /// `DT_RPATH` only when there is no `DT_RUNPATH`, else `DT_RUNPATH`.
    pub fn library_path(&self) -> &[String] {
        if self.runpath.is_empty() {
            &self.rpath
        } else {
            &self.runpath
        }
    }
}

#[cfg(test)]
mod tests;
