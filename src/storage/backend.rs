//! What a database must give the flows that are written once (rows, tokens,
//! batch insertion, import): `Driver` is what sqlx does alike on both, written
//! here once; `Dialect` is what differs (how ids, dates and timestamps are
//! stored, the batch statements, how a write transaction locks, what its error
//! codes mean); `Backend` is a connected store (its pools, what follows a
//! commit, closing).

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::BoxFuture;
use sqlx::error::DatabaseError;
use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, QueryBuilder, Row,
    Transaction, Type,
};
use uuid::Uuid;

use super::{Store, StoreError, StoreResult};
use crate::domain::{DeviceCounts, DistributionRow, ReportPeriod, TenantId, UserCount};
use crate::odata::Literal;

pub(super) type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;
pub(super) type DbOf<B> = <<B as Backend>::Dialect as Dialect>::DB;

/// The binds, reads and statement runs that sqlx does the same way on both
/// databases, so the shared flows need no sqlx bounds of their own.
pub(super) trait Driver: Database {
    fn bind_str<'q>(query: Query<'q, Self>, text: &'q str) -> Query<'q, Self>;
    fn bind_string<'q>(query: Query<'q, Self>, text: String) -> Query<'q, Self>;
    fn bind_optional_str<'q>(query: Query<'q, Self>, text: Option<&'q str>) -> Query<'q, Self>;
    fn bind_period<'q>(query: Query<'q, Self>, period: ReportPeriod) -> Query<'q, Self>;
    fn bind_int<'q>(query: Query<'q, Self>, n: i64) -> Query<'q, Self>;
    /// The eight counts in column order, web to linux.
    fn bind_counts<'q>(query: Query<'q, Self>, counts: &DeviceCounts) -> Query<'q, Self>;
    fn push_string(builder: &mut QueryBuilder<'_, Self>, text: String);

    fn get_string(row: &Self::Row, column: &str) -> StoreResult<String>;
    fn get_optional_string(row: &Self::Row, column: &str) -> StoreResult<Option<String>>;
    fn get_tenant(row: &Self::Row, column: &str) -> StoreResult<TenantId>;
    fn get_count(row: &Self::Row, column: &str) -> StoreResult<UserCount>;
    fn get_optional_count(row: &Self::Row, column: &str) -> StoreResult<Option<UserCount>>;
    fn get_optional_int(row: &Self::Row, column: &str) -> StoreResult<Option<i64>>;

    fn fetch_optional<'e, 'q: 'e>(
        conn: &'e mut Self::Connection,
        query: Query<'q, Self>,
    ) -> BoxFuture<'e, Result<Option<Self::Row>, sqlx::Error>>;
    fn fetch_all<'e, 'q: 'e>(
        conn: &'e mut Self::Connection,
        query: Query<'q, Self>,
    ) -> BoxFuture<'e, Result<Vec<Self::Row>, sqlx::Error>>;
    fn fetch_one<'e, 'q: 'e>(
        conn: &'e mut Self::Connection,
        query: Query<'q, Self>,
    ) -> BoxFuture<'e, Result<Self::Row, sqlx::Error>>;
    /// Rows affected by an INSERT, UPDATE or DELETE.
    fn execute<'e, 'q: 'e>(
        conn: &'e mut Self::Connection,
        query: Query<'q, Self>,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'e;
    fn migrate<'a>(
        migrator: &'a Migrator,
        pool: &'a Pool<Self>,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send + 'a;
}

/// How many rows a statement changed, which sqlx tells per driver only.
pub(super) trait RowsAffected {
    fn rows_affected(&self) -> u64;
}

/// A count column out of range is stored data the domain cannot hold.
fn user_count(column: &str, n: i64) -> StoreResult<UserCount> {
    UserCount::new(n).ok_or_else(|| StoreError::Corrupt(format!("{column} = {n}")))
}

