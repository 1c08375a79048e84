//! `firmStatistics` and `trainingStatistics`: firms, jobs and people trained, grouped,
//! counted in SQL (distinct counts included), with the conventions of every aggregate
//! ([`crate::graphql::aggregate`]).
//!
//! - Firm statistics add the firms' **current figures** (the latest period that reports
//!   each, see `Firm.employeesTotalAsOf`) and say which periods they come from; grouped by
//!   cluster, a firm in two clusters counts in both (each group is true on its own; the
//!   groups do not add up to the firms).
//! - Training statistics count participations, and **distinct persons** (a person merged
//!   into another counts once, as the person it was merged into; participations without a
//!   person count as participations only) and distinct firms reached; the completion rate
//!   is over the participations whose completion is recorded, the mean score gain
//!   (post − pre) over those with both scores.

use async_graphql::{Context, Enum, InputObject, Result, SimpleObject};
use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Condition, Expr, Query};
use sea_orm::{DatabaseConnection, DbBackend, QueryResult};

use super::firm::FirmFilter;
use super::training::ParticipationFilter;
use crate::graphql::NodeContext as _;
use crate::graphql::aggregate::{
    DateParts, Dimension, TOTAL_GROUPS, dimensions, group_by, group_limit, having, run_groups,
};
use crate::graphql::filter::{FloatFilter, IntFilter, OrderDirection};
use crate::graphql::list::{T, internal};
use crate::graphql::policy::Protected;
use crate::graphql::suppress;

// ---- Small groups ----------------------------------------------------------------------

/// The least number of contributing firms of a group whose figures callers without
/// firm-level access see (`access.min_group_firms`); `None` when the caller has that
/// access and sees every group.
fn suppression(ctx: &Context<'_>) -> Option<i64> {
    if ctx.allowed(Protected::FirmFigures) {
        return None;
    }
    Some(
        ctx.data_opt::<std::sync::Arc<crate::access::Authenticator>>()
            .map_or(crate::config::DEFAULT_MIN_GROUP_FIRMS, |a| {
                a.min_group_firms()
            })
            .into(),
    )
}

/// Refuses what would let a caller under suppression see round it (see [`suppress`]).
fn refuse_side_channel(what: &str) -> async_graphql::Error {
    super::import_run::forbidden(format!(
        "{what} needs firm-level access: this caller sees statistics with small groups \
         withheld, and a {what} would show what is withheld. Group by the dimension instead \
         (`groupBy`)."
    ))
}

/// Withholds the figures of the groups small-group suppression picks (see [`suppress`]),
/// over every group of the answer, then keeps the first `limit`; the note to add when any
/// is withheld. `keys` gives a group's keys in the order grouped by, `contributing` its
/// contributing firms, `blank` withholds its figures. When the answer does not hold every
/// group (over the groups' cap), all are withheld: the complements cannot be chosen.
#[allow(clippy::too_many_arguments)]
fn withhold_groups<G>(
    groups: &mut Vec<G>,
    threshold: i64,
    total_groups: i64,
    limit: u64,
    keys: impl Fn(&G) -> Vec<String>,
    contributing: impl Fn(&G) -> i64,
    blank: impl Fn(&mut G),
) -> Option<String> {
    let key_strings: Vec<Vec<String>> = groups.iter().map(keys).collect();
    let contributing: Vec<i64> = groups.iter().map(contributing).collect();
    let withheld = if total_groups <= groups.len() as i64 {
        suppress::withheld(&key_strings, &contributing, threshold)
    } else {
        vec![true; groups.len()]
    };
    for (g, w) in groups.iter_mut().zip(&withheld) {
        if *w {
            blank(g);
        }
    }
    groups.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let n = withheld.iter().filter(|w| **w).count();
    (n > 0).then(|| suppress::note(n, threshold))
}

fn key_text<V: ToString>(v: &Option<V>) -> String {
    v.as_ref()
        .map_or_else(|| "\u{0}".to_owned(), ToString::to_string)
}

// ---- Rollups ---------------------------------------------------------------------------

/// A dimension with a key column in its statistic's rollup table ([`crate::rollups`]).
pub trait Stored: Dimension {
    /// The key column.
    fn column(self) -> &'static str;
    /// Its bit in the rollup's `grouping`.
    fn bit(self) -> u32;
}

/// A dimension of a statistic, read live or from the rollup table.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stat<D> {
    dim: D,
    rolled: bool,
}

impl<D: Stored> Dimension for Stat<D> {
    fn sql(self, parts: DateParts) -> Vec<String> {
        if self.rolled {
            vec![format!("{T}.{}", self.dim.column())]
        } else {
            self.dim.sql(parts)
        }
    }

    fn is_text(self) -> bool {
        self.dim.is_text()
    }

