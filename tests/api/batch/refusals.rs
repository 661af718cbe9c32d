//! What a batch may not do: refused whole before anything runs, or refused
//! request by request exactly as alone (scopes, tenants, body limits).

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};
use teams_usage_store::domain::{DistributionRow, NewDistributionRow, ReportPeriod};
use teams_usage_store::routes::batch::{RESPONSE_BYTES, TOTAL_BYTES};

use super::{depends, get, post, row_on, run, run_as, status, stored_id, BATCH, ROWS};
use crate::common::fixtures::{device_counts, tenant};
use crate::helpers::{
    assert_graph_error, valid_row, with, Backend, TestApp, BETA_COLLECTION, COLLECTION, READ,
    READ_WRITE,
};

backend_tests!(
    twenty_requests_run_and_twenty_one_are_refused,
    each_sub_request_needs_its_own_scope,
    tenants_stay_apart_inside_a_batch,
    malformed_batches_are_refused_whole_and_write_nothing,
    the_batch_itself_needs_a_valid_token_and_a_json_body,
    the_batch_body_limit_is_its_own,
    csv_is_not_carried_and_the_other_requests_still_run,
    a_full_page_fits_and_the_whole_answer_has_a_cap,
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

/// `n` rows of tenant `default` with every count at Int64's maximum: the
/// widest rows there are.
async fn store_wide_rows(app: &TestApp, n: i64) {
    let first = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let rows: Vec<DistributionRow> = (0..n)
        .map(|i| {
            let content = NewDistributionRow {
                report_refresh_date: first + Duration::days(i / 4),
                report_period: ReportPeriod::ALL[(i % 4) as usize],
                counts: device_counts([i64::MAX; 6], Some(i64::MAX), Some(i64::MAX)),
            };
            DistributionRow::create(tenant("default"), content, Utc::now())
        })
        .collect();
    for chunk in rows.chunks(500) {
        app.store.insert_rows(chunk).await.unwrap();
    }
}

fn error_message(response: &Value) -> &str {
    response["body"]["error"]["message"].as_str().unwrap()
}

async fn csv_is_not_carried_and_the_other_requests_still_run(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store_wide_rows(&app, 2000).await;
    let report = "/reports/getTeamsDeviceUsageDistributionUserCounts(period='D7')";
    let accepting = |id: &str, url: &str, accept: &str| json!({"id": id, "method": "GET", "url": url, "headers": {"Accept": accept}});
    let requests = json!([
        get("csv", &format!("{ROWS}?$format=text/csv")),
        accepting("accept-csv", ROWS, "text/csv"),
        get("report-csv", report),
        accepting("report-octets", report, "application/octet-stream"),
        get("page", &format!("{ROWS}?$top=5")),
        get("report-json", &format!("{report}?$format=application/json")),
        get("count", &format!("{ROWS}/$count")),
        post("write", row_on("2026-11-01")),
    ]);
    let body = json!({ "requests": requests });
    let mut writes = Vec::new();
    for path in [BATCH, "/beta/$batch"] {
        let response = app.post_json_as(&app.token, path, &body).await;
        assert_eq!(response.status().as_u16(), 200);
        let text = response.text().await.unwrap();
        // 2,000 rows of CSV would be about 0.3 MB: nothing of them came.
        assert!(text.len() < 20_000, "{path}: {} bytes", text.len());
        let answer: Value = serde_json::from_str(&text).unwrap();
        let responses = answer["responses"].as_array().unwrap();
        for refused in &responses[..4] {
            assert_eq!(status(refused), 400, "{path}: {refused}");
            assert_eq!(refused["body"]["error"]["code"], "badRequest");
            assert!(
                error_message(refused).contains("$format=application/json"),
                "{refused}"
            );
            assert!(refused["body"]["error"]["innerError"]["request-id"].is_string());
        }
        assert_eq!(status(&responses[4]), 200);
        assert_eq!(responses[4]["body"]["value"].as_array().unwrap().len(), 5);
        assert_eq!(status(&responses[5]), 200);
        assert_eq!(responses[5]["body"]["value"].as_array().unwrap().len(), 1);
        assert_eq!(status(&responses[6]), 200);
        // The write runs beside it: counted or not yet.
        let counted: u64 = responses[6]["body"].as_str().unwrap().parse().unwrap();
        assert!((2000..=2001).contains(&counted), "{counted}");
        writes.push(status(&responses[7]));
    }
    // A refusal stops only its own request: the row was written, then replayed.
    assert_eq!(writes, [201, 200]);
    assert_eq!(app.row_count().await, 2001);
    // A read-only token is refused the same way.
    let reader = app.token_for("default", READ).await;
    let responses = run_as(
        &app,
        &reader,
        json!([get("csv", &format!("{ROWS}?$format=text/csv&$top=5"))]),
    )
    .await;
    assert_eq!(status(&responses[0]), 400);
}

async fn a_full_page_fits_and_the_whole_answer_has_a_cap(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store_wide_rows(&app, 1000).await;
    // The largest page there is: 1,000 of the widest rows, Int64 as strings.
    let ieee754 = "application/json;IEEE754Compatible=true";
    let page = app
        .request(
            reqwest::Method::GET,
            &format!("{BETA_COLLECTION}?$top=1000"),
        )
        .header("Accept", ieee754)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    assert!(
        page * 3 < RESPONSE_BYTES,
        "a full page ({page} bytes) fits a batch with room to spare"
    );
    // 20 such pages are more than a batch's answer may hold.
    assert!(20 * page > TOTAL_BYTES, "{page}");
    let full_page = |id: String| {
        json!({"id": id, "method": "GET", "url": format!("{ROWS}?$top=1000"),
               "headers": {"Accept": ieee754}})
    };
    let response = app
        .post_json_as(
            &app.token,
            "/beta/$batch",
            &json!({"requests": (0..20).map(|i| full_page(i.to_string())).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    assert!(text.len() < TOTAL_BYTES + 64 * 1024, "{} bytes", text.len());
    let answer: Value = serde_json::from_str(&text).unwrap();
    let responses = answer["responses"].as_array().unwrap();
    let mut kept = 0;
    for response in responses {
        match status(response) {
            200 => {
                assert_eq!(response["body"]["value"].as_array().unwrap().len(), 1000);
                kept += 1;
            }
            413 => {
                assert_eq!(response["body"]["error"]["code"], "responseTooLarge");
                assert!(
                    error_message(response).contains(&format!("{TOTAL_BYTES} bytes")),
                    "{}",
                    response["body"]
                );
            }
            other => panic!("{other}: {}", response["body"]),
        }
    }
    // What fits is kept: all but the pages past the cap.
    assert!(kept * page <= TOTAL_BYTES, "{kept} pages of {page} bytes");
    assert!(
        (kept + 2) * page > TOTAL_BYTES,
        "{kept} pages of {page} bytes"
    );

    // One at a time (a chain), the page that does not fit is the error, and
    // those that depend on it answer 424 without running.
    let chain: Vec<Value> = (0..20)
        .map(|i| {
            let request = full_page(format!("p{i}"));
            if i == 0 {
                request
            } else {
                depends(request, &[&format!("p{}", i - 1)])
            }
        })
        .collect();
    let response = app
        .post_json_as(&app.token, "/beta/$batch", &json!({ "requests": chain }))
        .await;
    let answer: Value = response.json().await.unwrap();
    let statuses: Vec<u64> = answer["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(status)
        .collect();
    let fits = statuses.iter().take_while(|&&s| s == 200).count();
    assert_eq!(fits, kept, "{statuses:?}");
    assert_eq!(statuses[fits], 413, "{statuses:?}");
    assert!(
        statuses[fits + 1..].iter().all(|&s| s == 424),
        "{statuses:?}"
    );
}
