//! The command table and the commands that run on a shard.
//!
//! One table ([`table()`]) registers every command with its arity, flags and key
//! positions. The server uses it for arity errors, `COMMAND`, and routing: the
//! keys of a command decide which core runs it. A command whose [`Exec`] is
//! [`Exec::Shard`] runs synchronously on the shard that owns its keys
//! (`op(shard, argv) -> Result<Reply, CmdError>`); [`Exec::Server`] commands
//! (PING, INFO, CLIENT, KEYS, ...) are connection-level or span all shards and
//! are carried out by the server. [`MultiKey`] says how the server splits a
//! multi-key command whose keys live on several cores.
//!
//! Modules: [`args`] (argument cursor, strict number parsing), [`error`]
//! (typed errors with Redis's strings), one module per command family
//! ([`strings`], [`keyspace`], [`list`], [`hash`], ...), each with its own
//! `COMMANDS` table that [`table()`] concatenates.

/// Builds a [`CommandSpec`] row; used by every command module.
macro_rules! cmd {
    ($name:literal, $arity:expr, [$($flag:literal),*], [$($acl:literal),*], $fk:expr, $lk:expr, $st:expr, $exec:expr, $multi:expr, $group:literal, $since:literal, $summary:literal) => {
        CommandSpec {
            name: $name, arity: $arity, flags: &[$($flag),*], acl: &[$($acl),*],
            first_key: $fk, last_key: $lk, step: $st, exec: $exec, multi: $multi,
            summary: $summary, since: $since, group: $group, bits: crate::flag_bits(&[$($flag),*]),
        }
    };
}

pub mod args;
pub mod blocking;
pub mod error;
pub mod generic;
pub mod hash;
pub mod keyspace;
pub mod list;
pub mod set;
pub mod strings;
pub mod zset;

use bytes::Bytes;
pub use error::{to_reply, CmdError, CmdResult};
use store::Shard;

/// A command body that runs on the shard owning its keys.
pub type ShardOp = fn(&mut Shard, &[Bytes]) -> CmdResult;

/// Who carries a command out.
#[derive(Clone, Copy)]
pub enum Exec {
    Shard(ShardOp),
    Server,
    /// A blocking command (BLPOP...): the op tries once and answers
    /// `Ok(None)` when it would block; the server parks the client on the
    /// owning core and retries when one of its keys is written.
    Blocking(BlockOp),
}

/// One attempt of a blocking command: `Ok(None)` means "nothing to serve yet".
pub type BlockOp = fn(&mut Shard, &[Bytes]) -> Result<Option<resp::Reply>, CmdError>;

/// The reply of a blocking command whose timeout expired: a null array for
/// every one of them in Redis 7.0, BLMOVE and BRPOPLPUSH included.
pub fn block_timeout_reply(_spec: &CommandSpec) -> resp::Reply {
    resp::Reply::NilArray
}

/// Where the timeout argument of a blocking command is.
pub fn block_timeout_index(spec: &CommandSpec, argc: usize) -> usize {
    match spec.name {
        "blmpop" | "bzmpop" => 1,
        _ => argc - 1,
    }
}

/// Parses a blocking timeout (seconds, fractional allowed; 0 = forever).
pub fn parse_block_timeout(arg: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    let secs = args::parse_f64(arg).filter(|v| v.is_finite()).ok_or_else(|| CmdError::Other("timeout is not a float or out of range".into()))?;
    if secs < 0.0 {
        return Err(CmdError::Other("timeout is negative".into()));
    }
    Ok(if secs == 0.0 { None } else { Some(std::time::Duration::from_secs_f64(secs.min(1e9))) })
}

/// How the server splits a command whose keys live on several cores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MultiKey {
    /// All keys must be on one core (single-key commands).
    No,
    /// Run per core on its keys and add the integer replies (DEL, EXISTS, ...).
    SumInts,
    /// Run per core on its keys and put the array replies back in key order (MGET).
    Gather,
    /// key/value pairs set per core (MSET).
    Pairs,
    /// key/value pairs set only when no key exists anywhere (MSETNX).
    PairsNx,
    /// Move one key's entry to another key (RENAME, RENAMENX).
    Move { nx: bool },
    /// Any other multi-key command (SMOVE, LMOVE, SUNIONSTORE, ZUNIONSTORE,
    /// COPY...): the server takes the gates of every core involved, copies
    /// the entries of all the keys into a scratch shard, runs the ordinary
    /// shard op there, and writes the keys back to their owners (write
    /// commands only). Atomic like the others, at the cost of copying values.
    Scratch,
}

