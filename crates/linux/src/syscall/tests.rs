//! The system call table and the dispatcher, driven with a stand-in engine.

use super::*;
use crate::guest_memory;
use crate::host_maps::HostRegions;
use crate::process::{lock, Brk};
use crate::threads::GuestThread;
use archway_engine::Exit;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// An engine that only records invalidations.
#[derive(Default)]
struct RecordingEngine {
    invalidated: Vec<(u64, u64)>,
}

impl Engine for RecordingEngine {
    unsafe fn run(&mut self, _state: *mut u8) -> Exit {
        Exit::Interrupted
    }
    fn invalidate(&mut self, start: u64, end: u64) {
        self.invalidated.push((start, end));
    }
    fn new_thread_engine(&self) -> Box<dyn Engine> {
        Box::new(RecordingEngine::default())
    }
}

struct Harness {
    process: Arc<GuestProcess>,
    thread: GuestThread,
    cpu: CpuState,
    engine: RecordingEngine,
}

impl Harness {
    fn new() -> Harness {
        let regions = HostRegions::snapshot().unwrap();
        let process = GuestProcess::new(PathBuf::from("/opt/guest/prog"), Brk::new(0, 0), regions);
        let thread = GuestThread::main();
        Harness { process: Arc::new(process), thread, cpu: CpuState::default(), engine: RecordingEngine::default() }
    }

    fn call(&mut self, name: &str, args: &[u64]) -> i64 {
        let nr = table::SYSCALLS
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.nr)
            .unwrap_or_else(|| panic!("{name} not in table"));
        self.call_nr(nr, args)
    }

    fn call_nr(&mut self, nr: u64, args: &[u64]) -> i64 {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        let mut ctx = SyscallContext {
            process: &self.process,
            thread: &mut self.thread,
            cpu: &mut self.cpu,
            engine: &mut self.engine,
        };
        match dispatch(&mut ctx, nr, &a) {
            Outcome::Return(v) => v,
            Outcome::Resume => self.cpu.x[0] as i64,
            Outcome::Exit(status) | Outcome::ExitThread(status) => panic!("unexpected exit {status}"),
        }
    }
}

/// Address of something the call only reads.
fn ptr<T>(v: &T) -> u64 {
    v as *const T as u64
}

/// Address of something the call writes.
fn out<T>(v: &mut T) -> u64 {
    v as *mut T as u64
}

#[test]
fn table_is_sorted_and_unique() {
    for pair in table::SYSCALLS.windows(2) {
        assert!(pair[0].nr < pair[1].nr, "{} ({}) before {} ({})", pair[0].name, pair[0].nr, pair[1].name, pair[1].nr);
    }
    let names: std::collections::BTreeSet<_> = table::SYSCALLS.iter().map(|e| e.name).collect();
    assert_eq!(names.len(), table::SYSCALLS.len());
}

#[test]
fn spot_checks_of_numbers() {
    let expected = [
        (17, "getcwd"),
        (23, "dup"),
        (29, "ioctl"),
        (56, "openat"),
        (57, "close"),
        (63, "read"),
        (64, "write"),
        (78, "readlinkat"),
        (79, "newfstatat"),
        (80, "fstat"),
        (93, "exit"),
        (94, "exit_group"),
        (98, "futex"),
        (134, "rt_sigaction"),
        (160, "uname"),
        (214, "brk"),
        (220, "clone"),
        (221, "execve"),
        (222, "mmap"),
        (226, "mprotect"),
        (261, "prlimit64"),
        (278, "getrandom"),
        (291, "statx"),
        (293, "rseq"),
        (435, "clone3"),
        (439, "faccessat2"),
    ];
    for (nr, name) in expected {
        assert_eq!(lookup(nr).map(|e| e.name), Some(name), "number {nr}");
    }
}

