//! The keyspace of one shard (one core).

use crate::evict::Access;
use crate::glob::glob_match;
use crate::node::{Handle, Node};
pub use crate::node::EntryRef;
use crate::value::{alloc_size, Value};
use bytes::Bytes;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use rand::Rng;
use slots::{key_slot, Slot, SLOT_COUNT};
use std::collections::BTreeSet;
use std::hash::BuildHasher;

/// A value, its expiry time (Unix ms) if any, and the access history the
/// LRU/LFU eviction policies and OBJECT IDLETIME/FREQ read. This is the owned
/// form that moves between shards and to and from disk; the shard stores
/// entries more compactly and lends them out as [`EntryRef`].
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub value: Value,
    pub expires_at: Option<u64>,
    pub access: Access,
}

impl Entry {
    pub fn new(value: Value, expires_at: Option<u64>) -> Entry {
        Entry { value, expires_at, access: Access::default() }
    }

    /// A borrowed view, as the shard lends its own entries.
    pub fn view(&self) -> EntryRef<'_> {
        EntryRef { value: self.value.view(), expires_at: self.expires_at, access: self.access }
    }
}

/// The keys of one hash slot: each bucket is a pointer to a node holding the
/// key and its entry (see `node.rs`), hashed by the key inside it.
pub(crate) type SlotTable = HashTable<Node>;

/// Estimated bytes of one table bucket: a pointer and a control byte, at a
/// load factor between 7/16 and 7/8.
const TABLE_BUCKET: usize = 14;

/// Bytes one stored key costs: its node as malloc rounds it, its share of
/// the table, and whatever its value holds outside the node.
fn node_cost(n: &Node) -> usize {
    alloc_size(n.alloc_bytes()) + TABLE_BUCKET + n.value_heap_bytes()
}

/// Counters INFO reports per shard.
#[derive(Debug, Default, Clone, Copy)]
pub struct ShardStats {
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub commands_processed: u64,
}

/// What SCAN filters on besides the cursor.
#[derive(Debug, Default, Clone)]
pub struct ScanFilter {
    pub pattern: Option<Bytes>,
    pub type_name: Option<Bytes>,
}

/// One shard's keyspace. Keys are grouped by hash slot: a SCAN cursor is a slot
/// number, and a slot's keys can be counted, listed or moved as a unit.
pub struct Shard {
    pub(crate) slots: Vec<SlotTable>,
    /// Hashes keys for every slot table (and a snapshot's frozen ones).
    pub(crate) hasher: DefaultHashBuilder,
    len: usize,
    /// Estimated bytes held by keys and values (see [`node_cost`]).
    used: usize,
    /// The slots this shard owns.
    owned: std::ops::Range<Slot>,
    /// Slots holding at least one key, and each slot's index in that list
    /// (u32::MAX when empty): O(1) random sampling however sparse the keys.
    nonempty: Vec<Slot>,
    nonempty_pos: Vec<u32>,
    /// A point-in-time snapshot being taken (see `snapshot.rs`).
    pub(crate) snap: Option<Box<crate::snapshot::SnapState>>,
    /// WATCHed keys: (version, watchers). A write to a watched key gives it
    /// a new version, so EXEC can tell it changed.
    watched: HashMap<Bytes, (u64, u32)>,
    watch_seq: u64,
    /// Keys reclaimed by expiry since the last `take_expired_events`, kept
    /// only while `track_expired` is on (keyspace notifications).
    expired_events: Vec<Bytes>,
    pub track_expired: bool,
    /// Watched keys written by the running command; they get a new version
    /// when the command ends having changed something (`finish_command`).
    pending_touch: Vec<Bytes>,
    /// Set while expiry removes a key: that always counts as a change.
    expiring: bool,
    /// Keys with a TTL ordered by expiry time, for the active expiry cycle.
    expiry: BTreeSet<(u64, Bytes)>,
    /// The clock commands see: set once per command by [`Shard::set_now`], as a
    /// command must see one instant however long it runs.
    now: u64,
    /// The slot of the key the running command names (its address and
    /// length, and the slot), which the connection computed to route it:
    /// lookups of that very key skip the CRC. Set and cleared around one
    /// command by [`Shard::with_slot_hint`], while the key cannot move.
    slot_hint: std::cell::Cell<(usize, usize, Slot)>,
    pub stats: ShardStats,
}

impl Default for Shard {
    fn default() -> Self {
        Shard::new()
    }
}

/// The node of `key` in `table`.
pub(crate) fn find<'t>(table: &'t SlotTable, hasher: &DefaultHashBuilder, key: &[u8]) -> Option<&'t Node> {
    table.find(hasher.hash_one(key), |n| n.key() == key)
}

