//! Every environment variable the service reads, declared once: each field's
//! `env` is the variable's name, `default_value` its default (none: unset,
//! which the meaning explains), `help` its meaning and `value_parser` its
//! type. Parsing, `serve --help`, the README's table and the `.env.example`
//! check are all read from this declaration, so they cannot drift apart.
//!
//! clap holds the declaration; the values come from a lookup (the process
//! environment, or a test's list), never from the command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue};
use clap::{Args, Command, FromArgMatches};

use super::values::{self, TimeUnit};
use crate::domain::{ApiVersion, ReportPeriod, Secret, TenantId};
use crate::storage::ConflictPolicy;
use crate::storage::DatabaseUrl;

/// The variables, typed; `Settings` is built from them.
#[derive(Args)]
pub struct Environment {
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = DatabaseUrl::DEFAULT,
        help = "`sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`; picks the backend"
    )]
    pub database_url: String,

    #[arg(
        long,
        env = "HOST",
        default_value = "127.0.0.1",
        help = "address to listen on (`0.0.0.0` in a container)"
    )]
    pub host: String,

    #[arg(
        long,
        env = "PORT",
        default_value = "8080",
        value_parser = values::port,
        help = "port to listen on (0 picks a free one)"
    )]
    pub port: u16,

    #[arg(
        long,
        env = "RUST_LOG",
        default_value = "info",
        help = "log filter, e.g. `warn` or `info,sqlx=warn`; at `info` every request has one \
                access line; an invalid filter stops start-up"
    )]
    pub log_filter: String,

    #[arg(
        long,
        env = "LOG_FORMAT",
        default_value = "text",
        help = "`text` (readable lines) or `json` (one JSON object per line, for Loki, \
                Elasticsearch, CloudWatch)"
    )]
    pub log_format: String,

    #[arg(
        long,
        env = "HEADER_READ_TIMEOUT_SECONDS",
        default_value = "5",
        value_parser = values::duration(TimeUnit::Seconds, 1),
        help = "longest a request line and headers may take to arrive (from the connection's \
                start, or from the head's first byte); a slower head gets 408 and the connection \
                is closed"
    )]
    pub header_read_timeout: Duration,

    #[arg(
        long,
        env = "BODY_LIMIT_BYTES",
        default_value = "65536",
        value_parser = values::whole_number(0usize),
        help = "largest request body; larger ones get 413"
    )]
    pub body_limit: usize,

    #[arg(
        long,
        env = "BATCH_BODY_LIMIT_BYTES",
        default_value = "1048576",
        value_parser = values::whole_number(0usize),
        help = "largest `$batch` body"
    )]
    pub batch_body_limit: usize,

    #[arg(
        long,
        env = "BODY_READ_TIMEOUT_SECONDS",
        default_value = "10",
        value_parser = values::duration(TimeUnit::Seconds, 1),
        help = "longest a request body may take to arrive; a slower one gets 408 and the \
                connection is closed (a body no handler reads is cut a second later)"
    )]
    pub body_read_timeout: Duration,

    #[arg(
        long,
        env = "SEND_TIMEOUT_SECONDS",
        default_value = "30",
        value_parser = values::duration(TimeUnit::Seconds, 1),
        help = "longest a client may leave a response unread (no byte of it taken) before the \
                connection is abandoned"
    )]
    pub send_timeout: Duration,

    #[arg(
        long,
        env = "STALE_AFTER_DAYS",
        default_value = "3",
        value_parser = values::whole_number(1u32),
        help = "a tenant whose newest report is older than this many days is stale \
                (GET {base}/tenants, the dashboard, /metrics)"
    )]
    pub stale_after_days: u32,

    #[arg(
        long,
        env = "RATE_LIMIT_PER_SECOND",
        default_value = "1000",
        value_parser = values::whole_number(0u32),
        help = "requests per second per token (0: no limit); 429 beyond"
    )]
    pub rate_limit_per_second: u32,

    #[arg(
        long,
        env = "RATE_LIMIT_BURST",
        value_parser = values::whole_number(std::num::NonZeroU32::MIN),
        help = "requests a token may make at once after a quiet spell; unset, twice the rate"
    )]
    pub rate_limit_burst: Option<std::num::NonZeroU32>,

    #[arg(
        long,
        env = "AUTH_FAILURE_LIMIT",
        default_value = "20",
        value_parser = values::whole_number(0u32),
        help = "failed authentications per client address and window before 429 (0: no limit)"
    )]
    pub auth_failure_limit: u32,

    #[arg(
        long,
        env = "AUTH_FAILURE_WINDOW_SECONDS",
        default_value = "10",
        value_parser = values::duration(TimeUnit::Seconds, 1),
        help = "the window of `AUTH_FAILURE_LIMIT`"
    )]
    pub auth_failure_window: Duration,

    #[arg(
        long,
        env = "PUBLIC_BASE_URL",
        help = "the origin links (`@odata.nextLink`, `Location`) are built from, e.g. \
                `https://reports.example.com`; unset, the request's own host"
    )]
    pub public_base_url: Option<String>,

    #[arg(
        long,
        env = "TRUSTED_PROXIES",
        help = "addresses or CIDR blocks whose `Forwarded`/`X-Forwarded-*` headers are believed; \
                unset, none"
    )]
    pub trusted_proxies: Option<String>,

    #[arg(
        long,
        env = "TOKEN_CACHE_SECONDS",
        default_value = "5",
        value_parser = values::duration(TimeUnit::Seconds, 0),
        help = "how long a replica trusts a verified token (the longest a revocation takes)"
    )]
    pub token_cache_ttl: Duration,

    #[arg(
        long,
        env = "METRICS_TOKEN",
        value_parser = |text: &str| Ok::<_,
        String>(Secret::new(text)),
        help = "when set, `GET /metrics` requires `Authorization: Bearer <it>`"
    )]
    pub metrics_token: Option<Secret>,

    #[arg(
        long,
        env = "METRICS_TENANT_SERIES",
        default_value = "1000",
        value_parser = values::whole_number(0usize),
        help = "most tenants given a report-age series on `/metrics` (the stalest); the rest are \
                counted in `teams_usage_store_tenant_report_age_omitted`"
    )]
    pub metrics_tenant_series: usize,

    #[arg(
        long,
        env = "INGEST_BATCH_ROWS",
        default_value = "256",
        value_parser = values::whole_number(1usize),
        help = "most rows committed in one group-commit transaction"
    )]
    pub ingest_batch_rows: usize,

    #[arg(
        long,
        env = "INGEST_BATCH_WAIT_MS",
        default_value = "0",
        value_parser = values::duration(TimeUnit::Milliseconds, 0),
        help = "longest a batch waits under load for rows it expects (0: commit what is queued \
                at once)"
    )]
    pub ingest_batch_wait: Duration,

    #[arg(
        long,
        env = "INGEST_QUEUE_ROWS",
        default_value = "4096",
        value_parser = values::whole_number(1usize),
        help = "rows waiting for a transaction at most; 503 with `Retry-After` beyond"
    )]
    pub ingest_queue_rows: usize,

    #[arg(
        long,
        env = "INGEST_WRITERS",
        value_parser = values::whole_number(1usize),
        help = "transactions in flight at once; unset, 1 on SQLite and 2 on Postgres"
    )]
    pub ingest_writers: Option<usize>,

    #[command(flatten)]
    pub collect: CollectVariables,
}

