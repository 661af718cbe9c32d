//! What PATCH and DELETE refuse: each bad input with a Graph error, and the
//! row left exactly as it was.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{assert_no_content, create, fetch, patch, patch_row_with_default_token, row_url, send};
use crate::helpers::{assert_graph_error, valid_row, with, Backend, TestApp, READ, READ_WRITE};

backend_tests!(
    every_bad_patch_is_refused_and_changes_nothing,
    every_problem_of_a_patch_is_reported_at_once,
    bodies_that_are_not_json_change_nothing,
    moving_onto_another_rows_key_conflicts,
    other_tenants_rows_do_not_exist,
    unknown_and_malformed_ids_are_not_found,
    a_read_only_token_cannot_change_or_delete,
    no_token_no_change,
    other_methods_on_a_row_are_405,
);

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
