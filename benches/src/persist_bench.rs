//! The `persistence` section of `redcore-bench`: what durability costs, on
//! redcore and on stock Redis, in the same run and under the same load.
//!
//! 1. **Writes with the log on.** SET of 32 B values, 50 clients, pipeline 1
//!    and 16 (closed loop, [`run_load`]), with the log off (baseline),
//!    `appendfsync everysec` and `appendfsync always`. Each setting gets a
//!    fresh pair of servers in fresh data directories: redcore
//!    `--cores 1 --appendonly yes --appendfsync <mode>` and
//!    `redis-server --appendonly yes --appendfsync <mode> --save ""`.
//!    → `persistence_writes.csv`.
//! 2. **Pause during a snapshot.** Each server (log off) is filled with
//!    `snapshot_keys` strings of 32 B; a probe thread sends one request at a
//!    time (PING, then in a second round SET of a random loaded key) and
//!    records every round trip; after a baseline window, BGSAVE is sent and
//!    INFO `rdb_bgsave_in_progress` is polled until the snapshot is done.
//!    The probe latencies before and during the snapshot are compared.
//!    → `persistence_snapshot.csv`.
//!
//! Both servers run with no `save` rules and no automatic log rewrite
//! (`auto-aof-rewrite-percentage 0`), so nothing but the measured BGSAVE
//! snapshots and nothing rewrites the log in the middle of a write row.
//!
//! The servers are [`crate::server::Server`]s like the other sections' (free
//! loopback port, `taskset -c <server CPUs>`, `PR_SET_PDEATHSIG`, a PID file
//! in the caller's PID directory, TERM then KILL when dropped), with the
//! persistence flags added and a fresh data directory, deleted afterwards.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::client::{bulk_load, error_of, reply_text, Client};
use crate::report::{fmt_ops, fmt_us, table, write_csv, Measure, Outcome};
use crate::server::{Kind, Server, ServerConfig};
use crate::workload::{encode_command, key_name, Encoder, Rng, Workload};
use crate::{format_cpu_list, run_load, LoadReport, LoadSpec};

/// What the section needs from the harness.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub redis_bin: PathBuf,
    pub redcore_bin: PathBuf,
    /// CPUs both servers are pinned to (`taskset -c`).
    pub server_cpus: Vec<usize>,
    /// CPUs of this process (load generator, probe), for the header only.
    pub client_cpus: Vec<usize>,
    /// Scratch space: data directories and logs of the servers.
    pub work_dir: PathBuf,
    pub pid_dir: Option<PathBuf>,
    /// Where the CSV files go.
    pub out_dir: PathBuf,
    pub quick: bool,
    pub warmup: Duration,
    pub duration: Duration,
    /// Alternating rounds per row and server (the warm-up and window are split).
    pub rounds: u32,
    /// Keys the SET load draws from.
    pub keyspace: u64,
    /// Keys loaded before the snapshot.
    pub snapshot_keys: u64,
}

/// The log setting of a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogMode {
    Off,
    EverySec,
    Always,
}

impl LogMode {
    pub fn name(self) -> &'static str {
        match self {
            LogMode::Off => "off",
            LogMode::EverySec => "everysec",
            LogMode::Always => "always",
        }
    }
}

/// Starts a server with `mode` on a free port, with a fresh data directory
/// that is removed when it stops, and waits until it answers PING (redcore
/// answers -LOADING until it has loaded, hence the longer wait).
fn start_server(ctx: &Ctx, kind: Kind, mode: LogMode, tag: &str) -> Result<Server, String> {
    let on = mode != LogMode::Off;
    let fsync = if on { mode.name() } else { "everysec" };
    let mut args: Vec<String> = Vec::new();
    let mut push = |a: &[&str]| args.extend(a.iter().map(|s| s.to_string()));
    push(&["--appendonly", if on { "yes" } else { "no" }, "--appendfsync", fsync]);
    let bin = match kind {
        Kind::Redis => {
            push(&["--auto-aof-rewrite-percentage", "0"]);
            ctx.redis_bin.clone()
        }
        Kind::Redcore => ctx.redcore_bin.clone(),
    };
    let redcore_config = match kind {
        // No CLI flag for this: a line of the generated config file.
        Kind::Redcore => vec!["auto-aof-rewrite-percentage = 0".to_string()],
        Kind::Redis => Vec::new(),
    };
    let cfg = ServerConfig {
        extra_args: args,
        redcore_config,
        tag: format!("persist-{tag}"),
        fresh_dir: true,
        ready_timeout: Duration::from_secs(30),
        ..ServerConfig::new(kind, bin, &ctx.server_cpus, 1, ctx.work_dir.clone(), ctx.pid_dir.clone())
    };
    Server::start(&cfg)
}

