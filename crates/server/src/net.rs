//! Client sockets, driven by one epoll instance per core.
//!
//! Why not glommio's `TcpStream` for clients: it arms a one-shot io_uring
//! poll per socket per read. glommio creates its rings without
//! `IORING_SETUP_COOP_TASKRUN`, so each poll completion that lands while the
//! core is busy is delivered with an inter-processor interrupt. Under load
//! that is one interrupt per request, and profiles showed it roughly doubled
//! the CPU time per request (benches/README.md, "Socket path").
//!
//! Here every client socket is registered once, edge-triggered, in the
//! core's own epoll instance. A driver task collects readiness with a
//! non-blocking `epoll_wait` while there is work, once per turn of the
//! executor, and only when nothing is ready does it park on the epoll file
//! descriptor through glommio (one io_uring poll on one descriptor).
//! Connections then read and write with plain non-blocking `recv`/`send`, as
//! an epoll event loop would. The driver also takes in the messages of the
//! other cores (`mesh`), and while its core is quiet it polls sockets and
//! messages in short bursts between executor passes, so that what arrives is
//! handled at once rather than after the next pass.

use bytes::BytesMut;
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

/// One direction of a socket: whether an attempt may succeed, and who waits.
#[derive(Default)]
struct Direction {
    ready: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Direction {
    fn set_ready(&self) {
        self.ready.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            if self.ready.get() {
                Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

#[derive(Default)]
struct Registration {
    read: Direction,
    write: Direction,
    /// Counted in `WOKEN_READERS` until the connection reads.
    woke_reader: Cell<bool>,
}

impl Registration {
    fn reader_ran(&self) {
        if self.woke_reader.replace(false) {
            WOKEN_READERS.with(|c| c.set(c.get() - 1));
        }
    }
}

/// Messages from the other cores, polled by the driver along with the
/// sockets (`mesh`).
pub trait Inbox {
    /// Handles whatever has arrived; returns how many batches there were.
    fn poll(&self) -> usize;
    /// Called before the core parks; false when something arrived meanwhile.
    fn prepare_to_sleep(&self) -> bool;
    /// Called when the core wakes up from parking.
    fn awake(&self);
    /// A descriptor that turns readable when a message comes for a parked core.
    fn wake_fd(&self) -> RawFd;
}

/// The epoll token of the inbox's wake-up descriptor.
const WAKE_TOKEN: u64 = u64::MAX;

/// A core's epoll instance and the sockets registered in it.
pub struct Poller {
    epfd: OwnedFd,
    regs: RefCell<Vec<Option<Rc<Registration>>>>,
    free: RefCell<Vec<usize>>,
    inbox: Rc<dyn Inbox>,
}

thread_local! {
    static POLLER: RefCell<Option<Rc<Poller>>> = const { RefCell::new(None) };
    /// How long the driver keeps polling after the last readiness event
    /// before it parks (`spin-before-park-us`).
    static IDLE_SPIN: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// Connections woken by incoming data that have not read it yet.
    static WOKEN_READERS: Cell<usize> = const { Cell::new(0) };
}

/// Whether other connections were woken by incoming data and have not read
/// it yet: a connection that yields before writing then lets them run first,
/// and the replies leave back to back (one wake-up of a client for many).
pub fn readers_waiting() -> bool {
    WOKEN_READERS.with(|n| n.get() > 0)
}

/// Sets how long this core's driver polls on after its sockets go quiet. A
/// request that arrives meanwhile is seen by the next `epoll_wait` instead of
/// waking a parked thread, which costs tens of microseconds on a VM.
pub fn set_idle_spin(d: Duration) {
    IDLE_SPIN.with(|s| s.set(d));
}

const MAX_EVENTS: usize = 256;

impl Poller {
    /// This core's poller (`start` made it).
    fn current() -> io::Result<Rc<Poller>> {
        POLLER
            .with(|p| p.borrow().clone())
            .ok_or_else(|| io::Error::other("the socket driver of this core has not been started"))
    }

    /// Creates this core's poller and starts its driver task, with `inbox`
    /// polled alongside the sockets. Must come before the core's first
    /// socket. The inbox is in place before the driver first runs, so it
    /// never parks without raising the flag that tells the other cores to
    /// wake it.
    pub fn start(inbox: Rc<dyn Inbox>) -> io::Result<()> {
        if POLLER.with(|p| p.borrow().is_some()) {
            return Err(io::Error::other("the socket driver of this core is already running"));
        }
        // SAFETY: plain syscall; the result is checked before use.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let epfd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut ev = libc::epoll_event { events: (libc::EPOLLIN | libc::EPOLLET) as u32, u64: WAKE_TOKEN };
        // SAFETY: both descriptors are open; `ev` outlives the call.
        if unsafe { libc::epoll_ctl(epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, inbox.wake_fd(), &mut ev) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let p = Rc::new(Poller { epfd, regs: RefCell::new(Vec::new()), free: RefCell::new(Vec::new()), inbox });
        POLLER.with(|slot| *slot.borrow_mut() = Some(p.clone()));
        glommio::spawn_local(drive(p)).detach();
        Ok(())
    }

    fn poll_inbox(&self) -> usize {
        self.inbox.poll()
    }

    fn register(&self, fd: RawFd) -> io::Result<(usize, Rc<Registration>)> {
        let reg = Rc::new(Registration::default());
        reg.read.ready.set(true);
        reg.write.ready.set(true);
        let token = match self.free.borrow_mut().pop() {
            Some(t) => {
                self.regs.borrow_mut()[t] = Some(reg.clone());
                t
            }
            None => {
                let mut regs = self.regs.borrow_mut();
                regs.push(Some(reg.clone()));
                regs.len() - 1
            }
        };
        let mut ev = libc::epoll_event { events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32, u64: token as u64 };
        // SAFETY: both descriptors are open; `ev` outlives the call.
        if unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            let e = io::Error::last_os_error();
            self.release(token);
            return Err(e);
        }
        Ok((token, reg))
    }

    fn deregister(&self, fd: RawFd, token: usize) {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: as in `register`; a failure only means it is already gone.
        unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut ev) };
        self.release(token);
    }

    fn release(&self, token: usize) {
        self.regs.borrow_mut()[token] = None;
        self.free.borrow_mut().push(token);
    }

    /// Collects what is ready now without blocking; returns how many events came.
    fn poll_now(&self, events: &mut [libc::epoll_event]) -> io::Result<usize> {
        // SAFETY: `events` is a valid buffer of the length passed.
        let n = unsafe { libc::epoll_wait(self.epfd.as_raw_fd(), events.as_mut_ptr(), events.len() as i32, 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted { Ok(0) } else { Err(e) };
        }
        let regs = self.regs.borrow();
        for ev in &events[..n as usize] {
            if ev.u64 == WAKE_TOKEN {
                continue;
            }
            let (bits, token) = (ev.events, ev.u64 as usize);
            let Some(Some(reg)) = regs.get(token) else { continue };
            let trouble = (libc::EPOLLERR | libc::EPOLLHUP) as u32;
            if bits & (libc::EPOLLIN as u32 | libc::EPOLLRDHUP as u32 | trouble) != 0 {
                if reg.read.waker.borrow().is_some() && !reg.woke_reader.replace(true) {
                    WOKEN_READERS.with(|c| c.set(c.get() + 1));
                }
                reg.read.set_ready();
            }
            if bits & (libc::EPOLLOUT as u32 | trouble) != 0 {
                reg.write.set_ready();
            }
        }
        Ok(n as usize)
    }
}

/// How long the driver polls in a tight loop, between executor passes, while
/// its core is quiet: a request or a message from another core that arrives
/// meanwhile is handled at once instead of after the next pass (three
/// `io_uring_enter` calls).
const BURST: Duration = Duration::from_micros(10);

/// The driver: hands out readiness and handles the inbox once per executor
/// turn while the core is busy, polls in short bursts between turns while it
/// is quiet, and parks on the epoll descriptor after `IDLE_SPIN` of quiet.
async fn drive(p: Rc<Poller>) {
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; MAX_EVENTS];
    let mut quiet_since: Option<std::time::Instant> = None;
    loop {
        match p.poll_now(&mut events) {
            Ok(n) if n + p.poll_inbox() > 0 => {
                // Let the woken connections run, then look again.
                quiet_since = None;
                next_turn().await;
            }
            Ok(_) => {
                let now = std::time::Instant::now();
                let since = *quiet_since.get_or_insert(now);
                if now.duration_since(since) < IDLE_SPIN.with(|s| s.get()) {
                    let end = now + BURST;
                    while std::time::Instant::now() < end {
                        if p.poll_now(&mut events).unwrap_or(0) + p.poll_inbox() > 0 {
                            quiet_since = None;
                            break;
                        }
                        // Not `sched_yield`: it would hand over a CPU the
                        // core shares, but a loop of it pushes the core's
                        // scheduler deadline ever later, and redis-benchmark
                        // MSET across two cores then stalled for 1.5 s.
                        std::hint::spin_loop();
                    }
                    next_turn().await;
                } else {
                    quiet_since = None;
                    if p.inbox.prepare_to_sleep() {
                        park_on(p.epfd.as_raw_fd()).await;
                    }
                    p.inbox.awake();
                }
            }
            Err(e) => {
                tracing::error!("epoll_wait failed: {e}");
                glommio::timer::sleep(Duration::from_millis(1)).await;
            }
        }
    }
}

/// Waits until `fd` is readable, through glommio's reactor. glommio arms a
/// readiness poll when it wraps a descriptor in a stream and reports it on
/// the first read; the read itself then fails (an epoll descriptor is not a
/// socket), which is expected and ignored.
async fn park_on(fd: RawFd) {
    use futures_lite::AsyncReadExt;
    // SAFETY: plain syscall on a descriptor we own.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        glommio::timer::sleep(Duration::from_micros(100)).await;
        return;
    }
    // SAFETY: `dup` is a fresh descriptor; the stream owns and closes it.
    let mut s = unsafe { glommio::net::TcpStream::from_raw_fd(dup) };
    let _ = s.read(&mut [0u8; 1]).await;
}

/// Returns after the executor's next turn: after the tasks woken now have
/// run and glommio has polled its own I/O (timers, cross-core channels).
async fn next_turn() {
    let mut timer = Some(glommio::timer::Timer::new(Duration::from_micros(1)));
    let mut yielded = false;
    poll_fn(|cx| {
        if let Some(t) = timer.as_mut() {
            if std::pin::Pin::new(t).poll(cx).is_pending() {
                return Poll::Pending;
            }
            timer = None;
            if !yielded {
                // The timer was already due: at least go behind the woken tasks.
                yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        Poll::Ready(())
    })
    .await
}

use std::future::Future;

/// A client connection's socket.
pub struct Socket {
    inner: std::net::TcpStream,
    token: usize,
    reg: Rc<Registration>,
    poller: Rc<Poller>,
}

impl Socket {
    /// Takes over an accepted glommio stream: its descriptor moves to this
    /// core's epoll instance.
    pub fn from_glommio(stream: glommio::net::TcpStream) -> io::Result<Socket> {
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::fcntl(stream.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        drop(stream);
        // SAFETY: `fd` is a fresh descriptor that only this stream owns.
        let inner = unsafe { std::net::TcpStream::from_raw_fd(fd) };
        inner.set_nonblocking(true)?;
        let poller = Poller::current()?;
        let (token, reg) = poller.register(fd)?;
        Ok(Socket { inner, token, reg, poller })
    }

    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.inner.set_nodelay(on)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// `recv` into `len` bytes at `at`, which the caller guarantees are
    /// valid for writes (initialized or not).
    fn recv_raw(&self, at: *mut u8, len: usize, flags: i32) -> Option<io::Result<usize>> {
        // SAFETY: the caller's guarantee about `at` and `len`.
        let r = unsafe { libc::recv(self.inner.as_raw_fd(), at.cast(), len, flags | libc::MSG_DONTWAIT) };
        if r >= 0 {
            return Some(Ok(r as usize));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock => {
                self.reg.read.ready.set(false);
                None
            }
            io::ErrorKind::Interrupted => None,
            _ => Some(Err(e)),
        }
    }

    /// Reads what has arrived into the free space at the end of `buf`, after
    /// reserving room for `want` bytes there; returns how many bytes were
    /// appended (0 at end of stream). Dropping the future while it waits
    /// loses nothing.
    ///
    /// The data lands where the parser reads it: no copy through a second
    /// buffer, and no second buffer's cache lines to touch.
    pub async fn read_into(&self, buf: &mut BytesMut, want: usize) -> io::Result<usize> {
        buf.reserve(want);
        let spare = buf.spare_capacity_mut();
        let n = self.read_raw(spare.as_mut_ptr().cast(), spare.len()).await?;
        // SAFETY: `recv` initialized the first `n` bytes of the spare capacity.
        unsafe { buf.set_len(buf.len() + n) };
        Ok(n)
    }

    /// Reads into `len` bytes at `at`, valid for writes (see `recv_raw`).
    async fn read_raw(&self, at: *mut u8, len: usize) -> io::Result<usize> {
        loop {
            if self.reg.read.ready.get() {
                self.reg.reader_ran();
                if let Some(r) = self.recv_raw(at, len, 0) {
                    if let Ok(n) = r {
                        // Edge-triggered: a short read drained the socket, and
                        // anything arriving later raises a new event.
                        if n > 0 && n < len {
                            self.reg.read.ready.set(false);
                        }
                    }
                    return r;
                }
            }
            self.reg.read.wait().await;
        }
    }

    /// Like `read_into`, but into `buf` and leaving the data in the socket.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.reg.read.ready.get() {
                if let Some(r) = self.recv_raw(buf.as_mut_ptr(), buf.len(), libc::MSG_PEEK) {
                    return r;
                }
            }
            self.reg.read.wait().await;
        }
    }

    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.try_send(buf)? {
                0 => self.reg.write.wait().await,
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Sends what the socket takes of `buf` now, without waiting: how many
    /// bytes went out (0 when it is full).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        while self.reg.write.ready.get() && !buf.is_empty() {
            // SAFETY: `buf` is valid for reads of its length.
            let r = unsafe { libc::send(self.inner.as_raw_fd(), buf.as_ptr().cast(), buf.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
            if r >= 0 {
                return Ok(r as usize);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => self.reg.write.ready.set(false),
                io::ErrorKind::Interrupted => continue,
                _ => return Err(e),
            }
        }
        Ok(0)
    }

    /// Shuts down the sending side (the peer sees end of stream).
    pub fn close(&self) {
        let _ = self.inner.shutdown(std::net::Shutdown::Write);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.reg.reader_ran();
        self.poller.deregister(self.inner.as_raw_fd(), self.token);
    }
}

/// A socket already listening where binding `bind`:`port` would clash (the
/// same address, or a wildcard on either side), from the kernel's socket
/// tables in /proc/net/tcp and tcp6. A trial bind cannot tell: connections
/// a killed server left behind (closing, without SO_REUSEADDR) make it fail
/// although nothing listens, and SO_REUSEPORT listeners of the same user let
/// a reuse-port bind succeed.
pub fn listener_on(bind: &str, port: u16) -> Option<SocketAddr> {
    if port == 0 {
        return None;
    }
    let ours: std::net::IpAddr = bind.parse().ok().or_else(|| {
        use std::net::ToSocketAddrs;
        (bind, port).to_socket_addrs().ok()?.next().map(|a| a.ip())
    })?;
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|table| table.lines().skip(1).filter_map(parse_listener).collect::<Vec<_>>())
        .find(|a| a.port() == port && addresses_clash(a.ip(), ours))
}

/// The local address of a /proc/net/tcp{,6} line in the LISTEN state.
fn parse_listener(line: &str) -> Option<SocketAddr> {
    let mut fields = line.split_whitespace();
    let local = fields.nth(1)?;
    let state = fields.nth(1)?;
    if state != "0A" {
        return None;
    }
    let (addr, port) = local.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    // The kernel prints each 32-bit word of the address as a native integer.
    let mut bytes = Vec::with_capacity(16);
    for word in addr.as_bytes().chunks(8) {
        let w = u32::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()?;
        bytes.extend_from_slice(&w.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn addresses_clash(a: std::net::IpAddr, b: std::net::IpAddr) -> bool {
    let v4 = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    let (a, b) = (v4(a), v4(b));
    a == b || a.is_unspecified() || b.is_unspecified()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_tcp_lines() {
        let v4 = "   0: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0";
        let est = "   1: 0100007F:18EB 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 20 4 30 10 -1";
        let v6 = "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0";
        assert_eq!(parse_listener(v4), Some("127.0.0.1:6379".parse().unwrap()));
        assert_eq!(parse_listener(est), None);
        assert_eq!(parse_listener(v6), Some("[::]:8080".parse().unwrap()));
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(addresses_clash(ip("127.0.0.1"), ip("127.0.0.1")));
        assert!(addresses_clash(ip("0.0.0.0"), ip("127.0.0.1")));
        assert!(addresses_clash(ip("::"), ip("127.0.0.1")));
        assert!(addresses_clash(ip("::ffff:127.0.0.1"), ip("127.0.0.1")));
        assert!(!addresses_clash(ip("127.0.0.1"), ip("127.0.0.2")));
    }

    #[test]
    fn finds_a_real_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert_eq!(listener_on("127.0.0.1", port).map(|a| a.port()), Some(port));
        assert_eq!(listener_on("0.0.0.0", port).map(|a| a.port()), Some(port));
        drop(l);
        assert_eq!(listener_on("127.0.0.1", port), None);
    }
}
