//! Sorted set commands, as they run on the shard that owns the keys.
//!
//! Parsing follows Redis 7.0 to the letter, because clients see its corners:
//! scores go through C `strtod` rules (hex floats, `inf`, `infinity`; ZADD
//! refuses overflow and leading spaces, range bounds do not), option errors
//! come in Redis's order (numbers first, then the key's type, then the
//! remaining options), and replies with scores are flat arrays in RESP2 and
//! arrays of `[member, score]` pairs in RESP3 (see [`pairs_reply`]).
//!
//! Multi-key commands (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZUNION, ZINTER,
//! ZDIFF, ZINTERCARD, ZRANGESTORE, ZMPOP) are [`MultiKey::Scratch`]: when their
//! keys live on several cores the server copies them into one scratch shard
//! and runs the same op there.

use crate::args::parse_i64;
use crate::error::{CmdError, CmdResult};
use crate::{CommandSpec, Exec::Shard as SH, MultiKey::No, MultiKey::Scratch};
use bytes::Bytes;
use resp::Reply;
use store::types::zset::{owned_pairs, LexBound, LexRange, ScoreBound, ScoreRange};
use store::types::{Set, ZSet};
use store::{Shard, Value, ValueRef};

// ---------------------------------------------------------------------------
// Number parsing with C semantics

/// C `isspace` in the "C" locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// What C `strtod` reads from the start of a string.
struct Strtod {
    value: f64,
    /// Bytes consumed; 0 when nothing converts (leading spaces included).
    used: usize,
    /// ERANGE with a result Redis refuses: overflow to ±inf, or underflow
    /// to zero.
    range_err: bool,
}

fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod { value: 0.0, used: 0, range_err: false };
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    if starts_with_ci(rest, b"infinity") {
        return Strtod { value: sign * f64::INFINITY, used: i + 8, range_err: false };
    }
    if starts_with_ci(rest, b"inf") {
        return Strtod { value: sign * f64::INFINITY, used: i + 3, range_err: false };
    }
    if starts_with_ci(rest, b"nan") {
        let mut used = i + 3;
        // nan(n-char-sequence)
        if s.get(used) == Some(&b'(') {
            let mut j = used + 1;
            while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == b'_') {
                j += 1;
            }
            if s.get(j) == Some(&b')') {
                used = j + 1;
            }
        }
        return Strtod { value: f64::NAN, used, range_err: false };
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, n, nonzero)) = hex_float(&rest[2..]) {
            let value = sign * v;
            let range_err = value.is_infinite() || (value == 0.0 && nonzero);
            return Strtod { value, used: i + 2 + n, range_err };
        }
        // "0x" without hex digits reads as "0".
        return Strtod { value: sign * 0.0, used: i + 1, range_err: false };
    }
    // Decimal: digits [. digits] [e [sign] digits], at least one digit.
    let start = i;
    let mut j = i;
    let mut digits = 0;
    let mut nonzero = false;
    while j < s.len() && s[j].is_ascii_digit() {
        nonzero |= s[j] != b'0';
        j += 1;
        digits += 1;
    }
    if j < s.len() && s[j] == b'.' {
        j += 1;
        while j < s.len() && s[j].is_ascii_digit() {
            nonzero |= s[j] != b'0';
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return none;
    }
    if j < s.len() && (s[j] | 0x20) == b'e' {
        let mut k = j + 1;
        if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
            k += 1;
        }
        if k < s.len() && s[k].is_ascii_digit() {
            while k < s.len() && s[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    // The slice is ASCII digits, '.', 'e' and a sign: valid for Rust's parser,
    // which rounds correctly like glibc.
    let text = std::str::from_utf8(&s[start..j]).unwrap_or("0");
    let v: f64 = text.parse().unwrap_or(0.0);
    let value = sign * v;
    let range_err = value.is_infinite() || (value == 0.0 && nonzero);
    Strtod { value, used: j, range_err }
}

/// A hex float's digits after "0x": value, bytes used, whether any mantissa
/// digit was non-zero. None when no hex digit follows.
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    let hex = |c: u8| (c as char).to_digit(16);
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut digits = 0;
    let mut nonzero = false;
    let mut j = 0;
    let mut push = |d: u32, frac: bool, exp: &mut i64| {
        nonzero |= d != 0;
        if mant >> 56 == 0 {
            mant = mant * 16 + d as u64;
            if frac {
                *exp -= 4;
            }
        } else if !frac {
            // Too many digits to keep: the rest only scale.
            *exp += 4;
        }
    };
    while j < s.len() {
        let Some(d) = hex(s[j]) else { break };
        push(d, false, &mut exp);
        j += 1;
        digits += 1;
    }
    if j < s.len() && s[j] == b'.' {
        let mut k = j + 1;
        let mut frac_digits = 0;
        while k < s.len() {
            let Some(d) = hex(s[k]) else { break };
            push(d, true, &mut exp);
            k += 1;
            frac_digits += 1;
        }
        if digits + frac_digits > 0 {
            j = k;
            digits += frac_digits;
        }
    }
    if digits == 0 {
        return None;
    }
    if j < s.len() && (s[j] | 0x20) == b'p' {
        let mut k = j + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        if k < s.len() && s[k].is_ascii_digit() {
            let mut e: i64 = 0;
            while k < s.len() && s[k].is_ascii_digit() {
                e = (e * 10 + (s[k] - b'0') as i64).min(1 << 20);
                k += 1;
            }
            exp += if neg { -e } else { e };
            j = k;
        }
    }
    let mut v = mant as f64;
    // Scale in steps so intermediate powers stay finite.
    let mut e = exp;
    while e > 0 && v.is_finite() && v != 0.0 {
        let step = e.min(1000);
        v *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 && v != 0.0 {
        let step = (-e).min(1000);
        v /= 2f64.powi(step as i32);
        e += step;
    }
    Some((v, j, nonzero))
}

/// A score or weight as Redis's `string2d` reads it: the whole string, no
/// leading space, not empty, no overflow, not NaN.
pub fn parse_score(b: &[u8]) -> Option<f64> {
    if b.is_empty() || is_c_space(b[0]) {
        return None;
    }
    let r = strtod(b);
    if r.used != b.len() || r.range_err || r.value.is_nan() {
        None
    } else {
        Some(r.value)
    }
}

/// One end of a score range (`1.5`, `(1.5`, `-inf`, ...), read the way
/// Redis's zslParseRange does: plain `strtod`, so leading spaces, overflow and
/// even the empty string (0) pass.
fn parse_score_bound(b: &[u8]) -> Option<ScoreBound> {
    let (exclusive, body) = match b.first() {
        Some(b'(') => (true, &b[1..]),
        _ => (false, b),
    };
    let r = strtod(body);
    // C stops at the first NUL of the argument.
    let at_end = r.used == body.len() || body[r.used] == 0;
    if !at_end || r.value.is_nan() {
        return None;
    }
    Some(ScoreBound { value: r.value, exclusive })
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    match (parse_score_bound(min), parse_score_bound(max)) {
        (Some(min), Some(max)) => Ok(ScoreRange { min, max }),
        _ => Err(CmdError::Other("min or max is not a float".into())),
    }
}

/// One end of a lex range: `-`, `+`, `[member`, `(member`.
fn parse_lex_bound(b: &[u8]) -> Option<LexBound> {
    // C compares the byte after the sign with the terminating NUL.
    let alone = b.get(1).is_none_or(|&c| c == 0);
    match b.first()? {
        b'+' if alone => Some(LexBound::Max),
        b'-' if alone => Some(LexBound::Min),
        b'(' => Some(LexBound::Exclusive(Bytes::copy_from_slice(&b[1..]))),
        b'[' => Some(LexBound::Inclusive(Bytes::copy_from_slice(&b[1..]))),
        _ => None,
    }
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CmdError::Other("min or max not valid string range item".into())),
    }
}

