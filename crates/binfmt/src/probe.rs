//! Probe programs: for each architecture a minimal static ELF (one header, one
//! loadable segment, the row's `exit(0)` code; about 130 bytes) built from the table.
//! Executing one says whether the kernel can run that platform now, natively or
//! through a registered emulator.
//!
//! The probe runs from an anonymous memory file (`memfd_create`, executed through
//! `/proc/self/fd`), so it needs no writable directory: `archway binfmt --status` works
//! in a `FROM scratch` image with no `/tmp`. Without memfd or `/proc` it is written to
//! the temporary directory instead.

use crate::Arch;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the probe is loaded.
const BASE: u64 = 0x40_0000;
const EHDR_SIZE: u16 = 64;
const PHDR_SIZE: u16 = 56;
/// How long a probe may take before the platform counts as unsupported.
const LIMIT: Duration = Duration::from_secs(10);

/// The probe ELF for `arch`, if archway knows its `exit(0)` code.
pub fn image(arch: &Arch) -> Option<Vec<u8>> {
    let exit0 = arch.emulation.as_ref()?.exit0;
    let code_at = u64::from(EHDR_SIZE + PHDR_SIZE);
    let size = code_at + exit0.len() as u64;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(b"\x7fELF\x02\x01\x01\x00\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&2u16.to_le_bytes()); // e_type: EXEC
    out.extend_from_slice(&arch.elf_machine.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // e_version
    out.extend_from_slice(&(BASE + code_at).to_le_bytes()); // e_entry
    out.extend_from_slice(&u64::from(EHDR_SIZE).to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for half in [EHDR_SIZE, PHDR_SIZE, 1, 0, 0, 0] {
        out.extend_from_slice(&half.to_le_bytes()); // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
    }
    out.extend_from_slice(&1u32.to_le_bytes()); // p_type: LOAD
    out.extend_from_slice(&5u32.to_le_bytes()); // p_flags: R X
    for word in [0, BASE, BASE, size, size, 0x1000] {
        out.extend_from_slice(&word.to_le_bytes()); // offset, vaddr, paddr, filesz, memsz, align
    }
    out.extend_from_slice(exit0);
    Some(out)
}

/// Whether a program for `arch` runs here: execute its probe and expect exit status 0.
pub fn runs(arch: &Arch) -> bool {
    let name = format!("archway-probe-{}", arch.platform);
    let Some(bytes) = image(arch) else { return false };
    if let Some(memory) = memory_file(&name, &bytes) {
        let path = PathBuf::from(format!("/proc/self/fd/{}", memory.as_raw_fd()));
        if path.exists() {
            return run(&path);
        }
    }
    let path = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o755)
        .open(&path)
        .and_then(|mut f| f.write_all(&bytes));
    let ok = written.is_ok() && run(&path);
    let _ = std::fs::remove_file(&path);
    ok
}

/// An anonymous file holding `bytes`. Not closed on exec: an emulator started for the
/// probe opens it by the `/proc/self/fd` path the kernel hands it (binfmt_misc refuses
/// a path that exec closes, unless the entry has O).
fn memory_file(name: &str, bytes: &[u8]) -> Option<std::fs::File> {
    let name = std::ffi::CString::new(name).ok()?;
    // SAFETY: a valid NUL-terminated name; the result is checked.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just created and is owned by nothing else.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(bytes).ok()?;
    Some(file)
}

/// Execute `path` with no arguments and a time limit; true on exit status 0.
fn run(path: &Path) -> bool {
    let Ok(mut child) = Command::new(path).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()
    else {
        return false;
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if start.elapsed() < LIMIT => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_probe_runs_natively() {
        let host = Arch::host();
        let exit0 = host.emulation.as_ref().unwrap().exit0;
        assert_eq!(image(host).unwrap().len(), 120 + exit0.len());
        assert!(runs(host));
        assert_eq!(image(Arch::find("riscv64").unwrap()), None, "no probe for what archway does not run");
    }
}
