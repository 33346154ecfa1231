//! Running a test program three ways: under `qemu-aarch64-static` (the oracle), and
//! in-process under archway's interpreter and JIT engines.
//!
//! The engines run in a child process (this test binary re-executed with
//! `--run-engine <interp|jit> <elf>`), so a crash, panic or hang of archway is a
//! finding about one batch rather than the end of the test. The child maps the ELF's
//! segments at their link addresses, runs the engine from the entry point and
//! implements the two system calls the program makes: `write` and `exit_group`.

use archway_engine::{EngineKind, Exit};
use archway_guest_a64::{A64Frontend, CpuState};
use archway_linux::host::new_engine;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The qemu binary, run directly (no binfmt_misc involvement).
const QEMU: &str = "qemu-aarch64-static";
/// The qemu CPU model: the one whose DC ZVA size, CTR_EL0 and lack of pointer
/// authentication match what archway presents.
const QEMU_CPU: &str = "neoverse-n1";
/// Command-line flag selecting the child mode.
pub const RUN_ENGINE_FLAG: &str = "--run-engine";

/// The three ways of running a program, oracle first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    Qemu,
    Interp,
    Jit,
}

pub const RUNNERS: [Runner; 3] = [Runner::Qemu, Runner::Interp, Runner::Jit];

impl Runner {
    pub fn name(self) -> &'static str {
        match self {
            Runner::Qemu => "qemu",
            Runner::Interp => "interp",
            Runner::Jit => "jit",
        }
    }

    fn command(self, elf: &Path) -> Command {
        let mut command = match self {
            Runner::Qemu => {
                let mut c = Command::new(QEMU);
                c.args(["-cpu", QEMU_CPU]);
                c
            }
            Runner::Interp | Runner::Jit => {
                let mut c = Command::new(std::env::current_exe().expect("current_exe"));
                c.args([RUN_ENGINE_FLAG, self.name()]);
                c
            }
        };
        command.arg(elf).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // SAFETY: setrlimit is async-signal-safe. No core files: qemu would leave
        // one in the working directory for every crashing batch.
        unsafe {
            command.pre_exec(|| {
                let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
                libc::setrlimit(libc::RLIMIT_CORE, &none);
                Ok(())
            });
        }
        command
    }
}

/// Check that qemu can be run at all, with a useful message when it cannot.
pub fn check_qemu() -> Result<(), String> {
    match Command::new(QEMU).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("{QEMU} --version failed: {}", String::from_utf8_lossy(&out.stderr))),
        Err(e) => Err(format!("cannot run {QEMU} ({e}); scripts/install-test-deps.sh installs it")),
    }
}

/// Run `elf` under every runner at once; each result is the program's output or a
/// description of how the run failed.
pub fn run_all(elf: &Path, timeout: Duration) -> Vec<Result<Vec<u8>, String>> {
    let children: Vec<_> = RUNNERS.iter().map(|r| r.command(elf).spawn()).collect();
    let pending: Vec<_> = children
        .into_iter()
        .map(|child| {
            let mut child = child.map_err(|e| format!("cannot start: {e}"))?;
            let stdout = reader(child.stdout.take().expect("piped stdout"));
            let stderr = reader(child.stderr.take().expect("piped stderr"));
            Ok((child, stdout, stderr))
        })
        .collect();
    let deadline = Instant::now() + timeout;
    pending
        .into_iter()
        .map(|p: Result<_, String>| {
            let (mut child, stdout, stderr) = p?;
            let status = loop {
                if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                    break Some(status);
                }
                if Instant::now() >= deadline {
                    // Our own child, by its id.
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            let stdout = stdout.join().expect("reader thread");
            let stderr = String::from_utf8_lossy(&stderr.join().expect("reader thread")).into_owned();
            match status {
                None => Err(format!("timed out after {timeout:?}")),
                Some(s) if s.success() => Ok(stdout),
                Some(s) => Err(format!("{s}; stderr: {}", tail(&stderr))),
            }
        })
        .collect()
}

fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// The last few lines of a child's stderr.
fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    lines[lines.len().saturating_sub(6)..].join(" | ")
}

/// Child mode: run `elf` under engine `kind` and exit with the program's status.
pub fn run_engine_child(kind: &str, elf: &Path) -> ! {
    let kind = match kind {
        "interp" => EngineKind::Interp,
        "jit" => EngineKind::Jit,
        other => panic!("unknown engine {other}"),
    };
    let image = std::fs::read(elf).unwrap_or_else(|e| panic!("{}: {e}", elf.display()));
    let entry = load(&image);
    let mut engine = new_engine(kind, Arc::new(A64Frontend));
    let mut state = Box::new(CpuState::default());
    state.header.pc = entry;
    let mut stdout = std::io::stdout().lock();
    loop {
        // SAFETY: the state is a live CpuState and the program's segments are mapped
        // where it was linked.
        match unsafe { engine.run(state.as_mut_ptr()) } {
            Exit::Syscall => match state.x[8] {
                64 => {
                    let (fd, buf, len) = (state.x[0], state.x[1], state.x[2] as usize);
                    assert_eq!(fd, 1, "the program only writes to stdout");
                    // SAFETY: the program passes a buffer inside its data segment.
                    let bytes = unsafe { std::slice::from_raw_parts(buf as *const u8, len) };
                    stdout.write_all(bytes).expect("write stdout");
                    state.x[0] = len as u64;
                }
                94 => {
                    stdout.flush().expect("flush stdout");
                    std::process::exit(state.x[0] as i32);
                }
                nr => panic!("unexpected system call {nr} at {:#x}", state.header.pc),
            },
            Exit::Trap { signal, pc } => {
                eprintln!("guest signal {signal} at {pc:#x}");
                std::process::exit(128 + signal);
            }
            Exit::Interrupted => {}
        }
    }
}

/// Map the PT_LOAD segments of an ELF64 image at their addresses; returns the entry.
fn load(image: &[u8]) -> u64 {
    let u16_at = |o: usize| u16::from_le_bytes(image[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(image[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(image[o..o + 8].try_into().unwrap());
    assert_eq!(&image[..4], b"\x7fELF");
    let (phoff, phentsize, phnum) = (u64_at(32) as usize, u16_at(54), u16_at(56));
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(ph) != 1 {
            continue;
        }
        let (flags, offset, vaddr) = (u32_at(ph + 4), u64_at(ph + 8) as usize, u64_at(ph + 16));
        let (filesz, memsz) = (u64_at(ph + 32) as usize, u64_at(ph + 40));
        let page = vaddr & !0xfff;
        let len = (vaddr + memsz).next_multiple_of(0x1000) - page;
        // SAFETY: a fresh anonymous mapping at an address nothing else uses
        // (MAP_FIXED_NOREPLACE fails rather than replace a mapping).
        unsafe {
            let p = libc::mmap(
                page as *mut libc::c_void,
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            );
            assert_eq!(p as u64, page, "cannot map the test program at {page:#x}");
            std::ptr::copy_nonoverlapping(image[offset..offset + filesz].as_ptr(), vaddr as *mut u8, filesz);
            let prot = [(4, libc::PROT_READ), (2, libc::PROT_WRITE), (1, libc::PROT_EXEC)]
                .iter()
                .filter(|&&(bit, _)| flags & bit != 0)
                .fold(0, |prot, &(_, p)| prot | p);
            assert_eq!(libc::mprotect(p, len as usize, prot), 0);
        }
    }
    u64_at(24)
}
