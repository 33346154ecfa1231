//! The arm64 `rt_sigframe`, as the kernel lays it out (arch/arm64/kernel/signal.c and
//! uapi asm/sigcontext.h, asm/ucontext.h; facts only).
//!
//! ```text
//! rt_sigframe   0     siginfo (128 bytes)
//!               128   ucontext: uc_flags, uc_link, uc_stack (stack_t, 24), uc_sigmask (8),
//!                     120 unused bytes, then at +176 uc_mcontext (16-byte aligned):
//!   sigcontext  +0    fault_address, regs[31], sp, pc, pstate; __reserved (4096) at +288:
//!   records           fpsimd_context {magic 0x46508001, size 528, fpsr, fpcr, vregs[32]},
//!                     esr_context {magic 0x45535201, size 16, esr} for faults,
//!                     a null header ending the list
//! frame record        {x29, x30} of the interrupted code, above the frame
//! ```
//!
//! The frame is placed below the interrupted SP (or at the top of the alternate stack),
//! 16-byte aligned, with the frame record just above it; x29 points at the record.

use super::SIGINFO_SIZE;
use crate::guest_memory;
use archway_guest_a64::CpuState;

/// Offset of the ucontext in the frame.
pub const UCONTEXT: u64 = 128;
const UC_STACK: usize = 128 + 16;
const UC_SIGMASK: usize = 128 + 40;
const MCONTEXT: usize = 128 + 176;
const FAULT_ADDRESS: usize = MCONTEXT;
const REGS: usize = MCONTEXT + 8;
const SP: usize = MCONTEXT + 256;
const PC: usize = MCONTEXT + 264;
const PSTATE: usize = MCONTEXT + 272;
const RESERVED: usize = MCONTEXT + 288;
const RESERVED_BYTES: usize = 4096;
/// `sizeof(struct rt_sigframe)` (a multiple of 16).
pub const FRAME_BYTES: usize = RESERVED + RESERVED_BYTES;

const FPSIMD_MAGIC: u32 = 0x4650_8001;
const FPSIMD_SIZE: u32 = 528;
const ESR_MAGIC: u32 = 0x4553_5201;
const ESR_SIZE: u32 = 16;
/// PSTATE bits a guest may set: NZCV (EL0t, everything else zero).
const NZCV_MASK: u64 = 0xf000_0000;

/// What a frame records besides the registers.
pub struct FrameInfo<'a> {
    pub siginfo: &'a [u8; SIGINFO_SIZE],
    /// The mask to restore at `rt_sigreturn`.
    pub mask: u64,
    /// The guest's `stack_t` as `sigaltstack` would report it.
    pub alt_stack: [u8; 24],
    /// Fault address and ESR, for faults.
    pub fault: Option<(u64, u64)>,
}

/// Where the frame and the frame record go for interrupted SP `sp_top`: (frame, record).
pub fn placement(sp_top: u64) -> (u64, u64) {
    let record = (sp_top - 16) & !15;
    (record - FRAME_BYTES as u64, record)
}

/// The frame's bytes for `cpu`.
pub fn encode(cpu: &CpuState, info: &FrameInfo) -> Vec<u8> {
    let mut f = vec![0u8; FRAME_BYTES];
    let mut put = |at: usize, bytes: &[u8]| f[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, info.siginfo);
    put(UC_STACK, &info.alt_stack);
    put(UC_SIGMASK, &info.mask.to_le_bytes());
    put(FAULT_ADDRESS, &info.fault.map_or(0, |(addr, _)| addr).to_le_bytes());
    for (i, x) in cpu.x.iter().enumerate() {
        put(REGS + 8 * i, &x.to_le_bytes());
    }
    put(SP, &cpu.sp.to_le_bytes());
    put(PC, &cpu.header.pc.to_le_bytes());
    put(PSTATE, &(u64::from(cpu.nzcv) & NZCV_MASK).to_le_bytes());
    let mut at = RESERVED;
    put(at, &FPSIMD_MAGIC.to_le_bytes());
    put(at + 4, &FPSIMD_SIZE.to_le_bytes());
    put(at + 8, &cpu.fpsr.to_le_bytes());
    put(at + 12, &cpu.fpcr.to_le_bytes());
    for (i, v) in cpu.v.iter().enumerate() {
        put(at + 16 + 16 * i, &v[0].to_le_bytes());
        put(at + 24 + 16 * i, &v[1].to_le_bytes());
    }
    at += FPSIMD_SIZE as usize;
    if let Some((_, esr)) = info.fault {
        put(at, &ESR_MAGIC.to_le_bytes());
        put(at + 4, &ESR_SIZE.to_le_bytes());
        put(at + 8, &esr.to_le_bytes());
    }
    // The terminator is the zeroed header after the last record.
    f
}

