//! One core: its shard, its half of the cross-core mesh, and the lock that
//! makes multi-core commands atomic.
//!
//! Forwarding. A command on a key owned by another core becomes an [`Op`] in
//! a request to that core. Requests (and replies) to one destination are
//! queued in a per-destination outbox and sent by one flusher task as a
//! single batch on the mesh (`mesh`), so everything the connections of a core
//! forward in one scheduler tick travels together. Each request has an id;
//! the reply fills the [`Slot`] the sender awaits.
//!
//! Atomic multi-core commands. Each core has a gate that one transaction at a
//! time may hold. A coordinator takes the gates of the cores it needs in
//! ascending core order (so two coordinators never wait on each other in a
//! cycle), runs its operations, and releases each gate with its last
//! operation (strict two-phase locking). Requests that reach a held gate wait
//! in a FIFO queue and run, in order, when it is released. A reader that
//! needs several cores (MGET) takes the gates too, so it sees every MSET
//! either whole or not at all.

use crate::config::Config;
use crate::sync::{Signal, Slot};
use bytes::Bytes;
use resp::Reply;
use slots::SlotRanges;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use store::{Entry, ScanFilter, Shard};

/// Identifies a multi-core transaction: unique per node.
pub type TxId = u64;

/// State shared by all cores of the node (immutable or atomic).
pub struct Node {
    pub ranges: SlotRanges,
    pub started: std::time::Instant,
    pub run_id: String,
    pub next_client_id: AtomicU64,
    pub connected_clients: AtomicUsize,
    pub total_connections: AtomicU64,
    pub config_file: String,
    /// Cores still loading their data (commands get -LOADING meanwhile).
    pub loading_cores: AtomicUsize,
    /// Cores whose data is loaded and written under the current layout.
    pub persist_ready: AtomicUsize,
    pub layout_committed: std::sync::atomic::AtomicBool,
}

impl Node {
    pub fn cores(&self) -> usize {
        self.ranges.owners()
    }

    pub fn loading(&self) -> bool {
        self.loading_cores.load(std::sync::atomic::Ordering::Relaxed) > 0
    }

    pub fn core_of_key(&self, key: &[u8]) -> usize {
        // One core owns every slot: no need to hash the key.
        if self.ranges.owners() == 1 {
            return 0;
        }
        self.ranges.owner_of(slots::key_slot(key))
    }
}

/// Work one core asks another to do on its shard.
#[derive(Debug)]
pub enum Op {
    /// Run a command of the table (by index) on this shard. `slot` is its
    /// first key's slot where the sender computed it to route the command,
    /// so this core does not hash the key again.
    Cmd { idx: u16, argv: Vec<Bytes>, slot: Option<slots::Slot> },
    /// Take the gate for the request's transaction.
    Lock,
    /// Release the gate.
    Unlock,
    DbSize,
    Flush,
    Keys(Bytes),
    Scan { slot: u16, end: u16, count: usize, filter: ScanFilter },
    RandomKey,
    /// Remove a live key and hand over its entry (cross-core RENAME).
    Take(Bytes),
    /// Store an entry (cross-core RENAME).
    Put(Bytes, Entry),
    /// Copies of the live entries of these keys (scratch execution).
    Fetch(Vec<Bytes>),
    /// Replace (Some) or delete (None) these keys (scratch write-back).
    Store(Vec<(Bytes, Option<Entry>)>),
    /// Serve a blocking command now, or park it until one of its keys is
    /// written (its reply then arrives later) or `Unblock`.
    Block { wid: u64, idx: u16, argv: Vec<Bytes> },
    /// Answer (with `Done`) as soon as one of these keys is written.
    Watch { wid: u64, keys: Vec<Bytes> },
    /// Release a parked `Block`/`Watch` (timeout, disconnect): it answers
    /// its timeout reply now unless it was already served.
    Unblock { wid: u64 },
    /// Deliver a published message to this core's subscribers.
    Publish { channel: Bytes, message: Bytes, sharded: bool },
    PubsubChannels { sharded: bool, pattern: Option<Bytes> },
    PubsubNumsub { sharded: bool, channels: Vec<Bytes> },
    PubsubPatterns,
    /// WATCH these keys: their versions.
    WatchKeys(Vec<Bytes>),
    UnwatchKeys(Vec<Bytes>),
    /// Whether every key still has the version WATCH saw.
    CheckWatch(Vec<(Bytes, u64)>),
    /// Start a background snapshot (and log switch) on this core.
    BgSave,
    /// Take a snapshot once the one in progress (if any) ends; answers
    /// `Flag(ok)` when it is on disk (SHUTDOWN).
    Snapshot,
    /// Write and fsync everything logged so far, whatever `appendfsync`
    /// says; answers `Flag(true)` once it is durable (SHUTDOWN).
    SyncLog,
    PersistStats,
    Stats,
    ClientList,
    ConfigSet(String, String),
    ResetStats,
    /// Install the node's new cluster slot map.
    ClusterView(Arc<crate::cluster_node::ClusterView>),
    /// Run a CLUSTER subcommand against the cluster state (core 0 only).
    ClusterCmd(Vec<Bytes>),
}

/// The result of one [`Op`].
#[derive(Debug)]
pub enum Out {
    Reply(Reply),
    Count(usize),
    Keys(Vec<Bytes>),
    Scan(Vec<Bytes>, u16),
    RandomKey(usize, Option<Bytes>),
    Entry(Option<Entry>),
    Entries(Vec<Option<Entry>>),
    Stats(CoreStats),
    Persist(crate::persistence::PersistStats),
    Counts(Vec<usize>),
    Versions(Vec<u64>),
    Flag(bool),
    Text(String),
    Done,
}

