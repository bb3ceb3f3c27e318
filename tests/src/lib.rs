//! Test harness for the redcore integration suite.
//!
//! Starts real server processes (the `redcore-server` binary, or stock
//! `redis-server` for validating the suite itself) on free loopback ports and
//! gives tests three ways to talk to them: the `redis` crate ([`Server::conn`]),
//! a raw RESP socket ([`Server::raw`] / [`RawConn`]) and plain addresses for
//! external tools (`redis-cli`, redis-py).
//!
//! Environment:
//! - `REDCORE_TEST_AGAINST=redis` runs [`Server::under_test`] against stock
//!   `redis-server` instead of redcore.
//! - `REDCORE_BIN=/path/to/redcore-server` uses that binary instead of building
//!   it with cargo.

pub mod diff;

use std::collections::HashSet;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a server may take to answer its first PING.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read timeout of [`RawConn`] sockets.
const RAW_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times to try a fresh port when a server fails to start.
const START_TRIES: usize = 3;

/// Which implementation a [`Server`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Redcore,
    Redis,
}

/// True when the suite targets redcore (the default), false when
/// `REDCORE_TEST_AGAINST=redis`.
pub fn is_redcore() -> bool {
    !matches!(
        std::env::var("REDCORE_TEST_AGAINST").as_deref(),
        Ok("redis")
    )
}

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate has a parent dir")
        .to_path_buf()
}

/// Whether a program can be started (`prog --version` succeeds).
fn program_runs(prog: &str, arg: &str) -> bool {
    Command::new(prog)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether stock `redis-server` is installed.
pub fn redis_server_available() -> bool {
    static AVAIL: OnceLock<bool> = OnceLock::new();
    *AVAIL.get_or_init(|| program_runs("redis-server", "--version"))
}

/// Whether `redis-cli` is installed.
pub fn redis_cli_available() -> bool {
    static AVAIL: OnceLock<bool> = OnceLock::new();
    *AVAIL.get_or_init(|| program_runs("redis-cli", "--version"))
}

/// Path of the redcore binary: `$REDCORE_BIN`, or built once per process.
pub fn redcore_bin() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let res = BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("REDCORE_BIN") {
            let p = PathBuf::from(p);
            return if p.exists() {
                Ok(p)
            } else {
                Err(format!("REDCORE_BIN={} does not exist", p.display()))
            };
        }
        build_redcore()
    });
    match res {
        Ok(p) => p.clone(),
        Err(e) => panic!("cannot get the redcore-server binary: {e}"),
    }
}

fn build_redcore() -> Result<PathBuf, String> {
    let root = workspace_root();
    let release = !cfg!(debug_assertions);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "-p", "redcore-server", "--bin", "redcore-server"]);
    if release {
        cmd.arg("--release");
    }
    let out = cmd
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("spawning cargo build: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo build -p redcore-server` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => {
            let t = PathBuf::from(t);
            if t.is_absolute() {
                t
            } else {
                root.join(t)
            }
        }
        None => root.join("target"),
    };
    let bin = target
        .join(if release { "release" } else { "debug" })
        .join("redcore-server");
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!("built, but {} is missing", bin.display()))
    }
}

/// A fresh, empty temporary directory (removed by [`Server`]'s Drop).
fn fresh_temp_dir() -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "redcore-test-{}-{}-{}",
        std::process::id(),
        n,
        nanos
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn free_port() -> u16 {
    // Never hand the same port to two servers of this process.
    static USED: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let used = USED.get_or_init(|| Mutex::new(HashSet::new()));
    let mut last = 0;
    for _ in 0..100 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        last = l.local_addr().expect("local_addr").port();
        if used.lock().unwrap_or_else(|e| e.into_inner()).insert(last) {
            return last;
        }
    }
    last
}

