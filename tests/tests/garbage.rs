//! Malformed input: protocol errors must be answered with `-ERR Protocol
//! error...` and the connection closed; random bytes and truncated frames must
//! not take the server down or disturb other clients and their data.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redcore_tests::RawReply as R;
use redcore_tests::*;

/// Sends `payload` on a fresh connection; returns everything received until
/// the server closes (or `wait` passes) and whether it closed.
fn send_and_collect(s: &Server, payload: &[u8], wait: Duration) -> (Vec<u8>, bool) {
    let mut st = TcpStream::connect(s.addr()).expect("connect");
    st.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may close before taking everything: write errors are fine.
    let _ = st.write_all(payload);
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return (out, false);
        }
        st.set_read_timeout(Some(deadline - now)).unwrap();
        match st.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (out, false)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return (out, true),
        }
    }
}

/// A witness: a client connected before the garbage, with known data.
struct Witness {
    conn: RawConn,
}

impl Witness {
    fn new(s: &Server) -> Witness {
        let mut conn = s.raw();
        let mut args: Vec<String> = vec!["MSET".into()];
        for i in 0..100 {
            args.push(format!("keep:{i}"));
            args.push(format!("value-{i}"));
        }
        let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
        assert_reply!(conn.cmd(&a), R::ok());
        Witness { conn }
    }

    fn check(&mut self, s: &mut Server) {
        s.assert_alive();
        let mut args: Vec<String> = vec!["MGET".into()];
        args.extend((0..100).map(|i| format!("keep:{i}")));
        let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
        let rep = self.conn.cmd(&a);
        let want = R::arr((0..100).map(|i| R::bulk(format!("value-{i}"))).collect());
        assert_reply!(rep, want, "data set before the garbage must be intact");
        assert_reply!(self.conn.cmd_str(&["PING"]), R::simple("PONG"));
        // And a brand-new client works.
        let mut fresh = s.raw();
        assert_reply!(fresh.cmd_str(&["GET", "keep:42"]), R::bulk("value-42"));
    }
}

fn big_inline() -> Vec<u8> {
    vec![b'A'; 70_000]
}

fn big_count_line() -> Vec<u8> {
    let mut v = b"*1".to_vec();
    v.extend(std::iter::repeat_n(b'1', 70_000));
    v
}

/// Inputs that stock Redis answers with a protocol error and a close.
fn protocol_error_cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        (
            "huge multibulk count",
            b"*999999999999\r\n".to_vec(),
            "ERR Protocol error: invalid multibulk length",
        ),
        (
            "non-numeric multibulk count",
            b"*abc\r\n".to_vec(),
            "ERR Protocol error: invalid multibulk length",
        ),
        (
            "huge bulk length",
            b"*1\r\n$999999999999\r\n".to_vec(),
            "ERR Protocol error: invalid bulk length",
        ),
        (
            "negative bulk length",
            b"*1\r\n$-5\r\n".to_vec(),
            "ERR Protocol error: invalid bulk length",
        ),
        (
            "non-numeric bulk length",
            b"*1\r\n$abc\r\n".to_vec(),
            "ERR Protocol error: invalid bulk length",
        ),
        (
            "integer instead of bulk",
            b"*2\r\n$3\r\nGET\r\n:5\r\n".to_vec(),
            "ERR Protocol error: expected '$', got ':'",
        ),
        (
            "inline > 64 KiB without newline",
            big_inline(),
            "ERR Protocol error: too big inline request",
        ),
        (
            "multibulk count line > 64 KiB",
            big_count_line(),
            "ERR Protocol error: too big mbulk count string",
        ),
        (
            "unbalanced double quote",
            b"SET \"foo bar\r\n".to_vec(),
            "ERR Protocol error: unbalanced quotes in request",
        ),
        (
            "unbalanced single quote",
            b"SET 'foo bar\r\n".to_vec(),
            "ERR Protocol error: unbalanced quotes in request",
        ),
        (
            "closing quote not followed by space",
            b"SET \"foo\"bar\r\n".to_vec(),
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ]
}

