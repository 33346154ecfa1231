//! The stack is built, then parsed back the way a C library's start code reads it.

use super::*;
use crate::loader::LoadedProgram;
use std::collections::BTreeMap;

/// What start code finds on the stack.
struct Parsed {
    argv: Vec<String>,
    envp: Vec<String>,
    auxv: BTreeMap<u64, u64>,
}

/// Read a u64 at guest (= host) address `addr`.
fn word(addr: u64) -> u64 {
    // SAFETY: tests only read addresses inside the buffer the stack was built in.
    unsafe { (addr as *const u64).read_unaligned() }
}

fn c_string(addr: u64) -> String {
    // SAFETY: as above; the builder NUL-terminates every string.
    unsafe { std::ffi::CStr::from_ptr(addr as *const libc::c_char) }.to_string_lossy().into_owned()
}

fn parse(sp: u64) -> Parsed {
    let argc = word(sp);
    let mut at = sp + 8;
    let mut strings = |count: Option<u64>| {
        let mut out = Vec::new();
        loop {
            let p = word(at);
            at += 8;
            if p == 0 {
                break;
            }
            out.push(c_string(p));
        }
        if let Some(n) = count {
            assert_eq!(out.len() as u64, n);
        }
        out
    };
    let argv = strings(Some(argc));
    let envp = strings(None);
    let mut auxv = BTreeMap::new();
    loop {
        let (key, value) = (word(at), word(at + 8));
        at += 16;
        if key == at::NULL {
            break;
        }
        assert!(auxv.insert(key, value).is_none(), "auxv key {key} twice");
    }
    Parsed { argv, envp, auxv }
}

fn program() -> Executable {
    let program = LoadedProgram {
        entry: 0x400123,
        phdr: 0x400040,
        phent: 56,
        phnum: 9,
        base: 0,
        start: 0x400000,
        brk_start: 0x4a0000,
        brk_limit: 0x4a0000,
        interp: None,
    };
    Executable { program, interpreter: None }
}

fn os(strings: &[&str]) -> Vec<OsString> {
    strings.iter().map(OsString::from).collect()
}

#[test]
fn built_stack_parses_back() {
    let argv = os(&["/bin/prog", "-v", "some file"]);
    let envp = os(&["HOME=/root", "LANG=C.UTF-8"]);
    let creds = Credentials { uid: 1000, euid: 1001, gid: 100, egid: 101, secure: true };
    let contents = StackContents {
        argv: &argv,
        envp: &envp,
        execfn: OsStr::new("./prog"),
        random: *b"0123456789abcdef",
        credentials: creds,
    };
    let mut memory = vec![0u8; 64 * 1024];
    let top = memory.as_ptr() as u64 + memory.len() as u64;
    let built = write_stack(&mut memory, top, &program(), &contents).unwrap();
    let memory_start = memory.as_ptr() as u64;

    assert_eq!(built.sp % 16, 0);
    assert!(built.sp >= memory_start && built.sp < top);
    let parsed = parse(built.sp);
    assert_eq!(parsed.argv, ["/bin/prog", "-v", "some file"]);
    assert_eq!(parsed.envp, ["HOME=/root", "LANG=C.UTF-8"]);

    let aux = &parsed.auxv;
    assert_eq!(aux[&at::PHDR], 0x400040);
    assert_eq!(aux[&at::PHENT], 56);
    assert_eq!(aux[&at::PHNUM], 9);
    assert_eq!(aux[&at::PAGESZ], 4096);
    assert_eq!(aux[&at::BASE], 0);
    assert_eq!(aux[&at::FLAGS], 0);
    assert_eq!(aux[&at::ENTRY], 0x400123);
    assert_eq!((aux[&at::UID], aux[&at::EUID], aux[&at::GID], aux[&at::EGID]), (1000, 1001, 100, 101));
    assert_eq!(aux[&at::SECURE], 1);
    assert_eq!(aux[&at::CLKTCK], 100);
    assert_eq!(aux[&at::MINSIGSTKSZ], 5120);
    assert_eq!(aux[&at::HWCAP], archway_guest_a64::features::HWCAP);
    assert_eq!(aux[&at::HWCAP2], archway_guest_a64::features::HWCAP2);
    assert_eq!(c_string(aux[&at::EXECFN]), "./prog");
    assert_eq!(c_string(aux[&at::PLATFORM]), "aarch64");
    let random = aux[&at::RANDOM];
    // SAFETY: 16 bytes inside the buffer.
    assert_eq!(unsafe { std::slice::from_raw_parts(random as *const u8, 16) }, b"0123456789abcdef");
    assert!(!aux.contains_key(&33), "no AT_SYSINFO_EHDR without a vDSO");
    assert_eq!(aux.len(), built.auxv.len());

    // Strings lie above the vectors, argv[0] lowest, execfn highest.
    let argv0 = word(built.sp + 8);
    assert!(argv0 > random && aux[&at::EXECFN] > argv0);
    assert!(aux[&at::EXECFN] + 7 <= top - 8);
}

