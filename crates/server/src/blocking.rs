//! Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX)
//! from the client's side.
//!
//! Keys on one core (always the case in cluster mode and with hash tags):
//! the command is sent to that core as `Op::Block`. The owner serves it at
//! once or parks the client in a per-key FIFO; every write to a key with
//! parked clients serves them in the order they blocked, before any later
//! command on that core runs. The reply then travels back like any
//! forwarded reply.
//!
//! Keys on several cores: an atomic attempt across the cores (gates +
//! scratch shard, as for other multi-key commands); if nothing can be
//! served, a `Watch` on every core wakes the client at the first write to
//! one of its keys, and it tries again.
//!
//! Timeout and disconnect: the client's core sends `Unblock`; the owner
//! answers the timeout reply unless it already served the client (replies
//! travel in order, so the served reply wins).

use crate::conn::Conn;
use crate::core::{Op, Out};
use crate::sync::Slot;
use bytes::Bytes;
use commands::CmdError;
use futures_lite::future;
use crate::net::Socket;
use resp::Reply;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;
use std::time::Instant;

/// What ended a wait.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    Filled,
    Timeout,
    Gone,
    /// Pub/Sub messages to write (RESP3 subscribers keep receiving them).
    Push,
}

/// Waits until one of `slots` is filled, the deadline passes, or the client
/// hangs up. A RESP3 subscriber keeps receiving its pushes meanwhile.
async fn wait(slots: &[Rc<Slot<Vec<Out>>>], deadline: Option<Instant>, stream: &Socket, conn: &Conn) -> Wake {
    let pushes = conn.sub.clone().filter(|_| conn.proto == resp::Protocol::Resp3);
    loop {
        let woke = {
            let filled = poll_fn(|cx| if slots.iter().any(|s| s.poll_filled(cx)) { Poll::Ready(Wake::Filled) } else { Poll::Pending });
            let timer = async {
                match deadline {
                    Some(d) => {
                        glommio::timer::sleep(d.saturating_duration_since(Instant::now())).await;
                        Wake::Timeout
                    }
                    None => future::pending().await,
                }
            };
            let gone = async {
                let mut b = [0u8; 1];
                match stream.peek(&mut b).await {
                    Ok(0) | Err(_) => Wake::Gone,
                    // More requests are pipelined behind this one: they wait their turn.
                    Ok(_) => future::pending().await,
                }
            };
            let push = async {
                match &pushes {
                    Some(sub) => {
                        sub.ready.wait().await;
                        Wake::Push
                    }
                    None => future::pending().await,
                }
            };
            future::or(filled, future::or(timer, future::or(gone, push))).await
        };
        if woke != Wake::Push {
            return woke;
        }
        if let Some(sub) = &pushes {
            if sub.killed.get() {
                return Wake::Gone;
            }
            let mut out = bytes::BytesMut::new();
            sub.drain_into(&mut out, resp::Protocol::Resp3);
            if !out.is_empty() && stream.write_all(&out).await.is_err() {
                return Wake::Gone;
            }
        }
    }
}

fn first_reply(outs: Vec<Out>) -> Reply {
    outs.into_iter().next().map(Out::into_reply).unwrap_or(Reply::Nil)
}

/// Runs a blocking command for `conn`. Returns the reply and whether the
/// client hung up while it waited.
pub async fn run(conn: &Conn, stream: &Socket, idx: usize, argv: Vec<Bytes>) -> (Reply, bool) {
    let core = &conn.core;
    core.blocked_conns.set(core.blocked_conns.get() + 1);
    let r = run_blocked(conn, stream, idx, argv).await;
    core.blocked_conns.set(core.blocked_conns.get() - 1);
    r
}

async fn run_blocked(conn: &Conn, stream: &Socket, idx: usize, argv: Vec<Bytes>) -> (Reply, bool) {
    let core = &conn.core;
    let spec = &commands::table()[idx];
    let timeout = match commands::parse_block_timeout(&argv[commands::block_timeout_index(spec, argv.len())]) {
        Ok(t) => t,
        Err(e) => return (e.into(), false),
    };
    let deadline = timeout.map(|t| Instant::now() + t);
    let by_core = crate::multi::keys_by_core(core, spec, &argv);
    if by_core.is_empty() {
        return (CmdError::Syntax.into(), false);
    }
    if by_core.len() == 1 {
        let owner = *by_core.keys().next().unwrap_or(&core.id);
        let wid = core.new_tx();
        let slot = match core.call_start(owner, None, vec![Op::Block { wid, idx: idx as u16, argv }]) {
            Ok(outs) => return (first_reply(outs), false),
            Err(slot) => slot,
        };
        let wake = wait(std::slice::from_ref(&slot), deadline, stream, conn).await;
        if wake != Wake::Filled {
            core.call(owner, None, vec![Op::Unblock { wid }]).await;
        }
        return (first_reply(slot.take().await), wake == Wake::Gone);
    }
    loop {
        // Watch first, then try: a write that lands after the attempt looked
        // at a key finds the watch already registered (same FIFO channel).
        let wid = core.new_tx();
        let mut slots = Vec::with_capacity(by_core.len());
        for (&c, keys) in &by_core {
            if let Err(slot) = core.call_start(c, None, vec![Op::Watch { wid, keys: keys.clone() }]) {
                slots.push(slot);
            }
        }
        let attempt = crate::multi::try_blocking(core, idx as u16, &argv).await;
        let wake = match (&attempt, deadline) {
            (Some(_), _) => Wake::Filled,
            (None, Some(d)) if Instant::now() >= d => Wake::Timeout,
            (None, _) => wait(&slots, deadline, stream, conn).await,
        };
        for &c in by_core.keys() {
            core.call(c, None, vec![Op::Unblock { wid }]).await;
        }
        for slot in &slots {
            slot.take().await;
        }
        if let Some(reply) = attempt {
            return (reply, false);
        }
        match wake {
            Wake::Filled => continue,
            Wake::Timeout => return (commands::block_timeout_reply(spec), false),
            Wake::Gone | Wake::Push => return (commands::block_timeout_reply(spec), true),
        }
    }
}