/// Bytes of all files under `dir`.
pub fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

fn progress(text: &str) {
    eprintln!("  .. {text}");
}

fn fs_type(path: &Path) -> String {
    Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(path)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "?".into())
}

/// Runs the section; tables go through `say`, CSV files into `ctx.out_dir`.
pub fn run(ctx: &Ctx, say: &mut dyn FnMut(&str)) -> Result<(), String> {
    say(&format!(
        "\n## Persistence: redcore --cores 1 vs redis-server, both on CPU {} (load and probe on CPU {}); data dirs on {} ({})",
        format_cpu_list(&ctx.server_cpus),
        format_cpu_list(&ctx.client_cpus),
        ctx.work_dir.display(),
        fs_type(&ctx.work_dir),
    ));
    say("both: no save rules (redis --save \"\", redcore save = \"\"), auto-aof-rewrite-percentage 0, fresh --dir per server");
    writes(ctx, say)?;
    snapshots(ctx, say)
}

// ---------------------------------------------------------------- writes --

/// One server's result for one write row.
struct WriteCell {
    outcome: Outcome,
    /// Log bytes written per command processed (log on only).
    log_bytes_per_write: Option<f64>,
}

fn na(why: String) -> WriteCell {
    WriteCell {
        outcome: Outcome::Na(why),
        log_bytes_per_write: None,
    }
}

fn commands_processed(c: &mut Client) -> Option<u64> {
    c.info_u64("stats", "total_commands_processed")
        .ok()
        .flatten()
}

/// Runs the SET load on one server.
/// Checks that a server's log is on (or off) and that it takes SET; the
/// log size and command count before the row.
fn write_row_start(server: &mut Server, mode: LogMode) -> Result<(u64, Option<u64>), String> {
    if let Some(why) = server.died() {
        return Err(why);
    }
    let mut c = server.client()?;
    // The log must really be on (or off).
    let info = c.info("persistence").map_err(|e| format!("INFO persistence: {e}"))?;
    let want = if mode == LogMode::Off { "0" } else { "1" };
    let got = info.get("aof_enabled").map(String::as_str).unwrap_or("?");
    if got != want {
        return Err(format!("INFO aof_enabled is {got}, expected {want}"));
    }
    let r = c.cmd(&["SET", "bench:probe:s", "v"]).map_err(|e| e.to_string())?;
    if let Some(e) = error_of(&r) {
        return Err(format!("SET unsupported: {e}"));
    }
    Ok((dir_bytes(&server.dir), commands_processed(&mut c)))
}

/// One of `rounds` equal parts of a row's warm-up and window on one server.
fn write_row_part(ctx: &Ctx, server: &mut Server, pipeline: usize, rounds: u32, round: u32) -> Result<LoadReport, String> {
    let spec = LoadSpec {
        clients: 50,
        pipeline,
        warmup: ctx.warmup / rounds,
        duration: ctx.duration / rounds,
        keyspace: ctx.keyspace,
        value_size: 32,
        seed: crate::round_seed(round),
        ..LoadSpec::new(server.addr(), Workload::parse("set").expect("static workload"))
    };
    let result = run_load(&spec);
    if let Some(why) = server.died() {
        return Err(why);
    }
    let r = result?;
    match r.failure() {
        Some(why) => Err(why),
        None => Ok(r),
    }
}

/// The row's result on one server: its merged rounds, and the log bytes
/// written per command since `start`.
fn write_row_finish(server: &mut Server, mode: LogMode, start: (u64, Option<u64>), report: &LoadReport) -> WriteCell {
    let outcome = Outcome::Ok(Measure::from_load(report));
    let log_bytes_per_write = if mode == LogMode::Off {
        None
    } else {
        // Let the log writers catch up with the last records.
        std::thread::sleep(Duration::from_millis(200));
        let bytes1 = dir_bytes(&server.dir);
        let cmds1 = server.client().ok().and_then(|mut c| commands_processed(&mut c));
        match (start.1, cmds1) {
            (Some(a), Some(b)) if b > a => Some(bytes1.saturating_sub(start.0) as f64 / (b - a) as f64),
            _ => None,
        }
    };
    WriteCell { outcome, log_bytes_per_write }
}

