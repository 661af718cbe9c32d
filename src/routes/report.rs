//! The report function `getTeamsDeviceUsageDistributionUserCounts(period='D7')`:
//! the tenant's latest row for a period, as Graph's CSV or as a JSON collection.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::resource;
use crate::auth::{Caller, Scope};
use crate::domain::{write_csv, ApiVersion, ReportPeriod, RowJson, RowsJson};
use crate::error::ApiError;
use crate::http::{choose_report_form, json_response, service_root, ReportForm};
use crate::openapi::schemas;
use crate::state::AppState;

pub const FUNCTION: &str = "getTeamsDeviceUsageDistributionUserCounts";
const NAMESPACE: &str = "microsoft.graph.";

pub fn configure(config: &mut web::ServiceConfig) {
    // One path segment starting with the function's name (optionally namespaced);
    // the handler reads the parameters from it, so a malformed call is a 400 that
    // says why rather than a 404.
    config.service(
        resource(r"/reports/{call:(?:microsoft\.graph\.)?getTeamsDeviceUsageDistributionUserCounts(?:\([^/]*)?}", "GET")
            .route(web::get().to(get_report)),
    );
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
    let period = parse_call(call).map_err(ApiError::bad_request)?;
    let format = parse_report_options(request.query_string()).map_err(ApiError::bad_request)?;
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

/// The period a call segment names: `getTeamsDeviceUsageDistributionUserCounts(period='D7')`,
/// optionally prefixed with `microsoft.graph.`.
fn parse_call(segment: &str) -> Result<ReportPeriod, String> {
    let malformed =
        || format!("The function call '{segment}' is malformed: write {FUNCTION}(period='D7')");
    let call = segment.strip_prefix(NAMESPACE).unwrap_or(segment);
    let arguments = call
        .strip_prefix(FUNCTION)
        .and_then(|rest| rest.strip_prefix('('))
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(malformed)?;
    let mut period = None;
    for argument in arguments.split(',').filter(|a| !a.is_empty()) {
        let (name, value) = argument.split_once('=').ok_or_else(malformed)?;
        if name != "period" {
            return Err(format!(
                "{FUNCTION} has no parameter '{name}'; its only parameter is period"
            ));
        }
        if period.is_some() {
            return Err("The parameter period is given twice".into());
        }
        let text = string_literal(value).ok_or_else(|| {
            format!("The parameter period must be a quoted string such as 'D7', got {value}")
        })?;
        period = Some(ReportPeriod::from_function_arg(&text).ok_or_else(|| {
            format!("The parameter period must be one of 'D7', 'D30', 'D90', 'D180', got '{text}'")
        })?);
    }
    period.ok_or_else(|| format!("{FUNCTION} requires the parameter period, as in (period='D7')"))
}

/// An OData string literal: single quotes, a quote inside written twice.
fn string_literal(value: &str) -> Option<String> {
    let inner = value.strip_prefix('\'')?.strip_suffix('\'')?;
    // Inside the quotes a quote only ever comes doubled.
    (!inner.replace("''", "").contains('\'')).then(|| inner.replace("''", "'"))
}

/// The function takes one query option, `$format`; nothing else is ignored silently.
fn parse_report_options(query_string: &str) -> Result<Option<String>, String> {
    let mut format = None;
    for (name, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
        match name.as_ref() {
            "$format" if format.is_some() => {
                return Err("The query option $format is given twice".into())
            }
            "$format" => format = Some(value.into_owned()),
            other => {
                return Err(format!(
                "The query option '{other}' is not supported by {FUNCTION}; it takes only $format"
            ))
            }
        }
    }
    Ok(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_name_a_period() {
        for (call, period) in [
            (
                "getTeamsDeviceUsageDistributionUserCounts(period='D7')",
                ReportPeriod::D7,
            ),
            (
                "getTeamsDeviceUsageDistributionUserCounts(period='D180')",
                ReportPeriod::D180,
            ),
            (
                "microsoft.graph.getTeamsDeviceUsageDistributionUserCounts(period='D30')",
                ReportPeriod::D30,
            ),
        ] {
            assert_eq!(parse_call(call), Ok(period), "{call}");
        }
    }

    #[test]
    fn malformed_calls_say_why() {
        for call in [
            "getTeamsDeviceUsageDistributionUserCounts",
            "getTeamsDeviceUsageDistributionUserCounts()",
            "getTeamsDeviceUsageDistributionUserCounts(period='D7'",
            "getTeamsDeviceUsageDistributionUserCounts(period=D7)",
            "getTeamsDeviceUsageDistributionUserCounts(period=\"D7\")",
            "getTeamsDeviceUsageDistributionUserCounts(period='D8')",
            "getTeamsDeviceUsageDistributionUserCounts(period='d7')",
            "getTeamsDeviceUsageDistributionUserCounts(period='7')",
            "getTeamsDeviceUsageDistributionUserCounts(period='D7''')",
            "getTeamsDeviceUsageDistributionUserCounts(period='D7',period='D7')",
            "getTeamsDeviceUsageDistributionUserCounts(period='D7',date='2026-11-01')",
            "getTeamsDeviceUsageDistributionUserCounts(Period='D7')",
            "getTeamsDeviceUsageDistributionUserCounts(period)",
            "getTeamsDeviceUsageDistributionUserCounts(period=@p)",
            "graph.getTeamsDeviceUsageDistributionUserCounts(period='D7')",
        ] {
            let message = parse_call(call).unwrap_err();
            assert!(!message.is_empty(), "{call}");
        }
    }

    #[test]
    fn string_literals_unescape_doubled_quotes() {
        assert_eq!(string_literal("'D7'").as_deref(), Some("D7"));
        assert_eq!(string_literal("'it''s'").as_deref(), Some("it's"));
        assert_eq!(string_literal("''").as_deref(), Some(""));
        assert_eq!(string_literal("'a'b'"), None);
        assert_eq!(string_literal("'"), None);
        assert_eq!(string_literal("D7"), None);
    }

    #[test]
    fn only_format_is_an_option() {
        assert_eq!(parse_report_options(""), Ok(None));
        assert_eq!(
            parse_report_options("$format=text%2Fcsv"),
            Ok(Some("text/csv".into()))
        );
        assert!(parse_report_options("$format=text/csv&$format=text/csv").is_err());
        assert!(parse_report_options("$top=1").is_err());
        assert!(parse_report_options("period=D7").is_err());
    }
}
