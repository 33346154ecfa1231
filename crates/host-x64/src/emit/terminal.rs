//! Block entry, terminals and exit stubs.
//!
//! - Entry: `cmp dword [r15 + exit_request], 0; jne stub`. Every block starts with
//!   it, so a chained loop that never leaves host code still notices a signal handler
//!   or another thread asking it to stop, one block boundary later. The stub exits with
//!   `Requested` and the block's own PC (nothing of the block has run).
//! - `Link`/`If`: a `jmp`/`jcc rel32` per target ([`LinkSite`]), first aimed at a stub
//!   that exits with `Lookup`; the cache re-aims it at the target's code. Each `rel32`
//!   field is 4-byte aligned so that re-aiming is one aligned store. A branch to the
//!   block itself goes straight to its entry.
//! - `Indirect`/`Return`: an inline probe of the direct-mapped indirect-branch table
//!   (see [`archway_engine::code_region`]); a miss exits with `Lookup`. Returns use the same
//!   probe for now: a return-address prediction stack is a later step.
//! - `Syscall`/`Trap`/`Synchronize`: exit with the reason, `pc` (and the signal for a
//!   trap).
//!
//! Every exit writes `StateHeader::pc`. Chained jumps do not: inside host code the
//! current PC is implied by where execution is, and every way out writes it.

use super::asm::{x64, Cc};
use super::flags::Truth;
use super::{Emitter, LinkSite, Stub};
use crate::regs::RAX;
use archway_engine::code_region::INDIRECT_INDEX_MASK;
use archway_ir::state::EXIT_REQUEST_OFFSET;
use archway_ir::Terminal;
use dynasmrt::{DynasmApi, DynasmLabelApi};

impl Emitter<'_> {
    pub(super) fn entry_check(&mut self) {
        let entry = self.entry;
        self.bind(entry);
        let stub = self.ops.new_dynamic_label();
        let pc = self.block.guest_pc;
        self.stubs.push((stub, Stub::Exit { routine: self.env.exit_requested, pc }));
        x64!(self.ops; cmp DWORD [BYTE r15 + EXIT_REQUEST_OFFSET as i8], BYTE 0);
        self.jcc(Cc::Ne, stub);
    }

    pub(super) fn emit_terminal(&mut self) {
        match self.block.terminal.clone() {
            Terminal::Link(target) => self.link(None, target),
            Terminal::If { cond, then_pc, else_pc } => match self.test_bool(cond) {
                Truth::Known(holds) => self.link(None, if holds { then_pc } else { else_pc }),
                Truth::When(cc) => {
                    if then_pc != else_pc {
                        self.link(Some(cc), then_pc);
                    }
                    self.link(None, else_pc);
                }
            },
            Terminal::Indirect(target) | Terminal::Return(target) => {
                self.load_value(RAX, target);
                self.indirect_jump();
            }
            Terminal::Syscall { next_pc } => {
                self.mov_imm(RAX, next_pc);
                self.jmp_abs(self.env.exit_syscall);
            }
            Terminal::Trap { signal, pc } => self.trap(pc, signal),
            Terminal::Synchronize { next_pc } => {
                self.mov_imm(RAX, next_pc);
                self.jmp_abs(self.env.exit_synchronize);
            }
        }
    }

    /// A direct branch (conditional if `cc` is given) to guest `target`.
    fn link(&mut self, cc: Option<Cc>, target: u64) {
        if target == self.block.guest_pc {
            let entry = self.entry;
            match cc {
                Some(cc) => self.jcc(cc, entry),
                None => self.jmp(entry),
            }
            return;
        }
        let stub = self.ops.new_dynamic_label();
        self.stubs.push((stub, Stub::Exit { routine: self.env.exit_lookup, pc: target }));
        // jcc rel32 is 0f 8x + rel32, jmp rel32 is e9 + rel32.
        let opcode_bytes = if cc.is_some() { 2 } else { 1 };
        self.pad_to(4 - opcode_bytes);
        match cc {
            Some(cc) => self.jcc(cc, stub),
            None => self.jmp(stub),
        }
        let field = self.ops.offset().0 - 4;
        self.link_sites.push(LinkSite { field, target });
    }

    /// Jump to the guest PC in `rax` through the indirect-branch table.
    fn indirect_jump(&mut self) {
        let table = self.env.indirect_table as i64;
        let mask = (INDIRECT_INDEX_MASK << 2) as i32;
        // Entry k is 16 bytes at table + 16k, k = (pc >> 2) & mask: rcx = 4k, scaled by 4.
        x64!(self.ops
            ; mov ecx, eax
            ; and ecx, mask
            ; mov rdx, QWORD table
            ; cmp rax, QWORD [rdx + rcx * 4]
            ; jne extern (self.env.exit_lookup)
            ; jmp QWORD [rdx + rcx * 4 + 8]
        );
    }

    /// Exit with a trap: `signal` at guest `pc`.
    fn trap(&mut self, pc: u64, signal: i32) {
        self.mov_imm(RAX, pc);
        x64!(self.ops; mov rcx, DWORD signal);
        self.jmp_abs(self.env.exit_trap);
    }

    pub(super) fn emit_stubs(&mut self) {
        for (label, stub) in std::mem::take(&mut self.stubs) {
            self.bind(label);
            match stub {
                Stub::Exit { routine, pc } => {
                    self.mov_imm(RAX, pc);
                    self.jmp_abs(routine);
                }
                Stub::Trap { pc, signal } => self.trap(pc, signal),
            }
        }
    }
}
