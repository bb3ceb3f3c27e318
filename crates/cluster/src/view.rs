//! Read-only views for the CLUSTER commands: NODES, SLOTS, SHARDS, INFO.
//!
//! The text views (`CLUSTER NODES`, `CLUSTER INFO`) are rendered here
//! byte-for-byte as Redis 7.0 renders them; the array views (`SLOTS`,
//! `SHARDS`) are returned as data for the server to encode in RESP2 or RESP3.

use crate::cluster::{Cluster, ClusterHealth};
use crate::node::{LinkState, Node};
use crate::wire::MessageType;
use crate::NodeId;
use slots::{Slot, SLOT_COUNT};
use std::fmt::Write;
use std::net::IpAddr;

/// How a client reaches a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Node id.
    pub id: NodeId,
    /// IP (`None` while unknown; Redis prints `?` or an empty string).
    pub ip: Option<IpAddr>,
    /// Client port.
    pub port: u16,
    /// Announced hostname.
    pub hostname: Option<String>,
}

impl Endpoint {
    fn of(n: &Node) -> Endpoint {
        Endpoint {
            id: n.id,
            ip: n.addr.ip,
            port: n.addr.port,
            hostname: n.addr.hostname.clone(),
        }
    }
}

/// One entry of `CLUSTER SLOTS`: a maximal range served by one master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotRange {
    /// First slot.
    pub start: Slot,
    /// Last slot (inclusive).
    pub end: Slot,
    /// The master.
    pub master: Endpoint,
    /// Its replicas not flagged FAIL.
    pub replicas: Vec<Endpoint>,
}

/// Role in `CLUSTER SHARDS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `master`.
    Master,
    /// `replica`.
    Replica,
}

/// Health in `CLUSTER SHARDS` (`loading` is the server's to report).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeHealth {
    /// `online`.
    Online,
    /// `failed`.
    Failed,
}

/// A node of a `CLUSTER SHARDS` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardNode {
    /// Where to reach it.
    pub endpoint: Endpoint,
    /// master or replica.
    pub role: Role,
    /// Last replication offset known.
    pub repl_offset: u64,
    /// online or failed.
    pub health: NodeHealth,
}

/// One entry of `CLUSTER SHARDS`: a master, its replicas and its slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Slot ranges (inclusive).
    pub slots: Vec<(Slot, Slot)>,
    /// The master first, then its replicas.
    pub nodes: Vec<ShardNode>,
}

/// The fields of `CLUSTER INFO`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterInfo {
    /// `cluster_state`.
    pub state: ClusterHealth,
    /// `cluster_slots_assigned`.
    pub slots_assigned: usize,
    /// `cluster_slots_ok`.
    pub slots_ok: usize,
    /// `cluster_slots_pfail`.
    pub slots_pfail: usize,
    /// `cluster_slots_fail`.
    pub slots_fail: usize,
    /// `cluster_known_nodes`.
    pub known_nodes: usize,
    /// `cluster_size`.
    pub size: usize,
    /// `cluster_current_epoch`.
    pub current_epoch: u64,
    /// `cluster_my_epoch`.
    pub my_epoch: u64,
    /// `cluster_stats_messages_<type>_sent` (non-zero ones) and the total.
    pub sent: Vec<(&'static str, u64)>,
    /// `cluster_stats_messages_<type>_received` (non-zero ones) and the total.
    pub received: Vec<(&'static str, u64)>,
    /// Frames that failed to decode (bad checksum, malformed, unknown
    /// version): redcore's addition, printed when non-zero.
    pub dropped: u64,
}

impl ClusterInfo {
    /// The `CLUSTER INFO` text (CRLF line ends, as Redis).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let state = match self.state {
            ClusterHealth::Ok => "ok",
            ClusterHealth::Fail => "fail",
        };
        let _ = write!(
            s,
            "cluster_state:{state}\r\ncluster_slots_assigned:{}\r\ncluster_slots_ok:{}\r\ncluster_slots_pfail:{}\r\n\
             cluster_slots_fail:{}\r\ncluster_known_nodes:{}\r\ncluster_size:{}\r\ncluster_current_epoch:{}\r\n\
             cluster_my_epoch:{}\r\n",
            self.slots_assigned,
            self.slots_ok,
            self.slots_pfail,
            self.slots_fail,
            self.known_nodes,
            self.size,
            self.current_epoch,
            self.my_epoch
        );
        let mut total = 0;
        for (name, n) in &self.sent {
            let _ = write!(s, "cluster_stats_messages_{name}_sent:{n}\r\n");
            total += n;
        }
        let _ = write!(s, "cluster_stats_messages_sent:{total}\r\n");
        let mut total = 0;
        for (name, n) in &self.received {
            let _ = write!(s, "cluster_stats_messages_{name}_received:{n}\r\n");
            total += n;
        }
        let _ = write!(s, "cluster_stats_messages_received:{total}\r\n");
        s.push_str("total_cluster_links_buffer_limit_exceeded:0\r\n");
        if self.dropped > 0 {
            let _ = write!(s, "cluster_stats_messages_dropped:{}\r\n", self.dropped);
        }
        s
    }
}