fn brief(o: &Outcome) -> String {
    match o {
        Outcome::Ok(m) => format!(
            "{} ops/s p50 {} p99 {} max {} µs",
            fmt_ops(m.ops),
            fmt_us(m.p50_us),
            fmt_us(m.p99_us),
            fmt_us(m.max_us)
        ),
        Outcome::Na(why) => format!("n/a ({why})"),
    }
}

fn status(o: &Outcome) -> String {
    match o {
        Outcome::Ok(_) => "ok".into(),
        Outcome::Na(w) => format!("n/a: {w}"),
    }
}

fn writes(ctx: &Ctx, say: &mut dyn FnMut(&str)) -> Result<(), String> {
    let modes = [LogMode::Off, LogMode::EverySec, LogMode::Always];
    let pipelines = [1usize, 16];
    // (mode, pipeline) -> [redis, redcore]
    let mut results: Vec<(LogMode, usize, [WriteCell; 2])> = Vec::new();
    for mode in modes {
        let mut servers: Vec<Result<Server, String>> = [Kind::Redis, Kind::Redcore]
            .iter()
            .map(|&k| start_server(ctx, k, mode, mode.name()))
            .collect();
        for pipeline in pipelines {
            // Like the throughput rows: the window is split into rounds that
            // alternate between the servers (Redis first, then redcore
            // first, ...), so a slow spell of the machine (or of its disk)
            // weighs on both.
            let rounds = ctx.rounds.max(1);
            let starts: Vec<Result<(u64, Option<u64>), String>> = servers
                .iter_mut()
                .map(|s| match s {
                    Ok(server) => write_row_start(server, mode),
                    Err(e) => Err(format!("cannot start: {e}")),
                })
                .collect();
            // A server that failed its start check does not run.
            let mut runs: Vec<Option<Result<LoadReport, String>>> = starts.iter().map(|s| s.as_ref().err().map(|e| Err(e.clone()))).collect();
            for (i, round) in crate::alternating(rounds) {
                if let Ok(server) = &mut servers[i] {
                    LoadReport::add_part(&mut runs[i], |_| write_row_part(ctx, server, pipeline, rounds, round));
                }
            }
            let mut cells = Vec::new();
            for ((s, start), run) in servers.iter_mut().zip(starts).zip(runs) {
                let cell = match (&mut *s, start) {
                    (Ok(server), Ok(start)) => match run {
                        Some(Ok(report)) => write_row_finish(server, mode, start, &report),
                        Some(Err(e)) => na(e),
                        None => na("not run".to_string()),
                    },
                    (_, Err(e)) => na(e),
                    (Err(e), Ok(_)) => na(e.clone()),
                };
                let name = match s {
                    Ok(server) => server.kind.name(),
                    Err(_) => "server",
                };
                progress(&format!(
                    "SET 32B c50 P{pipeline} log {} on {name}: {}",
                    mode.name(),
                    brief(&cell.outcome)
                ));
                cells.push(cell);
            }
            let redcore = cells.pop().expect("two cells");
            let redis = cells.pop().expect("two cells");
            results.push((mode, pipeline, [redis, redcore]));
        }
        drop(servers);
    }

    let ops = |o: &Outcome| o.measure().map(|m| m.ops);
    let base = |pipeline: usize, i: usize| {
        results
            .iter()
            .find(|(m, p, _)| *m == LogMode::Off && *p == pipeline)
            .and_then(|(_, _, c)| ops(&c[i].outcome))
    };
    let mut lines = Vec::new();
    let mut csv = Vec::new();
    for (mode, pipeline, cells) in &results {
        let [redis, redcore] = cells;
        let (r, c) = (redis.outcome.measure(), redcore.outcome.measure());
        let ratio = match (r, c) {
            (Some(a), Some(b)) if a.ops > 0.0 => Some(b.ops / a.ops),
            _ => None,
        };
        let vs_off = |i: usize, cell: &WriteCell| match (ops(&cell.outcome), base(*pipeline, i)) {
            (Some(x), Some(b)) if b > 0.0 => Some(x / b),
            _ => None,
        };
        let (r_off, c_off) = (vs_off(0, redis), vs_off(1, redcore));
        let pair = |f: fn(&Measure) -> f64| {
            let one = |m: Option<&Measure>| m.map_or("n/a".to_string(), |m| fmt_us(f(m)));
            format!("{} / {}", one(r), one(c))
        };
        let opt = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
        lines.push(vec![
            format!("log {}", mode.name()),
            format!("SET 32B c50 P{pipeline}"),
            r.map_or("n/a".into(), |m| fmt_ops(m.ops)),
            c.map_or("n/a".into(), |m| fmt_ops(m.ops)),
            ratio.map_or("n/a".into(), |x| format!("{x:.2}")),
            pair(|m| m.p50_us),
            pair(|m| m.p99_us),
            pair(|m| m.p999_us.unwrap_or(0.0)),
            pair(|m| m.max_us),
            if *mode == LogMode::Off {
                "1 / 1".into()
            } else {
                format!("{} / {}", opt(r_off, 2), opt(c_off, 2))
            },
            format!(
                "{} / {}",
                opt(redis.log_bytes_per_write, 0),
                opt(redcore.log_bytes_per_write, 0)
            ),
        ]);
        let num = |m: Option<&Measure>, f: fn(&Measure) -> f64| {
            m.map_or(String::new(), |m| format!("{:.3}", f(m)))
        };
        let o = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
        csv.push(vec![
            mode.name().to_string(),
            "SET".into(),
            "50".into(),
            pipeline.to_string(),
            "32".into(),
            num(r, |m| m.ops),
            num(c, |m| m.ops),
            o(ratio),
            num(r, |m| m.p50_us),
            num(c, |m| m.p50_us),
            num(r, |m| m.p99_us),
            num(c, |m| m.p99_us),
            num(r, |m| m.p999_us.unwrap_or(0.0)),
            num(c, |m| m.p999_us.unwrap_or(0.0)),
            num(r, |m| m.max_us),
            num(c, |m| m.max_us),
            num(r, |m| m.mean_us),
            num(c, |m| m.mean_us),
            o(r_off),
            o(c_off),
            o(redis.log_bytes_per_write),
            o(redcore.log_bytes_per_write),
            status(&redis.outcome),
            status(&redcore.outcome),
        ]);
    }
    say(&format!(
        "\n### Writes with the log on: SET, 32 B values, 50 clients, closed loop (redcore-load), keyspace {}, {} alternating round(s) per server\n\
         ratio = redcore/Redis ops/s; latency cells are redis / redcore; vs log off = ops/s / the same server's log-off ops/s;\n\
         log B/write = growth of the data dir / commands processed (a sanity check that the log is written)\n{}",
        ctx.keyspace,
        ctx.rounds.max(1),
        table(
            &[
                "log (appendfsync)",
                "load",
                "redis ops/s",
                "redcore ops/s",
                "ratio",
                "p50 µs (redis / redcore)",
                "p99 µs",
                "p99.9 µs",
                "max µs",
                "vs log off",
                "log B/write",
            ],
            &lines,
        )
    ));
    let mut notes = String::new();
    for (mode, pipeline, cells) in &results {
        for (name, cell) in [("redis", &cells[0]), ("redcore", &cells[1])] {
            if let Outcome::Na(why) = &cell.outcome {
                notes.push_str(&format!(
                    "  n/a: log {} P{pipeline} on {name}: {why}\n",
                    mode.name()
                ));
            }
        }
    }
    if !notes.is_empty() {
        say(&format!("n/a reasons:\n{notes}"));
    }
    write_csv(
        &ctx.out_dir.join("persistence_writes.csv"),
        &[
            "appendfsync",
            "workload",
            "clients",
            "pipeline",
            "value_bytes",
            "redis_ops",
            "redcore_ops",
            "ratio",
            "redis_p50_us",
            "redcore_p50_us",
            "redis_p99_us",
            "redcore_p99_us",
            "redis_p999_us",
            "redcore_p999_us",
            "redis_max_us",
            "redcore_max_us",
            "redis_mean_us",
            "redcore_mean_us",
            "redis_vs_log_off",
            "redcore_vs_log_off",
            "redis_log_bytes_per_write",
            "redcore_log_bytes_per_write",
            "redis_status",
            "redcore_status",
        ],
        &csv,
    )
    .map_err(|e| e.to_string())
}

