//! The keyspace of one shard (one core).

use crate::evict::Access;
use crate::glob::glob_match;
use crate::value::Value;
use bytes::Bytes;
use hashbrown::HashMap;
use rand::Rng;
use slots::{key_slot, Slot, SLOT_COUNT};
use std::collections::BTreeSet;

/// A value, its expiry time (Unix ms) if any, and the access history the
/// LRU/LFU eviction policies and OBJECT IDLETIME/FREQ read.
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
}

/// Bytes one key costs besides its value: the map slot (key handle and
/// entry), the key's own allocation and the hash table's spare room.
pub fn key_overhead(key: &[u8]) -> usize {
    crate::value::alloc_size(key.len()) + 96
}

fn entry_cost(key: &[u8], e: &Entry) -> usize {
    key_overhead(key) + e.value.mem_bytes()
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
    pub(crate) slots: Vec<HashMap<Bytes, Entry>>,
    len: usize,
    /// Estimated bytes held by keys and values (see [`key_overhead`]).
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
    pub stats: ShardStats,
}

impl Default for Shard {
    fn default() -> Self {
        Shard::new()
    }
}

impl Shard {
    pub fn new() -> Shard {
        Shard::with_slots(0..SLOT_COUNT)
    }

    /// A shard that will own `owned` (any key still works; this only guides
    /// eviction sampling).
    pub fn with_slots(owned: std::ops::Range<Slot>) -> Shard {
        Shard {
            slots: (0..SLOT_COUNT).map(|_| HashMap::new()).collect(),
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

    fn map(&self, key: &[u8]) -> &HashMap<Bytes, Entry> {
        &self.slots[key_slot(key) as usize]
    }


    /// Reclaims `key` when it has expired. Returns whether it is (still) live.
    fn expire_if_due(&mut self, key: &[u8]) -> bool {
        let now = self.now;
        let due = match self.map(key).get(key) {
            None => return false,
            Some(e) => matches!(e.expires_at, Some(t) if t <= now),
        };
        if due {
            self.expiring = true;
            self.remove(key);
            self.expiring = false;
            self.stats.expired_keys += 1;
            if self.track_expired {
                self.expired_events.push(Bytes::copy_from_slice(key));
            }
        }
        !due
    }

    /// The live entry of `key`, counting a keyspace hit or miss.
    pub fn get(&mut self, key: &[u8]) -> Option<&Entry> {
        let live = self.expire_if_due(key);
        if live {
            self.stats.keyspace_hits += 1;
            let now = self.now;
            let e = self.slots[key_slot(key) as usize].get_mut(key)?;
            e.access.touch(now);
            Some(e)
        } else {
            self.stats.keyspace_misses += 1;
            None
        }
    }

    /// The live entry of `key`, without touching the hit/miss counters.
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        if self.expire_if_due(key) {
            self.map(key).get(key)
        } else {
            None
        }
    }

    /// Write access to the live value of `key`. The guard keeps the memory
    /// accounting right and deletes the key if it leaves an empty container.
    /// The expiry time changes only through [`Shard::set_expiry`].
    pub fn value_mut<'a>(&'a mut self, key: &'a [u8]) -> Option<ValueMut<'a>> {
        if !self.expire_if_due(key) {
            return None;
        }
        Some(self.guard(key))
    }

    /// Write access to the value of `key`, creating it with `make` when the
    /// key does not exist. The caller checks the type.
    pub fn value_mut_or_insert<'a>(&'a mut self, key: &'a [u8], make: impl FnOnce() -> Value) -> ValueMut<'a> {
        if !self.contains(key) {
            self.insert(key, make(), None);
        }
        self.guard(key)
    }

    fn guard<'a>(&'a mut self, key: &'a [u8]) -> ValueMut<'a> {
        self.before_write(key);
        let now = self.now;
        let slot = key_slot(key) as usize;
        let before = self.slots[slot].get_mut(key).map(|e| {
            e.access.touch(now);
            e.value.mem_bytes()
        });
        ValueMut {
            slot: slot as Slot,
            slots: &mut self.slots,
            nonempty: &mut self.nonempty,
            nonempty_pos: &mut self.nonempty_pos,
            key,
            before: before.unwrap_or(0),
            used: &mut self.used,
            len: &mut self.len,
            expiry: &mut self.expiry,
        }
    }

    pub fn contains(&mut self, key: &[u8]) -> bool {
        self.expire_if_due(key)
    }

    /// Stores `value` under `key` with the given expiry, replacing any old entry.
    pub fn insert(&mut self, key: &[u8], value: Value, expires_at: Option<u64>) {
        let mut e = Entry::new(value, expires_at);
        e.access.touch(self.now);
        self.insert_entry(key, e)
    }

    /// Stores `value` under `key`, keeping the TTL of a live old entry.
    pub fn insert_keep_ttl(&mut self, key: &[u8], value: Value) {
        let ttl = self.peek(key).and_then(|e| e.expires_at);
        self.insert(key, value, ttl)
    }

    /// Stores a whole entry under `key`, replacing any old entry.
    pub fn insert_entry(&mut self, key: &[u8], entry: Entry) {
        self.before_write(key);
        self.remove(key);
        // Keys are copied so a stored key never pins a larger network buffer.
        let key = Bytes::copy_from_slice(key);
        if let Some(t) = entry.expires_at {
            self.expiry.insert((t, key.clone()));
        }
        self.used += entry_cost(&key, &entry);
        let slot = key_slot(&key);
        self.slots[slot as usize].insert(key, entry);
        self.len += 1;
        self.note_slot(slot);
    }

    /// Keeps the non-empty slot list right after `slot` changed.
    fn note_slot(&mut self, slot: Slot) {
        note_slot(&self.slots, &mut self.nonempty, &mut self.nonempty_pos, slot);
    }

    /// Removes `key` whether or not it has expired, returning its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.before_write(key);
        let slot = key_slot(key);
        let (k, e) = self.slots[slot as usize].remove_entry(key)?;
        self.note_slot(slot);
        self.len -= 1;
        self.used -= entry_cost(&k, &e).min(self.used);
        if let Some(t) = e.expires_at {
            self.expiry.remove(&(t, k));
        }
        Some(e)
    }

