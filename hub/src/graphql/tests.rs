//! In-process checks of the schema over the demo dataset on SQLite. The black-box tests in
//! `tests/blackbox/graphql_*.rs` cover the same ground through HTTP on both engines.

use async_graphql::Request;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::principal::Principal;
use crate::config::GraphqlSettings;

static DB: OnceCell<(tempfile::TempDir, DatabaseConnection)> = OnceCell::const_new();

async fn db() -> &'static DatabaseConnection {
    &DB.get_or_init(|| async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("g.sqlite").display()
        );
        let mut options = ConnectOptions::new(url);
        options.sqlx_logging(false).max_connections(4);
        let db = Database::connect(options).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        crate::reference::load_bundled(&db).await.unwrap();
        let key = hub_schema::domain::CnicKey::from_hex(&"0123456789abcdef".repeat(4)).unwrap();
        crate::seed::load_demo(&db, &key, &Default::default())
            .await
            .unwrap();
        (dir, db)
    })
    .await
    .1
}

async fn run(query: &str) -> Value {
    let db = db().await;
    let schema = super::build_schema(Some(db.clone()), &GraphqlSettings::default());
    let request = super::prepare_request(
        Request::new(query),
        db,
        Principal::default_for_request(),
        &GraphqlSettings::default(),
    );
    let response = schema.execute(request).await;
    serde_json::to_value(&response).unwrap()
}

fn data(v: &Value) -> &Value {
    assert!(v.get("errors").is_none(), "{v:#}");
    &v["data"]
}

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
