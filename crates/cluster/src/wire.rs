//! The cluster bus wire format: redcore's own, not Redis's binary layout.
//!
//! Two redcore nodes talk this format on the bus port; it carries the same
//! information as Redis's `clusterMsg` (so the same algorithms run on top),
//! with three changes: every frame is checksummed, the slot bitmap is sent as
//! ranges when that is shorter (a node usually owns one or a few ranges), and
//! type-specific data lives in tagged sections that a receiver skips when it
//! does not know them, so fields can be added without a version bump.
//!
//! # Frame
//!
//! All integers are big-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `RCbm` |
//! | 4 | 2 | format version, [`WIRE_VERSION`] (frames of another version are dropped) |
//! | 6 | 2 | message type: Redis's `CLUSTERMSG_TYPE_*` numbers ([`MessageType`]) |
//! | 8 | 4 | total frame length, this prefix and the checksum included (at most [`MAX_FRAME_LEN`]) |
//! | 12 | … | header (below) |
//! | … | … | sections, each `kind: u16, len: u32, payload[len]`, until the checksum |
//! | len−4 | 4 | CRC-32 (IEEE) of bytes `0..len-4` |
//!
//! # Header (every message)
//!
//! | size | field |
//! |---|---|
//! | 40 | sender node id |
//! | 40 | peer reference: in PING/MEET the id the sender uses for the receiver (a placeholder during a handshake); a PONG echoes the value of the message it answers. All zero bytes = none |
//! | 40 | master id of the sender when it is a replica; all zero bytes = none |
//! | 8 | sender's currentEpoch |
//! | 8 | sender's configEpoch (its master's, when it is a replica) |
//! | 8 | replication offset |
//! | 2 | sender's flags ([`NodeFlags`] values) |
//! | 1 | cluster state as the sender sees it: 0 ok, 1 fail |
//! | 1 | manual-failover flags, reserved for elections (0 today) |
//! | 2 | client port |
//! | 2 | bus port |
//! | 2 | TLS port, reserved (0 today) |
//! | 1+16 | IP: family 0 (unknown, the receiver uses the connection's source address), 4 or 6, then 16 address bytes (IPv4 in the first 4) |
//! | 1+n | hostname: length n ≤ 255, UTF-8; 0 = none |
//! | … | slots claimed (its master's, when the sender is a replica): a slot set (below) |
//!
//! A slot set is a tag byte then either `0`: `count: u16` and `count` ranges
//! `start: u16, end: u16` (inclusive, each end < 16384), or `1`: the 2048-byte
//! bitmap in Redis's layout (bit `s % 8` of byte `s / 8`). The encoder picks
//! the shorter.
//!
//! # Sections
//!
//! | kind | used by | payload |
//! |---|---|---|
//! | 1 gossip | PING, PONG, MEET | `count: u16`, then `count` entries of 79 bytes: id (40), flags (2), IP (1+16), port (2), bus port (2), ping_sent ms (8), pong_received ms (8) |
//! | 2 fail | FAIL | id of the failing node (40) |
//! | 3 update | UPDATE | node id (40), its configEpoch (8), its slot set |
//! | 4 publish | PUBLISH, PUBLISHSHARD | `len: u32` channel, `len: u32` message |
//!
//! A section whose kind the receiver does not know, or that its message type
//! does not use, is skipped; a known section appearing twice makes the frame
//! malformed.
//!
//! # Room for elections
//!
//! Type codes 5 (FAILOVER_AUTH_REQUEST), 6 (FAILOVER_AUTH_ACK) and 8 (MFSTART)
//! are defined and round-trip today with the header alone, which already
//! carries all that Redis's versions of them carry: the requesting epoch
//! (currentEpoch), the claimed slots and configEpoch, the manual-failover flags
//! and the replication offset. The state machine counts and ignores them until
//! elections land. Any other unknown type code decodes as
//! [`Body::Unknown`] and is skipped by the receiver.
//!
//! # Safety of decoding
//!
//! [`decode`] never panics, reads nothing outside its input and allocates at
//! most in proportion to the input's length (counts are checked against the
//! bytes left before anything is reserved).

