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
    if let Some(open) = find_byte(key, b'{') {
        if let Some(len) = find_byte(&key[open + 1..], b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// The index of the first `byte` in `hay`, eight bytes per step: most keys
/// have no hash tag, so the whole key is searched for a `{`, and a byte loop
/// (or a call into a general search routine) cost as much as the CRC itself.
fn find_byte(hay: &[u8], byte: u8) -> Option<usize> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = hay.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        // A zero byte in `x` marks a match; the lowest flagged byte is exact
        // (borrows only run towards higher bytes).
        let x = u64::from_le_bytes(w.try_into().expect("8-byte chunk")) ^ (LOW * byte as u64);
        let found = x.wrapping_sub(LOW) & !x & HIGH;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words.remainder().iter().position(|&b| b == byte).map(|p| at + p)
}

/// CRC16-XMODEM lookup tables: `TABLES[k][b]` is the CRC register after byte
/// `b` followed by `k` zero bytes, from a zero register. Eight of them let
/// the loop below fold eight bytes per step ("slicing by 8"); the plain
/// byte-at-a-time loop was the largest single user-space cost at high
/// pipeline depth, since every command hashes its keys.
const TABLES: [[u16; 256]; 8] = {
    let mut t = [[0u16; 256]; 8];
    let mut b = 0;
    while b < 256 {
        let mut c = (b as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x8000 != 0 { (c << 1) ^ 0x1021 } else { c << 1 };
            bit += 1;
        }
        t[0][b] = c;
        b += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut b = 0;
        while b < 256 {
            let prev = t[k - 1][b];
            t[k][b] = (prev << 8) ^ t[0][(prev >> 8) as usize];
            b += 1;
        }
        k += 1;
    }
    t
};

/// CRC16-XMODEM of `data` (polynomial 0x1021, zero initial value, no reflection).
pub fn crc16_xmodem(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let x0 = c[0] ^ (crc >> 8) as u8;
        let x1 = c[1] ^ crc as u8;
        crc = TABLES[7][x0 as usize]
            ^ TABLES[6][x1 as usize]
            ^ TABLES[5][c[2] as usize]
            ^ TABLES[4][c[3] as usize]
            ^ TABLES[3][c[4] as usize]
            ^ TABLES[2][c[5] as usize]
            ^ TABLES[1][c[6] as usize]
            ^ TABLES[0][c[7] as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc << 8) ^ TABLES[0][((crc >> 8) as u8 ^ b) as usize];
    }
    crc
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
    fn matches_the_crc16_crate() {
        // Every length up to 40 (all tail lengths, several 8-byte steps), varied content.
        let mut data = Vec::new();
        for n in 0..40u32 {
            assert_eq!(crc16_xmodem(&data), crc16::State::<crc16::XMODEM>::calculate(&data), "length {n}");
            data.push((n.wrapping_mul(0x9E37_79B9) >> 13) as u8);
        }
        for key in [&b"key:000000012345"[..], b"", b"\xff\x00\x80", b"user:{1000}:followers"] {
            assert_eq!(crc16_xmodem(key), crc16::State::<crc16::XMODEM>::calculate(key));
        }
    }

    #[test]
    fn find_byte_matches_a_plain_search() {
        let hay: Vec<u8> = (0..70u32).map(|i| [b'a', b'{', b'}', 0x7b ^ 0x80, 0xff, 0][(i * 7 % 11 % 6) as usize]).collect();
        for start in 0..hay.len() {
            for end in start..hay.len() {
                for b in [b'{', b'}', 0xff, 0, b'z'] {
                    let h = &hay[start..end];
                    assert_eq!(find_byte(h, b), h.iter().position(|&c| c == b), "{start}..{end} {b}");
                }
            }
        }
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
