//! Sorted set values.
//!
//! Two structures over the same elements:
//! - a hash map from member to the element's slot in the node arena, for
//!   O(1) score lookups and membership;
//! - an order-statistic treap keyed by (score, member), its nodes kept in a
//!   `Vec` arena and linked by index, each node knowing its subtree size. Rank,
//!   select, "how many elements come before this bound" and iteration from a
//!   rank are O(log n) (+ k for the k elements visited), in both directions.
//!
//! Elements are ordered by score, then by member bytes. Scores are never NaN
//! (the commands refuse them before they get here); `-0.0` and `0.0` compare
//! equal, as in Redis.
//!
//! An element keeps its arena slot for as long as it is in the set, even when
//! its score changes, so a ZSCAN cursor can simply be the next slot to visit:
//! every element present from the first call to the last is returned.

use crate::value::alloc_size;
use bytes::Bytes;
use hashbrown::HashMap;
use rand::Rng;
use std::cmp::Ordering;

/// Redis's zset-max-listpack-entries / zset-max-listpack-value defaults.
pub const LISTPACK_MAX_ENTRIES: usize = 128;
pub const LISTPACK_MAX_VALUE: usize = 64;

/// No node.
const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    member: Bytes,
    score: f64,
    left: u32,
    right: u32,
    /// Elements in the subtree rooted here; 0 marks a free arena slot.
    size: u32,
    /// Heap priority: a parent's is at least its children's.
    prio: u32,
}

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
fn cmp_elem(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

/// Bytes one element costs besides the arena slot: the member's allocation
/// and its map entry.
fn elem_cost(m: &Bytes) -> usize {
    alloc_size(m.len()) + 48
}

const SLOT_COST: usize = std::mem::size_of::<Node>();

/// A sorted set of binary-safe members with f64 scores.
#[derive(Debug, Clone)]
pub struct ZSet {
    index: HashMap<Bytes, u32>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    /// Member bytes and map entries of the live elements.
    bytes: usize,
    /// Sticky: once past the listpack limits, Redis never converts back.
    big: bool,
    /// xorshift state for node priorities, seeded at random so that no
    /// insertion order can be crafted to unbalance the tree.
    rng: u64,
}

impl Default for ZSet {
    fn default() -> ZSet {
        ZSet {
            index: HashMap::new(),
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            bytes: 0,
            big: false,
            rng: rand::thread_rng().gen::<u64>() | 1,
        }
    }
}

/// Equal content: the same elements with the same scores (bit for bit, so
/// `-0` differs from `0`) and the same encoding. Tree shape does not count.
impl PartialEq for ZSet {
    fn eq(&self, other: &ZSet) -> bool {
        self.len() == other.len()
            && self.big == other.big
            && self.iter().zip(other.iter()).all(|((m1, s1), (m2, s2))| m1 == m2 && s1.to_bits() == s2.to_bits())
    }
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

    /// A set holding `items` (members unique), encoded the way Redis encodes
    /// a freshly computed result (ZUNIONSTORE and friends): listpack when
    /// small enough for one, decided before any element goes in.
    pub fn from_pairs(items: Vec<(Bytes, f64)>) -> ZSet {
        let mut z = ZSet::new();
        z.big = items.len() > LISTPACK_MAX_ENTRIES || items.iter().any(|(m, _)| m.len() > LISTPACK_MAX_VALUE);
        for (m, s) in items {
            z.insert(m, s);
        }
        z
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn mem_bytes(&self) -> usize {
        self.bytes + self.nodes.len() * SLOT_COST + self.free.len() * 4 + 64
    }

    pub fn encoding(&self) -> &'static str {
        if self.big {
            "skiplist"
        } else {
            "listpack"
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.index.contains_key(member)
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.index.get(member).map(|&i| self.nodes[i as usize].score)
    }

    /// Sets `member`'s score, adding it when new. Returns the previous score.
    /// `score` must not be NaN.
    pub fn insert(&mut self, member: Bytes, score: f64) -> Option<f64> {
        debug_assert!(!score.is_nan());
        if let Some(&i) = self.index.get(&member) {
            let score = self.normalize(score);
            let old = self.nodes[i as usize].score;
            if old.to_bits() != score.to_bits() {
                self.root = self.detach(self.root, i);
                let n = &mut self.nodes[i as usize];
                n.score = score;
                n.left = NIL;
                n.right = NIL;
                n.size = 1;
                self.root = self.attach(self.root, i);
            }
            return Some(old);
        }
        if self.len() + 1 > LISTPACK_MAX_ENTRIES || member.len() > LISTPACK_MAX_VALUE {
            self.big = true;
        }
        let score = self.normalize(score);
        self.bytes += elem_cost(&member);
        let prio = self.next_prio();
        let node = Node { member: member.clone(), score, left: NIL, right: NIL, size: 1, prio };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.index.insert(member, i);
        self.root = self.attach(self.root, i);
        None
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let i = *self.index.get(member)?;
        self.root = self.detach(self.root, i);
        Some(self.release(i).1)
    }

    /// 0-based position of `member` in score order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let &i = self.index.get(member)?;
        let (s, m) = (self.nodes[i as usize].score, &self.nodes[i as usize].member);
        Some(self.count_before(|ns, nm| cmp_elem(ns, nm, s, m) == Ordering::Less))
    }

    /// The element at `rank` (0-based, score order).
    pub fn get_by_rank(&self, rank: usize) -> Option<(&Bytes, f64)> {
        let i = self.select(rank)?;
        let n = &self.nodes[i as usize];
        Some((&n.member, n.score))
    }

    /// All elements in score order.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    /// Elements from `rank` on: upwards, or downwards (rank, rank-1, ... 0)
    /// when `rev`. Empty when `rank` is past the end.
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        let mut stack = Vec::new();
        if rank < self.len() {
            let mut r = rank;
            let mut t = self.root;
            while t != NIL {
                let n = &self.nodes[t as usize];
                let ls = self.size(n.left) as usize;
                match r.cmp(&ls) {
                    Ordering::Less => {
                        if !rev {
                            stack.push(t);
                        }
                        t = n.left;
                    }
                    Ordering::Equal => {
                        stack.push(t);
                        break;
                    }
                    Ordering::Greater => {
                        if rev {
                            stack.push(t);
                        }
                        r -= ls + 1;
                        t = n.right;
                    }
                }
            }
        }
        Iter { z: self, stack, rev }
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

    pub fn count_in_score_range(&self, range: &ScoreRange) -> usize {
        let (lo, hi) = self.score_range_ranks(range);
        hi - lo
    }

    pub fn count_in_lex_range(&self, range: &LexRange) -> usize {
        let (lo, hi) = self.lex_range_ranks(range);
        hi - lo
    }

    /// Removes the elements of ranks `[start, end)` and returns them in
    /// score order. O(log n + k).
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> Vec<(Bytes, f64)> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        let (left, rest) = self.split_rank(self.root, start);
        let (mid, right) = self.split_rank(rest, end - start);
        self.root = self.merge(left, right);
        let mut slots = Vec::with_capacity(end - start);
        self.collect_in_order(mid, &mut slots);
        slots.into_iter().map(|i| self.release(i)).collect()
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

    /// One step of a ZSCAN over arena slots: up to `count` elements from slot
    /// `cursor` on, and the cursor to continue from (0 when done).
    pub fn scan(&self, cursor: u64, count: usize) -> (Vec<(&Bytes, f64)>, u64) {
        let mut out = Vec::new();
        let mut slot = usize::try_from(cursor).unwrap_or(usize::MAX);
        // Bound the work on an arena full of free slots, as Redis bounds the
        // empty buckets it visits.
        let mut budget = count.saturating_mul(10).max(100);
        while slot < self.nodes.len() && out.len() < count && budget > 0 {
            let n = &self.nodes[slot];
            if n.size > 0 {
                out.push((&n.member, n.score));
            }
            slot += 1;
            budget -= 1;
        }
        let next = if slot >= self.nodes.len() { 0 } else { slot as u64 };
        (out, next)
    }

    // --- internals ---

    /// In a listpack Redis stores an integral score as an integer, so `-0`
    /// reads back as `0`; the skiplist keeps the double as it is.
    fn normalize(&self, score: f64) -> f64 {
        if !self.big && score == 0.0 {
            0.0
        } else {
            score
        }
    }

    fn next_prio(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (x >> 32) as u32
    }

    fn size(&self, t: u32) -> u32 {
        if t == NIL {
            0
        } else {
            self.nodes[t as usize].size
        }
    }

    fn update(&mut self, t: u32) {
        let (l, r) = (self.nodes[t as usize].left, self.nodes[t as usize].right);
        self.nodes[t as usize].size = 1 + self.size(l) + self.size(r);
    }

    /// Frees slot `i` (already out of the tree) and its map entry.
    fn release(&mut self, i: u32) -> (Bytes, f64) {
        let n = &mut self.nodes[i as usize];
        let member = std::mem::take(&mut n.member);
        let score = n.score;
        n.size = 0;
        n.left = NIL;
        n.right = NIL;
        self.index.remove(&member);
        self.bytes -= elem_cost(&member);
        if self.index.is_empty() {
            self.nodes = Vec::new();
            self.free = Vec::new();
            self.root = NIL;
        } else {
            self.free.push(i);
        }
        (member, score)
    }

    /// Number of elements in the prefix of the order where `before(score,
    /// member)` holds (`before` must be true on a prefix, false after).
    fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut acc = 0usize;
        let mut t = self.root;
        while t != NIL {
            let n = &self.nodes[t as usize];
            if before(n.score, &n.member) {
                acc += self.size(n.left) as usize + 1;
                t = n.right;
            } else {
                t = n.left;
            }
        }
        acc
    }

    /// Slot of the element at `rank`.
    fn select(&self, rank: usize) -> Option<u32> {
        if rank >= self.len() {
            return None;
        }
        let mut r = rank;
        let mut t = self.root;
        while t != NIL {
            let n = &self.nodes[t as usize];
            let ls = self.size(n.left) as usize;
            match r.cmp(&ls) {
                Ordering::Less => t = n.left,
                Ordering::Equal => return Some(t),
                Ordering::Greater => {
                    r -= ls + 1;
                    t = n.right;
                }
            }
        }
        None
    }

    /// Orders slot `a`'s element against slot `b`'s.
    fn cmp_slots(&self, a: u32, b: u32) -> Ordering {
        let (x, y) = (&self.nodes[a as usize], &self.nodes[b as usize]);
        cmp_elem(x.score, &x.member, y.score, &y.member)
    }

    /// Inserts the detached node `x` into the subtree `t`; returns the new root.
    fn attach(&mut self, t: u32, x: u32) -> u32 {
        if t == NIL {
            return x;
        }
        if self.nodes[x as usize].prio > self.nodes[t as usize].prio {
            let (l, r) = self.split_before(t, x);
            let n = &mut self.nodes[x as usize];
            n.left = l;
            n.right = r;
            self.update(x);
            return x;
        }
        if self.cmp_slots(x, t) == Ordering::Less {
            let l = self.attach(self.nodes[t as usize].left, x);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.attach(self.nodes[t as usize].right, x);
            self.nodes[t as usize].right = r;
        }
        self.update(t);
        t
    }

    /// Takes the node in slot `x` out of the subtree `t` (which holds it);
    /// returns the new root.
    fn detach(&mut self, t: u32, x: u32) -> u32 {
        if t == NIL {
            return NIL;
        }
        match self.cmp_slots(x, t) {
            Ordering::Equal => {
                let (l, r) = (self.nodes[t as usize].left, self.nodes[t as usize].right);
                self.merge(l, r)
            }
            Ordering::Less => {
                let l = self.detach(self.nodes[t as usize].left, x);
                self.nodes[t as usize].left = l;
                self.update(t);
                t
            }
            Ordering::Greater => {
                let r = self.detach(self.nodes[t as usize].right, x);
                self.nodes[t as usize].right = r;
                self.update(t);
                t
            }
        }
    }

    /// Splits `t` into the elements ordered before slot `x`'s and the rest.
    fn split_before(&mut self, t: u32, x: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.cmp_slots(t, x) == Ordering::Less {
            let (a, b) = self.split_before(self.nodes[t as usize].right, x);
            self.nodes[t as usize].right = a;
            self.update(t);
            (t, b)
        } else {
            let (a, b) = self.split_before(self.nodes[t as usize].left, x);
            self.nodes[t as usize].left = b;
            self.update(t);
            (a, t)
        }
    }

    /// Splits `t` into its first `k` elements and the rest.
    fn split_rank(&mut self, t: u32, k: usize) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let ls = self.size(self.nodes[t as usize].left) as usize;
        if k <= ls {
            let (a, b) = self.split_rank(self.nodes[t as usize].left, k);
            self.nodes[t as usize].left = b;
            self.update(t);
            (a, t)
        } else {
            let (a, b) = self.split_rank(self.nodes[t as usize].right, k - ls - 1);
            self.nodes[t as usize].right = a;
            self.update(t);
            (t, b)
        }
    }

    /// Joins two subtrees, every element of `a` ordered before `b`'s.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio > self.nodes[b as usize].prio {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            self.update(a);
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            self.update(b);
            b
        }
    }

    fn collect_in_order(&self, t: u32, out: &mut Vec<u32>) {
        let mut stack = Vec::new();
        let mut cur = t;
        loop {
            while cur != NIL {
                stack.push(cur);
                cur = self.nodes[cur as usize].left;
            }
            let Some(n) = stack.pop() else { break };
            out.push(n);
            cur = self.nodes[n as usize].right;
        }
    }

    /// Checks the tree's invariants (tests).
    #[cfg(test)]
    fn check(&self) {
        fn walk(z: &ZSet, t: u32) -> u32 {
            if t == NIL {
                return 0;
            }
            let n = &z.nodes[t as usize];
            for c in [n.left, n.right] {
                if c != NIL {
                    assert!(z.nodes[c as usize].prio <= n.prio, "heap order");
                }
            }
            if n.left != NIL {
                assert_eq!(z.cmp_slots(n.left, t), Ordering::Less);
            }
            if n.right != NIL {
                assert_eq!(z.cmp_slots(t, n.right), Ordering::Less);
            }
            let s = 1 + walk(z, n.left) + walk(z, n.right);
            assert_eq!(s, n.size, "subtree size");
            assert_eq!(z.index.get(&n.member), Some(&t));
            s
        }
        assert_eq!(walk(self, self.root) as usize, self.len());
        let live = self.nodes.iter().filter(|n| n.size > 0).count();
        assert_eq!(live, self.len());
        assert_eq!(live + self.free.len(), self.nodes.len());
        assert_eq!(self.bytes, self.index.keys().map(elem_cost).sum::<usize>());
    }
}

