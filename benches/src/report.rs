//! Printed tables and CSV files.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::load::LoadReport;
use crate::rbench::RbRow;

/// Throughput and latency of one server on one workload (latencies in µs).
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    pub ops: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// `redis-benchmark` reports no p99.9.
    pub p999_us: Option<f64>,
    pub max_us: f64,
    pub mean_us: f64,
    /// Busy share of the load generator's CPUs during the run (1.0 = all
    /// busy: the row may be bounded by the client, not the server).
    pub load_cpu: Option<f64>,
    /// Busy share of the server's CPUs (see `cpu.rs` on redcore's polling).
    pub server_cpu: Option<f64>,
}

impl Measure {
    pub fn from_load(r: &LoadReport) -> Measure {
        Measure {
            ops: r.throughput(),
            p50_us: r.percentile_us(50.0),
            p99_us: r.percentile_us(99.0),
            p999_us: Some(r.percentile_us(99.9)),
            max_us: r.max_us(),
            mean_us: r.mean_us(),
            load_cpu: None,
            server_cpu: None,
        }
    }

    /// One server's rounds of the same row put together: throughput over
    /// the rounds' total time (each round ran `requests` requests), the
    /// median of the rounds' percentiles and means (`redis-benchmark`'s
    /// histograms are not available to merge), and the largest maximum.
    pub fn combine_rounds(rounds: &[Measure]) -> Option<Measure> {
        let median = |f: &dyn Fn(&Measure) -> f64| {
            let mut v: Vec<f64> = rounds.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let time: f64 = rounds.iter().map(|m| 1.0 / m.ops).sum();
        (!rounds.is_empty() && rounds.iter().all(|m| m.ops > 0.0)).then(|| Measure {
            ops: rounds.len() as f64 / time,
            p50_us: median(&|m| m.p50_us),
            p99_us: median(&|m| m.p99_us),
            p999_us: None,
            max_us: rounds.iter().map(|m| m.max_us).fold(0.0, f64::max),
            mean_us: median(&|m| m.mean_us),
            load_cpu: mean_of(rounds.iter().map(|m| m.load_cpu)),
            server_cpu: mean_of(rounds.iter().map(|m| m.server_cpu)),
        })
    }

    pub fn from_rbench(r: &RbRow) -> Measure {
        Measure {
            ops: r.rps,
            p50_us: r.p50_ms * 1000.0,
            p99_us: r.p99_ms * 1000.0,
            p999_us: None,
            max_us: r.max_ms * 1000.0,
            mean_us: r.avg_ms * 1000.0,
            load_cpu: None,
            server_cpu: None,
        }
    }
}

/// The mean of the values when every one is known.
fn mean_of(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Option<Vec<f64>> = values.collect();
    v.filter(|v| !v.is_empty()).map(|v| v.iter().sum::<f64>() / v.len() as f64)
}

/// A CPU share as a whole percentage.
pub fn fmt_share(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| format!("{:.0}", v * 100.0))
}

/// A measurement or the reason there is none ("n/a").
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Ok(Measure),
    Na(String),
}

impl Outcome {
    pub fn measure(&self) -> Option<&Measure> {
        match self {
            Outcome::Ok(m) => Some(m),
            Outcome::Na(_) => None,
        }
    }
}

/// One row of the comparison: one workload, both servers.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: String,
    /// `redcore-load` or `redis-benchmark`.
    pub tool: &'static str,
    pub clients: usize,
    pub pipeline: usize,
    pub value_size: usize,
    /// `closed` or `open@<rate>/s`.
    pub mode: String,
    pub redis: Outcome,
    pub redcore: Outcome,
    /// redcore/Redis throughput of each pair of alternating rounds (the
    /// k-th round on one server against the k-th on the other): how far
    /// the ratio moves within the run. Empty for single-round rows.
    pub round_ratios: Vec<f64>,
}

/// Per-round ratios of two servers' per-round throughputs, paired in order.
pub fn round_ratios(redis: &[f64], redcore: &[f64]) -> Vec<f64> {
    redis.iter().zip(redcore).filter(|(r, _)| **r > 0.0).map(|(r, c)| c / r).collect()
}

impl Row {
    /// Lowest and highest per-round ratio, when there were two or more rounds.
    pub fn ratio_range(&self) -> Option<(f64, f64)> {
        (self.round_ratios.len() > 1).then(|| {
            let lo = self.round_ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = self.round_ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        })
    }

    /// The ratio cell of the summary table: the run's ratio, then the
    /// spread of the per-round ratios.
    fn ratio_cell(&self) -> String {
        match (self.ratio(), self.ratio_range()) {
            (None, _) => "n/a".into(),
            (Some(x), None) => format!("{x:.2}"),
            (Some(x), Some((lo, hi))) => format!("{x:.2} ({lo:.2}-{hi:.2})"),
        }
    }

