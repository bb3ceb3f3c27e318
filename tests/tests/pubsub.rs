//! Pub/Sub: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE, PUBLISH / SPUBLISH, the
//! PUBSUB introspection commands, RESP2 subscribed mode and RESP3 pushes,
//! per-publisher ordering and the pubsub output-buffer limit.
//!
//! With `--cores 2` the subscribers are picked so that both cores have some
//! (checked with `CLIENT INFO`'s `core=` field on redcore): a PUBLISH must reach
//! the subscribers of every core. Every expected byte string below was checked
//! against stock redis-server 7.0 (run with `REDCORE_TEST_AGAINST=redis`).

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redcore_tests::*;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The core a connection lives on (redcore's `CLIENT INFO` field `core=`);
/// None on stock Redis.
fn client_core(r: &mut RawConn) -> Option<usize> {
    let rep = r.cmd_str(&["CLIENT", "INFO"]);
    let text = rep.as_str().unwrap_or_else(|| panic!("CLIENT INFO: {rep}"));
    text.split_whitespace()
        .find_map(|f| f.strip_prefix("core="))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("bad core= in {text}")))
}

/// `n` fresh connections (not yet subscribed). On redcore with 2 cores they
/// are chosen among kernel-spread connections so that each core gets `n / 2`
/// (connections are assigned by SO_REUSEPORT hashing; extra ones are closed),
/// and the test asserts both cores are represented.
fn spread_conns(s: &Server, n: usize) -> Vec<RawConn> {
    assert!(n >= 6);
    if !s.is_redcore() {
        return (0..n).map(|_| s.raw()).collect();
    }
    let per_core = n / 2;
    let mut by_core: Vec<Vec<RawConn>> = vec![Vec::new(), Vec::new()];
    for _ in 0..400 {
        if by_core.iter().all(|v| v.len() >= per_core) {
            break;
        }
        let mut c = s.raw();
        let core = client_core(&mut c).expect("redcore CLIENT INFO has core=");
        assert!(core < 2, "core={core} with --cores 2");
        if by_core[core].len() < per_core {
            by_core[core].push(c);
        }
    }
    let counts: Vec<usize> = by_core.iter().map(|v| v.len()).collect();
    assert!(
        counts.iter().all(|&c| c >= 1),
        "subscribers must live on both cores, got per-core counts {counts:?}"
    );
    let mut out: Vec<RawConn> = by_core.into_iter().flatten().collect();
    // Top up (only if one core was unlucky for 400 connections).
    while out.len() < n {
        out.push(s.raw());
    }
    out
}

/// RESP2 frame `*N` of bulk strings / integers, as bytes.
fn frame(parts: &[Part]) -> Vec<u8> {
    frame_with(b'*', parts)
}

/// RESP3 push frame `>N`.
fn push(parts: &[Part]) -> Vec<u8> {
    frame_with(b'>', parts)
}

enum Part<'a> {
    B(&'a str),
    I(i64),
    /// Null bulk (`$-1` in RESP2, `_` in RESP3).
    Nil,
}
use Part::{Nil, B, I};

fn frame_with(t: u8, parts: &[Part]) -> Vec<u8> {
    let mut out = vec![t];
    out.extend_from_slice(format!("{}\r\n", parts.len()).as_bytes());
    for p in parts {
        match p {
            B(s) => out.extend_from_slice(format!("${}\r\n{}\r\n", s.len(), s).as_bytes()),
            I(i) => out.extend_from_slice(format!(":{i}\r\n").as_bytes()),
            Nil if t == b'>' => out.extend_from_slice(b"_\r\n"),
            Nil => out.extend_from_slice(b"$-1\r\n"),
        }
    }
    out
}

fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

/// Reads one frame and asserts its exact bytes.
fn expect_frame(r: &mut RawConn, want: &[u8], ctx: &str) {
    let got = r.read_raw_reply_bytes();
    assert_eq!(got, want, "{ctx}\n  got:  {}\n  want: {}", show(&got), show(want));
}

/// Sends a command and asserts the exact bytes of the next frame.
fn cmd_expect(r: &mut RawConn, args: &[&str], want: &[u8]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    r.send_cmd(&a);
    expect_frame(r, want, &format!("command {args:?}"));
}

fn int(r: &mut RawConn, args: &[&str]) -> i64 {
    let rep = r.cmd_str(args);
    rep.as_int().unwrap_or_else(|| panic!("{args:?}: expected an integer, got {rep}"))
}

