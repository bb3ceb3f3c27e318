//! List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX
//! LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP. Happy paths through
//! the `redis` crate, reply shapes and errors byte-exact (Redis 7.0) through
//! raw RESP2/RESP3, and the multi-key commands (LMOVE, RPOPLPUSH, LMPOP) on
//! keys owned by different cores of a 2-core redcore (`--cores 2`, dropped
//! for stock Redis).

use redcore_tests::RawReply as R;
use redcore_tests::common::{arity, key_on, two_cores, NOT_INT, SYNTAX, WRONGTYPE};
use redcore_tests::*;

const POP_COUNT: &str = "ERR value is out of range, must be positive";
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

fn bulks(items: &[&str]) -> R {
    R::arr(items.iter().map(R::bulk).collect())
}

fn range(c: &mut redis::Connection, key: &str) -> Vec<String> {
    q(c, &["LRANGE", key, "0", "-1"])
}

fn exists(c: &mut redis::Connection, key: &str) -> bool {
    q::<i64>(c, &["EXISTS", key]) == 1
}

#[test]
fn push_and_range() {
    let s = two_cores();
    let mut c = s.conn();
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "l", "a", "b", "c"]), 3);
    assert_eq!(q::<i64>(&mut c, &["LPUSH", "l", "x", "y"]), 5);
    assert_eq!(range(&mut c, "l"), ["y", "x", "a", "b", "c"]);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "l"]), 5);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "nolist"]), 0);
    assert_eq!(q::<String>(&mut c, &["TYPE", "l"]), "list");

    // LPUSHX / RPUSHX only touch existing lists.
    assert_eq!(q::<i64>(&mut c, &["LPUSHX", "nolist", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["RPUSHX", "nolist", "a", "b"]), 0);
    assert!(!exists(&mut c, "nolist"));
    assert_eq!(q::<i64>(&mut c, &["LPUSHX", "l", "p1", "p2"]), 7);
    assert_eq!(q::<i64>(&mut c, &["RPUSHX", "l", "s1"]), 8);
    assert_eq!(range(&mut c, "l"), ["p2", "p1", "y", "x", "a", "b", "c", "s1"]);

    // LRANGE: negative indexes, clamping, empty ranges.
    let cases: &[(&str, &str, &[&str])] = &[
        ("0", "0", &["p2"]),
        ("-1", "-1", &["s1"]),
        ("-3", "-2", &["b", "c"]),
        ("-100", "1", &["p2", "p1"]),
        ("6", "100", &["c", "s1"]),
        ("5", "2", &[]),
        ("8", "10", &[]),
        ("0", "-9", &[]),
        ("-9223372036854775808", "9223372036854775807", &["p2", "p1", "y", "x", "a", "b", "c", "s1"]),
    ];
    for (a, b, want) in cases {
        let got: Vec<String> = q(&mut c, &["LRANGE", "l", a, b]);
        assert_eq!(got, *want, "LRANGE l {a} {b}");
    }
    let empty: Vec<String> = q(&mut c, &["LRANGE", "nolist", "0", "-1"]);
    assert!(empty.is_empty());

    // Binary-safe elements, the empty element included.
    let bin: Vec<u8> = vec![0, b'\r', b'\n', 255, b'*'];
    let _: i64 = redis::cmd("RPUSH").arg("bin").arg(&bin[..]).arg("").query(&mut c).unwrap();
    let mut r = s.raw();
    assert_reply!(r.cmd(&[b"LRANGE", b"bin", b"0", b"-1"]), R::arr(vec![R::bulk(&bin), R::bulk("")]));
    assert_reply!(r.cmd(&[b"LPOS", b"bin", b""]), R::Int(1));
}

