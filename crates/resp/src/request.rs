//! Incremental parsing of client requests.
//!
//! A request is either a multibulk (`*<n>\r\n` followed by `n` bulk strings
//! `$<len>\r\n<payload>\r\n`) or an inline line as sent by telnet or old
//! clients. Which one is decided by the first byte: `*` means multibulk.
//!
//! Error conditions and messages follow Redis 7.0's `processMultibulkBuffer`
//! and `processInlineBuffer`; see [`ProtocolError`].

use bytes::{Buf, Bytes, BytesMut};

use crate::inline::split_inline;
use crate::number::parse_i64;
use crate::ProtocolError;

/// Size limits enforced while parsing requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted `$<n>` (Redis' `proto-max-bulk-len`).
    pub max_bulk_len: usize,
    /// Largest accepted `*<n>`.
    pub max_array_len: usize,
    /// Longest inline line, and longest `*`/`$` header line, accepted while
    /// no line terminator has been seen (Redis' `PROTO_INLINE_MAX_SIZE`).
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_array_len: 1024 * 1024,
            max_inline_len: 64 * 1024,
        }
    }
}

/// Bulk payloads at least this large are handed out zero-copy (split off the
/// read buffer). Smaller ones are copied into their own allocation so that a
/// tiny argument kept alive (e.g. stored as a key) does not pin a whole read
/// buffer in memory. Same threshold as Redis' `PROTO_MBULK_BIG_ARG`.
const ZERO_COPY_MIN: usize = 32 * 1024;

/// Never reserve room for more than this many arguments up front, whatever
/// the multibulk header claims.
const MAX_PREALLOC_ARGS: usize = 1024;

/// Argument vectors kept for reuse (a pipelined batch's worth).
const SPARE_VECTORS: usize = 64;

/// Progress through a multibulk request whose bytes have partly arrived.
#[derive(Debug)]
struct Multibulk {
    /// Arguments still to read.
    remaining: usize,
    /// Arguments read so far (their bytes are already consumed from the buffer).
    args: Vec<Bytes>,
    /// Length of the current bulk once its `$<n>` header has been consumed.
    bulk_len: Option<usize>,
}

/// Longest command name that is interned.
const INTERN_MAX_LEN: usize = 24;
/// Most distinct names interned per thread. Each is leaked (a few bytes), so
/// the cap bounds what a client sending made-up names can cost; past it
/// names are copied like any other argument.
pub(crate) const INTERN_MAX_NAMES: usize = 512;

std::thread_local! {
    static NAMES: std::cell::RefCell<std::collections::HashSet<&'static [u8]>> =
        std::cell::RefCell::new(std::collections::HashSet::new());
}

/// Every byte value once, for one-byte arguments (see [`arg_bytes`]).
static ONE_BYTE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as u8;
        i += 1;
    }
    t
};

/// An argument as an owned `Bytes`. The shortest ones (a single byte, two
/// digits, `-1`: the `0 9` of ZRANGE, the `0 -1` of LRANGE, INCRBY's `1`)
/// point into static tables instead of taking an allocation each.
fn arg_bytes(a: &[u8]) -> Bytes {
    match *a {
        [c] => Bytes::from_static(&ONE_BYTE[c as usize..c as usize + 1]),
        [b'-', b'1'] => Bytes::from_static(b"-1"),
        [hi @ b'0'..=b'9', lo @ b'0'..=b'9'] => {
            let at = usize::from(hi - b'0') * 20 + usize::from(lo - b'0') * 2;
            Bytes::from_static(&crate::number::DIGIT_PAIRS[at..at + 2])
        }
        _ => Bytes::copy_from_slice(a),
    }
}

/// The command name `name` as a `'static` slice shared by every request
/// that spells it so: its `Bytes` then costs no allocation or copy. `None`
/// for a long name, or once this thread holds `INTERN_MAX_NAMES`.
fn intern_name(name: &[u8]) -> Option<&'static [u8]> {
    if name.is_empty() || name.len() > INTERN_MAX_LEN {
        return None;
    }
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        if let Some(n) = names.get(name) {
            return Some(*n);
        }
        if names.len() >= INTERN_MAX_NAMES {
            return None;
        }
        let n: &'static [u8] = Box::leak(name.to_vec().into_boxed_slice());
        names.insert(n);
        Some(n)
    })
}

/// Incremental parser of client requests (RESP arrays of bulk strings, and
/// inline commands as redis-cli/telnet send them).
///
/// Feed it the connection's read buffer after every read. Between calls the
/// caller may only *append* to the buffer: the parser remembers how far it
/// already scanned for a line terminator and which multibulk arguments it
/// already consumed, so a large request arriving in many reads costs linear
/// time overall.
#[derive(Debug)]
pub struct RequestParser {
    limits: Limits,
    multibulk: Option<Multibulk>,
    /// Bytes at the front of the buffer already known not to contain the
    /// terminator of the line currently being looked for.
    scanned: usize,
    /// Argument vectors handed back by the caller, reused for the next requests.
    spare: Vec<Vec<Bytes>>,
    /// The command name of the last request on the fast path, interned (see
    /// [`intern_name`]): a pipeline usually repeats one command.
    last_name: Option<&'static [u8]>,
}

