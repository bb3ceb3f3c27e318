//! One entry of the node table: what this node knows about a peer (or itself).

use crate::{NodeId, SlotSet};
use std::fmt;
use std::net::IpAddr;

/// Node flags, with Redis's bit values (`CLUSTER_NODE_*`), which is also how
/// they travel on the bus.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NodeFlags(pub u16);

impl NodeFlags {
    /// The node is this node.
    pub const MYSELF: NodeFlags = NodeFlags(1);
    /// The node is a master.
    pub const MASTER: NodeFlags = NodeFlags(2);
    /// The node is a replica.
    pub const REPLICA: NodeFlags = NodeFlags(4);
    /// Possibly failing: this node got no PONG within `node_timeout` (`fail?`).
    pub const PFAIL: NodeFlags = NodeFlags(8);
    /// Failing: a majority of masters agreed on PFAIL.
    pub const FAIL: NodeFlags = NodeFlags(16);
    /// First contact: the id is a placeholder until the node's PONG names it.
    pub const HANDSHAKE: NodeFlags = NodeFlags(32);
    /// The node's address is unknown.
    pub const NOADDR: NodeFlags = NodeFlags(64);
    /// Handshake started by MEET (or gossip): send MEET rather than PING.
    pub const MEET: NodeFlags = NodeFlags(128);
    /// Reserved (replica migration target), as in Redis.
    pub const MIGRATE_TO: NodeFlags = NodeFlags(256);
    /// A replica that never fails over (`cluster-replica-no-failover`).
    pub const NOFAILOVER: NodeFlags = NodeFlags(512);

    /// The empty set of flags.
    pub const fn empty() -> NodeFlags {
        NodeFlags(0)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: NodeFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub const fn intersects(self, other: NodeFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: NodeFlags) {
        self.0 |= other.0;
    }

    /// Clears the flags of `other`.
    pub fn remove(&mut self, other: NodeFlags) {
        self.0 &= !other.0;
    }

    /// The flags field of a `CLUSTER NODES` line: Redis's names in Redis's
    /// order (`myself,master`, `slave,fail?`, ... or `noflags`).
    pub fn redis_names(self) -> String {
        const NAMES: [(NodeFlags, &str); 8] = [
            (NodeFlags::MYSELF, "myself"),
            (NodeFlags::MASTER, "master"),
            (NodeFlags::REPLICA, "slave"),
            (NodeFlags::PFAIL, "fail?"),
            (NodeFlags::FAIL, "fail"),
            (NodeFlags::HANDSHAKE, "handshake"),
            (NodeFlags::NOADDR, "noaddr"),
            (NodeFlags::NOFAILOVER, "nofailover"),
        ];
        let names: Vec<&str> = NAMES
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect();
        if names.is_empty() {
            "noflags".to_string()
        } else {
            names.join(",")
        }
    }

    /// Parses the flags field of a `nodes.conf` line (unknown names are
    /// ignored, as Redis does with `noflags`).
    pub fn from_redis_names(text: &str) -> NodeFlags {
        let mut flags = NodeFlags::empty();
        for name in text.split(',') {
            flags.insert(match name {
                "myself" => NodeFlags::MYSELF,
                "master" => NodeFlags::MASTER,
                "slave" => NodeFlags::REPLICA,
                "fail?" => NodeFlags::PFAIL,
                "fail" => NodeFlags::FAIL,
                "handshake" => NodeFlags::HANDSHAKE,
                "noaddr" => NodeFlags::NOADDR,
                "nofailover" => NodeFlags::NOFAILOVER,
                _ => NodeFlags::empty(),
            });
        }
        flags
    }
}

impl std::ops::BitOr for NodeFlags {
    type Output = NodeFlags;
    fn bitor(self, rhs: NodeFlags) -> NodeFlags {
        NodeFlags(self.0 | rhs.0)
    }
}

impl fmt::Debug for NodeFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = self.redis_names();
        if self.contains(NodeFlags::MEET) {
            names.push_str(",meet");
        }
        write!(f, "NodeFlags({names})")
    }
}

/// Where a node listens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct NodeAddr {
    /// The IP; `None` while unknown (a node that was never told its own
    /// address and got no MEET yet, or a `noaddr` node).
    pub ip: Option<IpAddr>,
    /// The client port.
    pub port: u16,
    /// The cluster bus port (by convention `port + 10000`).
    pub bus_port: u16,
    /// The announced hostname, if any (`cluster-announce-hostname`).
    pub hostname: Option<String>,
}