#[test]
fn pop_counts_and_key_removal() {
    let s = two_cores();
    let mut c = s.conn();
    let _: i64 = q(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(q::<Option<String>>(&mut c, &["LPOP", "l"]).as_deref(), Some("a"));
    assert_eq!(q::<Option<String>>(&mut c, &["RPOP", "l"]).as_deref(), Some("e"));
    assert_eq!(q::<Vec<String>>(&mut c, &["LPOP", "l", "0"]), Vec::<String>::new());
    assert_eq!(q::<Vec<String>>(&mut c, &["RPOP", "l", "2"]), ["d", "c"]);
    assert!(exists(&mut c, "l"));
    assert_eq!(q::<Vec<String>>(&mut c, &["LPOP", "l", "100"]), ["b"]);
    assert!(!exists(&mut c, "l"), "a list is deleted with its last element");
    let _: i64 = q(&mut c, &["RPUSH", "l", "x"]);
    assert_eq!(q::<Option<String>>(&mut c, &["RPOP", "l"]).as_deref(), Some("x"));
    assert!(!exists(&mut c, "l"));
    let _: i64 = q(&mut c, &["RPUSH", "l", "x"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["LPOP", "l", "9223372036854775807"]), ["x"]);
    assert!(!exists(&mut c, "l"));
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);

    // Reply shapes: nil bulk without count, nil array with a count (RESP2),
    // `_` for both in RESP3; an existing list with count 0 is an empty array.
    let mut r = s.raw();
    let _ = r.cmd_str(&["RPUSH", "one", "v"]);
    for (args, resp2, resp3) in [
        (&["LPOP", "nolist"][..], &b"$-1\r\n"[..], &b"_\r\n"[..]),
        (&["RPOP", "nolist"], b"$-1\r\n", b"_\r\n"),
        (&["LPOP", "nolist", "0"], b"*-1\r\n", b"_\r\n"),
        (&["RPOP", "nolist", "1"], b"*-1\r\n", b"_\r\n"),
        (&["LPOP", "one", "0"], b"*0\r\n", b"*0\r\n"),
        (&["LPOS", "nolist", "v"], b"$-1\r\n", b"_\r\n"),
        (&["LPOS", "nolist", "v", "COUNT", "1"], b"*0\r\n", b"*0\r\n"),
        (&["LINDEX", "nolist", "0"], b"$-1\r\n", b"_\r\n"),
        (&["LMOVE", "nolist", "x", "LEFT", "LEFT"], b"$-1\r\n", b"_\r\n"),
        (&["LMPOP", "1", "nolist", "LEFT"], b"*-1\r\n", b"_\r\n"),
    ] {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        assert_eq!(r.cmd_bytes(&argv), resp2.to_vec(), "RESP2 {args:?}");
        let _ = r.cmd_str(&["HELLO", "3"]);
        assert_eq!(r.cmd_bytes(&argv), resp3.to_vec(), "RESP3 {args:?}");
        let _ = r.cmd_str(&["HELLO", "2"]);
    }
    for bad in ["-1", "abc", "99999999999999999999", "-9223372036854775808"] {
        assert_raw_err(&mut r, &["LPOP", "one", bad], POP_COUNT);
        assert_raw_err(&mut r, &["RPOP", "nolist", bad], POP_COUNT);
    }
    assert_raw_err(&mut r, &["LPOP", "one", "1", "2"], &arity("lpop"));
    assert_raw_err(&mut r, &["RPOP", "one", "1", "2"], &arity("rpop"));
}

