//! SHUTDOWN, and the signals that ask for the same (SIGTERM, SIGINT).
//!
//! ```text
//! SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
//! ```
//!
//! The core that shuts the node down first takes the gate of every core
//! (lowest first, like any multi-core command), so no client command runs
//! anywhere from then on and what is persisted is the state of one instant.
//! With the gates held, every core writes and fsyncs its log (appendonly),
//! then every core takes a snapshot (when `save` rules are configured or
//! SAVE is given, never with NOSAVE), and the process exits with status 0:
//! the client gets no reply, its connection just closes. When a step fails
//! the gates are released, the client gets an error and the node keeps
//! serving, unless FORCE says to exit anyway. While the data is still
//! loading nothing is written (a half-loaded shard must not replace the
//! files): the process exits at once.
//!
//! redcore has no replicas to wait for, so NOW changes nothing and no
//! shutdown is ever "in progress" for ABORT to cancel.
//!
//! Signals: `main` blocks SIGTERM and SIGINT before any other thread starts
//! (threads inherit the mask) and a dedicated thread takes them with
//! `sigwait`, outside any signal handler. It raises a flag that a task on
//! core 0 polls every 100 ms (a plain thread has no way to wake a glommio
//! executor), and that task runs the same shutdown as a SHUTDOWN without
//! arguments; if it fails the node logs why and keeps running, as Redis
//! does. A SIGINT while a shutdown is under way exits at once, status 1.

use crate::core::{Core, Op, Out};
use bytes::Bytes;
use commands::CmdError;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Whether to snapshot before exiting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Save {
    /// When `save` rules are configured (no argument, or a signal).
    #[default]
    ByConfig,
    /// SAVE.
    Always,
    /// NOSAVE.
    Never,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub save: Save,
    /// FORCE: exit even when persisting failed.
    pub force: bool,
}

/// What a SHUTDOWN command asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    Shutdown(Options),
    Abort,
}

/// Parses the arguments after `SHUTDOWN`. Every flag may repeat; SAVE with
/// NOSAVE, or ABORT with anything else, is a syntax error.
pub fn parse(args: &[Bytes]) -> Result<Request, CmdError> {
    let (mut nosave, mut save, mut now, mut force, mut abort) = (false, false, false, false, false);
    for arg in args {
        match arg.to_ascii_uppercase().as_slice() {
            b"NOSAVE" => nosave = true,
            b"SAVE" => save = true,
            b"NOW" => now = true,
            b"FORCE" => force = true,
            b"ABORT" => abort = true,
            _ => return Err(CmdError::Syntax),
        }
    }
    if (nosave && save) || (abort && (nosave || save || now || force)) {
        return Err(CmdError::Syntax);
    }
    if abort {
        return Ok(Request::Abort);
    }
    let save = match (nosave, save) {
        (true, _) => Save::Never,
        (_, true) => Save::Always,
        _ => Save::ByConfig,
    };
    Ok(Request::Shutdown(Options { save, force }))
}

/// A signal asked for a shutdown that has not ended (failed) yet.
static SIGNALLED: AtomicBool = AtomicBool::new(false);
/// Core 0 watches for signals (before that, no data is loaded yet).
static WATCHING: AtomicBool = AtomicBool::new(false);
/// Shutdowns under way, from commands and signals.
static IN_PROGRESS: AtomicUsize = AtomicUsize::new(0);

/// Persists the node and exits the process; returns only when persisting
/// failed without FORCE (the reason is logged) and the node keeps serving.
pub async fn shutdown(core: &Core, opts: Options) {
    IN_PROGRESS.fetch_add(1, Ordering::SeqCst);
    persist_and_exit(core, opts).await;
    IN_PROGRESS.fetch_sub(1, Ordering::SeqCst);
}

