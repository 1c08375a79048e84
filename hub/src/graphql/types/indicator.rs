//! Indicators of the results framework and their values (baseline, target, actual per
//! period, scoped to a firm, a cluster, a programme or an area).

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Result, SimpleObject};
use chrono::NaiveDate;
use hub_schema::entity::{indicator_values, indicators};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait as _, JoinType, SelectStatement};
use sea_orm::{DatabaseConnection, FromQueryResult as _, QueryResult};

use super::cluster::{Cluster, ClusterFilter};
use super::firm::{FIRM_ROW, Firm, FirmFilter};
use super::trade::{PeriodKind, PeriodKindFilter, period_label};
use crate::graphql::connection::{
    FromRow, Listed, Listing, Nested, child_list, connection, load_row, one, root_list,
};
use crate::graphql::declare::{enum_filter_field, filter_input, order_input};
use crate::graphql::filter::{
    BooleanFilter, DateFilter, IdFilter, IntFilter, StringFilter, enum_condition,
};
use crate::graphql::list::{KeyKind, PageArgs, Sort, SortKey, T, internal, sort_of, table_select};
use crate::graphql::policy::Protected;
use crate::graphql::{NodeContext as _, ids};

/// The global-id type name of indicators.
pub const TYPE: &str = "Indicator";
/// The global-id type name of indicator values.
pub const VALUE_TYPE: &str = "IndicatorValue";

/// Aliases of the tables joined to `indicator_values t` in [`indicator_value_select`].
const SRC: &str = "iv_src";
const IND: &str = "iv_ind";

// ---- Indicators ------------------------------------------------------------------------

/// An indicator of a results framework, e.g. people trained or exports; `DLI-…` codes are
/// the World Bank's disbursement-linked indicators.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Indicator {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub description: Option<String>,
    /// The breakdown dimensions values may carry, e.g. `sex`.
    pub breakdowns: Vec<String>,
    /// Whether the indicator is disbursement-linked (World Bank Program-for-Results).
    pub is_disbursement_linked: bool,
    /// The code of the programme the indicator belongs to.
    pub programme: Option<String>,
    /// The IATI reference of the indicator, when published.
    pub iati_ref: Option<String>,
}

impl FromRow for Indicator {
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = indicators::Model::from_query_result(row, "")?;
        Ok(Indicator {
            change_seq: row.try_get_by("change_seq")?,
            row_id: m.id,
            code: m.code,
            name: m.name,
            unit: m.unit,
            description: m.description,
            breakdowns: m
                .breakdowns
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            is_disbursement_linked: m.is_disbursement_linked,
            programme: row.try_get_by("programme_code")?,
            iati_ref: m.iati_ref,
        })
    }
}

#[ComplexObject]
impl Indicator {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// The indicator's values, by period unless ordered otherwise.
    async fn values(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<IndicatorValueFilter>,
        order_by: Option<Vec<IndicatorValueOrder>>,
    ) -> Result<IndicatorValueConnection> {
        child_values(
            ctx,
            "indicator_id",
            self.row_id,
            first,
            after,
            filter,
            order_by,
        )
        .await
    }
}

impl Listed for Indicator {
    fn select() -> SelectStatement {
        indicator_select()
    }
}

connection!(
    IndicatorConnection,
    IndicatorEdge,
    Indicator,
    "A page of indicators."
);

fn programme_code_sql(a: &str) -> String {
    format!("(SELECT pr.code FROM programmes pr WHERE pr.id = {a}.programme_id)")
}

/// `SELECT t.*, programme code FROM indicators t`, the base of every indicator list.
pub fn indicator_select() -> SelectStatement {
    let mut q = table_select("indicators");
    q.expr_as(
        Expr::cust(programme_code_sql(T)),
        Alias::new("programme_code"),
    );
    q
}

order_input! {
    /// Fields indicators can be ordered by.
    pub enum IndicatorOrderField;
    /// One key of an indicator ordering.
    pub struct IndicatorOrder {
        Code => (col("code"), Text, NotNull),
        Name => (col("name"), Text, NotNull),
        Id => (col("id"), Int, NotNull),
    }
}

/// The sort of an indicator list, by code when none is requested.
pub fn indicator_sort(order: Option<&[IndicatorOrder]>) -> Sort {
    sort_of(order, vec![SortKey::asc("code", KeyKind::Text).not_null()])
}

