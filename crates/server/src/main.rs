//! redcore-server: a Redis-compatible, thread-per-core, shared-nothing node.
//!
//! Start-up: parse the CLI and the TOML config, then start one glommio
//! executor per core, each pinned to a CPU. Every executor binds the client
//! port with SO_REUSEPORT (the kernel spreads connections over them), owns
//! the shard of one contiguous range of hash slots, and joins a full mesh of
//! cross-core channels for forwarding.
//!
//! Modules: [`config`] (TOML + CLI), [`core`] (per-core runtime, forwarding,
//! gates), [`conn`] (a client connection), [`multi`] (commands spanning
//! cores), [`admin`] (connection-level and node-wide commands), [`alloc`]
//! (memory accounting), [`sync`] (single-core signal and reply slot),
//! [`shutdown`] (SHUTDOWN, SIGTERM and SIGINT).

mod admin;
mod alloc;
mod blocking;
mod cluster_node;
mod config;
mod conn;
mod core;
mod mesh;
mod multi;
mod net;
mod notify;
mod persistence;
mod pubsub;
mod shutdown;
mod sync;
mod txn;

use crate::config::{Cli, Config};
use crate::core::{Core, Node};
use clap::Parser;
use glommio::net::TcpListener;
use glommio::{LocalExecutorBuilder, Placement};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

#[global_allocator]
static GLOBAL: alloc::CountingAlloc = alloc::CountingAlloc;

fn main() {
    let cli = Cli::parse();
    let mut cfg = match Config::load(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("redcore-server: configuration error: {e}");
            std::process::exit(1);
        }
    };
    init_logging(&cfg.log_level);
    // Before any other thread starts: they inherit the blocked signal mask.
    shutdown::handle_signals();
    if let Err(e) = std::fs::create_dir_all(&cfg.dir) {
        eprintln!("redcore-server: cannot create data directory {}: {e}", cfg.dir.display());
        std::process::exit(1);
    }
    // An absolute path: io_uring opens relative to the process's directory
    // at the time of each call, and "." must mean the start directory.
    match std::fs::canonicalize(&cfg.dir) {
        Ok(abs) => cfg.dir = abs,
        Err(e) => {
            eprintln!("redcore-server: cannot resolve data directory {}: {e}", cfg.dir.display());
            std::process::exit(1);
        }
    }
    // Every core binds the client port with SO_REUSEPORT, which would let a
    // second server started on the same port take a share of the first one's
    // connections (each process with its own data). A port some process
    // already listens on fails start-up instead, as it does for Redis. A
    // server that was just killed can leave its listener open for a moment
    // (its io_uring instance is torn down after the process is gone), so a
    // listener gets a few seconds to go away first.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while let Some(addr) = net::listener_on(&cfg.bind, cfg.port) {
        if std::time::Instant::now() >= deadline {
            eprintln!("redcore-server: cannot listen on {}:{}: Address already in use ({addr} is listening)", cfg.bind, cfg.port);
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let cpus = allowed_cpus();
    let cores = if cfg.cores == 0 { default_cores(cpus.len()) } else { cfg.cores };
    let node = Arc::new(Node {
        ranges: slots::SlotRanges::split(cores),
        started: std::time::Instant::now(),
        run_id: run_id(),
        next_client_id: AtomicU64::new(1),
        connected_clients: AtomicUsize::new(0),
        total_connections: AtomicU64::new(0),
        config_file: cli.config.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        loading_cores: AtomicUsize::new(cores),
        persist_ready: AtomicUsize::new(0),
        layout_committed: std::sync::atomic::AtomicBool::new(false),
    });
    let repair = cli.repair_log;
    tracing::info!(cores, port = cfg.port, bind = %cfg.bind, version = admin::REDCORE_VERSION, "starting redcore");
    let mesh = match mesh::Mesh::new(cores, cfg.cross_core_channel_capacity.max(16)) {
        Ok(m) => Arc::new(m),
        Err(e) => {
            eprintln!("redcore-server: cannot create the cross-core mesh: {e}");
            std::process::exit(1);
        }
    };
    let (ready_tx, ready_rx) = mpsc::channel::<Result<usize, String>>();
    let mut handles = Vec::new();
    for id in 0..cores {
        let cpu = cpus[id % cpus.len()];
        let (node, mesh, cfg, ready) = (node.clone(), mesh.clone(), cfg.clone(), ready_tx.clone());
        let builder = LocalExecutorBuilder::new(Placement::Fixed(cpu))
            .name(&format!("core-{id}"))
            .spin_before_park(Duration::from_micros(cfg.spin_before_park_us));
        let handle = builder.spawn(move || async move { run_core(id, node, mesh, cfg, ready, repair).await });
        match handle {
            Ok(h) => handles.push(h),
            Err(e) => {
                eprintln!("redcore-server: cannot start executor for core {id} on cpu {cpu}: {e}");
                std::process::exit(1);
            }
        }
    }
    drop(ready_tx);
    for _ in 0..cores {
        match ready_rx.recv() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                eprintln!("redcore-server: {e}");
                std::process::exit(1);
            }
            Err(_) => {
                eprintln!("redcore-server: a core stopped during start-up");
                std::process::exit(1);
            }
        }
    }
    tracing::info!("Ready to accept connections tcp on {}:{}", cfg.bind, cfg.port);
    for h in handles {
        if h.join().is_err() {
            eprintln!("redcore-server: a core stopped");
            std::process::exit(1);
        }
    }
}

