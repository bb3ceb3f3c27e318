//! Connection and server commands: PING ECHO HELLO QUIT SELECT COMMAND
//! CLIENT INFO DBSIZE FLUSHDB FLUSHALL CONFIG, unknown commands.

use std::collections::HashMap;

use redcore_tests::RawReply as R;
use redcore_tests::common::{NOT_INT, SYNTAX, arity};
use redcore_tests::*;

#[test]
fn ping_echo() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let p: String = q(&mut c, &["PING"]);
    assert_eq!(p, "PONG");
    let p: String = q(&mut c, &["PING", "hello world"]);
    assert_eq!(p, "hello world");
    let e: String = q(&mut c, &["ECHO", "hi"]);
    assert_eq!(e, "hi");
    let bin = [0u8, 255, b'\r', b'\n'];
    let e: Vec<u8> = redis::cmd("ECHO").arg(&bin[..]).query(&mut c).unwrap();
    assert_eq!(e, bin.to_vec());

    let mut r = s.raw();
    assert_eq!(r.cmd_bytes(&[b"PING"]), b"+PONG\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"ping"]), b"+PONG\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"PING", b"x y"]), b"$3\r\nx y\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"ECHO", b""]), b"$0\r\n\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"ECHO", b"abc"]), b"$3\r\nabc\r\n".to_vec());
    assert_raw_err(&mut r, &["PING", "a", "b"], &arity("ping"));
    assert_raw_err(&mut r, &["ECHO"], &arity("echo"));
    assert_raw_err(&mut r, &["ECHO", "a", "b"], &arity("echo"));
    // Inline commands (as typed into telnet).
    r.send(b"PING\r\n");
    assert_reply!(r.read_reply(), R::simple("PONG"));
    r.send(b"ECHO hello\r\n");
    assert_reply!(r.read_reply(), R::bulk("hello"));
    r.send(b"SET inl \"a b\"\r\nGET inl\r\n");
    assert_reply!(r.read_reply(), R::ok());
    assert_reply!(r.read_reply(), R::bulk("a b"));
}

#[test]
fn unknown_command() {
    let s = Server::under_test(&[]);
    let mut r = s.raw();
    assert_raw_err(
        &mut r,
        &["FOO", "bar", "baz"],
        "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' ",
    );
    assert_raw_err(
        &mut r,
        &["nosuchcmd"],
        "ERR unknown command 'nosuchcmd', with args beginning with: ",
    );
    assert_eq!(
        r.cmd_bytes(&[b"foo", b"x"]),
        b"-ERR unknown command 'foo', with args beginning with: 'x' \r\n".to_vec()
    );
    assert_raw_err(
        &mut r,
        &["CLIENT", "foo"],
        "ERR unknown subcommand 'foo'. Try CLIENT HELP.",
    );
    assert_raw_err(
        &mut r,
        &["COMMAND", "foo"],
        "ERR unknown subcommand 'foo'. Try COMMAND HELP.",
    );
    // The connection stays usable.
    assert_reply!(r.cmd_str(&["PING"]), R::simple("PONG"));
    let mut c = s.conn();
    let e = q_err(&mut c, &["FOO"]);
    assert_eq!(e.kind(), redis::ErrorKind::ResponseError);
}

fn map_of(rep: &R) -> HashMap<String, R> {
    let mut out = HashMap::new();
    match rep {
        R::Map(pairs) => {
            for (k, v) in pairs {
                out.insert(k.as_str().expect("map key is a string"), v.clone());
            }
        }
        R::Array(Some(items)) => {
            assert_eq!(items.len() % 2, 0, "flat map has even length: {rep}");
            for pair in items.chunks(2) {
                out.insert(pair[0].as_str().expect("key is a string"), pair[1].clone());
            }
        }
        other => panic!("not a map: {other}"),
    }
    out
}

