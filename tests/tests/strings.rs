//! String commands: GET SET (all options) SETNX SETEX PSETEX GETSET GETDEL
//! GETEX MGET MSET MSETNX APPEND STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT
//! GETRANGE SETRANGE. Happy paths through the `redis` crate, error replies
//! byte-exact (Redis 7.0 wording) through raw RESP.

use std::time::Duration;

use redcore_tests::RawReply as R;
use redcore_tests::common::{NOT_FLOAT, NOT_INT, SYNTAX, arity};
use redcore_tests::*;

#[test]
fn get_set_basic() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let v: Option<String> = q(&mut c, &["GET", "missing"]);
    assert_eq!(v, None);
    let ok: String = q(&mut c, &["SET", "k", "v1"]);
    assert_eq!(ok, "OK");
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "v1");
    let _: () = q(&mut c, &["SET", "k", "v2"]);
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "v2");
    // Empty value is a real value.
    let _: () = q(&mut c, &["SET", "empty", ""]);
    let v: Option<String> = q(&mut c, &["GET", "empty"]);
    assert_eq!(v.as_deref(), Some(""));

    // Binary safety (NUL, CR, LF, high bytes) through the crate and raw.
    let bin: Vec<u8> = vec![0, 1, b'\r', b'\n', 255, b'$', b'*', 0];
    let _: () = redis::cmd("SET")
        .arg(&bin[..])
        .arg(&bin[..])
        .query(&mut c)
        .unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg(&bin[..]).query(&mut c).unwrap();
    assert_eq!(got, bin);
    let mut r = s.raw();
    assert_reply!(r.cmd(&[b"GET", &bin]), R::bulk(&bin));
    assert_eq!(r.cmd_bytes(&[b"GET", b"empty"]), b"$0\r\n\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"GET", b"missing"]), b"$-1\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"SET", b"x", b"y"]), b"+OK\r\n".to_vec());

    // A 1 MiB value round-trips.
    let big: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&big[..])
        .query(&mut c)
        .unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg("big").query(&mut c).unwrap();
    assert_eq!(got.len(), big.len());
    assert!(got == big, "1 MiB value corrupted");
    let n: i64 = q(&mut c, &["STRLEN", "big"]);
    assert_eq!(n, 1 << 20);
}

#[test]
fn set_ex_px_exat_pxat() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "ex", "v", "EX", "100"]);
    let ttl: i64 = q(&mut c, &["TTL", "ex"]);
    assert!((90..=100).contains(&ttl), "TTL {ttl}");
    let _: () = q(&mut c, &["SET", "px", "v", "PX", "100000"]);
    let pttl: i64 = q(&mut c, &["PTTL", "px"]);
    assert!((90_000..=100_000).contains(&pttl), "PTTL {pttl}");
    let at = (unix_now_secs() + 200).to_string();
    let _: () = q(&mut c, &["SET", "exat", "v", "EXAT", &at]);
    let ttl: i64 = q(&mut c, &["TTL", "exat"]);
    assert!((190..=201).contains(&ttl), "TTL {ttl}");
    let et: i64 = q(&mut c, &["EXPIRETIME", "exat"]);
    assert_eq!(et.to_string(), at);
    let pat = (unix_now_millis() + 300_000).to_string();
    let _: () = q(&mut c, &["SET", "pxat", "v", "PXAT", &pat]);
    let pttl: i64 = q(&mut c, &["PTTL", "pxat"]);
    assert!((290_000..=300_500).contains(&pttl), "PTTL {pttl}");
    let pet: i64 = q(&mut c, &["PEXPIRETIME", "pxat"]);
    assert_eq!(pet.to_string(), pat);
    // Lowercase options work too.
    let _: () = q(&mut c, &["set", "lc", "v", "ex", "50"]);
    let ttl: i64 = q(&mut c, &["ttl", "lc"]);
    assert!((40..=50).contains(&ttl));
    // A plain SET clears the TTL.
    let _: () = q(&mut c, &["SET", "ex", "w"]);
    let ttl: i64 = q(&mut c, &["TTL", "ex"]);
    assert_eq!(ttl, -1);
}

