//! The load generator engine (`redcore-load`).
//!
//! Connections are opened and prepared (SUBSCRIBE, CLIENT INFO) with blocking
//! sockets, then spread round-robin over a few threads; each thread runs one
//! `mio` poll loop over its connections with non-blocking sockets.
//!
//! * **Closed loop** (no `rate`): a connection sends `pipeline` requests,
//!   waits for all their replies, and sends the next batch — what
//!   `redis-benchmark -P` does. Latency is measured from the batch's send time.
//! * **Open loop** (`rate` requests/s over all connections): each connection
//!   has a fixed schedule of *intended* send times; a request goes out at its
//!   intended time when fewer than `pipeline` requests are in flight, later
//!   otherwise. Latency is measured from the intended time, so queueing
//!   behind a stalled server is counted instead of silently skipped
//!   (coordinated omission). A `timerfd` (timer slack 1 ns) wakes the loop
//!   at the next intended time, since epoll's own timeout has millisecond
//!   granularity; within `spin` of it (20 µs by default) the loop spins.
//!   On a VM a sleeping thread is sometimes woken a millisecond late, and
//!   the requests it then sends late count that as latency: where the load
//!   has CPUs of its own, a longer `spin` keeps the generator's wake-ups out
//!   of the measurement (the harness uses 2 ms there).
//!
//! Only requests whose intended send time falls in the measurement window
//! (after `warmup`, for `duration`) are counted. Histograms are HDR
//! histograms in nanoseconds, 3 significant digits.
//!
//! Pub/sub fan-out: `subscribers` extra connections SUBSCRIBE to one
//! channel; the `clients` connections PUBLISH payloads that carry their
//! intended send time; the reported latency is the delivery latency (publish
//! intended time to the subscriber reading the message), and throughput counts
//! delivered messages.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use hdrhistogram::Histogram;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use resp::{parse_reply, Reply};

use crate::client::{client_core, reply_text, Client};
use crate::workload::{key_name, payload_time, Encoder, Op, Rng, Workload, CHANNEL};

/// Which keys a connection uses (for local vs forwarded latency on redcore).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Any key of the keyspace.
    Any,
    /// Only keys whose slot belongs to the core the connection landed on.
    Local,
    /// Only keys owned by another core (every request is forwarded).
    Remote,
}

