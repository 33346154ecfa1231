//! Advanced SIMD integer, permute and structure load/store instructions.
//!
//! The decoder rows below are encoding classes (with the FP opcodes of each class left
//! out, so [`super::fp`] owns those words); each class handler picks the helper in
//! [`crate::simd`] that implements the instruction from a table indexed by `U:opcode`
//! and checks that the arrangement (Q, `size`) is allocated, so an unallocated one
//! raises SIGILL at translation. The common integer instructions then become IR
//! vector ops or plain state moves instead ([`vector`]); the rest become one call of
//! the helper, whose argument is the instruction word and which does the lane work on
//! the guest state.
//!
//! The word is what the helper (and `vector`'s lowering, keyed by helper) decodes,
//! so every handler passes [`Fields::insn`] on. Handlers whose decisions need only
//! their row's letters read those; the op-table handlers (three same, three different,
//! two-register miscellaneous, across lanes, shift by immediate, by element, permute)
//! still index their tables by the word's `U:opcode`, Q and `size` bits, because their
//! rows are encoding classes split around the FP opcodes: the row fixes part of the
//! opcode (and U, Q or the scalar bit), so no letter holds the whole key.
//!
//! Integer opcodes claimed per class (FP ones are the rest):
//! - three same: `0xxxx`, `10xxx` (FP: `11xxx`);
//! - two-register miscellaneous: `00xxx`, `010xx`, `10010`, `10011`, `10100`, and
//!   `11100` with `size` = `10` (URECPE, URSQRTE);
//! - across lanes: `00011`, `01010`, `11010`, `11011`; scalar pairwise: ADDP only;
//! - shift by immediate: `0xxxx`, `10xxx` (FP: fixed-point SCVTF/UCVTF `11100`,
//!   FCVTZS/FCVTZU `11111`);
//! - modified immediate: `cmode` other than `1111` and `o2` = 0 (FP: FMOV);
//! - by element: the integer `U:opcode` pairs only;
//! - three different, copy, permute, extract, table lookup: all of the class.

mod moves;
mod vector;

use super::{Ctx, Flow};
use crate::decode::{inst, Entry, Fields};
use crate::simd::lanes::{bit, bits};
use crate::simd::shift::immediate_size;
use crate::simd::structure::{multiple_layout, single_target};
use crate::simd::{arith, bitwise, copy, permute, reduce, shift, structure, unary, widen};
use archway_ir::Helper;