use crate::{NodeFlags, NodeId, SlotSet};
use bytes::{BufMut, Bytes, BytesMut};
use slots::SLOT_COUNT;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Magic bytes that open every frame.
pub const MAGIC: [u8; 4] = *b"RCbm";
/// The format version this crate writes and reads.
pub const WIRE_VERSION: u16 = 1;
/// Largest frame accepted (a PUBLISH with a big payload is the only thing
/// that gets near it).
pub const MAX_FRAME_LEN: usize = 64 << 20;
/// Bytes before the header: magic, version, type, length.
pub const PREFIX_LEN: usize = 12;
const CHECKSUM_LEN: usize = 4;
const GOSSIP_ENTRY_LEN: usize = 40 + 2 + 17 + 2 + 2 + 8 + 8;

const SECTION_GOSSIP: u16 = 1;
const SECTION_FAIL: u16 = 2;
const SECTION_UPDATE: u16 = 3;
const SECTION_PUBLISH: u16 = 4;

/// Message types, numbered as Redis's `CLUSTERMSG_TYPE_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageType {
    /// PING (0).
    Ping,
    /// PONG (1).
    Pong,
    /// MEET (2).
    Meet,
    /// FAIL (3).
    Fail,
    /// PUBLISH (4).
    Publish,
    /// FAILOVER_AUTH_REQUEST (5), reserved for elections.
    FailoverAuthRequest,
    /// FAILOVER_AUTH_ACK (6), reserved for elections.
    FailoverAuthAck,
    /// UPDATE (7).
    Update,
    /// MFSTART (8), reserved for manual failover.
    MfStart,
    /// MODULE (9), never sent by redcore.
    Module,
    /// PUBLISHSHARD (10).
    PublishShard,
}

impl MessageType {
    /// Every type, in code order.
    pub const ALL: [MessageType; 11] = [
        MessageType::Ping,
        MessageType::Pong,
        MessageType::Meet,
        MessageType::Fail,
        MessageType::Publish,
        MessageType::FailoverAuthRequest,
        MessageType::FailoverAuthAck,
        MessageType::Update,
        MessageType::MfStart,
        MessageType::Module,
        MessageType::PublishShard,
    ];

    /// The wire code.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The type of a wire code, if known.
    pub fn from_code(code: u16) -> Option<MessageType> {
        MessageType::ALL.get(code as usize).copied()
    }

    /// The name `CLUSTER INFO` uses in `cluster_stats_messages_<name>_sent`.
    pub fn stats_name(self) -> &'static str {
        match self {
            MessageType::Ping => "ping",
            MessageType::Pong => "pong",
            MessageType::Meet => "meet",
            MessageType::Fail => "fail",
            MessageType::Publish => "publish",
            MessageType::FailoverAuthRequest => "auth-req",
            MessageType::FailoverAuthAck => "auth-ack",
            MessageType::Update => "update",
            MessageType::MfStart => "mfstart",
            MessageType::Module => "module",
            MessageType::PublishShard => "publishshard",
        }
    }
}

/// The part every message carries: who sends it and what it claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Sender's id.
    pub sender: NodeId,
    /// PING/MEET: the receiver's id as the sender knows it; PONG: echoed.
    pub peer_ref: Option<NodeId>,
    /// Sender's master, when the sender is a replica.
    pub master: Option<NodeId>,
    /// Sender's currentEpoch.
    pub current_epoch: u64,
    /// Sender's configEpoch (its master's when it is a replica).
    pub config_epoch: u64,
    /// Replication offset.
    pub repl_offset: u64,
    /// Sender's flags.
    pub flags: NodeFlags,
    /// Whether the sender sees the cluster as failed.
    pub cluster_fail: bool,
    /// Manual-failover flags (reserved).
    pub mflags: u8,
    /// Client port.
    pub port: u16,
    /// Bus port.
    pub bus_port: u16,
    /// TLS port (reserved).
    pub tls_port: u16,
    /// Sender's IP, if it knows it.
    pub ip: Option<IpAddr>,
    /// Announced hostname (1..=255 bytes when present).
    pub hostname: Option<String>,
    /// Slots claimed (its master's, for a replica).
    pub slots: SlotSet,
}

