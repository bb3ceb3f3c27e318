//! MULTI / EXEC / DISCARD / WATCH / UNWATCH.
//!
//! Commands after MULTI are checked (name, arity) and queued. EXEC takes the
//! gates of every core its queued commands and watched keys touch (all cores
//! when a queued command spans the keyspace, like DBSIZE or FLUSHALL), lowest
//! core first as every multi-core command does, then checks the WATCHed
//! versions, runs the queue in order on behalf of the transaction, and
//! releases the gates: no other client's command runs on those cores in
//! between, so the transaction is atomic across cores.
//!
//! WATCH registers the key on its owning shard, which gives it a new
//! version on every write (by any connection on any core, and on expiry,
//! eviction and flushes); EXEC aborts with a null reply when a version moved.

use crate::conn::Conn;
use crate::core::{Op, Out, TxId};
use bytes::Bytes;
use commands::{CmdError, Exec, MultiKey};
use resp::Reply;
use std::collections::{BTreeMap, BTreeSet};

/// A transaction being queued.
#[derive(Default)]
pub struct MultiState {
    pub queued: Vec<(usize, Vec<Bytes>)>,
    /// A command was refused while queueing: EXEC must abort.
    pub dirty: bool,
}

/// Server commands that stay on the connection's core. Every other server
/// command (DBSIZE, FLUSHALL, PUBLISH, PUBSUB, CLIENT LIST, INFO...) talks to
/// every core, so a transaction that queues one must hold every core's gate:
/// reaching a core whose gate it does not hold would break the ascending
/// lock order and could deadlock against another multi-core command.
fn stays_local(name: &str) -> bool {
    matches!(
        name,
        "ping" | "echo" | "time" | "select" | "hello" | "auth" | "command" | "quit" | "reset" | "unwatch" | "lastsave"
            | "subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe" | "ssubscribe" | "sunsubscribe"
    )
}

/// WATCH key [key ...]
pub async fn watch(conn: &mut Conn, argv: &[Bytes]) -> Reply {
    if conn.multi.is_some() {
        return Reply::error("ERR WATCH inside MULTI is not allowed");
    }
    let mut by_core: BTreeMap<usize, Vec<Bytes>> = BTreeMap::new();
    for k in &argv[1..] {
        if conn.watched.iter().any(|(_, w, _)| w == k) {
            continue;
        }
        by_core.entry(conn.core.node.core_of_key(k)).or_default().push(k.clone());
    }
    for (c, keys) in by_core {
        let outs = conn.core.call(c, None, vec![Op::WatchKeys(keys.clone())]).await;
        if let Some(Out::Versions(v)) = outs.into_iter().next() {
            for (k, ver) in keys.into_iter().zip(v) {
                conn.watched.push((c, k, ver));
            }
        }
    }
    Reply::ok()
}

/// Forgets every watched key (UNWATCH, EXEC, DISCARD, disconnect).
pub async fn unwatch_all(conn: &mut Conn) {
    let mut by_core: BTreeMap<usize, Vec<Bytes>> = BTreeMap::new();
    for (c, k, _) in conn.watched.drain(..) {
        by_core.entry(c).or_default().push(k);
    }
    for (c, keys) in by_core {
        conn.core.call(c, None, vec![Op::UnwatchKeys(keys)]).await;
    }
}

/// Queues a command after MULTI (the caller checked name and arity).
/// Commands flagged `no_multi` (SAVE, SHUTDOWN) are refused, and EXEC will
/// abort, as in Redis.
pub fn queue(conn: &mut Conn, idx: usize, argv: Vec<Bytes>) -> Reply {
    if commands::table()[idx].flags.contains(&"no_multi") {
        return refuse(conn, Reply::error("ERR Command not allowed inside a transaction"));
    }
    if let Some(m) = conn.multi.as_mut() {
        m.queued.push((idx, argv));
    }
    Reply::simple("QUEUED")
}

