//! Vector ops ([`archway_ir::Op::Vec`]): SSE code on the guest state's 16-byte fields.
//!
//! An op loads `a` into `xmm0`, `b` into `xmm1` and, when it reads it, `dst` into
//! `xmm2` (from `[r15 + offset]`: fields need no alignment and may coincide, as
//! everything is loaded before the one store), computes in `xmm0`..`xmm3` and stores
//! 16 bytes (`movdqu`); a 64-bit vector's result has its upper half cleared (`movq`).
//!
//! Operands are loaded as 8-byte halves (`movq`, then `movhps` when the upper half
//! matters; 64-bit vectors mostly need only the lower one). Guest code writes vector
//! registers in halves too (`LDR Q`, `FMOV`, lane moves are 8-byte state writes), and a
//! 16-byte load of two recent 8-byte stores cannot be forwarded from them: it waits
//! for both to reach the cache, a stall of a dozen cycles on every such chain.
//!
//! The code is SSE2, the x86_64 baseline, wherever SSE2 does it in a few instructions:
//! - byte shifts are word shifts and a mask; a signed byte shift unpacks to words;
//! - unsigned comparisons flip the sign bit of both operands and compare signed;
//!   `>=` and the compares with zero are a `>` or `==` with operands swapped or inverted;
//! - even/odd lane splits (UZP, pairwise ops) shift each pair and pack with a
//!   saturating pack that cannot saturate (or `shufps`, `punpck*qdq` for 32/64 bits);
//! - 64-bit arithmetic right shifts and ABS build the sign from the high dwords.
//!
//! What needs SSE4.1 or SSE4.2 (32-bit multiply, most 16/32-bit maxima and minima,
//! 64-bit compares) is used when the host has it ([`native`]); otherwise the op calls
//! the reference implementation, [`archway_ir::lane_ops::exec_packed`], like a helper, and
//! the register allocator treats it as a call. SSE4.1's `pmovzx`/`pmovsx` also shorten
//! UXTL/SXTL when present. Masks and sign biases come from the block's constant pool.

use super::sse::{
    Load, Shift, Shuffle, Sse, Xmm, PADD, PCMPEQ, PCMPGT, PMAXS, PMAXU, PMINS, PMINU, PMOVSX, PMOVZX, PSLL, PSRL, PSUB,
    PUNPCKH, PUNPCKL, X0, X1, X2, X3,
};
use super::Emitter;
use crate::features::HostFeatures;
use crate::regs::ARG_REGS;
use archway_ir::lane_ops::{exec_packed, VecInst, VecOp, VecOp::*};

/// The SSE level an op's code needs.
enum Level {
    Sse2,
    Sse41,
    Sse42,
}

fn level(op: VecOp, esize: u8) -> Level {
    match (op.lanewise(), esize) {
        (Mul, 32) | (UMax | UMin, 16 | 32) | (SMax | SMin, 8 | 32) | (CmEq | CmTst | CmEq0, 64) => Level::Sse41,
        (CmGt | CmGe | CmHi | CmHs | CmGt0 | CmGe0 | CmLe0 | CmLt0, 64) => Level::Sse42,
        _ => Level::Sse2,
    }
}

/// Whether `v` compiles to SSE code on a host with `features` (otherwise it calls the
/// reference implementation).
pub fn native(v: &VecInst, features: HostFeatures) -> bool {
    match level(v.op, v.esize) {
        Level::Sse2 => true,
        Level::Sse41 => features.sse41,
        Level::Sse42 => features.sse42,
    }
}

/// The row of the per-lane-size tables: `log2(esize / 8)`.
fn row(esize: u8) -> usize {
    (esize / 8).trailing_zeros() as usize
}

/// `lane` (of `esize` bits) in every lane.
fn splat(esize: u8, lane: u64) -> u128 {
    let e = u32::from(esize);
    (0..128 / e).fold(0, |r, i| r | u128::from(lane) << (e * i))
}

