//! A deterministic simulation of a cluster: N [`Cluster`]s, a virtual clock,
//! and a virtual network that delays, drops, duplicates, reorders, corrupts
//! and partitions messages, every choice drawn from one seed. The same seed
//! replays the same run exactly, so a failing seed is a reproducible bug
//! report.
//!
//! Node `i` listens on `127.0.0.{i+1}`, client port `7000 + i`, bus port
//! `17000 + i`; some nodes announce their IP, the others learn it from the
//! first MEET, as a node without `cluster-announce-ip` does. Each node
//! "saves" its `nodes.conf` on every [`Event::ConfigChanged`], and
//! [`Sim::restart`] brings a killed node back from that text, so restarts
//! also exercise the file format.

use crate::cluster::{Cluster, ClusterConfig, ClusterHealth, Event, Output, PeerInfo};
use crate::{NodeId, Rng};
use bytes::Bytes;
use slots::Slot;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv4Addr};

/// How the virtual network misbehaves.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// Smallest one-way delay, ms.
    pub min_delay_ms: u64,
    /// Largest one-way delay, ms (delays are uniform in between, so
    /// messages overtake each other).
    pub max_delay_ms: u64,
    /// Probability that a message is lost.
    pub drop_rate: f64,
    /// Probability that a message is delivered twice (independent delays).
    pub dup_rate: f64,
    /// Probability that a message arrives with a byte changed.
    pub corrupt_rate: f64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            min_delay_ms: 1,
            max_delay_ms: 20,
            drop_rate: 0.0,
            dup_rate: 0.0,
            corrupt_rate: 0.0,
        }
    }
}

/// One simulated node.
pub struct SimNode {
    /// The state machine; `None` while the node is down.
    pub cluster: Option<Cluster>,
    /// Its IP.
    pub ip: IpAddr,
    /// Client port.
    pub port: u16,
    /// Bus port.
    pub bus_port: u16,
    /// Its configuration.
    pub config: ClusterConfig,
    /// The last `nodes.conf` it saved.
    pub saved_conf: Option<String>,
    /// Partition group: messages cross only between nodes of one group.
    pub group: u32,
}

/// An event a node reported, with when and where.
#[derive(Clone, Debug)]
pub struct Logged {
    /// Virtual time.
    pub at: u64,
    /// Index of the node that reported it.
    pub node: usize,
    /// The event.
    pub event: Event,
}

struct Packet {
    at: u64,
    seq: u64,
    from: usize,
    to: usize,
    frame: Bytes,
}

impl PartialEq for Packet {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Packet {}
impl PartialOrd for Packet {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Packet {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Counters of the virtual network.
#[derive(Clone, Debug, Default)]
pub struct NetStats {
    /// Messages handed to a node.
    pub delivered: u64,
    /// Messages lost by `drop_rate`.
    pub dropped: u64,
    /// Extra copies made by `dup_rate`.
    pub duplicated: u64,
    /// Messages corrupted by `corrupt_rate` or injected garbage.
    pub corrupted: u64,
    /// Messages to a node that is down, unknown, or across a partition.
    pub undeliverable: u64,
}

/// The simulation.
pub struct Sim {
    /// Virtual time, ms.
    pub now: u64,
    /// The nodes.
    pub nodes: Vec<SimNode>,
    /// Network behaviour (may be changed between steps).
    pub net: NetConfig,
    /// Events reported by the nodes.
    pub log: Vec<Logged>,
    /// Network counters.
    pub net_stats: NetStats,
    queue: BinaryHeap<Reverse<Packet>>,
    rng: Rng,
    seq: u64,
}

/// Where simulated time starts (any non-zero value; 0 means "never" to the
/// state machine).
pub const SIM_EPOCH_MS: u64 = 1_000_000;

impl Sim {
    /// `n` fresh nodes, each knowing only itself. `cfg` is the template
    /// configuration (addresses are set per node).
    pub fn new(seed: u64, n: usize, cfg: &ClusterConfig, net: NetConfig) -> Sim {
        let mut rng = Rng::new(seed);
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, (i + 1) as u8));
            let mut config = cfg.clone();
            config.port = 7000 + i as u16;
            config.bus_port = 17000 + i as u16;
            config.announce_ip = if rng.chance(0.5) { Some(ip) } else { None };
            // Start the nodes' timers out of phase, as real processes are.
            let start = SIM_EPOCH_MS + rng.below(crate::CRON_PERIOD_MS);
            let cluster = Cluster::new(config.clone(), rng.next_u64(), start);
            nodes.push(SimNode {
                cluster: Some(cluster),
                ip,
                port: config.port,
                bus_port: config.bus_port,
                config,
                saved_conf: None,
                group: 0,
            });
        }
        Sim {
            now: SIM_EPOCH_MS,
            nodes,
            net,
            log: Vec::new(),
            net_stats: NetStats::default(),
            queue: BinaryHeap::new(),
            rng,
            seq: 0,
        }
    }

