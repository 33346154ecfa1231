//! The initial stack the kernel builds for a new program (`create_elf_tables` in
//! `fs/binfmt_elf.c`), in an 8 MiB guest stack with a guard region below it.
//!
//! From the final SP upwards:
//!
//! ```text
//! sp ->  argc
//!        argv[0] .. argv[argc-1], NULL
//!        envp[0] .. envp[n-1], NULL
//!        auxv (type, value) pairs .., (AT_NULL, 0)
//!        [padding]
//!        16 random bytes (AT_RANDOM)
//!        "aarch64\0" (AT_PLATFORM)
//!        argv strings, then envp strings (argv[0] lowest)
//!        the program path (AT_EXECFN)
//!        8 zero bytes
//! top
//! ```
//!
//! SP is 16-byte aligned. There is no vDSO: `AT_SYSINFO_EHDR` is left out, and glibc
//! then makes real system calls for `clock_gettime` and friends.

pub use crate::credentials::Credentials;
use crate::loader::Executable;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;

/// Size of the guest stack.
pub const STACK_SIZE: u64 = 8 << 20;
/// Inaccessible region below the stack, so an overflow faults instead of running on.
pub const STACK_GUARD: u64 = 64 << 10;
/// Most bytes the argument and environment strings may take (a quarter of the stack,
/// as the kernel allows).
pub const MAX_STRINGS: u64 = STACK_SIZE / 4;

/// `AT_PAGESZ`: the guest page size.
const GUEST_PAGE_SIZE: u64 = 4096;
/// `AT_CLKTCK`: the `times()` tick rate.
const CLOCK_TICKS: u64 = 100;
/// `AT_MINSIGSTKSZ` as arm64 reports it (signal frame with FP/SIMD context).
pub const MIN_SIGNAL_STACK_SIZE: u64 = 5120;

/// Auxiliary vector entry types (`include/uapi/linux/auxvec.h`, arm64 `asm/auxvec.h`).
pub mod at {
    pub const NULL: u64 = 0;
    pub const PHDR: u64 = 3;
    pub const PHENT: u64 = 4;
    pub const PHNUM: u64 = 5;
    pub const PAGESZ: u64 = 6;
    pub const BASE: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const ENTRY: u64 = 9;
    pub const UID: u64 = 11;
    pub const EUID: u64 = 12;
    pub const GID: u64 = 13;
    pub const EGID: u64 = 14;
    pub const PLATFORM: u64 = 15;
    pub const HWCAP: u64 = 16;
    pub const CLKTCK: u64 = 17;
    pub const SECURE: u64 = 23;
    pub const RANDOM: u64 = 25;
    pub const HWCAP2: u64 = 26;
    pub const EXECFN: u64 = 31;
    pub const MINSIGSTKSZ: u64 = 51;
}

/// Why the stack could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("argument list too long ({0} bytes of argument and environment strings)")]
    TooLong(u64),
    #[error("argument or environment string contains a NUL byte")]
    NulByte,
    #[error("cannot map the guest stack: {0}")]
    Map(io::Error),
    #[error("cannot get random bytes for AT_RANDOM: {0}")]
    Random(io::Error),
}

/// What goes on the stack besides the program's own addresses.
#[derive(Debug, Clone)]
pub struct StackContents<'a> {
    pub argv: &'a [OsString],
    pub envp: &'a [OsString],
    /// The program path as it was given (`AT_EXECFN`).
    pub execfn: &'a OsStr,
    pub random: [u8; 16],
    pub credentials: Credentials,
}

/// A built stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialStack {
    /// The guest SP at entry (points at argc).
    pub sp: u64,
    /// Lowest usable stack address (just above the guard).
    pub bottom: u64,
    /// One past the highest stack address.
    pub top: u64,
    /// The auxiliary vector as written, without the final `AT_NULL`.
    pub auxv: Vec<(u64, u64)>,
}

/// Map a fresh guest stack and build the initial stack of `program` in it, with
/// random bytes from the host and the host's credentials.
pub fn build(
    program: &Executable,
    argv: &[OsString],
    envp: &[OsString],
    execfn: &OsStr,
) -> Result<InitialStack, StackError> {
    let mut random = [0u8; 16];
    fill_random(&mut random).map_err(StackError::Random)?;
    let contents = StackContents { argv, envp, execfn, random, credentials: Credentials::of_host() };
    let bottom = map_stack().map_err(StackError::Map)?;
    let top = bottom + STACK_SIZE;
    // SAFETY: [bottom, top) was just mapped read-write for the guest stack and nothing
    // else refers to it.
    let memory = unsafe { std::slice::from_raw_parts_mut(bottom as *mut u8, STACK_SIZE as usize) };
    let built = write_stack(memory, top, program, &contents);
    if built.is_err() {
        // SAFETY: the mapping made by map_stack, unused.
        unsafe { libc::munmap((bottom - STACK_GUARD) as *mut libc::c_void, (STACK_SIZE + STACK_GUARD) as usize) };
    }
    built
}

