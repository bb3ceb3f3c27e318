//! One shard's keyspace.
//!
//! A [`Shard`] holds the keys of the hash slots one core owns: values
//! ([`Value`]), their expiry times, and the statistics INFO reports. Every
//! function here is synchronous and touches only this shard: the server decides
//! which shard runs what, and cross-shard coordination lives above this crate.
//!
//! Layout:
//! - [`shard`]: the keyspace, organised per hash slot so that SCAN cursors,
//!   per-slot counts and (later) slot migration are direct; lazy and active
//!   expiry through an ordered expiry index.
//! - `node`: one key's storage, a single allocation holding the key, its
//!   expiry time, access history and (for a string) the value bytes; the
//!   per-slot tables hold only pointers to nodes.
//! - [`value`] and [`types`]: the value types, each with O(1) memory accounting.
//! - [`evict`]: access history (LRU clock, LFU counter) and maxmemory eviction.
//! - [`snapshot`]: point-in-time snapshots taken while writes go on
//!   (copy-on-write per entry, no fork).
//! - [`glob`]: Redis-style glob matching for KEYS, SCAN MATCH and friends.

pub mod evict;
pub mod glob;
mod node;
pub mod num;
pub mod serialize;
pub mod shard;
pub mod snapshot;
pub mod types;
pub mod value;

pub use evict::{Access, Policy};
pub use shard::{Entry, EntryRef, ScanFilter, Shard, ShardStats, ValueMut};
pub use value::{Value, ValueRef};

/// Milliseconds since the Unix epoch, the unit of every expiry time here.
pub fn unix_time_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