/// `__NR_<name>` numbers from the kernel's generic header, where installed.
fn generic_unistd_numbers() -> Option<BTreeMap<String, u64>> {
    let text = std::fs::read_to_string("/usr/aarch64-linux-gnu/include/asm-generic/unistd.h").ok()?;
    let mut direct = BTreeMap::new();
    let mut aliases = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("#define") {
            continue;
        }
        let (Some(name), Some(value)) = (words.next(), words.next()) else { continue };
        let name = name.strip_prefix("__NR_").or_else(|| name.strip_prefix("__NR3264_"));
        let Some(name) = name else { continue };
        match value.parse::<u64>() {
            Ok(nr) => {
                direct.insert(name.to_string(), nr);
            }
            Err(_) => aliases.push((name.to_string(), value.trim_start_matches("__NR3264_").to_string())),
        }
    }
    for (name, target) in aliases {
        if let Some(&nr) = direct.get(&target) {
            direct.insert(name, nr);
        }
    }
    Some(direct)
}

#[test]
fn every_number_matches_the_kernel_header() {
    let Some(numbers) = generic_unistd_numbers() else {
        eprintln!("asm-generic/unistd.h for aarch64 not installed: skipping");
        return;
    };
    for entry in table::SYSCALLS {
        assert_eq!(numbers.get(entry.name), Some(&entry.nr), "{}", entry.name);
    }
}

#[test]
fn unknown_and_deliberately_missing_calls_are_enosys() {
    let mut h = Harness::new();
    assert_eq!(h.call_nr(9999, &[]), errno(libc::ENOSYS));
    assert_eq!(h.call_nr(9999, &[]), errno(libc::ENOSYS));
    assert_eq!(h.call("clone3", &[0, 0]), errno(libc::ENOSYS));
    assert_eq!(h.call("rseq", &[0, 32, 0, 0]), errno(libc::ENOSYS));
}

#[test]
fn passthrough_calls_return_raw_results() {
    let mut h = Harness::new();
    assert_eq!(h.call("getpid", &[]), i64::from(std::process::id()));
    assert_eq!(h.call("close", &[u64::MAX >> 1]), errno(libc::EBADF));
    let msg = b"";
    assert_eq!(h.call("write", &[1, ptr(msg), 0]), 0);
}

#[test]
fn exit_group_ends_with_the_low_byte_of_the_status() {
    let mut h = Harness::new();
    let mut ctx = SyscallContext { process: &h.process, thread: &mut h.thread, cpu: &mut h.cpu, engine: &mut h.engine };
    assert_eq!(dispatch(&mut ctx, 94, &[0x1_2a, 0, 0, 0, 0, 0]), Outcome::Exit(42));
}

#[test]
fn uname_says_aarch64() {
    let mut h = Harness::new();
    // SAFETY: utsname is plain bytes.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    assert_eq!(h.call("uname", &[out(&mut name)]), 0);
    name.machine[64] = 0;
    // SAFETY: NUL-terminated above.
    let machine = unsafe { std::ffi::CStr::from_ptr(name.machine.as_ptr()) };
    assert_eq!(machine.to_str().unwrap(), "aarch64");
    assert_eq!(h.call("uname", &[8]), guest_memory::EFAULT);
}

#[test]
fn readlink_of_proc_self_exe_is_the_guest_program() {
    let mut h = Harness::new();
    let path = b"/proc/self/exe\0";
    let mut buf = [0u8; 64];
    let n = h.call("readlinkat", &[libc::AT_FDCWD as u64, ptr(path), buf.as_mut_ptr() as u64, 64]);
    assert_eq!(&buf[..n as usize], b"/opt/guest/prog");
    let n = h.call("readlinkat", &[libc::AT_FDCWD as u64, ptr(path), buf.as_mut_ptr() as u64, 4]);
    assert_eq!(&buf[..n as usize], b"/opt");
    let other = b"/proc/self/cwd\0";
    let n = h.call("readlinkat", &[libc::AT_FDCWD as u64, ptr(other), buf.as_mut_ptr() as u64, 64]);
    assert!(n > 0 && buf[0] == b'/');
}

