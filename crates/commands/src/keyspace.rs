//! Generic keyspace commands, as they run on the shard that owns the keys.

use crate::args::Args;
use crate::error::{CmdError, CmdResult};
use bytes::Bytes;
use resp::Reply;
use store::Shard;

/// ```text
/// DEL key [key ...]
/// UNLINK key [key ...]
/// ```
pub fn del(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(argv[1..].iter().filter(|k| shard.delete_live(k)).count() as i64))
}

/// ```text
/// EXISTS key [key ...]
/// ```
/// A key named twice counts twice.
pub fn exists(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(argv[1..].iter().filter(|k| shard.contains(k)).count() as i64))
}

/// ```text
/// TOUCH key [key ...]
/// ```
pub fn touch(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    exists(shard, argv)
}

/// ```text
/// TYPE key
/// ```
pub fn type_(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let name = shard.peek(&argv[1]).map(|e| e.value.type_name()).unwrap_or("none");
    Ok(Reply::simple(name))
}

/// ```text
/// RENAME key newkey
/// RENAMENX key newkey
/// ```
/// Both keys on this shard; the server moves the entry itself when they are not.
pub fn rename(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    rename_impl(shard, argv, false)
}

pub fn renamenx(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    rename_impl(shard, argv, true)
}

fn rename_impl(shard: &mut Shard, argv: &[Bytes], nx: bool) -> CmdResult {
    let (src, dst) = (&argv[1], &argv[2]);
    if !shard.contains(src) {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        return Ok(if nx { Reply::Int(0) } else { Reply::ok() });
    }
    if nx && shard.contains(dst) {
        return Ok(Reply::Int(0));
    }
    if let Some(entry) = shard.take(src) {
        shard.insert_entry(dst, entry);
    }
    Ok(if nx { Reply::Int(1) } else { Reply::ok() })
}

#[derive(Clone, Copy, PartialEq)]
enum ExpireCond {
    Always,
    Nx,
    Xx,
    Gt,
    Lt,
}

fn expire_generic(shard: &mut Shard, argv: &[Bytes], unit_seconds: bool, absolute: bool, cmd: &str) -> CmdResult {
    let mut args = Args::new(argv);
    let key = args.next_bytes()?;
    let raw = args.next_i64()?;
    let mut cond = ExpireCond::Always;
    while args.remaining() > 0 {
        let opt = args.next_bytes()?;
        let new = match opt.to_ascii_uppercase().as_slice() {
            b"NX" => ExpireCond::Nx,
            b"XX" => ExpireCond::Xx,
            b"GT" => ExpireCond::Gt,
            b"LT" => ExpireCond::Lt,
            _ => return Err(CmdError::Other(format!("Unsupported option {}", String::from_utf8_lossy(opt)))),
        };
        cond = match (cond, new) {
            (ExpireCond::Always, n) => n,
            (c, n) if c == n => n,
            (ExpireCond::Nx, _) | (_, ExpireCond::Nx) => {
                return Err(CmdError::Other("NX and XX, GT or LT options at the same time are not compatible".into()))
            }
            (ExpireCond::Gt, ExpireCond::Lt) | (ExpireCond::Lt, ExpireCond::Gt) => {
                return Err(CmdError::Other("GT and LT options at the same time are not compatible".into()))
            }
            (_, n) => n,
        };
    }
    let invalid = || CmdError::InvalidExpire(cmd.to_string());
    let mut ms = if unit_seconds { raw.checked_mul(1000).ok_or_else(invalid)? } else { raw };
    if !absolute {
        ms = ms.checked_add(shard.now() as i64).ok_or_else(invalid)?;
    }
    let Some(current) = shard.peek(key).map(|e| e.expires_at) else {
        return Ok(Reply::Int(0));
    };
    let allowed = match cond {
        ExpireCond::Always => true,
        ExpireCond::Nx => current.is_none(),
        ExpireCond::Xx => current.is_some(),
        // A key without TTL counts as an infinite TTL.
        ExpireCond::Gt => matches!(current, Some(t) if ms > t as i64),
        ExpireCond::Lt => current.map(|t| ms < t as i64).unwrap_or(true),
    };
    if !allowed {
        return Ok(Reply::Int(0));
    }
    if ms <= shard.now() as i64 {
        shard.remove(key);
    } else {
        shard.set_expiry(key, Some(ms as u64));
    }
    Ok(Reply::Int(1))
}

/// ```text
/// EXPIRE key seconds [NX | XX | GT | LT]
/// ```
pub fn expire(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    expire_generic(shard, argv, true, false, "expire")
}

/// ```text
/// PEXPIRE key milliseconds [NX | XX | GT | LT]
/// ```
pub fn pexpire(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    expire_generic(shard, argv, false, false, "pexpire")
}

/// ```text
/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
/// ```
pub fn expireat(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    expire_generic(shard, argv, true, true, "expireat")
}

/// ```text
/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
/// ```
pub fn pexpireat(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    expire_generic(shard, argv, false, true, "pexpireat")
}

/// Remaining TTL in ms: -2 missing key, -1 no TTL.
fn pttl_of(shard: &mut Shard, key: &[u8]) -> i64 {
    let now = shard.now();
    match shard.peek(key) {
        None => -2,
        Some(e) => e.expires_at.map(|t| t.saturating_sub(now) as i64).unwrap_or(-1),
    }
}

/// ```text
/// TTL key
/// ```
pub fn ttl(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let ms = pttl_of(shard, &argv[1]);
    Ok(Reply::Int(if ms < 0 { ms } else { (ms + 500) / 1000 }))
}

/// ```text
/// PTTL key
/// ```
pub fn pttl(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(pttl_of(shard, &argv[1])))
}

fn expire_time_of(shard: &mut Shard, key: &[u8]) -> i64 {
    match shard.peek(key) {
        None => -2,
        Some(e) => e.expires_at.map(|t| t as i64).unwrap_or(-1),
    }
}

/// ```text
/// EXPIRETIME key
/// ```
pub fn expiretime(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let t = expire_time_of(shard, &argv[1]);
    Ok(Reply::Int(if t < 0 { t } else { t / 1000 }))
}

/// ```text
/// PEXPIRETIME key
/// ```
pub fn pexpiretime(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(expire_time_of(shard, &argv[1])))
}

/// ```text
/// PERSIST key
/// ```
pub fn persist(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let had_ttl = matches!(shard.peek(&argv[1]), Some(e) if e.expires_at.is_some());
    if had_ttl {
        shard.set_expiry(&argv[1], None);
    }
    Ok(Reply::Int(had_ttl as i64))
}