    fn join(self) -> Option<(&'static str, &'static str, String)> {
        if self.rolled { None } else { self.dim.join() }
    }
}

/// Whether a request reads the rollup: no filter (the rollup holds every group of
/// everything) and rollups that reflect the current change number.
async fn use_rollup<F>(db: &DatabaseConnection, filter: &Option<F>) -> Result<bool> {
    Ok(filter.is_none() && crate::rollups::fresh(db).await.map_err(internal)?)
}

/// Starts the statement of a statistic: from its rollup table (the rows of the grouping
/// set of `dims`) or from `live_table`, with the keys of `dims` selected and grouped by.
fn start_select<D: Stored>(
    rolled: bool,
    rollup_table: &str,
    live_table: &str,
    dims: &[D],
) -> (sea_orm::sea_query::SelectStatement, Vec<Stat<D>>) {
    let mut q = Query::select();
    let stats: Vec<Stat<D>> = dims.iter().map(|&dim| Stat { dim, rolled }).collect();
    if rolled {
        let mask: u32 = dims.iter().map(|d| 1 << d.bit()).sum();
        q.from_as(Alias::new(rollup_table), Alias::new(T))
            .and_where(Expr::cust(format!("{T}.grouping = {mask}")));
    } else {
        q.from_as(Alias::new(live_table), Alias::new(T));
    }
    (q, stats)
}

/// The keys read back, per dimension.
fn unstat<D>(keys: Vec<(Stat<D>, Vec<String>)>) -> Vec<(D, Vec<String>)> {
    keys.into_iter().map(|(s, names)| (s.dim, names)).collect()
}

// ---- Firms -----------------------------------------------------------------------------

/// What firms can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum FirmDimension {
    /// The cluster's slug (a firm in two clusters is in both groups).
    Cluster,
    District,
    Tehsil,
    SizeClass,
    /// The firm's industry class (PSIC / ISIC Rev.4 code).
    Industry,
}

impl Dimension for FirmDimension {
    fn sql(self, _: DateParts) -> Vec<String> {
        vec![
            match self {
                FirmDimension::Cluster => "fs_cl.slug",
                FirmDimension::District => "fs_d.name",
                FirmDimension::Tehsil => "fs_t.name",
                FirmDimension::SizeClass => "t.size_class",
                FirmDimension::Industry => "t.industry_code",
            }
            .to_owned(),
        ]
    }

    fn is_text(self) -> bool {
        true
    }

    fn join(self) -> Option<(&'static str, &'static str, String)> {
        match self {
            // Through the membership joined in `firm_statistics`.
            FirmDimension::Cluster => {
                Some(("clusters", "fs_cl", "fs_cl.id = fs_m.cluster_id".into()))
            }
            FirmDimension::District => {
                Some(("admin_areas", "fs_d", format!("fs_d.id = {T}.district_id")))
            }
            FirmDimension::Tehsil => {
                Some(("admin_areas", "fs_t", format!("fs_t.id = {T}.tehsil_id")))
            }
            _ => None,
        }
    }
}

impl Stored for FirmDimension {
    fn column(self) -> &'static str {
        match self {
            FirmDimension::Cluster => "cluster",
            FirmDimension::District => "district",
            FirmDimension::Tehsil => "tehsil",
            FirmDimension::SizeClass => "size_class",
            FirmDimension::Industry => "industry",
        }
    }

    fn bit(self) -> u32 {
        self as u32
    }
}

/// The keys of a group of firms: the dimensions asked are set.
#[derive(Debug, Clone, Default, SimpleObject)]
pub struct FirmGroupKeys {
    /// The cluster's slug.
    pub cluster: Option<String>,
    pub district: Option<String>,
    pub tehsil: Option<String>,
    pub size_class: Option<String>,
    pub industry: Option<String>,
}

/// The periods a group's current head counts come from.
#[derive(Debug, Clone, SimpleObject)]
pub struct FiguresPeriod {
    /// The earliest start of a period the head counts come from.
    pub earliest_start: Option<NaiveDate>,
    /// The latest end of a period the head counts come from.
    pub latest_end: Option<NaiveDate>,
    /// Firms whose head count has no period (given on a firm record without one).
    pub undated: i64,
}

/// One group of firms.
#[derive(Debug, Clone, SimpleObject)]
pub struct FirmGroup {
    pub keys: FirmGroupKeys,
    /// Firms in the group.
    pub firms: i64,
    /// Firms with a current head count.
    pub firms_with_employees: i64,
    /// Employees: the sum of the firms' current head counts.
    pub employees: Option<i64>,
    /// Female employees: the sum over the firms that report them.
    pub female_employees: Option<i64>,
    /// Female employees over employees, both over the firms that report both.
    pub share_female: Option<f64>,
    /// Where the head counts come from.
    pub employees_as_of: FiguresPeriod,
    /// Whether this group's figures are withheld from this caller (a small group, or the
    /// complement of one; see the notes).
    pub withheld: bool,
}