impl std::str::FromStr for Placement {
    type Err = String;
    fn from_str(s: &str) -> Result<Placement, String> {
        match s {
            "any" => Ok(Placement::Any),
            "local" => Ok(Placement::Local),
            "remote" => Ok(Placement::Remote),
            _ => Err(format!("placement must be any, local or remote, not {s:?}")),
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    pub addr: SocketAddr,
    /// Connections sending the workload (publishers for pub/sub).
    pub clients: usize,
    /// Extra SUBSCRIBE connections (pub/sub workloads only).
    pub subscribers: usize,
    /// Worker threads; 0 = one per CPU this process may use, at most one per connection.
    pub threads: usize,
    /// Requests in flight per connection (1 = no pipelining).
    pub pipeline: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Open loop at this many requests/s in total; `None` = closed loop.
    pub rate: Option<f64>,
    pub workload: Workload,
    /// Key numbers are drawn from `0..keyspace`.
    pub keyspace: u64,
    pub value_size: usize,
    pub mget_keys: usize,
    pub placement: Placement,
    /// Keep only connections that land on this server core (redcore only):
    /// others are closed and dialled again, up to a bound.
    pub conn_core: Option<usize>,
    /// Cores of the server (for placement); 0 = read INFO `cores`.
    pub server_cores: usize,
    pub seed: u64,
    /// How long to wait for outstanding replies after the window.
    pub drain: Duration,
    /// Open loop: how close to the next intended send time the loop polls
    /// without sleeping.
    pub spin: Duration,
}

/// `LoadSpec::spin` unless set.
pub const DEFAULT_SPIN: Duration = Duration::from_micros(20);

impl LoadSpec {
    /// A closed-loop spec with the harness's defaults.
    pub fn new(addr: SocketAddr, workload: Workload) -> LoadSpec {
        LoadSpec {
            addr,
            clients: 1,
            subscribers: 0,
            threads: 0,
            pipeline: 1,
            warmup: Duration::from_millis(500),
            duration: Duration::from_secs(5),
            rate: None,
            workload,
            keyspace: 100_000,
            value_size: 32,
            mget_keys: 10,
            placement: Placement::Any,
            conn_core: None,
            server_cores: 0,
            seed: 1,
            drain: Duration::from_secs(2),
            spin: DEFAULT_SPIN,
        }
    }
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct LoadReport {
    /// Length of the measurement window.
    pub window: Duration,
    /// Replies to requests intended in the window (error replies included).
    pub completed: u64,
    /// Error replies among `completed`.
    pub errors: u64,
    pub first_error: Option<String>,
    /// Requests intended in the window that got no reply before the drain ended.
    pub unanswered: u64,
    /// Connections lost (reset, protocol error).
    pub broken_connections: u64,
    /// Latency of requests in the window, ns (pub/sub: delivery latency).
    pub latency: Histogram<u64>,
    /// Per command kind, ns (pub/sub: PUBLISH round trip).
    pub per_op: Vec<(Op, Histogram<u64>)>,
    /// Pub/sub messages delivered in the window (over all subscribers).
    pub delivered: u64,
    pub pubsub: bool,
    pub threads: usize,
}

impl LoadReport {
    /// Operations per second: replies (or delivered messages for pub/sub).
    pub fn throughput(&self) -> f64 {
        let n = if self.pubsub {
            self.delivered
        } else {
            self.completed
        };
        n as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// Latency at `q` (0..=100) in microseconds.
    pub fn percentile_us(&self, q: f64) -> f64 {
        self.latency.value_at_percentile(q) as f64 / 1000.0
    }

    pub fn max_us(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }

    pub fn mean_us(&self) -> f64 {
        self.latency.mean() / 1000.0
    }

    /// Share of error replies.
    pub fn error_ratio(&self) -> f64 {
        if self.completed == 0 {
            0.0
        } else {
            self.errors as f64 / self.completed as f64
        }
    }

    /// Adds one part of a run measured in rounds to `acc`, the parts so far:
    /// `part` runs (told whether it is the first) unless an earlier part
    /// failed, and its report is merged into theirs. The first error stays.
    pub fn add_part(acc: &mut Option<Result<LoadReport, String>>, part: impl FnOnce(bool) -> Result<LoadReport, String>) {
        let next = match acc.take() {
            None => part(true),
            Some(Ok(mut so_far)) => part(false).map(|r| {
                so_far.merge(r);
                so_far
            }),
            Some(Err(e)) => Err(e),
        };
        *acc = Some(next);
    }

    /// Adds another run of the same load to this one: windows, counts and
    /// histograms add up, so throughput and percentiles cover both runs.
    pub fn merge(&mut self, other: LoadReport) {
        self.window += other.window;
        self.completed += other.completed;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.unanswered += other.unanswered;
        self.broken_connections += other.broken_connections;
        self.delivered += other.delivered;
        // Both histograms have the same bounds (`new_hist`), so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        for (op, h) in other.per_op {
            match self.per_op.iter_mut().find(|(o, _)| *o == op) {
                Some((_, mine)) => {
                    let _ = mine.add(&h);
                }
                None => self.per_op.push((op, h)),
            }
        }
    }

    /// Why this run does not count as a measurement, if it does not.
    pub fn failure(&self) -> Option<String> {
        let samples = if self.pubsub {
            self.delivered
        } else {
            self.completed
        };
        if self.errors > 0 && self.error_ratio() > 0.01 {
            return Some(format!(
                "{:.0}% error replies: {}",
                self.error_ratio() * 100.0,
                self.first_error.as_deref().unwrap_or("?")
            ));
        }
        if samples == 0 {
            return Some(match &self.first_error {
                Some(e) => format!("no replies: {e}"),
                None => "no replies".into(),
            });
        }
        if self.broken_connections > 0 {
            return Some(format!("{} connections broke", self.broken_connections));
        }
        None
    }
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("static histogram bounds")
}

/// One connection of a worker thread.
struct Conn {
    stream: mio::net::TcpStream,
    wbuf: Vec<u8>,
    wpos: usize,
    rbuf: BytesMut,
    /// Intended send time (ns on the shared clock) and op of each request in flight.
    inflight: VecDeque<(u64, Op)>,
    /// Open loop: the next intended send time.
    next_due: u64,
    /// Key numbers this connection may use (`None`: the whole keyspace).
    keys: Option<Arc<Vec<u64>>>,
    subscriber: bool,
    dead: bool,
    rng: Rng,
}

/// Read-only state shared by the workers.
struct Ctx {
    /// CLOCK_MONOTONIC at time 0 of this run, ns.
    base: u64,
    start: u64,
    window_start: u64,
    end: u64,
    drain_end: u64,
    pipeline: usize,
    /// Open loop: ns between intended sends on one connection.
    interval: Option<u64>,
    /// Open loop: ns before an intended send within which the loop spins.
    spin: u64,
    workload: Workload,
    encoder: Encoder,
    keyspace: u64,
    has_subscribers: bool,
}

impl Ctx {
    fn now(&self) -> u64 {
        mono_ns().saturating_sub(self.base)
    }

    fn in_window(&self, t: u64) -> bool {
        t >= self.window_start && t < self.end
    }
}

/// What a worker measured.
struct ThreadStats {
    latency: Histogram<u64>,
    per_op: Vec<Option<Histogram<u64>>>,
    completed: u64,
    errors: u64,
    first_error: Option<String>,
    unanswered: u64,
    broken: u64,
    delivered: u64,
}

impl ThreadStats {
    fn new() -> ThreadStats {
        ThreadStats {
            latency: new_hist(),
            per_op: vec![None; Op::ALL.len()],
            completed: 0,
            errors: 0,
            first_error: None,
            unanswered: 0,
            broken: 0,
            delivered: 0,
        }
    }
}

/// Runs the load and returns what it measured. Fails (with a message) when
/// the server cannot be reached or refuses the set-up (e.g. SUBSCRIBE).
pub fn run_load(spec: &LoadSpec) -> Result<LoadReport, String> {
    let pubsub = spec.workload.is_pubsub();
    let subscribers = if pubsub { spec.subscribers } else { 0 };
    if spec.clients == 0 {
        return Err("need at least one client".into());
    }
    let pipeline = spec.pipeline.max(1);
    // Placement: key lists per core, built once the core count is known.
    let mut by_core: Option<Vec<Arc<Vec<u64>>>> = None;

    // Connect and prepare every connection with blocking sockets.
    let mut conns = Vec::with_capacity(spec.clients + subscribers);
    let total = spec.clients + subscribers;
    for i in 0..total {
        let subscriber = i >= spec.clients;
        let mut c = connect_on(spec.addr, spec.conn_core)?;
        let mut keys = None;
        if spec.placement != Placement::Any && !subscriber {
            if by_core.is_none() {
                let cores = if spec.server_cores > 0 {
                    spec.server_cores
                } else {
                    c.info_u64("server", "cores")
                        .map_err(|e| format!("INFO: {e}"))?
                        .ok_or("INFO has no cores field (placement needs redcore)")?
                        as usize
                };
                by_core = Some(placement_lists(spec.keyspace, cores, spec.placement));
            }
            let core = connection_core(&mut c)?;
            let lists = by_core.as_ref().map_or(&[][..], |v| &v[..]);
            let list = lists.get(core).ok_or(format!(
                "connection on core {core}, beyond the server's core count"
            ))?;
            if list.is_empty() {
                return Err(format!(
                    "no key of the keyspace fits placement {:?} on core {core}",
                    spec.placement
                ));
            }
            keys = Some(Arc::clone(list));
        }
        if subscriber {
            let r = c
                .command(&[b"SUBSCRIBE", CHANNEL])
                .map_err(|e| format!("SUBSCRIBE: {e}"))?;
            match &r {
                Reply::Array(v) | Reply::Push(v) if !v.is_empty() => {}
                other => return Err(format!("SUBSCRIBE answered {}", reply_text(other))),
            }
        }
        let (stream, rbuf) = c.into_parts();
        stream.set_nonblocking(true).map_err(|e| e.to_string())?;
        conns.push(Conn {
            stream: mio::net::TcpStream::from_std(stream),
            wbuf: Vec::with_capacity(16 * 1024),
            wpos: 0,
            rbuf,
            inflight: VecDeque::with_capacity(pipeline),
            next_due: 0,
            keys,
            subscriber,
            dead: false,
            rng: Rng::new(spec.seed.wrapping_mul(1_000_003).wrapping_add(i as u64)),
        });
    }

    let threads = if spec.threads == 0 {
        crate::allowed_cpus().len().max(1)
    } else {
        spec.threads
    }
    .min(total)
    .max(1);

    let base = mono_ns();
    // Leave time for the threads to start.
    let start = 20_000_000u64;
    let window_start = start + spec.warmup.as_nanos() as u64;
    let end = window_start + spec.duration.as_nanos() as u64;
    let interval = spec
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| ((spec.clients as f64 * 1e9 / r) as u64).max(1));
    // Stagger the open-loop schedules of the connections over one interval.
    for (i, c) in conns.iter_mut().enumerate() {
        c.next_due = start + interval.map_or(0, |iv| iv * i as u64 / spec.clients as u64);
    }
    let ctx = Arc::new(Ctx {
        base,
        start,
        window_start,
        end,
        drain_end: end + spec.drain.as_nanos() as u64,
        pipeline,
        interval,
        spin: spec.spin.as_nanos() as u64,
        workload: spec.workload.clone(),
        encoder: Encoder::new(spec.value_size, spec.mget_keys),
        keyspace: spec.keyspace.max(1),
        has_subscribers: subscribers > 0,
    });

    let mut per_thread: Vec<Vec<Conn>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, c) in conns.into_iter().enumerate() {
        per_thread[i % threads].push(c);
    }
    let handles: Vec<_> = per_thread
        .into_iter()
        .enumerate()
        .map(|(t, cs)| {
            let ctx = Arc::clone(&ctx);
            std::thread::Builder::new()
                .name(format!("load-{t}"))
                .spawn(move || worker(cs, &ctx))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;

    let mut report = LoadReport {
        window: spec.duration,
        completed: 0,
        errors: 0,
        first_error: None,
        unanswered: 0,
        broken_connections: 0,
        latency: new_hist(),
        per_op: Vec::new(),
        delivered: 0,
        pubsub,
        threads,
    };
    let mut per_op: Vec<Option<Histogram<u64>>> = vec![None; Op::ALL.len()];
    for h in handles {
        let s = h.join().map_err(|_| "load thread panicked".to_string())??;
        report.completed += s.completed;
        report.errors += s.errors;
        report.unanswered += s.unanswered;
        report.broken_connections += s.broken;
        report.delivered += s.delivered;
        if report.first_error.is_none() {
            report.first_error = s.first_error;
        }
        report.latency.add(&s.latency).map_err(|e| e.to_string())?;
        for (slot, h) in per_op.iter_mut().zip(s.per_op) {
            if let Some(h) = h {
                match slot {
                    Some(acc) => acc.add(&h).map_err(|e| e.to_string())?,
                    None => *slot = Some(h),
                }
            }
        }
    }
    report.per_op = Op::ALL
        .iter()
        .zip(per_op)
        .filter_map(|(op, h)| h.map(|h| (*op, h)))
        .collect();
    Ok(report)
}

fn worker(mut conns: Vec<Conn>, ctx: &Ctx) -> Result<ThreadStats, String> {
    // Timer wake-ups exactly on time, not up to 50 µs late (the default slack).
    // SAFETY: prctl on the calling thread with plain integer arguments.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1, 0, 0, 0);
    }
    let mut stats = ThreadStats::new();
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut events = Events::with_capacity(1024);
    for (i, c) in conns.iter_mut().enumerate() {
        poll.registry()
            .register(
                &mut c.stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(|e| e.to_string())?;
    }
    let now = ctx.now();
    if now < ctx.start {
        std::thread::sleep(Duration::from_nanos(ctx.start - now));
    }
    // Open loop: a timerfd wakes the loop at the next intended send time
    // with microsecond precision (epoll's own timeout is in milliseconds).
    let timer = Timer::new().map_err(|e| format!("timerfd: {e}"))?;
    poll.registry()
        .register(&mut SourceFd(&timer.fd), TIMER, Interest::READABLE)
        .map_err(|e| e.to_string())?;
    let mut scratch = vec![0u8; 256 * 1024];
    // Subscribers may still receive messages after the publishers are done.
    let sub_grace = 200_000_000u64;
    loop {
        let now = ctx.now();
        let sending = now < ctx.end;
        let mut busy = false;
        let mut alive = false;
        let mut next_wake = u64::MAX;
        for c in conns.iter_mut().filter(|c| !c.dead && !c.subscriber) {
            alive = true;
            if sending {
                generate(c, ctx, now);
            }
            if c.wpos < c.wbuf.len() && flush(c).is_err() {
                kill(c, ctx, &mut stats);
                continue;
            }
            if !c.inflight.is_empty() {
                busy = true;
            }
            if ctx.interval.is_some() && sending && c.inflight.len() < ctx.pipeline {
                next_wake = next_wake.min(c.next_due);
            }
        }
        if conns.iter().any(|c| !c.dead && c.subscriber) {
            alive = true;
        }
        if !alive {
            break;
        }
        if !sending {
            let subs_done = !ctx.has_subscribers || now >= ctx.end + sub_grace;
            if (!busy && subs_done) || now >= ctx.drain_end {
                break;
            }
        }
        let timeout = if next_wake != u64::MAX {
            let dt = next_wake.saturating_sub(now);
            if dt < ctx.spin {
                Duration::ZERO // too close to sleep: spin
            } else {
                timer.arm_at(ctx.base + next_wake);
                Duration::from_millis(10)
            }
        } else {
            let limit = if sending { ctx.end } else { ctx.drain_end };
            Duration::from_nanos(limit.saturating_sub(now).clamp(1, 10_000_000))
        };
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e.to_string());
            }
        }
        for ev in events.iter() {
            if ev.token() == TIMER {
                timer.drain();
                continue;
            }
            let Some(c) = conns.get_mut(ev.token().0) else {
                continue;
            };
            if c.dead {
                continue;
            }
            if ev.is_writable() && c.wpos < c.wbuf.len() && flush(c).is_err() {
                kill(c, ctx, &mut stats);
                continue;
            }
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                let ok = read_all(c, &mut scratch);
                let now = ctx.now();
                if handle_replies(c, ctx, now, &mut stats).is_err() || !ok {
                    kill(c, ctx, &mut stats);
                }
            }
        }
    }
    for c in conns.iter_mut().filter(|c| !c.dead) {
        stats.unanswered += c.inflight.iter().filter(|(t, _)| ctx.in_window(*t)).count() as u64;
    }
    Ok(stats)
}

