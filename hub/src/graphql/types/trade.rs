//! Trade flows: reporter, partner, flow, commodity code in one classification, period and
//! value, one row per source (Comtrade, WITS and the bureau report the same flows).
//!
//! Also the pieces other types with periods share: the [`PeriodKind`] enum and its
//! filter, the canonical period label ([`period_label`]) and the portable `year` filter
//! ([`year_condition`]).

use crate::graphql::NodeContext as _;
use async_graphql::{ComplexObject, Context, Enum, Error, ID, InputObject, Result, SimpleObject};
use std::collections::BTreeMap;

use chrono::NaiveDate;
use hub_schema::domain::period::{MAX_YEAR, MIN_YEAR};
use hub_schema::domain::{self, Period};
use sea_orm::QueryResult;
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait as _, JoinType, LikeExpr, Query, SelectStatement,
};

use crate::graphql::columns::{Column, Columns, optional_columns};
use crate::graphql::connection::{FromRow, Listed, connection, root_list};
use crate::graphql::declare::{
    FilterField, Level, On, enum_filter_field, filter_input, order_input,
};
use crate::graphql::filter::{
    DateFilter, FloatFilter, IdFilter, IntFilter, StringFilter, enum_condition,
};
use crate::graphql::ids;
use crate::graphql::list::{KeyKind, PageArgs, Sort, SortKey, T, bad_input, sort_of};

/// The global-id type name of trade flows.
pub const TYPE: &str = "TradeFlow";

/// Aliases of the tables joined to `trade_flows t` in [`trade_flow_select`]. They are
/// prefixed so that they never meet an alias of a filter's subquery.
const SRC: &str = "tf_src";
const REP: &str = "tf_rep";
const PAR: &str = "tf_par";
const CLS: &str = "tf_cls";

// ---- Shared period pieces ------------------------------------------------------------------

/// The kind of a reference period. Calendar years and Pakistan fiscal years (July-June)
/// are different kinds and are never mixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PeriodKind {
    /// A calendar year, January to December (`2017`).
    Year,
    /// A calendar quarter (`2017-Q1`).
    Quarter,
    /// A calendar month (`2017-03`).
    Month,
    /// A Pakistan fiscal year, July to June (`FY2017-18`).
    FiscalYear,
}

impl PeriodKind {
    /// The stored code (`year`, `quarter`, `month`, `fiscal_year`).
    pub fn as_str(self) -> &'static str {
        self.domain().as_str()
    }

    fn domain(self) -> domain::PeriodKind {
        match self {
            PeriodKind::Year => domain::PeriodKind::Year,
            PeriodKind::Quarter => domain::PeriodKind::Quarter,
            PeriodKind::Month => domain::PeriodKind::Month,
            PeriodKind::FiscalYear => domain::PeriodKind::FiscalYear,
        }
    }

    /// Reads the stored code; an unknown code is a database error (the importers write
    /// only the four codes).
    pub fn from_stored(s: &str) -> Result<Self, sea_orm::DbErr> {
        match s.parse::<domain::PeriodKind>() {
            Ok(domain::PeriodKind::Year) => Ok(PeriodKind::Year),
            Ok(domain::PeriodKind::Quarter) => Ok(PeriodKind::Quarter),
            Ok(domain::PeriodKind::Month) => Ok(PeriodKind::Month),
            Ok(domain::PeriodKind::FiscalYear) => Ok(PeriodKind::FiscalYear),
            Err(_) => Err(sea_orm::DbErr::Custom(format!(
                "unknown period kind {s:?} in the database"
            ))),
        }
    }
}

/// Filter on a period kind.
#[derive(Debug, Clone, Default, InputObject)]
pub struct PeriodKindFilter {
    pub eq: Option<PeriodKind>,
    #[graphql(name = "in")]
    pub r#in: Option<Vec<PeriodKind>>,
    pub not_in: Option<Vec<PeriodKind>>,
}

