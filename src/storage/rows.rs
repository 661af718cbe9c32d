//! The report rows on any backend: reading, updating and deleting them, written
//! once over the backend's dialect (`storage::backend`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Database;
use uuid::Uuid;

use super::backend::{Backend, DbOf, Dialect, Driver, Query};
use super::sql::{columns, decode_row, select_rows, table, write_patched};
use super::{
    batch_insert, import, sql, ConflictPolicy, ImportOutcome, ImportReport, InsertOutcome,
    RowStore, StoreError, StoreResult, UpdateOutcome, NATURAL_KEY_CONSTRAINT,
};
use crate::domain::{DistributionRow, NewDistributionRow, ReportPeriod, RowPatch, TenantId};
use crate::odata::{Filter, RowQuery};

// Written once for both databases: SQLite reads `$n` as Postgres does.
const SELECT_ROW: &str = select_rows!("WHERE tenant_id = $1 AND id = $2");
const SELECT_ROW_FOR_UPDATE: &str = select_rows!("WHERE tenant_id = $1 AND id = $2 FOR UPDATE");
const SELECT_ROW_BY_KEY: &str =
    select_rows!("WHERE tenant_id = $1 AND report_refresh_date = $2 AND report_period = $3");
const SELECT_LATEST_ROW: &str = select_rows!(
    "WHERE tenant_id = $1 AND report_period = $2 ORDER BY report_refresh_date DESC LIMIT 1"
);
const DELETE_ROW: &str = concat!(
    "DELETE FROM ",
    table!(),
    " WHERE tenant_id = $1 AND id = $2"
);
/// 1 when the tenant has a token or a row, 0 when it has neither.
const TENANT_EXISTS: &str = concat!(
    "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM api_tokens WHERE tenant_id = $1 \
     UNION ALL SELECT 1 AS one FROM ",
    table!(),
    " WHERE tenant_id = $1 LIMIT 1) AS of_tenant"
);

fn decode_optional_row<D: Dialect>(
    row: Option<<D::DB as Database>::Row>,
) -> StoreResult<Option<DistributionRow>> {
    row.as_ref().map(decode_row::<D>).transpose()
}

/// The tenant's row with `content`'s natural key.
async fn select_by_key<D: Dialect>(
    conn: &mut <D::DB as Database>::Connection,
    tenant: &TenantId,
    content: &NewDistributionRow,
) -> StoreResult<Option<DistributionRow>> {
    let query = D::DB::bind_str(sqlx::query(SELECT_ROW_BY_KEY), tenant.as_str());
    let query = D::DB::bind_period(
        D::bind_date(query, content.report_refresh_date),
        content.report_period,
    );
    decode_optional_row::<D>(D::DB::fetch_optional(conn, query).await?)
}

/// `sql` with the tenant and a row id bound, as its statements take them.
fn by_id<'q, D: Dialect>(sql: &'q str, tenant: &'q TenantId, id: Uuid) -> Query<'q, D::DB> {
    D::bind_id(D::DB::bind_str(sqlx::query(sql), tenant.as_str()), id)
}

/// `RowStore::insert_rows`, before its outcome is noted for readiness.
async fn insert_rows<B: Backend>(
    store: &B,
    rows: &[DistributionRow],
) -> StoreResult<Vec<InsertOutcome>> {
    if rows.len() <= B::Dialect::ROWS_PER_STATEMENT {
        // One INSERT, atomic and durable on its own: BEGIN and COMMIT would
        // only add two round trips (docs/benchmarks.md).
        let mut conn = store.pools().batch_writer.acquire().await?;
        let outcomes = batch_insert::insert_batch::<B::Dialect>(&mut conn, rows).await?;
        store.committed();
        return Ok(outcomes);
    }
    let mut tx = store.begin_write().await?;
    let outcomes = batch_insert::insert_batch::<B::Dialect>(&mut tx, rows).await?;
    store.commit(tx).await?;
    Ok(outcomes)
}

