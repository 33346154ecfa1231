//! Floating point, scalar and Advanced SIMD: the decoder rows and their translation.
//!
//! Arithmetic, compares and conversions become a call to one helper per encoding
//! class (in [`crate::fp::scalar`] and [`crate::fp::advsimd`]) whose argument is the
//! row's fields, packed as [`Operands`]; the helper computes with exact AArch64
//! semantics on the guest state and raises the FPSR flags. Where a row fixes bits of
//! the class's opcode, its handler passes them as a constant (a generic parameter
//! of the class's handler). The class's `decode_*` function (shared with the helper,
//! which runs it again on the same operands) decides here whether the encoding is
//! allocated; if not the instruction is undefined. Pure bit moves (FMOV between
//! registers and of immediates, FABS, FNEG, FCSEL) need no FP environment and are
//! translated to IR.
//!
//! Rows claim only floating-point opcodes: the integer Advanced SIMD instructions of
//! the same classes (and URECPE/URSQRTE) belong to [`super::simd`].

use super::{Ctx, Flow};
use crate::decode::{inst, Entry, Fields};
use crate::fp::advsimd::{self, FROM_FIXED, TO_FIXED};
use crate::fp::format::Fmt;
use crate::fp::operands::Operands;
use crate::fp::scalar::{self, arith_fmt};
use crate::state::off;
use archway_ir::{BinOp, Helper, Type, Value};

