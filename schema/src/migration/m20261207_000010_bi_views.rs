//! Views for BI tools (`bi_*`): the datasets of `GET /datasets/{name}` as SQL, for tools
//! that speak SQL (Power BI's and Tableau's PostgreSQL connectors, Superset, DuckDB).
//!
//! One definition: the hub's dataset endpoint reads these same views, so a figure read over
//! HTTP and one read over SQL agree. The views hold **no personal data** (no person names,
//! CNIC, phone or e-mail; the one dataset with names, the per-person training
//! participation, is the hub's own query and needs the `pii` scope). SQL access bypasses
//! the hub's cluster scopes and small-group suppression: it is for whole-hub analysts (see
//! README "Use it from your BI tool").
//!
//! Every view has a `change_seq` column: the change number of the newest row that feeds it
//! (for a firm: the firm or one of its memberships). Integer columns are `BIGINT` and real
//! ones `DOUBLE PRECISION` on PostgreSQL (casts where an expression would be narrower or
//! `numeric`), so every reader sees one type per column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The names of the views, in creation order.
pub const VIEWS: [&str; 8] = [
    "bi_firms",
    "bi_firm_observations",
    "bi_cluster_indicators",
    "bi_training_participation",
    "bi_training_statistics",
    "bi_trade_flows",
    "bi_loans",
    "bi_import_runs",
];

/// The few expressions the two engines spell differently.
struct Dialect(DbBackend);

impl Dialect {
    /// The calendar year of a date, as a big integer.
    fn year(&self, date: &str) -> String {
        match self.0 {
            DbBackend::Postgres => format!("CAST(EXTRACT(YEAR FROM {date}) AS BIGINT)"),
            _ => format!("CAST(strftime('%Y', {date}) AS INTEGER)"),
        }
    }

    /// The larger of two values.
    fn greatest(&self, a: &str, b: &str) -> String {
        match self.0 {
            DbBackend::Postgres => format!("GREATEST({a}, {b})"),
            _ => format!("MAX({a}, {b})"),
        }
    }

    /// A text field of a JSON object column: `column.key.field`.
    fn json_text(&self, column: &str, key: &str, field: &str) -> String {
        match self.0 {
            DbBackend::Postgres => format!("({column} -> '{key}' ->> '{field}')"),
            _ => format!("json_extract({column}, '$.{key}.{field}')"),
        }
    }

    /// The values `v` of `from_where` (a `FROM … WHERE …` tail), sorted and joined by `; `.
    fn list(&self, value: &str, from_where: &str) -> String {
        match self.0 {
            DbBackend::Postgres => {
                format!("(SELECT string_agg(DISTINCT {value}, '; ' ORDER BY {value}) {from_where})")
            }
            // group_concat follows the order of the rows it reads.
            _ => format!(
                "(SELECT group_concat(v, '; ') FROM (SELECT DISTINCT {value} AS v {from_where} \
                 ORDER BY 1))"
            ),
        }
    }

    /// A count or sum as a big integer (PostgreSQL sums `bigint` as `numeric`).
    fn big(&self, expr: &str) -> String {
        format!("CAST({expr} AS BIGINT)")
    }

    /// A real number.
    fn real(&self, expr: &str) -> String {
        match self.0 {
            DbBackend::Postgres => format!("CAST({expr} AS DOUBLE PRECISION)"),
            _ => format!("CAST({expr} AS REAL)"),
        }
    }
}

