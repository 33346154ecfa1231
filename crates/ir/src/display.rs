//! A readable text form of IR, for `ARCHWAY_LOG=debug` and test failures.
//!
//! ```text
//! v0:i64 = get_state +32
//! v2:i32 = sub_flags v0, v1
//! set_state +272, v2
//! vec.Add.4s +528, +544, +560
//! -> if v3 then 0x400120 else 0x400104
//! ```

use crate::block::Block;
use crate::op::{Op, Terminal};
use crate::types::Type;
use crate::vector::VecInst;
use core::fmt;

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Type::Void => "void",
            Type::I1 => "i1",
            Type::I8 => "i8",
            Type::I16 => "i16",
            Type::I32 => "i32",
            Type::I64 => "i64",
        };
        f.write_str(s)
    }
}

fn list(vals: impl Iterator<Item = crate::Value>) -> String {
    vals.map(|v| format!("v{}", v.0)).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let operands = list(self.operands());
        match self {
            Op::Const(c) => write!(f, "const {c:#x}"),
            Op::GetState { offset } => write!(f, "get_state +{offset}"),
            Op::SetState { offset, .. } => write!(f, "set_state +{offset}, {operands}"),
            Op::Bin { op, .. } => write!(f, "{op:?} {operands}"),
            Op::Un { op, .. } => write!(f, "{op:?} {operands}"),
            Op::Cmp { op, .. } => write!(f, "cmp.{op:?} {operands}"),
            Op::CondHolds { cond, .. } => write!(f, "cond_holds {cond}, {operands}"),
            Op::Load { order, .. } => write!(f, "load.{order:?} [{operands}]"),
            Op::Store { order, .. } => write!(f, "store.{order:?} {operands}"),
            Op::AtomicRmw { op, order, .. } => write!(f, "atomic.{op:?}.{order:?} {operands}"),
            Op::CmpXchg { order, .. } => write!(f, "cmpxchg.{order:?} {operands}"),
            Op::Fence(kind) => write!(f, "fence.{kind:?}"),
            Op::Call { helper, .. } => write!(f, "call {}({operands})", helper.name),
            Op::Select { .. } => write!(f, "select {operands}"),
            Op::ZExt(_) => write!(f, "zext {operands}"),
            Op::SExt(_) => write!(f, "sext {operands}"),
            Op::Trunc(_) => write!(f, "trunc {operands}"),
            Op::AddFlags { .. } => write!(f, "add_flags {operands}"),
            Op::SubFlags { .. } => write!(f, "sub_flags {operands}"),
            Op::LogicFlags { .. } => write!(f, "logic_flags {operands}"),
            Op::Vec(v) => write!(f, "{v}"),
        }
    }
}

/// `vec.OP.ARRANGEMENT +dst, +a[, +b][, #imm]`, the arrangement as AArch64 writes it
/// (`16b`, `4h`, `2d`...).
impl fmt::Display for VecInst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.esize {
            8 => "b",
            16 => "h",
            32 => "s",
            _ => "d",
        };
        write!(f, "vec.{:?}.{}{kind} +{}, +{}", self.op, self.lanes(), self.dst, self.a)?;
        if self.op.reads_b() {
            write!(f, ", +{}", self.b)?;
        }
        if self.op.has_imm() {
            write!(f, ", #{}", self.imm)?;
        }
        Ok(())
    }
}

impl fmt::Display for Terminal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Terminal::Link(pc) => write!(f, "-> link {pc:#x}"),
            Terminal::If { cond, then_pc, else_pc } => {
                write!(f, "-> if v{} then {then_pc:#x} else {else_pc:#x}", cond.0)
            }
            Terminal::Indirect(v) => write!(f, "-> indirect v{}", v.0),
            Terminal::Return(v) => write!(f, "-> return v{}", v.0),
            Terminal::Syscall { next_pc } => write!(f, "-> syscall, then {next_pc:#x}"),
            Terminal::Trap { signal, pc } => write!(f, "-> trap signal {signal} at {pc:#x}"),
            Terminal::Synchronize { next_pc } => write!(f, "-> synchronize, then {next_pc:#x}"),
        }
    }
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "block {:#x}:", self.guest_pc)?;
        for (i, inst) in self.insts.iter().enumerate() {
            if inst.ty == Type::Void {
                writeln!(f, "  {}", inst.op)?;
            } else {
                writeln!(f, "  v{i}:{} = {}", inst.ty, inst.op)?;
            }
        }
        writeln!(f, "  {}", self.terminal)
    }
}
