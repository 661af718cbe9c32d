//! `POST {base}/$batch`: Graph JSON batching, each sub-request answered as if
//! sent alone. What a batch may not do is in `batch/refusals.rs`.

mod refusals;

use serde_json::{json, Value};

use crate::helpers::{valid_row, with, Backend, TestApp, BETA_COLLECTION, COLLECTION};

backend_tests!(
    a_batch_mixes_every_route_and_answers_in_order,
    sub_requests_answer_exactly_as_alone,
    depends_on_runs_a_chain_in_order,
    a_failed_dependency_answers_424_without_running,
    independent_posts_all_land,
);

pub(super) const BATCH: &str = "/v1.0/$batch";

/// The collection relative to the version root, as batch urls are written.
pub(super) const ROWS: &str = "/reports/teamsDeviceUsageDistributionUserCounts";

pub(super) fn row_on(date: &str) -> Value {
    with(valid_row(), "reportRefreshDate", json!(date))
}

pub(super) fn post(id: &str, body: Value) -> Value {
    json!({"id": id, "method": "POST", "url": ROWS,
           "headers": {"Content-Type": "application/json"}, "body": body})
}

pub(super) fn get(id: &str, url: &str) -> Value {
    json!({"id": id, "method": "GET", "url": url})
}

pub(super) fn depends(mut request: Value, on: &[&str]) -> Value {
    request["dependsOn"] = json!(on);
    request
}

/// Runs a batch with the bootstrap token and returns its responses by id.
pub(super) async fn run(app: &TestApp, requests: Value) -> Vec<Value> {
    run_as(app, &app.token, requests).await
}

pub(super) async fn run_as(app: &TestApp, token: &str, requests: Value) -> Vec<Value> {
    let ids: Vec<String> = requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let response = app
        .post_json_as(token, BATCH, &json!({ "requests": requests }))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    let responses = body["responses"].as_array().unwrap().clone();
    let answered: Vec<&str> = responses
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(answered, ids, "one response per request, in request order");
    responses
}

pub(super) fn status(response: &Value) -> u64 {
    response["status"].as_u64().unwrap()
}

pub(super) async fn stored_id(app: &TestApp, body: &Value) -> String {
    let response = app.post_row(body).await;
    assert_eq!(response.status().as_u16(), 201);
    let row: Value = response.json().await.unwrap();
    row["id"].as_str().unwrap().to_owned()
}

async fn a_batch_mixes_every_route_and_answers_in_order(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let kept = stored_id(&app, &row_on("2026-10-01")).await;
    let doomed = stored_id(&app, &row_on("2026-10-02")).await;
    let responses = run(
        &app,
        json!([
            post("new", row_on("2026-10-03")),
            get("one", &format!("{ROWS}/{kept}")),
            {"id": "patch", "method": "PATCH", "url": format!("{ROWS}/{kept}"),
             "headers": {"Content-Type": "application/json", "Prefer": "return=representation"},
             "body": {"web": 99}},
            {"id": "delete", "method": "DELETE", "url": format!("{ROWS}/{doomed}")},
            depends(get("count", &format!("{ROWS}/$count")), &["new", "patch", "delete"]),
            depends(get("json", "/reports/microsoft.graph.getTeamsDeviceUsageDistributionUserCounts(period='D7')?$format=application/json"), &["new", "patch", "delete"]),
            depends(get("list", &format!("{ROWS}?$orderby=reportRefreshDate&$select=web,reportRefreshDate")), &["new", "patch", "delete"]),
        ]),
    )
    .await;
    assert_eq!(status(&responses[0]), 201);
    assert!(responses[0]["headers"]["location"]
        .as_str()
        .unwrap()
        .contains(COLLECTION));
    assert_eq!(responses[0]["body"]["reportRefreshDate"], "2026-10-03");
    assert_eq!(status(&responses[1]), 200);
    assert_eq!(responses[1]["body"]["id"], kept.as_str());
    assert_eq!(status(&responses[2]), 200);
    assert_eq!(responses[2]["body"]["web"], 99);
    assert_eq!(status(&responses[3]), 204);
    assert!(responses[3].get("body").is_none(), "{}", responses[3]);
    // A text answer is embedded as a string (CSV is not carried: batch/refusals.rs).
    assert_eq!(status(&responses[4]), 200);
    assert_eq!(responses[4]["body"], "2");
    assert!(responses[4]["headers"]["content-type"]
        .as_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(status(&responses[5]), 200);
    assert_eq!(
        responses[5]["body"]["value"][0]["reportRefreshDate"],
        "2026-10-03"
    );
    assert_eq!(status(&responses[6]), 200);
    let listed: Vec<(Value, Value)> = responses[6]["body"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["reportRefreshDate"].clone(), r["web"].clone()))
        .collect();
    assert_eq!(
        listed,
        [
            (json!("2026-10-01"), json!(99)),
            (json!("2026-10-03"), json!(3))
        ]
    );
    assert_eq!(app.row_count().await, 2);
}

