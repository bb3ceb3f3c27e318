//! Hash commands, as they run on the shard that owns the key.
//!
//! Also home of the pieces HSCAN shares with SSCAN (cursor and option
//! parsing) and of the count rules HRANDFIELD shares with SRANDMEMBER.

use crate::args::{parse_f64, parse_i64};
use crate::error::{CmdError, CmdResult};
use crate::strings::add_floats;
use crate::{CommandSpec, Exec::Shard as SH, MultiKey::No};
use bytes::Bytes;
use resp::Reply;
use store::glob::glob_match;
use store::types::hash::Pair;
use store::value::copy_out;
use store::types::Hash;
use store::{Shard, Value, ValueRef};

/// The most elements a negative-count HRANDFIELD / SRANDMEMBER answers.
/// Redis has no such limit and builds whatever was asked for (a count of
/// -10^15 exhausts its memory); redcore refuses instead of stalling a core.
pub(crate) const MAX_RANDOM_REPEATS: u64 = 1 << 24;

/// The hash at `key` for reading: Ok(None) when missing.
fn read<'a>(shard: &'a mut Shard, key: &[u8]) -> Result<Option<&'a Hash>, CmdError> {
    match shard.get(key).map(|e| e.value) {
        None => Ok(None),
        Some(ValueRef::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Field/value pairs copied out of the store, in order.
fn copy_pairs(pairs: &[Pair<'_>]) -> Vec<(Reply, Reply)> {
    let flat: Vec<&[u8]> = pairs.iter().flat_map(|&(f, v)| [f, v]).collect();
    let mut copies = copy_out(&flat).into_iter().map(Reply::Bulk);
    std::iter::from_fn(|| Some((copies.next()?, copies.next()?))).collect()
}

/// Byte strings copied out of the store, as bulk replies.
fn bulks(parts: &[&[u8]]) -> Vec<Reply> {
    copy_out(parts).into_iter().map(Reply::Bulk).collect()
}

/// ```text
/// HSET key field value [field value ...]
/// ```
pub fn hset(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(set_pairs(shard, argv, "hset")? as i64))
}

/// ```text
/// HMSET key field value [field value ...]
/// ```
pub fn hmset(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    set_pairs(shard, argv, "hmset")?;
    Ok(Reply::ok())
}

/// Sets the field/value pairs of argv[2..]; returns how many fields are new.
fn set_pairs(shard: &mut Shard, argv: &[Bytes], name: &str) -> Result<usize, CmdError> {
    if !argv.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(name.into()));
    }
    let mut v = shard.value_mut_or_insert(&argv[1], Value::new_hash);
    let Value::Hash(h) = &mut *v else { return Err(CmdError::WrongType) };
    Ok(argv[2..].chunks_exact(2).filter(|p| h.insert(&p[0], &p[1])).count())
}

/// ```text
/// HSETNX key field value
/// ```
pub fn hsetnx(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let mut v = shard.value_mut_or_insert(&argv[1], Value::new_hash);
    let Value::Hash(h) = &mut *v else { return Err(CmdError::WrongType) };
    if h.contains(&argv[2]) {
        return Ok(Reply::Int(0));
    }
    h.insert(&argv[2], &argv[3]);
    Ok(Reply::Int(1))
}

/// ```text
/// HGET key field
/// ```
pub fn hget(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(read(shard, &argv[1])?.and_then(|h| h.get(&argv[2])).map(|v| Reply::Bulk(Bytes::copy_from_slice(v))).unwrap_or(Reply::Nil))
}

/// ```text
/// HMGET key field [field ...]
/// ```
pub fn hmget(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let h = read(shard, &argv[1])?;
    let values: Vec<Option<&[u8]>> = argv[2..].iter().map(|f| h.and_then(|h| h.get(f))).collect();
    let found: Vec<&[u8]> = values.iter().flatten().copied().collect();
    let mut copies = copy_out(&found).into_iter();
    let items = values.iter().map(|v| v.and_then(|_| copies.next()).map(Reply::Bulk).unwrap_or(Reply::Nil)).collect();
    Ok(Reply::Array(items))
}

/// ```text
/// HLEN key
/// ```
pub fn hlen(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(read(shard, &argv[1])?.map(|h| h.len()).unwrap_or(0) as i64))
}

/// ```text
/// HSTRLEN key field
/// ```
pub fn hstrlen(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(read(shard, &argv[1])?.and_then(|h| h.get(&argv[2])).map(|v| v.len()).unwrap_or(0) as i64))
}

/// ```text
/// HEXISTS key field
/// ```
pub fn hexists(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(read(shard, &argv[1])?.is_some_and(|h| h.contains(&argv[2])) as i64))
}

/// ```text
/// HKEYS key
/// ```
pub fn hkeys(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let items = read(shard, &argv[1])?.map(|h| bulks(&h.iter().map(|(f, _)| f).collect::<Vec<_>>())).unwrap_or_default();
    Ok(Reply::Array(items))
}

