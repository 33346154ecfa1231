//! Typed wrappers over `dynasm!` for the instruction forms the emitter uses.
//!
//! dynasm needs mnemonics at compile time, so each family (ALU, shifts, condition
//! codes, sized memory accesses) is one table-like `match` here; the op emitters
//! above it only pick a row.

use super::Emitter;
use crate::regs::{Reg, RSP};
use archway_ir::Type;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi};

/// Operand size of an ALU instruction: values narrower than 64 bits are computed
/// with 32-bit instructions (which also clear the upper half).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum W {
    D,
    Q,
}

impl W {
    pub fn of(ty: Type) -> W {
        if ty == Type::I64 {
            W::Q
        } else {
            W::D
        }
    }
}

/// Size of a memory access or of a narrow register operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    B,
    H,
    D,
    Q,
}

impl Size {
    /// The access size of a value of type `ty` (I1 values are stored as bytes).
    pub fn of(ty: Type) -> Size {
        match ty {
            Type::I64 => Size::Q,
            Type::I32 => Size::D,
            Type::I16 => Size::H,
            _ => Size::B,
        }
    }

    pub fn bytes(self) -> i32 {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::D => 4,
            Size::Q => 8,
        }
    }
}

/// A source operand of a two-operand instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Src {
    Reg(Reg),
    /// A spill slot, `[rsp + disp]`.
    Slot(i32),
    /// An immediate (sign-extended to 64 bits by `W::Q` instructions).
    Imm(i32),
}

/// A register-or-memory operand (an `r/m` field that cannot be an immediate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rm {
    Reg(Reg),
    /// A spill slot, `[rsp + disp]`.
    Slot(i32),
}

/// A memory operand `[base + disp]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mem {
    pub base: Reg,
    pub disp: i32,
}

impl Mem {
    /// Spill slot at `[rsp + disp]`.
    pub fn slot(disp: i32) -> Mem {
        Mem { base: RSP, disp }
    }
}

/// Two-operand ALU instructions `op dst, src`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alu {
    Mov,
    Add,
    Adc,
    Sub,
    And,
    Or,
    Xor,
    Cmp,
}

/// Shift and rotate instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    Shl,
    Shr,
    Sar,
    Ror,
}

/// One-operand in-place instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unary {
    Not,
    Neg,
    Bswap,
}

/// x86 condition codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cc {
    O,
    No,
    B,
    Ae,
    E,
    Ne,
    Be,
    A,
    S,
    Ns,
    L,
    Ge,
    Le,
    G,
}

impl core::ops::Not for Cc {
    type Output = Cc;

    /// The opposite condition.
    fn not(self) -> Cc {
        match self {
            Cc::O => Cc::No,
            Cc::No => Cc::O,
            Cc::B => Cc::Ae,
            Cc::Ae => Cc::B,
            Cc::E => Cc::Ne,
            Cc::Ne => Cc::E,
            Cc::Be => Cc::A,
            Cc::A => Cc::Be,
            Cc::S => Cc::Ns,
            Cc::Ns => Cc::S,
            Cc::L => Cc::Ge,
            Cc::Ge => Cc::L,
            Cc::Le => Cc::G,
            Cc::G => Cc::Le,
        }
    }
}

/// `dynasm!` on the emitter's assembler in x64 mode.
macro_rules! x64 {
    ($ops:expr ; $($t:tt)*) => {
        ::dynasmrt::dynasm!($ops ; .arch x64 ; $($t)*)
    };
}

