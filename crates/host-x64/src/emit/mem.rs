//! Guest state fields, guest memory, atomics and fences.
//!
//! Guest state is `[r15 + offset]`; guest memory is host memory, so a load or store
//! is one host instruction at the guest address.
//!
//! Memory ordering on an x86_64 host (TSO: only a store followed by a load to another
//! address may be reordered):
//! - loads are acquire loads already: `Acquire`/`AcqRel` loads are plain `mov`s;
//! - `Release`/`AcqRel` stores are `xchg` (implicitly locked, a full barrier), so a
//!   later acquire load cannot pass them (AArch64 `STLR` then `LDAR` stays ordered);
//! - `Fence(Full)` is `mfence`; `Fence(Load)` and `Fence(Store)` emit nothing: TSO
//!   already keeps loads ordered before later loads and stores, and stores before later
//!   stores, and the emitter itself never reorders memory accesses;
//! - locked read-modify-writes are sequentially consistent whatever the IR order says.
//!
//! Atomics follow the interpreter: a misaligned address raises SIGBUS at the guest
//! instruction (AArch64 faults; x86 would silently take a split lock).

use super::asm::{x64, Alu, Mem, Size, W};
use super::{Emitter, Stub};
use crate::regs::{RAX, RCX, RDX, STATE};
use archway_ir::{FenceKind, MemOrder, RmwOp, StateHeader, Type, Value};
use dynasmrt::{DynasmApi, DynasmLabelApi};

/// SIGBUS (the same number on every Linux architecture archway supports).
const SIGBUS: i32 = 7;

/// [`StateHeader::scratch`]: holds the operand of a compare-and-swap loop.
const SCRATCH: i8 = core::mem::offset_of!(StateHeader, scratch) as i8;

