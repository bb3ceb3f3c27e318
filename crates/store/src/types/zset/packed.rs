//! The small sorted set ("listpack" encoding): every element in one byte
//! buffer, sorted by (score, member).
//!
//! A small set holds at most 128 members of at most 64 bytes, so a linear
//! walk over one contiguous buffer beats a tree and a hash map: a ZADD or a
//! ZRANGE touches a few cache lines instead of a node, a map entry and a
//! member allocation per element, and the set costs one allocation instead
//! of three plus one per member.
//!
//! An element is `[size][width][score][member][size]`: `size` is the whole
//! element's length, at both ends so that a walk can step forwards or
//! backwards from any element boundary (ZREVRANGE) without an offset table,
//! and `width` is how many bytes the score takes. A score that is a whole
//! number of at most 53 bits (exact as an f64) is stored, as listpacks store
//! integral scores, as a little-endian two's-complement integer of 1 to 7
//! bytes; any other score as its 8 bytes of f64 bits. So `ZADD key 1 m0`
//! costs 6 bytes, not 12, and a set of five such members fits a 32-byte
//! allocation.

use super::cmp_elem;
use crate::types::splice;
use crate::value::{alloc_size, copy_out};
use bytes::Bytes;
use std::cmp::Ordering;

/// Bytes an element takes besides its member and its score.
const OVERHEAD: usize = 3;

/// `width` of a score stored as its f64 bits.
const FLOAT: u8 = 8;

/// How `score` is stored: its width and its bytes (the first `width`).
fn encode_score(score: f64) -> (u8, [u8; 8]) {
    let i = score as i64;
    // Bit for bit, so `-0` keeps its sign (as a float).
    if (i as f64).to_bits() == score.to_bits() && i.unsigned_abs() < 1 << 53 {
        // Two's complement needs the magnitude's bits plus a sign bit.
        let bits = 65 - (if i < 0 { !i } else { i }).leading_zeros() as usize;
        (bits.div_ceil(8) as u8, i.to_le_bytes())
    } else {
        (FLOAT, score.to_bits().to_le_bytes())
    }
}

/// The score of `width` bytes at the start of `b`. An integer is read as
/// one 8-byte load and sign-extended by shifts, unless `b` is shorter.
fn decode_score(width: u8, b: &[u8]) -> f64 {
    let raw = match b.first_chunk::<8>() {
        Some(eight) => u64::from_le_bytes(*eight),
        None => {
            let mut t = [0u8; 8];
            t[..width as usize].copy_from_slice(&b[..width as usize]);
            u64::from_le_bytes(t)
        }
    };
    if width == FLOAT {
        return f64::from_bits(raw);
    }
    let shift = 64 - 8 * width as u32;
    ((raw << shift) as i64 >> shift) as f64
}

#[derive(Debug, Clone, Default)]
pub(super) struct Packed {
    /// Exactly as long as its elements: a write that changes the size
    /// reallocates, as a listpack does (the allocator's size classes absorb
    /// most of it without moving the buffer).
    buf: Box<[u8]>,
    len: u16,
}

/// Length of the element that starts at `off`.
fn elem_len(buf: &[u8], off: usize) -> usize {
    buf[off] as usize
}

/// The member of the element that starts at `off` (its score is not read).
fn member_at(buf: &[u8], off: usize) -> &[u8] {
    &buf[off + 2 + buf[off + 1] as usize..off + elem_len(buf, off) - 1]
}

/// The element that starts at `off`: its score, its member, and where the
/// next one starts.
fn entry(buf: &[u8], off: usize) -> (f64, &[u8], usize) {
    (decode_score(buf[off + 1], &buf[off + 2..]), member_at(buf, off), off + elem_len(buf, off))
}

/// Where the element that ends at `end` starts.
fn start_before(buf: &[u8], end: usize) -> usize {
    end - buf[end - 1] as usize
}

impl Packed {
    pub(super) fn len(&self) -> usize {
        self.len as usize
    }

    pub(super) fn mem_bytes(&self) -> usize {
        if self.buf.is_empty() {
            0
        } else {
            alloc_size(self.buf.len())
        }
    }

    /// Starts loading the first elements (up to four cache lines; the
    /// hardware prefetcher follows a linear walk from there) without waiting.
    pub(super) fn prefetch(&self) {
        for off in (0..self.buf.len().min(256)).step_by(64) {
            crate::node::prefetch_line(self.buf[off..].as_ptr());
        }
    }

