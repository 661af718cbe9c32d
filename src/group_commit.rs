//! Group commit: rows from concurrent requests share one transaction, and so
//! one fsync. Each request is answered only once the transaction holding its
//! row is durable, with exactly the outcome it would have had alone.
//!
//! Everything is bounded. A batch takes at most `max_batch_rows` rows: those
//! that queued while the previous batch committed, so a lone request waits for
//! nothing but its own commit. It may also wait, at most `max_batch_wait`, for
//! the rows it expects under load (see `next_batch`); off by default, as on
//! fast disks two half batches in turn beat one full batch that waits
//! (docs/benchmarks.md). At most
//! `max_queued_rows` rows wait for a writer; a request beyond that is refused
//! at once (503 with Retry-After) instead of growing memory.
//!
//! A row is committed or rolled back with its batch, whole. A request whose
//! client goes away keeps its place: the row is still written whole or not at
//! all (a retry is then answered as a replay), never half.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::time::Instant;

use crate::domain::DistributionRow;
use crate::storage::{InsertOutcome, Store, StoreError};

/// Bounds on the write path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitLimits {
    /// Rows committed together at most.
    pub max_batch_rows: usize,
    /// How long a batch may wait for the rows it expects (see `next_batch`).
    pub max_batch_wait: Duration,
    /// Rows waiting for a transaction at most; beyond it requests get 503.
    pub max_queued_rows: usize,
    /// Transactions in flight at once. One suits SQLite (one writer anyway);
    /// Postgres overlaps a batch's commit with the next batch's statements.
    pub writers: usize,
}

impl GroupCommitLimits {
    /// Writers on Postgres by default: one batch commits while the next is
    /// gathered and sent (docs/benchmarks.md compares the counts).
    pub const POSTGRES_WRITERS: usize = 2;
}

impl Default for GroupCommitLimits {
    fn default() -> Self {
        Self {
            max_batch_rows: 256,
            max_batch_wait: Duration::ZERO,
            max_queued_rows: 4096,
            writers: 1,
        }
    }
}

/// Why a row could not be written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
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
    reply: oneshot::Sender<Result<InsertOutcome, WriteError>>,
}

/// Told of every batch the writers commit (the metrics).
pub trait BatchObserver: Send + Sync + 'static {
    fn batch(&self, rows: usize, elapsed: Duration, ok: bool);
}

/// The handle requests write through; cheap to clone.
#[derive(Clone)]
pub struct RowWriter {
    queue: mpsc::Sender<Job>,
}

impl RowWriter {
    /// Starts the writer tasks on the current runtime, telling `observer` of
    /// every batch. They stop when the last `RowWriter` is dropped, after
    /// writing what is queued.
    pub fn start(
        store: Arc<dyn Store>,
        limits: GroupCommitLimits,
        observer: Arc<dyn BatchObserver>,
    ) -> Self {
        let (queue, jobs) = mpsc::channel(limits.max_queued_rows.max(1));
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..limits.writers.max(1) {
            tokio::spawn(write_batches(
                store.clone(),
                jobs.clone(),
                limits,
                observer.clone(),
            ));
        }
        Self { queue }
    }

    /// Rows waiting for a transaction now.
    pub fn queued_rows(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Offers one row and waits until its transaction is durable. If the caller
    /// goes away meanwhile, the row is still written whole or not at all.
    pub async fn insert(&self, row: DistributionRow) -> Result<InsertOutcome, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Job { row, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => WriteError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => WriteError::Stopped,
            })?;
        answer.await.map_err(|_| WriteError::Stopped)?
    }
}

/// Waits for the next batch: at least one job and whatever else is queued,
/// up to the batch size. Then, under load, it waits (at most `max_batch_wait`)
/// for the requests it expects: as many as the previous batch held, plus those
/// that queued meanwhile. A closed group of clients thus shares one commit
/// instead of splitting into two halves that commit in turn, each paying a
/// full fsync; a lone request (previous batch of one) waits for nothing.
/// Writers take turns at the queue, so one batch forms at a time.
async fn next_batch(
    jobs: &Mutex<mpsc::Receiver<Job>>,
    limits: &GroupCommitLimits,
    previous: usize,
    batch: &mut Vec<Job>,
) -> bool {
    let max = limits.max_batch_rows.max(1);
    let mut jobs = jobs.lock().await;
    let taken = jobs.recv_many(batch, max).await;
    if taken == 0 {
        return false;
    }
    let expected = (previous + taken - 1).min(max);
    if batch.len() < expected && !limits.max_batch_wait.is_zero() {
        let deadline = Instant::now() + limits.max_batch_wait;
        while batch.len() < expected {
            let more = jobs.recv_many(batch, max - batch.len());
            match tokio::time::timeout_at(deadline, more).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
    true
}

async fn write_batches(
    store: Arc<dyn Store>,
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    limits: GroupCommitLimits,
    observer: Arc<dyn BatchObserver>,
) {
    let mut batch = Vec::with_capacity(limits.max_batch_rows);
    let mut previous = 0;
    while next_batch(&jobs, &limits, previous, &mut batch).await {
        previous = batch.len();
        let (rows, replies): (Vec<_>, Vec<_>) =
            batch.drain(..).map(|job| (job.row, job.reply)).unzip();
        let began = Instant::now();
        let answers = store_batch(store.as_ref(), &rows).await;
        observer.batch(
            rows.len(),
            began.elapsed(),
            answers.iter().all(Result::is_ok),
        );
        for (reply, answer) in replies.into_iter().zip(answers) {
            // A requester that has gone away is simply not told.
            let _ = reply.send(answer);
        }
    }
}

/// One answer per row. The batch goes in one transaction; if the database
/// refuses it for any reason but being unavailable (a row it will not take),
/// each row is offered again alone, so one bad row cannot fail the others and
/// each request gets the answer it would have had alone. An unavailable
/// database fails the whole batch: nothing of it is stored, every row's
/// request is told to retry.
async fn store_batch(
    store: &dyn Store,
    rows: &[DistributionRow],
) -> Vec<Result<InsertOutcome, WriteError>> {
    let began = Instant::now();
    let result = store.insert_rows(rows).await;
    tracing::debug!(rows = rows.len(), elapsed = ?began.elapsed(), ok = result.is_ok(), "batch");
    match result {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(error) if rows.len() > 1 && !matches!(error, StoreError::Unavailable(_)) => {
            tracing::warn!(rows = rows.len(), %error, "a batch was refused; offering its rows one by one");
            let mut answers = Vec::with_capacity(rows.len());
            for row in rows {
                let alone = store.insert_rows(std::slice::from_ref(row)).await;
                answers.push(match alone {
                    Ok(outcomes) => outcomes.into_iter().next().ok_or(WriteError::Stopped),
                    Err(error) => Err(WriteError::Store(Arc::new(error))),
                });
            }
            answers
        }
        Err(error) => {
            tracing::warn!(rows = rows.len(), %error, "a batch of rows failed; none stored");
            let error = WriteError::Store(Arc::new(error));
            vec![Err(error); rows.len()]
        }
    }
}
