//! Cluster membership for redcore: the Redis Cluster bus as a sans-IO state
//! machine.
//!
//! This crate owns what a node knows about the cluster (the node table, the
//! slot → node map, epochs, failure state) and the protocol that keeps that
//! knowledge in agreement (gossip over PING/PONG, MEET handshakes, failure
//! reports and FAIL broadcasts, UPDATE messages and configEpoch rules). It
//! does no I/O: the server feeds it frames and timer ticks and carries out
//! what it asks for, and the simulation in [`sim`] does the same with a
//! virtual clock and an unreliable virtual network.
//!
//! ```text
//!   frames in ──► Cluster::handle_message(now, peer, bytes) ┐
//!   timer     ──► Cluster::handle_tick(now)                 ├─► Cluster::poll_output() ─► Send / ResetLink / Event
//!   commands  ──► meet, add_slots, forget, replicate, ...   ┘
//! ```
//!
//! Time is a `u64` in milliseconds on any clock that does not run backwards
//! (the server passes Unix milliseconds so that `CLUSTER NODES` shows
//! Redis-like ping/pong times); it must be non-zero, 0 meaning "never".
//!
//! # Driving it
//!
//! One core owns the [`Cluster`] and runs this loop (the other cores get the
//! slot map from it when [`Event::SlotsChanged`] fires):
//!
//! ```text
//! start:   Cluster::from_nodes_conf(cfg, seed, now, &text)   (or Cluster::new when there is no file)
//! bus:     accept on the bus port; split each byte stream with wire::frame_len;
//!          c.handle_message(now, PeerInfo { src_ip, local_ip }, &frame)
//! timer:   at c.next_timeout(): c.handle_tick(now)
//! command: CLUSTER MEET / ADDSLOTS / ... → c.meet(now, ..), c.add_slots(now, ..), ...
//!          CLUSTER NODES / INFO / SLOTS / SHARDS / MYID → c.nodes_text(), c.info().render(),
//!          c.slot_ranges(), c.shards(), c.myself_id()
//! after each of the above, drain c.poll_output():
//!   Output::Send { to, frame, .. }  → write to the (lazily opened) connection to `to`
//!   Output::ResetLink { to, .. }    → close that connection
//!   Output::Event(ConfigChanged)    → write c.to_nodes_conf() to nodes.conf (fsync)
//!   Output::Event(SlotsChanged)     → publish the new slot map to every core
//!   Output::Event(RoleChanged(m))   → start/stop replication; SlotsLost → drop those keys
//!   Output::Event(Publish { .. })   → deliver to local subscribers
//! ```
//!
//! Errors of the commands ([`ClusterError`]) display as Redis's text after
//! `ERR `. Preconditions about the keyspace (FLUSHSLOTS, REPLICATE and RESET
//! need an empty one) are the server's to check before calling.
//!
//! # Layout
//! - [`cluster`]: the state machine ([`Cluster`]), its inputs, outputs and
//!   commands.
//! - [`wire`]: the bus frame format (versioned, length-prefixed, CRC-32),
//!   documented there.
//! - [`node`], [`slotset`], [`id`]: the node table's parts.
//! - [`view`]: `CLUSTER NODES` / `SLOTS` / `SHARDS` / `INFO`.
//! - [`nodes_conf`]: `nodes.conf` save and load.
//! - [`sim`]: the deterministic simulation used by the tests.
//!
//! # Failure detection bound
//!
//! Let `T` be `cluster-node-timeout`, `P` = [`CRON_PERIOD_MS`] (100 ms) the
//! timer period, and `d` the largest one-way delay of a bus message. Suppose
//! a node `K` stops at `t0`, no message is lost, and a majority of the
//! masters that serve slots stay up and connected. Then:
//!
//! - every live node flags `K` **PFAIL by `t0 + 1.5·T + 2·P + d`**: its last
//!   PONG from `K` arrived by `t0 + d`; a PING goes out at the first timer run
//!   after that PONG is `T/2` old (`+ P`); PFAIL is set at the first timer run
//!   after that PING is `T` old (`+ P`);
//! - every live node flags `K` **FAIL by `t0 + 2·T + 3·P + 4·d`**
//!   ([`fail_detection_bound`]): every gossip section carries every PFAIL
//!   node, and a node sends each peer a PING at least every `T/2 + P + 2·d`
//!   (a PONG older than `T/2` triggers one), so each master's report reaches
//!   every node within `T/2 + P + 3·d` of its PFAIL; the quorum check runs
//!   on every report received and right after a node's own PFAIL, and the
//!   first node to reach FAIL broadcasts it.
//!
//! With `T` = 15 s (Redis's default) and a LAN, that is about 30.3 s. Reports
//! stay valid for `2·T`, well past the `T/2 + P + 3·d` refresh period. Lost
//! messages delay detection (a lost PING is retried after `T/2`), they do not
//! prevent it.
//!
//! A node flagged FAIL is cleared when it answers a PING again: at once for a
//! replica or a master without slots, and for a master with slots once the
//! FAIL is older than `2·T` (Redis's rule: nobody failed it over, so it is
//! still the owner); each live node does so within [`fail_clear_bound`]
//! (`T/2 + P + 2·d`) of the later of those two moments.
//!
//! The simulation tests (`tests/sim.rs`) check all three bounds on every
//! seeded run, with `T` of 300, 500 or 1000 ms, random delays up to 40 ms,
//! duplicates and reordering; over 3,000 seeds the worst cases used 100 % of
//! the PFAIL bound, 86 % of the FAIL bound and 100 % of the clear bound, so
//! the first and last are tight.

