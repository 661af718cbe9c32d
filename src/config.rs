//! One typed `Settings`, read from the environment (and `.env`, loaded by main).

pub mod settings_table;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::collect::CollectSettings;
pub use crate::domain::Secret;
use crate::group_commit::GroupCommitLimits;
pub use crate::http::Forwarding;
pub use crate::storage::DatabaseUrl;

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
    /// Requests each token may make; `None` turns the limit off.
    pub rate_limit: Option<RateLimit>,
    /// When set, `GET /metrics` requires `Authorization: Bearer <this>`.
    pub metrics_token: Option<Secret>,
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

impl RateLimit {
    /// Generous enough for collectors and the benchmarks; it only stops runaways.
    pub const DEFAULT_PER_SECOND: u32 = 1000;

    /// `RATE_LIMIT_PER_SECOND` (0 turns the limit off) and `RATE_LIMIT_BURST`
    /// (default: two seconds' worth).
    fn from_vars(
        per_second: Option<String>,
        burst: Option<String>,
    ) -> Result<Option<Self>, String> {
        let per_second = match per_second {
            None => Self::DEFAULT_PER_SECOND,
            Some(v) => v.trim().parse::<u32>().map_err(|_| {
                format!("RATE_LIMIT_PER_SECOND must be a whole number (0 turns the limit off), got {v:?}")
            })?,
        };
        let Some(per_second) = NonZeroU32::new(per_second) else {
            return Ok(None);
        };
        let burst = match burst {
            None => per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1)),
            Some(v) => v.trim().parse::<NonZeroU32>().map_err(|_| {
                format!("RATE_LIMIT_BURST must be a whole number from 1, got {v:?}")
            })?,
        };
        Ok(Some(Self { per_second, burst }))
    }
}

impl Settings {
    /// Reads the environment; a bad value is a one-line error naming the variable.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let number = |name: &str, default: usize| -> Result<usize, String> {
            var(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse()
                    .map_err(|_| format!("{name} must be a whole number of bytes, got {v:?}"))
            })
        };
        let database_url = DatabaseUrl::parse(
            &var("DATABASE_URL").unwrap_or_else(|| DatabaseUrl::DEFAULT.into()),
        )?;
        Ok(Self {
            group_commit: group_commit_limits(&var, &database_url)?,
            token_cache_ttl: Duration::from_secs(whole_number(&var, "TOKEN_CACHE_SECONDS", 5, 0)?),
            database_url,
            host: var("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: match var("PORT") {
                None => 8080,
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("PORT must be a number from 0 to 65535, got {v:?}"))?,
            },
            body_limit: number("BODY_LIMIT_BYTES", 64 * 1024)?,
            batch_body_limit: number("BATCH_BODY_LIMIT_BYTES", 1024 * 1024)?,
            header_read_timeout: Duration::from_secs(whole_number(
                &var,
                "HEADER_READ_TIMEOUT_SECONDS",
                5,
                1,
            )?),
            body_read_timeout: Duration::from_secs(whole_number(
                &var,
                "BODY_READ_TIMEOUT_SECONDS",
                10,
                1,
            )?),
            send_timeout: Duration::from_secs(whole_number(&var, "SEND_TIMEOUT_SECONDS", 30, 1)?),
            rate_limit: RateLimit::from_vars(
                var("RATE_LIMIT_PER_SECOND"),
                var("RATE_LIMIT_BURST"),
            )?,
            metrics_token: var("METRICS_TOKEN").map(|v| Secret::new(v.trim())),
            collect: CollectSettings::from_lookup(&var)?,
            auth_failures: AuthFailureLimit {
                max_failures: u32::try_from(whole_number(&var, "AUTH_FAILURE_LIMIT", 20, 0)?)
                    .map_err(|_| "AUTH_FAILURE_LIMIT is too large".to_owned())?,
                window: Duration::from_secs(whole_number(
                    &var,
                    "AUTH_FAILURE_WINDOW_SECONDS",
                    10,
                    1,
                )?),
            },
            forwarding: Forwarding::parse(
                var("PUBLIC_BASE_URL").as_deref(),
                var("TRUSTED_PROXIES").as_deref(),
            )?,
        })
    }
}

/// The variable `name` as a whole number of at least `min`; `default` when unset.
fn whole_number(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    min: u64,
) -> Result<u64, String> {
    var(name).map_or(Ok(default), |v| {
        v.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| format!("{name} must be a whole number from {min}, got {v:?}"))
    })
}

/// `INGEST_BATCH_ROWS`, `INGEST_BATCH_WAIT_MS`, `INGEST_QUEUE_ROWS` and
/// `INGEST_WRITERS` (default: 1 on SQLite, which has one writer anyway;
/// several on Postgres, whose commits can overlap).
fn group_commit_limits(
    var: &impl Fn(&str) -> Option<String>,
    database: &DatabaseUrl,
) -> Result<GroupCommitLimits, String> {
    let defaults = GroupCommitLimits::default();
    let writers = match database {
        DatabaseUrl::Sqlite(_) => 1,
        DatabaseUrl::Postgres(_) => GroupCommitLimits::POSTGRES_WRITERS,
    };
    let count =
        |name, default: usize| whole_number(var, name, default as u64, 1).map(|n| n as usize);
    Ok(GroupCommitLimits {
        max_batch_rows: count("INGEST_BATCH_ROWS", defaults.max_batch_rows)?,
        max_batch_wait: Duration::from_millis(whole_number(
            var,
            "INGEST_BATCH_WAIT_MS",
            defaults.max_batch_wait.as_millis() as u64,
            0,
        )?),
        max_queued_rows: count("INGEST_QUEUE_ROWS", defaults.max_queued_rows)?,
        writers: count("INGEST_WRITERS", writers)?,
    })
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
