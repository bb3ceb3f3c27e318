//! List values.
//!
//! A chunked deque (a simple quicklist): the elements live in a `VecDeque` of
//! chunks, each a `VecDeque<Elem>` of at most `C` elements (default
//! [`CHUNK`]); an [`Elem`] of up to 38 bytes holds its bytes in its own
//! 40-byte slot. Growing a huge list therefore never copies more than one chunk
//! or the (n / C)-entry chunk index at once, where a single flat `VecDeque`
//! would copy every element handle on each capacity doubling and stall the
//! core for a long list.
//!
//! Cost: O(1) push and pop at both ends; indexing walks chunk lengths from
//! the nearer end, O(n / C) (and O(1) for the first and last chunk); O(n) for
//! the operations that shift or scan elements (LINSERT's search, LREM, LPOS).
//! LTRIM drops whole chunks from the ends and trims at most one chunk per
//! end. A running byte count makes `mem_bytes` O(1); every method that adds,
//! removes or replaces an element keeps it exact.
//!
//! Layout invariants: no chunk is empty (an empty list has no chunks), no
//! chunk holds or has capacity for more than `C` elements, and the cached
//! `len` is the sum of the chunk lengths.

use crate::value::alloc_size;
use bytes::Bytes;
use std::collections::{vec_deque, VecDeque};
use std::fmt;

/// Elements per chunk of a [`List`].
pub const CHUNK: usize = 128;

/// Levels of [`List::prefetch_ends`].
pub(crate) const PREFETCH_LEVELS: usize = 3;

/// A list of binary-safe elements with O(1) push/pop at both ends. `C` is the
/// chunk size (tests use small ones to exercise chunk boundaries); it must be
/// at least 2.
#[derive(Clone, Default)]
pub struct List<const C: usize = CHUNK> {
    /// Never holds an empty chunk; each chunk holds at most `C` elements.
    chunks: VecDeque<VecDeque<Elem>>,
    /// Number of elements (sum of the chunk lengths).
    len: usize,
    /// Sum of [`elem_cost`] over the elements.
    bytes: usize,
}

/// Longest element kept inline in its chunk slot.
const INLINE: usize = 38;

/// A list element. Up to [`INLINE`] bytes live inside the element's slot in
/// its chunk, so a small element costs no allocation of its own and its
/// bytes come with the slot's cache line (what Redis's listpacks achieve by
/// packing); a longer one is a `Bytes` handle. Reads as `&[u8]`.
#[derive(Clone)]
pub struct Elem(Repr);

#[derive(Clone)]
enum Repr {
    Inline(u8, [u8; INLINE]),
    Heap(Bytes),
}

const _: () = assert!(std::mem::size_of::<Elem>() == 40, "a list element slot is 40 bytes");

impl Elem {
    /// The element as an owned `Bytes` (a copy for an inline one).
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Inline(..) => Bytes::copy_from_slice(self),
            Repr::Heap(b) => b.clone(),
        }
    }

    /// The element as an owned `Bytes`, without copying a long one.
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline(..) => Bytes::copy_from_slice(&self),
            Repr::Heap(b) => b,
        }
    }

    fn inline(v: &[u8]) -> Option<Elem> {
        (v.len() <= INLINE).then(|| {
            let mut buf = [0u8; INLINE];
            buf[..v.len()].copy_from_slice(v);
            Elem(Repr::Inline(v.len() as u8, buf))
        })
    }
}

impl std::ops::Deref for Elem {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(n, buf) => &buf[..*n as usize],
            Repr::Heap(b) => b,
        }
    }
}

impl AsRef<[u8]> for Elem {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl PartialEq for Elem {
    fn eq(&self, other: &Elem) -> bool {
        **self == **other
    }
}

impl PartialEq<Bytes> for Elem {
    fn eq(&self, other: &Bytes) -> bool {
        **self == other[..]
    }
}

impl fmt::Debug for Elem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&Bytes::copy_from_slice(self), f)
    }
}

