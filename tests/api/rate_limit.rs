//! Per-token rate limits: 429 TooManyRequests with Retry-After, keyed by the
//! token, never writing anything.

use std::num::NonZeroU32;
use std::time::Duration;

use teams_usage_store::config::RateLimit;

use crate::helpers::{
    assert_graph_error, valid_row, Backend, TestApp, COLLECTION, READ, READ_WRITE,
};

backend_tests!(
    a_token_over_its_limit_gets_429_with_retry_after,
    the_limit_belongs_to_the_token_not_the_address,
    a_refused_post_writes_nothing,
    the_bucket_refills_after_retry_after,
);

/// A bucket of `burst` requests refilled at one per second.
async fn limited(backend: Backend, burst: u32) -> Option<TestApp> {
    TestApp::spawn_with(backend, |settings| {
        settings.rate_limit = Some(RateLimit {
            per_second: NonZeroU32::new(1).unwrap(),
            burst: NonZeroU32::new(burst).unwrap(),
        })
    })
    .await
}

/// Spends `n` requests of the token's bucket, each of which must succeed.
async fn spend(app: &TestApp, token: &str, n: usize) {
    for _ in 0..n {
        let response = app.get_as(token, COLLECTION).await;
        assert_eq!(response.status().as_u16(), 200);
    }
}

async fn a_token_over_its_limit_gets_429_with_retry_after(backend: Backend) {
    let Some(app) = limited(backend, 3).await else {
        return;
    };
    spend(&app, &app.token, 3).await;
    let refused = app.get_as(&app.token, COLLECTION).await;
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    let body = assert_graph_error(refused, 429, "TooManyRequests").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("retry after"),
        "{body}"
    );
    // Open routes take no token, so no bucket either.
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

async fn the_limit_belongs_to_the_token_not_the_address(backend: Backend) {
    let Some(app) = limited(backend, 2).await else {
        return;
    };
    let other = app.token_for("default", READ).await;
    spend(&app, &app.token, 2).await;
    let refused = app.get_as(&app.token, COLLECTION).await;
    assert_graph_error(refused, 429, "TooManyRequests").await;
    // Same client, same address, same tenant: another token has its own bucket.
    spend(&app, &other, 2).await;
    let refused = app.get_as(&other, COLLECTION).await;
    assert_graph_error(refused, 429, "TooManyRequests").await;
}

async fn a_refused_post_writes_nothing(backend: Backend) {
    let Some(app) = limited(backend, 1).await else {
        return;
    };
    let writer = app.token_for("default", READ_WRITE).await;
    spend(&app, &writer, 1).await;
    let refused = app
        .client
        .post(app.url(COLLECTION))
        .bearer_auth(&writer)
        .json(&valid_row())
        .send()
        .await
        .unwrap();
    assert_graph_error(refused, 429, "TooManyRequests").await;
    assert_eq!(app.database.row_count().await, 0);
}

async fn the_bucket_refills_after_retry_after(backend: Backend) {
    let Some(app) = limited(backend, 1).await else {
        return;
    };
    spend(&app, &app.token, 1).await;
    let refused = app.get_as(&app.token, COLLECTION).await;
    assert_eq!(refused.status().as_u16(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(wait)).await;
    spend(&app, &app.token, 1).await;
}
