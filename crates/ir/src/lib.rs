//! archway's intermediate representation.
//!
//! A guest front end (aarch64 in `archway-guest-a64`, later x86_64) turns one guest basic
//! block into a [`Block`]: a straight-line list of typed SSA instructions ([`Inst`])
//! followed by exactly one [`Terminal`] that says where control goes next.
//!
//! The IR knows nothing about a particular guest. Guest registers live in a
//! guest-defined state struct that begins with a [`StateHeader`]; the IR reaches
//! them with [`Op::GetState`]/[`Op::SetState`] at byte offsets. Guest memory is
//! host memory: [`Op::Load`]/[`Op::Store`] take host addresses.
//!
//! Everything here has a reference meaning given by [`interp`], which runs any
//! verified block. The JIT back ends must agree with it; tests compare the two.
//!
//! Modules:
//! - [`types`]: value types.
//! - [`eval`]: the arithmetic of the integer and flag ops, shared by the interpreter and
//!   constant folding.
//! - [`frontend`]: the interface between a guest front end and the engines.
//! - [`op`]: operations and terminals; the op table, one row per op, from which the
//!   enum, operand iteration, text form, builder methods and typing rules come.
//! - `op_macro`: the `ir_ops!` macro that reads that table.
//! - [`block`]: blocks and the builder front ends use to make them.
//! - [`helper`]: out-of-line helper functions callable from IR.
//! - [`state`]: the header every guest state struct starts with.
//! - [`lane_ops`]: lane-wise operations on the state's 16-byte vector fields
//!   ([`Op::Vec`]) and their meaning.
//! - [`verify`]: the verifier.
//! - [`interp`]: the reference interpreter.
//! - [`passes`]: optimisation passes (get/set elimination, constant folding, DCE).
//! - [`display`]: a readable text form for logs and tests.
//!
//! Adding an op: `ADDING_AN_OP.md` in this crate gives the steps (the table row, then
//! the interpreter, constant folding, the x86_64 emitter and a golden case).

// The lint gate of issue 12 (with the workspace's unsafe lints): the public API documented.
#![warn(missing_docs)]

pub mod block;
pub mod display;
pub mod eval;
pub mod frontend;
pub mod helper;
pub mod interp;
pub mod lane_ops;
pub mod op;
mod op_macro;
pub mod passes;
pub mod state;
pub mod types;
pub mod verify;

pub use block::{Block, BlockBuilder, GuestInsn, Inst};
pub use frontend::Frontend;
pub use helper::{Helper, HelperFn};
pub use lane_ops::{VecInst, VecOp};
pub use op::{BinOp, CmpOp, FenceKind, MemOrder, Op, RmwOp, Terminal, UnOp};
pub use state::{ExitReason, StateHeader};
pub use types::{Type, Value};
