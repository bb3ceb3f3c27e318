//! Keyspace commands: DEL UNLINK EXISTS TYPE KEYS SCAN RANDOMKEY RENAME
//! RENAMENX EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX/XX/GT/LT) TTL PTTL PERSIST
//! EXPIRETIME PEXPIRETIME TOUCH, plus the multi-key commands over many keys on
//! a 2-core redcore (`--cores 2`, dropped for stock Redis) so that keys land
//! on different cores.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use redcore_tests::RawReply as R;
use redcore_tests::common::{NOT_INT, SYNTAX, arity, two_cores};
use redcore_tests::*;

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Keys "k:0".."k:{n-1}": with 200 keys both cores of a 2-core server own some.
fn many_keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("k:{i}")).collect()
}

#[test]
fn del_unlink_exists() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]);
    let n: i64 = q(&mut c, &["EXISTS", "a", "b", "nokey"]);
    assert_eq!(n, 2);
    // Repeated keys count each time.
    let n: i64 = q(&mut c, &["EXISTS", "a", "a", "a"]);
    assert_eq!(n, 3);
    let n: i64 = q(&mut c, &["DEL", "a", "nokey"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["DEL", "a"]);
    assert_eq!(n, 0);
    // Repeated keys are deleted once.
    let n: i64 = q(&mut c, &["DEL", "b", "b"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["UNLINK", "c", "c", "nokey"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["EXISTS", "a", "b", "c"]);
    assert_eq!(n, 0);
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 0);

    let mut r = s.raw();
    assert_raw_err(&mut r, &["DEL"], &arity("del"));
    assert_raw_err(&mut r, &["UNLINK"], &arity("unlink"));
    assert_raw_err(&mut r, &["EXISTS"], &arity("exists"));
    assert_eq!(r.cmd_bytes(&[b"DEL", b"x"]), b":0\r\n".to_vec());
}

#[test]
fn type_cmd() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "s", "v"]);
    let t: String = q(&mut c, &["TYPE", "s"]);
    assert_eq!(t, "string");
    let t: String = q(&mut c, &["TYPE", "nokey"]);
    assert_eq!(t, "none");
    let _: i64 = q(&mut c, &["INCR", "i"]);
    let t: String = q(&mut c, &["TYPE", "i"]);
    assert_eq!(t, "string");
    let mut r = s.raw();
    assert_eq!(r.cmd_bytes(&[b"TYPE", b"s"]), b"+string\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"TYPE", b"nokey"]), b"+none\r\n".to_vec());
    assert_raw_err(&mut r, &["TYPE"], &arity("type"));
    assert_raw_err(&mut r, &["TYPE", "a", "b"], &arity("type"));
}

#[test]
fn keys_patterns() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let names = [
        "hello", "hallo", "hxllo", "hllo", "heeello", "a", "b", "c", "ab", "a*", "a?", "x[y",
        "h-llo",
    ];
    for k in names {
        let _: () = q(&mut c, &["SET", k, "1"]);
    }
    let cases: &[(&str, &[&str])] = &[
        ("h?llo", &["hallo", "hello", "hxllo", "h-llo"]),
        (
            "h*llo",
            &["hallo", "hello", "hxllo", "hllo", "heeello", "h-llo"],
        ),
        ("h[ae]llo", &["hallo", "hello"]),
        ("h[^e]llo", &["hallo", "hxllo", "h-llo"]),
        ("h[a-b]llo", &["hallo"]),
        ("[a-c]", &["a", "b", "c"]),
        ("[^a]", &["b", "c"]),
        ("a\\*", &["a*"]),
        ("a\\?", &["a?"]),
        ("a?", &["ab", "a*", "a?"]),
        ("x\\[y", &["x[y"]),
        ("nomatch*", &[]),
        ("hello", &["hello"]),
    ];
    for (pat, want) in cases {
        let got: Vec<String> = q(&mut c, &["KEYS", pat]);
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(sorted(got), sorted(want), "KEYS {pat}");
    }
    let all: Vec<String> = q(&mut c, &["KEYS", "*"]);
    assert_eq!(
        sorted(all),
        sorted(names.iter().map(|s| s.to_string()).collect())
    );
    // Expired keys are not listed.
    let _: () = q(&mut c, &["SET", "hexp", "v", "PX", "50"]);
    assert!(wait_until(Duration::from_secs(5), || {
        let ks: Vec<String> = q(&mut c, &["KEYS", "hexp"]);
        ks.is_empty()
    }));
    let mut r = s.raw();
    assert_raw_err(&mut r, &["KEYS"], &arity("keys"));
    assert_raw_err(&mut r, &["KEYS", "a", "b"], &arity("keys"));
    assert_eq!(r.cmd_bytes(&[b"KEYS", b"zzz*"]), b"*0\r\n".to_vec());
}

