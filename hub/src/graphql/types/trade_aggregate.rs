//! `tradeFlowsAggregate`: trade flows grouped and summed, without ever adding up two
//! figures that report the same trade.
//!
//! Each answer adds the flows of
//! - **one source** (Comtrade, WITS and the bureau report the same flows): the one the
//!   filter leaves, or among several the first by the configured priority
//!   (`import.sources.CODE.priority`, lower first) that has flows the filter selects; the
//!   answer names it. Grouped by `SOURCE`, each group is one source and none is chosen.
//! - **one period kind**: calendar years, fiscal years, quarters and months are never added
//!   together. The coarsest kind the grouping can use (year, then fiscal year, quarter,
//!   month) that has flows is chosen and named: a `YEAR` or `FISCAL_YEAR` group adds the
//!   months or quarters of that year when only those are reported, never a year to its own
//!   months. A fiscal year cannot be made of calendar years, nor a quarter of years.
//! - **one aggregate level**: a heading and its own subheadings report the same trade, so
//!   only flows of one level of detail are added: the coarsest level at least as fine as
//!   the HS prefix filtered on and the HS dimensions grouped by (0 is `TOTAL`, all
//!   commodities), that has flows; it is named.
//! - **totals only**: partner `W00` (World) rows total the partner rows beside them and are
//!   left out, unless the filter asks for `partner: {eq: "W00"}`; rows broken down further
//!   (second partner, customs procedure, transport mode: a non-empty `breakdownKey`) repeat
//!   their totals and are always left out. The answer says what it left out.

use async_graphql::{Context, Enum, InputObject, Result, SimpleObject};
use sea_orm::sea_query::{Alias, Condition, Expr, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, QueryResult};

use super::trade::{Flow, PeriodKind, TradeFlowFilter};
use crate::graphql::NodeContext as _;
use crate::graphql::aggregate::{
    DateParts, Dimension, TOTAL_GROUPS, dimensions, group_by, group_limit, having, run_groups,
};
use crate::graphql::answers::Lookup;
use crate::graphql::filter::{FloatFilter, IntFilter, OrderDirection};
use crate::graphql::list::{T, internal};

/// What trade flows can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TradeFlowDimension {
    /// The calendar year of the period (of annual, quarterly or monthly flows).
    Year,
    /// The Pakistan fiscal year, July to June (`FY2017-18`), of fiscal-year, quarterly or
    /// monthly flows.
    FiscalYear,
    /// The calendar quarter (`2017-Q1`), of quarterly or monthly flows.
    Quarter,
    /// The month (`2017-03`), of monthly flows.
    Month,
    Reporter,
    Partner,
    Flow,
    Classification,
    /// The HS chapter (2 digits).
    #[graphql(name = "HS2")]
    Hs2,
    /// The HS heading (4 digits).
    #[graphql(name = "HS4")]
    Hs4,
    /// The HS subheading (6 digits).
    #[graphql(name = "HS6")]
    Hs6,
    Source,
}

/// The aliases of the tables a dimension reads (prefixed, so that they never meet the
/// aliases of the filter's subqueries).
const SRC: &str = "ta_src";
const REP: &str = "ta_rep";
const PAR: &str = "ta_par";
const CLS: &str = "ta_cls";

impl TradeFlowDimension {
    /// The period kinds whose flows this dimension can place (`None`: any).
    fn kinds(self) -> Option<&'static [&'static str]> {
        match self {
            TradeFlowDimension::Year => Some(&["year", "quarter", "month"]),
            TradeFlowDimension::FiscalYear => Some(&["fiscal_year", "quarter", "month"]),
            TradeFlowDimension::Quarter => Some(&["quarter", "month"]),
            TradeFlowDimension::Month => Some(&["month"]),
            _ => None,
        }
    }

    /// The HS digits this dimension needs the flows to have.
    fn digits(self) -> i32 {
        match self {
            TradeFlowDimension::Hs2 => 2,
            TradeFlowDimension::Hs4 => 4,
            TradeFlowDimension::Hs6 => 6,
            _ => 0,
        }
    }
}

impl Dimension for TradeFlowDimension {
    fn sql(self, parts: DateParts) -> Vec<String> {
        let start = format!("{T}.period_start");
        match self {
            TradeFlowDimension::Year => vec![parts.year(&start)],
            TradeFlowDimension::FiscalYear => vec![parts.fiscal_year(&start)],
            TradeFlowDimension::Quarter => vec![parts.year(&start), parts.quarter(&start)],
            TradeFlowDimension::Month => vec![parts.year(&start), parts.month(&start)],
            TradeFlowDimension::Reporter => vec![format!("{REP}.iso3")],
            TradeFlowDimension::Partner => vec![format!("{PAR}.iso3")],
            TradeFlowDimension::Flow => vec![format!("{T}.flow")],
            TradeFlowDimension::Classification => vec![format!("{CLS}.code")],
            TradeFlowDimension::Hs2 => vec![format!("{T}.hs2")],
            TradeFlowDimension::Hs4 => vec![format!("{T}.hs4")],
            TradeFlowDimension::Hs6 => vec![format!("{T}.hs6")],
            TradeFlowDimension::Source => vec![format!("{SRC}.code")],
        }
    }