pub mod cluster;
pub mod error;
pub mod id;
pub mod node;
pub mod nodes_conf;
pub mod sim;
pub mod slotset;
pub mod view;
pub mod wire;

pub use cluster::{
    Cluster, ClusterConfig, ClusterHealth, Event, Output, PeerInfo, Stats, CRON_PERIOD_MS,
};
pub use error::{BumpEpoch, ClusterError};
pub use id::{NodeId, Rng, NODE_ID_LEN};
pub use node::{BusAddr, FailReport, LinkState, Node, NodeAddr, NodeFlags};
pub use nodes_conf::NodesConfError;
pub use slotset::SlotSet;
pub use view::{ClusterInfo, Endpoint, NodeHealth, Role, Shard, ShardNode, SlotRange};

/// Upper bound on the time from a node's death to every live node flagging it
/// FAIL, in ms: `2·T + 3·P + 4·d` for node timeout `T`, timer period `P`, and
/// largest one-way bus delay `d`. See the crate documentation for the
/// derivation and its assumptions (no loss, a majority of slot-serving
/// masters alive).
pub fn fail_detection_bound(node_timeout_ms: u64, max_delay_ms: u64) -> u64 {
    2 * node_timeout_ms + 3 * CRON_PERIOD_MS + 4 * max_delay_ms
}

/// Once a node flagged FAIL answers again, each live node clears the flag
/// within this many ms (`T/2 + P + 2·d`) of the later of: the node being
/// reachable again, and — for a master that serves slots — `2·T` after that
/// live node set FAIL. (A PING to a node with a pending PING is retried every
/// `T/2`; a PONG from a FAIL node clears the flag when Redis's rule allows.)
pub fn fail_clear_bound(node_timeout_ms: u64, max_delay_ms: u64) -> u64 {
    node_timeout_ms / 2 + CRON_PERIOD_MS + 2 * max_delay_ms
}

/// Upper bound on the time from a node's death to every live node flagging it
/// PFAIL, in ms: `1.5·T + 2·P + d`.
pub fn pfail_detection_bound(node_timeout_ms: u64, max_delay_ms: u64) -> u64 {
    node_timeout_ms + node_timeout_ms / 2 + 2 * CRON_PERIOD_MS + max_delay_ms
}
