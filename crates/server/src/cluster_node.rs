//! Cluster mode: drives the sans-IO [`cluster::Cluster`] state machine on
//! core 0, carries its bus over TCP, and gives every core the slot map it
//! needs to answer `-MOVED` / `-CROSSSLOT` / `-CLUSTERDOWN`.
//!
//! ```text
//! core 0:  bus listener ─► reader tasks ─► Cluster::handle_message ┐
//!          timer task   ─► Cluster::handle_tick                    ├─► driver task drains poll_output:
//!          Op::ClusterCmd (CLUSTER ... from any core) ─► commands  ┘     ConfigChanged → nodes.conf (first)
//!          Op::ClusterCmd (PUBLISH/SPUBLISH, `publish`) ─► Cluster::publish  Send → link to the peer (dialled lazily,
//!                                                                           by announced hostname when it has one)
//!                                                                         ResetLink → drop that link
//!                                                                         Publish → Op::Publish to every core
//!                                                                         slot/health/role/address changes
//!                                                                           → Op::ClusterView to every core
//! every core: Conn::dispatch asks `check` before running a keyed command
//!             (shard channels of SPUBLISH/SSUBSCRIBE/SUNSUBSCRIBE count as keys).
//! ```
//!
//! A CLUSTER subcommand that changes the configuration (MEET, ADDSLOTS,
//! SET-CONFIG-EPOCH, ..., SAVECONFIG) replies only once nodes.conf with the
//! change is fsynced: core 0 bumps a wanted generation, the driver saves,
//! and `forward` waits for the saved generation to catch up.
//!
//! Keys of slots this node owns stay on the core `Node::ranges` assigns
//! them; the cluster only decides whether this node serves the slot at all.
//! Replication is out of scope: `CLUSTER REPLICATE` makes this node a replica
//! in the gossip (shown in `CLUSTER NODES`, redirects clients to its master)
//! without copying any data.

use crate::conn::Conn;
use crate::core::{Core, Op, Out};
use crate::sync::Signal;
use bytes::{Bytes, BytesMut};
use cluster::{BusAddr, Cluster, ClusterConfig, ClusterHealth, Event, NodeId, Output, PeerInfo};
use commands::args::parse_i64;
use commands::CommandSpec;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use resp::Reply;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The node-wide slot map every core routes by.
#[derive(Debug)]
pub struct ClusterView {
    /// Per slot: index into `addrs` of its owner, `u16::MAX` when unassigned.
    pub owner: Vec<u16>,
    /// `host:port` clients use to reach each node.
    pub addrs: Vec<String>,
    /// Index of this node in `addrs`.
    pub me: u16,
    /// `cluster_state:ok`.
    pub ok: bool,
    /// When this node is a replica: index of its master in `addrs`
    /// (`u16::MAX` otherwise). Shard channels of the master's slots are
    /// served here too, as in Redis.
    pub my_master: u16,
}

/// nodes.conf generations: bumped (on core 0) whenever the configuration
/// must reach the disk, and set by the driver once a save that covers a
/// generation has been fsynced (or has failed). A CLUSTER command that
/// changes the configuration replies only once its generation is saved.
/// One node per process, so process-wide counters are enough.
static CONF_WANTED: AtomicU64 = AtomicU64::new(0);
static CONF_SAVED: AtomicU64 = AtomicU64::new(0);
static CONF_FAILED: AtomicU64 = AtomicU64::new(0);

/// `argv[0]` of the internal [`Op::ClusterCmd`] that hands a PUBLISH or
/// SPUBLISH to core 0 for the bus (no client command name contains NUL).
const PUBLISH_MARKER: &[u8] = b"\0publish";

/// Per-connection cluster flags (READONLY, ASKING).
#[derive(Debug, Default, Clone, Copy)]
pub struct ConnFlags {
    pub readonly: bool,
    pub asking: bool,
}

fn unix_ms() -> u64 {
    (store::unix_time_ms() as u64).max(1)
}

/// The cluster configuration this node's config asks for.
pub fn cluster_config(cfg: &crate::config::Config) -> Result<ClusterConfig, String> {
    let announce_ip = match cfg.cluster_announce_ip.trim() {
        "" => None,
        s => Some(
            s.parse::<IpAddr>()
                .map_err(|_| format!("cluster-announce-ip: invalid IP '{s}'"))?,
        ),
    };
    let bus_port = if cfg.cluster_port == 0 {
        cfg.port
            .checked_add(10000)
            .ok_or("cluster-port: client port + 10000 overflows; set cluster-port")?
    } else {
        cfg.cluster_port
    };
    Ok(ClusterConfig {
        node_timeout_ms: cfg.cluster_node_timeout.max(1),
        require_full_coverage: cfg.cluster_require_full_coverage,
        announce_ip,
        port: cfg.port,
        bus_port,
        hostname: Some(cfg.cluster_announce_hostname.clone()).filter(|h| !h.is_empty()),
        ..ClusterConfig::default()
    })
}

