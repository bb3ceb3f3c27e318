//! Node identifiers and the deterministic random source of the state machine.

use std::fmt;

/// Length of a node id: 40 characters, as in Redis (`CLUSTER_NAMELEN`).
pub const NODE_ID_LEN: usize = 40;

/// A node's name on the bus: 40 lowercase characters, random hex for the ids
/// this crate makes. Parsing accepts `[0-9a-z]`, like Redis's
/// `verifyClusterNodeId`, so a `nodes.conf` written by Redis loads.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId([u8; NODE_ID_LEN]);

impl NodeId {
    /// Parses a node id; `None` unless it is exactly 40 characters of `[0-9a-z]`.
    pub fn parse(text: &[u8]) -> Option<NodeId> {
        if text.len() != NODE_ID_LEN
            || !text
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        {
            return None;
        }
        let mut id = [0u8; NODE_ID_LEN];
        id.copy_from_slice(text);
        Some(NodeId(id))
    }

    /// A fresh random id (40 hex characters).
    pub fn random(rng: &mut Rng) -> NodeId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = [0u8; NODE_ID_LEN];
        for chunk in id.chunks_mut(16) {
            let mut word = rng.next_u64();
            for b in chunk {
                *b = HEX[(word & 0xf) as usize];
                word >>= 4;
            }
        }
        NodeId(id)
    }

    /// The id as its 40 ASCII bytes.
    pub fn as_bytes(&self) -> &[u8; NODE_ID_LEN] {
        &self.0
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (checked by `parse`, made by `random`).
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Eight characters are enough to tell nodes apart in test output.
        write!(f, "NodeId({})", &self.as_str()[..8])
    }
}

/// xoshiro256** seeded through splitmix64: small, fast and, above all,
/// deterministic, so a simulation run is a pure function of its seed. The
/// server seeds it from the OS.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose whole output follows from `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (`n > 0`; returns 0 for `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: the bias is at most n / 2^64, irrelevant here.
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_parse_back_and_differ() {
        let mut rng = Rng::new(7);
        let a = NodeId::random(&mut rng);
        let b = NodeId::random(&mut rng);
        assert_ne!(a, b);
        assert_eq!(NodeId::parse(a.as_bytes()), Some(a));
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn parse_rejects_bad_ids() {
        assert!(NodeId::parse(b"abc").is_none());
        assert!(NodeId::parse(&[b'A'; 40]).is_none());
        assert!(NodeId::parse(&[b'-'; 40]).is_none());
        assert!(NodeId::parse(&[b'z'; 40]).is_some());
    }

    #[test]
    fn rng_is_deterministic() {
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = Rng::new(3);
        for _ in 0..1000 {
            assert!(r.below(7) < 7);
            let x = r.range(3, 5);
            assert!((3..=5).contains(&x));
        }
    }
}