pub const TABLE: &[Entry] = &[
    // Scalar floating point.
    inst("FMOV_reg", "00011110pp100000010000nnnnnddddd", scalar_move),
    inst("FABS_scalar", "00011110pp100000110000nnnnnddddd", scalar_abs),
    inst("FNEG_scalar", "00011110pp100001010000nnnnnddddd", scalar_neg),
    inst("FSQRT_scalar", "00011110pp100001110000nnnnnddddd", dp1::<0b000011>),
    inst("FCVT_precision", "00011110pp10001oo10000nnnnnddddd", dp1::<0b000100>),
    inst("FRINT_scalar", "00011110pp1001ooo10000nnnnnddddd", dp1::<0b001000>),
    inst("FCMP_FCMPE", "00011110pp1mmmmm001000nnnnnEZ000", compare),
    inst("FCCMP_FCCMPE", "00011110pp1mmmmmcccc01nnnnnEFFFF", cond_compare),
    inst("FCSEL", "00011110pp1mmmmmcccc11nnnnnddddd", fcsel),
    inst("FMOV_imm_scalar", "00011110pp1iiiiiiii10000000ddddd", fmov_imm),
    inst("FMUL_FDIV_FADD_FSUB_FMAX_FMIN_FMAXNM_FMINNM", "00011110pp1mmmmm0ooo10nnnnnddddd", dp2::<0b0000>),
    inst("FNMUL", "00011110pp1mmmmm100010nnnnnddddd", dp2::<0b1000>),
    inst("FMADD_FMSUB_FNMADD_FNMSUB", "00011111ppommmmmoaaaaannnnnddddd", dp3),
    inst("FCVTNS_FCVTPS_FCVTMS_FCVTZS_int", "f0011110pp1kk00o000000nnnnnddddd", gpr_conversion::<false, 0, 0b000>),
    inst("FCVTAS_FCVTAU_int", "f0011110pp10010o000000nnnnnddddd", gpr_conversion::<false, 0, 0b100>),
    inst("SCVTF_UCVTF_int", "f0011110pp10001o000000nnnnnddddd", gpr_conversion::<false, 0, 0b010>),
    inst("SCVTF_UCVTF_fixed", "f0011110pp00001oiiiiiinnnnnddddd", gpr_conversion::<true, 0, 0b010>),
    inst("FCVTZS_FCVTZU_fixed", "f0011110pp01100oiiiiiinnnnnddddd", gpr_conversion::<true, 0b11, 0b000>),
    inst("FMOV_gpr", "f0011110pp10011o000000nnnnnddddd", fmov_gpr),
    inst("FMOV_gpr_top", "f0011110pp10111o000000nnnnnddddd", fmov_gpr_top),
    // Advanced SIMD three same.
    inst("FP_three_same", "0QU01110oz1mmmmm11ooo1nnnnnddddd", three_same::<false>),
    inst("FP_three_same_scalar", "01U11110oz1mmmmm11ooo1nnnnnddddd", three_same::<true>),
    // Advanced SIMD two-register miscellaneous; the constant is U:a:opcode.
    inst("FCMGT_FCMEQ_FCMGE_FCMLE_zero", "0QU011101z100000110o10nnnnnddddd", misc::<false, 0b0101100>),
    inst("FCMLT_zero", "0Q0011101z100000111010nnnnnddddd", misc::<false, 0b0101110>),
    inst("FABS_FNEG_vector", "0QU011101z100000111110nnnnnddddd", vector_abs_neg),
    inst("FCVTN_FCVTL", "0Q0011100z100001011o10nnnnnddddd", misc::<false, 0b0010110>),
    inst("FCVTXN", "0Q1011100z100001011010nnnnnddddd", misc::<false, 0b1010110>),
    inst("FRINTNMAX_FCVTNS_FCVTMS_FCVTAS_SCVTF", "0QU011100z1000011ooo10nnnnnddddd", misc::<false, 0b0011000>),
    inst("FRINTPZI_FCVTPS_FCVTZS", "0QU011101z10000110oo10nnnnnddddd", misc::<false, 0b0111000>),
    inst("FRECPE_FRSQRTE", "0QU011101z100001110110nnnnnddddd", misc::<false, 0b0111101>),
    inst("FSQRT_vector", "0Q1011101z100001111110nnnnnddddd", misc::<false, 0b1111111>),
    inst("FCMGT_FCMEQ_FCMGE_FCMLE_zero_scalar", "01U111101z100000110o10nnnnnddddd", misc::<true, 0b0101100>),
    inst("FCMLT_zero_scalar", "010111101z100000111010nnnnnddddd", misc::<true, 0b0101110>),
    inst("FCVTXN_scalar", "011111100z100001011010nnnnnddddd", misc::<true, 0b1010110>),
    inst("FCVTNS_FCVTMS_FCVTAS_SCVTF_scalar", "01U111100z1000011ooo10nnnnnddddd", misc::<true, 0b0011000>),
    inst("FCVTPS_FCVTZS_scalar", "01U111101z10000110oo10nnnnnddddd", misc::<true, 0b0111000>),
    inst("FRECPE_FRSQRTE_scalar", "01U111101z100001110110nnnnnddddd", misc::<true, 0b0111101>),
    inst("FRECPX", "010111101z100001111110nnnnnddddd", misc::<true, 0b0111111>),
    // Advanced SIMD by element; the constant is U:opcode.
    inst("FMLA_FMLS_element", "0Q0011111zLMmmmm0o01H0nnnnnddddd", by_element::<false, 0b0_0001>),
    inst("FMUL_FMULX_element", "0QU011111zLMmmmm1001H0nnnnnddddd", by_element::<false, 0b0_1001>),
    inst("FMLA_FMLS_element_scalar", "010111111zLMmmmm0o01H0nnnnnddddd", by_element::<true, 0b0_0001>),
    inst("FMUL_FMULX_element_scalar", "01U111111zLMmmmm1001H0nnnnnddddd", by_element::<true, 0b0_1001>),
    // Advanced SIMD pairwise and across lanes.
    inst("FADDP_FMAXP_FMINP_FMAXNMP_FMINNMP_scalar", "01111110oz11000011oo10nnnnnddddd", reduce::<true>),
    inst("FMAXV_FMINV_FMAXNMV_FMINNMV", "0Q101110oz11000011oo10nnnnnddddd", reduce::<false>),
    // Advanced SIMD shift by immediate: fixed-point conversions (immh 01xx, 1xxx).
    inst("SCVTF_UCVTF_fixed_vector_S", "0QU01111001iiiii111001nnnnnddddd", fixed_point::<false, false, FROM_FIXED>),
    inst("SCVTF_UCVTF_fixed_vector_D", "0QU0111101iiiiii111001nnnnnddddd", fixed_point::<false, true, FROM_FIXED>),
    inst("FCVTZS_FCVTZU_fixed_vector_S", "0QU01111001iiiii111111nnnnnddddd", fixed_point::<false, false, TO_FIXED>),
    inst("FCVTZS_FCVTZU_fixed_vector_D", "0QU0111101iiiiii111111nnnnnddddd", fixed_point::<false, true, TO_FIXED>),
    inst("SCVTF_UCVTF_fixed_scalar_S", "01U11111001iiiii111001nnnnnddddd", fixed_point::<true, false, FROM_FIXED>),
    inst("SCVTF_UCVTF_fixed_scalar_D", "01U1111101iiiiii111001nnnnnddddd", fixed_point::<true, true, FROM_FIXED>),
    inst("FCVTZS_FCVTZU_fixed_scalar_S", "01U11111001iiiii111111nnnnnddddd", fixed_point::<true, false, TO_FIXED>),
    inst("FCVTZS_FCVTZU_fixed_scalar_D", "01U1111101iiiiii111111nnnnnddddd", fixed_point::<true, true, TO_FIXED>),
    // Advanced SIMD modified immediate, cmode 1111 with o2 = 0.
    inst("FMOV_vector_imm", "0Qo0111100000iii111101iiiiiddddd", fmov_vector_imm),
];