/// Core 0's bus state.
struct Bus {
    core: Rc<Core>,
    cluster: RefCell<Cluster>,
    links: RefCell<HashMap<BusAddr, Rc<Link>>>,
    /// Hostnames announced by the senders of inbound bus connections, by
    /// their announced bus endpoint: lets a reply to a node not in the
    /// table yet (a MEET) or a handshake with it dial the name too.
    hints: RefCell<HashMap<BusAddr, String>>,
    /// Wakes the driver to drain outputs.
    wake: Signal,
    conf_name: String,
}

struct Link {
    /// The peer's announced hostname, when it has one: dialled (and
    /// resolved anew) on every connect instead of the IP.
    host: RefCell<Option<String>>,
    queue: RefCell<VecDeque<Bytes>>,
    ready: Signal,
    closed: Cell<bool>,
}

thread_local! {
    static BUS: RefCell<Option<Rc<Bus>>> = const { RefCell::new(None) };
}

fn bus() -> Option<Rc<Bus>> {
    BUS.with(|b| b.borrow().clone())
}

/// Starts cluster mode on core 0: loads or creates the node, binds the bus
/// port and starts the driver, timer and accept tasks.
pub async fn start(core: Rc<Core>) -> Result<(), String> {
    let cfg = core.config.borrow().clone();
    let ccfg = cluster_config(&cfg)?;
    let bus_port = ccfg.bus_port;
    let path = cfg.dir.join(&cfg.cluster_config_file);
    let seed = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(unix_ms());
        h.write_u32(std::process::id());
        h.finish()
    };
    let now = unix_ms();
    let cluster = match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Cluster::from_nodes_conf(ccfg, seed, now, &text)
            .map_err(|e| format!("{}: {e}", path.display()))?,
        Ok(_) => Cluster::new(ccfg, seed, now),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Cluster::new(ccfg, seed, now),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let listener = glommio::net::TcpListener::bind((cfg.bind.as_str(), bus_port)).map_err(|e| {
        format!(
            "cannot listen on cluster bus port {}:{bus_port}: {e}",
            cfg.bind
        )
    })?;
    let conf = cluster.to_nodes_conf();
    crate::persistence::write_atomically(&cfg.dir, &cfg.cluster_config_file, conf.into_bytes())
        .await?;
    tracing::info!(id = %cluster.myself_id(), bus_port, "cluster mode on");
    let bus = Rc::new(Bus {
        core: core.clone(),
        cluster: RefCell::new(cluster),
        links: RefCell::new(HashMap::new()),
        hints: RefCell::new(HashMap::new()),
        wake: Signal::default(),
        conf_name: cfg.cluster_config_file.clone(),
    });
    BUS.with(|b| *b.borrow_mut() = Some(bus.clone()));
    publish_view(&bus);
    glommio::spawn_local(drive(bus.clone())).detach();
    glommio::spawn_local(tick(bus.clone())).detach();
    glommio::spawn_local(accept(bus.clone(), listener)).detach();
    Ok(())
}

