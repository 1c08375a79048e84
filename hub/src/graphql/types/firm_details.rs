//! What the hub holds about one organisation beyond its unified fields: identifiers, firm
//! observations per period and source, and the source records it was unified from.
//!
//! The `pub async fn` helpers load these lists for one parent, batched with the other
//! parents of the same level of the query (one statement per level, the per-parent limit
//! kept in SQL), so that `Firm`, `Organisation` and others expose them as thin fields.
//!
//! Protection: identifiers and source keys need [`Protected::FirmIdentifiers`]; head counts,
//! turnover, exports and certifications need [`Protected::FirmFigures`]; personal
//! identifiers (a proprietor's CNIC) are never read unless [`Protected::PersonalData`] is
//! allowed, and then only in their masked form, never the keyed hash. Phone numbers and
//! e-mail addresses of source records are never read.

use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use chrono::NaiveDate;
use hub_schema::domain::{IdentifierScheme, Period};
use hub_schema::entity::firm_observations;
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Query, SelectStatement, SimpleExpr};
use sea_orm::{FromQueryResult as _, QueryResult};

use super::firm::{FIRM_ROW, Firm, FirmFilter};
use super::organisation::Organisation;
use super::trade::{PeriodKind, PeriodKindFilter};
use crate::graphql::connection::{
    ChildQuery, FromRow, Listed, Listing, Nested, ParentOf, child_list, child_page, connection,
    load_row,
};
use crate::graphql::declare::{filter_input, order_input};
use crate::graphql::filter::{DateFilter, IntFilter, StringFilter};
use crate::graphql::list::{KeyKind, Page, Sort, SortKey, T, sort_of, table_select};
use crate::graphql::policy::Protected;
use crate::graphql::{NodeContext as _, ids};

/// The global-id type name of firm observations.
pub const OBSERVATION_TYPE: &str = "FirmObservation";
/// The global-id type name of source records.
pub const SOURCE_RECORD_TYPE: &str = "SourceRecord";

/// The most identifiers listed for one organisation (a safety bound: an organisation has a
/// handful, a few per source record).
pub const MAX_IDENTIFIERS: u64 = 500;

/// The code of the source with id `{a}.{column}`.
fn source_code_sql(a: &str, column: &str) -> String {
    format!("(SELECT sc.code FROM sources sc WHERE sc.id = {a}.{column})")
}

// ---- Identifiers ---------------------------------------------------------------------------

/// An identifier of an organisation, as (scheme, value), once, with the sources that gave
/// it.
#[derive(Debug, Clone, SimpleObject)]
pub struct Identifier {
    /// `PK-NTN`, `PK-SEC`, `PK-STRN`, `psic-punjab-unit`, `chamber-membership`, `IATI-ORG`,
    /// `source:<source id>`, or `PK-CNIC` (personal; masked, and only with personal-data
    /// access).
    pub scheme: String,
    /// The value in canonical form; for a personal identifier, its masked form.
    pub value: String,
    /// The code of the source of best priority that gave it.
    pub source: Option<String>,
    /// The codes of every source that gave it, best priority first.
    pub sources: Vec<String>,
}

impl FromRow for Identifier {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("organisation_identifiers", t, ids)
    }

    const ROWS_NEED: Option<Protected> = Some(Protected::FirmIdentifiers);

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        // `priority:code|priority:code…`, in no particular order.
        let listed: Option<String> = row.try_get_by("source_codes")?;
        let mut ranked: Vec<(i64, String)> = listed
            .unwrap_or_default()
            .split('|')
            .filter_map(|p| {
                let (priority, code) = p.split_once(':')?;
                Some((priority.parse().ok()?, code.to_owned()))
            })
            .collect();
        ranked.sort();
        let mut sources: Vec<String> = Vec::with_capacity(ranked.len());
        for (_, code) in ranked {
            if !sources.contains(&code) {
                sources.push(code);
            }
        }
        Ok(Identifier {
            scheme: row.try_get_by("scheme")?,
            value: row.try_get_by("shown_value")?,
            source: sources.first().cloned(),
            sources,
        })
    }
}

