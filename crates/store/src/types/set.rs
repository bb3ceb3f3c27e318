//! Set values.

use crate::value::alloc_size;
use bytes::Bytes;
use hashbrown::HashSet;

/// A set of binary-safe members. Redis 7.0 keeps a set of integers as an
/// intset up to 512 members, a hashtable otherwise (for good).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Set {
    members: HashSet<Bytes>,
    bytes: usize,
    big: bool,
}

/// Redis's set-max-intset-entries default.
pub const INTSET_MAX_ENTRIES: usize = 512;

fn member_cost(m: &Bytes) -> usize {
    alloc_size(m.len()) + 40
}

fn is_int(m: &[u8]) -> bool {
    m.len() <= 20 && std::str::from_utf8(m).ok().and_then(|s| s.parse::<i64>().ok()).is_some_and(|n| n.to_string().as_bytes() == m)
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn mem_bytes(&self) -> usize {
        self.bytes + 48
    }

    pub fn encoding(&self) -> &'static str {
        if self.big {
            "hashtable"
        } else {
            "intset"
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.members.contains(m)
    }

    /// Adds a member; returns true when it is new.
    pub fn insert(&mut self, m: Bytes) -> bool {
        if !is_int(&m) {
            self.big = true;
        }
        let cost = member_cost(&m);
        let added = self.members.insert(m);
        if added {
            self.bytes += cost;
            if self.members.len() > INTSET_MAX_ENTRIES {
                self.big = true;
            }
        }
        added
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.members.take(m) {
            Some(old) => {
                self.bytes -= member_cost(&old);
                true
            }
            None => false,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Bytes> {
        self.members.iter()
    }
}
