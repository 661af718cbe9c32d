//! Logging and request ids: every response carries `request-id` and echoes the
//! client's `client-request-id`, and error bodies name both. The metrics
//! registry and its middleware are in `metrics`.

pub mod metrics;

use std::io::IsTerminal;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

use crate::domain::TenantId;

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

    /// Writes both ids on a response's headers.
    pub fn write_to(&self, headers: &mut HeaderMap) {
        if let Ok(value) = HeaderValue::from_str(&self.request_id.to_string()) {
            headers.insert(REQUEST_ID, value);
        }
        if let Some(value) = self
            .client_request_id
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(CLIENT_REQUEST_ID, value);
        }
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
    ids.write_to(response.headers_mut());
    Ok(response)
}

/// Middleware, outermost: one access line per request when its response
/// body has been sent (or dropped): time, request-id, client-request-id,
/// tenant, method, route template, status, latency and bytes. Handler and
/// storage logs inside the request carry its request id through a span.
pub async fn access_log(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<AccessBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().clone();
    let ids = request.extensions().get::<RequestIds>().cloned();
    let request_id = ids.as_ref().map(|ids| ids.request_id).unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %request_id);
    let response = match next.call(request).instrument(span).await {
        Ok(response) => response,
        // An answer that travels as an error (a handler that panicked) is logged too.
        Err(error) => {
            AccessLine {
                started,
                request_id,
                client_request_id: ids.and_then(|ids| ids.client_request_id),
                tenant: None,
                method,
                route: "unknown".into(),
                status: error.as_response_error().status_code(),
            }
            .write(0, true);
            return Err(error);
        }
    };
    let route = response
        .request()
        .match_pattern()
        .map_or_else(|| "unmatched".into(), |p| route_template(&p));
    let tenant = response
        .request()
        .extensions()
        .get::<TenantId>()
        .map(ToString::to_string);
    let status = response.status();
    let line = AccessLine {
        started,
        request_id,
        client_request_id: ids.and_then(|ids| ids.client_request_id),
        tenant,
        method,
        route,
        status,
    };
    Ok(response.map_body(|_, body| AccessBody {
        inner: body.boxed(),
        bytes: 0,
        line: Some(line),
    }))
}

/// What the access line says besides the bytes sent.
struct AccessLine {
    started: Instant,
    request_id: Uuid,
    client_request_id: Option<String>,
    tenant: Option<String>,
    method: Method,
    route: String,
    status: StatusCode,
}

impl AccessLine {
    fn write(self, bytes: u64, complete: bool) {
        tracing::info!(
            target: ACCESS_TARGET,
            request_id = %self.request_id,
            client_request_id = self.client_request_id.as_deref().unwrap_or("-"),
            tenant = self.tenant.as_deref().unwrap_or("-"),
            method = %self.method,
            route = %self.route,
            status = self.status.as_u16(),
            latency_ms = (self.started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
            bytes,
            complete,
            "request"
        );
    }
}

/// The access line of a request head refused before the framework read it
/// (`http::connection`): no method, route or tenant is known of it.
pub fn log_refused_head(request_id: Uuid, status: StatusCode, bytes: usize) {
    tracing::info!(
        target: ACCESS_TARGET,
        request_id = %request_id,
        client_request_id = "-",
        tenant = "-",
        method = "-",
        route = "refused",
        status = status.as_u16(),
        bytes,
        complete = true,
        "request"
    );
}

/// The target access lines are logged under: `RUST_LOG=access=off` silences them alone.
pub const ACCESS_TARGET: &str = "access";

/// A response body that counts what it sends and writes the access line
/// once it is done; `complete=false` when the client left before its end.
pub struct AccessBody {
    inner: BoxBody,
    bytes: u64,
    line: Option<AccessLine>,
}

impl MessageBody for AccessBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = &mut *self;
        let next = Pin::new(&mut this.inner).poll_next(cx);
        match &next {
            Poll::Ready(Some(Ok(chunk))) => this.bytes += chunk.len() as u64,
            Poll::Ready(None) => {
                if let Some(line) = this.line.take() {
                    line.write(this.bytes, true);
                }
            }
            _ => {}
        }
        next
    }
}

impl Drop for AccessBody {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            // An empty body is never polled; anything else ended early.
            let complete = matches!(self.inner.size(), BodySize::None | BodySize::Sized(0));
            line.write(self.bytes, complete);
        }
    }
}

/// A route pattern without the regexes of its segments (`{call:(?:...)}`
/// becomes `{call}`), as logs and metric labels name it.
pub fn route_template(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut depth = 0usize;
    let mut skipping = false;
    for c in pattern.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push(c);
                }
                continue;
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    skipping = false;
                    out.push(c);
                }
                continue;
            }
            ':' if depth == 1 => skipping = true,
            _ => {}
        }
        if depth == 0 || (depth == 1 && !skipping) {
            out.push(c);
        }
    }
    out
}

/// How log lines are written: `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(Self::Text),
            Some(v) if v.eq_ignore_ascii_case("text") => Ok(Self::Text),
            Some(v) if v.eq_ignore_ascii_case("json") => Ok(Self::Json),
            Some(v) => Err(format!("LOG_FORMAT must be text or json, got {v:?}")),
        }
    }
}

/// What the log is configured with (`RUST_LOG`, `LOG_FORMAT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// An `EnvFilter` directive, e.g. `info,sqlx=warn`.
    pub filter: String,
    pub format: LogFormat,
}

/// Logs to stderr, filtered and written as `settings` say; text in colour
/// only when stderr is a terminal, so a log file holds plain text. A filter
/// that does not parse is an error, not a silent fallback that would hide the
/// lines someone asked for.
pub fn init_logging(settings: &LogSettings) -> Result<(), String> {
    let format = settings.format;
    let filter = EnvFilter::builder()
        .parse(settings.filter.trim())
        .map_err(|e| format!("RUST_LOG: {e} in {:?}", settings.filter))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Another subscriber already installed (tests) keeps its place.
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_templates_drop_segment_regexes() {
        assert_eq!(
            route_template(r"/v1.0/reports/{call:(?:microsoft\.graph\.)?get(?:\([^/]*)?}"),
            "/v1.0/reports/{call}"
        );
        assert_eq!(
            route_template("/beta/x/{id}/{n:\\d{2}}"),
            "/beta/x/{id}/{n}"
        );
        assert_eq!(route_template("/health"), "/health");
    }

    #[test]
    fn log_formats_are_text_or_json() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("JSON")), Ok(LogFormat::Json));
        assert!(LogFormat::parse(Some("xml"))
            .unwrap_err()
            .contains("LOG_FORMAT"));
    }
}