impl<DB> Driver for DB
where
    DB: Database,
    DB::QueryResult: RowsAffected,
    DB::Connection: Migrate,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> Option<String>: Decode<'q, DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'r> &'r str: Decode<'r, DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
{
    fn bind_str<'q>(query: Query<'q, Self>, text: &'q str) -> Query<'q, Self> {
        query.bind(text)
    }

    fn bind_string<'q>(query: Query<'q, Self>, text: String) -> Query<'q, Self> {
        query.bind(text)
    }

    fn bind_optional_str<'q>(query: Query<'q, Self>, text: Option<&'q str>) -> Query<'q, Self> {
        query.bind(text)
    }

    fn bind_period<'q>(query: Query<'q, Self>, period: ReportPeriod) -> Query<'q, Self> {
        query.bind(period.days())
    }

    fn bind_int<'q>(query: Query<'q, Self>, n: i64) -> Query<'q, Self> {
        query.bind(n)
    }

    fn bind_counts<'q>(query: Query<'q, Self>, c: &DeviceCounts) -> Query<'q, Self> {
        query
            .bind(c.web.get())
            .bind(c.windows_phone.get())
            .bind(c.android_phone.get())
            .bind(c.ios.get())
            .bind(c.mac.get())
            .bind(c.windows.get())
            .bind(c.chrome_os.map(UserCount::get))
            .bind(c.linux.map(UserCount::get))
    }

    fn push_string(builder: &mut QueryBuilder<'_, Self>, text: String) {
        builder.push_bind(text);
    }

    fn get_string(row: &Self::Row, column: &str) -> StoreResult<String> {
        Ok(row.try_get(column)?)
    }

    fn get_optional_string(row: &Self::Row, column: &str) -> StoreResult<Option<String>> {
        Ok(row.try_get(column)?)
    }

    fn get_tenant(row: &Self::Row, column: &str) -> StoreResult<TenantId> {
        // Borrowed from the row, not copied: a page decodes a hundred rows.
        TenantId::parse(row.try_get(column)?).map_err(StoreError::Corrupt)
    }

    fn get_count(row: &Self::Row, column: &str) -> StoreResult<UserCount> {
        user_count(column, row.try_get(column)?)
    }

    fn get_optional_count(row: &Self::Row, column: &str) -> StoreResult<Option<UserCount>> {
        let n: Option<i64> = row.try_get(column)?;
        n.map(|n| user_count(column, n)).transpose()
    }

    fn get_optional_int(row: &Self::Row, column: &str) -> StoreResult<Option<i64>> {
        Ok(row.try_get(column)?)
    }

    fn fetch_optional<'e, 'q: 'e>(
        conn: &'e mut Self::Connection,
        query: Query<'q, Self>,
    ) -> BoxFuture<'e, Result<Option<Self::Row>, sqlx::Error>> {
        conn.fetch_optional(query)
    }

    fn fetch_all<'e, 'q: 'e>(
        conn: &'e mut Self::Connection,
        query: Query<'q, Self>,
    ) -> BoxFuture<'e, Result<Vec<Self::Row>, sqlx::Error>> {
        conn.fetch_all(query)
    }

    fn fetch_one<'e, 'q: 'e>(
        conn: &'e mut Self::Connection,
        query: Query<'q, Self>,
    ) -> BoxFuture<'e, Result<Self::Row, sqlx::Error>> {
        conn.fetch_one(query)
    }

    async fn execute<'e, 'q: 'e>(
        conn: &'e mut Self::Connection,
        query: Query<'q, Self>,
    ) -> Result<u64, sqlx::Error> {
        Ok(conn.execute(query).await?.rows_affected())
    }

    async fn migrate<'a>(migrator: &'a Migrator, pool: &'a Pool<Self>) -> Result<(), MigrateError> {
        migrator.run(pool).await
    }
}

/// What a failed database call means for whoever made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ErrorClass {
    /// No space left to write: no write succeeds until space returns.
    DiskFull,
    /// Busy, locked, out of connections, restarting: retrying later may work.
    Transient,
    /// Retrying will not help.
    Permanent,
}

