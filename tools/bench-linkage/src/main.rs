//! `bench-linkage`: how well, and how fast, `hub import` links the records of firms that
//! several sources describe, against a generated ground truth.
//!
//! ```text
//! cargo build --release -p hub
//! cargo run --release -p bench-linkage -- [--sizes 10000,100000] [--seed 1] [--hub PATH]
//!     [--keep DIR] [--work DIR]
//!
//! # a quick look against the debug build
//! cargo run -p bench-linkage -- --sizes 2000 --hub target/debug/hub
//! ```
//!
//! # What it does
//!
//! 1. For each size `N` of `--sizes`, generates deterministically (see `generate.rs`) `N`
//!    ground-truth firms of four Punjab districts, 5% of them *twins* (another firm with the
//!    same person and product words in the same tehsil: a hard negative), and three CSV
//!    files that describe them, read by the spreadsheet importer through its header
//!    synonyms (no mapping):
//!    - `registry.csv` (source `bench-registry`): every firm once (`R-<n>`), canonical name
//!      with legal suffix, district, tehsil, registry unit number, NTN for 90%, phone for
//!      80%, address;
//!    - `survey.csv` (source `bench-survey`): a random 70% of the firms (`S-<n>`), phone
//!      for 50%, address for 50%;
//!    - `attendance.csv` (source `bench-attendance`): a random 50% (`A-<n>`), phone for
//!      30%, no address;
//!
//!    each record of files 2 and 3 perturbed independently: no NTN 60%, legal suffix
//!    dropped or written differently 40%, an abbreviated word 10%, one typo 15%, upper case
//!    20%, another tehsil of the district 5%. The ground truth (record key → firm) stays in
//!    memory and is written to `truth.csv`.
//! 2. On a fresh SQLite database (a temporary `HUB__DATA_DIR`; `hub migrate` not timed)
//!    imports the three files in that order, each with `hub import FILE --source CODE
//!    --json` as a child process, as users run it, and measures each import's wall-clock
//!    time (process start to exit). Each JSON report must say `applied` by the importer
//!    `spreadsheet`, with every row read, none rejected and one organisation record per
//!    row; its `linkage` object (`scored`, `compared`, `linked`, `queued`, `millis`) is
//!    kept.
//! 3. Reads the outcome of every record from the database with the `sqlite3` command-line
//!    tool: its organisation (`organisation_source_records.organisation_id`), the method of
//!    its active `record_links` row (`new`: it founded its firm; `strong_identifier`: linked
//!    by NTN or unit number; `score`: linked automatically by name, place, phone and
//!    address), and the organisations proposed for it by pending match reviews
//!    (`match_reviews`, kind `match`, status `pending`: the review queue).
//! 4. Prints per size a table of the imports and the quality measures, then a summary
//!    table of all sizes as text and as Markdown, the definitions, and the checks against
//!    the targets. Exit status 1 when a check fails or a run failed; everything is printed
//!    in any case.
//!
//! # Measures
//!
//! For a record `r` of files 2 and 3 (survey, attendance) of true firm `f`, `truth_org` is
//! the organisation of `f`'s registry record. `r` is *linked correctly* when its
//! organisation is `truth_org`, and *found with the queue* when it is linked correctly or,
//! if not, `truth_org` is among its pending review candidates. Counting is strict: a record
//! of file 3 linked to a firm founded by a survey record of the same true firm that itself
//! stayed apart from the registry counts as a miss (such records, in an organisation of two
//! or more records all of their true firm, are shown as "elsewhere").
//!
//! - **score-link precision**: of the records of files 2 and 3 linked with method `score`,
//!   the share linked correctly;
//! - **automatic-link precision**: the same over methods `strong_identifier` and `score`;
//! - **recall of links**: records of files 2 and 3 linked correctly / records of files 2
//!   and 3;
//! - **recall with the queue**: records of files 2 and 3 found with the queue / records of
//!   files 2 and 3;
//! - **queue**: distinct records (of all three files) with a pending review, and the review
//!   rows (a record has up to two candidates); its share is the distinct records over all
//!   records of the three files;
//! - **pairwise precision / recall**: over all pairs of records of the three files, grouped
//!   by organisation and by true firm: pairs in one organisation that are of one true firm /
//!   pairs in one organisation; the same / pairs of one true firm;
//! - **times**: each import's wall-clock time; the *linking time*, the sum of the three
//!   reports' `linkage.millis` (loading the linkage index, blocking, scoring); the total
//!   import time, the sum of the three wall-clock times.
//!
//! # Targets
//!
//! At every size: score-link precision ≥ 0.99, recall with the queue ≥ 0.95, queue ≤ 5% of
//! the records. At the largest size: linking time < 60 s.
//!
//! # Hub and files
//!
//! The hub binary: `--hub PATH`, else `target/release/hub` when present, else
//! `target/debug/hub` (found from this binary's location). It gets its own database URL and
//! data dir, a fixed test CNIC key and `HUB__LOG__FILTER=warn` (set `HUB__LOG__FILTER` to
//! see its log). `--keep DIR` writes the files, databases and reports of each size into
//! `DIR/n<size>/` and keeps them; otherwise they go into a temporary directory (under
//! `--work DIR` when given, else the system's) removed at the end. Needs `sqlite3`.