enum_filter_field!(PeriodKindFilter { eq, r#in, not_in });

impl PeriodKindFilter {
    /// The condition on the stored `period_kind` column `column`.
    pub fn condition(&self, column: &str) -> Condition {
        enum_condition(
            column,
            self.eq.map(PeriodKind::as_str),
            None,
            self.r#in
                .as_ref()
                .map(|v| v.iter().map(|k| k.as_str()).collect()),
            self.not_in
                .as_ref()
                .map(|v| v.iter().map(|k| k.as_str()).collect()),
        )
    }
}

/// The canonical label of a stored period: `2017`, `2017-Q1`, `2017-03`, `FY2017-18`.
/// A period whose start does not fit its kind (never written by the importers) is shown
/// as `start/end`.
pub fn period_label(kind: &str, start: NaiveDate, end: NaiveDate) -> String {
    kind.parse::<domain::PeriodKind>()
        .ok()
        .and_then(|k| Period::from_parts(k, start).ok())
        .map(|p| p.to_string())
        .unwrap_or_else(|| format!("{start}/{end}"))
}

/// 1 January of `year`, with the year kept one step outside the supported range
/// (1900-2100), which gives the same answers for stored periods and keeps every date
/// representable on both engines.
fn new_year(year: i64) -> NaiveDate {
    let y = year.clamp(MIN_YEAR as i64 - 1, MAX_YEAR as i64 + 2) as i32;
    NaiveDate::from_ymd_opt(y, 1, 1).expect("1 January of a year in range")
}

/// An [`IntFilter`] on the year a period starts in (the calendar year, or the first year
/// of a fiscal year: `FY2017-18` is 2017), written as comparisons of the date column
/// `column` with 1 January of the years. Portable (no `EXTRACT` / `strftime`), and the
/// index on the date column stays usable.
pub fn year_condition(f: &IntFilter, column: &str) -> Condition {
    let col = || Expr::cust(column.to_owned());
    let in_year = |y: i64| {
        Condition::all()
            .add(col().gte(new_year(y)))
            .add(col().lt(new_year(y.saturating_add(1))))
    };
    let not_in_year = |y: i64| {
        Condition::any()
            .add(col().lt(new_year(y)))
            .add(col().gte(new_year(y.saturating_add(1))))
    };
    let mut c = Condition::all();
    if let Some(y) = f.eq {
        c = c.add(in_year(y));
    }
    if let Some(y) = f.ne {
        c = c.add(not_in_year(y));
    }
    if let Some(list) = &f.r#in {
        // An empty list matches nothing, as `IN ()` would.
        let mut any = Condition::any().add(Expr::cust("1 = 0"));
        for y in list {
            any = any.add(in_year(*y));
        }
        c = c.add(any);
    }
    if let Some(list) = &f.not_in {
        for y in list {
            c = c.add(not_in_year(*y));
        }
    }
    if let Some(y) = f.lt {
        c = c.add(col().lt(new_year(y)));
    }
    if let Some(y) = f.lte {
        c = c.add(col().lt(new_year(y.saturating_add(1))));
    }
    if let Some(y) = f.gt {
        c = c.add(col().gte(new_year(y.saturating_add(1))));
    }
    if let Some(y) = f.gte {
        c = c.add(col().gte(new_year(y)));
    }
    // Every period has a start: `isNull: true` matches nothing, `false` everything.
    if f.is_null == Some(true) {
        c = c.add(Expr::cust("1 = 0"));
    }
    c
}

// ---- Trade flows -----------------------------------------------------------------------

/// The direction of a trade flow, as seen by the reporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Flow {
    Import,
    Export,
    ReExport,
    ReImport,
}

impl Flow {
    /// The stored code (`import`, `export`, `re_export`, `re_import`).
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Import => "import",
            Flow::Export => "export",
            Flow::ReExport => "re_export",
            Flow::ReImport => "re_import",
        }
    }

    /// Reads the stored code.
    pub fn from_stored(s: &str) -> Result<Self, sea_orm::DbErr> {
        match s {
            "import" => Ok(Flow::Import),
            "export" => Ok(Flow::Export),
            "re_export" => Ok(Flow::ReExport),
            "re_import" => Ok(Flow::ReImport),
            other => Err(sea_orm::DbErr::Custom(format!(
                "unknown trade flow {other:?} in the database"
            ))),
        }
    }
}

/// Filter on the flow of a trade flow.
#[derive(Debug, Clone, Default, InputObject)]
pub struct FlowFilter {
    pub eq: Option<Flow>,
    #[graphql(name = "in")]
    pub r#in: Option<Vec<Flow>>,
    pub not_in: Option<Vec<Flow>>,
}