fn ip_text(ip: Option<IpAddr>) -> String {
    ip.map(|ip| ip.to_string()).unwrap_or_default()
}

impl Cluster {
    /// The configEpoch shown for a node: its master's for a replica.
    pub fn node_epoch(&self, n: &Node) -> u64 {
        if n.is_replica() {
            if let Some(m) = n.master.and_then(|m| self.nodes.get(&m)) {
                return m.config_epoch;
            }
        }
        n.config_epoch
    }

    /// One `CLUSTER NODES` line (no line end):
    /// `<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...`
    pub fn node_line(&self, n: &Node) -> String {
        let mut s = String::with_capacity(128);
        let _ = write!(
            s,
            "{} {}:{}@{}",
            n.id,
            ip_text(n.addr.ip),
            n.addr.port,
            n.addr.bus_port
        );
        if let Some(h) = &n.addr.hostname {
            let _ = write!(s, ",{h}");
        }
        let master = match (n.is_replica(), n.master) {
            (true, Some(m)) => m.to_string(),
            _ => "-".to_string(),
        };
        let link = if n.is_myself() || n.link == LinkState::Connected {
            "connected"
        } else {
            "disconnected"
        };
        let _ = write!(
            s,
            " {} {} {} {} {} {}",
            n.flags.redis_names(),
            master,
            n.ping_sent,
            n.pong_received,
            self.node_epoch(n),
            link
        );
        for (start, end) in n.slots.ranges() {
            if start == end {
                let _ = write!(s, " {start}");
            } else {
                let _ = write!(s, " {start}-{end}");
            }
        }
        s
    }

    /// The `CLUSTER NODES` text: one line per node, each ending in `\n`.
    pub fn nodes_text(&self) -> String {
        let mut s = String::new();
        for n in self.nodes.values() {
            s.push_str(&self.node_line(n));
            s.push('\n');
        }
        s
    }

    /// `CLUSTER SLOTS`, in slot order.
    pub fn slot_ranges(&self) -> Vec<SlotRange> {
        let mut out: Vec<SlotRange> = Vec::new();
        let mut s = 0usize;
        while s < SLOT_COUNT as usize {
            let Some(id) = self.owner[s] else {
                s += 1;
                continue;
            };
            let start = s;
            while s + 1 < SLOT_COUNT as usize && self.owner[s + 1] == Some(id) {
                s += 1;
            }
            if let Some(n) = self.nodes.get(&id) {
                let replicas = self
                    .replicas_of(&id)
                    .into_iter()
                    .filter(|r| !r.is_failed())
                    .map(Endpoint::of)
                    .collect();
                out.push(SlotRange {
                    start: start as Slot,
                    end: s as Slot,
                    master: Endpoint::of(n),
                    replicas,
                });
            }
            s += 1;
        }
        out
    }

    /// `CLUSTER SHARDS`: one entry per master (with or without slots).
    pub fn shards(&self) -> Vec<Shard> {
        let node = |n: &Node, role| ShardNode {
            endpoint: Endpoint::of(n),
            role,
            repl_offset: n.repl_offset,
            health: if n.is_failed() {
                NodeHealth::Failed
            } else {
                NodeHealth::Online
            },
        };
        self.nodes
            .values()
            .filter(|n| n.is_master() && !n.in_handshake())
            .map(|m| {
                let mut nodes = vec![node(m, Role::Master)];
                nodes.extend(
                    self.replicas_of(&m.id)
                        .into_iter()
                        .map(|r| node(r, Role::Replica)),
                );
                Shard {
                    slots: m.slots.ranges(),
                    nodes,
                }
            })
            .collect()
    }

    /// `CLUSTER INFO` data.
    pub fn info(&self) -> ClusterInfo {
        let (mut assigned, mut ok, mut pfail, mut fail) = (0, 0, 0, 0);
        for n in self.nodes.values() {
            let c = n.slots.count();
            assigned += c;
            if n.is_failed() {
                fail += c;
            } else if n.is_pfail() {
                pfail += c;
            } else {
                ok += c;
            }
        }
        let counters = |v: &[u64]| -> Vec<(&'static str, u64)> {
            MessageType::ALL
                .iter()
                .zip(v)
                .filter(|(_, n)| **n > 0)
                .map(|(t, n)| (t.stats_name(), *n))
                .collect()
        };
        ClusterInfo {
            state: self.health,
            slots_assigned: assigned,
            slots_ok: ok,
            slots_pfail: pfail,
            slots_fail: fail,
            known_nodes: self.nodes.len(),
            size: self.size(),
            current_epoch: self.current_epoch,
            my_epoch: self.node_epoch(self.myself()),
            sent: counters(&self.stats.sent),
            received: counters(&self.stats.received),
            dropped: self.stats.total_dropped(),
        }
    }
}
