//! Cross-core messages reach a core that has parked. With
//! `spin-before-park-us = 0` a core parks as soon as it has nothing to do,
//! so with a pause between requests every forwarded command (and every
//! reply) has to wake the other core through the mesh's eventfd
//! (`crates/server/src/mesh.rs`). A lost wake-up would show as a request
//! that never completes: each one must finish within the connection's read
//! timeout, and the whole run within a bound.

use redcore_tests::*;
use std::time::{Duration, Instant};

fn quiet_config() -> (std::path::PathBuf, String) {
    let dir = data_dir();
    let path = dir.join("quiet.toml");
    std::fs::write(&path, "spin-before-park-us = 0\n").expect("write config");
    let p = path.display().to_string();
    (dir, p)
}

#[test]
fn forwarded_requests_wake_a_parked_core() {
    let (_dir, config) = quiet_config();
    let s = Server::redcore(&["--cores", "2", "--config", &config]);
    let mut c = s.conn();
    let info: String = redis::cmd("CONFIG").arg("GET").arg("spin-before-park-us").query::<Vec<String>>(&mut c).unwrap().join(" ");
    assert_eq!(info, "spin-before-park-us 0");
    let keys: Vec<String> = (0..24).map(|i| format!("mesh:{i}")).collect();
    let started = Instant::now();
    for round in 0..5 {
        for (i, k) in keys.iter().enumerate() {
            // Long enough for both cores to park between requests.
            std::thread::sleep(Duration::from_millis(2));
            let v = format!("{round}:{i}");
            let _: () = redis::cmd("SET").arg(k).arg(&v).query(&mut c).unwrap();
            let got: String = redis::cmd("GET").arg(k).query(&mut c).unwrap();
            assert_eq!(got, v);
        }
        // A multi-core read (both cores' gates) after a pause as well.
        std::thread::sleep(Duration::from_millis(2));
        let all: Vec<String> = redis::cmd("MGET").arg(&keys).query(&mut c).unwrap();
        let want: Vec<String> = (0..keys.len()).map(|i| format!("{round}:{i}")).collect();
        assert_eq!(all, want);
    }
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    // The keys really span both cores: INFO counts forwarded commands.
    let info: String = redis::cmd("INFO").arg("stats").query(&mut c).unwrap();
    let forwarded: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("total_forwarded_commands:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no total_forwarded_commands in INFO:\n{info}"));
    assert!(forwarded > 0, "no command was forwarded:\n{info}");
}

#[test]
fn many_connections_forward_to_a_parked_core_at_once() {
    // Bursts from several connections after a pause: the first message
    // wakes the parked core, the rest arrive while it is waking or awake.
    let (_dir, config) = quiet_config();
    let s = Server::redcore(&["--cores", "2", "--config", &config]);
    let started = Instant::now();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let mut c = s.conn();
            std::thread::spawn(move || {
                for round in 0..20 {
                    std::thread::sleep(Duration::from_millis(3));
                    let mut p = redis::pipe();
                    for i in 0..16 {
                        p.cmd("INCR").arg(format!("mesh:ctr:{i}"));
                    }
                    let _: Vec<i64> = p.query(&mut c).unwrap_or_else(|e| panic!("thread {t} round {round}: {e}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    let mut c = s.conn();
    for i in 0..16 {
        let n: i64 = redis::cmd("GET").arg(format!("mesh:ctr:{i}")).query(&mut c).unwrap();
        assert_eq!(n, 8 * 20, "counter {i}");
    }
}
