//! Guessing tokens: failed authentication is limited per client address, with
//! 429 TooManyRequests and Retry-After, while tokens already verified keep working.

use std::time::Duration;

use teams_usage_store::config::AuthFailureLimit;

use crate::helpers::{assert_graph_error, Backend, TestApp, COLLECTION, READ};

backend_tests!(
    an_address_that_keeps_failing_waits,
    the_failure_limit_can_be_turned_off
);

async fn an_address_that_keeps_failing_waits(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.auth_failures = AuthFailureLimit {
            max_failures: 5,
            window: Duration::from_secs(2),
        };
    })
    .await
    else {
        return;
    };
    // Verified before the flood: it stays usable from the same address.
    assert_eq!(app.get(COLLECTION).await.status().as_u16(), 200);
    let new_token = app.token_for("default", READ).await;
    for i in 0..5 {
        let guess = format!("tus_guess{i}");
        assert_graph_error(
            app.get_as(&guess, COLLECTION).await,
            401,
            "InvalidAuthenticationToken",
        )
        .await;
    }
    for i in 0..50 {
        let refused = app.get_as(&format!("tus_more{i}"), COLLECTION).await;
        let retry_after: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
        assert_graph_error(refused, 429, "TooManyRequests").await;
    }
    assert_eq!(app.get(COLLECTION).await.status().as_u16(), 200);
    // A token not yet verified waits like any guess from this address...
    assert_eq!(
        app.get_as(&new_token, COLLECTION).await.status().as_u16(),
        429
    );
    // ...until the window is over.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        app.get_as(&new_token, COLLECTION).await.status().as_u16(),
        200
    );
}

async fn the_failure_limit_can_be_turned_off(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.auth_failures.max_failures = 0;
    })
    .await
    else {
        return;
    };
    for i in 0..40 {
        let status = app
            .get_as(&format!("tus_guess{i}"), COLLECTION)
            .await
            .status();
        assert_eq!(status.as_u16(), 401);
    }
}
