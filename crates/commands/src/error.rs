//! Typed command errors, mapped to the exact Redis error strings in one place.

use resp::Reply;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CmdError {
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR value is not a valid float")]
    NotFloat,
    #[error("ERR syntax error")]
    Syntax,
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    #[error("ERR no such key")]
    NoSuchKey,
    #[error("ERR invalid expire time in '{0}' command")]
    InvalidExpire(String),
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(String),
    #[error("ERR {0}")]
    Other(String),
}

pub type CmdResult = Result<Reply, CmdError>;

impl From<CmdError> for Reply {
    fn from(e: CmdError) -> Reply {
        Reply::error(e.to_string())
    }
}

/// Flattens an op's result into the reply sent to the client.
pub fn to_reply(r: CmdResult) -> Reply {
    r.unwrap_or_else(Reply::from)
}