/// ```text
/// HVALS key
/// ```
pub fn hvals(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let items = read(shard, &argv[1])?.map(|h| bulks(&h.iter().map(|(_, v)| v).collect::<Vec<_>>())).unwrap_or_default();
    Ok(Reply::Array(items))
}

/// ```text
/// HGETALL key
/// ```
pub fn hgetall(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let pairs = read(shard, &argv[1])?.map(|h| copy_pairs(&h.iter().collect::<Vec<_>>())).unwrap_or_default();
    Ok(Reply::Map(pairs))
}

/// ```text
/// HDEL key field [field ...]
/// ```
pub fn hdel(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::Int(0)) };
    let Value::Hash(h) = &mut *v else { return Err(CmdError::WrongType) };
    Ok(Reply::Int(argv[2..].iter().filter(|f| h.remove(f)).count() as i64))
}

/// ```text
/// HINCRBY key field increment
/// ```
pub fn hincrby(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let incr = parse_i64(&argv[3]).ok_or(CmdError::NotInteger)?;
    let mut v = shard.value_mut_or_insert(&argv[1], Value::new_hash);
    let Value::Hash(h) = &mut *v else { return Err(CmdError::WrongType) };
    let cur = match h.get(&argv[2]) {
        None => 0,
        Some(t) => parse_i64(t).ok_or_else(|| CmdError::Other("hash value is not an integer".into()))?,
    };
    let new = cur.checked_add(incr).ok_or(CmdError::Overflow)?;
    h.insert(&argv[2], new.to_string().as_bytes());
    Ok(Reply::Int(new))
}

/// How C's `strtold` (which Redis reads HINCRBYFLOAT operands with) sees a
/// number written as text.
#[derive(PartialEq)]
enum LongDouble {
    Finite,
    Infinite,
    /// Not a number, or out of `long double`'s range (ERANGE): refused.
    Invalid,
}

fn long_double_kind(b: &[u8]) -> LongDouble {
    let Some(v) = parse_f64(b) else { return LongDouble::Invalid };
    let lower = b.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(b"-").or_else(|| lower.strip_prefix(b"+")).unwrap_or(&lower);
    if unsigned == b"inf" || unsigned == b"infinity" {
        return LongDouble::Infinite;
    }
    if v.is_infinite() {
        // Past f64's range; still fine for an 80-bit long double up to ~1e4932.
        return if add_floats(b, b"0").is_ok() { LongDouble::Finite } else { LongDouble::Invalid };
    }
    if v == 0.0 && decimal_exponent(unsigned).is_some_and(|e| e < -4950) {
        // Below the smallest long double: strtold underflows to 0 (ERANGE).
        return LongDouble::Invalid;
    }
    LongDouble::Finite
}

/// The power of ten of the first non-zero digit of a decimal number written
/// `digits[.digits][e[sign]digits]`; None when all its digits are zero.
fn decimal_exponent(t: &[u8]) -> Option<i64> {
    let (mant, exp) = match t.iter().position(|&c| c == b'e') {
        Some(i) => (&t[..i], std::str::from_utf8(&t[i + 1..]).ok()?.parse::<i64>().unwrap_or(0)),
        None => (t, 0),
    };
    let dot = mant.iter().position(|&c| c == b'.').unwrap_or(mant.len());
    let first = mant.iter().position(|&c| matches!(c, b'1'..=b'9'))?;
    let magnitude = if first < dot { (dot - first - 1) as i64 } else { -((first - dot) as i64) };
    Some(magnitude.saturating_add(exp))
}

/// ```text
/// HINCRBYFLOAT key field increment
/// ```
///
/// Computed in C `long double` like Redis, so the text matches digit for digit.
pub fn hincrbyfloat(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    match long_double_kind(&argv[3]) {
        LongDouble::Invalid => return Err(CmdError::NotFloat),
        LongDouble::Infinite => return Err(CmdError::Other("value is NaN or Infinity".into())),
        LongDouble::Finite => {}
    }
    let mut v = shard.value_mut_or_insert(&argv[1], Value::new_hash);
    let Value::Hash(h) = &mut *v else { return Err(CmdError::WrongType) };
    let cur = h.get(&argv[2]).unwrap_or(b"0");
    if long_double_kind(cur) == LongDouble::Invalid {
        return Err(CmdError::Other("hash value is not a float".into()));
    }
    let text = Bytes::from(add_floats(cur, &argv[3])?);
    h.insert(&argv[2], &text);
    Ok(Reply::Bulk(text))
}

