//! MSET must be atomic across cores: readers running MGET over the same keys
//! while writers MSET them must never observe values from two different MSETs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
