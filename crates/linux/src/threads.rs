//! Guest threads: one host thread per guest thread.
//!
//! Each guest thread has its own [`CpuState`], its own engine (code cache, see
//! [`archway_engine::Engine::new_thread_engine`]) and its own [`GuestThread`]
//! bookkeeping; they share the [`GuestProcess`]. The host thread's TID is the guest
//! thread's TID, so `gettid`, `tgkill` and the futex calls pass straight through.
//!
//! Creation ([`spawn`], for `clone` with `CLONE_VM`): a `std::thread` runs the new
//! guest thread. It registers itself, writes `CLONE_PARENT_SETTID` and
//! `CLONE_CHILD_SETTID` words, and only then reports its TID to the parent, which
//! returns it to the guest: as with the kernel, both words hold the TID before
//! either thread runs guest code again, and a thread that is about to be counted
//! as alive already is.
//!
//! `CLONE_CHILD_CLEARTID` (and `set_tid_address`): the kernel zeroes that word and
//! futex-wakes it when the thread's memory is released. archway does it itself
//! when the guest thread ends ([`finish`]), instead of handing the address to the
//! host kernel with `set_tid_address`: the host thread is a glibc pthread, whose
//! own clear-TID word is how glibc knows that the thread's stack may be reused, so
//! replacing it would leak every host thread stack (and hang a host join). Doing it
//! ourselves is equivalent for the guest: after its last instruction the guest
//! thread never touches guest memory again (the host thread runs on its own stack),
//! so the guest may free the thread's stack and TLS as soon as the word is zero.
//!
//! Ending: `exit` ends one guest thread, `exit_group` the process. When the last
//! guest thread ends with `exit`, the process exits with that thread's status (as
//! on Linux, checked against the kernel). A main thread that ends before the others ends its host thread with a raw
//! `exit` system call (the process lives on, as on Linux, with a zombie leader).
//!
//! Code invalidation: [`ThreadRegistry::interrupt_others`] raises `exit_request` in
//! every other thread's state, so code they are running returns to their
//! dispatchers, which apply the invalidation before running translated code again.
//! That field is written by other threads while its owner runs: it is a u32 that
//! translated code reads with plain loads; writers use atomic stores, like a signal
//! handler would.

use crate::guest_memory;
use crate::process::{lock, GuestProcess};
use crate::robust_list;
use crate::signal::{self, deliver};
use crate::syscall::signal::AltStack;
use crate::syscall::{self, host_syscall, Outcome, SyscallContext};
use archway_engine::{Engine, Exit};
use archway_guest_a64::state::NO_EXCLUSIVE;
use archway_guest_a64::CpuState;
use archway_ir::StateHeader;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};

/// Stack of the host thread running a guest thread (the main thread's size).
const HOST_STACK_BYTES: usize = 8 << 20;

/// Per-thread state of a guest thread, besides its CPU state.
#[derive(Debug, Clone)]
pub struct GuestThread {
    pub tid: i32,
    /// The `CLONE_CHILD_CLEARTID` / `set_tid_address` word (0: none).
    pub clear_child_tid: u64,
    /// The robust futex list registered with `set_robust_list` (0: none).
    pub robust_list: u64,
    /// Blocked signals (bit `n - 1` for signal `n`).
    pub signal_mask: u64,
    /// The mask to restore after the next handler (`rt_sigsuspend`'s caller's).
    pub saved_mask: Option<u64>,
    pub alt_stack: AltStack,
}

impl GuestThread {
    /// The first thread of a new program: the calling host thread, with the signal
    /// mask it inherited across `execve`.
    pub fn main() -> GuestThread {
        GuestThread {
            tid: gettid(),
            clear_child_tid: 0,
            robust_list: 0,
            signal_mask: signal::host_mask(libc::SIG_BLOCK, None) & !signal::UNBLOCKABLE,
            saved_mask: None,
            alt_stack: AltStack::DISABLED,
        }
    }
}

/// The host TID of the calling thread.
pub fn gettid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// The live guest threads of a process.
#[derive(Debug, Default)]
pub struct ThreadRegistry {
    inner: Mutex<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    /// TID -> that thread's `exit_request` field.
    live: BTreeMap<i32, ExitRequest>,
}

/// The `StateHeader::exit_request` field of a registered thread's state.
#[derive(Debug)]
struct ExitRequest(*mut u32);

// SAFETY: the pointer is only dereferenced under the registry lock, while the
// thread that owns the state is registered (see `ThreadRegistry::enter`).
unsafe impl Send for ExitRequest {}