    fn is_text(self) -> bool {
        !matches!(
            self,
            TradeFlowDimension::Year
                | TradeFlowDimension::FiscalYear
                | TradeFlowDimension::Quarter
                | TradeFlowDimension::Month
        )
    }

    fn join(self) -> Option<(&'static str, &'static str, String)> {
        let (table, alias, fk) = match self {
            TradeFlowDimension::Reporter => ("countries", REP, "reporter_id"),
            TradeFlowDimension::Partner => ("countries", PAR, "partner_id"),
            TradeFlowDimension::Classification => ("classifications", CLS, "classification_id"),
            TradeFlowDimension::Source => ("sources", SRC, "source_id"),
            _ => return None,
        };
        Some((table, alias, format!("{alias}.id = {T}.{fk}")))
    }
}

/// The keys of a group: the dimensions asked are set (a NULL key is a group of its own,
/// such as `hs4` of flows without a heading), the others are null.
#[derive(Debug, Clone, Default, SimpleObject)]
pub struct TradeFlowGroupKeys {
    pub year: Option<i32>,
    /// `FY2017-18`.
    pub fiscal_year: Option<String>,
    /// `2017-Q1`.
    pub quarter: Option<String>,
    /// `2017-03`.
    pub month: Option<String>,
    /// The reporter's ISO3 code.
    pub reporter: Option<String>,
    /// The partner's ISO3 code.
    pub partner: Option<String>,
    pub flow: Option<Flow>,
    /// The classification's code, e.g. `HS2017`.
    pub classification: Option<String>,
    pub hs2: Option<String>,
    pub hs4: Option<String>,
    pub hs6: Option<String>,
    /// The source's code.
    pub source: Option<String>,
}

/// Sums of a group's flows, over the flows that report each figure.
#[derive(Debug, Clone, SimpleObject)]
pub struct TradeFlowSums {
    pub value_usd: Option<f64>,
    pub net_weight_kg: Option<f64>,
    /// Null when the group's quantities are in more than one unit (they cannot be added).
    pub quantity: Option<f64>,
    /// The unit of `quantity`.
    pub quantity_unit: Option<String>,
}

/// One value of a group.
#[derive(Debug, Clone, SimpleObject)]
pub struct TradeFlowValue {
    pub value_usd: Option<f64>,
}

/// One group of trade flows.
#[derive(Debug, Clone, SimpleObject)]
pub struct TradeFlowGroup {
    pub keys: TradeFlowGroupKeys,
    /// The flows added.
    pub count: i64,
    pub sum: TradeFlowSums,
    /// The smallest value of one flow of the group.
    pub min: TradeFlowValue,
    /// The largest value of one flow of the group.
    pub max: TradeFlowValue,
}

/// Trade flows grouped and added up: which flows were added (one source, one period
/// kind, one aggregate level, totals only) and the groups.
#[derive(Debug, Clone, SimpleObject)]
pub struct TradeFlowAggregate {
    /// The source whose flows are added; null when grouped by `SOURCE` (each group is one
    /// source) or when no flow matches.
    pub source: Option<String>,
    /// Whether the source was chosen by the configured priority (the filter left several).
    pub source_chosen_by_priority: bool,
    /// The kind of the periods added; null when no flow matches.
    pub period_kind: Option<PeriodKind>,
    /// The digits of the commodity codes added (0: `TOTAL`, all commodities); null when no
    /// flow matches.
    pub aggregate_level: Option<i32>,
    /// Whether partner `W00` (World) rows were left out (they total the partner rows; ask
    /// for them with `partner: {eq: "W00"}`).
    pub world_rows_excluded: bool,
    /// What the answer left out or chose, in words.
    pub notes: Vec<String>,
    /// The groups the `having` keeps, before `first`.
    pub total_groups: i64,
    pub groups: Vec<TradeFlowGroup>,
}

/// Conditions on the measures of a trade-flow group.
#[derive(Debug, Clone, Default, InputObject)]
pub struct TradeFlowAggregateHaving {
    pub count: Option<IntFilter>,
    pub sum_value_usd: Option<FloatFilter>,
    pub sum_net_weight_kg: Option<FloatFilter>,
    pub sum_quantity: Option<FloatFilter>,
    pub min_value_usd: Option<FloatFilter>,
    pub max_value_usd: Option<FloatFilter>,
}

