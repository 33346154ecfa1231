//! Branches, exception generation and system instructions.
//!
//! - Branches: B, BL, BR, BLR, RET, CBZ/CBNZ, TBZ/TBNZ, B.cond (each ends the block).
//! - Exceptions: SVC (a system call), BRK (SIGTRAP).
//! - Hints (NOP, YIELD, WFE, WFI, SEV, SEVL, the pointer-authentication hints, BTI,
//!   ESB, CSDB and every other hint) do nothing: no optional hint feature is advertised.
//! - Barriers: CLREX, DMB, DSB, ISB (ends the block so that code declared modified by
//!   IC IVAU is retranslated before the next instruction runs).
//! - System registers EL0 may use: MRS/MSR of TPIDR_EL0, NZCV, FPCR, FPSR; MRS of the
//!   generic timer and of the identification registers in [`crate::features`].
//! - Cache maintenance: DC ZVA, DC CVAC/CVAU/CIVAC, IC IVAU (declares the line's code
//!   modified; see [`archway_ir::StateHeader::code_dirty_start`]).

use super::{Ctx, Flow};
use crate::decode::{inst, Entry, Fields};
use crate::features::{self, sys_reg};
use crate::state::{off, NO_EXCLUSIVE};
use archway_ir::{BinOp, CmpOp, FenceKind, Helper, MemOrder, Terminal, Type};

pub const TABLE: &[Entry] = &[
    inst("B_BL", "o00101iiiiiiiiiiiiiiiiiiiiiiiiii", branch_imm),
    inst("BR", "1101011000011111000000nnnnn00000", branch_register),
    inst("BLR", "1101011000111111000000nnnnn00000", branch_link_register),
    inst("RET", "1101011001011111000000nnnnn00000", return_register),
    inst("CBZ_CBNZ", "f011010oiiiiiiiiiiiiiiiiiiittttt", compare_branch),
    inst("TBZ_TBNZ", "b011011obbbbbiiiiiiiiiiiiiittttt", test_branch),
    inst("B_cond", "01010100iiiiiiiiiiiiiiiiiii0cccc", cond_branch),
    inst("SVC", "11010100000iiiiiiiiiiiiiiii00001", svc),
    inst("BRK", "11010100001iiiiiiiiiiiiiiii00000", brk),
    inst("HINT", "11010101000000110010iiiiiii11111", nop),
    inst("CLREX", "11010101000000110011iiii01011111", clrex),
    inst("DSB", "11010101000000110011iiii10011111", barrier),
    inst("DMB", "11010101000000110011iiii10111111", barrier),
    inst("ISB", "11010101000000110011iiii11011111", isb),
    inst("MRS", "110101010011yyyyyyyyyyyyyyyttttt", mrs),
    inst("MSR_reg", "110101010001yyyyyyyyyyyyyyyttttt", msr),
    inst("SYS", "1101010100001yyyyyyyyyyyyyyttttt", sys),
];

/// SIGTRAP, the signal BRK raises.
const SIGTRAP: i32 = 5;

/// System registers EL0 reads or writes as state (encodings from [`sys_reg`]).
const TPIDR_EL0: u32 = sys_reg(3, 3, 13, 0, 2);
const NZCV: u32 = sys_reg(3, 3, 4, 2, 0);
const FPCR: u32 = sys_reg(3, 3, 4, 4, 0);
const FPSR: u32 = sys_reg(3, 3, 4, 4, 1);
const CNTVCT_EL0: u32 = sys_reg(3, 3, 14, 0, 2);

/// FPCR bits that exist: AHP, DN, FZ, RMode. The trap enables (IOE..IDE) are not
/// implemented and read as zero, as on most cores (glibc's `feenableexcept` checks
/// this way); FZ16 is absent without FP16.
const FPCR_WRITABLE: u64 = 0x07c0_0000;
/// FPSR bits that exist: QC and the cumulative exception flags IDC, IXC, UFC, OFC,
/// DZC, IOC.
const FPSR_WRITABLE: u64 = 0x0800_009f;

