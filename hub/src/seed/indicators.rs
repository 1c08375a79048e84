//! `cdi_results_framework.xlsx`, sheet `Indicators`: the CDI results framework (source
//! `cdi-results`).
//!
//! ```text
//! Indicator Code | Indicator | Unit | Cluster | Breakdown | Breakdown Value | Year |
//! Baseline | Target | Actual
//! ```
//!
//! A row without a cluster is a programme-level value. Every row of a series repeats the
//! series' baseline; it is stored once, for the series' first year. Indicators coded
//! `DLI-…` are the World Bank's disbursement-linked indicators.

use std::collections::{BTreeSet, HashMap};

use hub_schema::domain::Period;
use hub_schema::entity::{indicator_values, indicators};
use sea_orm::ActiveModelTrait as _;

use super::clusters::Catalogue;
use super::values::count;
use super::xlsx::Workbook;
use super::{Ctx, DemoFile, Loc};
use crate::provenance::insert_chunked;

const FILE: DemoFile = DemoFile::Indicators;
const SOURCE: &str = "cdi-results";
const SHEET: &str = "Indicators";

struct ValueRow {
    loc: Loc,
    code: String,
    cluster: Option<(String, i64)>,
    breakdown: Option<(String, String)>,
    period: Period,
    baseline: Option<f64>,
    target: Option<f64>,
    actual: Option<f64>,
}

impl ValueRow {
    /// The series the row belongs to: indicator, scope and breakdown.
    fn series(&self) -> String {
        let scope = self
            .cluster
            .as_ref()
            .map_or("programme".to_owned(), |(slug, _)| {
                format!("cluster:{slug}")
            });
        let breakdown = self
            .breakdown
            .as_ref()
            .map_or("total".to_owned(), |(b, v)| format!("{b}={v}"));
        format!("{}|{scope}|{breakdown}", self.code)
    }
}

struct IndicatorDef {
    loc: Loc,
    name: String,
    unit: String,
    breakdowns: BTreeSet<String>,
}

