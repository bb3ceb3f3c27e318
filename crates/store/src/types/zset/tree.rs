//! The large sorted set ("skiplist" encoding): a member → slot hash map for
//! O(1) score lookups and membership, an arena of elements, and a counted
//! B+ tree that keeps the arena slots in (score, member) order.
//!
//! Why a B+ tree: in a binary tree (or a skiplist) every level of a search is
//! a cache miss, and a set of 1e5 elements is some 20-40 levels deep. Here a
//! node holds up to `B` (64) keys side by side, so a search touches 2-4
//! nodes for 1e3-1e5 elements, and the binary search inside a node stays
//! within a few cache lines of one allocation.
//!
//! Layout:
//! - `elems`: the arena; an element keeps its slot for its whole life (even
//!   when re-scored), which is what ZSCAN relies on (see [`Tree::scan`]).
//! - leaves (`Leaf`) hold sorted [`Key`]s: the score, the first 8 bytes of
//!   the member (big-endian, so that comparing them as integers orders like
//!   the bytes do, and most ties on equal scores are settled without reading
//!   the member), and the slot. Leaves are linked both ways for iteration.
//! - inner nodes (`Inner`) hold, per child, its node id, its element count
//!   (so rank and select are one descent: "counted" B+ tree) and its
//!   smallest key, kept exact, so that a key in an inner node always names a
//!   live slot.
//! - all nodes live in two `Vec` arenas addressed by `u32`, with free lists;
//!   the depth of every leaf is `height`.
//!
//! Inserting splits a full node in two halves; removing merges a node that
//! fell under a quarter full with a neighbour, or moves keys over from it.
//! A node is never left empty (the root aside, and only while the set is).
//! A range removal frees the covered subtrees whole and rebalances the two
//! cut paths bottom-up (a merge also fixes the children that meet at its
//! seam); a cut node may still be left under a quarter full (never empty)
//! until a later removal passes through it. The root never keeps a single
//! child, so the depth never exceeds what the set's largest size needed.

use crate::value::alloc_size;
use bytes::Bytes;
use hashbrown::HashMap;
use std::cmp::Ordering;

/// No node / no slot.
const NIL: u32 = u32::MAX;

/// Keys per node in the server's trees.
const CAP: usize = 64;

/// One element's place in the order.
#[derive(Debug, Clone, Copy)]
struct Key {
    score: f64,
    /// The member's first 8 bytes, zero-padded, big-endian.
    pre: u64,
    slot: u32,
}

const NO_KEY: Key = Key { score: 0.0, pre: 0, slot: NIL };

/// The first 8 bytes of `m` as a number that orders like the bytes: when
/// two prefixes differ, so do the members, the same way round.
fn prefix(m: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = m.len().min(8);
    b[..n].copy_from_slice(&m[..n]);
    u64::from_be_bytes(b)
}

/// An arena slot; a free one has a NaN score (real scores never are).
#[derive(Debug, Clone)]
struct Elem {
    member: Bytes,
    score: f64,
}

#[derive(Debug, Clone)]
struct Leaf<const B: usize> {
    len: u32,
    prev: u32,
    next: u32,
    keys: [Key; B],
}

#[derive(Debug, Clone)]
struct Inner<const B: usize> {
    len: u32,
    /// The smallest key of each child's subtree.
    keys: [Key; B],
    child: [u32; B],
    /// Elements in each child's subtree.
    count: [u32; B],
}

/// Bytes one element costs besides its arena slot: the member's allocation
/// and its map entry.
fn elem_cost(m: &Bytes) -> usize {
    alloc_size(m.len()) + 48
}

/// Inserts `v` at `at` in the first `len` entries of `a` (`len < a.len()`).
fn put_at<T: Copy>(a: &mut [T], len: usize, at: usize, v: T) {
    a.copy_within(at..len, at + 1);
    a[at] = v;
}

/// Removes entry `at` from the first `len` entries of `a`.
fn take_at<T: Copy>(a: &mut [T], len: usize, at: usize) {
    a.copy_within(at + 1..len, at);
}

/// Puts `v` in a free slot of `arena` (from `free`), or at its end; returns
/// the slot.
fn place<T>(arena: &mut Vec<T>, free: &mut Vec<u32>, v: T) -> u32 {
    match free.pop() {
        Some(i) => {
            arena[i as usize] = v;
            i
        }
        None => {
            arena.push(v);
            (arena.len() - 1) as u32
        }
    }
}

/// Two distinct elements of a slice, mutably.
fn pair<T>(v: &mut [T], a: u32, b: u32) -> (&mut T, &mut T) {
    let (a, b) = (a as usize, b as usize);
    assert_ne!(a, b);
    if a < b {
        let (x, y) = v.split_at_mut(b);
        (&mut x[a], &mut y[0])
    } else {
        let (x, y) = v.split_at_mut(a);
        (&mut y[0], &mut x[b])
    }
}

/// The B+ tree and its member index; `B` keys per node (at least 4).
#[derive(Debug, Clone)]
pub(super) struct Tree<const B: usize = CAP> {
    index: HashMap<Bytes, u32>,
    elems: Vec<Elem>,
    free: Vec<u32>,
    leaves: Vec<Leaf<B>>,
    inners: Vec<Inner<B>>,
    free_leaves: Vec<u32>,
    free_inners: Vec<u32>,
    /// A leaf when `height` is 0; `NIL` when the set is empty.
    root: u32,
    height: u32,
    /// Member bytes and map entries of the live elements.
    bytes: usize,
}

