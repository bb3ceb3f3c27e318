//! Cluster mode against real processes: six `redcore-server --cluster-enabled
//! yes` nodes formed with `redis-cli --cluster create`, clients following
//! MOVED (redis-cli -c, redis-py's RedisCluster), and failure detection when a
//! master dies and comes back.
//!
//! The nodes are started here rather than through `Server` because a node
//! must come back on the same ports with the same data directory (its
//! nodes.conf keeps its id), and the bus port is given explicitly.

use redcore_tests::{data_dir, redcore_bin, redis_cli_available, wait_until};
use std::collections::BTreeSet;
use std::io::Write;
use std::net::TcpListener;
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
        }
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
            wait_until(Duration::from_secs(10), || cli(port, &["PING"])
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
fn cli_cluster_pipe(port: u16, input: &str) -> String {
    let mut child = Command::new("timeout")
        .args(["60", "redis-cli", "-c", "-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-cli");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
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

    // Writes and reads through redirects, starting at every node in turn.
    let n = 300;
    let sets: String = (0..n).map(|i| format!("SET key:{i} value:{i}\n")).collect();
    let out = cli_cluster_pipe(nodes[1].port, &sets);
    assert_eq!(out.lines().filter(|l| l.trim() == "OK").count(), n, "{out}");
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
    let local = (0..)
        .map(|i| format!("k{i}"))
        .find(|k| owned(slot(k)))
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