mod evaluate;
mod generate;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;

use evaluate::{Quality, ratio};
use generate::{Dataset, File};

/// A fixed CNIC hash key for the benchmark's throwaway databases (not a secret).
const CNIC_KEY: &str = "0badc0de5eed0badc0de5eed0badc0de5eed0badc0de5eed0badc0de5eed0bad";

/// Targets.
const SCORE_PRECISION_TARGET: f64 = 0.99;
const RECALL_WITH_QUEUE_TARGET: f64 = 0.95;
const QUEUE_SHARE_TARGET: f64 = 0.05;
const LINKING_SECONDS_TARGET: f64 = 60.0;

/// Record-linkage benchmark: a generated registry, survey and attendance list of firms
/// with known ground truth through `hub import`; precision, recall, review queue and
/// linking time.
#[derive(Debug, Parser)]
#[command(name = "bench-linkage")]
struct Args {
    /// Numbers of ground-truth firms, comma-separated; one run each.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    sizes: Vec<usize>,
    /// The generator's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The hub binary; default: target/release/hub when present, else target/debug/hub.
    #[arg(long, value_name = "PATH")]
    hub: Option<PathBuf>,
    /// Keep the generated files, databases and reports in DIR (one directory per size).
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Create the temporary working directory under DIR (ignored with --keep).
    #[arg(long, value_name = "DIR")]
    work: Option<PathBuf>,
}

/// The `linkage` object of an import report.
#[derive(Debug, Clone, Copy, Default)]
struct Linkage {
    scored: u64,
    compared: u64,
    linked: u64,
    queued: u64,
    millis: u64,
}

/// One `hub import`.
#[derive(Debug, Clone)]
struct Import {
    file: File,
    rows: u64,
    wall: Duration,
    linkage: Option<Linkage>,
}

/// One size's run.
#[derive(Debug)]
struct Run {
    size: usize,
    twins: usize,
    result: Result<(Vec<Import>, Quality), String>,
}

