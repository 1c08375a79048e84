//! `bench-import`: how fast `hub import` loads a large file, and with how much memory, on
//! SQLite and PostgreSQL, next to the engine's own bulk loader as the floor. Two inputs
//! (`--format`): a firm list (`firms`, the default) and a UN Comtrade API v1 CSV
//! (`comtrade`).
//!
//! ```text
//! cargo build --release -p hub
//! cargo run --release -p bench-import -- [--format firms|comtrade] [--rows 1000000]
//!     [--small 100000] [--engines sqlite,postgres] [--hub PATH] [--pg-url URL] [--keep DIR]
//!
//! # the firm list, both engines, 1,000,000 and 100,000 rows
//! cargo run --release -p bench-import
//! # the Comtrade file, SQLite only
//! cargo run --release -p bench-import -- --format comtrade --engines sqlite
//! # a quick look at small sizes
//! cargo run --release -p bench-import -- --format comtrade --rows 20000 --small 2000 \
//!     --engines sqlite
//! ```
//!
//! # What it does
//!
//! 1. Generates, deterministically, the CSV at two sizes, `--small` and `--rows`:
//!    - `firms` (see `generate.rs`): a long-format CSV of firm observations (one row per
//!      firm and year 2015–2024, grouped by firm: `rows / 10` firms with Punjab districts,
//!      an NTN for about 70% of them, head counts, turnover and exports), and the mapping
//!      file that imports it as the spreadsheet importer's target `firms` (source `bench`);
//!    - `comtrade` (see `comtrade.rs`): a UN Comtrade API v1 CSV with the 47 columns of
//!      the demo's `comtrade_pak_exports_2017_2024.csv`: Pakistan (586) as reporter,
//!      exports and imports with 25 partner areas (World and real Comtrade area codes) by
//!      HS 2017 subheading (the 5,388 six-digit codes of `schema/reference/hs2017.csv`),
//!      annual 2015–2024, each flow identity once (at most 2,694,000 rows). No mapping:
//!      the hub picks the importer `un-comtrade-v1` by content (source `un-comtrade`).
//! 2. For each engine and size, on a fresh database migrated with `hub migrate` (not timed),
//!    runs `hub import FILE [--mapping M] --json` as a child process with validation and
//!    matching on, as users run it; measures its wall-clock time (process start to exit:
//!    reading, validation, matching, writing and the commit) and its peak resident set size
//!    (`VmHWM` from `/proc/<pid>/status`, read every 20 ms), and checks the JSON report
//!    (status `applied`, `rows_read` equal to the rows, the importer `spreadsheet` or
//!    `un-comtrade-v1`).
//! 3. The floor: on another fresh database of the same engine, the engine's bulk loader
//!    (`sqlite3` `.import`, PostgreSQL `COPY` through psql's `\copy`) loads the same CSV into
//!    a staging table and set-based `INSERT … SELECT` statements fill the same tables and
//!    indexes (`firm_observations` and the firms behind them, or `trade_flows`; see
//!    `floor.rs`); the wall-clock time of the `sqlite3`/`psql` process is the floor's, and
//!    the rows written are counted.
//! 4. Prints a table (rows/s, peak RSS in MiB, floor, pipeline/floor ratio), headed with
//!    the format, as text and as Markdown, and two checks: SQLite at the full size imports
//!    at least 100,000 rows/s, and per engine the peak RSS at the full size is at most
//!    32 MiB above the peak at the small size (memory stays flat however long the file).
//!    Exit status 1 when a check fails or a run failed; the table is printed in any case.
//!
//! # Engines
//!
//! SQLite: a database file in a temporary `data_dir` per run. PostgreSQL: a database
//! created per run (`CREATE DATABASE`, dropped afterwards) on the server of `--pg-url`
//! (or `HUB_BENCH_PG_URL`), else on a throwaway cluster started from the server binaries in
//! `/usr/lib/postgresql/*/bin` or on `PATH` (as the `postgres` OS user when run as root,
//! default durability settings), else PostgreSQL is skipped with a note. The hub gets a
//! fixed test CNIC key and `HUB__LOG__FILTER=warn` (set `HUB__LOG__FILTER=info` in the
//! environment to see the hub's own log).
//!
//! `--keep DIR` writes the CSV files (`firms-<rows>.csv`, `comtrade-<rows>.csv`), the
//! mapping, the SQLite databases and the reports into DIR and keeps them (and the
//! PostgreSQL databases); otherwise everything goes into a temporary directory removed at
//! the end. Needs `sqlite3` (3.32 or newer) and, for PostgreSQL, `psql`.