impl Out {
    pub fn into_reply(self) -> Reply {
        match self {
            Out::Reply(r) => r,
            other => Reply::error(format!("ERR internal: unexpected {other:?}")),
        }
    }
}

/// Per-core numbers INFO adds up.
#[derive(Debug, Default, Clone)]
pub struct CoreStats {
    pub core: usize,
    pub keys: usize,
    pub expires: usize,
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
    pub commands: u64,
    pub clients: usize,
    pub forwarded_out: u64,
    pub forwarded_in: u64,
    pub heap_bytes: i64,
    pub dataset_bytes: usize,
    pub evicted: u64,
    pub blocked: usize,
    pub persist: crate::persistence::PersistStats,
    pub pubsub_channels: usize,
    pub pubsub_patterns: usize,
}

/// What travels on the channels, batched per destination.
#[derive(Debug)]
pub enum Msg {
    Req { id: u64, from: usize, tx: Option<TxId>, ops: Vec<Op> },
    Resp { id: u64, outs: Vec<Out> },
}

pub type Batch = Vec<Msg>;

/// How many forwarded commands a request to another core counts for (INFO
/// `total_forwarded_commands`): each op but the gate's, so a pipeline's run
/// of commands sent as one message counts each of them.
fn forwarded_count(ops: &[Op]) -> u64 {
    ops.iter().filter(|op| !matches!(op, Op::Lock | Op::Unlock)).count().max(1) as u64
}

/// Where the outputs of a deferred request go.
pub(crate) enum Target {
    Remote { from: usize, id: u64 },
    Local(Rc<Slot<Vec<Out>>>),
}

struct Deferred {
    target: Target,
    tx: Option<TxId>,
    ops: Vec<Op>,
}

/// A client parked on this core by a blocking command.
struct Waiter {
    target: Target,
    keys: Vec<Bytes>,
    /// The command to retry (table index, argv); None for a plain `Watch`.
    serve: Option<(u16, Vec<Bytes>)>,
}

#[derive(Default)]
struct Gate {
    holder: Option<TxId>,
    waiting: VecDeque<Deferred>,
}

/// Connection-level facts CLIENT LIST reports.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub name: Bytes,
    pub lib_name: Bytes,
    pub lib_ver: Bytes,
    pub created: std::time::Instant,
    /// Unix ms of the last read (the clock its commands saw).
    pub last_active_ms: u64,
    pub last_cmd: &'static str,
    pub resp: u8,
    /// Channel, pattern and shard-channel subscriptions (CLIENT LIST).
    pub subs: [usize; 3],
}

/// The per-core runtime. Lives in an `Rc` on its executor.
pub struct Core {
    pub id: usize,
    pub node: Arc<Node>,
    pub shard: RefCell<Shard>,
    pub config: RefCell<Config>,
    pub clients: RefCell<HashMap<u64, Rc<RefCell<ClientInfo>>>>,
    mesh: Arc<crate::mesh::Mesh>,
    outbox: Vec<RefCell<Vec<Msg>>>,
    outbox_ready: Vec<Signal>,
    pending: RefCell<HashMap<u64, Rc<Slot<Vec<Out>>>>>,
    waiters: RefCell<HashMap<u64, Waiter>>,
    /// FIFO of waiter ids per key.
    blocked_keys: RefCell<HashMap<Bytes, VecDeque<u64>>>,
    /// Keys with waiters written since the last serve pass.
    ready: RefCell<Vec<Bytes>>,
    next_id: Cell<u64>,
    gate: RefCell<Gate>,
    pub forwarded_out: Cell<u64>,
    pub forwarded_in: Cell<u64>,
    /// Commands received by this core's connections.
    pub commands_processed: Cell<u64>,
    pub persist: crate::persistence::Persist,
    pub pubsub: RefCell<crate::pubsub::Registry>,
    /// Connections of this core waiting in a blocking command.
    pub blocked_conns: Cell<usize>,
    /// Replies waiting for the log fsync that makes their writes durable.
    held: RefCell<Vec<(Target, Vec<Out>)>>,
    /// Weak self, for ops that start tasks (BGSAVE).
    me: RefCell<std::rc::Weak<Core>>,
    /// The cluster slot map (cluster mode only), from core 0.
    pub cluster_view: RefCell<Option<Arc<crate::cluster_node::ClusterView>>>,
    /// Multi-key commands of this core's connections waiting to span cores together.
    pub combiner: crate::multi::Combiner,
    /// Keys of single requests whose table entries are to be fetched
    /// together (`queue_warm`), by slot and hash.
    warm_queue: RefCell<Vec<(slots::Slot, u64)>>,
    /// Whether a queued request works on a container (`Shard::prefetch`).
    warm_values: Cell<bool>,
}

/// The most keys `prefetch_keys` fetches at once, and `queue_warm` queues.
const MAX_WARM_KEYS: usize = 256;

/// Below this many keys in the core's shard, keys are not fetched ahead
/// (`warm_pays`). Each key a command touches costs a few cache lines (table
/// group, node, the value's first line), so a few thousand keys stay in a
/// 1-2 MB L2 cache, where fetching ahead finds nothing to overlap and only
/// costs: with 1000 keys, LPUSH:LPOP from 50 clients ran 2.5 % faster
/// without it; with 100000 keys, GET:SET ran 6 % slower without it.
const WARM_MIN_KEYS: usize = 8192;