/// Adds `node` to `table`, which must not hold its key.
pub(crate) fn insert_new(table: &mut SlotTable, hasher: &DefaultHashBuilder, node: Node) {
    let hash = hasher.hash_one(node.key());
    table.insert_unique(hash, node, |n| hasher.hash_one(n.key()));
}

/// Takes the node of `key` out of `table`.
pub(crate) fn remove_from(table: &mut SlotTable, hasher: &DefaultHashBuilder, key: &[u8]) -> Option<Node> {
    let entry = table.find_entry(hasher.hash_one(key), |n| n.key() == key).ok()?;
    Some(entry.remove().0)
}

impl Shard {
    pub fn new() -> Shard {
        Shard::with_slots(0..SLOT_COUNT)
    }

    /// A shard that will own `owned` (any key still works; this only guides
    /// eviction sampling).
    pub fn with_slots(owned: std::ops::Range<Slot>) -> Shard {
        Shard {
            slots: (0..SLOT_COUNT).map(|_| HashTable::new()).collect(),
            hasher: DefaultHashBuilder::default(),
            len: 0,
            used: 0,
            owned,
            nonempty: Vec::new(),
            nonempty_pos: vec![u32::MAX; SLOT_COUNT as usize],
            snap: None,
            watched: HashMap::new(),
            watch_seq: 0,
            expired_events: Vec::new(),
            track_expired: false,
            pending_touch: Vec::new(),
            expiring: false,
            expiry: BTreeSet::new(),
            now: crate::unix_time_ms(),
            slot_hint: std::cell::Cell::new((0, 0, 0)),
            stats: ShardStats::default(),
        }
    }

    /// Sets the clock for the next commands.
    pub fn set_now(&mut self, now_ms: u64) {
        self.now = now_ms;
    }

    /// The clock commands see (Unix ms).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Number of keys, including expired ones not yet reclaimed.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of keys with a TTL.
    pub fn volatile_len(&self) -> usize {
        self.expiry.len()
    }

    fn node(&self, key: &[u8]) -> Option<&Node> {
        find(&self.slots[self.slot_of(key) as usize], &self.hasher, key)
    }

    /// The slot of `key`, from the hint when it is the hinted key itself.
    fn slot_of(&self, key: &[u8]) -> Slot {
        let (at, len, slot) = self.slot_hint.get();
        if at == key.as_ptr() as usize && len == key.len() && len > 0 {
            debug_assert_eq!(slot, key_slot(key));
            slot
        } else {
            key_slot(key)
        }
    }

