//! Comparisons, AArch64 NZCV values, condition tests and select.
//!
//! NZCV is packed into bits 31..28 of an I32. After the host instruction that sets
//! the x86 flags, one multiply moves SF, ZF, CF and OF into place (the trick
//! Dynarmic's `nzcv_util.h` describes):
//! - with `lahf`: `lahf; seto al` puts SF, ZF, CF at bits 15, 14, 8 and OF at bit 0;
//!   `imul 0x1021_0000` shifts them by 16, 16, 21 and 28 (other products land on
//!   distinct lower bits, so no carries reach 28..31);
//! - without it: `pushfq; pop rax` has SF, ZF, CF, OF at bits 7, 6, 0, 11;
//!   `imul 0x2102_0000` shifts them by 24, 24, 29 and 17.
//!
//! AArch64's C after a subtraction is NOT borrow, x86's CF is the borrow: `cmc`.
//!
//! A condition on the flags of a `SubFlags` compares its operands again, so that
//! `CMP` + `B.cond` become `cmp` + `jcc` (and the packed NZCV is only computed if
//! something else reads it).
//!
//! A comparison whose only user is the next `Select` or the `If` terminal is left
//! in the host flags ([`Loc::Flags`](crate::regalloc::Loc)); its user reads
//! the condition code from `pending_cc`.

use super::asm::{with_mem, x64, Alu, Cc, Mem, Rm, Shift, Size, Src, W};
use super::{Emitter, Loc};
use crate::regalloc::compare_behind;
use crate::regs::{RAX, RCX, RDX};
use archway_ir::{CmpOp, Value};
use dynasmrt::DynasmApi;

/// NZCV bits as AArch64 packs them.
const Z_BIT: i8 = 30;
const C_BIT: i8 = 29;
const N_BIT: i8 = 31;
const V_BIT: i8 = 28;

/// Whether an I1 value holds: known at compile time, or when a host condition holds.
pub(super) enum Truth {
    Known(bool),
    When(Cc),
}