filter_input! {
    /// Filter on indicators.
    pub struct IndicatorFilter {
        id: IdFilter => On::Id(TYPE),
        code: StringFilter => On::Column("code"),
        name: StringFilter => On::Column("name"),
        unit: StringFilter => On::Column("unit"),
        is_disbursement_linked: BooleanFilter => On::Column("is_disbursement_linked"),
        /// The programme's code.
        programme: StringFilter => On::Lookup {
            table: "programmes",
            fk: "programme_id",
            column: "code",
            alias: "ipr",
        },
    }
}

// ---- Indicator values ------------------------------------------------------------------

/// Whether a value is the baseline, a target or the achieved value of its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum IndicatorValueType {
    Baseline,
    Target,
    Actual,
}

impl IndicatorValueType {
    /// The stored code (`baseline`, `target`, `actual`).
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorValueType::Baseline => "baseline",
            IndicatorValueType::Target => "target",
            IndicatorValueType::Actual => "actual",
        }
    }

    /// Reads the stored code.
    pub fn from_stored(s: &str) -> Result<Self, sea_orm::DbErr> {
        match s {
            "baseline" => Ok(IndicatorValueType::Baseline),
            "target" => Ok(IndicatorValueType::Target),
            "actual" => Ok(IndicatorValueType::Actual),
            other => Err(sea_orm::DbErr::Custom(format!(
                "unknown indicator value type {other:?} in the database"
            ))),
        }
    }
}

/// Filter on the type of an indicator value.
#[derive(Debug, Clone, Default, InputObject)]
pub struct IndicatorValueTypeFilter {
    pub eq: Option<IndicatorValueType>,
    #[graphql(name = "in")]
    pub r#in: Option<Vec<IndicatorValueType>>,
    pub not_in: Option<Vec<IndicatorValueType>>,
}

enum_filter_field!(IndicatorValueTypeFilter { eq, r#in, not_in });

impl IndicatorValueTypeFilter {
    /// The condition on the stored `value_type` column `column`.
    pub fn condition(&self, column: &str) -> Condition {
        enum_condition(
            column,
            self.eq.map(IndicatorValueType::as_str),
            None,
            self.r#in
                .as_ref()
                .map(|v| v.iter().map(|t| t.as_str()).collect()),
            self.not_in
                .as_ref()
                .map(|v| v.iter().map(|t| t.as_str()).collect()),
        )
    }
}

/// One value of an indicator: its scope (a firm, a cluster, a programme or an area), its
/// period, whether it is the baseline, a target or the actual value, and its breakdown.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct IndicatorValue {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    #[graphql(skip)]
    pub indicator_id: i64,
    #[graphql(skip)]
    pub organisation_id: Option<i64>,
    #[graphql(skip)]
    pub cluster_id: Option<i64>,
    #[graphql(skip)]
    pub value_raw: f64,
    #[graphql(skip)]
    pub note_raw: Option<String>,
    /// `firm`, `cluster`, `programme` or `area`.
    pub scope: String,
    /// The code of the programme, for programme-level values.
    pub programme: Option<String>,
    /// The name of the admin area, for area-level values.
    pub area: Option<String>,
    pub period_kind: PeriodKind,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The canonical label: `2017`, `2017-Q1`, `2017-03`, `FY2017-18`.
    pub period: String,
    pub value_type: IndicatorValueType,
    /// The breakdown dimension, e.g. `sex`; null for the total.
    pub breakdown: Option<String>,
    /// The breakdown value, e.g. `female`.
    pub breakdown_value: Option<String>,
    /// The code of the source that reported the value.
    pub source: Option<String>,
}

impl IndicatorValue {
    /// Whether this is a firm-level figure, shown only to callers who may see those.
    fn firm_level(&self) -> bool {
        self.organisation_id.is_some()
    }
}

impl FromRow for IndicatorValue {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("indicator_values", t, ids)
    }

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = indicator_values::Model::from_query_result(row, "")?;
        Ok(IndicatorValue {
            change_seq: row.try_get_by("change_seq")?,
            row_id: m.id,
            indicator_id: m.indicator_id,
            organisation_id: m.organisation_id,
            cluster_id: m.cluster_id,
            value_raw: m.value,
            note_raw: m.note,
            scope: m.scope,
            programme: row.try_get_by("programme_code")?,
            area: row.try_get_by("area_name")?,
            period_kind: PeriodKind::from_stored(&m.period_kind)?,
            period: period_label(&m.period_kind, m.period_start, m.period_end),
            period_start: m.period_start,
            period_end: m.period_end,
            value_type: IndicatorValueType::from_stored(&m.value_type)?,
            breakdown: m.breakdown,
            breakdown_value: m.breakdown_value,
            source: row.try_get_by("source_code")?,
        })
    }
}

