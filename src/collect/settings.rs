//! What the collector is configured with: its sources (one from the
//! environment, or several from the `COLLECT_SOURCES` file), the Graph and
//! login hosts, the schedule, the retry budget and the conflict policy.
//! `config.rs` reads the environment into these through `from_lookup`.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

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

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base: Duration::from_secs(2),
            max_wait: Duration::from_secs(120),
        }
    }
}

pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";

/// A source as the `COLLECT_SOURCES` file writes it (JSON). No `Debug`: it
/// holds secrets as given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct SourceEntry {
    name: Option<String>,
    graph_tenant_id: String,
    client_id: String,
    client_secret: Option<String>,
    certificate: Option<String>,
    private_key: Option<String>,
    tenant: Option<String>,
    periods: Option<String>,
    api_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    sources: Vec<SourceEntry>,
}

impl CollectSettings {
    /// Reads the collector's variables through `var` (unset and blank alike
    /// are `None`). `Ok(None)` when no source is configured.
    pub fn from_lookup(var: &impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let defaults = Defaults {
            tenant: var("COLLECT_TENANT"),
            periods: var("COLLECT_PERIODS"),
            api_version: var("GRAPH_API_VERSION"),
        };
        let sources = if let Some(path) = var("COLLECT_SOURCES") {
            read_sources_file(Path::new(path.trim()), var, &defaults)?
        } else if let Some(graph_tenant) = var("GRAPH_TENANT_ID") {
            let entry = SourceEntry {
                name: None,
                graph_tenant_id: graph_tenant,
                client_id: var("GRAPH_CLIENT_ID")
                    .ok_or("GRAPH_CLIENT_ID must be set when GRAPH_TENANT_ID is")?,
                client_secret: var("GRAPH_CLIENT_SECRET"),
                certificate: var("GRAPH_CLIENT_CERTIFICATE"),
                private_key: var("GRAPH_CLIENT_PRIVATE_KEY"),
                tenant: None,
                periods: None,
                api_version: None,
            };
            vec![source(entry, var, &defaults).map_err(|e| format!("GRAPH_*: {e}"))?]
        } else {
            if var("COLLECT_EVERY").is_some() {
                return Err(
                    "COLLECT_EVERY is set but no source is: set GRAPH_TENANT_ID, GRAPH_CLIENT_ID \
                     and GRAPH_CLIENT_SECRET, or COLLECT_SOURCES"
                        .into(),
                );
            }
            return Ok(None);
        };
        let base_ms = match var("COLLECT_RETRY_BASE_MS") {
            None => RetryPolicy::default().base,
            Some(v) => Duration::from_millis(v.trim().parse().map_err(|_| {
                format!("COLLECT_RETRY_BASE_MS must be a whole number of milliseconds, got {v:?}")
            })?),
        };
        Ok(Some(Self {
            sources,
            graph_url: url_setting(var, "GRAPH_BASE_URL", DEFAULT_GRAPH_URL)?,
            login_url: url_setting(var, "GRAPH_LOGIN_URL", DEFAULT_LOGIN_URL)?,
            every: var("COLLECT_EVERY")
                .map(|v| parse_interval(&v).map_err(|e| format!("COLLECT_EVERY {e}")))
                .transpose()?,
            on_conflict: match var("COLLECT_ON_CONFLICT").as_deref().map(str::trim) {
                None | Some("keep") => ConflictPolicy::Keep,
                Some("replace") => ConflictPolicy::Replace,
                Some(other) => {
                    return Err(format!(
                        "COLLECT_ON_CONFLICT must be keep or replace, got {other:?}"
                    ))
                }
            },
            retry: RetryPolicy {
                base: base_ms,
                ..RetryPolicy::default()
            },
        }))
    }
}

struct Defaults {
    tenant: Option<String>,
    periods: Option<String>,
    api_version: Option<String>,
}

fn url_setting(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: &str,
) -> Result<String, String> {
    let value = var(name).unwrap_or_else(|| default.into());
    let parsed = url::Url::parse(value.trim()).map_err(|e| format!("{name} must be a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{name} must be an http(s) URL, got {value:?}"));
    }
    Ok(value.trim().trim_end_matches('/').to_owned())
}

fn read_sources_file(
    path: &Path,
    var: &impl Fn(&str) -> Option<String>,
    defaults: &Defaults,
) -> Result<Vec<Source>, String> {
    let where_ = format!("COLLECT_SOURCES ({})", path.display());
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{where_}: cannot read it: {e}"))?;
    let file: SourcesFile =
        serde_json::from_str(&text).map_err(|e| format!("{where_}: not a sources file: {e}"))?;
    if file.sources.is_empty() {
        return Err(format!("{where_}: lists no sources"));
    }
    let mut sources: Vec<Source> = Vec::new();
    for (index, entry) in file.sources.into_iter().enumerate() {
        let source = source(entry, var, defaults)
            .map_err(|e| format!("{where_}: source {}: {e}", index + 1))?;
        if sources.iter().any(|s| s.name == source.name) {
            return Err(format!("{where_}: two sources are named {:?}", source.name));
        }
        sources.push(source);
    }
    Ok(sources)
}

