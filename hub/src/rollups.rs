//! Stored rollups of `firmStatistics`, `trainingStatistics` and `Cluster.trade`.
//!
//! Counting every firm and participation at each request costs what the data weighs
//! (distinct persons over 40,000 participations: hundreds of milliseconds on two cores), so
//! every **grouping set** of each statistic's dimensions (all 32 subsets of five) is
//! computed ahead and stored, one row per group, in `firm_statistics_rollup` and
//! `training_statistics_rollup`. A request whose filter the rollup can answer reads the
//! rows of its grouping set with the same `HAVING`, `ORDER BY` and `LIMIT` as the live
//! statement; any other request counts live. Each set is stored on its own because
//! distinct counts do not add up across groups (a person trained in two courses is one
//! person).
//!
//! **Fresh or not used.** The rollups are recomputed inside the transaction that changes
//! what they count ([`refresh`], called by imports, the figures upgrade and the reference
//! data loader), and `hub_meta.statistics_rollups` records the change number
//! ([`crate::changes`]) they reflect and the version of their definitions ([`VERSION`]).
//! A reader uses them only when that number is the database's current one ([`fresh`]); a
//! writer that forgets to refresh them (or a database written by an older hub) makes the
//! statistics slower, never wrong.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::db::int;
use crate::graphql::aggregate::DateParts;

/// The `hub_meta` key holding the change number the rollups reflect.
pub const META_KEY: &str = "statistics_rollups";

/// The dimensions of one statistic, in the order of their bits in `grouping`.
pub const DIMENSIONS: usize = 5;

/// What the rollups' definitions are: a hub whose rollups differ (a new rollup table, a
/// measure computed otherwise) raises it, and the rollups of a database written by an
/// earlier hub are then stale, whatever the change number.
const VERSION: u32 = 2;

/// The stamp of rollups that reflect change number `change`.
fn stamp(change: i64) -> String {
    format!("{change}/v{VERSION}")
}

/// Whether the rollups reflect the database's current change number.
pub async fn fresh(db: &impl ConnectionTrait) -> Result<bool, sea_orm::DbErr> {
    Ok(state(db).await?.1)
}

/// The database's current change number, and whether the rollups reflect it: one
/// statement.
pub async fn state(db: &impl ConnectionTrait) -> Result<(i64, bool), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "SELECT (SELECT last_seq FROM change_counter WHERE id = 1) AS now, \
                 (SELECT value FROM hub_meta WHERE key = '{META_KEY}') AS at"
            ),
        ))
        .await?;
    let Some(row) = row else {
        return Ok((0, false));
    };
    let now: Option<i64> = row.try_get_by("now")?;
    let at: Option<String> = row.try_get_by("at")?;
    let now = now.unwrap_or(0);
    Ok((now, at.is_some_and(|a| a == stamp(now))))
}

/// Recomputes the rollups inside `txn` unless they reflect its change number already.
/// Returns whether it ran.
///
/// On PostgreSQL it first locks the rollup tables against other refreshes until commit:
/// without it, two transactions replacing the rows at once (an import beside `hub migrate`)
/// could each delete the rows they see and both insert theirs. Writers that take change
/// numbers are serialised by the change counter anyway; the lock also covers the ones that
/// do not ([`ensure`]).
pub async fn refresh(txn: &impl ConnectionTrait) -> anyhow::Result<bool> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(
            "LOCK TABLE firm_statistics_rollup, training_statistics_rollup, \
             cluster_trade_rollup IN EXCLUSIVE MODE",
        )
        .await?;
    }
    let now = stamp(crate::changes::current(txn).await?);
    if crate::db::meta_get(txn, META_KEY).await?.as_deref() == Some(now.as_str()) {
        return Ok(false);
    }
    let started = std::time::Instant::now();
    let firms = read_firms(txn).await?;
    let participations = read_participations(txn).await?;
    let (firm_rows, training_rows) = tokio::task::spawn_blocking(move || {
        (
            cube::<_, FirmCell>(&firms),
            cube::<_, TrainingCell>(&participations),
        )
    })
    .await?;
    let (f, t) = (firm_rows.len(), training_rows.len());
    write(txn, "firm_statistics_rollup", FIRM_COLUMNS, firm_rows).await?;
    write(
        txn,
        "training_statistics_rollup",
        TRAINING_COLUMNS,
        training_rows,
    )
    .await?;
    let trade = refresh_cluster_trade(txn).await?;
    crate::db::meta_set(txn, META_KEY, &now).await?;
    tracing::debug!(
        firm_groups = f,
        training_groups = t,
        cluster_trade_rows = ?trade,
        ms = started.elapsed().as_millis() as u64,
        "statistics rollups refreshed"
    );
    Ok(true)
}

