//! A small blocking RESP client for everything that is not the measured load:
//! readiness probes, INFO, CONFIG, FLUSHALL, CLIENT INFO, bulk loading.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use resp::{parse_reply, Reply};

use crate::workload::encode_command;

/// A blocking connection with a read timeout.
pub struct Client {
    stream: TcpStream,
    rbuf: BytesMut,
}

fn proto_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

impl Client {
    /// Connects with `timeout` for the connection and for every reply.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Client {
            stream,
            rbuf: BytesMut::with_capacity(64 * 1024),
        })
    }

    /// Keeps trying to connect and PING until `deadline`.
    pub fn wait_ready(addr: SocketAddr, deadline: Instant) -> io::Result<Client> {
        loop {
            let attempt =
                Client::connect(addr, Duration::from_millis(500)).and_then(|mut c| {
                    match c.command(&[b"PING"])? {
                        Reply::Simple(_) => Ok(c),
                        other => Err(proto_err(format!("PING answered {}", reply_text(&other)))),
                    }
                });
            match attempt {
                Ok(mut c) => {
                    c.set_timeout(Duration::from_secs(30))?;
                    return Ok(c);
                }
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    pub fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(timeout))?;
        self.stream.set_write_timeout(Some(timeout))
    }

    /// Sends one command and reads its reply.
    pub fn command(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        let mut out = Vec::new();
        encode_command(&mut out, args);
        self.stream.write_all(&out)?;
        self.read_reply()
    }

    /// `command` with string arguments.
    pub fn cmd(&mut self, args: &[&str]) -> io::Result<Reply> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.command(&args)
    }

    /// Reads the next reply.
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        loop {
            if let Some(r) = parse_reply(&mut self.rbuf).map_err(proto_err)? {
                return Ok(r);
            }
            let mut chunk = [0u8; 64 * 1024];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed",
                ));
            }
            self.rbuf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Writes pre-encoded requests and reads `count` replies; returns the
    /// number of error replies and the first one.
    pub fn pipeline(&mut self, requests: &[u8], count: usize) -> io::Result<(u64, Option<String>)> {
        self.stream.write_all(requests)?;
        let mut errors = 0;
        let mut first = None;
        for _ in 0..count {
            if let Reply::Error(e) = self.read_reply()? {
                errors += 1;
                first.get_or_insert_with(|| String::from_utf8_lossy(&e).into_owned());
            }
        }
        Ok((errors, first))
    }

    /// `INFO section` as a field map (all sections when `section` is empty).
    pub fn info(&mut self, section: &str) -> io::Result<HashMap<String, String>> {
        let reply = if section.is_empty() {
            self.cmd(&["INFO"])?
        } else {
            self.cmd(&["INFO", section])?
        };
        match reply {
            Reply::Bulk(b) | Reply::Verbatim(b) => Ok(parse_info(&String::from_utf8_lossy(&b))),
            other => Err(proto_err(format!("INFO answered {}", reply_text(&other)))),
        }
    }

    /// An integer field of INFO.
    pub fn info_u64(&mut self, section: &str, field: &str) -> io::Result<Option<u64>> {
        Ok(self.info(section)?.get(field).and_then(|v| v.parse().ok()))
    }

    /// Hands the socket and any bytes already read to the caller.
    pub fn into_parts(self) -> (TcpStream, BytesMut) {
        (self.stream, self.rbuf)
    }
}

/// Parses INFO text into `field -> value`.
pub fn parse_info(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The `core=` field of a CLIENT INFO line (redcore only).
pub fn client_core(line: &str) -> Option<usize> {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix("core="))
        .and_then(|v| v.parse().ok())
}

/// A short human-readable rendering of a reply (for messages).
pub fn reply_text(r: &Reply) -> String {
    let s = match r {
        Reply::Simple(b) | Reply::Bulk(b) | Reply::Verbatim(b) | Reply::BigNumber(b) => {
            String::from_utf8_lossy(b).into_owned()
        }
        Reply::Error(e) => format!("error: {}", String::from_utf8_lossy(e)),
        Reply::Int(i) => i.to_string(),
        Reply::Double(d) => d.to_string(),
        Reply::Bool(b) => b.to_string(),
        Reply::Nil | Reply::NilArray => "(nil)".into(),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => format!("[{} items]", v.len()),
        Reply::Map(v) | Reply::Pairs(v) => format!("{{{} pairs}}", v.len()),
        Reply::BulkArray(wire) => format!("[{} bytes of bulk strings]", wire.len()),
    };
    s.chars().take(200).collect()
}

/// The error text of an error reply.
pub fn error_of(r: &Reply) -> Option<String> {
    match r {
        Reply::Error(e) => Some(String::from_utf8_lossy(e).into_owned()),
        _ => None,
    }
}

/// Sends `count` commands built by `make(i, out)` over one connection in
/// pipelined batches of `batch`; returns the number of error replies and the
/// first error.
pub fn bulk_load(
    addr: SocketAddr,
    count: u64,
    batch: usize,
    mut make: impl FnMut(u64, &mut Vec<u8>),
) -> io::Result<(u64, Option<String>)> {
    let mut c = Client::connect(addr, Duration::from_secs(30))?;
    let mut errors = 0;
    let mut first = None;
    let mut out = Vec::with_capacity(batch * 64);
    let mut i = 0;
    while i < count {
        out.clear();
        let n = (count - i).min(batch as u64);
        for j in 0..n {
            make(i + j, &mut out);
        }
        let (e, f) = c.pipeline(&out, n as usize)?;
        errors += e;
        if first.is_none() {
            first = f;
        }
        i += n;
    }
    Ok((errors, first))
}

#[cfg(test)]
mod tests {
    #[test]
    fn info_and_client_info() {
        let m = super::parse_info("# Stats\r\ntotal_commands_processed:12\r\ncores:2\r\n");
        assert_eq!(m["total_commands_processed"], "12");
        assert_eq!(m["cores"], "2");
        assert_eq!(super::client_core("id=3 addr=x core=1 lib-ver="), Some(1));
        assert_eq!(super::client_core("id=3 addr=x"), None);
    }
}
