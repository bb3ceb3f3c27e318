//! List commands, as they run on the shard that owns the key.
//!
//! Read commands look keys up with `Shard::get` (counting keyspace hits and
//! misses); write commands use `peek` / `value_mut` like Redis's
//! `lookupKeyWrite`, which counts neither. The `ValueMut` guard deletes a
//! list that a command leaves empty.
//!
//! The blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) live in
//! the server, which calls [`pop_one`], [`move_one`], [`parse_mpop`] and
//! [`mpop`] on the owning shard once a key can serve them.

use crate::args::parse_i64;
use crate::error::{CmdError, CmdResult};
use crate::{CommandSpec, Exec::Shard as SH, MultiKey::No, MultiKey::Scratch};
use bytes::Bytes;
use resp::Reply;
use store::types::list::{End, List};
use store::{Shard, Value, ValueRef};

fn end_of(left: bool) -> End {
    if left {
        End::Front
    } else {
        End::Back
    }
}

/// The list at `key` for reading (counts a hit or miss): Ok(None) when missing.
fn read<'a>(shard: &'a mut Shard, key: &[u8]) -> Result<Option<&'a List>, CmdError> {
    match shard.get(key).map(|e| e.value) {
        None => Ok(None),
        Some(ValueRef::List(l)) => Ok(Some(l)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Checks, without stats, that `key` is missing or a list; true when it exists.
fn check_list(shard: &mut Shard, key: &[u8]) -> Result<bool, CmdError> {
    match shard.peek(key).map(|e| e.value) {
        None => Ok(false),
        Some(ValueRef::List(_)) => Ok(true),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// `LEFT` / `RIGHT` (any case): true for left.
fn parse_side(b: &[u8]) -> Result<bool, CmdError> {
    if b.eq_ignore_ascii_case(b"left") {
        Ok(true)
    } else if b.eq_ignore_ascii_case(b"right") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// A list index (negative counts from the end) as a position, if in range.
fn norm_index(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if i < 0 { len + i } else { i };
    if (0..len).contains(&i) {
        Some(i as usize)
    } else {
        None
    }
}

/// The positions `start..=end` that LRANGE and LTRIM select, or `None` for
/// an empty selection. Unlike GETRANGE, an `end` below `-len` is not raised
/// to 0: it selects nothing.
fn list_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = i64::try_from(len).ok()?;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        None
    } else {
        Some((start as usize, end.min(len - 1) as usize))
    }
}

/// Pops one element from the `left` or right end of the list at `key`.
/// `Ok(None)` when the key does not exist; WRONGTYPE for other types. A list
/// left empty is deleted. (Body of LPOP/RPOP; BLPOP/BRPOP call it.)
pub fn pop_one(shard: &mut Shard, key: &[u8], left: bool) -> Result<Option<Bytes>, CmdError> {
    let Some(mut v) = shard.value_mut(key) else { return Ok(None) };
    let Value::List(l) = &mut *v else { return Err(CmdError::WrongType) };
    Ok(l.pop(end_of(left)))
}

/// Pops up to `count` elements from one end of the list at `key`, in pop
/// order. `Ok(None)` when the key does not exist.
pub fn pop_many(shard: &mut Shard, key: &[u8], left: bool, count: usize) -> Result<Option<Vec<Bytes>>, CmdError> {
    let Some(mut v) = shard.value_mut(key) else { return Ok(None) };
    let Value::List(l) = &mut *v else { return Err(CmdError::WrongType) };
    Ok(Some(l.pop_many(end_of(left), count)))
}

/// The LMOVE body: pops from one end of `src` and pushes onto one end of
/// `dst`, returning the element. `Ok(None)` when `src` does not exist (then
/// `dst` is not looked at). WRONGTYPE when either key holds another type;
/// `dst`'s type is checked before anything is popped. With `src == dst` the
/// list rotates in place (keeping its TTL even with one element).
pub fn move_one(shard: &mut Shard, src: &[u8], dst: &[u8], from_left: bool, to_left: bool) -> Result<Option<Bytes>, CmdError> {
    if !check_list(shard, src)? {
        return Ok(None);
    }
    if src == dst {
        let Some(mut v) = shard.value_mut(src) else { return Ok(None) };
        let Value::List(l) = &mut *v else { return Err(CmdError::WrongType) };
        let Some(e) = l.pop(end_of(from_left)) else { return Ok(None) };
        l.push(end_of(to_left), e.clone());
        return Ok(Some(e));
    }
    check_list(shard, dst)?;
    let Some(e) = pop_one(shard, src, from_left)? else { return Ok(None) };
    let mut v = shard.value_mut_or_insert(dst, Value::new_list);
    let Value::List(l) = &mut *v else { return Err(CmdError::WrongType) };
    l.push(end_of(to_left), e.clone());
    Ok(Some(e))
}

fn push(shard: &mut Shard, argv: &[Bytes], left: bool) -> CmdResult {
    let mut v = shard.value_mut_or_insert(&argv[1], Value::new_list);
    let Value::List(list) = &mut *v else { return Err(CmdError::WrongType) };
    for e in &argv[2..] {
        list.push(end_of(left), &e[..]);
    }
    Ok(Reply::Int(list.len() as i64))
}

fn pushx(shard: &mut Shard, argv: &[Bytes], left: bool) -> CmdResult {
    let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::Int(0)) };
    let Value::List(list) = &mut *v else { return Err(CmdError::WrongType) };
    for e in &argv[2..] {
        list.push(end_of(left), &e[..]);
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
/// LPUSHX key element [element ...]
/// ```
pub fn lpushx(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    pushx(shard, argv, true)
}

/// ```text
/// RPUSHX key element [element ...]
/// ```
pub fn rpushx(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    pushx(shard, argv, false)
}

fn pop_cmd(shard: &mut Shard, argv: &[Bytes], left: bool, name: &str) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::WrongArity(name.into()));
    }
    let count = match argv.get(2) {
        None => None,
        Some(c) => match parse_i64(c) {
            Some(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => return Err(CmdError::Other("value is out of range, must be positive".into())),
        },
    };
    match count {
        None => Ok(pop_one(shard, &argv[1], left)?.map(Reply::Bulk).unwrap_or(Reply::Nil)),
        Some(n) => Ok(match pop_many(shard, &argv[1], left, n)? {
            None => Reply::NilArray,
            Some(items) => Reply::Array(items.into_iter().map(Reply::Bulk).collect()),
        }),
    }
}

/// ```text
/// LPOP key [count]
/// ```
pub fn lpop(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    pop_cmd(shard, argv, true, "lpop")
}

/// ```text
/// RPOP key [count]
/// ```
pub fn rpop(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    pop_cmd(shard, argv, false, "rpop")
}

/// ```text
/// LLEN key
/// ```
pub fn llen(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(read(shard, &argv[1])?.map_or(0, |l| l.len()) as i64))
}

