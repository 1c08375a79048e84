//! Property tests of what hostile input reaches first: the GraphQL filter builder (any
//! filter the schema accepts builds a statement the database accepts, or is refused as the
//! client's error) and the plugin wire parser (any bytes give items or an error that quotes
//! nothing of the input).
//!
//! Each runs for a time budget rather than a number of cases: `HUB_PROPTEST_SECONDS`
//! (default 3; CI runs 20 s each). Failures are kept, shrunk, in
//! `hub/proptest-regressions/` and replayed first on every later run: that folder is the
//! corpus.

use hub_importers::proptest_support;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

/// Runs `test` on values of `strategy` for the time budget, replaying this file's
/// stored failures first.
fn run_for<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    proptest_support::run_for(file!(), strategy, test);
}

// ---- The GraphQL filter builder --------------------------------------------------------

/// Text a client might send, hostile characters included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z ]{0,12}",
        Just("KASUR".to_owned()),
        Just("%_\\'\"".to_owned()),
        Just("Ünïcødé ☃".to_owned()),
        "\\PC{0,20}",
    ]
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![-5i64..3000, Just(i64::MAX), Just(i64::MIN), Just(0)]
}

/// A `StringFilter` object with some of its operators.
fn string_filter() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(proptest::collection::vec(text(), 0..4)),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(text()),
    )
        .prop_map(|(eq, ne, r#in, contains, starts, is_null, lt)| {
            let mut m = serde_json::Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    m.insert(k.to_owned(), v);
                }
            };
            put("eq", eq.map(Value::from));
            put("ne", ne.map(Value::from));
            put("in", r#in.map(Value::from));
            put("contains", contains.map(Value::from));
            put("startsWith", starts.map(Value::from));
            put("isNull", is_null.map(Value::from));
            put("lt", lt.map(Value::from));
            Value::Object(m)
        })
}

fn int_filter() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(int()),
        proptest::option::of(int()),
        proptest::option::of(proptest::collection::vec(int(), 0..4)),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(gte, lt, r#in, is_null)| {
            let mut m = serde_json::Map::new();
            if let Some(v) = gte {
                m.insert("gte".into(), json!(v));
            }
            if let Some(v) = lt {
                m.insert("lt".into(), json!(v));
            }
            if let Some(v) = r#in {
                m.insert("in".into(), json!(v));
            }
            if let Some(v) = is_null {
                m.insert("isNull".into(), json!(v));
            }
            Value::Object(m)
        })
}

/// A `FirmFilter`, nested through `and`, `or`, `not` and its relations.
fn firm_filter() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        string_filter().prop_map(|f| json!({ "name": f })),
        string_filter().prop_map(|f| json!({ "district": f })),
        string_filter().prop_map(|f| json!({ "tehsil": f })),
        string_filter().prop_map(|f| json!({ "sizeClass": f })),
        int_filter().prop_map(|f| json!({ "foundedYear": f })),
        int_filter().prop_map(|f| json!({ "employeesTotal": f })),
        string_filter().prop_map(|f| json!({ "cluster": { "slug": f } })),
        string_filter().prop_map(|f| json!({ "identifier": { "value": f } })),
        Just(json!({})),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({ "and": v })),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({ "or": v })),
            inner.clone().prop_map(|v| json!({ "not": v })),
            inner.clone().prop_map(|v| json!({ "cluster": { "or": [{ "slug": { "isNull": true } }], "not": { "name": { "eq": "x" } } }, "and": [v] })),
        ]
    })
}

#[test]
fn every_filter_the_schema_accepts_builds_a_statement_the_database_accepts() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(crate::graphql::test_support::shared_db());
    let schema = crate::graphql::test_support::schema_on(db);
    run_for(firm_filter(), |filter| {
        let request = async_graphql::Request::new(
            "query($f: FirmFilter) { firms(filter: $f, first: 3) { totalCount nodes { id } } }",
        )
        .variables(async_graphql::Variables::from_json(json!({ "f": filter })));
        let prepared = crate::graphql::prepare_request(
            request,
            db,
            crate::graphql::principal::Principal::with_role(
                crate::graphql::principal::Role::Analyst,
            ),
            &crate::config::GraphqlSettings::default(),
        );
        let response = runtime.block_on(prepared.execute(&schema));
        for e in &response.errors {
            let code = crate::graphql::errors::code_of(e).unwrap_or_default();
            // The client's own mistakes (an empty `or`) are fine; the hub's are not.
            prop_assert!(
                code == "BAD_USER_INPUT" || code == "GRAPHQL_VALIDATION_FAILED",
                "{code}: {} for {filter}",
                e.message
            );
        }
        if response.errors.is_empty() {
            let data = response.data.into_json().unwrap();
            let total = data["firms"]["totalCount"].as_i64().unwrap();
            let page = data["firms"]["nodes"].as_array().unwrap().len() as i64;
            prop_assert!(page <= total.min(3), "{page} of {total}");
        }
        Ok(())
    });
}

// ---- The plugin wire parser ------------------------------------------------------------

/// A value the wire parser must never repeat in an error.
const SECRET: &str = "35202-7777777-7";

/// An NDJSON line as a plugin might send it: an item, broken or not, with a secret in
/// some value.
fn wire_line() -> impl Strategy<Value = String> {
    let values = prop_oneof![
        Just(json!(SECRET)),
        Just(json!({ "cnic": SECRET })),
        Just(json!([1, SECRET])),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,8}".prop_map(|s| json!(s)),
    ];
    let kind = prop_oneof![
        Just("record"),
        Just("log"),
        Just("row_error"),
        Just("columns"),
        Just("nonsense")
    ];
    let record_type = prop_oneof![
        Just("organisation"),
        Just("person"),
        Just("firm_observation"),
        Just("trade_flow"),
    ];
    (kind, record_type, values.clone(), values, "[a-z_]{1,10}", 0u8..6).prop_map(
        |(kind, record_type, v1, v2, field, shape)| {
            match shape {
                0 => json!({ "kind": kind, "record": { "type": record_type, field: v1 }, "source_ref": { "file": "f", "row": 1 } }).to_string(),
                1 => json!({ "kind": kind, "level": "info", "message": v1, field: v2 }).to_string(),
                2 => json!({ "kind": "record", "record": { "type": record_type, "source_key": v1, "name": v2, "cnic": SECRET } }).to_string(),
                3 => format!("{{\"kind\": \"record\", \"record\": {{\"type\": \"person\", \"cnic\": \"{SECRET}\""),
                4 => format!("{v1}{v2}"),
                _ => json!([v1, v2]).to_string(),
            }
        },
    )
}

#[test]
fn the_wire_parser_never_panics_and_never_quotes_a_value() {
    run_for(
        (
            proptest::collection::vec(wire_line(), 1..5),
            proptest::collection::vec(any::<u8>(), 0..64),
        ),
        |(lines, noise)| {
            let text = lines.join("\n");
            match crate::plugins::wire::parse_batch(text.as_bytes(), 7) {
                Ok(_) => {}
                Err(e) => prop_assert!(!e.contains(SECRET) && !e.contains("7777777"), "{e}"),
            }
            let mut bytes = text.into_bytes();
            bytes.extend(noise);
            if let Err(e) = crate::plugins::wire::parse_batch(&bytes, 8) {
                prop_assert!(!e.contains("7777777"), "{e}");
            }
            Ok(())
        },
    );
}
