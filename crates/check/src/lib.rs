//! The readiness check behind `archway check IMAGE`: is an image really ready for a
//! platform? It answers from what the image holds and from running it.
//!
//! - [`payloads`]: native code that package managers bring along, judged from bytes
//!   and names alone (no file system access): Python extension modules and wheel tags,
//!   Node addons, the JNI libraries inside jars. Each says which architectures it is
//!   built for and what says so (an ELF header, a tag, a path).
//! - [`smoke`]: the emulated smoke test: the image's command run in private namespaces
//!   inside an unpacked root, natively for the host's platform and under archway's
//!   static translator for a foreign one, where no binfmt_misc registration of the host
//!   can make a program of the wrong architecture pass.
//!
//! Never the translator: this crate depends on archway-arch only, and runs the
//! translator as a separate process, so a translator crash is a failed smoke test.

pub mod payloads;
pub mod smoke;