/// Firms grouped and counted.
#[derive(Debug, Clone, SimpleObject)]
pub struct FirmStatistics {
    /// What the counts mean, in words.
    pub notes: Vec<String>,
    /// The groups the `having` keeps, before `first`.
    pub total_groups: i64,
    pub groups: Vec<FirmGroup>,
}

/// Conditions on the measures of a group of firms.
#[derive(Debug, Clone, Default, InputObject)]
pub struct FirmStatisticsHaving {
    pub firms: Option<IntFilter>,
    pub employees: Option<IntFilter>,
    pub female_employees: Option<IntFilter>,
    pub share_female: Option<FloatFilter>,
}

/// What groups of firms can be ordered by: a measure or a key grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum FirmStatisticsOrderField {
    Firms,
    Employees,
    FemaleEmployees,
    ShareFemale,
    Cluster,
    District,
    Tehsil,
    SizeClass,
    Industry,
}

/// One key of the order of groups of firms.
#[derive(Debug, Clone, InputObject)]
pub struct FirmStatisticsOrder {
    pub field: FirmStatisticsOrderField,
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

/// The SQL of the measures of groups of firms, live or from the rollup.
struct FirmMeasures {
    firms: String,
    with_employees: String,
    employees: String,
    female: String,
    share_female: String,
    start: String,
    end: String,
    undated: String,
}

impl FirmMeasures {
    fn live(backend: DbBackend) -> Self {
        let start = figure_field(backend, "period_start");
        let end = figure_field(backend, "period_end");
        let both_female =
            "SUM(CASE WHEN t.employees_total IS NOT NULL THEN t.employees_female END)";
        let both_total = "SUM(CASE WHEN t.employees_female IS NOT NULL THEN t.employees_total END)";
        FirmMeasures {
            firms: "COUNT(DISTINCT t.id)".into(),
            with_employees: "COUNT(DISTINCT CASE WHEN t.employees_total IS NOT NULL THEN t.id END)"
                .into(),
            employees: "SUM(t.employees_total)".into(),
            female: "SUM(t.employees_female)".into(),
            share_female: share(both_female, both_total),
            undated: format!(
                "COUNT(DISTINCT CASE WHEN {T}.employees_total IS NOT NULL AND {start} IS NULL \
                 THEN {T}.id END)"
            ),
            start: format!("MIN({start})"),
            end: format!("MAX({end})"),
        }
    }

