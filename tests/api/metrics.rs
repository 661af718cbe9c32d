//! `GET /metrics`: Prometheus text with requests by route pattern, method and
//! status, their latency, what became of the rows offered by POST, and each
//! tenant's report age.

use chrono::{Days, Utc};
use serde_json::json;
use teams_usage_store::config::Secret;

use crate::helpers::{
    assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION, READ, READ_WRITE,
};

backend_tests!(
    requests_are_counted_by_route_pattern_method_and_status,
    row_outcomes_are_counted,
    a_metrics_token_closes_the_endpoint,
    alerts_and_dashboard_name_only_exported_metrics,
    tenant_report_ages_are_those_of_the_tenants_list,
    tenants_past_the_cap_are_counted_not_exported,
);

/// The metric names `text` mentions (`teams_usage_store_*`, `process_*`).
fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for (start, _) in text.match_indices(['t', 'p']) {
        let rest = &text[start..];
        if !(rest.starts_with("teams_usage_store_") || rest.starts_with("process_")) {
            continue;
        }
        if start > 0 && text[..start].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        names.insert(rest[..end].to_owned());
    }
    names
}

/// Every metric deploy/ alerts on or charts is one `/metrics` exports.
async fn alerts_and_dashboard_name_only_exported_metrics(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    assert_eq!(app.post_row(&valid_row()).await.status(), 201);
    let unauthenticated = app.client.get(app.url(COLLECTION)).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let text = scrape(&app.client, app.url("/metrics")).await;
    let exported: std::collections::BTreeSet<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect();
    for required in [
        "teams_usage_store_build_info",
        "teams_usage_store_db_pool_connections",
        "teams_usage_store_group_commit_queued_rows",
        "teams_usage_store_group_commit_batch_rows_bucket",
        "teams_usage_store_group_commit_duration_seconds_bucket",
        "teams_usage_store_rate_limited_total",
        "teams_usage_store_authentication_failures_total",
        "teams_usage_store_tenant_report_age_days",
        "teams_usage_store_tenant_report_age_omitted",
        "teams_usage_store_stale_tenants",
        "teams_usage_store_stale_after_days",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
    ] {
        assert!(exported.contains(required), "{required}: {text}");
    }
    assert_eq!(
        series(&text, "teams_usage_store_authentication_failures_total"),
        Some(1.0)
    );
    assert!(
        text.contains(&format!(
            r#"backend="{}""#,
            match backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            }
        )),
        "{text}"
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let alerts = std::fs::read_to_string(root.join("prometheus/alerts.yaml")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("grafana/dashboard.json")).unwrap(),
    )
    .expect("the dashboard is JSON");
    let queries: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|panel| panel["targets"].as_array().unwrap().clone())
        .map(|target| target["expr"].as_str().unwrap().to_owned())
        .collect();
    assert!(queries.len() >= 8);
    for (file, names) in [
        ("alerts.yaml", metric_names(&alerts)),
        ("dashboard.json", metric_names(&queries.join("\n"))),
    ] {
        assert!(!names.is_empty());
        for name in names {
            assert!(
                exported.contains(&name),
                "{file} names {name}, which /metrics does not export"
            );
        }
    }
}

/// The value of one series, e.g. `name{a="b"}`, in the exposition `text`.
fn series(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map(|value| value.parse().expect("a number"))
}

async fn scrape(client: &reqwest::Client, url: String) -> String {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.unwrap()
}