fn parse_long(b: &[u8]) -> Result<i64, CmdError> {
    parse_i64(b).ok_or(CmdError::NotInteger)
}

/// Redis's getPositiveLongFromObjectOrReply: one message for "not a number"
/// and "negative".
fn parse_non_negative(b: &[u8], msg: &str) -> Result<i64, CmdError> {
    match parse_i64(b) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(CmdError::Other(msg.into())),
    }
}

/// A SCAN cursor the way `strtoul` reads it (sign allowed, wraps negatives).
fn parse_cursor(b: &[u8]) -> Option<u64> {
    if b.first().is_some_and(|&c| is_c_space(c)) {
        return None;
    }
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        // No conversion: fine only when nothing at all follows.
        return if b.is_empty() { Some(0) } else { None };
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

fn is_kw(b: &[u8], kw: &str) -> bool {
    b.eq_ignore_ascii_case(kw.as_bytes())
}

// ---------------------------------------------------------------------------
// Replies

/// Elements with their scores: a flat `[m1, s1, m2, s2, ...]` array in RESP2
/// and, in Redis 7.0's RESP3, an array of `[member, score]` pairs.
fn pairs_reply(items: Vec<(Bytes, f64)>) -> Reply {
    Reply::Pairs(items.into_iter().map(|(m, s)| (Reply::Bulk(m), Reply::Double(s))).collect())
}

fn members_reply(items: Vec<(Bytes, f64)>, withscores: bool) -> Reply {
    if withscores {
        pairs_reply(items)
    } else {
        Reply::Array(items.into_iter().map(|(m, _)| Reply::Bulk(m)).collect())
    }
}

fn empty_array() -> CmdResult {
    Ok(Reply::Array(Vec::new()))
}

// ---------------------------------------------------------------------------
// Key access

/// The sorted set at `key` for reading: Ok(None) when missing.
fn read<'a>(shard: &'a mut Shard, key: &[u8]) -> Result<Option<&'a ZSet>, CmdError> {
    match shard.get(key).map(|e| e.value) {
        None => Ok(None),
        Some(ValueRef::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// For writes: Ok(false) when missing, WRONGTYPE for other types.
fn exists_for_write(shard: &mut Shard, key: &[u8]) -> Result<bool, CmdError> {
    match shard.peek(key).map(|e| e.value) {
        None => Ok(false),
        Some(ValueRef::ZSet(_)) => Ok(true),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Stores a computed result at `dst` (replacing any value and TTL), or
/// deletes `dst` when the result is empty. Replies with its size.
fn store_result(shard: &mut Shard, dst: &[u8], z: ZSet) -> CmdResult {
    let n = z.len();
    if n == 0 {
        shard.remove(dst);
    } else {
        shard.insert(dst, Value::ZSet(z), None);
    }
    Ok(Reply::Int(n as i64))
}

/// Builds a set by adding `items` one by one to a fresh listpack-encoded
/// set, the way Redis fills ZRANGESTORE's destination.
fn build_incremental(items: Vec<(Bytes, f64)>) -> ZSet {
    let mut z = ZSet::new();
    for (m, s) in items {
        z.insert(&m, s);
    }
    z
}

// ---------------------------------------------------------------------------
// ZADD / ZINCRBY

fn zadd_generic(shard: &mut Shard, argv: &[Bytes], incr_cmd: bool) -> CmdResult {
    let key = &argv[1];
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) = (false, false, false, false, false, incr_cmd);
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i];
        if is_kw(a, "nx") {
            nx = true;
        } else if is_kw(a, "xx") {
            xx = true;
        } else if is_kw(a, "ch") {
            ch = true;
        } else if is_kw(a, "incr") {
            incr = true;
        } else if is_kw(a, "gt") {
            gt = true;
        } else if is_kw(a, "lt") {
            lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &argv[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    if nx && xx {
        return Err(CmdError::Other("XX and NX options at the same time are not compatible".into()));
    }
    if ((gt || lt) && nx) || (gt && lt) {
        return Err(CmdError::Other("GT, LT, and/or NX options at the same time are not compatible".into()));
    }
    if incr && rest.len() > 2 {
        return Err(CmdError::Other("INCR option supports a single increment-element pair".into()));
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks_exact(2) {
        pairs.push((parse_score(&p[0]).ok_or(CmdError::NotFloat)?, &p[1]));
    }
    let exists = exists_for_write(shard, key)?;
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut new_score = 0.0;
    if exists || !xx {
        let mut v = shard.value_mut_or_insert(key, Value::new_zset);
        let Value::ZSet(z) = &mut *v else { return Err(CmdError::WrongType) };
        if !(nx || xx || gt || lt || incr) {
            // Plain ZADD: one search per member.
            for (score, member) in pairs {
                match z.insert(member, score) {
                    None => added += 1,
                    Some(old) if old != score => updated += 1,
                    Some(_) => {}
                }
            }
            return Ok(Reply::Int(if ch { added + updated } else { added }));
        }
        for (score, member) in pairs {
            match z.score(member) {
                Some(cur) => {
                    if nx {
                        continue;
                    }
                    let mut s = score;
                    if incr {
                        s += cur;
                        if s.is_nan() {
                            return Err(CmdError::Other("resulting score is not a number (NaN)".into()));
                        }
                    }
                    if (lt && s >= cur) || (gt && s <= cur) {
                        continue;
                    }
                    processed += 1;
                    new_score = s;
                    if s != cur {
                        z.insert(member, s);
                        updated += 1;
                    }
                }
                None => {
                    if xx {
                        continue;
                    }
                    z.insert(member, score);
                    added += 1;
                    processed += 1;
                    new_score = score;
                }
            }
        }
    }
    if incr {
        Ok(if processed > 0 { Reply::Double(new_score) } else { Reply::Nil })
    } else {
        Ok(Reply::Int(if ch { added + updated } else { added }))
    }
}

/// ```text
/// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
/// ```
pub fn zadd(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zadd_generic(shard, argv, false)
}

/// ```text
/// ZINCRBY key increment member
/// ```
/// Redis runs it through ZADD's parser, options included.
pub fn zincrby(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zadd_generic(shard, argv, true)
}

// ---------------------------------------------------------------------------
// Single-key reads and removals

/// ```text
/// ZREM key member [member ...]
/// ```
pub fn zrem(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::Int(0)) };
    let Value::ZSet(z) = &mut *v else { return Err(CmdError::WrongType) };
    let mut n = 0;
    for m in &argv[2..] {
        if z.remove(m).is_some() {
            n += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    Ok(Reply::Int(n))
}

/// ```text
/// ZCARD key
/// ```
pub fn zcard(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(read(shard, &argv[1])?.map_or(0, |z| z.len()) as i64))
}

/// ```text
/// ZSCORE key member
/// ```
pub fn zscore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    Ok(read(shard, &argv[1])?.and_then(|z| z.score(&argv[2])).map_or(Reply::Nil, Reply::Double))
}

/// ```text
/// ZMSCORE key member [member ...]
/// ```
pub fn zmscore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let z = read(shard, &argv[1])?;
    let out = argv[2..].iter().map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double)).collect();
    Ok(Reply::Array(out))
}