impl<const B: usize> Default for Tree<B> {
    fn default() -> Tree<B> {
        const { assert!(B >= 4) };
        Tree {
            index: HashMap::new(),
            elems: Vec::new(),
            free: Vec::new(),
            leaves: Vec::new(),
            inners: Vec::new(),
            free_leaves: Vec::new(),
            free_inners: Vec::new(),
            root: NIL,
            height: 0,
            bytes: 0,
        }
    }
}

impl<const B: usize> Tree<B> {
    /// A non-root node with fewer entries is merged or refilled when a
    /// removal passes through it. A quarter, so that a node just split (half
    /// full) takes many removals before it needs work again.
    const MIN: usize = if B >= 8 { B / 4 } else { 1 };

    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    pub(super) fn mem_bytes(&self) -> usize {
        self.bytes
            + self.elems.len() * std::mem::size_of::<Elem>()
            + self.leaves.len() * std::mem::size_of::<Leaf<B>>()
            + self.inners.len() * std::mem::size_of::<Inner<B>>()
            + (self.free.len() + self.free_leaves.len() + self.free_inners.len()) * 4
    }

    pub(super) fn score(&self, member: &[u8]) -> Option<f64> {
        self.index.get(member).map(|&i| self.elems[i as usize].score)
    }

    /// Sets `member`'s score, adding it when new (an equal score, `-0` for
    /// `0` included, changes nothing). Returns the previous score.
    pub(super) fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        if let Some(&i) = self.index.get(member) {
            let old = self.elems[i as usize].score;
            if old != score {
                let k = self.key_of(i);
                self.detach(&k);
                self.elems[i as usize].score = score;
                self.attach(Key { score, ..k });
            }
            return Some(old);
        }
        let member = Bytes::copy_from_slice(member);
        self.bytes += elem_cost(&member);
        let pre = prefix(&member);
        let i = place(&mut self.elems, &mut self.free, Elem { member: member.clone(), score });
        self.index.insert(member, i);
        self.attach(Key { score, pre, slot: i });
        None
    }

    /// Removes `member`; returns its score.
    pub(super) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let i = *self.index.get(member)?;
        let k = self.key_of(i);
        self.detach(&k);
        Some(self.release(i).1)
    }

    /// 0-based position of `member` in score order.
    pub(super) fn rank(&self, member: &[u8]) -> Option<usize> {
        let &i = self.index.get(member)?;
        let k = self.key_of(i);
        let mut acc = 0usize;
        let mut node = self.root;
        for _ in 0..self.height {
            let n = &self.inners[node as usize];
            let c = self.child_for(n, &k);
            acc += n.count[..c].iter().map(|&x| x as usize).sum::<usize>();
            node = n.child[c];
        }
        let l = &self.leaves[node as usize];
        Some(acc + l.keys[..l.len as usize].partition_point(|x| self.cmp(x, &k) == Ordering::Less))
    }

    /// The element at `rank` (0-based, score order).
    pub(super) fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        let (l, p) = self.select(rank)?;
        let k = &self.leaves[l as usize].keys[p];
        Some((self.member(k), k.score))
    }

    /// Elements from `rank` on: upwards, or downwards (rank, rank-1, ... 0)
    /// when `rev`. Empty when `rank` is past the end.
    pub(super) fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_, B> {
        let (leaf, pos) = self.select(rank).unwrap_or((NIL, 0));
        Iter { z: self, leaf, pos, rev }
    }

    /// Removes the elements of ranks `[start, end)` (`start < end <= len`)
    /// and returns them in score order. O(B log n + k): the covered subtrees
    /// go whole, and only the two boundary paths are cut and rebalanced.
    pub(super) fn remove_rank_range(&mut self, start: usize, end: usize) -> Vec<(Bytes, f64)> {
        let n = self.len();
        let end = end.min(n);
        if start >= end {
            return Vec::new();
        }
        let mut slots = Vec::with_capacity(end - start);
        if start == 0 && end == n {
            // Everything: the last release below resets the whole tree.
            self.take_subtree(self.root, self.height, &mut slots);
        } else {
            // Link the leaves that will hold the elements on either side of
            // the gap; the leaves between them go whole, unlinked.
            let left = start.checked_sub(1).and_then(|r| self.select(r)).map_or(NIL, |x| x.0);
            let right = self.select(end).map_or(NIL, |x| x.0);
            if left != right {
                if left != NIL {
                    self.leaves[left as usize].next = right;
                }
                if right != NIL {
                    self.leaves[right as usize].prev = left;
                }
            }
            self.cut(self.root, self.height, start, end, &mut slots);
            self.shrink_root();
        }
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
        while slot < self.elems.len() && out.len() < count && budget > 0 {
            let e = &self.elems[slot];
            if !e.score.is_nan() {
                out.push((&e.member[..], e.score));
            }
            slot += 1;
            budget -= 1;
        }
        let next = if slot >= self.elems.len() { 0 } else { slot as u64 };
        (out, next)
    }

    /// Number of elements in the prefix of the order where `before(score,
    /// member)` holds (`before` must be true on a prefix, false after).
    pub(super) fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        if self.root == NIL {
            return 0;
        }
        let holds = |k: &Key| before(k.score, self.member(k));
        let mut acc = 0usize;
        let mut node = self.root;
        for _ in 0..self.height {
            let n = &self.inners[node as usize];
            // The last child whose smallest element is still in the prefix.
            let p = n.keys[..n.len as usize].partition_point(holds);
            if p == 0 {
                return acc;
            }
            acc += n.count[..p - 1].iter().map(|&x| x as usize).sum::<usize>();
            node = n.child[p - 1];
        }
        let l = &self.leaves[node as usize];
        acc + l.keys[..l.len as usize].partition_point(holds)
    }

    // --- internals ---

    fn member(&self, k: &Key) -> &[u8] {
        &self.elems[k.slot as usize].member
    }

    fn key_of(&self, slot: u32) -> Key {
        let e = &self.elems[slot as usize];
        Key { score: e.score, pre: prefix(&e.member), slot }
    }

    /// Orders two keys: score, then member (its prefix first).
    fn cmp(&self, a: &Key, b: &Key) -> Ordering {
        if a.score < b.score {
            Ordering::Less
        } else if a.score > b.score {
            Ordering::Greater
        } else if a.pre != b.pre {
            a.pre.cmp(&b.pre)
        } else if a.slot == b.slot {
            Ordering::Equal
        } else {
            self.member(a).cmp(self.member(b))
        }
    }

    /// The child of `n` whose subtree holds `k`, or would.
    fn child_for(&self, n: &Inner<B>, k: &Key) -> usize {
        n.keys[1..n.len as usize].partition_point(|x| self.cmp(x, k) != Ordering::Greater)
    }

    fn node_len(&self, id: u32, level: u32) -> usize {
        if level == 0 {
            self.leaves[id as usize].len as usize
        } else {
            self.inners[id as usize].len as usize
        }
    }

    fn min_key(&self, id: u32, level: u32) -> Key {
        if level == 0 {
            self.leaves[id as usize].keys[0]
        } else {
            self.inners[id as usize].keys[0]
        }
    }

    /// Elements in the subtree `id`.
    fn weight(&self, id: u32, level: u32) -> u32 {
        if level == 0 {
            self.leaves[id as usize].len
        } else {
            let n = &self.inners[id as usize];
            n.count[..n.len as usize].iter().sum()
        }
    }

    fn new_leaf(&mut self) -> u32 {
        place(&mut self.leaves, &mut self.free_leaves, Leaf { len: 0, prev: NIL, next: NIL, keys: [NO_KEY; B] })
    }

    fn new_inner(&mut self) -> u32 {
        place(&mut self.inners, &mut self.free_inners, Inner { len: 0, keys: [NO_KEY; B], child: [NIL; B], count: [0; B] })
    }

    fn free_node(&mut self, id: u32, level: u32) {
        if level == 0 {
            self.free_leaves.push(id);
        } else {
            self.free_inners.push(id);
        }
    }

    /// Frees slot `i` (already out of the tree) and its map entry.
    fn release(&mut self, i: u32) -> (Bytes, f64) {
        let e = &mut self.elems[i as usize];
        let member = std::mem::take(&mut e.member);
        let score = std::mem::replace(&mut e.score, f64::NAN);
        self.index.remove(&member);
        self.bytes -= elem_cost(&member);
        if self.index.is_empty() {
            *self = Tree { bytes: self.bytes, ..Tree::default() };
        } else {
            self.free.push(i);
        }
        (member, score)
    }

    /// The leaf and position of the element at `rank`.
    fn select(&self, rank: usize) -> Option<(u32, usize)> {
        if rank >= self.len() {
            return None;
        }
        let mut r = rank;
        let mut node = self.root;
        for _ in 0..self.height {
            let n = &self.inners[node as usize];
            let mut c = 0;
            while c + 1 < n.len as usize && r >= n.count[c] as usize {
                r -= n.count[c] as usize;
                c += 1;
            }
            node = n.child[c];
        }
        (r < self.leaves[node as usize].len as usize).then_some((node, r))
    }

    /// Puts `k` (not in the tree yet) in the tree.
    fn attach(&mut self, k: Key) {
        if self.root == NIL {
            self.root = self.new_leaf();
            self.height = 0;
        }
        if let Some((right, _)) = self.ins(self.root, self.height, k) {
            let (left, h) = (self.root, self.height);
            let entries = [left, right].map(|c| (self.min_key(c, h), c, self.weight(c, h)));
            let r = self.new_inner();
            let n = &mut self.inners[r as usize];
            for (i, (key, c, w)) in entries.into_iter().enumerate() {
                n.keys[i] = key;
                n.child[i] = c;
                n.count[i] = w;
            }
            n.len = 2;
            self.root = r;
            self.height += 1;
        }
    }

    /// Adds `k` to the subtree `node` at `level` (0: a leaf). When the node
    /// had to split, returns its new right sibling and that one's weight.
    fn ins(&mut self, node: u32, level: u32, k: Key) -> Option<(u32, u32)> {
        if level == 0 {
            return self.leaf_ins(node, k);
        }
        let n = &self.inners[node as usize];
        let i = self.child_for(n, &k);
        let c = n.child[i];
        let split = self.ins(c, level - 1, k);
        let new_min = i == 0 && self.cmp(&k, &self.inners[node as usize].keys[0]) == Ordering::Less;
        let n = &mut self.inners[node as usize];
        n.count[i] += 1;
        if new_min {
            n.keys[0] = k;
        }
        let (s, moved) = split?;
        n.count[i] -= moved;
        let smin = self.min_key(s, level - 1);
        self.inner_put(node, i + 1, smin, s, moved)
    }

    fn leaf_ins(&mut self, node: u32, k: Key) -> Option<(u32, u32)> {
        let l = &self.leaves[node as usize];
        let len = l.len as usize;
        let pos = l.keys[..len].partition_point(|x| self.cmp(x, &k) == Ordering::Less);
        if len < B {
            let l = &mut self.leaves[node as usize];
            put_at(&mut l.keys, len, pos, k);
            l.len += 1;
            return None;
        }
        let s = self.new_leaf();
        let h = B / 2;
        let (l, r) = pair(&mut self.leaves, node, s);
        r.keys[..B - h].copy_from_slice(&l.keys[h..]);
        r.len = (B - h) as u32;
        l.len = h as u32;
        r.prev = node;
        r.next = l.next;
        l.next = s;
        let (target, at) = if pos <= h { (l, pos) } else { (r, pos - h) };
        put_at(&mut target.keys, target.len as usize, at, k);
        target.len += 1;
        let next = self.leaves[s as usize].next;
        if next != NIL {
            self.leaves[next as usize].prev = s;
        }
        Some((s, self.leaves[s as usize].len))
    }

    /// Inserts a child entry at `at` in inner `node`, splitting it when full
    /// (see [`Tree::ins`] for the result).
    fn inner_put(&mut self, node: u32, at: usize, key: Key, child: u32, count: u32) -> Option<(u32, u32)> {
        fn put<const B: usize>(n: &mut Inner<B>, at: usize, key: Key, child: u32, count: u32) {
            let len = n.len as usize;
            put_at(&mut n.keys, len, at, key);
            put_at(&mut n.child, len, at, child);
            put_at(&mut n.count, len, at, count);
            n.len += 1;
        }
        if (self.inners[node as usize].len as usize) < B {
            put(&mut self.inners[node as usize], at, key, child, count);
            return None;
        }
        let s = self.new_inner();
        let h = B / 2;
        let (l, r) = pair(&mut self.inners, node, s);
        r.keys[..B - h].copy_from_slice(&l.keys[h..]);
        r.child[..B - h].copy_from_slice(&l.child[h..]);
        r.count[..B - h].copy_from_slice(&l.count[h..]);
        r.len = (B - h) as u32;
        l.len = h as u32;
        if at <= h {
            put(l, at, key, child, count);
        } else {
            put(r, at - h, key, child, count);
        }
        Some((s, r.count[..r.len as usize].iter().sum()))
    }

    /// Takes `k` (in the tree) out of it.
    fn detach(&mut self, k: &Key) {
        let found = self.del(self.root, self.height, k);
        debug_assert!(found, "element missing from the tree");
        self.shrink_root();
    }

    /// Drops root levels with a single child.
    fn shrink_root(&mut self) {
        while self.height > 0 && self.inners[self.root as usize].len == 1 {
            let old = self.root;
            self.root = self.inners[old as usize].child[0];
            self.free_inners.push(old);
            self.height -= 1;
        }
    }

    /// Removes `k` from the subtree `node` at `level`; false when absent.
    fn del(&mut self, node: u32, level: u32, k: &Key) -> bool {
        if level == 0 {
            let l = &self.leaves[node as usize];
            let len = l.len as usize;
            let pos = l.keys[..len].partition_point(|x| self.cmp(x, k) == Ordering::Less);
            if pos == len || l.keys[pos].slot != k.slot {
                return false;
            }
            let l = &mut self.leaves[node as usize];
            take_at(&mut l.keys, len, pos);
            l.len -= 1;
            return true;
        }
        let n = &self.inners[node as usize];
        let i = self.child_for(n, k);
        let c = n.child[i];
        if !self.del(c, level - 1, k) {
            return false;
        }
        self.inners[node as usize].count[i] -= 1;
        if self.node_len(c, level - 1) < Self::MIN {
            self.fix_child(node, level - 1, i);
        } else {
            // The removed key may have been the child's smallest.
            self.inners[node as usize].keys[i] = self.min_key(c, level - 1);
        }
        true
    }

    /// Child `i` of inner `p` (children at level `cl`) is under `MIN`:
    /// merges it into a neighbour, or moves entries over from one, until it
    /// has enough or is its parent's only child (an empty only child is
    /// dropped, leaving `p` empty for its own parent to deal with). Keeps
    /// the keys and counts of `p` exact.
    ///
    /// Callers fixing two children in a row may find the second one already
    /// merged into its left neighbour by the first fix (which can merge more
    /// than once), its index then past the end: that index means the last
    /// child, the node it went into, which the first fix left valid.
    fn fix_child(&mut self, p: u32, cl: u32, mut i: usize) {
        let plen = self.inners[p as usize].len as usize;
        if plen == 0 {
            return;
        }
        i = i.min(plen - 1);
        loop {
            let pn = &self.inners[p as usize];
            let plen = pn.len as usize;
            let c = pn.child[i];
            let n = self.node_len(c, cl);
            if n >= Self::MIN || (plen == 1 && n > 0) {
                self.inners[p as usize].keys[i] = self.min_key(c, cl);
                return;
            }
            if plen == 1 {
                if cl == 0 {
                    let Leaf { prev, next, .. } = self.leaves[c as usize];
                    if prev != NIL {
                        self.leaves[prev as usize].next = next;
                    }
                    if next != NIL {
                        self.leaves[next as usize].prev = prev;
                    }
                }
                self.free_node(c, cl);
                self.inners[p as usize].len = 0;
                return;
            }
            let j = if i + 1 < plen { i + 1 } else { i - 1 };
            let (li, ri) = (i.min(j), i.max(j));
            let (l, r) = (pn.child[li], pn.child[ri]);
            let seam = self.node_len(l, cl);
            if seam + self.node_len(r, cl) <= B {
                self.merge_nodes(l, r, cl);
                if cl > 0 {
                    // A range cut can leave the children that now meet at
                    // the seam under MIN, each the only child of its old
                    // parent; now they have neighbours, fix them too.
                    if seam < self.node_len(l, cl) {
                        self.fix_child(l, cl - 1, seam);
                    }
                    if seam > 0 {
                        self.fix_child(l, cl - 1, seam - 1);
                    }
                }
                let pn = &mut self.inners[p as usize];
                let len = pn.len as usize;
                pn.count[li] += pn.count[ri];
                take_at(&mut pn.keys, len, ri);
                take_at(&mut pn.child, len, ri);
                take_at(&mut pn.count, len, ri);
                pn.len -= 1;
                i = li;
            } else {
                let moved = self.balance(l, r, cl);
                let (kl, kr) = (self.min_key(l, cl), self.min_key(r, cl));
                let pn = &mut self.inners[p as usize];
                pn.count[li] = pn.count[li].wrapping_sub(moved as u32);
                pn.count[ri] = pn.count[ri].wrapping_add(moved as u32);
                pn.keys[li] = kl;
                pn.keys[ri] = kr;
                return;
            }
        }
    }

    /// Moves every entry of node `r` to the end of its left neighbour `l`
    /// (they fit) and frees `r`.
    fn merge_nodes(&mut self, l: u32, r: u32, level: u32) {
        if level == 0 {
            let (a, b) = pair(&mut self.leaves, l, r);
            let (la, lb) = (a.len as usize, b.len as usize);
            a.keys[la..la + lb].copy_from_slice(&b.keys[..lb]);
            a.len += b.len;
            a.next = b.next;
            let next = b.next;
            if next != NIL {
                self.leaves[next as usize].prev = l;
            }
        } else {
            let (a, b) = pair(&mut self.inners, l, r);
            let (la, lb) = (a.len as usize, b.len as usize);
            a.keys[la..la + lb].copy_from_slice(&b.keys[..lb]);
            a.child[la..la + lb].copy_from_slice(&b.child[..lb]);
            a.count[la..la + lb].copy_from_slice(&b.count[..lb]);
            a.len += b.len;
        }
        self.free_node(r, level);
    }

    /// Evens out the entries of neighbours `l` and `r`; returns the elements
    /// moved from `l` to `r` (negative: the other way).
    fn balance(&mut self, l: u32, r: u32, level: u32) -> i64 {
        if level == 0 {
            let (a, b) = pair(&mut self.leaves, l, r);
            let (la, lb) = (a.len as usize, b.len as usize);
            let want = (la + lb) / 2;
            if la > want {
                let m = la - want;
                b.keys.copy_within(..lb, m);
                b.keys[..m].copy_from_slice(&a.keys[want..la]);
                a.len = want as u32;
                b.len = (lb + m) as u32;
                m as i64
            } else {
                let m = want - la;
                a.keys[la..want].copy_from_slice(&b.keys[..m]);
                b.keys.copy_within(m..lb, 0);
                a.len = want as u32;
                b.len = (lb - m) as u32;
                -(m as i64)
            }
        } else {
            let (a, b) = pair(&mut self.inners, l, r);
            let (la, lb) = (a.len as usize, b.len as usize);
            let want = (la + lb) / 2;
            if la > want {
                let m = la - want;
                b.keys.copy_within(..lb, m);
                b.child.copy_within(..lb, m);
                b.count.copy_within(..lb, m);
                b.keys[..m].copy_from_slice(&a.keys[want..la]);
                b.child[..m].copy_from_slice(&a.child[want..la]);
                b.count[..m].copy_from_slice(&a.count[want..la]);
                a.len = want as u32;
                b.len = (lb + m) as u32;
                b.count[..m].iter().map(|&x| x as i64).sum()
            } else {
                let m = want - la;
                a.keys[la..want].copy_from_slice(&b.keys[..m]);
                a.child[la..want].copy_from_slice(&b.child[..m]);
                a.count[la..want].copy_from_slice(&b.count[..m]);
                b.keys.copy_within(m..lb, 0);
                b.child.copy_within(m..lb, 0);
                b.count.copy_within(m..lb, 0);
                a.len = want as u32;
                b.len = (lb - m) as u32;
                -a.count[la..want].iter().map(|&x| x as i64).sum::<i64>()
            }
        }
    }

    /// Removes ranks `[lo, hi)` of the subtree `node` (a proper part of it),
    /// pushing their slots in order onto `out`.
    fn cut(&mut self, node: u32, level: u32, lo: usize, hi: usize, out: &mut Vec<u32>) {
        if level == 0 {
            let l = &mut self.leaves[node as usize];
            let len = l.len as usize;
            out.extend(l.keys[lo..hi].iter().map(|k| k.slot));
            l.keys.copy_within(hi..len, lo);
            l.len -= (hi - lo) as u32;
            return;
        }
        let len = self.inners[node as usize].len as usize;
        let mut at = 0usize;
        let mut w = 0usize;
        let mut partial = [usize::MAX; 2];
        for c in 0..len {
            let n = &self.inners[node as usize];
            let (child, cnt) = (n.child[c], n.count[c] as usize);
            let (a, b) = (at, at + cnt);
            at = b;
            let (x, y) = (lo.max(a), hi.min(b));
            let entry = if x >= y {
                (n.keys[c], cnt)
            } else if x == a && y == b {
                self.take_subtree(child, level - 1, out);
                continue;
            } else {
                self.cut(child, level - 1, x - a, y - a, out);
                partial[usize::from(partial[0] != usize::MAX)] = w;
                (self.min_key(child, level - 1), cnt - (y - x))
            };
            let n = &mut self.inners[node as usize];
            n.keys[w] = entry.0;
            n.child[w] = child;
            n.count[w] = entry.1 as u32;
            w += 1;
        }
        self.inners[node as usize].len = w as u32;
        // The two cut children are neighbours now; fix the right one first,
        // which leaves the left one's index as it is.
        for &i in partial.iter().rev() {
            if i != usize::MAX && self.node_len(self.inners[node as usize].child[i], level - 1) < Self::MIN {
                self.fix_child(node, level - 1, i);
            }
        }
    }

    /// Frees the subtree `node`, pushing its slots in order onto `out`.
    fn take_subtree(&mut self, node: u32, level: u32, out: &mut Vec<u32>) {
        if level == 0 {
            let l = &self.leaves[node as usize];
            out.extend(l.keys[..l.len as usize].iter().map(|k| k.slot));
        } else {
            for c in 0..self.inners[node as usize].len as usize {
                let child = self.inners[node as usize].child[c];
                self.take_subtree(child, level - 1, out);
            }
        }
        self.free_node(node, level);
    }

    /// Checks the tree's invariants (tests).
    #[cfg(test)]
    pub(super) fn check(&self) {
        use super::cmp_elem;
        use std::collections::HashSet;

        let live = self.elems.iter().filter(|e| !e.score.is_nan()).count();
        assert_eq!(live, self.len());
        assert_eq!(live + self.free.len(), self.elems.len());
        assert_eq!(self.bytes, self.index.keys().map(elem_cost).sum::<usize>());
        for (m, &i) in &self.index {
            assert_eq!(&self.elems[i as usize].member, m);
        }
        if self.len() == 0 {
            assert_eq!(self.root, NIL);
            assert!(self.leaves.is_empty() && self.inners.is_empty());
            return;
        }

        struct Walk {
            keys: Vec<Key>,
            leaves: Vec<u32>,
            inners: Vec<u32>,
        }
        fn walk<const B: usize>(z: &Tree<B>, node: u32, level: u32, root: bool, w: &mut Walk) -> u32 {
            let len = z.node_len(node, level);
            assert!(len <= B);
            assert!(len >= if root { if level > 0 { 2 } else { 1 } } else { 1 }, "node too small");
            if level == 0 {
                w.leaves.push(node);
                let l = &z.leaves[node as usize];
                w.keys.extend_from_slice(&l.keys[..len]);
                return len as u32;
            }
            w.inners.push(node);
            let n = &z.inners[node as usize];
            let mut total = 0;
            for c in 0..len {
                let first = w.keys.len();
                let cnt = walk(z, n.child[c], level - 1, false, w);
                assert_eq!(cnt, n.count[c], "child count");
                assert_eq!(n.keys[c].slot, w.keys[first].slot, "child key is its smallest");
                assert_eq!(n.keys[c].score.to_bits(), w.keys[first].score.to_bits());
                total += cnt;
            }
            total
        }
        let mut w = Walk { keys: Vec::new(), leaves: Vec::new(), inners: Vec::new() };
        assert_eq!(walk(self, self.root, self.height, true, &mut w) as usize, self.len());
        for k in &w.keys {
            let e = &self.elems[k.slot as usize];
            assert_eq!(e.score.to_bits(), k.score.to_bits());
            assert_eq!(k.pre, prefix(&e.member));
        }
        for p in w.keys.windows(2) {
            let (a, b) = (&self.elems[p[0].slot as usize], &self.elems[p[1].slot as usize]);
            assert_eq!(cmp_elem(a.score, &a.member, b.score, &b.member), Ordering::Less, "order");
            assert_eq!(self.cmp(&p[0], &p[1]), Ordering::Less);
        }
        for (i, &l) in w.leaves.iter().enumerate() {
            let leaf = &self.leaves[l as usize];
            assert_eq!(leaf.prev, if i == 0 { NIL } else { w.leaves[i - 1] }, "prev link");
            assert_eq!(leaf.next, w.leaves.get(i + 1).copied().unwrap_or(NIL), "next link");
        }
        let live_leaves: HashSet<u32> = w.leaves.iter().copied().collect();
        let free_leaves: HashSet<u32> = self.free_leaves.iter().copied().collect();
        assert_eq!(free_leaves.len(), self.free_leaves.len());
        assert!(live_leaves.is_disjoint(&free_leaves));
        assert_eq!(live_leaves.len() + free_leaves.len(), self.leaves.len());
        let live_inners: HashSet<u32> = w.inners.iter().copied().collect();
        let free_inners: HashSet<u32> = self.free_inners.iter().copied().collect();
        assert_eq!(free_inners.len(), self.free_inners.len());
        assert!(live_inners.is_disjoint(&free_inners));
        assert_eq!(live_inners.len() + free_inners.len(), self.inners.len());
    }
}

