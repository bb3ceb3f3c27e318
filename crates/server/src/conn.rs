//! One client connection: read, parse every complete request, route each to
//! the core that owns its keys, and write the replies back in request order
//! with one write per batch.

use crate::core::{ClientInfo, Core, Op, Out};
use crate::sync::Slot;
use bytes::{Bytes, BytesMut};
use commands::{CmdError, Exec, MultiKey};
use crate::net::Socket;
use resp::{Protocol, Reply, RequestParser};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// A reply that is ready or still on its way back from another core, with
/// the protocol in force when its command ran (HELLO may change it mid-pipeline).
enum Pending {
    Ready(Protocol, Reply),
    /// One reply per output (a forwarded run of commands has several).
    Remote(Protocol, Rc<Slot<Vec<Out>>>),
    /// Several frames for one command ((P|S)(UN)SUBSCRIBE confirmations).
    Many(Protocol, Vec<Reply>),
    /// A multi-key command spanning cores, queued for a combined run (`multi`).
    Combined(Protocol, Rc<Slot<Reply>>),
}

/// Where a plain data command runs (`Conn::plain_route`).
#[derive(Clone, Copy)]
enum Plain {
    /// Its keys all live on one core (this one for a command without keys):
    /// its table index and that core.
    OneCore(usize, usize),
    /// A multi-key command whose keys live on several cores and that the
    /// core's combined runs take (`multi`): its table index and kind.
    Spanning(usize, MultiKey),
}

/// Consecutive pipelined requests for one other core (that core and their
/// ops), sent there as one message: one reply slot and one wake-up for the
/// run instead of one each.
type ForwardGroup = Option<(usize, Vec<Op>)>;

/// Per-connection state the commands may change.
pub struct Conn {
    pub core: Rc<Core>,
    pub info: Rc<RefCell<ClientInfo>>,
    pub proto: Protocol,
    pub quit: bool,
    /// Commands queued after MULTI.
    pub multi: Option<crate::txn::MultiState>,
    /// WATCHed keys: (owning core, key, version seen).
    pub watched: Vec<(usize, Bytes, u64)>,
    /// The transaction EXEC is running, if any (its gates are held).
    pub active_tx: Option<crate::core::TxId>,
    /// Pub/Sub state, once the connection subscribed to something.
    pub sub: Option<Rc<crate::pubsub::Subscriber>>,
    /// READONLY / ASKING (cluster mode).
    pub cluster_flags: crate::cluster_node::ConnFlags,
    /// The clock for the commands of one read that run here one after
    /// another without waiting (one clock read per pipeline, not per command);
    /// cleared by anything that may wait.
    clock_ms: Option<u64>,
    /// The last two command names seen and their table indexes, most recent
    /// first (pipelines repeat one, or alternate two: GET/SET, LPUSH/LPOP).
    last_names: [Option<(Bytes, usize)>; 2],
}

/// The most a connection reads at once.
const READ_CHUNK: usize = 64 * 1024;

/// What a new connection reads at once and the room its first replies get.
/// A read that fills what it asked for makes the next one ask for four
/// times as much, up to [`READ_CHUNK`]; replies grow their buffer as they
/// need. An idle connection then holds about 2 KiB of buffers where a
/// 64 KiB read buffer and a 16 KiB reply buffer, each with a page touched,
/// kept 8 KiB resident (benches: memory per connection).
const FIRST_CHUNK: usize = 1024;

/// A parsed request's command (table index) and the slot of its first key
/// (0 when it names no key), looked up once per request.
#[derive(Clone, Copy)]
struct Route {
    idx: Option<usize>,
    slot: slots::Slot,
}

/// Requests parsed ahead of running them (see [`Conn::warm`]).
const WARM_BATCH: usize = 64;

