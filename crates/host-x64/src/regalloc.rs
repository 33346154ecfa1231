//! Linear-scan register allocation over the SSA values of one block.
//!
//! A block is straight-line code, so a value's live range is exactly the interval
//! from its definition to its last use (the terminal counts as index `insts.len()`),
//! and linear scan over those intervals is exact. Every value gets one location for
//! its whole life ([`Loc`]); when registers run out, the interval that ends last is
//! spilled (possibly one already holding a register: allocation finishes before any
//! code is emitted, so its definition simply writes the stack slot instead).
//!
//! Rules that make common guest code cheap:
//! - A value whose operand dies at its definition prefers that operand's register, so
//!   `x = a + b` becomes `add a, b` in place when `a` is not used again.
//! - Constants are immediates, not registers; only 64-bit constants that do not fit a
//!   sign-extended imm32 and are used more than once are materialised once.
//! - A comparison used only by the next `Select` or the `If` terminal stays in the host
//!   flags ([`Loc::Flags`]) instead of becoming a 0/1 value.
//! - Pure values nobody uses get no location and no code.
//!
//! Values live across a helper call (or a vector op that calls its reference
//! implementation, see [`calls_out`]) get callee-saved registers (or a stack slot), so
//! calls need no saving and restoring around them.

use crate::emit::calls_out;
use crate::features::HostFeatures;
use crate::regs::{is_callee_saved, Reg, ALLOCATABLE, SPILL_SLOTS};
use archway_ir::{Block, Op, Terminal, Type, Value};

/// Where a value lives from its definition to its last use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// No value (void, or pure and unused: not emitted at all).
    None,
    Reg(Reg),
    /// A spill slot in the frame.
    Slot(u32),
    /// A constant used as an immediate (or materialised into a scratch register).
    Imm(u64),
    /// A condition kept in the host flags for the next instruction or the terminal.
    Flags,
}

/// The allocator's result.
#[derive(Debug)]
pub struct Allocation {
    pub locs: Vec<Loc>,
    /// Spill slots used (at most [`SPILL_SLOTS`]).
    pub spill_slots: u32,
}

/// The block needs more simultaneous spill slots than the frame has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManySpills;

/// Use counts and last uses of every value.
pub struct Liveness {
    /// Index of the last instruction using each value (`insts.len()` for the
    /// terminal); the defining index for unused values.
    pub last_use: Vec<usize>,
    pub uses: Vec<u32>,
}

impl Liveness {
    pub fn of(block: &Block) -> Liveness {
        let n = block.insts.len();
        let mut last_use: Vec<usize> = (0..n).collect();
        let mut uses = vec![0u32; n];
        let mut note = |v: Value, at: usize| {
            last_use[v.index()] = at;
            uses[v.index()] += 1;
        };
        for (i, inst) in block.insts.iter().enumerate() {
            // A condition on a subtraction's flags re-runs the compare on its operands
            // instead of reading the packed NZCV value.
            match compare_behind(block, i) {
                Some((a, b)) => [a, b].into_iter().for_each(|v| note(v, i)),
                None => inst.op.operands().for_each(|v| note(v, i)),
            }
        }
        if let Some(v) = block.terminal.operand() {
            note(v, n);
        }
        Liveness { last_use, uses }
    }
}

/// If instruction `i` tests an AArch64 condition on the NZCV of `SubFlags { a, b }`
/// (as `CMP` + `B.cond` become), the operands `a` and `b`: the emitter compares them
/// again and branches on the x86 flags, every condition having an x86 equivalent.
pub fn compare_behind(block: &Block, i: usize) -> Option<(Value, Value)> {
    match block.insts[i].op {
        Op::CondHolds { cond, nzcv } if cond < 14 => match block.insts[nzcv.index()].op {
            Op::SubFlags { a, b } => Some((a, b)),
            _ => None,
        },
        _ => None,
    }
}

