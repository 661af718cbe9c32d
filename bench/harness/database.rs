//! The databases the benchmark runs on: fresh ones, tenants with tokens, the raw
//! sqlx insert limit, a bulk-loaded history, row counts.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Executor};
use teams_usage_store::auth::{issue_token, Scope, Scopes};
use teams_usage_store::config::DatabaseUrl;
use teams_usage_store::domain::{TenantId, TokenReach};
use teams_usage_store::storage;
use uuid::Uuid;

pub const TABLE: &str = "teams_device_usage_distribution_user_counts";
const COLUMNS: &str = "id, tenant_id, report_refresh_date, web, windows_phone, android_phone, \
     ios, mac, windows, chrome_os, linux, report_period, created_at, updated_at";

/// Tenants the load is spread over, each with its own token.
pub const TENANTS: usize = 1000;
/// Rows per tenant in the read-side history: 250 refresh dates x 4 periods.
pub const HISTORY_ROWS_PER_TENANT: usize = 1000;
/// The newest refresh date of the seeded history.
pub const HISTORY_END: &str = "2026-11-01";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Where one backend's benchmark databases live.
pub struct Databases {
    pub backend: Backend,
    /// SQLite files (on the same disk a deployment would use, never tmpfs).
    pub dir: PathBuf,
    /// A Postgres database to connect to for CREATE/DROP DATABASE.
    pub postgres_admin: String,
}

impl Databases {
    /// The URL of the benchmark database `name`, as it is.
    pub fn url(&self, name: &str) -> anyhow::Result<DatabaseUrl> {
        let url = match self.backend {
            Backend::Sqlite => {
                format!("sqlite://{}", self.dir.join(format!("{name}.db")).display())
            }
            Backend::Postgres => {
                let mut url = url::Url::parse(&self.postgres_admin)?;
                url.set_path(&format!("tus_bench_{name}"));
                url.to_string()
            }
        };
        DatabaseUrl::parse(&url).map_err(anyhow::Error::msg)
    }

    /// An empty, migrated database `name`, replacing any earlier one.
    pub async fn fresh(&self, name: &str) -> anyhow::Result<DatabaseUrl> {
        let url = self.empty(name).await?;
        storage::connect(&url, 1).await?.migrate().await?;
        Ok(url)
    }

    /// A database `name` with no tables, replacing any earlier one: the service
    /// migrates it at start-up with its own migrations, so a build older or
    /// newer than this harness can be measured on it (`--service`).
    pub async fn empty(&self, name: &str) -> anyhow::Result<DatabaseUrl> {
        match self.backend {
            Backend::Sqlite => {
                for suffix in ["db", "db-wal", "db-shm"] {
                    let file = self.dir.join(format!("{name}.{suffix}"));
                    if file.exists() {
                        std::fs::remove_file(&file)
                            .with_context(|| format!("removing {}", file.display()))?;
                    }
                }
            }
            Backend::Postgres => {
                let mut admin = PgConnection::connect(&self.postgres_admin)
                    .await
                    .with_context(|| format!("connecting to {}", self.postgres_admin))?;
                admin
                    .execute(
                        format!("DROP DATABASE IF EXISTS tus_bench_{name} WITH (FORCE)").as_str(),
                    )
                    .await?;
                admin
                    .execute(format!("CREATE DATABASE tus_bench_{name}").as_str())
                    .await?;
                admin.close().await?;
            }
        }
        self.url(name)
    }
}

/// `tenant-0000`, `tenant-0001`, ...
pub fn tenant_name(index: usize) -> String {
    format!("tenant-{index:04}")
}

/// One read-write token per tenant, written to `file` one a line, tenant order.
pub async fn issue_tenant_tokens(url: &DatabaseUrl, file: &Path) -> anyhow::Result<()> {
    let names: Vec<String> = (0..TENANTS).map(tenant_name).collect();
    issue_tokens(url, &names, file).await
}