fn rank_generic(shard: &mut Shard, argv: &[Bytes], rev: bool) -> CmdResult {
    let Some(z) = read(shard, &argv[1])? else { return Ok(Reply::Nil) };
    Ok(match z.rank(&argv[2]) {
        Some(r) if rev => Reply::Int((z.len() - 1 - r) as i64),
        Some(r) => Reply::Int(r as i64),
        None => Reply::Nil,
    })
}

/// ```text
/// ZRANK key member
/// ```
pub fn zrank(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    rank_generic(shard, argv, false)
}

/// ```text
/// ZREVRANK key member
/// ```
pub fn zrevrank(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    rank_generic(shard, argv, true)
}

/// ```text
/// ZCOUNT key min max
/// ```
pub fn zcount(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let range = parse_score_range(&argv[2], &argv[3])?;
    Ok(Reply::Int(read(shard, &argv[1])?.map_or(0, |z| z.count_in_score_range(&range)) as i64))
}

/// ```text
/// ZLEXCOUNT key min max
/// ```
pub fn zlexcount(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let range = parse_lex_range(&argv[2], &argv[3])?;
    Ok(Reply::Int(read(shard, &argv[1])?.map_or(0, |z| z.count_in_lex_range(&range)) as i64))
}

// ---------------------------------------------------------------------------
// ZRANGE and its family

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RangeKind {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// Redis's start/stop normalisation for rank ranges: the ranks `[a, b]`
/// (inclusive) or None when empty.
fn rank_bounds(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let n = len as i64;
    let mut start = if start < 0 { start.saturating_add(n) } else { start };
    let end = if end < 0 { end.saturating_add(n) } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= n {
        return None;
    }
    Some((start as usize, end.min(n - 1) as usize))
}

/// The elements of ranks `[lo, hi)` after skipping `offset` and taking at
/// most `limit` (negative: all), walking downwards from the top when `rev`.
/// A LIMIT window over the ranks `lo..hi`: the rank it starts at (from the
/// top when `rev`) and how many members it takes.
fn window_span(lo: usize, hi: usize, offset: i64, limit: i64, rev: bool) -> Option<(usize, usize)> {
    // A negative offset makes Redis skip past the end.
    if offset < 0 || hi <= lo {
        return None;
    }
    let count = hi - lo;
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    if offset >= count {
        return None;
    }
    let avail = count - offset;
    let take = if limit < 0 { avail } else { avail.min(usize::try_from(limit).unwrap_or(usize::MAX)) };
    Some((if rev { hi - 1 - offset } else { lo + offset }, take))
}

/// ZRANGE, ZRANGESTORE and the older range commands. `src` is the index of
/// the source key in `argv`; `dst` the destination for ZRANGESTORE.
fn zrange_generic(shard: &mut Shard, argv: &[Bytes], src: usize, dst: Option<&Bytes>, mut kind: RangeKind, mut dir: Direction) -> CmdResult {
    let store = dst.is_some();
    let (mut minidx, mut maxidx) = (src + 1, src + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j];
        if !store && is_kw(a, "withscores") {
            withscores = true;
        } else if is_kw(a, "limit") && left >= 2 {
            offset = parse_long(&argv[j + 1])?;
            limit = parse_long(&argv[j + 2])?;
            j += 2;
        } else if dir == Direction::Auto && is_kw(a, "rev") {
            dir = Direction::Reverse;
        } else if kind == RangeKind::Auto && is_kw(a, "bylex") {
            kind = RangeKind::Lex;
        } else if kind == RangeKind::Auto && is_kw(a, "byscore") {
            kind = RangeKind::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = dir == Direction::Reverse;
    if kind == RangeKind::Auto {
        kind = RangeKind::Rank;
    }
    if limit != -1 && kind == RangeKind::Rank {
        return Err(CmdError::Other("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX".into()));
    }
    if withscores && kind == RangeKind::Lex {
        return Err(CmdError::Other("syntax error, WITHSCORES not supported in combination with BYLEX".into()));
    }
    if rev && kind != RangeKind::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    enum Parsed {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let parsed = match kind {
        RangeKind::Score => Parsed::Score(parse_score_range(&argv[minidx], &argv[maxidx])?),
        RangeKind::Lex => Parsed::Lex(parse_lex_range(&argv[minidx], &argv[maxidx])?),
        _ => Parsed::Rank(parse_long(&argv[minidx])?, parse_long(&argv[maxidx])?),
    };
    let key = &argv[src];
    let Some(z) = read(shard, key)? else {
        return match dst {
            Some(d) => store_result(shard, d, ZSet::new()),
            None => empty_array(),
        };
    };
    let (span, rank_mode) = match parsed {
        Parsed::Rank(start, end) => {
            let span = rank_bounds(start, end, z.len()).map(|(a, b)| (if rev { z.len() - 1 - a } else { a }, b - a + 1));
            (span, true)
        }
        Parsed::Score(range) => {
            if offset > 0 && offset as u64 >= z.len() as u64 {
                (None, false)
            } else {
                let (lo, hi) = z.score_range_ranks(&range);
                (window_span(lo, hi, offset, limit, rev), false)
            }
        }
        Parsed::Lex(range) => {
            let (lo, hi) = z.lex_range_ranks(&range);
            (window_span(lo, hi, offset, limit, rev), false)
        }
    };
    if dst.is_none() && !withscores {
        // Members only: written once, straight into the reply.
        return Ok(match span {
            Some((start, take)) => Reply::bulk_array_of(z.iter_from(start, rev).take(take).map(|(m, _)| m)),
            None => Reply::bulk_array(&[]),
        });
    }
    let items = span.map_or_else(Vec::new, |(start, take)| owned_pairs(z.iter_from(start, rev).take(take)));
    match dst {
        Some(d) => {
            // Redis creates the destination as a skiplist up front only when
            // a rank range tells it the size; otherwise it starts small.
            let z = if rank_mode && items.len() > store::types::zset::LISTPACK_MAX_ENTRIES {
                ZSet::from_pairs(&items)
            } else {
                build_incremental(items)
            };
            store_result(shard, d, z)
        }
        None => Ok(members_reply(items, withscores)),
    }
}

/// ```text
/// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
/// ```
pub fn zrange(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zrange_generic(shard, argv, 1, None, RangeKind::Auto, Direction::Auto)
}

/// ```text
/// ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]
/// ```
pub fn zrangestore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let dst = argv[1].clone();
    zrange_generic(shard, argv, 2, Some(&dst), RangeKind::Auto, Direction::Auto)
}

/// ```text
/// ZREVRANGE key start stop [WITHSCORES]
/// ```
pub fn zrevrange(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zrange_generic(shard, argv, 1, None, RangeKind::Rank, Direction::Reverse)
}

/// ```text
/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
/// ```
pub fn zrangebyscore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zrange_generic(shard, argv, 1, None, RangeKind::Score, Direction::Forward)
}

/// ```text
/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
/// ```
pub fn zrevrangebyscore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zrange_generic(shard, argv, 1, None, RangeKind::Score, Direction::Reverse)
}

