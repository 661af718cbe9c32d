//! Which database to use: its URL, whose scheme picks the backend, and which
//! never prints its password.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;

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

    /// The file a SQLite URL names, as connecting reads it (relative to the
    /// working directory when the URL is); `None` on Postgres and for a
    /// database in memory.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let Self::Sqlite(url) = self else {
            return None;
        };
        let options = SqliteConnectOptions::from_str(url).ok()?;
        let file = options.get_filename();
        let in_memory = url.contains("mode=memory")
            || file.to_string_lossy().starts_with("file:sqlx-in-memory-");
        (!in_memory).then(|| file.to_path_buf())
    }
}

/// The URL with any password replaced, for logs and messages: the one
/// before the host, and a `password` (or `sslpassword`) in the query.
fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    let mut changed = false;
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("REDACTED"));
        changed = true;
    }
    let secret = |name: &str| name.to_ascii_lowercase().contains("password");
    if parsed.query_pairs().any(|(name, _)| secret(&name)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if secret(&name) {
                    "REDACTED".to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed {
        parsed.to_string()
    } else {
        url.to_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db/reports").unwrap();
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        assert_eq!(url.expose(), "postgres://app:hunter2@db/reports");
        let url = DatabaseUrl::parse("postgres://app@db/reports?sslmode=require&password=hunter2")
            .unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://app@db/reports?sslmode=require&password=REDACTED"
        );
        let url = DatabaseUrl::parse("postgres://app@db/reports").unwrap();
        assert_eq!(url.to_string(), "postgres://app@db/reports");
    }

    #[test]
    fn a_sqlite_url_names_its_file() {
        let file = |url: &str| DatabaseUrl::parse(url).unwrap().sqlite_file();
        assert_eq!(
            file("sqlite://data/teams-usage-store.db"),
            Some(PathBuf::from("data/teams-usage-store.db"))
        );
        assert_eq!(
            file("sqlite:///var/lib/x/db.sqlite?mode=rwc"),
            Some(PathBuf::from("/var/lib/x/db.sqlite"))
        );
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("postgres://db/reports"), None);
    }
}