/// The life of one core: join the mesh, listen, accept, expire.
async fn run_core(
    id: usize,
    node: Arc<Node>,
    mesh: Arc<mesh::Mesh>,
    cfg: Config,
    ready: mpsc::Sender<Result<usize, String>>,
    repair: bool,
) {
    net::set_idle_spin(Duration::from_micros(cfg.spin_before_park_us));
    let listener = match TcpListener::bind((cfg.bind.as_str(), cfg.port)) {
        Ok(l) => l,
        Err(e) => {
            let _ = ready.send(Err(format!("cannot listen on {}:{}: {e}", cfg.bind, cfg.port)));
            return;
        }
    };
    let persist = persistence::Persist::new(id, cfg.dir.clone(), cfg.appendonly, repair);
    let core = Core::new(id, node.clone(), cfg, mesh, persist);
    if let Err(e) = core.start_mesh() {
        let _ = ready.send(Err(format!("core {id}: cannot start the cross-core mesh: {e}")));
        return;
    }
    let _ = ready.send(Ok(id));
    // Accept at once: until the data is loaded, commands get -LOADING.
    glommio::spawn_local(accept_loop(core.clone(), listener)).detach();
    if id == 0 {
        glommio::spawn_local(shutdown::watch_signals(core.clone())).detach();
    }
    let started = std::time::Instant::now();
    if let Err(e) = persistence::load(&core).await {
        tracing::error!(core = id, "cannot load data: {e}");
        eprintln!("redcore-server: cannot load data: {e}");
        std::process::exit(1);
    }
    core.apply_notify_flags();
    if id == 0 && core.config.borrow().cluster_enabled {
        if let Err(e) = cluster_node::start(core.clone()).await {
            tracing::error!("cannot start cluster mode: {e}");
            eprintln!("redcore-server: cannot start cluster mode: {e}");
            std::process::exit(1);
        }
    }
    node.loading_cores.fetch_sub(1, Ordering::SeqCst);
    tracing::info!(core = id, keys = core.shard.borrow().len(), ms = started.elapsed().as_millis() as u64, "data loaded");
    glommio::spawn_local(pubsub::run_flusher(core.clone())).detach();
    glommio::spawn_local(persistence::run_log_writer(core.clone())).detach();
    glommio::spawn_local(persistence::run_save_timer(core.clone())).detach();
    start_active_expiry(&core);
    // Keep the executor alive.
    futures_lite::future::pending::<()>().await;
}

