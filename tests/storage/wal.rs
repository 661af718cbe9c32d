//! SQLite's write-ahead log is checkpointed in the background, not by the
//! writer: committed pages reach the database file soon after a commit, while
//! the writer's own automatic checkpoint (thousands of pages away) never ran.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use teams_usage_store::domain::ReportPeriod;

use crate::common::fixtures::row;
use crate::common::Backend;
use crate::TestStore;

fn database_file(store: &TestStore) -> PathBuf {
    let url = store.database.url.expose();
    PathBuf::from(url.strip_prefix("sqlite://").expect("a sqlite:// url"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_pages_reach_the_database_file_without_the_writer() {
    let store = TestStore::open(Backend::Sqlite).await.expect("sqlite");
    let file = database_file(&store);
    let wal = file.with_extension("db-wal");
    let before = std::fs::metadata(&file).unwrap().len();

    let rows: Vec<_> = (0..300)
        .map(|i| row(&format!("tenant-{i:03}"), "2026-11-01", ReportPeriod::D7, i))
        .collect();
    store.store.insert_rows(&rows).await.unwrap();
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the commit went to the WAL"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&file).unwrap().len() == before {
        assert!(
            Instant::now() < deadline,
            "no checkpoint copied the commit into the database file within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // What was checkpointed is the committed data: a fresh connection reads it.
    let mut connection =
        <sqlx::SqliteConnection as sqlx::Connection>::connect(store.database.url.expose())
            .await
            .unwrap();
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM teams_device_usage_distribution_user_counts")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert_eq!(stored, 300);
}