/// What differs between the databases below the flows: how the values that
/// one stores natively and the other as text are bound and read, the batch
/// statements, how a read-then-write transaction locks, and what the
/// database's error codes mean.
pub(super) trait Dialect: Send + Sync + 'static {
    type DB: Driver;

    /// The database's own error, which `sqlx::Error::Database` carries.
    type Error: DatabaseError;

    /// What one of the database's own errors means, by its code.
    fn classify(error: &Self::Error) -> ErrorClass;

    /// Rows one batch INSERT carries at most; a batch that fits needs no
    /// transaction around it.
    const ROWS_PER_STATEMENT: usize;

    /// Whether a read-then-write transaction locks the row it reads with
    /// `FOR UPDATE`; without it the transaction must lock on `BEGIN_WRITE`.
    const SELECT_FOR_UPDATE: bool;
    /// How a read-then-write transaction begins.
    const BEGIN_WRITE: &'static str;

    /// What turns a query into its plan, and the column each line of the plan
    /// comes back in (`RowStore::explain_page`).
    const EXPLAIN: &'static str;
    const EXPLAIN_COLUMN: &'static str;

    fn bind_id<'q>(query: Query<'q, Self::DB>, id: Uuid) -> Query<'q, Self::DB>;
    fn bind_date<'q>(query: Query<'q, Self::DB>, date: NaiveDate) -> Query<'q, Self::DB>;
    fn bind_timestamp<'q>(query: Query<'q, Self::DB>, at: DateTime<Utc>) -> Query<'q, Self::DB>;
    fn bind_optional_timestamp<'q>(
        query: Query<'q, Self::DB>,
        at: Option<DateTime<Utc>>,
    ) -> Query<'q, Self::DB>;
    /// A value of a `$filter` or paging cursor, into the query builder.
    fn bind_literal(builder: &mut QueryBuilder<'_, Self::DB>, literal: &Literal);

    /// Runs what a query builder (`storage::sql`) built.
    fn fetch_built<'e>(
        conn: &'e mut <Self::DB as Database>::Connection,
        builder: &'e mut QueryBuilder<'_, Self::DB>,
    ) -> BoxFuture<'e, Result<Vec<<Self::DB as Database>::Row>, sqlx::Error>>;

    fn get_id(row: &<Self::DB as Database>::Row, column: &str) -> StoreResult<Uuid>;
    fn get_date(row: &<Self::DB as Database>::Row, column: &str) -> StoreResult<NaiveDate>;
    fn get_period(row: &<Self::DB as Database>::Row, column: &str) -> StoreResult<ReportPeriod>;
    fn get_timestamp(row: &<Self::DB as Database>::Row, column: &str)
        -> StoreResult<DateTime<Utc>>;
    fn get_optional_timestamp(
        row: &<Self::DB as Database>::Row,
        column: &str,
    ) -> StoreResult<Option<DateTime<Utc>>>;

    /// Inserts `rows` (at most `ROWS_PER_STATEMENT`, one per natural key) with
    /// `ON CONFLICT DO NOTHING` in one statement; answers how many went in.
    fn insert_batch<'e>(
        conn: &'e mut <Self::DB as Database>::Connection,
        rows: &'e [&'e DistributionRow],
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'e;

    /// The stored rows that hold the natural keys of `rows` (at most
    /// `ROWS_PER_STATEMENT`), in one statement.
    fn select_key_holders<'e>(
        conn: &'e mut <Self::DB as Database>::Connection,
        rows: &'e [&'e DistributionRow],
    ) -> impl Future<Output = Result<Vec<<Self::DB as Database>::Row>, sqlx::Error>> + Send + 'e;

    /// Counts, as `n`, the migrations tables (`_sqlx_migrations`) that the
    /// migrations would use: 0 or 1.
    const MIGRATIONS_TABLES: &'static str;
}

/// The pools a store runs its work on; one pool may serve several roles.
pub(super) struct Pools<DB: Database> {
    pub readers: Pool<DB>,
    /// Writes of one statement (atomic without a transaction), read-then-write
    /// transactions and migrations.
    pub writer: Pool<DB>,
    /// The group-commit writers' batches.
    pub batch_writer: Pool<DB>,
    /// Whether the last batch failed for want of disk space.
    pub out_of_space: OutOfSpace,
}

/// Set when a batch of rows fails for want of disk space, cleared by the next
/// batch that commits: not ready in between, since no write can succeed.
#[derive(Debug, Default)]
pub(super) struct OutOfSpace(std::sync::atomic::AtomicBool);

impl OutOfSpace {
    pub fn record<T>(&self, result: &StoreResult<T>) {
        use std::sync::atomic::Ordering;
        match result {
            Ok(_) => self.0.store(false, Ordering::Relaxed),
            Err(StoreError::Unavailable(e)) if super::classify(e) == ErrorClass::DiskFull => {
                self.0.store(true, Ordering::Relaxed)
            }
            Err(_) => {}
        }
    }

    pub fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A connected store: its dialect, its pools, and what it does after a commit.
pub(super) trait Backend: Send + Sync + 'static {
    type Dialect: Dialect;