/// Over `organisation_identifiers i`: the condition of a personal identifier (a
/// proprietor's CNIC, stored as a keyed hash), and the value shown (the masked form of a
/// personal one).
fn personal_and_shown() -> (String, String) {
    let cnic = IdentifierScheme::Cnic.code();
    let personal = format!("(i.is_hashed OR i.scheme = '{cnic}')");
    let shown = format!("CASE WHEN {personal} THEN i.display ELSE i.value END");
    (personal, shown)
}

/// The identifiers of organisations (or of source records, `parent` being
/// `source_record_id`), one per `(scheme, value)` and parent with the sources that gave it,
/// as a list over `t`: `t.organisation_id` / `t.source_record_id` name the parent, `t.id`
/// the first row. Personal identifiers are left out unless `personal_allowed`, and then
/// show their masked form; the keyed hash is never read. Without `with_sources` (neither
/// `source` nor `sources` is selected) the sources are not joined and `source_codes` is
/// NULL.
fn identifier_select(parent: &str, personal_allowed: bool, with_sources: bool) -> SelectStatement {
    let (personal, shown) = personal_and_shown();
    let mut grouped = Query::select();
    grouped
        .expr_as(Expr::cust(format!("i.{parent}")), Alias::new(parent))
        .expr_as(Expr::cust("i.scheme"), Alias::new("scheme"))
        .expr_as(Expr::cust(shown.clone()), Alias::new("shown_value"))
        .expr_as(Expr::cust("MIN(i.id)"), Alias::new("id"))
        .from_as(Alias::new("organisation_identifiers"), Alias::new("i"))
        .and_where(Expr::cust(format!("i.{parent} IS NOT NULL")))
        .add_group_by([
            Expr::cust(format!("i.{parent}")),
            Expr::cust("i.scheme"),
            Expr::cust(shown),
        ]);
    if with_sources {
        grouped
            .expr_as(
                Expr::cust(
                    "string_agg(CAST(sc.priority AS TEXT) || ':' || sc.code, '|')".to_owned(),
                ),
                Alias::new("source_codes"),
            )
            .join_as(
                sea_orm::sea_query::JoinType::LeftJoin,
                Alias::new("organisation_source_records"),
                Alias::new("sr"),
                Expr::cust("sr.id = i.source_record_id"),
            )
            .join_as(
                sea_orm::sea_query::JoinType::LeftJoin,
                Alias::new("sources"),
                Alias::new("sc"),
                Expr::cust("sc.id = sr.source_id"),
            );
    } else {
        grouped.expr_as(Expr::cust("NULL"), Alias::new("source_codes"));
    }
    if !personal_allowed {
        grouped.and_where(Expr::cust(format!("NOT {personal}")));
    }
    let mut select = Query::select();
    select
        .expr(Expr::cust(format!("{T}.*")))
        .from_subquery(grouped, Alias::new(T));
    select
}

/// The page of identifiers of one parent: every one (a handful), by scheme then value.
async fn identifiers_of(
    ctx: &Context<'_>,
    parent: &str,
    id: i64,
    scheme: Option<&str>,
) -> Result<Vec<Identifier>> {
    if !ctx.allowed(Protected::FirmIdentifiers) {
        return Ok(Vec::new());
    }
    let (page, _) = child_page::<Identifier>(ctx, id, || {
        let look = ctx.look_ahead();
        let with_sources = look.field("source").exists() || look.field("sources").exists();
        let mut select =
            identifier_select(parent, ctx.allowed(Protected::PersonalData), with_sources);
        if let Some(scheme) = scheme {
            select.and_where(Expr::cust(format!("{T}.scheme")).eq(scheme.to_owned()));
        }
        Ok(ChildQuery {
            select,
            parent: ParentOf::Column(format!("{T}.{parent}")),
            sort: Sort::new(vec![
                SortKey::asc("scheme", KeyKind::Text).not_null(),
                SortKey::asc("shown_value", KeyKind::Text),
            ]),
            page: Page {
                limit: MAX_IDENTIFIERS,
                backward: false,
                after: None,
                before: None,
                // A list, not a connection: no cursors.
                cursors: false,
            },
            few_children: true,
        })
    })
    .await?;
    Ok(page.items.into_iter().map(|(_, n)| n).collect())
}