/// SYS operations (op0 = 1) EL0 may issue.
const DC_ZVA: u32 = sys_reg(1, 3, 7, 4, 1);
const DC_CVAC: u32 = sys_reg(1, 3, 7, 10, 1);
const DC_CVAU: u32 = sys_reg(1, 3, 7, 11, 1);
const DC_CIVAC: u32 = sys_reg(1, 3, 7, 14, 1);
const IC_IVAU: u32 = sys_reg(1, 3, 7, 5, 1);

/// Bytes `DC ZVA` zeroes (`DCZID_EL0.BS` = log2 of the size in words).
const ZVA_BYTES: u64 = 4 << features::DCZID_EL0;

/// `pc` plus the signed word offset in field `i`.
fn branch_target(ctx: &Ctx, f: Fields) -> u64 {
    ctx.pc.wrapping_add((f.signed('i') << 2) as u64)
}

/// B, BL (BL writes the return address to X30).
fn branch_imm(ctx: &mut Ctx, f: Fields) -> Flow {
    if f.bit('o') {
        let link = ctx.k64(ctx.pc.wrapping_add(4));
        ctx.set_x(30, link);
    }
    Flow::End(Terminal::Link(branch_target(ctx, f)))
}

/// BR.
fn branch_register(ctx: &mut Ctx, f: Fields) -> Flow {
    let target = ctx.x(f.reg('n'));
    Flow::End(Terminal::Indirect(target))
}

/// BLR (the target is read before X30 is written: `BLR X30` jumps to the old X30).
fn branch_link_register(ctx: &mut Ctx, f: Fields) -> Flow {
    let target = ctx.x(f.reg('n'));
    let link = ctx.k64(ctx.pc.wrapping_add(4));
    ctx.set_x(30, link);
    Flow::End(Terminal::Indirect(target))
}

/// RET.
fn return_register(ctx: &mut Ctx, f: Fields) -> Flow {
    let target = ctx.x(f.reg('n'));
    Flow::End(Terminal::Return(target))
}

/// CBZ, CBNZ.
fn compare_branch(ctx: &mut Ctx, f: Fields) -> Flow {
    let sf = f.bit('f');
    let value = ctx.reg(sf, f.reg('t'));
    let zero = ctx.k(sf, 0);
    let op = if f.bit('o') { CmpOp::Ne } else { CmpOp::Eq };
    let cond = ctx.b.cmp(op, value, zero);
    let then_pc = branch_target(ctx, f);
    Flow::End(Terminal::If { cond, then_pc, else_pc: ctx.pc.wrapping_add(4) })
}

/// TBZ, TBNZ: branch on bit `b5:b40` of Rt.
fn test_branch(ctx: &mut Ctx, f: Fields) -> Flow {
    let bit_number = f.get('b');
    let value = ctx.x(f.reg('t'));
    let mask = ctx.k64(1 << bit_number);
    let tested = ctx.b.bin(BinOp::And, value, mask);
    let zero = ctx.k64(0);
    let op = if f.bit('o') { CmpOp::Ne } else { CmpOp::Eq };
    let cond = ctx.b.cmp(op, tested, zero);
    let then_pc = branch_target(ctx, f);
    Flow::End(Terminal::If { cond, then_pc, else_pc: ctx.pc.wrapping_add(4) })
}

/// B.cond (AL and NV always branch).
fn cond_branch(ctx: &mut Ctx, f: Fields) -> Flow {
    let target = branch_target(ctx, f);
    let cond = f.get('c') as u8;
    if cond >= 0b1110 {
        return Flow::End(Terminal::Link(target));
    }
    let nzcv = ctx.nzcv();
    let holds = ctx.b.cond_holds(cond, nzcv);
    Flow::End(Terminal::If { cond: holds, then_pc: target, else_pc: ctx.pc.wrapping_add(4) })
}

/// SVC: the Linux system call (the immediate is ignored, as the kernel does).
fn svc(ctx: &mut Ctx, _: Fields) -> Flow {
    Flow::End(Terminal::Syscall { next_pc: ctx.pc.wrapping_add(4) })
}

