//! The executable code region: runtime routines, the indirect-branch table, blocks.
//!
//! One anonymous mapping, readable, writable and executable at once (simple, and what
//! most JITs start with; W^X with a second mapping is a later hardening step — a
//! kernel that forbids RWX mappings makes [`CodeRegion::new`] fail and the engine fall
//! back to the interpreter). Layout:
//!
//! ```text
//! [0, 4 KiB)            routines: enter, exit, one exit routine per ExitReason
//! [4 KiB, 4 KiB + 64 KiB) indirect-branch table: 4096 x (guest_pc, host address)
//! [68 KiB, size)        translated blocks, bump-allocated, 16-byte aligned
//! ```
//!
//! Everything within 2 GiB of everything else, so every branch is a `rel32`. When the
//! block area is full the cache flushes it whole ([`CodeRegion::flush_blocks`]).
//!
//! The routines: `enter(state, code, frame_sp)` saves the callee-saved registers,
//! reserves the spill frame, stores its `rsp` at `frame_sp` (so a fault in a helper
//! can find the block that called it, see [`crate::fault`]), pins `r15 = state` and
//! jumps to `code`; `exit` undoes that and returns
//! to Rust. Each exit routine stores `pc = rax` and its `ExitReason` into the
//! [`archway_ir::StateHeader`] first (the trap routine also `exit_arg = rcx`).

use super::emit::CodeEnv;
use super::regs::{FRAME_BYTES, SAVED_BY_TRAMPOLINE};
use archway_ir::state::{EXIT_ARG_OFFSET, EXIT_REASON_OFFSET, PC_OFFSET};
use archway_ir::ExitReason;
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};
use std::io;

/// Entries of the indirect-branch table (a power of two).
pub const INDIRECT_ENTRIES: usize = 4096;
/// Mask of the table index `(pc >> 2) & INDIRECT_INDEX_MASK`.
pub const INDIRECT_INDEX_MASK: u64 = INDIRECT_ENTRIES as u64 - 1;

const ROUTINES_BYTES: usize = 4096;
const TABLE_OFFSET: usize = ROUTINES_BYTES;
const TABLE_BYTES: usize = INDIRECT_ENTRIES * core::mem::size_of::<IndirectEntry>();
const BLOCKS_OFFSET: usize = TABLE_OFFSET + TABLE_BYTES;
const BLOCK_ALIGN: usize = 16;

/// One slot of the indirect-branch table. Emitted code compares `guest_pc` with the
/// target and jumps to `host` on a match. Empty slots hold `u64::MAX` (never the PC
/// of a translated block; and if a guest jumps there, `host` is the lookup exit).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IndirectEntry {
    pub guest_pc: u64,
    pub host: u64,
}

/// The table slot of guest PC `pc`.
pub fn indirect_index(pc: u64) -> usize {
    ((pc >> 2) & INDIRECT_INDEX_MASK) as usize
}

type EnterFn = unsafe extern "C" fn(state: *mut u8, code: usize, frame_sp: *mut usize);

/// The mapping and the bump allocator over its block area.
pub struct CodeRegion {
    base: *mut u8,
    size: usize,
    env: CodeEnv,
    enter: EnterFn,
    /// Offset of the first free byte of the block area.
    cursor: usize,
}

impl CodeRegion {
    /// Map `size` bytes (rounded up to hold at least the routines and the table) and
    /// emit the routines.
    pub fn new(size: usize) -> io::Result<CodeRegion> {
        let size = size.clamp(BLOCKS_OFFSET + 4096, 1 << 30);
        // SAFETY: a fresh anonymous private mapping; no existing memory is affected.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = base as *mut u8;
        let (routines, enter_offset, env) = assemble_routines(base as usize)
            .map_err(|e| io::Error::other(format!("assembling the JIT routines: {e}")))?;
        // SAFETY: `routines` fits the routines area (checked by `assemble_routines`) of
        // the mapping just created; `enter` is the entry of code that follows the SysV
        // ABI for `extern "C" fn(*mut u8, usize)`.
        let enter = unsafe {
            core::ptr::copy_nonoverlapping(routines.as_ptr(), base, routines.len());
            core::mem::transmute::<usize, EnterFn>(base as usize + enter_offset)
        };
        let mut region = CodeRegion { base, size, env, enter, cursor: BLOCKS_OFFSET };
        region.clear_indirect_table();
        Ok(region)
    }

    /// The addresses blocks are compiled against.
    pub fn env(&self) -> &CodeEnv {
        &self.env
    }

    /// Where the next block will be placed.
    pub fn next_block_addr(&self) -> usize {
        self.base as usize + self.cursor.next_multiple_of(BLOCK_ALIGN)
    }

