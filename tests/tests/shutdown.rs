//! SHUTDOWN and the signals that ask for it (SIGTERM, SIGINT).
//!
//! - Bad arguments, ABORT and MULTI get Redis's errors and the server keeps
//!   serving (compared with stock redis-server when it is installed).
//! - SHUTDOWN writes and fsyncs the append-only log of every core, snapshots
//!   when `save` rules are set (or SAVE is given, never with NOSAVE), and
//!   exits with status 0; a restart on the same directory finds the keys.
//! - When persisting fails the client gets an error and the server keeps
//!   running, unless FORCE.
//! - SIGTERM and SIGINT do what SHUTDOWN without arguments does.

use redcore_tests::RawReply as R;
use redcore_tests::common::SYNTAX;
use redcore_tests::*;
use std::path::Path;
use std::time::Duration;

/// How long a shutdown may take (a debug build on a busy machine).
const EXIT_TIMEOUT: Duration = Duration::from_secs(15);

/// The SHUTDOWN commands that must fail, with Redis 7.0's replies.
const REFUSED: &[(&[&str], &str)] = &[
    (&["SHUTDOWN", "foo"], SYNTAX),
    (&["SHUTDOWN", "SAVE", "NOSAVE"], SYNTAX),
    (&["SHUTDOWN", "nosave", "nosave", "foo"], SYNTAX),
    (&["SHUTDOWN", "ABORT", "NOW"], SYNTAX),
    (&["SHUTDOWN", "FORCE", "abort"], SYNTAX),
    (&["SHUTDOWN", "ABORT"], "ERR No shutdown in progress."),
    (&["shutdown", "abort"], "ERR No shutdown in progress."),
];

/// Asserts `s` exits with status 0 within [`EXIT_TIMEOUT`].
fn assert_exits_cleanly(s: &mut Server) {
    match s.wait_exit(EXIT_TIMEOUT) {
        Some(status) => assert!(status.success(), "exit status {status}\n{}", s.log()),
        None => panic!("still running {EXIT_TIMEOUT:?} after the shutdown\n{}", s.log()),
    }
}

/// Sends `cmd` on a fresh connection and asserts the server closes it
/// without a reply.
fn shutdown_without_reply(s: &Server, cmd: &[&str]) {
    let mut r = s.raw();
    r.send(&encode_cmd(cmd));
    let got = r.read_available(EXIT_TIMEOUT);
    assert!(got.is_empty(), "{cmd:?} answered {:?}\n{}", String::from_utf8_lossy(&got), s.log());
}

fn set_keys(c: &mut redis::Connection, prefix: &str, n: usize) {
    for i in 0..n {
        let _: () = q(c, &["SET", &format!("{prefix}:{i}"), &format!("v{i}")]);
    }
}

fn count_keys(c: &mut redis::Connection, prefix: &str, n: usize) -> usize {
    (0..n).filter(|i| q::<Option<String>>(c, &["GET", &format!("{prefix}:{i}")]).as_deref() == Some(format!("v{i}").as_str())).count()
}

/// Restarts redcore on `dir` and counts the keys `prefix:0..n` it has.
fn keys_after_restart(dir: &Path, args: &[&str], prefix: &str, n: usize) -> usize {
    let s = Server::redcore_on(dir, args);
    let mut c = s.conn();
    count_keys(&mut c, prefix, n)
}

#[test]
fn bad_arguments_abort_and_multi_are_refused_and_the_server_keeps_serving() {
    let mut s = Server::under_test(&["--cores", "2"]);
    let mut r = s.raw();
    assert_reply!(r.cmd_str(&["SET", "k", "v"]), R::ok());
    for (cmd, want) in REFUSED {
        assert_raw_err(&mut r, cmd, want);
    }
    // no_multi: refused while queueing, and EXEC aborts.
    assert_reply!(r.cmd_str(&["MULTI"]), R::ok());
    assert_raw_err(&mut r, &["SHUTDOWN"], "ERR Command not allowed inside a transaction");
    assert_raw_err(&mut r, &["SHUTDOWN", "NOSAVE"], "ERR Command not allowed inside a transaction");
    assert_raw_err(&mut r, &["EXEC"], "EXECABORT Transaction discarded because of previous errors.");
    assert_reply!(r.cmd_str(&["GET", "k"]), R::bulk("v"));
    s.assert_alive();
}

#[test]
fn error_replies_match_redis() {
    if !redis_server_available() {
        eprintln!("\n!!! SKIPPED error_replies_match_redis: redis-server is not installed !!!\n");
        return;
    }
    let mut servers = [Server::redcore(&["--cores", "2"]), Server::redis(&[])];
    let replies: Vec<Vec<R>> = servers
        .iter()
        .map(|s| {
            let mut r = s.raw();
            let mut out: Vec<R> = REFUSED.iter().map(|(cmd, _)| r.cmd_str(cmd)).collect();
            out.push(r.cmd_str(&["MULTI"]));
            out.push(r.cmd_str(&["SHUTDOWN", "SAVE"]));
            out.push(r.cmd_str(&["EXEC"]));
            out
        })
        .collect();
    assert_eq!(replies[0], replies[1], "redcore (left) and redis (right) differ");
    for s in servers.iter_mut() {
        shutdown_without_reply(s, &["SHUTDOWN", "NOSAVE"]);
        assert_exits_cleanly(s);
    }
}