async fn accept_loop(core: Rc<Core>, listener: TcpListener) {
    let node = core.node.clone();
    let id = core.id;
    loop {
        match listener.accept().await {
            Ok(stream) => {
                node.total_connections.fetch_add(1, Ordering::Relaxed);
                let n = node.connected_clients.fetch_add(1, Ordering::Relaxed) + 1;
                let max = core.config.borrow().maxclients;
                if n > max {
                    node.connected_clients.fetch_sub(1, Ordering::Relaxed);
                    glommio::spawn_local(reject(stream)).detach();
                    continue;
                }
                match net::Socket::from_glommio(stream) {
                    Ok(socket) => {
                        glommio::spawn_local(conn::serve(core.clone(), socket)).detach();
                    }
                    Err(e) => {
                        node.connected_clients.fetch_sub(1, Ordering::Relaxed);
                        tracing::warn!(core = id, "cannot take over an accepted connection: {e}");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(core = id, "accept failed: {e}");
                glommio::timer::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn reject(mut stream: glommio::net::TcpStream) {
    use futures_lite::AsyncWriteExt;
    let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
    let _ = stream.close().await;
}

/// The active expiry cycle, in a low-share task queue so it yields to clients.
fn start_active_expiry(core: &Rc<Core>) {
    let tq = glommio::executor().create_task_queue(glommio::Shares::Static(50), glommio::Latency::NotImportant, "active-expiry");
    let core = core.clone();
    let task = glommio::spawn_local_into(
        async move {
            loop {
                let every = core.config.borrow().active_expire_interval_ms.max(1);
                glommio::timer::sleep(Duration::from_millis(every)).await;
                // Bounded batches; stop early when the gate is busy so a
                // multi-core command never sees keys vanish mid-way.
                for _ in 0..64 {
                    if !core.gate_idle() {
                        break;
                    }
                    let (reclaimed, expired) = {
                        let mut shard = core.shard.borrow_mut();
                        shard.set_now(store::unix_time_ms());
                        let n = shard.expire_cycle(256);
                        (n, shard.take_expired_events())
                    };
                    if !expired.is_empty() {
                        core.notify_dropped("expired", &expired);
                    }
                    if reclaimed < 256 {
                        break;
                    }
                    glommio::yield_if_needed().await;
                }
            }
        },
        tq,
    );
    match task {
        Ok(t) => {
            t.detach();
        }
        Err(e) => tracing::error!("cannot start active expiry: {e}"),
    }
}

/// One core per CPU the process may run on, but no more than its CPU quota
/// allows (a container's `--cpus`, a Kubernetes CPU limit), which
/// `available_parallelism` reads from the cgroup. Under a smaller quota a
/// core per CPU of the affinity mask would spin on CPU time the quota does
/// not grant, and the kernel would throttle the whole process for the rest
/// of each quota period.
fn default_cores(affinity: usize) -> usize {
    let quota = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(affinity);
    if quota < affinity {
        tracing::info!(cpus = affinity, quota, "fewer cores than CPUs: the CPU quota allows {quota}");
    }
    affinity.min(quota).max(1)
}

/// CPUs this process may run on (its affinity mask), in ascending order.
fn allowed_cpus() -> Vec<usize> {
    let cpus: Vec<usize> = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Cpus_allowed_list:")).map(|l| l["Cpus_allowed_list:".len()..].trim().to_string()))
        .map(|list| parse_cpu_list(&list))
        .unwrap_or_default();
    if cpus.is_empty() {
        (0..std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).collect()
    } else {
        cpus
    }
}

/// Parses "0-3,8,10-11".
fn parse_cpu_list(list: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<usize>().ok()),
        }
    }
    out
}

fn run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    (0..5)
        .map(|i| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(i);
            format!("{:08x}", h.finish() as u32)
        })
        .collect()
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_lists() {
        assert_eq!(super::parse_cpu_list("0-3,8,10-11"), vec![0, 1, 2, 3, 8, 10, 11]);
        assert_eq!(super::parse_cpu_list("1"), vec![1]);
    }
}