/// Emit a call of `helper` with the packed `operands`, if `valid`; else undefined.
fn call_if(ctx: &mut Ctx, valid: bool, helper: &'static Helper, operands: Operands) -> Flow {
    if !valid {
        return Flow::Undefined;
    }
    let word = ctx.k64(operands.pack());
    ctx.b.call_void(helper, &[word]);
    Flow::Continue
}

/// Field `letter`, or zero when the row fixes those bits (the handler's constant
/// holds them then).
fn field_or_zero(f: Fields, letter: char) -> u32 {
    if f.width(letter) == 0 {
        0
    } else {
        f.get(letter)
    }
}

/// FSQRT, FCVT, FRINT* (scalar): `OPCODE` is the row's opcode, `o` its low bits.
fn dp1<const OPCODE: u32>(ctx: &mut Ctx, f: Fields) -> Flow {
    let ops = Operands {
        d: f.reg('d'),
        n: f.reg('n'),
        size: f.get('p'),
        opcode: OPCODE | field_or_zero(f, 'o'),
        ..Operands::default()
    };
    call_if(ctx, scalar::decode_dp1(&ops).is_some(), &scalar::FP_DP1, ops)
}

/// FMUL ... FMINNM (`o` is the opcode) and FNMUL (`OPCODE` 1000).
fn dp2<const OPCODE: u32>(ctx: &mut Ctx, f: Fields) -> Flow {
    let ops = Operands {
        d: f.reg('d'),
        n: f.reg('n'),
        m: f.reg('m'),
        size: f.get('p'),
        opcode: OPCODE | field_or_zero(f, 'o'),
        ..Operands::default()
    };
    call_if(ctx, scalar::decode_dp2(&ops).is_some(), &scalar::FP_DP2, ops)
}

/// FMADD, FMSUB, FNMADD, FNMSUB by `o1:o0`.
fn dp3(ctx: &mut Ctx, f: Fields) -> Flow {
    let ops = Operands {
        d: f.reg('d'),
        n: f.reg('n'),
        m: f.reg('m'),
        a: f.reg('a'),
        size: f.get('p'),
        opcode: f.get('o'),
        ..Operands::default()
    };
    call_if(ctx, arith_fmt(ops.size).is_some(), &scalar::FP_DP3, ops)
}

/// Conversions between FP and general registers: `FIXED` point or integer, the row's
/// `RMODE` (or its `k` field) and `OPCODE` with `o` as its low bit.
fn gpr_conversion<const FIXED: bool, const RMODE: u32, const OPCODE: u32>(ctx: &mut Ctx, f: Fields) -> Flow {
    let ops = Operands {
        d: f.reg('d'),
        n: f.reg('n'),
        sf: f.bit('f'),
        size: f.get('p'),
        rmode: RMODE | field_or_zero(f, 'k'),
        opcode: OPCODE | f.get('o'),
        imm: field_or_zero(f, 'i'),
        fixed: FIXED,
        ..Operands::default()
    };
    call_if(ctx, scalar::decode_gpr_conversion(&ops).is_some(), &scalar::FP_GPR_CONVERSION, ops)
}

/// The operands of an Advanced SIMD FP row: Vd, Vn, `sz` and `Q` (where the row has
/// them), and whether the row is a `scalar` form.
fn simd_operands(f: Fields, scalar: bool) -> Operands {
    Operands {
        d: f.reg('d'),
        n: f.reg('n'),
        size: field_or_zero(f, 'z'),
        q: field_or_zero(f, 'Q') != 0,
        scalar,
        ..Operands::default()
    }
}

