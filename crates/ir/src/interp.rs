//! The reference interpreter: the definition of what every IR op means.
//!
//! [`run_block`] executes one verified block on a guest state and reports where
//! control goes next. Guest memory is host memory, so loads and stores dereference
//! the guest address directly, exactly as translated code does.

use crate::block::Block;
use crate::eval;
use crate::lane_ops;
use crate::op::{FenceKind, MemOrder, Op, RmwOp, Terminal};
use crate::state::StateHeader;
use crate::types::{Type, Value};
use core::sync::atomic::{fence, AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// SIGBUS, raised for a misaligned atomic access as AArch64 hardware does.
const SIGBUS: i32 = 7;

/// How a block left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockExit {
    /// Continue at this guest PC (also written to the state header).
    Jump(u64),
    /// A system call; continue at `next_pc` afterwards.
    Syscall {
        /// The guest PC after the system call instruction.
        next_pc: u64,
    },
    /// A synchronous signal at guest PC `pc`.
    Trap {
        /// The signal number.
        signal: i32,
        /// The guest PC of the instruction that raised it.
        pc: u64,
    },
}

/// Run `block` on the guest state at `state`.
///
/// # Safety
/// `state` must point to a live guest state struct that the block's offsets fit in,
/// the block must pass [`crate::verify::verify`], and the guest memory it touches must
/// be mapped (or the host faults, as the guest would).
pub unsafe fn run_block(block: &Block, state: *mut u8) -> BlockExit {
    // SAFETY: the caller's contract is `run_block_with`'s.
    unsafe { run_block_with(block, state, &mut Vec::new()) }
}

/// [`run_block`] with the block's values kept in `vals` (cleared and resized here), so
/// that an engine running block after block reuses one allocation.
///
/// # Safety
/// As [`run_block`].
pub unsafe fn run_block_with(block: &Block, state: *mut u8, vals: &mut Vec<u64>) -> BlockExit {
    // SAFETY: the caller's contract (see above): the state fits the block's offsets, the block is verified, its guest memory is mapped or faults as the guest's would.
    unsafe {
        vals.clear();
        vals.resize(block.insts.len(), 0);
        let header = state as *mut StateHeader;
        for (i, inst) in block.insts.iter().enumerate() {
            if may_fault(&inst.op) {
                // Which instruction a host fault interrupted (see `faulting_inst`).
                (*header).scratch = i as u64;
            }
            let get = |v: Value| vals[v.index()];
            let ty = inst.ty;
            let result = match &inst.op {
                Op::Const(c) => *c,
                Op::GetState { offset } => read_state(state, *offset, ty),
                Op::SetState { offset, value } => {
                    write_state(state, *offset, block.ty(*value), get(*value));
                    0
                }
                Op::Bin { op, a, b } => eval::bin(*op, ty, get(*a), get(*b)),
                Op::Un { op, a } => eval::un(*op, ty, get(*a)),
                Op::Cmp { op, a, b } => eval::cmp(*op, block.ty(*a), get(*a), get(*b)),
                Op::Select { cond, a, b } => {
                    if get(*cond) & 1 != 0 {
                        get(*a)
                    } else {
                        get(*b)
                    }
                }
                Op::ZExt(a) => get(*a),
                Op::SExt(a) => eval::sext(block.ty(*a), get(*a)) as u64 & ty.mask(),
                Op::Trunc(a) => get(*a) & ty.mask(),
                Op::AddFlags { a, b, carry } => eval::add_flags(block.ty(*a), get(*a), get(*b), get(*carry)),
                Op::SubFlags { a, b } => eval::sub_flags(block.ty(*a), get(*a), get(*b)),
                Op::LogicFlags { a } => eval::logic_flags(block.ty(*a), get(*a)),
                Op::CondHolds { cond, nzcv } => eval::cond_holds(*cond, get(*nzcv)),
                Op::Load { addr, order } => load(get(*addr), ty, *order),
                Op::Store { addr, value, order } => {
                    store(get(*addr), block.ty(*value), get(*value), *order);
                    0
                }
                Op::AtomicRmw { op, addr, value, .. } => {
                    let addr = get(*addr);
                    if addr % ty.bytes() as u64 != 0 {
                        return trap_at(block, i, state, SIGBUS);
                    }
                    atomic_rmw(*op, ty, addr, get(*value))
                }
                Op::CmpXchg { addr, expected, new, .. } => {
                    let addr = get(*addr);
                    if addr % ty.bytes() as u64 != 0 {
                        return trap_at(block, i, state, SIGBUS);
                    }
                    cmpxchg(ty, addr, get(*expected), get(*new))
                }
                Op::Fence(kind) => {
                    match kind {
                        FenceKind::Full => fence(Ordering::SeqCst),
                        FenceKind::Load => fence(Ordering::Acquire),
                        FenceKind::Store => fence(Ordering::Release),
                    }
                    0
                }
                Op::Call { helper, args } => {
                    let mut a = [0u64; 4];
                    for (slot, v) in a.iter_mut().zip(args) {
                        *slot = get(*v);
                    }
                    (helper.func)(state, a[0], a[1], a[2], a[3]) & ty.mask()
                }
                Op::Vec(v) => {
                    lane_ops::exec(state, v);
                    0
                }
            };
            vals[i] = result;
        }
        let (pc, exit) = match &block.terminal {
            Terminal::Link(pc) => (*pc, BlockExit::Jump(*pc)),
            Terminal::If { cond, then_pc, else_pc } => {
                let pc = if vals[cond.index()] & 1 != 0 { *then_pc } else { *else_pc };
                (pc, BlockExit::Jump(pc))
            }
            Terminal::Indirect(v) | Terminal::Return(v) => (vals[v.index()], BlockExit::Jump(vals[v.index()])),
            Terminal::Syscall { next_pc } => (*next_pc, BlockExit::Syscall { next_pc: *next_pc }),
            // The engine applies the declared code changes before it runs the next block.
            Terminal::Synchronize { next_pc } => (*next_pc, BlockExit::Jump(*next_pc)),
            Terminal::Trap { signal, pc } => (*pc, BlockExit::Trap { signal: *signal, pc: *pc }),
        };
        (*header).pc = pc;
        exit
    }
}