/// One row of the command table.
#[derive(Clone)]
pub struct CommandSpec {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis arity: N means exactly N arguments (name included), -N at least N.
    pub arity: i32,
    pub flags: &'static [&'static str],
    /// ACL categories without the leading '@'.
    pub acl: &'static [&'static str],
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub exec: Exec,
    pub multi: MultiKey,
    /// One-line summary for COMMAND DOCS.
    pub summary: &'static str,
    pub since: &'static str,
    pub group: &'static str,
    /// The hot-path flags as bits (`FLAG_*`), computed from `flags` at compile time.
    pub bits: u8,
}

pub const FLAG_WRITE: u8 = 1;
pub const FLAG_DENYOOM: u8 = 2;
pub const FLAG_LOADING: u8 = 4;
pub const FLAG_READONLY: u8 = 8;

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn flag_bits(flags: &[&str]) -> u8 {
    let mut bits = 0;
    let mut i = 0;
    while i < flags.len() {
        let f = flags[i];
        if same(f, "write") {
            bits |= FLAG_WRITE;
        } else if same(f, "denyoom") {
            bits |= FLAG_DENYOOM;
        } else if same(f, "loading") {
            bits |= FLAG_LOADING;
        } else if same(f, "readonly") {
            bits |= FLAG_READONLY;
        }
        i += 1;
    }
    bits
}

impl CommandSpec {
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        if a >= 0 {
            argc == a as usize
        } else {
            argc >= (-a) as usize
        }
    }

    /// Indexes of the key arguments in `argv` (of length `argc`).
    pub fn key_indexes(&self, argc: usize) -> impl Iterator<Item = usize> {
        let (first, last) = self.key_span(argc).unwrap_or((1, 0));
        (first..=last).step_by(self.step.max(1) as usize)
    }

    /// Index of the first key argument: `key_indexes(argc).next()` without
    /// building the iterator (it runs several times per request).
    pub fn first_key_index(&self, argc: usize) -> Option<usize> {
        self.key_span(argc).map(|(first, _)| first)
    }

    /// First and last key index for `argc` arguments; None without keys.
    fn key_span(&self, argc: usize) -> Option<(usize, usize)> {
        if self.first_key <= 0 || self.first_key as usize >= argc {
            return None;
        }
        let first = self.first_key as usize;
        let last = if self.last_key < 0 {
            (argc as i64 + self.last_key as i64).max(0) as usize
        } else {
            (self.last_key as usize).min(argc - 1)
        };
        (first <= last).then_some((first, last))
    }

    pub fn is_write(&self) -> bool {
        self.bits & FLAG_WRITE != 0
    }

    pub fn has(&self, flag: u8) -> bool {
        self.bits & flag != 0
    }
}

use keyspace as k;
use strings as s;
use Exec::{Server as SRV, Shard as SH};
use MultiKey::No;