// ------------------------------------------------------------- snapshots --

/// What the probe sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// PING: the pure stall of the event loop / core.
    Ping,
    /// SET of a random loaded key: also pays for copy-on-write (Redis: page
    /// faults in the parent after fork; redcore: saving the old entry).
    Set,
}

impl Probe {
    pub fn name(self) -> &'static str {
        match self {
            Probe::Ping => "PING",
            Probe::Set => "SET",
        }
    }
}

/// Latency statistics of the probes in one window.
#[derive(Clone, Debug, Default)]
pub struct Window {
    pub count: u64,
    pub secs: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    /// Probes slower than 1 ms.
    pub over_1ms: u64,
    /// Their round trips added up, µs: how long clients sat in stalls.
    pub over_1ms_total_us: f64,
}

impl Window {
    fn from(samples: impl Iterator<Item = u64>, secs: f64) -> Window {
        let mut h: Histogram<u64> =
            Histogram::new_with_bounds(1, 600_000_000_000, 3).expect("static histogram bounds");
        let (mut over, mut over_ns) = (0, 0u64);
        for ns in samples {
            let _ = h.record(ns.max(1));
            if ns > 1_000_000 {
                over += 1;
                over_ns += ns;
            }
        }
        let us = |q: f64| h.value_at_percentile(q) as f64 / 1000.0;
        Window {
            count: h.len(),
            secs,
            p50_us: us(50.0),
            p99_us: us(99.0),
            p999_us: us(99.9),
            max_us: h.max() as f64 / 1000.0,
            over_1ms: over,
            over_1ms_total_us: over_ns as f64 / 1000.0,
        }
    }

