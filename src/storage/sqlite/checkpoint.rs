//! WAL checkpoints away from the writer.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past
//! 1,000 pages: the writer, the one serial step of ingest, then copies those
//! pages into the database file and fsyncs it before its batch is answered.
//! Here a task on a connection of its own checkpoints after commits, in
//! PASSIVE mode, which never waits for (nor blocks) the writer or readers.
//! Commits that land while a checkpoint runs are taken by the next one.
//! The writer's own automatic checkpoint stays, at a higher mark, only as the
//! bound on the WAL when the background one cannot keep up.

use std::sync::Arc;

use sqlx::SqlitePool;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// WAL pages (4 KiB) past which the writer checkpoints itself anyway.
pub(super) const WRITER_CHECKPOINT_PAGES: &str = "8192";

pub(super) struct Checkpointer {
    committed: Arc<Notify>,
    task: JoinHandle<()>,
    connection: SqlitePool,
}

impl Checkpointer {
    /// Starts the task on `connection`, a pool of one connection it owns.
    pub fn start(connection: SqlitePool) -> Self {
        let committed = Arc::new(Notify::new());
        let task = tokio::spawn(run(connection.clone(), committed.clone()));
        Self {
            committed,
            task,
            connection,
        }
    }

    /// A write transaction has committed: its pages are in the WAL.
    pub fn committed(&self) {
        self.committed.notify_one();
    }

    /// Stops the task; what is left in the WAL is checkpointed by SQLite when
    /// the last connection closes.
    pub async fn stop(&self) {
        self.task.abort();
        self.connection.close().await;
    }
}

/// Checkpoints at once rather than gathering commits first: a larger
/// checkpoint's fsync holds up the writer's longer (docs/benchmarks.md).
async fn run(connection: SqlitePool, committed: Arc<Notify>) {
    loop {
        committed.notified().await;
        // The pages stay in the WAL, readable and durable, when this fails; the
        // next commit tries again and the writer's own checkpoint bounds the WAL.
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&connection)
            .await
        {
            Ok(_) => {}
            // Closing raced the abort: SQLite checkpoints when the last connection closes.
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => tracing::warn!(%error, "background WAL checkpoint failed"),
        }
    }
}
