//! The Postgres backend: connection pools, so several stateless replicas can
//! serve from one database. The group-commit writers have a pool of their own.

mod offer;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::sql::{self, bind_counts, Dialect, COLUMNS, TABLE};
use super::{InsertOutcome, RowStore, Store, StoreError, StoreResult, TokenStore, UpdateOutcome};
use crate::auth::token::{Scopes, StoredToken};
use crate::domain::{
    DeviceCounts, DistributionRow, NewDistributionRow, ReportPeriod, RowPatch, TenantId, UserCount,
};
use crate::odata::{Filter, Literal, RowQuery};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 16;

pub struct PostgresStore {
    /// Reads, and the writes that do not go through group commit.
    pool: PgPool,
    /// Group commit's batches only, one connection per writer task, so a burst
    /// of reads holding every shared connection cannot hold up commits, and
    /// each writer's batches run on one backend. On the shared pool, which
    /// hands out the idle connection that waited longest, they went round all
    /// sixteen backends (docs/benchmarks.md).
    writers: PgPool,
}

/// A connection used within this long is taken as alive without a ping.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

impl PostgresStore {
    /// `writers`: how many group-commit writers share the store, one
    /// connection each.
    pub async fn connect(url: &str, writers: usize) -> anyhow::Result<Self> {
        let pool = Self::pool_options(MAX_CONNECTIONS).connect(url).await?;
        let writers = Self::pool_options(writers.max(1) as u32)
            .connect(url)
            .await?;
        Ok(Self { pool, writers })
    }

    fn pool_options(max_connections: u32) -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(CONNECT_TIMEOUT)
            // Not a ping before every use (a round trip per batch and per read,
            // measured at about 4% of POST/s at concurrency 64): only for a
            // connection that has been idle a while, the one a restarted
            // Postgres would have dropped; one that fails is replaced.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for < PING_AFTER_IDLE {
                        return Ok(true);
                    }
                    Ok(conn.ping().await.is_ok())
                })
            })
    }
}

struct PostgresDialect;

impl Dialect for PostgresDialect {
    type DB = Postgres;

    fn bind_literal<'a>(b: &mut QueryBuilder<'a, Postgres>, literal: &Literal) {
        match literal {
            Literal::Null => b.push("NULL"),
            Literal::Int(n) => b.push_bind(*n),
            Literal::Date(d) => b.push_bind(*d),
            Literal::Period(p) => b.push_bind(p.days()),
            Literal::Id(id) => b.push_bind(*id),
        };
    }

    fn bind_text<'a>(b: &mut QueryBuilder<'a, Postgres>, text: String) {
        b.push_bind(text);
    }
}