#[test]
fn set_px_expires() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "short", "v", "PX", "100"]);
    let _: () = q(&mut c, &["SET", "long", "v"]);
    let gone = wait_until(Duration::from_secs(5), || {
        let v: Option<String> = q(&mut c, &["GET", "short"]);
        v.is_none()
    });
    assert!(gone, "key with PX 100 still there after 5 s");
    let e: i64 = q(&mut c, &["EXISTS", "short"]);
    assert_eq!(e, 0);
    let ttl: i64 = q(&mut c, &["TTL", "short"]);
    assert_eq!(ttl, -2);
    let v: String = q(&mut c, &["GET", "long"]);
    assert_eq!(v, "v");
    // A key whose PXAT is already in the past... is rejected only if <= 0;
    // a past positive time stores then expires it immediately.
    let past = (unix_now_millis() - 10_000).to_string();
    let ok: Option<String> = q(&mut c, &["SET", "past", "v", "PXAT", &past]);
    assert_eq!(ok.as_deref(), Some("OK"));
    let v: Option<String> = q(&mut c, &["GET", "past"]);
    assert_eq!(v, None);
}

#[test]
fn set_nx_xx() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let r: Option<String> = q(&mut c, &["SET", "k", "1", "NX"]);
    assert_eq!(r.as_deref(), Some("OK"));
    let r: Option<String> = q(&mut c, &["SET", "k", "2", "NX"]);
    assert_eq!(r, None);
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "1");
    let r: Option<String> = q(&mut c, &["SET", "k", "3", "XX"]);
    assert_eq!(r.as_deref(), Some("OK"));
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "3");
    let r: Option<String> = q(&mut c, &["SET", "nokey", "3", "XX"]);
    assert_eq!(r, None);
    let e: i64 = q(&mut c, &["EXISTS", "nokey"]);
    assert_eq!(e, 0);
    // NX with EX.
    let r: Option<String> = q(&mut c, &["SET", "nxex", "v", "NX", "EX", "100"]);
    assert_eq!(r.as_deref(), Some("OK"));
    let ttl: i64 = q(&mut c, &["TTL", "nxex"]);
    assert!(ttl > 0);
    let mut raw = s.raw();
    assert_eq!(
        raw.cmd_bytes(&[b"SET", b"k", b"x", b"NX"]),
        b"$-1\r\n".to_vec()
    );
}

#[test]
fn set_keepttl() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "k", "v", "EX", "100"]);
    let _: () = q(&mut c, &["SET", "k", "v2", "KEEPTTL"]);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert!((90..=100).contains(&ttl), "KEEPTTL lost the TTL: {ttl}");
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "v2");
    let _: () = q(&mut c, &["SET", "k", "v3"]);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert_eq!(ttl, -1);
    // KEEPTTL on a key without TTL / missing key.
    let _: () = q(&mut c, &["SET", "n", "v", "KEEPTTL"]);
    let ttl: i64 = q(&mut c, &["TTL", "n"]);
    assert_eq!(ttl, -1);
}

#[test]
fn set_get_option() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let old: Option<String> = q(&mut c, &["SET", "k", "v1", "GET"]);
    assert_eq!(old, None);
    let old: Option<String> = q(&mut c, &["SET", "k", "v2", "GET"]);
    assert_eq!(old.as_deref(), Some("v1"));
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "v2");
    // GET with XX on a missing key: nil, nothing set.
    let old: Option<String> = q(&mut c, &["SET", "m", "v", "XX", "GET"]);
    assert_eq!(old, None);
    let e: i64 = q(&mut c, &["EXISTS", "m"]);
    assert_eq!(e, 0);
    // NX + GET (allowed since 7.0): returns the old value, does not set.
    let old: Option<String> = q(&mut c, &["SET", "k", "v3", "NX", "GET"]);
    assert_eq!(old.as_deref(), Some("v2"));
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "v2");
    // GET + EX.
    let old: Option<String> = q(&mut c, &["SET", "k", "v4", "GET", "EX", "100"]);
    assert_eq!(old.as_deref(), Some("v2"));
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert!(ttl > 0);
    let mut r = s.raw();
    assert_eq!(
        r.cmd_bytes(&[b"SET", b"k", b"v5", b"GET"]),
        b"$2\r\nv4\r\n".to_vec()
    );
}