/// Whether an op on 64-bit vectors leaves the upper half of the result zero by itself:
/// its inputs' upper halves are loaded as zero, and it maps zero lanes to zero lanes.
fn keeps_zero(op: VecOp) -> bool {
    matches!(
        op,
        Add | Sub
            | Mul
            | And
            | Orr
            | Eor
            | Bic
            | UMax
            | UMin
            | SMax
            | SMin
            | CmTst
            | Bsl
            | Bit
            | Bif
            | Neg
            | Abs
            | Shl
            | UShr
            | SShr
            | USra
            | SSra
    )
}

/// The two-register instruction of a lane-by-lane op (add, logic, max/min, multiply).
fn lanewise(op: VecOp, r: usize) -> Sse {
    match op {
        Sub => PSUB[r],
        Mul if r == 1 => Sse::Pmullw,
        Mul => Sse::Pmulld,
        And => Sse::Pand,
        Orr => Sse::Por,
        Eor => Sse::Pxor,
        UMax => PMAXU[r],
        UMin => PMINU[r],
        SMax => PMAXS[r],
        SMin => PMINS[r],
        // Add, and the sums of ADDP and ADDV.
        _ => PADD[r],
    }
}

/// A comparison as an SSE `==` or signed `>` of `(a, b)` (b is zero for the compares
/// with zero, `a & b` against zero for CMTST): with the operands swapped, the sign bits
/// flipped (unsigned), the result inverted.
struct Compare {
    gt: bool,
    swap: bool,
    invert: bool,
    unsigned: bool,
}

fn comparison(op: VecOp) -> Compare {
    let row = |gt, swap, invert, unsigned| Compare { gt, swap, invert, unsigned };
    match op {
        CmGt | CmGt0 => row(true, false, false, false),
        CmGe | CmGe0 => row(true, true, true, false),
        CmHi => row(true, false, false, true),
        CmHs => row(true, true, true, true),
        CmLe0 => row(true, false, true, false),
        CmLt0 => row(true, true, false, false),
        CmTst => row(false, false, true, false),
        _ => row(false, false, false, false),
    }
}

