//! The GraphQL API over HTTP on the demo dataset: lists, filters, relations, batching, the
//! policy, and the same JSON on SQLite and PostgreSQL.

use serde_json::{Value, json};

use crate::support::{Engine, RunningHub, TestDb, create_key, engines, hub, spawn};

/// A hub serving the demo dataset on `engine`, with room for the 200-row batching query.
/// The batching window is the default (no timer): the statement counts below hold however
/// slowly an unoptimised test build resolves 200 parents, which a timer window did not.
fn demo_hub(engine: Engine) -> (TestDb, RunningHub) {
    let db = TestDb::empty(engine);
    let running = spawn({
        let mut c = hub(&db);
        c.arg("demo")
            .env("HUB__GRAPHQL__MAX_PAGE_SIZE", "300")
            .env("HUB__GRAPHQL__MAX_COMPLEXITY", "100000")
            // Every request reads its key: statements per request are counted here, and
            // a key kept from one request to the next would make the first one dearer.
            .env("HUB__ACCESS__KEY_CACHE_MS", "0");
        c
    });
    // The figures and identifiers asked here are an analyst's view.
    let key = create_key(&db, "analyst", "analyst", &[]);
    let running = running.with_bearer(&key);
    (db, running)
}

fn gql(h: &RunningHub, query: &str) -> Value {
    let (status, body) = h.post_json("/graphql", &json!({ "query": query }));
    assert_eq!(status, 200, "{body:#}");
    body
}

fn ok(h: &RunningHub, query: &str) -> Value {
    let body = gql(h, query);
    assert!(body.get("errors").is_none(), "{query}\n{body:#}");
    body["data"].clone()
}

/// Queries whose answers must be identical on both engines.
const SAME_ON_EVERY_ENGINE: &[&str] = &[
    "{ clusters { totalCount nodes { id slug name hsRevision hsBasket isicClasses districts } } }",
    r#"{ firms(first: 40, orderBy: [{field: DISTRICT}, {field: EMPLOYEES_TOTAL, direction: DESC}, {field: NAME}]) {
         totalCount edges { cursor node { id name district tehsil sizeClass employeesTotal employeesFemale foundedYear } }
         pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"#,
    r#"{ firms(first: 25, filter: {name: {startsWith: "al"}}, orderBy: [{field: NAME, direction: DESC}]) { totalCount nodes { name } } }"#,
    r#"{ firms(search: "surgical works", first: 50) { totalCount nodes { name } } }"#,
    r#"{ clusters { nodes { slug firms(first: 5, orderBy: [{field: FOUNDED_YEAR, direction: DESC}]) { totalCount nodes { name foundedYear clusters { nodes { slug } } } } } } }"#,
    r#"{ tradeFlows(first: 30, filter: {hsCode: {startsWith: "9018"}, partner: {eq: "USA"}}, orderBy: [{field: VALUE_USD, direction: DESC}]) {
         totalCount nodes { id reporter partner flow classification commodityCode period valueUsd netWeightKg quantity } } }"#,
    r#"{ trainingEvents(first: 10) { totalCount nodes { id code title startDate endDate venueDistrict cluster { slug }
         participations(first: 4, orderBy: [{field: POST_SCORE, direction: DESC}]) { totalCount nodes { sex attendancePct preScore postScore completed firm { name } person { sex fullName } } } } } }"#,
    r#"{ participations(first: 20, filter: {event: {cluster: {slug: {eq: "sialkot-surgical"}}}}) { totalCount nodes { id role } } }"#,
    r#"{ networks { totalCount nodes { name kind formedOn cluster { slug } members(first: 3) { totalCount nodes { role firm { name } } } } } }"#,
    r#"{ indicators { nodes { code name unit values(first: 5) { totalCount nodes { valueType period value breakdown breakdownValue cluster { slug } } } } } }"#,
    r#"{ organisations(first: 20, filter: {kind: {eq: AGENCY}}) { totalCount nodes { name kind } } }"#,
    r#"{ firms(first: 10, orderBy: [{field: EMPLOYEES_TOTAL, direction: DESC}]) { nodes { name identifiers { scheme value source } observations(first: 3) { nodes { period employeesTotal turnoverPkr exportsUsd } } sourceRecords(first: 3) { nodes { source name } } networks { nodes { name } } } } }"#,
];

