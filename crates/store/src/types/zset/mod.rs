//! Sorted set values, in the two encodings Redis 7.0 reports:
//! - "listpack" ([`packed`]): up to 128 members of up to 64 bytes, all in
//!   one sorted byte buffer, searched linearly;
//! - "skiplist" ([`tree`]): a member index and a counted B+ tree.
//!
//! A set starts packed and converts for good once it grows past either
//! limit, as in Redis. Elements are ordered by score, then by member bytes.
//! Scores are never NaN (the commands refuse them before they get here);
//! `-0.0` and `0.0` compare equal, as in Redis.

mod packed;
mod tree;

pub use packed::owned_pairs;

use bytes::Bytes;
use packed::Packed;
use rand::Rng;
use std::cmp::Ordering;
use tree::Tree;

/// Redis's zset-max-listpack-entries / zset-max-listpack-value defaults.
pub const LISTPACK_MAX_ENTRIES: usize = 128;
pub const LISTPACK_MAX_VALUE: usize = 64;

/// One end of a score interval (`(1.5` is exclusive, `1.5` inclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    pub value: f64,
    pub exclusive: bool,
}

/// A score interval, as ZRANGEBYSCORE and ZCOUNT take it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: ScoreBound,
    pub max: ScoreBound,
}

/// One end of a lexicographic interval: `-`, `+`, `[member` or `(member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: before every member.
    Min,
    /// `+`: after every member.
    Max,
    Inclusive(Bytes),
    Exclusive(Bytes),
}

/// A lexicographic interval, as ZRANGEBYLEX and ZLEXCOUNT take it. Like
/// Redis, it is meaningful only when every element has the same score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

