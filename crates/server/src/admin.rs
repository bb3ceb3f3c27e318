//! Connection-level and node-wide commands: PING, HELLO, CLIENT, COMMAND,
//! INFO, CONFIG, and the keyspace commands that map-reduce over every core
//! (DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHDB, FLUSHALL).

use crate::conn::Conn;
use crate::core::{Core, CoreStats, Op, Out};
use bytes::Bytes;
use commands::args::parse_i64;
use commands::{table, CmdError, CommandSpec};
use resp::{Protocol, Reply};
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// The Redis version whose behaviour redcore matches (clients gate features on it).
pub const REDIS_VERSION: &str = "7.0.15";
pub const REDCORE_VERSION: &str = env!("CARGO_PKG_VERSION");

fn bulk(s: impl Into<String>) -> Reply {
    Reply::Bulk(Bytes::from(s.into()))
}

fn unknown_subcommand(sub: &[u8], cmd: &str) -> Reply {
    Reply::error(format!("ERR unknown subcommand '{}'. Try {} HELP.", String::from_utf8_lossy(sub), cmd.to_uppercase()))
}

/// Redis's arity error for a subcommand, e.g. `'client|setname'`.
fn sub_arity(cmd: &str, sub: &[u8]) -> Reply {
    wrong_arity(&format!("{cmd}|{}", String::from_utf8_lossy(sub).to_ascii_lowercase()))
}

fn wrong_arity(name: &str) -> Reply {
    CmdError::WrongArity(name.into()).into()
}

/// Carries out a command whose [`commands::Exec`] is `Server`.
pub async fn run(conn: &mut Conn, spec: &CommandSpec, argv: &[Bytes]) -> Reply {
    let core = conn.core.clone();
    let tx = conn.active_tx;
    match spec.name {
        "ping" => match argv.len() {
            1 => Reply::simple("PONG"),
            2 => Reply::Bulk(argv[1].clone()),
            _ => wrong_arity("ping"),
        },
        "echo" => Reply::Bulk(argv[1].clone()),
        "quit" => {
            conn.quit = true;
            Reply::ok()
        }
        "select" => match parse_i64(&argv[1]) {
            None => CmdError::NotInteger.into(),
            Some(0) => Reply::ok(),
            Some(_) => Reply::error("ERR DB index is out of range"),
        },
        "hello" => hello(conn, argv),
        "time" => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            Reply::Array(vec![bulk(now.as_secs().to_string()), bulk(now.subsec_micros().to_string())])
        }
        "command" => command(argv),
        "client" => client(conn, argv).await,
        "info" => info(&core, tx, argv).await,
        "cluster" | "readonly" | "readwrite" | "asking" => crate::cluster_node::command(conn, spec.name, argv).await,
        "config" => config(&core, tx, argv).await,
        "dbsize" => {
            let n: usize = core.broadcast(tx, || Op::DbSize).await.into_iter().map(count).sum();
            Reply::Int(n as i64)
        }
        "flushdb" | "flushall" => {
            if argv.len() > 2 || (argv.len() == 2 && !matches!(argv[1].to_ascii_uppercase().as_slice(), b"ASYNC" | b"SYNC")) {
                return CmdError::Syntax.into();
            }
            core.broadcast(tx, || Op::Flush).await;
            Reply::ok()
        }
        "keys" => {
            let pattern = argv[1].clone();
            let mut keys = Vec::new();
            for out in core.broadcast(tx, || Op::Keys(pattern.clone())).await {
                if let Out::Keys(k) = out {
                    keys.extend(k.into_iter().map(Reply::Bulk));
                }
            }
            Reply::Array(keys)
        }
        "scan" => scan(&core, tx, argv).await,
        "randomkey" => randomkey(&core, tx).await,
        "auth" => auth(argv),
        "publish" | "spublish" => {
            let (channel, message, sharded) = (argv[1].clone(), argv[2].clone(), spec.name == "spublish");
            let n: usize = core
                .broadcast(tx, || Op::Publish { channel: channel.clone(), message: message.clone(), sharded })
                .await
                .into_iter()
                .map(count)
                .sum();
            // Cluster mode: also to the other nodes over the bus (the reply
            // still counts this node's receivers, as in Redis).
            crate::cluster_node::publish(&core, &channel, &message, sharded);
            Reply::Int(n as i64)
        }
        "pubsub" => pubsub(&core, tx, argv).await,
        "bgsave" | "bgrewriteaof" => {
            if argv.len() > 2 || (argv.len() == 2 && !argv[1].eq_ignore_ascii_case(b"SCHEDULE")) {
                return CmdError::Syntax.into();
            }
            let started = core.broadcast(tx, || Op::BgSave).await.into_iter().all(|o| matches!(o, Out::Flag(true)));
            match (started, spec.name) {
                (false, _) => Reply::error("ERR Background save already in progress"),
                (true, "bgsave") => Reply::simple("Background saving started"),
                (true, _) => Reply::simple("Background append only file rewriting started"),
            }
        }
        "save" => {
            let before = persist_stats(&core, tx).await.iter().map(|s| s.last_save).min().unwrap_or(0);
            if core.broadcast(tx, || Op::BgSave).await.into_iter().any(|o| !matches!(o, Out::Flag(true))) {
                return Reply::error("ERR Background save already in progress");
            }
            // Wait (bounded) until every core has finished its snapshot.
            for _ in 0..600_000 {
                let st = persist_stats(&core, tx).await;
                if st.iter().all(|s| !s.saving) {
                    return if st.iter().all(|s| s.last_save_ok) && st.iter().all(|s| s.last_save >= before) {
                        Reply::ok()
                    } else {
                        Reply::error("ERR snapshot failed, see the server log")
                    };
                }
                glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
            }
            Reply::error("ERR snapshot did not finish in time")
        }
        "shutdown" => shutdown(&core, tx, argv).await,
        "lastsave" => Reply::Int(persist_stats(&core, tx).await.iter().map(|s| s.last_save).min().unwrap_or(0) as i64),
        _ => Reply::error(format!("ERR '{}' is not available", spec.name)),
    }
}