enum_filter_field!(FlowFilter { eq, r#in, not_in });

impl FlowFilter {
    /// The condition on the stored `flow` column `column`.
    pub fn condition(&self, column: &str) -> Condition {
        enum_condition(
            column,
            self.eq.map(Flow::as_str),
            None,
            self.r#in
                .as_ref()
                .map(|v| v.iter().map(|f| f.as_str()).collect()),
            self.not_in
                .as_ref()
                .map(|v| v.iter().map(|f| f.as_str()).collect()),
        )
    }
}

/// One trade flow: what a source reported for a reporter, partner, flow, commodity and
/// period. The same flow from two sources is two trade flows.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct TradeFlow {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    /// The code of the source, e.g. `un-comtrade`.
    pub source: String,
    /// The reporting country's ISO3 code.
    pub reporter: String,
    pub reporter_name: String,
    /// The partner's ISO3 code; `W00` is the world (all partners).
    pub partner: String,
    pub partner_name: String,
    pub flow: Flow,
    /// The classification of `commodityCode`, e.g. `HS2017`.
    pub classification: String,
    /// The code as reported in its classification (`TOTAL` for all commodities).
    pub commodity_code: String,
    /// The HS chapter (2 digits), when the code is an HS code.
    pub hs2: Option<String>,
    /// The HS heading (4 digits), when the code is at least a heading.
    pub hs4: Option<String>,
    /// The HS subheading (6 digits), when the code is a subheading.
    pub hs6: Option<String>,
    /// Digits of the code (0 for `TOTAL`).
    pub aggregate_level: i32,
    /// Further dimensions (second partner, customs procedure, mode of transport) as
    /// `key=value;…`; empty for the usual totals.
    pub breakdown_key: String,
    pub period_kind: PeriodKind,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The canonical label: `2017`, `2017-Q1`, `2017-03`, `FY2017-18`.
    pub period: String,
    /// The value in US dollars.
    pub value_usd: Option<f64>,
    /// The value as the source wrote it, in `originalCurrency` × 10^`originalUnitMultiplier`.
    pub original_value: Option<f64>,
    pub original_currency: Option<String>,
    pub original_unit_multiplier: i32,
    pub net_weight_kg: Option<f64>,
    pub quantity: Option<f64>,
    pub quantity_unit: Option<String>,
    pub is_value_estimated: bool,
    pub is_quantity_estimated: bool,
    pub is_net_weight_estimated: bool,
    /// The source's own flags, as written.
    pub flags: Option<String>,
}

impl FromRow for TradeFlow {
    /// Reads the columns of [`trade_flow_select`]: those of [`OPTIONAL`] it left out are
    /// empty (their fields were not selected).
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let cols = Columns::reader(row, OPTIONAL)?;
        let text = |v: Option<String>| v.unwrap_or_default();
        let period_kind: Option<String> = cols.get(Col::PeriodKind)?;
        let period_start: Option<NaiveDate> = cols.get(Col::PeriodStart)?;
        let period_end: Option<NaiveDate> = cols.get(Col::PeriodEnd)?;
        let flow: Option<String> = cols.get(Col::Flow)?;
        Ok(TradeFlow {
            change_seq: row.try_get_by("change_seq")?,
            row_id: row.try_get_by("id")?,
            source: text(cols.get(Col::Source)?),
            reporter: text(cols.get(Col::Reporter)?),
            reporter_name: text(cols.get(Col::ReporterName)?),
            partner: text(cols.get(Col::Partner)?),
            partner_name: text(cols.get(Col::PartnerName)?),
            flow: flow
                .as_deref()
                .map_or(Ok(Flow::Export), Flow::from_stored)?,
            classification: text(cols.get(Col::Classification)?),
            commodity_code: text(cols.get(Col::CommodityCode)?),
            hs2: cols.get(Col::Hs2)?,
            hs4: cols.get(Col::Hs4)?,
            hs6: cols.get(Col::Hs6)?,
            aggregate_level: cols.get(Col::AggregateLevel)?.unwrap_or_default(),
            breakdown_key: text(cols.get(Col::BreakdownKey)?),
            period_kind: period_kind
                .as_deref()
                .map_or(Ok(PeriodKind::Year), PeriodKind::from_stored)?,
            period: match (&period_kind, period_start, period_end) {
                (Some(kind), Some(start), Some(end)) => period_label(kind, start, end),
                _ => String::new(),
            },
            period_start: period_start.unwrap_or_default(),
            period_end: period_end.unwrap_or_default(),
            value_usd: cols.get(Col::ValueUsd)?,
            original_value: cols.get(Col::OriginalValue)?,
            original_currency: cols.get(Col::OriginalCurrency)?,
            original_unit_multiplier: cols.get(Col::OriginalUnitMultiplier)?.unwrap_or_default(),
            net_weight_kg: cols.get(Col::NetWeightKg)?,
            quantity: cols.get(Col::Quantity)?,
            quantity_unit: cols.get(Col::QuantityUnit)?,
            is_value_estimated: cols.get(Col::IsValueEstimated)?.unwrap_or_default(),
            is_quantity_estimated: cols.get(Col::IsQuantityEstimated)?.unwrap_or_default(),
            is_net_weight_estimated: cols.get(Col::IsNetWeightEstimated)?.unwrap_or_default(),
            flags: cols.get(Col::Flags)?,
        })
    }
}

