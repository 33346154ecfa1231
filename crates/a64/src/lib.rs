//! The aarch64 (A64) guest.
//!
//! - [`state`]: the guest CPU state struct and its field offsets.
//! - [`decode`]: the decoder table: bit patterns per encoding class.
//! - [`translate`]: A64 -> IR, one module per encoding class.

pub mod decode;
pub mod state;
pub mod translate;

pub use state::CpuState;
