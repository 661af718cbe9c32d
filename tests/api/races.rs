//! Requests racing each other on one natural key: each answers as if it ran
//! alone (201, 200, 204, 404 or 409), never 500.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::helpers::{valid_row, with, Backend, TestApp, COLLECTION};

backend_tests!(
    a_post_racing_a_delete_of_its_key_never_fails,
    a_post_racing_a_patch_that_moves_its_key_never_fails
);

/// Iterations at most, and the time they may take together.
const ROUNDS: usize = 400;
const TIME: Duration = Duration::from_secs(25);

fn day(i: usize) -> String {
    let first = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    (first + chrono::Duration::days(i as i64)).to_string()
}

async fn create(app: &TestApp, date: &str) -> String {
    let response = app
        .post_row(&with(valid_row(), "reportRefreshDate", json!(date)))
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let row: Value = response.json().await.unwrap();
    row["id"].as_str().unwrap().to_owned()
}

/// Races, for each round, a POST of the key with other counts against `other`
/// on the row that holds it.
async fn race<F, Fut>(app: &TestApp, other: F, other_ok: &[u16])
where
    F: Fn(String, String, usize) -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let started = Instant::now();
    let mut rounds = 0;
    while rounds < ROUNDS && started.elapsed() < TIME {
        let date = day(rounds);
        let id = create(app, &date).await;
        let racer = with(
            with(valid_row(), "reportRefreshDate", json!(date)),
            "web",
            json!(99),
        );
        let (post, other) = tokio::join!(app.post_row(&racer), other(id, date, rounds));
        let post = post.status().as_u16();
        assert!(
            [201, 409].contains(&post),
            "round {rounds}: POST answered {post}"
        );
        assert!(
            other_ok.contains(&other),
            "round {rounds}: other answered {other}"
        );
        rounds += 1;
    }
    assert!(rounds >= 20, "only {rounds} rounds ran");
}

async fn a_post_racing_a_delete_of_its_key_never_fails(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    race(
        &app,
        |id, _, _| {
            let request = app.request(reqwest::Method::DELETE, &format!("{COLLECTION}/{id}"));
            async move { request.send().await.unwrap().status().as_u16() }
        },
        &[204],
    )
    .await;
}

async fn a_post_racing_a_patch_that_moves_its_key_never_fails(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    race(
        &app,
        |id, _, round| {
            // Moved to a day no round uses.
            let elsewhere = day(ROUNDS + 1 + round);
            let request = app
                .request(reqwest::Method::PATCH, &format!("{COLLECTION}/{id}"))
                .json(&json!({"reportRefreshDate": elsewhere}));
            async move { request.send().await.unwrap().status().as_u16() }
        },
        &[204, 409],
    )
    .await;
}
