//! A row named by its key in parentheses, OData's canonical URL
//! (`...Counts('<id>')`, also `(id='<id>')`), beside Graph's key as a segment;
//! and the same rows as the entity set at the version root, where generic
//! OData clients look. Every form answers alike, inside `$batch` too.

use serde_json::{json, Value};

use crate::batch::run;
use crate::helpers::{
    assert_graph_error, valid_row, with, Backend, TestApp, BETA_COLLECTION, COLLECTION,
};

backend_tests!(
    the_key_in_parentheses_reads_changes_and_deletes,
    a_predicate_that_names_no_row_is_not_found_and_writes_nothing,
    the_entity_set_serves_the_same_rows,
    a_batch_names_rows_by_the_key_in_parentheses,
);

const ENTITY_SET: &str = "/v1.0/teamsDeviceUsageDistributionUserCounts";
const BETA_ENTITY_SET: &str = "/beta/teamsDeviceUsageDistributionUserCounts";

async fn stored_id(app: &TestApp, collection: &str, date: &str) -> String {
    let row = with(valid_row(), "reportRefreshDate", json!(date));
    let response = app.post_json_as(&app.token, collection, &row).await;
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn the_key_in_parentheses_reads_changes_and_deletes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for (n, collection) in [COLLECTION, BETA_COLLECTION, ENTITY_SET, BETA_ENTITY_SET]
        .into_iter()
        .enumerate()
    {
        let id = stored_id(&app, collection, &format!("2026-10-{:02}", n + 1)).await;
        let by_segment: Value = app
            .get(&format!("{collection}/{id}"))
            .await
            .json()
            .await
            .unwrap();
        for predicate in [
            format!("('{id}')"),
            format!("(id='{id}')"),
            // As a client that percent-encodes the quotes and parentheses sends it.
            format!("%28%27{id}%27%29"),
        ] {
            let response = app.get(&format!("{collection}{predicate}")).await;
            assert_eq!(response.status().as_u16(), 200, "{collection}{predicate}");
            assert_eq!(response.headers()["odata-version"], "4.0");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body, by_segment, "{collection}{predicate}");
        }
        let canonical = format!("{collection}('{id}')");
        let patched = app
            .request(reqwest::Method::PATCH, &canonical)
            .header("Prefer", "return=representation")
            .json(&json!({"windows": 4242}))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status().as_u16(), 200, "{canonical}");
        let patched: Value = patched.json().await.unwrap();
        assert_eq!(patched["windows"], 4242);
        assert_eq!(patched["web"], by_segment["web"]);
        let invalid = app
            .request(reqwest::Method::PATCH, &canonical)
            .json(&json!({"windows": -1}))
            .send()
            .await
            .unwrap();
        assert_graph_error(invalid, 400, "badRequest").await;
        let unchanged: Value = app.get(&canonical).await.json().await.unwrap();
        assert_eq!(unchanged["windows"], 4242);
        let deleted = app
            .request(reqwest::Method::DELETE, &canonical)
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status().as_u16(), 204, "{canonical}");
        assert_graph_error(app.get(&canonical).await, 404, "itemNotFound").await;
        assert_graph_error(
            app.get(&format!("{collection}/{id}")).await,
            404,
            "itemNotFound",
        )
        .await;
    }
    assert_eq!(app.row_count().await, 0);
}

