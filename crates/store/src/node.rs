//! One key's storage: a single heap allocation holding the key's metadata,
//! the key bytes and, for a string, the value bytes.
//!
//! ```text
//! offset 0           8          12          16          20         21
//!        [expires_at][lru clock][key_len   ][val_len   ][lfu count][key][value bytes]
//!        [expires_at][lru clock][key_len   ][BOXED     ][lfu count][key][pad][Value]
//! ```
//!
//! The 21-byte header is laid out by hand (every field naturally aligned,
//! no padding before the key) rather than as a struct, which would round it
//! up to 24 bytes.
//!
//! The per-slot tables hold only a pointer to a node, hash by the key inside
//! it and compare against it. A small string key therefore costs one
//! allocation (header, key and value together) plus one pointer-sized table
//! bucket, instead of a wide map bucket and separate key and value buffers.
//! Containers (and strings too long for a `u32` length) are stored as a
//! [`Value`] after the key; their elements have their own allocations anyway.

use crate::evict::Access;
use crate::value::{Value, ValueRef};
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::mem::{align_of, size_of};
use std::ptr::NonNull;

/// `expires_at` of a key without a TTL.
const NO_EXPIRY: u64 = u64::MAX;
/// `val_len` of a node whose value is a [`Value`] after the key.
const BOXED: u32 = u32::MAX;

const OFF_EXPIRES: usize = 0;
const OFF_LAST: usize = 8;
const OFF_KEY_LEN: usize = 12;
const OFF_VAL_LEN: usize = 16;
const OFF_COUNTER: usize = 20;
const HEADER: usize = 21;

const ALIGN: usize = if align_of::<Value>() > align_of::<u64>() { align_of::<Value>() } else { align_of::<u64>() };

/// Where a boxed node's `Value` starts.
fn boxed_offset(key_len: usize) -> usize {
    (HEADER + key_len).next_multiple_of(align_of::<Value>())
}

fn layout(key_len: usize, val_len: u32) -> Layout {
    let size = if val_len == BOXED { boxed_offset(key_len) + size_of::<Value>() } else { HEADER + key_len + val_len as usize };
    // Sizes are bounded by the u32 lengths, far below isize::MAX.
    Layout::from_size_align(size, ALIGN).expect("node layout")
}

fn encode_expiry(expires_at: Option<u64>) -> u64 {
    // u64::MAX ms is some 585 million years away: one less is the same.
    expires_at.map_or(NO_EXPIRY, |t| t.min(NO_EXPIRY - 1))
}

