//! The first list and hash commands. The full data model comes with its own
//! issue; these exist so that TYPE and WRONGTYPE behave as in Redis.

use crate::args::parse_i64;
use crate::error::{CmdError, CmdResult};
use crate::{CommandSpec, Exec::Shard as SH, MultiKey::No};
use crate::strings::{clamp_range, owned};
use bytes::Bytes;
use hashbrown::HashMap;
use resp::Reply;
use std::collections::VecDeque;
use store::{Shard, Value};

fn list_mut<'a>(shard: &'a mut Shard, key: &[u8], create: bool) -> Result<Option<&'a mut VecDeque<Bytes>>, CmdError> {
    if !shard.contains(key) {
        if !create {
            return Ok(None);
        }
        shard.insert(key, Value::List(VecDeque::new()), None);
    }
    match shard.value_mut(key) {
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(CmdError::WrongType),
        None => Ok(None),
    }
}

fn push(shard: &mut Shard, argv: &[Bytes], front: bool) -> CmdResult {
    let list = list_mut(shard, &argv[1], true)?.ok_or(CmdError::NoSuchKey)?;
    for v in &argv[2..] {
        if front {
            list.push_front(owned(v));
        } else {
            list.push_back(owned(v));
        }
    }
    Ok(Reply::Int(list.len() as i64))
}

/// ```text
/// LPUSH key element [element ...]
/// ```
pub fn lpush(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    push(shard, argv, true)
}

/// ```text
/// RPUSH key element [element ...]
/// ```
pub fn rpush(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    push(shard, argv, false)
}

/// ```text
/// LLEN key
/// ```
pub fn llen(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(list_mut(shard, &argv[1], false)?.map(|l| l.len()).unwrap_or(0) as i64))
}

/// ```text
/// LRANGE key start stop
/// ```
pub fn lrange(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let start = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    let stop = parse_i64(&argv[3]).ok_or(CmdError::NotInteger)?;
    let Some(list) = list_mut(shard, &argv[1], false)? else {
        return Ok(Reply::Array(vec![]));
    };
    let items = match clamp_range(start, stop, list.len()) {
        Some((a, b)) => list.range(a..=b).cloned().map(Reply::Bulk).collect(),
        None => vec![],
    };
    Ok(Reply::Array(items))
}

fn hash_mut<'a>(shard: &'a mut Shard, key: &[u8], create: bool) -> Result<Option<&'a mut HashMap<Bytes, Bytes>>, CmdError> {
    if !shard.contains(key) {
        if !create {
            return Ok(None);
        }
        shard.insert(key, Value::Hash(HashMap::new()), None);
    }
    match shard.value_mut(key) {
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
        None => Ok(None),
    }
}

/// ```text
/// HSET key field value [field value ...]
/// ```
pub fn hset(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    if argv.len() % 2 != 0 {
        return Err(CmdError::WrongArity("hset".into()));
    }
    let h = hash_mut(shard, &argv[1], true)?.ok_or(CmdError::NoSuchKey)?;
    let added = argv[2..]
        .chunks_exact(2)
        .filter(|p| h.insert(owned(&p[0]), owned(&p[1])).is_none())
        .count();
    Ok(Reply::Int(added as i64))
}

/// ```text
/// HGET key field
/// ```
pub fn hget(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let v = hash_mut(shard, &argv[1], false)?.and_then(|h| h.get(&argv[2]).cloned());
    Ok(v.map(Reply::Bulk).unwrap_or(Reply::Nil))
}

/// ```text
/// HLEN key
/// ```
pub fn hlen(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(hash_mut(shard, &argv[1], false)?.map(|h| h.len()).unwrap_or(0) as i64))
}

/// ```text
/// HGETALL key
/// ```
pub fn hgetall(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let pairs = hash_mut(shard, &argv[1], false)?
        .map(|h| h.iter().map(|(k, v)| (Reply::Bulk(k.clone()), Reply::Bulk(v.clone()))).collect())
        .unwrap_or_default();
    Ok(Reply::Map(pairs))
}

/// ```text
/// HDEL key field [field ...]
/// ```
pub fn hdel(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let Some(h) = hash_mut(shard, &argv[1], false)? else {
        return Ok(Reply::Int(0));
    };
    let removed = argv[2..].iter().filter(|f| h.remove(*f).is_some()).count();
    if h.is_empty() {
        shard.remove(&argv[1]);
    }
    Ok(Reply::Int(removed as i64))
}

/// The list and hash commands of this module.
#[rustfmt::skip]
pub(crate) static COMMANDS: &[CommandSpec] = &[
    cmd!("lpush", -3, ["write", "denyoom", "fast"], ["write", "list", "fast"], 1, 1, 1, SH(lpush), No, "list", "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
    cmd!("rpush", -3, ["write", "denyoom", "fast"], ["write", "list", "fast"], 1, 1, 1, SH(rpush), No, "list", "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist."),
    cmd!("llen", 2, ["readonly", "fast"], ["read", "list", "fast"], 1, 1, 1, SH(llen), No, "list", "1.0.0", "Returns the length of a list."),
    cmd!("lrange", 4, ["readonly"], ["read", "list", "slow"], 1, 1, 1, SH(lrange), No, "list", "1.0.0", "Returns a range of elements from a list."),
    cmd!("hset", -4, ["write", "denyoom", "fast"], ["write", "hash", "fast"], 1, 1, 1, SH(hset), No, "hash", "2.0.0", "Creates or modifies the value of a field in a hash."),
    cmd!("hget", 3, ["readonly", "fast"], ["read", "hash", "fast"], 1, 1, 1, SH(hget), No, "hash", "2.0.0", "Returns the value of a field in a hash."),
    cmd!("hlen", 2, ["readonly", "fast"], ["read", "hash", "fast"], 1, 1, 1, SH(hlen), No, "hash", "2.0.0", "Returns the number of fields in a hash."),
    cmd!("hgetall", 2, ["readonly"], ["read", "hash", "slow"], 1, 1, 1, SH(hgetall), No, "hash", "2.0.0", "Returns all fields and values in a hash."),
    cmd!("hdel", -3, ["write", "fast"], ["write", "hash", "fast"], 1, 1, 1, SH(hdel), No, "hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."),
];