/// The `CREATE VIEW` statements for `backend`, in the order of [`VIEWS`].
pub fn definitions(backend: DbBackend) -> Vec<(&'static str, String)> {
    let d = Dialect(backend);
    let identifiers = |scheme: &str| {
        d.list(
            "i.value",
            &format!(
                "FROM organisation_identifiers i WHERE i.organisation_id = o.id \
                 AND i.scheme = '{scheme}' AND NOT i.is_hashed"
            ),
        )
    };
    let firms = format!(
        "SELECT o.id AS id, o.name AS name, o.legal_form AS legal_form, \
         {clusters} AS clusters, dist.name AS district, teh.name AS tehsil, \
         o.size_class AS size_class, o.industry_code AS industry_code, o.status AS status, \
         {founded} AS founded_year, o.website AS website, \
         {ntn} AS ntn, {secp} AS secp_number, {unit} AS registry_unit_number, \
         {employees} AS employees_total, {female} AS employees_female, \
         {emp_period} AS employees_period, {emp_source} AS employees_source, \
         o.turnover_pkr AS turnover_pkr, {turn_period} AS turnover_period, \
         o.exports_usd AS exports_usd, {exp_period} AS exports_period, \
         o.certifications AS certifications, \
         {change} AS change_seq, o.updated_at AS updated_at \
         FROM organisations o \
         LEFT JOIN admin_areas dist ON dist.id = o.district_id \
         LEFT JOIN admin_areas teh ON teh.id = o.tehsil_id \
         WHERE o.kind = 'firm' AND o.merged_into_id IS NULL",
        clusters = d.list(
            "c.slug",
            "FROM cluster_memberships m JOIN clusters c ON c.id = m.cluster_id \
             WHERE m.organisation_id = o.id"
        ),
        founded = d.big("o.founded_year"),
        ntn = identifiers("PK-NTN"),
        secp = identifiers("PK-SEC"),
        unit = identifiers("psic-punjab-unit"),
        employees = d.big("o.employees_total"),
        female = d.big("o.employees_female"),
        emp_period = d.json_text("o.figures", "employees_total", "period"),
        emp_source = d.json_text("o.figures", "employees_total", "source"),
        turn_period = d.json_text("o.figures", "turnover_pkr", "period"),
        exp_period = d.json_text("o.figures", "exports_usd", "period"),
        change = d.greatest(
            "o.change_seq",
            "COALESCE((SELECT MAX(m.change_seq) FROM cluster_memberships m \
             WHERE m.organisation_id = o.id), 0)"
        ),
    );
    let observations = format!(
        "SELECT f.id AS id, f.organisation_id AS firm_id, o.name AS firm_name, \
         s.code AS source, f.period_kind AS period_kind, f.period_start AS period_start, \
         f.period_end AS period_end, {year} AS year, \
         {employees} AS employees_total, {female} AS employees_female, \
         f.turnover_pkr AS turnover_pkr, f.exports_usd AS exports_usd, \
         f.certifications AS certifications, f.change_seq AS change_seq, \
         f.updated_at AS updated_at \
         FROM firm_observations f \
         JOIN organisations o ON o.id = f.organisation_id \
         JOIN sources s ON s.id = f.source_id",
        year = d.year("f.period_start"),
        employees = d.big("f.employees_total"),
        female = d.big("f.employees_female"),
    );
    let value = |kind: &str| {
        d.real(&format!(
            "MAX(CASE WHEN v.value_type = '{kind}' THEN v.value END)"
        ))
    };
    let indicators = format!(
        "SELECT i.code AS indicator, i.name AS indicator_name, i.unit AS unit, \
         v.scope AS scope, c.slug AS cluster, p.code AS programme, \
         v.period_kind AS period_kind, v.period_start AS period_start, \
         v.period_end AS period_end, {year} AS year, v.breakdown AS breakdown, \
         v.breakdown_value AS breakdown_value, {baseline} AS baseline, \
         {target} AS target, {actual} AS actual, {change} AS change_seq \
         FROM indicator_values v \
         JOIN indicators i ON i.id = v.indicator_id \
         LEFT JOIN clusters c ON c.id = v.cluster_id \
         LEFT JOIN programmes p ON p.id = v.programme_id \
         WHERE v.scope IN ('cluster', 'programme') \
         GROUP BY i.code, i.name, i.unit, v.scope, c.slug, p.code, v.period_kind, \
         v.period_start, v.period_end, v.breakdown, v.breakdown_value",
        year = d.year("v.period_start"),
        baseline = value("baseline"),
        target = value("target"),
        actual = value("actual"),
        change = d.big(&d.greatest("MAX(v.change_seq)", "MAX(i.change_seq)")),
    );
    let completed = "SUM(CASE WHEN p.completed THEN 1 ELSE 0 END)";
    let participation = format!(
        "SELECT e.id AS event_id, e.code AS event_code, e.title AS event_title, \
         c.slug AS cluster, co.title AS course, pr.name AS provider, \
         e.start_date AS start_date, e.end_date AS end_date, {year} AS year, p.sex AS sex, \
         {participations} AS participations, {persons} AS persons, {firms} AS firms, \
         {completed_n} AS completed, {change} AS change_seq \
         FROM participations p \
         JOIN training_events e ON e.id = p.training_event_id \
         LEFT JOIN persons pe ON pe.id = p.person_id \
         LEFT JOIN clusters c ON c.id = e.cluster_id \
         LEFT JOIN courses co ON co.id = e.course_id \
         LEFT JOIN organisations pr ON pr.id = e.provider_organisation_id \
         GROUP BY e.id, e.code, e.title, c.slug, co.title, pr.name, e.start_date, \
         e.end_date, p.sex",
        year = d.year("e.start_date"),
        participations = d.big("COUNT(*)"),
        persons = d.big("COUNT(DISTINCT COALESCE(pe.merged_into_id, p.person_id))"),
        firms = d.big("COUNT(DISTINCT p.organisation_id)"),
        completed_n = d.big(completed),
        change = d.big(&d.greatest("MAX(p.change_seq)", "MAX(e.change_seq)")),
    );
    // The measures of `trainingStatistics` (the live statement's), grouped by cluster, year
    // and sex.
    let rate = format!(
        "({} / NULLIF(SUM(CASE WHEN p.completed IS NOT NULL THEN 1 ELSE 0 END), 0))",
        d.real(completed)
    );
    let statistics = format!(
        "SELECT c.slug AS cluster, {year} AS year, p.sex AS sex, \
         {participations} AS participations, {persons} AS persons, {firms} AS firms, \
         {events} AS events, {completed_n} AS completed, {rate} AS completion_rate, \
         {scored} AS scored, {gain} AS mean_score_gain, {change} AS change_seq \
         FROM participations p \
         JOIN training_events e ON e.id = p.training_event_id \
         LEFT JOIN persons pe ON pe.id = p.person_id \
         LEFT JOIN clusters c ON c.id = e.cluster_id \
         GROUP BY c.slug, {year}, p.sex",
        year = d.year("e.start_date"),
        participations = d.big("COUNT(*)"),
        persons = d.big("COUNT(DISTINCT COALESCE(pe.merged_into_id, p.person_id))"),
        firms = d.big("COUNT(DISTINCT p.organisation_id)"),
        events = d.big("COUNT(DISTINCT p.training_event_id)"),
        completed_n = d.big(completed),
        rate = rate,
        scored = d.big(
            "SUM(CASE WHEN p.pre_score IS NOT NULL AND p.post_score IS NOT NULL \
             THEN 1 ELSE 0 END)"
        ),
        gain = d.real("AVG(p.post_score - p.pre_score)"),
        change = d.big(&d.greatest("MAX(p.change_seq)", "MAX(e.change_seq)")),
    );
    let trade = format!(
        "SELECT t.id AS id, s.code AS source, r.iso3 AS reporter, pa.iso3 AS partner, \
         t.flow AS flow, cl.code AS classification, t.commodity_code AS commodity_code, \
         t.hs2 AS hs2, t.hs4 AS hs4, t.hs6 AS hs6, {level} AS aggregate_level, \
         t.period_kind AS period_kind, t.period_start AS period_start, \
         t.period_end AS period_end, {year} AS year, t.breakdown_key AS breakdown_key, \
         t.value_usd AS value_usd, t.net_weight_kg AS net_weight_kg, \
         t.quantity AS quantity, t.quantity_unit AS quantity_unit, \
         t.original_value AS original_value, t.original_currency AS original_currency, \
         t.is_value_estimated AS is_value_estimated, t.flags AS flags, \
         t.change_seq AS change_seq, t.updated_at AS updated_at \
         FROM trade_flows t \
         JOIN sources s ON s.id = t.source_id \
         JOIN countries r ON r.id = t.reporter_id \
         JOIN countries pa ON pa.id = t.partner_id \
         JOIN classifications cl ON cl.id = t.classification_id",
        level = d.big("t.aggregate_level"),
        year = d.year("t.period_start"),
    );
    let loans = format!(
        "SELECT l.id AS id, s.code AS source, l.scheme AS scheme, \
         l.organisation_id AS firm_id, o.name AS firm_name, l.unit_number AS unit_number, \
         l.amount_pkr AS amount_pkr, l.sanctioned_on AS sanctioned_on, \
         l.disbursed_on AS disbursed_on, {year} AS year, dist.name AS district, \
         l.status AS status, l.change_seq AS change_seq, l.updated_at AS updated_at \
         FROM loans l \
         LEFT JOIN sources s ON s.id = l.source_id \
         LEFT JOIN organisations o ON o.id = l.organisation_id \
         LEFT JOIN admin_areas dist ON dist.id = l.district_id",
        year = d.year("COALESCE(l.sanctioned_on, l.disbursed_on)"),
    );
    let runs = format!(
        "SELECT r.id AS id, r.importer_id AS importer, r.importer_version AS importer_version, \
         s.code AS source, r.file_name AS file_name, r.file_sha256 AS file_sha256, \
         {size} AS file_size, r.status AS status, r.dry_run AS dry_run, \
         r.started_at AS started_at, r.finished_at AS finished_at, \
         {read} AS rows_read, {inserted} AS inserted, {updated} AS updated, \
         {unchanged} AS unchanged, {rejected} AS rejected, {warnings} AS warnings, \
         {first} AS first_change_seq, {last} AS last_change_seq, \
         {change} AS change_seq \
         FROM import_runs r LEFT JOIN sources s ON s.id = r.source_id",
        size = d.big("r.file_size"),
        read = d.big("r.rows_read"),
        inserted = d.big("r.inserted"),
        updated = d.big("r.updated"),
        unchanged = d.big("r.unchanged"),
        rejected = d.big("r.rejected"),
        warnings = d.big("r.warnings"),
        first = d.big("r.first_change_seq"),
        last = d.big("r.last_change_seq"),
        change = d.big("COALESCE(r.last_change_seq, 0)"),
    );
    [
        firms,
        observations,
        indicators,
        participation,
        statistics,
        trade,
        loans,
        runs,
    ]
    .into_iter()
    .zip(VIEWS)
    .map(|(select, name)| (name, format!("CREATE VIEW {name} AS {select}")))
    .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (_, sql) in definitions(db.get_database_backend()) {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for name in VIEWS.iter().rev() {
            db.execute_unprepared(&format!("DROP VIEW IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