#[test]
fn shutdown_writes_the_log_and_a_restart_finds_every_key() {
    if !is_redcore() {
        return;
    }
    // One core too: there the SHUTDOWN runs with no await before it exits,
    // so the log writer never gets to write the last records on its own.
    for cores in ["1", "2"] {
        shutdown_writes_the_log(cores);
    }
}

fn shutdown_writes_the_log(cores: &str) {
    let dir = data_dir();
    let args = ["--cores", cores, "--appendonly", "yes", "--appendfsync", "everysec"];
    let n = 300;
    {
        let mut s = Server::redcore_on(&dir, &args);
        let mut c = s.conn();
        // No snapshot on exit: the keys must come from the log.
        let _: () = q(&mut c, &["CONFIG", "SET", "save", ""]);
        set_keys(&mut c, "a", n);
        // The last writes ride in one pipeline with the SHUTDOWN: they run
        // (and are logged) before it, but the log writer may not have
        // written them yet when it starts.
        let mut r = s.raw();
        let mut burst = Vec::new();
        for i in 0..n {
            burst.extend(encode_cmd(&["SET", &format!("b:{i}"), &format!("v{i}")]));
        }
        burst.extend(encode_cmd(&["SHUTDOWN"]));
        r.send(&burst);
        assert!(r.is_closed_within(EXIT_TIMEOUT), "connection still open after SHUTDOWN\n{}", s.log());
        assert_exits_cleanly(&mut s);
        assert!(s.log().contains("shutting down"), "{}", s.log());
    }
    let s = Server::redcore_on(&dir, &args);
    let mut c = s.conn();
    assert_eq!(count_keys(&mut c, "a", n), n, "keys set before SHUTDOWN lost\n{}", s.log());
    assert_eq!(count_keys(&mut c, "b", n), n, "pipelined keys before SHUTDOWN lost\n{}", s.log());
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts a server on a fresh directory with `args`, sets `n` keys, lets
/// `stop` end it (it must exit cleanly), and returns how many of the keys a
/// restart on that directory finds, with the stopped server's log.
fn keys_kept_by(args: &[&str], n: usize, stop: impl FnOnce(&mut Server)) -> (usize, String) {
    let dir = data_dir();
    let mut s = Server::redcore_on(&dir, args);
    set_keys(&mut s.conn(), "k", n);
    stop(&mut s);
    assert_exits_cleanly(&mut s);
    let kept = keys_after_restart(&dir, args, "k", n);
    let _ = std::fs::remove_dir_all(&dir);
    (kept, s.log())
}

#[test]
fn shutdown_snapshots_unless_nosave() {
    if !is_redcore() {
        return;
    }
    // No log: what survives comes from the final snapshot alone.
    let args = ["--cores", "2"];
    let n = 100;
    // Default `save` rules: SHUTDOWN snapshots.
    assert_eq!(keys_kept_by(&args, n, |s| shutdown_without_reply(s, &["SHUTDOWN"])).0, n);
    // NOSAVE: the writes since the last snapshot are gone.
    assert_eq!(keys_kept_by(&args, n, |s| shutdown_without_reply(s, &["SHUTDOWN", "NOSAVE"])).0, 0);
    // No `save` rules, but SAVE: snapshots anyway.
    let (kept, _) = keys_kept_by(&args, n, |s| {
        let _: () = q(&mut s.conn(), &["CONFIG", "SET", "save", ""]);
        shutdown_without_reply(s, &["SHUTDOWN", "save", "now"]);
    });
    assert_eq!(kept, n);
}

#[test]
fn failed_save_keeps_the_server_running_unless_force() {
    if !is_redcore() {
        return;
    }
    let dir = data_dir();
    let mut s = Server::redcore_on(&dir, &["--cores", "2"]);
    let mut r = s.raw();
    assert_reply!(r.cmd_str(&["SET", "k", "v"]), R::ok());
    // The snapshot cannot be created without its directory.
    std::fs::remove_dir_all(&dir).expect("remove the data directory");
    assert_raw_err(&mut r, &["SHUTDOWN"], "ERR Errors trying to SHUTDOWN. Check logs.");
    assert_raw_err(&mut r, &["SHUTDOWN", "SAVE"], "ERR Errors trying to SHUTDOWN. Check logs.");
    // Still serving, writes included (the gates were released).
    assert_reply!(r.cmd_str(&["SET", "k2", "v2"]), R::ok());
    assert_reply!(r.cmd_str(&["GET", "k"]), R::bulk("v"));
    s.assert_alive();
    assert!(s.log().contains("snapshot failed"), "{}", s.log());
    shutdown_without_reply(&s, &["SHUTDOWN", "FORCE"]);
    assert_exits_cleanly(&mut s);
}

#[test]
fn sigterm_and_sigint_snapshot_and_exit() {
    if !is_redcore() {
        return;
    }
    // No log: the keys survive only through the final snapshot.
    let args = ["--cores", "2"];
    let n = 100;
    for sig in ["TERM", "INT"] {
        let (kept, log) = keys_kept_by(&args, n, |s| s.signal(sig));
        assert!(log.contains(&format!("SIG{sig} received")), "{log}");
        assert_eq!(kept, n, "SIG{sig}: keys lost");
    }
}
