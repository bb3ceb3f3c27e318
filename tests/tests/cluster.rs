//! Cluster mode against real processes: six `redcore-server --cluster-enabled
//! yes` nodes formed with `redis-cli --cluster create`, clients following
//! MOVED (redis-cli -c, redis-py's RedisCluster), and failure detection when a
//! master dies and comes back; PUBLISH / SPUBLISH across nodes, peers
//! dialled by announced hostname, the redis crate's cluster client, and
//! nodes.conf saved before a configuration command replies.
//!
//! The nodes are started here rather than through `Server` because a node
//! must come back on the same ports with the same data directory (its
//! nodes.conf keeps its id), and the bus port is given explicitly.

use redcore_tests::{data_dir, redcore_bin, redis_cli_available, wait_until};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// cluster-node-timeout used by these tests, ms.
const NODE_TIMEOUT_MS: u64 = 2000;
/// Largest one-way bus delay assumed on loopback, ms.
const MAX_DELAY_MS: u64 = 50;

/// `cluster::fail_detection_bound`: `2·T + 3·P + 4·d` (P = 100 ms timer).
fn fail_detection_bound() -> Duration {
    Duration::from_millis(2 * NODE_TIMEOUT_MS + 3 * 100 + 4 * MAX_DELAY_MS)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct ClusterNode {
    port: u16,
    bus: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Extra TOML configuration (passed with `--config`).
    config: Option<String>,
}

impl ClusterNode {
    fn new() -> ClusterNode {
        let dir = data_dir();
        std::fs::create_dir_all(&dir).unwrap();
        ClusterNode {
            port: free_port(),
            bus: free_port(),
            dir,
            child: None,
            config: None,
        }
    }

    fn with_config(toml: &str) -> ClusterNode {
        let mut n = ClusterNode::new();
        n.config = Some(toml.to_string());
        n
    }

    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .unwrap();
        let child = Command::new(redcore_bin())
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--cores",
                "2",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .args(
                self.config
                    .as_ref()
                    .map(|toml| {
                        let path = self.dir.join("redcore.toml");
                        std::fs::write(&path, toml).unwrap();
                        vec!["--config".to_string(), path.display().to_string()]
                    })
                    .unwrap_or_default(),
            )
            .args([
                "--cluster-enabled",
                "yes",
                "--cluster-port",
                &self.bus.to_string(),
            ])
            .args(["--cluster-node-timeout", &NODE_TIMEOUT_MS.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn redcore-server");
        self.child = Some(child);
        let port = self.port;
        assert!(
            wait_until(Duration::from_secs(30), || cli(port, &["PING"])
                .map(|o| o.trim() == "PONG")
                .unwrap_or(false)),
            "node on {port} did not start:\n{}",
            self.log()
        );
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn nodes(&self) -> String {
        cli(self.port, &["CLUSTER", "NODES"]).unwrap_or_default()
    }

    fn myid(&self) -> String {
        cli(self.port, &["CLUSTER", "MYID"])
            .unwrap_or_default()
            .trim()
            .to_string()
    }
}

impl Drop for ClusterNode {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Cluster tests start up to six 2-core servers each: on a small machine
/// several at once starve one another, so they run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs redis-cli against `port`; its stdout, or None when it failed.
fn cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("timeout")
        .args(["10", "redis-cli", "-p", &port.to_string()])
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `redis-cli -c -p port` with `input` (one command a line) on stdin.
/// The input is written from another thread: redis-cli's output (redirect
/// notes included) can fill the stdout pipe before all input is read.
fn cli_cluster_pipe(port: u16, input: &str) -> String {
    let mut child = Command::new("timeout")
        .args(["120", "redis-cli", "-c", "-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-cli");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().expect("write redis-cli input");
    assert!(
        out.status.success(),
        "redis-cli -c failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A node's view of the cluster with volatile fields dropped: per node
/// (id, address, flags without `myself`, master, slots).
fn node_table(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let flags: Vec<&str> = f[2].split(',').filter(|x| *x != "myself").collect();
            format!(
                "{} {} {} {} {}",
                f[0],
                f[1],
                flags.join(","),
                f[3],
                f[8..].join(" ")
            )
        })
        .collect()
}

/// Flags of node `id` as `observer` sees it.
fn flags_of(observer: &ClusterNode, id: &str) -> Option<String> {
    observer
        .nodes()
        .lines()
        .find(|l| l.starts_with(id))
        .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
}

fn skip(why: &str) -> bool {
    eprintln!("!!! SKIPPED: {why} !!!");
    true
}

/// Starts six nodes and forms a cluster of three masters with one replica each.
fn form_cluster() -> Vec<ClusterNode> {
    let mut nodes: Vec<ClusterNode> = (0..6).map(|_| ClusterNode::new()).collect();
    for n in nodes.iter_mut() {
        n.start();
    }
    let mut args: Vec<String> = vec!["--cluster".into(), "create".into()];
    args.extend(nodes.iter().map(|n| n.addr()));
    args.extend(["--cluster-replicas", "1", "--cluster-yes"].map(String::from));
    let out = Command::new("timeout")
        .arg("120")
        .arg("redis-cli")
        .args(&args)
        .output()
        .expect("run redis-cli --cluster create");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("All 16384 slots covered"),
        "cluster create failed:\n{stdout}\n{}\n--- node 0 log ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        nodes[0].log()
    );
    // Every node agrees on the whole table and the cluster is up.
    let ok = wait_until(Duration::from_secs(20), || {
        let tables: Vec<_> = nodes.iter().map(|n| node_table(&n.nodes())).collect();
        tables.iter().all(|t| t.len() == 6 && *t == tables[0])
            && nodes.iter().all(|n| {
                cli(n.port, &["CLUSTER", "INFO"])
                    .unwrap_or_default()
                    .contains("cluster_state:ok")
            })
    });
    assert!(
        ok,
        "nodes disagree:\n{}",
        nodes
            .iter()
            .map(|n| n.nodes())
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    nodes
}

#[test]
fn cluster_create_check_and_redirects() {
    let _one_at_a_time = serial();
    if !redis_cli_available() && skip("redis-cli is not installed") {
        return;
    }
    let nodes = form_cluster();
    let check = Command::new("timeout")
        .args(["60", "redis-cli", "--cluster", "check", &nodes[0].addr()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && text.contains("[OK] All 16384 slots covered."),
        "cluster check:\n{text}"
    );
    assert!(
        text.contains("[OK] All nodes agree about slots configuration."),
        "cluster check:\n{text}"
    );

    // 10,000 keys written and read back through redirects; then a sample
    // read starting at every node in turn.
    let total = 10_000;
    let sets: String = (0..total).map(|i| format!("SET key:{i} value:{i}\n")).collect();
    let out = cli_cluster_pipe(nodes[1].port, &sets);
    assert_eq!(out.lines().filter(|l| l.trim() == "OK").count(), total, "{out}");
    let gets: String = (0..total).map(|i| format!("GET key:{i}\n")).collect();
    let out = cli_cluster_pipe(nodes[2].port, &gets);
    let values: Vec<&str> = out.lines().filter(|l| l.starts_with("value:")).collect();
    let want: Vec<String> = (0..total).map(|i| format!("value:{i}")).collect();
    assert_eq!(values, want, "10,000 GETs via {}", nodes[2].port);
    let n = 300;
    for node in &nodes {
        let gets: String = (0..n).map(|i| format!("GET key:{i}\n")).collect();
        let out = cli_cluster_pipe(node.port, &gets);
        let values: Vec<&str> = out.lines().filter(|l| l.starts_with("value:")).collect();
        let want: Vec<String> = (0..n).map(|i| format!("value:{i}")).collect();
        assert_eq!(values, want, "GETs via {}", node.port);
    }

    // Plain clients see MOVED, CROSSSLOT, and the keys of their slots.
    let master = &nodes[0];
    let slot = |k: &str| {
        cli(master.port, &["CLUSTER", "KEYSLOT", k])
            .unwrap()
            .trim()
            .parse::<u16>()
            .unwrap()
    };
    // redis-cli gives the first address slots 0-5460.
    let owned = |s: u16| s < 5461;
    let remote = (0..)
        .map(|i| format!("k{i}"))
        .find(|k| !owned(slot(k)))
        .unwrap();
    let moved = cli(master.port, &["GET", &remote]).unwrap();
    assert!(
        moved.starts_with(&format!("MOVED {} 127.0.0.1:", slot(&remote))),
        "{moved}"
    );
    let cross = cli(master.port, &["MSET", "a", "1", "b", "2"]).unwrap();
    assert!(cross.contains("CROSSSLOT"), "{cross}");
    // A key of this master in a slot none of the 10,000 keys above uses.
    let used: std::collections::HashSet<u16> = (0..total).map(|i| slots::key_slot(format!("key:{i}").as_bytes())).collect();
    let local = (0..)
        .map(|i| format!("k{i}"))
        .find(|k| owned(slot(k)) && !used.contains(&slots::key_slot(k.as_bytes())))
        .unwrap();
    assert_eq!(
        cli(master.port, &["SET", &local, "x"]).unwrap().trim(),
        "OK"
    );
    assert_eq!(
        cli(
            master.port,
            &["CLUSTER", "COUNTKEYSINSLOT", &slot(&local).to_string()]
        )
        .unwrap()
        .trim(),
        "1"
    );
    let keys = cli(
        master.port,
        &["CLUSTER", "GETKEYSINSLOT", &slot(&local).to_string(), "10"],
    )
    .unwrap();
    assert_eq!(keys.trim(), local);
    assert!(cli(master.port, &["INFO", "cluster"])
        .unwrap()
        .contains("cluster_enabled:1"));
    assert_eq!(cli(master.port, &["READONLY"]).unwrap().trim(), "OK");
    assert_eq!(cli(master.port, &["ASKING"]).unwrap().trim(), "OK");
}

#[test]
fn redis_py_cluster_client() {
    let _one_at_a_time = serial();
    if !redis_cli_available() && skip("redis-cli is not installed") {
        return;
    }
    let has_py = Command::new("python3")
        .args(["-c", "import redis.cluster"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !has_py && skip("redis-py is not installed (pip install redis)") {
        return;
    }
    let nodes = form_cluster();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("py/cluster.py");
    let out = Command::new("timeout")
        .arg("120")
        .arg("python3")
        .arg(&script)
        .arg(nodes[2].port.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cluster.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn dead_master_is_failed_then_cleared() {
    let _one_at_a_time = serial();
    if !redis_cli_available() && skip("redis-cli is not installed") {
        return;
    }
    let mut nodes = form_cluster();
    // A master with slots.
    let victim = (0..6)
        .find(|&i| {
            flags_of(&nodes[i], &nodes[i].myid())
                .map(|f| f.contains("master"))
                .unwrap_or(false)
        })
        .unwrap();
    let id = nodes[victim].myid();
    let killed_at = Instant::now();
    nodes[victim].kill();
    let bound = fail_detection_bound();
    let others: Vec<usize> = (0..6).filter(|&i| i != victim).collect();
    let failed = wait_until(bound + Duration::from_secs(2), || {
        others.iter().all(|&i| {
            flags_of(&nodes[i], &id)
                .map(|f| f.split(',').any(|x| x == "fail"))
                .unwrap_or(false)
        })
    });
    let took = killed_at.elapsed();
    assert!(
        failed,
        "not FAIL everywhere after {took:?}:\n{}",
        others
            .iter()
            .map(|&i| nodes[i].nodes())
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    // The polling itself takes time (redis-cli per node): allow 1 s of it.
    assert!(
        took <= bound + Duration::from_secs(1),
        "FAIL took {took:?}, bound {bound:?}"
    );

    // Back with the same directory: same id, and the flag clears.
    nodes[victim].start();
    assert_eq!(nodes[victim].myid(), id, "nodes.conf did not keep the id");
    // A master with slots is cleared once its FAIL is 2·T old, within T/2 + P + 2·d after that.
    let clear =
        Duration::from_millis(2 * NODE_TIMEOUT_MS + NODE_TIMEOUT_MS / 2 + 100 + 2 * MAX_DELAY_MS)
            + Duration::from_secs(3);
    let cleared = wait_until(clear, || {
        others.iter().all(|&i| {
            flags_of(&nodes[i], &id)
                .map(|f| !f.contains("fail"))
                .unwrap_or(false)
        })
    });
    assert!(
        cleared,
        "FAIL not cleared:\n{}",
        others
            .iter()
            .map(|&i| nodes[i].nodes())
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    assert!(wait_until(Duration::from_secs(10), || cli(
        nodes[0].port,
        &["CLUSTER", "INFO"]
    )
    .unwrap_or_default()
    .contains("cluster_state:ok")));
}

/// A raw RESP connection (for subscribers: replies arrive as pushes).
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    fn send(&mut self, args: &[&str]) {
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out += &format!("${}\r\n{a}\r\n", a.len());
        }
        self.stream.write_all(out.as_bytes()).unwrap();
    }

    /// Reads until what arrived (since the last call) contains `want`;
    /// returns all of it, or None after `timeout`.
    fn expect(&mut self, want: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            if text.contains(want) {
                self.buf.clear();
                return Some(text);
            }
            if Instant::now() >= deadline {
                return None;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    }

    fn pending(&mut self) -> String {
        let _ = self.expect("\u{0}never", Duration::from_millis(300));
        String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned()
    }
}

/// Index (in `nodes`) of the node listening on client port `port`.
fn index_of(nodes: &[ClusterNode], port: u16) -> usize {
    nodes.iter().position(|n| n.port == port).unwrap()
}

/// (master, replicas) serving `slot`, as indexes into `nodes`.
fn shard_of(nodes: &[ClusterNode], slot: u16) -> (usize, Vec<usize>) {
    let text = nodes[0].nodes();
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .filter(|f: &Vec<&str>| f.len() >= 8)
        .collect();
    let port_of = |f: &Vec<&str>| -> u16 {
        let addr = f[1].split('@').next().unwrap();
        addr.rsplit(':').next().unwrap().parse().unwrap()
    };
    let master = lines
        .iter()
        .find(|f| {
            f[8..].iter().any(|r| {
                let mut it = r.split('-');
                let a: u16 = it.next().unwrap().parse().unwrap_or(u16::MAX);
                let b: u16 = it.next().map(|b| b.parse().unwrap()).unwrap_or(a);
                (a..=b).contains(&slot)
            })
        })
        .expect("slot owner");
    let replicas = lines
        .iter()
        .filter(|f| f[3] == master[0])
        .map(|f| index_of(nodes, port_of(f)))
        .collect();
    (index_of(nodes, port_of(master)), replicas)
}

#[test]
fn publish_reaches_every_node_and_spublish_its_shard() {
    let _one_at_a_time = serial();
    if !redis_cli_available() && skip("redis-cli is not installed") {
        return;
    }
    let nodes = form_cluster();
    let wait = Duration::from_secs(5);

    // PUBLISH on node 0 reaches subscribers on every other node.
    let mut subs: Vec<Raw> = (1..6).map(|i| Raw::connect(nodes[i].port)).collect();
    for s in subs.iter_mut() {
        s.send(&["SUBSCRIBE", "news"]);
        s.expect("subscribe", wait).expect("SUBSCRIBE confirmation");
    }
    // The reply counts this node's receivers only.
    assert_eq!(
        cli(nodes[0].port, &["PUBLISH", "news", "hello-all"])
            .unwrap()
            .trim(),
        "0"
    );
    for (i, s) in subs.iter_mut().enumerate() {
        assert!(
            s.expect("hello-all", wait).is_some(),
            "subscriber on node {} got no message",
            i + 1
        );
    }
    // A publish on a node with a local subscriber counts it.
    assert_eq!(
        cli(nodes[3].port, &["PUBLISH", "news", "from-3"])
            .unwrap()
            .trim(),
        "1"
    );
    for (i, s) in subs.iter_mut().enumerate() {
        assert!(s.expect("from-3", wait).is_some(), "node {}", i + 1);
    }

    // Shard channels: served by the slot's master and its replicas only.
    let channel = "shard-news";
    let slot: u16 = cli(nodes[0].port, &["CLUSTER", "KEYSLOT", channel])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (master, replicas) = shard_of(&nodes, slot);
    assert_eq!(replicas.len(), 1, "{}", nodes[0].nodes());
    let replica = replicas[0];
    let outsider = (0..6).find(|i| *i != master && *i != replica).unwrap();
    let moved = format!("MOVED {slot} 127.0.0.1:{}", nodes[master].port);

    // SSUBSCRIBE / SPUBLISH elsewhere: MOVED to the master, like keys.
    let mut other = Raw::connect(nodes[outsider].port);
    other.send(&["SSUBSCRIBE", channel]);
    let r = other
        .expect("MOVED", wait)
        .expect("SSUBSCRIBE on an outsider");
    assert!(r.contains(&moved), "{r}");
    let r = cli(nodes[outsider].port, &["SPUBLISH", channel, "x"]).unwrap();
    assert!(r.starts_with(&moved), "{r}");
    // Channels of different slots in one SSUBSCRIBE.
    other.send(&["SSUBSCRIBE", "a", "b"]);
    let r = other.expect("CROSSSLOT", wait).expect("CROSSSLOT");
    assert!(r.contains("CROSSSLOT"), "{r}");
    // A plain subscriber of the same name on an outsider gets nothing.
    let mut plain = Raw::connect(nodes[outsider].port);
    plain.send(&["SUBSCRIBE", channel]);
    plain.expect("subscribe", wait).unwrap();

    let mut on_master = Raw::connect(nodes[master].port);
    on_master.send(&["SSUBSCRIBE", channel]);
    on_master
        .expect("ssubscribe", wait)
        .expect("SSUBSCRIBE on the master");
    let mut on_replica = Raw::connect(nodes[replica].port);
    on_replica.send(&["SSUBSCRIBE", channel]);
    let r = on_replica
        .expect("ssubscribe", wait)
        .expect("SSUBSCRIBE on the replica");
    assert!(!r.contains("MOVED"), "{r}");

    // SPUBLISH on the master: its own subscriber (counted) and the replica's.
    assert_eq!(
        cli(nodes[master].port, &["SPUBLISH", channel, "s-from-master"])
            .unwrap()
            .trim(),
        "1"
    );
    for s in [&mut on_master, &mut on_replica] {
        let r = s.expect("s-from-master", wait).expect("smessage");
        assert!(r.contains("smessage"), "{r}");
    }
    // And the other way round, from the replica.
    assert_eq!(
        cli(
            nodes[replica].port,
            &["SPUBLISH", channel, "s-from-replica"]
        )
        .unwrap()
        .trim(),
        "1"
    );
    for s in [&mut on_master, &mut on_replica] {
        assert!(s.expect("s-from-replica", wait).is_some());
    }
    let leaked = plain.pending();
    assert!(!leaked.contains("s-from"), "shard message leaked: {leaked}");
}

#[test]
fn peers_are_dialled_by_announced_hostname() {
    let _one_at_a_time = serial();
    if !redis_cli_available() && skip("redis-cli is not installed") {
        return;
    }
    // Node 2 announces an IP nothing listens on (the bus binds 127.0.0.1):
    // the others reach it only by dialling its hostname.
    let mut nodes = vec![
        ClusterNode::with_config("cluster-announce-hostname = \"localhost\"\n"),
        ClusterNode::with_config("cluster-announce-hostname = \"localhost\"\n"),
        ClusterNode::with_config(
            "cluster-announce-hostname = \"localhost\"\ncluster-announce-ip = \"127.0.0.9\"\n",
        ),
    ];
    for n in nodes.iter_mut() {
        n.start();
    }
    for n in &nodes[1..] {
        assert_eq!(
            cli(
                nodes[0].port,
                &[
                    "CLUSTER",
                    "MEET",
                    "127.0.0.1",
                    &n.port.to_string(),
                    &n.bus.to_string()
                ]
            )
            .unwrap()
            .trim(),
            "OK"
        );
    }
    assert_eq!(
        cli(nodes[0].port, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
            .unwrap()
            .trim(),
        "OK"
    );
    let healthy = |n: &ClusterNode| {
        let info = cli(n.port, &["CLUSTER", "INFO"]).unwrap_or_default();
        let text = n.nodes();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        info.contains("cluster_state:ok")
            && info.contains("cluster_known_nodes:3")
            && lines.len() == 3
            && lines.iter().all(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f[1].ends_with(",localhost")
                    && !f[2].contains("fail")
                    && !f[2].contains("handshake")
                    && f[7] == "connected"
            })
    };
    let all = |nodes: &[ClusterNode]| nodes.iter().all(healthy);
    let dump = |nodes: &[ClusterNode]| {
        nodes
            .iter()
            .map(|n| n.nodes())
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    assert!(
        wait_until(Duration::from_secs(20), || all(&nodes)),
        "cluster not formed:\n{}",
        dump(&nodes)
    );
    assert!(
        nodes[0].nodes().contains("127.0.0.9:"),
        "{}",
        nodes[0].nodes()
    );
    // Still healthy after more than a node timeout: the links to node 2 work.
    std::thread::sleep(Duration::from_millis(2 * NODE_TIMEOUT_MS));
    assert!(all(&nodes), "{}", dump(&nodes));

    // Node 2 restarts (same id from nodes.conf): the others dial it again
    // by name and it is not left failed.
    nodes[2].kill();
    nodes[2].start();
    std::thread::sleep(Duration::from_millis(NODE_TIMEOUT_MS));
    assert!(
        wait_until(Duration::from_secs(10), || all(&nodes)),
        "after restart:\n{}",
        dump(&nodes)
    );
}

#[test]
fn redis_crate_cluster_client() {
    let _one_at_a_time = serial();
    if !redis_cli_available() && skip("redis-cli is not installed") {
        return;
    }
    let nodes = form_cluster();
    let urls: Vec<String> = nodes
        .iter()
        .map(|n| format!("redis://127.0.0.1:{}/", n.port))
        .collect();
    let client = redis::cluster::ClusterClient::new(urls).unwrap();
    let mut con = client.get_connection().unwrap();
    for i in 0..1000 {
        let r: String = redis::cmd("SET")
            .arg(format!("rkey:{i}"))
            .arg(format!("rvalue-{i}"))
            .query(&mut con)
            .unwrap();
        assert_eq!(r, "OK");
    }
    for i in 0..1000 {
        let v: Option<String> = redis::cmd("GET")
            .arg(format!("rkey:{i}"))
            .query(&mut con)
            .unwrap();
        assert_eq!(v.as_deref(), Some(format!("rvalue-{i}").as_str()));
    }
    // The keys are spread over the three masters.
    let total: usize = nodes
        .iter()
        .filter_map(|n| cli(n.port, &["DBSIZE"]))
        .map(|s| s.trim().parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, 1000);
    let masters_with_keys = nodes
        .iter()
        .filter(|n| cli(n.port, &["DBSIZE"]).unwrap().trim() != "0")
        .count();
    assert_eq!(masters_with_keys, 3);
}

#[test]
fn nodes_conf_is_saved_before_the_reply() {
    let _one_at_a_time = serial();
    if !redis_cli_available() && skip("redis-cli is not installed") {
        return;
    }
    let mut a = ClusterNode::new();
    let mut b = ClusterNode::new();
    a.start();
    b.start();
    let conf = || std::fs::read_to_string(a.dir.join("nodes.conf")).unwrap();
    let myself_line = || {
        conf()
            .lines()
            .find(|l| l.contains("myself"))
            .unwrap()
            .to_string()
    };
    let id = a.myid();
    let run = |args: &[&str]| cli(a.port, args).unwrap().trim().to_string();

    // Each reply is read right away: nodes.conf must already say it.
    assert_eq!(run(&["CLUSTER", "ADDSLOTS", "100", "101"]), "OK");
    assert!(myself_line().ends_with(" 100-101"), "{}", conf());
    assert_eq!(run(&["CLUSTER", "ADDSLOTSRANGE", "200", "300"]), "OK");
    assert!(myself_line().ends_with(" 100-101 200-300"), "{}", conf());
    assert_eq!(run(&["CLUSTER", "DELSLOTS", "101"]), "OK");
    assert!(myself_line().ends_with(" 100 200-300"), "{}", conf());
    assert_eq!(run(&["CLUSTER", "SET-CONFIG-EPOCH", "7"]), "OK");
    assert_eq!(
        myself_line().split_whitespace().nth(6),
        Some("7"),
        "{}",
        conf()
    );
    let bumped = run(&["CLUSTER", "BUMPEPOCH"]);
    assert!(
        bumped.starts_with("BUMPED") || bumped.starts_with("STILL"),
        "{bumped}"
    );
    let epoch = myself_line().split_whitespace().nth(6).unwrap().to_string();
    assert!(
        bumped.ends_with(&format!(" {epoch}")),
        "{bumped} vs {}",
        conf()
    );
    assert_eq!(run(&["CLUSTER", "FLUSHSLOTS"]), "OK");
    assert!(myself_line().ends_with(" connected"), "{}", conf());

    // MEET: the peer is in nodes.conf once the handshake is over; FORGET
    // removes it before replying.
    assert_eq!(
        run(&[
            "CLUSTER",
            "MEET",
            "127.0.0.1",
            &b.port.to_string(),
            &b.bus.to_string()
        ]),
        "OK"
    );
    let bid = b.myid();
    assert!(wait_until(Duration::from_secs(10), || conf().contains(&bid)));
    assert_eq!(run(&["CLUSTER", "FORGET", &bid]), "OK");
    assert!(!conf().contains(&bid), "{}", conf());
    assert_eq!(run(&["CLUSTER", "SAVECONFIG"]), "OK");
    // A hard reset gives a new id, saved before the reply.
    assert_eq!(run(&["CLUSTER", "RESET", "HARD"]), "OK");
    let new_id = a.myid();
    assert_ne!(new_id, id);
    assert!(myself_line().starts_with(&new_id), "{}", conf());
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&a.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
