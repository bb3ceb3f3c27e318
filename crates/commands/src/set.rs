//! Set commands, as they run on the shard that owns the keys.
//!
//! The multi-key ones (SMOVE, SINTER, SUNION, SDIFF, their STORE forms and
//! SINTERCARD) are registered as [`MultiKey::Scratch`]: when their keys live
//! on several cores the server copies them into one scratch shard and runs
//! the same op there, so every op here sees all of its keys in `shard`.
//!
//! Replies follow Redis 7.0's RESP3 types: SMEMBERS, SINTER, SUNION, SDIFF
//! and SPOP with a count answer a set (`~`), SRANDMEMBER with a count and
//! SMISMEMBER an array.

use crate::args::parse_i64;
use crate::error::{CmdError, CmdResult};
use crate::hash::{parse_random_count, parse_scan_cursor, repeats, scan_reply, ScanOpts};
use crate::strings::owned;
use crate::{CommandSpec, Exec::Shard as SH, MultiKey, MultiKey::No};
use bytes::Bytes;
use resp::Reply;
use store::types::Set;
use store::{Shard, Value, ValueRef};

const SCRATCH: MultiKey = MultiKey::Scratch;

/// The set at `key` for reading: Ok(None) when missing.
fn read<'a>(shard: &'a mut Shard, key: &[u8]) -> Result<Option<&'a Set>, CmdError> {
    match shard.get(key).map(|e| e.value) {
        None => Ok(None),
        Some(ValueRef::Set(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The sets at `keys` (None for a missing key), or WRONGTYPE if any key
/// holds another type. `for_write`: looked up by a STORE form, which (as in
/// Redis) does not count keyspace hits and misses.
fn read_many<'a>(shard: &'a mut Shard, keys: &[Bytes], for_write: bool) -> Result<Vec<Option<&'a Set>>, CmdError> {
    // First pass: reclaim expired keys, count hits, check types.
    for k in keys {
        let entry = if for_write { shard.peek(k) } else { shard.get(k) };
        if matches!(entry.map(|e| e.value), Some(v) if !matches!(v, ValueRef::Set(_))) {
            return Err(CmdError::WrongType);
        }
    }
    let shard: &'a Shard = shard;
    Ok(keys
        .iter()
        .map(|k| match shard.entry_raw(k).map(|e| e.value) {
            Some(ValueRef::Set(s)) => Some(s),
            _ => None,
        })
        .collect())
}

fn bulks<'a>(items: impl IntoIterator<Item = &'a Bytes>) -> Vec<Reply> {
    items.into_iter().map(|m| Reply::Bulk(m.clone())).collect()
}

/// ```text
/// SADD key member [member ...]
/// ```
pub fn sadd(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let mut v = shard.value_mut_or_insert(&argv[1], Value::new_set);
    let Value::Set(s) = &mut *v else { return Err(CmdError::WrongType) };
    Ok(Reply::Int(argv[2..].iter().filter(|m| s.insert(owned(m))).count() as i64))
}

/// ```text
/// SREM key member [member ...]
/// ```
pub fn srem(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::Int(0)) };
    let Value::Set(s) = &mut *v else { return Err(CmdError::WrongType) };
    Ok(Reply::Int(argv[2..].iter().filter(|m| s.remove(m)).count() as i64))
}

/// ```text
/// SMEMBERS key
/// ```
pub fn smembers(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Set(read(shard, &argv[1])?.map(|s| bulks(s.iter())).unwrap_or_default()))
}

/// ```text
/// SISMEMBER key member
/// ```
pub fn sismember(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(read(shard, &argv[1])?.is_some_and(|s| s.contains(&argv[2])) as i64))
}

/// ```text
/// SMISMEMBER key member [member ...]
/// ```
pub fn smismember(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let s = read(shard, &argv[1])?;
    Ok(Reply::Array(argv[2..].iter().map(|m| Reply::Int(s.is_some_and(|s| s.contains(m)) as i64)).collect()))
}

/// ```text
/// SCARD key
/// ```
pub fn scard(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(read(shard, &argv[1])?.map(|s| s.len()).unwrap_or(0) as i64))
}

/// ```text
/// SPOP key [count]
/// ```
pub fn spop(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    match argv.len() {
        2 => {
            let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::Nil) };
            let Value::Set(s) = &mut *v else { return Err(CmdError::WrongType) };
            Ok(s.pop_random().map(Reply::Bulk).unwrap_or(Reply::Nil))
        }
        3 => {
            let count = parse_i64(&argv[2]).filter(|n| *n >= 0).ok_or_else(|| CmdError::Other("value is out of range, must be positive".into()))?;
            let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::Set(vec![])) };
            let Value::Set(s) = &mut *v else { return Err(CmdError::WrongType) };
            if count as u64 >= s.len() as u64 {
                // The whole set; the guard deletes the emptied key.
                let all = std::mem::take(&mut **s);
                return Ok(Reply::Set(bulks(all.iter())));
            }
            Ok(Reply::Set((0..count).filter_map(|_| s.pop_random()).map(Reply::Bulk).collect()))
        }
        _ => Err(CmdError::Syntax),
    }
}

