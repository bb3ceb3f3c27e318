//! `redcore-bench`: the whole benchmark suite, redcore against stock Redis.
//!
//! ```text
//! redcore-bench --out DIR [--quick] [--sections throughput,redis-benchmark,memory,scaling,cost,persistence]
//!               [--server-cpus LIST] [--client-cpus LIST] [--pid-dir DIR] [--filter TEXT]
//! redcore-bench --out DIR --collect-criterion CRITERION_DIR
//! ```
//!
//! Sections (each writes CSV files into `--out`, and the tables are printed
//! and saved to `summary.txt`):
//!
//! * `throughput`: the workload matrix with `redcore-load` against both
//!   servers → `throughput.csv`, `latency_curves.csv`.
//! * `redis-benchmark`: the same kind of matrix with stock `redis-benchmark`
//!   → rows in `throughput.csv` (tool `redis-benchmark`).
//! * `memory`: bytes per key for strings, small hashes and small sorted sets
//!   → `memory.csv`; RSS per idle connection, fresh and after the
//!   connections were replaced → `memory_connections.csv`.
//! * `scaling`: redcore with `--cores 1..=CPUs`, forwarded share, and local
//!   vs forwarded GET latency → `scaling.csv`, `forwarding.csv`.
//! * `cost`: server CPU time per request at a fixed open-loop rate that both
//!   servers sustain, with redcore not polling between requests → `cost.csv`.
//!   This compares the servers where the load generator cannot drive them
//!   to saturation (a small machine).
//! * `persistence`: writes with the log on (appendfsync everysec / always vs
//!   off) and the longest pause during a BGSAVE snapshot, redcore `--cores 1`
//!   vs Redis → `persistence_writes.csv`, `persistence_snapshot.csv`,
//!   `persistence_slow_probes.csv` (module `redcore_benches::persist_bench`).
//!
//! The process pins itself (and so the load threads and `redis-benchmark`)
//! to the client CPUs; servers run under `taskset -c <server CPUs>`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use redcore_benches::client::{bulk_load, error_of, reply_text, Client};
use redcore_benches::cpu::{CpuMeter, CpuUse};
use redcore_benches::persist_bench;
use redcore_benches::rbench::{self, RbRun};
use redcore_benches::report::{
    self, curve_rows, fmt_ops, fmt_us, table, write_csv, write_throughput_csv, Measure, Outcome,
    Row,
};
use redcore_benches::server::{Kind, Server, ServerConfig};
use redcore_benches::workload::{encode_command, key_name, Encoder, Op, CHANNEL};
use redcore_benches::{
    allowed_cpus, alternating, format_cpu_list, parse_cpu_list, run_load, LoadReport, LoadSpec, Placement,
    Workload,
};

#[derive(Parser, Debug)]
#[command(
    name = "redcore-bench",
    about = "redcore vs Redis: throughput, latency, memory, scaling"
)]
struct Args {
    /// Results directory (created).
    #[arg(long)]
    out: PathBuf,
    /// Seconds instead of minutes (smoke test; numbers are indicative only).
    #[arg(long)]
    quick: bool,
    /// Comma-separated: throughput, redis-benchmark, memory, scaling, persistence.
    #[arg(
        long,
        default_value = "throughput,redis-benchmark,memory,scaling,cost,persistence"
    )]
    sections: String,
    #[arg(long, default_value = "redis-server")]
    redis_server: PathBuf,
    /// Default: `redcore-server` next to this binary.
    #[arg(long)]
    redcore_server: Option<PathBuf>,
    #[arg(long, default_value = "redis-benchmark")]
    redis_benchmark: PathBuf,
    /// CPUs for the servers (default: upper half of this process's CPUs).
    #[arg(long)]
    server_cpus: Option<String>,
    /// CPUs for the load generators (default: the other CPUs).
    #[arg(long)]
    client_cpus: Option<String>,
    /// Directory where server PIDs are written for the caller's exit trap.
    #[arg(long)]
    pid_dir: Option<PathBuf>,
    /// Scratch directory for server data and logs (default: OUT/work).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Measurement window per run, seconds (default 5, quick 0.5).
    #[arg(long)]
    duration: Option<f64>,
    /// Warm-up per run, seconds (default 1, quick 0.2).
    #[arg(long)]
    warmup: Option<f64>,
    /// Rounds per redcore-load comparison row (default 3, quick 1): the
    /// measurement window is split into this many parts, run on the two
    /// servers in turn (the order alternating), and merged per server, so a
    /// slow spell of a shared machine weighs on both alike.
    #[arg(long)]
    rounds: Option<u32>,
    /// Keys for the GET/SET/MGET workloads (default 100000, quick 10000).
    #[arg(long)]
    keyspace: Option<u64>,
    /// Keys per type in the memory section (default 1000000, quick 100000).
    #[arg(long)]
    memory_keys: Option<u64>,
    /// Keys loaded before the snapshot in the persistence section (default 1000000, quick 100000).
    #[arg(long)]
    snapshot_keys: Option<u64>,
    /// Only run throughput rows whose label contains this text, or one of
    /// several texts separated by `|` (`--filter 'LPUSH|fan-out'`).
    #[arg(long)]
    filter: Option<String>,
    /// Core counts of the scaling section, e.g. `1,2,4,8` (default: 1 to
    /// the number of CPUs).
    #[arg(long)]
    scaling_cores: Option<String>,
    /// Client connections of the scaling section's loads (default 50).
    #[arg(long, default_value_t = 50)]
    scaling_clients: usize,
    /// Instead of benchmarking: gather criterion results from this directory into OUT/micro.csv.
    #[arg(long)]
    collect_criterion: Option<PathBuf>,
}

/// Durations and sizes of this run.
#[derive(Clone)]
struct Plan {
    quick: bool,
    warmup: Duration,
    duration: Duration,
    rounds: u32,
    keyspace: u64,
    memory_keys: u64,
    /// Target length of one redis-benchmark test, seconds.
    rb_secs: f64,
    server_cpus: Vec<usize>,
    client_cpus: Vec<usize>,
    all_cpus: Vec<usize>,
}

struct Bench {
    args: Args,
    plan: Plan,
    work: PathBuf,
    summary: String,
    /// Closed-loop throughput per (clients, pipeline, value size, server), of
    /// the last row of that shape, to size redis-benchmark runs.
    rates: HashMap<(usize, usize, usize, Kind), f64>,
    /// Closed-loop throughput per (workload, clients, pipeline, value size,
    /// server), for the open-loop rates.
    workload_rates: HashMap<(String, usize, usize, usize, Kind), f64>,
    rows: Vec<Row>,
    curves: Vec<Vec<String>>,
}