/// Connection, server, string and keyspace commands.
#[rustfmt::skip]
static CORE_COMMANDS: &[CommandSpec] = &[
    // connection and server
    cmd!("ping", -1, ["fast", "sentinel"], ["fast", "connection"], 0, 0, 0, SRV, No, "connection", "1.0.0", "Returns the server's liveliness response."),
    cmd!("echo", 2, ["fast"], ["fast", "connection"], 0, 0, 0, SRV, No, "connection", "1.0.0", "Returns the given string."),
    cmd!("hello", -1, ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], ["fast", "connection"], 0, 0, 0, SRV, No, "connection", "6.0.0", "Handshakes with the Redis server."),
    cmd!("quit", -1, ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], ["fast", "connection"], 0, 0, 0, SRV, No, "connection", "1.0.0", "Closes the connection."),
    cmd!("select", 2, ["loading", "stale", "fast"], ["fast", "connection"], 0, 0, 0, SRV, No, "connection", "1.0.0", "Changes the selected database."),
    cmd!("command", -1, ["loading", "stale"], ["slow", "connection"], 0, 0, 0, SRV, No, "server", "2.8.13", "Returns detailed information about all commands."),
    cmd!("client", -2, ["sentinel"], ["slow"], 0, 0, 0, SRV, No, "connection", "2.4.0", "A container for client connection commands."),
    cmd!("info", -1, ["loading", "stale"], ["slow", "dangerous"], 0, 0, 0, SRV, No, "server", "1.0.0", "Returns information and statistics about the server."),
    cmd!("config", -2, [], ["slow"], 0, 0, 0, SRV, No, "server", "2.0.0", "A container for server configuration commands."),
    cmd!("dbsize", 1, ["readonly", "fast"], ["keyspace", "read", "fast"], 0, 0, 0, SRV, No, "server", "1.0.0", "Returns the number of keys in the database."),
    cmd!("flushdb", -1, ["write"], ["keyspace", "write", "slow", "dangerous"], 0, 0, 0, SRV, No, "server", "1.0.0", "Removes all keys from the current database."),
    cmd!("flushall", -1, ["write"], ["keyspace", "write", "slow", "dangerous"], 0, 0, 0, SRV, No, "server", "1.0.0", "Removes all keys from all databases."),
    cmd!("keys", 2, ["readonly"], ["keyspace", "read", "slow", "dangerous"], 0, 0, 0, SRV, No, "generic", "1.0.0", "Returns all key names that match a pattern."),
    cmd!("scan", -2, ["readonly"], ["keyspace", "read", "slow"], 0, 0, 0, SRV, No, "generic", "2.8.0", "Iterates over the key names in the database."),
    cmd!("randomkey", 1, ["readonly"], ["keyspace", "read", "slow"], 0, 0, 0, SRV, No, "generic", "1.0.0", "Returns a random key name from the database."),
    cmd!("auth", -2, ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], ["fast", "connection"], 0, 0, 0, SRV, No, "connection", "1.0.0", "Authenticates the connection."),
    cmd!("subscribe", -2, ["pubsub", "noscript", "loading", "stale"], ["pubsub", "slow"], 0, 0, 0, SRV, No, "pubsub", "2.0.0", "Listens for messages published to channels."),
    cmd!("unsubscribe", -1, ["pubsub", "noscript", "loading", "stale"], ["pubsub", "slow"], 0, 0, 0, SRV, No, "pubsub", "2.0.0", "Stops listening to messages posted to channels."),
    cmd!("psubscribe", -2, ["pubsub", "noscript", "loading", "stale"], ["pubsub", "slow"], 0, 0, 0, SRV, No, "pubsub", "2.0.0", "Listens for messages published to channels that match one or more patterns."),
    cmd!("punsubscribe", -1, ["pubsub", "noscript", "loading", "stale"], ["pubsub", "slow"], 0, 0, 0, SRV, No, "pubsub", "2.0.0", "Stops listening to messages published to channels that match one or more patterns."),
    cmd!("ssubscribe", -2, ["pubsub", "noscript", "loading", "stale"], ["pubsub", "slow"], 0, 0, 0, SRV, No, "pubsub", "7.0.0", "Listens for messages published to shard channels."),
    cmd!("sunsubscribe", -1, ["pubsub", "noscript", "loading", "stale"], ["pubsub", "slow"], 0, 0, 0, SRV, No, "pubsub", "7.0.0", "Stops listening to messages posted to shard channels."),
    cmd!("publish", 3, ["pubsub", "loading", "stale", "fast", "may_replicate"], ["pubsub", "fast"], 0, 0, 0, SRV, No, "pubsub", "2.0.0", "Posts a message to a channel."),
    cmd!("spublish", 3, ["pubsub", "loading", "stale", "fast", "may_replicate"], ["pubsub", "fast"], 0, 0, 0, SRV, No, "pubsub", "7.0.0", "Post a message to a shard channel"),
    cmd!("pubsub", -2, ["pubsub", "loading", "stale"], ["pubsub", "slow"], 0, 0, 0, SRV, No, "pubsub", "2.8.0", "A container for Pub/Sub commands."),
    cmd!("reset", 1, ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], ["fast", "connection"], 0, 0, 0, SRV, No, "connection", "6.2.0", "Resets the connection."),
    cmd!("multi", 1, ["noscript", "loading", "stale", "fast", "allow_busy"], ["fast", "transaction"], 0, 0, 0, SRV, No, "transactions", "1.2.0", "Starts a transaction."),
    cmd!("exec", 1, ["noscript", "loading", "stale", "skip_slowlog"], ["slow", "transaction"], 0, 0, 0, SRV, No, "transactions", "1.2.0", "Executes all commands in a transaction."),
    cmd!("discard", 1, ["noscript", "loading", "stale", "fast", "allow_busy"], ["fast", "transaction"], 0, 0, 0, SRV, No, "transactions", "2.0.0", "Discards a transaction."),
    cmd!("watch", -2, ["noscript", "loading", "stale", "fast", "allow_busy"], ["fast", "transaction"], 1, -1, 1, SRV, No, "transactions", "2.2.0", "Monitors changes to keys to determine the execution of a transaction."),
    cmd!("unwatch", 1, ["noscript", "loading", "stale", "fast", "allow_busy"], ["fast", "transaction"], 0, 0, 0, SRV, No, "transactions", "2.2.0", "Forgets about watched keys of a transaction."),
    cmd!("save", 1, ["admin", "noscript", "no_async_loading", "no_multi"], ["admin", "slow", "dangerous"], 0, 0, 0, SRV, No, "server", "1.0.0", "Synchronously saves the database(s) to disk."),
    cmd!("bgsave", -1, ["admin", "noscript", "no_async_loading"], ["admin", "slow", "dangerous"], 0, 0, 0, SRV, No, "server", "1.0.0", "Asynchronously saves the database(s) to disk."),
    cmd!("bgrewriteaof", 1, ["admin", "noscript", "no_async_loading"], ["admin", "slow", "dangerous"], 0, 0, 0, SRV, No, "server", "1.0.0", "Asynchronously rewrites the append-only file to disk."),
    cmd!("shutdown", -1, ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"], ["admin", "slow", "dangerous"], 0, 0, 0, SRV, No, "server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server."),
    cmd!("lastsave", 1, ["loading", "stale", "fast"], ["fast", "dangerous"], 0, 0, 0, SRV, No, "server", "1.0.0", "Returns the Unix timestamp of the last successful save to disk."),
    cmd!("time", 1, ["loading", "stale", "fast"], ["fast"], 0, 0, 0, SRV, No, "server", "2.6.0", "Returns the server time."),
    cmd!("cluster", -2, [], ["slow"], 0, 0, 0, SRV, No, "cluster", "3.0.0", "A container for Redis Cluster commands."),
    cmd!("readonly", 1, ["loading", "stale", "fast"], ["fast", "connection"], 0, 0, 0, SRV, No, "cluster", "3.0.0", "Enables read-only queries for a connection to a Redis Cluster replica node."),
    cmd!("readwrite", 1, ["loading", "stale", "fast"], ["fast", "connection"], 0, 0, 0, SRV, No, "cluster", "3.0.0", "Enables read-write queries for a connection to a Reids Cluster replica node."),
    cmd!("asking", 1, ["fast"], ["fast", "connection"], 0, 0, 0, SRV, No, "cluster", "3.0.0", "Signals that a cluster client is following an -ASK redirect."),
    // strings
    cmd!("get", 2, ["readonly", "fast"], ["read", "string", "fast"], 1, 1, 1, SH(s::get), No, "string", "1.0.0", "Returns the string value of a key."),
    cmd!("set", -3, ["write", "denyoom"], ["write", "string", "slow"], 1, 1, 1, SH(s::set), No, "string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."),
    cmd!("setnx", 3, ["write", "denyoom", "fast"], ["write", "string", "fast"], 1, 1, 1, SH(s::setnx), No, "string", "1.0.0", "Set the string value of a key only when the key doesn't exist."),
    cmd!("setex", 4, ["write", "denyoom"], ["write", "string", "slow"], 1, 1, 1, SH(s::setex), No, "string", "2.0.0", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."),
    cmd!("psetex", 4, ["write", "denyoom"], ["write", "string", "slow"], 1, 1, 1, SH(s::psetex), No, "string", "2.6.0", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist."),
    cmd!("getset", 3, ["write", "denyoom", "fast"], ["write", "string", "fast"], 1, 1, 1, SH(s::getset), No, "string", "1.0.0", "Returns the previous string value of a key after setting it to a new value."),
    cmd!("getdel", 2, ["write", "fast"], ["write", "string", "fast"], 1, 1, 1, SH(s::getdel), No, "string", "6.2.0", "Returns the string value of a key after deleting the key."),
    cmd!("getex", -2, ["write", "fast"], ["write", "string", "fast"], 1, 1, 1, SH(s::getex), No, "string", "6.2.0", "Returns the string value of a key after setting its expiration time."),
    cmd!("mget", -2, ["readonly", "fast"], ["read", "string", "fast"], 1, -1, 1, SH(s::mget), MultiKey::Gather, "string", "1.0.0", "Atomically returns the string values of one or more keys."),
    cmd!("mset", -3, ["write", "denyoom"], ["write", "string", "slow"], 1, -1, 2, SH(s::mset), MultiKey::Pairs, "string", "1.0.1", "Atomically creates or modifies the string values of one or more keys."),
    cmd!("msetnx", -3, ["write", "denyoom"], ["write", "string", "slow"], 1, -1, 2, SH(s::msetnx), MultiKey::PairsNx, "string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist."),
    cmd!("append", 3, ["write", "denyoom", "fast"], ["write", "string", "fast"], 1, 1, 1, SH(s::append), No, "string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist."),
    cmd!("strlen", 2, ["readonly", "fast"], ["read", "string", "fast"], 1, 1, 1, SH(s::strlen), No, "string", "2.2.0", "Returns the length of a string value."),
    cmd!("incr", 2, ["write", "denyoom", "fast"], ["write", "string", "fast"], 1, 1, 1, SH(s::incr), No, "string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    cmd!("decr", 2, ["write", "denyoom", "fast"], ["write", "string", "fast"], 1, 1, 1, SH(s::decr), No, "string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    cmd!("incrby", 3, ["write", "denyoom", "fast"], ["write", "string", "fast"], 1, 1, 1, SH(s::incrby), No, "string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    cmd!("decrby", 3, ["write", "denyoom", "fast"], ["write", "string", "fast"], 1, 1, 1, SH(s::decrby), No, "string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."),
    cmd!("incrbyfloat", 3, ["write", "denyoom", "fast"], ["write", "string", "fast"], 1, 1, 1, SH(s::incrbyfloat), No, "string", "2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    cmd!("getrange", 4, ["readonly"], ["read", "string", "slow"], 1, 1, 1, SH(s::getrange), No, "string", "2.4.0", "Returns a substring of the string stored at a key."),
    cmd!("setrange", 4, ["write", "denyoom"], ["write", "string", "slow"], 1, 1, 1, SH(s::setrange), No, "string", "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."),
    // keyspace
    cmd!("del", -2, ["write"], ["keyspace", "write", "slow"], 1, -1, 1, SH(k::del), MultiKey::SumInts, "generic", "1.0.0", "Deletes one or more keys."),
    cmd!("unlink", -2, ["write", "fast"], ["keyspace", "write", "fast"], 1, -1, 1, SH(k::del), MultiKey::SumInts, "generic", "4.0.0", "Asynchronously deletes one or more keys."),
    cmd!("exists", -2, ["readonly", "fast"], ["keyspace", "read", "fast"], 1, -1, 1, SH(k::exists), MultiKey::SumInts, "generic", "1.0.0", "Determines whether one or more keys exist."),
    cmd!("touch", -2, ["readonly", "fast"], ["keyspace", "read", "fast"], 1, -1, 1, SH(k::touch), MultiKey::SumInts, "generic", "3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed."),
    cmd!("type", 2, ["readonly", "fast"], ["keyspace", "read", "fast"], 1, 1, 1, SH(k::type_), No, "generic", "1.0.0", "Determines the type of value stored at a key."),
    cmd!("rename", 3, ["write"], ["keyspace", "write", "slow"], 1, 2, 1, SH(k::rename), MultiKey::Move { nx: false }, "generic", "1.0.0", "Renames a key and overwrites the destination."),
    cmd!("renamenx", 3, ["write", "fast"], ["keyspace", "write", "fast"], 1, 2, 1, SH(k::renamenx), MultiKey::Move { nx: true }, "generic", "1.0.0", "Renames a key only when the target key name doesn't exist."),
    cmd!("expire", -3, ["write", "fast"], ["keyspace", "write", "fast"], 1, 1, 1, SH(k::expire), No, "generic", "1.0.0", "Sets the expiration time of a key in seconds."),
    cmd!("pexpire", -3, ["write", "fast"], ["keyspace", "write", "fast"], 1, 1, 1, SH(k::pexpire), No, "generic", "2.6.0", "Sets the expiration time of a key in milliseconds."),
    cmd!("expireat", -3, ["write", "fast"], ["keyspace", "write", "fast"], 1, 1, 1, SH(k::expireat), No, "generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp."),
    cmd!("pexpireat", -3, ["write", "fast"], ["keyspace", "write", "fast"], 1, 1, 1, SH(k::pexpireat), No, "generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
    cmd!("ttl", 2, ["readonly", "fast"], ["keyspace", "read", "fast"], 1, 1, 1, SH(k::ttl), No, "generic", "1.0.0", "Returns the expiration time in seconds of a key."),
    cmd!("pttl", 2, ["readonly", "fast"], ["keyspace", "read", "fast"], 1, 1, 1, SH(k::pttl), No, "generic", "2.6.0", "Returns the expiration time in milliseconds of a key."),
    cmd!("expiretime", 2, ["readonly", "fast"], ["keyspace", "read", "fast"], 1, 1, 1, SH(k::expiretime), No, "generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp."),
    cmd!("pexpiretime", 2, ["readonly", "fast"], ["keyspace", "read", "fast"], 1, 1, 1, SH(k::pexpiretime), No, "generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
    cmd!("persist", 2, ["write", "fast"], ["keyspace", "write", "fast"], 1, 1, 1, SH(k::persist), No, "generic", "2.2.0", "Removes the expiration time of a key."),
];

/// Every command redcore knows: the core table followed by each data type's
/// module table. Built once; indexes into it are stable for the process.
pub fn table() -> &'static [CommandSpec] {
    static TABLE: std::sync::OnceLock<Vec<CommandSpec>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let parts: &[&[CommandSpec]] = &[CORE_COMMANDS, list::COMMANDS, hash::COMMANDS, generic::COMMANDS, blocking::COMMANDS, set::COMMANDS, zset::COMMANDS];
        parts.iter().flat_map(|p| p.iter().cloned()).collect()
    })
}

/// The name Redis uses for a command in errors: `client|id` for the
/// subcommands of container commands, the plain name otherwise.
pub fn full_name(spec: &CommandSpec, argv: &[Bytes]) -> String {
    const CONTAINERS: &[&str] = &["client", "config", "command", "pubsub", "cluster", "object"];
    match argv.get(1) {
        Some(sub) if CONTAINERS.contains(&spec.name) => format!("{}|{}", spec.name, String::from_utf8_lossy(sub).to_ascii_lowercase()),
        _ => spec.name.to_string(),
    }
}

/// Whether a write command's reply says it changed nothing (SADD of present
/// members, SREM/HDEL/ZREM/LREM of absent ones, EXPIRE on a missing key...),
/// so WATCH does not see a modification, as in Redis.
pub fn changed_nothing(spec: &CommandSpec, reply: &resp::Reply) -> bool {
    const COUNTING: &[&str] = &[
        "sadd", "srem", "hdel", "lrem", "zrem", "linsert", "smove", "hsetnx", "setnx", "msetnx", "persist", "expire", "pexpire",
        "expireat", "pexpireat", "zremrangebyscore", "zremrangebyrank", "zremrangebylex", "del", "unlink", "renamenx",
    ];
    match reply {
        resp::Reply::Int(0) => COUNTING.contains(&spec.name),
        resp::Reply::Int(-1) => spec.name == "linsert",
        // (Not SET: with GET it answers nil after writing a new key.)
        resp::Reply::Nil | resp::Reply::NilArray => matches!(spec.name, "lpop" | "rpop" | "spop" | "getdel" | "lmove" | "rpoplpush"),
        resp::Reply::Error(_) => true,
        _ => false,
    }
}

/// Finds a command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    lookup_index(name).map(|i| &table()[i])
}

/// Redis's reply to a command it does not know.
pub fn unknown_command_error(argv: &[Bytes]) -> CmdError {
    let mut msg = format!("unknown command '{}', with args beginning with: ", truncate_lossy(&argv[0]));
    for a in argv.iter().skip(1).take(20) {
        msg.push_str(&format!("'{}' ", truncate_lossy(a)));
    }
    CmdError::Other(msg)
}

fn truncate_lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(128)]).into_owned()
}

