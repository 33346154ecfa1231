//! Data processing on registers: add/sub with a shifted or extended register, logical
//! with a shifted register, add/sub with carry, conditional compare and select, and
//! the one-source (bit and byte reversal, counting), two-source (division, variable
//! shifts, CRC32) and three-source (multiply-add, high multiply) groups.
//!
//! The add/sub, logical and shift helpers here are shared with [`super::dp_imm`].

use super::{Ctx, Flow};
use crate::decode::{inst, Entry, Fields};
use archway_ir::{BinOp, Helper, Type, UnOp, Value};

pub const TABLE: &[Entry] = &[
    inst("LOGICAL_shifted", "foo01010hhNmmmmmiiiiiinnnnnddddd", logical_shifted),
    inst("ADDSUB_shifted", "foS01011hh0mmmmmiiiiiinnnnnddddd", add_sub_shifted),
    inst("ADDSUB_extended", "foS01011001mmmmmxxxiiinnnnnddddd", add_sub_extended),
    inst("ADC_SBC", "foS11010000mmmmm000000nnnnnddddd", add_sub_carry),
    inst("CCMN_CCMP", "fo111010010mmmmmccccI0nnnnn0FFFF", cond_compare),
    inst("CSEL_CSINC_CSINV_CSNEG", "fo011010100mmmmmcccc0onnnnnddddd", cond_select),
    inst("DP_1src", "f101101011000000000ooonnnnnddddd", one_source),
    inst("UDIV_SDIV", "f0011010110mmmmm00001onnnnnddddd", divide),
    inst("LSLV_LSRV_ASRV_RORV", "f0011010110mmmmm0010hhnnnnnddddd", shift_variable),
    inst("CRC32_CRC32C", "f0011010110mmmmm010Czznnnnnddddd", crc32),
    inst("MADD_MSUB", "f0011011000mmmmmoaaaaannnnnddddd", multiply_add),
    inst("SMADDL_UMADDL", "10011011U01mmmmmoaaaaannnnnddddd", multiply_add_long),
    inst("SMULH_UMULH", "10011011U10mmmmm0aaaaannnnnddddd", multiply_high),
];

/// The IR type of a 64-bit (`sf`) or 32-bit operation.
fn op_type(sf: bool) -> Type {
    if sf {
        Type::I64
    } else {
        Type::I32
    }
}

/// `v` shifted by the constant `amount` as shift type `kind` says
/// (0 LSL, 1 LSR, 2 ASR, 3 ROR).
pub(super) fn shift_reg(ctx: &mut Ctx, v: Value, kind: u32, amount: u32) -> Value {
    if amount == 0 {
        return v;
    }
    let op = match kind {
        0 => BinOp::Shl,
        1 => BinOp::LShr,
        2 => BinOp::AShr,
        _ => BinOp::RotR,
    };
    let k = ctx.b.konst(ctx.b.ty(v), amount as u64);
    ctx.b.bin(op, v, k)
}

/// Register `m` extended as `option` says (UXTB, UXTH, UXTW, UXTX, SXTB, SXTH, SXTW,
/// SXTX) to the operation width, then shifted left by `shift` (0..=4).
fn extend_reg(ctx: &mut Ctx, sf: bool, m: u32, option: u32, shift: u32) -> Value {
    let from = match option & 3 {
        0 => Type::I8,
        1 => Type::I16,
        2 => Type::I32,
        _ => Type::I64,
    };
    let x = ctx.x(m);
    let narrow = ctx.b.zext_or_trunc(from, x);
    let extended = if option & 4 != 0 {
        ctx.b.sext_or_trunc(op_type(sf), narrow)
    } else {
        ctx.b.zext_or_trunc(op_type(sf), narrow)
    };
    shift_reg(ctx, extended, 0, shift)
}

/// ADD, ADDS, SUB, SUBS of `a` and `b` written to `rd`, which is SP for register 31
/// unless the flags are set (the immediate and extended forms).
pub(super) fn add_sub_to_rd_or_sp(ctx: &mut Ctx, rd: u32, sub: bool, set_flags: bool, a: Value, b: Value) -> Flow {
    let result = add_sub(ctx, a, b, sub, set_flags);
    if set_flags {
        ctx.set_x(rd, result);
    } else {
        ctx.set_x_or_sp(rd, result);
    }
    Flow::Continue
}