/// Orders two elements: by score, then member bytes.
pub(crate) fn cmp_elem(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

/// A sorted set of binary-safe members with f64 scores.
#[derive(Debug, Clone)]
pub struct ZSet {
    repr: Repr,
}

/// 24 bytes, so that a set sits unboxed in its key's node (no bigger than
/// a string value there).
#[derive(Debug, Clone)]
enum Repr {
    Small(Packed),
    Big(Box<Tree>),
}

impl Default for ZSet {
    fn default() -> ZSet {
        ZSet { repr: Repr::Small(Packed::default()) }
    }
}

/// Equal content: the same elements with the same scores (bit for bit, so
/// `-0` differs from `0`) and the same encoding. Tree shape does not count.
impl PartialEq for ZSet {
    fn eq(&self, other: &ZSet) -> bool {
        self.len() == other.len()
            && self.encoding() == other.encoding()
            && self.iter().zip(other.iter()).all(|((m1, s1), (m2, s2))| m1 == m2 && s1.to_bits() == s2.to_bits())
    }
}

/// Dispatches a read to the representation.
macro_rules! either {
    ($z:expr, $r:ident => $e:expr) => {
        match &$z.repr {
            Repr::Small($r) => $e,
            Repr::Big($r) => $e,
        }
    };
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

    /// A set holding `items` (members unique), encoded the way Redis encodes
    /// a freshly computed result (ZUNIONSTORE and friends): listpack when
    /// small enough for one, decided before any element goes in.
    pub fn from_pairs<M: AsRef<[u8]>>(items: &[(M, f64)]) -> ZSet {
        let big = items.len() > LISTPACK_MAX_ENTRIES || items.iter().any(|(m, _)| m.as_ref().len() > LISTPACK_MAX_VALUE);
        let mut z = if big { ZSet { repr: Repr::Big(Box::default()) } } else { ZSet::new() };
        for (m, s) in items {
            z.insert(m.as_ref(), *s);
        }
        z
    }

    pub fn len(&self) -> usize {
        either!(self, r => r.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn mem_bytes(&self) -> usize {
        64 + match &self.repr {
            Repr::Small(p) => p.mem_bytes(),
            Repr::Big(t) => t.mem_bytes() + std::mem::size_of::<Tree>(),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Small(_) => "listpack",
            Repr::Big(_) => "skiplist",
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.score(member).is_some()
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        either!(self, r => r.score(member))
    }

    /// Sets `member`'s score, adding it when new; a score equal to the
    /// current one (`-0` for `0` included) changes nothing, as in Redis.
    /// Returns the previous score. `score` must not be NaN.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        debug_assert!(!score.is_nan());
        if let Repr::Small(p) = &mut self.repr {
            if member.len() <= LISTPACK_MAX_VALUE && (p.len() < LISTPACK_MAX_ENTRIES || p.score(member).is_some()) {
                // A listpack stores an integral score as an integer, so `-0`
                // reads back as `0`; the skiplist keeps the double as it is.
                let score = if score == 0.0 { 0.0 } else { score };
                return p.insert(member, score);
            }
            self.convert();
        }
        match &mut self.repr {
            Repr::Big(t) => t.insert(member, score),
            Repr::Small(_) => unreachable!("converted above"),
        }
    }

    /// Starts loading the set's first cache line of elements (packed) or its
    /// tree header without waiting for it.
    pub fn prefetch(&self) {
        match &self.repr {
            Repr::Small(p) => p.prefetch(),
            Repr::Big(t) => crate::node::prefetch_line((&**t as *const Tree).cast()),
        }
    }

    /// Moves the elements of a packed set into a tree, for good.
    fn convert(&mut self) {
        if let Repr::Small(p) = &self.repr {
            let mut t = Box::<Tree>::default();
            for (m, s) in p.entries() {
                t.insert(m, s);
            }
            self.repr = Repr::Big(t);
        }
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Small(p) => p.remove(member),
            Repr::Big(t) => t.remove(member),
        }
    }

    /// 0-based position of `member` in score order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        either!(self, r => r.rank(member))
    }

    /// The element at `rank` (0-based, score order).
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        either!(self, r => r.get_by_rank(rank))
    }

    /// All elements in score order.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    /// Elements from `rank` on: upwards, or downwards (rank, rank-1, ... 0)
    /// when `rev`. Empty when `rank` is past the end.
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        Iter(match &self.repr {
            Repr::Small(p) => Walk::Small(p.iter_from(rank, rev)),
            Repr::Big(t) => Walk::Big(t.iter_from(rank, rev)),
        })
    }

    /// Ranks `[lo, hi)` of the elements whose score is in `range`.
    pub fn score_range_ranks(&self, range: &ScoreRange) -> (usize, usize) {
        let (min, max) = (range.min, range.max);
        let lo = if min.exclusive { self.count_before(|s, _| s <= min.value) } else { self.count_before(|s, _| s < min.value) };
        let hi = if max.exclusive { self.count_before(|s, _| s < max.value) } else { self.count_before(|s, _| s <= max.value) };
        (lo, hi.max(lo))
    }

    /// Ranks `[lo, hi)` of the elements whose member is in `range` (all
    /// scores assumed equal).
    pub fn lex_range_ranks(&self, range: &LexRange) -> (usize, usize) {
        let lo = self.lex_position(&range.min, true);
        let hi = self.lex_position(&range.max, false);
        (lo, hi.max(lo))
    }

    /// Number of elements before the boundary a lex bound draws; `lower`
    /// says whether it opens or closes the interval.
    fn lex_position(&self, b: &LexBound, lower: bool) -> usize {
        match (b, lower) {
            (LexBound::Min, _) => 0,
            (LexBound::Max, _) => self.len(),
            (LexBound::Inclusive(x), true) | (LexBound::Exclusive(x), false) => self.count_before(|_, m| m < x.as_ref()),
            (LexBound::Exclusive(x), true) | (LexBound::Inclusive(x), false) => self.count_before(|_, m| m <= x.as_ref()),
        }
    }

    /// Number of elements in the prefix of the order where `before(score,
    /// member)` holds (`before` must be true on a prefix, false after).
    fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        either!(self, r => r.count_before(before))
    }

    pub fn count_in_score_range(&self, range: &ScoreRange) -> usize {
        let (lo, hi) = self.score_range_ranks(range);
        hi - lo
    }

    pub fn count_in_lex_range(&self, range: &LexRange) -> usize {
        let (lo, hi) = self.lex_range_ranks(range);
        hi - lo
    }

    /// Removes the elements of ranks `[start, end)` and returns them in
    /// score order.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> Vec<(Bytes, f64)> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        match &mut self.repr {
            Repr::Small(p) => p.remove_rank_range(start, end),
            Repr::Big(t) => t.remove_rank_range(start, end),
        }
    }

    /// Removes up to `count` elements from the low end (or the high end when
    /// `max`), returned in pop order.
    pub fn pop(&mut self, count: usize, max: bool) -> Vec<(Bytes, f64)> {
        let n = self.len();
        let count = count.min(n);
        if max {
            let mut v = self.remove_rank_range(n - count, n);
            v.reverse();
            v
        } else {
            self.remove_rank_range(0, count)
        }
    }

    /// A uniformly random rank (the set must not be empty).
    pub fn random_rank(&self) -> usize {
        rand::thread_rng().gen_range(0..self.len().max(1))
    }

    /// `count` distinct random ranks (`count` < len), in random order.
    pub fn sample_distinct_ranks(&self, count: usize) -> Vec<usize> {
        let n = self.len();
        let count = count.min(n);
        let mut rng = rand::thread_rng();
        if count * 3 > n {
            // Dense: a partial Fisher-Yates shuffle of every rank.
            let mut all: Vec<usize> = (0..n).collect();
            for i in 0..count {
                let j = rng.gen_range(i..n);
                all.swap(i, j);
            }
            all.truncate(count);
            all
        } else {
            let mut seen = hashbrown::HashSet::with_capacity(count);
            let mut out = Vec::with_capacity(count);
            while out.len() < count {
                let r = rng.gen_range(0..n);
                if seen.insert(r) {
                    out.push(r);
                }
            }
            out
        }
    }

    /// One step of a ZSCAN: up to `count` elements from `cursor` on, and the
    /// cursor to continue from (0 when done). A packed set, like a listpack
    /// in Redis, answers whole in one step.
    pub fn scan(&self, cursor: u64, count: usize) -> (Vec<(&[u8], f64)>, u64) {
        match &self.repr {
            Repr::Small(p) => (p.entries().collect(), 0),
            Repr::Big(t) => t.scan(cursor, count),
        }
    }

    /// An empty set in the tree representation (tests).
    #[cfg(test)]
    fn with_tree() -> ZSet {
        ZSet { repr: Repr::Big(Box::default()) }
    }

    /// Checks the representation's invariants (tests).
    #[cfg(test)]
    fn check(&self) {
        either!(self, r => r.check())
    }
}

