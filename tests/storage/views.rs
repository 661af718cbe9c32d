//! The reporting views give the same answer on SQLite and Postgres: the same
//! rows are loaded into both through the storage layer, then every query of
//! docs/sql.md runs on each and the results are compared cell by cell.
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, TimeZone, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Row};
use teams_usage_store::domain::{DistributionRow, NewDistributionRow, ReportPeriod};
use teams_usage_store::storage::InsertOutcome;

use crate::common::fixtures::{date, device_counts, tenant};
use crate::common::{Backend, TestDatabase};
use crate::TestStore;

/// One result row, each cell in a canonical text form both backends share.
type Cells = Vec<String>;

/// A row with every count given, created at the same instant on both backends.
fn row_with_counts(
    tenant_name: &str,
    day: &str,
    period: ReportPeriod,
    required: [i64; 6],
    chrome_os: Option<i64>,
    linux: Option<i64>,
) -> DistributionRow {
    let content = NewDistributionRow {
        report_refresh_date: date(day),
        report_period: period,
        counts: device_counts(required, chrome_os, linux),
    };
    let created = Utc.with_ymd_and_hms(2026, 11, 29, 6, 0, 0).unwrap();
    DistributionRow::create(tenant(tenant_name), content, created)
}

/// Rows chosen to catch the usual cross-database differences: shares that
/// round half up, totals that do not divide, null optional counts, an all-zero
/// row, several dates per period, and a second tenant.
#[rustfmt::skip]
fn rows() -> Vec<DistributionRow> {
    use ReportPeriod::*;
    vec![
        row_with_counts("contoso", "2026-11-01", D7, [3, 12, 12, 3, 3, 7], None, None),
        row_with_counts("contoso", "2026-11-08", D7, [1, 1, 1, 0, 0, 0], Some(0), Some(0)),
        row_with_counts("contoso", "2026-11-15", D7, [1, 0, 0, 0, 0, 19999], Some(0), None),
        row_with_counts("contoso", "2026-11-15", D30, [0; 6], None, None),
        row_with_counts("contoso", "2026-10-15", D30, [10, 20, 30, 40, 50, 60], Some(70), Some(80)),
        row_with_counts("contoso", "2026-11-15", D180, [123456789, 1, 2, 3, 4, 5], Some(6), Some(7)),
        row_with_counts("fabrikam", "2026-11-20", D7, [5, 0, 0, 0, 0, 3], None, Some(2)),
        row_with_counts("fabrikam", "2026-11-13", D7, [1, 1, 1, 1, 1, 1], None, None),
    ]
}

/// The SQL code blocks of docs/sql.md, each a query to run as written.
fn documented_queries() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/sql.md"))
        .expect("docs/sql.md");
    let mut queries = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sql") => current = Some(String::new()),
            (Some(query), "```") => {
                queries.push(std::mem::take(query));
                current = None;
            }
            (Some(query), text) => {
                query.push_str(text);
                query.push('\n');
            }
            (None, _) => {}
        }
    }
    queries
}

async fn loaded(backend: Backend) -> Option<TestStore> {
    let loaded = TestStore::open(backend).await?;
    let outcomes = loaded.store.insert_rows(&rows()).await.unwrap();
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, InsertOutcome::Created(_))));
    Some(loaded)
}

fn sqlite_cells(row: &SqliteRow) -> Cells {
    (0..row.columns().len())
        .map(|i| {
            if let Ok(n) = row.try_get::<Option<i64>, _>(i) {
                return n.map_or("NULL".into(), |n| n.to_string());
            }
            match row.try_get::<Option<String>, _>(i) {
                Ok(text) => text.unwrap_or_else(|| "NULL".into()),
                Err(e) => panic!("column {}: {e}", row.columns()[i].name()),
            }
        })
        .collect()
}

