//! The fault map: from a host PC in translated code to the guest instruction whose
//! code it is, for turning host faults into precise guest signals ([`crate::fault`]).
//!
//! Each placed block contributes its host address range and the side table the back
//! end built with it ([`crate::backend::CompiledBlock::guest_pcs`]). Blocks are
//! bump-allocated, so ranges are added in address order and a lookup is two binary
//! searches; the map is emptied with the code cache.

/// A placed block's host code and where its guest instructions start in it.
struct HostRange {
    start: usize,
    end: usize,
    /// (offset from `start`, guest PC), in offset order.
    guest_pcs: Box<[(u32, u64)]>,
}

/// Placed blocks by host address.
#[derive(Default)]
pub(crate) struct FaultMap {
    ranges: Vec<HostRange>,
}

impl FaultMap {
    /// Record the block placed at `[start, end)`; it must lie above every block
    /// recorded since the last [`Self::clear`].
    pub(crate) fn insert(&mut self, start: usize, end: usize, guest_pcs: &[(u32, u64)]) {
        debug_assert!(self.ranges.last().is_none_or(|r| r.end <= start));
        self.ranges.push(HostRange { start, end, guest_pcs: guest_pcs.into() });
    }

    /// Forget every block.
    pub(crate) fn clear(&mut self) {
        self.ranges.clear();
    }

    /// The guest PC of the guest instruction whose host code contains `host_pc`.
    pub(crate) fn guest_pc_at(&self, host_pc: usize) -> Option<u64> {
        let k = self.ranges.partition_point(|r| r.start <= host_pc).checked_sub(1)?;
        let range = &self.ranges[k];
        if host_pc >= range.end {
            return None;
        }
        let offset = (host_pc - range.start) as u32;
        let i = range.guest_pcs.partition_point(|&(o, _)| o <= offset).checked_sub(1)?;
        Some(range.guest_pcs[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_pcs_map_to_the_guest_instruction_they_belong_to() {
        let mut map = FaultMap::default();
        map.insert(0x1000, 0x1040, &[(0, 0x40_0000), (0x10, 0x40_0004), (0x30, 0x40_0008)]);
        map.insert(0x1040, 0x1050, &[(4, 0x50_0000)]);
        assert_eq!(map.guest_pc_at(0xfff), None);
        assert_eq!(map.guest_pc_at(0x1000), Some(0x40_0000));
        assert_eq!(map.guest_pc_at(0x100f), Some(0x40_0000));
        assert_eq!(map.guest_pc_at(0x1010), Some(0x40_0004));
        assert_eq!(map.guest_pc_at(0x103f), Some(0x40_0008));
        // Code before a block's first guest instruction (its entry check) has none.
        assert_eq!(map.guest_pc_at(0x1040), None);
        assert_eq!(map.guest_pc_at(0x1044), Some(0x50_0000));
        assert_eq!(map.guest_pc_at(0x1050), None);
        map.clear();
        assert_eq!(map.guest_pc_at(0x1010), None);
    }
}
