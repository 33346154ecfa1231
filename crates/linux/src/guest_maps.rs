//! Which address ranges are the guest's, and the guest's `/proc/self/maps`.
//!
//! Guest memory is host memory, so the host's `/proc/self/maps` mixes the guest's
//! mappings with archway's (its binary, libraries, heap, the JIT's code cache). The
//! loader, the stack builder and the memory system calls record here what they map
//! for the guest ([`GuestRanges`]); the guest's view ([`render`]) is the host's map
//! clipped to those ranges: protections, offsets, devices, inodes and file names come
//! from the host kernel, names of files inside the guest root lose the root prefix,
//! and the guest's stack and `brk` heap are labelled `[stack]` and `[heap]`.
//! The `PROT_NONE` room reserved for `brk` is not shown, as the kernel shows none.

use crate::guest_root;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

/// A set of disjoint, non-adjacent address ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestRanges {
    /// start -> end.
    ranges: BTreeMap<u64, u64>,
}

impl GuestRanges {
    /// Add `[start, end)`, merging with neighbours.
    pub fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut start, mut end) = (start, end);
        let touching: Vec<(u64, u64)> =
            self.ranges.range(..=end).filter(|&(_, &e)| e >= start).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in touching {
            self.ranges.remove(&s);
            start = start.min(s);
            end = end.max(e);
        }
        self.ranges.insert(start, end);
    }

    /// Remove `[start, end)`, splitting ranges that straddle it.
    pub fn remove(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let overlapping: Vec<(u64, u64)> =
            self.ranges.range(..end).filter(|&(_, &e)| e > start).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in overlapping {
            self.ranges.remove(&s);
            if s < start {
                self.ranges.insert(s, start);
            }
            if e > end {
                self.ranges.insert(end, e);
            }
        }
    }

    /// The parts of `[start, end)` inside the set, in order.
    pub fn clip(&self, start: u64, end: u64) -> Vec<Range<u64>> {
        self.ranges
            .range(..end)
            .filter(|&(_, &e)| e > start)
            .map(|(&s, &e)| s.max(start)..e.min(end))
            .filter(|r| !r.is_empty())
            .collect()
    }
}

/// What [`render`] needs besides the host's map.
pub struct MapsView<'a> {
    pub ranges: &'a GuestRanges,
    /// The guest stack.
    pub stack: Range<u64>,
    /// The accessible part of the `brk` heap.
    pub heap: Range<u64>,
    /// The whole `brk` reservation, hidden except for `heap`.
    pub brk_reservation: Range<u64>,
    pub root: Option<&'a Path>,
}

/// The guest's `/proc/self/maps` from the host's `maps` text.
pub fn render(host_maps: &str, view: &MapsView) -> String {
    let mut out = String::new();
    for line in host_maps.lines() {
        let Some(entry) = MapsLine::parse(line) else { continue };
        let mut pieces: Vec<Range<u64>> = view
            .ranges
            .clip(entry.start, entry.end)
            .into_iter()
            .flat_map(|r| subtract(r, &view.brk_reservation))
            .collect();
        pieces.extend(intersect(entry.start..entry.end, &view.heap));
        pieces.sort_by_key(|r| r.start);
        for piece in pieces {
            let name = if is_within(&piece, &view.stack) {
                "[stack]".to_string()
            } else if is_within(&piece, &view.heap) {
                "[heap]".to_string()
            } else if entry.path.starts_with('/') {
                guest_root::guest_view(Path::new(entry.path), view.root).display().to_string()
            } else {
                entry.path.to_string()
            };
            let offset = if entry.inode != "0" { entry.offset + (piece.start - entry.start) } else { entry.offset };
            let head = format!(
                "{:08x}-{:08x} {} {:08x} {} {} ",
                piece.start, piece.end, entry.perms, offset, entry.dev, entry.inode
            );
            if name.is_empty() {
                out.push_str(&head);
            } else {
                // The kernel starts the name at column 73.
                out.push_str(&format!("{head:<73}{name}"));
            }
            out.push('\n');
        }
    }
    out
}

/// One line of `/proc/PID/maps`.
struct MapsLine<'a> {
    start: u64,
    end: u64,
    perms: &'a str,
    offset: u64,
    dev: &'a str,
    inode: &'a str,
    path: &'a str,
}

