//! In-process checks of the schema over the demo dataset on SQLite. The black-box tests in
//! `tests/blackbox/graphql_*.rs` cover the same ground through HTTP on both engines.

use serde_json::json;

use super::test_support::{data, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_with_their_firms() {
    let v = run("{ clusters { totalCount nodes { slug hsRevision hsBasket districts firms(first: 3) { totalCount nodes { name district } pageInfo { hasNextPage } } } } }").await;
    let d = data(&v);
    assert_eq!(d["clusters"]["totalCount"], 4);
    let first = &d["clusters"]["nodes"][0];
    assert_eq!(first["slug"], "lahore-auto-parts");
    assert_eq!(first["hsRevision"], "HS2017");
    assert_eq!(first["firms"]["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(first["firms"]["pageInfo"]["hasNextPage"], true);
    assert!(
        first["firms"]["totalCount"].as_i64().unwrap() > 3,
        "{first:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyset_pages_cover_the_list_once() {
    let all = run("{ firms(first: 100, orderBy: [{field: DISTRICT}, {field: EMPLOYEES_TOTAL, direction: DESC}]) { totalCount nodes { id } } }").await;
    let total = data(&all)["firms"]["totalCount"].as_i64().unwrap();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = format!(
            "{{ firms(first: 7, orderBy: [{{field: DISTRICT}}, {{field: EMPLOYEES_TOTAL, direction: DESC}}]{}) {{ nodes {{ id }} pageInfo {{ hasNextPage endCursor }} }} }}",
            after
                .as_ref()
                .map(|c| format!(", after: \"{c}\""))
                .unwrap_or_default()
        );
        let v = run(&q).await;
        let f = &data(&v)["firms"];
        seen.extend(
            f["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        if f["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = Some(f["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len() as i64, total);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
    let first100: Vec<String> = data(&all)["firms"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(&seen[..100], &first100[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_search() {
    let v = run(r#"{ firms(first: 100, filter: { cluster: { slug: { eq: "sialkot-surgical" } }, or: [{ sizeClass: { eq: "medium" } }, { sizeClass: { eq: "large" } }] }) { totalCount nodes { name sizeClass district } } }"#).await;
    let f = &data(&v)["firms"];
    assert!(f["totalCount"].as_i64().unwrap() > 0, "{f:#}");
    for n in f["nodes"].as_array().unwrap() {
        assert!(n["sizeClass"] == "medium" || n["sizeClass"] == "large");
    }
    let v = run(r#"{ firms(search: "  SURGICAL,  works ") { totalCount nodes { name } } }"#).await;
    let f = &data(&v)["firms"];
    assert!(f["totalCount"].as_i64().unwrap() > 0);
    for n in f["nodes"].as_array().unwrap() {
        let name = n["name"].as_str().unwrap().to_lowercase();
        assert!(
            name.contains("surgical") && name.contains("works"),
            "{name}"
        );
    }
}
