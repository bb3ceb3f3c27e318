//! Set values.
//!
//! Members live in one vector. While the set is an intset (only integers, at
//! most 512 of them) the vector is kept in numeric order and searched by
//! bisection, so SMEMBERS and SSCAN answer in Redis's order. Once a member is
//! not an integer or the set grows past the limit it gains a member →
//! position index for good, and deletion becomes a swap with the last
//! member. Positions make SRANDMEMBER and SPOP O(1) per pick and give SSCAN a
//! stable cursor (see [`Set::scan`]).

use crate::value::alloc_size;
use bytes::Bytes;
use hashbrown::HashMap;
use rand::seq::index;
use rand::Rng;

/// A set of binary-safe members. Redis 7.0 keeps a set of integers as an
/// intset up to 512 members, a hashtable otherwise (for good).
#[derive(Debug, Clone, Default)]
pub struct Set {
    members: Vec<Bytes>,
    /// Member → position in `members`; present once the set is a hashtable.
    index: Option<HashMap<Bytes, usize>>,
    /// Bytes held by the members (and the index), kept up to date on every change.
    bytes: usize,
}

/// Redis's set-max-intset-entries default.
pub const INTSET_MAX_ENTRIES: usize = 512;

/// Bytes one index slot costs (key handle, position, table spare room).
const INDEX_COST: usize = 48;

fn member_cost(m: &[u8]) -> usize {
    alloc_size(m.len()) + 40
}

/// The integer an intset would store for `m`: Redis's strict decimal form.
pub fn parse_int(m: &[u8]) -> Option<i64> {
    crate::num::parse_i64(m)
}

impl PartialEq for Set {
    /// Same members, whatever their order.
    fn eq(&self, other: &Set) -> bool {
        self.len() == other.len() && self.members.iter().all(|m| other.contains(m))
    }
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn mem_bytes(&self) -> usize {
        self.bytes + 48
    }