impl Default for RequestParser {
    fn default() -> Self {
        RequestParser::new(Limits::default())
    }
}

impl RequestParser {
    /// A parser enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        RequestParser {
            limits,
            multibulk: None,
            scanned: 0,
            spare: Vec::new(),
            last_name: None,
        }
    }

    /// Hands back a finished request's argument vector: the next request is
    /// parsed into it, saving an allocation per request.
    pub fn recycle(&mut self, mut args: Vec<Bytes>) {
        if args.capacity() <= MAX_PREALLOC_ARGS && self.spare.len() < SPARE_VECTORS {
            args.clear();
            self.spare.push(args);
        }
    }

    /// Replaces the limits; they apply to headers parsed from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// True while a multibulk request has been started but not completed.
    pub fn in_progress(&self) -> bool {
        self.multibulk.is_some()
    }

    /// While the payload of a bulk argument is awaited: how many bytes the
    /// buffer must hold for it (payload plus CRLF). Lets the caller reserve
    /// buffer space for big arguments in one go.
    pub fn bytes_wanted(&self) -> Option<usize> {
        self.multibulk
            .as_ref()
            .and_then(|m| m.bulk_len)
            .map(|n| n.saturating_add(2))
    }

    /// Parses the next complete request from the front of `buf`, consuming
    /// exactly its bytes.
    ///
    /// Returns `Ok(None)` when more bytes are needed; the bytes of completed
    /// arguments of a partial multibulk may already have been consumed (the
    /// parser keeps them). Empty inline lines and `*0`/`*-1` multibulks are
    /// consumed and skipped. After an error the parser is reset, but the
    /// connection is expected to be closed.
    pub fn next_command(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let result = self.parse(buf);
        if result.is_err() {
            self.multibulk = None;
            self.scanned = 0;
        }
        result
    }

    fn parse(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if self.multibulk.is_none() {
                match buf.first() {
                    None => return Ok(None),
                    Some(b'*') => {
                        if let Some(args) = self.whole_frame(buf) {
                            return Ok(Some(args));
                        }
                        if !self.start_multibulk(buf)? {
                            return Ok(None);
                        }
                        if self.multibulk.is_none() {
                            continue; // `*0` or negative count: ignored
                        }
                    }
                    Some(_) => match self.inline(buf)? {
                        None => return Ok(None),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => return Ok(Some(args)),
                    },
                }
            }
            return self.continue_multibulk(buf);
        }
    }

    /// The common case in one pass: a multibulk that has fully arrived, with
    /// few, small arguments and well-formed headers, is read with local
    /// offsets and consumed with one `advance` (the general path below
    /// advances the buffer three times per argument). Anything else
    /// (incomplete, large, malformed, or over a limit) returns `None` without
    /// consuming, and the general path parses it and reports any error.
    fn whole_frame(&mut self, buf: &mut BytesMut) -> Option<Vec<Bytes>> {
        const MAX_ARGS: usize = 16;
        let b: &[u8] = buf;
        let (count, mut at) = small_header(b, 1)?;
        if count == 0 || count > MAX_ARGS || count > self.limits.max_array_len {
            return None;
        }
        let mut spans = [(0usize, 0usize); MAX_ARGS];
        for span in &mut spans[..count] {
            if *b.get(at)? != b'$' {
                return None;
            }
            let (len, start) = small_header(b, at + 1)?;
            if len >= ZERO_COPY_MIN || len > self.limits.max_bulk_len {
                return None;
            }
            let end = start + len;
            if b.get(end..end + 2)? != b"\r\n" {
                return None;
            }
            *span = (start, len);
            at = end + 2;
        }
        let mut args = self.spare.pop().unwrap_or_default();
        let (start, len) = spans[0];
        let name = &b[start..start + len];
        let interned = match self.last_name {
            Some(last) if last == name => Some(last),
            _ => intern_name(name),
        };
        self.last_name = interned.or(self.last_name);
        args.push(match interned {
            Some(n) => Bytes::from_static(n),
            None => Bytes::copy_from_slice(name),
        });
        args.extend(spans[1..count].iter().map(|&(start, len)| arg_bytes(&b[start..start + len])));
        self.consume(buf, at);
        Some(args)
    }

    /// Looks for `byte` in `buf`, skipping what earlier calls already scanned.
    fn find(&mut self, buf: &[u8], byte: u8) -> Option<usize> {
        let from = self.scanned.min(buf.len());
        match buf[from..].iter().position(|&c| c == byte) {
            Some(p) => Some(from + p),
            None => {
                self.scanned = buf.len();
                None
            }
        }
    }

    /// Finds the end of a `*<n>` / `$<n>` header line. Returns the index of
    /// its `\r`, or `None` if the line and the byte after the `\r` have not
    /// all arrived. Like Redis, the byte after `\r` is skipped unchecked.
    fn header_line(
        &mut self,
        buf: &[u8],
        too_big: ProtocolError,
    ) -> Result<Option<usize>, ProtocolError> {
        match self.find(buf, b'\r') {
            None if buf.len() > self.limits.max_inline_len => Err(too_big),
            None => Ok(None),
            Some(cr) if cr + 1 >= buf.len() => {
                self.scanned = cr;
                Ok(None)
            }
            Some(cr) => Ok(Some(cr)),
        }
    }

    fn consume(&mut self, buf: &mut BytesMut, n: usize) {
        buf.advance(n);
        self.scanned = 0;
    }

    /// Parses the `*<n>` header. Returns false if it is incomplete; otherwise
    /// consumes it and, unless `n <= 0`, starts a multibulk.
    fn start_multibulk(&mut self, buf: &mut BytesMut) -> Result<bool, ProtocolError> {
        let Some(cr) = self.header_line(buf, ProtocolError::TooBigMultibulkCount)? else {
            return Ok(false);
        };
        let count = parse_i64(&buf[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?;
        if count > 0 && count as u64 > self.limits.max_array_len as u64 {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        self.consume(buf, cr + 2);
        if count > 0 {
            let count = count as usize;
            self.multibulk = Some(Multibulk {
                remaining: count,
                args: match self.spare.pop() {
                    Some(mut v) => {
                        v.reserve(count.min(MAX_PREALLOC_ARGS));
                        v
                    }
                    None => Vec::with_capacity(count.min(MAX_PREALLOC_ARGS)),
                },
                bulk_len: None,
            });
        }
        Ok(true)
    }

    fn continue_multibulk(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(mut mb) = self.multibulk.take() else {
            return Ok(None);
        };
        let result = self.read_args(&mut mb, buf);
        match result {
            Ok(true) => Ok(Some(mb.args)),
            Ok(false) => {
                self.multibulk = Some(mb);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads as many arguments as are complete. Returns true when all are.
    fn read_args(&mut self, mb: &mut Multibulk, buf: &mut BytesMut) -> Result<bool, ProtocolError> {
        while mb.remaining > 0 {
            let len = match mb.bulk_len {
                Some(len) => len,
                None => {
                    let Some(cr) = self.header_line(buf, ProtocolError::TooBigBulkCount)? else {
                        return Ok(false);
                    };
                    if buf[0] != b'$' {
                        return Err(ProtocolError::ExpectedDollar(buf[0]));
                    }
                    let len = parse_i64(&buf[1..cr]).ok_or(ProtocolError::InvalidBulkLength)?;
                    if len < 0 || len as u64 > self.limits.max_bulk_len as u64 {
                        return Err(ProtocolError::InvalidBulkLength);
                    }
                    self.consume(buf, cr + 2);
                    let len = len as usize;
                    mb.bulk_len = Some(len);
                    len
                }
            };
            // `len` is bounded by max_bulk_len, but be careful anyway.
            let Some(total) = len.checked_add(2) else {
                return Err(ProtocolError::InvalidBulkLength);
            };
            if buf.len() < total {
                return Ok(false);
            }
            if &buf[len..total] != b"\r\n" {
                return Err(ProtocolError::ExpectedCrlfAfterBulk);
            }
            let arg = if len >= ZERO_COPY_MIN {
                buf.split_to(len).freeze()
            } else {
                let arg = arg_bytes(&buf[..len]);
                buf.advance(len);
                arg
            };
            self.consume(buf, 2);
            mb.args.push(arg);
            mb.bulk_len = None;
            mb.remaining -= 1;
        }
        Ok(true)
    }

    /// Parses one inline line. `Some(vec![])` for a blank line.
    fn inline(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(nl) = self.find(buf, b'\n') else {
            if buf.len() > self.limits.max_inline_len {
                return Err(ProtocolError::TooBigInlineRequest);
            }
            return Ok(None);
        };
        let line = &buf[..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let args = split_inline(line)?;
        self.consume(buf, nl + 1);
        Ok(Some(args))
    }
}

/// A `*<n>` or `$<n>` header's number, read from `from` (just after the
/// type byte), and the offset just after its line. Only plain decimal
/// numbers of up to nine digits without a leading zero qualify (the general
/// parser handles the rest); `None` also when the line has not fully arrived.
/// As in the general path, the byte after `\r` is not checked.
fn small_header(b: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut n = 0usize;
    let mut at = from;
    loop {
        let c = *b.get(at)?;
        if c == b'\r' {
            break;
        }
        if !c.is_ascii_digit() || at - from == 9 || (at > from && n == 0) {
            return None;
        }
        n = n * 10 + (c - b'0') as usize;
        at += 1;
    }
    if at == from || at + 1 >= b.len() {
        return None;
    }
    Some((n, at + 2))
}

