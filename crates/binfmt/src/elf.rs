//! Just enough ELF to tell whether an interpreter is static: a 64-bit ELF without a
//! `PT_INTERP` program header needs no loader, so the F flag can open it once and
//! run it in any chroot or container.

use crate::Error;
use std::io::Read;
use std::path::Path;

const PT_INTERP: u32 = 3;
/// Largest file we read whole; program headers of any real binary lie far below this.
const HEADER_LIMIT: u64 = 1 << 20;

/// Whether the ELF at `path` has no dynamic loader.
pub fn is_static(path: &Path) -> Result<bool, Error> {
    let bad = |reason: &str| Error::BadInterpreter { path: path.to_path_buf(), reason: reason.to_string() };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(HEADER_LIMIT).read_to_end(&mut bytes))
        .map_err(|e| bad(&e.to_string()))?;
    if bytes.get(..4) != Some(b"\x7fELF") || bytes.get(4) != Some(&2) {
        return Err(bad("not a 64-bit ELF file"));
    }
    let big = bytes.get(5) == Some(&2);
    let field = |at: usize, len: usize| -> Option<u64> {
        let b = bytes.get(at..at + len)?;
        let fold = |acc: u64, &x: &u8| (acc << 8) | u64::from(x);
        Some(if big { b.iter().fold(0, fold) } else { b.iter().rev().fold(0, fold) })
    };
    let (phoff, phentsize, phnum) = match (field(32, 8), field(54, 2), field(56, 2)) {
        (Some(o), Some(s), Some(n)) => (o, s, n),
        _ => return Err(bad("truncated ELF header")),
    };
    for i in 0..phnum {
        let at =
            phoff.checked_add(i * phentsize).and_then(|a| usize::try_from(a).ok()).ok_or_else(|| bad("bad phdr"))?;
        match field(at, 4) {
            Some(t) if t == u64::from(PT_INTERP) => return Ok(false),
            Some(_) => {}
            None => return Err(bad("program headers beyond the file")),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_images_are_static_and_garbage_is_an_error() {
        let dir = std::env::temp_dir().join(format!("archway-binfmt-elf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let probe = dir.join("probe");
        std::fs::write(&probe, crate::probe::image(&crate::ARCHES[0])).unwrap();
        assert!(is_static(&probe).unwrap());
        let junk = dir.join("junk");
        std::fs::write(&junk, b"#!/bin/sh\n").unwrap();
        assert!(matches!(is_static(&junk), Err(Error::BadInterpreter { .. })));
        std::fs::write(&junk, b"\x7fELF\x02\x01").unwrap();
        assert!(is_static(&junk).is_err());
        // The test binary itself is a dynamic ELF on the usual build.
        let me = std::env::current_exe().unwrap();
        assert!(is_static(&me).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