/// The fields of a trade flow that read its period.
const PERIOD_FIELDS: [&str; 2] = ["period", "periodKind"];

optional_columns! {
    /// A trade flow's optional columns, in the order of `OPTIONAL`; its id and change
    /// number are always read.
    enum Col in OPTIONAL {
        Source => Column::computed("source_code", || format!("{SRC}.code"), &["source"]),
        Reporter => Column::computed("reporter_iso3", || format!("{REP}.iso3"), &["reporter"]),
        ReporterName => Column::computed("reporter_name", || format!("{REP}.name"), &["reporterName"]),
        Partner => Column::computed("partner_iso3", || format!("{PAR}.iso3"), &["partner"]),
        PartnerName => Column::computed("partner_name", || format!("{PAR}.name"), &["partnerName"]),
        Classification => Column::computed(
        "classification_code",
        || format!("{CLS}.code"),
        &["classification"],
    ),
        Flow => Column::own("flow", &["flow"]),
        CommodityCode => Column::own("commodity_code", &["commodityCode"]),
        Hs2 => Column::own("hs2", &["hs2"]),
        Hs4 => Column::own("hs4", &["hs4"]),
        Hs6 => Column::own("hs6", &["hs6"]),
        AggregateLevel => Column::own("aggregate_level", &["aggregateLevel"]),
        BreakdownKey => Column::own("breakdown_key", &["breakdownKey"]),
        PeriodKind => Column::own("period_kind", &PERIOD_FIELDS),
        PeriodStart => Column::own("period_start", &["periodStart", "period"]),
        PeriodEnd => Column::own("period_end", &["periodEnd", "period"]),
        ValueUsd => Column::own("value_usd", &["valueUsd"]),
        OriginalValue => Column::own("original_value", &["originalValue"]),
        OriginalCurrency => Column::own("original_currency", &["originalCurrency"]),
        OriginalUnitMultiplier => Column::own("original_unit_multiplier", &["originalUnitMultiplier"]),
        NetWeightKg => Column::own("net_weight_kg", &["netWeightKg"]),
        Quantity => Column::own("quantity", &["quantity"]),
        QuantityUnit => Column::own("quantity_unit", &["quantityUnit"]),
        IsValueEstimated => Column::own("is_value_estimated", &["isValueEstimated"]),
        IsQuantityEstimated => Column::own("is_quantity_estimated", &["isQuantityEstimated"]),
        IsNetWeightEstimated => Column::own("is_net_weight_estimated", &["isNetWeightEstimated"]),
        Flags => Column::own("flags", &["flags"]),
    }
}

#[ComplexObject]
impl TradeFlow {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }
}

impl Listed for TradeFlow {
    fn select() -> SelectStatement {
        trade_flow_select(Columns::all(OPTIONAL))
    }
}

connection!(
    TradeFlowConnection,
    TradeFlowEdge,
    TradeFlow,
    "A page of trade flows."
);

/// `SELECT t.id, t.change_seq, <the columns of columns> FROM trade_flows t` with the
/// source, reporter, partner and classification joined, the base of every trade-flow list
/// (a list reads only the columns its selected fields need). The joins are LEFT JOINs on primary keys of non-null
/// foreign keys: they find exactly one row each, and PostgreSQL can drop them from a
/// `COUNT(*)` that reads none of their columns.
pub fn trade_flow_select(columns: Columns) -> SelectStatement {
    let join = |q: &mut SelectStatement, table: &str, alias: &str, fk: &str| {
        q.join_as(
            JoinType::LeftJoin,
            Alias::new(table),
            Alias::new(alias),
            Expr::cust(format!("{alias}.id = {T}.{fk}")),
        );
    };
    let mut q = Query::select();
    q.from_as(Alias::new("trade_flows"), Alias::new(T))
        .expr(Expr::cust(format!("{T}.id")))
        .expr(Expr::cust(format!("{T}.change_seq")));
    columns.add_to(&mut q, OPTIONAL);
    join(&mut q, "sources", SRC, "source_id");
    join(&mut q, "countries", REP, "reporter_id");
    join(&mut q, "countries", PAR, "partner_id");
    join(&mut q, "classifications", CLS, "classification_id");
    q
}