    /// Over the one stored row of each group (PostgreSQL sums `bigint` as `numeric`, hence
    /// the casts).
    fn rolled() -> Self {
        let sum = |c: &str| format!("CAST(SUM({T}.{c}) AS BIGINT)");
        FirmMeasures {
            firms: sum("firms"),
            with_employees: sum("firms_with_employees"),
            employees: sum("employees"),
            female: sum("female_employees"),
            share_female: share(&sum("both_female"), &sum("both_total")),
            start: format!("MIN({T}.earliest_start)"),
            end: format!("MAX({T}.latest_end)"),
            undated: sum("undated"),
        }
    }
}

/// Female over total employees of the firms that report both, as a decimal.
fn share(both_female: &str, both_total: &str) -> String {
    format!("(CAST({both_female} AS DOUBLE PRECISION) / NULLIF({both_total}, 0))")
}

/// The JSON text of `figures.employees_total.<field>`.
pub(crate) fn figure_field(backend: DbBackend, field: &str) -> String {
    match backend {
        DbBackend::Postgres => {
            format!("(CAST({T}.figures AS JSONB) -> 'employees_total' ->> '{field}')")
        }
        _ => format!("json_extract({T}.figures, '$.employees_total.{field}')"),
    }
}

impl FirmStatisticsOrderField {
    fn target(self, m: &FirmMeasures) -> Result<String, FirmDimension> {
        use FirmDimension as D;
        use FirmStatisticsOrderField as F;
        match self {
            F::Firms => Ok(m.firms.clone()),
            F::Employees => Ok(m.employees.clone()),
            F::FemaleEmployees => Ok(m.female.clone()),
            F::ShareFemale => Ok(m.share_female.clone()),
            F::Cluster => Err(D::Cluster),
            F::District => Err(D::District),
            F::Tehsil => Err(D::Tehsil),
            F::SizeClass => Err(D::SizeClass),
            F::Industry => Err(D::Industry),
        }
    }
}

/// `firmStatistics`.
pub async fn firm_statistics(
    ctx: &Context<'_>,
    filter: Option<FirmFilter>,
    group_by_dims: Option<Vec<FirmDimension>>,
    having_on: Option<FirmStatisticsHaving>,
    order: Option<Vec<FirmStatisticsOrder>>,
    first: Option<i32>,
) -> Result<FirmStatistics> {
    let limit = group_limit(first)?;
    let dims = dimensions(group_by_dims)?;
    let guard = suppression(ctx);
    if guard.is_some() {
        if filter.is_some() {
            return Err(refuse_side_channel("filter"));
        }
        if having_on.is_some() {
            return Err(refuse_side_channel("having"));
        }
        if order.iter().flatten().any(|o| {
            matches!(
                o.field,
                FirmStatisticsOrderField::Employees
                    | FirmStatisticsOrderField::FemaleEmployees
                    | FirmStatisticsOrderField::ShareFemale
            )
        }) {
            return Err(refuse_side_channel("order by a head count"));
        }
    }
    let db = ctx.data::<DatabaseConnection>()?;
    let backend = db.get_database_backend();
    let parts = DateParts { backend };
    // A caller scoped to clusters counts their firms, live (the rollups hold every firm).
    let scope = crate::graphql::connection::scope_ids(
        ctx.data_opt::<crate::graphql::principal::Principal>(),
    );
    let rolled = scope.is_none() && use_rollup(db, &filter).await?;
    let m = if rolled {
        FirmMeasures::rolled()
    } else {
        FirmMeasures::live(backend)
    };
    let (mut q, stats) = start_select(rolled, "firm_statistics_rollup", "organisations", &dims);
    if !rolled && dims.contains(&FirmDimension::Cluster) {
        // Each (firm, cluster) once, however many sources report the membership.
        let mut links = Query::select();
        links
            .distinct()
            .column(Alias::new("organisation_id"))
            .column(Alias::new("cluster_id"))
            .from(Alias::new("cluster_memberships"));
        if let Some(ids) = &scope {
            links.and_where(Expr::cust(format!("cluster_id IN ({ids})")));
        }
        q.join_subquery(
            sea_orm::sea_query::JoinType::InnerJoin,
            links,
            Alias::new("fs_m"),
            Expr::cust(format!("fs_m.organisation_id = {T}.id")),
        );
    }
    let keys = unstat(group_by(&mut q, &stats, parts));
    for (sql, name) in [
        (&m.firms, "m_firms"),
        (&m.with_employees, "m_with"),
        (&m.employees, "m_employees"),
        (&m.female, "m_female"),
        (&m.share_female, "m_share"),
        (&m.start, "m_start"),
        (&m.end, "m_end"),
        (&m.undated, "m_undated"),
        (&TOTAL_GROUPS.to_owned(), "m_total_groups"),
    ] {
        q.expr_as(Expr::cust(sql.clone()), Alias::new(name));
    }
    if !rolled {
        let mut cond = Condition::all()
            .add(Expr::cust(format!("{T}.kind = 'firm'")))
            .add(Expr::cust(format!("{T}.merged_into_id IS NULL")));
        if let Some(f) = &filter {
            cond = cond.add(f.condition(T, ctx.level())?);
        }
        if let Some(ids) = &scope {
            cond = cond.add(Expr::cust(crate::graphql::connection::in_clusters(
                &format!("{T}.id"),
                ids,
            )));
        }
        q.cond_where(cond);
    }
    let mut have = Condition::all();
    if let Some(h) = &having_on {
        having(&mut have, h.firms.as_ref(), &m.firms)?;
        having(&mut have, h.employees.as_ref(), &m.employees)?;
        having(&mut have, h.female_employees.as_ref(), &m.female)?;
        having(&mut have, h.share_female.as_ref(), &m.share_female)?;
    }
    q.cond_having(have);
    let order = order.unwrap_or_default().into_iter().map(|o| {
        (
            o.field.target(&m).map_err(|dim| Stat { dim, rolled }),
            o.direction,
            format!("{:?}", o.field),
        )
    });
    // Under suppression every group is read: the complements are chosen among them all.
    let fetch = if guard.is_some() {
        group_limit(Some(crate::graphql::aggregate::MAX_GROUPS))?
    } else {
        limit
    };
    let (rows, total_groups) = run_groups(db, q, &stats, parts, order, fetch).await?;
    let mut groups = rows
        .iter()
        .map(|r| firm_group(r, &keys))
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()
        .map_err(internal)?;
    let withheld_note = guard.and_then(|threshold| {
        withhold_groups(
            &mut groups,
            threshold,
            total_groups,
            limit,
            |g| {
                dims.iter()
                    .map(|d| match d {
                        FirmDimension::Cluster => key_text(&g.keys.cluster),
                        FirmDimension::District => key_text(&g.keys.district),
                        FirmDimension::Tehsil => key_text(&g.keys.tehsil),
                        FirmDimension::SizeClass => key_text(&g.keys.size_class),
                        FirmDimension::Industry => key_text(&g.keys.industry),
                    })
                    .collect()
            },
            |g| g.firms_with_employees,
            |g| {
                g.employees = None;
                g.female_employees = None;
                g.share_female = None;
                g.withheld = true;
            },
        )
    });
    let mut notes = vec![
        "Head counts are each firm's current figures: the latest period that reports them \
         (`employeesAsOf` gives the periods)."
            .to_owned(),
    ];
    if dims.contains(&FirmDimension::Cluster) {
        notes.push(
            "A firm in several clusters counts in each of their groups: the groups do not add \
             up to the firms."
                .to_owned(),
        );
    }
    notes.extend(withheld_note);
    Ok(FirmStatistics {
        notes,
        total_groups,
        groups,
    })
}

use crate::db::int;

fn date(r: &QueryResult, name: &str) -> Result<Option<NaiveDate>, sea_orm::DbErr> {
    Ok(r.try_get_by::<Option<String>, _>(name)?
        .and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()))
}