/// Drops redcore-only arguments (`--cores N`, `--cores=N`) for stock Redis.
fn map_args_for_redis(extra: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < extra.len() {
        let a = extra[i];
        if a == "--cores" {
            i += 2;
            continue;
        }
        if a.starts_with("--cores=") {
            i += 1;
            continue;
        }
        out.push(a.to_string());
        i += 1;
    }
    out
}

/// A running server process, killed (SIGKILL) on drop.
pub struct Server {
    pub port: u16,
    pub pid: u32,
    pub kind: Kind,
    child: Child,
    dir: PathBuf,
}

/// The arguments of every redcore the harness starts: its port, loopback,
/// its data directory, then `extra`.
fn redcore_args(c: &mut Command, port: u16, dir: &Path, extra: &[&str]) {
    c.arg("--port").arg(port.to_string()).arg("--bind").arg("127.0.0.1").arg("--dir").arg(dir).args(extra);
}

impl Server {
    /// Starts the redcore binary with `--port P --bind 127.0.0.1 --dir D` + `extra`.
    pub fn redcore(extra: &[&str]) -> Server {
        let bin = redcore_bin();
        Self::start(Kind::Redcore, |port, dir| {
            let mut c = Command::new(&bin);
            redcore_args(&mut c, port, dir, extra);
            c
        })
    }

    /// Starts redcore with its data in `data_dir`, which outlives the server
    /// (restart tests); logs still go to the server's own temp dir.
    pub fn redcore_on(data_dir: &Path, extra: &[&str]) -> Server {
        let bin = redcore_bin();
        let data_dir = data_dir.to_path_buf();
        Self::start(Kind::Redcore, |port, _dir| {
            let mut c = Command::new(&bin);
            redcore_args(&mut c, port, &data_dir, extra);
            c
        })
    }

    /// Like `redcore`, but the server runs in the cgroup whose
    /// `cgroup.procs` file is `procs`: a shell writes its own PID there and
    /// then execs the server, which keeps that PID.
    pub fn redcore_in_cgroup(procs: &Path, extra: &[&str]) -> Server {
        let bin = redcore_bin();
        let procs = procs.to_path_buf();
        Self::start(Kind::Redcore, |port, dir| {
            let mut c = Command::new("sh");
            c.arg("-c").arg("echo $$ > \"$0\" && exec \"$@\"").arg(&procs).arg(&bin);
            redcore_args(&mut c, port, dir, extra);
            c
        })
    }

    /// Starts stock `redis-server` (no persistence) + `extra`.
    pub fn redis(extra: &[&str]) -> Server {
        assert!(
            redis_server_available(),
            "redis-server is not installed (apt-get install -y redis-server redis-tools)"
        );
        let extra = map_args_for_redis(extra);
        Self::start(Kind::Redis, |port, dir| {
            let mut c = Command::new("redis-server");
            c.arg("--port")
                .arg(port.to_string())
                .arg("--bind")
                .arg("127.0.0.1")
                .arg("--save")
                .arg("")
                .arg("--appendonly")
                .arg("no")
                .arg("--dir")
                .arg(dir)
                .args(&extra);
            c
        })
    }

    /// The server the suite targets: redcore, or stock Redis when
    /// `REDCORE_TEST_AGAINST=redis` (redcore-only args are dropped then).
    pub fn under_test(extra: &[&str]) -> Server {
        if is_redcore() {
            Self::redcore(extra)
        } else {
            Self::redis(extra)
        }
    }

