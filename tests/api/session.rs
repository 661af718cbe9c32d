//! `GET {base}/dashboard/session`: who is signed in (the token's name, tenant
//! and reach) and how fresh the tenant's newest report is, for the page's header.

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use teams_usage_store::domain::TenantId;

use crate::helpers::{assert_graph_error, valid_row, with, Backend, TestApp, READ, READ_WRITE};

backend_tests!(
    a_tenant_token_sees_its_own_tenant_and_staleness,
    an_operator_names_the_tenant_or_none,
);

async fn session(app: &TestApp, token: &str, tenant: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url("/v1.0/dashboard/session"))
        .bearer_auth(token);
    if let Some(tenant) = tenant {
        request = request.header("tenant-id", tenant);
    }
    request.send().await.unwrap()
}

async fn a_tenant_token_sees_its_own_tenant_and_staleness(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.stale_after_days = 3).await else {
        return;
    };
    let token = app.token_for("contoso", READ_WRITE).await;
    let old = (Utc::now().date_naive() - Duration::days(5)).to_string();
    let response = app
        .post_json_as(
            &token,
            "/v1.0/reports/teamsDeviceUsageDistributionUserCounts",
            &with(valid_row(), "reportRefreshDate", json!(old)),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    app.store
        .set_tenant_name(&TenantId::parse("contoso").unwrap(), "Contoso Ltd")
        .await
        .unwrap();
    let body: Value = session(&app, &token, None).await.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "tokenName": "test",
            "tokenTenant": "contoso",
            "allTenants": false,
            "staleAfterDays": 3,
            "tenant": {"id": "contoso", "displayName": "Contoso Ltd",
                       "latestReportRefreshDate": old, "ageDays": 5, "stale": true},
        })
    );
    // A tenant with no report yet is stale too.
    let empty = app.token_for("fabrikam", READ).await;
    let body: Value = session(&app, &empty, None).await.json().await.unwrap();
    assert_eq!(body["tenant"]["stale"], true);
    assert_eq!(body["tenant"]["ageDays"], Value::Null);
    // The header is the operator's alone.
    assert_graph_error(
        session(&app, &token, Some("fabrikam")).await,
        403,
        "accessDenied",
    )
    .await;
    let anonymous = app
        .client
        .get(app.url("/v1.0/dashboard/session"))
        .send()
        .await
        .unwrap();
    assert_graph_error(anonymous, 401, "InvalidAuthenticationToken").await;
}

async fn an_operator_names_the_tenant_or_none(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let contoso = app.token_for("contoso", READ_WRITE).await;
    let today = Utc::now().date_naive().to_string();
    app.post_json_as(
        &contoso,
        "/v1.0/reports/teamsDeviceUsageDistributionUserCounts",
        &with(valid_row(), "reportRefreshDate", json!(today)),
    )
    .await;
    let operator = app.all_tenants_token("msp", READ).await;
    let body: Value = session(&app, &operator, None).await.json().await.unwrap();
    assert_eq!(body["allTenants"], true);
    assert_eq!(body["tokenName"], "operator");
    assert_eq!(body["tenant"], Value::Null);
    let body: Value = session(&app, &operator, Some("contoso"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["tenant"]["id"], "contoso");
    assert_eq!(body["tenant"]["stale"], false);
    assert_eq!(body["tenant"]["ageDays"], 0);
    assert_graph_error(
        session(&app, &operator, Some("a b")).await,
        400,
        "badRequest",
    )
    .await;
}