#[test]
fn openat_converts_o_directory() {
    let mut h = Harness::new();
    let dir = b"/\0";
    const GUEST_O_DIRECTORY: u64 = 0o040000;
    let fd = h.call("openat", &[libc::AT_FDCWD as u64, ptr(dir), GUEST_O_DIRECTORY | libc::O_CLOEXEC as u64]);
    assert!(fd >= 0, "{fd}");
    let flags = h.call("fcntl", &[fd as u64, libc::F_GETFL as u64]);
    assert_eq!(flags as u64 & 0o400000, 0o400000, "arm64 O_LARGEFILE");
    assert_eq!(flags as u64 & 0o100000, 0, "not arm64 O_NOFOLLOW");
    assert_eq!(h.call("close", &[fd as u64]), 0);
    let file = b"/etc/passwd\0";
    assert_eq!(h.call("openat", &[libc::AT_FDCWD as u64, ptr(file), GUEST_O_DIRECTORY]), errno(libc::ENOTDIR));
}

#[test]
fn rt_sigaction_keeps_dispositions_like_the_kernel() {
    let mut h = Harness::new();
    let usr1 = libc::SIGUSR1 as u64;
    let act = signal::GuestSigaction { handler: 0x400800, flags: 0x1000_0004, restorer: 0, mask: u64::MAX }.encode();
    let mut old = [0xffu8; 32];
    assert_eq!(h.call("rt_sigaction", &[usr1, ptr(&act), old.as_mut_ptr() as u64, 8]), 0);
    assert_eq!(old, [0u8; 32], "SIG_DFL before");
    assert_eq!(h.call("rt_sigaction", &[usr1, 0, old.as_mut_ptr() as u64, 8]), 0);
    let back = signal::GuestSigaction::decode(&old);
    assert_eq!((back.handler, back.flags), (0x400800, 0x1000_0004));
    assert_eq!(back.mask & (1 << (libc::SIGKILL - 1)), 0, "SIGKILL never in sa_mask");
    assert_eq!(h.call("rt_sigaction", &[libc::SIGKILL as u64, ptr(&act), 0, 8]), errno(libc::EINVAL));
    assert_eq!(h.call("rt_sigaction", &[libc::SIGKILL as u64, 0, old.as_mut_ptr() as u64, 8]), 0);
    assert_eq!(h.call("rt_sigaction", &[65, 0, 0, 8]), errno(libc::EINVAL));
    assert_eq!(h.call("rt_sigaction", &[usr1, 0, 0, 16]), errno(libc::EINVAL));
    assert_eq!(h.call("rt_sigaction", &[usr1, 8, 0, 8]), guest_memory::EFAULT);
}

#[test]
fn rt_sigprocmask_keeps_the_mask() {
    let mut h = Harness::new();
    let block: u64 = (1 << (libc::SIGUSR1 - 1)) | (1 << (libc::SIGKILL - 1));
    let mut old = u64::MAX;
    assert_eq!(h.call("rt_sigprocmask", &[libc::SIG_BLOCK as u64, ptr(&block), out(&mut old), 8]), 0);
    assert_eq!(old, 0);
    assert_eq!(h.call("rt_sigprocmask", &[libc::SIG_SETMASK as u64, 0, out(&mut old), 8]), 0);
    assert_eq!(old, 1 << (libc::SIGUSR1 - 1), "SIGKILL cannot be blocked");
    assert_eq!(h.call("rt_sigprocmask", &[7, ptr(&block), 0, 8]), errno(libc::EINVAL));
    assert_eq!(h.call("rt_sigprocmask", &[libc::SIG_UNBLOCK as u64, ptr(&block), 0, 8]), 0);
    assert_eq!(h.thread.signal_mask, 0);
    // Bookkeeping only: the host mask is untouched.
    let mut host_mask = 0u64;
    // SAFETY: a query of the current mask.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, 0, 0usize, &mut host_mask as *mut u64, 8usize) };
    assert_eq!(host_mask & (1 << (libc::SIGUSR1 - 1)), 0);
}

