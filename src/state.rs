//! What every request handler can reach.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{FailureLimiter, TokenCache, TokenRateLimiter};
use crate::collect::ConfiguredSources;
use crate::group_commit::RowWriter;
use crate::storage::Store;
use crate::telemetry::metrics::Metrics;

pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Rows are created through the group-commit writer, never one by one.
    pub writer: RowWriter,
    /// Tokens verified a moment ago, so most requests read no token from the store.
    pub token_cache: TokenCache,
    pub rate_limiter: TokenRateLimiter,
    /// Failed authentication per client address.
    pub failure_limiter: FailureLimiter,
    pub metrics: Arc<Metrics>,
    /// `COLLECT_EVERY` when this service collects from Graph by itself.
    pub collect_every: Option<Duration>,
    /// The collector's sources as configured here: the status route shows those.
    pub collect_sources: ConfiguredSources,
    /// Days after which a tenant's newest report is stale (`STALE_AFTER_DAYS`).
    pub stale_after_days: u32,
}