impl From<Bytes> for Elem {
    fn from(b: Bytes) -> Elem {
        Elem::inline(&b).unwrap_or(Elem(Repr::Heap(b)))
    }
}

impl From<&[u8]> for Elem {
    fn from(v: &[u8]) -> Elem {
        Elem::inline(v).unwrap_or_else(|| Elem(Repr::Heap(Bytes::copy_from_slice(v))))
    }
}

/// Bytes one element costs: its slot, plus the allocation of a long one.
fn elem_cost(e: &Elem) -> usize {
    match &e.0 {
        Repr::Inline(..) => std::mem::size_of::<Elem>(),
        Repr::Heap(b) => std::mem::size_of::<Elem>() + alloc_size(b.len()),
    }
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
}

impl<const C: usize> PartialEq for List<C> {
    /// Element-wise: the chunk layout does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<const C: usize> fmt::Debug for List<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("List")
            .field("len", &self.len)
            .field("bytes", &self.bytes)
            .field("chunks", &self.chunks.len())
            .field("items", &self.iter().collect::<Vec<_>>())
            .finish()
    }
}

impl<const C: usize> List<C> {
    const CHUNK_OK: () = assert!(C >= 2, "List chunk size must be at least 2");

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn mem_bytes(&self) -> usize {
        self.bytes + 64
    }

    /// Redis 7.0 stores every list as a quicklist.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Makes room for one more element in `chunk` (which holds fewer than
    /// `C`), growing its capacity geometrically (1, 2, 4, ...) but never
    /// past `C`: a short list pays for the slots it uses, not for four.
    fn make_room(chunk: &mut VecDeque<Elem>) {
        debug_assert!(chunk.len() < C);
        if chunk.len() == chunk.capacity() {
            let want = (chunk.len() * 2).max(1).min(C);
            chunk.reserve_exact(want - chunk.len());
        }
    }

    /// A new, empty chunk. The first chunk of a list starts small (most lists
    /// are short); once a list spans chunks, new ones get their full size at
    /// once.
    fn fresh_chunk(&self) -> VecDeque<Elem> {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHUNK_OK;
        if self.chunks.is_empty() {
            VecDeque::new()
        } else {
            VecDeque::with_capacity(C)
        }
    }

    /// The chunk at `end`, after making sure it can take one more element
    /// (adding a fresh chunk there when the end chunk is full or missing).
    fn end_chunk_with_room(&mut self, end: End) -> &mut VecDeque<Elem> {
        let full = match end {
            End::Front => self.chunks.front(),
            End::Back => self.chunks.back(),
        }
        .is_none_or(|c| c.len() >= C);
        if full {
            if self.chunks.is_empty() {
                // Most lists never need a second chunk: an index of one
                // entry (32 bytes) rather than the default four (128).
                self.chunks.reserve_exact(1);
            }
            let c = self.fresh_chunk();
            match end {
                End::Front => self.chunks.push_front(c),
                End::Back => self.chunks.push_back(c),
            }
        }
        let c = match end {
            End::Front => self.chunks.front_mut(),
            End::Back => self.chunks.back_mut(),
        }
        .expect("an end chunk exists");
        Self::make_room(c);
        c
    }

    /// Hints the CPU to fetch what a push or pop at either end reads, one
    /// level of the chain per call, each level only reading lines the
    /// previous one requested: 0, the chunk index's end entries; 1, the end
    /// chunks' end element slots (holding an inline element's bytes); 2, a
    /// long element's bytes. `Shard::prefetch` calls each level for all the
    /// lists of a batch before the next, so the misses of different lists
    /// overlap.
    pub(crate) fn prefetch_ends(&self, level: usize) {
        use crate::node::prefetch_line;
        let ends = [self.chunks.front(), self.chunks.back()];
        for c in ends.into_iter().flatten() {
            match level {
                0 => prefetch_line((c as *const VecDeque<Elem>).cast()),
                1 => {
                    for e in [c.front(), c.back()].into_iter().flatten() {
                        prefetch_line((e as *const Elem).cast());
                    }
                }
                _ => {
                    for e in [c.front(), c.back()].into_iter().flatten() {
                        prefetch_line(e.as_ptr());
                    }
                }
            }
        }
    }