impl Core {
    pub fn new(id: usize, node: Arc<Node>, config: Config, mesh: Arc<crate::mesh::Mesh>, persist: crate::persistence::Persist) -> Rc<Core> {
        let n = node.cores();
        let core = Rc::new(Core {
            id,
            shard: RefCell::new(Shard::with_slots(node.ranges.range_of(id))),
            node,
            config: RefCell::new(config),
            clients: RefCell::new(HashMap::new()),
            mesh,
            outbox: (0..n).map(|_| RefCell::new(Vec::new())).collect(),
            outbox_ready: (0..n).map(|_| Signal::default()).collect(),
            pending: RefCell::new(HashMap::new()),
            waiters: RefCell::new(HashMap::new()),
            blocked_keys: RefCell::new(HashMap::new()),
            ready: RefCell::new(Vec::new()),
            next_id: Cell::new(1),
            gate: RefCell::new(Gate::default()),
            forwarded_out: Cell::new(0),
            forwarded_in: Cell::new(0),
            commands_processed: Cell::new(0),
            persist,
            pubsub: RefCell::new(crate::pubsub::Registry::default()),
            blocked_conns: Cell::new(0),
            held: RefCell::new(Vec::new()),
            me: RefCell::new(std::rc::Weak::new()),
            cluster_view: RefCell::new(None),
            combiner: Default::default(),
            warm_queue: RefCell::new(Vec::new()),
            warm_values: Cell::new(false),
        });
        *core.me.borrow_mut() = Rc::downgrade(&core);
        core.apply_notify_flags();
        core
    }

    /// Takes the replies waiting for durability (the log writer calls this
    /// when it takes the records they depend on).
    pub(crate) fn take_held(&self) -> Vec<(Target, Vec<Out>)> {
        std::mem::take(&mut *self.held.borrow_mut())
    }

    /// Sends held replies once their records are durable; an error instead
    /// when the log could not be written.
    pub(crate) fn release_held(&self, held: Vec<(Target, Vec<Out>)>, ok: bool) {
        for (target, outs) in held {
            let outs = if ok {
                outs
            } else {
                outs.into_iter().map(|_| Out::Reply(Reply::error("ERR the append-only log could not be written; the command ran but is not durable"))).collect()
            };
            self.deliver(target, outs);
        }
    }

    /// Whether outputs produced after `appended_before` records must wait for an fsync.
    fn must_hold(&self, appended_before: u64) -> bool {
        self.persist.aof_enabled()
            && self.persist.appended() > appended_before
            && crate::persistence::Fsync::parse(&self.config.borrow().appendfsync) == crate::persistence::Fsync::Always
    }

    /// Holds the outputs of a local call until the fsync of what they logged;
    /// the caller waits on the returned slot.
    fn hold_local(&self, outs: Vec<Out>) -> Rc<Slot<Vec<Out>>> {
        let slot = Rc::new(Slot::default());
        self.held.borrow_mut().push((Target::Local(slot.clone()), outs));
        self.persist.wake_writer();
        slot
    }

    /// Delivers outputs, or holds them for the fsync of the records they logged.
    fn finish(&self, target: Target, outs: Vec<Out>, appended_before: u64) {
        if self.must_hold(appended_before) {
            self.held.borrow_mut().push((target, outs));
            self.persist.wake_writer();
        } else {
            self.deliver(target, outs);
        }
    }

    /// Starts moving messages between this core and its peers: the socket
    /// driver takes in what arrives (see `mesh`), and one flusher task per
    /// peer sends what this core's outbox holds for it.
    pub fn start_mesh(self: &Rc<Core>) -> std::io::Result<()> {
        crate::net::Poller::start(Rc::new(MeshInbox(self.clone())))?;
        for peer in 0..self.node.cores() {
            if peer == self.id {
                continue;
            }
            let core = self.clone();
            glommio::spawn_local(async move {
                loop {
                    core.outbox_ready[peer].wait().await;
                    let mut batch = std::mem::take(&mut *core.outbox[peer].borrow_mut());
                    while !batch.is_empty() {
                        match core.mesh.try_send(core.id, peer, batch) {
                            Ok(()) => break,
                            // The peer is behind: let it catch up.
                            Err(b) => {
                                batch = b;
                                glommio::timer::sleep(std::time::Duration::from_micros(50)).await;
                            }
                        }
                    }
                }
            })
            .detach();
        }
        Ok(())
    }

    /// Requests the table entries of the keys of forwarded commands before
    /// any of them runs, as a connection does for its own pipeline.
    fn prefetch_requests(&self, batch: &[Msg]) {
        let cmds = batch
            .iter()
            .flat_map(|m| match m {
                Msg::Req { ops, .. } => ops.as_slice(),
                Msg::Resp { .. } => &[],
            })
            .filter_map(|op| match op {
                Op::Cmd { idx, argv, slot } => Some((*idx as usize, argv.as_slice(), *slot)),
                _ => None,
            });
        self.prefetch_keys(cmds);
    }

