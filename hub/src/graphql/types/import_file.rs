//! The `importFile` mutation: a file sent with the request (a multipart request, see
//! [`crate::graphql::http`]) run through the import pipeline ([`crate::import`]), and its
//! report as [`ImportResult`].
//!
//! Curators and admins only: other callers get `FORBIDDEN` (and the HTTP layer refuses
//! their multipart requests with 403 before reading them).
//!
//! The upload is saved to a temporary file (removed when the import ends) and imported
//! under the file name the client gave, exactly as `hub import` would import it; the
//! run records `triggered_by = "graphql"`. Problems with the file or its rows are not
//! GraphQL errors: they come back in the result, with status `FAILED` and `error`, and
//! each issue names file, sheet, row, column and field, never a personal value.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, Enum, Error, ErrorExtensions as _, ID, InputValueError,
    InputValueResult, Object, Request, Result, Scalar, ScalarType, SimpleObject, UploadValue,
    Value,
};
use hub_schema::domain::{CnicKey, SizeThresholds};
use sea_orm::DatabaseConnection;

use super::import_run::{self, ImportRun};
use crate::config::ImportSettings;
use crate::graphql::list::bad_input;
use crate::graphql::policy::Protected;
use crate::graphql::{errors, ids};
use crate::import::{ImportEnv, ImportReport, ImportRequest, Importers, RunStatus};

/// What `importFile` needs besides the database: the importers, the CNIC key, the size
/// classes and the import settings. Shared by the schemas of the endpoint through the
/// schema data, as `Arc<ImportSetup>`.
pub struct ImportSetup {
    pub importers: Importers,
    pub key: CnicKey,
    pub sizes: SizeThresholds,
    pub settings: ImportSettings,
}

impl ImportSetup {
    pub fn env(&self) -> ImportEnv<'_> {
        ImportEnv {
            key: &self.key,
            sizes: &self.sizes,
            settings: &self.settings,
            importers: &self.importers,
        }
    }
}

impl std::fmt::Debug for ImportSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportSetup")
            .field("key", &self.key)
            .field("sizes", &self.sizes)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The files of one request, in the order of its multipart parts; an [`FileUpload`] is an
/// index into them. Put into the request data by [`attach_uploads`].
pub struct Uploads(pub Vec<UploadValue>);

/// Moves the files async-graphql collected for `request` (`Request::set_upload`) into the
/// request data, where `importFile` finds them.
pub fn attach_uploads(mut request: Request) -> Request {
    let uploads = std::mem::take(&mut request.uploads);
    request.data(Uploads(uploads))
}

/// The prefix async-graphql's multipart reader gives the variables a file part is mapped
/// to, followed by the file's index.
const UPLOAD_PREFIX: &str = "#__graphql_file__:";

/// A file sent with the request: a part of a multipart request mapped to this argument by
/// the request's `map` (GraphQL multipart request spec). It cannot be written in a
/// document or a JSON request.
///
/// The hub's own scalar instead of `async_graphql::Upload`, whose parsing panics on a
/// malformed value and whose reading panics on an index without a file; this one refuses
/// both as input errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileUpload(usize);

/// A file sent with the request as a part of a multipart request (GraphQL multipart
/// request spec): give `null` in `operations` and map the file part to the variable in `map`.
#[Scalar(
    name = "Upload",
    specified_by_url = "https://github.com/jaydenseric/graphql-multipart-request-spec"
)]
impl ScalarType for FileUpload {
    fn parse(value: Value) -> InputValueResult<Self> {
        upload_index(&value).map(FileUpload).ok_or_else(|| {
            InputValueError::custom(
                "an Upload is a file part of a multipart request, mapped to this variable by `map`",
            )
        })
    }

    /// Checked by validation (so a wrong value is a request error, not a field error).
    fn is_valid(value: &Value) -> bool {
        upload_index(value).is_some()
    }

    fn to_value(&self) -> Value {
        Value::Null
    }
}

/// The file index of the value async-graphql's multipart reader puts in a variable that a
/// file part is mapped to.
fn upload_index(value: &Value) -> Option<usize> {
    match value {
        Value::String(s) => s.strip_prefix(UPLOAD_PREFIX)?.parse().ok(),
        _ => None,
    }
}

/// How an import ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ImportStatus {
    /// Every row was applied.
    Applied,
    /// The valid rows were applied, the rejected ones recorded (`allowPartial`).
    Partial,
    /// A dry run: nothing was written; the counts say what would have changed.
    DryRun,
    /// Nothing was applied: the file could not be read, or rows were rejected without
    /// `allowPartial`. `error` says why.
    Failed,
}

impl From<RunStatus> for ImportStatus {
    fn from(status: RunStatus) -> Self {
        match status {
            RunStatus::Applied => ImportStatus::Applied,
            RunStatus::Partial => ImportStatus::Partial,
            RunStatus::DryRun => ImportStatus::DryRun,
            RunStatus::Failed => ImportStatus::Failed,
        }
    }
}

/// Records of one kind inserted, updated and unchanged by an import.
#[derive(Debug, Clone, SimpleObject)]
pub struct KindCounts {
    /// The record kind: `organisation`, `firm_observation`, `person`, …
    pub kind: String,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
}