/// ```text
/// ZRANGEBYLEX key min max [LIMIT offset count]
/// ```
pub fn zrangebylex(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zrange_generic(shard, argv, 1, None, RangeKind::Lex, Direction::Forward)
}

/// ```text
/// ZREVRANGEBYLEX key max min [LIMIT offset count]
/// ```
pub fn zrevrangebylex(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zrange_generic(shard, argv, 1, None, RangeKind::Lex, Direction::Reverse)
}

// ---------------------------------------------------------------------------
// ZREMRANGEBY*

fn zremrange_generic(shard: &mut Shard, argv: &[Bytes], kind: RangeKind) -> CmdResult {
    enum Parsed {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let parsed = match kind {
        RangeKind::Score => Parsed::Score(parse_score_range(&argv[2], &argv[3])?),
        RangeKind::Lex => Parsed::Lex(parse_lex_range(&argv[2], &argv[3])?),
        _ => Parsed::Rank(parse_long(&argv[2])?, parse_long(&argv[3])?),
    };
    let Some(mut v) = shard.value_mut(&argv[1]) else { return Ok(Reply::Int(0)) };
    let Value::ZSet(z) = &mut *v else { return Err(CmdError::WrongType) };
    let (lo, hi) = match parsed {
        Parsed::Rank(start, end) => match rank_bounds(start, end, z.len()) {
            Some((a, b)) => (a, b + 1),
            None => return Ok(Reply::Int(0)),
        },
        Parsed::Score(r) => z.score_range_ranks(&r),
        Parsed::Lex(r) => z.lex_range_ranks(&r),
    };
    Ok(Reply::Int(z.remove_rank_range(lo, hi).len() as i64))
}

/// ```text
/// ZREMRANGEBYRANK key start stop
/// ```
pub fn zremrangebyrank(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(shard, argv, RangeKind::Rank)
}

/// ```text
/// ZREMRANGEBYSCORE key min max
/// ```
pub fn zremrangebyscore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(shard, argv, RangeKind::Score)
}

