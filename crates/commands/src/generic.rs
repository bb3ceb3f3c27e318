//! Generic data-model commands: DUMP, RESTORE, OBJECT, COPY, SORT, SORT_RO.
//!
//! Where redcore differs from Redis 7.0, by design:
//! - DUMP payloads use redcore's own versioned, CRC-64-checked encoding
//!   ([`store::serialize`]), not Redis's RDB encoding: a payload restores on
//!   any redcore node but not on Redis, and the other way round. RESTORE
//!   answers Redis's errors for a payload that fails its checks.
//! - OBJECT FREQ answers the key's LFU counter whatever the eviction policy
//!   (redcore tracks it for every key; Redis refuses unless an LFU
//!   maxmemory-policy is set), and OBJECT IDLETIME answers under an LFU
//!   policy too. OBJECT REFCOUNT answers 2147483647 for integers 0..9999
//!   (Redis's shared integers under the default config) and 1 otherwise.
//! - COPY ... DB n accepts only database 0 (the only one redcore has), and
//!   answers "ERR DB index is out of range" for any other.
//! - SORT and SORT_RO support `BY` without `*` (no sorting, like `BY nosort`)
//!   and `GET #` / `GET` patterns without `*` (always nil), which read no
//!   other key. Patterns with `*` name other keys, which may live on other
//!   cores; they answer "ERR BY and GET patterns referencing other keys are
//!   not supported by redcore". ALPHA compares bytes (Redis uses strcoll
//!   without STORE, which is the same order under the C locales). SORT on a
//!   set with BY nosort answers in a deterministic order (numeric for an
//!   intset, byte order otherwise) where Redis answers a hashtable set in
//!   its hash order. SORT does not convert a small sorted set to a skiplist
//!   the way Redis does.
//! - Key positions: SORT lists every argument after the command name as a
//!   key (first 1, last -1), since the STORE destination may sit anywhere;
//!   the scratch multi-key path fetches the non-key arguments as missing keys
//!   and writes back only what changed. OBJECT's key is argument 2. COMMAND
//!   INFO therefore reports 1/-1/1 for SORT and 2/2/1 for OBJECT where Redis
//!   reports 1/1/1 and 0/0/0.

use crate::args::parse_i64;
use crate::error::{CmdError, CmdResult};
use crate::{CommandSpec, Exec::Shard as SH, MultiKey::No, MultiKey::Scratch};
use bytes::Bytes;
use resp::Reply;
use std::cmp::Ordering;
use store::serialize::{dump_payload, parse_dump_payload};
use store::types::{List, Set, ZSet};
use store::{Entry, Shard, Value, ValueRef};

const BUSYKEY: &str = "BUSYKEY Target key name already exists.";

fn err(msg: &str) -> CmdError {
    CmdError::Other(msg.to_string())
}

/// ```text
/// DUMP key
/// ```
/// Nil when the key does not exist.
pub fn dump(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(match shard.get(&argv[1]) {
        Some(e) => Reply::Bulk(Bytes::from(dump_payload(e.value))),
        None => Reply::Nil,
    })
}

