//! PATCH and DELETE on `{collection}/{id}`. What they refuse is in
//! `update/refusals.rs`.

mod refusals;

use reqwest::{RequestBuilder, Response};
use serde_json::{json, Value};
use teams_usage_store::domain::TenantId;
use uuid::Uuid;

use crate::helpers::{assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION};

backend_tests!(
    patch_sets_only_the_properties_it_names,
    prefer_return_representation_answers_the_row,
    null_clears_an_optional_count,
    int64_strings_need_ieee754_compatible,
    keeping_its_own_key_is_no_conflict,
    delete_answers_204_then_404,
    a_patch_that_changes_nothing_writes_nothing,
    concurrent_patches_of_different_properties_are_all_kept,
);

pub(super) fn row_url(app: &TestApp, id: &str) -> String {
    app.url(&format!("{COLLECTION}/{id}"))
}

pub(super) fn patch(app: &TestApp, token: &str, id: &str) -> RequestBuilder {
    app.client.patch(row_url(app, id)).bearer_auth(token)
}

pub(super) async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("request")
}

/// Creates a row and answers its id and JSON.
pub(super) async fn create(app: &TestApp, body: &Value) -> (String, Value) {
    let response = app.post_row(body).await;
    assert_eq!(response.status().as_u16(), 201);
    let row: Value = response.json().await.unwrap();
    (row["id"].as_str().unwrap().to_owned(), row)
}

