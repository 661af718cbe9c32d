//! An operator's token (`token create --all-tenants`): it reads any tenant,
//! naming it on each request in the `tenant-id` header, and writes none but
//! its own. An ordinary token that names a tenant is refused.

use serde_json::{json, Value};

use crate::batch::run_as;
use crate::helpers::{
    assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION, READ, READ_WRITE,
};

backend_tests!(
    an_operator_reads_any_tenant_it_names,
    an_operator_must_name_a_tenant,
    an_operator_writes_nothing_but_its_own_tenant,
    an_ordinary_token_may_not_name_a_tenant,
    a_batch_names_the_tenant_per_request_or_once,
);

const TENANT: &str = "tenant-id";

/// Stores a row for `tenant` with `web` users, through a token of its own.
async fn stored_for(app: &TestApp, tenant: &str, web: i64) -> String {
    let token = app.token_for(tenant, READ_WRITE).await;
    let response = app
        .post_json_as(&token, COLLECTION, &with(valid_row(), "web", json!(web)))
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let row: Value = response.json().await.unwrap();
    row["id"].as_str().unwrap().to_owned()
}

fn as_operator(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    tenant: &str,
) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header(TENANT, tenant)
}

async fn an_operator_reads_any_tenant_it_names(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let contoso = stored_for(&app, "contoso", 11).await;
    let fabrikam = stored_for(&app, "fabrikam", 22).await;
    let operator = app.all_tenants_token("msp", READ).await;
    for (tenant, id, web) in [("contoso", &contoso, 11), ("fabrikam", &fabrikam, 22)] {
        let page: Value = as_operator(&app, &operator, reqwest::Method::GET, COLLECTION, tenant)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = page["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str()], "{tenant}");
        let row = as_operator(
            &app,
            &operator,
            reqwest::Method::GET,
            &format!("{COLLECTION}/{id}"),
            tenant,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(row.status().as_u16(), 200);
        assert_eq!(row.json::<Value>().await.unwrap()["web"], web);
        let report = as_operator(
            &app,
            &operator,
            reqwest::Method::GET,
            "/v1.0/reports/getTeamsDeviceUsageDistributionUserCounts(period='D7')",
            tenant,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(report.status().as_u16(), 200);
        assert!(report.text().await.unwrap().contains(&format!(",{web},")));
    }
    // Another tenant's row is still nobody else's: named under the wrong tenant, it is not found.
    let crossed = as_operator(
        &app,
        &operator,
        reqwest::Method::GET,
        &format!("{COLLECTION}/{contoso}"),
        "fabrikam",
    )
    .send()
    .await
    .unwrap();
    assert_graph_error(crossed, 404, "itemNotFound").await;
}

async fn an_operator_must_name_a_tenant(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    stored_for(&app, "contoso", 1).await;
    let operator = app.all_tenants_token("msp", READ).await;
    // Never an implicit default: not its own tenant, not `default`.
    let unnamed = app.get_as(&operator, COLLECTION).await;
    let error = assert_graph_error(unnamed, 400, "badRequest").await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tenant-id"),
        "{error}"
    );
    for bad in ["a b", "x'y", &"a".repeat(65)] {
        let response = as_operator(&app, &operator, reqwest::Method::GET, COLLECTION, bad)
            .send()
            .await
            .unwrap();
        assert_graph_error(response, 400, "badRequest").await;
    }
}

async fn an_operator_writes_nothing_but_its_own_tenant(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let contoso = stored_for(&app, "contoso", 5).await;
    let before = app.row_count().await;
    for scopes in [READ, READ_WRITE] {
        let operator = app.all_tenants_token("msp", scopes).await;
        let row = format!("{COLLECTION}/{contoso}");
        let post = as_operator(
            &app,
            &operator,
            reqwest::Method::POST,
            COLLECTION,
            "contoso",
        )
        .json(&with(valid_row(), "reportRefreshDate", json!("2026-10-10")))
        .send()
        .await
        .unwrap();
        assert_graph_error(post, 403, "accessDenied").await;
        let patch = as_operator(&app, &operator, reqwest::Method::PATCH, &row, "contoso")
            .json(&json!({"web": 99}))
            .send()
            .await
            .unwrap();
        assert_graph_error(patch, 403, "accessDenied").await;
        let delete = as_operator(&app, &operator, reqwest::Method::DELETE, &row, "contoso")
            .send()
            .await
            .unwrap();
        assert_graph_error(delete, 403, "accessDenied").await;
        let batch = run_as(
            &app,
            &operator,
            json!([{"id": "1", "method": "DELETE", "url": format!("/reports/teamsDeviceUsageDistributionUserCounts/{contoso}"),
                    "headers": {"tenant-id": "contoso"}}]),
        )
        .await;
        assert_eq!(batch[0]["status"], 403);
    }
    assert_eq!(app.row_count().await, before);
    let stored: Value = app
        .get_as(
            &app.token_for("contoso", READ).await,
            &format!("{COLLECTION}/{contoso}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["web"], 5);
    // Granted Reports.ReadWrite.All, it writes its own tenant when it names it.
    let operator = app.all_tenants_token("msp", READ_WRITE).await;
    let own = as_operator(&app, &operator, reqwest::Method::POST, COLLECTION, "msp")
        .json(&valid_row())
        .send()
        .await
        .unwrap();
    assert_eq!(own.status().as_u16(), 201);
    assert_eq!(app.row_count().await, before + 1);
}

async fn an_ordinary_token_may_not_name_a_tenant(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let contoso = stored_for(&app, "contoso", 5).await;
    let fabrikam = app.token_for("fabrikam", READ_WRITE).await;
    for tenant in ["contoso", "fabrikam"] {
        let read = as_operator(&app, &fabrikam, reqwest::Method::GET, COLLECTION, tenant)
            .send()
            .await
            .unwrap();
        assert_graph_error(read, 403, "accessDenied").await;
        let write = as_operator(
            &app,
            &fabrikam,
            reqwest::Method::DELETE,
            &format!("{COLLECTION}/{contoso}"),
            tenant,
        )
        .send()
        .await
        .unwrap();
        assert_graph_error(write, 403, "accessDenied").await;
    }
    assert_eq!(app.row_count().await, 1);
}

async fn a_batch_names_the_tenant_per_request_or_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    stored_for(&app, "contoso", 11).await;
    stored_for(&app, "fabrikam", 22).await;
    let operator = app.all_tenants_token("msp", READ).await;
    let rows = "/reports/teamsDeviceUsageDistributionUserCounts";
    let responses = run_as(
        &app,
        &operator,
        json!([
            {"id": "1", "method": "GET", "url": rows, "headers": {"tenant-id": "contoso"}},
            {"id": "2", "method": "GET", "url": rows, "headers": {"tenant-id": "fabrikam"}},
            {"id": "3", "method": "GET", "url": rows},
        ]),
    )
    .await;
    assert_eq!(responses[0]["body"]["value"][0]["web"], 11);
    assert_eq!(responses[1]["body"]["value"][0]["web"], 22);
    assert_eq!(responses[2]["status"], 400);
    // Named once on the batch, the tenant holds for every request that names none.
    let response = app
        .client
        .post(app.url("/v1.0/$batch"))
        .bearer_auth(&operator)
        .header(TENANT, "fabrikam")
        .json(&json!({"requests": [{"id": "1", "method": "GET", "url": rows}]}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["responses"][0]["body"]["value"][0]["web"], 22);
}
