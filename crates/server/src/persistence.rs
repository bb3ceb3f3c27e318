//! Per-core persistence: each core logs the writes to its own shard and
//! snapshots it, with glommio's io_uring file I/O, and loads it at start-up.
//!
//! Files (formats in the `persist` crate), in the data directory:
//! `LAYOUT` (layout epoch, number of cores), and per core
//! `e<epoch>-core-<i>.manifest`, `e<epoch>-core-<i>-<gen>.snap`,
//! `e<epoch>-core-<i>-<gen>.aof`.
//!
//! Log: records are appended to an in-memory buffer by the command that
//! makes them; a writer task writes the buffer and fsyncs per `appendfsync`.
//! With `always`, replies of commands that logged records are held until the
//! fsync that covers them (group commit).
//!
//! Snapshot (BGSAVE, BGREWRITEAOF, `save` rules, automatic log compaction):
//! at one instant the core starts a copy-on-write snapshot of its shard and
//! switches its log to a new segment; the snapshot streams out in small
//! steps while the core serves; once it is fsynced and renamed into place
//! the manifest names it and the new segment, and older files are deleted.
//!
//! Start-up: each core loads its snapshot and replays its log segments. A
//! torn last record is cut off with a warning (aof-load-truncated); damage
//! anywhere else stops the server with the file and offset (`--repair-log`
//! cuts a log at the damage instead). When the core count changed, every
//! core rebuilds each old core's shard in turn and keeps the keys of its own
//! slots; the new layout is committed by renaming LAYOUT once every core has
//! snapshotted its share.

use crate::core::Core;
use crate::sync::Signal;
use bytes::Bytes;
use glommio::io::{BufferedFile, Directory};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::FileExt;
use persist::log::{self as plog, Record};
use persist::snapshot::{SnapshotHeader, SnapshotWriter};
use persist::{CoreManifest, Layout};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use store::Shard;

/// Keys a snapshot step emits before it yields to clients.
const SNAPSHOT_STEP_KEYS: usize = 256;
/// Snapshot bytes buffered before a write.
const SNAPSHOT_CHUNK: usize = 64 << 10;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    pub fn parse(s: &str) -> Fsync {
        match s {
            "always" => Fsync::Always,
            "no" => Fsync::No,
            _ => Fsync::EverySec,
        }
    }
}

/// A log switch requested at a snapshot instant.
struct Rotation {
    generation: u64,
    /// Records logged before the instant, for the old segment.
    old_tail: Vec<u8>,
}

/// Persistence state of one core.
pub struct Persist {
    core: usize,
    dir: PathBuf,
    epoch: Cell<u64>,
    aof: bool,
    repair: bool,
    buf: RefCell<Vec<u8>>,
    appended: Cell<u64>,
    file: RefCell<Option<Rc<BufferedFile>>>,
    file_pos: Cell<u64>,
    /// Log size after the last compaction (automatic rewrite threshold).
    base_size: Cell<u64>,
    manifest: RefCell<CoreManifest>,
    wake: Signal,
    rotation: RefCell<Option<Rotation>>,
    /// A requested log switch has not completed yet (manifest included).
    rotating: Cell<bool>,
    rotated: Signal,
    /// Someone waits for an fsync of everything logged so far (SHUTDOWN),
    /// whatever `appendfsync` says.
    sync_requested: Cell<bool>,
    pub changes: Cell<u64>,
    pub saving: Cell<bool>,
    pub last_save_ok: Cell<bool>,
    pub last_write_ok: Cell<bool>,
    pub last_save_started: Cell<u64>,
}

/// Numbers INFO persistence reports, per core.
#[derive(Debug, Clone, Default)]
pub struct PersistStats {
    pub changes: u64,
    pub saving: bool,
    pub last_save: u64,
    pub last_save_ok: bool,
    pub last_write_ok: bool,
    pub aof: bool,
    pub log_size: u64,
}

fn io_err(what: &str, path: &Path, e: impl std::fmt::Display) -> String {
    format!("{what} {}: {e}", path.display())
}

