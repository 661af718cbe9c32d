//! An all-or-nothing import on any backend: every row in one transaction,
//! rolled back when any row conflicts with a stored one.

use super::backend::Backend;
use super::batch_insert::insert_batch;
use super::{ImportOutcome, StoreResult, IMPORT_PROGRESS_STEP};
use crate::domain::DistributionRow;

pub(super) async fn import_rows<B: Backend>(
    store: &B,
    rows: &[DistributionRow],
    progress: &(dyn Fn(usize) + Send + Sync),
) -> StoreResult<ImportOutcome> {
    let mut tx = store.begin_write().await?;
    let mut outcomes = Vec::with_capacity(rows.len());
    // Chunks answer as serial inserts would, across chunks too: one transaction.
    for chunk in rows.chunks(IMPORT_PROGRESS_STEP) {
        outcomes.extend(insert_batch::<B::Dialect>(&mut tx, chunk).await?);
        progress(outcomes.len());
    }
    let outcome = ImportOutcome::from_outcomes(outcomes);
    match outcome {
        ImportOutcome::Committed { .. } => store.commit(tx).await?,
        ImportOutcome::Conflicts(_) => tx.rollback().await?,
    }
    Ok(outcome)
}
