//! Hash values.
//!
//! A hash has one of Redis 7.0's two encodings, and changes from the first to
//! the second at the same points as Redis (never back):
//!
//! - **listpack** (at most [`LISTPACK_MAX_ENTRIES`] fields, every field and
//!   value at most [`LISTPACK_MAX_VALUE`] bytes): all pairs packed back to
//!   back in one exactly-sized byte buffer,
//!
//!   ```text
//!   [field len: u8][field bytes][value len: u8][value bytes]  ... per pair
//!   ```
//!
//!   Why packed: most hashes in a keyspace are small objects, and there the
//!   per-element overhead dominates. As separate `Bytes` every field and
//!   value costs a 32-byte handle plus an allocation of its own (some 90
//!   bytes a pair for 8-byte values); packed, it costs its bytes plus two
//!   length bytes, in one allocation per hash (the `Hash` handle itself, 24
//!   bytes, sits unboxed in the key's node). Lookups scan linearly, as in
//!   Redis: at most 512 short entries, in one contiguous buffer. The order
//!   is Redis's listpack order (insertion order, updates in place, deletion
//!   closes the gap), so HGETALL, HKEYS, HSCAN and
//!   HRANDFIELD answer in the same order as Redis. A write that changes the
//!   buffer's size reallocates it to exactly that size (the allocator
//!   usually grows or shrinks it in place), so it carries no spare capacity.
//! - **hashtable**: a vector of `(Bytes, Bytes)` pairs plus a field →
//!   position index. Deletion swaps the last pair into the hole. Positions
//!   make HRANDFIELD O(1) per pick and give HSCAN a stable cursor (see
//!   [`Hash::scan`]).
//!
//! Readers get fields and values as `&[u8]` borrowed from the hash, whatever
//! the encoding.

use super::splice;
use crate::value::alloc_size;
use bytes::Bytes;
use hashbrown::HashMap;
use rand::seq::index;
use rand::Rng;
use std::fmt;

/// Redis's hash-max-listpack-entries / hash-max-listpack-value defaults.
pub const LISTPACK_MAX_ENTRIES: usize = 512;
pub const LISTPACK_MAX_VALUE: usize = 64;

// A packed length is one byte.
const _: () = assert!(LISTPACK_MAX_VALUE <= u8::MAX as usize);

/// Field/value pairs. Redis 7.0 keeps small hashes as a listpack and
/// converts to a hashtable for good once one is large.
#[derive(Clone, Default)]
pub struct Hash(Repr);

#[derive(Clone)]
enum Repr {
    Packed(Packed),
    Table(Box<Table>),
}

impl Default for Repr {
    fn default() -> Repr {
        Repr::Packed(Packed::default())
    }
}

/// The listpack encoding: pairs back to back in one buffer (see the module doc).
#[derive(Clone, Default)]
struct Packed {
    buf: Box<[u8]>,
    /// Pairs in `buf`.
    len: u16,
}

/// Where one packed pair lies in the buffer.
struct Span {
    start: usize,
    /// First byte of the value (its length byte is just before).
    value: usize,
    end: usize,
}

/// A field and its value, borrowed from a hash.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// The first pair of a packed buffer and the rest; None at the end (or on a
/// truncated pair, which the buffer never holds).
fn split_pair(b: &[u8]) -> Option<(Pair<'_>, &[u8])> {
    let (&flen, b) = b.split_first()?;
    let (f, b) = b.split_at_checked(flen as usize)?;
    let (&vlen, b) = b.split_first()?;
    let (v, b) = b.split_at_checked(vlen as usize)?;
    Some(((f, v), b))
}

impl Packed {
    fn iter(&self) -> Iter<'_> {
        Iter(IterRepr::Packed { rest: &self.buf, left: self.len as usize })
    }

    fn find(&self, field: &[u8]) -> Option<Span> {
        let mut rest: &[u8] = &self.buf;
        let mut start = 0;
        while let Some(((f, v), tail)) = split_pair(rest) {
            let end = self.buf.len() - tail.len();
            if f == field {
                return Some(Span { start, value: end - v.len(), end });
            }
            start = end;
            rest = tail;
        }
        None
    }

    fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field).map(|s| &self.buf[s.value..s.end])
    }

    /// Sets a field whose field and value fit [`LISTPACK_MAX_VALUE`]; true when new.
    fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        // Lengths fit a byte: the caller checked them against LISTPACK_MAX_VALUE.
        let vlen = [value.len() as u8];
        match self.find(field) {
            Some(s) if s.end - s.value == value.len() => {
                self.buf[s.value..s.end].copy_from_slice(value);
                false
            }
            Some(s) => {
                splice(&mut self.buf, s.value - 1..s.end, &[&vlen, value]);
                false
            }
            None => {
                let end = self.buf.len();
                splice(&mut self.buf, end..end, &[&[field.len() as u8], field, &vlen, value]);
                self.len += 1;
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        let Some(s) = self.find(field) else { return false };
        splice(&mut self.buf, s.start..s.end, &[]);
        self.len -= 1;
        true
    }
}