/// The `__identifiers` column of a firm list: its firms' identifiers read in the list's own
/// statement (a JSON array of `[scheme, value]`, by scheme then value), when every
/// `identifiers` field under the list's nodes asks for the same scheme (or none) and none
/// selects `source` or `sources`, and the caller may see identifiers; otherwise the column
/// is NULL and each firm's `identifiers` is loaded in the batch of its level.
///
/// A correlated subquery per firm, along the (organisation, scheme, value) index, costs
/// the database about what the batch costs, and saves the hub a statement and a loader
/// round per request: a 50-firm cluster page with `identifiers(scheme: "PK-NTN")` spent
/// 1.0 ms more of the hub's CPU than the same page without it (2.0 against 1.0 ms a
/// request, measured on SQLite with `tools/bench-graphql`'s data), most of it in the
/// loader and the per-firm futures, not the statement.
///
/// Rules kept as the loaded list keeps them: one entry per (scheme, value) as shown;
/// personal identifiers left out unless the caller may see personal data, then masked;
/// the caller's cluster scope; at most [`MAX_IDENTIFIERS`].
pub fn read_identifiers_with_firms(ctx: &Context<'_>) -> Result<SimpleExpr> {
    let Some(scheme) = identifiers_asked(ctx).filter(|_| ctx.allowed(Protected::FirmIdentifiers))
    else {
        return Ok(identifiers_not_read());
    };
    let postgres = ctx
        .data::<sea_orm::DatabaseConnection>()?
        .get_database_backend()
        == sea_orm::DbBackend::Postgres;
    let (personal, mut shown) = personal_and_shown();
    let mut conditions = vec![format!("i.organisation_id = {T}.id")];
    if !ctx.allowed(Protected::PersonalData) {
        conditions.push(format!("NOT {personal}"));
        // Only plain identifiers: the value as stored, grouped and ordered along the
        // (organisation, scheme, value) index without a sort per firm.
        shown = "i.value".to_owned();
    }
    if let Some(ids) = crate::graphql::connection::scope_ids(
        ctx.data_opt::<crate::graphql::principal::Principal>(),
    ) && let Some(scope) = Identifier::scope("i", &ids)
    {
        conditions.push(scope);
    }
    if let Some(scheme) = scheme {
        // A literal, quotes doubled: sea-query left the `?` of a bound value in this
        // select expression as it was on PostgreSQL (measured), not `$n`. A scheme with a
        // backslash (which a PostgreSQL server with `standard_conforming_strings = off`
        // reads as an escape) or a NUL byte goes to the batch, which binds it.
        if scheme.contains(['\\', '\0']) {
            return Ok(identifiers_not_read());
        }
        conditions.push(format!("i.scheme = '{}'", scheme.replace('\'', "''")));
    }
    // Byte order on both engines, as the loaded list sorts text; the aggregate's own order
    // is left to Rust (`identifiers_in_row`): an ordered aggregate needs SQLite 3.44.
    let (c, json) = if postgres {
        (" COLLATE \"C\"", "json_agg(json_build_array(x.s, x.v))")
    } else {
        ("", "json_group_array(json_array(x.s, x.v))")
    };
    let sql = format!(
        "COALESCE((SELECT CAST({json} AS TEXT) FROM (SELECT i.scheme AS s, {shown} AS v \
         FROM organisation_identifiers i WHERE {} GROUP BY i.scheme, {shown} \
         ORDER BY i.scheme{c}, {shown}{c} LIMIT {MAX_IDENTIFIERS}) x), '[]')",
        conditions.join(" AND ")
    );
    Ok(Expr::cust(sql))
}

/// The `__identifiers` column of a firm select that does not read them.
pub fn identifiers_not_read() -> SimpleExpr {
    Expr::cust("CAST(NULL AS TEXT)")
}

/// The column of [`read_identifiers_with_firms`], in every firm select.
pub const IDENTIFIERS_COLUMN: &str = "__identifiers";

