//! One typed `Settings`, read from the environment (and `.env`, loaded by main).

use std::fmt;

/// Where the rows live; the scheme picks the backend.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub const DEFAULT: &'static str = "sqlite://data/teams-usage-store.db";

    pub fn parse(url: &str) -> Result<Self, String> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Self::Sqlite(url.to_owned())),
            "postgres" | "postgresql" => Ok(Self::Postgres(url.to_owned())),
            _ => Err(format!(
                "DATABASE_URL must start with sqlite:// or postgres://, got {:?}",
                redact(url)
            )),
        }
    }

    /// The full URL, password included: only for connecting.
    pub fn expose(&self) -> &str {
        match self {
            Self::Sqlite(url) | Self::Postgres(url) => url,
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// The URL with any password replaced, for logs and messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(self.expose()))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(self.expose()))
    }
}

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
        Ok(Self {
            database_url: DatabaseUrl::parse(
                &var("DATABASE_URL").unwrap_or_else(|| DatabaseUrl::DEFAULT.into()),
            )?,
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
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db/reports").unwrap();
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        assert_eq!(url.expose(), "postgres://app:hunter2@db/reports");
    }
}
