//! Host faults in guest code, turned into precise guest synchronous signals.
//!
//! Guest memory is host memory, so a guest's bad access faults the host thread. The
//! Linux layer's host handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGTRAP asks
//! [`on_host_fault`] whether the fault happened while this thread ran guest code; if
//! it did, the interrupted host context is rewritten so that the engine returns
//! [`crate::Exit::Trap`] with the signal and the guest PC of the faulting guest
//! instruction, and the fault itself waits in [`take_fault`]. Any other fault is
//! archway's own bug and the handler crashes loudly.
//!
//! Where guest code runs, per thread (`Context`):
//! - translated code ([`crate::jit::JitEngine`]): each block keeps a side table from
//!   host code offsets to guest instruction PCs (built at emit time, kept in the
//!   engine's `fault_map`). The back end's [`Backend::redirect_fault`] finds
//!   the faulting block (directly, or for a fault in a helper called from a block,
//!   through the call's return address, which the frame stack pointer the entry
//!   trampoline recorded leads to) and resumes at the region's trap exit routine with
//!   the guest PC and the signal, as a `Trap` terminal would. [`TranslatedCode`] is
//!   what it is told about the code.
//! - the reference interpreter (the interpreter engine, and blocks the JIT could not
//!   compile): runs under [`catching`], a setjmp-like asm routine; a fault returns
//!   there (the interpreter's frames are abandoned: they own nothing but the block's
//!   value vector, which leaks) and the engine asks
//!   [`archway_ir::interp::faulting_pc`] which instruction it was in.
//!
//! Precision: the IR passes keep every state write that precedes a memory access or
//! helper call (see `archway_ir::passes::dead_state`), and the back end emits state
//! writes in IR order, so at the faulting access the guest registers, flags and vector
//! registers in the state are exactly those before the faulting guest instruction —
//! provided the front end writes an instruction's results after its memory accesses
//! (true for loads, stores and pairs; a pre-index writeback done before a faulting
//! access would show the new base). A helper that faults half-way (a structure load)
//! may have written some of its destination registers.

use crate::backend::{Backend, TranslatedCode};
use crate::host::{self, CatchBuf};
use core::cell::Cell;

/// A guest fault taken from the host: what the guest's siginfo says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestFault {
    /// The host signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGTRAP).
    pub signal: i32,
    /// The host `si_code` (SEGV_MAPERR, SEGV_ACCERR, BUS_ADRERR...: the same values on arm64).
    pub code: i32,
    /// The faulting address (`si_addr`).
    pub addr: u64,
    /// Whether the access was a write ([`crate::host::fault_was_write`]).
    pub write: bool,
}

/// What guest code this thread runs now.
#[derive(Clone, Copy)]
enum Context {
    Idle,
    /// Translated code of one JIT engine, and its back end's [`Backend::redirect_fault`].
    Translated(TranslatedCode, Redirect),
    /// Code run under [`catching`].
    Catching(*const CatchBuf),
}

/// A back end's [`Backend::redirect_fault`].
type Redirect = unsafe fn(*mut libc::ucontext_t, &TranslatedCode, i32) -> bool;

thread_local! {
    static CONTEXT: Cell<Context> = const { Cell::new(Context::Idle) };
    static LAST_FAULT: Cell<Option<GuestFault>> = const { Cell::new(None) };
}

/// The fault behind the last `Exit::Trap` of a host fault, if that was one.
pub fn take_fault() -> Option<GuestFault> {
    LAST_FAULT.with(|f| f.take())
}

/// The signal of the recorded fault, leaving it recorded.
pub fn peek_signal() -> Option<i32> {
    LAST_FAULT.with(|f| f.get()).map(|f| f.signal)
}

/// Forget a recorded fault (a trap that did not come from a host fault).
pub fn clear_fault() {
    LAST_FAULT.with(|f| f.set(None));
}

/// Run `run`, translated code of an engine with back end `B`, with fault recovery set
/// up (see the module docs).
///
/// # Safety
/// `lookup(engine, host_pc)` must be callable from a signal handler while `run` runs;
/// `frame_sp` must be written by the entry trampoline before translated code runs.
pub(crate) unsafe fn in_translated_code<B: Backend, R>(
    lookup: unsafe fn(*const (), usize) -> Option<u64>,
    engine: *const (),
    frame_sp: *const usize,
    state: *mut u8,
    exit_trap: usize,
    run: impl FnOnce() -> R,
) -> R {
    let code = TranslatedCode { lookup, engine, frame_sp, state, exit_trap };
    let previous = CONTEXT.with(|c| c.replace(Context::Translated(code, B::redirect_fault)));
    let result = run();
    CONTEXT.with(|c| c.set(previous));
    result
}

/// Run `f`; `None` if a host fault in guest memory interrupted it (the fault is in
/// [`take_fault`]). Everything `f`'s frames own when the fault hits is leaked.
pub fn catching<F: FnOnce() -> R, R>(f: F) -> Option<R> {
    struct Slot<F, R> {
        f: Option<F>,
        result: Option<R>,
    }
    unsafe extern "C" fn call<F: FnOnce() -> R, R>(p: *mut u8) {
        // SAFETY: `p` is the `Slot` below, alive for the whole call.
        let slot = unsafe { &mut *(p as *mut Slot<F, R>) };
        if let Some(f) = slot.f.take() {
            slot.result = Some(f());
        }
    }
    let mut slot = Slot { f: Some(f), result: None };
    let mut buf = CatchBuf { sp: 0 };
    let previous = CONTEXT.with(|c| c.replace(Context::Catching(&buf)));
    // SAFETY: the asm routine follows the host's C ABI and calls `call` with the slot.
    let faulted = unsafe { host::archway_catch_call(&mut buf, call::<F, R>, &mut slot as *mut Slot<F, R> as *mut u8) };
    CONTEXT.with(|c| c.set(previous));
    if faulted != 0 {
        None
    } else {
        slot.result
    }
}

/// Called from the host signal handler for a synchronous fault: if this thread was
/// running guest code, rewrite `uc` so that the engine leaves with a trap, record the
/// fault and return true; false if the fault is not the guest's.
///
/// # Safety
/// `uc` must be the handler's `ucontext_t`. Async-signal-safe: reads thread-locals and
/// the engine's side tables only.
pub unsafe fn on_host_fault(fault: GuestFault, uc: *mut libc::ucontext_t) -> bool {
    let redirected = match CONTEXT.with(|c| c.get()) {
        Context::Idle => false,
        // SAFETY: the thread was inside `catching`, which owns `buf`.
        Context::Catching(buf) => unsafe {
            host::resume_at_catch_landing(uc, buf);
            true
        },
        // SAFETY: the thread was running the translated code `code` describes.
        Context::Translated(code, redirect) => unsafe { redirect(uc, &code, fault.signal) },
    };
    if redirected {
        LAST_FAULT.with(|f| f.set(Some(fault)));
    }
    redirected
}
