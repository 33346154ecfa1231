//! The architectures: one row each, the only place their facts are written down.
//!
//! Names follow the OCI image spec and Go (`GOARCH`), which containerd and every
//! registry use (`arm64`, `amd64`, `386`, `ppc64le`); `kernel` is what `uname -m`
//! prints and what ELF loader names are built from. Rows with an [`Emulation`] are the
//! architectures archway can run as guests or as hosts (binfmt_misc entries, probes).

/// ELF `EI_CLASS`: 32- or 64-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Elf32,
    Elf64,
}

/// ELF `EI_DATA`: byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    Little,
    Big,
}

/// What binfmt_misc needs to hand this architecture's programs to an interpreter.
#[derive(Debug, PartialEq, Eq)]
pub struct Emulation {
    /// binfmt_misc magic: the first 20 bytes of an executable ELF of this machine.
    pub magic: [u8; 20],
    /// binfmt_misc mask applied before comparing with `magic` (`ET_EXEC` and `ET_DYN`
    /// both match: the type's low bit is masked).
    pub mask: [u8; 20],
    /// Machine code of `exit(0)`: the body of a probe program that tells whether the
    /// kernel runs this architecture.
    pub exit0: &'static [u8],
}

/// One architecture.
#[derive(Debug, PartialEq, Eq)]
pub struct Arch {
    /// The OCI/Go name: `arm64`, `amd64`.
    pub platform: &'static str,
    /// The kernel's name (`uname -m`, Rust's `std::env::consts::ARCH`): `aarch64`.
    pub kernel: &'static str,
    /// Other spellings users and tools write, lower case (`x86-64`, `armhf`).
    pub aliases: &'static [&'static str],
    /// `e_machine` in the ELF header.
    pub elf_machine: u16,
    pub class: Class,
    pub byte_order: ByteOrder,
    /// The dynamic loaders (`PT_INTERP`) of glibc and musl for this architecture.
    pub loaders: &'static [&'static str],
    /// Debian's multiarch triplet: libraries live in `/usr/lib/<triplet>`.
    pub multiarch: &'static str,
    /// For the architectures archway runs: binfmt_misc facts.
    pub emulation: Option<Emulation>,
}

/// A row without binfmt facts: `names` are the OCI name, the kernel's name and the
/// multiarch triplet.
const fn arch(
    names: (&'static str, &'static str, &'static str),
    aliases: &'static [&'static str],
    elf_machine: u16,
    class: Class,
    byte_order: ByteOrder,
    loaders: &'static [&'static str],
) -> Arch {
    let (platform, kernel, multiarch) = names;
    Arch { platform, kernel, aliases, elf_machine, class, byte_order, loaders, multiarch, emulation: None }
}

/// Every architecture archway knows by name. The first two are the ones it runs.
pub static ARCHES: [Arch; 11] = [
    Arch {
        emulation: Some(Emulation {
            magic: *b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00",
            mask: *b"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
            // movz x0, #0; movz x8, #93 (exit); svc #0
            exit0: &[0x00, 0x00, 0x80, 0xd2, 0xa8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4],
        }),
        ..arch(
            ("arm64", "aarch64", "aarch64-linux-gnu"),
            &["aarch64", "arm64/v8"],
            183,
            Class::Elf64,
            ByteOrder::Little,
            &["/lib/ld-linux-aarch64.so.1", "/lib/ld-musl-aarch64.so.1"],
        )
    },
    Arch {
        emulation: Some(Emulation {
            magic: *b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00",
            mask: *b"\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
            // xor edi, edi; mov eax, 60 (exit); syscall
            exit0: &[0x31, 0xff, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05],
        }),
        ..arch(
            ("amd64", "x86_64", "x86_64-linux-gnu"),
            &["x86-64"],
            62,
            Class::Elf64,
            ByteOrder::Little,
            &["/lib64/ld-linux-x86-64.so.2", "/lib/ld-musl-x86_64.so.1"],
        )
    },
    arch(
        ("386", "i686", "i386-linux-gnu"),
        &["i386", "i486", "i586", "x86"],
        3,
        Class::Elf32,
        ByteOrder::Little,
        &["/lib/ld-linux.so.2", "/lib/ld-musl-i386.so.1"],
    ),
    arch(
        ("arm", "armv7l", "arm-linux-gnueabihf"),
        &["armhf", "armel", "armv6l", "armv7"],
        40,
        Class::Elf32,
        ByteOrder::Little,
        &["/lib/ld-linux-armhf.so.3", "/lib/ld-linux.so.3", "/lib/ld-musl-armhf.so.1"],
    ),
    arch(
        ("ppc64le", "ppc64le", "powerpc64le-linux-gnu"),
        &[],
        21,
        Class::Elf64,
        ByteOrder::Little,
        &["/lib64/ld64.so.2", "/lib/ld-musl-powerpc64le.so.1"],
    ),
    arch(("ppc64", "ppc64", "powerpc64-linux-gnu"), &[], 21, Class::Elf64, ByteOrder::Big, &["/lib64/ld64.so.1"]),
    arch(
        ("s390x", "s390x", "s390x-linux-gnu"),
        &[],
        22,
        Class::Elf64,
        ByteOrder::Big,
        &["/lib/ld64.so.1", "/lib/ld-musl-s390x.so.1"],
    ),
    arch(
        ("riscv64", "riscv64", "riscv64-linux-gnu"),
        &[],
        243,
        Class::Elf64,
        ByteOrder::Little,
        &["/lib/ld-linux-riscv64-lp64d.so.1", "/lib/ld-musl-riscv64.so.1"],
    ),
    arch(
        ("mips64le", "mips64", "mips64el-linux-gnuabi64"),
        &[],
        8,
        Class::Elf64,
        ByteOrder::Little,
        &["/lib64/ld.so.1"],
    ),
    arch(
        ("loong64", "loongarch64", "loongarch64-linux-gnu"),
        &[],
        258,
        Class::Elf64,
        ByteOrder::Little,
        &["/lib64/ld-linux-loongarch-lp64d.so.1"],
    ),
    arch(("mipsle", "mips", "mipsel-linux-gnu"), &[], 8, Class::Elf32, ByteOrder::Little, &["/lib/ld.so.1"]),
];