/// Computes the rollups in a transaction of their own unless they are fresh: for a database
/// upgraded to a hub that keeps them, or written by a writer that did not refresh them.
/// Returns whether it ran.
pub async fn ensure(db: &sea_orm::DatabaseConnection) -> anyhow::Result<bool> {
    use sea_orm::TransactionTrait as _;
    if fresh(db).await? {
        return Ok(false);
    }
    let txn = db.begin().await?;
    let ran = refresh(&txn).await?;
    txn.commit().await?;
    Ok(ran)
}

// ---- Cluster trade ---------------------------------------------------------------------

/// The `hub_meta` key holding what the cluster trade rollup was computed from.
const TRADE_KEY: &str = "cluster_trade_rollup";

/// Recomputes `cluster_trade_rollup` unless nothing that feeds it changed (trade flows,
/// baskets, deletions): for each cluster with a basket, the flows of every candidate code
/// of every revision (`Concordance::candidates`, as `Cluster.trade` reads them), grouped
/// by year and everything `Cluster.trade` chooses or filters by, in one `INSERT … SELECT`
/// per revision. Returns the rows written, `None` when it had nothing to do.
async fn refresh_cluster_trade(txn: &impl ConnectionTrait) -> anyhow::Result<Option<u64>> {
    let backend = txn.get_database_backend();
    let fed_by = txn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT (SELECT MAX(change_seq) FROM trade_flows) AS flows, \
             (SELECT MAX(change_seq) FROM cluster_products) AS baskets, \
             (SELECT COUNT(*) FROM cluster_products) AS items, \
             (SELECT MAX(change_seq) FROM tombstones) AS deleted"
                .to_owned(),
        ))
        .await?
        .map(|r| {
            ["flows", "baskets", "items", "deleted"]
                .iter()
                .map(|c| Ok(int(&r, c)?.unwrap_or(0).to_string()))
                .collect::<Result<Vec<_>, sea_orm::DbErr>>()
                .map(|v| v.join(":"))
        })
        .transpose()?
        .unwrap_or_default();
    if crate::db::meta_get(txn, TRADE_KEY).await?.as_deref() == Some(fed_by.as_str()) {
        return Ok(None);
    }
    txn.execute_raw(Statement::from_string(
        backend,
        "DELETE FROM cluster_trade_rollup".to_owned(),
    ))
    .await?;
    let year_start = match backend {
        DbBackend::Postgres => "CAST(date_trunc('year', t.period_start) AS DATE)",
        _ => "strftime('%Y', t.period_start) || '-01-01'",
    };
    let clusters: Vec<i64> = txn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id FROM clusters ORDER BY id".to_owned(),
        ))
        .await?
        .iter()
        .map(|r| r.try_get_by("id"))
        .collect::<Result<_, _>>()?;
    let mut written = 0;
    for cluster in clusters {
        let (_, read) = crate::graphql::types::cluster_trade::basket_of(txn, cluster).await?;
        let Ok((basket, level)) = read else { continue };
        let placed = crate::graphql::types::cluster_trade::placements(&basket)
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        // The code columns down to the basket's level; finer ones stay empty.
        let column = |digits: usize| {
            if digits <= level {
                format!("t.hs{digits}")
            } else {
                "CAST(NULL AS TEXT)".to_owned()
            }
        };
        let (hs2, hs4, hs6) = (column(2), column(4), column(6));
        for (classification, codes) in &placed.candidates {
            anyhow::ensure!(
                codes.iter().all(|c| c.bytes().all(|b| b.is_ascii_digit())),
                "candidate codes are digits"
            );
            let list = codes
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = crate::db::placeholders(
                backend,
                &format!(
                    "INSERT INTO cluster_trade_rollup (cluster_id, source_id, period_kind, \
                     aggregate_level, flow, reporter_id, partner_id, period_start, \
                     classification_id, hs2, hs4, hs6, breakdown_key, flows, value_usd) \
                     SELECT {cluster}, t.source_id, t.period_kind, t.aggregate_level, t.flow, \
                     t.reporter_id, t.partner_id, {year_start}, t.classification_id, {hs2}, \
                     {hs4}, {hs6}, '', COUNT(*), SUM(t.value_usd) FROM trade_flows t \
                     WHERE t.classification_id = (SELECT id FROM classifications WHERE code = ?) \
                     AND t.hs{level} IN ({list}) AND t.breakdown_key = '' \
                     GROUP BY t.source_id, t.period_kind, t.aggregate_level, t.flow, \
                     t.reporter_id, t.partner_id, {year_start}, t.classification_id, {hs2}, \
                     {hs4}, {hs6}"
                ),
            );
            written += txn
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    sql,
                    [classification.clone().into()],
                ))
                .await?
                .rows_affected();
        }
    }
    crate::db::meta_set(txn, TRADE_KEY, &fed_by).await?;
    Ok(Some(written))
}