const TIMER: Token = Token(usize::MAX);

/// CLOCK_MONOTONIC in ns (the clock timerfd deadlines use).
fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A non-blocking timerfd on CLOCK_MONOTONIC.
struct Timer {
    fd: RawFd,
}

impl Timer {
    fn new() -> io::Result<Timer> {
        // SAFETY: plain syscall; the fd is owned by the Timer and closed on drop.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Timer { fd })
    }

    /// Fires once at the absolute CLOCK_MONOTONIC time `at_ns`.
    fn arm_at(&self, at_ns: u64) {
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: (at_ns / 1_000_000_000) as libc::time_t,
                tv_nsec: (at_ns % 1_000_000_000) as libc::c_long,
            },
        };
        // SAFETY: valid fd and itimerspec; the old value is not wanted.
        unsafe {
            libc::timerfd_settime(
                self.fd,
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            );
        }
    }

    /// Consumes the expiration count so the next expiry is a new edge.
    fn drain(&self) {
        let mut buf = [0u8; 8];
        // SAFETY: reads at most 8 bytes into our buffer; EAGAIN is fine.
        unsafe {
            libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len());
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: we own the fd.
        unsafe {
            libc::close(self.fd);
        }
    }
}

/// Queues the requests a connection should send at `now`.
fn generate(c: &mut Conn, ctx: &Ctx, now: u64) {
    match ctx.interval {
        None => {
            if c.inflight.is_empty() {
                for _ in 0..ctx.pipeline {
                    push_request(c, ctx, now);
                }
            }
        }
        Some(iv) => {
            while c.inflight.len() < ctx.pipeline && c.next_due <= now && c.next_due < ctx.end {
                let due = c.next_due;
                push_request(c, ctx, due);
                c.next_due += iv;
            }
        }
    }
}