impl Persist {
    pub fn new(core: usize, dir: PathBuf, aof: bool, repair: bool) -> Persist {
        Persist {
            core,
            dir,
            epoch: Cell::new(1),
            aof,
            repair,
            buf: RefCell::new(Vec::new()),
            appended: Cell::new(0),
            file: RefCell::new(None),
            file_pos: Cell::new(0),
            base_size: Cell::new(0),
            manifest: RefCell::new(CoreManifest::default()),
            wake: Signal::default(),
            rotation: RefCell::new(None),
            rotating: Cell::new(false),
            rotated: Signal::default(),
            sync_requested: Cell::new(false),
            changes: Cell::new(0),
            saving: Cell::new(false),
            last_save_ok: Cell::new(true),
            last_write_ok: Cell::new(true),
            last_save_started: Cell::new(0),
        }
    }

    pub fn aof_enabled(&self) -> bool {
        self.aof
    }

    /// Records appended so far (monotonic).
    pub fn appended(&self) -> u64 {
        self.appended.get()
    }

    /// Appends a record for the writer. Counts a change for the save rules.
    pub fn log(&self, rec: &Record) {
        self.changes.set(self.changes.get() + 1);
        if !self.aof {
            return;
        }
        plog::encode(rec, &mut self.buf.borrow_mut());
        self.appended.set(self.appended.get() + 1);
        self.wake.notify();
    }

    /// Logs a command as it ran (no copy of the arguments unless logging is on).
    pub fn log_cmd(&self, ts: u64, argv: &[Bytes]) {
        self.changes.set(self.changes.get() + 1);
        if !self.aof {
            return;
        }
        plog::encode_cmd(ts, argv, &mut self.buf.borrow_mut());
        self.appended.set(self.appended.get() + 1);
        self.wake.notify();
    }

    pub fn wake_writer(&self) {
        self.wake.notify();
    }

    /// Asks the writer for a write and fsync of everything logged so far on
    /// its next pass, whatever `appendfsync` says; the replies held until
    /// then (`Core::take_held`) are released after it.
    pub fn request_sync(&self) {
        self.sync_requested.set(true);
        self.wake.notify();
    }