/// Runs a shard command: checks arity and dispatches. The caller has already
/// routed it to the shard that owns its keys.
pub fn run_on_shard(spec: &CommandSpec, shard: &mut Shard, argv: &[Bytes]) -> resp::Reply {
    shard.stats.commands_processed += 1;
    match spec.exec {
        Exec::Shard(op) => to_reply(op(shard, argv)),
        // Where a client cannot block (inside MULTI, scripts), one attempt.
        Exec::Blocking(op) => match op(shard, argv) {
            Ok(Some(r)) => r,
            // Not a timeout: the reply of the non-blocking twin (LMOVE's nil bulk).
            Ok(None) if matches!(spec.name, "blmove" | "brpoplpush") => resp::Reply::Nil,
            Ok(None) => block_timeout_reply(spec),
            Err(e) => e.into(),
        },
        Exec::Server => resp::Reply::error("ERR internal routing error"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn flag_bits_follow_the_flags() {
        for spec in super::table() {
            for (bit, name) in [(super::FLAG_WRITE, "write"), (super::FLAG_DENYOOM, "denyoom"), (super::FLAG_LOADING, "loading"), (super::FLAG_READONLY, "readonly")] {
                assert_eq!(spec.has(bit), spec.flags.contains(&name), "{} {name}", spec.name);
            }
        }
    }

    use super::*;

    #[test]
    fn names_are_unique_and_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for c in table() {
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(seen.insert(c.name), "{}", c.name);
        }
    }

    #[test]
    fn key_positions() {
        let mset = lookup(b"MSET").unwrap();
        assert_eq!(mset.key_indexes(5).collect::<Vec<_>>(), vec![1, 3]);
        let get = lookup(b"get").unwrap();
        assert_eq!(get.key_indexes(2).collect::<Vec<_>>(), vec![1]);
        let ping = lookup(b"ping").unwrap();
        assert_eq!(ping.key_indexes(1).count(), 0);
        let rename = lookup(b"rename").unwrap();
        assert_eq!(rename.key_indexes(3).collect::<Vec<_>>(), vec![1, 2]);
    }
}

/// A cheap multiply-rotate hash for the fixed set of command names (every
/// request looks one up; SipHash's flooding resistance buys nothing here).
#[derive(Default)]
struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Position of a command in [`table()`], case-insensitively.
pub fn lookup_index(name: &[u8]) -> Option<usize> {
    type Index = std::collections::HashMap<&'static [u8], usize, std::hash::BuildHasherDefault<NameHasher>>;
    static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
    let mut buf = [0u8; 32];
    let lower = buf.get_mut(..name.len())?;
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let index = INDEX.get_or_init(|| table().iter().enumerate().map(|(i, c)| (c.name.as_bytes(), i)).collect());
    index.get(&*lower).copied()
}
