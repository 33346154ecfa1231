//! The operands translated code passes to the helpers of [`super::scalar`] and
//! [`super::advsimd`]: the decoder row's fields, read by the translator, packed into
//! the helper call's argument word. Helpers unpack them by name and never see the
//! instruction word.

/// The decoded operands of one floating-point instruction. Each helper documents
/// which of them it reads; the others are zero.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Operands {
    /// Vd / Rd.
    pub d: u32,
    /// Vn / Rn.
    pub n: u32,
    /// Vm / Rm (with M for the by-element forms).
    pub m: u32,
    /// Va of the fused multiply-adds.
    pub a: u32,
    /// `ftype` (scalar classes) or `sz` (Advanced SIMD classes).
    pub size: u32,
    /// The operation within the helper's class, as the class's decoder numbers it.
    pub opcode: u32,
    /// `rmode` of the conversions to and from general registers.
    pub rmode: u32,
    /// The immediate: `scale` of a fixed-point conversion, `nzcv` of FCCMP, the
    /// fraction bits of a vector fixed-point conversion, `H:L` of a by-element form.
    pub imm: u32,
    /// `sf`: the general register is 64 bits wide.
    pub sf: bool,
    /// `U`: unsigned.
    pub unsigned: bool,
    /// `Q`: 128-bit vector.
    pub q: bool,
    /// An Advanced SIMD scalar form (one lane).
    pub scalar: bool,
    /// `E`: a signalling compare (quiet NaNs raise Invalid).
    pub signalling: bool,
    /// FCMP with zero rather than Vm.
    pub zero: bool,
    /// A fixed-point rather than an integer conversion.
    pub fixed: bool,
}

/// Bit position and width of each numeric field in the packed word, in the order of
/// `Operands::numbers`.
const LAYOUT: [(u32, u32); 8] = [(0, 5), (5, 5), (10, 5), (15, 5), (20, 2), (22, 8), (30, 2), (32, 8)];

/// Bit position of the first flag; the flags follow one bit each.
const FLAGS: u32 = 40;

impl Operands {
    /// The numeric fields, in [`LAYOUT`] order.
    fn numbers(&self) -> [u32; 8] {
        [self.d, self.n, self.m, self.a, self.size, self.opcode, self.rmode, self.imm]
    }

    /// The flags, in packing order.
    fn flags(&self) -> [bool; 7] {
        [self.sf, self.unsigned, self.q, self.scalar, self.signalling, self.zero, self.fixed]
    }

    /// The argument word for a helper call. Every field must fit its width.
    pub fn pack(self) -> u64 {
        let mut word = 0;
        for (value, (shift, width)) in self.numbers().into_iter().zip(LAYOUT) {
            assert!(value < 1 << width, "FP operand {value:#x} does not fit {width} bits");
            word |= u64::from(value) << shift;
        }
        for (i, flag) in self.flags().into_iter().enumerate() {
            word |= u64::from(flag) << (FLAGS + i as u32);
        }
        word
    }

    /// The operands [`Operands::pack`] made `word` of.
    pub fn unpack(word: u64) -> Operands {
        let [d, n, m, a, size, opcode, rmode, imm] =
            LAYOUT.map(|(shift, width)| (word >> shift) as u32 & ((1 << width) - 1));
        let flag = |i: u32| (word >> (FLAGS + i)) & 1 != 0;
        Operands {
            d,
            n,
            m,
            a,
            size,
            opcode,
            rmode,
            imm,
            sf: flag(0),
            unsigned: flag(1),
            q: flag(2),
            scalar: flag(3),
            signalling: flag(4),
            zero: flag(5),
            fixed: flag(6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_and_unpack_round_trip() {
        let ops = Operands {
            d: 31,
            n: 1,
            m: 17,
            a: 30,
            size: 3,
            opcode: 0xa5,
            rmode: 2,
            imm: 0xff,
            sf: true,
            q: true,
            signalling: true,
            fixed: true,
            ..Default::default()
        };
        assert_eq!(Operands::unpack(ops.pack()), ops);
        let flags = Operands { unsigned: true, scalar: true, zero: true, ..Default::default() };
        assert_eq!(Operands::unpack(flags.pack()), flags);
    }
}