order_input! {
    /// Fields trade flows can be ordered by.
    pub enum TradeFlowOrderField;
    /// One key of a trade-flow ordering.
    pub struct TradeFlowOrder {
        ValueUsd => (col("value_usd"), Float),
        PeriodStart => (col("period_start"), Date, NotNull),
        CommodityCode => (col("commodity_code"), Text, NotNull),
        /// The partner's ISO3 code.
        Partner => (format!("{PAR}.iso3"), Text),
        NetWeightKg => (col("net_weight_kg"), Float),
        Id => (col("id"), Int, NotNull),
    }
}

/// The sort of a trade-flow list: the requested keys in their order (NULLs last), by
/// period start then commodity code when none.
pub fn trade_flow_sort(order: Option<&[TradeFlowOrder]>) -> Sort {
    let default = vec![
        SortKey::asc("period_start", KeyKind::Date).not_null(),
        SortKey::asc("commodity_code", KeyKind::Text).not_null(),
    ];
    sort_of(order, default)
}

/// Filter on the HS code of a trade flow. Only flows classified in an HS revision match
/// (`TOTAL`, SITC or the bureau's commodity groups never do). Dots and spaces are ignored
/// (`9018.90` is `901890`).
#[derive(Debug, Clone, Default, InputObject)]
pub struct HsCodeFilter {
    /// Codes starting with these digits. 2, 4 or 6 digits compare the indexed chapter,
    /// heading or subheading column; other lengths add a prefix match on the code.
    pub starts_with: Option<String>,
    /// Exactly this code.
    pub eq: Option<String>,
    /// Codes starting with one of these (each 2, 4 or 6 digits: a chapter, heading or
    /// subheading, compared with the indexed level columns).
    #[graphql(name = "in")]
    pub r#in: Option<Vec<String>>,
}

/// The digits of an HS code given by the client, or a client error naming `what`.
fn hs_digits(raw: &str, what: &str) -> Result<String, Error> {
    let digits: String = raw.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_input(format!(
            "`hsCode.{what}` takes the digits of an HS code, such as \"9018\" or \"901890\"."
        )));
    }
    Ok(digits)
}

/// The longest HS level column (`hs2`, `hs4`, `hs6`) whose value a code of `n` digits
/// fixes, and its length; `None` below 2 digits.
fn level_of(n: usize) -> Option<usize> {
    match n {
        0 | 1 => None,
        2 | 3 => Some(2),
        4 | 5 => Some(4),
        _ => Some(6),
    }
}

impl HsCodeFilter {
    /// The condition on the trade-flow table aliased `a`.
    ///
    /// `startsWith` of 2, 4 or 6 digits is one equality on `hs2`, `hs4` or `hs6`, which
    /// are indexed with the period (no `LIKE` over the code column, which an ordinary
    /// index cannot serve under a non-C collation on PostgreSQL). Other lengths keep the
    /// equality on the longest level they fix (`901` → `hs2 = '90'`) and add
    /// `commodity_code LIKE '901%'`. The pattern holds digits only, so case folding (SQLite
    /// `LIKE` ignores ASCII case, PostgreSQL's does not) and collation cannot change the
    /// answer: it is the byte-wise prefix match of the C collation on both engines.
    pub fn condition(&self, a: &str) -> Result<Condition, Error> {
        let col = |c: &str| Expr::cust(format!("{a}.{c}"));
        let mut c = Condition::all();
        if let Some(raw) = &self.starts_with {
            let p = hs_digits(raw, "startsWith")?;
            match level_of(p.len()) {
                Some(n) if n == p.len() => c = c.add(col(&format!("hs{n}")).eq(p)),
                Some(n) => {
                    c = c
                        .add(col(&format!("hs{n}")).eq(p[..n].to_owned()))
                        .add(col("commodity_code").like(LikeExpr::new(format!("{p}%"))));
                }
                None => c = c.add(col("hs2").like(LikeExpr::new(format!("{p}%")))),
            }
        }
        if let Some(raw) = &self.eq {
            let code = hs_digits(raw, "eq")?;
            c = c.add(match level_of(code.len()) {
                Some(n) => col(&format!("hs{n}")).eq(code[..n].to_owned()),
                None => col("hs2").is_not_null(),
            });
            c = c.add(col("commodity_code").eq(code));
        }
        if let Some(list) = &self.r#in {
            let mut by_level: BTreeMap<usize, Vec<String>> = BTreeMap::new();
            for raw in list {
                let code = hs_digits(raw, "in")?;
                if !matches!(code.len(), 2 | 4 | 6) {
                    return Err(bad_input(format!(
                        "`hsCode.in` takes chapters, headings or subheadings (2, 4 or 6 \
                         digits); {raw:?} has {}.",
                        code.len()
                    )));
                }
                by_level.entry(code.len()).or_default().push(code);
            }
            // An empty list matches nothing, as `IN ()` would.
            let mut any = Condition::any();
            if by_level.is_empty() {
                any = any.add(Expr::cust("1 = 0"));
            }
            for (n, codes) in by_level {
                any = any.add(col(&format!("hs{n}")).is_in(codes));
            }
            c = c.add(any);
        }
        Ok(c)
    }
}

