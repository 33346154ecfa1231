//! binfmt_misc registration for archway's interpreters, as data and operations.
//!
//! - [`arch`]: the architectures archway can register (the rows of archway-arch's table
//!   with binfmt_misc magic and mask) and the host's own family.
//! - [`entry`]: one registration: rendering the `:NAME:M:0:MAGIC:MASK:INTERP:FLAGS` line
//!   and parsing the kernel's `<mount>/NAME` files.
//! - [`table`]: a binfmt_misc mount given as a path (so tests can use a private one):
//!   mount if missing, list, register idempotently, remove by name or glob, reset.
//! - [`interpreter`]: is an interpreter static (no `PT_INTERP`), as the F flag needs.
//! - [`probe`]: tiny embedded programs that exit 0, one per architecture; executing
//!   them tells which platforms the kernel can run now.
//!
//! - `error`: the errors of registration, each saying what to do about it.
//!
//! The kernel's rules are in ../shared/reference/machine.md ("binfmt_misc").

pub mod arch;
pub mod entry;
mod error;
pub mod glob;
pub mod interpreter;
pub mod probe;
pub mod table;

pub use arch::{Arch, ARCHES};
pub use entry::{Entry, Flags, Registered};
pub use error::Error;
pub use table::{Registration, Table};
