//! Cross-core atomicity under concurrency: writer threads move set members
//! (SMOVE) and list elements (LMOVE) between keys owned by different cores
//! and rewrite groups of keys with MSET, while reader threads check the
//! invariants with atomic multi-key reads:
//! - SUNION over every set always has exactly the original members (a
//!   member is never in two sets, nor in none, at any instant);
//! - MGET never returns values from two different MSETs.
//!
//! At the end the lists hold exactly the original elements.

use rand::{Rng, SeedableRng};
use redcore_tests::*;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const SETS: usize = 6;
const MEMBERS: usize = 300;
const LISTS: usize = 6;
const ELEMENTS: usize = 300;
const MSET_KEYS: usize = 8;
const RUN_FOR: Duration = Duration::from_secs(3);

fn set_key(i: usize) -> String {
    format!("cset:{i}")
}
fn list_key(i: usize) -> String {
    format!("clist:{i}")
}
fn mset_key(i: usize) -> String {
    format!("cm:{i}")
}

#[test]
fn cross_core_moves_and_msets_keep_invariants() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut c = s.conn();
    // The keys must really span both cores for this test to mean anything.
    if s.is_redcore() {
        let slots: HashSet<usize> = (0..SETS).map(|i| redcore_tests::common::core_of(&set_key(i))).collect();
        assert_eq!(slots.len(), 2, "set keys should live on both cores");
    }
    for m in 0..MEMBERS {
        let _: i64 = q(&mut c, &["SADD", &set_key(m % SETS), &format!("m{m}")]);
    }
    for e in 0..ELEMENTS {
        let _: i64 = q(&mut c, &["RPUSH", &list_key(e % LISTS), &format!("e{e}")]);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let checks = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for w in 0..3u64 {
        let (stop, url) = (stop.clone(), s.url());
        handles.push(thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut rng = rand::rngs::StdRng::seed_from_u64(w);
            let mut n = 0u64;
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < RUN_FOR * 2 {
                let (a, b) = (rng.gen_range(0..SETS), rng.gen_range(0..SETS));
                let member = format!("m{}", rng.gen_range(0..MEMBERS));
                let _: i64 = q(&mut c, &["SMOVE", &set_key(a), &set_key(b), &member]);
                let (a, b) = (rng.gen_range(0..LISTS), rng.gen_range(0..LISTS));
                let _: Option<String> = q(&mut c, &["LMOVE", &list_key(a), &list_key(b), "LEFT", "RIGHT"]);
                n += 1;
                let v = format!("w{w}-{n}");
                let mut args = vec!["MSET".to_string()];
                for k in 0..MSET_KEYS {
                    args.push(mset_key(k));
                    args.push(v.clone());
                }
                let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
                let _: () = q(&mut c, &args);
            }
        }));
    }
    for r in 0..2u64 {
        let (stop, url, checks) = (stop.clone(), s.url(), checks.clone());
        handles.push(thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let started = Instant::now();
            let set_keys: Vec<String> = (0..SETS).map(set_key).collect();
            let mset_keys: Vec<String> = (0..MSET_KEYS).map(mset_key).collect();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < RUN_FOR * 2 {
                let mut args = vec!["SUNION"];
                args.extend(set_keys.iter().map(|s| s.as_str()));
                let union: Vec<String> = q(&mut c, &args);
                assert_eq!(union.len(), MEMBERS, "reader {r}: SUNION saw {} members", union.len());
                let mut args = vec!["MGET"];
                args.extend(mset_keys.iter().map(|s| s.as_str()));
                let vals: Vec<Option<String>> = q(&mut c, &args);
                let distinct: HashSet<&Option<String>> = vals.iter().collect();
                assert_eq!(distinct.len(), 1, "reader {r}: MGET saw parts of different MSETs: {vals:?}");
                let mut scards = 0i64;
                for k in &set_keys {
                    let n: i64 = q(&mut c, &["SCARD", k]);
                    scards += n;
                }
                // Per-key reads are not atomic together; just sanity-bound them.
                assert!(scards <= MEMBERS as i64 + 3 * SETS as i64);
                checks.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    thread::sleep(RUN_FOR);
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("worker panicked");
    }
    assert!(checks.load(Ordering::Relaxed) > 10, "readers made too few checks");
    // Final state: every member in exactly one set, every element in one list.
    let mut seen = HashSet::new();
    for i in 0..SETS {
        let members: Vec<String> = q(&mut c, &["SMEMBERS", &set_key(i)]);
        for m in members {
            assert!(seen.insert(m.clone()), "member {m} in two sets");
        }
    }
    assert_eq!(seen.len(), MEMBERS);
    let mut elements = Vec::new();
    for i in 0..LISTS {
        let items: Vec<String> = q(&mut c, &["LRANGE", &list_key(i), "0", "-1"]);
        elements.extend(items);
    }
    elements.sort();
    let mut want: Vec<String> = (0..ELEMENTS).map(|e| format!("e{e}")).collect();
    want.sort();
    assert_eq!(elements, want, "list elements lost or duplicated");
}
