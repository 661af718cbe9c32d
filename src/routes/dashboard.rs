//! The dashboard: the page and its assets (open: they hold no data) and the
//! chart the page fetches with the caller's token.

use actix_web::{web, HttpRequest, HttpResponse};

use super::resource;
use crate::auth::{Caller, Scope, TokenHolder, TokenReach, TENANT_SELECTOR};
use crate::dashboard::{self, ChartRequest};
use crate::domain::TenantId;
use crate::error::ApiError;
use crate::fleet::{comparison_selection, period_comparison, tenant_overviews, TenantProperty};
use crate::http::{json_response, page_response, response_style};
use crate::odata::{CompareOp, Filter, ListRequest, Literal};
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
        .service(resource("/dashboard/comparison", "GET").route(web::get().to(comparison)))
        .service(resource("/dashboard/session", "GET").route(web::get().to(session)));
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
    let selection = RollupSelection {
        period: range.period,
        from: range.from,
        to: range.to,
        tenants: Some(vec![caller.tenant_id.clone()]),
    };
    let selection = comparison_selection(selection, chrono::Utc::now().date_naive())
        .map_err(ApiError::bad_request)?;
    let body = period_comparison(state.store.as_ref(), &selection).await?;
    Ok(json_response(
        HttpResponse::Ok(),
        response_style(&request),
        &body,
    ))
}

#[utoipa::path(
    get,
    path = "/dashboard/session",
    tag = "dashboard",
    operation_id = "dashboardSession",
    summary = "Who is signed in: the token's name, tenant and reach, and how fresh the tenant's newest report is",
    description = "For an operator's token, `tenant` is the one its `tenant-id` header names, \
        null without the header.",
    responses(
        (status = 200, description = "The session", body = schemas::DashboardSession),
        (status = 400, description = "A malformed tenant-id header (badRequest)", body = schemas::GraphError),
        (status = 403, description = "A tenant-id header from a token of one tenant (accessDenied)", body = schemas::GraphError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn session(
    request: HttpRequest,
    holder: TokenHolder,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let named = request
        .headers()
        .get(TENANT_SELECTOR)
        .map(|value| value.to_str().unwrap_or_default());
    let all_tenants = holder.reach == TokenReach::AllTenants;
    let tenant = match (all_tenants, named) {
        (true, None) => None,
        _ => Some(tenant_session(&state, &holder, named).await?),
    };
    let body = serde_json::json!({
        "tokenName": holder.token_name,
        "tokenTenant": holder.token_tenant.to_string(),
        "allTenants": all_tenants,
        "staleAfterDays": state.stale_after_days,
        "tenant": tenant,
    });
    Ok(json_response(
        HttpResponse::Ok(),
        response_style(&request),
        &body,
    ))
}

/// The tenant the session acts for, as `{base}/tenants` describes it.
async fn tenant_session(
    state: &AppState,
    holder: &TokenHolder,
    named: Option<&str>,
) -> Result<serde_json::Value, ApiError> {
    let tenant = match named {
        None => holder.token_tenant.clone(),
        Some(_) if holder.reach == TokenReach::Tenant => {
            return Err(ApiError::AccessDenied(format!(
                "This token reads only its own tenant; the {TENANT_SELECTOR} header is for all-tenants tokens"
            )))
        }
        Some(name) => TenantId::parse(name).map_err(|e| {
            ApiError::bad_request(format!("The {TENANT_SELECTOR} header: {e}"))
        })?,
    };
    let only = ListRequest {
        filter: Some(Filter::Compare {
            property: TenantProperty::Id,
            op: CompareOp::Eq,
            value: Literal::Text(tenant.to_string()),
        }),
        order_by: Vec::new(),
        top: None,
        skip: 0,
    };
    let overview = tenant_overviews(
        state.store.as_ref(),
        Vec::new(),
        &only,
        chrono::Utc::now().date_naive(),
        state.stale_after_days,
    )
    .await?
    .pop();
    Ok(serde_json::json!({
        "id": tenant.to_string(),
        "displayName": overview.as_ref().and_then(|o| o.display_name.clone()),
        "latestReportRefreshDate": overview.as_ref().and_then(|o| o.latest).map(|d| d.to_string()),
        "ageDays": overview.as_ref().and_then(|o| o.age_days),
        "stale": overview.as_ref().is_none_or(|o| o.stale),
    }))
}
