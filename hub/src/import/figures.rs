//! Current figures: what a firm's head counts, turnover, exports and certifications are
//! today, each taken from the latest period that reports it.
//!
//! Figures that change over time are observations with a period (`firm_observations`). A
//! firm's current value of a figure is the value of the observation with the latest period
//! start among the observations that report that figure (a year, a fiscal year, a quarter
//! and a month compare by their start dates); within one period start, the source of
//! better priority wins, then the longer period (a year over its first month), then the
//! observation written first. A head count given on the firm itself without a period (a
//! firm list's `Employees` column) is an undated figure: it counts only when no
//! observation reports the figure, and among undated figures the source priority decides,
//! then the newer record. So one firm's two head counts never mix two sources' years
//! unless only one of them reports each.
//!
//! The size class follows the current head count. Names, addresses and identifiers keep
//! source-priority survivorship (see [`super::unify`]).
//!
//! The choice is stored on the organisation: the values in their columns (so that lists
//! filter and sort on them through indexes), and in `figures` where each came from:
//! `{"employees_total": {"observation": 12, "source": "cdi-survey-2023", "period":
//! "2023", …}, …, "_hash": …}`. Each batch of an import refreshes the organisations it
//! touched; `hub migrate` (and every start) refreshes them all once when the rule or the
//! size thresholds changed.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use hub_schema::domain::{Period, PeriodKind, SizeThresholds};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, TransactionTrait as _, Value};
use serde_json::{Map, Value as Json, json};

use super::Prov;
use super::sql::{content_hash, find_by_keys, update_row};

/// The figures chosen by period, with their column in `firm_observations` and
/// `organisations`.
pub const FIGURES: [Figure; 5] = [
    Figure::EmployeesTotal,
    Figure::EmployeesFemale,
    Figure::TurnoverPkr,
    Figure::ExportsUsd,
    Figure::Certifications,
];

/// One figure that changes over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Figure {
    EmployeesTotal,
    EmployeesFemale,
    TurnoverPkr,
    ExportsUsd,
    Certifications,
}

impl Figure {
    /// The column, in observations and organisations alike.
    pub fn column(self) -> &'static str {
        match self {
            Figure::EmployeesTotal => "employees_total",
            Figure::EmployeesFemale => "employees_female",
            Figure::TurnoverPkr => "turnover_pkr",
            Figure::ExportsUsd => "exports_usd",
            Figure::Certifications => "certifications",
        }
    }

    /// Whether source records carry it without a period (head counts on a firm list).
    fn on_records(self) -> bool {
        matches!(self, Figure::EmployeesTotal | Figure::EmployeesFemale)
    }
}

/// The version of the rule above, with the size thresholds: stored in `hub_meta` once
/// every organisation's figures follow it.
fn rule_version(sizes: &SizeThresholds) -> String {
    format!(
        "latest-period-1;sizes={},{},{}",
        sizes.small_from(),
        sizes.medium_from(),
        sizes.large_from()
    )
}

/// The `hub_meta` key of [`rule_version`].
pub const META_KEY: &str = "figures_rule";

/// A value of one figure.
#[derive(Debug, Clone, PartialEq)]
enum Amount {
    Count(i32),
    Real(f64),
    Text(String),
}

impl Amount {
    fn read(row: &QueryResult, figure: Figure) -> Result<Option<Amount>, sea_orm::DbErr> {
        let column = figure.column();
        Ok(match figure {
            Figure::EmployeesTotal | Figure::EmployeesFemale => {
                row.try_get_by::<Option<i32>, _>(column)?.map(Amount::Count)
            }
            Figure::TurnoverPkr | Figure::ExportsUsd => {
                row.try_get_by::<Option<f64>, _>(column)?.map(Amount::Real)
            }
            Figure::Certifications => row
                .try_get_by::<Option<String>, _>(column)?
                .map(Amount::Text),
        })
    }

    fn value(amount: Option<&Amount>, figure: Figure) -> Value {
        match (amount, figure) {
            (Some(Amount::Count(n)), _) => Value::from(*n),
            (Some(Amount::Real(x)), _) => Value::from(*x),
            (Some(Amount::Text(t)), _) => Value::from(t.clone()),
            (None, Figure::EmployeesTotal | Figure::EmployeesFemale) => {
                Value::from(Option::<i32>::None)
            }
            (None, Figure::TurnoverPkr | Figure::ExportsUsd) => Value::from(Option::<f64>::None),
            (None, Figure::Certifications) => Value::from(Option::<String>::None),
        }
    }
}

