//! WRONGTYPE behaviour of string commands against keys of other types.
//!
//! Needs RPUSH and HSET to create non-string keys; kept in its own file so it
//! can be `#[ignore]`d while redcore does not support those types.

use redcore_tests::RawReply as R;
use redcore_tests::common::{WRONGTYPE};
use redcore_tests::*;

fn setup(s: &Server) -> RawConn {
    let mut r = s.raw();
    assert_reply!(r.cmd_str(&["RPUSH", "list", "a", "b"]), R::Int(2));
    assert_reply!(r.cmd_str(&["HSET", "hash", "f", "v"]), R::Int(1));
    r
}

#[test]
fn string_commands_on_other_types() {
    let s = Server::under_test(&[]);
    let mut r = setup(&s);
    for key in ["list", "hash"] {
        let cmds: Vec<Vec<&str>> = vec![
            vec!["GET", key],
            vec!["GETSET", key, "x"],
            vec!["GETDEL", key],
            vec!["GETEX", key],
            vec!["GETEX", key, "EX", "10"],
            vec!["APPEND", key, "x"],
            vec!["STRLEN", key],
            vec!["INCR", key],
            vec!["DECR", key],
            vec!["INCRBY", key, "2"],
            vec!["DECRBY", key, "2"],
            vec!["INCRBYFLOAT", key, "1.5"],
            vec!["GETRANGE", key, "0", "-1"],
            vec!["SETRANGE", key, "0", "x"],
            vec!["SET", key, "x", "GET"],
        ];
        for cmd in cmds {
            assert_raw_err(&mut r, &cmd, WRONGTYPE);
        }
    }
    // None of that changed the keys.
    assert_reply!(r.cmd_str(&["TYPE", "list"]), R::simple("list"));
    assert_reply!(r.cmd_str(&["TYPE", "hash"]), R::simple("hash"));
    assert_reply!(r.cmd_str(&["TTL", "list"]), R::Int(-1));
    assert_eq!(r.cmd_bytes(&[b"TYPE", b"list"]), b"+list\r\n".to_vec());
    assert_eq!(
        r.cmd_bytes(&[b"GET", b"list"]),
        format!("-{WRONGTYPE}\r\n").into_bytes()
    );
}

#[test]
fn type_agnostic_commands() {
    let s = Server::under_test(&[]);
    let mut r = setup(&s);
    assert_reply!(r.cmd_str(&["SET", "str", "v"]), R::ok());
    // MGET returns nil for non-strings instead of failing.
    assert_reply!(
        r.cmd_str(&["MGET", "str", "list", "hash", "nokey"]),
        R::arr(vec![R::bulk("v"), R::nil(), R::nil(), R::nil()])
    );
    assert_reply!(r.cmd_str(&["EXISTS", "list", "hash", "str"]), R::Int(3));
    assert_reply!(r.cmd_str(&["SETNX", "list", "x"]), R::Int(0));
    assert_reply!(r.cmd_str(&["MSETNX", "new", "1", "hash", "x"]), R::Int(0));
    assert_reply!(r.cmd_str(&["EXISTS", "new"]), R::Int(0));
    assert_reply!(r.cmd_str(&["SET", "list", "x", "NX"]), R::nil());
    assert_reply!(r.cmd_str(&["EXPIRE", "list", "100"]), R::Int(1));
    assert_reply!(r.cmd_str(&["PERSIST", "list"]), R::Int(1));
    assert_reply!(r.cmd_str(&["RENAME", "list", "list2"]), R::ok());
    assert_reply!(r.cmd_str(&["TYPE", "list2"]), R::simple("list"));
    let mut keys = r.cmd_str(&["KEYS", "*"]).items().unwrap().to_vec();
    keys.sort_by_key(|k| k.as_str());
    assert_eq!(
        keys,
        vec![R::bulk("hash"), R::bulk("list2"), R::bulk("str")]
    );
    let scan = r.cmd_str(&["SCAN", "0", "TYPE", "hash", "COUNT", "100"]);
    assert_eq!(scan.items().unwrap()[1], R::arr(vec![R::bulk("hash")]));
    // Plain SET overwrites any type.
    assert_reply!(r.cmd_str(&["SET", "hash", "now-a-string"]), R::ok());
    assert_reply!(r.cmd_str(&["TYPE", "hash"]), R::simple("string"));
    assert_reply!(r.cmd_str(&["GET", "hash"]), R::bulk("now-a-string"));
    assert_reply!(r.cmd_str(&["MSET", "list2", "s"]), R::ok());
    assert_reply!(r.cmd_str(&["GET", "list2"]), R::bulk("s"));
    assert_reply!(r.cmd_str(&["DEL", "hash", "list2", "str"]), R::Int(3));
    assert_reply!(r.cmd_str(&["DBSIZE"]), R::Int(0));
}
