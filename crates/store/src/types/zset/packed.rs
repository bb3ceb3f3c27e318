//! The small sorted set ("listpack" encoding): every element in one byte
//! buffer, sorted by (score, member).
//!
//! A small set holds at most 128 members of at most 64 bytes, so a linear
//! walk over one contiguous buffer beats a tree and a hash map: a ZADD or a
//! ZRANGE touches a few cache lines instead of a node, a map entry and a
//! member allocation per element, and the set costs one allocation instead
//! of three plus one per member.
//!
//! An element is `[len][score: 8 bytes, little-endian f64 bits][member][len]`:
//! the length byte at both ends lets a walk go backwards from any element
//! boundary (ZREVRANGE) without an offset table.

use super::cmp_elem;
use crate::types::splice;
use crate::value::{alloc_size, copy_out};
use bytes::Bytes;
use std::cmp::Ordering;

/// Bytes an element takes besides its member.
const OVERHEAD: usize = 10;

#[derive(Debug, Clone, Default)]
pub(super) struct Packed {
    /// Exactly as long as its elements: a write that changes the size
    /// reallocates, as a listpack does (the allocator's size classes absorb
    /// most of it without moving the buffer).
    buf: Box<[u8]>,
    len: u16,
}

/// The element that starts at `off`: its score, its member, and where the
/// next one starts.
fn entry(buf: &[u8], off: usize) -> (f64, &[u8], usize) {
    let n = buf[off] as usize;
    let score = f64::from_bits(u64::from_le_bytes(buf[off + 1..off + 9].try_into().expect("8 bytes")));
    (score, &buf[off + 9..off + 9 + n], off + n + OVERHEAD)
}

/// Where the element that ends at `end` starts.
fn start_before(buf: &[u8], end: usize) -> usize {
    end - buf[end - 1] as usize - OVERHEAD
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
            let n = buf[off] as usize;
            if n == member.len() && &buf[off + 9..off + 9 + n] == member {
                let (score, _, _) = entry(buf, off);
                return Some((off, rank, score));
            }
            off += n + OVERHEAD;
            rank += 1;
        }
        None
    }

    /// Offset of the element at `rank` (the buffer's end when `rank` is `len`).
    fn offset_of(&self, rank: usize) -> usize {
        let mut off = 0;
        for _ in 0..rank.min(self.len()) {
            off += self.buf[off] as usize + OVERHEAD;
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

    /// Sets `member`'s score (the member is at most 255 bytes), adding it when
    /// new (an equal score changes nothing). Returns the previous score.
    pub(super) fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        debug_assert!(member.len() <= u8::MAX as usize);
        let old = match self.find(member) {
            Some((_, _, s)) if s == score => return Some(s),
            Some((off, _, s)) => {
                splice(&mut self.buf, off..off + member.len() + OVERHEAD, &[]);
                self.len -= 1;
                Some(s)
            }
            None => None,
        };
        let pos = self.position(score, member);
        let n = [member.len() as u8];
        splice(&mut self.buf, pos..pos, &[&n, &score.to_bits().to_le_bytes(), member, &n]);
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
        splice(&mut self.buf, off..off + member.len() + OVERHEAD, &[]);
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
            b += self.buf[b] as usize + OVERHEAD;
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
            let end = off + self.buf[off] as usize + OVERHEAD;
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
            assert_eq!(self.buf[next - 1] as usize, m.len(), "trailing length");
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