/// Where a candidate value comes from.
#[derive(Debug, Clone)]
struct Candidate {
    /// `(kind, start, end)` of an observation; `None` for an undated figure of a record.
    period: Option<(String, NaiveDate, NaiveDate)>,
    priority: i32,
    /// The record's observation date, for undated figures.
    observed_on: Option<NaiveDate>,
    /// Observation or record id.
    id: i64,
    source_id: i64,
    amounts: HashMap<Figure, Amount>,
}

impl Candidate {
    /// Sorts best first: dated before undated; latest period start, best priority, longest
    /// period, first written; undated by priority, newer record, first written.
    fn rank(&self) -> Rank {
        use std::cmp::Reverse;
        match &self.period {
            Some((_, start, end)) => (
                0u8,
                Reverse(Some(*start)),
                self.priority,
                Reverse(Some(*end)),
                self.id,
            ),
            None => (
                1u8,
                Reverse(None),
                self.priority,
                Reverse(self.observed_on),
                self.id,
            ),
        }
    }
}

/// The sort key of [`Candidate::rank`].
type Rank = (
    u8,
    std::cmp::Reverse<Option<NaiveDate>>,
    i32,
    std::cmp::Reverse<Option<NaiveDate>>,
    i64,
);

/// What refreshing needs besides the connection.
pub(crate) struct Rules<'a> {
    pub sizes: &'a SizeThresholds,
    pub priorities: &'a HashMap<i64, i32>,
    pub source_codes: &'a HashMap<i64, String>,
}

/// An organisation whose figures change: its id, the values of [`COLUMNS`] (`figures`
/// last).
pub(crate) type Update = (i64, Vec<Value>);

/// Chooses the figures of the organisations `ids` again from their observations and
/// records; returns those whose choice changed.
pub(crate) async fn plan<C: ConnectionTrait>(
    db: &C,
    rules: &Rules<'_>,
    ids: &HashSet<i64>,
) -> anyhow::Result<Vec<Update>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<Value> = ids.iter().map(|id| Value::from(*id)).collect();
    let mut candidates: HashMap<i64, Vec<Candidate>> = HashMap::new();
    let observations = find_by_keys(
        db,
        "firm_observations",
        None,
        "organisation_id",
        &keys,
        &[
            "id",
            "organisation_id",
            "source_id",
            "period_kind",
            "period_start",
            "period_end",
            "employees_total",
            "employees_female",
            "turnover_pkr",
            "exports_usd",
            "certifications",
        ],
    )
    .await?;
    for row in &observations {
        let source_id: i64 = row.try_get_by("source_id")?;
        let mut amounts = HashMap::new();
        for figure in FIGURES {
            if let Some(a) = Amount::read(row, figure)? {
                amounts.insert(figure, a);
            }
        }
        candidates
            .entry(row.try_get_by("organisation_id")?)
            .or_default()
            .push(Candidate {
                period: Some((
                    row.try_get_by("period_kind")?,
                    row.try_get_by("period_start")?,
                    row.try_get_by("period_end")?,
                )),
                priority: rules.priorities.get(&source_id).copied().unwrap_or(100),
                observed_on: None,
                id: row.try_get_by("id")?,
                source_id,
                amounts,
            });
    }
    let records = find_by_keys(
        db,
        "organisation_source_records",
        None,
        "organisation_id",
        &keys,
        &[
            "id",
            "organisation_id",
            "source_id",
            "observed_on",
            "employees_total",
            "employees_female",
        ],
    )
    .await?;
    let mut undated: HashMap<i64, Vec<Candidate>> = HashMap::new();
    for row in &records {
        let source_id: i64 = row.try_get_by("source_id")?;
        let mut amounts = HashMap::new();
        for figure in FIGURES.into_iter().filter(|f| f.on_records()) {
            if let Some(a) = Amount::read(row, figure)? {
                amounts.insert(figure, a);
            }
        }
        if amounts.is_empty() {
            continue;
        }
        undated
            .entry(row.try_get_by("organisation_id")?)
            .or_default()
            .push(Candidate {
                period: None,
                priority: rules.priorities.get(&source_id).copied().unwrap_or(100),
                observed_on: row.try_get_by("observed_on")?,
                id: row.try_get_by("id")?,
                source_id,
                amounts,
            });
    }
    let stored = find_by_keys(db, "organisations", None, "id", &keys, &["id", "figures"]).await?;
    let mut stored_hash: HashMap<i64, Option<String>> = HashMap::new();
    for row in &stored {
        let figures: Option<Json> = row.try_get_by("figures")?;
        stored_hash.insert(
            row.try_get_by("id")?,
            figures.and_then(|f| f.get("_hash").and_then(|h| h.as_str().map(str::to_owned))),
        );
    }

    let mut updates = Vec::new();
    let mut sorted: Vec<i64> = ids.iter().copied().collect();
    sorted.sort_unstable();
    for id in sorted {
        let Some(current_hash) = stored_hash.get(&id) else {
            continue;
        };
        let mut list = candidates.remove(&id).unwrap_or_default();
        list.extend(undated.remove(&id).unwrap_or_default());
        list.sort_by_key(|c| c.rank());
        let (values, provenance) = choose(&list, rules);
        let hash = content_hash(&values, &Json::Object(provenance.clone()).to_string());
        if current_hash.as_deref() == Some(hash.as_str()) {
            continue;
        }
        let mut provenance = provenance;
        provenance.insert("_hash".into(), Json::from(hash));
        let mut values = values;
        values.push(Value::from(Json::Object(provenance)));
        updates.push((id, values));
    }
    Ok(updates)
}

