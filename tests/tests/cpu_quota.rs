//! With no `--cores`, redcore starts one core per CPU it may use, but no
//! more than its cgroup's CPU quota allows (a container's `--cpus`, a
//! Kubernetes CPU limit): extra cores would spin on CPU time the quota does
//! not grant.
//!
//! The test makes a cgroup with a quota of one CPU (cgroup v2 `cpu.max` or
//! v1 `cpu.cfs_quota_us`), which needs root and a writable cgroup file
//! system, as on the development and CI machines; elsewhere it says it
//! skipped.

use std::path::{Path, PathBuf};

use redcore_tests::*;

/// A cgroup made for the test, removed at the end (its processes gone).
struct Cgroup {
    dir: PathBuf,
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value).map_err(|e| format!("{}: {e}", path.display()))
}

/// A fresh cgroup limited to one CPU's time.
fn one_cpu_cgroup() -> Result<Cgroup, String> {
    let name = format!("redcore-test-{}", std::process::id());
    let v2 = Path::new("/sys/fs/cgroup");
    if v2.join("cgroup.controllers").exists() {
        let enabled = std::fs::read_to_string(v2.join("cgroup.subtree_control")).unwrap_or_default();
        if !enabled.split_whitespace().any(|c| c == "cpu") {
            write(&v2.join("cgroup.subtree_control"), "+cpu")?;
        }
        let dir = v2.join(name);
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cg = Cgroup { dir };
        write(&cg.dir.join("cpu.max"), "100000 100000")?;
        return Ok(cg);
    }
    let v1 = Path::new("/sys/fs/cgroup/cpu");
    if v1.join("cpu.cfs_quota_us").exists() {
        let dir = v1.join(name);
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cg = Cgroup { dir };
        write(&cg.dir.join("cpu.cfs_period_us"), "100000")?;
        write(&cg.dir.join("cpu.cfs_quota_us"), "100000")?;
        return Ok(cg);
    }
    Err("no cgroup cpu controller found under /sys/fs/cgroup".into())
}

fn cores(s: &Server) -> usize {
    let info: String = redis::cmd("INFO").arg("server").query(&mut s.conn()).expect("INFO");
    info.lines()
        .find_map(|l| l.strip_prefix("cores:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no cores field in INFO: {info}"))
}

#[test]
fn default_cores_follow_the_cpu_quota() {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if cpus < 2 {
        eprintln!("SKIPPED cpu quota test: it needs at least 2 CPUs, this process may use {cpus}");
        return;
    }
    let cg = match one_cpu_cgroup() {
        Ok(cg) => cg,
        Err(e) => {
            eprintln!("SKIPPED cpu quota test: cannot make a cgroup with a CPU quota ({e})");
            return;
        }
    };
    {
        let free = Server::redcore(&[]);
        assert_eq!(cores(&free), cpus, "without a quota: one core per CPU");
        let limited = Server::redcore_in_cgroup(&cg.dir.join("cgroup.procs"), &[]);
        assert_eq!(cores(&limited), 1, "under a one-CPU quota: one core");
        let pinned = Server::redcore_in_cgroup(&cg.dir.join("cgroup.procs"), &["--cores", "2"]);
        assert_eq!(cores(&pinned), 2, "--cores overrides the quota");
    }
    drop(cg);
}
