use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION};

backend_tests!(
    a_valid_row_is_created,
    an_identical_repost_is_a_replay,
    other_counts_for_the_same_key_conflict,
    every_problem_of_a_body_is_reported
);

async fn a_valid_row_is_created(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let response = app.post_row(&valid_row()).await;
    assert_eq!(response.status().as_u16(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let id = body["id"].as_str().unwrap();
    assert!(
        location.ends_with(&format!("{COLLECTION}/{id}")),
        "{location}"
    );
    assert_eq!(
        body["@odata.type"],
        "#microsoft.graph.teamsDeviceUsageDistributionUserCounts"
    );
    assert!(body["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("/v1.0/$metadata#reports/teamsDeviceUsageDistributionUserCounts/$entity"));
    assert_eq!(body["windowsPhone"], 12);
    assert_eq!(body["reportPeriod"], "7");
    assert_eq!(body["chromeOS"], Value::Null);

    let fetched: Value = app
        .get(&format!("{COLLECTION}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, body);
    assert_eq!(app.row_count().await, 1);
}

async fn an_identical_repost_is_a_replay(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let again = app.post_row(&valid_row()).await;
    assert_eq!(again.status().as_u16(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(app.row_count().await, 1);
}

async fn other_counts_for_the_same_key_conflict(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let response = app.post_row(&with(valid_row(), "web", json!(4))).await;
    let body = assert_graph_error(response, 409, "conflict").await;
    let id = first["id"].as_str().unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains(id),
        "{body}"
    );
    assert_eq!(app.row_count().await, 1);
}

async fn every_problem_of_a_body_is_reported(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let body = with(
        with(with(valid_row(), "web", json!(-1)), "mac", json!("x")),
        "bogus",
        json!(1),
    );
    let error = assert_graph_error(app.post_row(&body).await, 400, "badRequest").await;
    let mut targets: Vec<&str> = error["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["target"].as_str().unwrap())
        .collect();
    targets.sort();
    assert_eq!(targets, ["bogus", "mac", "web"]);
    assert_eq!(app.row_count().await, 0);
}