/// Reads and writes the indicators and their values.
pub(super) async fn load(ctx: &mut Ctx<'_>, catalogue: &Catalogue) -> anyhow::Result<()> {
    let mut workbook = Workbook::open(FILE.bytes(), FILE.name())?;
    let sheet = workbook.sheet(SHEET, &["Indicator Code", "Indicator", "Unit", "Year"])?;
    let mut defs: Vec<(String, IndicatorDef)> = Vec::new();
    let mut values = Vec::new();
    let mut rows_read = 0;
    for row in sheet.rows() {
        rows_read += 1;
        let loc = Loc::new(FILE, Some(SHEET), row.number);
        let (Some(code), Some(name), Some(unit)) = (
            row.text("Indicator Code"),
            row.text("Indicator"),
            row.text("Unit"),
        ) else {
            ctx.reject(
                &loc,
                "Indicator Code",
                "indicator",
                "missing_value",
                "The indicator code, name or unit is empty; the row is skipped.",
            );
            continue;
        };
        let period = match row.number("Year").ok().flatten().and_then(count) {
            Some(year) => match Period::year(year) {
                Ok(p) => p,
                Err(e) => {
                    ctx.reject(
                        &loc,
                        "Year",
                        "period",
                        "invalid_period",
                        format!("{e} The row is skipped."),
                    );
                    continue;
                }
            },
            None => {
                ctx.reject(
                    &loc,
                    "Year",
                    "period",
                    "invalid_period",
                    "The year is not a whole number; the row is skipped.",
                );
                continue;
            }
        };
        let cluster = match row.text("Cluster") {
            None => None,
            Some(slug) => match catalogue.clusters.get(&slug) {
                Some(c) => Some((slug, c.id)),
                None => {
                    ctx.reject(
                        &loc,
                        "Cluster",
                        "cluster",
                        "unknown_cluster",
                        "The cluster is not one of the clusters of clusters.toml; the \
                         row is skipped.",
                    );
                    continue;
                }
            },
        };
        let breakdown = match (row.text("Breakdown"), row.text("Breakdown Value")) {
            (Some(b), Some(v)) => Some((b.to_lowercase(), v.to_lowercase())),
            (None, None) => None,
            _ => {
                ctx.reject(
                    &loc,
                    "Breakdown",
                    "breakdown",
                    "incomplete_breakdown",
                    "A breakdown needs both a dimension and a value; the row is skipped.",
                );
                continue;
            }
        };
        let mut number = |column: &'static str, field: &'static str| {
            row.number(column).unwrap_or_else(|_| {
                ctx.warn(
                    &loc,
                    column,
                    field,
                    "invalid_number",
                    "The value is not a number; it is left out.",
                );
                None
            })
        };
        let baseline = number("Baseline", "baseline");
        let target = number("Target", "target");
        let actual = number("Actual", "actual");
        match defs.iter_mut().find(|(c, _)| *c == code) {
            Some((_, def)) => def
                .breakdowns
                .extend(breakdown.iter().map(|(b, _)| b.clone())),
            None => defs.push((
                code.clone(),
                IndicatorDef {
                    loc: loc.clone(),
                    name,
                    unit,
                    breakdowns: breakdown.iter().map(|(b, _)| b.clone()).collect(),
                },
            )),
        }
        values.push(ValueRow {
            loc,
            code,
            cluster,
            breakdown,
            period,
            baseline,
            target,
            actual,
        });
    }
    ctx.read(FILE, rows_read);

    let source_id = ctx.source(FILE, SOURCE).await?.id;
    let programme_id = catalogue.programme_id();
    ctx.reserve(FILE, defs.len()).await?;
    let mut indicator_ids = HashMap::new();
    for (code, def) in defs {
        let model = row!(indicators {
            code: code.clone(),
            name: def.name,
            unit: def.unit,
            description: None,
            breakdowns: (!def.breakdowns.is_empty())
                .then(|| def.breakdowns.into_iter().collect::<Vec<_>>().join(",")),
            programme_id: programme_id,
            is_disbursement_linked: code.starts_with("DLI"),
            iati_ref: None,
        } @ ctx.prov(FILE, def.loc.source_ref()))
        .insert(ctx.txn)
        .await?;
        ctx.summary.indicators += 1;
        indicator_ids.insert(code, model.id);
    }

    // The first year of each series carries its baseline.
    let mut first_year: HashMap<String, Period> = HashMap::new();
    for v in &values {
        let entry = first_year.entry(v.series()).or_insert(v.period);
        if v.period.start() < entry.start() {
            *entry = v.period;
        }
    }
    let mut entries = Vec::new();
    for v in &values {
        let baseline = v.baseline.filter(|_| first_year[&v.series()] == v.period);
        for (kind, value) in [
            ("baseline", baseline),
            ("target", v.target),
            ("actual", v.actual),
        ] {
            if let Some(value) = value {
                entries.push((v, kind, value));
            }
        }
    }
    ctx.reserve(FILE, entries.len()).await?;
    let rows: Vec<_> = entries
        .into_iter()
        .map(|(v, kind, value)| {
            let scope = if v.cluster.is_some() {
                "cluster"
            } else {
                "programme"
            };
            row!(indicator_values {
                indicator_id: indicator_ids[&v.code],
                scope: scope.to_owned(),
                organisation_id: None,
                cluster_id: v.cluster.as_ref().map(|(_, id)| *id),
                programme_id: programme_id,
                admin_area_id: None,
                period_kind: v.period.kind().as_str().to_owned(),
                period_start: v.period.start(),
                period_end: v.period.end(),
                value_type: kind.to_owned(),
                value: value,
                breakdown: v.breakdown.as_ref().map(|(b, _)| b.clone()),
                breakdown_value: v.breakdown.as_ref().map(|(_, value)| value.clone()),
                note: None,
                source_id: Some(source_id),
                source_key: Some(format!(
                    "{}|{}|{kind}",
                    v.series(),
                    v.period.start().format("%Y")
                )),
            } @ ctx.prov(FILE, v.loc.source_ref()))
        })
        .collect();
    ctx.summary.indicator_values += insert_chunked(ctx.txn, rows).await?;
    Ok(())
}
