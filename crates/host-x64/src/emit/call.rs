//! Helper calls (SysV ABI).
//!
//! `rdi` gets the state pointer and `rsi`, `rdx`, `rcx`, `r8` the arguments. The
//! argument registers overlap registers that may hold the arguments themselves, so
//! the arguments are pushed and then popped into place (a parallel move that cannot
//! go wrong; helper calls are rare and expensive anyway); unused argument registers
//! are zeroed, as the interpreter passes them. No live value needs saving:
//! the allocator keeps values that live across a call in callee-saved registers or
//! stack slots. `rsp` is 16-byte aligned in translated code, as the ABI requires.

use super::asm::{with_mem, x64, Mem, Src, W};
use super::Emitter;
use crate::regs::{ARG_REGS, RAX};
use archway_ir::{Type, Value};
use dynasmrt::DynasmApi;

impl Emitter<'_> {
    pub(super) fn call(&mut self, i: usize, func: usize, args: &[Value], ty: Type) {
        for (pushed, &arg) in args.iter().enumerate() {
            // Each push moves rsp: slot displacements grow by 8 per earlier push.
            let shift = 8 * pushed as i32;
            match self.src(arg, W::Q, RAX) {
                Src::Reg(r) => x64!(self.ops; push Rq(r)),
                Src::Slot(o) => with_mem!(self.ops, Mem::slot(o + shift), [push QWORD], []),
                Src::Imm(imm) => x64!(self.ops; push DWORD imm),
            }
        }
        for &r in ARG_REGS[..args.len()].iter().rev() {
            x64!(self.ops; pop Rq(r));
        }
        // Unused arguments are 0, as the interpreter passes them.
        for &r in &ARG_REGS[args.len()..] {
            x64!(self.ops; xor Rd(r), Rd(r));
        }
        self.call_func(func);
        if ty != Type::Void {
            self.set_result(i, RAX);
        }
    }

    /// `func(state, rsi, rdx, rcx, r8)`, the arguments already in place.
    pub(super) fn call_func(&mut self, func: usize) {
        x64!(self.ops
            ; mov rdi, r15
            ; mov rax, QWORD func as i64
            ; call rax
        );
    }
}
