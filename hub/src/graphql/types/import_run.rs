//! Import runs and their per-row errors: who imported what, when, with what result.
//!
//! Both need [`Protected::ImportRuns`]: `importRuns` (and `node` on an import-run id) is
//! refused with `extensions.code = "FORBIDDEN"` when the caller may not see them.

use async_graphql::{
    ComplexObject, Context, Enum, Error, ErrorExtensions as _, ID, InputObject, Object, Result,
    SimpleObject,
};
use chrono::{DateTime, Utc};
use hub_schema::entity::{import_row_errors, import_runs};
use sea_orm::sea_query::{Condition, SelectStatement};
use sea_orm::{DatabaseConnection, DbBackend, FromQueryResult as _, QueryResult};

use crate::graphql::connection::{
    FromRow, Listed, Nested, child_list, connection, load_row, root_list,
};
use crate::graphql::filter::{
    BooleanFilter, DateFilter, OrderDirection, StringFilter, compose, field,
};
use crate::graphql::list::{
    KeyKind, OrderInput, PageArgs, Sort, SortKey, T, sort_of, table_select,
};
use crate::graphql::policy::Protected;
use crate::graphql::{NodeContext as _, ids};

/// The global-id type name of import runs.
pub const TYPE: &str = "ImportRun";

/// A refusal with `extensions.code = "FORBIDDEN"`.
pub fn forbidden(message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", "FORBIDDEN"))
}

/// Refuses callers who may not see import runs.
fn check_allowed(ctx: &Context<'_>) -> Result<()> {
    if ctx.allowed(Protected::ImportRuns) {
        Ok(())
    } else {
        Err(forbidden(
            "Import runs are visible to analysts, curators and administrators only.",
        ))
    }
}

/// One import of one file (or one demo file) by one importer.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct ImportRun {
    #[graphql(skip)]
    pub row_id: i64,
    /// The importer's id, e.g. `spreadsheet` or `programme`.
    pub importer: String,
    pub importer_version: String,
    pub file_name: Option<String>,
    /// SHA-256 of the input, hex.
    pub file_sha256: Option<String>,
    /// `running`, `applied`, `partial`, `failed` or `dry_run`.
    pub status: String,
    pub dry_run: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub rows_read: i64,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub warnings: i64,
    /// Why the run failed, when it did.
    pub error_message: Option<String>,
    #[graphql(skip)]
    pub source_id: Option<i64>,
}

impl FromRow for ImportRun {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("import_runs", t, ids)
    }

    const ROWS_NEED: Option<Protected> = Some(Protected::ImportRuns);

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = import_runs::Model::from_query_result(row, "")?;
        Ok(ImportRun {
            row_id: m.id,
            importer: m.importer_id,
            importer_version: m.importer_version,
            file_name: m.file_name,
            file_sha256: m.file_sha256,
            status: m.status,
            dry_run: m.dry_run,
            started_at: m.started_at.with_timezone(&Utc),
            finished_at: m.finished_at.map(|t| t.with_timezone(&Utc)),
            rows_read: m.rows_read,
            inserted: m.inserted,
            updated: m.updated,
            unchanged: m.unchanged,
            rejected: m.rejected,
            warnings: m.warnings,
            error_message: m.error_message,
            source_id: m.source_id,
        })
    }
}

#[ComplexObject]
impl ImportRun {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// The source the run wrote under (null for runs of the hub itself, and for runs
    /// recorded before runs named their source).
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<super::source::Source>> {
        load_row::<super::source::Source>(ctx, self.source_id).await
    }

    /// The run's row errors and warnings, by row. They name file, sheet, row, column and
    /// field, never a personal value.
    async fn row_errors(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<RowErrorConnection> {
        check_allowed(ctx)?;
        let (page, total) = child_list(ctx, self.row_id, first, after, || {
            Ok(Nested::new(
                table_select("import_row_errors"),
                format!("{T}.import_run_id"),
                Sort::new(vec![SortKey::asc("row_number", KeyKind::Int)]),
            ))
        })
        .await?;
        Ok(RowErrorConnection { page, total })
    }
}

impl Listed for ImportRun {
    fn select() -> SelectStatement {
        import_run_select()
    }
}

connection!(
    ImportRunConnection,
    ImportRunEdge,
    ImportRun,
    "A page of import runs."
);

/// `SELECT t.* FROM import_runs t`, the base of every import-run list.
pub fn import_run_select() -> SelectStatement {
    table_select("import_runs")
}

/// The import run `id` (for `node`): refused unless the caller may see import runs.
pub async fn load_import_run(ctx: &Context<'_>, id: i64) -> Result<Option<ImportRun>> {
    check_allowed(ctx)?;
    load_row::<ImportRun>(ctx, Some(id)).await
}

/// One row error or warning of an import run.
#[derive(Debug, Clone, SimpleObject)]
pub struct RowError {
    /// `error` (the row was rejected) or `warning` (the row was kept).
    pub severity: String,
    pub file: Option<String>,
    pub sheet: Option<String>,
    /// The row number in the file or sheet.
    pub row: Option<i64>,
    /// The column as the file names it.
    pub column: Option<String>,
    /// The field of the unified model.
    pub field: Option<String>,
    /// A stable code, e.g. `unknown_district`.
    pub code: String,
    pub message: String,
}

impl FromRow for RowError {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("import_row_errors", t, ids)
    }

