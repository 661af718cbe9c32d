//! A batch of new rows into Postgres: one statement for the whole batch, its
//! columns sent as arrays and turned back into rows by `unnest`, so a batch
//! costs one round trip (and one prepared statement) whatever its size.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::super::offer::OfferPlan;
use super::super::sql::optional_count;
use super::super::sql::{COLUMNS, TABLE};
use super::super::{InsertOutcome, StoreResult};
use super::decode_row;
use crate::domain::DistributionRow;

/// Offers `rows` and answers each as offering them one by one would (see
/// `storage::offer`). All of them go in one INSERT, which is atomic: every new
/// row is stored, or none. Concurrent batches are safe: a key another
/// transaction is inserting makes this one wait for it, then `DO NOTHING`.
/// Only when fewer rows went in than were offered does a second statement read
/// back which rows hold those keys; it runs after the INSERT committed (in a
/// transaction of its own when the caller has none), so it sees the row that
/// won.
pub(super) async fn offer_rows(
    conn: &mut PgConnection,
    rows: &[DistributionRow],
) -> StoreResult<Vec<InsertOutcome>> {
    let plan = OfferPlan::new(rows);
    let firsts = plan.firsts();
    let column = |f: fn(&DistributionRow) -> i64| firsts.iter().map(|r| f(r)).collect::<Vec<_>>();
    let inserted = sqlx::query(&format!(
        "INSERT INTO {TABLE} ({COLUMNS}) \
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::int8[], $5::int8[], \
             $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], \
             $12::int4[], $13::timestamptz[], $14::timestamptz[]) \
         ON CONFLICT (tenant_id, report_refresh_date, report_period) DO NOTHING"
    ))
    .bind(firsts.iter().map(|r| r.id).collect::<Vec<Uuid>>())
    .bind(
        firsts
            .iter()
            .map(|r| r.tenant_id.as_str())
            .collect::<Vec<&str>>(),
    )
    .bind(
        firsts
            .iter()
            .map(|r| r.report_refresh_date)
            .collect::<Vec<NaiveDate>>(),
    )
    .bind(column(|r| r.counts.web.get()))
    .bind(column(|r| r.counts.windows_phone.get()))
    .bind(column(|r| r.counts.android_phone.get()))
    .bind(column(|r| r.counts.ios.get()))
    .bind(column(|r| r.counts.mac.get()))
    .bind(column(|r| r.counts.windows.get()))
    .bind(
        firsts
            .iter()
            .map(|r| optional_count(r.counts.chrome_os))
            .collect::<Vec<_>>(),
    )
    .bind(
        firsts
            .iter()
            .map(|r| optional_count(r.counts.linux))
            .collect::<Vec<_>>(),
    )
    .bind(
        firsts
            .iter()
            .map(|r| r.report_period.days())
            .collect::<Vec<i32>>(),
    )
    .bind(
        firsts
            .iter()
            .map(|r| r.created_at)
            .collect::<Vec<DateTime<Utc>>>(),
    )
    .bind(
        firsts
            .iter()
            .map(|r| r.updated_at)
            .collect::<Vec<DateTime<Utc>>>(),
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();

    let holders: HashMap<_, _> = if inserted == firsts.len() as u64 {
        firsts
            .iter()
            .map(|r| (r.natural_key(), (*r).clone()))
            .collect()
    } else {
        // Some keys were stored already: read which row holds each offered key.
        let stored = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM unnest($1::text[], $2::date[], $3::int4[]) \
                 AS k(tenant_id, report_refresh_date, report_period) \
             JOIN {TABLE} USING (tenant_id, report_refresh_date, report_period)"
        ))
        .bind(
            firsts
                .iter()
                .map(|r| r.tenant_id.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            firsts
                .iter()
                .map(|r| r.report_refresh_date)
                .collect::<Vec<NaiveDate>>(),
        )
        .bind(
            firsts
                .iter()
                .map(|r| r.report_period.days())
                .collect::<Vec<i32>>(),
        )
        .fetch_all(&mut *conn)
        .await?;
        stored
            .iter()
            .map(|row| decode_row(row).map(|r| (r.natural_key(), r)))
            .collect::<StoreResult<_>>()?
    };
    plan.outcomes(&holders)
}