    /// redcore throughput / Redis throughput.
    pub fn ratio(&self) -> Option<f64> {
        match (self.redis.measure(), self.redcore.measure()) {
            (Some(a), Some(b)) if a.ops > 0.0 => Some(b.ops / a.ops),
            _ => None,
        }
    }

    /// Short label for tables and plots.
    pub fn label(&self) -> String {
        format!(
            "{} {}B c{} P{}{}",
            self.workload,
            self.value_size,
            self.clients,
            self.pipeline,
            if self.mode == "closed" {
                String::new()
            } else {
                format!(" {}", self.mode)
            }
        )
    }
}

/// Formats a table with a header row; columns after the first two are right-aligned.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < width.len() {
                width[i] = width[i].max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        for (i, c) in cells.iter().enumerate() {
            let w = width.get(i).copied().unwrap_or(0);
            if i < 2 {
                let _ = write!(out, "{c:<w$}");
            } else {
                let _ = write!(out, "{c:>w$}");
            }
            if i + 1 < cells.len() {
                out.push_str("  ");
            }
        }
        out.push('\n');
    };
    line(
        &mut out,
        &headers.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    );
    let total: usize = width.iter().sum::<usize>() + 2 * width.len().saturating_sub(1);
    out.push_str(&"-".repeat(total));
    out.push('\n');
    for r in rows {
        line(&mut out, r);
    }
    out
}

pub fn fmt_ops(v: f64) -> String {
    format!("{:.0}", v)
}

pub fn fmt_us(v: f64) -> String {
    if v >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn pair(r: &Outcome, c: &Outcome, f: impl Fn(&Measure) -> Option<f64>) -> String {
    let one = |o: &Outcome| o.measure().and_then(&f).map_or("n/a".to_string(), fmt_us);
    format!("{} / {}", one(r), one(c))
}

/// The main comparison table.
pub fn throughput_table(rows: &[Row]) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let ops = |o: &Outcome| o.measure().map_or("n/a".to_string(), |m| fmt_ops(m.ops));
            vec![
                r.label(),
                r.tool.to_string(),
                ops(&r.redis),
                ops(&r.redcore),
                r.ratio_cell(),
                pair(&r.redis, &r.redcore, |m| Some(m.p50_us)),
                pair(&r.redis, &r.redcore, |m| Some(m.p99_us)),
                pair(&r.redis, &r.redcore, |m| m.p999_us),
                pair(&r.redis, &r.redcore, |m| Some(m.max_us)),
                cpu_pair(&r.redis, &r.redcore, |m| m.load_cpu),
                cpu_pair(&r.redis, &r.redcore, |m| m.server_cpu),
            ]
        })
        .collect();
    table(
        &[
            "workload",
            "tool",
            "redis ops/s",
            "redcore ops/s",
            "ratio (rounds)",
            "p50 µs (redis / redcore)",
            "p99 µs",
            "p99.9 µs",
            "max µs",
            "load CPU %",
            "server CPU %",
        ],
        &body,
    )
}

/// `redis / redcore` CPU shares of one row.
fn cpu_pair(r: &Outcome, c: &Outcome, f: impl Fn(&Measure) -> Option<f64>) -> String {
    let one = |o: &Outcome| fmt_share(o.measure().and_then(&f));
    format!("{} / {}", one(r), one(c))
}

/// Reasons for the n/a cells, one line each.
pub fn na_notes(rows: &[Row]) -> String {
    let mut out = String::new();
    for r in rows {
        for (name, o) in [("redis", &r.redis), ("redcore", &r.redcore)] {
            if let Outcome::Na(why) = o {
                let _ = writeln!(out, "  n/a: {} [{}] on {name}: {why}", r.label(), r.tool);
            }
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes a CSV file from a header and rows.
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "{}", header.join(","))?;
    for r in rows {
        writeln!(
            f,
            "{}",
            r.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",")
        )?;
    }
    f.flush()
}