/// Runs a full SCAN with the given extra args; returns every key seen (with
/// multiplicity) and asserts the iteration terminates.
fn scan_all(c: &mut redis::Connection, extra: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    for _round in 0..100_000 {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(&cursor);
        for a in extra {
            cmd.arg(*a);
        }
        let (next, keys): (String, Vec<String>) = cmd.query(c).expect("SCAN");
        seen.extend(keys);
        cursor = next;
        if cursor == "0" {
            return seen;
        }
    }
    panic!("SCAN {extra:?} did not finish in 100000 rounds");
}

#[test]
fn scan_match_count_type() {
    let s = two_cores();
    let mut c = s.conn();
    let keys = many_keys(300);
    let mut pipe = redis::pipe();
    for k in &keys {
        pipe.cmd("SET").arg(k).arg("v").ignore();
    }
    for i in 0..50 {
        pipe.cmd("SET").arg(format!("other:{i}")).arg("v").ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();

    for extra in [
        &[][..],
        &["COUNT", "7"][..],
        &["COUNT", "1000"][..],
        &["COUNT", "1"][..],
    ] {
        let seen = scan_all(&mut c, extra);
        let set: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(
            set.len(),
            350,
            "SCAN {extra:?} must see every key at least once"
        );
    }
    let seen = scan_all(&mut c, &["MATCH", "k:1*", "COUNT", "10"]);
    let set: BTreeSet<String> = seen.into_iter().collect();
    let want: BTreeSet<String> = keys
        .iter()
        .filter(|k| k.starts_with("k:1"))
        .cloned()
        .collect();
    assert_eq!(set, want);
    let seen = scan_all(&mut c, &["TYPE", "string", "MATCH", "other:*"]);
    let set: BTreeSet<String> = seen.into_iter().collect();
    assert_eq!(set.len(), 50);
    let seen = scan_all(&mut c, &["TYPE", "list"]);
    assert!(seen.is_empty(), "no lists exist: {seen:?}");
    let seen = scan_all(&mut c, &["MATCH", "nomatch*"]);
    assert!(seen.is_empty());

    // The redis crate's scan iterator.
    use redis::Commands;
    let it: redis::Iter<String> = c.scan_match("other:*").unwrap();
    let got: BTreeSet<String> = it.collect();
    assert_eq!(got.len(), 50);

    let mut r = s.raw();
    // Reply shape: [cursor bulk, array of keys].
    let rep = r.cmd_str(&["SCAN", "0", "COUNT", "5"]);
    let items = rep.items().expect("SCAN returns an array").to_vec();
    assert_eq!(items.len(), 2, "{rep}");
    let cur = items[0].as_str().expect("cursor is a bulk string");
    assert!(cur.parse::<u64>().is_ok(), "cursor {cur:?}");
    assert!(items[1].items().is_some());
    assert_raw_err(&mut r, &["SCAN"], &arity("scan"));
    assert_raw_err(&mut r, &["SCAN", "abc"], "ERR invalid cursor");
    assert_raw_err(&mut r, &["SCAN", "0", "COUNT", "0"], SYNTAX);
    assert_raw_err(&mut r, &["SCAN", "0", "COUNT", "abc"], NOT_INT);
    assert_raw_err(&mut r, &["SCAN", "0", "FOO"], SYNTAX);
    assert_raw_err(&mut r, &["SCAN", "0", "MATCH"], SYNTAX);
}

#[test]
fn scan_empty_db() {
    let s = Server::under_test(&[]);
    let mut r = s.raw();
    assert_eq!(
        r.cmd_bytes(&[b"SCAN", b"0"]),
        b"*2\r\n$1\r\n0\r\n*0\r\n".to_vec()
    );
}

#[test]
fn randomkey() {
    let s = two_cores();
    let mut c = s.conn();
    let v: Option<String> = q(&mut c, &["RANDOMKEY"]);
    assert_eq!(v, None);
    let _: () = q(&mut c, &["SET", "only", "1"]);
    let v: Option<String> = q(&mut c, &["RANDOMKEY"]);
    assert_eq!(v.as_deref(), Some("only"));
    let keys = many_keys(100);
    for k in &keys {
        let _: () = q(&mut c, &["SET", k, "1"]);
    }
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let v: String = q(&mut c, &["RANDOMKEY"]);
        assert!(
            v == "only" || keys.contains(&v),
            "RANDOMKEY returned unknown key {v}"
        );
        seen.insert(v);
    }
    assert!(seen.len() > 1, "RANDOMKEY always returned the same key");
    let mut r = s.raw();
    assert_raw_err(&mut r, &["RANDOMKEY", "x"], &arity("randomkey"));
}

