//! One typed `Settings`, read from the environment (and `.env`, loaded by
//! main). The variables are declared in `environment.rs`; here they become
//! the plain values and types of the rooms they configure.

mod collect;
pub mod environment;
mod values;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use self::environment::Environment;
use crate::collect::CollectSettings;
pub use crate::domain::Secret;
use crate::group_commit::GroupCommitLimits;
pub use crate::http::Forwarding;
pub use crate::storage::DatabaseUrl;
pub use crate::telemetry::{LogFormat, LogSettings};

/// Everything the service is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Largest accepted request body, bytes.
    pub body_limit: usize,
    /// Largest accepted `$batch` body, bytes.
    pub batch_body_limit: usize,
    /// Longest a request head may take to arrive (`HEADER_READ_TIMEOUT_SECONDS`).
    pub header_read_timeout: Duration,
    /// Longest a request body may take to arrive (`BODY_READ_TIMEOUT_SECONDS`).
    pub body_read_timeout: Duration,
    /// Longest a client may leave a response unread before the connection is
    /// abandoned (`SEND_TIMEOUT_SECONDS`).
    pub send_timeout: Duration,
    /// `RUST_LOG` and `LOG_FORMAT`.
    pub logging: LogSettings,
    /// Days after which a tenant's newest report is stale (`STALE_AFTER_DAYS`).
    pub stale_after_days: u32,
    /// Requests each token may make; `None` turns the limit off.
    pub rate_limit: Option<RateLimit>,
    /// When set, `GET /metrics` requires `Authorization: Bearer <this>`.
    pub metrics_token: Option<Secret>,
    /// The most tenants given a report-age series on `/metrics`
    /// (`METRICS_TENANT_SERIES`).
    pub metrics_tenant_series: usize,
    /// Bounds on the group-commit write path (`INGEST_*`).
    pub group_commit: GroupCommitLimits,
    /// How long a verified token is trusted without reading the database
    /// again: the longest a revoked token keeps working (`TOKEN_CACHE_SECONDS`,
    /// 0 reads the database on every request).
    pub token_cache_ttl: Duration,
    /// The Graph collector (`GRAPH_*`, `COLLECT_*`, docs/collect.md); `None`
    /// when no source is configured.
    pub collect: Option<CollectSettings>,
    /// `PUBLIC_BASE_URL` and `TRUSTED_PROXIES`: where links point, whose
    /// forwarding headers are believed.
    pub forwarding: Forwarding,
    /// Failed authentications per client address and window
    /// (`AUTH_FAILURE_LIMIT`, 0 turns it off; `AUTH_FAILURE_WINDOW_SECONDS`).
    pub auth_failures: AuthFailureLimit,
}

/// At most `max_failures` failed authentications from one address per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailureLimit {
    pub max_failures: u32,
    pub window: Duration,
}

/// Loads `.env` from the working directory or the nearest folder above it
/// that has one, as dotenvy finds it; variables already set are kept. A file
/// that cannot be read or parsed is an error naming the file (and the line).
pub fn load_dot_env() -> Result<Option<PathBuf>, String> {
    let Ok(dir) = std::env::current_dir() else {
        return Ok(None);
    };
    let Some(path) = dir
        .ancestors()
        .map(|d| d.join(".env"))
        .find(|p| p.is_file())
    else {
        return Ok(None);
    };
    match dotenvy::from_path(&path) {
        Ok(()) => Ok(Some(path)),
        Err(dotenvy::Error::LineParse(line, _)) => Err(format!(
            "{}:{}: cannot read `{line}`: expected NAME=value",
            path.display(),
            line_number(&path, &line)
        )),
        Err(dotenvy::Error::Io(error)) => Err(format!("cannot read {}: {error}", path.display())),
        Err(error) => Err(format!("cannot read {}: {error}", path.display())),
    }
}