impl FilterField for HsCodeFilter {
    fn condition(&self, on: &On, a: &str, _level: Level) -> Result<Condition, Error> {
        match on {
            On::Table => self.condition(a),
            other => Err(crate::graphql::list::internal(format!(
                "an HS code filter cannot filter {other:?}"
            ))),
        }
    }

    fn matches_absent(&self) -> bool {
        self.starts_with.is_none() && self.eq.is_none() && self.r#in.is_none()
    }
}

filter_input! {
    /// Filter on trade flows. Fields combine with AND; `and`, `or` and `not` compose filters.
    pub struct TradeFlowFilter {
        id: IdFilter => On::Id(TYPE),
        /// The source's code, e.g. `un-comtrade`.
        source: StringFilter => On::Lookup {
            table: "sources",
            fk: "source_id",
            column: "code",
            alias: "tfs",
        },
        /// The reporter's ISO3 code.
        reporter: StringFilter => On::Lookup {
            table: "countries",
            fk: "reporter_id",
            column: "iso3",
            alias: "tfr",
        },
        /// The partner's ISO3 code (`W00` for the world).
        partner: StringFilter => On::Lookup {
            table: "countries",
            fk: "partner_id",
            column: "iso3",
            alias: "tfp",
        },
        flow: FlowFilter => On::Column("flow"),
        /// The classification's code, e.g. `HS2017`.
        classification: StringFilter => On::Lookup {
            table: "classifications",
            fk: "classification_id",
            column: "code",
            alias: "tfc",
        },
        /// The code as reported; `startsWith` here is a text match over the code column, while
        /// `hsCode.startsWith` uses the indexed HS levels.
        commodity_code: StringFilter => On::Column("commodity_code"),
        hs_code: HsCodeFilter => On::Table,
        /// The number of digits of the code: 2 (chapter), 4 (heading), 6 (subheading), 0
        /// for `TOTAL`. Give it when adding values up: a heading and its subheadings report
        /// the same trade twice.
        aggregate_level: IntFilter => On::Column("aggregate_level"),
        period_kind: PeriodKindFilter => On::Column("period_kind"),
        period_start: DateFilter => On::Column("period_start"),
        period_end: DateFilter => On::Column("period_end"),
        /// The year the period starts in: the calendar year, or the first year of a fiscal
        /// year (`FY2017-18` is 2017).
        year: IntFilter => On::YearOf("period_start"),
        value_usd: FloatFilter => On::Column("value_usd"),
    }
}

/// Root fields of trade statistics.
#[derive(Debug, Default)]
pub struct TradeQuery;

