//! What the collector is configured with: its sources, the Graph and login
//! hosts, the schedule, the retry budget and the conflict policy: plain
//! values, handed in ready; the collector reads no variable or file of its own.

use std::time::Duration;

use crate::domain::{ApiVersion, ReportPeriod, Secret, TenantId};
use crate::storage::ConflictPolicy;

/// Everything the collector needs; `None` in `Settings` when no source is configured.
#[derive(Debug, Clone)]
pub struct CollectSettings {
    pub sources: Vec<Source>,
    /// `GRAPH_BASE_URL`, without a trailing slash.
    pub graph_url: String,
    /// `GRAPH_LOGIN_URL`, without a trailing slash.
    pub login_url: String,
    /// `COLLECT_EVERY`: `serve` collects on this schedule when set.
    pub every: Option<Duration>,
    pub on_conflict: ConflictPolicy,
    pub retry: RetryPolicy,
}

/// One Graph tenant read with one app registration into one tenant of this service.
#[derive(Debug, Clone)]
pub struct Source {
    /// Names the source in output, runs and metrics: never a secret.
    pub name: String,
    pub graph_tenant: String,
    pub client_id: String,
    pub credential: Credential,
    pub target_tenant: TenantId,
    pub periods: Vec<ReportPeriod>,
    pub api_version: ApiVersion,
}

/// How the app proves who it is to Entra ID.
#[derive(Debug, Clone)]
pub enum Credential {
    Secret(Secret),
    /// A client assertion signed with the certificate's private key.
    Certificate {
        private_key_pem: Secret,
        certificate_pem: String,
    },
}

/// Bounded retries on 429 and 5xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// The first wait without a `Retry-After`; doubled each time.
    pub base: Duration,
    /// A `Retry-After` longer than this ends the retries.
    pub max_wait: Duration,
}

impl RetryPolicy {
    /// Four attempts, the first waiting `base`, and no wait of over two minutes.
    pub fn with_base(base: Duration) -> Self {
        Self {
            attempts: 4,
            base,
            max_wait: Duration::from_secs(120),
        }
    }
}