    /// Every element in order.
    pub(super) fn entries(&self) -> impl Iterator<Item = (&[u8], f64)> {
        Iter { buf: &self.buf, front: 0, back: self.buf.len(), rev: false }
    }

    /// Offset, rank and score of `member`.
    fn find(&self, member: &[u8]) -> Option<(usize, usize, f64)> {
        let buf = &self.buf[..];
        let mut off = 0;
        let mut rank = 0;
        while off < buf.len() {
            if member_at(buf, off) == member {
                let (score, _, _) = entry(buf, off);
                return Some((off, rank, score));
            }
            off += elem_len(buf, off);
            rank += 1;
        }
        None
    }

    /// Offset of the element at `rank` (the buffer's end when `rank` is `len`).
    fn offset_of(&self, rank: usize) -> usize {
        let mut off = 0;
        for _ in 0..rank.min(self.len()) {
            off += elem_len(&self.buf, off);
        }
        off
    }

    pub(super) fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|(_, _, s)| s)
    }

    pub(super) fn rank(&self, member: &[u8]) -> Option<usize> {
        self.find(member).map(|(_, r, _)| r)
    }

    pub(super) fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        if rank >= self.len() {
            return None;
        }
        let (s, m, _) = entry(&self.buf, self.offset_of(rank));
        Some((m, s))
    }

    /// Sets `member`'s score (the member is at most 244 bytes, so that the
    /// element's size fits its byte; `ZSet` keeps them to 64), adding it when
    /// new (an equal score changes nothing). Returns the previous score.
    pub(super) fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        debug_assert!(member.len() + 8 + OVERHEAD <= u8::MAX as usize);
        let old = match self.find(member) {
            Some((_, _, s)) if s == score => return Some(s),
            Some((off, _, s)) => {
                let end = off + elem_len(&self.buf, off);
                splice(&mut self.buf, off..end, &[]);
                self.len -= 1;
                Some(s)
            }
            None => None,
        };
        let pos = self.position(score, member);
        let (width, bytes) = encode_score(score);
        let size = (member.len() + width as usize + OVERHEAD) as u8;
        splice(&mut self.buf, pos..pos, &[&[size, width], &bytes[..width as usize], member, &[size]]);
        self.len += 1;
        old
    }

    /// Offset where (score, member) goes: before the first greater element.
    fn position(&self, score: f64, member: &[u8]) -> usize {
        let mut off = 0;
        while off < self.buf.len() {
            let (s, m, next) = entry(&self.buf, off);
            if cmp_elem(s, m, score, member) == Ordering::Greater {
                break;
            }
            off = next;
        }
        off
    }

    pub(super) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (off, _, s) = self.find(member)?;
        let end = off + elem_len(&self.buf, off);
        splice(&mut self.buf, off..end, &[]);
        self.len -= 1;
        Some(s)
    }

    /// Number of elements in the prefix of the order where `before(score,
    /// member)` holds.
    pub(super) fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut off = 0;
        let mut n = 0;
        while off < self.buf.len() {
            let (s, m, next) = entry(&self.buf, off);
            if !before(s, m) {
                break;
            }
            n += 1;
            off = next;
        }
        n
    }

    /// Removes the elements of ranks `[start, end)` (`start < end <= len`)
    /// and returns them in order.
    pub(super) fn remove_rank_range(&mut self, start: usize, end: usize) -> Vec<(Bytes, f64)> {
        let a = self.offset_of(start);
        let mut b = a;
        for _ in start..end {
            b += elem_len(&self.buf, b);
        }
        let out = owned_pairs(Iter { buf: &self.buf[..b], front: a, back: b, rev: false });
        splice(&mut self.buf, a..b, &[]);
        self.len -= (end - start) as u16;
        out
    }

    /// Elements from `rank` on, upwards or (when `rev`) downwards to rank 0.
    pub(super) fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        if rank >= self.len() {
            return Iter { buf: &self.buf, front: 0, back: 0, rev };
        }
        let off = self.offset_of(rank);
        if rev {
            let end = off + elem_len(&self.buf, off);
            Iter { buf: &self.buf, front: 0, back: end, rev }
        } else {
            Iter { buf: &self.buf, front: off, back: self.buf.len(), rev }
        }
    }

    /// Checks the layout's invariants (tests).
    #[cfg(test)]
    pub(super) fn check(&self) {
        let mut off = 0;
        let mut n = 0;
        let mut prev: Option<(f64, &[u8])> = None;
        while off < self.buf.len() {
            let (s, m, next) = entry(&self.buf, off);
            assert_eq!(self.buf[next - 1], self.buf[off], "trailing size");
            // The score in the narrowest form that holds it.
            assert_eq!(self.buf[off + 1], encode_score(s).0, "score width");
            if let Some((ps, pm)) = prev {
                assert_eq!(cmp_elem(ps, pm, s, m), Ordering::Less, "order");
            }
            prev = Some((s, m));
            off = next;
            n += 1;
        }
        assert_eq!(off, self.buf.len());
        assert_eq!(n, self.len());
    }
}