/// Calls the timer at `next_timeout`.
async fn tick(bus: Rc<Bus>) {
    loop {
        let now = unix_ms();
        let due = bus.cluster.borrow().next_timeout();
        if due > now {
            glommio::timer::sleep(Duration::from_millis((due - now).min(100))).await;
            continue;
        }
        bus.cluster.borrow_mut().handle_tick(now);
        bus.wake.notify();
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
}

async fn accept(bus: Rc<Bus>, listener: glommio::net::TcpListener) {
    loop {
        match listener.accept().await {
            Ok(stream) => {
                glommio::spawn_local(read_peer(bus.clone(), stream)).detach();
            }
            Err(e) => {
                tracing::warn!("cluster bus accept failed: {e}");
                glommio::timer::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Reads frames from an inbound bus connection until it closes or sends garbage.
async fn read_peer(bus: Rc<Bus>, mut stream: glommio::net::TcpStream) {
    let peer = PeerInfo {
        src_ip: stream.peer_addr().ok().map(|a| a.ip()),
        local_ip: stream.local_addr().ok().map(|a| a.ip()),
    };
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut scratch = vec![0u8; 16 * 1024];
    let mut hinted = false;
    loop {
        let n = match stream.read(&mut scratch).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&scratch[..n]);
        loop {
            match cluster::wire::frame_len(&buf) {
                Ok(Some(len)) if buf.len() >= len => {
                    let frame = buf.split_to(len);
                    if !hinted {
                        // One sender per connection: learn its hostname once.
                        if let Ok(msg) = cluster::wire::decode(&frame) {
                            hinted = true;
                            let h = msg.header;
                            if let (Some(name), Some(ip)) =
                                (h.hostname.filter(|n| !n.is_empty()), h.ip.or(peer.src_ip))
                            {
                                let mut hints = bus.hints.borrow_mut();
                                if hints.len() >= 4096 {
                                    hints.clear();
                                }
                                hints.insert(
                                    BusAddr {
                                        ip,
                                        port: h.bus_port,
                                    },
                                    name,
                                );
                            }
                        }
                    }
                    bus.cluster
                        .borrow_mut()
                        .handle_message(unix_ms(), peer, &frame);
                    bus.wake.notify();
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::debug!("closing cluster bus connection: {e}");
                    return;
                }
            }
        }
    }
}

/// Drains the state machine's outputs: saves nodes.conf before acting on a
/// batch that changed it, then sends, resets links and publishes the view.
async fn drive(bus: Rc<Bus>) {
    loop {
        bus.wake.wait().await;
        let outs: Vec<Output> = {
            let mut c = bus.cluster.borrow_mut();
            std::iter::from_fn(|| c.poll_output()).collect()
        };
        if outs
            .iter()
            .any(|o| matches!(o, Output::Event(Event::ConfigChanged)))
        {
            CONF_WANTED.fetch_add(1, Ordering::SeqCst);
        }
        if CONF_WANTED.load(Ordering::SeqCst) > CONF_SAVED.load(Ordering::SeqCst) {
            save_config(&bus).await;
        }
        if outs.is_empty() {
            continue;
        }
        let mut view_changed = false;
        for o in outs {
            match o {
                Output::Send {
                    to, node, frame, ..
                } => send(&bus, to, node, frame),
                Output::ResetLink { to, .. } => {
                    if let Some(l) = bus.links.borrow_mut().remove(&to) {
                        l.closed.set(true);
                        l.ready.notify();
                    }
                }
                Output::Event(e) => match e {
                    Event::SlotsChanged
                    | Event::HealthChanged(_)
                    | Event::NodeAddressChanged(_)
                    | Event::RoleChanged(_)
                    | Event::NodeAdded(_)
                    | Event::NodeRemoved(_) => view_changed = true,
                    Event::NodeFailed(id) => {
                        tracing::info!(node = %id, "cluster node flagged FAIL")
                    }
                    Event::NodeFailCleared(id) => {
                        tracing::info!(node = %id, "cluster node FAIL cleared")
                    }
                    Event::Publish {
                        channel,
                        message,
                        sharded,
                    } => {
                        // Deliver to the subscribers on every core of this
                        // node (in arrival order: each core's queue is FIFO).
                        let core = &bus.core;
                        for c in 0..core.node.cores() {
                            let _ = core.call_start(
                                c,
                                None,
                                vec![Op::Publish {
                                    channel: channel.clone(),
                                    message: message.clone(),
                                    sharded,
                                }],
                            );
                        }
                    }
                    _ => {}
                },
            }
        }
        if view_changed {
            publish_view(&bus);
        }
    }
}

/// Writes nodes.conf (temporary file, fsync, rename, directory fsync) and
/// marks the generation it covers as saved (or failed).
async fn save_config(bus: &Bus) {
    let generation = CONF_WANTED.load(Ordering::SeqCst);
    let text = bus.cluster.borrow().to_nodes_conf();
    let dir = bus.core.config.borrow().dir.clone();
    match crate::persistence::write_atomically(&dir, &bus.conf_name, text.into_bytes()).await {
        Ok(()) => {
            CONF_SAVED.fetch_max(generation, Ordering::SeqCst);
        }
        Err(e) => {
            tracing::error!("cannot save the cluster configuration: {e}");
            CONF_FAILED.fetch_max(generation, Ordering::SeqCst);
        }
    }
}

/// Waits (on any core) until nodes.conf generation `generation` is on disk.
async fn wait_saved(generation: u64) -> Result<(), Reply> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if CONF_SAVED.load(Ordering::SeqCst) >= generation {
            return Ok(());
        }
        if CONF_FAILED.load(Ordering::SeqCst) >= generation {
            return Err(Reply::error(
                "ERR error saving the cluster node config, see the server log",
            ));
        }
        if std::time::Instant::now() > deadline {
            return Err(Reply::error("ERR timed out saving the cluster node config"));
        }
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
}

/// Hands a PUBLISH / SPUBLISH that this node delivered locally to the
/// cluster bus: every other node (PUBLISH) or the other nodes of this
/// node's shard (SPUBLISH). Returns at once; frames leave from core 0 in
/// the order this core handed them over.
pub fn publish(core: &Core, channel: &Bytes, message: &Bytes, sharded: bool) {
    if !core.config.borrow().cluster_enabled {
        return;
    }
    let argv = vec![
        Bytes::from_static(PUBLISH_MARKER),
        channel.clone(),
        message.clone(),
        Bytes::from_static(if sharded { b"1" } else { b"0" }),
    ];
    let _ = core.call_start(0, None, vec![Op::ClusterCmd(argv)]);
}

/// Queues a frame on the link to `to`, starting its task if needed.
fn send(bus: &Rc<Bus>, to: BusAddr, node: NodeId, frame: Bytes) {
    // The node's announced hostname; for a node not (fully) known yet, the
    // one its own messages announced for this endpoint.
    let host = match bus.cluster.borrow().node(&node) {
        Some(n) if !n.in_handshake() => n.addr.hostname.clone(),
        _ => bus.hints.borrow().get(&to).cloned(),
    }
    .filter(|h| !h.is_empty());
    let link = {
        let mut links = bus.links.borrow_mut();
        links
            .entry(to)
            .or_insert_with(|| {
                let l = Rc::new(Link {
                    host: RefCell::new(None),
                    queue: RefCell::new(VecDeque::new()),
                    ready: Signal::default(),
                    closed: Cell::new(false),
                });
                glommio::spawn_local(run_link(to, l.clone())).detach();
                l
            })
            .clone()
    };
    *link.host.borrow_mut() = host;
    let mut q = link.queue.borrow_mut();
    // A peer that cannot keep up loses old frames (the protocol tolerates loss).
    if q.len() >= 1024 {
        q.pop_front();
    }
    q.push_back(frame);
    drop(q);
    link.ready.notify();
}

/// One outgoing bus connection: dial, then write queued frames in order;
/// on an error, drop what is queued and dial again when there is more.
async fn run_link(to: BusAddr, link: Rc<Link>) {
    let mut stream: Option<glommio::net::TcpStream> = None;
    loop {
        if link.closed.get() {
            return;
        }
        if link.queue.borrow().is_empty() {
            link.ready.wait().await;
            continue;
        }
        if stream.is_none() {
            let host = link.host.borrow().clone();
            match dial(to, host.as_deref()).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                Err(e) => {
                    tracing::debug!(%to, ?host, "cluster bus connect failed: {e}");
                    link.queue.borrow_mut().clear();
                    glommio::timer::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        }
        let batch: Vec<Bytes> = link.queue.borrow_mut().drain(..).collect();
        let mut buf = BytesMut::with_capacity(batch.iter().map(|b| b.len()).sum());
        for b in &batch {
            buf.extend_from_slice(b);
        }
        if let Some(s) = stream.as_mut() {
            if s.write_all(&buf).await.is_err() {
                stream = None;
            }
        }
    }
}

/// Connects to a peer's bus: by its hostname when it announced one (resolved
/// now, so a peer that came back with a new IP is found again), else by IP.
async fn dial(to: BusAddr, host: Option<&str>) -> Result<glommio::net::TcpStream, String> {
    const TIMEOUT: Duration = Duration::from_millis(1000);
    let addrs: Vec<SocketAddr> = match host {
        None => vec![SocketAddr::new(to.ip, to.port)],
        Some(h) => {
            let resolved = match h.parse::<IpAddr>() {
                Ok(ip) => Ok(vec![SocketAddr::new(ip, to.port)]),
                Err(_) => {
                    // getaddrinfo blocks: run it on glommio's blocking pool.
                    let (name, port) = (h.to_string(), to.port);
                    glommio::executor()
                        .spawn_blocking(move || {
                            use std::net::ToSocketAddrs;
                            (name.as_str(), port)
                                .to_socket_addrs()
                                .map(|a| a.collect::<Vec<_>>())
                        })
                        .await
                }
            };
            match resolved {
                Ok(a) if !a.is_empty() => a,
                Ok(_) => return Err(format!("{h}: no address")),
                Err(e) => return Err(format!("cannot resolve {h}: {e}")),
            }
        }
    };
    let mut last = String::new();
    for a in addrs {
        match glommio::net::TcpStream::connect_timeout(a, TIMEOUT).await {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("{a}: {e}"),
        }
    }
    Err(last)
}

/// Builds the routing view from the state machine and sends it to every core.
fn publish_view(bus: &Bus) {
    let view = Arc::new(build_view(&bus.cluster.borrow(), &bus.core.config.borrow()));
    let core = &bus.core;
    *core.cluster_view.borrow_mut() = Some(view.clone());
    for c in (0..core.node.cores()).filter(|&c| c != core.id) {
        let _ = core.call_start(c, None, vec![Op::ClusterView(view.clone())]);
    }
}

fn endpoint_of(n: &cluster::Node, hostname_first: bool) -> String {
    let host = match (&n.addr.hostname, hostname_first) {
        (Some(h), true) => h.clone(),
        _ => n
            .addr
            .ip
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "?".into()),
    };
    format!("{host}:{}", n.addr.port)
}

fn build_view(c: &Cluster, cfg: &crate::config::Config) -> ClusterView {
    let hostname_first = cfg.cluster_preferred_endpoint_type == "hostname";
    let mut index: HashMap<NodeId, u16> = HashMap::new();
    let mut addrs = Vec::new();
    for n in c.nodes() {
        index.insert(n.id, addrs.len() as u16);
        addrs.push(endpoint_of(n, hostname_first));
    }
    let owner = (0..slots::SLOT_COUNT)
        .map(|s| {
            c.slot_owner(s)
                .and_then(|n| index.get(&n.id).copied())
                .unwrap_or(u16::MAX)
        })
        .collect();
    let me = c.myself();
    let my_master = me
        .master
        .filter(|_| me.is_replica())
        .and_then(|m| index.get(&m).copied())
        .unwrap_or(u16::MAX);
    ClusterView {
        owner,
        addrs,
        me: index.get(&c.myself_id()).copied().unwrap_or(u16::MAX),
        ok: c.health() == ClusterHealth::Ok,
        my_master,
    }
}

/// The cluster's verdict on a command before it runs: `Some(error)` to
/// refuse it (MOVED, CROSSSLOT, CLUSTERDOWN), `None` to run it here.
pub fn check(conn: &mut Conn, spec: &CommandSpec, argv: &[Bytes]) -> Option<Reply> {
    if !conn.core.config.borrow().cluster_enabled {
        return None;
    }
    let asking = std::mem::take(&mut conn.cluster_flags.asking);
    if spec.name == "asking" {
        conn.cluster_flags.asking = asking;
    }
    // Shard channels route like keys (Redis 7.0 gives these commands key
    // specs): SPUBLISH's channel, every channel of SSUBSCRIBE / SUNSUBSCRIBE.
    let shard_pubsub = matches!(spec.name, "spublish" | "ssubscribe" | "sunsubscribe");
    let mut keys: Box<dyn Iterator<Item = usize>> = match spec.name {
        "spublish" => Box::new(std::iter::once(1)),
        "ssubscribe" | "sunsubscribe" => Box::new(1..argv.len()),
        _ => Box::new(spec.key_indexes(argv.len())),
    };
    let first = keys.next()?;
    let slot = slots::key_slot(&argv[first]);
    if keys.any(|i| slots::key_slot(&argv[i]) != slot) {
        return Some(Reply::error(
            "CROSSSLOT Keys in request don't hash to the same slot",
        ));
    }
    let view = conn.core.cluster_view.borrow().clone();
    let Some(view) = view else {
        return Some(Reply::error("CLUSTERDOWN The cluster is down"));
    };
    let readonly = spec.has(commands::FLAG_READONLY);
    if !(view.ok || readonly && conn.core.config.borrow().cluster_allow_reads_when_down) {
        return Some(Reply::error("CLUSTERDOWN The cluster is down"));
    }
    let _ = asking; // No slot migration yet: ASKING has no importing slot to open.
    match view.owner[slot as usize] {
        u16::MAX => Some(Reply::error("CLUSTERDOWN Hash slot not served")),
        o if o == view.me => None,
        // A replica serves its master's shard channels (Redis 7.0).
        o if shard_pubsub && o == view.my_master => None,
        o => Some(Reply::error(format!(
            "MOVED {slot} {}",
            view.addrs[o as usize]
        ))),
    }
}

fn ok_or_err(r: Result<(), cluster::ClusterError>) -> Reply {
    match r {
        Ok(()) => Reply::ok(),
        Err(e) => Reply::error(format!("ERR {e}")),
    }
}

fn bulk(s: impl Into<String>) -> Reply {
    Reply::Bulk(Bytes::from(s.into()))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn parse_slot(b: &[u8]) -> Result<u16, Reply> {
    match parse_i64(b) {
        Some(n) if (0..slots::SLOT_COUNT as i64).contains(&n) => Ok(n as u16),
        _ => Err(Reply::error("ERR Invalid or out of range slot")),
    }
}

fn sub_arity(sub: &[u8]) -> Reply {
    Reply::error(format!(
        "ERR wrong number of arguments for 'cluster|{}' command",
        text(sub).to_ascii_lowercase()
    ))
}

/// CLUSTER, READONLY, READWRITE and ASKING, on any core.
///
/// ```text
/// CLUSTER KEYSLOT key | COUNTKEYSINSLOT slot | GETKEYSINSLOT slot count
/// CLUSTER MYID | MYSHARDID | INFO | NODES | SLOTS | SHARDS | REPLICAS id | LINKS | COUNT-FAILURE-REPORTS id
/// CLUSTER MEET ip port [cport] | ADDSLOTS slot... | ADDSLOTSRANGE start end... | DELSLOTS slot...
///         DELSLOTSRANGE start end... | FORGET id | RESET [HARD|SOFT] | SET-CONFIG-EPOCH n | BUMPEPOCH
///         REPLICATE id | FLUSHSLOTS | SAVECONFIG
/// ```
pub async fn command(conn: &mut Conn, name: &str, argv: &[Bytes]) -> Reply {
    let core = conn.core.clone();
    if !core.config.borrow().cluster_enabled {
        return Reply::error("ERR This instance has cluster support disabled");
    }
    match name {
        "readonly" => {
            conn.cluster_flags.readonly = true;
            return Reply::ok();
        }
        "readwrite" => {
            conn.cluster_flags.readonly = false;
            return Reply::ok();
        }
        "asking" => {
            conn.cluster_flags.asking = true;
            return Reply::ok();
        }
        _ => {}
    }
    let sub = argv[1].to_ascii_uppercase();
    match sub.as_slice() {
        b"KEYSLOT" => {
            if argv.len() != 3 {
                return sub_arity(&argv[1]);
            }
            Reply::Int(slots::key_slot(&argv[2]) as i64)
        }
        b"COUNTKEYSINSLOT" | b"GETKEYSINSLOT" => {
            let want = if sub.as_slice() == b"COUNTKEYSINSLOT" {
                3
            } else {
                4
            };
            if argv.len() != want {
                return sub_arity(&argv[1]);
            }
            let slot = match parse_slot(&argv[2]) {
                Ok(s) => s,
                Err(e) => return e,
            };
            let max = if want == 4 {
                match parse_i64(&argv[3]) {
                    Some(n) if n >= 0 => n as usize,
                    _ => return Reply::error("ERR Invalid number of keys"),
                }
            } else {
                usize::MAX
            };
            let owner = core.node.ranges.owner_of(slot);
            let outs = core
                .call(
                    owner,
                    conn.active_tx,
                    vec![Op::Scan {
                        slot,
                        end: slot + 1,
                        count: usize::MAX,
                        filter: Default::default(),
                    }],
                )
                .await;
            let keys = match outs.into_iter().next() {
                Some(Out::Scan(keys, _)) => keys,
                _ => Vec::new(),
            };
            if want == 3 {
                Reply::Int(keys.len() as i64)
            } else {
                Reply::Array(keys.into_iter().take(max).map(Reply::Bulk).collect())
            }
        }
        b"REPLICATE" | b"RESET" | b"FLUSHSLOTS" => {
            // These need an empty keyspace (Redis: a master with keys cannot become a replica).
            let keys: usize = core
                .broadcast(conn.active_tx, || Op::DbSize)
                .await
                .into_iter()
                .map(|o| if let Out::Count(n) = o { n } else { 0 })
                .sum();
            if keys > 0 {
                return match sub.as_slice() {
                    b"REPLICATE" => Reply::error(
                        "ERR To set a master the node must be empty and without assigned slots.",
                    ),
                    b"RESET" => Reply::error(
                        "ERR CLUSTER RESET can't be called with master nodes containing keys",
                    ),
                    _ => Reply::error("ERR DB must be empty to perform CLUSTER FLUSHSLOTS."),
                };
            }
            forward(&core, argv).await
        }
        _ => forward(&core, argv).await,
    }
}

/// Subcommands that change the node's configuration: their reply waits
/// until nodes.conf with the change is on disk (as Redis saves it before
/// answering).
fn changes_config(sub: &[u8]) -> bool {
    matches!(
        sub,
        b"MEET"
            | b"ADDSLOTS"
            | b"ADDSLOTSRANGE"
            | b"DELSLOTS"
            | b"DELSLOTSRANGE"
            | b"FORGET"
            | b"RESET"
            | b"SET-CONFIG-EPOCH"
            | b"BUMPEPOCH"
            | b"REPLICATE"
            | b"FLUSHSLOTS"
            | b"SAVECONFIG"
    )
}

async fn forward(core: &Core, argv: &[Bytes]) -> Reply {
    let outs = core
        .call(0, None, vec![Op::ClusterCmd(argv.to_vec())])
        .await;
    let reply = outs
        .into_iter()
        .next()
        .map(Out::into_reply)
        .unwrap_or(Reply::Nil);
    if matches!(reply, Reply::Error(_)) || !changes_config(&argv[1].to_ascii_uppercase()) {
        return reply;
    }
    // Core 0 bumped the wanted generation before answering; wait for it.
    match wait_saved(CONF_WANTED.load(Ordering::SeqCst)).await {
        Ok(()) => reply,
        Err(e) => e,
    }
}

/// Runs a CLUSTER subcommand against the state machine (core 0, synchronously).
pub fn run_on_core0(core: &Core, argv: &[Bytes]) -> Reply {
    let Some(bus) = bus() else {
        return Reply::error("ERR This instance has cluster support disabled");
    };
    if argv[0] == PUBLISH_MARKER {
        // From `publish` (any core): send on the bus.
        let (channel, message, sharded) =
            (argv[1].clone(), argv[2].clone(), argv[3][..] == b"1"[..]);
        bus.cluster
            .borrow_mut()
            .publish(unix_ms(), channel, message, sharded);
        bus.wake.notify();
        return Reply::ok();
    }
    let reply = {
        let mut c = bus.cluster.borrow_mut();
        run_sub(&mut c, core, argv)
    };
    if !matches!(reply, Reply::Error(_)) && changes_config(&argv[1].to_ascii_uppercase()) {
        // The driver saves before acting on the outputs; `forward` waits.
        CONF_WANTED.fetch_add(1, Ordering::SeqCst);
    }
    bus.wake.notify();
    reply
}

fn node_id_arg(b: &[u8]) -> Result<NodeId, Reply> {
    NodeId::parse(b).ok_or_else(|| Reply::error(format!("ERR Unknown node {}", text(b))))
}

fn slot_args(args: &[Bytes]) -> Result<Vec<u16>, Reply> {
    args.iter().map(|a| parse_slot(a)).collect()
}

fn range_args(args: &[Bytes]) -> Result<Vec<(u16, u16)>, Reply> {
    let s = slot_args(args)?;
    Ok(s.chunks(2).map(|p| (p[0], p[1])).collect())
}

fn endpoint_reply(e: &cluster::Endpoint, cfg: &crate::config::Config) -> Reply {
    let ip = e.ip.map(|i| i.to_string()).unwrap_or_default();
    let hostname = e.hostname.clone().unwrap_or_default();
    let by_host = cfg.cluster_preferred_endpoint_type == "hostname";
    let preferred = if by_host {
        if hostname.is_empty() {
            "?".to_string()
        } else {
            hostname.clone()
        }
    } else {
        ip.clone()
    };
    let mut meta = Vec::new();
    if by_host {
        meta.push((bulk("ip"), bulk(ip)));
    } else if !hostname.is_empty() {
        meta.push((bulk("hostname"), bulk(hostname)));
    }
    Reply::Array(vec![
        bulk(preferred),
        Reply::Int(e.port as i64),
        bulk(e.id.to_string()),
        Reply::Map(meta),
    ])
}

fn run_sub(c: &mut Cluster, core: &Core, argv: &[Bytes]) -> Reply {
    let now = unix_ms();
    let sub = argv[1].to_ascii_uppercase();
    let args = &argv[2..];
    let cfg = core.config.borrow();
    let arity = |ok: bool| if ok { None } else { Some(sub_arity(&argv[1])) };
    macro_rules! need {
        ($ok:expr) => {
            if let Some(e) = arity($ok) {
                return e;
            }
        };
    }
    match sub.as_slice() {
        b"MYID" => {
            need!(args.is_empty());
            bulk(c.myself_id().to_string())
        }
        b"MYSHARDID" => {
            need!(args.is_empty());
            let me = c.myself();
            bulk(
                me.master
                    .filter(|_| me.is_replica())
                    .unwrap_or(me.id)
                    .to_string(),
            )
        }
        b"INFO" => {
            need!(args.is_empty());
            Reply::Verbatim(Bytes::from(c.info().render()))
        }
        b"NODES" => {
            need!(args.is_empty());
            Reply::Verbatim(Bytes::from(c.nodes_text()))
        }
        b"REPLICAS" | b"SLAVES" => {
            need!(args.len() == 1);
            let id = match node_id_arg(&args[0]) {
                Ok(id) => id,
                Err(e) => return e,
            };
            match c.node(&id) {
                None => Reply::error(format!("ERR Unknown node {}", text(&args[0]))),
                Some(n) if n.is_replica() => Reply::error("ERR The specified node is not a master"),
                Some(_) => Reply::Array(
                    c.replicas_of(&id)
                        .into_iter()
                        .map(|r| bulk(format!("{}\n", c.node_line(r))))
                        .collect(),
                ),
            }
        }
        b"SLOTS" => {
            need!(args.is_empty());
            Reply::Array(
                c.slot_ranges()
                    .iter()
                    .map(|r| {
                        let mut item = vec![
                            Reply::Int(r.start as i64),
                            Reply::Int(r.end as i64),
                            endpoint_reply(&r.master, &cfg),
                        ];
                        item.extend(r.replicas.iter().map(|e| endpoint_reply(e, &cfg)));
                        Reply::Array(item)
                    })
                    .collect(),
            )
        }
        b"SHARDS" => {
            need!(args.is_empty());
            let by_host = cfg.cluster_preferred_endpoint_type == "hostname";
            Reply::Array(
                c.shards()
                    .iter()
                    .map(|s| {
                        let slots = s
                            .slots
                            .iter()
                            .flat_map(|&(a, b)| [Reply::Int(a as i64), Reply::Int(b as i64)])
                            .collect();
                        let nodes = s
                            .nodes
                            .iter()
                            .map(|n| {
                                let e = &n.endpoint;
                                let ip = e.ip.map(|i| i.to_string()).unwrap_or_default();
                                let endpoint = match (&e.hostname, by_host) {
                                    (Some(h), true) => h.clone(),
                                    (None, true) => "?".into(),
                                    _ => ip.clone(),
                                };
                                let mut m = vec![
                                    (bulk("id"), bulk(e.id.to_string())),
                                    (bulk("port"), Reply::Int(e.port as i64)),
                                    (bulk("ip"), bulk(ip)),
                                    (bulk("endpoint"), bulk(endpoint)),
                                ];
                                if let Some(h) = &e.hostname {
                                    m.push((bulk("hostname"), bulk(h.clone())));
                                }
                                let role = match n.role {
                                    cluster::Role::Master => "master",
                                    cluster::Role::Replica => "replica",
                                };
                                let health = match n.health {
                                    cluster::NodeHealth::Online => "online",
                                    cluster::NodeHealth::Failed => "failed",
                                };
                                m.push((bulk("role"), bulk(role)));
                                m.push((
                                    bulk("replication-offset"),
                                    Reply::Int(n.repl_offset as i64),
                                ));
                                m.push((bulk("health"), bulk(health)));
                                Reply::Map(m)
                            })
                            .collect();
                        Reply::Map(vec![
                            (bulk("slots"), Reply::Array(slots)),
                            (bulk("nodes"), Reply::Array(nodes)),
                        ])
                    })
                    .collect(),
            )
        }
        b"LINKS" => {
            need!(args.is_empty());
            // Per-link buffers are not tracked yet.
            Reply::Array(Vec::new())
        }
        b"COUNT-FAILURE-REPORTS" => {
            need!(args.len() == 1);
            let id = match node_id_arg(&args[0]) {
                Ok(id) => id,
                Err(e) => return e,
            };
            match c.failure_report_count(now, &id) {
                Ok(n) => Reply::Int(n as i64),
                Err(e) => Reply::error(format!("ERR {e}")),
            }
        }
        b"MEET" => {
            need!(args.len() == 2 || args.len() == 3);
            let ip_text = text(&args[0]);
            let Ok(ip) = ip_text.parse::<IpAddr>() else {
                return Reply::error(format!(
                    "ERR Invalid node address specified: {ip_text}:{}",
                    text(&args[1])
                ));
            };
            let Some(port) = parse_i64(&args[1]).filter(|p| (0..=65535).contains(p)) else {
                return Reply::error(format!(
                    "ERR Invalid base port specified: {}",
                    text(&args[1])
                ));
            };
            let cport = match args.get(2) {
                None => None,
                Some(a) => match parse_i64(a).filter(|p| (0..=65535).contains(p)) {
                    Some(p) => Some(p as u16),
                    None => {
                        return Reply::error(format!("ERR Invalid bus port specified: {}", text(a)))
                    }
                },
            };
            ok_or_err(c.meet(now, ip, port as u16, cport))
        }
        b"ADDSLOTS" | b"DELSLOTS" => {
            need!(!args.is_empty());
            let slots = match slot_args(args) {
                Ok(s) => s,
                Err(e) => return e,
            };
            ok_or_err(if sub.as_slice() == b"ADDSLOTS" {
                c.add_slots(now, &slots)
            } else {
                c.del_slots(now, &slots)
            })
        }
        b"ADDSLOTSRANGE" | b"DELSLOTSRANGE" => {
            need!(!args.is_empty() && args.len().is_multiple_of(2));
            let ranges = match range_args(args) {
                Ok(r) => r,
                Err(e) => return e,
            };
            ok_or_err(if sub.as_slice() == b"ADDSLOTSRANGE" {
                c.add_slot_ranges(now, &ranges)
            } else {
                c.del_slot_ranges(now, &ranges)
            })
        }
        b"FORGET" => {
            need!(args.len() == 1);
            match node_id_arg(&args[0]) {
                Ok(id) => ok_or_err(c.forget(now, &id)),
                Err(e) => e,
            }
        }
        b"RESET" => {
            need!(args.len() <= 1);
            let hard = match args.first().map(|a| a.to_ascii_uppercase()) {
                None => false,
                Some(a) if a == b"SOFT" => false,
                Some(a) if a == b"HARD" => true,
                Some(_) => return Reply::error("ERR syntax error"),
            };
            c.reset(now, hard);
            Reply::ok()
        }
        b"SET-CONFIG-EPOCH" => {
            need!(args.len() == 1);
            match parse_i64(&args[0]) {
                Some(n) if n >= 0 => ok_or_err(c.set_config_epoch(now, n as u64)),
                Some(_) => Reply::error(format!(
                    "ERR Invalid config epoch specified: {}",
                    text(&args[0])
                )),
                None => Reply::error("ERR value is not an integer or out of range"),
            }
        }
        b"BUMPEPOCH" => {
            need!(args.is_empty());
            Reply::Simple(Bytes::from(c.bump_epoch(now).to_string()))
        }
        b"REPLICATE" => {
            need!(args.len() == 1);
            match node_id_arg(&args[0]) {
                Ok(id) => ok_or_err(c.replicate(now, &id)),
                Err(e) => e,
            }
        }
        b"FLUSHSLOTS" => {
            need!(args.is_empty());
            c.flush_slots(now);
            Reply::ok()
        }
        b"SAVECONFIG" => {
            need!(args.is_empty());
            // As Redis, the reply means the file is on disk: `run_on_core0`
            // asks the driver for a save and `forward` waits for it.
            Reply::ok()
        }
        b"HELP" => Reply::Array(
            [
                "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "ADDSLOTS <slot> [<slot> ...]",
                "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
                "BUMPEPOCH",
                "COUNT-FAILURE-REPORTS <node-id>",
                "COUNTKEYSINSLOT <slot>",
                "DELSLOTS <slot> [<slot> ...]",
                "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
                "FLUSHSLOTS",
                "FORGET <node-id>",
                "GETKEYSINSLOT <slot> <count>",
                "INFO",
                "KEYSLOT <key>",
                "LINKS",
                "MEET <ip> <port> [<bus-port>]",
                "MYID",
                "MYSHARDID",
                "NODES",
                "REPLICATE <node-id>",
                "REPLICAS <node-id>",
                "RESET [HARD|SOFT]",
                "SAVECONFIG",
                "SET-CONFIG-EPOCH <epoch>",
                "SHARDS",
                "SLOTS",
            ]
            .iter()
            .map(|s| Reply::simple(s))
            .collect(),
        ),
        _ => Reply::error(format!(
            "ERR unknown subcommand '{}'. Try CLUSTER HELP.",
            text(&argv[1])
        )),
    }
}
