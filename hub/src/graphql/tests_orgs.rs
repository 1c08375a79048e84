//! In-process checks of organisations, identifiers, observations, source records, networks
//! and import runs over the demo dataset on SQLite.

use async_graphql::{Context, ID, Object, Result};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::principal::{Principal, Role};
use super::test_support::{
    data, demo_database, helper_schema, nodes, public, run_counted, run_on, schema_on, shared_db,
};
use super::types::firm_details::{
    FirmObservationConnection, FirmObservationFilter, FirmObservationOrder, Identifier,
    SourceRecordConnection, firm_identifiers, firm_observations, firm_source_records,
};
use super::types::network::{NetworkConnection, cluster_networks, firm_networks};

/// The keyed hash of the CNIC given to one firm (see [`db`]).
const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// This module's own demo database: it writes to it (see [`db`]), so it does not share
/// the database of the tests that only read.
static DB: OnceCell<(tempfile::TempDir, DatabaseConnection)> = OnceCell::const_new();

async fn db() -> &'static DatabaseConnection {
    &DB.get_or_init(|| async {
        let (dir, db) = demo_database().await;
        // The demo's owner CNICs belong to persons; give one firm a proprietor's CNIC as a
        // hashed identifier (as a 13-digit "NTN" would be stored), so that the tests can
        // check it never shows unmasked, nor at all without personal-data access.
        use sea_orm::ConnectionTrait as _;
        db.execute_unprepared(&format!(
            "INSERT INTO organisation_identifiers \
             (organisation_id, source_record_id, scheme, value, display, is_hashed, change_seq, \
              created_at, updated_at) \
             SELECT r.organisation_id, r.id, 'PK-CNIC', '{HASH}', '*****-****567-1', true, 0, \
              CURRENT_TIMESTAMP, CURRENT_TIMESTAMP \
             FROM organisation_source_records r JOIN organisations o ON o.id = r.organisation_id \
             WHERE o.kind = 'firm' ORDER BY r.id LIMIT 1"
        ))
        .await
        .unwrap();
        (dir, db)
    })
    .await
    .1
}

async fn run_as(query: &str, principal: Principal) -> Value {
    run_on(db().await, query, principal).await
}

