//! Helpers for the scalar floating-point classes: data processing with one, two and
//! three sources, compares, and conversions to and from general registers.
//!
//! Each helper takes the instruction's decoded [`Operands`]; the `decode_*`
//! functions are shared with the translator, which turns the operands they reject
//! into SIGILL, so a helper only ever sees operands its decoder accepts. Moves, absolute
//! value, negation, FCSEL and FMOV immediate are plain bit moves and are translated
//! to IR directly (see `crate::translate::fp`).

use super::compare;
use super::convert::{convert, from_fixed, to_fixed};
use super::env::{Env, Rounding};
use super::format::Fmt;
use super::lanes::{binary_lanes, lane, mul_add_lanes, unary_lanes, Binary, Unary};
use super::operands::Operands;
use crate::state::CpuState;

/// The format of scalar arithmetic from `ftype`: single or double. Half precision (3)
/// is FP16 arithmetic, which is not implemented; 2 is unallocated.
pub fn arith_fmt(ftype: u32) -> Option<Fmt> {
    match ftype {
        0 => Some(Fmt::S),
        1 => Some(Fmt::D),
        _ => None,
    }
}

/// The format of a precision conversion's operand from a two-bit type field.
fn conversion_fmt(ftype: u32) -> Option<Fmt> {
    match ftype {
        0 => Some(Fmt::S),
        1 => Some(Fmt::D),
        3 => Some(Fmt::H),
        _ => None,
    }
}

/// Write a scalar result: the rest of the V register is zeroed.
fn write_scalar(state: &mut CpuState, d: u32, value: u128) {
    state.set_vreg(d as usize, value);
}

/// One-source operations done by [`FP_DP1`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dp1 {
    Lane(Unary),
    /// FCVT to another precision.
    Convert(Fmt),
}

/// FRINTN, FRINTP, FRINTM, FRINTZ, FRINTA, (unallocated), FRINTX, FRINTI by opcode<2:0>.
const FRINT: [Option<Unary>; 8] = {
    const fn fixed(rounding: Rounding) -> Option<Unary> {
        Some(Unary::RoundInt { rounding: Some(rounding), exact: false })
    }
    [
        fixed(Rounding::TieEven),
        fixed(Rounding::PosInf),
        fixed(Rounding::NegInf),
        fixed(Rounding::Zero),
        fixed(Rounding::TieAway),
        None,
        Some(Unary::RoundInt { rounding: None, exact: true }),
        Some(Unary::RoundInt { rounding: None, exact: false }),
    ]
};

/// FSQRT, FCVT and FRINT* by `ftype` (`size`) and the six-bit `opcode`: the source
/// format and the operation.
pub fn decode_dp1(ops: &Operands) -> Option<(Fmt, Dp1)> {
    match ops.opcode {
        0b000011 => Some((arith_fmt(ops.size)?, Dp1::Lane(Unary::Sqrt))),
        0b000100..=0b000111 => {
            let from = conversion_fmt(ops.size)?;
            let to = conversion_fmt(ops.opcode & 3)?;
            (from != to).then_some((from, Dp1::Convert(to)))
        }
        0b001000..=0b001111 => Some((arith_fmt(ops.size)?, Dp1::Lane(FRINT[ops.opcode as usize & 7]?))),
        _ => None,
    }
}

fn dp1(state: &mut CpuState, ops: Operands) {
    let Some((fmt, op)) = decode_dp1(&ops) else { return };
    let mut env = Env::new(state.fpcr);
    let a = state.vreg(ops.n as usize);
    let result = match op {
        Dp1::Lane(op) => unary_lanes(op, fmt, a, 1, &mut env),
        Dp1::Convert(to) => convert(fmt, to, lane(fmt, a, 0), env.rounding(), &mut env) as u128,
    };
    write_scalar(state, ops.d, result);
    state.fpsr |= env.flags;
}

