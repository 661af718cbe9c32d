//! The report function `getTeamsDeviceUsageDistributionUserCounts(period='D7')`:
//! the tenant's latest row for a period, as Graph's CSV or as a JSON collection.

use actix_web::http::header::{self, Accept, Header, QualityItem};
use actix_web::{web, HttpRequest, HttpResponse};
use mime::Mime;

use super::resource;
use super::rows::service_root;
use crate::auth::{Caller, Scope};
use crate::domain::{write_csv, CsvLayout, JsonStyle, ReportPeriod, RowJson, RowsJson};
use crate::error::ApiError;
use crate::http::{json_response, response_style};
use crate::state::AppState;

pub const FUNCTION: &str = "getTeamsDeviceUsageDistributionUserCounts";
const NAMESPACE: &str = "microsoft.graph.";

pub fn configure(config: &mut web::ServiceConfig) {
    // One path segment starting with the function's name (optionally namespaced);
    // the handler reads the parameters from it, so a malformed call is a 400 that
    // says why rather than a 404.
    config.service(
        resource(r"/reports/{call:(?:microsoft\.graph\.)?getTeamsDeviceUsageDistributionUserCounts(?:\([^/]*)?}")
            .route(web::get().to(get_report)),
    );
}

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportForm {
    /// Graph's CSV, labelled with the media type the client accepts.
    Csv {
        content_type: &'static str,
    },
    Json {
        ieee754_compatible: bool,
    },
}

const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";
const OCTET_STREAM: &str = "application/octet-stream";

#[utoipa::path(
    get,
    path = "/reports/getTeamsDeviceUsageDistributionUserCounts(period='{period}')",
    tag = "report",
    operation_id = "getTeamsDeviceUsageDistributionUserCounts",
    summary = "The latest stored row for a period, as Graph's report",
    description = "The function name may also carry the `microsoft.graph.` prefix. CSV by default \
        (UTF-8 with a byte-order mark, Graph's header row: 8 columns under /v1.0, 10 under /beta); \
        JSON with `$format=application/json`. Header-only CSV or an empty `value` when nothing is stored.",
    params(("period" = super::schemas::PeriodArgument, Path), super::schemas::ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (String = "text/csv"),
            (super::schemas::ReportCollection = "application/json"),
        )),
        (status = 400, description = "Another period, or a bad query option (badRequest)", body = super::schemas::GraphError),
        (status = 403, description = "The token lacks Reports.Read.All (accessDenied)", body = super::schemas::GraphError),
        (status = 406, description = "A $format or Accept the report cannot be written in (notAcceptable)", body = super::schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]), ("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn get_report(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsRead)?;
    let call = request.match_info().get("call").unwrap_or_default();
    let period = parse_call(call).map_err(ApiError::bad_request)?;
    let format = parse_report_options(request.query_string()).map_err(ApiError::bad_request)?;
    let form = choose_form(format.as_deref(), &request)?;
    let latest = state.store.latest_row(&caller.tenant_id, period).await?;
    let rows: Vec<_> = latest.into_iter().collect();
    match form {
        ReportForm::Csv { content_type } => {
            let layout = if request.path().starts_with("/beta/") {
                CsvLayout::Beta
            } else {
                CsvLayout::V1
            };
            let csv = write_csv(layout, &rows).map_err(anyhow::Error::from)?;
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, content_type))
                .body(csv))
        }
        ReportForm::Json { ieee754_compatible } => {
            let style = JsonStyle { ieee754_compatible };
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

/// `$format` decides when given (OData: it overrides Accept); otherwise the
/// Accept header does, CSV first, as Graph answers this function with CSV.
fn choose_form(format: Option<&str>, request: &HttpRequest) -> Result<ReportForm, ApiError> {
    let ieee754_compatible = response_style(request).ieee754_compatible;
    if let Some(format) = format {
        let mime: Option<Mime> = format.parse().ok();
        return match mime.as_ref().map(Mime::essence_str) {
            Some("text/csv") => Ok(ReportForm::Csv {
                content_type: CSV_CONTENT_TYPE,
            }),
            Some("application/json") => Ok(ReportForm::Json {
                ieee754_compatible: ieee754_compatible
                    || mime.as_ref().and_then(|m| m.get_param("IEEE754Compatible"))
                        .is_some_and(|v| v.as_str().eq_ignore_ascii_case("true")),
            }),
            _ => Err(ApiError::NotAcceptable(format!(
                "$format={format} cannot be produced by {FUNCTION}; use text/csv or application/json"
            ))),
        };
    }
    let accepted = Accept::parse(request).map(|a| a.0).unwrap_or_default();
    // Server preference breaks ties: Graph's form of this report is CSV.
    let offers = [
        (
            mime::TEXT_CSV,
            ReportForm::Csv {
                content_type: CSV_CONTENT_TYPE,
            },
        ),
        (
            mime::APPLICATION_OCTET_STREAM,
            ReportForm::Csv {
                content_type: OCTET_STREAM,
            },
        ),
        (
            mime::APPLICATION_JSON,
            ReportForm::Json { ieee754_compatible },
        ),
    ];
    let mut best = None;
    for (offered, form) in offers {
        let q = quality(&accepted, &offered);
        if q > header::Quality::ZERO && best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, form));
        }
    }
    best.map(|(_, form)| form).ok_or_else(|| {
        ApiError::NotAcceptable(format!(
            "{FUNCTION} is written as text/csv, application/octet-stream or application/json; the Accept header allows none of them"
        ))
    })
}

