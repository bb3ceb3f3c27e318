//! Multi-key commands whose keys live on several cores: the coordinator side
//! of the gate protocol described in `core`.
//!
//! Each command takes the gates of every core it touches (lowest core first),
//! does its reads and writes, and releases every gate with its last
//! operation on that core. MSET, MSETNX, RENAME, RENAMENX, MGET, DEL, UNLINK,
//! EXISTS and TOUCH thereby run as one atomic step, as they do in Redis.

use crate::core::{Core, Op, Out, TxId};
use bytes::Bytes;
use commands::{CmdError, MultiKey};
use resp::Reply;
use crate::sync::Slot;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Index of a command in the table, for commands the coordinator issues itself.
fn idx(name: &[u8]) -> u16 {
    commands::lookup_index(name).expect("command exists") as u16
}

/// Runs ops on several cores at once and waits for all of them, in core order.
async fn fan_out(core: &Core, tx: TxId, per_core: Vec<(usize, Vec<Op>)>) -> Vec<(usize, Vec<Out>)> {
    let started: Vec<_> = per_core.into_iter().map(|(c, ops)| (c, core.call_start(c, Some(tx), ops))).collect();
    let mut res = Vec::with_capacity(started.len());
    for (c, s) in started {
        let outs = match s {
            Ok(outs) => outs,
            Err(slot) => slot.take().await,
        };
        res.push((c, outs));
    }
    res
}

/// Keys (with their argument positions) grouped by owning core.
fn group_by_core(core: &Core, argv: &[Bytes], positions: impl Iterator<Item = usize>) -> BTreeMap<usize, Vec<usize>> {
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for p in positions {
        groups.entry(core.node.core_of_key(&argv[p])).or_default().push(p);
    }
    groups
}

/// Runs `argv` (a command of kind `multi`, at table index `cmd`) across the
/// cores that own its keys.
///
/// MSET, MGET and the key-counting commands (DEL, UNLINK, EXISTS, TOUCH) do
/// one independent step per core, so those of all this core's connections
/// are combined: while one combined run holds the gates, the next commands
/// queue up, and the next run takes the gates of all of them once and sends
/// each core every queued command's part in one message. Each command still
/// runs atomically (every gate it needs is held across its parts) and the
/// queued commands run in arrival order on every core, so the outcome is the
/// one of running them one after another; under load the gate round trips
/// are shared instead of paid per command.
pub async fn run(core: &Rc<Core>, multi: MultiKey, cmd: u16, argv: Vec<Bytes>) -> Reply {
    if combinable(multi) {
        enqueue(core, multi, cmd, argv).take().await
    } else {
        run_in(core, multi, cmd, argv, None).await
    }
}

/// Whether commands of kind `multi` go through combined runs.
pub fn combinable(multi: MultiKey) -> bool {
    matches!(multi, MultiKey::SumInts | MultiKey::Gather | MultiKey::Pairs)
}

/// Queues a command of a [`combinable`] kind (see [`run`]) and returns
/// where its reply will be; commands queued one after another run in that
/// order.
pub fn enqueue(core: &Rc<Core>, multi: MultiKey, cmd: u16, argv: Vec<Bytes>) -> Rc<Slot<Reply>> {
    debug_assert!(combinable(multi));
    let reply = Rc::new(Slot::default());
    if multi == MultiKey::Pairs && argv.len().is_multiple_of(2) {
        reply.fill(CmdError::WrongArity(commands::table()[cmd as usize].name.into()).into());
        return reply;
    }
    core.combiner.queue.borrow_mut().push(Queued { multi, cmd, argv, reply: reply.clone() });
    if !core.combiner.busy.replace(true) {
        glommio::spawn_local(combined_runs(core.clone())).detach();
    }
    reply
}

/// Multi-key commands queued for a combined run (see [`run`]).
#[derive(Default)]
pub struct Combiner {
    queue: RefCell<Vec<Queued>>,
    /// Whether a task is running combined runs (it stops when the queue is empty).
    busy: Cell<bool>,
}

struct Queued {
    multi: MultiKey,
    cmd: u16,
    argv: Vec<Bytes>,
    reply: Rc<Slot<Reply>>,
}