/// Asks the CPU to start loading the cache line holding `p`. Only a hint: it
/// never faults and never waits, whatever the address.
#[inline(always)]
pub(crate) fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 reads nothing architecturally and cannot fault.
    unsafe {
        core::arch::x86_64::_mm_prefetch(p.cast(), core::arch::x86_64::_MM_HINT_T0)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A key, its value, expiry time and access history, owned.
pub(crate) struct Node(NonNull<u8>);

// A node owns its allocation outright, like a `Box`.
unsafe impl Send for Node {}
unsafe impl Sync for Node {}

impl Node {
    /// A node for `key` holding `value`.
    pub(crate) fn new(key: &[u8], value: Value, expires_at: Option<u64>, access: Access) -> Node {
        match value {
            Value::Str(s) if s.len() < BOXED as usize => Node::new_str(key, &s, expires_at, access),
            v => Node::new_boxed(key, v, expires_at, access),
        }
    }

    /// A node for `key` holding the string `val`, which must be shorter than
    /// `u32::MAX` bytes.
    pub(crate) fn new_str(key: &[u8], val: &[u8], expires_at: Option<u64>, access: Access) -> Node {
        let val_len = u32::try_from(val.len()).ok().filter(|&n| n != BOXED).expect("string value length checked by caller");
        let node = Node::alloc(key, val_len, expires_at, access);
        // SAFETY: the allocation has room for the value right after the key.
        unsafe {
            std::ptr::copy_nonoverlapping(val.as_ptr(), node.base().add(HEADER + key.len()), val.len());
        }
        node
    }

    fn new_boxed(key: &[u8], value: Value, expires_at: Option<u64>, access: Access) -> Node {
        let node = Node::alloc(key, BOXED, expires_at, access);
        // SAFETY: the allocation has an aligned `Value`-sized room at the offset.
        unsafe {
            node.base().add(boxed_offset(key.len())).cast::<Value>().write(value);
        }
        node
    }

    /// Allocates a node and writes its header and key; the value is the
    /// caller's to write.
    fn alloc(key: &[u8], val_len: u32, expires_at: Option<u64>, access: Access) -> Node {
        // Keys are bounded by the protocol's bulk length limit (512 MB).
        let key_len = u32::try_from(key.len()).expect("key longer than 4 GiB");
        let layout = layout(key.len(), val_len);
        // SAFETY: the layout's size is at least HEADER > 0; the header and key
        // are written within it.
        unsafe {
            let Some(p) = NonNull::new(alloc(layout)) else { handle_alloc_error(layout) };
            let h = Handle(p);
            h.base().add(OFF_EXPIRES).cast::<u64>().write(encode_expiry(expires_at));
            h.base().add(OFF_KEY_LEN).cast::<u32>().write(key_len);
            h.base().add(OFF_VAL_LEN).cast::<u32>().write(val_len);
            h.set_access(access);
            std::ptr::copy_nonoverlapping(key.as_ptr(), h.base().add(HEADER), key.len());
            Node(p)
        }
    }

    fn base(&self) -> *mut u8 {
        self.0.as_ptr()
    }

    /// Starts loading the node's first two cache lines (header and key, and a
    /// short string's value) without waiting for them.
    pub(crate) fn prefetch(&self) {
        prefetch_line(self.base());
        prefetch_line(self.base().wrapping_add(63));
    }

    fn key_len(&self) -> usize {
        // SAFETY: the header was written at allocation and lives as long as self.
        unsafe { self.handle().key_len() }
    }

    fn val_len(&self) -> u32 {
        // SAFETY: as for `key_len`.
        unsafe { self.handle().val_len() }
    }

    /// The node's address: stays valid while the node lives (see [`Handle`]).
    pub(crate) fn handle(&self) -> Handle {
        Handle(self.0)
    }

    pub(crate) fn key(&self) -> &[u8] {
        // SAFETY: the node is alive for the borrow of self.
        unsafe { self.handle().key() }
    }

    pub(crate) fn value(&self) -> ValueRef<'_> {
        // SAFETY: as for `key`.
        unsafe { self.handle().value() }
    }

    pub(crate) fn view(&self) -> EntryRef<'_> {
        // SAFETY: as for `key`.
        unsafe { self.handle().view() }
    }

    pub(crate) fn expires_at(&self) -> Option<u64> {
        // SAFETY: as for `key_len`.
        unsafe { self.handle().expires_at() }
    }

    pub(crate) fn set_expires_at(&mut self, expires_at: Option<u64>) {
        // SAFETY: self is borrowed mutably, so nothing else reads the header.
        unsafe { self.base().add(OFF_EXPIRES).cast::<u64>().write(encode_expiry(expires_at)) }
    }

    pub(crate) fn is_expired(&self, now: u64) -> bool {
        // SAFETY: as for `key_len`.
        unsafe { self.handle().is_expired(now) }
    }

    pub(crate) fn access(&self) -> Access {
        // SAFETY: as for `key_len`.
        unsafe { self.handle().access() }
    }

    /// Bytes of the node's own allocation.
    pub(crate) fn alloc_bytes(&self) -> usize {
        layout(self.key_len(), self.val_len()).size()
    }

    /// Heap bytes the value holds outside the node (a container's elements).
    pub(crate) fn value_heap_bytes(&self) -> usize {
        match self.boxed() {
            Some(v) => v.mem_bytes(),
            None => 0,
        }
    }

    /// The value when it is stored as a [`Value`] (a container).
    pub(crate) fn boxed(&self) -> Option<&Value> {
        // SAFETY: as for `key`; boxed nodes hold an initialised Value.
        (self.val_len() == BOXED).then(|| unsafe { &*self.value_ptr() })
    }

    fn value_ptr(&self) -> *mut Value {
        // SAFETY: in bounds for a boxed node (callers check).
        unsafe { self.base().add(boxed_offset(self.key_len())).cast::<Value>() }
    }

    /// An owned copy of the entry.
    pub(crate) fn to_entry(&self) -> crate::shard::Entry {
        self.view().to_entry()
    }

    /// The entry, consuming the node (a container moves out, a string is copied).
    pub(crate) fn into_entry(self) -> crate::shard::Entry {
        let (expires_at, access) = (self.expires_at(), self.access());
        let value = if self.val_len() == BOXED {
            // SAFETY: the Value is moved out and the node forgotten, so it is
            // not dropped twice; the allocation is freed here.
            unsafe {
                let v = self.value_ptr().read();
                let layout = layout(self.key_len(), BOXED);
                let base = self.base();
                std::mem::forget(self);
                dealloc(base, layout);
                v
            }
        } else {
            self.value().to_value()
        };
        crate::shard::Entry { value, expires_at, access }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let val_len = self.val_len();
        let layout = layout(self.key_len(), val_len);
        // SAFETY: the node owns its allocation and, when boxed, its Value.
        unsafe {
            if val_len == BOXED {
                std::ptr::drop_in_place(self.value_ptr());
            }
            dealloc(self.base(), layout);
        }
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("key", &self.key()).field("entry", &self.view()).finish()
    }
}