/// One gossip entry: what the sender knows about some other node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipEntry {
    /// The node's id.
    pub id: NodeId,
    /// Its flags as the sender sees them.
    pub flags: NodeFlags,
    /// Its IP.
    pub ip: Option<IpAddr>,
    /// Client port.
    pub port: u16,
    /// Bus port.
    pub bus_port: u16,
    /// When the sender's pending PING to it was sent (sender's clock, ms; 0 = none).
    pub ping_sent: u64,
    /// When the sender last got its PONG (sender's clock, ms).
    pub pong_received: u64,
}

/// The type-specific part of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// Liveness probe with gossip.
    Ping(Vec<GossipEntry>),
    /// Answer to PING or MEET, with gossip.
    Pong(Vec<GossipEntry>),
    /// PING that asks an unknown receiver to add the sender.
    Meet(Vec<GossipEntry>),
    /// `node` is failing: flag it FAIL.
    Fail {
        /// The failing node.
        node: NodeId,
    },
    /// `node` owns `slots` at `config_epoch` (sent to a node with a stale view).
    Update {
        /// The node whose claim is newer.
        node: NodeId,
        /// Its configEpoch.
        config_epoch: u64,
        /// Its slots.
        slots: Box<SlotSet>,
    },
    /// A pub/sub message to deliver locally.
    Publish {
        /// Channel.
        channel: Bytes,
        /// Payload.
        message: Bytes,
        /// SPUBLISH (PUBLISHSHARD) rather than PUBLISH.
        sharded: bool,
    },
    /// Reserved: a replica asks masters for a vote.
    FailoverAuthRequest,
    /// Reserved: a master grants its vote.
    FailoverAuthAck,
    /// Reserved: manual failover start.
    MfStart,
    /// A type this version does not know (MODULE included); skipped.
    Unknown(u16),
}

impl Body {
    /// The wire type code.
    pub fn type_code(&self) -> u16 {
        match self {
            Body::Ping(_) => MessageType::Ping.code(),
            Body::Pong(_) => MessageType::Pong.code(),
            Body::Meet(_) => MessageType::Meet.code(),
            Body::Fail { .. } => MessageType::Fail.code(),
            Body::Update { .. } => MessageType::Update.code(),
            Body::Publish { sharded: false, .. } => MessageType::Publish.code(),
            Body::Publish { sharded: true, .. } => MessageType::PublishShard.code(),
            Body::FailoverAuthRequest => MessageType::FailoverAuthRequest.code(),
            Body::FailoverAuthAck => MessageType::FailoverAuthAck.code(),
            Body::MfStart => MessageType::MfStart.code(),
            Body::Unknown(code) => *code,
        }
    }

    /// The known type, `None` for [`Body::Unknown`] codes.
    pub fn message_type(&self) -> Option<MessageType> {
        match self {
            Body::Unknown(code) => {
                MessageType::from_code(*code).filter(|t| *t == MessageType::Module)
            }
            _ => MessageType::from_code(self.type_code()),
        }
    }
}

/// A whole bus message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Sender information.
    pub header: Header,
    /// Type-specific content.
    pub body: Body,
}

/// Why a frame was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the prefix and checksum need, or than the length says.
    #[error("truncated frame")]
    Truncated,
    /// The magic bytes are wrong: not a redcore bus frame.
    #[error("bad magic")]
    BadMagic,
    /// A format version this build does not read.
    #[error("unsupported wire version {0}")]
    BadVersion(u16),
    /// The length field is out of bounds or disagrees with the input.
    #[error("bad frame length")]
    BadLength,
    /// The CRC does not match.
    #[error("checksum mismatch")]
    Checksum,
    /// The content does not follow the format.
    #[error("malformed frame: {0}")]
    Malformed(&'static str),
}

/// The length of the frame at the start of `buf`, for splitting a byte
/// stream: `Ok(None)` while fewer than [`PREFIX_LEN`] bytes are buffered,
/// an error when the prefix cannot start a valid frame (the stream should be
/// closed).
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    if buf.len() < PREFIX_LEN {
        return Ok(None);
    }
    if buf[0..4] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    let len = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]) as usize;
    if !(PREFIX_LEN + CHECKSUM_LEN..=MAX_FRAME_LEN).contains(&len) {
        return Err(DecodeError::BadLength);
    }
    Ok(Some(len))
}