/// The count of HRANDFIELD / SRANDMEMBER: an integer in ±i64::MAX.
pub(crate) fn parse_random_count(b: &[u8]) -> Result<i64, CmdError> {
    match parse_i64(b) {
        None => Err(CmdError::NotInteger),
        Some(i64::MIN) => Err(CmdError::Other("value is out of range, value must between -9223372036854775807 and 9223372036854775807".into())),
        Some(n) => Ok(n),
    }
}

/// How many picks a negative count asks for, within [`MAX_RANDOM_REPEATS`].
pub(crate) fn repeats(count: i64) -> Result<usize, CmdError> {
    let n = count.unsigned_abs();
    if n > MAX_RANDOM_REPEATS {
        return Err(CmdError::Other("value is out of range".into()));
    }
    Ok(n as usize)
}

/// ```text
/// HRANDFIELD key [count [WITHVALUES]]
/// ```
///
/// A positive count answers distinct fields (at most the whole hash), a
/// negative one `|count|` fields that may repeat. WITHVALUES interleaves the
/// values (RESP2's flat shape).
pub fn hrandfield(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    if argv.len() == 2 {
        let field = read(shard, &argv[1])?.and_then(|h| h.random()).map(|(f, _)| Bytes::copy_from_slice(f));
        return Ok(field.map(Reply::Bulk).unwrap_or(Reply::Nil));
    }
    let count = parse_random_count(&argv[2])?;
    let withvalues = match argv.len() {
        3 => false,
        4 if argv[3].eq_ignore_ascii_case(b"withvalues") => {
            if count.unsigned_abs() > (i64::MAX / 2) as u64 {
                return Err(CmdError::Other("value is out of range".into()));
            }
            true
        }
        _ => return Err(CmdError::Syntax),
    };
    let Some(h) = read(shard, &argv[1])? else { return Ok(Reply::Array(vec![])) };
    let (unique, order) = if count >= 0 {
        let picks = h.random_distinct(count as usize);
        let order = (0..picks.len()).collect();
        (picks, order)
    } else {
        // Each distinct pair is copied once, and its repeats share the copy.
        h.random_with_repeats(repeats(count)?)
    };
    let flat: Vec<&[u8]> = unique.iter().flat_map(|&(f, v)| std::iter::once(f).chain(withvalues.then_some(v))).collect();
    let copies = copy_out(&flat);
    if withvalues {
        // A flat array in RESP2, an array of `[field, value]` arrays in
        // RESP3, as Redis 7.0 answers HRANDFIELD ... WITHVALUES.
        Ok(Reply::Pairs(order.into_iter().map(|i| (Reply::Bulk(copies[2 * i].clone()), Reply::Bulk(copies[2 * i + 1].clone()))).collect()))
    } else {
        Ok(Reply::Array(order.into_iter().map(|i| Reply::Bulk(copies[i].clone())).collect()))
    }
}

/// Reads a SCAN-family cursor the way Redis does (`strtoul`): optional sign
/// ('-' wraps around), decimal digits, nothing else; "" reads as 0.
pub(crate) fn parse_scan_cursor(b: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::Other("invalid cursor".into());
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if b.is_empty() {
        return Ok(0);
    }
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(invalid());
        }
        v = v.checked_mul(10).and_then(|v| v.checked_add((c - b'0') as u64)).ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// MATCH and COUNT of HSCAN / SSCAN.
pub(crate) struct ScanOpts {
    pub pattern: Option<Bytes>,
    pub count: usize,
}

impl ScanOpts {
    /// Parses `[MATCH pattern] [COUNT count]` from argv[3..].
    pub(crate) fn parse(argv: &[Bytes]) -> Result<ScanOpts, CmdError> {
        let mut o = ScanOpts { pattern: None, count: 10 };
        let mut i = 3;
        while i < argv.len() {
            let Some(val) = argv.get(i + 1) else { return Err(CmdError::Syntax) };
            if argv[i].eq_ignore_ascii_case(b"count") {
                let n = parse_i64(val).ok_or(CmdError::NotInteger)?;
                if n < 1 {
                    return Err(CmdError::Syntax);
                }
                o.count = usize::try_from(n).unwrap_or(usize::MAX);
            } else if argv[i].eq_ignore_ascii_case(b"match") {
                // "*" matches everything: skip the matching.
                o.pattern = (val.as_ref() != b"*").then(|| val.clone());
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
        Ok(o)
    }

    pub(crate) fn matches(&self, item: &[u8]) -> bool {
        self.pattern.as_ref().is_none_or(|p| glob_match(p, item))
    }
}

/// The reply of a SCAN-family command.
pub(crate) fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::Bulk(Bytes::from(cursor.to_string())), Reply::Array(items)])
}

