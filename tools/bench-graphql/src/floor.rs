//! The actix floor: the hand-written SQL of each question through the hub's own pool
//! (`hub::db::connect`, the same configuration), served as JSON by a minimal actix handler.
//! What a hand-written endpoint costs: the hub's GraphQL layer should stay within a small
//! factor of it. Run as `bench-graphql floor` with the hub's `HUB__*` environment; prints
//! `floor: listening on URL` when ready.

use actix_web::{App, HttpResponse, HttpServer, web};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, QueryResult};

use crate::queries;

struct State {
    db: DatabaseConnection,
    sql: Vec<(&'static str, String)>,
}

/// Serves until killed.
pub fn serve() -> anyhow::Result<()> {
    let settings = hub::config::Settings::load(&hub::config::Sources::default())?;
    let bind = settings.server.bind.clone();
    actix_web::rt::System::new().block_on(async move {
        let db = hub::db::connect(&settings).await?;
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        let sql = queries::all()
            .into_iter()
            .map(|q| {
                (
                    q.name,
                    if postgres { q.postgres } else { q.sqlite }.to_owned(),
                )
            })
            .collect();
        let state = web::Data::new(State { db, sql });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/q/{name}/{i}", web::get().to(answer))
                .route("/ids", web::get().to(ids))
        })
        .bind(&bind)?;
        let addr = server.addrs()[0];
        println!("floor: listening on http://{addr}");
        server.run().await?;
        anyhow::Ok(())
    })
}

async fn answer(state: web::Data<State>, path: web::Path<(String, i64)>) -> HttpResponse {
    let (name, id) = path.into_inner();
    let Some((_, sql)) = state.sql.iter().find(|(n, _)| *n == name) else {
        return HttpResponse::NotFound().finish();
    };
    let backend = state.db.get_database_backend();
    let sql = sql.replace(":id", &id.to_string());
    let statement = sea_orm::Statement::from_string(backend, sql);
    match state.db.query_all_raw(statement).await {
        Ok(rows) => {
            let rows: Vec<serde_json::Value> = rows.iter().map(json_row).collect();
            HttpResponse::Ok().json(serde_json::json!({ "data": rows }))
        }
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

/// A row as a JSON object, every column decoded by its value (integer, real, text or
/// null): SQLite gives no declared type for computed columns, so a decoder by declared
/// type would drop them and the floor would do less than the hub.
fn json_row(row: &QueryResult) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (i, name) in row.column_names().into_iter().enumerate() {
        let value = if let Ok(v) = row.try_get_by_index::<Option<i64>>(i) {
            v.map_or(serde_json::Value::Null, Into::into)
        } else if let Ok(v) = row.try_get_by_index::<Option<f64>>(i) {
            v.map_or(serde_json::Value::Null, Into::into)
        } else if let Ok(v) = row.try_get_by_index::<Option<String>>(i) {
            v.map_or(serde_json::Value::Null, Into::into)
        } else if let Ok(v) = row.try_get_by_index::<Option<chrono::NaiveDate>>(i) {
            v.map_or(serde_json::Value::Null, |d| d.to_string().into())
        } else {
            serde_json::Value::Null
        };
        out.insert(name, value);
    }
    out.into()
}

/// The range of firm row ids `node(id:)` is asked for: `{first, count}`.
async fn ids(state: web::Data<State>) -> HttpResponse {
    let backend = state.db.get_database_backend();
    let statement = sea_orm::Statement::from_string(
        backend,
        "SELECT min(id) AS first, max(id) - min(id) + 1 AS count FROM organisations \
         WHERE kind = 'firm' AND merged_into_id IS NULL",
    );
    match state.db.query_one_raw(statement).await {
        Ok(Some(row)) => HttpResponse::Ok().json(json_row(&row)),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}
