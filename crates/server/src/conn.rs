//! One client connection: read, parse every complete request, route each to
//! the core that owns its keys, and write the replies back in request order
//! with one write per batch.

use crate::core::{ClientInfo, Core, Op, Out};
use crate::sync::Slot;
use bytes::{Bytes, BytesMut};
use commands::{CmdError, Exec, MultiKey};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use resp::{Protocol, Reply, RequestParser};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// A reply that is ready or still on its way back from another core, with
/// the protocol in force when its command ran (HELLO may change it mid-pipeline).
enum Pending {
    Ready(Protocol, Reply),
    Remote(Protocol, Rc<Slot<Vec<Out>>>),
}

/// Per-connection state the commands may change.
pub struct Conn {
    pub core: Rc<Core>,
    pub info: Rc<RefCell<ClientInfo>>,
    pub proto: Protocol,
    pub quit: bool,
}

const READ_CHUNK: usize = 64 * 1024;

/// Serves one accepted connection until it closes.
pub async fn serve(core: Rc<Core>, stream: TcpStream) {
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
        last_active: now,
        last_cmd: "NULL".into(),
        resp: 2,
    }));
    core.clients.borrow_mut().insert(id, info.clone());
    let mut conn = Conn { core: core.clone(), info, proto: Protocol::Resp2, quit: false };
    if let Err(e) = conn.run(stream).await {
        tracing::debug!(client = id, "connection ended: {e}");
    }
    core.clients.borrow_mut().remove(&id);
    node.connected_clients.fetch_sub(1, Ordering::Relaxed);
}

impl Conn {
    async fn run(&mut self, mut stream: TcpStream) -> std::io::Result<()> {
        let limits = self.core.config.borrow().parser_limits();
        let mut parser = RequestParser::new(limits);
        let mut inbuf = BytesMut::with_capacity(READ_CHUNK);
        let mut out = BytesMut::with_capacity(16 * 1024);
        let mut scratch = vec![0u8; READ_CHUNK];
        let mut pending: Vec<Pending> = Vec::new();
        loop {
            let n = stream.read(&mut scratch).await?;
            if n == 0 {
                return Ok(());
            }
            inbuf.extend_from_slice(&scratch[..n]);
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
            while !self.quit {
                match parser.next_command(&mut inbuf) {
                    Ok(Some(argv)) => {
                        let p = self.dispatch(argv, &stream).await;
                        pending.push(p);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        protocol_error = Some(e);
                        break;
                    }
                }
            }
            for p in pending.drain(..) {
                match p {
                    Pending::Ready(proto, reply) => reply.encode(proto, &mut out),
                    Pending::Remote(proto, slot) => {
                        let reply = slot.take().await.into_iter().next().map(Out::into_reply).unwrap_or(Reply::Nil);
                        reply.encode(proto, &mut out);
                    }
                }
            }
            if let Some(e) = &protocol_error {
                Reply::error(format!("ERR {e}")).encode(self.proto, &mut out);
            }
            if out_limit > 0 && out.len() > out_limit {
                tracing::warn!(client = self.info.borrow().id, bytes = out.len(), "closing client: reply over client-output-buffer-limit");
                return Ok(());
            }
            if !out.is_empty() {
                stream.write_all(&out).await?;
                out.clear();
                if out.capacity() > 4 * READ_CHUNK {
                    out = BytesMut::with_capacity(16 * 1024);
                }
            }
            if protocol_error.is_some() || self.quit {
                let _ = stream.close().await;
                return Ok(());
            }
            if inbuf.is_empty() && inbuf.capacity() > 4 * READ_CHUNK {
                inbuf = BytesMut::with_capacity(READ_CHUNK);
            }
        }
    }

    /// Routes one request. Commands that span cores (and connection-level
    /// commands) complete before this returns, so later requests of the
    /// pipeline cannot overtake them; single-core commands are only started.
    async fn dispatch(&mut self, argv: Vec<Bytes>, stream: &TcpStream) -> Pending {
        let proto = self.proto;
        if argv.is_empty() {
            return Pending::Ready(proto, Reply::error("ERR empty command"));
        }
        self.core.commands_processed.set(self.core.commands_processed.get() + 1);
        let Some(idx) = commands::lookup_index(&argv[0]) else {
            return Pending::Ready(proto, commands::unknown_command_error(&argv).into());
        };
        let spec = &commands::table()[idx];
        {
            let mut info = self.info.borrow_mut();
            info.last_active = Instant::now();
            if info.last_cmd != spec.name {
                info.last_cmd = spec.name.to_string();
            }
        }
        if !spec.arity_ok(argv.len()) {
            return Pending::Ready(proto, CmdError::WrongArity(spec.name.to_string()).into());
        }
        if self.core.node.loading() && !spec.flags.contains(&"loading") {
            return Pending::Ready(proto, Reply::error("LOADING Redis is loading the dataset in memory"));
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
        match self.core.call_start(owner, None, vec![Op::Cmd { idx: idx as u16, argv }]) {
            Ok(outs) => Pending::Ready(proto, outs.into_iter().next().map(Out::into_reply).unwrap_or(Reply::Nil)),
            Err(slot) => Pending::Remote(proto, slot),
        }
    }
}