/// Writes planned updates, the `n`-th with change number `first + n`.
pub(crate) async fn write<C: ConnectionTrait>(
    db: &C,
    updates: Vec<Update>,
    prov: &Prov,
    first: i64,
) -> anyhow::Result<()> {
    for (n, (id, values)) in updates.into_iter().enumerate() {
        update_row(
            db,
            "organisations",
            id,
            &COLUMNS,
            values,
            prov,
            first + n as i64,
        )
        .await?;
    }
    Ok(())
}

/// The columns [`choose`] gives values for, then `figures`.
const COLUMNS: [&str; 8] = [
    "employees_total",
    "employees_female",
    "turnover_pkr",
    "exports_usd",
    "certifications",
    "size_class",
    "size_basis",
    "figures",
];

/// The values of [`COLUMNS`] (but `figures`) and the provenance of each chosen value, from
/// the candidates ranked best first.
fn choose(ranked: &[Candidate], rules: &Rules<'_>) -> (Vec<Value>, Map<String, Json>) {
    let mut values = Vec::with_capacity(COLUMNS.len());
    let mut provenance = Map::new();
    let mut employees = None;
    for figure in FIGURES {
        let best = ranked.iter().find(|c| c.amounts.contains_key(&figure));
        let amount = best.and_then(|c| c.amounts.get(&figure));
        if let (Figure::EmployeesTotal, Some(Amount::Count(n))) = (figure, amount) {
            employees = Some(*n);
        }
        values.push(Amount::value(amount, figure));
        if let Some(c) = best {
            provenance.insert(figure.column().into(), origin(c, rules));
        }
    }
    let size = employees
        .and_then(|n| u32::try_from(n).ok())
        .and_then(|n| rules.sizes.classify_by_employees(n));
    values.push(Value::from(size.map(|c| c.as_str().to_owned())));
    values.push(Value::from(size.map(|_| "employees".to_owned())));
    (values, provenance)
}

/// Where a chosen value came from, as stored in `figures`.
fn origin(c: &Candidate, rules: &Rules<'_>) -> Json {
    let source = rules.source_codes.get(&c.source_id).cloned();
    match &c.period {
        Some((kind, start, end)) => {
            let label = kind
                .parse::<PeriodKind>()
                .ok()
                .and_then(|k| Period::from_parts(k, *start).ok())
                .map(|p| p.to_string())
                .unwrap_or_else(|| format!("{start}/{end}"));
            json!({
                "observation": c.id,
                "source": source,
                "period": label,
                "period_kind": kind,
                "period_start": start.to_string(),
                "period_end": end.to_string(),
            })
        }
        None => json!({
            "record": c.id,
            "source": source,
            "observed_on": c.observed_on.map(|d| d.to_string()),
        }),
    }
}

