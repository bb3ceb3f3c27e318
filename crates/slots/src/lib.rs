//! Hash-slot math shared by every layer that routes keys.
//!
//! Redis Cluster maps a key to one of [`SLOT_COUNT`] slots with CRC16-XMODEM of
//! the key, or of its `{hash tag}` when the key has a non-empty one. redcore uses
//! the same mapping inside a node: the slots are split into contiguous ranges,
//! one per core ([`SlotRanges`]), and a core owns the data of its slots.

use std::ops::Range;

/// Number of hash slots in a Redis Cluster keyspace.
pub const SLOT_COUNT: u16 = 16384;

/// A hash slot, `0..SLOT_COUNT`.
pub type Slot = u16;

/// The part of `key` that is hashed: the content of the first `{...}` when it is
/// non-empty, else the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// CRC16-XMODEM of `data`.
pub fn crc16_xmodem(data: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(data)
}

/// The slot that owns `key`.
pub fn key_slot(key: &[u8]) -> Slot {
    crc16_xmodem(hash_tag(key)) % SLOT_COUNT
}

/// Contiguous split of all slots over `n` owners (cores), balanced by count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRanges {
    /// `starts[i]` is the first slot of owner `i`; owner `i` ends where `i + 1` starts.
    starts: Vec<Slot>,
}

impl SlotRanges {
    /// Splits the slots over `owners` (at least 1, at most `SLOT_COUNT`).
    pub fn split(owners: usize) -> SlotRanges {
        let owners = owners.clamp(1, SLOT_COUNT as usize);
        let total = SLOT_COUNT as usize;
        let starts = (0..owners).map(|i| (i * total / owners) as Slot).collect();
        SlotRanges { starts }
    }

    /// Number of owners.
    pub fn owners(&self) -> usize {
        self.starts.len()
    }

    /// The owner index of `slot`.
    pub fn owner_of(&self, slot: Slot) -> usize {
        // `starts` is sorted and starts at 0, so the partition point is >= 1.
        self.starts.partition_point(|&s| s <= slot) - 1
    }

    /// The slots owned by `owner`.
    pub fn range_of(&self, owner: usize) -> Range<Slot> {
        let start = self.starts[owner];
        let end = self.starts.get(owner + 1).copied().unwrap_or(SLOT_COUNT);
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_vector() {
        assert_eq!(crc16_xmodem(b"123456789"), 0x31C3);
    }

    #[test]
    fn hash_tags() {
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"{user1000}.followers"));
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"{abc"), b"{abc");
        // Known values from the cluster spec / redis-cli CLUSTER KEYSLOT.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
    }

    #[test]
    fn ranges_cover_all_slots() {
        for n in 1..=17 {
            let r = SlotRanges::split(n);
            let mut next = 0;
            for i in 0..r.owners() {
                let range = r.range_of(i);
                assert_eq!(range.start, next);
                assert!(!range.is_empty());
                for s in [range.start, range.end - 1] {
                    assert_eq!(r.owner_of(s), i);
                }
                next = range.end;
            }
            assert_eq!(next, SLOT_COUNT);
        }
    }
}