#[ComplexObject]
impl IndicatorValue {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(VALUE_TYPE, self.row_id)
    }

    /// The indicator this is a value of.
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Indicator> {
        load_row::<Indicator>(ctx, Some(self.indicator_id))
            .await?
            .ok_or_else(|| internal(format!("indicator {} is missing", self.indicator_id)))
    }

    /// The cluster, for cluster-level values.
    async fn cluster(&self, ctx: &Context<'_>) -> Result<Option<Cluster>> {
        load_row::<Cluster>(ctx, self.cluster_id).await
    }

    /// The firm, for firm-level values (a firm-level figure: null unless the caller may
    /// see those).
    async fn firm(&self, ctx: &Context<'_>) -> Result<Option<Firm>> {
        if !ctx.allowed(Protected::FirmFigures) {
            return Ok(None);
        }
        load_row::<Firm>(ctx, self.organisation_id).await
    }

    /// The value, in the indicator's unit. Null for firm-level values unless the caller
    /// may see firm-level figures.
    async fn value(&self, ctx: &Context<'_>) -> Option<f64> {
        (!self.firm_level() || ctx.allowed(Protected::FirmFigures)).then_some(self.value_raw)
    }

    /// A note on the value. Null for firm-level values unless the caller may see
    /// firm-level figures.
    async fn note(&self, ctx: &Context<'_>) -> Option<String> {
        (!self.firm_level() || ctx.allowed(Protected::FirmFigures))
            .then(|| self.note_raw.clone())
            .flatten()
    }
}

impl Listed for IndicatorValue {
    fn select() -> SelectStatement {
        indicator_value_select()
    }
}

impl Listing for IndicatorValue {
    type Filter = IndicatorValueFilter;
    type Order = IndicatorValueOrder;

    fn default_order() -> Vec<SortKey> {
        indicator_value_sort(None).keys().to_vec()
    }
}

connection!(
    IndicatorValueConnection,
    IndicatorValueEdge,
    IndicatorValue,
    "A page of indicator values."
);

/// `SELECT t.*, source and indicator codes, programme code, area name FROM
/// indicator_values t`, the base of every indicator-value list. The joins are LEFT JOINs
/// on primary keys: at most one row each.
pub fn indicator_value_select() -> SelectStatement {
    let mut q = table_select("indicator_values");
    q.expr_as(Expr::cust(format!("{SRC}.code")), Alias::new("source_code"))
        .expr_as(
            Expr::cust(format!("{IND}.code")),
            Alias::new("indicator_code"),
        )
        .expr_as(
            Expr::cust(programme_code_sql(T)),
            Alias::new("programme_code"),
        )
        .expr_as(
            Expr::cust(crate::graphql::list::admin_area_name_sql(&format!(
                "{T}.admin_area_id"
            ))),
            Alias::new("area_name"),
        )
        .join_as(
            JoinType::LeftJoin,
            Alias::new("sources"),
            Alias::new(SRC),
            Expr::cust(format!("{SRC}.id = {T}.source_id")),
        )
        .join_as(
            JoinType::LeftJoin,
            Alias::new("indicators"),
            Alias::new(IND),
            Expr::cust(format!("{IND}.id = {T}.indicator_id")),
        );
    q
}

order_input! {
    /// Fields indicator values can be ordered by.
    pub enum IndicatorValueOrderField;
    /// One key of an indicator-value ordering.
    pub struct IndicatorValueOrder {
        /// The indicator's code.
        Indicator => (format!("{IND}.code"), Text),
        PeriodStart => (col("period_start"), Date, NotNull),
        ValueType => (col("value_type"), Text),
        Breakdown => (col("breakdown"), Text),
        BreakdownValue => (col("breakdown_value"), Text),
        Id => (col("id"), Int, NotNull),
    }
}

/// The sort of an indicator-value list: by indicator code, then period start when none
/// is requested.
pub fn indicator_value_sort(order: Option<&[IndicatorValueOrder]>) -> Sort {
    let default = vec![
        SortKey {
            sql: format!("{IND}.code"),
            kind: KeyKind::Text,
            descending: false,
            nullable: true,
        },
        SortKey::asc("period_start", KeyKind::Date).not_null(),
    ];
    sort_of(order, default)
}

