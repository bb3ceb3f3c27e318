//! Durability: what each appendfsync setting promises survives kill -9.
//!
//! - `always`: every acknowledged write of every type is there after a
//!   restart.
//! - `everysec`: at most about one second of acknowledged writes is lost.
//! - Restarting with another number of cores keeps every key.
//! - A damaged log or snapshot is refused with a clear message (and
//!   `--repair-log` cuts a damaged log), never silently half-loaded.
//! - BGSAVE snapshots survive a restart without the log.

use redcore_tests::*;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One step of the workload: a write of every type, sent as one pipeline.
fn write_step(c: &mut redis::Connection, i: usize) -> redis::RedisResult<()> {
    redis::pipe()
        .cmd("SET").arg(format!("s:{i}")).arg(format!("v{i}")).ignore()
        .cmd("RPUSH").arg(format!("l:{}", i % 37)).arg(format!("e{i}")).ignore()
        .cmd("HSET").arg(format!("h:{}", i % 37)).arg(format!("f{i}")).arg(i).ignore()
        .cmd("SADD").arg(format!("set:{}", i % 37)).arg(format!("m{i}")).ignore()
        .cmd("ZADD").arg(format!("z:{}", i % 37)).arg(i).arg(format!("m{i}")).ignore()
        .cmd("INCR").arg(format!("cnt:{}", i % 7)).ignore()
        .cmd("SET").arg(format!("ttl:{i}")).arg("x").arg("EX").arg(100_000).ignore()
        .query(c)
}

/// Checks that steps `0..n` are all present (and nothing beyond `max`).
fn check_steps(c: &mut redis::Connection, n: usize, max: usize) {
    for i in 0..n {
        let v: Option<String> = q(c, &["GET", &format!("s:{i}")]);
        assert_eq!(v.as_deref(), Some(format!("v{i}").as_str()), "SET of step {i} lost");
        let pos: Option<i64> = q(c, &["LPOS", &format!("l:{}", i % 37), &format!("e{i}")]);
        assert!(pos.is_some(), "RPUSH of step {i} lost");
        let h: Option<String> = q(c, &["HGET", &format!("h:{}", i % 37), &format!("f{i}")]);
        assert_eq!(h, Some(i.to_string()), "HSET of step {i} lost");
        let m: i64 = q(c, &["SISMEMBER", &format!("set:{}", i % 37), &format!("m{i}")]);
        assert_eq!(m, 1, "SADD of step {i} lost");
        let z: Option<f64> = q(c, &["ZSCORE", &format!("z:{}", i % 37), &format!("m{i}")]);
        assert_eq!(z, Some(i as f64), "ZADD of step {i} lost");
        let ttl: i64 = q(c, &["TTL", &format!("ttl:{i}")]);
        assert!(ttl > 90_000, "TTL of step {i} lost: {ttl}");
    }
    for k in 0..7 {
        let got: i64 = q::<Option<i64>>(c, &["GET", &format!("cnt:{k}")]).unwrap_or(0);
        let acked = (0..n).filter(|i| i % 7 == k).count() as i64;
        let sent = (0..max).filter(|i| i % 7 == k).count() as i64;
        assert!(got >= acked && got <= sent, "counter cnt:{k} = {got}, acknowledged {acked}, sent {sent}");
    }
}

/// Acknowledged write counts over time, shared with the writer thread.
type Progress = Arc<Mutex<Vec<(Instant, usize)>>>;

/// Writes steps from a thread until the server dies; returns (acknowledged
/// count over time, the thread, stop flag).
fn start_writer(url: String) -> (Progress, thread::JoinHandle<usize>, Arc<AtomicBool>) {
    let progress = Arc::new(Mutex::new(vec![(Instant::now(), 0usize)]));
    let stop = Arc::new(AtomicBool::new(false));
    let (p, st) = (progress.clone(), stop.clone());
    let h = thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let started = Instant::now();
        let mut i = 0;
        while !st.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(30) {
            if write_step(&mut c, i).is_err() {
                break;
            }
            i += 1;
            p.lock().unwrap().push((Instant::now(), i));
        }
        i
    });
    (progress, h, stop)
}

fn kill9_during_writes(args: &[&str], run: Duration) -> (std::path::PathBuf, Vec<(Instant, usize)>, Instant) {
    let dir = data_dir();
    let s = Server::redcore_on(&dir, args);
    let (progress, writer, _stop) = start_writer(s.url());
    thread::sleep(run);
    let killed_at = Instant::now();
    drop(s); // SIGKILL
    writer.join().unwrap();
    let p = progress.lock().unwrap().clone();
    (dir, p, killed_at)
}