/// Whether `op` touches guest memory (a host fault there is a guest fault).
fn may_fault(op: &Op) -> bool {
    matches!(op, Op::Load { .. } | Op::Store { .. } | Op::AtomicRmw { .. } | Op::CmpXchg { .. } | Op::Call { .. })
}

/// The guest PC of the instruction [`run_block`] was running when the host faulted in
/// a guest memory access (it records the IR index in [`StateHeader::scratch`]).
///
/// # Safety
/// `state` must be the state `block` was last run on by [`run_block`].
pub unsafe fn faulting_pc(block: &Block, state: *const u8) -> u64 {
    // SAFETY: the caller passes the state the block last ran on, which starts with a StateHeader.
    unsafe {
        let inst = (*(state as *const StateHeader)).scratch as usize;
        guest_pc_of(block, inst)
    }
}

fn guest_pc_of(block: &Block, inst: usize) -> u64 {
    block.guest_insns.iter().rev().find(|g| g.first_inst as usize <= inst).map_or(block.guest_pc, |g| g.pc)
}

/// A trap raised by IR instruction `inst` (e.g. a misaligned atomic): the guest PC is
/// that of the guest instruction containing it.
unsafe fn trap_at(block: &Block, inst: usize, state: *mut u8, signal: i32) -> BlockExit {
    // SAFETY: the caller passes a live state, which starts with a StateHeader.
    unsafe {
        let pc = guest_pc_of(block, inst);
        (*(state as *mut StateHeader)).pc = pc;
        BlockExit::Trap { signal, pc }
    }
}

unsafe fn read_state(state: *mut u8, offset: u32, ty: Type) -> u64 {
    // SAFETY: the verified block's offsets lie inside the state struct.
    unsafe {
        let p = state.add(offset as usize);
        match ty {
            Type::I1 | Type::I8 => *p as u64,
            Type::I16 => (p as *const u16).read_unaligned() as u64,
            Type::I32 => (p as *const u32).read_unaligned() as u64,
            Type::I64 => (p as *const u64).read_unaligned(),
            Type::Void => 0,
        }
    }
}

unsafe fn write_state(state: *mut u8, offset: u32, ty: Type, v: u64) {
    // SAFETY: the verified block's offsets lie inside the state struct.
    unsafe {
        let p = state.add(offset as usize);
        match ty {
            Type::I1 | Type::I8 => *p = v as u8,
            Type::I16 => (p as *mut u16).write_unaligned(v as u16),
            Type::I32 => (p as *mut u32).write_unaligned(v as u32),
            Type::I64 => (p as *mut u64).write_unaligned(v),
            Type::Void => {}
        }
    }
}

