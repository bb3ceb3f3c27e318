//! List commands, as they run on the shard that owns the key.

use crate::args::parse_i64;
use crate::error::{CmdError, CmdResult};
use crate::strings::{clamp_range, owned};
use crate::{CommandSpec, Exec::Shard as SH, MultiKey::No};
use bytes::Bytes;
use resp::Reply;
use store::{Shard, Value};

fn push(shard: &mut Shard, argv: &[Bytes], front: bool) -> CmdResult {
    let mut v = shard.value_mut_or_insert(&argv[1], Value::new_list);
    let Value::List(list) = &mut *v else { return Err(CmdError::WrongType) };
    for e in &argv[2..] {
        if front {
            list.push_front(owned(e));
        } else {
            list.push_back(owned(e));
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
    match shard.get(&argv[1]).map(|e| &e.value) {
        None => Ok(Reply::Int(0)),
        Some(Value::List(l)) => Ok(Reply::Int(l.len() as i64)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// ```text
/// LRANGE key start stop
/// ```
pub fn lrange(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let start = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    let stop = parse_i64(&argv[3]).ok_or(CmdError::NotInteger)?;
    let list = match shard.get(&argv[1]).map(|e| &e.value) {
        None => return Ok(Reply::Array(vec![])),
        Some(Value::List(l)) => l,
        Some(_) => return Err(CmdError::WrongType),
    };
    let items = match clamp_range(start, stop, list.len()) {
        Some((a, b)) => list.range(a, b).cloned().map(Reply::Bulk).collect(),
        None => vec![],
    };
    Ok(Reply::Array(items))
}

/// The list commands of this module.
#[rustfmt::skip]
pub(crate) static COMMANDS: &[CommandSpec] = &[
    cmd!("lpush", -3, ["write", "denyoom", "fast"], ["write", "list", "fast"], 1, 1, 1, SH(lpush), No, "list", "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
    cmd!("rpush", -3, ["write", "denyoom", "fast"], ["write", "list", "fast"], 1, 1, 1, SH(rpush), No, "list", "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist."),
    cmd!("llen", 2, ["readonly", "fast"], ["read", "list", "fast"], 1, 1, 1, SH(llen), No, "list", "1.0.0", "Returns the length of a list."),
    cmd!("lrange", 4, ["readonly"], ["read", "list", "slow"], 1, 1, 1, SH(lrange), No, "list", "1.0.0", "Returns a range of elements from a list."),
];