    fn start(kind: Kind, mut make: impl FnMut(u16, &Path) -> Command) -> Server {
        let mut last_err = String::new();
        for attempt in 1..=START_TRIES {
            let port = free_port();
            let dir = fresh_temp_dir();
            let log_path = dir.join("server.log");
            let log = std::fs::File::create(&log_path).expect("create server log");
            let log2 = log.try_clone().expect("clone log handle");
            let mut cmd = make(port, &dir);
            cmd.stdin(Stdio::null())
                .stdout(Stdio::from(log))
                .stderr(Stdio::from(log2));
            let child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    panic!("cannot spawn {kind:?} server: {e}");
                }
            };
            let pid = child.id();
            let mut server = Server {
                port,
                pid,
                kind,
                child,
                dir,
            };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(e) => {
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    last_err = format!(
                        "attempt {attempt}: {kind:?} server on port {port} not ready: {e}\n--- server output ---\n{log}\n---"
                    );
                    eprintln!("{last_err}");
                    // Drop kills the child and removes the dir.
                }
            }
        }
        panic!("could not start {kind:?} server after {START_TRIES} tries:\n{last_err}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last = String::from("never tried");
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("process exited early with {status}"));
            }
            match ping_once(self.port) {
                Ok(()) => return self.check_owner(),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("no +PONG within {READY_TIMEOUT:?} (last: {last})"))
    }

    /// After a PONG: make sure it came from our child, not from some other
    /// server that won a race for the same port.
    fn check_owner(&mut self) -> Result<(), String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Err(format!(
                "PONG came from another process; ours exited with {status}"
            ));
        }
        if let Ok(mut c) = RawConn::connect(&self.addr()) {
            c.set_read_timeout(Duration::from_secs(2));
            if let Ok(RawReply::Bulk(Some(info))) = {
                c.send_cmd(&[b"INFO", b"server"]);
                c.try_read_reply()
            } {
                let info = String::from_utf8_lossy(&info);
                if let Some(pid) = info.lines().find_map(|l| l.strip_prefix("process_id:")) {
                    if pid.trim() != self.pid.to_string() {
                        return Err(format!(
                            "port answered by pid {}, not ours ({})",
                            pid.trim(),
                            self.pid
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn is_redcore(&self) -> bool {
        self.kind == Kind::Redcore
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's log (stdout + stderr so far).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// The server's data directory (`--dir`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("redis::Client::open")
    }

    /// A RESP3 client (`?protocol=resp3`).
    pub fn client_resp3(&self) -> redis::Client {
        redis::Client::open(format!("{}?protocol=resp3", self.url())).expect("redis::Client::open")
    }

    pub fn conn(&self) -> redis::Connection {
        let c = self
            .client()
            .get_connection_with_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("connect to {}: {e}\n{}", self.addr(), self.log()));
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        c
    }

    pub fn raw(&self) -> RawConn {
        RawConn::connect(&self.addr())
            .unwrap_or_else(|e| panic!("raw connect to {}: {e}\n{}", self.addr(), self.log()))
    }

    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `timeout` for the process to exit on its own: its exit
    /// status, or None while it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends the signal `name` (as `kill -s` spells it: "TERM", "INT") to
    /// the server process.
    pub fn signal(&mut self, name: &str) {
        assert!(self.is_alive(), "signal {name}: the server already exited\n{}", self.log());
        let status = Command::new("kill")
            .args(["-s", name, &self.pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} {} failed: {status}", self.pid);
    }

    /// Asserts the process is running and answers PING.
    pub fn assert_alive(&mut self) {
        if let Ok(Some(st)) = self.child.try_wait() {
            panic!("server exited with {st}\n{}", self.log());
        }
        if let Err(e) = ping_once(self.port) {
            panic!("server does not answer PING: {e}\n{}", self.log());
        }
    }
}

/// Runs redcore on `data_dir` expecting it to refuse to start: returns its
/// exit status and output, or an error if it is still running after `wait`.
pub fn redcore_refuses(data_dir: &Path, extra: &[&str], wait: Duration) -> Result<(std::process::ExitStatus, String), String> {
    let port = free_port();
    let out = fresh_temp_dir().join("refuse.log");
    let log = std::fs::File::create(&out).map_err(|e| e.to_string())?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let mut child = Command::new(redcore_bin())
        .arg("--port")
        .arg(port.to_string())
        .arg("--bind")
        .arg("127.0.0.1")
        .arg("--dir")
        .arg(data_dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            let _ = std::fs::remove_dir_all(out.parent().unwrap_or(Path::new("/nonexistent")));
            return Ok((status, text));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!("still running after {wait:?}: {}", std::fs::read_to_string(&out).unwrap_or_default()))
}

/// A fresh empty directory for data that must outlive one server process.
pub fn data_dir() -> PathBuf {
    fresh_temp_dir()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ping_once(port: u16) -> Result<(), String> {
    let addr = format!("127.0.0.1:{port}");
    let sa = addr.parse().unwrap();
    let mut s =
        TcpStream::connect_timeout(&sa, Duration::from_millis(500)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok();
    s.set_write_timeout(Some(Duration::from_secs(2))).ok();
    s.write_all(b"*1\r\n$4\r\nPING\r\n")
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).map_err(|e| e.to_string())?;
    if &buf == b"+PONG\r\n" {
        Ok(())
    } else {
        Err(format!(
            "unexpected PING reply {:?}",
            String::from_utf8_lossy(&buf)
        ))
    }
}

// ---------------------------------------------------------------------------
// Raw RESP connection
// ---------------------------------------------------------------------------

/// One RESP2/RESP3 reply.
#[derive(Clone, Debug, PartialEq)]
pub enum RawReply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<RawReply>>),
    Map(Vec<(RawReply, RawReply)>),
    Set(Vec<RawReply>),
    Double(f64),
    Bool(bool),
    Null,
    Push(Vec<RawReply>),
    /// `=` verbatim string: (format, text).
    Verbatim(String, Vec<u8>),
    /// `(` big number, as text.
    BigNumber(String),
    /// `!` blob error.
    BlobError(Vec<u8>),
}

impl RawReply {
    pub fn ok() -> RawReply {
        RawReply::Simple("OK".into())
    }
    pub fn simple(s: &str) -> RawReply {
        RawReply::Simple(s.into())
    }
    pub fn err(s: &str) -> RawReply {
        RawReply::Error(s.into())
    }
    pub fn bulk(b: impl AsRef<[u8]>) -> RawReply {
        RawReply::Bulk(Some(b.as_ref().to_vec()))
    }
    pub fn nil() -> RawReply {
        RawReply::Bulk(None)
    }
    pub fn arr(items: Vec<RawReply>) -> RawReply {
        RawReply::Array(Some(items))
    }
    pub fn is_error(&self) -> bool {
        matches!(self, RawReply::Error(_) | RawReply::BlobError(_))
    }
    /// The error text, if this is an error reply.
    pub fn error_text(&self) -> Option<String> {
        match self {
            RawReply::Error(s) => Some(s.clone()),
            RawReply::BlobError(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
    /// Bulk / simple / verbatim payload as bytes.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            RawReply::Bulk(Some(b)) => Some(b),
            RawReply::Simple(s) => Some(s.as_bytes()),
            RawReply::Verbatim(_, b) => Some(b),
            _ => None,
        }
    }
    /// Bulk / simple / verbatim payload as a (lossy) string.
    pub fn as_str(&self) -> Option<String> {
        self.as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            RawReply::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// Elements of an array, set or push reply.
    pub fn items(&self) -> Option<&[RawReply]> {
        match self {
            RawReply::Array(Some(v)) | RawReply::Set(v) | RawReply::Push(v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for RawReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawReply::Simple(s) => write!(f, "+{s}"),
            RawReply::Error(s) => write!(f, "-{s}"),
            RawReply::Int(i) => write!(f, ":{i}"),
            RawReply::Bulk(None) => write!(f, "(nil)"),
            RawReply::Bulk(Some(b)) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            RawReply::Array(None) => write!(f, "(nil array)"),
            RawReply::Array(Some(v)) | RawReply::Set(v) | RawReply::Push(v) => {
                write!(f, "[")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{x}")?;
                }
                write!(f, "]")
            }
            RawReply::Map(v) => {
                write!(f, "{{")?;
                for (i, (k, x)) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}: {x}")?;
                }
                write!(f, "}}")
            }
            RawReply::Double(d) => write!(f, ",{d}"),
            RawReply::Bool(b) => write!(f, "#{b}"),
            RawReply::Null => write!(f, "(null)"),
            RawReply::Verbatim(fmt_, b) => write!(f, "={fmt_}:{:?}", String::from_utf8_lossy(b)),
            RawReply::BigNumber(s) => write!(f, "({s}"),
            RawReply::BlobError(b) => write!(f, "!{:?}", String::from_utf8_lossy(b)),
        }
    }
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode_cmd<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(16 + args.iter().map(|a| a.as_ref().len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Maximum nesting / element counts the reader accepts (guards against
/// runaway allocation on a broken server).
const MAX_AGGREGATE_LEN: i64 = 50_000_000;
const MAX_BULK_LEN: i64 = 1 << 30;
const MAX_DEPTH: usize = 64;

/// A plain TCP connection speaking RESP, for byte-exact tests.
pub struct RawConn {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl RawConn {
    pub fn connect(addr: &str) -> io::Result<RawConn> {
        let sa = addr
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{e}")))?;
        let stream = TcpStream::connect_timeout(&sa, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(RAW_READ_TIMEOUT))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        stream.set_nodelay(true)?;
        let reader = BufReader::with_capacity(64 * 1024, stream.try_clone()?);
        Ok(RawConn { stream, reader })
    }

    /// A clone of the underlying socket (e.g. for a writer thread).
    pub fn stream_clone(&self) -> TcpStream {
        self.stream.try_clone().expect("clone stream")
    }

    /// Writes raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Writes raw bytes, returning the io error instead of panicking.
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Writes one command encoded as a RESP array.
    pub fn send_cmd(&mut self, args: &[&[u8]]) {
        let b = encode_cmd(args);
        self.send(&b);
    }

    /// Sends a command and reads its reply.
    pub fn cmd(&mut self, args: &[&[u8]]) -> RawReply {
        self.send_cmd(args);
        self.read_reply()
    }

    /// Like [`RawConn::cmd`] with string arguments.
    pub fn cmd_str(&mut self, args: &[&str]) -> RawReply {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.cmd(&a)
    }

    /// Sends a command and returns the exact bytes of its reply.
    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send_cmd(args);
        self.read_raw_reply_bytes()
    }

    /// Reads one reply (panics on I/O error or malformed data).
    pub fn read_reply(&mut self) -> RawReply {
        self.try_read_reply()
            .unwrap_or_else(|e| panic!("reading reply: {e}"))
    }

    /// Reads one reply and returns its exact bytes.
    pub fn read_raw_reply_bytes(&mut self) -> Vec<u8> {
        let mut rec = Vec::new();
        self.parse(&mut rec, 0).unwrap_or_else(|e| {
            panic!(
                "reading reply: {e} (bytes so far: {:?})",
                String::from_utf8_lossy(&rec)
            )
        });
        rec
    }

    pub fn try_read_reply(&mut self) -> io::Result<RawReply> {
        let mut rec = Vec::new();
        self.parse(&mut rec, 0)
    }

    /// Reads one reply, with both the parsed form and its exact bytes.
    pub fn try_read_reply_with_bytes(&mut self) -> io::Result<(RawReply, Vec<u8>)> {
        let mut rec = Vec::new();
        let r = self.parse(&mut rec, 0)?;
        Ok((r, rec))
    }

    pub fn set_read_timeout(&mut self, d: Duration) {
        self.stream
            .set_read_timeout(Some(d))
            .expect("set_read_timeout");
    }

    /// Returns whatever bytes arrive within `wait` (stops early at EOF).
    pub fn read_available(&mut self, wait: Duration) -> Vec<u8> {
        let mut out = Vec::new();
        let deadline = Instant::now() + wait;
        let buffered = self.reader.buffer().to_vec();
        self.reader.consume(buffered.len());
        out.extend_from_slice(&buffered);
        let mut buf = [0u8; 16 * 1024];
        while Instant::now() < deadline {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            self.stream.set_read_timeout(Some(left)).ok();
            match self.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    break
                }
                Err(_) => break,
            }
        }
        self.stream.set_read_timeout(Some(RAW_READ_TIMEOUT)).ok();
        out
    }

    /// True if the peer closes the connection within 3 s (any bytes that
    /// arrive meanwhile are discarded).
    pub fn is_closed(&mut self) -> bool {
        self.is_closed_within(Duration::from_secs(3))
    }

    pub fn is_closed_within(&mut self, wait: Duration) -> bool {
        let buffered = self.reader.buffer().len();
        self.reader.consume(buffered);
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 16 * 1024];
        let closed = loop {
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            let left = (deadline - now).max(Duration::from_millis(1));
            self.stream.set_read_timeout(Some(left)).ok();
            match self.stream.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    break false
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break true, // reset etc.
            }
        };
        self.stream.set_read_timeout(Some(RAW_READ_TIMEOUT)).ok();
        closed
    }

    /// Half-closes the write side.
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    fn read_line(&mut self, rec: &mut Vec<u8>) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        let n = (&mut self.reader)
            .take(1 << 20)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed by server",
            ));
        }
        rec.extend_from_slice(&line);
        if line.len() < 2 || !line.ends_with(b"\r\n") {
            return Err(bad(format!(
                "line not terminated by CRLF: {:?}",
                String::from_utf8_lossy(&line)
            )));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }

    fn read_exact_rec(&mut self, n: usize, rec: &mut Vec<u8>) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; n + 2];
        self.reader.read_exact(&mut buf)?;
        rec.extend_from_slice(&buf);
        if &buf[n..] != b"\r\n" {
            return Err(bad("bulk payload not followed by CRLF".into()));
        }
        buf.truncate(n);
        Ok(buf)
    }

    fn parse(&mut self, rec: &mut Vec<u8>, depth: usize) -> io::Result<RawReply> {
        if depth > MAX_DEPTH {
            return Err(bad("reply nested too deeply".into()));
        }
        let line = self.read_line(rec)?;
        if line.is_empty() {
            return Err(bad("empty reply line".into()));
        }
        let (t, rest) = (line[0], &line[1..]);
        let text = || String::from_utf8_lossy(rest).into_owned();
        let num = |what: &str| -> io::Result<i64> {
            std::str::from_utf8(rest)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| bad(format!("bad {what}: {:?}", String::from_utf8_lossy(rest))))
        };
        Ok(match t {
            b'+' => RawReply::Simple(text()),
            b'-' => RawReply::Error(text()),
            b':' => RawReply::Int(num("integer")?),
            b'(' => RawReply::BigNumber(text()),
            b',' => {
                let s = text();
                let d = s
                    .parse::<f64>()
                    .map_err(|_| bad(format!("bad double {s:?}")))?;
                RawReply::Double(d)
            }
            b'#' => match rest {
                b"t" => RawReply::Bool(true),
                b"f" => RawReply::Bool(false),
                _ => return Err(bad(format!("bad boolean {:?}", text()))),
            },
            b'_' => {
                if !rest.is_empty() {
                    return Err(bad("junk after null".into()));
                }
                RawReply::Null
            }
            b'$' | b'=' | b'!' => {
                let n = num("bulk length")?;
                if n == -1 && t == b'$' {
                    return Ok(RawReply::Bulk(None));
                }
                if !(0..=MAX_BULK_LEN).contains(&n) {
                    return Err(bad(format!("bad bulk length {n}")));
                }
                let data = self.read_exact_rec(n as usize, rec)?;
                match t {
                    b'$' => RawReply::Bulk(Some(data)),
                    b'!' => RawReply::BlobError(data),
                    _ => {
                        if data.len() < 4 || data[3] != b':' {
                            return Err(bad("verbatim string without format".into()));
                        }
                        RawReply::Verbatim(
                            String::from_utf8_lossy(&data[..3]).into_owned(),
                            data[4..].to_vec(),
                        )
                    }
                }
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let n = num("aggregate length")?;
                if n == -1 && t == b'*' {
                    return Ok(RawReply::Array(None));
                }
                if !(0..=MAX_AGGREGATE_LEN).contains(&n) {
                    return Err(bad(format!("bad aggregate length {n}")));
                }
                let n = n as usize;
                if t == b'%' || t == b'|' {
                    let mut pairs = Vec::with_capacity(n.min(1024));
                    for _ in 0..n {
                        let k = self.parse(rec, depth + 1)?;
                        let v = self.parse(rec, depth + 1)?;
                        pairs.push((k, v));
                    }
                    if t == b'|' {
                        // Attributes decorate the next reply; return that reply.
                        return self.parse(rec, depth + 1);
                    }
                    RawReply::Map(pairs)
                } else {
                    let mut items = Vec::with_capacity(n.min(1024));
                    for _ in 0..n {
                        items.push(self.parse(rec, depth + 1)?);
                    }
                    match t {
                        b'*' => RawReply::Array(Some(items)),
                        b'~' => RawReply::Set(items),
                        _ => RawReply::Push(items),
                    }
                }
            }
            _ => return Err(bad(format!("unknown reply type byte {:?}", t as char))),
        })
    }
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