/// Serves one accepted connection until it closes.
pub async fn serve(core: Rc<Core>, stream: Socket) {
    let node = core.node.clone();
    let _ = stream.set_nodelay(true);
    let id = node.next_client_id.fetch_add(1, Ordering::Relaxed);
    let now = Instant::now();
    let info = Rc::new(RefCell::new(ClientInfo {
        id,
        addr: stream.peer_addr().map(|a| a.to_string()).unwrap_or_default(),
        laddr: stream.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        name: Bytes::new(),
        lib_name: Bytes::new(),
        lib_ver: Bytes::new(),
        created: now,
        last_active_ms: store::unix_time_ms(),
        last_cmd: "NULL",
        resp: 2,
        subs: [0; 3],
    }));
    core.clients.borrow_mut().insert(id, info.clone());
    let mut conn = Conn { core: core.clone(), info, proto: Protocol::Resp2, quit: false, multi: None, watched: Vec::new(), active_tx: None, sub: None, cluster_flags: Default::default(), clock_ms: None, last_names: [None, None] };
    if let Err(e) = conn.run(stream).await {
        tracing::debug!(client = id, "connection ended: {e}");
    }
    if let Some(sub) = conn.sub.take() {
        core.pubsub.borrow_mut().remove_all(&sub);
    }
    crate::txn::unwatch_all(&mut conn).await;
    core.clients.borrow_mut().remove(&id);
    node.connected_clients.fetch_sub(1, Ordering::Relaxed);
}

impl Conn {
    /// RESET: back to a fresh connection's state.
    async fn reset(&mut self) {
        self.multi = None;
        crate::txn::unwatch_all(self).await;
        if let Some(sub) = self.sub.take() {
            self.core.pubsub.borrow_mut().remove_all(&sub);
        }
        self.proto = Protocol::Resp2;
        let mut info = self.info.borrow_mut();
        info.name = Bytes::new();
        info.resp = 2;
        info.subs = [0; 3];
    }

    /// RESP2 clients in subscribed mode may only (un)subscribe, PING, QUIT and RESET.
    fn subscribed_mode_check(&self, spec: &commands::CommandSpec, argv: &[Bytes]) -> Option<Pending> {
        let sub = self.sub.as_ref()?;
        if self.proto != Protocol::Resp2 || !sub.is_subscribed() {
            return None;
        }
        match spec.name {
            "subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe" | "ssubscribe" | "sunsubscribe" | "quit" | "reset" => None,
            "ping" => {
                let msg = argv.get(1).cloned().unwrap_or_default();
                Some(Pending::Ready(self.proto, Reply::Array(vec![Reply::Bulk(Bytes::from_static(b"pong")), Reply::Bulk(msg)])))
            }
            name => {
                let full = commands::full_name(spec, argv);
                let _ = name;
                Some(Pending::Ready(
                    self.proto,
                    Reply::error(format!(
                        "ERR Can't execute '{full}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
                    )),
                ))
            }
        }
    }