/// A problem with one row or cell of the file: an error rejects the row, a warning keeps
/// it. Names the place and the field, never a personal value.
#[derive(Debug, Clone, SimpleObject)]
pub struct ImportIssue {
    /// `error` (the row was rejected) or `warning` (the row was kept).
    pub severity: String,
    pub file: String,
    pub sheet: Option<String>,
    /// The row number in the file or sheet.
    pub row: Option<i64>,
    /// The column as the file names it.
    pub column: Option<String>,
    /// The field of the unified model.
    pub field: Option<String>,
    /// A stable code, e.g. `invalid_identifier`.
    pub code: String,
    pub message: String,
}

/// The outcome of one `importFile`: the import's report.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct ImportResult {
    #[graphql(skip)]
    pub run_row_id: Option<i64>,
    pub status: ImportStatus,
    /// The importer's id (`null` when no importer was chosen).
    pub importer: Option<String>,
    pub importer_version: Option<String>,
    /// The source the records were written under.
    pub source: Option<String>,
    /// The file name, as uploaded.
    pub file: String,
    /// SHA-256 of the file, hex.
    pub sha256: Option<String>,
    /// The file's size in bytes.
    pub size: Option<i64>,
    pub dry_run: bool,
    pub allow_partial: bool,
    /// Rows of the file that gave records or errors.
    pub rows_read: i64,
    /// Rows rejected with an error.
    pub rejected: i64,
    /// Warnings (their rows were kept).
    pub warnings: i64,
    /// Records inserted, over all kinds.
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// The same per record kind.
    pub by_kind: Vec<KindCounts>,
    /// Why nothing was applied, when the status is `FAILED` (or a dry run found errors).
    pub error: Option<String>,
    /// The first problems found (`import.max_reported_issues`); an applied run stores all
    /// of them as its `rowErrors`.
    pub issues: Vec<ImportIssue>,
    /// How many problems were found in all.
    pub issues_total: i64,
    pub duration_ms: i64,
    /// What linking firms by score did (null when the file had no firm to link).
    pub linkage: Option<LinkageCounts>,
}

/// Firm records without a strong-identifier match, scored by record linkage.
#[derive(Debug, Clone, SimpleObject)]
pub struct LinkageCounts {
    /// Records scored.
    pub scored: i64,
    /// Pairs compared.
    pub compared: i64,
    /// Records linked automatically by score.
    pub linked: i64,
    /// Records placed in the review queue (`matchReviews`).
    pub queued: i64,
    /// Time spent linking, in milliseconds.
    pub millis: i64,
}

#[ComplexObject]
impl ImportResult {
    /// The global id of the import run recorded (`ImportRun`), when the import was applied
    /// (a dry run or a failed import records none).
    async fn run_id(&self) -> Option<ID> {
        self.run_row_id.map(|id| ids::encode(import_run::TYPE, id))
    }