operands_helper!(
    /// FSQRT, FCVT, FRINT* (scalar).
    FP_DP1 = "fp_dp1",
    dp1
);

/// FMUL, FDIV, FADD, FSUB, FMAX, FMIN, FMAXNM, FMINNM, FNMUL by the four-bit opcode.
const DP2: [Binary; 9] = [
    Binary::Mul,
    Binary::Div,
    Binary::Add,
    Binary::Sub,
    Binary::Max,
    Binary::Min,
    Binary::MaxNum,
    Binary::MinNum,
    Binary::NegMul,
];

/// The format (from `ftype`, `size`) and operation (from `opcode`) of [`FP_DP2`].
pub fn decode_dp2(ops: &Operands) -> Option<(Fmt, Binary)> {
    Some((arith_fmt(ops.size)?, *DP2.get(ops.opcode as usize)?))
}

fn dp2(state: &mut CpuState, ops: Operands) {
    let Some((fmt, op)) = decode_dp2(&ops) else { return };
    let mut env = Env::new(state.fpcr);
    let (a, b) = (state.vreg(ops.n as usize), state.vreg(ops.m as usize));
    let result = binary_lanes(op, fmt, a, b, 1, &mut env);
    write_scalar(state, ops.d, result);
    state.fpsr |= env.flags;
}

operands_helper!(
    /// FMUL, FDIV, FADD, FSUB, FMAX, FMIN, FMAXNM, FMINNM, FNMUL (scalar).
    FP_DP2 = "fp_dp2",
    dp2
);

/// FMADD (`a + n*m`), FMSUB (`a - n*m`), FNMADD (`-a - n*m`), FNMSUB (`-a + n*m`)
/// by `opcode` = `o1:o0`: `o1` negates the addend, `o1 != o0` the first factor, both
/// before the operation (so NaN operands come out with their sign flipped).
fn dp3(state: &mut CpuState, ops: Operands) {
    let Some(fmt) = arith_fmt(ops.size) else { return };
    let (o1, o0) = (ops.opcode & 2 != 0, ops.opcode & 1 != 0);
    let negate = |v: u128, yes: bool| if yes { v ^ fmt.sign_bit() as u128 } else { v };
    let addend = negate(state.vreg(ops.a as usize), o1);
    let factor = negate(state.vreg(ops.n as usize), o1 != o0);
    let mut env = Env::new(state.fpcr);
    let result = mul_add_lanes(fmt, addend, factor, state.vreg(ops.m as usize), 1, &mut env);
    write_scalar(state, ops.d, result);
    state.fpsr |= env.flags;
}

operands_helper!(
    /// FMADD, FMSUB, FNMADD, FNMSUB.
    FP_DP3 = "fp_dp3",
    dp3
);

/// FCMP, FCMPE (`holds` always true; `zero` compares with +0.0) and FCCMP, FCCMPE
/// (which compare when their condition, passed by translated code as `holds`, is
/// true, and otherwise set NZCV to their immediate `imm`). `signalling` makes quiet
/// NaNs raise Invalid.
pub fn compare_nzcv(state: &mut CpuState, ops: Operands, holds: bool) {
    let Some(fmt) = arith_fmt(ops.size) else { return };
    let nzcv = if !holds {
        ops.imm
    } else {
        let mut env = Env::new(state.fpcr);
        let a = lane(fmt, state.vreg(ops.n as usize), 0);
        let b = if ops.zero { 0 } else { lane(fmt, state.vreg(ops.m as usize), 0) };
        let nzcv = compare::compare(fmt, a, b, ops.signalling, &mut env);
        state.fpsr |= env.flags;
        nzcv
    };
    state.nzcv = nzcv << 28;
}

