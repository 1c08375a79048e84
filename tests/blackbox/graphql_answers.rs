//! Answers an agency can rely on, over HTTP on the demo dataset, on every engine: responses
//! in the order of the query, filters that do what they say, limits that say how to fit,
//! and the root lists of indicator values and firm observations. Every count is compared
//! with one computed from the stored rows with the engine's own client.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Value, json};

use crate::support::{Engine, RunningHub, TestDb, create_key, engines, hub, spawn};

/// A hub serving the demo dataset on `engine`, with the configuration `env` on top of the
/// defaults.
fn demo(engine: Engine, env: &[(&str, &str)]) -> (TestDb, RunningHub) {
    let db = TestDb::empty(engine);
    let running = spawn({
        let mut c = hub(&db);
        c.arg("demo");
        for (k, v) in env {
            c.env(k, v);
        }
        c
    });
    // The answers checked here are an analyst's view.
    let key = create_key(&db, "analyst", "analyst", &[]);
    (db, running.with_bearer(&key))
}

/// The response to `query`.
fn gql(h: &RunningHub, query: &str) -> Value {
    let (status, body) = h.post_json("/graphql", &json!({ "query": query }));
    assert_eq!(status, 200, "{body:#}");
    body
}

/// The `data` of a response without errors.
fn ok(h: &RunningHub, query: &str) -> Value {
    let body = gql(h, query);
    assert!(body.get("errors").is_none(), "{query}\n{body:#}");
    body["data"].clone()
}

fn total(h: &RunningHub, list: &str) -> i64 {
    let d = ok(h, &format!("{{ x: {list} {{ totalCount }} }}"));
    d["x"]["totalCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{list}: {d:#}"))
}

// ---- Key order -------------------------------------------------------------------------

/// A JSON document with its object keys in the order they were written.
#[derive(Debug, Clone, PartialEq)]
enum Ordered {
    Object(Vec<(String, Ordered)>),
    Array(Vec<Ordered>),
    Scalar,
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Ordered>()? {
                    entries.push((k, v));
                }
                Ok(Ordered::Object(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element::<Ordered>()? {
                    items.push(v);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
        }
        d.deserialize_any(V)
    }
}

impl Ordered {
    /// The keys of the object at `path` (`data.a.nodes.0`), in order.
    fn keys(&self, path: &str) -> Vec<&str> {
        let mut at = self;
        for step in path.split('.').filter(|s| !s.is_empty()) {
            at = match at {
                Ordered::Object(entries) => entries
                    .iter()
                    .find(|(k, _)| k == step)
                    .map(|(_, v)| v)
                    .unwrap_or_else(|| panic!("no {step} in {path}")),
                Ordered::Array(items) => &items[step.parse::<usize>().unwrap()],
                Ordered::Scalar => panic!("{path} reaches a scalar"),
            };
        }
        match at {
            Ordered::Object(entries) => entries.iter().map(|(k, _)| k.as_str()).collect(),
            _ => panic!("{path} is not an object"),
        }
    }

    /// Every object's key list, depth first: the whole order of the document.
    fn shape(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        fn walk(o: &Ordered, out: &mut Vec<Vec<String>>) {
            match o {
                Ordered::Object(entries) => {
                    out.push(entries.iter().map(|(k, _)| k.clone()).collect());
                    for (_, v) in entries {
                        walk(v, out);
                    }
                }
                Ordered::Array(items) => items.iter().for_each(|i| walk(i, out)),
                Ordered::Scalar => {}
            }
        }
        walk(self, &mut out);
        out
    }
}

const ORDERED_QUERY: &str = r#"query Q($n: Int) {
  z: clusters(first: 2) { nodes { slug ...C } totalCount }
  e: firmByIdentifier(scheme: "PK-CNIC", value: "35202-1234567-1") { name }
  a: firms(first: $n, orderBy: [{field: NAME}]) { totalCount pageInfo { hasNextPage endCursor } nodes { ...F name } }
  m: indicators(first: 3) { nodes { values(first: 2) { totalCount nodes { period valueType } } code } }
  b: clusters(first: 1) { totalCount nodes { name slug } }
}
fragment C on Cluster { name firms(first: 3) { nodes { name id } totalCount } }
fragment F on Firm { id district }"#;