/// One read-write token for each of `tenants`, written to `file` one a line.
pub async fn issue_tokens(
    url: &DatabaseUrl,
    tenants: &[String],
    file: &Path,
) -> anyhow::Result<()> {
    let store = storage::connect(url, 1).await?;
    let mut secrets = String::new();
    for name in tenants {
        let issued = issue_token(
            TenantId::parse(name).map_err(anyhow::Error::msg)?,
            "benchmark".into(),
            Scopes::new(vec![Scope::ReportsReadWrite]),
            None,
            Utc::now(),
        );
        store.insert_token(&issued.stored).await?;
        secrets.push_str(&issued.secret);
        secrets.push('\n');
    }
    store.close().await;
    std::fs::write(file, secrets).with_context(|| format!("writing {}", file.display()))
}

/// Rows in the table, read straight from SQL.
pub async fn row_count(url: &DatabaseUrl) -> anyhow::Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM {TABLE}");
    Ok(match url {
        DatabaseUrl::Sqlite(_) => {
            let mut conn = SqliteConnection::connect(url.expose()).await?;
            let n = sqlx::query_scalar(&sql).fetch_one(&mut conn).await?;
            conn.close().await?;
            n
        }
        DatabaseUrl::Postgres(_) => {
            let mut conn = PgConnection::connect(url.expose()).await?;
            let n = sqlx::query_scalar(&sql).fetch_one(&mut conn).await?;
            conn.close().await?;
            n
        }
    })
}

/// One row of the raw insert run, made from its number as the wrk script makes
/// a POST body: unique natural keys spread over the tenants.
struct RawRow {
    id: Uuid,
    tenant: String,
    date: NaiveDate,
    period: i32,
    n: i64,
}

impl RawRow {
    fn new(n: usize) -> Self {
        let rest = n / TENANTS;
        let newest = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
        Self {
            id: Uuid::now_v7(),
            tenant: tenant_name(n % TENANTS),
            date: newest - chrono::Duration::days((rest / 4) as i64),
            period: [7, 30, 90, 180][rest % 4],
            n: n as i64,
        }
    }
}

fn insert_sql(placeholders: &str) -> String {
    format!(
        "INSERT INTO {TABLE} ({COLUMNS}) VALUES ({placeholders}) \
         ON CONFLICT (tenant_id, report_refresh_date, report_period) DO NOTHING"
    )
}

async fn insert_sqlite(
    conn: &mut SqliteConnection,
    sql: &str,
    row: RawRow,
    created: &str,
) -> sqlx::Result<()> {
    sqlx::query(sql)
        .bind(row.id.to_string())
        .bind(row.tenant)
        .bind(row.date.to_string())
        .bind(row.n % 997)
        .bind(row.n % 13)
        .bind(row.n % 251)
        .bind(row.n % 241)
        .bind(row.n % 61)
        .bind(row.n % 1009)
        .bind(row.n % 7)
        .bind(row.n % 5)
        .bind(row.period)
        .bind(created)
        .bind(created)
        .execute(conn)
        .await?;
    Ok(())
}

async fn insert_postgres(
    conn: &mut PgConnection,
    sql: &str,
    row: RawRow,
    created: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(sql)
        .bind(row.id)
        .bind(row.tenant)
        .bind(row.date)
        .bind(row.n % 997)
        .bind(row.n % 13)
        .bind(row.n % 251)
        .bind(row.n % 241)
        .bind(row.n % 61)
        .bind(row.n % 1009)
        .bind(row.n % 7)
        .bind(row.n % 5)
        .bind(row.period)
        .bind(created)
        .bind(created)
        .execute(conn)
        .await?;
    Ok(())
}