#[test]
fn hello_2_and_3() {
    let s = Server::under_test(&[]);
    let mut r = s.raw();
    let _ = r.cmd_str(&["SET", "k", "v"]);

    // HELLO 3: a RESP3 map.
    let rep = r.cmd_str(&["HELLO", "3"]);
    assert!(
        matches!(rep, R::Map(_)),
        "HELLO 3 must reply with a RESP3 map, got {rep}"
    );
    let m = map_of(&rep);
    for key in [
        "server", "version", "proto", "id", "mode", "role", "modules",
    ] {
        assert!(m.contains_key(key), "HELLO 3 lacks {key}: {rep}");
    }
    assert_eq!(m["proto"], R::Int(3));
    assert!(matches!(m["id"], R::Int(_)));
    assert_eq!(m["role"].as_str().as_deref(), Some("master"));
    assert_eq!(m["mode"].as_str().as_deref(), Some("standalone"));
    assert!(m["modules"].items().is_some());
    // RESP3 encodings now.
    assert_eq!(r.cmd_bytes(&[b"GET", b"nokey"]), b"_\r\n".to_vec());
    assert_eq!(
        r.cmd_bytes(&[b"MGET", b"k", b"nokey"]),
        b"*2\r\n$1\r\nv\r\n_\r\n".to_vec()
    );
    let cfg = r.cmd_str(&["CONFIG", "GET", "maxmemory"]);
    assert!(
        matches!(cfg, R::Map(_)),
        "CONFIG GET in RESP3 is a map: {cfg}"
    );
    assert_eq!(r.cmd_bytes(&[b"GET", b"k"]), b"$1\r\nv\r\n".to_vec());
    assert_eq!(r.cmd_bytes(&[b"EXISTS", b"k"]), b":1\r\n".to_vec());
    // HELLO with no version reports the current protocol.
    let m = map_of(&r.cmd_str(&["HELLO"]));
    assert_eq!(m["proto"], R::Int(3));

    // Back to RESP2: a flat array of 14.
    let rep = r.cmd_str(&["HELLO", "2"]);
    match &rep {
        R::Array(Some(items)) => assert_eq!(items.len(), 14, "{rep}"),
        other => panic!("HELLO 2 must reply with an array, got {other}"),
    }
    let m = map_of(&rep);
    assert_eq!(m["proto"], R::Int(2));
    assert_eq!(r.cmd_bytes(&[b"GET", b"nokey"]), b"$-1\r\n".to_vec());

    // HELLO SETNAME.
    let rep = r.cmd_str(&["HELLO", "2", "SETNAME", "helloname"]);
    assert!(rep.items().is_some());
    assert_reply!(r.cmd_str(&["CLIENT", "GETNAME"]), R::bulk("helloname"));

    assert_raw_err(
        &mut r,
        &["HELLO", "4"],
        "NOPROTO unsupported protocol version",
    );
    assert_raw_err(
        &mut r,
        &["HELLO", "1"],
        "NOPROTO unsupported protocol version",
    );
    assert_raw_err(
        &mut r,
        &["HELLO", "abc"],
        "ERR Protocol version is not an integer or out of range",
    );
    assert_raw_err(
        &mut r,
        &["HELLO", "3", "foo"],
        "ERR Syntax error in HELLO option 'foo'",
    );
    // Failed HELLOs keep RESP2.
    assert_eq!(r.cmd_bytes(&[b"GET", b"nokey"]), b"$-1\r\n".to_vec());
}

#[test]
fn resp3_client_via_redis_crate() {
    let s = Server::under_test(&[]);
    let mut c = s
        .client_resp3()
        .get_connection_with_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "v");
    let v: Option<String> = q(&mut c, &["GET", "nokey"]);
    assert_eq!(v, None);
    let raw: redis::Value = q(&mut c, &["CONFIG", "GET", "maxmemory"]);
    assert!(matches!(raw, redis::Value::Map(_)), "{raw:?}");
    let v: HashMap<String, String> = q(&mut c, &["CONFIG", "GET", "maxmemory"]);
    assert!(v.contains_key("maxmemory"));
}