#[test]
fn rename_renamenx() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "a", "1", "EX", "100"]);
    let ok: String = q(&mut c, &["RENAME", "a", "b"]);
    assert_eq!(ok, "OK");
    let e: i64 = q(&mut c, &["EXISTS", "a"]);
    assert_eq!(e, 0);
    let v: String = q(&mut c, &["GET", "b"]);
    assert_eq!(v, "1");
    let ttl: i64 = q(&mut c, &["TTL", "b"]);
    assert!(
        (90..=100).contains(&ttl),
        "RENAME must carry the TTL: {ttl}"
    );
    // RENAME over an existing key replaces it (and its TTL).
    let _: () = q(&mut c, &["SET", "c", "2"]);
    let _: () = q(&mut c, &["RENAME", "c", "b"]);
    let v: String = q(&mut c, &["GET", "b"]);
    assert_eq!(v, "2");
    let ttl: i64 = q(&mut c, &["TTL", "b"]);
    assert_eq!(ttl, -1);
    // Rename to itself.
    let ok: String = q(&mut c, &["RENAME", "b", "b"]);
    assert_eq!(ok, "OK");
    let v: String = q(&mut c, &["GET", "b"]);
    assert_eq!(v, "2");

    let _: () = q(&mut c, &["SET", "x", "x"]);
    let n: i64 = q(&mut c, &["RENAMENX", "x", "b"]);
    assert_eq!(n, 0);
    let v: String = q(&mut c, &["GET", "x"]);
    assert_eq!(v, "x");
    let n: i64 = q(&mut c, &["RENAMENX", "x", "y"]);
    assert_eq!(n, 1);
    let v: String = q(&mut c, &["GET", "y"]);
    assert_eq!(v, "x");
    let n: i64 = q(&mut c, &["RENAMENX", "y", "y"]);
    assert_eq!(n, 0);

    let mut r = s.raw();
    assert_raw_err(&mut r, &["RENAME", "nokey", "z"], "ERR no such key");
    assert_raw_err(&mut r, &["RENAMENX", "nokey", "z"], "ERR no such key");
    assert_raw_err(&mut r, &["RENAME", "a"], &arity("rename"));
    assert_raw_err(&mut r, &["RENAMENX", "a"], &arity("renamenx"));
    assert_reply!(r.cmd_str(&["EXISTS", "z"]), R::Int(0));
}

