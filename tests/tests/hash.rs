//! Hash commands: HSET HSETNX HGET HMGET HMSET HDEL HLEN HSTRLEN HEXISTS
//! HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN. Happy paths
//! through the `redis` crate, reply shapes and errors byte-exact (Redis 7.0)
//! through raw RESP2/RESP3, random and SCAN replies checked by their
//! properties, many keys so both cores of a 2-core redcore own some.

use std::collections::{HashMap, HashSet};

use redcore_tests::RawReply as R;
use redcore_tests::common::{NOT_FLOAT, NOT_INT, SYNTAX, WRONGTYPE, arity, two_cores};
use redcore_tests::*;

fn exists(c: &mut redis::Connection, key: &str) -> bool {
    q::<i64>(c, &["EXISTS", key]) == 1
}

/// Runs HSCAN to completion; returns the fields and values seen (a field
/// may come more than once) and the number of calls.
fn hscan_all(c: &mut redis::Connection, key: &str, extra: &[&str]) -> (Vec<(String, String)>, usize) {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    for calls in 1..100_000 {
        let mut args = vec!["HSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let (next, flat): (String, Vec<String>) = q(c, &args);
        assert!(flat.len() % 2 == 0, "odd HSCAN reply {flat:?}");
        out.extend(flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())));
        if next == "0" {
            return (out, calls);
        }
        cursor = next;
    }
    panic!("HSCAN did not finish");
}

#[test]
fn set_get_and_read_commands() {
    let s = two_cores();
    let mut c = s.conn();
    assert_eq!(q::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2"]), 2);
    assert_eq!(q::<i64>(&mut c, &["HSET", "h", "a", "one", "c", "3"]), 1);
    assert_eq!(q::<String>(&mut c, &["HGET", "h", "a"]), "one");
    assert_eq!(q::<Option<String>>(&mut c, &["HGET", "h", "zz"]), None);
    assert_eq!(q::<Option<String>>(&mut c, &["HGET", "nohash", "a"]), None);
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]), 3);
    assert_eq!(q::<i64>(&mut c, &["HLEN", "nohash"]), 0);
    assert_eq!(q::<String>(&mut c, &["TYPE", "h"]), "hash");
    // A small hash keeps insertion order, like Redis's listpack.
    assert_eq!(q::<Vec<String>>(&mut c, &["HKEYS", "h"]), ["a", "b", "c"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["HVALS", "h"]), ["one", "2", "3"]);
    let all: HashMap<String, String> = q(&mut c, &["HGETALL", "h"]);
    assert_eq!(all, HashMap::from([("a".into(), "one".into()), ("b".into(), "2".into()), ("c".into(), "3".into())]));
    assert_eq!(q::<Vec<Option<String>>>(&mut c, &["HMGET", "h", "a", "zz", "c"]), [Some("one".into()), None, Some("3".into())]);
    assert_eq!(q::<Vec<Option<String>>>(&mut c, &["HMGET", "nohash", "a", "b"]), [None, None]);
    assert_eq!(q::<String>(&mut c, &["HMSET", "h", "d", "4", "e", "5"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "a", "x"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "f", "6"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "fresh", "f", "v"]), 1);
    assert_eq!(q::<String>(&mut c, &["HGET", "h", "a"]), "one");
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "a"]), 3);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "zz"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "nohash", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "h", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "h", "zz"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "nohash", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "h", "a", "zz", "a", "b"]), 2);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "nohash", "a"]), 0);
    assert_eq!(q::<Vec<String>>(&mut c, &["HKEYS", "h"]), ["c", "d", "e", "f"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["HKEYS", "nohash"]), Vec::<String>::new());
    assert_eq!(q::<HashMap<String, String>>(&mut c, &["HGETALL", "nohash"]), HashMap::new());

    // Binary-safe fields and values, the empty string included.
    let bin: Vec<u8> = vec![0, b'\r', b'\n', 255, b'$'];
    let _: i64 = redis::cmd("HSET").arg("bin").arg(&bin[..]).arg(&bin[..]).arg("").arg("").query(&mut c).unwrap();
    let v: Vec<u8> = redis::cmd("HGET").arg("bin").arg(&bin[..]).query(&mut c).unwrap();
    assert_eq!(v, bin);
    assert_eq!(q::<String>(&mut c, &["HGET", "bin", ""]), "");
    assert_eq!(q::<i64>(&mut c, &["HLEN", "bin"]), 2);
}