fn postgres_cells(row: &PgRow) -> Cells {
    (0..row.columns().len())
        .map(|i| {
            let text = if let Ok(n) = row.try_get::<Option<i64>, _>(i) {
                n.map(|n| n.to_string())
            } else if let Ok(n) = row.try_get::<Option<i32>, _>(i) {
                n.map(|n| n.to_string())
            } else if let Ok(d) = row.try_get::<Option<NaiveDate>, _>(i) {
                d.map(|d| d.format("%Y-%m-%d").to_string())
            } else if let Ok(id) = row.try_get::<Option<uuid::Uuid>, _>(i) {
                id.map(|id| id.to_string())
            } else {
                match row.try_get::<Option<String>, _>(i) {
                    Ok(text) => text,
                    Err(e) => panic!("column {}: {e}", row.columns()[i].name()),
                }
            };
            text.unwrap_or_else(|| "NULL".into())
        })
        .collect()
}

/// Runs `sql` and returns its column names and rows.
async fn run(database: &TestDatabase, sql: &str) -> (Vec<String>, Vec<Cells>) {
    match database.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(database.url.expose())
                .await
                .unwrap();
            let rows = sqlx::query(sql).fetch_all(&pool).await.expect(sql);
            pool.close().await;
            let names = rows.first().map_or(Vec::new(), |r| {
                r.columns().iter().map(|c| c.name().to_owned()).collect()
            });
            (names, rows.iter().map(sqlite_cells).collect())
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(database.url.expose()).await.unwrap();
            let rows = sqlx::query(sql).fetch_all(&pool).await.expect(sql);
            pool.close().await;
            let names = rows.first().map_or(Vec::new(), |r| {
                r.columns().iter().map(|c| c.name().to_owned()).collect()
            });
            (names, rows.iter().map(postgres_cells).collect())
        }
    }
}

/// Expected values computed by hand, so the test fails if both backends are
/// wrong the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_are_basis_points_rounded_half_up() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(loaded) = loaded(backend).await else {
            continue;
        };
        assert_hand_computed_answers(&loaded.database).await;
    }
}

