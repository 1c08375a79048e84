//! `bench-plugins`: what the isolation of importer plugins costs. The example plugin
//! `chamber-directory` imports the same generated chamber member directory through
//! `hub import`, once with the plugin loaded into the hub (`in-process`) and once run in a
//! child `hub plugin-host` process that sends its batches over a pipe as NDJSON
//! (`process`, the default isolation), and the throughput of the two is compared.
//!
//! ```text
//! cargo build --release -p hub -p chamber-directory -p bench-plugins
//! cargo run --release -p bench-plugins -- [--rows 100000] [--runs 3] [--hub PATH]
//!     [--plugin PATH] [--keep DIR]
//!
//! # 100,000 members, three runs per mode
//! cargo run --release -p bench-plugins
//! # a quicker look
//! cargo run --release -p bench-plugins -- --rows 20000 --runs 2
//! ```
//!
//! Always measure release builds: a debug hub is many times slower.
//!
//! # What it does
//!
//! 1. Finds the hub binary and the plugin library (default: `hub` and
//!    `libchamber_directory.so` next to this binary, in `target/release`).
//! 2. Makes a template data dir with `hub demo` (the reference data and the demo dataset
//!    with its four clusters: started, stopped once it listens, then `hub migrate` to fold
//!    the write-ahead log it leaves into the database), and a plugin folder holding a copy
//!    of the library.
//! 3. Generates, deterministically, a member directory in the plugin's JSON form with
//!    `--rows` members and one with 10 members (see `generate.rs`): unique membership
//!    numbers (chamber code `BNCH`), unique NTNs whose seven digits count up from
//!    9,000,000 (below 10,000,000, so at most 1,000,000 members, skipping the NTNs already
//!    in the template when the `sqlite3` CLI can read them), about 85% of the members in one
//!    of the four demo clusters and the others in sectors without a cluster, fictional
//!    contacts.
//! 4. For each file, `--runs` times, and in each run both modes (in-process first in odd
//!    runs, process first in even runs, to spread drifts of the machine over both): copies
//!    the template to a fresh data dir (not timed), runs
//!    `hub import FILE --importer chamber-directory --source bench-directory --json` with
//!    `HUB__PLUGINS__ISOLATION` set to the mode, measures its wall-clock time (process
//!    start to exit: configuration, opening the database, loading or starting the plugin,
//!    parsing, validation, matching, writing and the commit), and checks the JSON report:
//!    exit status 0, status `applied`, `rows_read` equal to the members, as many
//!    organisations inserted as members, and a cluster membership inserted for every
//!    member in a cluster.
//! 5. Prints, in Markdown: a table for the large file (median and best time per mode,
//!    rows per second at the median, the median relative to in-process), one for the
//!    10-member file (the fixed cost of an import in each mode), every run's time, and the
//!    machine (CPUs, CPU model, the hub's version line, the plugin's version).
//!
//! Exit status 0 when every run succeeded; the tables are printed in any case.
//!
//! The hub runs with a cleared hub configuration (no `HUB__*` variable of the caller's
//! environment but `HUB__LOG__FILTER`, default `warn`; its working directory is the data
//! dir, so no `hub.toml` is read) and SQLite in the data dir. `--keep DIR` writes the
//! directories, the template, the plugin folder and each run's data dir (database,
//! `report.json`, `hub.stderr`) into DIR and keeps them; otherwise everything goes into a
//! temporary directory removed at the end.

mod generate;
mod hub;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;

use generate::Generated;
use hub::Hub;

/// The importer the plugin registers.
const IMPORTER: &str = "chamber-directory";
/// The source the imports write under.
const SOURCE: &str = "bench-directory";
/// Members of the small file, for the fixed cost of an import.
const SMALL: u64 = 10;

/// Plugin isolation benchmark: the chamber-directory plugin through `hub import`,
/// in-process and in a child process, on the same generated member directory.
#[derive(Debug, Parser)]
#[command(name = "bench-plugins")]
struct Args {
    /// Members of the large directory (at most 1,000,000: one NTN each in
    /// 9000000..=9999999).
    #[arg(long, default_value_t = 100_000)]
    rows: u64,
    /// Runs per mode and file.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// The hub binary; default: `hub` next to this binary (target/release/hub).
    #[arg(long, value_name = "PATH")]
    hub: Option<PathBuf>,
    /// The plugin library; default: `libchamber_directory.so` next to this binary.
    #[arg(long, value_name = "PATH")]
    plugin: Option<PathBuf>,
    /// Keep the generated files, the template, the data dirs and the reports in DIR.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

/// The hub's plugin isolation modes, as `HUB__PLUGINS__ISOLATION` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    InProcess,
    Process,
}

