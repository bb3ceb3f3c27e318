//! A set of hash slots: the 16384-bit bitmap every node advertises.

use slots::{Slot, SLOT_COUNT};
use std::fmt;

const WORDS: usize = SLOT_COUNT as usize / 64;

/// A set of hash slots (`0..SLOT_COUNT`), stored as a 16384-bit bitmap.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SlotSet {
    words: [u64; WORDS],
    /// Number of set bits, kept up to date (the cluster state is recomputed
    /// after every message and needs the counts).
    len: u16,
}

impl Default for SlotSet {
    fn default() -> Self {
        SlotSet::new()
    }
}

impl SlotSet {
    /// The empty set.
    pub const fn new() -> SlotSet {
        SlotSet {
            words: [0; WORDS],
            len: 0,
        }
    }

    /// Every slot.
    pub fn full() -> SlotSet {
        SlotSet {
            words: [u64::MAX; WORDS],
            len: SLOT_COUNT,
        }
    }

    /// The slots `start..=end` (clamped to the slot space).
    pub fn from_range(start: Slot, end: Slot) -> SlotSet {
        let mut set = SlotSet::new();
        set.insert_range(start, end);
        set
    }

    /// Whether `slot` is in the set (false for out-of-range slots).
    pub fn contains(&self, slot: Slot) -> bool {
        slot < SLOT_COUNT && self.words[slot as usize / 64] & (1 << (slot % 64)) != 0
    }

    /// Adds `slot`; returns whether it was absent. Out-of-range slots are ignored.
    pub fn insert(&mut self, slot: Slot) -> bool {
        if slot >= SLOT_COUNT {
            return false;
        }
        let (w, b) = (slot as usize / 64, 1u64 << (slot % 64));
        let absent = self.words[w] & b == 0;
        self.words[w] |= b;
        self.len += absent as u16;
        absent
    }

    /// Removes `slot`; returns whether it was present.
    pub fn remove(&mut self, slot: Slot) -> bool {
        if slot >= SLOT_COUNT {
            return false;
        }
        let (w, b) = (slot as usize / 64, 1u64 << (slot % 64));
        let present = self.words[w] & b != 0;
        self.words[w] &= !b;
        self.len -= present as u16;
        present
    }

    /// Adds `start..=end` (clamped to the slot space).
    pub fn insert_range(&mut self, start: Slot, end: Slot) {
        let end = end.min(SLOT_COUNT - 1);
        if start > end {
            return;
        }
        // Whole words at a time: decoding a range-encoded slot set is on the
        // path of every received message.
        let (first, last) = (start as usize / 64, end as usize / 64);
        for w in first..=last {
            let lo = if w == first { start as u32 % 64 } else { 0 };
            let hi = if w == last { end as u32 % 64 } else { 63 };
            let width = hi - lo + 1;
            let mask = if width == 64 {
                u64::MAX
            } else {
                ((1u64 << width) - 1) << lo
            };
            self.len += (mask & !self.words[w]).count_ones() as u16;
            self.words[w] |= mask;
        }
    }

    /// Adds every slot of `other`.
    pub fn union_with(&mut self, other: &SlotSet) {
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            self.len += (o & !*w).count_ones() as u16;
            *w |= o;
        }
    }

    /// Removes every slot of `other`.
    pub fn subtract(&mut self, other: &SlotSet) {
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            self.len -= (o & *w).count_ones() as u16;
            *w &= !o;
        }
    }

    /// Whether some slot is in both sets.
    pub fn intersects(&self, other: &SlotSet) -> bool {
        self.words.iter().zip(&other.words).any(|(a, b)| a & b != 0)
    }

    /// The slots in `self` but not in `other`.
    pub fn difference(&self, other: &SlotSet) -> SlotSet {
        let mut out = self.clone();
        out.subtract(other);
        out
    }

    /// Number of slots in the set.
    pub fn count(&self) -> usize {
        self.len as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes every slot.
    pub fn clear(&mut self) {
        self.words = [0; WORDS];
        self.len = 0;
    }

    /// The slots in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = Slot> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros();
                w &= w - 1;
                Some((i * 64) as Slot + bit as Slot)
            })
        })
    }

    /// The set as maximal inclusive ranges `(start, end)`, ascending.
    pub fn ranges(&self) -> Vec<(Slot, Slot)> {
        let mut out: Vec<(Slot, Slot)> = Vec::new();
        for (i, &w) in self.words.iter().enumerate() {
            if w == 0 {
                continue;
            }
            let base = (i * 64) as Slot;
            if w == u64::MAX {
                push_range(&mut out, base, base + 63);
                continue;
            }
            let mut w = w;
            while w != 0 {
                let start = w.trailing_zeros() as Slot;
                let run = (w >> start).trailing_ones() as Slot;
                push_range(&mut out, base + start, base + start + run - 1);
                if start + run >= 64 {
                    break;
                }
                w &= !(((1u64 << run) - 1) << start);
            }
        }
        out
    }

    /// The raw bitmap as 2048 bytes, bit `s % 8` of byte `s / 8` for slot `s`
    /// (Redis's layout of `myslots`).
    pub fn to_bitmap(&self) -> [u8; SLOT_COUNT as usize / 8] {
        let mut out = [0u8; SLOT_COUNT as usize / 8];
        for (i, w) in self.words.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Reads the layout of [`SlotSet::to_bitmap`]; `None` unless `bytes` is 2048 long.
    pub fn from_bitmap(bytes: &[u8]) -> Option<SlotSet> {
        if bytes.len() != SLOT_COUNT as usize / 8 {
            return None;
        }
        let mut set = SlotSet::new();
        for (i, chunk) in bytes.chunks_exact(8).enumerate() {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            set.words[i] = u64::from_le_bytes(word);
        }
        set.len = set.words.iter().map(|w| w.count_ones() as u16).sum();
        Some(set)
    }
}

