//! Sorted set commands against the real binary: happy paths through the
//! `redis` crate, reply shapes byte-exact in RESP2 and RESP3, errors, keys
//! disappearing when emptied, encodings, large (skiplist) sets with ZSCAN,
//! ZRANDMEMBER's contract, and the multi-key commands (ZUNIONSTORE,
//! ZINTERSTORE, ZDIFFSTORE, ZRANGESTORE, ZUNION, ZINTER, ZDIFF, ZINTERCARD,
//! ZMPOP) on keys owned by different cores of a 2-core redcore (`--cores 2`,
//! dropped for stock Redis).

use redcore_tests::RawReply as R;
use redcore_tests::common::{key_on, two_cores, NOT_FLOAT, SYNTAX, WRONGTYPE};
use redcore_tests::*;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

fn bulks(items: &[&str]) -> R {
    R::arr(items.iter().map(R::bulk).collect())
}

fn withscores(c: &mut redis::Connection, key: &str) -> Vec<(String, f64)> {
    q(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"])
}

fn exists(c: &mut redis::Connection, key: &str) -> bool {
    q::<i64>(c, &["EXISTS", key]) == 1
}

fn pairs(items: &[(&str, f64)]) -> Vec<(String, f64)> {
    items.iter().map(|(m, s)| (m.to_string(), *s)).collect()
}

#[test]
fn basics_on_many_keys() {
    let s = two_cores();
    let mut c = s.conn();
    // Enough keys that both cores own some.
    for i in 0..40 {
        let k = format!("zs:{i}");
        let added: i64 = q(&mut c, &["ZADD", &k, "3", "c", "1", "a", "2", "b"]);
        assert_eq!(added, 3);
        let _: i64 = q(&mut c, &["ZADD", &k, &i.to_string(), "own"]);
    }
    for i in 0..40 {
        let k = format!("zs:{i}");
        assert_eq!(q::<i64>(&mut c, &["ZCARD", &k]), 4);
        assert_eq!(q::<f64>(&mut c, &["ZSCORE", &k, "own"]), i as f64);
        let rank: i64 = q(&mut c, &["ZRANK", &k, "own"]);
        // Ties on score order by member: "a" < "b" < "c" < "own".
        let want = i.min(3);
        assert_eq!(rank, want, "rank of own in {k}");
        assert_eq!(q::<i64>(&mut c, &["ZREVRANK", &k, "own"]), 3 - want);
    }
    let _: i64 = q(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(withscores(&mut c, "z"), pairs(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0)]));
    assert_eq!(q::<Vec<String>>(&mut c, &["ZREVRANGE", "z", "0", "1"]), ["d", "c"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["ZRANGEBYSCORE", "z", "(1", "3"]), ["b", "c"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "2"]), ["c", "b"]);
    assert_eq!(q::<i64>(&mut c, &["ZCOUNT", "z", "2", "+inf"]), 3);
    assert_eq!(q::<f64>(&mut c, &["ZINCRBY", "z", "0.5", "a"]), 1.5);
    assert_eq!(q::<Vec<Option<f64>>>(&mut c, &["ZMSCORE", "z", "a", "nosuch", "d"]), [Some(1.5), None, Some(4.0)]);
    assert_eq!(q::<i64>(&mut c, &["ZREM", "z", "a", "nosuch"]), 1);
    assert_eq!(q::<Vec<String>>(&mut c, &["ZRANGE", "z", "0", "-1"]), ["b", "c", "d"]);
}

#[test]
fn scores_print_like_redis() {
    let s = two_cores();
    let mut r = s.raw();
    for (score, printed) in [
        ("1.1", "1.1000000000000001"),
        ("3", "3"),
        ("1e20", "1e+20"),
        ("0.0001", "0.0001"),
        ("1e-5", "1.0000000000000001e-05"),
        ("inf", "inf"),
        ("-inf", "-inf"),
        ("+Infinity", "inf"),
        ("0x10", "16"),
        ("-0", "0"),
        ("12345678901234567", "12345678901234568"),
    ] {
        let _ = r.cmd_str(&["DEL", "f"]);
        assert_eq!(r.cmd_str(&["ZADD", "f", score, "m"]), R::Int(1), "ZADD {score}");
        assert_eq!(r.cmd_str(&["ZSCORE", "f", "m"]), R::bulk(printed), "ZSCORE after ZADD {score}");
        assert_eq!(r.cmd_bytes(&[b"ZRANGE", b"f", b"0", b"-1", b"WITHSCORES"]), format!("*2\r\n$1\r\nm\r\n${}\r\n{printed}\r\n", printed.len()).into_bytes());
    }
    for bad in ["nan", "NaN", "", " 1", "1 ", "abc", "1e400", "1e-400", "--1"] {
        assert_raw_err(&mut r, &["ZADD", "f", bad, "m"], NOT_FLOAT);
    }
    let _ = r.cmd_str(&["ZADD", "f", "inf", "m"]);
    assert_raw_err(&mut r, &["ZINCRBY", "f", "-inf", "m"], "ERR resulting score is not a number (NaN)");
    assert_raw_err(&mut r, &["ZADD", "f", "INCR", "-inf", "m"], "ERR resulting score is not a number (NaN)");
    assert_eq!(r.cmd_str(&["ZSCORE", "f", "m"]), R::bulk("inf"));
}