/// One instruction with a memory operand, `$($pre)* [address] $($post)*`, in its
/// shortest encoding: the pinned `r15` and `rsp` as static bases with 8-bit
/// displacements where they fit (a dynamic base register always costs a SIB byte).
macro_rules! with_mem {
    ($ops:expr, $m:expr, [$($pre:tt)*], [$($post:tt)*]) => {{
        let mem: $crate::emit::asm::Mem = $m;
        let (base, disp) = (mem.base, mem.disp);
        match (base, i8::try_from(disp)) {
            ($crate::regs::STATE, Ok(d8)) => x64!($ops; $($pre)* [BYTE r15 + d8] $($post)*),
            ($crate::regs::STATE, Err(_)) => x64!($ops; $($pre)* [r15 + disp] $($post)*),
            ($crate::regs::RSP, Ok(d8)) => x64!($ops; $($pre)* [BYTE rsp + d8] $($post)*),
            ($crate::regs::RSP, Err(_)) => x64!($ops; $($pre)* [rsp + disp] $($post)*),
            (b, _) if disp == 0 => x64!($ops; $($pre)* [Rq(b)] $($post)*),
            (b, _) => x64!($ops; $($pre)* [Rq(b) + disp] $($post)*),
        }
    }};
}

impl Emitter<'_> {
    /// `op dst, src` at width `w`.
    pub fn alu(&mut self, op: Alu, w: W, d: Reg, s: Src) {
        let ops = &mut self.ops;
        macro_rules! forms {
            ($mn:ident) => {
                match (w, s) {
                    (W::Q, Src::Reg(s)) => x64!(ops; $mn Rq(d), Rq(s)),
                    (W::D, Src::Reg(s)) => x64!(ops; $mn Rd(d), Rd(s)),
                    (W::Q, Src::Slot(o)) => with_mem!(ops, Mem::slot(o), [$mn Rq(d), QWORD], []),
                    (W::D, Src::Slot(o)) => with_mem!(ops, Mem::slot(o), [$mn Rd(d), DWORD], []),
                    (W::Q, Src::Imm(i)) => x64!(ops; $mn Rq(d), DWORD i),
                    (W::D, Src::Imm(i)) => x64!(ops; $mn Rd(d), DWORD i),
                }
            };
        }
        match op {
            Alu::Mov => forms!(mov),
            Alu::Add => forms!(add),
            Alu::Adc => forms!(adc),
            Alu::Sub => forms!(sub),
            Alu::And => forms!(and),
            Alu::Or => forms!(or),
            Alu::Xor => forms!(xor),
            Alu::Cmp => forms!(cmp),
        }
    }

    /// `op dst, [mem]` at width `w` (64-bit or 32-bit load of the operand).
    pub fn alu_mem(&mut self, op: Alu, w: W, d: Reg, m: Mem) {
        let ops = &mut self.ops;
        macro_rules! forms {
            ($mn:ident) => {
                match w {
                    W::Q => with_mem!(ops, m, [$mn Rq(d), QWORD], []),
                    W::D => with_mem!(ops, m, [$mn Rd(d), DWORD], []),
                }
            };
        }
        match op {
            Alu::Mov => forms!(mov),
            Alu::Add => forms!(add),
            Alu::Adc => forms!(adc),
            Alu::Sub => forms!(sub),
            Alu::And => forms!(and),
            Alu::Or => forms!(or),
            Alu::Xor => forms!(xor),
            Alu::Cmp => forms!(cmp),
        }
    }

    /// `imul dst, src` at width `w`.
    pub fn imul(&mut self, w: W, d: Reg, s: Src) {
        let ops = &mut self.ops;
        match (w, s) {
            (W::Q, Src::Reg(s)) => x64!(ops; imul Rq(d), Rq(s)),
            (W::D, Src::Reg(s)) => x64!(ops; imul Rd(d), Rd(s)),
            (W::Q, Src::Slot(o)) => with_mem!(ops, Mem::slot(o), [imul Rq(d), QWORD], []),
            (W::D, Src::Slot(o)) => with_mem!(ops, Mem::slot(o), [imul Rd(d), DWORD], []),
            (W::Q, Src::Imm(i)) => x64!(ops; imul Rq(d), Rq(d), DWORD i),
            (W::D, Src::Imm(i)) => x64!(ops; imul Rd(d), Rd(d), DWORD i),
        }
    }

    /// `test r, r` at width `w`.
    pub fn test_self(&mut self, w: W, r: Reg) {
        match w {
            W::Q => x64!(self.ops; test Rq(r), Rq(r)),
            W::D => x64!(self.ops; test Rd(r), Rd(r)),
        }
    }

    /// `test r, imm` at width `w`.
    pub fn test_imm(&mut self, w: W, r: Reg, imm: i32) {
        match w {
            W::Q => x64!(self.ops; test Rq(r), DWORD imm),
            W::D => x64!(self.ops; test Rd(r), DWORD imm),
        }
    }

    /// `op r` in place at width `w`.
    pub fn unary(&mut self, op: Unary, w: W, r: Reg) {
        let ops = &mut self.ops;
        match (op, w) {
            (Unary::Not, W::Q) => x64!(ops; not Rq(r)),
            (Unary::Not, W::D) => x64!(ops; not Rd(r)),
            (Unary::Neg, W::Q) => x64!(ops; neg Rq(r)),
            (Unary::Neg, W::D) => x64!(ops; neg Rd(r)),
            (Unary::Bswap, W::Q) => x64!(ops; bswap Rq(r)),
            (Unary::Bswap, W::D) => x64!(ops; bswap Rd(r)),
        }
    }

    /// `op r, count` (or `op r, cl` when `count` is `None`) on the low `size` bits of `r`.
    pub fn shift(&mut self, op: Shift, size: Size, r: Reg, count: Option<u8>) {
        let ops = &mut self.ops;
        macro_rules! forms {
            ($mn:ident) => {
                match (size, count) {
                    (Size::Q, Some(n)) => x64!(ops; $mn Rq(r), BYTE n as i8),
                    (Size::Q, None) => x64!(ops; $mn Rq(r), cl),
                    (Size::D, Some(n)) => x64!(ops; $mn Rd(r), BYTE n as i8),
                    (Size::D, None) => x64!(ops; $mn Rd(r), cl),
                    (Size::H, Some(n)) => x64!(ops; $mn Rw(r), BYTE n as i8),
                    (Size::H, None) => x64!(ops; $mn Rw(r), cl),
                    (Size::B, Some(n)) => x64!(ops; $mn Rb(r), BYTE n as i8),
                    (Size::B, None) => x64!(ops; $mn Rb(r), cl),
                }
            };
        }
        match op {
            Shift::Shl => forms!(shl),
            Shift::Shr => forms!(shr),
            Shift::Sar => forms!(sar),
            Shift::Ror => forms!(ror),
        }
    }

    /// `mov r, imm`: the shortest form that gives the 64-bit value `v`. Never
    /// touches the flags (no `xor r, r`), so it may sit between a compare and its use.
    pub fn mov_imm(&mut self, r: Reg, v: u64) {
        if let Ok(v32) = u32::try_from(v) {
            x64!(self.ops; mov Rd(r), DWORD v32 as i32);
        } else if let Ok(s32) = i32::try_from(v as i64) {
            x64!(self.ops; mov Rq(r), DWORD s32);
        } else {
            x64!(self.ops; mov Rq(r), QWORD v as i64);
        }
    }

    /// `mov d, s` (64-bit), omitted when `d == s`.
    pub fn mov_reg(&mut self, d: Reg, s: Reg) {
        if d != s {
            x64!(self.ops; mov Rq(d), Rq(s));
        }
    }

    /// Zero-extending load of `size` bytes from `m` into `d`.
    pub fn load_zx(&mut self, size: Size, d: Reg, m: Mem) {
        let ops = &mut self.ops;
        match size {
            Size::B => with_mem!(ops, m, [movzx Rd(d), BYTE], []),
            Size::H => with_mem!(ops, m, [movzx Rd(d), WORD], []),
            Size::D => with_mem!(ops, m, [mov Rd(d), DWORD], []),
            Size::Q => with_mem!(ops, m, [mov Rq(d), QWORD], []),
        }
    }

    /// Store the low `size` bytes of `s` to `m`.
    pub fn store(&mut self, size: Size, m: Mem, s: Reg) {
        let ops = &mut self.ops;
        match size {
            Size::B => with_mem!(ops, m, [mov BYTE], [, Rb(s)]),
            Size::H => with_mem!(ops, m, [mov WORD], [, Rw(s)]),
            Size::D => with_mem!(ops, m, [mov DWORD], [, Rd(s)]),
            Size::Q => with_mem!(ops, m, [mov QWORD], [, Rq(s)]),
        }
    }

    /// Store an immediate of `size` bytes to `m` (`Size::Q` sign-extends `imm`).
    pub fn store_imm(&mut self, size: Size, m: Mem, imm: i32) {
        let ops = &mut self.ops;
        match size {
            Size::B => with_mem!(ops, m, [mov BYTE], [, BYTE imm as i8]),
            Size::H => with_mem!(ops, m, [mov WORD], [, WORD imm as i16]),
            Size::D => with_mem!(ops, m, [mov DWORD], [, DWORD imm]),
            Size::Q => with_mem!(ops, m, [mov QWORD], [, DWORD imm]),
        }
    }

    /// `xchg [m], s` on `size` bytes (implicitly locked).
    pub fn xchg(&mut self, size: Size, m: Mem, s: Reg) {
        let ops = &mut self.ops;
        match size {
            Size::B => with_mem!(ops, m, [xchg BYTE], [, Rb(s)]),
            Size::H => with_mem!(ops, m, [xchg WORD], [, Rw(s)]),
            Size::D => with_mem!(ops, m, [xchg DWORD], [, Rd(s)]),
            Size::Q => with_mem!(ops, m, [xchg QWORD], [, Rq(s)]),
        }
    }

    /// `lock xadd [m], s` on `size` bytes.
    pub fn lock_xadd(&mut self, size: Size, m: Mem, s: Reg) {
        let ops = &mut self.ops;
        match size {
            Size::B => with_mem!(ops, m, [lock xadd BYTE], [, Rb(s)]),
            Size::H => with_mem!(ops, m, [lock xadd WORD], [, Rw(s)]),
            Size::D => with_mem!(ops, m, [lock xadd DWORD], [, Rd(s)]),
            Size::Q => with_mem!(ops, m, [lock xadd QWORD], [, Rq(s)]),
        }
    }

    /// `lock cmpxchg [m], s` on `size` bytes (compares with and loads into `rax`).
    pub fn lock_cmpxchg(&mut self, size: Size, m: Mem, s: Reg) {
        let ops = &mut self.ops;
        match size {
            Size::B => with_mem!(ops, m, [lock cmpxchg BYTE], [, Rb(s)]),
            Size::H => with_mem!(ops, m, [lock cmpxchg WORD], [, Rw(s)]),
            Size::D => with_mem!(ops, m, [lock cmpxchg DWORD], [, Rd(s)]),
            Size::Q => with_mem!(ops, m, [lock cmpxchg QWORD], [, Rq(s)]),
        }
    }

    /// Zero-extend the low `size` bits of `s` into `d` (`Size::Q` is a plain move).
    pub fn zero_extend(&mut self, size: Size, d: Reg, s: Reg) {
        match size {
            Size::B => x64!(self.ops; movzx Rd(d), Rb(s)),
            Size::H => x64!(self.ops; movzx Rd(d), Rw(s)),
            Size::D => x64!(self.ops; mov Rd(d), Rd(s)),
            Size::Q => self.mov_reg(d, s),
        }
    }

    /// Sign-extend the low `size` bits of `s` into all 64 bits of `d`.
    pub fn sign_extend(&mut self, size: Size, d: Reg, s: Reg) {
        match size {
            Size::B => x64!(self.ops; movsx Rq(d), Rb(s)),
            Size::H => x64!(self.ops; movsx Rq(d), Rw(s)),
            Size::D => x64!(self.ops; movsxd Rq(d), Rd(s)),
            Size::Q => self.mov_reg(d, s),
        }
    }

    /// `setcc r8` followed by a zero extension: `r` becomes 0 or 1.
    pub fn set_bool(&mut self, cc: Cc, r: Reg) {
        let ops = &mut self.ops;
        match cc {
            Cc::O => x64!(ops; seto Rb(r)),
            Cc::No => x64!(ops; setno Rb(r)),
            Cc::B => x64!(ops; setb Rb(r)),
            Cc::Ae => x64!(ops; setae Rb(r)),
            Cc::E => x64!(ops; sete Rb(r)),
            Cc::Ne => x64!(ops; setne Rb(r)),
            Cc::Be => x64!(ops; setbe Rb(r)),
            Cc::A => x64!(ops; seta Rb(r)),
            Cc::S => x64!(ops; sets Rb(r)),
            Cc::Ns => x64!(ops; setns Rb(r)),
            Cc::L => x64!(ops; setl Rb(r)),
            Cc::Ge => x64!(ops; setge Rb(r)),
            Cc::Le => x64!(ops; setle Rb(r)),
            Cc::G => x64!(ops; setg Rb(r)),
        }
        x64!(self.ops; movzx Rd(r), Rb(r));
    }

    /// `cmovcc d, s` (64-bit).
    pub fn cmov(&mut self, cc: Cc, d: Reg, s: Reg) {
        let ops = &mut self.ops;
        match cc {
            Cc::O => x64!(ops; cmovo Rq(d), Rq(s)),
            Cc::No => x64!(ops; cmovno Rq(d), Rq(s)),
            Cc::B => x64!(ops; cmovb Rq(d), Rq(s)),
            Cc::Ae => x64!(ops; cmovae Rq(d), Rq(s)),
            Cc::E => x64!(ops; cmove Rq(d), Rq(s)),
            Cc::Ne => x64!(ops; cmovne Rq(d), Rq(s)),
            Cc::Be => x64!(ops; cmovbe Rq(d), Rq(s)),
            Cc::A => x64!(ops; cmova Rq(d), Rq(s)),
            Cc::S => x64!(ops; cmovs Rq(d), Rq(s)),
            Cc::Ns => x64!(ops; cmovns Rq(d), Rq(s)),
            Cc::L => x64!(ops; cmovl Rq(d), Rq(s)),
            Cc::Ge => x64!(ops; cmovge Rq(d), Rq(s)),
            Cc::Le => x64!(ops; cmovle Rq(d), Rq(s)),
            Cc::G => x64!(ops; cmovg Rq(d), Rq(s)),
        }
    }

    /// `jcc label` with a 32-bit displacement.
    pub fn jcc(&mut self, cc: Cc, l: DynamicLabel) {
        let ops = &mut self.ops;
        match cc {
            Cc::O => x64!(ops; jo =>l),
            Cc::No => x64!(ops; jno =>l),
            Cc::B => x64!(ops; jb =>l),
            Cc::Ae => x64!(ops; jae =>l),
            Cc::E => x64!(ops; je =>l),
            Cc::Ne => x64!(ops; jne =>l),
            Cc::Be => x64!(ops; jbe =>l),
            Cc::A => x64!(ops; ja =>l),
            Cc::S => x64!(ops; js =>l),
            Cc::Ns => x64!(ops; jns =>l),
            Cc::L => x64!(ops; jl =>l),
            Cc::Ge => x64!(ops; jge =>l),
            Cc::Le => x64!(ops; jle =>l),
            Cc::G => x64!(ops; jg =>l),
        }
    }

    /// `jmp label` with a 32-bit displacement.
    pub fn jmp(&mut self, l: DynamicLabel) {
        x64!(self.ops; jmp =>l);
    }

    /// `jmp` to an absolute host address (rel32 from the final code position).
    pub fn jmp_abs(&mut self, addr: usize) {
        x64!(self.ops; jmp extern addr);
    }

    /// Bind a label here.
    pub fn bind(&mut self, l: DynamicLabel) {
        x64!(self.ops; =>l);
    }

    /// Pad with one `nop` instruction until the offset is `k` modulo 4.
    pub fn pad_to(&mut self, k: usize) {
        const NOPS: [&[u8]; 4] = [&[], &[0x90], &[0x66, 0x90], &[0x0f, 0x1f, 0x00]];
        let len = (k + 4 - self.ops.offset().0 % 4) % 4;
        self.ops.extend(NOPS[len].iter().copied());
    }
}

pub(crate) use {with_mem, x64};