/// Rows per second stored into an empty table with sqlx alone on ONE connection, `per_transaction`
/// rows in each transaction, for `duration`: what the database and driver can
/// do with the service's durability (SQLite WAL + synchronous=FULL, Postgres as
/// configured, synchronous_commit on by default). A single row is a lone
/// INSERT, its own transaction: the cheapest honest commit.
pub async fn raw_insert_rate(
    url: &DatabaseUrl,
    per_transaction: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let created = Utc::now();
    let explicit = per_transaction > 1;
    let mut n = 0usize;
    let start = Instant::now();
    match url {
        DatabaseUrl::Sqlite(_) => {
            let options = SqliteConnectOptions::from_str(url.expose())?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5));
            let mut conn = SqliteConnection::connect_with(&options).await?;
            let sql = insert_sql(&["?"; 14].join(", "));
            let created = created.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
            while start.elapsed() < duration {
                if explicit {
                    conn.execute("BEGIN").await?;
                }
                for _ in 0..per_transaction {
                    insert_sqlite(&mut conn, &sql, RawRow::new(n), &created).await?;
                    n += 1;
                }
                if explicit {
                    conn.execute("COMMIT").await?;
                }
            }
            conn.close().await?;
        }
        DatabaseUrl::Postgres(_) => {
            let mut conn = PgConnection::connect(url.expose()).await?;
            let placeholders: Vec<String> = (1..=14).map(|i| format!("${i}")).collect();
            let sql = insert_sql(&placeholders.join(", "));
            while start.elapsed() < duration {
                if explicit {
                    conn.execute("BEGIN").await?;
                }
                for _ in 0..per_transaction {
                    insert_postgres(&mut conn, &sql, RawRow::new(n), created).await?;
                    n += 1;
                }
                if explicit {
                    conn.execute("COMMIT").await?;
                }
            }
            conn.close().await?;
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let stored = row_count(url).await?;
    anyhow::ensure!(
        stored == n as i64,
        "raw insert stored {stored} rows, expected {n}"
    );
    Ok(rate)
}

/// Fills an empty, migrated database with `TENANTS` x `HISTORY_ROWS_PER_TENANT`
/// rows in one statement (a recursive CTE on SQLite, generate_series on
/// Postgres): per tenant 250 refresh dates up to `HISTORY_END`, 4 periods each.
pub async fn seed_history(url: &DatabaseUrl) -> anyhow::Result<()> {
    let total = TENANTS * HISTORY_ROWS_PER_TENANT;
    let per_tenant = HISTORY_ROWS_PER_TENANT;
    let days = per_tenant / 4;
    match url {
        DatabaseUrl::Sqlite(_) => {
            let mut conn = SqliteConnection::connect(url.expose()).await?;
            let mut tx = conn.begin().await?;
            // i = tenant * per_tenant + r: rows arrive in index order, so the load
            // appends to every index instead of scattering into it.
            tx.execute(
                format!(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
                     INSERT INTO {TABLE} ({COLUMNS}) \
                     SELECT printf('%08x-%04x-7000-8000-%012x', i / {per_tenant}, i % {per_tenant}, i), \
                            printf('tenant-%04d', i / {per_tenant}), \
                            date('{HISTORY_END}', '-' || ({days} - 1 - (i % {per_tenant}) / 4) || ' days'), \
                            i % 997, i % 13, i % 251, i % 241, i % 61, i % 1009, \
                            CASE WHEN i % 3 = 0 THEN NULL ELSE i % 7 END, \
                            CASE WHEN i % 3 = 0 THEN NULL ELSE i % 5 END, \
                            CASE i % 4 WHEN 0 THEN 7 WHEN 1 THEN 30 WHEN 2 THEN 90 ELSE 180 END, \
                            '{HISTORY_END}T06:00:00.000000Z', '{HISTORY_END}T06:00:00.000000Z' \
                     FROM n",
                    last = total - 1
                )
                .as_str(),
            )
            .await?;
            tx.commit().await?;
            conn.execute("ANALYZE").await?;
            conn.close().await?;
        }
        DatabaseUrl::Postgres(_) => {
            let mut conn = PgConnection::connect(url.expose()).await?;
            conn.execute(
                format!(
                    "INSERT INTO {TABLE} ({COLUMNS}) \
                     SELECT (lpad(to_hex(i / {per_tenant}), 8, '0') || '-' || lpad(to_hex(i % {per_tenant}), 4, '0') \
                             || '-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, \
                            'tenant-' || lpad((i / {per_tenant})::text, 4, '0'), \
                            DATE '{HISTORY_END}' - ({days} - 1 - (i % {per_tenant}) / 4), \
                            i % 997, i % 13, i % 251, i % 241, i % 61, i % 1009, \
                            CASE WHEN i % 3 = 0 THEN NULL ELSE i % 7 END, \
                            CASE WHEN i % 3 = 0 THEN NULL ELSE i % 5 END, \
                            (ARRAY[7, 30, 90, 180])[i % 4 + 1], \
                            TIMESTAMPTZ '{HISTORY_END} 06:00:00Z', TIMESTAMPTZ '{HISTORY_END} 06:00:00Z' \
                     FROM generate_series(0, {last}) AS i",
                    last = total - 1
                )
                .as_str(),
            )
            .await?;
            // What autovacuum would do soon after such a load anyway.
            conn.execute(format!("VACUUM ANALYZE {TABLE}").as_str())
                .await?;
            conn.close().await?;
        }
    }
    Ok(())
}