#[test]
fn emptied_hashes_disappear() {
    let s = two_cores();
    let mut c = s.conn();
    // Many keys, so both cores own some.
    for i in 0..40 {
        let k = format!("eh:{i}");
        assert_eq!(q::<i64>(&mut c, &["HSET", &k, "a", "1", "b", "2"]), 2);
        if i % 2 == 0 {
            let _: i64 = q(&mut c, &["EXPIRE", &k, "100"]);
        }
        assert_eq!(q::<i64>(&mut c, &["HDEL", &k, "a", "b"]), 2);
        assert!(!exists(&mut c, &k), "{k}");
        assert_eq!(q::<String>(&mut c, &["TYPE", &k]), "none");
        // A new hash under the same name starts without the old TTL.
        assert_eq!(q::<i64>(&mut c, &["HSET", &k, "c", "3"]), 1);
        assert_eq!(q::<i64>(&mut c, &["TTL", &k]), -1);
    }
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 40);
    // A failed HINCRBYFLOAT on a missing key leaves no key behind.
    let _ = q_err(&mut c, &["HINCRBYFLOAT", "never", "f", "abc"]);
    assert!(!exists(&mut c, "never"));
}

#[test]
fn many_keys_across_cores() {
    let s = two_cores();
    let mut c = s.conn();
    for i in 0..200 {
        let k = format!("mk:{i}");
        let _: i64 = q(&mut c, &["HSET", &k, "n", &i.to_string(), "sq", &(i * i).to_string()]);
        let _: i64 = q(&mut c, &["HINCRBY", &k, "n", "1000"]);
    }
    for i in 0..200 {
        let k = format!("mk:{i}");
        let got: Vec<Option<String>> = q(&mut c, &["HMGET", &k, "n", "sq", "none"]);
        assert_eq!(got, [Some((i + 1000).to_string()), Some((i * i).to_string()), None]);
    }
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 200);
}

#[test]
fn hincrby_and_hincrbyfloat() {
    let s = two_cores();
    let mut c = s.conn();
    let mut r = s.raw();
    assert_eq!(q::<i64>(&mut c, &["HINCRBY", "n", "f", "5"]), 5);
    assert_eq!(q::<i64>(&mut c, &["HINCRBY", "n", "f", "-7"]), -2);
    assert_eq!(q::<String>(&mut c, &["HGET", "n", "f"]), "-2");
    let _: i64 = q(&mut c, &["HSET", "n", "max", "9223372036854775807", "min", "-9223372036854775808", "txt", "abc", "fl", "1.5", "sp", " 1"]);
    assert_raw_err(&mut r, &["HINCRBY", "n", "max", "1"], "ERR increment or decrement would overflow");
    assert_raw_err(&mut r, &["HINCRBY", "n", "min", "-1"], "ERR increment or decrement would overflow");
    assert_raw_err(&mut r, &["HINCRBY", "n", "txt", "1"], "ERR hash value is not an integer");
    assert_raw_err(&mut r, &["HINCRBY", "n", "fl", "1"], "ERR hash value is not an integer");
    assert_raw_err(&mut r, &["HINCRBY", "n", "sp", "1"], "ERR hash value is not an integer");
    assert_raw_err(&mut r, &["HINCRBY", "n", "f", "x"], NOT_INT);
    assert_raw_err(&mut r, &["HINCRBY", "n", "f", "1.0"], NOT_INT);
    assert_raw_err(&mut r, &["HINCRBY", "n", "f", "9223372036854775808"], NOT_INT);
    assert_eq!(q::<String>(&mut c, &["HGET", "n", "max"]), "9223372036854775807");

    // long double arithmetic, text as Redis prints it.
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "n", "x", "10.5"]), "10.5");
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "n", "x", "0.1"]), "10.6");
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "n", "y", "1000.1"]), "1000.09999999999999998");
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "n", "y", "0"]), "1000.09999999999999998");
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "n", "z", "5.0e3"]), "5000");
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "n", "fl", "-1.5"]), "0");
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "n", "max", "1"]), "9223372036854775808");
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "n", "txt", "1"], "ERR hash value is not a float");
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "n", "sp", "1"], "ERR hash value is not a float");
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "n", "x", "abc"], NOT_FLOAT);
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "n", "x", ""], NOT_FLOAT);
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "n", "x", "nan"], NOT_FLOAT);
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "n", "x", "1e5000"], NOT_FLOAT);
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "n", "x", "inf"], "ERR value is NaN or Infinity");
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "n", "x", "-inf"], "ERR value is NaN or Infinity");
    let _: i64 = q(&mut c, &["HSET", "n", "inf", "inf"]);
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "n", "inf", "1"], "ERR increment would produce NaN or Infinity");
    assert_eq!(q::<String>(&mut c, &["HGET", "n", "x"]), "10.6");

    // Type errors come after the increment is parsed, like Redis.
    let _: () = q(&mut c, &["SET", "str", "v"]);
    assert_raw_err(&mut r, &["HINCRBY", "str", "f", "1"], WRONGTYPE);
    assert_raw_err(&mut r, &["HINCRBY", "str", "f", "x"], NOT_INT);
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "str", "f", "1"], WRONGTYPE);
    assert_raw_err(&mut r, &["HINCRBYFLOAT", "str", "f", "x"], NOT_FLOAT);
}

