//! `hub plugins check PATH [--input FILE]`: the plugin author's test harness.
//!
//! Loads the library exactly as the hub would in process isolation (in a child, every
//! check before any call), reports the ABI and the manifest, checks the id against the
//! built-in importers and the plugins installed in `plugins.dir`, and with `--input`
//! sniffs the file and imports it as a dry run into the configured database (always
//! rolled back), through the same pipeline as `hub import`.

use std::fmt;
use std::path::Path;

use hub_plugin_sdk::ImporterManifest;
use serde::Serialize;

use super::{Host, Limits, PluginImporter, file_name, hub_exe, inspect, inspect_folder};
use crate::config::Settings;
use crate::import::{ImportReport, Importers};

/// The checks, in the order the host makes them.
const CHECKS: &[&str] = &[
    "sha256",
    "load",
    "symbol",
    "ABI version",
    "table size",
    "table functions",
    "manifest",
    "SDK version",
];

/// One line of the report.
#[derive(Debug, Serialize)]
pub struct CheckLine {
    pub check: String,
    /// `ok`, `failed`, `warning` or `skipped`.
    pub outcome: &'static str,
    pub detail: String,
}

/// The report of `hub plugins check`.
#[derive(Debug, Serialize)]
pub struct PluginCheck {
    pub path: String,
    pub ok: bool,
    pub abi_version: Option<u32>,
    pub struct_size: Option<u32>,
    pub sha256: Option<String>,
    pub manifest: Option<ImporterManifest>,
    pub checks: Vec<CheckLine>,
    pub input: Option<String>,
    /// The plugin's confidence that it reads the input, 0 to 100.
    pub sniff: Option<u8>,
    /// The dry-run import of the input.
    pub dry_run: Option<ImportReport>,
}

impl PluginCheck {
    fn line(&mut self, check: &str, outcome: &'static str, detail: impl Into<String>) {
        if outcome == "failed" {
            self.ok = false;
        }
        self.checks.push(CheckLine {
            check: check.to_owned(),
            outcome,
            detail: detail.into(),
        });
    }
}

/// Runs the checks. `Err` only for failures of the hub itself (the database).
pub async fn run(
    settings: &Settings,
    path: &Path,
    input: Option<&Path>,
    mapping: Option<serde_json::Value>,
) -> anyhow::Result<PluginCheck> {
    let mut report = PluginCheck {
        path: path.display().to_string(),
        ok: true,
        abi_version: None,
        struct_size: None,
        sha256: None,
        manifest: None,
        checks: Vec::new(),
        input: input.map(|p| p.display().to_string()),
        sniff: None,
        dry_run: None,
    };
    let host = Host::Process {
        exe: hub_exe(),
        show_stderr: true,
    };
    let limits = Limits::of(&settings.plugins);
    let (owned, target) = (path.to_owned(), host.clone());
    let allowed = settings.plugins.allowed_sha256.clone();
    let inspected =
        tokio::task::spawn_blocking(move || inspect(&owned, &allowed, &target, &limits)).await?;
    let plugin = match inspected {
        Ok(plugin) => {
            let pinned = !settings.plugins.allowed_sha256.is_empty();
            for check in CHECKS {
                report.line(check, "ok", passed(check, &plugin, pinned));
            }
            plugin
        }
        Err(refusal) => {
            let failed_at = CHECKS.iter().position(|c| *c == refusal.check);
            for (i, check) in CHECKS.iter().enumerate() {
                match failed_at {
                    Some(at) if i < at => report.line(check, "ok", ""),
                    Some(at) if i == at => report.line(check, "failed", refusal.message.clone()),
                    Some(_) => report.line(check, "skipped", "after a failed check"),
                    None => {}
                }
            }
            if failed_at.is_none() {
                report.line(&refusal.check, "failed", refusal.message.clone());
            }
            return Ok(report);
        }
    };
    let info = plugin.info();
    report.abi_version = Some(info.abi_version);
    report.struct_size = Some(info.struct_size);
    report.sha256 = Some(info.sha256.clone());
    report.manifest = Some(info.manifest.clone());

    // The id: unique among built-ins, and among the installed plugins but this one.
    let id = info.manifest.id.clone();
    let builtin = Importers::builtin();
    if builtin.manifests().iter().any(|m| m.id == id) {
        report.line(
            "id",
            "failed",
            format!("{id:?} is a built-in importer's id"),
        );
    } else {
        let plugins = settings.plugins.clone();
        let (this, target) = (info.path.clone(), host.clone());
        let installed = tokio::task::spawn_blocking(move || {
            // Every installed library that loads, before uniqueness: a clash refuses both.
            let (installed, _) = inspect_folder(&plugins, &target);
            installed
                .iter()
                .filter(|p| !same_file(&p.info().path, &this))
                .filter(|p| p.info().manifest.id == id)
                .map(|p| file_name(&p.info().path))
                .collect::<Vec<_>>()
        })
        .await?;
        if installed.is_empty() {
            report.line("id", "ok", "unique among built-in and installed importers");
        } else {
            report.line(
                "id",
                "warning",
                format!(
                    "the installed plugin {} has the same id: installed beside it, both would \
                     be refused; replace it instead",
                    installed.join(", ")
                ),
            );
        }
    }

    // A plugin with a built-in's id would not be the one the dry run runs.
    if let Some(input) = input
        && report.ok
    {
        check_input(settings, &mut report, plugin, input, mapping).await?;
    }
    Ok(report)
}