impl Emitter<'_> {
    /// Either leave the condition `cc` for the fused user or materialise it as 0/1.
    fn finish_condition(&mut self, i: usize, cc: Cc) {
        if self.locs[i] == Loc::Flags {
            self.pending_cc = Some(cc);
        } else {
            let r = self.result_reg(i, RAX);
            self.set_bool(cc, r);
            self.set_result(i, r);
        }
    }

    /// Test the I1 value `v`. Only bit 0 counts: a state read of an I1 loads a whole
    /// byte, as the interpreter does.
    pub(super) fn test_bool(&mut self, v: Value) -> Truth {
        match self.loc(v) {
            // The fused comparison emitted just before left its condition.
            Loc::Flags => Truth::When(self.pending_cc.take().unwrap_or(Cc::Ne)),
            Loc::Imm(c) => Truth::Known(c & 1 != 0),
            Loc::Reg(r) => {
                x64!(self.ops; test Rb(r), 1);
                Truth::When(Cc::Ne)
            }
            Loc::Slot(s) => {
                let o = crate::regs::slot_offset(s);
                with_mem!(self.ops, Mem::slot(o), [test BYTE], [, 1]);
                Truth::When(Cc::Ne)
            }
            Loc::None => Truth::Known(false),
        }
    }

    pub(super) fn compare(&mut self, i: usize, op: CmpOp, a: Value, b: Value) {
        let ty = self.ty(a);
        let signed = matches!(op, CmpOp::Slt | CmpOp::Sle);
        if signed && ty.bits() < 32 {
            // Narrow signed operands: compare their 32-bit sign extensions.
            self.load_value(RCX, a);
            self.sign_extend(Size::of(ty), RCX, RCX);
            self.load_value(RDX, b);
            self.sign_extend(Size::of(ty), RDX, RDX);
            self.alu(Alu::Cmp, W::D, RCX, Src::Reg(RDX));
        } else {
            self.cmp_values(a, b);
        }
        let cc = match op {
            CmpOp::Eq => Cc::E,
            CmpOp::Ne => Cc::Ne,
            CmpOp::Ult => Cc::B,
            CmpOp::Ule => Cc::Be,
            CmpOp::Slt => Cc::L,
            CmpOp::Sle => Cc::Le,
        };
        self.finish_condition(i, cc);
    }

    /// `cmp a, b` at the width of their type.
    fn cmp_values(&mut self, a: Value, b: Value) {
        let w = W::of(self.ty(a));
        let left = self.in_reg(a, RCX);
        match self.src(b, w, RDX) {
            // Same flags as `cmp left, 0`.
            Src::Imm(0) => self.test_self(w, left),
            s => self.alu(Alu::Cmp, w, left, s),
        }
    }

    /// AArch64 condition `cond` on the packed NZCV value `nzcv`.
    pub(super) fn cond_holds(&mut self, i: usize, cond: u8, nzcv: Value) {
        let invert = cond & 1 == 1;
        if let Some((a, b)) = compare_behind(self.block, i) {
            // x86 flags after `cmp a, b` carry the same conditions (CF is the borrow,
            // AArch64 C its inverse: CS is "above or equal").
            self.cmp_values(a, b);
            let conditions = [Cc::E, Cc::Ae, Cc::S, Cc::O, Cc::A, Cc::Ge, Cc::G];
            let cc = conditions[(cond >> 1) as usize];
            self.finish_condition(i, if invert { !cc } else { cc });
            return;
        }
        let cc = match cond >> 1 {
            0 => self.test_nzcv_bit(nzcv, Z_BIT),
            1 => self.test_nzcv_bit(nzcv, C_BIT),
            2 => self.test_nzcv_bit(nzcv, N_BIT),
            3 => self.test_nzcv_bit(nzcv, V_BIT),
            4 => {
                // HI: C set and Z clear.
                self.load_value(RAX, nzcv);
                self.alu(Alu::And, W::D, RAX, Src::Imm(0x6000_0000));
                self.alu(Alu::Cmp, W::D, RAX, Src::Imm(0x2000_0000));
                Cc::E
            }
            5 | 6 => {
                // GE: N == V, i.e. bit 28 of nzcv ^ (nzcv >> 3) clear; GT adds Z clear.
                self.load_value(RAX, nzcv);
                self.shift(Shift::Shr, Size::D, RAX, Some(3));
                let s = self.src(nzcv, W::D, RCX);
                self.alu(Alu::Xor, W::D, RAX, s);
                let mask = if cond >> 1 == 5 { 1 << V_BIT } else { (1 << V_BIT) | (1 << Z_BIT) };
                self.test_imm(W::D, RAX, mask);
                Cc::E
            }
            _ => {
                // AL and NV: always true.
                let r = self.result_reg(i, RAX);
                self.mov_imm(r, 1);
                self.set_result(i, r);
                return;
            }
        };
        self.finish_condition(i, if invert { !cc } else { cc });
    }

    /// `bt nzcv, bit`: the condition "bit set" is `Cc::B` (carry).
    fn test_nzcv_bit(&mut self, nzcv: Value, bit: i8) -> Cc {
        match self.rm(nzcv, RAX) {
            Rm::Reg(r) => x64!(self.ops; bt Rd(r), BYTE bit),
            Rm::Slot(o) => with_mem!(self.ops, Mem::slot(o), [bt DWORD], [, BYTE bit]),
        }
        Cc::B
    }

    pub(super) fn select(&mut self, i: usize, cond: Value, a: Value, b: Value) {
        let r = self.result_reg(i, RAX);
        let cc = match self.test_bool(cond) {
            Truth::When(cc) => cc,
            Truth::Known(holds) => {
                self.load_value(r, if holds { a } else { b });
                self.set_result(i, r);
                return;
            }
        };
        // From here on only flag-preserving moves until the cmov.
        if self.reg(a) == Some(r) {
            let s = self.in_reg(b, RCX);
            self.cmov(!cc, r, s);
        } else {
            self.load_value(r, b);
            let s = self.in_reg(a, RCX);
            self.cmov(cc, r, s);
        }
        self.set_result(i, r);
    }

    pub(super) fn add_flags(&mut self, i: usize, a: Value, b: Value, carry: Value) {
        let w = W::of(self.ty(a));
        self.load_value(RCX, a);
        let s = self.src(b, w, RDX);
        match self.loc(carry) {
            Loc::Imm(c) if c & 1 == 0 => self.alu(Alu::Add, w, RCX, s),
            Loc::Imm(_) => {
                x64!(self.ops; stc);
                self.alu(Alu::Adc, w, RCX, s);
            }
            _ => {
                match self.rm(carry, RAX) {
                    Rm::Reg(c) => x64!(self.ops; bt Rd(c), BYTE 0),
                    Rm::Slot(o) => with_mem!(self.ops, Mem::slot(o), [bt DWORD], [, BYTE 0]),
                }
                self.alu(Alu::Adc, w, RCX, s);
            }
        }
        self.pack_nzcv(i);
    }

    pub(super) fn sub_flags(&mut self, i: usize, a: Value, b: Value) {
        let w = W::of(self.ty(a));
        let left = self.in_reg(a, RCX);
        let s = self.src(b, w, RDX);
        self.alu(Alu::Cmp, w, left, s);
        x64!(self.ops; cmc);
        self.pack_nzcv(i);
    }

    pub(super) fn logic_flags(&mut self, i: usize, a: Value) {
        let w = W::of(self.ty(a));
        let r = self.in_reg(a, RCX);
        self.test_self(w, r);
        // C and V are clear: only SF and ZF need moving, to bits 31 and 30.
        if self.features.lahf {
            x64!(self.ops; lahf; and eax, 0xc000; shl eax, 16);
        } else {
            x64!(self.ops; pushfq; pop rax; and eax, 0xc0; shl eax, 24);
        }
        self.set_result(i, RAX);
    }

    /// NZCV from the host flags, into value `i`.
    fn pack_nzcv(&mut self, i: usize) {
        if self.features.lahf {
            x64!(self.ops
                ; lahf
                ; seto al
                ; and eax, 0xc101
                ; imul eax, eax, 0x1021_0000
                ; and eax, 0xf000_0000u32 as i32
            );
        } else {
            x64!(self.ops
                ; pushfq
                ; pop rax
                ; and eax, 0x8c1
                ; imul eax, eax, 0x2102_0000
                ; and eax, 0xf000_0000u32 as i32
            );
        }
        self.set_result(i, RAX);
    }
}
