//! Keyspace notifications (`notify-keyspace-events`): after a write, the
//! owning core publishes `__keyspace@0__:<key>` (event name as message) and
//! `__keyevent@0__:<event>` (key as message) to the subscribers of every
//! core, as Redis does for the classes the setting enables.

use crate::core::Core;
use bytes::Bytes;
use commands::CommandSpec;
use resp::Reply;

/// Whether class `c` is enabled by the flags (A = g$lshzxe).
fn class_on(flags: &str, c: char) -> bool {
    flags.contains(c) || (flags.contains('A') && "g$lshzxe".contains(c))
}

/// (class, event) of a successful write command, Redis's names.
fn event_of(spec: &CommandSpec) -> (char, &'static str) {
    let class = match spec.group {
        "string" => '$',
        "list" => 'l',
        "hash" => 'h',
        "set" => 's',
        "sorted-set" => 'z',
        _ => 'g',
    };
    let event = match spec.name {
        "set" | "setnx" | "setex" | "psetex" | "getset" | "mset" | "msetnx" => "set",
        "incr" | "decr" | "incrby" | "decrby" => "incrby",
        "del" | "unlink" | "getdel" => return ('g', "del"),
        "expire" | "pexpire" | "expireat" | "pexpireat" => return ('g', "expire"),
        "persist" => return ('g', "persist"),
        "restore" => return ('g', "restore"),
        "hmset" | "hsetnx" => "hset",
        "zincrby" => "zincr",
        "blpop" => "lpop",
        "brpop" => "rpop",
        "bzpopmin" => "zpopmin",
        "bzpopmax" => "zpopmax",
        other => other,
    };
    (class, event)
}

/// Whether a reply says nothing changed (a failed NX, zero removed...).
fn no_change(reply: &Reply) -> bool {
    matches!(reply, Reply::Nil | Reply::NilArray | Reply::Int(0))
}

impl Core {
    /// Publishes the notifications of a write that just ran on this core.
    pub fn notify_write(&self, spec: &CommandSpec, argv: &[Bytes], reply: &Reply) {
        let flags = {
            let cfg = self.config.borrow();
            if cfg.notify_keyspace_events.is_empty() {
                return;
            }
            cfg.notify_keyspace_events.clone()
        };
        if reply.is_error() || no_change(reply) {
            return;
        }
        let (class, event) = event_of(spec);
        if !class_on(&flags, class) {
            return;
        }
        let keys: Vec<&Bytes> = match spec.name {
            "rename" | "renamenx" => {
                self.notify_one(&flags, "rename_from", &argv[1]);
                self.notify_one(&flags, "rename_to", &argv[2]);
                return;
            }
            "del" | "unlink" | "mset" | "msetnx" => spec.key_indexes(argv.len()).map(|i| &argv[i]).collect(),
            _ => spec.key_indexes(argv.len()).take(1).map(|i| &argv[i]).collect(),
        };
        for k in keys {
            self.notify_one(&flags, event, k);
        }
        // A TTL set along with the value also tells "expire", as in Redis.
        let with_ttl = matches!(spec.name, "setex" | "psetex")
            || (spec.name == "set" && argv[3..].iter().any(|a| [&b"EX"[..], b"PX", b"EXAT", b"PXAT"].iter().any(|o| a.eq_ignore_ascii_case(o))));
        if with_ttl && class_on(&flags, 'g') {
            self.notify_one(&flags, "expire", &argv[1]);
        }
    }

    /// Publishes `expired` or `evicted` events for keys this core dropped.
    pub fn notify_dropped(&self, event: &'static str, keys: &[Bytes]) {
        let flags = self.config.borrow().notify_keyspace_events.clone();
        let class = if event == "expired" { 'x' } else { 'e' };
        if flags.is_empty() || !class_on(&flags, class) {
            return;
        }
        for k in keys {
            self.notify_one(&flags, event, k);
        }
    }

    fn notify_one(&self, flags: &str, event: &str, key: &Bytes) {
        if flags.contains('K') {
            let mut ch = b"__keyspace@0__:".to_vec();
            ch.extend_from_slice(key);
            self.publish_everywhere(Bytes::from(ch), Bytes::copy_from_slice(event.as_bytes()));
        }
        if flags.contains('E') {
            let ch = Bytes::from(format!("__keyevent@0__:{event}"));
            self.publish_everywhere(ch, key.clone());
        }
    }
}