    /// The import run recorded, when the import was applied.
    async fn import_run(&self, ctx: &Context<'_>) -> Result<Option<ImportRun>> {
        match self.run_row_id {
            Some(id) => import_run::load_import_run(ctx, id).await,
            None => Ok(None),
        }
    }
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl From<ImportReport> for ImportResult {
    fn from(r: ImportReport) -> Self {
        let nonempty = |s: String| (!s.is_empty()).then_some(s);
        ImportResult {
            run_row_id: r.run_id,
            status: r.status.into(),
            importer: nonempty(r.importer),
            importer_version: nonempty(r.importer_version),
            source: r.source,
            file: r.file,
            sha256: r.sha256,
            size: r.size.map(int),
            dry_run: r.dry_run,
            allow_partial: r.allow_partial,
            rows_read: int(r.rows_read),
            rejected: int(r.rejected),
            warnings: int(r.warnings),
            inserted: int(r.totals.inserted),
            updated: int(r.totals.updated),
            unchanged: int(r.totals.unchanged),
            by_kind: r
                .by_kind
                .into_iter()
                .map(|(kind, c)| KindCounts {
                    kind,
                    inserted: int(c.inserted),
                    updated: int(c.updated),
                    unchanged: int(c.unchanged),
                })
                .collect(),
            error: r.error,
            issues: r
                .issues
                .into_iter()
                .map(|i| ImportIssue {
                    severity: i.severity.to_owned(),
                    file: i.file,
                    sheet: i.sheet,
                    row: i.row.map(int),
                    column: i.column,
                    field: i.field,
                    code: i.code,
                    message: i.message,
                })
                .collect(),
            issues_total: int(r.issues_total),
            duration_ms: int(r.duration_ms),
            linkage: r.linkage.map(|l| LinkageCounts {
                scored: int(l.scored),
                compared: int(l.compared),
                linked: int(l.linked),
                queued: int(l.queued),
                millis: int(l.millis),
            }),
        }
    }
}

/// The file name to import an upload under: the last component of the name the client
/// sent (browsers send the base name; a path is cut), without control characters;
/// `upload` when that leaves nothing.
fn upload_file_name(sent: &str) -> String {
    let base: String = sent
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let base = base.trim();
    if base.is_empty() || base == "." || base == ".." {
        "upload".to_owned()
    } else {
        base.to_owned()
    }
}

/// Saves an upload to a temporary file (removed when the returned value is dropped) that
/// keeps the extension of `file_name`.
async fn save_upload(
    upload: &UploadValue,
    file_name: &str,
) -> std::io::Result<tempfile::NamedTempFile> {
    let content = upload.try_clone()?;
    let suffix = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 16 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        let mut file = tempfile::Builder::new()
            .prefix("hub-upload-")
            .suffix(&suffix)
            .tempfile()?;
        std::io::copy(&mut content.into_read(), file.as_file_mut())?;
        file.as_file_mut().flush()?;
        Ok(file)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A failure of the hub itself while importing; the details go to the log only.
fn internal(message: &str) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", errors::INTERNAL_SERVER_ERROR))
}

/// Root fields that import files.
#[derive(Debug, Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Imports a file sent with the request (a multipart request: GraphQL multipart request
    /// spec), as `hub import` does: validated, matched to the records already imported,
    /// linked and applied in one transaction. Problems with the file or its rows come back
    /// in the result (status `FAILED`, `error`, `issues`), not as errors.
    ///
    /// Curators and admins only (`FORBIDDEN` otherwise); the audit trail records who
    /// imported.
    #[allow(clippy::too_many_arguments)]
    async fn import_file(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file: a CSV, TSV, XLSX, XLS or ODS spreadsheet, or any \
                          format an installed importer reads.")]
        file: FileUpload,
        #[graphql(desc = "The importer's id (see `hub importers list`); chosen by \
                          sniffing the file when not given.")]
        importer: Option<String>,
        #[graphql(
            desc = "A mapping file: its TOML text, as `hub import --mapping` reads \
                          it from a file."
        )]
        mapping: Option<String>,
        #[graphql(desc = "The source code to write under; else the mapping's `source`, \
                          else `file-` and the file name.")]
        source: Option<String>,
        #[graphql(default = false, desc = "Check and count everything, write nothing.")]
        dry_run: bool,
        #[graphql(
            default = false,
            desc = "Apply the valid rows even when others are rejected."
        )]
        allow_partial: bool,
    ) -> Result<ImportResult> {
        crate::graphql::require(ctx, Protected::RunImports, "importFile").await?;
        let setup = ctx
            .data_opt::<Arc<ImportSetup>>()
            .cloned()
            .ok_or_else(|| internal("This server is not set up to import files."))?;
        let principal_actor = crate::graphql::principal_of(ctx).actor;
        let upload = ctx
            .data_opt::<Uploads>()
            .and_then(|u| u.0.get(file.0))
            .ok_or_else(|| {
                bad_input(
                    "`file` names no file of this request: send the file as a part of a \
                     multipart request and map it to the variable in `map` (GraphQL \
                     multipart request spec).",
                )
            })?;
        let mapping = match mapping.filter(|m| !m.trim().is_empty()) {
            Some(text) => Some(toml::from_str::<serde_json::Value>(&text).map_err(|e| {
                bad_input(format!("`mapping` is not a valid mapping file (TOML): {e}"))
            })?),
            None => None,
        };
        let db = ctx.data::<DatabaseConnection>()?;
        let file_name = upload_file_name(&upload.filename);
        let saved = save_upload(upload, &file_name).await.map_err(|e| {
            tracing::error!(error = %e, "importFile: cannot save the upload to a temporary file");
            internal("The upload could not be saved to a temporary file; the server log has the details.")
        })?;
        let request = ImportRequest {
            path: saved.path().to_path_buf(),
            file_name: Some(file_name),
            importer,
            mapping,
            source,
            dry_run,
            allow_partial,
            triggered_by: Some("graphql".to_owned()),
            actor: Some(principal_actor.clone()),
        };
        let report = crate::import::run(db, &setup.env(), request, &|_| {})
            .await
            .map_err(|e| {
                tracing::error!(error = format!("{e:#}"), "importFile: the import failed");
                internal(
                    "The import failed in the hub (its database); nothing was applied. The \
                     server log has the details.",
                )
            })?;
        drop(saved);
        Ok(report.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_file_names_lose_their_paths() {
        for (sent, name) in [
            ("firms.csv", "firms.csv"),
            ("C:\\Users\\me\\firms.xlsx", "firms.xlsx"),
            ("../../etc/passwd", "passwd"),
            ("dir/", "upload"),
            ("", "upload"),
            ("..", "upload"),
            (" a\u{7}b.csv ", "ab.csv"),
        ] {
            assert_eq!(upload_file_name(sent), name, "{sent:?}");
        }
    }

    #[test]
    fn upload_values_parse_without_panicking() {
        let parse = |v: Value| <FileUpload as ScalarType>::parse(v).ok();
        assert_eq!(
            parse(Value::String("#__graphql_file__:3".into())),
            Some(FileUpload(3))
        );
        assert_eq!(parse(Value::String("#__graphql_file__:x".into())), None);
        assert_eq!(parse(Value::String("firms.csv".into())), None);
        assert_eq!(parse(Value::Null), None);
    }
}