/// The collector's variables (docs/collect.md).
#[derive(Args)]
pub struct CollectVariables {
    #[arg(
        long,
        env = "GRAPH_TENANT_ID",
        help = "the Entra ID tenant to collect from (one source; docs/collect.md); unset, \
                nothing is collected"
    )]
    pub graph_tenant_id: Option<String>,

    #[arg(
        long,
        env = "GRAPH_CLIENT_ID",
        help = "the app registration's client id"
    )]
    pub graph_client_id: Option<String>,

    // Secrets stay strings until `env:`/`file:` is resolved (config/collect.rs);
    // this struct has no `Debug`, so they are never printed.
    #[arg(
        long,
        env = "GRAPH_CLIENT_SECRET",
        help = "its client secret: the value, `env:NAME` or `file:PATH`"
    )]
    pub graph_client_secret: Option<String>,

    #[arg(
        long,
        env = "GRAPH_CLIENT_CERTIFICATE",
        help = "a PEM certificate instead of a secret (value, `env:NAME` or `file:PATH`)"
    )]
    pub graph_client_certificate: Option<String>,

    #[arg(
        long,
        env = "GRAPH_CLIENT_PRIVATE_KEY",
        help = "the certificate's PEM private key (value, `env:NAME` or `file:PATH`)"
    )]
    pub graph_client_private_key: Option<String>,

    #[arg(
        long,
        env = "COLLECT_TENANT",
        default_value = "default",
        value_parser = values::tenant,
        help = "the tenant of this service that receives the collected rows"
    )]
    pub collect_tenant: TenantId,

    // Spelled out so clap reads the whole list as one value, not one value per occurrence.
    #[arg(
        long,
        env = "COLLECT_PERIODS",
        default_value = "D7,D30,D90,D180",
        value_parser = values::periods,
        help = "the report periods collected"
    )]
    pub collect_periods: ::std::vec::Vec<ReportPeriod>,

    #[arg(
        long,
        env = "GRAPH_API_VERSION",
        default_value = "beta",
        value_parser = values::api_version,
        help = "`beta` (with the Chrome OS and Linux columns) or `v1.0`"
    )]
    pub graph_api_version: ApiVersion,

    #[arg(
        long,
        env = "COLLECT_SOURCES",
        help = "a JSON file of several sources; the `GRAPH_*` source variables are then ignored"
    )]
    pub collect_sources: Option<PathBuf>,

    #[arg(
        long,
        env = "COLLECT_EVERY",
        value_parser = values::interval,
        help = "`serve` collects once when ready, then every interval (`30m`, `6h`, `1d`); one \
                replica per interval"
    )]
    pub collect_every: Option<Duration>,

    #[arg(
        long,
        env = "COLLECT_ON_CONFLICT",
        default_value = "keep",
        value_parser = values::conflict_policy,
        help = "when Graph restates a stored date with other counts: `keep` the stored row or \
                `replace` it"
    )]
    pub collect_on_conflict: ConflictPolicy,

    #[arg(
        long,
        env = "COLLECT_RETRY_BASE_MS",
        default_value = "2000",
        value_parser = values::duration(TimeUnit::Milliseconds, 0),
        help = "first wait before retrying a 429 or 5xx without `Retry-After`, doubled each time"
    )]
    pub collect_retry_base: Duration,

    #[arg(
        long,
        env = "GRAPH_BASE_URL",
        default_value = "https://graph.microsoft.com",
        value_parser = values::http_url,
        help = "Microsoft Graph's host (national clouds)"
    )]
    pub graph_base_url: String,

    #[arg(
        long,
        env = "GRAPH_LOGIN_URL",
        default_value = "https://login.microsoftonline.com",
        value_parser = values::http_url,
        help = "Entra ID's token host (national clouds)"
    )]
    pub graph_login_url: String,
}

