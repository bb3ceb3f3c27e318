//! MSET must be atomic across cores: readers running MGET over the same keys
//! while writers MSET them must never observe values from two different MSETs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redcore_tests::*;

/// 16 keys: with slot-based ownership on 2 cores, both cores own some of them.
fn keys() -> Vec<String> {
    (0..16).map(|i| format!("k:{i}")).collect()
}

#[test]
fn mset_is_atomic_for_concurrent_mget() {
    let s = Server::under_test(&["--cores", "2"]);
    let keys = Arc::new(keys());
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let full_reads = Arc::new(AtomicU64::new(0));
    let writes = Arc::new(AtomicU64::new(0));
    let run_for = Duration::from_secs(2);

    let mut handles = Vec::new();
    for w in 0..2 {
        let mut c = s.conn();
        let (keys, stop, writes) = (keys.clone(), stop.clone(), writes.clone());
        handles.push(std::thread::spawn(move || {
            let deadline = Instant::now() + run_for;
            let mut n = 0u64;
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) && n < 10_000_000 {
                let val = format!("w{w}-{n}");
                let mut cmd = redis::cmd("MSET");
                for k in keys.iter() {
                    cmd.arg(k).arg(&val);
                }
                let _: () = cmd.query(&mut c).expect("MSET");
                n += 1;
            }
            writes.fetch_add(n, Ordering::Relaxed);
            Ok::<(), String>(())
        }));
    }
    for _ in 0..2 {
        let mut c = s.conn();
        let (keys, stop, reads, full_reads) = (
            keys.clone(),
            stop.clone(),
            reads.clone(),
            full_reads.clone(),
        );
        handles.push(std::thread::spawn(move || {
            let deadline = Instant::now() + run_for;
            let mut n = 0u64;
            let mut full = 0u64;
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) && n < 10_000_000 {
                let vals: Vec<Option<String>> = redis::cmd("MGET")
                    .arg(&keys[..])
                    .query(&mut c)
                    .expect("MGET");
                n += 1;
                let first = &vals[0];
                if vals.iter().any(|v| v != first) {
                    stop.store(true, Ordering::Relaxed);
                    return Err(format!("MGET saw a torn MSET after {n} reads: {vals:?}"));
                }
                if first.is_some() {
                    full += 1;
                }
            }
            reads.fetch_add(n, Ordering::Relaxed);
            full_reads.fetch_add(full, Ordering::Relaxed);
            Ok(())
        }));
    }
    let mut errors = Vec::new();
    for h in handles {
        if let Err(e) = h.join().expect("thread panicked") {
            errors.push(e);
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let (r, f, w) = (
        reads.load(Ordering::Relaxed),
        full_reads.load(Ordering::Relaxed),
        writes.load(Ordering::Relaxed),
    );
    eprintln!("atomic_mset: {w} MSETs, {r} MGETs ({f} saw values)");
    assert!(w > 0 && r > 0, "no work done");
    assert!(f > 0, "readers never saw any MSET");
}

/// One pipeline mixing multi-key commands whose keys span both cores (queued
/// together for the cores' combined runs) with single-key commands on the
/// same keys: every reply must be the one stock Redis gives for the same
/// pipeline, so each command sees exactly the writes before it.
#[test]
fn pipelined_spanning_commands_match_redis() {
    if !redis_server_available() {
        panic!("redis-server is not installed (apt-get install -y redis-server)");
    }
    let redcore = Server::under_test(&["--cores", "2"]);
    let redis = Server::redis(&[]);
    let keys: Vec<String> = (0..12).map(|i| format!("sp:{i}")).collect();
    // Seeded, so a failure replays.
    let mut rng = StdRng::seed_from_u64(0x9e37_79b9_7f4a_7c15);
    let mut pipe = redis::pipe();
    let mut shown = Vec::new();
    let pick = |rng: &mut StdRng, count: usize| -> Vec<String> { (0..count).map(|_| keys[rng.gen_range(0..keys.len())].clone()).collect() };
    for n in 0..3000 {
        let width = 2 + rng.gen_range(0..5);
        let (name, args): (&str, Vec<String>) = match rng.gen_range(0..10) {
            0 | 1 => ("MSET", pick(&mut rng, width).into_iter().flat_map(|k| [k, format!("v{n}")]).collect()),
            2 | 3 => ("MGET", pick(&mut rng, width)),
            4 => ("DEL", pick(&mut rng, width)),
            5 => ("EXISTS", pick(&mut rng, width)),
            6 => ("TOUCH", pick(&mut rng, width)),
            7 => ("SET", vec![pick(&mut rng, 1).remove(0), format!("s{n}")]),
            8 => ("GET", pick(&mut rng, 1)),
            _ => ("APPEND", vec![pick(&mut rng, 1).remove(0), format!("+{n}")]),
        };
        shown.push(format!("{name} {}", args.join(" ")));
        pipe.cmd(name).arg(&args);
    }
    let on = |s: &Server| -> Vec<redis::Value> { pipe.query(&mut s.conn()).expect("pipeline") };
    let (want, got) = (on(&redis), on(&redcore));
    assert_eq!(want.len(), got.len());
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(w, g, "command {i}: {}", shown[i]);
    }
}

