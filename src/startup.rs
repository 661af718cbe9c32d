//! Building the application from settings: database, migrations, the bootstrap
//! token, the HTTP server on its listener.

use std::net::TcpListener;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_http::{HttpService, Protocol};
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Server, ServerHandle};
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App};
use anyhow::Context;
use chrono::Utc;

use crate::auth::{issue_token, FailureLimiter, Scope, Scopes, TokenCache, TokenRateLimiter};
use crate::collect::{Collector, ConfiguredSources, Scheduler};
use crate::config::{Secret, Settings};
use crate::domain::TenantId;
use crate::group_commit::RowWriter;
use crate::http::{
    answer_panics, BodyDeadline, BodyLimit, ConnectionRules, GuardedStream, HeadLimits,
    ODATA_VERSION,
};
use crate::routes;
use crate::routes::batch::BatchDispatcher;
use crate::state::AppState;
use crate::storage::{self, Store};
use crate::telemetry;
use crate::telemetry::metrics::{self, Metrics};

/// Verified tokens kept in memory at most; far more than the tenants of one
/// install, and a few hundred KiB when full.
const TOKEN_CACHE_CAPACITY: usize = 10_000;

/// How long past `BODY_READ_TIMEOUT_SECONDS` the connection itself ends a
/// body that is still coming.
const BODY_DEADLINE_GRACE: Duration = Duration::from_secs(1);

pub struct Application {
    port: u16,
    server: Server,
    store: Arc<dyn Store>,
    bootstrap_token: Option<String>,
    created_database: bool,
    /// Collects from Graph when `COLLECT_EVERY` is set; stops with the server.
    _collector: Option<Scheduler>,
}

/// A connected and migrated store.
pub struct OpenedStore {
    pub store: Arc<dyn Store>,
    /// No migration had been applied before: this opening created the database's schema.
    pub created: bool,
}

