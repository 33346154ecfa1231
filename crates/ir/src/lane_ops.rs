//! Lane operations on guest state: what [`Op::Vec`](crate::Op::Vec) means.
//!
//! The IR has no vector values. A [`VecInst`] works from state to state: it reads the
//! 16-byte fields at byte offsets `a`, `b` (when its op has a second operand) and `dst`
//! (for the ops that keep or merge into the destination), computes, and writes all 16
//! bytes at `dst`. Every input is read before the output is written, so fields may
//! coincide. Lanes are `esize` bits (8, 16, 32 or 64), lane 0 in the lowest bytes (the
//! little-endian layout of AArch64 `V` registers). `full` is the AArch64 Q bit: a
//! 128-bit vector, or a 64-bit one whose result clears bits 127..64 (a 64-bit vector of
//! one 64-bit lane is the architecture's scalar `D` form). A few ops read `full` the
//! way the architecture reads Q for them (widening, narrowing); [`VecOp`] says which.
//!
//! - [`eval`] is the definition, on `u128` register values;
//! - [`exec`] runs an instruction on a state (the interpreter);
//! - [`exec_packed`] is `exec` as a helper function of four `u64` arguments
//!   ([`VecInst::pack`]), for back ends without host code for some op on some host;
//! - [`VecInst::check`] says which combinations exist (the verifier's rule).

/// What a [`VecInst`] computes. `a`, `b`, `d` are the lanes of the fields at `a`, `b`
/// and `dst`; `n` is the number of lanes (`128 / esize`, or `64 / esize` when not
/// `full`). Comparisons give all ones for true, zero for false.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum VecOp {
    /// `a + b` (wrapping).
    Add,
    /// `a - b` (wrapping).
    Sub,
    /// `a * b` (low half of the product).
    Mul,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Orr,
    /// Bitwise exclusive or.
    Eor,
    /// `a & !b`.
    Bic,
    /// `a | !b`.
    Orn,
    /// `a == b`.
    CmEq,
    /// `a > b`, signed.
    CmGt,
    /// `a >= b`, signed.
    CmGe,
    /// `a > b`, unsigned.
    CmHi,
    /// `a >= b`, unsigned.
    CmHs,
    /// `(a & b) != 0`.
    CmTst,
    /// Unsigned maximum per lane.
    UMax,
    /// Unsigned minimum per lane.
    UMin,
    /// Signed maximum per lane.
    SMax,
    /// Signed minimum per lane.
    SMin,
    /// `(d & a) | (!d & b)`: `d` selects between `a` and `b`.
    Bsl,
    /// `(a & b) | (d & !b)`: insert `a` where `b` is set.
    Bit,
    /// `(d & b) | (a & !b)`: insert `a` where `b` is clear.
    Bif,
    /// `!a`.
    Not,
    /// `-a` (wrapping).
    Neg,
    /// `|a|` (wrapping: the most negative value stays).
    Abs,
    /// `a == 0`.
    CmEq0,
    /// `a > 0`, signed.
    CmGt0,
    /// `a >= 0`, signed.
    CmGe0,
    /// `a <= 0`, signed.
    CmLe0,
    /// `a < 0`, signed.
    CmLt0,
    /// `a << imm` (`imm` >= `esize` gives 0).
    Shl,
    /// `a >> imm`, logical (`imm` = `esize` gives 0).
    UShr,
    /// `a >> imm`, arithmetic (`imm` = `esize` gives the sign in every bit).
    SShr,
    /// `d + (a >> imm)`, logical shift.
    USra,
    /// `d + (a >> imm)`, arithmetic shift.
    SSra,
    /// Widen the `esize`-bit lanes of the low half of `a` (the high half when `full`:
    /// the `2` forms) to `2 * esize` bits by zero extension, then shift left by `imm`.
    /// UXTL is `imm` = 0, USHLL `imm` < `esize`, SHLL `imm` = `esize`. The result is
    /// always 128 bits.
    UShll,
    /// As [`VecOp::UShll`] with sign extension (SXTL, SSHLL).
    SShll,
    /// Shift the `2 * esize`-bit lanes of `a` right by `imm` (logical) and keep their
    /// low `esize` bits, giving a 64-bit vector: the result (upper half zero), or, when
    /// `full` (the `2` forms), the upper half of `dst` (the lower half is kept).
    /// XTN is `imm` = 0, SHRN `imm` >= 1.
    ShrN,
    /// Interleave the low halves of `a` and `b`: `a0 b0 a1 b1 ...`.
    Zip1,
    /// Interleave the high halves of `a` and `b`.
    Zip2,
    /// The even lanes of `a` then of `b`.
    Uzp1,
    /// The odd lanes of `a` then of `b`.
    Uzp2,
    /// `a0 b0 a2 b2 ...`.
    Trn1,
    /// `a1 b1 a3 b3 ...`.
    Trn2,
    /// Bytes `imm ..` of the concatenation `a b` (each `n` bytes); `esize` is 8.
    Ext,
    /// Lane `imm` of `a` (any of its 128 bits) in every lane.
    Dup,
    /// Sums of adjacent lane pairs of the concatenation `a b` (each `n` lanes).
    Addp,
    /// Unsigned maxima of adjacent lane pairs of `a b`.
    UMaxp,
    /// Unsigned minima of adjacent lane pairs of `a b`.
    UMinp,
    /// Signed maxima of adjacent lane pairs of `a b`.
    SMaxp,
    /// Signed minima of adjacent lane pairs of `a b`.
    SMinp,
    /// The sum of the `n` lanes of `a` (wrapping) in lane 0; every other bit zero.
    AddV,
    /// The unsigned maximum of the lanes of `a` in lane 0; every other bit zero.
    UMaxV,
    /// The unsigned minimum of the lanes of `a` in lane 0; every other bit zero.
    UMinV,
    /// The signed maximum of the lanes of `a` in lane 0; every other bit zero.
    SMaxV,
    /// The signed minimum of the lanes of `a` in lane 0; every other bit zero.
    SMinV,
}

