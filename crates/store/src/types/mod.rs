//! Container value types. Each keeps its element count and a running byte
//! count, and knows which Redis 7.0 encoding name describes it.

pub mod hash;
pub mod list;
pub mod set;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use zset::ZSet;

/// The positions one SCAN step visits in an indexed container walked from
/// its end: `cursor` is the number of positions still to visit (0 starts),
/// the step returns the range to emit (in reverse) and the next cursor.
pub(crate) fn scan_window(cursor: u64, count: usize, len: usize) -> (std::ops::Range<usize>, u64) {
    let len = len as u64;
    let end = if cursor == 0 || cursor > len { len } else { cursor };
    let start = end.saturating_sub(count.max(1) as u64);
    (start as usize..end as usize, start)
}

/// Replaces `buf[range]` with the concatenation of `parts`, leaving the
/// buffer exactly as long as its content, as a listpack is (the packed
/// hashes and sorted sets).
pub(crate) fn splice(buf: &mut Box<[u8]>, range: std::ops::Range<usize>, parts: &[&[u8]]) {
    let added: usize = parts.iter().map(|p| p.len()).sum();
    let old = buf.len();
    let new = old - range.len() + added;
    let mut v = std::mem::take(buf).into_vec();
    if new > old {
        v.reserve_exact(new - old);
        v.resize(new, 0);
    }
    v.copy_within(range.end..old, range.start + added);
    v.truncate(new);
    let mut at = range.start;
    for p in parts {
        v[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    // Exact capacity after growing; a shrink reallocates (usually in place).
    *buf = v.into_boxed_slice();
}