/// ```text
/// LRANGE key start stop
/// ```
pub fn lrange(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let start = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    let stop = parse_i64(&argv[3]).ok_or(CmdError::NotInteger)?;
    let Some(list) = read(shard, &argv[1])? else { return Ok(Reply::Array(vec![])) };
    Ok(match list_range(start, stop, list.len()) {
        Some((a, b)) => Reply::bulk_array_of(list.range(a, b).map(|e| &e[..])),
        None => Reply::bulk_array(&[]),
    })
}

/// ```text
/// LINDEX key index
/// ```
pub fn lindex(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    // Redis looks the key up before parsing the index.
    let Some(list) = read(shard, &argv[1])? else { return Ok(Reply::Nil) };
    let i = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    Ok(norm_index(i, list.len()).and_then(|i| list.get(i)).map(|e| Reply::Bulk(e.to_bytes())).unwrap_or(Reply::Nil))
}

/// ```text
/// LSET key index element
/// ```
pub fn lset(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let Some(mut v) = shard.value_mut(&argv[1]) else { return Err(CmdError::NoSuchKey) };
    let Value::List(list) = &mut *v else { return Err(CmdError::WrongType) };
    let i = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    let i = norm_index(i, list.len()).ok_or_else(|| CmdError::Other("index out of range".into()))?;
    list.set(i, &argv[3][..]);
    Ok(Reply::ok())
}