#[test]
fn expire_family_and_ttl() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert_eq!(ttl, -1);
    let ttl: i64 = q(&mut c, &["TTL", "nokey"]);
    assert_eq!(ttl, -2);
    let pttl: i64 = q(&mut c, &["PTTL", "nokey"]);
    assert_eq!(pttl, -2);
    let pttl: i64 = q(&mut c, &["PTTL", "k"]);
    assert_eq!(pttl, -1);
    let et: i64 = q(&mut c, &["EXPIRETIME", "k"]);
    assert_eq!(et, -1);
    let et: i64 = q(&mut c, &["EXPIRETIME", "nokey"]);
    assert_eq!(et, -2);
    let et: i64 = q(&mut c, &["PEXPIRETIME", "nokey"]);
    assert_eq!(et, -2);

    let n: i64 = q(&mut c, &["EXPIRE", "k", "100"]);
    assert_eq!(n, 1);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert!((90..=100).contains(&ttl), "{ttl}");
    let n: i64 = q(&mut c, &["PEXPIRE", "k", "200000"]);
    assert_eq!(n, 1);
    let pttl: i64 = q(&mut c, &["PTTL", "k"]);
    assert!((190_000..=200_000).contains(&pttl), "{pttl}");
    let at = unix_now_secs() + 300;
    let n: i64 = q(&mut c, &["EXPIREAT", "k", &at.to_string()]);
    assert_eq!(n, 1);
    let et: i64 = q(&mut c, &["EXPIRETIME", "k"]);
    assert_eq!(et, at);
    let pet: i64 = q(&mut c, &["PEXPIRETIME", "k"]);
    assert_eq!(pet, at * 1000);
    let pat = unix_now_millis() + 400_000;
    let n: i64 = q(&mut c, &["PEXPIREAT", "k", &pat.to_string()]);
    assert_eq!(n, 1);
    let pet: i64 = q(&mut c, &["PEXPIRETIME", "k"]);
    assert_eq!(pet, pat);
    let et: i64 = q(&mut c, &["EXPIRETIME", "k"]);
    assert!(et == pat / 1000 || et == pat / 1000 + 1, "{et} vs {pat}");

    let n: i64 = q(&mut c, &["PERSIST", "k"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["PERSIST", "k"]);
    assert_eq!(n, 0);
    let n: i64 = q(&mut c, &["PERSIST", "nokey"]);
    assert_eq!(n, 0);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert_eq!(ttl, -1);

    // Missing keys.
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        let n: i64 = q(&mut c, &[cmd, "nokey", "100"]);
        assert_eq!(n, 0, "{cmd} on a missing key");
    }
    // Non-positive / past times delete the key and return 1.
    for (cmd, arg) in [
        ("EXPIRE", "0"),
        ("EXPIRE", "-1"),
        ("PEXPIRE", "-5"),
        ("EXPIREAT", "1"),
        ("PEXPIREAT", "1000"),
    ] {
        let _: () = q(&mut c, &["SET", "d", "v"]);
        let n: i64 = q(&mut c, &[cmd, "d", arg]);
        assert_eq!(n, 1, "{cmd} d {arg}");
        let e: i64 = q(&mut c, &["EXISTS", "d"]);
        assert_eq!(e, 0, "{cmd} d {arg} must delete the key");
    }

    let mut r = s.raw();
    assert_raw_err(&mut r, &["EXPIRE", "k", "abc"], NOT_INT);
    assert_raw_err(&mut r, &["PEXPIRE", "k", "1.5"], NOT_INT);
    assert_raw_err(&mut r, &["EXPIREAT", "k", "x"], NOT_INT);
    assert_raw_err(&mut r, &["EXPIRE", "k"], &arity("expire"));
    assert_raw_err(&mut r, &["PEXPIRE", "k"], &arity("pexpire"));
    assert_raw_err(&mut r, &["EXPIREAT", "k"], &arity("expireat"));
    assert_raw_err(&mut r, &["PEXPIREAT", "k"], &arity("pexpireat"));
    assert_raw_err(&mut r, &["TTL"], &arity("ttl"));
    assert_raw_err(&mut r, &["PTTL"], &arity("pttl"));
    assert_raw_err(&mut r, &["PERSIST"], &arity("persist"));
    assert_raw_err(&mut r, &["EXPIRETIME"], &arity("expiretime"));
    assert_raw_err(
        &mut r,
        &["EXPIRE", "k", "9223372036854775807"],
        "ERR invalid expire time in 'expire' command",
    );
    assert_raw_err(
        &mut r,
        &["PEXPIRE", "k", "9223372036854775807"],
        "ERR invalid expire time in 'pexpire' command",
    );
    assert_eq!(r.cmd_bytes(&[b"TTL", b"nokey"]), b":-2\r\n".to_vec());
}