    /// Runs `f` with `key`'s slot (which the caller computed with
    /// `key_slot`) remembered for lookups of that key. The hint names the
    /// key by address, so it is only good while `key` is borrowed: it is
    /// cleared before this returns.
    pub fn with_slot_hint<R>(shard: &std::cell::RefCell<Shard>, key: &[u8], slot: Slot, f: impl FnOnce() -> R) -> R {
        debug_assert_eq!(slot, key_slot(key));
        shard.borrow().slot_hint.set((key.as_ptr() as usize, key.len(), slot));
        struct Clear<'a>(&'a std::cell::RefCell<Shard>);
        impl Drop for Clear<'_> {
            fn drop(&mut self) {
                if let Ok(s) = self.0.try_borrow() {
                    s.slot_hint.set((0, 0, 0));
                }
            }
        }
        let _clear = Clear(shard);
        f()
    }

    /// The node of a live `key`, reclaiming it when it has expired: one
    /// lookup for the common case.
    fn live_handle(&mut self, key: &[u8]) -> Option<Handle> {
        let h = self.node(key)?.handle();
        // SAFETY: the node is in its table, and nothing borrows it now.
        if unsafe { h.is_expired(self.now) } {
            self.expire_key(key);
            return None;
        }
        Some(h)
    }

    /// Removes `key`, which has expired.
    fn expire_key(&mut self, key: &[u8]) {
        self.expiring = true;
        self.unlink(key);
        self.expiring = false;
        self.stats.expired_keys += 1;
        if self.track_expired {
            self.expired_events.push(Bytes::copy_from_slice(key));
        }
    }

    /// Reclaims `key` when it has expired. Returns whether it is (still) live.
    fn expire_if_due(&mut self, key: &[u8]) -> bool {
        self.live_handle(key).is_some()
    }

    /// The live entry of `key`, counting a keyspace hit or miss.
    pub fn get(&mut self, key: &[u8]) -> Option<EntryRef<'_>> {
        match self.live_handle(key) {
            Some(h) => {
                self.stats.keyspace_hits += 1;
                // SAFETY: the node stays in its table for as long as the
                // returned view borrows the shard.
                unsafe {
                    h.touch(self.now);
                    Some(h.view())
                }
            }
            None => {
                self.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// The hash `key` is filed under in its slot table (`prefetch_hashed`).
    pub fn key_hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Requests the slot table header of `slot`: the first of the cache
    /// lines a lookup in that slot reads.
    pub fn prefetch_slot(&self, slot: Slot) {
        crate::node::prefetch_line((&self.slots[slot as usize] as *const SlotTable).cast());
    }

    /// Keys whose cache misses `prefetch` and `prefetch_hashed` overlap in
    /// one pass (the size of their stack buffers).
    const PREFETCH_STAGE: usize = 64;

    /// Touches the table entries and nodes of `keys` so that commands on them
    /// right after find them in the CPU caches (see the connection loop).
    ///
    /// The work is staged so that the cache misses of different keys overlap
    /// instead of following one another: first every key's slot table header
    /// is requested, then every table is probed and the node found is only
    /// requested (a prefetch hint, not a load), so no step waits on the node.
    ///
    /// Each key comes with its slot (`key_slot`), which the caller has
    /// usually computed already to route the command.
    ///
    /// With `values`, a third step finds each node (by now arriving) and
    /// requests its value's heap data: a container's first elements, which
    /// the commands of container types read next.
    pub fn prefetch(&self, keys: &[(Slot, &[u8])], values: bool) {
        let mut at = [(0u16, 0u64); Self::PREFETCH_STAGE];
        for chunk in keys.chunks(Self::PREFETCH_STAGE) {
            for (slot_hash, &(slot, key)) in at.iter_mut().zip(chunk) {
                debug_assert_eq!(slot, key_slot(key));
                *slot_hash = (slot, self.hasher.hash_one(key));
                self.prefetch_slot(slot);
            }
            self.prefetch_hashed(&at[..chunk.len()], values);
        }
    }

    /// The stages of `prefetch` after the first, for keys given by slot and
    /// `key_hash` (whose slot headers were requested already, or not). A
    /// node is taken by its hash alone: a rare tag collision only wastes a
    /// hint.
    pub fn prefetch_hashed(&self, keys: &[(Slot, u64)], values: bool) {
        for chunk in keys.chunks(Self::PREFETCH_STAGE) {
            for &(slot, hash) in chunk {
                // Never matches: the probe only hands each candidate over to
                // the prefetcher.
                self.slots[slot as usize].find(hash, |n| {
                    n.prefetch();
                    false
                });
            }
            if values {
                // Lists: the chain below the value (chunk index, chunk,
                // element) is walked one level per pass over the batch, so
                // each level's misses overlap across the keys.
                let mut lists: [Option<&crate::types::List>; Self::PREFETCH_STAGE] = [None; Self::PREFETCH_STAGE];
                for (&(slot, hash), list) in chunk.iter().zip(lists.iter_mut()) {
                    if let Some(v) = self.slots[slot as usize].find(hash, |_| true).and_then(|n| n.boxed()) {
                        v.prefetch_heap();
                        if let Value::List(l) = v {
                            *list = Some(l);
                        }
                    }
                }
                if lists.iter().any(Option::is_some) {
                    for level in 0..crate::types::list::PREFETCH_LEVELS {
                        for l in lists.iter().flatten() {
                            l.prefetch_ends(level);
                        }
                    }
                }
            }
        }
    }

    /// The live entry of `key`, without touching the hit/miss counters.
    pub fn peek(&mut self, key: &[u8]) -> Option<EntryRef<'_>> {
        let h = self.live_handle(key)?;
        // SAFETY: as in `get`.
        Some(unsafe { h.view() })
    }

    /// Write access to the live value of `key`. The guard keeps the memory
    /// accounting right and deletes the key if it leaves an empty container.
    /// The expiry time changes only through [`Shard::set_expiry`].
    pub fn value_mut<'a>(&'a mut self, key: &'a [u8]) -> Option<ValueMut<'a>> {
        let h = self.live_handle(key)?;
        Some(self.guard_node(key, h))
    }

    /// Write access to the value of `key`, creating it with `make` when the
    /// key does not exist. The caller checks the type.
    pub fn value_mut_or_insert<'a>(&'a mut self, key: &'a [u8], make: impl FnOnce() -> Value) -> ValueMut<'a> {
        match self.live_handle(key) {
            Some(h) => self.guard_node(key, h),
            None => {
                self.insert(key, make(), None);
                self.guard(key)
            }
        }
    }

    /// A guard over the value of `key`, which exists.
    fn guard<'a>(&'a mut self, key: &'a [u8]) -> ValueMut<'a> {
        let h = self.node(key).expect("guarded key exists").handle();
        self.guard_node(key, h)
    }

    /// A guard over the value of `key`, whose node `h` the caller has just
    /// looked up (the write bookkeeping copies it but moves nothing, so the
    /// handle stays good).
    fn guard_node<'a>(&'a mut self, key: &'a [u8], h: Handle) -> ValueMut<'a> {
        self.before_write(key);
        let now = self.now;
        // SAFETY: the guard borrows the shard mutably for its whole life, so
        // the node stays put and nothing else reaches it.
        let target = unsafe {
            h.touch(now);
            match h.boxed_mut() {
                Some(v) => Target::Boxed(v),
                // A string is lent as an owned copy, written back on drop.
                None => Target::Str(h.value().to_value()),
            }
        };
        let before = match &target {
            Target::Boxed(v) => v.mem_bytes(),
            Target::Str(_) => 0,
        };
        ValueMut { shard: self, key, target, before }
    }

    pub fn contains(&mut self, key: &[u8]) -> bool {
        self.expire_if_due(key)
    }

    /// Stores `value` under `key` with the given expiry, replacing any old entry.
    pub fn insert(&mut self, key: &[u8], value: Value, expires_at: Option<u64>) {
        let mut access = Access::default();
        access.touch(self.now);
        self.insert_node(Node::new(key, value, expires_at, access));
    }

    /// Stores the string `value` under `key` with the given expiry, replacing
    /// any old entry; unlike [`Shard::insert`] it needs no owned buffer.
    pub fn insert_str(&mut self, key: &[u8], value: &[u8], expires_at: Option<u64>) {
        if value.len() >= u32::MAX as usize {
            return self.insert(key, Value::Str(Bytes::copy_from_slice(value)), expires_at);
        }
        let mut access = Access::default();
        access.touch(self.now);
        if expires_at.is_none() {
            if let Some(h) = self.same_size_str(key, value.len(), false) {
                // SAFETY: `same_size_str` checked the node and its length;
                // nothing has touched the table since.
                unsafe {
                    h.overwrite_str(value);
                    h.set_access(access);
                }
                return;
            }
        }
        self.insert_node(Node::new_str(key, value, expires_at, access));
    }

    /// Replaces the string value of the live `key` with `value` in place,
    /// keeping its TTL, when the old value is a string of the same length
    /// (INCR and the like mostly keep it): one lookup, no allocation. Returns
    /// false, having changed nothing, in any other case; the caller then
    /// stores the value the general way.
    pub fn overwrite_str(&mut self, key: &[u8], value: &[u8]) -> bool {
        let Some(h) = self.same_size_str(key, value.len(), true) else { return false };
        // SAFETY: as in `insert_str`.
        unsafe {
            h.overwrite_str(value);
            h.touch(self.now);
        }
        true
    }

    /// The node of the live `key` when it holds a string of `len` bytes and,
    /// unless `any_ttl`, no TTL (then the expiry index needs no change),
    /// after the write bookkeeping (`before_write`) for it. The node stays
    /// where it is: the bookkeeping copies it but moves nothing.
    fn same_size_str(&mut self, key: &[u8], len: usize, any_ttl: bool) -> Option<Handle> {
        let h = self.live_handle(key)?;
        // SAFETY: the node is in its table and nothing borrows it.
        let fits = unsafe { h.inline_str().is_some_and(|s| s.len() == len) && (any_ttl || h.view().expires_at.is_none()) };
        if !fits {
            return None;
        }
        self.before_write(key);
        Some(h)
    }

    /// Stores `value` under `key`, keeping the TTL of a live old entry.
    pub fn insert_keep_ttl(&mut self, key: &[u8], value: Value) {
        let ttl = self.peek(key).and_then(|e| e.expires_at);
        self.insert(key, value, ttl)
    }

    /// Stores a whole entry under `key`, replacing any old entry.
    pub fn insert_entry(&mut self, key: &[u8], entry: Entry) {
        self.insert_node(Node::new(key, entry.value, entry.expires_at, entry.access));
    }

    /// Stores `node` under its key, replacing any old entry.
    fn insert_node(&mut self, node: Node) {
        // SAFETY: the key lives in the node's allocation, which does not move
        // when the node does and lives on in the table.
        let key = unsafe { node.handle().key() };
        self.before_write(key);
        let (cost, expires_at) = (node_cost(&node), node.expires_at());
        let slot = key_slot(key);
        let hash = self.hasher.hash_one(key);
        let table = &mut self.slots[slot as usize];
        match table.find_mut(hash, |n| n.key() == key) {
            Some(place) => {
                let old = std::mem::replace(place, node);
                self.forget_node(&old);
            }
            None => {
                let hasher = &self.hasher;
                table.insert_unique(hash, node, |n| hasher.hash_one(n.key()));
                self.len += 1;
                self.note_slot(slot);
            }
        }
        self.used += cost;
        if let Some(t) = expires_at {
            self.expiry.insert((t, Bytes::copy_from_slice(key)));
        }
    }

    /// Drops the accounting and expiry index entry of a node taken out of
    /// its table (the caller fixes `len` and the slot list).
    fn forget_node(&mut self, old: &Node) {
        self.used -= node_cost(old).min(self.used);
        if let Some(t) = old.expires_at() {
            self.expiry.remove(&(t, Bytes::copy_from_slice(old.key())));
        }
    }

    /// Keeps the non-empty slot list right after `slot` changed.
    fn note_slot(&mut self, slot: Slot) {
        note_slot(&self.slots, &mut self.nonempty, &mut self.nonempty_pos, slot);
    }

    /// Removes `key` whether or not it has expired, returning its node.
    fn unlink(&mut self, key: &[u8]) -> Option<Node> {
        self.before_write(key);
        let slot = self.slot_of(key);
        let node = remove_from(&mut self.slots[slot as usize], &self.hasher, key)?;
        self.note_slot(slot);
        self.len -= 1;
        self.forget_node(&node);
        Some(node)
    }

    /// Removes `key` whether or not it has expired, returning its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.unlink(key).map(Node::into_entry)
    }

    /// Removes `key` whether or not it has expired. Returns whether it existed.
    pub fn delete(&mut self, key: &[u8]) -> bool {
        self.unlink(key).is_some()
    }

    /// Removes a live `key`, returning its entry.
    pub fn take(&mut self, key: &[u8]) -> Option<Entry> {
        if self.expire_if_due(key) {
            self.remove(key)
        } else {
            None
        }
    }

    /// Removes a live `key`. Returns whether there was one.
    pub fn delete_live(&mut self, key: &[u8]) -> bool {
        self.expire_if_due(key) && self.delete(key)
    }

    /// Sets or clears the expiry of a live key. Returns false when there is no such key.
    pub fn set_expiry(&mut self, key: &[u8], expires_at: Option<u64>) -> bool {
        if !self.expire_if_due(key) {
            return false;
        }
        self.before_write(key);
        let slot = self.slot_of(key) as usize;
        let hash = self.hasher.hash_one(key);
        let Some(n) = self.slots[slot].find_mut(hash, |n| n.key() == key) else {
            return false;
        };
        let old = n.expires_at();
        n.set_expires_at(expires_at);
        let new = n.expires_at();
        if let Some(old) = old {
            self.expiry.remove(&(old, Bytes::copy_from_slice(key)));
        }
        if let Some(t) = new {
            self.expiry.insert((t, Bytes::copy_from_slice(key)));
        }
        true
    }

    /// Drops every key.
    pub fn clear(&mut self) {
        // A flush changes the watched keys that exist (as in Redis).
        for (k, w) in self.watched.iter_mut() {
            if find(&self.slots[key_slot(k) as usize], &self.hasher, k).is_some() {
                self.watch_seq += 1;
                w.0 = self.watch_seq;
            }
        }
        self.freeze_snapshot();
        for m in &mut self.slots {
            *m = HashTable::new();
        }
        self.nonempty.clear();
        self.nonempty_pos.iter_mut().for_each(|p| *p = u32::MAX);
        self.expiry.clear();
        self.len = 0;
        self.used = 0;
    }

    /// Keys reclaimed by expiry since the last call (when tracking is on).
    pub fn take_expired_events(&mut self) -> Vec<Bytes> {
        std::mem::take(&mut self.expired_events)
    }

    /// Starts watching `key`; returns its current version.
    pub fn watch_key(&mut self, key: &[u8]) -> u64 {
        self.expire_if_due(key);
        let w = self.watched.entry(Bytes::copy_from_slice(key)).or_insert((0, 0));
        w.1 += 1;
        w.0
    }

    /// Stops one watcher of `key`.
    pub fn unwatch_key(&mut self, key: &[u8]) {
        if let Some(w) = self.watched.get_mut(key) {
            w.1 = w.1.saturating_sub(1);
            if w.1 == 0 {
                self.watched.remove(key);
            }
        }
    }

    /// The version of a watched key now (a key that expired since counts as written).
    pub fn watch_version(&mut self, key: &[u8]) -> Option<u64> {
        self.expire_if_due(key);
        self.watched.get(key).map(|w| w.0)
    }

    /// Called before every write to a key: a watched key gets a new version,
    /// at once when it expires, else when the command ends having changed
    /// something (see [`Shard::finish_command`]).
    pub(crate) fn touch_watched(&mut self, key: &[u8]) {
        if self.watched.is_empty() || !self.watched.contains_key(key) {
            return;
        }
        if self.expiring {
            self.bump_watched(key);
        } else if !self.pending_touch.iter().any(|k| k.as_ref() == key) {
            self.pending_touch.push(Bytes::copy_from_slice(key));
        }
    }

    fn bump_watched(&mut self, key: &[u8]) {
        if let Some(w) = self.watched.get_mut(key) {
            self.watch_seq += 1;
            w.0 = self.watch_seq;
        }
    }

    /// Ends a command: watched keys it wrote get a new version unless it
    /// changed nothing (SADD of a present member, SREM of an absent one...),
    /// as Redis only signals keys a command really modified.
    pub fn finish_command(&mut self, changed: bool) {
        if self.pending_touch.is_empty() {
            return;
        }
        let keys = std::mem::take(&mut self.pending_touch);
        if changed {
            for k in keys {
                self.bump_watched(&k);
            }
        }
    }

    /// Estimated bytes held by this shard's keys and values.
    pub fn used_memory(&self) -> usize {
        self.used
    }

    /// Live keys matching `pattern`.
    pub fn keys(&self, pattern: &[u8]) -> Vec<Bytes> {
        let now = self.now;
        let all = pattern == b"*";
        self.slots
            .iter()
            .flat_map(|m| m.iter())
            .filter(|n| !n.is_expired(now) && (all || glob_match(pattern, n.key())))
            .map(|n| Bytes::copy_from_slice(n.key()))
            .collect()
    }

    /// Number of live keys in `slot`.
    pub fn count_in_slot(&self, slot: Slot) -> usize {
        let now = self.now;
        self.slots
            .get(slot as usize)
            .map(|m| m.iter().filter(|n| !n.is_expired(now)).count())
            .unwrap_or(0)
    }

    /// Returns the live keys of whole slots from `slot` up to (not including)
    /// `end`, stopping after the slot where at least `count` keys were seen.
    /// Returns the keys and the next slot to scan (`end` when done).
    pub fn scan(&self, mut slot: Slot, end: Slot, count: usize, filter: &ScanFilter) -> (Vec<Bytes>, Slot) {
        let now = self.now;
        let mut out = Vec::new();
        let mut seen = 0usize;
        while slot < end && seen < count.max(1) {
            if let Some(map) = self.slots.get(slot as usize) {
                for n in map {
                    seen += 1;
                    if n.is_expired(now) {
                        continue;
                    }
                    if let Some(p) = &filter.pattern {
                        if !glob_match(p, n.key()) {
                            continue;
                        }
                    }
                    if let Some(t) = &filter.type_name {
                        if !t.eq_ignore_ascii_case(n.value().type_name().as_bytes()) {
                            continue;
                        }
                    }
                    out.push(Bytes::copy_from_slice(n.key()));
                }
            }
            slot += 1;
        }
        (out, slot)
    }

    /// A random live key, if any.
    pub fn random_key(&mut self) -> Option<Bytes> {
        let now = self.now;
        for _ in 0..100 {
            let k = self.sample_key()?;
            match self.node(&k) {
                Some(n) if !n.is_expired(now) => return Some(k),
                _ => {
                    // An expired key was drawn: reclaim it and draw again.
                    self.expire_if_due(&k);
                }
            }
        }
        None
    }

    /// The slots this shard was created to own.
    pub fn owned_slots(&self) -> std::ops::Range<Slot> {
        self.owned.clone()
    }

    /// A random non-empty slot.
    pub(crate) fn random_nonempty_slot(&self) -> Option<Slot> {
        if self.nonempty.is_empty() {
            return None;
        }
        Some(self.nonempty[rand::thread_rng().gen_range(0..self.nonempty.len())])
    }

    /// A random key of `slot` (expired or not).
    pub(crate) fn random_in_slot(&self, slot: Slot) -> Option<Bytes> {
        let m = self.slots.get(slot as usize)?;
        if m.is_empty() {
            return None;
        }
        let skip = rand::thread_rng().gen_range(0..m.len());
        m.iter().nth(skip).map(|n| Bytes::copy_from_slice(n.key()))
    }

    /// The entry of `key` without expiring it or touching its history.
    pub fn entry_raw(&self, key: &[u8]) -> Option<EntryRef<'_>> {
        self.node(key).map(Node::view)
    }

    /// The key whose expiry comes first.
    pub(crate) fn soonest_expiring(&self) -> Option<Bytes> {
        self.expiry.first().map(|(_, k)| k.clone())
    }

    /// A key with a TTL, drawn at a random point of the expiry order.
    pub(crate) fn random_volatile_key(&self) -> Option<Bytes> {
        let (lo, hi) = (self.expiry.first()?.0, self.expiry.last()?.0);
        let t = if hi > lo { rand::thread_rng().gen_range(lo..=hi) } else { lo };
        self.expiry.range((t, Bytes::new())..).next().or_else(|| self.expiry.last()).map(|(_, k)| k.clone())
    }

    /// Active expiry: reclaims up to `budget` keys whose time has come.
    /// Returns how many were reclaimed.
    pub fn expire_cycle(&mut self, budget: usize) -> usize {
        let now = self.now;
        let mut done = 0;
        while done < budget {
            let Some((t, k)) = self.expiry.first().cloned() else { break };
            if t > now {
                break;
            }
            self.expiring = true;
            self.unlink(&k);
            self.expiring = false;
            self.stats.expired_keys += 1;
            if self.track_expired {
                self.expired_events.push(k);
            }
            done += 1;
        }
        done
    }
}