fn push_request(c: &mut Conn, ctx: &Ctx, intended: u64) {
    let op = ctx.workload.pick(c.rng.next_u64());
    let keys = c.keys.clone();
    let keyspace = ctx.keyspace;
    // Two generators: one for the op's key choice, one for its arguments.
    let mut key_rng = Rng::new(c.rng.next_u64());
    let mut pick = || match &keys {
        Some(k) if !k.is_empty() => k[key_rng.below(k.len() as u64) as usize],
        _ => key_rng.below(keyspace),
    };
    if c.wpos == c.wbuf.len() {
        c.wbuf.clear();
        c.wpos = 0;
    }
    ctx.encoder
        .encode(op, &mut pick, &mut c.rng, intended, &mut c.wbuf);
    c.inflight.push_back((intended, op));
}

/// Writes as much of the output buffer as the socket takes.
fn flush(c: &mut Conn) -> io::Result<()> {
    while c.wpos < c.wbuf.len() {
        match c.stream.write(&c.wbuf[c.wpos..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => c.wpos += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if c.wpos == c.wbuf.len() {
        c.wbuf.clear();
        c.wpos = 0;
    }
    Ok(())
}

/// Reads until the socket would block. False when the connection closed or failed.
fn read_all(c: &mut Conn, scratch: &mut [u8]) -> bool {
    loop {
        match c.stream.read(scratch) {
            Ok(0) => return false,
            Ok(n) => c.rbuf.extend_from_slice(&scratch[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

fn record(h: &mut Histogram<u64>, ns: u64) {
    h.saturating_record(ns.max(1));
}

/// A pub/sub `message` push at the front of `buf` (RESP2 or RESP3), read
/// in place: the range of its payload and the length of the frame. `None`
/// for anything else, or an incomplete frame, which the general parser then
/// takes. A subscriber reads 50 messages per PUBLISH in the fan-out rows, and
/// decoding each into a `Reply` (a vector and three byte strings) made the
/// load generator, not the server, the bottleneck of those rows.
fn message_frame(buf: &[u8]) -> Option<(std::ops::Range<usize>, usize)> {
    const HEAD: &[u8] = b"3\r\n$7\r\nmessage\r\n";
    if !matches!(buf.first(), Some(b'*' | b'>')) || buf.get(1..1 + HEAD.len())? != HEAD {
        return None;
    }
    let channel = bulk_at(buf, 1 + HEAD.len())?;
    let payload = bulk_at(buf, channel.end + 2)?;
    let end = payload.end + 2;
    Some((payload, end))
}

/// The payload range of the complete bulk string `$<n>\r\n...\r\n` at `at`.
fn bulk_at(buf: &[u8], at: usize) -> Option<std::ops::Range<usize>> {
    if *buf.get(at)? != b'$' {
        return None;
    }
    let mut len = 0usize;
    let mut i = at + 1;
    loop {
        match *buf.get(i)? {
            b'\r' => break,
            d @ b'0'..=b'9' if i - at <= 10 => len = len * 10 + (d - b'0') as usize,
            _ => return None,
        }
        i += 1;
    }
    let start = i + 2;
    (buf.len() >= start + len + 2).then_some(start..start + len)
}

/// Counts a message a subscriber read now, if it was published in the window.
fn note_delivery(payload: &[u8], ctx: &Ctx, now: u64, s: &mut ThreadStats) {
    if let Some(t) = payload_time(payload) {
        if ctx.in_window(t) {
            s.delivered += 1;
            record(&mut s.latency, now.saturating_sub(t));
        }
    }
}

/// Matches complete replies to requests in flight and records them.
fn handle_replies(c: &mut Conn, ctx: &Ctx, now: u64, s: &mut ThreadStats) -> Result<(), ()> {
    loop {
        if c.subscriber {
            if let Some((payload, len)) = message_frame(&c.rbuf) {
                note_delivery(&c.rbuf[payload], ctx, now, s);
                bytes::Buf::advance(&mut c.rbuf, len);
                continue;
            }
        }
        let Some(reply) = parse_reply(&mut c.rbuf).map_err(|_| ())? else { break };
        if c.subscriber {
            if let Reply::Array(v) | Reply::Push(v) = &reply {
                if let (Some(Reply::Bulk(kind)), Some(Reply::Bulk(payload))) = (v.first(), v.get(2))
                {
                    if &kind[..] == b"message" {
                        note_delivery(payload, ctx, now, s);
                    }
                }
            }
            continue;
        }
        let Some((intended, op)) = c.inflight.pop_front() else {
            return Err(()); // a reply nobody asked for
        };
        if let Reply::Error(e) = &reply {
            if s.first_error.is_none() {
                s.first_error = Some(String::from_utf8_lossy(e).into_owned());
            }
            if ctx.in_window(intended) {
                s.errors += 1;
            }
        }
        if ctx.in_window(intended) {
            s.completed += 1;
            let lat = now.saturating_sub(intended);
            if !ctx.has_subscribers {
                record(&mut s.latency, lat);
            }
            record(s.per_op[op.index()].get_or_insert_with(new_hist), lat);
        }
    }
    Ok(())
}

fn kill(c: &mut Conn, ctx: &Ctx, s: &mut ThreadStats) {
    c.dead = true;
    s.broken += 1;
    s.unanswered += c.inflight.iter().filter(|(t, _)| ctx.in_window(*t)).count() as u64;
    c.inflight.clear();
}

/// Key numbers in `0..keyspace` whose `key:` name each core owns, with
/// `cores` cores splitting the slots as redcore does.
pub fn keys_by_core(keyspace: u64, cores: usize) -> Vec<Vec<u64>> {
    let ranges = slots::SlotRanges::split(cores);
    let mut by_core = vec![Vec::new(); ranges.owners()];
    for n in 0..keyspace {
        let slot = slots::key_slot(&key_name(b"key:", n));
        by_core[ranges.owner_of(slot)].push(n);
    }
    by_core
}

/// For each core, the keys a connection on that core uses under `placement`
/// (`Local`: the core's own keys; `Remote`: every other core's keys).
fn placement_lists(keyspace: u64, cores: usize, placement: Placement) -> Vec<Arc<Vec<u64>>> {
    let by_core = keys_by_core(keyspace, cores);
    (0..by_core.len())
        .map(|c| {
            let keys: Vec<u64> = match placement {
                Placement::Remote => by_core
                    .iter()
                    .enumerate()
                    .filter(|(o, _)| *o != c)
                    .flat_map(|(_, k)| k.iter().copied())
                    .collect(),
                _ => by_core[c].clone(),
            };
            Arc::new(keys)
        })
        .collect()
}

/// A connection, on server core `core` when given: the kernel spreads
/// connections over the cores' listeners, so dial until one lands there.
fn connect_on(addr: SocketAddr, core: Option<usize>) -> Result<Client, String> {
    const ATTEMPTS: usize = 500;
    for _ in 0..ATTEMPTS {
        let mut c = Client::connect(addr, Duration::from_secs(5)).map_err(|e| format!("connect to {addr}: {e}"))?;
        match core {
            None => return Ok(c),
            Some(want) if connection_core(&mut c)? == want => return Ok(c),
            Some(_) => {}
        }
    }
    Err(format!("no connection landed on core {} in {ATTEMPTS} attempts", core.unwrap_or(0)))
}

/// The core a connection runs on, from CLIENT INFO (redcore only).
pub fn connection_core(c: &mut Client) -> Result<usize, String> {
    match c.cmd(&["CLIENT", "INFO"]).map_err(|e| e.to_string())? {
        Reply::Bulk(b) | Reply::Verbatim(b) => client_core(&String::from_utf8_lossy(&b))
            .ok_or_else(|| "CLIENT INFO has no core= field".to_string()),
        other => Err(format!("CLIENT INFO answered {}", reply_text(&other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A stand-in server: answers every request with `reply`, one thread per connection.
    fn mock_server(reply: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                std::thread::spawn(move || {
                    let mut parser = resp::RequestParser::default();
                    let mut buf = BytesMut::new();
                    let mut chunk = [0u8; 16 * 1024];
                    loop {
                        let n = match s.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        buf.extend_from_slice(&chunk[..n]);
                        let mut out = Vec::new();
                        while let Ok(Some(_)) = parser.next_command(&mut buf) {
                            out.extend_from_slice(reply);
                        }
                        if s.write_all(&out).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn spec(addr: SocketAddr) -> LoadSpec {
        LoadSpec {
            clients: 4,
            pipeline: 4,
            threads: 2,
            warmup: Duration::from_millis(50),
            duration: Duration::from_millis(300),
            drain: Duration::from_millis(500),
            ..LoadSpec::new(addr, Workload::parse("get:1,set:1").unwrap())
        }
    }

    #[test]
    fn message_frames_are_read_in_place() {
        let m = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n*3";
        let (payload, len) = message_frame(m).unwrap();
        assert_eq!(&m[payload], b"hello");
        assert_eq!(len, m.len() - 2);
        let push = b">3\r\n$7\r\nmessage\r\n$0\r\n\r\n$1\r\nx\r\n";
        assert_eq!(message_frame(push).map(|(p, n)| (&push[p], n)), Some((&b"x"[..], push.len())));
        // Incomplete, or not a message: left to the general parser.
        for n in 0..m.len() - 2 {
            assert_eq!(message_frame(&m[..n]), None, "prefix of {n} bytes");
        }
        assert_eq!(message_frame(b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"), None);
        assert_eq!(message_frame(b"*3\r\n$7\r\nmessage\r\n$x\r\n"), None);
    }

    #[test]
    fn closed_loop_counts_every_reply() {
        let r = run_load(&spec(mock_server(b"+OK\r\n"))).unwrap();
        assert!(r.completed > 100, "{r:?}");
        assert_eq!((r.errors, r.unanswered, r.broken_connections), (0, 0, 0));
        assert_eq!(r.latency.len(), r.completed);
        assert_eq!(r.per_op.len(), 2);
        assert!(r.failure().is_none());
    }

    #[test]
    fn merged_runs_add_up() {
        let addr = mock_server(b"+OK\r\n");
        let a = run_load(&spec(addr)).unwrap();
        let b = run_load(&spec(addr)).unwrap();
        let (window, completed, samples) = (a.window + b.window, a.completed + b.completed, a.latency.len() + b.latency.len());
        let per_op: u64 = a.per_op.iter().chain(&b.per_op).map(|(_, h)| h.len()).sum();
        let mut m = a;
        m.merge(b);
        assert_eq!((m.window, m.completed, m.latency.len()), (window, completed, samples));
        assert_eq!(m.per_op.len(), 2);
        assert_eq!(m.per_op.iter().map(|(_, h)| h.len()).sum::<u64>(), per_op);
        assert!((m.throughput() - completed as f64 / window.as_secs_f64()).abs() < 1e-6);
    }

    #[test]
    fn open_loop_keeps_the_rate() {
        let s = LoadSpec {
            rate: Some(2000.0),
            pipeline: 1,
            ..spec(mock_server(b"+OK\r\n"))
        };
        let r = run_load(&s).unwrap();
        // 2000/s over 0.3 s = 600 requests intended in the window.
        assert!((570..=630).contains(&r.completed), "{}", r.completed);
        assert!((r.throughput() - 2000.0).abs() < 100.0);
    }

    #[test]
    fn error_replies_make_the_run_fail() {
        let r = run_load(&spec(mock_server(b"-ERR unknown command\r\n"))).unwrap();
        assert_eq!(r.errors, r.completed);
        assert!(r.failure().unwrap().contains("unknown command"));
    }

    #[test]
    fn placement_splits_keys_by_core() {
        let by_core = keys_by_core(2000, 2);
        assert_eq!(by_core.len(), 2);
        assert_eq!(by_core[0].len() + by_core[1].len(), 2000);
        for &n in &by_core[1] {
            assert!(slots::key_slot(&key_name(b"key:", n)) >= 8192);
        }
        let remote = placement_lists(2000, 2, Placement::Remote);
        assert_eq!(*remote[0], by_core[1]);
    }
}