use VecOp::*;

/// Lane sizes as bits of a mask: 8, 16, 32, 64 bits.
const B: u8 = 1;
const H: u8 = 2;
const S: u8 = 4;
const D: u8 = 8;
const BHS: u8 = B | H | S;
const BHSD: u8 = BHS | D;

/// What the `imm` field of an op holds.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Imm {
    /// Nothing: `imm` must be 0.
    None,
    /// A shift amount, 0..=`esize`.
    Shift,
    /// A lane index of the whole 128-bit `a`.
    Lane,
    /// A byte index of the `n`-byte vector.
    Byte,
}

/// Where an op is defined and what its fields mean.
#[derive(Copy, Clone, Debug)]
struct Shape {
    /// Lane sizes allowed with `full` set, and clear.
    full: u8,
    half: u8,
    /// Whether `b` is an operand.
    reads_b: bool,
    imm: Imm,
}

const fn shape(full: u8, half: u8, reads_b: bool, imm: Imm) -> Shape {
    Shape { full, half, reads_b, imm }
}

impl VecOp {
    /// Every op, in declaration order (`ALL[op as usize] == op`).
    pub const ALL: [VecOp; 55] = [
        Add, Sub, Mul, And, Orr, Eor, Bic, Orn, CmEq, CmGt, CmGe, CmHi, CmHs, CmTst, UMax, UMin, SMax, SMin, Bsl, Bit,
        Bif, Not, Neg, Abs, CmEq0, CmGt0, CmGe0, CmLe0, CmLt0, Shl, UShr, SShr, USra, SSra, UShll, SShll, ShrN, Zip1,
        Zip2, Uzp1, Uzp2, Trn1, Trn2, Ext, Dup, Addp, UMaxp, UMinp, SMaxp, SMinp, AddV, UMaxV, UMinV, SMaxV, SMinV,
    ];