/// A node's address, copied out of its table so the shard can look a key up
/// once and then update counters or expire it (borrowck cannot yet express
/// "return the borrow, or else mutate the map" in one lookup).
///
/// Every method is unsafe: the node must be alive, and the borrows handed out
/// must not outlive it nor overlap a mutable one.
#[derive(Clone, Copy)]
pub(crate) struct Handle(NonNull<u8>);

impl Handle {
    fn base(self) -> *mut u8 {
        self.0.as_ptr()
    }

    unsafe fn key_len(self) -> usize {
        self.base().add(OFF_KEY_LEN).cast::<u32>().read() as usize
    }

    unsafe fn val_len(self) -> u32 {
        self.base().add(OFF_VAL_LEN).cast::<u32>().read()
    }

    pub(crate) unsafe fn key<'a>(self) -> &'a [u8] {
        std::slice::from_raw_parts(self.base().add(HEADER), self.key_len())
    }

    pub(crate) unsafe fn value<'a>(self) -> ValueRef<'a> {
        match self.inline_str() {
            Some(s) => ValueRef::Str(s),
            None => (*self.base().add(boxed_offset(self.key_len())).cast::<Value>()).view(),
        }
    }

    pub(crate) unsafe fn view<'a>(self) -> EntryRef<'a> {
        EntryRef { value: self.value(), expires_at: self.expires_at(), access: self.access() }
    }

    unsafe fn expires_at(self) -> Option<u64> {
        let t = self.base().add(OFF_EXPIRES).cast::<u64>().read();
        (t != NO_EXPIRY).then_some(t)
    }

    pub(crate) unsafe fn is_expired(self, now: u64) -> bool {
        self.base().add(OFF_EXPIRES).cast::<u64>().read() <= now
    }

    unsafe fn access(self) -> Access {
        let last = self.base().add(OFF_LAST).cast::<u32>().read();
        Access::from_parts(last, self.base().add(OFF_COUNTER).read())
    }

    pub(crate) unsafe fn set_access(self, access: Access) {
        let (last, counter) = access.to_parts();
        self.base().add(OFF_LAST).cast::<u32>().write(last);
        self.base().add(OFF_COUNTER).write(counter);
    }

    /// Records an access at `now` (see [`Access::touch`]).
    pub(crate) unsafe fn touch(self, now: u64) {
        let mut a = self.access();
        a.touch(now);
        self.set_access(a);
    }

