//! The SQLite backend: one file, WAL, a single writer connection and a few readers.

mod backup;
mod checkpoint;
mod dialect;
mod error_codes;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Sqlite;

pub(super) use self::dialect::SqliteDialect;

use self::checkpoint::{Checkpointer, WRITER_CHECKPOINT_PAGES};
use self::error_codes::is_busy;
use super::backend::{Backend, Pools};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits on another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const READERS: u32 = 4;
/// Opens a database that other processes are opening at the same moment may take.
const OPEN_ATTEMPTS: u32 = 8;
/// The writer's page cache, in KiB (SQLite's negative `cache_size`).
const WRITER_CACHE_SIZE: &str = "-16384";
/// Prepared statements the writer keeps: an INSERT and a read-back for each
/// batch size up to `ROWS_PER_STATEMENT`, and the rest of its statements.
const WRITER_STATEMENTS: usize = 256;

pub struct SqliteStore {
    /// The writer is exactly one connection, for batches and every other
    /// write: SQLite has one writer at a time anyway, and a single writer
    /// never meets SQLITE_BUSY from its own replicas.
    pools: Pools<Sqlite>,
    checkpointer: Checkpointer,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before it returns, so a 201 survives a crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // A multi-row INSERT keeps a statement journal (to undo just that
            // statement); in memory it costs no temp-file writes.
            .pragma("temp_store", "memory");
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot create the folder {} for the database: {e}",
                        parent.display()
                    )
                })?;
            }
        }
        // Processes opening a fresh file together race to switch it to WAL;
        // SQLite answers the loser "database is locked" at once (waiting could
        // deadlock), and it finds WAL set when it opens again.
        let mut attempt = 1;
        loop {
            match Self::open(options.clone()).await {
                Err(e) if is_busy(&e) && attempt < OPEN_ATTEMPTS => {
                    tracing::debug!(error = %e, attempt, "opening raced another process; retrying");
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
                    attempt += 1;
                }
                result => return Ok(result?),
            }
        }
    }

    async fn open(options: SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(BUSY_TIMEOUT)
            // The writer probes every index of every row it inserts: a page
            // cache larger than the default 2 MiB saves most of those reads.
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", WRITER_CACHE_SIZE)
                    .statement_cache_capacity(WRITER_STATEMENTS)
                    .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES),
            )
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options.clone().read_only(true))
            .await?;
        let checkpoints = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self {
            pools: Pools {
                readers,
                writer: writer.clone(),
                batch_writer: writer,
                out_of_space: Default::default(),
            },
            checkpointer: Checkpointer::start(checkpoints),
        })
    }
}

impl Backend for SqliteStore {
    type Dialect = SqliteDialect;

    const MIGRATOR: &'static Migrator = &MIGRATOR;

    fn pools(&self) -> &Pools<Sqlite> {
        &self.pools
    }

    /// Has the committed pages checkpointed soon after.
    fn committed(&self) {
        self.checkpointer.committed();
    }

    async fn close(&self) {
        self.checkpointer.stop().await;
        self.pools.readers.close().await;
        self.pools.writer.close().await;
    }
}

#[cfg(test)]
mod tests {
    use sqlx::SqliteConnection;

    use super::*;

    #[tokio::test]
    async fn a_lock_held_elsewhere_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("busy.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .busy_timeout(Duration::ZERO);
        let mut holder = <SqliteConnection as sqlx::Connection>::connect_with(&options)
            .await
            .unwrap();
        sqlx::raw_sql("CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)")
            .execute(&mut holder)
            .await
            .unwrap();
        let mut other = <SqliteConnection as sqlx::Connection>::connect_with(&options)
            .await
            .unwrap();
        let error = sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut other)
            .await
            .unwrap_err();
        assert!(is_busy(&error), "{error}");
        assert!(!is_busy(&sqlx::Error::RowNotFound));
        assert!(matches!(
            super::super::StoreError::from(error),
            super::super::StoreError::Unavailable(_)
        ));
    }

    /// `.cargo/config.toml` builds the bundled SQLite without allocation
    /// statistics, whose one mutex every SQLite thread would contend for.
    #[tokio::test]
    async fn sqlite_is_built_without_allocation_statistics() {
        let mut connection = <SqliteConnection as sqlx::Connection>::connect("sqlite::memory:")
            .await
            .unwrap();
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
            .fetch_all(&mut connection)
            .await
            .unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }
}