#[test]
fn set_errors() {
    let s = Server::under_test(&[]);
    let mut r = s.raw();
    assert_raw_err(&mut r, &["SET"], &arity("set"));
    assert_raw_err(&mut r, &["SET", "k"], &arity("set"));
    assert_raw_err(&mut r, &["SET", "k", "v", "NX", "XX"], SYNTAX);
    assert_raw_err(&mut r, &["SET", "k", "v", "XX", "NX"], SYNTAX);
    assert_raw_err(&mut r, &["SET", "k", "v", "EX", "10", "PX", "100"], SYNTAX);
    assert_raw_err(
        &mut r,
        &["SET", "k", "v", "EX", "10", "EXAT", "100"],
        SYNTAX,
    );
    assert_raw_err(
        &mut r,
        &["SET", "k", "v", "PX", "10", "PXAT", "100"],
        SYNTAX,
    );
    assert_raw_err(&mut r, &["SET", "k", "v", "EX", "10", "KEEPTTL"], SYNTAX);
    assert_raw_err(&mut r, &["SET", "k", "v", "KEEPTTL", "PX", "10"], SYNTAX);
    assert_raw_err(&mut r, &["SET", "k", "v", "FOO"], SYNTAX);
    assert_raw_err(&mut r, &["SET", "k", "v", "EX"], SYNTAX);
    assert_raw_err(&mut r, &["SET", "k", "v", "PX"], SYNTAX);
    assert_raw_err(&mut r, &["SET", "k", "v", "EX", "abc"], NOT_INT);
    assert_raw_err(&mut r, &["SET", "k", "v", "PX", "1.5"], NOT_INT);
    assert_raw_err(&mut r, &["SET", "k", "v", "EXAT", "abc"], NOT_INT);
    let inv = "ERR invalid expire time in 'set' command";
    assert_raw_err(&mut r, &["SET", "k", "v", "EX", "0"], inv);
    assert_raw_err(&mut r, &["SET", "k", "v", "EX", "-1"], inv);
    assert_raw_err(&mut r, &["SET", "k", "v", "PX", "0"], inv);
    assert_raw_err(&mut r, &["SET", "k", "v", "PX", "-100"], inv);
    assert_raw_err(&mut r, &["SET", "k", "v", "EXAT", "0"], inv);
    assert_raw_err(&mut r, &["SET", "k", "v", "PXAT", "0"], inv);
    assert_raw_err(&mut r, &["SET", "k", "v", "EX", "9223372036854775807"], inv);
    // None of the failed SETs created the key.
    assert_reply!(r.cmd_str(&["EXISTS", "k"]), R::Int(0));
    // Through the crate the error surfaces as a response error.
    let mut c = s.conn();
    let e = q_err(&mut c, &["SET", "k", "v", "NX", "XX"]);
    assert_eq!(e.kind(), redis::ErrorKind::ResponseError, "{e}");
}