    async fn run(&mut self, stream: Socket) -> std::io::Result<()> {
        let stream = Rc::new(stream);
        let limits = self.core.config.borrow().parser_limits();
        let mut parser = RequestParser::new(limits);
        let mut inbuf = BytesMut::new();
        let mut read_want = FIRST_CHUNK;
        let mut out = BytesMut::with_capacity(FIRST_CHUNK);
        let mut pending: Vec<Pending> = Vec::new();
        let mut batch: Vec<Vec<Bytes>> = Vec::new();
        let mut routes: Vec<Route> = Vec::new();
        let mut group: ForwardGroup = None;
        // The last command queued for a combined run and not known to be done.
        let mut combined: Option<Rc<Slot<Reply>>> = None;
        loop {
            // A subscriber also wakes up for messages to deliver. (glommio's
            // read only takes data when it completes, so dropping a pending
            // read loses nothing.)
            let n = match self.sub.clone() {
                Some(sub) => {
                    // Everything is written: while this waits, the core's
                    // flush task may write messages itself (`pubsub`).
                    sub.wait_with(&stream, self.proto);
                    let read = async { Some(stream.read_into(&mut inbuf, read_want).await) };
                    let push = async {
                        sub.ready.wait().await;
                        None
                    };
                    let woken = futures_lite::future::or(read, push).await;
                    sub.stop_waiting();
                    match woken {
                        Some(r) => Some(r?),
                        None => None,
                    }
                }
                None => Some(stream.read_into(&mut inbuf, read_want).await?),
            };
            match n {
                Some(0) => return Ok(()),
                Some(n) if n >= read_want => read_want = (read_want * 4).min(READ_CHUNK),
                _ => {}
            }
            // One clock read per read: the idle time of CLIENT LIST, and the
            // clock of the commands that run here without waiting.
            self.clock_ms = None;
            if n.is_some() {
                let now = store::unix_time_ms();
                self.clock_ms = Some(now);
                self.info.borrow_mut().last_active_ms = now;
            }
            let (qbuf_limit, out_limit) = {
                let cfg = self.core.config.borrow();
                parser.set_limits(cfg.parser_limits());
                (cfg.client_query_buffer_limit, cfg.client_output_buffer_limit)
            };
            if inbuf.len() > qbuf_limit {
                tracing::warn!(client = self.info.borrow().id, "closing client: query buffer over client-query-buffer-limit");
                return Ok(());
            }
            let mut protocol_error = None;
            while !self.quit && protocol_error.is_none() {
                // Parse a run of requests first, so their keys' table entries
                // can be fetched from memory together (see `warm`).
                while batch.len() < WARM_BATCH {
                    match parser.next_command(&mut inbuf) {
                        Ok(Some(argv)) => batch.push(argv),
                        Ok(None) => break,
                        Err(e) => {
                            protocol_error = Some(e);
                            break;
                        }
                    }
                }
                if batch.is_empty() {
                    break;
                }
                let full = batch.len() == WARM_BATCH;
                routes.clear();
                for argv in &batch {
                    let route = self.route(argv);
                    routes.push(route);
                }
                if batch.len() > 1 {
                    self.warm(&batch, &routes);
                } else if crate::net::readers_waiting() && self.core.warm_pays() {
                    // One request, and other connections woken in this turn
                    // have not read theirs yet: let them, so that the keys
                    // of all are fetched together (`Core::queue_warm`).
                    self.core.queue_warm(Self::routed(&batch, &routes));
                    futures_lite::future::yield_now().await;
                }
                self.core.flush_warm();
                for (argv, route) in batch.drain(..).zip(routes.iter().copied()) {
                    if self.quit {
                        break;
                    }
                    let plain = self.plain_route(&argv, route);
                    // A run of multi-key commands spanning cores is queued
                    // whole for the core's combined runs; whatever follows it
                    // waits until the run has been carried out.
                    if let Some(Plain::Spanning(idx, multi)) = plain {
                        self.send_group(&mut group, &mut pending);
                        self.note_command(idx);
                        let slot = crate::multi::enqueue(&self.core, multi, idx as u16, argv);
                        combined = Some(slot.clone());
                        pending.push(Pending::Combined(self.proto, slot));
                        continue;
                    }
                    if let Some(last) = combined.take() {
                        last.filled().await;
                        self.clock_ms = None;
                    }
                    let here = match plain {
                        Some(Plain::OneCore(idx, owner)) if owner != self.core.id => {
                            self.forward(idx, owner, argv, route.slot, &mut group, &mut pending);
                            continue;
                        }
                        Some(Plain::OneCore(idx, _)) => self.try_here(idx, argv, route),
                        _ => Err(argv),
                    };
                    let p = match here {
                        Ok((p, argv)) => {
                            parser.recycle(argv);
                            p
                        }
                        Err(argv) => {
                            self.send_group(&mut group, &mut pending);
                            let p = self.dispatch(argv, &stream).await;
                            // It may have waited: the next command reads the clock anew.
                            self.clock_ms = None;
                            p
                        }
                    };
                    self.send_group(&mut group, &mut pending);
                    match p {
                        // Nothing earlier still waits: the reply goes out in order now.
                        Pending::Ready(proto, reply) if pending.is_empty() => reply.encode(proto, &mut out),
                        p => pending.push(p),
                    }
                }
                self.send_group(&mut group, &mut pending);
                if !full {
                    break;
                }
            }
            for p in pending.drain(..) {
                match p {
                    Pending::Ready(proto, reply) => reply.encode(proto, &mut out),
                    Pending::Many(proto, replies) => replies.iter().for_each(|r| r.encode(proto, &mut out)),
                    Pending::Remote(proto, slot) => {
                        for o in slot.take().await {
                            o.into_reply().encode(proto, &mut out);
                        }
                    }
                    Pending::Combined(proto, slot) => slot.take().await.encode(proto, &mut out),
                }
            }
            combined = None;
            if let Some(e) = &protocol_error {
                Reply::error(format!("ERR {e}")).encode(self.proto, &mut out);
            }
            if out_limit > 0 && out.len() > out_limit {
                tracing::warn!(client = self.info.borrow().id, bytes = out.len(), "closing client: reply over client-output-buffer-limit");
                return Ok(());
            }
            if let Some(sub) = &self.sub {
                if sub.killed.get() {
                    return Ok(());
                }
                sub.drain_into(&mut out, self.proto);
            }
            if !out.is_empty() {
                match self.sub.clone() {
                    // A subscriber that stops reading is cut off by the
                    // output limit even while this write is stuck.
                    Some(sub) => {
                        let write = async { Some(stream.write_all(&out).await) };
                        let killed = async {
                            sub.kill_signal.wait().await;
                            None
                        };
                        match futures_lite::future::or(write, killed).await {
                            Some(r) => r?,
                            None => return Ok(()),
                        }
                    }
                    None => {
                        // Let the other connections woken in this turn run
                        // first, so the replies leave in one burst: the
                        // client is then woken once for many of them.
                        if crate::net::readers_waiting() {
                            futures_lite::future::yield_now().await;
                        }
                        stream.write_all(&out).await?
                    }
                }
                out.clear();
                if out.capacity() > 4 * READ_CHUNK {
                    out = BytesMut::with_capacity(FIRST_CHUNK);
                }
            }
            if protocol_error.is_some() || self.quit {
                stream.close();
                return Ok(());
            }
            if inbuf.is_empty() && inbuf.capacity() > 4 * READ_CHUNK {
                inbuf = BytesMut::new();
            }
        }
    }