#[test]
fn the_same_queries_give_the_same_json_on_every_engine() {
    let mut answers: Vec<(Engine, Vec<Value>)> = Vec::new();
    for engine in engines() {
        let (_db, h) = demo_hub(engine);
        let got: Vec<Value> = SAME_ON_EVERY_ENGINE.iter().map(|q| ok(&h, q)).collect();
        // Sanity: the lists are not empty, so the comparison compares something.
        assert_eq!(got[0]["clusters"]["totalCount"], 4, "{engine}");
        assert!(
            got[1]["firms"]["totalCount"].as_i64().unwrap() > 250,
            "{engine}"
        );
        assert!(
            got[3]["firms"]["totalCount"].as_i64().unwrap() > 0,
            "{engine}"
        );
        answers.push((engine, got));
    }
    if let [(_, a), (_, b)] = answers.as_slice() {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(
                x, y,
                "query {i} differs between SQLite and PostgreSQL:\n{}",
                SAME_ON_EVERY_ENGINE[i]
            );
        }
    }
}

#[test]
fn keyset_pages_forward_and_backward_cover_the_list_exactly_once() {
    for engine in engines() {
        let (_db, h) = demo_hub(engine);
        let order = "orderBy: [{field: SIZE_CLASS}, {field: FOUNDED_YEAR, direction: DESC}]";
        let all = ok(
            &h,
            &format!("{{ firms(first: 300, {order}) {{ totalCount nodes {{ id }} }} }}"),
        );
        let ids: Vec<Value> = all["firms"]["nodes"].as_array().unwrap().clone();
        assert_eq!(
            ids.len() as i64,
            all["firms"]["totalCount"].as_i64().unwrap(),
            "{engine}"
        );

        // Forward in pages of 23.
        let mut forward = Vec::new();
        let mut after = String::new();
        loop {
            let d = ok(
                &h,
                &format!(
                    "{{ firms(first: 23, {order} {after}) {{ nodes {{ id }} pageInfo {{ hasNextPage endCursor }} }} }}"
                ),
            );
            forward.extend(d["firms"]["nodes"].as_array().unwrap().iter().cloned());
            if d["firms"]["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = format!(
                ", after: \"{}\"",
                d["firms"]["pageInfo"]["endCursor"].as_str().unwrap()
            );
        }
        assert_eq!(forward, ids, "{engine}: forward pages");

        // Backward from the end in pages of 31.
        let mut backward: Vec<Value> = Vec::new();
        let mut before = String::new();
        loop {
            let d = ok(
                &h,
                &format!(
                    "{{ firms(last: 31, {order} {before}) {{ nodes {{ id }} pageInfo {{ hasPreviousPage startCursor }} }} }}"
                ),
            );
            let mut page = d["firms"]["nodes"].as_array().unwrap().clone();
            page.extend(backward);
            backward = page;
            if d["firms"]["pageInfo"]["hasPreviousPage"] != json!(true) {
                break;
            }
            before = format!(
                ", before: \"{}\"",
                d["firms"]["pageInfo"]["startCursor"].as_str().unwrap()
            );
        }
        assert_eq!(backward, ids, "{engine}: backward pages");

        // A page beyond the maximum, and a cursor of another order, are client errors.
        let body = gql(&h, "{ firms(first: 301) { nodes { id } } }");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body:#}"
        );
        let cursor = ok(&h, "{ firms(first: 1) { pageInfo { endCursor } } }")["firms"]["pageInfo"]
            ["endCursor"]
            .clone();
        let body = gql(
            &h,
            &format!("{{ firms(first: 1, {order}, after: {cursor}) {{ nodes {{ id }} }} }}"),
        );
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body:#}"
        );
    }
}