#[test]
fn errors_and_wrongtype() {
    let s = two_cores();
    let mut r = s.raw();
    assert_reply!(r.cmd_str(&["SET", "str", "v"]), R::ok());
    assert_reply!(r.cmd_str(&["HSET", "h", "f", "v"]), R::Int(1));
    for cmd in [
        vec!["HSET", "str", "f", "v"],
        vec!["HSETNX", "str", "f", "v"],
        vec!["HMSET", "str", "f", "v"],
        vec!["HGET", "str", "f"],
        vec!["HMGET", "str", "f"],
        vec!["HDEL", "str", "f"],
        vec!["HLEN", "str"],
        vec!["HSTRLEN", "str", "f"],
        vec!["HEXISTS", "str", "f"],
        vec!["HKEYS", "str"],
        vec!["HVALS", "str"],
        vec!["HGETALL", "str"],
        vec!["HRANDFIELD", "str"],
        vec!["HRANDFIELD", "str", "2"],
        vec!["HRANDFIELD", "str", "-2", "WITHVALUES"],
        vec!["HSCAN", "str", "0"],
        vec!["HSCAN", "str", "0", "COUNT", "0"],
        vec!["GET", "h"],
        vec!["SADD", "h", "m"],
        vec!["LPUSH", "h", "m"],
    ] {
        assert_raw_err(&mut r, &cmd, WRONGTYPE);
    }
    assert_reply!(r.cmd_str(&["GET", "str"]), R::bulk("v"));

    for (cmd, name) in [
        (vec!["HSET", "h"], "hset"),
        (vec!["HSET", "h", "f"], "hset"),
        (vec!["HSET", "h", "f", "v", "g"], "hset"),
        (vec!["HMSET", "h", "f"], "hmset"),
        (vec!["HMSET", "h", "f", "v", "g"], "hmset"),
        (vec!["HSETNX", "h", "f"], "hsetnx"),
        (vec!["HGET", "h"], "hget"),
        (vec!["HMGET", "h"], "hmget"),
        (vec!["HDEL", "h"], "hdel"),
        (vec!["HLEN"], "hlen"),
        (vec!["HSTRLEN", "h"], "hstrlen"),
        (vec!["HEXISTS", "h"], "hexists"),
        (vec!["HKEYS", "h", "x"], "hkeys"),
        (vec!["HVALS"], "hvals"),
        (vec!["HGETALL"], "hgetall"),
        (vec!["HINCRBY", "h", "f"], "hincrby"),
        (vec!["HINCRBYFLOAT", "h", "f", "1", "2"], "hincrbyfloat"),
        (vec!["HRANDFIELD"], "hrandfield"),
        (vec!["HSCAN", "h"], "hscan"),
    ] {
        assert_raw_err(&mut r, &cmd, &arity(name));
    }
    // The failed HSET/HMSET wrote nothing.
    assert_reply!(r.cmd_str(&["HLEN", "h"]), R::Int(1));
    assert_reply!(r.cmd_str(&["HEXISTS", "h", "g"]), R::Int(0));
}