/// Refreshes the figures of every organisation once when the rule or the size thresholds
/// changed since the last time (or never ran: a database of an earlier version), in one
/// transaction recorded as an import run of the hub itself. Returns the organisations
/// updated, or `None` when nothing had to run.
pub async fn upgrade(
    db: &DatabaseConnection,
    sizes: &SizeThresholds,
) -> anyhow::Result<Option<usize>> {
    let version = rule_version(sizes);
    if crate::db::meta_get(db, META_KEY).await?.as_deref() == Some(version.as_str()) {
        return Ok(None);
    }
    use hub_schema::entity::{import_runs, sources};
    use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, EntityTrait as _};
    let txn = db.begin().await?;
    let all: Vec<i64> = {
        use sea_orm::sea_query::{Alias, Query};
        let mut q = Query::select();
        q.column(Alias::new("id")).from(Alias::new("organisations"));
        let backend = txn.get_database_backend();
        txn.query_all_raw(backend.build(&q))
            .await?
            .iter()
            .map(|r| r.try_get_by::<i64, _>("id"))
            .collect::<Result<_, _>>()?
    };
    let mut updated = 0;
    if !all.is_empty() {
        let run = import_runs::ActiveModel {
            importer_id: Set("hub-figures".into()),
            importer_version: Set(env!("CARGO_PKG_VERSION").into()),
            status: Set("applied".into()),
            started_at: Set(crate::provenance::now()),
            finished_at: Set(Some(crate::provenance::now())),
            triggered_by: Set(Some("migrate".into())),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut priorities = HashMap::new();
        let mut codes = HashMap::new();
        for s in sources::Entity::find().all(&txn).await? {
            priorities.insert(s.id, s.priority);
            codes.insert(s.id, s.code);
        }
        let rules = Rules {
            sizes,
            priorities: &priorities,
            source_codes: &codes,
        };
        let prov = Prov {
            run_id: run.id,
            source_ref: "figures:organisation".into(),
            at: crate::provenance::now(),
        };
        for chunk in all.chunks(2_000) {
            let ids: HashSet<i64> = chunk.iter().copied().collect();
            let updates = plan(&txn, &rules, &ids).await?;
            if updates.is_empty() {
                continue;
            }
            updated += updates.len();
            let first = crate::changes::take(&txn, updates.len() as i64)
                .await?
                .first;
            write(&txn, updates, &prov, first).await?;
        }
        import_runs::ActiveModel {
            id: Set(run.id),
            updated: Set(updated as i64),
            rows_read: Set(all.len() as i64),
            ..Default::default()
        }
        .update(&txn)
        .await?;
    }
    crate::db::meta_set(&txn, META_KEY, &version).await?;
    crate::rollups::refresh(&txn).await?;
    txn.commit().await?;
    Ok(Some(updated))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A period as `(kind, (start year, month), (end year, month))`.
    type TestPeriod<'a> = (&'a str, (i32, u32), (i32, u32));

    fn candidate(
        period: Option<TestPeriod<'_>>,
        priority: i32,
        id: i64,
        total: Option<i32>,
        female: Option<i32>,
    ) -> Candidate {
        let d = |(y, m): (i32, u32)| NaiveDate::from_ymd_opt(y, m, 1).unwrap();
        let mut amounts = HashMap::new();
        if let Some(t) = total {
            amounts.insert(Figure::EmployeesTotal, Amount::Count(t));
        }
        if let Some(f) = female {
            amounts.insert(Figure::EmployeesFemale, Amount::Count(f));
        }
        Candidate {
            period: period.map(|(k, s, e)| (k.to_owned(), d(s), d(e))),
            priority,
            observed_on: None,
            id,
            source_id: priority as i64,
            amounts,
        }
    }

    #[test]
    fn the_latest_period_wins_and_priority_only_breaks_ties() {
        let sizes = SizeThresholds::default();
        let codes: HashMap<i64, String> = [(10, "registry".into()), (20, "survey".into())]
            .into_iter()
            .collect();
        let priorities: HashMap<i64, i32> = [(10, 10), (20, 20)].into_iter().collect();
        let rules = Rules {
            sizes: &sizes,
            priorities: &priorities,
            source_codes: &codes,
        };
        // The registry's head count of 2017 (better source), the survey's of 2023, and an
        // undated head count on the registry's record.
        let mut list = vec![
            candidate(Some(("year", (2017, 1), (2017, 12))), 10, 1, Some(9), None),
            candidate(
                Some(("year", (2023, 1), (2023, 12))),
                20,
                2,
                Some(15),
                Some(4),
            ),
            candidate(None, 10, 3, Some(40), Some(30)),
        ];
        list.sort_by_key(|c| c.rank());
        let (values, provenance) = choose(&list, &rules);
        assert_eq!(values[0], Value::from(15));
        assert_eq!(values[1], Value::from(4));
        assert_eq!(provenance["employees_total"]["period"], "2023");
        assert_eq!(provenance["employees_total"]["source"], "survey");
        assert_eq!(values[5], Value::from(Some("small".to_owned())));

        // Within one period start, the better source; a year over its first month.
        let mut list = vec![
            candidate(Some(("year", (2023, 1), (2023, 12))), 20, 4, Some(15), None),
            candidate(Some(("year", (2023, 1), (2023, 12))), 10, 5, Some(12), None),
            candidate(Some(("month", (2023, 1), (2023, 1))), 10, 6, Some(11), None),
        ];
        list.sort_by_key(|c| c.rank());
        assert_eq!(choose(&list, &rules).0[0], Value::from(12));

        // Only undated figures: they count, the better source first.
        let mut list = vec![
            candidate(None, 20, 7, Some(3), None),
            candidate(None, 10, 8, Some(8), None),
        ];
        list.sort_by_key(|c| c.rank());
        let (values, provenance) = choose(&list, &rules);
        assert_eq!(values[0], Value::from(8));
        assert_eq!(provenance["employees_total"]["record"], 8);
        assert_eq!(values[1], Value::from(Option::<i32>::None));
    }
}