fn main() {
    let args = Args::parse();
    if let Some(dir) = args.collect_criterion.clone() {
        match collect_criterion(&dir, &args.out.join("micro.csv")) {
            Ok(text) => print!("{text}"),
            Err(e) => {
                eprintln!("redcore-bench: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if let Err(e) = run(args) {
        eprintln!("redcore-bench: {e}");
        std::process::exit(1);
    }
}

fn secs(x: f64) -> Duration {
    Duration::from_secs_f64(x.max(0.0))
}

fn run(args: Args) -> Result<(), String> {
    let all_cpus = allowed_cpus();
    let (server_cpus, client_cpus) = split_cpus(
        &all_cpus,
        args.server_cpus.as_deref(),
        args.client_cpus.as_deref(),
    );
    pin_self(&client_cpus);
    let quick = args.quick;
    let plan = Plan {
        quick,
        warmup: secs(args.warmup.unwrap_or(if quick { 0.2 } else { 1.0 })),
        duration: secs(args.duration.unwrap_or(if quick { 0.5 } else { 10.0 })),
        rounds: args.rounds.unwrap_or(if quick { 1 } else { 5 }).max(1),
        keyspace: args
            .keyspace
            .unwrap_or(if quick { 10_000 } else { 100_000 }),
        memory_keys: args
            .memory_keys
            .unwrap_or(if quick { 100_000 } else { 1_000_000 }),
        rb_secs: if quick { 0.3 } else { 6.0 },
        server_cpus,
        client_cpus,
        all_cpus,
    };
    let mut args = args;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    // Absolute paths: the servers get --dir under the work directory.
    args.out = std::fs::canonicalize(&args.out).map_err(|e| e.to_string())?;
    let work = args
        .work_dir
        .clone()
        .unwrap_or_else(|| args.out.join("work"));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let work = std::fs::canonicalize(&work).map_err(|e| e.to_string())?;
    let mut b = Bench {
        args,
        plan,
        work,
        summary: String::new(),
        rates: HashMap::new(),
        workload_rates: HashMap::new(),
        rows: Vec::new(),
        curves: Vec::new(),
    };
    let started = Instant::now();
    let env = b.environment();
    std::fs::write(b.args.out.join("env.txt"), &env).map_err(|e| e.to_string())?;
    b.say(&env);

    let sections: Vec<String> = b
        .args
        .sections
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let want = |s: &str| sections.iter().any(|x| x == s);
    if want("throughput") || want("redis-benchmark") {
        b.throughput(want("throughput"), want("redis-benchmark"))?;
    }
    if want("memory") {
        b.memory()?;
    }
    if want("scaling") {
        b.scaling()?;
    }
    if want("cost") {
        b.cost()?;
    }
    if want("persistence") {
        b.persistence()?;
    }
    b.say(&format!(
        "total time {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    std::fs::write(b.args.out.join("summary.txt"), &b.summary).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&b.work);
    Ok(())
}

/// Server CPUs and client CPUs: explicit lists, or the upper half of the
/// allowed CPUs for the servers and the rest for the clients.
fn split_cpus(
    all: &[usize],
    server: Option<&str>,
    client: Option<&str>,
) -> (Vec<usize>, Vec<usize>) {
    let server = server.map(parse_cpu_list).filter(|v| !v.is_empty());
    let client = client.map(parse_cpu_list).filter(|v| !v.is_empty());
    let (ds, dc) = if all.len() >= 2 {
        let half = all.len() / 2;
        (all[half..].to_vec(), all[..half].to_vec())
    } else {
        (all.to_vec(), all.to_vec())
    };
    let server = server.unwrap_or(ds);
    let client = client.unwrap_or_else(|| {
        let rest: Vec<usize> = all
            .iter()
            .copied()
            .filter(|c| !server.contains(c))
            .collect();
        if rest.is_empty() {
            dc
        } else {
            rest
        }
    });
    (server, client)
}

/// What `get` gives for each server kind, combined with `pick`.
fn pick_servers(get: impl Fn(Kind) -> Option<f64>, pick: fn(f64, f64) -> f64) -> Option<f64> {
    [Kind::Redis, Kind::Redcore].into_iter().filter_map(get).reduce(pick)
}

/// Indexes of the Redis and the redcore server in a pair.
fn redis_first(servers: &[Server; 2]) -> (usize, usize) {
    if servers[0].kind == Kind::Redis {
        (0, 1)
    } else {
        (1, 0)
    }
}

/// Restricts this process (its later threads and children) to `cpus`.
fn pin_self(cpus: &[usize]) {
    if cpus.is_empty() {
        return;
    }
    // SAFETY: cpu_set_t is plain data; sched_setaffinity on the calling thread (pid 0).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!("redcore-bench: could not pin the load generator to CPUs {cpus:?}");
        }
    }
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Sends a sample of each op; the first error reply is the reason the op is n/a.
fn probe(server: &Server, ops: &[Op]) -> Result<(), String> {
    let mut c = server.client()?;
    for &op in ops {
        let cmd: Vec<&[u8]> = match op {
            Op::Get => vec![b"GET", b"bench:probe:s"],
            Op::Set => vec![b"SET", b"bench:probe:s", b"v"],
            Op::Incr => vec![b"INCR", b"bench:probe:n"],
            Op::LPush => vec![b"LPUSH", b"bench:probe:l", b"v"],
            Op::LPop => vec![b"LPOP", b"bench:probe:l"],
            Op::ZAdd => vec![b"ZADD", b"bench:probe:z", b"1", b"m"],
            Op::ZRange => vec![b"ZRANGE", b"bench:probe:z", b"0", b"9"],
            Op::MGet => vec![b"MGET", b"bench:probe:s", b"bench:probe:t"],
            Op::Publish => vec![b"PUBLISH", CHANNEL, b"probe"],
        };
        let r = c.command(&cmd).map_err(|e| e.to_string())?;
        if let Some(e) = error_of(&r) {
            return Err(format!("{} unsupported: {e}", op.name().to_uppercase()));
        }
    }
    let _ = c.cmd(&[
        "DEL",
        "bench:probe:s",
        "bench:probe:n",
        "bench:probe:l",
        "bench:probe:z",
    ]);
    Ok(())
}

/// FLUSHALL, then SET key:0..keyspace to values of `value_size` bytes.
fn prefill(server: &Server, keyspace: u64, value_size: usize) -> Result<(), String> {
    let mut c = server.client()?;
    let r = c.cmd(&["FLUSHALL"]).map_err(|e| e.to_string())?;
    if let Some(e) = error_of(&r) {
        return Err(format!("FLUSHALL: {e}"));
    }
    let value = Encoder::new(value_size, 1).value;
    let (errors, first) = bulk_load(server.addr(), keyspace, 1000, |n, out| {
        encode_command(out, &[b"SET", &key_name(b"key:", n), &value]);
    })
    .map_err(|e| format!("prefill {}: {e}", server.kind.name()))?;
    if errors > 0 {
        return Err(format!(
            "prefill {}: {}",
            server.kind.name(),
            first.unwrap_or_default()
        ));
    }
    Ok(())
}

/// One load case of the matrix.
#[derive(Clone)]
struct Case {
    workload: Workload,
    name: String,
    clients: usize,
    pipeline: usize,
    value_size: usize,
    keyspace: u64,
    rate: Option<f64>,
    subscribers: usize,
}

impl Case {
    fn mode(&self) -> String {
        self.rate
            .map_or("closed".into(), |r| format!("open@{r:.0}/s"))
    }
}

impl Bench {
    /// Prints a line and keeps it for summary.txt.
    fn say(&mut self, text: &str) {
        println!("{text}");
        self.summary.push_str(text);
        if !text.ends_with('\n') {
            self.summary.push('\n');
        }
    }

    fn progress(&self, text: &str) {
        eprintln!("  .. {text}");
    }

    fn environment(&self) -> String {
        let p = &self.plan;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# redcore benchmark, {} run",
            if p.quick {
                "QUICK (smoke test: indicative numbers only)"
            } else {
                "full"
            }
        );
        let _ = writeln!(
            s,
            "date            {}",
            command_output("date", &["-Iseconds"])
        );
        let _ = writeln!(s, "host            {}", command_output("uname", &["-srm"]));
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
            })
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "cpu             {cpu_model}; {} CPUs usable",
            p.all_cpus.len()
        );
        let _ = writeln!(
            s,
            "load average    {}",
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        );
        let _ = writeln!(
            s,
            "redis-server    {}",
            command_output(
                &self.args.redis_server.display().to_string(),
                &["--version"]
            )
        );
        let _ = writeln!(
            s,
            "redcore-server  {} (git {})",
            self.redcore_bin().display(),
            command_output("git", &["describe", "--always", "--dirty"])
        );
        let overlap = p.server_cpus.iter().any(|c| p.client_cpus.contains(c));
        let _ = writeln!(
            s,
            "pinning         servers on CPU {} (taskset -c), load generators on CPU {}{}",
            format_cpu_list(&p.server_cpus),
            format_cpu_list(&p.client_cpus),
            if overlap {
                " (OVERLAP: not enough CPUs to separate them)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            s,
            "settings        both on 127.0.0.1, no persistence (redis: --save '' --appendonly no, io-threads 1), redcore --cores {} (one core per server CPU); the persistence section sets its own",
            p.server_cpus.len()
        );
        let _ = writeln!(
            s,
            "runs            warm-up {:.1} s + {:.1} s measured per server per row, in {} alternating round(s) (redcore-load rows); keyspace {}; memory {} keys per type",
            p.warmup.as_secs_f64(),
            p.duration.as_secs_f64(),
            p.rounds,
            p.keyspace,
            p.memory_keys
        );
        s
    }

    fn redcore_bin(&self) -> PathBuf {
        self.args.redcore_server.clone().unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(|d| d.join("redcore-server")))
                .unwrap_or_else(|| PathBuf::from("redcore-server"))
        })
    }

    fn config(&self, kind: Kind, cpus: &[usize], cores: usize) -> ServerConfig {
        let bin = match kind {
            Kind::Redis => self.args.redis_server.clone(),
            Kind::Redcore => self.redcore_bin(),
        };
        ServerConfig::new(kind, bin, cpus, cores, self.work.clone(), self.args.pid_dir.clone())
    }

    fn start(&self, kind: Kind, cpus: &[usize], cores: usize) -> Result<Server, String> {
        Server::start(&self.config(kind, cpus, cores))
    }

    /// How close to an intended send the open loop spins
    /// (`LoadSpec::spin`): 2 ms where the load generator has CPUs no server
    /// uses, so that a late wake-up of its sleeping thread (up to a
    /// millisecond on a VM) is not counted as server latency; the default
    /// where it shares a CPU with a server, which its spinning would slow.
    fn load_spin(&self, server_cpus: &[usize]) -> Duration {
        if server_cpus.iter().any(|c| self.plan.client_cpus.contains(c)) {
            redcore_benches::load::DEFAULT_SPIN
        } else {
            Duration::from_millis(2)
        }
    }

    fn spec(&self, server: &Server, case: &Case) -> LoadSpec {
        LoadSpec {
            spin: self.load_spin(&self.plan.server_cpus),
            clients: case.clients,
            subscribers: case.subscribers,
            pipeline: case.pipeline,
            warmup: self.plan.warmup,
            duration: self.plan.duration,
            rate: case.rate,
            keyspace: case.keyspace,
            value_size: case.value_size,
            ..LoadSpec::new(server.addr(), case.workload.clone())
        }
    }

    /// Runs a case on one server: probe, then load; n/a with the reason on failure.
    fn measure(&self, server: &mut Server, case: &Case) -> (Outcome, Option<LoadReport>) {
        match self.load_part(server, case, 1, 0, true) {
            Err(e) => (Outcome::Na(e), None),
            Ok(r) => (Outcome::Ok(Measure::from_load(&r)), Some(r)),
        }
    }

    /// `m` with the CPU shares of the stretches `cpu` covers.
    fn with_cpu(&self, m: Measure, cpu: CpuUse) -> Measure {
        Measure {
            load_cpu: cpu.load_share(self.plan.client_cpus.len()),
            server_cpu: cpu.server_share(self.plan.server_cpus.len()),
            ..m
        }
    }

    /// Round `round` of `parts` equal parts of a case's warm-up and window
    /// on one server (after a probe when `probe_first`), with that round's
    /// load seed; the reason when it does not count.
    fn load_part(&self, server: &mut Server, case: &Case, parts: u32, round: u32, probe_first: bool) -> Result<LoadReport, String> {
        if probe_first {
            let ops: Vec<Op> = case.workload.ops().collect();
            probe(server, &ops)?;
        }
        let spec = LoadSpec {
            warmup: self.plan.warmup / parts,
            duration: self.plan.duration / parts,
            seed: redcore_benches::round_seed(round),
            ..self.spec(server, case)
        };
        let result = run_load(&spec);
        if !server.alive() {
            return Err(format!("server died: {}", redcore_benches::server::tail(&server.log, 300)));
        }
        let r = result?;
        match r.failure() {
            Some(why) => Err(why),
            None => Ok(r),
        }
    }

    /// The closed-loop rate measured for a shape, both servers combined with `pick`.
    fn rate(
        &self,
        clients: usize,
        pipeline: usize,
        value_size: usize,
        pick: fn(f64, f64) -> f64,
    ) -> Option<f64> {
        pick_servers(|k| self.rates.get(&(clients, pipeline, value_size, k)).copied(), pick)
    }

    /// The closed-loop rate measured for one workload (by row name) and
    /// shape, both servers combined with `pick`.
    fn workload_rate(&self, name: &str, clients: usize, pipeline: usize, value_size: usize, pick: fn(f64, f64) -> f64) -> Option<f64> {
        pick_servers(|k| self.workload_rates.get(&(name.to_string(), clients, pipeline, value_size, k)).copied(), pick)
    }

    fn wanted(&self, label: &str) -> bool {
        self.args
            .filter
            .as_deref()
            .is_none_or(|f| f.split('|').any(|f| label.contains(f)))
    }

    /// Runs one case on both servers and keeps the row.
    fn compare(&mut self, servers: &mut [Server; 2], case: &Case) {
        let mut row = Row {
            workload: case.name.clone(),
            tool: "redcore-load",
            clients: case.clients,
            pipeline: case.pipeline,
            value_size: case.value_size,
            mode: case.mode(),
            redis: Outcome::Na("not run".into()),
            redcore: Outcome::Na("not run".into()),
            round_ratios: Vec::new(),
        };
        if !self.wanted(&row.label()) {
            return;
        }
        // The window is split into rounds that alternate between the servers
        // (Redis first, then redcore first, ...), merged per server.
        let rounds = self.plan.rounds;
        let mut runs: [Option<Result<LoadReport, String>>; 2] = [None, None];
        let mut cpu = [CpuUse::default(); 2];
        let mut round_ops: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for (i, round) in alternating(rounds) {
            let meter = CpuMeter::start(servers[i].pid);
            LoadReport::add_part(&mut runs[i], |first| {
                let part = self.load_part(&mut servers[i], case, rounds, round, first);
                if let Ok(r) = &part {
                    round_ops[i].push(r.throughput());
                }
                part
            });
            cpu[i].add(meter.stop());
        }
        let (r, c) = redis_first(servers);
        row.round_ratios = redcore_benches::report::round_ratios(&round_ops[r], &round_ops[c]);
        for ((server, run), cpu) in servers.iter().zip(runs).zip(cpu) {
            let (outcome, report) = match run.unwrap_or_else(|| Err("not run".into())) {
                Err(e) => (Outcome::Na(e), None),
                Ok(r) => (Outcome::Ok(self.with_cpu(Measure::from_load(&r), cpu)), Some(r)),
            };
            self.progress(&format!(
                "{} on {}: {}",
                row.label(),
                server.kind.name(),
                brief(&outcome)
            ));
            if let Some(r) = report {
                self.curves
                    .extend(curve_rows(&row.label(), server.kind.name(), &r));
                if case.rate.is_none() {
                    self.rates.insert(
                        (case.clients, case.pipeline, case.value_size, server.kind),
                        r.throughput(),
                    );
                    self.workload_rates.insert(
                        (case.name.clone(), case.clients, case.pipeline, case.value_size, server.kind),
                        r.throughput(),
                    );
                }
            }
            match server.kind {
                Kind::Redis => row.redis = outcome,
                Kind::Redcore => row.redcore = outcome,
            }
        }
        self.rows.push(row);
    }

    fn throughput(&mut self, with_load: bool, with_rb: bool) -> Result<(), String> {
        let cpus = self.plan.server_cpus.clone();
        let cores = cpus.len();
        let mut servers = [
            self.start(Kind::Redis, &cpus, 0)?,
            self.start(Kind::Redcore, &cpus, cores)?,
        ];
        self.say(&format!(
            "\n## Throughput and latency (redis pid {} port {}, redcore pid {} port {} --cores {cores})",
            servers[0].pid, servers[0].port, servers[1].pid, servers[1].port
        ));
        let ks = self.plan.keyspace;
        let case = |spec: &str, name: &str, clients, pipeline, value_size, keyspace| Case {
            workload: Workload::parse(spec).expect("static workload"),
            name: name.to_string(),
            clients,
            pipeline,
            value_size,
            keyspace,
            rate: None,
            subscribers: 0,
        };
        for value_size in [32usize, 1024] {
            for s in servers.iter() {
                prefill(s, ks, value_size)?;
            }
            if with_load {
                for (spec, name) in [
                    ("get:1,set:10", "GET:SET 1:10"),
                    ("get:10,set:1", "GET:SET 10:1"),
                ] {
                    for clients in [1usize, 50] {
                        for pipeline in [1usize, 16] {
                            let c = case(spec, name, clients, pipeline, value_size, ks);
                            self.compare(&mut servers, &c);
                        }
                    }
                }
            }
            if with_rb {
                self.rb_matrix(&mut servers, value_size)?;
            }
        }
        if with_load {
            for s in servers.iter() {
                prefill(s, ks, 32)?;
            }
            for pipeline in [1usize, 16] {
                for (spec, name, keyspace) in [
                    ("incr", "INCR", ks),
                    ("lpush:1,lpop:1", "LPUSH:LPOP 1:1", 1000),
                    ("zadd:1,zrange:1", "ZADD:ZRANGE 1:1", 1000),
                    ("mget", "MGET 10 keys", ks),
                ] {
                    let c = case(spec, name, 50, pipeline, 32, keyspace);
                    self.compare(&mut servers, &c);
                }
                let mut c = case("publish", "PUBLISH fan-out 1->50", 1, pipeline, 32, ks);
                c.subscribers = 50;
                self.compare(&mut servers, &c);
            }
            // Open loop at half the slower server's closed-loop rate of the
            // same workload without pipelining: latency under a load both can
            // sustain, free of coordinated omission. The pipeline 16 row uses
            // that rate too: an open-loop client sends each request at its
            // own time, so requests arrive one by one and are not batched as
            // in a closed-loop pipeline, and half the pipelined rate would
            // overload both servers. (Before session 12 the base was the last
            // row of the shape's rate: MGET's.)
            let base = self.workload_rate("GET:SET 10:1", 50, 1, 32, f64::min).unwrap_or(20_000.0);
            for pipeline in [1usize, 16] {
                let mut c = case("get:10,set:1", "GET:SET 10:1", 50, pipeline, 32, ks);
                c.rate = Some((base * 0.5).max(1000.0).round());
                self.compare(&mut servers, &c);
            }
        }
        if with_rb {
            for s in servers.iter() {
                prefill(s, ks, 32)?;
            }
            for pipeline in [1usize, 16] {
                self.rb_extra(&mut servers, pipeline)?;
            }
        }
        drop(servers);
        let rows = self.rows.clone();
        self.say(&format!(
            "ratio = redcore/Redis throughput; latency cells are redis / redcore; redis-benchmark has no p99.9.\nload CPU % / server CPU % = busy share of the load generator's / the server's CPUs during the row (redcore polls between requests: near 100 % under any steady load); a load CPU near 100 % means the client, not the server, sets the pace.\n{}",
            report::throughput_table(&rows)
        ));
        let notes = report::na_notes(&rows);
        if !notes.is_empty() {
            self.say(&format!("n/a reasons:\n{notes}"));
        }
        write_throughput_csv(&self.args.out.join("throughput.csv"), &rows)
            .map_err(|e| e.to_string())?;
        write_csv(
            &self.args.out.join("latency_curves.csv"),
            &["workload", "server", "percentile", "latency_us"],
            &self.curves,
        )
        .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Server CPU time per request at a fixed open-loop rate both servers
    /// sustain. redcore runs with `spin-before-park-us = 0`: it sleeps when
    /// it has nothing to do, as Redis does, so its CPU time is its work.
    fn cost(&mut self) -> Result<(), String> {
        let cpus = self.plan.server_cpus.clone();
        let cores = cpus.len();
        let redcore = ServerConfig {
            redcore_config: vec!["spin-before-park-us = 0".to_string()],
            tag: "nospin".into(),
            ..self.config(Kind::Redcore, &cpus, cores)
        };
        let mut servers = [self.start(Kind::Redis, &cpus, 0)?, Server::start(&redcore)?];
        self.say(&format!(
            "\n## Cost per request: server CPU time per request in open loop at half the slower server's closed-loop rate without pipelining (redis pid {}, redcore pid {} --cores {cores} with spin-before-park-us = 0)",
            servers[0].pid, servers[1].pid
        ));
        let ks = self.plan.keyspace;
        for s in servers.iter() {
            prefill(s, ks, 32)?;
        }
        let first = self.rows.len();
        // The slower server's closed-loop rate per workload, measured once
        // for its two rows.
        let mut slower_rates: HashMap<&str, Option<f64>> = HashMap::new();
        for (spec, name, keyspace, pipeline) in [
            ("get:10,set:1", "GET:SET 10:1", ks, 1usize),
            ("get:10,set:1", "GET:SET 10:1", ks, 16),
            ("zadd:1,zrange:1", "ZADD:ZRANGE 1:1", 1000, 1),
            ("zadd:1,zrange:1", "ZADD:ZRANGE 1:1", 1000, 16),
        ] {
            let mut case = Case {
                workload: Workload::parse(spec).expect("static workload"),
                name: format!("{name} (cost)"),
                clients: 50,
                pipeline,
                value_size: 32,
                keyspace,
                rate: None,
                subscribers: 0,
            };
            if !self.wanted(&format!("{} 32B c50 P{pipeline}", case.name)) {
                continue;
            }
            // The closed-loop rate of each server without pipelining, here
            // and now. Also for the pipeline 16 rows: in open loop requests
            // arrive one by one, not in batches, and half the pipelined
            // closed-loop rate kept both servers 98 % busy (session 12), which
            // makes CPU time per request read 1/rate for both.
            if !slower_rates.contains_key(name) {
                let closed = Case { pipeline: 1, ..case.clone() };
                let mut rates = Vec::new();
                for server in servers.iter_mut() {
                    if let (Outcome::Ok(m), _) = self.measure(server, &closed) {
                        rates.push(m.ops);
                    }
                }
                slower_rates.insert(name, rates.into_iter().reduce(f64::min));
            }
            let Some(slower) = slower_rates[name] else {
                self.progress(&format!("{name} P{pipeline}: no closed-loop rate, skipped"));
                continue;
            };
            case.rate = Some((slower * 0.5).max(1000.0).round());
            self.compare(&mut servers, &case);
        }
        let rows: Vec<Row> = self.rows.drain(first..).collect();
        let per_request = |o: &Outcome| o.measure().and_then(|m| Some(m.server_cpu? * cores as f64 * 1e6 / m.ops));
        // A server this busy has no idle time left to measure against: its
        // CPU time per request is about 1/rate, and for redcore it includes
        // waking up for each few requests (it parks between them with
        // spin-before-park-us = 0), which costs less per request under more
        // load. An upper bound of the work per request, then.
        let saturated = |o: &Outcome| o.measure().and_then(|m| m.server_cpu).is_some_and(|busy| busy >= 0.95);
        let mut lines = Vec::new();
        let mut csv = Vec::new();
        for r in &rows {
            let (a, b) = (per_request(&r.redis), per_request(&r.redcore));
            let (sat_a, sat_b) = (saturated(&r.redis), saturated(&r.redcore));
            let us = |v: Option<f64>, sat: bool| v.map_or("n/a".to_string(), |v| format!("{v:.2}{}", if sat { "*" } else { "" }));
            let ratio = match (a, b) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            };
            let lat = |f: fn(&Measure) -> f64| {
                let one = |o: &Outcome| o.measure().map_or("n/a".to_string(), |m| fmt_us(f(m)));
                format!("{} / {}", one(&r.redis), one(&r.redcore))
            };
            lines.push(vec![
                r.label(),
                us(a, sat_a),
                us(b, sat_b),
                ratio.map_or("n/a".into(), |x| format!("{x:.2}")),
                lat(|m| m.p50_us),
                lat(|m| m.p99_us),
            ]);
            let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
            let m = |o: &Outcome, f: fn(&Measure) -> f64| num(o.measure().map(f));
            csv.push(vec![
                r.workload.clone(),
                r.clients.to_string(),
                r.pipeline.to_string(),
                r.mode.clone(),
                num(a),
                num(b),
                num(ratio),
                m(&r.redis, |m| m.p50_us),
                m(&r.redcore, |m| m.p50_us),
                m(&r.redis, |m| m.p99_us),
                m(&r.redcore, |m| m.p99_us),
            ]);
        }
        self.say(&format!(
            "CPU µs/request = server CPU time / requests served; ratio = Redis's / redcore's (above 1: redcore does the same work with less CPU);\n* = the server was at least 95 % busy during the row: its figure is then about 1/rate, an upper bound of its work per request (for redcore it includes waking up from park for every few requests, which costs less per request under more load)\n{}",
            table(&["workload", "redis CPU µs/req", "redcore CPU µs/req", "ratio", "p50 µs (redis / redcore)", "p99 µs"], &lines)
        ));
        write_csv(
            &self.args.out.join("cost.csv"),
            &["workload", "clients", "pipeline", "mode", "redis_cpu_us_per_req", "redcore_cpu_us_per_req", "ratio", "redis_p50_us", "redcore_p50_us", "redis_p99_us", "redcore_p99_us"],
            &csv,
        )
        .map_err(|e| e.to_string())
    }

    /// redis-benchmark GET and SET for one value size over clients × pipeline.
    fn rb_matrix(&mut self, servers: &mut [Server; 2], value_size: usize) -> Result<(), String> {
        for clients in [1usize, 50] {
            for pipeline in [1usize, 16] {
                for test in ["set", "get"] {
                    self.rb_row(servers, test, &[], clients, pipeline, value_size);
                }
            }
        }
        Ok(())
    }

    /// redis-benchmark INCR, LPUSH, LPOP, ZADD, ZRANGE, MGET at 50 clients.
    fn rb_extra(&mut self, servers: &mut [Server; 2], pipeline: usize) -> Result<(), String> {
        for test in ["incr", "lpush", "lpop", "zadd"] {
            self.rb_row(servers, test, &[], 50, pipeline, 32);
        }
        let zrange: Vec<String> = ["ZRANGE", "myzset", "0", "9"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        self.rb_row(servers, "zrange", &zrange, 50, pipeline, 32);
        let mut mget = vec!["MGET".to_string()];
        mget.extend((0..10).map(|_| "key:__rand_int__".to_string()));
        self.rb_row(servers, "mget", &mget, 50, pipeline, 32);
        Ok(())
    }

    fn rb_row(
        &mut self,
        servers: &mut [Server; 2],
        test: &str,
        command: &[String],
        clients: usize,
        pipeline: usize,
        value_size: usize,
    ) {
        let name = match test {
            "mget" => "MGET 10 keys".to_string(),
            t => t.to_uppercase(),
        };
        let mut row = Row {
            workload: name,
            tool: "redis-benchmark",
            clients,
            pipeline,
            value_size,
            mode: "closed".into(),
            redis: Outcome::Na("not run".into()),
            redcore: Outcome::Na("not run".into()),
            round_ratios: Vec::new(),
        };
        if !self.wanted(&row.label()) {
            return;
        }
        let op = Op::parse(test).unwrap_or(Op::Get);
        // Size the run from what redcore-load measured for this shape.
        let guess = self
            .rate(clients, pipeline, value_size, f64::max)
            .unwrap_or(match (clients, pipeline) {
                (1, 1) => 15_000.0,
                (1, _) => 150_000.0,
                (_, 1) => 50_000.0,
                _ => 300_000.0,
            });
        // Like the redcore-load rows: the run is split into rounds that
        // alternate between the servers, so a slow spell of the machine
        // weighs on both (a single run per server was often hit by one).
        let rounds = self.plan.rounds.max(1);
        let requests = ((guess * self.plan.rb_secs) as u64 / rounds as u64).max(2000);
        let mut done: [Vec<Measure>; 2] = [Vec::new(), Vec::new()];
        let mut failed: [Option<String>; 2] = [None, None];
        for (i, _) in alternating(rounds) {
            if failed[i].is_some() {
                continue;
            }
            let server = &mut servers[i];
            let outcome = match probe(server, &[op]) {
                Err(e) => Err(e),
                Ok(()) => {
                    let run = RbRun {
                        bin: self.args.redis_benchmark.clone(),
                        port: server.port,
                        clients,
                        pipeline,
                        data_size: value_size,
                        requests,
                        keyspace: self.plan.keyspace,
                        tests: test.to_string(),
                        command: command.to_vec(),
                        timeout: secs(self.plan.rb_secs * 10.0 + 15.0),
                    };
                    let meter = CpuMeter::start(server.pid);
                    let m = rb_measure(&run);
                    let cpu = meter.stop();
                    m.map(|m| self.with_cpu(m, cpu))
                }
            };
            match outcome {
                Ok(m) if server.alive() => done[i].push(m),
                Ok(_) => failed[i] = Some("server died".into()),
                Err(e) => failed[i] = Some(e),
            }
        }
        let ops = |i: usize| done[i].iter().map(|m| m.ops).collect::<Vec<f64>>();
        let (r, c) = redis_first(servers);
        row.round_ratios = redcore_benches::report::round_ratios(&ops(r), &ops(c));
        for (i, server) in servers.iter().enumerate() {
            let outcome = match (failed[i].take(), Measure::combine_rounds(&done[i])) {
                (Some(e), _) => Outcome::Na(e),
                (None, Some(m)) => Outcome::Ok(m),
                (None, None) => Outcome::Na("no result".into()),
            };
            self.progress(&format!(
                "{} [redis-benchmark] on {}: {}",
                row.label(),
                server.kind.name(),
                brief(&outcome)
            ));
            match server.kind {
                Kind::Redis => row.redis = outcome,
                Kind::Redcore => row.redcore = outcome,
            }
        }
        self.rows.push(row);
    }

    fn memory(&mut self) -> Result<(), String> {
        let n = self.plan.memory_keys;
        self.say(&format!("\n## Memory: bytes per key, {n} keys per type, fresh server each (INFO used_memory and RSS, after - before)"));
        let cpus = self.plan.server_cpus.clone();
        let cores = cpus.len();
        type Maker = fn(u64, &mut Vec<u8>);
        let kinds: [(&str, &str, Op, Maker); 3] = [
            ("strings", "SET key 16-byte value", Op::Set, |i, out| {
                encode_command(out, &[b"SET", &key_name(b"mem:s:", i), b"0123456789abcdef"]);
            }),
            (
                "hashes",
                "HSET key, 5 fields of 8-byte values",
                Op::Set,
                |i, out| {
                    encode_command(
                        out,
                        &[
                            b"HSET",
                            &key_name(b"mem:h:", i),
                            b"f0",
                            b"value000",
                            b"f1",
                            b"value001",
                            b"f2",
                            b"value002",
                            b"f3",
                            b"value003",
                            b"f4",
                            b"value004",
                        ],
                    );
                },
            ),
            ("zsets", "ZADD key, 5 members", Op::ZAdd, |i, out| {
                encode_command(
                    out,
                    &[
                        b"ZADD",
                        &key_name(b"mem:z:", i),
                        b"1",
                        b"m0",
                        b"2",
                        b"m1",
                        b"3",
                        b"m2",
                        b"4",
                        b"m3",
                        b"5",
                        b"m4",
                    ],
                );
            }),
        ];
        let mut csv = Vec::new();
        let mut lines = Vec::new();
        for (kind, shape, _, make) in kinds {
            // Per server: bytes per key by used_memory and by RSS.
            let mut cells: HashMap<&str, [Option<f64>; 2]> = HashMap::new();
            for server_kind in [Kind::Redis, Kind::Redcore] {
                let server = self.start(
                    server_kind,
                    &cpus,
                    if server_kind == Kind::Redcore {
                        cores
                    } else {
                        0
                    },
                )?;
                let result = measure_memory(&server, n, make);
                let name = server_kind.name();
                match result {
                    Ok(m) => {
                        self.progress(&format!(
                            "memory {kind} on {name}: {:.1} B/key used, {:.1} B/key RSS",
                            m.per_key_used(n),
                            m.per_key_rss(n)
                        ));
                        csv.push(vec![
                            kind.to_string(),
                            shape.to_string(),
                            name.to_string(),
                            n.to_string(),
                            "ok".into(),
                            m.used_before.to_string(),
                            m.used_after.to_string(),
                            m.rss_before.to_string(),
                            m.rss_after.to_string(),
                            format!("{:.2}", m.per_key_used(n)),
                            format!("{:.2}", m.per_key_rss(n)),
                        ]);
                        cells.insert(name, [Some(m.per_key_used(n)), Some(m.per_key_rss(n))]);
                    }
                    Err(e) => {
                        self.progress(&format!("memory {kind} on {name}: n/a ({e})"));
                        csv.push(vec![
                            kind.to_string(),
                            shape.to_string(),
                            name.to_string(),
                            n.to_string(),
                            format!("n/a: {e}"),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                        ]);
                        cells.insert(name, [None, None]);
                    }
                }
            }
            let get = |s: &str, i: usize| {
                cells
                    .get(s)
                    .and_then(|c| c[i])
                    .map_or("n/a".to_string(), |v| format!("{v:.1}"))
            };
            let ratio = match (
                cells.get("redis").and_then(|c| c[0]),
                cells.get("redcore").and_then(|c| c[0]),
            ) {
                (Some(a), Some(b)) if a > 0.0 => format!("{:.2}", b / a),
                _ => "n/a".into(),
            };
            lines.push(vec![
                kind.to_string(),
                shape.to_string(),
                get("redis", 0),
                get("redcore", 0),
                ratio,
                get("redis", 1),
                get("redcore", 1),
            ]);
        }
        self.say(&table(
            &[
                "type",
                "shape",
                "redis B/key (used_memory)",
                "redcore B/key (used_memory)",
                "ratio",
                "redis B/key (RSS)",
                "redcore B/key (RSS)",
            ],
            &lines,
        ));
        write_csv(
            &self.args.out.join("memory.csv"),
            &[
                "type",
                "shape",
                "server",
                "keys",
                "status",
                "used_before",
                "used_after",
                "rss_before",
                "rss_after",
                "bytes_per_key_used",
                "bytes_per_key_rss",
            ],
            &csv,
        )
        .map_err(|e| e.to_string())?;
        self.memory_connections()
    }

    /// RSS per idle client connection, and again after all of them closed
    /// and as many new ones opened (freed memory reused) → `memory_connections.csv`.
    fn memory_connections(&mut self) -> Result<(), String> {
        let n = CONN_SAMPLE;
        self.say(&format!(
            "\n## Memory per connection: {n} idle connections (one PING each), fresh server each; RSS after - before, then after closing them and opening {n} new ones"
        ));
        let cpus = self.plan.server_cpus.clone();
        let mut csv = Vec::new();
        let mut cells: HashMap<&str, Option<(f64, f64)>> = HashMap::new();
        for kind in [Kind::Redis, Kind::Redcore] {
            let server = self.start(kind, &cpus, if kind == Kind::Redcore { cpus.len() } else { 0 })?;
            let name = kind.name();
            match measure_connections(&server, n) {
                Ok((open, churned)) => {
                    self.progress(&format!("connections on {name}: {open:.0} B/connection, {churned:.0} after churn"));
                    csv.push(vec![name.to_string(), n.to_string(), "ok".into(), format!("{open:.0}"), format!("{churned:.0}")]);
                    cells.insert(name, Some((open, churned)));
                }
                Err(e) => {
                    self.progress(&format!("connections on {name}: n/a ({e})"));
                    csv.push(vec![name.to_string(), n.to_string(), format!("n/a: {e}"), String::new(), String::new()]);
                    cells.insert(name, None);
                }
            }
        }
        let cell = |s: &str, f: fn((f64, f64)) -> f64| cells.get(s).copied().flatten().map_or("n/a".to_string(), |c| format!("{:.0}", f(c)));
        self.say(&table(
            &["", "redis B/connection (RSS)", "redcore B/connection (RSS)"],
            &[
                vec!["open".to_string(), cell("redis", |c| c.0), cell("redcore", |c| c.0)],
                vec!["after churn".to_string(), cell("redis", |c| c.1), cell("redcore", |c| c.1)],
            ],
        ));
        write_csv(
            &self.args.out.join("memory_connections.csv"),
            &["server", "connections", "status", "rss_bytes_per_connection", "rss_bytes_per_connection_after_churn"],
            &csv,
        )
        .map_err(|e| e.to_string())
    }

    /// The `persistence` section (see `redcore_benches::persist_bench`).
    fn persistence(&mut self) -> Result<(), String> {
        let p = &self.plan;
        let ctx = persist_bench::Ctx {
            redis_bin: self.args.redis_server.clone(),
            redcore_bin: self.redcore_bin(),
            server_cpus: p.server_cpus.clone(),
            client_cpus: p.client_cpus.clone(),
            work_dir: self.work.clone(),
            pid_dir: self.args.pid_dir.clone(),
            out_dir: self.args.out.clone(),
            quick: p.quick,
            warmup: p.warmup,
            duration: p.duration,
            rounds: p.rounds,
            keyspace: p.keyspace,
            snapshot_keys: self.args.snapshot_keys.unwrap_or(if p.quick {
                100_000
            } else {
                1_000_000
            }),
        };
        persist_bench::run(&ctx, &mut |text: &str| self.say(text))
    }

    /// The core counts the scaling section runs: `--scaling-cores`, or 1 to
    /// the number of CPUs.
    fn scaling_cores(&self) -> Vec<usize> {
        let ncpu = self.plan.all_cpus.len();
        match &self.args.scaling_cores {
            Some(list) => list.split(',').filter_map(|k| k.trim().parse().ok()).filter(|&k| k >= 1 && k <= ncpu).collect(),
            None => (1..=ncpu).collect(),
        }
    }

    fn scaling(&mut self) -> Result<(), String> {
        let p = self.plan.clone();
        let ks_list = self.scaling_cores();
        let clients = self.args.scaling_clients.max(1);
        self.say(&format!(
            "\n## Scaling: redcore --cores {}, GET:SET 10:1, 32 B, {clients} clients (load generator on CPU {})",
            format_cpu_list(&ks_list),
            format_cpu_list(&p.client_cpus)
        ));
        let ks = p.keyspace;
        // Server CPUs for k cores: the server CPUs first, then the clients' (overlap noted).
        let order: Vec<usize> = p
            .server_cpus
            .iter()
            .chain(p.client_cpus.iter())
            .chain(p.all_cpus.iter())
            .copied()
            .fold(Vec::new(), |mut v, c| {
                if !v.contains(&c) {
                    v.push(c);
                }
                v
            });
        let client_cpus = p.client_cpus.clone();
        let mut csv = Vec::new();
        let mut lines = Vec::new();
        let workload = Workload::parse("get:10,set:1").expect("static workload");
        // The one workload of this section, Redis and redcore alike.
        let case_for = |pipeline: usize| Case {
            workload: workload.clone(),
            name: "GET:SET 10:1".into(),
            clients,
            pipeline,
            value_size: 32,
            keyspace: ks,
            rate: None,
            subscribers: 0,
        };
        // Redis reference at the same load, on the same server CPUs as k = 1.
        {
            let cpus = vec![order[0]];
            let mut redis = self.start(Kind::Redis, &cpus, 0)?;
            prefill(&redis, ks, 32)?;
            for pipeline in [1usize, 16] {
                let case = case_for(pipeline);
                let (o, _) = self.measure(&mut redis, &case);
                let m = o.measure().cloned();
                self.progress(&format!(
                    "scaling redis (1 thread) P{pipeline}: {}",
                    brief(&o)
                ));
                csv.push(scaling_csv(
                    "redis",
                    1,
                    &cpus,
                    false,
                    pipeline,
                    m.as_ref(),
                    None,
                    &o,
                ));
                lines.push(scaling_line(
                    "redis",
                    1,
                    &cpus,
                    false,
                    pipeline,
                    m.as_ref(),
                    None,
                ));
            }
        }
        for &k in &ks_list {
            let cpus: Vec<usize> = order.iter().copied().take(k).collect();
            let overlap = cpus.iter().any(|c| client_cpus.contains(c));
            let mut server = self.start(Kind::Redcore, &cpus, k)?;
            prefill(&server, ks, 32)?;
            for pipeline in [1usize, 16] {
                let case = case_for(pipeline);
                let before = stats(&server);
                let (o, _) = self.measure(&mut server, &case);
                let after = stats(&server);
                let share = match (before, after) {
                    (Ok((c0, f0)), Ok((c1, f1))) if c1 > c0 => {
                        Some((f1.saturating_sub(f0)) as f64 / (c1 - c0) as f64)
                    }
                    _ => None,
                };
                let m = o.measure().cloned();
                self.progress(&format!(
                    "scaling redcore --cores {k} P{pipeline}: {} forwarded {}",
                    brief(&o),
                    share.map_or("n/a".into(), |s| format!("{:.1}%", s * 100.0))
                ));
                csv.push(scaling_csv(
                    "redcore",
                    k,
                    &cpus,
                    overlap,
                    pipeline,
                    m.as_ref(),
                    share,
                    &o,
                ));
                lines.push(scaling_line(
                    "redcore",
                    k,
                    &cpus,
                    overlap,
                    pipeline,
                    m.as_ref(),
                    share,
                ));
            }
        }
        self.say(&table(
            &[
                "server",
                "cores",
                "server CPUs",
                "pipeline",
                "ops/s",
                "p50 µs",
                "p99 µs",
                "p99.9 µs",
                "forwarded",
            ],
            &lines,
        ));
        if order.len() > p.server_cpus.len() {
            self.say("(* = server shares CPUs with the load generator: not enough CPUs to keep them apart)");
        }
        write_csv(
            &self.args.out.join("scaling.csv"),
            &[
                "server",
                "cores",
                "server_cpus",
                "shares_cpu_with_load",
                "pipeline",
                "ops",
                "p50_us",
                "p99_us",
                "p999_us",
                "max_us",
                "forwarded_share",
                "status",
            ],
            &csv,
        )
        .map_err(|e| e.to_string())?;
        self.scaling_mset(&order, &ks_list, clients)?;
        self.forwarding(&order)
    }

    /// `redis-benchmark -t mset -P 16 -c 50` per `--cores k`: MSET of ten
    /// random keys, which spans cores from k = 2 on. Its max latency guards
    /// against scheduler stalls of cores sharing CPUs (a `sched_yield` in
    /// the driver's idle bursts once held 1 % of these requests for 1.5 s).
    fn scaling_mset(&mut self, order: &[usize], ks_list: &[usize], clients: usize) -> Result<(), String> {
        self.say(&format!(
            "\n## Scaling, MSET of 10 keys across cores: redis-benchmark -t mset -c {clients} -P 16, redcore --cores {}",
            format_cpu_list(ks_list)
        ));
        let client_cpus = self.plan.client_cpus.clone();
        let requests = ((self.plan.rb_secs * 100_000.0) as u64).max(2000);
        let mut csv = Vec::new();
        let mut lines = Vec::new();
        let mut runs: Vec<(Kind, usize)> = vec![(Kind::Redis, 1)];
        runs.extend(ks_list.iter().map(|&k| (Kind::Redcore, k)));
        for (kind, k) in runs {
            let cpus: Vec<usize> = order.iter().copied().take(k).collect();
            let overlap = cpus.iter().any(|c| client_cpus.contains(c));
            let mut server = self.start(kind, &cpus, if kind == Kind::Redis { 0 } else { k })?;
            let run = RbRun {
                bin: self.args.redis_benchmark.clone(),
                port: server.port,
                clients,
                pipeline: 16,
                data_size: 32,
                requests,
                keyspace: self.plan.keyspace,
                tests: "mset".into(),
                command: Vec::new(),
                timeout: secs(self.plan.rb_secs * 10.0 + 15.0),
            };
            let result = rb_measure(&run);
            let result = match result {
                Ok(_) if !server.alive() => Err("server died".to_string()),
                r => r,
            };
            let name = kind.name();
            self.progress(&format!(
                "scaling MSET {name} cores {k}: {}",
                match &result {
                    Ok(m) => format!("{} ops/s, max {} us", fmt_ops(m.ops), fmt_us(m.max_us)),
                    Err(e) => e.clone(),
                }
            ));
            let m = result.as_ref().ok();
            let f = |g: fn(&Measure) -> f64| m.map_or("n/a".to_string(), |m| fmt_us(g(m)));
            lines.push(vec![
                name.to_string(),
                if kind == Kind::Redis { "1 thread".into() } else { k.to_string() },
                format!("{}{}", format_cpu_list(&cpus), if overlap { "*" } else { "" }),
                m.map_or("n/a".into(), |m| fmt_ops(m.ops)),
                f(|m| m.p50_us),
                f(|m| m.p99_us),
                f(|m| m.max_us),
            ]);
            let num = |g: fn(&Measure) -> f64| m.map_or(String::new(), |m| format!("{:.3}", g(m)));
            csv.push(vec![
                name.to_string(),
                k.to_string(),
                format_cpu_list(&cpus),
                overlap.to_string(),
                num(|m| m.ops),
                num(|m| m.p50_us),
                num(|m| m.p99_us),
                num(|m| m.max_us),
                match &result {
                    Ok(_) => "ok".into(),
                    Err(e) => format!("n/a: {e}"),
                },
            ]);
        }
        self.say(&table(&["server", "cores", "server CPUs", "ops/s", "p50 µs", "p99 µs", "max µs"], &lines));
        write_csv(
            &self.args.out.join("scaling_mset.csv"),
            &["server", "cores", "server_cpus", "shares_cpu_with_load", "ops", "p50_us", "p99_us", "max_us", "status"],
            &csv,
        )
        .map_err(|e| e.to_string())
    }

    /// Local vs forwarded GET latency with 2 cores.
    fn forwarding(&mut self, order: &[usize]) -> Result<(), String> {
        if order.len() < 2 {
            self.say("\n## Local vs forwarded GET latency: n/a (needs 2 CPUs)");
            return Ok(());
        }
        let cpus = order[..2].to_vec();
        let overlap = cpus.iter().any(|c| self.plan.client_cpus.contains(c));
        self.say(&format!(
            "\n## Local vs forwarded GET latency: redcore --cores 2 on CPU {}{}; keys chosen per connection from CLIENT INFO core= and slots::key_slot",
            format_cpu_list(&cpus),
            if overlap { " (shared with the load generator)" } else { "" }
        ));
        // Core i runs on the i-th lowest of its CPUs. Where the load
        // generator has CPUs of its own, the connections stay on core 0 and
        // "local" and "remote" differ only by the hop between cores. Where
        // it shares one of the two CPUs (a 2-CPU machine), both ways of
        // sharing are measured: connections on the core with a CPU of its
        // own (the forwarded-to core then shares its CPU with the load
        // generator, and each forward waits for the scheduler to switch to
        // it), and connections on the core that shares (the forwarded-to
        // core has its CPU to itself, as every core does on a machine with
        // spare CPUs for the load).
        let mut sorted = cpus.clone();
        sorted.sort_unstable();
        let arrangements: Vec<(usize, &str)> = match sorted.iter().position(|c| !self.plan.client_cpus.contains(c)) {
            Some(own) if overlap => vec![(own, "conn core alone"), (1 - own, "conn core shared")],
            Some(own) => vec![(own, "")],
            None => vec![(0, "")],
        };
        for (core, what) in &arrangements {
            let what = if what.is_empty() { String::new() } else { format!(": {what}") };
            self.say(&format!("(connections kept on core {core}, CPU {}{what})", sorted[*core]));
        }
        let ks = self.plan.keyspace;
        let mut server = self.start(Kind::Redcore, &cpus, 2)?;
        prefill(&server, ks, 32)?;
        let rate = if self.plan.quick { 5000.0 } else { 10_000.0 };
        let mut csv = Vec::new();
        let mut lines = Vec::new();
        for &(conn, arrangement) in &arrangements {
            for (clients, pipeline, open) in
                [(1usize, 1usize, None), (10, 1, Some(rate)), (50, 16, None)]
            {
                // Local and remote alternate in rounds (local first, then remote
                // first, ...), so a slow spell of the machine weighs on both.
                let placements = [Placement::Local, Placement::Remote];
                let rounds = self.plan.rounds.max(1);
                let mut runs: [Option<Result<LoadReport, String>>; 2] = [None, None];
                // (commands processed, commands forwarded) over the rounds.
                let mut counts: [Option<(u64, u64)>; 2] = [Some((0, 0)); 2];
                for (i, round) in alternating(rounds) {
                    let spec = LoadSpec {
                        clients,
                        pipeline,
                        warmup: self.plan.warmup / rounds,
                        duration: self.plan.duration / rounds,
                        rate: open,
                        keyspace: ks,
                        value_size: 32,
                        placement: placements[i],
                        conn_core: Some(conn),
                        server_cores: 2,
                        spin: self.load_spin(&cpus),
                        seed: redcore_benches::round_seed(round),
                        ..LoadSpec::new(server.addr(), Workload::parse("get").expect("static workload"))
                    };
                    let count = &mut counts[i];
                    LoadReport::add_part(&mut runs[i], |_| {
                        let before = stats(&server);
                        let result = run_load(&spec).and_then(|r| match r.failure() {
                            None => Ok(r),
                            Some(why) => Err(why),
                        });
                        let after = stats(&server);
                        *count = match (*count, before, after) {
                            (Some((c, f)), Ok((c0, f0)), Ok((c1, f1))) => Some((c + c1.saturating_sub(c0), f + f1.saturating_sub(f0))),
                            _ => None,
                        };
                        result
                    });
                }
                let mut local_p50 = None;
                for ((placement, run), count) in placements.into_iter().zip(runs).zip(counts) {
                    let share = count.and_then(|(c, f)| (c > 0).then(|| f as f64 / c as f64));
                    let mode = open.map_or("closed".to_string(), |r| format!("open@{r:.0}/s"));
                    let place = format!("{placement:?}").to_lowercase();
                    let outcome = match run.unwrap_or_else(|| Err("not run".into())) {
                        Ok(r) => Outcome::Ok(Measure::from_load(&r)),
                        Err(e) => Outcome::Na(e),
                    };
                    self.progress(&format!(
                        "GET {place} c{clients} P{pipeline} {mode}: {}",
                        brief(&outcome)
                    ));
                    let m = outcome.measure();
                    // Remote p50 / local p50 of the same load.
                    let vs_local = match placement {
                        Placement::Local => {
                            local_p50 = m.map(|m| m.p50_us);
                            None
                        }
                        _ => local_p50.zip(m).and_then(|(l, m)| (l > 0.0).then(|| m.p50_us / l)),
                    };
                    let f = |g: fn(&Measure) -> f64| m.map_or("n/a".to_string(), |m| fmt_us(g(m)));
                    lines.push(vec![
                        place.clone(),
                        arrangement.to_string(),
                        format!("c{clients} P{pipeline} {mode}"),
                        m.map_or("n/a".into(), |m| fmt_ops(m.ops)),
                        f(|m| m.p50_us),
                        f(|m| m.p99_us),
                        f(|m| m.p999_us.unwrap_or(0.0)),
                        f(|m| m.max_us),
                        share.map_or("n/a".into(), |s| format!("{:.1}%", s * 100.0)),
                        vs_local.map_or("-".into(), |x| format!("{x:.2}x")),
                    ]);
                    csv.push(vec![
                        place,
                        conn.to_string(),
                        (arrangement == "conn core shared").to_string(),
                        clients.to_string(),
                        pipeline.to_string(),
                        mode,
                        m.map_or(String::new(), |m| format!("{:.1}", m.ops)),
                        m.map_or(String::new(), |m| format!("{:.3}", m.p50_us)),
                        m.map_or(String::new(), |m| format!("{:.3}", m.p99_us)),
                        m.map_or(String::new(), |m| {
                            format!("{:.3}", m.p999_us.unwrap_or(0.0))
                        }),
                        m.map_or(String::new(), |m| format!("{:.3}", m.max_us)),
                        share.map_or(String::new(), |s| format!("{s:.4}")),
                        vs_local.map_or(String::new(), |x| format!("{x:.4}")),
                        match &outcome {
                            Outcome::Ok(_) => "ok".into(),
                            Outcome::Na(w) => format!("n/a: {w}"),
                        },
                    ]);
                }
            }
        }
        server.stop();
        self.say(&table(
            &[
                "keys",
                "connections",
                "load",
                "ops/s",
                "p50 µs",
                "p99 µs",
                "p99.9 µs",
                "max µs",
                "forwarded",
                "p50 vs local",
            ],
            &lines,
        ));
        write_csv(
            &self.args.out.join("forwarding.csv"),
            &[
                "placement",
                "conn_core",
                "conn_cpu_shared_with_load",
                "clients",
                "pipeline",
                "mode",
                "ops",
                "p50_us",
                "p99_us",
                "p999_us",
                "max_us",
                "forwarded_share",
                "p50_vs_local",
                "status",
            ],
            &csv,
        )
        .map_err(|e| e.to_string())
    }
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

/// (total_commands_processed, total_forwarded_commands) from INFO stats.
fn stats(server: &Server) -> Result<(u64, u64), String> {
    let mut c = server.client()?;
    let info = c.info("stats").map_err(|e| e.to_string())?;
    let get = |k: &str| info.get(k).and_then(|v| v.parse::<u64>().ok());
    match (
        get("total_commands_processed"),
        get("total_forwarded_commands"),
    ) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err("INFO stats lacks total_commands_processed / total_forwarded_commands".into()),
    }
}