#[test]
fn setnx_setex_psetex() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let n: i64 = q(&mut c, &["SETNX", "k", "a"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["SETNX", "k", "b"]);
    assert_eq!(n, 0);
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "a");

    let ok: String = q(&mut c, &["SETEX", "se", "100", "v"]);
    assert_eq!(ok, "OK");
    let ttl: i64 = q(&mut c, &["TTL", "se"]);
    assert!((90..=100).contains(&ttl));
    let v: String = q(&mut c, &["GET", "se"]);
    assert_eq!(v, "v");
    let ok: String = q(&mut c, &["PSETEX", "pse", "100000", "pv"]);
    assert_eq!(ok, "OK");
    let pttl: i64 = q(&mut c, &["PTTL", "pse"]);
    assert!((90_000..=100_000).contains(&pttl));
    // SETEX overwrites a value and its TTL.
    let _: () = q(&mut c, &["SETEX", "k", "50", "z"]);
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "z");
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert!((40..=50).contains(&ttl));

    let mut r = s.raw();
    assert_raw_err(&mut r, &["SETNX", "k"], &arity("setnx"));
    assert_raw_err(&mut r, &["SETEX", "k", "10"], &arity("setex"));
    assert_raw_err(&mut r, &["PSETEX", "k", "10"], &arity("psetex"));
    assert_raw_err(&mut r, &["SETEX", "k", "abc", "v"], NOT_INT);
    assert_raw_err(&mut r, &["PSETEX", "k", "abc", "v"], NOT_INT);
    assert_raw_err(
        &mut r,
        &["SETEX", "k", "0", "v"],
        "ERR invalid expire time in 'setex' command",
    );
    assert_raw_err(
        &mut r,
        &["SETEX", "k", "-5", "v"],
        "ERR invalid expire time in 'setex' command",
    );
    assert_raw_err(
        &mut r,
        &["PSETEX", "k", "0", "v"],
        "ERR invalid expire time in 'psetex' command",
    );
    assert_eq!(r.cmd_bytes(&[b"SETNX", b"k", b"q"]), b":0\r\n".to_vec());
    assert_eq!(
        r.cmd_bytes(&[b"SETEX", b"k2", b"10", b"q"]),
        b"+OK\r\n".to_vec()
    );
}

#[test]
fn getset_getdel() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let old: Option<String> = q(&mut c, &["GETSET", "k", "a"]);
    assert_eq!(old, None);
    let _: () = q(&mut c, &["EXPIRE", "k", "100"]);
    let old: Option<String> = q(&mut c, &["GETSET", "k", "b"]);
    assert_eq!(old.as_deref(), Some("a"));
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert_eq!(ttl, -1, "GETSET must clear the TTL");
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "b");

    let v: Option<String> = q(&mut c, &["GETDEL", "k"]);
    assert_eq!(v.as_deref(), Some("b"));
    let v: Option<String> = q(&mut c, &["GETDEL", "k"]);
    assert_eq!(v, None);
    let e: i64 = q(&mut c, &["EXISTS", "k"]);
    assert_eq!(e, 0);

    let mut r = s.raw();
    assert_raw_err(&mut r, &["GETSET", "k"], &arity("getset"));
    assert_raw_err(&mut r, &["GETDEL"], &arity("getdel"));
    assert_raw_err(&mut r, &["GETDEL", "a", "b"], &arity("getdel"));
    assert_eq!(r.cmd_bytes(&[b"GETDEL", b"nokey"]), b"$-1\r\n".to_vec());
}