/// Commands in one combined run at most, which bounds how long it holds the gates.
const MAX_COMBINED: usize = 128;

/// Runs the queued commands in combined runs until none is left.
async fn combined_runs(core: Rc<Core>) {
    loop {
        let batch: Vec<Queued> = {
            let mut q = core.combiner.queue.borrow_mut();
            let n = q.len().min(MAX_COMBINED);
            q.drain(..n).collect()
        };
        if batch.is_empty() {
            core.combiner.busy.set(false);
            return;
        }
        combined_run(&core, batch).await;
    }
}

/// Takes the gates of every core the commands touch (lowest first), sends
/// each core the parts of all of them in order followed by the release, and
/// puts each command's reply together.
async fn combined_run(core: &Core, batch: Vec<Queued>) {
    let tx = core.new_tx();
    let mut per_core: BTreeMap<usize, Vec<Op>> = BTreeMap::new();
    let mut shapes = Vec::with_capacity(batch.len());
    for q in &batch {
        let spec = &commands::table()[q.cmd as usize];
        let groups = group_by_core(core, &q.argv, spec.key_indexes(q.argv.len()));
        let width = if q.multi == MultiKey::Pairs { 2 } else { 1 };
        for (&c, pos) in &groups {
            per_core.entry(c).or_default().push(Op::Cmd { idx: q.cmd, argv: part(&q.argv, pos, width), slot: None });
        }
        shapes.push(groups);
    }
    let cores: Vec<usize> = per_core.keys().copied().collect();
    core.lock_all(tx, &cores).await;
    let plan = per_core
        .into_iter()
        .map(|(c, mut ops)| {
            ops.push(Op::Unlock);
            (c, ops)
        })
        .collect();
    let mut outs: BTreeMap<usize, std::vec::IntoIter<Out>> = fan_out(core, tx, plan).await.into_iter().map(|(c, o)| (c, o.into_iter())).collect();
    for (q, groups) in batch.into_iter().zip(shapes) {
        let results = groups.keys().map(|&c| (c, outs.get_mut(&c).and_then(Iterator::next).into_iter().collect())).collect();
        q.reply.fill(combine(q.multi, &groups, results, q.argv.len()));
    }
}

/// The part of a command for one core: its name and the arguments at
/// `positions`, each with the `width - 1` arguments that follow it.
fn part(argv: &[Bytes], positions: &[usize], width: usize) -> Vec<Bytes> {
    let mut v = Vec::with_capacity(1 + positions.len() * width);
    v.push(argv[0].clone());
    for &p in positions {
        v.extend_from_slice(&argv[p..p + width]);
    }
    v
}

/// Like [`run`]; inside a transaction (`outer`) whose gates are already held,
/// nothing is locked or released here.
pub async fn run_in(core: &Core, multi: MultiKey, cmd: u16, argv: Vec<Bytes>, outer: Option<TxId>) -> Reply {
    let spec = &commands::table()[cmd as usize];
    let groups = group_by_core(core, &argv, spec.key_indexes(argv.len()));
    let cores: Vec<usize> = if outer.is_some() { Vec::new() } else { groups.keys().copied().collect() };
    let tx = outer.unwrap_or_else(|| core.new_tx());
    // Inside a transaction the last op on a core must not release its gate.
    let release = |mut ops: Vec<Op>| {
        if outer.is_some() {
            ops.retain(|o| !matches!(o, Op::Unlock));
        }
        ops
    };
    let sub = |positions: &[usize], width: usize| part(&argv, positions, width);
    match multi {
        MultiKey::SumInts | MultiKey::Gather | MultiKey::Pairs => {
            let width = if multi == MultiKey::Pairs { 2 } else { 1 };
            if multi == MultiKey::Pairs && argv.len().is_multiple_of(2) {
                return CmdError::WrongArity(spec.name.into()).into();
            }
            core.lock_all(tx, &cores).await;
            let plan = groups.iter().map(|(&c, pos)| (c, release(vec![Op::Cmd { idx: cmd, argv: sub(pos, width), slot: None }, Op::Unlock]))).collect();
            let results = fan_out(core, tx, plan).await;
            combine(multi, &groups, results, argv.len())
        }
        MultiKey::PairsNx => {
            if argv.len().is_multiple_of(2) {
                return CmdError::WrongArity(spec.name.into()).into();
            }
            core.lock_all(tx, &cores).await;
            let exists = idx(b"exists");
            let check = groups.iter().map(|(&c, pos)| (c, vec![Op::Cmd { idx: exists, argv: keys_only(&argv, pos, "exists"), slot: None }])).collect();
            let found: i64 = fan_out(core, tx, check).await.into_iter().map(|(_, outs)| int_of(outs)).sum();
            if found > 0 {
                core.unlock_all(tx, &cores).await;
                return Reply::Int(0);
            }
            let mset = idx(b"mset");
            let plan = groups
                .iter()
                .map(|(&c, pos)| {
                    let mut a = sub(pos, 2);
                    a[0] = Bytes::from_static(b"mset");
                    (c, release(vec![Op::Cmd { idx: mset, argv: a, slot: None }, Op::Unlock]))
                })
                .collect();
            fan_out(core, tx, plan).await;
            Reply::Int(1)
        }
        MultiKey::Move { nx } => rename_across(core, tx, &argv, nx, outer.is_none()).await,
        MultiKey::Scratch => {
            core.lock_all(tx, &cores).await;
            scratch(core, tx, spec, &argv, &groups, outer.is_none(), |shard| commands::run_on_shard(spec, shard, &argv)).await
        }
        MultiKey::No => Reply::error("ERR internal: command cannot span cores"),
    }
}

