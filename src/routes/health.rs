//! Liveness and readiness, open to all.

use actix_web::{web, HttpResponse};

use super::resource;
use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/health").route(web::get().to(health)))
        .service(resource("/ready").route(web::get().to(ready)));
}

/// The process is up and serving HTTP.
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The database answers and every migration is applied.
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
