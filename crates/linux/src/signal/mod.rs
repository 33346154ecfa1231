//! Guest signal delivery, as the Linux kernel does it on arm64.
//!
//! The design in one paragraph: the host thread's signal mask is the guest thread's
//! mask, and the host disposition of a signal mirrors the guest's (ignore -> host
//! `SIG_IGN`, default -> host `SIG_DFL`, a handler -> archway's host handler). The
//! host kernel therefore keeps the pending sets (per thread and process-wide), picks
//! the thread of a process-directed signal, queues real-time signals, carries out the
//! default actions (terminate, core dump, stop, continue, ignore) with the right
//! status for the parent, and makes `rt_sigpending`, `rt_sigtimedwait` and `signalfd`
//! work unchanged. Only a signal the guest catches runs archway's host handler
//! ([`host_handler`]), which records it for the guest thread and raises
//! `exit_request`; the run loop then builds the arm64 `rt_sigframe` ([`frame`]) and
//! continues at the guest's handler ([`deliver`]).
//!
//! A recorded signal stays blocked on the host until the guest has it (the handler
//! adds it to the mask the host restores), so further instances stay queued in the
//! kernel and none is lost. Per-thread state lives in a thread-local with no
//! destructor ([`ThreadSignals`]), which the handler may touch.
//!
//! Synchronous signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) always run the host
//! handler: a fault in guest code becomes a precise guest signal
//! ([`archway_engine::fault`]); a fault anywhere else is archway's bug and crashes
//! loudly. A guest trap (an undefined instruction, `BRK`) arrives as an engine exit.
//!
//! glibc's own signals 32 and 33 (SIGCANCEL, SIGSETXID): archway never cancels a
//! host thread and makes set*id calls as raw system calls (which do not broadcast
//! with SIGSETXID), so both belong to the guest like every other number up to 64.
//! glibc installs its SIGSETXID handler (and unblocks both) when the process creates
//! its first thread, which would take signal 33 from the guest's threads (a guest
//! glibc's set*id broadcast, Go's `AllThreadsSyscall`) the moment it has a second
//! one; [`init_process`] therefore creates and joins a thread first, then gives every
//! signal the guest's disposition, and puts the inherited mask back.
//!
//! Blocking system calls: [`safe_syscall`] closes the race between "no signal pending"
//! and "entered the kernel". Restarting follows the kernel's rules ([`deliver`]).

pub mod deliver;
pub mod frame;
pub mod host_handler;
pub mod safe_syscall;

use crate::syscall::signal::{GuestSigaction, SIGNAL_COUNT};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

/// Size of a siginfo (the same layout on arm64 and x86_64).
pub const SIGINFO_SIZE: usize = 128;
/// `SA_RESTORER` (x86_64 kernel ABI): `action[2]` is the return trampoline.
const SA_RESTORER: u64 = 0x0400_0000;
/// Size of the kernel's sigset.
const SIGSET_SIZE: usize = 8;

/// The synchronous signals archway always handles itself on the host.
pub const FAULT_SIGNALS: [i32; 5] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP];

/// SIGKILL and SIGSTOP: never caught, blocked or ignored.
pub const UNBLOCKABLE: u64 = bit(libc::SIGKILL) | bit(libc::SIGSTOP);

/// The mask bit of signal `sig` (1..=64).
pub const fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Signals recorded by the host handler for this thread, not yet given to the guest.
pub struct ThreadSignals {
    /// Bit `n - 1`: signal `n` is recorded in `info[n - 1]`.
    held: AtomicU64,
    /// Non-zero when a held signal is deliverable (not blocked by the guest): the flag
    /// [`safe_syscall`] checks.
    deliverable: AtomicU32,
    /// The guest's blocked set, for the handler.
    guest_mask: AtomicU64,
    /// The running guest state's `exit_request` (null: no guest code runs here).
    exit_request: AtomicPtr<u32>,
    info: UnsafeCell<[[u8; SIGINFO_SIZE]; SIGNAL_COUNT]>,
}

// SAFETY: one per thread (thread-local); `info[n]` is written by the handler only while
// bit n of `held` is clear and n is blocked on the host, and read by the thread only
// while the bit is set, when the handler cannot run for n.
unsafe impl Sync for ThreadSignals {}

thread_local! {
    static SIGNALS: ThreadSignals = const {
        ThreadSignals {
            held: AtomicU64::new(0),
            deliverable: AtomicU32::new(0),
            guest_mask: AtomicU64::new(0),
            exit_request: AtomicPtr::new(core::ptr::null_mut()),
            info: UnsafeCell::new([[0; SIGINFO_SIZE]; SIGNAL_COUNT]),
        }
    };
}

/// Run `f` on this thread's [`ThreadSignals`].
pub fn with_signals<R>(f: impl FnOnce(&ThreadSignals) -> R) -> R {
    SIGNALS.with(f)
}