    /// Requests the table entries of the keys this core owns among `cmds`
    /// (command table index, arguments, and the first key's slot where the
    /// caller knows it) before any of them runs (`Shard::prefetch`). Each
    /// lookup misses the CPU caches a few times (slot table, hash group, key
    /// node); requested together, the misses of different keys overlap
    /// instead of each stalling its own command, which then finds the lines
    /// cached. Container commands also get their value's first heap line.
    pub fn prefetch_keys<'a>(&self, cmds: impl Iterator<Item = (usize, &'a [Bytes], Option<slots::Slot>)>) {
        if !self.warm_pays() {
            return;
        }
        // Filled as it goes: zeroing a whole array of MAX_WARM_KEYS entries
        // on each call cost more than the rest of the function (perf annotate).
        let mut keys: Vec<(slots::Slot, &[u8])> = Vec::with_capacity(32);
        let values = self.owned_keys(cmds, |slot, key| keys.push((slot, key)));
        if keys.len() > 1 {
            self.shard.borrow().prefetch(&keys, values);
        }
    }

    /// Calls `f` with each key this core owns among `cmds` (as in
    /// `prefetch_keys`), at most `MAX_WARM_KEYS`, skipping a key repeated
    /// back to back. Returns whether any command works on a container.
    fn owned_keys<'a>(
        &self,
        cmds: impl Iterator<Item = (usize, &'a [Bytes], Option<slots::Slot>)>,
        mut f: impl FnMut(slots::Slot, &'a [u8]),
    ) -> bool {
        let mut values = false;
        let mut n = 0;
        let mut last: Option<(slots::Slot, &[u8])> = None;
        'cmds: for (idx, argv, first_slot) in cmds {
            let Some(spec) = commands::table().get(idx) else { continue };
            values |= matches!(spec.group, "hash" | "list" | "set" | "sorted-set");
            for (k, i) in spec.key_indexes(argv.len()).enumerate() {
                if n == MAX_WARM_KEYS {
                    break 'cmds;
                }
                let slot = match first_slot {
                    Some(slot) if k == 0 => slot,
                    _ => slots::key_slot(&argv[i]),
                };
                // A pipeline often repeats one key (redis-benchmark's
                // LPUSH mylist ...): once is enough.
                let repeat = last.is_some_and(|(s, k)| s == slot && k == &argv[i][..]);
                if !repeat && self.node.ranges.owner_of(slot) == self.id {
                    f(slot, &argv[i]);
                    last = Some((slot, &argv[i]));
                    n += 1;
                }
            }
        }
        values
    }

    /// Whether fetching keys ahead (`prefetch_keys`, `queue_warm`) pays:
    /// whether the shard holds more keys than the CPU caches keep
    /// (`WARM_MIN_KEYS`).
    pub fn warm_pays(&self) -> bool {
        self.shard.borrow().len() >= WARM_MIN_KEYS
    }

    /// Queues the keys this core owns among `cmds` for the next
    /// `flush_warm`, requesting their slot table headers now. Connections
    /// with a single request do this when other connections woken in the
    /// same turn have yet to read theirs (conn.rs): their requests are then
    /// all read before any runs, and one `flush_warm` fetches every key's
    /// table entry and node with the misses overlapping, as a pipeline's
    /// keys are (`prefetch_keys`).
    pub fn queue_warm<'a>(&self, cmds: impl Iterator<Item = (usize, &'a [Bytes], Option<slots::Slot>)>) {
        let shard = self.shard.borrow();
        let mut queue = self.warm_queue.borrow_mut();
        let values = self.owned_keys(cmds, |slot, key| {
            if queue.len() < MAX_WARM_KEYS {
                shard.prefetch_slot(slot);
                queue.push((slot, shard.key_hash(key)));
            }
        });
        if values {
            self.warm_values.set(true);
        }
    }

    /// Fetches the table entries of the keys `queue_warm` collected.
    pub fn flush_warm(&self) {
        let mut queue = self.warm_queue.borrow_mut();
        if !queue.is_empty() {
            self.shard.borrow().prefetch_hashed(&queue, self.warm_values.replace(false));
            queue.clear();
        }
    }

    fn push(&self, dst: usize, msg: Msg) {
        self.outbox[dst].borrow_mut().push(msg);
        self.outbox_ready[dst].notify();
    }

    fn on_message(&self, msg: Msg) {
        match msg {
            Msg::Resp { id, outs } => {
                if let Some(slot) = self.pending.borrow_mut().remove(&id) {
                    slot.fill(outs);
                }
            }
            Msg::Req { id, from, tx, ops } => {
                self.forwarded_in.set(self.forwarded_in.get() + forwarded_count(&ops));
                self.submit(Deferred { target: Target::Remote { from, id }, tx, ops });
            }
        }
    }

    /// Whether a request of transaction `tx` may run now.
    fn may_run(&self, tx: Option<TxId>) -> bool {
        let g = self.gate.borrow();
        match g.holder {
            Some(h) => tx == Some(h),
            None => g.waiting.is_empty(),
        }
    }

    /// Runs a request now or queues it behind the gate.
    fn submit(&self, d: Deferred) {
        if self.may_run(d.tx) {
            self.run_deferred(d);
            self.drain();
        } else {
            self.gate.borrow_mut().waiting.push_back(d);
        }
    }

    fn run_deferred(&self, mut d: Deferred) {
        match d.ops.as_slice() {
            [Op::Block { .. }] | [Op::Watch { .. }] => {
                if let Some(op) = d.ops.pop() {
                    self.park(d.target, op);
                }
                return;
            }
            [Op::Snapshot] => return self.snapshot_then_answer(d.target),
            [Op::SyncLog] => return self.sync_log_then_answer(d.target),
            _ => {}
        }
        let before = self.persist.appended();
        let outs = self.exec_ops(d.tx, d.ops);
        self.finish(d.target, outs, before);
    }

    /// `Op::Snapshot`: a task takes the snapshot and answers when it ends.
    fn snapshot_then_answer(&self, target: Target) {
        let Some(me) = self.me.borrow().upgrade() else {
            return self.deliver(target, vec![Out::Flag(false)]);
        };
        glommio::spawn_local(async move {
            let ok = match crate::persistence::snapshot_when_idle(&me).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(core = me.id, "snapshot failed: {e}");
                    false
                }
            };
            me.deliver(target, vec![Out::Flag(ok)]);
        })
        .detach();
    }

    /// `Op::SyncLog`: the answer waits with the replies held for durability
    /// until the log writer's next fsync, which the request forces.
    fn sync_log_then_answer(&self, target: Target) {
        if !self.persist.aof_enabled() {
            return self.deliver(target, vec![Out::Flag(true)]);
        }
        self.held.borrow_mut().push((target, vec![Out::Flag(true)]));
        self.persist.request_sync();
    }

    fn deliver(&self, target: Target, outs: Vec<Out>) {
        match target {
            Target::Remote { from, id } => self.push(from, Msg::Resp { id, outs }),
            Target::Local(slot) => slot.fill(outs),
        }
    }

    /// Serves a blocking command at once or parks it.
    fn park(&self, target: Target, op: Op) {
        let (wid, keys, serve) = match op {
            Op::Block { wid, idx, argv } => {
                let before = self.persist.appended();
                match self.try_serve(idx, &argv) {
                    Some(reply) => return self.finish(target, vec![Out::Reply(reply)], before),
                    None => {
                        let spec = &commands::table()[idx as usize];
                        let keys = spec.key_indexes(argv.len()).map(|i| argv[i].clone()).collect();
                        (wid, keys, Some((idx, argv)))
                    }
                }
            }
            Op::Watch { wid, keys } => (wid, keys, None),
            _ => return,
        };
        let mut blocked = self.blocked_keys.borrow_mut();
        for k in &keys {
            let q = blocked.entry(k.clone()).or_default();
            if !q.contains(&wid) {
                q.push_back(wid);
            }
        }
        self.waiters.borrow_mut().insert(wid, Waiter { target, keys, serve });
    }

    /// One attempt of a parked command; None while it would still block.
    fn try_serve(&self, idx: u16, argv: &[Bytes]) -> Option<Reply> {
        let spec = commands::table().get(idx as usize)?;
        let commands::Exec::Blocking(op) = spec.exec else {
            return Some(Reply::error("ERR internal: not a blocking command"));
        };
        let mut shard = self.shard.borrow_mut();
        shard.set_now(store::unix_time_ms());
        let attempt = op(&mut shard, argv);
        shard.finish_command(true);
        match attempt {
            Ok(Some(r)) => {
                self.persist.log_cmd(shard.now(), argv);
                drop(shard);
                // Serving may have written other watched keys (BLMOVE's destination).
                self.mark_ready(spec.key_indexes(argv.len()).map(|i| &argv[i]));
                Some(r)
            }
            Ok(None) => None,
            Err(e) => Some(e.into()),
        }
    }

    fn remove_waiter(&self, wid: u64) -> Option<Waiter> {
        let w = self.waiters.borrow_mut().remove(&wid)?;
        let mut blocked = self.blocked_keys.borrow_mut();
        for k in &w.keys {
            if let Some(q) = blocked.get_mut(k) {
                q.retain(|&x| x != wid);
                if q.is_empty() {
                    blocked.remove(k);
                }
            }
        }
        Some(w)
    }

    /// Notes written keys that parked clients wait for.
    fn mark_ready<'a>(&self, keys: impl Iterator<Item = &'a Bytes>) {
        let blocked = self.blocked_keys.borrow();
        if blocked.is_empty() {
            return;
        }
        let mut ready = self.ready.borrow_mut();
        for k in keys {
            if blocked.contains_key(k) && !ready.contains(k) {
                ready.push(k.clone());
            }
        }
    }

    /// Serves parked clients of written keys, first parked first served.
    fn serve_ready(&self) {
        loop {
            let Some(key) = self.ready.borrow_mut().pop() else { return };
            loop {
                let Some(wid) = self.blocked_keys.borrow().get(&key).and_then(|q| q.front().copied()) else { break };
                let serve = self.waiters.borrow().get(&wid).map(|w| w.serve.clone());
                let Some(serve) = serve else {
                    self.remove_waiter(wid);
                    continue;
                };
                let before = self.persist.appended();
                let out = match serve {
                    None => Out::Done,
                    Some((idx, argv)) => match self.try_serve(idx, &argv) {
                        Some(reply) => Out::Reply(reply),
                        // Nothing left for this key: later waiters wait too.
                        None => break,
                    },
                };
                if let Some(w) = self.remove_waiter(wid) {
                    self.finish(w.target, vec![out], before);
                }
            }
        }
    }

    /// Connections of this core waiting in a blocking command.
    pub fn blocked_clients(&self) -> usize {
        self.blocked_conns.get()
    }

    /// Runs queued requests while the gate is free.
    fn drain(&self) {
        loop {
            // Parked clients of keys just written are served before anything
            // queued behind the gate runs (and again after each of those).
            if self.gate.borrow().holder.is_none() && !self.ready.borrow().is_empty() {
                self.serve_ready();
            }
            let next = {
                let mut g = self.gate.borrow_mut();
                if g.holder.is_some() {
                    return;
                }
                match g.waiting.pop_front() {
                    Some(d) => d,
                    None => return,
                }
            };
            self.run_deferred(next);
        }
    }

    /// Executes operations on this core's shard, synchronously.
    fn exec_ops(&self, tx: Option<TxId>, ops: Vec<Op>) -> Vec<Out> {
        // The commands of one request share one clock read (a forwarded
        // pipeline is one request).
        let mut now = None;
        ops.into_iter().map(|op| self.exec_op(tx, op, &mut now)).collect()
    }

    /// `exec_cmd`, with the first key's slot handed to the shard's lookups
    /// (`Shard::with_slot_hint`) where the caller already computed it.
    fn exec_cmd_hinted(&self, tx: Option<TxId>, idx: u16, argv: &[Bytes], slot: Option<slots::Slot>, now_ms: u64) -> Reply {
        let first = slot.zip(commands::table().get(idx as usize).and_then(|s| s.first_key_index(argv.len())));
        match first {
            Some((slot, i)) => store::Shard::with_slot_hint(&self.shard, &argv[i], slot, || self.exec_cmd(tx, idx, argv, now_ms)),
            None => self.exec_cmd(tx, idx, argv, now_ms),
        }
    }

    /// Runs one command of this core's keys on its shard, at Unix time `now_ms`.
    fn exec_cmd(&self, tx: Option<TxId>, idx: u16, argv: &[Bytes], now_ms: u64) -> Reply {
        let Some(spec) = commands::table().get(idx as usize) else {
            return Reply::error("ERR internal: bad command index");
        };
        let mut shard = self.shard.borrow_mut();
        shard.set_now(now_ms);
        if spec.has(commands::FLAG_DENYOOM) {
            let room = self.make_room(&mut shard, tx.is_some());
            shard.finish_command(true);
            if let Err(oom) = room {
                return oom;
            }
        }
        let reply = commands::run_on_shard(spec, &mut shard, argv);
        shard.finish_command(!commands::changed_nothing(spec, &reply));
        if spec.is_write() && !reply.is_error() {
            if spec.name == "spop" {
                // Random: log the result, not the command.
                let rec = crate::persistence::image(&mut shard, &argv[1]);
                self.persist.log(&rec);
            } else {
                self.persist.log_cmd(shard.now(), argv);
            }
        }
        let expired = shard.take_expired_events();
        drop(shard);
        if spec.is_write() {
            self.mark_ready(spec.key_indexes(argv.len()).map(|i| &argv[i]));
            self.notify_write(spec, argv, &reply);
        }
        if !expired.is_empty() {
            self.notify_dropped("expired", &expired);
        }
        reply
    }

    /// Runs a command of this core's keys at once when nothing waits at the
    /// gate, without the batch machinery of `call_start` (the common case).
    /// None: it must go through `call_start`.
    /// `slot` is the first key's slot, as the connection computed it to
    /// route the command: the shard's lookups of that key reuse it.
    pub fn run_here(&self, idx: u16, argv: &[Bytes], slot: slots::Slot, now_ms: u64) -> Option<Result<Reply, Rc<Slot<Vec<Out>>>>> {
        if !self.may_run(None) {
            return None;
        }
        let before = self.persist.appended();
        let reply = self.exec_cmd_hinted(None, idx, argv, Some(slot), now_ms);
        self.drain();
        if self.must_hold(before) {
            return Some(Err(self.hold_local(vec![Out::Reply(reply)])));
        }
        Some(Ok(reply))
    }

    /// Runs one operation; the commands among a request's operations share
    /// the clock read kept in `now`.
    fn exec_op(&self, tx: Option<TxId>, op: Op, now: &mut Option<u64>) -> Out {
        match op {
            Op::Lock => {
                self.gate.borrow_mut().holder = tx;
                Out::Done
            }
            Op::Unlock => {
                self.gate.borrow_mut().holder = None;
                Out::Done
            }
            Op::ConfigSet(k, v) => {
                // The config is borrowed for the set only: the flags read it again.
                let set = self.config.borrow_mut().set(&k, &v);
                match set {
                    Ok(()) => {
                        self.apply_notify_flags();
                        Out::Done
                    }
                    Err(e) => Out::Reply(Reply::error(format!("ERR {e}"))),
                }
            }
            Op::Stats => Out::Stats(self.stats()),
            Op::PersistStats => Out::Persist(self.persist.stats()),
            Op::Publish { channel, message, sharded } => {
                let limits = self.config.borrow().pubsub_limits();
                Out::Count(self.pubsub.borrow().deliver(&channel, &message, sharded, limits))
            }
            Op::PubsubChannels { sharded, pattern } => Out::Keys(self.pubsub.borrow().channel_names(sharded, pattern.as_deref())),
            Op::PubsubNumsub { sharded, channels } => Out::Counts(channels.iter().map(|c| self.pubsub.borrow().numsub(sharded, c)).collect()),
            Op::PubsubPatterns => Out::Keys(self.pubsub.borrow().pattern_names()),
            Op::BgSave => match self.me.borrow().upgrade() {
                Some(me) => Out::Flag(crate::persistence::start_bgsave(&me)),
                None => Out::Flag(false),
            },
            Op::ResetStats => {
                self.shard.borrow_mut().stats = Default::default();
                self.commands_processed.set(0);
                self.forwarded_in.set(0);
                self.forwarded_out.set(0);
                Out::Done
            }
            Op::ClientList => Out::Text(crate::admin::client_list_lines(self)),
            Op::ClusterView(view) => {
                *self.cluster_view.borrow_mut() = Some(view);
                Out::Done
            }
            Op::ClusterCmd(argv) => Out::Reply(crate::cluster_node::run_on_core0(self, &argv)),
            Op::Cmd { idx, argv, slot } => {
                let now = *now.get_or_insert_with(store::unix_time_ms);
                Out::Reply(self.exec_cmd_hinted(tx, idx, &argv, slot, now))
            }
            Op::Unblock { wid } => {
                if let Some(w) = self.remove_waiter(wid) {
                    let out = match &w.serve {
                        Some((idx, _)) => Out::Reply(commands::block_timeout_reply(&commands::table()[*idx as usize])),
                        None => Out::Done,
                    };
                    self.deliver(w.target, vec![out]);
                }
                Out::Done
            }
            Op::Block { .. } | Op::Watch { .. } => Out::Reply(Reply::error("ERR internal: blocking op in a batch")),
            Op::Snapshot | Op::SyncLog => Out::Reply(Reply::error("ERR internal: deferred op in a batch")),
            op => {
                let touched: Vec<Bytes> = match &op {
                    Op::Put(k, _) => vec![k.clone()],
                    Op::Store(items) => items.iter().map(|(k, _)| k.clone()).collect(),
                    _ => Vec::new(),
                };
                let flush = matches!(op, Op::Flush);
                let took = match &op {
                    Op::Take(k) => Some(k.clone()),
                    _ => None,
                };
                let mut shard = self.shard.borrow_mut();
                shard.set_now(store::unix_time_ms());
                let out = exec_shard_op(&mut shard, op);
                shard.finish_command(true);
                let ts = shard.now();
                if flush {
                    self.persist.log(&persist::Record::Flush { ts });
                }
                if let Some(key) = took {
                    if matches!(out, Out::Entry(Some(_))) {
                        self.persist.log(&persist::Record::Image { ts, key, entry: None });
                    }
                }
                for key in &touched {
                    let rec = crate::persistence::image(&mut shard, key);
                    self.persist.log(&rec);
                }
                drop(shard);
                self.mark_ready(touched.iter());
                out
            }
        }
    }

    /// Tells the shard whether to remember expired keys (for `x` events).
    pub fn apply_notify_flags(&self) {
        let flags = self.config.borrow().notify_keyspace_events.clone();
        let on = !flags.is_empty() && (flags.contains('x') || flags.contains('A')) && (flags.contains('K') || flags.contains('E'));
        self.shard.borrow_mut().track_expired = on;
    }

    /// Delivers a message to subscribers on every core without waiting for
    /// the receiver counts (keyspace notifications).
    pub fn publish_everywhere(&self, channel: Bytes, message: Bytes) {
        let limits = self.config.borrow().pubsub_limits();
        self.pubsub.borrow().deliver(&channel, &message, false, limits);
        for c in (0..self.node.cores()).filter(|&c| c != self.id) {
            let _ = self.call_start(c, None, vec![Op::Publish { channel: channel.clone(), message: message.clone(), sharded: false }]);
        }
    }

    /// Enforces this core's share of `maxmemory` before a command that may
    /// grow memory: evicts by policy, or answers -OOM. Inside a multi-core
    /// transaction nothing is evicted (keys must not vanish mid-way).
    fn make_room(&self, shard: &mut Shard, in_tx: bool) -> Result<(), Reply> {
        let cfg = self.config.borrow();
        if cfg.maxmemory == 0 {
            return Ok(());
        }
        let budget = (cfg.maxmemory / self.node.cores() as u64) as usize;
        if shard.used_memory() <= budget {
            return Ok(());
        }
        let policy = store::Policy::parse(&cfg.maxmemory_policy).unwrap_or(store::Policy::NoEviction);
        if !in_tx {
            let mut evicted = Vec::new();
            let room = shard.evict_to(budget, policy, &mut evicted);
            for key in &evicted {
                self.persist.log(&persist::Record::Image { ts: shard.now(), key: key.clone(), entry: None });
            }
            self.notify_dropped("evicted", &evicted);
            if room {
                return Ok(());
            }
        }
        Err(Reply::error("OOM command not allowed when used memory > 'maxmemory'."))
    }

    /// This core's INFO numbers.
    pub fn stats(&self) -> CoreStats {
        let shard = self.shard.borrow();
        CoreStats {
            core: self.id,
            keys: shard.len(),
            expires: shard.volatile_len(),
            hits: shard.stats.keyspace_hits,
            misses: shard.stats.keyspace_misses,
            expired: shard.stats.expired_keys,
            commands: self.commands_processed.get(),
            clients: self.clients.borrow().len(),
            forwarded_out: self.forwarded_out.get(),
            forwarded_in: self.forwarded_in.get(),
            heap_bytes: crate::alloc::thread_allocated(),
            dataset_bytes: shard.used_memory(),
            evicted: shard.stats.evicted_keys,
            blocked: self.blocked_clients(),
            persist: self.persist.stats(),
            pubsub_channels: self.pubsub.borrow().channel_names(false, None).len(),
            pubsub_patterns: self.pubsub.borrow().pattern_names().len(),
        }
    }

    /// Runs `ops` on core `dst` (this core or a peer) on behalf of `tx`, in
    /// order with everything this core sent to `dst` before.
    pub async fn call(&self, dst: usize, tx: Option<TxId>, ops: Vec<Op>) -> Vec<Out> {
        let slot = self.call_start(dst, tx, ops);
        match slot {
            Ok(outs) => outs,
            Err(slot) => slot.take().await,
        }
    }

    /// Starts `ops` on core `dst`: Ok with the outputs when they ran at once
    /// on this core, or the slot that will receive them.
    pub fn call_start(&self, dst: usize, tx: Option<TxId>, ops: Vec<Op>) -> Result<Vec<Out>, Rc<Slot<Vec<Out>>>> {
        // Ops answered later (parked, or by a task) go through `run_deferred`.
        let parks = matches!(ops.as_slice(), [Op::Block { .. }] | [Op::Watch { .. }] | [Op::Snapshot] | [Op::SyncLog]);
        if dst == self.id {
            if self.may_run(tx) && !parks {
                let before = self.persist.appended();
                let outs = self.exec_ops(tx, ops);
                self.drain();
                if self.must_hold(before) {
                    return Err(self.hold_local(outs));
                }
                return Ok(outs);
            }
            let slot = Rc::new(Slot::default());
            self.submit(Deferred { target: Target::Local(slot.clone()), tx, ops });
            return Err(slot);
        }
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let slot = Rc::new(Slot::default());
        self.pending.borrow_mut().insert(id, slot.clone());
        self.forwarded_out.set(self.forwarded_out.get() + forwarded_count(&ops));
        self.push(dst, Msg::Req { id, from: self.id, tx, ops });
        Err(slot)
    }

    /// Runs one op on every core and returns the outputs in core order.
    pub async fn broadcast(&self, tx: Option<TxId>, make: impl Fn() -> Op) -> Vec<Out> {
        let started: Vec<_> = (0..self.node.cores()).map(|c| self.call_start(c, tx, vec![make()])).collect();
        let mut outs = Vec::with_capacity(started.len());
        for s in started {
            let mut v = match s {
                Ok(v) => v,
                Err(slot) => slot.take().await,
            };
            outs.push(v.pop().unwrap_or(Out::Done));
        }
        outs
    }

    /// A fresh transaction id, unique on this node.
    pub fn new_tx(&self) -> TxId {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        ((self.id as u64) << 48) | id
    }

    /// Takes the gates of `cores` (sorted, unique) for `tx`, lowest first.
    pub async fn lock_all(&self, tx: TxId, cores: &[usize]) {
        for &c in cores {
            self.call(c, Some(tx), vec![Op::Lock]).await;
        }
    }

    /// Releases the gates of `cores` held by `tx`, on all of them at once.
    pub async fn unlock_all(&self, tx: TxId, cores: &[usize]) {
        let started: Vec<_> = cores.iter().map(|&c| self.call_start(c, Some(tx), vec![Op::Unlock])).collect();
        for s in started {
            if let Err(slot) = s {
                slot.take().await;
            }
        }
    }

    /// Whether nothing holds or waits for this core's gate (for background work).
    pub fn gate_idle(&self) -> bool {
        let g = self.gate.borrow();
        g.holder.is_none() && g.waiting.is_empty()
    }
}

