//! The large sorted set ("skiplist" encoding): a member → slot hash map
//! for O(1) score lookups and membership, and an order-statistic treap keyed
//! by (score, member), its nodes kept in a `Vec` arena and linked by index,
//! each node knowing its subtree size. Rank, select, "how many elements come
//! before this bound" and iteration from a rank are O(log n) (+ k for the k
//! elements visited), in both directions.
//!
//! An element keeps its arena slot for as long as it is in the set, even when
//! its score changes, so a ZSCAN cursor can simply be the next slot to visit:
//! every element present from the first call to the last is returned.

use super::cmp_elem;
use crate::value::alloc_size;
use bytes::Bytes;
use hashbrown::HashMap;
use rand::Rng;
use std::cmp::Ordering;

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

/// Bytes one element costs besides the arena slot: the member's allocation
/// and its map entry.
fn elem_cost(m: &Bytes) -> usize {
    alloc_size(m.len()) + 48
}

const SLOT_COST: usize = std::mem::size_of::<Node>();

/// The treap and its member index.
#[derive(Debug, Clone)]
pub(super) struct Tree {
    index: HashMap<Bytes, u32>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    /// Member bytes and map entries of the live elements.
    bytes: usize,
    /// xorshift state for node priorities, seeded at random so that no
    /// insertion order can be crafted to unbalance the tree.
    rng: u64,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree {
            index: HashMap::new(),
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            bytes: 0,
            rng: rand::thread_rng().gen::<u64>() | 1,
        }
    }
}

impl Tree {
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    pub(super) fn mem_bytes(&self) -> usize {
        self.bytes + self.nodes.len() * SLOT_COST + self.free.len() * 4
    }

    pub(super) fn score(&self, member: &[u8]) -> Option<f64> {
        self.index.get(member).map(|&i| self.nodes[i as usize].score)
    }

    /// Sets `member`'s score, adding it when new (an equal score, `-0` for
    /// `0` included, changes nothing). Returns the previous score.
    pub(super) fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        if let Some(&i) = self.index.get(member) {
            let old = self.nodes[i as usize].score;
            if old != score {
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
        let member = Bytes::copy_from_slice(member);
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
    pub(super) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let i = *self.index.get(member)?;
        self.root = self.detach(self.root, i);
        Some(self.release(i).1)
    }

    /// 0-based position of `member` in score order.
    pub(super) fn rank(&self, member: &[u8]) -> Option<usize> {
        let &i = self.index.get(member)?;
        let (s, m) = (self.nodes[i as usize].score, &self.nodes[i as usize].member);
        Some(self.count_before(|ns, nm| cmp_elem(ns, nm, s, m) == Ordering::Less))
    }

    /// The element at `rank` (0-based, score order).
    pub(super) fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        let i = self.select(rank)?;
        let n = &self.nodes[i as usize];
        Some((&n.member, n.score))
    }

    /// Elements from `rank` on: upwards, or downwards (rank, rank-1, ... 0)
    /// when `rev`. Empty when `rank` is past the end.
    pub(super) fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
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

    /// Removes the elements of ranks `[start, end)` (`start < end <= len`)
    /// and returns them in score order. O(log n + k).
    pub(super) fn remove_rank_range(&mut self, start: usize, end: usize) -> Vec<(Bytes, f64)> {
        let (left, rest) = self.split_rank(self.root, start);
        let (mid, right) = self.split_rank(rest, end - start);
        self.root = self.merge(left, right);
        let mut slots = Vec::with_capacity(end - start);
        self.collect_in_order(mid, &mut slots);
        slots.into_iter().map(|i| self.release(i)).collect()
    }

    /// One step of a ZSCAN over arena slots: up to `count` elements from slot
    /// `cursor` on, and the cursor to continue from (0 when done).
    pub(super) fn scan(&self, cursor: u64, count: usize) -> (Vec<(&[u8], f64)>, u64) {
        let mut out = Vec::new();
        let mut slot = usize::try_from(cursor).unwrap_or(usize::MAX);
        // Bound the work on an arena full of free slots, as Redis bounds the
        // empty buckets it visits.
        let mut budget = count.saturating_mul(10).max(100);
        while slot < self.nodes.len() && out.len() < count && budget > 0 {
            let n = &self.nodes[slot];
            if n.size > 0 {
                out.push((&n.member[..], n.score));
            }
            slot += 1;
            budget -= 1;
        }
        let next = if slot >= self.nodes.len() { 0 } else { slot as u64 };
        (out, next)
    }

    /// Number of elements in the prefix of the order where `before(score,
    /// member)` holds (`before` must be true on a prefix, false after).
    pub(super) fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
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

    // --- internals ---

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
    pub(super) fn check(&self) {
        fn walk(z: &Tree, t: u32) -> u32 {
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

/// In-order iteration from a rank (see [`Tree::iter_from`]).
pub(super) struct Iter<'a> {
    z: &'a Tree,
    stack: Vec<u32>,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.stack.pop()?;
        let nodes = &self.z.nodes;
        let n = &nodes[t as usize];
        let mut c = if self.rev { n.left } else { n.right };
        while c != NIL {
            self.stack.push(c);
            c = if self.rev { nodes[c as usize].right } else { nodes[c as usize].left };
        }
        Some((&n.member[..], n.score))
    }
}

