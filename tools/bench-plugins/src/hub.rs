//! Running the hub: its version, the template database (`hub demo`), and one timed
//! `hub import` in an isolation mode.

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::Mode;

/// How long `hub demo` may take to load the demo dataset and listen.
const DEMO_TIMEOUT: Duration = Duration::from_secs(600);
/// How long `hub demo` may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// The hub binary and the plugin folder every command gets.
#[derive(Debug)]
pub struct Hub {
    pub exe: PathBuf,
    pub plugins: PathBuf,
}

/// What one `hub import` gave.
#[derive(Debug)]
pub struct Import {
    /// Process start to exit.
    pub wall: Duration,
    pub exited_ok: bool,
    /// Standard output: the JSON report.
    pub stdout: String,
    /// The last lines of standard error.
    pub stderr_tail: String,
}

impl Hub {
    /// `hub` with the data dir, the plugin folder and the isolation `mode`, and nothing else
    /// of the caller's hub settings (`HUB__*` variables, `RUST_LOG`) except
    /// `HUB__LOG__FILTER`, which defaults to `warn`. Runs in `data_dir`, so that no
    /// `hub.toml` is read.
    fn command(&self, data_dir: &Path, mode: Mode) -> Command {
        let mut cmd = Command::new(&self.exe);
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("HUB__") && name != "HUB__LOG__FILTER" {
                cmd.env_remove(&*name);
            }
        }
        cmd.current_dir(data_dir)
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env("HUB__DATA_DIR", data_dir)
            .env("HUB__PLUGINS__DIR", &self.plugins)
            .env("HUB__PLUGINS__ISOLATION", mode.name());
        if std::env::var_os("HUB__LOG__FILTER").is_none() {
            cmd.env("HUB__LOG__FILTER", "warn");
        }
        cmd
    }

    /// The first line of `hub --version`.
    pub fn version(&self) -> anyhow::Result<String> {
        let out = Command::new(&self.exe)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {} --version", self.exe.display()))?;
        if !out.status.success() {
            bail!("hub --version failed ({})", out.status);
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned())
    }

    /// Makes `dir` a data dir holding the demo database: starts `hub demo` on it, waits
    /// for its `hub: listening on` line (the demo dataset is loaded by then), stops it
    /// (SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]) and settles the database with
    /// `hub migrate`.
    pub fn make_template(&self, dir: &Path) -> anyhow::Result<()> {
        fs::create_dir_all(dir)?;
        let log_path = dir.with_extension("log");
        let mut child = self
            .command(dir, Mode::Process)
            .arg("demo")
            .arg("--data-dir")
            .arg(dir)
            .arg("--bind")
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&log_path)?)
            .spawn()
            .context("starting hub demo")?;
        let stdout = child.stdout.take().context("hub demo's stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let started = Instant::now();
        let listening = loop {
            let left = DEMO_TIMEOUT.saturating_sub(started.elapsed());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with("hub: listening on") => break Ok(()),
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    break Err(anyhow::anyhow!(
                        "hub demo did not listen within {} s",
                        DEMO_TIMEOUT.as_secs()
                    ));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait()?;
                    break Err(anyhow::anyhow!(
                        "hub demo ended ({status}) before listening: {}",
                        tail(&fs::read_to_string(&log_path).unwrap_or_default(), 10)
                    ));
                }
            }
        };
        // Stop it the way an operator would, so that SQLite closes the database cleanly.
        if child.try_wait()?.is_none() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .stderr(Stdio::null())
                .status();
            let stopping = Instant::now();
            while child.try_wait()?.is_none() {
                if stopping.elapsed() > STOP_TIMEOUT {
                    child.kill()?;
                    child.wait()?;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        listening?;
        if !dir.join("hub.sqlite").is_file() {
            bail!("hub demo left no hub.sqlite in {}", dir.display());
        }
        // `hub demo` stopped by a signal leaves its write-ahead log behind (about as large as
        // the database); `hub migrate` finds the database up to date and, closing it,
        // folds the log into `hub.sqlite`, so that no measured import pays for that.
        let out = self
            .command(dir, Mode::Process)
            .arg("migrate")
            .stdin(Stdio::null())
            .output()
            .context("running hub migrate")?;
        if !out.status.success() {
            bail!(
                "hub migrate on the template failed ({}): {}",
                out.status,
                tail(&String::from_utf8_lossy(&out.stderr), 5)
            );
        }
        Ok(())
    }

    /// Times `hub import FILE --importer chamber-directory --source SOURCE --json` on the
    /// data dir `data_dir` in `mode`. The report and standard error are also written into
    /// `data_dir` (`report.json`, `hub.stderr`).
    pub fn import(
        &self,
        data_dir: &Path,
        mode: Mode,
        file: &Path,
        source: &str,
    ) -> anyhow::Result<Import> {
        let report_path = data_dir.join("report.json");
        let stderr_path = data_dir.join("hub.stderr");
        let mut cmd = self.command(data_dir, mode);
        cmd.arg("import")
            .arg(file)
            .arg("--importer")
            .arg(crate::IMPORTER)
            .arg("--source")
            .arg(source)
            .arg("--json")
            .stdin(Stdio::null())
            .stdout(fs::File::create(&report_path)?)
            .stderr(fs::File::create(&stderr_path)?);
        let started = Instant::now();
        let status = cmd
            .status()
            .with_context(|| format!("running {}", self.exe.display()))?;
        let wall = started.elapsed();
        Ok(Import {
            wall,
            exited_ok: status.success(),
            stdout: fs::read_to_string(&report_path)?,
            stderr_tail: tail(&fs::read_to_string(&stderr_path).unwrap_or_default(), 5),
        })
    }
}

/// The seven-digit parts of the NTNs in the database of `data_dir`, read with the `sqlite3`
/// CLI; `None` when it is not installed or the query fails.
pub fn ntn_bases(data_dir: &Path) -> Option<HashSet<u32>> {
    let out = Command::new("sqlite3")
        .arg("-readonly")
        .arg(data_dir.join("hub.sqlite"))
        .arg("SELECT value FROM organisation_identifiers WHERE scheme = 'PK-NTN'")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(crate::generate::ntn_base)
            .collect(),
    )
}

/// Copies the directory `from` (files and folders) to `to`, which must not exist.
pub fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The last `n` non-empty lines of `text`, without terminal colours, joined with ` | `.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(strip_ansi)
        .filter(|l| !l.trim().is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// `line` without ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tails_without_colours() {
        let text = "one\n\n\u{1b}[2mtwo\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m three\n";
        assert_eq!(super::tail(text, 5), "one | two  WARN three");
        assert_eq!(super::tail(text, 1), "two  WARN three");
    }
}