/// What trade-flow groups can be ordered by: a measure or a key grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TradeFlowAggregateOrderField {
    Count,
    SumValueUsd,
    SumNetWeightKg,
    SumQuantity,
    MinValueUsd,
    MaxValueUsd,
    Year,
    FiscalYear,
    Quarter,
    Month,
    Reporter,
    Partner,
    Flow,
    Classification,
    #[graphql(name = "HS2")]
    Hs2,
    #[graphql(name = "HS4")]
    Hs4,
    #[graphql(name = "HS6")]
    Hs6,
    Source,
}

/// One key of the order of trade-flow groups.
#[derive(Debug, Clone, InputObject)]
pub struct TradeFlowAggregateOrder {
    pub field: TradeFlowAggregateOrderField,
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

const COUNT: &str = "COUNT(*)";
const SUM_VALUE: &str = "SUM(t.value_usd)";
const SUM_WEIGHT: &str = "SUM(t.net_weight_kg)";
const SUM_QUANTITY: &str =
    "CASE WHEN COUNT(DISTINCT t.quantity_unit) <= 1 THEN SUM(t.quantity) END";
const MIN_VALUE: &str = "MIN(t.value_usd)";
const MAX_VALUE: &str = "MAX(t.value_usd)";

impl TradeFlowAggregateOrderField {
    /// The measure's SQL, or the dimension ordered by.
    fn target(self) -> Result<&'static str, TradeFlowDimension> {
        use TradeFlowAggregateOrderField as F;
        use TradeFlowDimension as D;
        match self {
            F::Count => Ok(COUNT),
            F::SumValueUsd => Ok(SUM_VALUE),
            F::SumNetWeightKg => Ok(SUM_WEIGHT),
            F::SumQuantity => Ok(SUM_QUANTITY),
            F::MinValueUsd => Ok(MIN_VALUE),
            F::MaxValueUsd => Ok(MAX_VALUE),
            F::Year => Err(D::Year),
            F::FiscalYear => Err(D::FiscalYear),
            F::Quarter => Err(D::Quarter),
            F::Month => Err(D::Month),
            F::Reporter => Err(D::Reporter),
            F::Partner => Err(D::Partner),
            F::Flow => Err(D::Flow),
            F::Classification => Err(D::Classification),
            F::Hs2 => Err(D::Hs2),
            F::Hs4 => Err(D::Hs4),
            F::Hs6 => Err(D::Hs6),
            F::Source => Err(D::Source),
        }
    }
}

/// The measures of a group a question reads. The others are not computed: an unread
/// `sum { quantity }` costs a `COUNT(DISTINCT unit)` per group (a sort per group on
/// PostgreSQL), an unread `min` or `max` one more aggregate per flow. `count` is always
/// computed. A measure a `having` or an `orderBy` names is computed there either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Measures {
    sum_value: bool,
    sum_weight: bool,
    sum_quantity: bool,
    min_value: bool,
    max_value: bool,
}

impl Measures {
    /// The count and the sum of values only (what `Cluster.trade` reads).
    pub const VALUE: Measures = Measures {
        sum_value: true,
        sum_weight: false,
        sum_quantity: false,
        min_value: false,
        max_value: false,
    };

    /// The measures the `groups` of the field being resolved select.
    fn selected(ctx: &Context<'_>) -> Measures {
        let groups = ctx.look_ahead().field("groups");
        let sum = groups.field("sum");
        Measures {
            sum_value: sum.field("valueUsd").exists(),
            sum_weight: sum.field("netWeightKg").exists(),
            sum_quantity: sum.field("quantity").exists() || sum.field("quantityUnit").exists(),
            min_value: groups.field("min").field("valueUsd").exists(),
            max_value: groups.field("max").field("valueUsd").exists(),
        }
    }
}

/// The world partner's code.
const WORLD: &str = "W00";

/// The period kinds, coarsest first: the order in which one is chosen.
const KINDS: [&str; 4] = ["year", "fiscal_year", "quarter", "month"];

/// The aggregate levels tried first, coarsest first; a finer level is found by `MIN`.
const LEVELS: [i32; 4] = [0, 2, 4, 6];