#[test]
fn getex_options() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let v: String = q(&mut c, &["GETEX", "k"]);
    assert_eq!(v, "v");
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert_eq!(ttl, -1);
    let v: String = q(&mut c, &["GETEX", "k", "EX", "100"]);
    assert_eq!(v, "v");
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert!((90..=100).contains(&ttl), "{ttl}");
    // GETEX without options keeps the TTL.
    let _: String = q(&mut c, &["GETEX", "k"]);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert!(ttl > 0);
    let _: String = q(&mut c, &["GETEX", "k", "PX", "200000"]);
    let pttl: i64 = q(&mut c, &["PTTL", "k"]);
    assert!((190_000..=200_000).contains(&pttl), "{pttl}");
    let at = (unix_now_secs() + 300).to_string();
    let _: String = q(&mut c, &["GETEX", "k", "EXAT", &at]);
    let et: i64 = q(&mut c, &["EXPIRETIME", "k"]);
    assert_eq!(et.to_string(), at);
    let pat = (unix_now_millis() + 400_000).to_string();
    let _: String = q(&mut c, &["GETEX", "k", "PXAT", &pat]);
    let pet: i64 = q(&mut c, &["PEXPIRETIME", "k"]);
    assert_eq!(pet.to_string(), pat);
    let _: String = q(&mut c, &["GETEX", "k", "PERSIST"]);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert_eq!(ttl, -1);
    let v: Option<String> = q(&mut c, &["GETEX", "nokey", "EX", "10"]);
    assert_eq!(v, None);
    let e: i64 = q(&mut c, &["EXISTS", "nokey"]);
    assert_eq!(e, 0);
    // PX 100 through GETEX expires the key.
    let _: String = q(&mut c, &["GETEX", "k", "PX", "100"]);
    assert!(wait_until(Duration::from_secs(5), || {
        let e: i64 = q(&mut c, &["EXISTS", "k"]);
        e == 0
    }));

    let mut r = s.raw();
    let _ = r.cmd_str(&["SET", "k", "v"]);
    assert_raw_err(&mut r, &["GETEX"], &arity("getex"));
    let inv = "ERR invalid expire time in 'getex' command";
    assert_raw_err(&mut r, &["GETEX", "k", "EX", "0"], inv);
    assert_raw_err(&mut r, &["GETEX", "k", "EX", "-1"], inv);
    assert_raw_err(&mut r, &["GETEX", "k", "PX", "0"], inv);
    assert_raw_err(&mut r, &["GETEX", "k", "EXAT", "0"], inv);
    assert_raw_err(&mut r, &["GETEX", "k", "EX", "abc"], NOT_INT);
    assert_raw_err(&mut r, &["GETEX", "k", "EX", "1", "PX", "1"], SYNTAX);
    assert_raw_err(&mut r, &["GETEX", "k", "PERSIST", "EX", "1"], SYNTAX);
    assert_raw_err(&mut r, &["GETEX", "k", "FOO"], SYNTAX);
    assert_raw_err(&mut r, &["GETEX", "k", "EX"], SYNTAX);
    // The failed GETEXs left the key alone.
    assert_reply!(r.cmd_str(&["TTL", "k"]), R::Int(-1));
    assert_reply!(r.cmd_str(&["GET", "k"]), R::bulk("v"));
}

#[test]
fn mget_mset_msetnx() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let ok: String = q(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(ok, "OK");
    let v: Vec<Option<String>> = q(&mut c, &["MGET", "a", "nokey", "c", "b", "a"]);
    assert_eq!(
        v,
        vec![
            Some("1".into()),
            None,
            Some("3".into()),
            Some("2".into()),
            Some("1".into())
        ]
    );
    // MSET with a repeated key: the last value wins.
    let _: () = q(&mut c, &["MSET", "d", "x", "d", "y"]);
    let v: String = q(&mut c, &["GET", "d"]);
    assert_eq!(v, "y");
    // MSET clears TTLs.
    let _: () = q(&mut c, &["EXPIRE", "a", "100"]);
    let _: () = q(&mut c, &["MSET", "a", "10"]);
    let ttl: i64 = q(&mut c, &["TTL", "a"]);
    assert_eq!(ttl, -1);

    let n: i64 = q(&mut c, &["MSETNX", "x1", "1", "x2", "2"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["MSETNX", "x3", "3", "x1", "9"]);
    assert_eq!(n, 0);
    let v: Vec<Option<String>> = q(&mut c, &["MGET", "x1", "x2", "x3"]);
    assert_eq!(v, vec![Some("1".into()), Some("2".into()), None]);

    // redis crate typed helpers.
    use redis::Commands;
    let _: () = c.mset(&[("t1", "a"), ("t2", "b")]).unwrap();
    let v: Vec<String> = c.mget(&["t1", "t2"]).unwrap();
    assert_eq!(v, vec!["a", "b"]);

    let mut r = s.raw();
    assert_raw_err(&mut r, &["MGET"], &arity("mget"));
    assert_raw_err(&mut r, &["MSET"], &arity("mset"));
    assert_raw_err(&mut r, &["MSET", "a"], &arity("mset"));
    assert_raw_err(&mut r, &["MSET", "a", "1", "b"], &arity("mset"));
    assert_raw_err(&mut r, &["MSETNX", "a"], &arity("msetnx"));
    assert_raw_err(&mut r, &["MSETNX", "a", "1", "b"], &arity("msetnx"));
    assert_eq!(
        r.cmd_bytes(&[b"MGET", b"x1", b"nokey"]),
        b"*2\r\n$1\r\n1\r\n$-1\r\n".to_vec()
    );
}

#[test]
fn append_strlen() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let n: i64 = q(&mut c, &["APPEND", "k", "Hello"]);
    assert_eq!(n, 5);
    let n: i64 = q(&mut c, &["APPEND", "k", " World"]);
    assert_eq!(n, 11);
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "Hello World");
    let n: i64 = q(&mut c, &["STRLEN", "k"]);
    assert_eq!(n, 11);
    let n: i64 = q(&mut c, &["STRLEN", "nokey"]);
    assert_eq!(n, 0);
    // APPEND of an empty string to a missing key creates it.
    let n: i64 = q(&mut c, &["APPEND", "e", ""]);
    assert_eq!(n, 0);
    let e: i64 = q(&mut c, &["EXISTS", "e"]);
    assert_eq!(e, 1);
    // APPEND to an integer-looking value.
    let _: () = q(&mut c, &["SET", "i", "12"]);
    let _: i64 = q(&mut c, &["INCR", "i"]);
    let n: i64 = q(&mut c, &["APPEND", "i", "4"]);
    assert_eq!(n, 3);
    let v: String = q(&mut c, &["GET", "i"]);
    assert_eq!(v, "134");
    // APPEND keeps the TTL.
    let _: () = q(&mut c, &["EXPIRE", "k", "100"]);
    let _: i64 = q(&mut c, &["APPEND", "k", "!"]);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert!(ttl > 0);

    let mut r = s.raw();
    assert_raw_err(&mut r, &["APPEND", "k"], &arity("append"));
    assert_raw_err(&mut r, &["STRLEN"], &arity("strlen"));
    assert_raw_err(&mut r, &["STRLEN", "a", "b"], &arity("strlen"));
}

