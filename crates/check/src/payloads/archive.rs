//! Zip archives (wheels, jars) read from memory. Every failure is a value, never a
//! panic, and every read is bounded: a header needs a few bytes, and an entry read
//! whole (a nested jar, a `WHEEL` file) must fit a limit the caller sets, so a zip
//! bomb costs at most that much.

use std::fmt;
use std::io::{Cursor, Read};
use zip::ZipArchive;

/// Why an archive, or an entry of one, could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveError {
    /// What went wrong, naming the entry when it is one.
    pub message: String,
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ArchiveError {}

/// A zip archive over bytes in memory.
pub(crate) struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
}

impl<'a> Archive<'a> {
    /// Read the archive's central directory.
    pub(crate) fn open(bytes: &'a [u8]) -> Result<Archive<'a>, ArchiveError> {
        ZipArchive::new(Cursor::new(bytes))
            .map(|zip| Archive { zip })
            .map_err(|e| ArchiveError { message: format!("not a readable zip archive: {e}") })
    }

    /// The files' names with their indexes, in the archive's order (directories,
    /// whose names end in `/`, left out).
    pub(crate) fn files(&self) -> Vec<(usize, String)> {
        (0..self.zip.len())
            .filter_map(|index| Some((index, self.zip.name_for_index(index)?.to_string())))
            .filter(|(_, name)| !name.ends_with('/'))
            .collect()
    }

    /// The first `len` bytes of entry `index` (fewer if it is shorter).
    pub(crate) fn prefix(&mut self, index: usize, len: usize) -> Result<Vec<u8>, ArchiveError> {
        self.read(index, len as u64)
    }

    /// All of entry `index`, which must be at most `limit` bytes long.
    pub(crate) fn whole(&mut self, index: usize, limit: u64) -> Result<Vec<u8>, ArchiveError> {
        // One byte more than the limit tells a file of exactly `limit` from a longer one
        // without trusting the size the directory claims.
        let bytes = self.read(index, limit.saturating_add(1))?;
        if bytes.len() as u64 > limit {
            let name = self.zip.name_for_index(index).unwrap_or("?");
            return Err(ArchiveError { message: format!("{name}: larger than the {limit} bytes read from an entry") });
        }
        Ok(bytes)
    }

    /// Up to `limit` bytes of entry `index`, decompressed.
    fn read(&mut self, index: usize, limit: u64) -> Result<Vec<u8>, ArchiveError> {
        let name = self.zip.name_for_index(index).unwrap_or("?").to_string();
        let error = |e: &dyn fmt::Display| ArchiveError { message: format!("{name}: {e}") };
        let file = self.zip.by_index(index).map_err(|e| error(&e))?;
        let mut bytes = Vec::new();
        file.take(limit).read_to_end(&mut bytes).map_err(|e| error(&e))?;
        Ok(bytes)
    }
}