impl Mode {
    const ALL: [Mode; 2] = [Mode::InProcess, Mode::Process];

    pub fn name(self) -> &'static str {
        match self {
            Mode::InProcess => "in-process",
            Mode::Process => "process",
        }
    }
}

/// A generated directory.
#[derive(Debug)]
struct Input {
    label: &'static str,
    path: PathBuf,
    generated: Generated,
}

/// One measured import.
#[derive(Debug)]
struct Run {
    input: &'static str,
    mode: Mode,
    run: u32,
    result: Result<Measured, String>,
}

#[derive(Debug, Clone, Copy)]
struct Measured {
    wall: Duration,
    /// The report's `duration_ms`: the import inside the hub.
    duration_ms: u64,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench-plugins: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn note(message: &str) {
    eprintln!("bench-plugins: {message}");
}

/// `name` next to this binary.
fn beside_me(name: &str) -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()?
        .parent()
        .context("the directory of this binary")?
        .join(name))
}

/// `--hub`/`--plugin`, or the default next to this binary; an error telling how to build
/// it when it is missing.
fn find(given: Option<&Path>, default: &str, what: &str) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(path) => path.to_path_buf(),
        None => beside_me(default)?,
    };
    if !path.is_file() {
        bail!(
            "no {what} at {}: build it with `cargo build --release -p hub -p chamber-directory`, \
             or pass --{}",
            path.display(),
            if what == "hub binary" {
                "hub"
            } else {
                "plugin"
            }
        );
    }
    Ok(fs::canonicalize(&path)?)
}