/// One `redis-benchmark` run and its first (only) result row.
fn rb_measure(run: &RbRun) -> Result<Measure, String> {
    rbench::run(run).and_then(|rows| rows.first().map(Measure::from_rbench).ok_or_else(|| "no result row".to_string()))
}

#[allow(clippy::too_many_arguments)]
fn scaling_csv(
    server: &str,
    cores: usize,
    cpus: &[usize],
    overlap: bool,
    pipeline: usize,
    m: Option<&Measure>,
    share: Option<f64>,
    o: &Outcome,
) -> Vec<String> {
    let f = |g: fn(&Measure) -> f64| m.map_or(String::new(), |m| format!("{:.3}", g(m)));
    vec![
        server.to_string(),
        cores.to_string(),
        format_cpu_list(cpus),
        overlap.to_string(),
        pipeline.to_string(),
        f(|m| m.ops),
        f(|m| m.p50_us),
        f(|m| m.p99_us),
        f(|m| m.p999_us.unwrap_or(0.0)),
        f(|m| m.max_us),
        share.map_or(String::new(), |s| format!("{s:.4}")),
        match o {
            Outcome::Ok(_) => "ok".into(),
            Outcome::Na(w) => format!("n/a: {w}"),
        },
    ]
}

fn scaling_line(
    server: &str,
    cores: usize,
    cpus: &[usize],
    overlap: bool,
    pipeline: usize,
    m: Option<&Measure>,
    share: Option<f64>,
) -> Vec<String> {
    let f = |g: fn(&Measure) -> f64| m.map_or("n/a".to_string(), |m| fmt_us(g(m)));
    vec![
        server.to_string(),
        if server == "redis" {
            "1 thread".into()
        } else {
            cores.to_string()
        },
        format!(
            "{}{}",
            format_cpu_list(cpus),
            if overlap { "*" } else { "" }
        ),
        pipeline.to_string(),
        m.map_or("n/a".into(), |m| fmt_ops(m.ops)),
        f(|m| m.p50_us),
        f(|m| m.p99_us),
        f(|m| m.p999_us.unwrap_or(0.0)),
        share.map_or("-".into(), |s| format!("{:.1}%", s * 100.0)),
    ]
}