impl ThreadSignals {
    /// Record signal `sig` with its host siginfo (host handler only). False if one is
    /// already held (it cannot be: the signal stays blocked until taken).
    fn record(&self, sig: i32, info: &[u8; SIGINFO_SIZE]) -> bool {
        let b = bit(sig);
        if self.held.load(Ordering::Acquire) & b != 0 {
            return false;
        }
        // SAFETY: see the `Sync` impl: bit clear, `sig` blocked while the handler runs.
        unsafe { (*self.info.get())[sig as usize - 1] = *info };
        self.held.fetch_or(b, Ordering::AcqRel);
        if b & !self.guest_mask.load(Ordering::Acquire) != 0 {
            self.deliverable.store(1, Ordering::Release);
            let flag = self.exit_request.load(Ordering::Acquire);
            if !flag.is_null() {
                // SAFETY: registered by `enter_guest`, valid while the thread runs guest code.
                unsafe { AtomicU32::from_ptr(flag).store(1, Ordering::Release) };
            }
        }
        true
    }

    /// Held signals.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }

    /// Take held signal `sig`'s siginfo.
    pub fn take(&self, sig: i32) -> Option<[u8; SIGINFO_SIZE]> {
        let b = bit(sig);
        if self.held() & b == 0 {
            return None;
        }
        // SAFETY: the bit is set, so the handler does not write this slot.
        let info = unsafe { (*self.info.get())[sig as usize - 1] };
        self.held.fetch_and(!b, Ordering::AcqRel);
        Some(info)
    }

    /// The flag [`safe_syscall`] checks.
    pub fn deliverable_flag(&self) -> *const u32 {
        self.deliverable.as_ptr()
    }
}

/// This thread now runs guest code on the state whose `exit_request` is `flag`, with
/// guest mask `mask`: register both and give the host the same mask.
pub fn enter_guest(flag: *mut u32, mask: u64) {
    with_signals(|s| s.exit_request.store(flag, Ordering::Release));
    set_guest_mask(mask);
}

/// This thread stops running guest code.
pub fn leave_guest() {
    with_signals(|s| s.exit_request.store(core::ptr::null_mut(), Ordering::Release));
}

/// Make `mask` the guest mask of this thread: the host mask becomes `mask` plus the
/// held signals (minus SIGKILL/SIGSTOP and the faults, which must reach the handler),
/// and the `deliverable` flag is brought up to date.
pub fn set_guest_mask(mask: u64) {
    let mask = mask & !UNBLOCKABLE;
    with_signals(|s| {
        // Nothing may be recorded between reading `held` and setting the host mask.
        host_mask(libc::SIG_SETMASK, Some(u64::MAX));
        let held = s.held();
        s.guest_mask.store(mask, Ordering::Release);
        s.deliverable.store(u32::from(held & !mask != 0), Ordering::Release);
        let faults = FAULT_SIGNALS.iter().fold(0, |m, &sig| m | bit(sig));
        host_mask(libc::SIG_SETMASK, Some((mask & !faults) | held));
    });
}

/// Just before an `execve` that replaces this process: the host mask becomes exactly
/// the guest's (the faults included, which the new program inherits blocked if the
/// guest blocked them), and each signal recorded for the guest but blocked by it goes
/// back to the kernel as pending, with its siginfo, so the new program finds it
/// pending as execve(2) promises. [`set_guest_mask`] undoes this if the exec fails.
/// Not carried over: a signal the guest does not block that arrives between this call
/// and the exec itself (the host handler records it for a guest that is about to be
/// replaced; the kernel would deliver it to the new program, by its default action).
pub fn prepare_exec(mask: u64) {
    host_mask(libc::SIG_SETMASK, Some(u64::MAX));
    with_signals(|s| {
        for sig in (1..=SIGNAL_COUNT as i32).filter(|&sig| s.held() & mask & bit(sig) != 0) {
            if let Some(mut info) = s.take(sig) {
                requeue(sig, &mut info);
            }
        }
    });
    host_mask(libc::SIG_SETMASK, Some(mask & !UNBLOCKABLE));
}

/// Make `sig` with siginfo `info` pending again on the calling thread.
fn requeue(sig: i32, info: &mut [u8; SIGINFO_SIZE]) {
    // SAFETY: raw getpid/gettid, and rt_tgsigqueueinfo with a 128-byte siginfo; queueing
    // to ourselves is allowed with any si_code.
    let queued = unsafe {
        let pid = libc::syscall(libc::SYS_getpid);
        let tid = libc::syscall(libc::SYS_gettid);
        libc::syscall(libc::SYS_rt_tgsigqueueinfo, pid, tid, sig as libc::c_long, info.as_mut_ptr())
    };
    if queued != 0 {
        tracing::debug!("signal {sig} could not be queued again before execve");
    }
}