/// In-order iteration from a rank (see [`Tree::iter_from`]): along the leaf
/// chain.
pub(super) struct Iter<'a, const B: usize = CAP> {
    z: &'a Tree<B>,
    leaf: u32,
    pos: usize,
    rev: bool,
}

impl<'a, const B: usize> Iterator for Iter<'a, B> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.leaf == NIL {
            return None;
        }
        let leaves = &self.z.leaves;
        let l = &leaves[self.leaf as usize];
        let k = l.keys[self.pos];
        if self.rev {
            if self.pos == 0 {
                self.leaf = l.prev;
                if self.leaf != NIL {
                    self.pos = leaves[self.leaf as usize].len as usize - 1;
                }
            } else {
                self.pos -= 1;
            }
        } else {
            self.pos += 1;
            if self.pos == l.len as usize {
                self.leaf = l.next;
                self.pos = 0;
            }
        }
        Some((&self.z.elems[k.slot as usize].member[..], k.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The model: (member, score) sorted by score, then member.
    fn sorted(v: &mut [(Bytes, f64)]) {
        v.sort_by(|a, b| super::super::cmp_elem(a.1, &a.0, b.1, &b.0));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, i8),
        Remove(u16),
        Rank(u16),
        Select(u16),
        Iter(u16, bool, u8),
        Before(i8),
        RemoveRange(u16, u16),
        Scan(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (0u16..300, -4i8..4).prop_map(|(m, s)| Op::Insert(m, s)),
            3 => (0u16..300).prop_map(Op::Remove),
            1 => (0u16..300).prop_map(Op::Rank),
            1 => (0u16..320).prop_map(Op::Select),
            1 => (0u16..320, any::<bool>(), 0u8..40).prop_map(|(r, v, k)| Op::Iter(r, v, k)),
            1 => (-5i8..5).prop_map(Op::Before),
            1 => (0u16..320, 0u16..120).prop_map(|(a, n)| Op::RemoveRange(a, n)),
            1 => (1u8..20).prop_map(Op::Scan),
        ]
    }

    /// Members with long shared prefixes too, so that ties go past the
    /// 8-byte prefix.
    fn member(i: u16) -> Bytes {
        if i.is_multiple_of(3) {
            Bytes::from(format!("long-shared-prefix-{i:03}"))
        } else {
            Bytes::from(format!("m{i}"))
        }
    }

    fn run<const B: usize>(ops: &[Op], same_score: bool) -> Result<(), TestCaseError> {
        let mut z = Tree::<B>::default();
        let base = z.mem_bytes();
        let mut m: Vec<(Bytes, f64)> = Vec::new();
        for op in ops {
            match *op {
                Op::Insert(x, s) => {
                    let s = if same_score { 0.0 } else { s as f64 };
                    let old = m.iter().position(|e| e.0 == member(x)).map(|p| m.remove(p).1);
                    m.push((member(x), s));
                    sorted(&mut m);
                    prop_assert_eq!(z.insert(&member(x), s), old);
                }
                Op::Remove(x) => {
                    let old = m.iter().position(|e| e.0 == member(x)).map(|p| m.remove(p).1);
                    prop_assert_eq!(z.remove(&member(x)), old);
                }
                Op::Rank(x) => {
                    prop_assert_eq!(z.rank(&member(x)), m.iter().position(|e| e.0 == member(x)));
                }
                Op::Select(r) => {
                    let got = z.get_by_rank(r as usize).map(|(a, s)| (Bytes::copy_from_slice(a), s));
                    prop_assert_eq!(got, m.get(r as usize).cloned());
                }
                Op::Iter(r, rev, k) => {
                    let r = r as usize;
                    let got: Vec<_> =
                        z.iter_from(r, rev).take(k as usize).map(|(a, s)| (Bytes::copy_from_slice(a), s)).collect();
                    let want: Vec<_> = if r >= m.len() {
                        vec![]
                    } else if rev {
                        m[..=r].iter().rev().take(k as usize).cloned().collect()
                    } else {
                        m[r..].iter().take(k as usize).cloned().collect()
                    };
                    prop_assert_eq!(got, want);
                }
                Op::Before(s) => {
                    let t = s as f64 + 0.5;
                    prop_assert_eq!(z.count_before(|x, _| x < t), m.iter().filter(|e| e.1 < t).count());
                    let lim = member(s.unsigned_abs() as u16 * 37);
                    prop_assert_eq!(
                        z.count_before(|x, y| x < 0.0 || (x == 0.0 && y < &lim[..])),
                        m.iter().filter(|e| e.1 < 0.0 || (e.1 == 0.0 && e.0 < lim)).count()
                    );
                }
                Op::RemoveRange(a, n) => {
                    let (a, e) = (a as usize, (a as usize + n as usize).min(m.len()));
                    if a < e {
                        let want: Vec<_> = m.drain(a..e).collect();
                        prop_assert_eq!(z.remove_rank_range(a, e), want);
                    }
                }
                Op::Scan(count) => {
                    let mut seen = Vec::new();
                    let mut cursor = 0;
                    loop {
                        let (page, next) = z.scan(cursor, count as usize);
                        seen.extend(page.into_iter().map(|(a, _)| Bytes::copy_from_slice(a)));
                        if next == 0 {
                            break;
                        }
                        cursor = next;
                    }
                    seen.sort();
                    let mut want: Vec<_> = m.iter().map(|e| e.0.clone()).collect();
                    want.sort();
                    prop_assert_eq!(seen, want);
                }
            }
            z.check();
            prop_assert_eq!(z.len(), m.len());
            let all: Vec<_> = z.iter_from(0, false).map(|(a, s)| (Bytes::copy_from_slice(a), s)).collect();
            prop_assert_eq!(&all, &m);
            if let Some(last) = m.len().checked_sub(1) {
                let mut back: Vec<_> =
                    z.iter_from(last, true).map(|(a, s)| (Bytes::copy_from_slice(a), s)).collect();
                back.reverse();
                prop_assert_eq!(&back, &m);
            }
        }
        let n = z.len();
        if n > 0 {
            z.remove_rank_range(0, n);
        }
        z.check();
        prop_assert_eq!(z.mem_bytes(), base);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn small_nodes_match_sorted_vec_model(ops in proptest::collection::vec(op(), 1..400), same_score in any::<bool>()) {
            run::<4>(&ops, same_score)?;
        }

        #[test]
        fn medium_nodes_match_sorted_vec_model(ops in proptest::collection::vec(op(), 1..400), same_score in any::<bool>()) {
            run::<8>(&ops, same_score)?;
        }

        #[test]
        fn odd_nodes_match_sorted_vec_model(ops in proptest::collection::vec(op(), 1..300), same_score in any::<bool>()) {
            run::<5>(&ops, same_score)?;
        }
    }

    /// Deep trees: many levels of small nodes, bulk range cuts and re-scores.
    #[test]
    fn deep_tree_range_cuts() {
        let mut z = Tree::<4>::default();
        let mut m: Vec<(Bytes, f64)> = Vec::new();
        for i in 0..3000u32 {
            let (k, s) = (Bytes::from(format!("k{i:05}")), ((i * 7919) % 1000) as f64);
            z.insert(&k, s);
            m.push((k, s));
        }
        sorted(&mut m);
        z.check();
        for (a, e) in [(100, 2500), (0, 3), (10, 11), (200, 300), (0, 150)] {
            let want: Vec<_> = m.drain(a..e).collect();
            assert_eq!(z.remove_rank_range(a, e), want);
            z.check();
        }
        for (i, e) in m.clone().iter().enumerate() {
            z.insert(&e.0, -(i as f64));
        }
        z.check();
        assert_eq!(z.get_by_rank(0).map(|x| x.1), Some(-(m.len() as f64 - 1.0)));
    }

    /// Cutting all but the two ends of a deep tree collapses it.
    #[test]
    fn range_cut_collapses_levels() {
        for keep in [2usize, 5, 40] {
            let mut z = Tree::<8>::default();
            for i in 0..5000u32 {
                z.insert(format!("k{i:05}").as_bytes(), i as f64);
            }
            let h = z.height;
            let removed = z.remove_rank_range(keep / 2, 5000 - (keep - keep / 2));
            assert_eq!(removed.len(), 5000 - keep);
            z.check();
            assert!(z.height < h, "height {} of {h} with {keep} left", z.height);
            if keep == 2 {
                assert_eq!(z.height, 0);
            }
            let all: Vec<_> = z.iter_from(0, false).map(|(_, s)| s as u32).collect();
            let want: Vec<u32> = (0..keep as u32 / 2).chain(5000 - (keep as u32 - keep as u32 / 2)..5000).collect();
            assert_eq!(all, want);
        }
    }

    /// Rough timing of the hot operations (run by hand, `--ignored`).
    #[test]
    #[ignore]
    fn quick_timing() {
        let mut z = Tree::<CAP>::default();
        let n = 100_000u64;
        let t = std::time::Instant::now();
        for i in 0..n {
            z.insert(format!("member:{i}").as_bytes(), ((i * 2_654_435_761) % 1_000_003) as f64);
        }
        eprintln!("insert: {:?}/op", t.elapsed() / n as u32);
        let t = std::time::Instant::now();
        let mut acc = 0usize;
        for _ in 0..100_000 {
            acc += z.iter_from(0, false).take(10).count();
        }
        eprintln!("first 10: {:?}/op ({acc})", t.elapsed() / 100_000);
        let t = std::time::Instant::now();
        for i in 0..n {
            z.insert(format!("member:{i}").as_bytes(), (i % 1000) as f64);
        }
        eprintln!("re-score: {:?}/op", t.elapsed() / n as u32);
        let t = std::time::Instant::now();
        for i in 0..n {
            acc += z.rank(format!("member:{i}").as_bytes()).unwrap_or(0);
        }
        eprintln!("rank: {:?}/op ({acc})", t.elapsed() / n as u32);
        eprintln!("height {}, leaves {}, mem {}", z.height, z.leaves.len(), z.mem_bytes());
    }
}
