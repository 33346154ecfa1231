//! Advanced SIMD integer, permute and structure load/store instructions.
//!
//! Most rows are one instruction each, as in Dynarmic's `a64.inc`: [`op!`] names the
//! instruction, its pattern (the FP opcodes of each encoding class are other rows, of
//! [`super::fp`]), the helper in [`crate::simd`] that implements it and the
//! arrangements it is allocated for, so an unallocated arrangement raises SIGILL at
//! translation and an unallocated opcode matches no row. The common integer
//! instructions then become IR vector ops or plain state moves instead ([`lowering`]),
//! from the row's fields; the rest become one call of the helper, whose argument is
//! the instruction word and which does the lane work on the guest state. The rows of
//! copies, immediates, table lookups and structure loads and stores are encoding
//! classes whose handlers choose by their fields; so are the shifts by immediate,
//! whose words with `immh` = 0 are the modified immediates ([`shift_by_immediate`]).
//!
//! Integer opcodes per class (FP ones are the rest):
//! - three same: `0xxxx`, `10xxx` (FP: `11xxx`);
//! - two-register miscellaneous: `00xxx`, `010xx`, `10010`, `10011`, `10100`, and
//!   `11100` with `size` = `10` (URECPE, URSQRTE);
//! - across lanes: `00011`, `01010`, `11010`, `11011`; scalar pairwise: ADDP only;
//! - shift by immediate: `0xxxx`, `10xxx` (FP: fixed-point SCVTF/UCVTF `11100`,
//!   FCVTZS/FCVTZU `11111`);
//! - modified immediate: `cmode` other than `1111` and `o2` = 0 (FP: FMOV);
//! - by element: the integer `U:opcode` pairs only;
//! - three different, copy, permute, extract, table lookup: all of the class.

mod lowering;
mod moves;

use super::{Ctx, Flow};
use crate::decode::{inst, Entry, Fields};
use crate::simd::shift::size_of_immh;
use crate::simd::structure::{multiple_layout, single_element};
use crate::simd::{arith, bitwise, copy, permute, reduce, shift, structure, unary, widen};
use archway_ir::Helper;
use Form::*;

/// A row of one instruction: `op!(Vector, "ADD", pattern, arith::ADD, NO_1D)` is the
/// instruction `ADD`, one call of `arith::ADD` (or its lowering) when the arrangement
/// that `Vector` reads from the fields is one of `NO_1D`, else UNDEFINED.
macro_rules! op {
    ($form:expr, $name:literal, $pattern:literal, $helper:path, $shapes:expr) => {
        inst($name, $pattern, {
            fn handler(ctx: &mut Ctx, f: Fields) -> Flow {
                emit_op(ctx, f, $form, &$helper, $shapes)
            }
            handler
        })
    };
}

