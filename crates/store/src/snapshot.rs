//! Point-in-time snapshots of a shard, taken while it keeps serving writes.
//!
//! `snapshot_begin` fixes the instant. The snapshot then walks the slots in
//! order (`snapshot_step`, a bounded number of keys per call, so the core is
//! never paused for long). Before any write to a key in a slot the walk has
//! not reached yet, the shard saves that key's entry as it was at the
//! instant (copy-on-write per entry, the first write only); the walk emits
//! saved entries instead of live ones. FLUSHALL during a snapshot moves the
//! unvisited slots aside whole instead of copying them.

use crate::node::EntryRef;
use crate::shard::{find, insert_new, remove_from, Entry, Shard, SlotTable};
use bytes::Bytes;
use hashbrown::{HashMap, HashTable};
use slots::{key_slot, Slot, SLOT_COUNT};

pub(crate) struct SnapState {
    /// The first slot not emitted yet.
    next_slot: u32,
    /// Entries as of the instant for keys written since (None: absent then).
    saved: HashMap<Bytes, Option<Entry>>,
    /// Keys of `saved` per slot, to emit keys deleted since the instant.
    saved_by_slot: HashMap<Slot, Vec<Bytes>>,
    /// Unvisited slots moved aside by a flush.
    frozen: Option<Vec<SlotTable>>,
    /// The instant (Unix ms): keys expired then are left out.
    at: u64,
}

impl Shard {
    /// Starts a snapshot of the shard as it is now.
    pub fn snapshot_begin(&mut self) {
        self.snap = Some(Box::new(SnapState {
            next_slot: 0,
            saved: HashMap::new(),
            saved_by_slot: HashMap::new(),
            frozen: None,
            at: self.now(),
        }));
    }

    pub fn snapshot_active(&self) -> bool {
        self.snap.is_some()
    }

    /// Drops an unfinished snapshot.
    pub fn snapshot_abort(&mut self) {
        self.snap = None;
    }

    /// Emits the next whole slots of the snapshot, at least one and until
    /// about `max_keys` keys were emitted. Returns false once the snapshot is
    /// complete (and no longer active).
    pub fn snapshot_step(&mut self, max_keys: usize, emit: &mut dyn FnMut(&[u8], EntryRef<'_>)) -> bool {
        let Some(mut st) = self.snap.take() else { return false };
        let mut emitted = 0;
        while st.next_slot < SLOT_COUNT as u32 && emitted < max_keys.max(1) {
            let slot = st.next_slot as usize;
            let live = match &st.frozen {
                Some(frozen) => &frozen[slot],
                None => &self.slots[slot],
            };
            for n in live {
                let k = n.key();
                let e = match st.saved.get(k) {
                    Some(Some(old)) => old.view(),
                    Some(None) => continue,
                    None => n.view(),
                };
                if !matches!(e.expires_at, Some(t) if t <= st.at) {
                    emit(k, e);
                    emitted += 1;
                }
            }
            // Keys that existed at the instant but are gone from the live map.
            if let Some(keys) = st.saved_by_slot.remove(&(slot as Slot)) {
                for k in keys {
                    if find(live, &self.hasher, &k).is_some() {
                        continue;
                    }
                    if let Some(Some(e)) = st.saved.remove(&k) {
                        if !matches!(e.expires_at, Some(t) if t <= st.at) {
                            emit(&k, e.view());
                            emitted += 1;
                        }
                    }
                }
            }
            st.next_slot += 1;
        }
        if st.next_slot < SLOT_COUNT as u32 {
            self.snap = Some(st);
            true
        } else {
            false
        }
    }

    /// Runs before every write to `key`: bumps a WATCH version, and saves the
    /// key's entry as of the snapshot instant before its first write.
    pub(crate) fn before_write(&mut self, key: &[u8]) {
        self.touch_watched(key);
        let Some(st) = self.snap.as_mut() else { return };
        if st.frozen.is_some() {
            return;
        }
        let slot = key_slot(key);
        if (slot as u32) < st.next_slot || st.saved.contains_key(key) {
            return;
        }
        let old = find(&self.slots[slot as usize], &self.hasher, key).map(|n| n.to_entry());
        let key = Bytes::copy_from_slice(key);
        st.saved_by_slot.entry(slot).or_default().push(key.clone());
        st.saved.insert(key, old);
    }

    /// Before a flush: moves the unvisited slots aside, as of the instant.
    pub(crate) fn freeze_snapshot(&mut self) {
        let Some(st) = self.snap.as_mut() else { return };
        if st.frozen.is_some() {
            return;
        }
        let mut frozen: Vec<SlotTable> = (0..SLOT_COUNT).map(|_| HashTable::new()).collect();
        let first = st.next_slot as usize;
        for (dst, src) in frozen[first..].iter_mut().zip(&mut self.slots[first..]) {
            *dst = std::mem::take(src);
        }
        for (k, old) in st.saved.drain() {
            let slot = key_slot(&k) as usize;
            if slot < st.next_slot as usize {
                continue;
            }
            remove_from(&mut frozen[slot], &self.hasher, &k);
            if let Some(e) = old {
                insert_new(&mut frozen[slot], &self.hasher, crate::node::Node::new(&k, e.value, e.expires_at, e.access));
            }
        }
        st.saved_by_slot.clear();
        st.frozen = Some(frozen);
    }
}

#[cfg(test)]
mod tests {
    use crate::{Shard, Value};
    use bytes::Bytes;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn v(s: u32) -> Value {
        Value::Str(Bytes::from(s.to_string()))
    }

    fn state(sh: &Shard) -> BTreeMap<Vec<u8>, Value> {
        sh.slots.iter().flat_map(|m| m.iter()).map(|n| (n.key().to_vec(), n.value().to_value())).collect()
    }

    proptest! {
        /// Whatever writes interleave with the walk, the snapshot equals the
        /// keyspace at the instant it began.
        #[test]
        fn snapshot_is_point_in_time(
            initial in proptest::collection::vec((0u32..200, 0u32..1000), 0..150),
            ops in proptest::collection::vec((0u8..6, 0u32..200, 0u32..1000), 0..300),
            step in 1usize..40,
        ) {
            let mut sh = Shard::new();
            for (k, x) in &initial {
                sh.insert(format!("k{k}").as_bytes(), v(*x), None);
            }
            let want = state(&sh);
            sh.snapshot_begin();
            let mut got = BTreeMap::new();
            let mut ops = ops.into_iter();
            loop {
                let more = sh.snapshot_step(step, &mut |k, e| {
                    assert!(got.insert(k.to_vec(), e.value.to_value()).is_none(), "key emitted twice");
                });
                for (kind, k, x) in ops.by_ref().take(3) {
                    let key = format!("k{k}");
                    match kind {
                        0 => sh.insert(key.as_bytes(), v(x), None),
                        1 => { sh.remove(key.as_bytes()); }
                        2 => { sh.set_expiry(key.as_bytes(), Some(u64::MAX / 2)); }
                        // Same-length string writes go in place.
                        4 => sh.insert_str(key.as_bytes(), x.to_string().as_bytes(), None),
                        5 => { sh.overwrite_str(key.as_bytes(), x.to_string().as_bytes()); }
                        3 => if x % 50 == 0 { sh.clear() } else { sh.insert(key.as_bytes(), v(x + 1), None) },
                        _ => unreachable!(),
                    }
                }
                if !more { break; }
            }
            prop_assert_eq!(got, want);
            prop_assert!(!sh.snapshot_active());
        }
    }
}