/// The `/metrics` counter of requests by how they were checked: `kept` (no check ran, on
/// the schema without the document checks, the response put in order by the endpoint),
/// `values` (only the checks that read variable values) or `run`.
fn checks(h: &RunningHub, how: &str) -> u64 {
    let (status, text) = h.get("/metrics");
    assert_eq!(status, 200);
    let prefix = format!("hub_graphql_checks_total{{checks=\"{how}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {how} checks in {text}"))
}

/// Every time, with variables and without: after the first of each, the checks are kept
/// (or only those that read the variables run) and the response is put in order by the
/// endpoint, not the schema's extension.
#[test]
fn responses_follow_the_order_of_the_query_every_time() {
    for engine in engines() {
        let (_db, h) = demo(engine, &[]);
        let with_variables = json!({ "query": ORDERED_QUERY, "variables": { "n": 5 } });
        let without = json!({ "query": ORDERED_QUERY });
        let (kept_before, values_before) = (checks(&h, "kept"), checks(&h, "values"));
        let mut shapes = Vec::new();
        let mut codes = Vec::new();
        for i in 0..20 {
            let body = if i % 2 == 0 {
                &with_variables
            } else {
                &without
            };
            let (status, text) = h.post_text("/graphql", body);
            assert_eq!(status, 200, "{engine}: {text}");
            let doc: Ordered = serde_json::from_str(&text).unwrap();
            // The field error (a CNIC names an owner, not a firm) leaves `e` null in its
            // place; `data` comes before `errors`.
            assert_eq!(doc.keys(""), ["data", "errors"], "{engine}: {text}");
            assert_eq!(doc.keys("data"), ["z", "e", "a", "m", "b"], "{engine}");
            assert_eq!(doc.keys("data.z"), ["nodes", "totalCount"], "{engine}");
            assert_eq!(doc.keys("data.z.nodes.1"), ["slug", "name", "firms"]);
            assert_eq!(doc.keys("data.z.nodes.0.firms"), ["nodes", "totalCount"]);
            assert_eq!(doc.keys("data.z.nodes.1.firms.nodes.2"), ["name", "id"]);
            assert_eq!(doc.keys("data.a"), ["totalCount", "pageInfo", "nodes"]);
            assert_eq!(doc.keys("data.a.pageInfo"), ["hasNextPage", "endCursor"]);
            assert_eq!(doc.keys("data.a.nodes.4"), ["id", "district", "name"]);
            assert_eq!(doc.keys("data.m.nodes.0"), ["values", "code"]);
            assert_eq!(doc.keys("data.m.nodes.2.values"), ["totalCount", "nodes"]);
            assert_eq!(
                doc.keys("data.m.nodes.0.values.nodes.1"),
                ["period", "valueType"]
            );
            assert_eq!(doc.keys("data.b"), ["totalCount", "nodes"]);
            assert_eq!(doc.keys("data.b.nodes.0"), ["name", "slug"]);
            assert_eq!(
                doc.keys("errors.0"),
                ["message", "locations", "path", "extensions"]
            );
            shapes.push(doc.shape());
            let json: Value = serde_json::from_str(&text).unwrap();
            codes.push(json["errors"][0]["extensions"]["code"].clone());
        }
        // Each of the two requests gets one shape every time (their pages differ in size).
        assert!(shapes.windows(3).all(|w| w[0] == w[2]), "{engine}");
        assert!(
            codes.iter().all(|c| *c == codes[0] && c.is_string()),
            "{engine}: {codes:?}"
        );
        // The nine requests without variables after the first ran with their checks kept,
        // the nine with variables after the first with only their values checked.
        assert_eq!(checks(&h, "kept") - kept_before, 9, "{engine}");
        assert_eq!(checks(&h, "values") - values_before, 9, "{engine}");
    }
}