/// Three same: the opcode is `U:o` (`o` is `a:opcode<2:0>`).
fn three_same<const SCALAR: bool>(ctx: &mut Ctx, f: Fields) -> Flow {
    let ops = Operands { m: f.reg('m'), opcode: f.get('U') << 4 | f.get('o'), ..simd_operands(f, SCALAR) };
    call_if(ctx, advsimd::decode_three_same(&ops).is_some(), &advsimd::FP_THREE_SAME, ops)
}

/// Two-register miscellaneous: `KEY` is the row's `U:a:opcode`, completed by its `U`
/// and `o` fields where it has them.
fn misc<const SCALAR: bool, const KEY: u32>(ctx: &mut Ctx, f: Fields) -> Flow {
    let opcode = KEY | field_or_zero(f, 'U') << 6 | field_or_zero(f, 'o');
    let ops = Operands { opcode, ..simd_operands(f, SCALAR) };
    call_if(ctx, advsimd::decode_misc(&ops).is_some(), &advsimd::FP_MISC, ops)
}

/// By element: `KEY` is the row's `U:opcode`, completed by `U` or `o` (opcode<2>);
/// the element is `M:Rm` and its index `H:L`.
fn by_element<const SCALAR: bool, const KEY: u32>(ctx: &mut Ctx, f: Fields) -> Flow {
    let ops = Operands {
        m: f.get('M') << 4 | f.reg('m'),
        opcode: KEY | field_or_zero(f, 'U') << 4 | field_or_zero(f, 'o') << 2,
        imm: f.get('H') << 1 | f.get('L'),
        ..simd_operands(f, SCALAR)
    };
    call_if(ctx, advsimd::decode_by_element(&ops).is_some(), &advsimd::FP_BY_ELEMENT, ops)
}

/// Pairwise and across lanes: the opcode is `o` (`a:opcode<1:0>`).
fn reduce<const SCALAR: bool>(ctx: &mut Ctx, f: Fields) -> Flow {
    let ops = Operands { opcode: f.get('o'), ..simd_operands(f, SCALAR) };
    call_if(ctx, advsimd::decode_reduce(&ops).is_some(), &advsimd::FP_REDUCE, ops)
}

/// Fixed-point conversions of the shift-by-immediate class: `DOUBLE` rows (immh
/// 1xxx) have 64 - `i` fraction bits, single rows (immh 01xx) 32 - `i`.
fn fixed_point<const SCALAR: bool, const DOUBLE: bool, const OPCODE: u32>(ctx: &mut Ctx, f: Fields) -> Flow {
    let width = if DOUBLE { 64 } else { 32 };
    let ops = Operands {
        size: DOUBLE as u32,
        opcode: OPCODE,
        imm: width - f.get('i'),
        unsigned: f.bit('U'),
        ..simd_operands(f, SCALAR)
    };
    call_if(ctx, advsimd::decode_fixed_point(&ops).is_some(), &advsimd::FP_FIXED_POINT, ops)
}

/// FCMP, FCMPE: the helper's condition argument is simply true.
fn compare(ctx: &mut Ctx, f: Fields) -> Flow {
    let ops = Operands {
        n: f.reg('n'),
        m: f.reg('m'),
        size: f.get('p'),
        signalling: f.bit('E'),
        zero: f.bit('Z'),
        ..Operands::default()
    };
    if arith_fmt(ops.size).is_none() {
        return Flow::Undefined;
    }
    let (word, holds) = (ctx.k64(ops.pack()), ctx.k64(1));
    ctx.b.call_void(&scalar::FP_COMPARE, &[word, holds]);
    Flow::Continue
}

/// FCCMP, FCCMPE: the condition is evaluated in IR and passed to the helper, which
/// compares (raising FP exceptions) only when it holds, and otherwise sets NZCV to
/// the row's `nzcv` field.
fn cond_compare(ctx: &mut Ctx, f: Fields) -> Flow {
    let ops = Operands {
        n: f.reg('n'),
        m: f.reg('m'),
        size: f.get('p'),
        signalling: f.bit('E'),
        imm: f.get('F'),
        ..Operands::default()
    };
    if arith_fmt(ops.size).is_none() {
        return Flow::Undefined;
    }
    let nzcv = ctx.nzcv();
    let holds = ctx.b.cond_holds(f.get('c') as u8, nzcv);
    let holds = ctx.b.zext_or_trunc(Type::I64, holds);
    let word = ctx.k64(ops.pack());
    ctx.b.call_void(&scalar::FP_COMPARE, &[word, holds]);
    Flow::Continue
}