    const ROWS_NEED: Option<Protected> = Some(Protected::ImportRuns);

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = import_row_errors::Model::from_query_result(row, "")?;
        Ok(RowError {
            severity: m.severity,
            file: m.file,
            sheet: m.sheet,
            row: m.row_number,
            column: m.column_name,
            field: m.field,
            code: m.code,
            message: m.message,
        })
    }
}

connection!(
    RowErrorConnection,
    RowErrorEdge,
    RowError,
    "A page of row errors."
);

/// The start of a run in whole seconds since 1970 (UTC), on each engine: a sort key that
/// cursors can carry.
fn started_at_epoch_sql(backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => {
            format!("CAST(FLOOR(EXTRACT(EPOCH FROM {T}.started_at)) AS BIGINT)")
        }
        _ => format!("CAST(strftime('%s', {T}.started_at) AS INTEGER)"),
    }
}

/// The (UTC) date a run started, on each engine.
fn started_on_sql(a: &str, backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(({a}.started_at AT TIME ZONE 'UTC') AS DATE)"),
        _ => format!("date({a}.started_at)"),
    }
}

/// Fields import runs can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ImportRunOrderField {
    StartedAt,
    Id,
}

/// One key of an import-run ordering.
#[derive(Debug, Clone, Copy, InputObject)]
pub struct ImportRunOrder {
    pub field: ImportRunOrderField,
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

/// An import-run order key with the engine its SQL is written for (the start time reads
/// differently on each).
struct ImportRunKey<'a>(&'a ImportRunOrder, DbBackend);

impl OrderInput for ImportRunKey<'_> {
    fn key(&self) -> (String, KeyKind) {
        match self.0.field {
            ImportRunOrderField::StartedAt => (started_at_epoch_sql(self.1), KeyKind::Int),
            ImportRunOrderField::Id => (format!("{T}.id"), KeyKind::Int),
        }
    }

    fn direction(&self) -> OrderDirection {
        self.0.direction
    }
}

/// The sort of an import-run list: the requested keys in their order, newest first when
/// none.
pub fn import_run_sort(order: Option<&[ImportRunOrder]>, backend: DbBackend) -> Sort {
    let keys: Option<Vec<ImportRunKey>> =
        order.map(|o| o.iter().map(|o| ImportRunKey(o, backend)).collect());
    let newest_first = SortKey {
        sql: started_at_epoch_sql(backend),
        kind: KeyKind::Int,
        descending: true,
        nullable: true,
    };
    sort_of(keys.as_deref(), vec![newest_first])
}

/// Filter on import runs.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ImportRunFilter {
    /// `running`, `applied`, `partial`, `failed` or `dry_run`.
    pub status: Option<StringFilter>,
    /// The importer's id.
    pub importer: Option<StringFilter>,
    /// The (UTC) date the run started.
    pub started_at: Option<DateFilter>,
    pub dry_run: Option<BooleanFilter>,
    pub and: Option<Vec<ImportRunFilter>>,
    pub or: Option<Vec<ImportRunFilter>>,
    pub not: Option<Box<ImportRunFilter>>,
}

impl ImportRunFilter {
    /// The condition on the import-run table aliased `a`, in the SQL of `backend`.
    pub fn condition(&self, a: &str, backend: DbBackend) -> Result<Condition, Error> {
        let mut c = Condition::all();
        c = field(c, &self.status, &format!("{a}.status"))?;
        c = field(c, &self.importer, &format!("{a}.importer_id"))?;
        c = field(c, &self.started_at, &started_on_sql(a, backend))?;
        c = field(c, &self.dry_run, &format!("{a}.dry_run"))?;
        compose(c, &self.and, &self.or, &self.not, |f| {
            f.condition(a, backend)
        })
    }
}

/// Root fields of import runs.
#[derive(Debug, Default)]
pub struct ImportRunQuery;

#[Object]
impl ImportRunQuery {
    /// Import runs, newest first unless ordered otherwise. Refused (`FORBIDDEN`) unless the
    /// caller may see import runs; the other root fields of the request still answer.
    #[allow(clippy::too_many_arguments)]
    async fn import_runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ImportRunFilter>,
        order_by: Option<Vec<ImportRunOrder>>,
    ) -> Result<Option<ImportRunConnection>> {
        check_allowed(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let backend = db.get_database_backend();
        let mut select = import_run_select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, backend)?);
        }
        let sort = import_run_sort(order_by.as_deref(), backend);
        let args = PageArgs {
            first,
            after,
            last,
            before,
            // Import runs take no change number of their own.
            changed_since: None,
        };
        let (page, total) = root_list(ctx, select, sort, args).await?;
        Ok(Some(ImportRunConnection { page, total }))
    }
}