    pub fn push_front(&mut self, v: impl Into<Elem>) {
        let v = v.into();
        self.bytes += elem_cost(&v);
        self.len += 1;
        self.end_chunk_with_room(End::Front).push_front(v);
    }

    pub fn push_back(&mut self, v: impl Into<Elem>) {
        let v = v.into();
        self.bytes += elem_cost(&v);
        self.len += 1;
        self.end_chunk_with_room(End::Back).push_back(v);
    }

    /// Pushes at `end`.
    pub fn push(&mut self, end: End, v: impl Into<Elem>) {
        match end {
            End::Front => self.push_front(v),
            End::Back => self.push_back(v),
        }
    }

    pub fn pop_front(&mut self) -> Option<Bytes> {
        let c = self.chunks.front_mut()?;
        let v = c.pop_front().expect("chunks are never empty");
        if c.is_empty() {
            self.chunks.pop_front();
        }
        self.len -= 1;
        self.bytes -= elem_cost(&v);
        Some(v.into_bytes())
    }

    pub fn pop_back(&mut self) -> Option<Bytes> {
        let c = self.chunks.back_mut()?;
        let v = c.pop_back().expect("chunks are never empty");
        if c.is_empty() {
            self.chunks.pop_back();
        }
        self.len -= 1;
        self.bytes -= elem_cost(&v);
        Some(v.into_bytes())
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

    /// The chunk holding element `i` (`i < len`) and `i`'s offset in it,
    /// found by walking chunk lengths from the nearer end.
    fn locate(&self, i: usize) -> (usize, usize) {
        debug_assert!(i < self.len);
        if i < self.len / 2 {
            let mut rest = i;
            for (ci, c) in self.chunks.iter().enumerate() {
                if rest < c.len() {
                    return (ci, rest);
                }
                rest -= c.len();
            }
        } else {
            // Distance from the last element.
            let mut rest = self.len - 1 - i;
            for (ci, c) in self.chunks.iter().enumerate().rev() {
                if rest < c.len() {
                    return (ci, c.len() - 1 - rest);
                }
                rest -= c.len();
            }
        }
        unreachable!("index {i} below the list length {} but not in any chunk", self.len)
    }

    pub fn get(&self, i: usize) -> Option<&Elem> {
        if i >= self.len {
            return None;
        }
        let (ci, o) = self.locate(i);
        self.chunks[ci].get(o)
    }

    /// Replaces the element at `i`, returning the old one; `None` (and no
    /// change) when `i` is out of range.
    pub fn set(&mut self, i: usize, v: impl Into<Elem>) -> Option<Bytes> {
        if i >= self.len {
            return None;
        }
        let v = v.into();
        let (ci, o) = self.locate(i);
        let new_cost = elem_cost(&v);
        let old = std::mem::replace(&mut self.chunks[ci][o], v);
        self.bytes = self.bytes - elem_cost(&old) + new_cost;
        Some(old.into_bytes())
    }

    /// Inserts `v` so that it ends up at index `i` (`i <= len`; a larger `i`
    /// appends).
    pub fn insert(&mut self, i: usize, v: impl Into<Elem>) {
        let v = v.into();
        let i = i.min(self.len);
        if i == 0 {
            return self.push_front(v);
        }
        if i == self.len {
            return self.push_back(v);
        }
        // `v` goes before the element now at `i`, at offset `o` of chunk `ci`.
        let (ci, o) = self.locate(i);
        self.bytes += elem_cost(&v);
        self.len += 1;
        if o == 0 && self.chunks[ci - 1].len() < C {
            // Between two chunks (ci > 0 since i > 0): append to the previous
            // one when it has room.
            let prev = &mut self.chunks[ci - 1];
            Self::make_room(prev);
            prev.push_back(v);
        } else if self.chunks[ci].len() < C {
            let c = &mut self.chunks[ci];
            Self::make_room(c);
            c.insert(o, v);
        } else {
            // Full chunk: split it in two halves and insert into one of them.
            let mid = C / 2;
            let c = &mut self.chunks[ci];
            let mut tail = VecDeque::with_capacity(C);
            tail.extend(c.drain(mid..));
            if o <= mid {
                Self::make_room(c);
                c.insert(o, v);
            } else {
                tail.insert(o - mid, v);
            }
            self.chunks.insert(ci + 1, tail);
        }
    }

    /// Index of the first element equal to `elem`.
    pub fn position(&self, elem: &[u8]) -> Option<usize> {
        self.iter().position(|e| e.as_ref() == elem)
    }

    /// Removes up to `limit` elements equal to `elem` (all of them when
    /// `limit` is `None`), counting matches from `from`. Returns how many
    /// were removed.
    pub fn remove_matching(&mut self, elem: &[u8], limit: Option<usize>, from: End) -> usize {
        // The matches to remove are those on `from`'s side of a cut-off index:
        // find the index of the limit-th match, then drop in one O(n) pass.
        let len = self.len;
        let (lo, hi) = match limit {
            None => (0, len),
            Some(0) => return 0,
            Some(limit) => {
                let cut = match from {
                    End::Front => {
                        self.iter().enumerate().filter(|(_, e)| e.as_ref() == elem).map(|(i, _)| i).take(limit).last()
                    }
                    // The limit-th match from the back, or the first match
                    // when there are fewer.
                    End::Back => self
                        .iter()
                        .enumerate()
                        .rev()
                        .filter(|(_, e)| e.as_ref() == elem)
                        .map(|(i, _)| i)
                        .take(limit)
                        .last(),
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
        let mut start = 0; // index of the current chunk's first element
        for c in self.chunks.iter_mut() {
            if start >= hi {
                break;
            }
            let n = c.len();
            if start + n > lo {
                let mut i = start;
                c.retain(|e| {
                    let drop = i >= lo && i < hi && e.as_ref() == elem;
                    i += 1;
                    if drop {
                        removed += 1;
                        freed += elem_cost(e);
                    }
                    !drop
                });
            }
            start += n;
        }
        if removed > 0 {
            self.len -= removed;
            self.bytes -= freed;
            self.compact();
        }
        removed
    }

    /// Drops empty chunks and merges each chunk into its predecessor when
    /// both fit in one, so that sparse chunks do not pile up. O(n).
    fn compact(&mut self) {
        let old = std::mem::take(&mut self.chunks);
        let mut out: VecDeque<VecDeque<Elem>> = VecDeque::with_capacity(old.len());
        for mut c in old {
            if c.is_empty() {
                continue;
            }
            if let Some(prev) = out.back_mut().filter(|p| p.len() + c.len() <= C) {
                if prev.capacity() < prev.len() + c.len() {
                    // Exactly to `C`, so that `append`'s own reservation has
                    // nothing to grow.
                    prev.reserve_exact(C - prev.len());
                }
                prev.append(&mut c);
            } else {
                out.push_back(c);
            }
        }
        self.chunks = out;
    }

    /// Keeps only the elements `start..=end` (already clamped by the caller);
    /// `None` empties the list.
    pub fn retain_range(&mut self, keep: Option<(usize, usize)>) {
        let len = self.len;
        let (start, end) = match keep {
            Some((s, e)) if s <= e && s < len => (s, e.min(len - 1)),
            _ => {
                self.chunks.clear();
                self.len = 0;
                self.bytes = 0;
                return;
            }
        };
        let mut freed = 0;
        // Whole chunks go from each end, then part of at most one chunk.
        let mut drop_back = len - 1 - end;
        while drop_back > 0 {
            let c = self.chunks.back_mut().expect("dropping fewer than len elements");
            if c.len() <= drop_back {
                drop_back -= c.len();
                freed += c.iter().map(elem_cost).sum::<usize>();
                self.chunks.pop_back();
            } else {
                let keep_n = c.len() - drop_back;
                freed += c.drain(keep_n..).map(|e| elem_cost(&e)).sum::<usize>();
                drop_back = 0;
            }
        }
        let mut drop_front = start;
        while drop_front > 0 {
            let c = self.chunks.front_mut().expect("dropping fewer than len elements");
            if c.len() <= drop_front {
                drop_front -= c.len();
                freed += c.iter().map(elem_cost).sum::<usize>();
                self.chunks.pop_front();
            } else {
                freed += c.drain(..drop_front).map(|e| elem_cost(&e)).sum::<usize>();
                drop_front = 0;
            }
        }
        self.len = end - start + 1;
        self.bytes -= freed;
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Elem> + ExactSizeIterator {
        Iter { outer: self.chunks.iter(), front: Default::default(), back: Default::default(), remaining: self.len }
    }

    /// Elements `start..=end` (already clamped by the caller: `end < len`,
    /// `start <= end + 1`; `start == end + 1` gives nothing).
    pub fn range(&self, start: usize, end: usize) -> impl DoubleEndedIterator<Item = &Elem> + ExactSizeIterator {
        assert!(
            end < self.len && start <= end + 1,
            "list range {start}..={end} out of bounds for length {}",
            self.len
        );
        if start > end {
            return Iter { outer: Default::default(), front: Default::default(), back: Default::default(), remaining: 0 };
        }
        let (cs, os) = self.locate(start);
        let (ce, oe) = self.locate(end);
        let remaining = end - start + 1;
        if cs == ce {
            Iter { outer: Default::default(), front: self.chunks[cs].range(os..=oe), back: Default::default(), remaining }
        } else {
            Iter {
                outer: self.chunks.range(cs + 1..ce),
                front: self.chunks[cs].range(os..),
                back: self.chunks[ce].range(..=oe),
                remaining,
            }
        }
    }

    /// The byte count recomputed from scratch (tests check it against the
    /// running one).
    pub fn recount_bytes(&self) -> usize {
        self.iter().map(elem_cost).sum()
    }

    /// Panics unless the layout invariants hold.
    #[cfg(test)]
    fn check_layout(&self) {
        let mut n = 0;
        for (i, c) in self.chunks.iter().enumerate() {
            assert!(!c.is_empty(), "chunk {i} is empty");
            assert!(c.len() <= C, "chunk {i} holds {} > {C}", c.len());
            assert!(c.capacity() <= C, "chunk {i} has capacity {} > {C}", c.capacity());
            n += c.len();
        }
        assert_eq!(n, self.len, "cached len");
    }
}

/// Iterator over a [`List`] (or part of it): like `Flatten` over the chunks,
/// but it knows how many elements are left, so it is exact-size.
struct Iter<'a> {
    /// Chunks not yet entered from either side.
    outer: vec_deque::Iter<'a, VecDeque<Elem>>,
    /// The rest of the chunk being walked from the front.
    front: vec_deque::Iter<'a, Elem>,
    /// The rest of the chunk being walked from the back.
    back: vec_deque::Iter<'a, Elem>,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Elem;

    fn next(&mut self) -> Option<&'a Elem> {
        loop {
            if let Some(x) = self.front.next() {
                self.remaining -= 1;
                return Some(x);
            }
            match self.outer.next() {
                Some(c) => self.front = c.iter(),
                None => {
                    let x = self.back.next()?;
                    self.remaining -= 1;
                    return Some(x);
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<&'a Elem> {
        loop {
            if let Some(x) = self.back.next_back() {
                self.remaining -= 1;
                return Some(x);
            }
            match self.outer.next_back() {
                Some(c) => self.back = c.iter(),
                None => {
                    let x = self.front.next_back()?;
                    self.remaining -= 1;
                    return Some(x);
                }
            }
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::iter::FusedIterator for Iter<'_> {}

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

    fn contents<const C: usize>(l: &List<C>) -> Vec<String> {
        l.iter().map(|e| String::from_utf8_lossy(e).into_owned()).collect()
    }

    #[test]
    fn prefetch_ends_reads_any_shape() {
        // Empty, one element, one chunk, several chunks: every level only
        // follows pointers that exist, and the list is left as it was.
        for n in [0, 1, 3, CHUNK + 5, 3 * CHUNK] {
            let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            let l = list_of(&items.iter().map(String::as_str).collect::<Vec<_>>());
            for level in 0..PREFETCH_LEVELS + 1 {
                l.prefetch_ends(level);
            }
            assert_eq!(contents(&l), items);
        }
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

    #[test]
    fn million_pushes_one_at_a_time() {
        let n = 1_000_000usize;
        let mut back = List::new();
        let mut front = List::new();
        for i in 0..n {
            back.push_back(Bytes::from(i.to_string()));
            front.push_front(Bytes::from(i.to_string()));
        }
        for l in [&back, &front] {
            assert_eq!(l.len(), n);
            assert_eq!(l.iter().len(), n);
            l.check_layout();
            assert_eq!(l.bytes, l.recount_bytes());
        }
        for i in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 123_457, n / 2, n - 2, n - 1] {
            assert_eq!(back.get(i).map(Elem::to_bytes), Some(Bytes::from(i.to_string())), "back.get({i})");
            assert_eq!(front.get(i).map(Elem::to_bytes), Some(Bytes::from((n - 1 - i).to_string())), "front.get({i})");
        }
        assert_eq!(back.get(n), None);
        assert_eq!(back.range(n - 3, n - 1).map(Elem::to_bytes).collect::<Vec<_>>(), ["999997", "999998", "999999"]);
        // Full chunks: the chunk index stays about n / CHUNK entries.
        assert_eq!(back.chunks.len(), n.div_ceil(CHUNK));
        assert!(back.iter().rev().eq(front.iter()));
    }

    #[test]
    fn equality_ignores_chunk_layout() {
        let mut a: List<4> = List::default();
        let mut b2: List<4> = List::default();
        for i in 0..10 {
            a.push_back(b(&i.to_string()));
        }
        for i in (0..10).rev() {
            b2.push_front(b(&i.to_string()));
        }
        // Different layout, same elements.
        b2.insert(5, b("x"));
        b2.remove_matching(b"x", None, End::Front);
        let e = b2.pop_front().unwrap();
        b2.push_front(e);
        assert_ne!(a.chunks, b2.chunks, "the layouts should differ for this test");
        assert_eq!(a, b2);
        assert_eq!(a.clone(), a);
        b2.set(9, b("y"));
        assert_ne!(a, b2);
        b2.pop_back();
        assert_ne!(a, b2);
    }

    #[test]
    fn insert_into_full_chunks_splits() {
        let mut l: List<4> = List::default();
        for i in 0..8 {
            l.push_back(b(&i.to_string()));
        }
        assert_eq!(l.chunks.len(), 2);
        l.insert(2, b("a"));
        l.insert(7, b("b"));
        l.insert(4, b("c"));
        l.check_layout();
        assert_eq!(contents(&l), ["0", "1", "a", "2", "c", "3", "4", "5", "b", "6", "7"]);
        let mut it = l.iter().enumerate().rev();
        assert_eq!(it.len(), 11);
        assert_eq!(it.next().map(|(i, e)| (i, e.to_bytes())), Some((10, b("7"))));
        assert_eq!(contents(&l), l.range(0, 10).map(|e| String::from_utf8_lossy(e).into_owned()).collect::<Vec<_>>());
        assert_eq!(l.range(3, 2).count(), 0);
        assert_eq!(l.bytes, l.recount_bytes());
    }

    /// One operation of the chunked-deque model test. Indices are raw and get
    /// reduced against the current length so that most of them land.
    #[derive(Debug, Clone)]
    enum COp {
        Push(bool, u8, u8),
        PushMany(bool, usize, u8),
        Pop(bool),
        PopMany(bool, usize),
        Set(usize, u8, u8),
        Insert(usize, u8, u8),
        Get(usize),
        Remove(u8, Option<usize>, bool),
        Retain(u8, usize, usize),
        Position(u8),
        Range(usize, usize, bool),
        IterMix(Vec<bool>),
    }

    fn celem(tag: u8, size: u8) -> Bytes {
        // 3 tags x 4 sizes: frequent matches, several size classes.
        elem(tag % 3, [0, 1, 7, 39][size as usize % 4])
    }

    fn cop(max_burst: usize) -> impl Strategy<Value = COp> {
        prop_oneof![
            4 => (any::<bool>(), any::<u8>(), any::<u8>()).prop_map(|(f, t, s)| COp::Push(f, t, s)),
            2 => (any::<bool>(), 0..max_burst, any::<u8>()).prop_map(|(f, n, t)| COp::PushMany(f, n, t)),
            2 => any::<bool>().prop_map(COp::Pop),
            1 => (any::<bool>(), 0..max_burst / 2).prop_map(|(f, n)| COp::PopMany(f, n)),
            2 => (any::<usize>(), any::<u8>(), any::<u8>()).prop_map(|(i, t, s)| COp::Set(i, t, s)),
            3 => (any::<usize>(), any::<u8>(), any::<u8>()).prop_map(|(i, t, s)| COp::Insert(i, t, s)),
            2 => any::<usize>().prop_map(COp::Get),
            1 => (any::<u8>(), proptest::option::of(0usize..12), any::<bool>()).prop_map(|(t, n, f)| COp::Remove(t, n, f)),
            1 => (any::<u8>(), any::<usize>(), any::<usize>()).prop_map(|(m, a, b)| COp::Retain(m, a, b)),
            1 => any::<u8>().prop_map(COp::Position),
            2 => (any::<usize>(), any::<usize>(), any::<bool>()).prop_map(|(a, b, e)| COp::Range(a, b, e)),
            1 => proptest::collection::vec(any::<bool>(), 0..40).prop_map(COp::IterMix),
        ]
    }

    fn end(front: bool) -> End {
        if front {
            End::Front
        } else {
            End::Back
        }
    }

    /// Runs `ops` against a `List<C>` and a plain `VecDeque` model, checking
    /// results, contents, byte counts and the chunk layout after every step.
    fn run_chunk_model<const C: usize>(ops: Vec<COp>) -> Result<(), TestCaseError> {
        let mut l: List<C> = List::default();
        let mut m: VecDeque<Bytes> = VecDeque::new();
        for op in ops {
            let len = m.len();
            match op {
                COp::Push(front, t, s) => {
                    let e = celem(t, s);
                    l.push(end(front), e.clone());
                    if front { m.push_front(e) } else { m.push_back(e) }
                }
                COp::PushMany(front, n, t) => {
                    for k in 0..n {
                        let e = celem(t.wrapping_add(k as u8), k as u8);
                        l.push(end(front), e.clone());
                        if front { m.push_front(e) } else { m.push_back(e) }
                    }
                }
                COp::Pop(front) => {
                    let want = if front { m.pop_front() } else { m.pop_back() };
                    prop_assert_eq!(l.pop(end(front)), want);
                }
                COp::PopMany(front, n) => {
                    let k = n.min(len);
                    let want: Vec<Bytes> = if front { m.drain(..k).collect() } else { m.drain(len - k..).rev().collect() };
                    prop_assert_eq!(l.pop_many(end(front), n), want);
                }
                COp::Set(i, t, s) => {
                    let i = i % (len + 2);
                    let e = celem(t, s);
                    let want = m.get_mut(i).map(|slot| std::mem::replace(slot, e.clone()));
                    prop_assert_eq!(l.set(i, e), want);
                }
                COp::Insert(i, t, s) => {
                    let e = celem(t, s);
                    // Mostly in range; sometimes far past the end (appends).
                    let i = if i % 10 == 0 { i } else { i % (len + 1) };
                    l.insert(i, e.clone());
                    m.insert(i.min(len), e);
                }
                COp::Get(i) => {
                    let i = i % (len + 2);
                    prop_assert_eq!(l.get(i).map(|e| &e[..]), m.get(i).map(|b| &b[..]));
                    prop_assert_eq!(l.get(0).map(|e| &e[..]), m.front().map(|b| &b[..]));
                    prop_assert_eq!(l.get(len.wrapping_sub(1)).map(|e| &e[..]), m.back().map(|b| &b[..]));
                }
                COp::Remove(t, limit, front) => {
                    let target = celem(t, t / 3);
                    let limit_n = match limit {
                        None => usize::MAX,
                        Some(n) => n,
                    };
                    let mut removed = 0;
                    let mut out: VecDeque<Bytes> = VecDeque::new();
                    if front {
                        for e in m.drain(..) {
                            if removed < limit_n && e == target { removed += 1 } else { out.push_back(e) }
                        }
                    } else {
                        for e in m.drain(..).rev() {
                            if removed < limit_n && e == target { removed += 1 } else { out.push_front(e) }
                        }
                    }
                    m = out;
                    prop_assert_eq!(l.remove_matching(&target, limit, end(front)), removed);
                }
                COp::Retain(mode, a, b) => {
                    let keep = match mode % 8 {
                        0 => None,
                        1 => Some((a % (len + 2), b % (len + 2))),
                        2 => Some((a % (len + 1), usize::MAX)),
                        _ => {
                            // Trim a little from each end.
                            let q = len / 4 + 1;
                            Some((a % q, len.saturating_sub(1 + b % q)))
                        }
                    };
                    m = match keep {
                        Some((s, e)) if s <= e && s < len => m.range(s..=e.min(len - 1)).cloned().collect(),
                        _ => VecDeque::new(),
                    };
                    l.retain_range(keep);
                }
                COp::Position(t) => {
                    let target = celem(t, t / 3);
                    prop_assert_eq!(l.position(&target), m.iter().position(|e| *e == target));
                }
                COp::Range(a, b, empty) => {
                    if len > 0 {
                        let s = a % len;
                        if empty {
                            // start == end + 1: nothing.
                            prop_assert_eq!(l.range(s + 1, s).count(), 0);
                        } else {
                            let e = s + b % (len - s);
                            let r = l.range(s, e);
                            prop_assert_eq!(r.len(), e - s + 1);
                            prop_assert!(r.eq(m.range(s..=e)));
                            prop_assert!(l.range(s, e).rev().eq(m.range(s..=e).rev()));
                        }
                    }
                }
                COp::IterMix(sides) => {
                    let mut got = l.iter();
                    let mut want = m.iter();
                    for front in sides {
                        prop_assert_eq!(got.len(), want.len());
                        prop_assert_eq!(got.size_hint(), want.size_hint());
                        if front {
                            prop_assert_eq!(got.next().map(|e| &e[..]), want.next().map(|b| &b[..]));
                        } else {
                            prop_assert_eq!(got.next_back().map(|e| &e[..]), want.next_back().map(|b| &b[..]));
                        }
                    }
                    prop_assert!(got.eq(want));
                }
            }
            prop_assert_eq!(l.len(), m.len());
            prop_assert_eq!(l.is_empty(), m.is_empty());
            prop_assert_eq!(l.iter().len(), m.len());
            prop_assert!(l.iter().eq(m.iter()));
            prop_assert!(l.iter().rev().eq(m.iter().rev()));
            prop_assert_eq!(l.bytes, l.recount_bytes());
            prop_assert_eq!(l.bytes, m.iter().map(|b| elem_cost(&Elem::from(b.clone()))).sum::<usize>());
            l.check_layout();
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Tiny chunks: every few operations cross a chunk boundary.
        #[test]
        fn chunked_matches_vecdeque_model_chunk4(ops in proptest::collection::vec(cop(24), 100..500)) {
            run_chunk_model::<4>(ops)?;
        }

        #[test]
        fn chunked_matches_vecdeque_model_chunk2(ops in proptest::collection::vec(cop(12), 100..400)) {
            run_chunk_model::<2>(ops)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The real chunk size, with pushes in bursts long enough to span
        /// several chunks.
        #[test]
        fn chunked_matches_vecdeque_model_default_chunk(ops in proptest::collection::vec(cop(400), 100..400)) {
            run_chunk_model::<CHUNK>(ops)?;
        }
    }
}
