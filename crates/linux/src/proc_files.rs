//! The guest's view of `/proc`: the files that would otherwise describe archway.
//!
//! | path | the guest sees |
//! | --- | --- |
//! | `/proc/{self,thread-self,PID}/exe` | the guest program (readlink and open) |
//! | `/proc/{self,thread-self,PID}/maps` | the guest's mappings ([`crate::guest_maps`]) |
//! | `/proc/{self,thread-self,PID}/auxv` | the guest's auxv bytes, `AT_NULL` included |
//! | `/proc/{self,thread-self,PID}/cmdline` | the guest's argv, each string NUL-terminated |
//! | `/proc/cpuinfo` | the advertised CPU, formatted as an arm64 kernel does |
//!
//! `PID` is our own pid only; other processes' files are the host's. Generated files
//! are opened as a read-only snapshot (a memfd reopened `O_RDONLY`), as the
//! kernel's are generated at open and read.

use crate::guest_maps::{self, MapsView};
use crate::process::{lock, GuestProcess};
use archway_guest_a64::features;
use std::os::unix::ffi::OsStrExt;

/// A `/proc` file the guest sees differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcFile {
    Exe,
    Maps,
    Auxv,
    Cmdline,
    Cpuinfo,
}

/// Per-process files, by name under `/proc/PID/`.
const PER_PROCESS: &[(&str, ProcFile)] =
    &[("exe", ProcFile::Exe), ("maps", ProcFile::Maps), ("auxv", ProcFile::Auxv), ("cmdline", ProcFile::Cmdline)];

/// System-wide files, by full path.
const SYSTEM: &[(&str, ProcFile)] = &[("/proc/cpuinfo", ProcFile::Cpuinfo)];

/// Which special file the absolute path `path` names, if any.
pub fn classify(path: &[u8]) -> Option<ProcFile> {
    if let Some(&(_, file)) = SYSTEM.iter().find(|(name, _)| name.as_bytes() == path) {
        return Some(file);
    }
    let rest = path.strip_prefix(b"/proc/")?;
    let slash = rest.iter().position(|&b| b == b'/')?;
    let (who, name) = (&rest[..slash], &rest[slash + 1..]);
    // SAFETY: getpid has no preconditions.
    let own = unsafe { libc::getpid() }.to_string();
    if who != b"self" && who != b"thread-self" && who != own.as_bytes() {
        return None;
    }
    PER_PROCESS.iter().find(|(n, _)| n.as_bytes() == name).map(|&(_, file)| file)
}

/// The contents of `file` for the guest (for [`ProcFile::Exe`], the guest program;
/// `openat` opens that file itself instead).
pub fn contents(file: ProcFile, process: &GuestProcess) -> std::io::Result<Vec<u8>> {
    let image = &process.image;
    Ok(match file {
        ProcFile::Exe => std::fs::read(&process.exe_path)?,
        ProcFile::Maps => {
            let host = std::fs::read_to_string("/proc/self/maps")?;
            let (heap, brk_reservation) = {
                let brk = lock(&process.brk);
                (brk.heap(), brk.reservation())
            };
            let ranges = lock(&image.mappings).clone();
            let view = MapsView {
                ranges: &ranges,
                stack: image.stack.clone(),
                heap,
                brk_reservation,
                root: image.root.as_deref(),
            };
            guest_maps::render(&host, &view).into_bytes()
        }
        ProcFile::Auxv => image.auxv_bytes(),
        ProcFile::Cmdline => image.argv.iter().flat_map(|a| a.as_bytes().iter().copied().chain([0])).collect(),
        ProcFile::Cpuinfo => cpuinfo(online_cpus()).into_bytes(),
    })
}

/// `/proc/cpuinfo` of an arm64 kernel for `cpus` CPUs of the advertised kind.
pub fn cpuinfo(cpus: usize) -> String {
    let midr = features::MIDR_EL1;
    let field = |lsb: u32, bits: u32| (midr >> lsb) & ((1 << bits) - 1);
    // arm64 derives BogoMIPS from the timer: 2 * CNTFRQ / 1e6, two decimals.
    let bogomips = features::CNTFRQ_EL0 / 5_000;
    let mut out = String::new();
    for cpu in 0..cpus {
        out.push_str(&format!(
            "processor\t: {cpu}\nBogoMIPS\t: {}.{:02}\nFeatures\t: {}\nCPU implementer\t: {:#04x}\n\
             CPU architecture: 8\nCPU variant\t: {:#x}\nCPU part\t: {:#05x}\nCPU revision\t: {}\n\n",
            bogomips / 100,
            bogomips % 100,
            features::CPUINFO_FEATURES,
            field(24, 8),
            field(20, 4),
            field(4, 12),
            field(0, 4),
        ));
    }
    out
}

fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_own_files_only() {
        let own = format!("/proc/{}/maps", std::process::id());
        assert_eq!(classify(b"/proc/self/exe"), Some(ProcFile::Exe));
        assert_eq!(classify(b"/proc/thread-self/auxv"), Some(ProcFile::Auxv));
        assert_eq!(classify(own.as_bytes()), Some(ProcFile::Maps));
        assert_eq!(classify(b"/proc/self/cmdline"), Some(ProcFile::Cmdline));
        assert_eq!(classify(b"/proc/cpuinfo"), Some(ProcFile::Cpuinfo));
        assert_eq!(classify(b"/proc/1/exe"), None);
        assert_eq!(classify(b"/proc/self/cwd"), None);
        assert_eq!(classify(b"/proc/self/maps/x"), None);
        assert_eq!(classify(b"/proc/self"), None);
    }

    #[test]
    fn cpuinfo_reads_like_an_arm64_kernel() {
        let text = cpuinfo(2);
        let blocks: Vec<&str> = text.split("\n\n").filter(|b| !b.is_empty()).collect();
        assert_eq!(blocks.len(), 2);
        assert!(blocks[1].starts_with("processor\t: 1\n"));
        assert!(text.contains(&format!("Features\t: {}\n", features::CPUINFO_FEATURES)));
        assert!(text.contains("CPU implementer\t: 0x41\n"));
        assert!(text.contains("CPU architecture: 8\n"));
        assert!(text.contains("CPU variant\t: 0x3\n"));
        assert!(text.contains("CPU part\t: 0xd0c\n"));
        assert!(text.contains("CPU revision\t: 1\n"));
        assert!(text.contains("BogoMIPS\t: 2000.00\n"));
    }
}