fn firm_group(
    r: &QueryResult,
    keys: &[(FirmDimension, Vec<String>)],
) -> Result<FirmGroup, sea_orm::DbErr> {
    let mut k = FirmGroupKeys::default();
    for (d, names) in keys {
        let v: Option<String> = r.try_get_by(names[0].as_str())?;
        match d {
            FirmDimension::Cluster => k.cluster = v,
            FirmDimension::District => k.district = v,
            FirmDimension::Tehsil => k.tehsil = v,
            FirmDimension::SizeClass => k.size_class = v,
            FirmDimension::Industry => k.industry = v,
        }
    }
    Ok(FirmGroup {
        keys: k,
        firms: int(r, "m_firms")?.unwrap_or(0),
        firms_with_employees: int(r, "m_with")?.unwrap_or(0),
        employees: int(r, "m_employees")?,
        female_employees: int(r, "m_female")?,
        share_female: r.try_get_by("m_share")?,
        employees_as_of: FiguresPeriod {
            earliest_start: date(r, "m_start")?,
            latest_end: date(r, "m_end")?,
            undated: int(r, "m_undated")?.unwrap_or(0),
        },
        withheld: false,
    })
}

// ---- Training --------------------------------------------------------------------------

/// What participations can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TrainingDimension {
    /// The slug of the event's cluster.
    Cluster,
    /// The calendar year the event starts in.
    Year,
    /// The participant's sex as recorded for the participation.
    Sex,
    /// The course's code (its title when it has none).
    Course,
    /// The name of the event's provider.
    Provider,
}

impl Dimension for TrainingDimension {
    fn sql(self, parts: DateParts) -> Vec<String> {
        vec![match self {
            TrainingDimension::Cluster => "ts_cl.slug".to_owned(),
            TrainingDimension::Year => parts.year("ts_e.start_date"),
            TrainingDimension::Sex => format!("{T}.sex"),
            TrainingDimension::Course => "COALESCE(ts_c.code, ts_c.title)".to_owned(),
            TrainingDimension::Provider => "ts_p.name".to_owned(),
        }]
    }

    fn is_text(self) -> bool {
        self != TrainingDimension::Year
    }

    fn join(self) -> Option<(&'static str, &'static str, String)> {
        match self {
            TrainingDimension::Cluster => {
                Some(("clusters", "ts_cl", "ts_cl.id = ts_e.cluster_id".into()))
            }
            TrainingDimension::Course => {
                Some(("courses", "ts_c", "ts_c.id = ts_e.course_id".into()))
            }
            TrainingDimension::Provider => Some((
                "organisations",
                "ts_p",
                "ts_p.id = ts_e.provider_organisation_id".into(),
            )),
            _ => None,
        }
    }
}

impl Stored for TrainingDimension {
    fn column(self) -> &'static str {
        match self {
            TrainingDimension::Cluster => "cluster",
            TrainingDimension::Year => "year",
            TrainingDimension::Sex => "sex",
            TrainingDimension::Course => "course",
            TrainingDimension::Provider => "provider",
        }
    }

    fn bit(self) -> u32 {
        self as u32
    }
}

/// The keys of a group of participations: the dimensions asked are set.
#[derive(Debug, Clone, Default, SimpleObject)]
pub struct TrainingGroupKeys {
    pub cluster: Option<String>,
    pub year: Option<i32>,
    pub sex: Option<String>,
    pub course: Option<String>,
    pub provider: Option<String>,
}

