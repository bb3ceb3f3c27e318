//! redcore as a cache: with `maxmemory 50mb` and `allkeys-lru`, writing about
//! 500 MB of values keeps the dataset under the limit, evicts old keys and
//! keeps the keys that are used all along.

use redcore_tests::*;

const VALUE_LEN: usize = 10 * 1024;
const KEYS: usize = 50_000; // 50,000 x 10 KiB = 500 MiB written
const HOT: usize = 100;
const BATCH: usize = 500;

fn info_field(info: &str, name: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO has no numeric {name}"))
}

#[test]
fn lru_cache_stays_under_maxmemory_and_keeps_hot_keys() {
    let conf = std::env::temp_dir().join(format!("redcore-cache-{}.toml", std::process::id()));
    std::fs::write(&conf, "maxmemory = \"50mb\"\nmaxmemory-policy = \"allkeys-lru\"\n").unwrap();
    let s = if is_redcore() {
        Server::redcore(&["--cores", "2", "--config", conf.to_str().unwrap()])
    } else {
        Server::redis(&["--maxmemory", "50mb", "--maxmemory-policy", "allkeys-lru"])
    };
    let _ = std::fs::remove_file(&conf);
    let limit: u64 = 50 * 1024 * 1024;
    let mut c = s.conn();
    let value = "v".repeat(VALUE_LEN);
    for h in 0..HOT {
        let _: () = q(&mut c, &["SET", &format!("hot:{h}"), &value]);
    }
    let mut written = 0;
    while written < KEYS {
        let mut p = redis::pipe();
        for i in written..written + BATCH {
            p.cmd("SET").arg(format!("cold:{i}")).arg(&value).ignore();
        }
        let _: () = p.query(&mut c).expect("SET batch");
        written += BATCH;
        // Use the hot keys between batches, as a cache's working set.
        let mut p = redis::pipe();
        for h in 0..HOT {
            p.cmd("GET").arg(format!("hot:{h}"));
        }
        let _: Vec<Option<Vec<u8>>> = p.query(&mut c).expect("GET hot");
        let info: String = q(&mut c, &["INFO", "memory"]);
        let used = if s.is_redcore() { info_field(&info, "used_memory_dataset") } else { info_field(&info, "used_memory") };
        // Redis lets used memory overshoot by the last write before it evicts.
        assert!(used <= limit + 4 * VALUE_LEN as u64 * BATCH as u64 / 10, "dataset {used} B over the 50 MB limit after {written} keys");
    }
    let info: String = q(&mut c, &["INFO", "stats"]);
    let evicted = info_field(&info, "evicted_keys");
    assert!(evicted as usize > KEYS / 2, "only {evicted} keys evicted");
    let dbsize: usize = q(&mut c, &["DBSIZE"]);
    assert!(dbsize < KEYS / 5, "{dbsize} keys left: eviction did not keep up");
    let mut alive = 0;
    for h in 0..HOT {
        let v: Option<Vec<u8>> = q(&mut c, &["GET", &format!("hot:{h}")]);
        alive += v.is_some() as usize;
    }
    // Stock Redis's LRU clock ticks once a second, so within this short run it
    // cannot tell hot keys from cold ones; redcore's ticks every 10 ms.
    if s.is_redcore() {
        assert!(alive >= HOT * 95 / 100, "only {alive} of {HOT} hot keys survived");
    }
    let rss = info_field(&q::<String>(&mut c, &["INFO", "memory"]), "used_memory_rss");
    eprintln!("cache test: dbsize {dbsize}, evicted {evicted}, hot alive {alive}/{HOT}, rss {} MiB", rss >> 20);
}