    /// Removes a live `key`, returning its entry.
    pub fn take(&mut self, key: &[u8]) -> Option<Entry> {
        if self.expire_if_due(key) {
            self.remove(key)
        } else {
            None
        }
    }

    /// Sets or clears the expiry of a live key. Returns false when there is no such key.
    pub fn set_expiry(&mut self, key: &[u8], expires_at: Option<u64>) -> bool {
        if !self.expire_if_due(key) {
            return false;
        }
        self.before_write(key);
        let slot = key_slot(key) as usize;
        let Some((k, e)) = self.slots[slot].get_key_value_mut(key) else {
            return false;
        };
        if let Some(old) = e.expires_at {
            self.expiry.remove(&(old, k.clone()));
        }
        e.expires_at = expires_at;
        if let Some(t) = expires_at {
            self.expiry.insert((t, k.clone()));
        }
        true
    }

    /// Drops every key.
    pub fn clear(&mut self) {
        // A flush changes the watched keys that exist (as in Redis).
        for (k, w) in self.watched.iter_mut() {
            if self.slots[key_slot(k) as usize].contains_key(k) {
                self.watch_seq += 1;
                w.0 = self.watch_seq;
            }
        }
        self.freeze_snapshot();
        for m in &mut self.slots {
            *m = HashMap::new();
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
            .filter(|(k, e)| !is_expired(e, now) && (all || glob_match(pattern, k)))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Number of live keys in `slot`.
    pub fn count_in_slot(&self, slot: Slot) -> usize {
        let now = self.now;
        self.slots
            .get(slot as usize)
            .map(|m| m.values().filter(|e| !is_expired(e, now)).count())
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
                for (k, e) in map {
                    seen += 1;
                    if is_expired(e, now) {
                        continue;
                    }
                    if let Some(p) = &filter.pattern {
                        if !glob_match(p, k) {
                            continue;
                        }
                    }
                    if let Some(t) = &filter.type_name {
                        if !t.eq_ignore_ascii_case(e.value.type_name().as_bytes()) {
                            continue;
                        }
                    }
                    out.push(k.clone());
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
            match self.entry_raw(&k) {
                Some(e) if !is_expired(e, now) => return Some(k),
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
        m.keys().nth(skip).cloned()
    }

    /// The entry of `key` without expiring it or touching its history.
    pub fn entry_raw(&self, key: &[u8]) -> Option<&Entry> {
        self.map(key).get(key)
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
            self.remove(&k);
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

/// Write access to one live value (see [`Shard::value_mut`]).
pub struct ValueMut<'a> {
    slot: Slot,
    slots: &'a mut Vec<HashMap<Bytes, Entry>>,
    nonempty: &'a mut Vec<Slot>,
    nonempty_pos: &'a mut Vec<u32>,
    key: &'a [u8],
    before: usize,
    used: &'a mut usize,
    len: &'a mut usize,
    expiry: &'a mut BTreeSet<(u64, Bytes)>,
}

impl std::ops::Deref for ValueMut<'_> {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.slots[self.slot as usize].get(self.key).expect("guarded key exists").value
    }
}

impl std::ops::DerefMut for ValueMut<'_> {
    fn deref_mut(&mut self) -> &mut Value {
        &mut self.slots[self.slot as usize].get_mut(self.key).expect("guarded key exists").value
    }
}

impl Drop for ValueMut<'_> {
    fn drop(&mut self) {
        let map = &mut self.slots[self.slot as usize];
        let Some(e) = map.get(self.key) else { return };
        let after = e.value.mem_bytes();
        *self.used = (*self.used + after).saturating_sub(self.before);
        if e.value.is_empty_container() {
            if let Some((k, e)) = map.remove_entry(self.key) {
                note_slot(self.slots, self.nonempty, self.nonempty_pos, self.slot);
                *self.len -= 1;
                *self.used = self.used.saturating_sub(key_overhead(&k) + e.value.mem_bytes());
                if let Some(t) = e.expires_at {
                    self.expiry.remove(&(t, k));
                }
            }
        }
    }
}

/// Adds `slot` to / removes it from the non-empty list to match its map.
fn note_slot(slots: &[HashMap<Bytes, Entry>], nonempty: &mut Vec<Slot>, pos: &mut [u32], slot: Slot) {
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

fn is_expired(e: &Entry, now: u64) -> bool {
    matches!(e.expires_at, Some(t) if t <= now)
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
        assert_eq!(sh.get(b"a").map(|e| e.value.clone()), Some(s("1")));
        assert_eq!(sh.len(), 1);
        sh.insert(b"a", s("2"), None);
        assert_eq!(sh.len(), 1);
        assert!(sh.remove(b"a").is_some());
        assert!(sh.get(b"a").is_none());
        assert_eq!(sh.len(), 0);
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
