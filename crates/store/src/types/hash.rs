//! Hash values.
//!
//! Fields live in one vector in the order Redis's listpack keeps them
//! (insertion order, updates in place), so a small hash answers HGETALL,
//! HKEYS and HSCAN in the same order as Redis 7.0. A small hash is searched
//! linearly, like a listpack; once it is large (or holds a long field or
//! value) it gains a field → position index for good, and deletion becomes a
//! swap with the last field. Positions make HRANDFIELD O(1) per pick and give
//! HSCAN a stable cursor (see [`Hash::scan`]).

use crate::value::alloc_size;
use bytes::Bytes;
use hashbrown::HashMap;
use rand::seq::index;
use rand::Rng;

/// Field/value pairs. Redis 7.0 keeps small hashes as a listpack and
/// converts to a hashtable for good once one is large.
#[derive(Debug, Clone, Default)]
pub struct Hash {
    pairs: Vec<(Bytes, Bytes)>,
    /// Field → position in `pairs`; present once the hash is a hashtable
    /// (sticky: Redis never converts back).
    index: Option<HashMap<Bytes, usize>>,
    /// Bytes held by the pairs (and the index), kept up to date on every change.
    bytes: usize,
}

/// Redis's hash-max-listpack-entries / hash-max-listpack-value defaults.
pub const LISTPACK_MAX_ENTRIES: usize = 512;
pub const LISTPACK_MAX_VALUE: usize = 64;

/// Bytes one index slot costs (key handle, position, table spare room).
const INDEX_COST: usize = 48;

fn pair_cost(f: &[u8], v: &[u8]) -> usize {
    alloc_size(f.len()) + alloc_size(v.len()) + 72
}

impl PartialEq for Hash {
    /// Same fields with the same values, whatever their order.
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.pairs.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn mem_bytes(&self) -> usize {
        self.bytes + 48
    }