/// In-order iteration from a rank (see [`ZSet::iter_from`]).
pub struct Iter<'a>(Walk<'a>);

enum Walk<'a> {
    Small(packed::Iter<'a>),
    Big(tree::Iter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Walk::Small(w) => w.next(),
            Walk::Big(w) => w.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    /// The model: elements sorted by (score, member).
    #[derive(Default)]
    struct Model {
        v: Vec<(Bytes, f64)>,
    }

    impl Model {
        fn sort(&mut self) {
            self.v.sort_by(|a, b| cmp_elem(a.1, &a.0, b.1, &b.0));
        }
        fn insert(&mut self, m: Bytes, s: f64) -> Option<f64> {
            let old = self.remove(&m);
            self.v.push((m, s));
            self.sort();
            old
        }
        fn remove(&mut self, m: &[u8]) -> Option<f64> {
            let p = self.v.iter().position(|(x, _)| x == m)?;
            Some(self.v.remove(p).1)
        }
        fn in_score(&self, r: &ScoreRange) -> Vec<usize> {
            (0..self.v.len())
                .filter(|&i| {
                    let s = self.v[i].1;
                    let lo = if r.min.exclusive { s > r.min.value } else { s >= r.min.value };
                    let hi = if r.max.exclusive { s < r.max.value } else { s <= r.max.value };
                    lo && hi
                })
                .collect()
        }
        fn in_lex(&self, r: &LexRange) -> Vec<usize> {
            let ok_min = |m: &[u8]| match &r.min {
                LexBound::Min => true,
                LexBound::Max => false,
                LexBound::Inclusive(x) => m >= x.as_ref(),
                LexBound::Exclusive(x) => m > x.as_ref(),
            };
            let ok_max = |m: &[u8]| match &r.max {
                LexBound::Min => false,
                LexBound::Max => true,
                LexBound::Inclusive(x) => m <= x.as_ref(),
                LexBound::Exclusive(x) => m < x.as_ref(),
            };
            (0..self.v.len()).filter(|&i| ok_min(&self.v[i].0) && ok_max(&self.v[i].0)).collect()
        }
    }

    fn items(z: &ZSet) -> Vec<(Bytes, f64)> {
        z.iter().map(|(m, s)| (Bytes::copy_from_slice(m), s)).collect()
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, i8),
        Remove(u8),
        Rank(u8),
        Select(u8),
        IterFrom(u8, bool, u8),
        Score(i8, bool, i8, bool),
        Lex(u8, u8, u8, u8),
        RemoveRange(u8, u8),
        Pop(u8, bool),
        Scan(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..40, -5i8..5).prop_map(|(m, s)| Op::Insert(m, s)),
            2 => (0u8..40).prop_map(Op::Remove),
            1 => (0u8..40).prop_map(Op::Rank),
            1 => (0u8..50).prop_map(Op::Select),
            1 => (0u8..50, any::<bool>(), 0u8..10).prop_map(|(r, v, k)| Op::IterFrom(r, v, k)),
            1 => (-6i8..6, any::<bool>(), -6i8..6, any::<bool>()).prop_map(|(a, x, b, y)| Op::Score(a, x, b, y)),
            1 => (0u8..4, 0u8..45, 0u8..4, 0u8..45).prop_map(|(a, x, b, y)| Op::Lex(a, x, b, y)),
            1 => (0u8..50, 0u8..50).prop_map(|(a, b)| Op::RemoveRange(a, b)),
            1 => (0u8..5, any::<bool>()).prop_map(|(c, m)| Op::Pop(c, m)),
            1 => (1u8..8).prop_map(Op::Scan),
        ]
    }

    fn member(i: u8) -> Bytes {
        b(&format!("m{i:02}"))
    }

    fn lex_bound(kind: u8, x: u8) -> LexBound {
        match kind {
            0 => LexBound::Min,
            1 => LexBound::Max,
            2 => LexBound::Inclusive(member(x)),
            _ => LexBound::Exclusive(member(x)),
        }
    }

    fn score_of(s: i8) -> f64 {
        match s {
            -5 => f64::NEG_INFINITY,
            4 => f64::INFINITY,
            s => s as f64 / 2.0,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn matches_sorted_vec_model(ops in proptest::collection::vec(op(), 1..150), same_score in any::<bool>(), big in any::<bool>()) {
            let mut z = if big { ZSet::with_tree() } else { ZSet::new() };
            let mut m = Model::default();
            for op in ops {
                match op {
                    Op::Insert(x, s) => {
                        let s = if same_score { 0.0 } else { score_of(s) };
                        prop_assert_eq!(z.insert(&member(x), s), m.insert(member(x), s));
                    }
                    Op::Remove(x) => prop_assert_eq!(z.remove(&member(x)), m.remove(&member(x))),
                    Op::Rank(x) => {
                        let want = m.v.iter().position(|(y, _)| *y == member(x));
                        prop_assert_eq!(z.rank(&member(x)), want);
                        prop_assert_eq!(z.score(&member(x)), want.map(|p| m.v[p].1));
                    }
                    Op::Select(r) => {
                        let got = z.get_by_rank(r as usize).map(|(a, s)| (Bytes::copy_from_slice(a), s));
                        prop_assert_eq!(got, m.v.get(r as usize).cloned());
                    }
                    Op::IterFrom(r, rev, k) => {
                        let got: Vec<_> = z.iter_from(r as usize, rev).take(k as usize).map(|(a, s)| (Bytes::copy_from_slice(a), s)).collect();
                        let r = r as usize;
                        let want: Vec<_> = if r >= m.v.len() {
                            vec![]
                        } else if rev {
                            m.v[..=r].iter().rev().take(k as usize).cloned().collect()
                        } else {
                            m.v[r..].iter().take(k as usize).cloned().collect()
                        };
                        prop_assert_eq!(got, want);
                    }
                    Op::Score(a, x, bb, y) => {
                        let range = ScoreRange {
                            min: ScoreBound { value: score_of(a), exclusive: x },
                            max: ScoreBound { value: score_of(bb), exclusive: y },
                        };
                        let want = m.in_score(&range);
                        let (lo, hi) = z.score_range_ranks(&range);
                        prop_assert_eq!((lo..hi).collect::<Vec<_>>(), want.clone());
                        prop_assert_eq!(z.count_in_score_range(&range), want.len());
                    }
                    Op::Lex(a, x, bb, y) => {
                        if same_score {
                            let range = LexRange { min: lex_bound(a, x), max: lex_bound(bb, y) };
                            let want = m.in_lex(&range);
                            let (lo, hi) = z.lex_range_ranks(&range);
                            prop_assert_eq!((lo..hi).collect::<Vec<_>>(), want.clone());
                            prop_assert_eq!(z.count_in_lex_range(&range), want.len());
                        }
                    }
                    Op::RemoveRange(a, bb) => {
                        let (a, bb) = (a as usize, bb as usize);
                        let got = z.remove_rank_range(a, bb);
                        let end = bb.min(m.v.len());
                        let want: Vec<_> = if a < end { m.v.drain(a..end).collect() } else { vec![] };
                        prop_assert_eq!(got, want);
                    }
                    Op::Pop(c, max) => {
                        let got = z.pop(c as usize, max);
                        let c = (c as usize).min(m.v.len());
                        let want: Vec<_> = if max {
                            let n = m.v.len();
                            m.v.drain(n - c..).rev().collect()
                        } else {
                            m.v.drain(..c).collect()
                        };
                        prop_assert_eq!(got, want);
                    }
                    Op::Scan(count) => {
                        let mut seen = Vec::new();
                        let mut cursor = 0;
                        loop {
                            let (page, next) = z.scan(cursor, count as usize);
                            seen.extend(page.into_iter().map(|(a, _)| Bytes::copy_from_slice(a)));
                            if next == 0 { break; }
                            cursor = next;
                        }
                        seen.sort();
                        let mut want: Vec<_> = m.v.iter().map(|(a, _)| a.clone()).collect();
                        want.sort();
                        prop_assert_eq!(seen, want);
                    }
                }
                z.check();
                prop_assert_eq!(items(&z), m.v.clone());
                prop_assert_eq!(z.len(), m.v.len());
            }
        }
    }

    #[test]
    fn handle_fits_in_a_value() {
        assert!(std::mem::size_of::<ZSet>() <= 24, "{}", std::mem::size_of::<ZSet>());
        assert!(std::mem::size_of::<crate::Value>() <= 40, "{}", std::mem::size_of::<crate::Value>());
    }

    #[test]
    fn encoding_is_sticky() {
        let mut z = ZSet::new();
        for i in 0..128 {
            z.insert(&b(&format!("m{i}")), i as f64);
        }
        assert_eq!(z.encoding(), "listpack");
        let mut want = items(&z);
        z.insert(&b("one-more"), 0.0);
        assert_eq!(z.encoding(), "skiplist");
        z.check();
        want.insert(1, (b("one-more"), 0.0));
        assert_eq!(items(&z), want);
        z.remove(b"one-more");
        assert_eq!(z.encoding(), "skiplist");

        let mut z = ZSet::new();
        z.insert(&b(&"x".repeat(64)), 1.0);
        assert_eq!(z.encoding(), "listpack");
        z.insert(&b(&"x".repeat(65)), 1.0);
        assert_eq!(z.encoding(), "skiplist");
    }

    #[test]
    fn negative_zero_is_normalized_only_in_listpack() {
        let mut z = ZSet::new();
        z.insert(&b("a"), -0.0);
        assert!(z.score(b"a").unwrap().is_sign_positive());
        let mut big = ZSet::from_pairs(&(0..200).map(|i| (b(&format!("m{i}")), i as f64)).collect::<Vec<_>>());
        big.insert(&b("z"), -0.0);
        assert!(big.score(b"z").unwrap().is_sign_negative());
        let small = ZSet::from_pairs(&[(b("a"), -0.0)]);
        assert!(small.score(b"a").unwrap().is_sign_positive());
    }

    #[test]
    fn memory_accounting_returns_to_base() {
        let mut z = ZSet::with_tree();
        let base = z.mem_bytes();
        for i in 0..1000 {
            z.insert(&b(&format!("member-{i}")), i as f64);
        }
        assert!(z.mem_bytes() > base + 1000 * 16);
        for i in 0..1000 {
            z.insert(&b(&format!("member-{i}")), -(i as f64));
        }
        z.check();
        for i in 0..1000 {
            z.remove(format!("member-{i}").as_bytes());
        }
        assert_eq!(z.mem_bytes(), base);
    }

    #[test]
    fn scan_keeps_slots_across_updates() {
        let mut z = ZSet::new();
        for i in 0..300 {
            z.insert(&b(&format!("m{i}")), i as f64);
        }
        let (page, cursor) = z.scan(0, 100);
        assert_eq!(page.len(), 100);
        assert_ne!(cursor, 0);
        // Rescoring every element must not move any of them to another slot.
        for i in 0..300 {
            z.insert(&b(&format!("m{i}")), -(i as f64));
        }
        let mut seen: Vec<Bytes> = Vec::new();
        let mut c = cursor;
        loop {
            let (page, next) = z.scan(c, 50);
            seen.extend(page.into_iter().map(|(m, _)| Bytes::copy_from_slice(m)));
            if next == 0 {
                break;
            }
            c = next;
        }
        assert_eq!(seen.len(), 200);
    }

    #[test]
    fn equality_ignores_shape() {
        let a = ZSet::from_pairs(&[(b("a"), 1.0), (b("b"), 2.0)]);
        let mut c = ZSet::new();
        c.insert(&b("b"), 2.0);
        c.insert(&b("a"), 1.0);
        assert_eq!(a, c);
        c.insert(&b("a"), 1.5);
        assert_ne!(a, c);
        assert_eq!(c.clone(), c);
    }

    #[test]
    fn large_sets_stay_balanced() {
        let mut z = ZSet::new();
        // Sorted insertion is the worst case for an unbalanced tree.
        for i in 0..200_000 {
            z.insert(&b(&format!("{i:08}")), i as f64);
        }
        assert_eq!(z.rank(b"00150000"), Some(150_000));
        assert_eq!(z.get_by_rank(7).map(|(m, _)| Bytes::copy_from_slice(m)), Some(b("00000007")));
        let removed = z.remove_rank_range(10, 100_010);
        assert_eq!(removed.len(), 100_000);
        assert_eq!(z.len(), 100_000);
        z.check();
    }
}