fn keys_only(argv: &[Bytes], positions: &[usize], name: &'static str) -> Vec<Bytes> {
    std::iter::once(Bytes::from_static(name.as_bytes())).chain(positions.iter().map(|&p| argv[p].clone())).collect()
}

fn int_of(outs: Vec<Out>) -> i64 {
    match outs.into_iter().next() {
        Some(Out::Reply(Reply::Int(n))) => n,
        _ => 0,
    }
}

/// Puts per-core replies back together.
fn combine(multi: MultiKey, groups: &BTreeMap<usize, Vec<usize>>, results: Vec<(usize, Vec<Out>)>, argc: usize) -> Reply {
    let mut total = 0i64;
    let mut gathered: Vec<Reply> = vec![Reply::Nil; argc];
    for (c, outs) in results {
        let reply = outs.into_iter().next().map(Out::into_reply).unwrap_or(Reply::Nil);
        match reply {
            Reply::Error(_) => return reply,
            Reply::Int(n) => total += n,
            Reply::Array(items) => {
                for (&p, item) in groups[&c].iter().zip(items) {
                    gathered[p] = item;
                }
            }
            _ => {}
        }
    }
    match multi {
        MultiKey::SumInts => Reply::Int(total),
        MultiKey::Gather => Reply::Array(gathered.into_iter().skip(1).collect()),
        _ => Reply::ok(),
    }
}

/// RENAME / RENAMENX with source and destination on different cores.
async fn rename_across(core: &Core, tx: TxId, argv: &[Bytes], nx: bool, locking: bool) -> Reply {
    let (src, dst) = (argv[1].clone(), argv[2].clone());
    let (cs, cd) = (core.node.core_of_key(&src), core.node.core_of_key(&dst));
    let mut cores = if locking { vec![cs, cd] } else { vec![] };
    cores.sort_unstable();
    core.lock_all(tx, &cores).await;
    let unlock = |mut ops: Vec<Op>| {
        if !locking {
            ops.retain(|o| !matches!(o, Op::Unlock));
        }
        ops
    };
    let exists = idx(b"exists");
    let has_src = int_of(core.call(cs, Some(tx), vec![Op::Cmd { idx: exists, argv: vec![Bytes::from_static(b"exists"), src.clone()], slot: None }]).await);
    if has_src == 0 {
        core.unlock_all(tx, &cores).await;
        return CmdError::NoSuchKey.into();
    }
    if nx {
        let has_dst = int_of(core.call(cd, Some(tx), vec![Op::Cmd { idx: exists, argv: vec![Bytes::from_static(b"exists"), dst.clone()], slot: None }]).await);
        if has_dst > 0 {
            core.unlock_all(tx, &cores).await;
            return Reply::Int(0);
        }
    }
    let entry = match core.call(cs, Some(tx), unlock(vec![Op::Take(src), Op::Unlock])).await.into_iter().next() {
        Some(Out::Entry(e)) => e,
        _ => None,
    };
    let mut ops = Vec::with_capacity(2);
    if let Some(e) = entry {
        ops.push(Op::Put(dst, e));
    }
    ops.push(Op::Unlock);
    core.call(cd, Some(tx), unlock(ops)).await;
    if nx {
        Reply::Int(1)
    } else {
        Reply::ok()
    }
}

