//! A batch of new rows into SQLite: multi-row statements instead of one per
//! row. Every statement is a round trip to the connection's worker thread, and
//! once a batch shares one commit (one fsync) those round trips are the cost:
//! a batch of up to `ROWS_PER_STATEMENT` rows is a single INSERT, which needs
//! no transaction around it (see `SqliteStore::insert_rows`).

use std::collections::HashMap;
use std::sync::OnceLock;

use sqlx::SqliteConnection;

use super::super::offer::OfferPlan;
use super::super::sql::bind_counts;
use super::super::sql::{COLUMNS, TABLE};
use super::super::{InsertOutcome, StoreResult};
use super::{decode_row, format_timestamp, SqliteQuery};
use crate::domain::DistributionRow;

/// Rows per statement at most: 64 x 14 = 896 parameters, far below SQLite's
/// limit. Each size from 1 to 64 is a statement of its own, so a batch is one
/// statement; the writer keeps them all prepared (`WRITER_STATEMENTS`).
pub(super) const ROWS_PER_STATEMENT: usize = 64;

/// The statement text for `rows` rows (1 to `ROWS_PER_STATEMENT`), made once.
fn statement(
    cache: &'static OnceLock<Vec<String>>,
    make: fn(usize) -> String,
    rows: usize,
) -> &'static str {
    let texts = cache.get_or_init(|| (1..=ROWS_PER_STATEMENT).map(make).collect());
    &texts[rows - 1]
}

fn insert_text(rows: usize) -> String {
    let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; rows].join(", ");
    format!(
        "INSERT INTO {TABLE} ({COLUMNS}) VALUES {values} \
         ON CONFLICT (tenant_id, report_refresh_date, report_period) DO NOTHING"
    )
}

/// The rows holding some natural keys; a join, so each key is one index probe.
fn holders_text(rows: usize) -> String {
    let keys = vec!["(?, ?, ?)"; rows].join(", ");
    format!(
        "SELECT {COLUMNS} FROM (VALUES {keys}) AS k JOIN {TABLE} AS t \
         ON t.tenant_id = k.column1 AND t.report_refresh_date = k.column2 \
         AND t.report_period = k.column3"
    )
}

static INSERTS: OnceLock<Vec<String>> = OnceLock::new();
static HOLDERS: OnceLock<Vec<String>> = OnceLock::new();

fn bind_row<'q>(query: SqliteQuery<'q>, row: &'q DistributionRow) -> SqliteQuery<'q> {
    let created = format_timestamp(row.created_at);
    let updated = if row.updated_at == row.created_at {
        created.clone()
    } else {
        format_timestamp(row.updated_at)
    };
    let query = query
        .bind(row.id.to_string())
        .bind(row.tenant_id.as_str())
        .bind(row.report_refresh_date.to_string());
    bind_counts(query, &row.counts)
        .bind(row.report_period.days())
        .bind(created)
        .bind(updated)
}

/// Offers `rows` inside the caller's write transaction and answers each as
/// offering them one by one would (see `storage::offer`).
pub(super) async fn offer_rows(
    conn: &mut SqliteConnection,
    rows: &[DistributionRow],
) -> StoreResult<Vec<InsertOutcome>> {
    let plan = OfferPlan::new(rows);
    let mut holders = HashMap::with_capacity(rows.len());
    // Rows of statements that inserted fewer rows than offered: some of their
    // keys were stored before, so who holds them is read back.
    let mut unsure = Vec::new();
    for chunk in plan.firsts().chunks(ROWS_PER_STATEMENT) {
        let insert = chunk.iter().fold(
            sqlx::query(statement(&INSERTS, insert_text, chunk.len())),
            |q, row| bind_row(q, row),
        );
        if insert.execute(&mut *conn).await?.rows_affected() == chunk.len() as u64 {
            holders.extend(chunk.iter().map(|row| (row.natural_key(), (*row).clone())));
        } else {
            unsure.extend_from_slice(chunk);
        }
    }
    for chunk in unsure.chunks(ROWS_PER_STATEMENT) {
        let select = chunk.iter().fold(
            sqlx::query(statement(&HOLDERS, holders_text, chunk.len())),
            |q, row| {
                q.bind(row.tenant_id.as_str())
                    .bind(row.report_refresh_date.to_string())
                    .bind(row.report_period.days())
            },
        );
        for stored in select.fetch_all(&mut *conn).await? {
            let stored = decode_row(&stored)?;
            holders.insert(stored.natural_key(), stored);
        }
    }
    plan.outcomes(&holders)
}