fn source(
    entry: SourceEntry,
    var: &impl Fn(&str) -> Option<String>,
    defaults: &Defaults,
) -> Result<Source, String> {
    let credential = match (entry.client_secret, entry.certificate, entry.private_key) {
        (Some(secret), None, None) => Credential::Secret(Secret::new(
            resolve(&secret, var).map_err(|e| format!("client secret: {e}"))?,
        )),
        (None, Some(certificate), Some(key)) => Credential::Certificate {
            certificate_pem: resolve(&certificate, var).map_err(|e| format!("certificate: {e}"))?,
            private_key_pem: Secret::new(
                resolve(&key, var).map_err(|e| format!("private key: {e}"))?,
            ),
        },
        _ => {
            return Err(
                "give a client secret, or a certificate and its private key (not both)".into(),
            )
        }
    };
    let tenant = entry
        .tenant
        .or_else(|| defaults.tenant.clone())
        .unwrap_or_else(|| "default".into());
    let target_tenant =
        TenantId::parse(tenant.trim()).map_err(|e| format!("target tenant: {e}"))?;
    let periods = match entry.periods.as_ref().or(defaults.periods.as_ref()) {
        None => ReportPeriod::ALL.to_vec(),
        Some(list) => parse_periods(list)?,
    };
    let api_version = match entry.api_version.as_ref().or(defaults.api_version.as_ref()) {
        None => ApiVersion::Beta,
        Some(v) => ApiVersion::from_segment(v.trim())
            .ok_or_else(|| format!("API version must be beta or v1.0, got {:?}", v.trim()))?,
    };
    let graph_tenant = entry.graph_tenant_id.trim().to_owned();
    // A tenant id is a GUID or a domain name: nothing that could bend the token URL.
    if graph_tenant.is_empty()
        || !graph_tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
    {
        return Err(format!(
            "the Graph tenant id must be a GUID or a domain name, got {graph_tenant:?}"
        ));
    }
    Ok(Source {
        name: entry
            .name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("{graph_tenant}->{target_tenant}")),
        graph_tenant,
        client_id: entry.client_id.trim().to_owned(),
        credential,
        target_tenant,
        periods,
        api_version,
    })
}

/// A secret given by value, `env:NAME` or `file:PATH`.
fn resolve(value: &str, var: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    if let Some(name) = value.strip_prefix("env:") {
        var(name.trim()).ok_or_else(|| format!("the variable {} is not set", name.trim()))
    } else if let Some(path) = value.strip_prefix("file:") {
        std::fs::read_to_string(path.trim())
            .map(|text| text.trim().to_owned())
            .map_err(|e| format!("cannot read {}: {e}", path.trim()))
    } else {
        Ok(value.to_owned())
    }
}

/// `D7,D30` (comma-separated, each once).
pub fn parse_periods(list: &str) -> Result<Vec<ReportPeriod>, String> {
    let mut periods = Vec::new();
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let period = ReportPeriod::from_function_arg(item)
            .ok_or_else(|| format!("periods: {item:?} is not one of D7, D30, D90, D180"))?;
        if !periods.contains(&period) {
            periods.push(period);
        }
    }
    if periods.is_empty() {
        return Err("periods: none given".into());
    }
    Ok(periods)
}

/// `6h`, `30m`, `1d`, `90s`: a whole number and a unit.
pub fn parse_interval(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("must be a number and a unit (s, m, h, d), got {value:?}"))?;
    let seconds = match unit.trim() {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(format!(
                "must be a number and a unit (s, m, h, d), got {value:?}"
            ))
        }
    };
    if seconds == 0 {
        return Err(format!("must be longer than zero, got {value:?}"));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Option<CollectSettings>, String> {
        CollectSettings::from_lookup(&|name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn nothing_configured_is_no_collector() {
        assert!(settings(&[]).unwrap().is_none());
        assert!(settings(&[("COLLECT_EVERY", "6h")])
            .unwrap_err()
            .contains("no source"));
    }

    #[test]
    fn one_source_from_the_environment_has_the_documented_defaults() {
        let s = settings(&[
            ("GRAPH_TENANT_ID", "contoso.onmicrosoft.com"),
            ("GRAPH_CLIENT_ID", "app"),
            ("GRAPH_CLIENT_SECRET", "hunter2-secret"),
        ])
        .unwrap()
        .unwrap();
        let source = &s.sources[0];
        assert_eq!(source.target_tenant.as_str(), "default");
        assert_eq!(source.periods, ReportPeriod::ALL.to_vec());
        assert_eq!(source.api_version, ApiVersion::Beta);
        assert_eq!(s.graph_url, DEFAULT_GRAPH_URL);
        assert_eq!(s.on_conflict, ConflictPolicy::Keep);
        assert_eq!(s.every, None);
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn intervals_and_periods_are_checked() {
        assert_eq!(parse_interval("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_interval("90s"), Ok(Duration::from_secs(90)));
        assert!(parse_interval("0h").is_err());
        assert!(parse_interval("6 hours").is_err());
        assert_eq!(
            parse_periods("D7, D90").unwrap(),
            vec![ReportPeriod::D7, ReportPeriod::D90]
        );
        assert!(parse_periods("D8").is_err());
    }

    #[test]
    fn secrets_are_read_from_variables_and_files() {
        let vars = |name: &str| (name == "SECRET_A").then(|| "from-env".to_owned());
        assert_eq!(resolve("env:SECRET_A", &vars).unwrap(), "from-env");
        assert!(resolve("env:MISSING", &vars).is_err());
        assert_eq!(resolve("plain", &vars).unwrap(), "plain");
    }
}
