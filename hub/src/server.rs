//! The HTTP server: actix-web on `server.bind`.
//!
//! Routes: `/healthz`, `/readyz`, `/metrics` (Prometheus text, see [`crate::metrics`]),
//! and the GraphQL endpoint `/graphql` with GraphiQL and its assets under
//! `/graphql/assets/` (see [`crate::graphql::http`]), and the datasets for BI tools under
//! `/datasets` (see [`crate::datasets`]), and the pages for agency staff: `/`,
//! `/clusters/{slug}`, `/firms`, `/firms/{id}`, `/sign-in` (see [`crate::pages`]).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Service as _;
use actix_web::{App, HttpResponse, HttpServer, get, web};
use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::config::{Engine, Settings};
use crate::graphql::ImportSetup;

/// What handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
}

/// Liveness: the process answers.
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the database answers too.
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match crate::db::ping(&state.db).await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok", "database": "ok"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "database": "unreachable"}))
        }
    }
}

/// The counters, as Prometheus text.
#[get("/metrics")]
async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(crate::metrics::render())
}

/// Registers the routes; shared by the server and in-process tests. The GraphQL routes need
/// `web::Data<graphql::http::Endpoint>`, the datasets also `web::Data<datasets::Exports>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(metrics)
        .configure(crate::graphql::http::routes)
        .configure(crate::datasets::routes)
        .configure(crate::pages::routes);
}

/// Binds `server.bind`, prints `hub: listening on http://ADDR` (with the real port when the
/// configured one is 0), and serves until interrupted. The CNIC key (for `importFile`) is
/// read as every command reads it: the configured one, or on SQLite the data dir's.
pub async fn serve(settings: &Settings, db: DatabaseConnection) -> anyhow::Result<()> {
    let key = crate::db::cnic_key(settings, Engine::of_url(&settings.database_url()))?;
    let imports = Arc::new(ImportSetup {
        importers: crate::import::Importers::load(&settings.plugins),
        key,
        sizes: settings.size_classes,
        settings: settings.import.clone(),
    });
    let listener = TcpListener::bind(&settings.server.bind)
        .with_context(|| format!("binding {}", settings.server.bind))?;
    let addr = listener.local_addr()?;
    // The schema is built once and shared by every worker.
    let access = Arc::new(crate::access::Authenticator::new(
        db.clone(),
        &settings.access,
    )?);
    let graphql = web::Data::new(crate::graphql::http::Endpoint::new(
        db.clone(),
        &settings.graphql,
        imports,
        access,
        &settings.access.roles,
    ));
    let exports = web::Data::new(crate::datasets::Exports::new(
        crate::db::connect_exports(settings).await?,
    ));
    let state = web::Data::new(AppState { db });
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(graphql.clone())
            .app_data(exports.clone())
            .wrap_fn(|req, srv| {
                crate::metrics::http_request();
                srv.call(req)
            })
            .configure(routes)
    })
    .listen(listener)?
    .shutdown_timeout(5);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    let running = server.run();
    // One write: a reader that stops at the first line never sees a second one fail.
    println!(
        "hub: listening on http://{addr}\nhub: pages http://{addr}/ · GraphQL (GraphiQL in a \
         browser) http://{addr}/graphql · datasets http://{addr}/datasets"
    );
    tracing::info!(%addr, "serving");
    running.await.context("HTTP server")?;
    Ok(())
}
