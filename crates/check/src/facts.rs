//! What the census keeps of each regular file while the layers stream by: enough to
//! judge it without reading it again. ELF files are read whole (the dynamic section
//! may lie anywhere) up to [`ELF_LIMIT`] and summarised; scripts keep their `#!` line;
//! the few text files the entrypoint chain and payload checks need are kept whole when
//! small; jars are kept whole for the payload check; everything else keeps nothing.

use archway_arch::elf::{self, Elf, Header};
use std::io::{self, Read};

/// The largest ELF file read whole; a larger one is judged by its header alone.
pub const ELF_LIMIT: u64 = 512 << 20;
/// The largest text file kept (ld.so.conf, WHEEL...).
const TEXT_LIMIT: u64 = 1 << 20;
/// The largest jar kept for the payload check.
pub const JAR_LIMIT: u64 = 256 << 20;
/// The longest `#!` line the kernel reads.
const SHEBANG_LIMIT: usize = 256;

/// What is known of one regular file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileFacts {
    /// An ELF file, read whole.
    Elf(Elf),
    /// An ELF file whose header is known but whose rest is not (too large or malformed),
    /// with the reason.
    ElfHeader(Header, String),
    /// A script: its `#!` line, without `#!` and the newline.
    Script(String),
    /// A small text file kept whole (see [`keeps_text`]).
    Text(Vec<u8>),
    /// A jar's bytes.
    Jar(Vec<u8>),
    Other,
}

/// Whether the file at `path` is one the checks read as text: the loader's
/// configuration and Python's wheel metadata.
pub fn keeps_text(path: &str) -> bool {
    path == "etc/ld.so.conf"
        || (path.starts_with("etc/ld.so.conf.d/") && path.ends_with(".conf"))
        || (path.starts_with("etc/ld-musl-") && path.ends_with(".path"))
        || (path.ends_with(".dist-info/WHEEL"))
}

/// Read what to keep of the file at `path` with `size` bytes from `contents`.
pub fn capture(path: &str, size: u64, contents: &mut dyn Read) -> io::Result<FileFacts> {
    let mut head = [0u8; 4];
    let got = read_up_to(contents, &mut head)?;
    let head = &head[..got];
    if elf::is_elf(head) {
        return elf_facts(head, size, contents);
    }
    if head.starts_with(b"#!") {
        let mut line = head[2..].to_vec();
        let mut byte = [0u8; 1];
        while line.len() < SHEBANG_LIMIT && !line.contains(&b'\n') && contents.read(&mut byte)? == 1 {
            line.push(byte[0]);
        }
        let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
        return Ok(FileFacts::Script(String::from_utf8_lossy(&line[..end]).trim().to_string()));
    }
    if (keeps_text(path) && size <= TEXT_LIMIT) || (path.ends_with(".jar") && size <= JAR_LIMIT) {
        let mut bytes = head.to_vec();
        contents.take(size.saturating_sub(head.len() as u64)).read_to_end(&mut bytes)?;
        return Ok(if path.ends_with(".jar") { FileFacts::Jar(bytes) } else { FileFacts::Text(bytes) });
    }
    Ok(FileFacts::Other)
}

fn elf_facts(head: &[u8], size: u64, contents: &mut dyn Read) -> io::Result<FileFacts> {
    if size > ELF_LIMIT {
        let mut prefix = head.to_vec();
        contents.take(elf::HEADER_PREFIX as u64).read_to_end(&mut prefix)?;
        return Ok(match Header::parse(&prefix) {
            Ok(header) => FileFacts::ElfHeader(header, format!("{size} bytes: too large to read its dynamic section")),
            Err(_) => FileFacts::Other,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    bytes.extend_from_slice(head);
    contents.take(size - head.len() as u64).read_to_end(&mut bytes)?;
    Ok(match Elf::parse(&bytes) {
        Ok(elf) => FileFacts::Elf(elf),
        Err(e) => match Header::parse(&bytes) {
            Ok(header) => FileFacts::ElfHeader(header, e.to_string()),
            Err(_) => FileFacts::Other,
        },
    })
}

/// Fill `buf` as far as the reader allows; the number of bytes read.
fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

impl FileFacts {
    /// The ELF header, if this is an ELF file.
    pub fn elf_header(&self) -> Option<&Header> {
        match self {
            FileFacts::Elf(elf) => Some(&elf.header),
            FileFacts::ElfHeader(header, _) => Some(header),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(path: &str, bytes: &[u8]) -> FileFacts {
        capture(path, bytes.len() as u64, &mut &bytes[..]).unwrap()
    }

    #[test]
    fn kinds_of_files() {
        let hello = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/bin/hello_dynamic")).unwrap();
        match facts("usr/bin/hello", &hello) {
            FileFacts::Elf(elf) => assert_eq!(elf.needed, ["libc.so.6"]),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            facts("usr/bin/tool", b"#!/usr/bin/env python3\nprint(1)\n"),
            FileFacts::Script("/usr/bin/env python3".into())
        );
        assert_eq!(facts("x", b"#!/bin/sh"), FileFacts::Script("/bin/sh".into()));
        assert_eq!(
            facts("etc/ld.so.conf", b"include /etc/ld.so.conf.d/*.conf\n"),
            FileFacts::Text(b"include /etc/ld.so.conf.d/*.conf\n".to_vec())
        );
        assert_eq!(facts("etc/motd", b"hello"), FileFacts::Other);
        assert_eq!(facts("empty", b""), FileFacts::Other);
        assert!(matches!(facts("lib/broken.so", &hello[..200]), FileFacts::ElfHeader(..)));
    }
}