/// Connects and migrates: what `serve` and every other command start with.
pub async fn open_store(settings: &Settings) -> anyhow::Result<OpenedStore> {
    let store = storage::connect(&settings.database_url, settings.group_commit.writers)
        .await
        .with_context(|| format!("cannot open the database {}", settings.database_url))?;
    let created = store
        .never_migrated()
        .await
        .context("cannot read the database's migrations")?;
    store.migrate().await.context("cannot apply migrations")?;
    Ok(OpenedStore { store, created })
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let OpenedStore {
            store,
            created: created_database,
        } = open_store(&settings).await?;
        let listener = TcpListener::bind((settings.host.as_str(), settings.port))
            .with_context(|| format!("cannot listen on {}:{}", settings.host, settings.port))?;
        let address = listener.local_addr()?;
        // Issued once the start can no longer fail: a start that fails must not
        // use up the one-time token without anyone seeing it.
        let bootstrap_token = issue_bootstrap_token(store.as_ref()).await?;
        let rate_limiter = settings
            .rate_limit
            .map_or_else(TokenRateLimiter::unlimited, |limit| {
                TokenRateLimiter::new(limit.per_second, limit.burst)
            });
        let metrics = Arc::new(
            Metrics::new(
                settings.metrics_token.as_ref().map(Secret::expose),
                settings.metrics_tenant_series,
            )
            .context("registering the metrics")?,
        );
        metrics.set_build(settings.database_url.backend());
        let state = web::Data::new(AppState {
            store: store.clone(),
            writer: RowWriter::start(store.clone(), settings.group_commit, metrics.clone()),
            token_cache: TokenCache::new(settings.token_cache_ttl, TOKEN_CACHE_CAPACITY),
            rate_limiter,
            failure_limiter: FailureLimiter::new(
                settings.auth_failures.max_failures,
                settings.auth_failures.window,
            ),
            metrics: metrics.clone(),
            collect_every: settings.collect.as_ref().and_then(|c| c.every),
            stale_after_days: settings.stale_after_days,
            collect_sources: ConfiguredSources::of(settings.collect.as_ref()),
        });
        let collector_metrics = metrics.clone();
        let refusals = metrics.clone();
        let body_limit = BodyLimit(settings.body_limit);
        let batch_body_limit = BodyLimit(settings.batch_body_limit);
        let forwarding = settings.forwarding.clone().listening_on(address);
        let body_deadline = BodyDeadline(settings.body_read_timeout);
        let app = move || {
            App::new()
                .wrap(from_fn(answer_panics))
                // OData Part 1, 8.1.5: every answer says which OData it speaks.
                .wrap(DefaultHeaders::new().add((ODATA_VERSION, "4.0")))
                .wrap(from_fn(telemetry::access_log))
                .wrap(from_fn(telemetry::request_ids))
                // Outermost, so the latency it records is the whole request's.
                .wrap(from_fn({
                    let metrics = metrics.clone();
                    move |request, next| metrics::record_requests(metrics.clone(), request, next)
                }))
                .app_data(state.clone())
                .app_data(body_limit)
                .app_data(forwarding.clone())
                .app_data(body_deadline)
                .configure(|config| routes::configure(config, batch_body_limit))
        };
        let connection_rules = ConnectionRules {
            limits: HeadLimits::default(),
            head_timeout: settings.header_read_timeout,
            // A moment past the handlers' own deadline, so that a body a
            // handler reads is answered 408 by it first.
            body_timeout: settings.body_read_timeout + BODY_DEADLINE_GRACE,
            send_timeout: settings.send_timeout,
            observer: Arc::new(move |status| refusals.record_refused_head(status)),
        };
        // What `HttpServer::listen` builds, with each connection wrapped so
        // that request heads are checked before actix-http reads them.
        let builder = Server::build();
        let draining = builder.graceful_shutdown_signal();
        let server = builder
            .listen("teams-usage-store", listener, move || {
                let draining = draining.clone();
                let connection_rules = connection_rules.clone();
                // `$batch` sends its requests through this worker's own copy of the app.
                let app = app()
                    .app_data(Rc::new(BatchDispatcher::new(app())))
                    .into_factory()
                    .map_err(|error| error.error_response());
                let http = HttpService::build()
                    // The connection's clock (`HEADER_READ_TIMEOUT_SECONDS`) replaces actix-http's.
                    .client_request_timeout(Duration::ZERO)
                    // Idle keep-alive connections close at once on a graceful stop, as under `HttpServer`.
                    .graceful_shutdown_signal(move || {
                        let draining = draining.clone();
                        async move { draining.notified().await }
                    })
                    .local_addr(address)
                    .finish(map_config(app, |_| AppConfig::default()));
                fn_service(move |io: actix_web::rt::net::TcpStream| {
                    let peer = io.peer_addr().ok();
                    std::future::ready(Ok((
                        GuardedStream::new(io, connection_rules.clone()),
                        Protocol::Http1,
                        peer,
                    )))
                })
                .and_then(http)
            })?
            .run();
        let collector = start_collector(&settings, store.clone(), collector_metrics)?;
        Ok(Self {
            port: address.port(),
            server,
            store,
            bootstrap_token,
            created_database,
            _collector: collector,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The token created on this first start of an empty database, if any.
    pub fn bootstrap_token(&self) -> Option<&str> {
        self.bootstrap_token.as_deref()
    }

    /// Whether this start created the database (no migration had been applied to it).
    pub fn created_database(&self) -> bool {
        self.created_database
    }

    /// Stops the server from elsewhere (tests, signal handling).
    pub fn server_handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests and closes the database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.store.close().await;
        result
    }
}

/// The scheduled Graph collection, when `COLLECT_EVERY` is set; each run's
/// outcome goes to the metrics.
fn start_collector(
    settings: &Settings,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<Option<Scheduler>> {
    let Some((collect, every)) = settings
        .collect
        .as_ref()
        .and_then(|c| c.every.map(|every| (c, every)))
    else {
        return Ok(None);
    };
    let collector = Collector::new(collect)
        .context("cannot start the Graph collector")?
        .with_observer(Arc::new(move |run| {
            let succeeded_at = run
                .error
                .is_none()
                .then(|| run.finished_at.timestamp_micros() as f64 / 1e6);
            metrics.record_collection(&run.source, succeeded_at);
        }));
    tracing::info!(
        every_seconds = every.as_secs(),
        sources = collect.sources.len(),
        "collecting from Graph"
    );
    Ok(Some(Scheduler::start(store, collector, every)))
}

/// On the first start of an empty database: one read-write token for tenant
/// `default`, so a new user can call the API at once. Never again afterwards.
async fn issue_bootstrap_token(store: &dyn Store) -> anyhow::Result<Option<String>> {
    let issued = issue_token(
        TenantId::parse("default").map_err(anyhow::Error::msg)?,
        "bootstrap".into(),
        Scopes::new(vec![Scope::ReportsReadWrite]),
        None,
        Utc::now(),
    );
    let first = store
        .insert_bootstrap_token(&issued.stored)
        .await
        .context("cannot create the bootstrap token")?;
    Ok(first.then_some(issued.secret))
}
