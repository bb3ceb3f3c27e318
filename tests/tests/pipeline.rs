//! Deep pipelines: 10,000 commands over many keys (spread across cores on a
//! 2-core redcore) written at once; replies must come back complete, correct
//! and in order.

use std::io::Write;

use redcore_tests::RawReply as R;
use redcore_tests::*;

const N: usize = 10_000;

#[test]
fn redis_crate_pipeline_10k() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut c = s.conn();
    // Interleave SETs with GETs of keys set earlier in the same pipeline.
    let mut pipe = redis::pipe();
    for i in 0..N / 2 {
        pipe.cmd("SET")
            .arg(format!("pk:{i}"))
            .arg(format!("val-{i}"));
        pipe.cmd("GET").arg(format!("pk:{}", i / 2));
    }
    let replies: Vec<redis::Value> = pipe.query(&mut c).expect("pipeline");
    assert_eq!(replies.len(), N);
    for i in 0..N / 2 {
        assert_eq!(
            replies[2 * i],
            redis::Value::Okay,
            "reply {} (SET pk:{i})",
            2 * i
        );
        let want = format!("val-{}", i / 2).into_bytes();
        assert_eq!(
            replies[2 * i + 1],
            redis::Value::BulkString(want),
            "reply {} (GET pk:{})",
            2 * i + 1,
            i / 2
        );
    }
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, (N / 2) as i64);
}

#[test]
fn raw_blob_10k_in_one_write() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    let mut blob = Vec::with_capacity(N * 48);
    let mut want = Vec::with_capacity(N);
    let mut counter = 0i64;
    for i in 0..N {
        match i % 4 {
            0 => {
                let (k, v) = (format!("rk:{i}"), format!("{i}"));
                blob.extend(encode_cmd(&["SET", k.as_str(), v.as_str()]));
                want.push(b"+OK\r\n".to_vec());
            }
            1 => {
                let k = format!("rk:{}", i - 1);
                blob.extend(encode_cmd(&["GET", k.as_str()]));
                let v = format!("{}", i - 1);
                want.push(format!("${}\r\n{}\r\n", v.len(), v).into_bytes());
            }
            2 => {
                // A single hot key, incremented in order.
                blob.extend(encode_cmd(&["INCR", "counter"]));
                counter += 1;
                want.push(format!(":{counter}\r\n").into_bytes());
            }
            _ => {
                let k = format!("rk:missing:{i}");
                blob.extend(encode_cmd(&["GET", k.as_str()]));
                want.push(b"$-1\r\n".to_vec());
            }
        }
    }
    // Write from another thread so a server that applies back-pressure
    // cannot deadlock against us while we are not reading yet.
    let mut w = r.stream_clone();
    let writer = std::thread::spawn(move || w.write_all(&blob));
    for (i, want) in want.iter().enumerate() {
        let got = r.read_raw_reply_bytes();
        assert_eq!(
            &got,
            want,
            "reply #{i}: got {:?} want {:?}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want)
        );
    }
    writer.join().unwrap().expect("write pipeline");
    assert_reply!(
        r.cmd_str(&["GET", "counter"]),
        R::bulk(format!("{counter}"))
    );
    assert_reply!(r.cmd_str(&["DBSIZE"]), R::Int((N / 4 + 1) as i64));
}

#[test]
fn inline_and_resp_mixed_pipeline() {
    let s = Server::under_test(&[]);
    let mut r = s.raw();
    let mut blob = Vec::new();
    for i in 0..200 {
        if i % 2 == 0 {
            blob.extend(format!("SET inl:{i} {i}\r\n").into_bytes());
        } else {
            blob.extend(encode_cmd(&["GET", &format!("inl:{}", i - 1)]));
        }
    }
    r.send(&blob);
    for i in 0..200 {
        let got = r.read_reply();
        if i % 2 == 0 {
            assert_reply!(got, R::ok());
        } else {
            assert_reply!(got, R::bulk(format!("{}", i - 1)));
        }
    }
}

/// On a 2-core server, runs of pipelined commands for the other core go
/// there as one message. Runs for one core and the other, errors inside a
/// run, and requests that span cores or are not data commands, all
/// interleaved: every reply still comes back in request order.
#[test]
fn forwarded_runs_keep_order() {
    let s = Server::under_test(&["--cores", "2"]);
    let halves = slots::SlotRanges::split(2);
    // One hash tag per core, so every key of a tag lives on that tag's core
    // (whichever core the connection landed on, one of them is remote).
    let tag_on = |core: usize| {
        (0..)
            .map(|i| format!("t{i}"))
            .find(|t| halves.owner_of(slots::key_slot(t.as_bytes())) == core)
            .expect("a tag on each core")
    };
    let (a, b) = (tag_on(0), tag_on(1));
    let mut r = s.raw();
    let mut blob = Vec::new();
    let mut want: Vec<RawReply> = Vec::new();
    let mut push = |args: &[&str], reply: RawReply| {
        blob.extend(encode_cmd(args));
        want.push(reply);
    };
    for i in 0..300 {
        let ka = format!("{{{a}}}:k{i}");
        let kb = format!("{{{b}}}:k{i}");
        let (ca, cb) = (format!("{{{a}}}:n"), format!("{{{b}}}:n"));
        // A run on each core, with a type error in the middle of one.
        push(&["SET", &ka, &format!("a{i}")], R::ok());
        push(&["INCR", &ca], R::Int(i + 1));
        push(&["LPUSH", &ka, "x"], R::err("WRONGTYPE Operation against a key holding the wrong kind of value"));
        push(&["GET", &ka], R::bulk(format!("a{i}")));
        push(&["SET", &kb, &format!("b{i}")], R::ok());
        push(&["INCR", &cb], R::Int(i + 1));
        push(&["GET", &kb], R::bulk(format!("b{i}")));
        // Requests that are not one core's plain data commands end a run.
        match i % 4 {
            0 => push(&["MGET", &ka, &kb], R::arr(vec![R::bulk(format!("a{i}")), R::bulk(format!("b{i}"))])),
            1 => push(&["PING"], R::simple("PONG")),
            2 => push(&["GET"], R::err("ERR wrong number of arguments for 'get' command")),
            _ => push(&["EXISTS", &ka, &kb, "missing"], R::Int(2)),
        }
        push(&["GET", &format!("{{{b}}}:missing")], R::nil());
    }
    let mut w = r.stream_clone();
    let writer = std::thread::spawn(move || w.write_all(&blob));
    for (i, want) in want.iter().enumerate() {
        let got = r.read_reply();
        assert_eq!(&got, want, "reply #{i}");
    }
    writer.join().unwrap().expect("write pipeline");
    assert_reply!(r.cmd_str(&["DBSIZE"]), R::Int(602));
    if s.is_redcore() {
        // Each round sends 4 plain commands to the other core (whichever
        // core this connection is on): a run counts per command, not per message.
        let info = r.cmd_str(&["INFO", "stats"]).as_str().expect("INFO text");
        let forwarded: u64 = info
            .lines()
            .find_map(|l| l.strip_prefix("total_forwarded_commands:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("total_forwarded_commands in INFO");
        assert!(forwarded >= 1200, "total_forwarded_commands {forwarded}");
    }
}