/// `tradeFlowsAggregate`.
pub async fn trade_flows_aggregate(
    ctx: &Context<'_>,
    filter: Option<TradeFlowFilter>,
    group_by_dims: Option<Vec<TradeFlowDimension>>,
    having_on: Option<TradeFlowAggregateHaving>,
    order: Option<Vec<TradeFlowAggregateOrder>>,
    first: Option<i32>,
) -> Result<TradeFlowAggregate> {
    let limit = group_limit(first)?;
    let dims = dimensions(group_by_dims)?;
    // An answer given at this change number is the answer (see `Answers`).
    let db = ctx.data::<DatabaseConnection>()?;
    let state = (crate::changes::current(db).await.map_err(internal)?, true);
    let answers = ctx.data_opt::<std::sync::Arc<Answers>>().map(|a| &**a);
    let measures = Measures::selected(ctx);
    let question = format!(
        "{filter:?}|{dims:?}|{having_on:?}|{order:?}|{limit}|{measures:?}|{:?}",
        crate::graphql::answers::scope_of(ctx)
    );
    let turn = match Answers::lookup(answers, question, state).await {
        Lookup::Kept(answer) => return Ok(answer),
        Lookup::Compute(turn) => turn,
    };
    let answer = aggregate(
        ctx,
        filter,
        dims,
        having_on,
        order,
        limit,
        measures,
        Flows::Raw,
        // The change number just read: the decision kept at it is reused without reading
        // the number again (the rollup's freshness does not matter to raw flows).
        Some(state),
    )
    .await?;
    turn.keep(&answer);
    Ok(answer)
}

/// The kept answers of `tradeFlowsAggregate` (see [`crate::graphql::answers`]): a repeated
/// question at the same change number reads the number instead of choosing the source,
/// period kind and level and adding the flows again (two statements over the flows).
pub type Answers = crate::graphql::answers::Answers<TradeFlowAggregate>;

