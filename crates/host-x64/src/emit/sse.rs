//! Typed wrappers over `dynasm!` for the SSE instructions vector ops are made of.
//!
//! As in [`super::asm`], dynasm needs mnemonics at compile time, so each family
//! (two-register operations, shifts by an immediate, shuffles, loads and stores) is
//! one table-like `match`, and the per-lane-size rows the vector emitter indexes by
//! `log2(esize / 8)` are constant arrays here. Only `xmm0`..`xmm3` are used: the
//! register allocator holds general registers only, so they are free scratch.

use super::asm::{with_mem, x64, Mem};
use super::Emitter;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi};

/// A vector scratch register (`Rx(x)` in `dynasm!`).
pub type Xmm = dynasmrt::x64::Rx;

pub const X0: Xmm = Xmm::XMM0;
pub const X1: Xmm = Xmm::XMM1;
pub const X2: Xmm = Xmm::XMM2;
pub const X3: Xmm = Xmm::XMM3;

/// Two-register instructions `op dst, src`.
#[allow(clippy::enum_variant_names)] // the names are the mnemonics
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sse {
    Movdqa,
    /// `movq dst, src`: the low 64 bits, the upper 64 cleared.
    Movq,
    Pand,
    /// `dst = !dst & src`.
    Pandn,
    Por,
    Pxor,
    Paddb,
    Paddw,
    Paddd,
    Paddq,
    Psubb,
    Psubw,
    Psubd,
    Psubq,
    Pmullw,
    Pmulld,
    Pcmpeqb,
    Pcmpeqw,
    Pcmpeqd,
    Pcmpeqq,
    Pcmpgtb,
    Pcmpgtw,
    Pcmpgtd,
    Pcmpgtq,
    Pmaxub,
    Pmaxuw,
    Pmaxud,
    Pminub,
    Pminuw,
    Pminud,
    Pmaxsb,
    Pmaxsw,
    Pmaxsd,
    Pminsb,
    Pminsw,
    Pminsd,
    Punpcklbw,
    Punpcklwd,
    Punpckldq,
    Punpcklqdq,
    Punpckhbw,
    Punpckhwd,
    Punpckhdq,
    Punpckhqdq,
    Packsswb,
    Packssdw,
    Packuswb,
}

use Sse::*;

// Rows by lane size (8, 16, 32, 64 bits).
pub const PADD: [Sse; 4] = [Paddb, Paddw, Paddd, Paddq];
pub const PSUB: [Sse; 4] = [Psubb, Psubw, Psubd, Psubq];
pub const PCMPEQ: [Sse; 4] = [Pcmpeqb, Pcmpeqw, Pcmpeqd, Pcmpeqq];
pub const PCMPGT: [Sse; 4] = [Pcmpgtb, Pcmpgtw, Pcmpgtd, Pcmpgtq];
pub const PUNPCKL: [Sse; 4] = [Punpcklbw, Punpcklwd, Punpckldq, Punpcklqdq];
pub const PUNPCKH: [Sse; 4] = [Punpckhbw, Punpckhwd, Punpckhdq, Punpckhqdq];
/// Maxima and minima exist for 8, 16 and 32-bit lanes only.
pub const PMAXU: [Sse; 3] = [Pmaxub, Pmaxuw, Pmaxud];
pub const PMINU: [Sse; 3] = [Pminub, Pminuw, Pminud];
pub const PMAXS: [Sse; 3] = [Pmaxsb, Pmaxsw, Pmaxsd];
pub const PMINS: [Sse; 3] = [Pminsb, Pminsw, Pminsd];

/// Shifts of every lane (or of the whole register, `dq`) by an immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    Psllw,
    Pslld,
    Psllq,
    Psrlw,
    Psrld,
    Psrlq,
    Psraw,
    Psrad,
    /// Whole register, by bytes.
    Pslldq,
    Psrldq,
}

// Rows by lane size (16, 32, 64 bits: there are no byte shifts; index `log2(esize / 16)`).
pub const PSLL: [Shift; 3] = [Shift::Psllw, Shift::Pslld, Shift::Psllq];
pub const PSRL: [Shift; 3] = [Shift::Psrlw, Shift::Psrld, Shift::Psrlq];

/// Shuffles by an immediate: `op dst, src, imm8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shuffle {
    Pshufd,
    Pshuflw,
    Pshufhw,
    /// `dst = [dst[imm 1:0], dst[imm 3:2], src[imm 5:4], src[imm 7:6]]` (dwords).
    Shufps,
}

/// Loads of a vector register from memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// 8 bytes, the upper half cleared.
    Movq,
    /// 8 bytes into the upper half, the lower half kept.
    Movhps,
    /// 8 bytes widened lane by lane (SSE4.1).
    Pmovzxbw,
    Pmovzxwd,
    Pmovzxdq,
    Pmovsxbw,
    Pmovsxwd,
    Pmovsxdq,
}

// Rows by the narrow lane size (8, 16, 32 bits).
pub const PMOVZX: [Load; 3] = [Load::Pmovzxbw, Load::Pmovzxwd, Load::Pmovzxdq];
pub const PMOVSX: [Load; 3] = [Load::Pmovsxbw, Load::Pmovsxwd, Load::Pmovsxdq];

