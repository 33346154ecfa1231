//! The architectures archway registers: the rows of archway-arch's table that have
//! binfmt_misc facts ([`archway_arch::Emulation`]: magic, mask, probe program), found by
//! any spelling containerd accepts, and the host's own family (never registered).

use crate::Error;
pub use archway_arch::{Arch, Emulation, ARCHES};

/// The row for `name` in any spelling (`arm64`, `aarch64`, `linux/arm64/v8`...), if
/// archway runs it.
pub fn find(name: &str) -> Result<&'static Arch, Error> {
    Arch::find(name).filter(|a| a.emulation.is_some()).ok_or_else(|| Error::UnknownArch(name.to_string()))
}

/// The architectures archway runs that this host does not run natively.
pub fn foreign() -> impl Iterator<Item = &'static Arch> {
    Arch::emulated().filter(|a| !a.is_host())
}

/// The binfmt_misc facts of an architecture archway runs.
pub fn emulation(arch: &'static Arch) -> Result<&'static Emulation, Error> {
    arch.emulation.as_ref().ok_or_else(|| Error::UnknownArch(arch.platform.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_normalise() {
        for name in ["arm64", "AArch64", "linux/arm64", "linux/arm64/v8"] {
            assert_eq!(find(name).map(|a| a.platform).ok(), Some("arm64"));
        }
        assert_eq!(find("x86_64").map(|a| a.platform).ok(), Some("amd64"));
        assert!(matches!(find("riscv64"), Err(Error::UnknownArch(_))), "known, but not run by archway");
        assert!(matches!(find("sparc"), Err(Error::UnknownArch(_))));
        assert!(foreign().all(|a| !a.is_host()));
    }
}