// ---- Reading ---------------------------------------------------------------------------

/// One firm (once per cluster it is a member of, and once without a cluster).
struct FirmRow {
    /// Interned keys: cluster (0 for the row without a cluster), district, tehsil, size
    /// class, industry; 0 is `NULL`.
    keys: [u32; DIMENSIONS],
    employees: Option<i64>,
    female: Option<i64>,
    start: Option<String>,
    end: Option<String>,
}

/// One participation.
struct TrainingRow {
    /// Interned keys: cluster, year, sex, course, provider; 0 is `NULL`.
    keys: [u32; DIMENSIONS],
    person: Option<i64>,
    organisation: Option<i64>,
    event: i64,
    completed: Option<bool>,
    gain: Option<f64>,
}

/// The rows of a statistic with their interned key values.
struct Rows<R> {
    rows: Vec<R>,
    /// Per dimension, the values behind the interned ids (id `i` is `values[i - 1]`).
    values: [Vec<Value>; DIMENSIONS],
}

/// Interns the values of one dimension.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    values: Vec<Value>,
}

impl Interner {
    fn id(&mut self, key: Option<String>, value: impl FnOnce(&str) -> Value) -> u32 {
        let Some(key) = key else { return 0 };
        if let Some(id) = self.ids.get(&key) {
            return *id;
        }
        self.values.push(value(&key));
        let id = self.values.len() as u32;
        self.ids.insert(key, id);
        id
    }

    fn text(&mut self, key: Option<String>) -> u32 {
        self.id(key, |s| Value::from(s.to_owned()))
    }
}

fn interned(i: [Interner; DIMENSIONS]) -> [Vec<Value>; DIMENSIONS] {
    i.map(|i| i.values)
}