#[test]
fn expire_options_nx_xx_gt_lt() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "k", "v"]);
    // No TTL yet: XX fails, GT fails (no TTL = infinite), LT succeeds, NX succeeds.
    let n: i64 = q(&mut c, &["EXPIRE", "k", "100", "XX"]);
    assert_eq!(n, 0);
    let n: i64 = q(&mut c, &["EXPIRE", "k", "100", "GT"]);
    assert_eq!(n, 0);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert_eq!(ttl, -1);
    let n: i64 = q(&mut c, &["EXPIRE", "k", "100", "NX"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["EXPIRE", "k", "200", "NX"]);
    assert_eq!(n, 0);
    let n: i64 = q(&mut c, &["EXPIRE", "k", "200", "XX"]);
    assert_eq!(n, 1);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert!((190..=200).contains(&ttl));
    let n: i64 = q(&mut c, &["EXPIRE", "k", "50", "GT"]);
    assert_eq!(n, 0);
    let n: i64 = q(&mut c, &["EXPIRE", "k", "300", "LT"]);
    assert_eq!(n, 0);
    let n: i64 = q(&mut c, &["EXPIRE", "k", "300", "GT"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["EXPIRE", "k", "50", "LT"]);
    assert_eq!(n, 1);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert!((40..=50).contains(&ttl));
    // XX + GT combine.
    let n: i64 = q(&mut c, &["EXPIRE", "k", "500", "XX", "GT"]);
    assert_eq!(n, 1);
    // LT on a key without TTL sets it.
    let _: () = q(&mut c, &["SET", "k2", "v"]);
    let n: i64 = q(&mut c, &["PEXPIRE", "k2", "100000", "LT"]);
    assert_eq!(n, 1);
    let at = (unix_now_secs() + 1000).to_string();
    let n: i64 = q(&mut c, &["EXPIREAT", "k2", &at, "GT"]);
    assert_eq!(n, 1);
    let pat = (unix_now_millis() + 2_000_000).to_string();
    let n: i64 = q(&mut c, &["PEXPIREAT", "k2", &pat, "LT"]);
    assert_eq!(n, 0);
    let n: i64 = q(&mut c, &["PEXPIREAT", "k2", &pat, "nx"]);
    assert_eq!(n, 0);

    let mut r = s.raw();
    let both = "ERR NX and XX, GT or LT options at the same time are not compatible";
    assert_raw_err(&mut r, &["EXPIRE", "k", "10", "NX", "XX"], both);
    assert_raw_err(&mut r, &["EXPIRE", "k", "10", "NX", "GT"], both);
    assert_raw_err(&mut r, &["EXPIRE", "k", "10", "LT", "NX"], both);
    assert_raw_err(
        &mut r,
        &["EXPIRE", "k", "10", "GT", "LT"],
        "ERR GT and LT options at the same time are not compatible",
    );
    assert_raw_err(
        &mut r,
        &["EXPIRE", "k", "10", "FOO"],
        "ERR Unsupported option FOO",
    );
    assert_raw_err(
        &mut r,
        &["PEXPIRE", "k", "10", "bar"],
        "ERR Unsupported option bar",
    );
}

#[test]
fn expired_keys_disappear() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "a", "v", "PX", "100"]);
    let _: i64 = q(&mut c, &["PEXPIRE", "k0", "100"]); // missing: no-op
    let _: () = q(&mut c, &["SET", "b", "v"]);
    let _: i64 = q(&mut c, &["PEXPIRE", "b", "100"]);
    let _: () = q(&mut c, &["SET", "keep", "v"]);
    let gone = wait_until(Duration::from_secs(5), || {
        let n: i64 = q(&mut c, &["EXISTS", "a", "b"]);
        n == 0
    });
    assert!(gone, "keys with a 100 ms TTL still exist after 5 s");
    let v: Option<String> = q(&mut c, &["GET", "a"]);
    assert_eq!(v, None);
    let t: String = q(&mut c, &["TYPE", "b"]);
    assert_eq!(t, "none");
    // Active expiry eventually drops them from DBSIZE as well (no access).
    let _: () = q(&mut c, &["SET", "c", "v", "PX", "50"]);
    let dropped = wait_until(Duration::from_secs(5), || {
        let n: i64 = q(&mut c, &["DBSIZE"]);
        n == 1
    });
    assert!(dropped, "DBSIZE still counts expired keys after 5 s");
    let v: String = q(&mut c, &["GET", "keep"]);
    assert_eq!(v, "v");
}