/// One group of participations.
#[derive(Debug, Clone, SimpleObject)]
pub struct TrainingGroup {
    pub keys: TrainingGroupKeys,
    /// Participations (withheld: `null`).
    pub participations: Option<i64>,
    /// Distinct persons (merged persons once; withheld: `null`).
    pub persons: Option<i64>,
    /// Distinct firms (or other organisations) the participants came from.
    pub firms: i64,
    /// Distinct training events.
    pub events: i64,
    /// Participations recorded as completed.
    pub completed: Option<i64>,
    /// Completed over the participations whose completion is recorded.
    pub completion_rate: Option<f64>,
    /// Participations with both a pre-test and a post-test score.
    pub scored: Option<i64>,
    /// The mean of post-test minus pre-test score, over `scored`.
    pub mean_score_gain: Option<f64>,
    /// Whether this group's figures are withheld from this caller (a small group, or the
    /// complement of one; see the notes).
    pub withheld: bool,
}

/// Participations grouped and counted.
#[derive(Debug, Clone, SimpleObject)]
pub struct TrainingStatistics {
    pub notes: Vec<String>,
    /// The groups the `having` keeps, before `first`.
    pub total_groups: i64,
    pub groups: Vec<TrainingGroup>,
}

/// Conditions on the measures of a group of participations.
#[derive(Debug, Clone, Default, InputObject)]
pub struct TrainingStatisticsHaving {
    pub participations: Option<IntFilter>,
    pub persons: Option<IntFilter>,
    pub firms: Option<IntFilter>,
    pub completion_rate: Option<FloatFilter>,
    pub mean_score_gain: Option<FloatFilter>,
}

/// What groups of participations can be ordered by: a measure or a key grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TrainingStatisticsOrderField {
    Participations,
    Persons,
    Firms,
    CompletionRate,
    MeanScoreGain,
    Cluster,
    Year,
    Sex,
    Course,
    Provider,
}

/// One key of the order of groups of participations.
#[derive(Debug, Clone, InputObject)]
pub struct TrainingStatisticsOrder {
    pub field: TrainingStatisticsOrderField,
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

/// The SQL of the measures of groups of participations, live or from the rollup.
struct TrainingMeasures {
    participations: String,
    persons: String,
    firms: String,
    events: String,
    completed: String,
    completion_rate: String,
    scored: String,
    gain: String,
}

impl TrainingMeasures {
    fn live() -> Self {
        let completed = "SUM(CASE WHEN t.completed THEN 1 ELSE 0 END)";
        TrainingMeasures {
            participations: "COUNT(*)".into(),
            // A merged person counts as the person it was merged into.
            persons: "COUNT(DISTINCT COALESCE(ts_pe.merged_into_id, t.person_id))".into(),
            firms: "COUNT(DISTINCT t.organisation_id)".into(),
            events: "COUNT(DISTINCT t.training_event_id)".into(),
            completed: completed.into(),
            completion_rate: format!(
                "(CAST({completed} AS DOUBLE PRECISION) \
                 / NULLIF(SUM(CASE WHEN t.completed IS NOT NULL THEN 1 ELSE 0 END), 0))"
            ),
            scored: "SUM(CASE WHEN t.pre_score IS NOT NULL AND t.post_score IS NOT NULL \
                     THEN 1 ELSE 0 END)"
                .into(),
            gain: "AVG(t.post_score - t.pre_score)".into(),
        }
    }