/// In-order iteration from a rank (see [`ZSet::iter_from`]).
pub struct Iter<'a> {
    z: &'a ZSet,
    stack: Vec<u32>,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Bytes, f64);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.stack.pop()?;
        let nodes = &self.z.nodes;
        let n = &nodes[t as usize];
        let mut c = if self.rev { n.left } else { n.right };
        while c != NIL {
            self.stack.push(c);
            c = if self.rev { nodes[c as usize].right } else { nodes[c as usize].left };
        }
        Some((&n.member, n.score))
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
        z.iter().map(|(m, s)| (m.clone(), s)).collect()
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
        fn matches_sorted_vec_model(ops in proptest::collection::vec(op(), 1..150), same_score in any::<bool>()) {
            let mut z = ZSet::new();
            let mut m = Model::default();
            for op in ops {
                match op {
                    Op::Insert(x, s) => {
                        let s = if same_score { 0.0 } else { score_of(s) };
                        prop_assert_eq!(z.insert(member(x), s), m.insert(member(x), s));
                    }
                    Op::Remove(x) => prop_assert_eq!(z.remove(&member(x)), m.remove(&member(x))),
                    Op::Rank(x) => {
                        let want = m.v.iter().position(|(y, _)| *y == member(x));
                        prop_assert_eq!(z.rank(&member(x)), want);
                        prop_assert_eq!(z.score(&member(x)), want.map(|p| m.v[p].1));
                    }
                    Op::Select(r) => {
                        let got = z.get_by_rank(r as usize).map(|(a, s)| (a.clone(), s));
                        prop_assert_eq!(got, m.v.get(r as usize).cloned());
                    }
                    Op::IterFrom(r, rev, k) => {
                        let got: Vec<_> = z.iter_from(r as usize, rev).take(k as usize).map(|(a, s)| (a.clone(), s)).collect();
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
                            seen.extend(page.into_iter().map(|(a, _)| a.clone()));
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
    fn encoding_is_sticky() {
        let mut z = ZSet::new();
        for i in 0..128 {
            z.insert(b(&format!("m{i}")), i as f64);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(b("one-more"), 0.0);
        assert_eq!(z.encoding(), "skiplist");
        z.remove(b"one-more");
        assert_eq!(z.encoding(), "skiplist");

        let mut z = ZSet::new();
        z.insert(b(&"x".repeat(64)), 1.0);
        assert_eq!(z.encoding(), "listpack");
        z.insert(b(&"x".repeat(65)), 1.0);
        assert_eq!(z.encoding(), "skiplist");
    }

    #[test]
    fn negative_zero_is_normalized_only_in_listpack() {
        let mut z = ZSet::new();
        z.insert(b("a"), -0.0);
        assert!(z.score(b"a").unwrap().is_sign_positive());
        let mut big = ZSet::from_pairs((0..200).map(|i| (b(&format!("m{i}")), i as f64)).collect());
        big.insert(b("z"), -0.0);
        assert!(big.score(b"z").unwrap().is_sign_negative());
        let small = ZSet::from_pairs(vec![(b("a"), -0.0)]);
        assert!(small.score(b"a").unwrap().is_sign_positive());
    }

    #[test]
    fn memory_accounting_returns_to_base() {
        let mut z = ZSet::new();
        let base = z.mem_bytes();
        for i in 0..1000 {
            z.insert(b(&format!("member-{i}")), i as f64);
        }
        assert!(z.mem_bytes() > base + 1000 * 16);
        for i in 0..1000 {
            z.insert(b(&format!("member-{i}")), -(i as f64));
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
            z.insert(b(&format!("m{i}")), i as f64);
        }
        let (page, cursor) = z.scan(0, 100);
        assert_eq!(page.len(), 100);
        assert_ne!(cursor, 0);
        // Rescoring every element must not move any of them to another slot.
        for i in 0..300 {
            z.insert(b(&format!("m{i}")), -(i as f64));
        }
        let mut seen: Vec<Bytes> = Vec::new();
        let mut c = cursor;
        loop {
            let (page, next) = z.scan(c, 50);
            seen.extend(page.into_iter().map(|(m, _)| m.clone()));
            if next == 0 {
                break;
            }
            c = next;
        }
        assert_eq!(seen.len(), 200);
    }

    #[test]
    fn equality_ignores_shape() {
        let a = ZSet::from_pairs(vec![(b("a"), 1.0), (b("b"), 2.0)]);
        let mut c = ZSet::new();
        c.insert(b("b"), 2.0);
        c.insert(b("a"), 1.0);
        assert_eq!(a, c);
        c.insert(b("a"), 1.5);
        assert_ne!(a, c);
        assert_eq!(c.clone(), c);
    }

    #[test]
    fn large_sets_stay_balanced() {
        let mut z = ZSet::new();
        // Sorted insertion is the worst case for an unbalanced tree.
        for i in 0..200_000 {
            z.insert(b(&format!("{i:08}")), i as f64);
        }
        assert_eq!(z.rank(b"00150000"), Some(150_000));
        assert_eq!(z.get_by_rank(7).map(|(m, _)| m.clone()), Some(b("00000007")));
        let removed = z.remove_rank_range(10, 100_010);
        assert_eq!(removed.len(), 100_000);
        assert_eq!(z.len(), 100_000);
        z.check();
    }
}