/// Runs the benchmark; `Ok(false)` when a run failed.
fn run(args: Args) -> anyhow::Result<bool> {
    if args.rows == 0 {
        bail!("--rows must be at least 1");
    }
    if args.rows > generate::MAX_MEMBERS {
        bail!(
            "--rows: at most {} members (one NTN each in 9000000..=9999999)",
            generate::MAX_MEMBERS
        );
    }
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let library_name = format!(
        "{}chamber_directory{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let exe = find(args.hub.as_deref(), "hub", "hub binary")?;
    let library = find(args.plugin.as_deref(), &library_name, "plugin library")?;

    let _temp;
    let work: PathBuf = match &args.keep {
        Some(dir) => {
            fs::create_dir_all(dir)?;
            fs::canonicalize(dir)?
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("bench-plugins-")
                .tempdir()?;
            let path = dir.path().to_path_buf();
            _temp = dir;
            path
        }
    };
    let keep = args.keep.is_some();

    // The plugin folder: a copy of the library, under its own file name.
    let plugins = work.join("plugins");
    if plugins.exists() {
        fs::remove_dir_all(&plugins)?;
    }
    fs::create_dir_all(&plugins)?;
    let file_name = library.file_name().context("the library's file name")?;
    fs::copy(&library, plugins.join(file_name))
        .with_context(|| format!("copying {}", library.display()))?;
    let hub = Hub { exe, plugins };
    let version = hub.version()?;

    // The template data dir, with the demo dataset.
    let template = work.join("template");
    if template.exists() {
        fs::remove_dir_all(&template)?;
    }
    note("making the template data dir with hub demo ...");
    let started = Instant::now();
    hub.make_template(&template)?;
    note(&format!(
        "template ready in {:.1} s ({:.1} MiB)",
        started.elapsed().as_secs_f64(),
        dir_size(&template)? as f64 / MIB
    ));
    let mut notes = Vec::new();
    let taken = match hub::ntn_bases(&template) {
        Some(taken) => {
            notes.push(format!(
                "NTNs from 9000000-x up, skipping the {} NTNs of the template database",
                taken.len()
            ));
            taken
        }
        None => {
            notes.push(
                "NTNs from 9000000-x up; the template's NTNs could not be read (no sqlite3), \
                 so a collision with a demo NTN would show as a failed check"
                    .to_owned(),
            );
            HashSet::new()
        }
    };

    // The two directories.
    let mut inputs = Vec::new();
    for (label, members) in [("large", args.rows), ("small", SMALL)] {
        let path = work.join(format!("directory-{members}.json"));
        let mut out = std::io::BufWriter::new(fs::File::create(&path)?);
        let generated = generate::write_directory(&mut out, members, &taken)?;
        drop(out);
        note(&format!(
            "generated {} ({members} members, {} in a cluster, {:.1} MiB)",
            path.display(),
            generated.in_cluster,
            fs::metadata(&path)?.len() as f64 / MIB
        ));
        inputs.push(Input {
            label,
            path,
            generated,
        });
    }

    let runs_dir = work.join("runs");
    fs::create_dir_all(&runs_dir)?;
    let mut runs = Vec::new();
    let mut plugin_version = None;
    for input in &inputs {
        for run in 1..=args.runs {
            let mut order = Mode::ALL;
            if run % 2 == 0 {
                order.reverse();
            }
            for mode in order {
                let data_dir = runs_dir.join(format!(
                    "{}-{}-{}-run{run}",
                    input.label,
                    input.generated.members,
                    mode.name()
                ));
                if data_dir.exists() {
                    fs::remove_dir_all(&data_dir)?;
                }
                let result = measure(&hub, &template, &data_dir, mode, input);
                match &result {
                    Ok((m, version)) => {
                        plugin_version.get_or_insert_with(|| version.clone());
                        note(&format!(
                            "{} members, {} run {run}: {:.3} s ({:.0} rows/s; {:.3} s inside \
                             the import)",
                            input.generated.members,
                            mode.name(),
                            m.wall.as_secs_f64(),
                            input.generated.members as f64 / m.wall.as_secs_f64(),
                            m.duration_ms as f64 / 1000.0
                        ));
                    }
                    Err(e) => note(&format!(
                        "{} members, {} run {run}: FAILED: {e:#}",
                        input.generated.members,
                        mode.name()
                    )),
                }
                if !keep {
                    let _ = fs::remove_dir_all(&data_dir);
                }
                runs.push(Run {
                    input: input.label,
                    mode,
                    run,
                    result: result.map(|(m, _)| m).map_err(|e| format!("{e:#}")),
                });
            }
        }
    }

    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut machine = vec![format!("CPUs: {cpus} (available parallelism)")];
    if let Some(model) = cpu_model() {
        machine.push(format!("CPU: {model}"));
    }
    machine.push(format!("hub: {version}"));
    machine.push(format!(
        "plugin: {IMPORTER} {} ({})",
        plugin_version.as_deref().unwrap_or("?"),
        library.display()
    ));
    let (report, ok) = render(&inputs, &runs, args.runs, &machine, &notes);
    print!("{report}");
    Ok(ok)
}

const MIB: f64 = 1024.0 * 1024.0;

/// One import of `input` in `mode` on a fresh copy of the template: its times and the
/// plugin's version, once the report passed the checks.
fn measure(
    hub: &Hub,
    template: &Path,
    data_dir: &Path,
    mode: Mode,
    input: &Input,
) -> anyhow::Result<(Measured, String)> {
    hub::copy_dir(template, data_dir)?;
    let import = hub.import(data_dir, mode, &input.path, SOURCE)?;
    let checked = check_report(&import.stdout, input.generated, import.exited_ok);
    match checked {
        Ok((duration_ms, version)) => Ok((
            Measured {
                wall: import.wall,
                duration_ms,
            },
            version,
        )),
        // Without a report, the hub's log says why.
        Err(e)
            if !import.stderr_tail.is_empty()
                && serde_json::from_str::<serde_json::Value>(&import.stdout).is_err() =>
        {
            Err(e.context(format!("hub's stderr: {}", import.stderr_tail)))
        }
        Err(e) => Err(e),
    }
}

/// Checks the `--json` report: exit status 0, applied by the plugin, every member read,
/// an organisation inserted per member and a cluster membership per member in a cluster.
/// Returns the report's `duration_ms` and the importer's version.
fn check_report(
    text: &str,
    generated: Generated,
    exited_ok: bool,
) -> anyhow::Result<(u64, String)> {
    let report: serde_json::Value = serde_json::from_str(text).with_context(|| {
        format!(
            "hub import (exit {}) printed no JSON report: {:.300}",
            if exited_ok { "0" } else { "non-zero" },
            text
        )
    })?;
    let status = report["status"].as_str().unwrap_or("?");
    let importer = report["importer"].as_str().unwrap_or("?");
    let rows_read = report["rows_read"].as_u64().unwrap_or(0);
    let inserted = |kind: &str| report["by_kind"][kind]["inserted"].as_u64().unwrap_or(0);
    let organisations = inserted("organisation");
    let memberships = inserted("cluster_membership");
    if status != "applied" || !exited_ok || importer != IMPORTER {
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
        let issues = if issues.is_empty() {
            String::new()
        } else {
            format!(
                "; first of {} issues: {}",
                report["issues_total"],
                issues.join(" | ")
            )
        };
        bail!(
            "status {status} (exit {}), importer {importer}, {rows_read} of {} rows read, {} \
             rejected; error: {}{issues}",
            if exited_ok { "0" } else { "non-zero" },
            generated.members,
            report["rejected"],
            report["error"].as_str().unwrap_or("none"),
        );
    }
    if rows_read != generated.members {
        bail!("{rows_read} rows read, not {}", generated.members);
    }
    if organisations != generated.members {
        bail!(
            "{organisations} organisations inserted, not {} (totals {}, by kind {}): an NTN \
             or membership number already in the database?",
            generated.members,
            report["totals"],
            report["by_kind"]
        );
    }
    if memberships != generated.in_cluster {
        bail!(
            "{memberships} cluster memberships inserted, not {} (by kind {})",
            generated.in_cluster,
            report["by_kind"]
        );
    }
    Ok((
        report["duration_ms"].as_u64().unwrap_or(0),
        report["importer_version"]
            .as_str()
            .unwrap_or("?")
            .to_owned(),
    ))
}

/// The bytes of the files under `dir`.
fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut size = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        size += if entry.file_type()?.is_dir() {
            dir_size(&entry.path())?
        } else {
            entry.metadata()?.len()
        };
    }
    Ok(size)
}