/// ```text
/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
/// ```
/// `ttl` is in milliseconds (0: no expiry), a Unix time in ms with ABSTTL.
/// A payload whose TTL has already passed replies OK and stores nothing.
pub fn restore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut i = 4;
    while i < argv.len() {
        let has_value = i + 1 < argv.len();
        match argv[i].to_ascii_uppercase().as_slice() {
            b"REPLACE" => replace = true,
            b"ABSTTL" => absttl = true,
            // IDLETIME and FREQ exclude each other, as in Redis.
            b"IDLETIME" if has_value && freq.is_none() => {
                let n = parse_i64(&argv[i + 1]).ok_or(CmdError::NotInteger)?;
                if n < 0 {
                    return Err(err("Invalid IDLETIME value, must be >= 0"));
                }
                idle = Some(n);
                i += 1;
            }
            b"FREQ" if has_value && idle.is_none() => {
                let n = parse_i64(&argv[i + 1]).ok_or(CmdError::NotInteger)?;
                if !(0..=255).contains(&n) {
                    return Err(err("Invalid FREQ value, must be >= 0 and <= 255"));
                }
                freq = Some(n);
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    if !replace && shard.contains(key) {
        return Ok(Reply::error(BUSYKEY));
    }
    let ttl = parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    if ttl < 0 {
        return Err(err("Invalid TTL value, must be >= 0"));
    }
    let value = match parse_dump_payload(&argv[3]) {
        Ok(v) => v,
        Err(e) if e.is_integrity() => return Err(err("DUMP payload version or checksum are wrong")),
        Err(_) => return Err(err("Bad data format")),
    };
    if replace {
        shard.take(key);
    }
    let now = shard.now();
    let expires_at = match ttl {
        0 => None,
        t if absttl => Some(t as u64),
        t => Some(now.saturating_add(t as u64)),
    };
    if expires_at.is_some_and(|t| t <= now) {
        // Already expired: the (replaced) key is simply gone.
        return Ok(Reply::ok());
    }
    let mut entry = Entry::new(value, expires_at);
    entry.access.set(now, Some(idle.unwrap_or(0) as u64), freq.map(|f| f as u8));
    shard.insert_entry(key, entry);
    Ok(Reply::ok())
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// Redis shares the string objects of the integers 0..9999; OBJECT REFCOUNT
/// reports them as referenced "forever".
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// ```text
/// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key
/// OBJECT HELP
/// ```
/// Reads the key without counting as an access (no idle-time reset).
pub fn object(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let sub = argv[1].to_ascii_lowercase();
    let name = match sub.as_slice() {
        b"help" | b"encoding" | b"freq" | b"idletime" | b"refcount" => String::from_utf8_lossy(&sub).into_owned(),
        _ => {
            let shown = &argv[1][..argv[1].len().min(128)];
            let shown = shown.split(|&c| c == 0).next().unwrap_or_default();
            return Err(CmdError::Other(format!("unknown subcommand '{}'. Try OBJECT HELP.", String::from_utf8_lossy(shown))));
        }
    };
    let want_args = if name == "help" { 2 } else { 3 };
    if argv.len() != want_args {
        return Err(CmdError::WrongArity(format!("object|{name}")));
    }
    if name == "help" {
        return Ok(Reply::Array(OBJECT_HELP.iter().map(|&l| Reply::simple(l)).collect()));
    }
    let now = shard.now();
    let Some(e) = shard.peek(&argv[2]) else { return Ok(Reply::Nil) };
    Ok(match name.as_str() {
        "encoding" => Reply::bulk(Bytes::from_static(e.value.encoding().as_bytes())),
        "freq" => Reply::Int(e.access.decayed(now) as i64),
        "idletime" => Reply::Int(e.access.idle_secs(now) as i64),
        _ => Reply::Int(match &e.value {
            ValueRef::Str(s) if e.value.encoding() == "int" && parse_i64(s).is_some_and(|n| (0..10_000).contains(&n)) => SHARED_REFCOUNT,
            _ => 1,
        }),
    })
}

/// ```text
/// COPY source destination [DB destination-db] [REPLACE]
/// ```
/// The copy gets the source's TTL. 1 when copied, 0 when the source is
/// missing or the destination exists (without REPLACE).
pub fn copy(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let (src, dst) = (&argv[1], &argv[2]);
    let mut replace = false;
    let mut db = 0i64;
    let mut i = 3;
    while i < argv.len() {
        match argv[i].to_ascii_uppercase().as_slice() {
            b"REPLACE" => replace = true,
            b"DB" if i + 1 < argv.len() => {
                db = parse_i64(&argv[i + 1]).ok_or(CmdError::NotInteger)?;
                if db < i32::MIN as i64 || db > i32::MAX as i64 {
                    return Err(err("value is out of range, value must between -2147483648 and 2147483647"));
                }
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    if db == 0 && src == dst {
        return Err(err("source and destination objects are the same"));
    }
    if db != 0 {
        return Err(err("DB index is out of range"));
    }
    let Some(e) = shard.get(src) else { return Ok(Reply::Int(0)) };
    let (value, expires_at) = (e.value.to_value(), e.expires_at);
    if !replace && shard.contains(dst) {
        return Ok(Reply::Int(0));
    }
    shard.insert(dst, value, expires_at);
    Ok(Reply::Int(1))
}

/// What one `GET` of SORT puts in the reply for each element.
#[derive(Clone, Copy)]
enum SortGet {
    /// `GET #`: the element itself.
    Element,
    /// A pattern without `*`: names no key, so always nil (as in Redis).
    Nil,
}

struct SortOptions {
    desc: bool,
    alpha: bool,
    /// (offset, count) as given.
    limit: Option<(i64, i64)>,
    store: Option<Bytes>,
    /// `BY` with a pattern without `*` (`BY nosort`).
    dont_sort: bool,
    gets: Vec<SortGet>,
}

const PATTERNS_UNSUPPORTED: &str = "BY and GET patterns referencing other keys are not supported by redcore";

fn parse_sort_options(argv: &[Bytes], readonly: bool) -> Result<SortOptions, CmdError> {
    let mut o = SortOptions { desc: false, alpha: false, limit: None, store: None, dont_sort: false, gets: Vec::new() };
    let mut i = 2;
    while i < argv.len() {
        let left = argv.len() - i - 1;
        match argv[i].to_ascii_uppercase().as_slice() {
            b"ASC" => o.desc = false,
            b"DESC" => o.desc = true,
            b"ALPHA" => o.alpha = true,
            b"LIMIT" if left >= 2 => {
                let offset = parse_i64(&argv[i + 1]).ok_or(CmdError::NotInteger)?;
                let count = parse_i64(&argv[i + 2]).ok_or(CmdError::NotInteger)?;
                o.limit = Some((offset, count));
                i += 2;
            }
            b"STORE" if left >= 1 && !readonly => {
                o.store = Some(argv[i + 1].clone());
                i += 1;
            }
            b"BY" if left >= 1 => {
                if argv[i + 1].contains(&b'*') {
                    return Err(err(PATTERNS_UNSUPPORTED));
                }
                o.dont_sort = true;
                i += 1;
            }
            b"GET" if left >= 1 => {
                let p = &argv[i + 1];
                o.gets.push(if p.as_ref() == b"#" {
                    SortGet::Element
                } else if p.contains(&b'*') {
                    return Err(err(PATTERNS_UNSUPPORTED));
                } else {
                    SortGet::Nil
                });
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    Ok(o)
}

/// Reads a number the way C's `strtod` does for SORT (Redis's parser there):
/// leading whitespace, an optional sign, decimal or hexadecimal digits,
/// inf/infinity; the whole input must be used (up to a NUL byte, where C
/// stops), the empty string reads as 0, and results out of range (overflow
/// to infinity, underflow) or NaN are refused.
fn sort_score(b: &[u8]) -> Option<f64> {
    let b = b.split(|&c| c == 0).next().unwrap_or_default();
    if b.is_empty() {
        return Some(0.0);
    }
    let start = b.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let t = &b[start..];
    let (neg, t) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let v = if t.eq_ignore_ascii_case(b"inf") || t.eq_ignore_ascii_case(b"infinity") {
        f64::INFINITY
    } else if t.len() > 2 && t[0] == b'0' && (t[1] | 0x20) == b'x' {
        hex_float(&t[2..])?
    } else {
        decimal_float(t)?
    };
    Some(if neg { -v } else { v })
}

/// Digits, an optional fraction, an optional exponent; refuses overflow
/// and underflow like strtod's ERANGE.
fn decimal_float(t: &[u8]) -> Option<f64> {
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(t);
    let mut i = int;
    let mut frac = 0;
    if t.get(i) == Some(&b'.') {
        frac = digits(&t[i + 1..]);
        i += 1 + frac;
    }
    if int + frac == 0 {
        return None;
    }
    let mantissa_nonzero = t[..i].iter().any(|c| (b'1'..=b'9').contains(c));
    if matches!(t.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(t.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp = digits(&t[j..]);
        if exp == 0 {
            return None;
        }
        i = j + exp;
    }
    if i != t.len() {
        return None;
    }
    let v: f64 = std::str::from_utf8(t).ok()?.parse().ok()?;
    if v.is_infinite() || (v == 0.0 && mantissa_nonzero) || (v != 0.0 && v.abs() < f64::MIN_POSITIVE) {
        return None;
    }
    Some(v)
}

/// Hex digits after "0x", an optional fraction and an optional binary
/// exponent (`p[+-]digits`), as strtod reads them.
fn hex_float(t: &[u8]) -> Option<f64> {
    let mut v = 0f64;
    let mut scale = 0i64;
    let mut seen = false;
    let mut i = 0;
    let mut in_frac = false;
    while let Some(&c) = t.get(i) {
        if c == b'.' && !in_frac {
            in_frac = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            v = v * 16.0 + d as f64;
            if in_frac {
                scale -= 4;
            }
            seen = true;
        } else {
            break;
        }
        i += 1;
    }
    if !seen {
        return None;
    }
    if matches!(t.get(i), Some(b'p' | b'P')) {
        let rest = &t[i + 1..];
        let (neg, digits) = match rest.first() {
            Some(b'-') => (true, &rest[1..]),
            Some(b'+') => (false, &rest[1..]),
            _ => (false, rest),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let e: i64 = std::str::from_utf8(&digits[..digits.len().min(6)]).ok()?.parse().ok()?;
        scale += if neg { -e } else { e };
        i = t.len();
    }
    if i != t.len() {
        return None;
    }
    let r = v * 2f64.powi(scale.clamp(-2000, 2000) as i32);
    if r.is_infinite() || (r == 0.0 && v != 0.0) || (r != 0.0 && r.abs() < f64::MIN_POSITIVE) {
        return None;
    }
    Some(r)
}

/// The elements of a sorted set in score order.
fn zset_members(z: &ZSet) -> Vec<Bytes> {
    store::value::copy_out(&z.iter().map(|(m, _)| m).collect::<Vec<_>>())
}

/// Members of a set in the order SORT ... BY nosort answers them: an intset
/// in numeric order (as Redis), otherwise byte order (Redis answers a
/// hashtable's own order, which is not reproducible).
fn set_members_ordered(s: &Set) -> Vec<Bytes> {
    let mut items: Vec<Bytes> = s.iter().cloned().collect();
    if s.encoding() == "intset" {
        items.sort_by_key(|m| parse_i64(m).unwrap_or(0));
    } else {
        items.sort();
    }
    items
}

fn sort_generic(shard: &mut Shard, argv: &[Bytes], readonly: bool) -> CmdResult {
    let mut o = parse_sort_options(argv, readonly)?;
    let (mut items, is_set) = match shard.get(&argv[1]).map(|e| e.value) {
        None => (Vec::new(), false),
        Some(ValueRef::List(l)) => (l.iter().map(|e| e.to_bytes()).collect::<Vec<Bytes>>(), false),
        Some(ValueRef::Set(s)) => (set_members_ordered(s), true),
        Some(ValueRef::ZSet(z)) => (zset_members(z), false),
        Some(_) => return Err(CmdError::WrongType),
    };
    if o.dont_sort && is_set && o.store.is_some() {
        // Stored results must not depend on a set's internal order.
        o.dont_sort = false;
        o.alpha = true;
    }
    if o.dont_sort {
        // Lists and sorted sets keep their own order, reversed by DESC; a
        // set's order is not one to reverse.
        if o.desc && !is_set {
            items.reverse();
        }
    } else if o.alpha {
        items.sort_unstable();
        if o.desc {
            items.reverse();
        }
    } else {
        let mut scored = Vec::with_capacity(items.len());
        for it in items {
            let score = sort_score(&it).ok_or_else(|| err("One or more scores can't be converted into double"))?;
            scored.push((score, it));
        }
        // Equal scores fall back to byte order so the result is deterministic.
        scored.sort_unstable_by(|a, b| {
            let ord = a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal).then_with(|| a.1.cmp(&b.1));
            if o.desc {
                ord.reverse()
            } else {
                ord
            }
        });
        items = scored.into_iter().map(|(_, it)| it).collect();
    }
    let (start, end) = limit_bounds(o.limit, items.len());
    let picked = items.get(start..end).unwrap_or_default();
    let gets = if o.gets.is_empty() { vec![SortGet::Element] } else { o.gets };
    let out: Vec<Option<&Bytes>> = picked
        .iter()
        .flat_map(|it| {
            gets.iter().map(move |g| match g {
                SortGet::Element => Some(it),
                SortGet::Nil => None,
            })
        })
        .collect();
    match o.store {
        None => Ok(Reply::Array(out.into_iter().map(|x| x.map_or(Reply::Nil, |b| Reply::Bulk(b.clone()))).collect())),
        Some(dest) => {
            let n = out.len();
            if n == 0 {
                shard.take(&dest);
            } else {
                let mut list = List::new();
                for x in out {
                    list.push_back(x.cloned().unwrap_or_default());
                }
                shard.insert(&dest, Value::List(Box::new(list)), None);
            }
            Ok(Reply::Int(n as i64))
        }
    }
}

/// The [start, end) range of `len` sorted elements that LIMIT selects:
/// a negative offset counts as 0, a negative count as "all the rest".
fn limit_bounds(limit: Option<(i64, i64)>, len: usize) -> (usize, usize) {
    let Some((offset, count)) = limit else { return (0, len) };
    let start = offset.max(0) as u64;
    if start >= len as u64 {
        return (0, 0);
    }
    let end = if count < 0 { len as u64 } else { start.saturating_add(count as u64).min(len as u64) };
    (start as usize, end as usize)
}

/// ```text
/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
/// ```
/// Sorts a list, set or sorted set numerically (or by bytes with ALPHA).
/// With STORE, the result replaces `destination` as a list (deleted when
/// empty) and the reply is its length.
pub fn sort(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    sort_generic(shard, argv, false)
}

/// ```text
/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// ```
pub fn sort_ro(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    sort_generic(shard, argv, true)
}

/// The generic commands of this module.
#[rustfmt::skip]
pub(crate) static COMMANDS: &[CommandSpec] = &[
    cmd!("dump", 2, ["readonly"], ["keyspace", "read", "slow"], 1, 1, 1, SH(dump), No, "generic", "2.6.0", "Returns a serialized representation of the value stored at a key."),
    cmd!("restore", -4, ["write", "denyoom"], ["keyspace", "write", "slow", "dangerous"], 1, 1, 1, SH(restore), No, "generic", "2.6.0", "Creates a key from the serialized representation of a value."),
    cmd!("object", -2, ["readonly"], ["keyspace", "read", "slow"], 2, 2, 1, SH(object), No, "generic", "2.2.3", "A container for object introspection commands."),
    cmd!("copy", -3, ["write", "denyoom"], ["keyspace", "write", "slow"], 1, 2, 1, SH(copy), Scratch, "generic", "6.2.0", "Copies the value of a key to a new key."),
    cmd!("sort", -2, ["write", "denyoom", "movablekeys"], ["write", "set", "sortedset", "list", "slow", "dangerous"], 1, -1, 1, SH(sort), Scratch, "generic", "1.0.0", "Sorts the elements in a list, a set, or a sorted set, optionally storing the result."),
    cmd!("sort_ro", -2, ["readonly", "movablekeys"], ["read", "set", "sortedset", "list", "slow", "dangerous"], 1, 1, 1, SH(sort_ro), No, "generic", "7.0.0", "Returns the sorted elements of a list, a set, or a sorted set."),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<Bytes> {
        args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
    }

    fn run(shard: &mut Shard, args: &[&str]) -> Reply {
        crate::to_reply(match args[0] {
            "dump" => dump(shard, &argv(args)),
            "restore" => restore(shard, &argv(args)),
            "object" => object(shard, &argv(args)),
            "copy" => copy(shard, &argv(args)),
            "sort" => sort(shard, &argv(args)),
            "sort_ro" => sort_ro(shard, &argv(args)),
            other => panic!("no op {other}"),
        })
    }

    fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|s| Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))).collect())
    }

    fn list(shard: &mut Shard, key: &str, items: &[&str]) {
        let mut l = List::new();
        for it in items {
            l.push_back(Bytes::copy_from_slice(it.as_bytes()));
        }
        shard.insert(key.as_bytes(), Value::List(Box::new(l)), None);
    }

    #[test]
    fn strtod_like_scores() {
        for (s, want) in [
            ("", 0.0),
            (" 1", 1.0),
            ("0x10", 16.0),
            ("1e5", 1e5),
            ("+3", 3.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("0x1p3", 8.0),
            ("-inf", f64::NEG_INFINITY),
            ("Infinity", f64::INFINITY),
            ("-0", 0.0),
            ("1\0junk", 1.0),
            ("0x.8", 0.5),
        ] {
            assert_eq!(sort_score(s.as_bytes()), Some(want), "{s:?}");
        }
        for s in ["1 ", " ", "x", "nan", "1e400", "1e-400", "4.9e-324", "0x", "1e", ".", "+", "--1", "0xg", "infx", "1.2.3"] {
            assert_eq!(sort_score(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn limits() {
        assert_eq!(limit_bounds(None, 5), (0, 5));
        assert_eq!(limit_bounds(Some((1, 3)), 5), (1, 4));
        assert_eq!(limit_bounds(Some((-1, 3)), 5), (0, 3));
        assert_eq!(limit_bounds(Some((2, -1)), 5), (2, 5));
        assert_eq!(limit_bounds(Some((5, 1)), 5), (0, 0));
        assert_eq!(limit_bounds(Some((1, i64::MAX)), 5), (1, 5));
        assert_eq!(limit_bounds(Some((0, 0)), 5), (0, 0));
    }

    #[test]
    fn sort_orders() {
        let mut sh = Shard::new();
        list(&mut sh, "l", &["3", "1", "2", "10", "-5", "1.5"]);
        assert_eq!(run(&mut sh, &["sort", "l"]), bulks(&["-5", "1", "1.5", "2", "3", "10"]));
        assert_eq!(run(&mut sh, &["sort", "l", "desc", "limit", "0", "2"]), bulks(&["10", "3"]));
        assert_eq!(run(&mut sh, &["sort", "l", "alpha"]), bulks(&["-5", "1", "1.5", "10", "2", "3"]));
        assert_eq!(run(&mut sh, &["sort", "l", "by", "nosort", "desc"]), bulks(&["1.5", "-5", "10", "2", "1", "3"]));
        assert_eq!(run(&mut sh, &["sort_ro", "l", "store", "x"]), Reply::error("ERR syntax error"));
        assert_eq!(run(&mut sh, &["sort", "l", "by", "w_*"]), Reply::error(format!("ERR {PATTERNS_UNSUPPORTED}")));
        assert_eq!(run(&mut sh, &["sort", "l", "limit", "0", "1", "store", "d"]), Reply::Int(1));
        assert_eq!(run(&mut sh, &["sort", "nokey", "store", "d"]), Reply::Int(0));
        assert!(!sh.contains(b"d"));
        list(&mut sh, "bad", &["1", "x"]);
        assert_eq!(run(&mut sh, &["sort", "bad"]), Reply::error("ERR One or more scores can't be converted into double"));
    }

    #[test]
    fn dump_restore_round_trip() {
        let mut sh = Shard::new();
        list(&mut sh, "l", &["a", "b"]);
        let Reply::Bulk(p) = run(&mut sh, &["dump", "l"]) else { panic!("no payload") };
        let a = argv(&["restore", "m", "0", ""]);
        let mut a = a;
        a[3] = p.clone();
        assert_eq!(restore(&mut sh, &a), Ok(Reply::ok()));
        let m = sh.peek(b"m").map(|e| e.value.to_value());
        assert_eq!(m, sh.peek(b"l").map(|e| e.value.to_value()));
        assert_eq!(restore(&mut sh, &a), Ok(Reply::error(BUSYKEY)));
        let mut bad = p.to_vec();
        bad[1] ^= 1;
        a[3] = Bytes::from(bad);
        a[1] = Bytes::from_static(b"n");
        assert_eq!(restore(&mut sh, &a), Err(err("DUMP payload version or checksum are wrong")));
    }
}
