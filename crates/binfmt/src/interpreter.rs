//! Whether an interpreter is static (no `PT_INTERP`), as the F flag needs: the kernel
//! opens it once at registration and runs it in any chroot or container, where a
//! dynamic loader would be missing. The ELF is read by archway-arch's sniffer.

use crate::Error;
use archway_arch::Elf;
use std::path::Path;

/// Whether the program at `path` needs no dynamic loader.
pub fn is_static(path: &Path) -> Result<bool, Error> {
    let bad = |reason: String| Error::BadInterpreter { path: path.to_path_buf(), reason };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let elf = Elf::parse(&bytes).map_err(|e| bad(e.to_string()))?;
    Ok(elf.interpreter.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_images_are_static_and_garbage_is_an_error() {
        let dir = std::env::temp_dir().join(format!("archway-binfmt-elf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let probe = dir.join("probe");
        std::fs::write(&probe, crate::probe::image(&crate::ARCHES[0]).unwrap()).unwrap();
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