/// `rt_sigprocmask(how, set)` on the host; the previous mask.
pub fn host_mask(how: i32, set: Option<u64>) -> u64 {
    let mut old = 0u64;
    let set_ptr = set.as_ref().map_or(core::ptr::null(), |s| s as *const u64);
    // SAFETY: 8-byte kernel sigsets on our stack.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, how as libc::c_long, set_ptr, &mut old as *mut u64, SIGSET_SIZE) };
    old
}

/// Install a host disposition: `handler` (SIG_DFL = 0, SIG_IGN = 1, or archway's
/// handler) with `flags`.
fn host_sigaction(sig: i32, handler: usize, flags: u64) {
    let mut action = [handler as u64, flags, 0, u64::MAX];
    if handler == host_handler::handler_address() {
        action[1] |= (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64 | SA_RESTORER;
        action[2] = host_handler::restorer_address() as u64;
    }
    // SAFETY: a kernel sigaction of four words.
    let result =
        unsafe { libc::syscall(libc::SYS_rt_sigaction, sig as libc::c_long, action.as_ptr(), 0usize, SIGSET_SIZE) };
    if result != 0 {
        tracing::debug!("host rt_sigaction({sig}) failed");
    }
}

/// Host flags of the guest's that change what the host kernel does (SIGCHLD's).
const HOST_FLAGS: u64 = (libc::SA_NOCLDSTOP | libc::SA_NOCLDWAIT) as u64;

/// Give the host the disposition matching the guest's `action` for `sig`.
pub fn mirror(sig: i32, action: &GuestSigaction) {
    if FAULT_SIGNALS.contains(&sig) {
        return;
    }
    host_sigaction(sig, host_handler_for(sig, action), action.flags & HOST_FLAGS);
}

/// The host handler that carries out the guest's `action` for `sig`: `SIG_DFL` and
/// `SIG_IGN` as they are, archway's handler for a guest handler (and for the faults).
fn host_handler_for(sig: i32, action: &GuestSigaction) -> usize {
    match action.handler {
        0 | 1 if !FAULT_SIGNALS.contains(&sig) => action.handler as usize,
        _ => host_handler::handler_address(),
    }
}

/// Process start: host handlers for the faults, the guest's dispositions for the rest
/// (glibc's handlers of 32 and 33 included, after glibc has installed them).
///
/// A disposition the host already has is left alone: setting `SIG_IGN`, or `SIG_DFL`
/// of a signal whose default is to ignore it, discards that signal if it is pending,
/// and a signal pending across `execve` (blocked, and perhaps ignored by the parent)
/// must still be pending for the guest.
pub fn init_process(actions: &[GuestSigaction; SIGNAL_COUNT]) {
    let inherited_mask = host_mask(libc::SIG_BLOCK, None);
    make_host_multithreaded();
    host_mask(libc::SIG_SETMASK, Some(inherited_mask));
    for &sig in &FAULT_SIGNALS {
        host_sigaction(sig, host_handler::handler_address(), 0);
    }
    for (index, action) in actions.iter().enumerate() {
        let sig = index as i32 + 1;
        if bit(sig) & UNBLOCKABLE == 0 && host_handler_of(sig) != Some(host_handler_for(sig, action)) {
            mirror(sig, action);
        }
    }
}

/// The host's handler of `sig` now (`None` if it cannot be read).
fn host_handler_of(sig: i32) -> Option<usize> {
    let mut current = [0u64; 4];
    // SAFETY: a query only; `current` is a kernel sigaction.
    let queried = unsafe {
        libc::syscall(libc::SYS_rt_sigaction, sig as libc::c_long, 0usize, current.as_mut_ptr(), SIGSET_SIZE)
    };
    (queried == 0).then_some(current[0] as usize)
}

/// Let the host C library do what it does when a process first creates a thread
/// (glibc: install its SIGSETXID handler and unblock 32 and 33 in the caller), so that
/// it never does it later, over the guest's dispositions.
fn make_host_multithreaded() {
    match std::thread::Builder::new().name("archway-init".into()).stack_size(64 << 10).spawn(|| ()) {
        Ok(thread) => {
            let _ = thread.join();
        }
        Err(e) => tracing::warn!("cannot start a host thread: {e}"),
    }
}

/// Give this host thread its own alternate signal stack for the handler (the guest's
/// own stack may be anything, and a guest stack overflow must still reach the
/// handler). It is never unmapped (the handler may run until the thread's last
/// instruction): [`crate::host::alt_stack_bytes`] per host thread.
pub fn init_thread() {
    let size = crate::host::alt_stack_bytes();
    // SAFETY: a fresh private mapping, then sigaltstack on it.
    unsafe {
        let p = libc::mmap(
            core::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            tracing::warn!("no host alternate signal stack for this thread");
            return;
        }
        let stack = libc::stack_t { ss_sp: p, ss_flags: 0, ss_size: size };
        libc::sigaltstack(&stack, core::ptr::null_mut());
    }
}
