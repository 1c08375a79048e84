//! The import pipeline: importer → validate → find source records again → link → choose
//! unified values → apply, in one transaction, with provenance.
//!
//! # How an import runs
//!
//! 1. **Pick the importer**: the one named (`--importer`), else the most confident one by
//!    [`Importer::sniff`] over the file's first 8 KiB. Every importer, built in or plugin,
//!    is driven through the same SDK trait.
//! 2. **Read**: the importer runs on a blocking thread and hands over batches of items
//!    through a bounded channel, so reading overlaps writing and memory stays flat however
//!    long the file is. A batch never splits the records of one row.
//! 3. **Validate** each record (`records.rs`): required fields, identifiers (NTN, SECP,
//!    registry unit numbers, CNICs hashed at once), codes that must exist (cluster slugs,
//!    programme codes, indicators, industry classes), periods, districts and tehsils
//!    against the admin areas. A row with an error is rejected as a whole.
//! 4. **Find its own rows again** by `(source, source_key)` (firm observations by source
//!    record and period). A record whose content hash equals the stored one is
//!    *unchanged* and not written: a second import of the same file inserts and updates
//!    nothing and takes no change numbers. A key repeated within one file with the same
//!    content is read once; with other content it is a `duplicate_key` error.
//! 5. **Link** new organisation source records to unified organisations by strong
//!    identifiers only (registry unit number, NTN, SECP, STRN) or by a citation of another
//!    source's record (`source:<code>` identifier); never by name, never by CNIC. Person
//!    source records link by CNIC (hashed): a CNIC identifies a person. See `unify.rs`.
//! 6. **Survivorship**: each field of a touched unified entity is chosen again from all its
//!    source records, by source priority (configured, lower wins), then newer observation.
//! 7. **Apply**: multi-row inserts, each row with its own change number taken in blocks,
//!    its import run and its source reference.
//!
//! All of it happens in one transaction. Without `allow_partial`, any rejected row rolls
//! the whole import back, and so does a dry run (which therefore reports exactly what would
//! change, references and links included). A failed import writes nothing, not even its
//! run: the database is unchanged; the report (and the log) says why.

mod apply;
mod check;
pub mod curate;
mod definitions;
pub mod figures;
pub mod linkage;
pub mod lock;
mod prepare;
mod records;
pub mod report;
mod sql;
mod survivorship;
#[cfg(test)]
mod tests;
mod trade;
mod unify;
pub(crate) mod values;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{DateTime, FixedOffset};
use hub_plugin_sdk::{
    Confidence, ImportError, Importer, ImporterManifest, Input, Item, LogLevel, Record, RecordKind,
    SourceRef,
};
use hub_schema::domain::{CnicKey, SizeThresholds};
use hub_schema::entity::{import_row_errors, import_runs, sources};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, DatabaseConnection,
    DatabaseTransaction, EntityTrait as _, QueryFilter as _,
};
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;

use crate::config::ImportSettings;
use crate::provenance::{insert_chunked, now};
pub use report::{Counts, ImportReport, Issue, RunStatus};

/// What to import and how.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// The file on disk (an upload is saved to a temporary file first).
    pub path: PathBuf,
    /// The file's name as the user knows it; the last component of `path` when `None`.
    pub file_name: Option<String>,
    /// The importer's id; picked by sniffing when `None`.
    pub importer: Option<String>,
    /// The mapping (the TOML mapping file as JSON), passed to the importer as its options.
    /// Its top-level `source` and `importer` keys are read by the hub.
    pub mapping: Option<serde_json::Value>,
    /// The source code to write under, overriding the mapping's.
    pub source: Option<String>,
    pub dry_run: bool,
    pub allow_partial: bool,
    /// Who asked (`cli`, `graphql`), recorded with the run.
    pub triggered_by: Option<String>,
    /// Who the audit trail names for an applied import (`key:NAME`, `jwt:SUBJECT`); the
    /// `triggered_by` channel when `None`.
    pub actor: Option<String>,
}

/// What the pipeline needs besides the database.
pub struct ImportEnv<'a> {
    pub key: &'a CnicKey,
    pub sizes: &'a SizeThresholds,
    pub settings: &'a ImportSettings,
    pub importers: &'a Importers,
}