#[test]
fn alignment_holds_for_odd_and_even_word_counts() {
    for argc in 0..4 {
        let argv: Vec<OsString> = (0..argc).map(|i| OsString::from("a".repeat(i + 1))).collect();
        let contents = StackContents {
            argv: &argv,
            envp: &[],
            execfn: OsStr::new("p"),
            random: [7; 16],
            credentials: Credentials::of_host(),
        };
        let mut memory = vec![0u8; 8192];
        let top = memory.as_ptr() as u64 + memory.len() as u64;
        let built = write_stack(&mut memory, top, &program(), &contents).unwrap();
        assert_eq!(built.sp % 16, 0, "argc {argc}");
        assert_eq!(parse(built.sp).argv.len(), argc);
    }
}

#[test]
fn errors_instead_of_overflows() {
    let nul = vec![OsString::from(std::ffi::OsStr::from_bytes(b"a\0b"))];
    let contents = StackContents {
        argv: &nul,
        envp: &[],
        execfn: OsStr::new("p"),
        random: [0; 16],
        credentials: Credentials::of_host(),
    };
    let mut memory = vec![0u8; 4096];
    let top = memory.as_ptr() as u64 + 4096;
    assert!(matches!(write_stack(&mut memory, top, &program(), &contents), Err(StackError::NulByte)));

    let long = vec![OsString::from("x".repeat(3000)); 2];
    let contents = StackContents { argv: &long, ..contents };
    assert!(matches!(write_stack(&mut memory, top, &program(), &contents), Err(StackError::TooLong(_))));

    let huge = vec![OsString::from("y".repeat(1 << 20)); 3];
    let contents = StackContents { argv: &huge, ..contents };
    let err = write_stack(&mut memory, top, &program(), &contents).unwrap_err();
    assert!(err.to_string().starts_with("argument list too long"));
}

#[test]
fn the_real_stack_is_mapped_with_a_guard() {
    let argv = os(&["prog"]);
    let built = build(&program(), &argv, &[], OsStr::new("prog")).unwrap();
    assert_eq!(built.top - built.bottom, STACK_SIZE);
    assert_eq!(parse(built.sp).argv, ["prog"]);
    // The guard below the stack is not accessible: a checked read faults.
    let mut byte = [0u8; 1];
    assert!(crate::guest_memory::read(built.bottom - 1, &mut byte).is_err());
    assert!(crate::guest_memory::read(built.bottom, &mut byte).is_ok());
}

#[test]
fn dynamic_programs_get_the_interpreter_base() {
    let mut executable = program();
    let mut interpreter = executable.program.clone();
    interpreter.base = 0x7f00_0000_0000;
    interpreter.entry = 0x7f00_0000_1000;
    executable.interpreter = Some(interpreter);
    let argv = os(&["prog"]);
    let contents = StackContents {
        argv: &argv,
        envp: &[],
        execfn: OsStr::new("prog"),
        random: [0; 16],
        credentials: Credentials::of_host(),
    };
    let mut memory = vec![0u8; 16 * 1024];
    let top = memory.as_ptr() as u64 + memory.len() as u64;
    let built = write_stack(&mut memory, top, &executable, &contents).unwrap();
    let aux = parse(built.sp).auxv;
    assert_eq!(aux[&at::BASE], 0x7f00_0000_0000);
    assert_eq!(aux[&at::ENTRY], 0x400123, "AT_ENTRY is the program's entry");
    assert_eq!(aux[&at::PHDR], 0x400040);
    assert_eq!(executable.start_pc(), 0x7f00_0000_1000);
}
