//! Tar entry headers as archway writes them, for layers and for archives alike: the
//! PAX format, as BuildKit and containerd write it (Go's `archive/tar` in `FormatPAX`):
//! a ustar header, preceded by a PAX extended header (`x`) when something does not fit
//! it: a name or link target longer than 100 bytes or not ASCII (`path`, `linkpath`), an
//! owner above 7 octal digits (`uid`, `gid`), a time before 1970 or after 2242 (`mtime`),
//! extended attributes (`SCHILY.xattr.NAME`).
//!
//! Every header is a function of the entry alone: no user or group names, no access or
//! change times, whole-second modification times, records sorted by key. Sizes stay in
//! the ustar field (octal, and base-256 from 8 GiB on, which GNU tar, Go and the tar
//! crate all read), so the header of an entry has the same length whatever its size; an
//! archive can write it before it knows the size and overwrite it afterwards.

use tar::{EntryType, Header};

/// Tar's block size: headers are one block, data is padded to a whole block.
pub const BLOCK: usize = 512;

/// Largest values of the ustar header's 8-byte (owner) and 12-byte (time) octal fields.
const OCTAL_8_MAX: u64 = 0o7777777;
const OCTAL_12_MAX: u64 = 0o77777777777;
/// The longest name and link target the ustar header holds.
const NAME_FIELD: usize = 100;

/// What an entry is, and its ustar type flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    HardLink,
    Symlink,
    Char,
    Block,
    Dir,
    Fifo,
}

impl EntryKind {
    fn type_flag(self) -> EntryType {
        match self {
            EntryKind::File => EntryType::Regular,
            EntryKind::HardLink => EntryType::Link,
            EntryKind::Symlink => EntryType::Symlink,
            EntryKind::Char => EntryType::Char,
            EntryKind::Block => EntryType::Block,
            EntryKind::Dir => EntryType::Directory,
            EntryKind::Fifo => EntryType::Fifo,
        }
    }
}

/// One entry's header fields.
#[derive(Debug, Clone)]
pub struct EntryHeader<'a> {
    /// Relative, `/`-separated, without `./` or a trailing `/` (directories get one).
    pub path: &'a [u8],
    pub kind: EntryKind,
    /// The target of a symbolic or hard link (empty otherwise).
    pub link: &'a [u8],
    /// Permission, set-id and sticky bits.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Seconds since the epoch.
    pub mtime: i64,
    /// Bytes of data that follow (regular files only).
    pub size: u64,
    /// Major and minor numbers of a device.
    pub device: (u32, u32),
    /// Extended attributes, sorted by name.
    pub xattrs: &'a [(Vec<u8>, Vec<u8>)],
}

impl<'a> EntryHeader<'a> {
    /// A header for `path` of `kind` owned by root, mode `mode`, time 0, no data.
    pub fn new(path: &'a [u8], kind: EntryKind, mode: u32) -> EntryHeader<'a> {
        EntryHeader { path, kind, link: b"", mode, uid: 0, gid: 0, mtime: 0, size: 0, device: (0, 0), xattrs: &[] }
    }

    /// The header blocks: a PAX extended header with its records when needed, then the
    /// ustar header.
    pub fn encode(&self) -> Vec<u8> {
        let mut name = self.path.to_vec();
        if self.kind == EntryKind::Dir {
            name.push(b'/');
        }
        let mut records: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        if !fits(&name) {
            records.push((b"path".to_vec(), name.clone()));
        }
        if !fits(self.link) {
            records.push((b"linkpath".to_vec(), self.link.to_vec()));
        }
        if self.uid > OCTAL_8_MAX {
            records.push((b"uid".to_vec(), self.uid.to_string().into_bytes()));
        }
        if self.gid > OCTAL_8_MAX {
            records.push((b"gid".to_vec(), self.gid.to_string().into_bytes()));
        }
        if self.mtime < 0 || self.mtime as u64 > OCTAL_12_MAX {
            records.push((b"mtime".to_vec(), self.mtime.to_string().into_bytes()));
        }
        for (key, value) in self.xattrs {
            records.push(([b"SCHILY.xattr.".as_slice(), key].concat(), value.clone()));
        }
        records.sort();

        let mut out = Vec::with_capacity(BLOCK);
        if !records.is_empty() {
            let data: Vec<u8> = records.iter().flat_map(|(key, value)| pax_record(key, value)).collect();
            let base = name.rsplit(|b| *b == b'/').find(|part| !part.is_empty()).unwrap_or(b"");
            let pax_name = [b"PaxHeaders.0/".as_slice(), base].concat();
            let mut pax = ustar(&pax_name, EntryType::XHeader, 0o644);
            pax.set_size(data.len() as u64);
            pax.set_cksum();
            out.extend_from_slice(pax.as_bytes());
            out.extend_from_slice(&data);
            out.resize(out.len().next_multiple_of(BLOCK), 0);
        }

        let mut header = ustar(&name, self.kind.type_flag(), self.mode);
        if let Some(fields) = header.as_ustar_mut() {
            put_truncated(&mut fields.linkname, self.link);
        }
        header.set_uid(self.uid);
        header.set_gid(self.gid);
        header.set_mtime(u64::try_from(self.mtime).unwrap_or(0));
        header.set_size(self.size);
        if matches!(self.kind, EntryKind::Char | EntryKind::Block) {
            // Linux device numbers (12-bit major, 20-bit minor) always fit the fields.
            let _ = header.set_device_major(self.device.0);
            let _ = header.set_device_minor(self.device.1);
        }
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out
    }
}

/// Zero bytes that pad `size` bytes of data to a whole block.
pub fn padding(size: u64) -> usize {
    (BLOCK - (size % BLOCK as u64) as usize) % BLOCK
}

/// Whether `text` can stand in a ustar name field as it is.
fn fits(text: &[u8]) -> bool {
    text.len() <= NAME_FIELD && text.is_ascii()
}

/// A ustar header named `name` (its ASCII bytes, cut at 100: the real name is in a PAX
/// record when it does not fit), of type `kind` and mode `mode`.
fn ustar(name: &[u8], kind: EntryType, mode: u32) -> Header {
    let mut header = Header::new_ustar();
    if let Some(fields) = header.as_ustar_mut() {
        put_truncated(&mut fields.name, name);
    }
    header.set_entry_type(kind);
    header.set_mode(mode & 0o7777);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(0);
    header
}

fn put_truncated(field: &mut [u8; NAME_FIELD], text: &[u8]) {
    for (slot, byte) in field.iter_mut().zip(text.iter().filter(|b| b.is_ascii() && **b != 0)) {
        *slot = *byte;
    }
}

/// One PAX record: `LEN KEY=VALUE\n`, where LEN counts the whole record, itself too.
fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = rest + rest.to_string().len();
    if len.to_string().len() + rest != len {
        len = rest + len.to_string().len();
    }
    [len.to_string().as_bytes(), b" ", key, b"=", value, b"\n"].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn pax_record_lengths_count_themselves() {
        assert_eq!(pax_record(b"path", b"a"), b"9 path=a\n");
        assert_eq!(pax_record(b"path", b"abc"), b"12 path=abc\n");
        // 4 + 90 + 3 = 97 bytes plus 2 digits = 99.
        let record = pax_record(b"path", &[b'x'; 90]);
        assert_eq!(record.len(), 99);
        assert!(record.starts_with(b"99 "));
        // 98 bytes plus 2 digits would be 100, which takes 3 digits: 101.
        let record = pax_record(b"path", &[b'x'; 91]);
        assert_eq!(record.len(), 101);
        assert!(record.starts_with(b"101 "));
    }

