//! Data processing with immediates: PC-relative addresses (ADR, ADRP), add/sub
//! immediate, logical immediate (bitmask immediates), move wide (MOVN, MOVZ, MOVK),
//! bitfield (SBFM, BFM, UBFM and all their aliases: LSL/LSR/ASR, SXT*/UXT*, BFI,
//! BFXIL, SBFX, UBFX, SBFIZ, UBFIZ) and extract (EXTR, ROR immediate).

use super::dp_reg::{add_sub_to_rd_or_sp, logical, shift_reg};
use super::{Ctx, Flow};
use crate::decode::{inst, Entry, Fields};
use archway_ir::{BinOp, Value};

pub const TABLE: &[Entry] = &[
    inst("ADR_ADRP", "ojj10000iiiiiiiiiiiiiiiiiiiddddd", pc_relative),
    inst("ADDSUB_imm", "foS100010hiiiiiiiiiiiinnnnnddddd", add_sub_imm),
    inst("LOGICAL_imm", "foo100100Nrrrrrrwwwwwwnnnnnddddd", logical_imm),
    inst("MOVN_MOVZ_MOVK", "foo100101hhiiiiiiiiiiiiiiiiddddd", move_wide),
    inst("SBFM_BFM_UBFM", "foo100110Nrrrrrrwwwwwwnnnnnddddd", bitfield),
    inst("EXTR", "f00100111N0mmmmmiiiiiinnnnnddddd", extract),
];

/// ADR (`pc + imm21`) and ADRP (`(pc & !0xfff) + (imm21 << 12)`).
fn pc_relative(ctx: &mut Ctx, f: Fields) -> Flow {
    // imm = immhi:immlo, signed.
    let offset = (f.signed('i') << 2) | i64::from(f.get('j'));
    let address = if f.bit('o') {
        (ctx.pc & !0xfff).wrapping_add((offset << 12) as u64)
    } else {
        ctx.pc.wrapping_add(offset as u64)
    };
    let value = ctx.k64(address);
    ctx.set_x(f.reg('d'), value);
    Flow::Continue
}

/// ADD, ADDS, SUB, SUBS with a 12-bit immediate, optionally shifted left by 12.
/// Rn is SP-capable, and so is Rd unless the flags are set (CMP, CMN).
fn add_sub_imm(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let shift = if f.bit('h') { 12 } else { 0 };
    let a = ctx.reg_or_sp(sf, f.reg('n'));
    let b = ctx.k(sf, u64::from(f.get('i')) << shift);
    add_sub_to_rd_or_sp(ctx, f.reg('d'), f.bit('o'), f.bit('S'), a, b)
}

/// AND, ORR, EOR, ANDS with a bitmask immediate (Rd is SP-capable except for ANDS).
fn logical_imm(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let n = f.bit('N');
    if !sf && n {
        return Flow::Undefined;
    }
    let datasize = if sf { 64 } else { 32 };
    let Some((imm, _)) = decode_bit_masks(n, f.get('w'), f.get('r'), true, datasize) else {
        return Flow::Undefined;
    };
    let opc = f.get('o');
    let a = ctx.reg(sf, f.reg('n'));
    let b = ctx.k(sf, imm);
    let result = logical(ctx, opc, a, b, false);
    if opc == 3 {
        ctx.set_x(f.reg('d'), result);
    } else {
        ctx.set_x_or_sp(f.reg('d'), result);
    }
    Flow::Continue
}

