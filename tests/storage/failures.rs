//! When the database misbehaves: errors, never panics or half-written batches.
//! And the one test that needs both backends at once: they store the same values.

use chrono::{DateTime, Duration, Utc};
use teams_usage_store::auth::{issue_token, Scopes};
use teams_usage_store::domain::{DistributionRow, ReportPeriod};
use teams_usage_store::odata::RowQuery;
use teams_usage_store::storage::{self, StoreError};

use crate::common::fixtures::{content, count, date, row, tenant};
use crate::common::{Backend, TestDatabase, ROWS_TABLE};
use crate::TestStore;

backend_tests!(
    a_failing_row_fails_its_whole_batch,
    a_missing_table_is_an_error_not_a_panic,
    a_closed_store_is_unavailable,
    readiness_needs_every_migration
);

/// A trigger that refuses rows with `web = 666` on `event` (`INSERT`,
/// `UPDATE`), as a full disk or a broken constraint would, in the middle of a
/// batch.
pub fn refuse_web_666(backend: Backend, event: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "CREATE TRIGGER sabotage BEFORE {event} ON {ROWS_TABLE} WHEN NEW.web = 666 \
             BEGIN SELECT RAISE(ABORT, 'sabotaged'); END;"
        ),
        Backend::Postgres => format!(
            "CREATE FUNCTION sabotage() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.web = 666 THEN RAISE EXCEPTION 'sabotaged'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER sabotage BEFORE {event} ON {ROWS_TABLE} \
             FOR EACH ROW EXECUTE FUNCTION sabotage();"
        ),
    }
}

async fn a_failing_row_fails_its_whole_batch(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let before = row("t1", "2026-10-01", ReportPeriod::D7, 1);
    t.store
        .insert_rows(std::slice::from_ref(&before))
        .await
        .unwrap();
    t.database.execute(&refuse_web_666(backend, "INSERT")).await;
    let batch = [
        row("t1", "2026-11-01", ReportPeriod::D7, 1),
        row("t1", "2026-11-02", ReportPeriod::D7, 666),
        row("t1", "2026-11-03", ReportPeriod::D7, 3),
    ];
    let error = t.store.insert_rows(&batch).await.unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(
        t.database.row_count().await,
        1,
        "nothing of the batch stays"
    );
    // A batch of several statements (SQLite puts 64 rows in one), refused by
    // the row it offers last: the statements before it are undone too.
    let mut many: Vec<_> = (1..=150)
        .map(|n| {
            let day = date("2026-01-01") + Duration::days(n);
            row("t2", &day.to_string(), ReportPeriod::D7, n)
        })
        .collect();
    many.push(row("t2", "2026-12-31", ReportPeriod::D7, 666));
    let error = t.store.insert_rows(&many).await.unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(
        t.database.row_count().await,
        1,
        "nothing of the longer batch stays"
    );
    // The store is still usable afterwards.
    let good = [batch[0].clone(), batch[2].clone()];
    t.store.insert_rows(&good).await.unwrap();
    let listed = t
        .store
        .list_rows(&tenant("t1"), &RowQuery::first(10))
        .await
        .unwrap();
    assert_eq!(listed, [before, good[0].clone(), good[1].clone()]);
}

async fn a_missing_table_is_an_error_not_a_panic(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let stored = row("t1", "2026-11-01", ReportPeriod::D7, 1);
    t.store
        .insert_rows(std::slice::from_ref(&stored))
        .await
        .unwrap();
    t.database
        .execute(&format!("ALTER TABLE {ROWS_TABLE} RENAME TO gone"))
        .await;
    let t1 = tenant("t1");
    let fresh = row("t1", "2026-11-02", ReportPeriod::D7, 1);
    assert!(t.store.insert_rows(&[fresh]).await.is_err());
    assert!(t.store.get_row(&t1, stored.id).await.is_err());
    assert!(t.store.list_rows(&t1, &RowQuery::first(10)).await.is_err());
    assert!(t.store.count_rows(&t1, None).await.is_err());
    assert!(t.store.latest_row(&t1, ReportPeriod::D7).await.is_err());
    assert!(t.store.delete_row(&t1, stored.id).await.is_err());
    t.database
        .execute(&format!("ALTER TABLE gone RENAME TO {ROWS_TABLE}"))
        .await;
    assert_eq!(t.store.get_row(&t1, stored.id).await.unwrap(), Some(stored));
}