/// Whether instruction `i` is a comparison whose only use comes right after it and can
/// read host flags: the next instruction's `Select` condition, or the `If` terminal.
fn is_fused_condition(block: &Block, live: &Liveness, i: usize) -> bool {
    let fusable = match block.insts[i].op {
        Op::Cmp { .. } => true,
        Op::CondHolds { cond, .. } => cond < 14,
        _ => false,
    };
    if !fusable || live.uses[i] != 1 {
        return false;
    }
    let v = Value(i as u32);
    match block.insts.get(i + 1) {
        Some(next) => matches!(next.op, Op::Select { cond, .. } if cond == v),
        None => matches!(block.terminal, Terminal::If { cond, .. } if cond == v),
    }
}

/// Whether a constant is worth a register: a 64-bit value no instruction can take as an
/// immediate, used more than once.
fn const_needs_register(ty: Type, c: u64, uses: u32) -> bool {
    ty == Type::I64 && i32::try_from(c as i64).is_err() && uses > 1
}

/// The operands whose register the result would best reuse, in preference order.
fn hint_operands(op: &Op) -> impl Iterator<Item = Value> + '_ {
    // A select's condition (its first operand) is not one.
    op.operands().skip(usize::from(matches!(op, Op::Select { .. })))
}

/// Allocate locations for every value of `block` (to run on a host with `features`,
/// which decide what calls out, see [`calls_out`]).
pub fn allocate(block: &Block, live: &Liveness, features: HostFeatures) -> Result<Allocation, TooManySpills> {
    let n = block.insts.len();
    let calls: Vec<usize> =
        block.insts.iter().enumerate().filter(|(_, inst)| calls_out(&inst.op, features)).map(|(i, _)| i).collect();
    let crosses_call = |start: usize, end: usize| calls.iter().any(|&c| start < c && c < end);

    let mut locs = vec![Loc::None; n];
    let mut spilled = vec![false; n];
    // Values currently holding a register: (value index, register).
    let mut active: Vec<(usize, Reg)> = Vec::new();

    for (i, inst) in block.insts.iter().enumerate() {
        // Operands dying here free their registers: the result may reuse them.
        active.retain(|&(v, _)| live.last_use[v] > i);
        let has_value = inst.ty != Type::Void && (live.uses[i] > 0 || inst.op.has_side_effects());
        if !has_value {
            continue;
        }
        if let Op::Const(c) = inst.op {
            if !const_needs_register(inst.ty, c, live.uses[i]) {
                locs[i] = Loc::Imm(c);
                continue;
            }
        }
        if is_fused_condition(block, live, i) {
            locs[i] = Loc::Flags;
            continue;
        }
        let end = live.last_use[i];
        let allowed = |r: Reg| !crosses_call(i, end) || is_callee_saved(r);
        let taken = |r: Reg| active.iter().any(|&(_, a)| a == r);
        let hint = hint_operands(&inst.op).find_map(|v| match locs[v.index()] {
            Loc::Reg(r) if live.last_use[v.index()] == i => Some(r),
            _ => None,
        });
        let free = hint
            .filter(|&r| allowed(r) && !taken(r))
            .or_else(|| ALLOCATABLE.iter().copied().find(|&r| allowed(r) && !taken(r)));
        if let Some(r) = free {
            locs[i] = Loc::Reg(r);
            active.push((i, r));
            continue;
        }
        // No register free: spill whichever interval ends last.
        let victim = active
            .iter()
            .enumerate()
            .filter(|(_, &(_, r))| allowed(r))
            .max_by_key(|(_, &(v, _))| live.last_use[v])
            .map(|(k, &(v, r))| (k, v, r));
        match victim {
            Some((k, v, r)) if live.last_use[v] > end => {
                spilled[v] = true;
                locs[v] = Loc::None;
                active.remove(k);
                locs[i] = Loc::Reg(r);
                active.push((i, r));
            }
            _ => spilled[i] = true,
        }
    }
    let spill_slots = assign_slots(&spilled, &live.last_use, &mut locs)?;
    Ok(Allocation { locs, spill_slots })
}

