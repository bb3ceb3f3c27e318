//! What a load sends: the command mix, keys, values and their RESP encoding.
//!
//! Key names per command family, so that workloads never collide on a type:
//!
//! | commands            | key                   |
//! |---------------------|-----------------------|
//! | GET SET MGET        | `key:<12 digits>` (the same names `redis-benchmark -r` uses) |
//! | INCR                | `counter:<12 digits>` |
//! | LPUSH LPOP          | `list:<12 digits>`    |
//! | ZADD ZRANGE         | `zset:<12 digits>`    |
//! | PUBLISH / SUBSCRIBE | channel `bench:chan`  |
//!
//! The number is drawn uniformly from `0..keyspace` (or from the keys a
//! connection was given, see `load::Placement`).

use std::fmt;

/// One command kind a workload can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Get,
    Set,
    Incr,
    LPush,
    LPop,
    ZAdd,
    ZRange,
    MGet,
    Publish,
}

impl Op {
    pub const ALL: [Op; 9] = [
        Op::Get,
        Op::Set,
        Op::Incr,
        Op::LPush,
        Op::LPop,
        Op::ZAdd,
        Op::ZRange,
        Op::MGet,
        Op::Publish,
    ];

    /// Lower-case name, as used in workload specs.
    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Incr => "incr",
            Op::LPush => "lpush",
            Op::LPop => "lpop",
            Op::ZAdd => "zadd",
            Op::ZRange => "zrange",
            Op::MGet => "mget",
            Op::Publish => "publish",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(s))
    }

    /// Index into per-op arrays.
    pub fn index(self) -> usize {
        Op::ALL.iter().position(|&o| o == self).unwrap_or(0)
    }

    /// The command name sent on the wire.
    pub fn command(self) -> &'static [u8] {
        match self {
            Op::Get => b"GET",
            Op::Set => b"SET",
            Op::Incr => b"INCR",
            Op::LPush => b"LPUSH",
            Op::LPop => b"LPOP",
            Op::ZAdd => b"ZADD",
            Op::ZRange => b"ZRANGE",
            Op::MGet => b"MGET",
            Op::Publish => b"PUBLISH",
        }
    }

    /// Key prefix of this command family.
    pub fn key_prefix(self) -> &'static [u8] {
        match self {
            Op::Get | Op::Set | Op::MGet => b"key:",
            Op::Incr => b"counter:",
            Op::LPush | Op::LPop => b"list:",
            Op::ZAdd | Op::ZRange => b"zset:",
            Op::Publish => b"",
        }
    }
}

/// A weighted mix of commands, e.g. `get:10,set:1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub mix: Vec<(Op, u32)>,
    total: u32,
}