/// ```text
/// HSCAN key cursor [MATCH pattern] [COUNT count]
/// ```
pub fn hscan(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let cursor = parse_scan_cursor(&argv[2])?;
    let Some(h) = read(shard, &argv[1])? else { return Ok(scan_reply(0, vec![])) };
    let opts = ScanOpts::parse(argv)?;
    let mut parts = Vec::new();
    let next = h.scan(cursor, opts.count, |f, v| {
        if opts.matches(f) {
            parts.push(f);
            parts.push(v);
        }
    });
    Ok(scan_reply(next, bulks(&parts)))
}

/// The hash commands of this module.
#[rustfmt::skip]
pub(crate) static COMMANDS: &[CommandSpec] = &[
    cmd!("hset", -4, ["write", "denyoom", "fast"], ["write", "hash", "fast"], 1, 1, 1, SH(hset), No, "hash", "2.0.0", "Creates or modifies the value of a field in a hash."),
    cmd!("hsetnx", 4, ["write", "denyoom", "fast"], ["write", "hash", "fast"], 1, 1, 1, SH(hsetnx), No, "hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist."),
    cmd!("hmset", -4, ["write", "denyoom", "fast"], ["write", "hash", "fast"], 1, 1, 1, SH(hmset), No, "hash", "2.0.0", "Sets the values of multiple fields."),
    cmd!("hget", 3, ["readonly", "fast"], ["read", "hash", "fast"], 1, 1, 1, SH(hget), No, "hash", "2.0.0", "Returns the value of a field in a hash."),
    cmd!("hmget", -3, ["readonly", "fast"], ["read", "hash", "fast"], 1, 1, 1, SH(hmget), No, "hash", "2.0.0", "Returns the values of all fields in a hash."),
    cmd!("hlen", 2, ["readonly", "fast"], ["read", "hash", "fast"], 1, 1, 1, SH(hlen), No, "hash", "2.0.0", "Returns the number of fields in a hash."),
    cmd!("hstrlen", 3, ["readonly", "fast"], ["read", "hash", "fast"], 1, 1, 1, SH(hstrlen), No, "hash", "3.2.0", "Returns the length of the value of a field."),
    cmd!("hexists", 3, ["readonly", "fast"], ["read", "hash", "fast"], 1, 1, 1, SH(hexists), No, "hash", "2.0.0", "Determines whether a field exists in a hash."),
    cmd!("hkeys", 2, ["readonly"], ["read", "hash", "slow"], 1, 1, 1, SH(hkeys), No, "hash", "2.0.0", "Returns all fields in a hash."),
    cmd!("hvals", 2, ["readonly"], ["read", "hash", "slow"], 1, 1, 1, SH(hvals), No, "hash", "2.0.0", "Returns all values in a hash."),
    cmd!("hgetall", 2, ["readonly"], ["read", "hash", "slow"], 1, 1, 1, SH(hgetall), No, "hash", "2.0.0", "Returns all fields and values in a hash."),
    cmd!("hdel", -3, ["write", "fast"], ["write", "hash", "fast"], 1, 1, 1, SH(hdel), No, "hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."),
    cmd!("hincrby", 4, ["write", "denyoom", "fast"], ["write", "hash", "fast"], 1, 1, 1, SH(hincrby), No, "hash", "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."),
    cmd!("hincrbyfloat", 4, ["write", "denyoom", "fast"], ["write", "hash", "fast"], 1, 1, 1, SH(hincrbyfloat), No, "hash", "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."),
    cmd!("hrandfield", -2, ["readonly"], ["read", "hash", "slow"], 1, 1, 1, SH(hrandfield), No, "hash", "6.2.0", "Returns one or more random fields from a hash."),
    cmd!("hscan", -3, ["readonly"], ["read", "hash", "slow"], 1, 1, 1, SH(hscan), No, "hash", "2.8.0", "Iterates over fields and values of a hash."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_cursors() {
        assert_eq!(parse_scan_cursor(b""), Ok(0));
        assert_eq!(parse_scan_cursor(b"+5"), Ok(5));
        assert_eq!(parse_scan_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_scan_cursor(b"18446744073709551615"), Ok(u64::MAX));
        for bad in [&b"18446744073709551616"[..], b" 5", b"5 ", b"x", b"+", b"-", b"0x10"] {
            assert!(parse_scan_cursor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn long_double_ranges() {
        assert!(long_double_kind(b"1.5") == LongDouble::Finite);
        assert!(long_double_kind(b"1e400") == LongDouble::Finite);
        assert!(long_double_kind(b"1e-400") == LongDouble::Finite);
        assert!(long_double_kind(b"0.0e-9999") == LongDouble::Finite);
        assert!(long_double_kind(b"-inf") == LongDouble::Infinite);
        assert!(long_double_kind(b"Infinity") == LongDouble::Infinite);
        for bad in [&b"1e5000"[..], b"-1e5000", b"1e-5000", b"0.001e-4950", b"nan", b"", b" 1", b"abc"] {
            assert!(long_double_kind(bad) == LongDouble::Invalid, "{bad:?}");
        }
    }
}
