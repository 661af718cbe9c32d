//! What the report function refuses, each with Graph's error body.

use super::{csv_lines, report, row_on, store};
use crate::helpers::{assert_graph_error, valid_row, Backend, TestApp, READ};

backend_tests!(
    bad_periods_and_malformed_calls_are_400,
    other_function_names_are_404,
    formats_it_cannot_produce_are_406,
    reading_needs_a_valid_token_and_only_read_scope,
    other_methods_on_the_function_are_405,
);

async fn bad_periods_and_malformed_calls_are_400(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-03", "7", 3)).await;
    let call = "/v1.0/reports/getTeamsDeviceUsageDistributionUserCounts";
    for path in [
        format!("{call}(period='D8')"),
        format!("{call}(period='D365')"),
        format!("{call}(period='7')"),
        format!("{call}(period='d7')"),
        format!("{call}(period='')"),
        format!("{call}(period=D7)"),
        format!("{call}(period=\"D7\")"),
        format!("{call}(period='D7'"),
        format!("{call}(period='D7',period='D30')"),
        format!("{call}(date='2026-11-01')"),
        format!("{call}()"),
        call.to_owned(),
        format!("{}?$top=1", report("v1.0", "D7")),
        format!("{}?$filter=web%20gt%201", report("v1.0", "D7")),
        format!("{}?period=D7", report("v1.0", "D7")),
        format!("{}?$format=text/csv&$format=text/csv", report("v1.0", "D7")),
    ] {
        let error = assert_graph_error(app.get(&path).await, 400, "badRequest").await;
        assert!(
            error["error"]["message"].as_str().unwrap().len() > 20,
            "{path}: {error}"
        );
    }
    let error = assert_graph_error(app.get(&report("v1.0", "D8")).await, 400, "badRequest").await;
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("D8") && message.contains("D180"),
        "{message}"
    );
    assert_eq!(app.row_count().await, 1);
}

async fn other_function_names_are_404(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for path in [
        "/v1.0/reports/getTeamsDeviceUsageUserCounts(period='D7')",
        "/v1.0/reports/getTeamsDeviceUsageDistributionUserCountsX(period='D7')",
        "/v1.0/reports/getTeamsDeviceUsageDistributionUserCounts(period='D7')/more",
        "/v1.0/reports/other.namespace.getTeamsDeviceUsageDistributionUserCounts(period='D7')",
        "/v2.0/reports/getTeamsDeviceUsageDistributionUserCounts(period='D7')",
    ] {
        assert_graph_error(app.get(path).await, 404, "itemNotFound").await;
    }
}

async fn formats_it_cannot_produce_are_406(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-03", "7", 3)).await;
    for format in ["application/xml", "text/html", "xlsx", "json"] {
        let path = format!("{}?$format={format}", report("v1.0", "D7"));
        assert_graph_error(app.get(&path).await, 406, "notAcceptable").await;
    }
    for accept in [
        "application/xml",
        "image/png, text/html",
        "text/csv;q=0, application/*;q=0",
    ] {
        let response = app
            .client
            .get(app.url(&report("v1.0", "D7")))
            .bearer_auth(&app.token)
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert_graph_error(response, 406, "notAcceptable").await;
    }
    // $format wins over an Accept it contradicts.
    let response = app
        .client
        .get(app.url(&format!("{}?$format=text/csv", report("v1.0", "D7"))))
        .bearer_auth(&app.token)
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(csv_lines(response).await.len(), 2);
}

async fn reading_needs_a_valid_token_and_only_read_scope(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-03", "7", 3)).await;
    let reader = app.token_for("default", READ).await;
    assert_eq!(
        csv_lines(app.get_as(&reader, &report("v1.0", "D7")).await)
            .await
            .len(),
        2
    );
    let response = app
        .client
        .get(app.url(&report("v1.0", "D7")))
        .send()
        .await
        .unwrap();
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
    let response = app.get_as("not-a-token", &report("v1.0", "D7")).await;
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
    // Authentication comes before the call is looked at.
    let response = app.get_as("not-a-token", &report("v1.0", "D8")).await;
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
}

async fn other_methods_on_the_function_are_405(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let response = app
        .client
        .post(app.url(&report("v1.0", "D7")))
        .bearer_auth(&app.token)
        .json(&valid_row())
        .send()
        .await
        .unwrap();
    assert_graph_error(response, 405, "methodNotAllowed").await;
    let response = app
        .client
        .delete(app.url(&report("beta", "D7")))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_graph_error(response, 405, "methodNotAllowed").await;
    assert_eq!(app.row_count().await, 0);
}
