//! Group commit: rows from concurrent requests share one transaction, and so
//! one fsync. Each request is answered only once the transaction holding its
//! row is durable, with exactly the outcome it would have had alone.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::domain::DistributionRow;
use crate::storage::{InsertOutcome, Store, StoreError};

/// Bounds on the write path.
#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    /// Rows committed together at most.
    pub max_batch: usize,
    /// Rows waiting for a transaction at most; beyond it requests get 503.
    pub max_queued: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        Self {
            max_batch: 256,
            max_queued: 4096,
        }
    }
}

/// Why a row could not be written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    #[error("the write queue is full")]
    QueueFull,
    #[error("the writer has stopped")]
    Stopped,
    /// The batch's transaction failed; nothing of it was stored.
    #[error("storing the batch failed: {0}")]
    Store(Arc<StoreError>),
}

struct Job {
    row: DistributionRow,
    reply: oneshot::Sender<Result<InsertOutcome, IngestError>>,
}

/// The handle requests write through; cheap to clone.
#[derive(Clone)]
pub struct RowWriter {
    queue: mpsc::Sender<Job>,
}

impl RowWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn Store>, limits: IngestLimits) -> Self {
        let (queue, jobs) = mpsc::channel(limits.max_queued);
        tokio::spawn(write_batches(store, jobs, limits.max_batch));
        Self { queue }
    }

    /// Offers one row and waits until its transaction is durable. If the caller
    /// goes away meanwhile, the row is still written or not written whole.
    pub async fn insert(&self, row: DistributionRow) -> Result<InsertOutcome, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Job { row, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => IngestError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => IngestError::Stopped,
            })?;
        answer.await.map_err(|_| IngestError::Stopped)?
    }
}

async fn write_batches(store: Arc<dyn Store>, mut jobs: mpsc::Receiver<Job>, max_batch: usize) {
    let mut batch = Vec::with_capacity(max_batch);
    // Whatever queued while the last transaction was committing forms the next
    // batch: no timer, so a lone request waits for nothing but its own commit.
    while jobs.recv_many(&mut batch, max_batch).await > 0 {
        let rows: Vec<DistributionRow> = batch.iter().map(|job| job.row.clone()).collect();
        match store.insert_rows(&rows).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(IngestError::Store(error.clone())));
                }
            }
        }
    }
}