    /// Node `i`'s state machine (panics if it is down: a test bug).
    pub fn node(&self, i: usize) -> &Cluster {
        self.nodes[i].cluster.as_ref().expect("node is down")
    }

    /// Node `i`'s state machine, mutably.
    pub fn node_mut(&mut self, i: usize) -> &mut Cluster {
        self.nodes[i].cluster.as_mut().expect("node is down")
    }

    /// Whether node `i` is up.
    pub fn is_up(&self, i: usize) -> bool {
        self.nodes[i].cluster.is_some()
    }

    /// Indices of the nodes that are up.
    pub fn up(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| self.is_up(i)).collect()
    }

    /// Node `i`'s id.
    pub fn id(&self, i: usize) -> NodeId {
        self.node(i).myself_id()
    }

    /// Index of the node with id `id`, if up.
    pub fn index_of(&self, id: &NodeId) -> Option<usize> {
        self.up().into_iter().find(|&i| self.id(i) == *id)
    }

    /// `CLUSTER MEET` on node `a` with node `b`'s address.
    pub fn meet(&mut self, a: usize, b: usize) {
        let (ip, port, bus) = (self.nodes[b].ip, self.nodes[b].port, self.nodes[b].bus_port);
        let now = self.now;
        self.node_mut(a)
            .meet(now, ip, port, Some(bus))
            .expect("valid address");
        self.drain(a);
    }

    /// `CLUSTER ADDSLOTSRANGE start end` on node `i`.
    pub fn add_slots(&mut self, i: usize, start: Slot, end: Slot) {
        let now = self.now;
        self.node_mut(i)
            .add_slot_ranges(now, &[(start, end)])
            .expect("free slots");
        self.drain(i);
    }

    /// `CLUSTER REPLICATE` on node `i` with node `master`'s id.
    pub fn replicate(&mut self, i: usize, master: usize) -> Result<(), crate::ClusterError> {
        let (now, id) = (self.now, self.id(master));
        let r = self.node_mut(i).replicate(now, &id);
        self.drain(i);
        r
    }

    /// Runs `f` on node `i` and routes what it outputs.
    pub fn with_node<R>(&mut self, i: usize, f: impl FnOnce(&mut Cluster, u64) -> R) -> R {
        let now = self.now;
        let r = f(self.node_mut(i), now);
        self.drain(i);
        r
    }

    /// Stops node `i` (crash: in-flight messages to it are lost).
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].cluster = None;
    }

    /// Brings node `i` back from its last saved `nodes.conf` (a fresh node
    /// when it never saved one).
    pub fn restart(&mut self, i: usize) {
        let seed = self.rng.next_u64();
        let cfg = self.nodes[i].config.clone();
        let c = match &self.nodes[i].saved_conf {
            Some(text) => {
                Cluster::from_nodes_conf(cfg, seed, self.now, text).expect("saved nodes.conf loads")
            }
            None => Cluster::new(cfg, seed, self.now),
        };
        self.nodes[i].cluster = Some(c);
    }

    /// Puts each node in the group given by `groups[i]`.
    pub fn partition(&mut self, groups: &[u32]) {
        for (n, &g) in self.nodes.iter_mut().zip(groups) {
            n.group = g;
        }
    }

    /// Removes every partition.
    pub fn heal(&mut self) {
        for n in &mut self.nodes {
            n.group = 0;
        }
    }

    /// Sends `frame` to node `to` as if from node `from` (for garbage injection).
    pub fn inject(&mut self, from: usize, to: usize, frame: Bytes) {
        self.net_stats.corrupted += 1;
        self.push(from, to, self.now + 1, frame);
    }

    fn push(&mut self, from: usize, to: usize, at: u64, frame: Bytes) {
        self.seq += 1;
        self.queue.push(Reverse(Packet {
            at,
            seq: self.seq,
            from,
            to,
            frame,
        }));
    }

    fn route(&mut self, from: usize, to: crate::BusAddr, frame: Bytes) {
        let Some(dest) = self
            .nodes
            .iter()
            .position(|n| n.ip == to.ip && n.bus_port == to.port)
        else {
            self.net_stats.undeliverable += 1;
            return;
        };
        if self.rng.chance(self.net.drop_rate) {
            self.net_stats.dropped += 1;
            return;
        }
        let copies = if self.rng.chance(self.net.dup_rate) {
            2
        } else {
            1
        };
        self.net_stats.duplicated += copies - 1;
        for _ in 0..copies {
            let delay = self.rng.range(
                self.net.min_delay_ms,
                self.net.max_delay_ms.max(self.net.min_delay_ms),
            );
            let mut frame = frame.clone();
            if self.rng.chance(self.net.corrupt_rate) && !frame.is_empty() {
                let mut bytes = frame.to_vec();
                let at = self.rng.below(bytes.len() as u64) as usize;
                bytes[at] ^= 1 + self.rng.below(255) as u8;
                frame = Bytes::from(bytes);
                self.net_stats.corrupted += 1;
            }
            self.push(from, dest, self.now + delay, frame);
        }
    }

    /// Routes node `i`'s pending outputs.
    pub fn drain(&mut self, i: usize) {
        while let Some(out) = self.nodes[i].cluster.as_mut().and_then(|c| c.poll_output()) {
            match out {
                Output::Send { to, frame, .. } => self.route(i, to, frame),
                Output::ResetLink { .. } => {}
                Output::Event(e) => {
                    if e == Event::ConfigChanged {
                        let text = self.node(i).to_nodes_conf();
                        self.nodes[i].saved_conf = Some(text);
                    }
                    self.log.push(Logged {
                        at: self.now,
                        node: i,
                        event: e,
                    });
                }
            }
        }
    }

    /// Runs the simulation up to virtual time `t`.
    pub fn run_until(&mut self, t: u64) {
        loop {
            let next_msg = self.queue.peek().map(|p| p.0.at);
            let next_tick = self
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.cluster.as_ref().map(|c| (c.next_timeout(), i)))
                .min();
            let next = match (next_msg, next_tick) {
                (Some(m), Some((tk, _))) => m.min(tk),
                (Some(m), None) => m,
                (None, Some((tk, _))) => tk,
                (None, None) => t,
            };
            if next > t {
                break;
            }
            self.now = self.now.max(next);
            if next_msg == Some(next) {
                let Some(Reverse(p)) = self.queue.pop() else {
                    break;
                };
                let (src, dst) = (&self.nodes[p.from], &self.nodes[p.to]);
                if dst.cluster.is_none() || src.group != dst.group {
                    self.net_stats.undeliverable += 1;
                    continue;
                }
                let peer = PeerInfo {
                    src_ip: Some(src.ip),
                    local_ip: Some(dst.ip),
                };
                self.net_stats.delivered += 1;
                let now = self.now;
                if let Some(c) = self.nodes[p.to].cluster.as_mut() {
                    c.handle_message(now, peer, &p.frame);
                }
                self.drain(p.to);
            } else if let Some((_, i)) = next_tick {
                let now = self.now;
                if let Some(c) = self.nodes[i].cluster.as_mut() {
                    c.handle_tick(now);
                }
                self.drain(i);
            }
        }
        self.now = self.now.max(t);
    }

    /// Runs for `ms` of virtual time.
    pub fn run_for(&mut self, ms: u64) {
        let t = self.now + ms;
        self.run_until(t);
    }

    /// Runs until `done(self)` holds (checked every `step_ms`) or `limit_ms`
    /// passed; returns the virtual time it took, `None` on time-out.
    pub fn run_until_ok(
        &mut self,
        limit_ms: u64,
        step_ms: u64,
        done: impl Fn(&Sim) -> bool,
    ) -> Option<u64> {
        let start = self.now;
        while self.now - start <= limit_ms {
            if done(self) {
                return Some(self.now - start);
            }
            self.run_for(step_ms);
        }
        None
    }

    /// First time node `i` logged `e` at or after `since`.
    pub fn first_event(&self, i: usize, since: u64, e: &Event) -> Option<u64> {
        self.log
            .iter()
            .find(|l| l.node == i && l.at >= since && l.event == *e)
            .map(|l| l.at)
    }

    /// Checks that the nodes that are up agree: each knows exactly the others
    /// (no handshake, no PFAIL/FAIL flag left), they agree on every node's
    /// role and master and on the owner of every slot, the masters that own
    /// slots have distinct configEpochs, and each node claims as its own
    /// exactly the slots the others give it, and they share one
    /// currentEpoch. Returns the first disagreement.
    pub fn check_converged(&self) -> Result<(), String> {
        let up = self.up();
        let ids: Vec<NodeId> = up.iter().map(|&i| self.id(i)).collect();
        let first = self.node(up[0]);
        for &i in &up {
            let c = self.node(i);
            let known: Vec<NodeId> = c.nodes().map(|n| n.id).collect();
            let mut want = ids.clone();
            want.sort();
            if known != want {
                return Err(format!(
                    "node {i} knows {} nodes, want {}",
                    known.len(),
                    want.len()
                ));
            }
            for n in c.nodes() {
                if n.flags.intersects(
                    crate::NodeFlags::PFAIL | crate::NodeFlags::FAIL | crate::NodeFlags::HANDSHAKE,
                ) {
                    return Err(format!("node {i} flags {:?} as {:?}", n.id, n.flags));
                }
                let own = self.node(self.index_of(&n.id).unwrap_or(i)).myself();
                if n.is_master() != own.is_master() || n.master != own.master {
                    return Err(format!(
                        "node {i} sees {:?} with role {:?} / {:?}",
                        n.id, n.flags, n.master
                    ));
                }
                if n.slots != own.slots {
                    return Err(format!(
                        "node {i} gives {:?} slots {:?}, it claims {:?}",
                        n.id, n.slots, own.slots
                    ));
                }
            }
        }
        // Each node's slot sets equal their owners' claims, so (with the
        // owner ⇔ slot-set invariant, see `check_invariants`) the slot maps
        // agree too.
        if let Some(&i) = up
            .iter()
            .find(|&&i| self.node(i).current_epoch() != first.current_epoch())
        {
            return Err(format!(
                "node {i} has currentEpoch {}, node {} {}",
                self.node(i).current_epoch(),
                up[0],
                first.current_epoch()
            ));
        }
        let mut epochs: Vec<u64> = first
            .nodes()
            .filter(|n| n.is_master() && !n.slots.is_empty())
            .map(|n| n.config_epoch)
            .collect();
        epochs.sort();
        if epochs.windows(2).any(|w| w[0] == w[1]) {
            return Err(format!(
                "slot-owning masters share a configEpoch: {epochs:?}"
            ));
        }
        Ok(())
    }

    /// Checks each node's internal invariant: a slot's owner holds the slot
    /// in its set, and no set holds a slot owned by another node.
    pub fn check_invariants(&self) -> Result<(), String> {
        for i in self.up() {
            let c = self.node(i);
            let mut from_owner: std::collections::BTreeMap<NodeId, crate::SlotSet> =
                Default::default();
            for (s, owner) in c.owner.iter().enumerate() {
                if let Some(o) = owner {
                    from_owner.entry(*o).or_default().insert(s as Slot);
                }
            }
            for n in c.nodes() {
                let want = from_owner.remove(&n.id).unwrap_or_default();
                if n.slots != want {
                    return Err(format!(
                        "node {i}: {:?} holds {:?}, the owner map gives it {want:?}",
                        n.id, n.slots
                    ));
                }
            }
            if let Some((id, _)) = from_owner.into_iter().next() {
                return Err(format!(
                    "node {i}: the owner map names {id:?}, not in the table"
                ));
            }
        }
        Ok(())
    }

    /// Whether every node that is up reports `cluster_state:ok`.
    pub fn all_healthy(&self) -> bool {
        self.up()
            .iter()
            .all(|&i| self.node(i).health() == ClusterHealth::Ok)
    }
}

