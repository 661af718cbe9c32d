//! The Graph collector's record on any backend, written once over the
//! backend's dialect: one row per source and period of each run, and the lease
//! that lets one replica collect per interval.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Database;

use super::backend::{Backend, DbOf, Dialect, Driver};
use super::{CollectionRun, CollectionStatus, CollectorStore, StoreError, StoreResult};
use crate::domain::TenantId;

macro_rules! run_columns {
    () => {
        "id, source, target_tenant, report_period, started_at, finished_at, \
         created, already_stored, conflicting, error"
    };
}

const INSERT_RUN: &str = concat!(
    "INSERT INTO collection_runs (",
    run_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
);

/// The newest run of each source and period (UUIDv7 ids sort by time on both
/// backends), with the end of its last success and the failures since; the
/// cast gives Postgres its type.
const LATEST_RUNS: &str = "SELECT r.id, r.source, r.target_tenant, r.report_period, r.started_at, \
     r.finished_at, r.created, r.already_stored, r.conflicting, r.error, \
     (SELECT MAX(s.finished_at) FROM collection_runs s WHERE s.source = r.source \
        AND s.report_period = r.report_period AND s.error IS NULL) AS last_success, \
     (SELECT COUNT(*) FROM collection_runs f WHERE f.source = r.source \
        AND f.report_period = r.report_period AND f.error IS NOT NULL \
        AND NOT EXISTS (SELECT 1 FROM collection_runs s WHERE s.source = f.source \
          AND s.report_period = f.report_period AND s.error IS NULL AND s.id > f.id)) \
        AS failures_since_success \
     FROM collection_runs r \
     WHERE (CAST($1 AS TEXT) IS NULL OR r.target_tenant = $1) \
       AND r.id = (SELECT l.id FROM collection_runs l WHERE l.source = r.source \
         AND l.report_period = r.report_period ORDER BY l.id DESC LIMIT 1) \
     ORDER BY r.source, r.report_period";

/// Taken when free or expired, in one statement: of replicas racing for it,
/// exactly one changes the row.
const TAKE_LEASE: &str =
    "INSERT INTO collection_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
     WHERE collection_leases.expires_at <= $4";

fn count<D: Dialect>(row: &<D::DB as Database>::Row, column: &str) -> StoreResult<u64> {
    let n = D::DB::get_optional_int(row, column)?;
    n.and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{column} = {n:?}")))
}

fn decode_status<D: Dialect>(row: &<D::DB as Database>::Row) -> StoreResult<CollectionStatus> {
    let error = D::DB::get_optional_string(row, "error")?;
    Ok(CollectionStatus {
        last_run: CollectionRun {
            id: D::get_id(row, "id")?,
            source: D::DB::get_string(row, "source")?,
            target_tenant: D::DB::get_tenant(row, "target_tenant")?,
            period: D::get_period(row, "report_period")?,
            started_at: D::get_timestamp(row, "started_at")?,
            finished_at: D::get_timestamp(row, "finished_at")?,
            created: count::<D>(row, "created")?,
            already_stored: count::<D>(row, "already_stored")?,
            conflicting: count::<D>(row, "conflicting")?,
            error,
        },
        last_success: D::get_optional_timestamp(row, "last_success")?,
        failures_since_success: count::<D>(row, "failures_since_success")?,
    })
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl<B: Backend> CollectorStore for B {
    async fn record_collection_run(&self, run: &CollectionRun) -> StoreResult<()> {
        type D<B> = <B as Backend>::Dialect;
        let insert = D::<B>::bind_id(sqlx::query(INSERT_RUN), run.id);
        let insert = DbOf::<B>::bind_str(insert, &run.source);
        let insert = DbOf::<B>::bind_str(insert, run.target_tenant.as_str());
        let insert = DbOf::<B>::bind_period(insert, run.period);
        let insert = D::<B>::bind_timestamp(insert, run.started_at);
        let insert = D::<B>::bind_timestamp(insert, run.finished_at);
        let insert = DbOf::<B>::bind_int(insert, int(run.created));
        let insert = DbOf::<B>::bind_int(insert, int(run.already_stored));
        let insert = DbOf::<B>::bind_int(insert, int(run.conflicting));
        let insert = DbOf::<B>::bind_optional_str(insert, run.error.as_deref());
        DbOf::<B>::execute(&mut *self.pools().writer.acquire().await?, insert).await?;
        self.committed();
        Ok(())
    }

    async fn latest_collection_runs(
        &self,
        tenant: Option<&TenantId>,
    ) -> StoreResult<Vec<CollectionStatus>> {
        let select =
            DbOf::<B>::bind_optional_str(sqlx::query(LATEST_RUNS), tenant.map(TenantId::as_str));
        let rows =
            DbOf::<B>::fetch_all(&mut *self.pools().readers.acquire().await?, select).await?;
        rows.iter().map(decode_status::<B::Dialect>).collect()
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let take = DbOf::<B>::bind_str(sqlx::query(TAKE_LEASE), name);
        let take = DbOf::<B>::bind_str(take, holder);
        let take = B::Dialect::bind_timestamp(take, until);
        let take = B::Dialect::bind_timestamp(take, now);
        let taken =
            DbOf::<B>::execute(&mut *self.pools().writer.acquire().await?, take).await? == 1;
        self.committed();
        Ok(taken)
    }
}
