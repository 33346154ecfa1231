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
//! Where guest code runs, per thread ([`Context`]):
//! - translated code ([`crate::x64::JitEngine`]): each block keeps a side table from
//!   host code offsets to guest instruction PCs (built at emit time). A fault in a
//!   block resumes at the region's trap exit routine with `rax` = guest PC and `rcx` =
//!   signal, as a `Trap` terminal would. A fault in a helper called from a block (SIMD
//!   structure loads) is found through the call's return address, just below the
//!   frame `rsp` the entry trampoline recorded; it resumes at the same routine with
//!   `rsp` and `r15` put back.
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

use core::cell::Cell;

/// A guest fault taken from the host: what the guest's siginfo says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestFault {
    pub signal: i32,
    /// The host `si_code` (SEGV_MAPERR, SEGV_ACCERR, BUS_ADRERR...: the same values on arm64).
    pub code: i32,
    /// The faulting address (`si_addr`).
    pub addr: u64,
    /// Whether the access was a write (x86 page-fault error code bit 1).
    pub write: bool,
}

/// What guest code this thread runs now.
#[derive(Clone, Copy)]
enum Context {
    Idle,
    /// Translated code of one JIT engine.
    Translated(Translated),
    /// Code run under [`catching`].
    Catching(*const CatchBuf),
}

#[derive(Clone, Copy)]
struct Translated {
    /// Maps a host PC to a guest PC (the engine's side tables).
    lookup: unsafe fn(*const (), usize) -> Option<u64>,
    engine: *const (),
    /// Where the entry trampoline wrote the frame `rsp`.
    frame_sp: *const usize,
    state: *mut u8,
    exit_trap: usize,
}

/// Saved `rsp` of [`catching`]'s asm frame.
#[repr(C)]
struct CatchBuf {
    rsp: usize,
}

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

/// Run `run` with translated-code fault recovery set up (see the module docs).
///
/// # Safety
/// `lookup(engine, host_pc)` must be callable from a signal handler while `run` runs;
/// `frame_sp` must be written by the entry trampoline before translated code runs.
pub(crate) unsafe fn in_translated_code<R>(
    lookup: unsafe fn(*const (), usize) -> Option<u64>,
    engine: *const (),
    frame_sp: *const usize,
    state: *mut u8,
    exit_trap: usize,
    run: impl FnOnce() -> R,
) -> R {
    let context = Context::Translated(Translated { lookup, engine, frame_sp, state, exit_trap });
    let previous = CONTEXT.with(|c| c.replace(context));
    let result = run();
    CONTEXT.with(|c| c.set(previous));
    result
}

core::arch::global_asm!(
    ".text",
    ".globl archway_catch_call",
    ".type archway_catch_call, @function",
    // rdi = &mut CatchBuf, rsi = fn(*mut u8), rdx = its argument; eax = 0, or 1 after a fault.
    "archway_catch_call:",
    "push rbx",
    "push rbp",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov [rdi], rsp",
    "mov rdi, rdx",
    "call rsi",
    "xor eax, eax",
    "jmp 2f",
    ".globl archway_catch_landing",
    "archway_catch_landing:",
    "mov eax, 1",
    "2:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbp",
    "pop rbx",
    "ret",
    ".size archway_catch_call, . - archway_catch_call",
);

extern "C" {
    fn archway_catch_call(buf: *mut CatchBuf, f: unsafe extern "C" fn(*mut u8), arg: *mut u8) -> u32;
    fn archway_catch_landing();
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
    let mut buf = CatchBuf { rsp: 0 };
    let previous = CONTEXT.with(|c| c.replace(Context::Catching(&buf)));
    // SAFETY: the asm routine follows the SysV ABI and calls `call` with the slot.
    let faulted = unsafe { archway_catch_call(&mut buf, call::<F, R>, &mut slot as *mut Slot<F, R> as *mut u8) };
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
    let gregs = &mut (*uc).uc_mcontext.gregs;
    let rip = gregs[libc::REG_RIP as usize] as usize;
    match CONTEXT.with(|c| c.get()) {
        Context::Idle => false,
        Context::Catching(buf) => {
            gregs[libc::REG_RSP as usize] = (*buf).rsp as i64;
            gregs[libc::REG_RIP as usize] = archway_catch_landing as *const () as usize as i64;
            LAST_FAULT.with(|f| f.set(Some(fault)));
            true
        }
        Context::Translated(t) => {
            let (guest_pc, helper) = match (t.lookup)(t.engine, rip) {
                Some(pc) => (pc, false),
                None => {
                    // A helper called from a block: the return address is just below the frame.
                    let frame_sp = *t.frame_sp;
                    let ret = *((frame_sp - 8) as *const usize);
                    match (t.lookup)(t.engine, ret.wrapping_sub(1)) {
                        Some(pc) => (pc, true),
                        None => return false,
                    }
                }
            };
            if helper {
                gregs[libc::REG_RSP as usize] = *t.frame_sp as i64;
                gregs[libc::REG_R15 as usize] = t.state as i64;
            }
            gregs[libc::REG_RAX as usize] = guest_pc as i64;
            gregs[libc::REG_RCX as usize] = i64::from(fault.signal);
            gregs[libc::REG_RIP as usize] = t.exit_trap as i64;
            LAST_FAULT.with(|f| f.set(Some(fault)));
            true
        }
    }
}