// Guest loads and stores of 2, 4 and 8 bytes are single-copy atomic when aligned, as
// AArch64 requires: other guest threads may race on them (seqlocks, the Go runtime).
// Relaxed atomics compile to plain `mov`/`ldr`/`str`; unaligned accesses need no
// atomicity and may be split.

/// Whether `addr` is a multiple of `size` (a power of two).
fn aligned(addr: u64, size: u64) -> bool {
    addr & (size - 1) == 0
}

unsafe fn load(addr: u64, ty: Type, order: MemOrder) -> u64 {
    // SAFETY: guest memory is host memory: the address is the guest's, a bad one faults as on the guest; aligned when atomic.
    unsafe {
        let v = match ty {
            Type::I8 => AtomicU8::from_ptr(addr as *mut u8).load(Ordering::Relaxed) as u64,
            Type::I16 if aligned(addr, 2) => AtomicU16::from_ptr(addr as *mut u16).load(Ordering::Relaxed) as u64,
            Type::I16 => (addr as *const u16).read_unaligned() as u64,
            Type::I32 if aligned(addr, 4) => AtomicU32::from_ptr(addr as *mut u32).load(Ordering::Relaxed) as u64,
            Type::I32 => (addr as *const u32).read_unaligned() as u64,
            Type::I64 if aligned(addr, 8) => AtomicU64::from_ptr(addr as *mut u64).load(Ordering::Relaxed),
            Type::I64 => (addr as *const u64).read_unaligned(),
            Type::I1 | Type::Void => 0,
        };
        if order != MemOrder::Plain {
            fence(Ordering::SeqCst);
        }
        v
    }
}

unsafe fn store(addr: u64, ty: Type, v: u64, order: MemOrder) {
    // SAFETY: guest memory is host memory: the address is the guest's, a bad one faults as on the guest; aligned when atomic.
    unsafe {
        if order != MemOrder::Plain {
            fence(Ordering::SeqCst);
        }
        match ty {
            Type::I1 | Type::I8 => AtomicU8::from_ptr(addr as *mut u8).store(v as u8, Ordering::Relaxed),
            Type::I16 if aligned(addr, 2) => AtomicU16::from_ptr(addr as *mut u16).store(v as u16, Ordering::Relaxed),
            Type::I16 => (addr as *mut u16).write_unaligned(v as u16),
            Type::I32 if aligned(addr, 4) => AtomicU32::from_ptr(addr as *mut u32).store(v as u32, Ordering::Relaxed),
            Type::I32 => (addr as *mut u32).write_unaligned(v as u32),
            Type::I64 if aligned(addr, 8) => AtomicU64::from_ptr(addr as *mut u64).store(v, Ordering::Relaxed),
            Type::I64 => (addr as *mut u64).write_unaligned(v),
            Type::Void => {}
        }
        if order != MemOrder::Plain {
            fence(Ordering::SeqCst);
        }
    }
}

macro_rules! with_atomic {
    ($ty:expr, $addr:expr, |$a:ident, $t:ident| $body:expr) => {
        match $ty {
            Type::I8 => {
                let $a = AtomicU8::from_ptr($addr as *mut u8);
                type $t = u8;
                $body
            }
            Type::I16 => {
                let $a = AtomicU16::from_ptr($addr as *mut u16);
                type $t = u16;
                $body
            }
            Type::I32 => {
                let $a = AtomicU32::from_ptr($addr as *mut u32);
                type $t = u32;
                $body
            }
            _ => {
                let $a = AtomicU64::from_ptr($addr as *mut u64);
                type $t = u64;
                $body
            }
        }
    };
}

