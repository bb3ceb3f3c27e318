//! Keyspace notifications: with `notify-keyspace-events KEA`, writes on keys
//! owned by either core reach a subscriber on any core, and expiry publishes
//! `expired`.

use redcore_tests::*;
use std::time::Duration;

#[test]
fn keyspace_and_keyevent_messages() {
    let s = Server::under_test(&["--cores", "2"]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub = s.raw();
    sub.set_read_timeout(Duration::from_secs(10));
    sub.cmd_str(&["PSUBSCRIBE", "__keyspace@0__:*"]);
    // Keys spread over both cores.
    let keys: Vec<String> = (0..8).map(|i| format!("nk:{i}")).collect();
    for k in &keys {
        let _: () = q(&mut c, &["SET", k, "v"]);
        let _: i64 = q(&mut c, &["LPUSH", &format!("{k}:l"), "x"]);
        let _: i64 = q(&mut c, &["DEL", k]);
    }
    let _: () = q(&mut c, &["SET", "nk:ttl", "v", "PX", "50"]);
    let mut want: Vec<(String, String)> = Vec::new();
    for k in &keys {
        want.push((format!("__keyspace@0__:{k}"), "set".into()));
        want.push((format!("__keyspace@0__:{k}:l"), "lpush".into()));
        want.push((format!("__keyspace@0__:{k}"), "del".into()));
    }
    want.push(("__keyspace@0__:nk:ttl".into(), "set".into()));
    want.push(("__keyspace@0__:nk:ttl".into(), "expire".into()));
    want.push(("__keyspace@0__:nk:ttl".into(), "expired".into()));
    let mut got = Vec::new();
    while got.len() < want.len() {
        let m = sub.read_reply();
        let items = m.items().expect("pmessage array").to_vec();
        assert_eq!(items[0].as_str().as_deref(), Some("pmessage"));
        got.push((items[2].as_str().unwrap(), items[3].as_str().unwrap()));
    }
    // Per key, events arrive in the order the writes ran.
    for k in keys.iter().map(|k| format!("__keyspace@0__:{k}")).chain(["__keyspace@0__:nk:ttl".to_string()]) {
        let g: Vec<_> = got.iter().filter(|(ch, _)| *ch == k).collect();
        let w: Vec<_> = want.iter().filter(|(ch, _)| *ch == k).collect();
        assert_eq!(g, w, "events of {k}");
    }
}
