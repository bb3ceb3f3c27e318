//! Reply values and their RESP2 / RESP3 encodings.

use bytes::{BufMut, Bytes, BytesMut};

use crate::double::format_double_g17;
use crate::number::write_i64;

/// Wire protocol version negotiated by HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

/// A reply value, encodable in either protocol version.
///
/// RESP3-only types degrade to their RESP2 equivalents when encoded for a
/// RESP2 client, the way Redis does it (maps become flat arrays, doubles
/// become bulk strings, booleans become integers, ...).
///
/// `PartialEq` treats two `Double(NaN)` as equal (and is otherwise the
/// ordinary structural equality), so `Reply` comparisons are reflexive.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `+OK`. Must not contain CR or LF (they are replaced by spaces).
    Simple(Bytes),
    /// Full error message without the `-`, e.g. `ERR unknown command ...` or
    /// `WRONGTYPE Operation ...`. CR and LF are replaced by spaces.
    Error(Bytes),
    Int(i64),
    Bulk(Bytes),
    /// Null bulk string: RESP2 `$-1`, RESP3 `_`.
    Nil,
    /// Null array: RESP2 `*-1`, RESP3 `_`.
    NilArray,
    Array(Vec<Reply>),
    /// RESP2: flat array of 2n elements; RESP3 `%n`.
    Map(Vec<(Reply, Reply)>),
    /// RESP2: array; RESP3 `~n`.
    Set(Vec<Reply>),
    /// RESP2: bulk string formatted with `%.17g`; RESP3 `,` with
    /// `inf` / `-inf` / `nan`.
    Double(f64),
    /// RESP2: integer 1/0; RESP3 `#t` / `#f`.
    Bool(bool),
    /// RESP2: bulk string; RESP3 `=<len>\r\ntxt:<payload>\r\n`.
    Verbatim(Bytes),
    /// RESP2: bulk string; RESP3 `(`.
    BigNumber(Bytes),
    /// Out-of-band push data. RESP2: array; RESP3 `>n`.
    Push(Vec<Reply>),
    /// Ordered pairs such as `[member, score]` (ZRANGE WITHSCORES and
    /// friends). RESP2: one flat array of 2n elements; RESP3: an array of n
    /// two-element arrays (Redis 7.0 keeps an array, not a map, so clients
    /// keep the order).
    Pairs(Vec<(Reply, Reply)>),
    /// An array of bulk strings already in wire form (`*<n>` and `n` bulk
    /// strings, the same in RESP2 and RESP3), built by [`Reply::bulk_array`]:
    /// range replies write their elements once, straight from the store,
    /// instead of as one `Bulk` each. Equal to the `Array` of those `Bulk`s.
    BulkArray(Vec<u8>),
}

impl PartialEq for Reply {
    fn eq(&self, other: &Reply) -> bool {
        use Reply::*;
        match (self, other) {
            (Simple(a), Simple(b))
            | (Error(a), Error(b))
            | (Bulk(a), Bulk(b))
            | (Verbatim(a), Verbatim(b))
            | (BigNumber(a), BigNumber(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Nil, Nil) | (NilArray, NilArray) => true,
            (Array(a), Array(b)) | (Set(a), Set(b)) | (Push(a), Push(b)) => a == b,
            (Map(a), Map(b)) | (Pairs(a), Pairs(b)) => a == b,
            (Double(a), Double(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Bool(a), Bool(b)) => a == b,
            (BulkArray(a), BulkArray(b)) => a == b,
            (BulkArray(wire), other) | (other, BulkArray(wire)) => {
                crate::parse_reply(&mut BytesMut::from(&wire[..])).ok().flatten().as_ref() == Some(other)
            }
            _ => false,
        }
    }
}

impl Reply {
    /// `+OK`.
    pub fn ok() -> Reply {
        Reply::Simple(Bytes::from_static(b"OK"))
    }

    /// A simple string reply from a static string.
    pub fn simple(s: &'static str) -> Reply {
        Reply::Simple(Bytes::from_static(s.as_bytes()))
    }

    /// An error reply. No prefix is added: pass `"ERR ..."`, `"WRONGTYPE ..."`.
    pub fn error(msg: impl Into<Bytes>) -> Reply {
        Reply::Error(msg.into())
    }

    /// A bulk string reply.
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }

    /// An array of these byte strings as bulk strings, in wire form.
    pub fn bulk_array(parts: &[&[u8]]) -> Reply {
        // Sized exactly up front, so every write below is a plain store
        // into reserved space (range replies are a hot path: ZRANGE 0 9).
        let size = len_line_size(parts.len()) + parts.iter().map(|p| len_line_size(p.len()) + p.len() + 2).sum::<usize>();
        // A vector, not `Bytes`: a `Bytes` made from a vector with spare
        // capacity costs a second allocation and reference counting.
        let mut out = Vec::with_capacity(size);
        put_len(&mut out, b'*', parts.len());
        for p in parts {
            write_bulk(&mut out, p);
        }
        debug_assert_eq!(out.len(), size);
        Reply::BulkArray(out)
    }

    /// [`Reply::bulk_array`] of what `parts` yields. Short ranges (the
    /// common ZRANGE key 0 9) are gathered on the stack, not in a vector.
    pub fn bulk_array_of<'a>(mut parts: impl Iterator<Item = &'a [u8]>) -> Reply {
        const ON_STACK: usize = 32;
        let mut first: [&[u8]; ON_STACK] = [&[]; ON_STACK];
        for (n, slot) in first.iter_mut().enumerate() {
            match parts.next() {
                Some(p) => *slot = p,
                None => return Reply::bulk_array(&first[..n]),
            }
        }
        let mut all = first.to_vec();
        all.extend(parts);
        Reply::bulk_array(&all)
    }

