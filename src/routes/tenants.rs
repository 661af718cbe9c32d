//! `GET {base}/tenants`: every tenant at once, for an operator's token
//! (`token create --all-tenants`): its name, rows, how fresh its newest report
//! is, and its collector. `$filter`, `$orderby`, `$top`, `$skip`; JSON, or CSV
//! with `$format=text/csv` (or `Accept: text/csv` first).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::resource;
use crate::auth::Operator;
use crate::error::ApiError;
use crate::fleet::{tenant_overviews, tenants_csv, TenantOverview, TenantProperty};
use crate::http::{choose_collection_form, json_response, service_root, ReportForm};
use crate::odata::parse_list_pairs;
use crate::openapi::schemas;
use crate::state::AppState;

pub const TENANTS: &str = "/tenants";

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource(TENANTS, "GET").route(web::get().to(list_tenants)));
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
