//! Loader tests: malformed files give one-line errors; small hand-made ELFs load
//! where they should with the right contents.

use super::*;
use goblin::elf::header::{EM_AARCH64, EM_X86_64, ET_DYN, ET_EXEC, ET_REL};
use goblin::elf::program_header::{PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A program header for [`elf`]: (type, flags, offset, vaddr, filesz, memsz, align).
type Phdr = (u32, u32, u64, u64, u64, u64, u64);

/// An ELF64 little-endian file: header, program headers right after it, then zeroes
/// up to `len` with a recognisable pattern.
fn elf(e_type: u16, machine: u16, entry: u64, phdrs: &[Phdr], len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len.max(64 + 56 * phdrs.len())];
    for (i, b) in f.iter_mut().enumerate().skip(64 + 56 * phdrs.len()) {
        *b = (i % 251) as u8 | 1;
    }
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little-endian
    f[6] = 1; // EV_CURRENT
    f[16..18].copy_from_slice(&e_type.to_le_bytes());
    f[18..20].copy_from_slice(&machine.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&entry.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    f[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    f[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
    for (i, &(p_type, flags, offset, vaddr, filesz, memsz, align)) in phdrs.iter().enumerate() {
        let p = 64 + 56 * i;
        f[p..p + 4].copy_from_slice(&p_type.to_le_bytes());
        f[p + 4..p + 8].copy_from_slice(&flags.to_le_bytes());
        f[p + 8..p + 16].copy_from_slice(&offset.to_le_bytes());
        f[p + 16..p + 24].copy_from_slice(&vaddr.to_le_bytes());
        f[p + 24..p + 32].copy_from_slice(&vaddr.to_le_bytes());
        f[p + 32..p + 40].copy_from_slice(&filesz.to_le_bytes());
        f[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
        f[p + 48..p + 56].copy_from_slice(&align.to_le_bytes());
    }
    f
}

/// Write `bytes` to a fresh file in a per-process temp directory.
fn file(bytes: &[u8]) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("archway-loader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("prog{}", COUNTER.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn problem(bytes: &[u8]) -> String {
    let err = load(&file(bytes)).unwrap_err();
    let message = err.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    err.problem.to_string()
}

const RX: u32 = PF_R | PF_X;
const RW: u32 = PF_R | PF_W;

#[test]
fn missing_directory_and_empty_files() {
    let err = load(Path::new("/nonexistent/archway/prog")).unwrap_err();
    assert!(matches!(&err.problem, LoadProblem::Io(e) if e.kind() == io::ErrorKind::NotFound), "{err}");
    assert_eq!(err.path, Path::new("/nonexistent/archway/prog"));
    assert!(matches!(load(&std::env::temp_dir()).unwrap_err().problem, LoadProblem::Directory));
    assert_eq!(problem(b""), "empty file");
    assert!(matches!(load(Path::new("/dev/null")).unwrap_err().problem, LoadProblem::NotRegularFile));
}

#[test]
fn not_elf_truncated_and_wrong_class() {
    assert_eq!(problem(b"#!/bin/sh\necho hi\n"), "not an ELF file");
    assert_eq!(problem(b"\x7fEL"), "not an ELF file");
    assert_eq!(problem(b"\x7fELF\x02\x01\x01"), "truncated ELF: ELF header past the end of the file");
    let mut class32 = elf(ET_EXEC, EM_AARCH64, 0, &[], 64);
    class32[4] = 1;
    assert!(problem(&class32).contains("32-bit ELF"));
    let mut big = elf(ET_EXEC, EM_AARCH64, 0, &[], 64);
    big[5] = 2;
    assert_eq!(problem(&big), "big-endian ELF is not supported");
}

#[test]
fn other_machines_and_types_are_refused() {
    if cfg!(target_arch = "x86_64") {
        // This test program, an x86_64 ELF file (on an arm64 host it is an aarch64 one).
        let err = load(Path::new("/proc/self/exe")).unwrap_err();
        assert_eq!(err.problem.to_string(), "not an aarch64 ELF (machine: x86-64)");
    }
    let x86 = elf(ET_EXEC, EM_X86_64, 0, &[(PT_LOAD, RX, 0, 0x400000, 0x100, 0x100, 0x1000)], 0x100);
    assert_eq!(problem(&x86), "not an aarch64 ELF (machine: x86-64)");
    let object = elf(ET_REL, EM_AARCH64, 0, &[(PT_LOAD, RX, 0, 0x400000, 0x100, 0x100, 0x1000)], 0x100);
    assert_eq!(problem(&object), "not an executable (ELF type: REL)");
}

#[test]
fn absurd_program_headers() {
    let mut no_phdrs = elf(ET_EXEC, EM_AARCH64, 0, &[], 64);
    assert_eq!(problem(&no_phdrs), "malformed ELF: no program headers");
    no_phdrs[56..58].copy_from_slice(&0xfff0u16.to_le_bytes());
    assert_eq!(problem(&no_phdrs), "malformed ELF: 65520 program headers");
    let mut bad_size = elf(ET_EXEC, EM_AARCH64, 0, &[(PT_LOAD, RX, 0, 0x400000, 0x100, 0x100, 0x1000)], 0x100);
    bad_size[54..56].copy_from_slice(&32u16.to_le_bytes());
    assert_eq!(problem(&bad_size), "malformed ELF: program header size 32 (expected 56)");
    let mut far = elf(ET_EXEC, EM_AARCH64, 0, &[(PT_LOAD, RX, 0, 0x400000, 0x100, 0x100, 0x1000)], 0x100);
    far[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(problem(&far), "truncated ELF: program headers past the end of the file");
    let cut = elf(ET_EXEC, EM_AARCH64, 0, &[(PT_LOAD, RX, 0, 0x400000, 0x100, 0x100, 0x1000)], 0x100);
    assert_eq!(problem(&cut[..100]), "truncated ELF: program headers past the end of the file");
}

#[test]
fn absurd_segments() {
    let beyond_file = elf(ET_EXEC, EM_AARCH64, 0, &[(PT_LOAD, RX, 0, 0x400000, 0x10000, 0x10000, 0x1000)], 0x100);
    assert_eq!(problem(&beyond_file), "truncated ELF: segment data past the end of the file");
    let file_gt_mem = elf(ET_EXEC, EM_AARCH64, 0, &[(PT_LOAD, RX, 0, 0x400000, 0x100, 0x10, 0x1000)], 0x100);
    assert!(problem(&file_gt_mem).contains("file size larger than memory size"));
    let huge = elf(ET_EXEC, EM_AARCH64, 0, &[(PT_LOAD, RX, 0, u64::MAX - 0x10, 0x100, 0x100, 0x1000)], 0x100);
    assert!(problem(&huge).contains("beyond the user address space"));
    let misaligned = elf(ET_EXEC, EM_AARCH64, 0, &[(PT_LOAD, RX, 0x10, 0x400000, 0x10, 0x10, 0x1000)], 0x100);
    assert!(problem(&misaligned).contains("disagree modulo the page size"));
    let nothing = elf(ET_EXEC, EM_AARCH64, 0, &[(goblin::elf::program_header::PT_NOTE, 0, 0, 0, 0, 0, 4)], 0x100);
    assert_eq!(problem(&nothing), "malformed ELF: no loadable segments");
}

#[test]
fn dynamic_programs_need_their_interpreter() {
    let interp = b"/nonexistent/ld-linux-aarch64.so.1\0";
    let text: Phdr = (PT_LOAD, RX, 0, 0, 0x300, 0x300, 0x1000);
    let mut f = elf(
        ET_DYN,
        EM_AARCH64,
        0,
        &[text, (PT_INTERP, PF_R, 0x200, 0x200, interp.len() as u64, interp.len() as u64, 1)],
        0x300,
    );
    f[0x200..0x200 + interp.len()].copy_from_slice(interp);
    let path = file(&f);
    let alone = load(&path).unwrap();
    assert_eq!(alone.interp, Some(PathBuf::from("/nonexistent/ld-linux-aarch64.so.1")));
    assert_eq!(alone.base, PIE_BASE & !0xfff, "PIE programs with an interpreter go at PIE_BASE");
    let err = load_executable(&path, None, None).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("interpreter /nonexistent/ld-linux-aarch64.so.1: "), "{message}");
    assert!(!message.contains('\n'));
}

#[test]
fn non_pie_loads_at_its_addresses_with_bss_and_refuses_overlap() {
    // Text at BASE (64 KiB aligned), data 64 KiB further at a file offset that is
    // not 64 KiB aligned but agrees modulo the 4 KiB page, with .bss after it.
    const BASE: u64 = 0x1234_5600_0000;
    let text: Phdr = (PT_LOAD, RX, 0, BASE, 0x1300, 0x1300, 0x10000);
    let data: Phdr = (PT_LOAD, RW, 0x1300, BASE + 0x11300, 0x200, 0x5000, 0x10000);
    let bytes = elf(ET_EXEC, EM_AARCH64, BASE + 0x100, &[text, data], 0x1500);
    let path = file(&bytes);
    let program = load(&path).unwrap();
    assert_eq!(program.base, 0);
    assert_eq!(program.entry, BASE + 0x100);
    assert_eq!(program.phdr, BASE + 64);
    assert_eq!((program.phent, program.phnum), (56, 2));
    assert_eq!(program.brk_start, BASE + 0x17000);
    assert_eq!(program.brk_limit, program.brk_start + BRK_RESERVATION);
    // SAFETY: the loader mapped these ranges readable.
    let text_mem = unsafe { std::slice::from_raw_parts(BASE as *const u8, 0x1300) };
    assert_eq!(text_mem, &bytes[..0x1300]);
    // SAFETY: as above; data and .bss are read-write.
    let data_mem = unsafe { std::slice::from_raw_parts_mut((BASE + 0x11300) as *mut u8, 0x5000) };
    assert_eq!(&data_mem[..0x200], &bytes[0x1300..0x1500]);
    assert!(data_mem[0x200..].iter().all(|&b| b == 0), ".bss is zero");
    data_mem[0x4fff] = 1;

    let again = load(&path).unwrap_err();
    assert!(matches!(again.problem, LoadProblem::Overlap { .. }), "{again}");
    assert!(again.to_string().contains("would overlap memory already mapped"));
}

#[test]
fn static_pie_gets_an_aligned_base() {
    let text: Phdr = (PT_LOAD, RX, 0, 0, 0x800, 0x800, 0x10000);
    let data: Phdr = (PT_LOAD, RW, 0x800, 0x10800, 0x100, 0x2000, 0x10000);
    let bytes = elf(ET_DYN, EM_AARCH64, 0x40, &[text, data], 0x900);
    let program = load(&file(&bytes)).unwrap();
    assert_ne!(program.base, 0);
    assert_eq!(program.base % 0x10000, 0);
    assert_eq!(program.entry, program.base + 0x40);
    assert_eq!(program.phdr, program.base + 64);
    // SAFETY: mapped readable by the loader.
    let first = unsafe { std::slice::from_raw_parts(program.base as *const u8, 0x800) };
    assert_eq!(first, &bytes[..0x800]);
    // SAFETY: data segment, mapped read-write.
    let data_mem = unsafe { std::slice::from_raw_parts((program.base + 0x10800) as *const u8, 0x2000) };
    assert_eq!(&data_mem[..0x100], &bytes[0x800..0x900]);
    assert!(data_mem[0x100..].iter().all(|&b| b == 0));
}

/// A real static program from the cross compiler, when it is installed.
#[test]
fn cross_compiled_static_programs_load() {
    let dir = std::env::temp_dir().join(format!("archway-loader-cc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("hello.c");
    std::fs::write(&source, "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n").unwrap();
    for (flags, pie) in [(&["-static"][..], false), (&["-static-pie"][..], true)] {
        let out = dir.join(if pie { "hello-pie" } else { "hello" });
        let built = std::process::Command::new("aarch64-linux-gnu-gcc")
            .args(flags)
            .arg("-O2")
            .arg(&source)
            .arg("-o")
            .arg(&out)
            .status();
        if !matches!(built, Ok(s) if s.success()) {
            eprintln!("aarch64-linux-gnu-gcc unavailable: skipping");
            return;
        }
        let program = load(&out).unwrap();
        assert_eq!(program.base != 0, pie);
        // SAFETY: the program headers are inside a loaded, readable segment.
        let phdr_type = unsafe { *(program.phdr as *const u32) };
        assert!(phdr_type != 0);
        assert!(program.brk_start > program.entry);
    }
}