/// The scheme every `identifiers` field under the list's nodes asks for (`Some(None)`: all
/// schemes), or `None` when they differ, one selects the sources, or none is asked.
fn identifiers_asked(ctx: &Context<'_>) -> Option<Option<String>> {
    let look = ctx.look_ahead();
    let mut asked: Option<Option<String>> = None;
    for field in [
        look.field("nodes").field("identifiers"),
        look.field("edges").field("node").field("identifiers"),
    ] {
        if field.field("source").exists() || field.field("sources").exists() {
            return None;
        }
        for selected in field.selection_fields() {
            let scheme = selected
                .arguments()
                .ok()?
                .into_iter()
                .find(|(name, _)| name.as_str() == "scheme")
                .and_then(|(_, v)| match v {
                    async_graphql::Value::String(s) => Some(s),
                    _ => None,
                });
            match &asked {
                None => asked = Some(scheme),
                Some(before) if *before == scheme => {}
                Some(_) => return None,
            }
        }
    }
    asked
}

/// The identifiers read by [`read_identifiers_with_firms`] from one firm's row: `None`
/// when the list did not read them.
pub fn identifiers_in_row(row: &QueryResult) -> Result<Option<Vec<Identifier>>, sea_orm::DbErr> {
    let Some(text) = row.try_get_by::<Option<String>, _>(IDENTIFIERS_COLUMN)? else {
        return Ok(None);
    };
    let mut pairs: Vec<(String, Option<String>)> = serde_json::from_str(&text)
        .map_err(|e| sea_orm::DbErr::Custom(format!("the identifiers read with a firm: {e}")))?;
    // By scheme, then value, in byte order (`COLLATE "C"`, SQLite's `BINARY`).
    pairs.sort_unstable();
    Ok(Some(
        pairs
            .into_iter()
            .filter_map(|(scheme, value)| {
                Some(Identifier {
                    scheme,
                    value: value?,
                    source: None,
                    sources: Vec::new(),
                })
            })
            .collect(),
    ))
}

/// The identifiers of the organisation `firm_id` (any kind of organisation), each once per
/// `(scheme, value)` with the sources that gave it, by scheme. Empty unless the caller may
/// see identifiers ([`Protected::FirmIdentifiers`]); personal identifiers (`is_hashed`, a
/// proprietor's CNIC) are left out unless the caller may see personal data, and then show
/// their masked form. The keyed hash is never read. Batched with the other parents of the
/// same level.
pub async fn firm_identifiers(
    ctx: &Context<'_>,
    firm_id: i64,
    scheme: Option<&str>,
) -> Result<Vec<Identifier>> {
    identifiers_of(ctx, "organisation_id", firm_id, scheme).await
}

// ---- Firm observations ---------------------------------------------------------------------

/// What one source said about a firm for one period: head counts, turnover, exports and
/// certifications. Every figure is null unless the caller may see firm-level figures.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct FirmObservation {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    #[graphql(skip)]
    pub organisation_id: i64,
    /// The code of the source that reported it.
    pub source: String,
    /// Calendar year, quarter or month, or Pakistan fiscal year (July to June).
    pub period_kind: PeriodKind,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The period as a label: `2023`, `2023-Q1`, `2023-03`, `FY2022-23`.
    pub period: Option<String>,
    #[graphql(skip)]
    pub employees_total_value: Option<i32>,
    #[graphql(skip)]
    pub employees_female_value: Option<i32>,
    #[graphql(skip)]
    pub turnover_pkr_value: Option<f64>,
    #[graphql(skip)]
    pub exports_usd_value: Option<f64>,
    #[graphql(skip)]
    pub certifications_value: Option<String>,
}

impl FromRow for FirmObservation {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("firm_observations", t, ids)
    }

    const ROWS_NEED: Option<Protected> = Some(Protected::FirmFigures);

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = firm_observations::Model::from_query_result(row, "")?;
        let period = m
            .period_kind
            .parse::<hub_schema::domain::PeriodKind>()
            .ok()
            .and_then(|k| Period::from_parts(k, m.period_start).ok())
            .map(|p| p.to_string());
        Ok(FirmObservation {
            change_seq: row.try_get_by("change_seq")?,
            row_id: m.id,
            organisation_id: m.organisation_id,
            source: row.try_get_by("source_code")?,
            period_kind: PeriodKind::from_stored(&m.period_kind)?,
            period_start: m.period_start,
            period_end: m.period_end,
            period,
            employees_total_value: m.employees_total,
            employees_female_value: m.employees_female,
            turnover_pkr_value: m.turnover_pkr,
            exports_usd_value: m.exports_usd,
            certifications_value: m.certifications,
        })
    }
}