filter_input! {
    /// Filter on indicator values. There is no filter on the value itself: firm-level values
    /// are protected figures.
    pub struct IndicatorValueFilter {
        id: IdFilter => On::Id(VALUE_TYPE),
        /// `firm`, `cluster`, `programme` or `area`.
        scope: StringFilter => On::Column("scope"),
        value_type: IndicatorValueTypeFilter => On::Column("value_type"),
        period_kind: PeriodKindFilter => On::Column("period_kind"),
        period_start: DateFilter => On::Column("period_start"),
        /// The year the period starts in: the calendar year, or the first year of a fiscal
        /// year (`FY2017-18` is 2017).
        year: IntFilter => On::YearOf("period_start"),
        breakdown: StringFilter => On::Column("breakdown"),
        breakdown_value: StringFilter => On::Column("breakdown_value"),
        /// Values of a cluster matching this filter.
        cluster: ClusterFilter => On::BelongsTo {
            table: "clusters",
            fk: "cluster_id",
            alias: "ivk",
            extra: "",
        },
        /// Values of an indicator matching this filter.
        indicator: IndicatorFilter => On::BelongsTo {
            table: "indicators",
            fk: "indicator_id",
            alias: "ivi",
            extra: "",
        },
        /// Values of a firm matching this filter (firm-level values).
        firm: FirmFilter => On::BelongsTo {
            table: "organisations",
            fk: "organisation_id",
            alias: "ivf",
            extra: FIRM_ROW,
        },
    }
}

/// The values whose `parent_column` (`indicator_id`, `cluster_id`, `organisation_id`) is
/// `parent`, batched with the siblings of the same level.
async fn child_values(
    ctx: &Context<'_>,
    parent_column: &str,
    parent: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<IndicatorValueFilter>,
    order_by: Option<Vec<IndicatorValueOrder>>,
) -> Result<IndicatorValueConnection> {
    let (page, total) = child_list(ctx, parent, first, after, || {
        let mut select = indicator_value_select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = indicator_value_sort(order_by.as_deref());
        Ok(Nested::new(select, format!("{T}.{parent_column}"), sort))
    })
    .await?;
    Ok(IndicatorValueConnection { page, total })
}

/// The indicator values of cluster `cluster_id` (its row id), for a `Cluster.indicatorValues`
/// field: batched per level, with the per-cluster page size kept in SQL.
pub async fn cluster_indicator_values(
    ctx: &Context<'_>,
    cluster_id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<IndicatorValueFilter>,
    order_by: Option<Vec<IndicatorValueOrder>>,
) -> Result<IndicatorValueConnection> {
    child_values(
        ctx,
        "cluster_id",
        cluster_id,
        first,
        after,
        filter,
        order_by,
    )
    .await
}

/// The indicator values of firm `firm_id` (its row id), for a `Firm.indicatorValues`
/// field; values and notes are null unless the caller may see firm-level figures.
pub async fn firm_indicator_values(
    ctx: &Context<'_>,
    firm_id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<IndicatorValueFilter>,
    order_by: Option<Vec<IndicatorValueOrder>>,
) -> Result<IndicatorValueConnection> {
    child_values(
        ctx,
        "organisation_id",
        firm_id,
        first,
        after,
        filter,
        order_by,
    )
    .await
}

/// Root fields of the results framework.
#[derive(Debug, Default)]
pub struct IndicatorQuery;

#[async_graphql::Object]
impl IndicatorQuery {
    /// Indicators, by code unless ordered otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<IndicatorFilter>,
        order_by: Option<Vec<IndicatorOrder>>,
        #[graphql(
            desc = "Only the rows written after this change number (their `changeSeq` is larger): an incremental pull, see README \"Use it from your BI tool\"."
        )]
        changed_since: Option<i64>,
    ) -> Result<IndicatorConnection> {
        let mut select = indicator_select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = indicator_sort(order_by.as_deref());
        let args = PageArgs {
            first,
            after,
            last,
            before,
            changed_since,
        };
        let (page, total) = root_list(ctx, select, sort, args).await?;
        Ok(IndicatorConnection { page, total })
    }

    /// One indicator by its code.
    async fn indicator(&self, ctx: &Context<'_>, code: String) -> Result<Option<Indicator>> {
        let mut select = indicator_select();
        select.and_where(Expr::cust(format!("{T}.code")).eq(code));
        one(ctx.data::<DatabaseConnection>()?, select).await
    }
}
