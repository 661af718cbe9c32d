//! Every rule of the resource table, one bad-input class at a time: each gets a
//! 400 naming exactly the property at fault, and nothing is stored.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{assert_graph_error, valid_row, with, without, Backend, TestApp, COLLECTION};

backend_tests!(
    each_missing_required_property_is_named,
    negative_counts_are_refused,
    fractional_counts_are_refused_integral_ones_accepted,
    counts_beyond_int64_are_refused,
    counts_of_other_json_types_are_refused,
    string_counts_need_ieee754_compatible,
    malformed_ieee754_strings_are_refused,
    dates_must_be_real_and_not_after_tomorrow,
    dates_before_year_one_are_refused_and_year_one_is_kept_alike,
    periods_must_be_one_of_the_four_day_counts,
    id_is_read_only,
    odata_type_must_name_this_type,
    unknown_properties_are_refused,
    a_body_that_is_not_an_object_is_refused,
    every_problem_of_every_class_is_reported_at_once
);

const REQUIRED: [&str; 8] = [
    "reportRefreshDate",
    "web",
    "windowsPhone",
    "androidPhone",
    "ios",
    "mac",
    "windows",
    "reportPeriod",
];

const COUNTS: [&str; 8] = [
    "web",
    "windowsPhone",
    "androidPhone",
    "ios",
    "mac",
    "windows",
    "chromeOS",
    "linux",
];

/// The `details` of a 400 for `response`, after checking the Graph error shape.
async fn refusal_details(response: reqwest::Response, what: &str) -> Vec<Value> {
    let error = assert_graph_error(response, 400, "badRequest").await;
    let details = error["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no details in {error}"))
        .clone();
    for detail in &details {
        assert!(
            detail["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {detail}"
        );
    }
    details
}

/// Expects exactly one problem, `code` at `target`, and no row stored.
async fn assert_one_problem(app: &TestApp, response: reqwest::Response, target: &str, code: &str) {
    let details = refusal_details(response, target).await;
    assert_eq!(details.len(), 1, "{target}: {details:?}");
    assert_eq!(details[0]["target"], target, "{details:?}");
    assert_eq!(details[0]["code"], code, "{details:?}");
    assert_eq!(app.row_count().await, 0, "a refused body was stored");
}

async fn assert_refused(app: &TestApp, body: &Value, target: &str) {
    let response = app.post_row(body).await;
    assert_one_problem(app, response, target, "invalidValue").await;
}

/// A valid body whose `property` is the raw JSON text `raw`, for numbers serde
/// would not produce.
fn with_raw(property: &str, raw: &str) -> String {
    with(valid_row(), property, json!("RAW"))
        .to_string()
        .replace("\"RAW\"", raw)
}

async fn each_missing_required_property_is_named(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for property in REQUIRED {
        let response = app.post_row(&without(valid_row(), property)).await;
        assert_one_problem(&app, response, property, "missingProperty").await;
    }
    let details = refusal_details(app.post_row(&json!({})).await, "{}").await;
    let mut targets: Vec<&str> = details
        .iter()
        .map(|d| d["target"].as_str().unwrap())
        .collect();
    targets.sort();
    let mut expected = REQUIRED;
    expected.sort();
    assert_eq!(targets, expected);
    assert!(details.iter().all(|d| d["code"] == "missingProperty"));
    assert_eq!(app.row_count().await, 0);
}

async fn negative_counts_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for property in COUNTS {
        for negative in [json!(-1), json!(i64::MIN)] {
            assert_refused(&app, &with(valid_row(), property, negative), property).await;
        }
    }
}

async fn fractional_counts_are_refused_integral_ones_accepted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for property in COUNTS {
        assert_refused(&app, &with(valid_row(), property, json!(1.5)), property).await;
    }
    for raw in ["0.1", "-0.5", "-3.0", "1e19"] {
        let response = app
            .post_raw(COLLECTION, Some("application/json"), with_raw("web", raw))
            .await;
        assert_one_problem(&app, response, "web", "invalidValue").await;
    }
    // Whole-valued but written with a fraction or exponent: the same number,
    // as JSON Schema's `integer` (and the OpenAPI document) says.
    for (raw, period, stored) in [("3.0", "30", 3), ("1e3", "90", 1000)] {
        let body = with(valid_row(), "reportPeriod", json!(period))
            .to_string()
            .replace("\"web\":3", &format!("\"web\":{raw}"));
        assert!(body.contains(raw), "{body}");
        let response = app
            .post_raw(COLLECTION, Some("application/json"), body)
            .await;
        assert_eq!(response.status(), 201, "{raw}");
        let row: Value = response.json().await.unwrap();
        assert_eq!(row["web"], json!(stored), "{raw}");
    }
}

