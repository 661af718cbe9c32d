//! When the database fails under the service: Graph errors, opaque messages,
//! nothing half-written.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION};

backend_tests!(
    a_failing_database_is_a_clean_server_error,
    an_unreachable_database_is_unavailable,
    an_unmigrated_database_is_not_ready
);

/// The rows table made to fail behind the service's back: every write and read
/// is a Graph 500 with an opaque message, and nothing is half-written.
async fn a_failing_database_is_a_clean_server_error(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let stored: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let sabotage = match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER sabotage BEFORE INSERT ON teams_device_usage_distribution_user_counts \
             BEGIN SELECT RAISE(ABORT, 'sabotaged'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION sabotage() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'sabotaged'; END $$; \
             CREATE TRIGGER sabotage BEFORE INSERT ON teams_device_usage_distribution_user_counts \
             FOR EACH ROW EXECUTE FUNCTION sabotage();"
        }
    };
    app.database.execute(sabotage).await;
    // Refused by the database for good: a retry would not help, so 500, not 503.
    let response = app
        .post_row(&with(valid_row(), "reportPeriod", json!("30")))
        .await;
    assert!(!response.headers().contains_key("retry-after"));
    let error = assert_graph_error(response, 500, "generalException").await;
    assert!(
        !error.to_string().contains("sabotaged"),
        "the cause stays in the log: {error}"
    );
    assert_eq!(app.row_count().await, 1);
    // Reads do not need inserts: they still work.
    let id = stored["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("{COLLECTION}/{id}"))
            .await
            .status()
            .as_u16(),
        200
    );

    // Now the table itself is gone.
    app.database
        .execute("ALTER TABLE teams_device_usage_distribution_user_counts RENAME TO gone")
        .await;
    for response in [
        app.get(&format!("{COLLECTION}/{id}")).await,
        app.get(COLLECTION).await,
        app.post_row(&with(valid_row(), "reportPeriod", json!("90")))
            .await,
    ] {
        let error = assert_graph_error(response, 500, "generalException").await;
        assert!(!error.to_string().contains("gone"), "{error}");
        assert!(!error.to_string().contains("no such table"), "{error}");
    }
    app.database
        .execute("ALTER TABLE gone RENAME TO teams_device_usage_distribution_user_counts")
        .await;
    assert_eq!(app.row_count().await, 1);
}

/// Postgres dropped the service's connections while they sat idle (a restart,
/// an administrator): the service notices before it uses them and answers
/// reads and writes as if nothing had happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_dropped_while_idle_are_replaced() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let stored: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let row = format!("{COLLECTION}/{}", stored["id"].as_str().unwrap());
    assert_eq!(app.get(&row).await.status().as_u16(), 200);
    app.database
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
    // Idle for longer than the service trusts a connection without a ping.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.get(&row).await.status().as_u16(), 200);
    let created = app
        .post_row(&with(valid_row(), "reportPeriod", json!("30")))
        .await;
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(app.row_count().await, 2);
}

/// No database to talk to: 503 with `Retry-After`, for reads, writes and readiness;
/// liveness is about the process, so it stays 200.
async fn an_unreachable_database_is_unavailable(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let stored: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let row = format!("{COLLECTION}/{}", stored["id"].as_str().unwrap());
    // The server's own connection pools, closed under it.
    app.store.close().await;
    for response in [
        app.get(&row).await,
        app.get(COLLECTION).await,
        app.post_row(&with(valid_row(), "reportPeriod", json!("30")))
            .await,
        app.client.get(app.url("/ready")).send().await.unwrap(),
    ] {
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        assert!(retry_after.is_some_and(|s| s > 0), "{response:?}");
        assert_graph_error(response, 503, "serviceNotAvailable").await;
    }
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(app.row_count().await, 1);
}

/// Readiness means migrated: a database missing its migrations is not ready.
async fn an_unmigrated_database_is_not_ready(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    app.database.execute("DELETE FROM _sqlx_migrations").await;
    let response = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_graph_error(response, 503, "serviceNotAvailable").await;
}