/// The aggregate of the flows `filter` selects grouped by `dims`, at most `limit` groups
/// (the hub's own callers, such as `Cluster.trade`, read every group), with the
/// `measures` asked (the others are null).
#[allow(clippy::too_many_arguments)]
pub async fn aggregate(
    ctx: &Context<'_>,
    filter: Option<TradeFlowFilter>,
    dims: Vec<TradeFlowDimension>,
    having_on: Option<TradeFlowAggregateHaving>,
    order: Option<Vec<TradeFlowAggregateOrder>>,
    limit: u64,
    measures: Measures,
    from: Flows,
    known: Known,
) -> Result<TradeFlowAggregate> {
    let db = ctx.data::<DatabaseConnection>()?;
    let parts = DateParts {
        backend: db.get_database_backend(),
    };

    // The flows the answer may add: the filter's, totals only.
    let mut base = filter
        .as_ref()
        .map(|f| f.condition(T, ctx.level()))
        .transpose()?
        .unwrap_or_else(Condition::all)
        .add(Expr::cust(format!("{T}.breakdown_key = ''")));
    let world_asked = filter
        .as_ref()
        .and_then(|f| f.partner.as_ref())
        .and_then(|p| p.eq.as_deref())
        .is_some_and(|p| p.eq_ignore_ascii_case(WORLD));
    // The level asked for, also as a literal: SQLite uses a partial index (the `TOTAL` rows
    // at level 0) only for a literal it can compare with the index's own condition.
    if let Some(level) = filter
        .as_ref()
        .and_then(|f| f.aggregate_level.as_ref())
        .and_then(|l| l.eq)
    {
        base = base.add(Expr::cust(format!("{T}.aggregate_level = {level}")));
    }
    let mut notes = Vec::new();
    if !world_asked {
        base = base.add(Expr::cust(format!(
            "{T}.partner_id NOT IN (SELECT w.id FROM countries w WHERE w.iso3 = '{WORLD}')"
        )));
    }

    let empty = |notes: Vec<String>, source: Option<String>| TradeFlowAggregate {
        source,
        source_chosen_by_priority: false,
        period_kind: None,
        aggregate_level: None,
        world_rows_excluded: !world_asked,
        notes,
        total_groups: 0,
        groups: Vec::new(),
    };

    // One source (unless grouped by source), one period kind (the coarsest the grouping
    // can use that has flows) and one aggregate level (the coarsest at least as fine as the
    // HS prefix and dimensions): decided together in one statement (see `decide`).
    let mut kinds: Vec<&str> = KINDS.to_vec();
    for d in &dims {
        if let Some(allowed) = d.kinds() {
            kinds.retain(|k| allowed.contains(k));
        }
    }
    let need = dims
        .iter()
        .map(|d| d.digits())
        .chain(filter.as_ref().map(hs_digits_of))
        .max()
        .unwrap_or(0);
    let choose_source = !dims.contains(&TradeFlowDimension::Source);
    let now = known.map(|(now, _)| now);
    let Some(decision) = decide(db, &base, choose_source, &kinds, need, now).await? else {
        return Ok(empty(
            vec!["No trade flow matches the filter.".to_owned()],
            None,
        ));
    };
    let mut source = None;
    let mut chosen_by_priority = false;
    if let Some((id, code, candidates)) = decision.source {
        if candidates > 1 {
            chosen_by_priority = true;
            notes.push(format!(
                "{candidates} sources report flows the filter selects; their figures are never \
                 added together: these are {code}'s, the first by the configured priority \
                 (name another with `filter: {{source: {{eq: \"…\"}}}}`)."
            ));
        }
        base = base.add(Expr::cust(source_is(parts.backend, &id.to_string())));
        source = Some(code);
    }
    let Some(kind) = decision.kind else {
        let asked: Vec<String> = dims
            .iter()
            .filter(|d| d.kinds().is_some())
            .map(|d| format!("{d:?}"))
            .collect();
        notes.push(if asked.is_empty() {
            "No trade flow matches the filter.".to_owned()
        } else {
            format!(
                "No flow the filter selects has periods that {} can group (the kinds they can \
                 place: {}).",
                asked.join(" and "),
                kinds.join(", ")
            )
        });
        return Ok(TradeFlowAggregate {
            source_chosen_by_priority: chosen_by_priority,
            ..empty(notes, source)
        });
    };
    base = base.add(Expr::cust(format!("{T}.period_kind = '{kind}'")));
    let Some(level) = decision.level else {
        notes.push(format!(
            "No flow the filter selects is reported at {need} digits or more."
        ));
        return Ok(TradeFlowAggregate {
            source_chosen_by_priority: chosen_by_priority,
            period_kind: Some(PeriodKind::from_stored(&kind).map_err(internal)?),
            ..empty(notes, source)
        });
    };
    base = base.add(Expr::cust(format!("{T}.aggregate_level = {level}")));
    if !world_asked {
        notes.push(
            "Partner W00 (World) rows are left out: they total the partner rows (ask for them \
             with `partner: {eq: \"W00\"}`)."
                .to_owned(),
        );
    }
    notes.push(format!(
        "Only flows at aggregate level {level} and of period kind {kind} are added; rows broken \
         down by second partner, customs procedure or transport mode repeat their totals and \
         are left out."
    ));

    // The groups: from the flows, or from a cluster's rollup when it is fresh (its rows
    // have the flows' columns the conditions read, a year's flows of one code in one row).
    let rollup = match from {
        Flows::ClusterRollup(cluster)
            if having_on.is_none()
                && order.is_none()
                && match known {
                    Some((_, fresh)) => fresh,
                    None => crate::rollups::fresh(db).await.map_err(internal)?,
                } =>
        {
            Some(cluster)
        }
        _ => None,
    };
    let mut q = Query::select();
    const NO_NUMBER: &str = "CAST(NULL AS DOUBLE PRECISION)";
    let asked = |sql: &'static str, asked: bool| if asked { sql } else { NO_NUMBER };
    let computed: [(&str, &str); 8] = match rollup {
        None => {
            q.from_as(Alias::new("trade_flows"), Alias::new(T));
            [
                (COUNT, "m_count"),
                (asked(SUM_VALUE, measures.sum_value), "m_sum_value"),
                (asked(SUM_WEIGHT, measures.sum_weight), "m_sum_weight"),
                (asked(SUM_QUANTITY, measures.sum_quantity), "m_sum_quantity"),
                (
                    if measures.sum_quantity {
                        "MIN(t.quantity_unit)"
                    } else {
                        "CAST(NULL AS TEXT)"
                    },
                    "m_unit",
                ),
                (asked(MIN_VALUE, measures.min_value), "m_min_value"),
                (asked(MAX_VALUE, measures.max_value), "m_max_value"),
                (TOTAL_GROUPS, "m_total_groups"),
            ]
        }
        Some(cluster) => {
            q.from_as(Alias::new("cluster_trade_rollup"), Alias::new(T));
            base = base.add(Expr::cust(format!("{T}.cluster_id = {cluster}")));
            [
                ("CAST(SUM(t.flows) AS BIGINT)", "m_count"),
                ("SUM(t.value_usd)", "m_sum_value"),
                ("CAST(NULL AS DOUBLE PRECISION)", "m_sum_weight"),
                ("CAST(NULL AS DOUBLE PRECISION)", "m_sum_quantity"),
                ("CAST(NULL AS TEXT)", "m_unit"),
                ("CAST(NULL AS DOUBLE PRECISION)", "m_min_value"),
                ("CAST(NULL AS DOUBLE PRECISION)", "m_max_value"),
                (TOTAL_GROUPS, "m_total_groups"),
            ]
        }
    };
    let key_columns = group_by(&mut q, &dims, parts);
    for (sql, name) in computed {
        q.expr_as(Expr::cust(sql), Alias::new(name));
    }
    q.cond_where(base);
    let mut have = Condition::all();
    if let Some(h) = &having_on {
        having(&mut have, h.count.as_ref(), COUNT)?;
        having(&mut have, h.sum_value_usd.as_ref(), SUM_VALUE)?;
        having(&mut have, h.sum_net_weight_kg.as_ref(), SUM_WEIGHT)?;
        having(&mut have, h.sum_quantity.as_ref(), SUM_QUANTITY)?;
        having(&mut have, h.min_value_usd.as_ref(), MIN_VALUE)?;
        having(&mut have, h.max_value_usd.as_ref(), MAX_VALUE)?;
    }
    q.cond_having(have);
    // The order asked, then every key ascending, so that the order is total.
    let order = order.unwrap_or_default().into_iter().map(|o| {
        (
            o.field.target().map(str::to_owned),
            o.direction,
            format!("{:?}", o.field),
        )
    });
    let (rows, total_groups) = run_groups(db, q, &dims, parts, order, limit).await?;
    let groups = rows
        .iter()
        .map(|r| group_of(r, &key_columns))
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()
        .map_err(internal)?;
    Ok(TradeFlowAggregate {
        source,
        source_chosen_by_priority: chosen_by_priority,
        period_kind: Some(PeriodKind::from_stored(&kind).map_err(internal)?),
        aggregate_level: Some(level),
        world_rows_excluded: !world_asked,
        notes,
        total_groups,
        groups,
    })
}