impl ThreadRegistry {
    /// Count thread `tid`, running on `cpu`, as alive.
    ///
    /// # Safety
    /// `cpu` must stay valid at that address until [`Self::leave`] for `tid`.
    pub unsafe fn enter(&self, tid: i32, cpu: *mut CpuState) {
        // SAFETY: the caller guarantees `cpu` is a live state; only the field's address is taken.
        let field = unsafe { core::ptr::addr_of_mut!((*cpu).header.exit_request) };
        lock(&self.inner).live.insert(tid, ExitRequest(field));
    }

    /// Make every thread but `tid` leave translated code at its next block boundary.
    pub fn interrupt_others(&self, tid: i32) {
        let registry = lock(&self.inner);
        for (_, flag) in registry.live.iter().filter(|(&t, _)| t != tid) {
            // SAFETY: registered states are live (`enter`'s contract) while we hold the
            // lock; the field is an aligned u32.
            unsafe { AtomicU32::from_ptr(flag.0).store(1, Ordering::Release) };
        }
    }

    /// Thread `tid` ends: true if it was the last one.
    fn leave(&self, tid: i32) -> bool {
        let mut registry = lock(&self.inner);
        registry.live.remove(&tid);
        registry.live.is_empty()
    }

    /// Run `fork` (a host fork: the result is 0 in the child) with the registry
    /// locked, so that no other thread holds the lock in the child, where the
    /// registry then holds only the forking thread, running on `cpu`.
    pub fn fork(&self, cpu: &mut CpuState, fork: impl FnOnce() -> i64) -> i64 {
        let mut registry = lock(&self.inner);
        let pid = fork();
        if pid == 0 {
            registry.live.clear();
            // The forking thread's state lives as long as its run loop, in which the
            // child's thread leaves the registry (`finish`) or ends the process.
            registry.live.insert(gettid(), ExitRequest(&mut cpu.header.exit_request));
        }
        pid
    }
}

/// How a guest thread's run loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadEnd {
    /// `exit(status)`: this thread only.
    Thread(i32),
    /// `exit_group(status)`: the whole process.
    Process(i32),
}

/// Run guest thread `thread` until it ends, answering its system calls and
/// delivering its signals between blocks ([`crate::signal`]).
pub fn run_thread(
    process: &Arc<GuestProcess>,
    thread: &mut GuestThread,
    cpu: &mut CpuState,
    engine: &mut dyn Engine,
) -> ThreadEnd {
    signal::init_thread();
    // SAFETY: the header is part of `cpu`, which outlives this loop.
    let exit_request = unsafe { StateHeader::exit_request(&mut cpu.header) };
    signal::enter_guest(exit_request.as_ptr(), thread.signal_mask);
    let end = loop {
        // SAFETY: `cpu` is a live aarch64 state, and the guest's memory is mapped.
        let exit = unsafe { engine.run(cpu.as_mut_ptr()) };
        match exit {
            Exit::Syscall => {
                let nr = cpu.x[8];
                let args = [cpu.x[0], cpu.x[1], cpu.x[2], cpu.x[3], cpu.x[4], cpu.x[5]];
                let mut ctx = SyscallContext { process, thread, cpu, engine };
                match syscall::dispatch(&mut ctx, nr, &args) {
                    Outcome::Return(value) => {
                        if let Some(x0) = deliver::syscall_result(process, thread, cpu, nr, value) {
                            cpu.x[0] = x0 as u64;
                        }
                    }
                    Outcome::Resume => {}
                    Outcome::Exit(status) => break ThreadEnd::Process(status),
                    Outcome::ExitThread(status) => break ThreadEnd::Thread(status),
                }
            }
            Exit::Trap { signal, .. } => {
                let fault = archway_engine::fault::take_fault();
                deliver::synchronous(process, thread, cpu, signal, fault);
            }
            Exit::Interrupted => exit_request.store(0, Ordering::Release),
        }
        if signal::with_signals(|s| s.held()) & !thread.signal_mask != 0 {
            deliver::pending(process, thread, cpu);
        }
    };
    signal::leave_guest();
    end
}

