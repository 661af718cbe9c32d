//! The status shows the sources configured now: a source (or a period)
//! taken out of the configuration leaves `collect --status` and the status
//! route, while its recorded runs stay in the database.

use std::path::Path;

use teams_usage_store::config::Settings;
use teams_usage_store::startup::Application;
use teams_usage_store::storage;

use crate::common::{Backend, TestDatabase};
use crate::fake_graph::{FakeGraph, CLIENT_ID, CLIENT_SECRET, GRAPH_TENANT};
use crate::run;

backend_tests!(sources_no_longer_configured_leave_the_status);

/// A sources file of `(name, periods)`, every one reading the fake Graph into tenant `default`.
fn write_sources(path: &Path, sources: &[(&str, &str)]) {
    let sources: Vec<serde_json::Value> = sources
        .iter()
        .map(|(name, periods)| {
            serde_json::json!({"name": name, "graph_tenant_id": GRAPH_TENANT,
                "client_id": CLIENT_ID, "client_secret": "env:GRAPH_SECRET", "periods": periods})
        })
        .collect();
    std::fs::write(path, serde_json::json!({ "sources": sources }).to_string()).unwrap();
}

fn lookup(
    database: &TestDatabase,
    graph: &FakeGraph,
    sources: &Path,
    name: &str,
) -> Option<String> {
    Some(match name {
        "DATABASE_URL" => database.url.expose().to_owned(),
        "COLLECT_SOURCES" => sources.display().to_string(),
        "GRAPH_SECRET" => CLIENT_SECRET.to_owned(),
        "GRAPH_BASE_URL" | "GRAPH_LOGIN_URL" => graph.url.clone(),
        "PORT" => "0".into(),
        _ => return None,
    })
}

/// The `(source, reportPeriod)` pairs of `GET /v1.0/collection/status` on a
/// replica configured as `lookup` says. The first replica on the database
/// issues the token, kept in `token` for the next.
async fn route_status(
    lookup: impl Fn(&str) -> Option<String>,
    token: &mut Option<String>,
) -> Vec<(String, String)> {
    let app = Application::build(Settings::from_lookup(lookup).unwrap())
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    if let Some(issued) = app.bootstrap_token() {
        *token = Some(issued.to_owned());
    }
    let handle = app.server_handle();
    tokio::spawn(app.run_until_stopped());
    let status: serde_json::Value = reqwest::Client::new()
        .get(format!("{address}/v1.0/collection/status"))
        .bearer_auth(
            token
                .as_deref()
                .expect("the first start on the database issues a token"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    handle.stop(true).await;
    status["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| {
            (
                run["source"].as_str().unwrap().to_owned(),
                run["reportPeriod"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(s, p)| (s.to_string(), p.to_string()))
        .collect()
}

async fn sources_no_longer_configured_leave_the_status(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sources.json");
    let env = |file: &Path| {
        vec![
            ("COLLECT_SOURCES".to_owned(), file.display().to_string()),
            ("GRAPH_SECRET".to_owned(), CLIENT_SECRET.to_owned()),
            ("GRAPH_BASE_URL".to_owned(), graph.url.clone()),
            ("GRAPH_LOGIN_URL".to_owned(), graph.url.clone()),
        ]
    };
    let mut token = None;
    // Runs of A (D7 and D30) and of B (D7) are recorded...
    write_sources(&file, &[("A", "D7,D30"), ("B", "D7")]);
    assert!(
        route_status(|name| lookup(&database, &graph, &file, name), &mut token)
            .await
            .is_empty()
    );
    let collected = run(&database, &["collect"], env(&file)).await;
    assert!(collected.success, "{}", collected.stderr);
    assert_eq!(
        route_status(|name| lookup(&database, &graph, &file, name), &mut token).await,
        pairs(&[("A", "7"), ("A", "30"), ("B", "7")])
    );

    // ...then B is taken out, and A's D30.
    write_sources(&file, &[("A", "D7")]);
    let status = run(&database, &["collect", "--status"], env(&file)).await;
    assert!(status.success, "{}", status.stderr);
    let lines: Vec<&str> = status.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", status.stdout);
    assert!(
        lines[0].starts_with("A D7 -> tenant 'default': 0 new"),
        "{}",
        status.stdout
    );
    assert_eq!(
        route_status(|name| lookup(&database, &graph, &file, name), &mut token).await,
        pairs(&[("A", "7")])
    );

    // B's runs and A's D30 are still recorded: a process with no source
    // configured lists them all.
    let store = storage::connect(&database.url, 1).await.unwrap();
    let recorded: Vec<(String, String)> = store
        .latest_collection_runs(None)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.last_run.source, s.last_run.period.to_string()))
        .collect();
    store.close().await;
    assert_eq!(recorded, pairs(&[("A", "7"), ("A", "30"), ("B", "7")]));
    let everything = run(&database, &["collect", "--status"], vec![]).await;
    assert_eq!(
        everything.stdout.lines().count(),
        3,
        "{}",
        everything.stdout
    );
    assert_eq!(
        route_status(
            |name| match name {
                "COLLECT_SOURCES" | "GRAPH_SECRET" => None,
                name => lookup(&database, &graph, &file, name),
            },
            &mut token
        )
        .await,
        pairs(&[("A", "7"), ("A", "30"), ("B", "7")])
    );
}
