//! List values.

use crate::value::alloc_size;
use bytes::Bytes;
use std::collections::VecDeque;

/// A list of binary-safe elements with O(1) push/pop at both ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct List {
    items: VecDeque<Bytes>,
    bytes: usize,
}

fn elem_cost(b: &Bytes) -> usize {
    alloc_size(b.len()) + 32
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

    pub fn get(&self, i: usize) -> Option<&Bytes> {
        self.items.get(i)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Bytes> + ExactSizeIterator {
        self.items.iter()
    }

    /// Elements `start..=end` (already clamped by the caller).
    pub fn range(&self, start: usize, end: usize) -> impl Iterator<Item = &Bytes> {
        self.items.range(start..=end)
    }
}
