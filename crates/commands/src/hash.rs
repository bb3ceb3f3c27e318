//! Hash commands, as they run on the shard that owns the key.

use crate::error::{CmdError, CmdResult};
use crate::strings::owned;
use crate::{CommandSpec, Exec::Shard as SH, MultiKey::No};
use bytes::Bytes;
use resp::Reply;
use store::types::Hash;
use store::{Shard, Value};

/// The hash at `key` for reading: Ok(None) when missing.
fn read<'a>(shard: &'a mut Shard, key: &[u8]) -> Result<Option<&'a Hash>, CmdError> {
    match shard.get(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// ```text
/// HSET key field value [field value ...]
/// ```
pub fn hset(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    if argv.len() % 2 != 0 {
        return Err(CmdError::WrongArity("hset".into()));
    }
    let mut v = shard.value_mut_or_insert(&argv[1], Value::new_hash);
    let Value::Hash(h) = &mut *v else { return Err(CmdError::WrongType) };
    let added = argv[2..].chunks_exact(2).filter(|p| h.insert(owned(&p[0]), owned(&p[1]))).count();
    Ok(Reply::Int(added as i64))
}

/// ```text
/// HGET key field
/// ```
pub fn hget(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(read(shard, &argv[1])?.and_then(|h| h.get(&argv[2]).cloned()).map(Reply::Bulk).unwrap_or(Reply::Nil))
}

/// ```text
/// HLEN key
/// ```
pub fn hlen(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(read(shard, &argv[1])?.map(|h| h.len()).unwrap_or(0) as i64))
}

/// ```text
/// HGETALL key
/// ```
pub fn hgetall(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let pairs = read(shard, &argv[1])?
        .map(|h| h.iter().map(|(k, v)| (Reply::Bulk(k.clone()), Reply::Bulk(v.clone()))).collect())
        .unwrap_or_default();
    Ok(Reply::Map(pairs))
}

/// ```text
/// HDEL key field [field ...]
/// ```
pub fn hdel(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::Int(0)) };
    let Value::Hash(h) = &mut *v else { return Err(CmdError::WrongType) };
    Ok(Reply::Int(argv[2..].iter().filter(|f| h.remove(f).is_some()).count() as i64))
}

/// The hash commands of this module.
#[rustfmt::skip]
pub(crate) static COMMANDS: &[CommandSpec] = &[
    cmd!("hset", -4, ["write", "denyoom", "fast"], ["write", "hash", "fast"], 1, 1, 1, SH(hset), No, "hash", "2.0.0", "Creates or modifies the value of a field in a hash."),
    cmd!("hget", 3, ["readonly", "fast"], ["read", "hash", "fast"], 1, 1, 1, SH(hget), No, "hash", "2.0.0", "Returns the value of a field in a hash."),
    cmd!("hlen", 2, ["readonly", "fast"], ["read", "hash", "fast"], 1, 1, 1, SH(hlen), No, "hash", "2.0.0", "Returns the number of fields in a hash."),
    cmd!("hgetall", 2, ["readonly"], ["read", "hash", "slow"], 1, 1, 1, SH(hgetall), No, "hash", "2.0.0", "Returns all fields and values in a hash."),
    cmd!("hdel", -3, ["write", "fast"], ["write", "hash", "fast"], 1, 1, 1, SH(hdel), No, "hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."),
];