#[test]
fn appendfsync_always_keeps_every_acknowledged_write() {
    if !is_redcore() {
        return;
    }
    let args = ["--cores", "2", "--appendonly", "yes", "--appendfsync", "always"];
    let (dir, progress, _) = kill9_during_writes(&args, Duration::from_millis(1500));
    let acked = progress.last().unwrap().1;
    assert!(acked > 20, "too few writes before the kill: {acked}");
    let s = Server::redcore_on(&dir, &args);
    let mut c = s.conn();
    check_steps(&mut c, acked, acked + 1);
    eprintln!("always: {acked} acknowledged steps, all found after kill -9");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn appendfsync_everysec_loses_at_most_about_a_second() {
    if !is_redcore() {
        return;
    }
    let args = ["--cores", "2", "--appendonly", "yes", "--appendfsync", "everysec"];
    let (dir, progress, killed_at) = kill9_during_writes(&args, Duration::from_millis(2500));
    let total = progress.last().unwrap().1;
    // Everything acknowledged 1.5 s before the kill must be there.
    let safe = progress.iter().filter(|(t, _)| *t + Duration::from_millis(1500) <= killed_at).map(|(_, n)| *n).max().unwrap_or(0);
    let s = Server::redcore_on(&dir, &args);
    let mut c = s.conn();
    check_steps(&mut c, safe, total + 1);
    let mut found = 0;
    while found < total {
        let v: Option<String> = q(&mut c, &["GET", &format!("s:{found}")]);
        if v.is_none() {
            break;
        }
        found += 1;
    }
    eprintln!("everysec: {total} acknowledged, {found} found, {safe} required");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

fn write_keys(c: &mut redis::Connection, from: usize, to: usize) {
    for i in from..to {
        write_step(c, i).unwrap();
    }
}

#[test]
fn restart_with_another_core_count_keeps_every_key() {
    if !is_redcore() {
        return;
    }
    let dir = data_dir();
    let always = ["--appendonly", "yes", "--appendfsync", "always"];
    let with = |cores: &'static str| -> Vec<&str> { [&["--cores", cores][..], &always[..]].concat() };
    {
        let s = Server::redcore_on(&dir, &with("2"));
        let mut c = s.conn();
        write_keys(&mut c, 0, 150);
        let _: String = q(&mut c, &["BGSAVE"]);
        write_keys(&mut c, 150, 300);
    }
    {
        let s = Server::redcore_on(&dir, &with("1"));
        let mut c = s.conn();
        check_steps(&mut c, 300, 300);
        write_keys(&mut c, 300, 400);
    }
    {
        let s = Server::redcore_on(&dir, &with("2"));
        let mut c = s.conn();
        check_steps(&mut c, 400, 400);
        let info: String = q(&mut c, &["INFO", "cores"]);
        assert!(info.contains("core1:"), "{info}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn files_with(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == ext)).collect();
    v.sort_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    v
}

fn flip_middle_byte(path: &Path) {
    let mut data = std::fs::read(path).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0x5a;
    std::fs::write(path, data).unwrap();
}

#[test]
fn damaged_log_is_refused_and_can_be_repaired() {
    if !is_redcore() {
        return;
    }
    let dir = data_dir();
    let args = ["--cores", "2", "--appendonly", "yes", "--appendfsync", "always"];
    {
        let s = Server::redcore_on(&dir, &args);
        let mut c = s.conn();
        write_keys(&mut c, 0, 200);
    }
    let log = files_with(&dir, "aof").pop().expect("a log file");
    flip_middle_byte(&log);
    let (status, text) = redcore_refuses(&dir, &args, Duration::from_secs(20)).expect("must refuse to start");
    assert!(!status.success(), "exit status {status}");
    assert!(text.contains("damaged") && text.contains("--repair-log"), "unclear refusal: {text}");
    // The server, the other data and a repair path all survive.
    let repaired = [&args[..], &["--repair-log"]].concat();
    let s = Server::redcore_on(&dir, &repaired);
    let mut c = s.conn();
    let n: usize = q(&mut c, &["DBSIZE"]);
    assert!(n > 0);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_snapshot_is_refused_and_bgsave_survives_restart() {
    if !is_redcore() {
        return;
    }
    let dir = data_dir();
    let args = ["--cores", "2"];
    {
        let s = Server::redcore_on(&dir, &args);
        let mut c = s.conn();
        write_keys(&mut c, 0, 300);
        let before: i64 = q(&mut c, &["LASTSAVE"]);
        let _: String = q(&mut c, &["BGSAVE"]);
        assert!(wait_until(Duration::from_secs(20), || {
            let info: String = q(&mut c, &["INFO", "persistence"]);
            info.contains("rdb_bgsave_in_progress:0")
        }));
        let after: i64 = q(&mut c, &["LASTSAVE"]);
        assert!(after >= before && after > 0);
        let _: String = q(&mut c, &["SAVE"]);
    }
    {
        // No log: everything comes from the snapshots.
        let s = Server::redcore_on(&dir, &args);
        let mut c = s.conn();
        check_steps(&mut c, 300, 300);
    }
    let snap = files_with(&dir, "snap").pop().expect("a snapshot");
    flip_middle_byte(&snap);
    let (status, text) = redcore_refuses(&dir, &args, Duration::from_secs(20)).expect("must refuse to start");
    assert!(!status.success());
    assert!(text.contains("snapshot") && text.contains("damaged"), "unclear refusal: {text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn writes_continue_while_a_snapshot_streams() {
    if !is_redcore() {
        return;
    }
    let dir = data_dir();
    let args = ["--cores", "2", "--appendonly", "yes"];
    let s = Server::redcore_on(&dir, &args);
    let mut c = s.conn();
    write_keys(&mut c, 0, 500);
    let counter = Arc::new(AtomicUsize::new(0));
    let _: String = q(&mut c, &["BGSAVE"]);
    for i in 500..700 {
        write_step(&mut c, i).unwrap();
        counter.fetch_add(1, Ordering::Relaxed);
    }
    let _: String = q(&mut c, &["SAVE"]);
    drop(c);
    drop(s);
    let s = Server::redcore_on(&dir, &args);
    let mut c = s.conn();
    check_steps(&mut c, 700, 700);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