/// Runs any multi-key command atomically across cores: copy the entries of
/// its keys into a scratch shard, run the ordinary op there, write changed
/// keys back to their owners. The caller holds every gate involved.
async fn scratch<R>(
    core: &Core,
    tx: TxId,
    spec: &commands::CommandSpec,
    argv: &[Bytes],
    groups: &BTreeMap<usize, Vec<usize>>,
    release: bool,
    run: impl FnOnce(&mut store::Shard) -> R,
) -> R {
    // Each key once per core, in a stable order.
    let keys_of = |pos: &Vec<usize>| {
        let mut ks: Vec<Bytes> = pos.iter().map(|&p| argv[p].clone()).collect();
        ks.sort();
        ks.dedup();
        ks
    };
    let plan = groups.iter().map(|(&c, pos)| (c, vec![Op::Fetch(keys_of(pos))])).collect();
    let fetched = fan_out(core, tx, plan).await;
    let mut shard = store::Shard::new();
    shard.set_now(store::unix_time_ms());
    let mut originals: Vec<(usize, Bytes, Option<store::Entry>)> = Vec::new();
    for ((c, outs), pos) in fetched.into_iter().zip(groups.values()) {
        let entries = match outs.into_iter().next() {
            Some(Out::Entries(e)) => e,
            _ => Vec::new(),
        };
        for (key, entry) in keys_of(pos).into_iter().zip(entries) {
            if let Some(e) = &entry {
                shard.insert_entry(&key, e.clone());
            }
            originals.push((c, key, entry));
        }
    }
    let reply = run(&mut shard);
    let mut writes: BTreeMap<usize, Vec<(Bytes, Option<store::Entry>)>> = BTreeMap::new();
    if spec.is_write() {
        for (c, key, before) in originals {
            let after = shard.entry_raw(&key).map(|e| e.to_entry());
            let same = match (&before, &after) {
                (Some(b), Some(a)) => b.value == a.value && b.expires_at == a.expires_at,
                (None, None) => true,
                _ => false,
            };
            if !same {
                writes.entry(c).or_default().push((key, after));
            }
        }
    }
    let plan = groups
        .keys()
        .map(|&c| {
            let mut ops = Vec::with_capacity(2);
            if let Some(w) = writes.remove(&c) {
                ops.push(Op::Store(w));
            }
            if release {
                ops.push(Op::Unlock);
            }
            (c, ops)
        })
        .collect();
    fan_out(core, tx, plan).await;
    reply
}

/// One atomic attempt of a blocking command whose keys live on several
/// cores: Some(reply) when it could be served, None when it would block.
pub async fn try_blocking(core: &Core, idx: u16, argv: &[Bytes]) -> Option<Reply> {
    let spec = &commands::table()[idx as usize];
    let commands::Exec::Blocking(op) = spec.exec else { return Some(Reply::error("ERR internal: not a blocking command")) };
    let groups = group_by_core(core, argv, spec.key_indexes(argv.len()));
    let cores: Vec<usize> = groups.keys().copied().collect();
    let tx = core.new_tx();
    core.lock_all(tx, &cores).await;
    match scratch(core, tx, spec, argv, &groups, true, |shard| op(shard, argv)).await {
        Ok(r) => r,
        Err(e) => Some(e.into()),
    }
}

/// Keys of `argv` grouped by owning core (table key positions).
pub fn keys_by_core(core: &Core, spec: &commands::CommandSpec, argv: &[Bytes]) -> BTreeMap<usize, Vec<Bytes>> {
    let mut out: BTreeMap<usize, Vec<Bytes>> = BTreeMap::new();
    for (c, pos) in group_by_core(core, argv, spec.key_indexes(argv.len())) {
        out.insert(c, pos.into_iter().map(|p| argv[p].clone()).collect());
    }
    out
}