/// The hashtable encoding.
#[derive(Clone, Default)]
struct Table {
    pairs: Vec<(Bytes, Bytes)>,
    /// Field → position in `pairs`.
    index: HashMap<Bytes, usize>,
    /// Heap bytes held by the pairs and the index, kept up to date on every change.
    bytes: usize,
}

/// Bytes one pair costs in a table besides its field's and value's own
/// allocations: the two handles in `pairs` (with the vector's spare room)
/// and an index slot (key handle, position, the table's spare room).
const TABLE_PAIR_COST: usize = 72 + 48;

fn table_pair_cost(f: &[u8], v: &[u8]) -> usize {
    alloc_size(f.len()) + alloc_size(v.len()) + TABLE_PAIR_COST
}

impl Table {
    fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let Some(&i) = self.index.get(field) {
            let slot = &mut self.pairs[i].1;
            self.bytes = self.bytes + alloc_size(value.len()) - alloc_size(slot.len());
            *slot = Bytes::copy_from_slice(value);
            return false;
        }
        let field = Bytes::copy_from_slice(field);
        self.bytes += table_pair_cost(&field, value);
        self.index.insert(field.clone(), self.pairs.len());
        self.pairs.push((field, Bytes::copy_from_slice(value)));
        true
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        let Some(i) = self.index.remove(field) else { return false };
        let (f, v) = self.pairs.swap_remove(i);
        if let Some((moved, _)) = self.pairs.get(i) {
            if let Some(pos) = self.index.get_mut(moved) {
                *pos = i;
            }
        }
        self.bytes -= table_pair_cost(&f, &v);
        true
    }
}

