//! `serve` with COLLECT_EVERY: replicas on one database collect once per
//! interval between them, and say so on /metrics and the status route.

use std::time::Duration;

use teams_usage_store::collect::LEASE_NAME;
use teams_usage_store::config::Settings;
use teams_usage_store::startup::Application;

use crate::common::{Backend, TestDatabase};
use crate::fake_graph::{FakeGraph, BETA_HEADER, CLIENT_ID, CLIENT_SECRET, GRAPH_TENANT};

backend_tests!(
    two_replicas_collect_once_per_interval_between_them,
    a_lease_left_by_a_dead_replica_runs_out
);

const EVERY_SECONDS: u64 = 2;

/// A replica on `database` that collects D7 from `graph` every two seconds.
async fn replica(
    database: &TestDatabase,
    graph: &FakeGraph,
) -> (String, Option<String>, actix_web::dev::ServerHandle) {
    let url = database.url.expose().to_owned();
    let every = format!("{EVERY_SECONDS}s");
    let settings = Settings::from_lookup(|name| {
        Some(match name {
            "DATABASE_URL" => url.clone(),
            "PORT" => "0".into(),
            "GRAPH_TENANT_ID" => GRAPH_TENANT.into(),
            "GRAPH_CLIENT_ID" => CLIENT_ID.into(),
            "GRAPH_CLIENT_SECRET" => CLIENT_SECRET.into(),
            "GRAPH_BASE_URL" | "GRAPH_LOGIN_URL" => graph.url.clone(),
            "COLLECT_PERIODS" => "D7".into(),
            "COLLECT_EVERY" => every.clone(),
            _ => return None,
        })
    })
    .unwrap();
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let token = app.bootstrap_token().map(str::to_owned);
    let handle = app.server_handle();
    tokio::spawn(app.run_until_stopped());
    (address, token, handle)
}

async fn two_replicas_collect_once_per_interval_between_them(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.set_csv(
        "D7",
        &format!("{BETA_HEADER}\r\n2026-11-27,1,0,2,3,4,5,6,7,7\r\n"),
    );
    let (first, token, first_handle) = replica(&database, &graph).await;
    let (second, _, second_handle) = replica(&database, &graph).await;
    // Ticks at 0, 2 and 4 seconds: three intervals.
    tokio::time::sleep(Duration::from_millis(EVERY_SECONDS * 2500)).await;
    // Three when both tick on time; two if a loaded machine delays the last
    // tick; without the lease each replica would collect: five or six.
    let calls = graph.report_calls("beta/D7");
    assert!(
        (2..=3).contains(&calls),
        "{calls} collections: one per interval, not one per replica"
    );

    // Each replica keeps its token across runs: at most one token each.
    graph.with(|s| assert!(s.token_requests <= 2, "{} tokens", s.token_requests));

    // The runs are visible: the route, for the tenant's token, and /metrics
    // of whichever replica ran them.
    let client = reqwest::Client::new();
    let token = token.expect("the first replica issued the bootstrap token");
    let status: serde_json::Value = client
        .get(format!("{second}/v1.0/collection/status"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["collectEverySeconds"], EVERY_SECONDS);
    let runs = status["value"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{status}");
    assert_eq!(runs[0]["reportPeriod"], "7");
    assert!(runs[0]["lastSuccessAt"].is_string(), "{status}");
    assert_eq!(runs[0]["error"], serde_json::Value::Null);
    assert_eq!(runs[0]["failuresSinceSuccess"], 0);
    let unauthenticated = client
        .get(format!("{first}/v1.0/collection/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let mut seen = false;
    for address in [&first, &second] {
        let metrics = client
            .get(format!("{address}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        seen |= metrics.contains(&format!(
            "teams_usage_store_collection_last_success_timestamp_seconds{{source=\"{GRAPH_TENANT}->default\"}}"
        ));
    }
    assert!(seen, "a replica reports the last success");
    first_handle.stop(true).await;
    second_handle.stop(true).await;
    assert_eq!(database.row_count().await, 1);
}

async fn a_lease_left_by_a_dead_replica_runs_out(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    // A replica took the lease and died mid-run: it holds it one more second.
    let store = teams_usage_store::storage::connect(&database.url, 1)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let now = chrono::Utc::now();
    let until = now + chrono::Duration::seconds(2);
    assert!(store
        .take_lease(LEASE_NAME, "dead", now, until)
        .await
        .unwrap());
    store.close().await;

    let (_, _, handle) = replica(&database, &graph).await;
    let until_now = |margin_ms: i64| {
        (until + chrono::Duration::milliseconds(margin_ms) - chrono::Utc::now())
            .to_std()
            .unwrap_or_default()
    };
    // Nobody collects while the lease is held...
    tokio::time::sleep(until_now(-200)).await;
    assert_eq!(graph.report_calls("beta/D7"), 0);
    // ...and the first tick after it ran out does.
    let deadline = tokio::time::Instant::now() + until_now(EVERY_SECONDS as i64 * 1000 + 1000);
    while graph.report_calls("beta/D7") == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        graph.report_calls("beta/D7") >= 1,
        "nobody collected after the lease ran out"
    );
    handle.stop(true).await;
}