async fn a_predicate_that_names_no_row_is_not_found_and_writes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let id = stored_id(&app, COLLECTION, "2026-10-01").await;
    let unknown = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    for predicate in [
        format!("('{unknown}')"),
        format!("(id='{unknown}')"),
        // Not one quoted id: no row has that name.
        format!("({id})"),
        format!("(name='{id}')"),
        format!("('{id}','{id}')"),
        format!("('{id}"),
        "('')".to_owned(),
        "()".to_owned(),
        "('not-a-guid')".to_owned(),
    ] {
        let path = format!("{COLLECTION}{predicate}");
        let error = assert_graph_error(app.get(&path).await, 404, "itemNotFound").await;
        let message = error["error"]["message"].as_str().unwrap();
        // An unclosed or empty predicate is no row's URL at all.
        let no_route = predicate.ends_with(&id) || predicate == "()";
        let expected = if no_route {
            "Resource not found for the segment"
        } else {
            "No teamsDeviceUsageDistributionUserCounts with id"
        };
        assert!(message.starts_with(expected), "{path}: {error}");
        let patch = app
            .request(reqwest::Method::PATCH, &path)
            .json(&json!({"web": 1}))
            .send()
            .await
            .unwrap();
        assert_graph_error(patch, 404, "itemNotFound").await;
        let delete = app
            .request(reqwest::Method::DELETE, &path)
            .send()
            .await
            .unwrap();
        assert_graph_error(delete, 404, "itemNotFound").await;
    }
    // Other methods on a row answer 405 naming the ones it serves.
    let post = app
        .post_json_as(&app.token, &format!("{COLLECTION}('{id}')"), &valid_row())
        .await;
    assert_eq!(post.headers()["allow"], "GET, PATCH, DELETE");
    assert_graph_error(post, 405, "methodNotAllowed").await;
    let stored: Value = app
        .get(&format!("{COLLECTION}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["web"], valid_row()["web"]);
    assert_eq!(app.row_count().await, 1);
}

async fn the_entity_set_serves_the_same_rows(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let response = app.post_json_as(&app.token, ENTITY_SET, &valid_row()).await;
    assert_eq!(response.status().as_u16(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("{}{ENTITY_SET}/{id}", app.address));
    assert_eq!(
        created["@odata.context"],
        format!(
            "{}/v1.0/$metadata#teamsDeviceUsageDistributionUserCounts/$entity",
            app.address
        )
    );
    // The same row again, through Graph's URL: a replay, nothing written.
    let replay = app.post_json_as(&app.token, COLLECTION, &valid_row()).await;
    assert_eq!(replay.status().as_u16(), 200);
    stored_id(&app, COLLECTION, "2026-10-02").await;
    for (collection, context) in [
        (COLLECTION, "reports/teamsDeviceUsageDistributionUserCounts"),
        (ENTITY_SET, "teamsDeviceUsageDistributionUserCounts"),
    ] {
        let page: Value = app
            .get(&format!(
                "{collection}?$orderby=reportRefreshDate desc&$top=1"
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            page["@odata.context"],
            format!("{}/v1.0/$metadata#{context}", app.address)
        );
        assert_eq!(page["value"][0]["id"], id);
        let next = page["@odata.nextLink"].as_str().unwrap();
        assert!(
            next.starts_with(&format!("{}{collection}?", app.address)),
            "{next}"
        );
        let count = app.get(&format!("{collection}/$count?$orderby=web")).await;
        assert_eq!(count.text().await.unwrap(), "2");
        let csv = app.get(&format!("{collection}?$format=text/csv")).await;
        assert_eq!(csv.status().as_u16(), 200);
        assert_eq!(csv.text().await.unwrap().lines().count(), 3);
    }
    assert_eq!(app.row_count().await, 2);
}

async fn a_batch_names_rows_by_the_key_in_parentheses(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let id = stored_id(&app, COLLECTION, "2026-10-01").await;
    let unknown = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    let key = format!("/reports/teamsDeviceUsageDistributionUserCounts('{id}')");
    let responses = run(
        &app,
        json!([
            {"id": "1", "method": "GET", "url": key},
            {"id": "2", "method": "PATCH", "url": key, "dependsOn": ["1"],
             "headers": {"Content-Type": "application/json"}, "body": {"mac": 77}},
            {"id": "3", "method": "GET", "url": format!("/teamsDeviceUsageDistributionUserCounts(id='{id}')"),
             "dependsOn": ["2"]},
            {"id": "4", "method": "GET", "url": format!("/reports/teamsDeviceUsageDistributionUserCounts('{unknown}')")},
            {"id": "5", "method": "DELETE", "url": key, "dependsOn": ["3"]},
        ]),
    )
    .await;
    let status = |n: usize| responses[n]["status"].as_u64().unwrap();
    assert_eq!(
        [status(0), status(1), status(2), status(3), status(4)],
        [200, 204, 200, 404, 204]
    );
    assert_eq!(responses[0]["body"]["id"], id.as_str());
    assert_eq!(responses[2]["body"]["mac"], 77);
    assert_eq!(responses[3]["body"]["error"]["code"], "itemNotFound");
    assert_eq!(app.row_count().await, 0);
}