impl PartialEq for Hash {
    /// Same fields with the same values, whatever their order.
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Text<'a>(&'a [u8]);
        impl fmt::Debug for Text<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "\"{}\"", self.0.escape_ascii())
            }
        }
        write!(f, "Hash({}) ", self.encoding())?;
        f.debug_map().entries(self.iter().map(|(k, v)| (Text(k), Text(v)))).finish()
    }
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Packed(p) => p.len as usize,
            Repr::Table(t) => t.pairs.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes the hash holds (the `Hash` itself lives in its key's node).
    /// A listpack counts its buffer's size class; an allocator that shrinks
    /// a block in place may hold up to twice that until the next move.
    pub fn mem_bytes(&self) -> usize {
        match &self.0 {
            Repr::Packed(p) => alloc_size(p.buf.len()),
            Repr::Table(t) => alloc_size(size_of::<Table>()) + t.bytes,
        }
    }

    /// Starts loading the first pairs (packed) or the table header without
    /// waiting for them.
    pub fn prefetch(&self) {
        match &self.0 {
            Repr::Packed(p) => crate::node::prefetch_line(p.buf.as_ptr()),
            Repr::Table(t) => crate::node::prefetch_line((&**t as *const Table).cast()),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match &self.0 {
            Repr::Packed(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.0 {
            Repr::Packed(p) => p.get(field),
            Repr::Table(t) => t.index.get(field).map(|&i| &t.pairs[i].1[..]),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to the hashtable encoding (one-way), keeping the order.
    fn make_big(&mut self) {
        if let Repr::Packed(p) = &self.0 {
            let mut t = Table { pairs: Vec::with_capacity(p.len as usize), ..Table::default() };
            t.index.reserve(p.len as usize);
            for (f, v) in p.iter() {
                t.insert(f, v);
            }
            self.0 = Repr::Table(Box::new(t));
        }
    }

    /// Sets a field; returns true when it is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        match &mut self.0 {
            Repr::Table(t) => t.insert(field, value),
            Repr::Packed(p) if field.len() <= LISTPACK_MAX_VALUE && value.len() <= LISTPACK_MAX_VALUE => {
                let new = p.insert(field, value);
                if p.len as usize > LISTPACK_MAX_ENTRIES {
                    self.make_big();
                }
                new
            }
            Repr::Packed(_) => {
                self.make_big();
                self.insert(field, value)
            }
        }
    }

    /// Removes a field; returns true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.0 {
            Repr::Packed(p) => p.remove(field),
            Repr::Table(t) => t.remove(field),
        }
    }

    /// Pairs in the hash's order (insertion order while it is a listpack).
    pub fn iter(&self) -> Iter<'_> {
        match &self.0 {
            Repr::Packed(p) => p.iter(),
            Repr::Table(t) => Iter(IterRepr::Table(t.pairs.iter())),
        }
    }

    /// The pairs by position, for random picks.
    fn by_position(&self) -> ByPosition<'_> {
        match &self.0 {
            // A listpack has no positions: list its pairs once.
            Repr::Packed(p) => ByPosition::Listed(p.iter().collect()),
            Repr::Table(t) => ByPosition::Table(t),
        }
    }

    /// One pair drawn at random.
    pub fn random(&self) -> Option<Pair<'_>> {
        if self.is_empty() {
            return None;
        }
        let i = rand::thread_rng().gen_range(0..self.len());
        match &self.0 {
            Repr::Packed(p) => p.iter().nth(i),
            Repr::Table(t) => t.pairs.get(i).map(|(f, v)| (&f[..], &v[..])),
        }
    }

    /// `count` pairs drawn independently (repeats possible; none when empty),
    /// as the distinct pairs drawn and, per draw, its index in that list, so
    /// that a caller copies a pair once however often it was drawn.
    pub fn random_with_repeats(&self, count: usize) -> (Vec<Pair<'_>>, Vec<usize>) {
        if self.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let mut rng = rand::thread_rng();
        let pairs = self.by_position();
        // Position in the hash → index in `drawn`.
        let mut seen: HashMap<usize, usize> = HashMap::new();
        let mut drawn = Vec::new();
        let draws = (0..count)
            .map(|_| {
                let i = rng.gen_range(0..self.len());
                *seen.entry(i).or_insert_with(|| {
                    drawn.push(pairs.get(i));
                    drawn.len() - 1
                })
            })
            .collect();
        (drawn, draws)
    }

    /// `min(count, len)` distinct pairs. When that is every pair they come in
    /// the hash's own order (as Redis answers), otherwise in random order.
    pub fn random_distinct(&self, count: usize) -> Vec<Pair<'_>> {
        if count >= self.len() {
            return self.iter().collect();
        }
        let pairs = self.by_position();
        index::sample(&mut rand::thread_rng(), self.len(), count).into_iter().map(|i| pairs.get(i)).collect()
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
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut emit: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        match &self.0 {
            Repr::Packed(p) => {
                p.iter().for_each(|(f, v)| emit(f, v));
                0
            }
            Repr::Table(t) => {
                let (window, next) = super::scan_window(cursor, count, t.pairs.len());
                for (f, v) in t.pairs[window].iter().rev() {
                    emit(f, v);
                }
                next
            }
        }
    }
}

/// The pairs of a hash by position (see [`Hash::by_position`]).
enum ByPosition<'a> {
    Listed(Vec<Pair<'a>>),
    Table(&'a Table),
}

impl<'a> ByPosition<'a> {
    /// The pair at position `i`, which is below the hash's length.
    fn get(&self, i: usize) -> Pair<'a> {
        match self {
            ByPosition::Listed(pairs) => pairs[i],
            ByPosition::Table(t) => {
                let (f, v) = &t.pairs[i];
                (f, v)
            }
        }
    }
}