mod comtrade;
mod floor;
mod generate;
mod measure;
mod pg;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;

use floor::Engine;

/// A fixed CNIC hash key for the benchmark's throwaway databases (not a secret).
const CNIC_KEY: &str = "0badc0de5eed0badc0de5eed0badc0de5eed0badc0de5eed0badc0de5eed0bad";

/// SQLite's target at the full size, rows per second.
const SQLITE_TARGET_ROWS_PER_S: f64 = 100_000.0;
/// Largest allowed growth of the peak RSS from the small to the full size, MiB.
const FLAT_MEMORY_MIB: f64 = 32.0;

const MIB: f64 = 1024.0 * 1024.0;

/// Import benchmark: `hub import` of a generated CSV (firm observations or UN Comtrade
/// flows) on SQLite and PostgreSQL, next to the engines' bulk loaders.
#[derive(Debug, Parser)]
#[command(name = "bench-import")]
struct Args {
    /// The generated input: a firm-observation list, or a UN Comtrade API v1 CSV.
    #[arg(long, value_enum, default_value_t = Format::Firms)]
    format: Format,
    /// Rows of the full-size CSV (firms × 10 years; Comtrade flows).
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Rows of the small CSV, the baseline of the flat-memory check.
    #[arg(long, default_value_t = 100_000)]
    small: u64,
    /// Engines to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    engines: Vec<Engine>,
    /// The hub binary; default: `hub` next to this binary (target/release/hub).
    #[arg(long, value_name = "PATH")]
    hub: Option<PathBuf>,
    /// A PostgreSQL server to create the benchmark databases on (any database URL of it,
    /// as a superuser or a role that may create databases); default: a throwaway cluster.
    #[arg(long, value_name = "URL", env = "HUB_BENCH_PG_URL")]
    pg_url: Option<String>,
    /// Keep the generated files, databases and reports in DIR.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

/// The generated input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Firm observations through the spreadsheet importer and a mapping file.
    Firms,
    /// UN Comtrade API v1 CSV, importer `un-comtrade-v1` picked by content.
    Comtrade,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Firms => "firms",
            Format::Comtrade => "comtrade",
        }
    }

    /// What the table is headed with.
    fn title(self) -> &'static str {
        match self {
            Format::Firms => {
                "firms: firm-observation CSV, importer spreadsheet with a mapping (firm_observations)"
            }
            Format::Comtrade => {
                "comtrade: UN Comtrade API v1 CSV, importer un-comtrade-v1 by content (trade_flows)"
            }
        }
    }

    /// The importer the report must name.
    fn importer(self) -> &'static str {
        match self {
            Format::Firms => "spreadsheet",
            Format::Comtrade => comtrade::IMPORTER,
        }
    }

    /// The table with one row per CSV row.
    fn table(self) -> &'static str {
        match self {
            Format::Firms => "firm_observations",
            Format::Comtrade => "trade_flows",
        }
    }

    fn write_csv(self, out: &mut impl std::io::Write, rows: u64) -> std::io::Result<()> {
        match self {
            Format::Firms => generate::write_csv(out, rows),
            Format::Comtrade => comtrade::write_csv(out, rows),
        }
    }

    fn floor_script(self, engine: Engine, csv: &Path) -> String {
        match self {
            Format::Firms => floor::script(engine, csv),
            Format::Comtrade => floor::comtrade_script(engine, csv),
        }
    }
}

/// One line of the table: an engine at one size.
#[derive(Debug)]
struct Line {
    engine: Engine,
    rows: u64,
    pipeline: Result<Pipeline, String>,
    floor: Result<Duration, String>,
}

