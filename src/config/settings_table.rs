//! Every setting the service reads, once: name, default and meaning. `serve
//! --help` is generated from it, and tests hold `.env.example`, the README's
//! table and `Settings`' own defaults to it, so they cannot drift apart.

/// What a setting is when it is not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default {
    /// This literal value.
    Value(&'static str),
    /// Computed from other settings or the backend, as described; never pinned in `.env.example`.
    Derived(&'static str),
}

/// One environment variable.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    pub name: &'static str,
    pub default: Default,
    pub meaning: &'static str,
}

const fn value(name: &'static str, default: &'static str, meaning: &'static str) -> SettingSpec {
    SettingSpec {
        name,
        default: Default::Value(default),
        meaning,
    }
}

const fn derived(name: &'static str, default: &'static str, meaning: &'static str) -> SettingSpec {
    SettingSpec {
        name,
        default: Default::Derived(default),
        meaning,
    }
}

pub const SETTINGS: &[SettingSpec] = &[
    value("DATABASE_URL", "sqlite://data/teams-usage-store.db", "`sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`; picks the backend"),
    value("HOST", "127.0.0.1", "address to listen on (`0.0.0.0` in a container)"),
    value("PORT", "8080", "port to listen on (0 picks a free one)"),
    value("RUST_LOG", "info", "log filter, e.g. `warn` or `info,sqlx=warn`; at `info` every request has one access line; an invalid filter stops start-up"),
    value("LOG_FORMAT", "text", "`text` (readable lines) or `json` (one JSON object per line, for Loki, Elasticsearch, CloudWatch)"),
    value("HEADER_READ_TIMEOUT_SECONDS", "5", "longest a request line and headers may take to arrive (from the connection's start, or from the head's first byte); a slower head gets 408 and the connection is closed"),
    value("BODY_LIMIT_BYTES", "65536", "largest request body; larger ones get 413"),
    value("BATCH_BODY_LIMIT_BYTES", "1048576", "largest `$batch` body"),
    value("BODY_READ_TIMEOUT_SECONDS", "10", "longest a request body may take to arrive; a slower one gets 408 and the connection is closed (a body no handler reads is cut a second later)"),
    value("SEND_TIMEOUT_SECONDS", "30", "longest a client may leave a response unread (no byte of it taken) before the connection is abandoned"),
    value("RATE_LIMIT_PER_SECOND", "1000", "requests per second per token (0: no limit); 429 beyond"),
    derived("RATE_LIMIT_BURST", "twice the rate", "requests a token may make at once after a quiet spell"),
    value("AUTH_FAILURE_LIMIT", "20", "failed authentications per client address and window before 429 (0: no limit)"),
    value("AUTH_FAILURE_WINDOW_SECONDS", "10", "the window of `AUTH_FAILURE_LIMIT`"),
    derived("PUBLIC_BASE_URL", "unset", "the origin links (`@odata.nextLink`, `Location`) are built from, e.g. `https://reports.example.com`; unset, the request's own host"),
    derived("TRUSTED_PROXIES", "unset", "addresses or CIDR blocks whose `Forwarded`/`X-Forwarded-*` headers are believed; unset, none"),
    value("TOKEN_CACHE_SECONDS", "5", "how long a replica trusts a verified token (the longest a revocation takes)"),
    derived("METRICS_TOKEN", "unset", "when set, `GET /metrics` requires `Authorization: Bearer <it>`"),
    value("INGEST_BATCH_ROWS", "256", "most rows committed in one group-commit transaction"),
    value("INGEST_BATCH_WAIT_MS", "0", "longest a batch waits under load for rows it expects (0: commit what is queued at once)"),
    value("INGEST_QUEUE_ROWS", "4096", "rows waiting for a transaction at most; 503 with `Retry-After` beyond"),
    derived("INGEST_WRITERS", "1 (SQLite), 2 (Postgres)", "transactions in flight at once"),
    derived("GRAPH_TENANT_ID", "unset", "the Entra ID tenant to collect from (one source; docs/collect.md); unset, nothing is collected"),
    derived("GRAPH_CLIENT_ID", "unset", "the app registration's client id"),
    derived("GRAPH_CLIENT_SECRET", "unset", "its client secret: the value, `env:NAME` or `file:PATH`"),
    derived("GRAPH_CLIENT_CERTIFICATE", "unset", "a PEM certificate instead of a secret (value, `env:NAME` or `file:PATH`)"),
    derived("GRAPH_CLIENT_PRIVATE_KEY", "unset", "the certificate's PEM private key (value, `env:NAME` or `file:PATH`)"),
    value("COLLECT_TENANT", "default", "the tenant of this service that receives the collected rows"),
    value("COLLECT_PERIODS", "D7,D30,D90,D180", "the report periods collected"),
    value("GRAPH_API_VERSION", "beta", "`beta` (with the Chrome OS and Linux columns) or `v1.0`"),
    derived("COLLECT_SOURCES", "unset", "a JSON file of several sources; the `GRAPH_*` source variables are then ignored"),
    derived("COLLECT_EVERY", "unset", "`serve` collects once when ready, then every interval (`30m`, `6h`, `1d`); one replica per interval"),
    value("COLLECT_ON_CONFLICT", "keep", "when Graph restates a stored date with other counts: `keep` the stored row or `replace` it"),
    value("COLLECT_RETRY_BASE_MS", "2000", "first wait before retrying a 429 or 5xx without `Retry-After`, doubled each time"),
    value("GRAPH_BASE_URL", "https://graph.microsoft.com", "Microsoft Graph's host (national clouds)"),
    value("GRAPH_LOGIN_URL", "https://login.microsoftonline.com", "Entra ID's token host (national clouds)"),
];