    /// True for [`Reply::Error`].
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Appends the wire form of this reply for protocol `proto` to `out`.
    pub fn encode(&self, proto: Protocol, out: &mut BytesMut) {
        let resp3 = proto == Protocol::Resp3;
        match self {
            Reply::Simple(s) => put_line(out, b'+', s),
            Reply::Error(e) => put_line(out, b'-', e),
            Reply::Int(i) => put_int(out, b':', *i),
            Reply::Bulk(b) => put_bulk(out, b),
            Reply::Nil if resp3 => out.extend_from_slice(b"_\r\n"),
            Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
            Reply::NilArray if resp3 => out.extend_from_slice(b"_\r\n"),
            Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
            Reply::Array(items) => put_aggregate(out, b'*', items, proto),
            Reply::Set(items) => put_aggregate(out, if resp3 { b'~' } else { b'*' }, items, proto),
            Reply::Push(items) => put_aggregate(out, if resp3 { b'>' } else { b'*' }, items, proto),
            Reply::Map(pairs) => {
                if resp3 {
                    put_len(out, b'%', pairs.len());
                } else {
                    put_len(out, b'*', pairs.len().saturating_mul(2));
                }
                for (k, v) in pairs {
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
            Reply::Pairs(pairs) => {
                if resp3 {
                    put_len(out, b'*', pairs.len());
                } else {
                    put_len(out, b'*', pairs.len().saturating_mul(2));
                }
                for (a, b) in pairs {
                    if resp3 {
                        out.extend_from_slice(b"*2\r\n");
                    }
                    a.encode(proto, out);
                    b.encode(proto, out);
                }
            }
            Reply::Double(d) => {
                let s = format_double_g17(*d);
                if resp3 {
                    put_line(out, b',', s.as_bytes());
                } else {
                    put_bulk(out, s.as_bytes());
                }
            }
            Reply::Bool(b) if resp3 => {
                out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" })
            }
            Reply::Bool(b) => out.extend_from_slice(if *b { b":1\r\n" } else { b":0\r\n" }),
            Reply::Verbatim(v) if resp3 => {
                put_len(out, b'=', v.len() + 4);
                out.reserve(v.len() + 6);
                out.extend_from_slice(b"txt:");
                out.extend_from_slice(v);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Verbatim(v) => put_bulk(out, v),
            Reply::BigNumber(n) if resp3 => put_line(out, b'(', n),
            Reply::BigNumber(n) => put_bulk(out, n),
            Reply::BulkArray(wire) => out.extend_from_slice(wire),
        }
    }

    /// Convenience: the wire form of this reply as a fresh buffer.
    pub fn to_bytes(&self, proto: Protocol) -> BytesMut {
        let mut out = BytesMut::new();
        self.encode(proto, &mut out);
        out
    }
}

/// `<prefix><text>\r\n`, with any CR/LF in `text` replaced by spaces so the
/// line cannot break the framing.
fn put_line(out: &mut BytesMut, prefix: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(prefix);
    if text.iter().any(|&c| c == b'\r' || c == b'\n') {
        out.extend(
            text.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
    } else {
        out.extend_from_slice(text);
    }
    out.extend_from_slice(b"\r\n");
}

/// `<prefix><v>\r\n`, into a connection's `BytesMut` or a reply's vector
/// ([`Reply::bulk_array`]).
fn put_int(out: &mut impl BufMut, prefix: u8, v: i64) {
    // Most numbers on the wire (bulk and array lengths, small counts) are
    // under 100: such a line is written in one go.
    match v {
        0..=9 => out.put_slice(&[prefix, b'0' + v as u8, b'\r', b'\n']),
        10..=99 => out.put_slice(&[prefix, b'0' + (v / 10) as u8, b'0' + (v % 10) as u8, b'\r', b'\n']),
        _ => {
            out.put_u8(prefix);
            write_i64(out, v);
            out.put_slice(b"\r\n");
        }
    }
}

fn put_len(out: &mut impl BufMut, prefix: u8, len: usize) {
    // Lengths beyond i64::MAX cannot exist in memory.
    put_int(out, prefix, i64::try_from(len).unwrap_or(i64::MAX));
}

/// Bytes of a `<prefix><len>\r\n` line.
fn len_line_size(len: usize) -> usize {
    match len {
        0..=9 => 4,
        10..=99 => 5,
        _ => 3 + len.ilog10() as usize + 1,
    }
}

fn put_bulk(out: &mut BytesMut, payload: &[u8]) {
    out.reserve(payload.len() + 25);
    write_bulk(out, payload);
}

/// `$<len>\r\n<payload>\r\n` into room the caller has made
/// ([`put_bulk`], or [`Reply::bulk_array`]'s exactly sized vector).
fn write_bulk(out: &mut impl BufMut, payload: &[u8]) {
    put_len(out, b'$', payload.len());
    out.put_slice(payload);
    out.put_slice(b"\r\n");
}

fn put_aggregate(out: &mut BytesMut, prefix: u8, items: &[Reply], proto: Protocol) {
    put_len(out, prefix, items.len());
    for item in items {
        item.encode(proto, out);
    }
}