#[test]
fn zadd_options_and_their_conflicts() {
    let s = two_cores();
    let mut r = s.raw();
    assert_raw_err(&mut r, &["ZADD", "o", "NX", "XX", "1", "a"], "ERR XX and NX options at the same time are not compatible");
    for opts in [["GT", "LT"], ["NX", "GT"], ["LT", "NX"]] {
        assert_raw_err(&mut r, &["ZADD", "o", opts[0], opts[1], "1", "a"], "ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    assert_raw_err(&mut r, &["ZADD", "o", "INCR", "1", "a", "2", "b"], "ERR INCR option supports a single increment-element pair");
    assert_raw_err(&mut r, &["ZADD", "o", "1", "a", "2"], SYNTAX);
    assert_raw_err(&mut r, &["ZADD", "o", "NX", "1"], SYNTAX);
    assert_raw_err(&mut r, &["ZINCRBY", "o", "nx", "a"], SYNTAX);
    assert_raw_err(&mut r, &["ZADD", "o", "1"], "ERR wrong number of arguments for 'zadd' command");
    // XX on a missing key creates nothing.
    assert_eq!(r.cmd_str(&["ZADD", "o", "XX", "1", "a"]), R::Int(0));
    assert_eq!(r.cmd_str(&["ZADD", "o", "XX", "INCR", "1", "a"]), R::nil());
    assert_eq!(r.cmd_str(&["EXISTS", "o"]), R::Int(0));

    assert_eq!(r.cmd_str(&["ZADD", "o", "1", "a", "2", "b", "3", "c"]), R::Int(3));
    assert_eq!(r.cmd_str(&["ZADD", "o", "NX", "10", "a", "4", "d"]), R::Int(1));
    assert_eq!(r.cmd_str(&["ZADD", "o", "XX", "CH", "10", "a", "5", "e"]), R::Int(1));
    assert_eq!(r.cmd_str(&["ZADD", "o", "GT", "CH", "5", "a", "25", "b", "1", "f"]), R::Int(2));
    assert_eq!(r.cmd_str(&["ZADD", "o", "LT", "CH", "50", "a", "20", "b"]), R::Int(1));
    assert_eq!(r.cmd_str(&["ZADD", "o", "GT", "INCR", "-1", "a"]), R::nil());
    assert_eq!(r.cmd_str(&["ZADD", "o", "GT", "INCR", "1", "a"]), R::bulk("11"));
    assert_eq!(r.cmd_str(&["ZADD", "o", "NX", "INCR", "1", "a"]), R::nil());
    assert_eq!(r.cmd_str(&["ZADD", "o", "INCR", "0", "a"]), R::bulk("11"));
    assert_eq!(r.cmd_str(&["ZADD", "o", "1", "dup", "2", "dup"]), R::Int(1));
    assert_eq!(r.cmd_str(&["ZSCORE", "o", "dup"]), R::bulk("2"));
    let mut c = s.conn();
    assert_eq!(withscores(&mut c, "o"), pairs(&[("f", 1.0), ("dup", 2.0), ("c", 3.0), ("d", 4.0), ("a", 11.0), ("b", 20.0)]));
}

#[test]
fn wrong_type_everywhere() {
    let s = two_cores();
    let mut r = s.raw();
    let _ = r.cmd_str(&["SET", "str", "v"]);
    let _ = r.cmd_str(&["LPUSH", "lst", "v"]);
    let _ = r.cmd_str(&["ZADD", "z", "1", "a"]);
    let cmds: &[&[&str]] = &[
        &["ZADD", "str", "1", "a"],
        &["ZINCRBY", "str", "1", "a"],
        &["ZREM", "str", "a"],
        &["ZCARD", "lst"],
        &["ZSCORE", "str", "a"],
        &["ZMSCORE", "str", "a"],
        &["ZRANK", "str", "a"],
        &["ZREVRANK", "str", "a"],
        &["ZRANGE", "str", "0", "-1"],
        &["ZRANGE", "str", "0", "1", "BYSCORE"],
        &["ZRANGEBYLEX", "str", "-", "+"],
        &["ZREVRANGEBYSCORE", "str", "1", "0"],
        &["ZREVRANGE", "lst", "0", "-1"],
        &["ZCOUNT", "str", "0", "1"],
        &["ZLEXCOUNT", "str", "-", "+"],
        &["ZPOPMIN", "str"],
        &["ZPOPMAX", "str", "0"],
        &["ZREMRANGEBYRANK", "str", "0", "1"],
        &["ZREMRANGEBYSCORE", "str", "0", "1"],
        &["ZREMRANGEBYLEX", "str", "-", "+"],
        &["ZRANDMEMBER", "str"],
        &["ZRANDMEMBER", "str", "2"],
        &["ZSCAN", "str", "0"],
        &["ZUNIONSTORE", "dst", "2", "z", "str"],
        &["ZINTERSTORE", "dst", "2", "lst", "z"],
        &["ZDIFFSTORE", "dst", "2", "z", "str"],
        &["ZUNION", "2", "z", "str"],
        &["ZINTERCARD", "1", "str"],
        &["ZRANGESTORE", "dst", "str", "0", "-1"],
        &["ZMPOP", "2", "nokey", "str", "MIN"],
    ];
    for args in cmds {
        assert_raw_err(&mut r, args, WRONGTYPE);
    }
    // Numbers are parsed before the key's type is checked.
    assert_raw_err(&mut r, &["ZADD", "str", "abc", "a"], NOT_FLOAT);
    assert_raw_err(&mut r, &["ZCOUNT", "str", "a", "b"], "ERR min or max is not a float");
    assert_raw_err(&mut r, &["ZRANGE", "str", "a", "b"], "ERR value is not an integer or out of range");
    assert_raw_err(&mut r, &["ZSCAN", "str", "abc"], "ERR invalid cursor");
    // The other values are untouched.
    assert_eq!(r.cmd_str(&["GET", "str"]), R::bulk("v"));
    assert_eq!(r.cmd_str(&["LLEN", "lst"]), R::Int(1));
    assert_eq!(r.cmd_str(&["EXISTS", "dst"]), R::Int(0));
}

#[test]
fn emptied_keys_disappear() {
    let s = two_cores();
    let mut c = s.conn();
    let fill = |c: &mut redis::Connection, k: &str| {
        let _: i64 = q(c, &["ZADD", k, "1", "a", "2", "b", "3", "c"]);
    };
    let cases: &[&[&str]] = &[
        &["ZREM", "K", "a", "b", "c"],
        &["ZPOPMIN", "K", "3"],
        &["ZPOPMAX", "K", "100"],
        &["ZREMRANGEBYRANK", "K", "0", "-1"],
        &["ZREMRANGEBYSCORE", "K", "-inf", "+inf"],
        &["ZREMRANGEBYLEX", "K", "-", "+"],
        &["ZMPOP", "1", "K", "MIN", "COUNT", "10"],
    ];
    for (i, args) in cases.iter().enumerate() {
        let k = format!("gone:{i}");
        fill(&mut c, &k);
        let argv: Vec<&str> = args.iter().map(|a| if *a == "K" { k.as_str() } else { a }).collect();
        let _: redis::Value = q(&mut c, &argv);
        assert!(!exists(&mut c, &k), "{argv:?} left the key behind");
        assert_eq!(q::<String>(&mut c, &["TYPE", &k]), "none");
    }
    // A store with an empty result deletes the destination.
    fill(&mut c, "dst");
    assert_eq!(q::<i64>(&mut c, &["ZINTERSTORE", "dst", "2", "gone:0", "nokey"]), 0);
    assert!(!exists(&mut c, "dst"));
    let _: () = q(&mut c, &["SET", "dst", "string"]);
    assert_eq!(q::<i64>(&mut c, &["ZRANGESTORE", "dst", "nokey", "0", "-1"]), 0);
    assert!(!exists(&mut c, "dst"));
}

#[test]
fn ranges_with_negative_and_huge_indexes() {
    let s = two_cores();
    let mut c = s.conn();
    let _: i64 = q(&mut c, &["ZADD", "r", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
    let cases: &[(&[&str], &[&str])] = &[
        (&["ZRANGE", "r", "-2", "-1"], &["d", "e"]),
        (&["ZRANGE", "r", "-100", "1"], &["a", "b"]),
        (&["ZRANGE", "r", "3", "1"], &[]),
        (&["ZRANGE", "r", "5", "100"], &[]),
        (&["ZRANGE", "r", "-9223372036854775808", "9223372036854775807"], &["a", "b", "c", "d", "e"]),
        (&["ZRANGE", "r", "0", "1", "REV"], &["e", "d"]),
        (&["ZRANGE", "r", "(1", "(4", "BYSCORE"], &["b", "c"]),
        (&["ZRANGE", "r", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"], &["d", "c"]),
        (&["ZRANGE", "r", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"], &[]),
        (&["ZRANGE", "r", "-inf", "+inf", "BYSCORE", "LIMIT", "3", "-1"], &["d", "e"]),
        (&["ZRANGE", "r", "-inf", "+inf", "BYSCORE", "LIMIT", "9223372036854775807", "1"], &[]),
        (&["ZREVRANGE", "r", "-1", "-1"], &["a"]),
        (&["ZREMRANGEBYRANK", "nokey", "0", "-1"], &[]),
    ];
    for (args, want) in cases {
        if args[0] == "ZREMRANGEBYRANK" {
            continue;
        }
        assert_eq!(q::<Vec<String>>(&mut c, args), *want, "{args:?}");
    }
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYRANK", "r", "-100", "-5"]), 1);
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYRANK", "r", "-1", "9223372036854775807"]), 1);
    assert_eq!(q::<Vec<String>>(&mut c, &["ZRANGE", "r", "0", "-1"]), ["b", "c", "d"]);

    let _: i64 = q(&mut c, &["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["ZRANGEBYLEX", "lex", "(a", "[c"]), ["b", "c"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["ZREVRANGEBYLEX", "lex", "+", "-", "LIMIT", "1", "2"]), ["c", "b"]);
    assert_eq!(q::<i64>(&mut c, &["ZLEXCOUNT", "lex", "[b", "+"]), 3);
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYLEX", "lex", "[b", "(d"]), 2);
    assert_eq!(q::<Vec<String>>(&mut c, &["ZRANGE", "lex", "-", "+", "BYLEX"]), ["a", "d"]);

    let mut r = s.raw();
    assert_raw_err(&mut r, &["ZRANGE", "r", "0", "-1", "LIMIT", "0", "1"], "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    assert_raw_err(&mut r, &["ZRANGE", "lex", "-", "+", "BYLEX", "WITHSCORES"], "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    assert_raw_err(&mut r, &["ZRANGE", "lex", "a", "+", "BYLEX"], "ERR min or max not valid string range item");
    assert_raw_err(&mut r, &["ZRANGE", "lex", "", "+", "BYLEX"], "ERR min or max not valid string range item");
    assert_raw_err(&mut r, &["ZRANGEBYSCORE", "r", "1", "nan"], "ERR min or max is not a float");
    assert_raw_err(&mut r, &["ZRANGEBYSCORE", "r", "1", "2", "REV"], SYNTAX);
}

#[test]
fn pops() {
    let s = two_cores();
    let mut r = s.raw();
    let _ = r.cmd_str(&["ZADD", "p", "1", "a", "2", "b", "3", "c", "-inf", "lo", "inf", "hi"]);
    assert_eq!(r.cmd_str(&["ZPOPMIN", "p"]), bulks(&["lo", "-inf"]));
    assert_eq!(r.cmd_str(&["ZPOPMAX", "p"]), bulks(&["hi", "inf"]));
    assert_eq!(r.cmd_str(&["ZPOPMAX", "p", "2"]), bulks(&["c", "3", "b", "2"]));
    assert_eq!(r.cmd_str(&["ZPOPMIN", "p", "0"]), R::arr(vec![]));
    assert_raw_err(&mut r, &["ZPOPMIN", "p", "-1"], "ERR value is out of range, must be positive");
    assert_raw_err(&mut r, &["ZPOPMIN", "p", "abc"], "ERR value is out of range, must be positive");
    assert_raw_err(&mut r, &["ZPOPMIN", "p", "1", "2"], SYNTAX);
    assert_eq!(r.cmd_str(&["ZPOPMIN", "p", "9223372036854775807"]), bulks(&["a", "1"]));
    assert_eq!(r.cmd_str(&["EXISTS", "p"]), R::Int(0));
    assert_eq!(r.cmd_str(&["ZPOPMIN", "p"]), R::arr(vec![]));
    assert_eq!(r.cmd_str(&["ZPOPMAX", "p", "3"]), R::arr(vec![]));
}

#[test]
fn resp3_shapes() {
    let s = two_cores();
    let mut r = s.raw();
    let _ = r.cmd_str(&["ZADD", "z", "1.5", "a", "inf", "b", "-inf", "c"]);
    let _ = r.cmd_str(&["HELLO", "3"]);
    let cases: &[(&[&str], &[u8])] = &[
        (&["ZSCORE", "z", "a"], b",1.5\r\n"),
        (&["ZSCORE", "z", "b"], b",inf\r\n"),
        (&["ZSCORE", "z", "c"], b",-inf\r\n"),
        (&["ZSCORE", "z", "nosuch"], b"_\r\n"),
        (&["ZMSCORE", "z", "a", "nosuch"], b"*2\r\n,1.5\r\n_\r\n"),
        (&["ZINCRBY", "z", "1", "a"], b",2.5\r\n"),
        (&["ZADD", "z", "XX", "INCR", "1", "nosuch"], b"_\r\n"),
        (&["ZRANK", "z", "nosuch"], b"_\r\n"),
        (&["ZRANK", "nokey", "a"], b"_\r\n"),
        (&["ZRANDMEMBER", "nokey"], b"_\r\n"),
        (&["ZRANDMEMBER", "nokey", "3"], b"*0\r\n"),
        (&["ZRANGE", "z", "0", "-1"], b"*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n"),
        (&["ZSCAN", "z", "0"], b"*2\r\n$1\r\n0\r\n*6\r\n$1\r\nc\r\n$4\r\n-inf\r\n$1\r\na\r\n$3\r\n2.5\r\n$1\r\nb\r\n$3\r\ninf\r\n"),
        (&["ZPOPMIN", "z"], b"*2\r\n$1\r\nc\r\n,-inf\r\n"),
        (&["ZMPOP", "1", "z", "MAX"], b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,inf\r\n"),
        (&["ZMPOP", "1", "nokey", "MAX"], b"_\r\n"),
    ];
    for (args, want) in cases {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        assert_eq!(String::from_utf8_lossy(&r.cmd_bytes(&argv)), String::from_utf8_lossy(want), "RESP3 {args:?}");
    }
}

/// Redis 7.0 answers WITHSCORES-style replies in RESP3 as arrays of
/// [member, score] pairs (flat arrays in RESP2).
#[test]
fn resp3_score_pairs() {
    let s = two_cores();
    let mut r = s.raw();
    let _ = r.cmd_str(&["ZADD", "z", "1", "a", "2", "b"]);
    let _ = r.cmd_str(&["ZADD", "y", "5", "x"]);
    let _ = r.cmd_str(&["HELLO", "3"]);
    let pair = b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n";
    let rev = b"*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n";
    let cases: &[(&[&str], &[u8])] = &[
        (&["ZRANGE", "z", "0", "-1", "WITHSCORES"], pair),
        (&["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"], pair),
        (&["ZREVRANGE", "z", "0", "-1", "WITHSCORES"], rev),
        (&["ZRANDMEMBER", "z", "5", "WITHSCORES"], rev),
        (&["ZUNION", "1", "z", "WITHSCORES"], pair),
        (&["ZRANDMEMBER", "y", "-1", "WITHSCORES"], b"*1\r\n*2\r\n$1\r\nx\r\n,5\r\n"),
        (&["ZPOPMIN", "z", "2"], pair),
    ];
    for (args, want) in cases {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        assert_eq!(String::from_utf8_lossy(&r.cmd_bytes(&argv)), String::from_utf8_lossy(want), "RESP3 {args:?}");
    }
}

#[test]
fn encodings_convert_once() {
    let s = two_cores();
    let mut c = s.conn();
    let enc = |c: &mut redis::Connection, k: &str| q::<String>(c, &["OBJECT", "ENCODING", k]);
    for i in 0..128 {
        let _: i64 = q(&mut c, &["ZADD", "e", &i.to_string(), &format!("m{i}")]);
    }
    assert_eq!(enc(&mut c, "e"), "listpack");
    let _: i64 = q(&mut c, &["ZADD", "e", "0", "one-more"]);
    assert_eq!(enc(&mut c, "e"), "skiplist");
    let _: i64 = q(&mut c, &["ZREMRANGEBYRANK", "e", "0", "100"]);
    assert_eq!(enc(&mut c, "e"), "skiplist");
    // A store computes a fresh encoding for its result.
    let _: i64 = q(&mut c, &["ZUNIONSTORE", "e2", "1", "e"]);
    assert_eq!(enc(&mut c, "e2"), "listpack");

    let long = "x".repeat(65);
    let _: i64 = q(&mut c, &["ZADD", "l", "1", &"x".repeat(64)]);
    assert_eq!(enc(&mut c, "l"), "listpack");
    let _: i64 = q(&mut c, &["ZADD", "l", "1", &long]);
    assert_eq!(enc(&mut c, "l"), "skiplist");
    let _: i64 = q(&mut c, &["ZREM", "l", &long]);
    assert_eq!(enc(&mut c, "l"), "skiplist");
}

#[test]
fn large_sets_rank_and_scan() {
    let s = two_cores();
    let mut c = s.conn();
    let n = 2000;
    let mut args = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..n {
        args.push(((i * 7919) % n).to_string());
        args.push(format!("m{i:05}"));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(q::<i64>(&mut c, &argv), n);
    // Member m_i has score (i * 7919) % n, a permutation of 0..n.
    for i in [0i64, 1, 17, 999, 1999] {
        let score = (i * 7919) % n;
        assert_eq!(q::<i64>(&mut c, &["ZRANK", "big", &format!("m{i:05}")]), score);
        assert_eq!(q::<i64>(&mut c, &["ZREVRANK", "big", &format!("m{i:05}")]), n - 1 - score);
    }
    let mid: Vec<(String, f64)> = q(&mut c, &["ZRANGE", "big", "1000", "1002", "WITHSCORES"]);
    assert_eq!(mid.iter().map(|p| p.1).collect::<Vec<_>>(), [1000.0, 1001.0, 1002.0]);
    assert_eq!(q::<i64>(&mut c, &["ZCOUNT", "big", "(100", "200"]), 100);
    let page: Vec<String> = q(&mut c, &["ZRANGEBYSCORE", "big", "-inf", "+inf", "LIMIT", "1500", "3"]);
    assert_eq!(page.len(), 3);

    // ZSCAN: every member exactly once, even while other members come and go
    // and scores change between calls.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let (next, items): (String, Vec<String>) = q(&mut c, &["ZSCAN", "big", &cursor, "COUNT", "50"]);
        assert_eq!(items.len() % 2, 0);
        for pair in items.chunks(2) {
            *seen.entry(pair[0].clone()).or_default() += 1;
            let _: f64 = pair[1].parse().expect("score text");
        }
        round += 1;
        let _: i64 = q(&mut c, &["ZADD", "big", "-1", &format!("temp{round}")]);
        let _: f64 = q(&mut c, &["ZINCRBY", "big", "0.5", &format!("m{:05}", round % n)]);
        if next == "0" {
            break;
        }
        cursor = next;
        assert!(round < 10_000, "ZSCAN does not terminate");
    }
    for i in 0..n {
        let m = format!("m{i:05}");
        assert!(seen.contains_key(&m), "{m} missing from ZSCAN");
    }
    if is_redcore() {
        // redcore's cursor walks element slots, so no duplicates either.
        assert!(seen.values().all(|&k| k == 1), "duplicates in ZSCAN");
    }
    let (_, matched): (String, Vec<String>) = q(&mut c, &["ZSCAN", "big", "0", "MATCH", "m0000*", "COUNT", "100000"]);
    let names: Vec<&String> = matched.iter().step_by(2).collect();
    assert_eq!(names.len(), 10, "{names:?}");
}

#[test]
fn zrandmember_contract() {
    let s = two_cores();
    let mut c = s.conn();
    let _: i64 = q(&mut c, &["ZADD", "rm", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
    let all: HashSet<String> = ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect();
    for _ in 0..20 {
        let one: String = q(&mut c, &["ZRANDMEMBER", "rm"]);
        assert!(all.contains(&one));
        let three: Vec<String> = q(&mut c, &["ZRANDMEMBER", "rm", "3"]);
        assert_eq!(three.len(), 3);
        assert_eq!(three.iter().collect::<HashSet<_>>().len(), 3, "positive count gives distinct members");
        assert!(three.iter().all(|m| all.contains(m)));
        let many: Vec<String> = q(&mut c, &["ZRANDMEMBER", "rm", "-12"]);
        assert_eq!(many.len(), 12);
        assert!(many.iter().all(|m| all.contains(m)));
        let scored: Vec<(String, f64)> = q(&mut c, &["ZRANDMEMBER", "rm", "-4", "WITHSCORES"]);
        for (m, sc) in scored {
            assert_eq!(sc, (m.as_bytes()[0] - b'a' + 1) as f64);
        }
    }
    // Asking for at least the whole set returns it from the top down.
    assert_eq!(q::<Vec<String>>(&mut c, &["ZRANDMEMBER", "rm", "5"]), ["e", "d", "c", "b", "a"]);
    let mut r = s.raw();
    assert_raw_err(&mut r, &["ZRANDMEMBER", "rm", "-9223372036854775808"], "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    assert_raw_err(&mut r, &["ZRANDMEMBER", "rm", "9223372036854775807", "WITHSCORES"], "ERR value is out of range");
    assert_raw_err(&mut r, &["ZRANDMEMBER", "rm", "1", "WITHSCORE"], SYNTAX);
}

#[test]
fn set_operations_across_cores() {
    let s = two_cores();
    let mut c = s.conn();
    let a = key_on("za", 0);
    let b = key_on("zb", 1);
    let set = key_on("sa", 1);
    let d0 = key_on("dst", 0);
    let d1 = key_on("dst", 1);
    let _: i64 = q(&mut c, &["ZADD", &a, "1", "a", "2", "b", "3", "c"]);
    let _: i64 = q(&mut c, &["ZADD", &b, "10", "b", "20", "c", "30", "d"]);
    let _: i64 = q(&mut c, &["SADD", &set, "a", "b", "x"]);

    for d in [&d0, &d1] {
        assert_eq!(q::<i64>(&mut c, &["ZUNIONSTORE", d, "3", &a, &b, &set]), 5);
        assert_eq!(withscores(&mut c, d), pairs(&[("x", 1.0), ("a", 2.0), ("b", 13.0), ("c", 23.0), ("d", 30.0)]));
        assert_eq!(q::<i64>(&mut c, &["ZUNIONSTORE", d, "2", &a, &b, "WEIGHTS", "2", "3", "AGGREGATE", "MAX"]), 4);
        assert_eq!(withscores(&mut c, d), pairs(&[("a", 2.0), ("b", 30.0), ("c", 60.0), ("d", 90.0)]));
        assert_eq!(q::<i64>(&mut c, &["ZINTERSTORE", d, "3", &a, &b, &set, "AGGREGATE", "MIN"]), 1);
        assert_eq!(withscores(&mut c, d), pairs(&[("b", 1.0)]));
        assert_eq!(q::<i64>(&mut c, &["ZDIFFSTORE", d, "2", &a, &b]), 1);
        assert_eq!(withscores(&mut c, d), pairs(&[("a", 1.0)]));
        assert_eq!(q::<i64>(&mut c, &["ZINTERSTORE", d, "2", &a, "nokey"]), 0);
        assert!(!exists(&mut c, d));
        assert_eq!(q::<i64>(&mut c, &["ZRANGESTORE", d, &b, "(10", "+inf", "BYSCORE"]), 2);
        assert_eq!(withscores(&mut c, d), pairs(&[("c", 20.0), ("d", 30.0)]));
    }
    // The destination may also be a source.
    assert_eq!(q::<i64>(&mut c, &["ZUNIONSTORE", &a, "2", &a, &b]), 4);
    assert_eq!(withscores(&mut c, &a), pairs(&[("a", 1.0), ("b", 12.0), ("c", 23.0), ("d", 30.0)]));
    let _: i64 = q(&mut c, &["ZREM", &a, "d"]);
    let _: i64 = q(&mut c, &["ZADD", &a, "2", "b", "3", "c"]);

    assert_eq!(q::<Vec<(String, f64)>>(&mut c, &["ZUNION", "2", &a, &b, "WITHSCORES"]), pairs(&[("a", 1.0), ("b", 12.0), ("c", 23.0), ("d", 30.0)]));
    assert_eq!(q::<Vec<String>>(&mut c, &["ZINTER", "2", &a, &set]), ["a", "b"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["ZDIFF", "2", &b, &a]), ["d"]);
    assert_eq!(q::<i64>(&mut c, &["ZINTERCARD", "2", &a, &b]), 2);
    assert_eq!(q::<i64>(&mut c, &["ZINTERCARD", "2", &a, &b, "LIMIT", "1"]), 1);

    // ZMPOP takes the first non-empty key, wherever it lives.
    let (k, popped): (String, Vec<(String, f64)>) = q(&mut c, &["ZMPOP", "2", "nokey", &b, "MAX", "COUNT", "2"]);
    assert_eq!(k, b);
    assert_eq!(popped, pairs(&[("d", 30.0), ("c", 20.0)]));

    let mut r = s.raw();
    let _ = r.cmd_str(&["SET", "str", "v"]);
    assert_raw_err(&mut r, &["ZUNIONSTORE", &d0, "0", &a], "ERR at least 1 input key is needed for 'zunionstore' command");
    assert_raw_err(&mut r, &["ZINTERSTORE", &d0, "3", &a, &b], SYNTAX);
    assert_raw_err(&mut r, &["ZUNIONSTORE", &d0, "2", &a, &b, "WEIGHTS", "1", "x"], "ERR weight value is not a float");
    assert_raw_err(&mut r, &["ZUNIONSTORE", &d0, "2", &a, &b, "AGGREGATE", "AVG"], SYNTAX);
    assert_raw_err(&mut r, &["ZDIFFSTORE", &d0, "2", &a, &b, "WEIGHTS", "1", "2"], SYNTAX);
    assert_raw_err(&mut r, &["ZUNIONSTORE", &d1, "2", &a, "str", "WEIGHTS", "x"], WRONGTYPE);
    assert_raw_err(&mut r, &["ZINTERCARD", "2", &a, &b, "LIMIT", "-1"], "ERR LIMIT can't be negative");
}

#[test]
fn store_across_cores_is_atomic_with_writers() {
    let s = two_cores();
    let a = key_on("atom-a", 0);
    let b = key_on("atom-b", 1);
    let mut c = s.conn();
    let _: i64 = q(&mut c, &["ZADD", &a, "0", "x"]);
    let _: i64 = q(&mut c, &["ZADD", &b, "0", "x"]);
    // A writer bumps both keys by one in a pipeline-free loop; a reader's
    // ZUNIONSTORE must never see one key bumped and not the other more than
    // one step apart (each ZINCRBY is atomic on its own core).
    let url = s.url();
    let writer = std::thread::spawn({
        let (a, b) = (a.clone(), b.clone());
        move || {
            let mut w = redis::Client::open(url).unwrap().get_connection().unwrap();
            for _ in 0..300 {
                let _: f64 = q(&mut w, &["ZINCRBY", &a, "1", "x"]);
                let _: f64 = q(&mut w, &["ZINCRBY", &b, "1", "x"]);
            }
        }
    });
    let d = key_on("atom-d", 1);
    for _ in 0..100 {
        let _: i64 = q(&mut c, &["ZUNIONSTORE", &d, "2", &a, &b, "WEIGHTS", "1", "-1"]);
        let diff: f64 = q(&mut c, &["ZSCORE", &d, "x"]);
        assert!(diff == 0.0 || diff == 1.0, "saw a half-applied state: {diff}");
    }
    writer.join().unwrap();
    assert_eq!(q::<f64>(&mut c, &["ZSCORE", &a, "x"]), 300.0);
}

#[test]
fn expired_sorted_sets_are_gone() {
    let s = two_cores();
    let mut c = s.conn();
    let _: i64 = q(&mut c, &["ZADD", "ttl", "1", "a"]);
    let _: i64 = q(&mut c, &["PEXPIRE", "ttl", "50"]);
    assert!(wait_until(Duration::from_secs(5), || q::<i64>(&mut c, &["ZCARD", "ttl"]) == 0));
    assert_eq!(q::<Vec<String>>(&mut c, &["ZRANGE", "ttl", "0", "-1"]), Vec::<String>::new());
    assert_eq!(q::<i64>(&mut c, &["ZADD", "ttl", "XX", "1", "a"]), 0);
    assert!(!exists(&mut c, "ttl"));
}
