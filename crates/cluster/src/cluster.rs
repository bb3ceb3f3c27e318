//! The state machine: node table, slot map, gossip, failure detection, epochs.
//!
//! [`Cluster`] is driven by three kinds of input, each taking the current
//! time in milliseconds:
//! - [`Cluster::handle_message`]: a frame that arrived on the bus;
//! - [`Cluster::handle_tick`]: the timer, due at [`Cluster::next_timeout`]
//!   (every [`CRON_PERIOD_MS`]);
//! - the commands (`meet`, `add_slots`, `forget`, ...).
//!
//! Each input leaves [`Output`]s in a queue the driver empties with
//! [`Cluster::poll_output`]: frames to send, links to reset, and [`Event`]s.
//! The algorithms follow Redis's `cluster.c` (7.0); where this module departs
//! from it the comment says why.

use crate::error::{BumpEpoch, ClusterError};
use crate::node::{BusAddr, FailReport, LinkState, Node, NodeAddr, NodeFlags};
use crate::wire::{self, Body, DecodeError, GossipEntry, Header, Message, MessageType};
use crate::{NodeId, Rng, SlotSet};
use bytes::Bytes;
use slots::{Slot, SLOT_COUNT};
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

/// Period of the cluster timer (Redis's `clusterCron` runs 10 times a second).
pub const CRON_PERIOD_MS: u64 = 100;
/// Every this many timer runs, PING the least recently answered of a few
/// random nodes (Redis: every 10 runs, 5 candidates).
const RANDOM_PING_EVERY: u64 = 10;
const RANDOM_PING_CANDIDATES: usize = 5;
/// Failure reports older than this many node timeouts are ignored.
pub const FAIL_REPORT_VALIDITY_MULT: u64 = 2;
/// A FAIL master that still serves slots is cleared after this many node
/// timeouts once it answers again.
pub const FAIL_UNDO_TIME_MULT: u64 = 2;

/// Configuration of the local node.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// `cluster-node-timeout`, ms.
    pub node_timeout_ms: u64,
    /// `cluster-require-full-coverage`.
    pub require_full_coverage: bool,
    /// `cluster-announce-ip`; when `None` the IP is learned from the first MEET.
    pub announce_ip: Option<IpAddr>,
    /// Client port announced.
    pub port: u16,
    /// Bus port announced.
    pub bus_port: u16,
    /// `cluster-announce-hostname`.
    pub hostname: Option<String>,
    /// `cluster-replica-no-failover`.
    pub replica_no_failover: bool,
    /// `cluster-allow-replica-migration`: a master that loses its last slot
    /// becomes a replica of the node that took it.
    pub allow_replica_migration: bool,
    /// How long a FORGET keeps the node from being re-added by gossip, ms.
    pub forget_ban_ms: u64,
    /// A master waits this long after start-up before declaring the cluster
    /// ok (Redis's `CLUSTER_WRITABLE_DELAY`), ms.
    pub writable_delay_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            node_timeout_ms: 15_000,
            require_full_coverage: true,
            announce_ip: None,
            port: 6379,
            bus_port: 16379,
            hostname: None,
            replica_no_failover: false,
            allow_replica_migration: true,
            forget_ban_ms: 60_000,
            writable_delay_ms: 2_000,
        }
    }
}

/// Addresses of the connection a frame arrived on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerInfo {
    /// The remote address: the sender's IP when its header does not carry one.
    pub src_ip: Option<IpAddr>,
    /// The local address: this node's IP as the sender reaches it, adopted on
    /// MEET when no `announce_ip` is configured.
    pub local_ip: Option<IpAddr>,
}

/// Cluster health as `CLUSTER INFO` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterHealth {
    /// `cluster_state:ok`: queries are served.
    Ok,
    /// `cluster_state:fail`.
    Fail,
}

/// Something the driver must do or know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send `frame` to the bus endpoint `to`. `node` is the id this node uses
    /// for the receiver (a placeholder during a handshake). Frames to one
    /// endpoint should go over one connection, in order; a lost frame is
    /// tolerated.
    Send {
        /// Destination endpoint.
        to: BusAddr,
        /// The receiver as known here.
        node: NodeId,
        /// Message type (for logs and metrics).
        kind: MessageType,
        /// The encoded frame.
        frame: Bytes,
    },
    /// Drop the connection to `node` at `to` (a PING went unanswered for half
    /// the node timeout, or the node moved); the next `Send` reconnects.
    ResetLink {
        /// The node.
        node: NodeId,
        /// Its endpoint.
        to: BusAddr,
    },
    /// A state change.
    Event(Event),
}

/// State changes reported to the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A node joined the table (handshake completed).
    NodeAdded(NodeId),
    /// A node left the table (FORGET, RESET, or replaced).
    NodeRemoved(NodeId),
    /// A node's address changed.
    NodeAddressChanged(NodeId),
    /// No PONG within the node timeout: flagged PFAIL locally.
    NodePFail(NodeId),
    /// PFAIL cleared (it answered).
    NodePFailCleared(NodeId),
    /// Flagged FAIL (quorum of masters, or a FAIL message).
    NodeFailed(NodeId),
    /// FAIL cleared.
    NodeFailCleared(NodeId),
    /// `cluster_state` changed.
    HealthChanged(ClusterHealth),
    /// This node's role changed: `Some(master)` = now a replica of it,
    /// `None` = now a master. The server (re)starts or stops replication.
    RoleChanged(Option<NodeId>),
    /// This node lost these slots to a node with a newer claim: their keys
    /// must go.
    SlotsLost(Vec<Slot>),
    /// The slot → node map changed (refresh routing, MOVED replies).
    SlotsChanged,
    /// The state that `nodes.conf` holds changed: save it
    /// ([`Cluster::to_nodes_conf`]).
    ConfigChanged,
    /// A PUBLISH (or SPUBLISH when `sharded`) from another node, to deliver
    /// to local subscribers.
    Publish {
        /// Channel.
        channel: Bytes,
        /// Payload.
        message: Bytes,
        /// SPUBLISH.
        sharded: bool,
    },
}

/// Message counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames sent, by type code.
    pub sent: [u64; MessageType::ALL.len()],
    /// Valid frames received, by type code.
    pub received: [u64; MessageType::ALL.len()],
    /// Valid frames of a type code this version does not know (skipped).
    pub received_unknown_type: u64,
    /// Frames dropped: CRC mismatch.
    pub dropped_checksum: u64,
    /// Frames dropped: bad magic, length or content.
    pub dropped_malformed: u64,
    /// Frames dropped: unsupported format version.
    pub dropped_version: u64,
    /// Valid frames from a sender that is not in the table (another cluster,
    /// or a forgotten node), other than MEET: not processed (a PING still
    /// gets its PONG, as in Redis).
    pub dropped_unknown_sender: u64,
}

impl Stats {
    /// Total frames sent.
    pub fn total_sent(&self) -> u64 {
        self.sent.iter().sum()
    }
    /// Total valid frames received.
    pub fn total_received(&self) -> u64 {
        self.received.iter().sum()
    }
    /// Total frames dropped before processing.
    pub fn total_dropped(&self) -> u64 {
        self.dropped_checksum + self.dropped_malformed + self.dropped_version
    }
}

