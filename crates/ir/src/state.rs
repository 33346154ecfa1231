//! The header every guest state struct begins with.
//!
//! Back ends and the dispatcher only need these fields; everything after the
//! header belongs to the guest front end and is reached by offset from IR.

/// Common prefix of every guest CPU state struct (`#[repr(C)]`, offset 0).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StateHeader {
    /// The guest PC to run next. Terminals write it before leaving a block.
    pub pc: u64,
    /// Non-zero asks translated code to return to the dispatcher at the next
    /// block boundary (set by signal handlers and other threads).
    pub exit_request: u32,
    /// Why the last block returned to the dispatcher ([`ExitReason`] as u32).
    pub exit_reason: u32,
    /// Extra word for the exit reason (the signal number of a trap).
    pub exit_arg: u64,
    /// Scratch the back ends may use (e.g. spill slots are elsewhere; this is one word).
    pub scratch: u64,
    /// Guest code bytes `[code_dirty_start, code_dirty_end)` the guest declared
    /// modified (AArch64 `IC IVAU`) since the last synchronisation; empty when
    /// `start >= end`. Engines drop their translations of it at the next
    /// [`crate::Terminal::Synchronize`] or other return to the dispatcher.
    pub code_dirty_start: u64,
    /// The end (exclusive) of the declared-modified range: see `code_dirty_start`.
    pub code_dirty_end: u64,
}

impl StateHeader {
    /// Add `[start, end)` to the code the guest declared modified.
    pub fn mark_code_dirty(&mut self, start: u64, end: u64) {
        if self.code_dirty_start >= self.code_dirty_end {
            (self.code_dirty_start, self.code_dirty_end) = (start, end);
        } else {
            self.code_dirty_start = self.code_dirty_start.min(start);
            self.code_dirty_end = self.code_dirty_end.max(end);
        }
    }

    /// Take the declared-modified range, leaving it empty.
    pub fn take_code_dirty(&mut self) -> Option<(u64, u64)> {
        let range = (self.code_dirty_start, self.code_dirty_end);
        (self.code_dirty_start, self.code_dirty_end) = (0, 0);
        (range.0 < range.1).then_some(range)
    }

    /// [`StateHeader::exit_request`] as an atomic: it is written by signal handlers
    /// and other threads while its owner runs (translated code reads it with a plain
    /// `cmp`, which is an atomic load on x86_64).
    ///
    /// # Safety
    /// `header` must point to a live header that stays in place for `'a`.
    pub unsafe fn exit_request<'a>(header: *mut StateHeader) -> &'a core::sync::atomic::AtomicU32 {
        // SAFETY: the caller guarantees a live, aligned header for 'a; the field is a u32.
        unsafe { core::sync::atomic::AtomicU32::from_ptr(core::ptr::addr_of_mut!((*header).exit_request)) }
    }
}

/// Byte offset of [`StateHeader::pc`].
pub const PC_OFFSET: u32 = 0;
/// Byte offset of [`StateHeader::exit_request`].
pub const EXIT_REQUEST_OFFSET: u32 = 8;
/// Byte offset of [`StateHeader::exit_reason`].
pub const EXIT_REASON_OFFSET: u32 = 12;
/// Byte offset of [`StateHeader::exit_arg`].
pub const EXIT_ARG_OFFSET: u32 = 16;
/// Size of the header; guest fields start at or after this offset.
pub const HEADER_SIZE: u32 = core::mem::size_of::<StateHeader>() as u32;

/// Why control came back to the dispatcher.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// The next block is not translated or not linked: look up `pc`.
    Lookup = 0,
    /// The guest made a system call; `pc` is the instruction after it.
    Syscall = 1,
    /// The guest raised a synchronous signal (`exit_arg`) at `pc`.
    Trap = 2,
    /// `exit_request` was set: deliver pending work, then continue at `pc`.
    Requested = 3,
    /// A [`crate::Terminal::Synchronize`]: apply the declared code changes, then
    /// continue at `pc`.
    Synchronize = 4,
}

impl ExitReason {
    /// The reason with this number, if there is one.
    pub fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            0 => ExitReason::Lookup,
            1 => ExitReason::Syscall,
            2 => ExitReason::Trap,
            3 => ExitReason::Requested,
            4 => ExitReason::Synchronize,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn offsets_match_the_struct() {
        assert_eq!(offset_of!(StateHeader, pc) as u32, PC_OFFSET);
        assert_eq!(offset_of!(StateHeader, exit_request) as u32, EXIT_REQUEST_OFFSET);
        assert_eq!(offset_of!(StateHeader, exit_reason) as u32, EXIT_REASON_OFFSET);
        assert_eq!(offset_of!(StateHeader, exit_arg) as u32, EXIT_ARG_OFFSET);
    }
}