/// Operations that only touch the shard.
fn exec_shard_op(shard: &mut Shard, op: Op) -> Out {
    match op {
        Op::DbSize => Out::Count(shard.len()),
        Op::Flush => {
            shard.clear();
            Out::Done
        }
        Op::Keys(pattern) => Out::Keys(shard.keys(&pattern)),
        Op::Scan { slot, end, count, filter } => {
            let (keys, next) = shard.scan(slot, end, count, &filter);
            Out::Scan(keys, next)
        }
        Op::RandomKey => Out::RandomKey(shard.len(), shard.random_key()),
        Op::Take(key) => Out::Entry(shard.take(&key)),
        Op::Put(key, entry) => {
            shard.insert_entry(&key, entry);
            Out::Done
        }
        Op::Fetch(keys) => Out::Entries(keys.iter().map(|k| shard.peek(k).map(|e| e.to_entry())).collect()),
        Op::WatchKeys(keys) => Out::Versions(keys.iter().map(|k| shard.watch_key(k)).collect()),
        Op::UnwatchKeys(keys) => {
            keys.iter().for_each(|k| shard.unwatch_key(k));
            Out::Done
        }
        Op::CheckWatch(items) => Out::Flag(items.iter().all(|(k, v)| shard.watch_version(k) == Some(*v))),
        Op::Store(items) => {
            for (key, entry) in items {
                match entry {
                    Some(e) => shard.insert_entry(&key, e),
                    None => {
                        shard.remove(&key);
                    }
                }
            }
            Out::Done
        }
        _ => Out::Done,
    }
}

/// A core's side of the mesh, as its socket driver polls it.
struct MeshInbox(Rc<Core>);

impl crate::net::Inbox for MeshInbox {
    fn poll(&self) -> usize {
        let core = &self.0;
        core.mesh.drain(core.id, |batch| {
            core.prefetch_requests(&batch);
            for msg in batch {
                core.on_message(msg);
            }
        })
    }

    fn prepare_to_sleep(&self) -> bool {
        self.0.mesh.prepare_to_sleep(self.0.id)
    }

    fn awake(&self) {
        self.0.mesh.awake(self.0.id)
    }

    fn wake_fd(&self) -> std::os::fd::RawFd {
        self.0.mesh.wake_fd(self.0.id)
    }
}
