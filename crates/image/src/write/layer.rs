//! Layer blobs from a change list: [`LayerWriter`] takes paths of a root directory (what
//! a step added or changed), whiteouts (what it removed) and opaque markers (directories
//! it emptied and refilled), in any order, and writes one layer blob.
//!
//! The bytes depend on the entries only, never on the order they were added in or on
//! the machine: entries are sorted by path component by component (a directory before
//! what is in it; in a directory, its opaque marker first, then whiteouts, then the rest,
//! as `layer.md` asks whiteouts to come before their siblings), headers are PAX without
//! owner names, access or change times ([`super::tar_entry`]), modification times later
//! than `SOURCE_DATE_EPOCH` are lowered to it (earlier ones are kept, as BuildKit's
//! `rewrite-timestamp` does), whiteouts and opaque markers are empty files of mode 0
//! dated 1970 (as containerd 2 writes them), and the compressors have fixed settings (gzip
//! level 6 with no file name and time 0 in its header; zstd level 3 with a checksum).
//!
//! Regular files with several links that are all in the layer become one file and hard
//! link entries to it (the first path in order holds the data). A file is opened when the
//! blob is written, without following links, and must still be the file that was
//! added, with its size: a file that changed in between is an error naming it.
//!
//! One pass over the entries writes the blob: the tar stream is hashed (the `diff_id`)
//! on its way into the compressor, the compressed bytes are hashed and counted on their
//! way into a temporary file of the blob store, which is named by its digest at the end.

