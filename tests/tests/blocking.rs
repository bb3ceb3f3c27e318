//! Blocking commands: BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BZPOPMIN/BZPOPMAX serve
//! at once when they can, otherwise park the client until a write feeds the
//! key (FIFO among waiters, whatever core each connection lives on), time
//! out with nil, and never hand an element to a client that hung up.

use redcore_tests::*;
use std::thread;
use std::time::Duration;

fn blocked_clients(r: &mut RawConn) -> i64 {
    let info = r.cmd_str(&["INFO", "clients"]).as_str().unwrap_or_default();
    info.lines().find_map(|l| l.strip_prefix("blocked_clients:")).and_then(|v| v.trim().parse().ok()).unwrap_or(-1)
}

fn wait_blocked(r: &mut RawConn, n: i64) {
    assert!(wait_until(Duration::from_secs(10), || blocked_clients(r) == n), "expected {n} blocked clients");
}

#[test]
fn served_immediately_and_errors() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    r.cmd_str(&["RPUSH", "bl:a", "x", "y"]);
    assert_reply!(r.cmd_str(&["BLPOP", "bl:none", "bl:a", "0"]), RawReply::arr(vec![RawReply::bulk("bl:a"), RawReply::bulk("x")]));
    assert_reply!(r.cmd_str(&["BRPOP", "bl:a", "1"]), RawReply::arr(vec![RawReply::bulk("bl:a"), RawReply::bulk("y")]));
    assert_eq!(r.cmd_str(&["EXISTS", "bl:a"]).as_int(), Some(0));
    assert_raw_err(&mut r, &["BLPOP", "bl:a", "-1"], "ERR timeout is negative");
    assert_raw_err(&mut r, &["BLPOP", "bl:a", "abc"], "ERR timeout is not a float or out of range");
    assert_raw_err(&mut r, &["BLPOP", "bl:a"], "ERR wrong number of arguments for 'blpop' command");
    r.cmd_str(&["SET", "bl:str", "v"]);
    assert_raw_err(&mut r, &["BLPOP", "bl:str", "0"], "WRONGTYPE Operation against a key holding the wrong kind of value");
    // A timeout answers nil.
    assert_eq!(r.cmd_bytes(&[b"BLPOP", b"bl:empty", b"0.2"]), b"*-1\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"BLMOVE", b"bl:empty", b"bl:d", b"LEFT", b"RIGHT", b"0.1"]), b"*-1\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"BRPOPLPUSH", b"bl:empty", b"bl:d", b"0.1"]), b"*-1\r\n".to_vec());
    r.cmd_str(&["ZADD", "bl:z", "1", "a", "2", "b"]);
    assert_reply!(r.cmd_str(&["BZPOPMAX", "bl:z", "0"]), RawReply::arr(vec![RawReply::bulk("bl:z"), RawReply::bulk("b"), RawReply::bulk("2")]));
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut ctl = s.raw();
    // Several keys so that blocked connections and keys span both cores.
    for key in ["fifo:1", "fifo:2", "fifo:3"] {
        let mut handles = Vec::new();
        for i in 0..3 {
            let addr = s.addr();
            let key = key.to_string();
            handles.push(thread::spawn(move || {
                let mut c = RawConn::connect(&addr).unwrap();
                c.set_read_timeout(Duration::from_secs(20));
                (i, c.cmd_str(&["BLPOP", &key, "0"]))
            }));
            wait_blocked(&mut ctl, i + 1);
        }
        ctl.cmd_str(&["RPUSH", key, "a", "b", "c"]);
        let mut got: Vec<(i64, RawReply)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        got.sort_by_key(|(i, _)| *i);
        for ((_, reply), want) in got.into_iter().zip(["a", "b", "c"]) {
            assert_reply!(reply, RawReply::arr(vec![RawReply::bulk(key), RawReply::bulk(want)]));
        }
        assert_eq!(ctl.cmd_str(&["EXISTS", key]).as_int(), Some(0));
        wait_blocked(&mut ctl, 0);
    }
}

#[test]
fn wake_up_across_keys_and_cores() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut ctl = s.raw();
    // BRPOP over keys owned by different cores, fed on the last key.
    let addr = s.addr();
    let h = thread::spawn(move || {
        let mut c = RawConn::connect(&addr).unwrap();
        c.set_read_timeout(Duration::from_secs(20));
        c.cmd_str(&["BRPOP", "wk:a", "wk:b", "wk:c", "wk:d", "0"])
    });
    wait_blocked(&mut ctl, 1);
    ctl.cmd_str(&["LPUSH", "wk:d", "v"]);
    assert_reply!(h.join().unwrap(), RawReply::arr(vec![RawReply::bulk("wk:d"), RawReply::bulk("v")]));
    // BLMOVE between two keys, fed by another client.
    let addr = s.addr();
    let h = thread::spawn(move || {
        let mut c = RawConn::connect(&addr).unwrap();
        c.set_read_timeout(Duration::from_secs(20));
        c.cmd_str(&["BLMOVE", "mv:src", "mv:dst", "LEFT", "RIGHT", "0"])
    });
    wait_blocked(&mut ctl, 1);
    ctl.cmd_str(&["RPUSH", "mv:src", "e1"]);
    assert_reply!(h.join().unwrap(), RawReply::bulk("e1"));
    assert_reply!(ctl.cmd_str(&["LRANGE", "mv:dst", "0", "-1"]), RawReply::arr(vec![RawReply::bulk("e1")]));
    // BZPOPMIN woken by ZADD.
    let addr = s.addr();
    let h = thread::spawn(move || {
        let mut c = RawConn::connect(&addr).unwrap();
        c.set_read_timeout(Duration::from_secs(20));
        c.cmd_str(&["BZPOPMIN", "zz:1", "zz:2", "0"])
    });
    wait_blocked(&mut ctl, 1);
    ctl.cmd_str(&["ZADD", "zz:2", "5", "m"]);
    assert_reply!(h.join().unwrap(), RawReply::arr(vec![RawReply::bulk("zz:2"), RawReply::bulk("m"), RawReply::bulk("5")]));
}

#[test]
fn a_client_that_hung_up_gets_nothing() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut ctl = s.raw();
    for key in ["gone:1", "gone:2"] {
        {
            let mut c = s.raw();
            c.send_cmd(&[b"BLPOP", key.as_bytes(), b"0"]);
            wait_blocked(&mut ctl, 1);
        } // dropped: the connection closes
        wait_blocked(&mut ctl, 0);
        ctl.cmd_str(&["RPUSH", key, "kept"]);
        assert_reply!(ctl.cmd_str(&["LRANGE", key, "0", "-1"]), RawReply::arr(vec![RawReply::bulk("kept")]));
    }
}
