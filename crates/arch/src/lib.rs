//! The one table of architectures, and what is known about each, for every crate of the
//! workspace: the translator's Linux personality, binfmt_misc registration, the image
//! reader and the readiness check.
//!
//! - [`table`]: one row per architecture ([`Arch`]): its OCI name (`arm64`), the
//!   kernel's (`aarch64`), accepted spellings, ELF machine, class and byte order, the
//!   dynamic loaders of its C libraries, and for the architectures archway runs as guests
//!   the binfmt_misc magic and mask and a probe program.
//! - [`platform`]: OCI platforms (`linux/arm64/v8`) parsed, normalised, formatted and
//!   matched exactly as containerd does (`aarch64` -> `arm64`, `arm64/v8` == `arm64`,
//!   `armhf` -> `arm/v7`).
//! - [`elf`]: one ELF sniffer over a file's bytes: class, byte order, machine, type,
//!   `PT_INTERP`, `DT_NEEDED`, `DT_RUNPATH`/`DT_RPATH`, `DT_SONAME`, static or not. It
//!   never panics on malformed input.
//!
//! No dependencies, so every crate can use it.

pub mod elf;
pub mod platform;
pub mod table;

pub use elf::{Elf, ElfError, Header};
pub use platform::{Platform, PlatformError};
pub use table::{Arch, Emulation, AMD64, ARCHES, ARM64};
