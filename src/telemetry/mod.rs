//! Logging and request ids: every response carries `request-id` and echoes the
//! client's `client-request-id`, and error bodies name both. The metrics
//! registry and its middleware are in `metrics`.

pub mod metrics;
mod redact;

pub use redact::{redacted_authorization, redacted_target};

use std::io::IsTerminal;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing::{field, Span};
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");

/// Graph's pair of ids for one request.
#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: Uuid,
    pub client_request_id: Option<String>,
}

tokio::task_local! {
    static CURRENT: RequestIds;
}

impl RequestIds {
    /// The ids of the request being served; a fresh id outside any request.
    pub fn current() -> Self {
        CURRENT.try_with(Clone::clone).unwrap_or_else(|_| Self {
            request_id: Uuid::new_v4(),
            client_request_id: None,
        })
    }
}

/// Middleware: assigns the request id, makes it current while the request is
/// served (so errors can name it), and writes both ids on the response.
pub async fn request_ids(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let ids = RequestIds {
        request_id: Uuid::new_v4(),
        client_request_id: request
            .headers()
            .get(&CLIENT_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map(str::to_owned),
    };
    request.extensions_mut().insert(ids.clone());
    let mut response = CURRENT.scope(ids.clone(), next.call(request)).await?;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&ids.request_id.to_string()) {
        headers.insert(REQUEST_ID, value);
    }
    if let Some(value) = ids
        .client_request_id
        .and_then(|v| HeaderValue::from_str(&v).ok())
    {
        headers.insert(CLIENT_REQUEST_ID, value);
    }
    Ok(response)
}

/// Request spans carry Graph's request id, so a client's report finds the log line.
/// Only the fields a request is looked up by: each costs time on every request (docs/benchmarks.md).
pub struct GraphRootSpan;

impl RootSpanBuilder for GraphRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestIds>()
            .map(|ids| ids.request_id)
            .unwrap_or_default();
        let route = request.match_pattern();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route.as_deref().unwrap_or("default"),
            http.target = %redacted_target(request.uri()),
            request_id = %request_id,
            http.status_code = field::Empty,
            otel.status_code = field::Empty,
            exception.message = field::Empty,
            exception.details = field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); in colour only
/// when stderr is a terminal, so a log file holds plain text.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