impl Run {
    fn linking_secs(&self) -> Option<f64> {
        let (imports, _) = self.result.as_ref().ok()?;
        Some(
            imports
                .iter()
                .map(|i| i.linkage.map_or(0, |l| l.millis))
                .sum::<u64>() as f64
                / 1000.0,
        )
    }
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench-linkage: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn note(message: &str) {
    eprintln!("bench-linkage: {message}");
}

/// Runs the benchmark; `Ok(false)` when a check failed or a run failed.
fn run(args: Args) -> anyhow::Result<bool> {
    if args.sizes.is_empty() || args.sizes.contains(&0) {
        bail!("--sizes: give one or more sizes of at least 1 firm");
    }
    let hub = match &args.hub {
        Some(path) => path.clone(),
        None => default_hub()?,
    };
    if !hub.is_file() {
        bail!(
            "no hub binary at {}: build it with `cargo build --release -p hub`, or pass --hub",
            hub.display()
        );
    }
    let hub = fs::canonicalize(&hub)?;
    note(&format!("hub: {}", hub.display()));
    let _temp;
    let work: PathBuf = match &args.keep {
        Some(dir) => {
            fs::create_dir_all(dir)?;
            fs::canonicalize(dir)?
        }
        None => {
            let mut builder = tempfile::Builder::new();
            builder.prefix("bench-linkage-");
            let dir = match &args.work {
                Some(parent) => {
                    fs::create_dir_all(parent)?;
                    builder.tempdir_in(parent)?
                }
                None => builder.tempdir()?,
            };
            let path = dir.path().to_path_buf();
            _temp = dir;
            path
        }
    };

    let mut runs = Vec::new();
    for &size in &args.sizes {
        let data = Dataset::generate(size, args.seed)?;
        let twins = data.firms.iter().filter(|f| f.twin_of.is_some()).count();
        let result = run_size(&hub, &work.join(format!("n{size}")), &data);
        if let Err(e) = &result {
            note(&format!("{size} firms: FAILED: {e:#}"));
        }
        runs.push(Run {
            size,
            twins,
            result: result.map_err(|e| format!("{e:#}")),
        });
    }
    let (report, ok) = render(&runs, args.seed, &hub);
    print!("{report}");
    Ok(ok)
}

/// `target/release/hub` when present, else `target/debug/hub`, the `target` directory
/// being the parent of this binary's directory.
fn default_hub() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().context("the directory of this binary")?;
    let target = profile_dir.parent().unwrap_or(profile_dir);
    let candidates = [
        target.join("release").join("hub"),
        target.join("debug").join("hub"),
        profile_dir.join("hub"),
    ];
    Ok(candidates
        .iter()
        .find(|p| p.is_file())
        .unwrap_or(&candidates[0])
        .clone())
}

/// `hub` on the database in `data`.
fn hub_command(hub: &Path, data: &Path) -> Command {
    let mut cmd = Command::new(hub);
    cmd.current_dir(data)
        .env("HUB__DATA_DIR", data)
        .env(
            "HUB__DATABASE__URL",
            format!("sqlite://{}?mode=rwc", data.join("hub.sqlite").display()),
        )
        .env("HUB__SECURITY__CNIC_KEY", CNIC_KEY)
        .env_remove("RUST_LOG");
    if std::env::var_os("HUB__LOG__FILTER").is_none() {
        cmd.env("HUB__LOG__FILTER", "warn");
    }
    cmd
}