/// True when `url` holds exactly the seeded history.
pub async fn history_is_seeded(url: &DatabaseUrl) -> bool {
    row_count(url)
        .await
        .is_ok_and(|n| n == (TENANTS * HISTORY_ROWS_PER_TENANT) as i64)
}

/// The tenant whose long history the large-tenant reads page through.
pub const LARGE_TENANT: &str = "tenant-large";
/// Its rows: 51,200 refresh dates (one a day from `LARGE_TENANT_START`) x 4 periods.
pub const LARGE_TENANT_ROWS: usize = 204_800;
const LARGE_TENANT_START: &str = "1886-01-01";

/// The id of the large tenant's `i`-th row. Rows were made a day at a time,
/// the four periods of each day together, so id order is (date, period) order
/// and not the natural key's (period, date).
pub fn large_tenant_id(i: usize) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0000 | i as u128)
}

/// Fills `LARGE_TENANT`'s history into a database the service has migrated, in
/// one statement; planner statistics on Postgres (what
/// autovacuum does soon after such a load), none on SQLite (the service never
/// makes them).
pub async fn seed_large_tenant(url: &DatabaseUrl) -> anyhow::Result<()> {
    let last = LARGE_TENANT_ROWS - 1;
    match url {
        DatabaseUrl::Sqlite(_) => {
            let mut conn = SqliteConnection::connect(url.expose()).await?;
            conn.execute(
                format!(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
                     INSERT INTO {TABLE} ({COLUMNS}) \
                     SELECT printf('00000000-0000-7000-8000-%012x', i), '{LARGE_TENANT}', \
                            date('{LARGE_TENANT_START}', '+' || (i / 4) || ' days'), \
                            i % 997, i % 13, i % 251, i % 241, i % 61, i % 1009, \
                            CASE WHEN i % 3 = 0 THEN NULL ELSE i % 7 END, \
                            CASE WHEN i % 3 = 0 THEN NULL ELSE i % 5 END, \
                            CASE i % 4 WHEN 0 THEN 7 WHEN 1 THEN 30 WHEN 2 THEN 90 ELSE 180 END, \
                            '{HISTORY_END}T06:00:00.000000Z', '{HISTORY_END}T06:00:00.000000Z' \
                     FROM n"
                )
                .as_str(),
            )
            .await?;
            conn.close().await?;
        }
        DatabaseUrl::Postgres(_) => {
            let mut conn = PgConnection::connect(url.expose()).await?;
            conn.execute(
                format!(
                    "INSERT INTO {TABLE} ({COLUMNS}) \
                     SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, \
                            '{LARGE_TENANT}', DATE '{LARGE_TENANT_START}' + i / 4, \
                            i % 997, i % 13, i % 251, i % 241, i % 61, i % 1009, \
                            CASE WHEN i % 3 = 0 THEN NULL ELSE i % 7 END, \
                            CASE WHEN i % 3 = 0 THEN NULL ELSE i % 5 END, \
                            (ARRAY[7, 30, 90, 180])[i % 4 + 1], \
                            TIMESTAMPTZ '{HISTORY_END} 06:00:00Z', TIMESTAMPTZ '{HISTORY_END} 06:00:00Z' \
                     FROM generate_series(0, {last}) AS i"
                )
                .as_str(),
            )
            .await?;
            conn.execute(format!("VACUUM ANALYZE {TABLE}").as_str())
                .await?;
            conn.close().await?;
        }
    }
    anyhow::ensure!(
        row_count(url).await? == LARGE_TENANT_ROWS as i64,
        "the large tenant's history was not stored whole"
    );
    Ok(())
}

