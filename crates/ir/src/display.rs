//! A readable text form of IR, for `ARCHWAY_LOG=debug` and test failures.
//!
//! ```text
//! v0:i64 = get_state +32
//! v2:i32 = sub_flags v0, v1
//! set_state +272, v2
//! vec.Add.4s +528, +544, +560
//! -> if v3 then 0x400120 else 0x400104
//! ```
//!
//! An op's text is the `text` column of its row in the op table ([`crate::op`]); this
//! module prints the rest: types, values, vector instructions, terminals and blocks.
//! [`Block::named`] prints state fields by the front end's names (`get_state X1`).

use crate::block::Block;
use crate::frontend::Frontend;
use crate::helper::Helper;
use crate::lane_ops::VecInst;
use crate::op::Op;
use crate::op::Terminal;
use crate::types::{Type, Value};
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

/// `v7`: the value made by instruction 7.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// A helper prints as its name.
impl fmt::Display for Helper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Values as a comma-separated list (`v1, v2`), for the text of ops with variadic
/// operands ([`crate::Op`]'s `Display` comes from the op table in [`crate::op`]).
pub(crate) struct ValueList<'a>(pub(crate) &'a [Value]);

impl fmt::Display for ValueList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

/// How a state field prints: `+56`, or its name.
type FieldText<'a> = &'a dyn Fn(u32) -> String;

/// A state field as its offset.
fn offset_text(offset: u32) -> String {
    format!("+{offset}")
}

/// `vec.OP.ARRANGEMENT +dst, +a[, +b][, #imm]`, the arrangement as AArch64 writes it
/// (`16b`, `4h`, `2d`...).
impl fmt::Display for VecInst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_vec(self, f, &offset_text)
    }
}

fn write_vec(v: &VecInst, f: &mut fmt::Formatter<'_>, field: FieldText) -> fmt::Result {
    let kind = match v.esize {
        8 => "b",
        16 => "h",
        32 => "s",
        _ => "d",
    };
    write!(f, "vec.{:?}.{}{kind} {}, {}", v.op, v.lanes(), field(v.dst), field(v.a))?;
    if v.op.reads_b() {
        write!(f, ", {}", field(v.b))?;
    }
    if v.op.has_imm() {
        write!(f, ", #{}", v.imm)?;
    }
    Ok(())
}

/// An op, with the state fields it names printed by `field`.
fn write_op(op: &Op, f: &mut fmt::Formatter<'_>, field: FieldText) -> fmt::Result {
    match op {
        Op::GetState { offset } => write!(f, "get_state {}", field(*offset)),
        Op::SetState { offset, value } => write!(f, "set_state {}, {value}", field(*offset)),
        Op::Vec(v) => write_vec(v, f, field),
        other => write!(f, "{other}"),
    }
}

fn write_block(block: &Block, f: &mut fmt::Formatter<'_>, field: FieldText) -> fmt::Result {
    writeln!(f, "block {:#x}:", block.guest_pc)?;
    for (i, inst) in block.insts.iter().enumerate() {
        if inst.ty == Type::Void {
            f.write_str("  ")?;
        } else {
            write!(f, "  v{i}:{} = ", inst.ty)?;
        }
        write_op(&inst.op, f, field)?;
        writeln!(f)?;
    }
    writeln!(f, "  {}", block.terminal)
}

/// A block printed with the front end's state field names ([`Block::named`]).
pub struct NamedBlock<'a> {
    block: &'a Block,
    frontend: &'a dyn Frontend,
}

impl Block {
    /// This block's text with state fields named by `frontend` (`get_state X1`), falling
    /// back to offsets where it has no name.
    pub fn named<'a>(&'a self, frontend: &'a dyn Frontend) -> NamedBlock<'a> {
        NamedBlock { block: self, frontend }
    }
}

impl fmt::Display for NamedBlock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = |offset| self.frontend.state_field_name(offset).unwrap_or_else(|| offset_text(offset));
        write_block(self.block, f, &field)
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
        write_block(self, f, &offset_text)
    }
}
