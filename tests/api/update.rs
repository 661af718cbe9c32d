//! PATCH and DELETE on `{collection}/{id}`.

use reqwest::{RequestBuilder, Response};
use serde_json::{json, Value};
use teams_usage_store::domain::TenantId;
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{
    assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION, READ, READ_WRITE,
};

backend_tests!(
    patch_sets_only_the_properties_it_names,
    prefer_return_representation_answers_the_row,
    null_clears_an_optional_count,
    every_bad_patch_is_refused_and_changes_nothing,
    every_problem_of_a_patch_is_reported_at_once,
    bodies_that_are_not_json_change_nothing,
    int64_strings_need_ieee754_compatible,
    moving_onto_another_rows_key_conflicts,
    keeping_its_own_key_is_no_conflict,
    other_tenants_rows_do_not_exist,
    unknown_and_malformed_ids_are_not_found,
    a_read_only_token_cannot_change_or_delete,
    no_token_no_change,
    delete_answers_204_then_404,
    a_patch_that_changes_nothing_writes_nothing,
    concurrent_patches_of_different_properties_are_all_kept,
    other_methods_on_a_row_are_405,
);

fn row_url(app: &TestApp, id: &str) -> String {
    app.url(&format!("{COLLECTION}/{id}"))
}

fn patch(app: &TestApp, token: &str, id: &str) -> RequestBuilder {
    app.client.patch(row_url(app, id)).bearer_auth(token)
}

async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("request")
}

/// Creates a row and answers its id and JSON.
async fn create(app: &TestApp, body: &Value) -> (String, Value) {
    let response = app.post_row(body).await;
    assert_eq!(response.status().as_u16(), 201);
    let row: Value = response.json().await.unwrap();
    (row["id"].as_str().unwrap().to_owned(), row)
}

