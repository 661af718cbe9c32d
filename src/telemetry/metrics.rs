//! The service's Prometheus metrics: the registry, the middleware that
//! measures every request, the count of rows offered by create requests, and
//! each tenant's report age (`tenants`).
//!
//! Each `Application` owns its own registry, so two servers in one process
//! (the tests) never mix their numbers.

mod tenants;

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;

use prometheus::core::Collector;
use prometheus::{
    GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use self::tenants::TenantFigures;
use crate::fleet::TenantOverview;
use crate::group_commit::BatchObserver;
use crate::storage::PoolStats;
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
    /// The Graph collector, per source: when it last succeeded, how often it failed.
    collection_last_success: GaugeVec,
    collection_failures: IntCounterVec,
    build_info: IntGaugeVec,
    pool_connections: IntGaugeVec,
    queued_rows: IntGauge,
    batch_rows: Histogram,
    commit_seconds: Histogram,
    rate_limited: IntCounter,
    authentication_failures: IntCounter,
    /// Request heads refused at the connection, before any route (`http::connection`).
    refused_heads: IntCounterVec,
    /// Each tenant's report age and the stale count, read at scrape time.
    tenants: TenantFigures,
    /// SHA-256 of the scrape token; `None` leaves `/metrics` open.
    scrape_token_hash: Option<[u8; 32]>,
}

/// The service's metric options: every name in `NAMESPACE`.
fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace(NAMESPACE)
}

fn histogram_opts(name: &str, help: &str, buckets: &[f64]) -> HistogramOpts {
    HistogramOpts::new(name, help)
        .namespace(NAMESPACE)
        .buckets(buckets.to_vec())
}

/// Registers each metric as it is made, so none is made and forgotten.
struct Registered<'a>(&'a Registry);

impl Registered<'_> {
    fn metric<M: Collector + Clone + 'static>(
        &self,
        metric: prometheus::Result<M>,
    ) -> prometheus::Result<M> {
        let metric = metric?;
        self.0.register(Box::new(metric.clone()))?;
        Ok(metric)
    }
}

