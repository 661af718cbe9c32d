//! What the service needs from a database, independent of SQL dialect: the
//! `Store` traits, one implementation per backend, and `connect` to pick one.
//! Each flow is written once (`rows`, `tokens`, `batch_insert`, `import`) over
//! what a backend supplies (`backend`); `sqlite/` and `postgres/` hold only
//! what differs.

mod backend;
mod batch_insert;
mod collector;
mod import;
mod postgres;
mod rows;
mod sql;
mod sqlite;
mod tenants;
mod tokens;
mod url;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::error::DatabaseError;
use uuid::Uuid;

use crate::domain::{DistributionRow, ReportPeriod, RowPatch, StoredToken, TenantId};
use crate::odata::{Filter, RowQuery};

use self::backend::{Dialect, ErrorClass};
use self::postgres::PostgresDialect;
use self::sqlite::SqliteDialect;

pub use self::postgres::PostgresStore;
pub use self::sqlite::SqliteStore;
pub use self::url::DatabaseUrl;

/// Why a storage call failed, in the terms the HTTP layer needs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is too busy right now; retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The database holds a value the domain cannot represent.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match classify(&error) {
            ErrorClass::Permanent => Self::Database(error),
            ErrorClass::Transient | ErrorClass::DiskFull => Self::Unavailable(error),
        }
    }
}

/// What a failed call means. The connection and the pool fail alike on every
/// backend; a database's own error is classified by the backend whose error
/// type it is.
fn classify(error: &sqlx::Error) -> ErrorClass {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => ErrorClass::Transient,
        sqlx::Error::Database(db) => classified_by::<SqliteDialect>(db.as_ref())
            .or_else(|| classified_by::<PostgresDialect>(db.as_ref()))
            .unwrap_or(ErrorClass::Permanent),
        _ => ErrorClass::Permanent,
    }
}

/// `D`'s classification of `error`, if `error` is one of `D`'s.
fn classified_by<D: Dialect>(error: &dyn DatabaseError) -> Option<ErrorClass> {
    error.try_downcast_ref::<D::Error>().map(D::classify)
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What became of one row offered for insertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The row is new and now stored.
    Created(DistributionRow),
    /// The natural key is stored with the same content: nothing was written.
    Replayed(DistributionRow),
    /// The natural key is stored with other counts: nothing was written.
    Conflict(DistributionRow),
}

/// What became of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    Updated(DistributionRow),
    NotFound,
    /// The new content's natural key belongs to another row, named here.
    Conflict {
        existing_id: Uuid,
    },
}

/// The report rows of every tenant. Every method is scoped by tenant: no call can
/// read or change another tenant's rows.
#[async_trait]
pub trait RowStore: Send + Sync {
    /// Offers rows for insertion in ONE transaction and answers each in order,
    /// exactly as inserting them one by one would. Rows are built complete
    /// (id, timestamps) before they get here.
    async fn insert_rows(&self, rows: &[DistributionRow]) -> StoreResult<Vec<InsertOutcome>>;

    async fn get_row(&self, tenant: &TenantId, id: Uuid) -> StoreResult<Option<DistributionRow>>;

    /// One page of the tenant's rows as `query` describes.
    async fn list_rows(
        &self,
        tenant: &TenantId,
        query: &RowQuery,
    ) -> StoreResult<Vec<DistributionRow>>;

    /// The database's plan for the query `list_rows` sends for `query`, one
    /// line per step (SQLite's `EXPLAIN QUERY PLAN` details, Postgres's
    /// `EXPLAIN (COSTS OFF)` lines): to check which index serves a page.
    async fn explain_page(&self, tenant: &TenantId, query: &RowQuery) -> StoreResult<Vec<String>>;

    async fn count_rows(&self, tenant: &TenantId, filter: Option<&Filter>) -> StoreResult<u64>;

