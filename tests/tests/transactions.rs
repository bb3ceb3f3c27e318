//! MULTI / EXEC / DISCARD / WATCH / UNWATCH: reply shapes and error strings
//! (checked byte for byte against stock redis-server 7.0), WATCH conflicts
//! and expiry, and atomicity of transactions whose keys live on both cores
//! under concurrent writers and readers. Also runs tests/py/pubsub_tx.py
//! (redis-py pubsub + transactional pipelines).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redcore_tests::*;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

/// Sends a command and asserts the exact bytes of its reply.
fn cmd_expect(r: &mut RawConn, args: &[&str], want: &[u8]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    let got = r.cmd_bytes(&a);
    assert_eq!(got, want, "command {args:?}\n  got:  {}\n  want: {}", show(&got), show(want));
}

/// CRC16-XMODEM (the Redis Cluster key hash).
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// The hash slot of a key (with `{hash tag}` support).
fn slot(key: &str) -> u16 {
    let k = key.as_bytes();
    let tagged = k.iter().position(|&c| c == b'{').and_then(|o| {
        k[o + 1..].iter().position(|&c| c == b'}').filter(|&l| l > 0).map(|l| &k[o + 1..o + 1 + l])
    });
    crc16(tagged.unwrap_or(k)) % 16384
}

/// The redcore core owning `key` with `--cores 2` (slots 0-8191 on core 0).
fn core_of(key: &str) -> usize {
    if slot(key) < 8192 {
        0
    } else {
        1
    }
}

/// Asserts that `keys` live on both cores (meaningful on redcore only; the
/// slot math is checked regardless, it does not depend on the server).
fn assert_span_both_cores(keys: &[String]) {
    let cores: Vec<usize> = keys.iter().map(|k| core_of(k)).collect();
    assert!(
        cores.contains(&0) && cores.contains(&1),
        "keys {keys:?} must live on both cores (cores {cores:?})"
    );
}

// ---------------------------------------------------------------------------
// Basics and error strings
// ---------------------------------------------------------------------------

#[test]
fn multi_exec_basic() {
    assert_eq!(crc16(b"123456789"), 0x31C3);
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["SET", "a", "1"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["INCR", "a"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["GET", "a"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["GET", "missing"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["RPUSH", "l", "x", "y"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["LRANGE", "l", "0", "-1"], b"+QUEUED\r\n");
    cmd_expect(
        &mut r,
        &["EXEC"],
        b"*6\r\n+OK\r\n:2\r\n$1\r\n2\r\n$-1\r\n:2\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n",
    );
    // Empty transaction.
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*0\r\n");
    // Keys on both cores and a multi-key command in one transaction.
    let keys: Vec<String> = (0..8).map(|i| format!("tk:{i}")).collect();
    assert_span_both_cores(&keys);
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    for (i, k) in keys.iter().enumerate() {
        cmd_expect(&mut r, &["SET", k, &i.to_string()], b"+QUEUED\r\n");
    }
    let mut mget = vec!["MGET"];
    mget.extend(keys.iter().map(|k| k.as_str()));
    cmd_expect(&mut r, &mget, b"+QUEUED\r\n");
    cmd_expect(&mut r, &["DBSIZE"], b"+QUEUED\r\n");
    let mut want = b"*10\r\n".to_vec();
    for _ in 0..8 {
        want.extend_from_slice(b"+OK\r\n");
    }
    want.extend_from_slice(b"*8\r\n");
    for i in 0..8 {
        want.extend_from_slice(format!("$1\r\n{i}\r\n").as_bytes());
    }
    want.extend_from_slice(b":10\r\n");
    cmd_expect(&mut r, &["EXEC"], &want);
    // RESP3: nulls and maps inside the EXEC array.
    let hello = r.cmd_str(&["HELLO", "3"]);
    assert!(matches!(hello, RawReply::Map(_)), "{hello}");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET", "missing"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["HGETALL", "missing"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*2\r\n_\r\n%0\r\n");

    // The redis crate's atomic pipeline.
    let mut c = s.conn();
    let (v, n): (String, i64) = redis::pipe()
        .atomic()
        .set("p", "x")
        .ignore()
        .get("p")
        .incr("pn", 5)
        .query(&mut c)
        .unwrap();
    assert_eq!((v.as_str(), n), ("x", 5));
}

#[test]
fn pipelined_transaction() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    // The whole transaction in one write: every reply, in order.
    let mut buf = Vec::new();
    for c in [
        &["MULTI"][..],
        &["SET", "pa", "1"],
        &["SET", "pb", "2"],
        &["MGET", "pa", "pb"],
        &["EXEC"],
        &["GET", "pa"],
    ] {
        buf.extend_from_slice(&encode_cmd(c));
    }
    r.send(&buf);
    let mut got = Vec::new();
    for _ in 0..6 {
        got.extend_from_slice(&r.read_raw_reply_bytes());
    }
    let want = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n+OK\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n";
    assert_eq!(got, want.to_vec(), "\n  got:  {}\n  want: {}", show(&got), show(want));
}

#[test]
fn discard_and_errors_outside_multi() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    cmd_expect(&mut r, &["EXEC"], b"-ERR EXEC without MULTI\r\n");
    cmd_expect(&mut r, &["DISCARD"], b"-ERR DISCARD without MULTI\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["SET", "d", "1"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["DISCARD"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET", "d"], b"$-1\r\n");
    cmd_expect(&mut r, &["EXEC"], b"-ERR EXEC without MULTI\r\n");
    cmd_expect(&mut r, &["DISCARD"], b"-ERR DISCARD without MULTI\r\n");
    // Arity of the transaction commands themselves (outside MULTI).
    cmd_expect(&mut r, &["MULTI", "x"], b"-ERR wrong number of arguments for 'multi' command\r\n");
    cmd_expect(&mut r, &["DISCARD", "x"], b"-ERR wrong number of arguments for 'discard' command\r\n");
    cmd_expect(&mut r, &["WATCH"], b"-ERR wrong number of arguments for 'watch' command\r\n");
    cmd_expect(&mut r, &["UNWATCH", "x"], b"-ERR wrong number of arguments for 'unwatch' command\r\n");
    cmd_expect(&mut r, &["PING"], b"+PONG\r\n");
}

