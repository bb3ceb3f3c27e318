//! Client-side decoding of replies (all RESP2 and RESP3 types).
//!
//! Used by load generators and tests, not by the server. Decoding runs in two
//! passes: the first only checks that a complete, well-formed reply is at the
//! front of the buffer (allocating nothing, so a large reply arriving in many
//! reads is cheap to re-check); the second splits exactly those bytes off the
//! buffer and builds the [`Reply`] with zero-copy slices of them.

use bytes::{Bytes, BytesMut};

use crate::number::parse_i64;
use crate::{ProtocolError, Reply};

/// Deepest aggregate nesting accepted (protects the stack).
const MAX_DEPTH: usize = 512;

/// Never reserve room for more than this many elements up front.
const MAX_PREALLOC: usize = 1024;

/// Parses one complete reply from the front of `buf` and consumes its bytes.
///
/// Returns `Ok(None)`, consuming nothing, if the reply is incomplete.
/// Understands RESP2 and RESP3: `+ - : $ *` and `_ , # ! = ( % ~ > |`.
/// RESP3 nulls decode as [`Reply::Nil`], blob errors (`!`) as
/// [`Reply::Error`], verbatim strings as [`Reply::Verbatim`] without their
/// 3-letter format, and attributes (`|`) are read and discarded (the reply
/// they annotate is returned). Streamed RESP3 types (`$?`, `*?`) are not
/// supported and give an error.
pub fn parse_reply(buf: &mut BytesMut) -> Result<Option<Reply>, ProtocolError> {
    let mut end = 0;
    if value(buf, &mut end, 0, None)?.is_none() {
        return Ok(None);
    }
    let frame = buf.split_to(end).freeze();
    let mut pos = 0;
    match value(&frame, &mut pos, 0, Some(&frame))? {
        Some(reply) if pos == end => Ok(Some(reply)),
        // Both passes run the same code, so this cannot happen.
        _ => Err(ProtocolError::InvalidReply("inconsistent reply framing")),
    }
}

/// A string piece of the reply: a slice of `src` when building, empty when
/// only scanning.
fn piece(src: Option<&Bytes>, start: usize, end: usize) -> Bytes {
    src.map_or_else(Bytes::new, |s| s.slice(start..end))
}

/// Finds the CRLF ending the line that starts at `start`. Returns the index
/// of the `\r`, or `None` if the line is incomplete.
fn line_end(data: &[u8], start: usize) -> Result<Option<usize>, ProtocolError> {
    let rest = data.get(start..).unwrap_or_default();
    let Some(cr) = rest.iter().position(|&c| c == b'\r') else {
        return Ok(None);
    };
    let cr = start + cr;
    match data.get(cr + 1) {
        None => Ok(None),
        Some(b'\n') => Ok(Some(cr)),
        Some(_) => Err(ProtocolError::InvalidReply("expected CRLF")),
    }
}

fn parse_double(line: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(line).ok()?;
    match s {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" | "-nan" => Some(f64::NAN),
        "" => None,
        _ => s.parse().ok(),
    }
}

/// Parses (`src` is `None`: only validates) the reply starting at `*pos`,
/// advancing `*pos` past it. `Ok(None)` means incomplete.
fn value(
    data: &[u8],
    pos: &mut usize,
    depth: usize,
    src: Option<&Bytes>,
) -> Result<Option<Reply>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(ProtocolError::ReplyTooDeep);
    }
    let Some(&kind) = data.get(*pos) else {
        return Ok(None);
    };
    if !b"+-:$*_,#!=(%~>|".contains(&kind) {
        return Err(ProtocolError::UnknownReplyType(kind));
    }
    let start = *pos + 1;
    let Some(cr) = line_end(data, start)? else {
        return Ok(None);
    };
    let line = &data[start..cr];
    let mut next = cr + 2;
    let bad = ProtocolError::InvalidReply;
    let reply = match kind {
        b'+' => Reply::Simple(piece(src, start, cr)),
        b'-' => Reply::Error(piece(src, start, cr)),
        b'(' => {
            let digits = line.strip_prefix(b"-").unwrap_or(line);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad("invalid big number"));
            }
            Reply::BigNumber(piece(src, start, cr))
        }
        b':' => Reply::Int(parse_i64(line).ok_or(bad("invalid integer"))?),
        b',' => Reply::Double(parse_double(line).ok_or(bad("invalid double"))?),
        b'#' => match line {
            b"t" => Reply::Bool(true),
            b"f" => Reply::Bool(false),
            _ => return Err(bad("invalid boolean")),
        },
        b'_' => {
            if !line.is_empty() {
                return Err(bad("invalid null"));
            }
            Reply::Nil
        }
        b'$' | b'!' | b'=' => {
            let len = parse_i64(line).ok_or(bad("invalid bulk length"))?;
            if len == -1 && kind == b'$' {
                Reply::Nil
            } else {
                let len = usize::try_from(len).map_err(|_| bad("invalid bulk length"))?;
                let body = next;
                let Some(body_end) = body.checked_add(len) else {
                    return Err(bad("invalid bulk length"));
                };
                match data.get(body_end..) {
                    Some(rest) if rest.len() >= 2 => {
                        if &rest[..2] != b"\r\n" {
                            return Err(bad("expected CRLF after bulk"));
                        }
                    }
                    _ => return Ok(None),
                }
                next = body_end + 2;
                match kind {
                    b'$' => Reply::Bulk(piece(src, body, body_end)),
                    b'!' => Reply::Error(piece(src, body, body_end)),
                    _ => {
                        if len < 4 || data[body + 3] != b':' {
                            return Err(bad("invalid verbatim string"));
                        }
                        Reply::Verbatim(piece(src, body + 4, body_end))
                    }
                }
            }
        }
        // Aggregates: * ~ > % |
        _ => {
            let count = parse_i64(line).ok_or(bad("invalid aggregate length"))?;
            if count == -1 && kind == b'*' {
                *pos = next;
                return Ok(Some(Reply::NilArray));
            }
            let count = u64::try_from(count).map_err(|_| bad("invalid aggregate length"))?;
            let prealloc = if src.is_some() {
                count.min(MAX_PREALLOC as u64) as usize
            } else {
                0
            };
            let pairs = matches!(kind, b'%' | b'|');
            let mut items = Vec::with_capacity(if pairs { 0 } else { prealloc });
            let mut map = Vec::with_capacity(if pairs { prealloc } else { 0 });
            for _ in 0..count {
                let Some(a) = value(data, &mut next, depth + 1, src)? else {
                    return Ok(None);
                };
                if pairs {
                    let Some(b) = value(data, &mut next, depth + 1, src)? else {
                        return Ok(None);
                    };
                    if src.is_some() {
                        map.push((a, b));
                    }
                } else if src.is_some() {
                    items.push(a);
                }
            }
            match kind {
                b'*' => Reply::Array(items),
                b'~' => Reply::Set(items),
                b'>' => Reply::Push(items),
                b'%' => Reply::Map(map),
                _ => {
                    // Attribute: discard it and return the value it annotates.
                    let Some(annotated) = value(data, &mut next, depth + 1, src)? else {
                        return Ok(None);
                    };
                    annotated
                }
            }
        }
    };
    *pos = next;
    Ok(Some(reply))
}