/// EXEC
pub async fn exec(conn: &mut Conn) -> Reply {
    let Some(m) = conn.multi.take() else {
        return Reply::error("ERR EXEC without MULTI");
    };
    if m.dirty {
        unwatch_all(conn).await;
        return Reply::error("EXECABORT Transaction discarded because of previous errors.");
    }
    let core = conn.core.clone();
    let node = core.node.clone();
    let mut cores = BTreeSet::new();
    let mut all = false;
    for (idx, argv) in &m.queued {
        let spec = &commands::table()[*idx];
        match spec.exec {
            Exec::Server => all |= !stays_local(spec.name),
            _ => cores.extend(spec.key_indexes(argv.len()).map(|i| node.core_of_key(&argv[i]))),
        }
    }
    cores.extend(conn.watched.iter().map(|(c, _, _)| *c));
    if all {
        cores.extend(0..node.cores());
    }
    let cores: Vec<usize> = cores.into_iter().collect();
    let tx = core.new_tx();
    core.lock_all(tx, &cores).await;
    let mut by_core: BTreeMap<usize, Vec<(Bytes, u64)>> = BTreeMap::new();
    for (c, k, v) in &conn.watched {
        by_core.entry(*c).or_default().push((k.clone(), *v));
    }
    let mut unchanged = true;
    for (c, items) in by_core {
        let outs = core.call(c, Some(tx), vec![Op::CheckWatch(items)]).await;
        unchanged &= matches!(outs.first(), Some(Out::Flag(true)));
    }
    let reply = if unchanged {
        conn.active_tx = Some(tx);
        let mut replies = Vec::with_capacity(m.queued.len());
        for (idx, argv) in m.queued {
            replies.push(run_queued(conn, tx, idx, argv).await);
        }
        conn.active_tx = None;
        Reply::Array(replies)
    } else {
        Reply::NilArray
    };
    core.unlock_all(tx, &cores).await;
    unwatch_all(conn).await;
    reply
}

/// Runs one queued command inside the transaction `tx` (gates held).
async fn run_queued(conn: &mut Conn, tx: TxId, idx: usize, argv: Vec<Bytes>) -> Reply {
    let spec = &commands::table()[idx];
    if let Exec::Server = spec.exec {
        return match spec.name {
            // Watches end with the transaction anyway.
            "unwatch" => Reply::ok(),
            "subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe" | "ssubscribe" | "sunsubscribe" => {
                let mut frames = crate::pubsub::command(conn, spec.name, &argv);
                if frames.len() == 1 {
                    frames.pop().unwrap_or(Reply::Nil)
                } else {
                    Reply::Array(frames)
                }
            }
            _ => crate::admin::run(conn, spec, &argv).await,
        };
    }
    let core = conn.core.clone();
    let mut keys = spec.key_indexes(argv.len());
    let owner = keys.next().map(|i| core.node.core_of_key(&argv[i])).unwrap_or(core.id);
    if keys.all(|i| core.node.core_of_key(&argv[i]) == owner) {
        let outs = core.call(owner, Some(tx), vec![Op::Cmd { idx: idx as u16, argv, slot: None }]).await;
        return outs.into_iter().next().map(Out::into_reply).unwrap_or(Reply::Nil);
    }
    // Blocking commands run once inside a transaction; across cores that is
    // a scratch-shard run like any other multi-key command.
    let multi = match (spec.exec, spec.multi) {
        (Exec::Blocking(_), _) => MultiKey::Scratch,
        (_, MultiKey::No) => return Reply::error("CROSSSLOT Keys in request don't hash to the same slot"),
        (_, m) => m,
    };
    crate::multi::run_in(&core, multi, idx as u16, argv, Some(tx)).await
}

/// DISCARD
pub async fn discard(conn: &mut Conn) -> Reply {
    if conn.multi.take().is_none() {
        return Reply::error("ERR DISCARD without MULTI");
    }
    unwatch_all(conn).await;
    Reply::ok()
}

/// The error for a command refused while queueing.
pub fn refuse(conn: &mut Conn, e: Reply) -> Reply {
    if let Some(m) = conn.multi.as_mut() {
        m.dirty = true;
    }
    e
}

pub fn nested() -> Reply {
    CmdError::Other("MULTI calls can not be nested".into()).into()
}