/// ```text
/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
/// ```
/// Answers only when it fails: otherwise the process exits (see [`crate::shutdown`]).
async fn shutdown(core: &Core, tx: Option<crate::core::TxId>, argv: &[Bytes]) -> Reply {
    use crate::shutdown::{parse, Request};
    match parse(&argv[1..]) {
        Err(e) => e.into(),
        Ok(Request::Abort) => Reply::error("ERR No shutdown in progress."),
        // Refused while queueing (no_multi); never inside a transaction.
        Ok(Request::Shutdown(_)) if tx.is_some() => Reply::error("ERR Command not allowed inside a transaction"),
        Ok(Request::Shutdown(opts)) => {
            tracing::info!(?opts, "SHUTDOWN requested by a client");
            crate::shutdown::shutdown(core, opts).await;
            Reply::error("ERR Errors trying to SHUTDOWN. Check logs.")
        }
    }
}

/// ```text
/// PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT | SHARDCHANNELS [pattern] | SHARDNUMSUB [channel ...]
/// ```
async fn pubsub(core: &Core, tx: Option<crate::core::TxId>, argv: &[Bytes]) -> Reply {
    let sub = argv[1].to_ascii_uppercase();
    match (sub.as_slice(), argv.len()) {
        (b"CHANNELS" | b"SHARDCHANNELS", 2 | 3) => {
            let sharded = sub.as_slice() == b"SHARDCHANNELS";
            let pattern = argv.get(2).cloned();
            let mut names = std::collections::BTreeSet::new();
            for o in core.broadcast(tx, || Op::PubsubChannels { sharded, pattern: pattern.clone() }).await {
                if let Out::Keys(k) = o {
                    names.extend(k);
                }
            }
            Reply::Array(names.into_iter().map(Reply::Bulk).collect())
        }
        (b"NUMSUB" | b"SHARDNUMSUB", _) => {
            let sharded = sub.as_slice() == b"SHARDNUMSUB";
            let channels: Vec<Bytes> = argv[2..].to_vec();
            let mut totals = vec![0usize; channels.len()];
            for o in core.broadcast(tx, || Op::PubsubNumsub { sharded, channels: channels.clone() }).await {
                if let Out::Counts(c) = o {
                    totals.iter_mut().zip(c).for_each(|(t, n)| *t += n);
                }
            }
            Reply::Array(channels.into_iter().zip(totals).flat_map(|(c, n)| [Reply::Bulk(c), Reply::Int(n as i64)]).collect())
        }
        (b"NUMPAT", 2) => {
            let mut patterns = std::collections::BTreeSet::new();
            for o in core.broadcast(tx, || Op::PubsubPatterns).await {
                if let Out::Keys(k) = o {
                    patterns.extend(k);
                }
            }
            Reply::Int(patterns.len() as i64)
        }
        (b"HELP", 2) => Reply::Array(
            [
                "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "SHARDCHANNELS [<pattern>]",
                "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                "SHARDNUMSUB [<shardchannel> ...]",
                "    Return the number of subscribers for the specified shard level channel(s)",
                "HELP",
                "    Prints this help.",
            ]
            .iter()
            .map(|l| Reply::Simple(Bytes::from_static(l.as_bytes())))
            .collect(),
        ),
        // Redis 7.0: fixed-arity subcommands get the table's arity error,
        // the variadic ones their own older wording.
        (b"NUMPAT" | b"HELP", _) => sub_arity("pubsub", &argv[1]),
        (b"CHANNELS" | b"SHARDCHANNELS", _) => Reply::error(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(&argv[1])
        )),
        _ => unknown_subcommand(&argv[1], "pubsub"),
    }
}