/// FCMP, FCMPE, FCCMP, FCCMPE: `(state, operands, holds)` where `holds` is whether the
/// condition of FCCMP/FCCMPE holds (FCMP passes 1). Writes NZCV.
pub static FP_COMPARE: archway_ir::Helper = archway_ir::Helper {
    name: "fp_compare",
    func: {
        unsafe extern "C" fn call(state: *mut u8, operands: u64, holds: u64, _: u64, _: u64) -> u64 {
            let operands = Operands::unpack(operands);
            // SAFETY: translated code passes the live state of the running thread.
            compare_nzcv(unsafe { CpuState::from_ptr(state) }, operands, holds != 0);
            0
        }
        call
    },
    reads_state: true,
    writes_state: true,
};

/// A conversion between a floating-point and a general register.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GprConversion {
    /// FCVT[NPMZA][SU]: to an integer with `fbits` fraction bits.
    ToInt { rounding: Rounding, unsigned: bool, fbits: u32 },
    /// SCVTF, UCVTF: from an integer with `fbits` fraction bits, rounded as FPCR says.
    FromInt { unsigned: bool, fbits: u32 },
}

/// The FP <-> integer and FP <-> fixed-point (`fixed`) conversions, from `ftype`
/// (`size`), `rmode`, the three-bit `opcode` and, for fixed point, `scale` (`imm`).
/// FMOV between registers is translated to IR and not decoded here.
pub fn decode_gpr_conversion(ops: &Operands) -> Option<(Fmt, GprConversion)> {
    let fmt = arith_fmt(ops.size)?;
    let (rmode, opcode) = (ops.rmode, ops.opcode);
    let unsigned = opcode & 1 != 0;
    let conversion = if !ops.fixed {
        match (rmode, opcode >> 1) {
            (_, 0) => GprConversion::ToInt { rounding: Rounding::from_rmode(rmode), unsigned, fbits: 0 },
            (0, 1) => GprConversion::FromInt { unsigned, fbits: 0 },
            (0, 2) => GprConversion::ToInt { rounding: Rounding::TieAway, unsigned, fbits: 0 },
            _ => return None,
        }
    } else {
        let scale = ops.imm;
        if !ops.sf && scale < 32 {
            return None;
        }
        let fbits = 64 - scale;
        match (rmode, opcode >> 1) {
            (0, 1) => GprConversion::FromInt { unsigned, fbits },
            (3, 0) => GprConversion::ToInt { rounding: Rounding::Zero, unsigned, fbits },
            _ => return None,
        }
    };
    Some((fmt, conversion))
}

fn gpr_conversion(state: &mut CpuState, ops: Operands) {
    let Some((fmt, conversion)) = decode_gpr_conversion(&ops) else { return };
    let width = if ops.sf { 64 } else { 32 };
    let mut env = Env::new(state.fpcr);
    let (n, d) = (ops.n as usize, ops.d as usize);
    match conversion {
        GprConversion::ToInt { rounding, unsigned, fbits } => {
            let a = lane(fmt, state.vreg(n), 0);
            let result = to_fixed(fmt, a, fbits, unsigned, width, rounding, &mut env);
            if d != 31 {
                state.x[d] = result;
            }
        }
        GprConversion::FromInt { unsigned, fbits } => {
            let value = if n == 31 { 0 } else { state.x[n] };
            let result = from_fixed(fmt, value, width, !unsigned, fbits, env.rounding(), &mut env);
            write_scalar(state, d as u32, result as u128);
        }
    }
    state.fpsr |= env.flags;
}