#[test]
fn sigaltstack_validates_like_the_kernel() {
    let mut h = Harness::new();
    let mut old = [0u8; 24];
    assert_eq!(h.call("sigaltstack", &[0, old.as_mut_ptr() as u64]), 0);
    assert_eq!(i32::from_le_bytes(old[8..12].try_into().unwrap()), 2, "SS_DISABLE initially");
    let mut small = [0u8; 24];
    small[0..8].copy_from_slice(&0x10000u64.to_le_bytes());
    small[16..24].copy_from_slice(&1024u64.to_le_bytes());
    assert_eq!(h.call("sigaltstack", &[ptr(&small), 0]), errno(libc::ENOMEM));
    let mut good = small;
    good[16..24].copy_from_slice(&65536u64.to_le_bytes());
    assert_eq!(h.call("sigaltstack", &[ptr(&good), 0]), 0);
    assert_eq!(h.call("sigaltstack", &[0, old.as_mut_ptr() as u64]), 0);
    assert_eq!(old, good);
}

#[test]
fn memory_calls_protect_archway_and_invalidate_translations() {
    let mut h = Harness::new();
    let own_code = memory_calls_protect_archway_and_invalidate_translations as fn() as usize as u64 & !0xfff;
    let fixed = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED) as u64;
    let rw = (libc::PROT_READ | libc::PROT_WRITE) as u64;
    assert_eq!(h.call("mmap", &[own_code, 4096, rw, fixed, u64::MAX, 0]), errno(libc::ENOMEM));
    assert_eq!(h.call("munmap", &[own_code, 4096]), errno(libc::ENOMEM));
    assert_eq!(h.call("mprotect", &[own_code, 4096, 0]), errno(libc::ENOMEM));

    let anon = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64;
    let addr = h.call("mmap", &[0, 8192, rw | 0x10, anon, u64::MAX, 0]);
    assert!(addr > 0, "PROT_BTI is accepted: {addr}");
    let addr = addr as u64;
    assert_eq!(h.call("mmap", &[addr, 4096, rw, fixed, u64::MAX, 0]), addr as i64);
    assert_eq!(h.call("munmap", &[addr, 8192]), 0);
    assert_eq!(h.engine.invalidated, [(addr, addr + 4096), (addr, addr + 8192)]);
}

#[test]
fn brk_uses_the_guest_reservation() {
    let mut h = Harness::new();
    let anon = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE) as u64;
    let start = h.call("mmap", &[0, 1 << 20, 0, anon, u64::MAX, 0]) as u64;
    *lock(&h.process.brk) = Brk::new(start, start + (1 << 20));
    assert_eq!(h.call("brk", &[0]), start as i64);
    assert_eq!(h.call("brk", &[start + 5000]), (start + 5000) as i64);
    assert_eq!(h.call("brk", &[start + (4 << 20)]), (start + 5000) as i64);
}

#[test]
fn stat_calls_write_the_aarch64_layout() {
    let mut h = Harness::new();
    let mut buf = [0u8; 128];
    let path = b"/proc/self/exe\0";
    assert_eq!(h.call("newfstatat", &[libc::AT_FDCWD as u64, ptr(path), buf.as_mut_ptr() as u64, 0]), 0);
    let size = u64::from_le_bytes(buf[48..56].try_into().unwrap());
    assert_eq!(size, std::fs::metadata("/proc/self/exe").unwrap().len());
    assert_eq!(h.call("fstat", &[u64::MAX >> 1, buf.as_mut_ptr() as u64]), errno(libc::EBADF));
}