/// Writers pipeline 16 MSETs at a time and readers 16 MGETs over keys on
/// both cores: with many commands in one combined run, an MGET still sees
/// one MSET entirely or not at all.
#[test]
fn pipelined_mset_stays_atomic() {
    let s = Server::under_test(&["--cores", "2"]);
    let keys = Arc::new(keys());
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut handles = Vec::new();
    for w in 0..3 {
        let mut c = s.conn();
        let keys = keys.clone();
        handles.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while Instant::now() < deadline && n < 1_000_000 {
                let mut pipe = redis::pipe();
                for _ in 0..16 {
                    let val = format!("w{w}-{n}");
                    let mut cmd = redis::cmd("MSET");
                    for k in keys.iter() {
                        cmd.arg(k).arg(&val);
                    }
                    pipe.add_command(cmd).ignore();
                    n += 1;
                }
                let _: () = pipe.query(&mut c).map_err(|e| e.to_string())?;
            }
            Ok::<u64, String>(0)
        }));
    }
    for _ in 0..3 {
        let mut c = s.conn();
        let keys = keys.clone();
        handles.push(std::thread::spawn(move || {
            let mut full = 0u64;
            let mut reads = 0u64;
            while Instant::now() < deadline && reads < 1_000_000 {
                let mut pipe = redis::pipe();
                for _ in 0..16 {
                    pipe.cmd("MGET").arg(&keys[..]);
                }
                let all: Vec<Vec<Option<String>>> = pipe.query(&mut c).map_err(|e| e.to_string())?;
                for vals in all {
                    reads += 1;
                    if vals.iter().any(|v| v != &vals[0]) {
                        return Err(format!("MGET saw a torn MSET after {reads} reads: {vals:?}"));
                    }
                    if vals[0].is_some() {
                        full += 1;
                    }
                }
            }
            Ok(full)
        }));
    }
    let mut full = 0;
    for h in handles {
        full += h.join().expect("thread panicked").unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(full > 0, "readers never saw any MSET");
}

/// Combined runs alongside the other coordinators that take several gates
/// (MSETNX, RENAME across cores, MULTI/EXEC), from pipelining clients, with
/// the smallest cross-core queues (16 messages, so senders meet full
/// queues): every pipeline must be answered (each read is bounded by the
/// connection's 10 s timeout), and the total of a set of counters moved
/// around only by transactions must stay what it was.
#[test]
fn combined_runs_with_other_coordinators_never_hang() {
    let dir = redcore_tests::data_dir();
    let config = dir.join("small-queues.toml");
    std::fs::write(&config, "cross-core-channel-capacity = 16\n").expect("write config");
    let s = Server::redcore(&["--cores", "2", "--config", config.to_str().expect("utf-8 path")]);
    let keys: Vec<String> = (0..10).map(|i| format!("co:{i}")).collect();
    let counters: Vec<String> = (0..4).map(|i| format!("cnt:{i}")).collect();
    {
        let mut c = s.conn();
        let mut mset = redis::cmd("MSET");
        for k in &counters {
            mset.arg(k).arg(100);
        }
        let _: () = mset.query(&mut c).expect("MSET counters");
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut handles = Vec::new();
    for t in 0..6u64 {
        let mut c = s.conn();
        let (keys, counters) = (keys.clone(), counters.clone());
        handles.push(std::thread::spawn(move || {
            let mut rng = StdRng::seed_from_u64(0x2545_f491_4f6c_dd1d ^ (t + 1));
            let mut pipelines = 0u64;
            while Instant::now() < deadline && pipelines < 100_000 {
                let mut pipe = redis::pipe();
                for n in 0..32 {
                    let k = |rng: &mut StdRng| keys[rng.gen_range(0..keys.len())].clone();
                    match rng.gen_range(0..8) {
                        0 | 1 => {
                            pipe.cmd("MSET").arg(k(&mut rng)).arg(n).arg(k(&mut rng)).arg(n).arg(k(&mut rng)).arg(n).ignore();
                        }
                        2 | 3 => {
                            pipe.cmd("MGET").arg(k(&mut rng)).arg(k(&mut rng)).arg(k(&mut rng)).ignore();
                        }
                        4 => {
                            pipe.cmd("DEL").arg(k(&mut rng)).arg(k(&mut rng)).ignore();
                        }
                        5 => {
                            pipe.cmd("MSETNX").arg(k(&mut rng)).arg(n).arg(k(&mut rng)).arg(n).ignore();
                        }
                        6 => {
                            pipe.cmd("RENAME").arg(k(&mut rng)).arg(k(&mut rng)).ignore();
                        }
                        _ => {
                            // Move one unit between two counters atomically.
                            let (a, b) = (&counters[rng.gen_range(0..counters.len())], &counters[rng.gen_range(0..counters.len())]);
                            pipe.cmd("MULTI").ignore().cmd("DECR").arg(a).ignore().cmd("INCR").arg(b).ignore().cmd("EXEC").ignore();
                        }
                    }
                }
                // RENAME of a missing key answers an error: read the replies raw.
                let _: Vec<redis::Value> = pipe.query(&mut c).or_else(|e| if e.kind() == redis::ErrorKind::ResponseError { Ok(Vec::new()) } else { Err(e) }).map_err(|e| format!("thread {t}: {e}"))?;
                pipelines += 1;
            }
            Ok::<u64, String>(pipelines)
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.join().expect("thread panicked").unwrap_or_else(|e| panic!("{e}"));
    }
    eprintln!("combined runs stress: {total} pipelines of 32 commands");
    assert!(total > 0, "no pipeline completed");
    let mut c = s.conn();
    let values: Vec<i64> = redis::cmd("MGET").arg(&counters[..]).query(&mut c).expect("MGET counters");
    assert_eq!(values.iter().sum::<i64>(), 400, "transactions lost or doubled a unit: {values:?}");
}
