//! Hash values.

use crate::value::alloc_size;
use bytes::Bytes;
use hashbrown::HashMap;

/// Field/value pairs. Redis 7.0 keeps small hashes as a listpack and
/// converts to a hashtable for good once one is large.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hash {
    map: HashMap<Bytes, Bytes>,
    bytes: usize,
    /// Sticky: once past the listpack limits, Redis never converts back.
    big: bool,
}

/// Redis's hash-max-listpack-entries / hash-max-listpack-value defaults.
pub const LISTPACK_MAX_ENTRIES: usize = 128;
pub const LISTPACK_MAX_VALUE: usize = 64;

fn pair_cost(f: &Bytes, v: &Bytes) -> usize {
    alloc_size(f.len()) + alloc_size(v.len()) + 72
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn mem_bytes(&self) -> usize {
        self.bytes + 48
    }

    pub fn encoding(&self) -> &'static str {
        if self.big {
            "hashtable"
        } else {
            "listpack"
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&Bytes> {
        self.map.get(field)
    }

    /// Sets a field; returns true when it is new.
    pub fn insert(&mut self, field: Bytes, value: Bytes) -> bool {
        if field.len() > LISTPACK_MAX_VALUE || value.len() > LISTPACK_MAX_VALUE {
            self.big = true;
        }
        self.bytes += pair_cost(&field, &value);
        let old = self.map.insert(field.clone(), value);
        if let Some(old) = &old {
            self.bytes -= pair_cost(&field, old);
        }
        if self.map.len() > LISTPACK_MAX_ENTRIES {
            self.big = true;
        }
        old.is_none()
    }

    pub fn remove(&mut self, field: &[u8]) -> Option<Bytes> {
        let (f, v) = self.map.remove_entry(field)?;
        self.bytes -= pair_cost(&f, &v);
        Some(v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.map.iter()
    }
}
