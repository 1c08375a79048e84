//! `indicatorResults`: a results-framework table in one request. Per indicator, at
//! programme level and per cluster: the baseline, the end target, the target of the
//! latest actual's period, the latest actual and the progress share.
//!
//! Which values count:
//! - headline values only: values broken down (by sex, say) are parts of the headline
//!   value and are left out;
//! - per indicator, scope and kind (baseline, target, actual) and period, one value: the
//!   one of the source ranked first by the configured priority (then the latest written);
//! - the **baseline** is the earliest baseline; the **end target** the target of the
//!   latest period; the **latest actual** the actual of the latest period, and its target
//!   the target of that same period (null when none is set for it);
//! - **progress** is `(latest actual − baseline) / (end target − baseline)`: 0 at the
//!   baseline, 1 at the end target; null when a term is missing or the end target equals
//!   the baseline. **On track** means the latest actual reached the target of its own
//!   period (for an indicator that falls, such as a cost, "reached" means at or below,
//!   told by the end target being below the baseline).

use std::collections::BTreeMap;

use async_graphql::{Context, Enum, Result, SimpleObject};
use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait as _, JoinType, Query};
use sea_orm::{ConnectionTrait as _, DatabaseConnection};

use super::trade::period_label;
use crate::graphql::list::{T, internal};

/// The level a result is reported at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Enum)]
pub enum ResultLevel {
    Programme,
    Cluster,
}

/// One value of a result row: the value and its period.
#[derive(Debug, Clone, SimpleObject)]
pub struct ResultValue {
    pub value: f64,
    /// The period's label: `2023`, `FY2022-23`, `2023-Q1`, …
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The code of the source that reported it.
    pub source: Option<String>,
}

/// One row of a results framework: an indicator at one level.
#[derive(Debug, Clone, SimpleObject)]
pub struct IndicatorResult {
    /// The indicator's code.
    pub indicator: String,
    pub name: String,
    pub unit: String,
    pub level: ResultLevel,
    /// The programme's code (programme level), or the cluster's programme.
    pub programme: Option<String>,
    /// The cluster's slug (cluster level).
    pub cluster: Option<String>,
    pub baseline: Option<ResultValue>,
    /// The target of the latest period that has one.
    pub end_target: Option<ResultValue>,
    pub latest_actual: Option<ResultValue>,
    /// The target of the latest actual's period.
    pub target_for_latest_actual: Option<ResultValue>,
    /// `(latest actual − baseline) / (end target − baseline)`.
    pub progress: Option<f64>,
    /// Whether the latest actual reached the target of its own period.
    pub on_track: Option<bool>,
}

/// A stored headline value.
struct Stored {
    kind: String,
    value: ResultValue,
}

