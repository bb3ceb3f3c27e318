//! Configuration: the TOML file (or the embedded default) and the CLI flags
//! that override it.

use clap::Parser;
use serde::Deserialize;
use std::path::PathBuf;

/// The default configuration, embedded from `config/redcore.toml`.
pub const DEFAULT_CONFIG: &str = include_str!("../../../config/redcore.toml");

/// Every configuration key; the TOML names are kebab-case like Redis's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub port: u16,
    pub bind: String,
    pub cores: usize,
    pub dir: PathBuf,
    pub log_level: String,
    pub appendonly: bool,
    pub appendfsync: String,
    pub save: String,
    pub auto_aof_rewrite_percentage: u64,
    #[serde(deserialize_with = "de_memory")]
    pub auto_aof_rewrite_min_size: u64,
    pub aof_load_truncated: bool,
    pub databases: u32,
    pub proto_max_bulk_len: usize,
    pub max_multibulk_len: usize,
    pub max_inline_len: usize,
    pub client_query_buffer_limit: usize,
    pub client_output_buffer_limit: usize,
    #[serde(deserialize_with = "de_memory")]
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    #[serde(deserialize_with = "de_memory")]
    pub client_output_buffer_limit_pubsub_hard: u64,
    #[serde(deserialize_with = "de_memory")]
    pub client_output_buffer_limit_pubsub_soft: u64,
    pub client_output_buffer_limit_pubsub_soft_seconds: u64,
    pub notify_keyspace_events: String,
    pub maxclients: usize,
    pub spin_before_park_us: u64,
    pub active_expire_interval_ms: u64,
    pub cross_core_channel_capacity: usize,
    pub cluster_enabled: bool,
    pub cluster_config_file: String,
    pub cluster_node_timeout: u64,
    pub cluster_port: u16,
    pub cluster_announce_ip: String,
    pub cluster_announce_hostname: String,
    pub cluster_preferred_endpoint_type: String,
    pub cluster_require_full_coverage: bool,
    pub cluster_allow_reads_when_down: bool,
}

fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Ok(true),
        "no" | "false" | "0" => Ok(false),
        _ => Err(format!("expected yes or no, not '{s}'")),
    }
}

/// Parses snapshot rules "seconds changes [seconds changes ...]".
pub fn parse_save_rules(s: &str) -> Result<Vec<(u64, u64)>, String> {
    let nums: Vec<&str> = s.split_whitespace().collect();
    if !nums.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    nums.chunks(2)
        .map(|p| match (p[0].parse::<u64>(), p[1].parse::<u64>()) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            _ => Err("Invalid save parameters".to_string()),
        })
        .collect()
}

/// Eviction policies Redis knows.
pub const MAXMEMORY_POLICIES: &[&str] =
    &["noeviction", "allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl"];

/// Parses a memory amount as Redis does: digits and an optional unit
/// (b, k, kb, m, mb, g, gb; case-insensitive).
pub fn parse_memory(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

fn de_memory<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Mem {
        Int(u64),
        Text(String),
    }
    match Mem::deserialize(d)? {
        Mem::Int(n) => Ok(n),
        Mem::Text(t) => parse_memory(&t).ok_or_else(|| serde::de::Error::custom(format!("invalid memory amount '{t}'"))),
    }
}

/// redcore-server: a Redis-compatible, thread-per-core key-value server.
#[derive(Debug, Parser)]
#[command(name = "redcore-server", version, about)]
pub struct Cli {
    /// TOML configuration file; without it the embedded default is used.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// TCP port for clients.
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on.
    #[arg(long)]
    pub bind: Option<String>,
    /// Number of cores (default: every CPU the process may use).
    #[arg(long)]
    pub cores: Option<usize>,
    /// Data directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Log level (error, warn, info, debug, trace).
    #[arg(long)]
    pub log_level: Option<String>,
    /// Turn the append-only log on (overrides `appendonly`).
    #[arg(long, value_parser = parse_yes_no)]
    pub appendonly: Option<bool>,
    /// appendfsync: always, everysec or no.
    #[arg(long)]
    pub appendfsync: Option<String>,
    /// Cut a damaged log at its first bad record instead of refusing to
    /// start (the records after it are lost; a copy of the file is kept).
    #[arg(long)]
    pub repair_log: bool,
    /// Cluster mode: yes or no (overrides `cluster-enabled`).
    #[arg(long, value_parser = parse_yes_no)]
    pub cluster_enabled: Option<bool>,
    /// Cluster bus port (overrides `cluster-port`; 0 = client port + 10000).
    #[arg(long)]
    pub cluster_port: Option<u16>,
    /// cluster-node-timeout in milliseconds (overrides the file).
    #[arg(long)]
    pub cluster_node_timeout: Option<u64>,
}