/// The low 64 bits of V`n`.
fn v_lo(ctx: &mut Ctx, n: u32) -> Value {
    ctx.b.get_state(Type::I64, off::v_lo(n))
}

/// Write a scalar (I64, already masked to its width) to V`d`, zeroing the rest.
fn set_scalar(ctx: &mut Ctx, d: u32, v: Value) {
    ctx.b.set_state(off::v_lo(d), v);
    let zero = ctx.k64(0);
    ctx.b.set_state(off::v_hi(d), zero);
}

/// `a op constant` on I64.
fn bin_k(ctx: &mut Ctx, op: BinOp, a: Value, k: u64) -> Value {
    let k = ctx.k64(k);
    ctx.b.bin(op, a, k)
}

/// Keep the sign bit (FMOV, register).
fn scalar_move(ctx: &mut Ctx, f: Fields) -> Flow {
    scalar_sign(ctx, f, |ctx, fmt, v| bin_k(ctx, BinOp::And, v, fmt.mask()))
}

/// Clear the sign bit (FABS, scalar).
fn scalar_abs(ctx: &mut Ctx, f: Fields) -> Flow {
    scalar_sign(ctx, f, |ctx, fmt, v| bin_k(ctx, BinOp::And, v, fmt.mask() >> 1))
}

/// Flip the sign bit (FNEG, scalar).
fn scalar_neg(ctx: &mut Ctx, f: Fields) -> Flow {
    scalar_sign(ctx, f, |ctx, fmt, v| {
        let v = bin_k(ctx, BinOp::And, v, fmt.mask());
        bin_k(ctx, BinOp::Xor, v, fmt.sign_bit())
    })
}

/// FMOV, FABS, FNEG (scalar register): `Vd = sign(Vn)` of the row's format.
fn scalar_sign(ctx: &mut Ctx, f: Fields, sign: impl Fn(&mut Ctx, Fmt, Value) -> Value) -> Flow {
    let Some(fmt) = arith_fmt(f.get('p')) else { return Flow::Undefined };
    let v = v_lo(ctx, f.reg('n'));
    let v = sign(ctx, fmt, v);
    set_scalar(ctx, f.reg('d'), v);
    Flow::Continue
}

/// FCSEL: `Vd = cond ? Vn : Vm`.
fn fcsel(ctx: &mut Ctx, f: Fields) -> Flow {
    let Some(fmt) = arith_fmt(f.get('p')) else { return Flow::Undefined };
    let nzcv = ctx.nzcv();
    let holds = ctx.b.cond_holds(f.get('c') as u8, nzcv);
    let (n, m) = (v_lo(ctx, f.reg('n')), v_lo(ctx, f.reg('m')));
    let v = ctx.b.select(holds, n, m);
    let v = bin_k(ctx, BinOp::And, v, fmt.mask());
    set_scalar(ctx, f.reg('d'), v);
    Flow::Continue
}

/// `VFPExpandImm`: the value an 8-bit FMOV immediate encodes in `fmt`:
/// sign `imm8<7>`, exponent `NOT(imm8<6>):Replicate(imm8<6>):imm8<5:4>`, fraction
/// `imm8<3:0>` followed by zeros.
pub fn expand_imm8(fmt: Fmt, imm8: u32) -> u64 {
    let imm8 = imm8 as u64;
    let b6 = (imm8 >> 6) & 1;
    let exp_low = (imm8 >> 4) & 3;
    let replicated = if b6 != 0 { (1 << (fmt.exp_bits - 1)) - 4 } else { 0 };
    let exp = ((b6 ^ 1) << (fmt.exp_bits - 1)) | replicated | exp_low;
    let frac = (imm8 & 15) << (fmt.frac_bits - 4);
    ((imm8 >> 7) << (fmt.width() - 1)) | (exp << fmt.frac_bits) | frac
}

/// FMOV (scalar, immediate).
fn fmov_imm(ctx: &mut Ctx, f: Fields) -> Flow {
    let Some(fmt) = arith_fmt(f.get('p')) else { return Flow::Undefined };
    let v = ctx.k64(expand_imm8(fmt, f.get('i')));
    set_scalar(ctx, f.reg('d'), v);
    Flow::Continue
}