    /// The string value stored inside the node itself, if that is what it holds.
    pub(crate) unsafe fn inline_str<'a>(self) -> Option<&'a [u8]> {
        match self.val_len() {
            BOXED => None,
            n => Some(std::slice::from_raw_parts(self.base().add(HEADER + self.key_len()), n as usize)),
        }
    }

    /// Replaces an inline string value (see `inline_str`) in place with
    /// `value`, which must have its length: the node is not reallocated.
    pub(crate) unsafe fn overwrite_str(self, value: &[u8]) {
        assert_eq!(self.val_len() as usize, value.len(), "in-place string write of another length");
        std::ptr::copy_nonoverlapping(value.as_ptr(), self.base().add(HEADER + self.key_len()), value.len());
    }

    /// The value when it is stored as a [`Value`] (a container).
    pub(crate) unsafe fn boxed_mut<'a>(self) -> Option<&'a mut Value> {
        if self.val_len() == BOXED {
            Some(&mut *self.base().add(boxed_offset(self.key_len())).cast::<Value>())
        } else {
            None
        }
    }
}

/// A stored entry as the shard hands it out: the value borrowed, the expiry
/// time (Unix ms) and the access history copied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryRef<'a> {
    pub value: ValueRef<'a>,
    pub expires_at: Option<u64>,
    pub access: Access,
}

impl EntryRef<'_> {
    /// An owned copy.
    pub fn to_entry(&self) -> crate::shard::Entry {
        crate::shard::Entry { value: self.value.to_value(), expires_at: self.expires_at, access: self.access }
    }
}

impl<'a> From<&'a crate::shard::Entry> for EntryRef<'a> {
    fn from(e: &'a crate::shard::Entry) -> EntryRef<'a> {
        e.view()
    }
}

impl<'a> From<&EntryRef<'a>> for EntryRef<'a> {
    fn from(e: &EntryRef<'a>) -> EntryRef<'a> {
        *e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn header_fields_are_aligned() {
        assert_eq!(OFF_EXPIRES % 8 + OFF_LAST % 4 + OFF_KEY_LEN % 4 + OFF_VAL_LEN % 4, 0);
        assert_eq!(HEADER, OFF_COUNTER + 1);
    }

    #[test]
    fn string_node_round_trips() {
        let n = Node::new(b"key:1", Value::Str(Bytes::from_static(b"hello")), Some(42), Access::from_parts(7, 9));
        assert_eq!(n.access(), Access::from_parts(7, 9));
        assert_eq!(n.key(), b"key:1");
        assert_eq!(n.value(), ValueRef::Str(b"hello"));
        assert_eq!(n.expires_at(), Some(42));
        assert_eq!(n.alloc_bytes(), HEADER + 5 + 5);
        assert!(n.boxed().is_none());
        let e = n.into_entry();
        assert_eq!(e.value, Value::Str(Bytes::from_static(b"hello")));
    }

    #[test]
    fn boxed_node_round_trips() {
        let mut l = crate::types::List::new();
        l.push_back(Bytes::from_static(b"x"));
        let v = Value::List(Box::new(l));
        let mut n = Node::new(b"abc", v.clone(), None, Access::default());
        assert_eq!(n.key(), b"abc");
        assert_eq!(n.value(), v);
        assert_eq!(n.expires_at(), None);
        n.set_expires_at(Some(7));
        assert_eq!(n.expires_at(), Some(7));
        assert_eq!(n.alloc_bytes() % align_of::<Value>(), 0);
        assert_eq!(n.into_entry().value, v);
        // Dropping a boxed node drops its value (checked under Miri / ASan).
        let _ = Node::new(b"", v, None, Access::default());
    }

    #[test]
    fn empty_key_and_value() {
        let n = Node::new_str(b"", b"", None, Access::default());
        assert_eq!(n.key(), b"");
        assert_eq!(n.value(), ValueRef::Str(b""));
    }
}
