//! In-process checks of trade flows and indicators over the demo dataset on SQLite.

use async_graphql::{Context, Object, Result};
use serde_json::{Value, json};

use super::principal::Principal;
use super::test_support::{data, execute, helper_schema, nodes, public, run, run_as, shared_db};
use super::types::indicator::{
    IndicatorValueConnection, IndicatorValueFilter, IndicatorValueOrder, cluster_indicator_values,
};

/// The demo file's rows whose `cmdCode` starts with `prefix`, counted from the CSV itself.
fn demo_rows_starting_with(prefix: &str) -> i64 {
    let csv = include_str!("../../demo/comtrade_pak_exports_2017_2024.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cmd = header.iter().position(|h| *h == "cmdCode").unwrap();
    lines
        .filter(|l| l.split(',').nth(cmd).is_some_and(|c| c.starts_with(prefix)))
        .count() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trade_flows_whose_hs_code_starts_with_9018() {
    let v = run(r#"{ tradeFlows(first: 100, filter: { hsCode: { startsWith: "9018" } }) { totalCount nodes { commodityCode hs2 hs4 classification aggregateLevel } pageInfo { hasNextPage } } }"#).await;
    let f = &data(&v)["tradeFlows"];
    let total = f["totalCount"].as_i64().unwrap();
    assert!(total > 100, "{f:#}");
    assert_eq!(f["pageInfo"]["hasNextPage"], true);
    for n in nodes(f) {
        let code = n["commodityCode"].as_str().unwrap();
        assert!(code.starts_with("9018"), "{n:#}");
        assert_eq!(n["hs4"], "9018");
        assert_eq!(n["hs2"], "90");
        assert!(n["classification"].as_str().unwrap().starts_with("HS"));
        assert_eq!(n["aggregateLevel"], code.len());
    }
    // The same flows by a text match over the code column, and straight from the file.
    let v =
        run(r#"{ tradeFlows(filter: { commodityCode: { startsWith: "9018" } }) { totalCount } }"#)
            .await;
    assert_eq!(data(&v)["tradeFlows"]["totalCount"], total);
    assert_eq!(total, demo_rows_starting_with("9018"));

    // Odd lengths fall back to a prefix match (and keep the chapter equality).
    let v = run(r#"{ a: tradeFlows(filter: { hsCode: { startsWith: "901" } }) { totalCount }
                   b: tradeFlows(filter: { commodityCode: { startsWith: "901" } }) { totalCount }
                   c: tradeFlows(first: 100, filter: { hsCode: { startsWith: "9018.90" } }) { totalCount nodes { commodityCode hs6 } }
                   d: tradeFlows(filter: { hsCode: { eq: "9018" } }) { totalCount nodes { commodityCode aggregateLevel } }
                   e: tradeFlows(filter: { hsCode: { startsWith: "61" } }) { totalCount } }"#)
        .await;
    let d = data(&v);
    assert_eq!(d["a"]["totalCount"], d["b"]["totalCount"]);
    assert_eq!(
        d["a"]["totalCount"].as_i64().unwrap(),
        demo_rows_starting_with("901")
    );
    assert_eq!(
        d["c"]["totalCount"].as_i64().unwrap(),
        demo_rows_starting_with("901890")
    );
    assert!(d["c"]["totalCount"].as_i64().unwrap() > 0);
    for n in nodes(&d["c"]) {
        assert_eq!(n["hs6"], "901890");
    }
    assert!(d["d"]["totalCount"].as_i64().unwrap() > 0);
    for n in nodes(&d["d"]) {
        assert_eq!(n["commodityCode"], "9018");
        assert_eq!(n["aggregateLevel"], 4);
    }
    assert_eq!(
        d["e"]["totalCount"].as_i64().unwrap(),
        demo_rows_starting_with("61")
    );

    let v =
        run(r#"{ tradeFlows(filter: { hsCode: { startsWith: "90%" } }) { totalCount } }"#).await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{v:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_countries_flows_and_periods() {
    let v = run(r#"{ tradeFlows(first: 100, filter: { partner: { eq: "USA" }, hsCode: { startsWith: "9018" }, year: { gte: 2019, lt: 2021 } }, orderBy: [{ field: PERIOD_START }]) { totalCount nodes { id source reporter reporterName partner partnerName flow periodKind periodStart periodEnd period valueUsd originalValue originalCurrency isValueEstimated } } }"#).await;
    let f = &data(&v)["tradeFlows"];
    assert!(f["totalCount"].as_i64().unwrap() > 0, "{f:#}");
    let mut years = std::collections::BTreeSet::new();
    for n in nodes(f) {
        assert_eq!(n["partner"], "USA");
        assert_eq!(n["reporter"], "PAK");
        assert!(!n["reporterName"].as_str().unwrap().is_empty());
        assert_eq!(n["source"], "un-comtrade");
        assert_eq!(n["flow"], "EXPORT");
        assert_eq!(n["periodKind"], "YEAR");
        let period = n["period"].as_str().unwrap().to_owned();
        assert_eq!(n["periodStart"], format!("{period}-01-01"));
        assert_eq!(n["periodEnd"], format!("{period}-12-31"));
        assert!(n["valueUsd"].is_f64(), "{n:#}");
        years.insert(period);
    }
    assert_eq!(
        years.into_iter().collect::<Vec<_>>(),
        vec!["2019".to_owned(), "2020".to_owned()]
    );

    // The world is a partner too, named.
    let v = run(r#"{ tradeFlows(first: 1, filter: { partner: { eq: "W00" }, flow: { in: [EXPORT, RE_EXPORT] }, commodityCode: { eq: "TOTAL" } }) { totalCount nodes { partnerName commodityCode hs2 aggregateLevel } } }"#).await;
    let f = &data(&v)["tradeFlows"];
    assert!(f["totalCount"].as_i64().unwrap() > 0, "{f:#}");
    assert_eq!(f["nodes"][0]["partnerName"], "World");
    assert_eq!(f["nodes"][0]["hs2"], Value::Null);
    // `hsCode` matches HS codes only: TOTAL is none.
    let v = run(r#"{ tradeFlows(filter: { commodityCode: { eq: "TOTAL" }, hsCode: { startsWith: "0" } }) { totalCount } }"#).await;
    assert_eq!(data(&v)["tradeFlows"]["totalCount"], 0);

    // Imports do not exist in the demo (exports only); `not` turns the filter around.
    let v = run(
        r#"{ a: tradeFlows(filter: { flow: { eq: IMPORT } }) { totalCount }
                   b: tradeFlows(filter: { not: { flow: { eq: IMPORT } } }) { totalCount }
                   c: tradeFlows { totalCount } }"#,
    )
    .await;
    let d = data(&v);
    assert_eq!(d["a"]["totalCount"], 0);
    assert_eq!(d["b"]["totalCount"], d["c"]["totalCount"]);

    // Global ids round-trip through `node`.
    let id = data(&run(r#"{ tradeFlows(first: 1, filter: { hsCode: { startsWith: "9018" } }) { nodes { id commodityCode } } }"#).await)["tradeFlows"]["nodes"][0].clone();
    let v = run(&format!(
        r#"{{ node(id: "{}") {{ ... on TradeFlow {{ commodityCode }} }} }}"#,
        id["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(data(&v)["node"]["commodityCode"], id["commodityCode"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn value_pages_cover_each_flow_once() {
    let filter = r#"filter: { hsCode: { startsWith: "9018" } }, orderBy: [{ field: VALUE_USD, direction: DESC }]"#;
    let all = run(&format!(
        "{{ tradeFlows(first: 100, {filter}) {{ totalCount nodes {{ id valueUsd }} }} }}"
    ))
    .await;
    let total = data(&all)["tradeFlows"]["totalCount"].as_i64().unwrap();
    let mut seen: Vec<(String, Option<f64>)> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = format!(
            "{{ tradeFlows(first: 45, {filter}{}) {{ nodes {{ id valueUsd }} pageInfo {{ hasNextPage endCursor }} }} }}",
            after
                .as_ref()
                .map(|c| format!(", after: \"{c}\""))
                .unwrap_or_default()
        );
        let v = run(&q).await;
        let f = &data(&v)["tradeFlows"];
        seen.extend(
            nodes(f)
                .iter()
                .map(|n| (n["id"].as_str().unwrap().to_owned(), n["valueUsd"].as_f64())),
        );
        if f["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = Some(f["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len() as i64, total);
    let unique: std::collections::HashSet<_> = seen.iter().map(|(id, _)| id).collect();
    assert_eq!(unique.len(), seen.len());
    // Descending by value, NULLs last.
    for w in seen.windows(2) {
        match (w[0].1, w[1].1) {
            (Some(a), Some(b)) => assert!(a >= b, "{a} before {b}"),
            (None, Some(_)) => panic!("a NULL value before a value"),
            _ => {}
        }
    }
    let first100: Vec<&str> = nodes(&data(&all)["tradeFlows"])
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    let paged: Vec<&str> = seen.iter().take(100).map(|(id, _)| id.as_str()).collect();
    assert_eq!(paged, first100);

    // Backward pages meet the forward ones.
    let v = run(&format!(
        "{{ tradeFlows(last: 10, {filter}) {{ nodes {{ id }} pageInfo {{ hasPreviousPage }} }} }}"
    ))
    .await;
    let f = &data(&v)["tradeFlows"];
    let tail: Vec<&str> = nodes(f).iter().map(|n| n["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = seen[seen.len() - 10..]
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(tail, expected);
    assert_eq!(f["pageInfo"]["hasPreviousPage"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicators_with_values_for_a_cluster() {
    let v = run(r#"{ indicators(first: 10) { totalCount nodes { id code name unit breakdowns isDisbursementLinked programme
          values(first: 20, filter: { cluster: { slug: { eq: "sialkot-surgical" } } }) {
            totalCount nodes { id scope period periodKind periodStart valueType value breakdown breakdownValue source
              cluster { slug } indicator { code } firm { name } } } } } }"#)
        .await;
    let list = &data(&v)["indicators"];
    assert!(list["totalCount"].as_i64().unwrap() > 0, "{list:#}");
    let mut with_values = 0;
    for ind in nodes(list) {
        let code = ind["code"].as_str().unwrap();
        assert_eq!(
            ind["isDisbursementLinked"],
            code.starts_with("DLI"),
            "{ind:#}"
        );
        let vals = &ind["values"];
        let count = vals["totalCount"].as_i64().unwrap();
        assert_eq!(nodes(vals).len() as i64, count.min(20), "{ind:#}");
        if count > 0 {
            with_values += 1;
        }
        for n in nodes(vals) {
            assert_eq!(n["cluster"]["slug"], "sialkot-surgical");
            assert_eq!(n["indicator"]["code"], code);
            assert_eq!(n["scope"], "cluster");
            assert_eq!(n["firm"], Value::Null);
            assert!(n["value"].is_f64(), "{n:#}");
            assert!(["BASELINE", "TARGET", "ACTUAL"].contains(&n["valueType"].as_str().unwrap()));
            assert_eq!(
                n["periodStart"],
                format!("{}-01-01", n["period"].as_str().unwrap())
            );
        }
    }
    assert!(with_values > 0, "{list:#}");

    // Filters through the indicator relation and on the year; a value is a node.
    let v = run(r#"{ indicators(first: 20) { nodes { code values(first: 20, filter: { valueType: { eq: TARGET }, year: { eq: 2025 }, indicator: { isDisbursementLinked: { eq: true } } }) { nodes { id period valueType indicator { isDisbursementLinked } } } } } }"#).await;
    let mut some = None;
    for ind in nodes(&data(&v)["indicators"]) {
        for n in nodes(&ind["values"]) {
            assert_eq!(n["period"], "2025");
            assert_eq!(n["valueType"], "TARGET");
            assert_eq!(n["indicator"]["isDisbursementLinked"], true);
            some = Some(n["id"].as_str().unwrap().to_owned());
        }
    }
    if let Some(id) = some {
        let v = run(&format!(
            r#"{{ node(id: "{id}") {{ ... on IndicatorValue {{ valueType }} }} }}"#
        ))
        .await;
        assert_eq!(data(&v)["node"]["valueType"], "TARGET");
    }
}

/// A stand-in for the `Cluster.indicatorValues` field, which the cluster type wires.
struct ClusterValuesQuery;

#[Object]
impl ClusterValuesQuery {
    async fn cluster_values(
        &self,
        ctx: &Context<'_>,
        cluster_id: i64,
        first: Option<i32>,
        filter: Option<IndicatorValueFilter>,
        order_by: Option<Vec<IndicatorValueOrder>>,
    ) -> Result<IndicatorValueConnection> {
        cluster_indicator_values(ctx, cluster_id, first, None, filter, order_by).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_indicator_values_are_batched_per_cluster() {
    let db = shared_db().await;
    // The row ids of the clusters, through their global ids.
    let v = run("{ clusters { nodes { id slug } } }").await;
    let clusters: Vec<(i64, String)> = nodes(&data(&v)["clusters"])
        .iter()
        .map(|n| {
            let id = async_graphql::ID(n["id"].as_str().unwrap().to_owned());
            (
                super::ids::decode_as(&id, "Cluster").unwrap(),
                n["slug"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let schema = helper_schema(ClusterValuesQuery, db);
    let fields: Vec<String> = clusters
        .iter()
        .map(|(id, _)| {
            format!(
                "c{id}: clusterValues(clusterId: {id}, first: 3, orderBy: [{{ field: PERIOD_START, direction: DESC }}]) {{ totalCount nodes {{ period cluster {{ slug }} }} pageInfo {{ hasNextPage }} }}"
            )
        })
        .collect();
    let v = execute(
        &schema,
        db,
        format!("{{ {} }}", fields.join(" ")),
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await;
    let d = data(&v);
    let mut any = false;
    for (id, slug) in &clusters {
        let c = &d[format!("c{id}")];
        let total = c["totalCount"].as_i64().unwrap();
        let page = nodes(c);
        assert_eq!(page.len() as i64, total.min(3), "{c:#}");
        assert_eq!(c["pageInfo"]["hasNextPage"], total > 3);
        let periods: Vec<&str> = page.iter().map(|n| n["period"].as_str().unwrap()).collect();
        let mut sorted = periods.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(periods, sorted);
        for n in page {
            assert_eq!(&n["cluster"]["slug"], slug.as_str());
        }
        any |= total > 0;
    }
    assert!(any, "{d:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firm_level_values_need_firm_figures() {
    let public = public();
    // Whatever the demo holds, a public caller never sees a firm or a firm-level value.
    let v = run_as(
        r#"{ indicators(first: 20) { nodes { values(first: 20, filter: { scope: { eq: "firm" } }) { nodes { value note firm { name } } } } } }"#,
        public,
    )
    .await;
    for ind in nodes(&data(&v)["indicators"]) {
        for n in nodes(&ind["values"]) {
            assert_eq!(n["value"], Value::Null);
            assert_eq!(n["firm"], Value::Null);
        }
    }
}

/// A list reads only the columns its selected fields need (`graphql::columns`): fields
/// asked through a named fragment, an inline fragment or `edges { node }` are read, and
/// give what the same flows give when every field is asked, and what `node(id)` (which
/// reads every column) gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trade_flows_read_the_columns_their_fragments_select() {
    let fields = "id source reporter reporterName partner partnerName flow classification \
                  commodityCode hs2 hs4 hs6 aggregateLevel breakdownKey periodKind \
                  periodStart periodEnd period valueUsd originalValue originalCurrency \
                  originalUnitMultiplier netWeightKg quantity quantityUnit isValueEstimated \
                  isQuantityEstimated isNetWeightEstimated flags changeSeq";
    let order = r#"orderBy: [{field: VALUE_USD, direction: DESC}]"#;
    let v = run(&format!(
        r#"{{ whole: tradeFlows(first: 5, {order}) {{ nodes {{ {fields} }} }}
             parts: tradeFlows(first: 5, {order}) {{ edges {{ node {{ id ...F ... on TradeFlow {{ valueUsd period }} }} }} }}
             few: tradeFlows(first: 5, {order}) {{ nodes {{ valueUsd }} }} }}
           fragment F on TradeFlow {{ partner reporterName commodityCode flow }}"#
    ))
    .await;
    let d = data(&v);
    let whole = nodes(&d["whole"]);
    assert_eq!(whole.len(), 5);
    for (i, w) in whole.iter().enumerate() {
        let part = &d["parts"]["edges"][i]["node"];
        for key in [
            "id",
            "partner",
            "reporterName",
            "commodityCode",
            "flow",
            "valueUsd",
            "period",
        ] {
            assert_eq!(part[key], w[key], "{key}: {part:#} against {w:#}");
            assert!(!w[key].is_null() && w[key] != "", "{key} read: {w:#}");
        }
        assert_eq!(d["few"]["nodes"][i]["valueUsd"], w["valueUsd"]);
        let id = w["id"].as_str().unwrap();
        let node = run(&format!(
            r#"{{ node(id: "{id}") {{ ... on TradeFlow {{ {fields} }} }} }}"#
        ))
        .await;
        assert_eq!(&data(&node)["node"], w, "node(id) reads every column");
    }
}
