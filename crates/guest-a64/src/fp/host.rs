//! The fast path: add, subtract, multiply, divide, square root and fused multiply-add
//! on the x86_64 host's SSE/FMA unit, all lanes of an instruction at once.
//!
//! The host computes IEEE 754 results, which are AArch64's results except in the
//! cases below; [`packed`] gives up on all of them and the software path runs
//! instead (from the original operands, so no flag is raised twice):
//! - a NaN result: x86 has its own default NaN (negative) and propagation order;
//! - an invalid operation, or a denormal operand under FPCR.FZ (AArch64 flushes it
//!   and raises IDC; the host is run without DAZ and would use it);
//! - a tiny result: AArch64 detects tininess before rounding, x86 after, and under
//!   FZ AArch64 flushes tiny results without raising Inexact. Any denormal result,
//!   any underflow, and a result of exactly the smallest normal magnitude (which a
//!   tiny value can round up to) are left to software.
//!
//! Everything else (rounding under any FPCR.RMode, overflow, division by zero,
//! inexact) agrees bit for bit, and MXCSR's ZE/OE/PE flags become DZC/OFC/IXC.
//! MXCSR is loaded with the guest's rounding mode for the one instruction and
//! restored to Rust's default before anything else runs.

#[cfg(target_arch = "x86_64")]
use super::env::flag;
use super::env::Env;
use super::format::Fmt;
#[cfg(target_arch = "x86_64")]
use super::lanes::{lanes_mask, replicate};

/// The operations the host can run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HostOp {
    Add,
    Sub,
    Mul,
    Div,
    /// Square root of `a`.
    Sqrt,
    /// `c + a * b`, rounded once.
    MulAdd,
}