/// Memory before and after loading.
struct MemSample {
    used_before: u64,
    used_after: u64,
    rss_before: u64,
    rss_after: u64,
}

impl MemSample {
    fn per_key_used(&self, n: u64) -> f64 {
        self.used_after.saturating_sub(self.used_before) as f64 / n.max(1) as f64
    }
    fn per_key_rss(&self, n: u64) -> f64 {
        self.rss_after.saturating_sub(self.rss_before) as f64 / n.max(1) as f64
    }
}

/// Idle connections opened by the memory section's connection row.
const CONN_SAMPLE: usize = 1000;

/// Opens `n` connections to `server`, each answering one PING, and returns
/// the RSS growth per connection; then closes them, opens `n` new ones and
/// returns the growth per connection over the first baseline again.
fn measure_connections(server: &Server, n: usize) -> Result<(f64, f64), String> {
    use std::io::{Read, Write};
    let open_all = || -> Result<Vec<std::net::TcpStream>, String> {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let mut s = std::net::TcpStream::connect(server.addr()).map_err(|e| format!("connect: {e}"))?;
            s.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
            s.write_all(b"*1\r\n$4\r\nPING\r\n").map_err(|e| e.to_string())?;
            conns.push(s);
        }
        for s in &mut conns {
            let mut reply = [0u8; 7];
            s.read_exact(&mut reply).map_err(|e| format!("no PONG: {e}"))?;
            if &reply != b"+PONG\r\n" {
                return Err(format!("PING answered {:?}", String::from_utf8_lossy(&reply)));
            }
        }
        Ok(conns)
    };
    let settle = || std::thread::sleep(Duration::from_millis(300));
    settle();
    let before = server.rss_bytes().ok_or("no RSS")? as f64;
    let conns = open_all()?;
    settle();
    let open = server.rss_bytes().ok_or("no RSS")? as f64;
    drop(conns);
    std::thread::sleep(Duration::from_millis(500));
    let conns = open_all()?;
    settle();
    let churned = server.rss_bytes().ok_or("no RSS")? as f64;
    drop(conns);
    Ok(((open - before) / n as f64, (churned - before) / n as f64))
}

