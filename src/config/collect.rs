//! The collector's sources, from its variables or the `COLLECT_SOURCES` file,
//! into `collect::CollectSettings`; secrets given as `env:NAME` or
//! `file:PATH` are read here, so the collector receives only values.

use std::path::Path;

use serde::Deserialize;

use super::environment::CollectVariables;
use super::values;
use crate::collect::{CollectSettings, Credential, RetryPolicy, Source};
use crate::domain::Secret;

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

/// `Ok(None)` when no source is configured. `var` reads the variables that
/// `env:NAME` secrets name.
pub(super) fn collect_settings(
    vars: CollectVariables,
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<CollectSettings>, String> {
    let sources = if let Some(path) = &vars.collect_sources {
        read_sources_file(path, var, &vars)?
    } else if let Some(graph_tenant) = &vars.graph_tenant_id {
        let entry = SourceEntry {
            name: None,
            graph_tenant_id: graph_tenant.clone(),
            client_id: vars
                .graph_client_id
                .clone()
                .ok_or("GRAPH_CLIENT_ID must be set when GRAPH_TENANT_ID is")?,
            client_secret: vars.graph_client_secret.clone(),
            certificate: vars.graph_client_certificate.clone(),
            private_key: vars.graph_client_private_key.clone(),
            tenant: None,
            periods: None,
            api_version: None,
        };
        vec![source(entry, var, &vars).map_err(|e| format!("GRAPH_*: {e}"))?]
    } else {
        if vars.collect_every.is_some() {
            return Err(
                "COLLECT_EVERY is set but no source is: set GRAPH_TENANT_ID, GRAPH_CLIENT_ID \
                 and GRAPH_CLIENT_SECRET, or COLLECT_SOURCES"
                    .into(),
            );
        }
        return Ok(None);
    };
    Ok(Some(CollectSettings {
        sources,
        graph_url: vars.graph_base_url,
        login_url: vars.graph_login_url,
        every: vars.collect_every,
        on_conflict: vars.collect_on_conflict,
        retry: RetryPolicy::with_base(vars.collect_retry_base),
    }))
}

fn read_sources_file(
    path: &Path,
    var: &impl Fn(&str) -> Option<String>,
    vars: &CollectVariables,
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
        let source =
            source(entry, var, vars).map_err(|e| format!("{where_}: source {}: {e}", index + 1))?;
        if sources.iter().any(|s| s.name == source.name) {
            return Err(format!("{where_}: two sources are named {:?}", source.name));
        }
        sources.push(source);
    }
    Ok(sources)
}

/// One source; what the entry leaves out comes from the `COLLECT_*` variables.
fn source(
    entry: SourceEntry,
    var: &impl Fn(&str) -> Option<String>,
    vars: &CollectVariables,
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
    let target_tenant = match entry.tenant {
        None => vars.collect_tenant.clone(),
        Some(text) => values::tenant(text.trim()).map_err(|e| format!("target tenant {e}"))?,
    };
    let periods = match entry.periods {
        None => vars.collect_periods.clone(),
        Some(text) => values::periods(text.trim()).map_err(|e| format!("periods {e}"))?,
    };
    let api_version = match entry.api_version {
        None => vars.graph_api_version,
        Some(text) => values::api_version(text.trim()).map_err(|e| format!("API version {e}"))?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environment::Environment;
    use crate::domain::{ApiVersion, ReportPeriod};
    use crate::storage::ConflictPolicy;

    fn settings(vars: &[(&str, &str)]) -> Result<Option<CollectSettings>, String> {
        let var = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        collect_settings(Environment::from_lookup(var)?.collect, &var)
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
        assert_eq!(s.graph_url, "https://graph.microsoft.com");
        assert_eq!(s.on_conflict, ConflictPolicy::Keep);
        assert_eq!(s.every, None);
        assert_eq!(
            s.retry,
            RetryPolicy::with_base(std::time::Duration::from_secs(2))
        );
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn a_source_file_entry_falls_back_to_the_variables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sources.json");
        std::fs::write(
            &path,
            r#"{"sources": [
                {"graph_tenant_id": "a.example", "client_id": "x", "client_secret": "env:SECRET_A"},
                {"graph_tenant_id": "b.example", "client_id": "y", "client_secret": "s",
                 "tenant": "b", "periods": "D7", "api_version": "v1.0"}
            ]}"#,
        )
        .unwrap();
        let path = path.to_str().unwrap();
        let s = settings(&[
            ("COLLECT_SOURCES", path),
            ("COLLECT_PERIODS", "D30"),
            ("SECRET_A", "from-env"),
        ])
        .unwrap()
        .unwrap();
        let [a, b] = &s.sources[..] else {
            panic!("{s:?}")
        };
        assert_eq!(
            (a.target_tenant.as_str(), &a.periods[..]),
            ("default", &[ReportPeriod::D30][..])
        );
        assert!(matches!(&a.credential, Credential::Secret(s) if s.expose() == "from-env"));
        assert_eq!(
            (b.target_tenant.as_str(), &b.periods[..], b.api_version),
            ("b", &[ReportPeriod::D7][..], ApiVersion::V1)
        );
        let error = settings(&[("COLLECT_SOURCES", path)]).unwrap_err();
        assert!(
            error.contains("source 1: client secret: the variable SECRET_A is not set"),
            "{error}"
        );
    }

    #[test]
    fn secrets_are_read_from_variables_and_files() {
        let vars = |name: &str| (name == "SECRET_A").then(|| "from-env".to_owned());
        assert_eq!(resolve("env:SECRET_A", &vars).unwrap(), "from-env");
        assert!(resolve("env:MISSING", &vars).is_err());
        assert_eq!(resolve("plain", &vars).unwrap(), "plain");
    }
}