/// ```text
/// SRANDMEMBER key [count]
/// ```
///
/// A positive count answers distinct members (at most the whole set), a
/// negative one `|count|` members that may repeat.
pub fn srandmember(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    match argv.len() {
        2 => Ok(read(shard, &argv[1])?.and_then(|s| s.random()).cloned().map(Reply::Bulk).unwrap_or(Reply::Nil)),
        3 => {
            let count = parse_random_count(&argv[2])?;
            let Some(s) = read(shard, &argv[1])? else { return Ok(Reply::Array(vec![])) };
            let picks = if count >= 0 { s.random_distinct(count as usize) } else { s.random_with_repeats(repeats(count)?) };
            Ok(Reply::Array(bulks(picks)))
        }
        _ => Err(CmdError::Syntax),
    }
}

/// ```text
/// SMOVE source destination member
/// ```
pub fn smove(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let (src, dst, member) = (&argv[1], &argv[2], &argv[3]);
    let src_has = match shard.peek(src).map(|e| e.value) {
        None => return Ok(Reply::Int(0)),
        Some(ValueRef::Set(s)) => s.contains(member),
        Some(_) => return Err(CmdError::WrongType),
    };
    if src == dst {
        return Ok(Reply::Int(src_has as i64));
    }
    if matches!(shard.peek(dst).map(|e| e.value), Some(v) if !matches!(v, ValueRef::Set(_))) {
        return Err(CmdError::WrongType);
    }
    {
        let Some(mut v) = shard.value_mut(src) else { return Ok(Reply::Int(0)) };
        let Value::Set(s) = &mut *v else { return Err(CmdError::WrongType) };
        if !s.remove(member) {
            return Ok(Reply::Int(0));
        }
    }
    let mut v = shard.value_mut_or_insert(dst, Value::new_set);
    let Value::Set(d) = &mut *v else { return Err(CmdError::WrongType) };
    d.insert(owned(member));
    Ok(Reply::Int(1))
}

/// Members of every set, in the order of the smallest set's iteration.
/// A missing key is an empty set. Stops after `limit` members (0: no limit).
fn intersection<'a>(sets: &[Option<&'a Set>], limit: usize) -> Vec<&'a Bytes> {
    let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else { return vec![] };
    sets.sort_by_key(|s| s.len());
    let Some((first, rest)) = sets.split_first() else { return vec![] };
    let found = first.iter().filter(|m| rest.iter().all(|s| s.contains(m)));
    if limit == 0 {
        found.collect()
    } else {
        found.take(limit).collect()
    }
}

fn union(sets: &[Option<&Set>]) -> Set {
    let mut out = Set::new();
    for m in sets.iter().flatten().flat_map(|s| s.iter()) {
        out.insert(m.clone());
    }
    out
}

fn difference(sets: &[Option<&Set>]) -> Set {
    let mut out = Set::new();
    let Some(Some(first)) = sets.first() else { return out };
    for m in first.iter().filter(|m| !sets[1..].iter().flatten().any(|s| s.contains(m))) {
        out.insert(m.clone());
    }
    out
}

/// Stores `result` at `dest` (replacing any value and TTL), or deletes
/// `dest` when it is empty. Replies with its size.
fn store(shard: &mut Shard, dest: &[u8], result: Set) -> CmdResult {
    let n = result.len();
    if n == 0 {
        shard.remove(dest);
    } else {
        shard.insert(dest, Value::Set(Box::new(result)), None);
    }
    Ok(Reply::Int(n as i64))
}

/// ```text
/// SINTER key [key ...]
/// ```
pub fn sinter(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let sets = read_many(shard, &argv[1..], false)?;
    Ok(Reply::Set(bulks(intersection(&sets, 0))))
}

/// ```text
/// SINTERSTORE destination key [key ...]
/// ```
pub fn sinterstore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let sets = read_many(shard, &argv[2..], true)?;
    let mut result = Set::new();
    for m in intersection(&sets, 0) {
        result.insert(m.clone());
    }
    store(shard, &argv[1], result)
}