async fn counts_beyond_int64_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for raw in [
        "9223372036854775808",
        "18446744073709551616",
        "99999999999999999999999",
        "1e30",
        "-9223372036854775809",
    ] {
        let response = app
            .post_raw(COLLECTION, Some("application/json"), with_raw("mac", raw))
            .await;
        assert_one_problem(&app, response, "mac", "invalidValue").await;
    }
    let response = app
        .post_raw(
            COLLECTION,
            Some("application/json;IEEE754Compatible=true"),
            with(valid_row(), "mac", json!("9223372036854775808")).to_string(),
        )
        .await;
    assert_one_problem(&app, response, "mac", "invalidValue").await;
    // The largest Int64 itself is a count.
    let max = app
        .post_row(&with(valid_row(), "mac", json!(i64::MAX)))
        .await;
    assert_eq!(max.status().as_u16(), 201);
    let max: Value = max.json().await.unwrap();
    assert_eq!(max["mac"], json!(i64::MAX));
}

async fn counts_of_other_json_types_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for bad in [json!(true), json!([1]), json!({"value": 1})] {
        for property in COUNTS {
            assert_refused(&app, &with(valid_row(), property, bad.clone()), property).await;
        }
    }
    // Null is allowed only for the optional counts.
    for property in &COUNTS[..6] {
        assert_refused(&app, &with(valid_row(), property, Value::Null), property).await;
    }
}

async fn string_counts_need_ieee754_compatible(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for property in COUNTS {
        assert_refused(&app, &with(valid_row(), property, json!("3")), property).await;
    }
    for content_type in [
        "application/json",
        "application/json;IEEE754Compatible=false",
        "application/json; charset=utf-8",
    ] {
        let body = with(valid_row(), "ios", json!("3")).to_string();
        let response = app.post_raw(COLLECTION, Some(content_type), body).await;
        assert_one_problem(&app, response, "ios", "invalidValue").await;
    }
}

async fn malformed_ieee754_strings_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for bad in ["", "-1", "+1", " 1", "1.0", "1e3", "0x10", "three"] {
        let body = with(valid_row(), "windows", json!(bad)).to_string();
        let response = app
            .post_raw(
                COLLECTION,
                Some("application/json;IEEE754Compatible=true"),
                body,
            )
            .await;
        assert_one_problem(&app, response, "windows", "invalidValue").await;
    }
}

async fn dates_must_be_real_and_not_after_tomorrow(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let today = Utc::now().date_naive();
    let day_after_tomorrow = (today + Duration::days(2)).to_string();
    for bad in [
        json!(day_after_tomorrow),
        json!("9999-12-31"),
        json!("2026-02-29"),
        json!("2025-04-31"),
        json!("2026-13-01"),
        json!("2026-00-10"),
        json!("2026-11-1"),
        json!("26-11-01"),
        json!("2026/11/01"),
        json!("2026-11-01T00:00:00Z"),
        json!(" 2026-11-01"),
        json!(""),
        json!(20261101),
        Value::Null,
    ] {
        assert_refused(
            &app,
            &with(valid_row(), "reportRefreshDate", bad),
            "reportRefreshDate",
        )
        .await;
    }
    // Tomorrow is allowed (clocks run ahead), and so is a leap day.
    let tomorrow = (today + Duration::days(1)).to_string();
    for good in [tomorrow.as_str(), "2024-02-29"] {
        let response = app
            .post_row(&with(valid_row(), "reportRefreshDate", json!(good)))
            .await;
        assert_eq!(response.status().as_u16(), 201, "{good}");
        let row: Value = response.json().await.unwrap();
        assert_eq!(row["reportRefreshDate"], good);
    }
    assert_eq!(app.row_count().await, 2);
}