#[ComplexObject]
impl FirmObservation {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(OBSERVATION_TYPE, self.row_id)
    }

    /// The firm observed.
    async fn firm(&self, ctx: &Context<'_>) -> Result<Option<Firm>> {
        load_row::<Firm>(ctx, Some(self.organisation_id)).await
    }

    /// Employees in total (firm-level figure).
    async fn employees_total(&self, ctx: &Context<'_>) -> Option<i32> {
        ctx.reveal(Protected::FirmFigures, &self.employees_total_value)
    }

    /// Female employees (firm-level figure).
    async fn employees_female(&self, ctx: &Context<'_>) -> Option<i32> {
        ctx.reveal(Protected::FirmFigures, &self.employees_female_value)
    }

    /// Turnover in Pakistani rupees (firm-level figure).
    async fn turnover_pkr(&self, ctx: &Context<'_>) -> Option<f64> {
        ctx.reveal(Protected::FirmFigures, &self.turnover_pkr_value)
    }

    /// Exports in US dollars (firm-level figure).
    async fn exports_usd(&self, ctx: &Context<'_>) -> Option<f64> {
        ctx.reveal(Protected::FirmFigures, &self.exports_usd_value)
    }

    /// Certifications held, as the source wrote them (firm-level figure).
    async fn certifications(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::FirmFigures, &self.certifications_value)
    }
}

impl Listed for FirmObservation {
    fn select() -> SelectStatement {
        observation_select()
    }
}

impl Listing for FirmObservation {
    type Filter = FirmObservationFilter;
    type Order = FirmObservationOrder;

    fn default_order() -> Vec<SortKey> {
        vec![SortKey::asc("period_start", KeyKind::Date).not_null()]
    }
}

connection!(
    FirmObservationConnection,
    FirmObservationEdge,
    FirmObservation,
    "A page of firm observations."
);

/// `SELECT t.*, source code FROM firm_observations t`, the base of every observation list.
pub fn observation_select() -> SelectStatement {
    let mut q = table_select("firm_observations");
    q.expr_as(
        Expr::cust(source_code_sql(T, "source_id")),
        Alias::new("source_code"),
    );
    q
}

order_input! {
    /// Fields firm observations can be ordered by.
    pub enum FirmObservationOrderField;
    /// One key of a firm-observation ordering.
    pub struct FirmObservationOrder {
        PeriodStart => (col("period_start"), Date, NotNull),
        Id => (col("id"), Int, NotNull),
    }
}

/// The sort of an observation list: the requested keys in their order, by period start
/// when none.
pub fn observation_sort(order: Option<&[FirmObservationOrder]>) -> Sort {
    sort_of(
        order,
        vec![SortKey::asc("period_start", KeyKind::Date).not_null()],
    )
}

filter_input! {
    /// Filter on firm observations.
    pub struct FirmObservationFilter {
        period_kind: PeriodKindFilter => On::Column("period_kind"),
        period_start: DateFilter => On::Column("period_start"),
        /// The year the period starts in: the calendar year, or the first year of a fiscal
        /// year (`FY2017-18` is 2017).
        year: IntFilter => On::YearOf("period_start"),
        /// The code of the source.
        source: StringFilter => On::Lookup {
            table: "sources",
            fk: "source_id",
            column: "code",
            alias: "fos",
        },
        /// Observations of a firm matching this filter.
        firm: FirmFilter => On::BelongsTo {
            table: "organisations",
            fk: "organisation_id",
            alias: "fof",
            extra: FIRM_ROW,
        },
    }
}

/// The observations of the firm (organisation) `firm_id`, by period start unless ordered
/// otherwise, batched with the other parents of the same level.
pub async fn firm_observations(
    ctx: &Context<'_>,
    firm_id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<FirmObservationFilter>,
    order_by: Option<Vec<FirmObservationOrder>>,
) -> Result<FirmObservationConnection> {
    let (page, total) = child_list(ctx, firm_id, first, after, || {
        let mut select = observation_select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = observation_sort(order_by.as_deref());
        Ok(Nested::new(select, format!("{T}.organisation_id"), sort))
    })
    .await?;
    Ok(FirmObservationConnection { page, total })
}

