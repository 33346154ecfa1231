//! Out-of-line helpers callable from IR.
//!
//! A helper is a plain `extern "C"` function that receives the guest state pointer
//! and up to four 64-bit arguments and returns a 64-bit result. Front ends use them
//! for work that is large and rare (floating point, vector lanes, exclusive stores).
//! The interpreter and the JIT call the very same function, so they agree by
//! construction; the IR only needs to know what a helper may touch.

/// Signature of every helper: `(state, a0, a1, a2, a3) -> result`.
pub type HelperFn = unsafe extern "C" fn(state: *mut u8, a0: u64, a1: u64, a2: u64, a3: u64) -> u64;

/// A helper function and what it may do.
#[derive(Debug)]
pub struct Helper {
    /// Name for logs and IR dumps.
    pub name: &'static str,
    /// The function the back end calls.
    pub func: HelperFn,
    /// The helper reads guest state through the state pointer: pending IR state
    /// writes must reach memory before the call.
    pub reads_state: bool,
    /// The helper writes guest state: IR values cached from state are stale after it.
    pub writes_state: bool,
}

impl PartialEq for Helper {
    fn eq(&self, other: &Self) -> bool {
        core::ptr::eq(self, other)
    }
}