pub const TABLE: &[Entry] = &[
    // Classes whose handlers choose by their fields.
    inst("TBL_TBX", "0Q001110000mmmmm0iio00nnnnnddddd", table_lookup),
    inst("EXT", "0Q101110000mmmmm0iiii0nnnnnddddd", extract),
    inst("DUP_INS_UMOV_SMOV", "0Qo01110000iiiii0jjjj1nnnnnddddd", copy),
    inst("MOVI_MVNI_ORR_BIC_imm", "0Qo0111100000iii0ccc01iiiiiddddd", modified_immediate),
    inst("MOVI_MVNI_ORR_BIC_imm", "0Qo0111100000iii10cc01iiiiiddddd", modified_immediate),
    inst("MOVI_MVNI_ORR_BIC_imm", "0Qo0111100000iii110c01iiiiiddddd", modified_immediate),
    inst("MOVI_MVNI_ORR_BIC_imm", "0Qo0111100000iii111001iiiiiddddd", modified_immediate),
    inst("DUP_element_scalar", "01011110000iiiii000001nnnnnddddd", dup_scalar),
    inst("LD_ST_multiple", "0Q0011000L000000oooozznnnnnttttt", multiple_structures),
    inst("LD_ST_multiple_post", "0Q0011001L0mmmmmoooozznnnnnttttt", multiple_structures),
    inst("LD_ST_single", "0Q0011010LR00000oooSzznnnnnttttt", single_structure),
    inst("LD_ST_single_post", "0Q0011011LRmmmmmoooSzznnnnnttttt", single_structure),
    // Permutes.
    op!(Vector, "UZP1", "0Q001110zz0mmmmm000110nnnnnddddd", permute::UZP1, NO_1D),
    op!(Vector, "TRN1", "0Q001110zz0mmmmm001010nnnnnddddd", permute::TRN1, NO_1D),
    op!(Vector, "ZIP1", "0Q001110zz0mmmmm001110nnnnnddddd", permute::ZIP1, NO_1D),
    op!(Vector, "UZP2", "0Q001110zz0mmmmm010110nnnnnddddd", permute::UZP2, NO_1D),
    op!(Vector, "TRN2", "0Q001110zz0mmmmm011010nnnnnddddd", permute::TRN2, NO_1D),
    op!(Vector, "ZIP2", "0Q001110zz0mmmmm011110nnnnnddddd", permute::ZIP2, NO_1D),
    // Logical operations: three same with opcode `00011`, `size` part of the operation.
    op!(Bytes, "AND", "0Q001110001mmmmm000111nnnnnddddd", bitwise::AND, B),
    op!(Bytes, "BIC", "0Q001110011mmmmm000111nnnnnddddd", bitwise::BIC, B),
    op!(Bytes, "ORR", "0Q001110101mmmmm000111nnnnnddddd", bitwise::ORR, B),
    op!(Bytes, "ORN", "0Q001110111mmmmm000111nnnnnddddd", bitwise::ORN, B),
    op!(Bytes, "EOR", "0Q101110001mmmmm000111nnnnnddddd", bitwise::EOR, B),
    op!(Bytes, "BSL", "0Q101110011mmmmm000111nnnnnddddd", bitwise::BSL, B),
    op!(Bytes, "BIT", "0Q101110101mmmmm000111nnnnnddddd", bitwise::BIT, B),
    op!(Bytes, "BIF", "0Q101110111mmmmm000111nnnnnddddd", bitwise::BIF, B),
    // NOT and RBIT: two-register miscellaneous `1:00101`, told apart by `size`.
    op!(Bytes, "NOT", "0Q10111000100000010110nnnnnddddd", bitwise::NOT, B),
    op!(Bytes, "RBIT", "0Q10111001100000010110nnnnnddddd", bitwise::RBIT, B),
    // Scalar pairwise.
    op!(Scalar, "ADDP_scalar", "01011110zz110001101110nnnnnddddd", reduce::ADDP_SCALAR, SCALAR_D),
    // Three same.
    op!(Vector, "SHADD", "0Q001110zz1mmmmm000001nnnnnddddd", arith::SHADD, BHS),
    op!(Vector, "SQADD", "0Q001110zz1mmmmm000011nnnnnddddd", arith::SQADD, NO_1D),
    op!(Vector, "SRHADD", "0Q001110zz1mmmmm000101nnnnnddddd", arith::SRHADD, BHS),
    op!(Vector, "SHSUB", "0Q001110zz1mmmmm001001nnnnnddddd", arith::SHSUB, BHS),
    op!(Vector, "SQSUB", "0Q001110zz1mmmmm001011nnnnnddddd", arith::SQSUB, NO_1D),
    op!(Vector, "CMGT", "0Q001110zz1mmmmm001101nnnnnddddd", arith::CMGT, NO_1D),
    op!(Vector, "CMGE", "0Q001110zz1mmmmm001111nnnnnddddd", arith::CMGE, NO_1D),
    op!(Vector, "SSHL", "0Q001110zz1mmmmm010001nnnnnddddd", shift::SSHL, NO_1D),
    op!(Vector, "SQSHL", "0Q001110zz1mmmmm010011nnnnnddddd", shift::SQSHL, NO_1D),
    op!(Vector, "SRSHL", "0Q001110zz1mmmmm010101nnnnnddddd", shift::SRSHL, NO_1D),
    op!(Vector, "SQRSHL", "0Q001110zz1mmmmm010111nnnnnddddd", shift::SQRSHL, NO_1D),
    op!(Vector, "SMAX", "0Q001110zz1mmmmm011001nnnnnddddd", arith::SMAX, BHS),
    op!(Vector, "SMIN", "0Q001110zz1mmmmm011011nnnnnddddd", arith::SMIN, BHS),
    op!(Vector, "SABD", "0Q001110zz1mmmmm011101nnnnnddddd", arith::SABD, BHS),
    op!(Vector, "SABA", "0Q001110zz1mmmmm011111nnnnnddddd", arith::SABA, BHS),
    op!(Vector, "ADD", "0Q001110zz1mmmmm100001nnnnnddddd", arith::ADD, NO_1D),
    op!(Vector, "CMTST", "0Q001110zz1mmmmm100011nnnnnddddd", arith::CMTST, NO_1D),
    op!(Vector, "MLA", "0Q001110zz1mmmmm100101nnnnnddddd", arith::MLA, BHS),
    op!(Vector, "MUL", "0Q001110zz1mmmmm100111nnnnnddddd", arith::MUL, BHS),
    op!(Vector, "SMAXP", "0Q001110zz1mmmmm101001nnnnnddddd", reduce::SMAXP, BHS),
    op!(Vector, "SMINP", "0Q001110zz1mmmmm101011nnnnnddddd", reduce::SMINP, BHS),
    op!(Vector, "SQDMULH", "0Q001110zz1mmmmm101101nnnnnddddd", arith::SQDMULH, HS),
    op!(Vector, "ADDP", "0Q001110zz1mmmmm101111nnnnnddddd", reduce::ADDP, NO_1D),
    op!(Vector, "UHADD", "0Q101110zz1mmmmm000001nnnnnddddd", arith::UHADD, BHS),
    op!(Vector, "UQADD", "0Q101110zz1mmmmm000011nnnnnddddd", arith::UQADD, NO_1D),
    op!(Vector, "URHADD", "0Q101110zz1mmmmm000101nnnnnddddd", arith::URHADD, BHS),
    op!(Vector, "UHSUB", "0Q101110zz1mmmmm001001nnnnnddddd", arith::UHSUB, BHS),
    op!(Vector, "UQSUB", "0Q101110zz1mmmmm001011nnnnnddddd", arith::UQSUB, NO_1D),
    op!(Vector, "CMHI", "0Q101110zz1mmmmm001101nnnnnddddd", arith::CMHI, NO_1D),
    op!(Vector, "CMHS", "0Q101110zz1mmmmm001111nnnnnddddd", arith::CMHS, NO_1D),
    op!(Vector, "USHL", "0Q101110zz1mmmmm010001nnnnnddddd", shift::USHL, NO_1D),
    op!(Vector, "UQSHL", "0Q101110zz1mmmmm010011nnnnnddddd", shift::UQSHL, NO_1D),
    op!(Vector, "URSHL", "0Q101110zz1mmmmm010101nnnnnddddd", shift::URSHL, NO_1D),
    op!(Vector, "UQRSHL", "0Q101110zz1mmmmm010111nnnnnddddd", shift::UQRSHL, NO_1D),
    op!(Vector, "UMAX", "0Q101110zz1mmmmm011001nnnnnddddd", arith::UMAX, BHS),
    op!(Vector, "UMIN", "0Q101110zz1mmmmm011011nnnnnddddd", arith::UMIN, BHS),
    op!(Vector, "UABD", "0Q101110zz1mmmmm011101nnnnnddddd", arith::UABD, BHS),
    op!(Vector, "UABA", "0Q101110zz1mmmmm011111nnnnnddddd", arith::UABA, BHS),
    op!(Vector, "SUB", "0Q101110zz1mmmmm100001nnnnnddddd", arith::SUB, NO_1D),
    op!(Vector, "CMEQ", "0Q101110zz1mmmmm100011nnnnnddddd", arith::CMEQ, NO_1D),
    op!(Vector, "MLS", "0Q101110zz1mmmmm100101nnnnnddddd", arith::MLS, BHS),
    op!(Vector, "PMUL", "0Q101110zz1mmmmm100111nnnnnddddd", arith::PMUL, B),
    op!(Vector, "UMAXP", "0Q101110zz1mmmmm101001nnnnnddddd", reduce::UMAXP, BHS),
    op!(Vector, "UMINP", "0Q101110zz1mmmmm101011nnnnnddddd", reduce::UMINP, BHS),
    op!(Vector, "SQRDMULH", "0Q101110zz1mmmmm101101nnnnnddddd", arith::SQRDMULH, HS),
    // Three different.
    op!(Vector, "SADDL", "0Q001110zz1mmmmm000000nnnnnddddd", widen::SADDL, BHS),
    op!(Vector, "SADDW", "0Q001110zz1mmmmm000100nnnnnddddd", widen::SADDW, BHS),
    op!(Vector, "SSUBL", "0Q001110zz1mmmmm001000nnnnnddddd", widen::SSUBL, BHS),
    op!(Vector, "SSUBW", "0Q001110zz1mmmmm001100nnnnnddddd", widen::SSUBW, BHS),
    op!(Vector, "ADDHN", "0Q001110zz1mmmmm010000nnnnnddddd", widen::ADDHN, BHS),
    op!(Vector, "SABAL", "0Q001110zz1mmmmm010100nnnnnddddd", widen::SABAL, BHS),
    op!(Vector, "SUBHN", "0Q001110zz1mmmmm011000nnnnnddddd", widen::SUBHN, BHS),
    op!(Vector, "SABDL", "0Q001110zz1mmmmm011100nnnnnddddd", widen::SABDL, BHS),
    op!(Vector, "SMLAL", "0Q001110zz1mmmmm100000nnnnnddddd", widen::SMLAL, BHS),
    op!(Vector, "SQDMLAL", "0Q001110zz1mmmmm100100nnnnnddddd", widen::SQDMLAL, HS),
    op!(Vector, "SMLSL", "0Q001110zz1mmmmm101000nnnnnddddd", widen::SMLSL, BHS),
    op!(Vector, "SQDMLSL", "0Q001110zz1mmmmm101100nnnnnddddd", widen::SQDMLSL, HS),
    op!(Vector, "SMULL", "0Q001110zz1mmmmm110000nnnnnddddd", widen::SMULL, BHS),
    op!(Vector, "SQDMULL", "0Q001110zz1mmmmm110100nnnnnddddd", widen::SQDMULL, HS),
    op!(Vector, "PMULL", "0Q001110zz1mmmmm111000nnnnnddddd", widen::PMULL, B),
    op!(Vector, "UADDL", "0Q101110zz1mmmmm000000nnnnnddddd", widen::UADDL, BHS),
    op!(Vector, "UADDW", "0Q101110zz1mmmmm000100nnnnnddddd", widen::UADDW, BHS),
    op!(Vector, "USUBL", "0Q101110zz1mmmmm001000nnnnnddddd", widen::USUBL, BHS),
    op!(Vector, "USUBW", "0Q101110zz1mmmmm001100nnnnnddddd", widen::USUBW, BHS),
    op!(Vector, "RADDHN", "0Q101110zz1mmmmm010000nnnnnddddd", widen::RADDHN, BHS),
    op!(Vector, "UABAL", "0Q101110zz1mmmmm010100nnnnnddddd", widen::UABAL, BHS),
    op!(Vector, "RSUBHN", "0Q101110zz1mmmmm011000nnnnnddddd", widen::RSUBHN, BHS),
    op!(Vector, "UABDL", "0Q101110zz1mmmmm011100nnnnnddddd", widen::UABDL, BHS),
    op!(Vector, "UMLAL", "0Q101110zz1mmmmm100000nnnnnddddd", widen::UMLAL, BHS),
    op!(Vector, "UMLSL", "0Q101110zz1mmmmm101000nnnnnddddd", widen::UMLSL, BHS),
    op!(Vector, "UMULL", "0Q101110zz1mmmmm110000nnnnnddddd", widen::UMULL, BHS),
    // Two-register miscellaneous.
    op!(Vector, "REV64", "0Q001110zz100000000010nnnnnddddd", permute::REV64, BHS),
    op!(Vector, "REV16", "0Q001110zz100000000110nnnnnddddd", permute::REV16, B),
    op!(Vector, "SADDLP", "0Q001110zz100000001010nnnnnddddd", widen::SADDLP, BHS),
    op!(Vector, "SUQADD", "0Q001110zz100000001110nnnnnddddd", unary::SUQADD, NO_1D),
    op!(Vector, "CLS", "0Q001110zz100000010010nnnnnddddd", unary::CLS, BHS),
    op!(Vector, "CNT", "0Q001110zz100000010110nnnnnddddd", bitwise::CNT, B),
    op!(Vector, "SADALP", "0Q001110zz100000011010nnnnnddddd", widen::SADALP, BHS),
    op!(Vector, "SQABS", "0Q001110zz100000011110nnnnnddddd", unary::SQABS, NO_1D),
    op!(Vector, "CMGT_ZERO", "0Q001110zz100000100010nnnnnddddd", unary::CMGT_ZERO, NO_1D),
    op!(Vector, "CMEQ_ZERO", "0Q001110zz100000100110nnnnnddddd", unary::CMEQ_ZERO, NO_1D),
    op!(Vector, "CMLT_ZERO", "0Q001110zz100000101010nnnnnddddd", unary::CMLT_ZERO, NO_1D),
    op!(Vector, "ABS", "0Q001110zz100000101110nnnnnddddd", unary::ABS, NO_1D),
    op!(Vector, "XTN", "0Q001110zz100001001010nnnnnddddd", widen::XTN, BHS),
    op!(Vector, "SQXTN", "0Q001110zz100001010010nnnnnddddd", widen::SQXTN, BHS),
    op!(Vector, "REV32", "0Q101110zz100000000010nnnnnddddd", permute::REV32, BH),
    op!(Vector, "UADDLP", "0Q101110zz100000001010nnnnnddddd", widen::UADDLP, BHS),
    op!(Vector, "USQADD", "0Q101110zz100000001110nnnnnddddd", unary::USQADD, NO_1D),
    op!(Vector, "CLZ", "0Q101110zz100000010010nnnnnddddd", unary::CLZ, BHS),
    op!(Vector, "UADALP", "0Q101110zz100000011010nnnnnddddd", widen::UADALP, BHS),
    op!(Vector, "SQNEG", "0Q101110zz100000011110nnnnnddddd", unary::SQNEG, NO_1D),
    op!(Vector, "CMGE_ZERO", "0Q101110zz100000100010nnnnnddddd", unary::CMGE_ZERO, NO_1D),
    op!(Vector, "CMLE_ZERO", "0Q101110zz100000100110nnnnnddddd", unary::CMLE_ZERO, NO_1D),
    op!(Vector, "NEG", "0Q101110zz100000101110nnnnnddddd", unary::NEG, NO_1D),
    op!(Vector, "SQXTUN", "0Q101110zz100001001010nnnnnddddd", widen::SQXTUN, BHS),
    op!(Vector, "SHLL", "0Q101110zz100001001110nnnnnddddd", widen::SHLL, BHS),
    op!(Vector, "UQXTN", "0Q101110zz100001010010nnnnnddddd", widen::UQXTN, BHS),
    op!(Words, "URECPE", "0Q00111010100001110010nnnnnddddd", unary::URECPE, S),
    op!(Words, "URSQRTE", "0Q10111010100001110010nnnnnddddd", unary::URSQRTE, S),
    // Across lanes.
    op!(Vector, "SADDLV", "0Q001110zz110000001110nnnnnddddd", reduce::SADDLV, ACROSS),
    op!(Vector, "SMAXV", "0Q001110zz110000101010nnnnnddddd", reduce::SMAXV, ACROSS),
    op!(Vector, "SMINV", "0Q001110zz110001101010nnnnnddddd", reduce::SMINV, ACROSS),
    op!(Vector, "ADDV", "0Q001110zz110001101110nnnnnddddd", reduce::ADDV, ACROSS),
    op!(Vector, "UADDLV", "0Q101110zz110000001110nnnnnddddd", reduce::UADDLV, ACROSS),
    op!(Vector, "UMAXV", "0Q101110zz110000101010nnnnnddddd", reduce::UMAXV, ACROSS),
    op!(Vector, "UMINV", "0Q101110zz110001101010nnnnnddddd", reduce::UMINV, ACROSS),
    // Shift by immediate: classes, see [`shift_by_immediate`].
    inst("SHIFT_IMM", "0QU011110hhhhbbb0oooo1nnnnnddddd", shift_by_immediate::<0b00000>),
    inst("SHIFT_IMM", "0QU011110hhhhbbb10ooo1nnnnnddddd", shift_by_immediate::<0b10000>),
    inst("SHIFT_IMM_scalar", "01U111110hhhhbbb0oooo1nnnnnddddd", scalar_shift_by_immediate::<0b00000>),
    inst("SHIFT_IMM_scalar", "01U111110hhhhbbb10ooo1nnnnnddddd", scalar_shift_by_immediate::<0b10000>),
    // By element.
    op!(Vector, "SMLAL_ELEMENT", "0Q001111zzLMmmmm0010H0nnnnnddddd", widen::SMLAL_ELEMENT, HS),
    op!(Vector, "SQDMLAL_ELEMENT", "0Q001111zzLMmmmm0011H0nnnnnddddd", widen::SQDMLAL_ELEMENT, HS),
    op!(Vector, "SMLSL_ELEMENT", "0Q001111zzLMmmmm0110H0nnnnnddddd", widen::SMLSL_ELEMENT, HS),
    op!(Vector, "SQDMLSL_ELEMENT", "0Q001111zzLMmmmm0111H0nnnnnddddd", widen::SQDMLSL_ELEMENT, HS),
    op!(Vector, "MUL_ELEMENT", "0Q001111zzLMmmmm1000H0nnnnnddddd", arith::MUL_ELEMENT, HS),
    op!(Vector, "SMULL_ELEMENT", "0Q001111zzLMmmmm1010H0nnnnnddddd", widen::SMULL_ELEMENT, HS),
    op!(Vector, "SQDMULL_ELEMENT", "0Q001111zzLMmmmm1011H0nnnnnddddd", widen::SQDMULL_ELEMENT, HS),
    op!(Vector, "SQDMULH_ELEMENT", "0Q001111zzLMmmmm1100H0nnnnnddddd", arith::SQDMULH_ELEMENT, HS),
    op!(Vector, "SQRDMULH_ELEMENT", "0Q001111zzLMmmmm1101H0nnnnnddddd", arith::SQRDMULH_ELEMENT, HS),
    op!(Vector, "MLA_ELEMENT", "0Q101111zzLMmmmm0000H0nnnnnddddd", arith::MLA_ELEMENT, HS),
    op!(Vector, "UMLAL_ELEMENT", "0Q101111zzLMmmmm0010H0nnnnnddddd", widen::UMLAL_ELEMENT, HS),
    op!(Vector, "MLS_ELEMENT", "0Q101111zzLMmmmm0100H0nnnnnddddd", arith::MLS_ELEMENT, HS),
    op!(Vector, "UMLSL_ELEMENT", "0Q101111zzLMmmmm0110H0nnnnnddddd", widen::UMLSL_ELEMENT, HS),
    op!(Vector, "UMULL_ELEMENT", "0Q101111zzLMmmmm1010H0nnnnnddddd", widen::UMULL_ELEMENT, HS),
    // Scalar three same.
    op!(Scalar, "SQADD_scalar", "01011110zz1mmmmm000011nnnnnddddd", arith::SQADD, SCALAR_ANY),
    op!(Scalar, "SQSUB_scalar", "01011110zz1mmmmm001011nnnnnddddd", arith::SQSUB, SCALAR_ANY),
    op!(Scalar, "CMGT_scalar", "01011110zz1mmmmm001101nnnnnddddd", arith::CMGT, SCALAR_D),
    op!(Scalar, "CMGE_scalar", "01011110zz1mmmmm001111nnnnnddddd", arith::CMGE, SCALAR_D),
    op!(Scalar, "SSHL_scalar", "01011110zz1mmmmm010001nnnnnddddd", shift::SSHL, SCALAR_D),
    op!(Scalar, "SQSHL_scalar", "01011110zz1mmmmm010011nnnnnddddd", shift::SQSHL, SCALAR_ANY),
    op!(Scalar, "SRSHL_scalar", "01011110zz1mmmmm010101nnnnnddddd", shift::SRSHL, SCALAR_D),
    op!(Scalar, "SQRSHL_scalar", "01011110zz1mmmmm010111nnnnnddddd", shift::SQRSHL, SCALAR_ANY),
    op!(Scalar, "ADD_scalar", "01011110zz1mmmmm100001nnnnnddddd", arith::ADD, SCALAR_D),
    op!(Scalar, "CMTST_scalar", "01011110zz1mmmmm100011nnnnnddddd", arith::CMTST, SCALAR_D),
    op!(Scalar, "SQDMULH_scalar", "01011110zz1mmmmm101101nnnnnddddd", arith::SQDMULH, SCALAR_HS),
    op!(Scalar, "UQADD_scalar", "01111110zz1mmmmm000011nnnnnddddd", arith::UQADD, SCALAR_ANY),
    op!(Scalar, "UQSUB_scalar", "01111110zz1mmmmm001011nnnnnddddd", arith::UQSUB, SCALAR_ANY),
    op!(Scalar, "CMHI_scalar", "01111110zz1mmmmm001101nnnnnddddd", arith::CMHI, SCALAR_D),
    op!(Scalar, "CMHS_scalar", "01111110zz1mmmmm001111nnnnnddddd", arith::CMHS, SCALAR_D),
    op!(Scalar, "USHL_scalar", "01111110zz1mmmmm010001nnnnnddddd", shift::USHL, SCALAR_D),
    op!(Scalar, "UQSHL_scalar", "01111110zz1mmmmm010011nnnnnddddd", shift::UQSHL, SCALAR_ANY),
    op!(Scalar, "URSHL_scalar", "01111110zz1mmmmm010101nnnnnddddd", shift::URSHL, SCALAR_D),
    op!(Scalar, "UQRSHL_scalar", "01111110zz1mmmmm010111nnnnnddddd", shift::UQRSHL, SCALAR_ANY),
    op!(Scalar, "SUB_scalar", "01111110zz1mmmmm100001nnnnnddddd", arith::SUB, SCALAR_D),
    op!(Scalar, "CMEQ_scalar", "01111110zz1mmmmm100011nnnnnddddd", arith::CMEQ, SCALAR_D),
    op!(Scalar, "SQRDMULH_scalar", "01111110zz1mmmmm101101nnnnnddddd", arith::SQRDMULH, SCALAR_HS),
    // Scalar three different.
    op!(Scalar, "SQDMLAL_scalar", "01011110zz1mmmmm100100nnnnnddddd", widen::SQDMLAL, SCALAR_HS),
    op!(Scalar, "SQDMLSL_scalar", "01011110zz1mmmmm101100nnnnnddddd", widen::SQDMLSL, SCALAR_HS),
    op!(Scalar, "SQDMULL_scalar", "01011110zz1mmmmm110100nnnnnddddd", widen::SQDMULL, SCALAR_HS),
    // Scalar two-register miscellaneous.
    op!(Scalar, "SUQADD_scalar", "01011110zz100000001110nnnnnddddd", unary::SUQADD, SCALAR_ANY),
    op!(Scalar, "SQABS_scalar", "01011110zz100000011110nnnnnddddd", unary::SQABS, SCALAR_ANY),
    op!(Scalar, "CMGT_ZERO_scalar", "01011110zz100000100010nnnnnddddd", unary::CMGT_ZERO, SCALAR_D),
    op!(Scalar, "CMEQ_ZERO_scalar", "01011110zz100000100110nnnnnddddd", unary::CMEQ_ZERO, SCALAR_D),
    op!(Scalar, "CMLT_ZERO_scalar", "01011110zz100000101010nnnnnddddd", unary::CMLT_ZERO, SCALAR_D),
    op!(Scalar, "ABS_scalar", "01011110zz100000101110nnnnnddddd", unary::ABS, SCALAR_D),
    op!(Scalar, "SQXTN_scalar", "01011110zz100001010010nnnnnddddd", widen::SQXTN, SCALAR_BHS),
    op!(Scalar, "USQADD_scalar", "01111110zz100000001110nnnnnddddd", unary::USQADD, SCALAR_ANY),
    op!(Scalar, "SQNEG_scalar", "01111110zz100000011110nnnnnddddd", unary::SQNEG, SCALAR_ANY),
    op!(Scalar, "CMGE_ZERO_scalar", "01111110zz100000100010nnnnnddddd", unary::CMGE_ZERO, SCALAR_D),
    op!(Scalar, "CMLE_ZERO_scalar", "01111110zz100000100110nnnnnddddd", unary::CMLE_ZERO, SCALAR_D),
    op!(Scalar, "NEG_scalar", "01111110zz100000101110nnnnnddddd", unary::NEG, SCALAR_D),
    op!(Scalar, "SQXTUN_scalar", "01111110zz100001001010nnnnnddddd", widen::SQXTUN, SCALAR_BHS),
    op!(Scalar, "UQXTN_scalar", "01111110zz100001010010nnnnnddddd", widen::UQXTN, SCALAR_BHS),
    // Scalar by element.
    op!(Scalar, "SQDMLAL_ELEMENT_scalar", "01011111zzLMmmmm0011H0nnnnnddddd", widen::SQDMLAL_ELEMENT, SCALAR_HS),
    op!(Scalar, "SQDMLSL_ELEMENT_scalar", "01011111zzLMmmmm0111H0nnnnnddddd", widen::SQDMLSL_ELEMENT, SCALAR_HS),
    op!(Scalar, "SQDMULL_ELEMENT_scalar", "01011111zzLMmmmm1011H0nnnnnddddd", widen::SQDMULL_ELEMENT, SCALAR_HS),
    op!(Scalar, "SQDMULH_ELEMENT_scalar", "01011111zzLMmmmm1100H0nnnnnddddd", arith::SQDMULH_ELEMENT, SCALAR_HS),
    op!(Scalar, "SQRDMULH_ELEMENT_scalar", "01011111zzLMmmmm1101H0nnnnnddddd", arith::SQRDMULH_ELEMENT, SCALAR_HS),
];

