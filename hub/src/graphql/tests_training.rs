//! In-process checks of the training area over the demo dataset on SQLite: events,
//! participations, persons and the personal-data policy.

use std::collections::HashSet;

use async_graphql::{Context, Object, Result};
use serde_json::{Value, json};

use super::principal::{Principal, Role};
use super::test_support::{
    data, execute, helper_schema, nodes, public, run, run_as, run_counted, schema_on, shared_db,
};
use super::types::training::{
    ParticipationConnection, TrainingEventConnection, cluster_training_events, firm_participations,
};

/// Runs `query` against the hub's schema, counting SQL statements.
async fn count_statements(query: &str) -> (Value, usize) {
    run_counted(
        shared_db().await,
        schema_on,
        query,
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await
}

const SIALKOT: &str = "sialkot-surgical";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_a_cluster() {
    let v = run(&format!(
        r#"{{ trainingEvents(first: 100, filter: {{ cluster: {{ slug: {{ eq: "{SIALKOT}" }} }} }}) {{
            totalCount
            nodes {{ id code title courseCode courseTitle topic hours provider startDate endDate
                     venueDistrict modality trainers cluster {{ slug }} }} }} }}"#
    ))
    .await;
    let events = &data(&v)["trainingEvents"];
    let list = nodes(events);
    assert!(!list.is_empty(), "{events:#}");
    assert_eq!(events["totalCount"], list.len());
    let mut previous: Option<String> = None;
    for e in list {
        assert_eq!(e["cluster"]["slug"], SIALKOT, "{e:#}");
        assert!(e["title"].is_string());
        assert!(e["provider"].is_string(), "{e:#}");
        // Trainers' names are personal data, denied to the default caller.
        assert!(e["trainers"].is_null());
        // By start date, ascending (dates are ISO strings, so text order is date order).
        if let Some(d) = e["startDate"].as_str() {
            if let Some(p) = &previous {
                assert!(p.as_str() <= d, "{p} then {d}");
            }
            previous = Some(d.to_owned());
        }
    }
    assert!(list.iter().any(|e| e["courseTitle"].is_string()));
    assert!(list.iter().any(|e| e["venueDistrict"].is_string()));

    // All clusters' events together are the events with a cluster; `isNull: true` through
    // the relation finds the others, and so does `not` of `isNull: false`.
    let all = run("{ trainingEvents(filter: { cluster: { slug: { isNull: false } } }) { totalCount } without: trainingEvents(filter: { cluster: { slug: { isNull: true } } }) { totalCount } negated: trainingEvents(filter: { not: { cluster: { slug: { isNull: false } } } }) { totalCount } every: trainingEvents { totalCount } }").await;
    let d = data(&all);
    assert_eq!(
        d["trainingEvents"]["totalCount"].as_i64().unwrap()
            + d["without"]["totalCount"].as_i64().unwrap(),
        d["every"]["totalCount"].as_i64().unwrap()
    );
    assert!(d["without"]["totalCount"].as_i64().unwrap() > 0, "{d:#}");
    assert_eq!(d["without"], d["negated"]);

    // Filters on dates, text and the provider, and a descending order.
    let v = run(r#"{ trainingEvents(first: 100, filter: { startDate: { gte: "2023-01-01" }, provider: { isNull: false } }, orderBy: [{ field: START_DATE, direction: DESC }]) { nodes { startDate } } }"#).await;
    let dates: Vec<&str> = nodes(&data(&v)["trainingEvents"])
        .iter()
        .map(|e| e["startDate"].as_str().unwrap())
        .collect();
    assert!(!dates.is_empty());
    assert!(dates.iter().all(|d| *d >= "2023-01-01"));
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participations_of_a_cluster_through_its_events() {
    let v = run(&format!(
        r#"{{ participations(first: 100, filter: {{ event: {{ cluster: {{ slug: {{ eq: "{SIALKOT}" }} }} }} }}) {{
            totalCount nodes {{ id event {{ code cluster {{ slug }} }} }} }}
            trainingEvents(first: 100, filter: {{ cluster: {{ slug: {{ eq: "{SIALKOT}" }} }} }}) {{
            nodes {{ participations {{ totalCount }} }} }} }}"#
    ))
    .await;
    let d = data(&v);
    let parts = &d["participations"];
    let total = parts["totalCount"].as_i64().unwrap();
    assert!(total > 0, "{parts:#}");
    assert_eq!(nodes(parts).len() as i64, total.min(100));
    for p in nodes(parts) {
        assert_eq!(p["event"]["cluster"]["slug"], SIALKOT, "{p:#}");
    }
    // The same number, counted per event (batched child counts).
    let per_event: i64 = nodes(&d["trainingEvents"])
        .iter()
        .map(|e| e["participations"]["totalCount"].as_i64().unwrap())
        .sum();
    assert_eq!(per_event, total);

    // Firms of a cluster (a relation three levels deep) and scores.
    let v = run(&format!(
        r#"{{ participations(first: 40, filter: {{ firm: {{ cluster: {{ slug: {{ eq: "{SIALKOT}" }} }} }}, completed: {{ eq: true }}, postScore: {{ gte: 50 }} }}) {{
            totalCount nodes {{ completed postScore organisationKind firm {{ name clusters(first: 4) {{ nodes {{ slug }} }} }} }} }} }}"#
    ))
    .await;
    let parts = &data(&v)["participations"];
    assert!(parts["totalCount"].as_i64().unwrap() > 0, "{parts:#}");
    for p in nodes(parts) {
        assert_eq!(p["completed"], true);
        assert!(p["postScore"].as_f64().unwrap() >= 50.0);
        assert_eq!(p["organisationKind"], "firm");
        assert!(
            nodes(&p["firm"]["clusters"])
                .iter()
                .any(|c| c["slug"] == SIALKOT),
            "{p:#}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_levels_with_personal_data_denied() {
    let q = "{ trainingEvents(first: 6) { nodes { code participations(first: 5) { totalCount pageInfo { hasNextPage } nodes { sex organisationName organisationKind person { id sex fullName phone email cnicLast4 } firm { name } } } } } }";
    let v = run(q).await;
    let events = nodes(&data(&v)["trainingEvents"]);
    assert_eq!(events.len(), 6);
    let mut firms = 0;
    for e in events {
        let parts = &e["participations"];
        let list = nodes(parts);
        assert!(list.len() <= 5);
        let total = parts["totalCount"].as_i64().unwrap();
        assert_eq!(list.len() as i64, total.min(5));
        assert_eq!(parts["pageInfo"]["hasNextPage"], json!(total > 5));
        for p in list {
            let person = &p["person"];
            assert!(person["id"].is_string(), "{p:#}");
            for f in ["fullName", "phone", "email", "cnicLast4"] {
                assert!(person[f].is_null(), "{f} leaked: {p:#}");
            }
            if p["organisationKind"] == "firm" {
                assert_eq!(p["firm"]["name"], p["organisationName"], "{p:#}");
                firms += 1;
            } else {
                assert!(p["firm"].is_null(), "{p:#}");
            }
        }
    }
    assert!(firms > 0);
    assert!(
        events
            .iter()
            .flat_map(|e| nodes(&e["participations"]))
            .any(|p| p["person"]["sex"].is_string())
    );

    // With the `pii` scope the same query shows names, and trainers.
    let pii = Principal {
        pii: true,
        ..Principal::with_role(Role::Analyst)
    };
    let v = run_as(
        "{ trainingEvents(first: 6) { nodes { trainers participations(first: 5) { nodes { person { fullName } } } } } }",
        pii,
    )
    .await;
    let events = nodes(&data(&v)["trainingEvents"]);
    assert!(events.iter().any(|e| e["trainers"].is_string()));
    assert!(
        events
            .iter()
            .flat_map(|e| nodes(&e["participations"]))
            .any(|p| p["person"]["fullName"].is_string())
    );

    // The CNIC hash is not part of the schema.
    let v = run(r#"{ __type(name: "Person") { fields { name } } }"#).await;
    let fields: Vec<&str> = data(&v)["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"cnicLast4"));
    assert!(!fields.iter().any(|f| f.to_lowercase().contains("hash")));
}

/// The ids of `participations(…)` in `order`, read in pages of `size`.
async fn pages(order: &str, size: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = format!(
            "{{ participations(first: {size}, {order}{}) {{ nodes {{ id }} pageInfo {{ hasNextPage endCursor }} }} }}",
            after
                .as_ref()
                .map(|c| format!(", after: \"{c}\""))
                .unwrap_or_default()
        );
        let v = run(&q).await;
        let p = &data(&v)["participations"];
        assert!(nodes(p).len() <= size);
        seen.extend(
            nodes(p)
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        if p["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = Some(p["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyset_pages_over_participations_cover_the_list_once() {
    let order = "orderBy: [{field: POST_SCORE, direction: DESC}, {field: ATTENDANCE_PCT}]";
    let all = run(&format!("{{ participations({order}) {{ totalCount }} }}")).await;
    let total = data(&all)["participations"]["totalCount"].as_i64().unwrap();
    assert!(total > 100, "{total}");
    let seen = pages(order, 9).await;
    assert_eq!(seen.len() as i64, total);
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
    // Pages of another size give the same sequence.
    let in_hundreds = pages(order, 100).await;
    assert_eq!(seen, in_hundreds);
    let in_one = in_hundreds;

    // Backwards from the end gives the last page.
    let v = run(&format!(
        "{{ participations(last: 9, {order}) {{ nodes {{ id }} pageInfo {{ hasPreviousPage }} }} }}"
    ))
    .await;
    let p = &data(&v)["participations"];
    let last: Vec<String> = nodes(p)
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(&last[..], &in_one[in_one.len() - 9..]);
    assert_eq!(p["pageInfo"]["hasPreviousPage"], true);

    // Nested pages continue with `after` too, by start date over events.
    let v = run("{ trainingEvents(first: 1) { nodes { participations(first: 2) { nodes { id } pageInfo { endCursor } } } } }").await;
    let e = &nodes(&data(&v)["trainingEvents"])[0]["participations"];
    let cursor = e["pageInfo"]["endCursor"].as_str().unwrap();
    let v = run(&format!("{{ trainingEvents(first: 1) {{ nodes {{ participations(first: 2, after: \"{cursor}\") {{ nodes {{ id }} }} }} }} }}")).await;
    let next = &nodes(&data(&v)["trainingEvents"])[0]["participations"];
    for n in nodes(next) {
        assert!(!nodes(e).contains(n));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyset_pages_over_events_by_date() {
    for order in [
        "",
        "orderBy: [{field: END_DATE, direction: DESC}]",
        "orderBy: [{field: CODE}]",
    ] {
        let all = run(&format!(
            "{{ trainingEvents(first: 100, {order}) {{ totalCount nodes {{ id }} }} }}"
        ))
        .await;
        let d = &data(&all)["trainingEvents"];
        let expected: Vec<&Value> = nodes(d).iter().map(|n| &n["id"]).collect();
        assert_eq!(expected.len() as i64, d["totalCount"].as_i64().unwrap());
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let v = run(&format!(
                "{{ trainingEvents(first: 4, {order}{after}) {{ nodes {{ id }} pageInfo {{ hasNextPage endCursor }} }} }}"
            ))
            .await;
            let p = &data(&v)["trainingEvents"];
            seen.extend(nodes(p).iter().map(|n| n["id"].clone()));
            if p["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = format!(", after: {}", p["pageInfo"]["endCursor"]);
        }
        assert_eq!(seen.iter().collect::<Vec<_>>(), expected, "{order}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_by_global_id() {
    let v =
        run("{ participations(first: 1) { nodes { id event { id title } person { id sex } } } }")
            .await;
    let p = &nodes(&data(&v)["participations"])[0];
    for (id, typename) in [
        (&p["id"], "Participation"),
        (&p["event"]["id"], "TrainingEvent"),
        (&p["person"]["id"], "Person"),
    ] {
        let q = format!(r#"{{ node(id: {id}) {{ __typename id }} }}"#);
        let v = run(&q).await;
        let n = &data(&v)["node"];
        assert_eq!(n["__typename"], typename);
        assert_eq!(&n["id"], id);
    }
    // Persons list their participations.
    let q = format!(
        r#"{{ node(id: {}) {{ ... on Person {{ participations {{ totalCount nodes {{ id }} }} }} }} }}"#,
        p["person"]["id"]
    );
    let v = run(&q).await;
    let parts = &data(&v)["node"]["participations"];
    assert!(nodes(parts).iter().any(|n| n["id"] == p["id"]), "{parts:#}");
}

/// A root object with the helpers that Cluster and Firm fields call.
struct HelperQuery;

#[Object]
impl HelperQuery {
    async fn cluster_events(
        &self,
        ctx: &Context<'_>,
        cluster_id: i64,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<TrainingEventConnection> {
        cluster_training_events(ctx, cluster_id, first, after, None, None).await
    }

    async fn firm_parts(
        &self,
        ctx: &Context<'_>,
        firm_id: i64,
        first: Option<i32>,
    ) -> Result<ParticipationConnection> {
        firm_participations(ctx, firm_id, first, None, None, None).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helpers_for_clusters_and_firms() {
    let db = shared_db().await;
    let schema = helper_schema(HelperQuery, db);
    let run_helper = |q: String| {
        let schema = schema.clone();
        async move {
            execute(
                &schema,
                db,
                q,
                Principal::with_role(crate::graphql::principal::Role::Analyst),
            )
            .await
        }
    };
    use sea_orm::{ConnectionTrait as _, Statement};
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT c.id, c.slug, (SELECT COUNT(*) FROM training_events e WHERE e.cluster_id = c.id) AS n FROM clusters c ORDER BY c.id",
        ))
        .await
        .unwrap();
    let clusters: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| (r.try_get_by("id").unwrap(), r.try_get_by("n").unwrap()))
        .collect();
    let q = clusters
        .iter()
        .map(|(id, _)| format!("c{id}: clusterEvents(clusterId: {id}, first: 2) {{ totalCount nodes {{ cluster {{ id }} }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let v = run_helper(format!("{{ {q} }}")).await;
    let d = data(&v);
    for (id, n) in &clusters {
        let c = &d[format!("c{id}")];
        assert_eq!(c["totalCount"].as_i64().unwrap(), *n);
        assert_eq!(nodes(c).len() as i64, (*n).min(2));
    }
    assert!(clusters.iter().any(|(_, n)| *n > 2));

    // A cluster's events page on by start date, and come in the order of the root list.
    let (busiest, n) = *clusters.iter().max_by_key(|(_, n)| *n).unwrap();
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let v = run_helper(format!(
            "{{ clusterEvents(clusterId: {busiest}, first: 2{after}) {{ nodes {{ id }} pageInfo {{ hasNextPage endCursor }} }} }}"
        ))
        .await;
        let p = &data(&v)["clusterEvents"];
        seen.extend(nodes(p).iter().map(|e| e["id"].clone()));
        if p["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = format!(", after: {}", p["pageInfo"]["endCursor"]);
    }
    assert_eq!(seen.len() as i64, n);
    let v = run(&format!(
        "{{ trainingEvents(first: 100, filter: {{ cluster: {{ id: {{ eq: {} }} }} }}) {{ nodes {{ id }} }} }}",
        json!(crate::graphql::ids::encode("Cluster", busiest).to_string())
    ))
    .await;
    let root: Vec<Value> = nodes(&data(&v)["trainingEvents"])
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(seen, root);

    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT p.organisation_id AS id, COUNT(*) AS n FROM participations p JOIN organisations o ON o.id = p.organisation_id WHERE o.kind = 'firm' GROUP BY p.organisation_id ORDER BY COUNT(*) DESC, p.organisation_id LIMIT 3",
        ))
        .await
        .unwrap();
    let firms: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| (r.try_get_by("id").unwrap(), r.try_get_by("n").unwrap()))
        .collect();
    assert!(!firms.is_empty());
    let q = firms
        .iter()
        .map(|(id, _)| format!("f{id}: firmParts(firmId: {id}, first: 1) {{ totalCount nodes {{ organisationKind }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let v = run_helper(format!("{{ {q} }}")).await;
    let d = data(&v);
    for (id, n) in &firms {
        let f = &d[format!("f{id}")];
        assert_eq!(f["totalCount"].as_i64().unwrap(), *n);
        assert_eq!(nodes(f)[0]["organisationKind"], "firm");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_lists_cost_the_same_whatever_the_number_of_events() {
    let q = |n: usize| {
        format!(
            "{{ trainingEvents(first: {n}) {{ totalCount nodes {{ code cluster {{ slug }} participations(first: 5) {{ totalCount nodes {{ sex person {{ sex participations(first: 2) {{ nodes {{ event {{ code }} }} }} }} firm {{ name }} event {{ code }} }} }} }} }} }}"
        )
    };
    let (one, few) = count_statements(&q(1)).await;
    let (many, lots) = count_statements(&q(20)).await;
    assert_eq!(nodes(&data(&one)["trainingEvents"]).len(), 1);
    assert_eq!(nodes(&data(&many)["trainingEvents"]).len(), 20);
    assert_eq!(few, lots, "statements for 1 vs 20 events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_role_sees_no_persons() {
    let public = public();
    // Neither participations (the persons' attendance) nor persons, at the root or nested.
    let query = "{ participations(first: 5) { totalCount nodes { sex person { id sex } } } \
                   trainingEvents(first: 3) { nodes { participations(first: 5) { totalCount nodes { sex } } } } }";
    let as_public = run_as(query, public.clone()).await;
    let d = data(&as_public);
    assert!(nodes(&d["participations"]).is_empty(), "{d}");
    assert_eq!(d["participations"]["totalCount"], 0);
    for event in nodes(&d["trainingEvents"]) {
        assert!(nodes(&event["participations"]).is_empty(), "{event}");
        assert_eq!(event["participations"]["totalCount"], 0);
    }
    let as_analyst = run(query).await;
    assert!(
        data(&as_analyst)["participations"]["totalCount"]
            .as_i64()
            .unwrap()
            > 0
    );
    let people = nodes(&data(&as_analyst)["participations"]).clone();
    assert!(people.iter().all(|p| !p["person"].is_null()), "{people:?}");
    // Nor by global id.
    let id = people[0]["person"]["id"].as_str().unwrap().to_owned();
    let v = run_as(&format!("{{ node(id: \"{id}\") {{ id }} }}"), public).await;
    assert!(data(&v)["node"].is_null());
}
