//! The aarch64 (A64) guest.
//!
//! - [`state`]: the guest CPU state struct and its field offsets.
//! - [`decode`]: the decoder table: bit patterns per encoding class.
//! - [`features`]: the CPU features advertised to guests (hwcaps, ID registers).
//! - [`translate`]: A64 -> IR, one module per encoding class.
//! - [`frontend`]: [`A64Frontend`], the front end the engines drive.
//! - [`fp`]: floating point as AArch64 computes it (FPCR modes, exceptions, NaNs), and
//!   the FP helpers translated code calls.
//! - [`simd`]: the Advanced SIMD integer helpers translated code calls.

pub mod decode;
pub mod features;
pub mod fp;
pub mod frontend;
pub mod simd;
pub mod state;
pub mod translate;

pub use frontend::A64Frontend;
pub use state::CpuState;
