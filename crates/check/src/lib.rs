//! The readiness check behind `archway check IMAGE`: is an image really ready for a
//! platform? It answers from what the image holds and from running it.
//!
//! - [`payloads`]: native code that package managers bring along, judged from bytes
//!   and names alone (no file system access): Python extension modules and wheel tags,
//!   Node addons, the JNI libraries inside jars. Each says which architectures it is
//!   built for and what says so (an ELF header, a tag, a path).
//!
//! Never the translator: this crate depends on archway-arch only.

pub mod payloads;
