//! Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
//! SRANDMEMBER SMOVE SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE
//! SINTERCARD SSCAN. Happy paths through the `redis` crate, reply shapes and
//! errors byte-exact (Redis 7.0) through raw RESP2/RESP3, random and SCAN
//! replies checked by their properties, and the multi-key commands on keys
//! owned by different cores of a 2-core redcore (`--cores 2`, dropped for
//! stock Redis), concurrently too.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redcore_tests::RawReply as R;
use redcore_tests::common::{NOT_INT, SYNTAX, WRONGTYPE, arity, core_of, two_cores};
use redcore_tests::*;

const POP_COUNT: &str = "ERR value is out of range, must be positive";

/// The `n`-th key with `prefix` owned by `core`.
fn key_on(prefix: &str, core: usize, n: usize) -> String {
    (0..10_000).map(|i| format!("{prefix}:{i}")).filter(|k| core_of(k) == core).nth(n).expect("keys land on each core")
}

fn members(c: &mut redis::Connection, key: &str) -> HashSet<String> {
    q(c, &["SMEMBERS", key])
}

fn set_of(items: &[&str]) -> HashSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn exists(c: &mut redis::Connection, key: &str) -> bool {
    q::<i64>(c, &["EXISTS", key]) == 1
}

fn sadd(c: &mut redis::Connection, key: &str, items: &[String]) -> i64 {
    let mut cmd = redis::cmd("SADD");
    cmd.arg(key).arg(items);
    cmd.query(c).unwrap()
}

#[test]
fn add_remove_and_membership() {
    let s = two_cores();
    let mut c = s.conn();
    assert_eq!(q::<i64>(&mut c, &["SADD", "s", "a", "b", "c", "a"]), 3);
    assert_eq!(q::<i64>(&mut c, &["SADD", "s", "c", "d"]), 1);
    assert_eq!(members(&mut c, "s"), set_of(&["a", "b", "c", "d"]));
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 4);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "noset"]), 0);
    assert_eq!(q::<String>(&mut c, &["TYPE", "s"]), "set");
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", "z"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "noset", "a"]), 0);
    assert_eq!(q::<Vec<i64>>(&mut c, &["SMISMEMBER", "s", "a", "z", "d"]), [1, 0, 1]);
    assert_eq!(q::<Vec<i64>>(&mut c, &["SMISMEMBER", "noset", "a", "b"]), [0, 0]);
    assert_eq!(q::<i64>(&mut c, &["SREM", "s", "a", "z", "a", "b"]), 2);
    assert_eq!(q::<i64>(&mut c, &["SREM", "noset", "a"]), 0);
    assert_eq!(members(&mut c, "s"), set_of(&["c", "d"]));
    assert_eq!(members(&mut c, "noset"), HashSet::new());

    // An intset answers in numeric order, like Redis.
    assert_eq!(q::<i64>(&mut c, &["SADD", "ints", "10", "-3", "7", "0", "100"]), 5);
    assert_eq!(q::<Vec<String>>(&mut c, &["SMEMBERS", "ints"]), ["-3", "0", "7", "10", "100"]);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "ints"]), "intset");
    // "01" and "+1" are strings, not integers.
    assert_eq!(q::<i64>(&mut c, &["SADD", "ints", "01"]), 1);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "ints"]), "hashtable");
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "ints", "1"]), 0);

    // Binary-safe members, the empty string included.
    let bin: Vec<u8> = vec![0, b'\r', b'\n', 255];
    let _: i64 = redis::cmd("SADD").arg("bin").arg(&bin[..]).arg("").query(&mut c).unwrap();
    let got: i64 = redis::cmd("SISMEMBER").arg("bin").arg(&bin[..]).query(&mut c).unwrap();
    assert_eq!(got, 1);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "bin", ""]), 1);
}