    pub fn stats(&self) -> PersistStats {
        PersistStats {
            changes: self.changes.get(),
            saving: self.saving.get(),
            last_save: self.manifest.borrow().last_save,
            last_save_ok: self.last_save_ok.get(),
            last_write_ok: self.last_write_ok.get(),
            aof: self.aof,
            log_size: self.file_pos.get(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn manifest_name(&self, epoch: u64) -> String {
        format!("e{epoch}-core-{}.manifest", self.core)
    }

    fn log_name(&self, generation: u64) -> String {
        format!("e{}-core-{}-{generation}.aof", self.epoch.get(), self.core)
    }

    fn snap_name(&self, generation: u64) -> String {
        format!("e{}-core-{}-{generation}.snap", self.epoch.get(), self.core)
    }

    async fn write_manifest(&self) -> Result<(), String> {
        let text = self.manifest.borrow().encode();
        let name = self.manifest_name(self.epoch.get());
        write_atomically(&self.dir, &name, text.into_bytes()).await
    }

    /// Opens a fresh log segment (header written and fsynced) as the current one.
    async fn open_segment(&self, generation: u64) -> Result<(), String> {
        let path = self.path(&self.log_name(generation));
        let f = BufferedFile::create(&path).await.map_err(|e| io_err("cannot create", &path, e))?;
        let header = plog::header(self.core as u32, generation);
        let n = header.len() as u64;
        f.write_at(header, 0).await.map_err(|e| io_err("cannot write", &path, e))?;
        f.fdatasync().await.map_err(|e| io_err("cannot fsync", &path, e))?;
        sync_dir(&self.dir).await?;
        *self.file.borrow_mut() = Some(Rc::new(f));
        self.file_pos.set(n);
        Ok(())
    }
}

/// Writes a small file atomically: temporary name, fsync, rename, directory fsync.
pub async fn write_atomically(dir: &Path, name: &str, data: Vec<u8>) -> Result<(), String> {
    // A unique temporary name: two writers never share a half-written file.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!("{name}.{seq}.tmp"));
    let f = BufferedFile::create(&tmp).await.map_err(|e| io_err("cannot create", &tmp, e))?;
    f.write_at(data, 0).await.map_err(|e| io_err("cannot write", &tmp, e))?;
    f.fdatasync().await.map_err(|e| io_err("cannot fsync", &tmp, e))?;
    f.close().await.map_err(|e| io_err("cannot close", &tmp, e))?;
    let dst = dir.join(name);
    glommio::io::rename(&tmp, &dst).await.map_err(|e| io_err("cannot rename", &tmp, e))?;
    sync_dir(dir).await
}

async fn sync_dir(dir: &Path) -> Result<(), String> {
    let d = Directory::open(dir).await.map_err(|e| io_err("cannot open directory", dir, e))?;
    d.sync().await.map_err(|e| io_err("cannot fsync directory", dir, e))?;
    let _ = d.close().await;
    Ok(())
}

async fn read_file(path: &Path) -> Result<Option<Vec<u8>>, String> {
    if !path.exists() {
        return Ok(None);
    }
    let f = BufferedFile::open(path).await.map_err(|e| io_err("cannot open", path, e))?;
    let size = f.file_size().await.map_err(|e| io_err("cannot stat", path, e))?;
    let mut data = Vec::with_capacity(size as usize);
    let mut pos = 0u64;
    while pos < size {
        let want = ((size - pos) as usize).min(8 << 20);
        let chunk = f.read_at(pos, want).await.map_err(|e| io_err("cannot read", path, e))?;
        if chunk.is_empty() {
            break;
        }
        data.extend_from_slice(&chunk);
        pos += chunk.len() as u64;
    }
    let _ = f.close().await;
    Ok(Some(data))
}

/// Applies one log record to a shard, at the clock it was logged with.
pub fn replay(shard: &mut Shard, rec: Record) {
    match rec {
        Record::Cmd { ts, argv } => {
            shard.set_now(ts);
            if let Some(spec) = commands::lookup(&argv[0]) {
                if spec.arity_ok(argv.len()) {
                    let _ = commands::run_on_shard(spec, shard, &argv);
                }
            }
        }
        Record::Image { ts, key, entry } => {
            shard.set_now(ts);
            match entry {
                Some(e) => shard.insert_entry(&key, e),
                None => {
                    shard.remove(&key);
                }
            }
        }
        Record::Flush { ts } => {
            shard.set_now(ts);
            shard.clear();
        }
    }
}

/// Rebuilds the shard one core wrote under `epoch` from its manifest.
/// Returns the manifest and the size of its last log (to append to it).
async fn load_core_files(dir: &Path, epoch: u64, core: usize, shard: &mut Shard, repair: bool, truncate_ok: bool) -> Result<(CoreManifest, u64), String> {
    let mpath = dir.join(format!("e{epoch}-core-{core}.manifest"));
    let Some(text) = read_file(&mpath).await? else {
        return Ok((CoreManifest::default(), 0));
    };
    let text = String::from_utf8(text).map_err(|_| format!("{}: not text", mpath.display()))?;
    let manifest = CoreManifest::decode(&text).map_err(|e| format!("{}: {e}; refusing to start", mpath.display()))?;
    if let Some(snap) = &manifest.snapshot {
        let path = dir.join(snap);
        let data = read_file(&path).await?.ok_or_else(|| format!("{} is named by {} but missing", path.display(), mpath.display()))?;
        let (_, entries) = persist::snapshot::read(&data)
            .map_err(|e| format!("snapshot {} is damaged ({e}); refusing to start. Move it away to start from the logs alone, or restore a backup", path.display()))?;
        let now = store::unix_time_ms();
        shard.set_now(now);
        for (k, e) in entries {
            shard.insert_entry(&k, e);
        }
    }
    let mut last_len = 0;
    for (i, name) in manifest.logs.iter().enumerate() {
        let path = dir.join(name);
        let Some(data) = read_file(&path).await? else {
            // A segment named before its creation completed: nothing was acknowledged in it.
            continue;
        };
        let outcome = match plog::read(&data) {
            Ok(o) => o,
            Err(e) if repair => {
                let cut = match e {
                    persist::FormatError::Checksum(off) | persist::FormatError::Truncated(off) | persist::FormatError::Malformed(off, _) => off,
                    _ => plog::HEADER_LEN as u64,
                };
                tracing::warn!("--repair-log: cutting {} at offset {cut} ({e}); a copy is kept as .damaged", path.display());
                std::fs::copy(&path, path.with_extension("aof.damaged")).map_err(|e| io_err("cannot copy", &path, e))?;
                truncate(&path, cut).await?;
                let data = read_file(&path).await?.unwrap_or_default();
                plog::read(&data).map_err(|e| format!("{}: still damaged after repair: {e}", path.display()))?
            }
            Err(e) => {
                return Err(format!(
                    "log {} is damaged ({e}) before its end; refusing to start. Start with --repair-log to cut it at the damage (writes after that point are lost)",
                    path.display()
                ))
            }
        };
        if outcome.torn_tail {
            let last = i + 1 == manifest.logs.len();
            if !last || !truncate_ok {
                return Err(format!(
                    "log {} ends in a torn record at offset {}; refusing to start (aof-load-truncated is off or it is not the newest log). Start with --repair-log to cut it",
                    path.display(),
                    outcome.valid_len
                ));
            }
            tracing::warn!("log {}: cutting a torn last record at offset {} (a crash interrupted that write)", path.display(), outcome.valid_len);
            truncate(&path, outcome.valid_len).await?;
        }
        last_len = outcome.valid_len.max(plog::HEADER_LEN as u64);
        for rec in outcome.records {
            replay(shard, rec);
        }
    }
    shard.set_now(store::unix_time_ms());
    Ok((manifest, last_len))
}

async fn truncate(path: &Path, len: u64) -> Result<(), String> {
    let f = glommio::io::OpenOptions::new().read(true).write(true).buffered_open(path).await.map_err(|e| io_err("cannot open", path, e))?;
    f.truncate(len).await.map_err(|e| io_err("cannot truncate", path, e))?;
    f.fdatasync().await.map_err(|e| io_err("cannot fsync", path, e))?;
    let _ = f.close().await;
    Ok(())
}

/// Loads this core's data at start-up. Connections meanwhile get -LOADING.
pub async fn load(core: &Rc<Core>) -> Result<(), String> {
    let p = &core.persist;
    let node = &core.node;
    let n = node.cores();
    let layout = match read_file(&p.dir.join("LAYOUT")).await? {
        None => None,
        Some(t) => {
            let text = String::from_utf8(t).map_err(|_| "LAYOUT: not text".to_string())?;
            Some(Layout::decode(&text).map_err(|e| format!("LAYOUT is damaged ({e}); refusing to start"))?)
        }
    };
    let truncate_ok = core.config.borrow().aof_load_truncated;
    match layout {
        Some(l) if l.cores as usize == n => {
            p.epoch.set(l.epoch);
            let (manifest, last_len) = {
                let mut shard = Shard::with_slots(node.ranges.range_of(core.id));
                let r = load_core_files(&p.dir, l.epoch, core.id, &mut shard, p.repair, truncate_ok).await?;
                *core.shard.borrow_mut() = shard;
                r
            };
            let resume = manifest.logs.last().cloned();
            *p.manifest.borrow_mut() = manifest;
            if p.aof {
                match resume {
                    // Keep appending to the newest segment.
                    Some(name) if last_len > 0 => {
                        let path = p.path(&name);
                        let f = glommio::io::OpenOptions::new()
                            .read(true)
                            .write(true)
                            .buffered_open(&path)
                            .await
                            .map_err(|e| io_err("cannot open", &path, e))?;
                        *p.file.borrow_mut() = Some(Rc::new(f));
                        p.file_pos.set(last_len);
                        p.base_size.set(last_len);
                    }
                    _ => start_first_segment(p).await?,
                }
            }
            node.persist_ready.fetch_add(1, Ordering::SeqCst);
        }
        other => {
            // Fresh directory, or written by another number of cores.
            let (old_epoch, old_cores) = other.map(|l| (l.epoch, l.cores as usize)).unwrap_or((0, 0));
            let new_epoch = old_epoch + 1;
            p.epoch.set(new_epoch);
            if old_cores > 0 {
                tracing::info!(core = core.id, old_cores, new_cores = n, "core count changed: re-routing keys by slot");
                let mut mine = Shard::with_slots(node.ranges.range_of(core.id));
                for old in 0..old_cores {
                    let mut scratch = Shard::new();
                    load_core_files(&p.dir, old_epoch, old, &mut scratch, p.repair, truncate_ok).await?;
                    for key in scratch.keys(b"*") {
                        if node.core_of_key(&key) == core.id {
                            if let Some(e) = scratch.remove(&key) {
                                mine.insert_entry(&key, e);
                            }
                        }
                    }
                    glommio::yield_if_needed().await;
                }
                mine.set_now(store::unix_time_ms());
                *core.shard.borrow_mut() = mine;
            }
            // Write this core's share under the new epoch before committing it.
            p.manifest.borrow_mut().generation = 0;
            p.saving.set(true);
            let r = snapshot_inner(core, false).await;
            p.saving.set(false);
            r?;
            if p.aof {
                start_first_segment(p).await?;
            }
            node.persist_ready.fetch_add(1, Ordering::SeqCst);
            if core.id == 0 {
                while node.persist_ready.load(Ordering::SeqCst) < n {
                    glommio::timer::sleep(Duration::from_millis(2)).await;
                }
                write_atomically(&p.dir, "LAYOUT", Layout { epoch: new_epoch, cores: n as u32 }.encode().into_bytes()).await?;
                remove_epoch_files(&p.dir, old_epoch);
                node.layout_committed.store(true, Ordering::SeqCst);
            }
        }
    }
    while !node.layout_committed.load(Ordering::SeqCst) {
        if core.id == 0 && node.persist_ready.load(Ordering::SeqCst) >= n {
            node.layout_committed.store(true, Ordering::SeqCst);
            break;
        }
        glommio::timer::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

async fn start_first_segment(p: &Persist) -> Result<(), String> {
    let gen = p.manifest.borrow().generation.max(1);
    p.open_segment(gen).await?;
    {
        let mut m = p.manifest.borrow_mut();
        m.generation = gen;
        let name = p.log_name(gen);
        if !m.logs.contains(&name) {
            m.logs.push(name);
        }
    }
    p.write_manifest().await
}

fn remove_epoch_files(dir: &Path, epoch: u64) {
    if epoch == 0 {
        return;
    }
    let prefix = format!("e{epoch}-");
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Starts a background snapshot (and log switch) unless one is running.
pub fn start_bgsave(core: &Rc<Core>) -> bool {
    if core.persist.saving.get() {
        return false;
    }
    let c = core.clone();
    glommio::spawn_local(async move {
        if let Err(e) = snapshot_now(&c).await {
            tracing::error!(core = c.id, "snapshot failed: {e}");
        }
    })
    .detach();
    true
}

/// Waits for a snapshot in progress on this core to end, then takes a fresh
/// one (SHUTDOWN: the snapshot must start after the caller stopped writes).
pub async fn snapshot_when_idle(core: &Rc<Core>) -> Result<(), String> {
    while core.persist.saving.get() {
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
    // No await between the check and `snapshot_now` marking the core as
    // saving: no other snapshot can start in between.
    snapshot_now(core).await
}

/// Takes a snapshot of this core now (waits for it).
pub async fn snapshot_now(core: &Rc<Core>) -> Result<(), String> {
    let p = &core.persist;
    if p.saving.replace(true) {
        return Err("a snapshot is already in progress".into());
    }
    let r = snapshot_inner(core, p.aof).await;
    p.saving.set(false);
    p.last_save_ok.set(r.is_ok());
    r
}

/// Snapshots the shard; with `rotate` the log switches to a new segment at
/// the same instant (the log writer must be running).
async fn snapshot_inner(core: &Rc<Core>, rotate: bool) -> Result<(), String> {
    let p = &core.persist;
    let generation = p.manifest.borrow().generation + 1;
    p.last_save_started.set(store::unix_time_ms() / 1000);
    let changes_at_start = p.changes.get();
    // The instant: snapshot state and log switch happen together.
    {
        let mut shard = core.shard.borrow_mut();
        shard.set_now(store::unix_time_ms());
        shard.snapshot_begin();
        if rotate {
            let old_tail = std::mem::take(&mut *p.buf.borrow_mut());
            *p.rotation.borrow_mut() = Some(Rotation { generation, old_tail });
            p.rotating.set(true);
            p.wake.notify();
        }
    }
    let name = p.snap_name(generation);
    let tmp = p.path(&format!("{name}.tmp"));
    let result: Result<(), String> = async {
        let f = BufferedFile::create(&tmp).await.map_err(|e| io_err("cannot create", &tmp, e))?;
        let mut w = SnapshotWriter::new(SnapshotHeader {
            core: core.id as u32,
            cores: core.node.cores() as u32,
            generation,
            created_ms: store::unix_time_ms(),
        });
        let mut pos = 0u64;
        loop {
            let more = core.shard.borrow_mut().snapshot_step(SNAPSHOT_STEP_KEYS, &mut |k, e| w.add(k, e));
            if w.buf.len() >= SNAPSHOT_CHUNK || !more {
                let chunk = w.take_chunk();
                let n = chunk.len() as u64;
                if n > 0 {
                    f.write_at(chunk, pos).await.map_err(|e| io_err("cannot write", &tmp, e))?;
                    pos += n;
                }
            }
            if !more {
                break;
            }
            // Let every ready connection run between steps: yield_if_needed
            // would not, as clients share this task queue.
            futures_lite::future::yield_now().await;
        }
        let tail = w.finish();
        f.write_at(tail, pos).await.map_err(|e| io_err("cannot write", &tmp, e))?;
        f.fdatasync().await.map_err(|e| io_err("cannot fsync", &tmp, e))?;
        f.close().await.map_err(|e| io_err("cannot close", &tmp, e))?;
        glommio::io::rename(&tmp, p.path(&name)).await.map_err(|e| io_err("cannot rename", &tmp, e))?;
        sync_dir(&p.dir).await
    }
    .await;
    if let Err(e) = result {
        core.shard.borrow_mut().snapshot_abort();
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // Wait until the log switched to the new segment (it is then named).
    if rotate {
        while p.rotating.get() {
            p.rotated.wait().await;
        }
    }
    let old = {
        let mut m = p.manifest.borrow_mut();
        let old: Vec<String> = m.snapshot.iter().cloned().chain(m.logs.iter().cloned()).collect();
        m.snapshot = Some(name.clone());
        m.logs = if rotate { vec![p.log_name(generation)] } else { vec![] };
        m.generation = generation;
        m.last_save = store::unix_time_ms() / 1000;
        old
    };
    p.write_manifest().await?;
    let keep: Vec<String> = {
        let m = p.manifest.borrow();
        m.snapshot.iter().cloned().chain(m.logs.iter().cloned()).collect()
    };
    for f in old.into_iter().filter(|f| !keep.contains(f)) {
        let _ = glommio::io::remove(p.path(&f)).await;
    }
    p.changes.set(p.changes.get().saturating_sub(changes_at_start));
    p.base_size.set(p.file_pos.get());
    Ok(())
}

/// The log writer of one core: writes buffered records, fsyncs per
/// `appendfsync`, releases replies held for durability, switches segments.
pub async fn run_log_writer(core: Rc<Core>) {
    let p = &core.persist;
    let mut last_sync = Instant::now();
    let mut unsynced = false;
    loop {
        let wait_for = if unsynced { Duration::from_millis(100) } else { Duration::from_secs(1) };
        futures_lite::future::or(p.wake.wait(), glommio::timer::sleep(wait_for)).await;
        let mode = Fsync::parse(&core.config.borrow().appendfsync);
        let rotation = p.rotation.borrow_mut().take();
        // Whether the old segment's last records were written. Replies held
        // for durability are released below, after the new segment's fsync
        // too: some of them are for records logged after the switch.
        let mut tail_ok = true;
        if let Some(rot) = rotation {
            // Old segment: its last records, fsynced, before the new one is named.
            tail_ok = write_and_sync(&core, rot.old_tail, true, mode == Fsync::Always).await;
            let r: Result<(), String> = async {
                p.open_segment(rot.generation).await?;
                {
                    let mut m = p.manifest.borrow_mut();
                    let name = p.log_name(rot.generation);
                    m.logs.push(name);
                }
                p.write_manifest().await
            }
            .await;
            if let Err(e) = r {
                tracing::error!(core = core.id, "cannot switch log segment: {e}");
                p.last_write_ok.set(false);
            }
            p.rotating.set(false);
            p.rotated.notify();
            unsynced = false;
            last_sync = Instant::now();
        }
        let data = std::mem::take(&mut *p.buf.borrow_mut());
        let held = core.take_held();
        let forced = p.sync_requested.replace(false);
        let sync = forced || match mode {
            Fsync::Always => !data.is_empty() || !held.is_empty(),
            Fsync::EverySec => (unsynced || !data.is_empty()) && last_sync.elapsed() >= Duration::from_secs(1),
            Fsync::No => false,
        };
        if !data.is_empty() {
            unsynced = true;
        }
        let ok = write_and_sync(&core, data, sync, mode == Fsync::Always).await;
        if sync {
            unsynced = false;
            last_sync = Instant::now();
        }
        core.release_held(held, ok && tail_ok);
        maybe_auto_snapshot(&core);
    }
}

/// Writes `data` at the end of the log, then fsyncs it if `sync`; with
/// `inline` (`appendfsync always`) both happen here, blocking the core.
async fn write_and_sync(core: &Rc<Core>, data: Vec<u8>, sync: bool, inline: bool) -> bool {
    let p = &core.persist;
    let Some(f) = p.file.borrow().clone() else { return data.is_empty() };
    let pos = p.file_pos.get();
    let n = data.len() as u64;
    let result: Result<(), (&str, String)> = if sync && inline {
        // The core waits for its own group commit, as Redis's event loop
        // does: a write and an fsync through io_uring each go through a
        // kernel worker on this same CPU, which costs more than it overlaps.
        // SAFETY: `f` keeps the descriptor open for as long as this borrow;
        // `ManuallyDrop` never closes it.
        let file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(f.as_raw_fd()) });
        file.write_all_at(&data, pos).map_err(|e| ("write", e.to_string())).and_then(|()| {
            p.file_pos.set(pos + n);
            file.sync_data().map_err(|e| ("fsync", e.to_string()))
        })
    } else {
        async {
            if n > 0 {
                f.write_at(data, pos).await.map_err(|e| ("write", e.to_string()))?;
                p.file_pos.set(pos + n);
            }
            if sync {
                f.fdatasync().await.map_err(|e| ("fsync", e.to_string()))?;
            }
            Ok(())
        }
        .await
    };
    if let Err((what, e)) = &result {
        tracing::error!(core = core.id, "log {what} failed: {e}");
    }
    p.last_write_ok.set(result.is_ok());
    result.is_ok()
}

/// Starts a snapshot when a `save` rule or the log growth rule says so.
fn maybe_auto_snapshot(core: &Rc<Core>) {
    let p = &core.persist;
    if p.saving.get() || core.node.loading() {
        return;
    }
    let cfg = core.config.borrow();
    let now = store::unix_time_ms() / 1000;
    let since = now.saturating_sub(p.manifest.borrow().last_save.max(p.last_save_started.get()));
    let changes = p.changes.get();
    let rule_due = crate::config::parse_save_rules(&cfg.save).unwrap_or_default().iter().any(|&(secs, min)| changes >= min && since >= secs && changes > 0);
    let grew = p.aof && {
        let size = p.file_pos.get();
        let base = p.base_size.get().max(1);
        size >= cfg.auto_aof_rewrite_min_size && cfg.auto_aof_rewrite_percentage > 0 && (size - base.min(size)) * 100 / base >= cfg.auto_aof_rewrite_percentage
    };
    drop(cfg);
    if rule_due || grew {
        start_bgsave(core);
    }
}

/// The periodic check of the save rules (the writer also checks after writes).
pub async fn run_save_timer(core: Rc<Core>) {
    loop {
        glommio::timer::sleep(Duration::from_secs(1)).await;
        maybe_auto_snapshot(&core);
    }
}

/// A log record for a key image (value after a change replay cannot redo).
pub fn image(shard: &mut Shard, key: &Bytes) -> Record {
    Record::Image { ts: shard.now(), key: key.clone(), entry: shard.entry_raw(key).map(|e| e.to_entry()) }
}
