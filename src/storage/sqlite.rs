//! The SQLite backend: one file, WAL, a single writer connection and a few readers.

mod checkpoint;
mod offer;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use uuid::Uuid;

use self::checkpoint::{Checkpointer, WRITER_CHECKPOINT_PAGES};
use super::sql::{self, bind_counts, Dialect, COLUMNS, TABLE};
use super::{InsertOutcome, RowStore, Store, StoreError, StoreResult, TokenStore, UpdateOutcome};
use crate::auth::token::{Scopes, StoredToken};
use crate::domain::{
    DeviceCounts, DistributionRow, NewDistributionRow, ReportPeriod, RowPatch, TenantId, UserCount,
};
use crate::odata::{Filter, Literal, RowQuery};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits on another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const READERS: u32 = 4;
/// The writer's page cache, in KiB (SQLite's negative `cache_size`).
const WRITER_CACHE_SIZE: &str = "-16384";
/// Prepared statements the writer keeps: an INSERT and a read-back for each
/// batch size up to 64, and the rest of its statements.
const WRITER_STATEMENTS: usize = 256;

pub struct SqliteStore {
    /// Exactly one connection: SQLite has one writer at a time anyway, and a
    /// single writer never meets SQLITE_BUSY from its own replicas.
    writer: SqlitePool,
    readers: SqlitePool,
    checkpointer: Checkpointer,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before it returns, so a 201 survives a crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // A multi-row INSERT keeps a statement journal (to undo just that
            // statement); in memory it costs no temp-file writes.
            .pragma("temp_store", "memory");
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot create the folder {} for the database: {e}",
                        parent.display()
                    )
                })?;
            }
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(BUSY_TIMEOUT)
            // The writer probes every index of every row it inserts: a page
            // cache larger than the default 2 MiB saves most of those reads.
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", WRITER_CACHE_SIZE)
                    .statement_cache_capacity(WRITER_STATEMENTS)
                    .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES),
            )
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options.clone().read_only(true))
            .await?;
        let checkpoints = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self {
            writer,
            readers,
            checkpointer: Checkpointer::start(checkpoints),
        })
    }

    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, Sqlite>> {
        // IMMEDIATE takes the write lock up front, so a read-then-write
        // transaction cannot fail half-way on another process's lock.
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Commits a write transaction and has its pages checkpointed soon after.
    async fn commit(&self, tx: sqlx::Transaction<'static, Sqlite>) -> StoreResult<()> {
        tx.commit().await?;
        self.checkpointer.committed();
        Ok(())
    }
}

/// SQLite's binds for the shared query builder (`storage::sql`).
pub(super) struct SqliteDialect;

impl Dialect for SqliteDialect {
    type DB = Sqlite;

    fn bind_literal<'a>(b: &mut QueryBuilder<'a, Sqlite>, literal: &Literal) {
        match literal {
            Literal::Null => b.push("NULL"),
            Literal::Int(n) => b.push_bind(*n),
            Literal::Date(d) => b.push_bind(d.to_string()),
            Literal::Period(p) => b.push_bind(i64::from(p.days())),
            Literal::Id(id) => b.push_bind(id.to_string()),
        };
    }

    fn bind_text<'a>(b: &mut QueryBuilder<'a, Sqlite>, text: String) {
        b.push_bind(text);
    }
}

/// Timestamps are stored as one text format, RFC 3339 in UTC with
/// microseconds: 2026-11-29T06:22:45.123456Z. Written directly, where a
/// `format` string would be parsed again for every timestamp.
fn format_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {text:?}: {e}")))
}

fn decode_row(row: &SqliteRow) -> StoreResult<DistributionRow> {
    let count = |column: &str| -> StoreResult<UserCount> {
        let n: i64 = row.try_get(column)?;
        UserCount::new(n).ok_or_else(|| StoreError::Corrupt(format!("{column} = {n}")))
    };
    let optional = |column: &str| -> StoreResult<Option<UserCount>> {
        let n: Option<i64> = row.try_get(column)?;
        n.map(|n| UserCount::new(n).ok_or_else(|| StoreError::Corrupt(format!("{column} = {n}"))))
            .transpose()
    };
    // Text is borrowed from the row, not copied: a page decodes a hundred rows.
    let id: &str = row.try_get("id")?;
    let tenant: &str = row.try_get("tenant_id")?;
    let date: &str = row.try_get("report_refresh_date")?;
    let period: i64 = row.try_get("report_period")?;
    Ok(DistributionRow {
        id: Uuid::parse_str(id).map_err(|e| StoreError::Corrupt(format!("id {id:?}: {e}")))?,
        tenant_id: TenantId::parse(tenant).map_err(StoreError::Corrupt)?,
        // `FromStr` is YYYY-MM-DD without parsing a format string for each row.
        report_refresh_date: date
            .parse::<NaiveDate>()
            .map_err(|e| StoreError::Corrupt(format!("report_refresh_date {date:?}: {e}")))?,
        report_period: ReportPeriod::from_days(period)
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
        created_at: parse_timestamp(row.try_get("created_at")?)?,
        updated_at: parse_timestamp(row.try_get("updated_at")?)?,
    })
}