/// The importers the hub knows (built-in ones, then plugins), each made afresh for every
/// import, and the plugins that were refused. Cheap to clone.
#[derive(Clone)]
pub struct Importers {
    entries: Vec<Entry>,
    refused: Vec<crate::plugins::RefusedPlugin>,
}

type Factory = Arc<dyn Fn() -> Box<dyn Importer> + Send + Sync>;

#[derive(Clone)]
struct Entry {
    manifest: ImporterManifest,
    origin: Origin,
    make: Factory,
}

/// Where an importer comes from.
#[derive(Debug, Clone)]
pub enum Origin {
    BuiltIn,
    Plugin {
        path: PathBuf,
        isolation: crate::config::Isolation,
    },
}

impl Importers {
    /// No importers at all.
    pub fn empty() -> Self {
        Importers {
            entries: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// The built-in importers.
    pub fn builtin() -> Self {
        let entries = hub_importers::builtin()
            .into_iter()
            .enumerate()
            .map(|(i, importer)| Entry {
                manifest: importer.manifest(),
                origin: Origin::BuiltIn,
                make: Arc::new(move || hub_importers::builtin().swap_remove(i)) as Factory,
            })
            .collect();
        Importers {
            entries,
            refused: Vec::new(),
        }
    }

    /// The built-in importers and the plugins of `settings.dir`, run as
    /// `settings.isolation` says. Refused plugins are logged and kept for reports.
    pub fn load(settings: &crate::config::PluginSettings) -> Self {
        let host = crate::plugins::Host::of(settings.isolation);
        Self::builtin().with_discovered(settings, &host)
    }

    /// The same importers and the plugins of `settings.dir`, reached through `host`.
    #[must_use]
    pub fn with_discovered(
        mut self,
        settings: &crate::config::PluginSettings,
        host: &crate::plugins::Host,
    ) -> Self {
        let taken: Vec<String> = self.entries.iter().map(|e| e.manifest.id.clone()).collect();
        let found = crate::plugins::discover(settings, host, &taken);
        for plugin in found.plugins {
            self = self.with_plugin(plugin);
        }
        self.refused.extend(found.refused);
        self
    }

    /// The same importers and one plugin.
    #[must_use]
    pub fn with_plugin(mut self, plugin: crate::plugins::PluginImporter) -> Self {
        self.entries.push(Entry {
            manifest: plugin.manifest(),
            origin: Origin::Plugin {
                path: plugin.info().path.clone(),
                isolation: plugin.isolation(),
            },
            make: Arc::new(move || Box::new(plugin.clone())),
        });
        self
    }

    /// The same importers and one more, made by `factory`.
    #[must_use]
    pub fn with(mut self, factory: impl Fn() -> Box<dyn Importer> + Send + Sync + 'static) -> Self {
        self.entries.push(Entry {
            manifest: factory().manifest(),
            origin: Origin::BuiltIn,
            make: Arc::new(factory),
        });
        self
    }

    /// The manifests of all importers, in the order they are tried.
    pub fn manifests(&self) -> Vec<ImporterManifest> {
        self.entries.iter().map(|e| e.manifest.clone()).collect()
    }

    /// The manifests with their origins.
    pub fn listing(&self) -> Vec<(ImporterManifest, Origin)> {
        self.entries
            .iter()
            .map(|e| (e.manifest.clone(), e.origin.clone()))
            .collect()
    }

    /// The plugins that were refused, with the reason.
    pub fn refused(&self) -> &[crate::plugins::RefusedPlugin] {
        &self.refused
    }

    /// The importer with this id.
    pub fn get(&self, id: &str) -> Option<Box<dyn Importer>> {
        self.entries
            .iter()
            .find(|e| e.manifest.id == id)
            .map(|e| (e.make)())
    }

    /// The importer most confident it reads this file, with its confidence. On a tie the
    /// one listed first (built-in before plugins) wins.
    pub fn pick(&self, head: &[u8], file_name: &str) -> Option<(Box<dyn Importer>, Confidence)> {
        let mut best: Option<(Box<dyn Importer>, Confidence)> = None;
        for entry in &self.entries {
            let importer = (entry.make)();
            let confidence = importer.sniff(head, file_name);
            if confidence > Confidence::NONE && best.as_ref().is_none_or(|(_, c)| confidence > *c) {
                best = Some((importer, confidence));
            }
        }
        best
    }

    /// Why there is no importer with this id: the known ids, and a refused plugin that
    /// might have been meant.
    fn unknown(&self, id: &str) -> String {
        let known: Vec<&str> = self
            .entries
            .iter()
            .map(|e| e.manifest.id.as_str())
            .collect();
        let mut message = format!(
            "no importer has the id {id:?}; `hub importers list` shows them: {}",
            known.join(", ")
        );
        for refused in &self.refused {
            message.push_str(&format!("; {refused}"));
        }
        message
    }
}

/// Provenance of one row written: its run, source reference and time.
#[derive(Debug, Clone)]
pub(crate) struct Prov {
    pub run_id: i64,
    pub source_ref: String,
    pub at: DateTime<FixedOffset>,
}

/// The problems of one import, in memory up to a cap; the rows they reject.
#[derive(Debug, Default)]
pub(crate) struct Issues {
    pub list: Vec<Issue>,
    pub errors: u64,
    pub warnings: u64,
    /// Rows (by [`RowKey`]) with an error in the current batch.
    pub rejected_rows: HashSet<RowKey>,
    /// Rows rejected in the batches before.
    pub rejected_total: u64,
    /// The columns the importer declared, by sheet: record field → column header.
    pub columns: HashMap<Option<String>, BTreeMap<String, String>>,
    /// The kind of the records being validated or applied, to find a field's column.
    pub kind: Option<RecordKind>,
    /// The sheets in the order the file gave their rows, to list problems in row order.
    pub sheet_order: HashMap<Option<String>, usize>,
}

impl Issues {
    /// Notes a sheet's place in the file (the first time it gives a row).
    pub fn saw_sheet(&mut self, sheet: &Option<String>) {
        if !self.sheet_order.contains_key(sheet) {
            let next = self.sheet_order.len();
            self.sheet_order.insert(sheet.clone(), next);
        }
    }

    /// The problems in the order of the file: by sheet (as the file gives them), then row;
    /// problems of one row in the order they were found.
    pub fn sort(&mut self) {
        let order = &self.sheet_order;
        self.list.sort_by_key(|i| {
            (
                order.get(&i.sheet).copied().unwrap_or(usize::MAX),
                i.row.unwrap_or(0),
            )
        });
    }

    pub fn push(&mut self, mut issue: Issue) {
        if issue.column.is_none()
            && let (Some(kind), Some(field)) = (self.kind, issue.field.as_deref())
        {
            issue.column = self
                .columns
                .get(&issue.sheet)
                .and_then(|c| c.get(&format!("{kind}.{field}")))
                .cloned();
        }
        if issue.is_error() {
            self.errors += 1;
            self.rejected_rows.insert(RowKey::of_issue(&issue));
        } else {
            self.warnings += 1;
        }
        self.list.push(issue);
    }
}

/// A row of the input: sheet and row number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RowKey(Option<String>, Option<u64>);

impl RowKey {
    pub fn of(at: &SourceRef) -> Self {
        RowKey(at.sheet.clone(), at.row)
    }

    fn of_issue(issue: &Issue) -> Self {
        RowKey(issue.sheet.clone(), issue.row)
    }
}

/// A record with its place.
#[derive(Debug, Clone)]
pub(crate) struct Sourced {
    pub at: SourceRef,
    pub record: Record,
}

/// Messages from the reading thread.
enum Read {
    Batch(Vec<Item>),
    Failed(ImportError),
}

/// Runs one import. File-level failures and rejected rows come back as a report with
/// status `failed`; `Err` is kept for failures of the hub itself (the database).
pub async fn run(
    db: &DatabaseConnection,
    env: &ImportEnv<'_>,
    request: ImportRequest,
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<ImportReport> {
    let started = Instant::now();
    let file_name = request.file_name.clone().unwrap_or_else(|| {
        request
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let mut report = ImportReport {
        run_id: None,
        status: RunStatus::Failed,
        importer: request.importer.clone().unwrap_or_default(),
        importer_version: String::new(),
        source: None,
        file: file_name.clone(),
        sha256: None,
        size: None,
        dry_run: request.dry_run,
        allow_partial: request.allow_partial,
        rows_read: 0,
        rejected: 0,
        warnings: 0,
        totals: Counts::default(),
        by_kind: BTreeMap::new(),
        error: None,
        issues: Vec::new(),
        issues_total: 0,
        duration_ms: 0,
        linkage: None,
    };
    let fail = |mut report: ImportReport, message: String| {
        tracing::warn!(file = %report.file, "import failed: {message}");
        report.error = Some(message);
        report.status = RunStatus::Failed;
        report.duration_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    };

    let (sha256, size, head) = match hash_file(&request.path) {
        Ok(found) => found,
        Err(e) => return fail(report, format!("{file_name}: cannot read the file: {e}")),
    };
    report.sha256 = Some(sha256.clone());
    report.size = Some(size);

    let wanted = request.importer.clone().or_else(|| {
        request
            .mapping
            .as_ref()
            .and_then(|m| m.get("importer"))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    });
    let importer = match &wanted {
        Some(id) => match env.importers.get(id) {
            Some(importer) => importer,
            None => return fail(report, env.importers.unknown(id)),
        },
        None => match pick(env.importers, &head, &file_name).await {
            Some((importer, _)) => importer,
            None => {
                return fail(
                    report,
                    format!(
                        "{file_name}: no importer recognises this file; name one with \
                         --importer (see `hub importers list`)"
                    ),
                );
            }
        },
    };
    let manifest = importer.manifest();
    report.importer = manifest.id.clone();
    report.importer_version = manifest.version.clone();
    if let Err(e) = check_options(&manifest, request.mapping.as_ref()) {
        return fail(report, format!("{file_name}: {e}"));
    }

    let source_code = request
        .source
        .clone()
        .or_else(|| {
            request
                .mapping
                .as_ref()
                .and_then(|m| m.get("source"))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .or_else(|| manifest.default_source.clone())
        .unwrap_or_else(|| default_source(&file_name));
    if source_code == curate::CURATION_SOURCE {
        return fail(
            report,
            format!(
                "{source_code:?} is the source of curators' corrections, made through \
                 GraphQL: files are imported under another source"
            ),
        );
    }
    if let Err(e) = hub_schema::domain::IdentifierScheme::source(&source_code) {
        return fail(
            report,
            format!("{source_code:?} cannot be a source code: {e}"),
        );
    }
    report.source = Some(source_code.clone());

    // Imports write one at a time: wait for the writer before reading (see `lock.rs`).
    let (txn, mut writer) = lock::begin(db, &file_name).await?;
    let result = async {
        // The reading thread.
        let options = request.mapping.clone().unwrap_or(serde_json::Value::Null);
        let input = Input::with_file_name(&request.path, file_name.clone());
        let batch_size = env.settings.batch_size.max(1);
        let (tx, mut rx) = mpsc::channel::<Read>(4);
        let reader = tokio::task::spawn_blocking(move || {
            read_items(importer, input, options, batch_size, tx)
        });

        let outcome = apply_all(
            &txn,
            env,
            &request,
            &manifest,
            &source_code,
            (&file_name, &sha256, size),
            &mut rx,
            &mut report,
            progress,
            (db, &mut writer),
        )
        .await;
        drop(rx);
        let _ = reader.await;
        let (run_id, mut issues, seqs, source_id) = match outcome {
            Ok(done) => done,
            Err(Failure::File(message)) => {
                txn.rollback().await.ok();
                return fail(report, message);
            }
            Err(Failure::Hub(e)) => {
                txn.rollback().await.ok();
                return Err(e);
            }
        };

        issues.sort();
        report.rejected = issues.rejected_total;
        report.warnings = issues.warnings;
        report.issues_total = issues.list.len() as u64;
        report.issues = issues
            .list
            .iter()
            .take(env.settings.max_reported_issues)
            .cloned()
            .collect();
        report.duration_ms = started.elapsed().as_millis() as u64;

        if report.rejected > 0 && !request.allow_partial {
            txn.rollback().await?;
            report.status = if request.dry_run {
                RunStatus::DryRun
            } else {
                // Nothing was written: the counts say so (a dry run's say what the valid rows
                // would change; the rejected rows' records are never counted).
                report.totals = Counts::default();
                report.by_kind.clear();
                RunStatus::Failed
            };
            report.error = Some(format!(
                "{} of {} rows have errors; nothing was applied (fix them, or import with \
                 --allow-partial to apply the valid rows)",
                report.rejected, report.rows_read
            ));
            tracing::warn!(file = %report.file, rejected = report.rejected, "import rejected");
            return Ok(report);
        }
        if request.dry_run {
            txn.rollback().await?;
            report.status = RunStatus::DryRun;
            return Ok(report);
        }
        let status = if report.rejected > 0 {
            RunStatus::Partial
        } else {
            RunStatus::Applied
        };
        finish_run(&txn, run_id, &report, status, issues.list, seqs, source_id).await?;
        crate::access::audit::record(
            &txn,
            crate::access::audit::kind::IMPORT,
            request
                .actor
                .as_deref()
                .or(request.triggered_by.as_deref())
                .unwrap_or("unknown"),
            serde_json::json!({
                "run": run_id,
                "importer": report.importer,
                "source": report.source,
                "status": status.as_str(),
                "rows": report.rows_read,
                "rejected": report.rejected,
            }),
        )
        .await?;
        // The statistics' rollups, in the same transaction (see `rollups.rs`).
        crate::rollups::refresh(&txn).await?;
        txn.commit().await.context("committing the import")?;
        report.run_id = Some(run_id);
        // After the commit, so that the import's transaction stays short; a failure here
        // leaves the import applied and is only logged.
        if let Err(e) = crate::db::analyze_if_grown(db).await {
            tracing::warn!(error = %e, "could not refresh the planner's statistics");
        }
        report.status = status;
        tracing::info!(
            file = %report.file,
            run = run_id,
            rows = report.rows_read,
            inserted = report.totals.inserted,
            updated = report.totals.updated,
            unchanged = report.totals.unchanged,
            rejected = report.rejected,
            "import applied"
        );
        Ok(report)
    }
    .await;
    writer.release(db).await;
    result
}

/// The importer most confident it reads the file. Sniffing may start plugin processes and
/// wait for them, so it runs off the async runtime.
async fn pick(
    importers: &Importers,
    head: &[u8],
    file_name: &str,
) -> Option<(Box<dyn Importer>, Confidence)> {
    let (importers, head, name) = (importers.clone(), head.to_vec(), file_name.to_owned());
    tokio::task::spawn_blocking(move || importers.pick(&head, &name))
        .await
        .ok()
        .flatten()
}

/// Why an import stopped before its end.
enum Failure {
    /// The file as a whole: it is reported, nothing is applied.
    File(String),
    /// The hub (database): an error of the command.
    Hub(anyhow::Error),
}

impl From<sea_orm::DbErr> for Failure {
    fn from(e: sea_orm::DbErr) -> Self {
        Failure::Hub(e.into())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Hub(e)
    }
}

/// The most items one row of a file may give: they are held in memory until the row ends.
const MAX_ROW_ITEMS: usize = 10_000;

/// Reads the importer's items on the blocking thread and sends them in batches that never
/// split a row.
fn read_items(
    mut importer: Box<dyn Importer>,
    input: Input,
    options: serde_json::Value,
    batch_size: usize,
    tx: mpsc::Sender<Read>,
) {
    let mut stream = match importer.open(input, &options) {
        Ok(stream) => stream,
        Err(e) => {
            let _ = tx.blocking_send(Read::Failed(e));
            return;
        }
    };
    let mut carry: Vec<Item> = Vec::new();
    loop {
        match stream.next_batch(batch_size) {
            Ok(Some(mut batch)) => {
                let mut items = std::mem::take(&mut carry);
                items.append(&mut batch);
                // Hold back the items of the last row: the next batch may continue it.
                // Items without a row number belong to no row and are never held back.
                let last = items
                    .iter()
                    .rev()
                    .find_map(row_of)
                    .filter(|row| row.1.is_some());
                if let Some(last) = last {
                    let split = items
                        .iter()
                        .rposition(|item| row_of(item).is_some_and(|r| r != last))
                        .map_or(0, |p| p + 1);
                    // All of it one row: held back as it is, without copying.
                    carry = if split == 0 {
                        std::mem::take(&mut items)
                    } else {
                        items.split_off(split)
                    };
                    if carry.len() > MAX_ROW_ITEMS {
                        let message = format!(
                            "row {} gave more than {MAX_ROW_ITEMS} items; the items of one row \
                             are applied together, so a row may not hold more",
                            last.1.unwrap_or_default()
                        );
                        let _ = tx.blocking_send(Read::Failed(ImportError::new(message)));
                        return;
                    }
                }
                if !items.is_empty() && tx.blocking_send(Read::Batch(items)).is_err() {
                    return;
                }
            }
            Ok(None) => {
                if !carry.is_empty() {
                    let _ = tx.blocking_send(Read::Batch(carry));
                }
                return;
            }
            Err(e) => {
                let _ = tx.blocking_send(Read::Failed(e));
                return;
            }
        }
    }
}

fn row_of(item: &Item) -> Option<RowKey> {
    match item {
        Item::Record(r) => Some(RowKey::of(&r.source_ref)),
        Item::RowError(e) => Some(RowKey::of(&e.source_ref)),
        Item::Log { .. } | Item::Columns { .. } => None,
    }
}

/// Applies every batch inside `txn`; returns the run id and the problems found.
#[allow(clippy::too_many_arguments)]
async fn apply_all(
    txn: &DatabaseTransaction,
    env: &ImportEnv<'_>,
    request: &ImportRequest,
    manifest: &ImporterManifest,
    source_code: &str,
    (file_name, sha256, size): (&str, &str, u64),
    rx: &mut mpsc::Receiver<Read>,
    report: &mut ImportReport,
    progress: &(dyn Fn(u64) + Sync),
    (db, writer): (&DatabaseConnection, &mut lock::Writer),
) -> Result<(i64, Issues, (Option<i64>, Option<i64>), i64), Failure> {
    let run = import_runs::ActiveModel {
        importer_id: Set(manifest.id.clone()),
        importer_version: Set(manifest.version.clone()),
        file_name: Set(Some(file_name.to_owned())),
        file_sha256: Set(Some(sha256.to_owned())),
        file_size: Set(Some(size as i64)),
        options: Set(request.mapping.clone()),
        status: Set("running".into()),
        dry_run: Set(request.dry_run),
        allow_partial: Set(request.allow_partial),
        started_at: Set(now()),
        rows_read: Set(0),
        inserted: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        rejected: Set(0),
        warnings: Set(0),
        triggered_by: Set(request.triggered_by.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    writer.set_run(db, run.id).await;
    let mut ctx = prepare::Ctx::load(txn, env, run.id, source_code).await?;
    let emits: HashSet<RecordKind> = manifest.emits.iter().copied().collect();
    let mut issues = Issues::default();
    let mut rows_seen: u64 = 0;
    let mut last_row: Option<RowKey> = None;

    while let Some(message) = rx.recv().await {
        let items = match message {
            Read::Batch(items) => items,
            Read::Failed(e) => return Err(Failure::File(file_error(file_name, &e))),
        };
        let mut records = Vec::with_capacity(items.len());
        for item in items {
            if let Some(row) = row_of(&item)
                && last_row.as_ref() != Some(&row)
            {
                rows_seen += 1;
                issues.saw_sheet(&row.0);
                last_row = Some(row);
            }
            match item {
                Item::Record(sourced) => {
                    let kind = sourced.record.kind();
                    if !emits.contains(&kind) {
                        issues.push(Issue::error(
                            &sourced.source_ref,
                            None,
                            "undeclared_kind",
                            format!(
                                "The importer {} emitted a {kind} record, which its manifest \
                                 does not declare.",
                                manifest.id
                            ),
                        ));
                        continue;
                    }
                    records.push(Sourced {
                        at: sourced.source_ref,
                        record: sourced.record,
                    });
                }
                Item::RowError(error) => issues.push(Issue::from_row_error(error)),
                Item::Log { level, message } => log_importer(&manifest.id, level, &message),
                Item::Columns { sheet, columns } => {
                    issues.columns.insert(sheet, columns);
                }
            }
        }
        apply::batch(&mut ctx, records, &mut issues).await?;
        ctx.keep_statistics().await?;
        issues.rejected_total += issues.rejected_rows.len() as u64;
        issues.rejected_rows.clear();
        report.rows_read = rows_seen;
        progress(rows_seen);
    }
    report.by_kind = ctx
        .counts
        .iter()
        .map(|(kind, c)| (kind.as_str().to_owned(), *c))
        .collect();
    for c in ctx.counts.values() {
        report.totals.add(*c);
    }
    report.linkage = ctx
        .link_index
        .as_ref()
        .map(linkage::LinkIndex::report)
        .filter(|l| l.scored > 0);
    let run_id = run.id;
    ctx.finish().await?;
    Ok((run_id, issues, ctx.seq_range(), ctx.source_id))
}

fn file_error(file_name: &str, e: &ImportError) -> String {
    match &e.source_ref {
        Some(at) => format!("{at}: {}", e.message),
        None if e.message.contains(file_name) => e.message.clone(),
        None => format!("{file_name}: {}", e.message),
    }
}

fn log_importer(importer: &str, level: LogLevel, message: &str) {
    match level {
        LogLevel::Error => tracing::error!(importer, "{message}"),
        LogLevel::Warn => tracing::warn!(importer, "{message}"),
        LogLevel::Info => tracing::info!(importer, "{message}"),
        LogLevel::Debug => tracing::debug!(importer, "{message}"),
        LogLevel::Trace => tracing::trace!(importer, "{message}"),
    }
}

/// Writes the run's problems and closes it with its counts.
async fn finish_run(
    txn: &DatabaseTransaction,
    run_id: i64,
    report: &ImportReport,
    status: RunStatus,
    issues: Vec<Issue>,
    (first, last): (Option<i64>, Option<i64>),
    source_id: i64,
) -> anyhow::Result<()> {
    let rows: Vec<_> = issues
        .into_iter()
        .map(|issue| import_row_errors::ActiveModel {
            import_run_id: Set(run_id),
            severity: Set(issue.severity.to_owned()),
            file: Set(Some(issue.file)),
            sheet: Set(issue.sheet),
            row_number: Set(issue.row.map(|r| r as i64)),
            column_name: Set(issue.column),
            field: Set(issue.field),
            code: Set(issue.code),
            message: Set(issue.message),
            ..Default::default()
        })
        .collect();
    insert_chunked(txn, rows).await?;
    import_runs::ActiveModel {
        id: Set(run_id),
        status: Set(status.as_str().to_owned()),
        finished_at: Set(Some(now())),
        rows_read: Set(report.rows_read as i64),
        inserted: Set(report.totals.inserted as i64),
        updated: Set(report.totals.updated as i64),
        unchanged: Set(report.totals.unchanged as i64),
        rejected: Set(report.rejected as i64),
        warnings: Set(report.warnings as i64),
        first_change_seq: Set(first),
        last_change_seq: Set(last),
        source_id: Set(Some(source_id)),
        ..Default::default()
    }
    .update(txn)
    .await?;
    Ok(())
}

/// The source code of a file imported without one: `file-` and the file's stem as a slug,
/// so that re-importing a file of the same name finds its records again.
pub fn default_source(file_name: &str) -> String {
    let stem = Path::new(file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut slug = String::from("file-");
    let mut dash = false;
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash {
            slug.push('-');
            dash = true;
        }
    }
    let mut slug = slug.trim_end_matches('-').to_owned();
    slug.truncate(64);
    slug
}

/// The sha256 and size of a file, and its first 8 KiB for sniffing, in one streaming pass.
fn hash_file(path: &Path) -> std::io::Result<(String, u64, Vec<u8>)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(8192);
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < 8192 {
            let take = (8192 - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size, head))
}

/// The source with this code, created from the configuration (or with defaults) when the
/// database lacks it. Returns its id and priority.
pub(crate) async fn ensure_source(
    txn: &DatabaseTransaction,
    settings: &ImportSettings,
    code: &str,
    prov: &Prov,
) -> anyhow::Result<(i64, i32)> {
    let configured = settings.sources.get(code);
    if let Some(found) = sources::Entity::find()
        .filter(sources::Column::Code.eq(code))
        .one(txn)
        .await?
    {
        return Ok((found.id, found.priority));
    }
    // Curated values outrank every source, whatever the configuration says.
    let curation = code == curate::CURATION_SOURCE;
    let priority = if curation {
        curate::CURATED_PRIORITY
    } else {
        configured
            .and_then(|c| c.priority)
            .unwrap_or(settings.default_priority)
    };
    let seq = crate::changes::take(txn, 1).await?.first;
    let model = sources::ActiveModel {
        code: Set(code.to_owned()),
        name: Set(if curation {
            "Curators' corrections".to_owned()
        } else {
            configured
                .and_then(|c| c.name.clone())
                .unwrap_or_else(|| code.to_owned())
        }),
        kind: Set(if curation {
            "curation".to_owned()
        } else {
            configured
                .and_then(|c| c.kind.clone())
                .unwrap_or_else(|| "spreadsheet".to_owned())
        }),
        priority: Set(priority),
        publisher: Set(configured.and_then(|c| c.publisher.clone())),
        description: Set(configured.and_then(|c| c.description.clone())),
        import_run_id: Set(Some(prov.run_id)),
        source_ref: Set(Some(prov.source_ref.clone())),
        change_seq: Set(seq),
        created_at: Set(prov.at),
        updated_at: Set(prov.at),
        ..Default::default()
    };
    // Imports hold the writer one at a time (see `lock.rs`); a source created meanwhile by
    // another writer is taken as it is rather than failing on its key.
    sources::Entity::insert(model)
        .on_conflict_do_nothing_on([sources::Column::Code])
        .exec(txn)
        .await?;
    let found = sources::Entity::find()
        .filter(sources::Column::Code.eq(code))
        .one(txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the source {code} could not be created"))?;
    Ok((found.id, found.priority))
}

/// The mapping's keys the hub reads itself; they reach the importer too, as options.
const HUB_OPTION_KEYS: [&str; 2] = ["source", "importer"];

/// Checks a mapping (the importer's options) against the importer's `options_schema`
/// before the importer sees it, so that a mapping meant for another importer, or one with
/// a typo, is refused instead of silently ignored. The hub's own keys (`source`,
/// `importer`) are left out of the check: every importer receives them. An importer that
/// declares no schema takes no other option.
fn check_options(
    manifest: &ImporterManifest,
    mapping: Option<&serde_json::Value>,
) -> Result<(), String> {
    let Some(mapping) = mapping.filter(|m| !m.is_null()) else {
        return Ok(());
    };
    let Some(table) = mapping.as_object() else {
        return Err("the mapping must be a table of options".to_owned());
    };
    let mut options = table.clone();
    for key in HUB_OPTION_KEYS {
        options.remove(key);
    }
    let id = &manifest.id;
    let Some(schema) = &manifest.options_schema else {
        if options.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = options.keys().map(String::as_str).collect();
        return Err(format!(
            "the importer {id} takes no options, but the mapping gives {}; a mapping for it \
             may only name source and importer",
            keys.join(", ")
        ));
    };
    let validator = jsonschema::validator_for(schema).map_err(|e| {
        format!("the importer {id} declares an options schema that is not valid: {e}")
    })?;
    let options = serde_json::Value::Object(options);
    let problems: Vec<String> = validator
        .iter_errors(&options)
        .take(5)
        .map(|e| {
            let path = e.instance_path().to_string();
            if path.is_empty() {
                e.to_string()
            } else {
                format!("{path}: {e}")
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the mapping does not fit the options of the importer {id}: {}",
            problems.join("; ")
        ))
    }
}

/// Priorities of sources by id, for survivorship.
pub(crate) type Priorities = HashMap<i64, i32>;
