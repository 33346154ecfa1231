//! The readiness check behind `archway check IMAGE`: is an image really ready for a
//! platform? It answers from what the image holds and from running it.
//!
//! - [`inspect`]: one reference from start to end ([`check`]): open and resolve the
//!   image (archway-image), merge each platform's layers with [`facts`] captured per
//!   file, then the analyses below, then the verdict ([`finding`]) and the [`report`]
//!   (human and JSON), with a [`progress`] bar while layers are read.
//! - [`census`]: every ELF file by architecture, and the platform claims (index, config,
//!   binaries) compared.
//! - [`chain`]: the entrypoint followed through `#!` interpreters, the loader and the
//!   needed libraries, found as the image's loader would find them ([`libraries`]).
//! - [`payloads_check`]: the findings of [`payloads`] in the merged view, weighed by
//!   whether the image holds the runtime that loads them.
//! - [`smoke_check`]: the smoke test run on an unpacked copy of the image, and what its
//!   ending means.
//! - [`payloads`]: native code that package managers bring along, judged from bytes
//!   and names alone (no file system access): Python extension modules and wheel tags,
//!   Node addons, the JNI libraries inside jars. Each says which architectures it is
//!   built for and what says so (an ELF header, a tag, a path).
//! - [`smoke`]: the emulated smoke test: the image's command run by archway-sandbox in
//!   private namespaces inside an unpacked root (seen through an overlay), natively for
//!   the host's platform and under archway's static translator for a foreign one,
//!   where no binfmt_misc registration of the host can make a program of the wrong
//!   architecture pass.
//!
//! Never the translator: this crate depends on archway-arch, archway-image and
//! archway-sandbox, and runs the translator as a separate process, so a translator
//! crash is a failed smoke test.

pub mod census;
pub mod chain;
pub mod facts;
pub mod finding;
pub mod inspect;
pub mod libraries;
pub mod payloads;
pub mod payloads_check;
pub mod progress;
pub mod report;
pub mod smoke;
pub mod smoke_check;

pub use finding::{Finding, Severity, Verdict};
pub use inspect::{check, Options};
pub use report::Report;
pub use smoke_check::SmokeMode;