/// The CPU's model name from `/proc/cpuinfo`, when there is one.
fn cpu_model() -> Option<String> {
    let info = fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

/// The median of `values` (sorted here): the middle value, or the mean of the two middle
/// ones.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Seconds, with milliseconds below 10 s.
fn secs(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.3} s")
    } else {
        format!("{s:.2} s")
    }
}

/// The statistics of one mode on one input: successful runs, median and best wall time,
/// median `duration_ms` in seconds.
struct Stats {
    ok: usize,
    median: f64,
    best: f64,
    inside: f64,
}

fn stats(runs: &[Run], input: &str, mode: Mode) -> Option<Stats> {
    let measured: Vec<&Measured> = runs
        .iter()
        .filter(|r| r.input == input && r.mode == mode)
        .filter_map(|r| r.result.as_ref().ok())
        .collect();
    if measured.is_empty() {
        return None;
    }
    let mut sorted: Vec<f64> = measured.iter().map(|m| m.wall.as_secs_f64()).collect();
    let mut inside: Vec<f64> = measured
        .iter()
        .map(|m| m.duration_ms as f64 / 1000.0)
        .collect();
    Some(Stats {
        ok: measured.len(),
        median: median(&mut sorted),
        best: sorted[0],
        inside: median(&mut inside),
    })
}

