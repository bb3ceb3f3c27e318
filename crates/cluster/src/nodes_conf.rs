//! `nodes.conf`: the cluster state a node saves so that its id, epochs and
//! view of the cluster survive a restart.
//!
//! The format is Redis's: one `CLUSTER NODES` line per node (handshakes
//! excluded), then `vars currentEpoch <n> lastVoteEpoch <n>`. A file written
//! by Redis 7 loads here (the `,hostname` suffix and Redis 7.2's
//! `,key=value` auxiliary fields are read or skipped; migrating/importing
//! entries `[slot->-id]` are skipped until slot migration lands).

use crate::cluster::{Cluster, ClusterConfig};
use crate::node::{LinkState, Node, NodeAddr, NodeFlags};
use crate::{NodeId, Rng, SlotSet};
use slots::{Slot, SLOT_COUNT};
use std::net::IpAddr;

/// Why a `nodes.conf` could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("nodes.conf line {line}: {reason}")]
pub struct NodesConfError {
    /// 1-based line number (0 for whole-file problems).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

fn err(line: usize, reason: impl Into<String>) -> NodesConfError {
    NodesConfError {
        line,
        reason: reason.into(),
    }
}

/// Parses `ip:port@cport[,hostname][,key=value...]` (the `@cport` part is
/// optional in old files: then it is `port + 10000`).
pub fn parse_node_addr(text: &str) -> Option<NodeAddr> {
    let mut parts = text.split(',');
    let addr = parts.next()?;
    let mut hostname = None;
    for (i, aux) in parts.enumerate() {
        match aux.split_once('=') {
            Some(("hostname", h)) if !h.is_empty() => hostname = Some(h.to_string()),
            Some(_) => {}
            None if i == 0 && !aux.is_empty() => hostname = Some(aux.to_string()),
            None => {}
        }
    }
    let colon = addr.rfind(':')?;
    let ip_text = &addr[..colon];
    let ports = &addr[colon + 1..];
    let (port, bus_port) = match ports.split_once('@') {
        Some((p, b)) => (p.parse::<u16>().ok()?, b.parse::<u16>().ok()?),
        None => {
            let p = ports.parse::<u16>().ok()?;
            (p, p.checked_add(10000)?)
        }
    };
    let ip = if ip_text.is_empty() {
        None
    } else {
        let trimmed = ip_text.trim_start_matches('[').trim_end_matches(']');
        Some(trimmed.parse::<IpAddr>().ok()?)
    };
    Some(NodeAddr {
        ip,
        port,
        bus_port,
        hostname,
    })
}

impl Cluster {
    /// The `nodes.conf` content for the current state.
    pub fn to_nodes_conf(&self) -> String {
        let mut s = String::new();
        for n in self.nodes.values().filter(|n| !n.in_handshake()) {
            s.push_str(&self.node_line(n));
            s.push('\n');
        }
        s.push_str(&format!(
            "vars currentEpoch {} lastVoteEpoch {}\n",
            self.current_epoch, self.last_vote_epoch
        ));
        s
    }

