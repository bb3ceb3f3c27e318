//! The snapshot of one core: every live key at one instant.
//!
//! ```text
//! header = "RCSNAP\0\x01" core:u32 cores:u32 generation:u64 created_ms:u64 crc32(header so far):u32
//! frame* (one per key: key blob, ttl, value)
//! end frame = 0xff count:u64
//! ```
//! A snapshot is written to a temporary name, fsynced and renamed, so any
//! damage found when reading it is corruption, never a torn write.

use crate::codec::{entry_body, next_frame, put_frame, read_keyed_entry, Frame, FormatError, Reader};
use bytes::Bytes;
use store::{Entry, EntryRef};

pub const SNAP_MAGIC: &[u8; 8] = b"RCSNAP\0\x01";
pub const HEADER_LEN: usize = 36;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SnapshotHeader {
    pub core: u32,
    pub cores: u32,
    pub generation: u64,
    pub created_ms: u64,
}

/// Builds a snapshot file incrementally.
pub struct SnapshotWriter {
    pub buf: Vec<u8>,
    count: u64,
}

impl SnapshotWriter {
    pub fn new(h: SnapshotHeader) -> SnapshotWriter {
        let mut buf = SNAP_MAGIC.to_vec();
        buf.extend_from_slice(&h.core.to_le_bytes());
        buf.extend_from_slice(&h.cores.to_le_bytes());
        buf.extend_from_slice(&h.generation.to_le_bytes());
        buf.extend_from_slice(&h.created_ms.to_le_bytes());
        let crc = crc32fast::hash(&buf);
        buf.extend_from_slice(&crc.to_le_bytes());
        SnapshotWriter { buf, count: 0 }
    }

    pub fn add<'a>(&mut self, key: &[u8], e: impl Into<EntryRef<'a>>) {
        put_frame(&mut self.buf, &entry_body(key, e));
        self.count += 1;
    }

    /// Takes the bytes written so far (to stream them out), keeping the count.
    pub fn take_chunk(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// The end frame.
    pub fn finish(mut self) -> Vec<u8> {
        let mut body = vec![0xff];
        body.extend_from_slice(&self.count.to_le_bytes());
        put_frame(&mut self.buf, &body);
        self.buf
    }
}

/// Reads a whole snapshot; any damage is an error.
pub fn read(data: &[u8]) -> Result<(SnapshotHeader, Vec<(Bytes, Entry)>), FormatError> {
    if data.len() < HEADER_LEN || &data[..8] != SNAP_MAGIC {
        return Err(FormatError::BadHeader);
    }
    let crc = u32::from_le_bytes(data[32..36].try_into().map_err(|_| FormatError::BadHeader)?);
    if crc32fast::hash(&data[..32]) != crc {
        return Err(FormatError::Checksum(0));
    }
    let mut r = Reader::new(&data[8..32]);
    let core = u32::from_le_bytes(r.take(4)?.try_into().map_err(|_| FormatError::BadHeader)?);
    let cores = u32::from_le_bytes(r.take(4)?.try_into().map_err(|_| FormatError::BadHeader)?);
    let generation = r.u64()?;
    let created_ms = r.u64()?;
    let header = SnapshotHeader { core, cores, generation, created_ms };
    let mut entries = Vec::new();
    let mut pos = HEADER_LEN;
    loop {
        match next_frame(data, pos) {
            Frame::Ok(body, next) => {
                if body.first() == Some(&0xff) && body.len() == 9 {
                    let count = u64::from_le_bytes(body[1..9].try_into().map_err(|_| FormatError::BadHeader)?);
                    if count != entries.len() as u64 || next != data.len() {
                        return Err(FormatError::Malformed(pos as u64, "entry count or trailing bytes".into()));
                    }
                    return Ok((header, entries));
                }
                entries.push(read_keyed_entry(body).map_err(|e| match e {
                    FormatError::Malformed(_, m) => FormatError::Malformed(pos as u64, m),
                    other => other,
                })?);
                pos = next;
            }
            Frame::End | Frame::Incomplete => return Err(FormatError::Truncated(pos as u64)),
            Frame::BadChecksum { .. } => return Err(FormatError::Checksum(pos as u64)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::str_value;

    fn snap() -> Vec<u8> {
        let mut w = SnapshotWriter::new(SnapshotHeader { core: 1, cores: 2, generation: 4, created_ms: 77 });
        w.add(b"a", &Entry::new(str_value("1"), None));
        let mut out = w.take_chunk();
        w.add(b"b", &Entry::new(str_value("2"), Some(123)));
        out.extend(w.finish());
        out
    }

    #[test]
    fn round_trip() {
        let (h, e) = read(&snap()).unwrap();
        assert_eq!(h.generation, 4);
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].1.expires_at, Some(123));
    }

    #[test]
    fn every_flipped_byte_and_every_cut_is_refused() {
        let data = snap();
        for i in 0..data.len() {
            let mut bad = data.clone();
            bad[i] ^= 0x5a;
            assert!(read(&bad).is_err(), "flip at {i} accepted");
        }
        for cut in 0..data.len() {
            assert!(read(&data[..cut]).is_err(), "cut at {cut} accepted");
        }
    }
}