async fn read_firms(db: &impl ConnectionTrait) -> anyhow::Result<Rows<FirmRow>> {
    use crate::graphql::types::statistics::figure_field;
    let backend = db.get_database_backend();
    let (start, end) = (
        figure_field(backend, "period_start"),
        figure_field(backend, "period_end"),
    );
    let firms = db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT t.id, d.name AS district, te.name AS tehsil, t.size_class, \
                 t.industry_code, t.employees_total, t.employees_female, {start} AS p_start, \
                 {end} AS p_end FROM organisations t \
                 LEFT JOIN admin_areas d ON d.id = t.district_id \
                 LEFT JOIN admin_areas te ON te.id = t.tehsil_id \
                 WHERE t.kind = 'firm' AND t.merged_into_id IS NULL"
            ),
        ))
        .await?;
    // Each (firm, cluster) once, however many sources report the membership.
    let mut clusters: HashMap<i64, Vec<String>> = HashMap::new();
    for r in db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT DISTINCT m.organisation_id, c.slug FROM cluster_memberships m \
             JOIN clusters c ON c.id = m.cluster_id"
                .to_owned(),
        ))
        .await?
    {
        clusters
            .entry(r.try_get_by("organisation_id")?)
            .or_default()
            .push(r.try_get_by("slug")?);
    }
    let mut keys: [Interner; DIMENSIONS] = Default::default();
    let mut rows = Vec::with_capacity(firms.len() * 2);
    for r in &firms {
        let id: i64 = r.try_get_by("id")?;
        let mut k = [0u32; DIMENSIONS];
        k[1] = keys[1].text(r.try_get_by("district")?);
        k[2] = keys[2].text(r.try_get_by("tehsil")?);
        k[3] = keys[3].text(r.try_get_by("size_class")?);
        k[4] = keys[4].text(r.try_get_by("industry_code")?);
        let (employees, female) = (int(r, "employees_total")?, int(r, "employees_female")?);
        let (start, end): (Option<String>, Option<String>) =
            (r.try_get_by("p_start")?, r.try_get_by("p_end")?);
        let row = |cluster: u32| FirmRow {
            keys: [cluster, k[1], k[2], k[3], k[4]],
            employees,
            female,
            start: start.clone(),
            end: end.clone(),
        };
        rows.push(row(0));
        for slug in clusters.get(&id).into_iter().flatten() {
            let c = keys[0].text(Some(slug.clone()));
            rows.push(row(c));
        }
    }
    Ok(Rows {
        rows,
        values: interned(keys),
    })
}

async fn read_participations(db: &impl ConnectionTrait) -> anyhow::Result<Rows<TrainingRow>> {
    let backend = db.get_database_backend();
    let year = DateParts { backend }.year("e.start_date");
    let all = db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT cl.slug AS cluster, {year} AS year, p.sex, \
                 COALESCE(c.code, c.title) AS course, pr.name AS provider, \
                 COALESCE(pe.merged_into_id, p.person_id) AS person, p.organisation_id, \
                 p.training_event_id, p.completed, p.pre_score, p.post_score \
                 FROM participations p JOIN training_events e ON e.id = p.training_event_id \
                 LEFT JOIN persons pe ON pe.id = p.person_id \
                 LEFT JOIN clusters cl ON cl.id = e.cluster_id \
                 LEFT JOIN courses c ON c.id = e.course_id \
                 LEFT JOIN organisations pr ON pr.id = e.provider_organisation_id"
            ),
        ))
        .await?;
    let mut keys: [Interner; DIMENSIONS] = Default::default();
    let mut rows = Vec::with_capacity(all.len());
    for r in &all {
        let year = int(r, "year")?;
        let pre: Option<f64> = r.try_get_by("pre_score")?;
        let post: Option<f64> = r.try_get_by("post_score")?;
        rows.push(TrainingRow {
            keys: [
                keys[0].text(r.try_get_by("cluster")?),
                keys[1].id(year.map(|y| y.to_string()), |s| {
                    Value::from(s.parse::<i64>().unwrap_or_default())
                }),
                keys[2].text(r.try_get_by("sex")?),
                keys[3].text(r.try_get_by("course")?),
                keys[4].text(r.try_get_by("provider")?),
            ],
            person: r.try_get_by("person")?,
            organisation: r.try_get_by("organisation_id")?,
            event: r.try_get_by("training_event_id")?,
            completed: r.try_get_by("completed")?,
            gain: pre.zip(post).map(|(pre, post)| post - pre),
        });
    }
    Ok(Rows {
        rows,
        values: interned(keys),
    })
}

