//! Running stock `redis-benchmark --csv` and parsing its output.
//!
//! Its CSV (Redis 7) has one header and one row per test:
//! `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"`.
//! It reports no p99.9. On an error reply it stops with a non-zero status
//! and `Error from server: ...`, which becomes an "n/a" row.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One `redis-benchmark` invocation.
#[derive(Clone, Debug)]
pub struct RbRun {
    pub bin: PathBuf,
    pub port: u16,
    pub clients: usize,
    pub pipeline: usize,
    pub data_size: usize,
    pub requests: u64,
    pub keyspace: u64,
    /// `-t` list, e.g. `set,get`; ignored when `command` is not empty.
    pub tests: String,
    /// A custom command (`__rand_int__` is replaced by a key number).
    pub command: Vec<String>,
    pub timeout: Duration,
}

/// One parsed row.
#[derive(Clone, Debug, PartialEq)]
pub struct RbRow {
    pub test: String,
    pub rps: f64,
    pub avg_ms: f64,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Runs it; an error when it fails, times out or prints no row.
pub fn run(r: &RbRun) -> Result<Vec<RbRow>, String> {
    let mut cmd = Command::new(&r.bin);
    cmd.args(["-h", "127.0.0.1", "-p", &r.port.to_string()])
        .args(["-c", &r.clients.to_string()])
        .args(["-P", &r.pipeline.max(1).to_string()])
        .args(["-d", &r.data_size.to_string()])
        .args(["-n", &r.requests.max(1).to_string()])
        .args(["-r", &r.keyspace.max(1).to_string()])
        .arg("--csv");
    if r.command.is_empty() {
        cmd.args(["-t", &r.tests]);
    } else {
        cmd.args(&r.command);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", r.bin.display()))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + r.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    let Some(status) = status else {
        return Err(format!("timed out after {:?}", r.timeout));
    };
    let rows = parse_csv(&out);
    let server_error = out
        .lines()
        .chain(err.lines())
        .find(|l| l.contains("Error from server"))
        .map(|l| l.trim().to_string());
    if let Some(e) = server_error {
        return Err(e);
    }
    if !status.success() || rows.is_empty() {
        let msg = format!("{} {}", out.trim(), err.trim());
        return Err(format!(
            "exit {status}: {}",
            msg.trim().chars().take(300).collect::<String>()
        ));
    }
    Ok(rows)
}

/// Parses the CSV rows (skips the header and anything else).
pub fn parse_csv(text: &str) -> Vec<RbRow> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line
                .trim()
                .split("\",\"")
                .map(|x| x.trim_matches('"'))
                .collect();
            if f.len() < 8 {
                return None;
            }
            let n = |i: usize| f[i].parse::<f64>().ok();
            Some(RbRow {
                test: f[0].to_string(),
                rps: n(1)?,
                avg_ms: n(2)?,
                min_ms: n(3)?,
                p50_ms: n(4)?,
                p95_ms: n(5)?,
                p99_ms: n(6)?,
                max_ms: n(7)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv() {
        let text = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\"SET\",\"71428.57\",\"0.166\",\"0.032\",\"0.079\",\"0.383\",\"2.471\",\"2.767\"\n\"MGET key:__rand_int__ key:__rand_int__\",\"28169.01\",\"0.131\",\"0.032\",\"0.079\",\"0.119\",\"2.615\",\"4.151\"\n";
        let rows = super::parse_csv(text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].test, "SET");
        assert_eq!(rows[0].rps, 71428.57);
        assert_eq!(rows[0].p99_ms, 2.471);
        assert_eq!(rows[1].test, "MGET key:__rand_int__ key:__rand_int__");
    }
}
