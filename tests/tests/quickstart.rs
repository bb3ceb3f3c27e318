//! The README quick start as a user runs it: redis-py (tests/py/quickstart.py)
//! and redis-cli against the server under test.

use std::process::Command;

use redcore_tests::*;


#[test]
fn redis_py_quickstart() {
    let s = Server::under_test(&["--cores", "2"]);
    run_py_script("quickstart.py", &[s.port.to_string()], "quickstart OK", || s.log());
}

fn cli(s: &Server, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &s.port.to_string()])
        .args(args)
        .output()
        .expect("run redis-cli");
    assert!(
        out.status.success(),
        "redis-cli {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn redis_cli_quickstart() {
    if !redis_cli_available() {
        eprintln!("!!! SKIPPED redis_cli_quickstart: redis-cli is not installed (apt-get install -y redis-tools) !!!");
        return;
    }
    let s = Server::under_test(&["--cores", "2"]);
    assert_eq!(cli(&s, &["ping"]), "PONG\n");
    assert_eq!(cli(&s, &["set", "foo", "bar"]), "OK\n");
    assert_eq!(cli(&s, &["get", "foo"]), "bar\n");
    assert_eq!(cli(&s, &["keys", "*"]), "foo\n");
    assert_eq!(cli(&s, &["incr", "n"]), "1\n");
    assert_eq!(cli(&s, &["get", "nokey"]), "\n");
    assert_eq!(cli(&s, &["dbsize"]), "2\n");
    let info = cli(&s, &["info", "replication"]);
    assert!(info.contains("role:master"), "{info}");
    let err = cli(&s, &["get"]);
    assert!(
        err.contains("ERR wrong number of arguments for 'get' command"),
        "{err}"
    );
    // Piped input, as in `echo ... | redis-cli`.
    let mut child = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &s.port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn redis-cli");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"set a 1\nget a\nexists a foo\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\n1\n2\n");
}