/// Build the initial stack in `memory`, whose last byte is at guest address `top - 1`.
pub fn write_stack(
    memory: &mut [u8],
    top: u64,
    program: &Executable,
    contents: &StackContents,
) -> Result<InitialStack, StackError> {
    let strings = string_area(contents.argv, contents.envp)?;
    let mut stack = StackWriter { memory, top, cursor: top };
    stack.push(&[0; 8])?;
    let execfn = stack.push(&nul_terminated(contents.execfn)?)?;
    let string_base = stack.push(&strings.bytes)?;
    // AT_PLATFORM as arm64 Linux reports it: the kernel's name of the machine.
    let platform = stack.push(&nul_terminated(archway_arch::ARM64.kernel.as_ref())?)?;
    let random = stack.push(&contents.random)?;
    stack.cursor &= !15;

    let auxv = auxiliary_vector(program, &contents.credentials, random, execfn, platform);
    let mut words = Vec::with_capacity(3 + strings.offsets.len() + 2 * (auxv.len() + 1));
    words.push(contents.argv.len() as u64);
    let (argv_offsets, envp_offsets) = strings.offsets.split_at(contents.argv.len());
    words.extend(argv_offsets.iter().map(|o| string_base + o));
    words.push(0);
    words.extend(envp_offsets.iter().map(|o| string_base + o));
    words.push(0);
    for &(key, value) in auxv.iter().chain([(at::NULL, 0)].iter()) {
        words.extend([key, value]);
    }
    if words.len() % 2 == 1 {
        stack.push(&[0; 8])?;
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let sp = stack.push(&bytes)?;
    Ok(InitialStack { sp, bottom: top - stack.memory.len() as u64, top, auxv })
}

/// The auxiliary vector, in the kernel's order (arm64's `ARCH_DLINFO` first).
fn auxiliary_vector(
    executable: &Executable,
    creds: &Credentials,
    random: u64,
    execfn: u64,
    platform: u64,
) -> Vec<(u64, u64)> {
    let program = &executable.program;
    vec![
        (at::MINSIGSTKSZ, MIN_SIGNAL_STACK_SIZE),
        (at::HWCAP, archway_guest_a64::features::HWCAP),
        (at::PAGESZ, GUEST_PAGE_SIZE),
        (at::CLKTCK, CLOCK_TICKS),
        (at::PHDR, program.phdr),
        (at::PHENT, program.phent),
        (at::PHNUM, program.phnum),
        // The interpreter's base: 0 for a static program.
        (at::BASE, executable.interp_base()),
        (at::FLAGS, 0),
        (at::ENTRY, program.entry),
        (at::UID, creds.uid),
        (at::EUID, creds.euid),
        (at::GID, creds.gid),
        (at::EGID, creds.egid),
        (at::SECURE, u64::from(creds.secure)),
        (at::RANDOM, random),
        (at::HWCAP2, archway_guest_a64::features::HWCAP2),
        (at::EXECFN, execfn),
        (at::PLATFORM, platform),
    ]
}

/// The argv and envp strings laid out contiguously, argv first.
struct StringArea {
    bytes: Vec<u8>,
    /// Offset of each string in `bytes`: argv's, then envp's.
    offsets: Vec<u64>,
}

fn string_area(argv: &[OsString], envp: &[OsString]) -> Result<StringArea, StackError> {
    let mut area = StringArea { bytes: Vec::new(), offsets: Vec::with_capacity(argv.len() + envp.len()) };
    for s in argv.iter().chain(envp) {
        area.offsets.push(area.bytes.len() as u64);
        area.bytes.extend_from_slice(&nul_terminated(s)?);
        if area.bytes.len() as u64 > MAX_STRINGS {
            return Err(StackError::TooLong(area.bytes.len() as u64));
        }
    }
    Ok(area)
}

fn nul_terminated(s: &OsStr) -> Result<Vec<u8>, StackError> {
    let bytes = s.as_bytes();
    if bytes.contains(&0) {
        return Err(StackError::NulByte);
    }
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.extend_from_slice(bytes);
    v.push(0);
    Ok(v)
}

/// Pushes bytes downwards from `top` into `memory` (which ends at `top`).
struct StackWriter<'m> {
    memory: &'m mut [u8],
    top: u64,
    cursor: u64,
}

impl StackWriter<'_> {
    /// Push `bytes` below the cursor; the guest address they start at.
    fn push(&mut self, bytes: &[u8]) -> Result<u64, StackError> {
        let bottom = self.top - self.memory.len() as u64;
        let used = self.top - self.cursor + bytes.len() as u64;
        let start =
            self.cursor.checked_sub(bytes.len() as u64).filter(|&s| s >= bottom).ok_or(StackError::TooLong(used))?;
        let index = (start - bottom) as usize;
        self.memory[index..index + bytes.len()].copy_from_slice(bytes);
        self.cursor = start;
        Ok(start)
    }
}

/// Map the stack with a guard below it; the lowest usable address.
fn map_stack() -> io::Result<u64> {
    let len = (STACK_SIZE + STACK_GUARD) as usize;
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK;
    // SAFETY: a fresh mapping chosen by the kernel.
    let base = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_NONE, flags, -1, 0) };
    if base == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let bottom = base as u64 + STACK_GUARD;
    // SAFETY: inside the mapping just made.
    if unsafe { libc::mprotect(bottom as *mut libc::c_void, STACK_SIZE as usize, libc::PROT_READ | libc::PROT_WRITE) }
        != 0
    {
        let error = io::Error::last_os_error();
        // SAFETY: the mapping just made.
        unsafe { libc::munmap(base, len) };
        return Err(error);
    }
    Ok(bottom)
}

fn fill_random(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: writes at most the remaining length of `buf`.
        let n = unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n < 0 {
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        } else {
            filled += n as usize;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
