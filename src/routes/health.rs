//! Liveness and readiness, open to all.

use actix_web::{web, HttpResponse};

use super::resource;
use crate::error::ApiError;
use crate::openapi::schemas;
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/health", "GET").route(web::get().to(health)))
        .service(resource("/ready", "GET").route(web::get().to(ready)));
}

/// The process is up and serving HTTP.
#[utoipa::path(
    get,
    path = "/health",
    tag = "service",
    operation_id = "health",
    responses((status = 200, description = "The process is serving HTTP", body = Object,
        example = json!({"status": "ok"}))),
)]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The database answers and every migration is applied.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "service",
    operation_id = "ready",
    responses(
        (status = 200, description = "The database answers and is migrated", body = Object,
            example = json!({"status": "ready"})),
        (status = 503, description = "The database is unreachable (serviceNotAvailable)", body = schemas::GraphError),
    ),
)]
async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .store
        .check_ready()
        .await
        .map_err(|e| ApiError::Unavailable {
            cause: format!("{e:#}"),
            retry_after_secs: 5,
        })?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}