/// The end of guest thread `thread` by `exit`: its robust futexes are released, its
/// clear-TID word is zeroed and woken (in the kernel's order), and it leaves the
/// registry. True if it was the last thread: the process ends with its status.
pub fn finish(process: &GuestProcess, thread: &GuestThread) -> bool {
    if thread.robust_list != 0 {
        robust_list::release(thread.robust_list, thread.tid);
    }
    if thread.clear_child_tid != 0 {
        let word = thread.clear_child_tid;
        // Like the kernel, ignore a bad address.
        if guest_memory::write(word, &0u32.to_le_bytes()).is_ok() {
            host_syscall(libc::SYS_futex, &[word, libc::FUTEX_WAKE as u64, 1, 0, 0, 0]);
        }
    }
    process.threads.leave(thread.tid)
}

/// End the whole process with `status` at once, from any thread.
pub fn exit_group(status: i32) -> ! {
    // SAFETY: exit_group does not return; archway holds no output to flush.
    unsafe { libc::syscall(libc::SYS_exit_group, libc::c_long::from(status)) };
    unreachable!("exit_group returned")
}

/// End only the calling host thread (the main thread when others remain), without
/// unwinding: nothing of it is needed any more.
pub fn exit_host_thread(status: i32) -> ! {
    // SAFETY: the raw exit ends this thread only; no Rust state of it is used again.
    unsafe { libc::syscall(libc::SYS_exit, libc::c_long::from(status)) };
    unreachable!("exit returned")
}

/// What `clone` asks of a new thread.
#[derive(Debug, Clone, Copy)]
pub struct NewThread {
    /// Initial SP (0: the parent's).
    pub stack: u64,
    /// TPIDR_EL0 (`CLONE_SETTLS`).
    pub tls: Option<u64>,
    /// Where to write the TID (`CLONE_PARENT_SETTID`, `CLONE_CHILD_SETTID`).
    pub parent_tid: Option<u64>,
    pub child_tid: Option<u64>,
    /// The word to clear at exit (`CLONE_CHILD_CLEARTID`).
    pub clear_child_tid: u64,
    /// `unshare` flags for what the thread does not share (`CLONE_FILES`, `CLONE_FS`
    /// missing from the request).
    pub unshare: u64,
}

/// Start a new guest thread that continues from the caller's state with X0 = 0;
/// its TID, or `-errno`.
pub fn spawn(ctx: &mut SyscallContext, new: NewThread) -> i64 {
    let mut cpu = Box::new(ctx.cpu.clone());
    cpu.x[0] = 0;
    if new.stack != 0 {
        cpu.sp = new.stack;
    }
    if let Some(tls) = new.tls {
        cpu.tpidr = tls;
    }
    cpu.header.exit_request = 0;
    cpu.excl_addr = NO_EXCLUSIVE;
    let mut engine = ctx.engine.new_thread_engine();
    let process = Arc::clone(ctx.process);
    let mut thread = GuestThread {
        tid: 0,
        clear_child_tid: new.clear_child_tid,
        robust_list: 0,
        signal_mask: ctx.thread.signal_mask,
        saved_mask: None,
        alt_stack: AltStack::DISABLED,
    };
    let (report, reported) = mpsc::sync_channel::<i64>(1);
    let body = move || {
        thread.tid = gettid();
        if new.unshare != 0 {
            let result = host_syscall(libc::SYS_unshare, &[new.unshare, 0, 0, 0, 0, 0]);
            if result < 0 {
                let _ = report.send(result);
                return;
            }
        }
        let tid_bytes = thread.tid.to_le_bytes();
        for word in [new.parent_tid, new.child_tid].into_iter().flatten() {
            // The kernel ignores a bad address here too.
            let _ = guest_memory::write(word, &tid_bytes);
        }
        // SAFETY: the boxed state stays in place until `finish` removed the thread.
        unsafe { process.threads.enter(thread.tid, &mut *cpu) };
        let _ = report.send(i64::from(thread.tid));
        match run_thread(&process, &mut thread, &mut cpu, engine.as_mut()) {
            ThreadEnd::Process(status) => exit_group(status),
            ThreadEnd::Thread(status) => {
                if finish(&process, &thread) {
                    exit_group(status)
                }
            }
        }
    };
    // No name: the new thread keeps its creator's, as a thread the kernel creates does
    // (`/proc/self/task/TID/comm`, `ps -L`).
    let spawned = std::thread::Builder::new().stack_size(HOST_STACK_BYTES).spawn(body);
    if let Err(e) = spawned {
        tracing::debug!("cannot start a host thread for a guest thread: {e}");
        return syscall::errno(libc::EAGAIN);
    }
    // The thread reports before it runs guest code, or drops the sender if it failed.
    reported.recv().unwrap_or(syscall::errno(libc::EAGAIN))
}