/// ```text
/// LINSERT key <BEFORE | AFTER> pivot element
/// ```
pub fn linsert(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let after = if argv[2].eq_ignore_ascii_case(b"after") {
        true
    } else if argv[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::Int(0)) };
    let Value::List(list) = &mut *v else { return Err(CmdError::WrongType) };
    let Some(at) = list.position(&argv[3]) else { return Ok(Reply::Int(-1)) };
    list.insert(at + after as usize, &argv[4][..]);
    Ok(Reply::Int(list.len() as i64))
}

/// ```text
/// LREM key count element
/// ```
pub fn lrem(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let count = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::Int(0)) };
    let Value::List(list) = &mut *v else { return Err(CmdError::WrongType) };
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = match count {
        0 => list.remove_matching(&argv[3], None, End::Front),
        c if c > 0 => list.remove_matching(&argv[3], Some(limit), End::Front),
        _ => list.remove_matching(&argv[3], Some(limit), End::Back),
    };
    Ok(Reply::Int(removed as i64))
}

/// ```text
/// LTRIM key start stop
/// ```
pub fn ltrim(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let start = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    let stop = parse_i64(&argv[3]).ok_or(CmdError::NotInteger)?;
    let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::ok()) };
    let Value::List(list) = &mut *v else { return Err(CmdError::WrongType) };
    let keep = list_range(start, stop, list.len());
    list.retain_range(keep);
    Ok(Reply::ok())
}

const RANK_ZERO: &str = "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

