//! `--datasets`: the trade flows exported as a dataset (`GET /datasets/trade_flows.csv`
//! and `.parquet`, and `.ndjson` for comparison) by `hub serve`, read by a client that
//! counts the bytes and throws them away, beside the engine's own export of the same query
//! as the floor: `sqlite3 -csv` on SQLite, `COPY (…) TO STDOUT` through `psql` on
//! PostgreSQL, each written to `/dev/null`.
//!
//! Measured per format, `--rounds` times: rows per second (the rows of `bi_trade_flows`
//! over the wall time of the whole download) and the growth of the hub's resident set
//! during the download (`VmRSS` sampled every 10 ms, the largest value minus the value
//! before the request). Targets: CSV at least the floor's rows per second divided by 1.5;
//! RSS growth under 64 MB for every format.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// What one export measured.
#[derive(Debug, Clone)]
pub struct Export {
    pub engine: String,
    /// `csv`, `parquet`, `ndjson`, or `floor`.
    pub what: String,
    pub rows: u64,
    pub seconds: f64,
    /// Growth of the hub's resident set during the download, bytes (none for the floor).
    pub rss_growth: Option<u64>,
    /// The same of its anonymous memory (without mapped files).
    pub anon_growth: Option<u64>,
}

impl Export {
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.seconds.max(1e-9)
    }
}

/// The columns of the dataset, as the hub selects them (all of them, for the public).
const COLUMNS: &str = "d.id, d.source, d.reporter, d.partner, d.flow, d.classification, \
     d.commodity_code, d.hs2, d.hs4, d.hs6, d.aggregate_level, d.period_kind, d.period_start, \
     d.period_end, d.year, d.breakdown_key, d.value_usd, d.net_weight_kg, d.quantity, \
     d.quantity_unit, d.original_value, d.original_currency, d.is_value_estimated, d.flags, \
     d.change_seq, d.updated_at";

fn floor_sql() -> String {
    format!("SELECT {COLUMNS} FROM bi_trade_flows d ORDER BY d.id")
}

/// The resident set of `pid` and its anonymous part (the process's own memory, without
/// mapped files such as SQLite's memory map of the database), bytes.
fn rss(pid: u32) -> (u64, u64) {
    let [all, anon] = crate::status_fields(pid, ["VmRSS:", "RssAnon:"]);
    (all, anon)
}

/// What a download measured: bytes, lines, seconds, and the largest growth of the
/// resident set and of its anonymous part.
struct Downloaded {
    bytes: u64,
    lines: u64,
    seconds: f64,
    growth: u64,
    anon_growth: u64,
}

