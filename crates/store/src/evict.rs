//! Access history and eviction under `maxmemory`.
//!
//! Every entry carries an [`Access`]: the time of its last access (an LRU
//! clock in seconds) and a logarithmic access counter for LFU that decays
//! with idle time. When a shard is over its memory budget it evicts keys
//! chosen by the configured [`Policy`] among a few sampled candidates, the
//! approximation Redis documents: sampling keeps eviction O(1) per key.

use crate::shard::Shard;

/// Keys looked at per eviction (Redis's maxmemory-samples default).
pub const SAMPLES: usize = 5;
/// LFU counter of a new key, so it is not evicted before it had a chance.
pub const LFU_INIT: u8 = 5;
/// LFU logarithmic factor and decay period (minutes), Redis's defaults.
const LFU_LOG_FACTOR: f64 = 10.0;
const LFU_DECAY_MINUTES: u64 = 1;

thread_local! {
    /// State of the generator behind [`coin`]; any non-zero start will do.
    static COIN: std::cell::Cell<u64> = const { std::cell::Cell::new(0x9E37_79B9_7F4A_7C15) };
}

/// A uniform draw in [0, 1) for the LFU counter's growth. Every key access
/// draws one, so it is a xorshift step on a thread-local word rather than
/// the cryptographic `thread_rng` (which showed up at 1-3 % of a core);
/// statistical quality beyond uniformity does not matter here.
fn coin() -> f64 {
    COIN.with(|c| {
        let mut x = c.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.set(x);
        (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    })
}

/// Last-access time and LFU counter of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Time of the last access in 10 ms units (wraps every 497 days; idle
    /// times are differences, so only idle times that long are ambiguous).
    last: u32,
    counter: u8,
}

impl Default for Access {
    fn default() -> Self {
        Access { last: 0, counter: LFU_INIT }
    }
}

impl Access {
    /// The raw clock and counter, as a node header stores them.
    pub(crate) fn to_parts(self) -> (u32, u8) {
        (self.last, self.counter)
    }

    pub(crate) fn from_parts(last: u32, counter: u8) -> Access {
        Access { last, counter }
    }

    /// Records an access at `now_ms`.
    pub fn touch(&mut self, now_ms: u64) {
        // A new key (never touched) starts from LFU_INIT without decay.
        if self.last != 0 {
            self.counter = self.decayed(now_ms);
        }
        if self.counter < 255 {
            let base = self.counter.saturating_sub(LFU_INIT) as f64;
            let p = 1.0 / (base * LFU_LOG_FACTOR + 1.0);
            if coin() < p {
                self.counter += 1;
            }
        }
        self.last = (now_ms / 10) as u32;
    }

    /// Milliseconds since the last access (10 ms resolution).
    pub fn idle_ms(&self, now_ms: u64) -> u64 {
        ((now_ms / 10) as u32).wrapping_sub(self.last) as u64 * 10
    }

    /// Seconds since the last access (OBJECT IDLETIME).
    pub fn idle_secs(&self, now_ms: u64) -> u64 {
        self.idle_ms(now_ms) / 1000
    }

    /// The LFU counter after decay for the idle time (OBJECT FREQ).
    pub fn decayed(&self, now_ms: u64) -> u8 {
        let periods = self.idle_secs(now_ms) / 60 / LFU_DECAY_MINUTES;
        self.counter.saturating_sub(periods.min(255) as u8)
    }

    /// Sets the history from outside (RESTORE ... IDLETIME / FREQ).
    pub fn set(&mut self, now_ms: u64, idle_secs: Option<u64>, freq: Option<u8>) {
        if let Some(idle) = idle_secs {
            self.last = (now_ms.saturating_sub(idle.saturating_mul(1000)) / 10) as u32;
        }
        if let Some(f) = freq {
            self.counter = f;
        }
    }
}

/// What to evict when over `maxmemory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    pub fn parse(name: &str) -> Option<Policy> {
        Some(match name {
            "noeviction" => Policy::NoEviction,
            "allkeys-lru" => Policy::AllKeysLru,
            "allkeys-lfu" => Policy::AllKeysLfu,
            "allkeys-random" => Policy::AllKeysRandom,
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => return None,
        })
    }

    fn volatile(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::VolatileLfu | Policy::VolatileRandom | Policy::VolatileTtl)
    }
}

impl Shard {
    /// Evicts keys until the shard uses at most `budget` bytes. Returns
    /// false when it cannot get there (noeviction, or nothing evictable):
    /// the caller then refuses writes with -OOM.
    pub fn evict_to(&mut self, budget: usize, policy: Policy, evicted: &mut Vec<bytes::Bytes>) -> bool {
        let mut rounds = 0;
        while self.used_memory() > budget {
            if policy == Policy::NoEviction || rounds > 100_000 {
                return false;
            }
            rounds += 1;
            let Some(victim) = self.pick_victim(policy) else { return false };
            self.delete(&victim);
            self.stats.evicted_keys += 1;
            evicted.push(victim);
        }
        true
    }

    fn pick_victim(&mut self, policy: Policy) -> Option<bytes::Bytes> {
        let now = self.now();
        if policy == Policy::VolatileTtl {
            return self.soonest_expiring();
        }
        let mut best: Option<(u64, bytes::Bytes)> = None;
        for _ in 0..SAMPLES {
            let candidate = if policy.volatile() { self.random_volatile_key() } else { self.sample_key() };
            let Some(key) = candidate else { continue };
            let Some(e) = self.entry_raw(&key) else { continue };
            // Higher score = better victim.
            let score = match policy {
                Policy::AllKeysLru | Policy::VolatileLru => e.access.idle_ms(now),
                Policy::AllKeysLfu | Policy::VolatileLfu => 255 - e.access.decayed(now) as u64,
                _ => 0,
            };
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, key));
            }
        }
        best.map(|(_, k)| k)
    }

    /// A random key (expired or not): a random non-empty slot, then a
    /// random key in it.
    pub fn sample_key(&self) -> Option<bytes::Bytes> {
        self.random_in_slot(self.random_nonempty_slot()?)
    }
}

#[cfg(test)]
mod coin_tests {
    use super::*;

    #[test]
    fn coin_is_uniform_enough() {
        let draws: Vec<f64> = (0..100_000).map(|_| coin()).collect();
        assert!(draws.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((0.49..0.51).contains(&mean), "mean {mean}");
        let low = draws.iter().filter(|&&x| x < 0.1).count();
        assert!((9_000..11_000).contains(&low), "{low} draws below 0.1");
    }

    #[test]
    fn lfu_counter_grows_logarithmically() {
        let mut a = Access::default();
        for _ in 0..1_000 {
            a.touch(60_000);
        }
        // 1,000 hits with factor 10 give a counter in the low tens.
        assert!((LFU_INIT + 5..LFU_INIT + 30).contains(&a.counter), "counter {}", a.counter);
    }
}