// ---- Computing -------------------------------------------------------------------------

/// The measures of one group, as stored, and how a row adds to them.
trait Cell<R>: Default {
    /// Adds `row` to the group (a firm row without a cluster only to sets without the
    /// cluster dimension, and the other way round: see [`cube`]).
    fn add(&mut self, row: &R);
    /// The stored values of the measures, in the order of the table's measure columns.
    fn values(self) -> Vec<Value>;
}

#[derive(Default)]
struct FirmCell {
    firms: i64,
    with_employees: i64,
    employees: Option<i64>,
    female: Option<i64>,
    both_female: Option<i64>,
    both_total: Option<i64>,
    start: Option<String>,
    end: Option<String>,
    undated: i64,
}

fn add_to(sum: &mut Option<i64>, v: Option<i64>) {
    if let Some(v) = v {
        *sum = Some(sum.unwrap_or(0) + v);
    }
}

impl Cell<FirmRow> for FirmCell {
    fn add(&mut self, r: &FirmRow) {
        self.firms += 1;
        if r.employees.is_some() {
            self.with_employees += 1;
            if r.start.is_none() {
                self.undated += 1;
            }
        }
        add_to(&mut self.employees, r.employees);
        add_to(&mut self.female, r.female);
        if let (Some(total), Some(female)) = (r.employees, r.female) {
            add_to(&mut self.both_female, Some(female));
            add_to(&mut self.both_total, Some(total));
        }
        if let Some(s) = &r.start
            && self.start.as_ref().is_none_or(|m| s < m)
        {
            self.start = Some(s.clone());
        }
        if let Some(e) = &r.end
            && self.end.as_ref().is_none_or(|m| e > m)
        {
            self.end = Some(e.clone());
        }
    }

    fn values(self) -> Vec<Value> {
        vec![
            self.firms.into(),
            self.with_employees.into(),
            self.employees.into(),
            self.female.into(),
            self.both_female.into(),
            self.both_total.into(),
            self.start.into(),
            self.end.into(),
            self.undated.into(),
        ]
    }
}

#[derive(Default)]
struct TrainingCell {
    participations: i64,
    persons: std::collections::HashSet<i64>,
    firms: std::collections::HashSet<i64>,
    events: std::collections::HashSet<i64>,
    completed: i64,
    completion_recorded: i64,
    scored: i64,
    gain_sum: Option<f64>,
}

impl Cell<TrainingRow> for TrainingCell {
    fn add(&mut self, r: &TrainingRow) {
        self.participations += 1;
        self.persons.extend(r.person);
        self.firms.extend(r.organisation);
        self.events.insert(r.event);
        if let Some(done) = r.completed {
            self.completion_recorded += 1;
            if done {
                self.completed += 1;
            }
        }
        if let Some(g) = r.gain {
            self.scored += 1;
            self.gain_sum = Some(self.gain_sum.unwrap_or(0.0) + g);
        }
    }

    fn values(self) -> Vec<Value> {
        vec![
            self.participations.into(),
            (self.persons.len() as i64).into(),
            (self.firms.len() as i64).into(),
            (self.events.len() as i64).into(),
            self.completed.into(),
            self.completion_recorded.into(),
            self.scored.into(),
            self.gain_sum.into(),
        ]
    }
}

/// What a row of either statistic gives the cube.
trait Keyed {
    /// Whether the rows come once without a cluster and once per cluster (firms), rather
    /// than once each (participations).
    const ONE_ROW_PER_CLUSTER: bool;
    fn keys(&self) -> &[u32; DIMENSIONS];
}

impl Keyed for FirmRow {
    const ONE_ROW_PER_CLUSTER: bool = true;
    fn keys(&self) -> &[u32; DIMENSIONS] {
        &self.keys
    }
}

impl Keyed for TrainingRow {
    const ONE_ROW_PER_CLUSTER: bool = false;
    fn keys(&self) -> &[u32; DIMENSIONS] {
        &self.keys
    }
}