/// BRK: SIGTRAP at this instruction.
fn brk(ctx: &mut Ctx, _: Fields) -> Flow {
    Flow::End(Terminal::Trap { signal: SIGTRAP, pc: ctx.pc })
}

/// Hints: nothing to do.
fn nop(_ctx: &mut Ctx, _: Fields) -> Flow {
    Flow::Continue
}

/// ISB: a context synchronisation event. The block ends and the engine drops the
/// translations of code declared modified (IC IVAU) before the next instruction.
fn isb(ctx: &mut Ctx, _: Fields) -> Flow {
    Flow::End(Terminal::Synchronize { next_pc: ctx.pc.wrapping_add(4) })
}

/// Bytes of the instruction cache line IC IVAU works on (`CTR_EL0.IminLine`, log2
/// of the size in words).
const ICACHE_LINE_BYTES: u64 = 4 << (features::CTR_EL0 & 0xf);

/// IC IVAU Xt: declare the code in the line holding Xt modified. Only the state
/// header is written; no IR-visible field, so the call is no barrier for the passes.
unsafe extern "C" fn ic_ivau(state: *mut u8, address: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: translated code calls helpers with its live state, which starts with a StateHeader.
    unsafe {
        let line = address & !(ICACHE_LINE_BYTES - 1);
        (*(state as *mut archway_ir::StateHeader)).mark_code_dirty(line, line.wrapping_add(ICACHE_LINE_BYTES));
        0
    }
}

static IC_IVAU_HELPER: Helper = Helper { name: "ic_ivau", func: ic_ivau, reads_state: false, writes_state: false };

/// CLREX: open the exclusive monitor.
fn clrex(ctx: &mut Ctx, _: Fields) -> Flow {
    let open = ctx.k64(NO_EXCLUSIVE);
    ctx.b.set_state(off::EXCL_ADDR, open);
    Flow::Continue
}

/// DMB, DSB (and SSBB/PSSBB, DSB's CRm 0 and 4): the access types in CRm<1:0> pick
/// the fence; reserved types act as a full barrier, as the architecture requires.
fn barrier(ctx: &mut Ctx, f: Fields) -> Flow {
    let crm = f.get('i');
    let kind = match crm & 0b11 {
        0b01 => FenceKind::Load,
        0b10 => FenceKind::Store,
        _ => FenceKind::Full,
    };
    ctx.b.fence(kind);
    Flow::Continue
}

/// The [`sys_reg`] encoding MRS and MSR name: op0 is `1:o0`, field `y` the rest.
fn mrs_msr_register(f: Fields) -> u32 {
    (0b10 << 14) | f.get('y')
}

/// MRS: state registers, the virtual counter and the identification registers.
fn mrs(ctx: &mut Ctx, f: Fields) -> Flow {
    let value = match mrs_msr_register(f) {
        TPIDR_EL0 => ctx.b.get_state(Type::I64, off::TPIDR),
        NZCV => ctx.nzcv(),
        FPCR => ctx.b.get_state(Type::I32, off::FPCR),
        FPSR => ctx.b.get_state(Type::I32, off::FPSR),
        CNTVCT_EL0 => ctx.b.call(&VIRTUAL_COUNT, &[]),
        encoding => match features::id_register(encoding) {
            Some(value) => ctx.k64(value),
            None => return Flow::Undefined,
        },
    };
    ctx.set_x(f.reg('t'), value);
    Flow::Continue
}

/// MSR (register) to TPIDR_EL0, NZCV, FPCR, FPSR; bits that do not exist stay zero.
fn msr(ctx: &mut Ctx, f: Fields) -> Flow {
    let (offset, writable) = match mrs_msr_register(f) {
        TPIDR_EL0 => (off::TPIDR, u64::MAX),
        NZCV => (off::NZCV, 0xf000_0000),
        FPCR => (off::FPCR, FPCR_WRITABLE),
        FPSR => (off::FPSR, FPSR_WRITABLE),
        _ => return Flow::Undefined,
    };
    let value = ctx.x(f.reg('t'));
    let value = if writable == u64::MAX {
        value
    } else {
        let narrow = ctx.b.zext_or_trunc(Type::I32, value);
        let mask = ctx.b.konst(Type::I32, writable);
        ctx.b.bin(BinOp::And, narrow, mask)
    };
    ctx.b.set_state(offset, value);
    Flow::Continue
}