#[test]
fn lindex_lset_linsert() {
    let s = two_cores();
    let mut c = s.conn();
    let _: i64 = q(&mut c, &["RPUSH", "l", "a", "b", "c", "d"]);
    for (i, want) in [("0", Some("a")), ("3", Some("d")), ("-1", Some("d")), ("-4", Some("a")), ("4", None), ("-5", None), ("-9223372036854775808", None)] {
        assert_eq!(q::<Option<String>>(&mut c, &["LINDEX", "l", i]).as_deref(), want, "LINDEX {i}");
    }
    assert_eq!(q::<String>(&mut c, &["LSET", "l", "0", "A"]), "OK");
    assert_eq!(q::<String>(&mut c, &["LSET", "l", "-1", "D"]), "OK");
    assert_eq!(q::<String>(&mut c, &["LSET", "l", "-3", "B"]), "OK");
    assert_eq!(range(&mut c, "l"), ["A", "B", "c", "D"]);

    let mut r = s.raw();
    let _ = r.cmd_str(&["SET", "str", "x"]);
    assert_raw_err(&mut r, &["LSET", "l", "4", "z"], "ERR index out of range");
    assert_raw_err(&mut r, &["LSET", "l", "-5", "z"], "ERR index out of range");
    assert_raw_err(&mut r, &["LSET", "l", "abc", "z"], NOT_INT);
    assert_raw_err(&mut r, &["LSET", "nolist", "0", "z"], "ERR no such key");
    // The key is looked up before the index is parsed.
    assert_raw_err(&mut r, &["LSET", "nolist", "abc", "z"], "ERR no such key");
    assert_raw_err(&mut r, &["LSET", "str", "abc", "z"], WRONGTYPE);
    assert_reply!(r.cmd_str(&["LINDEX", "nolist", "abc"]), R::nil());
    assert_raw_err(&mut r, &["LINDEX", "l", "abc"], NOT_INT);
    assert_raw_err(&mut r, &["LINDEX", "str", "abc"], WRONGTYPE);
    assert!(!exists(&mut c, "nolist"));

    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "BEFORE", "A", "first"]), 5);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "after", "D", "last"]), 6);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "After", "B", "mid"]), 7);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "BEFORE", "nope", "x"]), -1);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "nolist", "BEFORE", "a", "x"]), 0);
    assert!(!exists(&mut c, "nolist"));
    assert_eq!(range(&mut c, "l"), ["first", "A", "B", "mid", "c", "D", "last"]);
    // The first matching pivot is used.
    let _: i64 = q(&mut c, &["RPUSH", "dup", "p", "p"]);
    let _: i64 = q(&mut c, &["LINSERT", "dup", "AFTER", "p", "x"]);
    assert_eq!(range(&mut c, "dup"), ["p", "x", "p"]);
    assert_raw_err(&mut r, &["LINSERT", "l", "middle", "A", "x"], SYNTAX);
    assert_raw_err(&mut r, &["LINSERT", "str", "middle", "A", "x"], SYNTAX);
    assert_raw_err(&mut r, &["LINSERT", "str", "before", "A", "x"], WRONGTYPE);
}

#[test]
fn lrem_and_ltrim() {
    let s = two_cores();
    let mut c = s.conn();
    let fill = |c: &mut redis::Connection| {
        let _: i64 = q(c, &["DEL", "l"]);
        let _: i64 = q(c, &["RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"]);
    };
    fill(&mut c);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "2", "a"]), 2);
    assert_eq!(range(&mut c, "l"), ["b", "c", "a", "b", "a"]);
    fill(&mut c);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "-3", "a"]), 3);
    assert_eq!(range(&mut c, "l"), ["a", "b", "c", "b"]);
    fill(&mut c);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "0", "a"]), 4);
    assert_eq!(range(&mut c, "l"), ["b", "c", "b"]);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "0", "zz"]), 0);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "-9223372036854775808", "b"]), 2);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "1", "c"]), 1);
    assert!(!exists(&mut c, "l"), "LREM of the last element deletes the key");
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "1", "c"]), 0);

    let _: i64 = q(&mut c, &["RPUSH", "t", "0", "1", "2", "3", "4", "5"]);
    assert_eq!(q::<String>(&mut c, &["LTRIM", "t", "1", "-2"]), "OK");
    assert_eq!(range(&mut c, "t"), ["1", "2", "3", "4"]);
    assert_eq!(q::<String>(&mut c, &["LTRIM", "t", "-100", "100"]), "OK");
    assert_eq!(range(&mut c, "t"), ["1", "2", "3", "4"]);
    assert_eq!(q::<String>(&mut c, &["LTRIM", "t", "-2", "-1"]), "OK");
    assert_eq!(range(&mut c, "t"), ["3", "4"]);
    assert_eq!(q::<String>(&mut c, &["LTRIM", "t", "1", "0"]), "OK");
    assert!(!exists(&mut c, "t"), "an empty LTRIM range deletes the key");
    let _: i64 = q(&mut c, &["RPUSH", "t", "a", "b"]);
    assert_eq!(q::<String>(&mut c, &["LTRIM", "t", "5", "10"]), "OK");
    assert!(!exists(&mut c, "t"));
    let _: i64 = q(&mut c, &["RPUSH", "t", "a", "b"]);
    assert_eq!(q::<String>(&mut c, &["LTRIM", "t", "0", "-3"]), "OK");
    assert!(!exists(&mut c, "t"), "an end below -len selects nothing");
    assert_eq!(q::<String>(&mut c, &["LTRIM", "nolist", "0", "1"]), "OK");
    assert!(!exists(&mut c, "nolist"));

    let mut r = s.raw();
    let _ = r.cmd_str(&["SET", "str", "x"]);
    assert_raw_err(&mut r, &["LREM", "nolist", "abc", "x"], NOT_INT);
    assert_raw_err(&mut r, &["LREM", "str", "0", "x"], WRONGTYPE);
    assert_raw_err(&mut r, &["LTRIM", "str", "abc", "1"], NOT_INT);
    assert_raw_err(&mut r, &["LTRIM", "str", "0", "1"], WRONGTYPE);
}