#[test]
fn protocol_errors_reply_and_close() {
    let mut s = Server::under_test(&["--cores", "2"]);
    let mut w = Witness::new(&s);
    for (name, payload, _exact) in protocol_error_cases() {
        let (got, closed) = send_and_collect(&s, &payload, Duration::from_secs(5));
        let text = String::from_utf8_lossy(&got).into_owned();
        assert!(
            text.starts_with("-ERR Protocol error"),
            "{name}: expected a '-ERR Protocol error' reply, got {text:?}"
        );
        assert!(
            text.ends_with("\r\n"),
            "{name}: reply not CRLF-terminated: {text:?}"
        );
        assert!(
            closed,
            "{name}: connection must be closed after a protocol error"
        );
    }
    w.check(&mut s);
}

#[test]
fn protocol_error_messages_match_redis() {
    let s = Server::under_test(&[]);
    for (name, payload, exact) in protocol_error_cases() {
        let (got, _) = send_and_collect(&s, &payload, Duration::from_secs(5));
        assert_eq!(
            String::from_utf8_lossy(&got),
            format!("-{exact}\r\n"),
            "{name}: exact protocol error text"
        );
    }
}

#[test]
fn commands_before_protocol_error_still_run() {
    let s = Server::under_test(&[]);
    let mut payload = encode_cmd(&["SET", "before", "1"]);
    payload.extend_from_slice(b"*2\r\n$3\r\nGET\r\n:5\r\n");
    payload.extend(encode_cmd(&["SET", "after", "1"]));
    let (got, closed) = send_and_collect(&s, &payload, Duration::from_secs(5));
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(text.starts_with("+OK\r\n-ERR Protocol error"), "{text:?}");
    assert!(closed);
    let mut c = s.raw();
    assert_reply!(c.cmd_str(&["GET", "before"]), R::bulk("1"));
    assert_reply!(
        c.cmd_str(&["GET", "after"]),
        R::nil(),
        "nothing after a protocol error runs"
    );
}

#[test]
fn top_level_dollar_line() {
    // `$999999999999\r\n` outside a multibulk: stock Redis reads it as an
    // inline command named "$999999999999" (unknown command, connection kept);
    // a server may also treat it as a protocol error and close.
    let mut s = Server::under_test(&[]);
    let mut w = Witness::new(&s);
    let mut c = s.raw();
    c.send(b"$999999999999\r\n");
    let rep = c.read_reply();
    let e = rep
        .error_text()
        .unwrap_or_else(|| panic!("expected an error, got {rep}"));
    if e.starts_with("ERR Protocol error") {
        assert!(c.is_closed(), "protocol error must close the connection");
    } else {
        assert!(e.starts_with("ERR unknown command '$999999999999'"), "{e}");
        assert_reply!(c.cmd_str(&["PING"]), R::simple("PONG"));
    }
    w.check(&mut s);
}

#[test]
fn truncated_frames_get_no_reply_and_do_no_harm() {
    let mut s = Server::under_test(&["--cores", "2"]);
    let mut w = Witness::new(&s);
    let full = encode_cmd(&["SET", "trunc", "value"]);
    // Every strict prefix: no reply within a short wait, then drop.
    for cut in [1, 2, 3, 4, 5, 8, 12, 15, full.len() - 3, full.len() - 1] {
        let mut c = s.raw();
        c.send(&full[..cut]);
        let got = c.read_available(Duration::from_millis(100));
        assert!(
            got.is_empty(),
            "prefix of {cut} bytes got a reply {:?}",
            String::from_utf8_lossy(&got)
        );
        drop(c);
    }
    // Half-closing the write side mid-frame must not execute anything.
    let mut c = s.raw();
    c.send(&full[..full.len() - 1]);
    c.shutdown_write();
    assert!(
        c.is_closed(),
        "server should close a half-closed connection"
    );
    let mut chk = s.raw();
    assert_reply!(chk.cmd_str(&["EXISTS", "trunc"]), R::Int(0));
    w.check(&mut s);
}