impl Workload {
    /// Parses `op[:weight],op[:weight],...` (weight defaults to 1).
    pub fn parse(spec: &str) -> Result<Workload, String> {
        let mut mix = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = match part.split_once(':') {
                Some((n, w)) => (
                    n,
                    w.parse::<u32>()
                        .map_err(|_| format!("bad weight in {part:?}"))?,
                ),
                None => (part, 1),
            };
            let op = Op::parse(name).ok_or_else(|| {
                let known: Vec<_> = Op::ALL.iter().map(|o| o.name()).collect();
                format!("unknown command {name:?} (known: {})", known.join(", "))
            })?;
            if weight > 0 {
                mix.push((op, weight));
            }
        }
        if mix.is_empty() {
            return Err("empty workload".into());
        }
        if mix.iter().any(|&(op, _)| op == Op::Publish) && mix.len() > 1 {
            return Err("publish cannot be mixed with other commands".into());
        }
        let total = mix.iter().map(|&(_, w)| w).sum();
        Ok(Workload { mix, total })
    }

    /// The op for a uniform random number.
    pub fn pick(&self, r: u64) -> Op {
        if self.mix.len() == 1 {
            return self.mix[0].0;
        }
        let mut x = (r % u64::from(self.total)) as u32;
        for &(op, w) in &self.mix {
            if x < w {
                return op;
            }
            x -= w;
        }
        self.mix[0].0
    }

    pub fn is_pubsub(&self) -> bool {
        self.mix.iter().any(|&(op, _)| op == Op::Publish)
    }

    pub fn ops(&self) -> impl Iterator<Item = Op> + '_ {
        self.mix.iter().map(|&(op, _)| op)
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .mix
            .iter()
            .map(|(op, w)| format!("{}:{w}", op.name()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// xorshift64*: fast, deterministic per seed, good enough to pick keys.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, never zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0; tiny modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The key name of number `n` with `prefix`, e.g. `key:000000000042`.
pub fn key_name(prefix: &[u8], n: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 12);
    k.extend_from_slice(prefix);
    push_padded(&mut k, n, 12);
    k
}

/// The channel PUBLISH and SUBSCRIBE use.
pub const CHANNEL: &[u8] = b"bench:chan";

/// Appends `n` in decimal, zero-padded to `width` digits.
fn push_padded(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let len = digits.len() - i;
    out.extend(std::iter::repeat_n(b'0', width.saturating_sub(len)));
    out.extend_from_slice(&digits[i..]);
}

fn push_num(out: &mut Vec<u8>, n: u64) {
    push_padded(out, n, 0);
}

fn array_header(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    push_num(out, n as u64);
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'$');
    push_num(out, b.len() as u64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

fn bulk_key(out: &mut Vec<u8>, prefix: &[u8], n: u64) {
    out.push(b'$');
    push_num(out, (prefix.len() + 12) as u64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(prefix);
    push_padded(out, n, 12);
    out.extend_from_slice(b"\r\n");
}

fn bulk_num(out: &mut Vec<u8>, prefix: &[u8], n: u64) {
    let mut tmp = Vec::with_capacity(prefix.len() + 20);
    tmp.extend_from_slice(prefix);
    push_num(&mut tmp, n);
    bulk(out, &tmp);
}

/// Encodes a RESP command (array of bulk strings).
pub fn encode_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    array_header(out, args.len());
    for a in args {
        bulk(out, a);
    }
}

/// Turns ops into request bytes.
#[derive(Clone, Debug)]
pub struct Encoder {
    /// The value SET, LPUSH and PUBLISH send (PUBLISH overwrites its head).
    pub value: Vec<u8>,
    /// Keys per MGET.
    pub mget_keys: usize,
}

impl Encoder {
    pub fn new(value_size: usize, mget_keys: usize) -> Encoder {
        // Printable, not all one byte (so nothing can shortcut a run of them).
        let value = (0..value_size).map(|i| b'a' + (i % 26) as u8).collect();
        Encoder {
            value,
            mget_keys: mget_keys.max(1),
        }
    }

    /// Appends one request for `op` to `out`. `key` draws a key number;
    /// `intended_ns` goes into PUBLISH payloads so subscribers can measure
    /// delivery latency.
    pub fn encode(
        &self,
        op: Op,
        key: &mut dyn FnMut() -> u64,
        rng: &mut Rng,
        intended_ns: u64,
        out: &mut Vec<u8>,
    ) {
        let prefix = op.key_prefix();
        match op {
            Op::Get | Op::Incr | Op::LPop => {
                array_header(out, 2);
                bulk(out, op.command());
                bulk_key(out, prefix, key());
            }
            Op::Set | Op::LPush => {
                array_header(out, 3);
                bulk(out, op.command());
                bulk_key(out, prefix, key());
                bulk(out, &self.value);
            }
            Op::ZAdd => {
                array_header(out, 4);
                bulk(out, b"ZADD");
                bulk_key(out, prefix, key());
                bulk_num(out, b"", rng.below(1000));
                bulk_num(out, b"m:", rng.below(1000));
            }
            Op::ZRange => {
                array_header(out, 4);
                bulk(out, b"ZRANGE");
                bulk_key(out, prefix, key());
                bulk(out, b"0");
                bulk(out, b"9");
            }
            Op::MGet => {
                array_header(out, 1 + self.mget_keys);
                bulk(out, b"MGET");
                for _ in 0..self.mget_keys {
                    bulk_key(out, prefix, key());
                }
            }
            Op::Publish => {
                array_header(out, 3);
                bulk(out, b"PUBLISH");
                bulk(out, CHANNEL);
                let mut payload = Vec::with_capacity(self.value.len().max(20));
                push_padded(&mut payload, intended_ns, 20);
                if self.value.len() > 20 {
                    payload.extend_from_slice(&self.value[20..]);
                }
                bulk(out, &payload);
            }
        }
    }
}

/// The send time a PUBLISH payload carries (its first 20 digits).
pub fn payload_time(payload: &[u8]) -> Option<u64> {
    let digits = payload.get(..20)?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_mix() {
        let w = Workload::parse("get:10,set:1").unwrap();
        assert_eq!(w.mix, vec![(Op::Get, 10), (Op::Set, 1)]);
        assert_eq!(w.to_string(), "get:10,set:1");
        let n_get = (0..11u64).filter(|&r| w.pick(r) == Op::Get).count();
        assert_eq!(n_get, 10);
        assert!(Workload::parse("nope").is_err());
        assert!(Workload::parse("publish,get").is_err());
    }

    #[test]
    fn encoding() {
        let enc = Encoder::new(3, 2);
        let mut rng = Rng::new(1);
        let mut out = Vec::new();
        enc.encode(Op::Set, &mut || 42, &mut rng, 0, &mut out);
        assert_eq!(
            out,
            b"*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000042\r\n$3\r\nabc\r\n"
        );
        out.clear();
        enc.encode(Op::MGet, &mut || 7, &mut rng, 0, &mut out);
        assert_eq!(
            out,
            b"*3\r\n$4\r\nMGET\r\n$16\r\nkey:000000000007\r\n$16\r\nkey:000000000007\r\n".to_vec()
        );
        out.clear();
        enc.encode(Op::Publish, &mut || 0, &mut rng, 123, &mut out);
        let mut parser = resp::RequestParser::default();
        let mut buf = bytes::BytesMut::from(&out[..]);
        let args = parser.next_command(&mut buf).unwrap().unwrap();
        assert_eq!(payload_time(&args[2]), Some(123));
        assert_eq!(key_name(b"key:", 5), b"key:000000000005");
    }
}
