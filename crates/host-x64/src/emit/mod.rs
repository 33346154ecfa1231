//! IR block -> x86_64 machine code.
//!
//! [`assemble`] allocates registers for a verified block ([`crate::regalloc`]), then
//! walks its instructions once, emitting each with the op family's module:
//! `alu` (binary and unary arithmetic, extensions), `flags` (comparisons, NZCV,
//! conditions, select), `mem` (guest state, loads, stores, atomics, fences),
//! `call` (helpers), `sse_ops` (vector ops in SSE, over the `sse` wrappers) and
//! `terminal` (block exits, links, the indirect lookup). Cold exit stubs go after the
//! terminal, then the constant pool (16-byte aligned vector masks).
//!
//! Conventions every op emitter keeps:
//! - Values are held zero-extended to 64 bits; narrow (I8/I16) arithmetic is done with
//!   32-bit instructions and re-zero-extended when the op can set higher bits.
//! - An op may write its result register before reading all operands only when that
//!   register is not an operand's (`Emitter::result_reg` may return a dying
//!   operand's register; each emitter handles that aliasing).
//! - `rax`, `rcx`, `rdx` are free scratch at every op; materialising constants uses
//!   `mov` only, so host flags survive between a fused comparison and its user.
//!
//! The block's code starts with the `exit_request` check (see `terminal`). The
//! instruction forms themselves are typed `dynasm!` wrappers in `asm`.

mod alu;
mod asm;
mod call;
mod flags;
mod mem;
mod sse;
mod sse_ops;
mod terminal;

use asm::{Alu, Cc, Rm, Src, W};

use crate::features::HostFeatures;
use crate::regalloc::{allocate, Liveness, Loc, TooManySpills};
use crate::regs::{slot_offset, Reg, ARG_REGS, RAX};
use archway_engine::backend::{CodeEnv, CompiledBlock, LinkSite};
use archway_ir::{Block, Op, Type, Value};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmError, VecAssembler};

/// Whether `op` leaves host code for a function call on a host with `features`: a
/// helper, or a vector op without SSE code there. Values live across such an op get
/// callee-saved registers.
pub fn calls_out(op: &Op, features: HostFeatures) -> bool {
    match op {
        Op::Call { .. } => true,
        Op::Vec(v) => !sse_ops::native(v, features),
        _ => false,
    }
}

/// Why a block could not be compiled (the engine then interprets it).
#[derive(Debug)]
pub enum CompileError {
    /// More simultaneously spilled values than the frame has slots.
    TooManySpills,
    /// A helper call with more arguments than the helper ABI has (the verifier
    /// rejects these too).
    TooManyArguments,
    /// dynasmrt failed (an undefined label: a bug of the emitter).
    Assembler(DynasmError),
}

impl From<TooManySpills> for CompileError {
    fn from(_: TooManySpills) -> Self {
        CompileError::TooManySpills
    }
}

/// Cold code emitted after the terminal.
enum Stub {
    /// `mov rax, pc; jmp routine`.
    Exit { routine: usize, pc: u64 },
    /// Raise `signal` at guest `pc`.
    Trap { pc: u64, signal: i32 },
}

/// Compile `block` to host code that will live at address `base`.
pub fn assemble(
    block: &Block,
    base: usize,
    env: &CodeEnv,
    features: HostFeatures,
) -> Result<CompiledBlock, CompileError> {
    let too_many_args = |op: &Op| matches!(op, Op::Call { args, .. } if args.len() > ARG_REGS.len());
    if block.insts.iter().any(|inst| too_many_args(&inst.op)) {
        return Err(CompileError::TooManyArguments);
    }
    let live = Liveness::of(block);
    let alloc = allocate(block, &live, features)?;
    // About 9 bytes of host code per IR op, plus stubs: one buffer, no regrowth.
    let mut ops = VecAssembler::new_with_capacity(base, 256 + 16 * block.insts.len(), 0, 0, 8, 0, 8);
    let entry = ops.new_dynamic_label();
    let mut e = Emitter {
        ops,
        block,
        locs: alloc.locs,
        env,
        features,
        stubs: Vec::new(),
        constants: Vec::new(),
        link_sites: Vec::new(),
        pending_cc: None,
        inst: 0,
        entry,
    };
    e.entry_check();
    let mut guest_pcs = Vec::with_capacity(block.guest_insns.len());
    let mut next_guest = block.guest_insns.iter().peekable();
    for (i, inst) in block.insts.iter().enumerate() {
        while let Some(g) = next_guest.next_if(|g| g.first_inst as usize <= i) {
            guest_pcs.push((e.ops.offset().0 as u32, g.pc));
        }
        e.inst = i;
        e.emit_inst(i, &inst.op, inst.ty);
    }
    e.emit_terminal();
    e.emit_stubs();
    let data_offset = e.emit_constants();
    let link_sites = e.link_sites;
    let code = e.ops.finalize().map_err(CompileError::Assembler)?;
    Ok(CompiledBlock { code, data_offset, link_sites, guest_pcs })
}