// ---------------------------------------------------------------------------
// Small helpers shared by test files
// ---------------------------------------------------------------------------

/// Polls `f` every 10 ms until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Current Unix time in seconds.
pub fn unix_now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Current Unix time in milliseconds.
pub fn unix_now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Asserts a raw reply equals the expected one, with readable output.
#[macro_export]
macro_rules! assert_reply {
    ($got:expr, $want:expr) => {{
        let got: $crate::RawReply = $got;
        let want: $crate::RawReply = $want;
        assert_eq!(got, want, "\n  got:  {}\n  want: {}", got, want);
    }};
    ($got:expr, $want:expr, $($ctx:tt)+) => {{
        let got: $crate::RawReply = $got;
        let want: $crate::RawReply = $want;
        assert_eq!(got, want, "\n  got:  {}\n  want: {}\n  ctx: {}", got, want, format!($($ctx)+));
    }};
}

/// Runs a command through the `redis` crate and converts the reply,
/// panicking with the command on any error.
pub fn q<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// Runs a command through the `redis` crate and returns the error it must fail with.
pub fn q_err(c: &mut redis::Connection, args: &[&str]) -> redis::RedisError {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(c) {
        Ok(v) => panic!("{args:?} should fail, got {v:?}"),
        Err(e) => e,
    }
}