/// arm64 (aarch64): the guest archway runs on x86_64 hosts.
pub const ARM64: &Arch = &ARCHES[0];
/// amd64 (x86_64).
pub const AMD64: &Arch = &ARCHES[1];

impl Arch {
    /// The row for a name in any spelling: OCI, kernel or alias, case-insensitive,
    /// optionally as a platform (`linux/arm64`, `arm64/v8`).
    pub fn find(name: &str) -> Option<&'static Arch> {
        let lower = name.trim().to_ascii_lowercase();
        let name = lower.strip_prefix("linux/").unwrap_or(&lower);
        ARCHES.iter().find(|a| a.platform == name || a.kernel == name || a.aliases.contains(&name)).or_else(|| {
            // `arm64/v8`, `amd64/v3`: an OCI name with a variant.
            let (base, _variant) = name.split_once('/')?;
            ARCHES.iter().find(|a| a.platform == base)
        })
    }

    /// The row for an ELF file's machine, class and byte order.
    pub fn for_elf(machine: u16, class: Class, byte_order: ByteOrder) -> Option<&'static Arch> {
        ARCHES.iter().find(|a| a.elf_machine == machine && a.class == class && a.byte_order == byte_order)
    }

    /// The row of the OCI architecture name (`arm64`), exactly.
    pub fn for_platform(platform: &str) -> Option<&'static Arch> {
        ARCHES.iter().find(|a| a.platform == platform)
    }

    /// The architecture this program runs on natively.
    pub fn host() -> &'static Arch {
        ARCHES
            .iter()
            .find(|a| a.kernel == std::env::consts::ARCH)
            .expect("archway builds only for architectures in the table")
    }

    /// Whether this is the host's own architecture (the kernel runs it natively).
    pub fn is_host(&self) -> bool {
        self.kernel == std::env::consts::ARCH
    }

    /// The architectures archway runs (those with binfmt_misc facts).
    pub fn emulated() -> impl Iterator<Item = &'static Arch> {
        ARCHES.iter().filter(|a| a.emulation.is_some())
    }

    /// The OCI platform string of Linux on this architecture: `linux/arm64`.
    pub fn platform_string(&self) -> String {
        format!("linux/{}", self.platform)
    }

    /// archway's interpreter binary for guests of this architecture: `archway-aarch64`.
    pub fn interpreter_name(&self) -> String {
        format!("archway-{}", self.kernel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_every_spelling() {
        for name in ["arm64", "AArch64", "linux/arm64", "arm64/v8", "linux/arm64/v8"] {
            assert_eq!(Arch::find(name).map(|a| a.platform), Some("arm64"), "{name}");
        }
        for name in ["x86_64", "x86-64", "amd64", "linux/amd64/v3"] {
            assert_eq!(Arch::find(name).map(|a| a.platform), Some("amd64"), "{name}");
        }
        assert_eq!(Arch::find("armhf").map(|a| a.platform), Some("arm"));
        assert_eq!(Arch::find("i386").map(|a| a.platform), Some("386"));
        assert_eq!(Arch::find("sparc"), None);
    }

    #[test]
    fn elf_machines_are_unique_with_class_and_byte_order() {
        for (i, a) in ARCHES.iter().enumerate() {
            for b in &ARCHES[i + 1..] {
                assert!(
                    (a.elf_machine, a.class, a.byte_order) != (b.elf_machine, b.class, b.byte_order),
                    "{} and {}",
                    a.platform,
                    b.platform
                );
            }
        }
        assert_eq!(Arch::for_elf(183, Class::Elf64, ByteOrder::Little).map(|a| a.platform), Some("arm64"));
        assert_eq!(Arch::for_elf(21, Class::Elf64, ByteOrder::Big).map(|a| a.platform), Some("ppc64"));
    }

    #[test]
    fn binfmt_magic_matches_its_own_machine() {
        for a in Arch::emulated() {
            let e = a.emulation.as_ref().unwrap();
            assert_eq!(u16::from_le_bytes([e.magic[18], e.magic[19]]), a.elf_machine);
            assert_eq!(e.magic[4], 2, "64-bit");
        }
        assert_eq!(Arch::emulated().count(), 2);
        assert_eq!((ARM64.platform, AMD64.platform), ("arm64", "amd64"));
        assert!(Arch::host().emulation.is_some());
    }
}