/// Arrangements an operation is allocated for: bit `Q * 4 + size` is set for each
/// allowed pair. Scalar rows use the Q = 1 bits ([`Form::arrangement`]).
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

/// How a row gives the arrangement (`Q`, element size) of its operation.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    /// `Q` and `size` (`z`).
    Vector,
    /// One element of `size` (`z`); [`Shapes`] of scalars use the `Q` = 1 bits.
    Scalar,
    /// `Q`, and the element size from the highest set bit of `immh` (`h`; 0 is
    /// UNDEFINED: the modified-immediate class).
    VectorShift,
    /// As `VectorShift`, one element.
    ScalarShift,
    /// `Q`, byte elements: the row fixes `size` (as part of the operation, or as the
    /// only size allowed).
    Bytes,
    /// `Q`, 32-bit elements fixed by the row (URECPE, URSQRTE).
    Words,
}

impl Form {
    /// Whether the row is a scalar one.
    fn scalar(self) -> bool {
        matches!(self, Scalar | ScalarShift)
    }

    /// `Q` (scalars: set) and the element size (log2 bytes) of `f`, or `None` when
    /// the word is of another class.
    fn arrangement(self, f: Fields) -> Option<(bool, u32)> {
        let q = self.scalar() || f.bit('Q');
        let size = match self {
            Vector | Scalar => f.get('z'),
            VectorShift | ScalarShift => size_of_immh(f.get('h'))?,
            Bytes => 0,
            Words => 2,
        };
        Some((q, size))
    }
}