/// A document with variables asked again, after its first request passed every check:
/// the values are checked every time (their types, the hub's bounds and cost), and each
/// request gets the very response, answer or error, of the same request on a document
/// never seen before, which runs every check.
#[test]
fn documents_with_variables_are_checked_for_their_values_every_time() {
    const QUERY: &str = r#"query F($f: Int, $c: Int, $from: String = "") { firms(first: $f, orderBy: [{field: NAME}], filter: {name: {gte: $from}}) { totalCount nodes { name clusters(first: $c) { nodes { slug } } } } }"#;
    for engine in engines() {
        let (_db, h) = demo(engine, &[]);
        let ask = |query: &str, variables: &Value| {
            h.post_text(
                "/graphql",
                &json!({ "query": query, "variables": variables }),
            )
        };
        // The first request gives every variable: async-graphql checks an argument that
        // holds a variable only when the request gives it.
        let (status, first) = ask(QUERY, &json!({ "f": 3, "c": 1, "from": "" }));
        assert_eq!(status, 200, "{engine}: {first}");
        let (values_before, run_before) = (checks(&h, "values"), checks(&h, "run"));
        let cases = [
            (json!({ "f": 1, "c": 1 }), None),
            (json!({ "f": 7, "c": 2, "from": "M" }), None),
            (json!({ "f": 2 }), None),
            (json!({ "f": "seven" }), Some("GRAPHQL_VALIDATION_FAILED")),
            (
                json!({ "f": 1, "c": 2.5 }),
                Some("GRAPHQL_VALIDATION_FAILED"),
            ),
            (
                json!({ "f": 1, "from": "x".repeat(5_000) }),
                Some("BAD_USER_INPUT"),
            ),
            (json!({ "f": 100_000 }), Some("QUERY_TOO_COMPLEX")),
            (json!({ "f": 100, "c": 100 }), Some("QUERY_TOO_COMPLEX")),
        ];
        for (i, (variables, code)) in cases.iter().enumerate() {
            let again = ask(QUERY, variables);
            // A comment makes the document one the hub has not seen.
            let new = ask(&format!("{QUERY}\n# {i}"), variables);
            assert_eq!(again, new, "{engine}: {variables}");
            let body: Value = serde_json::from_str(&again.1).unwrap();
            match code {
                None => {
                    assert!(body.get("errors").is_none(), "{engine}: {body:#}");
                    let asked = variables["f"].as_u64().unwrap() as usize;
                    let nodes = body["data"]["firms"]["nodes"].as_array().unwrap();
                    let total = body["data"]["firms"]["totalCount"].as_u64().unwrap() as usize;
                    assert_eq!(nodes.len(), asked.min(total), "{engine}: {body:#}");
                }
                Some(code) => {
                    assert_eq!(
                        body["errors"][0]["extensions"]["code"], *code,
                        "{engine}: {body:#}"
                    );
                    assert!(body["data"].is_null(), "{engine}: nothing ran: {body:#}");
                }
            }
        }
        // The three answers ran with only their values checked. The text over its bound was
        // refused before any schema saw it; the two values of the wrong type and the two
        // costs over the limit ran every check (whose errors come in the order of a first
        // request), as did the seven requests on new documents that reached a schema.
        assert_eq!(checks(&h, "values") - values_before, 3, "{engine}");
        assert_eq!(checks(&h, "run") - run_before, 4 + 7, "{engine}");

        // Passes that prove less. A literal of the wrong type beside an optional variable
        // is not checked while the variable is left out (async-graphql skips the whole
        // argument), so the first pass leaves it unchecked; and in a document of two
        // operations, async-graphql checks a fragment against the request's variables
        // whichever operation is selected. Either way the request runs every check.
        let hidden = r#"query H($s: String) { firms(first: 2, filter: {name: {gte: $s}, employeesTotal: {gte: "many"}}) { totalCount } }"#;
        let two = "query A { clusters(first: 1) { totalCount } } query B($n: Int) { ...F } fragment F on QueryRoot { firms(first: $n) { totalCount } }";
        // And a variable in an object written where a list is expected, whose declared
        // type async-graphql does not compare with its place (a nullable enum where a
        // non-null one is expected).
        let loose =
            "query L($f: FirmOrderField) { firms(first: 2, orderBy: {field: $f}) { totalCount } }";
        for (query, operation, first, variables) in [
            (hidden, None, json!({}), json!({ "s": "M" })),
            (two, Some("A"), json!({}), json!({ "n": "x" })),
            (loose, None, json!({ "f": "NAME" }), json!({ "f": null })),
        ] {
            let ask = |query: &str, variables: &Value| {
                let mut body = json!({ "query": query, "variables": variables });
                if let Some(name) = operation {
                    body["operationName"] = json!(name);
                }
                h.post_text("/graphql", &body)
            };
            // The first request passes the checks (the literal fails as it executes).
            let (status, text) = ask(query, &first);
            assert_eq!(status, 200, "{engine}: {text}");
            assert!(
                text.starts_with(r#"{"data":{"#) || text.contains(r#""path":["firms"]"#),
                "{engine}: {text}"
            );
            let values_before = checks(&h, "values");
            let again = ask(query, &variables);
            let new = ask(&format!("{query}\n# new"), &variables);
            assert_eq!(again, new, "{engine}: {query} {variables}");
            let body: Value = serde_json::from_str(&again.1).unwrap();
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
                "{engine}: {body:#}"
            );
            assert_eq!(checks(&h, "values"), values_before, "{engine}: {query}");
        }
    }
}