    /// For a plain data command (outside MULTI, pub/sub, loading and cluster
    /// mode, with the right number of arguments): where it runs (`Plain`).
    /// Anything else, and a command spanning cores that combined runs do not
    /// take, goes through `dispatch`.
    fn plain_route(&self, argv: &[Bytes], route: Route) -> Option<Plain> {
        if argv.is_empty() || self.multi.is_some() || self.sub.is_some() || self.core.node.loading() {
            return None;
        }
        let idx = route.idx?;
        let spec = &commands::table()[idx];
        if !matches!(spec.exec, Exec::Shard(_)) || !spec.arity_ok(argv.len()) || self.core.config.borrow().cluster_enabled {
            return None;
        }
        let node = &self.core.node;
        let mut keys = spec.key_indexes(argv.len());
        let owner = match keys.next() {
            Some(_) => node.ranges.owner_of(route.slot),
            None => self.core.id,
        };
        if keys.all(|i| node.core_of_key(&argv[i]) == owner) {
            Some(Plain::OneCore(idx, owner))
        } else {
            crate::multi::combinable(spec.multi).then_some(Plain::Spanning(idx, spec.multi))
        }
    }

    /// Counts a command that bypasses `dispatch`.
    fn note_command(&self, idx: usize) {
        self.core.commands_processed.set(self.core.commands_processed.get() + 1);
        self.info.borrow_mut().last_cmd = commands::table()[idx].name;
    }