/// The elements between two element boundaries, walked from `front` upwards
/// or from `back` downwards.
pub(super) struct Iter<'a> {
    buf: &'a [u8],
    front: usize,
    back: usize,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let buf = self.buf;
        if self.rev {
            let start = start_before(buf, self.back);
            let (s, m, _) = entry(buf, start);
            self.back = start;
            Some((m, s))
        } else {
            let (s, m, next) = entry(buf, self.front);
            self.front = next;
            Some((m, s))
        }
    }
}

/// Owned copies of `items`, their members copied out in one allocation
/// (see [`copy_out`]).
pub fn owned_pairs<'a>(items: impl Iterator<Item = (&'a [u8], f64)>) -> Vec<(Bytes, f64)> {
    let (members, scores): (Vec<&[u8]>, Vec<f64>) = items.unzip();
    copy_out(&members).into_iter().zip(scores).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_read_back_bit_for_bit() {
        let p53 = (1u64 << 53) as f64;
        let scores = [
            0.0, -0.0, 1.0, -1.0, 127.0, 128.0, -128.0, -129.0, 32767.0, 32768.0, -32769.0, 1e15, -1e15,
            p53 - 1.0, -(p53 - 1.0), p53, -p53, p53 * 4.0, 0.5, -2.25, 1e300, 5e-324, f64::INFINITY,
            f64::NEG_INFINITY, f64::MAX, f64::MIN,
        ];
        for score in scores {
            let (width, bytes) = encode_score(score);
            // Both read paths: the 8-byte load and the short tail.
            for b in [&bytes[..], &bytes[..width as usize]] {
                let back = decode_score(width, b);
                assert_eq!(back.to_bits(), score.to_bits(), "{score} (width {width})");
            }
        }
        // The narrowest width that holds the value.
        assert_eq!(encode_score(0.0).0, 1);
        assert_eq!(encode_score(127.0).0, 1);
        assert_eq!(encode_score(128.0).0, 2);
        assert_eq!(encode_score(-128.0).0, 1);
        assert_eq!(encode_score(-129.0).0, 2);
        assert_eq!(encode_score(p53 - 1.0).0, 7);
        assert_eq!(encode_score(p53).0, FLOAT);
        assert_eq!(encode_score(-0.0).0, FLOAT);
        assert_eq!(encode_score(0.5).0, FLOAT);
    }

    #[test]
    fn elements_of_every_width_walk_both_ways() {
        let mut p = Packed::default();
        let scores = [-1e300, -70000.0, -129.0, -1.0, -0.0, 0.0, 0.5, 3.0, 200.0, 1e12, f64::INFINITY];
        for (i, s) in scores.iter().enumerate() {
            let member = vec![b'a' + i as u8; i * 6 % 65];
            assert_eq!(p.insert(&member, *s), None);
            p.check();
        }
        let up: Vec<(Vec<u8>, u64)> = p.entries().map(|(m, s)| (m.to_vec(), s.to_bits())).collect();
        let mut down: Vec<(Vec<u8>, u64)> =
            p.iter_from(p.len() - 1, true).map(|(m, s)| (m.to_vec(), s.to_bits())).collect();
        down.reverse();
        assert_eq!(up, down);
        assert_eq!(up.iter().map(|e| e.1).collect::<Vec<_>>(), scores.map(f64::to_bits));
        // Five members with small integral scores: 6 bytes each.
        let mut small = Packed::default();
        for (i, m) in [b"m0", b"m1", b"m2", b"m3", b"m4"].iter().enumerate() {
            small.insert(*m, i as f64 + 1.0);
        }
        assert_eq!(small.buf.len(), 30);
        assert_eq!(small.score(b"m3"), Some(4.0));
        assert_eq!(small.remove(b"m0"), Some(1.0));
        small.check();
        assert_eq!(small.get_by_rank(0), Some((&b"m1"[..], 2.0)));
    }
}
