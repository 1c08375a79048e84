//! What the in-process GraphQL tests share: the demo dataset on SQLite, and running queries
//! over it as a given caller, through the hub's schema or a test-only root, with or without
//! counting the SQL statements.
//!
//! The tests that only read use one database per test binary ([`shared_db`]); a test module
//! that writes to its database makes its own with [`demo_database`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{EmptyMutation, EmptySubscription, ObjectType, Request, Schema};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::principal::Principal;
use crate::config::GraphqlSettings;

/// A schema over a test-only root object (and the hub's schema, with its mutation root).
pub type TestSchema<Q, M = EmptyMutation> = Schema<Q, M, EmptySubscription>;

/// A new SQLite database in a temporary directory, migrated and loaded with the bundled
/// reference data and the demo dataset. The database lives as long as the directory.
pub async fn demo_database() -> (tempfile::TempDir, DatabaseConnection) {
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
    crate::demo::load_demo(&db, &key, &Default::default())
        .await
        .unwrap();
    (dir, db)
}

static SHARED: OnceCell<(tempfile::TempDir, DatabaseConnection)> = OnceCell::const_new();

/// The demo database shared by every test that only reads, made on first use.
pub async fn shared_db() -> &'static DatabaseConnection {
    &SHARED.get_or_init(demo_database).await.1
}

/// The hub's schema over `db`, with the default limits.
pub fn schema_on(db: &DatabaseConnection) -> super::HubSchema {
    super::build_schema(Some(db.clone()), &GraphqlSettings::default(), None)
}

/// A schema over the test-only root `root`, with the default limits and `db`.
pub fn helper_schema<Q: ObjectType + 'static>(root: Q, db: &DatabaseConnection) -> TestSchema<Q> {
    Schema::build(root, EmptyMutation, EmptySubscription)
        .data(GraphqlSettings::default())
        .data(db.clone())
        .finish()
}

/// Runs `query` on `schema` as `principal`, with the request prepared as the endpoint
/// prepares it; returns the response as JSON.
pub async fn execute<Q: ObjectType + 'static, M: ObjectType + 'static>(
    schema: &TestSchema<Q, M>,
    db: &DatabaseConnection,
    query: impl Into<String>,
    principal: Principal,
) -> Value {
    let response = super::prepare_request(
        Request::new(query),
        db,
        principal,
        &GraphqlSettings::default(),
    )
    .execute(schema)
    .await;
    serde_json::to_value(response).unwrap()
}

/// Runs `query` on the hub's schema over `db` as `principal`.
pub async fn run_on(db: &DatabaseConnection, query: &str, principal: Principal) -> Value {
    execute(&schema_on(db), db, query, principal).await
}

/// Runs `query` on the hub's schema over the shared database as `principal`.
pub async fn run_as(query: &str, principal: Principal) -> Value {
    run_on(shared_db().await, query, principal).await
}

/// Runs `query` on the hub's schema over the shared database as the default caller.
pub async fn run(query: &str) -> Value {
    run_as(
        query,
        Principal::with_role(crate::graphql::principal::Role::Analyst),
    )
    .await
}

/// The `data` of a response, which must have no errors.
pub fn data(v: &Value) -> &Value {
    assert!(v.get("errors").is_none(), "{v:#}");
    &v["data"]
}

/// The `nodes` of a connection.
pub fn nodes(v: &Value) -> &Vec<Value> {
    v["nodes"].as_array().unwrap()
}

/// The least privileged caller.
pub fn public() -> Principal {
    Principal::public()
}

/// Runs `query` as `principal` on the schema that `schema` builds over a connection to `db`
/// that counts its statements; returns the response and the number of statements.
pub async fn run_counted<Q: ObjectType + 'static, M: ObjectType + 'static>(
    db: &DatabaseConnection,
    schema: impl FnOnce(&DatabaseConnection) -> TestSchema<Q, M>,
    query: &str,
    principal: Principal,
) -> (Value, usize) {
    let count = Arc::new(AtomicUsize::new(0));
    let mut db = db.clone();
    let c = count.clone();
    db.set_metric_callback(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    let schema = schema(&db);
    // The default settings: a level's statement runs once its rows have asked (see
    // `graphql::batches`), so the counts show the shape of the query however slow the
    // test build is.
    let response = super::prepare_request(
        Request::new(query),
        &db,
        principal,
        &GraphqlSettings::default(),
    )
    .execute(&schema)
    .await;
    let response = serde_json::to_value(response).unwrap();
    (response, count.load(Ordering::SeqCst))
}
