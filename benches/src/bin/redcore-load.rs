//! `redcore-load`: a RESP load generator with HDR latency histograms.
//!
//! ```text
//! redcore-load [--host 127.0.0.1] [--port 6379] [-c CLIENTS] [-P PIPELINE]
//!              [-w get:10,set:1] [--keyspace N] [--value-size BYTES]
//!              [--duration SECS] [--warmup SECS] [--rate OPS_PER_SEC]
//!              [--subscribers N] [--placement any|local|remote] [--conn-core N] [--prefill] [--csv]
//! ```
//!
//! Without `--rate` it runs a closed loop (each connection keeps `-P`
//! requests in flight, batch by batch); with `--rate` an open loop at that
//! total rate, latency measured from each request's intended send time.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use clap::Parser;
use redcore_benches::client::bulk_load;
use redcore_benches::workload::{encode_command, key_name, Encoder};
use redcore_benches::{run_load, LoadSpec, Placement, Workload};

#[derive(Parser, Debug)]
#[command(
    name = "redcore-load",
    about = "RESP load generator (closed or open loop, HDR latency histograms)"
)]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(short, long, default_value_t = 6379)]
    port: u16,
    /// Connections sending the workload (publishers for pub/sub).
    #[arg(short, long, default_value_t = 50)]
    clients: usize,
    /// Requests in flight per connection.
    #[arg(short = 'P', long, default_value_t = 1)]
    pipeline: usize,
    /// Worker threads (0: one per allowed CPU).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Command mix: op[:weight],... with ops get set incr lpush lpop zadd zrange mget publish.
    #[arg(short, long, default_value = "get:10,set:1")]
    workload: String,
    #[arg(long, default_value_t = 100_000)]
    keyspace: u64,
    #[arg(short = 'd', long, default_value_t = 32)]
    value_size: usize,
    #[arg(long, default_value_t = 10)]
    mget_keys: usize,
    /// Measurement window, seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Warm-up before the window, seconds.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Open loop at this many requests/s in total (omit for closed loop).
    #[arg(long)]
    rate: Option<f64>,
    /// Open loop: poll without sleeping when the next send is due within this
    /// many microseconds (a sleeping thread may wake late on a VM)
    #[arg(long, default_value_t = 20)]
    spin_us: u64,
    /// Subscriber connections for a `publish` workload.
    #[arg(long, default_value_t = 0)]
    subscribers: usize,
    /// Key placement relative to the connection's core (redcore only).
    #[arg(long, default_value = "any")]
    placement: Placement,
    /// Keep only connections that land on this server core (redcore only).
    #[arg(long)]
    conn_core: Option<usize>,
    /// Server cores for --placement (0: read INFO `cores`).
    #[arg(long, default_value_t = 0)]
    server_cores: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// SET every key:N of the keyspace first (values of --value-size bytes).
    #[arg(long)]
    prefill: bool,
    /// Print one CSV line (with header) instead of the text report.
    #[arg(long)]
    csv: bool,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args) {
        eprintln!("redcore-load: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), String> {
    let addr: SocketAddr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("host resolves to nothing")?;
    let workload = Workload::parse(&args.workload)?;
    if args.prefill {
        let value = Encoder::new(args.value_size, 1).value;
        let (errors, first) = bulk_load(addr, args.keyspace, 1000, |n, out| {
            encode_command(out, &[b"SET", &key_name(b"key:", n), &value]);
        })
        .map_err(|e| format!("prefill: {e}"))?;
        if errors > 0 {
            return Err(format!(
                "prefill: {errors} errors, first: {}",
                first.unwrap_or_default()
            ));
        }
    }
    let spec = LoadSpec {
        clients: args.clients,
        subscribers: args.subscribers,
        threads: args.threads,
        pipeline: args.pipeline,
        warmup: Duration::from_secs_f64(args.warmup.max(0.0)),
        duration: Duration::from_secs_f64(args.duration.max(0.001)),
        rate: args.rate,
        keyspace: args.keyspace,
        value_size: args.value_size,
        mget_keys: args.mget_keys,
        placement: args.placement,
        conn_core: args.conn_core,
        server_cores: args.server_cores,
        seed: args.seed,
        spin: Duration::from_micros(args.spin_us),
        ..LoadSpec::new(addr, workload.clone())
    };
    let r = run_load(&spec)?;
    let mode = args
        .rate
        .map_or("closed".to_string(), |x| format!("open@{x}/s"));
    let mut text = String::new();
    if args.csv {
        let _ = writeln!(text, "workload,clients,pipeline,value_bytes,mode,ops_per_sec,p50_us,p99_us,p999_us,max_us,mean_us,completed,errors,unanswered");
        let _ = writeln!(
            text,
            "{},{},{},{},{},{:.1},{:.2},{:.2},{:.2},{:.2},{:.2},{},{},{}",
            workload.to_string().replace(',', ";"),
            args.clients,
            args.pipeline,
            args.value_size,
            mode,
            r.throughput(),
            r.percentile_us(50.0),
            r.percentile_us(99.0),
            r.percentile_us(99.9),
            r.max_us(),
            r.mean_us(),
            r.completed,
            r.errors,
            r.unanswered
        );
    } else {
        let _ = writeln!(text,
            "workload {workload}  clients {}  pipeline {}  value {} B  keyspace {}  {mode}  threads {}",
            args.clients, args.pipeline, args.value_size, args.keyspace, r.threads
        );
        let what = if r.pubsub {
            "messages delivered/s"
        } else {
            "ops/s"
        };
        let _ = writeln!(text, "throughput  {:.0} {what}", r.throughput());
        let _ = writeln!(text,
            "latency µs  p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  p99.99 {:.1}  max {:.1}  mean {:.1}{}",
            r.percentile_us(50.0),
            r.percentile_us(90.0),
            r.percentile_us(99.0),
            r.percentile_us(99.9),
            r.percentile_us(99.99),
            r.max_us(),
            r.mean_us(),
            if r.pubsub { "  (delivery)" } else { "" }
        );
        for (op, h) in &r.per_op {
            let _ = writeln!(
                text,
                "  {:<8} n {:>10}  p50 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
                op.name(),
                h.len(),
                h.value_at_percentile(50.0) as f64 / 1000.0,
                h.value_at_percentile(99.0) as f64 / 1000.0,
                h.value_at_percentile(99.9) as f64 / 1000.0,
                h.max() as f64 / 1000.0
            );
        }
        let _ = writeln!(
            text,
            "completed {}  errors {}  unanswered {}  broken connections {}",
            r.completed, r.errors, r.unanswered, r.broken_connections
        );
        if let Some(e) = &r.first_error {
            let _ = writeln!(text, "first error: {e}");
        }
    }
    let _ = std::io::stdout().write_all(text.as_bytes());
    match r.failure() {
        Some(why) => Err(why),
        None => Ok(()),
    }
}
