//! `GET /metrics` in Prometheus text format, with the state read at scrape
//! time: the write queue, the pools and each tenant's report age.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::resource;
use crate::error::ApiError;
use crate::fleet::tenant_overviews;
use crate::http::bearer_secret;
use crate::odata::ListRequest;
use crate::openapi::schemas;
use crate::state::AppState;
use crate::telemetry::metrics::CONTENT_TYPE;

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/metrics", "GET").route(web::get().to(scrape)));
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 401, description = "METRICS_TOKEN is set and the request does not carry it (InvalidAuthenticationToken)", body = schemas::GraphError),
    ),
    security((), ("metricsToken" = [])),
)]
async fn scrape(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.metrics.allows(bearer_secret(&request).ok()) {
        return Err(ApiError::InvalidToken(
            "GET /metrics requires 'Authorization: Bearer <METRICS_TOKEN>'.".into(),
        ));
    }
    // Every tenant, as `GET {base}/tenants` lists them unfiltered; the
    // collector's runs are left out, since only the ages and staleness are
    // exported.
    let every_tenant = ListRequest {
        filter: None,
        order_by: Vec::new(),
        top: None,
        skip: 0,
    };
    state
        .metrics
        .read_tenants(state.stale_after_days, async {
            tenant_overviews(
                state.store.as_ref(),
                Vec::new(),
                &every_tenant,
                Utc::now().date_naive(),
                state.stale_after_days,
            )
            .await
        })
        .await;
    state
        .metrics
        .set_state(state.writer.queued_rows(), &state.store.pool_stats());
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .body(state.metrics.render().map_err(anyhow::Error::from)?))
}