#[test]
fn filters_compose_and_follow_relations() {
    for engine in engines() {
        let (_db, h) = demo_hub(engine);
        let d = ok(
            &h,
            r#"{ surgical: firms(first: 300, filter: {cluster: {slug: {eq: "sialkot-surgical"}}}) { totalCount nodes { clusters { nodes { slug } } } }
                 big: firms(first: 300, filter: {and: [{cluster: {slug: {eq: "sialkot-surgical"}}}, {employeesTotal: {gte: 50}}], not: {status: {eq: "closed"}}}) { totalCount nodes { employeesTotal status } }
                 notSurgical: firms(first: 1, filter: {not: {cluster: {slug: {eq: "sialkot-surgical"}}}}) { totalCount }
                 all: firms(first: 1) { totalCount } }"#,
        );
        let surgical = d["surgical"]["totalCount"].as_i64().unwrap();
        assert!(surgical > 50, "{engine}: {surgical}");
        for n in d["surgical"]["nodes"].as_array().unwrap() {
            let slugs: Vec<&str> = n["clusters"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["slug"].as_str().unwrap())
                .collect();
            assert!(slugs.contains(&"sialkot-surgical"), "{engine}: {slugs:?}");
        }
        let big = d["big"]["totalCount"].as_i64().unwrap();
        assert!(big > 0 && big < surgical, "{engine}: {big} of {surgical}");
        for n in d["big"]["nodes"].as_array().unwrap() {
            assert!(n["employeesTotal"].as_i64().unwrap() >= 50);
            assert_ne!(n["status"], "closed");
        }
        assert_eq!(
            d["notSurgical"]["totalCount"].as_i64().unwrap() + surgical,
            d["all"]["totalCount"].as_i64().unwrap(),
            "{engine}: not() is the complement"
        );

        // Case-insensitive text operators, and `in`.
        let d = ok(
            &h,
            r#"{ a: firms(filter: {district: {in: ["Sialkot", "Kasur"]}}) { totalCount }
                 b: firms(filter: {district: {contains: "ALKO"}}) { totalCount }
                 c: firms(filter: {district: {eq: "Sialkot"}}) { totalCount } }"#,
        );
        assert_eq!(d["b"]["totalCount"], d["c"]["totalCount"], "{engine}");
        assert!(
            d["a"]["totalCount"].as_i64() >= d["c"]["totalCount"].as_i64(),
            "{engine}"
        );
    }
}