/// Atomic read-modify-write at an aligned address; returns the old value.
#[allow(clippy::unnecessary_cast)] // `with_atomic!` also instantiates the body for u64
unsafe fn atomic_rmw(op: RmwOp, ty: Type, addr: u64, v: u64) -> u64 {
    // SAFETY: the caller checked the alignment; guest memory is host memory.
    unsafe {
        let sc = Ordering::SeqCst;
        with_atomic!(ty, addr, |a, T| {
            let x = v as T;
            let old = match op {
                RmwOp::Add => a.fetch_add(x, sc),
                RmwOp::AndNot => a.fetch_and(!x, sc),
                RmwOp::Xor => a.fetch_xor(x, sc),
                RmwOp::Or => a.fetch_or(x, sc),
                RmwOp::Umax => a.fetch_max(x, sc),
                RmwOp::Umin => a.fetch_min(x, sc),
                RmwOp::Swap => a.swap(x, sc),
                RmwOp::Smax | RmwOp::Smin => {
                    let pick_new = |cur: T| {
                        let (c, n) = (eval::sext(ty, cur as u64), eval::sext(ty, v));
                        if (op == RmwOp::Smax) == (n > c) {
                            x
                        } else {
                            cur
                        }
                    };
                    match a.fetch_update(sc, sc, |cur| Some(pick_new(cur))) {
                        Ok(old) | Err(old) => old,
                    }
                }
            };
            old as u64
        })
    }
}

/// Atomic compare-and-swap at an aligned address; returns the old value.
#[allow(clippy::unnecessary_cast)] // `with_atomic!` also instantiates the body for u64
unsafe fn cmpxchg(ty: Type, addr: u64, expected: u64, new: u64) -> u64 {
    // SAFETY: the caller checked the alignment; guest memory is host memory.
    unsafe {
        let sc = Ordering::SeqCst;
        with_atomic!(ty, addr, |a, T| match a.compare_exchange(expected as T, new as T, sc, sc) {
            Ok(old) | Err(old) => old as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::BlockBuilder;
    use crate::op::BinOp;

    #[repr(C)]
    #[derive(Default)]
    struct TestState {
        header: StateHeader,
        r: [u64; 4],
    }
    const R0: u32 = core::mem::offset_of!(TestState, r) as u32;

    #[test]
    fn runs_arithmetic_and_links() {
        let mut b = BlockBuilder::new(0x1000);
        b.begin_guest_insn(0x1000, 0);
        let x = b.get_state(Type::I64, R0);
        let one = b.konst(Type::I64, 1);
        let y = b.bin(BinOp::Add, x, one);
        b.set_state(R0 + 8, y);
        let block = b.finish(Terminal::Link(0x1004));
        let mut st = TestState { r: [41, 0, 0, 0], ..Default::default() };
        // SAFETY: `st` is a live state the test block was built for.
        let exit = unsafe { run_block(&block, &mut st as *mut _ as *mut u8) };
        assert_eq!(exit, BlockExit::Jump(0x1004));
        assert_eq!(st.r[1], 42);
        assert_eq!(st.header.pc, 0x1004);
    }

    #[test]
    fn memory_and_atomics() {
        let mut cell = 5u64;
        let addr = &mut cell as *mut u64 as u64;
        let mut b = BlockBuilder::new(0);
        let a = b.konst(Type::I64, addr);
        let three = b.konst(Type::I64, 3);
        let old = b.atomic_rmw(RmwOp::Add, a, three, MemOrder::AcqRel);
        b.set_state(R0, old);
        let loaded = b.load(Type::I32, a, MemOrder::Plain);
        let wide = b.zext_or_trunc(Type::I64, loaded);
        b.set_state(R0 + 8, wide);
        let seven = b.konst(Type::I64, 7);
        let eight = b.konst(Type::I64, 8);
        let prev = b.cmpxchg(a, eight, seven, MemOrder::AcqRel);
        b.set_state(R0 + 16, prev);
        let block = b.finish(Terminal::Link(4));
        let mut st = TestState::default();
        // SAFETY: `st` is a live state the test block was built for.
        unsafe { run_block(&block, &mut st as *mut _ as *mut u8) };
        assert_eq!(st.r[..3], [5, 8, 8]);
        assert_eq!(cell, 7);
    }

    #[test]
    fn misaligned_atomic_is_sigbus() {
        let mut buf = [0u64; 2];
        let addr = buf.as_mut_ptr() as u64 + 1;
        let mut b = BlockBuilder::new(0x40);
        b.begin_guest_insn(0x40, 0);
        let a = b.konst(Type::I64, addr);
        let one = b.konst(Type::I64, 1);
        b.atomic_rmw(RmwOp::Add, a, one, MemOrder::Plain);
        let block = b.finish(Terminal::Link(0x44));
        let mut st = TestState::default();
        // SAFETY: `st` is a live state the test block was built for.
        let exit = unsafe { run_block(&block, &mut st as *mut _ as *mut u8) };
        assert_eq!(exit, BlockExit::Trap { signal: SIGBUS, pc: 0x40 });
    }
}