    /// Copy a block assembled for [`Self::next_block_addr`] into place; `None` if it
    /// does not fit in what is left.
    pub fn place(&mut self, code: &[u8]) -> Option<usize> {
        let start = self.cursor.next_multiple_of(BLOCK_ALIGN);
        let end = start.checked_add(code.len()).filter(|&end| end <= self.size)?;
        // SAFETY: `[start, end)` lies in the block area of our mapping, which no
        // translated code is running in while the engine holds `&mut self`.
        unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), self.base.add(start), code.len()) };
        self.cursor = end;
        Some(self.base as usize + start)
    }

    /// Aim the `rel32` field at host address `field` at host address `target`.
    pub fn patch_rel32(&mut self, field: usize, target: usize) {
        let start = self.base as usize + BLOCKS_OFFSET;
        assert!(field >= start && field + 4 <= self.base as usize + self.cursor && field.is_multiple_of(4));
        let rel = (target as i64 - (field as i64 + 4)) as i32;
        // SAFETY: checked above that the field is an aligned word of placed code; the
        // aligned 4-byte store is atomic, so code running concurrently (a later shared
        // cache) sees the old or the new target, never a mix.
        unsafe { (field as *mut i32).write_volatile(rel) };
    }

    /// Make the indirect-branch table send guest `pc` to host `host`.
    pub fn set_indirect(&mut self, pc: u64, host: usize) {
        self.write_indirect(indirect_index(pc), pc, host as u64);
    }

    /// Forget every block: reset the allocator and empty the indirect table.
    pub fn flush_blocks(&mut self) {
        self.cursor = BLOCKS_OFFSET;
        self.clear_indirect_table();
    }

    fn clear_indirect_table(&mut self) {
        for k in 0..INDIRECT_ENTRIES {
            self.write_indirect(k, u64::MAX, self.env.exit_lookup as u64);
        }
    }

    fn write_indirect(&mut self, k: usize, pc: u64, host: u64) {
        let entry = (self.env.indirect_table as *mut IndirectEntry).wrapping_add(k);
        // SAFETY: `k < INDIRECT_ENTRIES`, so the entry lies in the table area. The PC is
        // invalidated first and written last, so a concurrent probe never pairs a PC
        // with another block's host address.
        unsafe {
            core::ptr::addr_of_mut!((*entry).guest_pc).write_volatile(u64::MAX);
            core::ptr::addr_of_mut!((*entry).host).write_volatile(host);
            core::ptr::addr_of_mut!((*entry).guest_pc).write_volatile(pc);
        }
    }

    /// Run translated code at `code` on `state` until it exits; the reason is in the
    /// state header. `frame_sp` receives the `rsp` translated code runs with.
    ///
    /// # Safety
    /// `code` must be the entry of a block placed in this region (or a routine), and
    /// `state` a live guest state whose layout the block was compiled for.
    pub unsafe fn enter(&self, state: *mut u8, code: usize, frame_sp: *mut usize) {
        (self.enter)(state, code, frame_sp)
    }

    /// Whether host address `addr` lies in this region.
    pub fn contains(&self, addr: usize) -> bool {
        (self.base as usize..self.base as usize + self.size).contains(&addr)
    }
}

// SAFETY: the region is owned by one engine and only touched through `&mut self` (or
// `&self` to enter it from the owning thread); moving it to another thread is fine.
unsafe impl Send for CodeRegion {}

impl Drop for CodeRegion {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping `new` created; no code runs in it now.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size) };
    }
}

/// Assemble the routines for a region at `base`: the code, the offset of `enter`, and
/// the addresses blocks jump to.
fn assemble_routines(base: usize) -> Result<(Vec<u8>, usize, CodeEnv), dynasmrt::DynasmError> {
    let mut ops = VecAssembler::<X64Relocation>::new(base);
    let exit = ops.new_dynamic_label();
    let pc = PC_OFFSET as i32;
    let reason = EXIT_REASON_OFFSET as i32;
    let arg = EXIT_ARG_OFFSET as i32;

    let enter = ops.offset().0;
    for &r in &SAVED_BY_TRAMPOLINE {
        dynasm!(ops; .arch x64; push Rq(r));
    }
    dynasm!(ops
        ; .arch x64
        ; sub rsp, FRAME_BYTES
        ; mov [rdx], rsp
        ; mov r15, rdi
        ; jmp rsi
        ; =>exit
        ; add rsp, FRAME_BYTES
    );
    for &r in SAVED_BY_TRAMPOLINE.iter().rev() {
        dynasm!(ops; .arch x64; pop Rq(r));
    }
    dynasm!(ops; .arch x64; ret);

    let mut exit_with = |why: ExitReason| {
        let at = base + ops.offset().0;
        dynasm!(ops
            ; .arch x64
            ; mov QWORD [r15 + pc], rax
            ; mov DWORD [r15 + reason], why as i32
            ; jmp =>exit
        );
        at
    };
    let exit_lookup = exit_with(ExitReason::Lookup);
    let exit_syscall = exit_with(ExitReason::Syscall);
    let exit_requested = exit_with(ExitReason::Requested);
    let exit_synchronize = exit_with(ExitReason::Synchronize);
    let exit_trap = base + ops.offset().0;
    dynasm!(ops
        ; .arch x64
        ; mov QWORD [r15 + pc], rax
        ; mov DWORD [r15 + reason], ExitReason::Trap as i32
        ; mov QWORD [r15 + arg], rcx
        ; jmp =>exit
    );
    let code = ops.finalize()?;
    assert!(code.len() <= ROUTINES_BYTES);
    let env = CodeEnv {
        exit_lookup,
        exit_syscall,
        exit_requested,
        exit_trap,
        exit_synchronize,
        indirect_table: base + TABLE_OFFSET,
    };
    Ok((code, enter, env))
}