    const fn shape(self) -> Shape {
        match self {
            Add | Sub | CmEq | CmGt | CmGe | CmHi | CmHs | CmTst => shape(BHSD, BHSD, true, Imm::None),
            Mul | UMax | UMin | SMax | SMin | UMaxp | UMinp | SMaxp | SMinp => shape(BHS, BHS, true, Imm::None),
            And | Orr | Eor | Bic | Orn | Bsl | Bit | Bif => shape(B, B, true, Imm::None),
            Not => shape(B, B, false, Imm::None),
            Neg | Abs | CmEq0 | CmGt0 | CmGe0 | CmLe0 | CmLt0 => shape(BHSD, BHSD, false, Imm::None),
            Shl | UShr | SShr | USra | SSra => shape(BHSD, BHSD, false, Imm::Shift),
            UShll | SShll | ShrN => shape(BHS, BHS, false, Imm::Shift),
            Zip1 | Zip2 | Uzp1 | Uzp2 | Trn1 | Trn2 => shape(BHSD, BHS, true, Imm::None),
            Ext => shape(B, B, true, Imm::Byte),
            Dup => shape(BHSD, BHS, false, Imm::Lane),
            Addp => shape(BHSD, BHS, true, Imm::None),
            AddV | UMaxV | UMinV | SMaxV | SMinV => shape(BHS, B | H, false, Imm::None),
        }
    }

    /// Whether the op reads the field at `b`.
    pub const fn reads_b(self) -> bool {
        self.shape().reads_b
    }

    /// Whether the op has an immediate operand.
    pub fn has_imm(self) -> bool {
        self.shape().imm != Imm::None
    }

    /// The lane-by-lane op a pairwise or across-lanes op applies (others: the op itself).
    pub const fn lanewise(self) -> VecOp {
        match self {
            Addp | AddV => Add,
            UMaxp | UMaxV => UMax,
            UMinp | UMinV => UMin,
            SMaxp | SMaxV => SMax,
            SMinp | SMinV => SMin,
            other => other,
        }
    }
}

/// One vector instruction: `dst = op(a, b)` on guest state fields (byte offsets).
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub struct VecInst {
    /// The operation.
    pub op: VecOp,
    /// Lane size in bits: 8, 16, 32 or 64 (the narrow size for widening and narrowing).
    pub esize: u8,
    /// The Q bit: 128-bit vectors (else 64-bit, upper result bits cleared).
    pub full: bool,
    /// The destination field (byte offset in the state).
    pub dst: u32,
    /// The first operand's field (byte offset in the state).
    pub a: u32,
    /// The second operand; 0 when the op has none.
    pub b: u32,
    /// Shift amount, lane or byte index, as the op says; else 0.
    pub imm: u32,
}

impl VecInst {
    /// Whether the instruction reads the field at `dst` before writing it.
    pub fn reads_dst(&self) -> bool {
        matches!(self.op, Bsl | Bit | Bif | USra | SSra) || (self.op == ShrN && self.full)
    }

    /// The offsets of the 16-byte fields the instruction reads.
    pub fn reads(&self) -> impl Iterator<Item = u32> {
        let b = self.op.reads_b().then_some(self.b);
        let d = self.reads_dst().then_some(self.dst);
        [Some(self.a), b, d].into_iter().flatten()
    }

    /// Lanes in the vector (of `esize` bits, 64 or 128 bits as `full` says).
    pub fn lanes(&self) -> usize {
        (if self.full { 128 } else { 64 }) / usize::from(self.esize.max(8))
    }

    /// Whether the op is defined for this lane size, vector width and immediate.
    pub fn check(&self) -> Result<(), &'static str> {
        let shape = self.op.shape();
        let size = match self.esize {
            8 => B,
            16 => H,
            32 => S,
            64 => D,
            _ => return Err("vector lanes are 8, 16, 32 or 64 bits"),
        };
        if (if self.full { shape.full } else { shape.half }) & size == 0 {
            return Err("vector op not defined for this arrangement");
        }
        if !shape.reads_b && self.b != 0 {
            return Err("vector op without a second operand must have b = 0");
        }
        let max_imm = match shape.imm {
            Imm::None => 0,
            Imm::Shift => u32::from(self.esize),
            Imm::Lane => 128 / u32::from(self.esize) - 1,
            Imm::Byte => self.lanes() as u32 - 1,
        };
        if self.imm > max_imm {
            return Err("vector immediate out of range");
        }
        Ok(())
    }

    /// The instruction as four helper arguments (see [`exec_packed`]).
    pub fn pack(&self) -> [u64; 4] {
        let word = self.op as u64 | u64::from(self.esize) << 8 | u64::from(self.full) << 16 | u64::from(self.imm) << 32;
        [word, self.dst.into(), self.a.into(), self.b.into()]
    }

    /// The instruction [`VecInst::pack`] made, if the words are one that checks.
    pub fn unpack(words: [u64; 4]) -> Option<VecInst> {
        let [word, dst, a, b] = words;
        let v = VecInst {
            op: *VecOp::ALL.get((word & 0xff) as usize)?,
            esize: (word >> 8) as u8,
            full: (word >> 16) & 1 == 1,
            imm: (word >> 32) as u32,
            dst: dst.try_into().ok()?,
            a: a.try_into().ok()?,
            b: b.try_into().ok()?,
        };
        v.check().is_ok().then_some(v)
    }
}