#[test]
fn emptied_sets_disappear() {
    let s = two_cores();
    let mut c = s.conn();
    for i in 0..40 {
        let k = format!("es:{i}");
        let _: i64 = q(&mut c, &["SADD", &k, "1", "x"]);
        let _: i64 = q(&mut c, &["EXPIRE", &k, "100"]);
        match i % 4 {
            0 => assert_eq!(q::<i64>(&mut c, &["SREM", &k, "1", "x"]), 2),
            1 => assert_eq!(q::<HashSet<String>>(&mut c, &["SPOP", &k, "5"]), set_of(&["1", "x"])),
            2 => {
                let _: String = q(&mut c, &["SPOP", &k]);
                let _: String = q(&mut c, &["SPOP", &k]);
            }
            _ => {
                let dst = format!("es-dst:{i}");
                assert_eq!(q::<i64>(&mut c, &["SMOVE", &k, &dst, "1"]), 1);
                assert_eq!(q::<i64>(&mut c, &["SMOVE", &k, &dst, "x"]), 1);
                assert_eq!(members(&mut c, &dst), set_of(&["1", "x"]));
                let _: i64 = q(&mut c, &["DEL", &dst]);
            }
        }
        assert!(!exists(&mut c, &k), "{k}");
        assert_eq!(q::<Option<String>>(&mut c, &["SPOP", &k]), None);
        let _: i64 = q(&mut c, &["SADD", &k, "y"]);
        assert_eq!(q::<i64>(&mut c, &["TTL", &k]), -1);
    }
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 40);
}

#[test]
fn spop_and_srandmember() {
    let s = two_cores();
    let mut c = s.conn();
    let mut r = s.raw();
    let all: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
    let universe: HashSet<String> = all.iter().cloned().collect();
    sadd(&mut c, "s", &all);
    for _ in 0..20 {
        let one: String = q(&mut c, &["SRANDMEMBER", "s"]);
        assert!(universe.contains(&one));
        let got: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", "30"]);
        assert_eq!(got.len(), 30);
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), 30);
        assert!(got.iter().all(|m| universe.contains(m)));
        let got: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", "-300"]);
        assert_eq!(got.len(), 300);
        assert!(got.iter().all(|m| universe.contains(m)));
    }
    let got: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", "9223372036854775807"]);
    assert_eq!(got.into_iter().collect::<HashSet<_>>(), universe);
    assert_eq!(q::<Vec<String>>(&mut c, &["SRANDMEMBER", "s", "0"]), Vec::<String>::new());
    assert_eq!(q::<Vec<String>>(&mut c, &["SRANDMEMBER", "noset", "-3"]), Vec::<String>::new());
    assert_eq!(q::<Option<String>>(&mut c, &["SRANDMEMBER", "noset"]), None);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 100);

    // SPOP removes what it returns, never twice.
    let mut popped = HashSet::new();
    let one: String = q(&mut c, &["SPOP", "s"]);
    assert!(popped.insert(one));
    for _ in 0..9 {
        let got: Vec<String> = q(&mut c, &["SPOP", "s", "7"]);
        assert_eq!(got.len(), 7);
        for m in got {
            assert!(popped.insert(m.clone()), "{m} popped twice");
        }
    }
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 100 - 64);
    let rest = members(&mut c, "s");
    assert!(rest.is_disjoint(&popped));
    assert_eq!(q::<Vec<String>>(&mut c, &["SPOP", "s", "0"]), Vec::<String>::new());
    let got: HashSet<String> = q(&mut c, &["SPOP", "s", "9223372036854775807"]);
    assert_eq!(got, rest);
    assert!(!exists(&mut c, "s"));
    assert_eq!(q::<Vec<String>>(&mut c, &["SPOP", "noset", "3"]), Vec::<String>::new());

    // A hashtable-encoded set, popped down to nothing.
    let big: Vec<String> = (0..1000).map(|i| format!("b{i}")).collect();
    sadd(&mut c, "big", &big);
    let mut seen = HashSet::new();
    while exists(&mut c, "big") {
        let got: Vec<String> = q(&mut c, &["SPOP", "big", "37"]);
        assert!(!got.is_empty());
        for m in got {
            assert!(seen.insert(m));
        }
    }
    assert_eq!(seen.len(), 1000);

    assert_raw_err(&mut r, &["SPOP", "s", "-1"], POP_COUNT);
    assert_raw_err(&mut r, &["SPOP", "s", "x"], POP_COUNT);
    assert_raw_err(&mut r, &["SPOP", "s", "1", "2"], SYNTAX);
    assert_raw_err(&mut r, &["SRANDMEMBER", "s", "x"], NOT_INT);
    assert_raw_err(&mut r, &["SRANDMEMBER", "s", "1", "2"], SYNTAX);
    assert_raw_err(&mut r, &["SRANDMEMBER", "s", "-9223372036854775808"], "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    if s.is_redcore() {
        // Redis would try to build 10^15 replies; redcore refuses.
        assert_reply!(r.cmd_str(&["SADD", "s", "a"]), R::Int(1));
        assert_raw_err(&mut r, &["SRANDMEMBER", "s", "-1000000000000000"], "ERR value is out of range");
    }
}