#[test]
fn incr_decr_family() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let n: i64 = q(&mut c, &["INCR", "n"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["INCRBY", "n", "41"]);
    assert_eq!(n, 42);
    let n: i64 = q(&mut c, &["DECR", "n"]);
    assert_eq!(n, 41);
    let n: i64 = q(&mut c, &["DECRBY", "n", "50"]);
    assert_eq!(n, -9);
    let n: i64 = q(&mut c, &["INCRBY", "n", "-1"]);
    assert_eq!(n, -10);
    let n: i64 = q(&mut c, &["DECR", "fresh"]);
    assert_eq!(n, -1);
    let v: String = q(&mut c, &["GET", "n"]);
    assert_eq!(v, "-10");
    // A value set as a string but integer-shaped.
    let _: () = q(&mut c, &["SET", "s", "-123"]);
    let n: i64 = q(&mut c, &["INCR", "s"]);
    assert_eq!(n, -122);
    // INCR keeps the TTL.
    let _: () = q(&mut c, &["SET", "t", "1", "EX", "100"]);
    let _: i64 = q(&mut c, &["INCR", "t"]);
    let ttl: i64 = q(&mut c, &["TTL", "t"]);
    assert!(ttl > 0);
    // Boundaries.
    let _: () = q(&mut c, &["SET", "max", "9223372036854775806"]);
    let n: i64 = q(&mut c, &["INCR", "max"]);
    assert_eq!(n, i64::MAX);
    let _: () = q(&mut c, &["SET", "min", "-9223372036854775807"]);
    let n: i64 = q(&mut c, &["DECR", "min"]);
    assert_eq!(n, i64::MIN);

    let mut r = s.raw();
    assert_eq!(r.cmd_bytes(&[b"INCR", b"raw"]), b":1\r\n".to_vec());
    let over = "ERR increment or decrement would overflow";
    assert_raw_err(&mut r, &["INCR", "max"], over);
    assert_raw_err(&mut r, &["INCRBY", "max", "1"], over);
    assert_raw_err(&mut r, &["DECR", "min"], over);
    assert_raw_err(&mut r, &["DECRBY", "min", "1"], over);
    assert_raw_err(&mut r, &["INCRBY", "min", "-1"], over);
    assert_reply!(r.cmd_str(&["GET", "max"]), R::bulk("9223372036854775807"));
    for bad in [
        "abc",
        "1.5",
        " 1",
        "1 ",
        "+1",
        "01",
        "",
        "12345678901234567890",
        "0x10",
    ] {
        let _ = r.cmd(&[b"SET", b"bad", bad.as_bytes()]);
        assert_raw_err(&mut r, &["INCR", "bad"], NOT_INT);
        assert_raw_err(&mut r, &["DECR", "bad"], NOT_INT);
        assert_raw_err(&mut r, &["INCRBY", "bad", "1"], NOT_INT);
        assert_reply!(
            r.cmd_str(&["GET", "bad"]),
            R::bulk(bad),
            "value {bad:?} must be unchanged"
        );
        assert_raw_err(&mut r, &["INCRBY", "n", bad], NOT_INT);
        assert_raw_err(&mut r, &["DECRBY", "n", bad], NOT_INT);
    }
    assert_reply!(r.cmd_str(&["GET", "n"]), R::bulk("-10"));
    assert_raw_err(&mut r, &["INCR"], &arity("incr"));
    assert_raw_err(&mut r, &["INCR", "a", "b"], &arity("incr"));
    assert_raw_err(&mut r, &["DECR"], &arity("decr"));
    assert_raw_err(&mut r, &["INCRBY", "n"], &arity("incrby"));
    assert_raw_err(&mut r, &["DECRBY", "n"], &arity("decrby"));
}

