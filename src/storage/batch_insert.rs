//! Inserting a batch of new rows in one transaction and answering each row
//! exactly as inserting them one by one, in order, would: the first row of a
//! natural key that is not stored yet is created; any other row of that key
//! (stored before, or earlier in the batch) is a replay when its content is the
//! same and a conflict when it is not.
//!
//! The backends share this plan and differ only in SQL: they insert the first
//! row of each key with `ON CONFLICT DO NOTHING`, and only when fewer rows went
//! in than were offered do they read back which rows now hold those keys.

use std::collections::{HashMap, HashSet};

use sqlx::Database;

use super::backend::Dialect;
use super::sql::decode_row;
use super::{InsertOutcome, StoreError, StoreResult};
use crate::domain::{DistributionRow, NaturalKey};

/// Inserts `rows` on `conn` (in the caller's transaction, if any) and answers
/// each as inserting them one by one would. Concurrent batches are safe: a key
/// another transaction is inserting makes this one wait for it, then `DO
/// NOTHING`; the read-back runs after, so it sees the row that won.
pub(super) async fn insert_batch<D: Dialect>(
    conn: &mut <D::DB as Database>::Connection,
    rows: &[DistributionRow],
) -> StoreResult<Vec<InsertOutcome>> {
    let plan = BatchPlan::new(rows);
    let mut holders = HashMap::with_capacity(rows.len());
    let mut pending: Vec<&DistributionRow> = plan.firsts().to_vec();
    for _ in 0..MAX_ATTEMPTS {
        // Rows of statements that inserted fewer rows than offered: some of their
        // keys were stored before, so who holds them is read back.
        let mut unsure = Vec::new();
        for chunk in pending.chunks(D::ROWS_PER_STATEMENT) {
            if D::insert_batch(&mut *conn, chunk).await? == chunk.len() as u64 {
                holders.extend(chunk.iter().map(|row| (row.natural_key(), (*row).clone())));
            } else {
                unsure.extend_from_slice(chunk);
            }
        }
        for chunk in unsure.chunks(D::ROWS_PER_STATEMENT) {
            for stored in D::select_key_holders(&mut *conn, chunk).await? {
                let stored = decode_row::<D>(&stored)?;
                holders.insert(stored.natural_key(), stored);
            }
        }
        // A key whose holder was deleted (or moved by a PATCH) between our
        // insert and our read-back (Postgres reads each statement at its own
        // snapshot) is free now: offering it again answers as that later moment would.
        pending = unsure
            .into_iter()
            .filter(|row| !holders.contains_key(&row.natural_key()))
            .collect();
        if pending.is_empty() {
            break;
        }
    }
    plan.outcomes(&holders)
}

/// Rounds of insert-and-read-back a batch may take; each further round needs
/// another writer to free a key in the instant between two statements.
const MAX_ATTEMPTS: usize = 8;

pub(super) struct BatchPlan<'a> {
    rows: &'a [DistributionRow],
    /// The first row of each natural key, in key order: the rows the database
    /// is offered. Every transaction takes key locks in the same order, so
    /// concurrent batches on Postgres never deadlock each other.
    firsts: Vec<&'a DistributionRow>,
}

impl<'a> BatchPlan<'a> {
    pub fn new(rows: &'a [DistributionRow]) -> Self {
        let mut seen = HashSet::with_capacity(rows.len());
        let mut firsts: Vec<&DistributionRow> = rows
            .iter()
            .filter(|row| seen.insert(row.natural_key()))
            .collect();
        firsts.sort_by(|a, b| {
            (&a.tenant_id, a.report_refresh_date, a.report_period).cmp(&(
                &b.tenant_id,
                b.report_refresh_date,
                b.report_period,
            ))
        });
        Self { rows, firsts }
    }

    /// The rows to insert: one per natural key.
    pub fn firsts(&self) -> &[&'a DistributionRow] {
        &self.firsts
    }

    /// The answers given the row that holds each offered key after the inserts
    /// (one of ours, or the one stored before).
    pub fn outcomes(
        &self,
        holders: &HashMap<NaturalKey, DistributionRow>,
    ) -> StoreResult<Vec<InsertOutcome>> {
        self.rows
            .iter()
            .map(|row| {
                let holder = holders.get(&row.natural_key()).ok_or_else(|| {
                    StoreError::Corrupt("a row's natural key is held by no row".into())
                })?;
                Ok(if holder.id == row.id {
                    InsertOutcome::Created(row.clone())
                } else if holder.has_content(&row.content()) {
                    InsertOutcome::Replayed(holder.clone())
                } else {
                    InsertOutcome::Conflict(holder.clone())
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ReportPeriod;

    fn row(tenant: &str, day: u32, web: i64) -> DistributionRow {
        let date = format!("2026-11-{day:02}");
        crate::domain::test_row(
            tenant,
            &date,
            ReportPeriod::D7,
            [web, 0, 0, 0, 0, 0],
            None,
            None,
        )
    }

    fn kinds(outcomes: &[InsertOutcome]) -> Vec<&'static str> {
        outcomes
            .iter()
            .map(|o| match o {
                InsertOutcome::Created(_) => "created",
                InsertOutcome::Replayed(_) => "replayed",
                InsertOutcome::Conflict(_) => "conflict",
            })
            .collect()
    }

    #[test]
    fn repeats_within_a_batch_answer_against_the_first() {
        let rows = vec![
            row("b", 2, 1),
            row("a", 1, 1),
            row("b", 2, 1), // same content as the first "b": replay
            row("b", 2, 9), // other counts: conflict
        ];
        let plan = BatchPlan::new(&rows);
        let offered: Vec<_> = plan.firsts().iter().map(|r| r.id).collect();
        assert_eq!(
            offered,
            [rows[1].id, rows[0].id],
            "one per key, in key order"
        );
        // Both first rows went in: each holds its key.
        let holders = plan
            .firsts()
            .iter()
            .map(|r| (r.natural_key(), (*r).clone()))
            .collect();
        let outcomes = plan.outcomes(&holders).unwrap();
        assert_eq!(
            kinds(&outcomes),
            ["created", "created", "replayed", "conflict"]
        );
        for later in &outcomes[2..] {
            match later {
                InsertOutcome::Replayed(h) | InsertOutcome::Conflict(h) => {
                    assert_eq!(h.id, rows[0].id)
                }
                InsertOutcome::Created(_) => unreachable!(),
            }
        }
    }

    #[test]
    fn keys_stored_before_answer_against_the_stored_row() {
        let stored = row("a", 1, 1);
        let rows = vec![row("a", 1, 1), row("a", 1, 2), row("c", 3, 3)];
        let plan = BatchPlan::new(&rows);
        let holders = HashMap::from([
            (stored.natural_key(), stored.clone()),
            (rows[2].natural_key(), rows[2].clone()),
        ]);
        let outcomes = plan.outcomes(&holders).unwrap();
        assert_eq!(kinds(&outcomes), ["replayed", "conflict", "created"]);
        assert_eq!(outcomes[0], InsertOutcome::Replayed(stored.clone()));
        assert_eq!(outcomes[1], InsertOutcome::Conflict(stored));
    }

    #[test]
    fn a_key_held_by_no_row_is_an_error_not_a_guess() {
        let rows = vec![row("a", 1, 1)];
        assert!(BatchPlan::new(&rows).outcomes(&HashMap::new()).is_err());
    }
}