/// Sends `args` on a raw connection and asserts the reply is exactly the
/// error `-{want}`.
pub fn assert_raw_err(r: &mut RawConn, args: &[&str], want: &str) {
    let got = r.cmd_str(args);
    assert_eq!(
        got,
        RawReply::Error(want.to_string()),
        "\n  command: {args:?}\n  got:  {got}\n  want: -{want}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode() {
        assert_eq!(
            encode_cmd(&["GET", "k"]),
            b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".to_vec()
        );
    }

    #[test]
    fn map_redis_args() {
        assert_eq!(
            map_args_for_redis(&["--cores", "2", "--x", "y"]),
            vec!["--x", "y"]
        );
        assert_eq!(map_args_for_redis(&["--cores=2"]), Vec::<String>::new());
    }

    #[test]
    fn parse_replies_from_socket() {
        // A tiny fake server that writes canned RESP3 bytes.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let payload: &[u8] = b"+OK\r\n-ERR x\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*-1\r\n*2\r\n:1\r\n_\r\n%1\r\n+a\r\n#t\r\n,1.5\r\n~1\r\n:2\r\n>2\r\n+m\r\n+c\r\n=7\r\ntxt:abc\r\n(123\r\n!3\r\nbad\r\n|1\r\n+k\r\n+v\r\n:7\r\n";
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(payload).unwrap();
        });
        let mut c = RawConn::connect(&addr).unwrap();
        assert_eq!(c.read_reply(), RawReply::ok());
        assert_eq!(c.read_reply(), RawReply::err("ERR x"));
        assert_eq!(c.read_reply(), RawReply::Int(42));
        assert_eq!(c.read_raw_reply_bytes(), b"$3\r\nabc\r\n".to_vec());
        assert_eq!(c.read_reply(), RawReply::nil());
        assert_eq!(c.read_reply(), RawReply::Array(None));
        assert_eq!(
            c.read_reply(),
            RawReply::arr(vec![RawReply::Int(1), RawReply::Null])
        );
        assert_eq!(
            c.read_reply(),
            RawReply::Map(vec![(RawReply::simple("a"), RawReply::Bool(true))])
        );
        assert_eq!(c.read_reply(), RawReply::Double(1.5));
        assert_eq!(c.read_reply(), RawReply::Set(vec![RawReply::Int(2)]));
        assert_eq!(
            c.read_reply(),
            RawReply::Push(vec![RawReply::simple("m"), RawReply::simple("c")])
        );
        assert_eq!(
            c.read_reply(),
            RawReply::Verbatim("txt".into(), b"abc".to_vec())
        );
        assert_eq!(c.read_reply(), RawReply::BigNumber("123".into()));
        assert_eq!(c.read_reply(), RawReply::BlobError(b"bad".to_vec()));
        assert_eq!(c.read_reply(), RawReply::Int(7));
        t.join().unwrap();
        assert!(c.is_closed());
    }
}