    pub fn encoding(&self) -> &'static str {
        if self.index.is_some() {
            "hashtable"
        } else {
            "listpack"
        }
    }

    fn position(&self, field: &[u8]) -> Option<usize> {
        match &self.index {
            Some(ix) => ix.get(field).copied(),
            None => self.pairs.iter().position(|(f, _)| f.as_ref() == field),
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&Bytes> {
        self.position(field).map(|i| &self.pairs[i].1)
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.position(field).is_some()
    }

    /// Converts to the hashtable encoding (one-way).
    fn make_big(&mut self) {
        if self.index.is_none() {
            let ix: HashMap<Bytes, usize> = self.pairs.iter().enumerate().map(|(i, (f, _))| (f.clone(), i)).collect();
            self.bytes += INDEX_COST * ix.len();
            self.index = Some(ix);
        }
    }

    /// Sets a field; returns true when it is new.
    pub fn insert(&mut self, field: Bytes, value: Bytes) -> bool {
        if field.len() > LISTPACK_MAX_VALUE || value.len() > LISTPACK_MAX_VALUE {
            self.make_big();
        }
        if let Some(i) = self.position(&field) {
            let slot = &mut self.pairs[i].1;
            self.bytes = self.bytes + pair_cost(&field, &value) - pair_cost(&field, slot);
            *slot = value;
            return false;
        }
        self.bytes += pair_cost(&field, &value);
        if let Some(ix) = &mut self.index {
            ix.insert(field.clone(), self.pairs.len());
            self.bytes += INDEX_COST;
        }
        self.pairs.push((field, value));
        if self.pairs.len() > LISTPACK_MAX_ENTRIES {
            self.make_big();
        }
        true
    }

    /// Removes a field, returning its value.
    pub fn remove(&mut self, field: &[u8]) -> Option<Bytes> {
        let i = self.position(field)?;
        Some(self.remove_at(i).1)
    }

    fn remove_at(&mut self, i: usize) -> (Bytes, Bytes) {
        let (f, v) = match &mut self.index {
            // A listpack deletes in place: the others keep their order.
            None => self.pairs.remove(i),
            Some(ix) => {
                let (f, v) = self.pairs.swap_remove(i);
                ix.remove(&f);
                if let Some((moved, _)) = self.pairs.get(i) {
                    ix.insert(moved.clone(), i);
                }
                self.bytes -= INDEX_COST;
                (f, v)
            }
        };
        self.bytes -= pair_cost(&f, &v);
        (f, v)
    }

    /// Pairs in the hash's order (insertion order while it is a listpack).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Bytes, &Bytes)> {
        self.pairs.iter().map(|(f, v)| (f, v))
    }

    /// The pair at position `i` of [`Hash::iter`]'s order.
    pub fn get_index(&self, i: usize) -> Option<(&Bytes, &Bytes)> {
        self.pairs.get(i).map(|(f, v)| (f, v))
    }

    /// One pair drawn at random.
    pub fn random(&self) -> Option<(&Bytes, &Bytes)> {
        if self.is_empty() {
            return None;
        }
        self.get_index(rand::thread_rng().gen_range(0..self.len()))
    }

    /// `count` pairs drawn independently (repeats possible); none when empty.
    pub fn random_with_repeats(&self, count: usize) -> Vec<(&Bytes, &Bytes)> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut rng = rand::thread_rng();
        (0..count).filter_map(|_| self.get_index(rng.gen_range(0..self.len()))).collect()
    }

    /// `min(count, len)` distinct pairs. When that is every pair they come in
    /// the hash's own order (as Redis answers), otherwise in random order.
    pub fn random_distinct(&self, count: usize) -> Vec<(&Bytes, &Bytes)> {
        if count >= self.len() {
            return self.iter().collect();
        }
        index::sample(&mut rand::thread_rng(), self.len(), count).into_iter().filter_map(|i| self.get_index(i)).collect()
    }

    /// One step of an HSCAN-style iteration. Cursor 0 starts; the returned
    /// cursor is 0 when the iteration is complete.
    ///
    /// A listpack hash is returned whole in one step (as Redis does). A
    /// hashtable is walked by position from the end towards the start: the
    /// cursor is the number of positions still to visit. Deletion moves the
    /// last pair into the hole, i.e. from the visited part (or, once all of
    /// that part is gone, from within the unvisited one) into its own part
    /// or the unvisited one, and insertion appends, so every field present
    /// during the whole iteration is returned at least once.
    pub fn scan(&self, cursor: u64, count: usize, mut emit: impl FnMut(&Bytes, &Bytes)) -> u64 {
        if self.index.is_none() {
            self.pairs.iter().for_each(|(f, v)| emit(f, v));
            return 0;
        }
        let (window, next) = super::scan_window(cursor, count, self.len());
        for (f, v) in self.pairs[window].iter().rev() {
            emit(f, v);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{HashMap as StdMap, HashSet};

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn listpack_keeps_insertion_order() {
        let mut h = Hash::new();
        for f in ["c", "a", "b"] {
            assert!(h.insert(b(f), b("1")));
        }
        assert!(!h.insert(b("a"), b("2")));
        h.remove(b"c");
        h.insert(b("c"), b("3"));
        let fields: Vec<&[u8]> = h.iter().map(|(f, _)| f.as_ref()).collect();
        assert_eq!(fields, vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(h.get(b"a"), Some(&b("2")));
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn conversion_is_sticky() {
        let mut h = Hash::new();
        h.insert(b("f"), Bytes::from(vec![b'x'; 65]));
        assert_eq!(h.encoding(), "hashtable");
        h.remove(b"f");
        h.insert(b("f"), b("v"));
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        for i in 0..=LISTPACK_MAX_ENTRIES {
            assert_eq!(h.encoding(), "listpack");
            h.insert(Bytes::from(i.to_string()), b("v"));
        }
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn random_picks() {
        let mut h = Hash::new();
        assert!(h.random().is_none());
        assert!(h.random_with_repeats(5).is_empty());
        for i in 0..10 {
            h.insert(Bytes::from(i.to_string()), b("v"));
        }
        assert_eq!(h.random_with_repeats(25).len(), 25);
        let d = h.random_distinct(7);
        assert_eq!(d.len(), 7);
        assert_eq!(d.iter().map(|(f, _)| *f).collect::<HashSet<_>>().len(), 7);
        let all: Vec<_> = h.random_distinct(usize::MAX).into_iter().map(|(f, _)| f.clone()).collect();
        assert_eq!(all, h.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u8),
        Long(u16),
        Remove(u16),
        ScanStep(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (0u16..800, any::<u8>()).prop_map(|(f, v)| Op::Insert(f, v)),
            1 => (0u16..800).prop_map(Op::Long),
            3 => (0u16..800).prop_map(Op::Remove),
            1 => (1usize..20).prop_map(Op::ScanStep),
        ]
    }

    fn field(f: u16) -> Bytes {
        Bytes::from(format!("field:{f}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec(op(), 0..600)) {
            let mut h = Hash::new();
            let mut model: StdMap<Bytes, Bytes> = StdMap::new();
            let mut big = false;
            for o in ops {
                match o {
                    Op::Insert(f, v) => {
                        let v = Bytes::from(vec![v; (v % 8) as usize]);
                        prop_assert_eq!(h.insert(field(f), v.clone()), model.insert(field(f), v).is_none());
                    }
                    Op::Long(f) => {
                        let v = Bytes::from(vec![b'L'; 65 + (f % 100) as usize]);
                        prop_assert_eq!(h.insert(field(f), v.clone()), model.insert(field(f), v).is_none());
                        big = true;
                    }
                    Op::Remove(f) => prop_assert_eq!(h.remove(&field(f)), model.remove(&field(f))),
                    Op::ScanStep(n) => {
                        // A full iteration sees every field (nothing changes meanwhile).
                        let mut seen = HashSet::new();
                        let mut c = 0;
                        loop {
                            c = h.scan(c, n, |f, v| {
                                assert_eq!(model.get(f), Some(v));
                                seen.insert(f.clone());
                            });
                            if c == 0 { break; }
                        }
                        prop_assert_eq!(seen.len(), model.len());
                    }
                }
                big |= model.len() > LISTPACK_MAX_ENTRIES;
                prop_assert_eq!(h.encoding(), if big { "hashtable" } else { "listpack" });
                prop_assert_eq!(h.len(), model.len());
                prop_assert!(h.mem_bytes() >= 48);
            }
            for (f, v) in &model {
                prop_assert_eq!(h.get(f), Some(v));
            }
            prop_assert_eq!(h.iter().count(), model.len());
            let keys: Vec<Bytes> = model.keys().cloned().collect();
            for f in keys {
                prop_assert_eq!(h.remove(&f), model.remove(&f));
            }
            prop_assert!(h.is_empty());
            prop_assert_eq!(h.mem_bytes(), Hash::new().mem_bytes());
        }

        /// Fields present for a whole HSCAN are returned even while other
        /// fields come and go between the steps.
        #[test]
        fn scan_survives_changes(
            n in 520usize..700,
            steps in proptest::collection::vec((1usize..30, proptest::collection::vec((any::<bool>(), 0usize..400), 0..10)), 1..100),
        ) {
            let mut h = Hash::new();
            for i in 0..n {
                h.insert(Bytes::from(format!("stable:{i}")), Bytes::new());
            }
            let mut seen = HashSet::new();
            let mut c = 0;
            let mut steps = steps.into_iter();
            loop {
                let (count, changes) = steps.next().unwrap_or((50, vec![]));
                c = h.scan(c, count, |f, _| { seen.insert(f.clone()); });
                if c == 0 { break; }
                for (add, k) in changes {
                    let f = Bytes::from(format!("churn:{k}"));
                    if add { h.insert(f, Bytes::new()); } else { h.remove(&f); }
                }
            }
            for i in 0..n {
                let f = Bytes::from(format!("stable:{i}"));
                prop_assert!(seen.contains(&f));
            }
        }
    }
}