pub(super) async fn fetch(app: &TestApp, id: &str) -> Value {
    let response = app.get(&format!("{COLLECTION}/{id}")).await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

pub(super) async fn assert_no_content(response: Response) {
    assert_eq!(response.status().as_u16(), 204);
    assert!(!response.headers().contains_key("content-type"));
    assert!(response.bytes().await.unwrap().is_empty());
}

pub(super) async fn patch_row_with_default_token(
    backend: Backend,
) -> Option<(TestApp, String, Value)> {
    let app = TestApp::spawn(backend).await?;
    let (id, row) = create(&app, &with(valid_row(), "linux", json!(2))).await;
    Some((app, id, row))
}

async fn patch_sets_only_the_properties_it_names(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    let response =
        send(patch(&app, &app.token, &id).json(&json!({"web": 10, "chromeOS": 4}))).await;
    assert_no_content(response).await;
    let after = fetch(&app, &id).await;
    let mut expected = before.clone();
    expected["web"] = json!(10);
    expected["chromeOS"] = json!(4);
    assert_eq!(after, expected);
    assert_eq!(app.row_count().await, 1);
}

async fn prefer_return_representation_answers_the_row(backend: Backend) {
    let Some((app, id, _)) = patch_row_with_default_token(backend).await else {
        return;
    };
    for prefer in [
        "return=representation",
        "odata.maxpagesize=5, return=representation",
    ] {
        let response = send(
            patch(&app, &app.token, &id)
                .header("Prefer", prefer)
                .json(&json!({"mac": 42, "reportPeriod": "30"})),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200, "{prefer}");
        assert_eq!(
            response.headers()["preference-applied"],
            "return=representation"
        );
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json;odata.metadata=minimal"));
        let body: Value = response.json().await.unwrap();
        assert!(body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/v1.0/$metadata#reports/teamsDeviceUsageDistributionUserCounts/$entity"));
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["mac"], 42);
        assert_eq!(body["reportPeriod"], "30");
        assert_eq!(body, fetch(&app, &id).await);
    }
    // return=minimal is the default answer.
    let response = send(
        patch(&app, &app.token, &id)
            .header("Prefer", "return=minimal")
            .json(&json!({"mac": 43})),
    )
    .await;
    assert_no_content(response).await;
}

async fn null_clears_an_optional_count(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    assert_eq!(before["linux"], 2);
    assert_no_content(send(patch(&app, &app.token, &id).json(&json!({"linux": null}))).await).await;
    assert_eq!(fetch(&app, &id).await["linux"], Value::Null);
}

async fn int64_strings_need_ieee754_compatible(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    let big = "9007199254740993"; // 2^53 + 1: a JavaScript number cannot hold it
    let plain = send(patch(&app, &app.token, &id).json(&json!({"web": big}))).await;
    assert_graph_error(plain, 400, "badRequest").await;
    assert_eq!(fetch(&app, &id).await, before);

    let response = send(
        patch(&app, &app.token, &id)
            .header("Content-Type", "application/json;IEEE754Compatible=true")
            .header("Accept", "application/json;IEEE754Compatible=true")
            .header("Prefer", "return=representation")
            .body(json!({"web": big}).to_string()),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.contains("IEEE754Compatible=true"),
        "{content_type}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["web"], big);
    assert_eq!(body["linux"], "2");
    assert_eq!(fetch(&app, &id).await["web"], 9_007_199_254_740_993_i64);
}

async fn keeping_its_own_key_is_no_conflict(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (id, _) = create(&app, &valid_row()).await;
    let (_, _) = create(&app, &with(valid_row(), "reportPeriod", json!("90"))).await;
    let body = json!({"reportRefreshDate": "2026-11-01", "reportPeriod": "7", "web": 5});
    assert_no_content(send(patch(&app, &app.token, &id).json(&body)).await).await;
    // A key nobody holds is free to take.
    let body = json!({"reportRefreshDate": "2026-10-01", "reportPeriod": "180"});
    assert_no_content(send(patch(&app, &app.token, &id).json(&body)).await).await;
    let row = fetch(&app, &id).await;
    assert_eq!(
        (&row["reportRefreshDate"], &row["reportPeriod"], &row["web"]),
        (&json!("2026-10-01"), &json!("180"), &json!(5))
    );
}

async fn delete_answers_204_then_404(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (id, _) = create(&app, &valid_row()).await;
    let (kept, kept_row) = create(&app, &with(valid_row(), "reportPeriod", json!("30"))).await;
    let delete = || {
        app.client
            .delete(row_url(&app, &id))
            .bearer_auth(&app.token)
    };
    assert_no_content(send(delete()).await).await;
    assert_graph_error(
        app.get(&format!("{COLLECTION}/{id}")).await,
        404,
        "itemNotFound",
    )
    .await;
    assert_graph_error(send(delete()).await, 404, "itemNotFound").await;
    let response = send(patch(&app, &app.token, &id).json(&json!({"web": 1}))).await;
    assert_graph_error(response, 404, "itemNotFound").await;
    assert_eq!(fetch(&app, &kept).await, kept_row);
    assert_eq!(app.row_count().await, 1);
    // The key is free again.
    assert_eq!(app.post_row(&valid_row()).await.status().as_u16(), 201);
}

async fn a_patch_that_changes_nothing_writes_nothing(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    let tenant = TenantId::parse("default").unwrap();
    let row_id = Uuid::parse_str(&id).unwrap();
    let stored = app.store.get_row(&tenant, row_id).await.unwrap().unwrap();
    for body in [
        json!({}),
        json!({"web": 3, "linux": 2, "reportPeriod": "7"}),
    ] {
        assert_no_content(send(patch(&app, &app.token, &id).json(&body)).await).await;
        let unchanged = app.store.get_row(&tenant, row_id).await.unwrap().unwrap();
        assert_eq!(unchanged, stored, "{body}");
    }
    assert_eq!(fetch(&app, &id).await, before);
    // A real change moves updated_at and keeps created_at.
    assert_no_content(send(patch(&app, &app.token, &id).json(&json!({"web": 4}))).await).await;
    let changed = app.store.get_row(&tenant, row_id).await.unwrap().unwrap();
    assert_eq!(changed.created_at, stored.created_at);
    assert!(changed.updated_at > stored.updated_at);
}

async fn concurrent_patches_of_different_properties_are_all_kept(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let properties = [
        "web",
        "windowsPhone",
        "androidPhone",
        "ios",
        "mac",
        "windows",
        "chromeOS",
        "linux",
    ];
    for round in 0..5_i64 {
        let (id, _) = create(
            &app,
            &with(
                valid_row(),
                "reportRefreshDate",
                json!(format!("2026-10-1{round}")),
            ),
        )
        .await;
        let patches = properties.iter().enumerate().map(|(i, property)| {
            let value = 1000 * (round + 1) + i as i64;
            send(patch(&app, &app.token, &id).json(&json!({ *property: value })))
        });
        for response in futures_util::future::join_all(patches).await {
            assert_eq!(response.status().as_u16(), 204);
        }
        let row = fetch(&app, &id).await;
        for (i, property) in properties.iter().enumerate() {
            assert_eq!(
                row[*property],
                1000 * (round + 1) + i as i64,
                "round {round}: {row}"
            );
        }
    }
}