impl Emitter<'_> {
    pub(super) fn vec(&mut self, v: &VecInst) {
        if !native(v, self.features) {
            for (&reg, word) in ARG_REGS.iter().zip(v.pack()) {
                self.mov_imm(reg, word);
            }
            self.call_func(exec_packed as *const () as usize);
            return;
        }
        let out = if matches!(v.op, UShll | SShll) {
            self.vec_widen(v)
        } else {
            // A 64-bit vector's result depends on the lower halves only, but for the
            // lanes DUP may pick, the wide lanes SHRN narrows, and the half XTN2 keeps.
            self.load_vector(X0, v.a, v.full || matches!(v.op, Dup | ShrN));
            if v.op.reads_b() {
                self.load_vector(X1, v.b, v.full);
            }
            if v.reads_dst() {
                self.load_vector(X2, v.dst, v.full && v.op != ShrN);
            }
            self.compute(v)
        };
        let m = self.state_field(v.dst);
        self.sse_store(m, out);
    }

    /// The result of `v` from its loaded operands, in the register returned.
    fn compute(&mut self, v: &VecInst) -> Xmm {
        let r = row(v.esize);
        let out = match v.op {
            Add | Sub | Mul | And | Orr | Eor | Bic | Orn | UMax | UMin | SMax | SMin => self.vec_binary(v.op, r),
            CmEq | CmGt | CmGe | CmHi | CmHs | CmTst | CmEq0 | CmGt0 | CmGe0 | CmLe0 | CmLt0 => self.vec_compare(v),
            Bsl | Bit | Bif => self.vec_select(v.op),
            Not | Neg | Abs => self.vec_unary(v.op, r),
            Shl | UShr | SShr | USra | SSra => self.vec_shift(v),
            ShrN => return self.vec_narrow(v),
            Zip1 | Zip2 => self.vec_zip(v),
            Uzp1 | Uzp2 => {
                self.concat_halves(v);
                self.deinterleave(r, X0, X1, v.op == Uzp2)
            }
            Trn1 | Trn2 => self.vec_transpose(v),
            Ext => self.vec_extract(v),
            Dup => self.vec_dup(r, v.imm as u8),
            Addp | UMaxp | UMinp | SMaxp | SMinp => self.vec_pairwise(v),
            AddV | UMaxV | UMinV | SMaxV | SMinV => return self.vec_reduce(v),
            // Loaded by `widen` instead.
            UShll | SShll => X0,
        };
        if !v.full && !keeps_zero(v.op) {
            self.sse(Sse::Movq, out, out);
        }
        out
    }

    fn load_field(&mut self, op: Load, x: Xmm, offset: u32) {
        let m = self.state_field(offset);
        self.sse_load(op, x, m);
    }

    /// Load the field at `offset` into `x` as 8-byte halves: the lower one, and the
    /// upper one when `both` (else the upper half of `x` is zero).
    fn load_vector(&mut self, x: Xmm, offset: u32, both: bool) {
        self.load_field(Load::Movq, x, offset);
        if both {
            self.load_field(Load::Movhps, x, offset.wrapping_add(8));
        }
    }

    fn load_splat(&mut self, x: Xmm, esize: u8, lane: u64) {
        let label = self.constant(splat(esize, lane));
        self.sse_load_constant(x, label);
    }

    /// `x` = all ones.
    fn ones(&mut self, x: Xmm) {
        self.sse(Sse::Pcmpeqd, x, x);
    }

    fn zero(&mut self, x: Xmm) {
        self.sse(Sse::Pxor, x, x);
    }

    fn vec_binary(&mut self, op: VecOp, r: usize) -> Xmm {
        match op {
            Bic => {
                self.sse(Sse::Pandn, X1, X0);
                return X1;
            }
            Orn => {
                self.ones(X3);
                self.sse(Sse::Pxor, X1, X3);
                self.sse(Sse::Por, X0, X1);
            }
            Mul if r == 0 => {
                // Even products from the low bytes of word products, odd ones from the
                // high bytes shifted down.
                self.sse(Sse::Movdqa, X2, X0);
                self.sse(Sse::Movdqa, X3, X1);
                self.sse(Sse::Pmullw, X0, X1);
                self.sse_shift(Shift::Psllw, X0, 8);
                self.sse_shift(Shift::Psrlw, X0, 8);
                self.sse_shift(Shift::Psrlw, X2, 8);
                self.sse_shift(Shift::Psrlw, X3, 8);
                self.sse(Sse::Pmullw, X2, X3);
                self.sse_shift(Shift::Psllw, X2, 8);
                self.sse(Sse::Por, X0, X2);
            }
            _ => self.sse(lanewise(op, r), X0, X1),
        }
        X0
    }

    fn vec_compare(&mut self, v: &VecInst) -> Xmm {
        let r = row(v.esize);
        let c = comparison(v.op);
        if v.op == CmTst {
            self.sse(Sse::Pand, X0, X1);
        }
        if !v.op.reads_b() || v.op == CmTst {
            self.zero(X1);
        }
        if c.unsigned {
            self.load_splat(X3, v.esize, 1 << (v.esize - 1));
            self.sse(Sse::Pxor, X0, X3);
            self.sse(Sse::Pxor, X1, X3);
        }
        let (d, s) = if c.swap { (X1, X0) } else { (X0, X1) };
        self.sse(if c.gt { PCMPGT[r] } else { PCMPEQ[r] }, d, s);
        if c.invert {
            self.ones(X3);
            self.sse(Sse::Pxor, d, X3);
        }
        d
    }

    /// BSL, BIT, BIF as `((x ^ y) & mask) ^ y` forms (`xmm2` holds the old `dst`).
    fn vec_select(&mut self, op: VecOp) -> Xmm {
        match op {
            Bsl => {
                self.sse(Sse::Pxor, X0, X1);
                self.sse(Sse::Pand, X0, X2);
                self.sse(Sse::Pxor, X0, X1);
                X0
            }
            Bit => {
                self.sse(Sse::Pxor, X0, X2);
                self.sse(Sse::Pand, X0, X1);
                self.sse(Sse::Pxor, X0, X2);
                X0
            }
            _ => {
                self.sse(Sse::Pxor, X0, X2);
                self.sse(Sse::Pandn, X1, X0);
                self.sse(Sse::Pxor, X1, X2);
                X1
            }
        }
    }

    /// `d` = all ones in each 32-bit (`r` = 2) or 64-bit (`r` = 3) lane of `s` that is
    /// negative.
    fn sign_mask(&mut self, r: usize, d: Xmm, s: Xmm) {
        if r == 3 {
            // The high dword of each lane in both of its dwords.
            self.shuffle(Shuffle::Pshufd, d, s, 0xf5);
        } else {
            self.sse(Sse::Movdqa, d, s);
        }
        self.sse_shift(Shift::Psrad, d, 31);
    }

    fn vec_unary(&mut self, op: VecOp, r: usize) -> Xmm {
        match (op, r) {
            (Not, _) => {
                self.ones(X1);
                self.sse(Sse::Pxor, X0, X1);
                X0
            }
            (Neg, _) => {
                self.zero(X1);
                self.sse(PSUB[r], X1, X0);
                X1
            }
            // |x| = unsigned min(x, -x) for bytes, signed max(x, -x) for halfwords.
            (_, 0 | 1) => {
                self.zero(X1);
                self.sse(PSUB[r], X1, X0);
                self.sse(if r == 0 { Sse::Pminub } else { Sse::Pmaxsw }, X0, X1);
                X0
            }
            // |x| = (x ^ sign) - sign.
            _ => {
                self.sign_mask(r, X1, X0);
                self.sse(Sse::Pxor, X0, X1);
                self.sse(PSUB[r], X0, X1);
                X0
            }
        }
    }

    fn vec_shift(&mut self, v: &VecInst) -> Xmm {
        let (r, n) = (row(v.esize), v.imm as u8);
        let left = v.op == Shl;
        let signed = matches!(v.op, SShr | SSra);
        match r {
            0 if signed => {
                // Each byte into the high byte of a word, shifted by 8 more, packed back.
                self.sse(Sse::Movdqa, X1, X0);
                self.sse(Sse::Punpcklbw, X0, X0);
                self.sse(Sse::Punpckhbw, X1, X1);
                self.sse_shift(Shift::Psraw, X0, 8 + n);
                self.sse_shift(Shift::Psraw, X1, 8 + n);
                self.sse(Sse::Packsswb, X0, X1);
            }
            0 => {
                // Word shifts, then clear the bits that crossed into the neighbour byte.
                let (op, keep) = if left { (Shift::Psllw, 0xffu64 << n) } else { (Shift::Psrlw, 0xff >> n) };
                self.sse_shift(op, X0, n);
                self.load_splat(X3, 8, keep & 0xff);
                self.sse(Sse::Pand, X0, X3);
            }
            3 if signed && n >= 64 => self.sign_mask(3, X0, X0),
            3 if signed => {
                // The logical shift, with the sign shifted into the vacated bits.
                self.sign_mask(3, X1, X0);
                self.sse_shift(Shift::Psrlq, X0, n);
                self.sse_shift(Shift::Psllq, X1, 64 - n);
                self.sse(Sse::Por, X0, X1);
            }
            _ if signed => self.sse_shift(if r == 1 { Shift::Psraw } else { Shift::Psrad }, X0, n),
            _ => self.sse_shift(if left { PSLL[r - 1] } else { PSRL[r - 1] }, X0, n),
        }
        if matches!(v.op, USra | SSra) {
            self.sse(PADD[r], X0, X2);
        }
        X0
    }

    /// UXTL/SXTL/USHLL/SSHLL/SHLL: widen the selected half of `a`, then shift.
    fn vec_widen(&mut self, v: &VecInst) -> Xmm {
        let r = row(v.esize);
        let signed = v.op == SShll;
        let half = v.a.wrapping_add(if v.full { 8 } else { 0 });
        if self.features.sse41 {
            self.load_field(if signed { PMOVSX[r] } else { PMOVZX[r] }, X0, half);
        } else {
            self.load_field(Load::Movq, X0, half);
            match r {
                _ if !signed => {
                    self.zero(X1);
                    self.sse(PUNPCKL[r], X0, X1);
                }
                0 => {
                    self.sse(Sse::Punpcklbw, X0, X0);
                    self.sse_shift(Shift::Psraw, X0, 8);
                }
                1 => {
                    self.sse(Sse::Punpcklwd, X0, X0);
                    self.sse_shift(Shift::Psrad, X0, 16);
                }
                _ => {
                    self.sign_mask(2, X1, X0);
                    self.sse(Sse::Punpckldq, X0, X1);
                }
            }
        }
        if v.imm > 0 {
            self.sse_shift(PSLL[r], X0, v.imm as u8);
        }
        X0
    }

    /// XTN/SHRN (and the `2` forms into the upper half of `dst`).
    fn vec_narrow(&mut self, v: &VecInst) -> Xmm {
        let r = row(v.esize);
        if v.imm > 0 {
            self.sse_shift(PSRL[r], X0, v.imm as u8);
        }
        match r {
            // The low half of each lane sign-extended over it, then a signed pack.
            0 => {
                self.sse_shift(Shift::Psllw, X0, 8);
                self.sse_shift(Shift::Psraw, X0, 8);
                self.sse(Sse::Packsswb, X0, X0);
            }
            1 => {
                self.sse_shift(Shift::Pslld, X0, 16);
                self.sse_shift(Shift::Psrad, X0, 16);
                self.sse(Sse::Packssdw, X0, X0);
            }
            _ => self.shuffle(Shuffle::Pshufd, X0, X0, 0x08),
        }
        if v.full {
            self.sse(Sse::Punpcklqdq, X2, X0);
            X2
        } else {
            self.sse(Sse::Movq, X0, X0);
            X0
        }
    }

    fn vec_zip(&mut self, v: &VecInst) -> Xmm {
        let r = row(v.esize);
        if v.op == Zip2 && v.full {
            self.sse(PUNPCKH[r], X0, X1);
        } else {
            self.sse(PUNPCKL[r], X0, X1);
            if v.op == Zip2 {
                // The pairs from the high lanes of 64-bit vectors are the upper half.
                self.sse_shift(Shift::Psrldq, X0, 8);
            }
        }
        X0
    }

    /// For 64-bit vectors, `a:b` as one 128-bit vector in both `xmm0` and `xmm1`.
    fn concat_halves(&mut self, v: &VecInst) {
        if !v.full {
            self.sse(Sse::Punpcklqdq, X0, X1);
            self.sse(Sse::Movdqa, X1, X0);
        }
    }

    /// The even (or odd) lanes of `x` then of `y`, in `x`.
    fn deinterleave(&mut self, r: usize, x: Xmm, y: Xmm, odd: bool) -> Xmm {
        match r {
            0 | 1 => {
                let (shl, shr, pack) = if r == 0 {
                    (Shift::Psllw, Shift::Psrlw, Sse::Packuswb)
                } else {
                    (Shift::Pslld, Shift::Psrad, Sse::Packssdw)
                };
                for z in [x, y] {
                    if !odd {
                        self.sse_shift(shl, z, 8 << r);
                    }
                    self.sse_shift(shr, z, 8 << r);
                }
                self.sse(pack, x, y);
            }
            2 => self.shuffle(Shuffle::Shufps, x, y, if odd { 0xdd } else { 0x88 }),
            _ => self.sse(if odd { Sse::Punpckhqdq } else { Sse::Punpcklqdq }, x, y),
        }
        x
    }

    fn vec_transpose(&mut self, v: &VecInst) -> Xmm {
        let (r, e) = (row(v.esize), v.esize);
        let odd = v.op == Trn2;
        if r == 3 {
            self.sse(if odd { Sse::Punpckhqdq } else { Sse::Punpcklqdq }, X0, X1);
            return X0;
        }
        // Within each pair of lanes: keep a's chosen lane low and b's high.
        let (shl, shr) = (PSLL[r], PSRL[r]);
        if odd {
            self.sse_shift(shr, X0, e);
            self.sse_shift(shr, X1, e);
            self.sse_shift(shl, X1, e);
        } else {
            self.sse_shift(shl, X0, e);
            self.sse_shift(shr, X0, e);
            self.sse_shift(shl, X1, e);
        }
        self.sse(Sse::Por, X0, X1);
        X0
    }

    fn vec_extract(&mut self, v: &VecInst) -> Xmm {
        let k = v.imm as u8;
        if v.full {
            if k > 0 {
                self.sse_shift(Shift::Psrldq, X0, k);
                self.sse_shift(Shift::Pslldq, X1, 16 - k);
                self.sse(Sse::Por, X0, X1);
            }
        } else {
            self.sse(Sse::Punpcklqdq, X0, X1);
            if k > 0 {
                self.sse_shift(Shift::Psrldq, X0, k);
            }
        }
        X0
    }

    fn vec_dup(&mut self, r: usize, i: u8) -> Xmm {
        match r {
            0 => {
                if i > 0 {
                    self.sse_shift(Shift::Psrldq, X0, i);
                }
                self.sse(Sse::Punpcklbw, X0, X0);
                self.shuffle(Shuffle::Pshuflw, X0, X0, 0);
                self.shuffle(Shuffle::Pshufd, X0, X0, 0);
            }
            1 if i < 4 => {
                self.shuffle(Shuffle::Pshuflw, X0, X0, 0x55 * i);
                self.shuffle(Shuffle::Pshufd, X0, X0, 0);
            }
            1 => {
                self.shuffle(Shuffle::Pshufhw, X0, X0, 0x55 * (i - 4));
                self.shuffle(Shuffle::Pshufd, X0, X0, 0xaa);
            }
            2 => self.shuffle(Shuffle::Pshufd, X0, X0, 0x55 * i),
            _ => self.shuffle(Shuffle::Pshufd, X0, X0, if i == 0 { 0x44 } else { 0xee }),
        }
        X0
    }

    /// ADDP, UMAXP...: the lane op on the even and the odd lanes of `a:b`.
    fn vec_pairwise(&mut self, v: &VecInst) -> Xmm {
        let r = row(v.esize);
        self.concat_halves(v);
        self.sse(Sse::Movdqa, X2, X0);
        self.sse(Sse::Movdqa, X3, X1);
        self.deinterleave(r, X0, X1, false);
        self.deinterleave(r, X2, X3, true);
        self.sse(lanewise(v.op.lanewise(), r), X0, X2);
        X0
    }

    /// ADDV, UMAXV...: fold the upper half of the lanes onto the lower until one is
    /// left, then clear everything above lane 0.
    fn vec_reduce(&mut self, v: &VecInst) -> Xmm {
        let lane_bytes = v.esize / 8;
        let op = lanewise(v.op.lanewise(), row(v.esize));
        let mut step = if v.full { 8 } else { 4 };
        while step >= lane_bytes {
            match step {
                8 => self.shuffle(Shuffle::Pshufd, X1, X0, 0x0e),
                4 => self.shuffle(Shuffle::Pshufd, X1, X0, 0x01),
                2 => self.shuffle(Shuffle::Pshuflw, X1, X0, 0x01),
                _ => {
                    self.sse(Sse::Movdqa, X1, X0);
                    self.sse_shift(Shift::Psrlw, X1, 8);
                }
            }
            self.sse(op, X0, X1);
            step /= 2;
        }
        self.sse_shift(Shift::Pslldq, X0, 16 - lane_bytes);
        self.sse_shift(Shift::Psrldq, X0, 16 - lane_bytes);
        X0
    }
}
