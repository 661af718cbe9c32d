//! The service's Prometheus metrics: the registry, the middleware that
//! measures every request, and the count of rows offered by create requests.
//!
//! Each `Application` owns its own registry, so two servers in one process
//! (the tests) never mix their numbers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::HttpRequest;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};
use sha2::{Digest, Sha256};

const NAMESPACE: &str = "teams_usage_store";

/// The content type of `render`'s text.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// The label of requests that matched no route: one series for all of them,
/// whatever paths scanners try.
const UNMATCHED_ROUTE: &str = "unmatched";

/// Request latency buckets, seconds: from a cached read to a slow fsync.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The service's counters, and who may read them.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    rows: IntCounterVec,
    /// SHA-256 of the scrape token; `None` leaves `/metrics` open.
    scrape_token_hash: Option<[u8; 32]>,
}

impl Metrics {
    pub fn new(scrape_token: Option<&str>) -> prometheus::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered").namespace(NAMESPACE),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response",
            )
            .namespace(NAMESPACE)
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method", "status"],
        )?;
        let rows = IntCounterVec::new(
            Opts::new(
                "rows_total",
                "Rows offered by POST: created, replayed (already stored as sent) or conflict (stored with other counts)",
            )
            .namespace(NAMESPACE),
            &["outcome"],
        )?;
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(rows.clone()),
        ] {
            registry.register(collector)?;
        }
        // Every outcome is reported from the start, so rates work before the first row.
        for outcome in RowOutcome::ALL {
            rows.with_label_values(&[outcome.label()]);
        }
        Ok(Self {
            registry,
            requests,
            latency,
            rows,
            scrape_token_hash: scrape_token.map(|t| Sha256::digest(t.as_bytes()).into()),
        })
    }

    /// Counts one answered request under its route pattern (never its raw path).
    fn observe_request(
        &self,
        route: Option<&str>,
        method: &Method,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let route = route.unwrap_or(UNMATCHED_ROUTE);
        let labels = [route, method_label(method), status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one row offered by a create request, as the writer answered it.
    pub fn count_row(&self, outcome: RowOutcome) {
        self.rows.with_label_values(&[outcome.label()]).inc();
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> prometheus::Result<String> {
        TextEncoder::new().encode_to_string(&self.registry.gather())
    }

    /// True when `request` may scrape: no scrape token is set, or it carries it.
    pub fn allows(&self, request: &HttpRequest) -> bool {
        let Some(expected) = &self.scrape_token_hash else {
            return true;
        };
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        // Comparing digests, not secrets: timing reveals nothing about the token.
        presented.is_some_and(|t| Sha256::digest(t.as_bytes()).as_slice() == expected)
    }
}

/// What became of a row offered by a create request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    Created,
    Replayed,
    Conflict,
}

impl RowOutcome {
    const ALL: [Self; 3] = [Self::Created, Self::Replayed, Self::Conflict];

    fn label(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Replayed => "replayed",
            Self::Conflict => "conflict",
        }
    }
}

/// Methods outside the standard set share one label, so clients cannot mint series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Middleware: counts and times every request by route pattern, method and status.
pub async fn record_requests(
    metrics: Arc<Metrics>,
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = request.method().clone();
    let started = Instant::now();
    let result = next.call(request).await;
    let (status, route) = match &result {
        Ok(response) => (
            response.status(),
            response
                .request()
                .match_pattern()
                .map(|p| super::route_template(&p)),
        ),
        Err(error) => (error.as_response_error().status_code(), None),
    };
    metrics.observe_request(route.as_deref(), &method, status, started.elapsed());
    result
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn requests_are_counted_by_pattern_method_and_status() {
        let metrics = Metrics::new(None).unwrap();
        let ms = Duration::from_millis(3);
        metrics.observe_request(Some("/v1.0/x/{id}"), &Method::GET, StatusCode::OK, ms);
        metrics.observe_request(Some("/v1.0/x/{id}"), &Method::GET, StatusCode::OK, ms);
        metrics.observe_request(None, &Method::GET, StatusCode::NOT_FOUND, ms);
        let text = metrics.render().unwrap();
        assert!(text.contains(
            r#"teams_usage_store_http_requests_total{method="GET",route="/v1.0/x/{id}",status="200"} 2"#
        ), "{text}");
        assert!(text.contains(
            r#"teams_usage_store_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ), "{text}");
        assert!(text.contains(
            r#"teams_usage_store_http_request_duration_seconds_bucket{method="GET",route="/v1.0/x/{id}",status="200",le="0.005"} 2"#
        ), "{text}");
    }

    #[test]
    fn row_outcomes_are_reported_from_the_start() {
        let metrics = Metrics::new(None).unwrap();
        let text = metrics.render().unwrap();
        assert!(
            text.contains(r#"teams_usage_store_rows_total{outcome="created"} 0"#),
            "{text}"
        );
        for outcome in [
            RowOutcome::Created,
            RowOutcome::Created,
            RowOutcome::Replayed,
            RowOutcome::Conflict,
        ] {
            metrics.count_row(outcome);
        }
        let text = metrics.render().unwrap();
        assert!(
            text.contains(r#"teams_usage_store_rows_total{outcome="created"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"teams_usage_store_rows_total{outcome="replayed"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"teams_usage_store_rows_total{outcome="conflict"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn odd_methods_share_one_label() {
        let brew = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&brew), "OTHER");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
    }

    #[test]
    fn a_scrape_token_is_required_only_when_configured() {
        let open = Metrics::new(None).unwrap();
        assert!(open.allows(&TestRequest::default().to_http_request()));

        let closed = Metrics::new(Some("scrape-secret")).unwrap();
        let with = |value: &str| {
            TestRequest::default()
                .insert_header((header::AUTHORIZATION, value))
                .to_http_request()
        };
        assert!(closed.allows(&with("Bearer scrape-secret")));
        assert!(closed.allows(&with("bearer scrape-secret")));
        assert!(!closed.allows(&TestRequest::default().to_http_request()));
        assert!(!closed.allows(&with("Bearer other")));
        assert!(!closed.allows(&with("Basic scrape-secret")));
        assert!(!closed.allows(&with("scrape-secret")));
    }
}
