//! A consistent copy of a SQLite database, taken while the service runs.
//! `VACUUM INTO` reads one snapshot (WAL included) on a read-only connection
//! of its own, so writers are never blocked and no database is created.

use std::path::Path;

use anyhow::Context;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::SqliteStore;

impl SqliteStore {
    /// Copies the database at `url` into `dest`, which must not exist yet.
    pub async fn back_up(url: &str, dest: &Path) -> anyhow::Result<()> {
        // Refused rather than overwritten: an old backup is never lost to a typo.
        if dest.exists() {
            anyhow::bail!("{} already exists; name a new file", dest.display());
        }
        let options: SqliteConnectOptions = url
            .parse()
            .with_context(|| format!("DATABASE_URL {url} is not a SQLite URL"))?;
        if !options.get_filename().is_file() {
            anyhow::bail!("no database at {}", options.get_filename().display());
        }
        let mut connection = options
            .read_only(true)
            .connect()
            .await
            .with_context(|| format!("cannot open {url}"))?;
        let target = dest
            .to_str()
            .context("the backup path must be valid UTF-8")?
            .to_owned();
        let result = sqlx::query("VACUUM INTO ?")
            .bind(&target)
            .execute(&mut connection)
            .await;
        connection.close().await.ok();
        result.with_context(|| format!("cannot write {}", dest.display()))?;
        Ok(())
    }
}