/// Write a frame for `cpu` at `frame` (and the record at `record`).
pub fn write(cpu: &CpuState, info: &FrameInfo, frame: u64, record: u64) -> Result<(), i64> {
    guest_memory::write(frame, &encode(cpu, info))?;
    guest_memory::write_u64(record, cpu.x[29])?;
    guest_memory::write_u64(record + 8, cpu.x[30])
}

/// What `rt_sigreturn` takes back from a frame.
pub struct Restored {
    pub mask: u64,
    pub alt_stack: [u8; 24],
}

/// Read the (possibly modified) frame at `frame` into `cpu`; `None` if it is not a
/// valid frame (the kernel then kills the thread with SIGSEGV).
pub fn restore(cpu: &mut CpuState, frame: u64) -> Option<Restored> {
    if !frame.is_multiple_of(16) {
        return None;
    }
    let mut f = vec![0u8; FRAME_BYTES];
    guest_memory::read(frame, &mut f).ok()?;
    let u64_at = |at: usize| u64::from_le_bytes(f[at..at + 8].try_into().unwrap_or_default());
    let u32_at = |at: usize| u32::from_le_bytes(f[at..at + 4].try_into().unwrap_or_default());
    let pstate = u64_at(PSTATE);
    if pstate & !NZCV_MASK != 0 {
        return None;
    }
    let mut at = RESERVED;
    let mut fp = None;
    while at + 8 <= RESERVED + RESERVED_BYTES {
        let (magic, size) = (u32_at(at), u32_at(at + 4) as usize);
        if magic == 0 {
            break;
        }
        if size < 8 || !size.is_multiple_of(16) || at + size > RESERVED + RESERVED_BYTES {
            return None;
        }
        match magic {
            FPSIMD_MAGIC if size == FPSIMD_SIZE as usize => fp = Some(at),
            ESR_MAGIC => {}
            _ => return None,
        }
        at += size;
    }
    let fp = fp?;
    for i in 0..31 {
        cpu.x[i] = u64_at(REGS + 8 * i);
    }
    cpu.sp = u64_at(SP);
    cpu.header.pc = u64_at(PC);
    cpu.nzcv = pstate as u32;
    cpu.fpsr = u32_at(fp + 8);
    cpu.fpcr = u32_at(fp + 12);
    for i in 0..32 {
        cpu.v[i] = [u64_at(fp + 16 + 16 * i), u64_at(fp + 24 + 16 * i)];
    }
    let mut alt_stack = [0u8; 24];
    alt_stack.copy_from_slice(&f[UC_STACK..UC_STACK + 24]);
    Some(Restored { mask: u64_at(UC_SIGMASK), alt_stack })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_kernel() {
        assert_eq!(FRAME_BYTES, 4688);
        assert_eq!(MCONTEXT, 304);
        assert_eq!(RESERVED % 16, 0);
        let (frame, record) = placement(0x10_0008);
        assert_eq!(record, 0xf_fff0);
        assert_eq!(frame % 16, 0);
    }

    #[test]
    fn round_trips_registers_and_fp_state() {
        let mut cpu = CpuState::default();
        cpu.x[5] = 55;
        cpu.sp = 0x7000;
        cpu.header.pc = 0x40_1000;
        cpu.nzcv = 0x6000_0000;
        cpu.fpcr = 0x0300_0000;
        cpu.v[31] = [1, 2];
        let info = FrameInfo { siginfo: &[0; SIGINFO_SIZE], mask: 1 << 9, alt_stack: [0; 24], fault: Some((8, 9)) };
        let bytes = encode(&cpu, &info);
        let aligned = vec![0u128; FRAME_BYTES / 16];
        let at = aligned.as_ptr() as u64;
        guest_memory::write(at, &bytes).unwrap();
        let mut back = CpuState::default();
        let restored = restore(&mut back, at).unwrap();
        assert_eq!(restored.mask, 1 << 9);
        assert_eq!(
            (back.x[5], back.sp, back.header.pc, back.nzcv, back.fpcr),
            (55, 0x7000, 0x40_1000, 0x6000_0000, 0x0300_0000)
        );
        assert_eq!(back.v[31], [1, 2]);
    }
}