fn measure_memory(
    server: &Server,
    n: u64,
    make: fn(u64, &mut Vec<u8>),
) -> Result<MemSample, String> {
    // Probe with one command of the type first (n/a when unsupported).
    let mut sample = Vec::new();
    make(u64::MAX / 2, &mut sample);
    let mut c = server.client()?;
    let (errors, first) = c.pipeline(&sample, 1).map_err(|e| e.to_string())?;
    if errors > 0 {
        return Err(first.unwrap_or_default());
    }
    c.cmd(&["FLUSHALL"]).map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(200));
    let used = |c: &mut Client| -> Result<u64, String> {
        c.info_u64("memory", "used_memory")
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "no used_memory in INFO".to_string())
    };
    let used_before = used(&mut c)?;
    let rss_before = server.rss_bytes().ok_or("no RSS")?;
    let (errors, first) = bulk_load(server.addr(), n, 1000, make).map_err(|e| e.to_string())?;
    if errors > 0 {
        return Err(format!(
            "{errors} errors loading: {}",
            first.unwrap_or_default()
        ));
    }
    std::thread::sleep(Duration::from_millis(300));
    let keys = match c.cmd(&["DBSIZE"]).map_err(|e| e.to_string())? {
        resp::Reply::Int(k) => k as u64,
        other => return Err(format!("DBSIZE answered {}", reply_text(&other))),
    };
    if keys != n {
        return Err(format!("DBSIZE is {keys}, expected {n}"));
    }
    Ok(MemSample {
        used_before,
        used_after: used(&mut c)?,
        rss_before,
        rss_after: server.rss_bytes().ok_or("no RSS")?,
    })
}

