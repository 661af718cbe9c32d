//! `GET {base}/tenants`: every tenant at once, for an operator's token
//! (`token create --all-tenants`): its name, rows, how fresh its newest report
//! is, and its collector. `$filter`, `$orderby`, `$top`, `$skip`; JSON, or CSV
//! with `$format=text/csv` (or `Accept: text/csv` first). `{base}/tenants/rollup`:
//! the device mix summed over the tenants, and its period-over-period comparison.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::resource;
use crate::auth::Operator;
use crate::dashboard::{self, ChartDay, ChartRequest, ChartSubject, MAX_CHART_DAYS};
use crate::domain::{ApiVersion, Int64, Int64Format, ReportPeriod, TenantId};
use crate::error::ApiError;
use crate::fleet::{
    comparison_selection, period_comparison, rollup, rollup_csv, tenant_overviews, tenants_csv,
    users, Rollup, TenantOverview, TenantProperty,
};
use crate::http::{
    choose_collection_form, json_response, page_response, response_style, service_root, ReportForm,
};
use crate::odata::{parse_list_pairs, Filter, ListRequest};
use crate::openapi::schemas;
use crate::state::AppState;
use crate::storage::{RollupDay, RollupSelection};

pub const TENANTS: &str = "/tenants";

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource(TENANTS, "GET").route(web::get().to(list_tenants)))
        .service(resource("/tenants/rollup", "GET").route(web::get().to(tenants_rollup)))
        .service(
            resource("/tenants/rollup/comparison", "GET")
                .route(web::get().to(tenants_rollup_comparison)),
        )
        .service(
            resource("/tenants/rollup/chart.svg", "GET").route(web::get().to(tenants_rollup_chart)),
        );
}

/// The tenants a roll-up sums: those `$filter` names (over the properties of
/// `{base}/tenants`), or every tenant.
async fn selected_tenants(
    state: &AppState,
    filter: Option<Filter<TenantProperty>>,
) -> Result<Option<Vec<TenantId>>, ApiError> {
    let Some(filter) = filter else {
        return Ok(None);
    };
    let request = ListRequest {
        filter: Some(filter),
        order_by: Vec::new(),
        top: None,
        skip: 0,
    };
    let tenants = tenant_overviews(
        state.store.as_ref(),
        Vec::new(),
        &request,
        Utc::now().date_naive(),
        state.stale_after_days,
    )
    .await?;
    Ok(Some(tenants.into_iter().map(|t| t.id).collect()))
}

/// A roll-up request: `period`, `from`, `to` (as the dashboard's chart takes
/// them), `$filter` choosing the tenants, and `$format` where `formats`.
struct RollupRequest {
    selection: RollupSelection,
    format: Option<String>,
}

async fn rollup_request(
    request: &HttpRequest,
    state: &AppState,
    formats: bool,
) -> Result<RollupRequest, ApiError> {
    let pairs = || url::form_urlencoded::parse(request.query_string().as_bytes());
    let is_option = |name: &str| name.starts_with('$');
    let is_format = |name: &str| formats && name.eq_ignore_ascii_case("$format");
    let range = ChartRequest::parse_pairs(pairs().filter(|(name, _)| !is_option(name)))
        .map_err(ApiError::bad_request)?;
    let options = parse_list_pairs::<TenantProperty>(
        pairs().filter(|(name, _)| is_option(name) && !is_format(name)),
        "a roll-up",
    )?;
    if !options.order_by.is_empty() || options.top.is_some() || options.skip > 0 {
        return Err(ApiError::bad_request(
            "A roll-up takes $filter to choose the tenants; $orderby, $top and $skip are for the tenants list",
        ));
    }
    let format = pairs()
        .filter(|(name, _)| is_format(name))
        .last()
        .map(|(_, value)| value.into_owned());
    Ok(RollupRequest {
        selection: RollupSelection {
            period: range.period,
            from: range.from,
            to: range.to,
            tenants: selected_tenants(state, options.filter).await?,
        },
        format,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RollupJson<'a> {
    #[serde(rename = "@odata.context")]
    context: String,
    report_period: String,
    latest_report_refresh_date: Option<NaiveDate>,
    /// Per refresh date, oldest first: each count summed over the tenants.
    value: Vec<DayJson<'a>>,
    /// Each tenant's part of the users on the newest date, largest first.
    tenant_shares: Vec<ShareJson>,
}

/// A roll-up day: its date, its tenants, each count's sum and every user,
/// Int64s written as the client asked (a sum of users may pass an Int64).
struct DayJson<'a> {
    day: &'a RollupDay,
    style: Int64Format,
}

impl Serialize for DayJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let day = self.day;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("reportRefreshDate", &day.date)?;
        map.serialize_entry("tenantCount", &Int64::new(day.tenants, self.style))?;
        for (property, sum) in &day.counts {
            let sum = sum.map(|n| Int64::new(n, self.style));
            map.serialize_entry(property.json_name(), &sum)?;
        }
        map.serialize_entry("users", &Int64::new(users(day), self.style))?;
        map.end()
    }
}