// ---- Filters ---------------------------------------------------------------------------

#[test]
fn filters_do_what_they_say() {
    for engine in engines() {
        let (db, h) = demo(engine, &[]);
        let firms_in = |districts: &str| {
            db.count(&format!(
                "SELECT count(*) FROM organisations o JOIN admin_areas a ON a.id = o.district_id \
                 WHERE o.kind = 'firm' AND o.merged_into_id IS NULL AND a.name IN ({districts})"
            ))
        };
        let kasur = firms_in("'Kasur'");
        assert!(kasur > 0, "{engine}: the demo has firms in Kasur");
        // Admin-area names compare without regard to case, and in any known spelling.
        for spelling in ["KASUR", "kasur", "Kasur"] {
            let q = format!(r#"firms(filter: {{district: {{eq: "{spelling}"}}}})"#);
            assert_eq!(total(&h, &q), kasur, "{engine}: {spelling}");
        }
        let sheikhupura = firms_in("'Sheikhupura'");
        assert!(sheikhupura > 0, "{engine}");
        assert_eq!(
            total(&h, r#"firms(filter: {district: {eq: "Shekhupura"}})"#),
            sheikhupura,
            "{engine}: a synonym"
        );
        assert_eq!(
            total(
                &h,
                r#"firms(filter: {district: {in: ["kasur", "SHEKHUPURA"]}})"#
            ),
            firms_in("'Kasur', 'Sheikhupura'"),
            "{engine}"
        );
        let located = db.count(
            "SELECT count(*) FROM organisations WHERE kind = 'firm' AND merged_into_id IS NULL \
             AND district_id IS NOT NULL",
        );
        assert_eq!(
            total(&h, r#"firms(filter: {district: {ne: "KASUR"}})"#),
            located - kasur,
            "{engine}"
        );
        assert_eq!(
            total(
                &h,
                r#"firms(filter: {district: {notIn: ["KASUR", "shekhupura"]}})"#
            ),
            located - kasur - sheikhupura,
            "{engine}"
        );
        // The other operators still compare the name.
        assert_eq!(
            total(&h, r#"firms(filter: {district: {startsWith: "KAS"}})"#),
            kasur,
            "{engine}"
        );
        // Training venues and organisations alike.
        let lahore_events = db.count(
            "SELECT count(*) FROM training_events e JOIN admin_areas a \
             ON a.id = e.venue_district_id WHERE a.name = 'Lahore'",
        );
        assert!(lahore_events > 0);
        assert_eq!(
            total(
                &h,
                r#"trainingEvents(filter: {venueDistrict: {eq: "LAHORE"}})"#
            ),
            lahore_events,
            "{engine}"
        );
        assert_eq!(
            total(
                &h,
                r#"organisations(filter: {district: {in: ["KASUR"]}, kind: {eq: FIRM}})"#
            ),
            kasur,
            "{engine}"
        );

        // `isNull` through a relation matches the rows without it.
        let team = db.count(
            "SELECT count(*) FROM participations p JOIN training_events e \
             ON e.id = p.training_event_id WHERE e.cluster_id IS NULL",
        );
        assert!(team > 0, "{engine}: the demo trains the cluster team");
        assert_eq!(
            total(
                &h,
                r#"participations(filter: {event: {cluster: {slug: {isNull: true}}}})"#
            ),
            team,
            "{engine}"
        );
        assert_eq!(
            total(
                &h,
                r#"participations(filter: {not: {event: {cluster: {slug: {isNull: false}}}}})"#
            ),
            team,
            "{engine}"
        );
        let clustered = db.count("SELECT count(*) FROM participations") - team;
        assert_eq!(
            total(
                &h,
                r#"participations(filter: {event: {cluster: {slug: {isNull: false}}}})"#
            ),
            clustered,
            "{engine}"
        );
        // Firms in no cluster: the registry's units of other trades.
        let clusterless = db.count(
            "SELECT count(*) FROM organisations o WHERE o.kind = 'firm' AND \
             o.merged_into_id IS NULL AND NOT EXISTS (SELECT 1 FROM cluster_memberships m \
             WHERE m.organisation_id = o.id)",
        );
        assert!(clusterless > 0, "{engine}");
        assert_eq!(
            total(&h, r#"firms(filter: {cluster: {slug: {isNull: true}}})"#),
            clusterless,
            "{engine}"
        );

        // Training events by year.
        for year in [2022, 2023, 2024] {
            let expected = db.count(&format!(
                "SELECT count(*) FROM training_events WHERE start_date >= '{year}-01-01' \
                 AND start_date < '{}-01-01'",
                year + 1
            ));
            assert!(expected > 0);
            assert_eq!(
                total(
                    &h,
                    &format!("trainingEvents(filter: {{year: {{eq: {year}}}}})")
                ),
                expected,
                "{engine}: {year}"
            );
        }

        // Trade flows: a heading's prefix finds the heading and its subheadings; the
        // aggregate level keeps one of them.
        let heading = db.count("SELECT count(*) FROM trade_flows WHERE hs4 = '9018'");
        let at_level_4 =
            db.count("SELECT count(*) FROM trade_flows WHERE hs4 = '9018' AND aggregate_level = 4");
        assert!(heading > at_level_4 && at_level_4 > 0, "{engine}");
        assert_eq!(
            total(&h, r#"tradeFlows(filter: {hsCode: {startsWith: "9018"}})"#),
            heading,
            "{engine}"
        );
        assert_eq!(
            total(
                &h,
                r#"tradeFlows(filter: {hsCode: {startsWith: "9018"}, aggregateLevel: {eq: 4}})"#
            ),
            at_level_4,
            "{engine}"
        );
    }
}

// ---- Limits and root lists -------------------------------------------------------------

#[test]
fn limits_say_what_fits_and_reports_need_no_nested_pages() {
    for engine in engines() {
        let (db, h) = demo(engine, &[]);
        let query = "{ firms(first: 100) { nodes { clusters { nodes { slug } } } } }";
        let body = gql(&h, query);
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "QUERY_TOO_COMPLEX", "{body:#}");
        // The cost model: 1 per field, a list 1 + page size × an item, the default page
        // size (25) where no `first` is given.
        let cost = 1 + 100 * (1 + (1 + 25 * (1 + 1)));
        assert_eq!(error["extensions"]["cost"], cost, "{body:#}");
        assert_eq!(error["extensions"]["limit"], 5000, "{body:#}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("5,201") && message.contains("5,000"),
            "{message}"
        );
        // Each suggested page size fits.
        let suggestions = error["extensions"]["suggestions"].as_array().unwrap();
        assert!(suggestions.len() >= 2, "{body:#}");
        let clusters = suggestions
            .iter()
            .find(|s| s["field"] == "firms.nodes.clusters")
            .unwrap_or_else(|| panic!("{body:#}"));
        let n = clusters["first"].as_i64().unwrap();
        // 100 firms × (n clusters × 2) within 5,000 - 201 (the rest of the query).
        assert_eq!(n, (5000 - 201) / 200, "{body:#}");
        ok(
            &h,
            &format!(
                "{{ firms(first: 100) {{ nodes {{ clusters(first: {n}) {{ nodes {{ slug }} }} }} }} }}"
            ),
        );
        let over = gql(
            &h,
            &format!(
                "{{ firms(first: 100) {{ nodes {{ clusters(first: {}) {{ nodes {{ slug }} }} }} }} }}",
                n + 1
            ),
        );
        assert_eq!(over["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX");

        // Root lists of indicator values and firm observations, with the filters their
        // nested forms have.
        assert_eq!(
            total(&h, "indicatorValues"),
            db.count("SELECT count(*) FROM indicator_values"),
            "{engine}"
        );
        assert_eq!(
            total(
                &h,
                r#"indicatorValues(filter: {cluster: {slug: {eq: "sialkot-surgical"}}, valueType: {eq: ACTUAL}})"#
            ),
            db.count(
                "SELECT count(*) FROM indicator_values v JOIN clusters c ON c.id = v.cluster_id \
                 WHERE c.slug = 'sialkot-surgical' AND v.value_type = 'actual'"
            ),
            "{engine}"
        );
        assert_eq!(
            total(&h, "firmObservations(filter: {year: {eq: 2023}})"),
            db.count(
                "SELECT count(*) FROM firm_observations WHERE period_start >= '2023-01-01' \
                 AND period_start < '2024-01-01'"
            ),
            "{engine}"
        );
        assert_eq!(
            total(
                &h,
                r#"firmObservations(filter: {firm: {district: {eq: "KASUR"}}})"#
            ),
            db.count(
                "SELECT count(*) FROM firm_observations f JOIN organisations o \
                 ON o.id = f.organisation_id JOIN admin_areas a ON a.id = o.district_id \
                 WHERE a.name = 'Kasur'"
            ),
            "{engine}"
        );
        // A page of a results framework in one request: values with their indicator.
        let d = ok(
            &h,
            "{ indicatorValues(first: 100) { totalCount nodes { value period indicator { code } } } }",
        );
        let got = d["indicatorValues"]["nodes"].as_array().unwrap();
        let all = d["indicatorValues"]["totalCount"].as_i64().unwrap();
        assert_eq!(got.len() as i64, all.min(100), "{engine}");
        assert!(got.iter().all(|v| v["indicator"]["code"].is_string()));
    }
    // The default page size is the configured one, in the cost as in the answer.
    let engine = engines()[0];
    let (_db, h) = demo(engine, &[("HUB__GRAPHQL__DEFAULT_PAGE_SIZE", "5")]);
    let d = ok(
        &h,
        "{ firms(first: 100) { nodes { clusters { nodes { slug } } } } }",
    );
    assert_eq!(d["firms"]["nodes"].as_array().unwrap().len(), 100);
    let d = ok(&h, "{ firms { nodes { id } } }");
    assert_eq!(d["firms"]["nodes"].as_array().unwrap().len(), 5);
}