    fn rate(&self) -> f64 {
        self.count as f64 / self.secs.max(1e-9)
    }

    /// Share of the window spent in probes slower than 1 ms (a probe that
    /// straddles the window edge may push it a little past 100 %).
    fn stalled_share(&self) -> f64 {
        self.over_1ms_total_us / 1e6 / self.secs.max(1e-9)
    }
}

/// One snapshot measured on one server.
#[derive(Clone, Debug)]
pub struct SnapResult {
    pub snapshot_secs: f64,
    /// Redis INFO `latest_fork_usec`.
    pub fork_us: Option<f64>,
    pub bgsave_reply_us: f64,
    /// Size of the data directory after the snapshot (log off: the snapshot).
    pub snapshot_bytes: u64,
    pub baseline: Window,
    pub during: Window,
    /// Probes slower than 1 ms in either window: (start relative to BGSAVE
    /// sent in µs, round trip in µs); shows when the stalls happened.
    pub slow: Vec<(f64, f64)>,
}

/// The probe loop: one request at a time until `stop`; returns
/// (send time since `base` in ns, round trip in ns) per request.
fn probe_loop(
    addr: SocketAddr,
    probe: Probe,
    keys: u64,
    base: Instant,
    stop: Arc<AtomicBool>,
) -> Result<Vec<(u64, u64)>, String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let value = Encoder::new(32, 1).value;
    let mut rng = Rng::new(7);
    let expect: &[u8] = match probe {
        Probe::Ping => b"+PONG\r\n",
        Probe::Set => b"+OK\r\n",
    };
    let ping = {
        let mut v = Vec::new();
        encode_command(&mut v, &[b"PING"]);
        v
    };
    let mut req = Vec::with_capacity(128);
    let mut buf = [0u8; 256];
    let mut samples = Vec::with_capacity(1 << 20);
    while !stop.load(Ordering::Relaxed) && samples.len() < 50_000_000 {
        let req: &[u8] = match probe {
            Probe::Ping => &ping,
            Probe::Set => {
                req.clear();
                let k = key_name(b"key:", rng.below(keys.max(1)));
                encode_command(&mut req, &[b"SET", &k, &value]);
                &req
            }
        };
        let t0 = Instant::now();
        s.write_all(req).map_err(|e| format!("probe write: {e}"))?;
        let mut got = 0;
        while got < expect.len() {
            let n = s
                .read(&mut buf[got..])
                .map_err(|e| format!("probe read: {e}"))?;
            if n == 0 {
                return Err("probe: connection closed".into());
            }
            got += n;
        }
        let rtt = t0.elapsed().as_nanos() as u64;
        if &buf[..got] != expect {
            return Err(format!(
                "probe: unexpected reply {:?}",
                String::from_utf8_lossy(&buf[..got])
            ));
        }
        samples.push(((t0 - base).as_nanos() as u64, rtt));
    }
    Ok(samples)
}

/// FLUSHALL, then SET key:0..n to 32 B values (pipelined).
fn load_keys(server: &Server, n: u64) -> Result<(), String> {
    let mut c = server.client()?;
    c.cmd(&["FLUSHALL"]).map_err(|e| e.to_string())?;
    let value = Encoder::new(32, 1).value;
    let (errors, first) = bulk_load(server.addr(), n, 1000, |i, out| {
        encode_command(out, &[b"SET", &key_name(b"key:", i), &value]);
    })
    .map_err(|e| format!("loading: {e}"))?;
    if errors > 0 {
        return Err(format!(
            "loading: {errors} errors: {}",
            first.unwrap_or_default()
        ));
    }
    match c.cmd(&["DBSIZE"]).map_err(|e| e.to_string())? {
        resp::Reply::Int(k) if k as u64 == n => Ok(()),
        other => Err(format!(
            "DBSIZE answered {}, expected {n}",
            reply_text(&other)
        )),
    }
}

