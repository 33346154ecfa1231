//! The Linux personality for aarch64 guests: what the kernel does for a process,
//! done again in user mode on an x86_64 host.
//!
//! Guest memory is host memory: a guest address is the same host address, so the
//! loader maps the program where the guest expects it, the stack is ordinary host
//! memory, and most system calls pass straight through to the host kernel. Where the
//! two ABIs differ (numbers, `struct stat`, open flags, `sigaction`...) a converter
//! sits in between.
//!
//! Modules:
//! - [`loader`]: maps an aarch64 ELF (static or dynamic, PIE or not) and its
//!   `PT_INTERP` interpreter into memory.
//! - [`stack`]: the initial stack: argc, argv, envp, auxv, strings, `AT_RANDOM`.
//! - [`credentials`]: the ids and `AT_SECURE` the guest sees; secure-execution mode.
//! - [`inherited`]: what Rust's runtime changed before `main` (`SIGPIPE`, closed
//!   standard descriptors), put back for the guest.
//! - [`syscall`]: the aarch64 system call table and its handlers.
//! - [`process`]: per-process state the handlers keep (brk, signal bookkeeping...).
//! - [`guest_memory`]: checked copies between handlers and guest memory.
//! - [`host_maps`]: archway's own mappings, which guest `mmap`/`munmap` must not touch.
//! - [`run`]: start a guest: load, build the stack, run its main thread.
//! - [`threads`]: guest threads (one host thread each), their run loop and ending.
//! - [`robust_list`]: robust futexes released when a guest thread ends.
//! - [`guest_root`]: where the guest's absolute paths point under `-L ROOT`.
//! - [`image`], [`guest_maps`], [`proc_files`]: what the guest was started as and its
//!   view of `/proc` (`exe`, `maps`, `auxv`, `cmdline`, `cpuinfo`).
//! - [`relaunch`]: the private command line that runs archway again for a foreign
//!   `execve`.
//! - [`host`]: what differs between x86_64 and aarch64 hosts (the engine, safe-syscall and
//!   restorer assembly, raw `clone` order, alternate stack size).
//! - [`signal`]: guest signal delivery: host handlers, the arm64 signal frame,
//!   synchronous faults, restarts of interrupted system calls.

pub mod credentials;
pub mod guest_maps;
pub mod guest_memory;
pub mod guest_root;
pub mod host;
pub mod host_maps;
pub mod image;
pub mod inherited;
pub mod loader;
pub mod proc_files;
pub mod process;
pub mod relaunch;
pub mod robust_list;
pub mod run;
pub mod signal;
pub mod stack;
pub mod syscall;
pub mod threads;

pub use loader::{LoadError, LoadedProgram};
pub use run::{run, Error, RunOptions};
pub use stack::{InitialStack, StackError};