/// `a + b` or `a - b`; sets NZCV when `set_flags` (SUBS flags come from `SubFlags`).
pub(super) fn add_sub(ctx: &mut Ctx, a: Value, b: Value, sub: bool, set_flags: bool) -> Value {
    if set_flags {
        let flags = if sub {
            ctx.b.sub_flags(a, b)
        } else {
            let no_carry = ctx.b.konst(Type::I1, 0);
            ctx.b.add_flags(a, b, no_carry)
        };
        ctx.set_nzcv(flags);
    }
    ctx.b.bin(if sub { BinOp::Sub } else { BinOp::Add }, a, b)
}

/// `a + b + C` (ADC; SBC passes `!b`); sets NZCV when `set_flags`.
fn add_with_carry(ctx: &mut Ctx, a: Value, b: Value, set_flags: bool) -> Value {
    let carry = ctx.carry();
    if set_flags {
        let flags = ctx.b.add_flags(a, b, carry);
        ctx.set_nzcv(flags);
    }
    let sum = ctx.b.bin(BinOp::Add, a, b);
    let carry = ctx.b.zext_or_trunc(ctx.b.ty(a), carry);
    ctx.b.bin(BinOp::Add, sum, carry)
}

/// The logical operation `opc` (0 AND, 1 ORR, 2 EOR, 3 ANDS) of `a` and `b`, or of `a`
/// and `!b` when `invert` (BIC, ORN, EON, BICS). ANDS and BICS set NZCV.
pub(super) fn logical(ctx: &mut Ctx, opc: u32, a: Value, b: Value, invert: bool) -> Value {
    let op = match opc {
        1 => BinOp::Or,
        2 => BinOp::Xor,
        _ if invert => BinOp::AndNot,
        _ => BinOp::And,
    };
    let b = if invert && op != BinOp::AndNot { ctx.b.un(UnOp::Not, b) } else { b };
    let result = ctx.b.bin(op, a, b);
    if opc == 3 {
        let flags = ctx.b.logic_flags(result);
        ctx.set_nzcv(flags);
    }
    result
}