async fn assert_hand_computed_answers(database: &TestDatabase) {
    let (names, rows) = run(
        database,
        "SELECT tenant_id, report_refresh_date, report_period, total, web_share_bp, \
         windows_share_bp, chrome_os_share_bp, linux_share_bp \
         FROM teams_device_usage_shares ORDER BY tenant_id, report_period, report_refresh_date",
    )
    .await;
    assert_eq!(names[3], "total");
    let expected: [[&str; 8]; 8] = [
        // 3 of 40 = 7.5 % exactly; null optional counts have a null share.
        [
            "contoso",
            "2026-11-01",
            "7",
            "40",
            "750",
            "1750",
            "NULL",
            "NULL",
        ],
        // 1 of 3 = 33.333 %; zero counts have share 0.
        ["contoso", "2026-11-08", "7", "3", "3333", "0", "0", "0"],
        // 1 of 20000 = 0.5 bp, rounded half up to 1; 19999 of 20000 = 9999.5 -> 10000.
        [
            "contoso",
            "2026-11-15",
            "7",
            "20000",
            "1",
            "10000",
            "0",
            "NULL",
        ],
        [
            "contoso",
            "2026-10-15",
            "30",
            "360",
            "278",
            "1667",
            "1944",
            "2222",
        ],
        // An all-zero row has total 0 and no shares.
        [
            "contoso",
            "2026-11-15",
            "30",
            "0",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
        ],
        [
            "contoso",
            "2026-11-15",
            "180",
            "123456817",
            "10000",
            "0",
            "0",
            "0",
        ],
        [
            "fabrikam",
            "2026-11-13",
            "7",
            "6",
            "1667",
            "1667",
            "NULL",
            "NULL",
        ],
        [
            "fabrikam",
            "2026-11-20",
            "7",
            "10",
            "5000",
            "3000",
            "NULL",
            "2000",
        ],
    ];
    assert_eq!(rows, expected.map(|r| r.map(String::from)).to_vec());

    let (_, latest) = run(
        database,
        "SELECT tenant_id, report_period, report_refresh_date FROM teams_device_usage_latest \
         ORDER BY tenant_id, report_period",
    )
    .await;
    let expected = [
        ["contoso", "7", "2026-11-15"],
        ["contoso", "30", "2026-11-15"],
        ["contoso", "180", "2026-11-15"],
        ["fabrikam", "7", "2026-11-20"],
    ];
    assert_eq!(latest, expected.map(|r| r.map(String::from)).to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_query_answers_the_same_on_both_backends() {
    let queries = documented_queries();
    assert!(queries.len() >= 4, "docs/sql.md has its queries");
    let sqlite = loaded(Backend::Sqlite).await.unwrap();
    let Some(postgres) = loaded(Backend::Postgres).await else {
        return;
    };
    for query in &queries {
        let (sqlite_names, sqlite_rows) = run(&sqlite.database, query).await;
        let (postgres_names, postgres_rows) = run(&postgres.database, query).await;
        assert!(!sqlite_rows.is_empty(), "the test data answers\n{query}");
        assert_eq!(sqlite_names, postgres_names, "\n{query}");
        assert_eq!(sqlite_rows, postgres_rows, "\n{query}");
    }
}

/// Counts at Int64's extremes: totals past Int64 are NULL (no Int64 holds
/// them), every share is exact, both backends alike. The last row rounds
/// within 1e-19 of a half, where floating point alone would answer 5000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_views_are_exact_at_int64_extremes() {
    const MAX: i64 = i64::MAX;
    const N: i64 = 1 << 48;
    #[rustfmt::skip]
    let extremes = vec![
        row_with_counts("x", "2026-11-01", ReportPeriod::D7, [MAX, 0, 0, 0, 0, 0], None, None),
        row_with_counts("x", "2026-11-02", ReportPeriod::D7, [MAX; 6], Some(MAX), Some(MAX)),
        row_with_counts("x", "2026-11-03", ReportPeriod::D7, [MAX, 1, 0, 0, 0, 0], None, None),
        row_with_counts("x", "2026-11-04", ReportPeriod::D7, [MAX, MAX, 0, 0, 0, 0], Some(1), None),
        row_with_counts("x", "2026-11-05", ReportPeriod::D7, [9999 * N - 1, 0, 0, 0, 0, 10001 * N + 1], None, None),
    ];
    let expected: Vec<Vec<String>> = [
        [
            "2026-11-01",
            "9223372036854775807",
            "10000",
            "0",
            "0",
            "NULL",
            "NULL",
        ],
        ["2026-11-02", "NULL", "1250", "1250", "1250", "1250", "1250"],
        ["2026-11-03", "NULL", "10000", "0", "0", "NULL", "NULL"],
        ["2026-11-04", "NULL", "5000", "5000", "0", "0", "NULL"],
        [
            "2026-11-05",
            "5629499534213120000",
            "4999",
            "0",
            "5001",
            "NULL",
            "NULL",
        ],
    ]
    .iter()
    .map(|r| r.iter().map(|c| c.to_string()).collect())
    .collect();
    let mut answers = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(t) = TestStore::open(backend).await else {
            continue;
        };
        t.store.insert_rows(&extremes).await.unwrap();
        let (_, rows) = run(
            &t.database,
            "SELECT report_refresh_date, total, web_share_bp, windows_phone_share_bp, \
             windows_share_bp, chrome_os_share_bp, linux_share_bp \
             FROM teams_device_usage_shares ORDER BY report_refresh_date",
        )
        .await;
        assert_eq!(rows, expected, "{backend:?}");
        let (_, latest) = run(
            &t.database,
            "SELECT total, web_share_bp FROM teams_device_usage_latest",
        )
        .await;
        answers.push(latest);
    }
    answers.dedup();
    assert!(answers.len() <= 1, "{answers:?}");
}
