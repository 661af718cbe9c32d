//! The singleton `reports` (`microsoft.graph.reportRoot`) and its function
//! `getTeamsDeviceUsageDistributionUserCounts(period='D7')`: the tenant's
//! latest row for a period, as Graph's CSV or as a JSON collection.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::resource;
use crate::auth::{Caller, Scope};
use crate::domain::{write_csv, ApiVersion, RowJson, RowsJson};
use crate::error::ApiError;
use crate::http::{choose_report_form, json_response, response_style, service_root, ReportForm};
use crate::odata::{parse_function_options, parse_period_call};
use crate::openapi::schemas;
use crate::state::AppState;

pub const FUNCTION: &str = "getTeamsDeviceUsageDistributionUserCounts";

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/reports", "GET").route(web::get().to(get_reports)));
    // One path segment starting with the function's name (optionally namespaced);
    // the handler reads the parameters from it, so a malformed call is a 400 that
    // says why rather than a 404.
    config.service(
        resource(r"/reports/{call:(?:microsoft\.graph\.)?getTeamsDeviceUsageDistributionUserCounts(?:\([^/]*)?}", "GET")
            .route(web::get().to(get_report)),
    );
}

/// The singleton's one property: `reportRoot` is an `entity`, since OData 4.0
/// requires a key of a singleton's type. The singleton has no identity of its
/// own, so its key is empty: a client that writes an entity's URL from its key
/// (`reports('...')`) when it has one writes the singleton's own, `reports`.
const REPORTS_ID: &str = "";

#[utoipa::path(
    get,
    path = "/reports",
    tag = "report",
    operation_id = "getReports",
    summary = "The singleton reports (microsoft.graph.reportRoot) the report function is bound to",
    responses(
        (status = 200, description = "The singleton", body = schemas::ReportRoot),
        (status = 403, description = "The token lacks Reports.Read.All (accessDenied)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]), ("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn get_reports(request: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsRead)?;
    let body = serde_json::json!({
        "@odata.context": format!("{}/$metadata#reports/$entity", service_root(&request)),
        "@odata.type": "#microsoft.graph.reportRoot",
        "id": REPORTS_ID,
    });
    Ok(json_response(
        HttpResponse::Ok(),
        response_style(&request),
        &body,
    ))
}

#[utoipa::path(
    get,
    path = "/reports/getTeamsDeviceUsageDistributionUserCounts(period='{period}')",
    tag = "report",
    operation_id = "getTeamsDeviceUsageDistributionUserCounts",
    summary = "The latest stored row for a period, as Graph's report",
    description = "The function name may also carry the `microsoft.graph.` prefix. CSV by default \
        (UTF-8 with a byte-order mark, Graph's header row: 8 columns under /v1.0, 10 under /beta); \
        JSON with `$format=application/json`. Header-only CSV or an empty `value` when nothing is stored.",
    params(("period" = schemas::PeriodArgument, Path), schemas::ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (String = "text/csv"),
            (schemas::ReportCollection = "application/json"),
        )),
        (status = 400, description = "Another period, or a bad query option (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token lacks Reports.Read.All (accessDenied)", body = schemas::GraphError),
        (status = 406, description = "A $format or Accept the report cannot be written in (notAcceptable)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]), ("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn get_report(
    request: HttpRequest,
    version: ApiVersion,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsRead)?;
    let call = request.match_info().get("call").unwrap_or_default();
    let period = parse_period_call(call, FUNCTION).map_err(ApiError::bad_request)?;
    let format =
        parse_function_options(request.query_string(), FUNCTION).map_err(ApiError::bad_request)?;
    let form = choose_report_form(format.as_deref(), &request, FUNCTION)?;
    let latest = state.store.latest_row(&caller.tenant_id, period).await?;
    let rows: Vec<_> = latest.into_iter().collect();
    match form {
        ReportForm::Csv { content_type } => {
            let csv = write_csv(version, &rows).map_err(anyhow::Error::from)?;
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, content_type))
                .body(csv))
        }
        ReportForm::Json(style) => {
            let body = RowsJson {
                context: format!(
                    "{}/$metadata#Collection(microsoft.graph.teamsDeviceUsageDistributionUserCounts)",
                    service_root(&request)
                ),
                count: None,
                value: rows
                    .iter()
                    .map(|row| RowJson::member(row, style, None))
                    .collect(),
                next_link: None,
            };
            Ok(json_response(HttpResponse::Ok(), style, &body))
        }
    }
}