/// `op` on the low `lanes` lanes of `fmt` (single or double) with the guest's FPCR,
/// raising the FPSR flags in `env`; other lanes of the result are zero. `None` when
/// the host result could differ from AArch64's or the host cannot run `op`.
#[inline]
pub fn packed(op: HostOp, fmt: Fmt, a: u128, b: u128, c: u128, lanes: u32, env: &mut Env) -> Option<u128> {
    #[cfg(target_arch = "x86_64")]
    {
        // One copy per format, so that its lane constants fold away.
        match fmt {
            Fmt::S => packed_sse(op, Fmt::S, a, b, c, lanes, env),
            Fmt::D => packed_sse(op, Fmt::D, a, b, c, lanes, env),
            _ => None,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (op, fmt, a, b, c, lanes, env);
        None
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn packed_sse(op: HostOp, fmt: Fmt, a: u128, b: u128, c: u128, lanes: u32, env: &mut Env) -> Option<u128> {
    let signs = replicate(fmt, fmt.sign_bit()) & lanes_mask(fmt, lanes);
    // Under FZ, AArch64 reads a denormal operand as zero and raises IDC; the host
    // would use its value.
    if env.flush_to_zero() && [a, b, c].iter().any(|&v| any_denormal(fmt, v, signs)) {
        return None;
    }
    let (result, mxcsr_flags) = sse::run(op, fmt, a, b, c, lanes, env.rmode())?;
    if !agrees_with_arm(fmt, result, signs, mxcsr_flags) {
        return None;
    }
    env.raise((mxcsr_flags >> 1) & (flag::DZC | flag::OFC | flag::IXC));
    Some(result & lanes_mask(fmt, lanes))
}

/// MXCSR exception flags.
#[cfg(target_arch = "x86_64")]
mod mxcsr {
    pub const IE: u32 = 1 << 0;
    pub const UE: u32 = 1 << 4;
}

/// The sign bits of the lanes among `signs` (the sign bits of the active lanes) whose
/// magnitude in `v` exceeds `limit`. All lanes at once: a magnitude plus a constant
/// below the sign bit never carries into the next lane, and reaches the sign bit
/// exactly when the magnitude exceeds the sign bit's value minus one minus the constant.
#[cfg(target_arch = "x86_64")]
#[inline]
fn magnitude_above(fmt: Fmt, v: u128, signs: u128, limit: u64) -> u128 {
    let magnitudes = v & (signs - (signs >> (fmt.width() - 1)));
    (magnitudes + replicate(fmt, (fmt.sign_bit() - 1) - limit)) & signs
}

/// Whether any active lane (given by its sign bit in `signs`) of `v` is denormal.
#[cfg(target_arch = "x86_64")]
#[inline]
fn any_denormal(fmt: Fmt, v: u128, signs: u128) -> bool {
    magnitude_above(fmt, v, signs, 0) & !magnitude_above(fmt, v, signs, fmt.min_normal() - 1) != 0
}

/// Whether the host's `result` and MXCSR `flags` are what AArch64 gives (see the module
/// doc): nothing invalid or underflowing, and no lane a NaN, a denormal or the
/// smallest normal.
#[cfg(target_arch = "x86_64")]
#[inline]
fn agrees_with_arm(fmt: Fmt, result: u128, signs: u128, flags: u32) -> bool {
    if flags & (mxcsr::IE | mxcsr::UE) != 0 {
        return false;
    }
    let nan = magnitude_above(fmt, result, signs, fmt.infinity(false));
    let nonzero = magnitude_above(fmt, result, signs, 0);
    let tiny = nonzero & !magnitude_above(fmt, result, signs, fmt.min_normal());
    nan | tiny == 0
}

#[cfg(target_arch = "x86_64")]
mod sse {
    use super::HostOp;
    use crate::fp::format::Fmt;
    use crate::fp::lanes::{lanes_mask, replicate};
    use core::arch::asm;
    use core::arch::x86_64::__m128i;
    use core::mem::transmute;

    /// MXCSR as Rust code expects it: exceptions masked, round to nearest, flags clear.
    const MXCSR_DEFAULT: u32 = 0x1f80;

    /// MXCSR.RC for FPCR.RMode (RN, RP, RM, RZ): x86 swaps the two directed modes.
    const ROUNDING_CONTROL: [u32; 4] = [0, 2, 1, 3];

    /// `$insn` (an SSE instruction on the operands `{x}`, `{y}` and, when a third value
    /// is given, `{z}`) under the MXCSR value `$mxcsr`: the new `x` and MXCSR's flags.
    macro_rules! under_mxcsr {
        ($insn:literal, $mxcsr:expr, $x:expr, $y:expr $(, $z:expr)?) => {{
            let mxcsr: u32 = $mxcsr;
            let mut flags: u32 = 0;
            // SAFETY: the transmutes reinterpret 16 bytes as 16 bytes; the instruction
            // only touches its registers and MXCSR, which is restored to Rust's default
            // before the block ends; the memory operands are live locals.
            unsafe {
                let mut x: __m128i = transmute::<u128, __m128i>($x);
                asm!(
                    "ldmxcsr [{mxcsr}]",
                    $insn,
                    "stmxcsr [{flags}]",
                    "ldmxcsr [{default}]",
                    x = inout(xmm_reg) x,
                    y = in(xmm_reg) transmute::<u128, __m128i>($y),
                    $(z = in(xmm_reg) transmute::<u128, __m128i>($z),)?
                    mxcsr = in(reg) &mxcsr,
                    flags = in(reg) &mut flags,
                    default = in(reg) &MXCSR_DEFAULT,
                    options(nostack, preserves_flags),
                );
                (transmute::<__m128i, u128>(x), flags & 0x3f)
            }
        }};
    }

    /// Run `op` with inactive lanes set to one (which raises nothing in any operation).
    #[inline]
    pub fn run(op: HostOp, fmt: Fmt, a: u128, b: u128, c: u128, lanes: u32, rmode: u32) -> Option<(u128, u32)> {
        let active = lanes_mask(fmt, lanes);
        let ones = replicate(fmt, fmt.one());
        let pad = |v: u128| (v & active) | (ones & !active);
        let (a, b, c) = (pad(a), pad(b), pad(c));
        let mxcsr = MXCSR_DEFAULT | ROUNDING_CONTROL[rmode as usize & 3] << 13;
        Some(match (op, fmt == Fmt::D) {
            (HostOp::Add, false) => under_mxcsr!("addps {x}, {y}", mxcsr, a, b),
            (HostOp::Add, true) => under_mxcsr!("addpd {x}, {y}", mxcsr, a, b),
            (HostOp::Sub, false) => under_mxcsr!("subps {x}, {y}", mxcsr, a, b),
            (HostOp::Sub, true) => under_mxcsr!("subpd {x}, {y}", mxcsr, a, b),
            (HostOp::Mul, false) => under_mxcsr!("mulps {x}, {y}", mxcsr, a, b),
            (HostOp::Mul, true) => under_mxcsr!("mulpd {x}, {y}", mxcsr, a, b),
            (HostOp::Div, false) => under_mxcsr!("divps {x}, {y}", mxcsr, a, b),
            (HostOp::Div, true) => under_mxcsr!("divpd {x}, {y}", mxcsr, a, b),
            (HostOp::Sqrt, false) => under_mxcsr!("sqrtps {x}, {y}", mxcsr, a, a),
            (HostOp::Sqrt, true) => under_mxcsr!("sqrtpd {x}, {y}", mxcsr, a, a),
            (HostOp::MulAdd, _) if !std::is_x86_feature_detected!("fma") => return None,
            (HostOp::MulAdd, false) => under_mxcsr!("vfmadd231ps {x}, {y}, {z}", mxcsr, c, a, b),
            (HostOp::MulAdd, true) => under_mxcsr!("vfmadd231pd {x}, {y}, {z}", mxcsr, c, a, b),
        })
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::fp::arith;

    fn software(op: HostOp, fmt: Fmt, a: u64, b: u64, c: u64, env: &mut Env) -> u64 {
        match op {
            HostOp::Add => arith::add(fmt, a, b, false, env),
            HostOp::Sub => arith::add(fmt, a, b, true, env),
            HostOp::Mul => arith::mul(fmt, a, b, false, env),
            HostOp::Div => arith::div(fmt, a, b, env),
            HostOp::Sqrt => arith::sqrt(fmt, a, env),
            HostOp::MulAdd => arith::mul_add(fmt, c, a, b, env),
        }
    }

    /// Whenever the host path answers, it agrees with the software path bit for bit,
    /// flags included; and it does answer for most ordinary operands.
    #[test]
    fn host_path_agrees_with_software() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let ops = [HostOp::Add, HostOp::Sub, HostOp::Mul, HostOp::Div, HostOp::Sqrt, HostOp::MulAdd];
        for fmt in [Fmt::S, Fmt::D] {
            // Operands: any bits, or ordinary magnitudes (exponent within 2^+-16).
            let mut operand = |ordinary: bool| {
                let bits = next() & fmt.mask();
                if !ordinary {
                    return bits;
                }
                let exp = (fmt.bias() as u64 - 16 + bits % 32) << fmt.frac_bits;
                (bits & (fmt.sign_bit() | fmt.frac_mask())) | exp
            };
            for op in ops {
                for fpcr in [0, 1 << 22, 2 << 22, 3 << 22, 1 << 24, 3 << 24] {
                    let (mut taken, mut ordinary_taken) = (0, 0);
                    for i in 0..4000 {
                        let ordinary = i % 2 == 0;
                        let (a, b, c) = (operand(ordinary), operand(ordinary), operand(ordinary));
                        // Ordinary square roots are of positive numbers.
                        let a = if ordinary && op == HostOp::Sqrt { fmt.magnitude(a) } else { a };
                        // Every fourth fused multiply-add nearly cancels: c is -(a * b)
                        // give or take a few units in the last place.
                        let c = if op == HostOp::MulAdd && i % 4 == 0 {
                            let product = match fmt {
                                Fmt::S => (f32::from_bits(a as u32) * f32::from_bits(b as u32)).to_bits() as u64,
                                _ => (f64::from_bits(a) * f64::from_bits(b)).to_bits(),
                            };
                            (product ^ fmt.sign_bit()).wrapping_add(c % 5).wrapping_sub(2) & fmt.mask()
                        } else {
                            c
                        };
                        let mut host_env = Env::new(fpcr);
                        let Some(result) = packed(op, fmt, a as u128, b as u128, c as u128, 1, &mut host_env) else {
                            continue;
                        };
                        let mut soft_env = Env::new(fpcr);
                        let expected = software(op, fmt, a, b, c, &mut soft_env);
                        assert_eq!(
                            (result as u64, host_env.flags),
                            (expected, soft_env.flags),
                            "{op:?} {fmt:?} fpcr {fpcr:#x}: {a:#x} {b:#x} {c:#x}"
                        );
                        taken += 1;
                        ordinary_taken += ordinary as u32;
                    }
                    assert!(taken > 0 && ordinary_taken > 1500, "{op:?} {fmt:?} {fpcr:#x}: {ordinary_taken}");
                }
            }
        }
    }

    #[test]
    fn inactive_lanes_are_zero_and_raise_nothing() {
        let mut env = Env::new(0);
        let one = Fmt::S.one() as u128;
        // Lane 1 would divide zero by zero if it were computed.
        let result = packed(HostOp::Div, Fmt::S, one, one, 0, 1, &mut env);
        assert_eq!((result, env.flags), (Some(one), 0));
    }
}