/// `t.source_id = {rhs}`, on SQLite as `+t.source_id`, which keeps the planner off the
/// unique key `(source_id, reporter_id, …)`: led by the source, which one or two sources
/// share among every flow, it is never selective, yet with an HS filter of several
/// revisions (an `OR` of `IN` lists, as `Cluster.trade` writes) SQLite chose it over the
/// HS indexes, statistics or not, and read a million flows for a cluster's 1,400.
fn source_is(backend: DbBackend, rhs: &str) -> String {
    match backend {
        DbBackend::Sqlite => format!("+{T}.source_id = {rhs}"),
        _ => format!("{T}.source_id = {rhs}"),
    }
}

/// Whether the source `id` has a flow `flows` selects.
///
/// On SQLite a source with no flows at all is out at once, through the unique key led by
/// the source; the filter's test reads the filter's flows instead (through the HS or
/// reporter indexes) until one of the source turns up: for a source that has none, every
/// one of them. A `CASE`, not `AND`: SQLite 3.51 turns two `EXISTS` joined by `AND` into a
/// join and tried the filter once per flow of the source (2.7 s instead of 0.4 ms over a
/// million flows). PostgreSQL gets the filter's test alone: it reads the first test by a
/// sequential scan (a source is in half the rows, by its statistics), 100 ms per source.
fn has_flows_of(backend: DbBackend, id: &str, flows: SelectStatement) -> SimpleExpr {
    match backend {
        DbBackend::Sqlite => Expr::case(
            Expr::cust(format!(
                "EXISTS (SELECT 1 FROM trade_flows ts WHERE ts.source_id = {id})"
            )),
            Expr::exists(flows),
        )
        .finally(Expr::cust("FALSE"))
        .into(),
        _ => Expr::exists(flows),
    }
}

/// `SELECT 1 FROM trade_flows t WHERE cond`.
fn flows_where(cond: Condition) -> SelectStatement {
    let mut q = Query::select();
    q.expr(Expr::cust("1"))
        .from_as(Alias::new("trade_flows"), Alias::new(T))
        .cond_where(cond);
    q
}

/// Where an aggregate's groups are read from.
#[derive(Debug, Clone, Copy)]
pub enum Flows {
    /// The trade flows.
    Raw,
    /// The cluster's rows of `cluster_trade_rollup` when the rollups are fresh (else the
    /// flows): the candidate codes of the cluster's basket, pre-grouped by year; only
    /// `count` and `sum.valueUsd` are kept, and neither `having` nor `orderBy` applies.
    ClusterRollup(i64),
}

/// The database's change number and whether the rollups reflect it, when the caller read
/// them already (`rollups::state`), so that one request reads them once.
pub type Known = Option<(i64, bool)>;

/// What one answer adds: its source (id, code, and how many sources had flows), when it
/// chooses one; its period kind; its aggregate level.
#[derive(Debug, Clone)]
struct Decision {
    source: Option<(i64, String, i64)>,
    kind: Option<String>,
    level: Option<i32>,
}