#[async_trait]
impl<B: Backend> RowStore for B {
    #[tracing::instrument(level = "debug", skip_all, fields(rows = rows.len()))]
    async fn insert_rows(&self, rows: &[DistributionRow]) -> StoreResult<Vec<InsertOutcome>> {
        let result = insert_rows(self, rows).await;
        self.pools().out_of_space.record(&result);
        result
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn get_row(&self, tenant: &TenantId, id: Uuid) -> StoreResult<Option<DistributionRow>> {
        let query = by_id::<B::Dialect>(SELECT_ROW, tenant, id);
        let row =
            DbOf::<B>::fetch_optional(&mut *self.pools().readers.acquire().await?, query).await?;
        decode_optional_row::<B::Dialect>(row)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn list_rows(
        &self,
        tenant: &TenantId,
        query: &RowQuery,
    ) -> StoreResult<Vec<DistributionRow>> {
        let mut select = sql::select_page::<B::Dialect>(tenant, query);
        let rows =
            B::Dialect::fetch_built(&mut *self.pools().readers.acquire().await?, &mut select)
                .await?;
        rows.iter().map(decode_row::<B::Dialect>).collect()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn explain_page(&self, tenant: &TenantId, query: &RowQuery) -> StoreResult<Vec<String>> {
        let mut explain = sql::explain_page::<B::Dialect>(tenant, query);
        let lines =
            B::Dialect::fetch_built(&mut *self.pools().readers.acquire().await?, &mut explain)
                .await?;
        lines
            .iter()
            .map(|line| DbOf::<B>::get_string(line, B::Dialect::EXPLAIN_COLUMN))
            .collect()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn count_rows(&self, tenant: &TenantId, filter: Option<&Filter>) -> StoreResult<u64> {
        let mut count = sql::count::<B::Dialect>(tenant, filter);
        let rows = B::Dialect::fetch_built(&mut *self.pools().readers.acquire().await?, &mut count)
            .await?;
        let n = match rows.first() {
            Some(row) => DbOf::<B>::get_optional_int(row, sql::COUNT_COLUMN)?,
            None => return Err(sqlx::Error::RowNotFound.into()),
        };
        Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn update_row(
        &self,
        tenant: &TenantId,
        id: Uuid,
        patch: &RowPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<UpdateOutcome> {
        // The row stays locked from the read to the commit: a concurrent update
        // waits and then patches what this one wrote, so neither is lost.
        let mut tx = self.begin_write().await?;
        let select = if B::Dialect::SELECT_FOR_UPDATE {
            SELECT_ROW_FOR_UPDATE
        } else {
            SELECT_ROW
        };
        let select = by_id::<B::Dialect>(select, tenant, id);
        let current = DbOf::<B>::fetch_optional(&mut tx, select).await?;
        let Some(current) = decode_optional_row::<B::Dialect>(current)? else {
            return Ok(UpdateOutcome::NotFound);
        };
        let content = &patch.apply(&current.content());
        if current.has_content(content) {
            return Ok(UpdateOutcome::Updated(current));
        }
        if let Some(other) = select_by_key::<B::Dialect>(&mut tx, tenant, content).await? {
            if other.id != id {
                return Ok(UpdateOutcome::Conflict {
                    existing_id: other.id,
                });
            }
        }
        let outcome = match write_patched::<B::Dialect>(&mut tx, tenant, id, content, now).await {
            Ok(Some(row)) => UpdateOutcome::Updated(decode_row::<B::Dialect>(&row)?),
            Ok(None) => UpdateOutcome::NotFound,
            // A concurrent writer took the key between our check and the update.
            Err(sqlx::Error::Database(e)) if e.constraint() == Some(NATURAL_KEY_CONSTRAINT) => {
                drop(tx);
                let mut conn = self.pools().readers.acquire().await?;
                return match select_by_key::<B::Dialect>(&mut conn, tenant, content).await? {
                    Some(other) => Ok(UpdateOutcome::Conflict {
                        existing_id: other.id,
                    }),
                    None => Err(StoreError::Database(sqlx::Error::Database(e))),
                };
            }
            Err(e) => return Err(e.into()),
        };
        self.commit(tx).await?;
        Ok(outcome)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn delete_row(&self, tenant: &TenantId, id: Uuid) -> StoreResult<bool> {
        let delete = by_id::<B::Dialect>(DELETE_ROW, tenant, id);
        let deleted =
            DbOf::<B>::execute(&mut *self.pools().writer.acquire().await?, delete).await? == 1;
        self.committed();
        Ok(deleted)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn latest_row(
        &self,
        tenant: &TenantId,
        period: ReportPeriod,
    ) -> StoreResult<Option<DistributionRow>> {
        let query = DbOf::<B>::bind_str(sqlx::query(SELECT_LATEST_ROW), tenant.as_str());
        let query = DbOf::<B>::bind_period(query, period);
        let row =
            DbOf::<B>::fetch_optional(&mut *self.pools().readers.acquire().await?, query).await?;
        decode_optional_row::<B::Dialect>(row)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(rows = rows.len()))]
    async fn import_rows(
        &self,
        rows: &[DistributionRow],
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> StoreResult<ImportOutcome> {
        import::import_rows(self, rows, progress).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(rows = rows.len()))]
    async fn import_rows_resolving(
        &self,
        rows: &[DistributionRow],
        on_conflict: ConflictPolicy,
    ) -> StoreResult<ImportReport> {
        import::import_rows_resolving(self, rows, on_conflict).await
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn tenant_exists(&self, tenant: &TenantId) -> StoreResult<bool> {
        let query = DbOf::<B>::bind_str(sqlx::query(TENANT_EXISTS), tenant.as_str());
        let row = DbOf::<B>::fetch_one(&mut *self.pools().readers.acquire().await?, query).await?;
        Ok(DbOf::<B>::get_optional_int(&row, "n")? != Some(0))
    }
}