impl Emitter<'_> {
    /// `op d, s`.
    pub fn sse(&mut self, op: Sse, d: Xmm, s: Xmm) {
        macro_rules! rows {
            ($($name:ident => $mn:ident),* $(,)?) => {
                match op { $($name => x64!(self.ops; $mn Rx(d), Rx(s)),)* }
            };
        }
        rows! {
            Movdqa => movdqa, Movq => movq, Pand => pand, Pandn => pandn, Por => por, Pxor => pxor,
            Paddb => paddb, Paddw => paddw, Paddd => paddd, Paddq => paddq,
            Psubb => psubb, Psubw => psubw, Psubd => psubd, Psubq => psubq,
            Pmullw => pmullw, Pmulld => pmulld,
            Pcmpeqb => pcmpeqb, Pcmpeqw => pcmpeqw, Pcmpeqd => pcmpeqd, Pcmpeqq => pcmpeqq,
            Pcmpgtb => pcmpgtb, Pcmpgtw => pcmpgtw, Pcmpgtd => pcmpgtd, Pcmpgtq => pcmpgtq,
            Pmaxub => pmaxub, Pmaxuw => pmaxuw, Pmaxud => pmaxud,
            Pminub => pminub, Pminuw => pminuw, Pminud => pminud,
            Pmaxsb => pmaxsb, Pmaxsw => pmaxsw, Pmaxsd => pmaxsd,
            Pminsb => pminsb, Pminsw => pminsw, Pminsd => pminsd,
            Punpcklbw => punpcklbw, Punpcklwd => punpcklwd, Punpckldq => punpckldq, Punpcklqdq => punpcklqdq,
            Punpckhbw => punpckhbw, Punpckhwd => punpckhwd, Punpckhdq => punpckhdq, Punpckhqdq => punpckhqdq,
            Packsswb => packsswb, Packssdw => packssdw, Packuswb => packuswb,
        }
    }

    /// `op x, imm`.
    pub fn sse_shift(&mut self, op: Shift, x: Xmm, imm: u8) {
        let imm = imm as i8;
        match op {
            Shift::Psllw => x64!(self.ops; psllw Rx(x), imm),
            Shift::Pslld => x64!(self.ops; pslld Rx(x), imm),
            Shift::Psllq => x64!(self.ops; psllq Rx(x), imm),
            Shift::Psrlw => x64!(self.ops; psrlw Rx(x), imm),
            Shift::Psrld => x64!(self.ops; psrld Rx(x), imm),
            Shift::Psrlq => x64!(self.ops; psrlq Rx(x), imm),
            Shift::Psraw => x64!(self.ops; psraw Rx(x), imm),
            Shift::Psrad => x64!(self.ops; psrad Rx(x), imm),
            Shift::Pslldq => x64!(self.ops; pslldq Rx(x), imm),
            Shift::Psrldq => x64!(self.ops; psrldq Rx(x), imm),
        }
    }

    /// `op d, s, imm`.
    pub fn shuffle(&mut self, op: Shuffle, d: Xmm, s: Xmm, imm: u8) {
        let imm = imm as i8;
        match op {
            Shuffle::Pshufd => x64!(self.ops; pshufd Rx(d), Rx(s), imm),
            Shuffle::Pshuflw => x64!(self.ops; pshuflw Rx(d), Rx(s), imm),
            Shuffle::Pshufhw => x64!(self.ops; pshufhw Rx(d), Rx(s), imm),
            Shuffle::Shufps => x64!(self.ops; shufps Rx(d), Rx(s), imm),
        }
    }

    /// `op x, [m]`.
    pub fn sse_load(&mut self, op: Load, x: Xmm, m: Mem) {
        let ops = &mut self.ops;
        match op {
            Load::Movq => with_mem!(ops, m, [movq Rx(x), QWORD], []),
            Load::Movhps => with_mem!(ops, m, [movhps Rx(x), QWORD], []),
            Load::Pmovzxbw => with_mem!(ops, m, [pmovzxbw Rx(x), QWORD], []),
            Load::Pmovzxwd => with_mem!(ops, m, [pmovzxwd Rx(x), QWORD], []),
            Load::Pmovzxdq => with_mem!(ops, m, [pmovzxdq Rx(x), QWORD], []),
            Load::Pmovsxbw => with_mem!(ops, m, [pmovsxbw Rx(x), QWORD], []),
            Load::Pmovsxwd => with_mem!(ops, m, [pmovsxwd Rx(x), QWORD], []),
            Load::Pmovsxdq => with_mem!(ops, m, [pmovsxdq Rx(x), QWORD], []),
        }
    }

    /// `movdqu [m], x`.
    pub fn sse_store(&mut self, m: Mem, x: Xmm) {
        let ops = &mut self.ops;
        with_mem!(ops, m, [movdqu OWORD], [, Rx(x)]);
    }

    /// `movdqa x, [constant]`: a 16-byte constant from the block's pool.
    pub fn sse_load_constant(&mut self, x: Xmm, label: DynamicLabel) {
        x64!(self.ops; movdqa Rx(x), [=>label]);
    }
}
