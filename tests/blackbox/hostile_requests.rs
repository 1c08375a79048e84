//! Hostile requests to the GraphQL endpoint, on every engine: each is refused before it
//! runs, quickly, naming the bound, while the server keeps its memory and keeps answering
//! `/healthz`. (Timings here are generous bounds against regressions to seconds or minutes;
//! the measured figures are in `tools/bench-hostile`.)

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{RunningHub, TestDb, create_key, demo, engines, hub, spawn};

const GRJ: &str = "application/graphql-response+json";

/// POSTs `body` with `Accept: application/graphql-response+json`: status, JSON, seconds.
fn post(h: &RunningHub, body: &Value) -> (u16, Value, f64) {
    let started = Instant::now();
    let mut request = h.agent().post(&h.url("/graphql")).header("Accept", GRJ);
    if let Some(auth) = h.bearer() {
        request = request.header("Authorization", &auth);
    }
    let mut response = request.send_json(body).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, json, started.elapsed().as_secs_f64())
}

/// GETs `/graphql?query=…&variables=…`.
fn get(h: &RunningHub, query: &str, variables: &Value) -> (u16, Value) {
    let mut response = h
        .agent()
        .get(&h.url("/graphql"))
        .header("Accept", GRJ)
        .query("query", query)
        .query("variables", variables.to_string())
        .call()
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

/// The child's resident memory, in bytes.
fn rss(h: &RunningHub) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", h.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap()
        * 1024
}