    /// The migrations of this backend's schema.
    const MIGRATOR: &'static Migrator;

    fn pools(&self) -> &Pools<DbOf<Self>>;

    /// A write has committed.
    fn committed(&self) {}

    /// Closes every connection, letting in-flight work finish.
    fn close(&self) -> impl Future<Output = ()> + Send;

    /// A transaction that reads and then writes.
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, DbOf<Self>>, sqlx::Error>> + Send {
        self.pools().writer.begin_with(Self::Dialect::BEGIN_WRITE)
    }

    /// Commits a transaction from `begin_write`.
    fn commit(
        &self,
        tx: Transaction<'static, DbOf<Self>>,
    ) -> impl Future<Output = StoreResult<()>> + Send {
        async move {
            tx.commit().await?;
            self.committed();
            Ok(())
        }
    }
}

#[async_trait]
impl<B: Backend> Store for B {
    async fn migrate(&self) -> anyhow::Result<()> {
        // Processes starting together on a fresh database race to apply the
        // same migration (SQLite has no migration lock): the loser's transaction
        // rolls back whole, and its next attempt finds the migration applied.
        let mut attempt = 1;
        loop {
            match DbOf::<B>::migrate(B::MIGRATOR, &self.pools().writer).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt >= MIGRATION_ATTEMPTS => return Err(e.into()),
                Err(e) => {
                    tracing::debug!(error = %e, attempt, "migrations raced another process; retrying");
                    let jitter = u64::from(rand::random::<u8>());
                    tokio::time::sleep(Duration::from_millis(50 * attempt + jitter)).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn check_ready(&self) -> anyhow::Result<()> {
        let query =
            sqlx::query("SELECT MAX(version) AS version FROM _sqlx_migrations WHERE success");
        let row = DbOf::<B>::fetch_one(&mut *self.pools().readers.acquire().await?, query).await?;
        if self.pools().out_of_space.is_set() {
            anyhow::bail!("the database has no space left: writes fail until space returns");
        }
        require_migrated(B::MIGRATOR, DbOf::<B>::get_optional_int(&row, "version")?)
    }

    async fn close(&self) {
        Backend::close(self).await;
    }

    fn pool_stats(&self) -> Vec<super::PoolStats> {
        let pools = self.pools();
        [
            ("readers", &pools.readers),
            ("writer", &pools.writer),
            ("batch_writer", &pools.batch_writer),
        ]
        .into_iter()
        .map(|(pool, p)| super::PoolStats {
            pool,
            open: p.size(),
            idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
        })
        .collect()
    }

    async fn never_migrated(&self) -> anyhow::Result<bool> {
        let mut conn = self.pools().readers.acquire().await?;
        let tables = sqlx::query(B::Dialect::MIGRATIONS_TABLES);
        let tables = DbOf::<B>::fetch_one(&mut conn, tables).await?;
        if DbOf::<B>::get_optional_int(&tables, "n")? == Some(0) {
            return Ok(true);
        }
        // A first start that failed half-way leaves the table and nothing in it.
        let applied = sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations");
        let applied = DbOf::<B>::fetch_one(&mut conn, applied).await?;
        Ok(DbOf::<B>::get_optional_int(&applied, "n")? == Some(0))
    }
}

/// Tries at applying migrations before a start gives up: enough for any
/// number of processes racing, each losing round being one migration applied.
const MIGRATION_ATTEMPTS: u64 = 20;

/// Ready only when the newest migration this binary knows is applied.
fn require_migrated(migrator: &Migrator, applied: Option<i64>) -> anyhow::Result<()> {
    let expected = migrator.iter().map(|m| m.version).max();
    if applied < expected {
        anyhow::bail!("database schema is at version {applied:?}, this binary needs {expected:?}: run `migrate`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_count_out_of_range_is_corrupt_data() {
        assert_eq!(user_count("web", 3).unwrap().get(), 3);
        assert!(matches!(
            user_count("web", -1),
            Err(StoreError::Corrupt(message)) if message == "web = -1"
        ));
    }

    #[test]
    fn migrations_behind_the_binary_are_not_ready() {
        static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
        let newest = MIGRATOR.iter().map(|m| m.version).max();
        assert!(require_migrated(&MIGRATOR, newest).is_ok());
        assert!(require_migrated(&MIGRATOR, None).is_err());
    }
}