#[test]
fn errors_and_wrongtype() {
    let s = two_cores();
    let mut r = s.raw();
    assert_reply!(r.cmd_str(&["SET", "str", "v"]), R::ok());
    assert_reply!(r.cmd_str(&["SADD", "s", "a"]), R::Int(1));
    for cmd in [
        vec!["SADD", "str", "m"],
        vec!["SREM", "str", "m"],
        vec!["SMEMBERS", "str"],
        vec!["SISMEMBER", "str", "m"],
        vec!["SMISMEMBER", "str", "m"],
        vec!["SCARD", "str"],
        vec!["SPOP", "str"],
        vec!["SPOP", "str", "2"],
        vec!["SRANDMEMBER", "str"],
        vec!["SRANDMEMBER", "str", "-2"],
        vec!["SMOVE", "str", "s", "a"],
        vec!["SMOVE", "s", "str", "a"],
        vec!["SMOVE", "s", "str", "zz"],
        vec!["SINTER", "s", "str"],
        vec!["SINTER", "noset", "str"],
        vec!["SUNION", "str", "s"],
        vec!["SDIFF", "s", "str"],
        vec!["SINTERSTORE", "d", "s", "str"],
        vec!["SUNIONSTORE", "d", "str"],
        vec!["SDIFFSTORE", "d", "noset", "str"],
        vec!["SINTERCARD", "2", "noset", "str"],
        vec!["SSCAN", "str", "0"],
        vec!["GET", "s"],
        vec!["HSET", "s", "f", "v"],
    ] {
        assert_raw_err(&mut r, &cmd, WRONGTYPE);
    }
    // A missing source is a 0 before any type check of the destination.
    assert_reply!(r.cmd_str(&["SMOVE", "noset", "str", "a"]), R::Int(0));
    assert_reply!(r.cmd_str(&["EXISTS", "d"]), R::Int(0));
    assert_reply!(r.cmd_str(&["GET", "str"]), R::bulk("v"));

    for (cmd, name) in [
        (vec!["SADD", "s"], "sadd"),
        (vec!["SREM", "s"], "srem"),
        (vec!["SMEMBERS"], "smembers"),
        (vec!["SISMEMBER", "s"], "sismember"),
        (vec!["SMISMEMBER", "s"], "smismember"),
        (vec!["SCARD", "s", "x"], "scard"),
        (vec!["SPOP"], "spop"),
        (vec!["SRANDMEMBER"], "srandmember"),
        (vec!["SMOVE", "s", "d"], "smove"),
        (vec!["SINTER"], "sinter"),
        (vec!["SINTERSTORE", "d"], "sinterstore"),
        (vec!["SUNION"], "sunion"),
        (vec!["SUNIONSTORE", "d"], "sunionstore"),
        (vec!["SDIFF"], "sdiff"),
        (vec!["SDIFFSTORE", "d"], "sdiffstore"),
        (vec!["SINTERCARD", "1"], "sintercard"),
        (vec!["SSCAN", "s"], "sscan"),
    ] {
        assert_raw_err(&mut r, &cmd, &arity(name));
    }

    assert_raw_err(&mut r, &["SINTERCARD", "0", "s"], "ERR numkeys should be greater than 0");
    assert_raw_err(&mut r, &["SINTERCARD", "x", "s"], "ERR numkeys should be greater than 0");
    assert_raw_err(&mut r, &["SINTERCARD", "2", "s"], "ERR Number of keys can't be greater than number of args");
    assert_raw_err(&mut r, &["SINTERCARD", "1", "s", "LIMIT"], SYNTAX);
    assert_raw_err(&mut r, &["SINTERCARD", "1", "s", "LIMIT", "-1"], "ERR LIMIT can't be negative");
    assert_raw_err(&mut r, &["SINTERCARD", "1", "s", "FOO", "1"], SYNTAX);
    assert_raw_err(&mut r, &["SSCAN", "s", "x"], "ERR invalid cursor");
    assert_raw_err(&mut r, &["SSCAN", "s", "0", "COUNT", "0"], SYNTAX);
    assert_raw_err(&mut r, &["SSCAN", "s", "0", "COUNT", "x"], NOT_INT);
    assert_raw_err(&mut r, &["SSCAN", "s", "0", "NOVALUES"], SYNTAX);
}