use super::blobs::{descriptor, BlobStore, BlobWriter};
use super::disk::{inspect, DiskEntry, DiskKind};
use super::tar_entry::{padding, EntryHeader, EntryKind, BLOCK};
use crate::digest::Digest;
use crate::error::Error;
use crate::layer::{Compression, OPAQUE, WHITEOUT};
use oci_spec::image::Descriptor;
use sha2::{Digest as _, Sha256};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The gzip level (flate2's default, zlib's 6) and zstd level (zstd's default) of layers.
const GZIP_LEVEL: u32 = 6;
const ZSTD_LEVEL: i32 = 3;

/// Maps the owner a file has on disk to the owner it has in the image: a rootless build
/// sees the files of the image's uid 0 owned by the host id mapped to it.
pub type IdMap = Arc<dyn Fn(u32, u32) -> (u32, u32) + Send + Sync>;

/// How a layer is written.
#[derive(Clone)]
pub struct LayerOptions {
    pub compression: Compression,
    /// `SOURCE_DATE_EPOCH`: modification times later than this are lowered to it.
    pub source_date_epoch: Option<i64>,
    /// Owners on disk to owners in the image (`None`: the same).
    pub id_map: Option<IdMap>,
}

impl Default for LayerOptions {
    /// gzip, times as they are, owners as they are.
    fn default() -> LayerOptions {
        LayerOptions { compression: Compression::Gzip, source_date_epoch: None, id_map: None }
    }
}

/// The OCI media type of a layer compressed with `compression`.
pub fn layer_media_type(compression: Compression) -> &'static str {
    match compression {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

/// A written layer: its descriptor (for the manifest) and the digest of its uncompressed
/// tar (for the config's `rootfs.diff_ids`).
#[derive(Debug, Clone)]
pub struct LayerBlob {
    pub descriptor: Descriptor,
    pub diff_id: Digest,
}

/// Where an entry comes from.
enum Source {
    /// A path of a root directory, as it was when it was added.
    Disk { path: PathBuf, entry: DiskEntry },
    /// A whiteout or opaque marker: an empty file.
    Marker,
}

/// A path's sort key: per component, its rank (opaque marker, whiteout, other) and name.
type SortKey = Vec<(u8, Vec<u8>)>;

fn rank(name: &[u8]) -> u8 {
    if name == OPAQUE.as_bytes() {
        0
    } else if name.starts_with(WHITEOUT.as_bytes()) {
        1
    } else {
        2
    }
}

/// The entries of one layer, written by [`LayerWriter::finish`].
pub struct LayerWriter {
    blobs: BlobStore,
    options: LayerOptions,
    /// Sort key -> the entry's tar path and source.
    entries: BTreeMap<SortKey, (Vec<u8>, Source)>,
    /// Relative directories already checked to be real directories (not links).
    real_dirs: HashSet<Vec<Vec<u8>>>,
}

/// The components of `relative`, each a plain name (`.` dropped); an error names
/// `relative` if it climbs out or is absolute.
fn components(relative: &Path) -> Result<Vec<Vec<u8>>, Error> {
    relative
        .components()
        .filter(|c| *c != Component::CurDir)
        .map(|c| match c {
            Component::Normal(name) => Ok(name.as_bytes().to_vec()),
            _ => Err(Error::invalid(
                relative.display().to_string(),
                "not a relative path inside the root (absolute, or through ..)",
            )),
        })
        .collect()
}

fn display(parts: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(&parts.join(&b'/')).into_owned()
}

impl LayerWriter {
    /// A layer whose blob will go to `blobs`.
    pub fn new(blobs: &BlobStore, options: LayerOptions) -> LayerWriter {
        LayerWriter { blobs: blobs.clone(), options, entries: BTreeMap::new(), real_dirs: HashSet::new() }
    }

    /// Add path `relative` of directory `root` as it is now (metadata now, contents when
    /// the blob is written). A socket is skipped. Every directory above it must be a real
    /// directory of `root`, not a link to elsewhere.
    pub fn add_path(&mut self, root: &Path, relative: &Path) -> Result<(), Error> {
        let parts = components(relative)?;
        if parts.is_empty() {
            return Err(Error::invalid(root.display().to_string(), "the root directory itself is not a layer entry"));
        }
        if parts.iter().any(|p| p.starts_with(WHITEOUT.as_bytes())) {
            return Err(Error::invalid(
                display(&parts),
                format!("a name starting with {WHITEOUT} would read as a whiteout; it cannot be stored in a layer"),
            ));
        }
        self.check_directories(root, &parts)?;
        let path: PathBuf = parts.iter().fold(root.to_path_buf(), |p, part| p.join(std::ffi::OsStr::from_bytes(part)));
        let Some(mut entry) = inspect(&path)? else { return Ok(()) };
        if let Some(map) = &self.options.id_map {
            (entry.uid, entry.gid) = map(entry.uid, entry.gid);
        }
        self.insert(parts, Source::Disk { path, entry })
    }

    /// Add a whiteout for `relative`: in the image, it and all below it are removed from
    /// the layers below this one.
    pub fn add_whiteout(&mut self, relative: &Path) -> Result<(), Error> {
        let mut parts = components(relative)?;
        match parts.pop() {
            Some(name) if !name.starts_with(WHITEOUT.as_bytes()) => {
                parts.push([WHITEOUT.as_bytes(), &name].concat());
                self.insert(parts, Source::Marker)
            }
            Some(_) => Err(Error::invalid(relative.display().to_string(), "a whiteout of a whiteout name")),
            None => Err(Error::invalid(relative.display().to_string(), "the root cannot be whited out")),
        }
    }

    /// Mark directory `dir` (the root if empty) opaque: what the layers below have in it
    /// is hidden; only what this layer puts there remains.
    pub fn add_opaque(&mut self, dir: &Path) -> Result<(), Error> {
        let mut parts = components(dir)?;
        parts.push(OPAQUE.as_bytes().to_vec());
        self.insert(parts, Source::Marker)
    }

    /// Every directory above `parts` in `root` must be a directory (`lstat`, so a
    /// symbolic link is not one).
    fn check_directories(&mut self, root: &Path, parts: &[Vec<u8>]) -> Result<(), Error> {
        for depth in 1..parts.len() {
            let dir = &parts[..depth];
            if self.real_dirs.contains(dir) {
                continue;
            }
            let path = dir.iter().fold(root.to_path_buf(), |p, part| p.join(std::ffi::OsStr::from_bytes(part)));
            let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
            if !meta.is_dir() {
                return Err(Error::invalid(
                    display(parts),
                    format!("{} is not a directory (a symbolic link?): nothing below it can be added", display(dir)),
                ));
            }
            self.real_dirs.insert(dir.to_vec());
        }
        Ok(())
    }

    fn insert(&mut self, parts: Vec<Vec<u8>>, source: Source) -> Result<(), Error> {
        let path = parts.join(&b'/');
        let key: SortKey = parts.into_iter().map(|p| (rank(&p), p)).collect();
        if self.entries.contains_key(&key) {
            return Err(Error::invalid(String::from_utf8_lossy(&path), "added to the layer twice"));
        }
        self.entries.insert(key, (path, source));
        Ok(())
    }

    /// Write the blob; its descriptor and diff_id.
    pub fn finish(self) -> Result<LayerBlob, Error> {
        let writer = self.blobs.writer()?;
        let location = writer.location().to_path_buf();
        let blob_error = |e: io::Error| Error::io(&location, e);
        let encoder = Encoder::new(self.options.compression, writer).map_err(blob_error)?;
        let mut tar = DiffHasher { inner: encoder, hasher: Sha256::new() };
        let mut first_links: HashMap<(u64, u64), Vec<u8>> = HashMap::new();
        let mut buffer = vec![0u8; 256 << 10];
        for (path, source) in self.entries.values() {
            let Source::Disk { path: source, entry } = source else {
                tar.write_all(&EntryHeader::new(path, EntryKind::File, 0).encode()).map_err(blob_error)?;
                continue;
            };
            let mtime = match self.options.source_date_epoch {
                Some(epoch) if entry.mtime > epoch => epoch,
                _ => entry.mtime,
            };
            // The first path of a file with several links holds its data; the others link to it.
            let link_to = match &entry.kind {
                DiskKind::File { dev, ino, links, .. } if *links > 1 => match first_links.entry((*dev, *ino)) {
                    Entry::Occupied(first) => Some(first.get().clone()),
                    Entry::Vacant(slot) => {
                        slot.insert(path.clone());
                        None
                    }
                },
                _ => None,
            };
            let (header, contents) = disk_header(path, entry, link_to.as_deref(), mtime);
            tar.write_all(&header.encode()).map_err(blob_error)?;
            if let Some(identity) = contents {
                copy_contents(source, identity, header.size, &mut tar, &mut buffer, &location)?;
                tar.write_all(&[0; BLOCK][..padding(header.size)]).map_err(blob_error)?;
            }
        }
        tar.write_all(&[0; 2 * BLOCK]).map_err(blob_error)?;
        let diff_id = Digest::from_hasher(tar.hasher);
        let (digest, size) = tar.inner.finish().map_err(blob_error)?.finish()?;
        Ok(LayerBlob { descriptor: descriptor(layer_media_type(self.options.compression), &digest, size), diff_id })
    }
}

/// The header of disk entry `entry` at `path`, dated `mtime` (a hard link to `link_to` if
/// given), and for a regular file whose data follows, its (dev, inode) to open it by.
fn disk_header<'a>(
    path: &'a [u8],
    entry: &'a DiskEntry,
    link_to: Option<&'a [u8]>,
    mtime: i64,
) -> (EntryHeader<'a>, Option<(u64, u64)>) {
    let mut header = EntryHeader {
        uid: entry.uid.into(),
        gid: entry.gid.into(),
        mtime,
        xattrs: &entry.xattrs,
        ..EntryHeader::new(path, EntryKind::File, entry.mode)
    };
    let mut contents = None;
    match (&entry.kind, link_to) {
        (DiskKind::File { .. }, Some(first)) => {
            header.kind = EntryKind::HardLink;
            header.link = first;
        }
        (DiskKind::File { size, dev, ino, .. }, None) => {
            header.size = *size;
            contents = Some((*dev, *ino));
        }
        (DiskKind::Dir, _) => header.kind = EntryKind::Dir,
        (DiskKind::Symlink(target), _) => {
            header.kind = EntryKind::Symlink;
            header.link = target;
        }
        (DiskKind::Char { major, minor }, _) => {
            header.kind = EntryKind::Char;
            header.device = (*major, *minor);
        }
        (DiskKind::Block { major, minor }, _) => {
            header.kind = EntryKind::Block;
            header.device = (*major, *minor);
        }
        (DiskKind::Fifo, _) => header.kind = EntryKind::Fifo,
    }
    (header, contents)
}

/// Copy the `size` bytes of regular file `source` (still the file `identity` = (dev,
/// inode) it was when added) into `out`.
fn copy_contents(
    source: &Path,
    identity: (u64, u64),
    size: u64,
    out: &mut impl Write,
    buffer: &mut [u8],
    location: &Path,
) -> Result<(), Error> {
    let changed = || Error::invalid(source.display().to_string(), "changed since it was added to the layer");
    let mut file: File =
        OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(source).map_err(|e| Error::io(source, e))?;
    let meta = file.metadata().map_err(|e| Error::io(source, e))?;
    if !meta.is_file() || (meta.dev(), meta.ino()) != identity || meta.len() != size {
        return Err(changed());
    }
    let mut left = size;
    while left > 0 {
        let want = buffer.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = match file.read(&mut buffer[..want]) {
            Ok(0) => return Err(changed()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(source, e)),
        };
        out.write_all(&buffer[..n]).map_err(|e| Error::io(location, e))?;
        left -= n as u64;
    }
    Ok(())
}

/// The uncompressed tar stream on its way to the compressor, hashed.
struct DiffHasher<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for DiffHasher<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The compressor in front of the blob.
enum Encoder {
    Plain(BlobWriter),
    Gzip(flate2::write::GzEncoder<BlobWriter>),
    Zstd(zstd::stream::write::Encoder<'static, BlobWriter>),
}

impl Encoder {
    fn new(compression: Compression, blob: BlobWriter) -> io::Result<Encoder> {
        Ok(match compression {
            Compression::None => Encoder::Plain(blob),
            // GzBuilder's header has no name, time 0 and OS 255 ("unknown").
            Compression::Gzip => {
                Encoder::Gzip(flate2::GzBuilder::new().mtime(0).write(blob, flate2::Compression::new(GZIP_LEVEL)))
            }
            Compression::Zstd => {
                let mut encoder = zstd::stream::write::Encoder::new(blob, ZSTD_LEVEL)?;
                encoder.include_checksum(true)?;
                Encoder::Zstd(encoder)
            }
        })
    }

    /// End the compressed stream; the blob behind it.
    fn finish(self) -> io::Result<BlobWriter> {
        match self {
            Encoder::Plain(blob) => Ok(blob),
            Encoder::Gzip(gzip) => gzip.finish(),
            Encoder::Zstd(zstd) => zstd.finish(),
        }
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Encoder::Plain(blob) => blob,
            Encoder::Gzip(gzip) => gzip,
            Encoder::Zstd(zstd) => zstd,
        }
    }
}

impl Write for Encoder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}

#[cfg(test)]
mod tests;