/// One size: files, a fresh database, the three imports, the outcome.
fn run_size(hub: &Path, dir: &Path, data: &Dataset) -> anyhow::Result<(Vec<Import>, Quality)> {
    let size = data.firms.len();
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    let db_dir = dir.join("data");
    fs::create_dir_all(&db_dir)?;
    for file in File::ALL {
        data.write_csv(file, &dir.join(format!("{}.csv", file.name())))?;
    }
    data.write_truth(&dir.join("truth.csv"))?;
    note(&format!(
        "{size} firms: generated {} records in {}",
        data.records.len(),
        dir.display()
    ));

    let out = hub_command(hub, &db_dir)
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

    let mut imports = Vec::new();
    for file in File::ALL {
        let csv = dir.join(format!("{}.csv", file.name()));
        let rows = data.file(file).count() as u64;
        note(&format!(
            "{size} firms: hub import {} ({rows} rows) ...",
            file.name()
        ));
        let report_path = dir.join(format!("report-{}.json", file.name()));
        let stderr_path = dir.join(format!("import-{}.log", file.name()));
        let started = Instant::now();
        let status = hub_command(hub, &db_dir)
            .arg("import")
            .arg(&csv)
            .args(["--source", file.source(), "--json"])
            .stdin(Stdio::null())
            .stdout(fs::File::create(&report_path)?)
            .stderr(fs::File::create(&stderr_path)?)
            .status()
            .context("running hub import")?;
        let wall = started.elapsed();
        let text = fs::read_to_string(&report_path)?;
        let linkage = check_report(&text, rows, status.success()).with_context(|| {
            let log = fs::read_to_string(&stderr_path).unwrap_or_default();
            format!(
                "hub import {}: {}",
                file.name(),
                log.lines().last().unwrap_or("")
            )
        })?;
        note(&format!(
            "{size} firms: {} imported in {:.2} s; linkage {}",
            file.name(),
            wall.as_secs_f64(),
            linkage.map_or("null".to_owned(), |l| format!(
                "scored {} compared {} linked {} queued {} in {} ms",
                l.scored, l.compared, l.linked, l.queued, l.millis
            ))
        ));
        if linkage.is_none() && file != File::Registry {
            bail!(
                "hub import {}: the report has no `linkage` object: {} predates record linkage \
                 or has it turned off ([import.linkage] enabled = false); rebuild it (cargo \
                 build --release -p hub) or pass --hub",
                file.name(),
                hub.display()
            );
        }
        imports.push(Import {
            file,
            rows,
            wall,
            linkage,
        });
    }

    let outcomes = evaluate::read_outcomes(&db_dir.join("hub.sqlite"))?;
    let quality = Quality::measure(data, &outcomes);
    if quality.missing > 0 {
        bail!(
            "{} of {} records are not in the database",
            quality.missing,
            quality.records
        );
    }
    Ok((imports, quality))
}

/// Checks the `--json` report: applied by the spreadsheet importer, every row read and
/// none rejected, one organisation record per row. Returns its `linkage` object.
fn check_report(text: &str, rows: u64, exited_ok: bool) -> anyhow::Result<Option<Linkage>> {
    let report: serde_json::Value = serde_json::from_str(text).with_context(|| {
        format!(
            "printed no JSON report (exit {}): {:.300}",
            if exited_ok { "0" } else { "non-zero" },
            text
        )
    })?;
    let status = report["status"].as_str().unwrap_or("?");
    let importer = report["importer"].as_str().unwrap_or("?");
    let rows_read = report["rows_read"].as_u64().unwrap_or(0);
    let rejected = report["rejected"].as_u64().unwrap_or(u64::MAX);
    if status != "applied" || !exited_ok || rows_read != rows || rejected != 0 {
        let issues: Vec<String> = report["issues"]
            .as_array()
            .into_iter()
            .flatten()
            .take(2)
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
            "status {status}, {rows_read} of {rows} rows read, {} rejected; error: {}; first \
             of {} issues: {}",
            report["rejected"],
            report["error"].as_str().unwrap_or("none"),
            report["issues_total"],
            issues.join(" | ")
        );
    }
    if importer != "spreadsheet" {
        bail!("read by the importer {importer}, not spreadsheet");
    }
    let org = &report["by_kind"]["organisation"];
    let written: u64 = ["inserted", "updated", "unchanged"]
        .iter()
        .filter_map(|k| org[k].as_u64())
        .sum();
    if written != rows {
        bail!(
            "{written} organisation records written for {rows} rows (by_kind: {})",
            report["by_kind"]
        );
    }
    let linkage = &report["linkage"];
    if linkage.is_null() {
        return Ok(None);
    }
    let field = |k: &str| {
        linkage[k]
            .as_u64()
            .with_context(|| format!("linkage.{k} in {linkage}"))
    };
    Ok(Some(Linkage {
        scored: field("scored")?,
        compared: field("compared")?,
        linked: field("linked")?,
        queued: field("queued")?,
        millis: field("millis")?,
    }))
}

// ---- Output ---------------------------------------------------------------------------------

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

/// `0.9912`, or `n/a`.
fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("n/a".to_owned(), |r| format!("{r:.4}"))
}