fn decode_token(row: &SqliteRow) -> StoreResult<StoredToken> {
    let id: String = row.try_get("id")?;
    let tenant: String = row.try_get("tenant_id")?;
    let scopes: String = row.try_get("scopes")?;
    let optional_time = |column: &str| -> StoreResult<Option<DateTime<Utc>>> {
        let text: Option<String> = row.try_get(column)?;
        text.as_deref().map(parse_timestamp).transpose()
    };
    Ok(StoredToken {
        id: Uuid::parse_str(&id)
            .map_err(|e| StoreError::Corrupt(format!("token id {id:?}: {e}")))?,
        tenant_id: TenantId::parse(&tenant).map_err(StoreError::Corrupt)?,
        name: row.try_get("name")?,
        scopes: Scopes::parse(&scopes).map_err(StoreError::Corrupt)?,
        token_hash: row.try_get("token_hash")?,
        created_at: parse_timestamp(row.try_get("created_at")?)?,
        expires_at: optional_time("expires_at")?,
        revoked_at: optional_time("revoked_at")?,
    })
}

async fn select_by_key(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    content: &NewDistributionRow,
) -> StoreResult<Option<DistributionRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM {TABLE} WHERE tenant_id = ? AND report_refresh_date = ? AND report_period = ?"
    ))
    .bind(tenant.as_str())
    .bind(content.report_refresh_date.to_string())
    .bind(content.report_period.days())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(decode_row).transpose()
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

#[async_trait]
impl RowStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(rows = rows.len()))]
    async fn insert_rows(&self, rows: &[DistributionRow]) -> StoreResult<Vec<InsertOutcome>> {
        if rows.len() <= offer::ROWS_PER_STATEMENT {
            // One INSERT, atomic and durable on its own: BEGIN and COMMIT would
            // be two more round trips to the connection's thread, each a
            // wake-up that waits for a core under load (docs/benchmarks.md).
            let mut conn = self.writer.acquire().await?;
            let outcomes = offer::offer_rows(&mut conn, rows).await?;
            self.checkpointer.committed();
            return Ok(outcomes);
        }
        let mut tx = self.begin_write().await?;
        let outcomes = offer::offer_rows(&mut tx, rows).await?;
        self.commit(tx).await?;
        Ok(outcomes)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn get_row(&self, tenant: &TenantId, id: Uuid) -> StoreResult<Option<DistributionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {TABLE} WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(decode_row).transpose()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn list_rows(
        &self,
        tenant: &TenantId,
        query: &RowQuery,
    ) -> StoreResult<Vec<DistributionRow>> {
        let mut select = sql::select_page::<SqliteDialect>(tenant, query);
        let rows = select.build().fetch_all(&self.readers).await?;
        rows.iter().map(decode_row).collect()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn count_rows(&self, tenant: &TenantId, filter: Option<&Filter>) -> StoreResult<u64> {
        let mut count = sql::count::<SqliteDialect>(tenant, filter);
        let n: i64 = count.build().fetch_one(&self.readers).await?.try_get(0)?;
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
        // The write lock is taken before the read: no other update can change
        // the row between reading it and writing the patched content.
        let mut tx = self.begin_write().await?;
        let current = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {TABLE} WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
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
            "UPDATE {TABLE} SET report_refresh_date = ?, web = ?, windows_phone = ?, android_phone = ?, \
             ios = ?, mac = ?, windows = ?, chrome_os = ?, linux = ?, report_period = ?, updated_at = ? \
             WHERE tenant_id = ? AND id = ? RETURNING {COLUMNS}"
        );
        let update = sqlx::query(&sql).bind(content.report_refresh_date.to_string());
        let row = bind_counts(update, &content.counts)
            .bind(content.report_period.days())
            .bind(format_timestamp(now))
            .bind(tenant.as_str())
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let outcome = match row {
            Some(row) => UpdateOutcome::Updated(decode_row(&row)?),
            None => UpdateOutcome::NotFound,
        };
        self.commit(tx).await?;
        Ok(outcome)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn delete_row(&self, tenant: &TenantId, id: Uuid) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(&format!(
            "DELETE FROM {TABLE} WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        self.commit(tx).await?;
        Ok(deleted)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn latest_row(
        &self,
        tenant: &TenantId,
        period: ReportPeriod,
    ) -> StoreResult<Option<DistributionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {TABLE} WHERE tenant_id = ? AND report_period = ? \
             ORDER BY report_refresh_date DESC LIMIT 1"
        ))
        .bind(tenant.as_str())
        .bind(period.days())
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(decode_row).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(rows = rows.len()))]
    async fn import_rows(
        &self,
        rows: &[DistributionRow],
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> StoreResult<super::ImportOutcome> {
        let mut tx = self.begin_write().await?;
        let mut outcomes = Vec::with_capacity(rows.len());
        // Chunks answer as serial inserts would, across chunks too: one transaction.
        for chunk in rows.chunks(super::IMPORT_PROGRESS_STEP) {
            outcomes.extend(offer::offer_rows(&mut tx, chunk).await?);
            progress(outcomes.len());
        }
        let outcome = super::ImportOutcome::from_outcomes(outcomes);
        match outcome {
            super::ImportOutcome::Committed { .. } => self.commit(tx).await?,
            super::ImportOutcome::Conflicts(_) => tx.rollback().await?,
        }
        Ok(outcome)
    }
}

