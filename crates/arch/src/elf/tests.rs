//! The sniffer on real programs (the committed aarch64 fixtures, this x86_64 test
//! binary) and on every truncation and many corruptions of them.

use super::*;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bin").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_static_aarch64_program() {
    let elf = Elf::parse(&fixture("hello")).unwrap();
    assert_eq!(
        (elf.header.class, elf.header.byte_order, elf.header.kind),
        (Class::Elf64, ByteOrder::Little, Kind::Executable)
    );
    assert_eq!(elf.arch().map(|a| a.platform), Some("arm64"));
    assert!(elf.is_static() && elf.interpreter.is_none() && elf.needed.is_empty());
}

#[test]
fn a_static_pie_has_a_dynamic_section_and_no_loader() {
    let elf = Elf::parse(&fixture("hello_pie")).unwrap();
    assert_eq!(elf.header.kind, Kind::Shared);
    assert!(elf.dynamic && elf.is_static());
}

#[test]
fn a_dynamic_aarch64_program() {
    let elf = Elf::parse(&fixture("hello_dynamic")).unwrap();
    assert_eq!(elf.interpreter.as_deref(), Some("/lib/ld-linux-aarch64.so.1"));
    assert_eq!(elf.needed, ["libc.so.6"]);
    assert!(!elf.is_static() && elf.dynamic);
    assert!(Arch::find("arm64").unwrap().loaders.contains(&elf.interpreter.as_deref().unwrap()));
}

#[test]
fn this_test_program_is_the_hosts() {
    let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let elf = Elf::parse(&me).unwrap();
    let host = if cfg!(target_arch = "x86_64") { "amd64" } else { "arm64" };
    assert_eq!(elf.arch().map(|a| a.platform), Some(host));
    if let Some(loader) = &elf.interpreter {
        assert!(Arch::host().loaders.contains(&loader.as_str()), "{loader}");
        assert!(elf.needed.iter().any(|n| n.starts_with("libc.so")), "{:?}", elf.needed);
    }
}

/// A 32-bit big-endian ELF with a dynamic section, written by hand: header, PT_LOAD,
/// PT_INTERP, PT_DYNAMIC, then the strings.
fn big_endian_32() -> Vec<u8> {
    let mut b = vec![0u8; 0x200];
    b[..4].copy_from_slice(MAGIC);
    b[4] = 1; // ELFCLASS32
    b[5] = 2; // big-endian
    let put16 = |b: &mut Vec<u8>, at: usize, v: u16| b[at..at + 2].copy_from_slice(&v.to_be_bytes());
    let put32 = |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_be_bytes());
    put16(&mut b, 16, 3); // ET_DYN
    put16(&mut b, 18, 22); // EM_S390 (32-bit: no table row)
    put32(&mut b, 28, 0x34); // e_phoff
    put16(&mut b, 42, 32); // e_phentsize
    put16(&mut b, 44, 3); // e_phnum
    let phdr = |b: &mut Vec<u8>, i: usize, kind: u32, offset: u32, vaddr: u32, size: u32| {
        let at = 0x34 + 32 * i;
        put32(b, at, kind);
        put32(b, at + 4, offset);
        put32(b, at + 8, vaddr);
        put32(b, at + 16, size);
    };
    phdr(&mut b, 0, PT_LOAD, 0, 0x1000, 0x200);
    phdr(&mut b, 1, PT_INTERP, 0x100, 0x1100, 12);
    phdr(&mut b, 2, PT_DYNAMIC, 0x120, 0x1120, 5 * 8);
    b[0x100..0x10c].copy_from_slice(b"/lib/ld.so\0\0");
    let strings = b"\0libm.so.6\0/opt/a:/opt/b\0";
    b[0x180..0x180 + strings.len()].copy_from_slice(strings);
    let dynamic = [(DT_NEEDED, 1u32), (DT_STRTAB, 0x1180), (DT_STRSZ, strings.len() as u32), (DT_RUNPATH, 11), (0, 0)];
    for (i, (tag, value)) in dynamic.iter().enumerate() {
        put32(&mut b, 0x120 + 8 * i, *tag as u32);
        put32(&mut b, 0x124 + 8 * i, *value);
    }
    b
}

#[test]
fn a_hand_written_32_bit_big_endian_library() {
    let elf = Elf::parse(&big_endian_32()).unwrap();
    assert_eq!((elf.header.class, elf.header.byte_order, elf.header.machine), (Class::Elf32, ByteOrder::Big, 22));
    assert_eq!(elf.interpreter.as_deref(), Some("/lib/ld.so"));
    assert_eq!(elf.needed, ["libm.so.6"]);
    assert_eq!(elf.runpath, ["/opt/a", "/opt/b"]);
    assert_eq!(elf.library_path(), ["/opt/a", "/opt/b"]);
    assert_eq!(elf.arch(), None);
}

#[test]
fn not_elf_and_bad_identification() {
    assert_eq!(Elf::parse(b"#!/bin/sh\n"), Err(ElfError::NotElf));
    assert_eq!(Elf::parse(b""), Err(ElfError::NotElf));
    let mut bad_class = fixture("hello")[..64].to_vec();
    bad_class[4] = 9;
    assert!(matches!(Elf::parse(&bad_class), Err(ElfError::Malformed(_))));
}

#[test]
fn every_truncation_is_an_error_or_a_smaller_answer_never_a_panic() {
    for bytes in [fixture("hello_dynamic"), big_endian_32()] {
        let whole = Elf::parse(&bytes).unwrap();
        for len in 0..bytes.len().min(20_000) {
            if let Ok(partial) = Elf::parse(&bytes[..len]) {
                assert_eq!(partial.header, whole.header);
            }
        }
    }
}

#[test]
fn corrupted_headers_never_panic() {
    // A deterministic walk over single-byte corruptions of the headers and the dynamic
    // section: every result is a value or an error.
    let original = big_endian_32();
    for at in 0..0x1a0 {
        for value in [0u8, 1, 0x7f, 0x80, 0xff] {
            let mut bytes = original.clone();
            bytes[at] = value;
            let _ = Elf::parse(&bytes);
        }
    }
    let dynamic = fixture("hello_dynamic");
    for at in (0..dynamic.len().min(4096)).step_by(3) {
        let mut bytes = dynamic.clone();
        bytes[at] ^= 0xff;
        let _ = Elf::parse(&bytes);
    }
}

#[test]
fn the_header_alone_from_the_first_bytes() {
    let bytes = fixture("hello_dynamic");
    let header = Header::parse(&bytes[..HEADER_PREFIX]).unwrap();
    assert_eq!(header.arch().map(|a| a.kernel), Some("aarch64"));
    assert!(header.is_executable_kind());
    assert_eq!(Header::parse(&bytes[..10]), Err(ElfError::Truncated("the ELF header")));
}