/// FMOV between a general register and the low lanes: `Wd <-> Sn` (sf 0, ftype 00)
/// or `Xd <-> Dn` (sf 1, ftype 01); opcode bit 16 set moves into the FP register.
fn fmov_gpr(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    if f.get('p') != sf as u32 {
        return Flow::Undefined;
    }
    if f.bit('o') {
        let x = ctx.reg(sf, f.reg('n'));
        let x = ctx.b.zext_or_trunc(Type::I64, x);
        set_scalar(ctx, f.reg('d'), x);
    } else {
        let v = v_lo(ctx, f.reg('n'));
        let v = if sf { v } else { ctx.b.zext_or_trunc(Type::I32, v) };
        ctx.set_x(f.reg('d'), v);
    }
    Flow::Continue
}

/// FMOV between X registers and the top half of a V register (`Vd.D[1]`; sf 1,
/// ftype 10 only). Writing the top half keeps the bottom one.
fn fmov_gpr_top(ctx: &mut Ctx, f: Fields) -> Flow {
    if !f.bit('f') || f.get('p') != 0b10 {
        return Flow::Undefined;
    }
    if f.bit('o') {
        let x = ctx.x(f.reg('n'));
        ctx.b.set_state(off::v_hi(f.reg('d')), x);
    } else {
        let v = ctx.b.get_state(Type::I64, off::v_hi(f.reg('n')));
        ctx.set_x(f.reg('d'), v);
    }
    Flow::Continue
}

/// Write both halves of V`d`: `lo` and, for 128-bit vectors, `hi` (else zero).
fn set_vector(ctx: &mut Ctx, d: u32, lo: Value, hi: Option<Value>) {
    ctx.b.set_state(off::v_lo(d), lo);
    let hi = hi.unwrap_or_else(|| ctx.k64(0));
    ctx.b.set_state(off::v_hi(d), hi);
}

/// FABS, FNEG (vector): clear or flip every lane's sign bit.
fn vector_abs_neg(ctx: &mut Ctx, f: Fields) -> Flow {
    let Some((fmt, lanes)) = advsimd::vector_shape(f.bit('Q'), f.bit('z')) else { return Flow::Undefined };
    let signs = crate::fp::lanes::from_lanes(fmt, 64 / fmt.width(), |_| fmt.sign_bit()) as u64;
    let (op, k) = if f.bit('U') { (BinOp::Xor, signs) } else { (BinOp::And, !signs) };
    let half = |ctx: &mut Ctx, offset: u32| {
        let v = ctx.b.get_state(Type::I64, offset);
        bin_k(ctx, op, v, k)
    };
    let lo = half(ctx, off::v_lo(f.reg('n')));
    let hi = (lanes * fmt.width() == 128).then(|| half(ctx, off::v_hi(f.reg('n'))));
    set_vector(ctx, f.reg('d'), lo, hi);
    Flow::Continue
}

/// FMOV (vector, immediate): single lanes (op 0) or double lanes (op 1, Q = 1 only).
fn fmov_vector_imm(ctx: &mut Ctx, f: Fields) -> Flow {
    let imm8 = f.get('i');
    let (q, double) = (f.bit('Q'), f.bit('o'));
    let half = match (double, q) {
        (true, false) => return Flow::Undefined,
        (true, true) => expand_imm8(Fmt::D, imm8),
        (false, _) => expand_imm8(Fmt::S, imm8) * 0x1_0000_0001,
    };
    let lo = ctx.k64(half);
    let hi = q.then(|| ctx.k64(half));
    set_vector(ctx, f.reg('d'), lo, hi);
    Flow::Continue
}

#[cfg(test)]
mod tests {
    use super::super::dp_imm::tests::{assert_undefined, run};
    use super::*;
    use crate::decode::{self, Pattern};
    use crate::CpuState;

    /// V1 = [1.0, -2.0, 3.5, qNaN] and V2 = [0.5, 0.25, -inf, 1.0] as singles,
    /// V0 = [1.0; 4].
    fn vector_state() -> CpuState {
        let mut state = CpuState::default();
        state.v[0] = [0x3f80_0000_3f80_0000; 2];
        state.v[1] = [0xc000_0000_3f80_0000, 0x7fc0_0001_4060_0000];
        state.v[2] = [0x3e80_0000_3f00_0000, 0x3f80_0000_ff80_0000];
        state
    }