#[test]
fn quit_closes_connection() {
    let s = Server::under_test(&[]);
    let mut r = s.raw();
    let _ = r.cmd_str(&["SET", "k", "v"]);
    assert_eq!(r.cmd_bytes(&[b"QUIT"]), b"+OK\r\n".to_vec());
    assert!(r.is_closed(), "connection must be closed after QUIT");
    // Pipelined commands after QUIT are not executed.
    let mut r = s.raw();
    r.send(&encode_cmd(&["QUIT"]));
    let _ = r.try_send(&encode_cmd(&["SET", "after", "quit"]));
    assert_reply!(r.read_reply(), R::ok());
    assert!(r.is_closed());
    let mut c = s.conn();
    let v: Option<String> = q(&mut c, &["GET", "after"]);
    assert_eq!(v, None);
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "v");
}

#[test]
fn select() {
    let s = Server::under_test(&[]);
    let mut r = s.raw();
    assert_reply!(r.cmd_str(&["SELECT", "0"]), R::ok());
    assert_raw_err(&mut r, &["SELECT", "abc"], NOT_INT);
    assert_raw_err(&mut r, &["SELECT"], &arity("select"));
    assert_raw_err(&mut r, &["SELECT", "-1"], "ERR DB index is out of range");
    assert_raw_err(
        &mut r,
        &["SELECT", "100000"],
        "ERR DB index is out of range",
    );
    if s.is_redcore() {
        // redcore has a single database.
        assert_raw_err(&mut r, &["SELECT", "1"], "ERR DB index is out of range");
    } else {
        assert_reply!(r.cmd_str(&["SELECT", "1"]), R::ok());
        assert_reply!(r.cmd_str(&["SELECT", "0"]), R::ok());
    }
    assert_reply!(r.cmd_str(&["SET", "k", "v"]), R::ok());
    assert_reply!(r.cmd_str(&["GET", "k"]), R::bulk("v"));
}

#[test]
fn command_count_info_docs() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let n: i64 = q(&mut c, &["COMMAND", "COUNT"]);
    assert!(n >= 40, "COMMAND COUNT {n}");

    let mut r = s.raw();
    let rep = r.cmd_str(&["COMMAND", "INFO", "get"]);
    let items = rep.items().expect("array").to_vec();
    assert_eq!(items.len(), 1, "{rep}");
    let info = items[0].items().expect("command info is an array").to_vec();
    assert!(info.len() >= 6, "{rep}");
    assert_eq!(info[0], R::bulk("get"));
    assert_eq!(info[1], R::Int(2));
    assert!(info[2].items().is_some(), "flags array: {rep}");
    assert_eq!(info[3], R::Int(1));
    assert_eq!(info[4], R::Int(1));
    assert_eq!(info[5], R::Int(1));
    // Case-insensitive; unknown commands give a nil entry.
    let rep = r.cmd_str(&["COMMAND", "INFO", "SET", "nosuchcmd"]);
    let items = rep.items().expect("array").to_vec();
    assert_eq!(items.len(), 2);
    let set = items[0].items().expect("set info").to_vec();
    assert_eq!(set[0], R::bulk("set"));
    assert_eq!(set[1], R::Int(-3));
    assert!(
        matches!(items[1], R::Bulk(None) | R::Array(None) | R::Null),
        "{rep}"
    );
    let rep = r.cmd_str(&["COMMAND", "INFO", "mset"]);
    let mset = rep.items().unwrap()[0].items().unwrap().to_vec();
    assert_eq!(mset[1], R::Int(-3));
    assert_eq!(mset[3], R::Int(1));
    assert_eq!(mset[4], R::Int(-1));
    assert_eq!(mset[5], R::Int(2));

    // COMMAND DOCS get: [name, docs-map] (flat array in RESP2).
    let rep = r.cmd_str(&["COMMAND", "DOCS", "get"]);
    let items = rep.items().expect("array").to_vec();
    assert_eq!(items.len(), 2, "{rep}");
    assert_eq!(items[0], R::bulk("get"));
    let docs = map_of(&items[1]);
    assert!(docs.contains_key("summary"), "{rep}");
    assert!(docs["summary"].as_str().is_some());
    // Unknown command: empty.
    let rep = r.cmd_str(&["COMMAND", "DOCS", "nosuchcmd"]);
    assert_eq!(rep.items().map(|i| i.len()), Some(0), "{rep}");

    // Plain COMMAND lists everything.
    let rep = r.cmd_str(&["COMMAND"]);
    let all = rep.items().expect("array");
    assert_eq!(all.len() as i64, n);
    assert_raw_err(&mut r, &["COMMAND", "COUNT", "x"], &arity("command|count"));
}

