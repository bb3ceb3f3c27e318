//! How busy the load generator and the server were during a measurement.
//!
//! On a small machine the load generator can be the bottleneck: when it is
//! busy all the time, a row's ratio says more about the client than about
//! the servers. The tables therefore show both CPU shares next to the
//! throughput.
//!
//! * Load generator: this process's CPU time plus that of its waited-for
//!   children (`redis-benchmark`), from `getrusage`, over the wall time, as
//!   a share of the load generator's CPUs.
//! * Server: the server process's user + system time from `/proc/<pid>/stat`,
//!   as a share of the server's CPUs. redcore polls for up to
//!   `spin-before-park-us` after its sockets go quiet, so its share stays
//!   near 100 % under any steady load; Redis sleeps in `epoll_wait`.

use std::time::{Duration, Instant};

/// CPU time used by this process and its waited-for children so far.
fn own_cpu() -> Duration {
    let mut total = Duration::ZERO;
    for who in [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN] {
        // SAFETY: `getrusage` fills the zeroed struct it is given.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(who, &mut ru) } == 0 {
            for tv in [ru.ru_utime, ru.ru_stime] {
                total += Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64);
            }
        }
    }
    total
}

/// User + system CPU time of process `pid` so far.
fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: plain query.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| Duration::from_secs_f64(ticks as f64 / hz as f64))
}

/// CPU shares over one or more measured stretches (rounds add up).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuUse {
    wall: Duration,
    load: Duration,
    server: Option<Duration>,
}

impl CpuUse {
    /// The load generator's busy share of its `cpus` CPUs (1.0 = all busy).
    pub fn load_share(&self, cpus: usize) -> Option<f64> {
        (self.wall > Duration::ZERO).then(|| self.load.as_secs_f64() / self.wall.as_secs_f64() / cpus.max(1) as f64)
    }

    /// The server's busy share of its `cpus` CPUs.
    pub fn server_share(&self, cpus: usize) -> Option<f64> {
        let server = self.server?;
        (self.wall > Duration::ZERO).then(|| server.as_secs_f64() / self.wall.as_secs_f64() / cpus.max(1) as f64)
    }

    /// Adds another stretch; the server's share is known only if it is
    /// known for every stretch.
    pub fn add(&mut self, other: CpuUse) {
        self.server = match (self.server, other.server) {
            (Some(a), Some(b)) => Some(a + b),
            (None, b) if self.wall == Duration::ZERO => b,
            _ => None,
        };
        self.wall += other.wall;
        self.load += other.load;
    }
}

/// Started before a measured stretch, read after it.
pub struct CpuMeter {
    pid: u32,
    start: Instant,
    load: Duration,
    server: Option<Duration>,
}

impl CpuMeter {
    pub fn start(server_pid: u32) -> CpuMeter {
        CpuMeter { pid: server_pid, start: Instant::now(), load: own_cpu(), server: process_cpu(server_pid) }
    }

    pub fn stop(self) -> CpuUse {
        let server = match (self.server, process_cpu(self.pid)) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        CpuUse { wall: self.start.elapsed(), load: own_cpu().saturating_sub(self.load), server }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretches_add_up() {
        let s = |ms: u64, load: u64, server: Option<u64>| CpuUse {
            wall: Duration::from_millis(ms),
            load: Duration::from_millis(load),
            server: server.map(Duration::from_millis),
        };
        let mut u = CpuUse::default();
        u.add(s(100, 50, Some(100)));
        u.add(s(300, 250, Some(200)));
        let near = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-9);
        assert!(near(u.load_share(1), 0.75), "{:?}", u.load_share(1));
        assert!(near(u.server_share(1), 0.75), "{:?}", u.server_share(1));
        assert!(near(u.load_share(2), 0.375), "{:?}", u.load_share(2));
        u.add(s(100, 0, None));
        assert_eq!(u.server_share(1), None);
        assert_eq!(CpuUse::default().load_share(1), None);
    }

    #[test]
    fn a_busy_loop_shows_as_busy() {
        let m = CpuMeter::start(std::process::id());
        let t = Instant::now();
        let mut x = 0u64;
        while t.elapsed() < Duration::from_millis(300) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let u = m.stop();
        // Other tests may run on other threads of this process meanwhile.
        let most = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64 + 0.2;
        let load = u.load_share(1).unwrap();
        assert!(load > 0.5 && load < most, "load share {load}");
        // The "server" here is this process itself (clock ticks: coarser).
        let server = u.server_share(1).unwrap();
        assert!(server > 0.3 && server < most, "server share {server}");
    }
}