/// `PUBSUB NUMSUB`-style flat [name, n, name, n...] reply as pairs.
fn pairs(rep: &RawReply) -> Vec<(String, i64)> {
    let items = rep.items().unwrap_or_else(|| panic!("not an array: {rep}"));
    items
        .chunks(2)
        .map(|p| (p[0].as_str().expect("name"), p[1].as_int().expect("count")))
        .collect()
}

fn sorted_strings(rep: &RawReply) -> Vec<String> {
    let mut v: Vec<String> = rep
        .items()
        .unwrap_or_else(|| panic!("not an array: {rep}"))
        .iter()
        .map(|x| x.as_str().expect("string element"))
        .collect();
    v.sort();
    v
}

/// Sends `cmds` pipelined in one write.
fn send_pipeline(r: &mut RawConn, cmds: &[Vec<String>]) {
    let mut buf = Vec::new();
    for c in cmds {
        buf.extend_from_slice(&encode_cmd(c));
    }
    r.send(&buf);
}

// ---------------------------------------------------------------------------
// Subscriptions and delivery
// ---------------------------------------------------------------------------

#[test]
fn subscribe_psubscribe_publish_reach_every_core() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut subs = spread_conns(&s, 8);
    let mut publ = s.raw();

    // Every subscriber: SUBSCRIBE news; the even ones also PSUBSCRIBE n*.
    for (i, r) in subs.iter_mut().enumerate() {
        cmd_expect(r, &["SUBSCRIBE", "news"], &frame(&[B("subscribe"), B("news"), I(1)]));
        if i % 2 == 0 {
            cmd_expect(r, &["PSUBSCRIBE", "n*"], &frame(&[B("psubscribe"), B("n*"), I(2)]));
        }
    }
    // Several channels in one SUBSCRIBE: one confirmation each, counting up.
    let mut multi = s.raw();
    multi.send_cmd(&[b"SUBSCRIBE", b"c1", b"c2", b"c3"]);
    for (i, ch) in ["c1", "c2", "c3"].iter().enumerate() {
        expect_frame(&mut multi, &frame(&[B("subscribe"), B(ch), I(i as i64 + 1)]), "SUBSCRIBE c1 c2 c3");
    }
    // Subscribing twice to the same channel keeps the count.
    cmd_expect(&mut multi, &["SUBSCRIBE", "c1"], &frame(&[B("subscribe"), B("c1"), I(3)]));

    // PUBLISH answers the number of receivers: 8 channel + 4 pattern subscriptions.
    assert_eq!(int(&mut publ, &["PUBLISH", "news", "hello"]), 12);
    for (i, r) in subs.iter_mut().enumerate() {
        expect_frame(r, &frame(&[B("message"), B("news"), B("hello")]), &format!("subscriber {i}"));
        if i % 2 == 0 {
            expect_frame(r, &frame(&[B("pmessage"), B("n*"), B("news"), B("hello")]), &format!("subscriber {i} (pattern)"));
        }
    }
    // Pattern-only match; no match at all.
    assert_eq!(int(&mut publ, &["PUBLISH", "nx", "p"]), 4);
    assert_eq!(int(&mut publ, &["PUBLISH", "other", "x"]), 0);
    for (i, r) in subs.iter_mut().enumerate().filter(|(i, _)| i % 2 == 0) {
        expect_frame(r, &frame(&[B("pmessage"), B("n*"), B("nx"), B("p")]), &format!("subscriber {i}"));
    }
    assert_eq!(int(&mut publ, &["PUBLISH", "c2", "to-multi"]), 1);
    expect_frame(&mut multi, &frame(&[B("message"), B("c2"), B("to-multi")]), "c2 subscriber");
    // Binary-safe payloads.
    let payload: Vec<u8> = (0u8..=255).collect();
    publ.send_cmd(&[b"PUBLISH", b"c3", &payload]);
    assert_eq!(publ.read_reply(), RawReply::Int(1));
    match multi.read_reply() {
        RawReply::Array(Some(v)) => {
            assert_eq!(v[0], RawReply::bulk("message"));
            assert_eq!(v[1], RawReply::bulk("c3"));
            assert_eq!(v[2], RawReply::Bulk(Some(payload.clone())));
        }
        other => panic!("binary message: {other}"),
    }

    // Introspection sums over the cores; NUMPAT counts distinct patterns
    // (the same pattern is subscribed on both cores).
    assert_eq!(
        pairs(&publ.cmd_str(&["PUBSUB", "NUMSUB", "news", "c1", "nothing"])),
        vec![("news".into(), 8), ("c1".into(), 1), ("nothing".into(), 0)]
    );
    assert_reply!(publ.cmd_str(&["PUBSUB", "NUMSUB"]), RawReply::arr(vec![]));
    assert_eq!(int(&mut publ, &["PUBSUB", "NUMPAT"]), 1);
    assert_eq!(sorted_strings(&publ.cmd_str(&["PUBSUB", "CHANNELS"])), vec!["c1", "c2", "c3", "news"]);
    assert_eq!(sorted_strings(&publ.cmd_str(&["PUBSUB", "CHANNELS", "c*"])), vec!["c1", "c2", "c3"]);
    assert_eq!(sorted_strings(&publ.cmd_str(&["PUBSUB", "CHANNELS", "x*"])), Vec::<String>::new());

    // A subscriber that goes away no longer counts.
    drop(multi);
    assert!(
        wait_until(Duration::from_secs(5), || int(&mut publ, &["PUBLISH", "c1", "x"]) == 0),
        "closed subscriber still counted"
    );
    assert!(wait_until(Duration::from_secs(5), || {
        pairs(&publ.cmd_str(&["PUBSUB", "NUMSUB", "c1"])) == vec![("c1".to_string(), 0)]
    }));
}