#[test]
fn lpos_options() {
    let s = two_cores();
    let mut c = s.conn();
    let _: i64 = q(&mut c, &["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a"]);
    let mut r = s.raw();
    let int = R::Int;
    let ints = |v: &[i64]| R::arr(v.iter().map(|&i| R::Int(i)).collect());
    let cases: Vec<(&[&str], R)> = vec![
        (&["a"], int(0)),
        (&["c"], int(2)),
        (&["z"], R::nil()),
        (&["a", "RANK", "2"], int(3)),
        (&["a", "RANK", "-1"], int(6)),
        (&["a", "RANK", "-2"], int(3)),
        (&["a", "RANK", "4"], R::nil()),
        (&["a", "RANK", "-9223372036854775808"], int(6)),
        (&["a", "RANK", "9223372036854775807"], R::nil()),
        (&["a", "COUNT", "0"], ints(&[0, 3, 6])),
        (&["a", "COUNT", "2"], ints(&[0, 3])),
        (&["a", "COUNT", "0", "RANK", "-1"], ints(&[6, 3, 0])),
        (&["a", "COUNT", "0", "RANK", "2"], ints(&[3, 6])),
        (&["a", "COUNT", "0", "MAXLEN", "4"], ints(&[0, 3])),
        (&["a", "COUNT", "0", "MAXLEN", "4", "RANK", "-1"], ints(&[6, 3])),
        (&["a", "MAXLEN", "1"], int(0)),
        (&["b", "MAXLEN", "1"], R::nil()),
        (&["b", "MAXLEN", "0"], int(1)),
        (&["z", "COUNT", "0"], ints(&[])),
        (&["a", "count", "1", "rank", "1", "count", "3"], ints(&[0, 3, 6])),
    ];
    for (args, want) in cases {
        let mut argv = vec!["LPOS", "l"];
        argv.extend_from_slice(args);
        assert_reply!(r.cmd_str(&argv), want, "{argv:?}");
    }
    let _ = r.cmd_str(&["SET", "str", "x"]);
    assert_raw_err(&mut r, &["LPOS", "l", "a", "RANK", "0"], RANK_ZERO);
    // Options are checked in order and before the key.
    assert_raw_err(&mut r, &["LPOS", "l", "a", "RANK", "0", "bogus"], RANK_ZERO);
    assert_raw_err(&mut r, &["LPOS", "str", "a", "RANK", "0"], RANK_ZERO);
    assert_raw_err(&mut r, &["LPOS", "nolist", "a", "RANK", "1", "RANK", "0"], RANK_ZERO);
    assert_raw_err(&mut r, &["LPOS", "l", "a", "RANK", "x"], NOT_INT);
    for bad in ["-1", "x", "99999999999999999999"] {
        assert_raw_err(&mut r, &["LPOS", "l", "a", "COUNT", bad], "ERR COUNT can't be negative");
        assert_raw_err(&mut r, &["LPOS", "l", "a", "MAXLEN", bad], "ERR MAXLEN can't be negative");
    }
    assert_raw_err(&mut r, &["LPOS", "l", "a", "RANK"], SYNTAX);
    assert_raw_err(&mut r, &["LPOS", "l", "a", "b"], SYNTAX);
    assert_raw_err(&mut r, &["LPOS", "l", "a", "FOO", "1"], SYNTAX);
    assert_raw_err(&mut r, &["LPOS", "l", "a", "RANK", "1", "FOO"], SYNTAX);
    assert_raw_err(&mut r, &["LPOS", "str", "a"], WRONGTYPE);
    assert_raw_err(&mut r, &["LPOS", "str", "a", "COUNT", "1"], WRONGTYPE);
}