/// The cluster state of one node. See the module documentation.
pub struct Cluster {
    pub(crate) cfg: ClusterConfig,
    pub(crate) myself: NodeId,
    pub(crate) nodes: BTreeMap<NodeId, Node>,
    /// Owner of each slot; `owner[s] == Some(n)` exactly when `nodes[n].slots` holds `s`.
    pub(crate) owner: Vec<Option<NodeId>>,
    pub(crate) current_epoch: u64,
    pub(crate) last_vote_epoch: u64,
    pub(crate) health: ClusterHealth,
    pub(crate) stats: Stats,
    /// FORGET bans: id → until when (ms).
    banned: BTreeMap<NodeId, u64>,
    rng: Rng,
    out: VecDeque<Output>,
    next_cron: u64,
    cron_runs: u64,
    start_time: u64,
    among_minority_since: Option<u64>,
    config_dirty: bool,
    slots_dirty: bool,
}

impl Cluster {
    /// A fresh node with a random id, knowing only itself. `seed` feeds every
    /// random choice (ids, gossip picks); the server passes OS randomness, a
    /// simulation a fixed value.
    pub fn new(cfg: ClusterConfig, seed: u64, now: u64) -> Cluster {
        let mut rng = Rng::new(seed);
        let id = NodeId::random(&mut rng);
        let mut c = Cluster::bare(cfg, rng, now);
        c.insert_myself(id, now);
        c
    }

    pub(crate) fn bare(cfg: ClusterConfig, rng: Rng, now: u64) -> Cluster {
        let now = now.max(1);
        Cluster {
            cfg,
            myself: NodeId::parse(&[b'0'; 40]).unwrap_or_else(|| unreachable!()),
            nodes: BTreeMap::new(),
            owner: vec![None; SLOT_COUNT as usize],
            current_epoch: 0,
            last_vote_epoch: 0,
            health: ClusterHealth::Fail,
            stats: Stats::default(),
            banned: BTreeMap::new(),
            rng,
            out: VecDeque::new(),
            next_cron: now,
            cron_runs: 0,
            start_time: now,
            among_minority_since: None,
            config_dirty: false,
            slots_dirty: false,
        }
    }

    pub(crate) fn insert_myself(&mut self, id: NodeId, now: u64) {
        let mut flags = NodeFlags::MYSELF | NodeFlags::MASTER;
        if self.cfg.replica_no_failover {
            flags.insert(NodeFlags::NOFAILOVER);
        }
        let addr = NodeAddr {
            ip: self.cfg.announce_ip,
            port: self.cfg.port,
            bus_port: self.cfg.bus_port,
            hostname: self.cfg.hostname.clone(),
        };
        let mut me = Node::new(id, flags, addr, now);
        me.link = LinkState::Connected;
        self.myself = id;
        self.nodes.insert(id, me);
    }

    // ------------------------------------------------------------------
    // Accessors
    // ------------------------------------------------------------------

    /// This node's id (`CLUSTER MYID`).
    pub fn myself_id(&self) -> NodeId {
        self.myself
    }

    /// This node's entry.
    pub fn myself(&self) -> &Node {
        &self.nodes[&self.myself]
    }

    fn me_mut(&mut self) -> &mut Node {
        self.nodes
            .get_mut(&self.myself)
            .unwrap_or_else(|| unreachable!("myself is always in the table"))
    }

    /// A node by id.
    pub fn node(&self, id: &NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// Every node, handshakes included, in id order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// The replicas of `master` in this node's view, in id order.
    pub fn replicas_of(&self, master: &NodeId) -> Vec<&Node> {
        self.nodes
            .values()
            .filter(|n| n.is_replica() && n.master.as_ref() == Some(master))
            .collect()
    }

    /// The node serving `slot`.
    pub fn slot_owner(&self, slot: Slot) -> Option<&Node> {
        self.owner
            .get(slot as usize)
            .copied()
            .flatten()
            .and_then(|id| self.nodes.get(&id))
    }

    /// `cluster_state`.
    pub fn health(&self) -> ClusterHealth {
        self.health
    }

    /// `currentEpoch`.
    pub fn current_epoch(&self) -> u64 {
        self.current_epoch
    }

    /// `lastVoteEpoch` (kept for `nodes.conf`; elections will use it).
    pub fn last_vote_epoch(&self) -> u64 {
        self.last_vote_epoch
    }

    /// Message counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &ClusterConfig {
        &self.cfg
    }

    /// Number of masters serving at least one slot (`cluster_size`).
    pub fn size(&self) -> usize {
        self.nodes
            .values()
            .filter(|n| n.is_master() && !n.slots.is_empty())
            .count()
    }

    /// Valid failure reports about `id` (`CLUSTER COUNT-FAILURE-REPORTS`).
    pub fn failure_report_count(&mut self, now: u64, id: &NodeId) -> Result<usize, ClusterError> {
        let validity = self.cfg.node_timeout_ms * FAIL_REPORT_VALIDITY_MULT;
        let n = self
            .nodes
            .get_mut(id)
            .ok_or_else(|| ClusterError::unknown(id))?;
        n.fail_reports
            .retain(|r| now.saturating_sub(r.time) <= validity);
        Ok(n.fail_reports.len())
    }

    /// Whether `id` is banned by a recent FORGET.
    pub fn is_banned(&self, now: u64, id: &NodeId) -> bool {
        self.banned.get(id).is_some_and(|&until| now < until)
    }