#[test]
fn publish_order_is_preserved_per_publisher() {
    const N: usize = 1000;
    let s = Server::under_test(&["--cores", "2"]);
    let mut subs = spread_conns(&s, 6);
    for r in subs.iter_mut() {
        cmd_expect(r, &["SUBSCRIBE", "seq"], &frame(&[B("subscribe"), B("seq"), I(1)]));
    }
    let nsubs = subs.len() as i64;
    // Two publishers (likely on different cores), each pipelining batches.
    let publishers: Vec<_> = ["A", "B"]
        .iter()
        .map(|name| {
            let mut p = s.raw();
            let name = name.to_string();
            std::thread::spawn(move || {
                for batch in 0..N / 100 {
                    let cmds: Vec<Vec<String>> = (batch * 100..(batch + 1) * 100)
                        .map(|i| vec!["PUBLISH".into(), "seq".into(), format!("{name}:{i}")])
                        .collect();
                    send_pipeline(&mut p, &cmds);
                    for i in batch * 100..(batch + 1) * 100 {
                        let rep = p.read_reply();
                        assert_eq!(rep, RawReply::Int(nsubs), "publisher {name}, message {i}");
                    }
                }
            })
        })
        .collect();
    for p in publishers {
        p.join().expect("publisher thread");
    }
    for (k, r) in subs.iter_mut().enumerate() {
        let mut next = [0usize; 2];
        for m in 0..2 * N {
            let rep = r.read_reply();
            let items = rep.items().unwrap_or_else(|| panic!("subscriber {k}, frame {m}: {rep}"));
            assert_eq!(items.len(), 3, "subscriber {k}: {rep}");
            assert_eq!(items[0], RawReply::bulk("message"));
            assert_eq!(items[1], RawReply::bulk("seq"));
            let text = items[2].as_str().unwrap();
            let (who, n) = text.split_once(':').unwrap();
            let slot = if who == "A" { 0 } else { 1 };
            let n: usize = n.parse().unwrap();
            assert_eq!(n, next[slot], "subscriber {k}: publisher {who} out of order (got {n}, expected {})", next[slot]);
            next[slot] += 1;
        }
        assert_eq!(next, [N, N], "subscriber {k}");
        // Nothing else is queued: the next frame answers our PING.
        cmd_expect(r, &["PING", "end"], &frame(&[B("pong"), B("end")]));
    }
}