async fn a_closed_store_is_unavailable(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    t.store.close().await;
    let t1 = tenant("t1");
    let error = t
        .store
        .get_row(&t1, uuid::Uuid::now_v7())
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let batch = [row("t1", "2026-11-01", ReportPeriod::D7, 1)];
    let error = t.store.insert_rows(&batch).await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let error = t.store.find_token("x").await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(t.store.check_ready().await.is_err());
}

async fn readiness_needs_every_migration(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let store = storage::connect(&database.url, 1).await.unwrap();
    assert!(store.check_ready().await.is_err(), "not migrated yet");
    store.migrate().await.unwrap();
    store.check_ready().await.unwrap();
    // Migrating again is a no-op, as at every start.
    store.migrate().await.unwrap();
    store.check_ready().await.unwrap();
    store.close().await;
}

/// `2026-11-29T06:22:45.123456789Z`: digits below the microsecond that both
/// backends must drop the same way.
fn instant() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-29T06:22:45.123456789Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// The same rows and token, written through both backends, read back identical;
/// and the SQL columns an analyst sees hold the same text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_store_identical_values() {
    let (Some(sqlite), Some(postgres)) = (
        TestStore::open(Backend::Sqlite).await,
        TestStore::open(Backend::Postgres).await,
    ) else {
        return;
    };
    let rows: Vec<DistributionRow> = [ReportPeriod::D7, ReportPeriod::D180]
        .into_iter()
        .map(|period| {
            let mut content = content("2024-02-29", period, i64::MAX);
            content.counts.chrome_os = Some(count(0));
            DistributionRow::create(tenant("t1"), content, instant())
        })
        .collect();
    let token = issue_token(
        tenant("t1"),
        "collector".into(),
        Scopes::parse("Reports.Read.All").unwrap(),
        Some(instant()),
        instant(),
    )
    .stored;
    let mut read_back = Vec::new();
    for t in [&sqlite, &postgres] {
        t.store.insert_rows(&rows).await.unwrap();
        t.store.insert_token(&token).await.unwrap();
        let listed = t
            .store
            .list_rows(&tenant("t1"), &RowQuery::first(10))
            .await
            .unwrap();
        let found = t.store.find_token(&token.token_hash).await.unwrap();
        read_back.push((listed, found));
    }
    assert_eq!(read_back[0], read_back[1]);
    assert_eq!(read_back[0].0, rows);
    assert_eq!(read_back[0].1.as_ref(), Some(&token));
    assert_eq!(
        rows[0].created_at.to_rfc3339(),
        "2026-11-29T06:22:45.123456+00:00"
    );

    // What SQL shows: hyphenated ids, the same dates, periods and instants.
    let sqlite_pool = sqlx::SqlitePool::connect(sqlite.database.url.expose())
        .await
        .unwrap();
    let sqlite_view: Vec<(String, String, i64, i64, String)> = sqlx::query_as(&format!(
        "SELECT id, report_refresh_date, report_period, web, created_at FROM {ROWS_TABLE} ORDER BY id"
    ))
    .fetch_all(&sqlite_pool)
    .await
    .unwrap();
    sqlite_pool.close().await;
    let postgres_pool = sqlx::PgPool::connect(postgres.database.url.expose())
        .await
        .unwrap();
    let postgres_view: Vec<(String, String, i64, i64, String)> = sqlx::query_as(&format!(
        "SELECT id::text, report_refresh_date::text, report_period::bigint, web, \
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
         FROM {ROWS_TABLE} ORDER BY id"
    ))
    .fetch_all(&postgres_pool)
    .await
    .unwrap();
    postgres_pool.close().await;
    assert_eq!(sqlite_view, postgres_view);
    assert_eq!(sqlite_view[0].1, "2024-02-29");
    assert_eq!(sqlite_view[0].2, 7);
    assert_eq!(sqlite_view[1].2, 180);
    assert_eq!(sqlite_view[0].3, i64::MAX);
    assert_eq!(sqlite_view[0].4, "2026-11-29T06:22:45.123456Z");
    assert_eq!(sqlite_view[0].0, rows[0].id.to_string());
}