    pub fn encoding(&self) -> &'static str {
        if self.index.is_some() {
            "hashtable"
        } else {
            "intset"
        }
    }

    /// Where `m` is (Ok) or, in an intset, where the integer `n` would go
    /// (Err). Err(None): not there, and not an integer.
    fn position(&self, m: &[u8]) -> Result<usize, Option<(usize, i64)>> {
        match &self.index {
            Some(ix) => ix.get(m).copied().ok_or(None),
            None => {
                let n = parse_int(m).ok_or(None)?;
                // Every member of an intset parses.
                self.members.binary_search_by_key(&n, |x| parse_int(x).unwrap_or(0)).map_err(|at| Some((at, n)))
            }
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.position(m).is_ok()
    }

    /// Converts to the hashtable encoding (one-way).
    fn make_big(&mut self) {
        if self.index.is_none() {
            let ix: HashMap<Bytes, usize> = self.members.iter().enumerate().map(|(i, m)| (m.clone(), i)).collect();
            self.bytes += INDEX_COST * ix.len();
            self.index = Some(ix);
        }
    }

    /// Adds a member; returns true when it is new.
    pub fn insert(&mut self, m: Bytes) -> bool {
        let at = match self.position(&m) {
            Ok(_) => return false,
            Err(at) => at,
        };
        self.bytes += member_cost(&m);
        match at {
            Some((at, _)) if self.members.len() < INTSET_MAX_ENTRIES => self.members.insert(at, m),
            _ => {
                self.make_big();
                if let Some(ix) = &mut self.index {
                    ix.insert(m.clone(), self.members.len());
                    self.bytes += INDEX_COST;
                }
                self.members.push(m);
            }
        }
        true
    }

    /// Removes a member; returns whether it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.position(m) {
            Ok(i) => {
                self.remove_at(i);
                true
            }
            Err(_) => false,
        }
    }

    fn remove_at(&mut self, i: usize) -> Bytes {
        let m = match &mut self.index {
            // An intset stays sorted.
            None => self.members.remove(i),
            Some(ix) => {
                let m = self.members.swap_remove(i);
                ix.remove(&m);
                if let Some(moved) = self.members.get(i) {
                    ix.insert(moved.clone(), i);
                }
                self.bytes -= INDEX_COST;
                m
            }
        };
        self.bytes -= member_cost(&m);
        m
    }

    /// Members in the set's order (numeric while it is an intset).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Bytes> {
        self.members.iter()
    }

    /// The member at position `i` of [`Set::iter`]'s order.
    pub fn get_index(&self, i: usize) -> Option<&Bytes> {
        self.members.get(i)
    }

    /// One member drawn at random.
    pub fn random(&self) -> Option<&Bytes> {
        if self.is_empty() {
            return None;
        }
        self.members.get(rand::thread_rng().gen_range(0..self.len()))
    }

    /// `count` members drawn independently (repeats possible); none when empty.
    pub fn random_with_repeats(&self, count: usize) -> Vec<&Bytes> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut rng = rand::thread_rng();
        (0..count).filter_map(|_| self.members.get(rng.gen_range(0..self.len()))).collect()
    }

    /// `min(count, len)` distinct members. When that is every member they
    /// come in the set's own order (as Redis answers), otherwise at random.
    pub fn random_distinct(&self, count: usize) -> Vec<&Bytes> {
        if count >= self.len() {
            return self.members.iter().collect();
        }
        index::sample(&mut rand::thread_rng(), self.len(), count).into_iter().filter_map(|i| self.members.get(i)).collect()
    }

    /// Removes and returns one member drawn at random.
    pub fn pop_random(&mut self) -> Option<Bytes> {
        if self.is_empty() {
            return None;
        }
        let i = rand::thread_rng().gen_range(0..self.len());
        Some(self.remove_at(i))
    }

    /// One step of an SSCAN-style iteration. Cursor 0 starts; the returned
    /// cursor is 0 when the iteration is complete.
    ///
    /// An intset is returned whole in one step (as Redis does). A hashtable
    /// is walked by position from the end towards the start: the cursor is
    /// the number of positions still to visit. Deletion moves the last
    /// member into the hole, never from the unvisited part into the visited
    /// one, and insertion appends, so every member present during the whole
    /// iteration is returned at least once.
    pub fn scan(&self, cursor: u64, count: usize, mut emit: impl FnMut(&Bytes)) -> u64 {
        if self.index.is_none() {
            self.members.iter().for_each(&mut emit);
            return 0;
        }
        let (window, next) = super::scan_window(cursor, count, self.len());
        for m in self.members[window].iter().rev() {
            emit(m);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn intset_is_sorted_numerically() {
        let mut s = Set::new();
        for m in ["10", "-5", "3", "10", "0"] {
            s.insert(b(m));
        }
        let got: Vec<&[u8]> = s.iter().map(|m| m.as_ref()).collect();
        assert_eq!(got, vec![&b"-5"[..], b"0", b"3", b"10"]);
        assert_eq!(s.encoding(), "intset");
        assert!(s.contains(b"3"));
        assert!(!s.contains(b"03"));
        assert!(!s.contains(b"x"));
        assert!(s.remove(b"0"));
        assert!(!s.remove(b"0"));
    }

    #[test]
    fn strict_integers() {
        for (m, want) in [("0", Some(0)), ("-1", Some(-1)), ("9223372036854775807", Some(i64::MAX)), ("-9223372036854775808", Some(i64::MIN))] {
            assert_eq!(parse_int(m.as_bytes()), want);
        }
        for m in ["", "-0", "+1", "01", " 1", "1 ", "9223372036854775808", "1.0", "-"] {
            assert_eq!(parse_int(m.as_bytes()), None, "{m:?}");
        }
    }

    #[test]
    fn conversion_is_sticky() {
        let mut s = Set::new();
        for i in 0..INTSET_MAX_ENTRIES {
            s.insert(Bytes::from(i.to_string()));
        }
        assert_eq!(s.encoding(), "intset");
        s.insert(b("99999"));
        assert_eq!(s.encoding(), "hashtable");
        let mut s = Set::new();
        s.insert(b("1"));
        s.insert(b("a"));
        assert_eq!(s.encoding(), "hashtable");
        s.remove(b"a");
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"1"));
    }

    #[test]
    fn random_picks() {
        let mut s = Set::new();
        assert!(s.random().is_none());
        assert!(s.pop_random().is_none());
        for i in 0..10 {
            s.insert(Bytes::from(format!("m{i}")));
        }
        assert_eq!(s.random_with_repeats(30).len(), 30);
        let d = s.random_distinct(4);
        assert_eq!(d.iter().collect::<HashSet<_>>().len(), 4);
        let mut popped = HashSet::new();
        while let Some(m) = s.pop_random() {
            assert!(popped.insert(m));
        }
        assert_eq!(popped.len(), 10);
        assert_eq!(s.mem_bytes(), Set::new().mem_bytes());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u16),
        AddWord(u16),
        Remove(u16),
        Pop,
        ScanStep(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (0u16..800).prop_map(Op::Add),
            1 => (0u16..50).prop_map(Op::AddWord),
            3 => (0u16..800).prop_map(Op::Remove),
            1 => Just(Op::Pop),
            1 => (1usize..40).prop_map(Op::ScanStep),
        ]
    }

    fn int_member(n: u16) -> Bytes {
        Bytes::from((n as i64 - 400).to_string())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn behaves_like_a_set(ops in proptest::collection::vec(op(), 0..1500)) {
            let mut s = Set::new();
            let mut model: HashSet<Bytes> = HashSet::new();
            let mut big = false;
            for o in ops {
                match o {
                    Op::Add(n) => prop_assert_eq!(s.insert(int_member(n)), model.insert(int_member(n))),
                    Op::AddWord(n) => {
                        let m = Bytes::from(format!("w{n}"));
                        prop_assert_eq!(s.insert(m.clone()), model.insert(m));
                        big = true;
                    }
                    Op::Remove(n) => prop_assert_eq!(s.remove(&int_member(n)), model.remove(&int_member(n))),
                    Op::Pop => match s.pop_random() {
                        Some(m) => prop_assert!(model.remove(&m)),
                        None => prop_assert!(model.is_empty()),
                    },
                    Op::ScanStep(n) => {
                        let mut seen = HashSet::new();
                        let mut c = 0;
                        loop {
                            c = s.scan(c, n, |m| { seen.insert(m.clone()); });
                            if c == 0 { break; }
                        }
                        prop_assert_eq!(&seen, &model);
                    }
                }
                big |= model.len() > INTSET_MAX_ENTRIES;
                prop_assert_eq!(s.encoding(), if big { "hashtable" } else { "intset" });
                prop_assert_eq!(s.len(), model.len());
                if !big {
                    let v: Vec<i64> = s.iter().map(|m| parse_int(m).unwrap()).collect();
                    prop_assert!(v.windows(2).all(|w| w[0] < w[1]));
                }
            }
            for m in &model {
                prop_assert!(s.contains(m));
            }
            prop_assert_eq!(s.iter().cloned().collect::<HashSet<_>>(), model.clone());
            for m in model.clone() {
                prop_assert!(s.remove(&m));
            }
            prop_assert!(s.is_empty());
            prop_assert_eq!(s.mem_bytes(), Set::new().mem_bytes());
        }

        #[test]
        fn scan_survives_changes(
            n in 520usize..700,
            steps in proptest::collection::vec((1usize..60, proptest::collection::vec((any::<bool>(), 0usize..800), 0..20)), 1..100),
        ) {
            let mut s = Set::new();
            for i in 0..n {
                s.insert(Bytes::from(format!("stable:{i}")));
            }
            let mut seen = HashSet::new();
            let mut c = 0;
            let mut steps = steps.into_iter();
            loop {
                let (count, changes) = steps.next().unwrap_or((100, vec![]));
                c = s.scan(c, count, |m| { seen.insert(m.clone()); });
                if c == 0 { break; }
                for (add, k) in changes {
                    let m = Bytes::from(format!("churn:{k}"));
                    if add { s.insert(m); } else { s.remove(&m); }
                }
            }
            for i in 0..n {
                let m = Bytes::from(format!("stable:{i}"));
                prop_assert!(seen.contains(&m));
            }
        }
    }
}