/// How much the client wants `offered`: the most specific matching range decides
/// (RFC 9110, 12.5.1). No Accept header at all accepts everything.
fn quality(accepted: &[QualityItem<Mime>], offered: &Mime) -> header::Quality {
    if accepted.is_empty() {
        return header::Quality::MAX;
    }
    let specificity = |range: &Mime| match (range.type_(), range.subtype()) {
        (mime::STAR, _) => 0,
        (_, mime::STAR) => 1,
        _ => 2,
    };
    accepted
        .iter()
        .filter(|range| {
            (range.item.type_() == mime::STAR || range.item.type_() == offered.type_())
                && (range.item.subtype() == mime::STAR || range.item.subtype() == offered.subtype())
        })
        .max_by_key(|range| specificity(&range.item))
        .map_or(header::Quality::ZERO, |range| range.quality)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

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

    fn form_for(format: Option<&str>, accept: Option<&str>) -> Result<ReportForm, String> {
        let mut request = TestRequest::default();
        if let Some(accept) = accept {
            request = request.insert_header((header::ACCEPT, accept));
        }
        choose_form(format, &request.to_http_request()).map_err(|e| e.code().to_owned())
    }

    const CSV: ReportForm = ReportForm::Csv {
        content_type: CSV_CONTENT_TYPE,
    };
    const BYTES: ReportForm = ReportForm::Csv {
        content_type: OCTET_STREAM,
    };
    const JSON: ReportForm = ReportForm::Json {
        ieee754_compatible: false,
    };

    #[test]
    fn format_overrides_accept() {
        assert_eq!(
            form_for(Some("text/csv"), Some("application/json")),
            Ok(CSV)
        );
        assert_eq!(
            form_for(Some("application/json"), Some("text/csv")),
            Ok(JSON)
        );
        assert_eq!(
            form_for(Some("application/json;IEEE754Compatible=true"), None),
            Ok(ReportForm::Json {
                ieee754_compatible: true
            })
        );
        for bad in ["application/xml", "csv", "json", "", "text/*"] {
            assert_eq!(
                form_for(Some(bad), None),
                Err("notAcceptable".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn accept_picks_csv_first() {
        assert_eq!(form_for(None, None), Ok(CSV));
        assert_eq!(form_for(None, Some("*/*")), Ok(CSV));
        assert_eq!(form_for(None, Some("text/*")), Ok(CSV));
        // What the Graph SDKs send for this function.
        assert_eq!(
            form_for(None, Some("application/octet-stream, application/json")),
            Ok(BYTES)
        );
        assert_eq!(form_for(None, Some("application/json")), Ok(JSON));
        assert_eq!(
            form_for(None, Some("application/json;IEEE754Compatible=true")),
            Ok(ReportForm::Json {
                ieee754_compatible: true
            })
        );
        assert_eq!(
            form_for(None, Some("text/csv;q=0.5, application/json")),
            Ok(JSON)
        );
        assert_eq!(form_for(None, Some("*/*, text/csv;q=0")), Ok(BYTES));
    }

    #[test]
    fn accept_without_a_producible_type_is_406() {
        for accept in ["application/xml", "text/html, image/*", "*/*;q=0"] {
            assert_eq!(
                form_for(None, Some(accept)),
                Err("notAcceptable".into()),
                "{accept}"
            );
        }
    }
}
