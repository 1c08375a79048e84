//! What an import reports: its run, counts per record kind, and the problems found, each
//! with its place in the file.

use std::collections::BTreeMap;
use std::fmt;

use hub_plugin_sdk::{RowError, Severity, SourceRef};
use serde::Serialize;

/// How an import ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every row was applied.
    Applied,
    /// The valid rows were applied and the rejected ones recorded (`--allow-partial`).
    Partial,
    /// A dry run: nothing was written; the counts say what would have changed.
    DryRun,
    /// Nothing was applied: the file could not be read, or rows were rejected without
    /// `--allow-partial`.
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Partial => "partial",
            Self::DryRun => "dry_run",
            Self::Failed => "failed",
        }
    }
}

/// Counts of records written, per kind or in total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// A problem with one row (or one cell): an error rejects the row, a warning keeps it.
/// Messages never hold personal values; they name the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: &'static str,
    pub file: String,
    pub sheet: Option<String>,
    pub row: Option<u64>,
    pub column: Option<String>,
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

impl Issue {
    pub fn error(at: &SourceRef, field: Option<&str>, code: &str, message: String) -> Self {
        Self::new("error", at, field, code, message)
    }

    pub fn warning(at: &SourceRef, field: Option<&str>, code: &str, message: String) -> Self {
        Self::new("warning", at, field, code, message)
    }

    fn new(
        severity: &'static str,
        at: &SourceRef,
        field: Option<&str>,
        code: &str,
        message: String,
    ) -> Self {
        Issue {
            severity,
            file: at.file.clone(),
            sheet: at.sheet.clone(),
            row: at.row,
            column: at.column.clone(),
            field: field.map(str::to_owned),
            code: code.to_owned(),
            message,
        }
    }

    pub fn from_row_error(error: RowError) -> Self {
        let severity = match error.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        Issue {
            severity,
            file: error.source_ref.file,
            sheet: error.source_ref.sheet,
            row: error.source_ref.row,
            column: error.source_ref.column,
            field: error.field,
            code: error.code,
            message: error.message,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }

    /// `file!sheet!R12!C:column`, the place as people read it.
    pub fn place(&self) -> String {
        let mut place = self.file.clone();
        if let Some(sheet) = &self.sheet {
            place.push('!');
            place.push_str(sheet);
        }
        if let Some(row) = self.row {
            place.push_str(&format!("!R{row}"));
        }
        if let Some(column) = &self.column {
            place.push_str(&format!("!C:{column}"));
        }
        place
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.severity, self.place())?;
        if let Some(field) = &self.field {
            write!(f, "[{field}] ")?;
        }
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// The outcome of one import, as printed by `hub import` and returned by `importFile`.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The import run recorded, when the import was applied.
    pub run_id: Option<i64>,
    pub status: RunStatus,
    pub importer: String,
    pub importer_version: String,
    /// The source the records were written under.
    pub source: Option<String>,
    pub file: String,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub dry_run: bool,
    pub allow_partial: bool,
    /// Rows read: the rows of the file that gave records or errors.
    pub rows_read: u64,
    /// Rows rejected with an error.
    pub rejected: u64,
    /// Warnings (the rows were kept).
    pub warnings: u64,
    /// Records inserted, updated and unchanged, over all kinds.
    pub totals: Counts,
    /// The same per record kind (`organisation`, `firm_observation`, …).
    pub by_kind: BTreeMap<String, Counts>,
    /// Why nothing was applied, when the status is `failed`.
    pub error: Option<String>,
    /// The first problems found (all of them are stored with an applied run).
    pub issues: Vec<Issue>,
    /// How many problems were found in all.
    pub issues_total: u64,
    pub duration_ms: u64,
    /// What linking firms by score did, when the import had firms to link.
    pub linkage: Option<super::linkage::LinkageReport>,
}

impl ImportReport {
    /// Whether the import counts as a success for the exit status: it was applied (fully or
    /// partially), or it was a dry run that found no error.
    pub fn succeeded(&self) -> bool {
        match self.status {
            RunStatus::Applied | RunStatus::Partial => true,
            RunStatus::DryRun => self.rejected == 0,
            RunStatus::Failed => false,
        }
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            RunStatus::Applied => "applied",
            RunStatus::Partial => "applied in part (rejected rows skipped)",
            RunStatus::DryRun => "dry run: nothing was written",
            RunStatus::Failed => "failed: nothing was applied",
        };
        writeln!(f, "{}: {status}", self.file)?;
        writeln!(
            f,
            "  importer {} {}, source {}{}",
            self.importer,
            self.importer_version,
            self.source.as_deref().unwrap_or("-"),
            self.run_id
                .map(|id| format!(", import run {id}"))
                .unwrap_or_default()
        )?;
        if let Some(error) = &self.error {
            writeln!(f, "  {error}")?;
        }
        writeln!(
            f,
            "  {} rows read, {} rejected, {} warnings, {:.1} s",
            self.rows_read,
            self.rejected,
            self.warnings,
            self.duration_ms as f64 / 1000.0
        )?;
        if !self.by_kind.is_empty() {
            writeln!(
                f,
                "  {:<20} {:>10} {:>10} {:>10}",
                "records", "inserted", "updated", "unchanged"
            )?;
            for (kind, c) in &self.by_kind {
                writeln!(
                    f,
                    "  {kind:<20} {:>10} {:>10} {:>10}",
                    c.inserted, c.updated, c.unchanged
                )?;
            }
            let t = self.totals;
            writeln!(
                f,
                "  {:<20} {:>10} {:>10} {:>10}",
                "total", t.inserted, t.updated, t.unchanged
            )?;
        }
        if let Some(l) = &self.linkage {
            writeln!(
                f,
                "  firms without a strong identifier match: {} scored ({} pairs compared, \
                 {:.1} s), {} linked by score, {} waiting for review",
                l.scored,
                l.compared,
                l.millis as f64 / 1000.0,
                l.linked,
                l.queued
            )?;
        }
        for issue in &self.issues {
            writeln!(f, "  {issue}")?;
        }
        if self.issues_total > self.issues.len() as u64 {
            writeln!(
                f,
                "  … and {} more",
                self.issues_total - self.issues.len() as u64
            )?;
        }
        Ok(())
    }
}