/// The four set keys and three destinations used below, on both cores.
struct Keys {
    a: String,
    b: String,
    c: String,
    d: String,
    dst: [String; 3],
}

fn cross_core_keys() -> Keys {
    Keys {
        a: key_on("A", 0, 0),
        b: key_on("B", 1, 0),
        c: key_on("C", 0, 1),
        d: key_on("D", 1, 1),
        dst: [key_on("dst", 0, 0), key_on("dst", 1, 0), key_on("dst", 1, 1)],
    }
}

#[test]
fn algebra_across_cores() {
    let s = two_cores();
    let mut c = s.conn();
    let k = cross_core_keys();
    let nums = |r: std::ops::Range<i32>| r.map(|i| i.to_string()).collect::<Vec<_>>();
    sadd(&mut c, &k.a, &nums(0..60));
    sadd(&mut c, &k.b, &nums(40..100));
    sadd(&mut c, &k.c, &nums(50..55));
    sadd(&mut c, &k.d, &["x".to_string(), "y".to_string(), "50".to_string()]);
    let set = |r: std::ops::Range<i32>| nums(r).into_iter().collect::<HashSet<_>>();

    assert_eq!(members_of(&mut c, &["SINTER", &k.a, &k.b]), set(40..60));
    assert_eq!(members_of(&mut c, &["SINTER", &k.a, &k.b, &k.c]), set(50..55));
    assert_eq!(members_of(&mut c, &["SINTER", &k.a, &k.b, &k.c, &k.d]), set_of(&["50"]));
    assert_eq!(members_of(&mut c, &["SINTER", &k.a, "noset"]), HashSet::new());
    assert_eq!(members_of(&mut c, &["SUNION", &k.a, &k.b]), set(0..100));
    let mut u = set(0..60);
    u.extend(["x".to_string(), "y".to_string()]);
    assert_eq!(members_of(&mut c, &["SUNION", &k.a, &k.d, "noset"]), u);
    assert_eq!(members_of(&mut c, &["SDIFF", &k.a, &k.b]), set(0..40));
    assert_eq!(members_of(&mut c, &["SDIFF", &k.b, &k.a, &k.c]), set(60..100));
    assert_eq!(members_of(&mut c, &["SDIFF", &k.d, &k.a]), set_of(&["x", "y"]));
    assert_eq!(members_of(&mut c, &["SDIFF", "noset", &k.a]), HashSet::new());
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", &k.a, &k.b]), 20);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", &k.a, &k.b, "LIMIT", "5"]), 5);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", &k.a, &k.b, "LIMIT", "0"]), 20);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "3", &k.a, &k.b, &k.c]), 5);

    // STORE forms, destinations on either core.
    let [d0, d1, d2] = &k.dst;
    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", d0, &k.a, &k.b]), 20);
    assert_eq!(members(&mut c, d0), set(40..60));
    assert_eq!(q::<i64>(&mut c, &["SUNIONSTORE", d1, &k.a, &k.b]), 100);
    assert_eq!(members(&mut c, d1), set(0..100));
    assert_eq!(q::<i64>(&mut c, &["SDIFFSTORE", d2, &k.b, &k.a]), 40);
    assert_eq!(members(&mut c, d2), set(60..100));
    // An empty result deletes the destination.
    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", d0, &k.a, "noset"]), 0);
    assert!(!exists(&mut c, d0));
    assert_eq!(q::<i64>(&mut c, &["SDIFFSTORE", d1, &k.c, &k.a]), 0);
    assert!(!exists(&mut c, d1));
    // The destination loses its old value and TTL, and may be a source.
    let _: () = q(&mut c, &["SET", d0, "string"]);
    let _: i64 = q(&mut c, &["EXPIRE", d0, "100"]);
    assert_eq!(q::<i64>(&mut c, &["SUNIONSTORE", d0, &k.c, &k.d]), 7);
    assert_eq!(q::<i64>(&mut c, &["TTL", d0]), -1);
    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", d0, d0, &k.b]), 5);
    assert_eq!(members(&mut c, d0), set(50..55));
    assert_eq!(q::<i64>(&mut c, &["SDIFFSTORE", &k.a, &k.a, &k.b]), 40);
    assert_eq!(members(&mut c, &k.a), set(0..40));
    // A failed STORE leaves the destination alone.
    let _: () = q(&mut c, &["SET", "str", "v"]);
    let _ = q_err(&mut c, &["SUNIONSTORE", d2, &k.a, "str"]);
    assert_eq!(members(&mut c, d2), set(60..100));
}

