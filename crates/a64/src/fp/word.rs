//! Fields of the instruction word the helpers of [`super::scalar`] and
//! [`super::vector`] receive: they decode it at run time (translated code passes the
//! word, not the decoder's [`crate::decode::Fields`]).

/// Bits `hi..=lo` of `insn`.
pub const fn bits(insn: u32, hi: u32, lo: u32) -> u32 {
    (insn >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

/// Bit `n` of `insn`.
pub const fn bit(insn: u32, n: u32) -> bool {
    (insn >> n) & 1 != 0
}

/// Rd / Vd (bits 4..0).
pub const fn rd(insn: u32) -> u32 {
    insn & 31
}

/// Rn / Vn (bits 9..5).
pub const fn rn(insn: u32) -> u32 {
    (insn >> 5) & 31
}

/// Rm / Vm (bits 20..16).
pub const fn rm(insn: u32) -> u32 {
    (insn >> 16) & 31
}

/// Ra (bits 14..10).
pub const fn ra(insn: u32) -> u32 {
    (insn >> 10) & 31
}
