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
