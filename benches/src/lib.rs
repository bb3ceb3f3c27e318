//! Benchmark harness for redcore: the same load against stock `redis-server`
//! and `redcore-server` in one run, and a table of throughput and latency
//! percentiles with the ratio redcore/Redis per row.
//!
//! Layout:
//!
//! * `workload.rs`: what a load sends — the command mix ([`Workload`]),
//!   key and value generation, and the RESP encoding of each request.
//! * `load.rs`: the load generator engine behind the `redcore-load` binary:
//!   N connections spread over a few threads (one `mio` poll loop each),
//!   each keeping up to `pipeline` requests in flight, in closed loop or in
//!   open loop at a fixed rate. Latency is measured from the *intended* send
//!   time, so a slow server cannot hide its stalls (no coordinated omission),
//!   and recorded in HDR histograms.
//! * `client.rs`: a small blocking RESP client (probes, INFO, bulk loading)
//!   built on [`resp::parse_reply`].
//! * `server.rs`: starting and stopping the servers under test: free
//!   loopback ports, CPU pinning with `taskset`, PID files for the shell
//!   trap, readiness checks, RSS.
//! * `rbench.rs`: running `redis-benchmark --csv` and parsing its rows.
//! * `report.rs`: the printed tables and the CSV files.
//! * `cpu.rs`: how busy the load generator and the server were per row.
//! * `persist_bench.rs`: the `persistence` section of `redcore-bench` (writes
//!   with the append-only log on, pause during a BGSAVE snapshot), with its
//!   own server start-up since it needs persistence flags.
//!
//! The `redcore-bench` binary drives the whole suite; `benches/run.sh` is the
//! one command that builds everything and runs it (see `benches/README.md`).

pub mod client;
pub mod cpu;
pub mod load;
pub mod persist_bench;
pub mod rbench;
pub mod report;
pub mod server;
pub mod workload;

pub use load::{run_load, LoadReport, LoadSpec, Placement};
pub use workload::{Op, Workload};

/// Which of two sides (0 = Redis or local, 1 = redcore or remote) runs each
/// part of a row measured in `rounds` rounds, with the round: 0 first in
/// even rounds, 1 first in odd ones, so that a slow spell of a shared
/// machine weighs on both sides alike.
pub fn alternating(rounds: u32) -> impl Iterator<Item = (usize, u32)> {
    (0..rounds).flat_map(|round| if round % 2 == 0 { [(0, round), (1, round)] } else { [(1, round), (0, round)] })
}

/// The load generator's seed for `round` of a row: each round goes on with
/// new keys and members instead of replaying the first round's. (A replay
/// kept the sets of keys and members that one round touches: the sorted sets
/// of ZADD:ZRANGE stayed near 130 members in a 5-round row instead of
/// growing to 500 as in one run of the same length.) Both sides get the
/// same seed in the same round.
pub fn round_seed(round: u32) -> u64 {
    1 + u64::from(round)
}

/// CPUs this process may run on (its affinity mask), ascending.
pub fn allowed_cpus() -> Vec<usize> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("Cpus_allowed_list:")
                    .map(|v| parse_cpu_list(v.trim()))
            })
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
        })
}

/// Parses a Linux CPU list such as `0-3,8,10-11`.
pub fn parse_cpu_list(list: &str) -> Vec<usize> {
    let mut cpus = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    cpus.extend(a..=b);
                }
            }
            None => cpus.extend(part.parse::<usize>().ok()),
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    cpus
}

/// Formats CPUs as a list `taskset -c` accepts.
pub fn format_cpu_list(cpus: &[usize]) -> String {
    cpus.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn alternating_rounds() {
        assert_eq!(super::alternating(3).collect::<Vec<_>>(), vec![(0, 0), (1, 0), (1, 1), (0, 1), (0, 2), (1, 2)]);
        assert_ne!(super::round_seed(0), super::round_seed(1));
        assert_eq!(super::alternating(0).count(), 0);
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(
            super::parse_cpu_list("0-3,8,10-11"),
            vec![0, 1, 2, 3, 8, 10, 11]
        );
        assert_eq!(super::parse_cpu_list("1"), vec![1]);
        assert_eq!(super::format_cpu_list(&[0, 2]), "0,2");
    }
}
