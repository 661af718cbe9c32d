//! Imports on any backend: every row in one transaction, offered as a batch
//! insertion offers them. A row whose natural key is stored with other counts
//! rolls the whole import back (`import_rows`), or is kept or replaced as the
//! caller's policy says (`import_rows_resolving`).

use sqlx::Database;

use super::backend::{Backend, Dialect};
use super::batch_insert::insert_batch;
use super::sql::write_patched;
use super::{ConflictPolicy, ImportOutcome, ImportReport, StoreResult, IMPORT_PROGRESS_STEP};
use crate::domain::DistributionRow;

pub(super) async fn import_rows<B: Backend>(
    store: &B,
    rows: &[DistributionRow],
    progress: &(dyn Fn(usize) + Send + Sync),
) -> StoreResult<ImportOutcome> {
    let mut tx = store.begin_write().await?;
    let report = offer::<B::Dialect>(&mut tx, rows, progress).await?;
    if report.conflicts.is_empty() {
        store.commit(tx).await?;
        Ok(ImportOutcome::Committed {
            created: report.created,
            already_stored: report.already_stored,
        })
    } else {
        tx.rollback().await?;
        Ok(ImportOutcome::Conflicts(report.conflicts))
    }
}

pub(super) async fn import_rows_resolving<B: Backend>(
    store: &B,
    rows: &[DistributionRow],
    on_conflict: ConflictPolicy,
) -> StoreResult<ImportReport> {
    let mut tx = store.begin_write().await?;
    let report = offer::<B::Dialect>(&mut tx, rows, &|_| {}).await?;
    if on_conflict == ConflictPolicy::Replace {
        for (index, stored) in &report.conflicts {
            let offered = &rows[*index];
            // The stored row keeps its id and creation time. A row deleted
            // since it was read has nothing left to replace.
            write_patched::<B::Dialect>(
                &mut tx,
                &stored.tenant_id,
                stored.id,
                &offered.content(),
                offered.updated_at,
            )
            .await?;
        }
    }
    store.commit(tx).await?;
    Ok(report)
}

/// Offers every row on `conn`, in chunks that answer as serial inserts would,
/// across chunks too, since they share the caller's transaction.
async fn offer<D: Dialect>(
    conn: &mut <D::DB as Database>::Connection,
    rows: &[DistributionRow],
    progress: &(dyn Fn(usize) + Send + Sync),
) -> StoreResult<ImportReport> {
    let mut outcomes = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(IMPORT_PROGRESS_STEP) {
        outcomes.extend(insert_batch::<D>(&mut *conn, chunk).await?);
        progress(outcomes.len());
    }
    Ok(ImportReport::from_outcomes(outcomes))
}