fn members_of(c: &mut redis::Connection, args: &[&str]) -> HashSet<String> {
    q(c, args)
}

#[test]
fn smove_across_cores() {
    let s = two_cores();
    let mut c = s.conn();
    let k = cross_core_keys();
    let (src, dst) = (&k.a, &k.b);
    assert_ne!(core_of(src), core_of(dst));
    sadd(&mut c, src, &(0..50).map(|i| i.to_string()).collect::<Vec<_>>());
    for i in 0..50 {
        assert_eq!(q::<i64>(&mut c, &["SMOVE", src, dst, &i.to_string()]), 1);
        assert_eq!(q::<i64>(&mut c, &["SMOVE", src, dst, &i.to_string()]), 0);
        assert_eq!(q::<i64>(&mut c, &["SCARD", dst]), i + 1);
    }
    assert!(!exists(&mut c, src));
    assert_eq!(q::<i64>(&mut c, &["SMOVE", dst, dst, "7"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", dst, dst, "x"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "noset", dst, "7"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SCARD", dst]), 50);
    // Into a set that exists on the other core, converting its encoding.
    let _: i64 = q(&mut c, &["SADD", &k.c, "word"]);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", &k.c, dst, "word"]), 1);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", dst]), "hashtable");
    assert!(!exists(&mut c, &k.c));
}

/// Members move back and forth between two sets on different cores while
/// readers check, with SUNION and SINTER (atomic across cores), that no
/// member is ever lost, duplicated or seen in both sets.
#[test]
fn concurrent_smove_is_atomic() {
    let s = two_cores();
    let k = cross_core_keys();
    let (a, b) = (k.a.clone(), k.b.clone());
    assert_ne!(core_of(&a), core_of(&b));
    let n = 40;
    let all: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    {
        let mut c = s.conn();
        sadd(&mut c, &a, &all[..n / 2]);
        sadd(&mut c, &b, &all[n / 2..]);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let run_for = Duration::from_millis(1500);
    let mut handles = Vec::new();
    for w in 0..2 {
        let mut c = s.conn();
        let (a, b, all, stop) = (a.clone(), b.clone(), all.clone(), stop.clone());
        handles.push(std::thread::spawn(move || {
            let deadline = Instant::now() + run_for;
            let mut i = w;
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                let m = &all[i % all.len()];
                let (from, to) = if (i / all.len()) % 2 == 0 { (&a, &b) } else { (&b, &a) };
                let _: i64 = q(&mut c, &["SMOVE", from, to, m]);
                i += 2;
            }
        }));
    }
    let mut c = s.conn();
    let deadline = Instant::now() + run_for;
    let mut checks = 0;
    while Instant::now() < deadline {
        let union: Vec<String> = q(&mut c, &["SUNION", &a, &b]);
        let inter: Vec<String> = q(&mut c, &["SINTER", &a, &b]);
        if union.len() != n || !inter.is_empty() {
            stop.store(true, Ordering::Relaxed);
            panic!("union has {} members, intersection {:?}", union.len(), inter);
        }
        checks += 1;
    }
    for h in handles {
        h.join().expect("mover thread");
    }
    assert!(checks > 10);
    let total: i64 = q::<i64>(&mut c, &["SCARD", &a]) + q::<i64>(&mut c, &["SCARD", &b]);
    assert_eq!(total, n as i64);
}