// ---- Source records ------------------------------------------------------------------------

/// An organisation as one source described it, as the source wrote it: the layer under the
/// unified organisation, so that every source's value stays visible, with the import that
/// last wrote it and its place in the file. Contacts (phone, e-mail) are personal data.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct SourceRecord {
    #[graphql(skip)]
    pub row_id: i64,
    #[graphql(skip)]
    pub organisation_id: Option<i64>,
    /// The code of the source.
    pub source: String,
    /// The name as the source wrote it.
    pub name: String,
    pub legal_form: Option<String>,
    /// The district as the source wrote it.
    pub district: Option<String>,
    /// The tehsil as the source wrote it.
    pub tehsil: Option<String>,
    /// Industry code as the source gave it.
    pub industry_code: Option<String>,
    pub founded_year: Option<i32>,
    pub registered_on: Option<NaiveDate>,
    pub status: Option<String>,
    /// When the source said it.
    pub observed_on: Option<NaiveDate>,
    /// The postal address as the source wrote it.
    pub address: Option<String>,
    /// The website as the source gave it.
    pub website: Option<String>,
    /// Where in the file the record was read, `file!sheet!R12` (of the import that last
    /// wrote it).
    pub reference: Option<String>,
    /// Everything else the source said, under the source's own names (never personal
    /// values).
    pub attributes: Vec<SourceAttribute>,
    #[graphql(skip)]
    pub source_key_value: String,
    #[graphql(skip)]
    pub employees_total_value: Option<i32>,
    #[graphql(skip)]
    pub employees_female_value: Option<i32>,
    #[graphql(skip)]
    pub phone_value: Option<String>,
    #[graphql(skip)]
    pub email_value: Option<String>,
    #[graphql(skip)]
    pub import_run_id: Option<i64>,
}

/// One of the further things a source said of a record, under its own name.
#[derive(Debug, Clone, SimpleObject)]
pub struct SourceAttribute {
    pub name: String,
    /// The value as text (numbers and booleans written out, lists and objects as JSON).
    pub value: String,
}

/// The attributes of a record as stored (a JSON object), by name.
fn attributes(json: Option<serde_json::Value>) -> Vec<SourceAttribute> {
    let Some(serde_json::Value::Object(map)) = json else {
        return Vec::new();
    };
    let mut out: Vec<SourceAttribute> = map
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(name, v)| SourceAttribute {
            name,
            value: match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            },
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

impl FromRow for SourceRecord {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("organisation_source_records", t, ids)
    }

    const ROWS_NEED: Option<Protected> = Some(Protected::FirmIdentifiers);

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        Ok(SourceRecord {
            row_id: row.try_get_by("id")?,
            organisation_id: row.try_get_by("organisation_id")?,
            source: row.try_get_by("source_code")?,
            name: row.try_get_by("name")?,
            legal_form: row.try_get_by("legal_form")?,
            district: row.try_get_by("district_text")?,
            tehsil: row.try_get_by("tehsil_text")?,
            industry_code: row.try_get_by("industry_code")?,
            founded_year: row.try_get_by("founded_year")?,
            registered_on: row.try_get_by("registered_on")?,
            status: row.try_get_by("status")?,
            observed_on: row.try_get_by("observed_on")?,
            address: row.try_get_by("address")?,
            website: row.try_get_by("website")?,
            reference: row.try_get_by("source_ref")?,
            attributes: attributes(row.try_get_by("attributes")?),
            source_key_value: row.try_get_by("source_key")?,
            employees_total_value: row.try_get_by("employees_total")?,
            employees_female_value: row.try_get_by("employees_female")?,
            phone_value: row.try_get_by("phone")?,
            email_value: row.try_get_by("email")?,
            import_run_id: row.try_get_by("import_run_id")?,
        })
    }
}