/// Give every spilled value a stack slot, reusing slots whose value has died.
fn assign_slots(spilled: &[bool], last_use: &[usize], locs: &mut [Loc]) -> Result<u32, TooManySpills> {
    let mut slot_free_after: Vec<usize> = Vec::new();
    for v in (0..spilled.len()).filter(|&v| spilled[v]) {
        let slot = match slot_free_after.iter().position(|&end| end < v) {
            Some(s) => s,
            None => {
                slot_free_after.push(0);
                slot_free_after.len() - 1
            }
        };
        slot_free_after[slot] = last_use[v];
        locs[v] = Loc::Slot(slot as u32);
    }
    let used = slot_free_after.len() as u32;
    if used > SPILL_SLOTS {
        return Err(TooManySpills);
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use archway_ir::{BinOp, BlockBuilder, CmpOp};

    #[test]
    fn reuses_a_dying_operand_register() {
        let mut b = BlockBuilder::new(0);
        let x = b.get_state(Type::I64, 32);
        let y = b.get_state(Type::I64, 40);
        let s = b.bin(BinOp::Add, x, y);
        b.set_state(48, s);
        let block = b.finish(Terminal::Link(4));
        let alloc = allocate(&block, &Liveness::of(&block), HostFeatures::ALL).unwrap();
        assert_eq!(alloc.locs[s.index()], alloc.locs[x.index()]);
        assert_ne!(alloc.locs[x.index()], alloc.locs[y.index()]);
    }

    #[test]
    fn spills_when_registers_run_out_and_reuses_slots() {
        let mut b = BlockBuilder::new(0);
        let vals: Vec<Value> = (0..20).map(|k| b.get_state(Type::I64, 32 + 8 * k)).collect();
        for (k, v) in vals.iter().enumerate() {
            b.set_state(32 + 8 * k as u32, *v);
        }
        let block = b.finish(Terminal::Link(4));
        let alloc = allocate(&block, &Liveness::of(&block), HostFeatures::ALL).unwrap();
        let regs = alloc.locs.iter().filter(|l| matches!(l, Loc::Reg(_))).count();
        assert_eq!(regs, ALLOCATABLE.len());
        assert_eq!(alloc.spill_slots, 20 - ALLOCATABLE.len() as u32);
    }

    #[test]
    fn values_live_across_calls_get_callee_saved_registers() {
        unsafe extern "C" fn nop(_: *mut u8, _: u64, _: u64, _: u64, _: u64) -> u64 {
            0
        }
        static NOP: archway_ir::Helper =
            archway_ir::Helper { name: "nop", func: nop, reads_state: false, writes_state: false };
        let mut b = BlockBuilder::new(0);
        let vals: Vec<Value> = (0..8).map(|k| b.get_state(Type::I64, 32 + 8 * k)).collect();
        b.call_void(&NOP, &[]);
        for (k, v) in vals.iter().enumerate() {
            b.set_state(32 + 8 * k as u32, *v);
        }
        let block = b.finish(Terminal::Link(4));
        let alloc = allocate(&block, &Liveness::of(&block), HostFeatures::ALL).unwrap();
        for v in vals {
            match alloc.locs[v.index()] {
                Loc::Reg(r) => assert!(is_callee_saved(r), "{r:?}"),
                Loc::Slot(_) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(alloc.spill_slots, 3);
    }

    #[test]
    fn a_condition_on_compare_flags_uses_the_compare_operands() {
        let mut b = BlockBuilder::new(0);
        let x = b.get_state(Type::I64, 32);
        let y = b.get_state(Type::I64, 40);
        let nzcv = b.sub_flags(x, y);
        let c = b.cond_holds(12, nzcv);
        let block = b.finish(Terminal::If { cond: c, then_pc: 4, else_pc: 8 });
        let alloc = allocate(&block, &Liveness::of(&block), HostFeatures::ALL).unwrap();
        assert_eq!(alloc.locs[nzcv.index()], Loc::None);
        assert_eq!(alloc.locs[c.index()], Loc::Flags);
    }

    #[test]
    fn keeps_a_branch_condition_in_flags() {
        let mut b = BlockBuilder::new(0);
        let x = b.get_state(Type::I64, 32);
        let zero = b.konst(Type::I64, 0);
        let c = b.cmp(CmpOp::Eq, x, zero);
        let block = b.finish(Terminal::If { cond: c, then_pc: 4, else_pc: 8 });
        let alloc = allocate(&block, &Liveness::of(&block), HostFeatures::ALL).unwrap();
        assert_eq!(alloc.locs[c.index()], Loc::Flags);
        assert_eq!(alloc.locs[zero.index()], Loc::Imm(0));
    }
}
