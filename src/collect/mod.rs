//! The Graph collector: pulls the Teams device-usage report from Microsoft
//! Graph for each configured source and period, and stores its rows through
//! the import path (all or nothing per period, replays store nothing), on
//! demand (`collect`) or on a schedule (`serve` with `COLLECT_EVERY`).
//!
//! Depends inward only: `domain` (the CSV check), `storage` (rows, runs, the
//! lease). `config.rs` reads the environment into `settings`.

mod assertion;
mod graph;
mod run;
mod schedule;
mod scrub;
pub mod settings;
mod status;

use crate::storage::StoreError;

pub use self::graph::GraphClient;
pub use self::graph::{ANSWER_LIMIT, REPORT_LIMIT};
pub use self::run::{is_skipped, Collector, RunObserver};
pub use self::schedule::{Scheduler, LEASE_NAME};
pub use self::scrub::{summarise, MAX_ERROR_CHARS};
pub use self::settings::{CollectSettings, Credential, RetryPolicy, Source};
pub use self::status::ConfiguredSources;

/// Why one source's period was not collected: one line, never a secret or a URL
/// with a signature in it. What Entra ID or Graph said is quoted redacted and
/// bounded (`scrub::quoted`); the whole is bounded again before it is kept.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("bad credentials: {0}; check the client id and its secret or certificate")]
    BadCredentials(String),
    #[error(
        "missing permission: Graph answered {0}; the app needs the application permission \
         Reports.Read.All with admin consent granted in Entra ID"
    )]
    MissingPermission(u16),
    #[error(
        "throttled by Graph past the retry budget ({attempts} attempts); report APIs allow \
         14 requests per 10 minutes per app and tenant"
    )]
    Throttled { attempts: u32 },
    #[error("Graph unreachable: {0}")]
    Unreachable(String),
    /// No connection to Entra ID's token endpoint at all (refused, no such
    /// host, no answer to the connect, a TLS handshake that fails): not retried.
    #[error("Entra ID unreachable: {0}; check GRAPH_LOGIN_URL and that this host can reach it")]
    LoginUnreachable(String),
    #[error("{0}")]
    Graph(String),
    #[error(
        "{what} is larger than {}, the collector's limit (a report of this kind is a few KB); \
         it was not read further and nothing was stored for this period",
        graph::human_size(.limit)
    )]
    TooLarge { what: &'static str, limit: usize },
    #[error("the report is not Graph's CSV: {0}; nothing was stored for this period")]
    BadReport(String),
    #[error("cannot store the rows: {0}")]
    Store(#[from] StoreError),
}

impl CollectError {
    /// What the failure is called when it ends the source for this run: the
    /// source's other periods would fail the same way (the login host cannot
    /// be reached, Entra ID refuses the app, Graph refuses it the report), so
    /// they are skipped, not asked for. `None` for a failure of one period.
    fn ends_the_source(&self) -> Option<&'static str> {
        match self {
            Self::BadCredentials(_) => Some("bad credentials"),
            Self::MissingPermission(_) => Some("missing permission"),
            Self::LoginUnreachable(_) => Some("Entra ID unreachable"),
            _ => None,
        }
    }
}