#[test]
fn hrandfield_counts() {
    let s = two_cores();
    let mut c = s.conn();
    let mut r = s.raw();
    let fields: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    for f in &fields {
        let _: i64 = q(&mut c, &["HSET", "h", f, &format!("v-{f}")]);
    }
    let all: HashSet<String> = fields.iter().cloned().collect();
    for _ in 0..20 {
        let one: String = q(&mut c, &["HRANDFIELD", "h"]);
        assert!(all.contains(&one));
        // Positive: distinct fields.
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", "7"]);
        assert_eq!(got.len(), 7);
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), 7);
        assert!(got.iter().all(|f| all.contains(f)));
        // Negative: exactly |count|, repeats allowed.
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", "-50"]);
        assert_eq!(got.len(), 50);
        assert!(got.iter().all(|f| all.contains(f)));
        // WITHVALUES: each value belongs to its field.
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", "-9", "WITHVALUES"]);
        assert_eq!(got.len(), 18);
        for p in got.chunks(2) {
            assert_eq!(p[1], format!("v-{}", p[0]));
        }
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", "5", "withvalues"]);
        assert_eq!(got.len(), 10);
    }
    // A count at or past the size answers the whole hash, in order.
    assert_eq!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "h", "20"]), fields);
    assert_eq!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "h", "9223372036854775807"]), fields);
    assert_eq!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "h", "0"]), Vec::<String>::new());
    assert_eq!(q::<Option<String>>(&mut c, &["HRANDFIELD", "nohash"]), None);
    assert_eq!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "nohash", "-5"]), Vec::<String>::new());
    // A large hash (hashtable) too.
    for i in 0..600 {
        let _: i64 = q(&mut c, &["HSET", "big", &format!("b{i}"), "v"]);
    }
    let got: Vec<String> = q(&mut c, &["HRANDFIELD", "big", "599"]);
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 599);
    let got: Vec<String> = q(&mut c, &["HRANDFIELD", "big", "-2000"]);
    assert_eq!(got.len(), 2000);
    assert!(got.iter().collect::<HashSet<_>>().len() > 300);

    assert_raw_err(&mut r, &["HRANDFIELD", "h", "x"], NOT_INT);
    assert_raw_err(&mut r, &["HRANDFIELD", "h", "-9223372036854775808"], "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    assert_raw_err(&mut r, &["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"], "ERR value is out of range");
    assert_raw_err(&mut r, &["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"], "ERR value is out of range");
    assert_raw_err(&mut r, &["HRANDFIELD", "h", "1", "WITHVALUE"], SYNTAX);
    assert_raw_err(&mut r, &["HRANDFIELD", "h", "1", "WITHVALUES", "x"], SYNTAX);
    assert_raw_err(&mut r, &["HRANDFIELD", "nohash", "x"], NOT_INT);
    if s.is_redcore() {
        // Redis would try to build 10^15 replies; redcore refuses.
        assert_raw_err(&mut r, &["HRANDFIELD", "h", "-1000000000000000"], "ERR value is out of range");
        assert_raw_err(&mut r, &["HRANDFIELD", "h", "-9223372036854775807"], "ERR value is out of range");
    }
}

#[test]
fn hscan_small_and_large() {
    let s = two_cores();
    let mut c = s.conn();
    let mut r = s.raw();
    // Small: everything in one call, cursor 0, insertion order.
    let _: i64 = q(&mut c, &["HSET", "small", "a", "1", "b", "2", "ab", "3"]);
    let (got, calls) = hscan_all(&mut c, "small", &["COUNT", "1"]);
    assert_eq!(calls, 1);
    assert_eq!(got, [("a".into(), "1".into()), ("b".into(), "2".into()), ("ab".into(), "3".into())]);
    let (got, _) = hscan_all(&mut c, "small", &["MATCH", "a*"]);
    assert_eq!(got.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["a", "ab"]);
    let (got, _) = hscan_all(&mut c, "nohash", &[]);
    assert!(got.is_empty());

    // Large: every field exactly once when nothing changes, whatever COUNT.
    let n = 3000;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut cmd = redis::cmd("HSET");
        cmd.arg("large");
        for i in chunk {
            cmd.arg(format!("field:{i}")).arg(format!("value:{i}"));
        }
        let _: i64 = cmd.query(&mut c).unwrap();
    }
    for count in ["1", "7", "10", "1000", "100000"] {
        let (got, calls) = hscan_all(&mut c, "large", &["COUNT", count]);
        assert_eq!(got.len(), n, "COUNT {count}");
        let fields: HashSet<&String> = got.iter().map(|p| &p.0).collect();
        assert_eq!(fields.len(), n);
        for (f, v) in &got {
            assert_eq!(v, &f.replace("field", "value"));
        }
        if count == "10" {
            assert!(calls > 100, "COUNT 10 took {calls} calls");
        }
    }
    let (got, _) = hscan_all(&mut c, "large", &["MATCH", "field:1??", "COUNT", "50"]);
    let mut fields: Vec<String> = got.into_iter().map(|p| p.0).collect();
    fields.sort();
    assert_eq!(fields, (100..200).map(|i| format!("field:{i}")).collect::<Vec<_>>());

    // Fields present for the whole iteration are returned even while other
    // fields are added and removed between the calls.
    let mut cursor = "0".to_string();
    let mut seen = HashSet::new();
    let mut step = 0;
    loop {
        let (next, flat): (String, Vec<String>) = q(&mut c, &["HSCAN", "large", &cursor, "COUNT", "25"]);
        seen.extend(flat.chunks(2).map(|p| p[0].clone()));
        if next == "0" {
            break;
        }
        cursor = next;
        step += 1;
        let _: i64 = q(&mut c, &["HSET", "large", &format!("new:{step}"), "v"]);
        let _: i64 = q(&mut c, &["HDEL", "large", &format!("field:{}", 2 * step)]);
        let _: i64 = q(&mut c, &["HDEL", "large", &format!("new:{}", step / 2)]);
    }
    for i in (0..n).filter(|i| i % 2 == 1 || *i > 2 * step) {
        assert!(seen.contains(&format!("field:{i}")), "field:{i} missed");
    }

    assert_raw_err(&mut r, &["HSCAN", "small", "x"], "ERR invalid cursor");
    assert_raw_err(&mut r, &["HSCAN", "small", "18446744073709551616"], "ERR invalid cursor");
    assert_raw_err(&mut r, &["HSCAN", "small", "0", "COUNT", "0"], SYNTAX);
    assert_raw_err(&mut r, &["HSCAN", "small", "0", "COUNT", "x"], NOT_INT);
    assert_raw_err(&mut r, &["HSCAN", "small", "0", "MATCH"], SYNTAX);
    assert_raw_err(&mut r, &["HSCAN", "small", "0", "TYPE", "hash"], SYNTAX);
    assert_raw_err(&mut r, &["HSCAN", "nohash", "x"], "ERR invalid cursor");
    // Options are not looked at for a missing key.
    assert_reply!(r.cmd_str(&["HSCAN", "nohash", "0", "COUNT", "0"]), R::arr(vec![R::bulk("0"), R::arr(vec![])]));
}