const LOW64: u128 = u64::MAX as u128;

/// The low `bits` bits set.
fn mask(bits: u32) -> u64 {
    u64::MAX >> (64 - bits.clamp(1, 64))
}

/// Lane `i` of `x` (lanes of `e` bits).
fn lane(x: u128, e: u32, i: usize) -> u64 {
    (x >> (e as usize * i)) as u64 & mask(e)
}

/// The `e`-bit value `x` sign-extended.
fn sext(x: u64, e: u32) -> i64 {
    ((x << (64 - e)) as i64) >> (64 - e)
}

/// A vector of `n` lanes of `e` bits, lane `i` being `f(i)` (truncated); zero above.
fn from_lanes(e: u32, n: usize, f: impl Fn(usize) -> u64) -> u128 {
    (0..n).fold(0, |r, i| r | u128::from(f(i) & mask(e)) << (e as usize * i))
}

/// All ones when `c`.
fn ones(c: bool) -> u64 {
    if c {
        u64::MAX
    } else {
        0
    }
}

/// One lane of a lane-by-lane op: `x op y` on `e` bits (`y` is the shift amount for
/// shifts, unused by one-operand ops). The result is truncated by the caller.
fn lane_op(op: VecOp, e: u32, x: u64, y: u64) -> u64 {
    let (sx, sy) = (sext(x, e), sext(y, e));
    match op {
        Add => x.wrapping_add(y),
        Sub => x.wrapping_sub(y),
        Mul => x.wrapping_mul(y),
        And => x & y,
        Orr => x | y,
        Eor => x ^ y,
        Bic => x & !y,
        Orn => x | !y,
        CmEq => ones(x == y),
        CmGt => ones(sx > sy),
        CmGe => ones(sx >= sy),
        CmHi => ones(x > y),
        CmHs => ones(x >= y),
        CmTst => ones(x & y != 0),
        UMax => x.max(y),
        UMin => x.min(y),
        SMax => sx.max(sy) as u64,
        SMin => sx.min(sy) as u64,
        Not => !x,
        Neg => x.wrapping_neg(),
        Abs => sx.wrapping_abs() as u64,
        CmEq0 => ones(x == 0),
        CmGt0 => ones(sx > 0),
        CmGe0 => ones(sx >= 0),
        CmLe0 => ones(sx <= 0),
        CmLt0 => ones(sx < 0),
        Shl if y < u64::from(e) => x << y,
        UShr if y < u64::from(e) => x >> y,
        Shl | UShr => 0,
        SShr => (sx >> y.min(u64::from(e) - 1)) as u64,
        // Not lane by lane: `eval` handles them without this function.
        Bsl | Bit | Bif | USra | SSra | UShll | SShll | ShrN | Zip1 | Zip2 | Uzp1 | Uzp2 | Trn1 | Trn2 | Ext | Dup
        | Addp | UMaxp | UMinp | SMaxp | SMinp | AddV | UMaxV | UMinV | SMaxV | SMinV => 0,
    }
}