    /// Over the one stored row of each group.
    fn rolled() -> Self {
        let sum = |c: &str| format!("CAST(SUM({T}.{c}) AS BIGINT)");
        TrainingMeasures {
            participations: sum("participations"),
            persons: sum("persons"),
            firms: sum("firms"),
            events: sum("events"),
            completed: sum("completed"),
            completion_rate: format!(
                "(CAST(SUM({T}.completed) AS DOUBLE PRECISION) \
                 / NULLIF(CAST(SUM({T}.completion_recorded) AS DOUBLE PRECISION), 0))"
            ),
            scored: sum("scored"),
            gain: format!(
                "(SUM({T}.gain_sum) / NULLIF(CAST(SUM({T}.scored) AS DOUBLE PRECISION), 0))"
            ),
        }
    }
}

impl TrainingStatisticsOrderField {
    fn target(self, m: &TrainingMeasures) -> Result<String, TrainingDimension> {
        use TrainingDimension as D;
        use TrainingStatisticsOrderField as F;
        match self {
            F::Participations => Ok(m.participations.clone()),
            F::Persons => Ok(m.persons.clone()),
            F::Firms => Ok(m.firms.clone()),
            F::CompletionRate => Ok(m.completion_rate.clone()),
            F::MeanScoreGain => Ok(m.gain.clone()),
            F::Cluster => Err(D::Cluster),
            F::Year => Err(D::Year),
            F::Sex => Err(D::Sex),
            F::Course => Err(D::Course),
            F::Provider => Err(D::Provider),
        }
    }
}

/// `trainingStatistics`.
pub async fn training_statistics(
    ctx: &Context<'_>,
    filter: Option<ParticipationFilter>,
    group_by_dims: Option<Vec<TrainingDimension>>,
    having_on: Option<TrainingStatisticsHaving>,
    order: Option<Vec<TrainingStatisticsOrder>>,
    first: Option<i32>,
) -> Result<TrainingStatistics> {
    let limit = group_limit(first)?;
    let dims = dimensions(group_by_dims)?;
    let guard = suppression(ctx);
    if guard.is_some() {
        if filter.is_some() {
            return Err(refuse_side_channel("filter"));
        }
        if having_on.is_some() {
            return Err(refuse_side_channel("having"));
        }
        if order.iter().flatten().any(|o| {
            !matches!(
                o.field,
                TrainingStatisticsOrderField::Firms
                    | TrainingStatisticsOrderField::Cluster
                    | TrainingStatisticsOrderField::Year
                    | TrainingStatisticsOrderField::Sex
                    | TrainingStatisticsOrderField::Course
                    | TrainingStatisticsOrderField::Provider
            )
        }) {
            return Err(refuse_side_channel("order by a withheld measure"));
        }
    }
    let db = ctx.data::<DatabaseConnection>()?;
    let parts = DateParts {
        backend: db.get_database_backend(),
    };
    let scope = crate::graphql::connection::scope_ids(
        ctx.data_opt::<crate::graphql::principal::Principal>(),
    );
    let rolled = scope.is_none() && use_rollup(db, &filter).await?;
    let m = if rolled {
        TrainingMeasures::rolled()
    } else {
        TrainingMeasures::live()
    };
    let (mut q, stats) = start_select(
        rolled,
        "training_statistics_rollup",
        "participations",
        &dims,
    );
    if !rolled {
        q.join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            Alias::new("training_events"),
            Alias::new("ts_e"),
            Expr::cust(format!("ts_e.id = {T}.training_event_id")),
        )
        .join_as(
            sea_orm::sea_query::JoinType::LeftJoin,
            Alias::new("persons"),
            Alias::new("ts_pe"),
            Expr::cust(format!("ts_pe.id = {T}.person_id")),
        );
    }
    let keys = unstat(group_by(&mut q, &stats, parts));
    for (sql, name) in [
        (&m.participations, "m_participations"),
        (&m.persons, "m_persons"),
        (&m.firms, "m_firms"),
        (&m.events, "m_events"),
        (&m.completed, "m_completed"),
        (&m.completion_rate, "m_rate"),
        (&m.scored, "m_scored"),
        (&m.gain, "m_gain"),
        (&TOTAL_GROUPS.to_owned(), "m_total_groups"),
    ] {
        q.expr_as(Expr::cust(sql.clone()), Alias::new(name));
    }
    if let Some(f) = &filter {
        q.cond_where(f.condition(T, ctx.level())?);
    }
    if let Some(ids) = &scope {
        q.and_where(Expr::cust(format!("ts_e.cluster_id IN ({ids})")));
    }
    let mut have = Condition::all();
    if let Some(h) = &having_on {
        having(&mut have, h.participations.as_ref(), &m.participations)?;
        having(&mut have, h.persons.as_ref(), &m.persons)?;
        having(&mut have, h.firms.as_ref(), &m.firms)?;
        having(&mut have, h.completion_rate.as_ref(), &m.completion_rate)?;
        having(&mut have, h.mean_score_gain.as_ref(), &m.gain)?;
    }
    q.cond_having(have);
    let order = order.unwrap_or_default().into_iter().map(|o| {
        (
            o.field.target(&m).map_err(|dim| Stat { dim, rolled }),
            o.direction,
            format!("{:?}", o.field),
        )
    });
    let fetch = if guard.is_some() {
        group_limit(Some(crate::graphql::aggregate::MAX_GROUPS))?
    } else {
        limit
    };
    let (rows, total_groups) = run_groups(db, q, &stats, parts, order, fetch).await?;
    let mut groups = rows
        .iter()
        .map(|r| training_group(r, &keys))
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()
        .map_err(internal)?;
    let withheld_note = guard.and_then(|threshold| {
        withhold_groups(
            &mut groups,
            threshold,
            total_groups,
            limit,
            |g| {
                dims.iter()
                    .map(|d| match d {
                        TrainingDimension::Cluster => key_text(&g.keys.cluster),
                        TrainingDimension::Year => key_text(&g.keys.year),
                        TrainingDimension::Sex => key_text(&g.keys.sex),
                        TrainingDimension::Course => key_text(&g.keys.course),
                        TrainingDimension::Provider => key_text(&g.keys.provider),
                    })
                    .collect()
            },
            |g| g.firms,
            |g| {
                g.participations = None;
                g.persons = None;
                g.completed = None;
                g.completion_rate = None;
                g.scored = None;
                g.mean_score_gain = None;
                g.withheld = true;
            },
        )
    });
    Ok(TrainingStatistics {
        notes: [
            withheld_note.into_iter().collect::<Vec<_>>(),
            vec![
            "`persons` counts each person once (a merged person as the one it was merged into); \
             participations without a person count in `participations` only. The completion \
             rate is over the participations whose completion is recorded; the mean score gain \
             over those with both scores."
                .to_owned(),
            ],
        ]
        .concat(),
        total_groups,
        groups,
    })
}

