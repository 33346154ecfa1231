//! Floating point with exact AArch64 semantics, for the FP and Advanced SIMD FP
//! instructions (`crate::translate::fp` decodes them into calls to the helpers here).
//!
//! Layers, bottom up:
//! - [`env`]: the controls an operation reads from FPCR and the FPSR flags it raises.
//! - [`format`]: half, single and double encodings and `FPUnpack`.
//! - [`round`]: `FPRoundBase`, the one place results are rounded and encoded.
//! - [`arith`], [`compare`], [`convert`], [`estimate`]: the Arm ARM pseudocode
//!   functions (`FPAdd`, `FPMulAdd`, `FPMax`, `FPCompare`, `FPToFixed`, `FPConvert`,
//!   `FPRoundInt`, `FPRecipEstimate`, ...) in software, exact for every input.
//! - [`host`]: a fast path that runs add, subtract, multiply, divide, square root and
//!   fused multiply-add on the x86_64 host's SSE unit under the guest's rounding mode,
//!   and gives up (the software path then runs) whenever the host could disagree with
//!   AArch64: NaNs, tiny results, flushed denormals.
//! - [`lanes`]: the operations of one instruction over all lanes of 128-bit registers,
//!   trying the host path first, and the lane layout of a register.
//! - [`operands`]: the decoded operands translated code passes those helpers.
//! - [`scalar`], [`advsimd`] (Advanced SIMD forms): the helpers translated code calls, one per encoding class.
//!
//! Not implemented (the decoder leaves them undefined, and the ID registers say so):
//! FP16 arithmetic (only conversions to and from half precision exist), BFloat16,
//! `FJCVTZS`, `FRINT32*`/`FRINT64*`, `FCMLA`/`FCADD`, `FMLAL`, and the FPCR.AH/FIZ/NEP
//! alternate behaviours; FP exception traps (FPCR.xxE) are never taken.

/// Define a [`archway_ir::Helper`] named `$label` that runs
/// `$body(&mut CpuState, Operands)` on the [`operands::Operands`] translated code
/// packs into its first argument.
macro_rules! operands_helper {
    ($(#[$doc:meta])* $name:ident = $label:literal, $body:path) => {
        $(#[$doc])*
        pub static $name: archway_ir::Helper = archway_ir::Helper {
            name: $label,
            func: {
                unsafe extern "C" fn call(state: *mut u8, operands: u64, _: u64, _: u64, _: u64) -> u64 {
                    let operands = crate::fp::operands::Operands::unpack(operands);
                    // SAFETY: translated code passes the live state of the running thread.
                    $body(unsafe { crate::state::CpuState::from_ptr(state) }, operands);
                    0
                }
                call
            },
            reads_state: true,
            writes_state: true,
        };
    };
}

pub mod advsimd;
pub mod arith;
pub mod compare;
pub mod convert;
pub mod env;
pub mod estimate;
pub mod format;
pub mod host;
pub mod lanes;
pub mod operands;
pub mod round;
pub mod scalar;

pub use env::{Env, Rounding};
pub use format::Fmt;