/// The variables, for `serve --help`.
pub fn help_text() -> String {
    let width = SETTINGS.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut text = String::from(
        "Environment variables (also read from a .env file in the working directory; the environment wins):\n",
    );
    for setting in SETTINGS {
        let default = match setting.default {
            Default::Value(v) => v,
            Default::Derived(d) => d,
        };
        text.push_str(&format!(
            "  {:width$}  {} [default: {default}]\n",
            setting.name,
            setting.meaning.replace('`', "")
        ));
    }
    text
}

/// The README's configuration table, exactly.
pub fn markdown_table() -> String {
    let mut text = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for setting in SETTINGS {
        let default = match setting.default {
            Default::Value(v) => format!("`{v}`"),
            Default::Derived(d) => d.to_owned(),
        };
        text.push_str(&format!(
            "| `{}` | {default} | {} |\n",
            setting.name, setting.meaning
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::Settings;

    fn repository_file(name: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
            .unwrap()
    }

    #[test]
    fn the_readme_table_is_the_settings_table() {
        let readme = repository_file("README.md");
        assert!(
            readme.contains(&markdown_table()),
            "README.md's configuration table differs from SETTINGS; it should read:\n{}",
            markdown_table()
        );
    }

    #[test]
    fn env_example_names_every_setting_with_its_default() {
        let example = repository_file(".env.example");
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
            let setting = SETTINGS.iter().find(|s| s.name == name);
            let Some(setting) = setting else {
                // A commented alternative (a second DATABASE_URL) is fine; an unknown name is not.
                panic!(".env.example names {name}, which the service does not read");
            };
            match setting.default {
                Default::Value(default) if !commented => assert_eq!(
                    value, default,
                    ".env.example sets {name}={value}, the default is {default}"
                ),
                Default::Derived(_) => assert!(
                    commented,
                    ".env.example pins {name}, whose default is derived: leave it commented out"
                ),
                Default::Value(_) => {}
            }
            found.entry(name.to_owned()).or_insert(commented);
        }
        for setting in SETTINGS {
            assert!(
                found.contains_key(setting.name),
                ".env.example does not mention {}",
                setting.name
            );
        }
    }

    #[test]
    fn the_code_defaults_are_the_table_defaults() {
        let unset = Settings::from_lookup(|_| None).unwrap();
        let explicit = Settings::from_lookup(|name| {
            SETTINGS
                .iter()
                .find(|s| s.name == name)
                .and_then(|s| match s.default {
                    Default::Value(v) => Some(v.to_owned()),
                    Default::Derived(_) => None,
                })
        })
        .unwrap();
        assert_eq!(format!("{unset:?}"), format!("{explicit:?}"));
    }

    #[test]
    fn names_are_unique_and_help_lists_them_all() {
        let help = help_text();
        for (i, setting) in SETTINGS.iter().enumerate() {
            assert!(SETTINGS[..i].iter().all(|s| s.name != setting.name));
            assert!(help.contains(setting.name));
        }
    }
}