    /// Applies `patch` to the row, keeping its id and creation time. The row is
    /// read, patched and written in one transaction, so concurrent updates of
    /// different properties are never lost. A patch that changes nothing
    /// writes nothing.
    async fn update_row(
        &self,
        tenant: &TenantId,
        id: Uuid,
        patch: &RowPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<UpdateOutcome>;

    /// True when a row was deleted.
    async fn delete_row(&self, tenant: &TenantId, id: Uuid) -> StoreResult<bool>;

    /// The tenant's row with the latest refresh date for the period.
    async fn latest_row(
        &self,
        tenant: &TenantId,
        period: ReportPeriod,
    ) -> StoreResult<Option<DistributionRow>>;

    /// Stores every row or none, in ONE transaction: a row whose natural key is
    /// stored with the same content is skipped, and if any row's key is stored
    /// with other counts the transaction is rolled back. `progress` is told how
    /// many rows were offered so far, every `IMPORT_PROGRESS_STEP` rows.
    async fn import_rows(
        &self,
        rows: &[DistributionRow],
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> StoreResult<ImportOutcome>;

    /// Stores every row or none, in ONE transaction: a row whose natural key
    /// is stored with the same content is skipped, and one whose key is stored
    /// with other counts is kept or replaced as `on_conflict` says, and
    /// reported either way.
    async fn import_rows_resolving(
        &self,
        rows: &[DistributionRow],
        on_conflict: ConflictPolicy,
    ) -> StoreResult<ImportReport>;

    /// Whether the tenant exists here: it has a token (revoked or not) or a
    /// row. A tenant comes to exist with its first token or row.
    async fn tenant_exists(&self, tenant: &TenantId) -> StoreResult<bool>;
}

/// What an import does with a row whose natural key is stored with other counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// The stored row stays; the conflict is reported.
    Keep,
    /// The offered row's counts replace the stored row's, which keeps its id
    /// and creation time.
    Replace,
}

/// How often `import_rows` reports progress, in rows.
pub const IMPORT_PROGRESS_STEP: usize = 1000;

/// What an all-or-nothing import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Committed: `created` rows are new, `already_stored` were stored as given.
    Committed {
        created: usize,
        already_stored: usize,
    },
    /// Rolled back, nothing written: the rows at these indexes conflict with
    /// the stored rows given beside them.
    Conflicts(Vec<(usize, DistributionRow)>),
}

/// What an import's rows did, committed or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows that are new.
    pub created: usize,
    /// Rows stored before as given.
    pub already_stored: usize,
    /// The rows at these indexes met their natural key stored with other
    /// counts: the stored row beside each, as it was before the import.
    pub conflicts: Vec<(usize, DistributionRow)>,
}

impl ImportReport {
    /// Tallies per-row outcomes, in offering order.
    fn from_outcomes(outcomes: impl IntoIterator<Item = InsertOutcome>) -> Self {
        let mut report = Self {
            created: 0,
            already_stored: 0,
            conflicts: Vec::new(),
        };
        for (index, outcome) in outcomes.into_iter().enumerate() {
            match outcome {
                InsertOutcome::Created(_) => report.created += 1,
                InsertOutcome::Replayed(_) => report.already_stored += 1,
                InsertOutcome::Conflict(stored) => report.conflicts.push((index, stored)),
            }
        }
        report
    }
}

/// Bearer tokens, stored only as hashes.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn insert_token(&self, token: &StoredToken) -> StoreResult<()>;

    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<StoredToken>>;

    /// Every token, or one tenant's, oldest first.
    async fn list_tokens(&self, tenant: Option<&TenantId>) -> StoreResult<Vec<StoredToken>>;

    /// Marks a token revoked; false when there is no such unrevoked token.
    async fn revoke_token(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;

    /// Stores `token` only if no bootstrap token was ever issued on this database,
    /// atomically, so replicas starting together issue one between them.
    async fn insert_bootstrap_token(&self, token: &StoredToken) -> StoreResult<bool>;
}

/// One collection of one report period from one Graph source, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionRun {
    pub id: Uuid,
    /// The source's name (`docs/collect.md`).
    pub source: String,
    /// The tenant of this service that receives the rows.
    pub target_tenant: TenantId,
    pub period: ReportPeriod,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub created: u64,
    pub already_stored: u64,
    pub conflicting: u64,
    /// Why the run failed; `None` when it succeeded.
    pub error: Option<String>,
}

/// A source and period's newest run and when it last succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionStatus {
    pub last_run: CollectionRun,
    /// The end of the newest run without an error.
    pub last_success: Option<DateTime<Utc>>,
    /// Failed runs since that success (since the first run when none succeeded).
    pub failures_since_success: u64,
}