/// ```text
/// SINTERCARD numkeys key [key ...] [LIMIT limit]
/// ```
pub fn sintercard(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let numkeys = parse_i64(&argv[1]).filter(|n| *n > 0).ok_or_else(|| CmdError::Other("numkeys should be greater than 0".into()))?;
    if numkeys > argv.len() as i64 - 2 {
        return Err(CmdError::Other("Number of keys can't be greater than number of args".into()));
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0usize;
    let mut i = keys_end;
    while i < argv.len() {
        match argv.get(i + 1) {
            Some(val) if argv[i].eq_ignore_ascii_case(b"limit") => {
                let n = parse_i64(val).filter(|n| *n >= 0).ok_or_else(|| CmdError::Other("LIMIT can't be negative".into()))?;
                limit = usize::try_from(n).unwrap_or(usize::MAX);
                i += 2;
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let sets = read_many(shard, &argv[2..keys_end], false)?;
    Ok(Reply::Int(intersection(&sets, limit).len() as i64))
}

/// ```text
/// SUNION key [key ...]
/// ```
pub fn sunion(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let sets = read_many(shard, &argv[1..], false)?;
    Ok(Reply::Set(bulks(union(&sets).iter())))
}

/// ```text
/// SUNIONSTORE destination key [key ...]
/// ```
pub fn sunionstore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let result = union(&read_many(shard, &argv[2..], true)?);
    store(shard, &argv[1], result)
}

/// ```text
/// SDIFF key [key ...]
/// ```
pub fn sdiff(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let sets = read_many(shard, &argv[1..], false)?;
    Ok(Reply::Set(bulks(difference(&sets).iter())))
}

/// ```text
/// SDIFFSTORE destination key [key ...]
/// ```
pub fn sdiffstore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let result = difference(&read_many(shard, &argv[2..], true)?);
    store(shard, &argv[1], result)
}

/// ```text
/// SSCAN key cursor [MATCH pattern] [COUNT count]
/// ```
pub fn sscan(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let cursor = parse_scan_cursor(&argv[2])?;
    let Some(s) = read(shard, &argv[1])? else { return Ok(scan_reply(0, vec![])) };
    let opts = ScanOpts::parse(argv)?;
    let mut items = Vec::new();
    let next = s.scan(cursor, opts.count, |m| {
        if opts.matches(m) {
            items.push(Reply::Bulk(m.clone()));
        }
    });
    Ok(scan_reply(next, items))
}

/// The set commands of this module.
#[rustfmt::skip]
pub(crate) static COMMANDS: &[CommandSpec] = &[
    cmd!("sadd", -3, ["write", "denyoom", "fast"], ["write", "set", "fast"], 1, 1, 1, SH(sadd), No, "set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist."),
    cmd!("srem", -3, ["write", "fast"], ["write", "set", "fast"], 1, 1, 1, SH(srem), No, "set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed."),
    cmd!("smembers", 2, ["readonly"], ["read", "set", "slow"], 1, 1, 1, SH(smembers), No, "set", "1.0.0", "Returns all members of a set."),
    cmd!("sismember", 3, ["readonly", "fast"], ["read", "set", "fast"], 1, 1, 1, SH(sismember), No, "set", "1.0.0", "Determines whether a member belongs to a set."),
    cmd!("smismember", -3, ["readonly", "fast"], ["read", "set", "fast"], 1, 1, 1, SH(smismember), No, "set", "6.2.0", "Determines whether multiple members belong to a set."),
    cmd!("scard", 2, ["readonly", "fast"], ["read", "set", "fast"], 1, 1, 1, SH(scard), No, "set", "1.0.0", "Returns the number of members in a set."),
    cmd!("spop", -2, ["write", "fast"], ["write", "set", "fast"], 1, 1, 1, SH(spop), No, "set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
    cmd!("srandmember", -2, ["readonly"], ["read", "set", "slow"], 1, 1, 1, SH(srandmember), No, "set", "1.0.0", "Get one or multiple random members from a set"),
    cmd!("smove", 4, ["write", "fast"], ["write", "set", "fast"], 1, 2, 1, SH(smove), SCRATCH, "set", "1.0.0", "Moves a member from one set to another."),
    cmd!("sinter", -2, ["readonly"], ["read", "set", "slow"], 1, -1, 1, SH(sinter), SCRATCH, "set", "1.0.0", "Returns the intersect of multiple sets."),
    cmd!("sinterstore", -3, ["write", "denyoom"], ["write", "set", "slow"], 1, -1, 1, SH(sinterstore), SCRATCH, "set", "1.0.0", "Stores the intersect of multiple sets in a key."),
    // Redis declares no fixed key positions (movablekeys); "2 to the end"
    // also covers a trailing LIMIT n, whose words are then only fetched.
    cmd!("sintercard", -3, ["readonly", "movablekeys"], ["read", "set", "slow"], 2, -1, 1, SH(sintercard), SCRATCH, "set", "7.0.0", "Returns the number of members of the intersect of multiple sets."),
    cmd!("sunion", -2, ["readonly"], ["read", "set", "slow"], 1, -1, 1, SH(sunion), SCRATCH, "set", "1.0.0", "Returns the union of multiple sets."),
    cmd!("sunionstore", -3, ["write", "denyoom"], ["write", "set", "slow"], 1, -1, 1, SH(sunionstore), SCRATCH, "set", "1.0.0", "Stores the union of multiple sets in a key."),
    cmd!("sdiff", -2, ["readonly"], ["read", "set", "slow"], 1, -1, 1, SH(sdiff), SCRATCH, "set", "1.0.0", "Returns the difference of multiple sets."),
    cmd!("sdiffstore", -3, ["write", "denyoom"], ["write", "set", "slow"], 1, -1, 1, SH(sdiffstore), SCRATCH, "set", "1.0.0", "Stores the difference of multiple sets in a key."),
    cmd!("sscan", -3, ["readonly"], ["read", "set", "slow"], 1, 1, 1, SH(sscan), No, "set", "2.8.0", "Iterates over members of a set."),
];