async fn persist_stats(core: &Core, tx: Option<crate::core::TxId>) -> Vec<crate::persistence::PersistStats> {
    core.broadcast(tx, || Op::PersistStats).await.into_iter().filter_map(|o| if let Out::Persist(p) = o { Some(p) } else { None }).collect()
}

fn count(o: Out) -> usize {
    match o {
        Out::Count(n) => n,
        _ => 0,
    }
}

/// ```text
/// AUTH [username] password
/// ```
/// redcore has no ACLs yet: the default user has no password, as in a stock Redis.
fn auth(argv: &[Bytes]) -> Reply {
    match argv.len() {
        2 => Reply::error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"),
        3 if argv[1].as_ref() == b"default" => Reply::ok(),
        3 => Reply::error("WRONGPASS invalid username-password pair or user is disabled."),
        _ => CmdError::Syntax.into(),
    }
}

/// ```text
/// HELLO [protover [AUTH username password] [SETNAME clientname]]
/// ```
fn hello(conn: &mut Conn, argv: &[Bytes]) -> Reply {
    let mut proto = conn.proto;
    let mut i = 1;
    if argv.len() > 1 {
        match parse_i64(&argv[1]) {
            Some(2) => proto = Protocol::Resp2,
            Some(3) => proto = Protocol::Resp3,
            Some(_) => return Reply::error("NOPROTO unsupported protocol version"),
            None => return Reply::error("ERR Protocol version is not an integer or out of range"),
        }
        i = 2;
    }
    let mut name = None;
    while i < argv.len() {
        let opt = argv[i].to_ascii_uppercase();
        let left = argv.len() - i - 1;
        match opt.as_slice() {
            b"AUTH" if left >= 2 => {
                let r = auth(&argv[i..i + 3]);
                if r.is_error() {
                    return r;
                }
                i += 3;
            }
            b"SETNAME" if left >= 1 => {
                if let Err(e) = check_client_name(&argv[i + 1]) {
                    return e;
                }
                name = Some(argv[i + 1].clone());
                i += 2;
            }
            _ => return Reply::error(format!("ERR Syntax error in HELLO option '{}'", String::from_utf8_lossy(&argv[i]))),
        }
    }
    conn.proto = proto;
    let mut info = conn.info.borrow_mut();
    info.resp = if proto == Protocol::Resp3 { 3 } else { 2 };
    if let Some(n) = name {
        info.name = n;
    }
    Reply::Map(vec![
        (bulk("server"), bulk("redis")),
        (bulk("version"), bulk(REDIS_VERSION)),
        (bulk("proto"), Reply::Int(info.resp as i64)),
        (bulk("id"), Reply::Int(info.id as i64)),
        (bulk("mode"), bulk(if conn.core.config.borrow().cluster_enabled { "cluster" } else { "standalone" })),
        (bulk("role"), bulk("master")),
        (bulk("modules"), Reply::Array(vec![])),
    ])
}

