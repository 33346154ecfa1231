//! Integer arithmetic: binary and unary ops, extensions and truncation.
//!
//! AArch64 rules the host instructions do not give for free:
//! - shift amounts are taken modulo the width: x86 masks 32/64-bit counts itself, the
//!   8/16-bit ones are masked explicitly;
//! - division by zero gives 0 and `MIN / -1` gives `MIN`: both are branched around
//!   `div`/`idiv`, so the host never raises #DE;
//! - `Clz`/`Popcnt` use `lzcnt`/`popcnt` only when the CPU has them (`bsr` and a SWAR
//!   count otherwise); `Cls` and `Rbit` have no host instruction and are composed.

use super::asm::{with_mem, x64, Alu, Mem, Rm, Shift, Size, Src, Unary, W};
use super::Emitter;
use crate::regs::{Reg, RAX, RCX, RDX};
use archway_ir::{BinOp, Type, UnOp, Value};
use dynasmrt::{DynasmApi, DynasmLabelApi};

impl Emitter<'_> {
    pub(super) fn bin(&mut self, i: usize, op: BinOp, a: Value, b: Value, ty: Type) {
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::And | BinOp::Or | BinOp::Xor | BinOp::AndNot => {
                self.two_operand(i, op, a, b, ty)
            }
            BinOp::UMulHi | BinOp::SMulHi => self.mul_high(i, op == BinOp::SMulHi, a, b),
            BinOp::UDiv | BinOp::SDiv => self.divide(i, op == BinOp::SDiv, a, b, ty),
            BinOp::Shl | BinOp::LShr | BinOp::AShr | BinOp::RotR => self.shift_op(i, op, a, b, ty),
        }
    }

    /// `r = a op b` for ops with an x86 two-operand form.
    fn two_operand(&mut self, i: usize, op: BinOp, a: Value, b: Value, ty: Type) {
        let w = W::of(ty);
        let r = self.result_reg(i, RAX);
        if self.reg(b) == Some(r) && self.reg(a) != Some(r) {
            // The result register holds `b`: fold `a` into it (`a - b` is `-b + a`,
            // `a & !b` is `!b & a`).
            let s = self.src(a, w, RCX);
            match op {
                BinOp::Sub => {
                    self.unary(Unary::Neg, w, r);
                    self.alu(Alu::Add, w, r, s);
                }
                BinOp::AndNot => {
                    self.unary(Unary::Not, w, r);
                    self.alu(Alu::And, w, r, s);
                }
                _ => self.apply(op, w, r, s),
            }
        } else {
            self.load_value(r, a);
            if op == BinOp::AndNot {
                let s = self.inverted_src(b, w, ty);
                self.alu(Alu::And, w, r, s);
            } else {
                let s = self.src(b, w, RCX);
                self.apply(op, w, r, s);
            }
        }
        if matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul) {
            self.zero_extend_narrow(r, ty);
        }
        self.set_result(i, r);
    }

    /// `r = r op s` for the ops with a two-operand x86 instruction (`AndNot` is
    /// handled by the caller).
    fn apply(&mut self, op: BinOp, w: W, r: Reg, s: Src) {
        match op {
            BinOp::Add => self.alu(Alu::Add, w, r, s),
            BinOp::Sub => self.alu(Alu::Sub, w, r, s),
            BinOp::Mul => self.imul(w, r, s),
            BinOp::Or => self.alu(Alu::Or, w, r, s),
            BinOp::Xor => self.alu(Alu::Xor, w, r, s),
            _ => self.alu(Alu::And, w, r, s),
        }
    }

    /// `!b` as a source operand (an immediate when it fits, else in `rcx`).
    fn inverted_src(&mut self, b: Value, w: W, ty: Type) -> Src {
        if let super::Loc::Imm(c) = self.loc(b) {
            let inv = !c & ty.mask();
            if let Some(imm) = super::imm_for(inv, w) {
                return Src::Imm(imm);
            }
        }
        self.load_value(RCX, b);
        self.unary(Unary::Not, w, RCX);
        Src::Reg(RCX)
    }

    /// High half of the 128-bit product (I64 only, as the verifier requires).
    fn mul_high(&mut self, i: usize, signed: bool, a: Value, b: Value) {
        self.load_value(RAX, a);
        let s = self.rm(b, RCX);
        let ops = &mut self.ops;
        match (signed, s) {
            (false, Rm::Reg(r)) => x64!(ops; mul Rq(r)),
            (false, Rm::Slot(o)) => with_mem!(ops, Mem::slot(o), [mul QWORD], []),
            (true, Rm::Reg(r)) => x64!(ops; imul Rq(r)),
            (true, Rm::Slot(o)) => with_mem!(ops, Mem::slot(o), [imul QWORD], []),
        }
        self.set_result(i, RDX);
    }

    /// Division with AArch64 results for a zero divisor (0) and `MIN / -1` (`MIN`).
    fn divide(&mut self, i: usize, signed: bool, a: Value, b: Value, ty: Type) {
        let w = W::of(ty);
        let narrow = Size::of(ty);
        self.load_value(RCX, b);
        self.load_value(RAX, a);
        if signed && ty.bits() < 32 {
            self.sign_extend(narrow, RCX, RCX);
            self.sign_extend(narrow, RAX, RAX);
        }
        self.test_self(w, RCX);
        x64!(self.ops; jz >zero);
        if signed {
            self.alu(Alu::Cmp, w, RCX, Src::Imm(-1));
            x64!(self.ops; je >negate);
            match w {
                W::Q => x64!(self.ops; cqo; idiv rcx),
                W::D => x64!(self.ops; cdq; idiv ecx),
            }
            x64!(self.ops
                ; jmp >done
                ; negate:
            );
            self.unary(Unary::Neg, w, RAX);
        } else {
            match w {
                W::Q => x64!(self.ops; xor edx, edx; div rcx),
                W::D => x64!(self.ops; xor edx, edx; div ecx),
            }
        }
        x64!(self.ops
            ; jmp >done
            ; zero:
            ; xor eax, eax
            ; done:
        );
        self.zero_extend_narrow(RAX, ty);
        self.set_result(i, RAX);
    }

    /// Shifts and rotates; the amount is taken modulo the width.
    fn shift_op(&mut self, i: usize, op: BinOp, a: Value, b: Value, ty: Type) {
        let bits = ty.bits();
        let narrow = bits < 32;
        let count = match self.loc(b) {
            super::Loc::Imm(c) => Some((c % bits as u64) as u8),
            _ => {
                self.load_value(RCX, b);
                if narrow {
                    self.alu(Alu::And, W::D, RCX, Src::Imm(bits as i32 - 1));
                }
                None
            }
        };
        let r = self.result_reg(i, RAX);
        self.load_value(r, a);
        if count != Some(0) {
            let size = if ty == Type::I64 { Size::Q } else { Size::D };
            match op {
                BinOp::Shl => {
                    self.shift(Shift::Shl, size, r, count);
                    self.zero_extend_narrow(r, ty);
                }
                BinOp::LShr => self.shift(Shift::Shr, size, r, count),
                BinOp::AShr => {
                    if narrow {
                        self.sign_extend(Size::of(ty), r, r);
                    }
                    self.shift(Shift::Sar, size, r, count);
                    self.zero_extend_narrow(r, ty);
                }
                // An 8/16-bit `ror` rotates within the narrow register and leaves the
                // (zero) upper bits alone.
                _ => self.shift(Shift::Ror, if narrow { Size::of(ty) } else { size }, r, count),
            }
        }
        self.set_result(i, r);
    }

    pub(super) fn un(&mut self, i: usize, op: UnOp, a: Value, ty: Type) {
        let w = W::of(ty);
        let r = self.result_reg(i, RAX);
        match op {
            UnOp::Not | UnOp::Neg => {
                self.load_value(r, a);
                self.unary(if op == UnOp::Not { Unary::Not } else { Unary::Neg }, w, r);
                self.zero_extend_narrow(r, ty);
            }
            UnOp::Clz => {
                let s = self.rm(a, RCX);
                self.count_leading_zeros(r, s, ty);
            }
            UnOp::Cls => self.count_leading_sign_bits(r, a, ty),
            UnOp::Rbit => self.reverse_bits(r, a, ty),
            UnOp::Bswap => {
                self.load_value(r, a);
                match ty {
                    Type::I64 => self.unary(Unary::Bswap, W::Q, r),
                    Type::I32 => self.unary(Unary::Bswap, W::D, r),
                    Type::I16 => {
                        self.unary(Unary::Bswap, W::D, r);
                        self.shift(Shift::Shr, Size::D, r, Some(16));
                    }
                    _ => {}
                }
            }
            UnOp::Popcnt => self.popcount(r, a, ty),
        }
        self.set_result(i, r);
    }

    /// `r = clz(s)` over the width of `ty` (the width itself for 0); `rdx` is clobbered.
    fn count_leading_zeros(&mut self, r: Reg, s: Rm, ty: Type) {
        let w = W::of(ty);
        let bits = ty.bits() as i32;
        if self.features.lzcnt {
            match (w, s) {
                (W::Q, Rm::Reg(s)) => x64!(self.ops; lzcnt Rq(r), Rq(s)),
                (W::Q, Rm::Slot(o)) => with_mem!(self.ops, Mem::slot(o), [lzcnt Rq(r), QWORD], []),
                (W::D, Rm::Reg(s)) => x64!(self.ops; lzcnt Rd(r), Rd(s)),
                (W::D, Rm::Slot(o)) => with_mem!(self.ops, Mem::slot(o), [lzcnt Rd(r), DWORD], []),
            }
            if bits < 32 {
                self.alu(Alu::Sub, W::D, r, Src::Imm(32 - bits));
            }
            return;
        }
        // bsr gives the index of the highest set bit and sets ZF for 0, where the
        // index is taken as -1: clz = (bits - 1) - index.
        match (w, s) {
            (W::Q, Rm::Reg(s)) => x64!(self.ops; bsr Rq(r), Rq(s)),
            (W::Q, Rm::Slot(o)) => with_mem!(self.ops, Mem::slot(o), [bsr Rq(r), QWORD], []),
            (W::D, Rm::Reg(s)) => x64!(self.ops; bsr Rd(r), Rd(s)),
            (W::D, Rm::Slot(o)) => with_mem!(self.ops, Mem::slot(o), [bsr Rd(r), DWORD], []),
        }
        x64!(self.ops; mov rdx, -1);
        x64!(self.ops; cmovz Rq(r), rdx);
        self.unary(Unary::Neg, w, r);
        self.alu(Alu::Add, w, r, Src::Imm(bits - 1));
    }

    /// `r = cls(a)`: clz of `a ^ (a >> 1)` (arithmetic shift) minus one; the top bit of
    /// that xor is always clear.
    fn count_leading_sign_bits(&mut self, r: Reg, a: Value, ty: Type) {
        let w = W::of(ty);
        self.load_value(RCX, a);
        if ty.bits() < 32 {
            self.sign_extend(Size::of(ty), RCX, RCX);
        }
        self.mov_reg(RDX, RCX);
        let size = if w == W::Q { Size::Q } else { Size::D };
        self.shift(Shift::Sar, size, RDX, Some(1));
        self.alu(Alu::Xor, w, RCX, Src::Reg(RDX));
        if ty.bits() < 32 {
            // Sign extension made the bits above the width equal: the xor cleared them.
            self.zero_extend_narrow(RCX, ty);
        }
        self.count_leading_zeros(r, Rm::Reg(RCX), ty);
        self.alu(Alu::Sub, w, r, Src::Imm(1));
    }

    /// `r = rbit(a)`: byte swap, then swap nibbles, bit pairs and bits within bytes.
    fn reverse_bits(&mut self, r: Reg, a: Value, ty: Type) {
        let w = W::of(ty);
        let size = if w == W::Q { Size::Q } else { Size::D };
        self.load_value(r, a);
        self.unary(Unary::Bswap, w, r);
        for (k, mask) in [(4u8, 0x0f0f_0f0f_0f0f_0f0fu64), (2, 0x3333_3333_3333_3333), (1, 0x5555_5555_5555_5555)] {
            let m = match w {
                W::D => Src::Imm(mask as u32 as i32),
                W::Q => {
                    self.mov_imm(RDX, mask);
                    Src::Reg(RDX)
                }
            };
            self.mov_reg(RCX, r);
            self.shift(Shift::Shr, size, RCX, Some(k));
            self.alu(Alu::And, w, RCX, m);
            self.alu(Alu::And, w, r, m);
            self.shift(Shift::Shl, size, r, Some(k));
            self.alu(Alu::Or, w, r, Src::Reg(RCX));
        }
        if ty.bits() < 32 {
            self.shift(Shift::Shr, Size::D, r, Some(32 - ty.bits() as u8));
        }
    }

    /// `r = popcount(a)` (`popcnt`, or the SWAR sum of bit fields).
    fn popcount(&mut self, r: Reg, a: Value, ty: Type) {
        let w = W::of(ty);
        if self.features.popcnt {
            match (w, self.rm(a, RCX)) {
                (W::Q, Rm::Reg(s)) => x64!(self.ops; popcnt Rq(r), Rq(s)),
                (W::Q, Rm::Slot(o)) => with_mem!(self.ops, Mem::slot(o), [popcnt Rq(r), QWORD], []),
                (W::D, Rm::Reg(s)) => x64!(self.ops; popcnt Rd(r), Rd(s)),
                (W::D, Rm::Slot(o)) => with_mem!(self.ops, Mem::slot(o), [popcnt Rd(r), DWORD], []),
            }
            return;
        }
        let size = if w == W::Q { Size::Q } else { Size::D };
        let mask = |m: u64, e: &mut Self| match w {
            W::D => Src::Imm(m as u32 as i32),
            W::Q => {
                e.mov_imm(RDX, m);
                Src::Reg(RDX)
            }
        };
        self.load_value(r, a);
        // x -= (x >> 1) & 0x55..
        self.mov_reg(RCX, r);
        self.shift(Shift::Shr, size, RCX, Some(1));
        let m = mask(0x5555_5555_5555_5555, self);
        self.alu(Alu::And, w, RCX, m);
        self.alu(Alu::Sub, w, r, Src::Reg(RCX));
        // x = (x & 0x33..) + ((x >> 2) & 0x33..)
        self.mov_reg(RCX, r);
        self.shift(Shift::Shr, size, RCX, Some(2));
        let m = mask(0x3333_3333_3333_3333, self);
        self.alu(Alu::And, w, RCX, m);
        self.alu(Alu::And, w, r, m);
        self.alu(Alu::Add, w, r, Src::Reg(RCX));
        // x = (x + (x >> 4)) & 0x0f..
        self.mov_reg(RCX, r);
        self.shift(Shift::Shr, size, RCX, Some(4));
        self.alu(Alu::Add, w, r, Src::Reg(RCX));
        let m = mask(0x0f0f_0f0f_0f0f_0f0f, self);
        self.alu(Alu::And, w, r, m);
        // The byte sums add up in the top byte.
        let m = mask(0x0101_0101_0101_0101, self);
        self.imul(w, r, m);
        self.shift(Shift::Shr, size, r, Some(if w == W::Q { 56 } else { 24 }));
    }

    pub(super) fn zext(&mut self, i: usize, a: Value) {
        // Values are held zero-extended already.
        let r = self.result_reg(i, RAX);
        self.load_value(r, a);
        self.set_result(i, r);
    }

    pub(super) fn sext(&mut self, i: usize, a: Value, ty: Type) {
        let r = self.result_reg(i, RAX);
        let from = self.ty(a);
        if from == Type::I1 {
            self.load_value(r, a);
            self.alu(Alu::And, W::D, r, Src::Imm(1));
            self.unary(Unary::Neg, W::Q, r);
        } else {
            let s = self.in_reg(a, RCX);
            self.sign_extend(Size::of(from), r, s);
        }
        self.truncate(r, ty);
        self.set_result(i, r);
    }

    pub(super) fn trunc(&mut self, i: usize, a: Value, ty: Type) {
        let r = self.result_reg(i, RAX);
        self.load_value(r, a);
        self.truncate(r, ty);
        self.set_result(i, r);
    }

    /// Clear the bits of `r` above the width of `ty`.
    fn truncate(&mut self, r: Reg, ty: Type) {
        match ty {
            Type::I32 => self.zero_extend(Size::D, r, r),
            Type::I64 | Type::Void => {}
            narrow => self.zero_extend_narrow(r, narrow),
        }
    }
}