impl<'a> MapsLine<'a> {
    fn parse(line: &'a str) -> Option<MapsLine<'a>> {
        let mut fields = line.splitn(6, ' ');
        let (start, end) = fields.next()?.split_once('-')?;
        let perms = fields.next()?;
        let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
        let dev = fields.next()?;
        let inode = fields.next()?;
        let path = fields.next().unwrap_or("").trim_start();
        Some(MapsLine {
            start: u64::from_str_radix(start, 16).ok()?,
            end: u64::from_str_radix(end, 16).ok()?,
            perms,
            offset,
            dev,
            inode,
            path,
        })
    }
}

fn is_within(piece: &Range<u64>, outer: &Range<u64>) -> bool {
    outer.start <= piece.start && piece.end <= outer.end && piece.start < piece.end
}

fn intersect(a: Range<u64>, b: &Range<u64>) -> Option<Range<u64>> {
    let r = a.start.max(b.start)..a.end.min(b.end);
    (!r.is_empty()).then_some(r)
}

/// `a` without `b`: zero, one or two ranges.
fn subtract(a: Range<u64>, b: &Range<u64>) -> Vec<Range<u64>> {
    if b.is_empty() || b.end <= a.start || a.end <= b.start {
        return vec![a];
    }
    [a.start..b.start, b.end..a.end].into_iter().filter(|r| !r.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_split_and_clip() {
        let mut set = GuestRanges::default();
        set.insert(0x1000, 0x3000);
        set.insert(0x3000, 0x4000);
        set.insert(0x8000, 0x9000);
        assert_eq!(set.clip(0, u64::MAX), vec![0x1000..0x4000, 0x8000..0x9000]);
        set.remove(0x2000, 0x2800);
        assert_eq!(set.clip(0, u64::MAX), vec![0x1000..0x2000, 0x2800..0x4000, 0x8000..0x9000]);
        assert_eq!(set.clip(0x1800, 0x3000), vec![0x1800..0x2000, 0x2800..0x3000]);
        set.insert(0x0, 0x10000);
        assert_eq!(set.clip(0, u64::MAX), vec![0x0..0x10000]);
        set.remove(0x0, 0x10000);
        assert!(set.clip(0, u64::MAX).is_empty());
    }

    #[test]
    fn only_guest_mappings_are_shown_with_guest_names() {
        let host = "\
00400000-00401000 r-xp 00000000 08:01 42                                 /srv/root/bin/prog
00410000-00412000 rw-p 00000000 00:00 0 
00412000-00512000 ---p 00000000 00:00 0 
555555554000-555555556000 r-xp 00000000 08:01 7                          /usr/bin/archway
7ff000000000-7ff000010000 rw-p 00000000 00:00 0 
7ff000010000-7ff000020000 r-xp 00002000 08:01 43                         /srv/root/lib/libc.so.6
";
        let mut ranges = GuestRanges::default();
        ranges.insert(0x40_0000, 0x51_2000);
        ranges.insert(0x7ff0_0001_0000, 0x7ff0_0002_0000);
        ranges.insert(0x7ff0_0000_8000, 0x7ff0_0001_0000);
        let view = MapsView {
            ranges: &ranges,
            stack: 0x7ff0_0000_8000..0x7ff0_0001_0000,
            heap: 0x41_1000..0x41_2000,
            brk_reservation: 0x41_1000..0x51_2000,
            root: Some(Path::new("/srv/root")),
        };
        let text = render(host, &view);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[0].starts_with("00400000-00401000 r-xp 00000000 08:01 42 "));
        assert!(lines[0].ends_with(" /bin/prog"));
        assert_eq!(lines[0].find("/bin/prog"), Some(73));
        assert_eq!(lines[1], "00410000-00411000 rw-p 00000000 00:00 0 ");
        assert!(lines[2].starts_with("00411000-00412000 rw-p") && lines[2].ends_with(" [heap]"));
        assert!(lines[3].starts_with("7ff000008000-7ff000010000 rw-p") && lines[3].ends_with(" [stack]"));
        assert!(
            lines[4].starts_with("7ff000010000-7ff000020000 r-xp 00002000") && lines[4].ends_with(" /lib/libc.so.6")
        );
        assert!(!text.contains("archway"));
    }
}