/// The fleet an operator looks after: `TENANTS` tenants of `FLEET_DAYS` refresh
/// dates x 4 periods each (1,000,000 rows), the newest 2 or 3 days before
/// today as Graph's lag leaves it, one tenant in ten stale (5 to 60 days behind).
pub const FLEET_DAYS: usize = 250;
/// Days of the collector's record: a run every 6 hours, each of the 4 periods.
pub const FLEET_COLLECTOR_DAYS: usize = 7;
const FLEET_RUNS_PER_DAY: usize = 4;

/// SQL for the days tenant `t` is behind today (the seed's and `fleet_lag`'s rule).
const FLEET_LAG_SQL: &str = "CASE WHEN t % 10 = 9 THEN 5 + (t * 13) % 56 ELSE 2 + t % 2 END";

/// Days tenant `t`'s newest refresh date is behind today.
pub fn fleet_lag(t: usize) -> i64 {
    if t % 10 == 9 {
        5 + (t as i64 * 13) % 56
    } else {
        2 + (t as i64) % 2
    }
}

/// Users of a row, from its tenant `t`, day `d` (0 the oldest) and period
/// index `p`: a tenant's size (23 to 5,000, most tenants small), more users in
/// the longer periods, a few percent of wobble from day to day.
const FLEET_USERS_SQL: &str = "(25 + ((t * 7919) % 1000) * ((t * 7919) % 1000) / 200) \
     * (CASE p WHEN 0 THEN 100 WHEN 1 THEN 125 WHEN 2 THEN 145 ELSE 160 END) / 100 \
     * (95 + (d * 31 + t) % 11) / 100";

/// The device columns from `u` users: Windows most, then the web, macOS, iOS,
/// Android; Chrome OS and Linux null for one tenant in four (rows from Graph's
/// v1.0 CSV, which has neither).
const FLEET_DEVICES_SQL: &str = "u * 18 / 100, 0, u * 5 / 100, u * 6 / 100, u * 7 / 100, \
     u * 62 / 100, CASE WHEN t % 4 = 0 THEN NULL ELSE u / 100 END, \
     CASE WHEN t % 4 = 0 THEN NULL ELSE (u + 50) / 100 END";

/// The failure a stale tenant's collector records.
const FLEET_ERROR: &str = "bad credentials: Entra ID answered 401 invalid_client \
     (AADSTS7000222: the provided client secret keys are expired)";