impl Environment {
    fn command() -> Command {
        Self::augment_args(
            Command::new("environment")
                .no_binary_name(true)
                .disable_help_flag(true),
        )
    }

    /// The variables `get` gives, trimmed (unset and blank alike fall to the
    /// default); a bad value is a one-line error naming its variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let command = Self::command();
        let given: Vec<String> = command
            .get_arguments()
            .filter_map(|arg| {
                let long = arg.get_long()?;
                let value = get(arg.get_env()?.to_str()?)?;
                let value = value.trim();
                (!value.is_empty()).then(|| format!("--{long}={value}"))
            })
            .collect();
        // What `get` does not give takes its default, never clap's own reading of the process.
        let matches = command
            .clone()
            .mut_args(|arg| arg.env(None))
            .try_get_matches_from(given)
            .map_err(|error| explain(&error, &command))?;
        Self::from_arg_matches(&matches).map_err(|error| explain(&error, &command))
    }
}

/// clap's error as one line naming the variable (clap names the flag).
fn explain(error: &clap::Error, command: &Command) -> String {
    // Built, the arguments print as clap's errors name them (`--port <PORT>`).
    let mut command = command.clone();
    command.build();
    let variable = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(flag)) => command
            .get_arguments()
            .find(|arg| arg.to_string() == *flag)
            .and_then(|arg| arg.get_env()),
        _ => None,
    };
    match (variable, std::error::Error::source(error)) {
        (Some(name), Some(reason)) => format!("{} {reason}", name.to_string_lossy()),
        _ => error
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// One declared variable, as the help and the README show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    /// `None`: unset unless given; the meaning says what that does.
    pub default: Option<String>,
    pub meaning: String,
}

/// Every variable, in the order declared.
pub fn variables() -> Vec<Variable> {
    Environment::command()
        .get_arguments()
        .filter_map(|arg| {
            Some(Variable {
                name: arg.get_env()?.to_str()?.to_owned(),
                default: arg
                    .get_default_values()
                    .first()
                    .and_then(|v| v.to_str())
                    .map(str::to_owned),
                meaning: arg.get_help()?.to_string(),
            })
        })
        .collect()
}

