//! Pub/Sub: channel, pattern and shard-channel subscriptions, per core.
//!
//! A connection's subscriptions are registered on the core it lives on. A
//! PUBLISH delivers to the subscribers of its own core at once and sends one
//! `Op::Publish` to every other core, each delivering to its own; the reply
//! adds up the receivers. Messages of one publisher reach every subscriber in
//! publish order (one FIFO channel per pair of cores).
//!
//! Each subscriber has an outgoing queue. A published message is built once
//! and shared by every queue it goes to ([`Message`]), and encoded at most
//! once per protocol, however many subscribers receive it. A subscriber's
//! connection writes its queue whenever it grows; a subscriber whose queue exceeds the pubsub output
//! limits (hard, or soft for longer than the soft period) is disconnected
//! so a slow reader cannot make the node's memory grow without bound.

use crate::net::Socket;
use crate::sync::Signal;
use bytes::{Bytes, BytesMut};
use resp::{Protocol, Reply};
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::rc::{Rc, Weak};
use std::time::Instant;
use store::glob::glob_match;

/// The three namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

/// Output limits for subscribers (config client-output-buffer-limit-pubsub-*).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub hard: usize,
    pub soft: usize,
    pub soft_seconds: u64,
}

/// One subscribed connection.
pub struct Subscriber {
    pub id: u64,
    queue: RefCell<VecDeque<Rc<Message>>>,
    queued_bytes: Cell<usize>,
    soft_since: Cell<Option<Instant>>,
    /// New messages to write.
    pub ready: Signal,
    /// Set when the queue broke the limits: the connection must close.
    pub killed: Cell<bool>,
    pub kill_signal: Signal,
    pub channels: RefCell<BTreeSet<Bytes>>,
    pub patterns: RefCell<BTreeSet<Bytes>>,
    pub shard_channels: RefCell<BTreeSet<Bytes>>,
    /// The connection's socket while its task waits with everything
    /// written: queued messages are then written by the core's flush task
    /// (`run_flusher`) without waking the connection's task.
    direct: RefCell<Option<(Weak<Socket>, Protocol)>>,
    /// Whether this subscriber is on the flush task's list.
    flush_listed: Cell<bool>,
    /// What a full socket did not take of a flush; written first.
    partial: RefCell<BytesMut>,
}

impl Subscriber {
    pub fn new(id: u64) -> Rc<Subscriber> {
        Rc::new(Subscriber {
            id,
            queue: RefCell::new(VecDeque::new()),
            queued_bytes: Cell::new(0),
            soft_since: Cell::new(None),
            ready: Signal::default(),
            killed: Cell::new(false),
            kill_signal: Signal::default(),
            channels: RefCell::new(BTreeSet::new()),
            patterns: RefCell::new(BTreeSet::new()),
            shard_channels: RefCell::new(BTreeSet::new()),
            direct: RefCell::new(None),
            flush_listed: Cell::new(false),
            partial: RefCell::new(BytesMut::new()),
        })
    }

    /// Called by the connection before it waits for input or messages, with
    /// everything written: from now on the flush task may write messages to
    /// `socket` itself, as long as nothing is queued or half-written (which
    /// the connection drains itself).
    pub fn wait_with(&self, socket: &Rc<Socket>, proto: Protocol) {
        if self.queue.borrow().is_empty() && self.partial.borrow().is_empty() {
            *self.direct.borrow_mut() = Some((Rc::downgrade(socket), proto));
        }
    }

    /// Called by the connection when it stops waiting: it writes again itself.
    pub fn stop_waiting(&self) {
        *self.direct.borrow_mut() = None;
    }

    /// Writes the queued messages to the waiting connection's socket (the
    /// flush task's part); when the connection no longer waits, or the
    /// socket does not take everything, wakes the connection to do it.
    fn flush(&self) {
        let direct = self.direct.borrow().as_ref().and_then(|(socket, proto)| socket.upgrade().map(|s| (s, *proto)));
        let Some((socket, proto)) = direct else {
            if !self.queue.borrow().is_empty() || !self.partial.borrow().is_empty() {
                self.ready.notify();
            }
            return;
        };
        let mut buf = BytesMut::new();
        self.drain_into(&mut buf, proto);
        let sent = socket.try_send(&buf).unwrap_or(0);
        if sent < buf.len() {
            // The connection writes the rest, and meets any socket error.
            self.queued_bytes.set(buf.len() - sent);
            self.partial.borrow_mut().extend_from_slice(&buf[sent..]);
            *self.direct.borrow_mut() = None;
            self.ready.notify();
        }
    }

    /// Channel + pattern subscriptions (what SUBSCRIBE/PSUBSCRIBE report).
    pub fn count(&self) -> usize {
        self.channels.borrow().len() + self.patterns.borrow().len()
    }

    pub fn shard_count(&self) -> usize {
        self.shard_channels.borrow().len()
    }

    pub fn is_subscribed(&self) -> bool {
        self.count() + self.shard_count() > 0
    }

