//! redcore's own binary encoding of one [`Value`], and the DUMP payload built
//! on it.
//!
//! The same encoding is meant for snapshots and for moving keys between
//! nodes (resharding), so it is versioned, self-delimiting (a reader can skip
//! a value without understanding it) and checksummed. Decoding treats its
//! input as hostile: it never panics, and it never allocates more than the
//! remaining input could describe (every count is checked against the bytes
//! left before anything is built).
//!
//! ```text
//! value   = tag:u8  body_len:varint  body                (encode_value)
//!   tag 1 string  body = the bytes
//!   tag 2 list    body = count:varint  count × blob      (head to tail)
//!   tag 3 hash    body = count:varint  count × (field:blob value:blob)
//!   tag 4 set     body = count:varint  count × blob
//!   tag 5 zset    body = count:varint  count × (member:blob score:f64 LE)
//!                                                      (score order)
//! blob    = len:varint  bytes
//! varint  = unsigned LEB128, at most 10 bytes
//!
//! DUMP payload = value  version:u16 LE  crc:u64 LE        (dump_payload)
//!   crc = CRC-64/XZ of every byte before it
//! ```
//!
//! Containers are rebuilt through their public insert API, so a decoded value
//! gets the encoding (listpack/hashtable, intset/hashtable...) its content
//! calls for, as Redis does when it loads an RDB value. A decoded container
//! is never empty and has no duplicate members: a payload that says
//! otherwise is malformed.

use crate::types::{Hash, List, Set, ZSet};
use crate::value::{Value, ValueRef};
use bytes::Bytes;
use std::fmt;

/// Version written after every DUMP payload. A reader accepts every version
/// from 1 up to this one; bump it when the encoding changes.
pub const FORMAT_VERSION: u16 = 1;

/// The checksum of DUMP payloads, which cross the network in client
/// commands and between nodes. Why the `crc` crate: small, `no_std`,
/// `forbid(unsafe_code)`, widely used and maintained, and it has 64-bit CRCs
/// (a 64-bit check lets far fewer corruptions of a large value through than
/// CRC-32, and matches the 8 bytes Redis spends on its DUMP checksum) with a
/// 16-lane table that checksums at several GB/s. CRC-64/XZ (ECMA-182
/// polynomial, reflected) is the common, well-specified 64-bit variant.
const CRC64: crc::Crc<u64, crc::Table<16>> = crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_XZ);

/// Bytes after the value in a DUMP payload: version and checksum.
const FOOTER_LEN: usize = 2 + 8;

const TAG_STRING: u8 = 1;
const TAG_LIST: u8 = 2;
const TAG_HASH: u8 = 3;
const TAG_SET: u8 = 4;
const TAG_ZSET: u8 = 5;

/// Why bytes could not be decoded into a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The checksum does not match the bytes (or there is no room for one).
    Checksum,
    /// Written by a format version this build cannot read.
    Version(u16),
    /// The input ends inside a value.
    Truncated,
    /// A type tag this build does not know.
    UnknownType(u8),
    /// The bytes are not a valid encoding (bad lengths, duplicates, NaN...).
    Malformed(&'static str),
}

impl DecodeError {
    /// True when the payload failed its integrity checks (version or
    /// checksum) rather than carrying a bad value under a good checksum.
    /// RESTORE answers the first with "DUMP payload version or checksum are
    /// wrong" and the second with "Bad data format".
    pub fn is_integrity(&self) -> bool {
        matches!(self, DecodeError::Checksum | DecodeError::Version(_))
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Checksum => write!(f, "checksum mismatch"),
            DecodeError::Version(v) => write!(f, "unsupported format version {v}"),
            DecodeError::Truncated => write!(f, "input ends inside a value"),
            DecodeError::UnknownType(t) => write!(f, "unknown value type tag {t}"),
            DecodeError::Malformed(why) => write!(f, "malformed value: {why}"),
        }
    }
}

