//! The dashboard over HTTP: the page and its files are open and locked down,
//! the chart needs a token, bounds its parameters and shows the caller's rows only.

use serde_json::json;

use crate::helpers::{assert_graph_error, valid_row, with, Backend, TestApp, READ, READ_WRITE};

backend_tests!(
    the_page_and_its_files_are_open_and_locked_down,
    the_chart_needs_a_token_and_bounded_parameters,
    the_chart_draws_the_callers_rows,
    the_rollup_chart_is_an_operators_and_sums_the_tenants
);

async fn the_page_and_its_files_are_open_and_locked_down(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for (path, media) in [
        ("/", "text/html"),
        ("/dashboard/app.js", "text/javascript"),
        ("/dashboard/app.css", "text/css"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert!(header("content-type").starts_with(media), "{path}");
        let policy = header("content-security-policy");
        assert!(policy.contains("default-src 'self'"), "{policy}");
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(!policy.contains("http"), "no other origin: {policy}");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "no-referrer");
    }
    let page = app.client.get(app.url("/")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("style="), "no inline style");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere"
    );
}

async fn the_chart_needs_a_token_and_bounded_parameters(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let chart = "/v1.0/dashboard/chart.svg?period=7";
    let anonymous = app.client.get(app.url(chart)).send().await.unwrap();
    assert_graph_error(anonymous, 401, "InvalidAuthenticationToken").await;
    for query in [
        "",
        "?period=8",
        "?period=7&from=2026-13-01",
        "?period=7&from=2026-02-01&to=2026-01-01",
        "?period=7&from=2010-01-01&to=2026-01-01",
        "?period=7&$top=5",
    ] {
        let response = app.get(&format!("/beta/dashboard/chart.svg{query}")).await;
        assert_graph_error(response, 400, "badRequest").await;
    }
}

async fn the_chart_draws_the_callers_rows(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for (day, web) in [("2026-03-01", 40), ("2026-03-02", 50)] {
        let row = with(valid_row(), "reportRefreshDate", json!(day));
        let response = app.post_row(&with(row, "web", json!(web))).await;
        assert_eq!(response.status(), 201);
    }
    let response = app
        .get("/beta/dashboard/chart.svg?period=7&from=2026-03-01&to=2026-03-31")
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("image/svg+xml"));
    let svg = response.text().await.unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("<title id=\"chart-title\">"), "{svg}");
    assert!(
        svg.contains("2 reports from 2026-03-01 to 2026-03-02"),
        "{svg}"
    );
    assert!(svg.contains("Web 50"), "{svg}");

    // Another tenant's token sees an empty chart, never these rows.
    let other = app.token_for("contoso", READ).await;
    let svg = app
        .get_as(&other, "/beta/dashboard/chart.svg?period=7")
        .await
        .text()
        .await
        .unwrap();
    assert!(svg.contains("No rows are stored"), "{svg}");
    assert!(!svg.contains("Web 50"), "{svg}");
}

async fn the_rollup_chart_is_an_operators_and_sums_the_tenants(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let chart = "/v1.0/tenants/rollup/chart.svg";
    for (tenant, web) in [("contoso", 40), ("fabrikam", 2)] {
        let token = app.token_for(tenant, READ_WRITE).await;
        let row = with(valid_row(), "reportRefreshDate", json!("2026-03-01"));
        let response = app.post_row_as(&token, &with(row, "web", json!(web))).await;
        assert_eq!(response.status(), 201);
    }
    // A tenant's token, and no token at all, are refused.
    let tenant = app.token_for("contoso", READ).await;
    let refused = app.get_as(&tenant, &format!("{chart}?period=7")).await;
    assert_graph_error(refused, 403, "accessDenied").await;
    let anonymous = app.client.get(app.url(chart)).send().await.unwrap();
    assert_graph_error(anonymous, 401, "InvalidAuthenticationToken").await;

    let operator = app.all_tenants_token("msp", READ).await;
    for query in [
        "",
        "?period=8",
        "?period=7&from=2026-13-01",
        "?period=7&from=2026-02-01&to=2026-01-01",
        "?period=7&from=2010-01-01&to=2026-01-01",
        "?period=7&$top=5",
        "?period=7&$format=text/csv",
        "?period=7&$filter=nonsense eq 1",
        "?period=7&colour=red",
    ] {
        let response = app.get_as(&operator, &format!("{chart}{query}")).await;
        assert_graph_error(response, 400, "badRequest").await;
    }

    let response = app
        .get_as(
            &operator,
            "/beta/tenants/rollup/chart.svg?period=7&from=2026-03-01&to=2026-03-31",
        )
        .await;
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert!(header("content-type").starts_with("image/svg+xml"));
    assert!(header("content-security-policy").contains("default-src 'self'"));
    assert_eq!(header("cache-control"), "no-store");
    let svg = response.text().await.unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(
        svg.contains(
            "<title id=\"chart-title\">Teams users by device, all tenants, 7-day reports</title>"
        ),
        "{svg}"
    );
    assert!(
        svg.contains("1 dates summed over the tenants from 2026-03-01 to 2026-03-01"),
        "{svg}"
    );
    assert!(svg.contains("Web 42"), "{svg}");

    // $filter chooses the tenants summed.
    let only = app
        .get_as(
            &operator,
            &format!("{chart}?period=7&$filter=id eq 'fabrikam'"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(only.contains("Web 2,") || only.contains("Web 2."), "{only}");
    // Nothing in a period: the empty chart.
    let empty = app
        .get_as(&operator, &format!("{chart}?period=30"))
        .await
        .text()
        .await
        .unwrap();
    assert!(empty.contains("No rows are stored"), "{empty}");
}