impl Metrics {
    /// `max_tenant_series`: the most tenants given a report-age series
    /// (`METRICS_TENANT_SERIES`).
    pub fn new(scrape_token: Option<&str>, max_tenant_series: usize) -> prometheus::Result<Self> {
        let registry = Registry::new();
        let add = Registered(&registry);
        let request_labels = &["route", "method", "status"];
        let metrics = Self {
            requests: add.metric(IntCounterVec::new(
                opts("http_requests_total", "HTTP requests answered"),
                request_labels,
            ))?,
            latency: add.metric(HistogramVec::new(
                histogram_opts(
                    "http_request_duration_seconds",
                    "Time from request to response",
                    &LATENCY_BUCKETS,
                ),
                request_labels,
            ))?,
            rows: add.metric(IntCounterVec::new(
                opts(
                    "rows_total",
                    "Rows offered by POST: created, replayed (already stored as sent) or conflict (stored with other counts)",
                ),
                &["outcome"],
            ))?,
            collection_last_success: add.metric(GaugeVec::new(
                opts(
                    "collection_last_success_timestamp_seconds",
                    "When a Graph collection of the source last succeeded (unix seconds), on the replica that ran it",
                ),
                &["source"],
            ))?,
            collection_failures: add.metric(IntCounterVec::new(
                opts(
                    "collection_failures_total",
                    "Graph collections of a source and period that failed",
                ),
                &["source"],
            ))?,
            build_info: add.metric(IntGaugeVec::new(
                opts(
                    "build_info",
                    "1, labelled with the running build and its backend",
                ),
                &["version", "commit", "backend"],
            ))?,
            pool_connections: add.metric(IntGaugeVec::new(
                opts(
                    "db_pool_connections",
                    "Database connections by pool and state (in_use, idle)",
                ),
                &["pool", "state"],
            ))?,
            queued_rows: add.metric(IntGauge::with_opts(opts(
                "group_commit_queued_rows",
                "Rows waiting for a group-commit transaction",
            )))?,
            batch_rows: add.metric(Histogram::with_opts(histogram_opts(
                "group_commit_batch_rows",
                "Rows per group-commit transaction",
                &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0],
            )))?,
            commit_seconds: add.metric(Histogram::with_opts(histogram_opts(
                "group_commit_duration_seconds",
                "Time to store one group-commit batch, fsync included",
                &LATENCY_BUCKETS,
            )))?,
            rate_limited: add.metric(IntCounter::with_opts(opts(
                "rate_limited_total",
                "Requests refused with 429 (per-token rate limit)",
            )))?,
            authentication_failures: add.metric(IntCounter::with_opts(opts(
                "authentication_failures_total",
                "Requests refused with 401 (missing, unknown, expired or revoked token)",
            )))?,
            refused_heads: add.metric(IntCounterVec::new(
                opts(
                    "refused_heads_total",
                    "Request heads refused before any route: 400 malformed, 408 too slow, 414 target too long, 431 head too large",
                ),
                &["status"],
            ))?,
            tenants: add.metric(TenantFigures::new(max_tenant_series))?,
            scrape_token_hash: scrape_token.map(|t| Sha256::digest(t.as_bytes()).into()),
            registry,
        };
        // CPU, memory, open file descriptors (Linux); named process_* as Prometheus expects.
        #[cfg(target_os = "linux")]
        metrics.registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        // Every outcome is reported from the start, so rates work before the first row.
        for outcome in RowOutcome::ALL {
            metrics.rows.with_label_values(&[outcome.label()]);
        }
        for status in ["400", "408", "414", "431"] {
            metrics.refused_heads.with_label_values(&[status]);
        }
        Ok(metrics)
    }

    /// Counts a request head refused at the connection.
    pub fn record_refused_head(&self, status: StatusCode) {
        self.refused_heads
            .with_label_values(&[status.as_str()])
            .inc();
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
        match status {
            StatusCode::TOO_MANY_REQUESTS => self.rate_limited.inc(),
            StatusCode::UNAUTHORIZED => self.authentication_failures.inc(),
            _ => {}
        }
        let labels = [route, method_label(method), status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Labels `build_info` with this build and the backend it runs on.
    pub fn set_build(&self, backend: &str) {
        self.build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), BUILD_COMMIT, backend])
            .set(1);
    }

    /// The state read at scrape time: queued rows and each pool's connections.
    pub fn set_state(&self, queued_rows: usize, pools: &[PoolStats]) {
        self.queued_rows
            .set(i64::try_from(queued_rows).unwrap_or(i64::MAX));
        for pool in pools {
            let idle = i64::from(pool.idle.min(pool.open));
            self.pool_connections
                .with_label_values(&[pool.pool, "idle"])
                .set(idle);
            self.pool_connections
                .with_label_values(&[pool.pool, "in_use"])
                .set(i64::from(pool.open) - idle);
        }
    }

    /// Each tenant's report age and the stale count from the `tenants`
    /// `read` gives (every tenant, as `fleet::tenant_overviews` lists them),
    /// unless the last reading is younger than 30 seconds; a
    /// reading that fails keeps the last figures.
    pub async fn read_tenants<E: Display>(
        &self,
        stale_after_days: u32,
        read: impl Future<Output = Result<Vec<TenantOverview>, E>>,
    ) {
        self.tenants.refresh(stale_after_days, read).await;
    }

    /// Counts one row offered by a create request, as the writer answered it.
    pub fn count_row(&self, outcome: RowOutcome) {
        self.rows.with_label_values(&[outcome.label()]).inc();
    }

    /// One Graph collection of a source's period: a success at `finished_at`
    /// (unix seconds), or a failure.
    pub fn record_collection(&self, source: &str, succeeded_at: Option<f64>) {
        // Both series exist from the first run, so alerts see a 0, not nothing.
        let failures = self.collection_failures.with_label_values(&[source]);
        let last_success = self.collection_last_success.with_label_values(&[source]);
        match succeeded_at {
            Some(at) => last_success.set(at),
            None => failures.inc(),
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> prometheus::Result<String> {
        TextEncoder::new().encode_to_string(&self.registry.gather())
    }

    /// True when a scraper presenting `presented` (its bearer secret, if any)
    /// may scrape: no scrape token is set, or it is the one presented.
    pub fn allows(&self, presented: Option<&str>) -> bool {
        let Some(expected) = &self.scrape_token_hash else {
            return true;
        };
        // Comparing digests, not secrets: timing reveals nothing about the token.
        presented.is_some_and(|t| Sha256::digest(t.as_bytes()).as_slice() == expected)
    }
}

/// The commit the binary was built from (build.rs): `GIT_COMMIT` at build
/// time, else git's, else `unknown`.
const BUILD_COMMIT: &str = env!("TUS_BUILD_COMMIT");

impl BatchObserver for Metrics {
    fn batch(&self, rows: usize, elapsed: Duration, _ok: bool) {
        self.batch_rows.observe(rows as f64);
        self.commit_seconds.observe(elapsed.as_secs_f64());
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
    use super::*;

    #[test]
    fn requests_are_counted_by_pattern_method_and_status() {
        let metrics = Metrics::new(None, 1000).unwrap();
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
        let metrics = Metrics::new(None, 1000).unwrap();
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
    fn operators_get_build_pool_queue_and_refusal_series() {
        let metrics = Metrics::new(None, 1000).unwrap();
        metrics.set_build("sqlite");
        metrics.set_state(
            3,
            &[PoolStats {
                pool: "readers",
                open: 5,
                idle: 2,
            }],
        );
        metrics.batch(4, Duration::from_millis(2), true);
        let ms = Duration::from_millis(1);
        metrics.observe_request(Some("/x"), &Method::GET, StatusCode::TOO_MANY_REQUESTS, ms);
        metrics.observe_request(Some("/x"), &Method::GET, StatusCode::UNAUTHORIZED, ms);
        let text = metrics.render().unwrap();
        for line in [
            "teams_usage_store_group_commit_queued_rows 3",
            r#"teams_usage_store_db_pool_connections{pool="readers",state="in_use"} 3"#,
            r#"teams_usage_store_db_pool_connections{pool="readers",state="idle"} 2"#,
            "teams_usage_store_group_commit_batch_rows_count 1",
            "teams_usage_store_group_commit_duration_seconds_count 1",
            "teams_usage_store_rate_limited_total 1",
            "teams_usage_store_authentication_failures_total 1",
            "process_open_fds",
            r#"backend="sqlite""#,
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
    }

    #[test]
    fn odd_methods_share_one_label() {
        let brew = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&brew), "OTHER");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
    }

    #[test]
    fn a_scrape_token_is_required_only_when_configured() {
        let open = Metrics::new(None, 1000).unwrap();
        assert!(open.allows(None));

        let closed = Metrics::new(Some("scrape-secret"), 1000).unwrap();
        assert!(closed.allows(Some("scrape-secret")));
        assert!(!closed.allows(None));
        assert!(!closed.allows(Some("other")));
        assert!(!closed.allows(Some("scrape-secret ")));
    }
}