#[test]
fn client_commands() {
    let s = Server::under_test(&[]);
    let mut r = s.raw();
    assert_eq!(r.cmd_bytes(&[b"CLIENT", b"GETNAME"]), b"$-1\r\n".to_vec());
    assert_reply!(r.cmd_str(&["CLIENT", "SETNAME", "myconn"]), R::ok());
    assert_reply!(r.cmd_str(&["CLIENT", "GETNAME"]), R::bulk("myconn"));
    let id = r
        .cmd_str(&["CLIENT", "ID"])
        .as_int()
        .expect("CLIENT ID is an integer");
    assert!(id > 0);
    let mut r2 = s.raw();
    let id2 = r2.cmd_str(&["CLIENT", "ID"]).as_int().unwrap();
    assert_ne!(id, id2, "client ids are unique");

    let list = r
        .cmd_str(&["CLIENT", "LIST"])
        .as_str()
        .expect("CLIENT LIST is a bulk string");
    let lines: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines.len() >= 2, "{list}");
    let mine = lines
        .iter()
        .find(|l| l.split(' ').any(|f| f == format!("id={id}")))
        .unwrap_or_else(|| panic!("own id {id} not in CLIENT LIST:\n{list}"));
    assert!(mine.split(' ').any(|f| f == "name=myconn"), "{mine}");
    assert!(
        mine.split(' ').any(|f| f.starts_with("addr=127.0.0.1:")),
        "{mine}"
    );
    assert!(lines
        .iter()
        .any(|l| l.split(' ').any(|f| f == format!("id={id2}"))));
    // Idle seconds since the connection's last command: it just sent one.
    assert!(mine.split(' ').any(|f| f == "idle=0"), "{mine}");

    // Clearing the name.
    assert_reply!(r.cmd_str(&["CLIENT", "SETNAME", ""]), R::ok());
    assert_eq!(r.cmd_bytes(&[b"CLIENT", b"GETNAME"]), b"$-1\r\n".to_vec());
    assert_raw_err(
        &mut r,
        &["CLIENT", "SETNAME", "a b"],
        "ERR Client names cannot contain spaces, newlines or special characters.",
    );
    assert_raw_err(&mut r, &["CLIENT", "SETNAME"], &arity("client|setname"));
    assert_raw_err(
        &mut r,
        &["CLIENT", "GETNAME", "x"],
        &arity("client|getname"),
    );
    assert_raw_err(&mut r, &["CLIENT", "ID", "x"], &arity("client|id"));
    assert_raw_err(&mut r, &["CLIENT"], &arity("client"));

    // CLIENT SETINFO exists from Redis 7.2 on; stock 7.0 rejects it. redcore
    // must accept it (redis-py and redis-rs send it on connect).
    let rep = r.cmd_str(&["CLIENT", "SETINFO", "lib-name", "redcore-tests"]);
    if s.is_redcore() {
        assert_reply!(rep, R::ok());
        assert_reply!(
            r.cmd_str(&["CLIENT", "SETINFO", "lib-ver", "1.2.3"]),
            R::ok()
        );
    } else {
        assert!(
            rep == R::ok() || rep == R::err("ERR unknown subcommand 'SETINFO'. Try CLIENT HELP."),
            "{rep}"
        );
    }
    assert_reply!(r.cmd_str(&["PING"]), R::simple("PONG"));

    // Through the crate.
    let mut c = s.conn();
    let _: () = q(&mut c, &["CLIENT", "SETNAME", "rs"]);
    let n: Option<String> = q(&mut c, &["CLIENT", "GETNAME"]);
    assert_eq!(n.as_deref(), Some("rs"));
    let id: i64 = q(&mut c, &["CLIENT", "ID"]);
    assert!(id > 0);
}