#[test]
fn unsubscribe_and_punsubscribe() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    let mut publ = s.raw();
    r.send_cmd(&[b"SUBSCRIBE", b"a", b"b", b"c"]);
    for (i, ch) in ["a", "b", "c"].iter().enumerate() {
        expect_frame(&mut r, &frame(&[B("subscribe"), B(ch), I(i as i64 + 1)]), "SUBSCRIBE");
    }
    r.send_cmd(&[b"PSUBSCRIBE", b"p1*", b"p2*"]);
    expect_frame(&mut r, &frame(&[B("psubscribe"), B("p1*"), I(4)]), "PSUBSCRIBE");
    expect_frame(&mut r, &frame(&[B("psubscribe"), B("p2*"), I(5)]), "PSUBSCRIBE");

    // Unsubscribing from a channel we do not have keeps the count.
    cmd_expect(&mut r, &["UNSUBSCRIBE", "zz"], &frame(&[B("unsubscribe"), B("zz"), I(5)]));
    cmd_expect(&mut r, &["UNSUBSCRIBE", "b"], &frame(&[B("unsubscribe"), B("b"), I(4)]));
    assert_eq!(int(&mut publ, &["PUBLISH", "b", "x"]), 0);

    // UNSUBSCRIBE with no argument: one frame per remaining channel (any
    // order), the count going down; patterns stay.
    r.send_cmd(&[b"UNSUBSCRIBE"]);
    let mut names = Vec::new();
    for want_count in [3, 2] {
        let rep = r.read_reply();
        let items = rep.items().unwrap_or_else(|| panic!("{rep}")).to_vec();
        assert_eq!(items.len(), 3, "{rep}");
        assert_eq!(items[0], RawReply::bulk("unsubscribe"), "{rep}");
        assert_eq!(items[2], RawReply::Int(want_count), "{rep}");
        names.push(items[1].as_str().unwrap());
    }
    names.sort();
    assert_eq!(names, vec!["a", "c"]);
    assert_eq!(int(&mut publ, &["PUBLISH", "a", "x"]), 0);
    assert_eq!(int(&mut publ, &["PUBLISH", "p1x", "x"]), 1);
    expect_frame(&mut r, &frame(&[B("pmessage"), B("p1*"), B("p1x"), B("x")]), "pattern still active");

    cmd_expect(&mut r, &["PUNSUBSCRIBE", "p1*"], &frame(&[B("punsubscribe"), B("p1*"), I(1)]));
    cmd_expect(&mut r, &["PUNSUBSCRIBE"], &frame(&[B("punsubscribe"), B("p2*"), I(0)]));
    assert_eq!(int(&mut publ, &["PUBLISH", "p2x", "x"]), 0);
    assert_eq!(int(&mut publ, &["PUBSUB", "NUMPAT"]), 0);

    // Nothing subscribed any more: the null-name frames, and normal mode again.
    cmd_expect(&mut r, &["UNSUBSCRIBE"], b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    cmd_expect(&mut r, &["PUNSUBSCRIBE"], b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
    cmd_expect(&mut r, &["SUNSUBSCRIBE"], b"*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n");
    cmd_expect(&mut r, &["PING"], b"+PONG\r\n");
    cmd_expect(&mut r, &["SET", "k", "v"], b"+OK\r\n");
    cmd_expect(&mut r, &["GET", "k"], b"$1\r\nv\r\n");
    // A fresh connection that never subscribed gets the same null frame.
    let mut fresh = s.raw();
    cmd_expect(&mut fresh, &["UNSUBSCRIBE"], b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    cmd_expect(&mut fresh, &["PING"], b"+PONG\r\n");
    assert_reply!(publ.cmd_str(&["PUBSUB", "CHANNELS"]), RawReply::arr(vec![]));
}

#[test]
fn sharded_pubsub() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut subs = spread_conns(&s, 6);
    let mut publ = s.raw();
    // subs[0] lives on one core and subs[5] on the other (on redcore).
    cmd_expect(&mut subs[0], &["SSUBSCRIBE", "s1"], &frame(&[B("ssubscribe"), B("s1"), I(1)]));
    subs[5].send_cmd(&[b"SSUBSCRIBE", b"s1", b"s2"]);
    expect_frame(&mut subs[5], &frame(&[B("ssubscribe"), B("s1"), I(1)]), "SSUBSCRIBE s1 s2");
    expect_frame(&mut subs[5], &frame(&[B("ssubscribe"), B("s2"), I(2)]), "SSUBSCRIBE s1 s2");
    // Shard-channel counts are separate from channel + pattern counts.
    cmd_expect(&mut subs[1], &["SUBSCRIBE", "s1", "x"], &frame(&[B("subscribe"), B("s1"), I(1)]));
    expect_frame(&mut subs[1], &frame(&[B("subscribe"), B("x"), I(2)]), "SUBSCRIBE s1 x");
    cmd_expect(&mut subs[1], &["SSUBSCRIBE", "s3"], &frame(&[B("ssubscribe"), B("s3"), I(1)]));

    // SPUBLISH reaches shard subscribers only; PUBLISH channel subscribers only.
    assert_eq!(int(&mut publ, &["SPUBLISH", "s1", "m1"]), 2);
    expect_frame(&mut subs[0], &frame(&[B("smessage"), B("s1"), B("m1")]), "sub 0");
    expect_frame(&mut subs[5], &frame(&[B("smessage"), B("s1"), B("m1")]), "sub 5");
    assert_eq!(int(&mut publ, &["PUBLISH", "s1", "m2"]), 1);
    expect_frame(&mut subs[1], &frame(&[B("message"), B("s1"), B("m2")]), "sub 1");
    assert_eq!(int(&mut publ, &["SPUBLISH", "s2", "m3"]), 1);
    expect_frame(&mut subs[5], &frame(&[B("smessage"), B("s2"), B("m3")]), "sub 5");
    assert_eq!(int(&mut publ, &["SPUBLISH", "nobody", "m"]), 0);

    assert_eq!(sorted_strings(&publ.cmd_str(&["PUBSUB", "SHARDCHANNELS"])), vec!["s1", "s2", "s3"]);
    assert_eq!(sorted_strings(&publ.cmd_str(&["PUBSUB", "SHARDCHANNELS", "s[12]"])), vec!["s1", "s2"]);
    assert_eq!(sorted_strings(&publ.cmd_str(&["PUBSUB", "CHANNELS"])), vec!["s1", "x"]);
    assert_eq!(
        pairs(&publ.cmd_str(&["PUBSUB", "SHARDNUMSUB", "s1", "s2", "s9"])),
        vec![("s1".into(), 2), ("s2".into(), 1), ("s9".into(), 0)]
    );
    assert_eq!(pairs(&publ.cmd_str(&["PUBSUB", "NUMSUB", "s1"])), vec![("s1".into(), 1)]);

    // SUNSUBSCRIBE one, then all; the null frame when none is left.
    cmd_expect(&mut subs[5], &["SUNSUBSCRIBE", "s1"], &frame(&[B("sunsubscribe"), B("s1"), I(1)]));
    cmd_expect(&mut subs[5], &["SUNSUBSCRIBE"], &frame(&[B("sunsubscribe"), B("s2"), I(0)]));
    cmd_expect(&mut subs[5], &["SUNSUBSCRIBE"], b"*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n");
    cmd_expect(&mut subs[5], &["PING"], b"+PONG\r\n");
    assert_eq!(int(&mut publ, &["SPUBLISH", "s1", "m4"]), 1);
    expect_frame(&mut subs[0], &frame(&[B("smessage"), B("s1"), B("m4")]), "sub 0");
    // subs[1] drops its shard channel but keeps its channels (still subscribed).
    cmd_expect(&mut subs[1], &["SUNSUBSCRIBE"], &frame(&[B("sunsubscribe"), B("s3"), I(0)]));
    cmd_expect(&mut subs[1], &["PING"], &frame(&[B("pong"), B("")]));
    assert_eq!(
        pairs(&publ.cmd_str(&["PUBSUB", "SHARDNUMSUB", "s1", "s2", "s3"])),
        vec![("s1".into(), 1), ("s2".into(), 0), ("s3".into(), 0)]
    );
}

// ---------------------------------------------------------------------------
// Subscribed mode (RESP2) and pushes (RESP3)
// ---------------------------------------------------------------------------

#[test]
fn resp2_subscribed_mode_allows_only_pubsub_commands() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    cmd_expect(&mut r, &["SUBSCRIBE", "ch"], &frame(&[B("subscribe"), B("ch"), I(1)]));
    for (cmd, name) in [(&["GET", "k"][..], "get"), (&["SET", "k", "v"][..], "set"), (&["PUBLISH", "ch", "m"][..], "publish")] {
        cmd_expect(
            &mut r,
            cmd,
            format!(
                "-ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
            )
            .as_bytes(),
        );
    }
    // PING answers as a message-like array.
    cmd_expect(&mut r, &["PING"], b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    cmd_expect(&mut r, &["PING", "hi"], b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    // Still subscribed after the refusals.
    let mut publ = s.raw();
    assert_eq!(int(&mut publ, &["PUBLISH", "ch", "still"]), 1);
    expect_frame(&mut r, &frame(&[B("message"), B("ch"), B("still")]), "after refusals");
    // Shard subscriptions alone also put the connection in subscribed mode.
    let mut r2 = s.raw();
    cmd_expect(&mut r2, &["SSUBSCRIBE", "sc"], &frame(&[B("ssubscribe"), B("sc"), I(1)]));
    cmd_expect(
        &mut r2,
        &["GET", "k"],
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    // QUIT works and closes.
    cmd_expect(&mut r, &["QUIT"], b"+OK\r\n");
    assert!(r.is_closed(), "QUIT in subscribed mode must close the connection");
    assert!(wait_until(Duration::from_secs(5), || int(&mut publ, &["PUBLISH", "ch", "x"]) == 0));
}

#[test]
fn resp3_pushes_and_commands_while_subscribed() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut subs = spread_conns(&s, 6);
    let mut publ = s.raw();
    // Two RESP3 subscribers, on different cores (redcore).
    for i in [0, 5] {
        let r = &mut subs[i];
        let hello = r.cmd_str(&["HELLO", "3"]);
        assert!(matches!(hello, RawReply::Map(_)), "HELLO 3: {hello}");
        cmd_expect(r, &["SUBSCRIBE", "ch"], &push(&[B("subscribe"), B("ch"), I(1)]));
        // Any command is allowed while subscribed in RESP3.
        cmd_expect(r, &["SET", &format!("k{i}"), "v"], b"+OK\r\n");
        cmd_expect(r, &["GET", &format!("k{i}")], b"$1\r\nv\r\n");
        cmd_expect(r, &["PING"], b"+PONG\r\n");
        cmd_expect(r, &["PING", "x"], b"$1\r\nx\r\n");
        cmd_expect(r, &["PSUBSCRIBE", "c*"], &push(&[B("psubscribe"), B("c*"), I(2)]));
        cmd_expect(r, &["PUBSUB", "NUMPAT"], b":1\r\n");
    }
    assert_eq!(int(&mut publ, &["PUBLISH", "ch", "hello"]), 4);
    for i in [0, 5] {
        expect_frame(&mut subs[i], &push(&[B("message"), B("ch"), B("hello")]), &format!("sub {i}"));
        expect_frame(&mut subs[i], &push(&[B("pmessage"), B("c*"), B("ch"), B("hello")]), &format!("sub {i}"));
    }
    // A command's reply and the pushes both arrive, intact.
    subs[0].send_cmd(&[b"GET", b"k0"]);
    assert_eq!(subs[0].read_reply(), RawReply::bulk("v"));
    assert_eq!(int(&mut publ, &["PUBLISH", "cx", "m"]), 2);
    expect_frame(&mut subs[5], &push(&[B("pmessage"), B("c*"), B("cx"), B("m")]), "sub 5");
    expect_frame(&mut subs[0], &push(&[B("pmessage"), B("c*"), B("cx"), B("m")]), "sub 0");

    let r = &mut subs[0];
    cmd_expect(r, &["UNSUBSCRIBE"], &push(&[B("unsubscribe"), B("ch"), I(1)]));
    cmd_expect(r, &["PUNSUBSCRIBE"], &push(&[B("punsubscribe"), B("c*"), I(0)]));
    cmd_expect(r, &["UNSUBSCRIBE"], &push(&[B("unsubscribe"), Nil, I(0)]));
    cmd_expect(r, &["UNSUBSCRIBE"], b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
    cmd_expect(r, &["SSUBSCRIBE", "s"], &push(&[B("ssubscribe"), B("s"), I(1)]));
    assert_eq!(int(&mut publ, &["SPUBLISH", "s", "sm"]), 1);
    expect_frame(r, &push(&[B("smessage"), B("s"), B("sm")]), "smessage push");
}

/// A RESP3 client may run a blocking command while subscribed; messages
/// published meanwhile are pushed at once, not held until the command ends.
#[test]
fn resp3_push_reaches_a_client_blocked_in_blpop() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    let mut publ = s.raw();
    let hello = r.cmd_str(&["HELLO", "3"]);
    assert!(matches!(hello, RawReply::Map(_)), "HELLO 3: {hello}");
    cmd_expect(&mut r, &["SUBSCRIBE", "ch"], &push(&[B("subscribe"), B("ch"), I(1)]));
    r.send_cmd(&[b"BLPOP", b"blocked-list", b"5"]);
    // Wait until the server sees the client blocked (bounded).
    assert!(
        wait_until(Duration::from_secs(5), || {
            let info = publ.cmd_str(&["INFO", "clients"]).as_str().unwrap_or_default();
            info.lines().any(|l| l.trim() == "blocked_clients:1")
        }),
        "client never reported as blocked"
    );
    assert_eq!(int(&mut publ, &["PUBLISH", "ch", "while-blocked"]), 1);
    r.set_read_timeout(Duration::from_secs(2));
    let got = r.try_read_reply_with_bytes();
    let want = push(&[B("message"), B("ch"), B("while-blocked")]);
    match got {
        Ok((_, bytes)) => assert_eq!(bytes, want, "\n  got:  {}\n  want: {}", show(&bytes), show(&want)),
        Err(e) => panic!("no push within 2 s while the client is blocked in BLPOP ({e})"),
    }
    // Unblock: the BLPOP reply follows.
    r.set_read_timeout(Duration::from_secs(10));
    assert_eq!(int(&mut publ, &["RPUSH", "blocked-list", "v"]), 1);
    expect_frame(&mut r, b"*2\r\n$12\r\nblocked-list\r\n$1\r\nv\r\n", "BLPOP reply");
}

/// The `redis` crate's blocking PubSub API.
#[test]
fn redis_crate_pubsub() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut pc = s.conn();
    let mut publ = s.conn();
    let mut ps = pc.as_pubsub();
    ps.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    ps.subscribe("rc").unwrap();
    ps.psubscribe("r*").unwrap();
    let n: i64 = q(&mut publ, &["PUBLISH", "rc", "payload"]);
    assert_eq!(n, 2);
    let m1 = ps.get_message().unwrap();
    assert_eq!(m1.get_channel_name(), "rc");
    assert!(!m1.from_pattern());
    assert_eq!(m1.get_payload::<String>().unwrap(), "payload");
    let m2 = ps.get_message().unwrap();
    assert!(m2.from_pattern());
    assert_eq!(m2.get_pattern::<String>().unwrap(), "r*");
    assert_eq!(m2.get_channel_name(), "rc");
    assert_eq!(m2.get_payload::<String>().unwrap(), "payload");
    ps.unsubscribe("rc").unwrap();
    ps.punsubscribe("r*").unwrap();
    drop(ps);
    let n: i64 = q(&mut publ, &["PUBLISH", "rc", "payload"]);
    assert_eq!(n, 0);
    // The connection is usable for commands again.
    let _: () = q(&mut pc, &["SET", "after", "1"]);
    let v: String = q(&mut pc, &["GET", "after"]);
    assert_eq!(v, "1");
}

// ---------------------------------------------------------------------------
// Output-buffer limit for slow subscribers
// ---------------------------------------------------------------------------

/// Whether the id appears in CLIENT LIST.
fn client_listed(r: &mut RawConn, id: i64) -> bool {
    let rep = r.cmd_str(&["CLIENT", "LIST"]);
    let text = rep.as_str().unwrap_or_else(|| panic!("CLIENT LIST: {rep}"));
    text.lines().any(|l| l.starts_with(&format!("id={id} ")))
}

/// Reads `n` messages of `size` bytes numbered 0.. in order, publishing
/// progress in `received`.
fn read_big_messages(r: &mut RawConn, n: usize, size: usize, received: &AtomicUsize) -> Result<usize, String> {
    for i in 0..n {
        let rep = r.try_read_reply().map_err(|e| format!("fast subscriber, message {i}: {e}"))?;
        let items = rep.items().ok_or_else(|| format!("message {i}: {rep}"))?;
        let body = items
            .get(2)
            .and_then(|b| b.as_bytes())
            .ok_or_else(|| format!("message {i}: bad frame"))?;
        if body.len() != size || body[..6] != *format!("{i:06}").as_bytes() {
            return Err(format!(
                "message {i}: got {:?}... ({} bytes)",
                String::from_utf8_lossy(&body[..body.len().min(6)]),
                body.len()
            ));
        }
        received.store(i + 1, Ordering::Release);
    }
    Ok(n)
}

#[test]
fn slow_subscriber_is_disconnected_fast_one_gets_everything() {
    const N: usize = 2000;
    const SIZE: usize = 10 * 1024;
    const BATCH: usize = 20;
    let cfg_dir = data_dir();
    let s = if is_redcore() {
        let cfg = cfg_dir.join("pubsub-limits.toml");
        std::fs::write(
            &cfg,
            "client-output-buffer-limit-pubsub-hard = \"1mb\"\n\
             client-output-buffer-limit-pubsub-soft = \"512kb\"\n\
             client-output-buffer-limit-pubsub-soft-seconds = 1\n",
        )
        .unwrap();
        Server::redcore(&["--cores", "2", "--config", cfg.to_str().unwrap()])
    } else {
        Server::redis(&["--client-output-buffer-limit", "pubsub 1mb 512kb 1"])
    };

    let mut slow = s.raw();
    let slow_id = int(&mut slow, &["CLIENT", "ID"]);
    cmd_expect(&mut slow, &["SUBSCRIBE", "big"], &frame(&[B("subscribe"), B("big"), I(1)]));
    let mut fast = s.raw();
    cmd_expect(&mut fast, &["SUBSCRIBE", "big"], &frame(&[B("subscribe"), B("big"), I(1)]));
    let mut admin = s.raw();
    assert!(client_listed(&mut admin, slow_id), "slow subscriber not in CLIENT LIST");

    // The fast subscriber reads continuously and checks the order.
    let received = Arc::new(AtomicUsize::new(0));
    let rec2 = received.clone();
    let reader = std::thread::spawn(move || {
        let res = read_big_messages(&mut fast, N, SIZE, &rec2);
        (res, fast)
    });

    let mut publ = s.raw();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut receivers_seen = Vec::new();
    for batch in 0..N / BATCH {
        let mut buf = Vec::new();
        for i in batch * BATCH..(batch + 1) * BATCH {
            let mut msg = format!("{i:06}").into_bytes();
            msg.resize(SIZE, b'x');
            buf.extend_from_slice(&encode_cmd(&[&b"PUBLISH"[..], b"big", &msg]));
        }
        publ.send(&buf);
        for _ in 0..BATCH {
            let n = publ.read_reply().as_int().expect("PUBLISH answers an integer");
            assert!((1..=2).contains(&n), "PUBLISH answered {n}");
            receivers_seen.push(n);
        }
        // Keep the fast reader close behind (its backlog stays far under the
        // soft limit), with a bounded wait.
        let sent = (batch + 1) * BATCH;
        while received.load(Ordering::Acquire) + 2 * BATCH < sent {
            assert!(
                Instant::now() < deadline,
                "fast subscriber stalled at {} of {sent}",
                received.load(Ordering::Acquire)
            );
            if reader.is_finished() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let (got, mut fast) = reader.join().expect("reader thread");
    assert_eq!(got, Ok(N), "the fast subscriber must receive every message in order");
    assert_eq!(receivers_seen.first(), Some(&2));
    assert_eq!(receivers_seen.last(), Some(&1), "the slow subscriber should be gone by the end");
    assert!(receivers_seen.windows(2).all(|w| w[0] >= w[1]), "receiver count went back up");

    // The slow one is dropped from the client list and its socket ends
    // (EOF or reset) once the bytes the kernel buffered are read.
    assert!(
        wait_until(Duration::from_secs(5), || !client_listed(&mut admin, slow_id)),
        "slow subscriber (id {slow_id}) still in CLIENT LIST"
    );
    let mut sock = slow.stream_clone();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let end = Instant::now() + Duration::from_secs(15);
    let mut buf = vec![0u8; 256 * 1024];
    let mut drained = 0usize;
    let closed = loop {
        assert!(Instant::now() < end, "slow subscriber's socket still open after reading {drained} bytes");
        match sock.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => drained += n,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => break false,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break true, // connection reset
        }
    };
    assert!(closed, "slow subscriber's socket did not reach EOF (read {drained} bytes, then nothing)");
    eprintln!(
        "slow subscriber: cut off after message {} of {N}; {drained} bytes were left to read",
        receivers_seen.iter().position(|&n| n == 1).unwrap_or(N)
    );
    assert!(drained < N * SIZE, "the slow subscriber got everything ({drained} bytes): no limit applied");

    // The server is fine and the fast subscriber is still subscribed.
    assert_eq!(pairs(&admin.cmd_str(&["PUBSUB", "NUMSUB", "big"])), vec![("big".into(), 1)]);
    assert_eq!(int(&mut publ, &["PUBLISH", "big", "last"]), 1);
    expect_frame(&mut fast, &frame(&[B("message"), B("big"), B("last")]), "fast subscriber after the cut-off");
    let _ = std::fs::remove_dir_all(&cfg_dir);
}