/// Decides the source, the period kind and the aggregate level of an answer in one
/// statement: the source first by priority among those with flows under `base` (when
/// `choose_source`); within it the first of `kinds` with flows; within that the first of
/// [`LEVELS`] at `need` digits or more with flows, else the finest level reported beyond
/// them (a national tariff line). Each choice is a chain of `EXISTS` tests on the indexes,
/// correlated with the choice before it:
///
/// ```sql
/// SELECT k.*, CASE WHEN EXISTS(… level 0 …) THEN 0 … ELSE (SELECT MIN(level) …) END AS level
/// FROM (SELECT s.*, CASE WHEN EXISTS(… kind 'year' …) THEN 'year' … END AS kind
///       FROM (SELECT id, code, COUNT(*) OVER () AS candidates FROM sources …
///             ORDER BY priority, code LIMIT 1) s) k
/// ```
///
/// `None` when no source has flows.
async fn decide(
    db: &DatabaseConnection,
    base: &Condition,
    choose_source: bool,
    kinds: &[&str],
    need: i32,
    now: Option<i64>,
) -> Result<Option<Decision>> {
    let backend = db.get_database_backend();
    let flows = |alias: &str, extra: Vec<String>| {
        let mut c = base.clone();
        if choose_source {
            c = c.add(Expr::cust(source_is(backend, &format!("{alias}.id"))));
        }
        for e in extra {
            c = c.add(Expr::cust(e));
        }
        c
    };
    let mut sources = Query::select();
    if choose_source {
        sources
            .expr_as(Expr::cust("sc.id"), Alias::new("id"))
            .expr_as(Expr::cust("sc.code"), Alias::new("code"))
            .expr_as(Expr::cust("COUNT(*) OVER ()"), Alias::new("candidates"))
            .from_as(Alias::new("sources"), Alias::new("sc"))
            .and_where(has_flows_of(
                backend,
                "sc.id",
                flows_where(base.clone().add(Expr::cust(source_is(backend, "sc.id")))),
            ))
            .order_by_expr(Expr::cust("sc.priority"), sea_orm::sea_query::Order::Asc)
            .order_by_expr(Expr::cust("sc.code"), sea_orm::sea_query::Order::Asc)
            .limit(1);
    } else {
        sources
            .expr_as(Expr::cust("CAST(NULL AS BIGINT)"), Alias::new("id"))
            .expr_as(Expr::cust("CAST(NULL AS TEXT)"), Alias::new("code"))
            .expr_as(Expr::cust("CAST(0 AS BIGINT)"), Alias::new("candidates"));
    }

    let mut with_kind = Query::select();
    with_kind
        .expr(Expr::cust("s.id, s.code, s.candidates"))
        .from_subquery(sources, Alias::new("s"));
    let kind_sql = match kinds.split_first() {
        None => Expr::cust("CAST(NULL AS TEXT)"),
        Some((first, rest)) => {
            let test = |k: &str| {
                Expr::exists(flows_where(flows(
                    "s",
                    vec![format!("{T}.period_kind = '{k}'")],
                )))
            };
            let mut case = Expr::case(test(first), Expr::val(first.to_string()));
            for k in rest {
                case = case.case(test(k), Expr::val(k.to_string()));
            }
            case.into()
        }
    };
    with_kind.expr_as(kind_sql, Alias::new("kind"));

    let levels: Vec<i32> = LEVELS.iter().copied().filter(|l| *l >= need).collect();
    let at_kind = |extra: String| flows("k", vec![format!("{T}.period_kind = k.kind"), extra]);
    let mut finest = Query::select();
    finest
        .expr(Expr::cust(format!("MIN({T}.aggregate_level)")))
        .from_as(Alias::new("trade_flows"), Alias::new(T))
        .cond_where(at_kind(format!("{T}.aggregate_level >= {need}")));
    let finest = sea_orm::sea_query::SimpleExpr::SubQuery(None, Box::new(finest.into()));
    let level_sql = match levels.split_first() {
        None => finest,
        Some((first, rest)) => {
            let test =
                |l: i32| Expr::exists(flows_where(at_kind(format!("{T}.aggregate_level = {l}"))));
            let mut case = Expr::case(test(*first), Expr::val(*first));
            for l in rest {
                case = case.case(test(*l), Expr::val(*l));
            }
            case.finally(finest).into()
        }
    };
    let mut q = Query::select();
    q.expr(Expr::cust("k.id, k.code, k.candidates, k.kind"))
        .expr_as(level_sql, Alias::new("level"))
        .from_subquery(
            if backend == DbBackend::Postgres {
                // `OFFSET 0` keeps PostgreSQL from copying the kind's tests into each
                // level's (SQLite takes no `OFFSET` without a `LIMIT`).
                with_kind.offset(0).to_owned()
            } else {
                with_kind
            },
            Alias::new("k"),
        );

    // The same question at the same change number has the same answer (every write takes
    // a change number in its transaction, see `crate::changes`): kept for the process.
    let statement = backend.build(&q);
    let key = format!("{}\u{0}{:?}", statement.sql, statement.values);
    let now = match now {
        Some(now) => now,
        None => crate::changes::current(db).await.map_err(internal)?,
    };
    if let Some(d) = DECISIONS.lock().map_err(internal)?.get(&key)
        && d.0 == now
    {
        return Ok(d.1.clone());
    }
    let decided = match db.query_one(&q).await.map_err(internal)? {
        None => None,
        Some(row) => Some(decision_of(&row, choose_source).map_err(internal)?),
    };
    let mut kept = DECISIONS.lock().map_err(internal)?;
    if kept.len() >= 4_096 {
        kept.clear();
    }
    kept.insert(key, (now, decided.clone()));
    Ok(decided)
}

