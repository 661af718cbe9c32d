//! Migrations keep the rows they find: a database holding rows made by the
//! schema before `20261129000300_cluster_rows_by_tenant` still serves every
//! one of them, identical, once the service has migrated it at start-up
//! through that migration and every later one (`20261129000400` and
//! `20261201000100` change the keys again: on SQLite each rebuilds the table).

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use sqlx::error::ErrorKind;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::Row;
use teams_usage_store::domain::{DistributionRow, ReportPeriod, UserCount};
use teams_usage_store::odata::RowQuery;
use teams_usage_store::storage::{self, InsertOutcome};

use crate::common::fixtures::{content, count, tenant};
use crate::common::{Backend, TestDatabase, ROWS_TABLE};
use crate::TestStore;

use ReportPeriod::{D30, D7, D90};

backend_tests!(rows_made_by_the_old_schema_survive_clustering_by_tenant);

/// The migration under test: everything before it is the old schema.
const CLUSTERING: i64 = 20261129000300;

const COLUMNS: &str = "id, tenant_id, report_refresh_date, web, windows_phone, android_phone, \
     ios, mac, windows, chrome_os, linux, report_period, created_at, updated_at";

/// SQL straight on the test database, behind the service's back, with the
/// errors returned instead of panicking.
enum Sql {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Sql {
    async fn open(database: &TestDatabase) -> Self {
        match database.backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(database.url.expose())
                    .unwrap()
                    .create_if_missing(true);
                Self::Sqlite(SqlitePool::connect_with(options).await.unwrap())
            }
            Backend::Postgres => {
                Self::Postgres(PgPool::connect(database.url.expose()).await.unwrap())
            }
        }
    }

    async fn run_migrations(&self, migrator: &Migrator) {
        match self {
            Self::Sqlite(pool) => migrator.run(pool).await.unwrap(),
            Self::Postgres(pool) => migrator.run(pool).await.unwrap(),
        }
    }

    async fn execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            Self::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        }
    }

    /// The first column of every row, as text.
    async fn texts(&self, sql: &str) -> Vec<String> {
        match self {
            Self::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.expect(sql),
            Self::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.expect(sql),
        }
    }

    /// The first two columns of every row, as text.
    async fn pairs(&self, sql: &str) -> Vec<(String, String)> {
        match self {
            Self::Sqlite(pool) => sqlx::query(sql)
                .fetch_all(pool)
                .await
                .expect(sql)
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
            Self::Postgres(pool) => sqlx::query(sql)
                .fetch_all(pool)
                .await
                .expect(sql)
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
        }
    }

    async fn close(self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// The backend's migrations from its folder, only those before `CLUSTERING`.
async fn old_schema(backend: Backend) -> Migrator {
    let folder = match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let mut migrator = Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(folder))
        .await
        .unwrap();
    let old: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < CLUSTERING)
        .cloned()
        .collect();
    assert!(
        old.len() < migrator.migrations.len(),
        "{folder} has the migration {CLUSTERING}"
    );
    migrator.migrations = old.into();
    migrator
}

/// Text both backends read as the column's type (UUID, DATE and TIMESTAMPTZ on
/// Postgres; the text the service stores on SQLite).
fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn insert_sql(row: &DistributionRow) -> String {
    let c = &row.counts;
    let optional = |n: Option<UserCount>| n.map_or("NULL".to_owned(), |n| n.get().to_string());
    format!(
        "INSERT INTO {ROWS_TABLE} ({COLUMNS}) VALUES \
         ('{}', '{}', '{}', {}, {}, {}, {}, {}, {}, {}, {}, {}, '{}', '{}');\n",
        row.id,
        row.tenant_id.as_str(),
        row.report_refresh_date,
        c.web.get(),
        c.windows_phone.get(),
        c.android_phone.get(),
        c.ios.get(),
        c.mac.get(),
        c.windows.get(),
        optional(c.chrome_os),
        optional(c.linux),
        row.report_period.days(),
        timestamp(row.created_at),
        timestamp(row.updated_at),
    )
}

/// Rows as collectors would have stored them: tenants interleaved in creation
/// order, several periods and dates, null and non-null optional counts, and
/// one row patched after it was created.
fn old_rows() -> Vec<DistributionRow> {
    let start = DateTime::parse_from_rfc3339("2026-11-29T06:22:45.123456Z")
        .unwrap()
        .with_timezone(&Utc);
    let made = [
        ("fabrikam", "2026-11-01", D7, 5),
        ("contoso", "2026-11-01", D7, 1),
        ("contoso", "2026-11-01", D30, 2),
        ("fabrikam", "2026-11-08", D7, 6),
        ("contoso", "2026-11-08", D7, 3),
        ("tailspin", "2026-10-01", D90, 7),
        ("contoso", "2026-10-25", D7, 4),
        ("contoso", "2026-11-08", D30, 8),
    ];
    made.iter()
        .enumerate()
        .map(|(i, &(name, day, period, web))| {
            let mut new = content(day, period, web);
            if i % 2 == 0 {
                new.counts.chrome_os = Some(count(i as i64));
                new.counts.linux = None;
            }
            let mut row =
                DistributionRow::create(tenant(name), new, start + Duration::seconds(i as i64));
            if i == 3 {
                row.updated_at = row.created_at + Duration::milliseconds(1500);
            }
            row
        })
        .collect()
}