#[derive(Debug, Clone, Copy)]
struct Pipeline {
    wall: Duration,
    peak_rss: u64,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench-import: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the benchmark; `Ok(false)` when a check failed or a run failed.
fn run(args: Args) -> anyhow::Result<bool> {
    if args.rows == 0 {
        bail!("--rows must be at least 1");
    }
    let format = args.format;
    if format == Format::Comtrade && args.rows > comtrade::max_rows() {
        bail!(
            "--rows: the Comtrade file has at most {} distinct flows",
            comtrade::max_rows()
        );
    }
    let hub = match &args.hub {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the directory of this binary")?
            .join("hub"),
    };
    if !hub.is_file() {
        bail!(
            "no hub binary at {}: build it with `cargo build --release -p hub`, or pass --hub",
            hub.display()
        );
    }
    let hub = fs::canonicalize(&hub)?;
    let _temp;
    let work: PathBuf = match &args.keep {
        Some(dir) => {
            fs::create_dir_all(dir)?;
            fs::canonicalize(dir)?
        }
        None => {
            let dir = tempfile::Builder::new().prefix("bench-import-").tempdir()?;
            let path = dir.path().to_path_buf();
            _temp = dir;
            path
        }
    };
    let keep = args.keep.is_some();

    let mut sizes = vec![args.rows];
    if args.small > 0 && args.small < args.rows {
        sizes.insert(0, args.small);
    }
    let mapping = match format {
        Format::Firms => {
            let mapping = work.join("mapping.toml");
            fs::write(&mapping, generate::MAPPING)?;
            Some(mapping)
        }
        Format::Comtrade => None,
    };
    let mut csvs = Vec::new();
    for &rows in &sizes {
        let path = work.join(format!("{}-{rows}.csv", format.name()));
        let mut out = std::io::BufWriter::new(fs::File::create(&path)?);
        format.write_csv(&mut out, rows)?;
        std::io::Write::flush(&mut out)?;
        note(&format!(
            "generated {} ({rows} rows, {:.1} MiB)",
            path.display(),
            fs::metadata(&path)?.len() as f64 / MIB
        ));
        csvs.push((rows, path));
    }

    let mut engines = args.engines.clone();
    engines.sort();
    engines.dedup();
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    for engine in engines {
        let server = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => {
                let server = match &args.pg_url {
                    Some(url) => Some(pg::Server::at_url(url)?),
                    None => pg::Server::throwaway(&work)?,
                };
                match server {
                    Some(server) => {
                        let how = if server.is_throwaway() {
                            "throwaway cluster"
                        } else {
                            "given server"
                        };
                        notes.push(format!("postgres: {} ({how})", server.version));
                        Some(server)
                    }
                    None => {
                        notes.push(
                            "postgres: skipped, no PostgreSQL server binaries installed and no \
                             --pg-url"
                                .to_owned(),
                        );
                        continue;
                    }
                }
            }
        };
        for (rows, csv) in &csvs {
            let bench = Bench {
                hub: &hub,
                work: &work,
                format,
                engine,
                server: server.as_ref(),
                keep,
            };
            let pipeline = bench.pipeline(*rows, csv, mapping.as_deref());
            if let Err(e) = &pipeline {
                note(&format!("{} {rows}: pipeline FAILED: {e}", engine.name()));
            }
            let floor = bench.floor(*rows, csv);
            if let Err(e) = &floor {
                note(&format!("{} {rows}: floor FAILED: {e}", engine.name()));
            }
            lines.push(Line {
                engine,
                rows: *rows,
                pipeline: pipeline.map_err(|e| format!("{e:#}")),
                floor: floor.map_err(|e| format!("{e:#}")),
            });
        }
    }
    if let Ok(out) = Command::new("sqlite3").arg("--version").output() {
        let version = String::from_utf8_lossy(&out.stdout);
        let version = version.split_whitespace().next().unwrap_or("?");
        notes.insert(0, format!("sqlite3 CLI {version}"));
    }
    let (report, ok) = render(format, &lines, args.rows, &notes);
    print!("{report}");
    Ok(ok)
}

fn note(message: &str) {
    eprintln!("bench-import: {message}");
}

/// What one engine's runs share.
struct Bench<'a> {
    hub: &'a Path,
    work: &'a Path,
    format: Format,
    engine: Engine,
    server: Option<&'a pg::Server>,
    keep: bool,
}