pub const TABLE: &[Entry] = &[
    // Vector forms.
    inst("SIMD_TBL_TBX", "0Q001110000mmmmm0iio00nnnnnddddd", table_lookup),
    inst("SIMD_ZIP_UZP_TRN", "0Q001110zz0mmmmm0ooo10nnnnnddddd", permute),
    inst("SIMD_EXT", "0Q101110000mmmmm0iiii0nnnnnddddd", extract),
    inst("SIMD_COPY", "0Qo01110000iiiii0jjjj1nnnnnddddd", copy),
    inst("SIMD_THREE_SAME", "0QU01110zz1mmmmm0oooo1nnnnnddddd", three_same),
    inst("SIMD_THREE_SAME", "0QU01110zz1mmmmm10ooo1nnnnnddddd", three_same),
    inst("SIMD_THREE_DIFFERENT", "0QU01110zz1mmmmmoooo00nnnnnddddd", three_different),
    inst("SIMD_TWO_REG_MISC", "0QU01110zz1000000ooo10nnnnnddddd", two_reg_misc),
    inst("SIMD_TWO_REG_MISC", "0QU01110zz10000010oo10nnnnnddddd", two_reg_misc),
    inst("SIMD_TWO_REG_MISC", "0QU01110zz100001001o10nnnnnddddd", two_reg_misc),
    inst("SIMD_TWO_REG_MISC", "0QU01110zz100001010010nnnnnddddd", two_reg_misc),
    inst("SIMD_URECPE_URSQRTE", "0QU0111010100001110010nnnnnddddd", two_reg_misc),
    inst("SIMD_ACROSS_LANES", "0QU01110zz110000001110nnnnnddddd", across_lanes),
    inst("SIMD_ACROSS_LANES", "0QU01110zz110000101010nnnnnddddd", across_lanes),
    inst("SIMD_ACROSS_LANES", "0QU01110zz110001101o10nnnnnddddd", across_lanes),
    inst("SIMD_MODIFIED_IMM", "0Qo0111100000iii0ccc01iiiiiddddd", modified_immediate),
    inst("SIMD_MODIFIED_IMM", "0Qo0111100000iii10cc01iiiiiddddd", modified_immediate),
    inst("SIMD_MODIFIED_IMM", "0Qo0111100000iii110c01iiiiiddddd", modified_immediate),
    inst("SIMD_MODIFIED_IMM", "0Qo0111100000iii111001iiiiiddddd", modified_immediate),
    inst("SIMD_SHIFT_IMM", "0QU011110hhhhbbb0oooo1nnnnnddddd", shift_by_immediate),
    inst("SIMD_SHIFT_IMM", "0QU011110hhhhbbb10ooo1nnnnnddddd", shift_by_immediate),
    inst("SIMD_MLA_ELEMENT", "0Q101111zzLMmmmm0000H0nnnnnddddd", by_element),
    inst("SIMD_MLS_ELEMENT", "0Q101111zzLMmmmm0100H0nnnnnddddd", by_element),
    inst("SIMD_MUL_ELEMENT", "0Q001111zzLMmmmm1000H0nnnnnddddd", by_element),
    inst("SIMD_LONG_ELEMENT", "0QU01111zzLMmmmmoo10H0nnnnnddddd", by_element),
    inst("SIMD_SQDML_ELEMENT", "0Q001111zzLMmmmm0o11H0nnnnnddddd", by_element),
    inst("SIMD_SQDMULL_ELEMENT", "0Q001111zzLMmmmm1011H0nnnnnddddd", by_element),
    inst("SIMD_SQDMULH_ELEMENT", "0Q001111zzLMmmmm110oH0nnnnnddddd", by_element),
    // Scalar forms.
    inst("SIMD_DUP_SCALAR", "01011110000iiiii000001nnnnnddddd", dup_scalar),
    inst("SIMD_ADDP_SCALAR", "01011110zz110001101110nnnnnddddd", addp_scalar),
    inst("SIMD_SCALAR_THREE_SAME", "01U11110zz1mmmmm0oooo1nnnnnddddd", three_same),
    inst("SIMD_SCALAR_THREE_SAME", "01U11110zz1mmmmm10ooo1nnnnnddddd", three_same),
    inst("SIMD_SCALAR_THREE_DIFFERENT", "01011110zz1mmmmm10o100nnnnnddddd", three_different),
    inst("SIMD_SCALAR_THREE_DIFFERENT", "01011110zz1mmmmm110100nnnnnddddd", three_different),
    inst("SIMD_SCALAR_TWO_REG_MISC", "01U11110zz1000000o1110nnnnnddddd", two_reg_misc),
    inst("SIMD_SCALAR_TWO_REG_MISC", "01U11110zz10000010oo10nnnnnddddd", two_reg_misc),
    inst("SIMD_SCALAR_TWO_REG_MISC", "01U11110zz100001001010nnnnnddddd", two_reg_misc),
    inst("SIMD_SCALAR_TWO_REG_MISC", "01U11110zz100001010010nnnnnddddd", two_reg_misc),
    inst("SIMD_SCALAR_SHIFT_IMM", "01U111110hhhhbbb0oooo1nnnnnddddd", shift_by_immediate),
    inst("SIMD_SCALAR_SHIFT_IMM", "01U111110hhhhbbb10ooo1nnnnnddddd", shift_by_immediate),
    inst("SIMD_SCALAR_SQDML_ELEMENT", "01011111zzLMmmmm0o11H0nnnnnddddd", by_element),
    inst("SIMD_SCALAR_SQDMULL_ELEMENT", "01011111zzLMmmmm1011H0nnnnnddddd", by_element),
    inst("SIMD_SCALAR_SQDMULH_ELEMENT", "01011111zzLMmmmm110oH0nnnnnddddd", by_element),
    // Structure loads and stores.
    inst("SIMD_LDST_MULTIPLE", "0Q0011000L000000oooozznnnnnttttt", multiple_structures),
    inst("SIMD_LDST_MULTIPLE_POST", "0Q0011001L0mmmmmoooozznnnnnttttt", multiple_structures),
    inst("SIMD_LDST_SINGLE", "0Q0011010LR00000oooSzznnnnnttttt", single_structure),
    inst("SIMD_LDST_SINGLE_POST", "0Q0011011LRmmmmmoooSzznnnnnttttt", single_structure),
];

/// Arrangements an operation is allocated for: bit `Q * 4 + size` is set for each
/// allowed pair. Scalar words have bit 30 set, so scalar tables use the Q = 1 bits.
#[derive(Clone, Copy)]
struct Shapes(u8);

impl Shapes {
    fn allow(self, q: bool, size: u32) -> bool {
        (self.0 >> ((q as u32) * 4 + (size & 3))) & 1 != 0
    }
}

/// Every arrangement but 1D (which only a few instructions have).
const NO_1D: Shapes = Shapes(0b1111_0111);
/// 8B/16B, 4H/8H, 2S/4S; also the source sizes of long and narrowing operations.
const BHS: Shapes = Shapes(0b0111_0111);
const HS: Shapes = Shapes(0b0110_0110);
const BH: Shapes = Shapes(0b0011_0011);
const B: Shapes = Shapes(0b0001_0001);
const S: Shapes = Shapes(0b0100_0100);
/// Across lanes: 8B, 16B, 4H, 8H and 4S.
const ACROSS: Shapes = Shapes(0b0111_0011);
const SCALAR_ANY: Shapes = Shapes(0b1111_0000);
const SCALAR_BHS: Shapes = Shapes(0b0111_0000);
const SCALAR_HS: Shapes = Shapes(0b0110_0000);
const SCALAR_D: Shapes = Shapes(0b1000_0000);