/// Emit the instruction of `f`, whose helper is `helper`: as IR when [`lowering`] has
/// it, else the call.
fn emit(ctx: &mut Ctx, f: Fields, form: Form, helper: &'static Helper) -> Flow {
    if !lowering::lower(ctx, helper, f, form) {
        let word = ctx.k64(f.insn() as u64);
        ctx.b.call_void(helper, &[word]);
    }
    Flow::Continue
}

/// Emit the instruction of an [`op!`] row when `shapes` allows its arrangement, else
/// SIGILL.
fn emit_op(ctx: &mut Ctx, f: Fields, form: Form, helper: &'static Helper, shapes: Shapes) -> Flow {
    match form.arrangement(f) {
        Some((q, size)) if shapes.allow(q, size) => emit(ctx, f, form, helper),
        _ => Flow::Undefined,
    }
}

/// Shifts by immediate by `U:opcode`: their helpers and arrangements.
type ShiftTable = [(u32, &'static Helper, Shapes)];

static SHIFTS: &ShiftTable = &[
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
];

static SCALAR_SHIFTS: &ShiftTable = &[
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
];

/// Shift by immediate, vector: the row fixes the bits `OPCODE` of the opcode and `o`
/// gives the rest. These rows are encoding classes, not one instruction each: a word
/// with `immh` = 0 is a modified immediate, and the modified-immediate rows (which
/// leave `cmode`, the opcode's place, to a letter) are strictly more specific only
/// than rows that leave the opcode to a letter too.
fn shift_by_immediate<const OPCODE: u32>(ctx: &mut Ctx, f: Fields) -> Flow {
    shift(ctx, f, VectorShift, SHIFTS, OPCODE | f.get('o'))
}

/// Shift by immediate, scalar: as [`shift_by_immediate`].
fn scalar_shift_by_immediate<const OPCODE: u32>(ctx: &mut Ctx, f: Fields) -> Flow {
    shift(ctx, f, ScalarShift, SCALAR_SHIFTS, OPCODE | f.get('o'))
}

/// Emit the shift `U:opcode` of `table`, if there is one.
fn shift(ctx: &mut Ctx, f: Fields, form: Form, table: &ShiftTable, opcode: u32) -> Flow {
    let key = (f.get('U') << 5) | opcode;
    match table.iter().find(|&&(k, _, _)| k == key) {
        Some(&(_, helper, shapes)) => emit_op(ctx, f, form, helper, shapes),
        None => Flow::Undefined,
    }
}

fn modified_immediate(ctx: &mut Ctx, f: Fields) -> Flow {
    emit(ctx, f, Vector, &copy::MODIFIED_IMMEDIATE)
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
    emit(ctx, f, Vector, helper)
}

fn dup_scalar(ctx: &mut Ctx, f: Fields) -> Flow {
    if f.get('i') & 0b1111 == 0 {
        return Flow::Undefined;
    }
    emit(ctx, f, Scalar, &copy::DUP_ELEMENT)
}

fn extract(ctx: &mut Ctx, f: Fields) -> Flow {
    if !f.bit('Q') && f.get('i') >= 8 {
        // A 64-bit EXT starts within the first 8 bytes.
        return Flow::Undefined;
    }
    emit(ctx, f, Bytes, &permute::EXT)
}

fn table_lookup(ctx: &mut Ctx, f: Fields) -> Flow {
    emit(ctx, f, Vector, &permute::TABLE_LOOKUP)
}

fn multiple_structures(ctx: &mut Ctx, f: Fields) -> Flow {
    match multiple_layout(f.get('o')) {
        // 1D arrangements exist only for LD1/ST1.
        Some(layout) if layout.selem == 1 || f.bit('Q') || f.get('z') != 0b11 => {
            emit(ctx, f, Vector, &structure::MULTIPLE_STRUCTURES)
        }
        _ => Flow::Undefined,
    }
}

fn single_structure(ctx: &mut Ctx, f: Fields) -> Flow {
    match single_element(f.get('o') >> 1, f.bit('L'), f.get('Q'), f.get('S'), f.get('z')) {
        Some(_) => emit(ctx, f, Vector, &structure::SINGLE_STRUCTURE),
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
                let found = decode::lookup(word);
                let ours = found.is_some_and(|found| TABLE.iter().any(|e| e.pattern.text == found.pattern.text));
                let found = found.map_or("none", |e| e.name);
                assert!(ours, "{word:#010x} ({}) decodes as {found}", entry.name);
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