    /// The common case without an async call: a plain data command
    /// (`plain_route`, table index `idx`) of this core's keys, run at once.
    /// Handed back when it must wait at the gate.
    fn try_here(&mut self, idx: usize, argv: Vec<Bytes>, route: Route) -> Result<(Pending, Vec<Bytes>), Vec<Bytes>> {
        let now = *self.clock_ms.get_or_insert_with(store::unix_time_ms);
        let pending = match self.core.run_here(idx as u16, &argv, route.slot, now) {
            Some(Ok(reply)) => Pending::Ready(self.proto, reply),
            Some(Err(slot)) => Pending::Remote(self.proto, slot),
            None => return Err(argv),
        };
        self.note_command(idx);
        Ok((pending, argv))
    }

    /// A plain data command (`plain_route`) of core `owner`'s keys, another
    /// core's: added to `group`, the run of such commands for one core that
    /// goes there as one message.
    /// `slot` is the first key's slot (a forwarded command has keys).
    fn forward(&mut self, idx: usize, owner: usize, argv: Vec<Bytes>, slot: slots::Slot, group: &mut ForwardGroup, pending: &mut Vec<Pending>) {
        self.note_command(idx);
        if group.as_ref().is_some_and(|(core, _)| *core != owner) {
            self.send_group(group, pending);
        }
        group.get_or_insert_with(|| (owner, Vec::new())).1.push(Op::Cmd { idx: idx as u16, argv, slot: Some(slot) });
    }

    /// Sends the forwarded run in `group`, if any; its replies take their
    /// place in `pending` here, before any later request's.
    fn send_group(&self, group: &mut ForwardGroup, pending: &mut Vec<Pending>) {
        let Some((owner, ops)) = group.take() else { return };
        pending.push(match self.core.call_start(owner, None, ops) {
            Ok(outs) => Pending::Many(self.proto, outs.into_iter().map(Out::into_reply).collect()),
            Err(slot) => Pending::Remote(self.proto, slot),
        });
    }

    /// Requests the table entries of the keys of the pipelined requests that
    /// this core owns before any of them runs (`Core::prefetch_keys`).
    fn warm(&self, batch: &[Vec<Bytes>], routes: &[Route]) {
        self.core.prefetch_keys(Self::routed(batch, routes));
    }