#[test]
fn lmove_and_rpoplpush_same_key_and_across_cores() {
    let s = two_cores();
    let mut c = s.conn();
    // Rotation of one list, all four directions.
    let _: i64 = q(&mut c, &["RPUSH", "rot", "a", "b", "c"]);
    assert_eq!(q::<String>(&mut c, &["LMOVE", "rot", "rot", "LEFT", "RIGHT"]), "a");
    assert_eq!(range(&mut c, "rot"), ["b", "c", "a"]);
    assert_eq!(q::<String>(&mut c, &["LMOVE", "rot", "rot", "right", "left"]), "a");
    assert_eq!(range(&mut c, "rot"), ["a", "b", "c"]);
    assert_eq!(q::<String>(&mut c, &["LMOVE", "rot", "rot", "LEFT", "LEFT"]), "a");
    assert_eq!(q::<String>(&mut c, &["LMOVE", "rot", "rot", "RIGHT", "RIGHT"]), "c");
    assert_eq!(range(&mut c, "rot"), ["a", "b", "c"]);
    assert_eq!(q::<String>(&mut c, &["RPOPLPUSH", "rot", "rot"]), "c");
    assert_eq!(range(&mut c, "rot"), ["c", "a", "b"]);
    // A one-element list rotating onto itself keeps its TTL.
    let _: i64 = q(&mut c, &["RPUSH", "one", "x"]);
    let _: i64 = q(&mut c, &["EXPIRE", "one", "1000"]);
    assert_eq!(q::<String>(&mut c, &["RPOPLPUSH", "one", "one"]), "x");
    assert_eq!(q::<String>(&mut c, &["LMOVE", "one", "one", "LEFT", "RIGHT"]), "x");
    assert!((990..=1000).contains(&q::<i64>(&mut c, &["TTL", "one"])));

    // Across cores (and on one core): every direction pair, destination
    // created, source deleted with its last element, TTLs kept where the
    // key stays.
    for (n, (src_core, dst_core)) in [(0, 1), (1, 0), (0, 0), (1, 1)].into_iter().enumerate() {
        let src = key_on(&format!("src{n}"), src_core);
        let dst = key_on(&format!("dst{n}"), dst_core);
        let _: i64 = q(&mut c, &["RPUSH", &src, "1", "2", "3", "4", "5"]);
        let _: i64 = q(&mut c, &["EXPIRE", &src, "1000"]);
        assert_eq!(q::<String>(&mut c, &["LMOVE", &src, &dst, "LEFT", "LEFT"]), "1");
        assert_eq!(q::<String>(&mut c, &["LMOVE", &src, &dst, "RIGHT", "LEFT"]), "5");
        assert_eq!(q::<String>(&mut c, &["LMOVE", &src, &dst, "LEFT", "RIGHT"]), "2");
        assert_eq!(q::<String>(&mut c, &["RPOPLPUSH", &src, &dst]), "4");
        assert_eq!(range(&mut c, &dst), ["4", "5", "1", "2"]);
        assert_eq!(q::<i64>(&mut c, &["TTL", &dst]), -1);
        assert!((990..=1000).contains(&q::<i64>(&mut c, &["TTL", &src])));
        assert_eq!(q::<String>(&mut c, &["LMOVE", &src, &dst, "RIGHT", "RIGHT"]), "3");
        assert!(!exists(&mut c, &src), "{src} must be gone after its last element moved");
        assert_eq!(range(&mut c, &dst), ["4", "5", "1", "2", "3"]);
        assert_eq!(q::<Option<String>>(&mut c, &["LMOVE", &src, &dst, "LEFT", "LEFT"]), None);
        assert_eq!(q::<Option<String>>(&mut c, &["RPOPLPUSH", &src, &dst]), None);
        assert!(!exists(&mut c, &src));

        // Type errors: the destination is checked before anything is popped;
        // a missing source answers nil without looking at the destination.
        let strk = key_on(&format!("str{n}"), src_core);
        let _: () = q(&mut c, &["SET", &strk, "v"]);
        let mut r = s.raw();
        assert_raw_err(&mut r, &["LMOVE", &dst, &strk, "LEFT", "LEFT"], WRONGTYPE);
        assert_raw_err(&mut r, &["RPOPLPUSH", &dst, &strk], WRONGTYPE);
        assert_raw_err(&mut r, &["LMOVE", &strk, &dst, "LEFT", "LEFT"], WRONGTYPE);
        assert_eq!(q::<i64>(&mut c, &["LLEN", &dst]), 5);
        assert_reply!(r.cmd_str(&["LMOVE", &src, &strk, "LEFT", "LEFT"]), R::nil());
        assert_raw_err(&mut r, &["LMOVE", &src, &dst, "UP", "LEFT"], SYNTAX);
        assert_raw_err(&mut r, &["LMOVE", &dst, &strk, "LEFT", "DOWN"], SYNTAX);
    }
}