#[test]
fn incrbyfloat() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "f", "10.50"]);
    let v: String = q(&mut c, &["INCRBYFLOAT", "f", "0.1"]);
    assert_eq!(v, "10.6");
    let v: String = q(&mut c, &["INCRBYFLOAT", "f", "-5"]);
    assert_eq!(v, "5.6");
    let v: String = q(&mut c, &["INCRBYFLOAT", "nf", "1.5"]);
    assert_eq!(v, "1.5");
    let v: String = q(&mut c, &["INCRBYFLOAT", "nf", "0.25"]);
    assert_eq!(v, "1.75");
    let v: String = q(&mut c, &["GET", "nf"]);
    assert_eq!(v, "1.75");
    // Exponent forms; integral results print without a fraction.
    let _: () = q(&mut c, &["SET", "e", "5.0e3"]);
    let v: String = q(&mut c, &["INCRBYFLOAT", "e", "2.0e2"]);
    assert_eq!(v, "5200");
    let _: () = q(&mut c, &["SET", "i", "3"]);
    let v: String = q(&mut c, &["INCRBYFLOAT", "i", "0"]);
    assert_eq!(v, "3");
    let _: () = q(&mut c, &["SET", "neg", "10"]);
    let v: String = q(&mut c, &["INCRBYFLOAT", "neg", "-20.5"]);
    assert_eq!(v, "-10.5");
    // Plain INCR on the float result fails.
    let mut r = s.raw();
    assert_raw_err(&mut r, &["INCR", "neg"], NOT_INT);
    assert_eq!(
        r.cmd_bytes(&[b"INCRBYFLOAT", b"raw", b"2.5"]),
        b"$3\r\n2.5\r\n".to_vec()
    );
    for bad in ["abc", "", " 1", "1 ", "1.5.5"] {
        let _ = r.cmd(&[b"SET", b"bad", bad.as_bytes()]);
        assert_raw_err(&mut r, &["INCRBYFLOAT", "bad", "1"], NOT_FLOAT);
        assert_raw_err(&mut r, &["INCRBYFLOAT", "nf", bad], NOT_FLOAT);
    }
    assert_raw_err(&mut r, &["INCRBYFLOAT", "nf", "nan"], NOT_FLOAT);
    let inf = "ERR increment would produce NaN or Infinity";
    assert_raw_err(&mut r, &["INCRBYFLOAT", "nf", "inf"], inf);
    assert_raw_err(&mut r, &["INCRBYFLOAT", "nf", "-inf"], inf);
    assert_reply!(r.cmd_str(&["GET", "nf"]), R::bulk("1.75"));
    assert_raw_err(&mut r, &["INCRBYFLOAT", "nf"], &arity("incrbyfloat"));
    assert_raw_err(
        &mut r,
        &["INCRBYFLOAT", "nf", "1", "2"],
        &arity("incrbyfloat"),
    );
}