const TOKEN_COLUMNS: &str =
    "id, tenant_id, name, scopes, token_hash, created_at, expires_at, revoked_at";

async fn insert_token_row(conn: &mut SqliteConnection, token: &StoredToken) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(token.id.to_string())
    .bind(token.tenant_id.as_str())
    .bind(&token.name)
    .bind(token.scopes.to_string())
    .bind(&token.token_hash)
    .bind(format_timestamp(token.created_at))
    .bind(token.expires_at.map(format_timestamp))
    .bind(token.revoked_at.map(format_timestamp))
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(&self, token: &StoredToken) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_token_row(&mut tx, token).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<StoredToken>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?"
        ))
        .bind(token_hash)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(decode_token).transpose()
    }

    async fn list_tokens(&self, tenant: Option<&TenantId>) -> StoreResult<Vec<StoredToken>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE ? IS NULL OR tenant_id = ? ORDER BY created_at, id"
        ))
        .bind(tenant.map(TenantId::as_str))
        .bind(tenant.map(TenantId::as_str))
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(decode_token).collect()
    }

    async fn revoke_token(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let revoked =
            sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(format_timestamp(at))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        self.commit(tx).await?;
        Ok(revoked)
    }

    async fn insert_bootstrap_token(&self, token: &StoredToken) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let first = sqlx::query(
            "INSERT INTO service_events (name, happened_at) VALUES ('bootstrap_token_issued', ?) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(format_timestamp(token.created_at))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if first {
            insert_token_row(&mut tx, token).await?;
        }
        self.commit(tx).await?;
        Ok(first)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn check_ready(&self) -> anyhow::Result<()> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.readers)
                .await?;
        super::require_migrated(&MIGRATOR, applied)
    }

    async fn close(&self) {
        self.checkpointer.stop().await;
        self.readers.close().await;
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// `.cargo/config.toml` builds the bundled SQLite without allocation
    /// statistics, whose one mutex every SQLite thread would contend for.
    #[tokio::test]
    async fn sqlite_is_built_without_allocation_statistics() {
        let mut connection = <SqliteConnection as sqlx::Connection>::connect("sqlite::memory:")
            .await
            .unwrap();
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
            .fetch_all(&mut connection)
            .await
            .unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }

    /// The stored text is what plain SQL sees and compares: one width, always
    /// six fractional digits and a Z, read back to the same instant.
    #[test]
    fn timestamps_are_stored_as_one_text_format() {
        let whole = Utc.with_ymd_and_hms(2026, 11, 29, 6, 22, 45).unwrap();
        assert_eq!(format_timestamp(whole), "2026-11-29T06:22:45.000000Z");
        let precise = whole + chrono::Duration::microseconds(123_456);
        assert_eq!(format_timestamp(precise), "2026-11-29T06:22:45.123456Z");
        let nanos = precise + chrono::Duration::nanoseconds(789);
        assert_eq!(format_timestamp(nanos), "2026-11-29T06:22:45.123456Z");
        assert_eq!(
            parse_timestamp(&format_timestamp(precise)).unwrap(),
            precise
        );
    }
}
