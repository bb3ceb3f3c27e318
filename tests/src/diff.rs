//! Differential testing: one script of commands runs against stock
//! redis-server and against the server under test, and the reply bytes are
//! compared step by step.
//!
//! Script format, one command per line: a mode marker, then the command.
//!   `=`  exact   `~N` integer within N   `s` sorted array
//!   `scan` full SCAN (args after SCAN's cursor)   `skip` not compared
//! Arguments are split on spaces; "double quotes" group (no escapes), ""
//! is the empty string. `#` starts a comment line. With
//! `REDCORE_TEST_AGAINST=redis` both sides are stock Redis, which checks
//! that a script is deterministic.

use crate::*;

/// How the two replies of a step are compared.
#[derive(Clone, Debug, PartialEq)]
enum Mode {
    /// Byte-exact.
    Exact,
    /// Both integers, at most this far apart (TTLs of fresh keys).
    IntTol(i64),
    /// Arrays equal after sorting their elements (KEYS).
    Sorted,
    /// Run SCAN to completion with the given args on both sides; compare the
    /// sorted set of keys.
    Scan,
    /// Run on both, compare nothing (replies carry ids/versions).
    Skip,
}

fn tokenize(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_q = false;
    let mut have = false;
    for ch in line.chars() {
        match ch {
            '"' => {
                in_q = !in_q;
                have = true;
            }
            ' ' if !in_q => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            _ => {
                cur.push(ch);
                have = true;
            }
        }
    }
    assert!(!in_q, "unbalanced quotes in script line {line:?}");
    if have {
        out.push(cur);
    }
    out
}

fn parse_script(script: &str) -> Vec<(Mode, Vec<String>)> {
    let mut steps = Vec::new();
    for line in script.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut toks = tokenize(line);
        let marker = toks.remove(0);
        let mode = match marker.as_str() {
            "=" => Mode::Exact,
            "s" => Mode::Sorted,
            "skip" => Mode::Skip,
            "scan" => Mode::Scan,
            m if m.starts_with('~') => Mode::IntTol(m[1..].parse().expect("tolerance")),
            m => panic!("bad mode marker {m:?} in {line:?}"),
        };
        steps.push((mode, toks));
    }
    steps
}

fn show(b: &[u8]) -> String {
    let s: String = b.escape_ascii().to_string();
    if s.len() > 400 {
        format!("{}... ({} bytes)", &s[..400], b.len())
    } else {
        s
    }
}

fn scan_keys(c: &mut RawConn, extra: &[String]) -> Result<Vec<String>, String> {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    for _ in 0..10_000 {
        let mut args: Vec<&[u8]> = vec![b"SCAN", cursor.as_bytes()];
        args.extend(extra.iter().map(|a| a.as_bytes()));
        let rep = c.cmd(&args);
        let items = rep
            .items()
            .ok_or_else(|| format!("SCAN reply is not an array: {rep}"))?;
        if items.len() != 2 {
            return Err(format!("SCAN reply has {} elements: {rep}", items.len()));
        }
        cursor = items[0]
            .as_str()
            .ok_or_else(|| format!("bad cursor in {rep}"))?;
        for k in items[1]
            .items()
            .ok_or_else(|| format!("bad key list in {rep}"))?
        {
            keys.push(k.as_str().ok_or_else(|| format!("bad key in {rep}"))?);
        }
        if cursor == "0" {
            keys.sort();
            keys.dedup();
            return Ok(keys);
        }
    }
    Err("SCAN did not terminate within 10000 calls".into())
}

/// Runs `script` (format above) against stock Redis and the server under
/// test and panics listing every step whose replies differ. Passes with a
/// message when redis-server is not installed.
pub fn run_script(script: &str, min_steps: usize) {
    if !redis_server_available() {
        eprintln!("SKIPPED differential test: redis-server is not installed (apt-get install -y redis-server)");
        return;
    }
    let steps = parse_script(script);
    assert!(steps.len() >= min_steps, "script has only {} steps", steps.len());
    let reference = Server::redis(&[]);
    let target = Server::under_test(&["--cores", "2"]);
    let mut a = reference.raw();
    let mut b = target.raw();
    let mut mismatches = Vec::new();
    // REDCORE_DIFF_VERBOSE=1 prints every step with the reference reply.
    let verbose = std::env::var_os("REDCORE_DIFF_VERBOSE").is_some();
    for (i, (mode, args)) in steps.iter().enumerate() {
        let shown = args.join(" ");
        if *mode == Mode::Scan {
            let ka = scan_keys(&mut a, args);
            let kb = scan_keys(&mut b, args);
            if ka != kb {
                mismatches.push(format!(
                    "#{i} SCAN {shown}\n    redis:    {ka:?}\n    target:   {kb:?}"
                ));
            }
            continue;
        }
        let argv: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        a.send_cmd(&argv);
        let (ra, ba) = a
            .try_read_reply_with_bytes()
            .unwrap_or_else(|e| panic!("redis, step #{i} {shown}: {e}"));
        b.send_cmd(&argv);
        let (rb, bb) = match b.try_read_reply_with_bytes() {
            Ok(x) => x,
            Err(e) => {
                mismatches.push(format!("#{i} {shown}\n    target failed to reply: {e}"));
                panic!(
                    "target stopped replying; mismatches so far:\n{}\n--- target log ---\n{}",
                    mismatches.join("\n"),
                    target.log()
                );
            }
        };
        if verbose {
            eprintln!("#{i} {shown}\n    -> {}", show(&ba));
        }
        let same = match mode {
            Mode::Exact => ba == bb,
            Mode::Skip => true,
            Mode::IntTol(t) => match (ra.as_int(), rb.as_int()) {
                (Some(x), Some(y)) => (x - y).abs() <= *t,
                _ => false,
            },
            Mode::Sorted => match (ra.items(), rb.items()) {
                (Some(x), Some(y)) => {
                    let mut x: Vec<String> = x.iter().map(|r| r.to_string()).collect();
                    let mut y: Vec<String> = y.iter().map(|r| r.to_string()).collect();
                    x.sort();
                    y.sort();
                    x == y
                }
                _ => false,
            },
            Mode::Scan => unreachable!(),
        };
        if !same {
            mismatches.push(format!(
                "#{i} {shown}   [{mode:?}]\n    redis:  {}\n    target: {}",
                show(&ba),
                show(&bb)
            ));
        }
    }
    // After QUIT both close the connection.
    assert!(a.is_closed(), "redis kept the connection open after QUIT");
    if !b.is_closed() {
        mismatches.push("target kept the connection open after QUIT".into());
    }
    eprintln!(
        "differential: {} steps, {} mismatches (target: {:?})",
        steps.len(),
        mismatches.len(),
        target.kind
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} steps differ from stock Redis:\n{}",
        mismatches.len(),
        steps.len(),
        mismatches.join("\n")
    );
}