async fn requests_are_counted_by_route_pattern_method_and_status(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let created: serde_json::Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(app.get(&format!("{COLLECTION}/{id}")).await.status(), 200);
    }
    let missing = app.get("/v1.0/no/such/route").await;
    assert_eq!(missing.status(), 404);
    let text = scrape(&app.client, app.url("/metrics")).await;

    let requests = "teams_usage_store_http_requests_total";
    let by_id = "/v1.0/reports/teamsDeviceUsageDistributionUserCounts/{id}";
    assert_eq!(
        series(
            &text,
            &format!(r#"{requests}{{method="GET",route="{by_id}",status="200"}}"#)
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            &format!(r#"{requests}{{method="POST",route="{COLLECTION}",status="201"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            &format!(r#"{requests}{{method="GET",route="unmatched",status="404"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    // Patterns, never raw paths: no id and no scanned path becomes a label.
    assert!(!text.contains(id), "{text}");
    assert!(!text.contains("/no/such/route"), "{text}");

    let latency = "teams_usage_store_http_request_duration_seconds";
    assert_eq!(
        series(
            &text,
            &format!(r#"{latency}_count{{method="GET",route="{by_id}",status="200"}}"#)
        ),
        Some(2.0),
        "{text}"
    );
    let sum = series(
        &text,
        &format!(r#"{latency}_sum{{method="GET",route="{by_id}",status="200"}}"#),
    )
    .unwrap();
    assert!(sum > 0.0 && sum < 10.0, "{sum}");
}

async fn row_outcomes_are_counted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let rows = "teams_usage_store_rows_total";
    let before = scrape(&app.client, app.url("/metrics")).await;
    for outcome in ["created", "replayed", "conflict"] {
        let series_name = format!(r#"{rows}{{outcome="{outcome}"}}"#);
        assert_eq!(series(&before, &series_name), Some(0.0), "{before}");
    }

    assert_eq!(app.post_row(&valid_row()).await.status(), 201);
    let other_day = with(valid_row(), "reportRefreshDate", json!("2026-11-02"));
    assert_eq!(app.post_row(&other_day).await.status(), 201);
    assert_eq!(app.post_row(&valid_row()).await.status(), 200);
    let conflicting = with(valid_row(), "web", json!(99));
    assert_eq!(app.post_row(&conflicting).await.status(), 409);
    // A refused body offers no row.
    let invalid = with(valid_row(), "web", json!(-1));
    assert_eq!(app.post_row(&invalid).await.status(), 400);

    let text = scrape(&app.client, app.url("/metrics")).await;
    let count = |outcome: &str| series(&text, &format!(r#"{rows}{{outcome="{outcome}"}}"#));
    assert_eq!(count("created"), Some(2.0), "{text}");
    assert_eq!(count("replayed"), Some(1.0), "{text}");
    assert_eq!(count("conflict"), Some(1.0), "{text}");
    assert_eq!(app.row_count().await, 2);
}

async fn a_metrics_token_closes_the_endpoint(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.metrics_token = Some(Secret::new("scrape-secret"))
    })
    .await
    else {
        return;
    };
    let metrics = app.url("/metrics");
    let anonymous = app.client.get(&metrics).send().await.unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    assert_graph_error(anonymous, 401, "InvalidAuthenticationToken").await;
    for wrong in ["wrong", app.token.as_str()] {
        let response = app
            .client
            .get(&metrics)
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap();
        assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
    }
    let allowed = app
        .client
        .get(&metrics)
        .bearer_auth("scrape-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status().as_u16(), 200);
    let text = allowed.text().await.unwrap();
    // The refused scrapes were counted like any request.
    assert!(
        text.contains(r#"route="/metrics",status="401"} 3"#),
        "{text}"
    );
}

/// `reportRefreshDate` `days` days before today (UTC).
fn days_ago(days: u64) -> String {
    (Utc::now().date_naive() - Days::new(days)).to_string()
}

/// Stores a row of `period` refreshed `days` days ago, with `token`.
async fn store_row(app: &TestApp, token: &str, period: &str, days: u64) {
    let row = with(
        with(valid_row(), "reportRefreshDate", json!(days_ago(days))),
        "reportPeriod",
        json!(period),
    );
    assert_eq!(app.post_row_as(token, &row).await.status(), 201);
}

fn age_series(tenant: &str) -> String {
    format!(r#"teams_usage_store_tenant_report_age_days{{tenant="{tenant}"}}"#)
}

/// Every tenant's age, as `/metrics` and `GET {base}/tenants` give it: the
/// newest report of any period; a tenant without rows has no age series.
async fn tenant_report_ages_are_those_of_the_tenants_list(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.stale_after_days = 3).await else {
        return;
    };
    // `default` (the bootstrap token's): fresh, its newest period counting.
    store_row(&app, &app.token, "7", 1).await;
    store_row(&app, &app.token, "30", 20).await;
    let fabrikam = app.token_for("fabrikam", READ_WRITE).await;
    store_row(&app, &fabrikam, "7", 10).await;
    // A token and no rows: no age, but stale.
    app.token_for("northwind", READ).await;

    let text = scrape(&app.client, app.url("/metrics")).await;
    assert_eq!(series(&text, &age_series("default")), Some(1.0), "{text}");
    assert_eq!(series(&text, &age_series("fabrikam")), Some(10.0), "{text}");
    assert!(!text.contains(r#"tenant="northwind""#), "{text}");
    for (name, value) in [
        ("teams_usage_store_tenants", 3.0),
        ("teams_usage_store_stale_tenants", 2.0),
        ("teams_usage_store_stale_after_days", 3.0),
        ("teams_usage_store_tenant_report_age_omitted", 0.0),
    ] {
        assert_eq!(series(&text, name), Some(value), "{name}: {text}");
    }
    let read_at = series(&text, "teams_usage_store_tenant_summary_timestamp_seconds").unwrap();
    assert!(
        (read_at - Utc::now().timestamp() as f64).abs() < 60.0,
        "{read_at}"
    );

    // The same numbers as the operator's list (its own tenant is `default`).
    let operator = app.all_tenants_token("default", READ).await;
    let list: serde_json::Value = app
        .get_as(&operator, "/v1.0/tenants")
        .await
        .json()
        .await
        .unwrap();
    let tenants = list["value"].as_array().unwrap();
    assert_eq!(tenants.len(), 3, "{list}");
    for tenant in tenants {
        let id = tenant["id"].as_str().unwrap();
        assert_eq!(
            series(&text, &age_series(id)),
            tenant["ageDays"].as_f64(),
            "{id}: {list}"
        );
    }
    let stale = tenants.iter().filter(|t| t["stale"] == true).count();
    assert_eq!(stale, 2, "{list}");
}

/// With `METRICS_TENANT_SERIES` below the tenants with a report, the stalest
/// are exported and the others counted.
async fn tenants_past_the_cap_are_counted_not_exported(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.metrics_tenant_series = 1).await else {
        return;
    };
    store_row(&app, &app.token, "7", 2).await;
    let fabrikam = app.token_for("fabrikam", READ_WRITE).await;
    store_row(&app, &fabrikam, "7", 6).await;

    let text = scrape(&app.client, app.url("/metrics")).await;
    assert_eq!(series(&text, &age_series("fabrikam")), Some(6.0), "{text}");
    assert!(!text.contains(r#"tenant="default""#), "{text}");
    assert_eq!(
        series(&text, "teams_usage_store_tenant_report_age_omitted"),
        Some(1.0),
        "{text}"
    );
    // The counts take in every tenant, cut or not.
    assert_eq!(
        series(&text, "teams_usage_store_tenants"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "teams_usage_store_stale_tenants"),
        Some(1.0),
        "{text}"
    );
}