    /// The known commands of `batch` with their first key's slot.
    fn routed<'a>(batch: &'a [Vec<Bytes>], routes: &'a [Route]) -> impl Iterator<Item = (usize, &'a [Bytes], Option<slots::Slot>)> {
        batch.iter().zip(routes).filter_map(|(argv, route)| Some((route.idx?, argv.as_slice(), Some(route.slot))))
    }

    /// Looks up a parsed request's command and its first key's slot, once
    /// for both the prefetch and the run.
    fn route(&mut self, argv: &[Bytes]) -> Route {
        let idx = argv.first().and_then(|name| self.command_index(name));
        let slot = idx
            .and_then(|idx| commands::table()[idx].first_key_index(argv.len()))
            .map_or(0, |i| slots::key_slot(&argv[i]));
        Route { idx, slot }
    }

    /// The table index of a command name; pipelines usually repeat one.
    fn command_index(&mut self, name: &Bytes) -> Option<usize> {
        for k in 0..2 {
            if let Some((last, idx)) = &self.last_names[k] {
                // Names are interned by the parser: the same pointer is
                // the usual match, the bytes decide otherwise.
                if (last.as_ptr() == name.as_ptr() && last.len() == name.len()) || last == name {
                    let idx = *idx;
                    self.last_names.swap(0, k);
                    return Some(idx);
                }
            }
        }
        let idx = commands::lookup_index(name)?;
        // Kept as is: a known command's name is short, and the parser hands
        // out short arguments interned (static) or copied, never as a slice
        // of the read buffer.
        self.last_names[1] = Some((name.clone(), idx));
        self.last_names.swap(0, 1);
        Some(idx)
    }

    /// Routes one request. Commands that span cores (and connection-level
    /// commands) complete before this returns, so later requests of the
    /// pipeline cannot overtake them; single-core commands are only started.
    async fn dispatch(&mut self, argv: Vec<Bytes>, stream: &Socket) -> Pending {
        let proto = self.proto;
        if argv.is_empty() {
            return Pending::Ready(proto, Reply::error("ERR empty command"));
        }
        self.core.commands_processed.set(self.core.commands_processed.get() + 1);
        let Some(idx) = self.command_index(&argv[0]) else {
            let e = commands::unknown_command_error(&argv).into();
            return Pending::Ready(proto, crate::txn::refuse(self, e));
        };
        let spec = &commands::table()[idx];
        self.info.borrow_mut().last_cmd = spec.name;
        if !spec.arity_ok(argv.len()) {
            if spec.name == "exec" && self.multi.is_some() {
                // A malformed EXEC ends the transaction, as in Redis.
                self.multi = None;
                crate::txn::unwatch_all(self).await;
                return Pending::Ready(proto, Reply::error("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"));
            }
            let e = CmdError::WrongArity(spec.name.to_string()).into();
            return Pending::Ready(proto, crate::txn::refuse(self, e));
        }
        if self.core.node.loading() && !spec.has(commands::FLAG_LOADING) {
            return Pending::Ready(proto, Reply::error("LOADING Redis is loading the dataset in memory"));
        }
        if let Some(p) = self.subscribed_mode_check(spec, &argv) {
            return p;
        }
        if let Some(e) = crate::cluster_node::check(self, spec, &argv) {
            return Pending::Ready(proto, crate::txn::refuse(self, e));
        }
        match spec.name {
            "multi" if self.multi.is_some() => return Pending::Ready(proto, crate::txn::nested()),
            "multi" => {
                self.multi = Some(Default::default());
                return Pending::Ready(proto, Reply::ok());
            }
            "exec" => return Pending::Ready(proto, crate::txn::exec(self).await),
            "discard" => return Pending::Ready(proto, crate::txn::discard(self).await),
            "watch" => return Pending::Ready(proto, crate::txn::watch(self, &argv).await),
            "reset" => {
                self.reset().await;
                return Pending::Ready(self.proto, Reply::simple("RESET"));
            }
            _ if self.multi.is_some() && spec.name != "quit" => {
                return Pending::Ready(proto, crate::txn::queue(self, idx, argv));
            }
            "unwatch" => {
                crate::txn::unwatch_all(self).await;
                return Pending::Ready(proto, Reply::ok());
            }
            "subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe" | "ssubscribe" | "sunsubscribe" => {
                return Pending::Many(self.proto, crate::pubsub::command(self, spec.name, &argv));
            }
            _ => {}
        }
        if let Exec::Server = spec.exec {
            let reply = crate::admin::run(self, spec, &argv).await;
            // HELLO answers in the protocol it switches to.
            return Pending::Ready(self.proto, reply);
        }
        if let Exec::Blocking(_) = spec.exec {
            let (reply, gone) = crate::blocking::run(self, stream, idx, argv).await;
            if gone {
                self.quit = true;
            }
            return Pending::Ready(proto, reply);
        }
        let node = &self.core.node;
        let mut keys = spec.key_indexes(argv.len());
        let owner = keys.next().map(|i| node.core_of_key(&argv[i])).unwrap_or(self.core.id);
        let single_core = keys.all(|i| node.core_of_key(&argv[i]) == owner);
        if !single_core && spec.multi != MultiKey::No {
            let reply = crate::multi::run(&self.core, spec.multi, idx as u16, argv).await;
            return Pending::Ready(proto, reply);
        }
        if !single_core {
            return Pending::Ready(proto, Reply::error("CROSSSLOT Keys in request don't hash to the same slot"));
        }
        match self.core.call_start(owner, None, vec![Op::Cmd { idx: idx as u16, argv, slot: None }]) {
            Ok(outs) => Pending::Ready(proto, outs.into_iter().next().map(Out::into_reply).unwrap_or(Reply::Nil)),
            Err(slot) => Pending::Remote(proto, slot),
        }
    }
}
