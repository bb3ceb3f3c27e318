//! Value types stored under a key.
//!
//! Every container type keeps a running count of the bytes it holds
//! (`mem_bytes`, O(1)), so the shard's memory accounting never walks a value.

use crate::types::{Hash, List, Set, ZSet};
use bytes::Bytes;

/// Bytes a heap allocation of `n` payload bytes really costs with glibc
/// malloc: an 8-byte chunk header, 16-byte granularity, 32-byte minimum.
pub fn alloc_size(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n + 8 + 15) & !15).max(32)
    }
}

/// A stored value. Strings are binary-safe.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Bytes),
    // Containers are boxed so a string entry does not pay for their size.
    List(Box<List>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
}

impl Value {
    pub fn new_list() -> Value {
        Value::List(Box::default())
    }

    pub fn new_hash() -> Value {
        Value::Hash(Box::default())
    }

    pub fn new_set() -> Value {
        Value::Set(Box::default())
    }

    pub fn new_zset() -> Value {
        Value::ZSet(Box::default())
    }

    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The name OBJECT ENCODING reports: the encoding Redis 7.0 would use for
    /// a value of this content and size.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => {
                let is_int = crate::num::parse_i64(s).is_some();
                if is_int {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    /// Approximate heap bytes held by the value, O(1).
    pub fn mem_bytes(&self) -> usize {
        match self {
            Value::Str(b) => alloc_size(b.len()) + 32,
            Value::List(l) => l.mem_bytes(),
            Value::Hash(h) => h.mem_bytes(),
            Value::Set(s) => s.mem_bytes(),
            Value::ZSet(z) => z.mem_bytes(),
        }
    }

    /// A container with no elements (Redis deletes such keys).
    pub fn is_empty_container(&self) -> bool {
        match self {
            Value::Str(_) => false,
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
        }
    }
}
