//! The architectures archway registers interpreters for: one table row each.
//!
//! Names are normalised as containerd does (`aarch64` -> `arm64`, `x86_64` -> `amd64`);
//! magic and mask match the ELF header up to `e_machine` (machine.md, "binfmt_misc").

use crate::Error;

/// One architecture archway can run as a guest.
#[derive(Debug, PartialEq, Eq)]
pub struct Arch {
    /// The OCI/containerd name: `arm64`, `amd64`.
    pub platform: &'static str,
    /// The kernel's name (`uname -m`, Rust's `std::env::consts::ARCH`).
    pub kernel: &'static str,
    /// Every accepted spelling, lower case.
    pub aliases: &'static [&'static str],
    /// `e_machine` in the ELF header.
    pub elf_machine: u16,
    /// binfmt_misc magic: the first 20 bytes of an executable ELF of this machine.
    pub magic: [u8; 20],
    /// binfmt_misc mask applied before comparing with `magic`.
    pub mask: [u8; 20],
    /// Machine code of `exit(0)`, the body of the probe program ([`crate::probe`]).
    pub exit0: &'static [u8],
}

/// Everything archway knows how to register.
pub static ARCHES: [Arch; 2] = [
    Arch {
        platform: "arm64",
        kernel: "aarch64",
        aliases: &["arm64", "aarch64", "arm64/v8", "linux/arm64", "linux/arm64/v8"],
        elf_machine: 0xb7,
        magic: *b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00",
        mask: *b"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
        // movz x0, #0; movz x8, #93 (exit); svc #0
        exit0: &[0x00, 0x00, 0x80, 0xd2, 0xa8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4],
    },
    Arch {
        platform: "amd64",
        kernel: "x86_64",
        aliases: &["amd64", "x86_64", "x86-64", "linux/amd64"],
        elf_machine: 0x3e,
        magic: *b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00",
        mask: *b"\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
        // xor edi, edi; mov eax, 60 (exit); syscall
        exit0: &[0x31, 0xff, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05],
    },
];

impl Arch {
    /// The row for a name in any accepted spelling (case-insensitive).
    pub fn find(name: &str) -> Result<&'static Arch, Error> {
        let lower = name.trim().to_ascii_lowercase();
        ARCHES.iter().find(|a| a.aliases.contains(&lower.as_str())).ok_or_else(|| Error::UnknownArch(name.to_string()))
    }

    /// The architecture this program runs on natively, if it is in the table.
    pub fn host() -> Option<&'static Arch> {
        ARCHES.iter().find(|a| a.kernel == std::env::consts::ARCH)
    }

    /// Whether this is the host's own family (never registered: the kernel runs it).
    pub fn is_host(&self) -> bool {
        self.kernel == std::env::consts::ARCH
    }

    /// The architectures foreign to this host.
    pub fn foreign() -> impl Iterator<Item = &'static Arch> {
        ARCHES.iter().filter(|a| !a.is_host())
    }

    /// The interpreter binary's file name and the entry's name: `archway-aarch64`.
    pub fn interpreter_name(&self) -> String {
        format!("archway-{}", self.kernel)
    }

    /// The OCI platform string: `linux/arm64`.
    pub fn platform_string(&self) -> String {
        format!("linux/{}", self.platform)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_normalise() {
        for name in ["arm64", "AArch64", "linux/arm64"] {
            assert_eq!(Arch::find(name).map(|a| a.platform).ok(), Some("arm64"));
        }
        assert_eq!(Arch::find("x86_64").map(|a| a.platform).ok(), Some("amd64"));
        assert!(matches!(Arch::find("riscv64"), Err(Error::UnknownArch(_))));
    }

    #[test]
    fn magic_matches_its_own_machine() {
        for a in &ARCHES {
            assert_eq!(u16::from_le_bytes([a.magic[18], a.magic[19]]), a.elf_machine);
        }
    }
}
