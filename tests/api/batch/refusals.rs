//! What a batch may not do: refused whole before anything runs, or refused
//! request by request exactly as alone (scopes, tenants, body limits).

use serde_json::{json, Value};

use super::{depends, get, post, row_on, run, run_as, status, stored_id, BATCH, ROWS};
use crate::helpers::{
    assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION, READ, READ_WRITE,
};

backend_tests!(
    twenty_requests_run_and_twenty_one_are_refused,
    each_sub_request_needs_its_own_scope,
    tenants_stay_apart_inside_a_batch,
    malformed_batches_are_refused_whole_and_write_nothing,
    the_batch_itself_needs_a_valid_token_and_a_json_body,
    the_batch_body_limit_is_its_own,
);

async fn twenty_requests_run_and_twenty_one_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let requests = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| post(&format!("r{i}"), row_on(&format!("2026-07-{:02}", i + 1))))
            .collect()
    };
    let error = assert_graph_error(
        app.post_json_as(&app.token, BATCH, &json!({"requests": requests(21)}))
            .await,
        400,
        "badRequest",
    )
    .await;
    assert!(
        error["error"]["message"].as_str().unwrap().contains("20"),
        "{error}"
    );
    assert_eq!(app.row_count().await, 0);
    let responses = run(&app, json!(requests(20))).await;
    assert!(responses.iter().all(|r| status(r) == 201));
    assert_eq!(app.row_count().await, 20);
}

async fn each_sub_request_needs_its_own_scope(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    stored_id(&app, &valid_row()).await;
    let reader = app.token_for("default", READ).await;
    let responses = run_as(
        &app,
        &reader,
        json!([
            post("write", row_on("2026-05-01")),
            get("read", ROWS),
            // A sub-request cannot switch to another token.
            {"id": "swap", "method": "POST", "url": ROWS,
             "headers": {"Content-Type": "application/json", "Authorization": format!("Bearer {}", app.token)},
             "body": row_on("2026-05-02")},
        ]),
    )
    .await;
    assert_eq!(status(&responses[0]), 403);
    assert_eq!(responses[0]["body"]["error"]["code"], "accessDenied");
    assert_eq!(status(&responses[1]), 200);
    assert_eq!(responses[1]["body"]["value"].as_array().unwrap().len(), 1);
    assert_eq!(status(&responses[2]), 403);
    assert_eq!(app.row_count().await, 1);
}

