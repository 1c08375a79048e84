//! The HTTP server: actix-web on `server.bind`.

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, get, web};
use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::config::Settings;

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

/// Registers the routes; shared by the server and in-process tests.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

/// Binds `server.bind`, prints `hub: listening on http://ADDR` (with the real port when the
/// configured one is 0), and serves until interrupted.
pub async fn serve(settings: &Settings, db: DatabaseConnection) -> anyhow::Result<()> {
    let listener = TcpListener::bind(&settings.server.bind)
        .with_context(|| format!("binding {}", settings.server.bind))?;
    let addr = listener.local_addr()?;
    let state = web::Data::new(AppState { db });
    let mut server = HttpServer::new(move || App::new().app_data(state.clone()).configure(routes))
        .listen(listener)?
        .shutdown_timeout(5);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    let running = server.run();
    println!("hub: listening on http://{addr}");
    tracing::info!(%addr, "serving");
    running.await.context("HTTP server")?;
    Ok(())
}