impl std::error::Error for DecodeError {}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn varint_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn put_blob(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn blob_len(b: &[u8]) -> usize {
    varint_len(b.len() as u64) + b.len()
}

/// Appends the encoding of `v` (tag, body length, body) to `out`.
pub fn encode_value<'a>(v: impl Into<ValueRef<'a>>, out: &mut Vec<u8>) {
    match v.into() {
        ValueRef::Str(s) => {
            out.push(TAG_STRING);
            put_blob(out, s);
        }
        ValueRef::List(l) => {
            let body: usize = varint_len(l.len() as u64) + l.iter().map(|e| blob_len(e)).sum::<usize>();
            out.reserve(1 + varint_len(body as u64) + body);
            out.push(TAG_LIST);
            put_varint(out, body as u64);
            put_varint(out, l.len() as u64);
            for e in l.iter() {
                put_blob(out, e);
            }
        }
        ValueRef::Hash(h) => {
            let body: usize = varint_len(h.len() as u64) + h.iter().map(|(f, v)| blob_len(f) + blob_len(v)).sum::<usize>();
            out.reserve(1 + varint_len(body as u64) + body);
            out.push(TAG_HASH);
            put_varint(out, body as u64);
            put_varint(out, h.len() as u64);
            for (f, v) in h.iter() {
                put_blob(out, f);
                put_blob(out, v);
            }
        }
        ValueRef::Set(s) => {
            let body: usize = varint_len(s.len() as u64) + s.iter().map(|m| blob_len(m)).sum::<usize>();
            out.reserve(1 + varint_len(body as u64) + body);
            out.push(TAG_SET);
            put_varint(out, body as u64);
            put_varint(out, s.len() as u64);
            for m in s.iter() {
                put_blob(out, m);
            }
        }
        ValueRef::ZSet(z) => {
            let body: usize = varint_len(z.len() as u64) + z.iter().map(|(m, _)| blob_len(m) + 8).sum::<usize>();
            out.reserve(1 + varint_len(body as u64) + body);
            out.push(TAG_ZSET);
            put_varint(out, body as u64);
            put_varint(out, z.len() as u64);
            for (m, score) in z.iter() {
                put_blob(out, m);
                out.extend_from_slice(&score.to_bits().to_le_bytes());
            }
        }
    }
}

/// The DUMP payload of `v`: its encoding, the format version and a CRC-64 of
/// both.
pub fn dump_payload<'a>(v: impl Into<ValueRef<'a>>) -> Vec<u8> {
    let mut out = Vec::new();
    encode_value(v, &mut out);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/// A cursor over untrusted bytes: every read is bounds-checked.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self.buf.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut n: u64 = 0;
        for i in 0..10 {
            let b = self.u8()?;
            let bits = (b & 0x7f) as u64;
            // The tenth byte may only carry the top bit of a u64.
            if i == 9 && bits > 1 {
                return Err(DecodeError::Malformed("varint overflows 64 bits"));
            }
            n |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(DecodeError::Malformed("varint longer than 10 bytes"))
    }

    /// A length that must fit in what is left of the input.
    fn length(&mut self) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        if n > self.remaining() as u64 {
            return Err(DecodeError::Truncated);
        }
        Ok(n as usize)
    }

    /// A length-prefixed byte string, borrowed from the input.
    fn blob_ref(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.length()?;
        self.take(n)
    }

    /// A length-prefixed byte string, copied so the value never pins the
    /// (possibly large) input buffer.
    fn blob(&mut self) -> Result<Bytes, DecodeError> {
        Ok(Bytes::copy_from_slice(self.blob_ref()?))
    }

    /// An element count, each element taking at least `min_size` bytes:
    /// counts the rest of the input cannot hold are refused before anything
    /// is allocated.
    fn count(&mut self, min_size: usize) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        if n == 0 {
            return Err(DecodeError::Malformed("empty container"));
        }
        if n > (self.remaining() / min_size) as u64 {
            return Err(DecodeError::Truncated);
        }
        Ok(n as usize)
    }

    fn f64(&mut self) -> Result<f64, DecodeError> {
        let raw = self.take(8)?;
        let mut le = [0u8; 8];
        le.copy_from_slice(raw);
        Ok(f64::from_bits(u64::from_le_bytes(le)))
    }
}