fn training_group(
    r: &QueryResult,
    keys: &[(TrainingDimension, Vec<String>)],
) -> Result<TrainingGroup, sea_orm::DbErr> {
    let mut k = TrainingGroupKeys::default();
    for (d, names) in keys {
        match d {
            TrainingDimension::Year => k.year = int(r, &names[0])?.map(|y| y as i32),
            TrainingDimension::Cluster => k.cluster = r.try_get_by(names[0].as_str())?,
            TrainingDimension::Sex => k.sex = r.try_get_by(names[0].as_str())?,
            TrainingDimension::Course => k.course = r.try_get_by(names[0].as_str())?,
            TrainingDimension::Provider => k.provider = r.try_get_by(names[0].as_str())?,
        }
    }
    Ok(TrainingGroup {
        keys: k,
        participations: Some(int(r, "m_participations")?.unwrap_or(0)),
        persons: Some(int(r, "m_persons")?.unwrap_or(0)),
        firms: int(r, "m_firms")?.unwrap_or(0),
        events: int(r, "m_events")?.unwrap_or(0),
        completed: Some(int(r, "m_completed")?.unwrap_or(0)),
        completion_rate: r.try_get_by("m_rate")?,
        scored: Some(int(r, "m_scored")?.unwrap_or(0)),
        mean_score_gain: r.try_get_by("m_gain")?,
        withheld: false,
    })
}

// ---- Root ------------------------------------------------------------------------------

/// Root fields of statistics.
#[derive(Debug, Default)]
pub struct StatisticsQuery;

#[async_graphql::Object]
impl StatisticsQuery {
    /// Firms grouped (`groupBy`, none: one group) and counted, with the sums of their
    /// current head counts and the share of women, and the periods those figures come
    /// from. Groups are ordered by `orderBy`, then by their keys; `first` caps them (1,000
    /// unless given, at most 10,000) and `totalGroups` counts them.
    async fn firm_statistics(
        &self,
        ctx: &Context<'_>,
        filter: Option<FirmFilter>,
        group_by: Option<Vec<FirmDimension>>,
        having: Option<FirmStatisticsHaving>,
        order_by: Option<Vec<FirmStatisticsOrder>>,
        first: Option<i32>,
    ) -> Result<FirmStatistics> {
        Box::pin(firm_statistics(
            ctx, filter, group_by, having, order_by, first,
        ))
        .await
    }

    /// Participations grouped (`groupBy`, none: one group) and counted: participations,
    /// distinct persons, firms and events, completions and the completion rate, the mean
    /// score gain. Groups are ordered by `orderBy`, then by their keys; `first` caps them
    /// (1,000 unless given, at most 10,000) and `totalGroups` counts them.
    async fn training_statistics(
        &self,
        ctx: &Context<'_>,
        filter: Option<ParticipationFilter>,
        group_by: Option<Vec<TrainingDimension>>,
        having: Option<TrainingStatisticsHaving>,
        order_by: Option<Vec<TrainingStatisticsOrder>>,
        first: Option<i32>,
    ) -> Result<TrainingStatistics> {
        Box::pin(training_statistics(
            ctx, filter, group_by, having, order_by, first,
        ))
        .await
    }

    /// A results-framework table in one request: per indicator, at programme level and per
    /// cluster, the baseline, the end target, the latest actual and the target of its
    /// period, the progress share `(actual − baseline) / (end target − baseline)` and
    /// whether the actual is on track. Headline values only (breakdowns such as sex are
    /// left out); one value per period, of the source ranked first. Narrowed by the
    /// programme's code, the cluster's slug and the indicator's code.
    async fn indicator_results(
        &self,
        ctx: &Context<'_>,
        programme: Option<String>,
        cluster: Option<String>,
        indicator: Option<String>,
    ) -> Result<Vec<super::results::IndicatorResult>> {
        Box::pin(super::results::indicator_results(
            ctx, programme, cluster, indicator,
        ))
        .await
    }
}