async fn sub_requests_answer_exactly_as_alone(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let id = stored_id(&app, &valid_row()).await;
    let ieee754 = "application/json;IEEE754Compatible=true";
    let alone: Value = app
        .request(reqwest::Method::GET, &format!("{BETA_COLLECTION}/{id}"))
        .header("Accept", ieee754)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": format!("{ROWS}/{id}"), "headers": {"Accept": ieee754}},
        get("2", "/reports/noSuchThing"),
        {"id": "3", "method": "PUT", "url": format!("{ROWS}/{id}")},
        post("4", with(valid_row(), "web", json!(-1))),
        get("5", &format!("{ROWS}?$expand=x")),
    ]});
    let response = app.post_json_as(&app.token, "/beta/$batch", &body).await;
    assert_eq!(response.status().as_u16(), 200);
    let responses: Value = response.json().await.unwrap();
    let responses = responses["responses"].as_array().unwrap();
    // Same prefix, same Accept: the same entity, Int64 as strings, context under /beta.
    assert_eq!(responses[0]["body"], alone);
    assert_eq!(responses[0]["body"]["web"], "3");
    assert!(responses[0]["headers"]["content-type"]
        .as_str()
        .unwrap()
        .contains("IEEE754Compatible=true"));
    let errors = [
        (1, 404, "itemNotFound"),
        (2, 405, "methodNotAllowed"),
        (3, 400, "badRequest"),
        (4, 400, "badRequest"),
    ];
    for (at, code, name) in errors {
        assert_eq!(status(&responses[at]), code, "{}", responses[at]);
        assert_eq!(
            responses[at]["body"]["error"]["code"], name,
            "{}",
            responses[at]
        );
    }
    assert_eq!(responses[3]["body"]["error"]["details"][0]["target"], "web");
    assert_eq!(app.row_count().await, 1);
}

async fn depends_on_runs_a_chain_in_order(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Listed backwards: only dependsOn puts them in order.
    let responses = run(
        &app,
        json!([
            depends(get("count", &format!("{ROWS}?$count=true")), &["second"]),
            depends(post("second", row_on("2026-09-02")), &["first"]),
            post("first", row_on("2026-09-01")),
        ]),
    )
    .await;
    assert_eq!(status(&responses[2]), 201);
    assert_eq!(status(&responses[1]), 201);
    assert_eq!(status(&responses[0]), 200);
    assert_eq!(responses[0]["body"]["@odata.count"], 2);
    assert_eq!(app.row_count().await, 2);
}

async fn a_failed_dependency_answers_424_without_running(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let responses = run(
        &app,
        json!([
            post("bad", with(valid_row(), "web", json!("many"))),
            depends(post("after-bad", row_on("2026-08-01")), &["bad"]),
            depends(post("after-after", row_on("2026-08-02")), &["after-bad"]),
            post("independent", row_on("2026-08-03")),
            depends(
                get("after-good", &format!("{ROWS}?$count=true")),
                &["independent"]
            ),
        ]),
    )
    .await;
    assert_eq!(status(&responses[0]), 400);
    for at in [1, 2] {
        assert_eq!(status(&responses[at]), 424, "{}", responses[at]);
        assert_eq!(responses[at]["body"]["error"]["code"], "failedDependency");
    }
    assert_eq!(status(&responses[3]), 201);
    assert_eq!(status(&responses[4]), 200);
    assert_eq!(responses[4]["body"]["@odata.count"], 1);
    assert_eq!(
        app.row_count().await,
        1,
        "the requests answered 424 never ran"
    );
}

async fn independent_posts_all_land(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Replays and conflicts inside one batch resolve as they would in sequence.
    let responses = run(
        &app,
        json!([
            post("a", row_on("2026-06-01")),
            depends(post("a-again", row_on("2026-06-01")), &["a"]),
            depends(
                post("a-other", with(row_on("2026-06-01"), "web", json!(7))),
                &["a"]
            ),
            post("b", row_on("2026-06-02")),
            post("c", row_on("2026-06-03")),
        ]),
    )
    .await;
    let statuses: Vec<u64> = responses.iter().map(status).collect();
    assert_eq!(statuses, [201, 200, 409, 201, 201]);
    assert_eq!(responses[1]["body"]["id"], responses[0]["body"]["id"]);
    assert_eq!(app.row_count().await, 3);
}