#[test]
fn nested_multi_is_an_error_but_keeps_the_transaction() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"-ERR MULTI calls can not be nested\r\n");
    cmd_expect(&mut r, &["SET", "nm", "1"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*1\r\n+OK\r\n");
    cmd_expect(&mut r, &["GET", "nm"], b"$1\r\n1\r\n");
}

#[test]
fn execabort_after_queueing_errors() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    // Unknown command.
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["SET", "ea", "1"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["FOOBAR", "x"], b"-ERR unknown command 'FOOBAR', with args beginning with: 'x' \r\n");
    cmd_expect(&mut r, &["SET", "eb", "1"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    cmd_expect(&mut r, &["MGET", "ea", "eb"], b"*2\r\n$-1\r\n$-1\r\n");
    cmd_expect(&mut r, &["EXEC"], b"-ERR EXEC without MULTI\r\n");
    // Wrong arity.
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["SET", "ea", "1"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["GET"], b"-ERR wrong number of arguments for 'get' command\r\n");
    cmd_expect(&mut r, &["SET", "ea"], b"-ERR wrong number of arguments for 'set' command\r\n");
    cmd_expect(&mut r, &["EXEC"], b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    cmd_expect(&mut r, &["GET", "ea"], b"$-1\r\n");
    // Unknown command without arguments.
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["NOSUCH"], b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    cmd_expect(&mut r, &["EXEC"], b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    // DISCARD after a queueing error is fine.
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET"], b"-ERR wrong number of arguments for 'get' command\r\n");
    cmd_expect(&mut r, &["DISCARD"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*0\r\n");
}

#[test]
fn runtime_errors_inside_exec_do_not_abort_the_others() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["SET", "a", "x"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["INCR", "a"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["SET", "b", "2"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["LPUSH", "a", "z"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["GET", "b"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["SET", "c", "v", "EX", "0"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["INCRBY", "b", "3"], b"+QUEUED\r\n");
    cmd_expect(
        &mut r,
        &["EXEC"],
        b"*7\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$1\r\n2\r\n-ERR invalid expire time in 'set' command\r\n:5\r\n",
    );
    cmd_expect(&mut r, &["MGET", "a", "b", "c"], b"*3\r\n$1\r\nx\r\n$1\r\n5\r\n$-1\r\n");
}

// ---------------------------------------------------------------------------
// WATCH
// ---------------------------------------------------------------------------

#[test]
fn watch_conflict_from_another_connection_aborts() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    let mut other = s.raw();
    let keys: Vec<String> = (0..4).map(|i| format!("w:{i}")).collect();
    assert_span_both_cores(&keys);
    for k in &keys {
        cmd_expect(&mut r, &["SET", k, "orig"], b"+OK\r\n");
        cmd_expect(&mut r, &["WATCH", k], b"+OK\r\n");
        cmd_expect(&mut other, &["SET", k, "theirs"], b"+OK\r\n");
        cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
        cmd_expect(&mut r, &["SET", k, "mine"], b"+QUEUED\r\n");
        cmd_expect(&mut r, &["SET", "side-effect", k], b"+QUEUED\r\n");
        cmd_expect(&mut r, &["EXEC"], b"*-1\r\n");
        cmd_expect(&mut r, &["GET", k], b"$6\r\ntheirs\r\n");
        cmd_expect(&mut r, &["EXISTS", "side-effect"], b":0\r\n");
    }
    // Watching several keys on both cores: a change to any one aborts.
    let mut watch = vec!["WATCH"];
    watch.extend(keys.iter().map(|k| k.as_str()));
    for k in &keys {
        cmd_expect(&mut r, &watch, b"+OK\r\n");
        cmd_expect(&mut other, &["APPEND", k, "!"], &format!(":{}\r\n", r.cmd_str(&["STRLEN", k]).as_int().unwrap() + 1).into_bytes());
        cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
        cmd_expect(&mut r, &["INCR", "counter"], b"+QUEUED\r\n");
        cmd_expect(&mut r, &["EXEC"], b"*-1\r\n");
    }
    cmd_expect(&mut r, &["GET", "counter"], b"$-1\r\n");
    // A watched key that is deleted, or created, counts as changed.
    cmd_expect(&mut r, &["WATCH", "w:0", "w:new"], b"+OK\r\n");
    cmd_expect(&mut other, &["DEL", "w:0"], b":1\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["PING"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*-1\r\n");
    cmd_expect(&mut r, &["WATCH", "w:new"], b"+OK\r\n");
    cmd_expect(&mut other, &["SET", "w:new", "1"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["PING"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*-1\r\n");
    // FLUSHALL touches existing watched keys.
    cmd_expect(&mut r, &["WATCH", "w:1"], b"+OK\r\n");
    cmd_expect(&mut other, &["FLUSHALL"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["PING"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*-1\r\n");
    // A change made by the watcher itself (before MULTI) also aborts.
    cmd_expect(&mut r, &["WATCH", "w:2"], b"+OK\r\n");
    cmd_expect(&mut r, &["SET", "w:2", "self"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET", "w:2"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*-1\r\n");
    // RESP3: the aborted EXEC is a null.
    let hello = r.cmd_str(&["HELLO", "3"]);
    assert!(matches!(hello, RawReply::Map(_)), "{hello}");
    cmd_expect(&mut r, &["WATCH", "w:3"], b"+OK\r\n");
    cmd_expect(&mut other, &["SET", "w:3", "z"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET", "w:3"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"_\r\n");
}

#[test]
fn watch_key_that_expires_before_exec_aborts() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    let keys: Vec<String> = (0..4).map(|i| format!("exp:{i}")).collect();
    assert_span_both_cores(&keys);
    for k in &keys {
        cmd_expect(&mut r, &["SET", k, "v", "PX", "300"], b"+OK\r\n");
        cmd_expect(&mut r, &["WATCH", k], b"+OK\r\n");
        // Still alive when WATCHed (a key already expired at WATCH time would
        // not count as changed).
        let pttl = r.cmd_str(&["PTTL", k]).as_int().unwrap();
        assert!(pttl > 0, "{k} expired before WATCH returned (PTTL {pttl}); machine too slow?");
        std::thread::sleep(Duration::from_millis(pttl as u64 + 150));
        cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
        cmd_expect(&mut r, &["SET", "after-expiry", k], b"+QUEUED\r\n");
        cmd_expect(&mut r, &["EXEC"], b"*-1\r\n");
        cmd_expect(&mut r, &["EXISTS", "after-expiry", k], b":0\r\n");
    }
}

#[test]
fn watch_without_changes_succeeds() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    let mut other = s.raw();
    let keys: Vec<String> = (0..4).map(|i| format!("nc:{i}")).collect();
    assert_span_both_cores(&keys);
    for k in &keys {
        cmd_expect(&mut r, &["SET", k, "10"], b"+OK\r\n");
    }
    let mut watch = vec!["WATCH"];
    watch.extend(keys.iter().map(|k| k.as_str()));
    watch.push("nc:missing");
    cmd_expect(&mut r, &watch, b"+OK\r\n");
    // Reads, writes to other keys, and a no-op DEL of a missing watched key
    // are not changes.
    cmd_expect(&mut other, &["GET", &keys[0]], b"$2\r\n10\r\n");
    cmd_expect(&mut other, &["EXISTS", &keys[1], "nc:missing"], b":1\r\n");
    cmd_expect(&mut other, &["SET", "unrelated", "1"], b"+OK\r\n");
    cmd_expect(&mut other, &["DEL", "nc:missing"], b":0\r\n");
    // WATCHing again from another connection does not matter either.
    cmd_expect(&mut other, &["WATCH", &keys[2]], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    for k in &keys {
        cmd_expect(&mut r, &["INCR", k], b"+QUEUED\r\n");
    }
    cmd_expect(&mut r, &["EXEC"], b"*4\r\n:11\r\n:11\r\n:11\r\n:11\r\n");
    // EXEC forgot the watches: a later change does not abort the next one.
    cmd_expect(&mut other, &["SET", &keys[0], "x"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET", &keys[0]], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*1\r\n$1\r\nx\r\n");
    // The other connection's own watch is unaffected by ours and does see the change.
    cmd_expect(&mut other, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut other, &["GET", &keys[2]], b"+QUEUED\r\n");
    cmd_expect(&mut other, &["EXEC"], b"*-1\r\n");
}

#[test]
fn unwatch_and_discard_forget_watches() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    let mut other = s.raw();
    for k in ["u:0", "u:1", "u:2", "u:3"] {
        cmd_expect(&mut r, &["WATCH", k], b"+OK\r\n");
        cmd_expect(&mut r, &["UNWATCH"], b"+OK\r\n");
        cmd_expect(&mut other, &["SET", k, "theirs"], b"+OK\r\n");
        cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
        cmd_expect(&mut r, &["SET", k, "mine"], b"+QUEUED\r\n");
        cmd_expect(&mut r, &["EXEC"], b"*1\r\n+OK\r\n");
        cmd_expect(&mut r, &["GET", k], b"$4\r\nmine\r\n");
    }
    // DISCARD also unwatches.
    cmd_expect(&mut r, &["WATCH", "u:0"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["DISCARD"], b"+OK\r\n");
    cmd_expect(&mut other, &["SET", "u:0", "again"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET", "u:0"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*1\r\n$5\r\nagain\r\n");
    // UNWATCH with nothing watched.
    cmd_expect(&mut r, &["UNWATCH"], b"+OK\r\n");
    // An aborted EXEC also forgets the watches.
    cmd_expect(&mut r, &["WATCH", "u:1"], b"+OK\r\n");
    cmd_expect(&mut other, &["SET", "u:1", "x"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*-1\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET", "u:1"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*1\r\n$1\r\nx\r\n");
    // An EXECABORT forgets them too.
    cmd_expect(&mut r, &["WATCH", "u:2"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET"], b"-ERR wrong number of arguments for 'get' command\r\n");
    cmd_expect(&mut r, &["EXEC"], b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    cmd_expect(&mut other, &["SET", "u:2", "y"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET", "u:2"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*1\r\n$1\r\ny\r\n");
}

#[test]
fn watch_inside_multi_is_an_error() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    let mut other = s.raw();
    cmd_expect(&mut r, &["WATCH", "wi"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["WATCH", "other"], b"-ERR WATCH inside MULTI is not allowed\r\n");
    cmd_expect(&mut r, &["SET", "wi", "1"], b"+QUEUED\r\n");
    // The refused WATCH neither aborts the transaction nor watches "other".
    cmd_expect(&mut other, &["SET", "other", "x"], b"+OK\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*1\r\n+OK\r\n");
    // The watch taken before MULTI still counts.
    cmd_expect(&mut r, &["WATCH", "wi"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["WATCH", "wi"], b"-ERR WATCH inside MULTI is not allowed\r\n");
    cmd_expect(&mut other, &["SET", "wi", "2"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET", "wi"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*-1\r\n");
}

/// UNWATCH inside MULTI is queued like any other command (Redis 7.0): it
/// answers +QUEUED and does not cancel the watches EXEC checks.
#[test]
fn unwatch_inside_multi_is_queued() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    let mut other = s.raw();
    cmd_expect(&mut r, &["WATCH", "uw"], b"+OK\r\n");
    cmd_expect(&mut other, &["SET", "uw", "theirs"], b"+OK\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["UNWATCH"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["SET", "uw", "mine"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*-1\r\n");
    cmd_expect(&mut r, &["GET", "uw"], b"$6\r\ntheirs\r\n");
    // Without a conflict the queued UNWATCH runs and answers OK.
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["UNWATCH"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*1\r\n+OK\r\n");
}

/// Writes that come from another core, through multi-core commands or
/// another transaction, all count as changes to a watched key.
#[test]
fn watch_sees_every_kind_of_write() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    let mut other = s.raw();
    // "x" and "b" live on different cores.
    assert_ne!(core_of("x"), core_of("b"));
    // (name, setup commands, commands queued in MULTI)
    type Case<'a> = (&'a str, &'a [&'a [&'a str]], &'a [&'a [&'a str]]);
    let cases: &[Case] = &[
        ("EXPIRE", &[&["SET", "x", "1"]], &[&["EXPIRE", "x", "100"]]),
        ("PERSIST", &[&["SET", "x", "1", "EX", "100"]], &[&["PERSIST", "x"]]),
        ("RENAME into", &[&["SET", "x", "1"], &["SET", "b", "2"]], &[&["RENAME", "b", "x"]]),
        ("RENAME away", &[&["SET", "x", "1"]], &[&["RENAME", "x", "b"]]),
        ("MSET", &[&["SET", "x", "1"]], &[&["MSET", "b", "1", "x", "2"]]),
        ("DEL", &[&["SET", "x", "1"]], &[&["DEL", "b", "x"]]),
        ("SMOVE into", &[&["SADD", "b", "m"], &["SADD", "x", "n"]], &[&["SMOVE", "b", "x", "m"]]),
        ("LMOVE into", &[&["RPUSH", "b", "m"], &["RPUSH", "x", "n"]], &[&["LMOVE", "b", "x", "LEFT", "RIGHT"]]),
        ("COPY", &[&["SET", "b", "v"], &["SET", "x", "1"]], &[&["COPY", "b", "x", "REPLACE"]]),
        ("SUNIONSTORE", &[&["SADD", "b", "m"], &["SET", "x", "1"]], &[&["SUNIONSTORE", "x", "b"]]),
        ("SORT STORE", &[&["RPUSH", "b", "3", "1"], &["SET", "x", "1"]], &[&["SORT", "b", "STORE", "x"]]),
        ("transaction", &[&["SET", "x", "1"]], &[&["MULTI"], &["SET", "b", "1"], &["SET", "x", "2"], &["EXEC"]]),
        ("FLUSHDB", &[&["SET", "x", "1"]], &[&["FLUSHDB"]]),
        ("LPUSH creates", &[], &[&["LPUSH", "x", "1"]]),
        ("GETEX PERSIST", &[&["SET", "x", "1", "EX", "100"]], &[&["GETEX", "x", "PERSIST"]]),
        ("HDEL last field", &[&["HSET", "x", "f", "v"]], &[&["HDEL", "x", "f"]]),
        ("SET same value", &[&["SET", "x", "1"]], &[&["SET", "x", "1"]]),
    ];
    for (name, setup, ops) in cases {
        cmd_expect(&mut r, &["FLUSHALL"], b"+OK\r\n");
        for c in *setup {
            let rep = r.cmd_str(c);
            assert!(!rep.is_error(), "{name}: setup {c:?}: {rep}");
        }
        cmd_expect(&mut r, &["WATCH", "x"], b"+OK\r\n");
        for c in *ops {
            let rep = other.cmd_str(c);
            assert!(!rep.is_error(), "{name}: {c:?}: {rep}");
        }
        cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
        cmd_expect(&mut r, &["PING"], b"+QUEUED\r\n");
        let got = r.cmd_bytes(&[b"EXEC"]);
        assert_eq!(got, b"*-1\r\n".to_vec(), "{name}: EXEC should abort, got {}", show(&got));
    }
    // Reads do not count.
    let reads: &[&[&str]] = &[&["GET", "x"], &["EXISTS", "x"], &["TTL", "x"], &["TYPE", "x"], &["TOUCH", "x"], &["PERSIST", "x"], &["MGET", "b", "x"]];
    cmd_expect(&mut r, &["SET", "x", "1"], b"+OK\r\n");
    cmd_expect(&mut r, &["WATCH", "x"], b"+OK\r\n");
    for c in reads {
        let rep = other.cmd_str(c);
        assert!(!rep.is_error(), "{c:?}: {rep}");
    }
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["PING"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*1\r\n+PONG\r\n");
}

/// Blocking commands inside MULTI never block: they answer at once (null
/// when there is nothing to pop), also when their keys live on two cores.
#[test]
fn blocking_commands_inside_multi_do_not_block() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    // "b" and "x" live on different cores; "nolist" on the same core as "b".
    assert_ne!(core_of("b"), core_of("x"));
    cmd_expect(&mut r, &["RPUSH", "x", "1"], b":1\r\n");
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["BLPOP", "nolist", "0"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["BZPOPMIN", "nozset", "0"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["RPUSH", "b", "1", "2", "3"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["BLPOP", "b", "0"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["EXEC"], b"*4\r\n*-1\r\n*-1\r\n:3\r\n*2\r\n$1\r\nb\r\n$1\r\n1\r\n");
    // Keys on two cores.
    cmd_expect(&mut r, &["MULTI"], b"+OK\r\n");
    cmd_expect(&mut r, &["BLMOVE", "b", "x", "LEFT", "RIGHT", "0"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["BRPOPLPUSH", "b", "x", "0"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["BLMOVE", "b", "x", "LEFT", "RIGHT", "0"], b"+QUEUED\r\n");
    cmd_expect(&mut r, &["BLPOP", "nolist", "x", "0"], b"+QUEUED\r\n");
    cmd_expect(
        &mut r,
        &["EXEC"],
        b"*4\r\n$1\r\n2\r\n$1\r\n3\r\n$-1\r\n*2\r\n$1\r\nx\r\n$1\r\n3\r\n",
    );
    // x was [1]; BLMOVE appended 2, BRPOPLPUSH prepended 3, BLPOP took the 3.
    cmd_expect(&mut r, &["LRANGE", "x", "0", "-1"], b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
}

/// Node-wide commands (PUBLISH, PUBSUB, CLIENT LIST) queued in a transaction
/// whose keys live on one core, while other clients run commands that span
/// both cores: everything keeps making progress (no deadlock between the
/// transaction's gates and theirs).
#[test]
fn node_wide_commands_in_exec_alongside_cross_core_commands() {
    assert_ne!(core_of("b"), core_of("x"));
    let variants: &[&[&str]] = &[&["PUBLISH", "ch", "m"], &["PUBSUB", "NUMSUB", "ch"], &["CLIENT", "LIST"]];
    let mut failures = Vec::new();
    for variant in variants {
        let s = Server::under_test(&["--cores", "2"]);
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let progress = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)]);
        let mut handles = Vec::new();
        // Two transactions, one per core, each with the node-wide command
        // (raw sockets with a short read timeout: a stall fails fast).
        for (t, key) in ["x", "b"].iter().enumerate() {
            let mut c = s.raw();
            c.set_read_timeout(Duration::from_secs(3));
            let (stop, errors, progress) = (stop.clone(), errors.clone(), progress.clone());
            let mut tx: Vec<Vec<String>> = vec![vec!["MULTI".into()], vec!["INCR".into(), key.to_string()]];
            tx.push(variant.iter().map(|a| a.to_string()).collect());
            tx.push(vec!["EXEC".into()]);
            let bytes: Vec<u8> = tx.iter().flat_map(|c| encode_cmd(c)).collect();
            let key = key.to_string();
            handles.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    c.send(&bytes);
                    for _ in 0..tx.len() {
                        match c.try_read_reply() {
                            Ok(rep) if !rep.is_error() => {}
                            Ok(rep) => {
                                errors.lock().unwrap().push(format!("transaction on {key}: {rep}"));
                                return;
                            }
                            Err(e) => {
                                errors.lock().unwrap().push(format!("transaction on {key}: no reply in 3 s ({e})"));
                                return;
                            }
                        }
                    }
                    progress[t].fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        // A reader spanning both cores.
        {
            let mut c = s.raw();
            c.set_read_timeout(Duration::from_secs(3));
            let (stop, errors, progress) = (stop.clone(), errors.clone(), progress.clone());
            handles.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    c.send_cmd(&[b"MGET", b"b", b"x"]);
                    match c.try_read_reply() {
                        Ok(RawReply::Array(Some(_))) => {}
                        Ok(rep) => {
                            errors.lock().unwrap().push(format!("MGET b x: {rep}"));
                            return;
                        }
                        Err(e) => {
                            errors.lock().unwrap().push(format!("MGET b x: no reply in 3 s ({e})"));
                            return;
                        }
                    }
                    progress[2].fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        std::thread::sleep(Duration::from_millis(1000));
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            let _ = h.join();
        }
        let errs = errors.lock().unwrap().clone();
        let counts: Vec<usize> = progress.iter().map(|p| p.load(Ordering::Relaxed)).collect();
        eprintln!("{variant:?}: progress {counts:?}");
        if !errs.is_empty() || counts.contains(&0) {
            failures.push(format!("MULTI; INCR key; {}; EXEC: progress {counts:?}, errors {errs:?}", variant.join(" ")));
        }
    }
    assert!(failures.is_empty(), "stalled (deadlock?):\n{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// Atomicity under concurrency, keys on both cores
// ---------------------------------------------------------------------------

const ACCOUNTS: usize = 8;
const START_BALANCE: i64 = 1000;

fn accounts() -> Vec<String> {
    (0..ACCOUNTS).map(|i| format!("acct:{i}")).collect()
}

#[test]
fn transfers_are_atomic_across_cores() {
    let keys = accounts();
    let slots: Vec<u16> = keys.iter().map(|k| slot(k)).collect();
    eprintln!("account slots: {slots:?}");
    assert_span_both_cores(&keys);
    let s = Server::under_test(&["--cores", "2"]);
    {
        let mut c = s.conn();
        let mut p = redis::pipe();
        for k in &keys {
            p.set(k, START_BALANCE).ignore();
        }
        p.query::<()>(&mut c).unwrap();
    }
    let total = START_BALANCE * ACCOUNTS as i64;
    let stop = Arc::new(AtomicBool::new(false));
    let transfers = Arc::new(AtomicUsize::new(0));
    let tx_reads = Arc::new(AtomicUsize::new(0));
    let mget_reads = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();

    // Writers: MULTI; DECRBY acct:i n; INCRBY acct:j n; EXEC.
    for w in 0..2u64 {
        let (stop, transfers, keys) = (stop.clone(), transfers.clone(), keys.clone());
        let mut c = s.conn();
        handles.push(std::thread::spawn(move || {
            let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ (w + 1);
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            while !stop.load(Ordering::Relaxed) {
                let i = (next() % ACCOUNTS as u64) as usize;
                let j = (i + 1 + (next() % (ACCOUNTS as u64 - 1)) as usize) % ACCOUNTS;
                let n = (next() % 50 + 1) as i64;
                let (a, b): (i64, i64) = redis::pipe()
                    .atomic()
                    .decr(&keys[i], n)
                    .incr(&keys[j], n)
                    .query(&mut c)
                    .unwrap_or_else(|e| panic!("transfer {} -> {}: {e}", keys[i], keys[j]));
                let _ = (a, b);
                transfers.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Readers: MULTI; GET x8; EXEC — the sum is always the total.
    for _ in 0..2 {
        let (stop, reads, keys) = (stop.clone(), tx_reads.clone(), keys.clone());
        let mut c = s.conn();
        handles.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let mut p = redis::pipe();
                p.atomic();
                for k in &keys {
                    p.get(k);
                }
                let vals: Vec<i64> = p.query(&mut c).unwrap();
                assert_eq!(vals.len(), ACCOUNTS);
                let sum: i64 = vals.iter().sum();
                assert_eq!(sum, total, "MULTI/GET.../EXEC saw an intermediate state: {vals:?}");
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Reader: MGET of all accounts (atomic across cores as well).
    {
        let (stop, reads, keys) = (stop.clone(), mget_reads.clone(), keys.clone());
        let mut c = s.conn();
        handles.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let vals: Vec<i64> = redis::cmd("MGET").arg(&keys).query(&mut c).unwrap();
                let sum: i64 = vals.iter().sum();
                assert_eq!(sum, total, "MGET saw an intermediate state: {vals:?}");
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for h in handles {
        if let Err(e) = h.join() {
            failures.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            );
        }
    }
    assert!(failures.is_empty(), "worker threads failed:\n{}", failures.join("\n"));
    let (t, tr, mr) = (
        transfers.load(Ordering::Relaxed),
        tx_reads.load(Ordering::Relaxed),
        mget_reads.load(Ordering::Relaxed),
    );
    eprintln!("transfers: {t}, transactional reads: {tr}, MGET reads: {mr}");
    assert!(t > 0 && tr > 0 && mr > 0, "no progress: transfers {t}, reads {tr}, mget {mr}");
    let mut c = s.conn();
    let vals: Vec<i64> = redis::cmd("MGET").arg(&keys).query(&mut c).unwrap();
    assert_eq!(vals.iter().sum::<i64>(), total, "final balances {vals:?}");
}

/// Optimistic locking: concurrent WATCH/GET/MULTI/SET/EXEC increments of two
/// counters on different cores lose no update.
#[test]
fn watch_cas_increments_lose_no_update() {
    let (k0, k1) = ("cas:a".to_string(), "cas:b".to_string());
    let (c0, c1) = (core_of(&k0), core_of(&k1));
    let (k0, k1) = if c0 != c1 {
        (k0, k1)
    } else {
        // Pick a second key on the other core.
        let other = (0..100)
            .map(|i| format!("cas:{i}"))
            .find(|k| core_of(k) != c0)
            .unwrap();
        (k0, other)
    };
    assert_ne!(core_of(&k0), core_of(&k1));
    const THREADS: usize = 3;
    const PER_THREAD: usize = 40;
    let s = Server::under_test(&["--cores", "2"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let aborted = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let mut c = s.conn();
            let (k0, k1, aborted) = (k0.clone(), k1.clone(), aborted.clone());
            std::thread::spawn(move || {
                let mut done = 0;
                while done < PER_THREAD {
                    assert!(Instant::now() < deadline, "CAS loop did not finish in time ({done} done)");
                    let _: () = redis::cmd("WATCH").arg(&k0).arg(&k1).query(&mut c).unwrap();
                    let (a, b): (Option<i64>, Option<i64>) =
                        redis::cmd("MGET").arg(&k0).arg(&k1).query(&mut c).unwrap();
                    let (a, b) = (a.unwrap_or(0), b.unwrap_or(0));
                    assert_eq!(a, b, "counters diverged");
                    let res: Option<((), ())> = redis::pipe()
                        .atomic()
                        .set(&k0, a + 1)
                        .set(&k1, b + 1)
                        .query(&mut c)
                        .unwrap();
                    match res {
                        Some(_) => done += 1,
                        None => {
                            aborted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("CAS thread");
    }
    let mut c = s.conn();
    let (a, b): (i64, i64) = redis::cmd("MGET").arg(&k0).arg(&k1).query(&mut c).unwrap();
    eprintln!("CAS: {a} increments, {} aborted attempts", aborted.load(Ordering::Relaxed));
    assert_eq!((a, b), ((THREADS * PER_THREAD) as i64, (THREADS * PER_THREAD) as i64));
}

// ---------------------------------------------------------------------------
// redis-py: pubsub and transactional pipelines
// ---------------------------------------------------------------------------


#[test]
fn redis_py_pubsub_and_transactions() {
    let s = Server::under_test(&["--cores", "2"]);
    run_py_script("pubsub_tx.py", &[s.port.to_string()], "pubsub_tx OK", || s.log());
}
