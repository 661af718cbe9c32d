//! A batch embeds each answer in its own, so it cannot carry one that is
//! streamed: the CSV forms of the collection (every matching row, any number)
//! and of the report function are refused before the request runs, and any
//! other answer that turns out to be CSV or a stream is refused unread.

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::HttpRequest;

use crate::domain::ApiVersion;
use crate::error::ApiError;
use crate::http::{choose_report_form, ReportForm};
use crate::odata::parse_function_options;
use crate::routes::report::FUNCTION;
use crate::routes::rows::csv::{csv_request, CollectionForm};
use crate::routes::rows::{COLLECTION, ENTITY_SET};

/// The refusal, for the request and for an answer found streamed afterwards alike.
pub fn refusal() -> ApiError {
    ApiError::bad_request(
        "A batch does not carry CSV or other streamed answers, whose size has no bound: \
         ask for application/json ($format=application/json) and page with $top and @odata.nextLink, \
         or send the request alone",
    )
}

/// Wraps the app a batch's requests go through: a request whose answer would be
/// streamed is answered with `refusal` and never reaches its route.
pub async fn refuse_streamed<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse, actix_web::Error> {
    if would_stream(request.request()) {
        return Ok(request.error_response(refusal()));
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

/// True when the route `request` reaches would answer it with CSV, by the
/// route's own negotiation. A request the route would refuse anyway is left
/// to it, so that it says why.
pub fn would_stream(request: &HttpRequest) -> bool {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return false;
    }
    // As the router sees the path, percent-encoded letters decoded.
    let path = request.match_info().as_str();
    let Some((version, path)) = ApiVersion::ALL.into_iter().find_map(|version| {
        path.strip_prefix('/')
            .and_then(|p| p.strip_prefix(version.segment()))
            .map(|p| (version, p))
    }) else {
        return false;
    };
    if path == COLLECTION.path || path == ENTITY_SET.path {
        return matches!(csv_request(request, version), Ok(CollectionForm::Csv(_)));
    }
    if is_report_call(path) {
        // Options the function refuses are left to it, so that it says why.
        let Ok(format) = parse_function_options(request.query_string(), FUNCTION) else {
            return false;
        };
        return matches!(
            choose_report_form(format.as_deref(), request, FUNCTION),
            Ok(ReportForm::Csv { .. })
        );
    }
    false
}

/// The report function's path (`routes::report` routes the same segment).
fn is_report_call(path: &str) -> bool {
    let Some(segment) = path.strip_prefix("/reports/") else {
        return false;
    };
    let segment = segment.strip_prefix("microsoft.graph.").unwrap_or(segment);
    segment
        .strip_prefix(FUNCTION)
        .is_some_and(|rest| !rest.contains('/') && (rest.is_empty() || rest.starts_with('(')))
}

/// An answer that is streamed, or CSV however it was reached: refused unread.
pub fn is_streamed(headers: &HeaderMap, size: BodySize) -> bool {
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/csv"));
    csv || matches!(size, BodySize::Stream)
}