    /// An entry as the tar crate reads it: path, link, uid, mtime, and xattrs.
    type ReadBack = (String, String, u64, u64, Vec<(String, Vec<u8>)>);

    /// The entries the tar crate reads from `blocks` (+ end of archive).
    fn read_back(mut blocks: Vec<u8>) -> Vec<ReadBack> {
        blocks.extend_from_slice(&[0; 2 * BLOCK]);
        let mut archive = tar::Archive::new(&blocks[..]);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let xattrs = entry
                    .pax_extensions()
                    .unwrap()
                    .map(|records| {
                        records
                            .map(|r| r.unwrap())
                            .filter(|r| r.key().unwrap().starts_with("SCHILY.xattr."))
                            .map(|r| (r.key().unwrap()["SCHILY.xattr.".len()..].to_string(), r.value_bytes().to_vec()))
                            .collect()
                    })
                    .unwrap_or_default();
                let path = String::from_utf8(entry.path_bytes().to_vec()).unwrap();
                let link = entry.link_name_bytes().map(|l| String::from_utf8(l.to_vec()).unwrap()).unwrap_or_default();
                let header = entry.header();
                let (uid, mtime) = (header.uid().unwrap(), header.mtime().unwrap());
                entry.read_to_end(&mut Vec::new()).unwrap();
                (path, link, uid, mtime, xattrs)
            })
            .collect()
    }

    #[test]
    fn short_entries_are_one_ustar_block() {
        let header = EntryHeader { uid: 1000, mtime: 1_700_000_000, ..EntryHeader::new(b"etc", EntryKind::Dir, 0o755) };
        let bytes = header.encode();
        assert_eq!(bytes.len(), BLOCK);
        assert_eq!(&bytes[257..265], b"ustar\x0000");
        assert_eq!(&bytes[265..265 + 64], &[0u8; 64], "no user or group names");
        assert_eq!(read_back(bytes), [("etc/".to_string(), String::new(), 1000, 1_700_000_000, vec![])]);
    }

    #[test]
    fn long_names_big_owners_and_xattrs_go_to_pax_records() {
        let name = "d/".repeat(80) + "file";
        let target = "t".repeat(150);
        let xattrs = [(b"user.test".to_vec(), b"value\0with nul".to_vec())];
        let header = EntryHeader {
            link: target.as_bytes(),
            uid: 5_000_000,
            xattrs: &xattrs,
            ..EntryHeader::new(name.as_bytes(), EntryKind::Symlink, 0o777)
        };
        let bytes = header.encode();
        assert_eq!(bytes[156], b'x');
        let read = read_back(bytes);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].0, name);
        assert_eq!(read[0].1, target);
        assert_eq!(read[0].2, 5_000_000);
        assert_eq!(read[0].4, [("user.test".to_string(), b"value\0with nul".to_vec())]);
    }
}
