//! Blocking list and sorted-set commands: one attempt each, as the server
//! runs them on the owning shard (`Exec::Blocking`). `Ok(None)` means there
//! is nothing to serve yet and the client waits (see the server's
//! `blocking` module); the timeout argument was validated by the server.

use crate::error::CmdError;
use crate::list::{move_one, pop_one};
use crate::{CommandSpec, Exec::Blocking as BL, MultiKey::No};
use bytes::Bytes;
use resp::Reply;
use store::Shard;

type Attempt = Result<Option<Reply>, CmdError>;

fn pop_first(shard: &mut Shard, argv: &[Bytes], left: bool) -> Attempt {
    for key in &argv[1..argv.len() - 1] {
        if let Some(v) = pop_one(shard, key, left)? {
            return Ok(Some(Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Bulk(v)])));
        }
    }
    Ok(None)
}

/// ```text
/// BLPOP key [key ...] timeout
/// ```
pub fn blpop(shard: &mut Shard, argv: &[Bytes]) -> Attempt {
    pop_first(shard, argv, true)
}

/// ```text
/// BRPOP key [key ...] timeout
/// ```
pub fn brpop(shard: &mut Shard, argv: &[Bytes]) -> Attempt {
    pop_first(shard, argv, false)
}

fn side(arg: &[u8]) -> Result<bool, CmdError> {
    match arg.to_ascii_uppercase().as_slice() {
        b"LEFT" => Ok(true),
        b"RIGHT" => Ok(false),
        _ => Err(CmdError::Syntax),
    }
}

/// ```text
/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
/// ```
pub fn blmove(shard: &mut Shard, argv: &[Bytes]) -> Attempt {
    let (from, to) = (side(&argv[3])?, side(&argv[4])?);
    Ok(move_one(shard, &argv[1], &argv[2], from, to)?.map(Reply::Bulk))
}

/// ```text
/// BRPOPLPUSH source destination timeout
/// ```
pub fn brpoplpush(shard: &mut Shard, argv: &[Bytes]) -> Attempt {
    Ok(move_one(shard, &argv[1], &argv[2], false, true)?.map(Reply::Bulk))
}

fn zpop_first(shard: &mut Shard, argv: &[Bytes], max: bool) -> Attempt {
    for key in &argv[1..argv.len() - 1] {
        if let Some(mut popped) = crate::zset::pop_extreme(shard, key, max, 1)? {
            if let Some((member, score)) = popped.pop() {
                return Ok(Some(Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Bulk(member), Reply::Double(score)])));
            }
        }
    }
    Ok(None)
}

/// ```text
/// BZPOPMIN key [key ...] timeout
/// ```
pub fn bzpopmin(shard: &mut Shard, argv: &[Bytes]) -> Attempt {
    zpop_first(shard, argv, false)
}

/// ```text
/// BZPOPMAX key [key ...] timeout
/// ```
pub fn bzpopmax(shard: &mut Shard, argv: &[Bytes]) -> Attempt {
    zpop_first(shard, argv, true)
}

/// The blocking commands.
#[rustfmt::skip]
pub(crate) static COMMANDS: &[CommandSpec] = &[
    cmd!("blpop", -3, ["write", "noscript", "blocking"], ["write", "list", "slow", "blocking"], 1, -2, 1, BL(blpop), No, "list", "2.0.0", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    cmd!("brpop", -3, ["write", "noscript", "blocking"], ["write", "list", "slow", "blocking"], 1, -2, 1, BL(brpop), No, "list", "2.0.0", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    cmd!("blmove", 6, ["write", "denyoom", "noscript", "blocking"], ["write", "list", "slow", "blocking"], 1, 2, 1, BL(blmove), No, "list", "6.2.0", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved."),
    cmd!("brpoplpush", 4, ["write", "denyoom", "noscript", "blocking"], ["write", "list", "slow", "blocking"], 1, 2, 1, BL(brpoplpush), No, "list", "2.2.0", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped."),
    cmd!("bzpopmin", -3, ["write", "noscript", "blocking", "fast"], ["write", "sortedset", "fast", "blocking"], 1, -2, 1, BL(bzpopmin), No, "sorted-set", "5.0.0", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
    cmd!("bzpopmax", -3, ["write", "noscript", "blocking", "fast"], ["write", "sortedset", "fast", "blocking"], 1, -2, 1, BL(bzpopmax), No, "sorted-set", "5.0.0", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
];