/// Year 0 is `0001-01-01 BC` on Postgres but `0000-...` on SQLite: refused; the
/// earliest accepted day reads back, filters and sorts the same on both.
async fn dates_before_year_one_are_refused_and_year_one_is_kept_alike(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for bad in ["0000-01-01", "0000-12-31", "0000-02-29"] {
        assert_refused(
            &app,
            &with(valid_row(), "reportRefreshDate", json!(bad)),
            "reportRefreshDate",
        )
        .await;
    }
    for good in ["2026-01-01", "0001-01-01"] {
        let response = app
            .post_row(&with(valid_row(), "reportRefreshDate", json!(good)))
            .await;
        assert_eq!(response.status().as_u16(), 201, "{good}");
    }
    let page: Value = app
        .get(&format!("{COLLECTION}?$orderby=reportRefreshDate&$filter=reportRefreshDate le 0001-01-01 or reportRefreshDate ge 2026-01-01"))
        .await
        .json()
        .await
        .unwrap();
    let dates: Vec<&str> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["reportRefreshDate"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["0001-01-01", "2026-01-01"]);
}

async fn periods_must_be_one_of_the_four_day_counts(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for bad in [
        json!(7),
        json!("D7"),
        json!("d7"),
        json!("07"),
        json!(" 7"),
        json!("7.0"),
        json!("0"),
        json!("28"),
        json!("365"),
        json!(""),
        Value::Null,
        json!(["7"]),
    ] {
        assert_refused(
            &app,
            &with(valid_row(), "reportPeriod", bad),
            "reportPeriod",
        )
        .await;
    }
    for good in ["7", "30", "90", "180"] {
        let response = app
            .post_row(&with(valid_row(), "reportPeriod", json!(good)))
            .await;
        assert_eq!(response.status().as_u16(), 201, "{good}");
        let row: Value = response.json().await.unwrap();
        assert_eq!(row["reportPeriod"], good);
    }
    assert_eq!(app.row_count().await, 4);
}

async fn id_is_read_only(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for id in [
        json!("0192f4a6-3f6e-7cc1-b3a5-3d6b0c1e2f40"),
        json!("x"),
        Value::Null,
    ] {
        let response = app.post_row(&with(valid_row(), "id", id)).await;
        assert_one_problem(&app, response, "id", "readOnlyProperty").await;
    }
}

async fn odata_type_must_name_this_type(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for bad in [
        json!("#microsoft.graph.user"),
        json!("#microsoft.graph.teamsDeviceUsageUserCounts"),
        json!(""),
        json!(1),
        Value::Null,
    ] {
        assert_refused(&app, &with(valid_row(), "@odata.type", bad), "@odata.type").await;
    }
    // Other annotations carry nothing and are ignored.
    let annotated = with(valid_row(), "@odata.context", json!("anything"));
    assert_eq!(app.post_row(&annotated).await.status().as_u16(), 201);
}

async fn unknown_properties_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Graph's names are case-sensitive: `chromeOs` and `Web` are not properties.
    for unknown in ["Web", "chromeOs", "iOS", "tenantId", "reportDate", ""] {
        let response = app.post_row(&with(valid_row(), unknown, json!(1))).await;
        assert_one_problem(&app, response, unknown, "unknownProperty").await;
    }
}

async fn a_body_that_is_not_an_object_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for body in [
        json!([valid_row()]),
        json!([]),
        json!("text"),
        json!(1),
        json!(true),
        Value::Null,
    ] {
        let details = refusal_details(app.post_row(&body).await, &body.to_string()).await;
        assert_eq!(details.len(), 1, "{body}: {details:?}");
        assert_eq!(app.row_count().await, 0);
    }
}

async fn every_problem_of_every_class_is_reported_at_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let body = json!({
        "@odata.type": "#microsoft.graph.user",
        "id": "0192f4a6-3f6e-7cc1-b3a5-3d6b0c1e2f40",
        "reportRefreshDate": "2026-02-30",
        "web": -1,
        "windowsPhone": 1.5,
        "androidPhone": "2",
        "ios": true,
        "mac": 3,
        "chromeOS": -4,
        "reportPeriod": "8",
        "bogus": 1
    });
    let details = refusal_details(app.post_row(&body).await, "all").await;
    let mut found: Vec<(&str, &str)> = details
        .iter()
        .map(|d| (d["target"].as_str().unwrap(), d["code"].as_str().unwrap()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("@odata.type", "invalidValue"),
            ("androidPhone", "invalidValue"),
            ("bogus", "unknownProperty"),
            ("chromeOS", "invalidValue"),
            ("id", "readOnlyProperty"),
            ("ios", "invalidValue"),
            ("reportPeriod", "invalidValue"),
            ("reportRefreshDate", "invalidValue"),
            ("web", "invalidValue"),
            ("windows", "missingProperty"),
            ("windowsPhone", "invalidValue"),
        ]
    );
    assert_eq!(app.row_count().await, 0);
}