#[test]
fn epoll_events_are_converted() {
    let mut h = Harness::new();
    let epfd = h.call("epoll_create1", &[0]);
    assert!(epfd >= 0);
    let mut fds = [0i32; 2];
    assert_eq!(h.call("pipe2", &[fds.as_mut_ptr() as u64, 0]), 0);
    let mut event = [0u8; 16];
    event[0..4].copy_from_slice(&(libc::EPOLLIN as u32).to_le_bytes());
    event[8..16].copy_from_slice(&0xabcd_ef01_2345_6789u64.to_le_bytes());
    assert_eq!(h.call("epoll_ctl", &[epfd as u64, libc::EPOLL_CTL_ADD as u64, fds[0] as u64, ptr(&event)]), 0);
    assert_eq!(h.call("write", &[fds[1] as u64, ptr(b"x"), 1]), 1);
    let mut out = [0u8; 32];
    assert_eq!(h.call("epoll_pwait", &[epfd as u64, out.as_mut_ptr() as u64, 2, 1000, 0, 8]), 1);
    assert_eq!(u32::from_le_bytes(out[0..4].try_into().unwrap()), libc::EPOLLIN as u32);
    assert_eq!(u64::from_le_bytes(out[8..16].try_into().unwrap()), 0xabcd_ef01_2345_6789);
    for fd in [epfd as u64, fds[0] as u64, fds[1] as u64] {
        assert_eq!(h.call("close", &[fd]), 0);
    }
}

#[test]
fn unknown_ioctls_are_enotty() {
    let mut h = Harness::new();
    let mut fds = [0i32; 2];
    assert_eq!(h.call("pipe2", &[fds.as_mut_ptr() as u64, 0]), 0);
    let mut pending = 0i32;
    assert_eq!(h.call("ioctl", &[fds[0] as u64, 0x541B, out(&mut pending)]), 0, "FIONREAD");
    assert_eq!(h.call("ioctl", &[fds[0] as u64, 0xdead_beef, 0]), errno(libc::ENOTTY));
    assert_eq!(h.call("ioctl", &[fds[0] as u64, 0x5401, out(&mut [0u8; 64])]), errno(libc::ENOTTY), "TCGETS on a pipe");
}

/// `cp` asks for a reflink (`FICLONE`) on every copy and falls back to reading and
/// writing on the answer the file system gives: the guest must get that answer.
#[test]
fn file_system_ioctls_reach_the_file_system() {
    use std::os::fd::AsRawFd;
    let mut h = Harness::new();
    let dir = std::env::temp_dir();
    let src = std::fs::File::create(dir.join(format!("archway-ficlone-src-{}", std::process::id()))).unwrap();
    let dst = std::fs::File::create(dir.join(format!("archway-ficlone-dst-{}", std::process::id()))).unwrap();
    // SAFETY: FICLONE reads only its integer argument.
    let host = unsafe { libc::ioctl(dst.as_raw_fd(), libc::FICLONE, src.as_raw_fd()) };
    let host = if host < 0 { -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap()) } else { 0 };
    let guest = h.call("ioctl", &[dst.as_raw_fd() as u64, 0x4004_9409, src.as_raw_fd() as u64]);
    assert_eq!(guest, host, "FICLONE");
    assert_ne!(guest, errno(libc::ENOTTY));
    let mut flags = 0i64;
    // SAFETY: FS_IOC_GETFLAGS writes one long.
    let host = unsafe { libc::ioctl(src.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) };
    let host = if host < 0 { -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap()) } else { 0 };
    assert_eq!(h.call("ioctl", &[src.as_raw_fd() as u64, 0x8008_6601, out(&mut flags)]), host, "FS_IOC_GETFLAGS");
    let _ = std::fs::remove_file(dir.join(format!("archway-ficlone-src-{}", std::process::id())));
    let _ = std::fs::remove_file(dir.join(format!("archway-ficlone-dst-{}", std::process::id())));
}

/// Calls whose arguments mean the same on both architectures answer as the kernel does.
#[test]
fn passed_through_calls_answer_like_the_kernel() {
    let mut h = Harness::new();
    // personality(0xffffffff) reads the persona without changing it.
    // SAFETY: the query form changes nothing.
    let host = unsafe { libc::personality(0xffff_ffff) };
    assert_eq!(h.call("personality", &[0xffff_ffff]), i64::from(host));
    let mut interval = [0i64; 2];
    assert_eq!(h.call("sched_rr_get_interval", &[0, out(&mut interval)]), 0);
    assert!(interval[0] >= 0 && (0..1_000_000_000).contains(&interval[1]), "{interval:?}");
    let queue = c"/archway-no-such-queue";
    // SAFETY: mq_unlink reads the name.
    let host = unsafe { libc::syscall(libc::SYS_mq_unlink, queue.as_ptr()) };
    let host = if host < 0 { -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap()) } else { host };
    assert_eq!(h.call("mq_unlink", &[queue.as_ptr() as u64]), host);
}