/// Downloads `url` into nothing, counting bytes and lines, while sampling the RSS of
/// `pid`.
fn download(url: &str, pid: u32) -> anyhow::Result<Downloaded> {
    let (before, anon_before) = rss(pid);
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(before));
    let anon_peak = Arc::new(AtomicU64::new(anon_before));
    let sampler = {
        let (done, peak, anon_peak) = (done.clone(), peak.clone(), anon_peak.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let (all, anon) = rss(pid);
                peak.fetch_max(all, Ordering::Relaxed);
                anon_peak.fetch_max(anon, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let started = Instant::now();
    let mut response = agent.get(url).call()?;
    if response.status() != 200 {
        done.store(true, Ordering::Relaxed);
        bail!("GET {url}: {}", response.status());
    }
    let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
    let mut buf = vec![0u8; 1 << 16];
    let (mut bytes, mut lines) = (0u64, 0u64);
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    Ok(Downloaded {
        bytes,
        lines,
        seconds,
        growth: peak.load(Ordering::Relaxed).saturating_sub(before),
        anon_growth: anon_peak
            .load(Ordering::Relaxed)
            .saturating_sub(anon_before),
    })
}

/// Times `cmd` with its output thrown away (the floor): seconds.
fn timed(mut cmd: Command) -> anyhow::Result<f64> {
    let started = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("running the floor's export")?;
    if !out.status.success() {
        bail!("floor: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Measures the exports of one engine: `served` is the running hub at `base` with its
/// pid; `sqlite` the database file (SQLite) or `psql` and the URL (PostgreSQL).
pub fn measure(
    engine: &str,
    base: &str,
    pid: u32,
    rows: u64,
    rounds: usize,
    sqlite: Option<&Path>,
    psql: Option<(&Path, &str)>,
) -> anyhow::Result<Vec<Export>> {
    let mut out = Vec::new();
    // Warm the caches (the file's pages, the plans) once.
    download(&format!("{base}/datasets/trade_flows.csv?limit=1000"), pid)?;
    for _ in 0..rounds {
        let floor_seconds = match (sqlite, psql) {
            (Some(file), _) => {
                let mut cmd = Command::new("sqlite3");
                cmd.arg("-csv").arg("-header").arg(file).arg(floor_sql());
                timed(cmd)?
            }
            (None, Some((psql, url))) => {
                let mut cmd = Command::new(psql);
                cmd.arg(url).arg("-X").arg("-q").arg("-c").arg(format!(
                    "COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)",
                    floor_sql()
                ));
                timed(cmd)?
            }
            _ => bail!("no floor for {engine}"),
        };
        out.push(Export {
            engine: engine.to_owned(),
            what: "floor".into(),
            rows,
            seconds: floor_seconds,
            rss_growth: None,
            anon_growth: None,
        });
        for format in ["csv", "parquet", "ndjson"] {
            let url = format!("{base}/datasets/trade_flows.{format}");
            let d = download(&url, pid)?;
            if format != "parquet" {
                let got = d.lines.saturating_sub(u64::from(format == "csv"));
                anyhow::ensure!(got == rows, "{format}: {got} rows, not {rows}");
            }
            eprintln!(
                "bench-graphql: {engine} trade_flows.{format}: {rows} rows, {:.1} MB in {:.2} s ({:.0} rows/s), RSS +{:.1} MB of which anonymous +{:.1} MB (floor {:.2} s)",
                d.bytes as f64 / 1e6,
                d.seconds,
                rows as f64 / d.seconds,
                d.growth as f64 / 1e6,
                d.anon_growth as f64 / 1e6,
                floor_seconds
            );
            out.push(Export {
                engine: engine.to_owned(),
                what: format.to_owned(),
                rows,
                seconds: d.seconds,
                rss_growth: Some(d.growth),
                anon_growth: Some(d.anon_growth),
            });
        }
    }
    Ok(out)
}

/// The Markdown report and the targets missed.
pub fn report(exports: &[Export]) {
    println!("\n## Datasets: trade_flows exported (rows/s, best of the rounds)\n");
    println!(
        "| engine | floor (engine's own CSV export) | CSV | CSV / floor | Parquet | NDJSON | RSS growth (max) | of which anonymous |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut engines: Vec<&str> = exports.iter().map(|e| e.engine.as_str()).collect();
    engines.dedup();
    let mut missed = Vec::new();
    for engine in engines {
        let best = |what: &str| {
            exports
                .iter()
                .filter(|e| e.engine == engine && e.what == what)
                .map(Export::rows_per_second)
                .fold(0.0, f64::max)
        };
        let growth = exports
            .iter()
            .filter(|e| e.engine == engine)
            .filter_map(|e| e.rss_growth)
            .max()
            .unwrap_or(0);
        let anon = exports
            .iter()
            .filter(|e| e.engine == engine)
            .filter_map(|e| e.anon_growth)
            .max()
            .unwrap_or(0);
        let (floor, csv) = (best("floor"), best("csv"));
        println!(
            "| {engine} | {floor:.0} | {csv:.0} | {:.2}x | {:.0} | {:.0} | {:.1} MB | {:.1} MB |",
            csv / floor.max(1e-9),
            best("parquet"),
            best("ndjson"),
            growth as f64 / 1e6,
            anon as f64 / 1e6
        );
        if csv < floor / 1.5 {
            missed.push(format!(
                "{engine}: CSV {csv:.0} rows/s is under the floor / 1.5 ({:.0})",
                floor / 1.5
            ));
        }
        if growth >= 64 << 20 {
            missed.push(format!(
                "{engine}: RSS grew {:.1} MB (target: under 64 MB)",
                growth as f64 / 1e6
            ));
        }
    }
    println!();
    if missed.is_empty() {
        println!("Targets met: CSV at least the floor / 1.5, RSS growth under 64 MB.");
    } else {
        for m in missed {
            println!("MISSED: {m}");
        }
    }
}