/// What the Graph collector records.
#[async_trait]
pub trait CollectorStore: Send + Sync {
    async fn record_collection_run(&self, run: &CollectionRun) -> StoreResult<()>;

    /// The newest run of each source and period, its last success and the
    /// failures since; every
    /// target tenant's, or one's. Ordered by source, then period.
    async fn latest_collection_runs(
        &self,
        tenant: Option<&TenantId>,
    ) -> StoreResult<Vec<CollectionStatus>>;

    /// Takes the lease `name` for `holder` until `until` when nobody holds it
    /// or its holder's time ran out at `now`; atomically, so of replicas racing
    /// for it exactly one gets it. True when taken.
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

/// One tenant's rows of one period: how many, and the newest refresh date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPeriodRows {
    pub tenant: TenantId,
    pub period: ReportPeriod,
    pub rows: u64,
    pub latest: chrono::NaiveDate,
}

/// What the service knows of each tenant, for an operator looking after all of them.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Names `tenant` `name` for people, replacing any earlier name.
    async fn set_tenant_name(&self, tenant: &TenantId, name: &str) -> StoreResult<()>;

    /// Every named tenant's name.
    async fn tenant_names(&self) -> StoreResult<std::collections::BTreeMap<TenantId, String>>;

    /// The tenants that hold a token (perhaps no row yet), each once.
    async fn token_tenants(&self) -> StoreResult<Vec<TenantId>>;

    /// Every tenant's rows per period, ordered by tenant, then period.
    async fn tenant_period_rows(&self) -> StoreResult<Vec<TenantPeriodRows>>;

    /// The rows `selection` names, summed per refresh date, oldest first.
    async fn rollup_days(&self, selection: &RollupSelection) -> StoreResult<Vec<RollupDay>>;

    /// Each selected tenant's row of `date`, ordered by tenant.
    async fn tenant_days(
        &self,
        selection: &RollupSelection,
        date: chrono::NaiveDate,
    ) -> StoreResult<Vec<(TenantId, RollupDay)>>;
}

/// Which rows a roll-up sums: one period, an optional date range, and the
/// tenants (every tenant when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupSelection {
    pub period: ReportPeriod,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub tenants: Option<Vec<TenantId>>,
}

/// The counts of one refresh date summed over tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupDay {
    pub date: chrono::NaiveDate,
    /// How many tenants have a row that day.
    pub tenants: u64,
    /// Each count's sum, exact (it may pass an Int64), in Graph's order;
    /// `None` where no tenant has the count.
    pub counts: Vec<(crate::domain::Property, Option<i128>)>,
}

/// A database the service can run on.
#[async_trait]
pub trait Store: RowStore + TokenStore + CollectorStore + TenantStore {
    /// Applies the backend's migrations that are not applied yet.
    async fn migrate(&self) -> anyhow::Result<()>;

    /// Ready to serve: the database answers and every migration is applied.
    async fn check_ready(&self) -> anyhow::Result<()>;

    /// Closes every connection, letting in-flight work finish.
    async fn close(&self);

    /// Each connection pool's open and idle connections, for `/metrics`.
    fn pool_stats(&self) -> Vec<PoolStats> {
        Vec::new()
    }

    /// True on a database no migration was ever applied to: a new one, whose
    /// schema `migrate` creates.
    async fn never_migrated(&self) -> anyhow::Result<bool>;
}

/// One connection pool's state at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// `readers`, `writer` or `batch_writer`.
    pub pool: &'static str,
    pub open: u32,
    pub idle: u32,
}

/// Connects to the database `url` names, for `writers` group-commit writers
/// (SQLite has one writer connection whatever the number). Fails fast
/// (seconds, not minutes) when it cannot be reached.
pub async fn connect(url: &DatabaseUrl, writers: usize) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match url {
        DatabaseUrl::Sqlite(_) => Arc::new(SqliteStore::connect(url.expose()).await?),
        DatabaseUrl::Postgres(_) => Arc::new(PostgresStore::connect(url.expose(), writers).await?),
    })
}

/// The UNIQUE constraint on (tenant_id, report_period, report_refresh_date).
const NATURAL_KEY_CONSTRAINT: &str = "teams_device_usage_natural_key";