/// ```text
/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
/// ```
pub fn lpos(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let non_negative = |b: &[u8], what: &str| match parse_i64(b) {
        Some(n) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(CmdError::Other(format!("{what} can't be negative"))),
    };
    let mut i = 3;
    while i < argv.len() {
        let Some(val) = argv.get(i + 1) else { return Err(CmdError::Syntax) };
        let opt = &argv[i];
        if opt.eq_ignore_ascii_case(b"rank") {
            rank = parse_i64(val).ok_or(CmdError::NotInteger)?;
            if rank == 0 {
                return Err(CmdError::Other(RANK_ZERO.into()));
            }
        } else if opt.eq_ignore_ascii_case(b"count") {
            count = Some(non_negative(val, "COUNT")?);
        } else if opt.eq_ignore_ascii_case(b"maxlen") {
            maxlen = non_negative(val, "MAXLEN")?;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let Some(list) = read(shard, &argv[1])? else {
        return Ok(if count.is_some() { Reply::Array(vec![]) } else { Reply::Nil });
    };
    // Matches before the rank-th are skipped. Redis negates RANK in a C long,
    // so a rank of i64::MIN stays negative there and every match qualifies:
    // it behaves like -1.
    let skip = if rank == i64::MIN { 0 } else { rank.unsigned_abs() - 1 };
    let from_back = rank < 0;
    let want = match count {
        None => 1,
        Some(0) => usize::MAX,
        Some(n) => n,
    };
    let limit = if maxlen == 0 { list.len() } else { maxlen.min(list.len()) };
    let elem = &argv[2];
    let positions: Box<dyn Iterator<Item = (usize, &store::types::list::Elem)>> =
        if from_back { Box::new(list.iter().enumerate().rev()) } else { Box::new(list.iter().enumerate()) };
    let mut found = Vec::new();
    let mut seen: u64 = 0;
    for (idx, e) in positions.take(limit) {
        if e.as_ref() != elem.as_ref() {
            continue;
        }
        seen += 1;
        if seen > skip {
            found.push(idx);
            if found.len() >= want {
                break;
            }
        }
    }
    Ok(match count {
        Some(_) => Reply::Array(found.into_iter().map(|p| Reply::Int(p as i64)).collect()),
        None => found.first().map(|&p| Reply::Int(p as i64)).unwrap_or(Reply::Nil),
    })
}

/// ```text
/// LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT>
/// ```
pub fn lmove(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let from_left = parse_side(&argv[3])?;
    let to_left = parse_side(&argv[4])?;
    Ok(move_one(shard, &argv[1], &argv[2], from_left, to_left)?.map(Reply::Bulk).unwrap_or(Reply::Nil))
}

/// ```text
/// RPOPLPUSH source destination
/// ```
pub fn rpoplpush(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(move_one(shard, &argv[1], &argv[2], false, true)?.map(Reply::Bulk).unwrap_or(Reply::Nil))
}

/// Parsed arguments of LMPOP / BLMPOP.
#[derive(Debug, Clone, PartialEq)]
pub struct MpopArgs {
    /// Positions of the keys in `argv`.
    pub keys: std::ops::Range<usize>,
    pub left: bool,
    pub count: usize,
}

/// Parses `numkeys key [key ...] <LEFT | RIGHT> [COUNT count]` starting at
/// `argv[numkeys_at]` (1 for LMPOP, 2 for BLMPOP), with Redis 7.0's errors.
pub fn parse_mpop(argv: &[Bytes], numkeys_at: usize) -> Result<MpopArgs, CmdError> {
    let numkeys = match argv.get(numkeys_at).and_then(|b| parse_i64(b)) {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => return Err(CmdError::Other("numkeys should be greater than 0".into())),
    };
    let first = numkeys_at + 1;
    if numkeys > argv.len().saturating_sub(first) {
        return Err(CmdError::Syntax);
    }
    let side_at = first + numkeys;
    let left = parse_side(argv.get(side_at).ok_or(CmdError::Syntax)?)?;
    let mut count = None;
    let mut i = side_at + 1;
    while i < argv.len() {
        let Some(val) = argv.get(i + 1) else { return Err(CmdError::Syntax) };
        if count.is_some() || !argv[i].eq_ignore_ascii_case(b"count") {
            return Err(CmdError::Syntax);
        }
        count = match parse_i64(val) {
            Some(n) if n > 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => return Err(CmdError::Other("count should be greater than 0".into())),
        };
        i += 2;
    }
    Ok(MpopArgs { keys: first..side_at, left, count: count.unwrap_or(1) })
}

/// The LMPOP body: pops up to `count` elements from the first of `keys`
/// that holds a list. WRONGTYPE when a key met before that one holds another
/// type. `Ok(None)` when none of them exists.
pub fn mpop(shard: &mut Shard, keys: &[Bytes], left: bool, count: usize) -> Result<Option<(Bytes, Vec<Bytes>)>, CmdError> {
    for k in keys {
        if let Some(items) = pop_many(shard, k, left, count)? {
            return Ok(Some((k.clone(), items)));
        }
    }
    Ok(None)
}

/// The reply of LMPOP / BLMPOP for what [`mpop`] returned.
pub fn mpop_reply(popped: Option<(Bytes, Vec<Bytes>)>) -> Reply {
    match popped {
        None => Reply::NilArray,
        Some((key, items)) => Reply::Array(vec![Reply::Bulk(key), Reply::Array(items.into_iter().map(Reply::Bulk).collect())]),
    }
}

/// ```text
/// LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]
/// ```
pub fn lmpop(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let a = parse_mpop(argv, 1)?;
    Ok(mpop_reply(mpop(shard, &argv[a.keys], a.left, a.count)?))
}

/// The list commands of this module.
///
/// LMPOP's keys are not at fixed positions; the table lists every argument
/// after `numkeys` as a key (a superset: LEFT/RIGHT/COUNT and the count are
/// only fetched, never written, when the keys span cores), so COMMAND INFO
/// shows 2 -1 1 where Redis shows 0 0 0 with `movablekeys`.
#[rustfmt::skip]
pub(crate) static COMMANDS: &[CommandSpec] = &[
    cmd!("lpush", -3, ["write", "denyoom", "fast"], ["write", "list", "fast"], 1, 1, 1, SH(lpush), No, "list", "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
    cmd!("rpush", -3, ["write", "denyoom", "fast"], ["write", "list", "fast"], 1, 1, 1, SH(rpush), No, "list", "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist."),
    cmd!("lpushx", -3, ["write", "denyoom", "fast"], ["write", "list", "fast"], 1, 1, 1, SH(lpushx), No, "list", "2.2.0", "Prepends one or more elements to a list only when the list exists."),
    cmd!("rpushx", -3, ["write", "denyoom", "fast"], ["write", "list", "fast"], 1, 1, 1, SH(rpushx), No, "list", "2.2.0", "Appends an element to a list only when the list exists."),
    cmd!("lpop", -2, ["write", "fast"], ["write", "list", "fast"], 1, 1, 1, SH(lpop), No, "list", "1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
    cmd!("rpop", -2, ["write", "fast"], ["write", "list", "fast"], 1, 1, 1, SH(rpop), No, "list", "1.0.0", "Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
    cmd!("llen", 2, ["readonly", "fast"], ["read", "list", "fast"], 1, 1, 1, SH(llen), No, "list", "1.0.0", "Returns the length of a list."),
    cmd!("lrange", 4, ["readonly"], ["read", "list", "slow"], 1, 1, 1, SH(lrange), No, "list", "1.0.0", "Returns a range of elements from a list."),
    cmd!("lindex", 3, ["readonly"], ["read", "list", "slow"], 1, 1, 1, SH(lindex), No, "list", "1.0.0", "Returns an element from a list by its index."),
    cmd!("lset", 4, ["write", "denyoom"], ["write", "list", "slow"], 1, 1, 1, SH(lset), No, "list", "1.0.0", "Sets the value of an element in a list by its index."),
    cmd!("linsert", 5, ["write", "denyoom"], ["write", "list", "slow"], 1, 1, 1, SH(linsert), No, "list", "2.2.0", "Inserts an element before or after another element in a list."),
    cmd!("lrem", 4, ["write"], ["write", "list", "slow"], 1, 1, 1, SH(lrem), No, "list", "1.0.0", "Removes elements from a list. Deletes the list if the last element was removed."),
    cmd!("ltrim", 4, ["write"], ["write", "list", "slow"], 1, 1, 1, SH(ltrim), No, "list", "1.0.0", "Deletes elements from both ends of a list. Deletes the list if all elements were trimmed."),
    cmd!("lpos", -3, ["readonly"], ["read", "list", "slow"], 1, 1, 1, SH(lpos), No, "list", "6.0.6", "Returns the index of matching elements in a list."),
    cmd!("lmove", 5, ["write", "denyoom"], ["write", "list", "slow"], 1, 2, 1, SH(lmove), Scratch, "list", "6.2.0", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."),
    cmd!("rpoplpush", 3, ["write", "denyoom"], ["write", "list", "slow"], 1, 2, 1, SH(rpoplpush), Scratch, "list", "1.2.0", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."),
    cmd!("lmpop", -4, ["write", "movablekeys"], ["write", "list", "slow"], 2, -1, 1, SH(lmpop), Scratch, "list", "7.0.0", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped."),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(parts: &[&str]) -> Vec<Bytes> {
        parts.iter().map(|p| Bytes::copy_from_slice(p.as_bytes())).collect()
    }

    fn run(shard: &mut Shard, parts: &[&str]) -> Reply {
        let a = argv(parts);
        let spec = crate::lookup(&a[0]).expect("known command");
        assert!(spec.arity_ok(a.len()), "arity {parts:?}");
        crate::run_on_shard(spec, shard, &a)
    }

    fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|s| Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))).collect())
    }

    fn list_bytes_ok(shard: &mut Shard, key: &[u8]) {
        if let Some(ValueRef::List(l)) = shard.peek(key).map(|e| e.value) {
            assert_eq!(l.mem_bytes(), l.recount_bytes() + 64);
        }
    }

    #[test]
    fn pops_and_empty_keys_vanish() {
        let mut s = Shard::new();
        run(&mut s, &["rpush", "l", "a", "b", "c"]);
        assert_eq!(run(&mut s, &["lpop", "l", "0"]), Reply::Array(vec![]));
        assert_eq!(run(&mut s, &["rpop", "l", "2"]), bulks(&["c", "b"]));
        assert_eq!(run(&mut s, &["lpop", "l"]), Reply::Bulk(Bytes::from_static(b"a")));
        assert!(!s.contains(b"l"));
        assert_eq!(run(&mut s, &["lpop", "l"]), Reply::Nil);
        assert_eq!(run(&mut s, &["lpop", "l", "1"]), Reply::NilArray);
        assert_eq!(run(&mut s, &["lpop", "l", "-1"]), Reply::error("ERR value is out of range, must be positive"));
        assert_eq!(s.used_memory(), 0);
    }

    #[test]
    fn move_one_rotates_and_checks_dst_first() {
        let mut s = Shard::new();
        run(&mut s, &["rpush", "a", "1", "2"]);
        run(&mut s, &["set", "str", "x"]);
        assert_eq!(move_one(&mut s, b"a", b"str", true, true), Err(CmdError::WrongType));
        assert_eq!(run(&mut s, &["llen", "a"]), Reply::Int(2));
        assert_eq!(move_one(&mut s, b"a", b"a", true, false), Ok(Some(Bytes::from_static(b"1"))));
        assert_eq!(run(&mut s, &["lrange", "a", "0", "-1"]), bulks(&["2", "1"]));
        assert_eq!(move_one(&mut s, b"nope", b"str", true, true), Ok(None));
        assert_eq!(move_one(&mut s, b"a", b"b", false, true), Ok(Some(Bytes::from_static(b"1"))));
        assert_eq!(move_one(&mut s, b"a", b"b", false, true), Ok(Some(Bytes::from_static(b"2"))));
        assert!(!s.contains(b"a"));
        assert_eq!(run(&mut s, &["lrange", "b", "0", "-1"]), bulks(&["2", "1"]));
        assert_eq!(pop_one(&mut s, b"str", true), Err(CmdError::WrongType));
        list_bytes_ok(&mut s, b"b");
    }

    #[test]
    fn rotation_keeps_ttl() {
        let mut s = Shard::new();
        run(&mut s, &["rpush", "k", "only"]);
        let t = s.now() + 100_000;
        s.set_expiry(b"k", Some(t));
        run(&mut s, &["rpoplpush", "k", "k"]);
        assert_eq!(s.peek(b"k").and_then(|e| e.expires_at), Some(t));
    }

    #[test]
    fn ranges() {
        assert_eq!(list_range(0, -1, 3), Some((0, 2)));
        assert_eq!(list_range(0, -100, 3), None);
        assert_eq!(list_range(-100, -3, 3), Some((0, 0)));
        assert_eq!(list_range(2, 1, 3), None);
        assert_eq!(list_range(3, 10, 3), None);
        assert_eq!(list_range(0, 0, 0), None);
        assert_eq!(list_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(norm_index(-1, 3), Some(2));
        assert_eq!(norm_index(-4, 3), None);
        assert_eq!(norm_index(i64::MIN, 3), None);
        assert_eq!(norm_index(3, 3), None);
    }

    #[test]
    fn mpop_parsing() {
        let a = argv(&["lmpop", "2", "x", "y", "LEFT", "COUNT", "3"]);
        assert_eq!(parse_mpop(&a, 1), Ok(MpopArgs { keys: 2..4, left: true, count: 3 }));
        for bad in [&["lmpop", "0", "x", "left"][..], &["lmpop", "x", "y", "left"]] {
            assert_eq!(parse_mpop(&argv(bad), 1), Err(CmdError::Other("numkeys should be greater than 0".into())));
        }
        for bad in [&["lmpop", "3", "x", "left"][..], &["lmpop", "1", "x", "up"], &["lmpop", "1", "x", "left", "count"], &["lmpop", "1", "x", "left", "count", "1", "count", "1"]] {
            assert_eq!(parse_mpop(&argv(bad), 1), Err(CmdError::Syntax), "{bad:?}");
        }
        assert_eq!(parse_mpop(&argv(&["lmpop", "1", "x", "left", "count", "0"]), 1), Err(CmdError::Other("count should be greater than 0".into())));
        let b = argv(&["blmpop", "0", "1", "x", "right"]);
        assert_eq!(parse_mpop(&b, 2), Ok(MpopArgs { keys: 3..4, left: false, count: 1 }));
    }

    #[test]
    fn byte_count_follows_every_mutation() {
        let mut s = Shard::new();
        run(&mut s, &["rpush", "l", "a", "bb", "a", "cccccccccccccccccccccccccccccccccccc", "a"]);
        run(&mut s, &["lset", "l", "1", "a much longer replacement value than before"]);
        list_bytes_ok(&mut s, b"l");
        run(&mut s, &["linsert", "l", "before", "a", "zz"]);
        list_bytes_ok(&mut s, b"l");
        run(&mut s, &["lrem", "l", "-1", "a"]);
        list_bytes_ok(&mut s, b"l");
        run(&mut s, &["ltrim", "l", "1", "-2"]);
        list_bytes_ok(&mut s, b"l");
        let before = s.used_memory();
        assert!(before > 0);
        run(&mut s, &["ltrim", "l", "5", "1"]);
        assert!(!s.contains(b"l"));
        assert_eq!(s.used_memory(), 0);
    }
}