/// The tables in Markdown; `false` when a run failed.
fn render(
    inputs: &[Input],
    runs: &[Run],
    runs_asked: u32,
    machine: &[String],
    notes: &[String],
) -> (String, bool) {
    let ok = runs.iter().all(|r| r.result.is_ok());
    let mut out = String::new();
    for input in inputs {
        let rows = input.generated.members;
        let large = input.label == "large";
        let header: &[&str] = if large {
            &[
                "mode",
                "rows",
                "runs",
                "median time",
                "best time",
                "rows/s (median)",
                "relative to in-process",
            ]
        } else {
            &[
                "mode",
                "rows",
                "runs",
                "median time",
                "best time",
                "median − in-process",
                "relative to in-process",
            ]
        };
        if large {
            let _ = writeln!(
                out,
                "\nImporter plugin `{IMPORTER}`, a generated member directory of {rows} members \
                 ({} in a demo cluster) through `hub import`, wall-clock time per import on a \
                 fresh copy of the demo database (relative: the median time over \
                 in-process's; below 1 is faster):\n",
                input.generated.in_cluster
            );
        } else {
            let _ = writeln!(
                out,
                "\nFixed cost per import: the same with a directory of {rows} members:\n"
            );
        }
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(
            out,
            "|---|{}",
            "---:|".repeat(header.len().saturating_sub(1))
        );
        let baseline = stats(runs, input.label, Mode::InProcess);
        for mode in Mode::ALL {
            let Some(s) = stats(runs, input.label, mode) else {
                let _ = writeln!(
                    out,
                    "| {} | {rows} | 0/{runs_asked} | failed | - | - | - |",
                    mode.name()
                );
                continue;
            };
            let runs_cell = if s.ok as u32 == runs_asked {
                s.ok.to_string()
            } else {
                format!("{}/{runs_asked}", s.ok)
            };
            let relative = match &baseline {
                Some(b) => format!("{:.2}×", s.median / b.median),
                None => "-".to_owned(),
            };
            let fifth = if large {
                format!("{:.0}", rows as f64 / s.median)
            } else {
                match &baseline {
                    Some(b) => format!("{:+.0} ms", (s.median - b.median) * 1000.0),
                    None => "-".to_owned(),
                }
            };
            let _ = writeln!(
                out,
                "| {} | {rows} | {runs_cell} | {} | {} | {fifth} | {relative} |",
                mode.name(),
                secs(s.median),
                secs(s.best),
            );
        }
    }

    let _ = writeln!(
        out,
        "\nEvery run (wall-clock; the report's `duration_ms`):\n"
    );
    for input in inputs {
        for mode in Mode::ALL {
            let mut line: Vec<String> = Vec::new();
            for r in runs
                .iter()
                .filter(|r| r.input == input.label && r.mode == mode)
            {
                line.push(match &r.result {
                    Ok(m) => format!(
                        "{} ({})",
                        secs(m.wall.as_secs_f64()),
                        secs(m.duration_ms as f64 / 1000.0)
                    ),
                    Err(_) => format!("run {} failed", r.run),
                });
            }
            let inside = stats(runs, input.label, mode)
                .map(|s| {
                    format!(
                        "; median {} inside the import, {} outside",
                        secs(s.inside),
                        secs(s.median - s.inside)
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} members, {}: {}{inside}",
                input.generated.members,
                mode.name(),
                line.join(", ")
            );
        }
    }

    let _ = writeln!(out, "\nMachine and setup:\n");
    for fact in machine.iter().chain(notes) {
        let _ = writeln!(out, "- {fact}");
    }
    for r in runs {
        if let Err(e) = &r.result {
            let _ = writeln!(
                out,
                "- FAILED: {} file, {}, run {}: {e}",
                r.input,
                r.mode.name(),
                r.run
            );
        }
    }
    (out, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&mut [5.0]), 5.0);
    }

    #[test]
    fn checks_the_report() {
        let generated = Generated {
            members: 3,
            in_cluster: 2,
        };
        let good = r#"{"status": "applied", "importer": "chamber-directory",
            "importer_version": "1.0.0", "rows_read": 3, "duration_ms": 120,
            "by_kind": {"organisation": {"inserted": 3, "updated": 0, "unchanged": 0},
                        "cluster_membership": {"inserted": 2, "updated": 0, "unchanged": 0}}}"#;
        assert_eq!(
            check_report(good, generated, true).unwrap(),
            (120, "1.0.0".to_owned())
        );
        assert!(check_report(good, generated, false).is_err());
        let matched = good.replace("\"inserted\": 3", "\"inserted\": 2");
        assert!(check_report(&matched, generated, true).is_err());
        let failed = r#"{"status": "failed", "importer": "chamber-directory", "rows_read": 0,
            "error": "the plugin crashed", "issues": [], "issues_total": 0}"#;
        let e = check_report(failed, generated, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("the plugin crashed"), "{e}");
        assert!(check_report("error: no such file", generated, false).is_err());
    }
}