/// One operation of a class: its helper and where it is allocated.
#[derive(Clone, Copy)]
struct Op {
    helper: &'static Helper,
    shapes: Shapes,
}

/// A class's operations by `U:opcode`.
type OpTable<const N: usize> = [Option<Op>; N];

/// Build an [`OpTable`] from `(U:opcode, helper, shapes)` rows.
const fn op_table<const N: usize>(rows: &[(usize, &'static Helper, Shapes)]) -> OpTable<N> {
    let mut table = [None; N];
    let mut i = 0;
    while i < rows.len() {
        let (key, helper, shapes) = rows[i];
        table[key] = Some(Op { helper, shapes });
        i += 1;
    }
    table
}

/// Emit `insn`, whose helper is `helper`: as IR when [`vector`] has it, else the call.
fn emit(ctx: &mut Ctx, helper: &'static Helper, insn: u32) -> Flow {
    if !vector::lower(ctx, helper, insn) {
        let word = ctx.k64(insn as u64);
        ctx.b.call_void(helper, &[word]);
    }
    Flow::Continue
}

/// Emit `op` when it exists and allows the arrangement (`Q`, `size`), else SIGILL.
fn emit_op(ctx: &mut Ctx, insn: u32, op: Option<Op>, size: u32) -> Flow {
    match op {
        Some(op) if op.shapes.allow(bit(insn, 30), size) => emit(ctx, op.helper, insn),
        _ => Flow::Undefined,
    }
}

/// `U` (bit 29) followed by the opcode field `high..=low`: an [`OpTable`] index.
fn key(insn: u32, high: u32, low: u32) -> usize {
    ((bits(insn, 29, 29) << (high - low + 1)) | bits(insn, high, low)) as usize
}

/// The table of a class: the scalar one for scalar words (bit 28).
fn pick<'t, const N: usize>(insn: u32, vector: &'t OpTable<N>, scalar: &'t OpTable<N>) -> &'t OpTable<N> {
    if bit(insn, 28) {
        scalar
    } else {
        vector
    }
}

static THREE_SAME: OpTable<64> = op_table(&[
    (0b0_00000, &arith::SHADD, BHS),
    (0b0_00001, &arith::SQADD, NO_1D),
    (0b0_00010, &arith::SRHADD, BHS),
    (0b0_00100, &arith::SHSUB, BHS),
    (0b0_00101, &arith::SQSUB, NO_1D),
    (0b0_00110, &arith::CMGT, NO_1D),
    (0b0_00111, &arith::CMGE, NO_1D),
    (0b0_01000, &shift::SSHL, NO_1D),
    (0b0_01001, &shift::SQSHL, NO_1D),
    (0b0_01010, &shift::SRSHL, NO_1D),
    (0b0_01011, &shift::SQRSHL, NO_1D),
    (0b0_01100, &arith::SMAX, BHS),
    (0b0_01101, &arith::SMIN, BHS),
    (0b0_01110, &arith::SABD, BHS),
    (0b0_01111, &arith::SABA, BHS),
    (0b0_10000, &arith::ADD, NO_1D),
    (0b0_10001, &arith::CMTST, NO_1D),
    (0b0_10010, &arith::MLA, BHS),
    (0b0_10011, &arith::MUL, BHS),
    (0b0_10100, &reduce::SMAXP, BHS),
    (0b0_10101, &reduce::SMINP, BHS),
    (0b0_10110, &arith::SQDMULH, HS),
    (0b0_10111, &reduce::ADDP, NO_1D),
    (0b1_00000, &arith::UHADD, BHS),
    (0b1_00001, &arith::UQADD, NO_1D),
    (0b1_00010, &arith::URHADD, BHS),
    (0b1_00100, &arith::UHSUB, BHS),
    (0b1_00101, &arith::UQSUB, NO_1D),
    (0b1_00110, &arith::CMHI, NO_1D),
    (0b1_00111, &arith::CMHS, NO_1D),
    (0b1_01000, &shift::USHL, NO_1D),
    (0b1_01001, &shift::UQSHL, NO_1D),
    (0b1_01010, &shift::URSHL, NO_1D),
    (0b1_01011, &shift::UQRSHL, NO_1D),
    (0b1_01100, &arith::UMAX, BHS),
    (0b1_01101, &arith::UMIN, BHS),
    (0b1_01110, &arith::UABD, BHS),
    (0b1_01111, &arith::UABA, BHS),
    (0b1_10000, &arith::SUB, NO_1D),
    (0b1_10001, &arith::CMEQ, NO_1D),
    (0b1_10010, &arith::MLS, BHS),
    (0b1_10011, &arith::PMUL, B),
    (0b1_10100, &reduce::UMAXP, BHS),
    (0b1_10101, &reduce::UMINP, BHS),
    (0b1_10110, &arith::SQRDMULH, HS),
]);

static SCALAR_THREE_SAME: OpTable<64> = op_table(&[
    (0b0_00001, &arith::SQADD, SCALAR_ANY),
    (0b0_00101, &arith::SQSUB, SCALAR_ANY),
    (0b0_00110, &arith::CMGT, SCALAR_D),
    (0b0_00111, &arith::CMGE, SCALAR_D),
    (0b0_01000, &shift::SSHL, SCALAR_D),
    (0b0_01001, &shift::SQSHL, SCALAR_ANY),
    (0b0_01010, &shift::SRSHL, SCALAR_D),
    (0b0_01011, &shift::SQRSHL, SCALAR_ANY),
    (0b0_10000, &arith::ADD, SCALAR_D),
    (0b0_10001, &arith::CMTST, SCALAR_D),
    (0b0_10110, &arith::SQDMULH, SCALAR_HS),
    (0b1_00001, &arith::UQADD, SCALAR_ANY),
    (0b1_00101, &arith::UQSUB, SCALAR_ANY),
    (0b1_00110, &arith::CMHI, SCALAR_D),
    (0b1_00111, &arith::CMHS, SCALAR_D),
    (0b1_01000, &shift::USHL, SCALAR_D),
    (0b1_01001, &shift::UQSHL, SCALAR_ANY),
    (0b1_01010, &shift::URSHL, SCALAR_D),
    (0b1_01011, &shift::UQRSHL, SCALAR_ANY),
    (0b1_10000, &arith::SUB, SCALAR_D),
    (0b1_10001, &arith::CMEQ, SCALAR_D),
    (0b1_10110, &arith::SQRDMULH, SCALAR_HS),
]);

/// The logical operations of three same (opcode `00011`), by `U:size`.
static LOGICAL: [&Helper; 8] = [
    &bitwise::AND,
    &bitwise::BIC,
    &bitwise::ORR,
    &bitwise::ORN,
    &bitwise::EOR,
    &bitwise::BSL,
    &bitwise::BIT,
    &bitwise::BIF,
];

fn three_same(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    let opcode = bits(insn, 15, 11);
    if opcode == 0b00011 {
        if bit(insn, 28) {
            return Flow::Undefined;
        }
        return emit(ctx, LOGICAL[key(insn, 23, 22)], insn);
    }
    let table = pick(insn, &THREE_SAME, &SCALAR_THREE_SAME);
    emit_op(ctx, insn, table[key(insn, 15, 11)], bits(insn, 23, 22))
}

static THREE_DIFFERENT: OpTable<32> = op_table(&[
    (0b0_0000, &widen::SADDL, BHS),
    (0b0_0001, &widen::SADDW, BHS),
    (0b0_0010, &widen::SSUBL, BHS),
    (0b0_0011, &widen::SSUBW, BHS),
    (0b0_0100, &widen::ADDHN, BHS),
    (0b0_0101, &widen::SABAL, BHS),
    (0b0_0110, &widen::SUBHN, BHS),
    (0b0_0111, &widen::SABDL, BHS),
    (0b0_1000, &widen::SMLAL, BHS),
    (0b0_1001, &widen::SQDMLAL, HS),
    (0b0_1010, &widen::SMLSL, BHS),
    (0b0_1011, &widen::SQDMLSL, HS),
    (0b0_1100, &widen::SMULL, BHS),
    (0b0_1101, &widen::SQDMULL, HS),
    (0b0_1110, &widen::PMULL, B),
    (0b1_0000, &widen::UADDL, BHS),
    (0b1_0001, &widen::UADDW, BHS),
    (0b1_0010, &widen::USUBL, BHS),
    (0b1_0011, &widen::USUBW, BHS),
    (0b1_0100, &widen::RADDHN, BHS),
    (0b1_0101, &widen::UABAL, BHS),
    (0b1_0110, &widen::RSUBHN, BHS),
    (0b1_0111, &widen::UABDL, BHS),
    (0b1_1000, &widen::UMLAL, BHS),
    (0b1_1010, &widen::UMLSL, BHS),
    (0b1_1100, &widen::UMULL, BHS),
]);

static SCALAR_THREE_DIFFERENT: OpTable<32> = op_table(&[
    (0b0_1001, &widen::SQDMLAL, SCALAR_HS),
    (0b0_1011, &widen::SQDMLSL, SCALAR_HS),
    (0b0_1101, &widen::SQDMULL, SCALAR_HS),
]);

fn three_different(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    let table = pick(insn, &THREE_DIFFERENT, &SCALAR_THREE_DIFFERENT);
    emit_op(ctx, insn, table[key(insn, 15, 12)], bits(insn, 23, 22))
}

static TWO_REG_MISC: OpTable<64> = op_table(&[
    (0b0_00000, &permute::REV64, BHS),
    (0b0_00001, &permute::REV16, B),
    (0b0_00010, &widen::SADDLP, BHS),
    (0b0_00011, &unary::SUQADD, NO_1D),
    (0b0_00100, &unary::CLS, BHS),
    (0b0_00101, &bitwise::CNT, B),
    (0b0_00110, &widen::SADALP, BHS),
    (0b0_00111, &unary::SQABS, NO_1D),
    (0b0_01000, &unary::CMGT_ZERO, NO_1D),
    (0b0_01001, &unary::CMEQ_ZERO, NO_1D),
    (0b0_01010, &unary::CMLT_ZERO, NO_1D),
    (0b0_01011, &unary::ABS, NO_1D),
    (0b0_10010, &widen::XTN, BHS),
    (0b0_10100, &widen::SQXTN, BHS),
    (0b1_00000, &permute::REV32, BH),
    (0b1_00010, &widen::UADDLP, BHS),
    (0b1_00011, &unary::USQADD, NO_1D),
    (0b1_00100, &unary::CLZ, BHS),
    (0b1_00110, &widen::UADALP, BHS),
    (0b1_00111, &unary::SQNEG, NO_1D),
    (0b1_01000, &unary::CMGE_ZERO, NO_1D),
    (0b1_01001, &unary::CMLE_ZERO, NO_1D),
    (0b1_01011, &unary::NEG, NO_1D),
    (0b1_10010, &widen::SQXTUN, BHS),
    (0b1_10011, &widen::SHLL, BHS),
    (0b1_10100, &widen::UQXTN, BHS),
    (0b0_11100, &unary::URECPE, S),
    (0b1_11100, &unary::URSQRTE, S),
]);

static SCALAR_TWO_REG_MISC: OpTable<64> = op_table(&[
    (0b0_00011, &unary::SUQADD, SCALAR_ANY),
    (0b0_00111, &unary::SQABS, SCALAR_ANY),
    (0b0_01000, &unary::CMGT_ZERO, SCALAR_D),
    (0b0_01001, &unary::CMEQ_ZERO, SCALAR_D),
    (0b0_01010, &unary::CMLT_ZERO, SCALAR_D),
    (0b0_01011, &unary::ABS, SCALAR_D),
    (0b0_10100, &widen::SQXTN, SCALAR_BHS),
    (0b1_00011, &unary::USQADD, SCALAR_ANY),
    (0b1_00111, &unary::SQNEG, SCALAR_ANY),
    (0b1_01000, &unary::CMGE_ZERO, SCALAR_D),
    (0b1_01001, &unary::CMLE_ZERO, SCALAR_D),
    (0b1_01011, &unary::NEG, SCALAR_D),
    (0b1_10010, &widen::SQXTUN, SCALAR_BHS),
    (0b1_10100, &widen::UQXTN, SCALAR_BHS),
]);

fn two_reg_misc(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    let size = bits(insn, 23, 22);
    if key(insn, 16, 12) == 0b1_00101 && !bit(insn, 28) {
        // NOT and RBIT share the opcode; `size` tells them apart.
        return match size {
            0 => emit(ctx, &bitwise::NOT, insn),
            1 => emit(ctx, &bitwise::RBIT, insn),
            _ => Flow::Undefined,
        };
    }
    let table = pick(insn, &TWO_REG_MISC, &SCALAR_TWO_REG_MISC);
    emit_op(ctx, insn, table[key(insn, 16, 12)], size)
}

static ACROSS_LANES: OpTable<64> = op_table(&[
    (0b0_00011, &reduce::SADDLV, ACROSS),
    (0b0_01010, &reduce::SMAXV, ACROSS),
    (0b0_11010, &reduce::SMINV, ACROSS),
    (0b0_11011, &reduce::ADDV, ACROSS),
    (0b1_00011, &reduce::UADDLV, ACROSS),
    (0b1_01010, &reduce::UMAXV, ACROSS),
    (0b1_11010, &reduce::UMINV, ACROSS),
]);

fn across_lanes(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    emit_op(ctx, insn, ACROSS_LANES[key(insn, 16, 12)], bits(insn, 23, 22))
}

fn addp_scalar(ctx: &mut Ctx, f: Fields) -> Flow {
    if f.get('z') != 0b11 {
        return Flow::Undefined;
    }
    emit(ctx, &reduce::ADDP_SCALAR, f.insn())
}

static SHIFT_BY_IMMEDIATE: OpTable<64> = op_table(&[
    (0b0_00000, &shift::SSHR, NO_1D),
    (0b0_00010, &shift::SSRA, NO_1D),
    (0b0_00100, &shift::SRSHR, NO_1D),
    (0b0_00110, &shift::SRSRA, NO_1D),
    (0b0_01010, &shift::SHL, NO_1D),
    (0b0_01110, &shift::SQSHL_IMM, NO_1D),
    (0b0_10000, &widen::SHRN, BHS),
    (0b0_10001, &widen::RSHRN, BHS),
    (0b0_10010, &widen::SQSHRN, BHS),
    (0b0_10011, &widen::SQRSHRN, BHS),
    (0b0_10100, &widen::SSHLL, BHS),
    (0b1_00000, &shift::USHR, NO_1D),
    (0b1_00010, &shift::USRA, NO_1D),
    (0b1_00100, &shift::URSHR, NO_1D),
    (0b1_00110, &shift::URSRA, NO_1D),
    (0b1_01000, &shift::SRI, NO_1D),
    (0b1_01010, &shift::SLI, NO_1D),
    (0b1_01100, &shift::SQSHLU, NO_1D),
    (0b1_01110, &shift::UQSHL_IMM, NO_1D),
    (0b1_10000, &widen::SQSHRUN, BHS),
    (0b1_10001, &widen::SQRSHRUN, BHS),
    (0b1_10010, &widen::UQSHRN, BHS),
    (0b1_10011, &widen::UQRSHRN, BHS),
    (0b1_10100, &widen::USHLL, BHS),
]);

static SCALAR_SHIFT_BY_IMMEDIATE: OpTable<64> = op_table(&[
    (0b0_00000, &shift::SSHR, SCALAR_D),
    (0b0_00010, &shift::SSRA, SCALAR_D),
    (0b0_00100, &shift::SRSHR, SCALAR_D),
    (0b0_00110, &shift::SRSRA, SCALAR_D),
    (0b0_01010, &shift::SHL, SCALAR_D),
    (0b0_01110, &shift::SQSHL_IMM, SCALAR_ANY),
    (0b0_10010, &widen::SQSHRN, SCALAR_BHS),
    (0b0_10011, &widen::SQRSHRN, SCALAR_BHS),
    (0b1_00000, &shift::USHR, SCALAR_D),
    (0b1_00010, &shift::USRA, SCALAR_D),
    (0b1_00100, &shift::URSHR, SCALAR_D),
    (0b1_00110, &shift::URSRA, SCALAR_D),
    (0b1_01000, &shift::SRI, SCALAR_D),
    (0b1_01010, &shift::SLI, SCALAR_D),
    (0b1_01100, &shift::SQSHLU, SCALAR_ANY),
    (0b1_01110, &shift::UQSHL_IMM, SCALAR_ANY),
    (0b1_10000, &widen::SQSHRUN, SCALAR_BHS),
    (0b1_10001, &widen::SQRSHRUN, SCALAR_BHS),
    (0b1_10010, &widen::UQSHRN, SCALAR_BHS),
    (0b1_10011, &widen::UQRSHRN, SCALAR_BHS),
]);

fn shift_by_immediate(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    if bits(insn, 22, 19) == 0 {
        // immh = 0 is the modified-immediate class.
        return Flow::Undefined;
    }
    let table = pick(insn, &SHIFT_BY_IMMEDIATE, &SCALAR_SHIFT_BY_IMMEDIATE);
    emit_op(ctx, insn, table[key(insn, 15, 11)], immediate_size(insn))
}

static BY_ELEMENT: OpTable<32> = op_table(&[
    (0b0_0010, &widen::SMLAL_ELEMENT, HS),
    (0b0_0011, &widen::SQDMLAL_ELEMENT, HS),
    (0b0_0110, &widen::SMLSL_ELEMENT, HS),
    (0b0_0111, &widen::SQDMLSL_ELEMENT, HS),
    (0b0_1000, &arith::MUL_ELEMENT, HS),
    (0b0_1010, &widen::SMULL_ELEMENT, HS),
    (0b0_1011, &widen::SQDMULL_ELEMENT, HS),
    (0b0_1100, &arith::SQDMULH_ELEMENT, HS),
    (0b0_1101, &arith::SQRDMULH_ELEMENT, HS),
    (0b1_0000, &arith::MLA_ELEMENT, HS),
    (0b1_0010, &widen::UMLAL_ELEMENT, HS),
    (0b1_0100, &arith::MLS_ELEMENT, HS),
    (0b1_0110, &widen::UMLSL_ELEMENT, HS),
    (0b1_1010, &widen::UMULL_ELEMENT, HS),
]);

static SCALAR_BY_ELEMENT: OpTable<32> = op_table(&[
    (0b0_0011, &widen::SQDMLAL_ELEMENT, SCALAR_HS),
    (0b0_0111, &widen::SQDMLSL_ELEMENT, SCALAR_HS),
    (0b0_1011, &widen::SQDMULL_ELEMENT, SCALAR_HS),
    (0b0_1100, &arith::SQDMULH_ELEMENT, SCALAR_HS),
    (0b0_1101, &arith::SQRDMULH_ELEMENT, SCALAR_HS),
]);

fn by_element(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    let table = pick(insn, &BY_ELEMENT, &SCALAR_BY_ELEMENT);
    emit_op(ctx, insn, table[key(insn, 15, 12)], bits(insn, 23, 22))
}

fn modified_immediate(ctx: &mut Ctx, f: Fields) -> Flow {
    emit(ctx, &copy::MODIFIED_IMMEDIATE, f.insn())
}

fn copy(ctx: &mut Ctx, f: Fields) -> Flow {
    let imm5 = f.get('i');
    if imm5 & 0b1111 == 0 {
        return Flow::Undefined;
    }
    let size = imm5.trailing_zeros();
    let q = f.bit('Q');
    let helper: &'static Helper = match (f.bit('o'), f.get('j')) {
        (true, _) if q => &copy::INS_ELEMENT,
        (false, 0b0000) if q || size < 3 => &copy::DUP_ELEMENT,
        (false, 0b0001) if q || size < 3 => &copy::DUP_GENERAL,
        (false, 0b0011) if q => &copy::INS_GENERAL,
        // SMOV: Wd from B/H, Xd from B/H/S.
        (false, 0b0101) if size < 2 + q as u32 => &copy::SMOV,
        // UMOV: Wd from B/H/S, Xd from D.
        (false, 0b0111) if (size == 3) == q => &copy::UMOV,
        _ => return Flow::Undefined,
    };
    emit(ctx, helper, f.insn())
}

fn dup_scalar(ctx: &mut Ctx, f: Fields) -> Flow {
    if f.get('i') & 0b1111 == 0 {
        return Flow::Undefined;
    }
    emit(ctx, &copy::DUP_ELEMENT, f.insn())
}

static PERMUTES: [Option<&Helper>; 8] = [
    None,
    Some(&permute::UZP1),
    Some(&permute::TRN1),
    Some(&permute::ZIP1),
    None,
    Some(&permute::UZP2),
    Some(&permute::TRN2),
    Some(&permute::ZIP2),
];

fn permute(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    let op = PERMUTES[bits(insn, 14, 12) as usize].map(|helper| Op { helper, shapes: NO_1D });
    emit_op(ctx, insn, op, bits(insn, 23, 22))
}

fn extract(ctx: &mut Ctx, f: Fields) -> Flow {
    if !f.bit('Q') && f.get('i') >= 8 {
        // A 64-bit EXT starts within the first 8 bytes.
        return Flow::Undefined;
    }
    emit(ctx, &permute::EXT, f.insn())
}

fn table_lookup(ctx: &mut Ctx, f: Fields) -> Flow {
    emit(ctx, &permute::TABLE_LOOKUP, f.insn())
}

fn multiple_structures(ctx: &mut Ctx, f: Fields) -> Flow {
    match multiple_layout(f.get('o')) {
        // 1D arrangements exist only for LD1/ST1.
        Some(layout) if layout.selem == 1 || f.bit('Q') || f.get('z') != 0b11 => {
            emit(ctx, &structure::MULTIPLE_STRUCTURES, f.insn())
        }
        _ => Flow::Undefined,
    }
}

fn single_structure(ctx: &mut Ctx, f: Fields) -> Flow {
    let insn = f.insn();
    match single_target(insn) {
        Some(_) => emit(ctx, &structure::SINGLE_STRUCTURE, insn),
        None => Flow::Undefined,
    }
}

#[cfg(test)]
mod tests {
    use super::TABLE;
    use crate::decode::{self, Entry};
    use crate::simd::tests::{execute, run_ir};
    use crate::state::CpuState;
    use crate::translate::{Ctx, Flow};
    use archway_ir::{BlockBuilder, Terminal};

    /// A word matching `entry` with pseudo-random operand bits.
    fn random_word(entry: &Entry, seed: &mut u64) -> u32 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed as u32 & !entry.pattern.mask) | entry.pattern.value
    }

    /// The rows of this table that match `word`.
    fn own_rows(word: u32) -> Vec<&'static str> {
        TABLE.iter().filter(|e| e.pattern.matches(word)).map(|e| e.name).collect()
    }

    #[test]
    fn floating_point_words_are_left_to_the_fp_table() {
        let fp_words = [
            0x4e20d400, // fadd v0.4s, v0.4s, v0.4s
            0x6e62c420, // fmaxnmp v0.2d, v1.2d, v2.2d
            0x4f03f600, // fmov v0.4s, #1.0
            0x6f03f600, // fmov v0.2d, #1.0
            0x4f03fe00, // fmov v0.8h, #1.0
            0x4f3de400, // scvtf v0.4s, v0.4s, #3
            0x4f7dfc20, // fcvtzs v0.2d, v1.2d, #3
            0x4ea0d800, // fcmeq v0.4s, v0.4s, #0.0
            0x4ee0c820, // fcmgt v0.2d, v1.2d, #0.0
            0x7e30d820, // faddp s0, v1.2s
            0x6e30c820, // fmaxnmv s0, v1.4s
            0x4fa21020, // fmla v0.4s, v1.4s, v2.s[1]
            0x4fc29820, // fmul v0.2d, v1.2d, v2.d[1]
            0x7fa29820, // fmulx s0, s1, v2.s[3]
            0x4e21c820, // fcvtas v0.4s, v1.4s
            0x6e61c820, // fcvtau v0.2d, v1.2d
            0x4ea1d820, // frecpe v0.4s, v1.4s
            0x7ee1d820, // frsqrte d0, d1
            0x0e216820, // fcvtn v0.4h, v1.4s
            0x4e617820, // fcvtl2 v0.2d, v1.4s
            0x7e616820, // fcvtxn s0, d1
            0x4e21d820, // scvtf v0.4s, v1.4s
            0x7e61d820, // ucvtf d0, d1
            0x4e218820, // frintn v0.4s, v1.4s
            0x4ee0f820, // fabs v0.2d, v1.2d
            0x6ea0f820, // fneg v0.4s, v1.4s
            0x6ea1f820, // fsqrt v0.4s, v1.4s
            0x7ea2d420, // fabd s0, s1, s2
            0x7e62ec20, // facge d0, d1, d2
            0x4e22fc20, // frecps v0.4s, v1.4s, v2.4s
            0x5ea0d820, // fcmeq s0, s1, #0.0
            0x7e70f820, // fmaxp d0, v1.2d
        ];
        for word in fp_words {
            assert_eq!(own_rows(word), Vec::<&str>::new(), "{word:#010x} is floating point");
        }
    }

    #[test]
    fn unallocated_arrangements_are_undefined() {
        let undefined = [
            0x0ee28420, // add v0.1d, v1.1d, v2.1d
            0x0ee2bc20, // addp v0.1d
            0x0e083c20, // umov w0, v1.d[0]
            0x0e042c20, // smov w0, v1.s[0]
            0x0eb1b820, // addv s0, v1.2s
            0x0f415420, // shl v0.1d, v1.1d, #1
            0x0c408c00, // ld2 {v0.1d, v1.1d}, [x0]
            0x7ea28c20, // cmeq s0, s1, s2
            0x4ee2b420, // sqdmulh v0.2d
            0x4ee29c20, // mul v0.2d
            0x4d409400, // ld1 {v0.d}[1] with S set
            0x4d00cc00, // st1r (no such store)
            0x0e003c20, // umov with imm5 = 0
            0x0ee6e25e, // pmull v30.1q (FEAT_PMULL is not advertised)
            0x4f93e97c, // sdot (FEAT_DotProd is not advertised)
        ];
        let mut state = CpuState::default();
        for word in undefined {
            assert!(!execute(&mut state, word), "{word:#010x} must be undefined");
        }
        let defined = [
            0x4ee28420, // add v0.2d, v1.2d, v2.2d
            0x7ee28c20, // cmeq d0, d1, d2
            0x4ea2b420, // sqdmulh v0.4s
            0x4e083c20, // mov x0, v1.d[0]
        ];
        for word in defined {
            assert!(execute(&mut state, word), "{word:#010x} must be defined");
        }
    }

    #[test]
    fn rows_overlap_only_where_one_is_strictly_more_specific() {
        for a in TABLE {
            for b in TABLE {
                let overlap = (a.pattern.value ^ b.pattern.value) & a.pattern.mask & b.pattern.mask == 0;
                if core::ptr::eq(a, b) || !overlap {
                    continue;
                }
                let (am, bm) = (a.pattern.mask, b.pattern.mask);
                assert!(
                    am != bm && (am & bm == am || am & bm == bm),
                    "{} and {} overlap with equal specificity",
                    a.name,
                    b.name
                );
            }
        }
    }

    #[test]
    fn the_decoder_gives_every_row_its_own_words() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for entry in TABLE {
            for _ in 0..2000 {
                let word = random_word(entry, &mut seed);
                let found = decode::lookup(word).map_or("none", |e| e.name);
                assert!(found.starts_with("SIMD_"), "{word:#010x} ({}) decodes as {found}", entry.name);
            }
        }
    }

    #[test]
    fn no_word_of_the_classes_panics() {
        let mut memory = vec![0u8; 2048];
        let base = memory.as_mut_ptr() as u64 + 1024;
        let mut seed = 0x2545_f491_4f6c_dd1d;
        for entry in TABLE {
            for _ in 0..3000 {
                let word = random_word(entry, &mut seed);
                let mut ctx = Ctx { b: BlockBuilder::new(0), pc: 0 };
                if !matches!(entry.translate(&mut ctx, word), Flow::Continue) {
                    continue;
                }
                let mut state = CpuState::default();
                for (i, v) in state.v.iter_mut().enumerate() {
                    *v = [seed.rotate_left(i as u32), !seed.rotate_right(i as u32)];
                }
                // Every base register points into `memory`.
                state.x = [base; 31];
                state.sp = base;
                run_ir(&mut state, &ctx.b.finish(Terminal::Link(4)));
            }
        }
        drop(memory);
    }
}