    fn push(self: &Rc<Self>, msg: &Rc<Message>, size: usize, limits: Limits, flusher: &Flusher) {
        if self.killed.get() {
            return;
        }
        self.queue.borrow_mut().push_back(msg.clone());
        let q = self.queued_bytes.get() + size;
        self.queued_bytes.set(q);
        let over_hard = limits.hard > 0 && q > limits.hard;
        let over_soft = limits.soft > 0 && q > limits.soft;
        let soft_expired = match (over_soft, self.soft_since.get()) {
            (false, _) => {
                self.soft_since.set(None);
                false
            }
            (true, None) => {
                self.soft_since.set(Some(Instant::now()));
                limits.soft_seconds == 0
            }
            (true, Some(t)) => t.elapsed().as_secs() >= limits.soft_seconds,
        };
        if over_hard || soft_expired {
            tracing::warn!(client = self.id, bytes = q, "closing subscriber: over the pubsub output buffer limit");
            self.killed.set(true);
            self.queue.borrow_mut().clear();
            self.queued_bytes.set(0);
            self.kill_signal.notify();
        }
        if self.killed.get() || self.direct.borrow().is_none() {
            self.ready.notify();
        } else if !self.flush_listed.replace(true) {
            flusher.list.borrow_mut().push(self.clone());
            flusher.signal.notify();
        }
    }

    /// Moves queued messages into `out`.
    pub fn drain_into(&self, out: &mut BytesMut, proto: Protocol) {
        out.extend_from_slice(&self.partial.borrow_mut().split());
        for m in self.queue.borrow_mut().drain(..) {
            m.encode_into(proto, out);
        }
        self.queued_bytes.set(0);
    }
}

/// The subscriptions of one core.
#[derive(Default)]
pub struct Registry {
    channels: HashMap<Bytes, Vec<Rc<Subscriber>>>,
    patterns: HashMap<Bytes, Vec<Rc<Subscriber>>>,
    shard_channels: HashMap<Bytes, Vec<Rc<Subscriber>>>,
    flusher: Rc<Flusher>,
}

/// Subscribers whose connections wait while messages were queued for them:
/// the core's flush task writes to all of them in one go after the
/// publishing task has run (as Redis writes its clients before it sleeps),
/// instead of waking one connection task per subscriber per message.
#[derive(Default)]
pub struct Flusher {
    list: RefCell<Vec<Rc<Subscriber>>>,
    signal: Signal,
}

/// The flush task of a core (see [`Flusher`]).
pub async fn run_flusher(core: Rc<crate::core::Core>) {
    let flusher = core.pubsub.borrow().flusher.clone();
    loop {
        flusher.signal.wait().await;
        let list = std::mem::take(&mut *flusher.list.borrow_mut());
        for sub in list {
            sub.flush_listed.set(false);
            sub.flush();
        }
    }
}

/// A message on its way to subscribers.
pub struct Message {
    reply: Reply,
    /// The RESP2 and RESP3 encodings, made on first use.
    encoded: [OnceCell<Bytes>; 2],
}

impl Message {
    fn new(reply: Reply) -> Rc<Message> {
        Rc::new(Message { reply, encoded: Default::default() })
    }

    fn encode_into(&self, proto: Protocol, out: &mut BytesMut) {
        let i = match proto {
            Protocol::Resp2 => 0,
            Protocol::Resp3 => 1,
        };
        out.extend_from_slice(self.encoded[i].get_or_init(|| {
            let mut b = BytesMut::new();
            self.reply.encode(proto, &mut b);
            b.freeze()
        }));
    }
}

fn b(s: &'static str) -> Reply {
    Reply::Bulk(Bytes::from_static(s.as_bytes()))
}

impl Registry {
    fn map(&mut self, kind: Kind) -> &mut HashMap<Bytes, Vec<Rc<Subscriber>>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// Subscribes; returns whether it is new for this subscriber.
    pub fn subscribe(&mut self, sub: &Rc<Subscriber>, kind: Kind, name: &Bytes) -> bool {
        let set = match kind {
            Kind::Channel => &sub.channels,
            Kind::Pattern => &sub.patterns,
            Kind::Shard => &sub.shard_channels,
        };
        if !set.borrow_mut().insert(name.clone()) {
            return false;
        }
        self.map(kind).entry(name.clone()).or_default().push(sub.clone());
        true
    }

    pub fn unsubscribe(&mut self, sub: &Subscriber, kind: Kind, name: &[u8]) -> bool {
        let set = match kind {
            Kind::Channel => &sub.channels,
            Kind::Pattern => &sub.patterns,
            Kind::Shard => &sub.shard_channels,
        };
        if !set.borrow_mut().remove(name) {
            return false;
        }
        let map = self.map(kind);
        if let Some(v) = map.get_mut(name) {
            v.retain(|s| s.id != sub.id);
            if v.is_empty() {
                map.remove(name);
            }
        }
        true
    }