#[test]
fn lmpop_across_cores() {
    let s = two_cores();
    let mut c = s.conn();
    let a = key_on("mpa", 0);
    let b = key_on("mpb", 1);
    let none = key_on("mpn", 1);
    let _: i64 = q(&mut c, &["RPUSH", &b, "1", "2", "3"]);
    let mut r = s.raw();
    let got = r.cmd_str(&["LMPOP", "3", &none, &a, &b, "LEFT"]);
    assert_reply!(got, R::arr(vec![R::bulk(&b), bulks(&["1"])]));
    let got = r.cmd_str(&["LMPOP", "2", &a, &b, "RIGHT", "COUNT", "10"]);
    assert_reply!(got, R::arr(vec![R::bulk(&b), bulks(&["3", "2"])]));
    assert!(!exists(&mut c, &b));
    assert_reply!(r.cmd_str(&["LMPOP", "2", &a, &b, "LEFT"]), R::Array(None));
    let _: i64 = q(&mut c, &["RPUSH", &a, "x", "y"]);
    let _: i64 = q(&mut c, &["RPUSH", &b, "z"]);
    let got = r.cmd_str(&["LMPOP", "2", &b, &a, "left", "count", "2"]);
    assert_reply!(got, R::arr(vec![R::bulk(&b), bulks(&["z"])]));
    let got = r.cmd_str(&["LMPOP", "2", &b, &a, "left", "count", "2"]);
    assert_reply!(got, R::arr(vec![R::bulk(&a), bulks(&["x", "y"])]));
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);

    // A non-list key met before any list is an error; one after is not.
    let strk = key_on("mps", 0);
    let _: () = q(&mut c, &["SET", &strk, "v"]);
    let _: i64 = q(&mut c, &["RPUSH", &b, "w"]);
    assert_raw_err(&mut r, &["LMPOP", "2", &strk, &b, "LEFT"], WRONGTYPE);
    assert_raw_err(&mut r, &["LMPOP", "2", &none, &strk, "LEFT"], WRONGTYPE);
    assert_reply!(r.cmd_str(&["LMPOP", "2", &b, &strk, "LEFT"]), R::arr(vec![R::bulk(&b), bulks(&["w"])]));

    for bad in ["0", "-1", "abc", "99999999999999999999"] {
        assert_raw_err(&mut r, &["LMPOP", bad, &a, "LEFT"], "ERR numkeys should be greater than 0");
    }
    for bad in ["0", "-1", "abc"] {
        assert_raw_err(&mut r, &["LMPOP", "1", &a, "LEFT", "COUNT", bad], "ERR count should be greater than 0");
    }
    for args in [
        &["LMPOP", "2", "x", "LEFT"][..],
        &["LMPOP", "9223372036854775807", "x", "LEFT"],
        &["LMPOP", "1", "x", "y"],
        &["LMPOP", "1", "x", "LEFT", "COUNT"],
        &["LMPOP", "1", "x", "LEFT", "COUNT", "1", "COUNT", "1"],
        &["LMPOP", "1", "x", "LEFT", "FOO", "1"],
        &["LMPOP", "1", "x", "LEFT", "COUNT", "1", "RIGHT"],
    ] {
        assert_raw_err(&mut r, args, SYNTAX);
    }
    assert_raw_err(&mut r, &["LMPOP", "1", "x"], &arity("lmpop"));
}