/// Error strings and helpers shared by the command test files.
pub mod common {
    use crate::Server;

    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const NOT_INT: &str = "ERR value is not an integer or out of range";
    pub const NOT_FLOAT: &str = "ERR value is not a valid float";
    pub const SYNTAX: &str = "ERR syntax error";

    /// Redis's wrong-arity error for `cmd`.
    pub fn arity(cmd: &str) -> String {
        format!("ERR wrong number of arguments for '{cmd}' command")
    }

    /// The server under test with two cores, so keys span both.
    pub fn two_cores() -> Server {
        Server::under_test(&["--cores", "2"])
    }

    /// Which core of a 2-core redcore owns `key` (slots split in two halves).
    pub fn core_of(key: &str) -> usize {
        usize::from(slots::key_slot(key.as_bytes()) >= 8192)
    }

    /// A key with `prefix` owned by `core` of a 2-core redcore.
    pub fn key_on(prefix: &str, core: usize) -> String {
        (0..1000).map(|i| format!("{prefix}:{i}")).find(|k| core_of(k) == core).expect("some key lands on each core")
    }
}

/// Runs `tests/py/<script>` with `args` and asserts it exits 0 and prints
/// `ok_marker`. Returns false (after a loud message) when redis-py is
/// missing, so the caller can skip; CI installs it.
pub fn run_py_script(script: &str, args: &[String], ok_marker: &str, server_log: impl Fn() -> String) -> bool {
    let has_redis_py = Command::new("python3").args(["-c", "import redis"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !has_redis_py {
        eprintln!("\n!!! SKIPPED {script}: `python3 -c 'import redis'` failed; install redis-py (pip install redis) !!!\n");
        return false;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("py").join(script);
    let out = Command::new("python3").arg(&path).args(args).output().expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- server log ---\n{}",
        out.status,
        server_log()
    );
    assert!(stdout.contains(ok_marker), "{stdout}");
    true
}
