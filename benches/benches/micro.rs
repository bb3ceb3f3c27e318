//! criterion micro-benchmarks of the hot paths below the network:
//! the RESP request parser, slot hashing, a shard's insert/get, and
//! ZRANGE's range walk and reply.
//!
//! `cargo bench -p redcore-benches --bench micro` (add `-- --quick` style
//! criterion options to shorten it; `benches/run.sh` does).

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use resp::{Protocol, Reply, RequestParser};
use store::types::ZSet;
use store::{Shard, Value};

fn key(n: u64) -> Vec<u8> {
    format!("key:{n:012}").into_bytes()
}

fn encode(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn resp_parser(c: &mut Criterion) {
    let mut g = c.benchmark_group("resp");
    // A pipeline of 16 GETs and a pipeline of 16 SETs with 32-byte values,
    // as a connection's read buffer would hold them.
    let value = vec![b'v'; 32];
    let mut gets = Vec::new();
    let mut sets = Vec::new();
    for n in 0..16 {
        encode(&[b"GET", &key(n)], &mut gets);
        encode(&[b"SET", &key(n), &value], &mut sets);
    }
    let big_value = vec![b'v'; 1024];
    let mut big_sets = Vec::new();
    for n in 0..16 {
        encode(&[b"SET", &key(n), &big_value], &mut big_sets);
    }
    // redis-benchmark's `ZRANGE myzset 0 9`: short arguments.
    let mut zranges = Vec::new();
    for _ in 0..16 {
        encode(&[b"ZRANGE", b"myzset", b"0", b"9"], &mut zranges);
    }
    let mut inline = Vec::new();
    for n in 0..16 {
        inline.extend_from_slice(format!("GET key:{n:012}\r\n").as_bytes());
    }
    for (name, input) in [
        ("get_x16", &gets),
        ("set32_x16", &sets),
        ("set1k_x16", &big_sets),
        ("zrange_0_9_x16", &zranges),
        ("inline_get_x16", &inline),
    ] {
        g.throughput(Throughput::Elements(16));
        g.bench_function(name, |b| {
            let mut parser = RequestParser::default();
            b.iter_batched_ref(
                || BytesMut::from(&input[..]),
                |buf| {
                    let mut n = 0;
                    while let Ok(Some(args)) = parser.next_command(buf) {
                        n += args.len();
                    }
                    black_box(n)
                },
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

fn slot_hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("slots");
    let keys: Vec<Vec<u8>> = (0..1024).map(key).collect();
    let tagged: Vec<Vec<u8>> = (0..1024)
        .map(|n| format!("{{user{n}}}:profile").into_bytes())
        .collect();
    g.throughput(Throughput::Elements(keys.len() as u64));
    g.bench_function("key_slot_x1024", |b| {
        b.iter(|| {
            keys.iter()
                .map(|k| slots::key_slot(black_box(k)) as u64)
                .sum::<u64>()
        })
    });
    g.bench_function("key_slot_hashtag_x1024", |b| {
        b.iter(|| {
            tagged
                .iter()
                .map(|k| slots::key_slot(black_box(k)) as u64)
                .sum::<u64>()
        })
    });
    g.finish();
}

fn shard_ops(c: &mut Criterion) {
    let mut g = c.benchmark_group("store");
    const N: u64 = 100_000;
    let keys: Vec<Vec<u8>> = (0..N).map(key).collect();
    let value = Bytes::from(vec![b'v'; 32]);
    let mut shard = Shard::new();
    for k in &keys {
        shard.insert(k, Value::Str(value.clone()), None);
    }
    let mut i = 0usize;
    g.throughput(Throughput::Elements(1));
    g.bench_function("get_hit_100k", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            black_box(shard.get(&keys[i]).is_some())
        })
    });
    // A pipeline's worth of GETs, as the connection loop runs them: plain,
    // and after `Shard::prefetch` has requested the keys' entries together.
    g.throughput(Throughput::Elements(16));
    for prefetched in [false, true] {
        let name = if prefetched { "get_hit_100k_x16_prefetched" } else { "get_hit_100k_x16" };
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut batch: [(u16, &[u8]); 16] = [(0, &[]); 16];
                for k in batch.iter_mut() {
                    i = (i + 7919) % keys.len();
                    *k = (slots::key_slot(&keys[i]), &keys[i]);
                }
                if prefetched {
                    shard.prefetch(&batch, false);
                }
                batch.iter().filter(|(_, k)| shard.get(k).is_some()).count()
            })
        });
    }
    g.throughput(Throughput::Elements(1));
    let missing: Vec<Vec<u8>> = (N..N + 1024).map(key).collect();
    g.bench_function("get_miss_100k", |b| {
        b.iter(|| {
            i = (i + 1) % missing.len();
            black_box(shard.get(&missing[i]).is_some())
        })
    });
    g.bench_function("insert_overwrite_100k", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            shard.insert(&keys[i], Value::Str(value.clone()), None);
        })
    });
    // Inserting fresh keys: each batch starts from an empty shard (built
    // outside the measurement) and inserts 10 000 new keys.
    let fresh: Vec<Vec<u8>> = (0..10_000).map(key).collect();
    g.throughput(Throughput::Elements(fresh.len() as u64));
    g.bench_function("insert_new_x10k", |b| {
        b.iter_batched_ref(
            Shard::new,
            |s| {
                for k in &fresh {
                    s.insert(k, Value::Str(value.clone()), None);
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// ZRANGE key r r+9 on a 100 000 member sorted set, as the command runs
/// it: the walk from a rank, the reply built from the members, and that
/// reply written into a connection's output buffer. The ranks cycle
/// through 64 fixed ones, so the touched members stay in the CPU caches
/// and the figures are the CPU work, not memory latency.
fn zset_range(c: &mut Criterion) {
    let mut g = c.benchmark_group("zset");
    const N: usize = 100_000;
    let mut z = ZSet::new();
    for n in 0..N {
        z.insert(format!("element:{n:06}").as_bytes(), (n * 7919 % N) as f64);
    }
    let ranks: Vec<usize> = (0..64).map(|i| i * 7919 % (N - 10)).collect();
    let mut at = 0usize;
    let mut next_rank = move || {
        at = (at + 1) % ranks.len();
        ranks[at]
    };
    g.throughput(Throughput::Elements(1));
    g.bench_function("range_10_of_100k", |b| {
        b.iter(|| {
            let rank = next_rank();
            black_box(z.iter_from(rank, false).take(10).map(|(m, _)| m.len()).sum::<usize>())
        })
    });
    let mut out = BytesMut::with_capacity(16 * 1024);
    g.bench_function("range_10_of_100k_reply_encoded", |b| {
        b.iter(|| {
            let rank = next_rank();
            let reply = Reply::bulk_array_of(z.iter_from(rank, false).take(10).map(|(m, _)| m));
            out.clear();
            reply.encode(Protocol::Resp2, &mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, resp_parser, slot_hashing, shard_ops, zset_range);
criterion_main!(benches);