/// Every grouping set of `rows`: per set (bit `i` of the mask: dimension `i` grouped by),
/// its groups with their keys and measures, as stored rows (`grouping`, five keys, the
/// measures).
///
/// Firm rows come once without a cluster (key 0 in the cluster slot) and once per
/// cluster: sets grouped by cluster take the rows with one (a firm counts in each of its
/// clusters; a firm in none is in no cluster's group, as the live statement's inner join
/// of memberships has it), the other sets the rows without. Participations have one row
/// each and a `NULL` cluster is a group of its own.
fn cube<R: Keyed, C: Cell<R>>(data: &Rows<R>) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    for mask in 0u32..(1 << DIMENSIONS) {
        let mut groups: HashMap<[u32; DIMENSIONS], C> = HashMap::new();
        for row in &data.rows {
            let keys = row.keys();
            if R::ONE_ROW_PER_CLUSTER && ((mask & 1 == 1) != (keys[0] != 0)) {
                continue;
            }
            let mut key = [0u32; DIMENSIONS];
            for (i, k) in key.iter_mut().enumerate() {
                if mask & (1 << i) != 0 {
                    *k = keys[i];
                }
            }
            groups.entry(key).or_default().add(row);
        }
        for (key, cell) in groups {
            let mut values: Vec<Value> = Vec::with_capacity(16);
            values.push((mask as i32).into());
            for (i, k) in key.iter().enumerate() {
                values.push(if mask & (1 << i) != 0 && *k != 0 {
                    data.values[i][*k as usize - 1].clone()
                } else {
                    null_of(&data.values[i])
                });
            }
            values.extend(cell.values());
            out.push(values);
        }
    }
    out
}

/// A `NULL` of the type of a dimension's values (text unless they are numbers).
fn null_of(values: &[Value]) -> Value {
    match values.first() {
        Some(Value::BigInt(_)) => Value::BigInt(None),
        _ => Value::String(None),
    }
}

// ---- Writing ---------------------------------------------------------------------------

const FIRM_COLUMNS: &[&str] = &[
    "grouping",
    "cluster",
    "district",
    "tehsil",
    "size_class",
    "industry",
    "firms",
    "firms_with_employees",
    "employees",
    "female_employees",
    "both_female",
    "both_total",
    "earliest_start",
    "latest_end",
    "undated",
];

const TRAINING_COLUMNS: &[&str] = &[
    "grouping",
    "cluster",
    "year",
    "sex",
    "course",
    "provider",
    "participations",
    "persons",
    "firms",
    "events",
    "completed",
    "completion_recorded",
    "scored",
    "gain_sum",
];