async fn persist_and_exit(core: &Core, opts: Options) {
    let node = core.node.clone();
    if node.loading() {
        tracing::warn!("shutdown while the data is loading: nothing is saved");
        exit_now();
    }
    let save = match opts.save {
        Save::Never => false,
        Save::Always => true,
        Save::ByConfig => crate::config::parse_save_rules(&core.config.borrow().save).map(|r| !r.is_empty()).unwrap_or(false),
    };
    let cores: Vec<usize> = (0..node.cores()).collect();
    let tx = core.new_tx();
    // From here on no client command runs on any core.
    core.lock_all(tx, &cores).await;
    let mut ok = true;
    // A no-op on cores without appendonly.
    if !core.broadcast(Some(tx), || Op::SyncLog).await.iter().all(|o| matches!(o, Out::Flag(true))) {
        tracing::error!("shutdown: the append-only log could not be written and fsynced on every core");
        ok = false;
    }
    if save {
        tracing::info!("shutdown: saving a final snapshot of every core");
        if core.broadcast(Some(tx), || Op::Snapshot).await.iter().all(|o| matches!(o, Out::Flag(true))) {
            tracing::info!("shutdown: snapshot saved");
        } else {
            tracing::error!("shutdown: the final snapshot failed on some core");
            ok = false;
        }
    }
    if ok {
        exit_now();
    }
    if opts.force {
        tracing::warn!("shutdown: FORCE given, exiting despite the errors above");
        exit_now();
    }
    core.unlock_all(tx, &cores).await;
    tracing::error!("shutdown refused: the data could not be persisted; the server keeps running");
}

fn exit_now() -> ! {
    tracing::info!("shutting down");
    std::process::exit(0)
}

/// Blocks SIGTERM and SIGINT in the calling thread and every thread it
/// starts later, and starts the thread that takes them. Call it from `main`
/// before any other thread exists.
pub fn handle_signals() {
    // SAFETY: plain libc calls on a sigset_t that lives on this stack.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            tracing::warn!("cannot block SIGTERM and SIGINT (error {rc}): they stop the server without saving");
            return;
        }
        set
    };
    let spawned = std::thread::Builder::new().name("signals".into()).spawn(move || loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` and `sig` are valid for the call.
        if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
            on_signal(sig);
        }
    });
    if let Err(e) = spawned {
        // Nobody would take them: let them terminate the process as before.
        // SAFETY: as above.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
        tracing::warn!("cannot start the signal thread ({e}): SIGTERM and SIGINT stop the server without saving");
    }
}

fn on_signal(sig: libc::c_int) {
    let name = if sig == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
    if SIGNALLED.load(Ordering::SeqCst) || IN_PROGRESS.load(Ordering::SeqCst) > 0 {
        if sig == libc::SIGINT {
            tracing::warn!("{name} during a shutdown: exiting now, without finishing it");
            std::process::exit(1);
        }
        tracing::warn!("{name} received: a shutdown is already under way");
        return;
    }
    if !WATCHING.load(Ordering::SeqCst) {
        tracing::info!("{name} received while starting, before any data was loaded");
        exit_now();
    }
    tracing::info!("{name} received: shutting down");
    SIGNALLED.store(true, Ordering::SeqCst);
}

/// Core 0's task that turns a signal into a shutdown.
pub async fn watch_signals(core: Rc<Core>) {
    WATCHING.store(true, Ordering::SeqCst);
    loop {
        glommio::timer::sleep(Duration::from_millis(100)).await;
        if SIGNALLED.load(Ordering::SeqCst) {
            shutdown(&core, Options::default()).await;
            tracing::error!("errors trying to shut down after a signal (see above): the server keeps running");
            SIGNALLED.store(false, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<Bytes> {
        s.split_whitespace().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
    }

    #[test]
    fn parses_flags() {
        let opts = |save, force| Ok(Request::Shutdown(Options { save, force }));
        assert_eq!(parse(&args("")), opts(Save::ByConfig, false));
        assert_eq!(parse(&args("nosave")), opts(Save::Never, false));
        assert_eq!(parse(&args("SAVE now FORCE")), opts(Save::Always, true));
        assert_eq!(parse(&args("now now force")), opts(Save::ByConfig, true));
        assert_eq!(parse(&args("abort")), Ok(Request::Abort));
    }

    #[test]
    fn rejects_bad_combinations() {
        for bad in ["foo", "save nosave", "nosave save", "abort now", "abort force", "save abort", "nosave nosave foo"] {
            assert!(matches!(parse(&args(bad)), Err(CmdError::Syntax)), "{bad}");
        }
    }
}
