//! What the guest was started as and where its memory is: the answers of
//! `/proc/self/{cmdline,auxv,maps}` ([`crate::proc_files`]), the guest root, and what
//! `execve` needs to start a foreign child ([`crate::relaunch`]).

use crate::guest_maps::GuestRanges;
use crate::loader::Executable;
use crate::relaunch::Launcher;
use crate::stack::InitialStack;
use std::ffi::OsString;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Mutex;

/// Per-process facts about the guest image, shared by its threads.
#[derive(Debug, Default)]
pub struct ProcessImage {
    /// The guest's argv, `argv[0]` included.
    pub argv: Vec<OsString>,
    /// The auxiliary vector as written on the stack, without `AT_NULL`.
    pub auxv: Vec<(u64, u64)>,
    /// The guest root (`-L ROOT`).
    pub root: Option<PathBuf>,
    /// The initial guest stack.
    pub stack: Range<u64>,
    /// Everything mapped for the guest (program, interpreter, stack, `mmap`).
    pub mappings: Mutex<GuestRanges>,
    /// How to run archway again for a foreign `execve`; `None` leaves foreign programs
    /// to the kernel's binfmt_misc handler.
    pub launcher: Option<Launcher>,
}

impl ProcessImage {
    /// The auxiliary vector as the kernel gives it out (`/proc/self/auxv`,
    /// `PR_GET_AUXV`): `(type, value)` pairs of little-endian words, `AT_NULL` last.
    pub fn auxv_bytes(&self) -> Vec<u8> {
        self.auxv.iter().chain([(0, 0)].iter()).flat_map(|&(k, v)| [k, v]).flat_map(u64::to_le_bytes).collect()
    }

    /// The image of a guest just loaded as `executable` with `stack`.
    pub fn new(
        executable: &Executable,
        stack: &InitialStack,
        argv: Vec<OsString>,
        root: Option<PathBuf>,
        launcher: Option<Launcher>,
    ) -> ProcessImage {
        let mut mappings = GuestRanges::default();
        for loaded in std::iter::once(&executable.program).chain(&executable.interpreter) {
            mappings.insert(loaded.start, loaded.brk_start);
        }
        mappings.insert(stack.bottom, stack.top);
        ProcessImage {
            argv,
            auxv: stack.auxv.clone(),
            root,
            stack: stack.bottom..stack.top,
            mappings: Mutex::new(mappings),
            launcher,
        }
    }
}