/// Encodes `msg` as one frame.
pub fn encode(msg: &Message) -> Bytes {
    let mut buf = BytesMut::with_capacity(512);
    buf.put_slice(&MAGIC);
    buf.put_u16(WIRE_VERSION);
    buf.put_u16(msg.body.type_code());
    buf.put_u32(0); // length, patched below
    put_header(&mut buf, &msg.header);
    match &msg.body {
        Body::Ping(gossip) | Body::Pong(gossip) | Body::Meet(gossip) => {
            let count = gossip.len().min(u16::MAX as usize);
            put_section(&mut buf, SECTION_GOSSIP, |b| {
                b.put_u16(count as u16);
                for entry in &gossip[..count] {
                    put_gossip(b, entry);
                }
            });
        }
        Body::Fail { node } => {
            put_section(&mut buf, SECTION_FAIL, |b| b.put_slice(node.as_bytes()))
        }
        Body::Update {
            node,
            config_epoch,
            slots,
        } => put_section(&mut buf, SECTION_UPDATE, |b| {
            b.put_slice(node.as_bytes());
            b.put_u64(*config_epoch);
            put_slots(b, slots);
        }),
        Body::Publish {
            channel, message, ..
        } => put_section(&mut buf, SECTION_PUBLISH, |b| {
            b.put_u32(channel.len() as u32);
            b.put_slice(channel);
            b.put_u32(message.len() as u32);
            b.put_slice(message);
        }),
        Body::FailoverAuthRequest | Body::FailoverAuthAck | Body::MfStart | Body::Unknown(_) => {}
    }
    let len = (buf.len() + CHECKSUM_LEN) as u32;
    buf[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32fast::hash(&buf);
    buf.put_u32(crc);
    buf.freeze()
}

fn put_section(buf: &mut BytesMut, kind: u16, fill: impl FnOnce(&mut BytesMut)) {
    buf.put_u16(kind);
    let len_at = buf.len();
    buf.put_u32(0);
    fill(buf);
    let len = (buf.len() - len_at - 4) as u32;
    buf[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
}

fn put_id(buf: &mut BytesMut, id: Option<&NodeId>) {
    match id {
        Some(id) => buf.put_slice(id.as_bytes()),
        None => buf.put_bytes(0, 40),
    }
}

fn put_ip(buf: &mut BytesMut, ip: Option<IpAddr>) {
    match ip {
        None => {
            buf.put_u8(0);
            buf.put_bytes(0, 16);
        }
        Some(IpAddr::V4(v4)) => {
            buf.put_u8(4);
            buf.put_slice(&v4.octets());
            buf.put_bytes(0, 12);
        }
        Some(IpAddr::V6(v6)) => {
            buf.put_u8(6);
            buf.put_slice(&v6.octets());
        }
    }
}

fn put_slots(buf: &mut BytesMut, slots: &SlotSet) {
    let ranges = slots.ranges();
    if 2 + ranges.len() * 4 < SLOT_COUNT as usize / 8 {
        buf.put_u8(0);
        buf.put_u16(ranges.len() as u16);
        for (start, end) in ranges {
            buf.put_u16(start);
            buf.put_u16(end);
        }
    } else {
        buf.put_u8(1);
        buf.put_slice(&slots.to_bitmap());
    }
}

fn put_header(buf: &mut BytesMut, h: &Header) {
    put_id(buf, Some(&h.sender));
    put_id(buf, h.peer_ref.as_ref());
    put_id(buf, h.master.as_ref());
    buf.put_u64(h.current_epoch);
    buf.put_u64(h.config_epoch);
    buf.put_u64(h.repl_offset);
    buf.put_u16(h.flags.0);
    buf.put_u8(h.cluster_fail as u8);
    buf.put_u8(h.mflags);
    buf.put_u16(h.port);
    buf.put_u16(h.bus_port);
    buf.put_u16(h.tls_port);
    put_ip(buf, h.ip);
    let hostname = h.hostname.as_deref().unwrap_or("").as_bytes();
    // Longer hostnames are refused by the config; cut defensively on a char boundary.
    let mut n = hostname.len().min(255);
    while n > 0 && !h.hostname.as_deref().unwrap_or("").is_char_boundary(n) {
        n -= 1;
    }
    buf.put_u8(n as u8);
    buf.put_slice(&hostname[..n]);
    put_slots(buf, &h.slots);
}

fn put_gossip(buf: &mut BytesMut, g: &GossipEntry) {
    put_id(buf, Some(&g.id));
    buf.put_u16(g.flags.0);
    put_ip(buf, g.ip);
    buf.put_u16(g.port);
    buf.put_u16(g.bus_port);
    buf.put_u64(g.ping_sent);
    buf.put_u64(g.pong_received);
}

/// A bounds-checked cursor: every read returns `Malformed` instead of panicking.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() - self.pos < n {
            return Err(DecodeError::Malformed("field runs past the end"));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn id(&mut self) -> Result<NodeId, DecodeError> {
        NodeId::parse(self.take(40)?).ok_or(DecodeError::Malformed("bad node id"))
    }
    fn opt_id(&mut self) -> Result<Option<NodeId>, DecodeError> {
        let raw = self.take(40)?;
        if raw.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        NodeId::parse(raw)
            .map(Some)
            .ok_or(DecodeError::Malformed("bad node id"))
    }
    fn ip(&mut self) -> Result<Option<IpAddr>, DecodeError> {
        let family = self.u8()?;
        let raw = self.take(16)?;
        match family {
            0 => Ok(None),
            4 => Ok(Some(IpAddr::V4(Ipv4Addr::new(
                raw[0], raw[1], raw[2], raw[3],
            )))),
            6 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(raw);
                Ok(Some(IpAddr::V6(Ipv6Addr::from(a))))
            }
            _ => Err(DecodeError::Malformed("bad address family")),
        }
    }
    fn slots(&mut self) -> Result<SlotSet, DecodeError> {
        match self.u8()? {
            0 => {
                let count = self.u16()? as usize;
                if count * 4 > self.remaining() {
                    return Err(DecodeError::Malformed("slot ranges run past the end"));
                }
                let mut set = SlotSet::new();
                for _ in 0..count {
                    let (start, end) = (self.u16()?, self.u16()?);
                    if start > end || end >= SLOT_COUNT {
                        return Err(DecodeError::Malformed("bad slot range"));
                    }
                    set.insert_range(start, end);
                }
                Ok(set)
            }
            1 => SlotSet::from_bitmap(self.take(SLOT_COUNT as usize / 8)?)
                .ok_or(DecodeError::Malformed("bad bitmap")),
            _ => Err(DecodeError::Malformed("bad slot set tag")),
        }
    }
    fn bytes_u32(&mut self) -> Result<Bytes, DecodeError> {
        let n = self.u32()? as usize;
        Ok(Bytes::copy_from_slice(self.take(n)?))
    }
    fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(DecodeError::Malformed("trailing bytes in a section"))
        }
    }
}