/// SYS: DC ZVA zeroes a block, IC IVAU declares code modified; the data cache
/// maintenance EL0 may issue needs no IR.
fn sys(ctx: &mut Ctx, f: Fields) -> Flow {
    // op0 is 0b01 for SYS.
    match (0b01 << 14) | f.get('y') {
        DC_ZVA => zero_block(ctx, f.reg('t')),
        IC_IVAU => {
            let address = ctx.x(f.reg('t'));
            ctx.b.call_void(&IC_IVAU_HELPER, &[address]);
        }
        // Data cache maintenance: guest memory is host memory, coherent already.
        DC_CVAC | DC_CVAU | DC_CIVAC => {}
        _ => return Flow::Undefined,
    }
    Flow::Continue
}

/// DC ZVA: store zeros to the aligned `ZVA_BYTES` block holding address Xt.
fn zero_block(ctx: &mut Ctx, t: u32) {
    let address = ctx.x(t);
    let align = ctx.k64(!(ZVA_BYTES - 1));
    let base = ctx.b.bin(BinOp::And, address, align);
    let zero = ctx.k64(0);
    for offset in (0..ZVA_BYTES).step_by(8) {
        let delta = ctx.k64(offset);
        let at = ctx.b.bin(BinOp::Add, base, delta);
        ctx.b.store(at, zero, MemOrder::Plain);
    }
}

// A CNTVCT_EL0 tick is one nanosecond only while CNTFRQ_EL0 says 1 GHz.
const _: () = assert!(features::CNTFRQ_EL0 == 1_000_000_000);

