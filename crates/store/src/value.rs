//! Value types stored under a key.
//!
//! Every container type keeps a running count of the bytes it holds
//! (`mem_bytes`, O(1)), so the shard's memory accounting never walks a value.

use crate::types::{Hash, List, Set, ZSet};
use bytes::Bytes;

/// Bytes a heap allocation of `n` payload bytes really costs with the
/// server's allocator (mimalloc): no header, size classes in 8-byte steps up
/// to 64 bytes, then four classes per power of two.
pub fn alloc_size(n: usize) -> usize {
    if n <= 64 {
        return n.next_multiple_of(8);
    }
    let log2 = usize::BITS - 1 - (n - 1).leading_zeros();
    n.next_multiple_of(1 << (log2 - 2))
}

/// Copies byte strings out of the store (for a reply): one buffer for all of
/// them and one `Bytes` view of it per string, a single allocation however
/// many there are.
pub fn copy_out(parts: &[&[u8]]) -> Vec<Bytes> {
    let mut buf = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    parts.iter().for_each(|p| buf.extend_from_slice(p));
    let buf = Bytes::from(buf);
    let mut at = 0;
    parts
        .iter()
        .map(|p| {
            at += p.len();
            buf.slice(at - p.len()..at)
        })
        .collect()
}

/// A stored value. Strings are binary-safe.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Bytes),
    // Containers are boxed so a string entry does not pay for their size;
    // a hash or a sorted set is no bigger than a string handle, so it is not.
    List(Box<List>),
    Hash(Hash),
    Set(Box<Set>),
    ZSet(ZSet),
}

impl Value {
    pub fn new_list() -> Value {
        Value::List(Box::default())
    }

    pub fn new_hash() -> Value {
        Value::Hash(Hash::new())
    }

    pub fn new_set() -> Value {
        Value::Set(Box::default())
    }

    pub fn new_zset() -> Value {
        Value::ZSet(ZSet::default())
    }

    /// A borrowed view of the value (the form the shard hands out).
    pub fn view(&self) -> ValueRef<'_> {
        match self {
            Value::Str(s) => ValueRef::Str(s),
            Value::List(l) => ValueRef::List(l),
            Value::Hash(h) => ValueRef::Hash(h),
            Value::Set(s) => ValueRef::Set(s),
            Value::ZSet(z) => ValueRef::ZSet(z),
        }
    }

    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        self.view().type_name()
    }

    /// The name OBJECT ENCODING reports (see [`ValueRef::encoding`]).
    pub fn encoding(&self) -> &'static str {
        self.view().encoding()
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
        self.view().is_empty_container()
    }

    /// Starts loading the value's first heap cache line (a long string's
    /// bytes, a container's header or first elements) without waiting.
    pub(crate) fn prefetch_heap(&self) {
        use crate::node::prefetch_line;
        match self {
            Value::Str(b) => prefetch_line(b.as_ptr()),
            Value::List(l) => prefetch_line((&**l as *const List).cast()),
            Value::Hash(h) => h.prefetch(),
            Value::Set(s) => prefetch_line((&**s as *const Set).cast()),
            Value::ZSet(z) => z.prefetch(),
        }
    }
}

/// A stored value as the shard hands it out: strings live inside the key's
/// own allocation, so readers get the bytes, not an owned `Bytes`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Str(&'a [u8]),
    List(&'a List),
    Hash(&'a Hash),
    Set(&'a Set),
    ZSet(&'a ZSet),
}

impl<'a> ValueRef<'a> {
    /// The name TYPE reports.
    pub fn type_name(self) -> &'static str {
        match self {
            ValueRef::Str(_) => "string",
            ValueRef::List(_) => "list",
            ValueRef::Hash(_) => "hash",
            ValueRef::Set(_) => "set",
            ValueRef::ZSet(_) => "zset",
        }
    }

    /// The name OBJECT ENCODING reports: the encoding Redis 7.0 would use for
    /// a value of this content and size.
    pub fn encoding(self) -> &'static str {
        match self {
            ValueRef::Str(s) => {
                let is_int = crate::num::parse_i64(s).is_some();
                if is_int {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            ValueRef::List(l) => l.encoding(),
            ValueRef::Hash(h) => h.encoding(),
            ValueRef::Set(s) => s.encoding(),
            ValueRef::ZSet(z) => z.encoding(),
        }
    }

    /// A container with no elements (Redis deletes such keys).
    pub fn is_empty_container(self) -> bool {
        match self {
            ValueRef::Str(_) => false,
            ValueRef::List(l) => l.is_empty(),
            ValueRef::Hash(h) => h.is_empty(),
            ValueRef::Set(s) => s.is_empty(),
            ValueRef::ZSet(z) => z.is_empty(),
        }
    }

    /// An owned copy.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Str(s) => Value::Str(Bytes::copy_from_slice(s)),
            ValueRef::List(l) => Value::List(Box::new(l.clone())),
            ValueRef::Hash(h) => Value::Hash(h.clone()),
            ValueRef::Set(s) => Value::Set(Box::new(s.clone())),
            ValueRef::ZSet(z) => Value::ZSet(z.clone()),
        }
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> ValueRef<'a> {
        v.view()
    }
}

impl<'a> From<&ValueRef<'a>> for ValueRef<'a> {
    fn from(v: &ValueRef<'a>) -> ValueRef<'a> {
        *v
    }
}

impl PartialEq<Value> for ValueRef<'_> {
    fn eq(&self, other: &Value) -> bool {
        *self == other.view()
    }
}

#[cfg(test)]
mod tests {
    use super::alloc_size;

    #[test]
    fn alloc_size_follows_the_size_classes() {
        let cases = [(0, 0), (1, 8), (8, 8), (49, 56), (64, 64), (65, 80), (80, 80), (100, 112), (128, 128), (129, 160), (257, 320), (1000, 1024), (4097, 5120)];
        for (n, want) in cases {
            assert_eq!(alloc_size(n), want, "alloc_size({n})");
        }
    }
}