    /// When [`Cluster::handle_tick`] next has work.
    pub fn next_timeout(&self) -> u64 {
        self.next_cron
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Applies a new configuration (`CONFIG SET` of a cluster setting, or a
    /// changed announce address): timeouts apply from the next tick, address
    /// changes are announced in the next header.
    pub fn reconfigure(&mut self, now: u64, cfg: ClusterConfig) {
        let me = self.me_mut();
        if cfg.announce_ip.is_some() {
            me.addr.ip = cfg.announce_ip;
        }
        me.addr.port = cfg.port;
        me.addr.bus_port = cfg.bus_port;
        me.addr.hostname = cfg.hostname.clone();
        if cfg.replica_no_failover {
            me.flags.insert(NodeFlags::NOFAILOVER);
        } else {
            me.flags.remove(NodeFlags::NOFAILOVER);
        }
        self.cfg = cfg;
        self.config_dirty = true;
        self.finish(now.max(1));
    }

    /// Sets the replication offset advertised in every header.
    pub fn set_repl_offset(&mut self, offset: u64) {
        self.me_mut().repl_offset = offset;
    }

    /// The transport lost the connection to `id`.
    pub fn link_closed(&mut self, id: &NodeId) {
        if let Some(n) = self.nodes.get_mut(id) {
            if !n.is_myself() {
                n.link = LinkState::Disconnected;
            }
        }
    }

    // ------------------------------------------------------------------
    // Table and slot maintenance
    // ------------------------------------------------------------------

    fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }

    /// Emits the coalesced events; called at the end of every input.
    fn finish(&mut self, now: u64) {
        self.update_state(now);
        if self.slots_dirty {
            self.slots_dirty = false;
            self.event(Event::SlotsChanged);
        }
        if self.config_dirty {
            self.config_dirty = false;
            self.event(Event::ConfigChanged);
        }
    }

    /// Gives `slots` to `id`, taking them from their current owners. Works a
    /// set at a time: a claim of thousands of slots is common (a node joins,
    /// a master is loaded from nodes.conf) and per-slot table lookups showed
    /// up in profiles.
    pub(crate) fn assign_slots(&mut self, slots: &SlotSet, id: NodeId) {
        if slots.is_empty() || !self.nodes.contains_key(&id) {
            return;
        }
        let taken = self.clear_owners(slots, Some(id));
        for (old, set) in taken {
            if let Some(n) = self.nodes.get_mut(&old) {
                n.slots.subtract(&set);
            }
        }
        if let Some(n) = self.nodes.get_mut(&id) {
            n.slots.union_with(slots);
        }
        self.slots_dirty = true;
    }

    /// Sets `owner` of every slot in `slots` to `to`; returns, per previous
    /// owner other than `to`, the slots it lost.
    fn clear_owners(&mut self, slots: &SlotSet, to: Option<NodeId>) -> Vec<(NodeId, SlotSet)> {
        let mut taken: Vec<(NodeId, SlotSet)> = Vec::new();
        for s in slots.iter() {
            let old = std::mem::replace(&mut self.owner[s as usize], to);
            if let Some(old) = old.filter(|o| Some(*o) != to) {
                match taken.iter_mut().find(|(o, _)| *o == old) {
                    Some((_, set)) => {
                        set.insert(s);
                    }
                    None => taken.push((old, SlotSet::from_range(s, s))),
                }
            }
        }
        taken
    }

    /// Makes `slots` unassigned.
    fn unassign_slots(&mut self, slots: &SlotSet) {
        let taken = self.clear_owners(slots, None);
        for (old, set) in taken {
            if let Some(n) = self.nodes.get_mut(&old) {
                n.slots.subtract(&set);
            }
            self.slots_dirty = true;
        }
    }

    fn unassign_all_of(&mut self, id: &NodeId) {
        if let Some(slots) = self.nodes.get(id).map(|n| n.slots.clone()) {
            self.unassign_slots(&slots);
        }
    }

    fn handshake_in_progress(&self, ip: IpAddr, bus_port: u16) -> bool {
        self.nodes
            .values()
            .any(|n| n.in_handshake() && n.addr.ip == Some(ip) && n.addr.bus_port == bus_port)
    }

    /// Adds a handshake entry for an address (MEET command, MEET received, or
    /// gossip about an unknown node). Returns false when one is already in
    /// progress for the address.
    fn start_handshake(
        &mut self,
        now: u64,
        ip: IpAddr,
        port: u16,
        bus_port: u16,
        meet: bool,
    ) -> bool {
        if self.handshake_in_progress(ip, bus_port) {
            return false;
        }
        let id = NodeId::random(&mut self.rng);
        let mut flags = NodeFlags::HANDSHAKE;
        if meet {
            flags.insert(NodeFlags::MEET);
        }
        let addr = NodeAddr {
            ip: Some(ip),
            port,
            bus_port,
            hostname: None,
        };
        self.nodes.insert(id, Node::new(id, flags, addr, now));
        self.send_ping_to(now, id);
        true
    }

    /// Removes a node: its slots become unassigned, its failure reports go,
    /// its replicas lose their master pointer.
    fn del_node(&mut self, id: &NodeId) {
        if *id == self.myself {
            return;
        }
        self.unassign_all_of(id);
        let Some(node) = self.nodes.remove(id) else {
            return;
        };
        for n in self.nodes.values_mut() {
            n.fail_reports.retain(|r| r.reporter != *id);
            if n.master == Some(*id) && !n.is_myself() {
                n.master = None;
            }
        }
        if !node.in_handshake() {
            self.event(Event::NodeRemoved(*id));
            self.config_dirty = true;
        }
    }

    fn rename_node(&mut self, old: &NodeId, new: NodeId) {
        if let Some(mut n) = self.nodes.remove(old) {
            n.id = new;
            self.nodes.insert(new, n);
        }
    }

    /// Updates a node's address from what it announces; resets the link when
    /// it moved.
    fn update_address(&mut self, id: &NodeId, ip: Option<IpAddr>, port: u16, bus_port: u16) {
        let Some(ip) = ip else { return };
        let Some(n) = self.nodes.get_mut(id) else {
            return;
        };
        if n.is_myself()
            || (n.addr.ip == Some(ip) && n.addr.port == port && n.addr.bus_port == bus_port)
        {
            return;
        }
        let old = n.addr.bus();
        n.addr.ip = Some(ip);
        n.addr.port = port;
        n.addr.bus_port = bus_port;
        n.flags.remove(NodeFlags::NOADDR);
        n.link = LinkState::Disconnected;
        if let Some(to) = old {
            self.out.push_back(Output::ResetLink { node: *id, to });
        }
        self.event(Event::NodeAddressChanged(*id));
        self.config_dirty = true;
    }

    // ------------------------------------------------------------------
    // Sending
    // ------------------------------------------------------------------

    fn header(&self, peer_ref: Option<NodeId>) -> Header {
        let me = self.myself();
        let master = if me.is_replica() {
            me.master.and_then(|m| self.nodes.get(&m))
        } else {
            None
        };
        let (slots, config_epoch) = match master {
            Some(m) => (m.slots.clone(), m.config_epoch),
            None => (me.slots.clone(), me.config_epoch),
        };
        let mut flags = me.flags;
        flags.remove(NodeFlags::MYSELF);
        Header {
            sender: self.myself,
            peer_ref,
            master: if me.is_replica() { me.master } else { None },
            current_epoch: self.current_epoch,
            config_epoch,
            repl_offset: me.repl_offset,
            flags,
            cluster_fail: self.health == ClusterHealth::Fail,
            mflags: 0,
            port: me.addr.port,
            bus_port: me.addr.bus_port,
            tls_port: 0,
            ip: me.addr.ip,
            hostname: me.addr.hostname.clone(),
            slots,
        }
    }

    fn emit(&mut self, to: BusAddr, node: NodeId, msg: &Message) {
        let frame = wire::encode(msg);
        let kind = MessageType::from_code(msg.body.type_code()).unwrap_or(MessageType::Module);
        self.stats.sent[kind as usize] += 1;
        self.out.push_back(Output::Send {
            to,
            node,
            kind,
            frame,
        });
    }

    fn emit_frame(&mut self, to: BusAddr, node: NodeId, kind: MessageType, frame: Bytes) {
        self.stats.sent[kind as usize] += 1;
        self.out.push_back(Output::Send {
            to,
            node,
            kind,
            frame,
        });
    }

    /// Gossip for one PING/PONG/MEET, as Redis picks it: about a tenth of the
    /// nodes (at least 3) at random, skipping handshakes, unaddressed nodes
    /// and disconnected slotless ones, plus every PFAIL node so that failure
    /// reports spread within one exchange.
    fn gossip(&mut self) -> Vec<GossipEntry> {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        let mut fresh = ids.len().saturating_sub(2);
        let wanted = (ids.len() / 10).max(3).min(fresh);
        let mut picked: Vec<NodeId> = Vec::with_capacity(wanted);
        let mut tries = wanted * 3;
        while fresh > 0 && picked.len() < wanted && tries > 0 {
            tries -= 1;
            let id = ids[self.rng.below(ids.len() as u64) as usize];
            let n = &self.nodes[&id];
            if n.is_myself() || n.is_pfail() {
                continue;
            }
            if n.flags.intersects(NodeFlags::HANDSHAKE | NodeFlags::NOADDR)
                || (n.link == LinkState::Disconnected && n.slots.is_empty())
            {
                fresh -= 1;
                continue;
            }
            if picked.contains(&id) {
                continue;
            }
            picked.push(id);
            fresh -= 1;
        }
        for n in self.nodes.values() {
            if n.is_pfail() && !n.flags.intersects(NodeFlags::HANDSHAKE | NodeFlags::NOADDR) {
                picked.push(n.id);
            }
        }
        picked
            .iter()
            .map(|id| {
                let n = &self.nodes[id];
                let mut flags = n.flags;
                flags.remove(NodeFlags::MYSELF);
                GossipEntry {
                    id: n.id,
                    flags,
                    ip: n.addr.ip,
                    port: n.addr.port,
                    bus_port: n.addr.bus_port,
                    ping_sent: n.ping_sent,
                    pong_received: n.pong_received,
                }
            })
            .collect()
    }

    /// Sends PING (or MEET to a handshake started by MEET) to `id`, marking
    /// the PING pending unless one already is.
    fn send_ping_to(&mut self, now: u64, id: NodeId) {
        let Some(n) = self.nodes.get(&id) else { return };
        let Some(to) = n.addr.bus() else { return };
        let meet = n.flags.contains(NodeFlags::MEET);
        let gossip = self.gossip();
        let msg = Message {
            header: self.header(Some(id)),
            body: if meet {
                Body::Meet(gossip)
            } else {
                Body::Ping(gossip)
            },
        };
        if let Some(n) = self.nodes.get_mut(&id) {
            if !meet && n.ping_sent == 0 {
                n.ping_sent = now;
            }
        }
        self.emit(to, id, &msg);
    }

    /// Sends `body` once to every node in the table that can be reached.
    fn broadcast(&mut self, body: Body, only: Option<&dyn Fn(&Node) -> bool>) {
        let msg = Message {
            header: self.header(None),
            body,
        };
        let kind = MessageType::from_code(msg.body.type_code()).unwrap_or(MessageType::Module);
        let frame = wire::encode(&msg);
        let targets: Vec<(NodeId, BusAddr)> = self
            .nodes
            .values()
            .filter(|n| !n.flags.intersects(NodeFlags::MYSELF | NodeFlags::HANDSHAKE))
            .filter(|n| only.is_none_or(|f| f(n)))
            .filter_map(|n| n.addr.bus().map(|a| (n.id, a)))
            .collect();
        for (id, to) in targets {
            self.emit_frame(to, id, kind, frame.clone());
        }
    }

    // ------------------------------------------------------------------
    // Receiving
    // ------------------------------------------------------------------

    /// Processes one frame received on the bus at `now`. Frames that fail to
    /// decode are counted in [`Stats`] and dropped; nothing a peer sends can
    /// make this panic.
    pub fn handle_message(&mut self, now: u64, peer: PeerInfo, frame: &[u8]) {
        let now = now.max(1);
        let msg = match wire::decode(frame) {
            Ok(m) => m,
            Err(DecodeError::Checksum) => {
                self.stats.dropped_checksum += 1;
                return;
            }
            Err(DecodeError::BadVersion(_)) => {
                self.stats.dropped_version += 1;
                return;
            }
            Err(_) => {
                self.stats.dropped_malformed += 1;
                return;
            }
        };
        match msg.body.message_type() {
            Some(t) => self.stats.received[t as usize] += 1,
            None => {
                self.stats.received_unknown_type += 1;
                return;
            }
        }
        self.process(now, peer, msg);
        self.finish(now);
    }

    fn process(&mut self, now: u64, peer: PeerInfo, msg: Message) {
        let h = msg.header;
        let is_ping = matches!(msg.body, Body::Ping(_) | Body::Meet(_));
        let is_pong = matches!(msg.body, Body::Pong(_));
        let sender_ip = h.ip.or(peer.src_ip);

        if h.sender == self.myself {
            // Our own MEET/PING came back (CLUSTER MEET to our own address):
            // answer it, and drop the placeholder when the answer arrives.
            if is_ping {
                self.reply_pong(sender_ip, &h);
            } else if let (Body::Pong(_), Some(r)) = (&msg.body, h.peer_ref) {
                if self.nodes.get(&r).is_some_and(|n| n.in_handshake()) {
                    self.del_node(&r);
                }
            }
            return;
        }

        let mut known = self.nodes.get(&h.sender).is_some_and(|n| !n.in_handshake());
        if known {
            self.note_sender(now, &h);
        }

        if is_ping {
            let meet = matches!(msg.body, Body::Meet(_));
            // Our own IP, when not configured, is the address peers reach us
            // at: a MEET always tells it (a node that moved is re-MEET), a
            // PING only while we know none (as Redis does).
            if self.cfg.announce_ip.is_none() && (meet || self.myself().addr.ip.is_none()) {
                if let Some(ip) = peer.local_ip {
                    if self.myself().addr.ip != Some(ip) {
                        self.me_mut().addr.ip = Some(ip);
                        self.config_dirty = true;
                    }
                }
            }
            if meet {
                if !known {
                    // Redis adds the sender of a MEET in handshake state (with
                    // a placeholder id): the PONG to our PING will name it.
                    if let Some(ip) = sender_ip {
                        if self.handshake_in_progress(ip, h.bus_port) {
                            // A retried MEET: the handshake already runs.
                        } else {
                            let id = NodeId::random(&mut self.rng);
                            let addr = NodeAddr {
                                ip: Some(ip),
                                port: h.port,
                                bus_port: h.bus_port,
                                hostname: None,
                            };
                            self.nodes
                                .insert(id, Node::new(id, NodeFlags::HANDSHAKE, addr, now));
                            self.send_ping_to(now, id);
                        }
                    }
                }
            } else if !known {
                self.stats.dropped_unknown_sender += 1;
            }
            self.reply_pong(sender_ip, &h);
        }

        // A PONG that answers a handshake names the placeholder.
        if let (Body::Pong(_), Some(r)) = (&msg.body, h.peer_ref) {
            if self.nodes.get(&r).is_some_and(|n| n.in_handshake()) {
                if known {
                    // We met this node another way meanwhile.
                    self.update_address(&h.sender, sender_ip, h.port, h.bus_port);
                    self.del_node(&r);
                } else {
                    self.rename_node(&r, h.sender);
                    let n = self
                        .nodes
                        .get_mut(&h.sender)
                        .unwrap_or_else(|| unreachable!());
                    n.flags.remove(NodeFlags::HANDSHAKE | NodeFlags::MEET);
                    n.flags.insert(if h.master.is_some() {
                        NodeFlags::REPLICA
                    } else {
                        NodeFlags::MASTER
                    });
                    n.addr.ip = sender_ip.or(n.addr.ip);
                    n.addr.port = h.port;
                    n.addr.bus_port = h.bus_port;
                    n.ctime = now;
                    known = true;
                    self.event(Event::NodeAdded(h.sender));
                    self.config_dirty = true;
                    self.note_sender(now, &h);
                }
            }
        }

        if !known {
            if !is_ping {
                self.stats.dropped_unknown_sender += 1;
            }
            return;
        }
        let sender = h.sender;

        match msg.body {
            Body::Ping(gossip) | Body::Pong(gossip) | Body::Meet(gossip) => {
                self.update_address(&sender, sender_ip, h.port, h.bus_port);
                self.process_pingish(now, &h, is_pong);
                self.process_gossip(now, &sender, &gossip);
            }
            Body::Fail { node } => {
                if let Some(n) = self.nodes.get_mut(&node) {
                    if !n.flags.intersects(NodeFlags::FAIL | NodeFlags::MYSELF) {
                        n.flags.remove(NodeFlags::PFAIL);
                        n.flags.insert(NodeFlags::FAIL);
                        n.fail_time = now;
                        self.event(Event::NodeFailed(node));
                        self.config_dirty = true;
                    }
                }
            }
            Body::Publish {
                channel,
                message,
                sharded,
            } => {
                self.event(Event::Publish {
                    channel,
                    message,
                    sharded,
                });
            }
            Body::Update {
                node,
                config_epoch,
                slots,
            } => {
                let Some(n) = self.nodes.get(&node) else {
                    return;
                };
                // Nobody knows our own claim better than we do.
                if n.config_epoch >= config_epoch || n.in_handshake() || n.is_myself() {
                    return;
                }
                if n.is_replica() && !n.is_myself() {
                    self.set_node_as_master(&node);
                }
                if let Some(n) = self.nodes.get_mut(&node) {
                    n.config_epoch = config_epoch;
                }
                self.config_dirty = true;
                self.update_slots_config_with(&node, config_epoch, &slots);
            }
            Body::FailoverAuthRequest
            | Body::FailoverAuthAck
            | Body::MfStart
            | Body::Unknown(_) => {}
        }
    }

    /// What every message from a known sender updates: liveness and epochs.
    fn note_sender(&mut self, now: u64, h: &Header) {
        if h.current_epoch > self.current_epoch {
            self.current_epoch = h.current_epoch;
            self.config_dirty = true;
        }
        let Some(n) = self.nodes.get_mut(&h.sender) else {
            return;
        };
        n.data_received = now;
        n.link = LinkState::Connected;
        n.repl_offset = h.repl_offset;
        if h.config_epoch > n.config_epoch {
            n.config_epoch = h.config_epoch;
            self.config_dirty = true;
        }
        if let Some(name) = &h.hostname {
            if n.addr.hostname.as_ref() != Some(name) {
                n.addr.hostname = Some(name.clone());
                self.config_dirty = true;
            }
        } else if n.addr.hostname.is_some() {
            n.addr.hostname = None;
            self.config_dirty = true;
        }
    }

    fn reply_pong(&mut self, ip: Option<IpAddr>, h: &Header) {
        let Some(ip) = ip else { return };
        let gossip = self.gossip();
        let msg = Message {
            header: self.header(h.peer_ref),
            body: Body::Pong(gossip),
        };
        self.emit(
            BusAddr {
                ip,
                port: h.bus_port,
            },
            h.sender,
            &msg,
        );
    }

    /// PING, PONG and MEET from a known sender: liveness, role, slots, epochs.
    fn process_pingish(&mut self, now: u64, h: &Header, pong: bool) {
        let sender = h.sender;
        if pong {
            let n = self
                .nodes
                .get_mut(&sender)
                .unwrap_or_else(|| unreachable!());
            n.pong_received = now;
            n.ping_sent = 0;
            if n.is_pfail() {
                n.flags.remove(NodeFlags::PFAIL);
                self.event(Event::NodePFailCleared(sender));
            } else if n.is_failed() {
                self.clear_failure_if_needed(now, &sender);
            }
        }

        // Role.
        match h.master {
            None => {
                let n = &self.nodes[&sender];
                if !n.is_master() {
                    self.set_node_as_master(&sender);
                }
            }
            Some(master) => {
                if self.nodes[&sender].is_master() {
                    // A master turned replica: it serves nothing any more.
                    self.unassign_all_of(&sender);
                }
                let n = self
                    .nodes
                    .get_mut(&sender)
                    .unwrap_or_else(|| unreachable!());
                if !n.is_replica() {
                    n.flags.remove(NodeFlags::MASTER | NodeFlags::MIGRATE_TO);
                    n.flags.insert(NodeFlags::REPLICA);
                    self.config_dirty = true;
                }
                if n.master != Some(master) {
                    n.master = Some(master);
                    self.config_dirty = true;
                }
            }
        }
        let nofailover = h.flags.contains(NodeFlags::NOFAILOVER);
        let n = self
            .nodes
            .get_mut(&sender)
            .unwrap_or_else(|| unreachable!());
        if n.flags.contains(NodeFlags::NOFAILOVER) != nofailover {
            if nofailover {
                n.flags.insert(NodeFlags::NOFAILOVER);
            } else {
                n.flags.remove(NodeFlags::NOFAILOVER);
            }
            self.config_dirty = true;
        }

        // Slots: does the sender's claim (its master's, for a replica) differ
        // from what we hold?
        let sender_is_master = self.nodes[&sender].is_master();
        let claim_owner = if sender_is_master {
            Some(sender)
        } else {
            self.nodes[&sender].master
        };
        let dirty = claim_owner
            .and_then(|m| self.nodes.get(&m))
            .is_some_and(|m| m.slots != h.slots);
        if sender_is_master && dirty {
            self.update_slots_config_with(&sender, h.config_epoch, &h.slots);
        }
        if dirty {
            // Some slot it claims may have a newer owner: tell it (UPDATE).
            // Word-level per owner rather than per slot: a claim often covers
            // thousands of slots.
            let stale = self
                .nodes
                .values()
                .find(|o| {
                    o.id != sender
                        && o.config_epoch > h.config_epoch
                        && o.slots.intersects(&h.slots)
                })
                .map(|o| o.id);
            if let Some(o) = stale {
                self.send_update(&sender, &o);
            }
        }

        // Two masters with one configEpoch: the smaller id takes a new one.
        if sender_is_master
            && self.myself().is_master()
            && h.config_epoch == self.myself().config_epoch
        {
            self.handle_config_epoch_collision(&sender);
        }
    }

    fn send_update(&mut self, to: &NodeId, about: &NodeId) {
        let (Some(t), Some(a)) = (self.nodes.get(to), self.nodes.get(about)) else {
            return;
        };
        let Some(addr) = t.addr.bus() else { return };
        let body = Body::Update {
            node: a.id,
            config_epoch: a.config_epoch,
            slots: Box::new(a.slots.clone()),
        };
        let msg = Message {
            header: self.header(None),
            body,
        };
        self.emit(addr, *to, &msg);
    }

    fn handle_config_epoch_collision(&mut self, sender: &NodeId) {
        // Only the node with the smaller id acts, so exactly one of the two moves.
        if *sender <= self.myself {
            return;
        }
        self.current_epoch += 1;
        let e = self.current_epoch;
        self.me_mut().config_epoch = e;
        self.config_dirty = true;
    }

    /// Makes `id` (not myself) a master in our view.
    fn set_node_as_master(&mut self, id: &NodeId) {
        let Some(n) = self.nodes.get_mut(id) else {
            return;
        };
        if n.is_master() {
            return;
        }
        n.flags.remove(NodeFlags::REPLICA);
        n.flags.insert(NodeFlags::MASTER);
        n.master = None;
        self.config_dirty = true;
    }

    /// The heart of slot ownership: `sender` claims `slots` at `epoch`. Each
    /// slot goes to it when unassigned or held at a lower configEpoch. Slots
    /// the sender held in our view but no longer claims (at an epoch not
    /// older than the one we know) become unassigned, so a DELSLOTS on the
    /// owner propagates (Redis 7.2 does the same through its
    /// `owner_not_claiming_slot` map).
    fn update_slots_config_with(&mut self, sender: &NodeId, epoch: u64, slots: &SlotSet) {
        if *sender == self.myself {
            return;
        }
        let me = self.myself();
        let cur_master = if me.is_master() {
            Some(self.myself)
        } else {
            me.master
        };
        let mut new_master = None;
        let mut lost = Vec::new();
        let mut take = SlotSet::new();
        // Runs of slots share an owner: decide once per run.
        let mut last: Option<(Option<NodeId>, bool)> = None;
        for s in slots.iter() {
            let owner = self.owner[s as usize];
            let wins = match last {
                Some((o, w)) if o == owner => w,
                _ => {
                    let w = owner != Some(*sender)
                        && match owner.and_then(|o| self.nodes.get(&o)) {
                            None => true,
                            Some(o) => o.config_epoch < epoch,
                        };
                    last = Some((owner, w));
                    w
                }
            };
            if !wins {
                continue;
            }
            if owner == Some(self.myself) {
                lost.push(s);
            }
            if owner.is_some() && owner == cur_master {
                new_master = Some(*sender);
            }
            take.insert(s);
        }
        self.assign_slots(&take, *sender);
        if let Some(n) = self.nodes.get(sender) {
            if epoch >= n.config_epoch && n.slots != *slots {
                let dropped = n.slots.difference(slots);
                self.unassign_slots(&dropped);
            }
        }
        if !lost.is_empty() {
            self.config_dirty = true;
            self.event(Event::SlotsLost(lost));
        }
        if let (Some(nm), Some(cm)) = (new_master, cur_master) {
            let master_empty = self.nodes.get(&cm).is_none_or(|n| n.slots.is_empty());
            if master_empty && self.cfg.allow_replica_migration {
                // Our master (or we) lost the last slot to `sender`: follow it.
                self.set_my_master(nm);
            }
        }
    }

    /// Gossip from a known sender: failure reports, addresses of failing
    /// nodes, and handshakes with nodes we do not know.
    fn process_gossip(&mut self, now: u64, sender: &NodeId, gossip: &[GossipEntry]) {
        let sender_is_master = self.nodes.get(sender).is_some_and(|n| n.is_master());
        for g in gossip {
            if g.id == *sender {
                continue;
            }
            if let Some(n) = self.nodes.get_mut(&g.id) {
                if n.is_myself() || n.in_handshake() {
                    continue;
                }
                if sender_is_master {
                    if g.flags.intersects(NodeFlags::PFAIL | NodeFlags::FAIL) {
                        match n.fail_reports.iter_mut().find(|r| r.reporter == *sender) {
                            Some(r) => r.time = now,
                            None => n.fail_reports.push(FailReport {
                                reporter: *sender,
                                time: now,
                            }),
                        }
                        self.mark_failing_if_needed(now, &g.id);
                    } else {
                        n.fail_reports.retain(|r| r.reporter != *sender);
                    }
                }
                let n = &self.nodes[&g.id];
                if n.flags.intersects(NodeFlags::PFAIL | NodeFlags::FAIL)
                    && !g.flags.contains(NodeFlags::NOADDR)
                    && g.ip.is_some()
                    && (n.addr.ip != g.ip || n.addr.port != g.port || n.addr.bus_port != g.bus_port)
                {
                    // We cannot reach it but the sender can: maybe it moved.
                    self.update_address(&g.id, g.ip, g.port, g.bus_port);
                }
            } else if !g.flags.intersects(NodeFlags::NOADDR | NodeFlags::HANDSHAKE)
                && !self.is_banned(now, &g.id)
            {
                if let Some(ip) = g.ip {
                    self.start_handshake(now, ip, g.port, g.bus_port, true);
                }
            }
        }
    }

    fn mark_failing_if_needed(&mut self, now: u64, id: &NodeId) {
        let needed = self.size() / 2 + 1;
        let validity = self.cfg.node_timeout_ms * FAIL_REPORT_VALIDITY_MULT;
        let me_master = self.myself().is_master();
        let Some(n) = self.nodes.get_mut(id) else {
            return;
        };
        if !n.is_pfail() || n.is_failed() {
            return;
        }
        n.fail_reports
            .retain(|r| now.saturating_sub(r.time) <= validity);
        let failures = n.fail_reports.len() + me_master as usize;
        if failures < needed {
            return;
        }
        n.flags.remove(NodeFlags::PFAIL);
        n.flags.insert(NodeFlags::FAIL);
        n.fail_time = now;
        self.event(Event::NodeFailed(*id));
        self.config_dirty = true;
        // Everyone reachable learns it at once, replicas helping too.
        self.broadcast(Body::Fail { node: *id }, None);
    }

    fn clear_failure_if_needed(&mut self, now: u64, id: &NodeId) {
        let undo = self.cfg.node_timeout_ms * FAIL_UNDO_TIME_MULT;
        let Some(n) = self.nodes.get_mut(id) else {
            return;
        };
        if !n.is_failed() {
            return;
        }
        // A replica or slotless master is cleared at once; a master with
        // slots only after a while, in case a failover is under way.
        let clear = n.is_replica() || n.slots.is_empty() || now.saturating_sub(n.fail_time) > undo;
        if clear {
            n.flags.remove(NodeFlags::FAIL);
            self.event(Event::NodeFailCleared(*id));
            self.config_dirty = true;
        }
    }

    /// Makes this node a replica of `master` (clusterSetMaster).
    fn set_my_master(&mut self, master: NodeId) {
        if self.myself().is_master() {
            let me = self.myself;
            self.unassign_all_of(&me);
            let me = self.me_mut();
            me.flags.remove(NodeFlags::MASTER | NodeFlags::MIGRATE_TO);
            me.flags.insert(NodeFlags::REPLICA);
        }
        self.me_mut().master = Some(master);
        self.event(Event::RoleChanged(Some(master)));
        self.config_dirty = true;
    }

    // ------------------------------------------------------------------
    // Timer
    // ------------------------------------------------------------------

    /// Runs the periodic work when it is due (at [`Cluster::next_timeout`];
    /// earlier calls do nothing): handshake retries and expiry, PINGs, link
    /// resets, PFAIL detection, cluster state.
    pub fn handle_tick(&mut self, now: u64) {
        let now = now.max(1);
        if now < self.next_cron {
            return;
        }
        self.next_cron = now + CRON_PERIOD_MS;
        self.cron_runs += 1;
        let nt = self.cfg.node_timeout_ms;
        let handshake_timeout = nt.max(1000);

        self.banned.retain(|_, until| now < *until);

        // Handshakes: expire, else retry (the MEET/PING or its PONG may be
        // lost; a duplicate is harmless).
        let handshakes: Vec<(NodeId, u64)> = self
            .nodes
            .values()
            .filter(|n| n.in_handshake())
            .map(|n| (n.id, n.ctime))
            .collect();
        for (id, ctime) in handshakes {
            if now.saturating_sub(ctime) > handshake_timeout {
                self.del_node(&id);
            } else {
                self.send_ping_to(now, id);
            }
        }

        if self.cron_runs.is_multiple_of(RANDOM_PING_EVERY) {
            let candidates: Vec<NodeId> = self
                .nodes
                .values()
                .filter(|n| {
                    !n.flags
                        .intersects(NodeFlags::MYSELF | NodeFlags::HANDSHAKE | NodeFlags::NOADDR)
                        && n.ping_sent == 0
                        && n.addr.ip.is_some()
                })
                .map(|n| n.id)
                .collect();
            if !candidates.is_empty() {
                let mut best: Option<(u64, NodeId)> = None;
                for _ in 0..RANDOM_PING_CANDIDATES {
                    let id = candidates[self.rng.below(candidates.len() as u64) as usize];
                    let pong = self.nodes[&id].pong_received;
                    if best.is_none_or(|(p, _)| pong < p) {
                        best = Some((pong, id));
                    }
                }
                if let Some((_, id)) = best {
                    self.send_ping_to(now, id);
                }
            }
        }

        let ids: Vec<NodeId> = self
            .nodes
            .values()
            .filter(|n| {
                !n.flags
                    .intersects(NodeFlags::MYSELF | NodeFlags::HANDSHAKE | NodeFlags::NOADDR)
            })
            .map(|n| n.id)
            .collect();
        for id in ids {
            let n = &self.nodes[&id];
            let (ping_sent, data_received, link_reset, pong_received) =
                (n.ping_sent, n.data_received, n.link_reset, n.pong_received);
            if ping_sent != 0
                && now.saturating_sub(ping_sent) > nt / 2
                && now.saturating_sub(link_reset) > nt / 2
            {
                // Half the timeout without an answer: PING again, keeping the
                // original ping_sent (Redis re-pings when it reconnects the
                // link). If nothing at all came from the node meanwhile the
                // connection may be stuck: reset it too. The retry does not
                // wait for silence: after a partition heals the peer's own
                // PINGs arrive while ours still waits for its PONG, and only
                // a PONG clears PFAIL.
                if now.saturating_sub(data_received) > nt / 2 {
                    if let Some(to) = n.addr.bus() {
                        self.out.push_back(Output::ResetLink { node: id, to });
                    }
                    self.nodes
                        .get_mut(&id)
                        .unwrap_or_else(|| unreachable!())
                        .link = LinkState::Disconnected;
                }
                self.nodes
                    .get_mut(&id)
                    .unwrap_or_else(|| unreachable!())
                    .link_reset = now;
                self.send_ping_to(now, id);
            } else if ping_sent == 0 && now.saturating_sub(pong_received) > nt / 2 {
                self.send_ping_to(now, id);
            }
            let n = &self.nodes[&id];
            if n.ping_sent != 0 {
                let delay = now
                    .saturating_sub(n.ping_sent)
                    .min(now.saturating_sub(n.data_received));
                if delay > nt && !n.flags.intersects(NodeFlags::PFAIL | NodeFlags::FAIL) {
                    let n = self.nodes.get_mut(&id).unwrap_or_else(|| unreachable!());
                    n.flags.insert(NodeFlags::PFAIL);
                    self.event(Event::NodePFail(id));
                    // Reports may already be in (Redis only checks when the
                    // next one arrives).
                    self.mark_failing_if_needed(now, &id);
                }
            }
        }
        self.finish(now);
    }

    /// Recomputes `cluster_state` (Redis's clusterUpdateState).
    fn update_state(&mut self, now: u64) {
        let me_master = self.myself().is_master();
        if me_master
            && self.health == ClusterHealth::Fail
            && now.saturating_sub(self.start_time) < self.cfg.writable_delay_ms
        {
            return;
        }
        let mut ok = true;
        let mut assigned = 0usize;
        let (mut size, mut reachable) = (0usize, 0usize);
        for n in self.nodes.values() {
            if !n.is_master() || n.slots.is_empty() {
                continue;
            }
            let count = n.slots.count();
            assigned += count;
            if n.is_failed() && self.cfg.require_full_coverage {
                ok = false;
            }
            size += 1;
            if !n.flags.intersects(NodeFlags::PFAIL | NodeFlags::FAIL) {
                reachable += 1;
            }
        }
        if self.cfg.require_full_coverage && assigned < SLOT_COUNT as usize {
            ok = false;
        }
        if reachable < size / 2 + 1 {
            ok = false;
            self.among_minority_since = Some(now);
        }
        let new = if ok {
            ClusterHealth::Ok
        } else {
            ClusterHealth::Fail
        };
        if new != self.health {
            let rejoin_delay = self.cfg.node_timeout_ms.clamp(500, 5000);
            if new == ClusterHealth::Ok
                && me_master
                && self
                    .among_minority_since
                    .is_some_and(|t| now.saturating_sub(t) < rejoin_delay)
            {
                return;
            }
            self.health = new;
            self.event(Event::HealthChanged(new));
        }
    }

    // ------------------------------------------------------------------
    // Commands
    // ------------------------------------------------------------------

    /// `CLUSTER MEET ip port [cluster-bus-port]`: starts a handshake with the
    /// node at that address (its bus port defaults to `port + 10000`).
    pub fn meet(
        &mut self,
        now: u64,
        ip: IpAddr,
        port: u16,
        bus_port: Option<u16>,
    ) -> Result<(), ClusterError> {
        let now = now.max(1);
        let bus = match bus_port {
            Some(b) => b,
            None => port
                .checked_add(10000)
                .ok_or_else(|| ClusterError::InvalidAddress(ip.to_string(), port))?,
        };
        if port == 0 || bus == 0 {
            return Err(ClusterError::InvalidAddress(ip.to_string(), port));
        }
        self.start_handshake(now, ip, port, bus, true);
        self.finish(now);
        Ok(())
    }

    fn change_slots(
        &mut self,
        now: u64,
        ranges: &[(Slot, Slot)],
        add: bool,
    ) -> Result<(), ClusterError> {
        let mut seen = SlotSet::new();
        for &(start, end) in ranges {
            if start >= SLOT_COUNT || end >= SLOT_COUNT {
                return Err(ClusterError::InvalidSlot);
            }
            if start > end {
                return Err(ClusterError::BadSlotRange(start, end));
            }
            for s in start..=end {
                match (add, self.owner[s as usize].is_some()) {
                    (true, true) => return Err(ClusterError::SlotBusy(s)),
                    (false, false) => return Err(ClusterError::SlotUnassigned(s)),
                    _ => {}
                }
                if !seen.insert(s) {
                    return Err(ClusterError::SlotRepeated(s));
                }
            }
        }
        if add {
            self.assign_slots(&seen, self.myself);
        } else {
            self.unassign_slots(&seen);
        }
        self.config_dirty = true;
        self.finish(now.max(1));
        Ok(())
    }

    /// `CLUSTER ADDSLOTS slot...`: all or nothing.
    pub fn add_slots(&mut self, now: u64, slots: &[Slot]) -> Result<(), ClusterError> {
        let ranges: Vec<(Slot, Slot)> = slots.iter().map(|&s| (s, s)).collect();
        self.change_slots(now, &ranges, true)
    }

    /// `CLUSTER ADDSLOTSRANGE start end [start end ...]` (inclusive).
    pub fn add_slot_ranges(
        &mut self,
        now: u64,
        ranges: &[(Slot, Slot)],
    ) -> Result<(), ClusterError> {
        self.change_slots(now, ranges, true)
    }

    /// `CLUSTER DELSLOTS slot...`: forgets who serves them (whoever it is).
    pub fn del_slots(&mut self, now: u64, slots: &[Slot]) -> Result<(), ClusterError> {
        let ranges: Vec<(Slot, Slot)> = slots.iter().map(|&s| (s, s)).collect();
        self.change_slots(now, &ranges, false)
    }

    /// `CLUSTER DELSLOTSRANGE start end [start end ...]`.
    pub fn del_slot_ranges(
        &mut self,
        now: u64,
        ranges: &[(Slot, Slot)],
    ) -> Result<(), ClusterError> {
        self.change_slots(now, ranges, false)
    }

    /// `CLUSTER FLUSHSLOTS`: this node serves no slot any more (the server
    /// checks first that the keyspace is empty).
    pub fn flush_slots(&mut self, now: u64) {
        let me = self.myself;
        self.unassign_all_of(&me);
        self.config_dirty = true;
        self.finish(now.max(1));
    }

    /// `CLUSTER FORGET node-id`: removes the node and ignores gossip about it
    /// for `forget_ban_ms`.
    pub fn forget(&mut self, now: u64, id: &NodeId) -> Result<(), ClusterError> {
        let now = now.max(1);
        if *id == self.myself {
            return Err(ClusterError::CantForgetMyself);
        }
        if !self.nodes.contains_key(id) {
            return Err(ClusterError::unknown(id));
        }
        if self.myself().is_replica() && self.myself().master == Some(*id) {
            return Err(ClusterError::CantForgetMyMaster);
        }
        self.banned.insert(*id, now + self.cfg.forget_ban_ms);
        self.del_node(id);
        self.finish(now);
        Ok(())
    }

    /// `CLUSTER RESET [HARD|SOFT]`: forget every other node and every slot;
    /// a replica becomes a master; HARD also takes a new id and zeroes the
    /// epochs. (The server checks that a master's keyspace is empty.)
    pub fn reset(&mut self, now: u64, hard: bool) {
        let now = now.max(1);
        if self.myself().is_replica() {
            let me = self.me_mut();
            me.flags.remove(NodeFlags::REPLICA);
            me.flags.insert(NodeFlags::MASTER);
            me.master = None;
            self.event(Event::RoleChanged(None));
        }
        self.unassign_slots(&SlotSet::full());
        let others: Vec<NodeId> = self
            .nodes
            .keys()
            .copied()
            .filter(|id| *id != self.myself)
            .collect();
        for id in others {
            self.del_node(&id);
        }
        if hard {
            self.current_epoch = 0;
            self.last_vote_epoch = 0;
            self.me_mut().config_epoch = 0;
            let new = NodeId::random(&mut self.rng);
            let old = self.myself;
            self.rename_node(&old, new);
            self.myself = new;
        }
        self.config_dirty = true;
        self.finish(now);
    }

    /// `CLUSTER SET-CONFIG-EPOCH epoch`: only on a node that knows no other
    /// node and has configEpoch 0.
    pub fn set_config_epoch(&mut self, now: u64, epoch: u64) -> Result<(), ClusterError> {
        if self.nodes.len() > 1 {
            return Err(ClusterError::ConfigEpochOthersKnown);
        }
        if self.myself().config_epoch != 0 {
            return Err(ClusterError::ConfigEpochNonZero);
        }
        self.me_mut().config_epoch = epoch;
        if self.current_epoch < epoch {
            self.current_epoch = epoch;
        }
        self.config_dirty = true;
        self.finish(now.max(1));
        Ok(())
    }

    /// `CLUSTER BUMPEPOCH`: a new configEpoch without agreement, unless this
    /// node's is already the highest known (and non-zero).
    pub fn bump_epoch(&mut self, now: u64) -> BumpEpoch {
        let max = self
            .nodes
            .values()
            .map(|n| n.config_epoch)
            .max()
            .unwrap_or(0)
            .max(self.current_epoch);
        let mine = self.myself().config_epoch;
        let result = if mine == 0 || mine != max {
            self.current_epoch += 1;
            let e = self.current_epoch;
            self.me_mut().config_epoch = e;
            self.config_dirty = true;
            BumpEpoch::Bumped(e)
        } else {
            BumpEpoch::Still(mine)
        };
        self.finish(now.max(1));
        result
    }

    /// `CLUSTER REPLICATE node-id`: become a replica of that master. (The
    /// server also refuses a master whose keyspace is not empty.)
    pub fn replicate(&mut self, now: u64, id: &NodeId) -> Result<(), ClusterError> {
        let n = self
            .nodes
            .get(id)
            .filter(|n| !n.in_handshake())
            .ok_or_else(|| ClusterError::unknown(id))?;
        if *id == self.myself {
            return Err(ClusterError::CantReplicateMyself);
        }
        if n.is_replica() {
            return Err(ClusterError::ReplicateAReplica);
        }
        if self.myself().is_master() && !self.myself().slots.is_empty() {
            return Err(ClusterError::MasterNotEmpty);
        }
        if self.myself().master != Some(*id) || self.myself().is_master() {
            self.set_my_master(*id);
        }
        self.finish(now.max(1));
        Ok(())
    }

    /// `PUBLISH` (or `SPUBLISH` when `sharded`) to the other nodes: every
    /// node, or only this node's shard (its master and replicas).
    pub fn publish(&mut self, now: u64, channel: Bytes, message: Bytes, sharded: bool) {
        let body = Body::Publish {
            channel,
            message,
            sharded,
        };
        if sharded {
            let me = self.myself();
            let shard_master = if me.is_replica() {
                me.master
            } else {
                Some(self.myself)
            };
            let in_shard = move |n: &Node| {
                Some(n.id) == shard_master || (n.is_replica() && n.master == shard_master)
            };
            self.broadcast(body, Some(&in_shard));
        } else {
            self.broadcast(body, None);
        }
        self.finish(now.max(1));
    }
}