fn info_fields(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains(':'))
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.to_string(), v.trim_end().to_string())
        })
        .collect()
}

#[test]
fn info_sections() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["MSET", "a", "1", "b", "2"]);
    let _: i64 = q(&mut c, &["EXPIRE", "a", "100"]);

    let all: String = q(&mut c, &["INFO"]);
    assert!(all.contains("\r\n"), "INFO lines end in CRLF");
    assert!(all.contains("# Server"), "{all}");
    let f = info_fields(&all);
    assert!(
        f.contains_key("redis_version"),
        "INFO lacks redis_version:\n{all}"
    );
    for sect in ["# Server", "# Clients", "# Memory", "# Stats", "# Keyspace"] {
        assert!(all.contains(sect), "INFO lacks {sect}:\n{all}");
    }

    let server: String = q(&mut c, &["INFO", "server"]);
    assert!(server.starts_with("# Server"), "{server}");
    assert!(
        !server.contains("# Clients"),
        "INFO server shows only that section"
    );
    let f = info_fields(&server);
    assert!(f.contains_key("redis_version"));
    let port: u16 = f.get("tcp_port").expect("tcp_port").parse().unwrap();
    assert_eq!(port, s.port);

    let clients: String = q(&mut c, &["INFO", "clients"]);
    let f = info_fields(&clients);
    let n: i64 = f
        .get("connected_clients")
        .expect("connected_clients")
        .parse()
        .unwrap();
    assert!(n >= 1);

    let mem: String = q(&mut c, &["INFO", "memory"]);
    let f = info_fields(&mem);
    let used: i64 = f.get("used_memory").expect("used_memory").parse().unwrap();
    assert!(used > 0);

    let stats: String = q(&mut c, &["INFO", "stats"]);
    let f = info_fields(&stats);
    let n: i64 = f
        .get("total_commands_processed")
        .expect("total_commands_processed")
        .parse()
        .unwrap();
    assert!(n >= 3);

    let ks: String = q(&mut c, &["INFO", "keyspace"]);
    let f = info_fields(&ks);
    let db0 = f
        .get("db0")
        .unwrap_or_else(|| panic!("INFO keyspace lacks db0:\n{ks}"));
    assert!(db0.starts_with("keys=2,expires=1"), "{db0}");

    let repl: String = q(&mut c, &["INFO", "replication"]);
    assert!(repl.contains("role:master"), "{repl}");

    // Several sections at once, case-insensitive.
    let two: String = q(&mut c, &["INFO", "SERVER", "Clients"]);
    assert!(
        two.contains("# Server") && two.contains("# Clients"),
        "{two}"
    );
    // Unknown section: empty string.
    let none: String = q(&mut c, &["INFO", "nosuchsection"]);
    assert_eq!(none, "");
}