impl Emitter<'_> {
    /// The memory operand of state field `offset` (through `rdx` if it does not fit a
    /// displacement).
    pub(super) fn state_field(&mut self, offset: u32) -> Mem {
        match i32::try_from(offset) {
            Ok(disp) => Mem { base: STATE, disp },
            Err(_) => {
                self.mov_imm(RDX, offset as u64);
                self.alu(Alu::Add, W::Q, RDX, super::Src::Reg(STATE));
                Mem { base: RDX, disp: 0 }
            }
        }
    }

    /// The memory operand at guest address `addr` (through `rdx` if it is not in a register).
    fn guest_addr(&mut self, addr: Value) -> Mem {
        Mem { base: self.in_reg(addr, RDX), disp: 0 }
    }

    pub(super) fn get_state(&mut self, i: usize, offset: u32, ty: Type) {
        let m = self.state_field(offset);
        let r = self.result_reg(i, RAX);
        self.load_zx(Size::of(ty), r, m);
        self.set_result(i, r);
    }

    pub(super) fn set_state(&mut self, offset: u32, value: Value) {
        let size = Size::of(self.ty(value));
        let m = self.state_field(offset);
        self.store_operand(size, m, value);
    }

    /// Store `value`'s low `size` bytes to `m`, as an immediate when possible.
    fn store_operand(&mut self, size: Size, m: Mem, value: Value) {
        if let super::Loc::Imm(c) = self.loc(value) {
            let imm = if size == Size::Q { i32::try_from(c as i64).ok() } else { Some(c as u32 as i32) };
            if let Some(imm) = imm {
                self.store_imm(size, m, imm);
                return;
            }
        }
        let r = self.in_reg(value, RCX);
        self.store(size, m, r);
    }

    pub(super) fn load(&mut self, i: usize, addr: Value, ty: Type) {
        let m = self.guest_addr(addr);
        let r = self.result_reg(i, RAX);
        self.load_zx(Size::of(ty), r, m);
        self.set_result(i, r);
    }

    pub(super) fn store_value(&mut self, addr: Value, value: Value, order: MemOrder) {
        let size = Size::of(self.ty(value));
        let m = self.guest_addr(addr);
        match order {
            MemOrder::Release | MemOrder::AcqRel => {
                self.load_value(RCX, value);
                self.xchg(size, m, RCX);
            }
            MemOrder::Plain | MemOrder::Acquire => self.store_operand(size, m, value),
        }
    }

    /// The operand of an atomic access of `size` at `addr`, after a check that raises
    /// SIGBUS at the current guest instruction if it is misaligned.
    fn atomic_addr(&mut self, addr: Value, size: Size) -> Mem {
        let m = self.guest_addr(addr);
        if size != Size::B {
            self.test_imm(W::D, m.base, size.bytes() - 1);
            let stub = self.ops.new_dynamic_label();
            let pc = self.guest_pc_of(self.inst);
            self.stubs.push((stub, Stub::Trap { pc, signal: SIGBUS }));
            self.jcc(super::Cc::Ne, stub);
        }
        m
    }

    pub(super) fn atomic_rmw(&mut self, i: usize, op: RmwOp, addr: Value, value: Value, ty: Type) {
        let size = Size::of(ty);
        let m = self.atomic_addr(addr, size);
        match op {
            RmwOp::Add => {
                self.load_value(RAX, value);
                self.lock_xadd(size, m, RAX);
            }
            RmwOp::Swap => {
                self.load_value(RAX, value);
                self.xchg(size, m, RAX);
            }
            _ => self.cmpxchg_loop(op, m, value, ty),
        }
        self.set_result(i, RAX);
    }

    /// `old = [m]; [m] = old op value` as a `lock cmpxchg` loop; `old` ends in `rax`.
    /// The operand waits in the state's scratch word (`rdx` may hold the address).
    fn cmpxchg_loop(&mut self, op: RmwOp, m: Mem, value: Value, ty: Type) {
        let size = Size::of(ty);
        let signed_narrow = matches!(op, RmwOp::Smax | RmwOp::Smin) && ty.bits() < 32;
        self.load_value(RCX, value);
        if signed_narrow {
            self.sign_extend(size, RCX, RCX);
        }
        x64!(self.ops; mov QWORD [BYTE r15 + SCRATCH], rcx);
        self.load_zx(size, RAX, m);
        x64!(self.ops; retry:);
        let w = W::of(ty);
        match op {
            RmwOp::AndNot => {
                x64!(self.ops; mov rcx, QWORD [BYTE r15 + SCRATCH]; not rcx; and rcx, rax);
            }
            RmwOp::Or => x64!(self.ops; mov rcx, rax; or rcx, QWORD [BYTE r15 + SCRATCH]),
            RmwOp::Xor => x64!(self.ops; mov rcx, rax; xor rcx, QWORD [BYTE r15 + SCRATCH]),
            _ => {
                if signed_narrow {
                    self.sign_extend(size, RCX, RAX);
                } else {
                    self.mov_reg(RCX, RAX);
                }
                self.alu_mem(Alu::Cmp, w, RCX, Mem { base: STATE, disp: SCRATCH as i32 });
                // Take the operand when it wins the comparison.
                match op {
                    RmwOp::Smax => x64!(self.ops; cmovl rcx, QWORD [BYTE r15 + SCRATCH]),
                    RmwOp::Smin => x64!(self.ops; cmovg rcx, QWORD [BYTE r15 + SCRATCH]),
                    RmwOp::Umax => x64!(self.ops; cmovb rcx, QWORD [BYTE r15 + SCRATCH]),
                    _ => x64!(self.ops; cmova rcx, QWORD [BYTE r15 + SCRATCH]),
                }
            }
        }
        self.lock_cmpxchg(size, m, RCX);
        x64!(self.ops; jne <retry);
    }

    pub(super) fn cmpxchg(&mut self, i: usize, addr: Value, expected: Value, new: Value, ty: Type) {
        let size = Size::of(ty);
        let m = self.atomic_addr(addr, size);
        self.load_value(RCX, new);
        self.load_value(RAX, expected);
        self.lock_cmpxchg(size, m, RCX);
        self.set_result(i, RAX);
    }

    pub(super) fn fence(&mut self, kind: FenceKind) {
        if kind == FenceKind::Full {
            x64!(self.ops; mfence);
        }
    }
}
