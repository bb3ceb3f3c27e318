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