async fn fetch(app: &TestApp, id: &str) -> Value {
    let response = app.get(&format!("{COLLECTION}/{id}")).await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn assert_no_content(response: Response) {
    assert_eq!(response.status().as_u16(), 204);
    assert!(!response.headers().contains_key("content-type"));
    assert!(response.bytes().await.unwrap().is_empty());
}

async fn patch_row_with_default_token(backend: Backend) -> Option<(TestApp, String, Value)> {
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

async fn every_bad_patch_is_refused_and_changes_nothing(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    let cases = [
        (json!({"web": -1}), "web"),
        (json!({"web": 1.5}), "web"),
        (json!({"web": "3"}), "web"),
        (json!({"web": null}), "web"),
        (json!({"windows": 9223372036854775808u64}), "windows"),
        (json!({"chromeOS": -4}), "chromeOS"),
        (json!({"linux": true}), "linux"),
        (json!({"reportPeriod": "8"}), "reportPeriod"),
        (json!({"reportPeriod": 7}), "reportPeriod"),
        (json!({"reportPeriod": "D7"}), "reportPeriod"),
        (
            json!({"reportRefreshDate": "2026-02-30"}),
            "reportRefreshDate",
        ),
        (
            json!({"reportRefreshDate": "2099-01-01"}),
            "reportRefreshDate",
        ),
        (
            json!({"reportRefreshDate": "2026-11-1"}),
            "reportRefreshDate",
        ),
        (json!({"id": Uuid::now_v7().to_string()}), "id"),
        (json!({"Web": 1}), "Web"),
        (json!({"tenantId": "other"}), "tenantId"),
        (
            json!({"@odata.type": "#microsoft.graph.user"}),
            "@odata.type",
        ),
        (json!([{"web": 1}]), ""),
        (json!("web"), ""),
    ];
    for (body, target) in cases {
        let response = send(patch(&app, &app.token, &id).json(&body)).await;
        let error = assert_graph_error(response, 400, "badRequest").await;
        let details = error["error"]["details"].as_array().unwrap();
        assert_eq!(details.len(), 1, "{body}: {error}");
        assert_eq!(details[0]["target"], target, "{body}: {error}");
        assert_eq!(fetch(&app, &id).await, before, "{body} changed the row");
    }
    assert_eq!(app.row_count().await, 1);
}

async fn every_problem_of_a_patch_is_reported_at_once(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    // Good properties beside bad ones are not applied either.
    let body = json!({"web": -1, "mac": "x", "bogus": 1, "ios": 99});
    let error = assert_graph_error(
        send(patch(&app, &app.token, &id).json(&body)).await,
        400,
        "badRequest",
    )
    .await;
    let mut targets: Vec<&str> = error["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["target"].as_str().unwrap())
        .collect();
    targets.sort();
    assert_eq!(targets, ["bogus", "mac", "web"]);
    assert_eq!(fetch(&app, &id).await, before);
}

async fn bodies_that_are_not_json_change_nothing(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    let json_body = |body: &'static str| {
        patch(&app, &app.token, &id)
            .header("Content-Type", "application/json")
            .body(body)
    };
    assert_graph_error(send(json_body("{\"web\": ")).await, 400, "badRequest").await;
    assert_graph_error(send(json_body("")).await, 400, "badRequest").await;
    let text = patch(&app, &app.token, &id)
        .header("Content-Type", "text/plain")
        .body("{\"web\": 1}");
    assert_graph_error(send(text).await, 415, "unsupportedMediaType").await;
    let untyped = patch(&app, &app.token, &id).body("{\"web\": 1}");
    assert_graph_error(send(untyped).await, 415, "unsupportedMediaType").await;
    let huge = json!({"web": 1, "@odata.padding": "x".repeat(70 * 1024)});
    assert_graph_error(
        send(patch(&app, &app.token, &id).json(&huge)).await,
        413,
        "requestEntityTooLarge",
    )
    .await;
    assert_eq!(fetch(&app, &id).await, before);
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

async fn moving_onto_another_rows_key_conflicts(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (first_id, first) = create(&app, &valid_row()).await;
    let (second_id, second) = create(
        &app,
        &with(valid_row(), "reportRefreshDate", json!("2026-11-02")),
    )
    .await;
    for body in [
        json!({"reportRefreshDate": "2026-11-01"}),
        json!({"reportRefreshDate": "2026-11-01", "web": 99}),
    ] {
        let response = send(patch(&app, &app.token, &second_id).json(&body)).await;
        let error = assert_graph_error(response, 409, "conflict").await;
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(&first_id), "{message}");
    }
    // Same date, other period: a different key, so no conflict... until it is taken.
    let (_, _) = create(&app, &with(valid_row(), "reportPeriod", json!("30"))).await;
    let response = send(
        patch(&app, &app.token, &second_id)
            .json(&json!({"reportRefreshDate": "2026-11-01", "reportPeriod": "30"})),
    )
    .await;
    assert_graph_error(response, 409, "conflict").await;
    assert_eq!(fetch(&app, &first_id).await, first);
    assert_eq!(fetch(&app, &second_id).await, second);
    assert_eq!(app.row_count().await, 3);
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

async fn other_tenants_rows_do_not_exist(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    let other = app.token_for("contoso", READ_WRITE).await;
    let response = send(patch(&app, &other, &id).json(&json!({"web": 1}))).await;
    assert_graph_error(response, 404, "itemNotFound").await;
    let response = send(app.client.delete(row_url(&app, &id)).bearer_auth(&other)).await;
    assert_graph_error(response, 404, "itemNotFound").await;
    assert_eq!(fetch(&app, &id).await, before);
    assert_eq!(app.row_count().await, 1);

    // The other tenant may store the same key; updates keep tenants apart.
    let (their_id, _) = {
        let response = app
            .post_row_as(
                &other,
                &with(valid_row(), "reportRefreshDate", json!("2026-11-05")),
            )
            .await;
        assert_eq!(response.status().as_u16(), 201);
        let row: Value = response.json().await.unwrap();
        (row["id"].as_str().unwrap().to_owned(), row)
    };
    let body = json!({"reportRefreshDate": "2026-11-01", "linux": 2});
    assert_no_content(send(patch(&app, &other, &their_id).json(&body)).await).await;
    assert_eq!(fetch(&app, &id).await, before);
}

async fn unknown_and_malformed_ids_are_not_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    create(&app, &valid_row()).await;
    for id in [Uuid::now_v7().to_string(), "not-a-uuid".into(), "1".into()] {
        let response = send(patch(&app, &app.token, &id).json(&json!({"web": 1}))).await;
        assert_graph_error(response, 404, "itemNotFound").await;
        let response = send(
            app.client
                .delete(row_url(&app, &id))
                .bearer_auth(&app.token),
        )
        .await;
        assert_graph_error(response, 404, "itemNotFound").await;
    }
    assert_eq!(app.row_count().await, 1);
}

async fn a_read_only_token_cannot_change_or_delete(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    let reader = app.token_for("default", READ).await;
    let response = send(patch(&app, &reader, &id).json(&json!({"web": 1}))).await;
    assert_graph_error(response, 403, "accessDenied").await;
    // The scope is checked before the body is.
    let bad_body = patch(&app, &reader, &id)
        .header("Content-Type", "text/plain")
        .body("nonsense");
    assert_graph_error(send(bad_body).await, 403, "accessDenied").await;
    let response = send(app.client.delete(row_url(&app, &id)).bearer_auth(&reader)).await;
    assert_graph_error(response, 403, "accessDenied").await;
    assert_eq!(fetch(&app, &id).await, before);
    assert_eq!(app.row_count().await, 1);
}

async fn no_token_no_change(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    let response = send(
        app.client
            .patch(row_url(&app, &id))
            .json(&json!({"web": 1})),
    )
    .await;
    let www = response.headers().get("www-authenticate").cloned();
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
    assert_eq!(www.unwrap(), "Bearer");
    let response = send(patch(&app, "wrong-secret", &id).json(&json!({"web": 1}))).await;
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
    let response = send(app.client.delete(row_url(&app, &id))).await;
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
    assert_eq!(fetch(&app, &id).await, before);
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

async fn other_methods_on_a_row_are_405(backend: Backend) {
    let Some((app, id, before)) = patch_row_with_default_token(backend).await else {
        return;
    };
    let response = send(
        app.client
            .put(row_url(&app, &id))
            .bearer_auth(&app.token)
            .json(&valid_row()),
    )
    .await;
    assert_graph_error(response, 405, "methodNotAllowed").await;
    assert_eq!(fetch(&app, &id).await, before);
}