fn healthy(h: &RunningHub) {
    let started = Instant::now();
    let (status, _) = h.get("/healthz");
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// A request error (no `data`) with this code, whose message names `bound`, answered
/// within a few seconds.
fn refused(h: &RunningHub, body: &Value, code: &str, bound: &str) {
    let (status, json, secs) = post(h, body);
    assert_eq!(status, 400, "{json:#}");
    assert!(json.get("data").is_none(), "{json:#}");
    let error = &json["errors"][0];
    assert_eq!(error["extensions"]["code"], code, "{json:#}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(bound), "{bound} not named in {message}");
    assert!(secs < 5.0, "{bound}: {secs:.1} s");
}

#[test]
fn oversized_arguments_are_refused_before_they_run() {
    for engine in engines() {
        let (_db, h) = demo(engine);
        let before = rss(&h);
        let words: String = (0..13_800).map(|i| format!("w{i} ")).collect();
        let search = json!({
            "query": "query($s: String) { firms(search: $s) { totalCount } }",
            "variables": { "s": words },
        });
        refused(&h, &search, "BAD_USER_INPUT", "graphql.max_text_bytes");
        let words: String = (0..25).map(|i| format!("w{i} ")).collect();
        let search = json!({
            "query": "query($s: String) { firms(search: $s) { totalCount } }",
            "variables": { "s": words },
        });
        refused(&h, &search, "BAD_USER_INPUT", "graphql.max_search_words");
        // By GET too (a cross-site link could send it).
        let (status, json) = get(
            &h,
            "query($s: String) { firms(search: $s) { totalCount } }",
            &json!({ "s": (0..1_000).map(|i| format!("w{i} ")).collect::<String>() }),
        );
        assert_eq!(status, 400, "{engine}: {json:#}");
        assert_eq!(json["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

        let or: Vec<String> = (0..15_000)
            .map(|i| format!("{{name: {{eq: \"f{i}\"}}}}"))
            .collect();
        refused(
            &h,
            &json!({ "query": format!("{{ firms(filter: {{or: [{}]}}) {{ totalCount }} }}", or.join(",")) }),
            "BAD_USER_INPUT",
            "graphql.max_list_items",
        );
        let values: Vec<String> = (0..32_766).map(|i| format!("\"v{i}\"")).collect();
        refused(
            &h,
            &json!({ "query": format!("{{ firms(filter: {{name: {{in: [{}]}}}}) {{ totalCount }} }}", values.join(",")) }),
            "BAD_USER_INPUT",
            "graphql.max_list_items",
        );
        refused(
            &h,
            &json!({
                "query": "query($c: String) { firms(filter: {name: {contains: $c}}) { totalCount } }",
                "variables": { "c": "x".repeat(50_000) },
            }),
            "BAD_USER_INPUT",
            "graphql.max_text_bytes",
        );
        // Nested `and`/`or` 40 deep (deeper ones are refused before parsing).
        let nested = format!(
            "{{ firms(filter: {}{{name: {{eq: \"x\"}}}}{}) {{ totalCount }} }}",
            "{and: [".repeat(40),
            "]}".repeat(40)
        );
        refused(
            &h,
            &json!({ "query": nested }),
            "BAD_USER_INPUT",
            "graphql.max_input_depth",
        );
        let deeper = format!(
            "{{ firms(filter: {}{{name: {{eq: \"x\"}}}}{}) {{ totalCount }} }}",
            "{or: [".repeat(30_000),
            "]}".repeat(30_000)
        );
        refused(&h, &json!({ "query": deeper }), "QUERY_TOO_DEEP", "128");
        // Many values spread over lists that are each short enough.
        let spread: Vec<String> = (0..6)
            .map(|i| {
                let inner: Vec<String> = (0..999).map(|j| format!("\"{i}-{j}\"")).collect();
                format!("{{name: {{in: [{}]}}}}", inner.join(","))
            })
            .collect();
        refused(
            &h,
            &json!({ "query": format!("{{ firms(filter: {{and: [{}]}}) {{ totalCount }} }}", spread.join(",")) }),
            "BAD_USER_INPUT",
            "graphql.max_input_values",
        );
        // Within the bounds, the same shapes answer.
        let (status, json, _) = post(
            &h,
            &json!({
                "query": "query($s: String) { firms(search: $s, filter: {or: [{district: {in: [\"KASUR\", \"lahore\"]}}, {name: {startsWith: \"al\"}}]}) { totalCount } }",
                "variables": { "s": "leather" },
            }),
        );
        assert_eq!(status, 200, "{engine}: {json:#}");
        assert!(json["data"]["firms"]["totalCount"].as_i64().is_some());
        healthy(&h);
        let grown = rss(&h).saturating_sub(before);
        assert!(
            grown < 200 << 20,
            "{engine}: RSS grew by {} MiB",
            grown >> 20
        );
    }
}

/// `fragment F0 { a0: __typename ...F1 ...F1 } … fragment F24 { … }`: 2^25 fields from
/// 1.5 KB; `field` is what the last fragment selects.
fn doubling(field: &str) -> String {
    let mut q = String::from("{ ...F0 }\n");
    for i in 0..25 {
        q.push_str(&format!(
            "fragment F{i} on Query {{ a{i}: __typename ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    q.push_str(&format!("fragment F25 on Query {{ {field} }}\n"));
    q
}

#[test]
fn documents_that_expand_are_refused_before_they_are_expanded() {
    for engine in engines() {
        let (_db, h) = demo(engine);
        let before = rss(&h);
        refused(
            &h,
            &json!({ "query": doubling("__typename") }),
            "QUERY_TOO_COMPLEX",
            "graphql.max_fields",
        );
        refused(
            &h,
            &json!({ "query": doubling("clusters { totalCount }") }),
            "QUERY_TOO_COMPLEX",
            "graphql.max_fields",
        );
        // Aliases by the thousand.
        let aliases: String = (0..10_000).map(|i| format!("a{i}: __typename ")).collect();
        refused(
            &h,
            &json!({ "query": format!("{{ {aliases}}}") }),
            "QUERY_TOO_COMPLEX",
            "graphql.max_fields",
        );

        // Introspection chains through interfaces and their possible types.
        let mut inner = String::from("name");
        for _ in 0..5 {
            inner = format!("name interfaces {{ name possibleTypes {{ {inner} }} }}");
        }
        refused(
            &h,
            &json!({ "query": format!("{{ __schema {{ types {{ {inner} }} }} }}") }),
            "QUERY_TOO_COMPLEX",
            "graphql.max_introspection_complexity",
        );
        // GraphiQL's standard introspection query still answers.
        let (status, json, _) = post(&h, &json!({ "query": INTROSPECTION }));
        assert_eq!(status, 200, "{engine}: {json:#}");
        assert!(json["data"]["__schema"]["types"].as_array().unwrap().len() > 100);

        // Two hostile requests at once leave /healthz answering.
        let url = h.url("/graphql");
        let attacks: Vec<_> = (0..2)
            .map(|_| {
                let agent = h.agent().clone();
                let url = url.clone();
                std::thread::spawn(move || {
                    agent
                        .post(&url)
                        .send_json(json!({ "query": doubling("clusters { totalCount }") }))
                        .map(|r| r.status().as_u16())
                })
            })
            .collect();
        healthy(&h);
        for a in attacks {
            assert_eq!(a.join().unwrap().unwrap(), 200);
        }
        healthy(&h);
        let grown = rss(&h).saturating_sub(before);
        assert!(
            grown < 200 << 20,
            "{engine}: RSS grew by {} MiB",
            grown >> 20
        );
    }
}

#[test]
fn lookups_by_identifier_are_batched_per_level() {
    for engine in engines() {
        let (db, h) = demo(engine);
        // Lookups by identifier are an analyst's (the public's answer `null`).
        let h = h.with_bearer(&create_key(&db, "analyst", "analyst", &[]));
        let (_, units, _) = post(
            &h,
            &json!({ "query": "{ firms(first: 100) { nodes { identifiers { scheme value } } } }" }),
        );
        let mut ntns: Vec<String> = units["data"]["firms"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["identifiers"].as_array().unwrap().clone())
            .filter(|i| i["scheme"] == "PK-NTN")
            .map(|i| i["value"].as_str().unwrap().to_owned())
            .collect();
        ntns.sort();
        ntns.dedup();
        assert!(ntns.len() > 20, "{engine}");
        // 900 aliases (the same NTNs again and again, and some nobody has).
        let aliases: String = (0..900)
            .map(|i| {
                let value = if i % 10 == 9 {
                    format!("99999{:02}-1", i % 100)
                } else {
                    ntns[i % ntns.len()].clone()
                };
                format!(
                    "a{i}: firmByIdentifier(scheme: \"PK-NTN\", value: \"{value}\") {{ name }} "
                )
            })
            .collect();
        let before = h.sql_statements();
        let (status, json, _) = post(&h, &json!({ "query": format!("{{ {aliases}}}") }));
        assert_eq!(status, 200, "{engine}: {json:#}");
        let ran = h.sql_statements() - before;
        assert!(ran <= 3, "{engine}: {ran} statements for 900 lookups");
        assert!(json["data"]["a0"]["name"].is_string(), "{json:#}");
        assert!(json["data"]["a9"].is_null(), "{json:#}");
    }
}

const INTROSPECTION: &str = r#"query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}"#;

/// The value of `/metrics`' counter `name` with the label `key="label"`.
fn counter(h: &RunningHub, name: &str, key: &str, label: &str) -> u64 {
    let (status, text) = h.get("/metrics");
    assert_eq!(status, 200);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}{{{key}=\"{label}\"}} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} {label} in {text}"))
}

/// The document counter of `/metrics`: (hits, misses).
fn document_lookups(h: &RunningHub) -> (u64, u64) {
    let value = |label| counter(h, "hub_graphql_documents_total", "cache", label);
    (value("hit"), value("miss"))
}

/// Where `/graphql` requests ran, from `/metrics`: (on the HTTP worker, on the runtime).
fn executions(h: &RunningHub) -> (u64, u64) {
    let value = |label| counter(h, "hub_graphql_executions_total", "thread", label);
    (value("http"), value("runtime"))
}

/// A document asked again, once validated, runs on the HTTP worker's own thread: a query at
/// the depth limit, resolved all the way down over the demo's clusters and firms, answers
/// there as it did on the runtime, in this debug build too (whose 2 MiB worker stacks it
/// overflowed before they were grown); so does a document with variables, whatever their
/// values.
#[test]
fn shallow_requests_run_on_the_http_worker_and_answer_as_on_the_runtime() {
    for engine in engines() {
        let (_db, running) = demo(engine);
        let h = &running;
        // 12 deep: the default `graphql.max_depth`.
        let deep = json!({"query": format!(
            "{{ clusters(first: 1) {{ nodes {{ {} firms(first: 1) {{ totalCount }} {} }} }} }}",
            "firms(first: 1) { nodes { clusters(first: 1) { nodes { ".repeat(2),
            "} } } } ".repeat(2)
        )});
        let (http, runtime) = executions(h);
        let (status, first, _) = post(h, &deep);
        assert_eq!(status, 200, "{engine}: {first:#}");
        assert!(first.get("errors").is_none(), "{engine}: {first:#}");
        let total = &first["data"]["clusters"]["nodes"][0]["firms"]["nodes"][0]["clusters"]["nodes"]
            [0]["firms"]["nodes"][0]["clusters"]["nodes"][0]["firms"]["totalCount"];
        assert!(
            total.as_i64().is_some_and(|n| n > 0),
            "{engine}: resolved to the bottom: {first:#}"
        );
        assert_eq!(
            executions(h),
            (http, runtime + 1),
            "{engine}: first seen, on the runtime"
        );
        let (status, second, _) = post(h, &deep);
        assert_eq!(status, 200, "{engine}");
        assert_eq!(second, first, "{engine}: the same answer on the worker");
        assert_eq!(executions(h), (http + 1, runtime + 1), "{engine}");

        // With variables: the depth is the document's, whatever their values.
        let document = "query($first: Int) { clusters(first: $first) { nodes { slug firms(first: $first) { nodes { name } } } } }";
        let (status, one, _) = post(h, &json!({"query": document, "variables": {"first": 1}}));
        assert_eq!(status, 200, "{engine}: {one:#}");
        let (status, two, _) = post(h, &json!({"query": document, "variables": {"first": 2}}));
        assert_eq!(status, 200, "{engine}: {two:#}");
        assert_eq!(
            two["data"]["clusters"]["nodes"].as_array().unwrap().len(),
            2
        );
        let (a, b) = (
            &one["data"]["clusters"]["nodes"][0],
            &two["data"]["clusters"]["nodes"][0],
        );
        assert_eq!(a["slug"], b["slug"], "{engine}");
        assert_eq!(a["firms"]["nodes"][0], b["firms"]["nodes"][0], "{engine}");
        assert_eq!(b["firms"]["nodes"].as_array().unwrap().len(), 2, "{engine}");
        assert_eq!(executions(h), (http + 2, runtime + 2), "{engine}");
        healthy(h);
    }
}

/// A document the endpoint keeps (parsed once, its checks remembered) is answered the same
/// and checked the same every time: a document over the cost limit is refused again, and
/// one that passed without variables is checked in full when it comes with variables.
#[test]
fn kept_documents_are_checked_the_same_every_time() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let running = spawn({
            let mut c = hub(&db);
            c.arg("serve")
                .env("HUB__GRAPHQL__MAX_COMPLEXITY", "200")
                .env("HUB__GRAPHQL__MAX_LIST_ITEMS", "50");
            c
        });
        let h = &running;
        let small = json!({"query": "{ clusters { totalCount } }"});
        let (status, first, _) = post(h, &small);
        assert_eq!(status, 200, "{engine}: {first:#}");
        let (hits, _) = document_lookups(h);
        let (status, second, _) = post(h, &small);
        assert_eq!(status, 200, "{engine}");
        assert_eq!(first, second, "{engine}: the same answer");
        assert_eq!(
            document_lookups(h).0,
            hits + 1,
            "{engine}: the second was kept"
        );

        // Over the cost limit: refused every time.
        let costly = json!({"query": "{ firms(first: 100) { nodes { name clusters { nodes { slug } } } } }"});
        for _ in 0..2 {
            refused(h, &costly, "QUERY_TOO_COMPLEX", "graphql.max_complexity");
        }

        // One document, with and without variables: checked in full with them.
        let document = "query($slugs: [String!]) { clusters(filter: { slug: { in: $slugs } }) { totalCount } }";
        for _ in 0..2 {
            let (status, body, _) = post(h, &json!({"query": document}));
            assert_eq!(status, 200, "{engine}: {body:#}");
            assert!(body.get("errors").is_none(), "{engine}: {body:#}");
        }
        let many: Vec<String> = (0..60).map(|i| format!("c-{i}")).collect();
        refused(
            h,
            &json!({"query": document, "variables": {"slugs": many}}),
            "BAD_USER_INPUT",
            "graphql.max_list_items",
        );
        healthy(h);
    }
}