fn decode_body(tag: u8, r: &mut Reader<'_>) -> Result<Value, DecodeError> {
    match tag {
        TAG_STRING => Ok(Value::Str(Bytes::copy_from_slice(r.take(r.remaining())?))),
        TAG_LIST => {
            let n = r.count(1)?;
            let mut l = List::new();
            for _ in 0..n {
                l.push_back(r.blob()?);
            }
            Ok(Value::List(Box::new(l)))
        }
        TAG_HASH => {
            let n = r.count(2)?;
            let mut h = Hash::new();
            for _ in 0..n {
                let f = r.blob_ref()?;
                let v = r.blob_ref()?;
                if !h.insert(f, v) {
                    return Err(DecodeError::Malformed("duplicate hash field"));
                }
            }
            Ok(Value::Hash(h))
        }
        TAG_SET => {
            let n = r.count(1)?;
            let mut s = Set::new();
            for _ in 0..n {
                if !s.insert(r.blob()?) {
                    return Err(DecodeError::Malformed("duplicate set member"));
                }
            }
            Ok(Value::Set(Box::new(s)))
        }
        TAG_ZSET => {
            let n = r.count(1 + 8)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.blob_ref()?;
                let score = r.f64()?;
                if score.is_nan() {
                    return Err(DecodeError::Malformed("NaN score"));
                }
                items.push((m, score));
            }
            // from_pairs picks the encoding from the whole content first, as
            // Redis converts after loading (so -0 keeps its sign in a big set).
            let z = ZSet::from_pairs(&items);
            if z.len() != n {
                return Err(DecodeError::Malformed("duplicate sorted set member"));
            }
            Ok(Value::ZSet(z))
        }
        other => Err(DecodeError::UnknownType(other)),
    }
}

/// Decodes the value at the start of `b`; returns it and the number of bytes
/// it took. For streams of values (snapshots, migration batches).
pub fn decode_value_prefix(b: &[u8]) -> Result<(Value, usize), DecodeError> {
    let mut r = Reader::new(b);
    let tag = r.u8()?;
    let body_len = r.length()?;
    let mut body = Reader::new(r.take(body_len)?);
    let v = decode_body(tag, &mut body)?;
    if body.remaining() != 0 {
        return Err(DecodeError::Malformed("bytes left over in a value body"));
    }
    Ok((v, r.pos))
}

/// Decodes one value that must span all of `b`.
pub fn decode_value(b: &[u8]) -> Result<Value, DecodeError> {
    let (v, used) = decode_value_prefix(b)?;
    if used != b.len() {
        return Err(DecodeError::Malformed("bytes left over after the value"));
    }
    Ok(v)
}