#[test]
fn wrongtype_and_arity() {
    let s = two_cores();
    let mut r = s.raw();
    let _ = r.cmd_str(&["SET", "str", "x"]);
    let _ = r.cmd_str(&["HSET", "h", "f", "v"]);
    for key in ["str", "h"] {
        for args in [
            vec!["LPUSH", key, "a"],
            vec!["RPUSH", key, "a"],
            vec!["LPUSHX", key, "a"],
            vec!["RPUSHX", key, "a"],
            vec!["LPOP", key],
            vec!["RPOP", key, "1"],
            vec!["LPOP", key, "0"],
            vec!["LLEN", key],
            vec!["LRANGE", key, "0", "-1"],
            vec!["LINDEX", key, "0"],
            vec!["LSET", key, "0", "v"],
            vec!["LINSERT", key, "BEFORE", "a", "b"],
            vec!["LREM", key, "0", "a"],
            vec!["LTRIM", key, "0", "1"],
            vec!["LPOS", key, "a"],
            vec!["LMOVE", key, key, "LEFT", "RIGHT"],
            vec!["RPOPLPUSH", key, "fresh"],
            vec!["LMPOP", "1", key, "LEFT"],
        ] {
            assert_raw_err(&mut r, &args, WRONGTYPE);
        }
    }
    assert_reply!(r.cmd_str(&["GET", "str"]), R::bulk("x"));
    assert_reply!(r.cmd_str(&["EXISTS", "fresh"]), R::Int(0));
    for (args, name) in [
        (&["LPUSH", "k"][..], "lpush"),
        (&["RPUSH", "k"], "rpush"),
        (&["LPUSHX", "k"], "lpushx"),
        (&["RPUSHX", "k"], "rpushx"),
        (&["LPOP"], "lpop"),
        (&["RPOP"], "rpop"),
        (&["LLEN"], "llen"),
        (&["LLEN", "a", "b"], "llen"),
        (&["LRANGE", "k", "0"], "lrange"),
        (&["LINDEX", "k"], "lindex"),
        (&["LSET", "k", "0"], "lset"),
        (&["LINSERT", "k", "BEFORE", "a"], "linsert"),
        (&["LREM", "k", "0"], "lrem"),
        (&["LTRIM", "k", "0"], "ltrim"),
        (&["LPOS", "k"], "lpos"),
        (&["LMOVE", "a", "b", "LEFT"], "lmove"),
        (&["RPOPLPUSH", "a"], "rpoplpush"),
        (&["LMPOP", "1", "a"], "lmpop"),
    ] {
        assert_raw_err(&mut r, args, &arity(name));
    }
}

#[test]
fn many_keys_on_both_cores() {
    let s = two_cores();
    let mut c = s.conn();
    let n = 200;
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("RPUSH").arg(format!("k:{i}")).arg((0..=(i % 7)).map(|j| j.to_string()).collect::<Vec<_>>()).ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    for i in 0..n {
        let k = format!("k:{i}");
        assert_eq!(q::<i64>(&mut c, &["LLEN", &k]), (i % 7 + 1) as i64);
        assert_eq!(q::<Option<String>>(&mut c, &["LINDEX", &k, "-1"]), Some((i % 7).to_string()));
    }
    // Chain-move one element through every key (crossing cores many times).
    let _: i64 = q(&mut c, &["RPUSH", "k:0", "token"]);
    for i in 0..n - 1 {
        let got: String = q(&mut c, &["LMOVE", &format!("k:{i}"), &format!("k:{}", i + 1), "RIGHT", "RIGHT"]);
        assert_eq!(got, "token", "hop {i}");
    }
    assert_eq!(q::<Option<String>>(&mut c, &["LINDEX", &format!("k:{}", n - 1), "-1"]).as_deref(), Some("token"));
    // Drain everything: every key disappears.
    for i in 0..n {
        let _: Vec<String> = q(&mut c, &["LPOP", &format!("k:{i}"), "100"]);
    }
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);

    // A large list, taken apart with LRANGE/LTRIM.
    let big: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    let _: i64 = redis::cmd("RPUSH").arg("big").arg(&big).query(&mut c).unwrap();
    let mid: Vec<String> = q(&mut c, &["LRANGE", "big", "4990", "5009"]);
    assert_eq!(mid, big[4990..5010]);
    let _: () = q(&mut c, &["LTRIM", "big", "100", "-101"]);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "big"]), 9800);
    assert_eq!(q::<Option<String>>(&mut c, &["LINDEX", "big", "0"]).as_deref(), Some("100"));
}