impl NodeAddr {
    /// The bus endpoint, when the IP is known.
    pub fn bus(&self) -> Option<BusAddr> {
        self.ip.map(|ip| BusAddr {
            ip,
            port: self.bus_port,
        })
    }
}

/// A cluster bus endpoint: where to send a node's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BusAddr {
    /// IP address.
    pub ip: IpAddr,
    /// Bus port.
    pub port: u16,
}

impl fmt::Display for BusAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(ip) => write!(f, "{ip}:{}", self.port),
            IpAddr::V6(ip) => write!(f, "[{ip}]:{}", self.port),
        }
    }
}

/// State of the link to a node, as `CLUSTER NODES` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LinkState {
    /// The last exchange worked: data came back since the last link reset.
    Connected,
    /// No data since the link was (re)started, or the transport reported it down.
    #[default]
    Disconnected,
}

/// A failure report: `reporter` (a master) said, at `time`, that the node is
/// PFAIL or FAIL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailReport {
    /// The master that reported.
    pub reporter: NodeId,
    /// When the report was last refreshed (local clock, ms).
    pub time: u64,
}

/// What this node knows about one node of the cluster (itself included).
#[derive(Clone, Debug)]
pub struct Node {
    /// The node's id (a placeholder while in handshake).
    pub id: NodeId,
    /// Role and health flags.
    pub flags: NodeFlags,
    /// Where it listens.
    pub addr: NodeAddr,
    /// Its master, for a replica (may be unknown even for a replica).
    pub master: Option<NodeId>,
    /// The epoch of its slot claims.
    pub config_epoch: u64,
    /// The slots it serves (empty for replicas).
    pub slots: SlotSet,
    /// When the pending PING was sent (local ms), 0 when none is pending.
    pub ping_sent: u64,
    /// When its last PONG arrived (local ms).
    pub pong_received: u64,
    /// When any valid message from it last arrived (local ms).
    pub data_received: u64,
    /// When it was flagged FAIL (local ms).
    pub fail_time: u64,
    /// When this entry was created (local ms); handshake expiry counts from here.
    pub ctime: u64,
    /// Link state for `CLUSTER NODES`.
    pub link: LinkState,
    /// Replication offset it last advertised.
    pub repl_offset: u64,
    /// Last time the link was reset because a PING went unanswered.
    pub(crate) link_reset: u64,
    /// Failure reports from masters about this node.
    pub(crate) fail_reports: Vec<FailReport>,
}

impl Node {
    pub(crate) fn new(id: NodeId, flags: NodeFlags, addr: NodeAddr, now: u64) -> Node {
        Node {
            id,
            flags,
            addr,
            master: None,
            config_epoch: 0,
            slots: SlotSet::new(),
            ping_sent: 0,
            pong_received: 0,
            data_received: 0,
            fail_time: 0,
            ctime: now,
            link: LinkState::Disconnected,
            repl_offset: 0,
            link_reset: 0,
            fail_reports: Vec::new(),
        }
    }

    /// Whether this is the local node.
    pub fn is_myself(&self) -> bool {
        self.flags.contains(NodeFlags::MYSELF)
    }

    /// Whether it is a master.
    pub fn is_master(&self) -> bool {
        self.flags.contains(NodeFlags::MASTER)
    }

    /// Whether it is a replica.
    pub fn is_replica(&self) -> bool {
        self.flags.contains(NodeFlags::REPLICA)
    }

    /// Whether it is flagged PFAIL.
    pub fn is_pfail(&self) -> bool {
        self.flags.contains(NodeFlags::PFAIL)
    }

    /// Whether it is flagged FAIL.
    pub fn is_failed(&self) -> bool {
        self.flags.contains(NodeFlags::FAIL)
    }

    /// Whether the handshake is still in progress (the id is a placeholder).
    pub fn in_handshake(&self) -> bool {
        self.flags.contains(NodeFlags::HANDSHAKE)
    }

    /// The failure reports about this node (possibly including stale ones
    /// not yet cleaned).
    pub fn fail_reports(&self) -> &[FailReport] {
        &self.fail_reports
    }
}