/// Checks a DUMP payload's checksum and version, then decodes its value.
pub fn parse_dump_payload(b: &[u8]) -> Result<Value, DecodeError> {
    // The smallest value is a tag and a body length.
    if b.len() < 2 + FOOTER_LEN {
        return Err(DecodeError::Checksum);
    }
    let (signed, crc) = b.split_at(b.len() - 8);
    let mut crc_le = [0u8; 8];
    crc_le.copy_from_slice(crc);
    if CRC64.checksum(signed) != u64::from_le_bytes(crc_le) {
        return Err(DecodeError::Checksum);
    }
    let (value, version) = signed.split_at(signed.len() - 2);
    let version = u16::from_le_bytes([version[0], version[1]]);
    if version == 0 || version > FORMAT_VERSION {
        return Err(DecodeError::Version(version));
    }
    decode_value(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn blob() -> impl Strategy<Value = Bytes> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from),
            // Integers, so sets take the intset encoding too.
            any::<i64>().prop_map(|n| Bytes::from(n.to_string())),
            // Long enough to push hashes past the listpack value limit.
            proptest::collection::vec(any::<u8>(), 60..200).prop_map(Bytes::from),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(|v| Value::Str(Bytes::from(v))),
            proptest::collection::vec(blob(), 1..40).prop_map(|items| {
                let mut l = List::new();
                items.into_iter().for_each(|e| l.push_back(e));
                Value::List(Box::new(l))
            }),
            // Distinct fields: overwriting one could leave a sticky encoding
            // that a rebuild (like Redis's RDB load) does not reproduce.
            proptest::collection::btree_map(blob(), blob(), 1..150).prop_map(|m: BTreeMap<Bytes, Bytes>| {
                let mut h = Hash::new();
                m.into_iter().for_each(|(f, v)| {
                    h.insert(&f, &v);
                });
                Value::Hash(h)
            }),
            proptest::collection::btree_set(blob(), 1..600).prop_map(|m: BTreeSet<Bytes>| {
                let mut s = Set::new();
                m.into_iter().for_each(|e| {
                    s.insert(e);
                });
                Value::Set(Box::new(s))
            }),
            proptest::collection::btree_map(blob(), score(), 1..200).prop_map(|m: BTreeMap<Bytes, f64>| {
                let mut z = ZSet::new();
                m.into_iter().for_each(|(e, sc)| {
                    z.insert(&e, sc);
                });
                Value::ZSet(z)
            }),
        ]
    }

    fn score() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>().prop_filter("not NaN", |f| !f.is_nan()),
            Just(0.0),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            (-5i32..5).prop_map(f64::from),
        ]
    }

    #[test]
    fn string_layout() {
        let mut out = Vec::new();
        encode_value(&Value::Str(b("abc")), &mut out);
        assert_eq!(out, b"\x01\x03abc");
        let p = dump_payload(&Value::Str(b("abc")));
        assert_eq!(&p[..5], b"\x01\x03abc");
        assert_eq!(&p[5..7], &FORMAT_VERSION.to_le_bytes());
        assert_eq!(p.len(), 5 + FOOTER_LEN);
        assert_eq!(parse_dump_payload(&p), Ok(Value::Str(b("abc"))));
    }

    #[test]
    fn empty_string_round_trips() {
        let v = Value::Str(Bytes::new());
        assert_eq!(parse_dump_payload(&dump_payload(&v)), Ok(v));
    }

    #[test]
    fn varints() {
        for n in [0u64, 1, 127, 128, 300, 16383, 16384, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            assert_eq!(out.len(), varint_len(n));
            assert_eq!(Reader::new(&out).varint(), Ok(n));
        }
        // 11 continuation bytes, and a tenth byte carrying more than one bit.
        assert!(Reader::new(&[0xff; 11]).varint().is_err());
        let mut over = vec![0xff; 9];
        over.push(0x02);
        assert!(Reader::new(&over).varint().is_err());
    }

    #[test]
    fn hostile_counts_are_refused_without_allocating() {
        // A list claiming 2^62 elements in a 10-byte body.
        let mut body = Vec::new();
        put_varint(&mut body, 1 << 62);
        body.extend_from_slice(&[0; 3]);
        let mut v = vec![TAG_LIST];
        put_varint(&mut v, body.len() as u64);
        v.extend_from_slice(&body);
        assert_eq!(decode_value(&v), Err(DecodeError::Truncated));
        // A body length past the end of the input.
        assert_eq!(decode_value(b"\x01\xff\xff\xff\xff\x0f"), Err(DecodeError::Truncated));
        // A blob length past the end of its body.
        assert_eq!(decode_value(b"\x02\x03\x01\x7f\x00"), Err(DecodeError::Truncated));
    }

    #[test]
    fn malformed_values() {
        assert_eq!(decode_value(b""), Err(DecodeError::Truncated));
        assert_eq!(decode_value(b"\x09\x00"), Err(DecodeError::UnknownType(9)));
        // Empty containers are never stored.
        assert!(matches!(decode_value(b"\x04\x01\x00"), Err(DecodeError::Malformed(_))));
        // Duplicate set member.
        assert!(matches!(decode_value(b"\x04\x05\x02\x01a\x01a"), Err(DecodeError::Malformed(_))));
        // Duplicate hash field.
        assert!(matches!(decode_value(b"\x03\x09\x02\x01a\x01x\x01a\x01y"), Err(DecodeError::Malformed(_))));
        // Bytes left in the body after its elements.
        assert!(matches!(decode_value(b"\x02\x04\x01\x01az"), Err(DecodeError::Malformed(_))));
        // Bytes after the value.
        assert!(matches!(decode_value(b"\x01\x01az"), Err(DecodeError::Malformed(_))));
        assert_eq!(decode_value_prefix(b"\x01\x01az"), Ok((Value::Str(b("a")), 3)));
    }

    #[test]
    fn payload_integrity() {
        let p = dump_payload(&Value::Str(b("hello")));
        assert_eq!(parse_dump_payload(b""), Err(DecodeError::Checksum));
        assert_eq!(parse_dump_payload(b"garbage"), Err(DecodeError::Checksum));
        assert_eq!(parse_dump_payload(&p[..p.len() - 1]), Err(DecodeError::Checksum));
        // A future version with a valid checksum.
        let mut future = p[..p.len() - FOOTER_LEN].to_vec();
        future.extend_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let crc = CRC64.checksum(&future);
        future.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(parse_dump_payload(&future), Err(DecodeError::Version(FORMAT_VERSION + 1)));
        assert!(parse_dump_payload(&future).unwrap_err().is_integrity());
        // A bad value under a good checksum is a format error, not an integrity one.
        let mut bad = b"\x07\x00".to_vec();
        bad.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        let crc = CRC64.checksum(&bad);
        bad.extend_from_slice(&crc.to_le_bytes());
        let e = parse_dump_payload(&bad).unwrap_err();
        assert_eq!(e, DecodeError::UnknownType(7));
        assert!(!e.is_integrity());
    }

    #[test]
    fn decoded_containers_get_their_encoding() {
        let mut s = Set::new();
        for m in ["1", "2", "3"] {
            s.insert(b(m));
        }
        let v = parse_dump_payload(&dump_payload(&Value::Set(Box::new(s)))).unwrap();
        assert_eq!(v.encoding(), "intset");
        let mut h = Hash::new();
        h.insert(b"f", &[b'x'; 100]);
        let v = parse_dump_payload(&dump_payload(&Value::Hash(h))).unwrap();
        assert_eq!(v.encoding(), "hashtable");
    }

    #[test]
    fn sorted_sets() {
        let mut z = ZSet::new();
        z.insert(b"a", 1.5);
        z.insert(b"b", f64::NEG_INFINITY);
        let v = Value::ZSet(z);
        let back = parse_dump_payload(&dump_payload(&v)).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.encoding(), "listpack");
        // A big set keeps -0's sign, and its encoding.
        let mut z = ZSet::new();
        for i in 0..200 {
            z.insert(format!("m{i}").as_bytes(), i as f64);
        }
        z.insert(b"neg0", -0.0);
        let v = Value::ZSet(z);
        let back = parse_dump_payload(&dump_payload(&v)).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.encoding(), "skiplist");
        // NaN scores and repeated members are refused.
        let mut nan = b"\x05\x0b\x01\x01a".to_vec();
        nan.extend_from_slice(&f64::NAN.to_bits().to_le_bytes());
        assert_eq!(decode_value(&nan), Err(DecodeError::Malformed("NaN score")));
        let mut dup = b"\x05\x15\x02\x01a".to_vec();
        dup.extend_from_slice(&1f64.to_bits().to_le_bytes());
        dup.extend_from_slice(b"\x01a");
        dup.extend_from_slice(&2f64.to_bits().to_le_bytes());
        assert_eq!(decode_value(&dup), Err(DecodeError::Malformed("duplicate sorted set member")));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn round_trip(v in value()) {
            let mut enc = Vec::new();
            encode_value(&v, &mut enc);
            prop_assert_eq!(decode_value(&enc), Ok(v.clone()));
            prop_assert_eq!(decode_value_prefix(&enc).map(|(_, n)| n), Ok(enc.len()));
            prop_assert_eq!(parse_dump_payload(&dump_payload(&v)), Ok(v));
        }

        #[test]
        fn bit_flips_are_caught(v in value(), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
            let mut p = dump_payload(&v);
            let i = pos.index(p.len());
            p[i] ^= 1 << bit;
            // CRC-64 catches every single-bit error.
            prop_assert_eq!(parse_dump_payload(&p), Err(DecodeError::Checksum));
        }

        #[test]
        fn byte_corruption_is_caught(v in value(), edits in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8)) {
            let mut p = dump_payload(&v);
            for (pos, x) in edits {
                let i = pos.index(p.len());
                p[i] ^= x;
            }
            // Edits may cancel out; otherwise the checksum must object.
            if p != dump_payload(&v) {
                let r = parse_dump_payload(&p);
                prop_assert!(r.is_err(), "corrupted payload accepted: {:?}", r);
            }
        }

        #[test]
        fn truncation_is_caught(v in value(), cut in any::<prop::sample::Index>()) {
            let p = dump_payload(&v);
            let n = cut.index(p.len());
            prop_assert!(parse_dump_payload(&p[..n]).is_err());
            let mut enc = Vec::new();
            encode_value(&v, &mut enc);
            let n = cut.index(enc.len());
            prop_assert!(decode_value(&enc[..n]).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_value(&bytes);
            let _ = decode_value_prefix(&bytes);
            let _ = parse_dump_payload(&bytes);
        }

        #[test]
        fn arbitrary_bodies_never_panic(tag in 0u8..7, body in proptest::collection::vec(any::<u8>(), 0..100)) {
            // Well-framed values with random bodies reach the per-type decoders.
            let mut v = vec![tag];
            put_varint(&mut v, body.len() as u64);
            v.extend_from_slice(&body);
            if let Ok(val) = decode_value(&v) {
                prop_assert!(!val.is_empty_container());
            }
        }
    }
}