/// `throughput.csv`: one line per row, both servers side by side.
pub fn write_throughput_csv(path: &Path, rows: &[Row]) -> std::io::Result<()> {
    let header = [
        "workload",
        "tool",
        "clients",
        "pipeline",
        "value_bytes",
        "mode",
        "redis_ops",
        "redcore_ops",
        "ratio",
        "redis_p50_us",
        "redcore_p50_us",
        "redis_p99_us",
        "redcore_p99_us",
        "redis_p999_us",
        "redcore_p999_us",
        "redis_max_us",
        "redcore_max_us",
        "redis_mean_us",
        "redcore_mean_us",
        "redis_status",
        "redcore_status",
        "redis_load_cpu",
        "redcore_load_cpu",
        "redis_server_cpu",
        "redcore_server_cpu",
        "ratio_round_min",
        "ratio_round_max",
    ];
    let num = |o: &Outcome, f: &dyn Fn(&Measure) -> Option<f64>| {
        o.measure()
            .and_then(f)
            .map_or(String::new(), |v| format!("{v:.3}"))
    };
    let status = |o: &Outcome| match o {
        Outcome::Ok(_) => "ok".to_string(),
        Outcome::Na(why) => format!("n/a: {why}"),
    };
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.workload.clone(),
                r.tool.to_string(),
                r.clients.to_string(),
                r.pipeline.to_string(),
                r.value_size.to_string(),
                r.mode.clone(),
                num(&r.redis, &|m| Some(m.ops)),
                num(&r.redcore, &|m| Some(m.ops)),
                r.ratio().map_or(String::new(), |x| format!("{x:.4}")),
                num(&r.redis, &|m| Some(m.p50_us)),
                num(&r.redcore, &|m| Some(m.p50_us)),
                num(&r.redis, &|m| Some(m.p99_us)),
                num(&r.redcore, &|m| Some(m.p99_us)),
                num(&r.redis, &|m| m.p999_us),
                num(&r.redcore, &|m| m.p999_us),
                num(&r.redis, &|m| Some(m.max_us)),
                num(&r.redcore, &|m| Some(m.max_us)),
                num(&r.redis, &|m| Some(m.mean_us)),
                num(&r.redcore, &|m| Some(m.mean_us)),
                status(&r.redis),
                status(&r.redcore),
                num(&r.redis, &|m| m.load_cpu),
                num(&r.redcore, &|m| m.load_cpu),
                num(&r.redis, &|m| m.server_cpu),
                num(&r.redcore, &|m| m.server_cpu),
                r.ratio_range().map_or(String::new(), |(lo, _)| format!("{lo:.4}")),
                r.ratio_range().map_or(String::new(), |(_, hi)| format!("{hi:.4}")),
            ]
        })
        .collect();
    write_csv(path, &header, &body)
}

/// Percentiles exported for the latency curves.
pub const CURVE_PERCENTILES: &[f64] = &[
    0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0,
];

/// Rows `label,server,percentile,latency_us` of one run's latency curve.
pub fn curve_rows(label: &str, server: &str, r: &LoadReport) -> Vec<Vec<String>> {
    CURVE_PERCENTILES
        .iter()
        .map(|&q| {
            let v = if q >= 100.0 {
                r.max_us()
            } else {
                r.percentile_us(q)
            };
            vec![
                label.to_string(),
                server.to_string(),
                format!("{q}"),
                format!("{v:.3}"),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_combine_over_total_time() {
        let m = |ops: f64, p50: f64, max: f64| Measure { ops, p50_us: p50, p99_us: 2.0 * p50, p999_us: None, max_us: max, mean_us: p50, load_cpu: Some(p50 / 100.0), server_cpu: None };
        // Each round ran the same number of requests: the throughput is
        // all of them over the rounds' total time, the harmonic mean.
        let c = Measure::combine_rounds(&[m(100.0, 30.0, 900.0), m(300.0, 10.0, 100.0), m(150.0, 20.0, 50.0)]).unwrap();
        let three = 3.0 / (1.0 / 100.0 + 1.0 / 300.0 + 1.0 / 150.0);
        assert!((c.ops - three).abs() < 1e-9, "{}", c.ops);
        assert_eq!((c.p50_us, c.p99_us, c.max_us, c.mean_us), (20.0, 40.0, 900.0, 20.0));
        // CPU shares: the mean where every round has one.
        assert!((c.load_cpu.unwrap() - 0.2).abs() < 1e-9);
        assert_eq!(c.server_cpu, None);
        assert_eq!(Measure::combine_rounds(&[]), None);
        assert_eq!(Measure::combine_rounds(&[m(0.0, 1.0, 1.0)]), None);
    }

    #[test]
    fn table_and_ratio() {
        let m = |ops| Measure {
            ops,
            p50_us: 10.0,
            p99_us: 20.0,
            p999_us: None,
            max_us: 1500.0,
            mean_us: 11.0,
            load_cpu: Some(0.97),
            server_cpu: None,
        };
        let row = Row {
            workload: "get:10,set:1".into(),
            tool: "redcore-load",
            clients: 50,
            pipeline: 1,
            value_size: 32,
            mode: "closed".into(),
            redis: Outcome::Ok(m(100.0)),
            redcore: Outcome::Ok(m(150.0)),
            round_ratios: round_ratios(&[100.0, 0.0, 120.0], &[140.0, 99.0, 156.0, 7.0]),
        };
        assert_eq!(row.ratio(), Some(1.5));
        assert_eq!(row.round_ratios, vec![1.4, 1.3]);
        assert_eq!(row.ratio_range(), Some((1.3, 1.4)));
        let t = throughput_table(std::slice::from_ref(&row));
        assert!(t.contains("1.50 (1.30-1.40)"), "{t}");
        assert!(t.contains("n/a"), "p99.9 is n/a: {t}");
        assert!(t.contains("97 / 97") && t.contains("- / -"), "CPU columns: {t}");
        let na = Row {
            redcore: Outcome::Na("unknown command".into()),
            ..row
        };
        assert_eq!(na.ratio(), None);
        assert!(na_notes(&[na]).contains("unknown command"));
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