fn check_client_name(name: &[u8]) -> Result<(), Reply> {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(Reply::error("ERR Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

/// ```text
/// CLIENT ID | GETNAME | SETNAME name | SETINFO LIB-NAME|LIB-VER value | LIST [TYPE NORMAL] | INFO
/// ```
async fn client(conn: &mut Conn, argv: &[Bytes]) -> Reply {
    let sub = argv[1].to_ascii_uppercase();
    let argc = argv.len();
    match (sub.as_slice(), argc) {
        (b"ID", 2) => Reply::Int(conn.info.borrow().id as i64),
        (b"GETNAME", 2) => {
            let name = conn.info.borrow().name.clone();
            if name.is_empty() {
                Reply::Nil
            } else {
                Reply::Bulk(name)
            }
        }
        (b"SETNAME", 3) => match check_client_name(&argv[2]) {
            Ok(()) => {
                conn.info.borrow_mut().name = argv[2].clone();
                Reply::ok()
            }
            Err(e) => e,
        },
        (b"SETINFO", 4) => {
            let attr = argv[2].to_ascii_uppercase();
            if argv[3].iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
                return Reply::error(format!(
                    "ERR {} cannot contain spaces, newlines or special characters.",
                    String::from_utf8_lossy(&argv[2])
                ));
            }
            let mut info = conn.info.borrow_mut();
            match attr.as_slice() {
                b"LIB-NAME" => info.lib_name = argv[3].clone(),
                b"LIB-VER" => info.lib_ver = argv[3].clone(),
                _ => return Reply::error(format!("ERR Unrecognized option '{}'", String::from_utf8_lossy(&argv[2]))),
            }
            Reply::ok()
        }
        (b"INFO", 2) => Reply::Verbatim(Bytes::from(client_line(&conn.info.borrow(), conn.core.id))),
        (b"LIST", _) => {
            if argc > 2 && !(argc == 4 && argv[2].eq_ignore_ascii_case(b"TYPE") && argv[3].eq_ignore_ascii_case(b"NORMAL")) {
                return CmdError::Syntax.into();
            }
            let mut text = String::new();
            for out in conn.core.broadcast(conn.active_tx, || Op::ClientList).await {
                if let Out::Text(t) = out {
                    text.push_str(&t);
                }
            }
            Reply::Verbatim(Bytes::from(text))
        }
        (b"HELP", 2) => Reply::Array(
            ["CLIENT <subcommand> [<arg> ...]. Subcommands are:", "ID", "GETNAME", "SETNAME <name>", "SETINFO <LIB-NAME|LIB-VER> <value>", "LIST [TYPE NORMAL]", "INFO"]
                .iter()
                .map(|s| Reply::Simple(Bytes::from_static(s.as_bytes())))
                .collect(),
        ),
        (b"ID" | b"GETNAME" | b"SETNAME" | b"SETINFO" | b"INFO" | b"HELP", _) => sub_arity("client", &argv[1]),
        _ => unknown_subcommand(&argv[1], "client"),
    }
}

fn client_line(c: &crate::core::ClientInfo, core: usize) -> String {
    let now = std::time::Instant::now();
    format!(
        "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={} db=0 sub={} psub={} ssub={} multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={} core={}\n",
        c.id,
        c.addr,
        c.laddr,
        String::from_utf8_lossy(&c.name),
        now.duration_since(c.created).as_secs(),
        store::unix_time_ms().saturating_sub(c.last_active_ms) / 1000,
        if c.subs.iter().any(|&n| n > 0) { "P" } else { "N" },
        c.subs[0],
        c.subs[1],
        c.subs[2],
        c.last_cmd,
        c.resp,
        String::from_utf8_lossy(&c.lib_name),
        String::from_utf8_lossy(&c.lib_ver),
        core
    )
}

/// CLIENT LIST lines for the connections of `core`.
pub fn client_list_lines(core: &Core) -> String {
    let clients = core.clients.borrow();
    let mut ids: Vec<_> = clients.keys().copied().collect();
    ids.sort_unstable();
    ids.iter().map(|id| client_line(&clients[id].borrow(), core.id)).collect()
}

/// COMMAND INFO's entry for one command.
fn command_info(c: &CommandSpec) -> Reply {
    let simple = |s: &str| Reply::Simple(Bytes::from(s.to_string()));
    Reply::Array(vec![
        bulk(c.name),
        Reply::Int(c.arity as i64),
        Reply::Set(c.flags.iter().map(|f| simple(f)).collect()),
        Reply::Int(c.first_key as i64),
        Reply::Int(c.last_key as i64),
        Reply::Int(c.step as i64),
        Reply::Set(c.acl.iter().map(|a| simple(&format!("@{a}"))).collect()),
        Reply::Set(vec![]),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
    ])
}

fn command_docs(c: &CommandSpec) -> Reply {
    Reply::Map(vec![
        (bulk("summary"), bulk(c.summary)),
        (bulk("since"), bulk(c.since)),
        (bulk("group"), bulk(c.group)),
    ])
}

/// ```text
/// COMMAND [COUNT | INFO [name ...] | DOCS [name ...] | LIST]
/// ```
fn command(argv: &[Bytes]) -> Reply {
    if argv.len() == 1 {
        return Reply::Array(table().iter().map(command_info).collect());
    }
    let sub = argv[1].to_ascii_uppercase();
    let names = &argv[2..];
    match sub.as_slice() {
        b"COUNT" if names.is_empty() => Reply::Int(table().len() as i64),
        b"LIST" if names.is_empty() => Reply::Array(table().iter().map(|c| bulk(c.name)).collect()),
        b"INFO" => {
            if names.is_empty() {
                return Reply::Array(table().iter().map(command_info).collect());
            }
            Reply::Array(names.iter().map(|n| commands::lookup(n).map(command_info).unwrap_or(Reply::Nil)).collect())
        }
        b"DOCS" => {
            let specs: Vec<&CommandSpec> =
                if names.is_empty() { table().iter().collect() } else { names.iter().filter_map(|n| commands::lookup(n)).collect() };
            Reply::Map(specs.into_iter().map(|c| (bulk(c.name), command_docs(c))).collect())
        }
        b"HELP" => Reply::Array(
            ["COMMAND <subcommand> [<arg> ...]. Subcommands are:", "(no subcommand)", "COUNT", "INFO [<command-name> ...]", "DOCS [<command-name> ...]", "LIST"]
                .iter()
                .map(|s| Reply::Simple(Bytes::from_static(s.as_bytes())))
                .collect(),
        ),
        b"COUNT" | b"LIST" => sub_arity("command", &argv[1]),
        _ => unknown_subcommand(&argv[1], "command"),
    }
}

/// ```text
/// CONFIG GET parameter [parameter ...] | SET parameter value [parameter value ...] | RESETSTAT
/// ```
async fn config(core: &Core, tx: Option<crate::core::TxId>, argv: &[Bytes]) -> Reply {
    let sub = argv[1].to_ascii_uppercase();
    match sub.as_slice() {
        b"GET" if argv.len() >= 3 => {
            let entries = core.config.borrow().entries();
            let mut out = Vec::new();
            for (k, v) in entries {
                if argv[2..].iter().any(|p| store::glob::glob_match(&p.to_ascii_lowercase(), k.as_bytes())) {
                    out.push((bulk(k), bulk(v)));
                }
            }
            Reply::Map(out)
        }
        b"SET" if argv.len() >= 4 && argv.len().is_multiple_of(2) => {
            let pairs: Vec<(String, String)> = argv[2..]
                .chunks_exact(2)
                .map(|p| (String::from_utf8_lossy(&p[0]).to_ascii_lowercase(), String::from_utf8_lossy(&p[1]).into_owned()))
                .collect();
            // Validate on a copy first so a bad pair changes nothing anywhere.
            let mut probe = core.config.borrow().clone();
            for (k, v) in &pairs {
                if !probe.entries().iter().any(|(name, _)| name == k) {
                    return Reply::error(format!("ERR Unknown option or number of arguments for CONFIG SET - '{k}'"));
                }
                if let Err(e) = probe.set(k, v) {
                    return Reply::error(format!("ERR CONFIG SET failed (possibly related to argument '{k}') - {e}"));
                }
            }
            for (k, v) in pairs {
                core.broadcast(tx, || Op::ConfigSet(k.clone(), v.clone())).await;
            }
            Reply::ok()
        }
        b"RESETSTAT" if argv.len() == 2 => {
            core.broadcast(tx, || Op::ResetStats).await;
            Reply::ok()
        }
        b"GET" | b"SET" | b"RESETSTAT" => sub_arity("config", &argv[1]),
        _ => unknown_subcommand(&argv[1], "config"),
    }
}

/// ```text
/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
/// ```
/// The cursor is the next hash slot to visit (0 starts and ends), so a
/// full iteration returns every key that existed throughout it.
async fn scan(core: &Core, tx: Option<crate::core::TxId>, argv: &[Bytes]) -> Reply {
    let Some(cursor) = std::str::from_utf8(&argv[1]).ok().and_then(|s| s.parse::<u64>().ok()) else {
        return Reply::error("ERR invalid cursor");
    };
    let mut filter = store::ScanFilter::default();
    let mut count = 10usize;
    let mut i = 2;
    while i < argv.len() {
        if i + 1 >= argv.len() {
            return CmdError::Syntax.into();
        }
        match argv[i].to_ascii_uppercase().as_slice() {
            b"MATCH" => filter.pattern = Some(argv[i + 1].clone()),
            b"COUNT" => match parse_i64(&argv[i + 1]) {
                None => return CmdError::NotInteger.into(),
                Some(n) if n < 1 => return CmdError::Syntax.into(),
                Some(n) => count = n as usize,
            },
            b"TYPE" => filter.type_name = Some(argv[i + 1].clone()),
            _ => return CmdError::Syntax.into(),
        }
        i += 2;
    }
    let empty = |c: u64| Reply::Array(vec![bulk(c.to_string()), Reply::Array(vec![])]);
    if cursor >= slots::SLOT_COUNT as u64 {
        return empty(0);
    }
    // Visit core after core until COUNT keys are gathered or the keyspace ends.
    let mut slot = cursor as u16;
    let mut found: Vec<Reply> = Vec::new();
    while slot < slots::SLOT_COUNT && found.len() < count {
        let owner = core.node.ranges.owner_of(slot);
        let end = core.node.ranges.range_of(owner).end;
        let op = Op::Scan { slot, end, count: count - found.len(), filter: filter.clone() };
        let Some(Out::Scan(keys, next)) = core.call(owner, tx, vec![op]).await.into_iter().next() else {
            return empty(0);
        };
        found.extend(keys.into_iter().map(Reply::Bulk));
        slot = next;
    }
    let next = if slot >= slots::SLOT_COUNT { 0 } else { slot };
    Reply::Array(vec![bulk(next.to_string()), Reply::Array(found)])
}

/// A random key, chosen among cores in proportion to their key counts.
async fn randomkey(core: &Core, tx: Option<crate::core::TxId>) -> Reply {
    let mut candidates = Vec::new();
    let mut total = 0usize;
    for out in core.broadcast(tx, || Op::RandomKey).await {
        if let Out::RandomKey(n, Some(k)) = out {
            total += n;
            candidates.push((n, k));
        }
    }
    if candidates.is_empty() {
        return Reply::Nil;
    }
    let mut pick = (rand_u64() % total.max(1) as u64) as usize;
    for (n, k) in candidates.iter() {
        if pick < *n {
            return Reply::Bulk(k.clone());
        }
        pick -= n;
    }
    Reply::Bulk(candidates[0].1.clone())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(store::unix_time_ms());
    h.finish()
}

const INFO_DEFAULT: &[&str] = &["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster", "keyspace", "cores"];

/// ```text
/// INFO [section [section ...]]
/// ```
async fn info(core: &Core, tx: Option<crate::core::TxId>, argv: &[Bytes]) -> Reply {
    let mut wanted: Vec<String> = argv[1..].iter().map(|s| String::from_utf8_lossy(s).to_ascii_lowercase()).collect();
    if wanted.is_empty() || wanted.iter().any(|w| w == "default" || w == "all" || w == "everything") {
        wanted = INFO_DEFAULT.iter().map(|s| s.to_string()).collect();
    }
    let stats: Vec<CoreStats> =
        core.broadcast(tx, || Op::Stats).await.into_iter().filter_map(|o| if let Out::Stats(s) = o { Some(s) } else { None }).collect();
    let mut text = String::new();
    for section in INFO_DEFAULT.iter().filter(|s| wanted.iter().any(|w| w == *s)) {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        info_section(&mut text, core, section, &stats);
    }
    Reply::Verbatim(Bytes::from(text))
}

fn info_section(out: &mut String, core: &Core, section: &str, stats: &[CoreStats]) {
    let node = &core.node;
    let sum = |f: fn(&CoreStats) -> u64| stats.iter().map(f).sum::<u64>();
    let cfg = core.config.borrow();
    let _ = match section {
        "server" => {
            let up = node.started.elapsed().as_secs();
            write!(
                out,
                "# Server\r\nredis_version:{REDIS_VERSION}\r\nredcore_version:{REDCORE_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_mode:{}\r\nos:{} {}\r\narch_bits:64\r\nmultiplexing_api:io_uring\r\nprocess_id:{}\r\nrun_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{up}\r\nuptime_in_days:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nthread_per_core:1\r\ncores:{}\r\n",
                if cfg.cluster_enabled { "cluster" } else { "standalone" },
                std::env::consts::OS,
                std::env::consts::ARCH,
                std::process::id(),
                node.run_id,
                cfg.port,
                up / 86400,
                std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
                node.config_file,
                node.cores(),
            )
        }
        "clients" => write!(
            out,
            "# Clients\r\nconnected_clients:{}\r\nmaxclients:{}\r\nblocked_clients:{}\r\ntracking_clients:0\r\n",
            node.connected_clients.load(Ordering::Relaxed),
            cfg.maxclients,
            stats.iter().map(|s| s.blocked).sum::<usize>()
        ),
        "memory" => {
            let used: i64 = stats.iter().map(|s| s.heap_bytes).sum::<i64>().max(0);
            let dataset: usize = stats.iter().map(|s| s.dataset_bytes).sum();
            let rss = crate::alloc::rss_bytes();
            write!(
                out,
                "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_dataset:{dataset}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:{:.2}\r\nrss_to_dataset_ratio:{:.2}\r\nmem_allocator:mimalloc\r\n",
                human_bytes(used as u64),
                human_bytes(rss),
                cfg.maxmemory,
                human_bytes(cfg.maxmemory),
                cfg.maxmemory_policy,
                if used > 0 { rss as f64 / used as f64 } else { 0.0 },
                if dataset > 0 { rss as f64 / dataset as f64 } else { 0.0 }
            )
        }
        "persistence" => {
            let p: Vec<&crate::persistence::PersistStats> = stats.iter().map(|s| &s.persist).collect();
            let saving = p.iter().any(|s| s.saving);
            let aof = p.iter().any(|s| s.aof);
            write!(
                out,
                "# Persistence\r\nloading:{}\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\naof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_last_write_status:{}\r\naof_current_size:{}\r\n",
                node.loading() as u8,
                p.iter().map(|s| s.changes).sum::<u64>(),
                saving as u8,
                p.iter().map(|s| s.last_save).min().unwrap_or(0),
                if p.iter().all(|s| s.last_save_ok) { "ok" } else { "err" },
                aof as u8,
                (aof && saving) as u8,
                if p.iter().all(|s| s.last_write_ok) { "ok" } else { "err" },
                p.iter().map(|s| s.log_size).sum::<u64>(),
            )
        }
        "stats" => write!(
            out,
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\nrejected_connections:0\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\ntotal_forwarded_commands:{}\r\n",
            node.total_connections.load(Ordering::Relaxed),
            sum(|s| s.commands),
            sum(|s| s.expired),
            sum(|s| s.evicted),
            sum(|s| s.hits),
            sum(|s| s.misses),
            stats.iter().map(|s| s.pubsub_channels).sum::<usize>(),
            stats.iter().map(|s| s.pubsub_patterns).sum::<usize>(),
            sum(|s| s.forwarded_out),
        ),
        "replication" => write!(
            out,
            "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n",
            node.run_id
        ),
        "cpu" => {
            let (user, sys) = cpu_times();
            write!(out, "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\n")
        }
        "cluster" => write!(out, "# Cluster\r\ncluster_enabled:{}\r\n", core.config.borrow().cluster_enabled as u8),
        "keyspace" => {
            let keys = stats.iter().map(|s| s.keys).sum::<usize>();
            let expires = stats.iter().map(|s| s.expires).sum::<usize>();
            let mut r = write!(out, "# Keyspace\r\n");
            if keys > 0 {
                r = write!(out, "db0:keys={keys},expires={expires},avg_ttl=0\r\n");
            }
            r
        }
        "cores" => {
            let mut r = write!(out, "# Cores\r\n");
            for s in stats {
                let range = node.ranges.range_of(s.core);
                r = write!(
                    out,
                    "core{}:slots={}-{},keys={},expires={},clients={},commands={},forwarded_out={},forwarded_in={},heap_bytes={},dataset_bytes={}\r\n",
                    s.core,
                    range.start,
                    range.end - 1,
                    s.keys,
                    s.expires,
                    s.clients,
                    s.commands,
                    s.forwarded_out,
                    s.forwarded_in,
                    s.heap_bytes,
                    s.dataset_bytes
                );
            }
            r
        }
        _ => Ok(()),
    };
}

fn human_bytes(n: u64) -> String {
    const UNITS: &[&str] = &["B", "K", "M", "G", "T"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n}B")
    } else {
        format!("{v:.2}{}", UNITS[u])
    }
}

/// User and system CPU seconds of the process.
fn cpu_times() -> (f64, f64) {
    // /proc/self/stat fields 14 and 15 are utime and stime in clock ticks (100 Hz on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (tick(11), tick(12))
}