/// Decisions made, by statement and values: the change number they were made at and the
/// decision.
static DECISIONS: std::sync::LazyLock<std::sync::Mutex<Kept>> =
    std::sync::LazyLock::new(Default::default);

type Kept = std::collections::HashMap<String, (i64, Option<Decision>)>;

fn decision_of(row: &QueryResult, choose_source: bool) -> Result<Decision, sea_orm::DbErr> {
    let source = if choose_source {
        Some((
            row.try_get_by::<i64, _>("id")?,
            row.try_get_by::<String, _>("code")?,
            row.try_get_by::<i64, _>("candidates")?,
        ))
    } else {
        None
    };
    let kind: Option<String> = row.try_get_by("kind")?;
    let level = crate::db::int(row, "level")?.map(|l| l as i32);
    let level = level.filter(|_| kind.is_some());
    Ok(Decision {
        source,
        kind,
        level,
    })
}

/// The HS digits a filter's `hsCode` fixes (`startsWith: "9018"`: 4), at its top level.
fn hs_digits_of(f: &TradeFlowFilter) -> i32 {
    let Some(hs) = &f.hs_code else { return 0 };
    let digits = |s: &str| s.chars().filter(|c| c.is_ascii_digit()).count() as i32;
    let prefix = hs.starts_with.as_deref().map(digits).unwrap_or(0);
    let exact = hs.eq.as_deref().map(digits).unwrap_or(0);
    std::cmp::max(prefix, exact)
}

/// Reads one group.
fn group_of(
    r: &QueryResult,
    keys: &[(TradeFlowDimension, Vec<String>)],
) -> Result<TradeFlowGroup, sea_orm::DbErr> {
    let mut k = TradeFlowGroupKeys::default();
    for (d, names) in keys {
        let int = |i: usize| r.try_get_by::<Option<i64>, _>(names[i].as_str());
        let text = |i: usize| r.try_get_by::<Option<String>, _>(names[i].as_str());
        match d {
            TradeFlowDimension::Year => k.year = int(0)?.map(|y| y as i32),
            TradeFlowDimension::FiscalYear => {
                k.fiscal_year = int(0)?.map(|y| format!("FY{y}-{:02}", (y + 1).rem_euclid(100)))
            }
            TradeFlowDimension::Quarter => {
                k.quarter = int(0)?.zip(int(1)?).map(|(y, q)| format!("{y}-Q{q}"))
            }
            TradeFlowDimension::Month => {
                k.month = int(0)?.zip(int(1)?).map(|(y, m)| format!("{y}-{m:02}"))
            }
            TradeFlowDimension::Reporter => k.reporter = text(0)?,
            TradeFlowDimension::Partner => k.partner = text(0)?,
            TradeFlowDimension::Flow => {
                k.flow = text(0)?.map(|f| Flow::from_stored(&f)).transpose()?
            }
            TradeFlowDimension::Classification => k.classification = text(0)?,
            TradeFlowDimension::Hs2 => k.hs2 = text(0)?,
            TradeFlowDimension::Hs4 => k.hs4 = text(0)?,
            TradeFlowDimension::Hs6 => k.hs6 = text(0)?,
            TradeFlowDimension::Source => k.source = text(0)?,
        }
    }
    let quantity: Option<f64> = r.try_get_by("m_sum_quantity")?;
    Ok(TradeFlowGroup {
        keys: k,
        count: r.try_get_by("m_count")?,
        sum: TradeFlowSums {
            value_usd: r.try_get_by("m_sum_value")?,
            net_weight_kg: r.try_get_by("m_sum_weight")?,
            quantity_unit: if quantity.is_some() {
                r.try_get_by("m_unit")?
            } else {
                None
            },
            quantity,
        },
        min: TradeFlowValue {
            value_usd: r.try_get_by("m_min_value")?,
        },
        max: TradeFlowValue {
            value_usd: r.try_get_by("m_max_value")?,
        },
    })
}