/// ```text
/// ZREMRANGEBYLEX key min max
/// ```
pub fn zremrangebylex(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(shard, argv, RangeKind::Lex)
}

// ---------------------------------------------------------------------------
// Pops

/// Removes up to `count` elements with the lowest (or, with `max`, highest)
/// scores from the sorted set at `key`, in pop order. None when the key is
/// missing; WRONGTYPE for other types; the key goes when emptied. For
/// BZPOPMIN / BZPOPMAX / BZMPOP in the server.
pub fn pop_extreme(shard: &mut Shard, key: &[u8], max: bool, count: usize) -> Result<Option<Vec<(Bytes, f64)>>, CmdError> {
    let Some(mut v) = shard.value_mut(key) else { return Ok(None) };
    let Value::ZSet(z) = &mut *v else { return Err(CmdError::WrongType) };
    Ok(Some(z.pop(count, max)))
}

fn zpop_generic(shard: &mut Shard, argv: &[Bytes], max: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match argv.get(2) {
        Some(c) => Some(parse_non_negative(c, "value is out of range, must be positive")?),
        None => None,
    };
    let n = count.map_or(1, |c| usize::try_from(c).unwrap_or(usize::MAX));
    match pop_extreme(shard, &argv[1], max, n)? {
        None => empty_array(),
        Some(items) if count.is_some() => Ok(pairs_reply(items)),
        Some(items) => {
            // Without COUNT: one flat [member, score] in both protocols.
            let mut out = Vec::with_capacity(2);
            for (m, s) in items {
                out.push(Reply::Bulk(m));
                out.push(Reply::Double(s));
            }
            Ok(Reply::Array(out))
        }
    }
}

/// ```text
/// ZPOPMIN key [count]
/// ```
pub fn zpopmin(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zpop_generic(shard, argv, false)
}

/// ```text
/// ZPOPMAX key [count]
/// ```
pub fn zpopmax(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    zpop_generic(shard, argv, true)
}

/// ```text
/// ZMPOP numkeys key [key ...] <MIN | MAX> [COUNT count]
/// ```
/// Pops from the first non-empty key; replies `[key, [[member, score], ...]]`
/// (nested in both protocols) or a null array.
pub fn zmpop(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let numkeys_err = || CmdError::Other("numkeys should be greater than 0".into());
    let numkeys = parse_i64(&argv[1]).filter(|&n| n >= 1).ok_or_else(numkeys_err)?;
    let where_idx = usize::try_from(numkeys).ok().and_then(|n| n.checked_add(2)).filter(|&w| w < argv.len()).ok_or(CmdError::Syntax)?;
    let max = if is_kw(&argv[where_idx], "min") {
        false
    } else if is_kw(&argv[where_idx], "max") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count: Option<i64> = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if count.is_none() && is_kw(&argv[j], "count") && more > 0 {
            j += 1;
            let c = parse_i64(&argv[j]).filter(|&c| c >= 1);
            count = Some(c.ok_or_else(|| CmdError::Other("count should be greater than 0".into()))?);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    for key in &argv[2..where_idx] {
        if let Some(items) = pop_extreme(shard, key, max, count)? {
            let pairs = items.into_iter().map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)])).collect();
            return Ok(Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Array(pairs)]));
        }
    }
    Ok(Reply::NilArray)
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER and ZSCAN

/// The most elements one ZRANDMEMBER with a negative count returns. Redis
/// has no bound (it would build the reply until memory runs out); this keeps
/// an absurd count from taking the server down.
const MAX_RANDOM_REPLY: u64 = 1 << 26;

/// ```text
/// ZRANDMEMBER key [count [WITHSCORES]]
/// ```
pub fn zrandmember(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    if argv.len() < 3 {
        let Some(z) = read(shard, &argv[1])? else { return Ok(Reply::Nil) };
        return Ok(z.get_by_rank(z.random_rank()).map_or(Reply::Nil, |(m, _)| Reply::Bulk(Bytes::copy_from_slice(m))));
    }
    let l = parse_long(&argv[2])?;
    if l == i64::MIN {
        return Err(CmdError::Other(format!("value is out of range, value must between {} and {}", -i64::MAX, i64::MAX)));
    }
    if argv.len() > 4 || (argv.len() == 4 && !is_kw(&argv[3], "withscores")) {
        return Err(CmdError::Syntax);
    }
    let withscores = argv.len() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::Other("value is out of range".into()));
    }
    let Some(z) = read(shard, &argv[1])? else { return empty_array() };
    if l == 0 {
        return empty_array();
    }
    let size = z.len();
    let pick = |r: usize| z.get_by_rank(r);
    let items: Vec<(Bytes, f64)> = if l < 0 || l == 1 {
        // Repetitions allowed, random order.
        let n = l.unsigned_abs();
        if n > MAX_RANDOM_REPLY {
            return Err(CmdError::Other("value is out of range".into()));
        }
        owned_pairs((0..n).filter_map(|_| pick(z.random_rank())))
    } else if l as u64 >= size as u64 {
        // The whole set; Redis answers it from the top down.
        owned_pairs(z.iter_from(size - 1, true))
    } else {
        owned_pairs(z.sample_distinct_ranks(l as usize).into_iter().filter_map(pick))
    };
    Ok(members_reply(items, withscores))
}