#[derive(Serialize)]
struct ShareJson {
    id: String,
    users: Int64,
    share: f64,
}

fn rollup_json<'a>(
    request: &HttpRequest,
    period: ReportPeriod,
    rollup: &'a Rollup,
    style: Int64Format,
) -> RollupJson<'a> {
    RollupJson {
        context: format!("{}/$metadata#tenants/rollup", service_root(request)),
        report_period: period.to_string(),
        latest_report_refresh_date: rollup.latest(),
        value: rollup
            .days
            .iter()
            .map(|day| DayJson { day, style })
            .collect(),
        tenant_shares: rollup
            .shares
            .iter()
            .map(|share| ShareJson {
                id: share.tenant.to_string(),
                users: Int64::new(share.users, style),
                share: (share.share * 100.0).round() / 100.0,
            })
            .collect(),
    }
}

#[utoipa::path(
    get,
    path = "/tenants/rollup",
    tag = "tenants",
    operation_id = "tenantsRollup",
    summary = "The device mix summed over tenants, per refresh date, with each tenant's share (operators only)",
    params(schemas::RollupQuery),
    responses(
        (status = 200, description = "Per refresh date of the period, each count summed over the tenants $filter chooses (every tenant without it); each tenant's share of the newest date's users. With $format=text/csv, the days as Graph's CSV with a Tenant Count column", content(
            (schemas::RollupCollection = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A bad parameter or query option (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token does not reach every tenant (accessDenied)", body = schemas::GraphError),
        (status = 406, description = "A $format or Accept the roll-up cannot be written in (notAcceptable)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn tenants_rollup(
    request: HttpRequest,
    version: ApiVersion,
    _operator: Operator,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let RollupRequest { selection, format } = rollup_request(&request, &state, true).await?;
    let form = choose_collection_form(format.as_deref(), &request)?;
    let period = selection.period;
    let rollup = rollup(state.store.as_ref(), &selection).await?;
    match form {
        ReportForm::Csv { content_type } => Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"all-tenants-{period}-{}.csv\"",
                    Utc::now().date_naive()
                ),
            ))
            .body(rollup_csv(&rollup, period, version).map_err(anyhow::Error::from)?)),
        ReportForm::Json(style) => Ok(json_response(
            HttpResponse::Ok(),
            style,
            &rollup_json(&request, period, &rollup, style),
        )),
    }
}

#[utoipa::path(
    get,
    path = "/tenants/rollup/comparison",
    tag = "tenants",
    operation_id = "tenantsRollupComparison",
    summary = "The roll-up's newest device shares beside those 30, 90 and 365 days earlier (operators only)",
    params(schemas::ComparisonQuery),
    responses(
        (status = 200, description = "Shares in percent, changes in percentage points; null where the history does not reach back", body = schemas::ShareComparison),
        (status = 400, description = "A bad parameter or query option (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token does not reach every tenant (accessDenied)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn tenants_rollup_comparison(
    request: HttpRequest,
    _operator: Operator,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let RollupRequest { selection, .. } = rollup_request(&request, &state, false).await?;
    let selection =
        comparison_selection(selection, Utc::now().date_naive()).map_err(ApiError::bad_request)?;
    let body = period_comparison(state.store.as_ref(), &selection).await?;
    Ok(json_response(
        HttpResponse::Ok(),
        response_style(&request),
        &body,
    ))
}

#[utoipa::path(
    get,
    path = "/tenants/rollup/chart.svg",
    tag = "tenants",
    operation_id = "tenantsRollupChart",
    summary = "The device counts summed over tenants for one period over a date range, as an SVG chart (operators only)",
    description = "The dashboard's chart drawn from the roll-up: one line per device, a legend, a \
        `<title>` and a `<desc>` text alternative. `period` is required; `from` and `to` \
        (YYYY-MM-DD, inclusive) are optional and at most 3660 days apart; an open range draws \
        the newest 3661 dates. `$filter` chooses the tenants summed, as for the roll-up.",
    params(schemas::RollupChartQuery),
    responses(
        (status = 200, description = "The chart", content_type = "image/svg+xml"),
        (status = 400, description = "A missing, unknown or out-of-range parameter (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token does not reach every tenant (accessDenied)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn tenants_rollup_chart(
    request: HttpRequest,
    _operator: Operator,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let RollupRequest { selection, .. } = rollup_request(&request, &state, false).await?;
    let mut days = state.store.rollup_days(&selection).await?;
    // The newest dates when the range is open, as the tenant's chart draws them.
    days.sort_by_key(|day| std::cmp::Reverse(day.date));
    days.truncate((MAX_CHART_DAYS + 1) as usize);
    let days = days
        .iter()
        .map(|day| {
            // A chart's axis is an Int64's: a sum past it is drawn at its top.
            let counts = day.counts.iter().map(|(property, sum)| {
                (*property, sum.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
            });
            ChartDay::from_counts(day.date, counts)
        })
        .collect();
    let svg = dashboard::render_days(days, selection.period, ChartSubject::AllTenants)
        .map_err(anyhow::Error::from)?;
    Ok(page_response("image/svg+xml; charset=utf-8", svg))
}

#[derive(Serialize)]
struct TenantsJson {
    #[serde(rename = "@odata.context")]
    context: String,
    value: Vec<TenantJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TenantJson {
    id: String,
    display_name: Option<String>,
    row_count: u64,
    latest_report_refresh_date: Option<NaiveDate>,
    /// The newest `reportRefreshDate` of each period with rows, by period (`"7"`).
    latest_by_period: serde_json::Map<String, serde_json::Value>,
    age_days: Option<i64>,
    stale: bool,
    last_collection_success_at: Option<DateTime<Utc>>,
    last_collection_error_at: Option<DateTime<Utc>>,
    last_collection_error: Option<String>,
}

impl From<TenantOverview> for TenantJson {
    fn from(tenant: TenantOverview) -> Self {
        let (error_at, error) = tenant.last_collection_error.unzip();
        Self {
            id: tenant.id.to_string(),
            display_name: tenant.display_name,
            row_count: tenant.row_count,
            latest_report_refresh_date: tenant.latest,
            latest_by_period: tenant
                .latest_by_period
                .into_iter()
                .map(|(period, date)| (period.to_string(), date.to_string().into()))
                .collect(),
            age_days: tenant.age_days,
            stale: tenant.stale,
            last_collection_success_at: tenant.last_collection_success,
            last_collection_error_at: error_at,
            last_collection_error: error,
        }
    }
}

#[utoipa::path(
    get,
    path = "/tenants",
    tag = "tenants",
    operation_id = "listTenants",
    summary = "Every tenant: its rows, the age of its newest report, its collector (operators only)",
    params(schemas::TenantsQuery),
    responses(
        (status = 200, description = "Every tenant matching $filter, in $orderby order (then by id); with $format=text/csv, the same as CSV", content(
            (schemas::TenantCollection = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "An unsupported or malformed query option (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token does not reach every tenant (accessDenied)", body = schemas::GraphError),
        (status = 406, description = "A $format or Accept the list cannot be written in (notAcceptable)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn list_tenants(
    request: HttpRequest,
    _operator: Operator,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let pairs = || url::form_urlencoded::parse(request.query_string().as_bytes());
    let is_format = |name: &str| name.eq_ignore_ascii_case("$format");
    let format = pairs()
        .filter(|(name, _)| is_format(name))
        .last()
        .map(|(_, value)| value.into_owned());
    let form = choose_collection_form(format.as_deref(), &request)?;
    let options = parse_list_pairs::<TenantProperty>(
        pairs().filter(|(name, _)| !is_format(name)),
        "the tenants",
    )?;
    let runs = state
        .collect_sources
        .current(state.store.latest_collection_runs(None).await?);
    let today = Utc::now().date_naive();
    let tenants = tenant_overviews(
        state.store.as_ref(),
        runs,
        &options,
        today,
        state.stale_after_days,
    )
    .await?;
    match form {
        ReportForm::Csv { content_type } => Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"tenants-{today}.csv\""),
            ))
            .body(tenants_csv(&tenants).map_err(anyhow::Error::from)?)),
        ReportForm::Json(style) => {
            let body = TenantsJson {
                context: format!("{}/$metadata#tenants", service_root(&request)),
                value: tenants.into_iter().map(TenantJson::from).collect(),
            };
            Ok(json_response(HttpResponse::Ok(), style, &body))
        }
    }
}
