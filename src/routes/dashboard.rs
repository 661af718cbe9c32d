//! The dashboard: the page and its assets (open: they hold no data) and the
//! chart the page fetches with the caller's token.

use actix_web::{web, HttpRequest, HttpResponse};

use super::{resource, tenants};
use crate::auth::{Caller, Scope};
use crate::dashboard::{self, ChartRequest};
use crate::error::ApiError;
use crate::http::page_response;
use crate::openapi::schemas;
use crate::state::AppState;
use crate::storage::RollupSelection;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/", "GET").route(web::get().to(page)))
        .service(resource("/dashboard/app.js", "GET").route(web::get().to(script)))
        .service(resource("/dashboard/app.css", "GET").route(web::get().to(style)));
}

/// Under each version root, beside the collection.
pub fn configure_chart(config: &mut web::ServiceConfig) {
    config
        .service(resource("/dashboard/chart.svg", "GET").route(web::get().to(chart)))
        .service(resource("/dashboard/comparison", "GET").route(web::get().to(comparison)));
}

#[utoipa::path(get, path = "/", tag = "dashboard", operation_id = "dashboardPage",
    summary = "The dashboard page (sign in with a token; data comes from the API)",
    responses((status = 200, description = "The page", content_type = "text/html")))]
async fn page() -> HttpResponse {
    page_response("text/html; charset=utf-8", dashboard::INDEX_HTML)
}

#[utoipa::path(get, path = "/dashboard/app.js", tag = "dashboard", operation_id = "dashboardScript",
    summary = "The dashboard's script",
    responses((status = 200, description = "The script", content_type = "text/javascript")))]
async fn script() -> HttpResponse {
    page_response("text/javascript; charset=utf-8", dashboard::APP_JS)
}

#[utoipa::path(get, path = "/dashboard/app.css", tag = "dashboard", operation_id = "dashboardStyle",
    summary = "The dashboard's style sheet",
    responses((status = 200, description = "The style sheet", content_type = "text/css")))]
async fn style() -> HttpResponse {
    page_response("text/css; charset=utf-8", dashboard::APP_CSS)
}

#[utoipa::path(
    get,
    path = "/dashboard/chart.svg",
    tag = "dashboard",
    operation_id = "dashboardChart",
    summary = "The tenant's device counts for one period over a date range, as an SVG chart",
    description = "One line per device, a legend, a `<title>` and a `<desc>` text alternative. \
        `period` is required; `from` and `to` (YYYY-MM-DD, inclusive) are optional and at most \
        3660 days apart; an open range draws the newest 3661 dates.",
    params(
        ("period" = schemas::ChartPeriod, Query, description = "7, 30, 90 or 180"),
        ("from" = Option<schemas::DateParameter>, Query, description = "First date, YYYY-MM-DD"),
        ("to" = Option<schemas::DateParameter>, Query, description = "Last date, YYYY-MM-DD"),
    ),
    responses(
        (status = 200, description = "The chart", content_type = "image/svg+xml"),
        (status = 400, description = "A missing, unknown or out-of-range parameter (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token lacks Reports.Read.All (accessDenied)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]), ("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn chart(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsRead)?;
    let chart = ChartRequest::parse(request.query_string()).map_err(ApiError::bad_request)?;
    let rows = state
        .store
        .list_rows(&caller.tenant_id, &chart.row_query())
        .await?;
    let svg = dashboard::render_chart(&rows, chart.period).map_err(anyhow::Error::from)?;
    Ok(page_response("image/svg+xml; charset=utf-8", svg))
}

#[utoipa::path(
    get,
    path = "/dashboard/comparison",
    tag = "dashboard",
    operation_id = "dashboardComparison",
    summary = "The caller's tenant: the newest device shares beside those 30, 90 and 365 days earlier",
    params(schemas::TenantComparisonQuery),
    responses(
        (status = 200, description = "Shares in percent, changes in percentage points; null where the history does not reach back", body = schemas::ShareComparison),
        (status = 400, description = "A bad parameter (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token lacks Reports.Read.All (accessDenied)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]), ("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn comparison(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsRead)?;
    let range = ChartRequest::parse(request.query_string()).map_err(ApiError::bad_request)?;
    let mut selection = RollupSelection {
        period: range.period,
        from: range.from,
        to: range.to,
        tenants: Some(vec![caller.tenant_id.clone()]),
    };
    tenants::comparison_range(&mut selection)?;
    let days = state.store.rollup_days(&selection).await?;
    tenants::comparison_response(&request, selection.period, &days)
}