/// A fresh database: the hub's data dir and database URL.
struct Database {
    dir: PathBuf,
    url: String,
    /// The PostgreSQL database's name, dropped at the end unless kept.
    pg_name: Option<String>,
}

impl Bench<'_> {
    /// A fresh, migrated database for `what` (`pipeline`, `floor`) at `rows`.
    fn fresh(&self, what: &str, rows: u64) -> anyhow::Result<Database> {
        let dir = self
            .work
            .join(format!("{}-{what}-{rows}", self.engine.name()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        let (url, pg_name) = match self.server {
            None => (
                format!("sqlite://{}?mode=rwc", dir.join("hub.sqlite").display()),
                None,
            ),
            Some(server) => {
                let name = format!("bench_{what}_{rows}_{}", std::process::id());
                server.drop_database(&name)?;
                (server.create_database(&name)?, Some(name))
            }
        };
        let db = Database { dir, url, pg_name };
        let out = self
            .hub(&db)
            .arg("migrate")
            .stdin(Stdio::null())
            .output()
            .context("running hub migrate")?;
        if !out.status.success() {
            bail!(
                "hub migrate failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(db)
    }

    /// The database is no longer needed.
    fn done(&self, db: Database) {
        if self.keep {
            return;
        }
        if let (Some(server), Some(name)) = (self.server, &db.pg_name) {
            let _ = server.drop_database(name);
        }
        let _ = fs::remove_dir_all(&db.dir);
    }

    /// `hub` with the database's settings.
    fn hub(&self, db: &Database) -> Command {
        let mut cmd = Command::new(self.hub);
        cmd.current_dir(&db.dir)
            .env("HUB__DATA_DIR", &db.dir)
            .env("HUB__DATABASE__URL", &db.url)
            .env("HUB__SECURITY__CNIC_KEY", CNIC_KEY)
            .env_remove("RUST_LOG");
        if std::env::var_os("HUB__LOG__FILTER").is_none() {
            cmd.env("HUB__LOG__FILTER", "warn");
        }
        cmd
    }

    /// Times `hub import` of `csv` (with the mapping file when there is one).
    fn pipeline(&self, rows: u64, csv: &Path, mapping: Option<&Path>) -> anyhow::Result<Pipeline> {
        let db = self.fresh("pipeline", rows)?;
        let report_path = db.dir.join("report.json");
        note(&format!("{} {rows}: hub import ...", self.engine.name()));
        let mut cmd = self.hub(&db);
        cmd.arg("import").arg(csv);
        if let Some(mapping) = mapping {
            cmd.arg("--mapping").arg(mapping);
        }
        let measured = measure::run(
            cmd.arg("--json")
                .stdin(Stdio::null())
                .stdout(fs::File::create(&report_path)?),
        )?;
        let text = fs::read_to_string(&report_path)?;
        let checked = check_report(
            &text,
            rows,
            self.format.importer(),
            measured.status.success(),
        );
        if self.keep {
            let _ = fs::copy(
                &report_path,
                self.work.join(format!(
                    "report-{}-{}-{rows}.json",
                    self.format.name(),
                    self.engine.name()
                )),
            );
        }
        self.done(db);
        let duration_ms = checked?;
        let secs = measured.wall.as_secs_f64();
        note(&format!(
            "{} {rows}: hub import {secs:.2} s ({:.0} rows/s; {:.2} s inside the pipeline), \
             peak RSS {:.1} MiB",
            self.engine.name(),
            rows as f64 / secs,
            duration_ms as f64 / 1000.0,
            measured.peak_rss as f64 / MIB
        ));
        Ok(Pipeline {
            wall: measured.wall,
            peak_rss: measured.peak_rss,
        })
    }

    /// Times the engine's bulk loader filling the same tables.
    fn floor(&self, rows: u64, csv: &Path) -> anyhow::Result<Duration> {
        let db = self.fresh("floor", rows)?;
        let script_path = db.dir.join("floor.sql");
        fs::write(&script_path, self.format.floor_script(self.engine, csv))?;
        note(&format!("{} {rows}: floor ...", self.engine.name()));
        let mut cmd = match self.server {
            None => {
                let mut cmd = Command::new("sqlite3");
                cmd.arg("-bail")
                    .arg(db.dir.join("hub.sqlite"))
                    .stdin(fs::File::open(&script_path)?);
                cmd
            }
            Some(server) => {
                let mut cmd = server.psql_command(&db.url);
                cmd.arg("-1")
                    .arg("-f")
                    .arg(&script_path)
                    .stdin(Stdio::null());
                cmd
            }
        };
        let measured = measure::run(cmd.stdout(Stdio::null()))?;
        let result = if measured.status.success() {
            self.count_rows(&db).and_then(|n| {
                if n == rows {
                    Ok(measured.wall)
                } else {
                    Err(anyhow::anyhow!(
                        "the floor wrote {n} rows into {}, not {rows}",
                        self.format.table()
                    ))
                }
            })
        } else {
            Err(anyhow::anyhow!(
                "the floor script failed ({})",
                measured.status
            ))
        };
        self.done(db);
        if let Ok(wall) = &result {
            note(&format!(
                "{} {rows}: floor {:.2} s ({:.0} rows/s)",
                self.engine.name(),
                wall.as_secs_f64(),
                rows as f64 / wall.as_secs_f64()
            ));
        }
        result
    }

    /// The rows of the format's table (`firm_observations`, `trade_flows`).
    fn count_rows(&self, db: &Database) -> anyhow::Result<u64> {
        let sql = format!("SELECT count(*) FROM {}", self.format.table());
        let text = match self.server {
            Some(server) => server.query(&db.url, &sql)?,
            None => {
                let out = Command::new("sqlite3")
                    .arg(db.dir.join("hub.sqlite"))
                    .arg(&sql)
                    .output()?;
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            }
        };
        text.trim()
            .parse()
            .with_context(|| format!("counting {}: {text:?}", self.format.table()))
    }
}

/// Checks the `--json` report: applied by `importer`, every row read. Returns the
/// pipeline's own `duration_ms`.
fn check_report(text: &str, rows: u64, importer: &str, exited_ok: bool) -> anyhow::Result<u64> {
    let report: serde_json::Value = serde_json::from_str(text).with_context(|| {
        format!(
            "hub import (exit {}) printed no JSON report: {:.300}",
            if exited_ok { "0" } else { "non-zero" },
            text
        )
    })?;
    let status = report["status"].as_str().unwrap_or("?");
    let rows_read = report["rows_read"].as_u64().unwrap_or(0);
    let used = report["importer"].as_str().unwrap_or("?");
    if used != importer {
        bail!("the file was read by the importer {used}, not {importer} (status {status})");
    }
    if status != "applied" || rows_read != rows || !exited_ok {
        let issues: Vec<String> = report["issues"]
            .as_array()
            .into_iter()
            .flatten()
            .take(1)
            .map(|i| {
                format!(
                    "row {} {}: {}",
                    i["row"],
                    i["code"].as_str().unwrap_or("?"),
                    i["message"].as_str().unwrap_or("?")
                )
            })
            .collect();
        bail!(
            "status {status}, {rows_read} of {rows} rows read, {} rejected; error: {}; \
             first of {} issues: {}",
            report["rejected"],
            report["error"].as_str().unwrap_or("none"),
            report["issues_total"],
            issues.join(" | ")
        );
    }
    Ok(report["duration_ms"].as_u64().unwrap_or(0))
}

/// The table, as text then Markdown, with the checks; `false` when a check or a run failed.
fn render(format: Format, lines: &[Line], full: u64, notes: &[String]) -> (String, bool) {
    let mut ok = lines.iter().all(|l| l.pipeline.is_ok() && l.floor.is_ok());
    let header = [
        "engine",
        "rows",
        "pipeline s",
        "rows/s",
        "peak RSS MiB",
        "floor s",
        "floor rows/s",
        "pipeline/floor",
    ];
    let cells: Vec<[String; 8]> = lines
        .iter()
        .map(|l| {
            let (secs, rate, rss) = match &l.pipeline {
                Ok(p) => (
                    format!("{:.2}", p.wall.as_secs_f64()),
                    format!("{:.0}", l.rows as f64 / p.wall.as_secs_f64()),
                    format!("{:.1}", p.peak_rss as f64 / MIB),
                ),
                Err(_) => ("failed".into(), "-".into(), "-".into()),
            };
            let (fsecs, frate) = match &l.floor {
                Ok(f) => (
                    format!("{:.2}", f.as_secs_f64()),
                    format!("{:.0}", l.rows as f64 / f.as_secs_f64()),
                ),
                Err(_) => ("failed".into(), "-".into()),
            };
            let ratio = match (&l.pipeline, &l.floor) {
                (Ok(p), Ok(f)) => format!("{:.1}×", p.wall.as_secs_f64() / f.as_secs_f64()),
                _ => "-".into(),
            };
            [
                l.engine.name().to_owned(),
                l.rows.to_string(),
                secs,
                rate,
                rss,
                fsecs,
                frate,
                ratio,
            ]
        })
        .collect();

    let mut checks = Vec::new();
    let sqlite_full = lines
        .iter()
        .find(|l| l.engine == Engine::Sqlite && l.rows == full);
    if let Some(line) = sqlite_full {
        let (pass, detail) = match &line.pipeline {
            Ok(p) => {
                let rate = full as f64 / p.wall.as_secs_f64();
                (
                    rate >= SQLITE_TARGET_ROWS_PER_S,
                    format!("{rate:.0} rows/s"),
                )
            }
            Err(_) => (false, "the import failed".to_owned()),
        };
        ok &= pass;
        checks.push(format!(
            "{}: sqlite at {full} {} rows imports at least {SQLITE_TARGET_ROWS_PER_S:.0} \
             rows/s ({detail})",
            verdict(pass),
            format.name()
        ));
    }
    let mut engines: Vec<Engine> = lines.iter().map(|l| l.engine).collect();
    engines.dedup();
    for engine in engines {
        let of = |rows: u64| lines.iter().find(|l| l.engine == engine && l.rows == rows);
        let small = lines
            .iter()
            .filter(|l| l.engine == engine && l.rows < full)
            .map(|l| l.rows)
            .min();
        let (Some(small), Some(full_line)) = (small, of(full)) else {
            continue;
        };
        let (pass, detail) = match (&of(small).map(|l| &l.pipeline), &full_line.pipeline) {
            (Some(Ok(s)), Ok(f)) => {
                let growth = (f.peak_rss as f64 - s.peak_rss as f64) / MIB;
                (
                    growth <= FLAT_MEMORY_MIB,
                    format!(
                        "{:.1} MiB at {full}, {:.1} MiB at {small}: {growth:+.1} MiB",
                        f.peak_rss as f64 / MIB,
                        s.peak_rss as f64 / MIB
                    ),
                )
            }
            _ => (false, "an import failed".to_owned()),
        };
        ok &= pass;
        checks.push(format!(
            "{}: {} peak RSS at {full} {} rows at most {FLAT_MEMORY_MIB:.0} MiB above the \
             peak at {small} rows ({detail})",
            verdict(pass),
            engine.name(),
            format.name()
        ));
    }

    let mut out = String::new();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let text_row = |out: &mut String, row: &[String]| {
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i == 0 {
                let _ = write!(out, "{cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "  {}{cell}", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    let _ = writeln!(out, "\nformat {}", format.title());
    text_row(&mut out, &header.map(str::to_owned));
    for row in &cells {
        text_row(&mut out, row);
    }
    out.push('\n');
    for check in &checks {
        let _ = writeln!(out, "{check}");
    }
    for line in lines {
        for (what, result) in [
            ("pipeline", line.pipeline.as_ref().err()),
            ("floor", line.floor.as_ref().err()),
        ] {
            if let Some(e) = result {
                let _ = writeln!(
                    out,
                    "FAILED: {} {} {} {what}: {e}",
                    format.name(),
                    line.engine.name(),
                    line.rows
                );
            }
        }
    }

    // Markdown, to paste into README.
    let _ = writeln!(out, "\nFormat {}.\n", format.title());
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        header
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
            .collect::<String>()
    );
    for row in &cells {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    if !notes.is_empty() || !checks.is_empty() {
        out.push('\n');
    }
    for check in &checks {
        let _ = writeln!(out, "- {check}");
    }
    for n in notes {
        let _ = writeln!(out, "- {n}");
    }
    (out, ok)
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}