/// The host's `CLOCK_MONOTONIC` in nanoseconds, which is `CNTVCT_EL0` at 1 GHz.
extern "C" fn virtual_count(_state: *mut u8, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    (now.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(now.tv_nsec as u64)
}

/// `MRS CNTVCT_EL0`.
static VIRTUAL_COUNT: Helper = Helper { name: "cntvct", func: virtual_count, reads_state: false, writes_state: false };

#[cfg(test)]
mod tests {
    use super::super::dp_imm::tests::{assert_undefined, block_of, run, run_x, PC};
    use crate::features::{CTR_EL0, MIDR_EL1};
    use crate::state::NO_EXCLUSIVE;
    use crate::CpuState;
    use archway_ir::interp::BlockExit;
    use archway_ir::{FenceKind, Op, Terminal};

    /// Where one instruction run with X registers `x` and flags `nzcv` goes.
    fn exit_of(word: u32, nzcv: u32, x: &[u64]) -> BlockExit {
        let mut state = CpuState { nzcv, ..Default::default() };
        state.x[..x.len()].copy_from_slice(x);
        run(&mut state, &[word])
    }

    fn jump(offset: i64) -> BlockExit {
        BlockExit::Jump(PC.wrapping_add(offset as u64))
    }

    #[test]
    fn immediate_branches() {
        assert_eq!(exit_of(0x14000002, 0, &[]), jump(8)); // b .+8
        assert_eq!(exit_of(0x17ffffff, 0, &[]), jump(-4)); // b .-4
        let mut state = CpuState::default();
        assert_eq!(run(&mut state, &[0x94000040]), jump(0x100)); // bl .+0x100
        assert_eq!(state.x[30], PC + 4);
        assert_eq!(block_of(&[0x94000040]).terminal, Terminal::Link(PC + 0x100));
    }

    #[test]
    fn register_branches() {
        let mut x = [0u64; 31];
        (x[3], x[5], x[30]) = (0x3000, 0x5000, 0x7000);
        assert_eq!(exit_of(0xd61f0060, 0, &x), BlockExit::Jump(0x3000)); // br x3
        assert_eq!(exit_of(0xd65f03c0, 0, &x), BlockExit::Jump(0x7000)); // ret
        assert_eq!(exit_of(0xd65f00a0, 0, &x), BlockExit::Jump(0x5000)); // ret x5
        let mut state = CpuState { x, ..Default::default() };
        assert_eq!(run(&mut state, &[0xd63f03c0]), BlockExit::Jump(0x7000)); // blr x30
        assert_eq!(state.x[30], PC + 4);
        assert!(matches!(block_of(&[0xd65f03c0]).terminal, Terminal::Return(_)));
        assert!(matches!(block_of(&[0xd63f03c0]).terminal, Terminal::Indirect(_)));
    }

    #[test]
    fn compare_and_test_branches() {
        let (cbz_w0, cbnz_x0) = (0x34000060, 0xb5ffffc0); // cbz w0, .+12; cbnz x0, .-8
        assert_eq!(exit_of(cbz_w0, 0, &[1 << 32]), jump(12));
        assert_eq!(exit_of(cbz_w0, 0, &[1]), jump(4));
        assert_eq!(exit_of(cbnz_x0, 0, &[1 << 32]), jump(-8));
        assert_eq!(exit_of(cbnz_x0, 0, &[0]), jump(4));
        let (tbz_63, tbnz_0) = (0xb6f80081, 0x37000081); // tbz x1, #63, .+16; tbnz w1, #0, .+16
        assert_eq!(exit_of(tbz_63, 0, &[0, u64::MAX >> 1]), jump(16));
        assert_eq!(exit_of(tbz_63, 0, &[0, u64::MAX]), jump(4));
        assert_eq!(exit_of(tbnz_0, 0, &[0, 1]), jump(16));
        assert_eq!(exit_of(tbnz_0, 0, &[0, 2]), jump(4));
    }

    #[test]
    fn conditional_branches() {
        let (b_ne, b_lt, b_al) = (0x540000a1, 0x54ffffeb, 0x5400004e);
        assert_eq!(exit_of(b_ne, 0x4000_0000, &[]), jump(4));
        assert_eq!(exit_of(b_ne, 0, &[]), jump(20));
        assert_eq!(exit_of(b_lt, 0x8000_0000, &[]), jump(-4));
        assert_eq!(exit_of(b_lt, 0x9000_0000, &[]), jump(4));
        assert_eq!(block_of(&[b_al]).terminal, Terminal::Link(PC + 8));
    }

    #[test]
    fn exceptions() {
        assert_eq!(
            run(&mut CpuState::default(), &[0xd503201f, 0xd4000001]), // nop; svc #0
            BlockExit::Syscall { next_pc: PC + 8 }
        );
        assert_eq!(exit_of(0xd4207d00, 0, &[]), BlockExit::Trap { signal: 5, pc: PC }); // brk
        assert_undefined(0xd4400000); // hlt #0
        assert_undefined(0xd4000002); // hvc #0
    }

    #[test]
    fn ic_ivau_marks_its_line_and_isb_synchronizes() {
        // ic ivau, x1; dsb ish; isb
        let block = block_of(&[0xd50b7521, 0xd5033b9f, 0xd5033fdf]);
        assert_eq!(block.terminal, Terminal::Synchronize { next_pc: PC + 12 });
        let mut state = CpuState::default();
        state.x[1] = 0x1234_5678;
        assert_eq!(run(&mut state, &[0xd50b7521, 0xd5033b9f, 0xd5033fdf]), BlockExit::Jump(PC + 12));
        assert_eq!(state.header.take_code_dirty(), Some((0x1234_5640, 0x1234_5680)));
        assert_eq!(state.header.take_code_dirty(), None);
    }

    #[test]
    fn hints_do_nothing() {
        // nop, yield, paciasp, autiasp, bti c, csdb, esb, wfe, xpaclri
        let words = [
            0xd503201f, 0xd503203f, 0xd503233f, 0xd50323bf, 0xd503245f, 0xd503229f, 0xd503221f, 0xd503205f, 0xd50320ff,
        ];
        let block = block_of(&words);
        assert!(block.insts.is_empty());
        assert_eq!(block.terminal, Terminal::Link(PC + 4 * words.len() as u64));
    }

    #[test]
    fn barriers() {
        // dmb ish, dmb ishld, dmb ishst, dsb sy
        let block = block_of(&[0xd5033bbf, 0xd50339bf, 0xd5033abf, 0xd5033f9f]);
        let fences: Vec<_> = block.insts.iter().map(|i| i.op.clone()).collect();
        let expected = [FenceKind::Full, FenceKind::Load, FenceKind::Store, FenceKind::Full];
        assert_eq!(fences, expected.map(Op::Fence));
        let mut state = CpuState { excl_addr: 0x1234, ..Default::default() };
        run(&mut state, &[0xd5033f5f]); // clrex
        assert_eq!(state.excl_addr, NO_EXCLUSIVE);
    }

    #[test]
    fn state_system_registers() {
        let all = u64::MAX;
        // msr tpidr_el0, x1; mrs x0, tpidr_el0; msr nzcv, x3; mrs x2, nzcv;
        // msr fpcr, x5; mrs x4, fpcr; msr fpsr, x7; mrs x6, fpsr
        let words = [0xd51bd041, 0xd53bd040, 0xd51b4203, 0xd53b4202, 0xd51b4405, 0xd53b4404, 0xd51b4427, 0xd53b4426];
        let s = run_x(&[0, 0xdead, 0, all, 0, all, 0, all], &words);
        assert_eq!((s.tpidr, s.x[0]), (0xdead, 0xdead));
        assert_eq!((s.nzcv, s.x[2]), (0xf000_0000, 0xf000_0000));
        assert_eq!((s.fpcr, s.x[4]), (0x07c0_0000, 0x07c0_0000));
        assert_eq!((s.fpsr, s.x[6]), (0x0800_009f, 0x0800_009f));
    }

    #[test]
    fn identification_registers() {
        // mrs x9..x15 of CNTFRQ_EL0, DCZID_EL0, MIDR_EL1, ID_AA64ISAR0_EL1,
        // ID_AA64PFR0_EL1, CTR_EL0, ID_AA64ISAR3_EL1; mrs x17, MPIDR_EL1
        let words = [0xd53be009, 0xd53b00ea, 0xd538000b, 0xd538060c, 0xd538040d, 0xd53b002e, 0xd538066f, 0xd53800b1];
        let s = run_x(&[u64::MAX; 31], &words);
        assert_eq!(s.x[9..16], [1_000_000_000, 4, MIDR_EL1, 0x21_0000, 0x11, CTR_EL0, 0]);
        assert_eq!(s.x[17], 0x8000_0000);
        assert_undefined(0xd5381010); // mrs x16, sctlr_el1
        assert_undefined(0xd51be000); // msr cntfrq_el0, x0
        assert_undefined(0xd50342df); // msr daifset, #2
    }

    #[test]
    fn virtual_counter_follows_the_monotonic_clock() {
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: a valid timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
        let before = now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64;
        let s = run_x(&[], &[0xd53be048, 0xd53be049]); // mrs x8, cntvct_el0; mrs x9, cntvct_el0
        assert!(s.x[8] >= before && s.x[8] - before < 1_000_000_000);
        assert!(s.x[9] >= s.x[8]);
    }

    #[test]
    fn dc_zva_zeroes_one_aligned_64_byte_block() {
        #[repr(align(64))]
        struct Lines([u8; 256]);
        let mut memory = Lines([0xff; 256]);
        let address = memory.0.as_mut_ptr() as u64 + 70;
        run_x(&[address], &[0xd50b7420]); // dc zva, x0
        assert!(memory.0[64..128].iter().all(|&b| b == 0));
        assert!(memory.0[..64].iter().chain(&memory.0[128..]).all(|&b| b == 0xff));
    }

    #[test]
    fn cache_maintenance() {
        // dc cvau, dc civac, dc cvac: no IR (ic ivau has its own test)
        assert!(block_of(&[0xd50b7b20, 0xd50b7e20, 0xd50b7a20]).insts.is_empty());
        assert_undefined(0xd50b7c20); // dc cvap (no FEAT_DPB)
        assert_undefined(0xd508751f); // ic iallu (EL1)
    }
}