/// Gathers `<dir>/**/new/{benchmark,estimates}.json` into a CSV; returns a table.
fn collect_criterion(dir: &Path, out: &Path) -> Result<String, String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "new") && p.join("estimates.json").exists() {
                    found.push(p);
                } else {
                    stack.push(p);
                }
            }
        }
    }
    found.sort();
    let mut rows = Vec::new();
    for p in found {
        let read = |f: &str| -> Option<serde_json::Value> {
            serde_json::from_str(&std::fs::read_to_string(p.join(f)).ok()?).ok()
        };
        let (Some(bench), Some(est)) = (read("benchmark.json"), read("estimates.json")) else {
            continue;
        };
        let id = bench["full_id"].as_str().unwrap_or("?").to_string();
        let mean = est["mean"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
        let median = est["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
        let lo = est["mean"]["confidence_interval"]["lower_bound"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let hi = est["mean"]["confidence_interval"]["upper_bound"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let elements = bench["throughput"]["Elements"].as_f64();
        let per_elem = elements.map(|n| mean / n.max(1.0));
        rows.push(vec![
            id,
            format!("{mean:.2}"),
            format!("{median:.2}"),
            format!("{lo:.2}"),
            format!("{hi:.2}"),
            elements.map_or(String::new(), |n| format!("{n}")),
            per_elem.map_or(String::new(), |v| format!("{v:.2}")),
            per_elem.map_or(String::new(), |v| format!("{:.1}", 1e3 / v)),
        ]);
    }
    if rows.is_empty() {
        return Err(format!("no criterion results under {}", dir.display()));
    }
    std::fs::create_dir_all(out.parent().unwrap_or(Path::new("."))).map_err(|e| e.to_string())?;
    let header = [
        "benchmark",
        "mean_ns",
        "median_ns",
        "mean_ci_low_ns",
        "mean_ci_high_ns",
        "elements",
        "ns_per_element",
        "million_elements_per_s",
    ];
    write_csv(out, &header, &rows).map_err(|e| e.to_string())?;
    let shown: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r[0].clone(),
                r[5].clone(),
                r[1].clone(),
                r[6].clone(),
                r[7].clone(),
            ]
        })
        .collect();
    Ok(format!(
        "\n## Micro-benchmarks (criterion, mean of the samples)\n{}",
        table(
            &[
                "benchmark",
                "elements/iter",
                "ns/iter",
                "ns/element",
                "M elements/s"
            ],
            &shown
        )
    ))
}