#[test]
fn frames_split_at_every_byte() {
    let s = Server::under_test(&[]);
    let mut c = s.raw();
    let mut blob = encode_cmd(&["SET", "split", "a\r\nb"]);
    blob.extend(encode_cmd(&["GET", "split"]));
    blob.extend(b"PING\r\n");
    blob.extend(encode_cmd(&["INCR", "n"]));
    let mut stream = c.stream_clone();
    for b in &blob {
        stream.write_all(std::slice::from_ref(b)).unwrap();
        stream.flush().unwrap();
    }
    assert_reply!(c.read_reply(), R::ok());
    assert_reply!(c.read_reply(), R::bulk("a\r\nb"));
    assert_reply!(c.read_reply(), R::simple("PONG"));
    assert_reply!(c.read_reply(), R::Int(1));
}

#[test]
fn benign_oddities() {
    let s = Server::under_test(&[]);
    let mut c = s.raw();
    // Empty multibulk and empty inline lines are ignored.
    c.send(b"*0\r\n\r\n\r\nPING\r\n");
    assert_reply!(c.read_reply(), R::simple("PONG"));
    // LF-only inline terminator.
    c.send(b"PING\n");
    assert_reply!(c.read_reply(), R::simple("PONG"));
    // Inline quoting and escapes.
    c.send(b"SET q \"x\\x41y\\n\"\r\nGET q\r\n");
    assert_reply!(c.read_reply(), R::ok());
    assert_reply!(c.read_reply(), R::bulk("xAy\n"));
    c.send(b"SET q2 'single quoted'\r\nGET q2\r\n");
    assert_reply!(c.read_reply(), R::ok());
    assert_reply!(c.read_reply(), R::bulk("single quoted"));
    assert_reply!(c.cmd_str(&["PING"]), R::simple("PONG"));
}

#[test]
fn random_bytes_do_not_kill_the_server() {
    let mut s = Server::under_test(&["--cores", "2"]);
    let mut w = Witness::new(&s);
    let mut rng = StdRng::seed_from_u64(0x5EED_F00D);
    for round in 0..40 {
        let len = rng.gen_range(1..8192);
        let mut payload: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        // Steer some rounds into the RESP parser rather than the inline one.
        match round % 4 {
            0 => payload[0] = b'*',
            1 => {
                let mut p = b"*3\r\n$3\r\nSET\r\n".to_vec();
                p.extend_from_slice(&payload);
                payload = p;
            }
            2 => {
                // Random printable junk with CRLFs (inline commands).
                const ALPHABET: &[u8] = b" \r\nabcXYZ\"'\\$*:0123456789";
                for b in payload.iter_mut() {
                    *b = ALPHABET[(*b as usize) % ALPHABET.len()];
                }
            }
            _ => {}
        }
        let (_got, _closed) = send_and_collect(&s, &payload, Duration::from_millis(150));
        assert!(
            s.is_alive(),
            "server died on random round {round}\n{}",
            s.log()
        );
    }
    // The random inline rounds could have run real commands (e.g. FLUSHALL is
    // impossible from this alphabet, but SET/DEL of odd keys is not): check
    // the witness data explicitly.
    w.check(&mut s);
}

#[test]
fn garbage_on_many_connections_concurrently() {
    let mut s = Server::under_test(&["--cores", "2"]);
    let mut w = Witness::new(&s);
    let addr = s.addr();
    let mut hs = Vec::new();
    for t in 0..4u64 {
        let addr = addr.clone();
        hs.push(std::thread::spawn(move || {
            let mut rng = StdRng::seed_from_u64(1000 + t);
            for _ in 0..10 {
                let Ok(mut st) = TcpStream::connect(&addr) else {
                    continue;
                };
                let payload: Vec<u8> = (0..rng.gen_range(1..4096)).map(|_| rng.gen()).collect();
                let _ = st.write_all(&payload);
                let _ = st.write_all(b"*999999999999\r\n");
                st.set_read_timeout(Some(Duration::from_millis(50))).ok();
                let mut buf = [0u8; 1024];
                let _ = st.read(&mut buf);
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    w.check(&mut s);
}
