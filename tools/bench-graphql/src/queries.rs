//! The questions asked: each as a GraphQL query to the hub and as the SQL a person would
//! write for it, per engine (the floors run that SQL).

/// The firms looked up by `node(id:)`: the generated firms' row ids, a dense range.
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    pub first: i64,
    pub count: i64,
}

impl Ids {
    /// The `i`-th id, round the range.
    pub fn nth(self, i: u64) -> i64 {
        self.first + (i as i64).rem_euclid(self.count.max(1))
    }
}

/// The kind of a question, which sets its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A list: half the actix floor, a quarter of pgbench, p99 under 20 ms.
    List,
    /// The trade filter: the pgbench floor.
    Filter,
    /// An aggregate: half the actix floor, p99 under 50 ms (no pgbench run).
    Aggregate,
}

/// One question.
pub struct Question {
    /// Its short name, a column of the report and the floor's route.
    pub name: &'static str,
    /// What it asks, for the report.
    pub what: &'static str,
    /// Which targets apply.
    pub target: Target,
    /// The GraphQL query for the `i`-th request.
    pub graphql: fn(Ids, u64) -> String,
    /// Its variables for the `i`-th request, if it has any.
    pub variables: Option<fn(Ids, u64) -> serde_json::Value>,
    /// The SQL for SQLite and for PostgreSQL; `:id` stands for a firm's row id.
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// The cluster page with the engine's byte-order sort of names.
macro_rules! cluster_page {
    ($order:literal) => {
        concat!(
            r#"SELECT o.id, o.name, o.employees_total,
  (SELECT i.value FROM organisation_identifiers i
    WHERE i.organisation_id = o.id AND i.scheme = 'PK-NTN' AND NOT i.is_hashed
    ORDER BY i.value LIMIT 1) AS ntn
FROM organisations o
WHERE o.kind = 'firm' AND o.merged_into_id IS NULL
  AND EXISTS (SELECT 1 FROM cluster_memberships m
              WHERE m.organisation_id = o.id
                AND m.cluster_id = (SELECT id FROM clusters WHERE slug = 'sialkot-surgical'))
"#,
            $order
        )
    };
}

const CLUSTER_PAGE_PG: &str = cluster_page!(r#"ORDER BY o.name COLLATE "C", o.id LIMIT 50"#);
const CLUSTER_PAGE_SQLITE: &str = cluster_page!("ORDER BY o.name, o.id LIMIT 50");

const CLUSTERS_PG: &str = r#"SELECT c.slug, f.name
FROM (SELECT id, slug, name FROM clusters ORDER BY name COLLATE "C", id LIMIT 4) c
CROSS JOIN LATERAL (
  SELECT o.id, o.name FROM organisations o
  WHERE o.kind = 'firm' AND o.merged_into_id IS NULL
    AND EXISTS (SELECT 1 FROM cluster_memberships m
                WHERE m.organisation_id = o.id AND m.cluster_id = c.id)
  ORDER BY o.name COLLATE "C", o.id LIMIT 25) f
ORDER BY c.name COLLATE "C", c.id, f.name COLLATE "C", f.id"#;

/// SQLite has no `LATERAL`: the four clusters' pages, each its own indexed subquery.
const CLUSTERS_SQLITE: &str = r#"SELECT * FROM (SELECT c.slug, o.name FROM clusters c JOIN organisations o
  WHERE c.slug = 'lahore-auto-parts' AND o.kind = 'firm' AND o.merged_into_id IS NULL
    AND EXISTS (SELECT 1 FROM cluster_memberships m WHERE m.organisation_id = o.id AND m.cluster_id = c.id)
  ORDER BY o.name, o.id LIMIT 25)
UNION ALL SELECT * FROM (SELECT c.slug, o.name FROM clusters c JOIN organisations o
  WHERE c.slug = 'lahore-garments' AND o.kind = 'firm' AND o.merged_into_id IS NULL
    AND EXISTS (SELECT 1 FROM cluster_memberships m WHERE m.organisation_id = o.id AND m.cluster_id = c.id)
  ORDER BY o.name, o.id LIMIT 25)
UNION ALL SELECT * FROM (SELECT c.slug, o.name FROM clusters c JOIN organisations o
  WHERE c.slug = 'lahore-leather-footwear' AND o.kind = 'firm' AND o.merged_into_id IS NULL
    AND EXISTS (SELECT 1 FROM cluster_memberships m WHERE m.organisation_id = o.id AND m.cluster_id = c.id)
  ORDER BY o.name, o.id LIMIT 25)
UNION ALL SELECT * FROM (SELECT c.slug, o.name FROM clusters c JOIN organisations o
  WHERE c.slug = 'sialkot-surgical' AND o.kind = 'firm' AND o.merged_into_id IS NULL
    AND EXISTS (SELECT 1 FROM cluster_memberships m WHERE m.organisation_id = o.id AND m.cluster_id = c.id)
  ORDER BY o.name, o.id LIMIT 25)"#;

const TRADE: &str = r#"SELECT t.id, t.commodity_code, p.iso3 AS partner, t.period_start, t.value_usd
FROM trade_flows t JOIN countries p ON p.id = t.partner_id
WHERE t.hs4 = '9018' AND t.flow = 'export'
  AND t.period_start >= '2015-01-01' AND t.period_start <= '2020-12-31'
ORDER BY t.value_usd DESC, t.id LIMIT 100"#;

const FIRMS: &str = r#"SELECT o.id, o.name, d.name AS district, o.employees_total
FROM organisations o LEFT JOIN admin_areas d ON d.id = o.district_id
WHERE o.kind = 'firm' AND o.merged_into_id IS NULL AND o.employees_total >= 100
  AND o.district_id = (SELECT id FROM admin_areas WHERE level = 'district' AND name = 'Lahore')
ORDER BY o.employees_total DESC NULLS LAST, o.id LIMIT 50"#;

const NODE: &str = r#"SELECT o.id, o.name, d.name AS district, o.employees_total
FROM organisations o LEFT JOIN admin_areas d ON d.id = o.district_id
WHERE o.id = :id"#;

/// The year of a date column, per engine.
macro_rules! year_of {
    (sqlite, $col:literal) => {
        concat!("CAST(strftime('%Y', ", $col, ") AS INTEGER)")
    };
    (postgres, $col:literal) => {
        concat!("CAST(EXTRACT(YEAR FROM ", $col, ") AS BIGINT)")
    };
}

/// Exports of HS 9018 by year: the subheadings (the data set's only level), one source,
/// partners without World, totals.
macro_rules! trade_by_year {
    ($engine:tt) => {
        concat!(
            "SELECT ",
            year_of!($engine, "t.period_start"),
            r#" AS year, COUNT(*) AS n, SUM(t.value_usd) AS value
FROM trade_flows t
WHERE t.hs4 = '9018' AND t.flow = 'export' AND t.breakdown_key = ''
  AND t.period_kind = 'year' AND t.aggregate_level = 6
  AND t.partner_id NOT IN (SELECT id FROM countries WHERE iso3 = 'W00')
GROUP BY 1 ORDER BY 1"#
        )
    };
}

/// The surgical basket (HS 2017 headings 9018 and 9021) by year and partner.
macro_rules! cluster_trade {
    ($engine:tt) => {
        concat!(
            "SELECT ",
            year_of!($engine, "t.period_start"),
            r#" AS year, p.iso3 AS partner, SUM(t.value_usd) AS value
FROM trade_flows t JOIN countries p ON p.id = t.partner_id
WHERE t.hs4 IN ('9018', '9021') AND t.flow = 'export' AND t.breakdown_key = ''
  AND t.period_kind = 'year' AND t.aggregate_level = 6 AND p.iso3 <> 'W00'
  AND t.reporter_id = (SELECT id FROM countries WHERE iso3 = 'PAK')
GROUP BY 1, 2 ORDER BY 1, 2"#
        )
    };
}

const FIRM_STATS: &str = r#"SELECT c.slug, d.name AS district, COUNT(DISTINCT o.id) AS firms,
  SUM(o.employees_total) AS employees, SUM(o.employees_female) AS female
FROM organisations o
JOIN (SELECT DISTINCT organisation_id, cluster_id FROM cluster_memberships) m
  ON m.organisation_id = o.id
JOIN clusters c ON c.id = m.cluster_id
LEFT JOIN admin_areas d ON d.id = o.district_id
WHERE o.kind = 'firm' AND o.merged_into_id IS NULL
GROUP BY 1, 2 ORDER BY 1, 2"#;

macro_rules! training_stats {
    ($engine:tt) => {
        concat!(
            "SELECT c.slug, ",
            year_of!($engine, "e.start_date"),
            r#" AS year, p.sex, COUNT(*) AS participations,
  COUNT(DISTINCT COALESCE(pe.merged_into_id, p.person_id)) AS persons
FROM participations p
JOIN training_events e ON e.id = p.training_event_id
LEFT JOIN persons pe ON pe.id = p.person_id
LEFT JOIN clusters c ON c.id = e.cluster_id
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"#
        )
    };
}

/// The questions, in the order of the report.
pub fn all() -> Vec<Question> {
    vec![
        Question {
            name: "cluster-page",
            what: "50 firms of one cluster by name, with NTN and head count",
            target: Target::List,
            graphql: |_, _| {
                r#"{ firms(first: 50, filter: {cluster: {slug: {eq: "sialkot-surgical"}}}) { nodes { name identifiers(scheme: "PK-NTN") { value } employeesTotal } } }"#.to_owned()
            },
            variables: None,
            sqlite: CLUSTER_PAGE_SQLITE,
            postgres: CLUSTER_PAGE_PG,
        },
        Question {
            name: "clusters",
            what: "4 clusters with their first 25 firms by name",
            target: Target::List,
            graphql: |_, _| {
                "{ clusters(first: 4) { nodes { slug firms(first: 25) { nodes { name } } } } }"
                    .to_owned()
            },
            variables: None,
            sqlite: CLUSTERS_SQLITE,
            postgres: CLUSTERS_PG,
        },
        Question {
            name: "trade",
            what: "top 100 HS 9018 exports 2015-2020 by value",
            target: Target::Filter,
            graphql: |_, _| {
                r#"{ tradeFlows(first: 100, filter: {hsCode: {startsWith: "9018"}, flow: {eq: EXPORT}, year: {gte: 2015, lte: 2020}}, orderBy: [{field: VALUE_USD, direction: DESC}]) { nodes { commodityCode partner periodStart valueUsd } } }"#.to_owned()
            },
            variables: None,
            sqlite: TRADE,
            postgres: TRADE,
        },
        Question {
            name: "firms",
            what: "50 firms of a district with 100+ employees, largest first",
            target: Target::List,
            graphql: |_, _| {
                r#"{ firms(first: 50, filter: {district: {eq: "Lahore"}, employeesTotal: {gte: 100}}, orderBy: [{field: EMPLOYEES_TOTAL, direction: DESC}]) { nodes { name district employeesTotal } } }"#.to_owned()
            },
            variables: None,
            sqlite: FIRMS,
            postgres: FIRMS,
        },
        Question {
            name: "node",
            what: "one firm by node(id)",
            target: Target::List,
            graphql: |ids, i| {
                let id = hub::graphql::ids::encode("Firm", ids.nth(i)).0;
                format!(
                    r#"{{ node(id: "{id}") {{ ... on Firm {{ name district employeesTotal }} }} }}"#
                )
            },
            variables: None,
            sqlite: NODE,
            postgres: NODE,
        },
        Question {
            name: "node-var",
            what: "one firm by node(id: $id), the id a variable",
            target: Target::List,
            // How a client asks (Relay, Apollo): one document, the id in the variables.
            graphql: |_, _| {
                "query Firm($id: ID!) { node(id: $id) { ... on Firm { name district employeesTotal } } }"
                    .to_owned()
            },
            variables: Some(
                |ids, i| serde_json::json!({ "id": hub::graphql::ids::encode("Firm", ids.nth(i)).0 }),
            ),
            sqlite: NODE,
            postgres: NODE,
        },
        Question {
            name: "agg-trade-year",
            what: "aggregate: exports of HS 9018 by year",
            target: Target::Aggregate,
            graphql: |_, _| {
                r#"{ tradeFlowsAggregate(filter: {hsCode: {startsWith: "9018"}, flow: {eq: EXPORT}}, groupBy: [YEAR]) { groups { keys { year } count sum { valueUsd } } } }"#.to_owned()
            },
            variables: None,
            sqlite: trade_by_year!(sqlite),
            postgres: trade_by_year!(postgres),
        },
        Question {
            name: "agg-trade-year-new",
            what: "aggregate: exports of HS 9018 by year, a question not asked before",
            target: Target::Aggregate,
            // A `having` every group meets, its bound a variable different on each request:
            // the same work and answer as `agg-trade-year` and the same document (parsed
            // once), but never an answer kept from an earlier request.
            graphql: |_, _| {
                r#"query($min: Int) { tradeFlowsAggregate(filter: {hsCode: {startsWith: "9018"}, flow: {eq: EXPORT}}, groupBy: [YEAR], having: {count: {gte: $min}}) { groups { keys { year } count sum { valueUsd } } } }"#.to_owned()
            },
            variables: Some(|_, i| serde_json::json!({ "min": -(i as i64) - 1 })),
            sqlite: trade_by_year!(sqlite),
            postgres: trade_by_year!(postgres),
        },
        Question {
            name: "agg-cluster-trade",
            what: "aggregate: the surgical cluster's trade by year and partner",
            target: Target::Aggregate,
            graphql: |_, _| {
                r#"{ cluster(slug: "sialkot-surgical") { trade(groupBy: [YEAR, PARTNER]) { groups { year partner valueUsd } } } }"#.to_owned()
            },
            variables: None,
            sqlite: cluster_trade!(sqlite),
            postgres: cluster_trade!(postgres),
        },
        Question {
            name: "agg-firms",
            what: "aggregate: firm statistics by cluster and district",
            target: Target::Aggregate,
            graphql: |_, _| {
                "{ firmStatistics(groupBy: [CLUSTER, DISTRICT]) { groups { keys { cluster district } firms employees femaleEmployees } } }".to_owned()
            },
            variables: None,
            sqlite: FIRM_STATS,
            postgres: FIRM_STATS,
        },
        Question {
            name: "agg-training",
            what: "aggregate: training statistics by cluster, year and sex",
            target: Target::Aggregate,
            graphql: |_, _| {
                "{ trainingStatistics(groupBy: [CLUSTER, YEAR, SEX]) { groups { keys { cluster year sex } participations persons } } }".to_owned()
            },
            variables: None,
            sqlite: training_stats!(sqlite),
            postgres: training_stats!(postgres),
        },
    ]
}

/// The GraphQL request body of a query, with its variables if any.
pub fn body(query: &str, variables: Option<serde_json::Value>) -> String {
    match variables {
        Some(variables) => serde_json::json!({ "query": query, "variables": variables }),
        None => serde_json::json!({ "query": query }),
    }
    .to_string()
}