/// A nested page is the page of the same list read at the root: each cluster's firms, in
/// orders by a text, by nullable figures either way and by several keys, first pages and
/// the pages after their end cursors, are those of `firms` filtered by the cluster's slug,
/// node for node, cursor for cursor, with the same `hasNextPage`; asked without cursors
/// they list the same firms. SQLite reads the nested pages as one `UNION ALL` arm per
/// cluster, each in its own order and none over the whole statement; PostgreSQL as a
/// `LATERAL` top-N ordered by cluster.
#[test]
fn nested_pages_are_the_pages_of_the_same_list_at_the_root() {
    const ORDERS: &[&str] = &[
        "",
        "orderBy: [{field: NAME, direction: DESC}]",
        "orderBy: [{field: EMPLOYEES_TOTAL, direction: DESC}]",
        "orderBy: [{field: FOUNDED_YEAR}, {field: NAME, direction: DESC}]",
        "orderBy: [{field: DISTRICT}, {field: EMPLOYEES_FEMALE}]",
    ];
    const WITH_CURSORS: &str =
        "edges { cursor node { id } } pageInfo { hasNextPage startCursor endCursor }";
    for engine in engines() {
        let (_db, h) = demo_hub(engine);
        let slugs: Vec<String> = ok(&h, "{ clusters { nodes { slug } } }")["clusters"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["slug"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(slugs.len(), 4, "{engine}");
        let ids = |page: &Value| -> Vec<Value> {
            match page.get("edges") {
                Some(edges) => edges
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["node"]["id"].clone())
                    .collect(),
                None => page["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n["id"].clone())
                    .collect(),
            }
        };
        for order in ORDERS {
            // Page by page, nested under every cluster and at the root per cluster.
            let mut after: Vec<Option<String>> = vec![None; slugs.len()];
            for page_number in 0..3 {
                // One nested field per cluster position is not possible (one `after` for
                // all), so each cluster's later pages are asked through an alias each.
                let nested_fields: String = slugs
                    .iter()
                    .enumerate()
                    .map(|(i, _)| {
                        let cursor = after[i]
                            .as_ref()
                            .map(|c| format!(r#", after: "{c}""#))
                            .unwrap_or_default();
                        format!("c{i}: firms(first: 7{cursor}, {order}) {{ {WITH_CURSORS} }} ")
                    })
                    .collect();
                let nested = ok(
                    &h,
                    &format!("{{ clusters {{ nodes {{ slug {nested_fields} }} }} }}"),
                );
                let clusters = nested["clusters"]["nodes"].as_array().unwrap();
                for (i, slug) in slugs.iter().enumerate() {
                    let cursor = after[i]
                        .as_ref()
                        .map(|c| format!(r#", after: "{c}""#))
                        .unwrap_or_default();
                    let root = ok(
                        &h,
                        &format!(
                            r#"{{ firms(first: 7{cursor}, filter: {{cluster: {{slug: {{eq: "{slug}"}}}}}}, {order}) {{ {WITH_CURSORS} }} }}"#
                        ),
                    );
                    let cluster = clusters
                        .iter()
                        .find(|c| c["slug"] == slug.as_str())
                        .unwrap();
                    let page = &cluster[format!("c{i}").as_str()];
                    assert_eq!(
                        page, &root["firms"],
                        "{engine}: {slug}, {order}, page {page_number}: nested and root differ"
                    );
                    assert_eq!(
                        ids(page).len(),
                        7,
                        "{engine}: {slug} has fewer than 21 firms, so its pages do not test the order"
                    );
                    after[i] = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
                }
            }
            // The first pages without cursors list the same firms.
            let plain = ok(
                &h,
                &format!(
                    "{{ clusters {{ nodes {{ slug firms(first: 7, {order}) {{ nodes {{ id }} pageInfo {{ hasNextPage }} }} }} }} }}"
                ),
            );
            let with = ok(
                &h,
                &format!(
                    "{{ clusters {{ nodes {{ slug firms(first: 7, {order}) {{ {WITH_CURSORS} }} }} }} }}"
                ),
            );
            for (p, w) in plain["clusters"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .zip(with["clusters"]["nodes"].as_array().unwrap())
            {
                assert_eq!(ids(&p["firms"]), ids(&w["firms"]), "{engine}: {order}");
                assert_eq!(
                    p["firms"]["pageInfo"]["hasNextPage"], w["firms"]["pageInfo"]["hasNextPage"],
                    "{engine}: {order}"
                );
            }
        }
    }
}

#[test]
fn nested_lists_cost_the_same_statements_for_10_and_200_parents() {
    for engine in engines() {
        let (_db, h) = demo_hub(engine);
        let query = |n: usize| {
            format!(
                "{{ firms(first: {n}) {{ nodes {{ name clusters(first: 5) {{ totalCount nodes {{ slug firms(first: 3) {{ nodes {{ name }} }} }} }} }} }} }}"
            )
        };
        let mut costs = Vec::new();
        for n in [10, 200] {
            let before = h.sql_statements();
            let d = ok(&h, &query(n));
            let after = h.sql_statements();
            assert_eq!(d["firms"]["nodes"].as_array().unwrap().len(), n, "{engine}");
            costs.push(after - before);
        }
        assert!(costs[0] > 0, "{engine}: statements are counted");
        assert_eq!(
            costs[0], costs[1],
            "{engine}: statements for 10 and for 200 parents"
        );
    }
}

/// A firm list reads its firms' identifiers in its own statement when every `identifiers`
/// under it asks for the same scheme and no sources: one statement fewer, and the same
/// identifiers as the batch of the level reads them (forced here by asking for `source`),
/// for an analyst, an analyst who may see personal data (masked CNICs) and an analyst
/// scoped to one cluster, at the root and under clusters.
#[test]
fn firm_lists_read_identifiers_with_the_firms_as_the_batch_reads_them() {
    use crate::graphql_import::post_as;
    for engine in engines() {
        let (db, h) = demo_hub(engine);
        // A proprietor's CNIC on the first firm by name, as imports store it: the keyed
        // hash and the masked form (the demo's CNICs are persons').
        let (yes, collate) = match engine {
            Engine::Sqlite => ("1", ""),
            Engine::Postgres => ("true", " COLLATE \"C\""),
        };
        db.query(&format!(
            "INSERT INTO organisation_identifiers (organisation_id, scheme, value, display, \
             is_hashed, created_at, updated_at) SELECT id, 'PK-CNIC', '{}', '*****-****567-8', \
             {yes}, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM organisations \
             WHERE kind = 'firm' AND merged_into_id IS NULL ORDER BY name{collate}, id LIMIT 1",
            "ab".repeat(32)
        ));
        let keys = [
            create_key(&db, "plain", "analyst", &[]),
            create_key(&db, "pii", "analyst", &["--pii"]),
            create_key(
                &db,
                "sialkot",
                "analyst",
                &["--cluster", "sialkot-surgical"],
            ),
        ];
        let ask = |key: &str, query: &str| -> (Value, u64) {
            let before = h.sql_statements();
            let (status, body) = post_as(&h, Some(key), &json!({ "query": query }));
            assert_eq!(status, 200, "{engine}: {body:#}");
            assert!(body.get("errors").is_none(), "{engine}: {query}\n{body:#}");
            (body["data"].clone(), h.sql_statements() - before)
        };
        // Each firm's identifiers as (id, [(scheme, value)]), whatever else was selected.
        let identifiers = |data: &Value, field: &str| -> Vec<(String, Vec<(String, String)>)> {
            let mut firms = Vec::new();
            let mut lists: Vec<&Value> = Vec::new();
            match data.get("clusters") {
                Some(c) => {
                    for cluster in c["nodes"].as_array().unwrap() {
                        lists.push(&cluster["firms"]);
                    }
                }
                None => lists.push(&data["firms"]),
            }
            for list in lists {
                for f in list["nodes"].as_array().unwrap() {
                    let ids = f[field]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| {
                            (
                                i["scheme"].as_str().unwrap().to_owned(),
                                i["value"].as_str().unwrap().to_owned(),
                            )
                        })
                        .collect();
                    firms.push((f["id"].as_str().unwrap().to_owned(), ids));
                }
            }
            firms
        };
        let lists = [
            "firms(first: 300, orderBy: [{field: NAME}]) { nodes { id FIELDS } }",
            "clusters { nodes { firms(first: 40) { nodes { id FIELDS } } } }",
        ];
        for (k, key) in keys.iter().enumerate() {
            for list in lists {
                for args in [r#"(scheme: "PK-NTN")"#, ""] {
                    let with = |fields: &str| format!("{{ {} }}", list.replace("FIELDS", fields));
                    let (read, read_cost) = ask(
                        key,
                        &with(&format!("i: identifiers{args} {{ scheme value }}")),
                    );
                    let (batched, batched_cost) = ask(
                        key,
                        &with(&format!("i: identifiers{args} {{ scheme value source }}")),
                    );
                    let what = format!("{engine} key {k} {list} {args}");
                    let (read, batched) = (identifiers(&read, "i"), identifiers(&batched, "i"));
                    assert_eq!(read, batched, "{what}");
                    assert!(
                        read.iter().any(|(_, ids)| !ids.is_empty()),
                        "{what}: some firm has identifiers"
                    );
                    assert_eq!(read_cost + 1, batched_cost, "{what}: statements");
                    if args.is_empty() && k == 1 && list.starts_with("firms") {
                        assert!(
                            read.iter()
                                .flat_map(|(_, ids)| ids)
                                .any(|(scheme, value)| scheme == "PK-CNIC" && value.contains('*')),
                            "{what}: a masked CNIC"
                        );
                    }
                    if k != 1 {
                        assert!(
                            read.iter()
                                .flat_map(|(_, ids)| ids)
                                .all(|(s, _)| s != "PK-CNIC"),
                            "{what}: no CNIC without personal-data access"
                        );
                    }
                    // Two different schemes under one list: each read as the batch reads it.
                    let (two, _) = ask(
                        key,
                        &with(
                            r#"a: identifiers(scheme: "PK-NTN") { scheme value } i: identifiers { scheme value }"#,
                        ),
                    );
                    let (all, _) = ask(key, &with("i: identifiers { scheme value sources }"));
                    assert_eq!(
                        identifiers(&two, "i"),
                        identifiers(&all, "i"),
                        "{what}: two schemes"
                    );
                }
            }
        }
        // Schemes with quotes and backslashes match nothing, whichever path reads them.
        for scheme in ["x' OR '1'='1", "PK-NTN' --", "a\\' OR true --", "\\"] {
            let (status, body) = post_as(
                &h,
                Some(&keys[0]),
                &json!({
                    "query": "query($s: String) { firms(first: 50) { nodes { id i: identifiers(scheme: $s) { scheme value } } } }",
                    "variables": { "s": scheme },
                }),
            );
            assert_eq!(status, 200, "{engine} {scheme}: {body:#}");
            assert!(body.get("errors").is_none(), "{engine} {scheme}: {body:#}");
            let firms = identifiers(&body["data"], "i");
            assert_eq!(firms.len(), 50, "{engine} {scheme}");
            assert!(
                firms.iter().all(|(_, ids)| ids.is_empty()),
                "{engine} {scheme}: {firms:?}"
            );
        }
    }
}

#[test]
fn global_ids_fetch_nodes_and_firms_are_found_by_identifier() {
    for engine in engines() {
        let (db, h) = demo_hub(engine);
        let d = ok(
            &h,
            "{ firms(first: 1, orderBy: [{field: NAME}]) { nodes { id name } } clusters(first: 1) { nodes { id slug } } }",
        );
        let firm = &d["firms"]["nodes"][0];
        let cluster = &d["clusters"]["nodes"][0];
        let n = ok(
            &h,
            &format!(
                "{{ a: node(id: {}) {{ id ... on Firm {{ name }} }} b: node(id: {}) {{ id ... on Cluster {{ slug }} }} c: firm(id: {}) {{ name }} }}",
                firm["id"], cluster["id"], firm["id"]
            ),
        );
        assert_eq!(n["a"]["name"], firm["name"], "{engine}");
        assert_eq!(n["b"]["slug"], cluster["slug"], "{engine}");
        assert_eq!(n["c"]["name"], firm["name"], "{engine}");
        let d = ok(
            &h,
            r#"{ cluster(slug: "sialkot-surgical") { name } none: cluster(slug: "nowhere") { name } }"#,
        );
        assert!(d["cluster"]["name"].as_str().unwrap().contains("Surgical"));
        assert!(d["none"].is_null());

        // An NTN as the registry wrote it, looked up without its dash.
        let ntn = db.query_scalar(
            "SELECT i.value FROM organisation_identifiers i WHERE i.scheme = 'PK-NTN' ORDER BY i.value LIMIT 1",
        );
        let name = db.query_scalar(&format!(
            "SELECT o.name FROM organisation_identifiers i JOIN organisations o ON o.id = i.organisation_id \
             WHERE i.scheme = 'PK-NTN' AND i.value = '{ntn}'"
        ));
        let d = ok(
            &h,
            &format!(
                r#"{{ firmByIdentifier(scheme: "PK-NTN", value: "{}") {{ name }} }}"#,
                ntn.replace('-', "")
            ),
        );
        assert_eq!(d["firmByIdentifier"]["name"], name.as_str(), "{engine}");
        // A CNIC identifies an owner, not a firm.
        let body = gql(
            &h,
            r#"{ firmByIdentifier(scheme: "PK-CNIC", value: "35202-1234567-1") { name } }"#,
        );
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body:#}"
        );
        assert!(
            !body.to_string().contains("1234567"),
            "the value is not echoed"
        );
    }
}

#[test]
fn personal_fields_need_the_pii_scope() {
    use base64::Engine as _;
    for engine in engines() {
        let (db, h) = demo_hub(engine);
        let q = "{ firms(first: 100) { nodes { phone email } } \
                   participations(first: 200) { nodes { person { id fullName phone } } } }";
        // The analyst without the scope: null, without an error.
        let d = ok(&h, q);
        for n in d["firms"]["nodes"].as_array().unwrap() {
            assert!(
                n["phone"].is_null() && n["email"].is_null(),
                "{engine}: {n}"
            );
        }
        for p in d["participations"]["nodes"].as_array().unwrap() {
            assert!(
                p["person"]["id"].is_string(),
                "{engine}: analysts see persons"
            );
            assert!(
                p["person"]["fullName"].is_null() && p["person"]["phone"].is_null(),
                "{engine}: {p}"
            );
        }
        // With it, the names and phones the stored persons have.
        let h = h.with_bearer(&create_key(&db, "officer", "analyst", &["--pii"]));
        let d = ok(&h, q);
        let mut shown = Vec::new();
        let mut ids = Vec::new();
        for p in d["participations"]["nodes"].as_array().unwrap() {
            let person = &p["person"];
            let id = String::from_utf8(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(person["id"].as_str().unwrap())
                    .unwrap(),
            )
            .unwrap();
            let row: i64 = id.split_once(':').unwrap().1.parse().unwrap();
            assert!(person["fullName"].is_string(), "{engine}: {person}");
            ids.push(row);
            if let Some(phone) = person["phone"].as_str() {
                shown.push(format!("{row}|{phone}"));
            }
        }
        ids.sort_unstable();
        ids.dedup();
        shown.sort();
        shown.dedup();
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let mut stored: Vec<String> = db
            .query(&format!(
                "SELECT id || '|' || phone FROM persons WHERE phone IS NOT NULL AND id IN ({list})"
            ))
            .lines()
            .map(str::to_owned)
            .collect();
        stored.sort();
        assert!(
            !stored.is_empty(),
            "{engine}: the demo's trainees have phones"
        );
        assert_eq!(shown, stored, "{engine}");
    }
}

/// A cluster's page of firms, at the root (filtered by the cluster's slug) and nested under
/// each cluster, is read along an index of `organisations` on both engines: the plans of
/// the statements the hub runs for them have no full scan of `organisations`. The hub's
/// SQL log gives the statements (with placeholders, never values); each is explained with
/// its placeholders unbound: SQLite's plan does not depend on them, and PostgreSQL's
/// generic plan is asked for with sequential scans discouraged, so that the demo's small
/// tables do not make a scan the cheapest plan. What is tested is the statements' shape,
/// which must leave the planner an index path; `tools/bench-graphql` measures the choice
/// on 10,000 firms. The trade list of one product and flow ("exports of HS 9018") is read
/// through `(hs4, flow, period_start)`.
#[test]
fn cluster_pages_and_trade_lists_read_along_an_index() {
    for engine in engines() {
        let db = TestDb::empty(engine);
        let running = spawn({
            let mut c = hub(&db);
            c.arg("demo").env("HUB__LOG__FILTER", "warn,hub::sql=debug");
            c
        });
        // Identifiers and head counts are an analyst's.
        let running = running.with_bearer(&create_key(&db, "analyst", "analyst", &[]));
        let before = running.stderr().len();
        ok(
            &running,
            r#"{ firms(first: 50, filter: {cluster: {slug: {eq: "sialkot-surgical"}}}) { nodes { name identifiers(scheme: "PK-NTN") { value } employeesTotal } } }"#,
        );
        ok(
            &running,
            "{ clusters(first: 4) { nodes { slug firms(first: 25) { nodes { name } } } } }",
        );
        ok(
            &running,
            r#"{ firms(first: 50, orderBy: [{field: EMPLOYEES_TOTAL, direction: DESC}]) { nodes { name employeesTotal } } }"#,
        );
        // The log reaches the pipe a moment after the answers on a busy machine: read it
        // until `n` statements reading `table` are there (or 10 s have passed).
        let logged = |before: usize, table: &str, n: usize| -> Vec<String> {
            let statements = || -> Vec<String> {
                running.stderr()[before..]
                    .lines()
                    .filter_map(|l| l.split_once("hub::sql: ").map(|(_, s)| s))
                    .map(|s| s.rsplit_once(" micros=").map_or(s, |(s, _)| s))
                    .filter(|s| s.starts_with("SELECT") && s.contains(&format!("\"{table}\"")))
                    .map(str::to_owned)
                    .collect()
            };
            let waited = std::time::Instant::now();
            let mut selects = statements();
            while selects.len() < n && waited.elapsed() < std::time::Duration::from_secs(10) {
                std::thread::sleep(std::time::Duration::from_millis(50));
                selects = statements();
            }
            selects
        };
        let selects = logged(before, "organisations", 3);
        assert!(selects.len() >= 3, "{engine}: {selects:#?}");
        for sql in selects {
            let plan = explain(&db, engine, &sql);
            let full_scan = match engine {
                Engine::Postgres => plan.contains("Seq Scan on organisations"),
                Engine::Sqlite => plan.lines().any(|l| {
                    let step = l.trim_start_matches(['|', '`', '-', ' ']);
                    step.starts_with("SCAN t") && !step.contains("USING")
                }),
            };
            assert!(
                !full_scan,
                "{engine}: a full scan of organisations in\n{plan}\nfor\n{sql}"
            );
        }

        // A trade list of one product and one flow searches the index of both.
        let before = running.stderr().len();
        ok(
            &running,
            r#"{ tradeFlows(first: 100, filter: {hsCode: {startsWith: "9018"}, flow: {eq: EXPORT}, year: {gte: 2015, lte: 2020}}, orderBy: [{field: VALUE_USD, direction: DESC}]) { nodes { commodityCode partner periodStart valueUsd } } }"#,
        );
        let selects = logged(before, "trade_flows", 1);
        assert!(
            !selects.is_empty(),
            "{engine}: no trade list statement logged"
        );
        for sql in selects {
            let plan = explain(&db, engine, &sql);
            assert!(
                plan.contains("ix_trade_flows_hs4_flow_period_start"),
                "{engine}: the trade list does not search by product and flow:\n{plan}\nfor\n{sql}"
            );
        }
    }
}

/// The plan of `sql` (placeholders unbound; see [`cluster_pages_and_trade_lists_read_along_an_index`]).
fn explain(db: &TestDb, engine: Engine, sql: &str) -> String {
    match engine {
        Engine::Sqlite => db.query(&format!("EXPLAIN QUERY PLAN {sql}")),
        Engine::Postgres => {
            let params = (1..=sql.matches('$').count())
                .take_while(|n| sql.contains(&format!("${n}")))
                .count();
            let args = vec!["NULL"; params].join(", ");
            let execute = if params == 0 {
                "EXECUTE p".to_owned()
            } else {
                format!("EXECUTE p({args})")
            };
            db.psql(&format!(
                "SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan; \
                 PREPARE p AS {sql}; EXPLAIN {execute}"
            ))
        }
    }
}