#[test]
fn fork_like_clone_makes_a_child_that_sees_zero() {
    let mut h = Harness::new();
    let mut child_tid = 0u32;
    let flags = (libc::CLONE_CHILD_SETTID | libc::SIGCHLD) as u64;
    let pid = h.call("clone", &[flags, 0, 0, 0, out(&mut child_tid)]);
    if pid == 0 {
        // The child: X0 = 0, its tid stored at child_tid in its own memory.
        // SAFETY: a plain read of a local the kernel wrote.
        let tid = unsafe { std::ptr::read_volatile(&child_tid) };
        let ok = tid != 0 && h.cpu.sp == 0;
        // SAFETY: leave the forked test process at once.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    assert!(pid > 0, "{pid}");
    let mut status = 0i32;
    assert_eq!(h.call("wait4", &[pid as u64, out(&mut status), 0, 0]), pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "status {status:#x}");
}

#[test]
fn thread_calls_answer_like_the_kernel() {
    let mut h = Harness::new();
    let tid = h.call("gettid", &[]);
    let mut word = 0u32;
    assert_eq!(h.call("set_tid_address", &[out(&mut word)]), tid);
    assert_eq!(h.thread.clear_child_tid, out(&mut word));
    let (vm, sighand, thread) = (libc::CLONE_VM as u64, libc::CLONE_SIGHAND as u64, libc::CLONE_THREAD as u64);
    assert_eq!(h.call("clone", &[thread | vm]), errno(libc::EINVAL), "CLONE_THREAD needs CLONE_SIGHAND");
    assert_eq!(h.call("clone", &[sighand]), errno(libc::EINVAL), "CLONE_SIGHAND needs CLONE_VM");
    assert_eq!(h.call("clone", &[vm | libc::SIGCHLD as u64]), errno(libc::ENOSYS), "a process sharing memory");
    let newns = libc::CLONE_NEWNS as u64;
    assert_eq!(h.call("clone", &[vm | sighand | thread | newns]), errno(libc::ENOSYS));
    assert_eq!(h.call("clone3", &[0, 0]), errno(libc::ENOSYS));
    let mut ctx = SyscallContext { process: &h.process, thread: &mut h.thread, cpu: &mut h.cpu, engine: &mut h.engine };
    assert_eq!(dispatch(&mut ctx, 93, &[0x1_05, 0, 0, 0, 0, 0]), Outcome::ExitThread(5));
}

#[test]
fn semctl_ipc_stat_uses_the_arm64_layout() {
    let mut h = Harness::new();
    // SAFETY: a private semaphore set, removed below.
    let id = unsafe { libc::semget(libc::IPC_PRIVATE, 3, libc::IPC_CREAT | 0o600) };
    assert!(id >= 0, "semget: {}", std::io::Error::last_os_error());
    let mut guest = [0u8; 88];
    let result = h.call("semctl", &[id as u64, 0, libc::IPC_STAT as u64, guest.as_mut_ptr() as u64]);
    // SAFETY: removes the set made above.
    unsafe { libc::semctl(id, 0, libc::IPC_RMID) };
    assert_eq!(result, 0);
    assert_eq!(u64::from_le_bytes(guest[64..72].try_into().unwrap()), 3, "sem_nsems at the arm64 offset");
    assert_ne!(u64::from_le_bytes(guest[56..64].try_into().unwrap()), 0, "sem_ctime is set at creation");
}

#[test]
fn epoll_pwait_spreads_many_events_in_place() {
    let mut h = Harness::new();
    let epfd = h.call("epoll_create1", &[0]);
    let mut pipes = Vec::new();
    for i in 0..40u64 {
        let mut fds = [0i32; 2];
        assert_eq!(h.call("pipe2", &[fds.as_mut_ptr() as u64, 0]), 0);
        let mut event = [0u8; 16];
        event[0..4].copy_from_slice(&(libc::EPOLLIN as u32).to_le_bytes());
        event[8..16].copy_from_slice(&(0x1111_0000_0000 + i).to_le_bytes());
        assert_eq!(h.call("epoll_ctl", &[epfd as u64, libc::EPOLL_CTL_ADD as u64, fds[0] as u64, ptr(&event)]), 0);
        assert_eq!(h.call("write", &[fds[1] as u64, ptr(b"x"), 1]), 1);
        pipes.push(fds);
    }
    let mut out = vec![0xeeu8; 16 * 64];
    assert_eq!(h.call("epoll_pwait", &[epfd as u64, out.as_mut_ptr() as u64, 64, 0, 0, 8]), 40);
    let mut data: Vec<u64> =
        out.chunks_exact(16).take(40).map(|e| u64::from_le_bytes(e[8..16].try_into().unwrap())).collect();
    assert!(out.chunks_exact(16).take(40).all(|e| e[0..4] == (libc::EPOLLIN as u32).to_le_bytes()));
    data.sort_unstable();
    assert_eq!(data, (0..40).map(|i| 0x1111_0000_0000 + i).collect::<Vec<u64>>());
    assert_eq!(out[16 * 40..], vec![0xee; 16 * 24][..], "nothing written past the events");
    assert_eq!(h.call("epoll_pwait", &[epfd as u64, out.as_mut_ptr() as u64, 0, 0, 0, 8]), errno(libc::EINVAL));
    let too_many = (i32::MAX / 16 + 1) as u64;
    assert_eq!(h.call("epoll_pwait", &[epfd as u64, out.as_mut_ptr() as u64, too_many, 0, 0, 8]), errno(libc::EINVAL));
    for fd in pipes.iter().flatten().map(|&fd| fd as u64).chain([epfd as u64]) {
        assert_eq!(h.call("close", &[fd]), 0);
    }
}

#[test]
fn prctl_answers_for_the_guest() {
    let mut h = Harness::new();
    let (get_tsc, set_tsc, get_tid_address, get_auxv) = (25, 26, 40, 0x4155_5856);
    let mut word = 0u64;
    assert_eq!(h.call("prctl", &[get_tsc, out(&mut word)]), errno(libc::EINVAL), "x86 only");
    assert_eq!(h.call("prctl", &[set_tsc, 2]), errno(libc::EINVAL), "x86 only");
    h.thread.clear_child_tid = 0x1234_5678;
    assert_eq!(h.call("prctl", &[get_tid_address, out(&mut word)]), 0);
    assert_eq!(word, 0x1234_5678);
    let mut auxv = [0u64; 64];
    let size = h.call("prctl", &[get_auxv, auxv.as_mut_ptr() as u64, 16]);
    assert_eq!(size, 400, "the size of arm64's saved_auxv");
    assert_eq!(auxv[0], 0, "an empty guest auxv: AT_NULL first");
    assert_eq!(h.call("prctl", &[get_auxv, auxv.as_mut_ptr() as u64, 16, 1]), errno(libc::EINVAL));
    let mut name = [0u8; 16];
    assert_eq!(h.call("prctl", &[libc::PR_GET_NAME as u64, name.as_mut_ptr() as u64]), 0, "passed through");
}

#[test]
fn fork_writes_the_parents_tid_word_in_the_parent() {
    let mut h = Harness::new();
    let mut parent_tid = 0u32;
    let flags = (libc::CLONE_PARENT_SETTID | libc::SIGCHLD) as u64;
    let pid = h.call("clone", &[flags, 0, out(&mut parent_tid), 0, 0]);
    if pid == 0 {
        // SAFETY: leave the forked test process at once.
        unsafe { libc::_exit(0) };
    }
    assert!(pid > 0, "{pid}");
    // SAFETY: a plain read of a local archway wrote.
    assert_eq!(unsafe { std::ptr::read_volatile(&parent_tid) } as i64, pid);
    let mut status = 0i32;
    assert_eq!(h.call("wait4", &[pid as u64, out(&mut status), 0, 0]), pid);
}