#[async_graphql::Object]
impl TradeQuery {
    /// Trade flows, by period start and commodity code unless ordered otherwise. Each
    /// source's figure is its own flow: filter on `source` before adding values up.
    #[allow(clippy::too_many_arguments)]
    async fn trade_flows(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<TradeFlowFilter>,
        order_by: Option<Vec<TradeFlowOrder>>,
        #[graphql(
            desc = "Only the rows written after this change number (their `changeSeq` is larger): an incremental pull, see README \"Use it from your BI tool\"."
        )]
        changed_since: Option<i64>,
    ) -> Result<TradeFlowConnection> {
        let mut select = trade_flow_select(Columns::of_list(ctx, OPTIONAL));
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = trade_flow_sort(order_by.as_deref());
        let args = PageArgs {
            first,
            after,
            last,
            before,
            changed_since,
        };
        let (page, total) = root_list(ctx, select, sort, args).await?;
        Ok(TradeFlowConnection { page, total })
    }

    /// Trade flows grouped (`groupBy`, none: one group) and added up: per group its keys,
    /// the flows counted, the sums of value, net weight and quantity, and the smallest and
    /// largest value. Figures that report the same trade are never added together: one
    /// source (the filter's, or the first by the configured priority), one period kind,
    /// one aggregate level (a heading never with its own subheadings), partner `W00`
    /// (World) left out unless the filter asks for it, totals only; the answer says which
    /// (`source`, `periodKind`, `aggregateLevel`, `notes`). Groups are ordered by
    /// `orderBy`, then by their keys; `first` caps them (1,000 unless given, at most
    /// 10,000) and `totalGroups` counts them.
    async fn trade_flows_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<TradeFlowFilter>,
        group_by: Option<Vec<super::trade_aggregate::TradeFlowDimension>>,
        having: Option<super::trade_aggregate::TradeFlowAggregateHaving>,
        order_by: Option<Vec<super::trade_aggregate::TradeFlowAggregateOrder>>,
        first: Option<i32>,
    ) -> Result<super::trade_aggregate::TradeFlowAggregate> {
        Box::pin(super::trade_aggregate::trade_flows_aggregate(
            ctx, filter, group_by, having, order_by, first,
        ))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;
    use sea_orm::sea_query::Query;

    fn sql(c: Condition) -> String {
        let mut q = Query::select();
        q.expr(Expr::cust("1"))
            .from_as(Alias::new("trade_flows"), Alias::new(T))
            .cond_where(c);
        DbBackend::Sqlite.build(&q).to_string()
    }

    #[test]
    fn hs_prefixes_use_the_level_columns() {
        let f = |p: &str| HsCodeFilter {
            starts_with: Some(p.into()),
            eq: None,
            r#in: None,
        };
        let s = sql(f("9018").condition(T).unwrap());
        assert!(s.contains("(t.hs4) = '9018'") && !s.contains("LIKE"), "{s}");
        let s = sql(f("90").condition(T).unwrap());
        assert!(s.contains("(t.hs2) = '90'") && !s.contains("LIKE"), "{s}");
        let s = sql(f("9018.90").condition(T).unwrap());
        assert!(
            s.contains("(t.hs6) = '901890'") && !s.contains("LIKE"),
            "{s}"
        );
        let s = sql(f("901").condition(T).unwrap());
        assert!(
            s.contains("(t.hs2) = '90'") && s.contains("(t.commodity_code) LIKE '901%'"),
            "{s}"
        );
        let s = sql(f("9").condition(T).unwrap());
        assert!(s.contains("(t.hs2) LIKE '9%'"), "{s}");
        assert!(f("90%").condition(T).is_err());
        assert!(f("").condition(T).is_err());
    }

    #[test]
    fn years_are_date_ranges() {
        let s = sql(year_condition(
            &IntFilter {
                eq: Some(2017),
                ..Default::default()
            },
            "t.period_start",
        ));
        assert!(
            s.contains("(t.period_start) >= '2017-01-01'")
                && s.contains("(t.period_start) < '2018-01-01'"),
            "{s}"
        );
        // Far-away years stay representable and keep their meaning.
        let s = sql(year_condition(
            &IntFilter {
                gt: Some(i64::MAX),
                lt: Some(i64::MIN),
                ..Default::default()
            },
            "t.period_start",
        ));
        assert!(
            s.contains("'2102-01-01'") && s.contains("'1899-01-01'"),
            "{s}"
        );
    }

    #[test]
    fn period_labels() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(period_label("year", d(2017, 1, 1), d(2017, 12, 31)), "2017");
        assert_eq!(
            period_label("month", d(2017, 3, 1), d(2017, 3, 31)),
            "2017-03"
        );
        assert_eq!(
            period_label("fiscal_year", d(2017, 7, 1), d(2018, 6, 30)),
            "FY2017-18"
        );
        assert_eq!(
            period_label("year", d(2017, 2, 1), d(2017, 12, 31)),
            "2017-02-01/2017-12-31"
        );
    }
}
