//! Framing, varints and the encoding of one keyspace entry.

use bytes::Bytes;
use store::{Entry, EntryRef, Value};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    #[error("bad magic or header")]
    BadHeader,
    #[error("unsupported format version {0}")]
    Version(u16),
    #[error("checksum mismatch at offset {0}")]
    Checksum(u64),
    #[error("truncated data at offset {0}")]
    Truncated(u64),
    #[error("malformed data at offset {0}: {1}")]
    Malformed(u64, String),
}

/// Largest frame body accepted (a 512 MB value plus its key and framing).
pub const MAX_FRAME: usize = 1 << 30;

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn put_blob(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A cursor over a frame body.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    fn err(&self, what: &str) -> FormatError {
        FormatError::Malformed(self.pos as u64, what.to_string())
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn u8(&mut self) -> Result<u8, FormatError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.err("unexpected end"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn u64(&mut self) -> Result<u64, FormatError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| self.err("u64"))?))
    }

    pub fn varint(&mut self) -> Result<u64, FormatError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            v |= ((b & 0x7f) as u64) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint too long"))
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.buf.len() - self.pos < n {
            return Err(self.err("length past the end"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn blob(&mut self) -> Result<&'a [u8], FormatError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| self.err("blob length"))?;
        self.take(n)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }
}

/// Appends one frame: length, CRC-32 of the body, body.
pub fn put_frame(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
}

/// What is at `pos` in a sequence of frames.
pub enum Frame<'a> {
    /// A whole, valid frame and the offset after it.
    Ok(&'a [u8], usize),
    /// The end of the data.
    End,
    /// A frame that runs past the end of the data (torn write).
    Incomplete,
    /// A frame whose checksum fails; `last` when nothing follows it.
    BadChecksum { last: bool },
}

pub fn next_frame(data: &[u8], pos: usize) -> Frame<'_> {
    if pos >= data.len() {
        return Frame::End;
    }
    if data.len() - pos < 8 {
        return Frame::Incomplete;
    }
    let len = u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
    let crc = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]]);
    let start = pos + 8;
    if len > MAX_FRAME || data.len() - start < len {
        return Frame::Incomplete;
    }
    let body = &data[start..start + len];
    if crc32fast::hash(body) != crc {
        return Frame::BadChecksum { last: start + len == data.len() };
    }
    Frame::Ok(body, start + len)
}

/// Encodes an entry's TTL and value (the key is stored beside it).
pub fn put_entry<'a>(out: &mut Vec<u8>, e: impl Into<EntryRef<'a>>) {
    let e = e.into();
    match e.expires_at {
        Some(t) => {
            out.push(1);
            out.extend_from_slice(&t.to_le_bytes());
        }
        None => out.push(0),
    }
    store::serialize::encode_value(e.value, out);
}

pub fn read_entry(r: &mut Reader) -> Result<Entry, FormatError> {
    let expires_at = match r.u8()? {
        0 => None,
        1 => Some(r.u64()?),
        _ => return Err(FormatError::Malformed(0, "bad ttl flag".into())),
    };
    let rest = r.rest();
    let (value, used) = store::serialize::decode_value_prefix(rest).map_err(|e| FormatError::Malformed(0, format!("value: {e}")))?;
    if used != rest.len() {
        return Err(FormatError::Malformed(0, "bytes after the value".into()));
    }
    Ok(Entry::new(value, expires_at))
}

/// A key and its entry as one frame body.
pub fn entry_body<'a>(key: &[u8], e: impl Into<EntryRef<'a>>) -> Vec<u8> {
    let mut body = Vec::with_capacity(key.len() + 32);
    put_blob(&mut body, key);
    put_entry(&mut body, e);
    body
}

pub fn read_keyed_entry(body: &[u8]) -> Result<(Bytes, Entry), FormatError> {
    let mut r = Reader::new(body);
    let key = Bytes::copy_from_slice(r.blob()?);
    Ok((key, read_entry(&mut r)?))
}

/// A string value, for tests.
pub fn str_value(s: &str) -> Value {
    Value::Str(Bytes::copy_from_slice(s.as_bytes()))
}