#[test]
fn resp3_shapes() {
    let s = two_cores();
    let mut r = s.raw();
    let _ = r.cmd_str(&["HELLO", "3"]);
    assert_reply!(r.cmd_str(&["HSET", "h", "a", "1", "b", "2"]), R::Int(2));
    assert_eq!(r.cmd_bytes(&[b"HGETALL", b"h"]), b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"HGETALL", b"nohash"]), b"%0\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"HMGET", b"h", b"a", b"zz"]), b"*2\r\n$1\r\n1\r\n_\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"HKEYS", b"h"]), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"HGET", b"h", b"zz"]), b"_\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"HRANDFIELD", b"nohash"]), b"_\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"HRANDFIELD", b"h", b"5"]), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"HRANDFIELD", b"h", b"0", b"WITHVALUES"]), b"*0\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"HSCAN", b"h", b"0"]), b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"HINCRBYFLOAT", b"h", b"a", b"0.5"]), b"$3\r\n1.5\r\n".to_vec());
}

/// RESP3 answers HRANDFIELD ... WITHVALUES as an array of [field, value]
/// pairs (RESP2: one flat array). redcore's `Reply` has no variant that is
/// nested in RESP3 and flat in RESP2 yet, so it answers flat in both.
#[test]
fn resp3_hrandfield_withvalues_pairs() {
    let s = two_cores();
    let mut r = s.raw();
    let _ = r.cmd_str(&["HELLO", "3"]);
    assert_reply!(r.cmd_str(&["HSET", "h", "a", "1"]), R::Int(1));
    assert_eq!(r.cmd_bytes(&[b"HRANDFIELD", b"h", b"1", b"WITHVALUES"]), b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"HRANDFIELD", b"h", b"-2", b"WITHVALUES"]), b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n".to_vec());
}

#[test]
fn encodings_follow_redis_limits() {
    let s = two_cores();
    let mut c = s.conn();
    let enc = |c: &mut redis::Connection, k: &str| q::<String>(c, &["OBJECT", "ENCODING", k]);
    let _: i64 = q(&mut c, &["HSET", "e", "f", &"x".repeat(64)]);
    assert_eq!(enc(&mut c, "e"), "listpack");
    let _: i64 = q(&mut c, &["HSET", "e", "f", &"x".repeat(65)]);
    assert_eq!(enc(&mut c, "e"), "hashtable");
    let _: i64 = q(&mut c, &["HSET", "e", "f", "short"]);
    assert_eq!(enc(&mut c, "e"), "hashtable");
    for i in 0..512 {
        let _: i64 = q(&mut c, &["HSET", "n", &i.to_string(), "v"]);
    }
    assert_eq!(enc(&mut c, "n"), "listpack");
    let _: i64 = q(&mut c, &["HSET", "n", "512", "v"]);
    assert_eq!(enc(&mut c, "n"), "hashtable");
    let _: i64 = q(&mut c, &["HDEL", "n", "0", "1", "2"]);
    assert_eq!(enc(&mut c, "n"), "hashtable");
    assert_eq!(q::<i64>(&mut c, &["HLEN", "n"]), 510);
}