#[ComplexObject]
impl SourceRecord {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(SOURCE_RECORD_TYPE, self.row_id)
    }

    /// The record's key within its source (a registry unit number, a survey id): an
    /// identifier, null unless the caller may see identifiers.
    async fn source_key(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.allowed(Protected::FirmIdentifiers)
            .then(|| self.source_key_value.clone())
    }

    /// Employees in total, as the source said (firm-level figure).
    async fn employees_total(&self, ctx: &Context<'_>) -> Option<i32> {
        ctx.reveal(Protected::FirmFigures, &self.employees_total_value)
    }

    /// Female employees, as the source said (firm-level figure).
    async fn employees_female(&self, ctx: &Context<'_>) -> Option<i32> {
        ctx.reveal(Protected::FirmFigures, &self.employees_female_value)
    }

    /// Contact phone as the source gave it: personal data.
    async fn phone(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::PersonalData, &self.phone_value)
    }

    /// Contact e-mail as the source gave it: personal data.
    async fn email(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::PersonalData, &self.email_value)
    }

    /// The identifiers this record gave (once each): empty unless the caller may see
    /// firm identifiers.
    async fn identifiers(
        &self,
        ctx: &Context<'_>,
        scheme: Option<String>,
    ) -> Result<Vec<Identifier>> {
        identifiers_of(ctx, "source_record_id", self.row_id, scheme.as_deref()).await
    }

    /// The import run that last wrote the record; null unless the caller may see import
    /// runs.
    async fn import_run(&self, ctx: &Context<'_>) -> Result<Option<super::import_run::ImportRun>> {
        if !ctx.allowed(Protected::ImportRuns) {
            return Ok(None);
        }
        load_row::<super::import_run::ImportRun>(ctx, self.import_run_id).await
    }

    /// How the record came to its firm: every link it has had (by strong identifier, by
    /// score with the evidence, by a curator), oldest first; empty for roles below
    /// analyst.
    async fn links(&self, ctx: &Context<'_>) -> Result<Vec<super::curation::RecordLink>> {
        super::curation::links(ctx, self.row_id).await
    }

    /// The unified organisation the record is linked to.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        load_row::<Organisation>(ctx, self.organisation_id).await
    }
}

impl Listed for SourceRecord {
    fn select() -> SelectStatement {
        source_record_select()
    }
}

connection!(
    SourceRecordConnection,
    SourceRecordEdge,
    SourceRecord,
    "A page of source records."
);

/// The columns of `organisation_source_records t` that the API shows (phone and e-mail only
/// to callers who may see personal data), with the source code: the base of every
/// source-record list.
pub fn source_record_select() -> SelectStatement {
    let mut q = Query::select();
    for c in [
        "id",
        "source_key",
        "organisation_id",
        "name",
        "legal_form",
        "district_text",
        "tehsil_text",
        "industry_code",
        "founded_year",
        "employees_total",
        "employees_female",
        "registered_on",
        "status",
        "observed_on",
        "address",
        "website",
        "phone",
        "email",
        "attributes",
        "source_ref",
        "import_run_id",
    ] {
        q.expr_as(Expr::cust(format!("{T}.{c}")), Alias::new(c));
    }
    q.expr_as(
        Expr::cust(source_code_sql(T, "source_id")),
        Alias::new("source_code"),
    )
    .from_as(Alias::new("organisation_source_records"), Alias::new(T));
    q
}

/// The source records of the organisation `firm_id`, best source first (by source
/// priority), batched with the other parents of the same level.
pub async fn firm_source_records(
    ctx: &Context<'_>,
    firm_id: i64,
    first: Option<i32>,
    after: Option<String>,
) -> Result<SourceRecordConnection> {
    let (page, total) = child_list(ctx, firm_id, first, after, || {
        let sort = Sort::new(vec![SortKey {
            sql: format!(
                "CAST((SELECT sp.priority FROM sources sp WHERE sp.id = {T}.source_id) AS BIGINT)"
            ),
            kind: KeyKind::Int,
            descending: false,
            nullable: true,
        }]);
        Ok(Nested::new(
            source_record_select(),
            format!("{T}.organisation_id"),
            sort,
        ))
    })
    .await?;
    Ok(SourceRecordConnection { page, total })
}
