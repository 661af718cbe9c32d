//! `backup DEST`: a consistent copy of a SQLite database, taken by storage
//! while the service runs. Postgres is backed up with its own tools.

use std::path::Path;

use crate::config::{DatabaseUrl, Settings};
use crate::storage::SqliteStore;

pub async fn run(dest: &Path, settings: &Settings) -> anyhow::Result<()> {
    if let DatabaseUrl::Postgres(_) = &settings.database_url {
        anyhow::bail!(
            "backup copies SQLite databases; for Postgres use pg_dump -Fc (and pg_restore), see docs/deployment.md"
        );
    }
    eprintln!("{}", super::database_line(&settings.database_url, false));
    SqliteStore::back_up(settings.database_url.expose(), dest).await?;
    eprintln!("backed up to {}", dest.display());
    Ok(())
}