/// AND, BIC, ORR, ORN, EOR, EON, ANDS, BICS (shifted register).
fn logical_shifted(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let amount = f.get('i');
    if !sf && amount >= 32 {
        return Flow::Undefined;
    }
    let a = ctx.reg(sf, f.reg('n'));
    let m = ctx.reg(sf, f.reg('m'));
    let b = shift_reg(ctx, m, f.get('h'), amount);
    let result = logical(ctx, f.get('o'), a, b, f.bit('N'));
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// ADD, ADDS, SUB, SUBS (shifted register; register 31 is the zero register).
fn add_sub_shifted(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let kind = f.get('h');
    let amount = f.get('i');
    if kind == 3 || (!sf && amount >= 32) {
        return Flow::Undefined;
    }
    let a = ctx.reg(sf, f.reg('n'));
    let m = ctx.reg(sf, f.reg('m'));
    let b = shift_reg(ctx, m, kind, amount);
    let result = add_sub(ctx, a, b, f.bit('o'), f.bit('S'));
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// ADD, ADDS, SUB, SUBS (extended register; Rn is SP-capable, and so is Rd unless
/// the flags are set).
fn add_sub_extended(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let shift = f.get('i');
    if shift > 4 {
        return Flow::Undefined;
    }
    let a = ctx.reg_or_sp(sf, f.reg('n'));
    let b = extend_reg(ctx, sf, f.reg('m'), f.get('x'), shift);
    add_sub_to_rd_or_sp(ctx, f.reg('d'), f.bit('o'), f.bit('S'), a, b)
}

/// ADC, ADCS, SBC, SBCS.
fn add_sub_carry(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let a = ctx.reg(sf, f.reg('n'));
    let m = ctx.reg(sf, f.reg('m'));
    let b = if f.bit('o') { ctx.b.un(UnOp::Not, m) } else { m };
    let result = add_with_carry(ctx, a, b, f.bit('S'));
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// CCMN, CCMP (register or 5-bit immediate): the compare's flags if the condition
/// holds, else the instruction's `nzcv` immediate.
fn cond_compare(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let a = ctx.reg(sf, f.reg('n'));
    // The immediate form keeps its 5-bit immediate in the Rm field.
    let b = if f.bit('I') { ctx.k(sf, u64::from(f.get('m'))) } else { ctx.reg(sf, f.reg('m')) };
    let nzcv = ctx.nzcv();
    let holds = ctx.b.cond_holds(f.get('c') as u8, nzcv);
    let compared = if f.bit('o') {
        ctx.b.sub_flags(a, b)
    } else {
        let no_carry = ctx.b.konst(Type::I1, 0);
        ctx.b.add_flags(a, b, no_carry)
    };
    let otherwise = ctx.b.konst(Type::I32, u64::from(f.get('F')) << 28);
    let flags = ctx.b.select(holds, compared, otherwise);
    ctx.set_nzcv(flags);
    Flow::Continue
}

/// CSEL, CSINC, CSINV, CSNEG (and their aliases CSET, CSETM, CINC, CINV, CNEG).
fn cond_select(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let n = ctx.reg(sf, f.reg('n'));
    let m = ctx.reg(sf, f.reg('m'));
    // By op:o2.
    let otherwise = match f.get('o') {
        0 => m,
        1 => {
            let one = ctx.k(sf, 1);
            ctx.b.bin(BinOp::Add, m, one)
        }
        2 => ctx.b.un(UnOp::Not, m),
        _ => ctx.b.un(UnOp::Neg, m),
    };
    let nzcv = ctx.nzcv();
    let holds = ctx.b.cond_holds(f.get('c') as u8, nzcv);
    let result = ctx.b.select(holds, n, otherwise);
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// RBIT, REV16, REV32, REV, CLZ, CLS.
fn one_source(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let opcode = f.get('o');
    if opcode > 5 || (opcode == 3 && !sf) {
        return Flow::Undefined;
    }
    let v = ctx.reg(sf, f.reg('n'));
    let result = match opcode {
        0 => ctx.b.un(UnOp::Rbit, v),
        1 => reverse_bytes_in_halfwords(ctx, sf, v),
        2 if sf => {
            // REV32: byte-reverse each word = reverse all eight bytes, swap the words.
            let swapped = ctx.b.un(UnOp::Bswap, v);
            shift_reg(ctx, swapped, 3, 32)
        }
        2 | 3 => ctx.b.un(UnOp::Bswap, v),
        4 => ctx.b.un(UnOp::Clz, v),
        _ => ctx.b.un(UnOp::Cls, v),
    };
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// REV16: swap the bytes of each halfword.
fn reverse_bytes_in_halfwords(ctx: &mut Ctx, sf: bool, v: Value) -> Value {
    let low_bytes = ctx.k(sf, 0x00ff_00ff_00ff_00ff);
    let high = shift_reg(ctx, v, 1, 8);
    let high = ctx.b.bin(BinOp::And, high, low_bytes);
    let low = ctx.b.bin(BinOp::And, v, low_bytes);
    let low = shift_reg(ctx, low, 0, 8);
    ctx.b.bin(BinOp::Or, high, low)
}

/// UDIV, SDIV (the IR ops already give AArch64's x/0 = 0 and MIN/-1 = MIN).
fn divide(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let n = ctx.reg(sf, f.reg('n'));
    let m = ctx.reg(sf, f.reg('m'));
    let op = if f.bit('o') { BinOp::SDiv } else { BinOp::UDiv };
    let result = ctx.b.bin(op, n, m);
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// LSLV, LSRV, ASRV, RORV (the IR takes shift amounts modulo the width, as these do).
fn shift_variable(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let n = ctx.reg(sf, f.reg('n'));
    let m = ctx.reg(sf, f.reg('m'));
    let op = [BinOp::Shl, BinOp::LShr, BinOp::AShr, BinOp::RotR][f.get('h') as usize];
    let result = ctx.b.bin(op, n, m);
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// CRC32B/H/W/X and CRC32CB/H/W/X: `Wd = crc(Wn, Rm<size>)`, through a helper.
fn crc32(ctx: &mut Ctx, f: Fields) -> Flow {
    let size = f.get('z');
    if (size == 3) != f.bit('f') {
        return Flow::Undefined;
    }
    let helper = if f.bit('C') { &CRC32C } else { &CRC32 };
    let acc = ctx.x(f.reg('n'));
    let data = ctx.x(f.reg('m'));
    let bytes = ctx.k64(1 << size);
    let result = ctx.b.call(helper, &[acc, data, bytes]);
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// MADD, MSUB (MUL and MNEG are the aliases with Ra = ZR).
fn multiply_add(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let n = ctx.reg(sf, f.reg('n'));
    let m = ctx.reg(sf, f.reg('m'));
    let a = ctx.reg(sf, f.reg('a'));
    let product = ctx.b.bin(BinOp::Mul, n, m);
    let op = if f.bit('o') { BinOp::Sub } else { BinOp::Add };
    let result = ctx.b.bin(op, a, product);
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// SMADDL, SMSUBL, UMADDL, UMSUBL: `Xd = Xa +/- Wn * Wm` at 64 bits.
fn multiply_add_long(ctx: &mut Ctx, f: Fields) -> Flow {
    let unsigned = f.bit('U');
    let widen = |ctx: &mut Ctx, r: u32| {
        let w = ctx.w(r);
        if unsigned {
            ctx.b.zext_or_trunc(Type::I64, w)
        } else {
            ctx.b.sext_or_trunc(Type::I64, w)
        }
    };
    let n = widen(ctx, f.reg('n'));
    let m = widen(ctx, f.reg('m'));
    let a = ctx.x(f.reg('a'));
    let product = ctx.b.bin(BinOp::Mul, n, m);
    let op = if f.bit('o') { BinOp::Sub } else { BinOp::Add };
    let result = ctx.b.bin(op, a, product);
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// SMULH, UMULH: the high 64 bits of the 128-bit product.
fn multiply_high(ctx: &mut Ctx, f: Fields) -> Flow {
    let n = ctx.x(f.reg('n'));
    let m = ctx.x(f.reg('m'));
    let op = if f.bit('U') { BinOp::UMulHi } else { BinOp::SMulHi };
    let result = ctx.b.bin(op, n, m);
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// Byte-at-a-time table for a bit-reflected CRC-32 whose reflected polynomial is `poly`.
const fn crc_table(poly: u32) -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ poly } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// CRC-32 (ISO-HDLC, polynomial 0x04C11DB7, reflected 0xEDB88320).
static CRC32_TABLE: [u32; 256] = crc_table(0xedb8_8320);
/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78).
static CRC32C_TABLE: [u32; 256] = crc_table(0x82f6_3b78);

/// Feed the low `bytes` bytes of `data`, least significant first, into the CRC `acc`.
/// No inversion before or after: the instructions leave that to software.
fn crc_update(table: &[u32; 256], acc: u64, data: u64, bytes: u64) -> u64 {
    let crc = data
        .to_le_bytes()
        .iter()
        .take(bytes as usize)
        .fold(acc as u32, |crc, &byte| table[((crc as u8) ^ byte) as usize] ^ (crc >> 8));
    crc as u64
}

extern "C" fn crc32_helper(_state: *mut u8, acc: u64, data: u64, bytes: u64, _: u64) -> u64 {
    crc_update(&CRC32_TABLE, acc, data, bytes)
}

extern "C" fn crc32c_helper(_state: *mut u8, acc: u64, data: u64, bytes: u64, _: u64) -> u64 {
    crc_update(&CRC32C_TABLE, acc, data, bytes)
}

/// `crc32(acc, data, bytes)`: the CRC32 instructions' update.
static CRC32: Helper = Helper { name: "crc32", func: crc32_helper, reads_state: false, writes_state: false };
/// `crc32c(acc, data, bytes)`: the CRC32C instructions' update.
static CRC32C: Helper = Helper { name: "crc32c", func: crc32c_helper, reads_state: false, writes_state: false };

#[cfg(test)]
mod tests {
    use super::super::dp_imm::tests::{assert_undefined, run, run_x};
    use crate::CpuState;

    const MAX: u64 = u64::MAX;
    const I64_MIN: u64 = 1 << 63;

    /// Run `words` with X registers `x` and flags `nzcv`.
    fn run_flags(nzcv: u32, x: &[u64], words: &[u32]) -> CpuState {
        let mut state = CpuState { nzcv, ..Default::default() };
        state.x[..x.len()].copy_from_slice(x);
        run(&mut state, words);
        state
    }

    /// `(X0, NZCV)` after one instruction on X1, X2 with flags `nzcv`.
    fn flags_of(word: u32, nzcv: u32, x1: u64, x2: u64) -> (u64, u32) {
        let s = run_flags(nzcv, &[0, x1, x2], &[word]);
        (s.x[0], s.nzcv)
    }

    #[test]
    fn add_sub_flags_at_overflow_boundaries() {
        let (adds_x, adds_w, subs_x) = (0xab020020, 0x2b020020, 0xeb020020);
        assert_eq!(flags_of(adds_x, 0, MAX >> 1, 1), (I64_MIN, 0x9000_0000));
        assert_eq!(flags_of(adds_w, 0, 0xffff_ffff, 1), (0, 0x6000_0000));
        assert_eq!(flags_of(adds_w, 0, 0x7fff_ffff, 1), (0x8000_0000, 0x9000_0000));
        assert_eq!(flags_of(subs_x, 0, I64_MIN, 1), (MAX >> 1, 0x3000_0000));
        assert_eq!(flags_of(subs_x, 0, 0, 1), (MAX, 0x8000_0000));
        assert_eq!(flags_of(subs_x, 0, 5, 5), (0, 0x6000_0000));
    }

    #[test]
    fn add_sub_with_carry() {
        let (adcs_x, sbcs_x, adcs_w, sbcs_w) = (0xba020020, 0xfa020020, 0x3a020020, 0x7a020020);
        let c = 0x2000_0000;
        assert_eq!(flags_of(adcs_x, c, MAX, 0), (0, 0x6000_0000));
        assert_eq!(flags_of(adcs_x, c, MAX >> 1, 0), (I64_MIN, 0x9000_0000));
        assert_eq!(flags_of(adcs_x, 0, 1, 2), (3, 0));
        assert_eq!(flags_of(sbcs_x, 0, 5, 3), (1, 0x2000_0000));
        assert_eq!(flags_of(sbcs_x, 0, 0, 0), (MAX, 0x8000_0000));
        assert_eq!(flags_of(sbcs_x, c, 0, 0), (0, 0x6000_0000));
        assert_eq!(flags_of(adcs_w, c, 0x7fff_ffff, 0), (0x8000_0000, 0x9000_0000));
        assert_eq!(flags_of(sbcs_w, 0, 0x8000_0000, 1), (0x7fff_fffe, 0x3000_0000));
        // adc x3, x1, x2; sbc w3, w1, w2 leave the flags alone.
        let s = run_flags(c, &[0, 10, 20], &[0x9a020023]);
        assert_eq!((s.x[3], s.nzcv), (31, c));
        let s = run_flags(0, &[0, 10, 20], &[0x5a020023]);
        assert_eq!((s.x[3], s.nzcv), (0xffff_fff5, 0));
    }

    #[test]
    fn add_sub_shifted_register() {
        let s = run_x(&[0, 1, 2], &[0x8b020c20]); // add x0, x1, x2, lsl #3
        assert_eq!(s.x[0], 17);
        let s = run_x(&[0, 5, 0x8000_0000], &[0x4b827c20]); // sub w0, w1, w2, asr #31
        assert_eq!(s.x[0], 6);
        assert_undefined(0x8bc20c20); // shift type ROR
        assert_undefined(0x0b028020); // 32-bit shift by 32
    }

    #[test]
    fn add_sub_extended_register() {
        let mut s = CpuState { sp: 0x1000, ..Default::default() };
        s.x[1] = 0xffff_ffff_0000_0004;
        run(&mut s, &[0x8b214be0]); // add x0, sp, w1, uxtw #2
        assert_eq!(s.x[0], 0x1010);
        let s = run_x(&[0, 0, 0x80], &[0xcb229020]); // sub x0, x1, w2, sxtb #4
        assert_eq!(s.x[0], 2048);
        let s = run_x(&[0, MAX, 0xffff_ffff], &[0xeb22c03f]); // cmp x1, w2, sxtw
        assert_eq!(s.nzcv, 0x6000_0000);
        let s = run_x(&[0, 1, 0x8000], &[0x0b22a020]); // add w0, w1, w2, sxth
        assert_eq!(s.x[0], 0xffff_8001);
        assert_undefined(0x8b2157e0); // shift of 5
    }

    #[test]
    fn logical_shifted_register() {
        let (x1, x2) = (0xff00_ff00_ff00_ff00, 0x0ff0_0ff0_0ff0_0ff0);
        let s = run_x(&[0, x1, x2], &[0x8a220020]); // bic x0, x1, x2
        assert_eq!(s.x[0], x1 & !x2);
        let s = run_x(&[0, x1, x2], &[0x2ae21020]); // orn w0, w1, w2, ror #4
        assert_eq!(s.x[0], (x1 as u32 | !(x2 as u32).rotate_right(4)) as u64);
        let s = run_x(&[0, x1, x2], &[0xca62f020]); // eon x0, x1, x2, lsr #60
        assert_eq!(s.x[0], x1 ^ !(x2 >> 60));
        let s = run_flags(0x3000_0000, &[0, x1, MAX], &[0x6a220020]); // bics w0, w1, w2
        assert_eq!((s.x[0], s.nzcv), (0, 0x4000_0000));
        let s = run_x(&[0, x1], &[0xaa2103e0]); // mvn x0, x1
        assert_eq!(s.x[0], !x1);
        let s = run_x(&[0, MAX, I64_MIN >> 1], &[0xea02043f]); // tst x1, x2, lsl #1
        assert_eq!(s.nzcv, 0x8000_0000);
        assert_undefined(0x0a028020); // 32-bit shift by 32
    }

    #[test]
    fn conditional_compare() {
        let (ccmp_ne, ccmp_imm_eq, ccmn_imm_al) = (0xfa421025, 0xfa430820, 0x3a41e822);
        assert_eq!(run_flags(0x4000_0000, &[0, 7, 7], &[ccmp_ne]).nzcv, 0x5000_0000);
        assert_eq!(run_flags(0, &[0, 7, 7], &[ccmp_ne]).nzcv, 0x6000_0000);
        assert_eq!(run_flags(0x4000_0000, &[0, 3], &[ccmp_imm_eq]).nzcv, 0x6000_0000);
        assert_eq!(run_flags(0x2000_0000, &[0, 3], &[ccmp_imm_eq]).nzcv, 0);
        assert_eq!(run_flags(0, &[0, 0xffff_ffff], &[ccmn_imm_al]).nzcv, 0x6000_0000);
    }

    #[test]
    fn conditional_select() {
        let z = 0x4000_0000;
        let x = [0, 11, MAX];
        assert_eq!(run_flags(z, &x, &[0x9a820020]).x[0], 11); // csel x0, x1, x2, eq
        assert_eq!(run_flags(0, &x, &[0x9a820020]).x[0], MAX);
        assert_eq!(run_flags(z, &x, &[0x1a821420]).x[0], 0); // csinc w0, w1, w2, ne
        assert_eq!(run_flags(z, &x, &[0xda821020]).x[0], 0); // csinv x0, x1, x2, ne
        assert_eq!(run_flags(z, &x, &[0xda821420]).x[0], 1); // csneg x0, x1, x2, ne
        assert_eq!(run_flags(0, &x, &[0xda821420]).x[0], 11);
        assert_eq!(run_flags(z, &x, &[0x1a9f17e0]).x[0], 1); // cset w0, eq
    }

    #[test]
    fn one_source() {
        let v = 0x0011_2233_4455_6677;
        let one = |word, x1| run_x(&[0, x1], &[word]).x[0];
        assert_eq!(one(0x5ac00020, 0xffff_ffff_0000_0001), 0x8000_0000); // rbit w0, w1
        assert_eq!(one(0xdac00420, v), 0x1100_3322_5544_7766); // rev16 x0, x1
        assert_eq!(one(0x5ac00420, v), 0x5544_7766); // rev16 w0, w1
        assert_eq!(one(0xdac00820, v), 0x3322_1100_7766_5544); // rev32 x0, x1
        assert_eq!(one(0x5ac00820, v), 0x7766_5544); // rev w0, w1
        assert_eq!(one(0xdac00c20, v), 0x7766_5544_3322_1100); // rev x0, x1
        assert_eq!(one(0xdac01020, 0), 64); // clz x0, x1
        assert_eq!(one(0x5ac01020, 0xffff), 16); // clz w0, w1
        let cls_x = 0xdac01420;
        assert_eq!(one(cls_x, 0), 63);
        assert_eq!(one(cls_x, MAX), 63);
        assert_eq!(one(cls_x, MAX >> 1), 0);
        assert_eq!(one(cls_x, 0xc000_0000_0000_0000), 1);
        assert_eq!(one(0x5ac01420, 0xffff_ffff_0000_ffff), 15); // cls w0, w1
        assert_undefined(0x5ac00c20); // rev with sf = 0 and opc = 11
        assert_undefined(0xdac01820); // opcode 6 (CTZ, FEAT_CSSC) is not implemented
    }

    #[test]
    fn divide_follows_aarch64_corner_cases() {
        let two = |word, x1, x2| run_x(&[0, x1, x2], &[word]).x[0];
        assert_eq!(two(0x9ac20820, 7, 0), 0); // udiv x0, x1, x2
        assert_eq!(two(0x9ac20c20, I64_MIN, MAX), I64_MIN); // sdiv x0, x1, x2
        assert_eq!(two(0x9ac20c20, -7i64 as u64, 2), -3i64 as u64);
        assert_eq!(two(0x9ac20c20, 7, 0), 0);
        assert_eq!(two(0x1ac20c20, 0x8000_0000, 0xffff_ffff), 0x8000_0000); // sdiv w0, w1, w2
        assert_eq!(two(0x1ac20820, 0x1_0000_0007, 0x1_0000_0002), 3); // udiv w0, w1, w2
    }

    #[test]
    fn variable_shifts_take_the_amount_modulo_the_width() {
        let two = |word, x1, x2| run_x(&[0, x1, x2], &[word]).x[0];
        assert_eq!(two(0x9ac22020, 3, 65), 6); // lslv x0, x1, x2
        assert_eq!(two(0x1ac22420, 0x8000_0000, 33), 0x4000_0000); // lsrv w0, w1, w2
        assert_eq!(two(0x9ac22820, I64_MIN, 127), MAX); // asrv x0, x1, x2
        assert_eq!(two(0x1ac22c20, 0x1234_5678, 4), 0x8123_4567); // rorv w0, w1, w2
    }

    #[test]
    fn crc32_of_the_check_string() {
        let (head, tail) = (u64::from_le_bytes(*b"12345678"), b'9' as u64);
        // mov w0, #-1; crc32x w0, w0, x1; crc32b w0, w0, w2; mvn w0, w0
        let s = run_x(&[0, head, tail], &[0x12800000, 0x9ac14c00, 0x1ac24000, 0x2a2003e0]);
        assert_eq!(s.x[0], 0xcbf4_3926);
        // The same through crc32w, crc32h, crc32h, crc32b.
        let (w, h1, h2) = (head & 0xffff_ffff, (head >> 32) & 0xffff, head >> 48);
        let words = [0x12800000, 0x1ac14800, 0x1ac24400, 0x1ac34400, 0x1ac44000, 0x2a2003e0];
        assert_eq!(run_x(&[0, w, h1, h2, tail], &words).x[0], 0xcbf4_3926);
        // CRC32C: crc32cw, crc32ch, crc32ch, crc32cb.
        let words = [0x12800000, 0x1ac15800, 0x1ac25400, 0x1ac35400, 0x1ac45000, 0x2a2003e0];
        assert_eq!(run_x(&[0, w, h1, h2, tail], &words).x[0], 0xe306_9283);
        assert_undefined(0x1ac14c00); // crc32x with sf = 0
        assert_undefined(0x9ac14800); // crc32w with sf = 1
    }

    #[test]
    fn multiply() {
        let x = [0, 5, 7, 3];
        assert_eq!(run_x(&x, &[0x9b020c20]).x[0], 38); // madd x0, x1, x2, x3
        assert_eq!(run_x(&[0, 3, 4, 10], &[0x1b028c20]).x[0], 0xffff_fffe); // msub w0, w1, w2, w3
        let x = [0, 0x1234_5678_ffff_fffe, 0xffff_0000_0000_0003, 100];
        assert_eq!(run_x(&x, &[0x9b220c20]).x[0], 94); // smaddl x0, w1, w2, x3
        let product = 0xffff_fffe_u64 * 3;
        assert_eq!(run_x(&x, &[0x9ba28c20]).x[0], 100u64.wrapping_sub(product)); // umsubl
        assert_eq!(run_x(&[0, MAX, 1], &[0x9b427c20]).x[0], MAX); // smulh x0, x1, x2
        assert_eq!(run_x(&[0, MAX, MAX], &[0x9bc27c20]).x[0], MAX - 1); // umulh x0, x1, x2
    }
}
