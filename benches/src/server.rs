//! Starting and stopping the servers under test.
//!
//! Each server runs on a free loopback port chosen at start, pinned with
//! `taskset -c` to the server CPUs, with its output in a log file. Its PID is
//! written to `<pid-dir>/<pid>` so that `benches/run.sh` can kill it from its
//! exit trap even if this process is killed; the child also gets
//! `PR_SET_PDEATHSIG` (SIGKILL), and [`Server`] kills it on drop.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::Client;

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Redis,
    Redcore,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Redis => "redis",
            Kind::Redcore => "redcore",
        }
    }
}

/// How to start a server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub kind: Kind,
    pub bin: PathBuf,
    /// CPUs to pin to (empty: no pinning).
    pub cpus: Vec<usize>,
    /// redcore `--cores`.
    pub cores: usize,
    /// Working directory and log files.
    pub work_dir: PathBuf,
    /// Where PID files go (for the shell trap).
    pub pid_dir: Option<PathBuf>,
    /// More command-line arguments, after the usual ones (Redis lets a later
    /// option override an earlier one; redcore refuses a repeated flag, so
    /// for redcore they must be flags the usual ones lack).
    pub extra_args: Vec<String>,
    /// Lines added to redcore's generated config file (after `save = ""`).
    pub redcore_config: Vec<String>,
    /// Names the data directory and log (`<kind>-<tag>-<port>`); empty for none.
    pub tag: String,
    /// A fresh data directory, removed again when the server stops (otherwise
    /// it is left for the caller's work directory clean-up).
    pub fresh_dir: bool,
    /// How long to wait for the first PING answer (redcore answers -LOADING
    /// while it loads its data).
    pub ready_timeout: Duration,
}

impl ServerConfig {
    /// A server with the usual settings: no persistence, `cores` redcore cores.
    pub fn new(kind: Kind, bin: PathBuf, cpus: &[usize], cores: usize, work_dir: PathBuf, pid_dir: Option<PathBuf>) -> ServerConfig {
        ServerConfig {
            kind,
            bin,
            cpus: cpus.to_vec(),
            cores,
            work_dir,
            pid_dir,
            extra_args: Vec::new(),
            redcore_config: Vec::new(),
            tag: String::new(),
            fresh_dir: false,
            ready_timeout: Duration::from_secs(15),
        }
    }
}