    /// Run `word` on [`vector_state`]: V0 and FPSR afterwards.
    fn vector(word: u32) -> ([u64; 2], u32) {
        let mut state = vector_state();
        run(&mut state, &[word]);
        (state.v[0], state.fpsr)
    }

    // Expected values from qemu-aarch64.
    #[test]
    fn vector_arithmetic() {
        // FADD V0.4S, V1.4S, V2.4S; the 2S form zeroes the top half.
        assert_eq!(vector(0x4e22_d420), ([0xbfe0_0000_3fc0_0000, 0x7fc0_0001_ff80_0000], 0));
        assert_eq!(vector(0x0e22_d420), ([0xbfe0_0000_3fc0_0000, 0], 0));
        // FMLA V0.4S, V1.4S, V2.S[3].
        assert_eq!(vector(0x4fa2_1820), ([0xbf80_0000_4000_0000, 0x7fc0_0001_4090_0000], 0));
        // FADDP V0.4S, V1.4S, V2.4S.
        assert_eq!(vector(0x6e22_d420), ([0x7fc0_0001_bf80_0000, 0xff80_0000_3f40_0000], 0));
        // FRECPS V0.4S, V1.4S, V2.4S: the NaN comes out negated.
        assert_eq!(vector(0x4e22_fc20), ([0x4020_0000_3fc0_0000, 0xffc0_0001_7f80_0000], 0));
        // FRSQRTS S0, S1, S2.
        assert_eq!(vector(0x5ea2_fc20), ([0x3fa0_0000, 0], 0));
        // FADD V0.2D, V1.2D, V2.2D.
        assert_eq!(vector(0x4ee2_d420), ([0xc000_0000_4f80_003f, 0x7fc0_0001_4060_0000], 0x10));
    }

    #[test]
    fn vector_reductions_compares_and_conversions() {
        // FMAXNMV S0, V1.4S skips the quiet NaN.
        assert_eq!(vector(0x6e30_c820), ([0x4060_0000, 0], 0));
        // FCMGT V0.4S, V1.4S, #0.0: the NaN lane is false and raises Invalid.
        assert_eq!(vector(0x4ea0_c820), ([0xffff_ffff, 0xffff_ffff], 1));
        // FCVTZS V0.4S, V1.4S, #8.
        assert_eq!(vector(0x4f38_fc20), ([0xffff_fe00_0000_0100, 0x380], 1));
        // FCVTN2 V0.4S, V1.2D keeps the low half; the high double overflows.
        assert_eq!(vector(0x4e61_6820), ([0x3f80_0000_3f80_0000, 0x7f80_0000_c000_0002], 0x14));
        // FCVTL2 V0.2D, V1.4S.
        assert_eq!(vector(0x4e61_7820), ([0x400c_0000_0000_0000, 0x7ff8_0000_2000_0000], 0));
        // FCVTXN S0, D1 rounds to odd.
        assert_eq!(vector(0x7e61_6820), ([0xc000_0001, 0], 0x10));
        // Half precision: FCVTL V0.4S, V1.4H (a signalling NaN is quietened), and
        // FCVTN V0.4H, V1.4S under FPCR.AHP (no infinity: the largest value, Invalid).
        let mut state = CpuState::default();
        state.v[1] = [0x7d00_7c00_c000_3c00, 0];
        run(&mut state, &[0x0e21_7820]);
        assert_eq!((state.v[0], state.fpsr), ([0xc000_0000_3f80_0000, 0x7fe0_0000_7f80_0000], 1));
        let mut state = CpuState { fpcr: 1 << 26, ..Default::default() };
        state.v[1] = [0xc000_0000_3f80_0000, 0x477f_e000_7f80_0000];
        run(&mut state, &[0x0e21_6820]);
        assert_eq!((state.v[0], state.fpsr), ([0x7bff_7fff_c000_3c00, 0], 1));
    }

