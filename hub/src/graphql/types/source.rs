//! Sources: the registries, surveys, statistics publishers and files the hub's data comes
//! from, with their survivorship priority and their last import.

use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::QueryResult;
use sea_orm::sea_query::{Alias, Expr, SelectStatement};

use super::import_run::ImportRun;
use crate::graphql::connection::{FromRow, Listed, Listing, connection, load_row, root_lists};
use crate::graphql::declare::{filter_input, order_input};
use crate::graphql::filter::{IdFilter, IntFilter, StringFilter};
use crate::graphql::list::{KeyKind, SortKey, T, table_select};
use crate::graphql::policy::Protected;
use crate::graphql::{NodeContext as _, ids};

/// The global-id type name of sources.
pub const TYPE: &str = "Source";

/// A source of data: a registry, a survey, a statistics publisher, an attendance sheet, a
/// plugin's directory. Every record, observation and flow belongs to one.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Source {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    /// The source's code, e.g. `psic-punjab`, `cdi-survey-2023`, `un-comtrade`.
    pub code: String,
    pub name: String,
    /// `registry`, `survey`, `attendance`, `trade_statistics`, `spreadsheet`, …
    pub kind: String,
    pub publisher: Option<String>,
    pub description: Option<String>,
    /// Survivorship priority: where two sources give a firm's name, address or identifier,
    /// the lower number wins (figures go by their period first; see `Firm.fieldSources`).
    pub priority: i32,
    /// When the source's last import that wrote anything finished.
    pub last_imported_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub last_run_id: Option<i64>,
}

impl FromRow for Source {
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let finished: Option<chrono::DateTime<chrono::FixedOffset>> =
            row.try_get_by("last_finished_at")?;
        Ok(Source {
            change_seq: row.try_get_by("change_seq")?,
            row_id: row.try_get_by("id")?,
            code: row.try_get_by("code")?,
            name: row.try_get_by("name")?,
            kind: row.try_get_by("kind")?,
            publisher: row.try_get_by("publisher")?,
            description: row.try_get_by("description")?,
            priority: row.try_get_by("priority")?,
            last_imported_at: finished.map(|t| t.with_timezone(&Utc)),
            last_run_id: row.try_get_by("last_run_id")?,
        })
    }
}

#[ComplexObject]
impl Source {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// The source's last import that wrote anything (applied, or partly applied); null
    /// unless the caller may see import runs.
    async fn last_import(&self, ctx: &Context<'_>) -> Result<Option<ImportRun>> {
        if !ctx.allowed(Protected::ImportRuns) {
            return Ok(None);
        }
        load_row::<ImportRun>(ctx, self.last_run_id).await
    }
}

connection!(SourceConnection, SourceEdge, Source, "A page of sources.");

/// The last run of the source aliased `a` that wrote something.
fn last_run_sql(a: &str) -> String {
    format!(
        "(SELECT MAX(lr.id) FROM import_runs lr WHERE lr.source_id = {a}.id \
         AND lr.status IN ('applied', 'partial'))"
    )
}

/// `SELECT t.*, last run FROM sources t`.
pub fn source_select() -> SelectStatement {
    let mut q = table_select("sources");
    q.expr_as(Expr::cust(last_run_sql(T)), Alias::new("last_run_id"))
        .expr_as(
            Expr::cust(format!(
                "(SELECT lf.finished_at FROM import_runs lf WHERE lf.id = {})",
                last_run_sql(T)
            )),
            Alias::new("last_finished_at"),
        );
    q
}

impl Listed for Source {
    fn select() -> SelectStatement {
        source_select()
    }
}

impl Listing for Source {
    type Filter = SourceFilter;
    type Order = SourceOrder;

    fn default_order() -> Vec<SortKey> {
        vec![
            SortKey::asc("priority", KeyKind::Int).not_null(),
            SortKey::asc("code", KeyKind::Text).not_null(),
        ]
    }
}

filter_input! {
    /// Filter on sources.
    pub struct SourceFilter {
        id: IdFilter => On::Id(TYPE),
        code: StringFilter => On::Column("code"),
        kind: StringFilter => On::Column("kind"),
        priority: IntFilter => On::Column("priority"),
    }
}

order_input! {
    /// Fields sources can be ordered by.
    pub enum SourceOrderField;
    /// One key of a source ordering.
    pub struct SourceOrder {
        Priority => (col("priority"), Int),
        Code => (col("code"), Text, NotNull),
        Id => (col("id"), Int, NotNull),
    }
}

root_lists! {
    /// Root fields of sources.
    pub struct SourceQuery {
        /// The sources data came from, by survivorship priority (best first) unless ordered
        /// otherwise.
        sources: Source => SourceConnection,
    }
}