/// `12.3%`, or `n/a`.
fn fmt_percent(r: Option<f64>) -> String {
    r.map_or("n/a".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// A text table: the first column left-aligned, the others right-aligned.
fn text_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|row| row[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        for (i, cell) in cells.enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            if i == 0 {
                let _ = write!(out, "{cell}{pad}");
            } else {
                let _ = write!(out, "  {pad}{cell}");
            }
        }
        out.push('\n');
    };
    line(out, &mut header.iter().copied());
    for row in rows {
        line(out, &mut row.iter().map(String::as_str));
    }
}

fn markdown_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        (0..header.len())
            .map(|i| if i == 0 { "---|" } else { "---:|" })
            .collect::<String>()
    );
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
}

/// The per-size tables, the summary (text and Markdown), the definitions and the checks;
/// `false` when a check or a run failed.
fn render(runs: &[Run], seed: u64, hub: &Path) -> (String, bool) {
    let mut out = String::new();
    let mut ok = true;
    let _ = writeln!(out, "\nbench-linkage: seed {seed}, hub {}", hub.display());
    for run in runs {
        render_size(&mut out, run);
    }

    // Summary.
    let header = [
        "firms",
        "records",
        "score links",
        "score precision",
        "auto precision",
        "recall links",
        "recall + queue",
        "queue records",
        "queue share",
        "pairwise precision",
        "pairwise recall",
        "linking s",
        "import s",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|run| {
            let mut row = vec![run.size.to_string()];
            match &run.result {
                Ok((imports, q)) => {
                    let import_s: f64 = imports.iter().map(|i| i.wall.as_secs_f64()).sum();
                    row.extend([
                        q.records.to_string(),
                        q.score.to_string(),
                        fmt_ratio(ratio(q.score_ok, q.score)),
                        fmt_ratio(ratio(q.strong_ok + q.score_ok, q.strong + q.score)),
                        fmt_ratio(ratio(q.found, q.copies)),
                        fmt_ratio(ratio(q.found_with_queue, q.copies)),
                        q.queued_records.to_string(),
                        fmt_percent(ratio(q.queued_records, q.records)),
                        fmt_ratio(ratio(q.pairs_correct, q.pairs_predicted)),
                        fmt_ratio(ratio(q.pairs_correct, q.pairs_true)),
                        format!("{:.2}", run.linking_secs().unwrap_or(0.0)),
                        format!("{import_s:.2}"),
                    ]);
                }
                Err(_) => row.extend((1..header.len()).map(|_| "failed".to_owned())),
            }
            row
        })
        .collect();
    let _ = writeln!(out, "\n== summary ==");
    text_table(&mut out, &header, &rows);

    // Checks.
    let mut checks = Vec::new();
    let largest = runs.iter().map(|r| r.size).max().unwrap_or(0);
    for run in runs {
        let n = run.size;
        let (_, q) = match &run.result {
            Ok(r) => r,
            Err(e) => {
                ok = false;
                checks.push(format!("FAIL: {n} firms: the run failed: {e}"));
                continue;
            }
        };
        let mut check = |pass: bool, text: String| {
            ok &= pass;
            checks.push(format!("{}: {n} firms: {text}", verdict(pass)));
        };
        let precision = ratio(q.score_ok, q.score);
        check(
            precision.is_none_or(|p| p >= SCORE_PRECISION_TARGET),
            format!(
                "automatic-link precision (score links) {} >= {SCORE_PRECISION_TARGET} ({} of \
                 {} correct{})",
                fmt_ratio(precision),
                q.score_ok,
                q.score,
                if q.score == 0 { "; no score links" } else { "" }
            ),
        );
        let recall = ratio(q.found_with_queue, q.copies).unwrap_or(0.0);
        check(
            recall >= RECALL_WITH_QUEUE_TARGET,
            format!(
                "recall with the queue {recall:.4} >= {RECALL_WITH_QUEUE_TARGET} ({} of {})",
                q.found_with_queue, q.copies
            ),
        );
        let share = ratio(q.queued_records, q.records).unwrap_or(0.0);
        check(
            share <= QUEUE_SHARE_TARGET,
            format!(
                "queue {:.2}% <= {:.0}% of the records ({} of {})",
                share * 100.0,
                QUEUE_SHARE_TARGET * 100.0,
                q.queued_records,
                q.records
            ),
        );
        if n == largest {
            let secs = run.linking_secs().unwrap_or(0.0);
            check(
                secs < LINKING_SECONDS_TARGET,
                format!(
                    "linking time {secs:.2} s < {LINKING_SECONDS_TARGET:.0} s at the largest size"
                ),
            );
        }
    }

    let _ = writeln!(out, "\n{DEFINITIONS}");
    for c in &checks {
        let _ = writeln!(out, "{c}");
    }

    // Markdown, to paste into a README.
    let _ = writeln!(
        out,
        "\nRecord linkage, seed {seed}: registry, survey (70%) and attendance (50%) imported \
         in that order; precision and recall over the survey and attendance records.\n"
    );
    markdown_table(&mut out, &header, &rows);
    out.push('\n');
    for c in &checks {
        let _ = writeln!(out, "- {c}");
    }
    (out, ok)
}