async fn tenants_stay_apart_inside_a_batch(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let theirs = stored_id(&app, &valid_row()).await;
    let other = app.token_for("contoso", READ_WRITE).await;
    let responses = run_as(
        &app,
        &other,
        json!([
            get("get", &format!("{ROWS}/{theirs}")),
            {"id": "patch", "method": "PATCH", "url": format!("{ROWS}/{theirs}"),
             "headers": {"Content-Type": "application/json"}, "body": {"web": 1}},
            {"id": "delete", "method": "DELETE", "url": format!("{ROWS}/{theirs}")},
            post("mine", valid_row()),
            depends(get("list", ROWS), &["mine"]),
        ]),
    )
    .await;
    for response in &responses[..3] {
        assert_eq!(status(response), 404, "{response}");
        assert_eq!(response["body"]["error"]["code"], "itemNotFound");
    }
    // The same natural key is free in another tenant.
    assert_eq!(status(&responses[3]), 201);
    let listed = responses[4]["body"]["value"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], responses[3]["body"]["id"]);
    let untouched: Value = app
        .get(&format!("{COLLECTION}/{theirs}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(untouched["web"], 3);
    assert_eq!(app.row_count().await, 2);
}

async fn malformed_batches_are_refused_whole_and_write_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let good = || post("good", valid_row());
    let malformed = [
        ("no requests", json!({"value": [good()]})),
        ("requests not a list", json!({"requests": good()})),
        ("empty", json!({"requests": []})),
        (
            "missing id",
            json!({"requests": [good(), {"method": "GET", "url": ROWS}]}),
        ),
        (
            "missing method",
            json!({"requests": [good(), {"id": "x", "url": ROWS}]}),
        ),
        (
            "missing url",
            json!({"requests": [good(), {"id": "x", "method": "GET"}]}),
        ),
        (
            "duplicate id",
            json!({"requests": [good(), get("good", ROWS)]}),
        ),
        (
            "unknown dependency",
            json!({"requests": [good(), depends(get("x", ROWS), &["nope"])]}),
        ),
        (
            "cycle",
            json!({"requests": [good(), depends(get("x", ROWS), &["y"]), depends(get("y", ROWS), &["x"])]}),
        ),
        (
            "body without content type",
            json!({"requests": [good(), {"id": "x", "method": "POST", "url": ROWS, "body": valid_row()}]}),
        ),
        (
            "non-JSON body not base64",
            json!({"requests": [good(), {"id": "x", "method": "POST", "url": ROWS,
            "headers": {"Content-Type": "text/plain"}, "body": {"web": 1}}]}),
        ),
        (
            "nested batch",
            json!({"requests": [good(), {"id": "x", "method": "POST", "url": "/$batch",
            "headers": {"Content-Type": "application/json"}, "body": {"requests": [good()]}}]}),
        ),
        (
            "absolute url",
            json!({"requests": [good(), get("x", "https://graph.microsoft.com/v1.0/reports")]}),
        ),
    ];
    for (case, body) in malformed {
        let response = app.post_json_as(&app.token, BATCH, &body).await;
        let error = assert_graph_error(response, 400, "badRequest").await;
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid batch"),
            "{case}: {error}"
        );
        assert_eq!(app.row_count().await, 0, "{case}");
    }
    let not_json = app
        .client
        .post(app.url(BATCH))
        .bearer_auth(&app.token)
        .header("Content-Type", "application/json")
        .body("{\"requests\": [")
        .send()
        .await
        .unwrap();
    assert_graph_error(not_json, 400, "badRequest").await;
    assert_eq!(app.row_count().await, 0);
}

async fn the_batch_itself_needs_a_valid_token_and_a_json_body(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let body = json!({"requests": [post("1", valid_row())]});
    let anonymous = app
        .client
        .post(app.url(BATCH))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_graph_error(anonymous, 401, "InvalidAuthenticationToken").await;
    let forged = app.post_json_as("not-a-token", BATCH, &body).await;
    assert_graph_error(forged, 401, "InvalidAuthenticationToken").await;
    let text = app
        .client
        .post(app.url(BATCH))
        .bearer_auth(&app.token)
        .header("Content-Type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_graph_error(text, 415, "unsupportedMediaType").await;
    let get = app.get(BATCH).await;
    assert_graph_error(get, 405, "methodNotAllowed").await;
    assert_eq!(app.row_count().await, 0);
}

async fn the_batch_body_limit_is_its_own(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Over the 64 KiB limit of other routes, under the 1 MiB of $batch.
    let padding = "x".repeat(4000);
    let requests: Vec<Value> = (0..20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": ROWS, "headers": {"x-padding": padding}}))
        .collect();
    let responses = run(&app, json!(requests)).await;
    assert!(responses.iter().all(|r| status(r) == 200));
    // A sub-request keeps the limit it would have alone.
    let big_row = with(valid_row(), "@odata.comment", json!("x".repeat(70 * 1024)));
    let responses = run(&app, json!([post("big", big_row)])).await;
    assert_eq!(status(&responses[0]), 413);
    assert_eq!(
        responses[0]["body"]["error"]["code"],
        "requestEntityTooLarge"
    );
    let huge = json!({"requests": [post("1", with(valid_row(), "@odata.comment", json!("x".repeat(1024 * 1024))))]});
    let response = app.post_json_as(&app.token, BATCH, &huge).await;
    assert_graph_error(response, 413, "requestEntityTooLarge").await;
    assert_eq!(app.row_count().await, 0);
}