/// A cluster shape for [`Sim::form_cluster`].
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Masters, which split the slots between them (nodes `0..masters`).
    pub masters: usize,
    /// Replicas, each of a random master (the following nodes).
    pub replicas: usize,
}

impl Sim {
    /// Forms a cluster the way an operator (or `redis-cli --cluster create`)
    /// does: the masters take contiguous shares of the slots, then the nodes
    /// join by a chain of MEETs (each node meets a random node that joined
    /// before it, at random moments), then each replica REPLICATEs a random
    /// master once it knows it. Returns how long (virtual ms) it took until
    /// every node agreed and reported `cluster_state:ok`, or why not within
    /// `limit_ms`.
    pub fn form_cluster(&mut self, layout: Layout, limit_ms: u64) -> Result<u64, String> {
        let start = self.now;
        let n = layout.masters + layout.replicas;
        assert!(n <= self.nodes.len() && layout.masters >= 1);
        let total = slots::SLOT_COUNT as usize;
        for m in 0..layout.masters {
            let (a, b) = (
                m * total / layout.masters,
                (m + 1) * total / layout.masters - 1,
            );
            self.add_slots(m, a as Slot, b as Slot);
        }
        // Random join order, each node meeting one that joined earlier.
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        for k in 1..n {
            let earlier = order[self.rng.below(k as u64) as usize];
            let (a, b) = if self.rng.chance(0.5) {
                (order[k], earlier)
            } else {
                (earlier, order[k])
            };
            self.meet(a, b);
            let gap = self.rng.below(200);
            self.run_for(gap);
        }
        let joined = self.run_until_ok(limit_ms, 100, |s| s.check_converged().is_ok());
        if joined.is_none() {
            return Err(format!(
                "membership did not converge: {:?}",
                self.check_converged()
            ));
        }
        for r in layout.masters..n {
            let m = self.rng.below(layout.masters as u64) as usize;
            self.replicate(r, m)
                .map_err(|e| format!("REPLICATE: {e}"))?;
        }
        let left = limit_ms.saturating_sub(self.now - start);
        match self.run_until_ok(left, 100, |s| {
            s.check_converged().is_ok() && s.all_healthy()
        }) {
            Some(_) => Ok(self.now - start),
            None => Err(format!(
                "did not converge: {:?}, healthy {}",
                self.check_converged(),
                self.all_healthy()
            )),
        }
    }

    /// A random number from the simulation's generator (for test scenarios
    /// that must replay with the seed).
    pub fn random(&mut self, n: u64) -> u64 {
        self.rng.below(n)
    }
}
