//! String commands, as they run on the shard that owns the key.

use crate::args::{parse_f64, parse_i64, Args};
use crate::error::{CmdError, CmdResult};
use bytes::{Bytes, BytesMut};
use resp::Reply;
use store::{Shard, Value, ValueRef};

/// Largest string SETRANGE/APPEND may build (Redis's proto-max-bulk-len default).
pub const MAX_STRING_LEN: usize = 512 * 1024 * 1024;

/// Copies a value out of the request buffer so the store never pins it.
pub(crate) fn owned(b: &Bytes) -> Bytes {
    Bytes::copy_from_slice(b)
}

/// The string stored at `key`: Ok(None) when missing, WRONGTYPE for other types.
pub(crate) fn get_str(shard: &mut Shard, key: &[u8]) -> Result<Option<Bytes>, CmdError> {
    Ok(str_at(shard, key)?.map(Bytes::copy_from_slice))
}

/// Like [`get_str`], borrowing the stored bytes instead of copying them.
fn str_at<'a>(shard: &'a mut Shard, key: &[u8]) -> Result<Option<&'a [u8]>, CmdError> {
    match shard.get(key) {
        None => Ok(None),
        Some(e) => match e.value {
            ValueRef::Str(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

fn bulk_or_nil(v: Option<Bytes>) -> Reply {
    v.map(Reply::Bulk).unwrap_or(Reply::Nil)
}

/// How a command sets or keeps a key's expiry.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum ExpireArg {
    Relative { ms: i64 },
    Absolute { ms: i64 },
}

/// Turns a relative or absolute time into an absolute Unix-ms deadline,
/// refusing values Redis refuses (not positive, or overflowing).
pub(crate) fn deadline(now: u64, arg: ExpireArg, cmd: &str) -> Result<u64, CmdError> {
    let invalid = || CmdError::InvalidExpire(cmd.to_string());
    match arg {
        ExpireArg::Relative { ms } if ms > 0 => (now as i64).checked_add(ms).map(|t| t as u64).ok_or_else(invalid),
        ExpireArg::Absolute { ms } if ms > 0 => Ok(ms as u64),
        _ => Err(invalid()),
    }
}

/// Reads the number after EX/PX/EXAT/PXAT, as milliseconds.
pub(crate) fn expire_value(args: &mut Args, unit_seconds: bool, cmd: &str) -> Result<i64, CmdError> {
    let v = args.next_i64()?;
    if unit_seconds {
        v.checked_mul(1000).ok_or_else(|| CmdError::InvalidExpire(cmd.to_string()))
    } else {
        Ok(v)
    }
}

/// ```text
/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
/// ```
pub fn set(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let mut args = Args::new(argv);
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let (mut nx, mut xx, mut get, mut keep_ttl) = (false, false, false, false);
    let mut expire: Option<ExpireArg> = None;
    while args.remaining() > 0 {
        let opt = args.next_keyword()?;
        match opt.as_slice() {
            b"NX" if !xx => nx = true,
            b"XX" if !nx => xx = true,
            b"GET" => get = true,
            b"KEEPTTL" if expire.is_none() => keep_ttl = true,
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if expire.is_none() && !keep_ttl && args.remaining() > 0 => {
                let secs = opt == b"EX" || opt == b"EXAT";
                let ms = expire_value(&mut args, secs, "set")?;
                expire = Some(if opt.ends_with(b"AT") { ExpireArg::Absolute { ms } } else { ExpireArg::Relative { ms } });
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let deadline = match expire {
        Some(e) => Some(deadline(shard.now(), e, "set")?),
        None => None,
    };
    let old = if get { get_str(shard, key)? } else { None };
    let exists = if get { old.is_some() } else { shard.contains(key) };
    if (nx && exists) || (xx && !exists) {
        return Ok(if get { bulk_or_nil(old) } else { Reply::Nil });
    }
    let ttl = if keep_ttl { shard.peek(key).and_then(|e| e.expires_at) } else { deadline };
    shard.insert_str(key, value, ttl);
    Ok(if get { bulk_or_nil(old) } else { Reply::ok() })
}

/// ```text
/// GET key
/// ```
pub fn get(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(bulk_or_nil(get_str(shard, &argv[1])?))
}

/// ```text
/// SETNX key value
/// ```
pub fn setnx(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    if shard.contains(&argv[1]) {
        return Ok(Reply::Int(0));
    }
    shard.insert_str(&argv[1], &argv[2], None);
    Ok(Reply::Int(1))
}

fn set_with_ttl(shard: &mut Shard, argv: &[Bytes], unit_seconds: bool, cmd: &str) -> CmdResult {
    let mut args = Args::new(argv);
    let key = args.next_bytes()?;
    let ms = expire_value(&mut args, unit_seconds, cmd)?;
    let value = args.next_bytes()?;
    let at = deadline(shard.now(), ExpireArg::Relative { ms }, cmd)?;
    shard.insert_str(key, value, Some(at));
    Ok(Reply::ok())
}

/// ```text
/// SETEX key seconds value
/// ```
pub fn setex(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    set_with_ttl(shard, argv, true, "setex")
}

/// ```text
/// PSETEX key milliseconds value
/// ```
pub fn psetex(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    set_with_ttl(shard, argv, false, "psetex")
}

/// ```text
/// GETSET key value
/// ```
pub fn getset(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let old = get_str(shard, &argv[1])?;
    shard.insert_str(&argv[1], &argv[2], None);
    Ok(bulk_or_nil(old))
}

/// ```text
/// GETDEL key
/// ```
pub fn getdel(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let old = get_str(shard, &argv[1])?;
    if old.is_some() {
        shard.remove(&argv[1]);
    }
    Ok(bulk_or_nil(old))
}

/// ```text
/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]
/// ```
pub fn getex(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let mut args = Args::new(argv);
    let key = args.next_bytes()?;
    // None: leave the TTL; Some(None): PERSIST; Some(Some(t)): new deadline.
    let mut change: Option<Option<ExpireArg>> = None;
    while args.remaining() > 0 {
        let opt = args.next_keyword()?;
        match opt.as_slice() {
            b"PERSIST" if change.is_none() => change = Some(None),
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if change.is_none() && args.remaining() > 0 => {
                let secs = opt == b"EX" || opt == b"EXAT";
                let ms = expire_value(&mut args, secs, "getex")?;
                change = Some(Some(if opt.ends_with(b"AT") { ExpireArg::Absolute { ms } } else { ExpireArg::Relative { ms } }));
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let deadline = match change {
        Some(Some(e)) => Some(Some(deadline(shard.now(), e, "getex")?)),
        Some(None) => Some(None),
        None => None,
    };
    let v = get_str(shard, key)?;
    if v.is_some() {
        match deadline {
            Some(Some(t)) if t <= shard.now() => {
                shard.remove(key);
            }
            Some(t) => {
                shard.set_expiry(key, t);
            }
            None => {}
        }
    }
    Ok(bulk_or_nil(v))
}

/// ```text
/// MGET key [key ...]
/// ```
/// Values of other types read as nil, as in Redis.
pub fn mget(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let out = argv[1..]
        .iter()
        .map(|k| match shard.get(k).map(|e| e.value) {
            Some(ValueRef::Str(s)) => Reply::Bulk(Bytes::copy_from_slice(s)),
            _ => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(out))
}

/// ```text
/// MSET key value [key value ...]
/// ```
pub fn mset(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    if argv.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity("mset".into()));
    }
    for pair in argv[1..].chunks_exact(2) {
        shard.insert_str(&pair[0], &pair[1], None);
    }
    Ok(Reply::ok())
}

/// ```text
/// MSETNX key value [key value ...]
/// ```
pub fn msetnx(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    if argv.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity("msetnx".into()));
    }
    if argv[1..].chunks_exact(2).any(|p| shard.contains(&p[0])) {
        return Ok(Reply::Int(0));
    }
    mset(shard, argv)?;
    Ok(Reply::Int(1))
}

/// ```text
/// APPEND key value
/// ```
pub fn append(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let old = get_str(shard, &argv[1])?.unwrap_or_default();
    if old.len() + argv[2].len() > MAX_STRING_LEN {
        return Err(CmdError::Other("string exceeds maximum allowed size (proto-max-bulk-len)".into()));
    }
    let mut buf = BytesMut::with_capacity(old.len() + argv[2].len());
    buf.extend_from_slice(&old);
    buf.extend_from_slice(&argv[2]);
    let len = buf.len();
    shard.insert_keep_ttl(&argv[1], Value::Str(buf.freeze()));
    Ok(Reply::Int(len as i64))
}

/// ```text
/// STRLEN key
/// ```
pub fn strlen(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(get_str(shard, &argv[1])?.map(|s| s.len()).unwrap_or(0) as i64))
}

fn incr_by(shard: &mut Shard, key: &[u8], delta: i64) -> CmdResult {
    let cur = match str_at(shard, key)? {
        None => 0,
        Some(s) => parse_i64(s).ok_or(CmdError::NotInteger)?,
    };
    let new = cur.checked_add(delta).ok_or(CmdError::Overflow)?;
    let mut buf = [0u8; 20];
    let digits = resp::format_i64(new, &mut buf);
    if !shard.overwrite_str(key, digits) {
        shard.insert_keep_ttl(key, Value::Str(Bytes::copy_from_slice(digits)));
    }
    Ok(Reply::Int(new))
}

/// ```text
/// INCR key
/// ```
pub fn incr(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    incr_by(shard, &argv[1], 1)
}

/// ```text
/// DECR key
/// ```
pub fn decr(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    incr_by(shard, &argv[1], -1)
}

/// ```text
/// INCRBY key increment
/// ```
pub fn incrby(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let delta = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    incr_by(shard, &argv[1], delta)
}

/// ```text
/// DECRBY key decrement
/// ```
pub fn decrby(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let delta = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    let neg = delta.checked_neg().ok_or_else(|| CmdError::Other("decrement would overflow".into()))?;
    incr_by(shard, &argv[1], neg)
}

/// ```text
/// INCRBYFLOAT key increment
/// ```
pub fn incrbyfloat(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let cur = get_str(shard, key)?.unwrap_or_else(|| Bytes::from_static(b"0"));
    let text = Bytes::from(add_floats(&cur, &argv[2])?);
    shard.insert_keep_ttl(key, Value::Str(text.clone()));
    Ok(Reply::Bulk(text))
}

/// Adds two float strings the way INCRBYFLOAT does and formats the result.
///
/// Redis computes in C `long double` and prints "%.17Lf" with trailing zeros
/// removed, so 1000.1 + 0 reads "1000.09999999999999998". A few lines of C
/// (csrc/long_double.c) do the same arithmetic so the text matches exactly.
pub fn add_floats(current: &[u8], incr: &[u8]) -> Result<String, CmdError> {
    extern "C" {
        fn redcore_ld_add(cur: *const std::ffi::c_char, incr: *const std::ffi::c_char, out: *mut u8, cap: i32) -> i32;
    }
    parse_f64(current).ok_or(CmdError::NotFloat)?;
    parse_f64(incr).ok_or(CmdError::NotFloat)?;
    let a = std::ffi::CString::new(current).map_err(|_| CmdError::NotFloat)?;
    let b = std::ffi::CString::new(incr).map_err(|_| CmdError::NotFloat)?;
    let mut out = vec![0u8; 5120];
    // SAFETY: both inputs are NUL-terminated; `out` has `cap` writable bytes.
    let len = unsafe { redcore_ld_add(a.as_ptr(), b.as_ptr(), out.as_mut_ptr(), out.len() as i32) };
    if len < 0 {
        return Err(CmdError::Other("increment would produce NaN or Infinity".into()));
    }
    out.truncate(len as usize);
    let mut text = String::from_utf8_lossy(&out).into_owned();
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(trimmed);
    }
    if text == "-0" {
        text = "0".into();
    }
    Ok(text)
}

/// Maps Redis-style start/end (negative counts from the end) onto `0..len`.
/// Returns None for an empty range.
pub(crate) fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (s, e) = (norm(start), norm(end).min(len - 1));
    if len == 0 || s > e || s >= len {
        None
    } else {
        Some((s as usize, e as usize))
    }
}

/// ```text
/// GETRANGE key start end
/// ```
pub fn getrange(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let start = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    let end = parse_i64(&argv[3]).ok_or(CmdError::NotInteger)?;
    let s = get_str(shard, &argv[1])?.unwrap_or_default();
    // Redis: a negative end still past the start of the string gives "".
    if start < 0 && end < 0 && start > end {
        return Ok(Reply::Bulk(Bytes::new()));
    }
    Ok(Reply::Bulk(match clamp_range(start, end, s.len()) {
        Some((a, b)) => s.slice(a..=b),
        None => Bytes::new(),
    }))
}

/// ```text
/// SETRANGE key offset value
/// ```
pub fn setrange(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let offset = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    if offset < 0 {
        return Err(CmdError::Other("offset is out of range".into()));
    }
    let patch = &argv[3];
    let old = get_str(shard, key)?;
    if patch.is_empty() {
        return Ok(Reply::Int(old.map(|s| s.len()).unwrap_or(0) as i64));
    }
    let offset = offset as usize;
    if offset.saturating_add(patch.len()) > MAX_STRING_LEN {
        return Err(CmdError::Other("string exceeds maximum allowed size (proto-max-bulk-len)".into()));
    }
    let old = old.unwrap_or_default();
    let new_len = old.len().max(offset + patch.len());
    let mut buf = BytesMut::zeroed(new_len);
    buf[..old.len()].copy_from_slice(&old);
    buf[offset..offset + patch.len()].copy_from_slice(patch);
    shard.insert_keep_ttl(key, Value::Str(buf.freeze()));
    Ok(Reply::Int(new_len as i64))
}