/// Fills a database the service has migrated with the fleet, as of `today`, in
/// one statement per table: the rows, display names for six tenants in seven,
/// and the collector's record (one source per tenant, named as it, its runs
/// failing since a stale tenant went stale). Planner statistics on Postgres
/// (what autovacuum does soon after such a load), none on SQLite (the service
/// never makes them).
pub async fn seed_fleet(url: &DatabaseUrl, today: NaiveDate) -> anyhow::Result<()> {
    let total = TENANTS * FLEET_DAYS * 4;
    let last_row = total - 1;
    let per_tenant = FLEET_DAYS * 4;
    let newest_day = FLEET_DAYS - 1;
    let runs = TENANTS * FLEET_COLLECTOR_DAYS * FLEET_RUNS_PER_DAY * 4;
    let last_run = runs - 1;
    let runs_per_tenant = FLEET_COLLECTOR_DAYS * FLEET_RUNS_PER_DAY * 4;
    let midnight = today
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp();
    let created = format!("{today}T00:00:00.000000Z");
    let lag = FLEET_LAG_SQL;
    let users = FLEET_USERS_SQL;
    let devices = FLEET_DEVICES_SQL;
    // A run h runs of 6 hours before today's midnight, its id a UUIDv7 of its
    // start (ids sort by time), failing for a stale tenant from 2 days after its
    // newest refresh date on, and for one healthy tenant in 37 once, a day ago.
    let run_failed = format!(
        "(t % 10 = 9 AND h * 6 < ({lag} - 2) * 24) OR (t % 37 = 0 AND h = {FLEET_RUNS_PER_DAY})"
    );
    match url {
        DatabaseUrl::Sqlite(_) => {
            let mut conn = SqliteConnection::connect(url.expose()).await?;
            let mut tx = conn.begin().await?;
            tx.execute(
                format!(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last_row}), \
                     k AS (SELECT i, i / {per_tenant} AS t, (i % {per_tenant}) / 4 AS d, i % 4 AS p FROM n), \
                     r AS (SELECT i, t, d, p, {lag} AS lag, {users} AS u FROM k) \
                     INSERT INTO {TABLE} ({COLUMNS}) \
                     SELECT printf('%08x-%04x-7000-8000-%012x', t, i % {per_tenant}, i), \
                            printf('tenant-%04d', t), \
                            date('{today}', '-' || (lag + {newest_day} - d) || ' days'), \
                            {devices}, \
                            CASE p WHEN 0 THEN 7 WHEN 1 THEN 30 WHEN 2 THEN 90 ELSE 180 END, \
                            '{created}', '{created}' \
                     FROM r"
                )
                .as_str(),
            )
            .await?;
            tx.execute(
                format!(
                    "WITH RECURSIVE n(t) AS (SELECT 0 UNION ALL SELECT t + 1 FROM n WHERE t < {last}) \
                     INSERT INTO tenant_names (tenant_id, display_name) \
                     SELECT printf('tenant-%04d', t), printf('Customer %04d Ltd', t) FROM n WHERE t % 7 <> 3",
                    last = TENANTS - 1
                )
                .as_str(),
            )
            .await?;
            tx.execute(
                format!(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last_run}), \
                     k AS (SELECT i / {runs_per_tenant} AS t, (i % {runs_per_tenant}) / 4 AS h, i % 4 AS p, \
                                  ({midnight} - (i % {runs_per_tenant}) / 4 * 21600) AS s FROM n) \
                     INSERT INTO collection_runs (id, source, target_tenant, report_period, started_at, \
                                                  finished_at, created, already_stored, conflicting, error) \
                     SELECT printf('%08x-%04x-7000-8%03x-%012x', s * 1000 / 65536, s * 1000 % 65536, p, t), \
                            printf('tenant-%04d', t), printf('tenant-%04d', t), \
                            CASE p WHEN 0 THEN 7 WHEN 1 THEN 30 WHEN 2 THEN 90 ELSE 180 END, \
                            strftime('%Y-%m-%dT%H:%M:%S.000000Z', s + p * 5, 'unixepoch'), \
                            strftime('%Y-%m-%dT%H:%M:%S.000000Z', s + p * 5 + 4, 'unixepoch'), \
                            CASE WHEN {run_failed} THEN 0 WHEN h % 4 = 0 THEN 1 ELSE 0 END, \
                            CASE WHEN {run_failed} THEN 0 WHEN h % 4 = 0 THEN 0 ELSE 1 END, 0, \
                            CASE WHEN {run_failed} THEN '{FLEET_ERROR}' ELSE NULL END \
                     FROM k"
                )
                .as_str(),
            )
            .await?;
            tx.commit().await?;
            // The load's 270 MB are in the WAL, where every read would look its
            // pages up until a checkpoint: copied into the file now, as the
            // service's checkpointer does after its own commits.
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut conn)
                .await?;
            anyhow::ensure!(
                busy == 0,
                "the checkpoint after the fleet's load was blocked"
            );
            conn.close().await?;
        }
        DatabaseUrl::Postgres(_) => {
            let mut conn = PgConnection::connect(url.expose()).await?;
            let mut tx = conn.begin().await?;
            tx.execute(
                format!(
                    "INSERT INTO {TABLE} ({COLUMNS}) \
                     SELECT (lpad(to_hex(t), 8, '0') || '-' || lpad(to_hex(i % {per_tenant}), 4, '0') \
                             || '-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, \
                            'tenant-' || lpad(t::text, 4, '0'), \
                            DATE '{today}' - (lag + {newest_day} - d), \
                            {devices}, \
                            (ARRAY[7, 30, 90, 180])[p + 1], \
                            TIMESTAMPTZ '{today} 00:00:00Z', TIMESTAMPTZ '{today} 00:00:00Z' \
                     FROM (SELECT i, t, d, p, {lag} AS lag, {users} AS u \
                           FROM (SELECT i, i / {per_tenant} AS t, (i % {per_tenant}) / 4 AS d, i % 4 AS p \
                                 FROM generate_series(0, {last_row}) AS i) AS k) AS r"
                )
                .as_str(),
            )
            .await?;
            tx.execute(
                format!(
                    "INSERT INTO tenant_names (tenant_id, display_name) \
                     SELECT 'tenant-' || lpad(t::text, 4, '0'), 'Customer ' || lpad(t::text, 4, '0') || ' Ltd' \
                     FROM generate_series(0, {last}) AS t WHERE t % 7 <> 3",
                    last = TENANTS - 1
                )
                .as_str(),
            )
            .await?;
            tx.execute(
                format!(
                    "INSERT INTO collection_runs (id, source, target_tenant, report_period, started_at, \
                                                  finished_at, created, already_stored, conflicting, error) \
                     SELECT (lpad(to_hex(s * 1000 / 65536), 8, '0') || '-' || lpad(to_hex(s * 1000 % 65536), 4, '0') \
                             || '-7000-8' || lpad(to_hex(p), 3, '0') || '-' || lpad(to_hex(t), 12, '0'))::uuid, \
                            'tenant-' || lpad(t::text, 4, '0'), 'tenant-' || lpad(t::text, 4, '0'), \
                            (ARRAY[7, 30, 90, 180])[p + 1], \
                            to_timestamp(s + p * 5), to_timestamp(s + p * 5 + 4), \
                            CASE WHEN {run_failed} THEN 0 WHEN h % 4 = 0 THEN 1 ELSE 0 END, \
                            CASE WHEN {run_failed} THEN 0 WHEN h % 4 = 0 THEN 0 ELSE 1 END, 0, \
                            CASE WHEN {run_failed} THEN '{FLEET_ERROR}' ELSE NULL END \
                     FROM (SELECT i / {runs_per_tenant} AS t, (i % {runs_per_tenant}) / 4 AS h, i % 4 AS p, \
                                  ({midnight}::bigint - (i % {runs_per_tenant}) / 4 * 21600) AS s \
                           FROM generate_series(0, {last_run}) AS i) AS k"
                )
                .as_str(),
            )
            .await?;
            tx.commit().await?;
            for table in [TABLE, "tenant_names", "collection_runs"] {
                conn.execute(format!("VACUUM ANALYZE {table}").as_str())
                    .await?;
            }
            conn.close().await?;
        }
    }
    anyhow::ensure!(
        row_count(url).await? == total as i64,
        "the fleet's history was not stored whole"
    );
    Ok(())
}