    /// Drops every subscription of a closing connection.
    pub fn remove_all(&mut self, sub: &Subscriber) {
        for (kind, set) in [(Kind::Channel, &sub.channels), (Kind::Pattern, &sub.patterns), (Kind::Shard, &sub.shard_channels)] {
            let names: Vec<Bytes> = set.borrow().iter().cloned().collect();
            for n in names {
                self.unsubscribe(sub, kind, &n);
            }
        }
    }

    /// Delivers a message published on this node; returns the receivers here.
    pub fn deliver(&self, channel: &Bytes, message: &Bytes, sharded: bool, limits: Limits) -> usize {
        let size = channel.len() + message.len() + 32;
        let mut n = 0;
        let to_all = |subs: &[Rc<Subscriber>], parts: Vec<Reply>, size: usize| {
            if !subs.is_empty() {
                let m = Message::new(Reply::Push(parts));
                subs.iter().for_each(|s| s.push(&m, size, limits, &self.flusher));
            }
            subs.len()
        };
        let (map, word) = if sharded { (&self.shard_channels, "smessage") } else { (&self.channels, "message") };
        if let Some(subs) = map.get(channel) {
            n += to_all(subs, vec![b(word), Reply::Bulk(channel.clone()), Reply::Bulk(message.clone())], size);
        }
        if sharded {
            return n;
        }
        for (pattern, subs) in &self.patterns {
            if glob_match(pattern, channel) {
                let parts = vec![b("pmessage"), Reply::Bulk(pattern.clone()), Reply::Bulk(channel.clone()), Reply::Bulk(message.clone())];
                n += to_all(subs, parts, size + pattern.len());
            }
        }
        n
    }

    /// Channels with subscribers matching `pattern` (PUBSUB CHANNELS / SHARDCHANNELS).
    pub fn channel_names(&self, sharded: bool, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let map = if sharded { &self.shard_channels } else { &self.channels };
        map.keys().filter(|c| pattern.is_none_or(|p| glob_match(p, c))).cloned().collect()
    }

    pub fn numsub(&self, sharded: bool, channel: &[u8]) -> usize {
        let map = if sharded { &self.shard_channels } else { &self.channels };
        map.get(channel).map(|v| v.len()).unwrap_or(0)
    }

    /// Distinct patterns subscribed on this core.
    pub fn pattern_names(&self) -> Vec<Bytes> {
        self.patterns.keys().cloned().collect()
    }
}

/// The confirmation frame of (P|S)(UN)SUBSCRIBE.
pub fn confirmation(what: &'static str, name: Option<Bytes>, count: usize) -> Reply {
    Reply::Push(vec![b(what), name.map(Reply::Bulk).unwrap_or(Reply::Nil), Reply::Int(count as i64)])
}

/// (P|S)SUBSCRIBE and (P|S)UNSUBSCRIBE for one connection: one confirmation
/// frame per channel or pattern.
pub fn command(conn: &mut crate::conn::Conn, name: &str, argv: &[Bytes]) -> Vec<Reply> {
    let replies = subscription_command(conn, name, argv);
    if let Some(sub) = &conn.sub {
        conn.info.borrow_mut().subs = [sub.channels.borrow().len(), sub.patterns.borrow().len(), sub.shard_count()];
    }
    replies
}

fn subscription_command(conn: &mut crate::conn::Conn, name: &str, argv: &[Bytes]) -> Vec<Reply> {
    let sub = conn.sub.get_or_insert_with(|| Subscriber::new(conn.info.borrow().id)).clone();
    let core = conn.core.clone();
    let mut reg = core.pubsub.borrow_mut();
    let (kind, subscribing, word) = match name {
        "subscribe" => (Kind::Channel, true, "subscribe"),
        "psubscribe" => (Kind::Pattern, true, "psubscribe"),
        "ssubscribe" => (Kind::Shard, true, "ssubscribe"),
        "unsubscribe" => (Kind::Channel, false, "unsubscribe"),
        "punsubscribe" => (Kind::Pattern, false, "punsubscribe"),
        _ => (Kind::Shard, false, "sunsubscribe"),
    };
    let count = |s: &Subscriber| if kind == Kind::Shard { s.shard_count() } else { s.count() };
    let mut replies = Vec::new();
    if subscribing {
        for n in &argv[1..] {
            reg.subscribe(&sub, kind, n);
            replies.push(confirmation(word, Some(n.clone()), count(&sub)));
        }
        return replies;
    }
    let names: Vec<Bytes> = if argv.len() > 1 {
        argv[1..].to_vec()
    } else {
        let set = match kind {
            Kind::Channel => &sub.channels,
            Kind::Pattern => &sub.patterns,
            Kind::Shard => &sub.shard_channels,
        };
        let all: Vec<Bytes> = set.borrow().iter().cloned().collect();
        all
    };
    if names.is_empty() {
        return vec![confirmation(word, None, count(&sub))];
    }
    for n in names {
        reg.unsubscribe(&sub, kind, &n);
        replies.push(confirmation(word, Some(n), count(&sub)));
    }
    replies
}
