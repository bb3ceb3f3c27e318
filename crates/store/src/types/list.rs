//! List values.
//!
//! A `VecDeque` of binary-safe elements: O(1) push and pop at both ends, O(1)
//! indexing, O(n) for the operations that shift elements (LINSERT, LREM,
//! LTRIM's front part). A running byte count makes `mem_bytes` O(1); every
//! method that adds, removes or replaces an element keeps it exact.

use crate::value::alloc_size;
use bytes::Bytes;
use std::collections::VecDeque;

/// A list of binary-safe elements with O(1) push/pop at both ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct List {
    items: VecDeque<Bytes>,
    /// Sum of [`elem_cost`] over `items`.
    bytes: usize,
}

/// Bytes one element costs: its payload allocation and its slot (a `Bytes`
/// handle is 32 bytes).
fn elem_cost(b: &Bytes) -> usize {
    alloc_size(b.len()) + 32
}

/// Which end of a list an operation starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Front,
    Back,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn mem_bytes(&self) -> usize {
        self.bytes + 64
    }

    /// Redis 7.0 stores every list as a quicklist.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    pub fn push_front(&mut self, v: Bytes) {
        self.bytes += elem_cost(&v);
        self.items.push_front(v);
    }

    pub fn push_back(&mut self, v: Bytes) {
        self.bytes += elem_cost(&v);
        self.items.push_back(v);
    }

    /// Pushes at `end`.
    pub fn push(&mut self, end: End, v: Bytes) {
        match end {
            End::Front => self.push_front(v),
            End::Back => self.push_back(v),
        }
    }

    pub fn pop_front(&mut self) -> Option<Bytes> {
        let v = self.items.pop_front()?;
        self.bytes -= elem_cost(&v);
        Some(v)
    }

    pub fn pop_back(&mut self) -> Option<Bytes> {
        let v = self.items.pop_back()?;
        self.bytes -= elem_cost(&v);
        Some(v)
    }

    /// Pops from `end`.
    pub fn pop(&mut self, end: End) -> Option<Bytes> {
        match end {
            End::Front => self.pop_front(),
            End::Back => self.pop_back(),
        }
    }

    /// Pops up to `n` elements from `end`, in pop order.
    pub fn pop_many(&mut self, end: End, n: usize) -> Vec<Bytes> {
        let n = n.min(self.len());
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            match self.pop(end) {
                Some(v) => out.push(v),
                None => break,
            }
        }
        out
    }

    pub fn get(&self, i: usize) -> Option<&Bytes> {
        self.items.get(i)
    }

    /// Replaces the element at `i`, returning the old one; `None` (and no
    /// change) when `i` is out of range.
    pub fn set(&mut self, i: usize, v: Bytes) -> Option<Bytes> {
        let slot = self.items.get_mut(i)?;
        let old = std::mem::replace(slot, v);
        self.bytes = self.bytes - elem_cost(&old) + elem_cost(&self.items[i]);
        Some(old)
    }

    /// Inserts `v` so that it ends up at index `i` (`i <= len`; a larger `i`
    /// appends).
    pub fn insert(&mut self, i: usize, v: Bytes) {
        self.bytes += elem_cost(&v);
        let i = i.min(self.items.len());
        self.items.insert(i, v);
    }

    /// Index of the first element equal to `elem`.
    pub fn position(&self, elem: &[u8]) -> Option<usize> {
        self.items.iter().position(|e| e.as_ref() == elem)
    }

    /// Removes up to `limit` elements equal to `elem` (all of them when
    /// `limit` is `None`), counting matches from `from`. Returns how many
    /// were removed.
    pub fn remove_matching(&mut self, elem: &[u8], limit: Option<usize>, from: End) -> usize {
        // The matches to remove are those on `from`'s side of a cut-off index:
        // find the index of the limit-th match, then drop in one O(n) pass.
        let len = self.items.len();
        let (lo, hi) = match limit {
            None => (0, len),
            Some(0) => return 0,
            Some(limit) => {
                let matches = self.items.iter().enumerate().filter(|(_, e)| e.as_ref() == elem).map(|(i, _)| i);
                let cut = match from {
                    End::Front => matches.take(limit).last(),
                    End::Back => {
                        let all: Vec<usize> = matches.collect();
                        all.len().checked_sub(limit).and_then(|k| all.get(k).copied()).or_else(|| all.first().copied())
                    }
                };
                match (cut, from) {
                    (None, _) => return 0,
                    (Some(c), End::Front) => (0, c + 1),
                    (Some(c), End::Back) => (c, len),
                }
            }
        };
        let mut removed = 0;
        let mut freed = 0;
        let mut i = 0;
        self.items.retain(|e| {
            let drop = i >= lo && i < hi && e.as_ref() == elem;
            i += 1;
            if drop {
                removed += 1;
                freed += elem_cost(e);
            }
            !drop
        });
        self.bytes -= freed;
        removed
    }

    /// Keeps only the elements `start..=end` (already clamped by the caller);
    /// `None` empties the list.
    pub fn retain_range(&mut self, keep: Option<(usize, usize)>) {
        let len = self.items.len();
        let (start, end) = match keep {
            Some((s, e)) if s <= e && s < len => (s, e.min(len - 1)),
            _ => (len, len),
        };
        let mut freed = 0;
        for e in self.items.range(end.saturating_add(1).min(len)..) {
            freed += elem_cost(e);
        }
        self.items.truncate(end.saturating_add(1).min(len));
        for e in self.items.drain(..start.min(self.items.len())) {
            freed += elem_cost(&e);
        }
        self.bytes -= freed;
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Bytes> + ExactSizeIterator {
        self.items.iter()
    }

    /// Elements `start..=end` (already clamped by the caller).
    pub fn range(&self, start: usize, end: usize) -> impl Iterator<Item = &Bytes> {
        self.items.range(start..=end)
    }

    /// The byte count recomputed from scratch (tests check it against the
    /// running one).
    pub fn recount_bytes(&self) -> usize {
        self.items.iter().map(elem_cost).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn list_of(items: &[&str]) -> List {
        let mut l = List::new();
        for i in items {
            l.push_back(b(i));
        }
        l
    }

    fn contents(l: &List) -> Vec<String> {
        l.iter().map(|e| String::from_utf8_lossy(e).into_owned()).collect()
    }

    #[test]
    fn remove_matching_limits_and_directions() {
        let base = ["a", "b", "a", "c", "a", "a"];
        let mut l = list_of(&base);
        assert_eq!(l.remove_matching(b"a", Some(2), End::Front), 2);
        assert_eq!(contents(&l), ["b", "c", "a", "a"]);
        let mut l = list_of(&base);
        assert_eq!(l.remove_matching(b"a", Some(3), End::Back), 3);
        assert_eq!(contents(&l), ["a", "b", "c"]);
        let mut l = list_of(&base);
        assert_eq!(l.remove_matching(b"a", Some(100), End::Back), 4);
        assert_eq!(contents(&l), ["b", "c"]);
        let mut l = list_of(&base);
        assert_eq!(l.remove_matching(b"a", None, End::Front), 4);
        assert_eq!(l.remove_matching(b"zz", None, End::Front), 0);
        assert_eq!(l.recount_bytes(), l.bytes);
    }

    #[test]
    fn retain_range_edges() {
        let mut l = list_of(&["a", "b", "c", "d"]);
        l.retain_range(Some((1, 2)));
        assert_eq!(contents(&l), ["b", "c"]);
        l.retain_range(Some((0, 100)));
        assert_eq!(contents(&l), ["b", "c"]);
        l.retain_range(None);
        assert!(l.is_empty());
        assert_eq!(l.bytes, 0);
    }

    #[test]
    fn set_and_insert_keep_bytes() {
        let mut l = list_of(&["a", "b"]);
        assert_eq!(l.set(1, Bytes::from(vec![b'x'; 100])), Some(b("b")));
        assert_eq!(l.set(2, b("y")), None);
        l.insert(0, b("z"));
        l.insert(99, b("w"));
        assert_eq!(l.len(), 4);
        assert_eq!(l.recount_bytes(), l.bytes);
    }

    /// One operation of the model test.
    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, u8, usize),
        Pop(bool),
        PopMany(bool, usize),
        Set(usize, u8, usize),
        Insert(usize, u8, usize),
        Remove(u8, Option<usize>, bool),
        Retain(Option<(usize, usize)>),
    }

    fn elem(tag: u8, len: usize) -> Bytes {
        // Few distinct tags so removals and lookups hit; varied sizes so the
        // byte count sees different size classes.
        let mut v = vec![b'a' + tag % 4; len % 40];
        v.push(tag % 4);
        Bytes::from(v)
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (any::<bool>(), any::<u8>(), 0usize..64).prop_map(|(f, t, l)| Op::Push(f, t, l)),
            any::<bool>().prop_map(Op::Pop),
            (any::<bool>(), 0usize..6).prop_map(|(f, n)| Op::PopMany(f, n)),
            (0usize..20, any::<u8>(), 0usize..64).prop_map(|(i, t, l)| Op::Set(i, t, l)),
            (0usize..20, any::<u8>(), 0usize..64).prop_map(|(i, t, l)| Op::Insert(i, t, l)),
            (any::<u8>(), proptest::option::of(0usize..4), any::<bool>()).prop_map(|(t, n, f)| Op::Remove(t, n, f)),
            proptest::option::of((0usize..20, 0usize..20)).prop_map(Op::Retain),
        ]
    }

    proptest! {
        #[test]
        fn matches_vec_model(ops in proptest::collection::vec(op(), 0..80)) {
            let mut l = List::new();
            let mut m: Vec<Bytes> = Vec::new();
            for op in ops {
                match op {
                    Op::Push(front, t, n) => {
                        let e = elem(t, n);
                        if front { l.push_front(e.clone()); m.insert(0, e); } else { l.push_back(e.clone()); m.push(e); }
                    }
                    Op::Pop(front) => {
                        let (got, want) = if front {
                            (l.pop_front(), if m.is_empty() { None } else { Some(m.remove(0)) })
                        } else {
                            (l.pop_back(), m.pop())
                        };
                        prop_assert_eq!(got, want);
                    }
                    Op::PopMany(front, n) => {
                        let got = l.pop_many(if front { End::Front } else { End::Back }, n);
                        let k = n.min(m.len());
                        let want: Vec<Bytes> = if front {
                            m.drain(..k).collect()
                        } else {
                            let mut w: Vec<Bytes> = m.drain(m.len() - k..).collect();
                            w.reverse();
                            w
                        };
                        prop_assert_eq!(got, want);
                    }
                    Op::Set(i, t, n) => {
                        let e = elem(t, n);
                        let want = m.get_mut(i).map(|s| std::mem::replace(s, e.clone()));
                        prop_assert_eq!(l.set(i, e), want);
                    }
                    Op::Insert(i, t, n) => {
                        let e = elem(t, n);
                        let i = i.min(m.len());
                        m.insert(i, e.clone());
                        l.insert(i, e);
                    }
                    Op::Remove(t, limit, front) => {
                        let target = elem(t, 0);
                        let limit_n = limit.unwrap_or(usize::MAX);
                        let mut removed = 0;
                        if front {
                            let mut out = Vec::new();
                            for e in m.drain(..) {
                                if removed < limit_n && e == target { removed += 1; } else { out.push(e); }
                            }
                            m = out;
                        } else {
                            let mut out = Vec::new();
                            for e in m.drain(..).rev() {
                                if removed < limit_n && e == target { removed += 1; } else { out.push(e); }
                            }
                            out.reverse();
                            m = out;
                        }
                        let end = if front { End::Front } else { End::Back };
                        prop_assert_eq!(l.remove_matching(&target, limit, end), removed);
                    }
                    Op::Retain(keep) => {
                        m = match keep {
                            Some((s, e)) if s <= e && s < m.len() => m[s..=e.min(m.len() - 1)].to_vec(),
                            _ => Vec::new(),
                        };
                        l.retain_range(keep);
                    }
                }
                prop_assert_eq!(l.len(), m.len());
                prop_assert!(l.iter().eq(m.iter()));
                prop_assert_eq!(l.bytes, l.recount_bytes());
                if let Some(first) = m.first() {
                    prop_assert_eq!(l.position(first), m.iter().position(|e| e == first));
                }
            }
        }
    }
}