    #[test]
    fn bit_moves_are_translated_inline() {
        // FMOV V0.4S, #1.0; FABS V0.2D, V1.2D; FNEG V0.2S, V1.2S.
        assert_eq!(vector(0x4f03_f600), ([0x3f80_0000_3f80_0000; 2], 0));
        assert_eq!(vector(0x4ee0_f820), ([0x4000_0000_3f80_0000, 0x7fc0_0001_4060_0000], 0));
        assert_eq!(vector(0x2ea0_f820), ([0x4000_0000_bf80_0000, 0], 0));
        // FMOV D0, #-2.5; FNEG S0, S1; FABS D0, D1.
        assert_eq!(vector(0x1e70_9000), ([0xc004_0000_0000_0000, 0], 0));
        assert_eq!(vector(0x1e21_4020), ([0xbf80_0000, 0], 0));
        assert_eq!(vector(0x1e60_c020), ([0x4000_0000_3f80_0000, 0], 0));
        let mut state = vector_state();
        state.x[3] = 0x1234_5678_9abc_def0;
        // FMOV V0.D[1], X3; FMOV W4, S1; FMOV X5, V2.D[1]; FMOV D6, X3.
        run(&mut state, &[0x9eaf_0060, 0x1e26_0024, 0x9eae_0045, 0x9e67_0066]);
        assert_eq!(state.v[0], [0x3f80_0000_3f80_0000, 0x1234_5678_9abc_def0]);
        assert_eq!(state.x[4], 0x3f80_0000);
        assert_eq!(state.x[5], 0x3f80_0000_ff80_0000);
        assert_eq!(state.v[6], [0x1234_5678_9abc_def0, 0]);
    }

    #[test]
    fn conditional_select_and_compare_use_nzcv() {
        let mut state = vector_state();
        state.nzcv = 0b0100 << 28; // Z: EQ holds
                                   // FCSEL S3, S1, S2, EQ; FCSEL S4, S1, S2, NE.
        run(&mut state, &[0x1e22_0c23, 0x1e22_1c24]);
        assert_eq!((state.v[3], state.v[4]), ([0x3f80_0000, 0], [0x3f00_0000, 0]));
        // FCCMP S1, S2, #0b1010, NE: the condition fails, NZCV = 1010, no compare.
        run(&mut state, &[0x1e22_142a]);
        assert_eq!(state.nzcv, 0b1010 << 28);
        // FCCMP S1, S2, #0, NE now holds: 1.0 > 0.5.
        run(&mut state, &[0x1e22_1420]);
        assert_eq!(state.nzcv, 0b0010 << 28);
    }

    #[test]
    fn unallocated_and_unimplemented_encodings_are_undefined() {
        for word in [
            0x1ea2_2820u32, // FADD with ftype = 10
            0x1ee2_2820,    // FADD H0, H1, H2 (FP16 not implemented)
            0x0e62_d420,    // FADD with Q = 0 and double lanes
            0x1e62_c020,    // FCVT D0, D1 (same precision)
            0x1e63_4020,    // BFCVT
            0x1e26_c020,    // FRINT with opcode 001101
            0x1e66_0024,    // FMOV W4, D1 (sf/type mismatch)
            0x2f03_f600,    // FMOV (vector, immediate) with op = 1, Q = 0
            0x4fe2_1820,    // FMLA (by element, double) with L set
            0x2e30_c820,    // FMAXNMV with Q = 0
            0x5e61_8820,    // FRINTN has no scalar Advanced SIMD form
        ] {
            assert_undefined(word);
        }
    }

    #[test]
    fn fp_rows_do_not_overlap_the_simd_rows() {
        let overlap = |a: Pattern, b: Pattern| (a.value ^ b.value) & a.mask & b.mask == 0;
        for fp in TABLE {
            for simd in super::super::simd::TABLE {
                assert!(!overlap(fp.pattern, simd.pattern), "{} and {} both match some word", fp.name, simd.name);
            }
        }
    }

    #[test]
    fn every_word_of_every_row_translates_without_panicking() {
        // A deterministic xorshift walk over the operand bits of each row.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for entry in TABLE {
            for _ in 0..400 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let word = entry.pattern.value | (seed as u32 & !entry.pattern.mask);
                assert!(decode::lookup(word).is_some());
                let mut state = CpuState { fpcr: (seed >> 32) as u32 & 0x07c0_0000, ..Default::default() };
                for (i, v) in state.v.iter_mut().enumerate() {
                    *v = [seed.rotate_left(i as u32), seed.rotate_right(i as u32) ^ (i as u64)];
                }
                run(&mut state, &[word]);
            }
        }
    }
}