    /// Restores a node from its `nodes.conf`. `now` stands in for every
    /// non-zero ping/pong time in the file (as Redis does); the local
    /// address comes from `cfg` (the IP from the file unless `announce_ip`
    /// is set).
    pub fn from_nodes_conf(
        cfg: ClusterConfig,
        seed: u64,
        now: u64,
        text: &str,
    ) -> Result<Cluster, NodesConfError> {
        let now = now.max(1);
        let mut c = Cluster::bare(cfg, Rng::new(seed), now);
        let mut myself: Option<NodeId> = None;
        for (i, line) in text.lines().enumerate() {
            let lineno = i + 1;
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.is_empty() {
                continue;
            }
            if fields[0] == "vars" {
                let mut rest = fields[1..].iter();
                while let (Some(k), Some(v)) = (rest.next(), rest.next()) {
                    let v: u64 = v
                        .parse()
                        .map_err(|_| err(lineno, format!("bad value for {k}")))?;
                    match *k {
                        "currentEpoch" => c.current_epoch = v,
                        "lastVoteEpoch" => c.last_vote_epoch = v,
                        _ => {}
                    }
                }
                continue;
            }
            if fields.len() < 8 {
                return Err(err(lineno, "fewer than 8 fields"));
            }
            let id =
                NodeId::parse(fields[0].as_bytes()).ok_or_else(|| err(lineno, "bad node id"))?;
            if c.nodes.contains_key(&id) {
                return Err(err(lineno, "duplicate node id"));
            }
            let addr = parse_node_addr(fields[1]).ok_or_else(|| err(lineno, "bad address"))?;
            let mut flags = NodeFlags::from_redis_names(fields[2]);
            // Never restored: a handshake is transient, MEET is internal.
            flags.remove(NodeFlags::HANDSHAKE | NodeFlags::MEET);
            let master = match fields[3] {
                "-" => None,
                m => Some(NodeId::parse(m.as_bytes()).ok_or_else(|| err(lineno, "bad master id"))?),
            };
            let time = |f: &str| -> Result<u64, NodesConfError> {
                let v: i64 = f.parse().map_err(|_| err(lineno, "bad ping/pong time"))?;
                Ok(if v != 0 { now } else { 0 })
            };
            let ping_sent = time(fields[4])?;
            let pong_received = time(fields[5])?;
            let config_epoch: u64 = fields[6]
                .parse()
                .map_err(|_| err(lineno, "bad config epoch"))?;
            let mut node = Node::new(id, flags, addr, now);
            node.master = master;
            node.config_epoch = config_epoch;
            node.ping_sent = ping_sent;
            node.pong_received = pong_received;
            if flags.contains(NodeFlags::MYSELF) {
                if myself.is_some() {
                    return Err(err(lineno, "two lines flagged myself"));
                }
                myself = Some(id);
                node.link = LinkState::Connected;
                node.ping_sent = 0;
                node.pong_received = 0;
                node.addr.port = c.cfg.port;
                node.addr.bus_port = c.cfg.bus_port;
                node.addr.hostname = c.cfg.hostname.clone();
                if c.cfg.announce_ip.is_some() {
                    node.addr.ip = c.cfg.announce_ip;
                }
                if c.cfg.replica_no_failover {
                    node.flags.insert(NodeFlags::NOFAILOVER);
                } else {
                    node.flags.remove(NodeFlags::NOFAILOVER);
                }
            }
            c.nodes.insert(id, node);
            for tok in &fields[8..] {
                if tok.starts_with('[') {
                    continue;
                }
                let (start, end) = match tok.split_once('-') {
                    Some((a, b)) => (parse_slot(a), parse_slot(b)),
                    None => (parse_slot(tok), parse_slot(tok)),
                };
                let (Some(start), Some(end)) = (start, end) else {
                    return Err(err(lineno, format!("bad slot {tok}")));
                };
                if start > end {
                    return Err(err(lineno, format!("bad slot range {tok}")));
                }
                c.assign_slots(&SlotSet::from_range(start, end), id);
            }
        }
        let me = myself.ok_or_else(|| err(0, "no line flagged myself"))?;
        c.myself = me;
        if c.current_epoch < c.myself().config_epoch {
            c.current_epoch = c.myself().config_epoch;
        }
        Ok(c)
    }
}

fn parse_slot(s: &str) -> Option<Slot> {
    s.parse::<Slot>().ok().filter(|&v| v < SLOT_COUNT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let a = parse_node_addr("127.0.0.1:7000@17000").unwrap();
        assert_eq!(
            (a.ip, a.port, a.bus_port, a.hostname),
            (Some("127.0.0.1".parse().unwrap()), 7000, 17000, None)
        );
        let a = parse_node_addr("127.0.0.1:7000@17000,host-a").unwrap();
        assert_eq!(a.hostname.as_deref(), Some("host-a"));
        let a = parse_node_addr("::1:7000@17000,,shard-id=abc").unwrap();
        assert_eq!(
            (a.ip, a.port, a.hostname),
            (Some("::1".parse().unwrap()), 7000, None)
        );
        let a = parse_node_addr("10.1.2.3:7000@17000,hostname=h,shard-id=x").unwrap();
        assert_eq!(a.hostname.as_deref(), Some("h"));
        let a = parse_node_addr(":7000@17000").unwrap();
        assert_eq!((a.ip, a.bus_port), (None, 17000));
        let a = parse_node_addr("127.0.0.1:7000").unwrap();
        assert_eq!(a.bus_port, 17000);
        assert!(parse_node_addr("127.0.0.1").is_none());
        assert!(parse_node_addr("x:1@2").is_none());
        assert!(parse_node_addr("127.0.0.1:99999@1").is_none());
    }

    #[test]
    fn loads_a_redis_file() {
        // Written by Redis 7.0 (a 3-master, 1-replica cluster).
        let text = "\
3c3a0c74aae0b56170ccb03a76b60cfe7dc1912e 127.0.0.1:7002@17002 master - 0 1426238316232 2 connected 5461-10922
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
2938205e12de373867bf38f1ca29d31d0ddb3e46 127.0.0.1:7004@17004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317741 1 connected
97a3a64667477371c4479320d683e4c8db5858b1 127.0.0.1:7003@17003 master,fail? - 1426238316000 1426238316232 3 connected 10923-16383 [5000->-3c3a0c74aae0b56170ccb03a76b60cfe7dc1912e]
vars currentEpoch 6 lastVoteEpoch 4
";
        let cfg = ClusterConfig {
            port: 7000,
            bus_port: 17000,
            ..ClusterConfig::default()
        };
        let c = Cluster::from_nodes_conf(cfg, 1, 5000, text).unwrap();
        assert_eq!(
            c.myself_id().as_str(),
            "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca"
        );
        assert_eq!(c.current_epoch(), 6);
        assert_eq!(c.last_vote_epoch(), 4);
        assert_eq!(c.nodes().count(), 4);
        assert_eq!(c.slot_owner(0).unwrap().id, c.myself_id());
        assert_eq!(
            c.slot_owner(16383).unwrap().id.as_str(),
            "97a3a64667477371c4479320d683e4c8db5858b1"
        );
        assert!(c.slot_owner(16383).unwrap().is_pfail());
        let replica = c
            .node(&NodeId::parse(b"2938205e12de373867bf38f1ca29d31d0ddb3e46").unwrap())
            .unwrap();
        assert_eq!(replica.master, Some(c.myself_id()));
        assert_eq!(replica.pong_received, 5000);
        // Round trip: what we write loads back the same.
        let again =
            Cluster::from_nodes_conf(c.config().clone(), 1, 5000, &c.to_nodes_conf()).unwrap();
        assert_eq!(again.to_nodes_conf(), c.to_nodes_conf());
    }

    #[test]
    fn rejects_bad_files() {
        let cfg = ClusterConfig::default();
        let no_myself = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:7000@17000 master - 0 0 1 connected\n";
        assert_eq!(
            Cluster::from_nodes_conf(cfg.clone(), 1, 1, no_myself)
                .err()
                .unwrap()
                .line,
            0
        );
        let short =
            "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:7000@17000 myself,master - 0 0\n";
        assert_eq!(
            Cluster::from_nodes_conf(cfg.clone(), 1, 1, short)
                .err()
                .unwrap()
                .line,
            1
        );
        let bad_slot = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 16384\n";
        assert!(Cluster::from_nodes_conf(cfg.clone(), 1, 1, bad_slot).is_err());
        let bad_range = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 9-3\n";
        assert!(Cluster::from_nodes_conf(cfg, 1, 1, bad_range).is_err());
    }
}