#[test]
fn getrange_setrange() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "k", "Hello World"]);
    let cases: &[(&str, &str, &str)] = &[
        ("0", "4", "Hello"),
        ("-5", "-1", "World"),
        ("-3", "-1", "rld"),
        ("0", "-1", "Hello World"),
        ("10", "100", "d"),
        ("5", "1", ""),
        ("-100", "2", "Hel"),
        ("20", "30", ""),
    ];
    for (a, b, want) in cases {
        let v: String = q(&mut c, &["GETRANGE", "k", a, b]);
        assert_eq!(&v, want, "GETRANGE k {a} {b}");
    }
    let v: String = q(&mut c, &["GETRANGE", "nokey", "0", "-1"]);
    assert_eq!(v, "");

    let n: i64 = q(&mut c, &["SETRANGE", "k", "6", "Redis"]);
    assert_eq!(n, 11);
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "Hello Redis");
    // Padding with zero bytes.
    let n: i64 = q(&mut c, &["SETRANGE", "pad", "5", "x"]);
    assert_eq!(n, 6);
    let v: Vec<u8> = redis::cmd("GET").arg("pad").query(&mut c).unwrap();
    assert_eq!(v, b"\0\0\0\0\0x".to_vec());
    // Extending past the end.
    let n: i64 = q(&mut c, &["SETRANGE", "k", "11", "!!"]);
    assert_eq!(n, 13);
    // Empty value on a missing key: no key created.
    let n: i64 = q(&mut c, &["SETRANGE", "none", "0", ""]);
    assert_eq!(n, 0);
    let e: i64 = q(&mut c, &["EXISTS", "none"]);
    assert_eq!(e, 0);
    // Empty value on an existing key: length returned, nothing changes.
    let n: i64 = q(&mut c, &["SETRANGE", "k", "100", ""]);
    assert_eq!(n, 13);

    let mut r = s.raw();
    assert_raw_err(
        &mut r,
        &["SETRANGE", "k", "-1", "x"],
        "ERR offset is out of range",
    );
    assert_raw_err(&mut r, &["SETRANGE", "k", "abc", "x"], NOT_INT);
    assert_raw_err(
        &mut r,
        &["SETRANGE", "k", "536870912", "x"],
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
    );
    assert_raw_err(&mut r, &["GETRANGE", "k", "a", "1"], NOT_INT);
    assert_raw_err(&mut r, &["GETRANGE", "k", "0"], &arity("getrange"));
    assert_raw_err(&mut r, &["SETRANGE", "k", "0"], &arity("setrange"));
    assert_eq!(
        r.cmd_bytes(&[b"GETRANGE", b"k", b"5", b"1"]),
        b"$0\r\n\r\n".to_vec()
    );
}

#[test]
fn get_arity_and_unknown_command() {
    let s = Server::under_test(&[]);
    let mut r = s.raw();
    assert_raw_err(&mut r, &["GET"], &arity("get"));
    assert_raw_err(&mut r, &["GET", "a", "b"], &arity("get"));
    // The command name in the error is lowercased whatever the case sent.
    assert_raw_err(&mut r, &["gEt"], &arity("get"));
    assert_eq!(
        r.cmd_bytes(&[b"GET"]),
        b"-ERR wrong number of arguments for 'get' command\r\n".to_vec()
    );
    // Still usable after errors.
    assert_reply!(r.cmd_str(&["SET", "a", "1"]), R::ok());
    assert_reply!(r.cmd_str(&["get", "a"]), R::bulk("1"));
}
