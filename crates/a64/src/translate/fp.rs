//! (being written)
use crate::decode::Entry;
pub const TABLE: &[Entry] = &[];
