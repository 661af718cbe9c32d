//! The SQLite backend: one file, WAL, a single writer connection and a few readers.

mod checkpoint;
mod dialect;

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

pub(super) use self::dialect::SqliteDialect;

use self::checkpoint::{Checkpointer, WRITER_CHECKPOINT_PAGES};
use super::backend::Backend;
use super::Store;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits on another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const READERS: u32 = 4;
/// The writer's page cache, in KiB (SQLite's negative `cache_size`).
const WRITER_CACHE_SIZE: &str = "-16384";
/// Prepared statements the writer keeps: an INSERT and a read-back for each
/// batch size up to `ROWS_PER_STATEMENT`, and the rest of its statements.
const WRITER_STATEMENTS: usize = 256;

pub struct SqliteStore {
    /// Exactly one connection: SQLite has one writer at a time anyway, and a
    /// single writer never meets SQLITE_BUSY from its own replicas.
    writer: SqlitePool,
    readers: SqlitePool,
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
            writer,
            readers,
            checkpointer: Checkpointer::start(checkpoints),
        })
    }
}

impl Backend for SqliteStore {
    type Dialect = SqliteDialect;

    fn reader(&self) -> impl Future<Output = sqlx::Result<PoolConnection<Sqlite>>> + Send {
        self.readers.acquire()
    }

    fn writer(&self) -> impl Future<Output = sqlx::Result<PoolConnection<Sqlite>>> + Send {
        self.writer.acquire()
    }

    fn batch_writer(&self) -> impl Future<Output = sqlx::Result<PoolConnection<Sqlite>>> + Send {
        self.writer.acquire()
    }

    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<Transaction<'static, Sqlite>>> + Send {
        // IMMEDIATE takes the write lock up front, so a read-then-write
        // transaction cannot fail half-way on another process's lock.
        self.writer.begin_with("BEGIN IMMEDIATE")
    }

    /// Has the committed pages checkpointed soon after.
    fn committed(&self) {
        self.checkpointer.committed();
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn check_ready(&self) -> anyhow::Result<()> {
        super::check_migrated(self, &MIGRATOR).await
    }

    async fn close(&self) {
        self.checkpointer.stop().await;
        self.readers.close().await;
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests {
    use sqlx::SqliteConnection;

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
