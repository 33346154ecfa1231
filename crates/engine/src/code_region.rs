//! The executable code region: the back end's routines, the indirect-branch table, blocks.
//!
//! One anonymous mapping, readable, writable and executable at once (simple, and what
//! most JITs start with; W^X with a second mapping is a later hardening step — a
//! kernel that forbids RWX mappings makes `CodeRegion::new` fail and the engine fall
//! back to the interpreter). Layout:
//!
//! ```text
//! [0, 4 KiB)            routines: enter, one exit routine per ExitReason
//! [4 KiB, 4 KiB + 64 KiB) indirect-branch table: 4096 x (guest_pc, host address)
//! [68 KiB, size)        translated blocks, bump-allocated, 16-byte aligned
//! ```
//!
//! Everything within 2 GiB of everything else, so a back end may reach every routine,
//! the table and every block with a 32-bit displacement. When the block area is full
//! the cache flushes it whole (`CodeRegion::flush_blocks`).
//!
//! The routines come from the back end ([`Backend::assemble_routines`]): `enter(state,
//! code, frame_sp)` saves what the host ABI wants saved, reserves the back end's spill
//! frame, stores the stack pointer translated code runs with at `frame_sp` (so a fault
//! in a helper can find the block that called it, see [`crate::fault`]), pins the
//! state pointer and jumps to `code`; each exit routine stores the PC and its
//! `ExitReason` into the [`archway_ir::StateHeader`] and returns from `enter`.

use crate::backend::{Backend, CodeEnv};
use std::io;

/// Entries of the indirect-branch table (a power of two).
pub const INDIRECT_ENTRIES: usize = 4096;
/// Mask of the table index `(pc >> 2) & INDIRECT_INDEX_MASK`.
pub const INDIRECT_INDEX_MASK: u64 = INDIRECT_ENTRIES as u64 - 1;

/// Size of the routine area at the start of the region.
pub const ROUTINES_BYTES: usize = 4096;
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
    /// The guest PC the slot holds, or `u64::MAX`.
    pub guest_pc: u64,
    /// The host code of `guest_pc` (the lookup exit for an empty slot).
    pub host: u64,
}

/// The table slot of guest PC `pc`.
pub fn indirect_index(pc: u64) -> usize {
    ((pc >> 2) & INDIRECT_INDEX_MASK) as usize
}

type EnterFn = unsafe extern "C" fn(state: *mut u8, code: usize, frame_sp: *mut usize);

/// The mapping and the bump allocator over its block area.
pub(crate) struct CodeRegion {
    base: *mut u8,
    size: usize,
    env: CodeEnv,
    enter: EnterFn,
    /// Offset of the first free byte of the block area.
    cursor: usize,
}

impl CodeRegion {
    /// Map `size` bytes (rounded up to hold at least the routines and the table) and
    /// place back end `B`'s routines in it.
    pub(crate) fn new<B: Backend>(size: usize) -> io::Result<CodeRegion> {
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
        let placed = place_routines::<B>(base);
        let (env, enter) = match placed {
            Ok(placed) => placed,
            Err(e) => {
                // SAFETY: unmapping exactly the mapping just created, which nothing uses.
                unsafe { libc::munmap(base as *mut libc::c_void, size) };
                return Err(e);
            }
        };
        let mut region = CodeRegion { base, size, env, enter, cursor: BLOCKS_OFFSET };
        region.clear_indirect_table();
        Ok(region)
    }

    /// The addresses blocks are compiled against.
    pub(crate) fn env(&self) -> &CodeEnv {
        &self.env
    }

    /// Where the next block will be placed.
    pub(crate) fn next_block_addr(&self) -> usize {
        self.base as usize + self.cursor.next_multiple_of(BLOCK_ALIGN)
    }

    /// Copy a block assembled for [`Self::next_block_addr`] into place; `None` if it
    /// does not fit in what is left.
    pub(crate) fn place(&mut self, code: &[u8]) -> Option<usize> {
        let start = self.cursor.next_multiple_of(BLOCK_ALIGN);
        let end = start.checked_add(code.len()).filter(|&end| end <= self.size)?;
        // SAFETY: `[start, end)` lies in the block area of our mapping, which no
        // translated code is running in while the engine holds `&mut self`.
        unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), self.base.add(start), code.len()) };
        self.cursor = end;
        Some(self.base as usize + start)
    }

    /// Aim the link site whose field is at host address `field` at the block at host
    /// address `target` (back end `B` writes the branch).
    pub fn patch_link<B: Backend>(&mut self, field: usize, target: usize) {
        let placed = self.base as usize + BLOCKS_OFFSET..self.base as usize + self.cursor;
        assert!(placed.contains(&field) && placed.contains(&target));
        // SAFETY: checked above that the field and the target lie in placed code of
        // this live region; the engine passes fields of its blocks' link sites.
        unsafe { B::patch_link(field, target) };
    }

    /// Make the indirect-branch table send guest `pc` to host `host`.
    pub(crate) fn set_indirect(&mut self, pc: u64, host: usize) {
        self.write_indirect(indirect_index(pc), pc, host as u64);
    }

    /// Forget every block: reset the allocator and empty the indirect table.
    pub(crate) fn flush_blocks(&mut self) {
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
    /// state header. `frame_sp` receives the stack pointer translated code runs with.
    ///
    /// # Safety
    /// `code` must be the entry of a block placed in this region (or a routine), and
    /// `state` a live guest state whose layout the block was compiled for.
    pub(crate) unsafe fn enter(&self, state: *mut u8, code: usize, frame_sp: *mut usize) {
        // SAFETY: the caller passes a live state and a placed block's address; the trampoline is this region's.
        unsafe { (self.enter)(state, code, frame_sp) }
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

/// Assemble back end `B`'s routines for the region at `base` and copy them into its
/// routine area: the addresses blocks jump to, and the entry trampoline.
fn place_routines<B: Backend>(base: *mut u8) -> io::Result<(CodeEnv, EnterFn)> {
    let routines = B::assemble_routines(base as usize, base as usize + TABLE_OFFSET)
        .map_err(|e| io::Error::other(format!("assembling the JIT routines: {e:?}")))?;
    if routines.code.len() > ROUTINES_BYTES || routines.enter >= routines.code.len() {
        return Err(io::Error::other("the JIT routines do not fit their area"));
    }
    // SAFETY: the routines fit the routine area (checked above) of the region at
    // `base`; `enter` is the entry of code that follows the host's C ABI for `EnterFn`
    // (the back end's contract, `Routines::enter`).
    unsafe {
        core::ptr::copy_nonoverlapping(routines.code.as_ptr(), base, routines.code.len());
        Ok((routines.env, core::mem::transmute::<usize, EnterFn>(base as usize + routines.enter)))
    }
}