/// Decodes one whole frame (exactly one: `buf` must be the frame, no more).
pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
    let len = frame_len(buf)?.ok_or(DecodeError::Truncated)?;
    if buf.len() < len {
        return Err(DecodeError::Truncated);
    }
    if buf.len() != len {
        return Err(DecodeError::BadLength);
    }
    let version = u16::from_be_bytes([buf[4], buf[5]]);
    let (content, crc) = buf.split_at(len - CHECKSUM_LEN);
    if crc32fast::hash(content) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Err(DecodeError::Checksum);
    }
    if version != WIRE_VERSION {
        return Err(DecodeError::BadVersion(version));
    }
    let type_code = u16::from_be_bytes([buf[6], buf[7]]);
    let mut r = Reader {
        buf: content,
        pos: PREFIX_LEN,
    };
    let header = read_header(&mut r)?;

    let mut gossip: Option<Vec<GossipEntry>> = None;
    let mut fail: Option<NodeId> = None;
    let mut update: Option<(NodeId, u64, SlotSet)> = None;
    let mut publish: Option<(Bytes, Bytes)> = None;
    let ty = MessageType::from_code(type_code);
    while r.remaining() > 0 {
        let kind = r.u16()?;
        let n = r.u32()? as usize;
        let mut s = Reader {
            buf: r.take(n)?,
            pos: 0,
        };
        match (kind, ty) {
            (SECTION_GOSSIP, Some(MessageType::Ping | MessageType::Pong | MessageType::Meet)) => {
                let count = s.u16()? as usize;
                if count * GOSSIP_ENTRY_LEN != s.remaining() {
                    return Err(DecodeError::Malformed(
                        "gossip count disagrees with section length",
                    ));
                }
                let mut entries = Vec::with_capacity(count);
                for _ in 0..count {
                    entries.push(read_gossip(&mut s)?);
                }
                set_once(&mut gossip, entries)?;
            }
            (SECTION_FAIL, Some(MessageType::Fail)) => {
                let id = s.id()?;
                s.finish()?;
                set_once(&mut fail, id)?;
            }
            (SECTION_UPDATE, Some(MessageType::Update)) => {
                let id = s.id()?;
                let epoch = s.u64()?;
                let slots = s.slots()?;
                s.finish()?;
                set_once(&mut update, (id, epoch, slots))?;
            }
            (SECTION_PUBLISH, Some(MessageType::Publish | MessageType::PublishShard)) => {
                let channel = s.bytes_u32()?;
                let message = s.bytes_u32()?;
                s.finish()?;
                set_once(&mut publish, (channel, message))?;
            }
            // Unknown sections, and sections this type does not use, are skipped.
            _ => {}
        }
    }
    let missing = DecodeError::Malformed("required section missing");
    let body = match ty {
        Some(MessageType::Ping) => Body::Ping(gossip.unwrap_or_default()),
        Some(MessageType::Pong) => Body::Pong(gossip.unwrap_or_default()),
        Some(MessageType::Meet) => Body::Meet(gossip.unwrap_or_default()),
        Some(MessageType::Fail) => Body::Fail {
            node: fail.ok_or(missing)?,
        },
        Some(MessageType::Update) => {
            let (node, config_epoch, slots) = update.ok_or(missing)?;
            Body::Update {
                node,
                config_epoch,
                slots: Box::new(slots),
            }
        }
        Some(t @ (MessageType::Publish | MessageType::PublishShard)) => {
            let (channel, message) = publish.ok_or(missing)?;
            Body::Publish {
                channel,
                message,
                sharded: t == MessageType::PublishShard,
            }
        }
        Some(MessageType::FailoverAuthRequest) => Body::FailoverAuthRequest,
        Some(MessageType::FailoverAuthAck) => Body::FailoverAuthAck,
        Some(MessageType::MfStart) => Body::MfStart,
        Some(MessageType::Module) | None => Body::Unknown(type_code),
    };
    Ok(Message { header, body })
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::Malformed("duplicate section"));
    }
    *slot = Some(value);
    Ok(())
}