/// Replaces the rows of `table`.
async fn write(
    txn: &impl ConnectionTrait,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> anyhow::Result<()> {
    let backend = txn.get_database_backend();
    txn.execute_raw(Statement::from_string(
        backend,
        format!("DELETE FROM {table}"),
    ))
    .await?;
    // Well under both engines' limits on bound parameters (32,766 and 65,535).
    for chunk in rows.chunks(1_000) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)));
        for row in chunk {
            insert.values(row.iter().cloned().map(SimpleExpr::from))?;
        }
        let (sql, values) = match backend {
            DbBackend::Postgres => insert.build(sea_orm::sea_query::PostgresQueryBuilder),
            _ => insert.build(sea_orm::sea_query::SqliteQueryBuilder),
        };
        txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn firm(cluster: u32, district: u32, employees: Option<i64>, female: Option<i64>) -> FirmRow {
        FirmRow {
            keys: [cluster, district, 0, 0, 0],
            employees,
            female,
            start: employees.map(|_| "2023-01-01".to_owned()),
            end: employees.map(|_| "2023-12-31".to_owned()),
        }
    }

    #[test]
    fn firms_count_once_without_a_cluster_and_once_per_cluster() {
        // Firm A in clusters 1 and 2, firm B in cluster 1, firm C in none; districts 1, 1, 2.
        let data = Rows {
            rows: vec![
                firm(0, 1, Some(10), Some(4)),
                firm(1, 1, Some(10), Some(4)),
                firm(2, 1, Some(10), Some(4)),
                firm(0, 1, Some(5), None),
                firm(1, 1, Some(5), None),
                firm(0, 2, None, None),
            ],
            values: [
                vec!["a".into(), "b".into()],
                vec!["d1".into(), "d2".into()],
                vec![],
                vec![],
                vec![],
            ],
        };
        let rows = cube::<_, FirmCell>(&data);
        let find = |mask: i32, cluster: Option<&str>, district: Option<&str>| {
            rows.iter()
                .find(|r| {
                    r[0] == Value::from(mask)
                        && r[1] == cluster.map(str::to_owned).into()
                        && r[2] == district.map(str::to_owned).into()
                })
                .unwrap_or_else(|| panic!("no group {mask} {cluster:?} {district:?}"))
        };
        // Everything: three firms, 15 employees, 4 women among the 10 of the firm with both.
        let all = find(0, None, None);
        assert_eq!(all[6], Value::from(3i64));
        assert_eq!(all[7], Value::from(2i64));
        assert_eq!(all[8], Value::from(Some(15i64)));
        assert_eq!(all[10], Value::from(Some(4i64)));
        assert_eq!(all[11], Value::from(Some(10i64)));
        // By cluster: A and B in a, A in b; C in none.
        assert_eq!(find(1, Some("a"), None)[6], Value::from(2i64));
        assert_eq!(find(1, Some("b"), None)[6], Value::from(1i64));
        assert_eq!(rows.iter().filter(|r| r[0] == Value::from(1)).count(), 2);
        // By district: d1 has A and B, d2 has C with no head count.
        assert_eq!(find(2, None, Some("d1"))[6], Value::from(2i64));
        assert_eq!(find(2, None, Some("d2"))[8], Value::BigInt(None));
        // 32 grouping sets, each present.
        let sets: std::collections::BTreeSet<String> =
            rows.iter().map(|r| format!("{:?}", r[0])).collect();
        assert_eq!(sets.len(), 32);
    }

    #[test]
    fn distinct_counts_are_exact_per_grouping_set() {
        let p = |course: u32, person: i64| TrainingRow {
            keys: [1, 1, 1, course, 0],
            person: Some(person),
            organisation: Some(7),
            event: course as i64,
            completed: Some(course == 1),
            gain: Some(1.5),
        };
        // One person in two courses, another in one.
        let data = Rows {
            rows: vec![p(1, 100), p(2, 100), p(2, 200)],
            values: [
                vec!["c".into()],
                vec![2024i64.into()],
                vec!["F".into()],
                vec!["X".into(), "Y".into()],
                vec![],
            ],
        };
        let rows = cube::<_, TrainingCell>(&data);
        let everything = rows.iter().find(|r| r[0] == Value::from(0)).unwrap();
        assert_eq!(everything[6], Value::from(3i64), "participations");
        assert_eq!(everything[7], Value::from(2i64), "persons, not 3");
        assert_eq!(everything[8], Value::from(1i64), "firms");
        assert_eq!(everything[9], Value::from(2i64), "events");
        assert_eq!(everything[10], Value::from(1i64), "completed");
        assert_eq!(everything[11], Value::from(3i64), "recorded");
        assert_eq!(everything[13], Value::from(Some(4.5f64)), "gain sum");
        let by_course: Vec<_> = rows.iter().filter(|r| r[0] == Value::from(8)).collect();
        assert_eq!(by_course.len(), 2);
        assert!(
            by_course
                .iter()
                .any(|r| r[4] == Value::from("Y".to_owned()) && r[7] == Value::from(2i64))
        );
        // The year key keeps its type.
        assert!(
            rows.iter()
                .any(|r| r[0] == Value::from(2) && r[2] == Value::from(2024i64))
        );
    }
}