/// An operator's token (`token create --all-tenants --tenant msp --scope
/// Reports.Read.All`), its secret written to `file`.
pub async fn issue_operator_token(url: &DatabaseUrl, file: &Path) -> anyhow::Result<()> {
    let store = storage::connect(url, 1).await?;
    let issued = issue_token(
        TenantId::parse("msp").map_err(anyhow::Error::msg)?,
        "ops".into(),
        Scopes::new(vec![Scope::ReportsRead]),
        None,
        Utc::now(),
    )
    .reaching(TokenReach::AllTenants);
    store.insert_token(&issued.stored).await?;
    store.close().await;
    std::fs::write(file, format!("{}\n", issued.secret))
        .with_context(|| format!("writing {}", file.display()))
}

/// Statements running in `url`'s database on other connections than this one
/// (Postgres; none on SQLite, whose statements run inside the service).
pub async fn busy_statements(url: &DatabaseUrl) -> anyhow::Result<i64> {
    match url {
        DatabaseUrl::Sqlite(_) => Ok(0),
        DatabaseUrl::Postgres(_) => {
            let mut conn = PgConnection::connect(url.expose()).await?;
            let n = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND state = 'active' AND pid <> pg_backend_pid()",
            )
            .fetch_one(&mut conn)
            .await?;
            conn.close().await?;
            Ok(n)
        }
    }
}
