//! The append-only log of one core: records of what changed its shard.
//!
//! A record is either a command as it ran (argv, plus the clock it ran at, so
//! relative TTLs replay to the same deadlines), the image of one key after a
//! change that replay could not reproduce (random pops, values moved in from
//! another core, evictions), or a flush.

use crate::codec::{self, next_frame, put_blob, put_frame, put_varint, Frame, FormatError, Reader};
use bytes::Bytes;
use store::Entry;

pub const LOG_MAGIC: &[u8; 8] = b"RCAOF\0\0\x01";

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Cmd { ts: u64, argv: Vec<Bytes> },
    Image { ts: u64, key: Bytes, entry: Option<Entry> },
    Flush { ts: u64 },
}

/// The file header: magic, core id, generation, CRC-32 of those.
pub fn header(core: u32, generation: u64) -> Vec<u8> {
    let mut h = LOG_MAGIC.to_vec();
    h.extend_from_slice(&core.to_le_bytes());
    h.extend_from_slice(&generation.to_le_bytes());
    let crc = crc32fast::hash(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h
}

pub const HEADER_LEN: usize = 24;

/// Appends a `Record::Cmd` frame without building the record.
pub fn encode_cmd(ts: u64, argv: &[Bytes], out: &mut Vec<u8>) {
    let mut body = Vec::with_capacity(16 + argv.iter().map(|a| a.len() + 2).sum::<usize>());
    body.push(1);
    body.extend_from_slice(&ts.to_le_bytes());
    put_varint(&mut body, argv.len() as u64);
    for a in argv {
        put_blob(&mut body, a);
    }
    put_frame(out, &body);
}

/// Appends one record frame to `out`.
pub fn encode(rec: &Record, out: &mut Vec<u8>) {
    let mut body = Vec::with_capacity(64);
    match rec {
        Record::Cmd { ts, argv } => return encode_cmd(*ts, argv, out),
        Record::Image { ts, key, entry } => {
            body.push(2);
            body.extend_from_slice(&ts.to_le_bytes());
            put_blob(&mut body, key);
            match entry {
                Some(e) => {
                    body.push(1);
                    codec::put_entry(&mut body, e);
                }
                None => body.push(0),
            }
        }
        Record::Flush { ts } => {
            body.push(3);
            body.extend_from_slice(&ts.to_le_bytes());
        }
    }
    put_frame(out, &body);
}

fn decode_body(body: &[u8]) -> Result<Record, FormatError> {
    let mut r = Reader::new(body);
    let kind = r.u8()?;
    let ts = r.u64()?;
    match kind {
        1 => {
            let argc = r.varint()? as usize;
            if argc == 0 || argc > body.len() {
                return Err(FormatError::Malformed(0, "argc".into()));
            }
            let mut argv = Vec::with_capacity(argc);
            for _ in 0..argc {
                argv.push(Bytes::copy_from_slice(r.blob()?));
            }
            Ok(Record::Cmd { ts, argv })
        }
        2 => {
            let key = Bytes::copy_from_slice(r.blob()?);
            let entry = match r.u8()? {
                0 => None,
                1 => Some(codec::read_entry(&mut r)?),
                _ => return Err(FormatError::Malformed(0, "image flag".into())),
            };
            Ok(Record::Image { ts, key, entry })
        }
        3 => Ok(Record::Flush { ts }),
        k => Err(FormatError::Malformed(0, format!("record type {k}"))),
    }
}

/// The result of reading a whole log.
#[derive(Debug)]
pub struct LogReadOutcome {
    pub core: u32,
    pub generation: u64,
    pub records: Vec<Record>,
    /// Length of the valid prefix; less than the file when the tail is torn.
    pub valid_len: u64,
    /// Whether a torn (incomplete or unverifiable last) record was dropped.
    pub torn_tail: bool,
}

/// Reads a log. A damaged final record is a torn tail (reported, dropped);
/// damage before the end is an error naming its offset.
pub fn read(data: &[u8]) -> Result<LogReadOutcome, FormatError> {
    if data.len() < HEADER_LEN || &data[..8] != LOG_MAGIC {
        // A crash right after creating the file can leave a short header.
        if data.len() < HEADER_LEN && LOG_MAGIC.starts_with(&data[..data.len().min(8)]) {
            return Ok(LogReadOutcome { core: 0, generation: 0, records: vec![], valid_len: 0, torn_tail: !data.is_empty() });
        }
        return Err(FormatError::BadHeader);
    }
    let crc = u32::from_le_bytes(data[20..24].try_into().map_err(|_| FormatError::BadHeader)?);
    if crc32fast::hash(&data[..20]) != crc {
        return Err(FormatError::BadHeader);
    }
    let core = u32::from_le_bytes(data[8..12].try_into().map_err(|_| FormatError::BadHeader)?);
    let generation = u64::from_le_bytes(data[12..20].try_into().map_err(|_| FormatError::BadHeader)?);
    let mut records = Vec::new();
    let mut pos = HEADER_LEN;
    loop {
        match next_frame(data, pos) {
            Frame::End => return Ok(LogReadOutcome { core, generation, records, valid_len: pos as u64, torn_tail: false }),
            Frame::Incomplete | Frame::BadChecksum { last: true } => {
                return Ok(LogReadOutcome { core, generation, records, valid_len: pos as u64, torn_tail: true })
            }
            Frame::BadChecksum { last: false } => return Err(FormatError::Checksum(pos as u64)),
            Frame::Ok(body, next) => {
                records.push(decode_body(body).map_err(|e| match e {
                    FormatError::Malformed(_, m) => FormatError::Malformed(pos as u64, m),
                    other => other,
                })?);
                pos = next;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::str_value;

    fn sample() -> Vec<Record> {
        vec![
            Record::Cmd { ts: 5, argv: vec![Bytes::from_static(b"SET"), Bytes::from_static(b"k"), Bytes::from_static(b"v")] },
            Record::Image { ts: 6, key: Bytes::from_static(b"s"), entry: Some(Entry::new(str_value("x"), Some(99))) },
            Record::Image { ts: 7, key: Bytes::from_static(b"gone"), entry: None },
            Record::Flush { ts: 8 },
        ]
    }

    fn file(recs: &[Record]) -> Vec<u8> {
        let mut out = header(3, 9);
        for r in recs {
            encode(r, &mut out);
        }
        out
    }

    #[test]
    fn round_trip() {
        let data = file(&sample());
        let o = read(&data).unwrap();
        assert_eq!((o.core, o.generation), (3, 9));
        assert_eq!(o.records, sample());
        assert!(!o.torn_tail);
        assert_eq!(o.valid_len, data.len() as u64);
    }

    #[test]
    fn torn_tail_is_dropped_at_every_cut() {
        let data = file(&sample());
        let whole = read(&data).unwrap();
        for cut in HEADER_LEN..data.len() {
            let o = read(&data[..cut]).unwrap();
            assert!(o.records.len() < whole.records.len());
            assert!(o.valid_len as usize <= cut);
            assert_eq!(o.records[..], whole.records[..o.records.len()]);
        }
    }

    #[test]
    fn corruption_before_the_end_is_refused() {
        let data = file(&sample());
        // Flip a byte in the first record's body: records follow it.
        let mut bad = data.clone();
        bad[HEADER_LEN + 10] ^= 0xff;
        assert!(matches!(read(&bad), Err(FormatError::Checksum(_))));
        // Flipping a byte of the last record is a torn tail.
        let mut tail = data.clone();
        let n = tail.len();
        tail[n - 1] ^= 0xff;
        let o = read(&tail).unwrap();
        assert!(o.torn_tail);
        assert_eq!(o.records.len(), 3);
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut data = header(0, 0);
            data.extend_from_slice(&body);
            let _ = read(&data);
            let _ = read(&body);
        }
    }
}