impl Config {
    /// Parses a TOML document; a defaulted key may be left out, an unknown
    /// key is an error naming it.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        let mut base: toml::Table = toml::from_str(DEFAULT_CONFIG).map_err(|e| format!("embedded config: {e}"))?;
        let user: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        for (k, v) in user {
            if !base.contains_key(&k) {
                return Err(format!("unknown configuration key '{k}'"));
            }
            base.insert(k, v);
        }
        toml::Value::Table(base).try_into().map_err(|e: toml::de::Error| e.to_string())
    }

    /// The configuration the command line asks for.
    pub fn load(cli: &Cli) -> Result<Config, String> {
        let mut cfg = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => Config::from_toml("")?,
        };
        if let Some(p) = cli.port {
            cfg.port = p;
        }
        if let Some(b) = &cli.bind {
            cfg.bind = b.clone();
        }
        if let Some(c) = cli.cores {
            cfg.cores = c;
        }
        if let Some(d) = &cli.dir {
            cfg.dir = d.clone();
        }
        if let Some(l) = &cli.log_level {
            cfg.log_level = l.clone();
        }
        if let Some(a) = cli.appendonly {
            cfg.appendonly = a;
        }
        if let Some(f) = &cli.appendfsync {
            cfg.appendfsync = f.clone();
        }
        if let Some(c) = cli.cluster_enabled {
            cfg.cluster_enabled = c;
        }
        if let Some(p) = cli.cluster_port {
            cfg.cluster_port = p;
        }
        if let Some(t) = cli.cluster_node_timeout {
            cfg.cluster_node_timeout = t;
        }
        if !["ip", "hostname", "unknown-endpoint"].contains(&cfg.cluster_preferred_endpoint_type.as_str()) {
            return Err(format!("cluster-preferred-endpoint-type: must be ip, hostname or unknown-endpoint, not '{}'", cfg.cluster_preferred_endpoint_type));
        }
        if cfg.cluster_config_file.is_empty() || cfg.cluster_config_file.contains('/') {
            return Err("cluster-config-file: must be a file name inside dir".into());
        }
        if cfg.cluster_enabled {
            crate::cluster_node::cluster_config(&cfg)?;
        }
        if !["always", "everysec", "no"].contains(&cfg.appendfsync.as_str()) {
            return Err(format!("appendfsync: must be always, everysec or no, not '{}'", cfg.appendfsync));
        }
        parse_save_rules(&cfg.save).map_err(|e| format!("save: {e}"))?;
        if !MAXMEMORY_POLICIES.contains(&cfg.maxmemory_policy.as_str()) {
            return Err(format!("maxmemory-policy: unknown policy '{}'", cfg.maxmemory_policy));
        }
        if cfg.databases != 1 {
            return Err("databases: redcore serves database 0 only; set databases = 1".into());
        }
        Ok(cfg)
    }

    /// Output limits for Pub/Sub subscribers.
    pub fn pubsub_limits(&self) -> crate::pubsub::Limits {
        crate::pubsub::Limits {
            hard: self.client_output_buffer_limit_pubsub_hard as usize,
            soft: self.client_output_buffer_limit_pubsub_soft as usize,
            soft_seconds: self.client_output_buffer_limit_pubsub_soft_seconds,
        }
    }

    /// Limits the request parser enforces.
    pub fn parser_limits(&self) -> resp::Limits {
        resp::Limits {
            max_bulk_len: self.proto_max_bulk_len,
            max_array_len: self.max_multibulk_len,
            max_inline_len: self.max_inline_len,
        }
    }

    /// (name, value) of every key, for CONFIG GET.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        vec![
            ("port", self.port.to_string()),
            ("bind", self.bind.clone()),
            ("cores", self.cores.to_string()),
            ("dir", self.dir.display().to_string()),
            ("log-level", self.log_level.clone()),
            ("loglevel", self.log_level.clone()),
            ("databases", self.databases.to_string()),
            ("appendonly", if self.appendonly { "yes" } else { "no" }.into()),
            ("appendfsync", self.appendfsync.clone()),
            ("save", self.save.clone()),
            ("auto-aof-rewrite-percentage", self.auto_aof_rewrite_percentage.to_string()),
            ("auto-aof-rewrite-min-size", self.auto_aof_rewrite_min_size.to_string()),
            ("aof-load-truncated", if self.aof_load_truncated { "yes" } else { "no" }.into()),
            ("proto-max-bulk-len", self.proto_max_bulk_len.to_string()),
            ("max-multibulk-len", self.max_multibulk_len.to_string()),
            ("max-inline-len", self.max_inline_len.to_string()),
            ("client-query-buffer-limit", self.client_query_buffer_limit.to_string()),
            ("client-output-buffer-limit", self.client_output_buffer_limit.to_string()),
            ("maxmemory", self.maxmemory.to_string()),
            ("maxmemory-policy", self.maxmemory_policy.clone()),
            ("client-output-buffer-limit-pubsub-hard", self.client_output_buffer_limit_pubsub_hard.to_string()),
            ("client-output-buffer-limit-pubsub-soft", self.client_output_buffer_limit_pubsub_soft.to_string()),
            ("client-output-buffer-limit-pubsub-soft-seconds", self.client_output_buffer_limit_pubsub_soft_seconds.to_string()),
            ("notify-keyspace-events", self.notify_keyspace_events.clone()),
            ("maxclients", self.maxclients.to_string()),
            ("spin-before-park-us", self.spin_before_park_us.to_string()),
            ("active-expire-interval-ms", self.active_expire_interval_ms.to_string()),
            ("cross-core-channel-capacity", self.cross_core_channel_capacity.to_string()),
            ("cluster-enabled", if self.cluster_enabled { "yes" } else { "no" }.into()),
            ("cluster-config-file", self.cluster_config_file.clone()),
            ("cluster-node-timeout", self.cluster_node_timeout.to_string()),
            ("cluster-port", self.cluster_port.to_string()),
            ("cluster-announce-ip", self.cluster_announce_ip.clone()),
            ("cluster-announce-hostname", self.cluster_announce_hostname.clone()),
            ("cluster-preferred-endpoint-type", self.cluster_preferred_endpoint_type.clone()),
            ("cluster-require-full-coverage", if self.cluster_require_full_coverage { "yes" } else { "no" }.into()),
            ("cluster-allow-reads-when-down", if self.cluster_allow_reads_when_down { "yes" } else { "no" }.into()),
        ]
    }

    /// Applies CONFIG SET for the keys that may change at run time.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let num = |v: &str| v.parse::<usize>().map_err(|_| "argument couldn't be parsed into an integer".to_string());
        match key {
            "proto-max-bulk-len" => self.proto_max_bulk_len = num(value)?.max(1024),
            "max-multibulk-len" => self.max_multibulk_len = num(value)?.max(1),
            "max-inline-len" => self.max_inline_len = num(value)?.max(1024),
            "client-query-buffer-limit" => self.client_query_buffer_limit = num(value)?.max(1024 * 1024),
            "client-output-buffer-limit" => self.client_output_buffer_limit = num(value)?,
            "maxclients" => self.maxclients = num(value)?.max(1),
            "client-output-buffer-limit-pubsub-hard" => self.client_output_buffer_limit_pubsub_hard = parse_memory(value).ok_or("argument must be a memory value")?,
            "client-output-buffer-limit-pubsub-soft" => self.client_output_buffer_limit_pubsub_soft = parse_memory(value).ok_or("argument must be a memory value")?,
            "client-output-buffer-limit-pubsub-soft-seconds" => self.client_output_buffer_limit_pubsub_soft_seconds = num(value)? as u64,
            "notify-keyspace-events" => {
                if value.chars().any(|c| !"KEg$lshzxeAtmdn".contains(c)) {
                    return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into());
                }
                self.notify_keyspace_events = value.to_string();
            }
            "maxmemory" => self.maxmemory = parse_memory(value).ok_or("argument must be a memory value")?,
            "maxmemory-policy" => {
                if !MAXMEMORY_POLICIES.contains(&value) {
                    return Err("argument(s) must be one of the following: ".to_string() + &MAXMEMORY_POLICIES.join(", "));
                }
                self.maxmemory_policy = value.to_string();
            }
            "active-expire-interval-ms" => self.active_expire_interval_ms = (num(value)? as u64).max(1),
            "log-level" | "loglevel" => self.log_level = value.to_string(),
            "appendfsync" => {
                if !["always", "everysec", "no"].contains(&value) {
                    return Err("argument(s) must be one of the following: always, everysec, no".into());
                }
                self.appendfsync = value.to_string();
            }
            "save" => {
                parse_save_rules(value)?;
                self.save = value.to_string();
            }
            "auto-aof-rewrite-percentage" => self.auto_aof_rewrite_percentage = num(value)? as u64,
            "auto-aof-rewrite-min-size" => self.auto_aof_rewrite_min_size = parse_memory(value).ok_or("argument must be a memory value")?,
            _ => return Err("can't set immutable config".into()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.port, 6379);
        assert_eq!(c.bind, "127.0.0.1");
    }

    #[test]
    fn unknown_key_is_named() {
        let e = Config::from_toml("prot = 1").unwrap_err();
        assert!(e.contains("unknown configuration key 'prot'"), "{e}");
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("100mb"), Some(100 * 1024 * 1024));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("7"), Some(7));
        assert_eq!(parse_memory("1x"), None);
        assert_eq!(Config::from_toml("maxmemory = \"1gb\"").unwrap().maxmemory, 1 << 30);
    }

    #[test]
    fn override_one_key() {
        assert_eq!(Config::from_toml("port = 7000").unwrap().port, 7000);
        assert!(Config::from_toml("port = \"x\"").is_err());
    }
}
