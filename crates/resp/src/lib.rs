//! RESP (REdis Serialization Protocol) wire format for redcore.
//!
//! This crate turns bytes into requests and replies into bytes. It knows
//! nothing about sockets or commands: the server owns the read/write buffers
//! and hands them to this crate.
//!
//! Layout:
//!
//! * `request.rs`: [`RequestParser`], the
//!   incremental, resumable parser of client requests (multibulk
//!   `*<n>\r\n$<len>\r\n...` and inline lines), with the size [`Limits`] it
//!   enforces. Protocol errors mirror Redis 7.0's messages exactly.
//! * `inline.rs`: splitting of inline lines into arguments with redis-cli
//!   style quoting.
//! * `reply.rs`: the [`Reply`] value and its encoding for [`Protocol::Resp2`]
//!   and [`Protocol::Resp3`] clients.
//! * `decode.rs`: [`parse_reply`], a client-side reply decoder (RESP2 and
//!   RESP3) for load generators and tests.
//! * `double.rs`: [`format_double_g17`], C's `%.17g` formatting used for
//!   double replies.
//! * `error.rs`: [`ProtocolError`], whose `Display` is the Redis error text
//!   without the `ERR ` prefix.
//! * `number.rs`: strict integer parsing (Redis' `string2ll` rules) and fast
//!   integer formatting.

mod decode;
mod double;
mod error;
mod inline;
mod number;
mod reply;
mod request;

pub use bytes::{Bytes, BytesMut};

pub use decode::parse_reply;
pub use double::format_double_g17;
pub use error::ProtocolError;
pub use number::format_i64;
pub use reply::{Protocol, Reply};
pub use request::{Limits, RequestParser};

#[cfg(test)]
mod tests;