/// The variables, for `serve --help`.
pub fn help_text() -> String {
    let variables = variables();
    let width = variables.iter().map(|v| v.name.len()).max().unwrap_or(0);
    let mut text = String::from(
        "Environment variables (also read from a .env file in the working directory; the environment wins):\n",
    );
    for variable in &variables {
        text.push_str(&format!(
            "  {:width$}  {} [default: {}]\n",
            variable.name,
            variable.meaning.replace('`', ""),
            variable.default.as_deref().unwrap_or("unset")
        ));
    }
    text
}

/// The README's configuration table, exactly.
pub fn markdown_table() -> String {
    let mut text = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for variable in variables() {
        let default = match variable.default {
            Some(value) => format!("`{value}`"),
            None => "unset".to_owned(),
        };
        text.push_str(&format!(
            "| `{}` | {default} | {} |\n",
            variable.name, variable.meaning
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn repository_file(name: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
            .unwrap()
    }

    #[test]
    fn the_readme_table_is_the_declaration() {
        let readme = repository_file("README.md");
        assert!(
            readme.contains(&markdown_table()),
            "README.md's configuration table differs from the declared variables; it should read:\n{}",
            markdown_table()
        );
    }

    #[test]
    fn env_example_names_every_variable_with_its_default() {
        let example = repository_file(".env.example");
        let variables = variables();
        let mut found = BTreeMap::new();
        for line in example.lines() {
            let (commented, line) = match line.strip_prefix('#') {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                continue;
            }
            let Some(variable) = variables.iter().find(|v| v.name == name) else {
                panic!(".env.example names {name}, which the service does not read");
            };
            match &variable.default {
                // A commented alternative (a second DATABASE_URL) is fine.
                Some(default) if !commented => assert_eq!(
                    value, default,
                    ".env.example sets {name}={value}, the default is {default}"
                ),
                None => assert!(
                    commented,
                    ".env.example pins {name}, which has no default: leave it commented out"
                ),
                Some(_) => {}
            }
            found.entry(name.to_owned()).or_insert(commented);
        }
        for variable in &variables {
            assert!(
                found.contains_key(&variable.name),
                ".env.example does not mention {}",
                variable.name
            );
        }
    }

    #[test]
    fn names_are_unique_and_every_variable_is_explained() {
        let variables = variables();
        assert!(variables.len() >= 36, "{variables:?}");
        let help = help_text();
        for (i, variable) in variables.iter().enumerate() {
            assert!(variables[..i].iter().all(|v| v.name != variable.name));
            assert!(!variable.meaning.is_empty());
            assert!(help.contains(&variable.name));
        }
    }

    #[test]
    fn only_the_lookup_is_read_and_blank_is_unset() {
        let from = |vars: &'static [(&'static str, &'static str)]| {
            Environment::from_lookup(move |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
        };
        let defaults = from(&[]).unwrap();
        assert_eq!(defaults.port, 8080);
        assert_eq!(defaults.collect.collect_periods, ReportPeriod::ALL.to_vec());
        let given = from(&[("PORT", " 9000 "), ("HOST", "  "), ("METRICS_TOKEN", "")]).unwrap();
        assert_eq!((given.port, given.host.as_str()), (9000, "127.0.0.1"));
        assert!(given.metrics_token.is_none());
    }

    #[test]
    fn a_bad_value_is_one_line_naming_the_variable() {
        let error = |name: &'static str, value: &'static str| {
            Environment::from_lookup(move |n| (n == name).then(|| value.to_owned()))
                .err()
                .unwrap_or_else(|| panic!("{name}={value} was accepted"))
        };
        assert_eq!(
            error("PORT", "http"),
            "PORT must be a number from 0 to 65535, got \"http\""
        );
        assert_eq!(
            error("INGEST_WRITERS", "0"),
            "INGEST_WRITERS must be a whole number from 1, got \"0\""
        );
        assert!(
            error("COLLECT_EVERY", "6").starts_with("COLLECT_EVERY must be a number and a unit")
        );
        assert!(error("COLLECT_PERIODS", "D8").starts_with("COLLECT_PERIODS must be"));
        assert!(error("GRAPH_BASE_URL", "graph").starts_with("GRAPH_BASE_URL must be a URL"));
        assert!(!error("HEADER_READ_TIMEOUT_SECONDS", "0").contains('\n'));
    }
}