#[test]
fn dbsize_flushdb_flushall() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 0);
    for i in 0..20 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 20);
    let ok: String = q(&mut c, &["FLUSHDB"]);
    assert_eq!(ok, "OK");
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 0);
    for i in 0..5 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v", "EX", "100"]);
    }
    let ok: String = q(&mut c, &["FLUSHALL"]);
    assert_eq!(ok, "OK");
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 0);
    // ASYNC / SYNC variants.
    let _: () = q(&mut c, &["SET", "a", "1"]);
    let _: () = q(&mut c, &["FLUSHDB", "ASYNC"]);
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 0);
    let _: () = q(&mut c, &["SET", "a", "1"]);
    let _: () = q(&mut c, &["FLUSHALL", "SYNC"]);
    let v: Option<String> = q(&mut c, &["GET", "a"]);
    assert_eq!(v, None);
    // Usable after flush.
    let _: () = q(&mut c, &["SET", "a", "2"]);
    let v: String = q(&mut c, &["GET", "a"]);
    assert_eq!(v, "2");

    let mut r = s.raw();
    assert_raw_err(&mut r, &["DBSIZE", "x"], &arity("dbsize"));
    assert_raw_err(&mut r, &["FLUSHDB", "foo"], SYNTAX);
    assert_raw_err(&mut r, &["FLUSHALL", "foo"], SYNTAX);
    assert_eq!(r.cmd_bytes(&[b"DBSIZE"]), b":1\r\n".to_vec());
}

#[test]
fn config_get_set() {
    let s = Server::under_test(&[]);
    let mut c = s.conn();
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "maxmemory"]);
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!(v[0], "maxmemory");
    assert!(v[1].parse::<u64>().is_ok(), "{v:?}");
    let ok: String = q(&mut c, &["CONFIG", "SET", "maxmemory", "100mb"]);
    assert_eq!(ok, "OK");
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "maxmemory"]);
    assert_eq!(v, vec!["maxmemory".to_string(), "104857600".to_string()]);
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "maxmemory"]);
    assert_eq!(v[1], "0");
    // Unknown parameter: empty result.
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "nosuchparam"]);
    assert!(v.is_empty());

    let mut r = s.raw();
    assert_eq!(
        r.cmd_bytes(&[b"CONFIG", b"GET", b"maxmemory"]),
        b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n".to_vec()
    );
    let rep = r.cmd_str(&["CONFIG", "SET", "maxmemory", "abc"]);
    let e = rep
        .error_text()
        .unwrap_or_else(|| panic!("bad maxmemory must fail: {rep}"));
    assert!(e.starts_with("ERR "), "{e}");
    let rep = r.cmd_str(&["CONFIG", "SET", "nosuchparam", "1"]);
    assert!(rep.is_error(), "{rep}");
    assert_raw_err(&mut r, &["CONFIG", "GET"], &arity("config|get"));
    assert_raw_err(
        &mut r,
        &["CONFIG", "SET", "maxmemory"],
        &arity("config|set"),
    );
    assert_raw_err(&mut r, &["CONFIG"], &arity("config"));
    // Value unchanged after the failures.
    assert_eq!(
        r.cmd_bytes(&[b"CONFIG", b"GET", b"maxmemory"]),
        b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n".to_vec()
    );
}

/// A second server on a port that is in use refuses to start (as Redis does)
/// instead of sharing the port's connections with the first one.
#[test]
fn second_server_on_a_taken_port_refuses_to_start() {
    for first in [Server::redcore(&[]), Server::redis(&[])] {
        let dir = std::env::temp_dir().join(format!("redcore-taken-port-{}-{}", std::process::id(), first.port));
        std::fs::create_dir_all(&dir).unwrap();
        let mut second = std::process::Command::new(redcore_bin())
            .args(["--port", &first.port.to_string(), "--bind", "127.0.0.1", "--dir"])
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(st) = second.try_wait().unwrap() {
                break Some(st);
            }
            if std::time::Instant::now() > deadline {
                let _ = second.kill();
                let _ = second.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(second.stderr.as_mut().unwrap(), &mut err).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let status = status.unwrap_or_else(|| panic!("a second server on port {} kept running", first.port));
        assert!(!status.success(), "second server exited with {status}");
        assert!(err.contains("Address already in use"), "stderr: {err}");
        // The first one is untouched.
        let mut c = first.conn();
        assert_eq!(redis::cmd("PING").query::<String>(&mut c).unwrap(), "PONG");
    }
}