/// The 1-based number of the first line of `path` that is `line` (dotenvy
/// names the line by its text); `?` when it cannot be found.
fn line_number(path: &Path, line: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| {
            text.lines()
                .position(|l| l.trim() == line.trim())
                .map(|i| (i + 1).to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// A per-token request rate: a bucket of `burst` requests refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Settings {
    /// Reads the environment; a bad value is a one-line error naming the variable.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The settings from the variables `get` gives (tests hand a list); unset
    /// and blank alike take the declared default.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let vars = Environment::from_lookup(&get)?;
        let database_url = DatabaseUrl::parse(&vars.database_url)?;
        Ok(Self {
            group_commit: GroupCommitLimits {
                max_batch_rows: vars.ingest_batch_rows,
                max_batch_wait: vars.ingest_batch_wait,
                max_queued_rows: vars.ingest_queue_rows,
                // SQLite has one writer anyway; Postgres' commits can overlap.
                writers: vars.ingest_writers.unwrap_or(match database_url {
                    DatabaseUrl::Sqlite(_) => 1,
                    DatabaseUrl::Postgres(_) => GroupCommitLimits::POSTGRES_WRITERS,
                }),
            },
            database_url,
            host: vars.host,
            port: vars.port,
            body_limit: vars.body_limit,
            batch_body_limit: vars.batch_body_limit,
            header_read_timeout: vars.header_read_timeout,
            body_read_timeout: vars.body_read_timeout,
            send_timeout: vars.send_timeout,
            stale_after_days: vars.stale_after_days,
            logging: LogSettings {
                format: LogFormat::parse(Some(&vars.log_format))?,
                filter: vars.log_filter,
            },
            // 0 turns the limit off; the burst is two seconds' worth unless given.
            rate_limit: NonZeroU32::new(vars.rate_limit_per_second).map(|per_second| RateLimit {
                per_second,
                burst: vars
                    .rate_limit_burst
                    .unwrap_or(per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1))),
            }),
            metrics_token: vars.metrics_token,
            metrics_tenant_series: vars.metrics_tenant_series,
            token_cache_ttl: vars.token_cache_ttl,
            auth_failures: AuthFailureLimit {
                max_failures: vars.auth_failure_limit,
                window: vars.auth_failure_window,
            },
            forwarding: Forwarding::parse(
                vars.public_base_url.as_deref(),
                vars.trusted_proxies.as_deref(),
            )?,
            collect: collect::collect_settings(vars.collect, &get)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        Settings::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_run_on_a_local_sqlite_file() {
        let s = settings(&[]).unwrap();
        assert_eq!(
            s.database_url,
            DatabaseUrl::Sqlite(DatabaseUrl::DEFAULT.into())
        );
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 8080));
        assert_eq!((s.body_limit, s.batch_body_limit), (65536, 1048576));
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert!(settings(&[("PORT", "http")]).unwrap_err().contains("PORT"));
        assert!(settings(&[("PORT", "70000")]).unwrap_err().contains("PORT"));
        assert!(settings(&[("DATABASE_URL", "mysql://x")])
            .unwrap_err()
            .contains("DATABASE_URL"));
        assert!(settings(&[("BODY_LIMIT_BYTES", "-1")])
            .unwrap_err()
            .contains("BODY_LIMIT_BYTES"));
    }

    #[test]
    fn rate_limits_default_to_generous_and_zero_turns_them_off() {
        let limit = settings(&[]).unwrap().rate_limit.unwrap();
        assert_eq!((limit.per_second.get(), limit.burst.get()), (1000, 2000));
        let limit = settings(&[("RATE_LIMIT_PER_SECOND", "5"), ("RATE_LIMIT_BURST", "1")])
            .unwrap()
            .rate_limit
            .unwrap();
        assert_eq!((limit.per_second.get(), limit.burst.get()), (5, 1));
        assert_eq!(
            settings(&[("RATE_LIMIT_PER_SECOND", "0")])
                .unwrap()
                .rate_limit,
            None
        );
        for (name, bad) in [
            ("RATE_LIMIT_PER_SECOND", "-1"),
            ("RATE_LIMIT_PER_SECOND", "fast"),
            ("RATE_LIMIT_BURST", "0"),
            ("RATE_LIMIT_BURST", "1.5"),
        ] {
            assert!(
                settings(&[(name, bad)]).unwrap_err().contains(name),
                "{name}={bad}"
            );
        }
    }

    #[test]
    fn forwarding_is_off_unless_configured_and_checked() {
        assert_eq!(settings(&[]).unwrap().forwarding, Forwarding::default());
        let s = settings(&[
            ("PUBLIC_BASE_URL", "https://reports.example.com/"),
            ("TRUSTED_PROXIES", "10.0.0.0/8"),
        ])
        .unwrap();
        assert_eq!(
            s.forwarding.public_base_url.as_deref(),
            Some("https://reports.example.com")
        );
        assert!(settings(&[("PUBLIC_BASE_URL", "reports")])
            .unwrap_err()
            .contains("PUBLIC_BASE_URL"));
        assert!(settings(&[("TRUSTED_PROXIES", "everyone")])
            .unwrap_err()
            .contains("TRUSTED_PROXIES"));
    }

    #[test]
    fn the_metrics_token_is_optional_and_never_prints() {
        assert_eq!(settings(&[]).unwrap().metrics_token, None);
        let s = settings(&[("METRICS_TOKEN", "s3cret-scrape")]).unwrap();
        assert_eq!(
            s.metrics_token.as_ref().map(Secret::expose),
            Some("s3cret-scrape")
        );
        assert!(!format!("{s:?}").contains("s3cret-scrape"));
    }

    #[test]
    fn pinning_every_declared_default_changes_nothing() {
        let explicit = Settings::from_lookup(|name| {
            environment::variables()
                .into_iter()
                .find(|v| v.name == name)
                .and_then(|v| v.default)
        })
        .unwrap();
        assert_eq!(
            format!("{:?}", settings(&[]).unwrap()),
            format!("{explicit:?}")
        );
    }

    #[test]
    fn group_commit_limits_default_per_backend_and_are_checked() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.group_commit, GroupCommitLimits::default());
        assert_eq!(s.token_cache_ttl, Duration::from_secs(5));
        let pg = settings(&[("DATABASE_URL", "postgres://db/x")]).unwrap();
        assert_eq!(pg.group_commit.writers, GroupCommitLimits::POSTGRES_WRITERS);
        let s = settings(&[
            ("INGEST_BATCH_ROWS", "8"),
            ("INGEST_BATCH_WAIT_MS", "2"),
            ("INGEST_QUEUE_ROWS", "1"),
            ("INGEST_WRITERS", "3"),
            ("TOKEN_CACHE_SECONDS", "0"),
        ])
        .unwrap();
        assert_eq!(
            s.group_commit,
            GroupCommitLimits {
                max_batch_rows: 8,
                max_batch_wait: Duration::from_millis(2),
                max_queued_rows: 1,
                writers: 3,
            }
        );
        assert_eq!(s.token_cache_ttl, Duration::ZERO);
        for (name, bad) in [
            ("INGEST_BATCH_ROWS", "0"),
            ("INGEST_QUEUE_ROWS", "0"),
            ("INGEST_WRITERS", "0"),
            ("INGEST_BATCH_WAIT_MS", "-1"),
            ("INGEST_QUEUE_ROWS", "many"),
            ("TOKEN_CACHE_SECONDS", "1.5"),
        ] {
            assert!(
                settings(&[(name, bad)]).unwrap_err().contains(name),
                "{name}={bad}"
            );
        }
    }
}