/// What a [`ValueMut`] lends.
enum Target<'a> {
    /// A container, in place in its node.
    Boxed(&'a mut Value),
    /// A copy of a string value, stored back on drop if it changed.
    Str(Value),
}

/// Write access to one live value (see [`Shard::value_mut`]).
pub struct ValueMut<'a> {
    shard: &'a mut Shard,
    key: &'a [u8],
    target: Target<'a>,
    /// `mem_bytes` of a container when the guard was made.
    before: usize,
}

impl std::ops::Deref for ValueMut<'_> {
    type Target = Value;
    fn deref(&self) -> &Value {
        match &self.target {
            Target::Boxed(v) => v,
            Target::Str(v) => v,
        }
    }
}

impl std::ops::DerefMut for ValueMut<'_> {
    fn deref_mut(&mut self) -> &mut Value {
        match &mut self.target {
            Target::Boxed(v) => v,
            Target::Str(v) => v,
        }
    }
}

impl Drop for ValueMut<'_> {
    fn drop(&mut self) {
        let sh = &mut *self.shard;
        match std::mem::replace(&mut self.target, Target::Str(Value::Str(Bytes::new()))) {
            Target::Boxed(v) => {
                let after = v.mem_bytes();
                let empty = v.is_empty_container();
                sh.used = (sh.used + after).saturating_sub(self.before);
                if empty {
                    sh.unlink(self.key);
                }
            }
            Target::Str(v) => {
                let Some(n) = sh.node(self.key) else { return };
                if n.value() == v {
                    return;
                }
                if v.is_empty_container() {
                    sh.unlink(self.key);
                } else {
                    let node = Node::new(self.key, v, n.expires_at(), n.access());
                    sh.insert_node(node);
                }
            }
        }
    }
}