/// Emission state for one block.
struct Emitter<'a> {
    ops: VecAssembler<X64Relocation>,
    block: &'a Block,
    locs: Vec<Loc>,
    env: &'a CodeEnv,
    features: HostFeatures,
    stubs: Vec<(DynamicLabel, Stub)>,
    /// 16-byte constants the code loads, each once.
    constants: Vec<(u128, DynamicLabel)>,
    link_sites: Vec<LinkSite>,
    /// The condition a fused comparison left in the host flags.
    pending_cc: Option<Cc>,
    /// Index of the instruction being emitted.
    inst: usize,
    /// The block's first instruction (the `exit_request` check).
    entry: DynamicLabel,
}

impl Emitter<'_> {
    fn emit_inst(&mut self, i: usize, op: &Op, ty: Type) {
        match self.locs[i] {
            // Constants are immediates at their uses; unused pure values need no code.
            Loc::Imm(_) => return,
            Loc::None if ty != Type::Void => return,
            _ => {}
        }
        match op {
            Op::Const(c) => {
                let r = self.result_reg(i, RAX);
                self.mov_imm(r, *c);
                self.set_result(i, r);
            }
            Op::GetState { offset } => self.get_state(i, *offset, ty),
            Op::SetState { offset, value } => self.set_state(*offset, *value),
            Op::Bin { op, a, b } => self.bin(i, *op, *a, *b, ty),
            Op::Un { op, a } => self.un(i, *op, *a, ty),
            Op::Cmp { op, a, b } => self.compare(i, *op, *a, *b),
            Op::Select { cond, a, b } => self.select(i, *cond, *a, *b),
            Op::ZExt(a) => self.zext(i, *a),
            Op::SExt(a) => self.sext(i, *a, ty),
            Op::Trunc(a) => self.trunc(i, *a, ty),
            Op::AddFlags { a, b, carry } => self.add_flags(i, *a, *b, *carry),
            Op::SubFlags { a, b } => self.sub_flags(i, *a, *b),
            Op::LogicFlags { a } => self.logic_flags(i, *a),
            Op::CondHolds { cond, nzcv } => self.cond_holds(i, *cond, *nzcv),
            Op::Load { addr, .. } => self.load(i, *addr, ty),
            Op::Store { addr, value, order } => self.store_value(*addr, *value, *order),
            Op::AtomicRmw { op, addr, value, .. } => self.atomic_rmw(i, *op, *addr, *value, ty),
            Op::CmpXchg { addr, expected, new, .. } => self.cmpxchg(i, *addr, *expected, *new, ty),
            Op::Fence(kind) => self.fence(*kind),
            Op::Call { helper, args } => self.call(i, helper.func as usize, args, ty),
            Op::Vec(v) => self.vec(v),
        }
    }

    /// The label of the 16-byte constant `value` in the block's pool.
    fn constant(&mut self, value: u128) -> DynamicLabel {
        if let Some(&(_, label)) = self.constants.iter().find(|(c, _)| *c == value) {
            return label;
        }
        let label = self.ops.new_dynamic_label();
        self.constants.push((value, label));
        label
    }

    /// Emit the constant pool, 16-byte aligned; returns where it starts.
    fn emit_constants(&mut self) -> usize {
        if self.constants.is_empty() {
            return self.ops.offset().0;
        }
        // Block code is placed 16-byte aligned, so aligning the offset aligns the address.
        self.ops.align(16, 0xcc);
        let start = self.ops.offset().0;
        for (value, label) in std::mem::take(&mut self.constants) {
            self.bind(label);
            self.ops.extend(value.to_le_bytes());
        }
        start
    }

    fn loc(&self, v: Value) -> Loc {
        self.locs[v.index()]
    }

    fn ty(&self, v: Value) -> Type {
        self.block.ty(v)
    }

    /// The register `v` lives in, if it does.
    fn reg(&self, v: Value) -> Option<Reg> {
        match self.loc(v) {
            Loc::Reg(r) => Some(r),
            _ => None,
        }
    }

    /// `v` as the source operand of a `w`-wide instruction. A constant that does not fit
    /// the instruction's imm32 is first moved into `scratch`.
    fn src(&mut self, v: Value, w: W, scratch: Reg) -> Src {
        match self.loc(v) {
            Loc::Reg(r) => Src::Reg(r),
            Loc::Slot(s) => Src::Slot(slot_offset(s)),
            Loc::Imm(c) => match imm_for(c, w) {
                Some(i) => Src::Imm(i),
                None => {
                    self.mov_imm(scratch, c);
                    Src::Reg(scratch)
                }
            },
            // Never read: fused conditions are consumed through `pending_cc`.
            Loc::Flags | Loc::None => Src::Imm(0),
        }
    }

    /// `v` as an `r/m` operand: constants are moved into `scratch`.
    fn rm(&mut self, v: Value, scratch: Reg) -> Rm {
        match self.loc(v) {
            Loc::Slot(s) => Rm::Slot(slot_offset(s)),
            _ => Rm::Reg(self.in_reg(v, scratch)),
        }
    }

    /// `v` in a register: its own, or loaded into `scratch`.
    fn in_reg(&mut self, v: Value, scratch: Reg) -> Reg {
        match self.reg(v) {
            Some(r) => r,
            None => {
                self.load_value(scratch, v);
                scratch
            }
        }
    }

    /// Put `v` (zero-extended, as held) into `r`; nothing if it is already there.
    fn load_value(&mut self, r: Reg, v: Value) {
        match self.src(v, W::Q, r) {
            Src::Reg(s) => self.mov_reg(r, s),
            Src::Slot(o) => self.alu(Alu::Mov, W::Q, r, Src::Slot(o)),
            Src::Imm(i) => self.mov_imm(r, i as i64 as u64),
        }
    }

    /// The register to compute value `i` in: its own, or `scratch` if it is spilled.
    fn result_reg(&self, i: usize, scratch: Reg) -> Reg {
        match self.locs[i] {
            Loc::Reg(r) => r,
            _ => scratch,
        }
    }

    /// Move the result computed in `r` to value `i`'s location.
    fn set_result(&mut self, i: usize, r: Reg) {
        match self.locs[i] {
            Loc::Reg(d) => self.mov_reg(d, r),
            Loc::Slot(s) => {
                self.store(asm::Size::Q, asm::Mem::slot(slot_offset(s)), r);
            }
            Loc::Imm(_) | Loc::Flags | Loc::None => {}
        }
    }

    /// Re-zero-extend a value of type `ty` computed with 32-bit instructions.
    fn zero_extend_narrow(&mut self, r: Reg, ty: Type) {
        match ty {
            Type::I8 => self.zero_extend(asm::Size::B, r, r),
            Type::I16 => self.zero_extend(asm::Size::H, r, r),
            Type::I1 => self.alu(Alu::And, W::D, r, Src::Imm(1)),
            _ => {}
        }
    }

    /// Guest PC of the guest instruction that produced IR instruction `inst`.
    fn guest_pc_of(&self, inst: usize) -> u64 {
        let insns = &self.block.guest_insns;
        insns.iter().rev().find(|g| g.first_inst as usize <= inst).map_or(self.block.guest_pc, |g| g.pc)
    }
}

/// The imm32 encoding of the constant `c` for a `w`-wide instruction, if it has one.
fn imm_for(c: u64, w: W) -> Option<i32> {
    match w {
        W::D => u32::try_from(c).ok().map(|u| u as i32),
        W::Q => i32::try_from(c as i64).ok(),
    }
}