#[test]
fn sscan_small_and_large() {
    let s = two_cores();
    let mut c = s.conn();
    let mut r = s.raw();
    let scan_all = |c: &mut redis::Connection, key: &str, extra: &[&str]| -> (Vec<String>, usize) {
        let mut cursor = "0".to_string();
        let mut out = Vec::new();
        for calls in 1..100_000 {
            let mut args = vec!["SSCAN", key, &cursor];
            args.extend_from_slice(extra);
            let (next, items): (String, Vec<String>) = q(c, &args);
            out.extend(items);
            if next == "0" {
                return (out, calls);
            }
            cursor = next;
        }
        panic!("SSCAN did not finish");
    };
    let _: i64 = q(&mut c, &["SADD", "ints", "5", "-1", "3", "12"]);
    let (got, calls) = scan_all(&mut c, "ints", &["COUNT", "1"]);
    assert_eq!((got, calls), (vec!["-1".to_string(), "3".into(), "5".into(), "12".into()], 1));
    let (got, _) = scan_all(&mut c, "ints", &["MATCH", "1*"]);
    assert_eq!(got, ["12"]);
    let (got, _) = scan_all(&mut c, "noset", &[]);
    assert!(got.is_empty());

    let n = 5000;
    let big: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    sadd(&mut c, "big", &big);
    for count in ["1", "10", "333", "100000"] {
        let (got, calls) = scan_all(&mut c, "big", &["COUNT", count]);
        assert_eq!(got.len(), n, "COUNT {count}");
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), n);
        if count == "10" {
            assert!(calls > 100);
        }
    }
    let (mut got, _) = scan_all(&mut c, "big", &["MATCH", "m12?", "COUNT", "100"]);
    got.sort();
    assert_eq!(got, (120..130).map(|i| format!("m{i}")).collect::<Vec<_>>());

    assert_reply!(r.cmd_str(&["SSCAN", "noset", "0", "COUNT", "0"]), R::arr(vec![R::bulk("0"), R::arr(vec![])]));
}

#[test]
fn sscan_returns_members_present_throughout() {
    let s = two_cores();
    let mut c = s.conn();
    let n = 3000;
    let stable: Vec<String> = (0..n).map(|i| format!("stable{i}")).collect();
    sadd(&mut c, "big", &stable);
    let mut cursor = "0".to_string();
    let mut seen = HashSet::new();
    let mut step = 0;
    loop {
        let (next, items): (String, Vec<String>) = q(&mut c, &["SSCAN", "big", &cursor, "COUNT", "40"]);
        seen.extend(items);
        if next == "0" {
            break;
        }
        cursor = next;
        step += 1;
        let _: i64 = q(&mut c, &["SADD", "big", &format!("churn{step}"), &format!("churn{}", step + 1000)]);
        let _: i64 = q(&mut c, &["SREM", "big", &format!("churn{}", step / 2)]);
    }
    for m in &stable {
        assert!(seen.contains(m), "{m} missed");
    }
}

#[test]
fn resp3_shapes() {
    let s = two_cores();
    let mut r = s.raw();
    let _ = r.cmd_str(&["HELLO", "3"]);
    assert_reply!(r.cmd_str(&["SADD", "s", "3", "1", "2"]), R::Int(3));
    assert_eq!(r.cmd_bytes(&[b"SMEMBERS", b"s"]), b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SMEMBERS", b"noset"]), b"~0\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SINTER", b"s", b"s"]), b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SUNION", b"s", b"noset"]), b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SDIFF", b"noset", b"s"]), b"~0\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SRANDMEMBER", b"s", b"5"]), b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SRANDMEMBER", b"s", b"0"]), b"*0\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SRANDMEMBER", b"noset"]), b"_\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SMISMEMBER", b"s", b"1", b"9"]), b"*2\r\n:1\r\n:0\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SPOP", b"s", b"0"]), b"~0\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SPOP", b"noset", b"2"]), b"~0\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SPOP", b"noset"]), b"_\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SSCAN", b"s", b"0"]), b"*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SPOP", b"s", b"3"]), b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n".to_vec());
    assert_reply!(r.cmd_str(&["EXISTS", "s"]), R::Int(0));
}

#[test]
fn encodings_follow_redis_limits() {
    let s = two_cores();
    let mut c = s.conn();
    let enc = |c: &mut redis::Connection, k: &str| q::<String>(c, &["OBJECT", "ENCODING", k]);
    sadd(&mut c, "n", &(0..512).map(|i| i.to_string()).collect::<Vec<_>>());
    assert_eq!(enc(&mut c, "n"), "intset");
    assert_eq!(q::<i64>(&mut c, &["SUNIONSTORE", "n2", "n"]), 512);
    assert_eq!(enc(&mut c, "n2"), "intset");
    let _: i64 = q(&mut c, &["SADD", "n", "512"]);
    assert_eq!(enc(&mut c, "n"), "hashtable");
    let _: i64 = q(&mut c, &["SREM", "n", "512", "511"]);
    assert_eq!(enc(&mut c, "n"), "hashtable");
    let _: i64 = q(&mut c, &["SADD", "w", "1", "a"]);
    assert_eq!(enc(&mut c, "w"), "hashtable");
    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", "w2", "w", "n2"]), 1);
    assert_eq!(enc(&mut c, "w2"), "intset");
}