/// One BGSAVE under the probe.
fn snapshot_once(
    ctx: &Ctx,
    server: &mut Server,
    probe: Probe,
    baseline: Duration,
    limit: Duration,
) -> Result<SnapResult, String> {
    let mut ctl = server.client()?;
    let persistence = |c: &mut Client| -> Result<(bool, u64, String), String> {
        let info = c
            .info("persistence")
            .map_err(|e| format!("INFO persistence: {e}"))?;
        let field = |k: &str| {
            info.get(k)
                .cloned()
                .ok_or_else(|| format!("INFO persistence has no {k}"))
        };
        Ok((
            field("rdb_bgsave_in_progress")? == "1",
            field("rdb_last_save_time")?.parse().unwrap_or(0),
            field("rdb_last_bgsave_status")?,
        ))
    };
    // Wait for any snapshot still running (none expected).
    let t = Instant::now();
    while persistence(&mut ctl)?.0 {
        if t.elapsed() > limit {
            return Err("a snapshot was already running and did not end".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, last_save0, _) = persistence(&mut ctl)?;

    let base = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let (addr, keys, stop2) = (server.addr(), ctx.snapshot_keys, stop.clone());
    let handle = std::thread::Builder::new()
        .name("probe".into())
        .spawn(move || probe_loop(addr, probe, keys, base, stop2))
        .map_err(|e| e.to_string())?;
    // Warm-up, then the baseline window.
    let warm = Duration::from_millis(100);
    std::thread::sleep(warm + baseline);

    let t_bg = base.elapsed();
    let reply = ctl.cmd(&["BGSAVE"]);
    let bgsave_reply_us = (base.elapsed() - t_bg).as_secs_f64() * 1e6;
    let outcome: Result<Duration, String> = (|| {
        let r = reply.map_err(|e| format!("BGSAVE: {e}"))?;
        if let Some(e) = error_of(&r) {
            return Err(format!("BGSAVE: {e}"));
        }
        // Done when the snapshot was seen running and is no longer, or (if it
        // ended before the first poll) when the last save time moved.
        let mut seen = false;
        loop {
            let (running, last_save, st) = persistence(&mut ctl)?;
            let now = base.elapsed();
            if running {
                seen = true;
            } else if seen || last_save != last_save0 {
                if st != "ok" {
                    return Err(format!("rdb_last_bgsave_status:{st}"));
                }
                return Ok(now);
            }
            if now - t_bg > limit {
                return Err(format!(
                    "snapshot not done after {:.0} s",
                    limit.as_secs_f64()
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    })();
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::Relaxed);
    let samples = handle
        .join()
        .map_err(|_| "probe thread panicked".to_string())??;
    let t_done = outcome?;
    let fork_us = if server.kind == Kind::Redis {
        ctl.info_u64("stats", "latest_fork_usec")
            .ok()
            .flatten()
            .map(|v| v as f64)
    } else {
        None
    };
    let (bg, done, b0) = (
        t_bg.as_nanos() as u64,
        t_done.as_nanos() as u64,
        (t_bg.saturating_sub(baseline)).as_nanos() as u64,
    );
    // Baseline: probes that ended before BGSAVE was sent. During: probes
    // whose round trip overlaps [BGSAVE sent, snapshot seen done].
    let baseline_w = Window::from(
        samples
            .iter()
            .filter(|(t, r)| *t >= b0 && t + r <= bg)
            .map(|&(_, r)| r),
        (bg - b0) as f64 / 1e9,
    );
    let during_w = Window::from(
        samples
            .iter()
            .filter(|(t, r)| t + r > bg && *t <= done)
            .map(|&(_, r)| r),
        (done - bg) as f64 / 1e9,
    );
    let slow = samples
        .iter()
        .filter(|(t, r)| *r > 1_000_000 && *t + *r > b0 && *t <= done)
        .map(|&(t, r)| ((t as f64 - bg as f64) / 1e3, r as f64 / 1e3))
        .collect();
    Ok(SnapResult {
        slow,
        snapshot_secs: (t_done - t_bg).as_secs_f64(),
        fork_us,
        bgsave_reply_us,
        snapshot_bytes: dir_bytes(&server.dir),
        baseline: baseline_w,
        during: during_w,
    })
}

fn snapshots(ctx: &Ctx, say: &mut dyn FnMut(&str)) -> Result<(), String> {
    let n = ctx.snapshot_keys;
    let baseline = if ctx.quick {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(2)
    };
    let limit = Duration::from_secs(if ctx.quick { 60 } else { 180 });
    let probes = [Probe::Ping, Probe::Set];
    // results[probe][server]
    let mut results: Vec<[Result<SnapResult, String>; 2]> = probes
        .iter()
        .map(|_| [Err("not run".into()), Err("not run".into())])
        .collect();
    for (si, kind) in [Kind::Redis, Kind::Redcore].into_iter().enumerate() {
        let mut server = match start_server(ctx, kind, LogMode::Off, "snap") {
            Ok(s) => s,
            Err(e) => {
                for r in results.iter_mut() {
                    r[si] = Err(format!("cannot start: {e}"));
                }
                continue;
            }
        };
        let t = Instant::now();
        if let Err(e) = load_keys(&server, n) {
            for r in results.iter_mut() {
                r[si] = Err(e.clone());
            }
            continue;
        }
        progress(&format!(
            "snapshot: {n} keys loaded into {} in {:.1} s",
            kind.name(),
            t.elapsed().as_secs_f64()
        ));
        for (pi, &probe) in probes.iter().enumerate() {
            let r =
                snapshot_once(ctx, &mut server, probe, baseline, limit).map_err(|e| {
                    match server.died() {
                        Some(d) => format!("{e}; {d}"),
                        None => e,
                    }
                });
            match &r {
                Ok(s) => progress(&format!(
                    "snapshot {} probe on {}: {:.2} s, max {} µs during vs {} µs before",
                    probe.name(),
                    kind.name(),
                    s.snapshot_secs,
                    fmt_us(s.during.max_us),
                    fmt_us(s.baseline.max_us)
                )),
                Err(e) => progress(&format!(
                    "snapshot {} probe on {}: n/a ({e})",
                    probe.name(),
                    kind.name()
                )),
            }
            results[pi][si] = r;
        }
        server.stop();
    }

    let mut lines = Vec::new();
    let mut csv = Vec::new();
    for (pi, probe) in probes.iter().enumerate() {
        let [redis, redcore] = &results[pi];
        let pair = |f: &dyn Fn(&SnapResult) -> String| {
            let one = |r: &Result<SnapResult, String>| r.as_ref().map_or("n/a".to_string(), f);
            format!("{} / {}", one(redis), one(redcore))
        };
        let ratio = match (redis, redcore) {
            (Ok(a), Ok(b)) if a.during.max_us > 0.0 => {
                format!("{:.2}", b.during.max_us / a.during.max_us)
            }
            _ => "n/a".into(),
        };
        lines.push(vec![
            format!("{} probe", probe.name()),
            n.to_string(),
            pair(&|s| format!("{:.2}", s.snapshot_secs)),
            pair(&|s| fmt_us(s.baseline.p999_us)),
            pair(&|s| fmt_us(s.baseline.max_us)),
            pair(&|s| fmt_us(s.during.p99_us)),
            pair(&|s| fmt_us(s.during.p999_us)),
            pair(&|s| fmt_us(s.during.max_us)),
            ratio,
            pair(&|s| {
                format!(
                    "{} ({:.0}%)",
                    s.during.over_1ms,
                    s.during.stalled_share() * 100.0
                )
            }),
            redis
                .as_ref()
                .ok()
                .and_then(|s| s.fork_us)
                .map_or("n/a".into(), fmt_us),
        ]);
        for (name, r) in [("redis", redis), ("redcore", redcore)] {
            let mut row = vec![probe.name().to_string(), name.to_string(), n.to_string()];
            match r {
                Ok(s) => {
                    row.push("ok".into());
                    row.push(format!("{:.4}", s.snapshot_secs));
                    row.push(s.fork_us.map_or(String::new(), |v| format!("{v:.0}")));
                    row.push(format!("{:.1}", s.bgsave_reply_us));
                    row.push(s.snapshot_bytes.to_string());
                    for w in [&s.baseline, &s.during] {
                        row.push(w.count.to_string());
                        row.push(format!("{:.1}", w.rate()));
                        row.push(format!("{:.3}", w.p50_us));
                        row.push(format!("{:.3}", w.p99_us));
                        row.push(format!("{:.3}", w.p999_us));
                        row.push(format!("{:.3}", w.max_us));
                        row.push(w.over_1ms.to_string());
                        row.push(format!("{:.4}", w.stalled_share()));
                    }
                }
                Err(e) => {
                    row.push(format!("n/a: {e}"));
                    row.extend(std::iter::repeat_n(String::new(), 20));
                }
            }
            csv.push(row);
        }
    }
    say(&format!(
        "\n### Pause during a snapshot: BGSAVE of {n} keys (32 B strings), log off; one probe request at a time\n\
         cells are redis / redcore; baseline = {:.1} s before BGSAVE; during = from BGSAVE sent until INFO rdb_bgsave_in_progress:0 (polled every 5 ms);\n\
         max ratio = redcore/Redis max probe latency during the snapshot (lower is better for redcore); redis fork µs = INFO latest_fork_usec{}\n{}",
        baseline.as_secs_f64(),
        if ctx.server_cpus.len() == 1 {
            format!(
                ";\nRedis's fork child inherits the server CPU set (CPU {}), so it competes with the parent for that one CPU",
                format_cpu_list(&ctx.server_cpus)
            )
        } else {
            String::new()
        },
        table(
            &[
                "probe",
                "keys",
                "snapshot s",
                "before p99.9 µs",
                "before max µs",
                "during p99 µs",
                "during p99.9 µs",
                "during max µs",
                "max ratio",
                "probes > 1 ms (share of time)",
                "redis fork µs",
            ],
            &lines,
        )
    ));
    let mut notes = String::new();
    for (pi, probe) in probes.iter().enumerate() {
        for (name, r) in [("redis", &results[pi][0]), ("redcore", &results[pi][1])] {
            if let Err(e) = r {
                notes.push_str(&format!("  n/a: {} probe on {name}: {e}\n", probe.name()));
            }
        }
    }
    if !notes.is_empty() {
        say(&format!("n/a reasons:\n{notes}"));
    }
    write_csv(
        &ctx.out_dir.join("persistence_snapshot.csv"),
        &[
            "probe",
            "server",
            "keys",
            "status",
            "snapshot_s",
            "fork_us",
            "bgsave_reply_us",
            "snapshot_bytes",
            "before_probes",
            "before_probes_per_s",
            "before_p50_us",
            "before_p99_us",
            "before_p999_us",
            "before_max_us",
            "before_over_1ms",
            "before_stalled_share",
            "during_probes",
            "during_probes_per_s",
            "during_p50_us",
            "during_p99_us",
            "during_p999_us",
            "during_max_us",
            "during_over_1ms",
            "during_stalled_share",
        ],
        &csv,
    )
    .map_err(|e| e.to_string())?;
    let mut slow = Vec::new();
    for (pi, probe) in probes.iter().enumerate() {
        for (name, r) in [("redis", &results[pi][0]), ("redcore", &results[pi][1])] {
            if let Ok(s) = r {
                for &(t, us) in &s.slow {
                    slow.push(vec![
                        probe.name().to_string(),
                        name.to_string(),
                        format!("{:.1}", t / 1e3),
                        format!("{us:.1}"),
                        (if t < 0.0 { "before" } else { "during" }).to_string(),
                        format!("{:.1}", s.snapshot_secs * 1e3),
                    ]);
                }
            }
        }
    }
    write_csv(
        &ctx.out_dir.join("persistence_slow_probes.csv"),
        &[
            "probe",
            "server",
            "start_ms_after_bgsave",
            "latency_us",
            "window",
            "snapshot_ms",
        ],
        &slow,
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_stats() {
        let w = Window::from([10_000u64, 20_000, 2_000_000].into_iter(), 2.0);
        assert_eq!(w.count, 3);
        assert_eq!(w.over_1ms, 1);
        assert!((w.max_us - 2000.0).abs() < 5.0, "{w:?}");
        assert!((w.rate() - 1.5).abs() < 1e-9);
        assert!((w.stalled_share() - 0.001).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn dir_bytes_counts_nested_files() {
        let d = std::env::temp_dir().join(format!("redcore-pb-test-{}", std::process::id()));
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("a"), [0u8; 10]).unwrap();
        std::fs::write(d.join("sub/b"), [0u8; 5]).unwrap();
        assert_eq!(dir_bytes(&d), 15);
        let _ = std::fs::remove_dir_all(&d);
    }
}