/// The pairs of a hash in its order, borrowed (see [`Hash::iter`]).
pub struct Iter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Packed { rest: &'a [u8], left: usize },
    Table(std::slice::Iter<'a, (Bytes, Bytes)>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Packed { rest, left } => {
                let (pair, tail) = split_pair(rest)?;
                *rest = tail;
                *left -= 1;
                Some(pair)
            }
            IterRepr::Table(it) => it.next().map(|(f, v)| (&f[..], &v[..])),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.0 {
            IterRepr::Packed { left, .. } => *left,
            IterRepr::Table(it) => it.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn fields(h: &Hash) -> Vec<&[u8]> {
        h.iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn listpack_keeps_insertion_order() {
        let mut h = Hash::new();
        for f in ["c", "a", "b"] {
            assert!(h.insert(f.as_bytes(), b"1"));
        }
        assert!(!h.insert(b"a", b"2"));
        assert!(h.remove(b"c"));
        assert!(!h.remove(b"c"));
        h.insert(b"c", b"3");
        assert_eq!(fields(&h), vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(h.get(b"a"), Some(&b"2"[..]));
        assert_eq!(h.get(b"x"), None);
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn packed_updates_in_place_with_other_lengths() {
        let mut h = Hash::new();
        h.insert(b"a", b"1");
        h.insert(b"bb", b"");
        h.insert(b"c", b"333");
        // Longer, shorter, empty and full-size values, first, middle and last.
        for (f, v) in [(&b"a"[..], &b"a long value"[..]), (b"bb", b"x"), (b"c", b""), (b"a", &[b'y'; LISTPACK_MAX_VALUE][..]), (b"bb", b"")] {
            assert!(!h.insert(f, v));
            assert_eq!(h.get(f), Some(v));
        }
        assert_eq!(fields(&h), vec![&b"a"[..], b"bb", b"c"]);
        assert_eq!(h.get(b"a"), Some(&[b'y'; LISTPACK_MAX_VALUE][..]));
        assert_eq!(h.get(b"c"), Some(&b""[..]));
        assert_eq!(h.encoding(), "listpack");
        // An empty field is a field too.
        assert!(h.insert(b"", b"empty"));
        assert_eq!(h.get(b""), Some(&b"empty"[..]));
        assert!(h.remove(b"bb"));
        assert_eq!(fields(&h), vec![&b"a"[..], b"c", b""]);
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn packed_memory_is_one_exact_buffer() {
        let mut h = Hash::new();
        assert_eq!(h.mem_bytes(), 0);
        for i in 0..5 {
            h.insert(format!("f{i}").as_bytes(), format!("value00{i}").as_bytes());
        }
        // 5 × (1 + 2 + 1 + 8) bytes.
        assert_eq!(h.mem_bytes(), alloc_size(60));
        for i in 0..5 {
            h.remove(format!("f{i}").as_bytes());
        }
        assert_eq!(h.mem_bytes(), 0);
        // Stored inside the key's node: a hash adds nothing to a value's size.
        assert!(size_of::<Hash>() <= 24, "{}", size_of::<Hash>());
        assert!(size_of::<Value>() <= 40, "{}", size_of::<Value>());
    }

    #[test]
    fn conversion_is_sticky() {
        let long = [b'x'; LISTPACK_MAX_VALUE + 1];
        // A long value for an existing field, or a long new field.
        for (f, v) in [(&b"f"[..], &long[..]), (&long[..], &b"v"[..])] {
            let mut h = Hash::new();
            h.insert(b"a", b"1");
            h.insert(b"f", b"v");
            h.insert(f, v);
            assert_eq!(h.encoding(), "hashtable");
            assert_eq!(h.get(f), Some(v));
            assert_eq!(h.get(b"a"), Some(&b"1"[..]));
            assert_eq!(&fields(&h)[..2], &[&b"a"[..], b"f"]);
            h.remove(f);
            h.insert(f, b"v");
            assert_eq!(h.encoding(), "hashtable");
        }
        let mut h = Hash::new();
        for i in 0..=LISTPACK_MAX_ENTRIES {
            assert_eq!(h.encoding(), "listpack");
            h.insert(i.to_string().as_bytes(), b"v");
        }
        assert_eq!(h.encoding(), "hashtable");
        // The conversion keeps the listpack's order.
        let want: Vec<String> = (0..=LISTPACK_MAX_ENTRIES).map(|i| i.to_string()).collect();
        assert_eq!(fields(&h), want.iter().map(|s| s.as_bytes()).collect::<Vec<_>>());
        for i in 0..=LISTPACK_MAX_ENTRIES {
            h.remove(i.to_string().as_bytes());
        }
        assert_eq!(h.encoding(), "hashtable");
        assert!(h.is_empty());
        assert_eq!(h.mem_bytes(), alloc_size(size_of::<Table>()));
    }

    #[test]
    fn random_picks() {
        for n in [10, 600] {
            let mut h = Hash::new();
            assert!(h.random().is_none());
            assert_eq!(h.random_with_repeats(5), (vec![], vec![]));
            assert!(h.random_distinct(5).is_empty());
            for i in 0..n {
                h.insert(i.to_string().as_bytes(), format!("v{i}").as_bytes());
            }
            let consistent = |(f, v): (&[u8], &[u8])| h.get(f) == Some(v);
            assert!(h.random().is_some_and(consistent));
            let (drawn, draws) = h.random_with_repeats(25);
            assert_eq!(draws.len(), 25);
            assert!(draws.iter().all(|&i| i < drawn.len()));
            assert_eq!(drawn.len(), draws.iter().collect::<HashSet<_>>().len());
            assert_eq!(drawn.iter().map(|(f, _)| *f).collect::<HashSet<_>>().len(), drawn.len());
            assert!(drawn.into_iter().all(consistent));
            // Far more draws than pairs: each pair is listed once.
            let (drawn, draws) = h.random_with_repeats(50 * n);
            assert_eq!(draws.len(), 50 * n);
            assert!(drawn.len() <= n);
            let d = h.random_distinct(7);
            assert_eq!(d.len(), 7);
            assert_eq!(d.iter().map(|(f, _)| *f).collect::<HashSet<_>>().len(), 7);
            assert!(d.into_iter().all(consistent));
            let all: Vec<_> = h.random_distinct(usize::MAX).into_iter().map(|(f, _)| f).collect();
            assert_eq!(all, fields(&h));
        }
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

    fn field(f: u16) -> Vec<u8> {
        format!("field:{f}").into_bytes()
    }

    /// A listpack as a list of pairs: new fields at the end, updates in
    /// place, deletion closes the gap.
    #[derive(Default)]
    struct Model(Vec<(Vec<u8>, Vec<u8>)>);

    impl Model {
        fn get(&self, f: &[u8]) -> Option<&[u8]> {
            self.0.iter().find(|(k, _)| k == f).map(|(_, v)| &v[..])
        }

        fn insert(&mut self, f: Vec<u8>, v: Vec<u8>) -> bool {
            match self.0.iter_mut().find(|(k, _)| *k == f) {
                Some(slot) => {
                    slot.1 = v;
                    false
                }
                None => {
                    self.0.push((f, v));
                    true
                }
            }
        }

        fn remove(&mut self, f: &[u8]) -> bool {
            let Some(i) = self.0.iter().position(|(k, _)| k == f) else { return false };
            self.0.remove(i);
            true
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec(op(), 0..600)) {
            let mut h = Hash::new();
            let mut model = Model::default();
            let mut big = false;
            for o in ops {
                match o {
                    Op::Insert(f, v) => {
                        let v = vec![v; (v % 8) as usize];
                        prop_assert_eq!(h.insert(&field(f), &v), model.insert(field(f), v));
                    }
                    Op::Long(f) => {
                        let v = vec![b'L'; 65 + (f % 100) as usize];
                        prop_assert_eq!(h.insert(&field(f), &v), model.insert(field(f), v));
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
                                seen.insert(f);
                            });
                            if c == 0 { break; }
                        }
                        prop_assert_eq!(seen.len(), model.0.len());
                    }
                }
                big |= model.0.len() > LISTPACK_MAX_ENTRIES;
                prop_assert_eq!(h.encoding(), if big { "hashtable" } else { "listpack" });
                prop_assert_eq!(h.len(), model.0.len());
                if !big {
                    // Listpack order, exactly.
                    let got: Vec<(&[u8], &[u8])> = h.iter().collect();
                    let want: Vec<(&[u8], &[u8])> = model.0.iter().map(|(f, v)| (&f[..], &v[..])).collect();
                    prop_assert_eq!(got, want);
                    let bytes: usize = model.0.iter().map(|(f, v)| 2 + f.len() + v.len()).sum();
                    prop_assert_eq!(h.mem_bytes(), alloc_size(bytes));
                }
            }
            for (f, v) in &model.0 {
                prop_assert_eq!(h.get(f), Some(&v[..]));
            }
            prop_assert_eq!(h.iter().len(), model.0.len());
            prop_assert_eq!(h.iter().count(), model.0.len());
            let empty_mem = if big { alloc_size(size_of::<Table>()) } else { 0 };
            for (f, _) in std::mem::take(&mut model.0) {
                prop_assert!(h.remove(&f));
                prop_assert!(!h.contains(&f));
            }
            prop_assert!(h.is_empty());
            prop_assert_eq!(h.mem_bytes(), empty_mem);
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
                h.insert(format!("stable:{i}").as_bytes(), b"");
            }
            let mut seen = HashSet::new();
            let mut c = 0;
            let mut steps = steps.into_iter();
            loop {
                let (count, changes) = steps.next().unwrap_or((50, vec![]));
                c = h.scan(c, count, |f, _| { seen.insert(f.to_vec()); });
                if c == 0 { break; }
                for (add, k) in changes {
                    let f = format!("churn:{k}");
                    if add { h.insert(f.as_bytes(), b""); } else { h.remove(f.as_bytes()); }
                }
            }
            for i in 0..n {
                let f = format!("stable:{i}").into_bytes();
                prop_assert!(seen.contains(&f));
            }
        }
    }
}
