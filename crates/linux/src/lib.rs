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
//! - [`loader`]: maps a static aarch64 ELF (non-PIE or static-pie) into memory.
//! - [`stack`]: the initial stack: argc, argv, envp, auxv, strings, `AT_RANDOM`.
//! - [`syscall`]: the aarch64 system call table and its handlers.
//! - [`process`]: per-process state the handlers keep (brk, signal bookkeeping...).
//! - [`guest_memory`]: checked copies between handlers and guest memory.
//! - [`host_maps`]: archway's own mappings, which guest `mmap`/`munmap` must not touch.
//! - [`run`]: the guest run loop: load, build the stack, run the engine, dispatch.
//!
//! What is not here yet (later issues): dynamic executables (`PT_INTERP`), threads,
//! signal delivery to guest handlers, `execve` of foreign programs, `/proc` views.

pub mod guest_memory;
pub mod host_maps;
pub mod loader;
pub mod process;
pub mod run;
pub mod stack;
pub mod syscall;

pub use loader::{LoadError, LoadedProgram};
pub use run::{run, Error, RunOptions};
pub use stack::{InitialStack, StackError};