/// Each index on the rows table as its key columns in order, sorted.
async fn index_keys(sql: &Sql, backend: Backend) -> Vec<String> {
    let query = match backend {
        Backend::Sqlite => format!(
            "SELECT il.name, ii.name FROM pragma_index_list('{ROWS_TABLE}') AS il \
             JOIN pragma_index_info(il.name) AS ii ORDER BY il.name, ii.seqno"
        ),
        Backend::Postgres => format!(
            "SELECT CAST(i.indexrelid AS regclass)::text, a.attname::text \
             FROM pg_index AS i \
             CROSS JOIN LATERAL unnest(CAST(i.indkey AS int2[])) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = CAST('{ROWS_TABLE}' AS regclass) \
             ORDER BY 1, k.ord"
        ),
    };
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    for (index, column) in sql.pairs(&query).await {
        match keys.last_mut() {
            Some((name, columns)) if *name == index => columns.push(column),
            _ => keys.push((index, vec![column])),
        }
    }
    let mut keys: Vec<String> = keys.into_iter().map(|(_, c)| c.join(", ")).collect();
    keys.sort();
    keys
}

async fn rows_made_by_the_old_schema_survive_clustering_by_tenant(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let rows = old_rows();

    // The old schema, and rows written into it.
    let sql = Sql::open(&database).await;
    sql.run_migrations(&old_schema(backend).await).await;
    let inserts: String = rows.iter().map(insert_sql).collect();
    sql.execute(&inserts).await.unwrap();
    sql.close().await;
    assert_eq!(database.row_count().await, rows.len() as i64);

    // What the service does at start-up.
    let store = storage::connect(&database.url, 1).await.expect("connect");
    store.migrate().await.expect("migrate");
    store.check_ready().await.expect("every migration applied");
    let t = TestStore { store, database };
    assert_eq!(t.database.row_count().await, rows.len() as i64);

    // Every row, identical, through the service's reads.
    for row in &rows {
        assert_eq!(
            t.store
                .get_row(&row.tenant_id, row.id)
                .await
                .unwrap()
                .as_ref(),
            Some(row)
        );
    }
    for name in ["contoso", "fabrikam", "tailspin"] {
        let mut ours: Vec<_> = rows
            .iter()
            .filter(|r| r.tenant_id.as_str() == name)
            .cloned()
            .collect();
        ours.sort_by_key(|r| r.id);
        let all = RowQuery::first(100);
        assert_eq!(t.store.list_rows(&tenant(name), &all).await.unwrap(), ours);
        assert_eq!(
            t.store.count_rows(&tenant(name), None).await.unwrap(),
            ours.len() as u64
        );
    }
    let contoso = tenant("contoso");
    assert_eq!(
        t.store.latest_row(&contoso, D7).await.unwrap().as_ref(),
        Some(&rows[4])
    );
    assert_eq!(
        t.store.latest_row(&contoso, D30).await.unwrap().as_ref(),
        Some(&rows[7])
    );
    assert_eq!(t.store.latest_row(&contoso, D90).await.unwrap(), None);

    // The natural key is still unique, and answered against the migrated rows.
    let stored = &rows[1];
    let resent = DistributionRow::create(contoso.clone(), stored.content(), Utc::now());
    let mut changed = resent.clone();
    changed.id = uuid::Uuid::now_v7();
    changed.counts.web = count(99);
    let fresh = DistributionRow::create(contoso.clone(), content("2026-11-15", D7, 10), Utc::now());
    let outcomes = t
        .store
        .insert_rows(&[resent.clone(), changed, fresh.clone()])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            InsertOutcome::Replayed(stored.clone()),
            InsertOutcome::Conflict(stored.clone()),
            InsertOutcome::Created(fresh.clone()),
        ]
    );
    assert_eq!(t.database.row_count().await, rows.len() as i64 + 1);

    let sql = Sql::open(&t.database).await;
    let error = sql
        .execute(&insert_sql(&resent))
        .await
        .expect_err("a second row with a stored natural key");
    let sqlx::Error::Database(error) = error else {
        panic!("{error:?}")
    };
    assert_eq!(error.kind(), ErrorKind::UniqueViolation, "{error}");
    if backend == Backend::Postgres {
        // The name the service recognises a natural key violation by.
        assert_eq!(error.constraint(), Some("teams_device_usage_natural_key"));
    }

    // The views answer over the migrated table.
    assert_eq!(
        sql.texts(
            "SELECT CAST(id AS TEXT) FROM teams_device_usage_latest \
             WHERE tenant_id = 'contoso' ORDER BY report_period"
        )
        .await,
        [fresh.id.to_string(), rows[7].id.to_string()]
    );
    let c = &rows[5].counts;
    let total = c.web.get()
        + c.windows_phone.get()
        + c.android_phone.get()
        + c.ios.get()
        + c.mac.get()
        + c.windows.get()
        + c.chrome_os.map_or(0, UserCount::get)
        + c.linux.map_or(0, UserCount::get);
    assert_eq!(
        sql.texts(&format!(
            "SELECT CAST(total AS TEXT) FROM teams_device_usage_shares WHERE CAST(id AS TEXT) = '{}'",
            rows[5].id
        ))
        .await,
        [total.to_string()]
    );

    // Two keys, the same on both backends: the id within its tenant (since
    // 20261201000100) and the natural key. The old indexes are gone.
    assert_eq!(
        index_keys(&sql, backend).await,
        [
            "tenant_id, id",
            "tenant_id, report_period, report_refresh_date"
        ]
    );
    sql.close().await;
}
