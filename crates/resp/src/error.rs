//! The error type shared by the request parser and the reply decoder.

/// A violation of the wire protocol.
///
/// `Display` yields the exact message Redis 7.0 sends for the same condition,
/// *without* the leading `ERR ` (the server adds it, replies `-ERR <msg>` and
/// then closes the connection). Variants that Redis has no equivalent for
/// (reply decoding, missing CRLF after a bulk payload) use messages in the same
/// style.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// `*<n>` where `n` is not a valid integer or exceeds `Limits::max_array_len`.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// The `*<n>` header line grew past the limit without a CR.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMultibulkCount,
    /// An element of a multibulk request did not start with `$`.
    #[error("Protocol error: expected '$', got '{}'", char::from(*.0))]
    ExpectedDollar(u8),
    /// `$<n>` where `n` is not a valid integer, negative, or exceeds `Limits::max_bulk_len`.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// The `$<n>` header line grew past the limit without a CR.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// A bulk payload was not followed by `\r\n`.
    #[error("Protocol error: expected CRLF after bulk")]
    ExpectedCrlfAfterBulk,
    /// An inline request grew past `Limits::max_inline_len` without a newline.
    #[error("Protocol error: too big inline request")]
    TooBigInlineRequest,
    /// An inline request had unterminated or badly closed quotes.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// Reply decoding: the first byte of a reply is not a known RESP2/RESP3 type.
    #[error("Protocol error: unknown reply type '{}'", char::from(*.0))]
    UnknownReplyType(u8),
    /// Reply decoding: a malformed reply (the payload says what was wrong).
    #[error("Protocol error: invalid reply: {0}")]
    InvalidReply(&'static str),
    /// Reply decoding: aggregates nested deeper than the decoder accepts.
    #[error("Protocol error: reply nested too deeply")]
    ReplyTooDeep,
}
