//! Sorted set values (placeholder shape; the full ordered structure with
//! O(log n) rank queries replaces it).

use bytes::Bytes;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZSet {
    items: Vec<(Bytes, f64)>,
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn mem_bytes(&self) -> usize {
        self.items.iter().map(|(m, _)| m.len() + 64).sum::<usize>() + 64
    }

    pub fn encoding(&self) -> &'static str {
        "listpack"
    }
}