/// What the measures mean, printed under the summary.
const DEFINITIONS: &str = "\
Definitions (records of files 2 and 3 = survey and attendance records; truth_org = the
organisation of the true firm's registry record):
  score precision     records linked with method score whose organisation is truth_org /
                      records linked with method score
  auto precision      the same over methods strong_identifier and score
  recall links        records whose organisation is truth_org / records of files 2 and 3
  recall + queue      records whose organisation is truth_org, or else with truth_org among
                      their pending review candidates / records of files 2 and 3
  queue records       distinct records (all three files) with a pending match review;
                      queue share = queue records / all records of the three files
  pairwise precision  over all pairs of records (three files) in one organisation: the
                      share of pairs of one true firm; pairwise recall: pairs of one true
                      firm that share an organisation / pairs of one true firm
  linking s           sum of linkage.millis of the three import reports (index, blocking,
                      scoring); import s: sum of the three imports' wall-clock times
Counting is strict: a record in an organisation other than truth_org is a miss even when
that organisation holds only records of its true firm, e.g. an attendance record linked to
the firm a survey record founded when that survey record stayed apart from the registry
(shown as \"elsewhere\").";

fn render_size(out: &mut String, run: &Run) {
    let _ = writeln!(out, "\n== {} firms ({} twins) ==", run.size, run.twins);
    let (imports, q) = match &run.result {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(out, "FAILED: {e}");
            return;
        }
    };
    let header = [
        "file",
        "records",
        "import s",
        "scored",
        "compared",
        "linked",
        "queued",
        "linking s",
    ];
    let mut rows: Vec<Vec<String>> = imports
        .iter()
        .map(|i| {
            let mut row = vec![
                i.file.name().to_owned(),
                i.rows.to_string(),
                format!("{:.2}", i.wall.as_secs_f64()),
            ];
            match i.linkage {
                Some(l) => row.extend([
                    l.scored.to_string(),
                    l.compared.to_string(),
                    l.linked.to_string(),
                    l.queued.to_string(),
                    format!("{:.2}", l.millis as f64 / 1000.0),
                ]),
                None => row.extend((0..5).map(|_| "null".to_owned())),
            }
            row
        })
        .collect();
    let sum = |f: fn(&Linkage) -> u64| -> u64 {
        imports
            .iter()
            .filter_map(|i| i.linkage.as_ref())
            .map(f)
            .sum()
    };
    rows.push(vec![
        "all".to_owned(),
        imports.iter().map(|i| i.rows).sum::<u64>().to_string(),
        format!(
            "{:.2}",
            imports.iter().map(|i| i.wall.as_secs_f64()).sum::<f64>()
        ),
        sum(|l| l.scored).to_string(),
        sum(|l| l.compared).to_string(),
        sum(|l| l.linked).to_string(),
        sum(|l| l.queued).to_string(),
        format!("{:.2}", sum(|l| l.millis) as f64 / 1000.0),
    ]);
    text_table(out, &header, &rows);

    let c = q.copies;
    let pct = |n: u64| fmt_percent(ratio(n, c));
    let _ = writeln!(
        out,
        "\noutcome of the {c} survey and attendance records (truth_org: the true firm's \
         registry organisation):"
    );
    let lines = [
        (
            "linked by strong identifier",
            format!(
                "{} ({}), {} to truth_org: precision {}",
                q.strong,
                pct(q.strong),
                q.strong_ok,
                fmt_ratio(ratio(q.strong_ok, q.strong))
            ),
        ),
        (
            "linked by score",
            format!(
                "{} ({}), {} to truth_org: precision {}",
                q.score,
                pct(q.score),
                q.score_ok,
                fmt_ratio(ratio(q.score_ok, q.score))
            ),
        ),
        (
            "  wrong score links",
            format!(
                "{}: {} to a firm with the same name stem in the district, {} of them the twin",
                q.score - q.score_ok,
                q.score_wrong_stem,
                q.score_wrong_twin
            ),
        ),
        (
            "automatic links",
            format!(
                "{} (strong + score): precision {}",
                q.strong + q.score,
                fmt_ratio(ratio(q.strong_ok + q.score_ok, q.strong + q.score))
            ),
        ),
        (
            "founded a firm (new)",
            format!("{} ({})", q.founded, pct(q.founded)),
        ),
        (
            "recall of links",
            format!("{} ({} of {c})", fmt_ratio(ratio(q.found, c)), q.found),
        ),
        (
            "recall with the queue",
            format!(
                "{} ({} of {c}; {} found only through the queue)",
                fmt_ratio(ratio(q.found_with_queue, c)),
                q.found_with_queue,
                q.found_with_queue - q.found
            ),
        ),
        (
            "elsewhere",
            format!(
                "{} records not in truth_org but in an organisation of two or more records, \
                 all of their true firm (counted as misses)",
                q.elsewhere_consistent
            ),
        ),
        (
            "review queue",
            format!(
                "{} records with a pending review ({} of all {} records), {} review rows; of \
                 the {} queued survey/attendance records, {} have truth_org among the \
                 candidates",
                q.queued_records,
                fmt_percent(ratio(q.queued_records, q.records)),
                q.records,
                q.review_rows,
                q.queued_copies,
                q.queued_copies_true
            ),
        ),
        (
            "pairwise",
            format!(
                "precision {} ({} of {} pairs sharing an organisation are of one firm), \
                 recall {} (of {} pairs of one firm)",
                fmt_ratio(ratio(q.pairs_correct, q.pairs_predicted)),
                q.pairs_correct,
                q.pairs_predicted,
                fmt_ratio(ratio(q.pairs_correct, q.pairs_true)),
                q.pairs_true
            ),
        ),
        (
            "registry records merged",
            format!(
                "{} (registry records sharing an organisation; expected 0: unit numbers differ)",
                q.registry_merged
            ),
        ),
    ];
    for (what, text) in lines {
        let _ = writeln!(out, "  {what:<28} {text}");
    }
    if q.odd_links > 0 {
        let _ = writeln!(
            out,
            "  WARNING: {} records with no or several active record links",
            q.odd_links
        );
    }
    let _ = writeln!(
        out,
        "\nby change (survey and attendance records carrying it; a record may have several):"
    );
    let rows: Vec<Vec<String>> = q
        .by_change
        .iter()
        .map(|(name, f)| {
            vec![
                (*name).to_owned(),
                f.records.to_string(),
                fmt_ratio(ratio(f.linked, f.records)),
                fmt_ratio(ratio(f.with_queue, f.records)),
            ]
        })
        .collect();
    text_table(
        out,
        &["change", "records", "recall links", "recall + queue"],
        &rows,
    );
}