/// The result of `v` on register values `a`, `b` and `d` (the old destination): the
/// definition of every op. An instruction [`VecInst::check`] rejects leaves `d`.
pub fn eval(v: &VecInst, a: u128, b: u128, d: u128) -> u128 {
    if v.check().is_err() {
        return d;
    }
    let e = u32::from(v.esize);
    let n = v.lanes();
    let imm = v.imm as usize;
    let odd = usize::from(matches!(v.op, Zip2 | Uzp2 | Trn2));
    // Lane `j` of the concatenation of the two `n`-lane vectors `a` and `b`.
    let concat = |j: usize| if j < n { lane(a, e, j) } else { lane(b, e, j - n) };
    let low = |x: u128| if v.full { x } else { x & LOW64 };
    match v.op {
        Shl | UShr | SShr => from_lanes(e, n, |i| lane_op(v.op, e, lane(a, e, i), imm as u64)),
        USra | SSra => {
            let shift = if v.op == USra { UShr } else { SShr };
            from_lanes(e, n, |i| lane(d, e, i).wrapping_add(lane_op(shift, e, lane(a, e, i), imm as u64)))
        }
        Bsl => low((d & a) | (!d & b)),
        Bit => low((a & b) | (d & !b)),
        Bif => low((d & b) | (a & !b)),
        UShll | SShll => {
            let src = if v.full { a >> 64 } else { a };
            let extend = |x: u64| if v.op == SShll { sext(x, e) as u64 } else { x };
            from_lanes(2 * e, 64 / e as usize, |i| extend(lane(src, e, i)) << imm)
        }
        ShrN => {
            let narrow = from_lanes(e, 64 / e as usize, |i| lane(a, 2 * e, i) >> imm);
            if v.full {
                (d & LOW64) | narrow << 64
            } else {
                narrow
            }
        }
        Zip1 | Zip2 => {
            let base = odd * n / 2;
            from_lanes(e, n, |i| lane(if i % 2 == 0 { a } else { b }, e, base + i / 2))
        }
        Uzp1 | Uzp2 => from_lanes(e, n, |i| concat(2 * i + odd)),
        Trn1 | Trn2 => from_lanes(e, n, |i| lane(if i % 2 == 0 { a } else { b }, e, (i & !1) + odd)),
        Ext => from_lanes(8, n, |i| concat(imm + i)),
        Dup => from_lanes(e, n, |_| lane(a, e, imm)),
        Addp | UMaxp | UMinp | SMaxp | SMinp => {
            from_lanes(e, n, |i| lane_op(v.op.lanewise(), e, concat(2 * i), concat(2 * i + 1)))
        }
        AddV | UMaxV | UMinV | SMaxV | SMinV => {
            let fold = |acc, i| lane_op(v.op.lanewise(), e, acc, lane(a, e, i)) & mask(e);
            u128::from((1..n).fold(lane(a, e, 0), fold))
        }
        _ => from_lanes(e, n, |i| lane_op(v.op, e, lane(a, e, i), lane(b, e, i))),
    }
}

/// Read the 16-byte field at `offset`.
///
/// # Safety
/// `state + offset .. + 16` must be readable.
unsafe fn read(state: *const u8, offset: u32) -> u128 {
    // SAFETY: the caller guarantees the 16 bytes are readable.
    unsafe { u128::from_le_bytes(state.add(offset as usize).cast::<[u8; 16]>().read_unaligned()) }
}

/// Run `v` on the guest state at `state`.
///
/// # Safety
/// The 16-byte fields the instruction reads and writes must lie within the live state
/// struct at `state`.
pub unsafe fn exec(state: *mut u8, v: &VecInst) {
    // SAFETY: the caller passes a live state with the vector op's 16-byte fields inside it.
    unsafe {
        let a = read(state, v.a);
        let b = if v.op.reads_b() { read(state, v.b) } else { 0 };
        let d = if v.reads_dst() { read(state, v.dst) } else { 0 };
        let r = eval(v, a, b, d);
        state.add(v.dst as usize).cast::<[u8; 16]>().write_unaligned(r.to_le_bytes());
    }
}

/// [`exec`] as a helper: the arguments are [`VecInst::pack`]'s words. Words that do not
/// unpack to a valid instruction do nothing.
///
/// # Safety
/// As [`exec`], for the unpacked instruction.
pub unsafe extern "C" fn exec_packed(state: *mut u8, a0: u64, a1: u64, a2: u64, a3: u64) -> u64 {
    if let Some(v) = VecInst::unpack([a0, a1, a2, a3]) {
        // SAFETY: the caller's contract is `exec`'s for this instruction.
        unsafe { exec(state, &v) };
    }
    0
}

#[cfg(test)]
mod tests;