#[test]
fn touch() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["MSET", "a", "1", "b", "2"]);
    let n: i64 = q(&mut c, &["TOUCH", "a", "b", "nokey"]);
    assert_eq!(n, 2);
    let n: i64 = q(&mut c, &["TOUCH", "a", "a"]);
    assert_eq!(n, 2);
    let mut r = s.raw();
    assert_raw_err(&mut r, &["TOUCH"], &arity("touch"));
}

// ---------------------------------------------------------------------------
// Multi-key commands across cores (redcore --cores 2)
// ---------------------------------------------------------------------------

#[test]
fn cross_core_mset_mget_exists_touch() {
    let s = two_cores();
    let mut c = s.conn();
    let keys = many_keys(200);
    let mut args: Vec<String> = vec!["MSET".into()];
    for (i, k) in keys.iter().enumerate() {
        args.push(k.clone());
        args.push(format!("v{i}"));
    }
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let ok: String = q(&mut c, &a);
    assert_eq!(ok, "OK");
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 200);

    let mut mget: Vec<&str> = vec!["MGET"];
    mget.extend(keys.iter().map(|s| s.as_str()));
    mget.push("missing:1");
    let vals: Vec<Option<String>> = q(&mut c, &mget);
    assert_eq!(vals.len(), 201);
    for (i, v) in vals.iter().take(200).enumerate() {
        assert_eq!(
            v.as_deref(),
            Some(format!("v{i}").as_str()),
            "MGET slot {i}"
        );
    }
    assert_eq!(vals[200], None);

    // Reverse order MGET keeps argument order.
    let mut rev: Vec<&str> = vec!["MGET"];
    rev.extend(keys.iter().rev().map(|s| s.as_str()));
    let vals: Vec<String> = q(&mut c, &rev);
    for (j, v) in vals.iter().enumerate() {
        assert_eq!(v, &format!("v{}", 199 - j));
    }

    let mut ex: Vec<&str> = vec!["EXISTS"];
    ex.extend(keys.iter().map(|s| s.as_str()));
    ex.extend(["nokey", "k:0", "k:199"]);
    let n: i64 = q(&mut c, &ex);
    assert_eq!(n, 202);
    ex[0] = "TOUCH";
    let n: i64 = q(&mut c, &ex);
    assert_eq!(n, 202);

    let keyset: BTreeSet<String> = q::<Vec<String>>(&mut c, &["KEYS", "k:*"])
        .into_iter()
        .collect();
    assert_eq!(keyset, keys.iter().cloned().collect());
}

#[test]
fn cross_core_del_unlink() {
    let s = two_cores();
    let mut c = s.conn();
    let keys = many_keys(200);
    for k in &keys {
        let _: () = q(&mut c, &["SET", k, "x"]);
    }
    let mut del: Vec<&str> = vec!["DEL"];
    del.extend(keys[..100].iter().map(|s| s.as_str()));
    del.extend(["nokey", "k:0"]); // missing + duplicate
    let n: i64 = q(&mut c, &del);
    assert_eq!(n, 100);
    let mut unl: Vec<&str> = vec!["UNLINK"];
    unl.extend(keys[100..].iter().map(|s| s.as_str()));
    unl.push("k:150");
    let n: i64 = q(&mut c, &unl);
    assert_eq!(n, 100);
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 0);
    let mut mget: Vec<&str> = vec!["MGET"];
    mget.extend(keys.iter().map(|s| s.as_str()));
    let vals: Vec<Option<String>> = q(&mut c, &mget);
    assert!(vals.iter().all(|v| v.is_none()));
}