operands_helper!(
    /// FCVT[NPMZA][SU], SCVTF, UCVTF between FP and general registers (integer and
    /// fixed point).
    FP_GPR_CONVERSION = "fp_gpr_conversion",
    gpr_conversion
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fp::env::flag::{DZC, IDC, IOC, IXC, OFC, UFC};
    use archway_ir::Helper;

    const FZ: u32 = 1 << 24;
    const DN: u32 = 1 << 25;
    const RP: u32 = 1 << 22;
    const RM: u32 = 2 << 22;
    const RZ: u32 = 3 << 22;

    const ONE_S: u64 = 0x3f80_0000;
    const THREE_S: u64 = 0x4040_0000;
    const ONE_D: u64 = 0x3ff0_0000_0000_0000;
    const THREE_D: u64 = 0x4008_0000_0000_0000;
    const QNAN_S: u64 = 0x7fc0_0001;
    const SNAN_S: u64 = 0x7f80_0002;

    /// Run `helper` on `ops` with V1, V2, V3 = `inputs` (top halves garbage) and V0
    /// garbage: V0 and FPSR afterwards.
    fn run(helper: &Helper, ops: Operands, fpcr: u32, inputs: &[u64]) -> (u128, u32) {
        let mut state = CpuState { fpcr, ..Default::default() };
        state.v[0] = [0xdead, 0xbeef];
        for (i, &v) in inputs.iter().enumerate() {
            state.v[i + 1] = [v, 0x1234];
        }
        // SAFETY: a live state.
        unsafe { (helper.func)(state.as_mut_ptr(), ops.pack(), 1, 0, 0) };
        (state.vreg(0), state.fpsr)
    }

    /// FP data-processing (2 source) `Vd = V0, Vn = V1, Vm = V2`: opcode FMUL 0, FDIV 1,
    /// FADD 2, FSUB 3, FMAX 4, FMIN 5, FMAXNM 6, FMINNM 7, FNMUL 8.
    fn dp2_ops(opcode: u32, double: bool) -> Operands {
        Operands { d: 0, n: 1, m: 2, size: double as u32, opcode, ..Default::default() }
    }

    const FMUL: u32 = 0;
    const FDIV: u32 = 1;
    const FADD: u32 = 2;
    const FSUB: u32 = 3;
    const FMAX: u32 = 4;
    const FMAXNM: u32 = 6;
    const FMINNM: u32 = 7;
    const FNMUL: u32 = 8;

    fn dp2_s(opcode: u32, fpcr: u32, a: u64, b: u64) -> (u128, u32) {
        run(&FP_DP2, dp2_ops(opcode, false), fpcr, &[a, b])
    }

    #[test]
    fn one_third_in_every_rounding_mode() {
        assert_eq!(dp2_s(FDIV, 0, ONE_S, THREE_S), (0x3eaa_aaab, IXC));
        assert_eq!(dp2_s(FDIV, RP, ONE_S, THREE_S), (0x3eaa_aaab, IXC));
        assert_eq!(dp2_s(FDIV, RM, ONE_S, THREE_S), (0x3eaa_aaaa, IXC));
        assert_eq!(dp2_s(FDIV, RZ, ONE_S, THREE_S), (0x3eaa_aaaa, IXC));
        // -1/3 rounds the other way under the directed modes.
        assert_eq!(dp2_s(FDIV, RP, ONE_S | 1 << 31, THREE_S), (0xbeaa_aaaa, IXC));
        assert_eq!(dp2_s(FDIV, RM, ONE_S | 1 << 31, THREE_S), (0xbeaa_aaab, IXC));
        let d = |fpcr| run(&FP_DP2, dp2_ops(FDIV, true), fpcr, &[ONE_D, THREE_D]);
        assert_eq!(d(0), (0x3fd5_5555_5555_5555, IXC));
        assert_eq!(d(RP), (0x3fd5_5555_5555_5556, IXC));
    }

    #[test]
    fn exact_results_raise_nothing_and_zero_the_register_top() {
        assert_eq!(dp2_s(FADD, 0, ONE_S, ONE_S), (0x4000_0000, 0));
        // x - x is +0, except rounding towards minus infinity.
        assert_eq!(dp2_s(FSUB, 0, ONE_S, ONE_S), (0, 0));
        assert_eq!(dp2_s(FSUB, RM, ONE_S, ONE_S), (0x8000_0000, 0));
    }

    #[test]
    fn signalling_nans_win_over_quiet_ones_and_are_quietened() {
        assert_eq!(dp2_s(FADD, 0, QNAN_S, SNAN_S), (0x7fc0_0002, IOC));
        assert_eq!(dp2_s(FADD, 0, SNAN_S, QNAN_S), (0x7fc0_0002, IOC));
        // Two quiet NaNs: the first operand's.
        assert_eq!(dp2_s(FMUL, 0, QNAN_S, 0x7fc0_0003), (0x7fc0_0001, 0));
        assert_eq!(dp2_s(FMUL, 0, ONE_S, 0xffc0_0003), (0xffc0_0003, 0));
    }

    #[test]
    fn default_nan_replaces_every_nan_result() {
        assert_eq!(dp2_s(FADD, DN, QNAN_S, ONE_S), (0x7fc0_0000, 0));
        assert_eq!(dp2_s(FADD, DN, SNAN_S, ONE_S), (0x7fc0_0000, IOC));
        // Invalid operations give the (positive) default NaN in any case.
        let inf = 0x7f80_0000;
        assert_eq!(dp2_s(FSUB, 0, inf, inf), (0x7fc0_0000, IOC));
        assert_eq!(dp2_s(FMUL, 0, 0, inf), (0x7fc0_0000, IOC));
        assert_eq!(dp2_s(FDIV, 0, 0, 0), (0x7fc0_0000, IOC));
        assert_eq!(dp2_s(FDIV, 0, ONE_S, 0x8000_0000), (0xff80_0000, DZC));
        // FNMUL negates whatever FMUL gives, NaNs included.
        assert_eq!(dp2_s(FNMUL, 0, 0, inf), (0xffc0_0000, IOC));
    }

    #[test]
    fn max_and_min_number_ignore_one_quiet_nan() {
        assert_eq!(dp2_s(FMAXNM, 0, QNAN_S, ONE_S), (ONE_S as u128, 0));
        assert_eq!(dp2_s(FMINNM, 0, ONE_S, QNAN_S), (ONE_S as u128, 0));
        assert_eq!(dp2_s(FMAX, 0, QNAN_S, ONE_S), (QNAN_S as u128, 0));
        assert_eq!(dp2_s(FMAXNM, 0, SNAN_S, ONE_S), (0x7fc0_0002, IOC));
        // Signed zeros: max(+0, -0) = +0, min(+0, -0) = -0.
        assert_eq!(dp2_s(FMAX, 0, 0x8000_0000, 0), (0, 0));
        assert_eq!(dp2_s(FMINNM, 0, 0, 0x8000_0000), (0x8000_0000, 0));
    }

    #[test]
    fn flush_to_zero_flushes_denormal_inputs_and_tiny_results() {
        // A denormal operand counts as zero and raises IDC.
        assert_eq!(dp2_s(FADD, FZ, 1, 0), (0, IDC));
        assert_eq!(dp2_s(FADD, 0, 1, 0), (1, 0));
        // 2^-100 * 2^-30 is tiny: a denormal without FZ, zero (UFC, no IXC) with it.
        let (a, b) = (27 << 23, 97 << 23);
        assert_eq!(dp2_s(FMUL, 0, a, b), (1 << 19, 0));
        assert_eq!(dp2_s(FMUL, FZ, a, b), (0, UFC));
    }

    #[test]
    fn tininess_is_detected_before_rounding() {
        // a * b = 2^-126 * (1 - 2^-25.7): rounds up to the smallest normal, yet
        // underflows (x86 hardware would not say so).
        let (a, b) = (0x2041_64d8, 0x1fa9_6fc2);
        let (m1, m2) = ((a & 0x7f_ffff) | 0x80_0000, (b & 0x7f_ffff) | 0x80_0000);
        assert!(m1 * m2 < 1 << 47 && (1 << 47) - m1 * m2 < 1 << 22, "{:x}", m1 * m2);
        assert_eq!(dp2_s(FMUL, 0, a, b), (0x80_0000, UFC | IXC));
        assert_eq!(dp2_s(FMUL, RZ, a, b), (0x7f_ffff, UFC | IXC));
        assert_eq!(dp2_s(FMUL, FZ, a, b), (0, UFC));
    }

    /// FMADD family `Vd = V0, Vn = V1, Vm = V2, Va = V3`.
    fn dp3_ops(o1: u32, o0: u32, double: bool) -> Operands {
        Operands { d: 0, n: 1, m: 2, a: 3, size: double as u32, opcode: o1 << 1 | o0, ..Default::default() }
    }

    #[test]
    fn fused_multiply_add_rounds_once() {
        // (1 + 2^-27)^2 - 1 = 2^-26 + 2^-54, which a separate multiply would lose.
        let x = ONE_D | 1 << 25;
        let fmadd = run(&FP_DP3, dp3_ops(0, 0, true), 0, &[x, x, ONE_D | 1 << 63]);
        assert_eq!(fmadd, (0x3e50_0000_0100_0000, 0));
        // FMSUB: a - n*m; FNMADD: -a - n*m; FNMSUB: -a + n*m.
        let ops = [ONE_D, THREE_D, 0x4000_0000_0000_0000]; // n = 1, m = 3, a = 2
        assert_eq!(run(&FP_DP3, dp3_ops(0, 1, true), 0, &ops).0, 0xbff0_0000_0000_0000);
        assert_eq!(run(&FP_DP3, dp3_ops(1, 0, true), 0, &ops).0, 0xc014_0000_0000_0000);
        assert_eq!(run(&FP_DP3, dp3_ops(1, 1, true), 0, &ops).0, ONE_D as u128);
    }

    #[test]
    fn fused_multiply_add_nan_order_is_addend_first() {
        let fmadd = |a, n, m| run(&FP_DP3, dp3_ops(0, 0, false), 0, &[n, m, a]);
        assert_eq!(fmadd(QNAN_S, 0x7fc0_0005, ONE_S), (QNAN_S as u128, 0));
        assert_eq!(fmadd(QNAN_S, SNAN_S, ONE_S), (0x7fc0_0002, IOC));
        // 0 * inf with a quiet NaN addend is still invalid.
        assert_eq!(fmadd(QNAN_S, 0, 0x7f80_0000), (0x7fc0_0000, IOC));
        // FMSUB negates the NaN it propagates from Vn.
        let fmsub = run(&FP_DP3, dp3_ops(0, 1, false), 0, &[QNAN_S, ONE_S, ONE_S]);
        assert_eq!(fmsub, (0xffc0_0001, 0));
    }

    /// FCMP/FCMPE `Sn = V1, Sm = V2` (or with zero), NZCV and FPSR.
    fn fcmp(signalling: bool, zero: bool, a: u64, b: u64) -> (u32, u32) {
        let ops = Operands { n: 1, m: 2, signalling, zero, ..Default::default() };
        let mut state = CpuState::default();
        state.v[1][0] = a;
        state.v[2][0] = b;
        compare_nzcv(&mut state, ops, true);
        (state.nzcv >> 28, state.fpsr)
    }

    #[test]
    fn compares_set_nzcv() {
        assert_eq!(fcmp(false, false, ONE_S, THREE_S), (0b1000, 0));
        assert_eq!(fcmp(false, false, THREE_S, ONE_S), (0b0010, 0));
        assert_eq!(fcmp(false, false, 0x8000_0000, 0), (0b0110, 0));
        assert_eq!(fcmp(false, true, 0x8000_0000, ONE_S), (0b0110, 0));
        assert_eq!(fcmp(false, false, QNAN_S, ONE_S), (0b0011, 0));
        assert_eq!(fcmp(true, false, QNAN_S, ONE_S), (0b0011, IOC));
        assert_eq!(fcmp(false, false, ONE_S, SNAN_S), (0b0011, IOC));
    }

    #[test]
    fn conditional_compare_takes_the_immediate_when_the_condition_fails() {
        let fccmpe = Operands { n: 1, m: 2, imm: 0b0101, signalling: true, ..Default::default() };
        let mut state = CpuState::default();
        state.v[1][0] = QNAN_S;
        compare_nzcv(&mut state, fccmpe, false);
        assert_eq!((state.nzcv, state.fpsr), (0b0101 << 28, 0));
        compare_nzcv(&mut state, fccmpe, true);
        assert_eq!((state.nzcv, state.fpsr), (0b0011 << 28, IOC));
    }

    /// FP <-> integer conversion `(sf, ftype, rmode, opcode)` with Rd = 1, Rn = 2.
    fn int_conv(sf: bool, ftype: u32, rmode: u32, opcode: u32) -> Operands {
        Operands { d: 1, n: 2, sf, size: ftype, rmode, opcode, ..Default::default() }
    }

    /// Convert V2 (an FP value) to X1.
    fn to_int(ops: Operands, value: u64) -> (u64, u32) {
        let mut state = CpuState::default();
        state.v[2][0] = value;
        state.x[1] = 0xdead;
        gpr_conversion(&mut state, ops);
        (state.x[1], state.fpsr)
    }

    #[test]
    fn float_to_int_saturates_and_maps_nan_to_zero() {
        let fcvtzs_w_d = int_conv(false, 1, 3, 0);
        let fcvtzs_x_d = int_conv(true, 1, 3, 0);
        let fcvtzu_w_d = int_conv(false, 1, 3, 1);
        let big = 1e20f64.to_bits();
        assert_eq!(to_int(fcvtzs_w_d, big), (0x7fff_ffff, IOC));
        assert_eq!(to_int(fcvtzs_x_d, big), (i64::MAX as u64, IOC));
        assert_eq!(to_int(fcvtzs_w_d, (-1e20f64).to_bits()), (0x8000_0000, IOC));
        assert_eq!(to_int(fcvtzs_x_d, 0x7ff8_0000_0000_0000), (0, IOC));
        assert_eq!(to_int(fcvtzu_w_d, (-1.5f64).to_bits()), (0, IOC));
        assert_eq!(to_int(fcvtzu_w_d, (-0.5f64).to_bits()), (0, IXC));
        assert_eq!(to_int(fcvtzs_w_d, (-2.75f64).to_bits()), (0xffff_fffe, IXC));
        // Rounding per instruction: FCVTAS (ties away), FCVTMS (down), FCVTNS (even).
        assert_eq!(to_int(int_conv(true, 1, 0, 4), (-2.5f64).to_bits()), (-3i64 as u64, IXC));
        assert_eq!(to_int(int_conv(true, 1, 2, 0), (2.5f64).to_bits()), (2, IXC));
        assert_eq!(to_int(int_conv(true, 1, 0, 0), (2.5f64).to_bits()), (2, IXC));
        assert_eq!(to_int(int_conv(true, 1, 1, 0), (2.25f64).to_bits()), (3, IXC));
    }

    #[test]
    fn int_to_float_rounds_as_fpcr_says() {
        let ucvtf_s_x = int_conv(true, 0, 0, 3);
        let mut state = CpuState { fpcr: RZ, ..Default::default() };
        state.x[2] = u64::MAX;
        gpr_conversion(&mut state, Operands { d: 3, ..ucvtf_s_x });
        assert_eq!((state.vreg(3), state.fpsr), (0x5f7f_ffff, IXC));
        // SCVTF D from XZR is +0.
        let scvtf_d_xzr = Operands { n: 31, ..int_conv(true, 1, 0, 2) };
        gpr_conversion(&mut state, scvtf_d_xzr);
        assert_eq!(state.vreg(1), 0);
        // Fixed point: SCVTF Dd, Xn, #4 of -8 is -0.5.
        let scvtf_fixed = Operands { fixed: true, imm: 64 - 4, ..int_conv(true, 1, 0, 2) };
        state.x[2] = -8i64 as u64;
        gpr_conversion(&mut state, scvtf_fixed);
        assert_eq!(state.vreg(1), (-0.5f64).to_bits() as u128);
    }

    /// One-source `Vd = V0, Vn = V1` by opcode and type.
    fn dp1_ops(opcode: u32, ftype: u32) -> Operands {
        Operands { d: 0, n: 1, size: ftype, opcode, ..Default::default() }
    }

    #[test]
    fn precision_conversions_round_overflow_and_keep_nan_payloads() {
        let fcvt_s_d = dp1_ops(0b000100, 1);
        assert_eq!(run(&FP_DP1, fcvt_s_d, 0, &[1e300f64.to_bits()]), (0x7f80_0000, OFC | IXC));
        assert_eq!(run(&FP_DP1, fcvt_s_d, RZ, &[1e300f64.to_bits()]), (0x7f7f_ffff, OFC | IXC));
        assert_eq!(run(&FP_DP1, fcvt_s_d, 0, &[0x7ff0_0000_2000_0000]), (0x7fc0_0001, IOC));
        // Half precision: 65520 overflows, and under FPCR.AHP there is no infinity.
        let fcvt_h_s = dp1_ops(0b000111, 0);
        assert_eq!(run(&FP_DP1, fcvt_h_s, 0, &[65520f32.to_bits() as u64]), (0x7c00, OFC | IXC));
        let ahp = 1 << 26;
        assert_eq!(run(&FP_DP1, fcvt_h_s, ahp, &[0x7f80_0000]), (0x7fff, IOC));
        let fcvt_d_h = dp1_ops(0b000101, 3);
        assert_eq!(run(&FP_DP1, fcvt_d_h, 0, &[0x3c00]), (ONE_D as u128, 0));
        assert_eq!(run(&FP_DP1, fcvt_d_h, ahp, &[0x7c00]), (0x40f0_0000_0000_0000, 0));
        assert_eq!(run(&FP_DP1, dp1_ops(0b000110, 1), 0, &[0]).0, 0xdead | 0xbeef << 64, "BFCVT");
    }

    #[test]
    fn round_to_integral() {
        let frinta = dp1_ops(0b001100, 0);
        let frintn = dp1_ops(0b001000, 0);
        let frintx = dp1_ops(0b001110, 0);
        let minus_2_5 = (-2.5f32).to_bits() as u64;
        assert_eq!(run(&FP_DP1, frinta, 0, &[minus_2_5]), ((-3f32).to_bits() as u128, 0));
        assert_eq!(run(&FP_DP1, frintn, 0, &[minus_2_5]), ((-2f32).to_bits() as u128, 0));
        assert_eq!(run(&FP_DP1, frintx, 0, &[minus_2_5]), ((-2f32).to_bits() as u128, IXC));
        assert_eq!(run(&FP_DP1, frintx, RM, &[minus_2_5]), ((-3f32).to_bits() as u128, IXC));
        // A fraction rounded to zero keeps its sign.
        assert_eq!(run(&FP_DP1, frintn, 0, &[(-0.25f32).to_bits() as u64]), (0x8000_0000, 0));
    }

    #[test]
    fn square_root() {
        let fsqrt = dp1_ops(0b000011, 1);
        assert_eq!(run(&FP_DP1, fsqrt, 0, &[0x4010_0000_0000_0000]), (0x4000_0000_0000_0000, 0));
        assert_eq!(run(&FP_DP1, fsqrt, 0, &[ONE_D | 1 << 63]), (0x7ff8_0000_0000_0000, IOC));
        assert_eq!(run(&FP_DP1, fsqrt, 0, &[1 << 63]), (1 << 63, 0));
        assert_eq!(run(&FP_DP1, fsqrt, 0, &[2f64.to_bits()]), (2f64.sqrt().to_bits() as u128, IXC));
    }
}