/// ```text
/// ZSCAN key cursor [MATCH pattern] [COUNT count]
/// ```
/// A small (listpack) set comes back whole with cursor 0, as in Redis; a
/// large one is walked by element slot, which an element keeps for as long
/// as it is in the set.
pub fn zscan(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let cursor = parse_cursor(&argv[2]).ok_or_else(|| CmdError::Other("invalid cursor".into()))?;
    let scan_reply = |cursor: u64, items: Vec<Reply>| Reply::Array(vec![Reply::Bulk(Bytes::from(cursor.to_string())), Reply::Array(items)]);
    let Some(z) = read(shard, &argv[1])? else { return Ok(scan_reply(0, Vec::new())) };
    let mut count = 10usize;
    let mut pattern: Option<&Bytes> = None;
    let mut i = 3;
    while i < argv.len() {
        let left = argv.len() - i;
        if is_kw(&argv[i], "count") && left >= 2 {
            let c = parse_long(&argv[i + 1])?;
            if c < 1 {
                return Err(CmdError::Syntax);
            }
            count = usize::try_from(c).unwrap_or(usize::MAX);
            i += 2;
        } else if is_kw(&argv[i], "match") && left >= 2 {
            pattern = Some(&argv[i + 1]).filter(|p| p.as_ref() != b"*");
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let (page, next) = z.scan(cursor, count);
    let mut out = Vec::with_capacity(page.len() * 2);
    for (m, s) in page {
        if pattern.is_some_and(|p| !store::glob::glob_match(p, m)) {
            continue;
        }
        out.push(Reply::Bulk(Bytes::copy_from_slice(m)));
        out.push(Reply::Bulk(Bytes::from(resp::format_double_g17(s))));
    }
    Ok(scan_reply(next, out))
}

// ---------------------------------------------------------------------------
// Set operations: ZUNION[STORE], ZINTER[STORE], ZDIFF[STORE], ZINTERCARD

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// Combines two weighted scores the way Redis does: a sum that comes out NaN
/// (inf + -inf) is 0; MIN/MAX keep the current value against a NaN.
fn aggregate(target: &mut f64, val: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// An input of a set operation: a sorted set, or a plain set whose members
/// all score 1.
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl<'a> Source<'a> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Z(z) => z.len(),
            Source::S(s) => s.len(),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Z(z) => z.score(m),
            Source::S(s) => s.contains(m).then_some(1.0),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (&'a [u8], f64)> + 'a> {
        match *self {
            Source::Missing => Box::new(std::iter::empty()),
            Source::Z(z) => Box::new(z.iter()),
            Source::S(s) => Box::new(s.iter().map(|m| (&m[..], 1.0))),
        }
    }
}

fn sort_elements(v: &mut [(Bytes, f64)]) {
    v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
}

/// The body shared by the set-operation commands. `numkeys_idx` is where
/// the key count sits; `dst` the destination of the STORE variants.
fn setop_generic(shard: &mut Shard, argv: &[Bytes], numkeys_idx: usize, dst: Option<&Bytes>, op: SetOp, card_only: bool) -> CmdResult {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let setnum = parse_long(&argv[numkeys_idx])?;
    if setnum < 1 {
        return Err(CmdError::Other(format!("at least 1 input key is needed for '{name}' command")));
    }
    let avail = (argv.len() - (numkeys_idx + 1)) as i64;
    if setnum > avail {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let keys = &argv[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    // Look every key up first (lazy expiry, statistics, type checks), then
    // borrow them all at once.
    for k in keys {
        match shard.get(k).map(|e| e.value) {
            None | Some(ValueRef::ZSet(_)) | Some(ValueRef::Set(_)) => {}
            Some(_) => return Err(CmdError::WrongType),
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: usize = 0;
    let mut j = numkeys_idx + 1 + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = &argv[j];
        if op != SetOp::Diff && !card_only && remaining > setnum && is_kw(a, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                *w = parse_score(&argv[j]).ok_or_else(|| CmdError::Other("weight value is not a float".into()))?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is_kw(a, "aggregate") {
            let v = &argv[j + 1];
            how = if is_kw(v, "sum") {
                Aggregate::Sum
            } else if is_kw(v, "min") {
                Aggregate::Min
            } else if is_kw(v, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if dst.is_none() && !card_only && is_kw(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is_kw(a, "limit") {
            let l = parse_non_negative(&argv[j + 1], "LIMIT can't be negative")?;
            limit = usize::try_from(l).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }

    let mut srcs: Vec<(Source, f64)> = keys
        .iter()
        .zip(weights)
        .map(|(k, w)| {
            let src = match shard.entry_raw(k).map(|e| e.value) {
                Some(ValueRef::ZSet(z)) => Source::Z(z),
                Some(ValueRef::Set(s)) => Source::S(s),
                _ => Source::Missing,
            };
            (src, w)
        })
        .collect();
    // Smallest inputs first, as Redis orders them (it changes the order in
    // which sums are added up). ZDIFF keeps its first input first.
    match op {
        SetOp::Diff => srcs[1..].sort_by_key(|(s, _)| s.len()),
        _ => srcs.sort_by_key(|(s, _)| s.len()),
    }

    let mut out: Vec<(Bytes, f64)> = Vec::new();
    let mut cardinality = 0usize;
    match op {
        SetOp::Inter => {
            if srcs[0].0.len() > 0 {
                let (first, w0) = srcs[0];
                for (m, s) in first.iter() {
                    let mut score = w0 * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    let mut everywhere = true;
                    for (src, w) in &srcs[1..] {
                        match src.score(m) {
                            Some(v) => aggregate(&mut score, v * w, how),
                            None => {
                                everywhere = false;
                                break;
                            }
                        }
                    }
                    if !everywhere {
                        continue;
                    }
                    if card_only {
                        cardinality += 1;
                        if limit > 0 && cardinality >= limit {
                            break;
                        }
                    } else {
                        out.push((Bytes::copy_from_slice(m), score));
                    }
                }
            }
        }
        SetOp::Union => {
            let mut acc: hashbrown::HashMap<Bytes, f64> = hashbrown::HashMap::new();
            for (src, w) in &srcs {
                for (m, s) in src.iter() {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(cur) => aggregate(cur, score, how),
                        None => {
                            acc.insert(Bytes::copy_from_slice(m), score);
                        }
                    }
                }
            }
            out = acc.into_iter().collect();
        }
        SetOp::Diff => {
            let (first, _) = srcs[0];
            for (m, s) in first.iter() {
                if !srcs[1..].iter().any(|(src, _)| src.score(m).is_some()) {
                    out.push((Bytes::copy_from_slice(m), s));
                }
            }
        }
    }
    if card_only {
        return Ok(Reply::Int(cardinality as i64));
    }
    sort_elements(&mut out);
    match dst {
        Some(d) => store_result(shard, d, ZSet::from_pairs(&out)),
        None => Ok(members_reply(out, withscores)),
    }
}

/// ```text
/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]
/// ```
pub fn zunionstore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let dst = argv[1].clone();
    setop_generic(shard, argv, 2, Some(&dst), SetOp::Union, false)
}

/// ```text
/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]
/// ```
pub fn zinterstore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let dst = argv[1].clone();
    setop_generic(shard, argv, 2, Some(&dst), SetOp::Inter, false)
}

/// ```text
/// ZDIFFSTORE destination numkeys key [key ...]
/// ```
pub fn zdiffstore(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    let dst = argv[1].clone();
    setop_generic(shard, argv, 2, Some(&dst), SetOp::Diff, false)
}

/// ```text
/// ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
/// ```
pub fn zunion(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    setop_generic(shard, argv, 1, None, SetOp::Union, false)
}

/// ```text
/// ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
/// ```
pub fn zinter(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    setop_generic(shard, argv, 1, None, SetOp::Inter, false)
}

/// ```text
/// ZDIFF numkeys key [key ...] [WITHSCORES]
/// ```
pub fn zdiff(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    setop_generic(shard, argv, 1, None, SetOp::Diff, false)
}

/// ```text
/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
/// ```
pub fn zintercard(shard: &mut Shard, argv: &[Bytes]) -> CmdResult {
    setop_generic(shard, argv, 1, None, SetOp::Inter, true)
}

/// The sorted set commands of this module. Commands whose keys follow a
/// count (ZUNIONSTORE dst numkeys k1 k2 [WEIGHTS ...]) declare every argument
/// from the first key on as a key: an over-approximation that is harmless
/// with `Scratch` (the extra "keys" are only fetched and compared).
#[rustfmt::skip]
pub(crate) static COMMANDS: &[CommandSpec] = &[
    cmd!("zadd", -4, ["write", "denyoom", "fast"], ["write", "sortedset", "fast"], 1, 1, 1, SH(zadd), No, "sorted-set", "1.2.0", "Add one or more members to a sorted set, or update its score if it already exists"),
    cmd!("zincrby", 4, ["write", "denyoom", "fast"], ["write", "sortedset", "fast"], 1, 1, 1, SH(zincrby), No, "sorted-set", "1.2.0", "Increment the score of a member in a sorted set"),
    cmd!("zrem", -3, ["write", "fast"], ["write", "sortedset", "fast"], 1, 1, 1, SH(zrem), No, "sorted-set", "1.2.0", "Remove one or more members from a sorted set"),
    cmd!("zcard", 2, ["readonly", "fast"], ["read", "sortedset", "fast"], 1, 1, 1, SH(zcard), No, "sorted-set", "1.2.0", "Get the number of members in a sorted set"),
    cmd!("zscore", 3, ["readonly", "fast"], ["read", "sortedset", "fast"], 1, 1, 1, SH(zscore), No, "sorted-set", "1.2.0", "Get the score associated with the given member in a sorted set"),
    cmd!("zmscore", -3, ["readonly", "fast"], ["read", "sortedset", "fast"], 1, 1, 1, SH(zmscore), No, "sorted-set", "6.2.0", "Get the score associated with the given members in a sorted set"),
    cmd!("zrank", 3, ["readonly", "fast"], ["read", "sortedset", "fast"], 1, 1, 1, SH(zrank), No, "sorted-set", "2.0.0", "Determine the index of a member in a sorted set"),
    cmd!("zrevrank", 3, ["readonly", "fast"], ["read", "sortedset", "fast"], 1, 1, 1, SH(zrevrank), No, "sorted-set", "2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low"),
    cmd!("zcount", 4, ["readonly", "fast"], ["read", "sortedset", "fast"], 1, 1, 1, SH(zcount), No, "sorted-set", "2.0.0", "Count the members in a sorted set with scores within the given values"),
    cmd!("zlexcount", 4, ["readonly", "fast"], ["read", "sortedset", "fast"], 1, 1, 1, SH(zlexcount), No, "sorted-set", "2.8.9", "Count the number of members in a sorted set between a given lexicographical range"),
    cmd!("zrange", -4, ["readonly"], ["read", "sortedset", "slow"], 1, 1, 1, SH(zrange), No, "sorted-set", "1.2.0", "Return a range of members in a sorted set"),
    cmd!("zrangestore", -5, ["write", "denyoom"], ["write", "sortedset", "slow"], 1, 2, 1, SH(zrangestore), Scratch, "sorted-set", "6.2.0", "Store a range of members from sorted set into another key"),
    cmd!("zrevrange", -4, ["readonly"], ["read", "sortedset", "slow"], 1, 1, 1, SH(zrevrange), No, "sorted-set", "1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low"),
    cmd!("zrangebyscore", -4, ["readonly"], ["read", "sortedset", "slow"], 1, 1, 1, SH(zrangebyscore), No, "sorted-set", "1.0.5", "Return a range of members in a sorted set, by score"),
    cmd!("zrevrangebyscore", -4, ["readonly"], ["read", "sortedset", "slow"], 1, 1, 1, SH(zrevrangebyscore), No, "sorted-set", "2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low"),
    cmd!("zrangebylex", -4, ["readonly"], ["read", "sortedset", "slow"], 1, 1, 1, SH(zrangebylex), No, "sorted-set", "2.8.9", "Return a range of members in a sorted set, by lexicographical range"),
    cmd!("zrevrangebylex", -4, ["readonly"], ["read", "sortedset", "slow"], 1, 1, 1, SH(zrevrangebylex), No, "sorted-set", "2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings."),
    cmd!("zremrangebyrank", 4, ["write"], ["write", "sortedset", "slow"], 1, 1, 1, SH(zremrangebyrank), No, "sorted-set", "2.0.0", "Remove all members in a sorted set within the given indexes"),
    cmd!("zremrangebyscore", 4, ["write"], ["write", "sortedset", "slow"], 1, 1, 1, SH(zremrangebyscore), No, "sorted-set", "1.2.0", "Remove all members in a sorted set within the given scores"),
    cmd!("zremrangebylex", 4, ["write"], ["write", "sortedset", "slow"], 1, 1, 1, SH(zremrangebylex), No, "sorted-set", "2.8.9", "Remove all members in a sorted set between the given lexicographical range"),
    cmd!("zpopmin", -2, ["write", "fast"], ["write", "sortedset", "fast"], 1, 1, 1, SH(zpopmin), No, "sorted-set", "5.0.0", "Remove and return members with the lowest scores in a sorted set"),
    cmd!("zpopmax", -2, ["write", "fast"], ["write", "sortedset", "fast"], 1, 1, 1, SH(zpopmax), No, "sorted-set", "5.0.0", "Remove and return members with the highest scores in a sorted set"),
    cmd!("zmpop", -4, ["write", "movablekeys"], ["write", "sortedset", "slow"], 2, -1, 1, SH(zmpop), Scratch, "sorted-set", "7.0.0", "Remove and return members with scores in a sorted set"),
    cmd!("zrandmember", -2, ["readonly"], ["read", "sortedset", "slow"], 1, 1, 1, SH(zrandmember), No, "sorted-set", "6.2.0", "Get one or multiple random elements from a sorted set"),
    cmd!("zscan", -3, ["readonly"], ["read", "sortedset", "slow"], 1, 1, 1, SH(zscan), No, "sorted-set", "2.8.0", "Incrementally iterate sorted sets elements and associated scores"),
    cmd!("zunionstore", -4, ["write", "denyoom", "movablekeys"], ["write", "sortedset", "slow"], 1, -1, 1, SH(zunionstore), Scratch, "sorted-set", "2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key"),
    cmd!("zinterstore", -4, ["write", "denyoom", "movablekeys"], ["write", "sortedset", "slow"], 1, -1, 1, SH(zinterstore), Scratch, "sorted-set", "2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key"),
    cmd!("zdiffstore", -4, ["write", "denyoom", "movablekeys"], ["write", "sortedset", "slow"], 1, -1, 1, SH(zdiffstore), Scratch, "sorted-set", "6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key"),
    cmd!("zunion", -3, ["readonly", "movablekeys"], ["read", "sortedset", "slow"], 2, -1, 1, SH(zunion), Scratch, "sorted-set", "6.2.0", "Add multiple sorted sets"),
    cmd!("zinter", -3, ["readonly", "movablekeys"], ["read", "sortedset", "slow"], 2, -1, 1, SH(zinter), Scratch, "sorted-set", "6.2.0", "Intersect multiple sorted sets"),
    cmd!("zdiff", -3, ["readonly", "movablekeys"], ["read", "sortedset", "slow"], 2, -1, 1, SH(zdiff), Scratch, "sorted-set", "6.2.0", "Subtract multiple sorted sets"),
    cmd!("zintercard", -3, ["readonly", "movablekeys"], ["read", "sortedset", "slow"], 2, -1, 1, SH(zintercard), Scratch, "sorted-set", "7.0.0", "Intersect multiple sorted sets and return the cardinality of the result"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_string2d() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"0x1p-2"), Some(0.25));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"1e-310"), Some(1e-310));
        assert_eq!(parse_score(b"1."), Some(1.0));
        assert_eq!(parse_score(b".5"), Some(0.5));
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"1e400", b"1e-400", b"abc", b"1e", b"0x", b"--1", b"."] {
            assert_eq!(parse_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn range_bounds_follow_strtod() {
        let b = |s: &[u8]| parse_score_bound(s).map(|x| (x.value, x.exclusive));
        assert_eq!(b(b""), Some((0.0, false)));
        assert_eq!(b(b"("), Some((0.0, true)));
        assert_eq!(b(b"  1"), Some((1.0, false)));
        assert_eq!(b(b"(1e400"), Some((f64::INFINITY, true)));
        assert_eq!(b(b" "), None);
        assert_eq!(b(b"1 "), None);
        assert_eq!(b(b"nan"), None);
        assert_eq!(b(b"0x"), None);
    }

    #[test]
    fn cursors_follow_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"1a"), None);
    }

    fn argv(args: &[&str]) -> Vec<Bytes> {
        args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
    }

    #[test]
    fn pop_extreme_for_blocking_pops() {
        let mut sh = Shard::new();
        assert_eq!(pop_extreme(&mut sh, b"z", false, 1), Ok(None));
        zadd(&mut sh, &argv(&["zadd", "z", "1", "a", "2", "b", "3", "c"])).unwrap();
        let got = pop_extreme(&mut sh, b"z", true, 2).unwrap().unwrap();
        assert_eq!(got, vec![(Bytes::from_static(b"c"), 3.0), (Bytes::from_static(b"b"), 2.0)]);
        assert_eq!(pop_extreme(&mut sh, b"z", false, 0).unwrap().map(|v| v.len()), Some(0));
        assert!(sh.contains(b"z"));
        let got = pop_extreme(&mut sh, b"z", false, 10).unwrap().unwrap();
        assert_eq!(got, vec![(Bytes::from_static(b"a"), 1.0)]);
        assert!(!sh.contains(b"z"), "emptied key is deleted");
        assert_eq!(sh.used_memory(), 0);
        sh.insert(b"s", Value::Str(Bytes::from_static(b"x")), None);
        assert_eq!(pop_extreme(&mut sh, b"s", false, 1), Err(CmdError::WrongType));
    }

    #[test]
    fn rank_bounds_like_redis() {
        assert_eq!(rank_bounds(0, -1, 5), Some((0, 4)));
        assert_eq!(rank_bounds(-100, -5, 5), Some((0, 0)));
        assert_eq!(rank_bounds(5, 1, 5), None);
        assert_eq!(rank_bounds(i64::MIN, i64::MAX, 5), Some((0, 4)));
        assert_eq!(rank_bounds(0, 0, 0), None);
    }
}