/// MOVN, MOVZ, MOVK: a 16-bit immediate at bit `hw * 16`.
fn move_wide(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let opc = f.get('o');
    let hw = f.get('h');
    if opc == 1 || (!sf && hw >= 2) {
        return Flow::Undefined;
    }
    let shift = hw * 16;
    let imm = u64::from(f.get('i')) << shift;
    let result = match opc {
        0 => ctx.k(sf, !imm),
        2 => ctx.k(sf, imm),
        _ => {
            let old = ctx.reg(sf, f.reg('d'));
            let keep = ctx.k(sf, !(0xffff << shift));
            let kept = ctx.b.bin(BinOp::And, old, keep);
            let imm = ctx.k(sf, imm);
            ctx.b.bin(BinOp::Or, kept, imm)
        }
    };
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// SBFM, BFM, UBFM with rotate `immr` and field top bit `imms`.
///
/// SBFM and UBFM move a field with two shifts: when `imms >= immr` the field is
/// `src<imms:immr>` brought down to bit 0 (SBFX, UBFX, ASR, LSR, SXT*, UXT*); otherwise
/// `src<imms:0>` goes up to bit `datasize - immr` (SBFIZ, UBFIZ, LSL). BFM inserts
/// the rotated source under the mask `DecodeBitMasks` gives.
fn bitfield(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let opc = f.get('o');
    let n = f.bit('N');
    let (immr, imms) = (f.get('r'), f.get('w'));
    let datasize = if sf { 64 } else { 32 };
    if opc == 3 || n != sf || immr >= datasize || imms >= datasize {
        return Flow::Undefined;
    }
    let src = ctx.reg(sf, f.reg('n'));
    let result = if opc == 1 {
        let Some((wmask, tmask)) = decode_bit_masks(n, imms, immr, false, datasize) else {
            return Flow::Undefined;
        };
        let dst = ctx.reg(sf, f.reg('d'));
        insert_bits(ctx, sf, dst, src, immr, wmask & tmask)
    } else {
        let to_top = datasize - 1 - imms;
        let down = if imms >= immr { to_top + immr } else { immr - 1 - imms };
        let at_top = shift_reg(ctx, src, 0, to_top);
        shift_reg(ctx, at_top, if opc == 0 { 2 } else { 1 }, down)
    };
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// BFM's result: `dst` with the bits of `mask` replaced by those of `ROR(src, rotate)`.
fn insert_bits(ctx: &mut Ctx, sf: bool, dst: Value, src: Value, rotate: u32, mask: u64) -> Value {
    let rotated = shift_reg(ctx, src, 3, rotate);
    let mask = ctx.k(sf, mask);
    let inserted = ctx.b.bin(BinOp::And, rotated, mask);
    let kept = ctx.b.bin(BinOp::AndNot, dst, mask);
    ctx.b.bin(BinOp::Or, kept, inserted)
}

/// EXTR: bits `lsb + datasize - 1 .. lsb` of the concatenation `Rn:Rm` (ROR when Rn = Rm).
fn extract(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let lsb = f.get('i');
    let datasize = if sf { 64 } else { 32 };
    if f.bit('N') != sf || lsb >= datasize {
        return Flow::Undefined;
    }
    let (rn, rm) = (f.reg('n'), f.reg('m'));
    let low = ctx.reg(sf, rm);
    let result = if rn == rm {
        shift_reg(ctx, low, 3, lsb)
    } else if lsb == 0 {
        low
    } else {
        let high = ctx.reg(sf, rn);
        let low = shift_reg(ctx, low, 1, lsb);
        let high = shift_reg(ctx, high, 0, datasize - lsb);
        ctx.b.bin(BinOp::Or, high, low)
    };
    ctx.set_x(f.reg('d'), result);
    Flow::Continue
}

/// A value with the low `n` bits set (`n <= 64`).
const fn ones(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

/// Rotate the `esize`-bit element `elem` right by `r` (< `esize`).
const fn rotate_element(elem: u64, r: u32, esize: u32) -> u64 {
    if r == 0 {
        elem
    } else {
        ((elem >> r) | (elem << (esize - r))) & ones(esize)
    }
}

/// The `esize`-bit element `elem` repeated to fill `datasize` bits.
const fn replicate(elem: u64, esize: u32, datasize: u32) -> u64 {
    let mut value = 0;
    let mut at = 0;
    while at < datasize {
        value |= elem << at;
        at += esize;
    }
    value
}

/// The Arm ARM's `DecodeBitMasks(N, imms, immr, immediate, datasize)`: the `wmask` and
/// `tmask` of a bitmask immediate or bitfield operation, or `None` for a reserved
/// encoding (no element size, an element size above `datasize`, or, for immediates,
/// an all-ones element).
pub(super) const fn decode_bit_masks(
    n: bool,
    imms: u32,
    immr: u32,
    immediate: bool,
    datasize: u32,
) -> Option<(u64, u64)> {
    let combined = ((n as u32) << 6) | (!imms & 0x3f);
    if combined < 2 {
        return None;
    }
    let len = 31 - combined.leading_zeros();
    let esize = 1 << len;
    let levels = esize - 1;
    if esize > datasize || (immediate && imms & levels == levels) {
        return None;
    }
    let s = imms & levels;
    let r = immr & levels;
    let d = s.wrapping_sub(r) & levels;
    let wmask = replicate(rotate_element(ones(s + 1), r, esize), esize, datasize);
    let tmask = replicate(ones(d + 1), esize, datasize);
    Some((wmask, tmask))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::translate::{translate_block, SIGILL};
    use crate::CpuState;
    use archway_ir::interp::{run_block, BlockExit};
    use archway_ir::Block;

    /// Where test code pretends to live.
    pub(in crate::translate) const PC: u64 = 0x40_1000;

    /// Translate `words` (placed at [`PC`]) as one block, verify it and run it in the
    /// reference interpreter on `state`.
    pub(in crate::translate) fn run(state: &mut CpuState, words: &[u32]) -> BlockExit {
        let block = block_of(words);
        // SAFETY: `state` is a live CpuState; the blocks touch only test memory.
        unsafe { run_block(&block, state.as_mut_ptr()) }
    }

    /// The verified block `words` (placed at [`PC`]) translate to.
    pub(in crate::translate) fn block_of(words: &[u32]) -> Block {
        let fetch = |pc: u64| words.get((pc.checked_sub(PC)? / 4) as usize).copied();
        let block = translate_block(PC, &fetch);
        if let Err(e) = archway_ir::verify::verify(&block) {
            panic!("{e:?} in {block:?}");
        }
        block
    }

    /// Run `words` from a state whose X registers are `x` (in order from X0).
    pub(in crate::translate) fn run_x(x: &[u64], words: &[u32]) -> CpuState {
        let mut state = CpuState::default();
        state.x[..x.len()].copy_from_slice(x);
        run(&mut state, words);
        state
    }

    /// Assert that the single instruction `word` is undefined (SIGILL).
    pub(in crate::translate) fn assert_undefined(word: u32) {
        let exit = run(&mut CpuState::default(), &[word]);
        assert_eq!(exit, BlockExit::Trap { signal: SIGILL, pc: PC }, "{word:#010x}");
    }

    #[test]
    fn every_pattern_translates_to_verified_ir() {
        let tables = [TABLE, super::super::dp_reg::TABLE, super::super::branch::TABLE];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for entry in tables.into_iter().flatten() {
            for _ in 0..2000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let word = entry.pattern.value | (seed as u32 & !entry.pattern.mask);
                block_of(&[word]);
            }
        }
    }

    #[test]
    fn adr_and_adrp_are_pc_relative() {
        let s = run_x(&[], &[0xd503201f, 0x10ffffe0, 0xb0000001]); // nop; adr x0, .-4; adrp x1, .+4096
        assert_eq!(s.x[0], PC);
        assert_eq!(s.x[1], (PC & !0xfff) + 0x1000);
    }

    #[test]
    fn add_sub_immediate_with_sp_shift_and_flags() {
        let mut s = CpuState { sp: 0x7000, ..Default::default() };
        run(&mut s, &[0x910043ff, 0x914007e0]); // add sp, sp, #16; add x0, sp, #1, lsl #12
        assert_eq!((s.sp, s.x[0]), (0x7010, 0x8010));

        let s = run_x(&[0; 5], &[0x71000483]); // subs w3, w4, #1
        assert_eq!((s.x[3], s.nzcv), (0xffff_ffff, 0x8000_0000));
        let s = run_x(&[0, 0], &[0xf100003f]); // cmp x1, #0
        assert_eq!(s.nzcv, 0x6000_0000);
        let s = run_x(&[0xffff_ffff], &[0x3100041f]); // cmn w0, #1
        assert_eq!((s.x[0], s.nzcv), (0xffff_ffff, 0x6000_0000));
    }

    #[test]
    fn logical_immediates() {
        let x1 = 0x0123_4567_89ab_cdef;
        let s = run_x(&[0, x1], &[0x9200f020]); // and x0, x1, #0x5555555555555555
        assert_eq!(s.x[0], x1 & 0x5555_5555_5555_5555);
        let s = run_x(&[0, x1], &[0x92103c20]); // and x0, x1, #0xffff0000ffff0000
        assert_eq!(s.x[0], x1 & 0xffff_0000_ffff_0000);
        let s = run_x(&[0, 0, 0, 0xffff_ffff_0000_000f], &[0x3204cc62]); // orr w2, w3, #0xf0f0f0f0
        assert_eq!(s.x[2], 0xf0f0_f0ff);
        let s = run_x(&[0, 0x8000_0000], &[0x72010420]); // ands w0, w1, #0x80000001
        assert_eq!((s.x[0], s.nzcv), (0x8000_0000, 0x8000_0000));
        let s = run_x(&[], &[0xb27403ff]); // mov sp, #0x1000
        assert_eq!(s.sp, 0x1000);
    }

    #[test]
    fn reserved_logical_immediates_are_undefined() {
        assert_undefined(0x9240fc20); // N=1, imms=111111: all-ones element
        assert_undefined(0x1240f020); // sf=0 with N=1
        assert_undefined(0x1200fc20); // N=0, imms=111111: no element size
    }

    #[test]
    fn decode_bit_masks_yields_all_bitmask_immediates() {
        let count = |n_values: u32, datasize| {
            let masks = (0..n_values << 12)
                .filter_map(|e| decode_bit_masks(e >> 12 != 0, e & 63, (e >> 6) & 63, true, datasize));
            masks.map(|(wmask, _)| wmask).collect::<std::collections::HashSet<_>>().len()
        };
        assert_eq!(count(2, 64), 5334);
        assert_eq!(count(1, 32), 1302);
    }

    #[test]
    fn move_wide() {
        let old = 0x1111_2222_3333_4444;
        let words = [0xd2e24680, 0x12800001, 0xf2b7dde2, 0x7297dde3, 0x92a00244];
        let s = run_x(&[0, 0, old, old], &words);
        assert_eq!(s.x[0], 0x1234 << 48); // movz x0, #0x1234, lsl #48
        assert_eq!(s.x[1], 0xffff_ffff); // movn w1, #0
        assert_eq!(s.x[2], 0x1111_2222_beef_4444); // movk x2, #0xbeef, lsl #16
        assert_eq!(s.x[3], 0x3333_beef); // movk w3, #0xbeef
        assert_eq!(s.x[4], !0x12_0000); // movn x4, #0x12, lsl #16
        assert_undefined(0x12c00001); // movn w1 with hw = 2
        assert_undefined(0x32800001); // opc = 01
    }

    #[test]
    fn bitfield_aliases() {
        let x1 = 0x8123_4567_89ab_cdef;
        let old = 0xffff_ffff_ffff_ffff;
        let words = [
            0xd37cec20, // lsl x0, x1, #4
            0x531f7c22, // lsr w2, w1, #31
            0x937ffc23, // asr x3, x1, #63
            0x93401c24, // sxtb x4, w1
            0x53003c25, // uxth w5, w1
            0x93407c26, // sxtw x6, w1
            0xb3783c27, // bfi x7, x1, #8, #16
            0x33042c28, // bfxil w8, w1, #4, #8
            0xd37cfc29, // ubfx x9, x1, #60, #4
            0x937c1c2a, // sbfiz x10, x1, #4, #8
            0x1300002b, // sbfx w11, w1, #0, #1
        ];
        let s = run_x(&[0, x1, 0, 0, 0, 0, 0, old, old], &words);
        assert_eq!(s.x[0], x1 << 4);
        assert_eq!(s.x[2], 1);
        assert_eq!(s.x[3], u64::MAX);
        assert_eq!(s.x[4], 0xffff_ffff_ffff_ffef);
        assert_eq!(s.x[5], 0xcdef);
        assert_eq!(s.x[6], 0xffff_ffff_89ab_cdef);
        assert_eq!(s.x[7], 0xffff_ffff_ffcd_efff);
        assert_eq!(s.x[8], 0xffff_ffde);
        assert_eq!(s.x[9], 8);
        assert_eq!(s.x[10], 0xffff_ffff_ffff_fef0);
        assert_eq!(s.x[11], 0xffff_ffff);
        assert_undefined(0x13200020); // sbfm w0, w1 with immr = 32
        assert_undefined(0x93000020); // sbfm x0 with N = 0
        assert_undefined(0x73000020); // opc = 11
    }

    #[test]
    fn extract_and_rotate() {
        let (x1, x2) = (0x0011_2233_4455_6677, 0x8899_aabb_ccdd_eeff);
        let words = [0x93c22020, 0x13811023, 0x13820024, 0x93c2fc25]; // extr #8, ror w #4, extr w #0, extr #63
        let s = run_x(&[0, x1, x2], &words);
        assert_eq!(s.x[0], 0x7788_99aa_bbcc_ddee);
        assert_eq!(s.x[3], 0x7445_5667);
        assert_eq!(s.x[4], 0xccdd_eeff);
        assert_eq!(s.x[5], (x1 << 1) | (x2 >> 63));
        assert_undefined(0x13822024 | (1 << 15)); // extr w4 with lsb = 40
    }
}