/// Adds `slot` to / removes it from the non-empty list to match its map.
fn note_slot(slots: &[SlotTable], nonempty: &mut Vec<Slot>, pos: &mut [u32], slot: Slot) {
    let listed = pos[slot as usize] != u32::MAX;
    let has_keys = !slots[slot as usize].is_empty();
    if has_keys && !listed {
        pos[slot as usize] = nonempty.len() as u32;
        nonempty.push(slot);
    } else if !has_keys && listed {
        let i = pos[slot as usize] as usize;
        nonempty.swap_remove(i);
        if let Some(&moved) = nonempty.get(i) {
            pos[moved as usize] = i as u32;
        }
        pos[slot as usize] = u32::MAX;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(Bytes::copy_from_slice(v.as_bytes()))
    }

    #[test]
    fn insert_get_remove() {
        let mut sh = Shard::new();
        sh.insert(b"a", s("1"), None);
        assert_eq!(sh.get(b"a").map(|e| e.value.to_value()), Some(s("1")));
        assert_eq!(sh.len(), 1);
        sh.insert(b"a", s("2"), None);
        assert_eq!(sh.len(), 1);
        assert!(sh.remove(b"a").is_some());
        assert!(sh.get(b"a").is_none());
        assert_eq!(sh.len(), 0);
    }

    #[test]
    fn same_length_string_writes_in_place() {
        let mut sh = Shard::new();
        sh.set_now(1000);
        sh.insert_str(b"a", b"10", Some(5000));
        sh.insert(b"l", Value::List(Box::new(crate::types::List::new())), None);
        let used = sh.used;
        // INCR-like: same length, TTL kept, nothing reallocated or re-accounted.
        assert!(sh.overwrite_str(b"a", b"11"));
        assert_eq!(sh.get(b"a").map(|e| (e.value.to_value(), e.expires_at)), Some((s("11"), Some(5000))));
        assert_eq!((sh.used, sh.volatile_len()), (used, 1));
        // Another length, a missing key or a container: left to the caller.
        assert!(!sh.overwrite_str(b"a", b"100"));
        assert!(!sh.overwrite_str(b"missing", b"1"));
        assert!(!sh.overwrite_str(b"l", b"1"));
        assert!(!sh.contains(b"missing"));
        // SET without a TTL over a key with one drops the TTL (not in place).
        sh.insert_str(b"a", b"12", None);
        assert_eq!(sh.get(b"a").map(|e| (e.value.to_value(), e.expires_at)), Some((s("12"), None)));
        assert_eq!(sh.volatile_len(), 0);
        // SET of the same length over a plain string: in place.
        sh.insert_str(b"a", b"13", None);
        assert_eq!(sh.get(b"a").map(|e| e.value.to_value()), Some(s("13")));
        assert_eq!((sh.len(), sh.used), (2, used));
        // An expired key is not written in place: it is gone.
        sh.insert_str(b"e", b"x", Some(1500));
        sh.set_now(2000);
        assert!(!sh.overwrite_str(b"e", b"y"));
        assert!(!sh.contains(b"e"));
    }

    #[test]
    fn lazy_and_active_expiry() {
        let mut sh = Shard::new();
        sh.set_now(1000);
        sh.insert(b"a", s("1"), Some(1500));
        sh.insert(b"b", s("1"), Some(2500));
        sh.insert(b"c", s("1"), None);
        assert!(sh.contains(b"a"));
        sh.set_now(1500);
        assert!(!sh.contains(b"a"));
        assert_eq!(sh.len(), 2);
        sh.set_now(3000);
        assert_eq!(sh.expire_cycle(10), 1);
        assert_eq!(sh.len(), 1);
        assert_eq!(sh.volatile_len(), 0);
    }

    #[test]
    fn set_expiry_updates_index() {
        let mut sh = Shard::new();
        sh.set_now(0);
        sh.insert(b"a", s("1"), Some(100));
        assert!(sh.set_expiry(b"a", Some(50)));
        assert_eq!(sh.volatile_len(), 1);
        assert!(sh.set_expiry(b"a", None));
        assert_eq!(sh.volatile_len(), 0);
        sh.set_now(200);
        assert!(sh.contains(b"a"));
    }

    #[test]
    fn nonempty_slots_track_inserts_removals_and_guards() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut sh = Shard::new();
        for _ in 0..20_000 {
            let key = format!("k{}", rng.gen_range(0..500));
            match rng.gen_range(0..3) {
                0 => sh.insert(key.as_bytes(), s("v"), None),
                1 => {
                    sh.remove(key.as_bytes());
                }
                _ => {
                    // A container emptied through the guard disappears.
                    let mut l = crate::types::List::new();
                    l.push_back(Bytes::from_static(b"x"));
                    sh.insert(key.as_bytes(), Value::List(Box::new(l)), None);
                    if let Some(mut v) = sh.value_mut(key.as_bytes()) {
                        if let Value::List(l) = &mut *v {
                            l.pop_front();
                        }
                    }
                }
            }
        }
        let mut want: Vec<Slot> = (0..SLOT_COUNT).filter(|&s| !sh.slots[s as usize].is_empty()).collect();
        let mut got = sh.nonempty.clone();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want);
        for (i, &slot) in sh.nonempty.iter().enumerate() {
            assert_eq!(sh.nonempty_pos[slot as usize], i as u32);
        }
        assert_eq!(sh.len(), sh.slots.iter().map(|m| m.len()).sum::<usize>());
    }

    #[test]
    fn accounting_returns_to_zero() {
        let mut sh = Shard::new();
        sh.set_now(0);
        sh.insert(b"a", s("1"), Some(100));
        sh.insert(b"a", s("22"), Some(100));
        sh.insert_str(b"b", b"333", None);
        assert_eq!(sh.volatile_len(), 1);
        // A string lent through a guard and left alone stays as it was.
        if let Some(mut v) = sh.value_mut(b"b") {
            assert!(matches!(&mut *v, Value::Str(_)));
        }
        assert_eq!(sh.peek(b"b").map(|e| e.value.to_value()), Some(s("333")));
        // A string changed through a guard is stored back, TTL kept.
        if let Some(mut v) = sh.value_mut(b"a") {
            *v = s("4444");
        }
        assert_eq!(sh.peek(b"a").map(|e| (e.value.to_value(), e.expires_at)), Some((s("4444"), Some(100))));
        assert!(sh.used_memory() > 0);
        assert!(sh.delete(b"a"));
        assert_eq!(sh.remove(b"b").map(|e| e.value), Some(s("333")));
        assert_eq!(sh.used_memory(), 0);
        assert_eq!(sh.volatile_len(), 0);
    }

    #[test]
    fn scan_visits_every_key_once() {
        let mut sh = Shard::new();
        for i in 0..1000 {
            sh.insert(format!("k{i}").as_bytes(), s("v"), None);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut rounds = 0;
        while cursor < SLOT_COUNT {
            let (keys, next) = sh.scan(cursor, SLOT_COUNT, 10, &ScanFilter::default());
            for k in keys {
                assert!(seen.insert(k));
            }
            cursor = next;
            rounds += 1;
            assert!(rounds < 100_000);
        }
        assert_eq!(seen.len(), 1000);
    }
}