#[test]
fn cross_core_msetnx() {
    let s = two_cores();
    let mut c = s.conn();
    let keys = many_keys(200);
    // One pre-existing key on (whatever) core blocks the whole MSETNX.
    let _: () = q(&mut c, &["SET", "k:137", "old"]);
    let mut args: Vec<&str> = vec!["MSETNX"];
    for k in &keys {
        args.push(k);
        args.push("new");
    }
    let n: i64 = q(&mut c, &args);
    assert_eq!(n, 0);
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 1, "a failed MSETNX must set nothing");
    let v: String = q(&mut c, &["GET", "k:137"]);
    assert_eq!(v, "old");
    let _: i64 = q(&mut c, &["DEL", "k:137"]);
    let n: i64 = q(&mut c, &args);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 200);
    let mut mget: Vec<&str> = vec!["MGET"];
    mget.extend(keys.iter().map(|s| s.as_str()));
    let vals: Vec<String> = q(&mut c, &mget);
    assert!(vals.iter().all(|v| v == "new"));
}

#[test]
fn cross_core_rename() {
    let s = two_cores();
    let mut c = s.conn();
    // Rename every k:i to r:i (a mix of same-core and cross-core moves),
    // carrying values and TTLs.
    let n = 100;
    for i in 0..n {
        let k = format!("k:{i}");
        if i % 2 == 0 {
            let _: () = q(&mut c, &["SET", &k, &format!("v{i}"), "EX", "1000"]);
        } else {
            let _: () = q(&mut c, &["SET", &k, &format!("v{i}")]);
        }
    }
    for i in 0..n {
        let ok: String = q(&mut c, &["RENAME", &format!("k:{i}"), &format!("r:{i}")]);
        assert_eq!(ok, "OK");
    }
    for i in 0..n {
        let (old, new): (Option<String>, Option<String>) = redis::pipe()
            .cmd("GET")
            .arg(format!("k:{i}"))
            .cmd("GET")
            .arg(format!("r:{i}"))
            .query(&mut c)
            .unwrap();
        assert_eq!(old, None, "k:{i} must be gone after RENAME");
        assert_eq!(new, Some(format!("v{i}")));
        let ttl: i64 = q(&mut c, &["TTL", &format!("r:{i}")]);
        if i % 2 == 0 {
            assert!((900..=1000).contains(&ttl), "r:{i} TTL {ttl}");
        } else {
            assert_eq!(ttl, -1, "r:{i}");
        }
    }
    // RENAMENX across cores, onto existing and fresh destinations.
    for i in 0..n {
        let dst_exists = i % 3 == 0;
        if dst_exists {
            let _: () = q(&mut c, &["SET", &format!("x:{i}"), "taken"]);
        }
        let got: i64 = q(&mut c, &["RENAMENX", &format!("r:{i}"), &format!("x:{i}")]);
        assert_eq!(got, if dst_exists { 0 } else { 1 }, "RENAMENX r:{i} x:{i}");
    }
    let mut want: HashMap<String, String> = HashMap::new();
    for i in 0..n {
        if i % 3 == 0 {
            want.insert(format!("x:{i}"), "taken".into());
            want.insert(format!("r:{i}"), format!("v{i}"));
        } else {
            want.insert(format!("x:{i}"), format!("v{i}"));
        }
    }
    let dbsize: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(dbsize as usize, want.len());
    for (k, v) in &want {
        let got: Option<String> = q(&mut c, &["GET", k]);
        assert_eq!(got.as_deref(), Some(v.as_str()), "{k}");
    }
    let mut r = s.raw();
    assert_raw_err(&mut r, &["RENAME", "k:5", "k:6"], "ERR no such key");
}

#[test]
fn cross_core_scan_and_flush() {
    let s = two_cores();
    let mut c = s.conn();
    let keys = many_keys(200);
    let mut pipe = redis::pipe();
    for k in &keys {
        pipe.cmd("SET").arg(k).arg("1").ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    let seen = scan_all(&mut c, &["COUNT", "3"]);
    let set: BTreeSet<String> = seen.into_iter().collect();
    assert_eq!(set, keys.iter().cloned().collect());
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 200);
    let ok: String = q(&mut c, &["FLUSHDB"]);
    assert_eq!(ok, "OK");
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 0);
    let ks: Vec<String> = q(&mut c, &["KEYS", "*"]);
    assert!(ks.is_empty());
}