async fn run(query: &str) -> Value {
    run_as(
        query,
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await
}

/// The row id of a global id.
fn row(id: &Value) -> i64 {
    super::ids::decode(&ID(id.as_str().unwrap().to_owned()))
        .unwrap()
        .1
}

/// A test-only root that calls the helpers the `Firm` and `Cluster` types expose, for
/// any number of parents at once.
struct Helpers;

/// A parent row (a firm or a cluster) whose nested lists come from the helpers.
struct Parent(i64);

#[Object]
impl Helpers {
    async fn parents(&self, ids: Vec<i64>) -> Vec<Parent> {
        ids.into_iter().map(Parent).collect()
    }
}

#[Object]
impl Parent {
    async fn identifiers(&self, ctx: &Context<'_>) -> Result<Vec<Identifier>> {
        firm_identifiers(ctx, self.0, None).await
    }

    async fn observations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<FirmObservationFilter>,
        order_by: Option<Vec<FirmObservationOrder>>,
    ) -> Result<FirmObservationConnection> {
        firm_observations(ctx, self.0, first, after, filter, order_by).await
    }

    async fn source_records(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> Result<SourceRecordConnection> {
        firm_source_records(ctx, self.0, first, None).await
    }

    async fn firm_networks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> Result<NetworkConnection> {
        firm_networks(ctx, self.0, first, None, None, None).await
    }

    async fn cluster_networks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> Result<NetworkConnection> {
        cluster_networks(ctx, self.0, first, None, None, None).await
    }
}

/// Runs `query` against the helper root on a connection that counts its statements;
/// returns the response and the number of statements.
async fn run_helpers(query: &str, principal: Principal) -> (Value, usize) {
    run_counted(
        db().await,
        |db| helper_schema(Helpers, db),
        query,
        principal,
    )
    .await
}

/// Runs `query` against the hub's schema, counting statements.
async fn count_statements(query: &str) -> (Value, usize) {
    run_counted(
        db().await,
        schema_on,
        query,
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await
}

/// Every organisation matching `filter` (GraphQL input text), paging by 100, as its nodes
/// with `fields`.
async fn all_organisations(filter: &str, fields: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let v = run(&format!(
            "{{ organisations(first: 100, filter: {filter}{after}) {{ nodes {{ {fields} }} pageInfo {{ hasNextPage endCursor }} }} }}"
        ))
        .await;
        let o = &data(&v)["organisations"];
        out.extend(nodes(o).iter().cloned());
        if o["pageInfo"]["hasNextPage"] != json!(true) {
            return out;
        }
        after = format!(
            ", after: \"{}\"",
            o["pageInfo"]["endCursor"].as_str().unwrap()
        );
    }
}

/// Row ids of the first `n` firms by name that have observations.
async fn firms_with_observations(n: usize) -> Vec<i64> {
    let firms = all_organisations("{ kind: { eq: FIRM } }", "id").await;
    let ids: Vec<i64> = firms.iter().map(|n| row(&n["id"])).collect();
    with_observations(&ids, n).await
}

/// The first `n` of the organisations `ids` that have observations.
async fn with_observations(ids: &[i64], n: usize) -> Vec<i64> {
    let q = format!("{{ parents(ids: {ids:?}) {{ observations(first: 1) {{ totalCount }} }} }}");
    let (v, _) = run_helpers(
        &q,
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    ids.iter()
        .zip(data(&v)["parents"].as_array().unwrap())
        .filter(|(_, p)| p["observations"]["totalCount"].as_i64().unwrap() > 0)
        .map(|(id, _)| *id)
        .take(n)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agencies_include_unido() {
    let v = run("{ organisations(first: 100, filter: { kind: { eq: AGENCY } }) { totalCount nodes { id kind name district status firm { name } identifiers { scheme value source } } } }").await;
    let o = &data(&v)["organisations"];
    assert!(o["totalCount"].as_i64().unwrap() >= 1, "{o:#}");
    for n in nodes(o) {
        assert_eq!(n["kind"], "AGENCY");
        assert!(n["firm"].is_null());
    }
    let unido = nodes(o)
        .iter()
        .find(|n| n["name"].as_str().unwrap().contains("UNIDO"))
        .unwrap_or_else(|| panic!("no UNIDO among {o:#}"));
    assert!(
        unido["identifiers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["scheme"] == "IATI-ORG" && i["value"] == "XM-DAC-41123"),
        "{unido:#}"
    );
    // node(id) finds it again.
    let q = format!(
        "{{ node(id: \"{}\") {{ ... on Organisation {{ name kind }} }} }}",
        unido["id"].as_str().unwrap()
    );
    let v = run(&q).await;
    assert_eq!(data(&v)["node"]["name"], unido["name"]);

    // Kinds combine with the other filters and with `not`.
    let v = run("{ organisations(first: 1, filter: { not: { kind: { in: [FIRM, AGENCY] } } }) { totalCount nodes { kind } } }").await;
    let o = &data(&v)["organisations"];
    for n in nodes(o) {
        assert!(n["kind"] != "FIRM" && n["kind"] != "AGENCY", "{o:#}");
    }
    let v = run("{ all: organisations { totalCount } firms: organisations(filter: { kind: { eq: FIRM } }) { totalCount } f: firms { totalCount } }").await;
    let d = data(&v);
    assert_eq!(d["firms"]["totalCount"], d["f"]["totalCount"]);
    let v = run("{ organisations(first: 3, filter: { kind: { eq: FIRM } }) { nodes { name firm { name } } } }").await;
    for n in nodes(&data(&v)["organisations"]) {
        assert_eq!(n["firm"]["name"], n["name"]);
    }
    assert!(d["all"]["totalCount"].as_i64() > d["firms"]["totalCount"].as_i64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyset_pages_cover_the_organisations_once() {
    let order = "[{field: KIND, direction: DESC}, {field: NAME}]";
    let all = run(&format!(
        "{{ organisations(first: 100, orderBy: {order}) {{ totalCount nodes {{ id }} }} }}"
    ))
    .await;
    let total = data(&all)["organisations"]["totalCount"].as_i64().unwrap();
    assert!(total > 20, "{total}");
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = format!(
            "{{ organisations(first: 9, orderBy: {order}{}) {{ nodes {{ id }} pageInfo {{ hasNextPage endCursor }} }} }}",
            after
                .as_ref()
                .map(|c| format!(", after: \"{c}\""))
                .unwrap_or_default()
        );
        let v = run(&q).await;
        let o = &data(&v)["organisations"];
        seen.extend(
            nodes(o)
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        if o["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = Some(o["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len() as i64, total);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
    let expected: Vec<String> = nodes(&data(&all)["organisations"])
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen[..expected.len()], expected[..]);

    // Backward paging from the end gives the last page.
    let v = run(&format!(
        "{{ organisations(last: 4, orderBy: {order}) {{ nodes {{ id }} pageInfo {{ hasPreviousPage }} }} }}"
    ))
    .await;
    let o = &data(&v)["organisations"];
    let tail: Vec<String> = nodes(o)
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tail[..], seen[seen.len() - 4..]);
    assert_eq!(o["pageInfo"]["hasPreviousPage"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn networks_of_a_cluster_with_members() {
    let v = run(r#"{ networks(first: 50, filter: { cluster: { slug: { eq: "sialkot-surgical" } } }) { totalCount nodes { id name kind formedOn cluster { slug } lead { name } members(first: 3) { totalCount pageInfo { hasNextPage } nodes { role joinedOn firm { id name } organisation { kind } } } } } }"#).await;
    let n = &data(&v)["networks"];
    assert!(n["totalCount"].as_i64().unwrap() > 0, "{n:#}");
    let mut with_members = 0;
    for net in nodes(n) {
        assert_eq!(net["cluster"]["slug"], "sialkot-surgical");
        assert!(
            ["HORIZONTAL", "VERTICAL", "EXPORT_CONSORTIUM"]
                .contains(&net["kind"].as_str().unwrap())
        );
        let members = nodes(&net["members"]);
        assert!(members.len() <= 3);
        let total = net["members"]["totalCount"].as_i64().unwrap();
        assert_eq!(
            net["members"]["pageInfo"]["hasNextPage"],
            json!(total > 3),
            "{net:#}"
        );
        if !members.is_empty() {
            with_members += 1;
            assert_eq!(members[0]["organisation"]["kind"], "FIRM");
            assert!(members[0]["firm"]["name"].is_string());
        }
        if !net["lead"].is_null() {
            // The lead sorts first.
            assert_eq!(members[0]["role"], "lead", "{net:#}");
        }
    }
    assert!(with_members > 0, "{n:#}");

    // The same networks through the helper of `Cluster.networks`.
    let v =
        run(r#"{ clusters(filter: { slug: { eq: "sialkot-surgical" } }) { nodes { id } } }"#).await;
    let cluster = row(&nodes(&data(&v)["clusters"])[0]["id"]);
    let (v, _) = run_helpers(
        &format!("{{ parents(ids: [{cluster}]) {{ clusterNetworks(first: 50) {{ totalCount nodes {{ name }} }} }} }}"),
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    let via_helper = &data(&v)["parents"][0]["clusterNetworks"];
    assert_eq!(via_helper["totalCount"], n["totalCount"]);
    let names = |v: &Value| -> Vec<Value> { nodes(v).iter().map(|x| x["name"].clone()).collect() };
    assert_eq!(names(via_helper), names(n));

    // A member firm's networks include the network, and the member filter finds it.
    let net = nodes(n)
        .iter()
        .find(|x| !nodes(&x["members"]).is_empty())
        .unwrap();
    let firm_id = nodes(&net["members"])[0]["firm"]["id"].clone();
    let (v, _) = run_helpers(
        &format!(
            "{{ parents(ids: [{}]) {{ firmNetworks {{ nodes {{ name }} }} }} }}",
            row(&firm_id)
        ),
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    assert!(names(&data(&v)["parents"][0]["firmNetworks"]).contains(&net["name"]));
    let v = run(&format!(
        "{{ networks(filter: {{ member: {{ id: {{ eq: {firm_id} }} }} }}) {{ nodes {{ name }} }} }}"
    ))
    .await;
    assert!(names(&data(&v)["networks"]).contains(&net["name"]));

    // Orders and kind filters.
    let v = run("{ networks(first: 100, orderBy: [{field: FORMED_ON, direction: DESC}], filter: { kind: { ne: VERTICAL } }) { nodes { formedOn kind } } }").await;
    let list = nodes(&data(&v)["networks"]);
    assert!(!list.is_empty());
    let dates: Vec<&str> = list.iter().filter_map(|x| x["formedOn"].as_str()).collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    assert!(list.iter().all(|x| x["kind"] != "VERTICAL"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_never_show_a_cnic() {
    // Every firm's identifiers, for a caller without personal-data access.
    let firms = all_organisations(
        "{ kind: { eq: FIRM } }",
        "id identifiers { scheme value source }",
    )
    .await;
    let firms = &firms;
    let mut any = 0;
    for f in firms {
        for i in f["identifiers"].as_array().unwrap() {
            any += 1;
            assert_ne!(i["scheme"], "PK-CNIC", "{f:#}");
            assert!(i["source"].is_string(), "{i:#}");
        }
    }
    assert!(any > 0);

    // The firms that have a CNIC on record: visible, masked, only with personal-data access.
    let ids: Vec<i64> = firms.iter().map(|f| row(&f["id"])).collect();
    let q = format!("{{ parents(ids: {ids:?}) {{ identifiers {{ scheme value source }} }} }}");
    let pii = Principal {
        pii: true,
        ..Principal::with_role(Role::Analyst)
    };
    let (v, _) = run_helpers(&q, pii).await;
    let cnics: Vec<&Value> = data(&v)["parents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["identifiers"].as_array().unwrap())
        .filter(|i| i["scheme"] == "PK-CNIC")
        .collect();
    assert!(
        !cnics.is_empty(),
        "the demo has sole proprietors with a CNIC"
    );
    for c in cnics {
        assert!(
            c["value"].as_str().unwrap().starts_with("*****-****"),
            "{c:#}"
        );
    }
    assert!(!v.to_string().contains(HASH));
    let (v, _) = run_helpers(
        &q,
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    assert!(!v.to_string().contains("PK-CNIC"));
    assert!(!v.to_string().contains(HASH));

    // The public sees no identifiers and no source keys.
    let v = run_as(
        "{ organisations(first: 50) { nodes { identifiers { value } sourceRecords(first: 2) { nodes { source sourceKey name } } } } }",
        public(),
    )
    .await;
    for o in nodes(&data(&v)["organisations"]) {
        assert_eq!(o["identifiers"], json!([]));
        for r in nodes(&o["sourceRecords"]) {
            assert!(r["sourceKey"].is_null());
            assert!(r["source"].is_string());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observations_and_source_records() {
    let firms = firms_with_observations(3).await;
    assert_eq!(firms.len(), 3);
    let q = format!(
        "{{ parents(ids: {firms:?}) {{ observations(first: 10) {{ totalCount nodes {{ id source periodKind periodStart periodEnd period employeesTotal employeesFemale turnoverPkr exportsUsd certifications firm {{ name }} }} }} sourceRecords(first: 5) {{ totalCount nodes {{ id source sourceKey name district employeesTotal observedOn organisation {{ name }} }} }} }} }}"
    );
    let (v, _) = run_helpers(
        &q,
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    let parents = data(&v)["parents"].as_array().unwrap();
    let mut figures = 0;
    for p in parents {
        let obs = nodes(&p["observations"]);
        assert!(!obs.is_empty());
        let starts: Vec<&str> = obs
            .iter()
            .map(|o| o["periodStart"].as_str().unwrap())
            .collect();
        let mut sorted = starts.clone();
        sorted.sort();
        assert_eq!(starts, sorted, "by period start");
        for o in obs {
            let label = o["period"].as_str().unwrap();
            match o["periodKind"].as_str().unwrap() {
                "YEAR" => assert_eq!(label, &o["periodStart"].as_str().unwrap()[..4]),
                "FISCAL_YEAR" => assert!(label.starts_with("FY"), "{label}"),
                _ => {}
            }
            assert!(o["source"].is_string());
            assert!(o["firm"]["name"].is_string());
            if !o["employeesTotal"].is_null() || !o["exportsUsd"].is_null() {
                figures += 1;
            }
        }
        let recs = nodes(&p["sourceRecords"]);
        assert!(!recs.is_empty());
        for r in recs {
            assert!(r["sourceKey"].is_string(), "analysts see source keys");
            assert!(r["organisation"]["name"].is_string());
        }
    }
    assert!(figures > 0, "{v:#}");

    // Figures are null for the public; the periods are not.
    let (v, _) = run_helpers(&q, public()).await;
    for p in data(&v)["parents"].as_array().unwrap() {
        for o in nodes(&p["observations"]) {
            for f in [
                "employeesTotal",
                "employeesFemale",
                "turnoverPkr",
                "exportsUsd",
                "certifications",
            ] {
                assert!(o[f].is_null(), "{o:#}");
            }
            assert!(o["period"].is_string());
        }
        for r in nodes(&p["sourceRecords"]) {
            assert!(r["employeesTotal"].is_null());
        }
    }

    // Filters and orders of observations.
    let (v, _) = run_helpers(
        &format!(
            r#"{{ parents(ids: {firms:?}) {{ all: observations(first: 50) {{ totalCount }} years: observations(first: 50, filter: {{ periodKind: {{ eq: YEAR }}, periodStart: {{ gte: "2022-01-01" }} }}, orderBy: [{{ field: PERIOD_START, direction: DESC }}]) {{ totalCount nodes {{ periodKind periodStart }} }} notSurvey: observations(filter: {{ not: {{ source: {{ eq: "cdi-survey-2023" }} }} }}) {{ nodes {{ source }} }} }} }}"#
        ),
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    for p in data(&v)["parents"].as_array().unwrap() {
        let years = nodes(&p["years"]);
        assert!(p["years"]["totalCount"].as_i64() <= p["all"]["totalCount"].as_i64());
        let starts: Vec<&str> = years
            .iter()
            .map(|o| o["periodStart"].as_str().unwrap())
            .collect();
        let mut sorted = starts.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(starts, sorted, "newest first");
        for o in years {
            assert_eq!(o["periodKind"], "YEAR");
            assert!(o["periodStart"].as_str().unwrap() >= "2022-01-01");
        }
        for o in nodes(&p["notSurvey"]) {
            assert_ne!(o["source"], "cdi-survey-2023");
        }
    }

    // Paging within one firm's observations.
    let firm = firms[0];
    let (v, _) = run_helpers(
        &format!("{{ parents(ids: [{firm}]) {{ observations(first: 1) {{ totalCount pageInfo {{ endCursor hasNextPage }} nodes {{ id }} }} }} }}"),
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    let first = &data(&v)["parents"][0]["observations"];
    if first["totalCount"].as_i64().unwrap() > 1 {
        assert_eq!(first["pageInfo"]["hasNextPage"], true);
        let cursor = first["pageInfo"]["endCursor"].as_str().unwrap();
        let (v, _) = run_helpers(
            &format!("{{ parents(ids: [{firm}]) {{ observations(first: 1, after: \"{cursor}\") {{ nodes {{ id }} }} }} }}"),
            Principal::with_role(crate::graphql::principal::Role::Analyst),
        )
        .await;
        let second = &data(&v)["parents"][0]["observations"];
        assert_ne!(nodes(second)[0]["id"], nodes(first)[0]["id"]);
    }

    // Observations and source records are nodes.
    let id = nodes(&parents[0]["observations"])[0]["id"]
        .as_str()
        .unwrap();
    let v = run(&format!(
        "{{ node(id: \"{id}\") {{ ... on FirmObservation {{ periodStart }} }} }}"
    ))
    .await;
    assert!(data(&v)["node"]["periodStart"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_runs_of_the_demo() {
    let v = run(r#"{ importRuns(first: 50, filter: { importer: { eq: "programme" } }) { totalCount nodes { id importer importerVersion fileName fileSha256 status dryRun startedAt finishedAt rowsRead inserted rejected warnings rowErrors(first: 2) { totalCount nodes { severity file row column field code message } } } } }"#).await;
    let runs = &data(&v)["importRuns"];
    let list = nodes(runs);
    let applied: Vec<&Value> = list.iter().filter(|r| r["status"] == "applied").collect();
    // The programme definition, through its own importer; the other files are runs of
    // their importers.
    assert_eq!(applied.len(), 1, "{runs:#}");
    for r in list {
        assert_eq!(r["importer"], "programme");
        assert_eq!(r["fileName"], "clusters.toml");
        assert_eq!(r["dryRun"], false);
        assert!(r["startedAt"].as_str().unwrap().contains('T'), "{r:#}");
        assert!(r["fileName"].is_string());
        assert!(r["inserted"].as_i64().unwrap() >= 0);
        let errors = &r["rowErrors"];
        let expected = r["rejected"].as_i64().unwrap() + r["warnings"].as_i64().unwrap();
        assert_eq!(errors["totalCount"].as_i64().unwrap(), expected, "{r:#}");
    }
    // Newest first by default.
    let starts: Vec<&str> = list
        .iter()
        .map(|r| r["startedAt"].as_str().unwrap())
        .collect();
    let mut sorted = starts.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(starts, sorted);
    // The cursor carries the start time in seconds (the engine parsed the timestamp).
    let v = run("{ importRuns(first: 1) { nodes { startedAt } pageInfo { endCursor } } }").await;
    let r = &data(&v)["importRuns"];
    let cursor: Value = {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(r["pageInfo"]["endCursor"].as_str().unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let started: chrono::DateTime<chrono::Utc> =
        nodes(r)[0]["startedAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(cursor[1], json!(started.timestamp()), "{cursor}");

    // Paging by two covers every run once.
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let v = run(&format!(
            "{{ importRuns(first: 2{after}) {{ nodes {{ id }} pageInfo {{ hasNextPage endCursor }} }} }}"
        ))
        .await;
        let r = &data(&v)["importRuns"];
        seen.extend(nodes(r).iter().map(|n| n["id"].clone()));
        if r["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = format!(
            ", after: \"{}\"",
            r["pageInfo"]["endCursor"].as_str().unwrap()
        );
    }
    let v = run("{ importRuns(first: 100) { totalCount } }").await;
    assert_eq!(
        seen.len() as i64,
        data(&v)["importRuns"]["totalCount"].as_i64().unwrap()
    );

    // Filter by start date: every demo run started today or earlier.
    let v = run(r#"{ late: importRuns(filter: { startedAt: { gt: "2999-01-01" } }) { totalCount } early: importRuns(filter: { startedAt: { gte: "2000-01-01" } }) { totalCount } }"#).await;
    let d = data(&v);
    assert_eq!(d["late"]["totalCount"], 0);
    assert!(d["early"]["totalCount"].as_i64().unwrap() >= 9);

    // The public is refused, with a code, and the other root fields still answer.
    let v = run_as(
        "{ clusters { totalCount } importRuns { totalCount } }",
        public(),
    )
    .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v:#}");
    assert_eq!(v["data"]["clusters"]["totalCount"], 4);
    assert!(v["data"]["importRuns"].is_null());
    let id = list[0]["id"].as_str().unwrap();
    let v = run_as(
        &format!("{{ node(id: \"{id}\") {{ ... on ImportRun {{ status }} }} }}"),
        public(),
    )
    .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_lists_cost_the_same_whatever_the_number_of_parents() {
    // Three levels through the hub's schema: networks > members > firm and organisation.
    let q = |n: usize| {
        format!(
            "{{ networks(first: {n}) {{ nodes {{ name cluster {{ slug }} lead {{ name }} members(first: 2) {{ totalCount nodes {{ role firm {{ name }} organisation {{ kind }} network {{ name }} }} }} }} }} }}"
        )
    };
    let (one, few) = count_statements(&q(1)).await;
    let (many, lots) = count_statements(&q(50)).await;
    data(&one);
    assert!(nodes(&data(&many)["networks"]).len() > 1);
    assert_eq!(few, lots, "statements for 1 vs many networks");

    let q = |n: usize| {
        format!(
            "{{ importRuns(first: {n}) {{ nodes {{ status rowErrors(first: 3) {{ totalCount nodes {{ code }} }} }} }} }}"
        )
    };
    let (_, few) = count_statements(&q(1)).await;
    let (_, lots) = count_statements(&q(20)).await;
    assert_eq!(few, lots, "statements for 1 vs many import runs");

    let q = |n: usize| {
        format!(
            "{{ organisations(first: {n}, filter: {{ kind: {{ eq: FIRM }} }}) {{ nodes {{ identifiers {{ scheme }} sourceRecords(first: 2) {{ totalCount nodes {{ name organisation {{ name }} }} }} }} }} }}"
        )
    };
    let (_, few) = count_statements(&q(1)).await;
    let (_, lots) = count_statements(&q(60)).await;
    assert_eq!(few, lots, "statements for 1 vs many organisations");

    // The helpers of `Firm` fields, for 1 and for 8 firms, every level non-empty: firms
    // that are network members and have observations.
    let v =
        run("{ networks(first: 40) { nodes { members(first: 40) { nodes { firm { id } } } } } }")
            .await;
    let mut members: Vec<i64> = nodes(&data(&v)["networks"])
        .iter()
        .flat_map(|n| nodes(&n["members"]).iter().map(|m| row(&m["firm"]["id"])))
        .collect();
    members.sort();
    members.dedup();
    let firms = with_observations(&members, 8).await;
    assert_eq!(firms.len(), 8);
    let q = |ids: &[i64]| {
        format!(
            "{{ parents(ids: {ids:?}) {{ identifiers {{ value }} observations(first: 2) {{ totalCount nodes {{ period firm {{ name }} }} }} sourceRecords(first: 2) {{ nodes {{ name organisation {{ name }} }} }} firmNetworks(first: 2) {{ totalCount nodes {{ name lead {{ name }} members(first: 2) {{ nodes {{ firm {{ name }} }} }} }} }} }} }}"
        )
    };
    let (v1, few) = run_helpers(
        &q(&firms[..1]),
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    let (v8, lots) = run_helpers(
        &q(&firms),
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    data(&v1);
    data(&v8);
    assert_eq!(few, lots, "statements for 1 vs 8 firms");

    // The helper of `Cluster.networks`, for 1 and for 4 clusters.
    let v = run("{ clusters { nodes { id } } }").await;
    let clusters: Vec<i64> = nodes(&data(&v)["clusters"])
        .iter()
        .map(|c| row(&c["id"]))
        .collect();
    let q = |ids: &[i64]| {
        format!(
            "{{ parents(ids: {ids:?}) {{ clusterNetworks(first: 2) {{ totalCount nodes {{ name members(first: 2) {{ nodes {{ role firm {{ name }} }} }} }} }} }} }}"
        )
    };
    let (_, few) = run_helpers(
        &q(&clusters[..1]),
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    let (v4, lots) = run_helpers(
        &q(&clusters),
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    for p in data(&v4)["parents"].as_array().unwrap() {
        assert!(!nodes(&p["clusterNetworks"]).is_empty(), "{v4:#}");
    }
    assert_eq!(few, lots, "statements for 1 vs 4 clusters");
}

/// A firm list reads only the columns its selected fields need (`graphql::columns`), and
/// a firm's identifiers join their sources only when `source` or `sources` is asked: the
/// fields asked through fragments and `edges { node }` give what the same firms give with
/// every field, and what `node(id)` (every column) gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firm_lists_read_the_columns_their_fragments_select() {
    let fields = "id name legalForm district tehsil address website foundedYear sizeClass \
                  sizeBasis industryCode status employeesTotal employeesFemale turnoverPkr \
                  exportsUsd certifications changeSeq \
                  employeesTotalAsOf { period source } \
                  identifiers { scheme value source sources }";
    let order = r#"orderBy: [{field: EMPLOYEES_TOTAL, direction: DESC}]"#;
    let v = run(&format!(
        r#"{{ whole: firms(first: 5, {order}) {{ nodes {{ {fields} }} }}
             parts: firms(first: 5, {order}) {{ edges {{ node {{ id ...F ... on Firm {{ employeesTotal employeesTotalAsOf {{ period source }} }} }} }} }}
             bare: firms(first: 5, {order}) {{ nodes {{ identifiers {{ scheme value }} }} }} }}
           fragment F on Firm {{ name district foundedYear sizeClass }}"#
    ))
    .await;
    let d = data(&v);
    let whole = nodes(&d["whole"]);
    assert_eq!(whole.len(), 5);
    assert!(
        whole.iter().any(|w| !w["district"].is_null()),
        "the demo's largest firms have districts: {whole:#?}"
    );
    for (i, w) in whole.iter().enumerate() {
        let part = &d["parts"]["edges"][i]["node"];
        for key in [
            "id",
            "name",
            "district",
            "foundedYear",
            "sizeClass",
            "employeesTotal",
            "employeesTotalAsOf",
        ] {
            assert_eq!(part[key], w[key], "{key}: {part:#} against {w:#}");
        }
        assert!(!w["employeesTotal"].is_null(), "{w:#}");
        let bare = d["bare"]["nodes"][i]["identifiers"].as_array().unwrap();
        let listed = w["identifiers"].as_array().unwrap();
        assert_eq!(bare.len(), listed.len());
        for (b, l) in bare.iter().zip(listed) {
            assert_eq!((&b["scheme"], &b["value"]), (&l["scheme"], &l["value"]));
            assert!(!l["sources"].as_array().unwrap().is_empty(), "{l:#}");
        }
        let id = w["id"].as_str().unwrap();
        let node = run(&format!(
            r#"{{ node(id: "{id}") {{ ... on Firm {{ {fields} }} }} }}"#
        ))
        .await;
        assert_eq!(&data(&node)["node"], w, "node(id) reads every column");
    }
}

/// A cluster list reads only the optional columns its selected fields need (its
/// description and the lists aggregated from basket, classes and areas): asked through a
/// fragment, `edges { node }`, nested under a firm, or by `trade` alone (which needs the
/// basket without `hsBasket` being asked), they give what the same clusters give with
/// every field, and what `node(id)` (every column) gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_lists_read_the_columns_their_fragments_select() {
    let trade = "trade { revision basket groups { year valueUsd } }";
    let fields = format!(
        "id slug name sector description status hsRevision hsBasket isicClasses districts \
         changeSeq programme {{ code }} {trade}"
    );
    let v = run(&format!(
        r#"{{ whole: clusters(first: 10) {{ nodes {{ {fields} }} }}
             parts: clusters(first: 10) {{ edges {{ node {{ id ...F ... on Cluster {{ districts }} }} }} }}
             slugs: clusters(first: 10) {{ nodes {{ slug }} }}
             traded: clusters(first: 10) {{ nodes {{ slug {trade} }} }}
             firms(first: 50) {{ nodes {{ clusters(first: 5) {{ nodes {{ slug isicClasses hsBasket }} }} }} }} }}
           fragment F on Cluster {{ hsRevision hsBasket isicClasses description }}"#
    ))
    .await;
    let d = data(&v);
    let whole = nodes(&d["whole"]);
    assert!(whole.len() >= 4, "the demo's clusters: {whole:#?}");
    let by_slug: std::collections::HashMap<&str, &Value> = whole
        .iter()
        .map(|w| (w["slug"].as_str().unwrap(), w))
        .collect();
    let mut traded = 0;
    for (i, w) in whole.iter().enumerate() {
        for key in [
            "hsRevision",
            "hsBasket",
            "isicClasses",
            "districts",
            "description",
        ] {
            assert!(
                !w[key].is_null() && w[key] != serde_json::json!([]),
                "{key} read: {w:#}"
            );
        }
        let part = &d["parts"]["edges"][i]["node"];
        for key in [
            "id",
            "hsRevision",
            "hsBasket",
            "isicClasses",
            "districts",
            "description",
        ] {
            assert_eq!(part[key], w[key], "{key}: {part:#} against {w:#}");
        }
        assert_eq!(d["slugs"]["nodes"][i]["slug"], w["slug"]);
        assert_eq!(d["traded"]["nodes"][i]["trade"], w["trade"], "{w:#}");
        assert_eq!(w["trade"]["basket"], w["hsBasket"], "{w:#}");
        traded += usize::from(!w["trade"]["groups"].as_array().unwrap().is_empty());
        let id = w["id"].as_str().unwrap();
        let node = run(&format!(
            r#"{{ node(id: "{id}") {{ ... on Cluster {{ {fields} }} }} }}"#
        ))
        .await;
        assert_eq!(&data(&node)["node"], w, "node(id) reads every column");
        let slug = w["slug"].as_str().unwrap();
        let one = run(&format!(r#"{{ cluster(slug: "{slug}") {{ {fields} }} }}"#)).await;
        assert_eq!(&data(&one)["cluster"], w, "cluster(slug:)");
    }
    assert!(traded > 0, "some demo cluster has trade: {whole:#?}");
    let mut nested = 0;
    for firm in nodes(&d["firms"]) {
        for c in nodes(&firm["clusters"]) {
            let w = by_slug[c["slug"].as_str().unwrap()];
            assert_eq!(c["isicClasses"], w["isicClasses"], "{c:#}");
            assert_eq!(c["hsBasket"], w["hsBasket"], "{c:#}");
            nested += 1;
        }
    }
    assert!(nested > 0, "the demo's firms belong to clusters");
}

/// The statements of a cluster list asked for slugs (at the root, under a firm and under a
/// programme) aggregate nothing and read no description; asked for its lists, it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_list_asked_for_slugs_aggregates_nothing() {
    let statements = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut db = shared_db().await.clone();
    let log = statements.clone();
    db.set_metric_callback(move |info| {
        log.lock().unwrap().push(info.statement.sql.clone());
    });
    // The statements of `query` that read `clusters`.
    let clusters_sql = |query: &'static str| {
        let db = db.clone();
        let statements = statements.clone();
        async move {
            statements.lock().unwrap().clear();
            let v = run_on(&db, query, Principal::with_role(Role::Analyst)).await;
            let _ = data(&v);
            let sql = statements.lock().unwrap().clone();
            sql.into_iter()
                .filter(|s| s.contains("\"clusters\""))
                .collect::<Vec<_>>()
        }
    };
    for query in [
        "{ clusters(first: 10) { nodes { slug } } }",
        "{ firms(first: 3) { nodes { clusters(first: 3) { nodes { slug } } } } }",
        "{ clusters(first: 1) { nodes { programme { clusters(first: 3) { nodes { slug } } } } } }",
    ] {
        let sql = clusters_sql(query).await;
        assert!(!sql.is_empty(), "{query}");
        for sql in &sql {
            assert!(!sql.contains("string_agg"), "{sql}");
            assert!(!sql.contains("description"), "{sql}");
            assert!(!sql.contains("classifications"), "{sql}");
        }
    }
    let lists =
        clusters_sql("{ clusters(first: 10) { nodes { description hsRevision districts } } }")
            .await;
    assert_eq!(lists.len(), 1, "{lists:#?}");
    assert!(lists[0].contains("description"), "{}", lists[0]);
    assert!(lists[0].contains("classifications"), "{}", lists[0]);
    assert_eq!(lists[0].matches("string_agg").count(), 1, "{}", lists[0]);
}
