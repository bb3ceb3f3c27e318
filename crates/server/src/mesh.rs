//! The cross-core mesh: one bounded lock-free queue per ordered pair of
//! cores, drained by the receiving core's socket driver (`net`).
//!
//! Why not glommio's channel mesh: its receivers are only looked at when the
//! executor makes a full pass (poll its rings, cancel and re-arm its
//! preemption timer: three `io_uring_enter` calls), so a forwarded request
//! and its reply each waited for one of those passes on the core they came
//! to. Here the driver, which already polls the core's sockets with
//! `epoll_wait` between passes, pops these queues in the same loop: a
//! message is picked up within a few hundred nanoseconds while the core is
//! awake.
//!
//! A core that has gone quiet parks on its epoll descriptor. Each core has
//! an eventfd registered in that epoll set, and a `sleeping` flag: a sender
//! pushes, then writes the eventfd only if the flag is up; the receiver
//! raises the flag, then looks at its queues once more before it parks.
//! With a full fence on both sides between the write of one and the read of
//! the other, at least one of them sees the other, so no message is left
//! waiting for a core that sleeps.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{fence, AtomicBool, Ordering};

use crossbeam_queue::ArrayQueue;

use crate::core::Batch;

pub struct Mesh {
    cores: usize,
    /// `queues[dst * cores + src]`: batches from `src` to `dst`.
    queues: Vec<ArrayQueue<Batch>>,
    sleeping: Vec<AtomicBool>,
    wake_fds: Vec<OwnedFd>,
}

impl Mesh {
    /// Queues of `capacity` batches between each pair of `cores` cores.
    pub fn new(cores: usize, capacity: usize) -> io::Result<Mesh> {
        let mut wake_fds = Vec::with_capacity(cores);
        for _ in 0..cores {
            // SAFETY: plain syscall; the result is checked before use.
            let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` is a fresh descriptor that nothing else owns.
            wake_fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        Ok(Mesh {
            cores,
            queues: (0..cores * cores).map(|_| ArrayQueue::new(capacity.max(1))).collect(),
            sleeping: (0..cores).map(|_| AtomicBool::new(false)).collect(),
            wake_fds,
        })
    }

    /// Queues `batch` for core `dst`, waking it if it sleeps. Hands the batch
    /// back when the queue is full (the caller waits and tries again).
    pub fn try_send(&self, src: usize, dst: usize, batch: Batch) -> Result<(), Batch> {
        self.queues[dst * self.cores + src].push(batch)?;
        fence(Ordering::SeqCst);
        if self.sleeping[dst].load(Ordering::SeqCst) {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live u64 to an eventfd we own. A
            // failure (counter saturated) means a wake-up is pending anyway.
            unsafe { libc::write(self.wake_fds[dst].as_raw_fd(), (&one as *const u64).cast(), 8) };
        }
        Ok(())
    }

    /// Pops every batch waiting for core `dst`, oldest first per sender.
    /// Returns how many there were.
    pub fn drain(&self, dst: usize, mut f: impl FnMut(Batch)) -> usize {
        let mut n = 0;
        for src in 0..self.cores {
            let q = &self.queues[dst * self.cores + src];
            while let Some(b) = q.pop() {
                f(b);
                n += 1;
            }
        }
        n
    }

    fn pending(&self, dst: usize) -> bool {
        (0..self.cores).any(|src| !self.queues[dst * self.cores + src].is_empty())
    }

    /// Core `dst` is about to park: raises its flag, then checks its queues
    /// once more. False (flag lowered again) when something has arrived.
    pub fn prepare_to_sleep(&self, dst: usize) -> bool {
        self.sleeping[dst].store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.pending(dst) {
            self.sleeping[dst].store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Core `dst` woke up: lowers its flag and clears its eventfd.
    pub fn awake(&self, dst: usize) {
        self.sleeping[dst].store(false, Ordering::SeqCst);
        let mut buf = 0u64;
        // SAFETY: reads 8 bytes into a live u64; EAGAIN (nothing written) is fine.
        unsafe { libc::read(self.wake_fds[dst].as_raw_fd(), (&mut buf as *mut u64).cast(), 8) };
    }

    /// The eventfd that wakes core `dst`, for its epoll set.
    pub fn wake_fd(&self, dst: usize) -> RawFd {
        self.wake_fds[dst].as_raw_fd()
    }
}