fn decode_row(row: &PgRow) -> StoreResult<DistributionRow> {
    let count = |column: &str| -> StoreResult<UserCount> {
        let n: i64 = row.try_get(column)?;
        UserCount::new(n).ok_or_else(|| StoreError::Corrupt(format!("{column} = {n}")))
    };
    let optional = |column: &str| -> StoreResult<Option<UserCount>> {
        let n: Option<i64> = row.try_get(column)?;
        n.map(|n| UserCount::new(n).ok_or_else(|| StoreError::Corrupt(format!("{column} = {n}"))))
            .transpose()
    };
    let tenant: String = row.try_get("tenant_id")?;
    let period: i32 = row.try_get("report_period")?;
    Ok(DistributionRow {
        id: row.try_get("id")?,
        tenant_id: TenantId::parse(&tenant).map_err(StoreError::Corrupt)?,
        report_refresh_date: row.try_get::<NaiveDate, _>("report_refresh_date")?,
        report_period: ReportPeriod::from_days(period.into())
            .ok_or_else(|| StoreError::Corrupt(format!("report_period = {period}")))?,
        counts: DeviceCounts {
            web: count("web")?,
            windows_phone: count("windows_phone")?,
            android_phone: count("android_phone")?,
            ios: count("ios")?,
            mac: count("mac")?,
            windows: count("windows")?,
            chrome_os: optional("chrome_os")?,
            linux: optional("linux")?,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn decode_token(row: &PgRow) -> StoreResult<StoredToken> {
    let tenant: String = row.try_get("tenant_id")?;
    let scopes: String = row.try_get("scopes")?;
    Ok(StoredToken {
        id: row.try_get("id")?,
        tenant_id: TenantId::parse(&tenant).map_err(StoreError::Corrupt)?,
        name: row.try_get("name")?,
        scopes: Scopes::parse(&scopes).map_err(StoreError::Corrupt)?,
        token_hash: row.try_get("token_hash")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

async fn select_by_key(
    conn: &mut PgConnection,
    tenant: &TenantId,
    content: &NewDistributionRow,
) -> StoreResult<Option<DistributionRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM {TABLE} WHERE tenant_id = $1 AND report_refresh_date = $2 AND report_period = $3"
    ))
    .bind(tenant.as_str())
    .bind(content.report_refresh_date)
    .bind(content.report_period.days())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(decode_row).transpose()
}

#[async_trait]
impl RowStore for PostgresStore {
    #[tracing::instrument(level = "debug", skip_all, fields(rows = rows.len()))]
    async fn insert_rows(&self, rows: &[DistributionRow]) -> StoreResult<Vec<InsertOutcome>> {
        // No explicit transaction: the batch is one INSERT, atomic and durable
        // on its own, so BEGIN and COMMIT would only add two round trips.
        let mut conn = self.writers.acquire().await?;
        offer::offer_rows(&mut conn, rows).await
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn get_row(&self, tenant: &TenantId, id: Uuid) -> StoreResult<Option<DistributionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {TABLE} WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode_row).transpose()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn list_rows(
        &self,
        tenant: &TenantId,
        query: &RowQuery,
    ) -> StoreResult<Vec<DistributionRow>> {
        let mut select = sql::select_page::<PostgresDialect>(tenant, query);
        let rows = select.build().fetch_all(&self.pool).await?;
        rows.iter().map(decode_row).collect()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn count_rows(&self, tenant: &TenantId, filter: Option<&Filter>) -> StoreResult<u64> {
        let mut count = sql::count::<PostgresDialect>(tenant, filter);
        let n: i64 = count.build().fetch_one(&self.pool).await?.try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn update_row(
        &self,
        tenant: &TenantId,
        id: Uuid,
        patch: &RowPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<UpdateOutcome> {
        let mut tx = self.pool.begin().await?;
        // FOR UPDATE: a concurrent update of this row waits for our commit and
        // then patches what we wrote, so neither update is lost.
        let current = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {TABLE} WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current.as_ref().map(decode_row).transpose()? else {
            return Ok(UpdateOutcome::NotFound);
        };
        let content = &patch.apply(&current.content());
        if current.has_content(content) {
            return Ok(UpdateOutcome::Updated(current));
        }
        if let Some(other) = select_by_key(&mut tx, tenant, content).await? {
            if other.id != id {
                return Ok(UpdateOutcome::Conflict {
                    existing_id: other.id,
                });
            }
        }
        let sql = format!(
            "UPDATE {TABLE} SET report_refresh_date = $1, web = $2, windows_phone = $3, android_phone = $4, \
             ios = $5, mac = $6, windows = $7, chrome_os = $8, linux = $9, report_period = $10, updated_at = $11 \
             WHERE tenant_id = $12 AND id = $13 RETURNING {COLUMNS}"
        );
        let update = sqlx::query(&sql).bind(content.report_refresh_date);
        let updated = bind_counts(update, &content.counts)
            .bind(content.report_period.days())
            .bind(now)
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await;
        let outcome = match updated {
            Ok(Some(row)) => UpdateOutcome::Updated(decode_row(&row)?),
            Ok(None) => UpdateOutcome::NotFound,
            // A concurrent writer took the key between our check and the update.
            Err(sqlx::Error::Database(e))
                if e.constraint() == Some(super::NATURAL_KEY_CONSTRAINT) =>
            {
                drop(tx);
                return match select_by_key(&mut *self.pool.acquire().await?, tenant, content)
                    .await?
                {
                    Some(other) => Ok(UpdateOutcome::Conflict {
                        existing_id: other.id,
                    }),
                    None => Err(StoreError::Database(sqlx::Error::Database(e))),
                };
            }
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        Ok(outcome)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn delete_row(&self, tenant: &TenantId, id: Uuid) -> StoreResult<bool> {
        let deleted = sqlx::query(&format!(
            "DELETE FROM {TABLE} WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(deleted)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn latest_row(
        &self,
        tenant: &TenantId,
        period: ReportPeriod,
    ) -> StoreResult<Option<DistributionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {TABLE} WHERE tenant_id = $1 AND report_period = $2 \
             ORDER BY report_refresh_date DESC LIMIT 1"
        ))
        .bind(tenant.as_str())
        .bind(period.days())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode_row).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(rows = rows.len()))]
    async fn import_rows(
        &self,
        rows: &[DistributionRow],
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> StoreResult<super::ImportOutcome> {
        let mut tx = self.pool.begin().await?;
        let mut outcomes = Vec::with_capacity(rows.len());
        // Chunks answer as serial inserts would, across chunks too: one transaction.
        for chunk in rows.chunks(super::IMPORT_PROGRESS_STEP) {
            outcomes.extend(offer::offer_rows(&mut tx, chunk).await?);
            progress(outcomes.len());
        }
        let outcome = super::ImportOutcome::from_outcomes(outcomes);
        match outcome {
            super::ImportOutcome::Committed { .. } => tx.commit().await?,
            super::ImportOutcome::Conflicts(_) => tx.rollback().await?,
        }
        Ok(outcome)
    }
}

const TOKEN_COLUMNS: &str =
    "id, tenant_id, name, scopes, token_hash, created_at, expires_at, revoked_at";

async fn insert_token_row(conn: &mut PgConnection, token: &StoredToken) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(token.id)
    .bind(token.tenant_id.as_str())
    .bind(&token.name)
    .bind(token.scopes.to_string())
    .bind(&token.token_hash)
    .bind(token.created_at)
    .bind(token.expires_at)
    .bind(token.revoked_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn insert_token(&self, token: &StoredToken) -> StoreResult<()> {
        insert_token_row(&mut *self.pool.acquire().await?, token).await
    }

    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<StoredToken>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode_token).transpose()
    }

    async fn list_tokens(&self, tenant: Option<&TenantId>) -> StoreResult<Vec<StoredToken>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY created_at, id"
        ))
        .bind(tenant.map(TenantId::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_token).collect()
    }

    async fn revoke_token(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
        let revoked = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(revoked)
    }

    async fn insert_bootstrap_token(&self, token: &StoredToken) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let first = sqlx::query(
            "INSERT INTO service_events (name, happened_at) VALUES ('bootstrap_token_issued', $1) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(token.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if first {
            insert_token_row(&mut tx, token).await?;
        }
        tx.commit().await?;
        Ok(first)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn check_ready(&self) -> anyhow::Result<()> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        super::require_migrated(&MIGRATOR, applied)
    }

    async fn close(&self) {
        tokio::join!(self.writers.close(), self.pool.close());
    }
}