/// `indicatorResults`.
pub async fn indicator_results(
    ctx: &Context<'_>,
    programme: Option<String>,
    cluster: Option<String>,
    indicator: Option<String>,
) -> Result<Vec<IndicatorResult>> {
    let db = ctx.data::<DatabaseConnection>()?;
    let mut q = Query::select();
    for (sql, name) in [
        ("ir_i.code", "indicator"),
        ("ir_i.name", "name"),
        ("ir_i.unit", "unit"),
        ("t.scope", "scope"),
        ("COALESCE(ir_p.code, ir_cp.code)", "programme"),
        ("ir_c.slug", "cluster"),
        ("t.value_type", "kind"),
        ("t.period_kind", "period_kind"),
        ("t.period_start", "period_start"),
        ("t.period_end", "period_end"),
        ("t.value", "value"),
        ("ir_s.code", "source"),
    ] {
        q.expr_as(Expr::cust(sql), Alias::new(name));
    }
    let join = |q: &mut sea_orm::sea_query::SelectStatement, table: &str, alias: &str, on: &str| {
        q.join_as(
            JoinType::LeftJoin,
            Alias::new(table),
            Alias::new(alias),
            Expr::cust(on.to_owned()),
        );
    };
    q.from_as(Alias::new("indicator_values"), Alias::new(T));
    join(&mut q, "indicators", "ir_i", "ir_i.id = t.indicator_id");
    join(&mut q, "programmes", "ir_p", "ir_p.id = t.programme_id");
    join(&mut q, "clusters", "ir_c", "ir_c.id = t.cluster_id");
    join(
        &mut q,
        "programmes",
        "ir_cp",
        "ir_cp.id = ir_c.programme_id",
    );
    join(&mut q, "sources", "ir_s", "ir_s.id = t.source_id");
    let mut cond = Condition::all()
        .add(
            Condition::any()
                .add(
                    Condition::all()
                        .add(Expr::cust("t.scope = 'programme'"))
                        .add(Expr::cust("t.programme_id IS NOT NULL")),
                )
                .add(
                    Condition::all()
                        .add(Expr::cust("t.scope = 'cluster'"))
                        .add(Expr::cust("t.cluster_id IS NOT NULL")),
                ),
        )
        .add(
            Condition::any()
                .add(Expr::cust("t.breakdown IS NULL"))
                .add(Expr::cust("t.breakdown = ''")),
        );
    if let Some(p) = &programme {
        cond = cond.add(Expr::cust("COALESCE(ir_p.code, ir_cp.code)").eq(p.clone()));
    }
    if let Some(c) = &cluster {
        cond = cond.add(Expr::cust("ir_c.slug").eq(c.clone()));
    }
    if let Some(i) = &indicator {
        cond = cond.add(Expr::cust("ir_i.code").eq(i.clone()));
    }
    // A caller scoped to clusters reads their rows only (programme-wide rows are not
    // reachable from a cluster).
    if let Some(ids) = crate::graphql::connection::scope_ids(
        ctx.data_opt::<crate::graphql::principal::Principal>(),
    ) {
        cond = cond.add(Expr::cust(format!("t.cluster_id IN ({ids})")));
    }
    q.cond_where(cond);
    // The value kept for a period is the first of its source priority, then the latest
    // written: read in the reverse order, each later one replaces the earlier.
    q.order_by_expr(
        Expr::cust("COALESCE(ir_s.priority, 2147483647)"),
        sea_orm::sea_query::Order::Desc,
    )
    .order_by_expr(Expr::cust("t.id"), sea_orm::sea_query::Order::Asc);
    let rows = db.query_all(&q).await.map_err(internal)?;

    type Key = (String, ResultLevel, Option<String>, Option<String>);
    struct Row {
        name: String,
        unit: String,
        /// (kind, period start) → value.
        values: BTreeMap<(String, NaiveDate), Stored>,
    }
    let mut table: BTreeMap<Key, Row> = BTreeMap::new();
    for r in &rows {
        let get_s = |c: &str| r.try_get_by::<String, _>(c).map_err(internal);
        let get_o = |c: &str| r.try_get_by::<Option<String>, _>(c).map_err(internal);
        let level = if get_s("scope")? == "programme" {
            ResultLevel::Programme
        } else {
            ResultLevel::Cluster
        };
        let cluster = if level == ResultLevel::Cluster {
            get_o("cluster")?
        } else {
            None
        };
        let key = (get_s("indicator")?, level, get_o("programme")?, cluster);
        let start: NaiveDate = r.try_get_by("period_start").map_err(internal)?;
        let end: NaiveDate = r.try_get_by("period_end").map_err(internal)?;
        let stored = Stored {
            kind: get_s("kind")?,
            value: ResultValue {
                value: r.try_get_by("value").map_err(internal)?,
                period: period_label(&get_s("period_kind")?, start, end),
                period_start: start,
                period_end: end,
                source: get_o("source")?,
            },
        };
        let row = table.entry(key).or_insert(Row {
            name: get_s("name")?,
            unit: get_s("unit")?,
            values: BTreeMap::new(),
        });
        row.values.insert((stored.kind.clone(), start), stored);
    }
    Ok(table
        .into_iter()
        .map(|((indicator, level, programme, cluster), row)| {
            let of = |kind: &str| {
                row.values
                    .values()
                    .filter(|s| s.kind == kind)
                    .map(|s| s.value.clone())
                    .collect::<Vec<_>>()
            };
            let baseline = of("baseline").into_iter().next();
            let targets = of("target");
            let end_target = targets.last().cloned();
            let latest_actual = of("actual").into_iter().last();
            let target_for_latest_actual = latest_actual.as_ref().and_then(|a| {
                targets
                    .iter()
                    .find(|t| t.period_start == a.period_start)
                    .cloned()
            });
            let progress = match (&baseline, &end_target, &latest_actual) {
                (Some(b), Some(t), Some(a)) if t.value != b.value => {
                    Some((a.value - b.value) / (t.value - b.value))
                }
                _ => None,
            };
            let falling = match (&baseline, &end_target) {
                (Some(b), Some(t)) => t.value < b.value,
                _ => false,
            };
            let on_track = latest_actual
                .as_ref()
                .zip(target_for_latest_actual.as_ref())
                .map(|(a, t)| {
                    if falling {
                        a.value <= t.value
                    } else {
                        a.value >= t.value
                    }
                });
            IndicatorResult {
                indicator,
                name: row.name,
                unit: row.unit,
                level,
                programme,
                cluster,
                baseline,
                end_target,
                latest_actual,
                target_for_latest_actual,
                progress,
                on_track,
            }
        })
        .collect())
}