/// The detail of a passed check.
fn passed(check: &str, plugin: &PluginImporter, pinned: bool) -> String {
    let info = plugin.info();
    match check {
        "sha256" if pinned => "listed in plugins.allowed_sha256".into(),
        "sha256" => "not pinned (plugins.allowed_sha256 is empty)".into(),
        "ABI version" => format!("{}", info.abi_version),
        "table size" => format!("{} bytes", info.struct_size),
        "manifest" => format!("{} {}", info.manifest.id, info.manifest.version),
        "SDK version" => info.manifest.sdk_version.clone(),
        _ => String::new(),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Sniffs the input and imports it as a dry run.
async fn check_input(
    settings: &Settings,
    report: &mut PluginCheck,
    plugin: PluginImporter,
    input: &Path,
    mapping: Option<serde_json::Value>,
) -> anyhow::Result<()> {
    let head = read_head(input);
    let name = file_name(input);
    let sniffer = plugin.clone();
    let sniffed = tokio::task::spawn_blocking(move || sniffer.sniff_checked(&head, &name)).await?;
    match sniffed {
        Ok(confidence) => {
            report.sniff = Some(confidence.percent());
            let outcome = if confidence.percent() == 0 {
                "warning"
            } else {
                "ok"
            };
            report.line(
                "sniff",
                outcome,
                format!("{confidence} confident it reads {}", file_name(input)),
            );
        }
        Err((e, _)) => report.line("sniff", "failed", e),
    }

    // A check changes nothing: it reads a database `hub migrate` made, and never creates
    // one or a CNIC key.
    let (db, key) = crate::cli::open_existing(settings).await?;
    let importers = Importers::builtin().with_plugin(plugin.clone());
    let env = crate::import::ImportEnv {
        key: &key,
        sizes: &settings.size_classes,
        settings: &settings.import,
        importers: &importers,
    };
    let request = crate::import::ImportRequest {
        path: input.to_owned(),
        file_name: None,
        importer: Some(plugin.info().manifest.id.clone()),
        mapping,
        source: None,
        dry_run: true,
        allow_partial: false,
        triggered_by: Some("plugins check".into()),
        actor: None,
    };
    let dry_run = crate::import::run(&db, &env, request, &|_| {}).await;
    db.close().await.ok();
    let dry_run = dry_run?;
    if dry_run.succeeded() {
        report.line(
            "dry run",
            "ok",
            format!(
                "{} rows read, {} records would be inserted, {} updated",
                dry_run.rows_read, dry_run.totals.inserted, dry_run.totals.updated
            ),
        );
    } else {
        let detail = dry_run.error.clone().unwrap_or_else(|| {
            format!(
                "{} of {} rows have errors",
                dry_run.rejected, dry_run.rows_read
            )
        });
        report.line("dry run", "failed", detail);
    }
    report.dry_run = Some(dry_run);
    Ok(())
}

fn read_head(path: &Path) -> Vec<u8> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(8192);
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(8192).read_to_end(&mut head);
    }
    head
}

impl fmt::Display for PluginCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "plugin {}", self.path)?;
        if let Some(sha) = &self.sha256 {
            writeln!(f, "  sha256   {sha}")?;
        }
        if let Some(m) = &self.manifest {
            writeln!(f, "  importer {} {} ({})", m.id, m.version, m.name)?;
            writeln!(
                f,
                "  ABI      version {}, table {} bytes; SDK {}",
                self.abi_version.unwrap_or_default(),
                self.struct_size.unwrap_or_default(),
                m.sdk_version
            )?;
            writeln!(f, "  reads    .{}", m.inputs.extensions.join(", ."))?;
            let emits: Vec<&str> = m.emits.iter().map(|k| k.as_str()).collect();
            writeln!(f, "  emits    {}", emits.join(", "))?;
            if let Some(source) = &m.default_source {
                writeln!(f, "  source   {source}")?;
            }
        }
        writeln!(f, "checks")?;
        for line in &self.checks {
            let mark = match line.outcome {
                "ok" => "ok  ",
                "failed" => "FAIL",
                "warning" => "warn",
                _ => "skip",
            };
            if line.detail.is_empty() {
                writeln!(f, "  {mark} {}", line.check)?;
            } else {
                writeln!(f, "  {mark} {}: {}", line.check, line.detail)?;
            }
        }
        if let Some(dry_run) = &self.dry_run {
            writeln!(
                f,
                "dry run of {}",
                self.input.as_deref().unwrap_or_default()
            )?;
            for line in dry_run.to_string().lines() {
                writeln!(f, "  {line}")?;
            }
        }
        writeln!(
            f,
            "{}",
            if self.ok {
                "result: ok"
            } else {
                "result: FAILED"
            }
        )
    }
}