fn read_header(r: &mut Reader<'_>) -> Result<Header, DecodeError> {
    let sender = r.id()?;
    let peer_ref = r.opt_id()?;
    let master = r.opt_id()?;
    let current_epoch = r.u64()?;
    let config_epoch = r.u64()?;
    let repl_offset = r.u64()?;
    let flags = NodeFlags(r.u16()?);
    let cluster_fail = match r.u8()? {
        0 => false,
        1 => true,
        _ => return Err(DecodeError::Malformed("bad cluster state")),
    };
    let mflags = r.u8()?;
    let port = r.u16()?;
    let bus_port = r.u16()?;
    let tls_port = r.u16()?;
    let ip = r.ip()?;
    let n = r.u8()? as usize;
    let hostname = match n {
        0 => None,
        _ => Some(
            std::str::from_utf8(r.take(n)?)
                .map_err(|_| DecodeError::Malformed("hostname is not UTF-8"))?
                .to_string(),
        ),
    };
    let slots = r.slots()?;
    Ok(Header {
        sender,
        peer_ref,
        master,
        current_epoch,
        config_epoch,
        repl_offset,
        flags,
        cluster_fail,
        mflags,
        port,
        bus_port,
        tls_port,
        ip,
        hostname,
        slots,
    })
}

fn read_gossip(r: &mut Reader<'_>) -> Result<GossipEntry, DecodeError> {
    Ok(GossipEntry {
        id: r.id()?,
        flags: NodeFlags(r.u16()?),
        ip: r.ip()?,
        port: r.u16()?,
        bus_port: r.u16()?,
        ping_sent: r.u64()?,
        pong_received: r.u64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_id() -> impl Strategy<Value = NodeId> {
        "[0-9a-f]{40}".prop_map(|s| NodeId::parse(s.as_bytes()).unwrap())
    }

    fn arb_ip() -> impl Strategy<Value = Option<IpAddr>> {
        prop_oneof![
            Just(None),
            any::<[u8; 4]>().prop_map(|o| Some(IpAddr::V4(Ipv4Addr::from(o)))),
            any::<[u8; 16]>().prop_map(|o| Some(IpAddr::V6(Ipv6Addr::from(o)))),
        ]
    }

    fn arb_slots() -> impl Strategy<Value = SlotSet> {
        prop_oneof![
            Just(SlotSet::new()),
            (0u16..SLOT_COUNT, 0u16..SLOT_COUNT)
                .prop_map(|(a, b)| SlotSet::from_range(a.min(b), a.max(b))),
            proptest::collection::vec(0u16..SLOT_COUNT, 0..200)
                .prop_map(|v| v.into_iter().collect()),
            // Dense and fragmented: the bitmap encoding wins.
            any::<u64>().prop_map(|seed| {
                let mut rng = crate::Rng::new(seed);
                (0..SLOT_COUNT).filter(|_| rng.chance(0.5)).collect()
            }),
        ]
    }

    fn arb_header() -> impl Strategy<Value = Header> {
        (
            (
                arb_id(),
                proptest::option::of(arb_id()),
                proptest::option::of(arb_id()),
            ),
            (
                any::<u64>(),
                any::<u64>(),
                any::<u64>(),
                any::<u16>(),
                any::<bool>(),
                any::<u8>(),
            ),
            (any::<u16>(), any::<u16>(), any::<u16>(), arb_ip()),
            proptest::option::of("[a-z0-9.é-]{1,60}"),
            arb_slots(),
        )
            .prop_map(|(ids, nums, ports, hostname, slots)| Header {
                sender: ids.0,
                peer_ref: ids.1,
                master: ids.2,
                current_epoch: nums.0,
                config_epoch: nums.1,
                repl_offset: nums.2,
                flags: NodeFlags(nums.3),
                cluster_fail: nums.4,
                mflags: nums.5,
                port: ports.0,
                bus_port: ports.1,
                tls_port: ports.2,
                ip: ports.3,
                hostname,
                slots,
            })
    }

    fn arb_gossip() -> impl Strategy<Value = Vec<GossipEntry>> {
        proptest::collection::vec(
            (
                arb_id(),
                any::<u16>(),
                arb_ip(),
                any::<u16>(),
                any::<u16>(),
                any::<u64>(),
                any::<u64>(),
            )
                .prop_map(
                    |(id, flags, ip, port, bus_port, ping_sent, pong_received)| GossipEntry {
                        id,
                        flags: NodeFlags(flags),
                        ip,
                        port,
                        bus_port,
                        ping_sent,
                        pong_received,
                    },
                ),
            0..8,
        )
    }

    fn arb_body() -> impl Strategy<Value = Body> {
        prop_oneof![
            arb_gossip().prop_map(Body::Ping),
            arb_gossip().prop_map(Body::Pong),
            arb_gossip().prop_map(Body::Meet),
            arb_id().prop_map(|node| Body::Fail { node }),
            (arb_id(), any::<u64>(), arb_slots()).prop_map(|(node, config_epoch, slots)| {
                Body::Update {
                    node,
                    config_epoch,
                    slots: Box::new(slots),
                }
            }),
            (
                proptest::collection::vec(any::<u8>(), 0..64),
                proptest::collection::vec(any::<u8>(), 0..300),
                any::<bool>()
            )
                .prop_map(|(c, m, sharded)| Body::Publish {
                    channel: c.into(),
                    message: m.into(),
                    sharded
                }),
            Just(Body::FailoverAuthRequest),
            Just(Body::FailoverAuthAck),
            Just(Body::MfStart),
            (11u16..).prop_map(Body::Unknown),
            Just(Body::Unknown(9)),
        ]
    }

    fn arb_message() -> impl Strategy<Value = Message> {
        (arb_header(), arb_body()).prop_map(|(header, body)| Message { header, body })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn roundtrip(msg in arb_message()) {
            let frame = encode(&msg);
            prop_assert_eq!(frame_len(&frame), Ok(Some(frame.len())));
            prop_assert_eq!(decode(&frame), Ok(msg));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let _ = decode(&bytes);
            let _ = frame_len(&bytes);
        }

        // Random bytes behind a valid prefix and checksum reach the field parsers.
        #[test]
        fn random_content_with_valid_framing_never_panics(ty in 0u16..12, content in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let mut buf = Vec::new();
            buf.extend_from_slice(&MAGIC);
            buf.extend_from_slice(&WIRE_VERSION.to_be_bytes());
            buf.extend_from_slice(&ty.to_be_bytes());
            buf.extend_from_slice(&((PREFIX_LEN + content.len() + 4) as u32).to_be_bytes());
            buf.extend_from_slice(&content);
            let crc = crc32fast::hash(&buf);
            buf.extend_from_slice(&crc.to_be_bytes());
            let _ = decode(&buf);
        }

        // Corrupting a valid frame and fixing the checksum: parse errors, never panics.
        #[test]
        fn mutated_frames_never_panic(msg in arb_message(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            let mut buf = encode(&msg).to_vec();
            let body_len = buf.len() - 4;
            for (at, v) in flips {
                let at = PREFIX_LEN + at % (body_len - PREFIX_LEN);
                buf[at] = v;
            }
            let crc = crc32fast::hash(&buf[..body_len]);
            buf[body_len..].copy_from_slice(&crc.to_be_bytes());
            let _ = decode(&buf);
        }

        #[test]
        fn any_bit_flip_is_caught(msg in arb_message(), at in any::<usize>(), bit in 0u8..8) {
            let mut buf = encode(&msg).to_vec();
            let at = at % buf.len();
            buf[at] ^= 1 << bit;
            prop_assert!(decode(&buf).is_err());
        }
    }

    fn sample() -> Message {
        let id = NodeId::parse(&[b'a'; 40]).unwrap();
        Message {
            header: Header {
                sender: id,
                peer_ref: None,
                master: None,
                current_epoch: 3,
                config_epoch: 2,
                repl_offset: 0,
                flags: NodeFlags::MASTER,
                cluster_fail: false,
                mflags: 0,
                port: 7000,
                bus_port: 17000,
                tls_port: 0,
                ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                hostname: None,
                slots: SlotSet::from_range(0, 5460),
            },
            body: Body::Ping(vec![]),
        }
    }

    #[test]
    fn unknown_sections_are_skipped() {
        let frame = encode(&sample());
        // Insert an unknown section (kind 999) before the checksum.
        let mut buf = frame[..frame.len() - 4].to_vec();
        buf.extend_from_slice(&999u16.to_be_bytes());
        buf.extend_from_slice(&3u32.to_be_bytes());
        buf.extend_from_slice(b"xyz");
        let len = (buf.len() + 4) as u32;
        buf[8..12].copy_from_slice(&len.to_be_bytes());
        let crc = crc32fast::hash(&buf);
        buf.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(decode(&buf), Ok(sample()));
    }

    #[test]
    fn errors_are_classified() {
        let frame = encode(&sample()).to_vec();
        let mut bad = frame.clone();
        bad[0] = b'X';
        assert_eq!(decode(&bad), Err(DecodeError::BadMagic));
        let mut bad = frame.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(decode(&bad), Err(DecodeError::Checksum));
        assert_eq!(
            decode(&frame[..frame.len() - 1]),
            Err(DecodeError::Truncated)
        );
        let mut bad = frame.clone();
        bad[5] = 2;
        let n = bad.len() - 4;
        let crc = crc32fast::hash(&bad[..n]);
        bad[n..].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(decode(&bad), Err(DecodeError::BadVersion(2)));
        assert_eq!(frame_len(&frame[..5]), Ok(None));
    }

    #[test]
    fn a_one_range_ping_is_small() {
        // The bitmap would be 2048 bytes alone.
        assert!(encode(&sample()).len() < 250, "{}", encode(&sample()).len());
    }
}