/// A running server; killed on drop.
pub struct Server {
    pub kind: Kind,
    pub port: u16,
    pub pid: u32,
    pub log: PathBuf,
    /// The data directory (`--dir`).
    pub dir: PathBuf,
    /// Whether `stop` removes `dir`.
    remove_dir: bool,
    child: Child,
    pid_file: Option<PathBuf>,
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

fn have_taskset() -> bool {
    Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts a server process: pinned to `cpus` with taskset when possible,
/// output to `log`, killed if the harness dies (PR_SET_PDEATHSIG), its PID
/// recorded in `pid_dir` for the shell trap. Returns the child, its PID and
/// the PID file.
pub fn spawn_server(
    bin: &Path,
    args: &[String],
    cpus: &[usize],
    log: &Path,
    pid_dir: Option<&Path>,
    kind: Kind,
) -> Result<(Child, u32, Option<PathBuf>), String> {
    let mut cmd = if !cpus.is_empty() && have_taskset() {
        let mut c = Command::new("taskset");
        c.arg("-c").arg(crate::format_cpu_list(cpus)).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args);
    let out = File::create(log).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let pid = child.id();
    let pid_file = pid_dir.map(|d| d.join(pid.to_string()));
    if let Some(f) = &pid_file {
        let _ = std::fs::write(f, kind.name());
    }
    Ok((child, pid, pid_file))
}

impl Server {
    /// Starts the server on a free port and waits until it answers PING
    /// (tries three ports in case one was taken meanwhile).
    pub fn start(cfg: &ServerConfig) -> Result<Server, String> {
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|e| format!("no free port: {e}"))?;
            match Server::start_on(cfg, port) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn start_on(cfg: &ServerConfig, port: u16) -> Result<Server, String> {
        std::fs::create_dir_all(&cfg.work_dir).map_err(|e| e.to_string())?;
        let name = match cfg.tag.as_str() {
            "" => format!("{}-{port}", cfg.kind.name()),
            tag => format!("{}-{tag}-{port}", cfg.kind.name()),
        };
        let data_dir = cfg.work_dir.join(&name);
        if cfg.fresh_dir {
            let _ = std::fs::remove_dir_all(&data_dir);
        }
        std::fs::create_dir_all(&data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
        let log = cfg.work_dir.join(format!("{name}.log"));
        let mut args: Vec<String> = match cfg.kind {
            Kind::Redis => vec![
                "--port".into(),
                port.to_string(),
                "--bind".into(),
                "127.0.0.1".into(),
                "--save".into(),
                "".into(),
                "--appendonly".into(),
                "no".into(),
                "--protected-mode".into(),
                "no".into(),
                "--daemonize".into(),
                "no".into(),
                "--io-threads".into(),
                "1".into(),
                "--dir".into(),
                data_dir.display().to_string(),
                "--logfile".into(),
                "".into(),
            ],
            Kind::Redcore => vec![
                "--port".into(),
                port.to_string(),
                "--bind".into(),
                "127.0.0.1".into(),
                "--cores".into(),
                cfg.cores.max(1).to_string(),
                "--dir".into(),
                data_dir.display().to_string(),
                "--log-level".into(),
                "warn".into(),
            ],
        };
        // Like Redis's `--save ''`: no snapshots in the background while a
        // row is measured (the embedded default config has save rules).
        // Callers that pass their own config set `save` there.
        if cfg.kind == Kind::Redcore && !cfg.extra_args.iter().any(|a| a == "--config") {
            let conf = cfg.work_dir.join(format!("{name}.toml"));
            let mut text = "save = \"\"\n".to_string();
            for line in &cfg.redcore_config {
                text.push_str(line);
                text.push('\n');
            }
            std::fs::write(&conf, text).map_err(|e| format!("{}: {e}", conf.display()))?;
            args.extend(["--config".to_string(), conf.display().to_string()]);
        }
        args.extend(cfg.extra_args.iter().cloned());
        let (child, pid, pid_file) = spawn_server(&cfg.bin, &args, &cfg.cpus, &log, cfg.pid_dir.as_deref(), cfg.kind)?;
        let mut server = Server {
            kind: cfg.kind,
            port,
            pid,
            log,
            dir: data_dir,
            remove_dir: cfg.fresh_dir,
            child,
            pid_file,
        };
        let deadline = Instant::now() + cfg.ready_timeout;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "{} exited at start ({status}): {}",
                    cfg.kind.name(),
                    tail(&server.log, 600)
                ));
            }
            match Client::wait_ready(server.addr(), Instant::now() + Duration::from_millis(200)) {
                Ok(_) => return Ok(server),
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!("{} not ready on port {port}: {e}", cfg.kind.name()))
                }
                Err(_) => {}
            }
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// A fresh blocking client.
    pub fn client(&self) -> Result<Client, String> {
        Client::connect(self.addr(), Duration::from_secs(30))
            .map_err(|e| format!("{}: {e}", self.kind.name()))
    }

    /// Resident set size from /proc.
    pub fn rss_bytes(&self) -> Option<u64> {
        rss_of(self.pid)
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Why the server is unusable now, if it died.
    pub fn died(&mut self) -> Option<String> {
        if self.alive() {
            None
        } else {
            Some(format!("server died: {}", tail(&self.log, 300)))
        }
    }

    /// SIGTERM, then SIGKILL after 5 s; removes the PID file, and the data
    /// directory when it was made fresh for this server.
    pub fn stop(&mut self) {
        if self.alive() {
            // SAFETY: plain kill(2) on our own child's PID, not yet reaped.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
            }
            // A server with a log may need a moment to close it.
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && self.alive() {
                std::thread::sleep(Duration::from_millis(20));
            }
            if self.alive() {
                let _ = self.child.kill();
            }
        }
        let _ = self.child.wait();
        if let Some(f) = self.pid_file.take() {
            let _ = std::fs::remove_file(f);
        }
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// VmRSS of a process, bytes.
pub fn rss_of(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The last `n` bytes of a file, for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    let s = std::fs::read(path).unwrap_or_default();
    let start = s.len().saturating_sub(n);
    String::from_utf8_lossy(&s[start..]).trim().to_string()
}