fn push_range(out: &mut Vec<(Slot, Slot)>, start: Slot, end: Slot) {
    if let Some(last) = out.last_mut() {
        if last.1 + 1 == start {
            last.1 = end;
            return;
        }
    }
    out.push((start, end));
}

impl fmt::Debug for SlotSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SlotSet[")?;
        for (i, (s, e)) in self.ranges().into_iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            if s == e {
                write!(f, "{s}")?;
            } else {
                write!(f, "{s}-{e}")?;
            }
        }
        write!(f, "]")
    }
}

impl FromIterator<Slot> for SlotSet {
    fn from_iter<I: IntoIterator<Item = Slot>>(iter: I) -> Self {
        let mut set = SlotSet::new();
        for s in iter {
            set.insert(s);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn basics() {
        let mut s = SlotSet::new();
        assert!(s.is_empty());
        assert!(s.insert(5));
        assert!(!s.insert(5));
        assert!(s.contains(5));
        assert!(!s.insert(SLOT_COUNT));
        s.insert_range(100, 200);
        assert_eq!(s.count(), 102);
        assert_eq!(s.ranges(), vec![(5, 5), (100, 200)]);
        assert!(s.remove(150));
        assert_eq!(s.ranges(), vec![(5, 5), (100, 149), (151, 200)]);
        assert_eq!(SlotSet::full().ranges(), vec![(0, SLOT_COUNT - 1)]);
        assert_eq!(SlotSet::full().count(), SLOT_COUNT as usize);
        assert_eq!(format!("{:?}", SlotSet::from_range(0, 3)), "SlotSet[0-3]");
    }

    proptest! {
        #[test]
        fn matches_a_btreeset(slots in proptest::collection::vec(0u16..SLOT_COUNT, 0..300), removals in proptest::collection::vec(0u16..SLOT_COUNT, 0..50)) {
            let mut model: BTreeSet<Slot> = slots.iter().copied().collect();
            let mut set: SlotSet = slots.iter().copied().collect();
            for r in removals {
                prop_assert_eq!(set.remove(r), model.remove(&r));
            }
            prop_assert_eq!(set.count(), model.len());
            prop_assert_eq!(set.iter().collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
            let mut from_ranges = SlotSet::new();
            for (s, e) in set.ranges() {
                prop_assert!(s <= e);
                from_ranges.insert_range(s, e);
            }
            prop_assert_eq!(&from_ranges, &set);
            // Maximal ranges: consecutive ranges never touch.
            let r = set.ranges();
            for pair in r.windows(2) {
                prop_assert!(pair[0].1 + 1 < pair[1].0);
            }
            prop_assert_eq!(SlotSet::from_bitmap(&set.to_bitmap()), Some(set.clone()));
            let other: SlotSet = slots.iter().map(|s| s.wrapping_mul(7) % SLOT_COUNT).collect();
            let other_model: BTreeSet<Slot> = other.iter().collect();
            let mut union = set.clone();
            union.union_with(&other);
            prop_assert_eq!(union.iter().collect::<BTreeSet<_>>(), model.union(&other_model).copied().collect::<BTreeSet<_>>());
            prop_assert_eq!(union.count(), model.union(&other_model).count());
            let diff = set.difference(&other);
            prop_assert_eq!(diff.iter().collect::<BTreeSet<_>>(), model.difference(&other_model).copied().collect::<BTreeSet<_>>());
            prop_assert_eq!(diff.count(), model.difference(&other_model).count());
            prop_assert_eq!(set.intersects(&other), model.intersection(&other_model).next().is_some());
        }
    }
}
